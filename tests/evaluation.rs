//! Evaluators against the numbers Spark 4.3's own evaluators give on the fixture
//! prediction CSVs (tests/fixtures/spark/evaluator_metrics.json), to 1e-12; binning and
//! exact AUC against hand-derived and scikit-learn values.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field};
use common::*;
use mlpipe::evaluation::BinaryMetric::AreaUnderPr;
use mlpipe::evaluation::{
    BinaryClassificationEvaluator, BinaryClassificationMetrics, BinaryMetric,
    MulticlassClassificationEvaluator, MulticlassMetric, RegressionEvaluator, RegressionMetric,
};
use mlpipe::prelude::*;

/// A prediction CSV with `label` joined from the inputs by customer_id, and the vector
/// columns rebuilt from their `_i` columns.
fn scored(csv: &str, label: &dyn Fn(&str) -> f64, k: usize) -> DataFrame {
    let inputs = read("spark_pipeline_lr_inputs.csv");
    let ids = f64_column(&inputs, "customer_id");
    let contract = inputs.column("contract").unwrap();
    let churn = f64_column(&inputs, "churn");
    let mut by_id = HashMap::new();
    let mut row = 0;
    for c in &contract.chunks {
        let s = c
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .unwrap();
        for v in s.iter() {
            let l = if label("churn") >= 0.0 {
                churn[row]
            } else {
                label(v.unwrap())
            };
            by_id.insert(ids[row] as i64, l);
            row += 1;
        }
    }
    let df = read(csv);
    let pred_ids = f64_column(&df, "customer_id");
    let labels: Vec<f64> = pred_ids.iter().map(|i| by_id[&(*i as i64)]).collect();
    let mut cols: Vec<(String, ArrayRef)> = vec![
        (
            "label".into(),
            Arc::new(Float64Array::from(labels)) as ArrayRef,
        ),
        (
            "prediction".into(),
            Arc::new(Float64Array::from(f64_column(&df, "prediction"))) as ArrayRef,
        ),
    ];
    for name in ["rawPrediction", "probability"] {
        let parts: Vec<Vec<f64>> = (0..k)
            .map(|c| f64_column(&df, &format!("{name}_{c}")))
            .collect();
        let flat: Vec<f64> = (0..pred_ids.len())
            .flat_map(|r| parts.iter().map(move |p| p[r]))
            .collect();
        cols.push((
            name.into(),
            Arc::new(mlpipe::frame::vector::vector_array(flat, k, None).unwrap()) as ArrayRef,
        ));
    }
    cols.push((
        "probability_1".into(),
        Arc::new(Float64Array::from(f64_column(&df, "probability_1"))) as ArrayRef,
    ));
    DataFrame::from_batches(vec![RecordBatch::try_from_iter(cols).unwrap()])
        .unwrap()
        .repartition(3)
        .unwrap()
}

/// Within 1e-12, absolute or relative.
fn near(got: f64, want: f64) {
    approx::assert_relative_eq!(got, want, epsilon = 1e-12, max_relative = 1e-12);
}

#[test]
fn binary_and_multiclass_on_the_binary_predictions() {
    let j = spark_json("evaluator_metrics.json");
    let e = &j["spark_pipeline_lr_predictions.csv"];
    let df = scored("spark_pipeline_lr_predictions.csv", &|_| 1.0, 2);
    let roc = BinaryClassificationEvaluator::new();
    near(
        roc.evaluate(&df).unwrap(),
        e["areaUnderROC_numBins1000"].as_f64().unwrap(),
    );
    near(
        roc.clone().with_num_bins(0).evaluate(&df).unwrap(),
        e["areaUnderROC_numBins0"].as_f64().unwrap(),
    );
    let pr = BinaryClassificationEvaluator::new().with_metric(AreaUnderPr);
    near(
        pr.evaluate(&df).unwrap(),
        e["areaUnderPR_numBins1000"].as_f64().unwrap(),
    );
    near(
        pr.with_num_bins(0).evaluate(&df).unwrap(),
        e["areaUnderPR_numBins0"].as_f64().unwrap(),
    );
    for m in [
        "f1",
        "accuracy",
        "weightedPrecision",
        "weightedRecall",
        "logLoss",
        "hammingLoss",
    ] {
        let got = MulticlassClassificationEvaluator::new()
            .with_metric(m.parse().unwrap())
            .evaluate(&df)
            .unwrap();
        near(got, e[format!("multiclass_{m}")].as_f64().unwrap());
    }
    let r = &j["regression_on_probability_1_vs_churn"];
    for m in ["rmse", "mse", "r2", "mae", "var"] {
        let got = RegressionEvaluator::new()
            .with_metric(m.parse().unwrap())
            .with_prediction_col("probability_1")
            .evaluate(&df)
            .unwrap();
        near(got, r[m].as_f64().unwrap());
    }
}

#[test]
fn multiclass_on_the_three_class_predictions() {
    let j = spark_json("evaluator_metrics.json");
    let e = &j["spark_lr_multinomial_predictions.csv"];
    let contract = |s: &str| match s {
        "month-to-month" => 0.0,
        "one-year" => 1.0,
        "two-year" => 2.0,
        _ => -1.0,
    };
    let label = move |s: &str| if s == "churn" { -1.0 } else { contract(s) };
    let df = scored("spark_lr_multinomial_predictions.csv", &label, 3);
    for m in [
        "f1",
        "accuracy",
        "weightedPrecision",
        "weightedRecall",
        "weightedTruePositiveRate",
        "weightedFalsePositiveRate",
        "weightedFMeasure",
        "logLoss",
        "hammingLoss",
    ] {
        let got = MulticlassClassificationEvaluator::new()
            .with_metric(m.parse().unwrap())
            .evaluate(&df)
            .unwrap();
        near(got, e[m].as_f64().unwrap());
    }
    for m in [
        "truePositiveRateByLabel",
        "falsePositiveRateByLabel",
        "precisionByLabel",
        "recallByLabel",
        "fMeasureByLabel",
    ] {
        for c in 0..3 {
            let got = MulticlassClassificationEvaluator::new()
                .with_metric(m.parse().unwrap())
                .with_metric_label(c as f64)
                .evaluate(&df)
                .unwrap();
            near(got, e[m][c.to_string()].as_f64().unwrap());
        }
    }
    let ev = MulticlassClassificationEvaluator::new();
    let cm = ev.metrics(&df).unwrap().confusion_matrix();
    assert_eq!(cm.iter().flatten().sum::<f64>(), 998.0);
    let err = ev
        .with_metric(MulticlassMetric::PrecisionByLabel)
        .with_metric_label(7.0)
        .evaluate(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("MulticlassClassificationEvaluator: parameter `metricLabel` must be a label that occurs in the data ([0.0, 1.0, 2.0])"), "{err}");
}

/// Exact AUC with ties equals scikit-learn's `roc_auc_score`. Expected value computed with
/// scikit-learn 1.9 on the same data (generated here, deterministic):
///   scores = [((i * 7919) % 1000) // 100 / 10 for i in range(500)]   # 10 distinct: many ties
///   labels = [1 if (i * 104729) % 10 < ((i * 7919) % 1000) // 100 else 0 for i in range(500)]
///   sklearn.metrics.roc_auc_score(labels, scores)   # 0.8256497848821284
#[test]
fn exact_auc_with_ties_equals_sklearn() {
    let scores: Vec<f64> = (0..500u64)
        .map(|i| ((i * 7919) % 1000 / 100) as f64 / 10.0)
        .collect();
    let labels: Vec<f64> = (0..500u64)
        .map(|i| {
            if (i * 104729) % 10 < (i * 7919) % 1000 / 100 {
                1.0
            } else {
                0.0
            }
        })
        .collect();
    let m = BinaryClassificationMetrics::new(&scores, &labels, None, 0).unwrap();
    let sklearn = SKLEARN_AUC;
    assert!(
        (m.area_under_roc() - sklearn).abs() < 1e-12,
        "{} vs {sklearn}",
        m.area_under_roc()
    );
}

const SKLEARN_AUC: f64 = 0.8256497848821284;

/// Spark's down-sampling (reference §4.1): 5000 distinct scores, numBins 1000 → runs of
/// 5 points merge, each taking the run's lowest score; 1000 points remain.
#[test]
fn binning_follows_sparks_description() {
    let scores: Vec<f64> = (0..5000).map(|i| i as f64 / 5000.0).collect();
    let labels: Vec<f64> = (0..5000)
        .map(|i| ((i * 31) % 3 == 0) as i32 as f64)
        .collect();
    let m = BinaryClassificationMetrics::new(&scores, &labels, None, 1000).unwrap();
    let t = m.thresholds();
    assert_eq!(t.len(), 1000);
    assert_eq!(
        t[0],
        4995.0 / 5000.0,
        "the first run holds 4999..4995; its threshold is the lowest"
    );
    assert_eq!(m.roc().len(), 1002);
    // 4999 distinct scores: grouping 4, so 1249 full runs and a trailing run of 3
    let m = BinaryClassificationMetrics::new(&scores[1..], &labels[1..], None, 1000).unwrap();
    assert_eq!(m.thresholds().len(), 1250);
    assert_eq!(*m.thresholds().last().unwrap(), 1.0 / 5000.0);
    // fewer than 2 * numBins distinct scores: no down-sampling
    let m = BinaryClassificationMetrics::new(&scores[..1999], &labels[..1999], None, 1000).unwrap();
    assert_eq!(m.thresholds().len(), 1999);
    // the exact curve is not below the binned one's resolution: areas close but not equal
    let exact = BinaryClassificationMetrics::new(&scores, &labels, None, 0)
        .unwrap()
        .area_under_roc();
    let binned = BinaryClassificationMetrics::new(&scores, &labels, None, 1000)
        .unwrap()
        .area_under_roc();
    assert!((exact - binned).abs() < 1e-2 && exact != binned);
}

#[test]
fn bad_input_is_a_clear_error() {
    let b = RecordBatch::try_from_iter([
        (
            "rawPrediction",
            Arc::new(Float64Array::from(vec![0.3, f64::NAN])) as ArrayRef,
        ),
        (
            "label",
            Arc::new(Float64Array::from(vec![1.0, 0.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    let err = BinaryClassificationEvaluator::new()
        .evaluate(&df)
        .unwrap_err();
    assert_eq!(err.to_string(), "BinaryClassificationEvaluator: NaN score in column `rawPrediction` (partition 0, row 1); drop or fix such rows before evaluating");
    let err = BinaryClassificationEvaluator::new()
        .with_label_col("y")
        .evaluate(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("BinaryClassificationEvaluator: column `y` not found; available columns: [\"rawPrediction\", \"label\"]"));
    let empty = DataFrame::empty(df.schema().clone());
    assert_eq!(
        RegressionEvaluator::new()
            .with_prediction_col("rawPrediction")
            .evaluate(&empty)
            .unwrap_err()
            .to_string(),
        "RegressionEvaluator: the input has no rows; evaluate needs at least one scored row"
    );
    let err = "f2".parse::<MulticlassMetric>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "MulticlassClassificationEvaluator: parameter `metricName` must be one of [\"f1\", \
         \"accuracy\", \"weightedPrecision\", \"weightedRecall\", \"weightedTruePositiveRate\", \
         \"weightedFalsePositiveRate\", \"weightedFMeasure\", \"truePositiveRateByLabel\", \
         \"falsePositiveRateByLabel\", \"precisionByLabel\", \"recallByLabel\", \
         \"fMeasureByLabel\", \"logLoss\", \"hammingLoss\"], got \"f2\""
    );
    let s = df
        .with_column(
            Field::new("s", DataType::Utf8, false),
            vec![Arc::new(arrow::array::StringArray::from(vec!["a", "b"])) as ArrayRef],
        )
        .unwrap();
    let err = BinaryClassificationEvaluator::new()
        .with_raw_prediction_col("s")
        .evaluate(&s)
        .unwrap_err();
    assert_eq!(err.to_string(), "BinaryClassificationEvaluator: column `s` has type Utf8, expected a numeric or vector column");
    assert!(!MulticlassClassificationEvaluator::new()
        .with_metric(MulticlassMetric::LogLoss)
        .is_larger_better());
    assert!(RegressionEvaluator::new()
        .with_metric(RegressionMetric::R2)
        .is_larger_better());
    assert!(!RegressionEvaluator::new().is_larger_better());
}

/// The metric enums carry exactly Spark's `metricName` values (the table in Spark's
/// `MulticlassClassificationEvaluator`, `RegressionEvaluator` and
/// `BinaryClassificationEvaluator` docs) and its `isLargerBetter`; the names are accepted
/// through the by-name params, and a bad name is refused listing every valid one.
#[test]
fn metric_enums_take_spark_names_by_param() {
    let names = |all: &[&str]| all.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        MulticlassMetric::ALL
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>(),
        names(&mlpipe::evaluation::MULTICLASS_METRICS)
    );
    assert_eq!(
        RegressionMetric::ALL
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>(),
        names(&["rmse", "mse", "r2", "mae", "var"])
    );
    assert_eq!(
        BinaryMetric::ALL
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>(),
        names(&["areaUnderROC", "areaUnderPR"])
    );
    // Spark: isLargerBetter is false for these, true for every other multiclass metric.
    let smaller: Vec<&str> = MulticlassMetric::ALL
        .iter()
        .filter(|m| !m.is_larger_better())
        .map(|m| m.name())
        .collect();
    assert_eq!(
        smaller,
        [
            "weightedFalsePositiveRate",
            "falsePositiveRateByLabel",
            "logLoss",
            "hammingLoss"
        ]
    );
    for m in MulticlassMetric::ALL {
        assert_eq!(m.name().parse::<MulticlassMetric>().unwrap(), *m);
        assert_eq!(m.to_string(), m.name());
        let mut ev = MulticlassClassificationEvaluator::new();
        ev.set_param("metricName", serde_json::json!(m.name()))
            .unwrap();
        assert_eq!(ev.params().metric_name, *m);
        assert_eq!(ev.is_larger_better(), m.is_larger_better());
        assert_eq!(ev.get_param("metricName").unwrap(), m.name());
    }
    // ClusteringEvaluator: Spark's one metric by enum and by name; another name is refused
    // with the valid ones.
    let mut ev = mlpipe::evaluation::ClusteringEvaluator::new()
        .with_metric(mlpipe::evaluation::ClusteringMetric::Silhouette);
    ev.set_param("metricName", serde_json::json!("silhouette"))
        .unwrap();
    assert!(ev.is_larger_better());
    let err = ev
        .set_param("metricName", serde_json::json!("davies"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("expected `silhouette`"), "{err}");
    for m in RegressionMetric::ALL {
        let mut ev = RegressionEvaluator::new();
        ev.set_param("metricName", serde_json::json!(m.name()))
            .unwrap();
        assert_eq!(ev.params().metric_name, *m);
        assert_eq!(ev.is_larger_better(), m.is_larger_better());
    }
    let mut ev = BinaryClassificationEvaluator::new();
    ev.set_param("metricName", serde_json::json!("areaUnderPR"))
        .unwrap();
    assert_eq!(ev.params().metric_name, BinaryMetric::AreaUnderPr);
    assert!(ev.is_larger_better());

    // A bad name through the by-name param: refused, listing the names, nothing changed.
    let mut ev = RegressionEvaluator::new().with_metric(RegressionMetric::Mae);
    let err = ev
        .set_param("metricName", serde_json::json!("RMSE"))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("RegressionEvaluator: parameter `metricName` must be a valid value")
            && err.contains("`rmse`, `mse`, `r2`, `mae`, `var`"),
        "{err}"
    );
    assert_eq!(ev.params().metric_name, RegressionMetric::Mae);
    let err = ev
        .set_param("metricNme", serde_json::json!("rmse"))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownParam { .. }), "{err}");
}
