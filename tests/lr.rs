//! LogisticRegression behaviour: determinism, Spark's special cases, bad input, contract.

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use common::*;
use mlpipe::classification::{Family, LogisticRegression, LogisticRegressionModel};
use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use mlpipe::testing::check_estimator;

fn train() -> DataFrame {
    assembled(&read("train_rows.csv"))
}

/// A small frame: features from x and y, a label and a weight column.
fn small(labels: &[f64], weights: &[f64]) -> DataFrame {
    let n = labels.len();
    let x: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin() * 3.0).collect();
    let y: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
    let b = RecordBatch::try_from_iter([
        ("x", Arc::new(Float64Array::from(x)) as ArrayRef),
        ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
        (
            "label",
            Arc::new(Float64Array::from(labels.to_vec())) as ArrayRef,
        ),
        (
            "w",
            Arc::new(Float64Array::from(weights.to_vec())) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    VectorAssembler::new()
        .with_input_cols(["x", "y"])
        .with_output_col("features")
        .transform(&df)
        .unwrap()
}

fn fit_with_threads(
    threads: usize,
    lr: &LogisticRegression,
    df: &DataFrame,
) -> LogisticRegressionModel {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| lr.fit(df).unwrap())
}

#[test]
fn one_and_two_threads_give_bit_identical_models() {
    let df = train().repartition(3).unwrap();
    for lr in [
        LogisticRegression::new()
            .with_label_col("churn")
            .with_reg_param(0.01),
        LogisticRegression::new()
            .with_label_col("churn")
            .with_reg_param(0.1)
            .with_elastic_net_param(0.5),
        // L-BFGS-B: every coefficient <= 0.01, intercept >= -3.
        LogisticRegression::new()
            .with_label_col("churn")
            .with_reg_param(0.01)
            .with_upper_bounds_on_coefficients(
                mlpipe::persist::Matrix::new(1, 20, vec![0.01; 20]).unwrap(),
            )
            .with_lower_bounds_on_intercepts(&[-3.0]),
    ] {
        let a = fit_with_threads(1, &lr, &df);
        let b = fit_with_threads(2, &lr, &df);
        let bits = |m: &LogisticRegressionModel| {
            m.coefficient_matrix()
                .iter()
                .chain(m.intercept_vector())
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(
            a.summary().unwrap().objective_history,
            b.summary().unwrap().objective_history
        );
    }
}

#[test]
fn contract() {
    let df = small(
        &[0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0],
        &[1.0; 10],
    );
    check_estimator(&LogisticRegression::new().with_reg_param(0.1), &df);
    check_estimator(&LogisticRegression::new().with_weight_col("w"), &df);
}

#[test]
fn single_class_gives_sparks_infinite_intercept() {
    let ones = small(&[1.0; 6], &[1.0; 6]);
    let m = LogisticRegression::new().fit(&ones).unwrap();
    assert_eq!(m.intercept().unwrap(), f64::INFINITY);
    assert_eq!(m.coefficients().unwrap(), &[0.0, 0.0]);
    assert_eq!(m.summary().unwrap().objective_history, vec![0.0]);
    assert_eq!(m.predict(&[1.0, 2.0]).unwrap(), 1.0);
    let zeros = small(&[0.0; 6], &[1.0; 6]);
    let m = LogisticRegression::new().fit(&zeros).unwrap();
    assert_eq!(m.intercept().unwrap(), f64::NEG_INFINITY);
    assert_eq!(m.num_classes(), 1);
    let m = LogisticRegression::new()
        .with_family(Family::Multinomial)
        .fit(&ones)
        .unwrap();
    assert_eq!(m.intercept_vector(), &[0.0, f64::INFINITY]);
}

#[test]
fn weights_equal_to_repeated_rows() {
    // weight 2 on a row = the row twice (Spark's weighted mean loss; hand derivation). With
    // standardization off the penalty does not involve the (weighted) std, so the optima agree.
    let labels = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0];
    let weighted = small(&labels, &[2.0, 1.0, 1.0, 1.0, 1.0, 1.0]);
    let a = LogisticRegression::new()
        .with_weight_col("w")
        .with_reg_param(0.05)
        .with_standardization(false)
        .with_tol(1e-12)
        .fit(&weighted)
        .unwrap();
    let rows = weighted.collect().unwrap();
    let dup = DataFrame::from_batches(vec![rows.slice(0, 1), rows.clone()]).unwrap();
    let b = LogisticRegression::new()
        .with_reg_param(0.05)
        .with_standardization(false)
        .with_tol(1e-12)
        .fit(&dup)
        .unwrap();
    for (x, y) in a.coefficient_matrix().iter().zip(b.coefficient_matrix()) {
        assert!((x - y).abs() < 1e-6, "{x} vs {y}");
    }
}

#[test]
fn bad_labels_weights_and_features_name_the_row() {
    let df = small(&[0.0, 1.0, 2.5, 1.0], &[1.0; 4]);
    let err = LogisticRegression::new().fit(&df).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegression: label 2.5 in column `label` (partition 0, row 2); labels must be whole numbers 0, 1, ..., k-1; index string or arbitrary labels with StringIndexer first"
    );
    let df = small(&[0.0, 1.0, -1.0, 1.0], &[1.0; 4]);
    assert!(LogisticRegression::new()
        .fit(&df)
        .unwrap_err()
        .to_string()
        .contains("label -1 in column `label` (partition 0, row 2)"));
    let df = small(&[0.0, 1.0, 0.0, 1.0], &[1.0, -1.0, 1.0, 1.0]);
    let err = LogisticRegression::new()
        .with_weight_col("w")
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegression: weight -1 in column `w` (partition 0, row 1); weights must be finite and >= 0"
    );
    let df = small(&[0.0, 1.0, 0.0, 1.0], &[1.0, 1.0, f64::INFINITY, 1.0]);
    assert!(LogisticRegression::new()
        .with_weight_col("w")
        .fit(&df)
        .unwrap_err()
        .to_string()
        .contains("weight inf"));
    let df = small(&[0.0, 1.0, 0.0, 1.0], &[0.0; 4]);
    assert_eq!(
        LogisticRegression::new().with_weight_col("w").fit(&df).unwrap_err().to_string(),
        "LogisticRegression: the input has no rows; every row has weight 0; fit needs at least one row with a positive weight"
    );
    let empty = DataFrame::empty(small(&[0.0], &[1.0]).schema().clone());
    assert_eq!(
        LogisticRegression::new()
            .fit(&empty)
            .unwrap_err()
            .to_string(),
        "LogisticRegression: the input has no rows; fit needs at least one row"
    );
    let err = LogisticRegression::new()
        .with_family(Family::Binomial)
        .fit(&small(&[0.0, 1.0, 2.0], &[1.0; 3]))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("binomial supports 1 or 2 outcome classes"),
        "{err}"
    );
}

#[test]
fn non_finite_features_are_rejected() {
    let b = RecordBatch::try_from_iter([
        (
            "x",
            Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.0])) as ArrayRef,
        ),
        (
            "label",
            Arc::new(Float64Array::from(vec![0.0, 1.0, 1.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = VectorAssembler::new()
        .with_input_cols(["x"])
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(&DataFrame::from_batches(vec![b]).unwrap())
        .unwrap();
    let err = LogisticRegression::new().fit(&df).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "LogisticRegression: feature value NaN in column `features` (partition 0, row 1)"
        ),
        "{err}"
    );
}

#[test]
fn params_are_validated_before_reading_data() {
    let df = small(&[0.0, 1.0], &[1.0; 2]);
    let err = LogisticRegression::new()
        .with_elastic_net_param(1.5)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegression: parameter `elasticNetParam` must be in [0, 1], got 1.5"
    );
    let err = LogisticRegression::new()
        .with_reg_param(-1.0)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegression: parameter `regParam` must be >= 0, got -1"
    );
    let err = LogisticRegression::new()
        .with_label_col("churn")
        .fit(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("LogisticRegression: column `churn` not found; available columns: [\"x\", \"y\", \"label\", \"w\", \"features\"]"), "{err}");
}

#[test]
fn thresholds_and_single_row_api() {
    let m = LogisticRegression::new().fit(&train_small()).unwrap();
    let x = [0.3, -0.2];
    let p = m.predict_probability(&x).unwrap();
    let raw = m.predict_raw(&x).unwrap();
    assert!((p[1] - 1.0 / (1.0 + (-raw[1]).exp())).abs() < 1e-15);
    let t0 = m.clone().with_threshold(0.0);
    assert_eq!(
        t0.predict(&x).unwrap(),
        1.0,
        "threshold 0 always predicts 1"
    );
    let t1 = m.clone().with_threshold(1.0);
    assert_eq!(t1.predict(&x).unwrap(), 0.0, "threshold 1 never predicts 1");
    let err = m.predict(&[1.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegressionModel: column `features` has 1 features per row, but 2 are expected"
    );
}

fn train_small() -> DataFrame {
    small(
        &[0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0],
        &[1.0; 12],
    )
}

#[test]
fn binary_summary_scores_by_probability() {
    use mlpipe::evaluation::BinaryClassificationEvaluator;
    let df = train();
    let m = LogisticRegression::new()
        .with_label_col("churn")
        .with_reg_param(0.01)
        .fit(&df)
        .unwrap();
    let s = m.binary_summary(&df).unwrap();
    let scored = m.transform(&df).unwrap();
    // Same ranking as the margin except where the sigmoid saturates: close to the raw AUC.
    let by_raw = BinaryClassificationEvaluator::new()
        .with_label_col("churn")
        .evaluate(&scored)
        .unwrap();
    assert!(
        (s.area_under_roc() - by_raw).abs() < 1e-3,
        "{} vs {by_raw}",
        s.area_under_roc()
    );
    assert!(s.area_under_roc() > 0.8);
    assert_eq!(s.roc().first(), Some(&(0.0, 0.0)));
}

#[test]
fn inconsistent_models_and_huge_labels_are_errors() {
    use mlpipe::classification::LogisticRegressionParams;
    // a multinomial model whose intercepts do not match its classes
    let m = LogisticRegressionModel::new(
        "m",
        LogisticRegressionParams::default(),
        vec![1.0, 2.0],
        vec![0.0],
        3,
        true,
    );
    let err = m.predict(&[1.0, 2.0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "LogisticRegressionModel: parameter `coefficientMatrix` must be 3 rows and 3 intercepts for 3 classes, got 2 values and 1 intercepts"
    );
    assert!(m.transform(&train_small()).is_err());
    // a stray huge label would make a million-row coefficient matrix
    let err = LogisticRegression::new()
        .fit(&small(&[0.0, 1.0, 3e6], &[1.0; 3]))
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "LogisticRegression: label 3000000 (it would make 3000001 classes) in column `label`"
        ),
        "{err}"
    );
}

#[test]
fn the_first_bad_row_is_reported_whatever_the_scheduling() {
    // Bad labels in both partitions; partitions run in parallel, but the error is always
    // the first one in partition order.
    let labels = [0.0, 1.0, 0.0, 2.5, 1.0, 0.0, 1.0, 0.0, 7.5, 1.0];
    let df = small(&labels, &[1.0; 10]).repartition(2).unwrap();
    let first = df.partitions()[0].num_rows();
    assert!(
        first > 3 && first < 8,
        "rows 3 and 8 in different partitions"
    );
    for _ in 0..20 {
        let err = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap()
            .install(|| LogisticRegression::new().fit(&df).unwrap_err());
        assert!(
            err.to_string().starts_with(
                "LogisticRegression: label 2.5 in column `label` (partition 0, row 3)"
            ),
            "{err}"
        );
    }
}

/// Collects the messages of WARN events.
struct Warnings(std::sync::Mutex<Vec<String>>);

impl tracing::Subscriber for Warnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
                if f.name() == "message" {
                    self.0 = format!("{v:?}");
                }
            }
        }
        if *e.metadata().level() == tracing::Level::WARN {
            let mut m = Message(String::new());
            e.record(&mut m);
            self.0.lock().unwrap().push(m.0);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn stopping_at_max_iter_is_a_warning_and_converging_is_not() {
    let df = train();
    let warnings_of = |max_iter: usize| {
        let sub = Arc::new(Warnings(Default::default()));
        let dispatch = tracing::Dispatch::from(sub.clone());
        let m = tracing::dispatcher::with_default(&dispatch, || {
            LogisticRegression::new()
                .with_label_col("churn")
                .with_max_iter(max_iter)
                .with_reg_param(0.01)
                .fit(&df)
                .unwrap()
        });
        let w = sub.0.lock().unwrap().clone();
        (m.summary().unwrap().stop_reason, w)
    };
    let (reason, w) = warnings_of(3);
    assert_eq!(reason, Some(mlpipe::optim::StopReason::MaxIterations));
    assert!(
        w.iter()
            .any(|m| m.starts_with("LogisticRegression stopped at maxIter without converging")),
        "{w:?}"
    );
    let (reason, w) = warnings_of(100);
    assert_ne!(reason, Some(mlpipe::optim::StopReason::MaxIterations));
    assert!(w.iter().all(|m| !m.contains("maxIter")), "{w:?}");
}
