//! KMeans and ClusteringEvaluator against Spark 4.3 (`tests/fixtures/spark2`, copied from
//! the shared Spark 4.3.0 fixture set; see its README for how Spark made them).

use crate::common;

use approx::assert_relative_eq;
use common::*;
use mlpipe::clustering::KMeansModel;
use mlpipe::prelude::*;

fn centers_of(j: &serde_json::Value) -> Vec<Vec<f64>> {
    j["model"]["clusterCenters"]
        .as_array()
        .unwrap()
        .iter()
        .map(floats)
        .collect()
}

fn predictions(df: &DataFrame, col: &str) -> Vec<f64> {
    let c = df.column(col).unwrap();
    let mut out = Vec::new();
    for a in &c.chunks {
        let a = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64).unwrap();
        out.extend(f64_column_of(&a));
    }
    out
}

fn f64_column_of(a: &arrow::array::ArrayRef) -> Vec<f64> {
    use arrow::array::AsArray;
    a.as_primitive::<arrow::datatypes::Float64Type>()
        .values()
        .to_vec()
}

fn spark_predictions(case: &str) -> Vec<(i64, f64)> {
    let text = std::fs::read_to_string(spark2(&format!("{case}_predictions.csv"))).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let mut it = l.split(',');
            let id: i64 = it.next().unwrap().parse().unwrap();
            (id, it.next_back().unwrap().parse().unwrap())
        })
        .collect()
}

/// Refit from Spark's unfitted pipeline on the training CSV (one partition, file order):
/// same seed -> Spark's k-means|| centres, cost, iterations and cluster sizes.
#[test]
fn kmeans_blobs_refit_matches_spark() {
    let j = spark2_json("kmeans_blobs");
    let train = read2("synth_blobs_train.csv");
    assert_eq!(train.num_partitions(), 1);
    let pipeline = Pipeline::load(spark2("kmeans_blobs_pipeline_unfitted")).unwrap();
    let model = pipeline.fit(&train).unwrap();
    let km: &KMeansModel = model.stage_at(1).unwrap();
    let want = centers_of(&j);
    assert_eq!(km.cluster_centers().len(), want.len());
    for (c, w) in km.cluster_centers().iter().zip(&want) {
        for (a, b) in c.iter().zip(w) {
            assert_relative_eq!(*a, *b, max_relative = 1e-9, epsilon = 1e-9);
        }
    }
    let s = km.summary().unwrap();
    // Spark's trainingCost 2176.819029748707, numIter 15, clusterSizes [76, 94, 67, 83].
    assert_relative_eq!(
        s.training_cost,
        j["model"]["trainingCost"].as_f64().unwrap(),
        max_relative = 1e-9,
        epsilon = 1e-9
    );
    assert_eq!(s.num_iter as u64, j["model"]["numIter"].as_u64().unwrap());
    let sizes: Vec<u64> = j["model"]["clusterSizes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!(s.cluster_sizes, sizes);
}

/// The PySpark-saved PipelineModel loads and predicts Spark's cluster of every test row.
#[test]
fn kmeans_blobs_spark_model_predicts_like_spark() {
    let model = PipelineModel::load(spark2("kmeans_blobs_pipeline")).unwrap();
    let km: &KMeansModel = model.stage_at(1).unwrap();
    let j = spark2_json("kmeans_blobs");
    for (c, w) in km.cluster_centers().iter().zip(&centers_of(&j)) {
        assert_eq!(c, w, "loaded centres are Spark's doubles");
    }
    let test = read2("synth_blobs_test.csv");
    let out = model.transform(&test).unwrap();
    let ids = predictions(&out, "id");
    let preds = predictions(&out, "prediction");
    let want = spark_predictions("kmeans_blobs");
    let got: std::collections::HashMap<i64, f64> =
        ids.iter().map(|i| *i as i64).zip(preds).collect();
    assert_eq!(want.len(), got.len());
    for (id, p) in want {
        assert_eq!(got[&id], p, "row id {id}");
    }
}

/// Spark's ClusteringEvaluator values on Spark's own clusterings of the train and test
/// rows (`metrics_train` / `metrics_test` in kmeans_blobs.json), to 1e-12.
#[test]
fn silhouettes_match_spark() {
    use mlpipe::evaluation::ClusteringEvaluator;
    let j = spark2_json("kmeans_blobs");
    let model = PipelineModel::load(spark2("kmeans_blobs_pipeline")).unwrap();
    for (csv, key) in [
        ("synth_blobs_train.csv", "metrics_train"),
        ("synth_blobs_test.csv", "metrics_test"),
    ] {
        let out = model.transform(&read2(csv)).unwrap();
        for (measure, name) in [
            ("squaredEuclidean", "silhouette_squaredEuclidean"),
            ("cosine", "silhouette_cosine"),
        ] {
            let s = ClusteringEvaluator::new()
                .with_distance_measure(measure)
                .evaluate(&out)
                .unwrap();
            let want = j[key][name].as_f64().unwrap();
            assert!(
                (s - want).abs() <= 1e-12,
                "{csv} {measure}: {s} vs Spark {want}"
            );
        }
    }
}

#[test]
fn one_cluster_is_refused_with_sparks_reason() {
    use mlpipe::arrow::array::{ArrayRef, Int32Array, RecordBatch};
    use mlpipe::evaluation::ClusteringEvaluator;
    use std::sync::Arc;
    let feats = mlpipe::frame::vector::vector_array(vec![0.0, 1.0, 2.0, 3.0], 2, None).unwrap();
    let b = RecordBatch::try_from_iter([
        ("features", Arc::new(feats) as ArrayRef),
        (
            "prediction",
            Arc::new(Int32Array::from(vec![3, 3])) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    let e = ClusteringEvaluator::new()
        .evaluate(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "ClusteringEvaluator: parameter `predictionCol` must be a column with at least two distinct cluster ids (Spark: Number of clusters must be greater than one.), got 1 distinct id(s) in column `prediction`"
    );
}
