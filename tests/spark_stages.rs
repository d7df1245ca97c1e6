//! QuantileDiscretizer, RobustScaler, Binarizer, Normalizer, ElementwiseProduct,
//! PolynomialExpansion, DCT, VectorIndexer, VectorSlicer, VectorSizeHint and Interaction against
//! PySpark 4.3: Spark's saved stages load, re-fit to
//! Spark's fitted values, and transform to Spark's outputs.
//!
//! Fixtures: tests/fixtures/spark_stages/ made by tests/pyspark/make_stage_fixtures.py
//! (the breast-cancer rows of tests/fixtures/spark2/bc_train.csv in one partition, and a
//! synthetic frame computed from the row id, rebuilt here by the same formula).
//! Tolerances: discrete outputs, splits, medians and ranges exact; PolynomialExpansion,
//! ElementwiseProduct and Normalizer (p = 1, 2, ∞) bit for bit (Spark's operation order);
//! Normalizer with p = 3 to 1e-15 relative (`powf` vs Java's `Math.pow` may differ by an
//! ulp); DCT to 1e-12 of the row's largest value (JTransforms' FFT and mlpipe's cosine table
//! round differently).

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use mlpipe::feature::*;
use mlpipe::persist::{save, SaveMode};
use mlpipe::prelude::*;
use serde_json::Value;

fn dir(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_stages/{name}",
        repo_root().display()
    )
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir("expected.json")).unwrap()).unwrap()
}

/// A JSON number, or Spark's "NaN" / "Infinity" / "-Infinity".
fn num(v: &Value) -> f64 {
    match v {
        Value::String(s) => mlpipe::param::parse_spark_double(s).unwrap(),
        v => v.as_f64().unwrap(),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(num).collect()
}

/// The breast-cancer training rows in one partition (as the script's `coalesce(1)`).
fn bc() -> DataFrame {
    DataFrame::read_csv(
        spark2("bc_train.csv"),
        &CsvOptions::default().with_partition_rows(1 << 20),
    )
    .unwrap()
}

fn assemble(df: &DataFrame, cols: &[&str], out: &str) -> DataFrame {
    VectorAssembler::new()
        .with_input_cols(cols)
        .with_output_col(out)
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(df)
        .unwrap()
}

/// The script's synthetic frame: ids 0..120000 in `parts` partitions of consecutive ids.
fn synth(parts: usize) -> DataFrame {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("x", DataType::Float64, false),
        Field::new("y", DataType::Float64, false),
    ]));
    let n = 120_000i64;
    let per = n / parts as i64;
    let batches = (0..parts as i64)
        .map(|p| {
            let ids: Vec<i64> = (p * per..(p + 1) * per).collect();
            let x: Vec<f64> = ids
                .iter()
                .map(|i| ((i * 7919) % 100_003) as f64 / 7.0)
                .collect();
            let y: Vec<f64> = ids
                .iter()
                .map(|i| {
                    if i % 97 == 0 {
                        f64::NAN
                    } else {
                        ((i * 31) % 1000) as f64 / 10.0 - 50.0
                    }
                })
                .collect();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(Int64Array::from(ids)) as ArrayRef,
                    Arc::new(Float64Array::from(x)),
                    Arc::new(Float64Array::from(y)),
                ],
            )
            .unwrap()
        })
        .collect();
    DataFrame::try_new(schema, batches).unwrap()
}

fn ml_attr(df: &DataFrame, col: &str) -> Value {
    let f = df.schema().field_with_name(col).unwrap();
    match f.metadata().get("ml_attr") {
        Some(s) => serde_json::json!({"ml_attr": serde_json::from_str::<Value>(s).unwrap()}),
        None => serde_json::json!({}),
    }
}

fn same_bits(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()),
            "{what}[{i}]: {g:?} vs Spark's {w:?}"
        );
    }
}

#[test]
fn quantile_discretizer_splits_are_sparks() {
    let e = expected();
    for (case, df) in [
        ("qd_x_3parts", synth(3)),
        ("qd_x_exact", synth(1)),
        ("qd_multi", synth(1)),
        ("qd_multi_same", synth(3)),
        ("qd_bc", bc()),
    ] {
        let qd = QuantileDiscretizer::load(dir(&format!("{case}_unfitted"))).unwrap();
        let fitted = qd.fit(&df).unwrap();
        let spark = Bucketizer::load(dir(case)).unwrap();
        assert_eq!(fitted.uid(), qd.uid());
        let want = &e[case];
        if want["splits"].is_null() {
            let got = fitted.params().splits_array.clone().unwrap();
            let w: Vec<Vec<f64>> = want["splitsArray"]
                .as_array()
                .unwrap()
                .iter()
                .map(nums)
                .collect();
            for (j, (g, w)) in got.iter().zip(&w).enumerate() {
                same_bits(&format!("{case} splitsArray[{j}]"), g, w);
            }
            assert_eq!(got.len(), w.len());
            assert_eq!(spark.params().splits_array.as_ref().unwrap(), &w);
        } else {
            let got = fitted.params().splits.clone().unwrap();
            same_bits(&format!("{case} splits"), &got, &nums(&want["splits"]));
            assert_eq!(spark.params().splits, Some(got));
        }
        assert_eq!(
            fitted.params().handle_invalid,
            spark.params().handle_invalid
        );
        assert_eq!(fitted.params().output_cols, spark.params().output_cols);
    }
    // Spark's fitted Bucketizer gives Spark's buckets and labels.
    let df = bc();
    let out = Bucketizer::load(dir("qd_bc"))
        .unwrap()
        .transform(&df)
        .unwrap();
    same_bits(
        "qd_bc output",
        &f64_column(&out, "f3b"),
        &nums(&e["qd_bc"]["output"]),
    );
    assert_eq!(ml_attr(&out, "f3b"), e["qd_bc"]["metadata"]);
}

#[test]
fn robust_scaler_fits_sparks_medians_and_ranges() {
    let e = expected();
    let f30: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    let f30: Vec<&str> = f30.iter().map(String::as_str).collect();
    for (case, df) in [
        ("rs_bc", assemble(&bc(), &f30, "v")),
        ("rs_synth", assemble(&synth(3), &["x", "y"], "v")),
    ] {
        let want = &e[case];
        let model = RobustScaler::load(dir(&format!("{case}_unfitted")))
            .unwrap()
            .fit(&df)
            .unwrap();
        same_bits(
            &format!("{case} median"),
            model.median(),
            &nums(&want["median"]),
        );
        same_bits(
            &format!("{case} range"),
            model.range(),
            &nums(&want["range"]),
        );
        let spark = RobustScalerModel::load(dir(case)).unwrap();
        assert_eq!(spark.median(), model.median());
        assert_eq!(spark.params(), model.params());
        let out = spark.transform(&df.limit(25).unwrap()).unwrap();
        for (r, (g, w)) in vector_rows(&out, "s")
            .iter()
            .zip(want["output"].as_array().unwrap())
            .enumerate()
        {
            same_bits(&format!("{case} row {r}"), g, &nums(w));
        }
    }
}

/// Loads the stage Spark saved as `case`, transforms `df`, and checks each output column
/// against Spark's output (`tol` relative to each row's largest value; 0 for bit equality)
/// and its attribute metadata.
fn check_transformer(case: &str, df: &DataFrame, tol: f64) {
    let e = expected();
    let want = &e[case];
    let stage = mlpipe::persist::load_stage(std::path::Path::new(&dir(case))).unwrap();
    let out = stage.transform(df).unwrap();
    for (col, rows) in want["output"].as_object().unwrap() {
        let mut got_meta = ml_attr(&out, col);
        // mlpipe records a sparse-type vector column's size (`num_attrs`) where Spark
        // writes no attributes (PolynomialExpansion): its readers need it.
        let field = out.schema().field_with_name(col).unwrap().clone();
        if mlpipe::frame::vector::is_sparse_vector_type(field.data_type())
            && want["metadata"][col] == serde_json::json!({})
        {
            let n = mlpipe::frame::vector::field_vector_size(&field).unwrap();
            assert_eq!(
                got_meta,
                serde_json::json!({"ml_attr": {"num_attrs": n}}),
                "{case} {col} metadata"
            );
            got_meta = serde_json::json!({});
        }
        assert_eq!(got_meta, want["metadata"][col], "{case} {col} metadata");
        let rows = rows.as_array().unwrap();
        let got: Vec<Vec<f64>> = if rows[0].is_array() {
            vector_rows(&out, col)
        } else {
            f64_column(&out, col).into_iter().map(|x| vec![x]).collect()
        };
        assert_eq!(got.len(), rows.len(), "{case} {col} rows");
        for (r, (g, w)) in got.iter().zip(rows).enumerate() {
            let w = if w.is_array() { nums(w) } else { vec![num(w)] };
            if tol == 0.0 {
                same_bits(&format!("{case} {col} row {r}"), g, &w);
            } else {
                let scale = w.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
                for (a, b) in g.iter().zip(&w) {
                    assert!(
                        (a - b).abs() <= tol * scale,
                        "{case} {col} row {r}: {g:?} vs Spark's {w:?}"
                    );
                }
            }
        }
    }
    // mlpipe's save -> load gives the same stage.
    let tmp = tempfile::tempdir().unwrap();
    let p = mlpipe::persist::persistable(stage.as_ref()).unwrap();
    save(p, tmp.path().join("s"), SaveMode::ErrorIfExists).unwrap();
    let back = mlpipe::persist::load_stage(tmp.path().join("s")).unwrap();
    assert_eq!(back.params_json(), stage.params_json(), "{case} round trip");
}

#[test]
fn binarizer_normalizer_elementwise_product_polynomial_dct_slicer_size_hint_match_spark() {
    let bc = bc();
    let bc5 = assemble(&bc, &["f0", "f1", "f4", "f9", "f20"], "v5");
    for case in [
        "bin_scalar",
        "bin_multi",
        "bin_vector",
        "norm_p1",
        "norm_inf",
        "elemprod",
    ] {
        check_transformer(case, &bc5, 0.0);
    }
    check_transformer("norm_p3", &bc5, 1e-15);
    check_transformer("slicer", &bc5, 0.0);
    check_transformer("size_hint", &bc5, 0.0);
    check_transformer("poly3", &assemble(&bc, &["f0", "f4", "f9"], "v3"), 0.0);
    let f8: Vec<String> = (0..8).map(|i| format!("f{i}")).collect();
    let f8: Vec<&str> = f8.iter().map(String::as_str).collect();
    let bc8 = assemble(&bc, &f8, "v8");
    check_transformer("dct", &bc8, 1e-12);
    check_transformer("dct_inverse", &bc8, 1e-12);
}

#[test]
fn fitted_stages_save_and_load() {
    let df = assemble(&synth(3), &["x", "y"], "v");
    let rs = RobustScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .with_relative_error(0.01)
        .fit(&df)
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    rs.save(tmp.path().join("rs")).unwrap();
    let back = RobustScalerModel::load(tmp.path().join("rs")).unwrap();
    assert_eq!(back, rs);
    let qd = QuantileDiscretizer::new()
        .with_input_cols(["x", "y"])
        .with_output_cols(["xb", "yb"])
        .with_num_buckets_array(&[3, 5]);
    qd.save(tmp.path().join("qd")).unwrap();
    // With numBucketsArray, numBuckets is written as a default only (Spark refuses both set).
    let md = mlpipe::persist::read_metadata(&tmp.path().join("qd")).unwrap();
    assert!(md.raw["paramMap"].get("numBuckets").is_none());
    let b = QuantileDiscretizer::load(tmp.path().join("qd"))
        .unwrap()
        .fit(&synth(1))
        .unwrap();
    let splits = b.params().splits_array.clone().unwrap();
    assert_eq!((splits[0].len(), splits[1].len()), (4, 6));
    // NaN rows of y go to the extra bucket with keep, and are dropped with skip.
    let keep = QuantileDiscretizer::new()
        .with_input_col("y")
        .with_output_col("yb")
        .with_num_buckets(4)
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&synth(1))
        .unwrap()
        .transform(&synth(1))
        .unwrap();
    let yb = f64_column(&keep, "yb");
    assert_eq!(yb[0], 4.0); // id 0 has y = NaN
    assert_eq!(
        yb.iter().filter(|v| **v == 4.0).count(),
        120_000usize.div_ceil(97)
    );
}

#[test]
fn bad_params_and_inputs_are_clear_errors() {
    let df = synth(1);
    let err = |r: mlpipe::Result<Bucketizer>| r.unwrap_err().to_string();
    assert_eq!(
        err(QuantileDiscretizer::new()
            .with_input_col("x")
            .with_output_col("b")
            .with_num_buckets(1)
            .fit(&df)),
        "QuantileDiscretizer: parameter `numBuckets` must be >= 2, got 1"
    );
    assert_eq!(
        err(QuantileDiscretizer::new()
            .with_input_col("x")
            .with_output_col("b")
            .with_num_buckets_array(&[3])
            .fit(&df)),
        "QuantileDiscretizer: parameter `numBucketsArray` must be unset in single-column mode (use numBuckets), got set"
    );
    assert_eq!(
        err(QuantileDiscretizer::new()
            .with_input_cols(["x", "y"])
            .with_output_cols(["a", "b"])
            .with_num_buckets_array(&[3])
            .fit(&df)),
        "QuantileDiscretizer: parameter `numBucketsArray` must be 2 counts, one per input column, got 1"
    );
    let nan_only = df.filter(mlpipe::frame::col("id").lt(1i64)).unwrap();
    assert!(err(QuantileDiscretizer::new()
        .with_input_col("y")
        .with_output_col("b")
        .fit(&nan_only))
    .contains("column `y` holds no value that is neither null nor NaN"));

    let v = assemble(&df, &["x", "y"], "v");
    let e = RobustScaler::new()
        .with_input_col("v")
        .with_lower(0.8)
        .fit(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "RobustScaler: parameter `lower` must be below upper (0.75), got 0.8"
    );
    let e = RobustScaler::new().with_input_col("x").fit(&v).unwrap_err();
    assert!(e
        .to_string()
        .starts_with("RobustScaler: column `x` has type Float64, expected a vector column"));

    let e = Binarizer::new()
        .with_input_cols(["x", "y"])
        .with_output_cols(["a", "b"])
        .with_thresholds(&[1.0])
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Binarizer: parameter `thresholds` must be 2 thresholds, one per input column, got 1"
    );
    let e = ElementwiseProduct::new()
        .with_input_col("v")
        .with_output_col("w")
        .with_scaling_vec(&[1.0, 2.0, 3.0])
        .transform(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ElementwiseProduct: column `v` has 2 features per row, but 3 are expected"
    );
    let e = Normalizer::new()
        .with_input_col("v")
        .with_p(0.5)
        .transform(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Normalizer: parameter `p` must be >= 1, got 0.5"
    );
    let e = PolynomialExpansion::new()
        .with_input_col("v")
        .with_degree(0)
        .transform(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "PolynomialExpansion: parameter `degree` must be >= 1, got 0"
    );
    let e = DCT::new()
        .with_input_col("v")
        .with_output_col("v")
        .transform(&v)
        .unwrap_err();
    assert!(
        e.to_string().contains("output column `v` already exists"),
        "{e}"
    );
}

/// The script's `discrete()`: d1 = round(f1 / 10), d2 = (f4 > 0.1), d3 = floor(100 f9) - 6,
/// assembled with f0 into `v`.
fn discrete(df: &DataFrame) -> DataFrame {
    let derive = |df: &DataFrame, src: &str, name: &str, f: fn(f64) -> f64| {
        let vals: Vec<f64> = f64_column(df, src).into_iter().map(f).collect();
        let mut chunks = Vec::new();
        let mut at = 0;
        for p in df.partitions() {
            chunks.push(
                Arc::new(Float64Array::from(vals[at..at + p.num_rows()].to_vec())) as ArrayRef,
            );
            at += p.num_rows();
        }
        df.with_column(Field::new(name, DataType::Float64, true), chunks)
            .unwrap()
    };
    let df = derive(df, "f1", "d1", |x| (x / 10.0).round());
    let df = derive(&df, "f4", "d2", |x| if x > 0.1 { 1.0 } else { 0.0 });
    let df = derive(&df, "f9", "d3", |x| (x * 100.0).floor() - 6.0);
    assemble(&df, &["f0", "d1", "d2", "d3"], "v")
}

#[test]
fn vector_indexer_matches_spark_and_feeds_trees_categories() {
    let e = expected();
    let train = discrete(&bc());
    let test = discrete(
        &DataFrame::read_csv(
            spark2("bc_test.csv"),
            &CsvOptions::default().with_partition_rows(1 << 20),
        )
        .unwrap(),
    );
    for (case, apply_to) in [("vi_keep", &test), ("vi_default", &train)] {
        let want = &e[case];
        let model = VectorIndexer::load(dir(&format!("{case}_unfitted")))
            .unwrap()
            .fit(&train)
            .unwrap();
        let spark = VectorIndexerModel::load(dir(case)).unwrap();
        assert_eq!(model.category_maps(), spark.category_maps(), "{case}");
        assert_eq!(model.num_features(), 4);
        // Spark's categoryMaps, value -> index
        for (j, m) in want["categoryMaps"].as_object().unwrap() {
            let vals = &model.category_maps()[&j.parse::<usize>().unwrap()];
            for (v, i) in m.as_object().unwrap() {
                assert_eq!(
                    vals[i.as_u64().unwrap() as usize],
                    v.parse::<f64>().unwrap()
                );
            }
        }
        let out = model.transform(apply_to).unwrap();
        assert_eq!(ml_attr(&out, "idx"), want["metadata"], "{case} metadata");
        let rows = vector_rows(&out, "idx");
        let wrows = want["output"].as_array().unwrap();
        assert_eq!(rows.len(), wrows.len());
        for (r, (g, w)) in rows.iter().zip(wrows).enumerate() {
            same_bits(&format!("{case} row {r}"), g, &nums(w));
        }
        // Trees read the categories from the metadata.
        let field = out.schema().field_with_name("idx").unwrap();
        let cats = mlpipe::tree::engine::categorical_features(field);
        let want_cats: std::collections::HashMap<usize, usize> = model
            .category_maps()
            .iter()
            .map(|(j, v)| (*j, v.len() + usize::from(case == "vi_keep")))
            .collect();
        assert_eq!(cats, want_cats, "{case}");
        // mlpipe's save -> load
        let tmp = tempfile::tempdir().unwrap();
        model.save(tmp.path().join("m")).unwrap();
        assert_eq!(
            VectorIndexerModel::load(tmp.path().join("m")).unwrap(),
            model
        );
    }
    // Interaction over a numeric column, VectorIndexer's output and another numeric
    // column: Spark's products, one-hot slots and names.
    let indexed = VectorIndexerModel::load(dir("vi_default"))
        .unwrap()
        .transform(&train)
        .unwrap();
    check_transformer("interaction", &indexed, 0.0);
    // An unseen value under the default policy names the element.
    let model = VectorIndexer::new()
        .with_input_col("v")
        .with_output_col("idx")
        .with_max_categories(3)
        .fit(&train.limit(5).unwrap())
        .unwrap();
    let err = model.transform(&train).unwrap_err().to_string();
    assert!(
        err.starts_with("VectorIndexerModel: value ")
            && err.contains("not seen at fit in column `v`"),
        "{err}"
    );
    assert!(err.contains("set handleInvalid to \"keep\""), "{err}");
    // With skip, exactly the rows holding an unseen value go.
    let few = train.limit(5).unwrap();
    let skip = VectorIndexer::new()
        .with_input_col("v")
        .with_output_col("idx")
        .with_max_categories(3)
        .with_handle_invalid(HandleInvalid::Skip)
        .fit(&few)
        .unwrap();
    let seen: Vec<Vec<f64>> = vector_rows(&few, "v");
    let cats: Vec<usize> = skip.category_maps().keys().copied().collect();
    let kept = vector_rows(&train, "v")
        .iter()
        .filter(|r| cats.iter().all(|&j| seen.iter().any(|s| s[j] == r[j])))
        .count();
    assert!(kept < train.num_rows());
    assert_eq!(skip.transform(&train).unwrap().num_rows(), kept);
    let e = VectorIndexer::new()
        .with_input_col("v")
        .with_max_categories(1)
        .fit(&train)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "VectorIndexer: parameter `maxCategories` must be >= 2, got 1"
    );
}

#[test]
fn vector_slicer_and_size_hint_reject_bad_selections() {
    let v = assemble(&bc(), &["f0", "f1", "f4"], "v");
    let slice = |i: &[i32], n: &[&str]| {
        VectorSlicer::new()
            .with_input_col("v")
            .with_output_col("s")
            .with_indices(i)
            .with_names(n)
            .transform(&v)
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        slice(&[0, 3], &[]),
        "VectorSlicer: parameter `indices` must be element indices below the input's 3 elements (column `v`), got [0, 3] (index 3)"
    );
    assert_eq!(
        slice(&[1, 1], &[]),
        "VectorSlicer: parameter `indices` must be distinct element indices, got [1, 1] (index 1 twice)"
    );
    assert_eq!(
        slice(&[-1], &[]),
        "VectorSlicer: parameter `indices` must be non-negative element indices, got [-1]"
    );
    assert_eq!(
        slice(&[], &[]),
        "VectorSlicer: parameter `indices` must be at least one element selected (set indices or names), got [] and names []"
    );
    assert_eq!(
        slice(&[0], &["f0"]),
        "VectorSlicer: parameter `names` must be features not also selected by indices (indices and names must be disjoint), got f0 (element 0)"
    );
    assert_eq!(
        slice(&[], &["nope"]),
        "VectorSlicer: parameter `names` must be names of features in column `v` (it has [\"f0\", \"f1\", \"f4\"]), got nope"
    );
    assert_eq!(
        slice(&[], &["f1", "f1"]),
        "VectorSlicer: parameter `names` must be distinct, non-empty feature names, got [\"f1\", \"f1\"]"
    );
    let e = VectorSizeHint::new()
        .with_input_col("v")
        .with_size(4)
        .transform(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "VectorSizeHint: column `v` has 3 features per row, but 4 are expected"
    );
    let e = VectorSizeHint::new()
        .with_input_col("v")
        .transform(&v)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "VectorSizeHint: parameter `size` must be set (the vectors' length), got unset"
    );
    // Null vectors: error names the row, skip drops it, optimistic keeps it.
    let with_null = assemble(
        &DataFrame::read_csv(
            spark2("bc_train.csv"),
            &CsvOptions::default().with_partition_rows(1 << 20),
        )
        .unwrap(),
        &["f0"],
        "v",
    );
    let nulls = {
        let c = with_null.column("v").unwrap();
        let a = c.chunks[0].clone();
        let mut b = arrow::array::BooleanBufferBuilder::new(a.len());
        for r in 0..a.len() {
            b.append(r != 2);
        }
        let data = a
            .to_data()
            .into_builder()
            .nulls(Some(arrow::buffer::NullBuffer::new(b.finish())))
            .build()
            .unwrap();
        let field = with_null
            .schema()
            .field_with_name("v")
            .unwrap()
            .clone()
            .with_nullable(true);
        with_null
            .with_column(field, vec![arrow::array::make_array(data)])
            .unwrap()
    };
    let hint = |h| {
        VectorSizeHint::new()
            .with_input_col("v")
            .with_size(1)
            .with_handle_invalid(h)
            .transform(&nulls)
    };
    let e = hint(SizeHintInvalid::Error).unwrap_err().to_string();
    assert!(
        e.starts_with("VectorSizeHint: null vector in column `v` (partition 0, row 2)"),
        "{e}"
    );
    assert_eq!(
        hint(SizeHintInvalid::Skip).unwrap().num_rows(),
        nulls.num_rows() - 1
    );
    assert_eq!(
        hint(SizeHintInvalid::Optimistic).unwrap().num_rows(),
        nulls.num_rows()
    );
}

#[test]
fn interaction_rejects_unnamed_vectors_and_non_index_categories() {
    let df = bc();
    let v = assemble(&df, &["f0", "f1"], "v")
        .vectors_to_dense("v")
        .unwrap();
    // A vector without attribute metadata (Spark needs its attributes to name outputs).
    let field = v.schema().field_with_name("v").unwrap().clone();
    let plain = v
        .with_column(
            field.with_metadata(std::collections::HashMap::<String, String>::new()),
            v.column("v").unwrap().chunks.clone(),
        )
        .unwrap();
    let e = Interaction::new()
        .with_input_cols(["f2", "v"])
        .with_output_col("x")
        .transform(&plain)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Interaction: column `v` has type FixedSizeList"),
        "{e}"
    );
    assert!(e.to_string().contains("with attribute metadata"), "{e}");
    // A nominal element whose value is not a category index.
    let idx = VectorIndexer::new()
        .with_input_col("v")
        .with_output_col("idx")
        .with_max_categories(500)
        .fit(&v)
        .unwrap()
        .transform(&v)
        .unwrap();
    let e = Interaction::new()
        .with_input_cols(["f2", "v"])
        .with_output_col("x")
        .transform(
            &idx.drop(["v"])
                .unwrap()
                .with_column_renamed("idx", "v")
                .unwrap(),
        )
        .map(|_| ());
    assert!(e.is_ok(), "indices are valid categories: {e:?}");
    let e = Interaction::new()
        .with_input_cols(["idx"])
        .with_output_col("x")
        .transform(
            &idx.drop(["idx"])
                .unwrap()
                .with_column(
                    idx.schema().field_with_name("idx").unwrap().clone(),
                    idx.column("v").unwrap().chunks.clone(),
                )
                .unwrap(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("Interaction: value 17.99 of a nominal feature with"),
        "{e}"
    );
}
