//! Which rows the element-wise vector stages store dense or sparse, against PySpark 4.3
//! (fixture made by tests/pyspark/make_sparse_layout_fixtures.py): each stage on a column
//! mixing dense rows, sparse rows, a sparse row storing an explicit 0.0, an all-zero dense
//! row and an empty sparse row. Layouts and indices match exactly, values to 1e-12
//! relative (absolute below 1). The same stages on the column made dense give Spark's values, and the layout
//! Spark gives dense input (every row dense, except where Spark compresses).

use crate::common;

use std::sync::Arc;

use mlpipe::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
use mlpipe::arrow::datatypes::{DataType, Field, Schema};
use mlpipe::feature::{
    Binarizer, ElementwiseProduct, Interaction, Normalizer, PolynomialExpansion, RobustScaler,
    VectorIndexer, VectorSlicer, DCT,
};
use mlpipe::frame::vector::{self, At, Row, SparseVectorBuilder, VectorBlock};
use mlpipe::prelude::*;
use serde_json::Value;

fn expected() -> Value {
    let p = common::repo_root().join("tests/fixtures/spark_sparse_layout/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// One stored vector: (Spark's type, indices, values).
#[derive(Debug, PartialEq)]
struct Stored(i64, Vec<i64>, Vec<f64>);

impl Stored {
    fn dense(&self, n: usize) -> Vec<f64> {
        if self.0 == 1 {
            return self.2.clone();
        }
        let mut v = vec![0.0; n];
        for (i, x) in self.1.iter().zip(&self.2) {
            v[*i as usize] = *x;
        }
        v
    }
}

fn spark_stored(v: &Value) -> Stored {
    let ints = |k: &str| -> Vec<i64> {
        v.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|x| x.as_i64().unwrap()).collect())
            .unwrap_or_default()
    };
    Stored(
        v["type"].as_i64().unwrap(),
        ints("indices"),
        common::floats(&v["values"]),
    )
}

fn spark_rows(v: &Value) -> Vec<Stored> {
    v.as_array().unwrap().iter().map(spark_stored).collect()
}

/// All rows of vector column `col`, as stored.
fn column_rows(df: &DataFrame, col: &str) -> Vec<Stored> {
    let c = df.column(col).unwrap();
    let n = vector::field_vector_size(&c.field).unwrap();
    let mut out = Vec::new();
    for (p, a) in c.chunks.iter().enumerate() {
        let at = At {
            stage: "test",
            column: col,
            partition: p,
        };
        let b = VectorBlock::new(a.as_ref(), n, at).unwrap();
        out.extend((0..b.len()).map(|r| match b.row(r).unwrap() {
            Row::Dense(v) => Stored(1, Vec::new(), v.to_vec()),
            Row::Sparse {
                indices, values, ..
            } => Stored(
                0,
                indices.iter().map(|i| *i as i64).collect(),
                values.to_vec(),
            ),
            _ => unreachable!(),
        }));
    }
    out
}

/// 1e-12 relative, or absolute below 1 (DCT's sums cancel to ~1e-16 residues that differ
/// with the summation order).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

/// Layout and indices exactly, values to 1e-12 relative.
fn assert_stored(what: &str, got: &[Stored], want: &[Stored]) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!((g.0, &g.1), (w.0, &w.1), "{what}: row {r} layout/indices");
        assert_eq!(g.2.len(), w.2.len(), "{what}: row {r} length");
        for (a, b) in g.2.iter().zip(&w.2) {
            assert!(close(*a, *b), "{what}: row {r}: {a} vs Spark {b}");
        }
    }
}

/// A vector column `name` from Spark's stored rows: as stored (`dense: false`) or every
/// row dense; with numeric attributes `<name>_<i>` as the fixture's (Interaction needs
/// them, in Spark too).
fn vector_column(name: &str, rows: &[Stored], n: usize, dense: bool) -> (Field, ArrayRef) {
    let names: Vec<String> = (0..n).map(|i| format!("{name}_{i}")).collect();
    if dense {
        let vals: Vec<f64> = rows.iter().flat_map(|s| s.dense(n)).collect();
        let f = vector::with_feature_names(vector::vector_field(name, n, true), &names);
        let a = vector::vector_array(vals, n, None).unwrap();
        return (f, Arc::new(a));
    }
    let mut b = SparseVectorBuilder::new(n);
    for s in rows {
        if s.0 == 1 {
            b.push_dense(&s.2).unwrap();
        } else {
            let idx: Vec<i32> = s.1.iter().map(|i| *i as i32).collect();
            b.push(&idx, &s.2).unwrap();
        }
    }
    let f = vector::with_feature_names(vector::sparse_vector_field(name, n, true), &names);
    (f, b.finish().unwrap())
}

/// The fixture's input: `id`, `v` (size 6), `x`, `w` (size 2), `y`; the vector columns
/// as Spark stored them, or made dense.
fn input(e: &Value, dense: bool) -> DataFrame {
    let inp = &e["input"];
    let (vf, va) = vector_column("v", &spark_rows(&inp["v"]), 6, dense);
    let (wf, wa) = vector_column("w", &spark_rows(&inp["w"]), 2, dense);
    let x = common::floats(&inp["x"]);
    let y = common::floats(&inp["y"]);
    let n = x.len();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int32, false),
        vf,
        Field::new("x", DataType::Float64, true),
        wf,
        Field::new("y", DataType::Float64, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter_values(0..n as i32)),
        va,
        Arc::new(Float64Array::from(x)),
        wa,
        Arc::new(Float64Array::from(y)),
    ];
    DataFrame::from_batches(vec![RecordBatch::try_new(schema, cols).unwrap()]).unwrap()
}

/// The stage the fixture names, fitted on `df` where it is an estimator.
fn stage(name: &str, p: &Value, df: &DataFrame) -> Box<dyn Transformer> {
    let f = |k: &str| match &p[k] {
        Value::String(s) if s == "inf" => f64::INFINITY,
        v => v.as_f64().unwrap(),
    };
    let b = |k: &str| p[k].as_bool().unwrap();
    let kind = name.rsplit_once('_').map_or(name, |(k, _)| k);
    match kind {
        "binarizer" => Box::new(
            Binarizer::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_threshold(f("threshold")),
        ),
        "normalizer" => Box::new(
            Normalizer::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_p(f("p")),
        ),
        "elementwise" => Box::new(
            ElementwiseProduct::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_scaling_vec(&common::floats(&p["scalingVec"])),
        ),
        "polynomial_expansion" | "polynomial_expansion_3" => Box::new(
            PolynomialExpansion::new()
                .with_input_col(p.get("inputCol").and_then(Value::as_str).unwrap_or("v"))
                .with_output_col("out")
                .with_degree(p["degree"].as_i64().unwrap() as i32),
        ),
        "vector_slicer" | "vector" => {
            let idx: Vec<i32> = p["indices"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_i64().unwrap() as i32)
                .collect();
            Box::new(
                VectorSlicer::new()
                    .with_input_col("v")
                    .with_output_col("out")
                    .with_indices(&idx),
            )
        }
        "interaction_x" | "interaction_v" => {
            let cols: Vec<String> = p["inputCols"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().to_string())
                .collect();
            Box::new(
                Interaction::new()
                    .with_input_cols(cols)
                    .with_output_col("out"),
            )
        }
        "vector_indexer" => Box::new(
            VectorIndexer::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_max_categories(p["maxCategories"].as_i64().unwrap() as i32)
                .fit(df)
                .unwrap(),
        ),
        "robust_scaler" | "robust_scaler_center" => Box::new(
            RobustScaler::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_centering(b("withCentering"))
                .with_scaling(b("withScaling"))
                .fit(df)
                .unwrap(),
        ),
        "dct" => Box::new(
            DCT::new()
                .with_input_col("v")
                .with_output_col("out")
                .with_inverse(b("inverse")),
        ),
        other => panic!("no stage for fixture case {name} ({other})"),
    }
}

/// Whether Spark stores the stage's rows `.compressed` whatever the input (so dense input
/// gives the same layout as the fixture's).
fn compresses(name: &str) -> bool {
    name.starts_with("binarizer") || name.starts_with("interaction")
}

#[test]
fn element_wise_stages_keep_sparks_layout_per_row() {
    let e = expected();
    assert_eq!(e["spark_version"], "4.3.0");
    let df = input(&e, false);
    let cases = e["stages"].as_object().unwrap();
    assert_eq!(cases.len(), 22);
    for (name, case) in cases {
        let st = stage(name, &case["params"], &df);
        let out = st.transform(&df).unwrap();
        let want = spark_rows(&case["rows"]);
        assert_stored(name, &column_rows(&out, "out"), &want);
        // The output type is decided from the schema alone.
        let planned = st.transform_schema(df.schema()).unwrap();
        assert_eq!(
            planned.field_with_name("out").unwrap().data_type(),
            out.schema().field_with_name("out").unwrap().data_type(),
            "{name}: transform_schema's output type"
        );
    }
}

#[test]
fn element_wise_stages_on_dense_input_give_sparks_values() {
    let e = expected();
    let sparse_df = input(&e, false);
    let df = input(&e, true);
    for (name, case) in e["stages"].as_object().unwrap() {
        // Fitted stages are fitted on the same values in either layout.
        let st = stage(name, &case["params"], &sparse_df);
        let out = st.transform(&df).unwrap();
        let want = spark_rows(&case["rows"]);
        let got = column_rows(&out, "out");
        if compresses(name) {
            assert_stored(name, &got, &want);
        } else {
            let n =
                vector::field_vector_size(out.schema().field_with_name("out").unwrap()).unwrap();
            let want: Vec<Stored> = want
                .iter()
                .map(|s| Stored(1, Vec::new(), s.dense(n)))
                .collect();
            assert_stored(name, &got, &want);
            assert!(
                matches!(
                    out.schema().field_with_name("out").unwrap().data_type(),
                    DataType::FixedSizeList(..)
                ),
                "{name}: dense in, dense column out"
            );
        }
    }
}

/// A one-column frame `t` holding the fixture's lists of `kind` terms.
fn term_lists(kind: &str, rows: &Value) -> DataFrame {
    use mlpipe::arrow::array::{
        BooleanBuilder, Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder,
        Int8Builder, ListBuilder, StringBuilder,
    };
    let rows = rows.as_array().unwrap();
    let num = |v: &Value| -> Option<f64> {
        match v {
            Value::Null => None,
            Value::String(s) => Some(match s.as_str() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                other => panic!("term {other}"),
            }),
            v => Some(v.as_f64().unwrap()),
        }
    };
    macro_rules! lists {
        ($b:expr, $conv:expr) => {{
            let mut b = ListBuilder::new($b);
            for r in rows {
                for t in r.as_array().unwrap() {
                    b.values().append_option($conv(t));
                }
                b.append(true);
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    let arr = match kind {
        "ints" | "ints_null" => lists!(Int32Builder::new(), |t: &Value| t
            .as_i64()
            .map(|v| v as i32)),
        "longs" => lists!(Int64Builder::new(), |t: &Value| t.as_i64()),
        "shorts" => lists!(Int16Builder::new(), |t: &Value| t
            .as_i64()
            .map(|v| v as i16)),
        "bytes" => lists!(Int8Builder::new(), |t: &Value| t.as_i64().map(|v| v as i8)),
        "doubles" => lists!(Float64Builder::new(), num),
        "floats" => lists!(Float32Builder::new(), |t: &Value| num(t).map(|v| v as f32)),
        "bools" => lists!(BooleanBuilder::new(), |t: &Value| t.as_bool()),
        "strs" => lists!(StringBuilder::new(), |t: &Value| t
            .as_str()
            .map(str::to_string)),
        other => panic!("no term type {other}"),
    };
    let batch = RecordBatch::try_from_iter([("t", arr)]).unwrap();
    DataFrame::from_batches(vec![batch]).unwrap()
}

#[test]
fn hashing_tf_hashes_numbers_and_booleans_as_spark() {
    let e = expected();
    let cases = e["hashing"].as_object().unwrap();
    assert_eq!(cases.len(), 18);
    for (name, case) in cases {
        let df = term_lists(case["type"].as_str().unwrap(), &case["terms"]);
        let out = mlpipe::feature::HashingTF::new()
            .with_input_col("t")
            .with_output_col("out")
            .with_num_features(case["numFeatures"].as_i64().unwrap())
            .with_binary(case["binary"].as_bool().unwrap())
            .transform(&df)
            .unwrap();
        assert_stored(name, &column_rows(&out, "out"), &spark_rows(&case["rows"]));
    }
}

#[test]
fn hashing_tf_refuses_term_types_spark_cannot_hash() {
    use mlpipe::arrow::array::{ListBuilder, UInt32Builder};
    let mut b = ListBuilder::new(UInt32Builder::new());
    b.values().append_value(3);
    b.append(true);
    let batch = RecordBatch::try_from_iter([("t", Arc::new(b.finish()) as ArrayRef)]).unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let e = mlpipe::feature::HashingTF::new()
        .with_input_col("t")
        .transform(&df)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("HashingTF")
            && e.contains("`t`")
            && e.contains("a list of strings, booleans, integers or floating-point numbers"),
        "{e}"
    );
}

#[test]
fn vector_assembler_stores_each_row_as_spark() {
    let e = expected();
    let case = &e["assembler"];
    let cols: Vec<String> = case["inputCols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let want = spark_rows(&case["rows"]);
    // Spark compresses each row whatever the inputs' layouts: the same from dense input.
    for dense in [false, true] {
        let df = input(&e, dense);
        let va = mlpipe::feature::VectorAssembler::new()
            .with_input_cols(&cols)
            .with_output_col("out");
        let out = va.transform(&df).unwrap();
        assert_stored(
            &format!("assembler (dense input: {dense})"),
            &column_rows(&out, "out"),
            &want,
        );
        // with_dense_output(true): the same values, every row dense, a dense column.
        let out = va.with_dense_output(true).transform(&df).unwrap();
        assert!(matches!(
            out.schema().field_with_name("out").unwrap().data_type(),
            DataType::FixedSizeList(..)
        ));
        let dense_want: Vec<Stored> = want
            .iter()
            .map(|s| Stored(1, Vec::new(), s.dense(10)))
            .collect();
        assert_stored(
            "assembler dense output",
            &column_rows(&out, "out"),
            &dense_want,
        );
    }
}

#[test]
fn all_dense_rows_read_as_one_dense_slice() {
    // A numeric-only assembly whose rows are all dense: the VectorUDT column's values are
    // one row-major buffer, which VectorBlock hands out as a dense chunk.
    let e = expected();
    let df = input(&e, true);
    let out = mlpipe::feature::VectorAssembler::new()
        .with_input_cols(["x", "w"])
        .with_output_col("out")
        .transform(&df)
        .unwrap();
    let c = out.column("out").unwrap();
    assert!(vector::is_sparse_vector_type(c.field.data_type()));
    let at = At {
        stage: "test",
        column: "out",
        partition: 0,
    };
    let b = VectorBlock::new(c.chunks[0].as_ref(), 3, at).unwrap();
    let x = common::floats(&e["input"]["x"]);
    let w: Vec<Stored> = spark_rows(&e["input"]["w"]);
    let want: Vec<f64> = x
        .iter()
        .zip(&w)
        .flat_map(|(x, w)| std::iter::once(*x).chain(w.dense(2)))
        .collect();
    assert_eq!(b.as_dense(), Some(&want[..]));
    // A dense copy of it shares that buffer.
    let d = vector::dense_chunk(c.chunks[0].as_ref(), 3, at).unwrap();
    assert_eq!(
        vector::dense_values(&d).unwrap().as_ptr(),
        b.as_dense().unwrap().as_ptr()
    );
}
