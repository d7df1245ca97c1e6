//! Row scoring (`PipelineModel::row_scorer`) against the batch transform: bit for bit, for
//! the Telco pipeline PySpark saved and for every stage's row form.

mod common;

use mlpipe::prelude::*;
use mlpipe::row::{check_against_transform, Row, Value};

fn spark_cli(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_cli/{name}",
        common::repo_root().display()
    )
}

/// The PipelineModel PySpark 4.3 fitted and saved (tests/pyspark/make_cli_fixtures.py),
/// and the 400 held-out Telco rows (11 of them with a blank TotalCharges).
fn telco() -> (PipelineModel, DataFrame) {
    let model = PipelineModel::load(spark_cli("fitted_pipeline")).unwrap();
    let df = DataFrame::read_csv(spark_cli("test.csv"), &CsvOptions::default()).unwrap();
    (model, df)
}

#[test]
fn telco_pipeline_rows_equal_transform_bit_for_bit() {
    let (model, df) = telco();
    assert_eq!(check_against_transform(&model, &df).unwrap(), 400);
    // Without the label column too (its StringIndexer is skipped, as in Spark).
    let unlabelled = df.drop(["Churn"]).unwrap();
    assert_eq!(check_against_transform(&model, &unlabelled).unwrap(), 400);
}

#[test]
fn telco_pipeline_matches_spark_predictions() {
    // predictions.csv is PySpark's own transform of test.csv.
    let (model, df) = telco();
    let spark = DataFrame::read_csv(spark_cli("predictions.csv"), &CsvOptions::default()).unwrap();
    let probs = common::f64_column(&spark, "probability_1");
    let preds = common::f64_column(&spark, "prediction");
    let mut scorer = model.row_scorer(df.schema()).unwrap();
    let batch = df.collect().unwrap();
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for r in 0..batch.num_rows() {
        let row: Row<'_> = names
            .iter()
            .enumerate()
            .map(|(c, n)| (n.as_str(), row_value(&batch, c, r)))
            .collect();
        let s = scorer.score_row(&row).unwrap().unwrap();
        // 1e-12: the L-BFGS fit is PySpark's own; only the scoring arithmetic differs.
        assert!(
            (s.probability().unwrap()[1] - probs[r]).abs() < 1e-12,
            "row {r}"
        );
        assert_eq!(s.prediction().unwrap(), preds[r], "row {r}");
    }
}

fn row_value(b: &mlpipe::arrow::array::RecordBatch, c: usize, r: usize) -> Value<'_> {
    use mlpipe::arrow::array::{Array, AsArray};
    use mlpipe::arrow::datatypes::{DataType, Float64Type, Int64Type};
    let a = b.column(c);
    if a.is_null(r) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Value::Str(a.as_string::<i32>().value(r)),
        DataType::Int64 => Value::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::Float64 => Value::Float(a.as_primitive::<Float64Type>().value(r)),
        dt => panic!("unexpected type {dt}"),
    }
}

#[test]
fn telco_bad_input_is_named() {
    let (model, df) = telco();
    let mut scorer = model.row_scorer(df.schema()).unwrap();
    let good = || {
        Row::new()
            .with("gender", "Female")
            .with("Partner", "Yes")
            .with("Contract", "Two year")
            .with("InternetService", "DSL")
            .with("PaymentMethod", "Mailed check")
            .with("SeniorCitizen", 0i64)
            .with("tenure", 12i64)
            .with("MonthlyCharges", 50.5)
            .with("TotalCharges", 600.0)
            .with("Churn", "No")
    };
    assert!(scorer.score_row(&good()).unwrap().is_some());
    // Missing field: named.
    let row: Row<'_> = good()
        .fields()
        .iter()
        .filter(|f| f.0 != "tenure")
        .copied()
        .collect();
    let e = scorer.score_row(&row).unwrap_err().to_string();
    assert_eq!(
        e,
        "row field `tenure`: missing; expected an integer (Int64)"
    );
    // Wrong type: named, with what was expected.
    let e = scorer
        .score_row(&good().with("MonthlyCharges", "lots"))
        .unwrap_err()
        .to_string();
    // The later field wins; its value is checked.
    assert!(
        e.contains("`MonthlyCharges`") && e.contains("a number (Float64)"),
        "{e}"
    );
    // An unseen category: the feature indexer keeps it (handleInvalid=keep), the label
    // indexer (handleInvalid=error) names it.
    assert!(scorer
        .score_row(&good().with("Contract", "Ten year"))
        .unwrap()
        .is_some());
    let e = scorer
        .score_row(&good().with("Churn", "Maybe"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("StringIndexerModel: unseen label \"Maybe\" in column `Churn`"),
        "{e}"
    );
    // NaN where the pipeline errors: VectorAssembler (handleInvalid=error) on tenure.
    let e = scorer
        .score_row(&good().with("MonthlyCharges", f64::NAN))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("VectorAssembler: NaN in column `MonthlyCharges`"),
        "{e}"
    );
    // The scorer goes on scoring after errors, with the same answer.
    let a = scorer.score_row(&good()).unwrap().unwrap().to_owned_row();
    let b = scorer.score_batch(&[good(), good()]).unwrap();
    assert_eq!(b, vec![Some(a.clone()), Some(a)]);
}
