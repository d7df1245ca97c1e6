//! `mlpipe predict`: score a file with any fitted model.

use std::collections::HashSet;
use std::path::Path;

use mlpipe::persist::{is_estimator_class, load_stage, read_metadata};
use mlpipe::prelude::*;

use crate::data::{column_names, read, usage, write};
use crate::model_kind::{last_predictor, stages};

/// Loads a fitted model; an unfitted Pipeline or estimator is refused with what to do.
pub fn load_model(dir: &Path, command: &str) -> Result<Box<dyn Transformer>> {
    let md = read_metadata(dir)?;
    let short = md.class.rsplit('.').next().unwrap_or("");
    if is_estimator_class(&md.class) {
        return Err(usage(format!(
            "{command}: {} holds an unfitted {short}, not a fitted model; fit it first with `mlpipe fit --pipeline {} --input DATA --model OUT`",
            dir.display(),
            dir.display()
        )));
    }
    load_stage(dir)
}

/// The columns a model adds that `predict` writes: its last predictor's outputs and
/// whatever the stages after it make (an IndexToString's label), in schema order.
pub fn prediction_columns(
    model: &dyn Transformer,
    input: &DataFrame,
    out: &DataFrame,
) -> Vec<String> {
    let all = stages(model);
    let mut wanted: HashSet<String> = HashSet::new();
    let mut order = Vec::new();
    let start = match last_predictor(model) {
        Some((i, p)) => {
            wanted.extend(p.output_cols.iter().cloned());
            order = p.output_cols;
            i + 1
        }
        // No predictor: every column the model adds.
        None => 0,
    };
    let before: HashSet<String> = column_names(input).into_iter().collect();
    // Columns made by the stages from `start` on.
    let mut schema = input.schema().as_ref().clone();
    for (i, s) in all.iter().enumerate() {
        let Ok(next) = s.transform_schema(&schema) else {
            break;
        };
        if i >= start {
            for f in next.fields() {
                if schema.field_with_name(f.name()).is_err() {
                    wanted.insert(f.name().clone());
                }
            }
        }
        schema = next;
    }
    // The predictor's outputs in its order (prediction first), then the later stages'.
    let mut cols: Vec<String> = order
        .into_iter()
        .filter(|c| wanted.contains(c) && !before.contains(c))
        .collect();
    for c in column_names(out) {
        if wanted.contains(&c) && !before.contains(&c) && !cols.contains(&c) {
            cols.push(c);
        }
    }
    cols
}

pub fn run(model: &Path, input: &Path, output: &Path, columns: Option<&[String]>) -> Result<()> {
    let stage = load_model(model, "predict")?;
    let df = read(input)?;
    let keep: Vec<String> = match columns {
        Some(c) => c.to_vec(),
        None => column_names(&df),
    };
    for c in &keep {
        if df.schema().field_with_name(c).is_err() {
            return Err(usage(format!(
                "--columns: column `{c}` is not in the input; its columns: {}",
                column_names(&df).join(", ")
            )));
        }
    }
    let out = stage.transform(&df)?;
    let mut cols = keep;
    for c in prediction_columns(stage.as_ref(), &df, &out) {
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    let out = out.select(&refs)?;
    write(&out, output)?;
    println!("wrote {} rows to {}", out.num_rows(), output.display());
    Ok(())
}
