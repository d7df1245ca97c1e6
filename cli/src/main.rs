//! The `mlpipe` command line: train, predict, evaluate, inspect, show.
//!
//! Every error is one line on stderr saying what is wrong, and the exit code is 2.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field};
use clap::{Parser, Subcommand, ValueEnum};
use mlpipe::classification::{Family, LogisticRegression, LogisticRegressionModel};
use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryMetric, MulticlassClassificationEvaluator,
};
use mlpipe::feature::{
    Imputer, ImputerStrategy, IndexToString, OneHotEncoder, StringIndexer, StringIndexerModel,
    VectorAssembler,
};
use mlpipe::frame::{schema, vector};
use mlpipe::persist::{load_stage, save, SaveMode};
use mlpipe::prelude::*;
use serde_json::{json, Map, Value};

#[derive(Parser)]
#[command(
    name = "mlpipe",
    version,
    about = "Spark ML pipelines on Arrow data, without a JVM"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum FamilyArg {
    Auto,
    Binomial,
    Multinomial,
}

#[derive(Clone, Copy, ValueEnum)]
enum InvalidArg {
    Error,
    Skip,
    Keep,
}

#[derive(Clone, Copy, ValueEnum)]
enum ImputeArg {
    Mean,
    Median,
}

#[derive(Subcommand)]
enum Command {
    /// Fit the standard pipeline (index + one-hot categorical columns, optional imputation,
    /// assemble, logistic regression) and save it as a Spark PipelineModel.
    Train {
        /// Training data (.csv or .parquet).
        #[arg(long)]
        input: PathBuf,
        /// Label column (numeric class indices, or strings indexed by frequency).
        #[arg(long)]
        label: String,
        /// Where to save the model.
        #[arg(long)]
        model: PathBuf,
        /// Numeric feature columns (default: every numeric column but label and weight).
        #[arg(long, value_delimiter = ',')]
        features: Option<Vec<String>>,
        /// Categorical columns (default: every string column but the label).
        #[arg(long, value_delimiter = ',')]
        categorical: Option<Vec<String>>,
        /// Instance weight column.
        #[arg(long)]
        weight: Option<String>,
        #[arg(long, value_enum, default_value = "auto")]
        family: FamilyArg,
        #[arg(long, default_value_t = 100)]
        max_iter: usize,
        #[arg(long, default_value_t = 0.0)]
        reg_param: f64,
        #[arg(long, default_value_t = 0.0)]
        elastic_net_param: f64,
        #[arg(long, default_value_t = 1e-6)]
        tol: f64,
        #[arg(long)]
        no_standardization: bool,
        #[arg(long)]
        no_intercept: bool,
        /// Nulls and NaN in the numeric features.
        #[arg(long, value_enum, default_value = "error")]
        handle_invalid: InvalidArg,
        /// Impute missing numeric values with the column mean or median.
        #[arg(long, value_enum)]
        impute: Option<ImputeArg>,
        /// Fraction of rows to train on; the rest are held out and evaluated.
        #[arg(long, default_value_t = 1.0)]
        train_fraction: f64,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Replace an existing model directory.
        #[arg(long)]
        overwrite: bool,
        /// Write a JSON report here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Score a file with a saved model (mlpipe's or PySpark's).
    Predict {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Output file (.csv or .parquet).
        #[arg(long)]
        output: PathBuf,
        /// Input columns to keep (default: all).
        #[arg(long, value_delimiter = ',')]
        columns: Option<Vec<String>>,
    },
    /// Print metrics of a saved model on a labelled file as one JSON object.
    Evaluate {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Label column (default: the model's).
        #[arg(long)]
        label: Option<String>,
        /// Metric names (Spark's); default areaUnderROC for binary, f1 for multiclass.
        #[arg(long)]
        metric: Vec<String>,
    },
    /// Print a saved model's stages, params and fitted values.
    Inspect {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Print the schema and first rows of a CSV or Parquet file, like Spark's df.show().
    Show {
        #[arg(long)]
        input: PathBuf,
        #[arg(short, long, default_value_t = 20)]
        n: usize,
    },
}

fn is_parquet(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("parquet") | Some("pq")
    )
}

/// Reads CSV (blank or single-space fields are null) or Parquet by extension.
fn read(path: &Path) -> Result<DataFrame> {
    if is_parquet(path) {
        DataFrame::read_parquet(path, &ParquetOptions::default())
    } else {
        DataFrame::read_csv(path, &CsvOptions::default().with_null_values(&["", " "]))
    }
}

fn cli_error(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Suffix of the indexed string label column.
const INDEXED: &str = "_indexed";

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.to_string().replace('\n', " "));
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Train {
            input,
            label,
            model,
            features,
            categorical,
            weight,
            family,
            max_iter,
            reg_param,
            elastic_net_param,
            tol,
            no_standardization,
            no_intercept,
            handle_invalid,
            impute,
            train_fraction,
            seed,
            overwrite,
            report,
        } => {
            if model.exists() && !overwrite {
                return Err(Error::File {
                    path: model,
                    reason: "already exists; pass --overwrite to replace it".into(),
                });
            }
            if !(train_fraction > 0.0 && train_fraction <= 1.0) {
                return Err(cli_error(format!(
                    "--train-fraction must be in (0, 1], got {train_fraction}"
                )));
            }
            let t = Instant::now();
            let df = read(&input)?;
            let read_s = t.elapsed().as_secs_f64();
            let s = df.schema().clone();
            let (_, label_field) = schema::require_column(&s, "train", &label)?;
            let string_label = matches!(
                label_field.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            );
            let categorical = categorical.unwrap_or_else(|| {
                s.fields()
                    .iter()
                    .filter(|f| {
                        matches!(
                            f.data_type(),
                            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                        ) && f.name() != &label
                    })
                    .map(|f| f.name().clone())
                    .collect()
            });
            let numeric = features.unwrap_or_else(|| {
                s.fields()
                    .iter()
                    .filter(|f| {
                        schema::is_numeric(f.data_type())
                            && f.name() != &label
                            && Some(f.name()) != weight.as_ref()
                    })
                    .map(|f| f.name().clone())
                    .collect()
            });
            if numeric.is_empty() && categorical.is_empty() {
                return Err(cli_error(
                    "no feature columns: pass --features and/or --categorical",
                ));
            }
            // A string label is indexed like Spark's StringIndexer (most frequent -> 0).
            let (df, lr_label, label_names) = if string_label {
                let idx = StringIndexer::new()
                    .with_input_col(&label)
                    .with_output_col(&format!("{label}{INDEXED}"))
                    .fit(&df)?;
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
                (
                    idx.transform(&df)?,
                    format!("{label}{INDEXED}"),
                    Some(names),
                )
            } else {
                (df, label.clone(), None)
            };
            let mut pipeline = Pipeline::new();
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
            if let Some(strategy) = impute {
                let out: Vec<String> = numeric.iter().map(|c| format!("{c}_imputed")).collect();
                let i_r: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
                let o_r: Vec<&str> = out.iter().map(|s| s.as_str()).collect();
                let st = match strategy {
                    ImputeArg::Mean => ImputerStrategy::Mean,
                    ImputeArg::Median => ImputerStrategy::Median,
                };
                pipeline = pipeline.with_estimator(
                    Imputer::new()
                        .with_input_cols(&i_r)
                        .with_output_cols(&o_r)
                        .with_strategy(st),
                );
                nums = out;
            }
            assembled.extend(nums);
            let a_r: Vec<&str> = assembled.iter().map(|s| s.as_str()).collect();
            let hi = match handle_invalid {
                InvalidArg::Error => HandleInvalid::Error,
                InvalidArg::Skip => HandleInvalid::Skip,
                InvalidArg::Keep => HandleInvalid::Keep,
            };
            let mut lr = LogisticRegression::new()
                .with_label_col(&lr_label)
                .with_family(match family {
                    FamilyArg::Auto => Family::Auto,
                    FamilyArg::Binomial => Family::Binomial,
                    FamilyArg::Multinomial => Family::Multinomial,
                })
                .with_max_iter(max_iter)
                .with_reg_param(reg_param)
                .with_elastic_net_param(elastic_net_param)
                .with_tol(tol)
                .with_standardization(!no_standardization)
                .with_fit_intercept(!no_intercept);
            if let Some(w) = &weight {
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
            // Keep only the columns the pipeline reads, and let the unsplit data go as soon
            // as the split exists: peak memory is what one copy of the data needs.
            let mut used: Vec<&str> = categorical
                .iter()
                .chain(&numeric)
                .map(|s| s.as_str())
                .collect();
            used.push(&lr_label);
            used.extend(weight.as_deref());
            // (a block, so the unselected frame is dropped here and not at the end of scope)
            let mut df = {
                let all = df;
                all.select(&used)?
            };
            if matches!(handle_invalid, InvalidArg::Skip) && impute.is_none() {
                // Drop the rows the assembler would skip once, before the split, so that
                // neither the fit nor the scoring copies the data again to drop them.
                let n: Vec<&str> = numeric.iter().map(|s| s.as_str()).collect();
                df = df.drop_invalid(&n)?;
            }
            let total_rows = df.num_rows();
            let (train, test) = if train_fraction < 1.0 {
                let mut parts = df.random_split(&[train_fraction, 1.0 - train_fraction], seed)?;
                drop(df);
                let test = parts.pop();
                (parts.remove(0), test)
            } else {
                (df, None)
            };
            let t = Instant::now();
            let fitted = pipeline.fit(&train)?;
            let fit_s = t.elapsed().as_secs_f64();
            let lr = fitted
                .stages()
                .iter()
                .find_map(|s| {
                    (s.as_ref() as &dyn std::any::Any).downcast_ref::<LogisticRegressionModel>()
                })
                .ok_or_else(|| Error::Internal("no logistic regression stage".into()))?;
            let summary = lr.summary().cloned();
            let mut metrics = Map::new();
            let train_rows = train.num_rows();
            metrics.insert(
                "train".into(),
                scores(&fitted.transform(&train)?, &lr_label, lr.num_classes())?,
            );
            drop(train);
            if let Some(test) = &test {
                metrics.insert(
                    "test".into(),
                    scores(&fitted.transform(test)?, &lr_label, lr.num_classes())?,
                );
            }
            save(
                &fitted,
                &model,
                if overwrite {
                    SaveMode::Overwrite
                } else {
                    SaveMode::ErrorIfExists
                },
            )?;
            let names = summary
                .as_ref()
                .map(|s| s.feature_names.clone())
                .unwrap_or_default();
            let coefficients: Value = if lr.is_multinomial() {
                json!(lr
                    .coefficient_matrix()
                    .chunks(lr.num_features().max(1))
                    .map(|row| Value::Object(
                        names
                            .iter()
                            .cloned()
                            .zip(row.iter().map(|v| json!(v)))
                            .collect()
                    ))
                    .collect::<Vec<_>>())
            } else {
                Value::Object(
                    names
                        .iter()
                        .cloned()
                        .zip(lr.coefficient_matrix().iter().map(|v| json!(v)))
                        .collect(),
                )
            };
            let report_json = json!({
                "rows": total_rows,
                "train_rows": train_rows,
                "test_rows": test.as_ref().map_or(0, |t| t.num_rows()),
                "features": names,
                "read_s": read_s,
                "fit_s": fit_s,
                "total_iterations": summary.as_ref().map_or(0, |s| s.total_iterations),
                "final_objective": summary.as_ref().and_then(|s| s.objective_history.last().copied()),
                "intercept": if lr.is_multinomial() { json!(lr.intercept_vector()) } else { json!(lr.intercept_vector()[0]) },
                "coefficients": coefficients,
                "metrics": metrics,
            });
            println!(
                "trained on {} rows in {:.3} s ({} iterations); model saved to {}",
                train_rows,
                fit_s,
                report_json["total_iterations"],
                model.display()
            );
            println!("metrics: {}", report_json["metrics"]);
            if let Some(r) = report {
                std::fs::write(
                    &r,
                    serde_json::to_string_pretty(&report_json).unwrap_or_default(),
                )
                .map_err(|e| Error::File {
                    path: r.clone(),
                    reason: format!("cannot write the report: {e}"),
                })?;
            }
            Ok(())
        }
        Command::Predict {
            model,
            input,
            output,
            columns,
        } => {
            let stage = load_stage(&model)?;
            let df = read(&input)?;
            let keep: Vec<String> = match columns {
                Some(c) => c,
                None => df
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect(),
            };
            for c in &keep {
                schema::require_column(df.schema(), "predict", c)?;
            }
            let out = stage.transform(&df)?;
            let mut cols: Vec<&str> = keep.iter().map(|s| s.as_str()).collect();
            for extra in [
                "predictedLabel",
                "prediction",
                "probability",
                "rawPrediction",
            ] {
                if out.schema().field_with_name(extra).is_ok() && !cols.contains(&extra) {
                    cols.push(extra);
                }
            }
            let out = out.select(&cols)?;
            if is_parquet(&output) {
                out.write_parquet(&output)?;
            } else {
                flatten_vectors(&out)?.write_csv(&output)?;
            }
            println!("wrote {} rows to {}", out.num_rows(), output.display());
            Ok(())
        }
        Command::Evaluate {
            model,
            input,
            label,
            metric,
        } => {
            let stage = load_stage(&model)?;
            let mut df = read(&input)?;
            let pm = (stage.as_ref() as &dyn std::any::Any).downcast_ref::<PipelineModel>();
            let lr = pm
                .and_then(|p| {
                    p.stages().iter().find_map(|s| {
                        (s.as_ref() as &dyn std::any::Any).downcast_ref::<LogisticRegressionModel>()
                    })
                })
                .or_else(|| {
                    (stage.as_ref() as &dyn std::any::Any).downcast_ref::<LogisticRegressionModel>()
                })
                .ok_or_else(|| {
                    cli_error("the model has no LogisticRegressionModel stage to evaluate")
                })?;
            let model_label = lr.params().label_col.clone();
            let (label_col, k) = (
                label.unwrap_or_else(|| model_label.trim_end_matches(INDEXED).to_string()),
                lr.num_classes(),
            );
            // A string label is mapped with the labels the pipeline's IndexToString holds.
            let (_, lf) = schema::require_column(df.schema(), "evaluate", &label_col)?;
            let eval_label = if matches!(
                lf.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) {
                let names = pm
                    .and_then(|p| p.stages().iter().find_map(|s| (s.as_ref() as &dyn std::any::Any).downcast_ref::<IndexToString>()))
                    .and_then(|i| i.params().labels.clone())
                    .ok_or_else(|| cli_error(format!("label column `{label_col}` holds strings, but the model has no label mapping")))?;
                let idx = StringIndexerModel::new(
                    "cli",
                    mlpipe::feature::StringIndexerParams {
                        input_col: Some(label_col.clone()),
                        output_col: Some(format!("{label_col}{INDEXED}")),
                        ..Default::default()
                    },
                    vec![names],
                );
                df = idx.transform(&df)?;
                format!("{label_col}{INDEXED}")
            } else {
                label_col
            };
            let scored = stage.transform(&df)?;
            let metrics = if metric.is_empty() {
                vec![if k <= 2 {
                    "areaUnderROC".into()
                } else {
                    "f1".into()
                }]
            } else {
                metric
            };
            let mut out = Map::new();
            for m in metrics {
                let v = metric_value(&scored, &eval_label, &m)?;
                out.insert(m, json!(v));
            }
            println!("{}", Value::Object(out));
            Ok(())
        }
        Command::Inspect {
            model,
            json: as_json,
        } => {
            let stage = load_stage(&model)?;
            let stages: Vec<&dyn Transformer> =
                match (stage.as_ref() as &dyn std::any::Any).downcast_ref::<PipelineModel>() {
                    Some(p) => p.stages().iter().map(|s| s.as_ref()).collect(),
                    None => vec![stage.as_ref()],
                };
            let described: Vec<Value> = stages.iter().map(|s| describe(*s)).collect();
            if as_json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(
                        &json!({"uid": stage.uid(), "kind": stage.kind(), "stages": described})
                    )
                    .unwrap_or_default()
                );
            } else {
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
                    println!("    params: {}", d["params"]);
                    if !d["fitted"].is_null() {
                        println!("    fitted: {}", d["fitted"]);
                    }
                }
            }
            Ok(())
        }
        Command::Show { input, n } => {
            let df = read(&input)?;
            println!(
                "{}: {} rows, {} partitions",
                input.display(),
                df.num_rows(),
                df.num_partitions()
            );
            for f in df.schema().fields() {
                println!(
                    " |-- {}: {} (nullable = {})",
                    f.name(),
                    f.data_type(),
                    f.is_nullable()
                );
            }
            df.show(n)
        }
    }
}

/// A stage's kind, uid, params, and fitted values.
fn describe(s: &dyn Transformer) -> Value {
    let any = s as &dyn std::any::Any;
    use mlpipe::feature::*;
    let fitted = if let Some(m) = any.downcast_ref::<LogisticRegressionModel>() {
        json!({"numClasses": m.num_classes(), "numFeatures": m.num_features(), "coefficientMatrix": m.coefficient_matrix(), "interceptVector": m.intercept_vector()})
    } else if let Some(m) = any.downcast_ref::<StandardScalerModel>() {
        json!({"mean": m.mean(), "std": m.std()})
    } else if let Some(m) = any.downcast_ref::<StringIndexerModel>() {
        json!({"labelsArray": m.labels()})
    } else if let Some(m) = any.downcast_ref::<OneHotEncoderModel>() {
        json!({"categorySizes": m.category_sizes()})
    } else if let Some(m) = any.downcast_ref::<ImputerModel>() {
        json!({"surrogates": m.surrogates()})
    } else if let Some(m) = any.downcast_ref::<MinMaxScalerModel>() {
        json!({"originalMin": m.original_min(), "originalMax": m.original_max()})
    } else if let Some(m) = any.downcast_ref::<MaxAbsScalerModel>() {
        json!({"maxAbs": m.max_abs()})
    } else {
        Value::Null
    };
    json!({"kind": s.kind(), "uid": s.uid(), "params": s.params_json(), "fitted": fitted})
}

/// One metric by Spark's name on scored rows.
fn metric_value(scored: &DataFrame, label: &str, m: &str) -> Result<f64> {
    match m {
        "areaUnderROC" => BinaryClassificationEvaluator::new()
            .with_label_col(label)
            .evaluate(scored),
        "areaUnderPR" => BinaryClassificationEvaluator::new()
            .with_label_col(label)
            .with_metric(BinaryMetric::AreaUnderPr)
            .evaluate(scored),
        other => MulticlassClassificationEvaluator::new()
            .with_label_col(label)
            .with_metric(other.parse()?)
            .evaluate(scored),
    }
}

/// The report's metrics on scored rows.
fn scores(scored: &DataFrame, label: &str, k: usize) -> Result<Value> {
    let mut m = Map::new();
    let names: &[&str] = if k <= 2 {
        &["areaUnderROC", "areaUnderPR", "accuracy", "f1", "logLoss"]
    } else {
        &["accuracy", "f1", "logLoss"]
    };
    for n in names {
        m.insert(n.to_string(), json!(metric_value(scored, label, n)?));
    }
    Ok(Value::Object(m))
}

/// Replaces each vector column `v` by `v_0`, `v_1`, ... (CSV holds only flat values).
fn flatten_vectors(df: &DataFrame) -> Result<DataFrame> {
    let mut out = df.clone();
    for f in df.schema().fields() {
        let Some(n) = vector::vector_size(f.data_type()) else {
            continue;
        };
        let col = df.column(f.name())?;
        for j in 0..n {
            let chunks = col
                .chunks
                .iter()
                .map(|c| {
                    let l = c.as_fixed_size_list();
                    let v = vector::dense_values(l)?;
                    Ok(Arc::new(Float64Array::from(
                        (0..l.len())
                            .map(|r| {
                                if l.is_null(r) {
                                    None
                                } else {
                                    Some(v[r * n + j])
                                }
                            })
                            .collect::<Vec<_>>(),
                    )) as ArrayRef)
                })
                .collect::<Result<Vec<_>>>()?;
            out = out.with_column(
                Field::new(format!("{}_{j}", f.name()), DataType::Float64, true),
                chunks,
            )?;
        }
        out = out.drop([f.name()])?;
    }
    Ok(out)
}
