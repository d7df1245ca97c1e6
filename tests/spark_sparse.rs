//! Sparse vectors against PySpark 4.3 (fixtures made by tests/pyspark/make_sparse_fixtures.py):
//! a Spark-saved pipeline (StringIndexer -> OneHotEncoder -> VectorAssembler ->
//! StandardScaler -> MinMaxScaler -> LogisticRegression) and an L1 LinearRegression whose
//! saved coefficients are a sparse vector. Layouts (sparse or dense per row) and indices
//! match exactly, values to 1e-12 relative.

use crate::common;

use mlpipe::frame::vector::{self, At, Row, VectorBlock};
use mlpipe::prelude::*;
use mlpipe::regression::LinearRegressionModel;
use serde_json::Value;

fn dir() -> std::path::PathBuf {
    common::repo_root().join("tests/fixtures/spark_sparse")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join("transformed.json")).unwrap()).unwrap()
}

fn input() -> DataFrame {
    DataFrame::read_csv(dir().join("input.csv"), &CsvOptions::default()).unwrap()
}

/// One stored vector: (Spark's type, indices, values).
#[derive(Debug, PartialEq)]
struct Stored(i64, Vec<i64>, Vec<f64>);

fn stored(row: Row<'_>) -> Stored {
    match row {
        Row::Dense(v) => Stored(1, Vec::new(), v.to_vec()),
        Row::Sparse {
            indices, values, ..
        } => Stored(
            0,
            indices.iter().map(|i| *i as i64).collect(),
            values.to_vec(),
        ),
        _ => unreachable!(),
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
        out.extend((0..b.len()).map(|r| stored(b.row(r).unwrap())));
    }
    out
}

fn close(a: f64, b: f64, rtol: f64) -> bool {
    a == b || (a - b).abs() <= rtol * a.abs().max(b.abs())
}

/// `got` matches Spark's rows: layout and indices exactly (unless `by_value`, for a
/// column mlpipe stores densely), values to `rtol`.
fn assert_matches(col: &str, got: &[Stored], want: &[Stored], rtol: f64, by_value: bool) {
    assert_eq!(got.len(), want.len(), "{col}: row count");
    let dense = |s: &Stored, n: usize| -> Vec<f64> {
        if s.0 == 1 {
            return s.2.clone();
        }
        let mut v = vec![0.0; n];
        for (i, x) in s.1.iter().zip(&s.2) {
            v[*i as usize] = *x;
        }
        v
    };
    for (r, (g, w)) in got.iter().zip(want).enumerate() {
        let (gv, wv) = if by_value {
            let n = if g.0 == 1 {
                g.2.len()
            } else {
                9.max(g.2.len())
            };
            (dense(g, n), dense(w, n))
        } else {
            assert_eq!((g.0, &g.1), (w.0, &w.1), "{col}: row {r} layout/indices");
            (g.2.clone(), w.2.clone())
        };
        assert_eq!(gv.len(), wv.len(), "{col}: row {r} length");
        for (a, b) in gv.iter().zip(&wv) {
            assert!(close(*a, *b, rtol), "{col}: row {r}: {a} vs Spark {b}");
        }
    }
}

fn spark_rows(e: &Value, col: &str) -> Vec<Stored> {
    e["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| spark_stored(&r[col]))
        .collect()
}

#[test]
fn spark_saved_pipeline_scores_like_spark() {
    let e = expected();
    let model = PipelineModel::load(dir().join("pipeline")).unwrap();
    let out = model.transform(&input()).unwrap();
    // OneHotEncoder, VectorAssembler (Spark 4's compressed rule) and StandardScaler
    // (withMean = false keeps the structure) store their vectors as Spark does.
    assert_matches(
        "cat_vec",
        &column_rows(&out, "cat_vec"),
        &spark_rows(&e, "cat_vec"),
        0.0,
        false,
    );
    assert_matches(
        "features",
        &column_rows(&out, "features"),
        &spark_rows(&e, "features"),
        0.0,
        false,
    );
    assert_matches(
        "scaled",
        &column_rows(&out, "scaled"),
        &spark_rows(&e, "scaled"),
        1e-12,
        false,
    );
    // MinMaxScaler: mlpipe writes dense rows where Spark compresses; values agree.
    assert_matches(
        "mm",
        &column_rows(&out, "mm"),
        &spark_rows(&e, "mm"),
        1e-12,
        true,
    );
    for col in ["rawPrediction", "probability"] {
        assert_matches(
            col,
            &column_rows(&out, col),
            &spark_rows(&e, col),
            1e-12,
            true,
        );
    }
    let pred = common::f64_column(&out, "prediction");
    let want: Vec<f64> = e["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["prediction"].as_f64().unwrap())
        .collect();
    assert_eq!(pred, want);
}

#[test]
fn spark_sparse_linear_regression_loads_predicts_and_saves_sparse() {
    let e = expected();
    let model = LinearRegressionModel::load(dir().join("linreg_l1")).unwrap();
    let want = spark_stored(&e["linreg_coefficients"]);
    let dense: Vec<f64> = {
        let mut v = vec![0.0; 9];
        for (i, x) in want.1.iter().zip(&want.2) {
            v[*i as usize] = *x;
        }
        v
    };
    assert_eq!(model.coefficients(), &dense[..]);
    // Scored on Spark's pipeline output (sparse features), as Spark scored it.
    let feats = PipelineModel::load(dir().join("pipeline"))
        .unwrap()
        .transform(&input())
        .unwrap();
    let out = model.transform(&feats).unwrap();
    let got = common::f64_column(&out, "y_pred");
    for (r, (g, row)) in got.iter().zip(e["rows"].as_array().unwrap()).enumerate() {
        let w = row["y_pred"].as_f64().unwrap();
        assert!(close(*g, w, 1e-12), "row {r}: {g} vs Spark {w}");
    }
    // Saved back, the coefficients are stored sparse, as Spark's `.compressed` stores them.
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("lin");
    model.save(&path).unwrap();
    let data = std::fs::read_dir(path.join("data"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let df = DataFrame::read_parquet(&data, &ParquetOptions::default()).unwrap();
    assert_eq!(column_rows(&df, "coefficients"), vec![want]);
}

#[test]
fn spark_written_vector_parquet_reads_as_stored() {
    let e = expected();
    let part = std::fs::read_dir(dir().join("transformed.parquet"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let df = DataFrame::read_parquet(&part, &ParquetOptions::default()).unwrap();
    for col in [
        "cat_vec",
        "features",
        "scaled",
        "mm",
        "rawPrediction",
        "probability",
    ] {
        let f = df.schema().field_with_name(col).unwrap();
        assert!(vector::is_sparse_vector_type(f.data_type()), "{col}");
        assert_matches(
            col,
            &column_rows(&df, col),
            &spark_rows(&e, col),
            0.0,
            false,
        );
    }
    // The sizes came from Spark's ML attributes in the file's Spark schema.
    let (_, _, n) = mlpipe::frame::schema::require_vector(df.schema(), "test", "features").unwrap();
    assert_eq!(n, 9);
}

/// mlpipe's own fit of the same pipeline on the same rows: the encoded vectors match
/// Spark's storage exactly, and the LR coefficients Spark's to 1e-6 (both converged with
/// tol 1e-12 from different optimiser paths).
#[test]
fn mlpipe_fit_matches_spark_on_sparse_features() {
    use mlpipe::classification::LogisticRegression;
    use mlpipe::feature::{OneHotEncoder, StringIndexer, StringOrderType, VectorAssembler};
    let e = expected();
    let pipe = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("cat")
                .with_output_col("cat_idx")
                .with_string_order_type(StringOrderType::AlphabetAsc),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_col("cat_idx")
                .with_output_col("cat_vec"),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["cat_vec", "x1", "x2"])
                .with_output_col("features"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_reg_param(0.01)
                .with_tol(1e-12)
                .with_max_iter(500),
        );
    let model = pipe.fit(&input()).unwrap();
    let out = model.transform(&input()).unwrap();
    assert_matches(
        "features",
        &column_rows(&out, "features"),
        &spark_rows(&e, "features"),
        0.0,
        false,
    );
    let lr = model
        .stage::<mlpipe::classification::LogisticRegressionModel>()
        .unwrap();
    let want = common::floats(&e["lr_coefficients"]);
    for (g, w) in lr.coefficients().unwrap().iter().zip(&want) {
        assert!((g - w).abs() < 1e-6, "{g} vs Spark {w}");
    }
    let b = e["lr_intercept"].as_f64().unwrap();
    let got = lr.intercept().unwrap();
    assert!((got - b).abs() < 1e-6, "{got} vs {b}");
}
