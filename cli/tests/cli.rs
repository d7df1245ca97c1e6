//! The `mlpipe` command line, run as a process.

use crate::common;

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
    assert_eq!(text.lines().next().unwrap(), "customerID,prediction,predictedLabel,probability_0,probability_1,rawPrediction_0,rawPrediction_1");
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

/// A file under tests/fixtures/spark_cli (made by tests/pyspark/make_cli_fixtures.py with
/// PySpark 4.3.0 on Telco rows).
fn spark_cli(name: &str) -> String {
    format!("{}/tests/fixtures/spark_cli/{name}", repo_root().display())
}

fn read_csv(path: &str) -> mlpipe::DataFrame {
    mlpipe::DataFrame::read_csv(path, &mlpipe::CsvOptions::default()).unwrap()
}

fn string_column(df: &mlpipe::DataFrame, name: &str) -> Vec<String> {
    use arrow::array::AsArray;
    df.column(name)
        .unwrap()
        .chunks
        .iter()
        .flat_map(|a| {
            a.as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs a command that must fail: exit 2, one line on stderr, returned.
fn fails(args: &[&str]) -> String {
    let (code, out, err) = mlpipe(args);
    assert_eq!(code, 2, "stdout: {out} stderr: {err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn fit_of_a_pyspark_unfitted_pipeline_predicts_as_spark_fitted_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let report = dir.path().join("r.json");
    let (code, out, err) = mlpipe(&[
        "fit",
        "--pipeline",
        &spark_cli("unfitted_pipeline"),
        "--input",
        &spark_cli("train.csv"),
        "--model",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(r["rows"], 1200);
    let stages = r["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 7);
    assert!(stages.iter().all(|s| s["fit_s"].as_f64().is_some()));
    let lr = &stages[6];
    assert_eq!(lr["kind"], "LogisticRegressionModel");
    // Spark's objective at its optimum (metrics.json), to the optimiser's tolerance.
    let spark = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(spark_cli("metrics.json")).unwrap(),
    )
    .unwrap();
    let want = spark["objective_history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_f64()
        .unwrap();
    let got = lr["summary"]["finalObjective"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-9, "objective {got} vs Spark {want}");
    // Spark's L-BFGS path: the same iteration count (metrics.json).
    assert_eq!(lr["summary"]["totalIterations"], spark["total_iterations"]);

    let pred = dir.path().join("p.csv");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        &spark_cli("test.csv"),
        "--output",
        pred.to_str().unwrap(),
        "--columns",
        "customerID",
    ]);
    assert_eq!(code, 0, "{err}");
    let ours = read_csv(pred.to_str().unwrap());
    let spark = read_csv(&spark_cli("predictions.csv"));
    assert_eq!(
        string_column(&ours, "customerID"),
        string_column(&spark, "customerID")
    );
    // Spark's fitted model's output on the 400 held-out rows (predictions.csv), to 1e-9.
    for c in [
        "prediction",
        "probability_0",
        "probability_1",
        "rawPrediction_0",
        "rawPrediction_1",
    ] {
        let (a, b) = (f64_column(&ours, c), f64_column(&spark, c));
        assert_eq!(a.len(), 400);
        let worst = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(worst <= 1e-9, "{c}: differs from Spark by {worst}");
    }
}

#[test]
fn evaluate_of_a_pyspark_pipeline_indexing_its_own_label_matches_spark() {
    let spark = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(spark_cli("metrics.json")).unwrap(),
    )
    .unwrap();
    let names: Vec<&str> = spark["metrics"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    // The label made inside the pipeline (StringIndexer Churn -> label), and the raw
    // `Churn` mapped through the pipeline's own indexer: the same numbers.
    for label in [None, Some("Churn")] {
        let mut args = vec![
            "evaluate".to_string(),
            "--model".into(),
            spark_cli("fitted_pipeline"),
            "--input".into(),
            spark_cli("test.csv"),
        ];
        if let Some(l) = label {
            args.extend(["--label".into(), l.into()]);
        }
        for n in &names {
            args.extend(["--metric".into(), n.to_string()]);
        }
        let refs: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
        let (code, out, err) = mlpipe(&refs);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out.lines().count(), 1, "{out}");
        let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        for n in &names {
            // Spark 4.3's BinaryClassificationEvaluator / MulticlassClassificationEvaluator
            // on the same transformed rows (metrics.json), to 1e-12.
            let (g, w) = (
                got[n].as_f64().unwrap(),
                spark["metrics"][n].as_f64().unwrap(),
            );
            assert!((g - w).abs() <= 1e-12, "{n} ({label:?}): {g} vs Spark {w}");
        }
    }
    // Without --metric: the binary evaluator's default.
    let (code, out, _) = mlpipe(&[
        "evaluate",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--input",
        &spark_cli("test.csv"),
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("{\"areaUnderROC\":"), "{out}");
}

#[test]
fn inspect_names_coefficients_by_feature() {
    let (code, out, err) = mlpipe(&[
        "inspect",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "--json is one object on one line");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let coefs = &j["stages"][6]["fitted"]["coefficients"];
    // Spark's attribute names: `<one-hot column>_<category>` and the numeric columns.
    let spark = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(spark_cli("metrics.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        coefs["Contract_vec_Month-to-month"].as_f64().unwrap(),
        spark["coefficients"][4].as_f64().unwrap()
    );
    assert_eq!(
        coefs["TotalCharges_imp"].as_f64().unwrap(),
        spark["coefficients"][17].as_f64().unwrap()
    );
    let (code, out, _) = mlpipe(&["inspect", "--model", &spark_cli("fitted_pipeline")]);
    assert_eq!(code, 0);
    assert!(out.contains("[6] LogisticRegressionModel"), "{out}");
    assert!(out.contains("tenure:"), "{out}");
}

#[test]
fn bad_inputs_are_one_line_on_stderr_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let m = m.to_str().unwrap();
    // A fitted model given to fit.
    let err = fails(&[
        "fit",
        "--pipeline",
        &spark_cli("fitted_pipeline"),
        "--input",
        &spark_cli("train.csv"),
        "--model",
        m,
    ]);
    assert!(
        err.contains("holds a fitted PipelineModel; `fit` takes an unfitted Pipeline or estimator"),
        "{err}"
    );
    // An unfitted Pipeline given to predict.
    let out = dir.path().join("p.csv");
    let err = fails(&[
        "predict",
        "--model",
        &spark_cli("unfitted_pipeline"),
        "--input",
        &spark_cli("test.csv"),
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        err.contains(
            "holds an unfitted Pipeline, not a fitted model; fit it first with `mlpipe fit"
        ),
        "{err}"
    );
    assert!(!out.exists());
    // A stage mlpipe does not have.
    let err = fails(&[
        "fit",
        "--pipeline",
        &spark_cli("unknown_stage_pipeline"),
        "--input",
        &spark_cli("train.csv"),
        "--model",
        m,
    ]);
    // The list comes from the library's registry and grows with it.
    assert!(
        err.contains("1_Word2Vec_056f8928420f holds org.apache.spark.ml.feature.Word2Vec, a stage mlpipe does not have; the stages it has: Pipeline, "),
        "{err}"
    );
    for stage in [
        "Bucketizer",
        "GBTClassifier",
        "Imputer",
        "LinearSVC",
        "PCA",
        "QuantileDiscretizer",
        "RobustScaler",
        "StringIndexer",
        "TargetEncoder",
        "VarianceThresholdSelector",
    ] {
        assert!(err.contains(&format!(" {stage},")), "{stage}: {err}");
    }
    assert!(err.contains(" LogisticRegression, "), "{err}");
    assert!(err.contains(" RandomForestClassifier, "), "{err}");
    assert!(err.contains(" CrossValidator, "), "{err}");
    // A label neither in the input nor made by the pipeline.
    let err = fails(&[
        "evaluate",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--input",
        &spark_cli("test.csv"),
        "--label",
        "churned",
    ]);
    assert!(
        err.contains("--label `churned` is neither in the input nor made by the pipeline; the input's columns: customerID, gender,"),
        "{err}"
    );
    let nolabel = dir.path().join("nolabel.csv");
    read_csv(&spark_cli("test.csv"))
        .drop(["Churn"])
        .unwrap()
        .write_csv(&nolabel)
        .unwrap();
    let err = fails(&[
        "evaluate",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--input",
        nolabel.to_str().unwrap(),
    ]);
    assert!(
        err.contains("the label column `label` is neither in the input nor made by the pipeline; pass --label COL"),
        "{err}"
    );
    // A metric of another evaluator lists every metric this one accepts.
    let err = fails(&[
        "evaluate",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--input",
        &spark_cli("test.csv"),
        "--metric",
        "auc",
    ]);
    assert!(
        err.contains("--metric `auc` is not a binary classification metric; valid: areaUnderROC, areaUnderPR, f1, accuracy,"),
        "{err}"
    );
    assert!(err.contains("logLoss, hammingLoss"), "{err}");
    // fit: a pipeline whose label is neither in the input nor made by the pipeline.
    let err = fails(&[
        "fit",
        "--pipeline",
        &spark_cli("unfitted_pipeline"),
        "--input",
        nolabel.to_str().unwrap(),
        "--model",
        m,
    ]);
    assert!(err.contains("column `Churn` not found"), "{err}");
    assert!(!std::path::Path::new(m).exists());

    let telco = &format!(
        "{}/data/telco_churn/telco_customer_churn.csv",
        repo_root().display()
    );
    // A misspelt feature is reported against the flag and the input's own columns, before
    // anything is printed about the label.
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        m,
        "--features",
        "tenure,Tenur",
    ]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.starts_with("error: --features: column `Tenur` is not in the input; its columns: customerID, gender,"),
        "{err}"
    );
    assert!(!err.contains("_indexed"), "{err}");
    let err = fails(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        m,
        "--categorical",
        "Contrct",
    ]);
    assert!(
        err.starts_with("error: --categorical: column `Contrct` is not in the input"),
        "{err}"
    );
    // A null in a feature suggests the CLI's flags.
    let err = fails(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        m,
        "--features",
        "tenure,TotalCharges",
    ]);
    assert!(
        err.contains("feature column `TotalCharges` has 11 null value(s); pass --handle-invalid skip to drop those rows, or --impute mean|median to fill them"),
        "{err}"
    );
}

#[test]
fn overwrite_never_destroys_what_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    let data = &format!("{}/data/quickstart.csv", repo_root().display());
    let train = |target: &std::path::Path, overwrite: bool| {
        let mut args = vec![
            "train",
            "--input",
            data,
            "--label",
            "churn",
            "--model",
            target.to_str().unwrap(),
            "--features",
            "tenure,monthly_charges",
        ];
        if overwrite {
            args.push("--overwrite");
        }
        mlpipe(&args)
    };
    // A directory holding a user's notes.
    let notes_dir = dir.path().join("notes");
    std::fs::create_dir(&notes_dir).unwrap();
    std::fs::write(notes_dir.join("notes.txt"), "keep me").unwrap();
    let (code, _, err) = train(&notes_dir, true);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("is a directory holding a file (notes.txt), not a saved model; --overwrite replaces only a saved Spark/mlpipe model, so nothing was touched"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(notes_dir.join("notes.txt")).unwrap(),
        "keep me"
    );
    // A regular file: refused, untouched, no debris beside it.
    let file = dir.path().join("model.bin");
    std::fs::write(&file, "precious").unwrap();
    let (code, _, err) = train(&file, true);
    assert_eq!(code, 2);
    assert!(
        err.contains("model.bin: is a file, not a saved model"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "precious");
    let mut entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["model.bin", "notes"]);
    // Without --overwrite an existing path is refused.
    let (code, _, err) = train(&file, false);
    assert_eq!(code, 2);
    assert!(err.contains("already exists; pass --overwrite"), "{err}");
    // An empty directory and a saved model are replaced.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = train(&empty, true);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = train(&empty, true);
    assert_eq!(code, 0, "{err}");
    assert!(empty.join("metadata").is_dir());
}

#[test]
fn train_on_telco_by_default_leaves_out_the_id_column() {
    let dir = tempfile::tempdir().unwrap();
    let telco = &format!(
        "{}/data/telco_churn/telco_customer_churn.csv",
        repo_root().display()
    );
    let model = dir.path().join("m");
    let report = dir.path().join("r.json");
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        model.to_str().unwrap(),
        "--impute",
        "mean",
        "--train-fraction",
        "0.8",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("left out string column(s) with more than 1000 distinct values (an ID? the cap is half the rows or --max-categories): customerID; name them in --categorical"),
        "{out}"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let features = r["features"].as_array().unwrap();
    // 16 string columns one-hot encoded, each to its categories plus Spark's `__unknown`
    // slot (handleInvalid=keep in both the indexer and the encoder, dropLast): 56, and the
    // 4 numeric columns; customerID (7,043 distinct values) is not among them.
    assert_eq!(features.len(), 60, "{features:?}");
    assert!(features
        .iter()
        .all(|f| !f.as_str().unwrap().contains("customerID")));
    // The before/after: test logLoss 1.20 with the ID one-hot encoded, ~0.42 without.
    let ll = r["metrics"]["test"]["logLoss"].as_f64().unwrap();
    assert!(ll < 0.5, "test logLoss {ll}");
    // --exclude leaves out more.
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        model.to_str().unwrap(),
        "--overwrite",
        "--impute",
        "mean",
        "--exclude",
        "gender,TotalCharges",
        "--report",
        report.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let features: Vec<&str> = r["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(
        features
            .iter()
            .all(|f| !f.contains("gender") && !f.contains("TotalCharges")),
        "{features:?}"
    );
    // Stopping at maxIter is said.
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        telco,
        "--label",
        "Churn",
        "--model",
        model.to_str().unwrap(),
        "--overwrite",
        "--impute",
        "mean",
        "--max-iter",
        "3",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("warning: LogisticRegression stopped at --max-iter 3 without converging; raise --max-iter"),
        "{out}"
    );
}

#[test]
fn train_says_which_family_and_flags_rare_and_case_only_classes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let mut text = String::from("x,y\n");
    for i in 0..200 {
        let y = match i {
            0..120 => "a",
            120..198 => "b",
            198 => "B",
            _ => "c",
        };
        text.push_str(&format!("{},{y}\n", (i % 7) as f64 + 0.5 * (i % 3) as f64));
    }
    std::fs::write(&data, text).unwrap();
    let model = dir.path().join("m");
    let (code, out, err) = mlpipe(&[
        "train",
        "--input",
        data.to_str().unwrap(),
        "--label",
        "y",
        "--model",
        model.to_str().unwrap(),
        "--reg-param",
        "0.1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "the label `y` has more than two values: fitting a multinomial logistic regression"
        ),
        "{out}"
    );
    assert!(
        out.contains("warning: classes under 1% of the rows: B (1 rows), c (1 rows)"),
        "{out}"
    );
    assert!(
        out.contains("warning: classes differing only by case: b/B"),
        "{out}"
    );
    // A multiclass model: evaluate picks the multiclass evaluator and refuses areaUnderROC.
    let err = fails(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--input",
        data.to_str().unwrap(),
        "--metric",
        "areaUnderROC",
    ]);
    assert!(
        err.contains("--metric `areaUnderROC` is not a multiclass classification metric; valid: f1, accuracy,"),
        "{err}"
    );
    let (code, out, err) = mlpipe(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--input",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("{\"f1\":"), "{out}");
}

#[test]
fn fit_takes_a_single_saved_estimator() {
    let dir = tempfile::tempdir().unwrap();
    let est = dir.path().join("indexer");
    let si = mlpipe::feature::StringIndexer::new()
        .with_input_col("Contract")
        .with_output_col("contract_idx");
    mlpipe::persist::save(&si, &est, mlpipe::persist::SaveMode::ErrorIfExists).unwrap();
    let model = dir.path().join("m");
    let (code, out, err) = mlpipe(&[
        "fit",
        "--pipeline",
        est.to_str().unwrap(),
        "--input",
        &spark_cli("train.csv"),
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = mlpipe(&["inspect", "--model", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["kind"], "PipelineModel");
    assert_eq!(j["stages"][0]["kind"], "StringIndexerModel");
    assert_eq!(
        j["stages"][0]["fitted"]["labelsArray"][0]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[test]
fn evaluate_with_weights() {
    let dir = tempfile::tempdir().unwrap();
    // test.csv with a unit weight column `w` and with weight 2 on every row: a weighted
    // metric is unchanged by a constant weight, so both equal Spark's unweighted numbers.
    let text = std::fs::read_to_string(spark_cli("test.csv")).unwrap();
    let spark = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(spark_cli("metrics.json")).unwrap(),
    )
    .unwrap();
    for w in ["1", "2"] {
        let weighted = dir.path().join(format!("w{w}.csv"));
        let mut out = String::new();
        for (i, line) in text.lines().enumerate() {
            out.push_str(line);
            out.push_str(if i == 0 { ",w\n" } else { "," });
            if i > 0 {
                out.push_str(w);
                out.push('\n');
            }
        }
        std::fs::write(&weighted, out).unwrap();
        let (code, out, err) = mlpipe(&[
            "evaluate",
            "--model",
            &spark_cli("fitted_pipeline"),
            "--input",
            weighted.to_str().unwrap(),
            "--weight",
            "w",
            "--metric",
            "areaUnderROC",
            "--metric",
            "accuracy",
        ]);
        assert_eq!(code, 0, "{err}");
        let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        for m in ["areaUnderROC", "accuracy"] {
            let (g, w) = (
                got[m].as_f64().unwrap(),
                spark["metrics"][m].as_f64().unwrap(),
            );
            assert!((g - w).abs() <= 1e-12, "{m}: {g} vs {w}");
        }
    }
    // Uneven weights (0.25, 1, 2.5, 4 by row): Spark 4.3's weighted evaluator numbers on the same
    // file, from tests/pyspark/make_cli_weighted_metrics.py.
    let spark_w = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(spark_cli("weighted_metrics.json")).unwrap(),
    )
    .unwrap();
    let names = [
        "areaUnderROC",
        "areaUnderPR",
        "f1",
        "accuracy",
        "weightedPrecision",
        "weightedRecall",
        "logLoss",
    ];
    let mut args = vec![
        "evaluate".to_string(),
        "--model".into(),
        spark_cli("fitted_pipeline"),
        "--input".into(),
        spark_cli("test_weighted.csv"),
        "--weight".into(),
        "w".into(),
    ];
    for m in names {
        args.extend(["--metric".to_string(), m.to_string()]);
    }
    let (code, out, err) = mlpipe(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    for m in names {
        let (g, w, unweighted) = (
            got[m].as_f64().unwrap(),
            spark_w["metrics"][m].as_f64().unwrap(),
            spark["metrics"][m].as_f64().unwrap(),
        );
        assert!((g - w).abs() <= 1e-12, "weighted {m}: {g} vs Spark's {w}");
        assert!(
            (g - unweighted).abs() > 1e-6,
            "{m}: the weights must matter"
        );
    }
    let err = fails(&[
        "evaluate",
        "--model",
        &spark_cli("fitted_pipeline"),
        "--input",
        &spark_cli("test.csv"),
        "--weight",
        "wt",
    ]);
    assert!(
        err.contains("--weight: column `wt` is not in the input; its columns: customerID,"),
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

/// The grid point `mlpipe tune` printed as best (largest, or smallest when `smaller`),
/// from its table of `{param=value}  mean ± std` rows.
fn best_printed(out: &str, smaller: bool) -> (String, f64) {
    let rows: Vec<(String, f64)> = out
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| {
            let (p, rest) = l.split_once('}').unwrap();
            let mean = rest.split_whitespace().next().unwrap().parse().unwrap();
            (format!("{p}}}"), mean)
        })
        .collect();
    assert!(rows.len() >= 2, "{out}");
    rows.into_iter()
        .reduce(|a, b| {
            let better = if smaller { b.1 < a.1 } else { b.1 > a.1 };
            if better {
                b
            } else {
                a
            }
        })
        .unwrap()
}

#[test]
fn tune_tunes_trains_algorithms_over_grids_by_spark_name() {
    let dir = tempfile::tempdir().unwrap();
    // A decision tree on the binary data, by areaUnderROC (the default for two classes).
    let model = dir.path().join("dt");
    let (code, out, err) = mlpipe(&[
        "tune",
        "--input",
        &spark2("synth_binary_train.csv"),
        "--label",
        "label",
        "--features",
        "x1,x2,x3,x4",
        "--algorithm",
        "dt",
        "--grid",
        "maxDepth=1,4",
        "--grid",
        "minInstancesPerNode=1,20",
        "--folds",
        "2",
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("tuning a DecisionTreeClassifier"), "{err}");
    assert!(out.contains("areaUnderROC"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with('{')).count(),
        4,
        "{out}"
    );
    // The saved best model is the refit of the printed best grid point.
    let (best, _) = best_printed(&out, false);
    let depth: u64 = best
        .split("maxDepth=")
        .nth(1)
        .and_then(|v| v.split([',', '}']).next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    let (code, inspect, err) = mlpipe(&["inspect", "--model", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&inspect).unwrap();
    let tree = v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["kind"] == "DecisionTreeClassificationModel")
        .unwrap_or_else(|| panic!("{inspect}"));
    assert_eq!(
        tree["params"]["maxDepth"].as_u64(),
        Some(depth),
        "{inspect}"
    );

    // A linear regression on a numeric target, by rmse (the default; smaller is better).
    let model = dir.path().join("linreg");
    let (code, out, err) = mlpipe(&[
        "tune",
        "--input",
        &spark2("synth_reg_train.csv"),
        "--label",
        "label",
        "--features",
        "x1,x2,x3,x4,x5",
        "--algorithm",
        "linreg",
        "--grid",
        "regParam=0.0,10.0",
        "--train-ratio",
        "0.7",
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("rmse"), "{out}");
    // A heavy ridge penalty cannot fit better than none on this linear target.
    assert_eq!(best_printed(&out, true).0, "{regParam=0.0}", "{out}");

    // A param the algorithm's estimator lacks is named, with the valid ones.
    let (code, _, err) = mlpipe(&[
        "tune",
        "--input",
        &spark2("synth_binary_train.csv"),
        "--label",
        "label",
        "--algorithm",
        "dt",
        "--grid",
        "regParam=0.1",
        "--model",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("DecisionTreeClassifier: unknown parameter `regParam`; valid parameters are:")
            && err.contains("maxDepth"),
        "{err}"
    );
    // An algorithm mlpipe lacks lists those it has.
    let (code, _, err) = mlpipe(&[
        "tune",
        "--input",
        &spark2("synth_binary_train.csv"),
        "--label",
        "label",
        "--algorithm",
        "xgboost",
        "--grid",
        "maxDepth=2",
        "--model",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("invalid value 'xgboost' for '--algorithm")
            && err.contains("lr, linreg, nb, kmeans, dt, rf, gbt, svc"),
        "{err}"
    );
    // A metric of another kind is refused with the valid ones.
    let (code, _, err) = mlpipe(&[
        "tune",
        "--input",
        &spark2("synth_reg_train.csv"),
        "--label",
        "label",
        "--algorithm",
        "linreg",
        "--grid",
        "regParam=0.1",
        "--metric",
        "areaUnderROC",
        "--model",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--metric `areaUnderROC` is not a regression metric; valid: rmse"),
        "{err}"
    );
}

/// A file under tests/fixtures/spark2 (saved by PySpark 4.3.0; see the README there).
fn spark2(name: &str) -> String {
    format!("{}/tests/fixtures/spark2/{name}", repo_root().display())
}

#[test]
fn evaluate_predict_inspect_every_model_kind_as_spark_scored_it() {
    // (fixture case, data set, metrics to check): `metrics_test` in each case's JSON is
    // what Spark 4.3's evaluators gave on the test rows with the same saved model.
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "dtc_mixed",
            "synth_mixed",
            &["areaUnderROC", "areaUnderPR", "accuracy", "f1"],
        ),
        (
            "gbtc_binary",
            "synth_binary",
            &["areaUnderROC", "accuracy", "logLoss"],
        ),
        ("rfc_3class", "synth_3class", &["accuracy", "f1", "logLoss"]),
        ("dtr_synth", "synth_reg", &["rmse", "r2", "mae"]),
        ("rfr_synth", "synth_reg", &["rmse", "r2"]),
        ("gbtr_squared", "synth_reg", &["rmse", "r2"]),
        ("linreg_enet", "synth_reg", &["rmse", "r2", "mae"]),
        (
            "nb_gaussian",
            "synth_gauss3",
            &["accuracy", "f1", "logLoss"],
        ),
        (
            "nb_multinomial",
            "synth_counts",
            &["accuracy", "f1", "logLoss"],
        ),
        ("kmeans_blobs", "synth_blobs", &["silhouette"]),
        (
            "linearsvc_bc",
            "bc",
            &["areaUnderROC", "areaUnderPR", "accuracy", "f1"],
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (case, data, metrics) in cases {
        let spark: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(spark2(&format!("{case}.json"))).unwrap(),
        )
        .unwrap();
        let model = spark2(&format!("{case}_pipeline"));
        let test = spark2(&format!("{data}_test.csv"));
        let mut args = vec!["evaluate", "--model", &model, "--input", &test];
        for m in *metrics {
            args.extend(["--metric", m]);
        }
        let (code, out, err) = mlpipe(&args);
        assert_eq!(code, 0, "{case}: {err}");
        let got: serde_json::Value = serde_json::from_str(&out).unwrap();
        for m in *metrics {
            // The fixture names the silhouette by its distance (KMeans here is euclidean).
            let key = if *m == "silhouette" {
                "silhouette_squaredEuclidean"
            } else {
                m
            };
            let want = spark["metrics_test"][key].as_f64().unwrap();
            let g = got[m].as_f64().unwrap();
            assert!(
                (g - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{case} {m}: {g} vs Spark {want}"
            );
        }
        // predict writes the model's own outputs; the prediction column matches Spark's.
        let pred = dir.path().join(format!("{case}.csv"));
        let (code, _, err) = mlpipe(&[
            "predict",
            "--model",
            &model,
            "--input",
            &test,
            "--output",
            pred.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{case}: {err}");
        let ours = read_csv(pred.to_str().unwrap());
        let theirs = read_csv(&spark2(&format!("{case}_predictions.csv")));
        let col = |df: &mlpipe::DataFrame| -> Vec<f64> {
            use arrow::array::AsArray;
            df.column("prediction")
                .unwrap()
                .chunks
                .iter()
                .flat_map(|a| {
                    let a = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64).unwrap();
                    a.as_primitive::<arrow::datatypes::Float64Type>()
                        .values()
                        .to_vec()
                })
                .collect()
        };
        let (o, t) = (col(&ours), col(&theirs));
        assert_eq!(o.len(), t.len(), "{case}");
        for (a, b) in o.iter().zip(&t) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{case}: {a} vs Spark {b}"
            );
        }
    }
}

#[test]
fn inspect_shows_tree_importances_by_name_and_regression_coefficients() {
    let (code, out, err) = mlpipe(&[
        "inspect",
        "--model",
        &spark2("rfc_3class_pipeline"),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let spark: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spark2("rfc_3class.json")).unwrap()).unwrap();
    let fitted = &j["stages"][2]["fitted"];
    // Spark's model attributes, from the fixture JSON.
    for (i, name) in ["x1", "x2", "x3", "shape_idx"].iter().enumerate() {
        let want = spark["model"]["featureImportances"][i].as_f64().unwrap();
        let got = fitted["featureImportances"][name].as_f64().unwrap();
        assert!((got - want).abs() < 1e-12, "{name}: {got} vs Spark {want}");
    }
    assert_eq!(fitted["numTrees"], spark["model"]["numTrees"]);
    assert_eq!(fitted["totalNumNodes"], spark["model"]["totalNumNodes"]);
    // The deepest tree: Spark's per-tree `depth` in the fixture.
    let deepest = spark["model"]["trees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["depth"].as_u64().unwrap())
        .max();
    assert_eq!(fitted["depth"].as_u64(), deepest);

    let (code, out, _) = mlpipe(&["inspect", "--model", &spark2("dtc_mixed_pipeline")]);
    assert_eq!(code, 0);
    assert!(
        out.contains("numTrees: 1") && out.contains("totalNumNodes: 17"),
        "{out}"
    );
    assert!(out.contains("color_idx: 0.3157256167591882"), "{out}");

    let (code, out, _) = mlpipe(&[
        "inspect",
        "--model",
        &spark2("linreg_enet_pipeline"),
        "--json",
    ]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let spark: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spark2("linreg_enet.json")).unwrap())
            .unwrap();
    assert_eq!(
        j["stages"][1]["fitted"]["coefficients"]["x3"],
        spark["model"]["coefficients"][2]
    );

    let (code, out, _) = mlpipe(&[
        "inspect",
        "--model",
        &spark2("kmeans_blobs_pipeline"),
        "--json",
    ]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let spark: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spark2("kmeans_blobs.json")).unwrap())
            .unwrap();
    assert_eq!(
        j["stages"][1]["fitted"]["clusterCenters"][0]["x2"],
        spark["model"]["clusterCenters"][0][1]
    );
    // A clustering model has no label to pass.
    let err = fails(&[
        "evaluate",
        "--model",
        &spark2("kmeans_blobs_pipeline"),
        "--input",
        &spark2("synth_blobs_test.csv"),
        "--label",
        "blob",
    ]);
    assert!(
        err.contains("needs no label") && err.contains("KMeansModel"),
        "{err}"
    );
    let err = fails(&[
        "evaluate",
        "--model",
        &spark2("kmeans_blobs_pipeline"),
        "--input",
        &spark2("synth_blobs_test.csv"),
        "--metric",
        "rmse",
    ]);
    assert!(
        err.contains("not a clustering metric; valid: silhouette"),
        "{err}"
    );
}

/// Runs `mlpipe train ARGS --model DIR/m --report DIR/r.json` and returns stdout and the report.
fn train_report(dir: &std::path::Path, args: &[&str]) -> (String, serde_json::Value) {
    let model = dir.join("m");
    let report = dir.join("r.json");
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend([
        "--model",
        model.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
        "--overwrite",
    ]);
    let (code, out, err) = mlpipe(&all);
    assert_eq!(code, 0, "{out}{err}");
    let r = serde_json::from_str(&std::fs::read_to_string(report).unwrap()).unwrap();
    (out, r)
}

#[test]
fn train_algorithms_fit_what_spark_fits() {
    let dir = tempfile::tempdir().unwrap();
    let spark = |case: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(spark2(&format!("{case}.json"))).unwrap())
            .unwrap()
    };
    // A numeric label with non-integer values and no --algorithm: linear regression, said
    // in one line. Spark's linreg_enet fit (l-bfgs/OWL-QN, regParam 0.05, elasticNet 0.3)
    // on the same rows; mlpipe's auto solver reaches the same optimum to 1e-4 relative.
    let train = spark2("synth_reg_train.csv");
    let (out, r) = train_report(
        dir.path(),
        &[
            "--input",
            &train,
            "--label",
            "label",
            "--features",
            "x1,x2,x3,x4,x5",
            "--reg-param",
            "0.05",
            "--elastic-net-param",
            "0.3",
        ],
    );
    assert!(
        out.contains("the label `label` is numeric with 400 distinct non-integer values: fitting a linear regression"),
        "{out}"
    );
    assert_eq!(r["algorithm"], "LinearRegression");
    let s = spark("linreg_enet");
    for (i, name) in ["x1", "x2", "x3", "x4", "x5"].iter().enumerate() {
        let want = s["model"]["coefficients"][i].as_f64().unwrap();
        let got = r["fitted"]["coefficients"][name].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-4 * want.abs(),
            "{name}: {got} vs Spark {want}"
        );
    }
    let want = s["metrics_train"]["r2"].as_f64().unwrap();
    let got = r["fitted"]["r2"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-6, "r2 {got} vs Spark {want}");

    // kmeans takes no label; Spark's kmeans_blobs fit (k 4, seed 5, maxIter 20, one
    // partition): the same centres and training silhouette.
    let (_, r) = train_report(
        dir.path(),
        &[
            "--input",
            &spark2("synth_blobs_train.csv"),
            "--algorithm",
            "kmeans",
            "--k",
            "4",
            "--seed",
            "5",
            "--max-iter",
            "20",
            "--features",
            "x1,x2,x3",
        ],
    );
    let s = spark("kmeans_blobs");
    for c in 0..4 {
        for (j, name) in ["x1", "x2", "x3"].iter().enumerate() {
            let want = s["model"]["clusterCenters"][c][j].as_f64().unwrap();
            let got = r["fitted"]["clusterCenters"][c][name].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "centre {c} {name}"
            );
        }
    }
    let want = s["metrics_train"]["silhouette_squaredEuclidean"]
        .as_f64()
        .unwrap();
    let got = r["metrics"]["train"]["silhouette"].as_f64().unwrap();
    assert!(
        (got - want).abs() < 1e-12,
        "silhouette {got} vs Spark {want}"
    );

    // nb: Spark's nb_gaussian fit, theta to 1e-12.
    let (out, r) = train_report(
        dir.path(),
        &[
            "--input",
            &spark2("synth_gauss3_train.csv"),
            "--label",
            "label",
            "--algorithm",
            "nb",
            "--model-type",
            "gaussian",
            "--features",
            "x1,x2,x3,x4",
        ],
    );
    assert!(out.contains("fitting a multiclass NaiveBayes"), "{out}");
    let s = spark("nb_gaussian");
    for c in 0..3 {
        for (j, name) in ["x1", "x2", "x3", "x4"].iter().enumerate() {
            let want = s["model"]["theta"][c][j].as_f64().unwrap();
            let got = r["fitted"]["theta"][c][name].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "theta {c} {name}"
            );
        }
    }
    let want = s["metrics_train"]["accuracy"].as_f64().unwrap();
    assert_eq!(r["metrics"]["train"]["accuracy"].as_f64().unwrap(), want);
}

#[test]
fn train_refuses_flags_and_labels_that_do_not_fit_the_algorithm() {
    let dir = tempfile::tempdir().unwrap();
    let m = dir.path().join("m");
    let m = m.to_str().unwrap();
    let blobs = spark2("synth_blobs_train.csv");
    let reg = spark2("synth_reg_train.csv");
    let err = fails(&[
        "train",
        "--input",
        &blobs,
        "--algorithm",
        "kmeans",
        "--label",
        "blob",
        "--model",
        m,
    ]);
    assert!(
        err.contains("--label `blob`: --algorithm kmeans clusters without a label; drop --label"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--input",
        &blobs,
        "--label",
        "blob",
        "--num-trees",
        "5",
        "--model",
        m,
    ]);
    assert!(
        err.contains("--num-trees does not apply to --algorithm lr; it is for --algorithm rf, gbt"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--input",
        &blobs,
        "--algorithm",
        "kmeans",
        "--reg-param",
        "0.1",
        "--model",
        m,
    ]);
    assert!(
        err.contains(
            "--reg-param does not apply to --algorithm kmeans; it is for --algorithm lr, linreg"
        ),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--input",
        &blobs,
        "--label",
        "blob",
        "--algorithm",
        "nb",
        "--k",
        "3",
        "--model",
        m,
    ]);
    assert!(
        err.contains("--k does not apply to --algorithm nb; it is for --algorithm kmeans"),
        "{err}"
    );
    let err = fails(&["train", "--input", &blobs, "--model", m]);
    assert!(err.contains("--label is required"), "{err}");
    let err = fails(&[
        "train",
        "--input",
        &reg,
        "--label",
        "label",
        "--algorithm",
        "nb",
        "--model",
        m,
    ]);
    assert!(
        err.contains("--algorithm nb classifies, but the label `label` is numeric with 400 distinct non-integer values; use --algorithm linreg"),
        "{err}"
    );
    let err = fails(&[
        "train",
        "--input",
        &spark2("synth_mixed_train.csv"),
        "--label",
        "color",
        "--algorithm",
        "linreg",
        "--model",
        m,
    ]);
    assert!(
        err.contains("--algorithm linreg needs a numeric label; `color` holds strings"),
        "{err}"
    );
    assert!(
        !std::path::Path::new(m).exists(),
        "nothing saved on a refused command"
    );
}

#[test]
fn train_trees_with_sparks_params_scores_as_spark_on_the_training_rows() {
    // Each case: Spark's fixture params as flags; `metrics_train` in the fixture JSON is
    // what Spark 4.3 scored its fitted model on the same rows. Categorical `color` goes in
    // as category indices, which the tree sees as nominal (as Spark's StringIndexer +
    // VectorAssembler make it).
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &[&str], &[&str])] = &[
        (
            "dtc_mixed",
            "synth_mixed",
            &[
                "--algorithm",
                "dt",
                "--max-depth",
                "4",
                "--max-bins",
                "16",
                "--min-instances-per-node",
                "3",
                "--seed",
                "7",
            ],
            &["areaUnderROC", "accuracy", "f1"],
        ),
        (
            "gbtc_binary",
            "synth_binary",
            &[
                "--algorithm",
                "gbt",
                "--num-trees",
                "12",
                "--max-depth",
                "2",
                "--step-size",
                "0.3",
                "--min-instances-per-node",
                "2",
                "--seed",
                "21",
            ],
            &["areaUnderROC", "accuracy"],
        ),
        (
            "rfr_synth",
            "synth_reg",
            &[
                "--algorithm",
                "rf",
                "--num-trees",
                "8",
                "--max-depth",
                "4",
                "--feature-subset-strategy",
                "onethird",
                "--seed",
                "8",
            ],
            &["rmse", "r2"],
        ),
    ];
    for (case, data, flags, metrics) in cases {
        let train = spark2(&format!("{data}_train.csv"));
        let mut args = vec![
            "--input",
            train.as_str(),
            "--label",
            "label",
            "--exclude",
            "id",
        ];
        args.extend_from_slice(flags);
        let (_, r) = train_report(dir.path(), &args);
        let spark: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(spark2(&format!("{case}.json"))).unwrap(),
        )
        .unwrap();
        for m in *metrics {
            let want = spark["metrics_train"][m].as_f64().unwrap();
            let got = r["metrics"]["train"][m].as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{case} {m}: {got} vs Spark {want}"
            );
        }
        let names = spark["model"]["feature_names"].as_array().unwrap();
        for (i, n) in names.iter().enumerate() {
            let want = spark["model"]["featureImportances"][i].as_f64().unwrap();
            let got = r["fitted"]["featureImportances"][n.as_str().unwrap()]
                .as_f64()
                .unwrap();
            assert!(
                (got - want).abs() < 1e-12,
                "{case} importance {n}: {got} vs Spark {want}"
            );
        }
    }
    // GBT classifies two classes.
    let m = dir.path().join("g");
    let err = fails(&[
        "train",
        "--input",
        &spark2("synth_3class_train.csv"),
        "--label",
        "label",
        "--algorithm",
        "gbt",
        "--model",
        m.to_str().unwrap(),
    ]);
    assert!(err.contains("--algorithm gbt classifies two classes (Spark's GBTClassifier); the label `label` has 3"), "{err}");
}

#[test]
fn evaluate_and_inspect_a_one_vs_rest_model() {
    use mlpipe::prelude::*;
    // No Spark-saved OneVsRest fixture: fit one here (LR per class on Spark's 3-class
    // data), save it, and check that the command line scores it as the library does.
    let dir = tempfile::tempdir().unwrap();
    let train = read_csv(&spark2("synth_3class_train.csv"));
    let test = read_csv(&spark2("synth_3class_test.csv"));
    let model = Pipeline::new()
        .with_transformer(
            mlpipe::feature::VectorAssembler::new()
                .with_input_cols(["x1", "x2", "x3"])
                .with_output_col("features"),
        )
        .with_estimator(mlpipe::classification::OneVsRest::new(
            mlpipe::classification::LogisticRegression::new(),
        ))
        .fit(&train)
        .unwrap();
    let path = dir.path().join("ovr");
    mlpipe::persist::save(&model, &path, mlpipe::persist::SaveMode::ErrorIfExists).unwrap();
    let want = mlpipe::evaluation::MulticlassClassificationEvaluator::new()
        .with_metric(mlpipe::evaluation::MulticlassMetric::Accuracy)
        .evaluate(&model.transform(&test).unwrap())
        .unwrap();
    let (code, out, err) = mlpipe(&[
        "evaluate",
        "--model",
        path.to_str().unwrap(),
        "--input",
        &spark2("synth_3class_test.csv"),
        "--metric",
        "accuracy",
    ]);
    assert_eq!(code, 0, "{err}");
    let got: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["accuracy"].as_f64().unwrap(), want);
    // No probabilities: logLoss is refused, with the reason.
    let err = fails(&[
        "evaluate",
        "--model",
        path.to_str().unwrap(),
        "--input",
        &spark2("synth_3class_test.csv"),
        "--metric",
        "logLoss",
    ]);
    assert!(
        err.contains("which a OneVsRestModel does not output"),
        "{err}"
    );
    let (code, out, _) = mlpipe(&["inspect", "--model", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0);
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fitted = &j["stages"][1]["fitted"];
    assert_eq!(fitted["numClasses"], 3);
    assert_eq!(fitted["models"][0]["class"], "LogisticRegressionModel");
    assert!(
        fitted["models"][2]["fitted"]["coefficients"]["x3"].is_number(),
        "{fitted}"
    );
}

#[test]
fn tune_saves_the_whole_validator_and_predict_and_evaluate_use_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = repo_root();
    let data = format!(
        "{}/tests/fixtures/spark2/synth_binary_train.csv",
        root.display()
    );
    let test = format!(
        "{}/tests/fixtures/spark2/synth_binary_test.csv",
        root.display()
    );
    let model = dir.path().join("cv");
    let args = |model: &str| {
        [
            "tune",
            "--input",
            &data,
            "--label",
            "label",
            "--features",
            "x1,x2,x3,x4",
            "--grid",
            "regParam=0.01,0.2",
            "--folds",
            "2",
            "--seed",
            "13",
            "--save-validator",
            "--model",
            model,
        ]
        .map(String::from)
    };
    let a = args(model.to_str().unwrap());
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, out, err) = mlpipe(&refs);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("CrossValidatorModel saved to"), "{out}");
    for sub in ["bestModel", "estimator", "evaluator"] {
        assert!(model.join(sub).join("metadata").is_dir(), "{sub}");
    }
    let md = std::fs::read_to_string(model.join("metadata/part-00000")).unwrap();
    assert!(md.contains("\"avgMetrics\""), "{md}");
    let preds = dir.path().join("preds.csv");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        &test,
        "--output",
        preds.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&preds).unwrap();
    assert!(
        text.lines().next().unwrap().contains("prediction"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 101);
    let (code, out, err) = mlpipe(&[
        "evaluate",
        "--model",
        model.to_str().unwrap(),
        "--input",
        &test,
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("areaUnderROC"), "{out}");

    // A --model directory that holds something else fails before any fit.
    let other = dir.path().join("notes");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("keep.txt"), "x").unwrap();
    let a = args(other.to_str().unwrap());
    let mut refs: Vec<&str> = a.iter().map(String::as_str).collect();
    let (code, _, err) = mlpipe(&refs);
    assert_ne!(code, 0);
    assert!(err.contains("notes: already exists"), "{err}");
    refs.push("--overwrite");
    let (code, _, err) = mlpipe(&refs);
    assert_ne!(code, 0);
    assert!(
        err.contains("is not a saved model (it has no metadata/ directory, but holds keep.txt)"),
        "{err}"
    );
    assert!(!err.contains("fitting"), "failed before fitting: {err}");
}

/// Without the CLI's `connect` feature, `--remote` says how to get it.
#[cfg(not(feature = "connect"))]
#[test]
fn remote_without_the_connect_feature_says_how_to_build_it() {
    let (code, _, err) = mlpipe(&[
        "fit",
        "--pipeline",
        &spark_cli("unfitted_pipeline"),
        "--input",
        &spark_cli("train.csv"),
        "--model",
        "/nonexistent/m",
        "--remote",
        "sc://127.0.0.1:15002",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--remote needs the `connect` feature") && err.contains("--features connect"),
        "{err}"
    );
}

/// `fit --pipeline` with an unfitted RFormula + LogisticRegression pipeline, then
/// `inspect` shows the resolved formula and names the coefficients as Spark's attributes
/// (`contract_one-year`, `contract_month-to-month:tenure`), and `predict` scores the same
/// rows as the library.
#[test]
fn fit_inspect_predict_an_rformula_pipeline() {
    use mlpipe::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let data = format!("{}/data/quickstart.csv", repo_root().display());
    let unfitted = Pipeline::new()
        .with_estimator(
            mlpipe::feature::RFormula::new()
                .with_formula("churn ~ contract + tenure + contract:tenure + monthly_charges"),
        )
        .with_estimator(mlpipe::classification::LogisticRegression::new());
    let pipe = dir.path().join("unfitted");
    unfitted.save(&pipe).unwrap();
    let model = dir.path().join("m");
    let (code, out, err) = mlpipe(&[
        "fit",
        "--pipeline",
        pipe.to_str().unwrap(),
        "--input",
        &data,
        "--model",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = mlpipe(&["inspect", "--model", model.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rf = &j["stages"][0];
    assert_eq!(rf["kind"], "RFormulaModel");
    assert_eq!(
        rf["fitted"]["resolvedFormula"],
        "ResolvedRFormula(label=churn, terms=[contract,tenure,{contract,tenure},monthly_charges], hasIntercept=true)"
    );
    assert_eq!(rf["fitted"]["pipelineStages"][0], "StringIndexerModel");
    let coefs = j["stages"][1]["fitted"]["coefficients"]
        .as_object()
        .unwrap();
    // The library's own fit of the same pipeline, to compare by name.
    let df = DataFrame::read_csv(&data, &CsvOptions::default()).unwrap();
    let fitted = unfitted.fit(&df).unwrap();
    let lr = fitted
        .stage::<mlpipe::classification::LogisticRegressionModel>()
        .unwrap();
    let names = [
        "contract_month-to-month",
        "contract_one-year",
        "tenure",
        "contract_month-to-month:tenure",
        "contract_one-year:tenure",
        "contract_two-year:tenure",
        "monthly_charges",
    ];
    assert_eq!(coefs.len(), names.len(), "{coefs:?}");
    for (i, n) in names.iter().enumerate() {
        let c = coefs
            .get(*n)
            .and_then(|c| c.as_f64())
            .unwrap_or_else(|| panic!("no `{n}` in {coefs:?}"));
        assert!(
            (c - lr.coefficients().unwrap()[i]).abs() <= 1e-9 * c.abs().max(1.0),
            "{n}"
        );
    }
    let (code, out, _) = mlpipe(&["inspect", "--model", model.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains("[0] RFormulaModel"), "{out}");
    assert!(
        out.contains("resolvedFormula: \"ResolvedRFormula(label=churn"),
        "{out}"
    );
    let pred = dir.path().join("p.csv");
    let (code, _, err) = mlpipe(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--input",
        &data,
        "--output",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let ours = read_csv(pred.to_str().unwrap());
    assert_eq!(
        f64_column(&ours, "prediction"),
        f64_column(&fitted.transform(&df).unwrap(), "prediction")
    );
}

#[test]
fn inspect_shows_a_selectors_selected_features_by_name() {
    use mlpipe::feature::{ChiSqSelectorModel, VectorAssembler};
    use mlpipe::pipeline::PipelineModel;
    use mlpipe::prelude::*;
    // Spark's saved ChiSqSelectorModel (tests/fixtures/spark_stat, PySpark 4.3) after the
    // VectorAssembler of c0..c4: it kept features 0, 1 and 4.
    let fx = format!("{}/tests/fixtures/spark_stat", repo_root().display());
    let sel = ChiSqSelectorModel::load(format!("{fx}/chisq_selector_model")).unwrap();
    let va = VectorAssembler::new()
        .with_input_cols(["c0", "c1", "c2", "c3", "c4"])
        .with_output_col("cat");
    let pm = PipelineModel::new("p", vec![Box::new(va), Box::new(sel)]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m");
    pm.save(&path).unwrap();
    let (code, out, err) = mlpipe(&["inspect", "--model", path.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fitted = &j["stages"][1]["fitted"];
    assert_eq!(
        fitted["selectedFeatures"],
        serde_json::json!([0, 1, 4]),
        "{out}"
    );
    assert_eq!(
        fitted["selectedNames"],
        serde_json::json!(["c0", "c1", "c4"]),
        "{out}"
    );
}

/// `inspect` shows the fitted values of PySpark-saved PCA, VarianceThresholdSelector and
/// TargetEncoder models (tests/fixtures/spark_stages2, made by
/// tests/pyspark/make_stage2_fixtures.py).
#[test]
fn inspect_shows_pca_selector_and_target_encoder_values() {
    let fixture = |n: &str| format!("{}/tests/fixtures/spark_stages2/{n}", repo_root().display());
    let (code, out, err) = mlpipe(&["inspect", "--model", &fixture("pca_bc"), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fitted = &v["stages"][0]["fitted"];
    // Spark's explainedVariance, as saved.
    assert_eq!(fitted["explainedVariance"][0], 0.9813665555522887);
    assert_eq!(fitted["pc"].as_array().unwrap().len(), 5);
    assert_eq!(fitted["pc"][0].as_array().unwrap().len(), 30);
    let (code, out, err) = mlpipe(&["inspect", "--model", &fixture("vts_bc")]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("selectedFeatures: [0,1,2,3,13,20,21,22,23]"),
        "{out}"
    );
    let (code, out, err) = mlpipe(&["inspect", "--model", &fixture("te_cont"), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let col = &v["stages"][0]["fitted"]["columns"][0];
    // Category 0: 56 labelled rows, mean label 4.958928571428571 (Spark's saved stats).
    assert_eq!(
        col["stats"]["0"],
        serde_json::json!([56.0, 4.958928571428571])
    );
    assert!(col["encodings"]["2147483647"].is_number());
}
