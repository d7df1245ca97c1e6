//! `mlpipe tune`: cross-validation (or one train/validation split) of a pipeline over a
//! param grid; prints each grid point's metric (mean ± std over folds) and saves the best
//! PipelineModel, refit on all rows (or, with `--save-validator`, the whole
//! CrossValidatorModel / TrainValidationSplitModel). A progress bar on stderr counts the
//! fits.
//!
//! The pipeline is `train`'s, for the same `--algorithm` (resolved against the label by
//! the same code): a string label indexed first, the numeric features assembled (rows
//! with a null or NaN skipped), then the algorithm's Spark estimator, whose params the
//! `--grid` flags name by their Spark names.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryMetric, ClusteringEvaluator,
    MulticlassClassificationEvaluator, RegressionEvaluator,
};
use mlpipe::feature::{StringIndexer, VectorAssembler};
use mlpipe::frame::schema;
use mlpipe::persist::{save, SaveMode};
use mlpipe::pipeline::{Evaluator, PipelineStage};
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder, TrainValidationSplit};
use serde_json::{json, Value};

use crate::data::usage;
use crate::evaluate::check_metrics;
use crate::model_kind::EvaluatorKind;
use crate::train::{numeric_label_stats, task, Algorithm, Task};

/// Options of `mlpipe tune`.
#[derive(Args)]
pub struct TuneArgs {
    /// Training data (.csv or .parquet).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Label column (numeric, or strings indexed by frequency); none for kmeans.
    #[arg(long)]
    label: Option<String>,
    /// The estimator to tune, as for `train`: lr (default for a class label), linreg
    /// (default for a numeric label with non-integer values), nb, kmeans, dt, rf, gbt,
    /// svc; dt/rf/gbt fit a regressor for a numeric target.
    #[arg(long, value_enum)]
    algorithm: Option<Algorithm>,
    /// Numeric feature columns (default: every numeric column but the label).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// A param of the estimator by its Spark name and the values to try, e.g.
    /// 'regParam=0.001,0.01,0.1' or 'maxDepth=3,5'; repeat for more params (the last one
    /// varies fastest, as in PySpark).
    #[arg(long = "grid", required = true)]
    grids: Vec<String>,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 3, conflicts_with = "train_ratio")]
    folds: usize,
    /// Use one train/validation split with this training fraction instead of folds.
    #[arg(long)]
    train_ratio: Option<f64>,
    /// The metric to select by (Spark's name): default areaUnderROC for two classes, f1
    /// for more, rmse for a numeric target, silhouette for kmeans.
    #[arg(long)]
    metric: Option<String>,
    #[arg(long, default_value_t = 42)]
    seed: i64,
    /// How many fits run at once.
    #[arg(long, default_value_t = 2)]
    parallelism: usize,
    /// Where to save the best PipelineModel.
    #[arg(long)]
    model: PathBuf,
    /// Replace an existing model directory.
    #[arg(long)]
    overwrite: bool,
    /// Save the whole fitted validator (Spark's CrossValidatorModel or
    /// TrainValidationSplitModel: metrics, param maps, estimator, evaluator and the best
    /// model) instead of the best PipelineModel alone.
    #[arg(long)]
    save_validator: bool,
}

/// A progress bar over `total` fits on stderr (hidden when stderr is not a terminal).
fn progress_bar(total: usize) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{elapsed_precise} [{bar:30}] {pos}/{len} fits, eta {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// The evaluator of a metric by Spark's name for the task's kind, scoring the label
/// column `label`; a metric the kind lacks lists the valid ones.
fn evaluator(kind: EvaluatorKind, metric: &str, label: &str) -> Result<Box<dyn Evaluator>> {
    check_metrics(&[metric.to_string()], kind)?;
    Ok(match kind {
        EvaluatorKind::Clustering => Box::new(ClusteringEvaluator::new()),
        EvaluatorKind::Regression => Box::new(
            RegressionEvaluator::new()
                .with_label_col(label)
                .with_metric(metric.parse()?),
        ),
        EvaluatorKind::Binary | EvaluatorKind::Multiclass => match metric.parse::<BinaryMetric>() {
            Ok(m) => Box::new(
                BinaryClassificationEvaluator::new()
                    .with_label_col(label)
                    .with_metric(m),
            ),
            Err(_) => Box::new(
                MulticlassClassificationEvaluator::new()
                    .with_label_col(label)
                    .with_metric(metric.parse()?),
            ),
        },
    })
}

/// A boxed evaluator used as the validators' evaluator.
#[derive(Debug)]
struct Boxed(Box<dyn Evaluator>);

impl Evaluator for Boxed {
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        self.0.evaluate(df)
    }
    fn is_larger_better(&self) -> bool {
        self.0.is_larger_better()
    }
    fn persistable(&self) -> Option<&dyn mlpipe::persist::Persist> {
        self.0.persistable()
    }
}

fn parse_grid(spec: &str) -> Result<(String, Vec<Value>)> {
    let (name, values) = spec.split_once('=').ok_or_else(|| {
        Error::Usage(format!(
            "--grid '{spec}': expected NAME=V1,V2,... (e.g. 'regParam=0.01,0.1')"
        ))
    })?;
    let values = values
        .split(',')
        .map(|v| {
            let v = v.trim();
            serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.to_string()))
        })
        .collect::<Vec<_>>();
    if name.trim().is_empty() || values.is_empty() {
        return Err(Error::Usage(format!(
            "--grid '{spec}': expected NAME=V1,V2,..."
        )));
    }
    Ok((name.trim().to_string(), values))
}

/// Fixes glibc's mmap threshold at 1 MB (`mallopt(M_MMAP_THRESHOLD)`), before the data
/// are read: arrays of a megabyte or more are then mapped and unmapped on their own instead
/// of staying in glibc's arenas after they are freed (by default the threshold grows with
/// each large block freed, and up to 64 MB free per arena stays resident). Tuning makes and
/// drops such arrays fold after fold: on 800k x 20 this takes the peak from 2.31x to 1.85x
/// the data set (examples/tuning_bench.rs). Nothing on other C libraries.
pub fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's policy for later allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// Runs `mlpipe tune`.
pub fn run(args: TuneArgs, df: DataFrame) -> Result<()> {
    let Task {
        algo,
        regression,
        string_label,
    } = task(args.algorithm, &df, args.label.as_deref())?;
    let label = args.label.clone().unwrap_or_default();
    let features = match &args.features {
        Some(f) => f.clone(),
        None => df
            .schema()
            .fields()
            .iter()
            .filter(|f| f.name() != &label && schema::is_numeric(f.data_type()))
            .map(|f| f.name().clone())
            .collect(),
    };
    if features.is_empty() {
        return Err(usage("no numeric feature columns: pass --features"));
    }
    let mut pipeline = Pipeline::new();
    // A string label is indexed as `train` indexes it (most frequent -> 0), on all rows.
    let (label_col, classes) = if string_label {
        let idx = StringIndexer::new()
            .with_input_col(&label)
            .with_output_col(&format!("{label}_indexed"))
            .fit(&df.select([&label])?)?;
        let n = idx.labels()[0].len();
        pipeline = pipeline.with_transformer(idx);
        (format!("{label}_indexed"), n)
    } else if algo == Algorithm::Kmeans || regression {
        (label.clone(), 0)
    } else {
        (label.clone(), numeric_label_stats(&df, &label)?.0)
    };
    let kind = match (algo, regression, classes) {
        (Algorithm::Kmeans, _, _) => EvaluatorKind::Clustering,
        (_, true, _) => EvaluatorKind::Regression,
        (_, false, n) if n > 2 => EvaluatorKind::Multiclass,
        _ => EvaluatorKind::Binary,
    };
    let metric = args
        .metric
        .clone()
        .unwrap_or_else(|| kind.default_metric().to_string());
    let mut estimator = algo.estimator(regression);
    if algo != Algorithm::Kmeans {
        estimator.set_param_json("labelCol", json!(label_col))?;
    }
    let mut builder = ParamGridBuilder::new();
    for g in &args.grids {
        let (name, values) = parse_grid(g)?;
        let param = Param {
            parent: estimator.uid().to_string(),
            name,
        };
        builder = builder.add_grid(param, values);
    }
    let grid = builder.build();
    let refs: Vec<&str> = features.iter().map(|s| s.as_str()).collect();
    let pipeline = pipeline
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("features")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_stage(PipelineStage::Estimator(estimator));
    eprintln!(
        "tuning a {} ({}) by {metric}",
        algo.spark_name(regression),
        kind.name()
    );
    let eval = Boxed(evaluator(kind, &metric, &label_col)?);
    let n = grid.len();
    let start = Instant::now();
    let mode = if args.overwrite {
        SaveMode::Overwrite
    } else {
        SaveMode::ErrorIfExists
    };
    // Fail before the fits, not after them.
    mlpipe::persist::check_writable(&args.model, mode)?;
    let (rows, saved): (Vec<(String, String)>, &str) = match args.train_ratio {
        Some(r) => {
            eprintln!(
                "fitting {n} grid points on one {r}/{} split, then the best on all rows",
                1.0 - r
            );
            let bar = progress_bar(n + 1);
            let tick = bar.clone();
            let m = TrainValidationSplit::new(pipeline, eval, grid)
                .with_train_ratio(r)
                .with_seed(args.seed)
                .with_parallelism(args.parallelism)
                .with_progress(move || tick.inc(1))
                .fit(&df)?;
            bar.finish_and_clear();
            let rows = m
                .estimator_param_maps()
                .iter()
                .zip(m.validation_metrics())
                .map(|(p, v)| (p.to_string(), format!("{v:.6}")))
                .collect();
            if args.save_validator {
                save(&m, &args.model, mode)?;
                (rows, "TrainValidationSplitModel")
            } else {
                save(m.best_model(), &args.model, mode)?;
                (rows, "best model")
            }
        }
        None => {
            eprintln!(
                "fitting {n} grid points x {} folds, then the best on all rows",
                args.folds
            );
            let bar = progress_bar(n * args.folds + 1);
            let tick = bar.clone();
            let m = CrossValidator::new(pipeline, eval, grid)
                .with_num_folds(args.folds)
                .with_seed(args.seed)
                .with_parallelism(args.parallelism)
                .with_progress(move || tick.inc(1))
                .fit(&df)?;
            bar.finish_and_clear();
            let rows = m
                .estimator_param_maps()
                .iter()
                .zip(m.avg_metrics().iter().zip(m.std_metrics()))
                .map(|(p, (a, s))| (p.to_string(), format!("{a:.6} ± {s:.6}")))
                .collect();
            if args.save_validator {
                save(&m, &args.model, mode)?;
                (rows, "CrossValidatorModel")
            } else {
                save(m.best_model(), &args.model, mode)?;
                (rows, "best model")
            }
        }
    };
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
    println!("{:<w$}  {metric}", "params");
    for (p, v) in &rows {
        println!("{p:<w$}  {v}");
    }
    println!(
        "{saved} saved to {} ({:.1} s)",
        args.model.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
