//! `mlpipe inspect`: every stage of a model with its params and fitted values, and for
//! predictors a summary with coefficients by feature name.

use std::any::Any;
use std::path::Path;

use mlpipe::feature::*;
use mlpipe::persist::load_stage;
use mlpipe::prelude::*;
use serde_json::{json, Value};

use crate::model_kind::{predictor, stages};

pub fn run(model: &Path, as_json: bool) -> Result<()> {
    let stage = load_stage(model)?;
    let all = stages(stage.as_ref());
    let described: Vec<Value> = all
        .iter()
        .enumerate()
        .map(|(i, _)| describe(&all, i))
        .map(|mut d| {
            if d["fitted"].is_null() {
                d.as_object_mut().map(|o| o.remove("fitted"));
            }
            d
        })
        .collect();
    if as_json {
        println!(
            "{}",
            json!({"uid": stage.uid(), "kind": stage.kind(), "stages": described})
        );
        return Ok(());
    }
    println!(
        "{} {} ({} stages)",
        stage.kind(),
        stage.uid(),
        described.len()
    );
    for (i, d) in described.iter().enumerate() {
        println!(
            "[{i}] {} {}",
            d["kind"].as_str().unwrap_or(""),
            d["uid"].as_str().unwrap_or("")
        );
        for key in ["params", "fitted"] {
            if let Some(Value::Object(o)) = d.get(key) {
                println!("    {key}:");
                for (k, v) in o.iter().filter(|(_, v)| !v.is_null()) {
                    match v {
                        // Coefficients by feature name: one a line.
                        Value::Object(by_name) if by_name.len() > 4 => {
                            println!("      {k}:");
                            for (name, x) in by_name {
                                println!("        {name}: {}", pretty(x));
                            }
                        }
                        _ => println!("      {k}: {}", pretty(v)),
                    }
                }
            }
        }
    }
    Ok(())
}

/// A value on one line; long arrays are cut with a count.
fn pretty(v: &Value) -> String {
    match v {
        Value::Array(a) if a.len() > 12 => format!(
            "[{}, ... ({} values)]",
            a.iter()
                .take(8)
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            a.len()
        ),
        Value::Object(o) => {
            let parts: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{k}: {}", pretty(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// Stage `i`'s kind, uid, params and fitted values.
fn describe(all: &[&dyn Transformer], i: usize) -> Value {
    let s = all[i];
    let any = s as &dyn Any;
    let fitted = if let Some(p) = predictor(s) {
        let names = p
            .feature_names
            .clone()
            .or_else(|| feature_names(&all[..i], &p.features_col))
            .unwrap_or_default();
        (p.fitted)(&names)
    } else if let Some(m) = any.downcast_ref::<StandardScalerModel>() {
        json!({"mean": m.mean(), "std": m.std()})
    } else if let Some(m) = any.downcast_ref::<StringIndexerModel>() {
        json!({"labelsArray": m.labels()})
    } else if let Some(m) = any.downcast_ref::<OneHotEncoderModel>() {
        json!({"categorySizes": m.category_sizes()})
    } else if let Some(m) = any.downcast_ref::<RFormulaModel>() {
        let r = m.resolved_formula();
        let inner: Vec<&str> = m
            .pipeline_model()
            .stages()
            .iter()
            .map(|s| s.kind())
            .collect();
        json!({
            "resolvedFormula": r.to_string(),
            "label": r.label,
            "terms": r.terms,
            "hasIntercept": r.has_intercept,
            "pipelineStages": inner,
        })
    } else if let Some(m) = any.downcast_ref::<ImputerModel>() {
        json!({"surrogates": m.surrogates()})
    } else if let Some(m) = any.downcast_ref::<MinMaxScalerModel>() {
        json!({"originalMin": m.original_min(), "originalMax": m.original_max()})
    } else if let Some(m) = any.downcast_ref::<MaxAbsScalerModel>() {
        json!({"maxAbs": m.max_abs()})
    } else if let Some(m) = any.downcast_ref::<RobustScalerModel>() {
        json!({"median": m.median(), "range": m.range()})
    } else if let Some(m) = any.downcast_ref::<VectorIndexerModel>() {
        // Spark's categoryMaps: element -> category values in index order
        let maps: serde_json::Map<String, Value> = m
            .category_maps()
            .iter()
            .map(|(j, v)| (j.to_string(), json!(v)))
            .collect();
        json!({"numFeatures": m.num_features(), "categoryMaps": maps})
    } else {
        Value::Null
    };
    json!({"kind": s.kind(), "uid": s.uid(), "params": s.params_json(), "fitted": fitted})
}

/// The input and output column pairs a stage's params name.
fn in_out(s: &dyn Transformer) -> Vec<(String, String)> {
    let p = s.params_json();
    let strs = |k: &str| -> Vec<String> {
        match &p[k] {
            Value::String(x) => vec![x.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => vec![],
        }
    };
    let (mut ins, mut outs) = (strs("inputCols"), strs("outputCols"));
    if ins.is_empty() {
        ins = strs("inputCol");
    }
    if outs.is_empty() {
        outs = strs("outputCol");
    }
    if s.kind() == "VectorAssembler" {
        return ins
            .into_iter()
            .map(|i| (i, outs.first().cloned().unwrap_or_default()))
            .collect();
    }
    ins.into_iter().zip(outs).collect()
}

/// Names of the features in column `col`, traced back through the stages that made it as
/// Spark names them: an assembled numeric column by its name, a one-hot column as
/// `<column>_<category>` (categories from the StringIndexerModel that indexed it), a scaled
/// vector as its input. `None` when a stage on the way is not understood.
pub fn feature_names(before: &[&dyn Transformer], col: &str) -> Option<Vec<String>> {
    // An RFormulaModel's features: traced through its inner pipeline, then renamed by its
    // VectorAttributeRewriter as Spark names them (`a_red`).
    if let Some(m) = before.iter().rev().find_map(|s| {
        (*s as &dyn Any)
            .downcast_ref::<RFormulaModel>()
            .filter(|m| m.params().features_col == col)
    }) {
        let inner: Vec<&dyn Transformer> = m
            .pipeline_model()
            .stages()
            .iter()
            .map(|s| s.as_ref())
            .collect();
        let names = feature_names(&inner, col)?;
        let rw = m.pipeline_model().stage::<VectorAttributeRewriter>().ok();
        return Some(
            names
                .into_iter()
                .map(|n| rw.map_or_else(|| n.clone(), |r| r.rewrite_name(&n)))
                .collect(),
        );
    }
    let Some((k, s)) = before
        .iter()
        .enumerate()
        .rev()
        .find(|(_, s)| in_out(**s).iter().any(|(_, o)| o == col))
    else {
        return Some(vec![col.to_string()]); // an input column: one numeric feature
    };
    let earlier = &before[..k];
    let any = *s as &dyn Any;
    if s.kind() == "VectorAssembler" {
        let mut names = Vec::new();
        for (i, _) in in_out(*s) {
            names.extend(feature_names(earlier, &i)?);
        }
        return Some(names);
    }
    if let Some(m) = any.downcast_ref::<OneHotEncoderModel>() {
        let pairs = in_out(*s);
        let j = pairs.iter().position(|(_, o)| o == col)?;
        let p = s.params_json();
        let drop_last = p["dropLast"].as_bool().unwrap_or(true);
        let keep = p["handleInvalid"].as_str() == Some("keep");
        let n = m.category_sizes()[j] + usize::from(keep) - usize::from(drop_last);
        let mut labels = category_labels(earlier, &pairs[j].0)
            .unwrap_or_else(|| (0..m.category_sizes()[j]).map(|i| i.to_string()).collect());
        if keep {
            labels.push("__unknown".into());
        }
        return Some(
            labels
                .into_iter()
                .take(n)
                .map(|l| format!("{col}_{l}"))
                .collect(),
        );
    }
    if s.kind() == "Interaction" {
        // Spark's Interaction names: each input's names (a string-indexed column by its
        // categories, a vector by its elements), all combinations joined by `:`, the first
        // input varying slowest.
        let mut names: Vec<String> = vec![String::new()];
        let inputs: Vec<String> = s.params_json()["inputCols"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for i in inputs {
            let part: Vec<String> = match category_labels(earlier, &i) {
                Some(labels) => labels.iter().map(|l| format!("{i}_{l}")).collect(),
                None => {
                    let inner = feature_names(earlier, &i)?;
                    if inner.len() == 1 && inner[0] == i {
                        inner
                    } else {
                        inner.iter().map(|n| format!("{i}_{n}")).collect()
                    }
                }
            };
            names = names
                .iter()
                .flat_map(|h| {
                    part.iter().map(move |t| {
                        if h.is_empty() {
                            t.clone()
                        } else {
                            format!("{h}:{t}")
                        }
                    })
                })
                .collect();
        }
        return Some(names);
    }
    let kind = s.kind();
    if matches!(
        kind,
        "StandardScalerModel"
            | "MinMaxScalerModel"
            | "MaxAbsScalerModel"
            | "RobustScalerModel"
            | "Normalizer"
            | "ElementwiseProduct"
    ) {
        let (i, _) = in_out(*s).into_iter().find(|(_, o)| o == col)?;
        return feature_names(earlier, &i);
    }
    if matches!(
        kind,
        "ImputerModel" | "StringIndexerModel" | "Bucketizer" | "Binarizer"
    ) {
        return Some(vec![col.to_string()]);
    }
    None
}

/// The labels of the StringIndexerModel that made `col`.
fn category_labels(before: &[&dyn Transformer], col: &str) -> Option<Vec<String>> {
    before.iter().rev().find_map(|s| {
        let m = (*s as &dyn Any).downcast_ref::<StringIndexerModel>()?;
        let j = in_out(*s).iter().position(|(_, o)| o == col)?;
        m.labels().get(j).cloned()
    })
}
