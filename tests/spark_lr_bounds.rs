//! Bound-constrained LogisticRegression (L-BFGS-B) against real Spark 4.3 fits written by
//! `tests/fixtures/spark_bounds/make_fixtures.py` (PySpark 4.3.0, Java 17): each case's
//! saved model loads with its Matrix/Vector bound params, a refit with those params gives
//! Spark's coefficients within 1e-4 relative (or 1e-6 absolute), its final objective
//! within 1e-7 relative, and the same number of iterations.

use crate::common;

use approx::assert_relative_eq;
use common::*;
use mlpipe::classification::{LogisticRegression, LogisticRegressionModel};
use mlpipe::feature::StandardScaler;
use mlpipe::persist::{load_stage, save, Matrix, SaveMode};
use mlpipe::prelude::*;

fn case_dir(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_bounds/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn case_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(case_dir(&format!("{name}.json"))).unwrap())
        .unwrap()
}

/// The training frame of make_fixtures.py: rows with a null dropped, `features`
/// assembled, `scaled` standardised with mean and std, and `contract_label`.
fn training_frame() -> DataFrame {
    let df = with_contract_label(&assembled(&read("train_rows.csv")));
    StandardScaler::new()
        .with_input_col("features")
        .with_output_col("scaled")
        .with_mean(true)
        .with_std(true)
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap()
}

fn load_spark_model(name: &str) -> LogisticRegressionModel {
    load_model(&case_dir(name))
}

fn load_model(dir: &str) -> LogisticRegressionModel {
    let stage = load_stage(dir).unwrap();
    (stage.as_ref() as &dyn std::any::Any)
        .downcast_ref::<LogisticRegressionModel>()
        .expect("a LogisticRegressionModel")
        .clone()
}

/// Refits `name` with the params Spark saved and compares with Spark's fit.
fn refit_matches_spark(name: &str) {
    let j = case_json(name);
    let spark = load_spark_model(name);
    let want_coef: Vec<f64> = j["coefficientMatrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_eq!(
        spark.coefficient_matrix(),
        &want_coef[..],
        "the saved model holds the fit"
    );
    let params = spark.params().clone();
    assert!(
        params.has_bounds(),
        "bounds decoded from Spark's param JSON"
    );

    let ours = LogisticRegression::from_params("lr", params)
        .fit(&training_frame())
        .unwrap();
    assert_coefs("coefficientMatrix", ours.coefficient_matrix(), &want_coef);
    assert_coefs(
        "interceptVector",
        ours.intercept_vector(),
        &floats(&j["interceptVector"]),
    );
    let hist = floats(&j["objectiveHistory"]);
    let s = ours.summary().unwrap();
    assert_relative_eq!(s.objective_history[0], hist[0], max_relative = 1e-12);
    assert_relative_eq!(
        *s.objective_history.last().unwrap(),
        *hist.last().unwrap(),
        max_relative = 1e-7
    );
    assert_eq!(
        s.total_iterations,
        j["totalIterations"].as_u64().unwrap() as usize,
        "breeze-compatible L-BFGS-B: Spark's iteration count\n{:?}\nvs Spark\n{:?}",
        s.objective_history,
        hist
    );
}

#[test]
fn nonnegative_coefficients_match_spark() {
    // Unscaled features, lower bound 0 on every coefficient, unbounded intercept (Spark
    // keeps virtual centring on).
    refit_matches_spark("binomial_nonneg");
}

#[test]
fn box_on_coefficients_and_intercept_matches_spark() {
    // Standardised features, |β| <= 0.4, intercept in [-1.5, -1], no regularisation.
    refit_matches_spark("binomial_box");
}

#[test]
fn bounded_multinomial_matches_spark() {
    // Three classes, every coefficient <= 0.3, intercepts in [-1, 1], regParam 0.01; no
    // centring of the result (Spark centres only unbounded multinomial fits).
    refit_matches_spark("multinomial_upper");
}

#[test]
fn bounds_params_round_trip_in_sparks_json() {
    let spark = load_spark_model("binomial_box");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m");
    save(&spark, &path, SaveMode::ErrorIfExists).unwrap();
    let back = load_model(path.to_str().unwrap());
    assert_eq!(back.params(), spark.params());
    let meta = std::fs::read_to_string(path.join("metadata/part-00000")).unwrap();
    assert!(
        meta.contains(r#""lowerBoundsOnIntercepts":{"type":1,"values":[-1.5]}"#),
        "{meta}"
    );

    // Infinite entries use Java's spelling, as Spark writes them.
    let lr = LogisticRegression::new()
        .with_lower_bounds_on_coefficients(Matrix::new(1, 2, vec![f64::NEG_INFINITY, 0.0]).unwrap())
        .with_upper_bounds_on_intercepts(&[f64::INFINITY]);
    let json = lr.params_json().to_string();
    assert!(json.contains(r#""values":["-Infinity",0.0]"#), "{json}");
    assert!(json.contains(r#""values":["Infinity"]"#), "{json}");
}

#[test]
fn invalid_bounds_are_refused_with_the_param_named() {
    let train = training_frame();
    let fit_err = |lr: LogisticRegression| lr.fit(&train).unwrap_err().to_string();

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("churn")
            .with_lower_bounds_on_coefficients(Matrix::new(1, 3, vec![0.0; 3]).unwrap()),
    );
    assert_eq!(
        err,
        "LogisticRegression: parameter `lowerBoundsOnCoefficients` must be a 1x20 matrix for binomial regression on 20 features, got a 1x3 matrix"
    );

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("churn")
            .with_lower_bounds_on_intercepts(&[1.0])
            .with_upper_bounds_on_intercepts(&[0.0]),
    );
    assert_eq!(
        err,
        "LogisticRegression: parameter `lowerBoundsOnIntercepts/upperBoundsOnIntercepts` must be lower bounds <= upper bounds everywhere, with no NaN, no +inf lower and no -inf upper bound, got intercept bounds of class 0: [1, 0]"
    );

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("churn")
            .with_lower_bounds_on_coefficients(
                Matrix::new(1, 20, {
                    let mut v = vec![0.0; 20];
                    v[3] = f64::INFINITY;
                    v
                })
                .unwrap(),
            ),
    );
    assert!(
        err.ends_with("got coefficient bounds of class 0 feature 3: [inf, inf]"),
        "{err}"
    );

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("churn")
            .with_reg_param(0.1)
            .with_elastic_net_param(0.5)
            .with_upper_bounds_on_intercepts(&[0.0]),
    );
    assert_eq!(
        err,
        "LogisticRegression: parameter `elasticNetParam` must be 0 when bounds are set (bound-constrained fitting supports L2 regularisation only), got 0.5"
    );

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("churn")
            .with_fit_intercept(false)
            .with_upper_bounds_on_intercepts(&[0.0]),
    );
    assert!(err.contains("unset when fitIntercept is false"), "{err}");

    let err = fit_err(
        LogisticRegression::new()
            .with_label_col("contract_label")
            .with_upper_bounds_on_intercepts(&[0.0]),
    );
    assert!(
        err.contains("3 value(s) for multinomial regression with 3 classes, got 1 values"),
        "{err}"
    );
}

#[test]
fn bounds_hold_and_bind() {
    // Upper bound 0 on every coefficient of the scaled churn fit: the unbounded fit has
    // positive coefficients, so some must sit exactly at 0 and none above.
    let train = training_frame();
    let free = LogisticRegression::new()
        .with_features_col("scaled")
        .with_label_col("churn")
        .fit(&train)
        .unwrap();
    let bounded = LogisticRegression::new()
        .with_features_col("scaled")
        .with_label_col("churn")
        .with_upper_bounds_on_coefficients(Matrix::new(1, 20, vec![0.0; 20]).unwrap())
        .fit(&train)
        .unwrap();
    assert!(free.coefficient_matrix().iter().any(|c| *c > 0.0));
    assert!(bounded.coefficient_matrix().iter().all(|c| *c <= 0.0));
    assert!(bounded.coefficient_matrix().contains(&0.0));
    let (f, b) = (
        free.summary()
            .unwrap()
            .objective_history
            .last()
            .copied()
            .unwrap(),
        bounded
            .summary()
            .unwrap()
            .objective_history
            .last()
            .copied()
            .unwrap(),
    );
    assert!(
        b > f,
        "a constrained optimum cannot beat the free one: {b} vs {f}"
    );
}

/// Three rows, all label 1, features [1,2], [2,1], [3,5] (one partition).
fn single_class_frame() -> DataFrame {
    use arrow::array::{ArrayRef, Float64Array, RecordBatch};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let schema = Arc::new(Schema::new(vec![
        Field::new("label", DataType::Float64, false),
        mlpipe::frame::vector::vector_field("features", 2, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Float64Array::from(vec![1.0; 3])) as ArrayRef,
            Arc::new(
                mlpipe::frame::vector::vector_array(vec![1.0, 2.0, 2.0, 1.0, 3.0, 5.0], 2, None)
                    .unwrap(),
            ) as ArrayRef,
        ],
    )
    .unwrap();
    DataFrame::from_batches(vec![batch]).unwrap()
}

#[test]
fn single_class_with_bounds_matches_spark() {
    // Expected values from PySpark 4.3.0 on the same three rows:
    //   LogisticRegression(lowerBoundsOnCoefficients=DenseMatrix(1,2,[0,0])).fit(df)
    //     -> coefficients [0, 0], intercept inf, objectiveHistory [0.0]
    //   LogisticRegression(upperBoundsOnIntercepts=Vectors.dense([3.0])).fit(df)
    //     -> coefficients [4.431947741596568, 1.5871407765656518], intercept 3.0,
    //        14 iterations, final objective 8.733587421930906e-06
    let df = single_class_frame();
    let m = LogisticRegression::new()
        .with_lower_bounds_on_coefficients(Matrix::new(1, 2, vec![0.0, 0.0]).unwrap())
        .fit(&df)
        .unwrap();
    assert_eq!(m.coefficient_matrix(), &[0.0, 0.0]);
    assert_eq!(m.intercept().unwrap(), f64::INFINITY);
    assert_eq!(m.summary().unwrap().objective_history, vec![0.0]);

    let m = LogisticRegression::new()
        .with_upper_bounds_on_intercepts(&[3.0])
        .fit(&df)
        .unwrap();
    assert_coefs(
        "coefficients",
        m.coefficient_matrix(),
        &[4.431947741596568, 1.5871407765656518],
    );
    assert_eq!(
        m.intercept().unwrap(),
        3.0,
        "the intercept sits on its bound"
    );
    let s = m.summary().unwrap();
    assert_eq!(s.total_iterations, 14, "{:?}", s.objective_history);
    assert_relative_eq!(
        *s.objective_history.last().unwrap(),
        8.733587421930906e-06,
        max_relative = 1e-7
    );
}
