//! The pipeline traits — [`Stage`], [`Transformer`], [`Estimator`], [`Model`],
//! [`Evaluator`] — and [`Pipeline`] / [`PipelineModel`].
//!
//! As in Spark ML, every stage answers [`Stage::transform_schema`] without reading data,
//! so a pipeline checks its whole chain before it fits anything; an estimator's `fit`
//! returns a different type (its model), so an unfitted model cannot exist.

#[allow(clippy::module_inception)]
mod pipeline;

use std::any::Any;
use std::fmt::Debug;

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
}

/// A stage that maps a [`DataFrame`] to a new one (usually with one more column).
pub trait Transformer: Stage {
    /// Transforms `df`; the input is never modified.
    fn transform(&self, df: &DataFrame) -> Result<DataFrame>;

    /// A boxed copy of this transformer.
    fn clone_box(&self) -> Box<dyn Transformer>;
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
