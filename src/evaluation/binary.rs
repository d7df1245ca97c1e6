//! [`BinaryClassificationEvaluator`] and [`BinaryClassificationMetrics`].

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::read_scored;
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::param::Params;
use crate::pipeline::Evaluator;

super::metric_enum! {
    /// Spark's `metricName` for [`BinaryClassificationEvaluator`].
    ///
    /// ```
    /// use mlpipe::evaluation::BinaryMetric;
    /// assert_eq!(BinaryMetric::AreaUnderPr.name(), "areaUnderPR");
    /// assert_eq!("areaUnderROC".parse::<BinaryMetric>().unwrap(), BinaryMetric::default());
    /// ```
    BinaryMetric for "BinaryClassificationEvaluator", default AreaUnderRoc {
        /// Area under the ROC curve (default).
        AreaUnderRoc = "areaUnderROC", larger_better: true;
        /// Area under the precision-recall curve.
        AreaUnderPr = "areaUnderPR", larger_better: true;
    }
}

/// Params of [`BinaryClassificationEvaluator`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BinaryEvaluatorParams {
    /// `areaUnderROC` (default) or `areaUnderPR`.
    pub metric_name: BinaryMetric,
    /// Score column: a vector (element 1 is the score) or a number. Default `"rawPrediction"`.
    pub raw_prediction_col: String,
    /// Label column; positive when > 0.5. Default `"label"`.
    pub label_col: String,
    /// Optional weight column.
    pub weight_col: Option<String>,
    /// Down-sampling of the curves to about this many points; 0 is exact. Default 1000.
    pub num_bins: usize,
}

impl Default for BinaryEvaluatorParams {
    fn default() -> Self {
        Self {
            metric_name: BinaryMetric::AreaUnderRoc,
            raw_prediction_col: "rawPrediction".into(),
            label_col: "label".into(),
            weight_col: None,
            num_bins: 1000,
        }
    }
}

impl Params for BinaryEvaluatorParams {
    const STAGE: &'static str = "BinaryClassificationEvaluator";
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

/// Spark's `BinaryClassificationEvaluator`: areaUnderROC or areaUnderPR of a score column.
///
/// # Examples
/// ```
/// # use std::sync::Arc;
/// # use arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::evaluation::BinaryClassificationEvaluator;
/// let b = RecordBatch::try_from_iter([
///     ("score", Arc::new(Float64Array::from(vec![0.9, 0.8, 0.3, 0.1])) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![1.0, 0.0, 1.0, 0.0])) as ArrayRef),
/// ]).unwrap();
/// let df = DataFrame::from_batches(vec![b]).unwrap();
/// let auc = BinaryClassificationEvaluator::new().with_raw_prediction_col("score").evaluate(&df).unwrap();
/// assert_eq!(auc, 0.75);
/// ```
#[derive(Clone, Debug)]
pub struct BinaryClassificationEvaluator {
    uid: String,
    params: BinaryEvaluatorParams,
}

super::evaluator_persist!(BinaryClassificationEvaluator, BinaryEvaluatorParams);

impl BinaryClassificationEvaluator {
    /// An evaluator with Spark's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    super::evaluator_params!(BinaryEvaluatorParams);
    /// Metric; default areaUnderROC.
    pub fn with_metric(mut self, m: BinaryMetric) -> Self {
        self.params.metric_name = m;
        self
    }
    /// Score column; default `"rawPrediction"`.
    pub fn with_raw_prediction_col(mut self, c: &str) -> Self {
        self.params.raw_prediction_col = c.into();
        self
    }
    /// Label column; default `"label"`.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Weight column.
    pub fn with_weight_col(mut self, c: &str) -> Self {
        self.params.weight_col = Some(c.into());
        self
    }
    /// Number of bins (0: exact); default 1000.
    pub fn with_num_bins(mut self, n: usize) -> Self {
        self.params.num_bins = n;
        self
    }

    /// The full metrics (curves and both areas) for `df`.
    pub fn metrics(&self, df: &DataFrame) -> Result<BinaryClassificationMetrics> {
        let stage = BinaryEvaluatorParams::STAGE;
        let p = &self.params;
        let d = read_scored(
            df,
            stage,
            &p.raw_prediction_col,
            Some(1),
            &p.label_col,
            p.weight_col.as_deref(),
        )?;
        if d.weights.is_none() {
            let (mut pos, mut neg) = (Vec::new(), Vec::new());
            for (s, l) in d.preds.iter().zip(&d.labels) {
                for (s, l) in s.iter().zip(l.iter()) {
                    if *l > 0.5 {
                        pos.push(*s);
                    } else {
                        neg.push(*s);
                    }
                }
            }
            return Ok(BinaryClassificationMetrics::from_unweighted(
                pos, neg, p.num_bins,
            ));
        }
        let mut items = Vec::with_capacity(df.num_rows());
        for (pi, (s, l)) in d.preds.iter().zip(&d.labels).enumerate() {
            for r in 0..s.len() {
                let w = d.weight(pi, r);
                items.push((s[r], if l[r] > 0.5 { w } else { -w }));
            }
        }
        Ok(BinaryClassificationMetrics::from_signed(items, p.num_bins))
    }
}

impl Evaluator for BinaryClassificationEvaluator {
    fn persistable(&self) -> Option<&dyn crate::persist::Persist> {
        Some(self)
    }
    fn input_columns(&self) -> Option<Vec<String>> {
        let p = &self.params;
        let cols = [&p.raw_prediction_col, &p.label_col]
            .into_iter()
            .chain(p.weight_col.as_ref());
        Some(cols.cloned().collect())
    }
    fn evaluate(&self, df: &DataFrame) -> Result<f64> {
        let m = self.metrics(df)?;
        Ok(match self.params.metric_name {
            BinaryMetric::AreaUnderRoc => m.area_under_roc(),
            BinaryMetric::AreaUnderPr => m.area_under_pr(),
        })
    }
    fn is_larger_better(&self) -> bool {
        self.params.metric_name.is_larger_better()
    }
}

/// One point of the curves: a threshold and the cumulative weighted counts at it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Point {
    threshold: f64,
    tp: f64,
    fp: f64,
}

/// Spark's `BinaryClassificationMetrics`: ROC and PR curves and metrics by threshold,
/// ready for plotting.
///
/// Scores are grouped by distinct value (ties are one step on the curves), sorted
/// descending, and, with `num_bins > 0`, down-sampled as Spark does: when there are at
/// least `2 * num_bins` distinct scores, runs of `distinct / num_bins` consecutive points
/// merge into one whose threshold is the run's lowest score.
#[derive(Clone, Debug)]
pub struct BinaryClassificationMetrics {
    points: Vec<Point>,
    positives: f64,
    negatives: f64,
}

impl BinaryClassificationMetrics {
    /// Metrics for `(score, label, weight)` triples; a label is positive when > 0.5.
    ///
    /// ```
    /// use mlpipe::evaluation::BinaryClassificationMetrics;
    /// let m = BinaryClassificationMetrics::new(&[0.9, 0.4, 0.4, 0.1], &[1.0, 1.0, 0.0, 0.0], None, 0).unwrap();
    /// assert_eq!(m.area_under_roc(), 0.875); // the tie earns half credit
    /// assert_eq!(m.roc().first(), Some(&(0.0, 0.0)));
    /// ```
    ///
    /// # Errors
    /// [`Error::Usage`] when `labels` or `weights` is not as long as `scores`.
    pub fn new(
        scores: &[f64],
        labels: &[f64],
        weights: Option<&[f64]>,
        num_bins: usize,
    ) -> Result<Self> {
        let n = scores.len();
        if labels.len() != n || weights.is_some_and(|w| w.len() != n) {
            return Err(Error::Usage(format!(
                "BinaryClassificationMetrics: {n} scores, {} labels and {} weights; give one of each per row",
                labels.len(),
                weights.map_or(n, <[f64]>::len)
            )));
        }
        let items = scores
            .iter()
            .zip(labels)
            .enumerate()
            .map(|(i, (s, l))| {
                let w = weights.map_or(1.0, |w| w[i]);
                (*s, if *l > 0.5 { w } else { -w })
            })
            .collect();
        Ok(Self::from_signed(items, num_bins))
    }

    /// From `(score, signed weight)`: positive weight for a positive label.
    fn from_signed(mut items: Vec<(f64, f64)>, num_bins: usize) -> Self {
        items.par_sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        // Group equal scores.
        let mut groups: Vec<(f64, f64, f64)> = Vec::new(); // (score, pos, neg)
        for (s, w) in items {
            let (pos, neg) = if w.is_sign_positive() {
                (w, 0.0)
            } else {
                (0.0, -w)
            };
            match groups.last_mut() {
                Some(g) if g.0 == s => {
                    g.1 += pos;
                    g.2 += neg;
                }
                _ => groups.push((s, pos, neg)),
            }
        }
        Self::from_groups(groups, num_bins)
    }

    /// Unweighted rows: the positives' and the negatives' scores sort separately as plain
    /// 8-byte keys (half the bytes of score-weight pairs), then merge into groups.
    fn from_unweighted(pos: Vec<f64>, neg: Vec<f64>, num_bins: usize) -> Self {
        // Descending total order as ascending u64 keys.
        let key = |x: f64| {
            let b = x.to_bits();
            !(if b >> 63 == 1 { !b } else { b | (1 << 63) })
        };
        let unkey = |k: u64| {
            let b = !k;
            f64::from_bits(if b >> 63 == 1 { b & !(1 << 63) } else { !b })
        };
        let sorted = |v: Vec<f64>| {
            let mut k: Vec<u64> = v.into_iter().map(key).collect();
            radix_sort(&mut k);
            k
        };
        let (pk, nk) = rayon::join(|| sorted(pos), || sorted(neg));
        // Walk the two sorted key lists in step, one distinct score at a time.
        let walk = |visit: &mut dyn FnMut(u64, usize, usize)| {
            let (mut i, mut j) = (0, 0);
            let (np, nn) = (pk.len(), nk.len());
            while i < np || j < nn {
                let k = if j >= nn || (i < np && pk[i] <= nk[j]) {
                    pk[i]
                } else {
                    nk[j]
                };
                let i0 = i;
                while i < np && pk[i] == k {
                    i += 1;
                }
                let j0 = j;
                while j < nn && nk[j] == k {
                    j += 1;
                }
                visit(k, i - i0, j - j0);
            }
        };
        let mut distinct = 0usize;
        walk(&mut |_, _, _| distinct += 1);
        let grouping = distinct.checked_div(num_bins).unwrap_or(0);
        let mut groups: Vec<(f64, f64, f64)> = Vec::new();
        if grouping >= 2 {
            // Bin while walking, as Spark does: runs of `grouping` scores, threshold = the
            // run's last (lowest) score; no per-score list is built.
            groups.reserve(distinct / grouping + 1);
            let (mut cnt, mut p, mut n, mut last) = (0usize, 0usize, 0usize, 0u64);
            walk(&mut |k, dp, dn| {
                cnt += 1;
                p += dp;
                n += dn;
                last = k;
                if cnt == grouping {
                    groups.push((unkey(last), p as f64, n as f64));
                    (cnt, p, n) = (0, 0, 0);
                }
            });
            if cnt > 0 {
                groups.push((unkey(last), p as f64, n as f64));
            }
            return Self::from_groups(groups, 0);
        }
        groups.reserve(distinct);
        walk(&mut |k, dp, dn| groups.push((unkey(k), dp as f64, dn as f64)));
        Self::from_groups(groups, num_bins)
    }

    fn from_groups(groups: Vec<(f64, f64, f64)>, num_bins: usize) -> Self {
        let grouping = groups.len().checked_div(num_bins).unwrap_or(0);
        let binned: Vec<(f64, f64, f64)> = if grouping < 2 {
            groups
        } else {
            groups
                .chunks(grouping)
                .map(|c| {
                    let (p, n) = c.iter().fold((0.0, 0.0), |a, g| (a.0 + g.1, a.1 + g.2));
                    (c[c.len() - 1].0, p, n)
                })
                .collect()
        };
        let (mut tp, mut fp) = (0.0, 0.0);
        let points: Vec<Point> = binned
            .into_iter()
            .map(|(s, p, n)| {
                tp += p;
                fp += n;
                Point {
                    threshold: s,
                    tp,
                    fp,
                }
            })
            .collect();
        Self {
            points,
            positives: tp,
            negatives: fp,
        }
    }

    fn precision(p: &Point) -> f64 {
        if p.tp + p.fp == 0.0 {
            1.0
        } else {
            p.tp / (p.tp + p.fp)
        }
    }

    fn recall(&self, p: &Point) -> f64 {
        if self.positives == 0.0 {
            0.0
        } else {
            p.tp / self.positives
        }
    }

    fn fpr(&self, p: &Point) -> f64 {
        if self.negatives == 0.0 {
            0.0
        } else {
            p.fp / self.negatives
        }
    }

    /// The thresholds (distinct scores after binning), descending.
    pub fn thresholds(&self) -> Vec<f64> {
        self.points.iter().map(|p| p.threshold).collect()
    }

    /// The ROC curve `(FPR, TPR)`, from (0, 0) to (1, 1).
    pub fn roc(&self) -> Vec<(f64, f64)> {
        let mut c = Vec::with_capacity(self.points.len() + 2);
        c.push((0.0, 0.0));
        c.extend(self.points.iter().map(|p| (self.fpr(p), self.recall(p))));
        c.push((1.0, 1.0));
        c
    }

    /// The PR curve `(recall, precision)`, starting at (0, precision of the first point).
    pub fn pr(&self) -> Vec<(f64, f64)> {
        let first = self.points.first().map_or(1.0, Self::precision);
        let mut c = Vec::with_capacity(self.points.len() + 1);
        c.push((0.0, first));
        c.extend(
            self.points
                .iter()
                .map(|p| (self.recall(p), Self::precision(p))),
        );
        c
    }

    /// Area under the ROC curve (trapezoids).
    pub fn area_under_roc(&self) -> f64 {
        area(&self.roc())
    }

    /// Area under the PR curve (trapezoids).
    pub fn area_under_pr(&self) -> f64 {
        area(&self.pr())
    }

    /// `(threshold, precision)` pairs.
    pub fn precision_by_threshold(&self) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|p| (p.threshold, Self::precision(p)))
            .collect()
    }

    /// `(threshold, recall)` pairs.
    pub fn recall_by_threshold(&self) -> Vec<(f64, f64)> {
        self.points
            .iter()
            .map(|p| (p.threshold, self.recall(p)))
            .collect()
    }

    /// `(threshold, F-measure)` pairs for `beta`.
    pub fn f_measure_by_threshold(&self, beta: f64) -> Vec<(f64, f64)> {
        let b2 = beta * beta;
        self.points
            .iter()
            .map(|p| {
                let (pr, re) = (Self::precision(p), self.recall(p));
                let f = if pr + re == 0.0 {
                    0.0
                } else {
                    (1.0 + b2) * pr * re / (b2 * pr + re)
                };
                (p.threshold, f)
            })
            .collect()
    }
}

/// LSD radix sort of `u64` keys, 11 bits per pass; passes where every key has the same
/// digit are skipped. Linear time: sorting 10M keys is a few passes over 80 MB.
fn radix_sort(v: &mut Vec<u64>) {
    const BITS: u32 = 11;
    const BUCKETS: usize = 1 << BITS;
    let mut buf = vec![0u64; v.len()];
    let mut shift = 0;
    while shift < 64 {
        let mut counts = vec![0usize; BUCKETS];
        for &x in v.iter() {
            counts[((x >> shift) as usize) & (BUCKETS - 1)] += 1;
        }
        if counts.contains(&v.len()) {
            shift += BITS;
            continue;
        }
        let mut offsets = vec![0usize; BUCKETS];
        let mut acc = 0;
        for (o, c) in offsets.iter_mut().zip(&counts) {
            *o = acc;
            acc += c;
        }
        for &x in v.iter() {
            let d = ((x >> shift) as usize) & (BUCKETS - 1);
            buf[offsets[d]] = x;
            offsets[d] += 1;
        }
        std::mem::swap(v, &mut buf);
        shift += BITS;
    }
}

fn area(curve: &[(f64, f64)]) -> f64 {
    curve
        .windows(2)
        .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
        .sum()
}
