//! The statistics package (Summarizer, Correlation, ChiSquareTest, KolmogorovSmirnovTest)
//! and the selectors (ChiSqSelector, UnivariateFeatureSelector) against PySpark 4.3.
//!
//! Fixtures: tests/fixtures/spark_stat/ made by tests/pyspark/make_stat_fixtures.py (60 rows
//! of data.csv, 300 of ks_big.csv, one partition, master local[1]).
//! Tolerances: statistics (means, variances, norms, correlations, χ² and F values, KS
//! statistics) to 1e-12 relative (the sums run in another order than Spark's); p-values to
//! 1e-12 relative where Spark's `1 − cdf` keeps 12 digits (p ≥ 1e-3), else to 1e-14
//! absolute (Spark's and statrs' cdf near 1 differ in the last ulps); counts, degrees of
//! freedom, selected features and metadata exact; transform outputs bit for bit.

use crate::common;

use common::*;
use mlpipe::feature::*;
use mlpipe::pipeline::PipelineModel;
use mlpipe::prelude::*;
use mlpipe::stat::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/spark_stat/{name}", repo_root().display())
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("expected.json")).unwrap()).unwrap()
}

/// A JSON number, or Spark's "NaN".
fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => mlpipe::param::parse_spark_double(s).unwrap(),
        v => v.as_f64().unwrap(),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

fn close(got: f64, want: f64, rtol: f64, what: &str) {
    if want.is_nan() {
        assert!(got.is_nan(), "{what}: {got}, want NaN");
        return;
    }
    assert!(
        (got - want).abs() <= rtol * want.abs().max(1e-300) || got == want,
        "{what}: {got}, want {want}"
    );
}

fn close_all(got: &[f64], want: &[f64], rtol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        close(*g, *w, rtol, &format!("{what}[{j}]"));
    }
}

fn p_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (j, (g, w)) in got.iter().zip(want).enumerate() {
        if *w >= 1e-3 {
            close(*g, *w, 1e-12, &format!("{what}[{j}]"));
        } else {
            assert!((g - w).abs() <= 1e-14, "{what}[{j}]: {g}, want {w}");
        }
    }
}

/// data.csv with the script's three assembled vectors: `cat` (c0..c4), `cont` (x0..x4),
/// `full` (x0..x4, k).
fn data() -> DataFrame {
    let df = DataFrame::read_csv(fixture("data.csv"), &CsvOptions::default()).unwrap();
    let df = VectorAssembler::new()
        .with_input_cols(["c0", "c1", "c2", "c3", "c4"])
        .with_output_col("cat")
        .transform(&df)
        .unwrap();
    let df = VectorAssembler::new()
        .with_input_cols(["x0", "x1", "x2", "x3", "x4"])
        .with_output_col("cont")
        .transform(&df)
        .unwrap();
    VectorAssembler::new()
        .with_input_cols(["x0", "x1", "x2", "x3", "x4", "k"])
        .with_output_col("full")
        .transform(&df)
        .unwrap()
}

#[test]
fn summarizer_matches_spark_dense_and_sparse() {
    let e = expected();
    let df = data();
    let sparse = df.vectors_to_sparse("full").unwrap();
    let s = Summarizer::all();
    for (case, weight) in [("unweighted", None), ("weighted", Some("w"))] {
        let want = &e["summarizer"][case];
        for frame in [&df, &sparse] {
            let got = s.summary(frame, "full", weight).unwrap();
            assert_eq!(got.count(), want["count"].as_u64().unwrap(), "{case} count");
            for m in SummaryMetric::ALL {
                if m == SummaryMetric::Count {
                    continue;
                }
                let g = got.vector(m).unwrap();
                let w = nums(&want[m.name()]);
                // 1e-12 relative, with an absolute floor of 1e-14: Spark's running-mean
                // update gives the constant column's std exactly 0, the two-pass one here
                // 2e-15
                for (j, (a, b)) in g.iter().zip(&w).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * b.abs().max(1e-2),
                        "{case} {} [{j}]: {a} vs {b}",
                        m.name()
                    );
                }
            }
        }
    }
    // the asked-for metrics as Spark's struct fields, in order
    let f = Summarizer::metrics(["max", "count"])
        .unwrap()
        .summary(&df, "full", None)
        .unwrap()
        .to_frame()
        .unwrap();
    let names: Vec<_> = f
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["max", "count"]);
}

#[test]
fn correlation_matches_spark() {
    let e = expected();
    let df = data();
    for method in ["pearson", "spearman"] {
        let want: Vec<Vec<f64>> = e[format!("corr_{method}")]
            .as_array()
            .unwrap()
            .iter()
            .map(nums)
            .collect();
        for frame in [
            &df,
            &df.vectors_to_sparse("full").unwrap(),
            &df.repartition(3).unwrap(),
        ] {
            let m = Correlation::corr(frame, "full", method).unwrap();
            assert_eq!((m.num_rows, m.num_cols), (6, 6));
            for (i, wrow) in want.iter().enumerate() {
                for (j, &w) in wrow.iter().enumerate() {
                    let g = m.get(i, j).unwrap();
                    if w.is_nan() {
                        assert!(g.is_nan(), "{method} ({i},{j}): {g}");
                    } else {
                        assert!((g - w).abs() <= 1e-12, "{method} ({i},{j}): {g} vs {w}");
                    }
                }
            }
        }
    }
}

#[test]
fn correlation_is_the_same_on_any_partitioning_and_large_offsets() {
    // Columns offset by 1e9 lose no digits: the Gram sums are shifted by a provisional
    // mean. Hand check: x and 2x + 1e9 correlate exactly (to 1e-12).
    let rows: Vec<f64> = (0..5000)
        .flat_map(|i| {
            let x = ((i * 7919) % 1000) as f64 / 10.0;
            [x, 2.0 * x + 1e9, -x + ((i * 31) % 7) as f64]
        })
        .collect();
    let df = DataFrame::from_batches(vec![arrow::array::RecordBatch::try_new(
        std::sync::Arc::new(arrow::datatypes::Schema::new(vec![
            mlpipe::frame::vector::vector_field("v", 3, true),
        ])),
        vec![std::sync::Arc::new(
            mlpipe::frame::vector::vector_array(rows, 3, None).unwrap(),
        )],
    )
    .unwrap()])
    .unwrap();
    let a = Correlation::corr(&df, "v", "pearson").unwrap();
    assert!(
        (a.get(0, 1).unwrap() - 1.0).abs() < 1e-12,
        "{:?}",
        a.get(0, 1)
    );
    let b = Correlation::corr(&df.repartition(7).unwrap(), "v", "pearson").unwrap();
    for (x, y) in a.values.iter().zip(&b.values) {
        assert!((x - y).abs() < 1e-14);
    }
}

#[test]
fn chi_square_test_matches_spark() {
    let e = expected();
    let df = data();
    for frame in [&df, &df.vectors_to_sparse("cat").unwrap()] {
        let r = ChiSquareTest::results(frame, "cat", "label").unwrap();
        let want = &e["chisq"];
        let p: Vec<f64> = r.iter().map(|t| t.p_value).collect();
        let s: Vec<f64> = r.iter().map(|t| t.statistic).collect();
        let d: Vec<i64> = r.iter().map(|t| t.degrees_of_freedom).collect();
        p_close(&p, &nums(&want["pValues"]), "chi2 pValues");
        close_all(&s, &nums(&want["statistics"]), 1e-12, "chi2 statistics");
        let wd: Vec<i64> = want["degreesOfFreedom"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        assert_eq!(d, wd);
    }
    // Spark's output frames
    let one = ChiSquareTest::test(&df, "cat", "label", false).unwrap();
    let names: Vec<_> = one
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["pValues", "degreesOfFreedom", "statistics"]);
    assert_eq!(one.num_rows(), 1);
    let flat = ChiSquareTest::test(&df, "cat", "label", true).unwrap();
    assert_eq!(flat.num_rows(), 5);
    let fi = f64_column(&flat, "featureIndex");
    assert_eq!(fi, [0.0, 1.0, 2.0, 3.0, 4.0]);
    let st = f64_column(&flat, "statistic");
    let want: Vec<f64> = e["chisq_flat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| num(&r[3]))
        .collect();
    close_all(&st, &want, 1e-12, "flat statistic");
}

#[test]
fn kolmogorov_smirnov_matches_spark() {
    let e = expected();
    let small = DataFrame::read_csv(fixture("data.csv"), &CsvOptions::default()).unwrap();
    let big = DataFrame::read_csv(fixture("ks_big.csv"), &CsvOptions::default()).unwrap();
    for case in e["ks"].as_array().unwrap() {
        let rows = case["rows"].as_u64().unwrap();
        let df = if rows == 60 { &small } else { &big };
        let params = nums(&case["params"]);
        let r = KolmogorovSmirnovTest::test(df, "s", "norm", &params).unwrap();
        close(r.statistic, num(&case["statistic"]), 1e-12, "KS statistic");
        // Durbin's matrix (n <= 140) and Pelz–Good (n = 300): the same arithmetic as
        // Commons Math, to 1e-12
        close(r.p_value, num(&case["pValue"]), 1e-12, "KS p-value");
    }
}

#[test]
fn selectors_choose_sparks_features() {
    let e = expected();
    let df = data();
    for (key, want) in e["chisq_selector"].as_object().unwrap() {
        let mut s = ChiSqSelector::new()
            .with_features_col("cat")
            .with_label_col("label")
            .with_output_col("sel");
        s = match key.as_str() {
            "numTopFeatures" => s.with_num_top_features(2),
            "percentile" => s.with_selector_type("percentile").with_percentile(0.5),
            "fpr" => s.with_selector_type("fpr").with_fpr(0.05),
            "fdr" => s.with_selector_type("fdr").with_fdr(0.1),
            "fwe" => s.with_selector_type("fwe").with_fwe(0.05),
            _ => s, // defaults: numTopFeatures 50
        };
        let m = s.fit(&df).unwrap();
        let want: Vec<usize> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(m.selected_features(), want, "ChiSqSelector {key}");
    }
    for (key, want) in e["ufs"].as_object().unwrap() {
        let parts: Vec<&str> = key.split('/').collect();
        let (fc, lc) = match (parts[0], parts[1]) {
            ("categorical", _) => ("cat", "label"),
            (_, "categorical") => ("cont", "label"),
            _ => ("cont", "y"),
        };
        let mut u = UnivariateFeatureSelector::new()
            .with_feature_type(parts[0])
            .with_label_type(parts[1])
            .with_features_col(fc)
            .with_label_col(lc)
            .with_output_col("sel")
            .with_selection_mode(parts[2]);
        if parts[3] != "None" {
            u = u.with_selection_threshold(parts[3].parse().unwrap());
        }
        let m = u.fit(&df).unwrap();
        let mut want: Vec<usize> = want
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let mut got = m.selected_features().to_vec();
        if matches!(parts[2], "fpr" | "fwe") {
            // Spark lists these in its shuffle's internal order; mlpipe ascending
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, m.selected_features(), "ascending");
        }
        assert_eq!(got, want, "UnivariateFeatureSelector {key}");
    }
}

/// One partition: a dense vector column `v` of `n` values a row and a `label` column.
fn frame(v: Vec<f64>, n: usize, label: Vec<f64>) -> DataFrame {
    use std::sync::Arc;
    DataFrame::from_batches(vec![arrow::array::RecordBatch::try_new(
        Arc::new(arrow::datatypes::Schema::new(vec![
            mlpipe::frame::vector::vector_field("v", n, true),
            arrow::datatypes::Field::new("label", arrow::datatypes::DataType::Float64, false),
        ])),
        vec![
            Arc::new(mlpipe::frame::vector::vector_array(v, n, None).unwrap()),
            Arc::new(arrow::array::Float64Array::from(label)),
        ],
    )
    .unwrap()])
    .unwrap()
}

fn rows_of(df: &DataFrame, col: &str) -> Vec<Vec<f64>> {
    vector_rows(df, col)
}

fn ml_attr(df: &DataFrame, col: &str) -> Value {
    let f = df.schema().field_with_name(col).unwrap().clone();
    serde_json::from_str(&f.metadata()["ml_attr"]).unwrap()
}

#[test]
fn sparks_saved_selectors_load_and_transform_as_spark() {
    let e = expected();
    let df = data();
    for (dir, key) in [
        ("chisq_selector_model", "chisq_selector_model"),
        ("ufs_model", "ufs_model"),
    ] {
        let model = mlpipe::persist::load_stage(fixture(dir)).unwrap();
        let out = model.transform(&df).unwrap();
        let want: Vec<Vec<f64>> = e[key]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(nums)
            .collect();
        let got = rows_of(&out, "sel");
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(
                g.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                w.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "{dir}"
            );
        }
        assert_eq!(
            ml_attr(&out, "sel"),
            e[key]["ml_attr"]["ml_attr"],
            "{dir} metadata"
        );
        // our save reads back the same, and in Spark's layout
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("m");
        let p = mlpipe::persist::persistable(model.as_ref()).expect("persistable");
        mlpipe::persist::save(p, &path, mlpipe::persist::SaveMode::ErrorIfExists).unwrap();
        let again = mlpipe::persist::load_stage(&path).unwrap();
        assert_eq!(
            again.transform(&df).unwrap().collect().unwrap(),
            out.collect().unwrap()
        );
        let md = std::fs::read_to_string(path.join("metadata/part-00000")).unwrap();
        assert!(
            md.contains(&format!(
                "\"class\":\"org.apache.spark.ml.feature.{}\"",
                if dir.starts_with("chisq") {
                    "ChiSqSelectorModel"
                } else {
                    "UnivariateFeatureSelectorModel"
                }
            )),
            "{md}"
        );
    }
    let m = ChiSqSelectorModel::load(fixture("chisq_selector_model")).unwrap();
    assert_eq!(m.selected_features(), [0, 1, 4]);
    let u = UnivariateFeatureSelectorModel::load(fixture("ufs_model")).unwrap();
    assert_eq!(u.selected_features(), [1]);
    // Spark's saved estimators fit to Spark's models
    let cs = ChiSqSelector::load(fixture("chisq_selector")).unwrap();
    assert_eq!(
        cs.fit(&df).unwrap().selected_features(),
        m.selected_features()
    );
    let us = UnivariateFeatureSelector::load(fixture("ufs")).unwrap();
    assert_eq!(
        us.fit(&df).unwrap().selected_features(),
        u.selected_features()
    );
}

#[test]
fn without_input_attributes_the_output_has_sparks_default_attributes() {
    let e = expected();
    let df = data();
    let bare = df
        .vector_to_array("cat", "cat_a")
        .unwrap()
        .drop(["cat"])
        .unwrap()
        .array_to_vector("cat_a", "cat")
        .unwrap();
    let m = ChiSqSelectorModel::load(fixture("chisq_selector_model")).unwrap();
    let out = m.transform(&bare).unwrap();
    assert_eq!(
        ml_attr(&out, "sel"),
        e["chisq_selector_bare_ml_attr"]["ml_attr"]
    );
    let bare = df
        .vector_to_array("cont", "cont_a")
        .unwrap()
        .drop(["cont"])
        .unwrap()
        .array_to_vector("cont_a", "cont")
        .unwrap();
    let u = UnivariateFeatureSelectorModel::load(fixture("ufs_model")).unwrap();
    let out = u.transform(&bare).unwrap();
    assert_eq!(ml_attr(&out, "sel"), e["ufs_bare_ml_attr"]["ml_attr"]);
}

#[test]
fn selector_models_keep_sparse_rows_sparse_and_score_rows_bit_for_bit() {
    let df = data();
    let m = ChiSqSelector::new()
        .with_features_col("cat")
        .with_output_col("sel")
        .with_num_top_features(3)
        .fit(&df)
        .unwrap();
    let sparse = df.vectors_to_sparse("cat").unwrap();
    let out = m.transform(&sparse).unwrap();
    let f = out.schema().field_with_name("sel").unwrap();
    assert!(mlpipe::frame::vector::is_sparse_vector_type(f.data_type()));
    assert_eq!(
        rows_of(&out, "sel"),
        rows_of(&m.transform(&df).unwrap(), "sel")
    );
    let u = UnivariateFeatureSelector::new()
        .with_feature_type("continuous")
        .with_label_type("continuous")
        .with_features_col("cont")
        .with_label_col("y")
        .with_output_col("sel")
        .with_selection_threshold(2.0)
        .fit(&df)
        .unwrap();
    for (name, stage) in [
        ("chi", Box::new(m) as Box<dyn Transformer>),
        ("ufs", Box::new(u) as Box<dyn Transformer>),
    ] {
        let pm = PipelineModel::new(name, vec![stage]);
        assert_eq!(
            mlpipe::row::check_against_transform(&pm, &df).unwrap(),
            df.num_rows()
        );
    }
}

#[test]
fn selectors_pass_the_stage_contract_dense_and_sparse() {
    let df = data().select(["cat", "cont", "label", "y"]).unwrap();
    let cs = ChiSqSelector::new()
        .with_features_col("cat")
        .with_output_col("sel")
        .with_num_top_features(2);
    mlpipe::testing::check_estimator(&cs, &df);
    mlpipe::testing::check_estimator_sparse_input(&cs, &df, "cat", 0.0);
    for (ft, lt, fc, lc) in [
        ("categorical", "categorical", "cat", "label"),
        ("continuous", "categorical", "cont", "label"),
        ("continuous", "continuous", "cont", "y"),
    ] {
        let u = UnivariateFeatureSelector::new()
            .with_feature_type(ft)
            .with_label_type(lt)
            .with_features_col(fc)
            .with_label_col(lc)
            .with_output_col("sel")
            .with_selection_mode("percentile")
            .with_selection_threshold(0.4);
        mlpipe::testing::check_estimator(&u, &df);
        mlpipe::testing::check_estimator_sparse_input(&u, &df, fc, 1e-12);
    }
}

#[test]
fn bad_input_gives_clear_errors() {
    let df = data();
    // NaN feature value: stage, column, row and what to do
    let mut v: Vec<f64> = (0..20).map(|i| (i % 4) as f64).collect();
    v[7 * 2 + 1] = f64::NAN;
    let nan = frame(v, 2, (0..10).map(|i| (i % 2) as f64).collect());
    let err = Summarizer::all()
        .summary(&nan, "v", None)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "Summarizer: NaN at feature 1 in column `v` (partition 0, row 7); drop or impute such rows first (Imputer)"
    );
    let err = Correlation::corr(&nan, "v", "pearson")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Correlation: value NaN at feature 1 in column `v` (partition 0, row 7)"),
        "{err}"
    );
    let err = ChiSquareTest::results(&nan, "v", "label")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("NaN at feature 1 in column `v` (partition 0, row 7)"),
        "{err}"
    );
    let err = UnivariateFeatureSelector::new()
        .with_features_col("v")
        .with_feature_type("continuous")
        .with_label_type("categorical")
        .fit(&nan)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("UnivariateFeatureSelector: NaN at feature 1"),
        "{err}"
    );
    // a continuous label is not categorical: more than 10,000 distinct values
    let n = 10_050;
    let rows: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
    let labels: Vec<f64> = (0..n).map(|i| i as f64 * 0.5).collect();
    let many = frame(rows.clone(), 1, labels.clone());
    let err = ChiSquareTest::results(&many, "v", "label")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ChiSquareTest: label 5000: more than 10000 distinct label values in column `label` (partition 0, row 10000)"),
        "{err}"
    );
    assert!(err.contains("bucket continuous values first"), "{err}");
    let err = ChiSqSelector::new()
        .with_features_col("v")
        .fit(&many)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ChiSqSelector: label 5000"), "{err}");
    // a feature with too many categories names the feature
    let swapped = frame(labels, 1, rows);
    let err = ChiSquareTest::results(&swapped, "v", "label")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ChiSquareTest: value 5000 of feature 0: more than 10000 distinct values in that feature in column `v`"),
        "{err}"
    );
    // empty data
    let empty = df.limit(0).unwrap();
    let err = Summarizer::all()
        .summary(&empty, "full", None)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Summarizer: the input has no rows"),
        "{err}"
    );
    let err = Correlation::corr(&empty, "full", "pearson")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("Correlation: the input has no rows"),
        "{err}"
    );
    let err = ChiSquareTest::results(&empty, "cat", "label")
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("ChiSquareTest: the input has no rows"),
        "{err}"
    );
    let err = KolmogorovSmirnovTest::test(&empty, "s", "norm", &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("KolmogorovSmirnovTest: the input has no rows"),
        "{err}"
    );
    // one row: no covariance
    let err = Correlation::corr(&df.limit(1).unwrap(), "full", "pearson")
        .unwrap_err()
        .to_string();
    assert!(err.contains("fewer than two rows"), "{err}");
    // the selectors' params
    let err = UnivariateFeatureSelector::new()
        .with_features_col("cont")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("UnivariateFeatureSelector: parameter `featureType` must be set: featureType and labelType need to be set"),
        "{err}"
    );
    let err = UnivariateFeatureSelector::new()
        .with_features_col("cat")
        .with_feature_type("categorical")
        .with_label_type("continuous")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("featureType=categorical, labelType=continuous"),
        "{err}"
    );
    let err = UnivariateFeatureSelector::new()
        .with_features_col("cont")
        .with_feature_type("continuous")
        .with_label_type("categorical")
        .with_selection_threshold(2.5)
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a positive integer for selection mode numTopFeatures, got 2.5"),
        "{err}"
    );
    let err = ChiSqSelector::new()
        .with_selector_type("best")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`selectorType` must be one of"), "{err}");
    // a model fitted on wider vectors
    let m = ChiSqSelectorModel::load(fixture("chisq_selector_model")).unwrap();
    let narrow = VectorAssembler::new()
        .with_input_cols(["c0", "c1"])
        .with_output_col("cat2")
        .transform(&df)
        .unwrap();
    let err = m
        .clone()
        .with_features_col("cat2")
        .transform(&narrow)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(index 4)"), "{err}");
    // other stats' params
    let err = Summarizer::metrics(["mean", "median"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("`metrics` must be one of"), "{err}");
    let err = Correlation::corr(&df, "full", "kendall")
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"pearson\" or \"spearman\""), "{err}");
    let err = KolmogorovSmirnovTest::test(&df, "s", "norm", &[0.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("mean and standard deviation"), "{err}");
    let err = KolmogorovSmirnovTest::test(&df, "s", "norm", &[0.0, -1.0])
        .unwrap_err()
        .to_string();
    assert!(err.contains("positive, finite standard deviation"), "{err}");
}
