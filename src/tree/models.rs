//! The six fitted tree models and their outputs (Spark's `DecisionTreeClassificationModel`,
//! `DecisionTreeRegressionModel`, `RandomForestClassificationModel`,
//! `RandomForestRegressionModel`, `GBTClassificationModel`, `GBTRegressionModel`).

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::Float64Array;
use arrow::datatypes::{DataType, Field, Schema};
use rayon::prelude::*;

use super::node::{
    feature_importances, BinBlock, BinnedTrees, DecisionTree, NodeData, Split, TreeEnsemble,
    BIN_BLOCK_ROWS,
};
use super::params::{
    DecisionTreeClassifierParams, DecisionTreeRegressorParams, GBTClassifierParams,
    GBTRegressorParams, RandomForestClassifierParams, RandomForestRegressorParams,
};
use crate::error::{Error, Result};
use crate::feature::java_double_string;
use crate::frame::kernels::{multiversion, prefetch};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{Model, Stage, Transformer};
use crate::predictor::{self, PredictionColumns, PredictionModel, PredictorKind, Row, BLOCK_ROWS};

/// Rows walked tree by tree at once: their features (160 bytes a row at 20 features),
/// their bins and the tree being walked stay in the L1 cache.
const SUB_BLOCK: usize = BIN_BLOCK_ROWS;

/// What every tree model shares: uid, trees, sizes, and the trees' binned layouts for
/// batch scoring. The outputs differ by model.
#[derive(Clone, Debug)]
struct Core {
    uid: String,
    ensemble: TreeEnsemble,
    /// Derived from `ensemble` (see [`BinnedTrees`]).
    binned: BinnedTrees,
}

impl PartialEq for Core {
    fn eq(&self, other: &Self) -> bool {
        self.uid == other.uid && self.ensemble == other.ensemble
    }
}

impl Core {
    fn new(uid: String, ensemble: TreeEnsemble) -> Core {
        Core {
            uid,
            binned: BinnedTrees::new(&ensemble.trees),
            ensemble,
        }
    }

    fn check_features(&self, stage: &'static str, col: &str, found: usize) -> Result<()> {
        if found != self.ensemble.num_features {
            return Err(Error::FeatureCount {
                stage,
                column: col.to_string(),
                expected: self.ensemble.num_features,
                found,
            });
        }
        Ok(())
    }

    /// Calls `f(first, xs, bins)` for each sub-block of [`SUB_BLOCK`] rows of `rows`
    /// (`first` its first row): `xs` the rows as dense slices (a row not stored densely
    /// is expanded once) and, when some tree is binned, the rows' bins.
    fn sub_blocks(&self, rows: &[Row<'_>], mut f: impl FnMut(usize, &[&[f64]], Option<&BinBlock>)) {
        let n = self.ensemble.num_features;
        let mut bins = self.binned.any().then(|| self.binned.block());
        let mut scratch = Vec::new();
        for (c, chunk) in rows.chunks(SUB_BLOCK).enumerate() {
            // The next sub-block's rows arrive from memory while this one is scored.
            let next = rows.get((c + 1) * SUB_BLOCK..).unwrap_or_default();
            for r in &next[..next.len().min(SUB_BLOCK)] {
                if let Some(x) = r.as_dense() {
                    prefetch(x);
                }
            }
            let mut xs: [&[f64]; SUB_BLOCK] = [&[]; SUB_BLOCK];
            if chunk.iter().all(|r| r.as_dense().is_some()) {
                for (x, r) in xs.iter_mut().zip(chunk) {
                    *x = r.as_dense().unwrap_or_default();
                }
            } else {
                scratch.clear();
                scratch.resize(chunk.len() * n, 0.0);
                for (r, d) in chunk.iter().zip(scratch.chunks_exact_mut(n.max(1))) {
                    r.for_each_active(|i, v| d[i] = v);
                }
                for (x, d) in xs.iter_mut().zip(scratch.chunks_exact(n.max(1))) {
                    *x = d;
                }
            }
            let xs = &xs[..chunk.len()];
            if let Some(b) = &mut bins {
                self.binned.bin(xs, b);
            }
            f(c * SUB_BLOCK, xs, bins.as_ref());
        }
    }

    /// Walks every tree over `rows`, tree by tree within sub-blocks of [`SUB_BLOCK`] rows:
    /// `visit(t, first, leaves)` gets tree `t`'s leaf node ids of rows
    /// `first..first + leaves.len()`. Each row sees its trees in order 0, 1, 2, …
    ///
    /// Shallow trees of continuous splits are scored from the rows' bins
    /// ([`BinnedTrees`]), the others by walking the rows ([`DecisionTree::leaf_nodes`]);
    /// both give the same leaves.
    fn walk(&self, rows: &[Row<'_>], mut visit: impl FnMut(usize, usize, &[u32])) {
        let mut leaves = [0u32; SUB_BLOCK];
        let mut pos = [0u8; SUB_BLOCK];
        self.sub_blocks(rows, |first, xs, bins| {
            let leaves = &mut leaves[..xs.len()];
            for (t, tree) in self.ensemble.trees.iter().enumerate() {
                match bins.and_then(|b| self.binned.positions(t, b, &mut pos)) {
                    Some(bottom) => {
                        for (l, p) in leaves.iter_mut().zip(pos) {
                            *l = bottom[p as usize];
                        }
                    }
                    None => tree.leaf_nodes(xs, leaves),
                }
                visit(t, first, leaves);
            }
        });
    }

    /// Scores `rows` with per-node values: `values(t)` holds `k` values per node of tree
    /// `t` (by node id). Each row's `k` values are the sum over its trees, in tree order
    /// from 0.0, of its leaves' values (`sum`), or its one tree's leaf values (`!sum`,
    /// a decision tree). `emit(first, len, acc)` gets them for rows `first..first + len`
    /// (one sub-block of up to [`SUB_BLOCK`] rows), class by class: row `i`'s value `c`
    /// is `acc[c][i]`.
    ///
    /// The same numbers as adding `values(t)[leaf]` row by row (what
    /// [`walk`](Self::walk) gives): a binned tree's values are looked up by bottom
    /// position in a table copied from `values(t)` once per call.
    fn score<'v>(
        &self,
        rows: &[Row<'_>],
        k: usize,
        sum: bool,
        values: impl Fn(usize) -> &'v [f64],
        mut emit: impl FnMut(usize, usize, &[[f64; SUB_BLOCK]]),
    ) {
        let trees = &self.ensemble.trees;
        // Per binned tree, class by class, its leaves' values by bottom position:
        // `bottom[offset + c]`.
        let mut bottom: Vec<[f64; SUB_BLOCK]> = Vec::new();
        let offsets: Vec<Option<usize>> = (0..trees.len())
            .map(|t| {
                let leaves = self.binned.bottom_leaves(t)?;
                let (v, start) = (values(t), bottom.len());
                for c in 0..k {
                    let mut table = [0.0; SUB_BLOCK];
                    for (o, l) in table.iter_mut().zip(leaves) {
                        *o = v[*l as usize * k + c];
                    }
                    bottom.push(table);
                }
                Some(start)
            })
            .collect();
        let mut acc = vec![[0.0; SUB_BLOCK]; k];
        let mut leaves = [0u32; SUB_BLOCK];
        let mut pos = [0u8; SUB_BLOCK];
        self.sub_blocks(rows, |first, xs, bins| {
            let len = xs.len();
            acc.fill([0.0; SUB_BLOCK]);
            for (t, tree) in trees.iter().enumerate() {
                let binned = bins.and_then(|b| self.binned.positions(t, b, &mut pos));
                if let (Some(_), Some(o)) = (binned, offsets[t]) {
                    for (a, table) in acc.iter_mut().zip(&bottom[o..o + k]) {
                        add_bottom_values(a, table, &pos, sum);
                    }
                    continue;
                }
                let leaves = &mut leaves[..len];
                tree.leaf_nodes(xs, leaves);
                let v = values(t);
                for (c, a) in acc.iter_mut().enumerate() {
                    for (a, l) in a.iter_mut().zip(leaves.iter()) {
                        let x = v[*l as usize * k + c];
                        *a = if sum { *a + x } else { x };
                    }
                }
            }
            emit(first, len, &acc);
        });
    }

    /// Why the leaves' class totals cannot be turned into probabilities (a leaf whose
    /// totals are negative or sum to 0; Spark fails on the rows that reach it), naming
    /// tree and node; `None` when they all can.
    fn unnormalizable(&self, stage: &'static str) -> Option<String> {
        self.ensemble
            .trees
            .iter()
            .enumerate()
            .find_map(|(t, tree)| {
                let i = tree.nodes().iter().position(|n| {
                    n.is_leaf()
                        && (n.impurity_stats.iter().any(|v| *v < 0.0)
                            || n.impurity_stats.iter().sum::<f64>() == 0.0)
                })?;
                Some(format!(
                    "{stage}: leaf {i} of tree {t} has class totals {:?}, which cannot be \
                 normalised to probabilities; the model is corrupt, refit it",
                    tree.nodes()[i].impurity_stats
                ))
            })
    }
}

multiversion! {
    /// Adds (`sum`) or copies into each of 64 rows' value its leaf's: `table[pos[i]]`
    /// for row `i` (a bottom position of a binned tree).
    fn add_bottom_values(
        acc: &mut [f64; SUB_BLOCK],
        table: &[f64; SUB_BLOCK],
        pos: &[u8; SUB_BLOCK],
        sum: bool,
    ) {
        if sum {
            for (a, p) in acc.iter_mut().zip(pos) {
                *a += table[usize::from(*p) % SUB_BLOCK];
            }
        } else {
            for (a, p) in acc.iter_mut().zip(pos) {
                *a = table[usize::from(*p) % SUB_BLOCK];
            }
        }
    }
}

/// Writes rows `first..first + len` of `raw` (`acc.len()` values per row) from
/// [`Core::score`]'s class-by-class values.
fn write_rows(raw: &mut [f64], first: usize, len: usize, acc: &[[f64; SUB_BLOCK]]) {
    let k = acc.len();
    for (i, r) in raw[first * k..(first + len) * k]
        .chunks_exact_mut(k)
        .enumerate()
    {
        for (o, a) in r.iter_mut().zip(acc) {
            *o = a[i];
        }
    }
}

/// `Err` with the reason when a model's class totals cannot give probabilities.
fn normalizable(why: &Option<String>) -> Result<()> {
    match why {
        Some(w) => Err(Error::Internal(w.clone())),
        None => Ok(()),
    }
}

/// One row's values as a slice: `f(x)` on the row itself when dense, else on a dense copy.
fn with_dense<R>(x: Row<'_>, n: usize, f: impl FnOnce(&[f64]) -> R) -> R {
    match x.as_dense() {
        Some(d) => f(d),
        None => {
            let mut d = vec![0.0; n];
            x.for_each_active(|i, v| d[i] = v);
            f(&d)
        }
    }
}

/// The `thresholds` param must have one value per class.
fn check_thresholds(stage: &'static str, ts: Option<&[f64]>, k: usize) -> Result<()> {
    match ts {
        Some(ts) if ts.len() != k => Err(Error::param(
            stage,
            "thresholds",
            format!("{k} values, one per class"),
            format!("{} values", ts.len()),
        )),
        _ => Ok(()),
    }
}

/// The output fields a tree model adds after the predictor layer's: `varianceCol` (DTR)
/// and `leafCol` (a double for a decision tree, `trees = None`; else a vector of per-tree
/// indices), in Spark's order. Empty names add nothing.
pub(super) fn tree_fields(
    mut out: Schema,
    stage: &'static str,
    leaf_col: &str,
    variance_col: &str,
    trees: Option<usize>,
) -> Result<Schema> {
    if !variance_col.is_empty() {
        out = schema::append_field(
            &out,
            stage,
            Field::new(variance_col, DataType::Float64, false),
        )?;
    }
    if !leaf_col.is_empty() {
        let field = match trees {
            None => Field::new(leaf_col, DataType::Float64, false),
            Some(t) => vector::vector_field(leaf_col, t, false),
        };
        out = schema::append_field(&out, stage, field)?;
    }
    Ok(out)
}

impl Core {
    /// The leafCol's vector length: `None` for a decision tree (a double).
    fn leaf_vector_len(&self, stage: &str) -> Option<usize> {
        (!is_single(stage)).then_some(self.ensemble.trees.len())
    }
}

fn is_single(stage: &str) -> bool {
    stage.starts_with("DecisionTree")
}

/// A tree model's transform: the predictor layer's outputs, then `varianceCol` (DTR) and
/// `leafCol` when set.
fn transform_tree<M: PredictionModel>(
    m: &M,
    core: &Core,
    df: &DataFrame,
    leaf_col: &str,
    variance_col: &str,
) -> Result<DataFrame> {
    let scored = predictor::transform(m, df)?;
    if leaf_col.is_empty() && variance_col.is_empty() {
        return Ok(scored);
    }
    let stage = m.stage_name();
    let features_col = m.columns().features;
    let schema = Arc::new(tree_fields(
        scored.schema().as_ref().clone(),
        stage,
        leaf_col,
        variance_col,
        core.leaf_vector_len(stage),
    )?);
    let trees = &core.ensemble.trees;
    let (n, t) = (core.ensemble.num_features, trees.len());
    let parts = scored.map_partitions(|part, b| {
        let mut cols = b.columns().to_vec();
        let col = schema::batch_column(b, features_col)?;
        let at = vector::At {
            stage,
            column: features_col,
            partition: part,
        };
        let feats = vector::VectorBlock::new(col.as_ref(), n, at)?;
        let rows = b.num_rows();
        // Null rows were refused by the predictor layer already.
        let all: Vec<Row<'_>> = (0..rows)
            .map(|r| {
                feats.row(r).ok_or_else(|| Error::InvalidValue {
                    stage,
                    column: features_col.to_string(),
                    partition: part,
                    row: r,
                    what: "null vector".into(),
                    hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
                })
            })
            .collect::<Result<_>>()?;
        if !variance_col.is_empty() {
            let tree = &trees[0];
            let v: Vec<f64> = all
                .iter()
                .map(|x| with_dense(*x, n, |x| variance_of(&tree.leaf_for(x).impurity_stats)))
                .collect();
            cols.push(Arc::new(Float64Array::from(v)));
        }
        if !leaf_col.is_empty() {
            let mut out = vec![0.0; rows * t];
            out.par_chunks_mut(BLOCK_ROWS * t)
                .enumerate()
                .for_each(|(blk, out)| {
                    let r0 = blk * BLOCK_ROWS;
                    core.walk(&all[r0..r0 + out.len() / t], |ti, first, leaves| {
                        for (j, leaf) in leaves.iter().enumerate() {
                            out[(first + j) * t + ti] =
                                trees[ti].leaf_ordinal(*leaf as usize) as f64;
                        }
                    });
                });
            if is_single(stage) {
                cols.push(Arc::new(Float64Array::from(out)));
            } else {
                cols.push(Arc::new(vector::vector_array(out, t, None)?));
            }
        }
        crate::frame::new_batch(schema.clone(), cols, rows)
    })?;
    DataFrame::try_new(schema, parts)
}

/// Java `Double.toString` of a split value, for `to_debug_string`.
fn split_string(split: &Split, left: bool) -> String {
    match split {
        Split::Continuous { feature, threshold } => {
            let op = if left { "<=" } else { ">" };
            format!("feature {feature} {op} {}", java_double_string(*threshold))
        }
        Split::Categorical {
            feature,
            left_categories,
            ..
        } => {
            let cats: Vec<String> = left_categories
                .iter()
                .map(|c| java_double_string(*c))
                .collect();
            let op = if left { "in" } else { "not in" };
            format!("feature {feature} {op} {{{}}}", cats.join(","))
        }
    }
}

/// Spark's `Node.subtreeToString(indent)`.
fn subtree_string(tree: &DecisionTree, id: usize, indent: usize, s: &mut String) {
    let node: &NodeData = &tree.nodes()[id];
    let prefix = " ".repeat(indent);
    match &node.split {
        None => {
            let _ = writeln!(
                s,
                "{prefix}Predict: {}",
                java_double_string(node.prediction)
            );
        }
        Some(split) => {
            let _ = writeln!(s, "{prefix}If ({})", split_string(split, true));
            subtree_string(tree, node.left_child as usize, indent + 1, s);
            let _ = writeln!(s, "{prefix}Else ({})", split_string(split, false));
            subtree_string(tree, node.right_child as usize, indent + 1, s);
        }
    }
}

/// Spark's `toDebugString` of any of the six models: the header (a decision tree's depth
/// and node count, an ensemble's tree count; the classes of a classifier), then the trees.
fn debug_string(stage: &str, core: &Core, num_classes: Option<usize>) -> String {
    let e = &core.ensemble;
    // Spark's GBTClassificationModel alone writes `uid = `.
    let eq = if stage == "GBTClassificationModel" {
        " = "
    } else {
        "="
    };
    let mut s = format!("{stage}: uid{eq}{}", core.uid);
    let single = is_single(stage);
    if single {
        let t = &e.trees[0];
        let _ = write!(s, ", depth={}, numNodes={}", t.depth(), t.num_nodes());
    } else {
        let _ = write!(s, ", numTrees={}", e.trees.len());
    }
    if let Some(k) = num_classes {
        let _ = write!(s, ", numClasses={k}");
    }
    let _ = writeln!(s, ", numFeatures={}", e.num_features);
    if single {
        subtree_string(&e.trees[0], 0, 2, &mut s);
        return s;
    }
    for (i, (t, w)) in e.trees.iter().zip(&e.tree_weights).enumerate() {
        let _ = writeln!(s, "  Tree {i} (weight {}):", java_double_string(*w));
        subtree_string(t, 0, 4, &mut s);
    }
    s
}

/// Spark's sparse `featureImportances` as a dense vector of `num_features` values.
fn dense_importances(e: &TreeEnsemble, per_tree: bool) -> Vec<f64> {
    let mut v = vec![0.0; e.num_features];
    for (f, x) in feature_importances(&e.trees, per_tree) {
        if f < v.len() {
            v[f] = x;
        }
    }
    v
}

fn row_check(core: &Core, stage: &'static str, col: &str, x: &[f64]) -> Result<()> {
    core.check_features(stage, col, x.len())
}

/// Spark's `Variance` calculator: `(Σwy² − (Σwy)²/Σw) / Σw`, 0 for an empty node.
fn variance_of(stats: &[f64]) -> f64 {
    let count = stats[0];
    if count == 0.0 {
        0.0
    } else {
        (stats[2] - stats[1] * stats[1] / count) / count
    }
}

macro_rules! model_stage {
    ($ty:ident, $params:ty) => {
        model_stage!($ty, $params, |_| "");
    };
    ($ty:ident, $params:ty, $variance_col:expr) => {
        impl Stage for $ty {
            fn kind(&self) -> &'static str {
                stringify!($ty)
            }
            fn uid(&self) -> &str {
                &self.core.uid
            }
            fn params_json(&self) -> serde_json::Value {
                self.params.to_json()
            }
            fn set_param_json(&mut self, name: &str, value: serde_json::Value) -> Result<()> {
                self.params.set_param(name, value)
            }
            fn transform_schema(&self, input: &Schema) -> Result<Schema> {
                self.params.validate()?;
                let out = predictor::transform_schema(self, input)?;
                tree_fields(
                    out,
                    Self::STAGE,
                    &self.params.leaf_col,
                    self.variance_col(),
                    self.core.leaf_vector_len(Self::STAGE),
                )
            }
        }

        impl Transformer for $ty {
            fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
                self.params.validate()?;
                transform_tree(
                    self,
                    &self.core,
                    df,
                    &self.params.leaf_col,
                    self.variance_col(),
                )
            }
            fn clone_box(&self) -> Box<dyn Transformer> {
                Box::new(self.clone())
            }
        }

        impl Model for $ty {
            fn clone_model(&self) -> Box<dyn Model> {
                Box::new(self.clone())
            }
        }

        impl $ty {
            fn variance_col(&self) -> &str {
                let f: fn(&$params) -> &str = $variance_col;
                f(&self.params)
            }
            /// The stage uid.
            pub fn uid(&self) -> &str {
                &self.core.uid
            }
            /// The params.
            pub fn params(&self) -> &$params {
                &self.params
            }
            /// Mutable params (output columns, thresholds, `leafCol`).
            pub fn params_mut(&mut self) -> &mut $params {
                &mut self.params
            }
            /// Size of the feature vectors the model scores.
            pub fn num_features(&self) -> usize {
                self.core.ensemble.num_features
            }
            /// The trees (one for a decision tree).
            pub fn trees(&self) -> &[DecisionTree] {
                &self.core.ensemble.trees
            }
            /// One weight per tree.
            pub fn tree_weights(&self) -> &[f64] {
                &self.core.ensemble.tree_weights
            }
            /// Total number of nodes over all trees.
            pub fn total_num_nodes(&self) -> usize {
                self.core.ensemble.total_num_nodes()
            }
            /// Spark's `featureImportances` as a dense vector (0 for unused features):
            /// each feature's gain × weighted count summed over the splits, normalised per
            /// tree for decision trees and forests (not for GBTs), then to sum 1.
            pub fn feature_importances(&self) -> Vec<f64> {
                dense_importances(&self.core.ensemble, !Self::STAGE.starts_with("GBT"))
            }
            /// Spark's `toDebugString`.
            pub fn to_debug_string(&self) -> String {
                let classes = match PredictionModel::kind(self) {
                    PredictorKind::Probabilistic { num_classes } => Some(num_classes),
                    _ => None,
                };
                debug_string(Self::STAGE, &self.core, classes)
            }
            /// Leaf index of a row in every tree (Spark's `predictLeaf`).
            ///
            /// # Errors
            /// [`Error::FeatureCount`] when `x` has the wrong length.
            pub fn predict_leaf(&self, x: &[f64]) -> Result<Vec<f64>> {
                row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
                Ok(self
                    .trees()
                    .iter()
                    .map(|t| t.leaf_index(x) as f64)
                    .collect())
            }
            /// prediction of one row.
            ///
            /// # Errors
            /// [`Error::FeatureCount`] when `x` has the wrong length; for a classifier, a
            /// `thresholds` of the wrong length or leaf totals that cannot be normalised.
            pub fn predict(&self, x: &[f64]) -> Result<f64> {
                PredictionModel::predict(self, x)
            }
        }
    };
}

/// The single-row raw and probability outputs of a classifier, from the predictor layer.
macro_rules! classifier_outputs {
    ($ty:ident) => {
        impl $ty {
            /// Number of classes (2 for a GBT).
            pub fn num_classes(&self) -> usize {
                self.core.ensemble.num_classes
            }
            /// rawPrediction of one row.
            ///
            /// # Errors
            /// As [`predict`](Self::predict).
            pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
                PredictionModel::predict_raw(self, x)
            }
            /// probability of one row.
            ///
            /// # Errors
            /// As [`predict`](Self::predict).
            pub fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
                PredictionModel::predict_probability(self, x)
            }
        }
    };
}

/// The [`PredictionModel`] items every tree model shares: its name, columns and size.
macro_rules! prediction_basics {
    (classifier) => {
        fn stage_name(&self) -> &'static str {
            Self::STAGE
        }
        fn columns(&self) -> PredictionColumns<'_> {
            let p = &self.params;
            PredictionColumns {
                features: &p.features_col,
                prediction: &p.prediction_col,
                raw_prediction: &p.raw_prediction_col,
                probability: &p.probability_col,
            }
        }
        fn num_features(&self) -> usize {
            self.core.ensemble.num_features
        }
        fn kind(&self) -> PredictorKind {
            PredictorKind::Probabilistic {
                num_classes: self.num_classes(),
            }
        }
        fn thresholds(&self) -> Option<&[f64]> {
            self.params.thresholds.as_deref()
        }
    };
    (regressor) => {
        fn stage_name(&self) -> &'static str {
            Self::STAGE
        }
        fn columns(&self) -> PredictionColumns<'_> {
            PredictionColumns::regression(&self.params.features_col, &self.params.prediction_col)
        }
        fn num_features(&self) -> usize {
            self.core.ensemble.num_features
        }
        fn kind(&self) -> PredictorKind {
            PredictorKind::Regression
        }
    };
}

/// The ensembles' tree count (forests and GBTs).
macro_rules! ensemble_model {
    ($ty:ident) => {
        impl $ty {
            /// Number of trees.
            pub fn num_trees(&self) -> usize {
                self.core.ensemble.trees.len()
            }
        }
    };
}

/// Decision tree accessors shared by DTC and DTR.
macro_rules! single_tree {
    ($ty:ident) => {
        impl $ty {
            /// The tree.
            pub fn tree(&self) -> &DecisionTree {
                &self.core.ensemble.trees[0]
            }
            /// The root node.
            pub fn root_node(&self) -> &NodeData {
                self.tree().root()
            }
            /// Number of nodes (Spark's `numNodes`).
            pub fn num_nodes(&self) -> usize {
                self.tree().num_nodes()
            }
            /// Depth (0 for a single leaf).
            pub fn depth(&self) -> usize {
                self.tree().depth()
            }
        }
    };
}

// ---------------------------------------------------------------------------------------
// Classifiers

/// A fitted decision tree classifier (Spark's `DecisionTreeClassificationModel`).
///
/// rawPrediction = the reached leaf's weighted class totals; probability = those totals
/// normalised; prediction = their argmax (or the `thresholds` rule).
///
/// # Examples
/// ```
/// use mlpipe::tree::{DecisionTree, DecisionTreeClassificationModel, Node, Split};
/// let root = Node::internal(
///     1.0, 0.5, vec![5.0, 5.0], 10, Split::continuous(0, 0.5), 0.5,
///     Node::leaf(0.0, 0.0, vec![4.0, 1.0], 5),
///     Node::leaf(1.0, 0.0, vec![1.0, 4.0], 5),
/// );
/// let tree = DecisionTree::from_root(root, 1, 2).unwrap();
/// let m = DecisionTreeClassificationModel::new("dtc_1", Default::default(), tree).unwrap();
/// assert_eq!(m.predict(&[0.9]).unwrap(), 1.0);
/// assert_eq!(m.predict_raw(&[0.1]).unwrap(), vec![4.0, 1.0]);
/// assert_eq!(m.predict_probability(&[0.1]).unwrap(), vec![0.8, 0.2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionTreeClassificationModel {
    core: Core,
    params: DecisionTreeClassifierParams,
    /// Each node's class totals (`num_classes` per node), for batch scoring.
    stats: Vec<f64>,
    /// Why the leaves' class totals cannot give probabilities, when they cannot.
    unnormalizable: Option<String>,
}

impl DecisionTreeClassificationModel {
    const STAGE: &'static str = "DecisionTreeClassificationModel";

    /// A model from a fitted classification tree.
    ///
    /// # Errors
    /// [`Error::Internal`] when the tree is a regression tree (0 classes).
    pub fn new(
        uid: impl Into<String>,
        params: DecisionTreeClassifierParams,
        tree: DecisionTree,
    ) -> Result<Self> {
        if tree.num_classes() == 0 {
            return Err(Error::Internal(
                "DecisionTreeClassificationModel needs a classification tree".into(),
            ));
        }
        let (n, k) = (tree.num_features(), tree.num_classes());
        let stats = tree
            .nodes()
            .iter()
            .flat_map(|node| {
                let s = &node.impurity_stats;
                (0..k).map(move |c| s.get(c).copied().unwrap_or(0.0))
            })
            .collect();
        let core = Core::new(uid.into(), TreeEnsemble::new(vec![tree], vec![1.0], n, k)?);
        Ok(Self {
            unnormalizable: core.unnormalizable(Self::STAGE),
            core,
            params,
            stats,
        })
    }
}

impl PredictionModel for DecisionTreeClassificationModel {
    prediction_basics!(classifier);
    fn check_model(&self) -> Result<()> {
        check_thresholds(Self::STAGE, self.thresholds(), self.num_classes())?;
        normalizable(&self.unnormalizable)
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        with_dense(x, self.core.ensemble.num_features, |x| {
            raw.copy_from_slice(&self.tree().leaf_for(x).impurity_stats)
        });
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let k = self.num_classes();
        self.core.score(
            rows,
            k,
            false,
            |_| &self.stats,
            |first, len, acc| write_rows(raw, first, len, acc),
        );
    }
}

model_stage!(
    DecisionTreeClassificationModel,
    DecisionTreeClassifierParams
);
single_tree!(DecisionTreeClassificationModel);
classifier_outputs!(DecisionTreeClassificationModel);

/// A fitted random forest classifier (Spark's `RandomForestClassificationModel`).
///
/// rawPrediction = Σ over trees of the reached leaf's class distribution (its totals
/// normalised; tree weights ignored); probability = rawPrediction / its sum.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomForestClassificationModel {
    core: Core,
    params: RandomForestClassifierParams,
    /// Per tree, per node: the node's class totals divided by their sum (zeros when the sum
    /// is 0, which Spark skips).
    distributions: Vec<Vec<f64>>,
    /// Why the leaves' class totals cannot give probabilities, when they cannot.
    unnormalizable: Option<String>,
}

fn normalized_stats(tree: &DecisionTree, k: usize) -> Vec<f64> {
    let mut out = vec![0.0; tree.num_nodes() * k];
    for (node, o) in tree.nodes().iter().zip(out.chunks_exact_mut(k)) {
        let total: f64 = node.impurity_stats.iter().sum();
        if total != 0.0 {
            for (o, s) in o.iter_mut().zip(&node.impurity_stats) {
                *o = s / total;
            }
        }
    }
    out
}

impl RandomForestClassificationModel {
    const STAGE: &'static str = "RandomForestClassificationModel";

    /// A forest of classification trees (weights all 1.0).
    ///
    /// # Errors
    /// [`Error::Internal`] when there are no trees or a tree is not a classification tree
    /// of `ensemble.num_classes` classes.
    pub fn new(
        uid: impl Into<String>,
        params: RandomForestClassifierParams,
        ensemble: TreeEnsemble,
    ) -> Result<Self> {
        let k = ensemble.num_classes;
        if ensemble.trees.is_empty()
            || k == 0
            || ensemble.trees.iter().any(|t| t.num_classes() != k)
        {
            return Err(Error::Internal(format!(
                "RandomForestClassificationModel needs at least one tree, all with {k} classes"
            )));
        }
        let distributions = ensemble
            .trees
            .iter()
            .map(|t| normalized_stats(t, k))
            .collect();
        let core = Core::new(uid.into(), ensemble);
        Ok(Self {
            unnormalizable: core.unnormalizable(Self::STAGE),
            core,
            params,
            distributions,
        })
    }
}

impl PredictionModel for RandomForestClassificationModel {
    prediction_basics!(classifier);
    fn check_model(&self) -> Result<()> {
        check_thresholds(Self::STAGE, self.thresholds(), self.num_classes())?;
        normalizable(&self.unnormalizable)
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let k = self.num_classes();
        raw.fill(0.0);
        with_dense(x, self.core.ensemble.num_features, |x| {
            for (t, dist) in self.core.ensemble.trees.iter().zip(&self.distributions) {
                let leaf = t.leaf_node(x);
                for (r, d) in raw.iter_mut().zip(&dist[leaf * k..(leaf + 1) * k]) {
                    *r += d;
                }
            }
        });
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let k = self.num_classes();
        let dist = |t: usize| &self.distributions[t][..];
        self.core.score(rows, k, true, dist, |first, len, acc| {
            write_rows(raw, first, len, acc)
        });
    }
}

model_stage!(
    RandomForestClassificationModel,
    RandomForestClassifierParams
);
ensemble_model!(RandomForestClassificationModel);
classifier_outputs!(RandomForestClassificationModel);

/// Per tree, each node's prediction × the tree's weight: what a GBT sums per row, in
/// tree order (the same products as [`TreeEnsemble::weighted_sum`] takes row by row).
fn weighted_predictions(e: &TreeEnsemble) -> Vec<Vec<f64>> {
    e.trees
        .iter()
        .zip(&e.tree_weights)
        .map(|(t, w)| t.node_predictions().iter().map(|p| p * w).collect())
        .collect()
}

/// A fitted gradient-boosted tree classifier (Spark's `GBTClassificationModel`).
///
/// With margin m = Σ weight × tree prediction: rawPrediction = [−m, m],
/// probability = [1/(1+e^(2m)), 1/(1+e^(−2m))], prediction = 1 iff m > 0 (or the
/// `thresholds` rule).
#[derive(Clone, Debug, PartialEq)]
pub struct GBTClassificationModel {
    core: Core,
    params: GBTClassifierParams,
    /// [`weighted_predictions`], for batch scoring.
    weighted: Vec<Vec<f64>>,
}

impl GBTClassificationModel {
    const STAGE: &'static str = "GBTClassificationModel";

    /// A model from regression trees and their weights (`[1.0, stepSize, …]` when fitted).
    ///
    /// # Errors
    /// [`Error::Internal`] when there are no trees or a tree is a classification tree.
    pub fn new(
        uid: impl Into<String>,
        params: GBTClassifierParams,
        ensemble: TreeEnsemble,
    ) -> Result<Self> {
        let mut core = Core::regression(Self::STAGE, uid.into(), ensemble)?;
        core.ensemble.num_classes = 2;
        Ok(Self {
            weighted: weighted_predictions(&core.ensemble),
            core,
            params,
        })
    }

    /// The margin m = Σ weight × tree prediction of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn margin(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(self.core.ensemble.weighted_sum(x))
    }
}

impl PredictionModel for GBTClassificationModel {
    prediction_basics!(classifier);
    fn check_model(&self) -> Result<()> {
        check_thresholds(Self::STAGE, self.thresholds(), 2)
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let m = with_dense(x, self.core.ensemble.num_features, |x| {
            self.core.ensemble.weighted_sum(x)
        });
        raw[0] = -m;
        raw[1] = m;
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let weighted = |t: usize| &self.weighted[t][..];
        self.core.score(rows, 1, true, weighted, |first, len, acc| {
            for (r, m) in raw[first * 2..].chunks_exact_mut(2).zip(&acc[0][..len]) {
                r[0] = -m;
                r[1] = *m;
            }
        });
    }
    /// Spark's GBT probability: p₁ = 1 / (1 + e^(−2m)), from raw = [−m, m].
    fn raw_to_probability_in_place(&self, raw: &mut [f64]) {
        raw[0] = 1.0 / (1.0 + (-2.0 * raw[0]).exp());
        raw[1] = 1.0 - raw[0];
    }
}

model_stage!(GBTClassificationModel, GBTClassifierParams);
ensemble_model!(GBTClassificationModel);
classifier_outputs!(GBTClassificationModel);

// ---------------------------------------------------------------------------------------
// Regressors

/// A fitted decision tree regressor (Spark's `DecisionTreeRegressionModel`): prediction =
/// the reached leaf's mean label; `varianceCol` = the leaf's label variance.
///
/// # Examples
/// ```
/// use mlpipe::tree::{DecisionTree, DecisionTreeRegressionModel, Node, Split};
/// let root = Node::internal(
///     2.0, 1.0, vec![4.0, 8.0, 20.0], 4, Split::continuous(0, 1.5), 1.0,
///     Node::leaf(1.0, 0.0, vec![2.0, 2.0, 2.0], 2),
///     Node::leaf(3.0, 0.0, vec![2.0, 6.0, 18.0], 2),
/// );
/// let m = DecisionTreeRegressionModel::new(
///     "dtr_1", Default::default(), DecisionTree::from_root(root, 1, 0).unwrap()).unwrap();
/// assert_eq!(m.predict(&[2.0]).unwrap(), 3.0);
/// assert_eq!(m.predict_variance(&[2.0]).unwrap(), 0.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionTreeRegressionModel {
    core: Core,
    params: DecisionTreeRegressorParams,
}

impl DecisionTreeRegressionModel {
    const STAGE: &'static str = "DecisionTreeRegressionModel";

    /// A model from a fitted regression tree.
    ///
    /// # Errors
    /// [`Error::Internal`] when the tree is a classification tree.
    pub fn new(
        uid: impl Into<String>,
        params: DecisionTreeRegressorParams,
        tree: DecisionTree,
    ) -> Result<Self> {
        if tree.num_classes() != 0 || tree.nodes().iter().any(|n| n.impurity_stats.len() != 3) {
            return Err(Error::Internal(
                "DecisionTreeRegressionModel needs a regression tree with [Σw, Σwy, Σwy²] stats"
                    .into(),
            ));
        }
        let n = tree.num_features();
        Ok(Self {
            core: Core::new(uid.into(), TreeEnsemble::new(vec![tree], vec![1.0], n, 0)?),
            params,
        })
    }

    /// Label variance of the leaf a row reaches (the `varianceCol` value).
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict_variance(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(variance_of(&self.tree().leaf_for(x).impurity_stats))
    }
}

impl PredictionModel for DecisionTreeRegressionModel {
    prediction_basics!(regressor);
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        raw[0] = with_dense(x, self.core.ensemble.num_features, |x| {
            self.tree().predict(x)
        });
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let preds = |_| self.tree().node_predictions();
        self.core.score(rows, 1, false, preds, |first, len, acc| {
            write_rows(raw, first, len, acc)
        });
    }
}

model_stage!(
    DecisionTreeRegressionModel,
    DecisionTreeRegressorParams,
    |p| p.variance_col.as_deref().unwrap_or("")
);
single_tree!(DecisionTreeRegressionModel);

/// A fitted random forest regressor (Spark's `RandomForestRegressionModel`): prediction =
/// the mean of the trees' predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomForestRegressionModel {
    core: Core,
    params: RandomForestRegressorParams,
}

impl Core {
    /// The core of a model of regression trees (a GBT or a regression forest).
    ///
    /// # Errors
    /// [`Error::Internal`] when there are no trees or a tree is a classification tree.
    fn regression(stage: &str, uid: String, ensemble: TreeEnsemble) -> Result<Core> {
        if ensemble.trees.is_empty() || ensemble.trees.iter().any(|t| t.num_classes() != 0) {
            return Err(Error::Internal(format!(
                "{stage} needs at least one regression tree"
            )));
        }
        Ok(Core::new(uid, ensemble))
    }
}

impl RandomForestRegressionModel {
    const STAGE: &'static str = "RandomForestRegressionModel";

    /// A forest of regression trees.
    ///
    /// # Errors
    /// [`Error::Internal`] when there are no trees or a tree is a classification tree.
    pub fn new(
        uid: impl Into<String>,
        params: RandomForestRegressorParams,
        ensemble: TreeEnsemble,
    ) -> Result<Self> {
        Ok(Self {
            core: Core::regression(Self::STAGE, uid.into(), ensemble)?,
            params,
        })
    }
}

impl PredictionModel for RandomForestRegressionModel {
    prediction_basics!(regressor);
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let sum = with_dense(x, self.core.ensemble.num_features, |x| {
            self.trees().iter().fold(0.0, |s, t| s + t.predict(x))
        });
        raw[0] = sum / self.num_trees() as f64;
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let trees = self.trees();
        let k = self.num_trees() as f64;
        let preds = |t: usize| trees[t].node_predictions();
        self.core.score(rows, 1, true, preds, |first, len, acc| {
            for (o, a) in raw[first..first + len].iter_mut().zip(&acc[0]) {
                *o = a / k;
            }
        });
    }
}

model_stage!(RandomForestRegressionModel, RandomForestRegressorParams);
ensemble_model!(RandomForestRegressionModel);

/// A fitted gradient-boosted tree regressor (Spark's `GBTRegressionModel`): prediction =
/// Σ weight × tree prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct GBTRegressionModel {
    core: Core,
    params: GBTRegressorParams,
    /// [`weighted_predictions`], for batch scoring.
    weighted: Vec<Vec<f64>>,
}

impl GBTRegressionModel {
    const STAGE: &'static str = "GBTRegressionModel";

    /// A model from regression trees and their weights.
    ///
    /// # Errors
    /// [`Error::Internal`] when there are no trees or a tree is a classification tree.
    pub fn new(
        uid: impl Into<String>,
        params: GBTRegressorParams,
        ensemble: TreeEnsemble,
    ) -> Result<Self> {
        let core = Core::regression(Self::STAGE, uid.into(), ensemble)?;
        Ok(Self {
            weighted: weighted_predictions(&core.ensemble),
            core,
            params,
        })
    }
}

impl PredictionModel for GBTRegressionModel {
    prediction_basics!(regressor);
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        raw[0] = with_dense(x, self.core.ensemble.num_features, |x| {
            self.core.ensemble.weighted_sum(x)
        });
    }
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let weighted = |t: usize| &self.weighted[t][..];
        self.core.score(rows, 1, true, weighted, |first, len, acc| {
            write_rows(raw, first, len, acc)
        });
    }
}

model_stage!(GBTRegressionModel, GBTRegressorParams);
ensemble_model!(GBTRegressionModel);

// ---------------------------------------------------------------------------------------
// Row forms (crate::row): the batch transform's arithmetic on one row.

/// A tree model's row form: the shared predictor layer's (raw, probability, prediction),
/// then the tree outputs the batch transform appends after them (variance, leaf indices).
trait TreeRow: PredictionModel + Clone + std::fmt::Debug + Send + Sync + 'static {
    fn core(&self) -> &Core;
    /// `leafCol` and, for a single regression tree, `varianceCol`.
    fn extra_cols(&self) -> (&str, Option<&str>);
}

fn compile_tree_row<M: TreeRow>(
    m: &M,
    stage: &'static str,
    plan: &mut crate::row::PlanBuilder,
) -> Result<Option<Box<dyn crate::row::RowOp>>> {
    let Some(scores) = crate::row::predictor_row_form(m, plan)? else {
        return Ok(None);
    };
    let x = plan.vec_input(m.columns().features)?;
    let (leaf_col, variance_col) = m.extra_cols();
    let variance = variance_col
        .filter(|v| !v.is_empty())
        .map(|v| plan.add_num(v));
    let (mut leaf_vec, mut leaf_num) = (None, None);
    if !leaf_col.is_empty() {
        let trees = m.core().ensemble.trees.len();
        if trees == 1 && is_single(stage) {
            leaf_num = Some(plan.add_num(leaf_col));
        } else {
            leaf_vec = Some(plan.add_vec(leaf_col, trees));
        }
    }
    Ok(Some(Box::new(TreeRowOp {
        model: m.clone(),
        scores,
        x,
        leaf_vec,
        leaf_num,
        variance,
    })))
}

#[derive(Debug)]
struct TreeRowOp<M> {
    model: M,
    /// The predictor layer's row form of the same model.
    scores: Box<dyn crate::row::RowOp>,
    x: crate::row::VecSlot,
    /// Per-tree leaf indices: a vector (ensembles) or a number (one tree).
    leaf_vec: Option<crate::row::VecSlot>,
    leaf_num: Option<crate::row::NumOut>,
    variance: Option<crate::row::NumOut>,
}

impl<M: TreeRow> crate::row::RowOp for TreeRowOp<M> {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let flow = self.scores.run(row)?;
        let trees = &self.model.core().ensemble.trees;
        if let Some(o) = self.variance {
            let v = variance_of(&trees[0].leaf_for(row.vec(self.x)).impurity_stats);
            row.set_num(o, Some(v));
        }
        if let Some(o) = self.leaf_num {
            let l = trees[0].leaf_index(row.vec(self.x)) as f64;
            row.set_num(o, Some(l));
        }
        if let Some(o) = self.leaf_vec {
            let (x, out) = row.vec_pair(self.x, o);
            for (o, t) in out.iter_mut().zip(trees) {
                *o = t.leaf_index(x) as f64;
            }
        }
        Ok(flow)
    }
}

macro_rules! tree_row_stage {
    ($ty:ident) => {
        impl TreeRow for $ty {
            fn core(&self) -> &Core {
                &self.core
            }
            fn extra_cols(&self) -> (&str, Option<&str>) {
                (&self.params.leaf_col, None)
            }
        }
        tree_row_stage!(@stage $ty);
    };
    ($ty:ident, variance) => {
        impl TreeRow for $ty {
            fn core(&self) -> &Core {
                &self.core
            }
            fn extra_cols(&self) -> (&str, Option<&str>) {
                (&self.params.leaf_col, self.params.variance_col.as_deref())
            }
        }
        tree_row_stage!(@stage $ty);
    };
    (@stage $ty:ident) => {
        impl crate::row::RowStage for $ty {
            fn compile_row(
                &self,
                plan: &mut crate::row::PlanBuilder,
            ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
                compile_tree_row(self, Self::STAGE, plan)
            }
        }
    };
}

tree_row_stage!(DecisionTreeClassificationModel);
tree_row_stage!(RandomForestClassificationModel);
tree_row_stage!(GBTClassificationModel);
tree_row_stage!(DecisionTreeRegressionModel, variance);
tree_row_stage!(RandomForestRegressionModel);
tree_row_stage!(GBTRegressionModel);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;
    use arrow::array::{Array, ArrayRef, RecordBatch};

    fn cls_tree() -> DecisionTree {
        // f0 <= 0.5 → [3, 1]; else categorical f1 in {0} (arity 3) → [0, 2] / [1, 1].
        DecisionTree::from_root(
            Node::internal(
                0.0,
                0.5,
                vec![4.0, 4.0],
                8,
                Split::continuous(0, 0.5),
                0.2,
                Node::leaf(0.0, 0.375, vec![3.0, 1.0], 4),
                Node::internal(
                    1.0,
                    0.375,
                    vec![1.0, 3.0],
                    4,
                    Split::categorical(1, vec![0.0], 3),
                    0.1,
                    Node::leaf(1.0, 0.0, vec![0.0, 2.0], 2),
                    Node::leaf(0.0, 0.5, vec![1.0, 1.0], 2),
                ),
            ),
            2,
            2,
        )
        .unwrap()
    }

    fn features_df(rows: &[[f64; 2]]) -> DataFrame {
        let v: Vec<f64> = rows.iter().flatten().copied().collect();
        let col = Arc::new(vector::vector_array(v, 2, None).unwrap()) as ArrayRef;
        DataFrame::from_batches(vec![
            RecordBatch::try_from_iter([("features", col)]).unwrap()
        ])
        .unwrap()
    }

    #[test]
    fn dtc_outputs_thresholds_and_leaves() {
        let mut m =
            DecisionTreeClassificationModel::new("dtc_t", Default::default(), cls_tree()).unwrap();
        // Unseen category 7 (1 of 3 left) goes right: [1, 1], a tie → class 0.
        assert_eq!(m.predict_raw(&[0.9, 7.0]).unwrap(), vec![1.0, 1.0]);
        assert_eq!(m.predict(&[0.9, 7.0]).unwrap(), 0.0);
        assert_eq!(m.predict_leaf(&[0.9, 7.0]).unwrap(), vec![2.0]);
        // thresholds [0.8, 0.2]: p/t = [0.25/0.8, 0.75/0.2] on leaf 0 → class 1.
        m.params_mut().thresholds = Some(vec![0.8, 0.2]);
        assert_eq!(m.predict(&[0.1, 0.0]).unwrap(), 1.0);
        m.params_mut().thresholds = Some(vec![0.5, 0.3, 0.2]);
        let e = m.predict(&[0.1, 0.0]).unwrap_err().to_string();
        assert!(e.contains("thresholds") && e.contains("2 values"), "{e}");
        m.params_mut().thresholds = None;
        m.params_mut().leaf_col = "leaf".into();
        let out = m
            .transform(&features_df(&[[0.1, 0.0], [0.9, 0.0], [0.9, 2.0]]))
            .unwrap();
        let leaf = out.partitions()[0]
            .column_by_name("leaf")
            .unwrap()
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .values()
            .to_vec();
        assert_eq!(leaf, vec![0.0, 1.0, 2.0]);
        let e = m.predict(&[0.1]).unwrap_err().to_string();
        assert!(e.contains("DecisionTreeClassificationModel"), "{e}");
    }

    #[test]
    fn forest_and_gbt_formulas() {
        let t = cls_tree();
        let e = TreeEnsemble::new(vec![t.clone(), t], vec![1.0, 1.0], 2, 2).unwrap();
        let rf = RandomForestClassificationModel::new("rfc_t", Default::default(), e).unwrap();
        // Two trees at leaf [3, 1]: votes [0.75, 0.25] each.
        assert_eq!(rf.predict_raw(&[0.0, 0.0]).unwrap(), vec![1.5, 0.5]);
        assert_eq!(
            rf.predict_probability(&[0.0, 0.0]).unwrap(),
            vec![0.75, 0.25]
        );
        let reg = DecisionTree::from_root(
            Node::internal(
                0.0,
                1.0,
                vec![2.0, 0.0, 2.0],
                2,
                Split::continuous(0, 0.0),
                1.0,
                Node::leaf(-1.0, 0.0, vec![1.0, -1.0, 1.0], 1),
                Node::leaf(1.0, 0.0, vec![1.0, 1.0, 1.0], 1),
            ),
            2,
            0,
        )
        .unwrap();
        let e = TreeEnsemble::new(vec![reg.clone(), reg], vec![1.0, 0.5], 2, 0).unwrap();
        let g = GBTClassificationModel::new("gbtc_t", Default::default(), e).unwrap();
        // m = 1.0 + 0.5 = 1.5; P(1) = 1 / (1 + e^-3).
        let p = g.predict_probability(&[1.0, 0.0]).unwrap();
        assert!((p[1] - 1.0 / (1.0 + (-3.0f64).exp())).abs() < 1e-15);
        assert_eq!(g.predict_raw(&[1.0, 0.0]).unwrap(), vec![-1.5, 1.5]);
        assert_eq!(g.predict(&[-1.0, 0.0]).unwrap(), 0.0);
    }

    /// A complete regression or classification tree of `depth` over 3 features, with
    /// splits and leaf values from a fixed LCG.
    fn grid_tree(depth: usize, classes: usize, seed: &mut u64) -> DecisionTree {
        fn grow(depth: usize, classes: usize, next: &mut dyn FnMut() -> u64) -> Node {
            if depth == 0 {
                if classes > 0 {
                    let stats: Vec<f64> = (0..classes).map(|_| (next() % 9) as f64 + 1.0).collect();
                    return Node::leaf(0.0, 0.0, stats, 1);
                }
                let y = (next() % 1000) as f64 / 7.0;
                return Node::leaf(y, 0.0, vec![2.0, 2.0 * y, 2.0 * y * y + 1.0], 2);
            }
            let split = Split::continuous((next() % 3) as usize, (next() % 9) as f64 / 4.0 - 1.0);
            let (l, r) = (
                grow(depth - 1, classes, next),
                grow(depth - 1, classes, next),
            );
            let stats = l
                .impurity_stats
                .iter()
                .zip(&r.impurity_stats)
                .map(|(a, b)| a + b)
                .collect();
            Node::internal(0.0, 0.0, stats, 2, split, 0.0, l, r)
        }
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *seed >> 33
        };
        DecisionTree::from_root(grow(depth, classes, &mut next), 3, classes).unwrap()
    }

    fn column(df: &DataFrame, name: &str) -> Vec<f64> {
        let a = df.partitions()[0].column_by_name(name).unwrap().clone();
        match a.data_type() {
            DataType::Float64 => a
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .values()
                .to_vec(),
            _ => vector::dense_values(vector::as_vector(a.as_ref()).unwrap())
                .unwrap()
                .to_vec(),
        }
    }

    #[test]
    fn block_scoring_equals_single_rows_bitwise() {
        // Over two predictor blocks (one partial) and sub-blocks: every output of the
        // batch transform equals the single-row path exactly, and the leaf column equals
        // predict_leaf. Rows include NaN (goes right) and values on the thresholds.
        let grid = [-1.0, -0.5, 0.0, 0.25, 0.75, 1.0, f64::NAN];
        let rows: Vec<[f64; 3]> = (0..BLOCK_ROWS + 77)
            .map(|i| [grid[i % 7], grid[(i / 7) % 7], grid[(i * 5 + 1) % 7]])
            .collect();
        let df = features3(&rows);
        let mut seed = 3;
        // Tree 6 is too deep for the binned kernel: the ensembles mix binned trees with one
        // walked row by row.
        let depth = |i: usize, d: usize| if i == 6 { 7 } else { i % 4 + d };
        let cls: Vec<_> = (0..7)
            .map(|i| grid_tree(depth(i, 1), 3, &mut seed))
            .collect();
        let reg: Vec<_> = (0..7)
            .map(|i| grid_tree(depth(i, 2), 0, &mut seed))
            .collect();
        let weights: Vec<f64> = (0..7).map(|i| if i == 0 { 1.0 } else { 0.1 }).collect();
        let ens = |trees: &[DecisionTree], k| {
            TreeEnsemble::new(trees.to_vec(), weights.clone(), 3, k).unwrap()
        };
        let mut dtc =
            DecisionTreeClassificationModel::new("dtc", Default::default(), cls[3].clone())
                .unwrap();
        dtc.params_mut().leaf_col = "leaf".into();
        let mut rfc =
            RandomForestClassificationModel::new("rfc", Default::default(), ens(&cls, 3)).unwrap();
        rfc.params_mut().leaf_col = "leaf".into();
        rfc.params_mut().thresholds = Some(vec![0.5, 0.2, 0.3]);
        let mut gbtc =
            GBTClassificationModel::new("gbtc", Default::default(), ens(&reg, 0)).unwrap();
        gbtc.params_mut().leaf_col = "leaf".into();
        let mut dtr =
            DecisionTreeRegressionModel::new("dtr", Default::default(), reg[2].clone()).unwrap();
        dtr.params_mut().leaf_col = "leaf".into();
        dtr.params_mut().variance_col = Some("variance".into());
        let rfr =
            RandomForestRegressionModel::new("rfr", Default::default(), ens(&reg, 0)).unwrap();
        let gbtr = GBTRegressionModel::new("gbtr", Default::default(), ens(&reg, 0)).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        fn classifier<M: PredictionModel + Transformer>(m: &M, df: &DataFrame, rows: &[[f64; 3]]) {
            let out = m.transform(df).unwrap();
            let (raw, prob, pred) = (
                column(&out, "rawPrediction"),
                column(&out, "probability"),
                column(&out, "prediction"),
            );
            let k = raw.len() / rows.len();
            for (r, x) in rows.iter().enumerate() {
                let name = m.stage_name();
                assert_eq!(
                    raw[r * k..(r + 1) * k]
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    m.predict_raw(x)
                        .unwrap()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    "{name} raw row {r}"
                );
                assert_eq!(
                    &prob[r * k..(r + 1) * k],
                    &m.predict_probability(x).unwrap()[..],
                    "{name} row {r}"
                );
                assert_eq!(pred[r], m.predict(x).unwrap(), "{name} row {r}");
            }
        }
        // Every build of the kernels this CPU runs.
        for build in crate::frame::kernels::available_builds() {
            crate::frame::kernels::force_build(build);
            classifier(&dtc, &df, &rows);
            classifier(&rfc, &df, &rows);
            classifier(&gbtc, &df, &rows);
            // Leaf columns: DTC a double, ensembles a vector of per-tree indices.
            let leaf = column(&rfc.transform(&df).unwrap(), "leaf");
            let dleaf = column(&dtc.transform(&df).unwrap(), "leaf");
            for (r, x) in rows.iter().enumerate() {
                assert_eq!(&leaf[r * 7..(r + 1) * 7], &rfc.predict_leaf(x).unwrap()[..]);
                assert_eq!(dleaf[r], dtc.predict_leaf(x).unwrap()[0]);
            }
            // Regressors, and DTR's variance and leaf columns in Spark's order (checked in
            // PySpark 4.3: prediction, varianceCol, leafCol).
            let out = dtr.transform(&df).unwrap();
            let names: Vec<_> = out
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect();
            assert_eq!(names, ["features", "prediction", "variance", "leaf"]);
            let (pred, var, leaf) = (
                column(&out, "prediction"),
                column(&out, "variance"),
                column(&out, "leaf"),
            );
            for (r, x) in rows.iter().enumerate() {
                assert_eq!(pred[r], dtr.predict(x).unwrap());
                assert_eq!(var[r], dtr.predict_variance(x).unwrap());
                assert_eq!(leaf[r], dtr.predict_leaf(x).unwrap()[0]);
            }
            let rp = column(&rfr.transform(&df).unwrap(), "prediction");
            let gp = column(&gbtr.transform(&df).unwrap(), "prediction");
            let rs: Vec<f64> = rows.iter().map(|x| rfr.predict(x).unwrap()).collect();
            let gs: Vec<f64> = rows.iter().map(|x| gbtr.predict(x).unwrap()).collect();
            assert_eq!(bits(&rp), bits(&rs));
            assert_eq!(bits(&gp), bits(&gs));
            // GBT's margin, summed in tree order in both paths.
            let gm: Vec<f64> = rows.iter().map(|x| gbtc.margin(x).unwrap()).collect();
            let graw = column(&gbtc.transform(&df).unwrap(), "rawPrediction");
            assert_eq!(
                bits(&graw.iter().skip(1).step_by(2).copied().collect::<Vec<_>>()),
                bits(&gm)
            );
        }
        crate::frame::kernels::force_build(crate::frame::kernels::Build::Avx512);
    }

    #[test]
    fn debug_string_headers_are_sparks() {
        // The headers of Spark 4.3's `toString` of each model class (GBTClassificationModel
        // alone writes `uid = `), then the trees.
        let (c, r) = (cls_tree(), grid_tree(1, 0, &mut 5));
        let ens = |t: &DecisionTree, k| {
            TreeEnsemble::new(vec![t.clone()], vec![1.0], t.num_features(), k)
        };
        let first = |s: String| s.lines().next().unwrap().to_string();
        let dtc = DecisionTreeClassificationModel::new("a", Default::default(), c.clone()).unwrap();
        assert_eq!(
            first(dtc.to_debug_string()),
            "DecisionTreeClassificationModel: uid=a, depth=2, numNodes=5, numClasses=2, numFeatures=2"
        );
        let dtr = DecisionTreeRegressionModel::new("b", Default::default(), r.clone()).unwrap();
        assert_eq!(
            first(dtr.to_debug_string()),
            "DecisionTreeRegressionModel: uid=b, depth=1, numNodes=3, numFeatures=3"
        );
        let rfc =
            RandomForestClassificationModel::new("c", Default::default(), ens(&c, 2).unwrap())
                .unwrap();
        let s = rfc.to_debug_string();
        assert_eq!(
            first(s.clone()),
            "RandomForestClassificationModel: uid=c, numTrees=1, numClasses=2, numFeatures=2"
        );
        assert_eq!(s.lines().nth(1).unwrap(), "  Tree 0 (weight 1.0):");
        assert!(
            s.lines()
                .nth(2)
                .unwrap()
                .starts_with("    If (feature 0 <= 0.5)"),
            "{s}"
        );
        let rfr =
            RandomForestRegressionModel::new("d", Default::default(), ens(&r, 0).unwrap()).unwrap();
        assert_eq!(
            first(rfr.to_debug_string()),
            "RandomForestRegressionModel: uid=d, numTrees=1, numFeatures=3"
        );
        let gbtc =
            GBTClassificationModel::new("e", Default::default(), ens(&r, 0).unwrap()).unwrap();
        assert_eq!(
            first(gbtc.to_debug_string()),
            "GBTClassificationModel: uid = e, numTrees=1, numClasses=2, numFeatures=3"
        );
        assert_eq!(gbtc.num_classes(), 2);
        let gbtr = GBTRegressionModel::new("f", Default::default(), ens(&r, 0).unwrap()).unwrap();
        assert_eq!(
            first(gbtr.to_debug_string()),
            "GBTRegressionModel: uid=f, numTrees=1, numFeatures=3"
        );
        // Importances: per tree normalised for DT/RF, raw for GBT (one tree: the same).
        assert_eq!(rfr.feature_importances(), gbtr.feature_importances());
        assert_eq!(dtc.feature_importances(), rfc.feature_importances());
    }

    fn features3(rows: &[[f64; 3]]) -> DataFrame {
        let v: Vec<f64> = rows.iter().flatten().copied().collect();
        let col = Arc::new(vector::vector_array(v, 3, None).unwrap()) as ArrayRef;
        DataFrame::from_batches(vec![
            RecordBatch::try_from_iter([("features", col)]).unwrap()
        ])
        .unwrap()
    }

    #[test]
    fn leaf_totals_that_cannot_be_normalised_are_an_error() {
        // Spark fails on a row reaching a leaf whose class totals sum to 0; here the model
        // is refused before scoring, naming tree and leaf.
        let root = Node::internal(
            0.0,
            0.5,
            vec![2.0, 2.0],
            4,
            Split::continuous(0, 0.5),
            0.2,
            Node::leaf(0.0, 0.0, vec![2.0, 2.0], 4),
            Node::leaf(0.0, 0.0, vec![0.0, 0.0], 0),
        );
        let t = DecisionTree::from_root(root, 2, 2).unwrap();
        let m = DecisionTreeClassificationModel::new("dtc", Default::default(), t).unwrap();
        let e = m.predict(&[0.1, 0.0]).unwrap_err().to_string();
        assert!(e.contains("leaf 2 of tree 0") && e.contains("refit"), "{e}");
        let e = m
            .transform(&features_df(&[[0.1, 0.0]]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("DecisionTreeClassificationModel: leaf 2"), "{e}");
    }

    #[test]
    fn sparse_rows_score_like_dense_rows() {
        // The same rows stored as Spark's sparse vectors: every output and the leaf
        // column equal the dense column's.
        let rows: Vec<[f64; 3]> = (0..700)
            .map(|i| [0.0, [0.0, 0.3, -0.8][i % 3], [0.0, 0.0, 1.0, -1.0][i % 4]])
            .collect();
        let dense = features3(&rows);
        let mut sb = vector::SparseVectorBuilder::new(3);
        for r in &rows {
            sb.push_compressed(Row::Dense(r)).unwrap();
        }
        let col = sb.finish().unwrap();
        let sparse = DataFrame::from_batches(vec![
            RecordBatch::try_from_iter([("features", col)]).unwrap()
        ])
        .unwrap()
        .with_vector_size("features")
        .unwrap();
        let mut seed = 11;
        let trees: Vec<_> = (0..4).map(|_| grid_tree(3, 2, &mut seed)).collect();
        let e = TreeEnsemble::new(trees, vec![1.0; 4], 3, 2).unwrap();
        let mut rf = RandomForestClassificationModel::new("rfc", Default::default(), e).unwrap();
        rf.params_mut().leaf_col = "leaf".into();
        let (a, b) = (
            rf.transform(&dense).unwrap(),
            rf.transform(&sparse).unwrap(),
        );
        for c in ["rawPrediction", "probability", "prediction", "leaf"] {
            assert_eq!(column(&a, c), column(&b, c), "{c}");
        }
    }
}
