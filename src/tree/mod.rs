//! Decision trees, random forests and gradient-boosted trees: Spark ML's tree estimators
//! and models.
//!
//! - The six estimators: [`DecisionTreeClassifier`], [`DecisionTreeRegressor`],
//!   [`RandomForestClassifier`], [`RandomForestRegressor`], [`GBTClassifier`],
//!   [`GBTRegressor`] (also in [`crate::classification`] / [`crate::regression`], as in
//!   Spark's packages), fitting through the one training [`engine`].
//! - [`Split`], [`Node`] / [`NodeKind`]: what a training engine builds (Spark's
//!   `ContinuousSplit` / `CategoricalSplit`, `LeafNode` / `InternalNode`).
//! - [`DecisionTree`]: one fitted tree, flat in pre-order (the ids Spark saves), with a
//!   compact routing table for scoring; [`TreeEnsemble`]: trees plus tree weights.
//! - [`feature_importances`]: Spark's `featureImportances` over a set of trees.
//! - The params of the six estimators ([`DecisionTreeClassifierParams`] …), with every
//!   Spark 4.3 param, default and validation.
//!
//! # Building a tree (for the training engine)
//!
//! Grow the tree with any internal representation, then convert the **final** tree (after
//! Spark's pruning of sibling leaves with equal predictions, for the classifiers with
//! `pruneTree` and always for regression / GBT trees) bottom-up into nested [`Node`]s and
//! call [`DecisionTree::from_root`]. What each field must hold, to match Spark's saved
//! nodes:
//!
//! - `prediction`: classification: the index of the largest weighted class total (first
//!   max); regression: `Σwy / Σw`.
//! - `impurity`: the node's impurity; **-1.0** for a leaf that was never evaluated for a
//!   split (Spark's unsplittable leaves).
//! - `impurity_stats`: classification: weighted class totals (length = number of
//!   classes); variance: `[Σw, Σwy, Σwy²]`.
//! - `raw_count`: unweighted, bootstrap-multiplied row count.
//! - internal nodes: the [`Split`] (`Split::continuous(f, threshold)` or
//!   `Split::categorical(f, left_categories, arity)`) and the split's `gain`.
//!
//! `from_root` numbers the nodes in pre-order and computes depth and leaf order. An
//! ensemble is `TreeEnsemble::new(trees, weights, num_features, num_classes)` (RF weights
//! all 1.0; GBT `[1.0, stepSize, …]`).
//!
//! ```
//! use mlpipe::tree::{DecisionTree, Node, Split, TreeEnsemble};
//! // A regression stump on feature 0: rows x <= 1.5 have mean 1.0, the others 3.0.
//! let left = Node::leaf(1.0, 0.0, vec![2.0, 2.0, 2.0], 2);
//! let right = Node::leaf(3.0, 0.0, vec![2.0, 6.0, 18.0], 2);
//! let root = Node::internal(2.0, 1.0, vec![4.0, 8.0, 20.0], 4,
//!                           Split::continuous(0, 1.5), 1.0, left, right);
//! let tree = DecisionTree::from_root(root, 1, 0).unwrap();
//! assert_eq!(tree.predict(&[1.0]), 1.0);
//! let gbt = TreeEnsemble::new(vec![tree.clone(), tree], vec![1.0, 0.1], 1, 0).unwrap();
//! assert!((gbt.weighted_sum(&[2.0]) - 3.3).abs() < 1e-12);
//! ```

pub mod engine;
mod estimators;
mod models;
mod node;
mod params;
mod persist;

pub use estimators::{
    DecisionTreeClassifier, DecisionTreeRegressor, GBTClassifier, GBTRegressor,
    RandomForestClassifier, RandomForestRegressor,
};
pub use models::{
    DecisionTreeClassificationModel, DecisionTreeRegressionModel, GBTClassificationModel,
    GBTRegressionModel, RandomForestClassificationModel, RandomForestRegressionModel,
};
pub use node::{feature_importances, DecisionTree, Node, NodeData, NodeKind, Split, TreeEnsemble};
pub use params::{
    default_seed, num_features_per_node, DecisionTreeClassifierParams, DecisionTreeParams,
    DecisionTreeRegressorParams, GBTClassifierParams, GBTRegressorParams, Impurity,
    RandomForestClassifierParams, RandomForestRegressorParams,
};
pub use persist::load_tree;
