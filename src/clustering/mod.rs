//! Clustering: [`KMeans`] and [`KMeansModel`] (Spark's `org.apache.spark.ml.clustering`).

mod kmeans;

pub use kmeans::{KMeans, KMeansModel, KMeansParams, KMeansSummary, DEFAULT_SEED};
