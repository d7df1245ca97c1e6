//! The `mlpipe` command line: fit, train, predict, evaluate, inspect, show.
//!
//! Every error is one line on stderr saying what is wrong, and the exit code is 2. Each
//! command lives in its own module; what differs between model types is in `model_kind`.

mod data;
mod evaluate;
mod fit;
mod inspect;
mod model_kind;
mod predict;
mod show;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mlpipe::prelude::*;

use train::{FamilyArg, ImputeArg, InvalidArg};

mod tune;

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

#[derive(Subcommand)]
enum Command {
    /// Fit an unfitted Pipeline (or single estimator) saved by PySpark or mlpipe, and save the
    /// fitted PipelineModel in Spark's format.
    Fit {
        /// Directory of the saved, unfitted Pipeline (`Pipeline(...).write().save(dir)`).
        #[arg(long)]
        pipeline: PathBuf,
        /// Training data (.csv or .parquet).
        #[arg(long)]
        input: PathBuf,
        /// Where to save the fitted model.
        #[arg(long)]
        model: PathBuf,
        /// Replace an existing saved model (only a saved model, an empty directory or nothing).
        #[arg(long)]
        overwrite: bool,
        /// Write a JSON report here (rows, fit seconds per stage, each fitted stage's summary).
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Cross-validate the logistic regression pipeline over a param grid and save the best model.
    Tune(tune::TuneArgs),
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
        /// Given without --categorical, only these are used.
        #[arg(long, value_delimiter = ',')]
        features: Option<Vec<String>>,
        /// Categorical columns (default without --features: every string column but the
        /// label whose distinct values are at most half the rows and --max-categories).
        #[arg(long, value_delimiter = ',')]
        categorical: Option<Vec<String>>,
        /// Columns never to use as features.
        #[arg(long, value_delimiter = ',')]
        exclude: Vec<String>,
        /// Most distinct values a string column may have to be one-hot encoded by default.
        #[arg(long, default_value_t = 1000)]
        max_categories: usize,
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
        seed: i64,
        /// Replace an existing saved model (only a saved model, an empty directory or nothing).
        #[arg(long)]
        overwrite: bool,
        /// Write a JSON report here.
        #[arg(long)]
        report: Option<PathBuf>,
    },
    /// Score a file with a fitted model (mlpipe's or PySpark's).
    Predict {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Output file (.csv flattens vector columns to name_0..k-1; .parquet keeps lists).
        #[arg(long)]
        output: PathBuf,
        /// Input columns to keep (default: all).
        #[arg(long, value_delimiter = ',')]
        columns: Option<Vec<String>>,
    },
    /// Print metrics of a fitted model on a labelled file as one JSON object.
    Evaluate {
        #[arg(long)]
        model: PathBuf,
        #[arg(long)]
        input: PathBuf,
        /// Label column (default: the predictor's, or the raw label the pipeline indexes).
        #[arg(long)]
        label: Option<String>,
        /// Metric names (Spark's), repeatable; default areaUnderROC (binary), f1
        /// (multiclass), rmse (regression).
        #[arg(long)]
        metric: Vec<String>,
        /// Instance weight column for weighted metrics.
        #[arg(long)]
        weight: Option<String>,
    },
    /// Print a saved model's stages, params and fitted values.
    Inspect {
        #[arg(long)]
        model: PathBuf,
        /// One JSON object instead of text.
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
        Command::Fit {
            pipeline,
            input,
            model,
            overwrite,
            report,
        } => fit::run(fit::Args {
            pipeline: &pipeline,
            input: &input,
            model: &model,
            overwrite,
            report: report.as_deref(),
        }),
        Command::Tune(args) => {
            let df = data::read(&args.input)?;
            tune::run(args, df)
        }
        Command::Train {
            input,
            label,
            model,
            features,
            categorical,
            exclude,
            max_categories,
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
        } => train::run(train::Args {
            input,
            label,
            model,
            features,
            categorical,
            exclude,
            max_categories,
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
        }),
        Command::Predict {
            model,
            input,
            output,
            columns,
        } => predict::run(&model, &input, &output, columns.as_deref()),
        Command::Evaluate {
            model,
            input,
            label,
            metric,
            weight,
        } => evaluate::run(evaluate::Args {
            model: &model,
            input: &input,
            label: label.as_deref(),
            metrics: &metric,
            weight: weight.as_deref(),
        }),
        Command::Inspect { model, json } => inspect::run(&model, json),
        Command::Show { input, n } => show::run(&input, n),
    }
}
