//! The six tree estimators: Spark's `DecisionTreeClassifier`, `DecisionTreeRegressor`,
//! `RandomForestClassifier`, `RandomForestRegressor`, `GBTClassifier` and `GBTRegressor`.
//!
//! Each holds a uid and its params struct (Spark's params, defaults and validation) and
//! fits through the one tree engine ([`crate::tree::engine`]): the features column's values
//! are read in place, categorical features come from the column's ML-attribute metadata
//! (nominal and binary attributes, as `VectorAssembler` after `StringIndexer` writes them),
//! classifiers take the number of classes from the label column's nominal metadata, else
//! max label + 1, as Spark's `Classifier.getNumClasses` does. With the training rows in one
//! partition (and the same params and seed) a fit gives Spark 4.3's trees node for node.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, BooleanArray};
use arrow::compute::{cast, filter_record_batch, not};
use arrow::datatypes::{DataType, Float64Type, Schema};

use super::engine::{
    categorical_features, indicator, train_forest, train_gbt, Boosting, Instances, LabelKind, Loss,
    Strategy, TrainedTree,
};
use super::models::{
    tree_fields, DecisionTreeClassificationModel, DecisionTreeRegressionModel,
    GBTClassificationModel, GBTRegressionModel, RandomForestClassificationModel,
    RandomForestRegressionModel,
};
use super::node::{DecisionTree, TreeEnsemble};
use super::params::{
    DecisionTreeClassifierParams, DecisionTreeParams, DecisionTreeRegressorParams,
    GBTClassifierParams, GBTRegressorParams, Impurity, RandomForestClassifierParams,
    RandomForestRegressorParams,
};
use crate::error::{Error, Result};
use crate::feature::columns::stage_basics;
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Estimator, Stage};
use crate::predictor::{self, PredictionColumns, PredictorKind};

/// Spark's limit on the number of classes inferred from label values.
const MAX_INFERRED_CLASSES: usize = 100;

/// Number of classes as Spark's `Classifier.getNumClasses`: the label column's nominal
/// metadata, else max label + 1 (at most 100).
fn num_classes(df: &DataFrame, stage: &'static str, label_col: &str) -> Result<usize> {
    let (_, field) = schema::require_column(df.schema(), stage, label_col)?;
    schema::require_numeric(df.schema(), stage, label_col)?;
    if let Some(k) = crate::classification::LogisticRegression::label_metadata_classes(field) {
        return Ok(k);
    }
    let mut max = f64::NEG_INFINITY;
    for batch in df.partitions() {
        let lab = cast(
            schema::batch_column(batch, label_col)?.as_ref(),
            &DataType::Float64,
        )?;
        let lab = lab.as_primitive::<Float64Type>();
        for r in 0..lab.len() {
            if !lab.is_null(r) {
                let y = lab.value(r);
                // Spark's SQL max sorts NaN above every number.
                if y.is_nan() || y > max {
                    max = y;
                }
                if y.is_nan() {
                    break;
                }
            }
        }
        if max.is_nan() {
            break;
        }
    }
    if max == f64::NEG_INFINITY {
        return Err(Error::EmptyInput {
            stage,
            hint: format!(
                "the label column `{label_col}` has no non-null value; a classifier needs labelled rows"
            ),
        });
    }
    if !(max >= 0.0 && max < (MAX_INFERRED_CLASSES as f64)) {
        return Err(Error::InvalidValue {
            stage,
            column: label_col.into(),
            partition: 0,
            row: 0,
            what: format!("max label {max}"),
            hint: format!(
                "the number of classes is inferred as max label + 1, at most {MAX_INFERRED_CLASSES}; labels must be class indices 0, 1, 2, ... (apply StringIndexer to the label column, which also declares the classes in its metadata)"
            ),
        });
    }
    Ok(max as usize + 1)
}

/// The categorical features of the features column (from its ML-attribute metadata).
fn categorical(df: &DataFrame, stage: &'static str, col: &str) -> Result<HashMap<usize, usize>> {
    let (_, field) = schema::require_column(df.schema(), stage, col)?;
    Ok(categorical_features(field))
}

/// The training rows of `df` for the engine, from the shared tree params' columns.
fn instances<'d>(
    df: &'d DataFrame,
    stage: &'static str,
    tp: &DecisionTreeParams,
    kind: LabelKind,
) -> Result<Instances<'d>> {
    let weight = tp.weight_col.as_deref();
    Instances::from_frame(df, stage, &tp.features_col, &tp.label_col, weight, kind)
}

/// Spark's `Strategy` from the shared tree params.
fn strategy(
    tp: &DecisionTreeParams,
    impurity: Impurity,
    num_classes: usize,
    categorical: HashMap<usize, usize>,
) -> Strategy {
    let mut s = Strategy::new(impurity.into(), num_classes);
    s.max_depth = tp.max_depth;
    s.max_bins = tp.max_bins;
    s.min_instances_per_node = tp.min_instances_per_node;
    s.min_weight_fraction_per_node = tp.min_weight_fraction_per_node;
    s.min_info_gain = tp.min_info_gain;
    s.max_memory_in_mb = tp.max_memory_in_mb;
    s.categorical = categorical;
    s.seed = tp.seed;
    s
}

/// `thresholds` must have one value per class.
fn check_thresholds_len(stage: &'static str, ts: &Option<Vec<f64>>, k: usize) -> Result<()> {
    match ts {
        Some(t) if t.len() != k => Err(Error::param(
            stage,
            "thresholds",
            format!("one value per class ({k} classes)"),
            format!("{} values {t:?}", t.len()),
        )),
        _ => Ok(()),
    }
}

fn to_trees(
    trained: &[TrainedTree],
    num_features: usize,
    num_classes: usize,
) -> Result<Vec<DecisionTree>> {
    trained
        .iter()
        .map(|t| t.to_decision_tree(num_features, num_classes))
        .collect()
}

/// The output columns a tree estimator's model adds, for `transform_schema` before fitting.
struct Outputs<'a> {
    /// (rawPrediction, probability, number of classes) of a classifier.
    class: Option<(&'a str, &'a str, usize)>,
    /// varianceCol (DecisionTreeRegressor).
    variance: Option<&'a str>,
    /// Number of trees (the leafCol's vector length; a decision tree's leafCol is a double).
    trees: Option<usize>,
}

fn estimator_schema(
    stage: &'static str,
    input: &Schema,
    tp: &DecisionTreeParams,
    out: Outputs<'_>,
) -> Result<Schema> {
    predictor::check_fit_columns(
        stage,
        input,
        &tp.features_col,
        &tp.label_col,
        tp.weight_col.as_deref(),
    )?;
    let (cols, kind) = match out.class {
        Some((raw, prob, k)) => (
            PredictionColumns {
                features: &tp.features_col,
                prediction: &tp.prediction_col,
                raw_prediction: raw,
                probability: prob,
            },
            PredictorKind::Probabilistic { num_classes: k },
        ),
        None => (
            PredictionColumns::regression(&tp.features_col, &tp.prediction_col),
            PredictorKind::Regression,
        ),
    };
    let s = predictor::output_schema(stage, &cols, kind, input, None)?;
    tree_fields(
        s,
        stage,
        &tp.leaf_col,
        out.variance.unwrap_or(""),
        out.trees,
    )
}

/// Classes declared by the label field's metadata, else 2 (known for sure only after the
/// fit; the fitted model's schema is exact).
fn schema_classes(input: &Schema, stage: &'static str, label_col: &str) -> Result<usize> {
    let (_, f) = schema::require_column(input, stage, label_col)?;
    Ok(crate::classification::LogisticRegression::label_metadata_classes(f).unwrap_or(2))
}

/// Setters every tree estimator has (Spark's `DecisionTreeParams` and predictor columns).
macro_rules! tree_setters {
    ($ty:ident, $params:ident) => {
        impl $ty {
            /// The params, to change in place.
            pub fn params_mut(&mut self) -> &mut $params {
                &mut self.params
            }
            /// Feature vector column. Default `"features"`.
            pub fn with_features_col(mut self, c: &str) -> Self {
                self.params.features_col = c.into();
                self
            }
            /// Label column. Default `"label"`.
            pub fn with_label_col(mut self, c: &str) -> Self {
                self.params.label_col = c.into();
                self
            }
            /// Prediction column. Default `"prediction"`.
            pub fn with_prediction_col(mut self, c: &str) -> Self {
                self.params.prediction_col = c.into();
                self
            }
            /// Leaf index column (`""` = none). Default `""`.
            pub fn with_leaf_col(mut self, c: &str) -> Self {
                self.params.leaf_col = c.into();
                self
            }
            /// Maximum depth in [0, 30] (0 = a single leaf). Default 5.
            pub fn with_max_depth(mut self, d: usize) -> Self {
                self.params.max_depth = d;
                self
            }
            /// Maximum number of bins of a continuous feature, >= 2 and at least every
            /// categorical feature's number of categories. Default 32.
            pub fn with_max_bins(mut self, b: usize) -> Self {
                self.params.max_bins = b;
                self
            }
            /// Minimum number of rows of each child, >= 1. Default 1.
            pub fn with_min_instances_per_node(mut self, n: usize) -> Self {
                self.params.min_instances_per_node = n;
                self
            }
            /// Minimum fraction of the total weight of each child, in [0, 0.5). Default 0.
            pub fn with_min_weight_fraction_per_node(mut self, f: f64) -> Self {
                self.params.min_weight_fraction_per_node = f;
                self
            }
            /// Minimum information gain of a split, >= 0. Default 0.
            pub fn with_min_info_gain(mut self, g: f64) -> Self {
                self.params.min_info_gain = g;
                self
            }
            /// Memory for one group of nodes' histograms, in MB. Default 256.
            pub fn with_max_memory_in_mb(mut self, m: usize) -> Self {
                self.params.max_memory_in_mb = m;
                self
            }
            /// Spark's node-id cache switch (kept for Spark's files; no effect here).
            pub fn with_cache_node_ids(mut self, b: bool) -> Self {
                self.params.cache_node_ids = b;
                self
            }
            /// Spark's checkpoint interval (kept for Spark's files; no effect here).
            pub fn with_checkpoint_interval(mut self, i: i32) -> Self {
                self.params.checkpoint_interval = i;
                self
            }
            /// Random seed.
            pub fn with_seed(mut self, s: i64) -> Self {
                self.params.seed = s;
                self
            }
            /// Instance weight column (non-negative finite weights). Default none.
            pub fn with_weight_col(mut self, c: &str) -> Self {
                self.params.weight_col = Some(c.into());
                self
            }
        }

        impl Stage for $ty {
            fn kind(&self) -> &'static str {
                <$params as Params>::STAGE
            }
            stage_params!();
            fn transform_schema(&self, input: &Schema) -> Result<Schema> {
                self.params.validate()?;
                self.output_schema(input)
            }
        }
    };
}

/// Setters of the classifiers' output columns, thresholds and impurity.
macro_rules! classifier_setters {
    ($ty:ident) => {
        impl $ty {
            /// Raw prediction column (`""` = none). Default `"rawPrediction"`.
            pub fn with_raw_prediction_col(mut self, c: &str) -> Self {
                self.params.raw_prediction_col = c.into();
                self
            }
            /// Probability column (`""` = none). Default `"probability"`.
            pub fn with_probability_col(mut self, c: &str) -> Self {
                self.params.probability_col = c.into();
                self
            }
            /// Per-class thresholds: the prediction is the class maximising
            /// `probability / threshold`. Default none.
            pub fn with_thresholds(mut self, t: &[f64]) -> Self {
                self.params.thresholds = Some(t.to_vec());
                self
            }
        }
    };
}

/// Setters of the ensembles' sampling params.
macro_rules! ensemble_setters {
    ($ty:ident) => {
        impl $ty {
            /// Fraction of the rows each tree learns from, in (0, 1]. Default 1.
            pub fn with_subsampling_rate(mut self, r: f64) -> Self {
                self.params.subsampling_rate = r;
                self
            }
            /// Features tried per node: `auto`, `all`, `onethird`, `sqrt`, `log2`, an integer
            /// n > 0 or a fraction in (0, 1].
            pub fn with_feature_subset_strategy(mut self, s: &str) -> Self {
                self.params.feature_subset_strategy = s.into();
                self
            }
        }
    };
}

/// Setters of the forests.
macro_rules! forest_setters {
    ($ty:ident) => {
        impl $ty {
            /// Number of trees, >= 1. Default 20.
            pub fn with_num_trees(mut self, n: usize) -> Self {
                self.params.num_trees = n;
                self
            }
            /// Bootstrap (Poisson) sampling of the rows of each tree. Default true.
            pub fn with_bootstrap(mut self, b: bool) -> Self {
                self.params.bootstrap = b;
                self
            }
        }
    };
}

/// Setters of the GBTs.
macro_rules! gbt_setters {
    ($ty:ident) => {
        impl $ty {
            /// Number of boosting iterations (trees), >= 1. Default 20.
            pub fn with_max_iter(mut self, n: usize) -> Self {
                self.params.max_iter = n;
                self
            }
            /// Weight of every tree after the first (learning rate), in (0, 1]. Default 0.1.
            pub fn with_step_size(mut self, s: f64) -> Self {
                self.params.step_size = s;
                self
            }
            /// Relative improvement of the validation error below which boosting stops.
            /// Default 0.01.
            pub fn with_validation_tol(mut self, t: f64) -> Self {
                self.params.validation_tol = t;
                self
            }
            /// Boolean column marking validation rows (`true`); when set, boosting stops
            /// early on the validation error. Default none.
            pub fn with_validation_indicator_col(mut self, c: &str) -> Self {
                self.params.validation_indicator_col = Some(c.into());
                self
            }
            /// Loss: `logistic` (classifier); `squared` or `absolute` (regressor).
            pub fn with_loss_type(mut self, l: &str) -> Self {
                self.params.loss_type = l.into();
                self
            }
        }
    };
}

/// Spark's `DecisionTreeClassifier`: one classification tree (Gini or entropy).
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::classification::DecisionTreeClassifier;
/// let df = frame(vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 0.0, 1.0, 1.0])?;
/// let model = DecisionTreeClassifier::new().with_max_depth(2).fit(&df)?;
/// assert_eq!(model.num_nodes(), 3);
/// assert_eq!(model.predict(&[2.5])?, 1.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DecisionTreeClassifier {
    uid: String,
    params: DecisionTreeClassifierParams,
}

stage_basics!(
    DecisionTreeClassifier,
    DecisionTreeClassifierParams,
    "dtc",
    |uid| DecisionTreeClassifierParams::default()
);
tree_setters!(DecisionTreeClassifier, DecisionTreeClassifierParams);
classifier_setters!(DecisionTreeClassifier);

impl DecisionTreeClassifier {
    /// Impurity: `Gini` (default) or `Entropy`.
    pub fn with_impurity(mut self, i: Impurity) -> Self {
        self.params.impurity = i;
        self
    }
    /// Merge sibling leaves with equal predictions after growing. Default true.
    pub fn with_prune_tree(mut self, b: bool) -> Self {
        self.params.prune_tree = b;
        self
    }
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        let k = schema_classes(input, Self::STAGE, &p.label_col)?;
        estimator_schema(
            Self::STAGE,
            input,
            &p.tree(),
            Outputs {
                class: Some((&p.raw_prediction_col, &p.probability_col, k)),
                variance: None,
                trees: None,
            },
        )
    }
    const STAGE: &'static str = DecisionTreeClassifierParams::STAGE;
}

impl Estimator for DecisionTreeClassifier {
    type Model = DecisionTreeClassificationModel;

    fn fit(&self, df: &DataFrame) -> Result<DecisionTreeClassificationModel> {
        let stage = Self::STAGE;
        let p = &self.params;
        p.validate()?;
        let tp = p.tree();
        let k = num_classes(df, stage, &tp.label_col)?;
        check_thresholds_len(stage, &p.thresholds, k)?;
        let inst = instances(df, stage, &tp, LabelKind::Classes(k))?;
        let mut s = strategy(
            &tp,
            p.impurity,
            k,
            categorical(df, stage, &tp.features_col)?,
        );
        s.prune = p.prune_tree;
        let trained = train_forest(stage, &inst, &s, 1, "all")?;
        let mut trees = to_trees(&trained, inst.num_features(), k)?;
        DecisionTreeClassificationModel::new(self.uid.clone(), p.clone(), trees.remove(0))
    }
}

/// Spark's `DecisionTreeRegressor`: one regression tree (variance impurity).
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::regression::DecisionTreeRegressor;
/// let df = frame(vec![0.0, 1.0, 2.0, 3.0], vec![1.0, 1.0, 3.0, 3.0])?;
/// let model = DecisionTreeRegressor::new().fit(&df)?;
/// assert_eq!(model.predict(&[0.5])?, 1.0);
/// assert_eq!(model.predict(&[2.5])?, 3.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DecisionTreeRegressor {
    uid: String,
    params: DecisionTreeRegressorParams,
}

stage_basics!(
    DecisionTreeRegressor,
    DecisionTreeRegressorParams,
    "dtr",
    |uid| DecisionTreeRegressorParams::default()
);
tree_setters!(DecisionTreeRegressor, DecisionTreeRegressorParams);

impl DecisionTreeRegressor {
    const STAGE: &'static str = DecisionTreeRegressorParams::STAGE;
    /// Column for the variance of the training labels in the row's leaf. Default none.
    pub fn with_variance_col(mut self, c: &str) -> Self {
        self.params.variance_col = Some(c.into());
        self
    }
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        estimator_schema(
            Self::STAGE,
            input,
            &p.tree(),
            Outputs {
                class: None,
                variance: p.variance_col.as_deref(),
                trees: None,
            },
        )
    }
}

impl Estimator for DecisionTreeRegressor {
    type Model = DecisionTreeRegressionModel;

    fn fit(&self, df: &DataFrame) -> Result<DecisionTreeRegressionModel> {
        let stage = Self::STAGE;
        let p = &self.params;
        p.validate()?;
        let tp = p.tree();
        let inst = instances(df, stage, &tp, LabelKind::Regression)?;
        let s = strategy(
            &tp,
            p.impurity,
            0,
            categorical(df, stage, &tp.features_col)?,
        );
        let trained = train_forest(stage, &inst, &s, 1, "all")?;
        let mut trees = to_trees(&trained, inst.num_features(), 0)?;
        DecisionTreeRegressionModel::new(self.uid.clone(), p.clone(), trees.remove(0))
    }
}

/// Spark's `RandomForestClassifier`: bagged classification trees with feature subsets;
/// the probability averages the trees' normalised leaf class distributions.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::classification::RandomForestClassifier;
/// let xs: Vec<f64> = (0..40).map(f64::from).collect();
/// let df = frame(xs.clone(), xs.iter().map(|x| f64::from(*x >= 20.0)).collect())?;
/// let model = RandomForestClassifier::new().with_num_trees(5).with_seed(7).fit(&df)?;
/// assert_eq!(model.num_trees(), 5);
/// assert_eq!(model.predict(&[35.0])?, 1.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RandomForestClassifier {
    uid: String,
    params: RandomForestClassifierParams,
}

stage_basics!(
    RandomForestClassifier,
    RandomForestClassifierParams,
    "rfc",
    |uid| RandomForestClassifierParams::default()
);
tree_setters!(RandomForestClassifier, RandomForestClassifierParams);
classifier_setters!(RandomForestClassifier);
ensemble_setters!(RandomForestClassifier);
forest_setters!(RandomForestClassifier);

impl RandomForestClassifier {
    const STAGE: &'static str = RandomForestClassifierParams::STAGE;
    /// Impurity: `Gini` (default) or `Entropy`.
    pub fn with_impurity(mut self, i: Impurity) -> Self {
        self.params.impurity = i;
        self
    }
    /// Merge sibling leaves with equal predictions after growing. Default true.
    pub fn with_prune_tree(mut self, b: bool) -> Self {
        self.params.prune_tree = b;
        self
    }
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        let k = schema_classes(input, Self::STAGE, &p.label_col)?;
        estimator_schema(
            Self::STAGE,
            input,
            &p.tree(),
            Outputs {
                class: Some((&p.raw_prediction_col, &p.probability_col, k)),
                variance: None,
                trees: Some(p.num_trees),
            },
        )
    }
}

impl Estimator for RandomForestClassifier {
    type Model = RandomForestClassificationModel;

    fn fit(&self, df: &DataFrame) -> Result<RandomForestClassificationModel> {
        let stage = Self::STAGE;
        let p = &self.params;
        p.validate()?;
        let tp = p.tree();
        let k = num_classes(df, stage, &tp.label_col)?;
        check_thresholds_len(stage, &p.thresholds, k)?;
        let inst = instances(df, stage, &tp, LabelKind::Classes(k))?;
        let mut s = strategy(
            &tp,
            p.impurity,
            k,
            categorical(df, stage, &tp.features_col)?,
        );
        s.prune = p.prune_tree;
        s.subsampling_rate = p.subsampling_rate;
        s.bootstrap = p.bootstrap;
        let trained = train_forest(stage, &inst, &s, p.num_trees, &p.feature_subset_strategy)?;
        let n = inst.num_features();
        let trees = to_trees(&trained, n, k)?;
        let weights = vec![1.0; trees.len()];
        RandomForestClassificationModel::new(
            self.uid.clone(),
            p.clone(),
            TreeEnsemble::new(trees, weights, n, k)?,
        )
    }
}

/// Spark's `RandomForestRegressor`: bagged regression trees with feature subsets; the
/// prediction is the trees' mean.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::regression::RandomForestRegressor;
/// let xs: Vec<f64> = (0..40).map(f64::from).collect();
/// let df = frame(xs.clone(), xs.iter().map(|x| if *x < 20.0 { 1.0 } else { 5.0 }).collect())?;
/// let model = RandomForestRegressor::new().with_num_trees(4).fit(&df)?;
/// assert_eq!(model.num_trees(), 4);
/// assert!(model.predict(&[39.0])? > 3.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RandomForestRegressor {
    uid: String,
    params: RandomForestRegressorParams,
}

stage_basics!(
    RandomForestRegressor,
    RandomForestRegressorParams,
    "rfr",
    |uid| RandomForestRegressorParams::default()
);
tree_setters!(RandomForestRegressor, RandomForestRegressorParams);
ensemble_setters!(RandomForestRegressor);
forest_setters!(RandomForestRegressor);

impl RandomForestRegressor {
    const STAGE: &'static str = RandomForestRegressorParams::STAGE;
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        estimator_schema(
            Self::STAGE,
            input,
            &p.tree(),
            Outputs {
                class: None,
                variance: None,
                trees: Some(p.num_trees),
            },
        )
    }
}

impl Estimator for RandomForestRegressor {
    type Model = RandomForestRegressionModel;

    fn fit(&self, df: &DataFrame) -> Result<RandomForestRegressionModel> {
        let stage = Self::STAGE;
        let p = &self.params;
        p.validate()?;
        let tp = p.tree();
        let inst = instances(df, stage, &tp, LabelKind::Regression)?;
        let mut s = strategy(
            &tp,
            p.impurity,
            0,
            categorical(df, stage, &tp.features_col)?,
        );
        s.subsampling_rate = p.subsampling_rate;
        s.bootstrap = p.bootstrap;
        let trained = train_forest(stage, &inst, &s, p.num_trees, &p.feature_subset_strategy)?;
        let n = inst.num_features();
        let trees = to_trees(&trained, n, 0)?;
        let weights = vec![1.0; trees.len()];
        RandomForestRegressionModel::new(
            self.uid.clone(),
            p.clone(),
            TreeEnsemble::new(trees, weights, n, 0)?,
        )
    }
}

/// The training rows and, with a validation indicator column, the validation rows (Spark
/// filters each partition, so partitions keep their indices).
fn split_validation(
    df: &DataFrame,
    stage: &'static str,
    col: Option<&str>,
) -> Result<(DataFrame, Option<DataFrame>)> {
    let Some(col) = col.filter(|c| !c.is_empty()) else {
        return Ok((df.clone(), None));
    };
    let flags = indicator(df, stage, col)?;
    let mut train = Vec::with_capacity(df.num_partitions());
    let mut valid = Vec::with_capacity(df.num_partitions());
    let mut start = 0;
    for batch in df.partitions() {
        let mask = BooleanArray::from(flags[start..start + batch.num_rows()].to_vec());
        start += batch.num_rows();
        valid.push(filter_record_batch(batch, &mask)?);
        train.push(filter_record_batch(batch, &not(&mask)?)?);
    }
    let train = DataFrame::try_new(df.schema().clone(), train)?;
    let valid = DataFrame::try_new(df.schema().clone(), valid)?;
    if valid.num_rows() == 0 || train.num_rows() == 0 {
        return Err(Error::EmptyInput {
            stage,
            hint: format!(
                "validationIndicatorCol `{col}` marks {} of {} rows as validation rows; both the training and the validation set need rows",
                valid.num_rows(),
                df.num_rows()
            ),
        });
    }
    Ok((train, Some(valid)))
}

/// The params both GBT estimators share (Spark's `GBTParams`), read off either params
/// struct by [`gbt_params!`]: what their one schema and fit functions take.
struct Gbt<'a> {
    stage: &'static str,
    tree: DecisionTreeParams,
    impurity: Impurity,
    subsampling_rate: f64,
    validation_col: Option<&'a str>,
    boosting: Boosting,
}

/// `fn gbt(&self) -> Gbt` for a GBT params struct (both have the same field names).
macro_rules! gbt_params {
    ($params:ty) => {
        impl $params {
            fn gbt(&self) -> Gbt<'_> {
                Gbt {
                    stage: <$params as Params>::STAGE,
                    tree: self.tree(),
                    impurity: self.impurity,
                    subsampling_rate: self.subsampling_rate,
                    validation_col: self
                        .validation_indicator_col
                        .as_deref()
                        .filter(|c| !c.is_empty()),
                    boosting: Boosting {
                        // `lossType` was validated: logistic (classifier), squared or
                        // absolute (regressor), any case.
                        loss: match self.loss_type.to_ascii_lowercase().as_str() {
                            "logistic" => Loss::Logistic,
                            "absolute" => Loss::Absolute,
                            _ => Loss::Squared,
                        },
                        max_iter: self.max_iter,
                        step_size: self.step_size,
                        validation_tol: self.validation_tol,
                        feature_subset_strategy: self.feature_subset_strategy.clone(),
                    },
                }
            }
        }
    };
}
gbt_params!(GBTClassifierParams);
gbt_params!(GBTRegressorParams);

/// Either GBT estimator's output schema before fitting; `class` = (rawPrediction,
/// probability) columns of the classifier.
fn gbt_output_schema(g: &Gbt<'_>, input: &Schema, class: Option<(&str, &str)>) -> Result<Schema> {
    if let Some(v) = g.validation_col {
        schema::require_column(input, g.stage, v)?;
    }
    estimator_schema(
        g.stage,
        input,
        &g.tree,
        Outputs {
            class: class.map(|(raw, prob)| (raw, prob, 2)),
            variance: None,
            trees: Some(g.boosting.max_iter),
        },
    )
}

/// Fits the GBT trees of either GBT estimator (the classifier's labels are classes 0 and
/// 1, the regressor's any finite numbers).
fn fit_gbt(df: &DataFrame, g: Gbt<'_>, kind: LabelKind) -> Result<TreeEnsemble> {
    let (stage, tp) = (g.stage, &g.tree);
    let (train, valid) = split_validation(df, stage, g.validation_col)?;
    let inst = instances(&train, stage, tp, kind)?;
    let vinst = match &valid {
        Some(v) => Some(instances(v, stage, tp, kind)?),
        None => None,
    };
    let mut s = strategy(tp, g.impurity, 0, categorical(df, stage, &tp.features_col)?);
    s.subsampling_rate = g.subsampling_rate;
    let fitted = train_gbt(stage, &inst, vinst.as_ref(), &s, &g.boosting)?;
    let n = inst.num_features();
    TreeEnsemble::new(to_trees(&fitted.trees, n, 0)?, fitted.weights, n, 0)
}

/// Spark's `GBTClassifier`: gradient-boosted regression trees on the logistic loss, for
/// labels 0 and 1; probability = 1 / (1 + e^(−2·margin)).
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::classification::GBTClassifier;
/// let xs: Vec<f64> = (0..40).map(f64::from).collect();
/// let df = frame(xs.clone(), xs.iter().map(|x| f64::from(*x >= 20.0)).collect())?;
/// let model = GBTClassifier::new().with_max_iter(5).fit(&df)?;
/// assert_eq!(model.num_trees(), 5);
/// assert_eq!(model.tree_weights()[..2], [1.0, 0.1]);
/// assert_eq!(model.predict(&[30.0])?, 1.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GBTClassifier {
    uid: String,
    params: GBTClassifierParams,
}

stage_basics!(GBTClassifier, GBTClassifierParams, "gbtc", |uid| {
    GBTClassifierParams::default()
});
tree_setters!(GBTClassifier, GBTClassifierParams);
classifier_setters!(GBTClassifier);
ensemble_setters!(GBTClassifier);
gbt_setters!(GBTClassifier);

impl GBTClassifier {
    const STAGE: &'static str = GBTClassifierParams::STAGE;
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        gbt_output_schema(
            &p.gbt(),
            input,
            Some((&p.raw_prediction_col, &p.probability_col)),
        )
    }
}

impl Estimator for GBTClassifier {
    type Model = GBTClassificationModel;

    fn fit(&self, df: &DataFrame) -> Result<GBTClassificationModel> {
        let p = &self.params;
        p.validate()?;
        check_thresholds_len(Self::STAGE, &p.thresholds, 2)?;
        let ensemble = fit_gbt(df, p.gbt(), LabelKind::Classes(2))?;
        GBTClassificationModel::new(self.uid.clone(), p.clone(), ensemble)
    }
}

/// Spark's `GBTRegressor`: gradient-boosted regression trees on the squared (default) or
/// absolute loss.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{Float64Array, RecordBatch};
/// # use mlpipe::arrow::datatypes::{DataType, Field, Schema};
/// # use mlpipe::frame::vector;
/// # fn frame(xs: Vec<f64>, ys: Vec<f64>) -> mlpipe::Result<mlpipe::frame::DataFrame> {
/// #     let schema = Arc::new(Schema::new(vec![
/// #         vector::vector_field("features", 1, false),
/// #         Field::new("label", DataType::Float64, false),
/// #     ]));
/// #     let f = vector::vector_array(xs, 1, None)?;
/// #     let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(f), Arc::new(Float64Array::from(ys))])?;
/// #     mlpipe::frame::DataFrame::try_new(schema, vec![b])
/// # }
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::regression::GBTRegressor;
/// let xs: Vec<f64> = (0..40).map(f64::from).collect();
/// let df = frame(xs.clone(), xs.iter().map(|x| if *x < 20.0 { 1.0 } else { 5.0 }).collect())?;
/// let model = GBTRegressor::new().with_max_iter(3).fit(&df)?;
/// // The first tree fits the labels exactly; the others fit zero residuals.
/// assert_eq!(model.predict(&[0.0])?, 1.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GBTRegressor {
    uid: String,
    params: GBTRegressorParams,
}

stage_basics!(GBTRegressor, GBTRegressorParams, "gbtr", |uid| {
    GBTRegressorParams::default()
});
tree_setters!(GBTRegressor, GBTRegressorParams);
ensemble_setters!(GBTRegressor);
gbt_setters!(GBTRegressor);

impl GBTRegressor {
    fn output_schema(&self, input: &Schema) -> Result<Schema> {
        gbt_output_schema(&self.params.gbt(), input, None)
    }
}

impl Estimator for GBTRegressor {
    type Model = GBTRegressionModel;

    fn fit(&self, df: &DataFrame) -> Result<GBTRegressionModel> {
        let p = &self.params;
        p.validate()?;
        let ensemble = fit_gbt(df, p.gbt(), LabelKind::Regression)?;
        GBTRegressionModel::new(self.uid.clone(), p.clone(), ensemble)
    }
}

crate::persist::spark_params_only!(
    DecisionTreeClassifier,
    "org.apache.spark.ml.classification.DecisionTreeClassifier"
);
crate::persist::spark_params_only!(
    DecisionTreeRegressor,
    "org.apache.spark.ml.regression.DecisionTreeRegressor"
);
crate::persist::spark_params_only!(
    RandomForestClassifier,
    "org.apache.spark.ml.classification.RandomForestClassifier"
);
crate::persist::spark_params_only!(
    RandomForestRegressor,
    "org.apache.spark.ml.regression.RandomForestRegressor"
);
crate::persist::spark_params_only!(
    GBTClassifier,
    "org.apache.spark.ml.classification.GBTClassifier"
);
crate::persist::spark_params_only!(GBTRegressor, "org.apache.spark.ml.regression.GBTRegressor");

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;
    use crate::frame::vector;

    /// One feature `x = i`, label `f(i)`, validation flag `i % 3 == 0`.
    fn frame(n: usize, label: impl Fn(usize) -> f64) -> DataFrame {
        let schema = Arc::new(Schema::new(vec![
            vector::vector_field("features", 1, false),
            Field::new("label", DataType::Float64, false),
            Field::new("val", DataType::Boolean, false),
        ]));
        let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let cols: Vec<ArrayRef> = vec![
            Arc::new(vector::vector_array(xs, 1, None).unwrap()),
            Arc::new(Float64Array::from_iter_values((0..n).map(label))),
            Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 0)))),
        ];
        let b = RecordBatch::try_new(schema.clone(), cols).unwrap();
        DataFrame::try_new(schema, vec![b]).unwrap()
    }

    #[test]
    fn classes_are_inferred_from_the_max_label_up_to_100() {
        let df = frame(10, |i| (i % 4) as f64);
        let m = RandomForestClassifier::new()
            .with_num_trees(2)
            .fit(&df)
            .unwrap();
        assert_eq!(m.num_classes(), 4);
        let err = DecisionTreeClassifier::new()
            .fit(&frame(10, |i| if i == 7 { 100.0 } else { 0.0 }))
            .unwrap_err();
        assert!(
            err.to_string().contains("DecisionTreeClassifier")
                && err.to_string().contains("max label 100")
                && err.to_string().contains("at most 100"),
            "{err}"
        );
        let err = DecisionTreeClassifier::new()
            .fit(&frame(10, |i| if i == 7 { 1.5 } else { 0.0 }))
            .unwrap_err();
        assert!(err.to_string().contains("label 1.5"), "{err}");
    }

    #[test]
    fn thresholds_need_one_value_per_class() {
        let err = RandomForestClassifier::new()
            .with_thresholds(&[0.5, 0.5, 0.5])
            .fit(&frame(10, |i| (i % 2) as f64))
            .unwrap_err();
        assert!(
            err.to_string().contains("thresholds")
                && err.to_string().contains("one value per class (2 classes)"),
            "{err}"
        );
    }

    #[test]
    fn gbt_validation_rows_stop_boosting_and_are_not_trained_on() {
        // A step at 30: after a few trees the validation error stops improving.
        let df = frame(60, |i| if i < 30 { 1.0 } else { 5.0 });
        let all = GBTRegressor::new().with_max_iter(30).fit(&df).unwrap();
        assert_eq!(all.num_trees(), 30);
        let early = GBTRegressor::new()
            .with_max_iter(30)
            .with_validation_indicator_col("val")
            .fit(&df)
            .unwrap();
        assert!(early.num_trees() < 30, "{}", early.num_trees());
        // The first tree saw only the 40 training rows.
        assert_eq!(early.trees()[0].root().raw_count, 40);
        let err = GBTClassifier::new()
            .with_validation_indicator_col("nope")
            .fit(&frame(6, |i| (i % 2) as f64))
            .unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
        let err = GBTRegressor::new()
            .with_validation_indicator_col("val")
            .fit(&frame(1, |_| 1.0))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("validationIndicatorCol `val` marks 1 of 1 rows"),
            "{err}"
        );
    }

    #[test]
    fn gbt_classifier_takes_labels_0_and_1_only() {
        let err = GBTClassifier::new()
            .fit(&frame(6, |i| (i % 3) as f64))
            .unwrap_err();
        assert!(
            err.to_string().contains("GBTClassifier") && err.to_string().contains("label 2"),
            "{err}"
        );
    }
}
