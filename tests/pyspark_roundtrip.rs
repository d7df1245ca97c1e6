//! PySpark loads a PipelineModel that mlpipe saved (VectorAssembler -> StandardScaler ->
//! LogisticRegression with bounds, so Spark parses mlpipe's Matrix and Vector param JSON)
//! and predicts what mlpipe predicted, to 1e-9.
//!
//! Ignored by a plain `cargo test`, because it needs PySpark: `.ci/run` installs PySpark 4.3,
//! sets `MLPIPE_PYSPARK` to that Python and runs it with `cargo test -- --ignored`, where
//! any failure to run is a test failure.

use crate::common;

use std::fmt::Write as _;

use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::persist::{save, Matrix, SaveMode};
use mlpipe::prelude::*;

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_an_mlpipe_pipeline_model() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
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
    run_pyspark_check(
        "check_roundtrip.py",
        &[&dir.path(), &spark_fixture("spark_pipeline_lr_inputs.csv")],
    );
}

/// mlpipe saves the six Spark-fitted tree pipelines of tests/fixtures/spark2 (so the files
/// are written by mlpipe's tree writer in Spark 4.3's layout); PySpark 4.3 loads each and
/// predicts what mlpipe predicts (1e-9), and its `toDebugString` equals mlpipe's.
#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_tree_models() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let root = repo_root();
    let fx = |f: &str| format!("{}/tests/fixtures/spark2/{f}", root.display());
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("dtc_mixed", "synth_mixed_test.csv"),
        ("dtr_synth", "synth_reg_test.csv"),
        ("rfc_3class", "synth_3class_test.csv"),
        ("rfr_synth", "synth_reg_test.csv"),
        ("gbtc_binary", "synth_binary_test.csv"),
        ("gbtr_squared", "synth_reg_test.csv"),
    ];
    let cases: Vec<(&str, &str, PipelineModel)> = cases
        .into_iter()
        .map(|(case, test)| {
            let m = PipelineModel::load(fx(&format!("{case}_pipeline"))).unwrap();
            (case, test, m)
        })
        .collect();
    check_trees_in_pyspark(dir.path(), cases);
}

/// mlpipe FITS the RF and GBT pipelines of tests/fixtures/spark2 from Spark's unfitted
/// pipelines, saves them, and PySpark 4.3 loads each and predicts what mlpipe predicts
/// (1e-9), with the same `toDebugString`.
#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_tree_pipelines_fitted_by_mlpipe() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let root = repo_root();
    let fx = |f: &str| format!("{}/tests/fixtures/spark2/{f}", root.display());
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for (case, train, test) in [
        (
            "rfc_3class",
            "synth_3class_train.csv",
            "synth_3class_test.csv",
        ),
        ("rfr_synth", "synth_reg_train.csv", "synth_reg_test.csv"),
        (
            "gbtc_binary",
            "synth_binary_train.csv",
            "synth_binary_test.csv",
        ),
        ("gbtr_squared", "synth_reg_train.csv", "synth_reg_test.csv"),
    ] {
        let pipeline = Pipeline::load(fx(&format!("{case}_pipeline_unfitted"))).unwrap();
        let train = DataFrame::read_csv(fx(train), &CsvOptions::default()).unwrap();
        cases.push((case, test, pipeline.fit(&train).unwrap()));
    }
    check_trees_in_pyspark(dir.path(), cases);
}

/// Saves each `(case, test CSV, model)` under `dir/case/`, with mlpipe's predictions on the
/// test rows, runs `check_tree_roundtrip.py` and compares Spark's `toDebugString` with ours.
fn check_trees_in_pyspark(dir: &std::path::Path, cases: Vec<(&str, &str, PipelineModel)>) {
    use mlpipe::tree::*;
    let root = repo_root();
    let fx = |f: &str| format!("{}/tests/fixtures/spark2/{f}", root.display());
    let mut args = Vec::new();
    let mut debug = Vec::new();
    for (case, test, model) in cases {
        let cdir = dir.join(case);
        save(&model, cdir.join("model"), SaveMode::ErrorIfExists).unwrap();
        let df = DataFrame::read_csv(fx(test), &CsvOptions::default()).unwrap();
        let scored = model.transform(&df).unwrap();
        let ids = f64_column(&scored, "id");
        let pred = f64_column(&scored, "prediction");
        let p1: Vec<f64> = if scored.schema().field_with_name("probability").is_ok() {
            vector_rows(&scored, "probability")
                .iter()
                .map(|p| p[1])
                .collect()
        } else {
            vec![0.0; ids.len()]
        };
        let mut csv = String::from("id,prediction,p1\n");
        for r in 0..ids.len() {
            writeln!(csv, "{},{:?},{:?}", ids[r] as i64, pred[r], p1[r]).unwrap();
        }
        std::fs::write(cdir.join("predictions.csv"), csv).unwrap();
        let last = model.stages().last().unwrap().as_ref() as &dyn std::any::Any;
        let s = if let Some(m) = last.downcast_ref::<DecisionTreeClassificationModel>() {
            m.to_debug_string()
        } else if let Some(m) = last.downcast_ref::<DecisionTreeRegressionModel>() {
            m.to_debug_string()
        } else if let Some(m) = last.downcast_ref::<RandomForestClassificationModel>() {
            m.to_debug_string()
        } else if let Some(m) = last.downcast_ref::<RandomForestRegressionModel>() {
            m.to_debug_string()
        } else if let Some(m) = last.downcast_ref::<GBTClassificationModel>() {
            m.to_debug_string()
        } else {
            last.downcast_ref::<GBTRegressionModel>()
                .unwrap()
                .to_debug_string()
        };
        debug.push((case, s));
        args.push(format!("{case}={}", fx(test)));
    }
    let mut all: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![&dir];
    all.extend(args.iter().map(|a| a as &dyn AsRef<std::ffi::OsStr>));
    run_pyspark_check("check_tree_roundtrip.py", &all);
    for (case, ours) in debug {
        let theirs = std::fs::read_to_string(dir.join(case).join("spark_debug.txt")).unwrap();
        assert_eq!(ours.trim_end(), theirs.trim_end(), "{case}: toDebugString");
    }
}
