//! Fit an mlpipe Pipeline on a Spark cluster through Spark Connect, evaluate it there, and
//! bring the fitted model back to score locally.
//!
//! Start a local Spark Connect server (Spark 4.x; `.ci/connect_server.sh start PYTHON` uses the
//! pip `pyspark` package), then:
//!
//! ```text
//! cargo run --example connect --features connect -- sc://127.0.0.1:15002
//! ```
//!
//! The data here is `data/quickstart.csv`, uploaded from this program; on a real cluster,
//! read the cluster's own files with `spark.read_parquet(["s3a://bucket/train"])`.

use mlpipe::classification::{LogisticRegression, LogisticRegressionModel};
use mlpipe::connect::{EvaluateRemote, Session};
use mlpipe::evaluation::BinaryClassificationEvaluator;
use mlpipe::feature::{OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler};
use mlpipe::prelude::*;

fn main() -> mlpipe::Result<()> {
    let url = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("MLPIPE_SPARK_CONNECT").ok())
        .unwrap_or_else(|| "sc://127.0.0.1:15002".into());
    let spark = Session::connect(&url)?;
    println!(
        "connected to Spark {} at {}",
        spark.spark_version(),
        spark.url()
    );

    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv");
    let local = DataFrame::read_csv(csv, &CsvOptions::default())?;
    let data = spark.create_frame(&local)?;
    let [train, test] = data.random_split([0.8, 0.2], 42)?;
    println!(
        "{} training rows, {} test rows (split by Spark)",
        train.count()?,
        test.count()?
    );

    // The same builder as for a local fit.
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("contract")
                .with_output_col("contract_idx"),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["contract_idx"])
                .with_output_cols(["contract_vec"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols([
                    "tenure",
                    "monthly_charges",
                    "num_support_calls",
                    "contract_vec",
                ])
                .with_output_col("raw"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.01),
        );

    let start = std::time::Instant::now();
    let model = pipeline.fit_remote(&train)?; // every fit runs on the cluster
    println!("fitted on Spark in {:.1} s", start.elapsed().as_secs_f64());

    let auc = BinaryClassificationEvaluator::new()
        .with_label_col("churn")
        .with_num_bins(0)
        .evaluate_remote(&model.transform_remote(&test)?)?;
    println!("test AUC computed by Spark: {auc:.4}");

    // Bring the model here: its fitted values come back through ML Fetch (no shared
    // storage needed).
    let fitted: PipelineModel = model.fetch()?;
    let lr = fitted.stage::<LogisticRegressionModel>()?;
    println!("coefficients fitted by Spark: {:?}", lr.coefficients()?);

    let scored = fitted.transform(&test.collect()?)?; // scored here, by mlpipe
    let local_auc = BinaryClassificationEvaluator::new()
        .with_label_col("churn")
        .with_num_bins(0)
        .evaluate(&scored)?;
    println!("the same AUC computed here: {local_auc:.4}");
    Ok(())
}
