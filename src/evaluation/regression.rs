//! [`RegressionEvaluator`] and [`RegressionMetrics`].

use serde::{Deserialize, Serialize};

use super::read_scored;
use crate::error::Result;
use crate::frame::DataFrame;
use crate::param::Params;
use crate::pipeline::Evaluator;

super::metric_enum! {
    /// Spark's `metricName` for [`RegressionEvaluator`].
    ///
    /// ```
    /// use mlpipe::evaluation::RegressionMetric;
    /// assert_eq!(RegressionMetric::Rmse.name(), "rmse");
    /// assert!(!RegressionMetric::Rmse.is_larger_better() && RegressionMetric::R2.is_larger_better());
    /// let err = "RMSE".parse::<RegressionMetric>().unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "RegressionEvaluator: parameter `metricName` must be one of \
    ///      [\"rmse\", \"mse\", \"r2\", \"mae\", \"var\"], got \"RMSE\""
    /// );
    /// ```
    RegressionMetric for "RegressionEvaluator", default Rmse {
        /// Root mean squared error (default).
        Rmse = "rmse", larger_better: false;
        /// Mean squared error.
        Mse = "mse", larger_better: false;
        /// Coefficient of determination R².
        R2 = "r2", larger_better: true;
        /// Mean absolute error.
        Mae = "mae", larger_better: false;
        /// Explained variance.
        Var = "var", larger_better: true;
    }
}

/// Params of [`RegressionEvaluator`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RegressionEvaluatorParams {
    /// `rmse` (default), `mse`, `r2`, `mae` or `var`.
    pub metric_name: RegressionMetric,
    /// r2 for a model fitted through the origin. Default false.
    pub through_origin: bool,
    /// Default `"prediction"`.
    pub prediction_col: String,
    /// Default `"label"`.
    pub label_col: String,
    /// Optional weight column.
    pub weight_col: Option<String>,
}

impl Default for RegressionEvaluatorParams {
    fn default() -> Self {
        Self {
            metric_name: RegressionMetric::Rmse,
            through_origin: false,
            prediction_col: "prediction".into(),
            label_col: "label".into(),
            weight_col: None,
        }
    }
}

impl Params for RegressionEvaluatorParams {
    const STAGE: &'static str = "RegressionEvaluator";
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Spark's `RegressionEvaluator`.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::evaluation::{RegressionEvaluator, RegressionMetric};
/// let b = RecordBatch::try_from_iter([
///     ("prediction", Arc::new(Float64Array::from(vec![1.0, 2.0, 4.0])) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![1.0, 3.0, 4.0])) as ArrayRef),
/// ]).unwrap();
/// let df = DataFrame::from_batches(vec![b]).unwrap();
/// let mse = RegressionEvaluator::new().with_metric(RegressionMetric::Mse).evaluate(&df).unwrap();
/// assert!((mse - 1.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Clone, Debug)]
pub struct RegressionEvaluator {
    uid: String,
    params: RegressionEvaluatorParams,
}

super::evaluator_persist!(RegressionEvaluator, RegressionEvaluatorParams);

impl RegressionEvaluator {
    /// An evaluator with Spark's defaults (rmse).
    pub fn new() -> Self {
        Self::default()
    }
    super::evaluator_params!(RegressionEvaluatorParams);
    /// The metric; default [`RegressionMetric::Rmse`]. By Spark's name:
    /// `with_metric("r2".parse()?)` or `set_param("metricName", json!("r2"))`.
    pub fn with_metric(mut self, m: RegressionMetric) -> Self {
        self.params.metric_name = m;
        self
    }
    /// r2 through the origin.
    pub fn with_through_origin(mut self, v: bool) -> Self {
        self.params.through_origin = v;
        self
    }
    /// Prediction column.
    pub fn with_prediction_col(mut self, c: &str) -> Self {
        self.params.prediction_col = c.into();
        self
    }
    /// Label column.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Weight column.
    pub fn with_weight_col(mut self, c: &str) -> Self {
        self.params.weight_col = Some(c.into());
        self
    }

    /// All regression metrics of `df`.
    pub fn metrics(&self, df: &DataFrame) -> Result<RegressionMetrics> {
        let stage = RegressionEvaluatorParams::STAGE;
        let p = &self.params;
        p.validate()?;
        let d = read_scored(
            df,
            stage,
            &p.prediction_col,
            None,
            &p.label_col,
            p.weight_col.as_deref(),
        )?;
        let d = &d;
        let rows = || {
            d.preds
                .iter()
                .zip(&d.labels)
                .enumerate()
                .flat_map(move |(pi, (ps, ls))| {
                    ps.iter()
                        .zip(ls.iter())
                        .enumerate()
                        .map(move |(r, (yhat, y))| (*y, *yhat, d.weight(pi, r)))
                })
        };
        Ok(RegressionMetrics::from_rows(rows, p.through_origin))
    }
}

impl Evaluator for RegressionEvaluator {
    fn persistable(&self) -> Option<&dyn crate::persist::Persist> {
        Some(self)
    }
    fn input_columns(&self) -> Option<Vec<String>> {
        let p = &self.params;
        let cols = [&p.prediction_col, &p.label_col]
            .into_iter()
            .chain(p.weight_col.as_ref());
        Some(cols.cloned().collect())
    }
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        let m = self.metrics(df)?;
        Ok(match self.params.metric_name {
            RegressionMetric::Rmse => m.root_mean_squared_error,
            RegressionMetric::Mse => m.mean_squared_error,
            RegressionMetric::R2 => m.r2,
            RegressionMetric::Mae => m.mean_absolute_error,
            RegressionMetric::Var => m.explained_variance,
        })
    }
    fn is_larger_better(&self) -> bool {
        self.params.metric_name.is_larger_better()
    }
}

/// Spark's `RegressionMetrics` (weighted).
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionMetrics {
    /// Σw(y−ŷ)²/W.
    pub mean_squared_error: f64,
    /// √mse.
    pub root_mean_squared_error: f64,
    /// Σw|y−ŷ|/W.
    pub mean_absolute_error: f64,
    /// 1 − SSerr/SStot (through the origin: 1 − SSerr/Σwy²).
    pub r2: f64,
    /// Σw(ŷ−ȳ)²/W.
    pub explained_variance: f64,
}

impl RegressionMetrics {
    /// Metrics of `(label, prediction, weight)` rows.
    pub fn new(rows: &[(f64, f64, f64)], through_origin: bool) -> Self {
        Self::from_rows(|| rows.iter().copied(), through_origin)
    }

    /// Metrics of the `(label, prediction, weight)` rows `rows()` yields, in two passes:
    /// the sums, then the squared deviations from the weighted label mean.
    fn from_rows<I: Iterator<Item = (f64, f64, f64)>>(
        rows: impl Fn() -> I,
        through_origin: bool,
    ) -> Self {
        let (mut w, mut w2, mut wy, mut sserr, mut abs, mut y2) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for (y, yhat, wt) in rows() {
            w += wt;
            w2 += wt * wt;
            wy += wt * y;
            sserr += wt * (y - yhat).powi(2);
            abs += wt * (y - yhat).abs();
            y2 += wt * y * y;
        }
        let ymean = wy / w;
        let (mut m2, mut ssreg) = (0.0, 0.0);
        for (y, yhat, wt) in rows() {
            m2 += wt * (y - ymean).powi(2);
            ssreg += wt * (yhat - ymean).powi(2);
        }
        // Spark: SStot = unbiased weighted variance of y times (W − 1).
        let denom = w - w2 / w;
        let sstot = if denom > 0.0 {
            m2 / denom * (w - 1.0)
        } else {
            0.0
        };
        let mse = sserr / w;
        Self {
            mean_squared_error: mse,
            root_mean_squared_error: mse.sqrt(),
            mean_absolute_error: abs / w,
            r2: if through_origin {
                1.0 - sserr / y2
            } else {
                1.0 - sserr / sstot
            },
            explained_variance: ssreg / w,
        }
    }
}
