//! PCA, VarianceThresholdSelector and TargetEncoder against PySpark 4.3: Spark's saved
//! stages load and transform to Spark's outputs, the unfitted ones re-fit to Spark's fitted
//! values, and the bad-input errors name the stage, column and row.
//!
//! Fixtures: tests/fixtures/spark_stages2/ made by tests/pyspark/make_stage2_fixtures.py
//! (the breast-cancer rows of tests/fixtures/spark2/bc_train.csv in one partition, and two
//! synthetic frames computed from the row id, rebuilt here by the same formulas).
//! Tolerances:
//! - PCA: a Spark-saved model transforms to Spark's outputs to 1e-13 of each row's largest
//!   value (the same sums in the same order; Spark's JVM may differ in the last ulp). A
//!   re-fit gives Spark's explained variance to 1e-9 relative and Spark's components to
//!   1e-9 absolute, signs included (the covariance matrices agree to rounding, and mlpipe
//!   takes their SVD with a port of the LAPACK dgesdd Spark runs, src/lapack.rs).
//! - VarianceThresholdSelector: selected features, outputs and metadata exact.
//! - TargetEncoder: statistics exact (counts; the continuous means to 1e-15 relative), and
//!   encodings to 1e-15 relative (Spark's formula in Spark's operation order).

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use mlpipe::feature::*;
use mlpipe::frame::vector::{self, SparseVectorBuilder};
use mlpipe::prelude::*;
use serde_json::Value;

fn dir(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_stages2/{name}",
        repo_root().display()
    )
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir("expected.json")).unwrap()).unwrap()
}

fn nums(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// The breast-cancer rows in one partition with f0..f29 assembled into `features` (and
/// f0..f3 into `f4v`), as the script did.
fn bc() -> DataFrame {
    let df = DataFrame::read_csv(
        spark2("bc_train.csv"),
        &CsvOptions::default().with_partition_rows(1 << 20),
    )
    .unwrap();
    let f30: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    let df = VectorAssembler::new()
        .with_input_cols(&f30)
        .with_output_col("features")
        .transform(&df)
        .unwrap();
    VectorAssembler::new()
        .with_input_cols(["f0", "f1", "f2", "f3"])
        .with_output_col("f4v")
        .transform(&df)
        .unwrap()
}

/// The script's `sp`: 60 sparse rows of 6 features.
fn sparse_frame() -> DataFrame {
    let mut b = SparseVectorBuilder::new(6);
    for i in 0..60i64 {
        let (mut idx, mut val) = (vec![], vec![]);
        for j in 0..6i64 {
            if j == 5 {
                idx.push(5);
                val.push(2.5);
            } else if (i * (j + 3)) % 4 == 0 {
                idx.push(j as i32);
                val.push(((i * 7 + j * 13) % 11) as f64 - 4.0);
            }
        }
        b.push(&idx, &val).unwrap();
    }
    let v = b.finish().unwrap();
    let ids: ArrayRef = Arc::new(arrow::array::Int64Array::from_iter_values(0..60));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        vector::sparse_vector_field("v", 6, true),
    ]));
    DataFrame::from_batches(vec![RecordBatch::try_new(schema, vec![ids, v]).unwrap()]).unwrap()
}

/// Every value of `got` within `tol` of `want`, scaled by each row's largest value.
fn assert_rows_close(what: &str, got: &[Vec<f64>], want: &[Vec<f64>], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g.len(), w.len(), "{what}: row {r} length");
        let scale = w.iter().fold(1e-300f64, |a, x| a.max(x.abs()));
        for (a, b) in g.iter().zip(w) {
            assert!(
                (a - b).abs() <= tol * scale,
                "{what}: row {r}: {g:?} vs Spark's {w:?}"
            );
        }
    }
}

fn json_rows(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().unwrap().iter().map(nums).collect()
}

// ---------------------------------------------------------------------------------------
// PCA

fn pca_input(case: &str) -> DataFrame {
    match case {
        "pca_sparse" => sparse_frame(),
        _ => bc(),
    }
}

#[test]
fn spark_pca_models_load_and_transform_as_spark() {
    let e = expected();
    for case in ["pca_bc", "pca_bc_full", "pca_sparse"] {
        let want = &e[case];
        let model = PCAModel::load(dir(case)).unwrap();
        let k = want["k"].as_u64().unwrap() as usize;
        let pc = model.pc();
        assert_eq!(pc.num_cols, k, "{case}");
        // Spark's DenseMatrix values are column-major.
        let spark_pc = nums(&want["pc"]["values"]);
        for c in 0..k {
            assert_eq!(
                model.component(c).unwrap(),
                &spark_pc[c * pc.num_rows..(c + 1) * pc.num_rows],
                "{case}"
            );
        }
        assert_eq!(
            model.explained_variance(),
            nums(&want["explainedVariance"]),
            "{case}"
        );
        let out = model.transform(&pca_input(case)).unwrap();
        let got = vector_rows(&out, "pca");
        assert_rows_close(case, &got, &json_rows(&want["output"]), 1e-13);
        let meta = out.schema().field_with_name("pca").unwrap().metadata()["ml_attr"].clone();
        let meta: Value = serde_json::from_str(&meta).unwrap();
        assert_eq!(meta, want["metadata"]["ml_attr"], "{case}");
    }
}

/// PCA fitted by mlpipe equals Spark's fitted model, component signs included: mlpipe
/// takes the SVD of the covariance with a port of the `dgesdd` Spark runs (src/lapack.rs).
/// The covariance matrices agree to rounding, so components and outputs agree to 1e-9 (of
/// the row's largest value for outputs); every component entry larger than 1e-6 has Spark's
/// sign.
#[test]
fn pca_fit_matches_spark_including_signs() {
    let e = expected();
    for case in ["pca_bc", "pca_bc_full", "pca_sparse"] {
        let want = &e[case];
        let est = PCA::load(dir(&format!("{case}_unfitted"))).unwrap();
        let df = pca_input(case);
        let model = est.fit(&df).unwrap();
        let k = want["k"].as_u64().unwrap() as usize;
        let ev = nums(&want["explainedVariance"]);
        for (g, w) in model.explained_variance().iter().zip(&ev) {
            assert!((g - w).abs() <= 1e-9 * w, "{case}: {g} vs Spark's {w}");
        }
        let spark_pc = nums(&want["pc"]["values"]);
        let n = model.pc().num_rows;
        for c in 0..k {
            let g = model.component(c).unwrap();
            let w = &spark_pc[c * n..(c + 1) * n];
            for (a, b) in g.iter().zip(w) {
                assert!(
                    (a - b).abs() <= 1e-9 && (b.abs() <= 1e-6 || a.signum() == b.signum()),
                    "{case} component {c}: {g:?} vs Spark's {w:?}"
                );
            }
        }
        let got = vector_rows(&model.transform(&df).unwrap(), "pca");
        assert_rows_close(case, &got, &json_rows(&want["output"]), 1e-9);
    }
}

/// End to end on synthetic frames (tests/fixtures/pca_svd/spark_pca_fits.json, made by
/// tests/pyspark/make_pca_svd_fixtures.py --fits): PCA with k = n fitted by mlpipe equals
/// Spark's, every component with Spark's sign, for n = 1, 3, 12 (QR iteration), 26, 40
/// (divide and conquer) and a rank-deficient 12 × 30 frame. Components whose singular value
/// is zero (explained variance below 1e-12: the null space of a rank-deficient covariance)
/// are any orthonormal basis of that space, which follows the covariance's rounding, so
/// only the first rank components are compared there. Tolerances: explained variance 1e-9
/// relative (plus 1e-15 absolute for the null space's rounding-level values), components
/// 1e-9 absolute.
#[test]
fn pca_fit_matches_spark_on_synthetic_frames_including_signs() {
    let path = format!(
        "{}/tests/fixtures/pca_svd/spark_pca_fits.json",
        repo_root().display()
    );
    let fx: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in fx["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let rows = json_rows(&case["rows"]);
        let names: Vec<String> = (0..n).map(|j| format!("x{j}")).collect();
        let columns: Vec<ArrayRef> = (0..n)
            .map(|j| {
                Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r[j]))) as ArrayRef
            })
            .collect();
        let schema = Arc::new(Schema::new(
            names
                .iter()
                .map(|c| Field::new(c, DataType::Float64, false))
                .collect::<Vec<_>>(),
        ));
        let df =
            DataFrame::from_batches(vec![RecordBatch::try_new(schema, columns).unwrap()]).unwrap();
        let df = VectorAssembler::new()
            .with_input_cols(&names)
            .with_output_col("features")
            .transform(&df)
            .unwrap();
        let model = PCA::new()
            .with_input_col("features")
            .with_output_col("pca")
            .with_k(n)
            .fit(&df)
            .unwrap();
        let ev = nums(&case["explainedVariance"]);
        let spark_pc = nums(&case["pc"]);
        for (c, w) in ev.iter().enumerate() {
            let g = model.explained_variance()[c];
            assert!(
                (g - w).abs() <= 1e-9 * w + 1e-15,
                "{name}: explained variance {c}: {g} vs Spark's {w}"
            );
            if *w < 1e-12 {
                continue;
            }
            let got = model.component(c).unwrap();
            let want = &spark_pc[c * n..(c + 1) * n];
            for (a, b) in got.iter().zip(want) {
                assert!(
                    (a - b).abs() <= 1e-9 && (b.abs() <= 1e-6 || a.signum() == b.signum()),
                    "{name} component {c}: {got:?} vs Spark's {want:?}"
                );
            }
        }
    }
}

#[test]
fn pca_fits_the_same_on_any_partitioning_and_thread_count() {
    let df = bc();
    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("p")
        .with_k(3);
    let one = pca.fit(&df).unwrap();
    // 17 partitions (blocks merge in a fixed order), on one thread and on all.
    let parts = df.repartition(17).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let single = pool.install(|| pca.fit(&parts).unwrap());
    let many = pca.fit(&parts).unwrap();
    assert_eq!(single.pc(), many.pc());
    assert_eq!(single.explained_variance(), many.explained_variance());
    for (a, b) in one
        .explained_variance()
        .iter()
        .zip(many.explained_variance())
    {
        assert!((a - b).abs() <= 1e-12 * a);
    }
}

#[test]
fn pca_bad_input_errors() {
    let e = expected();
    let sp = sparse_frame();
    // Spark: "requirement failed: source vector size 6 must be no less than k=7"
    assert!(e["pca_k_too_large_error"]
        .as_str()
        .unwrap()
        .contains("source vector size 6 must be no less than k=7"));
    let err = PCA::new()
        .with_input_col("v")
        .with_k(7)
        .fit(&sp)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "PCA: parameter `k` must be at most the number of features of column `v` (6); lower k, got 7"
    );
    let err = PCA::new().with_input_col("v").fit(&sp).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("PCA: parameter `k` must be set"),
        "{err}"
    );
    let err = PCA::new()
        .with_input_col("v")
        .with_k(0)
        .fit(&sp)
        .unwrap_err();
    assert_eq!(err.to_string(), "PCA: parameter `k` must be > 0, got 0");
    let err = PCA::new()
        .with_input_col("id")
        .with_k(1)
        .fit(&sp)
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("PCA: column `id` has type Int64, expected a vector column"));
    // One row: no covariance.
    let one = DataFrame::from_batches(vec![sp.collect().unwrap().slice(0, 1)]).unwrap();
    let err = PCA::new()
        .with_input_col("v")
        .with_k(1)
        .fit(&one)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("PCA: column `v` has 1 row(s); the covariance matrix needs at least two"),
        "{err}"
    );
    // A NaN value: named by row.
    let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([
        (
            "a",
            Arc::new(Float64Array::from(vec![1.0, 2.0, f64::NAN, 4.0])) as ArrayRef,
        ),
        (
            "b",
            Arc::new(Float64Array::from(vec![1.0, 3.0, 2.0, 5.0])) as ArrayRef,
        ),
    ])
    .unwrap()])
    .unwrap();
    let df = VectorAssembler::new()
        .with_input_cols(["a", "b"])
        .with_output_col("v")
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(&df)
        .unwrap();
    let err = PCA::new()
        .with_input_col("v")
        .with_k(1)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "PCA: a NaN or infinite value in column `v` (partition 0, row 2); the covariance needs finite values; impute them first (Imputer) or drop such rows"
    );
    // A model meets vectors of another length.
    let model = PCAModel::load(dir("pca_sparse")).unwrap();
    let err = model.transform(&bc()).unwrap_err();
    assert!(
        err.to_string().contains("PCAModel") && err.to_string().contains("features"),
        "{err}"
    );
}

#[test]
fn pca_model_saves_and_loads_back() {
    let df = bc();
    let model = PCA::new()
        .with_input_col("features")
        .with_output_col("pca")
        .with_k(4)
        .fit(&df)
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    model.save(tmp.path().join("m")).unwrap();
    let back = PCAModel::load(tmp.path().join("m")).unwrap();
    assert_eq!(back.pc(), model.pc());
    assert_eq!(back.explained_variance(), model.explained_variance());
    assert_eq!(back.params(), model.params());
}

// ---------------------------------------------------------------------------------------
// VarianceThresholdSelector

#[test]
fn spark_variance_threshold_selectors_load_refit_and_transform_as_spark() {
    let e = expected();
    for case in ["vts_bc", "vts_bc_default", "vts_sparse"] {
        let want = &e[case];
        let sel: Vec<usize> = want["selectedFeatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        let df = if case == "vts_sparse" {
            sparse_frame()
        } else {
            bc()
        };
        let spark = VarianceThresholdSelectorModel::load(dir(case)).unwrap();
        assert_eq!(spark.selected_features(), sel, "{case}");
        let refit = VarianceThresholdSelector::load(dir(&format!("{case}_unfitted")))
            .unwrap()
            .fit(&df)
            .unwrap();
        assert_eq!(refit.selected_features(), sel, "{case}");
        let out = spark.transform(&df).unwrap();
        let f = out.schema().field_with_name("sel").unwrap();
        let meta: Value = serde_json::from_str(&f.metadata()["ml_attr"]).unwrap();
        assert_eq!(meta, want["metadata"]["ml_attr"], "{case}");
        if case == "vts_sparse" {
            // Sparse in, sparse out: each row's stored entries, re-indexed, as Spark's.
            assert!(vector::is_sparse_vector_type(f.data_type()));
            let col = out.column("sel").unwrap();
            let block = vector::VectorBlock::new(
                col.chunks[0].as_ref(),
                sel.len(),
                vector::At {
                    stage: "test",
                    column: "sel",
                    partition: 0,
                },
            )
            .unwrap();
            for (r, w) in want["output_sparse"].as_array().unwrap().iter().enumerate() {
                let Some(vector::Row::Sparse {
                    indices, values, ..
                }) = block.row(r)
                else {
                    panic!("row {r} is not sparse")
                };
                let wi: Vec<i32> = w["indices"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap() as i32)
                    .collect();
                assert_eq!(indices, wi.as_slice(), "row {r}");
                assert_eq!(values, nums(&w["values"]).as_slice(), "row {r}");
            }
        } else {
            assert_eq!(
                vector_rows(&out, "sel"),
                json_rows(&want["output"]),
                "{case}"
            );
        }
    }
}

#[test]
fn variance_threshold_selector_errors_and_round_trip() {
    let sp = sparse_frame();
    let err = VarianceThresholdSelector::new()
        .with_features_col("v")
        .with_variance_threshold(-1.0)
        .fit(&sp)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "VarianceThresholdSelector: parameter `varianceThreshold` must be >= 0, got -1"
    );
    let err = VarianceThresholdSelector::new().fit(&sp).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("VarianceThresholdSelector: column `features` not found"),
        "{err}"
    );
    let err = VarianceThresholdSelectorModel::new(
        "m",
        VarianceThresholdSelectorParams::default(),
        vec![2, 1],
    )
    .unwrap_err();
    assert!(err.to_string().contains("strictly increasing"), "{err}");
    // A model selecting feature 29 meets 6-element vectors.
    let m = VarianceThresholdSelectorModel::load(dir("vts_bc")).unwrap();
    let p = VarianceThresholdSelectorParams {
        features_col: "v".into(),
        ..m.params().clone()
    };
    let m2 = VarianceThresholdSelectorModel::new("m", p, m.selected_features().to_vec()).unwrap();
    let err = m2.transform(&sp).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("VarianceThresholdSelectorModel"),
        "{err}"
    );
    let tmp = tempfile::tempdir().unwrap();
    m.save(tmp.path().join("m")).unwrap();
    let back = VarianceThresholdSelectorModel::load(tmp.path().join("m")).unwrap();
    assert_eq!(back, m);
}

// ---------------------------------------------------------------------------------------
// TargetEncoder

/// The script's `te` (400 rows) or `te_test` (36 rows) frame.
fn te_frame(test: bool) -> DataFrame {
    let rows = if test { 36 } else { 400 };
    let (mut id, mut c1, mut c2, mut yb, mut yc) = (vec![], vec![], vec![], vec![], vec![]);
    for i in 0..rows {
        id.push(i);
        if test {
            c1.push(i % 9);
            c2.push([Some(0.0), Some(1.0), None, Some(7.0)][(i % 4) as usize]);
            yb.push(Some(0.0));
            yc.push(Some(0.0));
        } else {
            c1.push(i % 7);
            c2.push((i % 11 != 0).then(|| ((i * 3) % 5) as f64));
            yb.push(Some(if (i * 13) % 10 < 4 { 1.0 } else { 0.0 }));
            yc.push((i % 50 != 0).then(|| ((i * 37) % 100) as f64 / 10.0));
        }
    }
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int32Array::from(id)) as ArrayRef),
        ("c1", Arc::new(Int32Array::from(c1)) as ArrayRef),
        ("c2", Arc::new(Float64Array::from(c2)) as ArrayRef),
        ("yb", Arc::new(Float64Array::from(yb)) as ArrayRef),
        ("yc", Arc::new(Float64Array::from(yc)) as ArrayRef),
    ])
    .unwrap();
    DataFrame::from_batches(vec![batch]).unwrap()
}

/// `df` (one partition) with row `row` of the Float64 column `col` set to `v`.
fn replace_value(df: &DataFrame, col: &str, row: usize, v: f64) -> DataFrame {
    use arrow::array::AsArray;
    let b = df.collect().unwrap();
    let i = b.schema().index_of(col).unwrap();
    let a = b.column(i).as_primitive::<arrow::datatypes::Float64Type>();
    let new: Float64Array = a
        .iter()
        .enumerate()
        .map(|(r, x)| if r == row { Some(v) } else { x })
        .collect();
    let mut cols = b.columns().to_vec();
    cols[i] = Arc::new(new);
    DataFrame::from_batches(vec![RecordBatch::try_new(b.schema(), cols).unwrap()]).unwrap()
}

fn stat_map(m: &TargetEncoderModel) -> Vec<HashMap<i64, (f64, f64)>> {
    m.stats()
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| (c.category as i64, (c.count, c.stat)))
                .collect()
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-15 * b.abs().max(1e-300)
}

#[test]
fn spark_target_encoders_load_refit_and_transform_as_spark() {
    let e = expected();
    for case in ["te_binary", "te_binary_nosmooth", "te_cont"] {
        let want = &e[case];
        let spark = TargetEncoderModel::load(dir(case)).unwrap();
        let refit = TargetEncoder::load(dir(&format!("{case}_unfitted")))
            .unwrap()
            .fit(&te_frame(false))
            .unwrap();
        // Counts exact; binary stats are counts, continuous ones means.
        let (a, b) = (stat_map(&spark), stat_map(&refit));
        assert_eq!(a.len(), b.len(), "{case}");
        for (sa, sb) in a.iter().zip(&b) {
            assert_eq!(sa.len(), sb.len(), "{case}");
            for (k, (n, s)) in sa {
                let (n2, s2) = sb[k];
                assert_eq!(*n, n2, "{case} category {k}");
                assert!(close(s2, *s), "{case} category {k}: {s2} vs Spark's {s}");
            }
        }
        for model in [&spark, &refit] {
            for test in [false, true] {
                let mut df = te_frame(test);
                if test && case == "te_cont" {
                    // handleInvalid=error: the script kept the seen categories only.
                    df = df.filter(mlpipe::frame::col("c1").lt(7)).unwrap();
                }
                let out = model.transform(&df).unwrap();
                let key = if test { "output_test" } else { "output_train" };
                for (oc, w) in want[key].as_object().unwrap() {
                    let got = f64_column(&out, oc);
                    let w = nums(w);
                    assert_eq!(got.len(), w.len(), "{case} {key} {oc}");
                    for (r, (g, w)) in got.iter().zip(&w).enumerate() {
                        assert!(
                            close(*g, *w),
                            "{case} {key} {oc} row {r}: {g} vs Spark's {w}"
                        );
                    }
                    let f = out.schema().field_with_name(oc).unwrap();
                    assert!(!f.is_nullable());
                    let meta: Value = serde_json::from_str(&f.metadata()["ml_attr"]).unwrap();
                    let wm = &want[&format!("metadata_{}", if test { "test" } else { "train" })]
                        [oc]["ml_attr"];
                    assert_eq!(meta["name"], wm["name"]);
                    assert_eq!(meta["type"], wm["type"]);
                    // The same distinct encodings (Spark lists them in hash-set order).
                    let mut gv: Vec<f64> = meta["vals"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().parse().unwrap())
                        .collect();
                    let mut wv: Vec<f64> = wm["vals"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_str().unwrap().parse().unwrap())
                        .collect();
                    gv.sort_by(f64::total_cmp);
                    wv.sort_by(f64::total_cmp);
                    assert_eq!(gv.len(), wv.len(), "{case} {oc}");
                    assert!(
                        gv.iter().zip(&wv).all(|(a, b)| close(*a, *b)),
                        "{gv:?} vs {wv:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn target_encoder_bad_input_errors() {
    let e = expected();
    let errs = &e["te_errors"];
    let train = te_frame(false);
    // A binary label of 2 at id 5. Spark: "Labels for TARGET_BINARY must be {0, 1}, but got 2.0"
    assert!(errs["binary_label_2"]
        .as_str()
        .unwrap()
        .contains("Labels for TARGET_BINARY must be {0, 1}, but got 2.0"));
    let bad = replace_value(&train, "yb", 5, 2.0);
    let err = TargetEncoder::new()
        .with_input_col("c1")
        .with_label_col("yb")
        .fit(&bad)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TargetEncoder: label 2 in column `yb` (partition 0, row 5); targetType \"binary\" needs labels 0 or 1 (Spark: Labels for TARGET_BINARY must be {0, 1}); set targetType to \"continuous\" for a real-valued label"
    );
    // Categories must be non-negative integers. Spark: "Values MUST be non-negative
    // integers, but got -1.0" / "... 1.5".
    assert!(errs["negative_category"]
        .as_str()
        .unwrap()
        .contains("but got -1.0"));
    for (bad_v, shown) in [(-1.0, "-1"), (1.5, "1.5")] {
        let bad = replace_value(&train, "c2", 3, bad_v);
        let err = TargetEncoder::new()
            .with_input_col("c2")
            .with_label_col("yb")
            .fit(&bad)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("TargetEncoder: category {shown} in column `c2` (partition 0, row 3); categories must be non-negative integer indices below 2147483647 (Spark: Values MUST be non-negative integers); index strings with StringIndexer first")
        );
    }
    // Unseen category with handleInvalid=error. Spark: "Unseen value 7 in feature c1. To
    // handle unseen values, set Param handleInvalid to keep."
    assert!(errs["unseen_error"]
        .as_str()
        .unwrap()
        .contains("Unseen value 7 in feature c1"));
    let model = TargetEncoder::new()
        .with_input_col("c1")
        .with_label_col("yb")
        .fit(&train)
        .unwrap();
    let err = model.transform(&te_frame(true)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "TargetEncoderModel: category 7 not seen at fit in column `c1` (partition 0, row 7); set handleInvalid to \"keep\" to encode unseen categories with the overall statistic"
    );
    // Params: skip is not Spark's, smoothing >= 0, a string column is no category column.
    let err = TargetEncoder::new()
        .with_input_col("c1")
        .with_handle_invalid(HandleInvalid::Skip)
        .fit(&train)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("TargetEncoder: parameter `handleInvalid` must be \"error\" or \"keep\""),
        "{err}"
    );
    let err = TargetEncoder::new()
        .with_input_col("c1")
        .with_smoothing(-1.0)
        .fit(&train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TargetEncoder: parameter `smoothing` must be >= 0, got -1"
    );
    let err = TargetEncoder::new()
        .with_input_col("c1")
        .fit(&train)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("TargetEncoder: column `label` not found"),
        "{err}"
    );
    let err = TargetEncoder::new()
        .with_input_cols(["c1", "c2"])
        .with_output_cols(["a"])
        .with_label_col("yb")
        .fit(&train)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "TargetEncoder: parameter `outputCols` must be 2 names, one per input column, got 1 names"
    );
}

#[test]
fn target_encoder_default_outputs_smoothing_and_round_trip() {
    let train = te_frame(false);
    let model = TargetEncoder::new()
        .with_input_cols(["c1", "c2"])
        .with_label_col("yc")
        .with_target_type(TargetType::Continuous)
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&train)
        .unwrap();
    // Spark's default outputs: <input>_indexed.
    let out = model.transform(&te_frame(true)).unwrap();
    assert!(out.schema().field_with_name("c1_indexed").is_ok());
    assert!(out.schema().field_with_name("c2_indexed").is_ok());
    // Hand derivation: with smoothing 0 a category's encoding is its mean label, and an
    // unseen category's (c1 = 7, row 7) the overall mean.
    let c1 = f64_column(&out, "c1_indexed");
    let s = &model.stats()[0];
    let overall = s.iter().find(|c| c.category == 2147483647.0).unwrap().stat;
    let cat3 = s.iter().find(|c| c.category == 3.0).unwrap().stat;
    assert_eq!((c1[3], c1[7]), (cat3, overall));
    let labels: Vec<f64> = (0..400)
        .filter(|i| i % 50 != 0 && i % 7 == 3)
        .map(|i| ((i * 37) % 100) as f64 / 10.0)
        .collect();
    let mean3 = labels.iter().sum::<f64>() / labels.len() as f64;
    assert!((cat3 - mean3).abs() < 1e-12);
    // Smoothing set on the model re-weights the stored statistics.
    let smooth = model.clone().with_smoothing(10.0);
    let n3 = labels.len() as f64;
    let w = n3 / (n3 + 10.0);
    let c1s = f64_column(&smooth.transform(&te_frame(true)).unwrap(), "c1_indexed");
    assert_eq!(c1s[3], w * cat3 + (1.0 - w) * overall);
    let tmp = tempfile::tempdir().unwrap();
    model.save(tmp.path().join("m")).unwrap();
    let back = TargetEncoderModel::load(tmp.path().join("m")).unwrap();
    assert_eq!(back.stats(), model.stats());
    assert_eq!(back.params(), model.params());
}

// ---------------------------------------------------------------------------------------
// The stage contract and the row forms

#[test]
fn stages2_contract_dense_and_sparse() {
    use mlpipe::testing::{check_estimator, check_estimator_sparse_input};
    let df = bc();
    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_k(3);
    check_estimator(&pca, &df);
    check_estimator_sparse_input(&pca, &df, "features", 1e-9);
    let vts = VarianceThresholdSelector::new().with_output_col("out");
    check_estimator(&vts, &df);
    check_estimator_sparse_input(&vts, &df, "features", 0.0);
    let te = TargetEncoder::new()
        .with_input_cols(["c1", "c2"])
        .with_output_cols(["e1", "e2"])
        .with_label_col("yb")
        .with_handle_invalid(HandleInvalid::Keep)
        .with_smoothing(1.0);
    check_estimator(&te, &te_frame(false));
}

#[test]
fn stages2_row_forms_equal_transform_bit_for_bit() {
    use mlpipe::row::check_against_transform;
    let df = bc();
    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("p")
        .with_k(4)
        .fit(&df)
        .unwrap();
    let vts = VarianceThresholdSelector::new()
        .with_output_col("s")
        .with_variance_threshold(8.0)
        .fit(&df)
        .unwrap();
    let spark_pca = PCAModel::load(dir("pca_bc_full")).unwrap();
    let model = PipelineModel::new("p", vec![Box::new(pca), Box::new(vts), Box::new(spark_pca)]);
    assert_eq!(check_against_transform(&model, &df).unwrap(), df.num_rows());
    let te = TargetEncoderModel::load(dir("te_binary")).unwrap();
    let model = PipelineModel::new("t", vec![Box::new(te)]);
    assert_eq!(
        check_against_transform(&model, &te_frame(true)).unwrap(),
        36
    );
}
