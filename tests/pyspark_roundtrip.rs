//! PySpark loads a PipelineModel that mlpipe saved (VectorAssembler -> StandardScaler ->
//! LogisticRegression with bounds, so Spark parses mlpipe's Matrix and Vector param JSON)
//! and predicts what mlpipe predicted, to 1e-9.
//!
//! Ignored by a plain `cargo test`, because it needs PySpark: `.ci/run` installs PySpark 4.3,
//! sets `MLPIPE_PYSPARK` to that Python and runs it with `cargo test -- --ignored`, where
//! any failure to run is a test failure.

mod common;

use std::fmt::Write as _;

use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::persist::{save, Matrix, SaveMode};
use mlpipe::prelude::*;

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_an_mlpipe_pipeline_model() {
    let python = pyspark_python();
    let cols = feature_cols();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let model = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("features_raw")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("features_raw")
                .with_output_col("features")
                .with_mean(true),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.01)
                // 0.5 binds one coefficient (the free fit has 0.512); ±5 does not bind.
                .with_upper_bounds_on_coefficients(Matrix::new(1, 20, vec![0.5; 20]).unwrap())
                .with_lower_bounds_on_intercepts(&[-5.0])
                .with_upper_bounds_on_intercepts(&[5.0]),
        )
        .fit(&read("train_rows.csv"))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    save(&model, dir.path().join("model"), SaveMode::ErrorIfExists).unwrap();
    let scored = model
        .transform(&read("spark_pipeline_lr_inputs.csv"))
        .unwrap();
    let ids = f64_column(&scored, "customer_id");
    let pred = f64_column(&scored, "prediction");
    let prob = vector_rows(&scored, "probability");
    let mut csv = String::from("customer_id,probability_1,prediction\n");
    for r in 0..ids.len() {
        writeln!(csv, "{},{:?},{:?}", ids[r] as i64, prob[r][1], pred[r]).unwrap();
    }
    std::fs::write(dir.path().join("predictions.csv"), csv).unwrap();
    let out = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/pyspark/check_roundtrip.py"
        ))
        .arg(dir.path())
        .arg(spark_fixture("spark_pipeline_lr_inputs.csv"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "PySpark check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
}
