//! The six fitted tree models and their outputs (Spark's `DecisionTreeClassificationModel`,
//! `DecisionTreeRegressionModel`, `RandomForestClassificationModel`,
//! `RandomForestRegressionModel`, `GBTClassificationModel`, `GBTRegressionModel`).

use std::fmt::Write as _;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use rayon::prelude::*;

use super::node::{feature_importances, DecisionTree, NodeData, Split, TreeEnsemble};
use super::params::{
    DecisionTreeClassifierParams, DecisionTreeRegressorParams, GBTClassifierParams,
    GBTRegressorParams, RandomForestClassifierParams, RandomForestRegressorParams,
};
use crate::error::{Error, Result};
use crate::feature::java_double_string;
use crate::frame::{in_order, schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{Model, Stage, Transformer};

/// Rows scored per parallel task (and per tree-outer block).
const BLOCK: usize = 512;

/// How a classifier turns raw scores into probabilities.
#[derive(Clone, Copy, Debug, PartialEq)]
enum RawKind {
    /// raw / Σ raw (decision tree class totals, forest votes).
    Normalize,
    /// GBT: p0 = 1 / (1 + e^(−2·raw0)), p1 = 1 − p0.
    Logistic,
}

/// What every tree model shares: uid, trees, sizes. The outputs differ by model.
#[derive(Clone, Debug, PartialEq)]
struct Core {
    uid: String,
    ensemble: TreeEnsemble,
}

impl Core {
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
}

/// `argmax` with the first maximum winning, as Spark's `Vector.argmax`.
fn argmax(v: impl Iterator<Item = f64>) -> f64 {
    let mut best = (0usize, f64::NEG_INFINITY);
    for (i, x) in v.enumerate() {
        if x > best.1 || i == 0 {
            best = (i, x);
        }
    }
    best.0 as f64
}

/// Spark's `probability2prediction` with thresholds: argmax of `p_i / t_i`, where a 0
/// threshold gives +∞ (NaN when the probability is 0 too).
fn thresholded(prob: &[f64], ts: &[f64]) -> f64 {
    argmax(prob.iter().zip(ts).map(|(p, t)| {
        if *t == 0.0 {
            if *p == 0.0 {
                f64::NAN
            } else {
                f64::INFINITY
            }
        } else {
            p / t
        }
    }))
}

/// Classifier output settings shared by DTC, RFC and GBTC.
struct ClassOut<'a> {
    stage: &'static str,
    features_col: &'a str,
    raw_col: &'a str,
    prob_col: &'a str,
    pred_col: &'a str,
    leaf_col: &'a str,
    thresholds: Option<&'a [f64]>,
    num_classes: usize,
    kind: RawKind,
}

impl ClassOut<'_> {
    fn check_thresholds(&self) -> Result<()> {
        if let Some(ts) = self.thresholds {
            if ts.len() != self.num_classes {
                return Err(Error::param(
                    self.stage,
                    "thresholds",
                    format!("{} values, one per class", self.num_classes),
                    format!("{} values", ts.len()),
                ));
            }
        }
        Ok(())
    }

    /// raw → probability in place of `prob`; `false` when the raw scores cannot be
    /// normalised (Spark throws on a zero or negative total).
    fn probability(&self, raw: &[f64], prob: &mut [f64]) -> bool {
        match self.kind {
            RawKind::Normalize => {
                let sum: f64 = raw.iter().sum();
                if sum == 0.0 || raw.iter().any(|v| *v < 0.0) {
                    return false;
                }
                for (p, r) in prob.iter_mut().zip(raw) {
                    *p = r / sum;
                }
                true
            }
            RawKind::Logistic => {
                prob[0] = 1.0 / (1.0 + (-2.0 * raw[0]).exp());
                prob[1] = 1.0 - prob[0];
                true
            }
        }
    }

    fn prediction(&self, raw: &[f64], prob: &[f64]) -> f64 {
        match self.thresholds {
            Some(ts) => thresholded(prob, ts),
            None => argmax(raw.iter().copied()),
        }
    }

    fn schema(&self, input: &Schema, core: &Core) -> Result<Schema> {
        self.check_thresholds()?;
        let (_, _, n) = schema::require_vector(input, self.stage, self.features_col)?;
        core.check_features(self.stage, self.features_col, n)?;
        let k = self.num_classes;
        let mut out = input.clone();
        for (col, field) in [
            (self.raw_col, vector::vector_field(self.raw_col, k, false)),
            (self.prob_col, vector::vector_field(self.prob_col, k, false)),
            (
                self.pred_col,
                Field::new(self.pred_col, DataType::Float64, false),
            ),
        ] {
            if !col.is_empty() {
                out = schema::append_field(&out, self.stage, field)?;
            }
        }
        leaf_field(&mut out, self.stage, self.leaf_col, core)?;
        Ok(out)
    }
}

/// Appends the `leafCol` field: a double for one tree, a vector of per-tree indices for an
/// ensemble.
fn leaf_field(out: &mut Schema, stage: &'static str, leaf_col: &str, core: &Core) -> Result<()> {
    if leaf_col.is_empty() {
        return Ok(());
    }
    let field = if core.ensemble.trees.len() == 1 && is_single(stage) {
        Field::new(leaf_col, DataType::Float64, false)
    } else {
        vector::vector_field(leaf_col, core.ensemble.trees.len(), false)
    };
    *out = schema::append_field(out, stage, field)?;
    Ok(())
}

fn is_single(stage: &str) -> bool {
    stage.starts_with("DecisionTree")
}

/// The features of one partition: flat values, the row count and the vector size.
fn features<'a>(
    b: &'a RecordBatch,
    stage: &'static str,
    col: &str,
    part: usize,
    n: usize,
) -> Result<std::borrow::Cow<'a, [f64]>> {
    let c = schema::batch_column(b, col)?;
    let at = vector::At {
        stage,
        column: col,
        partition: part,
    };
    let feats = vector::VectorBlock::new(c.as_ref(), n, at)?;
    if let Some(r) = (0..feats.len()).find(|&r| feats.is_null(r)) {
        return Err(Error::InvalidValue {
            stage,
            column: col.to_string(),
            partition: part,
            row: r,
            what: "null vector".into(),
            hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
        });
    }
    // Trees read dense rows: a sparse partition is densified here.
    Ok(feats.to_dense())
}

/// Leaf indices of every row for every tree, `rows × trees` (the leafCol values).
fn leaf_values(trees: &[DecisionTree], x: &[f64], n: usize, rows: usize) -> Vec<f64> {
    let t = trees.len();
    let mut out = vec![0.0; rows * t];
    out.par_chunks_mut(BLOCK * t.max(1))
        .enumerate()
        .for_each(|(c, chunk)| {
            let r0 = c * BLOCK;
            for (i, row) in chunk.chunks_mut(t.max(1)).enumerate() {
                let xr = &x[(r0 + i) * n..(r0 + i + 1) * n];
                for (o, tree) in row.iter_mut().zip(trees) {
                    *o = tree.leaf_index(xr) as f64;
                }
            }
        });
    out
}

/// A classification model's scoring: raw scores for a block of rows, tree-outer.
trait RawScorer: Sync {
    /// Adds the raw scores of rows `x` (`rows × n`) into `raw` (`rows × k`, zeroed).
    fn raw_block(&self, x: &[f64], n: usize, raw: &mut [f64]);
}

/// Scores a whole partition: raw, probability and prediction per row, in parallel blocks.
fn classify(
    out: &ClassOut<'_>,
    scorer: &dyn RawScorer,
    x: &[f64],
    n: usize,
    rows: usize,
    part: usize,
) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>)> {
    let k = out.num_classes;
    let mut raw = vec![0.0; rows * k];
    let mut prob = vec![0.0; rows * k];
    let mut pred = vec![0.0; rows];
    let results: Vec<Result<()>> = raw
        .par_chunks_mut(BLOCK * k)
        .zip(prob.par_chunks_mut(BLOCK * k))
        .zip(pred.par_chunks_mut(BLOCK))
        .enumerate()
        .map(|(c, ((raw, prob), pred))| {
            let r0 = c * BLOCK;
            let m = pred.len();
            scorer.raw_block(&x[r0 * n..(r0 + m) * n], n, raw);
            for i in 0..m {
                let (rr, pp) = (&raw[i * k..(i + 1) * k], &mut prob[i * k..(i + 1) * k]);
                if !out.probability(rr, pp) {
                    return Err(Error::InvalidValue {
                        stage: out.stage,
                        column: out.features_col.to_string(),
                        partition: part,
                        row: r0 + i,
                        what: format!("raw prediction {rr:?} cannot be normalised"),
                        hint: "the model's leaf statistics sum to 0; refit the model".into(),
                    });
                }
                pred[i] = out.prediction(rr, pp);
            }
            Ok(())
        })
        .collect();
    in_order(results)?;
    Ok((raw, prob, pred))
}

fn transform_classifier(
    out: &ClassOut<'_>,
    core: &Core,
    scorer: &dyn RawScorer,
    df: &DataFrame,
) -> Result<DataFrame> {
    let schema = Arc::new(out.schema(df.schema(), core)?);
    let k = out.num_classes;
    let n = core.ensemble.num_features;
    let parts = df.map_partitions(|i, b| {
        let mut cols = b.columns().to_vec();
        let x = &*features(b, out.stage, out.features_col, i, n)?;
        let rows = b.num_rows();
        if !(out.raw_col.is_empty() && out.prob_col.is_empty() && out.pred_col.is_empty()) {
            let (raw, prob, pred) = classify(out, scorer, x, n, rows, i)?;
            if !out.raw_col.is_empty() {
                cols.push(Arc::new(vector::vector_array(raw, k, None)?) as ArrayRef);
            }
            if !out.prob_col.is_empty() {
                cols.push(Arc::new(vector::vector_array(prob, k, None)?) as ArrayRef);
            }
            if !out.pred_col.is_empty() {
                cols.push(Arc::new(Float64Array::from(pred)) as ArrayRef);
            }
        }
        push_leaf(&mut cols, out.stage, out.leaf_col, core, x, n, rows)?;
        crate::frame::new_batch(schema.clone(), cols, rows)
    })?;
    DataFrame::try_new(schema, parts)
}

fn push_leaf(
    cols: &mut Vec<ArrayRef>,
    stage: &'static str,
    leaf_col: &str,
    core: &Core,
    x: &[f64],
    n: usize,
    rows: usize,
) -> Result<()> {
    if leaf_col.is_empty() {
        return Ok(());
    }
    let trees = &core.ensemble.trees;
    let leaves = leaf_values(trees, x, n, rows);
    if is_single(stage) {
        cols.push(Arc::new(Float64Array::from(leaves)));
    } else {
        cols.push(Arc::new(vector::vector_array(leaves, trees.len(), None)?));
    }
    Ok(())
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

fn ensemble_debug_string(header: String, e: &TreeEnsemble) -> String {
    let mut s = header;
    s.push('\n');
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
                self.output_schema(input)
            }
        }

        impl Transformer for $ty {
            fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
                self.params.validate()?;
                self.transform_df(df)
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
            /// Spark's `featureImportances` as a dense vector (0 for unused features).
            pub fn feature_importances(&self) -> Vec<f64> {
                dense_importances(&self.core.ensemble, true)
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
        Ok(Self {
            core: Core {
                uid: uid.into(),
                ensemble: TreeEnsemble::new(vec![tree], vec![1.0], n, k)?,
            },
            params,
        })
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.core.ensemble.num_classes
    }

    fn out(&self) -> ClassOut<'_> {
        let p = &self.params;
        ClassOut {
            stage: Self::STAGE,
            features_col: &p.features_col,
            raw_col: &p.raw_prediction_col,
            prob_col: &p.probability_col,
            pred_col: &p.prediction_col,
            leaf_col: &p.leaf_col,
            thresholds: p.thresholds.as_deref(),
            num_classes: self.num_classes(),
            kind: RawKind::Normalize,
        }
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        self.out().schema(input, &self.core)
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        transform_classifier(&self.out(), &self.core, self, df)
    }

    /// rawPrediction of one row: the reached leaf's class totals.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        let mut raw = vec![0.0; self.num_classes()];
        self.raw_block(x, x.len(), &mut raw);
        Ok(raw)
    }

    /// probability of one row.
    ///
    /// # Errors
    /// As [`predict_raw`](Self::predict_raw); [`Error::InvalidValue`] when the leaf's
    /// totals sum to 0.
    pub fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
        single_probability(&self.out(), self.predict_raw(x)?)
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// As [`predict_probability`](Self::predict_probability).
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        let out = self.out();
        out.check_thresholds()?;
        let raw = self.predict_raw(x)?;
        let prob = single_probability(&out, raw.clone())?;
        Ok(out.prediction(&raw, &prob))
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        let t = self.tree();
        let mut s = format!(
            "DecisionTreeClassificationModel: uid={}, depth={}, numNodes={}, numClasses={}, numFeatures={}\n",
            self.core.uid,
            t.depth(),
            t.num_nodes(),
            self.num_classes(),
            t.num_features()
        );
        subtree_string(t, 0, 2, &mut s);
        s
    }
}

fn single_probability(out: &ClassOut<'_>, raw: Vec<f64>) -> Result<Vec<f64>> {
    let mut prob = vec![0.0; raw.len()];
    if !out.probability(&raw, &mut prob) {
        return Err(Error::InvalidValue {
            stage: out.stage,
            column: out.features_col.to_string(),
            partition: 0,
            row: 0,
            what: format!("raw prediction {raw:?} cannot be normalised"),
            hint: "the model's leaf statistics sum to 0; refit the model".into(),
        });
    }
    Ok(prob)
}

impl RawScorer for DecisionTreeClassificationModel {
    fn raw_block(&self, x: &[f64], n: usize, raw: &mut [f64]) {
        let k = self.num_classes();
        let t = self.tree();
        for (xr, rr) in x.chunks_exact(n).zip(raw.chunks_exact_mut(k)) {
            rr.copy_from_slice(&t.leaf_for(xr).impurity_stats);
        }
    }
}

model_stage!(
    DecisionTreeClassificationModel,
    DecisionTreeClassifierParams
);
single_tree!(DecisionTreeClassificationModel);

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
        Ok(Self {
            core: Core {
                uid: uid.into(),
                ensemble,
            },
            params,
            distributions,
        })
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.core.ensemble.num_classes
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.core.ensemble.trees.len()
    }

    /// Spark's `featureImportances` (per-tree normalised, averaged, renormalised), dense.
    pub fn feature_importances(&self) -> Vec<f64> {
        dense_importances(&self.core.ensemble, true)
    }

    fn out(&self) -> ClassOut<'_> {
        let p = &self.params;
        ClassOut {
            stage: Self::STAGE,
            features_col: &p.features_col,
            raw_col: &p.raw_prediction_col,
            prob_col: &p.probability_col,
            pred_col: &p.prediction_col,
            leaf_col: &p.leaf_col,
            thresholds: p.thresholds.as_deref(),
            num_classes: self.num_classes(),
            kind: RawKind::Normalize,
        }
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        self.out().schema(input, &self.core)
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        transform_classifier(&self.out(), &self.core, self, df)
    }

    /// rawPrediction of one row (the summed per-tree class distributions).
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        let mut raw = vec![0.0; self.num_classes()];
        self.raw_block(x, x.len(), &mut raw);
        Ok(raw)
    }

    /// probability of one row.
    ///
    /// # Errors
    /// As [`predict_raw`](Self::predict_raw).
    pub fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
        single_probability(&self.out(), self.predict_raw(x)?)
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// As [`predict_raw`](Self::predict_raw); a `thresholds` of the wrong length.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        let out = self.out();
        out.check_thresholds()?;
        let raw = self.predict_raw(x)?;
        let prob = single_probability(&out, raw.clone())?;
        Ok(out.prediction(&raw, &prob))
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        ensemble_debug_string(
            format!(
                "RandomForestClassificationModel: uid={}, numTrees={}, numClasses={}, numFeatures={}",
                self.core.uid,
                self.num_trees(),
                self.num_classes(),
                self.num_features()
            ),
            &self.core.ensemble,
        )
    }
}

impl RawScorer for RandomForestClassificationModel {
    fn raw_block(&self, x: &[f64], n: usize, raw: &mut [f64]) {
        let k = self.num_classes();
        // Tree-outer: each tree stays in cache for the block; every row still adds its
        // trees in order 0, 1, 2, … as Spark does.
        for (t, dist) in self.core.ensemble.trees.iter().zip(&self.distributions) {
            for (xr, rr) in x.chunks_exact(n).zip(raw.chunks_exact_mut(k)) {
                let leaf = t.leaf_node(xr);
                for (r, d) in rr.iter_mut().zip(&dist[leaf * k..(leaf + 1) * k]) {
                    *r += d;
                }
            }
        }
    }
}

model_stage!(
    RandomForestClassificationModel,
    RandomForestClassifierParams
);

/// Σ weight × tree prediction per row, tree-outer over a block; each row sums its trees
/// in tree order.
fn weighted_block(e: &TreeEnsemble, x: &[f64], n: usize, out: &mut [f64]) {
    for (t, w) in e.trees.iter().zip(&e.tree_weights) {
        for (xr, o) in x.chunks_exact(n).zip(out.iter_mut()) {
            *o += t.predict(xr) * w;
        }
    }
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
        mut ensemble: TreeEnsemble,
    ) -> Result<Self> {
        if ensemble.trees.is_empty() || ensemble.trees.iter().any(|t| t.num_classes() != 0) {
            return Err(Error::Internal(
                "GBTClassificationModel needs at least one regression tree".into(),
            ));
        }
        ensemble.num_classes = 2;
        Ok(Self {
            core: Core {
                uid: uid.into(),
                ensemble,
            },
            params,
        })
    }

    /// Number of classes (always 2).
    pub fn num_classes(&self) -> usize {
        2
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.core.ensemble.trees.len()
    }

    /// Spark's `featureImportances` (raw gains summed over trees, then normalised), dense.
    pub fn feature_importances(&self) -> Vec<f64> {
        dense_importances(&self.core.ensemble, false)
    }

    fn out(&self) -> ClassOut<'_> {
        let p = &self.params;
        ClassOut {
            stage: Self::STAGE,
            features_col: &p.features_col,
            raw_col: &p.raw_prediction_col,
            prob_col: &p.probability_col,
            pred_col: &p.prediction_col,
            leaf_col: &p.leaf_col,
            thresholds: p.thresholds.as_deref(),
            num_classes: 2,
            kind: RawKind::Logistic,
        }
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        self.out().schema(input, &self.core)
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        transform_classifier(&self.out(), &self.core, self, df)
    }

    /// The margin m = Σ weight × tree prediction of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn margin(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(self.core.ensemble.weighted_sum(x))
    }

    /// rawPrediction `[−m, m]` of one row.
    ///
    /// # Errors
    /// As [`margin`](Self::margin).
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        let m = self.margin(x)?;
        Ok(vec![-m, m])
    }

    /// probability of one row.
    ///
    /// # Errors
    /// As [`margin`](Self::margin).
    pub fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
        single_probability(&self.out(), self.predict_raw(x)?)
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// As [`margin`](Self::margin); a `thresholds` of the wrong length.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        let out = self.out();
        out.check_thresholds()?;
        let raw = self.predict_raw(x)?;
        let prob = single_probability(&out, raw.clone())?;
        Ok(out.prediction(&raw, &prob))
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        ensemble_debug_string(
            format!(
                "GBTClassificationModel: uid = {}, numTrees={}, numClasses=2, numFeatures={}",
                self.core.uid,
                self.num_trees(),
                self.num_features()
            ),
            &self.core.ensemble,
        )
    }
}

impl RawScorer for GBTClassificationModel {
    fn raw_block(&self, x: &[f64], n: usize, raw: &mut [f64]) {
        let rows = raw.len() / 2;
        let mut m = vec![0.0; rows];
        weighted_block(&self.core.ensemble, x, n, &mut m);
        for (r, m) in raw.chunks_exact_mut(2).zip(m) {
            r[0] = -m;
            r[1] = m;
        }
    }
}

model_stage!(GBTClassificationModel, GBTClassifierParams);

// ---------------------------------------------------------------------------------------
// Regressors

/// Regression outputs: prediction, leafCol and (DTR) varianceCol.
fn regression_schema(
    stage: &'static str,
    input: &Schema,
    core: &Core,
    features_col: &str,
    pred_col: &str,
    leaf_col: &str,
    variance_col: Option<&str>,
) -> Result<Schema> {
    let (_, _, n) = schema::require_vector(input, stage, features_col)?;
    core.check_features(stage, features_col, n)?;
    let mut out = input.clone();
    if !pred_col.is_empty() {
        out = schema::append_field(&out, stage, Field::new(pred_col, DataType::Float64, false))?;
    }
    leaf_field(&mut out, stage, leaf_col, core)?;
    if let Some(v) = variance_col.filter(|v| !v.is_empty()) {
        out = schema::append_field(&out, stage, Field::new(v, DataType::Float64, false))?;
    }
    Ok(out)
}

/// Adds the predictions of a block of rows (`rows × n` values) into its output slice.
type BlockFn<'a> = dyn Fn(&[f64], usize, &mut [f64]) + Sync + 'a;

/// Scores every partition with `block` (adds predictions of a block of rows into `out`,
/// zeroed) and appends prediction, leaf and variance columns.
#[allow(clippy::too_many_arguments)]
fn transform_regressor(
    stage: &'static str,
    df: &DataFrame,
    schema: Schema,
    core: &Core,
    features_col: &str,
    pred_col: &str,
    leaf_col: &str,
    variance_col: Option<&str>,
    block: &BlockFn<'_>,
) -> Result<DataFrame> {
    let schema = Arc::new(schema);
    let n = core.ensemble.num_features;
    let parts = df.map_partitions(|i, b| {
        let mut cols = b.columns().to_vec();
        let x = &*features(b, stage, features_col, i, n)?;
        let rows = b.num_rows();
        if !pred_col.is_empty() {
            let mut pred = vec![0.0; rows];
            pred.par_chunks_mut(BLOCK).enumerate().for_each(|(c, out)| {
                let r0 = c * BLOCK;
                block(&x[r0 * n..(r0 + out.len()) * n], n, out);
            });
            cols.push(Arc::new(Float64Array::from(pred)) as ArrayRef);
        }
        push_leaf(&mut cols, stage, leaf_col, core, x, n, rows)?;
        if variance_col.is_some_and(|v| !v.is_empty()) {
            let t = &core.ensemble.trees[0];
            let v: Vec<f64> = x
                .chunks_exact(n.max(1))
                .take(rows)
                .map(|xr| variance_of(&t.leaf_for(xr).impurity_stats))
                .collect();
            cols.push(Arc::new(Float64Array::from(v)));
        }
        crate::frame::new_batch(schema.clone(), cols, rows)
    })?;
    DataFrame::try_new(schema, parts)
}

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
            core: Core {
                uid: uid.into(),
                ensemble: TreeEnsemble::new(vec![tree], vec![1.0], n, 0)?,
            },
            params,
        })
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        regression_schema(
            Self::STAGE,
            input,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            p.variance_col.as_deref(),
        )
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        let p = &self.params;
        let t = self.tree();
        transform_regressor(
            Self::STAGE,
            df,
            self.output_schema(df.schema())?,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            p.variance_col.as_deref(),
            &|x, n, out| {
                for (xr, o) in x.chunks_exact(n).zip(out.iter_mut()) {
                    *o = t.predict(xr);
                }
            },
        )
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(self.tree().predict(x))
    }

    /// Label variance of the leaf a row reaches (the `varianceCol` value).
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict_variance(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(variance_of(&self.tree().leaf_for(x).impurity_stats))
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        let t = self.tree();
        let mut s = format!(
            "DecisionTreeRegressionModel: uid={}, depth={}, numNodes={}, numFeatures={}\n",
            self.core.uid,
            t.depth(),
            t.num_nodes(),
            t.num_features()
        );
        subtree_string(t, 0, 2, &mut s);
        s
    }
}

model_stage!(DecisionTreeRegressionModel, DecisionTreeRegressorParams);
single_tree!(DecisionTreeRegressionModel);

/// A fitted random forest regressor (Spark's `RandomForestRegressionModel`): prediction =
/// the mean of the trees' predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomForestRegressionModel {
    core: Core,
    params: RandomForestRegressorParams,
}

fn regression_ensemble(stage: &str, e: &TreeEnsemble) -> Result<()> {
    if e.trees.is_empty() || e.trees.iter().any(|t| t.num_classes() != 0) {
        return Err(Error::Internal(format!(
            "{stage} needs at least one regression tree"
        )));
    }
    Ok(())
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
        regression_ensemble(Self::STAGE, &ensemble)?;
        Ok(Self {
            core: Core {
                uid: uid.into(),
                ensemble,
            },
            params,
        })
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.core.ensemble.trees.len()
    }

    /// Spark's `featureImportances` (per-tree normalised), dense.
    pub fn feature_importances(&self) -> Vec<f64> {
        dense_importances(&self.core.ensemble, true)
    }

    fn block(&self, x: &[f64], n: usize, out: &mut [f64]) {
        for t in &self.core.ensemble.trees {
            for (xr, o) in x.chunks_exact(n).zip(out.iter_mut()) {
                *o += t.predict(xr);
            }
        }
        let k = self.num_trees() as f64;
        for o in out.iter_mut() {
            *o /= k;
        }
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        regression_schema(
            Self::STAGE,
            input,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            None,
        )
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        let p = &self.params;
        transform_regressor(
            Self::STAGE,
            df,
            self.output_schema(df.schema())?,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            None,
            &|x, n, out| self.block(x, n, out),
        )
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        let mut o = [0.0];
        self.block(x, x.len(), &mut o);
        Ok(o[0])
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        ensemble_debug_string(
            format!(
                "RandomForestRegressionModel: uid={}, numTrees={}, numFeatures={}",
                self.core.uid,
                self.num_trees(),
                self.num_features()
            ),
            &self.core.ensemble,
        )
    }
}

model_stage!(RandomForestRegressionModel, RandomForestRegressorParams);

/// A fitted gradient-boosted tree regressor (Spark's `GBTRegressionModel`): prediction =
/// Σ weight × tree prediction.
#[derive(Clone, Debug, PartialEq)]
pub struct GBTRegressionModel {
    core: Core,
    params: GBTRegressorParams,
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
        regression_ensemble(Self::STAGE, &ensemble)?;
        Ok(Self {
            core: Core {
                uid: uid.into(),
                ensemble,
            },
            params,
        })
    }

    /// Number of trees.
    pub fn num_trees(&self) -> usize {
        self.core.ensemble.trees.len()
    }

    /// Spark's `featureImportances` (raw gains summed, then normalised), dense.
    pub fn feature_importances(&self) -> Vec<f64> {
        dense_importances(&self.core.ensemble, false)
    }

    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        regression_schema(
            Self::STAGE,
            input,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            None,
        )
    }

    fn transform_df(&self, df: &DataFrame) -> Result<DataFrame> {
        let p = &self.params;
        let e = &self.core.ensemble;
        transform_regressor(
            Self::STAGE,
            df,
            self.output_schema(df.schema())?,
            &self.core,
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            None,
            &|x, n, out| weighted_block(e, x, n, out),
        )
    }

    /// prediction of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] when `x` has the wrong length.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        row_check(&self.core, Self::STAGE, &self.params.features_col, x)?;
        Ok(self.core.ensemble.weighted_sum(x))
    }

    /// Spark's `toDebugString`.
    pub fn to_debug_string(&self) -> String {
        ensemble_debug_string(
            format!(
                "GBTRegressionModel: uid={}, numTrees={}, numFeatures={}",
                self.core.uid,
                self.num_trees(),
                self.num_features()
            ),
            &self.core.ensemble,
        )
    }
}

model_stage!(GBTRegressionModel, GBTRegressorParams);

// ---------------------------------------------------------------------------------------
// Row forms (crate::row): the batch transform's arithmetic on one row.

/// Where a tree model's outputs go in a row scorer.
#[derive(Debug)]
struct TreeRowSlots {
    x: crate::row::VecSlot,
    raw: crate::row::VecSlot,
    prob: crate::row::VecSlot,
    pred: Option<crate::row::NumOut>,
    /// Per-tree leaf indices: a vector (ensembles) or a number (one tree).
    leaf_vec: Option<crate::row::VecSlot>,
    leaf_num: Option<crate::row::NumOut>,
    variance: Option<crate::row::NumOut>,
}

/// How one tree model scores one row: the classifiers fill raw scores (from zero), the
/// regressors return the prediction.
trait TreeRow: Clone + std::fmt::Debug + Send + Sync + 'static {
    fn core(&self) -> &Core;
    fn class_out(&self) -> Option<ClassOut<'_>>;
    fn cols(&self) -> (&str, &str, &str, Option<&str>);
    fn row_raw(&self, _x: &[f64], _raw: &mut [f64]) {}
    fn row_predict(&self, _x: &[f64]) -> f64 {
        0.0
    }
}

fn compile_tree_row<M: TreeRow>(
    m: &M,
    stage: &'static str,
    plan: &mut crate::row::PlanBuilder,
) -> Result<Option<Box<dyn crate::row::RowOp>>> {
    let core = m.core();
    let (features, pred_col, leaf_col, variance_col) = m.cols();
    let x = plan.vec_input(features)?;
    core.check_features(stage, features, x.len())?;
    let k = core.ensemble.num_classes.max(1);
    let mut outputs = crate::row::ModelOutputs::default();
    let (mut raw, mut prob) = (None, None);
    if let Some(out) = m.class_out() {
        out.check_thresholds()?;
        // Schema order: raw, probability, prediction.
        if !out.raw_col.is_empty() {
            raw = Some(plan.add_vec(out.raw_col, k));
        }
        if !out.prob_col.is_empty() {
            prob = Some(plan.add_vec(out.prob_col, k));
        }
        outputs.raw_prediction = raw;
        outputs.probability = prob;
    }
    let pred = (!pred_col.is_empty()).then(|| plan.add_num(pred_col));
    outputs.prediction = pred;
    let (mut leaf_vec, mut leaf_num) = (None, None);
    if !leaf_col.is_empty() {
        if core.ensemble.trees.len() == 1 && is_single(stage) {
            leaf_num = Some(plan.add_num(leaf_col));
        } else {
            leaf_vec = Some(plan.add_vec(leaf_col, core.ensemble.trees.len()));
        }
    }
    let variance = variance_col
        .filter(|v| !v.is_empty())
        .map(|v| plan.add_num(v));
    plan.set_model_outputs(outputs);
    let slots = TreeRowSlots {
        x,
        raw: raw.unwrap_or_else(|| plan.scratch_vec(k)),
        prob: prob.unwrap_or_else(|| plan.scratch_vec(k)),
        pred,
        leaf_vec,
        leaf_num,
        variance,
    };
    Ok(Some(Box::new(TreeRowOp {
        model: m.clone(),
        stage,
        slots,
    })))
}

#[derive(Debug)]
struct TreeRowOp<M> {
    model: M,
    stage: &'static str,
    slots: TreeRowSlots,
}

impl<M: TreeRow> crate::row::RowOp for TreeRowOp<M> {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let s = &self.slots;
        let m = &self.model;
        if let Some(out) = m.class_out() {
            let (x, raw, prob) = row.vec_triple(s.x, s.raw, s.prob);
            raw.fill(0.0);
            m.row_raw(x, raw);
            if !out.probability(raw, prob) {
                let what = format!("raw prediction {raw:?} cannot be normalised");
                return Err(row.invalid(
                    self.stage,
                    out.features_col,
                    what,
                    "the model's leaf statistics sum to 0; refit the model",
                ));
            }
            let p = out.prediction(raw, prob);
            if let Some(o) = s.pred {
                row.set_num(o, Some(p));
            }
        } else if let Some(o) = s.pred {
            let p = m.row_predict(row.vec(s.x));
            row.set_num(o, Some(p));
        }
        let trees = &m.core().ensemble.trees;
        if let Some(o) = s.leaf_num {
            let l = trees[0].leaf_index(row.vec(s.x)) as f64;
            row.set_num(o, Some(l));
        }
        if let Some(o) = s.leaf_vec {
            let (x, out) = row.vec_pair(s.x, o);
            for (o, t) in out.iter_mut().zip(trees) {
                *o = t.leaf_index(x) as f64;
            }
        }
        if let Some(o) = s.variance {
            let v = variance_of(&trees[0].leaf_for(row.vec(s.x)).impurity_stats);
            row.set_num(o, Some(v));
        }
        Ok(crate::row::Flow::Next)
    }
}

macro_rules! tree_row_stage {
    ($ty:ident) => {
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

impl TreeRow for DecisionTreeClassificationModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        Some(self.out())
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (&p.features_col, &p.prediction_col, &p.leaf_col, None)
    }
    fn row_raw(&self, x: &[f64], raw: &mut [f64]) {
        self.raw_block(x, x.len(), raw);
    }
}

impl TreeRow for RandomForestClassificationModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        Some(self.out())
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (&p.features_col, &p.prediction_col, &p.leaf_col, None)
    }
    fn row_raw(&self, x: &[f64], raw: &mut [f64]) {
        self.raw_block(x, x.len(), raw);
    }
}

impl TreeRow for GBTClassificationModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        Some(self.out())
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (&p.features_col, &p.prediction_col, &p.leaf_col, None)
    }
    fn row_raw(&self, x: &[f64], raw: &mut [f64]) {
        // raw_block's arithmetic for one row, without its per-block buffer.
        let mut m = [0.0];
        weighted_block(&self.core.ensemble, x, x.len(), &mut m);
        raw[0] = -m[0];
        raw[1] = m[0];
    }
}

impl TreeRow for DecisionTreeRegressionModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        None
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (
            &p.features_col,
            &p.prediction_col,
            &p.leaf_col,
            p.variance_col.as_deref(),
        )
    }
    fn row_predict(&self, x: &[f64]) -> f64 {
        self.tree().predict(x)
    }
}

impl TreeRow for RandomForestRegressionModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        None
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (&p.features_col, &p.prediction_col, &p.leaf_col, None)
    }
    fn row_predict(&self, x: &[f64]) -> f64 {
        let mut o = [0.0];
        self.block(x, x.len(), &mut o);
        o[0]
    }
}

impl TreeRow for GBTRegressionModel {
    fn core(&self) -> &Core {
        &self.core
    }
    fn class_out(&self) -> Option<ClassOut<'_>> {
        None
    }
    fn cols(&self) -> (&str, &str, &str, Option<&str>) {
        let p = &self.params;
        (&p.features_col, &p.prediction_col, &p.leaf_col, None)
    }
    fn row_predict(&self, x: &[f64]) -> f64 {
        let mut o = [0.0];
        weighted_block(&self.core.ensemble, x, x.len(), &mut o);
        o[0]
    }
}

tree_row_stage!(DecisionTreeClassificationModel);
tree_row_stage!(RandomForestClassificationModel);
tree_row_stage!(GBTClassificationModel);
tree_row_stage!(DecisionTreeRegressionModel);
tree_row_stage!(RandomForestRegressionModel);
tree_row_stage!(GBTRegressionModel);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Node;

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
}
