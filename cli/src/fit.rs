//! `mlpipe fit`: fit a saved, unfitted Pipeline (or single estimator) and save the model.

use std::path::Path;
use std::time::Instant;

use mlpipe::persist::{
    is_estimator_class, load_pipeline_stage, read_metadata, save, KNOWN_CLASSES,
};
use mlpipe::prelude::*;
use serde_json::{json, Value};

use crate::data::{read, save_mode, usage, write_report};
use crate::model_kind::predictor;

/// Whether mlpipe can load this Spark class (full name) inside an unfitted pipeline: an
/// estimator, or a transformer that is not a fitted model (VectorAssembler, Bucketizer).
fn fits_class(class: &str) -> bool {
    is_estimator_class(class)
        || (KNOWN_CLASSES.contains(&class) && !short(class).ends_with("Model"))
}

fn short(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// Where `fit` reads its options.
pub struct Args<'a> {
    pub pipeline: &'a Path,
    pub input: &'a Path,
    pub model: &'a Path,
    pub overwrite: bool,
    pub report: Option<&'a Path>,
}

pub fn run(a: Args) -> Result<()> {
    let mode = save_mode(a.model, a.overwrite)?;
    let pipeline = load_unfitted(a.pipeline)?;
    let t = Instant::now();
    let df = read(a.input)?;
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (fitted, stage_seconds) = pipeline.fit_timed(&df)?;
    let fit_s = t.elapsed().as_secs_f64();
    save(&fitted, a.model, mode)?;
    let stages: Vec<Value> = fitted
        .stages()
        .iter()
        .zip(&stage_seconds)
        .map(|(s, secs)| {
            let p = predictor(s.as_ref());
            json!({
                "kind": s.kind(),
                "uid": s.uid(),
                "fit_s": secs,
                "summary": p.and_then(|p| p.fit_summary),
            })
        })
        .collect();
    for s in fitted.stages() {
        if let Some(p) = predictor(s.as_ref()) {
            if p.converged == Some(false) {
                println!(
                    "warning: {} {} stopped at maxIter without converging; raise its maxIter",
                    p.class,
                    s.uid()
                );
            }
        }
    }
    println!(
        "fitted {} stages on {} rows in {:.3} s; model saved to {}",
        stages.len(),
        df.num_rows(),
        fit_s,
        a.model.display()
    );
    if let Some(r) = a.report {
        write_report(
            r,
            &json!({"rows": df.num_rows(), "read_s": read_s, "fit_s": fit_s, "stages": stages}),
        )?;
    }
    Ok(())
}

/// Loads an unfitted Pipeline or a single estimator (as a one-stage Pipeline). A fitted
/// model is refused, and so is a stage mlpipe does not have (naming it and those it has).
pub(crate) fn load_unfitted(dir: &Path) -> Result<Pipeline> {
    let md = read_metadata(dir)?;
    let short = short(&md.class).to_string();
    if !fits_class(&md.class) {
        if short.ends_with("Model") {
            return Err(usage(format!(
                "fit: {} holds a fitted {short}; `fit` takes an unfitted Pipeline or estimator (score a fitted model with `mlpipe predict` or `mlpipe evaluate`)",
                dir.display()
            )));
        }
        return Err(unknown_stage(&md.class, dir));
    }
    if short == "Pipeline" {
        check_stage_classes(dir)?;
    }
    Ok(match load_pipeline_stage(dir)? {
        PipelineStage::Estimator(e) => {
            if short == "Pipeline" {
                // The loaded Pipeline, boxed as an estimator: take it back by value.
                let any: &dyn std::any::Any = e.as_ref();
                any.downcast_ref::<Pipeline>()
                    .cloned()
                    .ok_or_else(|| Error::Internal("a Pipeline did not load as one".into()))?
            } else {
                Pipeline::new().with_stage(PipelineStage::Estimator(e))
            }
        }
        t => Pipeline::new().with_stage(t),
    })
}

/// Reads each stage's metadata so that a stage mlpipe does not have is named with the
/// stages it does have, before anything is loaded.
fn check_stage_classes(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir.join("stages")) else {
        return Ok(()); // the loader reports a missing stage
    };
    let mut dirs: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    for d in dirs {
        let Ok(md) = read_metadata(&d) else {
            continue; // the loader names the file
        };
        if !fits_class(&md.class) {
            return Err(unknown_stage(&md.class, &d));
        }
    }
    Ok(())
}

fn unknown_stage(class: &str, dir: &Path) -> Error {
    let mut has: Vec<&str> = KNOWN_CLASSES
        .iter()
        .filter(|c| fits_class(c) && c.starts_with("org.apache.spark.ml."))
        .map(|c| short(c))
        .filter(|s| *s != "Pipeline" && *s != "OneHotEncoderEstimator")
        .collect();
    has.sort();
    has.dedup();
    usage(format!(
        "fit: {} holds {class}, a stage mlpipe does not have; the stages it has: Pipeline, {}",
        dir.display(),
        has.join(", ")
    ))
}
