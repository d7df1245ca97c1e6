//! `mlpipe fit --remote` and `mlpipe train --remote` against a real Spark 4.3 Connect server
//! (the CLI's `connect` feature). Start one with `.ci/connect_server.sh start PYTHON` and set
//! `MLPIPE_SPARK_CONNECT=sc://127.0.0.1:15002`; without it each test prints why it is skipped.
//! The server runs on this machine, so the cluster's paths are ours.

use crate::common;

use std::process::Command;

use common::repo_root;
use mlpipe::classification::LogisticRegressionModel;
use mlpipe::prelude::*;

fn server() -> Option<String> {
    match std::env::var("MLPIPE_SPARK_CONNECT") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: set MLPIPE_SPARK_CONNECT=sc://127.0.0.1:15002 with a Spark Connect server running (.ci/connect_server.sh start PYTHON)");
            None
        }
    }
}

fn mlpipe(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn spark_cli(name: &str) -> String {
    format!("{}/tests/fixtures/spark_cli/{name}", repo_root().display())
}

#[test]
fn fit_remote_fits_the_pyspark_pipeline_on_spark_like_a_local_fit() {
    let Some(url) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (remote, local) = (dir.path().join("remote"), dir.path().join("local"));
    let args = |model: &std::path::Path| {
        vec![
            "fit".to_string(),
            "--pipeline".into(),
            spark_cli("unfitted_pipeline"),
            "--input".into(),
            spark_cli("train.csv"),
            "--model".into(),
            model.to_str().unwrap().into(),
        ]
    };
    let mut a = args(&remote);
    a.extend(["--remote".to_string(), url.clone()]);
    let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    let (code, out, err) = mlpipe(&a);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("fitted 7 stages on Spark 4.") && out.contains("Spark saved the model"),
        "{out}"
    );
    let a = args(&local);
    let a: Vec<&str> = a.iter().map(|s| s.as_str()).collect();
    let (code, out, err) = mlpipe(&a);
    assert_eq!(code, 0, "{out}{err}");

    // Spark's fit (saved by Spark) and mlpipe's fit of the same file agree to 1e-9.
    let (r, l) = (
        PipelineModel::load(&remote).unwrap(),
        PipelineModel::load(&local).unwrap(),
    );
    let (r, l) = (
        r.stage::<LogisticRegressionModel>().unwrap(),
        l.stage::<LogisticRegressionModel>().unwrap(),
    );
    for (x, y) in r
        .coefficients()
        .unwrap()
        .iter()
        .zip(l.coefficients().unwrap())
    {
        assert!(
            (x - y).abs() <= 1e-9 * y.abs().max(1.0),
            "Spark {x} vs mlpipe {y}"
        );
    }
}

#[test]
fn train_remote_trains_evaluates_and_has_spark_save_the_model() {
    let Some(url) = server() else { return };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let report = dir.path().join("r.json");
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        &spark_cli("train.csv"),
        "--label",
        "Churn",
        "--exclude",
        "customerID",
        "--handle-invalid",
        "skip",
        "--train-fraction",
        "0.8",
        "--model",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--remote",
        &url,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("trained a LogisticRegression on Spark"),
        "{out}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let acc = r["metrics"]["test"]["accuracy"].as_f64().unwrap();
    assert!(acc > 0.6 && acc <= 1.0, "{r}");
    // Spark saved it; mlpipe scores it.
    let m = PipelineModel::load(&model).unwrap();
    let scored = m
        .transform(&DataFrame::read_csv(spark_cli("test.csv"), &CsvOptions::default()).unwrap())
        .unwrap();
    assert!(scored.schema().field_with_name("probability").is_ok());
}

#[test]
fn an_unreachable_server_is_one_line_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = mlpipe(&[
        "fit",
        "--pipeline",
        &spark_cli("unfitted_pipeline"),
        "--input",
        "/data/train.parquet",
        "--model",
        dir.path().join("m").to_str().unwrap(),
        "--remote",
        "sc://127.0.0.1:1",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: Spark Connect server sc://127.0.0.1:1: cannot reach the server"),
        "{err}"
    );
}
