//! [`ClusteringEvaluator`]: the silhouette, with Spark's formulas.

use arrow::array::Array;
use serde::{Deserialize, Serialize};

use super::{check_columns, numeric_values, require_rows, weight_values};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::Evaluator;

super::metric_enum! {
    /// The metrics of [`ClusteringEvaluator`] (Spark's `metricName`): Spark has one.
    ///
    /// ```
    /// use mlpipe::evaluation::ClusteringMetric;
    /// assert_eq!("silhouette".parse::<ClusteringMetric>().unwrap(), ClusteringMetric::Silhouette);
    /// assert!("davies".parse::<ClusteringMetric>().is_err());
    /// ```
    ClusteringMetric for "ClusteringEvaluator", default Silhouette {
        /// The mean silhouette coefficient (Spark's default).
        Silhouette = "silhouette", larger_better: true;
    }
}

/// Params of [`ClusteringEvaluator`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ClusteringEvaluatorParams {
    /// The metric (Spark's `metricName`; `silhouette`, its only one, by default).
    pub metric_name: ClusteringMetric,
    /// `"squaredEuclidean"` (default) or `"cosine"`.
    pub distance_measure: String,
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Cluster id column (any numeric type). Default `"prediction"`.
    pub prediction_col: String,
    /// Optional weight column (finite, >= 0).
    pub weight_col: Option<String>,
}

impl Default for ClusteringEvaluatorParams {
    fn default() -> Self {
        Self {
            metric_name: ClusteringMetric::Silhouette,
            distance_measure: "squaredEuclidean".into(),
            features_col: "features".into(),
            prediction_col: "prediction".into(),
            weight_col: None,
        }
    }
}

impl Params for ClusteringEvaluatorParams {
    const STAGE: &'static str = "ClusteringEvaluator";
    fn validate(&self) -> Result<()> {
        if !["squaredEuclidean", "cosine"].contains(&self.distance_measure.as_str()) {
            return Err(Error::param(
                Self::STAGE,
                "distanceMeasure",
                "one of [\"squaredEuclidean\", \"cosine\"]",
                format!("{:?}", self.distance_measure),
            ));
        }
        Ok(())
    }
}

/// Spark's `ClusteringEvaluator`: the mean silhouette of a clustering.
///
/// With `squaredEuclidean` (the default) the silhouette is computed on **squared**
/// Euclidean distances, as Spark does (scikit-learn's default uses plain distances); with
/// `cosine` on `1 − cos`. Each point's mean distance to a cluster comes from per-cluster
/// sums in one pass (Spark's formulas), so the cost is linear in the rows. A point alone in
/// its cluster (by weight) scores 0; the result is `Σ w·s / Σ w`.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use arrow::array::{ArrayRef, Int32Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::evaluation::ClusteringEvaluator;
/// use mlpipe::frame::vector::vector_array;
/// let feats = vector_array(vec![0.0, 0.0, 0.0, 1.0, 10.0, 10.0, 10.0, 11.0], 2, None).unwrap();
/// let b = RecordBatch::try_from_iter([
///     ("features", Arc::new(feats) as ArrayRef),
///     ("prediction", Arc::new(Int32Array::from(vec![0, 0, 1, 1])) as ArrayRef),
/// ]).unwrap();
/// let df = DataFrame::from_batches(vec![b]).unwrap();
/// let s = ClusteringEvaluator::new().evaluate(&df).unwrap();
/// // By hand: a = 1 for every point (the squared distance to its partner); b, the mean
/// // squared distance to the other cluster, is 210.5 for (0,0) and (10,11) and 190.5 for
/// // (0,1) and (10,10). s = mean of 1 - a/b.
/// let want = 1.0 - (1.0 / 210.5 + 1.0 / 190.5) / 2.0;
/// assert!((s - want).abs() < 1e-12);
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`] / [`Error::ColumnType`] for the columns,
/// [`Error::InvalidValue`] for a null or non-finite feature, a null or NaN cluster id, a
/// bad weight, or a zero vector under `cosine`; [`Error::EmptyInput`] for no rows; and
/// [`Error::InvalidParam`] when fewer than two clusters are present (Spark: "Number of
/// clusters must be greater than one.").
#[derive(Clone, Debug)]
pub struct ClusteringEvaluator {
    uid: String,
    params: ClusteringEvaluatorParams,
}

super::evaluator_persist!(ClusteringEvaluator, ClusteringEvaluatorParams);

impl ClusteringEvaluator {
    /// An evaluator with Spark's defaults (silhouette, squaredEuclidean).
    pub fn new() -> Self {
        Self::default()
    }
    super::evaluator_params!(ClusteringEvaluatorParams);

    /// The metric (Spark has only the silhouette).
    pub fn with_metric(mut self, m: ClusteringMetric) -> Self {
        self.params.metric_name = m;
        self
    }

    /// `"squaredEuclidean"` or `"cosine"`.
    pub fn with_distance_measure(mut self, m: &str) -> Self {
        self.params.distance_measure = m.into();
        self
    }
    /// Feature vector column.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// Cluster id column.
    pub fn with_prediction_col(mut self, c: &str) -> Self {
        self.params.prediction_col = c.into();
        self
    }
    /// Weight column.
    pub fn with_weight_col(mut self, c: &str) -> Self {
        self.params.weight_col = Some(c.into());
        self
    }

    /// The silhouette of `df`.
    ///
    /// # Errors
    /// See [`ClusteringEvaluator`].
    pub fn silhouette(&self, df: &DataFrame) -> Result<f64> {
        let stage = ClusteringEvaluatorParams::STAGE;
        let p = &self.params;
        p.validate()?;
        let weight_col = p.weight_col.as_deref().filter(|w| !w.is_empty());
        check_columns(df, stage, &[], &[&p.prediction_col], weight_col)?;
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        require_rows(df, stage)?;
        let cosine = p.distance_measure == "cosine";
        let ids = numeric_values(df, stage, &p.prediction_col, "cluster id")?;
        let weights = weight_values(df, stage, weight_col)?;
        // Per row: the (normalised, for cosine) features and, for squaredEuclidean,
        // Spark's squared norm (the 2-norm squared: sqrt then square).
        let feats = vector::dense_chunks(df, stage, &p.features_col, n)?;
        let mut rows: Vec<(Vec<f64>, f64, f64, f64)> = Vec::with_capacity(df.num_rows());
        for (pi, a) in feats.iter().enumerate() {
            let arr = vector::as_vector(a.as_ref())?;
            let x = vector::dense_values(arr)?;
            for r in 0..arr.len() {
                let row = &x[r * n..(r + 1) * n];
                let bad = |what: String, hint: &str| Error::InvalidValue {
                    stage,
                    column: p.features_col.clone(),
                    partition: pi,
                    row: r,
                    what,
                    hint: hint.into(),
                };
                if arr.is_null(r) {
                    return Err(bad("null vector".into(), "drop such rows first"));
                }
                let norm = row.iter().fold(0.0, |s, v| s + v * v).sqrt();
                if !norm.is_finite() {
                    return Err(bad(
                        format!("vector {row:?}"),
                        "feature values must be finite",
                    ));
                }
                let w = weights.as_ref().map_or(1.0, |w| w[pi][r]);
                if cosine {
                    if norm == 0.0 {
                        return Err(bad(
                            "zero vector".into(),
                            "the cosine distance is not defined for zero-length vectors",
                        ));
                    }
                    let inv = 1.0 / norm;
                    rows.push((row.iter().map(|v| v * inv).collect(), 0.0, ids[pi][r], w));
                } else {
                    rows.push((row.to_vec(), norm.powi(2), ids[pi][r], w));
                }
            }
        }
        // Per-cluster sums in row order: Σw·x, Σw·‖x‖², Σw, keyed by cluster id.
        let mut keys: Vec<f64> = rows.iter().map(|r| r.2).collect();
        keys.sort_by(f64::total_cmp);
        keys.dedup();
        if keys.len() < 2 {
            return Err(Error::param(
                stage,
                "predictionCol",
                "a column with at least two distinct cluster ids (Spark: Number of clusters must be greater than one.)",
                format!("{} distinct id(s) in column `{}`", keys.len(), p.prediction_col),
            ));
        }
        let idx = |id: f64| keys.binary_search_by(|k| k.total_cmp(&id)).unwrap_or(0);
        let k = keys.len();
        let mut sum = vec![0.0; k * n];
        let mut sq = vec![0.0; k];
        let mut ws = vec![0.0; k];
        for (x, q, id, w) in &rows {
            let c = idx(*id);
            for (s, v) in sum[c * n..(c + 1) * n].iter_mut().zip(x) {
                *s += w * v;
            }
            sq[c] += q * w;
            ws[c] += w;
        }
        let dist = |x: &[f64], q: f64, c: usize| -> f64 {
            let d = x
                .iter()
                .zip(&sum[c * n..(c + 1) * n])
                .fold(0.0, |s, (a, b)| s + a * b);
            if cosine {
                1.0 - d / ws[c]
            } else {
                q + sq[c] / ws[c] - 2.0 * d / ws[c]
            }
        };
        let (mut num, mut den) = (0.0, 0.0);
        for (x, q, id, w) in &rows {
            let c = idx(*id);
            let s = if ws[c] == *w {
                0.0
            } else {
                let b = (0..k)
                    .filter(|&o| o != c)
                    .map(|o| dist(x, *q, o))
                    .fold(f64::INFINITY, f64::min);
                let a = dist(x, *q, c) * ws[c] / (ws[c] - w);
                if a < b {
                    1.0 - a / b
                } else if a > b {
                    b / a - 1.0
                } else {
                    0.0
                }
            };
            num += s * w;
            den += w;
        }
        Ok(num / den)
    }
}

impl Evaluator for ClusteringEvaluator {
    fn persistable(&self) -> Option<&dyn crate::persist::Persist> {
        Some(self)
    }
    fn input_columns(&self) -> Option<Vec<String>> {
        let p = &self.params;
        let cols = [&p.features_col, &p.prediction_col]
            .into_iter()
            .chain(p.weight_col.as_ref());
        Some(cols.cloned().collect())
    }
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        self.silhouette(df)
    }
    fn is_larger_better(&self) -> bool {
        self.params.metric_name.is_larger_better()
    }
}
