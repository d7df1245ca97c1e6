//! PySpark 4.3 loads the KMeansModel, NaiveBayesModel and OneVsRestModel that mlpipe saved
//! and predicts what mlpipe predicted (same clusters and classes, raw and probability to
//! 1e-9). Ignored by a plain `cargo test` (needs PySpark; see tests/pyspark_roundtrip.rs).

use crate::common;

use std::fmt::Write as _;

use common::*;
use mlpipe::classification::{LogisticRegression, NaiveBayes, OneVsRest};
use mlpipe::clustering::KMeans;
use mlpipe::feature::VectorAssembler;
use mlpipe::persist::{save, Persist, SaveMode};
use mlpipe::prelude::*;

fn assemble(csv: &str, cols: &[&str]) -> DataFrame {
    VectorAssembler::new()
        .with_input_cols(cols)
        .with_output_col("features")
        .transform(&read2(csv))
        .unwrap()
}

fn write_case(
    dir: &std::path::Path,
    name: &str,
    model: &(impl Transformer + Persist),
    df: &DataFrame,
) {
    save(model, dir.join(name), SaveMode::ErrorIfExists).unwrap();
    let out = model.transform(df).unwrap();
    let ids = f64_column(&out, "id");
    let pred = f64_column(&out, "prediction");
    let vecs: Vec<(&str, Vec<Vec<f64>>)> = ["rawPrediction", "probability"]
        .into_iter()
        .filter(|c| out.schema().field_with_name(c).is_ok())
        .map(|c| (c, vector_rows(&out, c)))
        .collect();
    let mut csv = String::from("id,prediction");
    for (c, _) in &vecs {
        write!(csv, ",{c}").unwrap();
    }
    csv.push('\n');
    for r in 0..ids.len() {
        write!(csv, "{},{:?}", ids[r] as i64, pred[r]).unwrap();
        for (_, v) in &vecs {
            let s: Vec<String> = v[r].iter().map(|x| format!("{x:?}")).collect();
            write!(csv, ",{}", s.join(";")).unwrap();
        }
        csv.push('\n');
    }
    std::fs::write(dir.join(format!("{name}.csv")), csv).unwrap();
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_kmeans_naive_bayes_and_one_vs_rest() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let dir = tempfile::tempdir().unwrap();
    let blobs = assemble("synth_blobs_train.csv", &["x1", "x2", "x3"]);
    let km = KMeans::new().with_k(4).with_seed(3).fit(&blobs).unwrap();
    write_case(dir.path(), "kmeans", &km, &blobs);
    let counts = assemble(
        "synth_counts_train.csv",
        &["c1", "c2", "c3", "c4", "c5", "c6"],
    );
    let nb = NaiveBayes::new()
        .with_weight_col("w")
        .with_smoothing(0.5)
        .fit(&counts)
        .unwrap();
    write_case(dir.path(), "nb", &nb, &counts);
    let gauss = assemble("synth_gauss3_train.csv", &["x1", "x2", "x3", "x4"]);
    let ovr = OneVsRest::new(LogisticRegression::new().with_reg_param(0.01))
        .fit(&gauss)
        .unwrap();
    write_case(dir.path(), "ovr", &ovr, &gauss);
    run_pyspark_check("check_nbkm_roundtrip.py", &[&dir.path(), &spark2("")]);
}
