//! `mlpipe train`: build and fit the standard pipeline (label index, one-hot categorical
//! columns, optional imputation, assemble, logistic regression) with safe defaults.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use mlpipe::classification::{Family, LogisticRegression};
use mlpipe::feature::{
    Imputer, ImputerStrategy, IndexToString, OneHotEncoder, StringIndexer, VectorAssembler,
};
use mlpipe::frame::schema;
use mlpipe::persist::save;
use mlpipe::prelude::*;
use serde_json::{json, Map, Value};

use crate::data::{column_names, is_string, read, save_mode, usage, write_report};
use crate::evaluate::metric_value;
use crate::model_kind::last_predictor;

/// `--family`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FamilyArg {
    Auto,
    Binomial,
    Multinomial,
}

/// `--handle-invalid`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum InvalidArg {
    Error,
    Skip,
    Keep,
}

/// `--impute`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum ImputeArg {
    Mean,
    Median,
}

/// Where `train` reads its options.
pub struct Args {
    pub input: PathBuf,
    pub label: String,
    pub model: PathBuf,
    pub features: Option<Vec<String>>,
    pub categorical: Option<Vec<String>>,
    pub exclude: Vec<String>,
    pub max_categories: usize,
    pub weight: Option<String>,
    pub family: FamilyArg,
    pub max_iter: usize,
    pub reg_param: f64,
    pub elastic_net_param: f64,
    pub tol: f64,
    pub no_standardization: bool,
    pub no_intercept: bool,
    pub handle_invalid: InvalidArg,
    pub impute: Option<ImputeArg>,
    pub train_fraction: f64,
    pub seed: i64,
    pub overwrite: bool,
    pub report: Option<PathBuf>,
}

/// Distinct non-null values of a string column, counting no further than `cap`.
fn distinct_strings(df: &DataFrame, col: &str, cap: usize) -> Result<usize> {
    let mut seen: HashSet<String> = HashSet::new();
    for a in df.column(col)?.chunks {
        let a = cast(&a, &DataType::Utf8)?;
        let s = a.as_string::<i32>();
        for v in s.iter().flatten() {
            if seen.len() > cap {
                return Ok(seen.len());
            }
            if !seen.contains(v) {
                seen.insert(v.to_string());
            }
        }
    }
    Ok(seen.len())
}

/// Checks that every column named by `flag` is in the input (in the CLI's terms).
fn require_flag_columns(df: &DataFrame, flag: &str, cols: &[String]) -> Result<()> {
    for c in cols {
        if df.schema().field_with_name(c).is_err() {
            return Err(usage(format!(
                "{flag}: column `{c}` is not in {}; its columns: {}",
                "the input",
                column_names(df).join(", ")
            )));
        }
    }
    Ok(())
}

pub fn run(a: Args) -> Result<()> {
    let mode = save_mode(&a.model, a.overwrite)?;
    if !(a.train_fraction > 0.0 && a.train_fraction <= 1.0) {
        return Err(usage(format!(
            "--train-fraction must be in (0, 1], got {}",
            a.train_fraction
        )));
    }
    let t = Instant::now();
    let df = read(&a.input)?;
    let read_s = t.elapsed().as_secs_f64();
    let s = df.schema().clone();
    let (_, label_field) = schema::require_column(&s, "train", &a.label)?;
    let string_label = is_string(label_field.data_type());
    require_flag_columns(&df, "--features", a.features.as_deref().unwrap_or(&[]))?;
    require_flag_columns(
        &df,
        "--categorical",
        a.categorical.as_deref().unwrap_or(&[]),
    )?;
    require_flag_columns(&df, "--exclude", &a.exclude)?;
    if let Some(w) = &a.weight {
        require_flag_columns(&df, "--weight", std::slice::from_ref(w))?;
    }
    let skip = |name: &String| {
        name == &a.label || Some(name) == a.weight.as_ref() || a.exclude.contains(name)
    };
    let categorical: Vec<String> = match (&a.categorical, &a.features) {
        (Some(c), _) => c.clone(),
        // Only the named features.
        (None, Some(_)) => vec![],
        (None, None) => {
            let half = df.num_rows() / 2;
            let cap = a.max_categories.min(half.max(1));
            let mut kept = Vec::new();
            let mut left_out = Vec::new();
            for f in s
                .fields()
                .iter()
                .filter(|f| is_string(f.data_type()) && !skip(f.name()))
            {
                let n = distinct_strings(&df, f.name(), cap)?;
                if n > cap {
                    left_out.push(f.name().clone());
                } else {
                    kept.push(f.name().clone());
                }
            }
            if !left_out.is_empty() {
                println!(
                    "left out string column(s) with more than {cap} distinct values (an ID? the cap is half the rows or --max-categories): {}; name them in --categorical to use them, or --exclude them to silence this",
                    left_out.join(", ")
                );
            }
            kept
        }
    };
    let numeric: Vec<String> = match &a.features {
        Some(f) => f.clone(),
        None => s
            .fields()
            .iter()
            .filter(|f| schema::is_numeric(f.data_type()) && !skip(f.name()))
            .map(|f| f.name().clone())
            .collect(),
    };
    if numeric.is_empty() && categorical.is_empty() {
        return Err(usage(
            "no feature columns: pass --features and/or --categorical",
        ));
    }
    // A string label is indexed like Spark's StringIndexer (most frequent -> 0), on all rows
    // so that every class is known, and the fitted indexer goes first in the pipeline: the
    // model makes its own label column, as a PySpark churn pipeline does.
    let lr_label = if string_label {
        if s.field_with_name("label").is_err() {
            "label".to_string()
        } else {
            format!("{}_indexed", a.label)
        }
    } else {
        a.label.clone()
    };
    let mut pipeline = Pipeline::new();
    let mut label_names = None;
    if string_label {
        let idx = StringIndexer::new()
            .with_input_col(&a.label)
            .with_output_col(&lr_label)
            .fit(&df.select([&a.label])?)?;
        let names = idx.labels()[0].clone();
        println!(
            "label mapping: {}",
            names
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{l} -> {i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        label_names = Some(names);
        pipeline = pipeline.with_transformer(idx);
    }
    let classes = match &label_names {
        Some(n) => n.len(),
        None => distinct_numeric(&df, &a.label)?,
    };
    if classes > 2 {
        note_classes(&df, &a.label, label_names.as_deref(), a.family)?;
    }
    let mut assembled: Vec<String> = Vec::new();
    if !categorical.is_empty() {
        let c: Vec<&str> = categorical.iter().map(|s| s.as_str()).collect();
        let idx: Vec<String> = categorical.iter().map(|c| format!("{c}_idx")).collect();
        let vec: Vec<String> = categorical.iter().map(|c| format!("{c}_vec")).collect();
        let idx_r: Vec<&str> = idx.iter().map(|s| s.as_str()).collect();
        let vec_r: Vec<&str> = vec.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline
            .with_estimator(
                StringIndexer::new()
                    .with_input_cols(&c)
                    .with_output_cols(&idx_r)
                    .with_handle_invalid(HandleInvalid::Keep),
            )
            .with_estimator(
                OneHotEncoder::new()
                    .with_input_cols(&idx_r)
                    .with_output_cols(&vec_r)
                    .with_handle_invalid(HandleInvalid::Keep),
            );
        assembled.extend(vec);
    }
    let mut nums = numeric.clone();
    if let Some(strategy) = a.impute {
        let out: Vec<String> = numeric.iter().map(|c| format!("{c}_imputed")).collect();
        let i_r: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
        let o_r: Vec<&str> = out.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline.with_estimator(
            Imputer::new()
                .with_input_cols(&i_r)
                .with_output_cols(&o_r)
                .with_strategy(match strategy {
                    ImputeArg::Mean => ImputerStrategy::Mean,
                    ImputeArg::Median => ImputerStrategy::Median,
                }),
        );
        nums = out;
    }
    assembled.extend(nums);
    let a_r: Vec<&str> = assembled.iter().map(|s| s.as_str()).collect();
    let hi = match a.handle_invalid {
        InvalidArg::Error => HandleInvalid::Error,
        InvalidArg::Skip => HandleInvalid::Skip,
        InvalidArg::Keep => HandleInvalid::Keep,
    };
    let mut lr = LogisticRegression::new()
        .with_label_col(&lr_label)
        .with_family(match a.family {
            FamilyArg::Auto => Family::Auto,
            FamilyArg::Binomial => Family::Binomial,
            FamilyArg::Multinomial => Family::Multinomial,
        })
        .with_max_iter(a.max_iter)
        .with_reg_param(a.reg_param)
        .with_elastic_net_param(a.elastic_net_param)
        .with_tol(a.tol)
        .with_standardization(!a.no_standardization)
        .with_fit_intercept(!a.no_intercept);
    if let Some(w) = &a.weight {
        lr = lr.with_weight_col(w);
    }
    pipeline = pipeline
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&a_r)
                .with_output_col("features")
                .with_handle_invalid(hi),
        )
        .with_estimator(lr);
    if let Some(names) = &label_names {
        let n: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        pipeline = pipeline.with_transformer(
            IndexToString::new()
                .with_input_col("prediction")
                .with_output_col("predictedLabel")
                .with_labels(&n),
        );
    }
    // Keep only the columns the pipeline reads, and let the unsplit data go as soon as the
    // split exists: peak memory is what one copy of the data needs.
    let mut used: Vec<&str> = categorical
        .iter()
        .chain(&numeric)
        .map(|s| s.as_str())
        .collect();
    used.push(&a.label);
    used.extend(a.weight.as_deref());
    let mut df = {
        let all = df;
        all.select(&used)?
    };
    if matches!(a.handle_invalid, InvalidArg::Skip) && a.impute.is_none() {
        // Drop the rows the assembler would skip once, before the split, so that neither
        // the fit nor the scoring copies the data again to drop them.
        let n: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
        df = df.drop_invalid(&n)?;
    } else if matches!(a.handle_invalid, InvalidArg::Error) && a.impute.is_none() {
        check_no_nulls(&df, &numeric)?;
    }
    let total_rows = df.num_rows();
    let (train, test) = if a.train_fraction < 1.0 {
        let mut parts = df.random_split(&[a.train_fraction, 1.0 - a.train_fraction], a.seed)?;
        drop(df);
        let test = parts.pop();
        (parts.remove(0), test)
    } else {
        (df, None)
    };
    let t = Instant::now();
    let fitted = pipeline.fit(&train)?;
    let fit_s = t.elapsed().as_secs_f64();
    let (_, pred) = last_predictor(&fitted)
        .ok_or_else(|| Error::Internal("train: the fitted pipeline has no predictor".into()))?;
    let scores = |d: &DataFrame| -> Result<Value> {
        let scored = fitted.transform(d)?;
        let mut m = Map::new();
        for n in pred.kind.report_metrics() {
            m.insert(
                n.to_string(),
                json!(metric_value(
                    &scored,
                    &pred,
                    &lr_label,
                    a.weight.as_deref(),
                    n
                )?),
            );
        }
        Ok(Value::Object(m))
    };
    let mut metrics = Map::new();
    let train_rows = train.num_rows();
    metrics.insert("train".into(), scores(&train)?);
    drop(train);
    if let Some(test) = &test {
        metrics.insert("test".into(), scores(test)?);
    }
    save(&fitted, &a.model, mode)?;
    let names = pred.feature_names.clone().unwrap_or_default();
    let fitted_values = (pred.fitted)(&names);
    let summary = pred.fit_summary.clone().unwrap_or(Value::Null);
    let report = json!({
        "rows": total_rows,
        "train_rows": train_rows,
        "test_rows": test.as_ref().map_or(0, |t| t.num_rows()),
        "features": names,
        "read_s": read_s,
        "fit_s": fit_s,
        "total_iterations": summary["totalIterations"],
        "final_objective": summary["finalObjective"],
        "converged": pred.converged,
        "intercept": fitted_values.get("intercept").or(fitted_values.get("interceptVector")),
        "coefficients": fitted_values.get("coefficients").or(fitted_values.get("coefficientMatrix")),
        "metrics": metrics,
    });
    println!(
        "trained on {} rows, {} features, in {:.3} s ({} iterations); model saved to {}",
        train_rows,
        pred.num_features,
        fit_s,
        summary["totalIterations"],
        a.model.display()
    );
    if pred.converged == Some(false) {
        println!(
            "warning: logistic regression stopped at --max-iter {} without converging; raise --max-iter (or --tol)",
            a.max_iter
        );
    }
    println!("metrics: {}", report["metrics"]);
    if let Some(r) = &a.report {
        write_report(r, &report)?;
    }
    Ok(())
}

/// A null in a feature would stop the assembler deep in the fit: say it in the CLI's terms.
fn check_no_nulls(df: &DataFrame, numeric: &[String]) -> Result<()> {
    for c in numeric {
        let col = df.column(c)?;
        let nulls: usize = col.chunks.iter().map(|a| a.null_count()).sum();
        if nulls > 0 {
            return Err(usage(format!(
                "feature column `{c}` has {nulls} null value(s); pass --handle-invalid skip to drop those rows, or --impute mean|median to fill them"
            )));
        }
    }
    Ok(())
}

/// Distinct values of a numeric label.
fn distinct_numeric(df: &DataFrame, col: &str) -> Result<usize> {
    let mut seen = HashSet::new();
    for a in df.column(col)?.chunks {
        let a = cast(&a, &DataType::Float64)?;
        for v in a
            .as_primitive::<arrow::datatypes::Float64Type>()
            .iter()
            .flatten()
        {
            seen.insert(v.to_bits());
        }
    }
    Ok(seen.len())
}

/// For a label with more than two values: the family chosen, classes under 1% of the rows,
/// and string classes differing only by case.
fn note_classes(
    df: &DataFrame,
    label: &str,
    names: Option<&[String]>,
    family: FamilyArg,
) -> Result<()> {
    let family = match family {
        FamilyArg::Binomial => "binomial",
        _ => "multinomial",
    };
    println!(
        "the label `{label}` has more than two values: fitting a {family} logistic regression"
    );
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for a in df.column(label)?.chunks {
        let a = cast(&a, &DataType::Utf8)?;
        for v in a.as_string::<i32>().iter().flatten() {
            *counts.entry(v.to_string()).or_default() += 1;
        }
    }
    let rows = df.num_rows().max(1);
    let rare: Vec<String> = counts
        .iter()
        .filter(|(_, n)| (**n as f64) < 0.01 * rows as f64)
        .map(|(k, n)| format!("{k} ({n} rows)"))
        .collect();
    if !rare.is_empty() {
        println!("warning: classes under 1% of the rows: {}", rare.join(", "));
    }
    if let Some(names) = names {
        let mut by_lower: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for n in names {
            by_lower.entry(n.to_lowercase()).or_default().push(n);
        }
        let dup: Vec<String> = by_lower
            .values()
            .filter(|v| v.len() > 1)
            .map(|v| v.join("/"))
            .collect();
        if !dup.is_empty() {
            println!(
                "warning: classes differing only by case: {} (fix the data if they are one class)",
                dup.join(", ")
            );
        }
    }
    Ok(())
}
