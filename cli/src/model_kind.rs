//! The one place that knows the model types. For each fitted predictor it gives the
//! evaluator kind, the label and output columns, and a summary; every command asks here,
//! so a new model type is one entry in [`PREDICTORS`] (a function recognising it).

use std::any::Any;

use mlpipe::classification::{
    LinearSVCModel, LogisticRegressionModel, NaiveBayesModel, OneVsRestModel,
};
use mlpipe::clustering::KMeansModel;
use mlpipe::evaluation::{BinaryMetric, MulticlassMetric, RegressionMetric};
use mlpipe::optim::StopReason;
use mlpipe::prelude::*;
use mlpipe::regression::LinearRegressionModel;
use mlpipe::tree::{
    DecisionTree, DecisionTreeClassificationModel, DecisionTreeRegressionModel,
    GBTClassificationModel, GBTRegressionModel, RandomForestClassificationModel,
    RandomForestRegressionModel,
};
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
    /// Cluster assignments, no label: `ClusteringEvaluator` (silhouette).
    Clustering,
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
            EvaluatorKind::Clustering => vec!["silhouette"],
        }
    }

    /// The metric `evaluate` prints without `--metric` (Spark's evaluator default).
    pub fn default_metric(self) -> &'static str {
        match self {
            EvaluatorKind::Binary => "areaUnderROC",
            EvaluatorKind::Multiclass => "f1",
            EvaluatorKind::Regression => "rmse",
            EvaluatorKind::Clustering => "silhouette",
        }
    }

    /// The metrics `train` reports on its training and held-out rows.
    pub fn report_metrics(self) -> &'static [&'static str] {
        match self {
            EvaluatorKind::Binary => &["areaUnderROC", "areaUnderPR", "accuracy", "f1", "logLoss"],
            EvaluatorKind::Multiclass => &["accuracy", "f1", "logLoss"],
            EvaluatorKind::Regression => &["rmse", "r2", "mae"],
            EvaluatorKind::Clustering => &["silhouette"],
        }
    }

    /// The name printed in messages.
    pub fn name(self) -> &'static str {
        match self {
            EvaluatorKind::Binary => "binary classification",
            EvaluatorKind::Multiclass => "multiclass classification",
            EvaluatorKind::Regression => "regression",
            EvaluatorKind::Clustering => "clustering",
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
    /// Its label column param (`""` for a clustering model, which has none).
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
    /// The ClusteringEvaluator distance matching the model's (`squaredEuclidean` for a
    /// euclidean KMeans, `cosine` for a cosine one); `None` for other kinds.
    pub distance_measure: Option<&'static str>,
}

/// Recognises one model type.
type Recognise = fn(&dyn Transformer) -> Option<Predictor>;

/// One entry per model type; the first that recognises a stage describes it.
const PREDICTORS: &[Recognise] = &[
    logistic_regression,
    linear_regression,
    linear_svc,
    naive_bayes,
    one_vs_rest,
    kmeans,
    decision_tree_classifier,
    random_forest_classifier,
    gbt_classifier,
    decision_tree_regressor,
    random_forest_regressor,
    gbt_regressor,
];

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
        distance_measure: None,
    })
}

/// A string param of a stage (`""` when unset or null).
fn param_str(t: &dyn Transformer, name: &str) -> String {
    t.params_json()[name].as_str().unwrap_or("").to_string()
}

/// A predictor description whose columns come from the stage's own Spark params
/// (`labelCol`, `featuresCol`, and the outputs `predictionCol`, `probabilityCol`,
/// `rawPredictionCol`, `varianceCol`, `leafCol` that are set), so that every model type
/// reads them the same way.
fn described(
    t: &dyn Transformer,
    class: &'static str,
    kind: EvaluatorKind,
    num_features: usize,
    fitted: FittedValues,
) -> Predictor {
    let opt = |name: &str| Some(param_str(t, name)).filter(|c| !c.is_empty());
    let output_cols = [
        "predictionCol",
        "probabilityCol",
        "rawPredictionCol",
        "varianceCol",
        "leafCol",
    ]
    .iter()
    .filter_map(|n| opt(n))
    .collect();
    Predictor {
        class,
        kind,
        label_col: param_str(t, "labelCol"),
        features_col: opt("featuresCol").unwrap_or_else(|| "features".into()),
        output_cols,
        probability_col: opt("probabilityCol"),
        raw_prediction_col: opt("rawPredictionCol"),
        fitted,
        num_features,
        fit_summary: None,
        feature_names: None,
        converged: None,
        distance_measure: None,
    }
}

/// Binary for two classes, else multiclass.
fn classes_kind(num_classes: usize) -> EvaluatorKind {
    if num_classes <= 2 {
        EvaluatorKind::Binary
    } else {
        EvaluatorKind::Multiclass
    }
}

/// Names the values of each row (one row per class or cluster) by feature.
fn rows_by_name(names: &[String], flat: &[f64], width: usize) -> Value {
    Value::Array(
        flat.chunks(width.max(1))
            .map(|row| by_name(names, row))
            .collect(),
    )
}

fn linear_regression(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any)
        .downcast_ref::<LinearRegressionModel>()?
        .clone();
    let summary = m.summary().cloned();
    let fit_summary = summary.as_ref().map(|s| {
        json!({
            "totalIterations": s.total_iterations,
            "objectiveHistory": s.objective_history,
            "finalObjective": s.objective_history.last(),
        })
    });
    let n = m.num_features();
    let feature_names = summary.as_ref().map(|s| s.feature_names.clone());
    let model = m.clone();
    let mut p = described(
        t,
        "LinearRegressionModel",
        EvaluatorKind::Regression,
        n,
        Box::new(move |names| {
            let mut out = json!({
                "numFeatures": model.num_features(),
                "coefficients": by_name(names, model.coefficients()),
                "intercept": model.intercept(),
                "scale": model.scale(),
            });
            if let Some(s) = model.summary() {
                // Training-set figures (Spark's LinearRegressionTrainingSummary); p-values
                // only where Spark has them (normal solver without L1).
                let mut with_intercept: Vec<String> = if names.len() == model.num_features() {
                    names.to_vec()
                } else {
                    (0..model.num_features())
                        .map(|i| format!("feature_{i}"))
                        .collect()
                };
                if model.params().fit_intercept {
                    with_intercept.push("intercept".into());
                }
                let o = out.as_object_mut().expect("an object");
                o.insert(
                    "rootMeanSquaredError".into(),
                    json!(s.root_mean_squared_error),
                );
                o.insert("r2".into(), json!(s.r2));
                o.insert("meanAbsoluteError".into(), json!(s.mean_absolute_error));
                if let Some(pv) = &s.p_values {
                    o.insert("pValues".into(), by_name(&with_intercept, pv));
                }
                if let Some(tv) = &s.t_values {
                    o.insert("tValues".into(), by_name(&with_intercept, tv));
                }
            }
            out
        }),
    );
    p.fit_summary = fit_summary;
    p.feature_names = feature_names;
    Some(p)
}

fn linear_svc(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any).downcast_ref::<LinearSVCModel>()?.clone();
    let summary = m.summary().cloned();
    let n = m.num_features();
    let model = m.clone();
    let mut p = described(
        t,
        "LinearSVCModel",
        EvaluatorKind::Binary,
        n,
        Box::new(move |names| {
            json!({"numClasses": 2, "numFeatures": model.num_features(),
                   "coefficients": by_name(names, model.coefficients()),
                   "intercept": model.intercept()})
        }),
    );
    p.converged = summary
        .as_ref()
        .map(|s| s.stop_reason != StopReason::MaxIterations);
    p.fit_summary = summary.map(|s| {
        json!({
            "totalIterations": s.total_iterations,
            "objectiveHistory": s.objective_history,
            "finalObjective": s.objective_history.last(),
            "stopReason": format!("{:?}", s.stop_reason),
        })
    });
    Some(p)
}

fn naive_bayes(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any).downcast_ref::<NaiveBayesModel>()?.clone();
    let (n, k) = (m.num_features(), m.num_classes());
    Some(described(
        t,
        "NaiveBayesModel",
        classes_kind(k),
        n,
        Box::new(move |names| {
            let mut out = json!({
                "modelType": m.params().model_type,
                "numClasses": m.num_classes(),
                "numFeatures": m.num_features(),
                "pi": m.pi(),
                "theta": rows_by_name(names, m.theta(), m.num_features()),
            });
            if !m.sigma().is_empty() {
                out["sigma"] = rows_by_name(names, m.sigma(), m.num_features());
            }
            out
        }),
    ))
}

fn one_vs_rest(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any).downcast_ref::<OneVsRestModel>()?.clone();
    let k = m.num_classes();
    // Each class's binary model is described by its own entry.
    let n = m
        .models()
        .iter()
        .find_map(|b| predictor(b.as_ref()))
        .map_or(0, |p| p.num_features);
    Some(described(
        t,
        "OneVsRestModel",
        classes_kind(k),
        n,
        Box::new(move |names| {
            let models: Vec<Value> = m
                .models()
                .iter()
                .map(|b| match predictor(b.as_ref()) {
                    Some(p) => json!({"class": p.class, "fitted": (p.fitted)(names)}),
                    None => json!({"class": b.kind()}),
                })
                .collect();
            json!({"numClasses": m.num_classes(), "models": models})
        }),
    ))
}

fn kmeans(t: &dyn Transformer) -> Option<Predictor> {
    let m = (t as &dyn Any).downcast_ref::<KMeansModel>()?.clone();
    let n = m.cluster_centers().first().map_or(0, Vec::len);
    let distance = if m.params().distance_measure == "cosine" {
        "cosine"
    } else {
        "squaredEuclidean"
    };
    let fit_summary = m.summary().map(|s| {
        json!({"totalIterations": s.num_iter, "trainingCost": s.training_cost,
               "clusterSizes": s.cluster_sizes})
    });
    let model = m.clone();
    let mut p = described(
        t,
        "KMeansModel",
        EvaluatorKind::Clustering,
        n,
        Box::new(move |names| {
            let centers: Vec<Value> = model
                .cluster_centers()
                .iter()
                .map(|c| by_name(names, c))
                .collect();
            let mut out = json!({"k": model.cluster_centers().len(),
                                 "distanceMeasure": model.params().distance_measure,
                                 "clusterCenters": centers});
            if let Some(s) = model.summary() {
                out["trainingCost"] = json!(s.training_cost);
                out["clusterSizes"] = json!(s.cluster_sizes);
            }
            out
        }),
    );
    p.label_col = String::new();
    p.fit_summary = fit_summary;
    p.distance_measure = Some(distance);
    Some(p)
}

/// A tree model's summary: feature importances by name, number of trees, total nodes,
/// depth (the deepest tree's), tree weights for an ensemble, classes for a classifier.
fn tree_summary(
    names: &[String],
    importances: &[f64],
    trees: &[DecisionTree],
    weights: &[f64],
    num_classes: Option<usize>,
) -> Value {
    let mut out = json!({
        "numFeatures": importances.len(),
        "featureImportances": by_name(names, importances),
        "numTrees": trees.len(),
        "totalNumNodes": trees.iter().map(DecisionTree::num_nodes).sum::<usize>(),
        "depth": trees.iter().map(DecisionTree::depth).max().unwrap_or(0),
    });
    if trees.len() > 1 {
        out["treeWeights"] = json!(weights);
    }
    if let Some(k) = num_classes {
        out["numClasses"] = json!(k);
    }
    out
}

/// One recogniser per tree model type: downcast, then the shared tree summary.
macro_rules! tree_entry {
    ($fn:ident, $ty:ty, $class:literal, classifier) => {
        fn $fn(t: &dyn Transformer) -> Option<Predictor> {
            let m = (t as &dyn Any).downcast_ref::<$ty>()?.clone();
            let kind = classes_kind(m.num_classes());
            Some(described(
                t,
                $class,
                kind,
                m.num_features(),
                Box::new(move |names| {
                    tree_summary(
                        names,
                        &m.feature_importances(),
                        m.trees(),
                        m.tree_weights(),
                        Some(m.num_classes()),
                    )
                }),
            ))
        }
    };
    ($fn:ident, $ty:ty, $class:literal, regressor) => {
        fn $fn(t: &dyn Transformer) -> Option<Predictor> {
            let m = (t as &dyn Any).downcast_ref::<$ty>()?.clone();
            let kind = EvaluatorKind::Regression;
            Some(described(
                t,
                $class,
                kind,
                m.num_features(),
                Box::new(move |names| {
                    tree_summary(
                        names,
                        &m.feature_importances(),
                        m.trees(),
                        m.tree_weights(),
                        None,
                    )
                }),
            ))
        }
    };
}

tree_entry!(
    decision_tree_classifier,
    DecisionTreeClassificationModel,
    "DecisionTreeClassificationModel",
    classifier
);
tree_entry!(
    random_forest_classifier,
    RandomForestClassificationModel,
    "RandomForestClassificationModel",
    classifier
);
tree_entry!(
    gbt_classifier,
    GBTClassificationModel,
    "GBTClassificationModel",
    classifier
);
tree_entry!(
    decision_tree_regressor,
    DecisionTreeRegressionModel,
    "DecisionTreeRegressionModel",
    regressor
);
tree_entry!(
    random_forest_regressor,
    RandomForestRegressionModel,
    "RandomForestRegressionModel",
    regressor
);
tree_entry!(
    gbt_regressor,
    GBTRegressionModel,
    "GBTRegressionModel",
    regressor
);
