//! PySpark 4.3 loads a pipeline mlpipe fitted on sparse features (StringIndexer ->
//! OneHotEncoder -> VectorAssembler -> StandardScaler -> MinMaxScaler ->
//! LogisticRegression) and an L1 LinearRegression whose saved coefficients are sparse,
//! and scores what mlpipe scored: the sparse vectors stored identically (type and indices
//! exactly, values to 1e-12), predictions equal, probabilities to 1e-12. Ignored by a plain
//! `cargo test` (needs PySpark; see tests/pyspark_roundtrip.rs).

use crate::common;

use std::fmt::Write as _;

use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{
    MinMaxScaler, OneHotEncoder, StandardScaler, StringIndexer, StringOrderType, VectorAssembler,
};
use mlpipe::frame::vector::{self, At, Row, VectorBlock};
use mlpipe::prelude::*;
use mlpipe::regression::LinearRegression;

/// Each row of vector column `col` as Spark's storage: `t|indices|values` with `;`
/// between numbers (indices empty for a dense row).
fn stored_rows(df: &DataFrame, col: &str) -> Vec<String> {
    let c = df.column(col).unwrap();
    let n = vector::field_vector_size(&c.field).unwrap();
    let join = |v: Vec<String>| v.join(";");
    let mut out = Vec::new();
    for (p, a) in c.chunks.iter().enumerate() {
        let at = At {
            stage: "test",
            column: col,
            partition: p,
        };
        let b = VectorBlock::new(a.as_ref(), n, at).unwrap();
        for r in 0..b.len() {
            out.push(match b.row(r).unwrap() {
                Row::Dense(v) => {
                    format!("1||{}", join(v.iter().map(|x| format!("{x:?}")).collect()))
                }
                Row::Sparse {
                    indices, values, ..
                } => format!(
                    "0|{}|{}",
                    join(indices.iter().map(|i| i.to_string()).collect()),
                    join(values.iter().map(|x| format!("{x:?}")).collect())
                ),
                _ => unreachable!(),
            });
        }
    }
    out
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_models_fitted_on_sparse_features() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let dir = tempfile::tempdir().unwrap();
    let input = repo_root().join("tests/fixtures/spark_sparse/input.csv");
    let df = DataFrame::read_csv(&input, &CsvOptions::default()).unwrap();
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
            StandardScaler::new()
                .with_input_col("features")
                .with_output_col("scaled"),
        )
        .with_estimator(
            MinMaxScaler::new()
                .with_input_col("features")
                .with_output_col("mm"),
        )
        .with_estimator(LogisticRegression::new().with_reg_param(0.01));
    let model = pipe.fit(&df).unwrap();
    model.save(dir.path().join("pipeline")).unwrap();
    let out = model.transform(&df).unwrap();
    let lin = LinearRegression::new()
        .with_label_col("y")
        .with_elastic_net_param(1.0)
        .with_reg_param(0.5)
        .with_prediction_col("y_pred")
        .fit(&out)
        .unwrap();
    lin.save(dir.path().join("linreg_l1")).unwrap();
    let out = lin.transform(&out).unwrap();

    let ids = f64_column(&out, "id");
    let pred = f64_column(&out, "prediction");
    let y_pred = f64_column(&out, "y_pred");
    let prob = vector_rows(&out, "probability");
    let cols = ["cat_vec", "features", "scaled"];
    let stored: Vec<Vec<String>> = cols.iter().map(|c| stored_rows(&out, c)).collect();
    let mut csv = String::from("id,prediction,y_pred,probability,cat_vec,features,scaled\n");
    for r in 0..ids.len() {
        let p: Vec<String> = prob[r].iter().map(|x| format!("{x:?}")).collect();
        write!(
            csv,
            "{},{:?},{:?},{}",
            ids[r] as i64,
            pred[r],
            y_pred[r],
            p.join(";")
        )
        .unwrap();
        for s in &stored {
            write!(csv, ",{}", s[r]).unwrap();
        }
        csv.push('\n');
    }
    std::fs::write(dir.path().join("mlpipe.csv"), csv).unwrap();
    run_pyspark_check("check_sparse_roundtrip.py", &[&dir.path(), &&input]);
}
