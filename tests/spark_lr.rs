//! LogisticRegression refit on the Spark 4.3 fixtures (tests/fixtures/spark, README there):
//! coefficients within 1e-4 relative (or 1e-6 absolute) of Spark's, final objective within
//! 1e-7 relative, predictions on the fixture inputs within 1e-6 of Spark's CSVs.

use crate::common;

use approx::assert_relative_eq;
use common::*;
use mlpipe::classification::{Family, LogisticRegression, LogisticRegressionModel};
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::prelude::*;

/// Compares rawPrediction, probability and prediction with a Spark prediction CSV, row by
/// row (both in customer_id order).
fn assert_predictions(out: &DataFrame, csv: &str, k: usize) {
    let spark = read(csv);
    let ids = f64_column(&spark, "customer_id");
    assert_eq!(
        f64_column(out, "customer_id"),
        ids,
        "same rows in the same order"
    );
    let raw = vector_rows(out, "rawPrediction");
    let prob = vector_rows(out, "probability");
    let pred = f64_column(out, "prediction");
    for c in 0..k {
        let sr = f64_column(&spark, &format!("rawPrediction_{c}"));
        let sp = f64_column(&spark, &format!("probability_{c}"));
        for r in 0..ids.len() {
            assert!(
                (raw[r][c] - sr[r]).abs() <= 1e-6 * sr[r].abs().max(1.0),
                "raw row {r} class {c}: {} vs {}",
                raw[r][c],
                sr[r]
            );
            assert!(
                (prob[r][c] - sp[r]).abs() <= 1e-6,
                "prob row {r} class {c}: {} vs {}",
                prob[r][c],
                sp[r]
            );
        }
    }
    assert_eq!(pred, f64_column(&spark, "prediction"));
}

#[test]
fn pipeline_lr_matches_spark() {
    let j = spark_json("spark_pipeline_lr.json");
    let train = read("train_rows.csv");
    let model = Pipeline::new()
        .with_transformer({
            let cols = feature_cols();
            let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("features")
                .with_handle_invalid(HandleInvalid::Skip)
        })
        .with_estimator(
            StandardScaler::new()
                .with_input_col("features")
                .with_output_col("scaled")
                .with_mean(true)
                .with_std(true),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_features_col("scaled")
                .with_label_col("churn")
                .with_reg_param(0.01)
                .with_max_iter(100)
                .with_tol(1e-6),
        )
        .fit(&train)
        .unwrap();
    let scaler = model
        .stage::<mlpipe::feature::StandardScalerModel>()
        .unwrap();
    // StandardScaler: 1e-12 relative (issue 4).
    for (g, w) in scaler.mean().iter().zip(floats(&j["scaler_mean"])) {
        assert_relative_eq!(*g, w, max_relative = 1e-12);
    }
    for (g, w) in scaler.std().iter().zip(floats(&j["scaler_std"])) {
        assert_relative_eq!(*g, w, max_relative = 1e-12);
    }
    let lr = model.stage::<LogisticRegressionModel>().unwrap();
    assert_coefs(
        "coefficients",
        lr.coefficients().unwrap(),
        &floats(&j["coefficients"]),
    );
    assert_relative_eq!(
        lr.intercept().unwrap(),
        j["intercept"].as_f64().unwrap(),
        max_relative = 1e-4,
        epsilon = 1e-6
    );
    let hist = floats(&j["summary"]["objectiveHistory"]);
    let s = lr.summary().unwrap();
    assert_relative_eq!(
        *s.objective_history.last().unwrap(),
        *hist.last().unwrap(),
        max_relative = 1e-7
    );
    assert_relative_eq!(s.objective_history[0], hist[0], max_relative = 1e-12);
    assert_eq!(
        s.total_iterations,
        hist.len() - 1,
        "breeze-compatible optimiser: same iteration count as Spark"
    );
    let out = model
        .transform(&read("spark_pipeline_lr_inputs.csv"))
        .unwrap();
    assert_eq!(
        out.num_rows(),
        998,
        "the two rows with a null feature are skipped"
    );
    assert_predictions(&out, "spark_pipeline_lr_predictions.csv", 2);
}

#[test]
fn elastic_net_matches_spark() {
    let j = spark_json("spark_lr_elasticnet.json");
    let train = assembled(&read("train_rows.csv"));
    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_reg_param(0.1)
        .with_elastic_net_param(0.5)
        .fit(&train)
        .unwrap();
    let want = floats(&j["coefficients"]);
    let got = lr.coefficients().unwrap();
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(
            *g == 0.0,
            *w == 0.0,
            "zero pattern differs at {i}: {g} vs {w}"
        );
    }
    assert_coefs("coefficients", got, &want);
    assert_relative_eq!(
        lr.intercept().unwrap(),
        j["intercept"].as_f64().unwrap(),
        max_relative = 1e-4,
        epsilon = 1e-6
    );
    let hist = floats(&j["summary"]["objectiveHistory"]);
    let s = lr.summary().unwrap();
    assert_relative_eq!(
        *s.objective_history.last().unwrap(),
        *hist.last().unwrap(),
        max_relative = 1e-7
    );
    assert_eq!(
        s.total_iterations,
        hist.len() - 1,
        "breeze-compatible optimiser: same iteration count as Spark"
    );
    let out = lr
        .transform(&assembled(&read("spark_pipeline_lr_inputs.csv")))
        .unwrap();
    assert_predictions(&out, "spark_lr_elasticnet_predictions.csv", 2);
}

#[test]
fn multinomial_matches_spark() {
    let j = spark_json("spark_lr_multinomial.json");
    let train = with_contract_label(&assembled(&read("train_rows.csv")));
    let lr = LogisticRegression::new()
        .with_label_col("contract_label")
        .with_family(Family::Multinomial)
        .with_reg_param(0.01)
        .fit(&train)
        .unwrap();
    let want: Vec<f64> = j["coefficientMatrix"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_coefs("coefficientMatrix", lr.coefficient_matrix(), &want);
    assert_coefs(
        "interceptVector",
        lr.intercept_vector(),
        &floats(&j["interceptVector"]),
    );
    let hist = floats(&j["summary"]["objectiveHistory"]);
    let s = lr.summary().unwrap();
    assert_relative_eq!(
        *s.objective_history.last().unwrap(),
        *hist.last().unwrap(),
        max_relative = 1e-7
    );
    assert_eq!(
        s.total_iterations,
        hist.len() - 1,
        "breeze-compatible optimiser: same iteration count as Spark"
    );
    let inputs = with_contract_label(&assembled(&read("spark_pipeline_lr_inputs.csv")));
    let out = lr.transform(&inputs).unwrap();
    assert_predictions(&out, "spark_lr_multinomial_predictions.csv", 3);
}
