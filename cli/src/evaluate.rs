//! `mlpipe evaluate`: transform with any model, then score with the evaluator its kind
//! calls for.

use std::any::Any;
use std::path::Path;

use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryMetric, ClusteringEvaluator,
    MulticlassClassificationEvaluator, RegressionEvaluator,
};
use mlpipe::feature::{IndexToString, StringIndexerModel, StringIndexerParams};
use mlpipe::frame::schema;
use mlpipe::prelude::*;
use serde_json::{json, Map, Value};

use crate::data::{column_names, is_string, read, usage};
use crate::model_kind::{last_predictor, stages, EvaluatorKind, Predictor};

/// Where `evaluate` reads its options.
pub struct Args<'a> {
    pub model: &'a Path,
    pub input: &'a Path,
    pub label: Option<&'a str>,
    pub metrics: &'a [String],
    pub weight: Option<&'a str>,
}

pub fn run(a: Args) -> Result<()> {
    let model = crate::predict::load_model(a.model, "evaluate")?;
    let (_, pred) = last_predictor(model.as_ref()).ok_or_else(|| no_predictor(model.as_ref()))?;
    let metrics: Vec<String> = if a.metrics.is_empty() {
        vec![pred.kind.default_metric().to_string()]
    } else {
        a.metrics.to_vec()
    };
    check_metrics(&metrics, pred.kind)?;
    if pred.probability_col.is_none() && metrics.iter().any(|m| m == "logLoss") {
        return Err(usage(format!(
            "--metric logLoss needs class probabilities, which a {} does not output",
            pred.class
        )));
    }
    let df = read(a.input)?;
    if let Some(w) = a.weight {
        require_input(&df, "--weight", w)?;
    }
    let scored = model.transform(&df)?;
    let (scored, label) = if pred.kind == EvaluatorKind::Clustering {
        if let Some(l) = a.label {
            return Err(usage(format!(
                "--label `{l}`: a {} is scored by its silhouette, which needs no label; drop --label",
                pred.class
            )));
        }
        (scored, String::new())
    } else {
        resolve_label(model.as_ref(), &pred, &df, scored, a.label)?
    };
    let mut out = Map::new();
    for m in metrics {
        let v = metric_value(&scored, &pred, &label, a.weight, &m)?;
        out.insert(m, json!(v));
    }
    println!("{}", Value::Object(out));
    Ok(())
}

/// A model with no predictor stage cannot be evaluated.
pub fn no_predictor(model: &dyn Transformer) -> Error {
    let kinds: Vec<&str> = stages(model).iter().map(|s| s.kind()).collect();
    usage(format!(
        "evaluate: the model has no predictor stage to evaluate (its stages: {})",
        kinds.join(", ")
    ))
}

/// Refuses a metric the model's evaluator does not have, listing those it has.
pub fn check_metrics(metrics: &[String], kind: EvaluatorKind) -> Result<()> {
    let valid = kind.metrics();
    for m in metrics {
        if !valid.contains(&m.as_str()) {
            return Err(usage(format!(
                "--metric `{m}` is not a {} metric; valid: {}",
                kind.name(),
                valid.join(", ")
            )));
        }
    }
    Ok(())
}

fn require_input(df: &DataFrame, flag: &str, col: &str) -> Result<()> {
    if df.schema().field_with_name(col).is_err() {
        return Err(usage(format!(
            "{flag}: column `{col}` is not in the input; its columns: {}",
            column_names(df).join(", ")
        )));
    }
    Ok(())
}

/// Picks the label column on the transformed frame: `--label`; the predictor's label
/// column when the transformed frame has it (a label indexed inside the pipeline); the
/// raw label mapped through the pipeline's own label indexer. A string label is mapped
/// through that indexer to the indices the model predicts.
pub fn resolve_label(
    model: &dyn Transformer,
    pred: &Predictor,
    input: &DataFrame,
    scored: DataFrame,
    label: Option<&str>,
) -> Result<(DataFrame, String)> {
    let indexer = label_indexer(model, pred);
    let chosen = match label {
        Some(l) => {
            if scored.schema().field_with_name(l).is_err() {
                return Err(usage(format!(
                    "--label `{l}` is neither in the input nor made by the pipeline; the input's columns: {}",
                    column_names(input).join(", ")
                )));
            }
            l.to_string()
        }
        None if scored.schema().field_with_name(&pred.label_col).is_ok() => {
            pred.label_col.clone()
        }
        None => match indexer.as_ref().and_then(|(raw, _)| raw.clone()) {
            Some(raw) if scored.schema().field_with_name(&raw).is_ok() => raw,
            _ => {
                return Err(usage(format!(
                    "evaluate: the label column `{}` is neither in the input nor made by the pipeline; pass --label COL (the input's columns: {})",
                    pred.label_col,
                    column_names(input).join(", ")
                )))
            }
        },
    };
    let (_, f) = schema::require_column(scored.schema(), "evaluate", &chosen)?;
    if !is_string(f.data_type()) {
        return Ok((scored, chosen));
    }
    let Some((_, labels)) = indexer else {
        return Err(usage(format!(
            "--label `{chosen}` holds strings and the model has no label indexer to map them to the classes it predicts; pass a numeric label column"
        )));
    };
    let out = format!("{chosen}__mlpipe_label");
    let idx = StringIndexerModel::new(
        "mlpipe_cli_label",
        StringIndexerParams {
            input_col: Some(chosen.clone()),
            output_col: Some(out.clone()),
            ..Default::default()
        },
        vec![labels],
    );
    Ok((idx.transform(&scored)?, out))
}

/// The pipeline's label indexer: a StringIndexerModel writing the predictor's label column
/// (its input column and labels), else an IndexToString reading the prediction (labels only).
fn label_indexer(
    model: &dyn Transformer,
    pred: &Predictor,
) -> Option<(Option<String>, Vec<String>)> {
    let all = stages(model);
    let prediction = pred.output_cols.first().cloned().unwrap_or_default();
    all.iter()
        .find_map(|s| {
            let m = (*s as &dyn Any).downcast_ref::<StringIndexerModel>()?;
            let p = m.params();
            (p.output_col.as_deref() == Some(pred.label_col.as_str())).then(|| {
                (
                    p.input_col.clone(),
                    m.labels().first().cloned().unwrap_or_default(),
                )
            })
        })
        .or_else(|| {
            all.iter().find_map(|s| {
                let m = (*s as &dyn Any).downcast_ref::<IndexToString>()?;
                let p = m.params();
                // mlpipe train (before the label indexer moved into the pipeline) indexed
                // `L` into `L_indexed` outside the pipeline.
                let raw = pred.label_col.strip_suffix("_indexed").map(str::to_string);
                (p.input_col == prediction).then(|| (raw, p.labels.clone().unwrap_or_default()))
            })
        })
}

/// One metric by Spark's name, from the evaluator of the model's kind (`label` is unused
/// for a clustering model).
pub fn metric_value(
    scored: &DataFrame,
    pred: &Predictor,
    label: &str,
    weight: Option<&str>,
    m: &str,
) -> Result<f64> {
    let prediction = pred
        .output_cols
        .first()
        .map(String::as_str)
        .unwrap_or("prediction");
    if pred.kind == EvaluatorKind::Clustering {
        let mut e = ClusteringEvaluator::new()
            .with_features_col(&pred.features_col)
            .with_prediction_col(prediction)
            .with_distance_measure(pred.distance_measure.unwrap_or("squaredEuclidean"));
        if let Some(w) = weight {
            e = e.with_weight_col(w);
        }
        return e.silhouette(scored);
    }
    if let Ok(metric) = m.parse::<BinaryMetric>() {
        let mut e = BinaryClassificationEvaluator::new()
            .with_label_col(label)
            .with_metric(metric);
        if let Some(r) = &pred.raw_prediction_col {
            e = e.with_raw_prediction_col(r);
        }
        if let Some(w) = weight {
            e = e.with_weight_col(w);
        }
        return e.evaluate(scored);
    }
    if pred.kind == EvaluatorKind::Regression {
        let mut e = RegressionEvaluator::new()
            .with_label_col(label)
            .with_prediction_col(prediction)
            .with_metric(m.parse()?);
        if let Some(w) = weight {
            e = e.with_weight_col(w);
        }
        return e.evaluate(scored);
    }
    let mut e = MulticlassClassificationEvaluator::new()
        .with_label_col(label)
        .with_prediction_col(prediction)
        .with_metric(m.parse()?);
    if let Some(p) = &pred.probability_col {
        e = e.with_probability_col(p);
    }
    if let Some(w) = weight {
        e = e.with_weight_col(w);
    }
    e.evaluate(scored)
}
