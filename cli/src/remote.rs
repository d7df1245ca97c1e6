//! `--remote sc://...`: `fit` and `train` on a Spark 4 cluster through Spark Connect (the
//! CLI's `connect` feature). Paths are then the cluster's: Spark reads --input and writes
//! --model.

#[cfg(not(feature = "connect"))]
use std::path::Path;
use std::path::PathBuf;

use mlpipe::prelude::*;

#[cfg(not(feature = "connect"))]
use crate::data::usage;

/// What `train` decided, for the cluster to fit (read only with the `connect` feature).
#[cfg_attr(not(feature = "connect"), allow(dead_code))]
pub struct TrainJob {
    pub pipeline: Pipeline,
    /// The columns the pipeline reads.
    pub columns: Vec<String>,
    pub label: Option<String>,
    pub algorithm: &'static str,
    pub regression: bool,
    pub clustering: bool,
    pub train_fraction: f64,
    pub seed: i64,
    pub model: String,
    pub overwrite: bool,
    pub report: Option<PathBuf>,
}

#[cfg(not(feature = "connect"))]
const NO_CONNECT: &str = "--remote needs the `connect` feature, which this mlpipe was built without; rebuild it with `cargo install --path cli --features connect` (the build needs protoc)";

/// The remote input of `train`, when --remote is given.
#[cfg(not(feature = "connect"))]
pub enum Remote {}

#[cfg(not(feature = "connect"))]
impl Remote {
    pub fn sample(&self) -> Result<DataFrame> {
        match *self {}
    }
}

#[cfg(not(feature = "connect"))]
pub fn open(url: Option<&str>, _input: &Path) -> Result<Option<Remote>> {
    match url {
        Some(_) => Err(usage(NO_CONNECT)),
        None => Ok(None),
    }
}

#[cfg(not(feature = "connect"))]
pub fn train(r: Remote, _job: TrainJob) -> Result<()> {
    match r {}
}

#[cfg(not(feature = "connect"))]
pub fn fit(
    _url: &str,
    _pipeline: &Path,
    _input: &Path,
    _model: &Path,
    _overwrite: bool,
    _report: Option<&Path>,
) -> Result<()> {
    Err(usage(NO_CONNECT))
}

#[cfg(feature = "connect")]
pub use with_connect::*;

#[cfg(feature = "connect")]
mod with_connect {
    use std::path::Path;
    use std::time::Instant;

    use mlpipe::connect::{EvaluateRemote, RemoteFrame, Session};
    use mlpipe::evaluation::{
        ClusteringEvaluator, MulticlassClassificationEvaluator, MulticlassMetric,
        RegressionEvaluator, RegressionMetric,
    };
    use mlpipe::prelude::*;
    use serde_json::{json, Map, Value};

    use super::TrainJob;
    use crate::data::write_report;

    /// Rows `train` reads to choose the feature columns of a remote input.
    const SAMPLE_ROWS: i32 = 10_000;

    /// The input of `train --remote`: a frame the cluster reads.
    pub struct Remote {
        frame: RemoteFrame,
    }

    impl Remote {
        /// The first rows, from which `train` picks the columns.
        pub fn sample(&self) -> Result<DataFrame> {
            self.frame.limit(SAMPLE_ROWS).collect()
        }
    }

    /// The cluster's frame over `input` (Parquet, or CSV by its extension).
    fn read(spark: &Session, input: &Path) -> Result<RemoteFrame> {
        let path = input.to_string_lossy();
        if path.to_ascii_lowercase().ends_with(".csv") {
            spark.read_csv([path.as_ref()])
        } else {
            spark.read_parquet([path.as_ref()])
        }
    }

    pub fn open(url: Option<&str>, input: &Path) -> Result<Option<Remote>> {
        let Some(url) = url else { return Ok(None) };
        let spark = Session::connect(url)?;
        println!(
            "connected to Spark {} at {}",
            spark.spark_version(),
            spark.url()
        );
        Ok(Some(Remote {
            frame: read(&spark, input)?,
        }))
    }

    /// `fit --pipeline DIR --remote URL`: the saved, unfitted pipeline fitted on the cluster.
    pub fn fit(
        url: &str,
        pipeline: &Path,
        input: &Path,
        model: &Path,
        overwrite: bool,
        report: Option<&Path>,
    ) -> Result<()> {
        let pipeline = crate::fit::load_unfitted(pipeline)?;
        let spark = Session::connect(url)?;
        let df = read(&spark, input)?;
        let t = Instant::now();
        let fitted = pipeline.fit_remote(&df)?;
        let fit_s = t.elapsed().as_secs_f64();
        let model = model.to_string_lossy();
        fitted.save_remote(&model, overwrite)?;
        println!(
            "fitted {} stages on Spark {} at {} in {:.3} s; Spark saved the model to {model}",
            fitted.stages().len(),
            spark.spark_version(),
            spark.url(),
            fit_s
        );
        if let Some(r) = report {
            let stages: Vec<Value> = fitted
                .stages()
                .iter()
                .map(|(kind, uid)| json!({"kind": kind, "uid": uid}))
                .collect();
            write_report(
                r,
                &json!({"remote": spark.url(), "spark_version": spark.spark_version(), "fit_s": fit_s, "stages": stages}),
            )?;
        }
        Ok(())
    }

    /// `train --remote`: the pipeline `train` built, fitted, evaluated and saved by Spark.
    pub fn train(r: Remote, job: TrainJob) -> Result<()> {
        let data = r.frame.select(&job.columns)?;
        let (train, test) = if job.train_fraction < 1.0 {
            let [a, b] =
                data.random_split([job.train_fraction, 1.0 - job.train_fraction], job.seed)?;
            (a, Some(b))
        } else {
            (data, None)
        };
        let t = Instant::now();
        let fitted = job.pipeline.fit_remote(&train)?;
        let fit_s = t.elapsed().as_secs_f64();
        let scores = |d: &RemoteFrame| -> Result<Value> {
            let scored = fitted.transform_remote(d)?;
            let mut m = Map::new();
            let label = job.label.as_deref().unwrap_or("label");
            if job.clustering {
                m.insert(
                    "silhouette".into(),
                    json!(ClusteringEvaluator::new().evaluate_remote(&scored)?),
                );
            } else if job.regression {
                for metric in [RegressionMetric::Rmse, RegressionMetric::R2] {
                    let e = RegressionEvaluator::new()
                        .with_label_col(label)
                        .with_metric(metric);
                    m.insert(metric.name().into(), json!(e.evaluate_remote(&scored)?));
                }
            } else {
                for metric in [MulticlassMetric::Accuracy, MulticlassMetric::F1] {
                    let e = MulticlassClassificationEvaluator::new()
                        .with_label_col(label)
                        .with_metric(metric);
                    m.insert(metric.name().into(), json!(e.evaluate_remote(&scored)?));
                }
            }
            Ok(Value::Object(m))
        };
        let mut metrics = Map::new();
        metrics.insert("train".into(), scores(&train)?);
        if let Some(test) = &test {
            metrics.insert("test".into(), scores(test)?);
        }
        fitted.save_remote(&job.model, job.overwrite)?;
        println!(
            "trained a {} on Spark in {:.3} s; Spark saved the model to {}",
            job.algorithm, fit_s, job.model
        );
        let metrics = Value::Object(metrics);
        println!("metrics: {metrics}");
        if let Some(path) = &job.report {
            write_report(
                path,
                &json!({"remote": r.frame.session().url(), "algorithm": job.algorithm, "fit_s": fit_s, "metrics": metrics}),
            )?;
        }
        Ok(())
    }
}
