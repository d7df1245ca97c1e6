//! The `mlpipe` command line, run as a process.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::process::Command;

use common::*;

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

#[test]
fn train_predict_evaluate_inspect_on_telco() {
    let dir = tempfile::tempdir().unwrap();
    let data = &format!(
        "{}/data/telco_churn/telco_customer_churn.csv",
        repo_root().display()
    );
    let model = dir.path().join("m");
    let report = dir.path().join("r.json");
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        data,
        "--label",
        "Churn",
        "--model",
        model.to_str().unwrap(),
        "--features",
        "SeniorCitizen,tenure,MonthlyCharges,TotalCharges",
        "--impute",
        "median",
        "--categorical",
        "Contract,InternetService,PaymentMethod",
        "--train-fraction",
        "0.8",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("label mapping: No -> 0, Yes -> 1"), "{out}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["rows"], 7043);
    assert_eq!(
        r["train_rows"].as_u64().unwrap() + r["test_rows"].as_u64().unwrap(),
        7043
    );
    let auc = r["metrics"]["test"]["areaUnderROC"].as_f64().unwrap();
    assert!(auc > 0.78 && auc < 0.9, "{auc}");
    for key in [
        "features",
        "read_s",
        "fit_s",
        "total_iterations",
        "final_objective",
        "intercept",
        "coefficients",
    ] {
        assert!(!r[key].is_null(), "report lacks {key}");
    }

    let pred = dir.path().join("p.csv");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        data,
        "--output",
        pred.to_str().unwrap(),
        "--columns",
        "customerID",
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&pred).unwrap();
    assert_eq!(text.lines().next().unwrap(), "customerID,predictedLabel,prediction,probability_0,probability_1,rawPrediction_0,rawPrediction_1");
    assert_eq!(text.lines().count(), 7044);
    let pq = dir.path().join("p.parquet");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        data,
        "--output",
        pq.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");

    let (code, out, err) = mlpipe(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--input",
        data,
        "--metric",
        "accuracy",
        "--metric",
        "areaUnderROC",
    ]);
    assert_eq!(code, 0, "{err}");
    let m: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert!(
        m["accuracy"].as_f64().unwrap() > 0.7 && m["areaUnderROC"].as_f64().unwrap() > 0.8,
        "{out}"
    );

    let (code, out, _) = mlpipe(&["inspect", "--model", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["stages"][0]["kind"], "StringIndexerModel");
}

#[test]
fn predicts_with_a_pyspark_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("p.csv");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        &spark_fixture("spark_pipeline_lr"),
        "--input",
        &spark_fixture("spark_pipeline_lr_inputs.csv"),
        "--output",
        out.to_str().unwrap(),
        "--columns",
        "customer_id",
    ]);
    assert_eq!(code, 0, "{err}");
    let ours = mlpipe::DataFrame::read_csv(&out, &mlpipe::CsvOptions::default()).unwrap();
    let spark = read("spark_pipeline_lr_predictions.csv");
    let (a, b) = (
        f64_column(&ours, "probability_1"),
        f64_column(&spark, "probability_1"),
    );
    assert_eq!(a.len(), b.len());
    assert!(a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-9));
}

#[test]
fn errors_are_one_line_with_exit_code_2() {
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        "no/such.csv",
        "--label",
        "y",
        "--model",
        "/tmp/never",
    ]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: no/such.csv: no such file"), "{err}");
    let data = &format!("{}/data/quickstart.csv", repo_root().display());
    let (code, _, err) = mlpipe(&[
        "train",
        "--input",
        data,
        "--label",
        "churnn",
        "--model",
        "/tmp/never2",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with(
            "error: train: column `churnn` not found; available columns: [\"customer_id\""
        ),
        "{err}"
    );
    let (code, _, err) = mlpipe(&["inspect", "--model", "/tmp/definitely-not-a-model"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("definitely-not-a-model/metadata: cannot list"),
        "{err}"
    );
}

#[test]
fn tune_prints_sparks_cross_validation_metrics_and_saves_the_best_model() {
    // The spark2 cv_lr case (PySpark CrossValidator, 2 folds, seed 13, areaUnderPR):
    // avgMetrics 0.857101, 0.855423, 0.856314, 0.777944 (tests/fixtures/spark2/cv_lr.json).
    let dir = tempfile::tempdir().unwrap();
    let data = format!(
        "{}/tests/fixtures/spark2/synth_binary_train.csv",
        repo_root().display()
    );
    let model = dir.path().join("best");
    let (code, out, err) = mlpipe(&[
        "tune",
        "--input",
        &data,
        "--label",
        "label",
        "--features",
        "x1,x2,x3,x4",
        "--grid",
        "regParam=0.01,0.2",
        "--grid",
        "elasticNetParam=0.0,0.8",
        "--folds",
        "2",
        "--seed",
        "13",
        "--metric",
        "areaUnderPR",
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for m in ["0.857101", "0.855423", "0.856314", "0.777944"] {
        assert!(out.contains(m), "{out}");
    }
    assert!(model.join("metadata").is_dir());
    let (code, _, err) = mlpipe(&[
        "tune",
        "--input",
        &data,
        "--label",
        "label",
        "--grid",
        "regParm=0.1",
        "--model",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown parameter `regParm`; valid parameters are:"),
        "{err}"
    );
}
