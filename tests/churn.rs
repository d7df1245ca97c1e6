//! The churn example's script gives PySpark's numbers: the same rows from
//! `random_split([0.8, 0.2], 42)` and the same test AUC.
//!
//! Reference: `tests/fixtures/churn/pyspark_churn.json`, written by `tests/pyspark/churn.py`
//! (PySpark 4.3.0, `local[2]`) running the same pipeline as `examples/churn.rs`.

use arrow::array::AsArray;
use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::{BinaryClassificationEvaluator, BinaryMetric};
use mlpipe::feature::{Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler};
use mlpipe::frame::Partitioning;
use mlpipe::prelude::*;

const CATEGORICAL: [&str; 15] = [
    "gender",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
];

#[test]
fn churn_script_gives_pysparks_split_and_auc() {
    let spec: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/churn/pyspark_churn.json"
        ))
        .unwrap(),
    )
    .unwrap();
    // local[2] as in the PySpark run (the file is under 4 MiB: one partition anyway).
    let opts = CsvOptions::default()
        .with_null_values(&["", " "])
        .with_partitioning(Partitioning::Spark {
            default_parallelism: 2,
        });
    let df = DataFrame::read_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/telco_churn/telco_customer_churn.csv"
        ),
        &opts,
    )
    .unwrap();
    assert_eq!(
        df.num_partitions() as u64,
        spec["input_partitions"].as_u64().unwrap()
    );
    let [train, test] = df.random_split([0.8, 0.2], 42).unwrap();
    assert_eq!(
        train.num_rows() as u64,
        spec["train_rows"].as_u64().unwrap()
    );
    let mut ids: Vec<String> = test
        .column("customerID")
        .unwrap()
        .chunks
        .iter()
        .flat_map(|c| {
            c.as_string::<i32>()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    ids.sort();
    let expected: Vec<String> = spec["test_customer_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, expected, "the test rows are PySpark's");

    // The pipeline of examples/churn.rs and tests/pyspark/churn.py.
    let idx: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_idx")).collect();
    let vec: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_vec")).collect();
    let idx_r: Vec<&str> = idx.iter().map(|s| s.as_str()).collect();
    let vec_r: Vec<&str> = vec.iter().map(|s| s.as_str()).collect();
    let mut features = vec_r.clone();
    features.extend([
        "SeniorCitizen",
        "tenure",
        "MonthlyCharges",
        "TotalCharges_imputed",
    ]);
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(CATEGORICAL)
                .with_output_cols(&idx_r),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(&idx_r)
                .with_output_cols(&vec_r),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["TotalCharges"])
                .with_output_cols(["TotalCharges_imputed"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&features)
                .with_output_col("raw_features"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw_features")
                .with_output_col("features"),
        )
        .with_estimator(LogisticRegression::new().with_reg_param(0.01));
    let scored = pipeline.fit(&train).unwrap().transform(&test).unwrap();
    let auc = BinaryClassificationEvaluator::new()
        .evaluate(&scored)
        .unwrap();
    let pr = BinaryClassificationEvaluator::new()
        .with_metric(BinaryMetric::AreaUnderPr)
        .evaluate(&scored)
        .unwrap();
    // PySpark's values; 1e-9 leaves room only for the optimizer's last-digit rounding.
    let (spark_auc, spark_pr) = (
        spec["areaUnderROC"].as_f64().unwrap(),
        spec["areaUnderPR"].as_f64().unwrap(),
    );
    assert!(
        (auc - spark_auc).abs() < 1e-9,
        "AUC {auc} vs PySpark {spark_auc}"
    );
    assert!(
        (pr - spark_pr).abs() < 1e-9,
        "areaUnderPR {pr} vs PySpark {spark_pr}"
    );
}
