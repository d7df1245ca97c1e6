//! The pipeline traits — [`Stage`], [`Transformer`], [`Estimator`], [`Model`],
//! [`Evaluator`] — and [`Pipeline`] / [`PipelineModel`].
//!
//! As in Spark ML, every stage answers [`Stage::transform_schema`] without reading data,
//! so a pipeline checks its whole chain before it fits anything; an estimator's `fit`
//! returns a different type (its model), so an unfitted model cannot exist.

#[allow(clippy::module_inception)]
mod pipeline;
pub(crate) mod view;

use std::any::Any;
use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use arrow::datatypes::Schema;
use serde_json::Value;

use crate::error::Result;
use crate::frame::DataFrame;

pub use pipeline::{Pipeline, PipelineModel, PipelineStage};

/// Anything that can sit in a pipeline.
pub trait Stage: Any + Debug + Send + Sync {
    /// Spark's class name of the stage ("VectorAssembler", "LogisticRegressionModel").
    fn kind(&self) -> &'static str;

    /// The stage's unique id (Spark's `uid`; a fitted model keeps its estimator's).
    fn uid(&self) -> &str;

    /// Checks the params and the input columns and returns the output schema, without
    /// reading any data. For an estimator this is the schema its model will output.
    fn transform_schema(&self, input: &Schema) -> Result<Schema>;

    /// The params as a JSON object keyed by Spark's param names.
    fn params_json(&self) -> Value;

    /// Sets one param by its Spark name from JSON; validates it, and on error leaves the
    /// stage unchanged.
    fn set_param_json(&mut self, name: &str, value: Value) -> Result<()>;

    /// The `(input, output)` column pairs this stage skips on `input` because the input
    /// column is missing (Spark's `StringIndexerModel` skips a missing column, so a
    /// pipeline that indexes its label scores unlabelled data). Empty for the stages that
    /// need every input, which is the default. [`PipelineModel`] uses it to report a
    /// skipped column that a later stage needs at the stage that lost it.
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        let _ = input;
        Vec::new()
    }
}

/// A stage that maps a [`DataFrame`] to a new one (usually with one more column).
pub trait Transformer: Stage {
    /// Transforms `df`; the input is never modified.
    fn transform(&self, df: &DataFrame) -> Result<DataFrame>;

    /// A boxed copy of this transformer.
    fn clone_box(&self) -> Box<dyn Transformer>;
}

impl dyn Transformer {
    /// This stage as its concrete type, or `None` if it has another type.
    ///
    /// ```
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::VectorAssembler;
    /// let t: Box<dyn Transformer> = Box::new(VectorAssembler::new());
    /// assert!(t.downcast_ref::<VectorAssembler>().is_some());
    /// assert!(t.downcast_ref::<PipelineModel>().is_none());
    /// ```
    pub fn downcast_ref<T: Transformer>(&self) -> Option<&T> {
        (self as &dyn Any).downcast_ref::<T>()
    }
}

/// A fitted stage: a [`Transformer`] produced by an [`Estimator`].
pub trait Model: Transformer {
    /// A boxed copy of this model.
    fn clone_model(&self) -> Box<dyn Model>;
}

/// A stage that learns a [`Model`] from data.
pub trait Estimator: Stage + Clone {
    /// The fitted type.
    type Model: Model;

    /// Fits a model on `df`.
    fn fit(&self, df: &DataFrame) -> Result<Self::Model>;
}

/// Object-safe form of [`Estimator`], used by [`Pipeline`] (an associated type cannot be
/// boxed). Implemented for every `Estimator`.
pub trait DynEstimator: Stage {
    /// Fits and boxes the model.
    fn fit_dyn(&self, df: &DataFrame) -> Result<Box<dyn Model>>;
    /// A boxed copy of this estimator.
    fn clone_dyn(&self) -> Box<dyn DynEstimator>;
}

impl<E: Estimator> DynEstimator for E {
    fn fit_dyn(&self, df: &DataFrame) -> Result<Box<dyn Model>> {
        Ok(Box::new(self.fit(df)?))
    }
    fn clone_dyn(&self) -> Box<dyn DynEstimator> {
        Box::new(self.clone())
    }
}

/// Computes one metric from a scored [`DataFrame`]. Like Spark's, an evaluator has params
/// but is not a pipeline stage.
pub trait Evaluator: Debug + Send + Sync {
    /// Evaluates the metric on `df`.
    fn evaluate(&self, df: &DataFrame) -> Result<f64>;
    /// Whether a larger value of the metric is better (for tuning).
    fn is_larger_better(&self) -> bool {
        true
    }
    /// The evaluator's Spark writer, if it can be saved (all of mlpipe's evaluators can);
    /// the tuning validators save their evaluator through it.
    fn persistable(&self) -> Option<&dyn crate::persist::Persist> {
        None
    }
    /// The columns [`evaluate`](Self::evaluate) reads, when the evaluator knows them (all
    /// of mlpipe's do); `None`, the default, means it may read any column. The tuning
    /// validators keep only these and the ones the fits read in the validation rows.
    ///
    /// ```
    /// use mlpipe::prelude::*;
    /// use mlpipe::evaluation::BinaryClassificationEvaluator;
    /// let e = BinaryClassificationEvaluator::new().with_label_col("churn");
    /// assert_eq!(e.input_columns(), Some(vec!["rawPrediction".to_string(), "churn".to_string()]));
    /// ```
    fn input_columns(&self) -> Option<Vec<String>> {
        None
    }
}

/// Keys of the warnings a model has logged, shared by its clones, so that a serving loop
/// logs a warning once per loaded model rather than on every call. Not part of the model's
/// identity: any two compare equal.
#[derive(Clone, Default)]
pub(crate) struct WarnOnce(Arc<Mutex<HashSet<String>>>);

impl WarnOnce {
    /// True the first time `key` is seen (then the caller logs).
    pub(crate) fn first(&self, key: &str) -> bool {
        match self.0.lock() {
            Ok(mut seen) => seen.insert(key.to_string()),
            Err(_) => true,
        }
    }
}

impl PartialEq for WarnOnce {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Debug for WarnOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WarnOnce")
    }
}

/// Implements the params plumbing of [`Stage`] for a struct with `uid: String` and
/// `params: impl Params` fields.
macro_rules! stage_params {
    () => {
        fn uid(&self) -> &str {
            &self.uid
        }
        fn params_json(&self) -> serde_json::Value {
            $crate::param::Params::to_json(&self.params)
        }
        fn set_param_json(&mut self, name: &str, value: serde_json::Value) -> $crate::Result<()> {
            $crate::param::Params::set_param(&mut self.params, name, value)
        }
    };
}
pub(crate) use stage_params;

/// The columns of `schema` among `candidates` that no estimator of `ests` reads: a column
/// counts as unread when every estimator's `transform_schema` (which checks each input
/// column, including the label and weight it fits on) succeeds without it and gives the
/// same output schema less that column (so a stage whose output depends on which columns
/// there are, such as a formula over all columns, keeps them all). Dropping them before
/// a fit frees copies the fit does not need, such as the raw columns an assembler has
/// read or the assembler's output once a scaler has read it ([`Pipeline`]'s fit and the
/// tuning validators do).
pub(crate) fn unread_columns<E: Stage>(
    schema: &arrow::datatypes::Schema,
    ests: &[E],
    candidates: impl Fn(&arrow::datatypes::Field) -> bool,
) -> Vec<String> {
    use arrow::datatypes::Schema;
    let without = |s: &Schema, c: &str| {
        let fields: Vec<_> = s
            .fields()
            .iter()
            .filter(|f| f.name() != c)
            .cloned()
            .collect();
        Schema::new_with_metadata(fields, s.metadata().clone())
    };
    let Ok(mut outputs) = ests
        .iter()
        .map(|e| e.transform_schema(schema))
        .collect::<Result<Vec<_>>>()
    else {
        return Vec::new();
    };
    let mut schema = schema.clone();
    let mut unused = Vec::new();
    let names: Vec<String> = schema
        .fields()
        .iter()
        .filter(|f| candidates(f))
        .map(|f| f.name().clone())
        .collect();
    for c in names {
        let input = without(&schema, &c);
        let expected: Vec<Schema> = outputs.iter().map(|o| without(o, &c)).collect();
        let same = ests.iter().zip(&expected).all(|(e, want)| {
            e.transform_schema(&input)
                .is_ok_and(|got| got.fields() == want.fields())
        });
        if same {
            schema = input;
            outputs = expected;
            unused.push(c);
        }
    }
    unused
}
