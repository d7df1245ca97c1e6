//! The one place that knows the model types. For each fitted predictor it gives the
//! evaluator kind, the label and output columns, and a summary; every command asks here,
//! so a new model type is one entry in [`PREDICTORS`] (a function recognising it).

use std::any::Any;

use mlpipe::classification::LogisticRegressionModel;
use mlpipe::evaluation::{BinaryMetric, MulticlassMetric, RegressionMetric};
use mlpipe::optim::StopReason;
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidatorModel, TrainValidationSplitModel};
use serde_json::{json, Map, Value};

/// Which of Spark's evaluators scores a model's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvaluatorKind {
    /// Two classes: `BinaryClassificationEvaluator`, and the multiclass metrics too.
    Binary,
    /// More classes: `MulticlassClassificationEvaluator`.
    Multiclass,
    /// A real-valued label: `RegressionEvaluator`.
    Regression,
}

impl EvaluatorKind {
    /// Every metric name `--metric` accepts for this kind (Spark's names).
    pub fn metrics(self) -> Vec<&'static str> {
        match self {
            EvaluatorKind::Binary => BinaryMetric::ALL
                .iter()
                .map(|m| m.name())
                .chain(MulticlassMetric::ALL.iter().map(|m| m.name()))
                .collect(),
            EvaluatorKind::Multiclass => MulticlassMetric::ALL.iter().map(|m| m.name()).collect(),
            EvaluatorKind::Regression => RegressionMetric::ALL.iter().map(|m| m.name()).collect(),
        }
    }

    /// The metric `evaluate` prints without `--metric` (Spark's evaluator default).
    pub fn default_metric(self) -> &'static str {
        match self {
            EvaluatorKind::Binary => "areaUnderROC",
            EvaluatorKind::Multiclass => "f1",
            EvaluatorKind::Regression => "rmse",
        }
    }

    /// The metrics `train` reports on its training and held-out rows.
    pub fn report_metrics(self) -> &'static [&'static str] {
        match self {
            EvaluatorKind::Binary => &["areaUnderROC", "areaUnderPR", "accuracy", "f1", "logLoss"],
            EvaluatorKind::Multiclass => &["accuracy", "f1", "logLoss"],
            EvaluatorKind::Regression => &["rmse", "r2", "mae"],
        }
    }

    /// The name printed in messages.
    pub fn name(self) -> &'static str {
        match self {
            EvaluatorKind::Binary => "binary classification",
            EvaluatorKind::Multiclass => "multiclass classification",
            EvaluatorKind::Regression => "regression",
        }
    }
}

/// A model's fitted values as JSON, given its feature names.
pub type FittedValues = Box<dyn Fn(&[String]) -> Value>;

/// What the commands need to know about one fitted predictor stage.
pub struct Predictor {
    /// Spark's class name of the model.
    pub class: &'static str,
    /// The evaluator that scores it.
    pub kind: EvaluatorKind,
    /// Its label column param.
    pub label_col: String,
    /// Its features column param.
    pub features_col: String,
    /// The columns it adds, in Spark's order (prediction first).
    pub output_cols: Vec<String>,
    /// `probabilityCol` when it has one (for logLoss).
    pub probability_col: Option<String>,
    /// `rawPredictionCol` when it has one (for the binary metrics).
    pub raw_prediction_col: Option<String>,
    /// The fitted values, by Spark's names, given the feature names.
    pub fitted: FittedValues,
    /// Number of features the model takes.
    pub num_features: usize,
    /// The training summary when it was fitted in this process (iterations, objective...).
    pub fit_summary: Option<Value>,
    /// Feature names from the training summary, when fitted in this process.
    pub feature_names: Option<Vec<String>>,
    /// `Some(false)` when the optimiser stopped at its iteration limit without converging.
    pub converged: Option<bool>,
}

/// Recognises one model type.
type Recognise = fn(&dyn Transformer) -> Option<Predictor>;

/// One entry per model type; the first that recognises a stage describes it.
const PREDICTORS: &[Recognise] = &[logistic_regression];

/// The predictor description of `stage`, if it is a known model type.
pub fn predictor(stage: &dyn Transformer) -> Option<Predictor> {
    PREDICTORS.iter().find_map(|f| f(stage))
}

/// The stages of a model: a PipelineModel's, a validator model's best model's, or the
/// model itself.
pub fn stages(model: &dyn Transformer) -> Vec<&dyn Transformer> {
    let any = model as &dyn Any;
    if let Some(cv) = any.downcast_ref::<CrossValidatorModel<PipelineModel>>() {
        return stages(cv.best_model());
    }
    if let Some(tvs) = any.downcast_ref::<TrainValidationSplitModel<PipelineModel>>() {
        return stages(tvs.best_model());
    }
    match any.downcast_ref::<PipelineModel>() {
        Some(p) => p.stages().iter().map(|s| s.as_ref()).collect(),
        None => vec![model],
    }
}

/// The last predictor of a model and its stage index.
pub fn last_predictor(model: &dyn Transformer) -> Option<(usize, Predictor)> {
    stages(model)
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, s)| predictor(*s).map(|p| (i, p)))
}

/// Names `values` (one per feature) by `names` when the counts agree, else by index.
pub fn by_name(names: &[String], values: &[f64]) -> Value {
    let mut m = Map::new();
    for (i, v) in values.iter().enumerate() {
        let key = if names.len() == values.len() {
            names[i].clone()
        } else {
            format!("feature_{i}")
        };
        m.insert(key, json!(v));
    }
    Value::Object(m)
}

fn logistic_regression(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any)
        .downcast_ref::<LogisticRegressionModel>()?
        .clone();
    let p = m.params().clone();
    let summary = m.summary().cloned();
    let converged = summary
        .as_ref()
        .and_then(|s| s.stop_reason)
        .map(|r| r != StopReason::MaxIterations);
    let fit_summary = summary.as_ref().map(|s| {
        json!({
            "totalIterations": s.total_iterations,
            "objectiveHistory": s.objective_history,
            "finalObjective": s.objective_history.last(),
            "stopReason": s.stop_reason.map(|r| format!("{r:?}")),
        })
    });
    let n = m.num_features();
    let model = m.clone();
    Some(Predictor {
        class: "LogisticRegressionModel",
        kind: if m.num_classes() <= 2 {
            EvaluatorKind::Binary
        } else {
            EvaluatorKind::Multiclass
        },
        label_col: p.label_col.clone(),
        features_col: p.features_col.clone(),
        output_cols: [&p.prediction_col, &p.probability_col, &p.raw_prediction_col]
            .into_iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect(),
        probability_col: Some(p.probability_col.clone()),
        raw_prediction_col: Some(p.raw_prediction_col.clone()),
        fitted: Box::new(move |names| {
            let rows: Vec<Value> = model
                .coefficient_matrix()
                .chunks(model.num_features().max(1))
                .map(|row| by_name(names, row))
                .collect();
            if model.is_multinomial() {
                json!({"numClasses": model.num_classes(), "numFeatures": model.num_features(),
                       "coefficientMatrix": rows, "interceptVector": model.intercept_vector()})
            } else {
                json!({"numClasses": model.num_classes(), "numFeatures": model.num_features(),
                       "coefficients": rows.first(), "intercept": model.intercept_vector().first()})
            }
        }),
        num_features: n,
        fit_summary,
        feature_names: summary.map(|s| s.feature_names),
        converged,
    })
}
