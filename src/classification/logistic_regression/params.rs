//! [`LogisticRegressionParams`] and [`Family`].

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::param::{check_at_least, check_in_range, Params};
use crate::persist::{Matrix, Vector};

/// Spark's `family`: which model to fit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Binomial for 1 or 2 classes, multinomial for more (Spark's default).
    #[default]
    Auto,
    /// Binary logistic regression (1 or 2 classes only).
    Binomial,
    /// Softmax regression with one coefficient set per class.
    Multinomial,
}

impl Family {
    /// Spark's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Auto => "auto",
            Family::Binomial => "binomial",
            Family::Multinomial => "multinomial",
        }
    }
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Family {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // Spark accepts any case.
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Family::Auto),
            "binomial" => Ok(Family::Binomial),
            "multinomial" => Ok(Family::Multinomial),
            _ => Err(serde::de::Error::custom(format!(
                "unknown family {s:?}; expected \"auto\", \"binomial\" or \"multinomial\""
            ))),
        }
    }
}

/// Params of [`LogisticRegression`](super::LogisticRegression) and its model. JSON names
/// and defaults are those of Spark 4.3's `LogisticRegression`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LogisticRegressionParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Label column: class indices 0..k-1. Default `"label"`.
    pub label_col: String,
    /// Instance weight column; `None` (or `""`) gives every row weight 1. Default `None`.
    pub weight_col: Option<String>,
    /// Predicted class column (`""` disables it). Default `"prediction"`.
    pub prediction_col: String,
    /// Class probability vector column (`""` disables it). Default `"probability"`.
    pub probability_col: String,
    /// Raw margin vector column (`""` disables it). Default `"rawPrediction"`.
    pub raw_prediction_col: String,
    /// Maximum number of optimiser iterations (>= 0). Default 100.
    pub max_iter: usize,
    /// Regularisation strength λ (>= 0). Default 0.
    pub reg_param: f64,
    /// Elastic-net mix α in [0, 1]: 0 is L2, 1 is L1. Default 0.
    pub elastic_net_param: f64,
    /// Convergence tolerance (>= 0). Default 1e-6.
    pub tol: f64,
    /// Fit intercepts. Default true.
    pub fit_intercept: bool,
    /// Penalise coefficients in the standardised space. Default true.
    pub standardization: bool,
    /// Binary decision threshold on P(class 1), in [0, 1]. Default 0.5.
    pub threshold: f64,
    /// Per-class thresholds (`argmax p_i / t_i`); when set they take precedence over
    /// `threshold`. Default `None`.
    pub thresholds: Option<Vec<f64>>,
    /// `auto`, `binomial` or `multinomial`. Default `auto`.
    pub family: Family,
    /// Lower bounds on the coefficients, in the original feature space: a 1 × F matrix for
    /// binomial, K × F for multinomial; `-inf` entries leave a coefficient unbounded below.
    /// Setting any bound switches the optimiser to L-BFGS-B, which needs
    /// `elasticNetParam = 0`. Default `None`.
    pub lower_bounds_on_coefficients: Option<Matrix>,
    /// Upper bounds on the coefficients, shaped as `lowerBoundsOnCoefficients`. Default
    /// `None`.
    pub upper_bounds_on_coefficients: Option<Matrix>,
    /// Lower bounds on the intercepts: 1 value for binomial, K for multinomial; needs
    /// `fitIntercept`. Default `None`.
    pub lower_bounds_on_intercepts: Option<Vector>,
    /// Upper bounds on the intercepts, shaped as `lowerBoundsOnIntercepts`. Default `None`.
    pub upper_bounds_on_intercepts: Option<Vector>,
    /// Spark's `treeAggregate` depth (>= 2); kept for file parity, no effect here.
    pub aggregation_depth: usize,
    /// Spark's block size for stacking rows; kept for file parity, no effect here.
    #[serde(rename = "maxBlockSizeInMB")]
    pub max_block_size_in_mb: f64,
}

impl Default for LogisticRegressionParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            weight_col: None,
            prediction_col: "prediction".into(),
            probability_col: "probability".into(),
            raw_prediction_col: "rawPrediction".into(),
            max_iter: 100,
            reg_param: 0.0,
            elastic_net_param: 0.0,
            tol: 1e-6,
            fit_intercept: true,
            standardization: true,
            threshold: 0.5,
            thresholds: None,
            family: Family::Auto,
            lower_bounds_on_coefficients: None,
            upper_bounds_on_coefficients: None,
            lower_bounds_on_intercepts: None,
            upper_bounds_on_intercepts: None,
            aggregation_depth: 2,
            max_block_size_in_mb: 0.0,
        }
    }
}

impl LogisticRegressionParams {
    /// The weight column, if one is set and non-empty.
    pub fn weight_col(&self) -> Option<&str> {
        self.weight_col.as_deref().filter(|s| !s.is_empty())
    }

    /// Whether any bound is set (Spark's `usingBoundConstrainedOptimization`).
    pub fn has_bounds(&self) -> bool {
        self.lower_bounds_on_coefficients.is_some()
            || self.upper_bounds_on_coefficients.is_some()
            || self.lower_bounds_on_intercepts.is_some()
            || self.upper_bounds_on_intercepts.is_some()
    }

    /// The effective binary threshold: from `thresholds` `[t0, t1]` when set
    /// (`1 / (1 + t0/t1)`), else `threshold` (Spark's `getThreshold`).
    pub fn effective_threshold(&self) -> f64 {
        match &self.thresholds {
            Some(ts) if ts.len() == 2 => 1.0 / (1.0 + ts[0] / ts[1]),
            _ => self.threshold,
        }
    }
}

impl Params for LogisticRegressionParams {
    const STAGE: &'static str = "LogisticRegression";

    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        check_at_least(s, "regParam", self.reg_param, 0.0)?;
        check_in_range(s, "elasticNetParam", self.elastic_net_param, 0.0, 1.0)?;
        check_at_least(s, "tol", self.tol, 0.0)?;
        check_in_range(s, "threshold", self.threshold, 0.0, 1.0)?;
        if self.aggregation_depth < 2 {
            return Err(Error::param(
                s,
                "aggregationDepth",
                ">= 2",
                self.aggregation_depth,
            ));
        }
        check_at_least(s, "maxBlockSizeInMB", self.max_block_size_in_mb, 0.0)?;
        if let Some(ts) = &self.thresholds {
            let zeros = ts.iter().filter(|t| **t == 0.0).count();
            if ts.is_empty() || ts.iter().any(|t| t.is_nan() || *t < 0.0) || zeros > 1 {
                return Err(Error::param(
                    s,
                    "thresholds",
                    "a non-empty list of values >= 0 with at most one 0",
                    format!("{ts:?}"),
                ));
            }
        }
        if self.has_bounds() && self.elastic_net_param != 0.0 {
            return Err(Error::param(
                s,
                "elasticNetParam",
                "0 when bounds are set (bound-constrained fitting supports L2 regularisation only)",
                self.elastic_net_param,
            ));
        }
        if !self.fit_intercept
            && (self.lower_bounds_on_intercepts.is_some()
                || self.upper_bounds_on_intercepts.is_some())
        {
            return Err(Error::param(
                s,
                "lowerBoundsOnIntercepts/upperBoundsOnIntercepts",
                "unset when fitIntercept is false (there is no intercept to bound)",
                "bounds on intercepts",
            ));
        }
        for (name, m) in [
            (
                "lowerBoundsOnCoefficients",
                &self.lower_bounds_on_coefficients,
            ),
            (
                "upperBoundsOnCoefficients",
                &self.upper_bounds_on_coefficients,
            ),
        ] {
            if let Some(m) = m {
                if m.num_rows.checked_mul(m.num_cols) != Some(m.values.len()) {
                    return Err(Error::param(
                        s,
                        name,
                        format!("a {}x{} matrix with as many values", m.num_rows, m.num_cols),
                        format!("{} values", m.values.len()),
                    ));
                }
            }
        }
        for (name, col) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
        ] {
            if col.is_empty() {
                return Err(Error::param(s, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}
