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
mod remote;
#[cfg(feature = "serve")]
mod serve;
mod show;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mlpipe::prelude::*;

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
        /// Fit on a Spark 4 cluster through Spark Connect (`sc://host:port`): --input is then
        /// a path the cluster reads, and Spark saves the model at --model as the cluster sees
        /// it. Needs the CLI's `connect` feature.
        #[arg(long)]
        remote: Option<String>,
    },
    /// Cross-validate (or train/validation split) `train`'s pipeline for an --algorithm over a
    /// grid of the estimator's Spark params, print each grid point's metric and save the best model.
    Tune(tune::TuneArgs),
    /// Fit the standard pipeline (index + one-hot categorical columns, optional imputation,
    /// assemble, then the --algorithm's estimator: logistic regression by default) and save
    /// it as a Spark PipelineModel.
    Train(Box<train::Args>),
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
    /// Serve a fitted model over HTTP: POST /predict (a JSON row or an array of rows),
    /// GET /model, GET /health.
    #[cfg(feature = "serve")]
    Serve(serve::Args),
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
            remote: Some(url),
        } => remote::fit(
            &url,
            &pipeline,
            &input,
            &model,
            overwrite,
            report.as_deref(),
        ),
        Command::Fit {
            pipeline,
            input,
            model,
            overwrite,
            report,
            remote: None,
        } => fit::run(fit::Args {
            pipeline: &pipeline,
            input: &input,
            model: &model,
            overwrite,
            report: report.as_deref(),
        }),
        Command::Tune(args) => {
            tune::fix_mmap_threshold();
            let df = data::read(&args.input)?;
            tune::run(args, df)
        }
        Command::Train(args) => train::run(*args),
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
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
    }
}
