//! [`MulticlassClassificationEvaluator`] and [`MulticlassMetrics`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{read_scored, score_values};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_at_least, Params};
use crate::pipeline::Evaluator;

/// A class value with a total order (for map keys).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Class(f64);
impl Eq for Class {}
impl PartialOrd for Class {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Class {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}

super::metric_enum! {
    /// Spark's `metricName` for [`MulticlassClassificationEvaluator`].
    ///
    /// ```
    /// use mlpipe::evaluation::MulticlassMetric;
    /// assert_eq!(MulticlassMetric::default(), MulticlassMetric::F1);
    /// assert_eq!(MulticlassMetric::WeightedFMeasure.name(), "weightedFMeasure");
    /// assert!(!MulticlassMetric::LogLoss.is_larger_better());
    /// let err = "f2".parse::<MulticlassMetric>().unwrap_err().to_string();
    /// assert!(err.contains(r#"must be one of ["f1", "accuracy", "weightedPrecision""#), "{err}");
    /// ```
    MulticlassMetric for "MulticlassClassificationEvaluator", default F1 {
        /// Label-frequency-weighted F1 (default).
        F1 = "f1", larger_better: true;
        /// Share of correct predictions.
        Accuracy = "accuracy", larger_better: true;
        /// Label-frequency-weighted precision.
        WeightedPrecision = "weightedPrecision", larger_better: true;
        /// Label-frequency-weighted recall.
        WeightedRecall = "weightedRecall", larger_better: true;
        /// Label-frequency-weighted true positive rate (equals the weighted recall).
        WeightedTruePositiveRate = "weightedTruePositiveRate", larger_better: true;
        /// Label-frequency-weighted false positive rate.
        WeightedFalsePositiveRate = "weightedFalsePositiveRate", larger_better: false;
        /// Label-frequency-weighted F-measure with the evaluator's β.
        WeightedFMeasure = "weightedFMeasure", larger_better: true;
        /// True positive rate of the class `metricLabel`.
        TruePositiveRateByLabel = "truePositiveRateByLabel", larger_better: true;
        /// False positive rate of the class `metricLabel`.
        FalsePositiveRateByLabel = "falsePositiveRateByLabel", larger_better: false;
        /// Precision of the class `metricLabel`.
        PrecisionByLabel = "precisionByLabel", larger_better: true;
        /// Recall of the class `metricLabel`.
        RecallByLabel = "recallByLabel", larger_better: true;
        /// F-measure (with β) of the class `metricLabel`.
        FMeasureByLabel = "fMeasureByLabel", larger_better: true;
        /// Weighted log loss of the probability column.
        LogLoss = "logLoss", larger_better: false;
        /// Weighted share of wrong predictions.
        HammingLoss = "hammingLoss", larger_better: false;
    }
}

/// Params of [`MulticlassClassificationEvaluator`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MulticlassEvaluatorParams {
    /// The metric (Spark's names): `f1` (default), `accuracy`, `weightedPrecision`,
    /// `weightedRecall`, `weightedTruePositiveRate`, `weightedFalsePositiveRate`,
    /// `weightedFMeasure`, `truePositiveRateByLabel`, `falsePositiveRateByLabel`,
    /// `precisionByLabel`, `recallByLabel`, `fMeasureByLabel`, `logLoss`, `hammingLoss`.
    pub metric_name: MulticlassMetric,
    /// The class for the `*ByLabel` metrics. Default 0.
    pub metric_label: f64,
    /// β of the F-measures. Default 1.
    pub beta: f64,
    /// Probability clipping for logLoss, in (0, 0.5). Default 1e-15.
    pub eps: f64,
    /// Default `"prediction"`.
    pub prediction_col: String,
    /// Default `"label"`.
    pub label_col: String,
    /// Optional weight column.
    pub weight_col: Option<String>,
    /// Probability vector column, for logLoss. Default `"probability"`.
    pub probability_col: String,
}

impl Default for MulticlassEvaluatorParams {
    fn default() -> Self {
        Self {
            metric_name: MulticlassMetric::F1,
            metric_label: 0.0,
            beta: 1.0,
            eps: 1e-15,
            prediction_col: "prediction".into(),
            label_col: "label".into(),
            weight_col: None,
            probability_col: "probability".into(),
        }
    }
}

/// Spark's metric names, in its order (the names of [`MulticlassMetric::ALL`]).
pub const MULTICLASS_METRICS: [&str; 14] = [
    "f1",
    "accuracy",
    "weightedPrecision",
    "weightedRecall",
    "weightedTruePositiveRate",
    "weightedFalsePositiveRate",
    "weightedFMeasure",
    "truePositiveRateByLabel",
    "falsePositiveRateByLabel",
    "precisionByLabel",
    "recallByLabel",
    "fMeasureByLabel",
    "logLoss",
    "hammingLoss",
];

impl Params for MulticlassEvaluatorParams {
    const STAGE: &'static str = "MulticlassClassificationEvaluator";
    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        check_at_least(s, "metricLabel", self.metric_label, 0.0)?;
        if self.beta.is_nan() || self.beta <= 0.0 {
            return Err(Error::param(s, "beta", "> 0", self.beta));
        }
        if self.eps.is_nan() || self.eps <= 0.0 || self.eps >= 0.5 {
            return Err(Error::param(s, "eps", "in (0, 0.5)", self.eps));
        }
        Ok(())
    }
}

/// Spark's `MulticlassClassificationEvaluator`.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::evaluation::{MulticlassClassificationEvaluator, MulticlassMetric};
/// let b = RecordBatch::try_from_iter([
///     ("prediction", Arc::new(Float64Array::from(vec![0.0, 1.0, 1.0, 2.0])) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![0.0, 1.0, 2.0, 2.0])) as ArrayRef),
/// ]).unwrap();
/// let df = DataFrame::from_batches(vec![b]).unwrap();
/// let acc = MulticlassClassificationEvaluator::new()
///     .with_metric(MulticlassMetric::Accuracy)
///     .evaluate(&df)
///     .unwrap();
/// assert_eq!(acc, 0.75);
/// ```
#[derive(Clone, Debug)]
pub struct MulticlassClassificationEvaluator {
    uid: String,
    params: MulticlassEvaluatorParams,
}

super::evaluator_persist!(MulticlassClassificationEvaluator, MulticlassEvaluatorParams);

impl MulticlassClassificationEvaluator {
    /// An evaluator with Spark's defaults (metric f1).
    pub fn new() -> Self {
        Self::default()
    }
    super::evaluator_params!(MulticlassEvaluatorParams);
    /// The metric; default [`MulticlassMetric::F1`]. By Spark's name:
    /// `with_metric("accuracy".parse()?)` or `set_param("metricName", json!("accuracy"))`.
    pub fn with_metric(mut self, m: MulticlassMetric) -> Self {
        self.params.metric_name = m;
        self
    }
    /// The class for `*ByLabel` metrics.
    pub fn with_metric_label(mut self, l: f64) -> Self {
        self.params.metric_label = l;
        self
    }
    /// β of the F-measures.
    pub fn with_beta(mut self, b: f64) -> Self {
        self.params.beta = b;
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
    /// Probability column (for logLoss).
    pub fn with_probability_col(mut self, c: &str) -> Self {
        self.params.probability_col = c.into();
        self
    }

    /// The metrics of `df` (the probability column is read only if present).
    pub fn metrics(&self, df: &DataFrame) -> Result<MulticlassMetrics> {
        let stage = MulticlassEvaluatorParams::STAGE;
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
        let mut m = MulticlassMetrics::default();
        let want_logloss = p.metric_name == MulticlassMetric::LogLoss;
        let probs = if want_logloss {
            let (_, f) = schema::require_column(df.schema(), stage, &p.probability_col)?;
            let k = vector::field_vector_size(f).ok_or_else(|| Error::ColumnType {
                stage,
                column: p.probability_col.clone(),
                expected: "a probability vector column".into(),
                found: f.data_type().clone(),
            })?;
            Some(
                (0..k)
                    .map(|c| score_values(df, stage, &p.probability_col, c))
                    .collect::<Result<Vec<_>>>()?,
            )
        } else {
            None
        };
        let mut logloss = 0.0;
        for (pi, (ps, ls)) in d.preds.iter().zip(&d.labels).enumerate() {
            for r in 0..ps.len() {
                let w = d.weight(pi, r);
                m.add(ls[r], ps[r], w);
                if let Some(probs) = &probs {
                    let y = ls[r];
                    if !(y >= 0.0 && y.fract() == 0.0 && (y as usize) < probs.len()) {
                        return Err(Error::InvalidValue {
                            stage,
                            column: p.label_col.clone(),
                            partition: pi,
                            row: r,
                            what: format!("label {y}"),
                            hint: format!(
                                "logLoss needs labels that index the probability vector (0..{})",
                                probs.len() - 1
                            ),
                        });
                    }
                    let pr = probs[y as usize][pi][r];
                    let l = if pr < p.eps {
                        -p.eps.ln()
                    } else if pr > 1.0 - p.eps {
                        -(-p.eps).ln_1p()
                    } else {
                        -pr.ln()
                    };
                    logloss += w * l;
                }
            }
        }
        if probs.is_some() {
            m.log_loss = Some(logloss / m.total);
        }
        Ok(m)
    }
}

impl Evaluator for MulticlassClassificationEvaluator {
    fn persistable(&self) -> Option<&dyn crate::persist::Persist> {
        Some(self)
    }
    fn input_columns(&self) -> Option<Vec<String>> {
        let p = &self.params;
        let cols = [&p.prediction_col, &p.label_col, &p.probability_col]
            .into_iter()
            .chain(p.weight_col.as_ref());
        Some(cols.cloned().collect())
    }
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        let m = self.metrics(df)?;
        let p = &self.params;
        let label = p.metric_label;
        let by_label = |f: fn(&MulticlassMetrics, f64) -> Option<f64>| {
            f(&m, label).ok_or_else(|| {
                Error::param(
                    MulticlassEvaluatorParams::STAGE,
                    "metricLabel",
                    format!("a label that occurs in the data ({:?})", m.labels()),
                    label,
                )
            })
        };
        use MulticlassMetric as M;
        Ok(match p.metric_name {
            M::F1 => m.weighted_f_measure(1.0),
            M::Accuracy => m.accuracy(),
            M::WeightedPrecision => m.weighted_precision(),
            M::WeightedRecall | M::WeightedTruePositiveRate => m.weighted_recall(),
            M::WeightedFalsePositiveRate => m.weighted_false_positive_rate(),
            M::WeightedFMeasure => m.weighted_f_measure(p.beta),
            M::TruePositiveRateByLabel | M::RecallByLabel => by_label(MulticlassMetrics::recall)?,
            M::FalsePositiveRateByLabel => by_label(MulticlassMetrics::false_positive_rate)?,
            M::PrecisionByLabel => by_label(MulticlassMetrics::precision)?,
            M::FMeasureByLabel => {
                let b = p.beta;
                m.f_measure(label, b).ok_or_else(|| {
                    Error::param(
                        MulticlassEvaluatorParams::STAGE,
                        "metricLabel",
                        "a label that occurs in the data",
                        label,
                    )
                })?
            }
            M::LogLoss => m.log_loss.unwrap_or(f64::NAN),
            M::HammingLoss => m.hamming_loss(),
        })
    }
    fn is_larger_better(&self) -> bool {
        self.params.metric_name.is_larger_better()
    }
}

/// Spark's `MulticlassMetrics`: weighted confusion counts and the metrics derived from
/// them. Averages run over the classes that occur as true labels.
#[derive(Clone, Debug, Default)]
pub struct MulticlassMetrics {
    confusion: BTreeMap<(Class, Class), f64>,
    label_count: BTreeMap<Class, f64>,
    predicted_fp: BTreeMap<Class, f64>,
    total: f64,
    mismatched: f64,
    log_loss: Option<f64>,
}

impl MulticlassMetrics {
    fn add(&mut self, label: f64, pred: f64, w: f64) {
        *self
            .confusion
            .entry((Class(label), Class(pred)))
            .or_default() += w;
        *self.label_count.entry(Class(label)).or_default() += w;
        if label != pred {
            *self.predicted_fp.entry(Class(pred)).or_default() += w;
            self.mismatched += w;
        }
        self.total += w;
    }

    /// The distinct true labels, ascending.
    pub fn labels(&self) -> Vec<f64> {
        self.label_count.keys().map(|c| c.0).collect()
    }

    fn tp(&self, c: f64) -> f64 {
        self.confusion
            .get(&(Class(c), Class(c)))
            .copied()
            .unwrap_or(0.0)
    }

    fn fp(&self, c: f64) -> f64 {
        self.predicted_fp.get(&Class(c)).copied().unwrap_or(0.0)
    }

    /// Precision of class `c` (`None` if `c` is not a true label).
    pub fn precision(&self, c: f64) -> Option<f64> {
        self.label_count.get(&Class(c))?;
        let (tp, fp) = (self.tp(c), self.fp(c));
        Some(if tp + fp == 0.0 { 0.0 } else { tp / (tp + fp) })
    }

    /// Recall (true positive rate) of class `c`.
    pub fn recall(&self, c: f64) -> Option<f64> {
        let n = self.label_count.get(&Class(c))?;
        Some(self.tp(c) / n)
    }

    /// False positive rate of class `c`.
    pub fn false_positive_rate(&self, c: f64) -> Option<f64> {
        let n = self.label_count.get(&Class(c))?;
        Some(self.fp(c) / (self.total - n))
    }

    /// F-measure of class `c`.
    pub fn f_measure(&self, c: f64, beta: f64) -> Option<f64> {
        let (p, r) = (self.precision(c)?, self.recall(c)?);
        let b2 = beta * beta;
        Some(if p + r == 0.0 {
            0.0
        } else {
            (1.0 + b2) * p * r / (b2 * p + r)
        })
    }

    fn weighted(&self, f: impl Fn(f64) -> Option<f64>) -> f64 {
        self.label_count
            .iter()
            .map(|(c, n)| f(c.0).unwrap_or(0.0) * n / self.total)
            .sum()
    }

    /// Accuracy.
    pub fn accuracy(&self) -> f64 {
        self.label_count.keys().map(|c| self.tp(c.0)).sum::<f64>() / self.total
    }
    /// Label-frequency-weighted precision.
    pub fn weighted_precision(&self) -> f64 {
        self.weighted(|c| self.precision(c))
    }
    /// Label-frequency-weighted recall (= weighted true positive rate).
    pub fn weighted_recall(&self) -> f64 {
        self.weighted(|c| self.recall(c))
    }
    /// Label-frequency-weighted false positive rate.
    pub fn weighted_false_positive_rate(&self) -> f64 {
        self.weighted(|c| self.false_positive_rate(c))
    }
    /// Label-frequency-weighted F-measure (`f1` is β = 1).
    pub fn weighted_f_measure(&self, beta: f64) -> f64 {
        self.weighted(|c| self.f_measure(c, beta))
    }
    /// Weighted share of mismatches.
    pub fn hamming_loss(&self) -> f64 {
        self.mismatched / self.total
    }
    /// Log loss, when computed from a probability column.
    pub fn log_loss(&self) -> Option<f64> {
        self.log_loss
    }
    /// The confusion matrix: rows are true labels, columns predicted labels, both in
    /// [`labels`](Self::labels) order.
    pub fn confusion_matrix(&self) -> Vec<Vec<f64>> {
        let labels = self.labels();
        labels
            .iter()
            .map(|l| {
                labels
                    .iter()
                    .map(|p| {
                        self.confusion
                            .get(&(Class(*l), Class(*p)))
                            .copied()
                            .unwrap_or(0.0)
                    })
                    .collect()
            })
            .collect()
    }
}
