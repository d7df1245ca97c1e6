//! [`RegressionEvaluator`] and [`RegressionMetrics`].

use serde::{Deserialize, Serialize};

use super::{check_columns, numeric_values, require_rows, weight_values};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::param::Params;
use crate::pipeline::Evaluator;

/// Params of [`RegressionEvaluator`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RegressionEvaluatorParams {
    /// `rmse` (default), `mse`, `r2`, `mae` or `var`.
    pub metric_name: String,
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
            metric_name: "rmse".into(),
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
        const NAMES: [&str; 5] = ["rmse", "mse", "r2", "mae", "var"];
        if !NAMES.contains(&self.metric_name.as_str()) {
            return Err(Error::param(
                Self::STAGE,
                "metricName",
                format!("one of {NAMES:?}"),
                format!("{:?}", self.metric_name),
            ));
        }
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
/// use mlpipe::evaluation::RegressionEvaluator;
/// let b = RecordBatch::try_from_iter([
///     ("prediction", Arc::new(Float64Array::from(vec![1.0, 2.0, 4.0])) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![1.0, 3.0, 4.0])) as ArrayRef),
/// ]).unwrap();
/// let df = DataFrame::from_batches(vec![b]).unwrap();
/// let mse = RegressionEvaluator::new().with_metric("mse").evaluate(&df).unwrap();
/// assert!((mse - 1.0 / 3.0).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, Default)]
pub struct RegressionEvaluator {
    params: RegressionEvaluatorParams,
}

impl RegressionEvaluator {
    /// An evaluator with Spark's defaults (rmse).
    pub fn new() -> Self {
        Self::default()
    }
    /// The params.
    pub fn params(&self) -> &RegressionEvaluatorParams {
        &self.params
    }
    /// The metric, by Spark's name.
    pub fn with_metric(mut self, m: &str) -> Self {
        self.params.metric_name = m.into();
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
        check_columns(
            df,
            stage,
            &[],
            &[&p.prediction_col, &p.label_col],
            p.weight_col.as_deref(),
        )?;
        require_rows(df, stage)?;
        let preds = numeric_values(df, stage, &p.prediction_col, "prediction")?;
        let labels = numeric_values(df, stage, &p.label_col, "label")?;
        let weights = weight_values(df, stage, p.weight_col.as_deref())?;
        let mut rows = Vec::with_capacity(df.num_rows());
        for (i, (ps, ls)) in preds.iter().zip(&labels).enumerate() {
            for r in 0..ps.len() {
                rows.push((ls[r], ps[r], weights.as_ref().map_or(1.0, |w| w[i][r])));
            }
        }
        Ok(RegressionMetrics::new(&rows, p.through_origin))
    }
}

impl Evaluator for RegressionEvaluator {
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        let m = self.metrics(df)?;
        Ok(match self.params.metric_name.as_str() {
            "rmse" => m.root_mean_squared_error,
            "mse" => m.mean_squared_error,
            "r2" => m.r2,
            "mae" => m.mean_absolute_error,
            _ => m.explained_variance,
        })
    }
    fn is_larger_better(&self) -> bool {
        matches!(self.params.metric_name.as_str(), "r2" | "var")
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
        let w: f64 = rows.iter().map(|r| r.2).sum();
        let w2: f64 = rows.iter().map(|r| r.2 * r.2).sum();
        let ymean = rows.iter().map(|r| r.2 * r.0).sum::<f64>() / w;
        let sserr: f64 = rows.iter().map(|r| r.2 * (r.0 - r.1).powi(2)).sum();
        let abs: f64 = rows.iter().map(|r| r.2 * (r.0 - r.1).abs()).sum();
        let m2: f64 = rows.iter().map(|r| r.2 * (r.0 - ymean).powi(2)).sum();
        let ssreg: f64 = rows.iter().map(|r| r.2 * (r.1 - ymean).powi(2)).sum();
        let y2: f64 = rows.iter().map(|r| r.2 * r.0 * r.0).sum();
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
