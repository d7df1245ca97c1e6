//! PySpark 4.3 loads the PCA(Model), VarianceThresholdSelector(Model) and
//! TargetEncoder(Model) that mlpipe saved: models transform to mlpipe's outputs, estimators
//! fit to mlpipe's fitted values (tests/pyspark/check_stage2_roundtrip.py). Ignored by a
//! plain `cargo test` (needs PySpark; `.ci/run` runs it with `--ignored`).

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use common::*;
use mlpipe::feature::*;
use mlpipe::persist::{persistable, save, SaveMode};
use mlpipe::prelude::*;
use serde_json::{json, Map, Value};

fn bc() -> DataFrame {
    let df = DataFrame::read_csv(
        spark2("bc_train.csv"),
        &CsvOptions::default().with_partition_rows(1 << 20),
    )
    .unwrap();
    let f30: Vec<String> = (0..30).map(|i| format!("f{i}")).collect();
    VectorAssembler::new()
        .with_input_cols(&f30)
        .with_output_col("features")
        .transform(&df)
        .unwrap()
}

/// tests/pyspark/make_stage2_fixtures.py's `te` (400 rows) or `te_test` (36 rows).
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

fn outputs(t: &dyn Transformer, df: &DataFrame, cols: &[&str]) -> Value {
    let out = t.transform(df).unwrap();
    let mut m = Map::new();
    for c in cols {
        let f = out.schema().field_with_name(c).unwrap();
        let rows: Vec<Vec<f64>> = if f.data_type() == &arrow::datatypes::DataType::Float64 {
            f64_column(&out, c).into_iter().map(|x| vec![x]).collect()
        } else {
            vector_rows(&out, c)
        };
        m.insert(c.to_string(), json!(rows));
    }
    Value::Object(m)
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_pca_selector_and_target_encoder() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let dir = tempfile::tempdir().unwrap();
    let (bc, te, te_test) = (bc(), te_frame(false), te_frame(true));
    let mut manifest = Map::new();
    let mut put = |name: &str, s: &dyn Transformer, entry: Value| {
        save(
            persistable(s).unwrap(),
            dir.path().join(name),
            SaveMode::ErrorIfExists,
        )
        .unwrap();
        manifest.insert(name.into(), entry);
    };

    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("pca")
        .with_k(5);
    let pca_m = pca.fit(&bc).unwrap();
    put(
        "pca_model",
        &pca_m,
        json!({"kind": "transform", "class": "PCAModel", "frame": "bc",
               "outputs": outputs(&pca_m, &bc, &["pca"])}),
    );
    let vts = VarianceThresholdSelector::new()
        .with_output_col("sel")
        .with_variance_threshold(8.0);
    let vts_m = vts.fit(&bc).unwrap();
    put(
        "vts_model",
        &vts_m,
        json!({"kind": "transform", "class": "VarianceThresholdSelectorModel", "frame": "bc",
               "outputs": outputs(&vts_m, &bc, &["sel"])}),
    );
    let te_est = TargetEncoder::new()
        .with_input_cols(["c1", "c2"])
        .with_output_cols(["e1", "e2"])
        .with_label_col("yb")
        .with_handle_invalid(HandleInvalid::Keep)
        .with_smoothing(2.0);
    let te_m = te_est.fit(&te).unwrap();
    put(
        "te_model",
        &te_m,
        json!({"kind": "transform", "class": "TargetEncoderModel", "frame": "te_test",
               "tol": 1e-15, "outputs": outputs(&te_m, &te_test, &["e1", "e2"])}),
    );
    let te_cont = TargetEncoder::new()
        .with_input_col("c1")
        .with_label_col("yc")
        .with_target_type(TargetType::Continuous)
        .with_smoothing(5.0);
    let te_cont_m = te_cont.fit(&te).unwrap();

    // Unfitted: PySpark fits them.
    let pcs: Vec<Vec<f64>> = (0..5)
        .map(|c| pca_m.component(c).unwrap().to_vec())
        .collect();
    pca.save(dir.path().join("pca")).unwrap();
    manifest.insert(
        "pca".into(),
        json!({"kind": "fit", "class": "PCA", "frame": "bc",
               "explainedVariance": pca_m.explained_variance(), "pc": pcs}),
    );
    vts.save(dir.path().join("vts")).unwrap();
    manifest.insert(
        "vts".into(),
        json!({"kind": "fit", "class": "VarianceThresholdSelector", "frame": "bc",
               "selectedFeatures": vts_m.selected_features()}),
    );
    te_cont.save(dir.path().join("te_cont")).unwrap();
    manifest.insert(
        "te_cont".into(),
        json!({"kind": "fit", "class": "TargetEncoder", "frame": "te", "tol": 1e-15,
               "outputs": outputs(&te_cont_m, &te, &["c1_indexed"])}),
    );
    std::fs::write(
        dir.path().join("manifest.json"),
        Value::Object(manifest).to_string(),
    )
    .unwrap();
    let out = run_pyspark_check(
        "check_stage2_roundtrip.py",
        &[&dir.path(), &spark2("bc_train.csv")],
    );
    assert_eq!(out.matches("agree").count(), 6, "{out}");
}
