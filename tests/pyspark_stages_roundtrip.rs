//! PySpark 4.3 loads the QuantileDiscretizer (and its fitted Bucketizer), RobustScaler(Model),
//! Binarizer, Normalizer, ElementwiseProduct, PolynomialExpansion, DCT, VectorIndexerModel,
//! Interaction and VectorSlicer that mlpipe saved:
//! transformers give mlpipe's outputs, estimators fit to mlpipe's fitted values. Ignored by
//! a plain `cargo test` (needs PySpark; `.ci/run` runs it with `--ignored`).

use crate::common;

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
    let df = VectorAssembler::new()
        .with_input_cols(["f0", "f1", "f4", "f9", "f20"])
        .with_output_col("v5")
        .transform(&df)
        .unwrap();
    VectorAssembler::new()
        .with_input_cols(["f0", "f4", "f9"])
        .with_output_col("v3")
        .transform(&df)
        .unwrap()
}

fn outputs(t: &dyn Transformer, df: &DataFrame, cols: &[&str]) -> Value {
    let out = t.transform(df).unwrap();
    let mut m = Map::new();
    for c in cols {
        let f = out.schema().field_with_name(c).unwrap();
        let rows: Vec<Vec<f64>> = if mlpipe::frame::vector::field_vector_size(f).is_some() {
            vector_rows(&out, c)
        } else {
            f64_column(&out, c).into_iter().map(|x| vec![x]).collect()
        };
        m.insert(c.to_string(), json!(rows));
    }
    Value::Object(m)
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_feature_stages() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let dir = tempfile::tempdir().unwrap();
    let df = bc();
    let mut manifest = Map::new();
    let mut transformer = |name: &str, t: Box<dyn Transformer>, class: &str, cols: &[&str]| {
        save(
            persistable(t.as_ref()).unwrap(),
            dir.path().join(name),
            SaveMode::ErrorIfExists,
        )
        .unwrap();
        manifest.insert(
            name.into(),
            json!({"kind": "transform", "class": class, "outputs": outputs(t.as_ref(), &df, cols)}),
        );
    };
    let qd1 = QuantileDiscretizer::new()
        .with_input_col("f2")
        .with_output_col("f2b")
        .with_num_buckets(5)
        .fit(&df)
        .unwrap();
    transformer("bucketizer_qd", Box::new(qd1), "Bucketizer", &["f2b"]);
    let rs = RobustScaler::new()
        .with_input_col("v5")
        .with_output_col("s")
        .with_centering(true)
        .with_lower(0.1)
        .fit(&df)
        .unwrap();
    transformer(
        "rs_model",
        Box::new(rs.clone()),
        "RobustScalerModel",
        &["s"],
    );
    transformer(
        "bin",
        Box::new(
            Binarizer::new()
                .with_input_cols(["f0", "v5"])
                .with_output_cols(["b0", "bv"])
                .with_thresholds(&[14.0, 0.1]),
        ),
        "Binarizer",
        &["b0", "bv"],
    );
    transformer(
        "norm",
        Box::new(
            Normalizer::new()
                .with_input_col("v5")
                .with_output_col("n")
                .with_p(3.0),
        ),
        "Normalizer",
        &["n"],
    );
    transformer(
        "ep",
        Box::new(
            ElementwiseProduct::new()
                .with_input_col("v5")
                .with_output_col("e")
                .with_scaling_vec(&[1.5, -2.0, 0.0, 10.0, 0.25]),
        ),
        "ElementwiseProduct",
        &["e"],
    );
    transformer(
        "poly",
        Box::new(
            PolynomialExpansion::new()
                .with_input_col("v3")
                .with_output_col("p"),
        ),
        "PolynomialExpansion",
        &["p"],
    );
    transformer(
        "dct",
        Box::new(
            DCT::new()
                .with_input_col("v5")
                .with_output_col("d")
                .with_inverse(true),
        ),
        "DCT",
        &["d"],
    );
    // VectorIndexer over f0 and a 3-valued element (f20 > 15 plus f4 > 0.1): categories
    // indexed as Spark does, keep for unseen values.
    let vi = VectorIndexer::new()
        .with_input_col("v5")
        .with_output_col("vi")
        .with_max_categories(400)
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&df)
        .unwrap();
    transformer("vi_model", Box::new(vi), "VectorIndexerModel", &["vi"]);
    transformer(
        "interaction",
        Box::new(
            Interaction::new()
                .with_input_cols(["f2", "v3"])
                .with_output_col("x"),
        ),
        "Interaction",
        &["x"],
    );
    transformer(
        "slicer",
        Box::new(
            VectorSlicer::new()
                .with_input_col("v5")
                .with_output_col("s")
                .with_indices(&[4])
                .with_names(["f1"]),
        ),
        "VectorSlicer",
        &["s"],
    );
    // Unfitted estimators: PySpark fits them to mlpipe's fitted values.
    let qd = QuantileDiscretizer::new()
        .with_input_cols(["f0", "f3"])
        .with_output_cols(["b0", "b3"])
        .with_num_buckets_array(&[4, 6])
        .with_handle_invalid(HandleInvalid::Keep);
    qd.save(dir.path().join("qd")).unwrap();
    let fitted = qd.fit(&df).unwrap();
    // as strings: JSON has no infinity
    let splits: Vec<Vec<String>> = fitted
        .params()
        .splits_array
        .iter()
        .flatten()
        .map(|s| s.iter().map(|x| format!("{x:?}")).collect())
        .collect();
    manifest.insert(
        "qd".into(),
        json!({"kind": "fit", "class": "QuantileDiscretizer",
               "fitted": {"getSplitsArray": splits}}),
    );
    let rse = RobustScaler::new()
        .with_input_col("v5")
        .with_output_col("s")
        .with_centering(true)
        .with_lower(0.1);
    rse.save(dir.path().join("rs")).unwrap();
    manifest.insert(
        "rs".into(),
        json!({"kind": "fit", "class": "RobustScaler",
               "fitted": {"median": rs.median(), "range": rs.range()}}),
    );
    std::fs::write(
        dir.path().join("manifest.json"),
        Value::Object(manifest).to_string(),
    )
    .unwrap();
    run_pyspark_check(
        "check_stage_roundtrip.py",
        &[&dir.path(), &spark2("bc_train.csv")],
    );
}
