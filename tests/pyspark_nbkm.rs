//! NaiveBayes (bernoulli, complement, multinomial with thresholds), KMeans (weighted with
//! random init, cosine, weighted k-means||) and weighted silhouettes against PySpark 4.3.
//! Expected values: `tests/fixtures/pyspark_nbkm/expected.json`, written by
//! `tests/pyspark/make_nbkm_fixtures.py` (PySpark 4.3.0, local[2], data coalesced to one
//! partition, read in file order as here).

use crate::common;

use common::*;
use mlpipe::classification::{NaiveBayes, NaiveBayesParams};
use mlpipe::clustering::{KMeans, KMeansParams};
use mlpipe::evaluation::ClusteringEvaluator;
use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use serde_json::Value;

fn expected() -> Value {
    let p = format!(
        "{}/tests/fixtures/pyspark_nbkm/expected.json",
        repo_root().display()
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn csv(name: &str) -> DataFrame {
    let dir = if name.starts_with("synth_") {
        "spark2"
    } else {
        "pyspark_nbkm"
    };
    let p = format!("{}/tests/fixtures/{dir}/{name}", repo_root().display());
    DataFrame::read_csv(p, &CsvOptions::default()).unwrap()
}

fn assemble(df: &DataFrame, cols: &[String]) -> DataFrame {
    let refs: Vec<&str> = cols.iter().map(String::as_str).collect();
    VectorAssembler::new()
        .with_input_cols(&refs)
        .with_output_col("features")
        .transform(df)
        .unwrap()
}

/// Each value within `tol`, absolute or relative.
fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert!(
        approx::relative_eq!(got, want, epsilon = tol, max_relative = tol),
        "{what}: {got:?} vs PySpark {want:?}"
    );
}

/// `df` with its `features` stored sparse-capable, each row compressed by Spark's rule.
fn sparse_capable(df: &DataFrame) -> DataFrame {
    use mlpipe::frame::vector::{
        field_vector_size, sparse_vector_field, At, SparseVectorBuilder, VectorBlock,
    };
    let col = df.column("features").unwrap();
    let n = field_vector_size(&col.field).unwrap();
    let chunks = col
        .chunks
        .iter()
        .enumerate()
        .map(|(partition, c)| {
            let at = At {
                stage: "test",
                column: "features",
                partition,
            };
            let blk = VectorBlock::new(c.as_ref(), n, at).unwrap();
            let mut b = SparseVectorBuilder::new(n);
            for r in 0..blk.len() {
                b.push_compressed(blk.row(r).unwrap()).unwrap();
            }
            b.finish().unwrap()
        })
        .collect();
    let out = df
        .with_column(sparse_vector_field("features", n, true), chunks)
        .unwrap();
    let blk = |df: &DataFrame| df.column("features").unwrap().chunks[0].clone();
    assert!(mlpipe::frame::vector::is_sparse_vector_type(
        blk(&out).data_type()
    ));
    out
}

fn nb_case(name: &str) {
    let e = &expected()[name];
    let cols: Vec<String> = serde_json::from_value(e["features"].clone()).unwrap();
    let df = assemble(&csv(e["csv"].as_str().unwrap()), &cols);
    let mut params: NaiveBayesParams = serde_json::from_value(e["params"].clone()).unwrap();
    params.weight_col = Some("w".into());
    let nb = NaiveBayes::from_params("nb", params);
    let model = nb.fit(&df).unwrap();
    // The same rows stored as Spark stores them (each row dense or sparse, whichever is
    // smaller: the mixed column Binarizer writes) give the same model to the bit (their
    // sparse rows are summed from their stored values, no densified copy).
    let mixed = nb.fit(&sparse_capable(&df)).unwrap();
    let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(mixed.pi()), bits(model.pi()), "{name}: pi, mixed rows");
    assert_eq!(
        bits(mixed.theta()),
        bits(model.theta()),
        "{name}: theta, mixed rows"
    );
    // pi and theta to 1e-12 (the fidelity bar for NaiveBayes parameters).
    assert_close(model.pi(), &floats(&e["pi"]), 1e-12, "pi");
    let theta: Vec<f64> = e["theta"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_close(model.theta(), &theta, 1e-12, "theta");
    let out = model.transform(&df).unwrap();
    let ids = f64_column(&out, "id");
    let raw = vector_rows(&out, "rawPrediction");
    let prob = vector_rows(&out, "probability");
    let pred = f64_column(&out, "prediction");
    for row in e["rows"].as_array().unwrap() {
        let i = ids
            .iter()
            .position(|id| *id == row["id"].as_f64().unwrap())
            .unwrap();
        assert_close(&raw[i], &floats(&row["raw"]), 1e-9, "rawPrediction");
        assert_close(&prob[i], &floats(&row["probability"]), 1e-9, "probability");
        assert_eq!(pred[i], row["prediction"].as_f64().unwrap(), "id {i}");
    }
}

#[test]
fn bernoulli_weighted_labels_0_2_3_match_pyspark() {
    nb_case("nb_bernoulli");
}

#[test]
fn complement_weighted_matches_pyspark() {
    nb_case("nb_complement");
}

#[test]
fn multinomial_thresholds_match_pyspark() {
    nb_case("nb_multinomial_thresholds");
}

fn km_case(name: &str) {
    let e = &expected()[name];
    let df = assemble(
        &csv("blobs_weighted.csv"),
        &["x1".into(), "x2".into(), "x3".into()],
    );
    let params: KMeansParams = serde_json::from_value(e["params"].clone()).unwrap();
    let model = KMeans::from_params("km", params).fit(&df).unwrap();
    let want: Vec<Vec<f64>> = e["clusterCenters"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect();
    assert_eq!(model.cluster_centers().len(), want.len());
    for (c, w) in model.cluster_centers().iter().zip(&want) {
        assert_close(c, w, 1e-9, "centre");
    }
    let s = model.summary().unwrap();
    assert_close(
        &[s.training_cost],
        &[e["trainingCost"].as_f64().unwrap()],
        1e-9,
        "cost",
    );
    assert_eq!(s.num_iter as u64, e["numIter"].as_u64().unwrap());
    let sizes: Vec<u64> = serde_json::from_value(e["clusterSizes"].clone()).unwrap();
    assert_eq!(s.cluster_sizes, sizes);
    let out = model.transform(&df).unwrap();
    for (key, measure, weighted) in [
        ("squaredEuclidean", "squaredEuclidean", false),
        ("squaredEuclidean_weighted", "squaredEuclidean", true),
        ("cosine", "cosine", false),
        ("cosine_weighted", "cosine", true),
    ] {
        let mut ev = ClusteringEvaluator::new().with_distance_measure(measure);
        if weighted {
            ev = ev.with_weight_col("w");
        }
        let got = ev.evaluate(&out).unwrap();
        let want = e["silhouettes"][key].as_f64().unwrap();
        assert!(
            (got - want).abs() <= 1e-12,
            "{name} {key}: {got} vs PySpark {want}"
        );
    }
}

#[test]
fn kmeans_weighted_random_init_matches_pyspark() {
    km_case("kmeans_weighted_random");
}

#[test]
fn kmeans_cosine_matches_pyspark() {
    km_case("kmeans_cosine");
}

#[test]
fn kmeans_weighted_parallel_init_matches_pyspark() {
    km_case("kmeans_weighted_parallel");
}
