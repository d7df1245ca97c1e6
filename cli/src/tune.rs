//! `mlpipe tune`: cross-validation (or one train/validation split) of the logistic
//! regression pipeline over a param grid; prints each grid point's metric (mean ± std over
//! folds) and saves the best PipelineModel, refit on all rows (or, with
//! `--save-validator`, the whole CrossValidatorModel / TrainValidationSplitModel). A
//! progress bar on stderr counts the fits.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryMetric, MulticlassClassificationEvaluator,
};
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::frame::schema;
use mlpipe::persist::{save, SaveMode};
use mlpipe::pipeline::Evaluator;
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder, TrainValidationSplit};
use serde_json::Value;

/// Options of `mlpipe tune`.
#[derive(Args)]
pub struct TuneArgs {
    /// Training data (.csv or .parquet).
    #[arg(long)]
    pub(crate) input: PathBuf,
    /// Label column (numeric class indices).
    #[arg(long)]
    label: String,
    /// Numeric feature columns (default: every numeric column but the label).
    #[arg(long, value_delimiter = ',')]
    features: Option<Vec<String>>,
    /// A LogisticRegression param and its values, e.g. 'regParam=0.001,0.01,0.1'; repeat
    /// for more params (the last one varies fastest, as in PySpark).
    #[arg(long = "grid", required = true)]
    grids: Vec<String>,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 3, conflicts_with = "train_ratio")]
    folds: usize,
    /// Use one train/validation split with this training fraction instead of folds.
    #[arg(long)]
    train_ratio: Option<f64>,
    /// areaUnderROC, areaUnderPR, or a multiclass metric (accuracy, f1, logLoss, ...).
    #[arg(long, default_value = "areaUnderROC")]
    metric: String,
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

/// The evaluator of a metric by Spark's name: binary for areaUnderROC / areaUnderPR,
/// multiclass otherwise; an unknown name lists every valid one.
fn evaluator(metric: &str, label: &str) -> Result<Box<dyn Evaluator>> {
    if let Ok(m) = metric.parse::<BinaryMetric>() {
        return Ok(Box::new(
            BinaryClassificationEvaluator::new()
                .with_label_col(label)
                .with_metric(m),
        ));
    }
    Ok(Box::new(
        MulticlassClassificationEvaluator::new()
            .with_label_col(label)
            .with_metric(metric.parse()?),
    ))
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

/// Runs `mlpipe tune`.
pub fn run(args: TuneArgs, df: DataFrame) -> Result<()> {
    let features = match args.features {
        Some(f) => f,
        None => df
            .schema()
            .fields()
            .iter()
            .filter(|f| f.name() != &args.label && schema::is_numeric(f.data_type()))
            .map(|f| f.name().clone())
            .collect(),
    };
    let refs: Vec<&str> = features.iter().map(|s| s.as_str()).collect();
    let lr = LogisticRegression::new().with_label_col(&args.label);
    let mut builder = ParamGridBuilder::new();
    for g in &args.grids {
        let (name, values) = parse_grid(g)?;
        builder = builder.add_grid(Param::new(&lr, &name), values);
    }
    let grid = builder.build();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("raw_features")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw_features")
                .with_output_col("features"),
        )
        .with_estimator(lr);
    let eval = Boxed(evaluator(&args.metric, &args.label)?);
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
    println!("{:<w$}  {}", "params", args.metric);
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
