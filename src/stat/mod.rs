//! Spark's statistics package (`org.apache.spark.ml.stat`): [`Summarizer`],
//! [`Correlation`], [`ChiSquareTest`] and [`KolmogorovSmirnovTest`], plus the mergeable
//! summaries the estimators share: [`FeatureSummary`] (weighted count, mean, M2, min, max;
//! built per row block in two cache-resident passes, mean then squared deviations, and
//! merged with Chan's formula in a fixed order, so results do not depend on the thread
//! count) and [`QuantileSummary`] (Spark's `QuantileSummaries`).
//!
//! The tests' p-values are `1 − cdf(statistic)` as Spark computes them with Commons Math;
//! the χ² and F distributions come from the `statrs` crate, the normal's `erfc` from `libm`.
//!
//! # Examples
//! ```
//! use mlpipe::stat::FeatureSummary;
//! // two rows of two features, unit weights
//! let s = FeatureSummary::from_block(&[1.0, 10.0, 3.0, 30.0], 2, None);
//! assert_eq!(s.mean(), vec![2.0, 20.0]);
//! assert_eq!(s.std(), vec![2f64.sqrt(), 200f64.sqrt()]); // sample std (n - 1)
//! ```

mod chi_square_test;
mod correlation;
pub(crate) mod distribution;
pub(crate) mod input;
mod kolmogorov_smirnov_test;
pub(crate) mod selection;
mod summarizer;

pub(crate) use chi_square_test::chi_square;
pub use chi_square_test::{ChiSquareTest, MAX_CATEGORIES};
pub(crate) use correlation::covariance;
pub use correlation::{Correlation, CorrelationMethod};
pub use kolmogorov_smirnov_test::{KolmogorovSmirnovTest, KolmogorovSmirnovTestResult};
pub use selection::FeatureTest;
pub use summarizer::{Summarizer, Summary, SummaryMetric};

crate::frame::kernels::multiversion! {
    /// [`FeatureSummary::from_block`] without weights, compiled for each SIMD build (the
    /// per-feature loops run 8 features a vector with AVX-512 instead of 2 with the
    /// baseline's SSE2; every feature's additions, comparisons and their order are the
    /// same, so the bits are too).
    fn unweighted_block(values: &[f64], n: usize) -> FeatureSummary {
        FeatureSummary::from_unweighted_block(values, n)
    }
}

/// Calls `f` with each group of four consecutive rows of a row-major block, then with
/// each remaining row alone.
#[inline(always)]
fn by_four_rows<'a>(values: &'a [f64], n: usize, mut f: impl FnMut(&[&'a [f64]])) {
    let quads = values.chunks_exact(4 * n);
    let rest = quads.remainder();
    for q in quads {
        let (a, q) = q.split_at(n);
        let (b, q) = q.split_at(n);
        let (c, d) = q.split_at(n);
        f(&[a, b, c, d]);
    }
    for row in rest.chunks_exact(n) {
        f(&[row]);
    }
}

/// Weighted per-feature moments of a set of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureSummary {
    /// Number of rows with a positive weight.
    pub count: u64,
    /// Sum of weights.
    pub weight_sum: f64,
    /// Sum of squared weights.
    pub weight_sq_sum: f64,
    /// Weighted mean per feature.
    pub mean: Vec<f64>,
    /// Weighted sum of squared deviations from the mean, per feature.
    pub m2: Vec<f64>,
    /// Minimum per feature (rows with positive weight).
    pub min: Vec<f64>,
    /// Maximum per feature (rows with positive weight).
    pub max: Vec<f64>,
}

impl FeatureSummary {
    /// The summary of no rows, for `n` features.
    pub fn empty(n: usize) -> Self {
        Self {
            count: 0,
            weight_sum: 0.0,
            weight_sq_sum: 0.0,
            mean: vec![0.0; n],
            m2: vec![0.0; n],
            min: vec![f64::INFINITY; n],
            max: vec![f64::NEG_INFINITY; n],
        }
    }

    /// Summarises a row-major block of `values.len() / n` rows. Rows whose weight is not
    /// positive are ignored (Spark ignores zero-weight instances).
    pub fn from_block(values: &[f64], n: usize, weights: Option<&[f64]>) -> Self {
        if n == 0 {
            return Self::empty(n);
        }
        match weights {
            None => unweighted_block(values, n),
            Some(w) => Self::from_weighted_block(values, n, w),
        }
    }

    /// The unit-weight case, four rows per step so that each feature's sum, minimum and
    /// maximum are loaded and stored once per four rows (the arrays are too long to stay
    /// in registers).
    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by feature
    #[inline(always)]
    fn from_unweighted_block(values: &[f64], n: usize) -> Self {
        let mut s = Self::empty(n);
        let rows = values.len() / n;
        if rows == 0 {
            return s;
        }
        let values = &values[..rows * n];
        // `x < acc` comparisons skip NaN exactly as f64::min / f64::max do (and as Spark's
        // summarizer does), and vectorise. The accumulator comes first, so it never
        // becomes NaN.
        let lo = |acc: f64, x: f64| if x < acc { x } else { acc };
        let hi = |acc: f64, x: f64| if x > acc { x } else { acc };
        let mut sum = vec![0.0; n];
        let (min, max) = (&mut s.min, &mut s.max);
        by_four_rows(values, n, |rows| match *rows {
            [a, b, c, d] => {
                for j in 0..n {
                    sum[j] += (a[j] + b[j]) + (c[j] + d[j]);
                    min[j] = lo(lo(lo(lo(min[j], a[j]), b[j]), c[j]), d[j]);
                    max[j] = hi(hi(hi(hi(max[j], a[j]), b[j]), c[j]), d[j]);
                }
            }
            _ => {
                for row in rows {
                    for j in 0..n {
                        sum[j] += row[j];
                        min[j] = lo(min[j], row[j]);
                        max[j] = hi(max[j], row[j]);
                    }
                }
            }
        });
        let w = rows as f64;
        s.count = rows as u64;
        s.weight_sum = w;
        s.weight_sq_sum = w;
        for j in 0..n {
            s.mean[j] = sum[j] / w;
        }
        let (mean, m2) = (&s.mean, &mut s.m2);
        let sq = |x: f64, j: usize| (x - mean[j]) * (x - mean[j]);
        by_four_rows(values, n, |rows| match *rows {
            [a, b, c, d] => {
                for j in 0..n {
                    m2[j] += (sq(a[j], j) + sq(b[j], j)) + (sq(c[j], j) + sq(d[j], j));
                }
            }
            _ => {
                for row in rows {
                    for j in 0..n {
                        m2[j] += sq(row[j], j);
                    }
                }
            }
        });
        s
    }

    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by feature
    fn from_weighted_block(values: &[f64], n: usize, weights: &[f64]) -> Self {
        let mut s = Self::empty(n);
        let rows = values.len() / n;
        let w = |i: usize| weights[i];
        let mut sum = vec![0.0; n];
        for i in 0..rows {
            let wi = w(i);
            if wi <= 0.0 {
                continue;
            }
            s.count += 1;
            s.weight_sum += wi;
            s.weight_sq_sum += wi * wi;
            let row = &values[i * n..(i + 1) * n];
            for j in 0..n {
                sum[j] += wi * row[j];
                s.min[j] = s.min[j].min(row[j]);
                s.max[j] = s.max[j].max(row[j]);
            }
        }
        if s.weight_sum == 0.0 {
            return s;
        }
        for j in 0..n {
            s.mean[j] = sum[j] / s.weight_sum;
        }
        for i in 0..rows {
            let wi = w(i);
            if wi <= 0.0 {
                continue;
            }
            let row = &values[i * n..(i + 1) * n];
            for j in 0..n {
                let d = row[j] - s.mean[j];
                s.m2[j] += wi * d * d;
            }
        }
        s
    }

    /// Summarises rows given as `(row, weight)` views, dense or sparse, touching only
    /// the stored entries of sparse rows: a feature's unstored entries are zeros, counted
    /// in its mean, deviation, minimum and maximum. `rows` is walked twice. Rows whose
    /// weight is not positive are ignored.
    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by feature
    pub fn from_rows<'a, I>(n: usize, rows: I) -> Self
    where
        I: Iterator<Item = (crate::frame::vector::Row<'a>, f64)> + Clone,
    {
        let mut s = Self::empty(n);
        let mut sum = vec![0.0; n];
        // Weight and number of the rows that store each feature.
        let mut stored_w = vec![0.0; n];
        let mut stored = vec![0u64; n];
        let (min, max) = (&mut s.min, &mut s.max);
        for (x, w) in rows.clone() {
            if w <= 0.0 {
                continue;
            }
            s.count += 1;
            s.weight_sum += w;
            s.weight_sq_sum += w * w;
            x.for_each_active(|j, v| {
                sum[j] += w * v;
                stored_w[j] += w;
                stored[j] += 1;
                min[j] = min[j].min(v);
                max[j] = max[j].max(v);
            });
        }
        if s.weight_sum == 0.0 {
            return s;
        }
        for j in 0..n {
            if stored[j] < s.count {
                s.min[j] = s.min[j].min(0.0);
                s.max[j] = s.max[j].max(0.0);
            }
            s.mean[j] = sum[j] / s.weight_sum;
        }
        let (mean, m2) = (&s.mean, &mut s.m2);
        for (x, w) in rows {
            if w <= 0.0 {
                continue;
            }
            x.for_each_active(|j, v| {
                let d = v - mean[j];
                m2[j] += w * d * d;
            });
        }
        for j in 0..n {
            // The unstored zeros, each `mean` away from the mean.
            m2[j] += (s.weight_sum - stored_w[j]).max(0.0) * mean[j] * mean[j];
        }
        s
    }

    /// Merges `other` into `self` (Chan et al.'s parallel update).
    pub fn merge(&mut self, other: &FeatureSummary) {
        if other.weight_sum == 0.0 {
            return;
        }
        if self.weight_sum == 0.0 {
            *self = other.clone();
            return;
        }
        let (wa, wb) = (self.weight_sum, other.weight_sum);
        let w = wa + wb;
        for j in 0..self.mean.len() {
            let delta = other.mean[j] - self.mean[j];
            self.mean[j] += delta * wb / w;
            self.m2[j] += other.m2[j] + delta * delta * wa * wb / w;
            self.min[j] = self.min[j].min(other.min[j]);
            self.max[j] = self.max[j].max(other.max[j]);
        }
        self.count += other.count;
        self.weight_sum = w;
        self.weight_sq_sum += other.weight_sq_sum;
    }

    /// Merges summaries in the given order.
    pub fn merge_all<'a>(n: usize, parts: impl IntoIterator<Item = &'a FeatureSummary>) -> Self {
        let mut acc = Self::empty(n);
        for p in parts {
            acc.merge(p);
        }
        acc
    }

    /// The weighted mean per feature.
    pub fn mean(&self) -> Vec<f64> {
        self.mean.clone()
    }

    /// The unbiased weighted variance per feature, Spark's: `M2 / (W - Σw²/W)`, 0 when
    /// that denominator is not positive (a single row), never negative.
    pub fn variance(&self) -> Vec<f64> {
        let denom = if self.weight_sum > 0.0 {
            self.weight_sum - self.weight_sq_sum / self.weight_sum
        } else {
            0.0
        };
        self.m2
            .iter()
            .map(|m| {
                if denom > 0.0 {
                    (m / denom).max(0.0)
                } else {
                    0.0
                }
            })
            .collect()
    }

    /// The unbiased weighted standard deviation per feature (Spark's `std`).
    pub fn std(&self) -> Vec<f64> {
        self.variance().into_iter().map(f64::sqrt).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_weight_fast_path_agrees_with_the_weighted_one() {
        for rows in [1usize, 3, 4, 7, 1001] {
            let n = 5;
            let mut v: Vec<f64> = (0..rows * n)
                .map(|i| ((i * 7919) % 101) as f64 * 0.37 - 11.0)
                .collect();
            let fast = FeatureSummary::from_block(&v, n, None);
            // NaN is skipped by min and max, wherever it sits in a group of four rows.
            if rows >= 4 {
                for r in [1, 2] {
                    v[r * n] = f64::NAN;
                }
                v[3 * n] = -1e9;
                v[3 * n + 1] = 1e9;
                let nan = FeatureSummary::from_block(&v, n, None);
                let slow = FeatureSummary::from_block(&v, n, Some(&vec![1.0; rows]));
                assert_eq!((nan.min[0], nan.max[1]), (-1e9, 1e9));
                assert_eq!((nan.min.clone(), nan.max.clone()), (slow.min, slow.max));
                v = (0..rows * n)
                    .map(|i| ((i * 7919) % 101) as f64 * 0.37 - 11.0)
                    .collect();
            }
            let slow = FeatureSummary::from_block(&v, n, Some(&vec![1.0; rows]));
            assert_eq!(fast.count, slow.count);
            assert_eq!((fast.min.clone(), fast.max.clone()), (slow.min, slow.max));
            for j in 0..n {
                assert!((fast.mean[j] - slow.mean[j]).abs() <= 1e-12 * slow.mean[j].abs());
                assert!((fast.m2[j] - slow.m2[j]).abs() <= 1e-12 * slow.m2[j].abs().max(1.0));
            }
        }
    }

    /// The unweighted block summary gives the same bits in every SIMD build (the
    /// baseline's included), NaN and signed zeros among the values.
    #[test]
    fn unweighted_block_is_the_same_in_every_build() {
        for (rows, n) in [(1usize, 3usize), (7, 5), (1001, 20), (333, 9)] {
            let v: Vec<f64> = (0..rows * n)
                .map(|i| match i % 37 {
                    0 => f64::NAN,
                    1 => -0.0,
                    2 => 0.0,
                    _ => ((i * 7919) % 101) as f64 * 0.37 - 11.0 + (i as f64).sqrt() * 1e-7,
                })
                .collect();
            let bits = |s: &FeatureSummary| -> Vec<u64> {
                [&s.mean, &s.m2, &s.min, &s.max]
                    .iter()
                    .flat_map(|x| x.iter().map(|v| v.to_bits()))
                    .collect()
            };
            let runs = crate::frame::kernels::in_each_build(|| {
                bits(&FeatureSummary::from_block(&v, n, None))
            });
            for (b, r) in &runs[1..] {
                assert_eq!(r, &runs[0].1, "build {b:?}, {rows} x {n}");
            }
        }
    }

    #[test]
    fn merge_equals_single_pass() {
        let vals: Vec<f64> = (0..60)
            .map(|i| ((i * 37) % 11) as f64 * 1.5 - 3.0)
            .collect();
        let whole = FeatureSummary::from_block(&vals, 3, None);
        let mut parts = FeatureSummary::from_block(&vals[..21], 3, None);
        parts.merge(&FeatureSummary::from_block(&vals[21..], 3, None));
        for j in 0..3 {
            assert!((whole.mean[j] - parts.mean[j]).abs() < 1e-12);
            assert!((whole.m2[j] - parts.m2[j]).abs() < 1e-9);
        }
        assert_eq!(whole.min, parts.min);
        assert_eq!(whole.count, 20);
    }

    #[test]
    fn weights_and_single_row() {
        // weights 2 and 0: only the first row counts
        let s = FeatureSummary::from_block(&[1.0, 5.0], 1, Some(&[2.0, 0.0]));
        assert_eq!((s.count, s.mean[0], s.variance()[0]), (1, 1.0, 0.0));
        // weighted: rows 0 and 2 with weights 1 and 3 -> mean 1.5; denominator 4 - 10/4 = 1.5
        let s = FeatureSummary::from_block(&[0.0, 2.0], 1, Some(&[1.0, 3.0]));
        assert_eq!(s.mean[0], 1.5);
        assert!((s.variance()[0] - (1.0 * 2.25 + 3.0 * 0.25) / 1.5).abs() < 1e-15);
    }
}

/// Spark's approximate quantile summary (`org.apache.spark.sql.catalyst.util.QuantileSummaries`,
/// a Greenwald-Khanna variant), reproduced step for step so that `approxQuantile`,
/// `QuantileDiscretizer`, `RobustScaler` and `Imputer` get the very values Spark gets from
/// the same partitions: values are buffered 50,000 at a time, sorted and inserted with
/// Spark's rank bounds, the samples are compressed once they number 10,000, and a query for
/// the `q`-quantile of `n` values returns a sample whose rank is within
/// `relative_error * n` of `ceil(q * n)` (with `relative_error = 0`, the exact value at
/// that rank).
///
/// [`QuantileSummary::merge_all`] combines per-partition summaries as Spark's
/// `approxQuantile` does (compress both sides, then merge), in partition order.
///
/// # Examples
/// ```
/// use mlpipe::stat::QuantileSummary;
/// let a = QuantileSummary::from_values((1..=50).map(f64::from), 0.0);
/// let b = QuantileSummary::from_values((51..=100).map(f64::from), 0.0);
/// let all = QuantileSummary::merge_all([a, b]);
/// assert_eq!(all.query(0.5), Some(50.0));
/// assert_eq!(all.query_many(&[0.0, 0.25, 1.0]), Some(vec![1.0, 25.0, 100.0]));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantileSummary {
    relative_error: f64,
    /// Spark's `Stats(value, g, delta)`, sorted by value.
    sampled: Vec<GkSample>,
    /// Values inserted into `sampled` (not counting `head`).
    count: u64,
    /// Values not yet inserted.
    head: Vec<f64>,
}

/// One GK sample: a value, the minimum rank jump `g` from the previous sample, and the
/// rank span `delta`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct GkSample {
    value: f64,
    g: u64,
    delta: u64,
}

/// Spark's `QuantileSummaries.defaultCompressThreshold`.
const COMPRESS_THRESHOLD: usize = 10_000;
/// Spark's `QuantileSummaries.defaultHeadSize`.
const HEAD_SIZE: usize = 50_000;
// Every full head buffer inserted leaves at least Spark's compression threshold of
// samples, so each insertion is followed by a compression (`insert_head_compressed`).
const _: () = assert!(HEAD_SIZE >= COMPRESS_THRESHOLD);

impl QuantileSummary {
    /// An empty summary with the given relative error (`>= 0`).
    pub fn new(relative_error: f64) -> Self {
        Self {
            relative_error,
            ..Self::default()
        }
    }

    /// Summarises `values` in their order (the caller leaves out nulls and NaN, as Spark
    /// does), then compresses: one partition's summary.
    pub fn from_values(values: impl IntoIterator<Item = f64>, relative_error: f64) -> Self {
        let mut s = Sketch::new(relative_error);
        for x in values {
            s.push(x);
        }
        s.finish()
    }

    /// Summarises the values of `slices`, in order, without NaN (the caller leaves out
    /// nulls; NaN values are left out here, as Spark's callers do), then compresses: the
    /// same summary as [`QuantileSummary::from_values`] on the concatenated values, with
    /// NaN-free slices copied into the head buffer whole.
    pub(crate) fn from_slices<'a>(
        slices: impl IntoIterator<Item = &'a [f64]>,
        relative_error: f64,
    ) -> Self {
        let mut s = Sketch::new(relative_error);
        for v in slices {
            s.extend_from_slice(v);
        }
        s.finish()
    }

    /// Adds one value (Spark's `insert`).
    pub fn insert(&mut self, x: f64) {
        self.head.push(x);
        if self.head.len() >= HEAD_SIZE {
            // Inserting 50,000 values leaves at least 10,000 samples: Spark then compresses.
            self.insert_head_compressed(&mut SketchScratch::default());
        }
    }

    /// Number of values summarised.
    pub fn count(&self) -> u64 {
        self.count + self.head.len() as u64
    }

    /// Spark's `withHeadBufferInserted` (sort the buffered values, insert them) followed by
    /// its `compressImmut`, in one walk and without the merged sequence in memory.
    ///
    /// Spark walks the sorted values forwards, first copying the samples whose value is
    /// `<=` each, then compresses the result from the right. This merges the same sequence
    /// backwards and feeds each merged sample straight into the compression (see
    /// [`compress_samples`]), so only the kept samples are written. A new value's rank is
    /// `count + its position + 1` and its `delta` is Spark's: 0 when it comes first (no
    /// sample before it) or last (the last value with no sample after it), else
    /// `floor(2 · relative_error · rank)`. Spark compresses after every insertion of a full
    /// head buffer (50,000 values leave at least the 10,000 samples its threshold asks for)
    /// and after the final one, so every insertion here is compressed.
    fn insert_head_compressed(&mut self, scratch: &mut SketchScratch) {
        if self.head.is_empty() {
            return;
        }
        // Radix sort by the bits' total order (`f64::total_cmp`'s: -0.0 before 0.0),
        // Spark's `sorted` on the values it is given (no NaN), left as order keys.
        let keys = radix_sort_keys(&mut self.head, &mut scratch.keys);
        let s = &self.sampled;
        let old_len = s.len();
        let (news, last) = (keys.len(), keys.len() - 1);
        let len = old_len + news;
        let two_eps = 2.0 * self.relative_error;
        let count = self.count;
        self.count = count + news as u64;
        let threshold = 2.0 * self.relative_error * self.count as f64;
        let kept = &mut scratch.samples;
        kept.clear();
        // The compression's state: `head` is the sample being grown from the right.
        let mut head = GkSample {
            value: 0.0,
            g: 0,
            delta: 0,
        };
        // Old samples s[..i] and new values keys[..k] are still to place; `pos` is the
        // merged position of the next sample out, from the right.
        let (mut i, mut k, mut pos) = (old_len, news, len);
        let mut first = head;
        while pos > 0 {
            let take_old = k == 0 || (i > 0 && s[i - 1].value > from_order_key(keys[k - 1]));
            let x = if take_old {
                // This old sample comes after the new value (forwards, it is copied only
                // once a larger new value is met).
                i -= 1;
                s[i]
            } else {
                let oi = k - 1;
                let rank = count + oi as u64 + 1;
                let delta = if (oi == 0 && i == 0) || (i == old_len && oi == last) {
                    0
                } else {
                    // `as u64` truncates: the floor of a non-negative value, without a
                    // libm call.
                    (two_eps * rank as f64) as u64
                };
                k -= 1;
                GkSample {
                    value: from_order_key(keys[oi]),
                    g: 1,
                    delta,
                }
            };
            pos -= 1;
            if pos == len - 1 {
                head = x;
            } else if pos == 0 {
                first = x;
            } else if ((x.g + head.g + head.delta) as f64) < threshold {
                head.g += x.g;
            } else {
                kept.push(head);
                head = x;
            }
        }
        kept.push(head);
        if len > 1 && first.value <= head.value {
            kept.push(first);
        }
        kept.reverse();
        std::mem::swap(&mut self.sampled, kept);
        self.head.clear();
    }

    /// Spark's `compress()`: inserts the buffered values, then merges samples whose
    /// combined rank uncertainty stays under `2 * relative_error * count`.
    pub fn compress(&mut self) {
        if self.head.is_empty() {
            self.compress_samples();
        } else {
            self.insert_head_compressed(&mut SketchScratch::default());
        }
    }

    fn compress_samples(&mut self) {
        let threshold = 2.0 * self.relative_error * self.count as f64;
        compress_samples(&mut self.sampled, threshold);
    }

    /// Spark's `merge` of two compressed summaries (a side with buffered values is
    /// compressed first).
    pub fn merge(mut self, mut other: QuantileSummary) -> QuantileSummary {
        if !self.head.is_empty() {
            self.compress();
        }
        if !other.head.is_empty() {
            other.compress();
        }
        if other.count == 0 {
            return self;
        }
        if self.count == 0 {
            return other;
        }
        let eps = self.relative_error.max(other.relative_error);
        let count = self.count + other.count;
        let extra_self = (2.0 * other.relative_error * other.count as f64).floor() as u64;
        let extra_other = (2.0 * self.relative_error * self.count as f64).floor() as u64;
        let (a, b) = (&self.sampled, &other.sampled);
        let mut out = Vec::with_capacity(a.len() + b.len());
        let (mut i, mut j) = (0, 0);
        while i < a.len() && j < b.len() {
            let (s, extra) = if a[i].value < b[j].value {
                i += 1;
                (a[i - 1], if j > 0 { extra_self } else { 0 })
            } else {
                j += 1;
                (b[j - 1], if i > 0 { extra_other } else { 0 })
            };
            out.push(GkSample {
                delta: s.delta + extra,
                ..s
            });
        }
        out.extend_from_slice(&a[i..]);
        out.extend_from_slice(&b[j..]);
        compress_samples(&mut out, 2.0 * eps * count as f64);
        out.shrink_to_fit();
        QuantileSummary {
            relative_error: eps,
            sampled: out,
            count,
            head: Vec::new(),
        }
    }

    /// Combines per-partition summaries in the given order as Spark's `approxQuantile`
    /// does (`treeAggregate` from an empty summary, each step compressing both sides and
    /// merging them).
    pub fn merge_all(parts: impl IntoIterator<Item = QuantileSummary>) -> Self {
        let mut acc: Option<QuantileSummary> = None;
        // Spark's combine step: `s1.compress().merge(s2.compress())`.
        let combine = |mut a: QuantileSummary, mut b: QuantileSummary| {
            a.compress();
            b.compress();
            a.merge(b)
        };
        for p in parts {
            let eps = p.relative_error;
            // The partition's fold from the zero summary, then the driver's.
            let p = combine(Self::new(eps), p);
            acc = Some(combine(acc.unwrap_or_else(|| Self::new(eps)), p));
        }
        acc.unwrap_or_default()
    }

    /// The `q`-quantile (`q` in `[0, 1]`), Spark's `query`; `None` when empty.
    pub fn query(&self, q: f64) -> Option<f64> {
        self.query_many(&[q]).map(|v| v[0])
    }

    /// Several quantiles in one walk over the samples, in the order asked (Spark's
    /// `query(Seq)`); `None` when empty.
    pub fn query_many(&self, probabilities: &[f64]) -> Option<Vec<f64>> {
        if !self.head.is_empty() {
            let mut c = self.clone();
            c.compress();
            return c.query_many(probabilities);
        }
        let s = &self.sampled;
        if s.is_empty() {
            return None;
        }
        let target_error = (s.iter().map(|x| x.delta + x.g).max().unwrap_or(0) / 2) as f64;
        let mut order: Vec<usize> = (0..probabilities.len()).collect();
        order.sort_by(|&a, &b| probabilities[a].total_cmp(&probabilities[b]));
        let mut out = vec![0.0; probabilities.len()];
        let (mut index, mut min_rank) = (0usize, s[0].g);
        for pos in order {
            let p = probabilities[pos];
            out[pos] = if p <= self.relative_error {
                s[0].value
            } else if p >= 1.0 - self.relative_error {
                s[s.len() - 1].value
            } else {
                // Spark's findApproxQuantile, resuming where the previous query stopped.
                let rank = (p * self.count as f64).ceil();
                let mut i = index;
                let mut cur = s[i];
                loop {
                    if i >= s.len() - 1 {
                        break;
                    }
                    let max_rank = (min_rank + cur.delta) as f64;
                    if max_rank - target_error <= rank && rank <= min_rank as f64 + target_error {
                        break;
                    }
                    i += 1;
                    cur = s[i];
                    min_rank += cur.g;
                }
                index = i;
                cur.value
            };
        }
        Some(out)
    }
}

/// Reusable buffers of a [`Sketch`]: the radix sort's second buffer and the kept samples
/// of the last compression (swapped with the summary's).
#[derive(Default)]
pub(crate) struct SketchScratch {
    keys: Vec<u64>,
    samples: Vec<GkSample>,
}

/// Builds one [`QuantileSummary`] from values pushed in order (Spark's `insert` for each,
/// then `compress`), reusing its buffers from one head buffer of 50,000 values to the
/// next: no allocation per insertion.
pub(crate) struct Sketch {
    summary: QuantileSummary,
    scratch: SketchScratch,
}

impl Sketch {
    /// An empty sketch with the given relative error (its buffers from this thread's
    /// pool when a finished sketch left some there).
    pub(crate) fn new(relative_error: f64) -> Self {
        let (head, scratch) = SKETCH_BUFFERS
            .with(|p| p.borrow_mut().pop())
            .unwrap_or_else(|| (Vec::with_capacity(HEAD_SIZE), SketchScratch::default()));
        Sketch {
            summary: QuantileSummary {
                head,
                ..QuantileSummary::new(relative_error)
            },
            scratch,
        }
    }

    /// Adds one value (the caller leaves out nulls and NaN).
    #[inline]
    pub(crate) fn push(&mut self, x: f64) {
        self.summary.head.push(x);
        if self.summary.head.len() >= HEAD_SIZE {
            self.summary.insert_head_compressed(&mut self.scratch);
        }
    }

    /// Adds the values of `v` in order, leaving out NaN.
    pub(crate) fn extend_from_slice(&mut self, mut v: &[f64]) {
        if v.iter().fold(false, |acc, x| acc | x.is_nan()) {
            // Rare: the NaN-free values one by one.
            for &x in v.iter().filter(|x| !x.is_nan()) {
                self.push(x);
            }
            return;
        }
        while !v.is_empty() {
            let room = HEAD_SIZE - self.summary.head.len();
            let (now, rest) = v.split_at(room.min(v.len()));
            self.summary.head.extend_from_slice(now);
            v = rest;
            if self.summary.head.len() >= HEAD_SIZE {
                self.summary.insert_head_compressed(&mut self.scratch);
            }
        }
    }

    /// The compressed summary (its buffers' spare capacity given back; the head buffer
    /// and the scratch go to this thread's pool for the next sketch).
    pub(crate) fn finish(mut self) -> QuantileSummary {
        let s = &mut self.summary;
        if s.head.is_empty() {
            s.compress_samples();
        } else {
            s.insert_head_compressed(&mut self.scratch);
        }
        let head = std::mem::take(&mut s.head);
        s.sampled.shrink_to_fit();
        SKETCH_BUFFERS.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOLED_SKETCH_BUFFERS {
                p.push((head, std::mem::take(&mut self.scratch)));
            }
        });
        self.summary
    }
}

/// Finished sketches' buffers kept per thread (each up to 800 KB: a head buffer and the
/// sort's second buffer): a fit summarising many columns and partitions reuses them
/// instead of faulting fresh pages in for every column of every partition.
const POOLED_SKETCH_BUFFERS: usize = 8;

thread_local! {
    static SKETCH_BUFFERS: std::cell::RefCell<Vec<(Vec<f64>, SketchScratch)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The key whose unsigned order is `f64::total_cmp`'s order of the value with bits `b`.
#[inline(always)]
fn order_key(b: u64) -> u64 {
    b ^ ((((b as i64) >> 63) as u64) | (1 << 63))
}

/// The value whose [`order_key`] is `k`.
#[inline(always)]
pub(crate) fn from_order_key(k: u64) -> f64 {
    let positive = ((k as i64) >> 63) as u64;
    f64::from_bits(k ^ (!positive | (1 << 63)))
}

/// Bits per digit of [`radix_sort_keys`]: six passes at most over 64-bit keys, with
/// 2,048 counters per digit (48 KB of counts, in cache); about a third faster than 8-bit
/// digits (eight passes) on 40,000-value head buffers.
const RADIX_BITS: usize = 11;
const RADIX: usize = 1 << RADIX_BITS;
const RADIX_DIGITS: usize = 64_usize.div_ceil(RADIX_BITS);

/// Sorts `v` in `f64::total_cmp`'s order by an LSD radix sort (11-bit digits, a digit all
/// values share skipped), with `scratch` as the second buffer (kept for the next call);
/// returns the sorted values as [`order_key`]s (`v`'s memory, or `scratch`'s).
pub(crate) fn radix_sort_keys<'a>(v: &'a mut [f64], scratch: &'a mut Vec<u64>) -> &'a [u64] {
    let n = v.len();
    // SAFETY: f64 and u64 have the same size and alignment, and every bit pattern is a
    // valid u64: `v`'s memory viewed as its bits.
    let keys: &'a mut [u64] =
        unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u64>(), n) };
    let digit = |key: u64, d: usize| ((key >> (RADIX_BITS * d)) as usize) & (RADIX - 1);
    if n > u32::MAX as usize {
        // Beyond the 32-bit counters: the keys' own order.
        for k in keys.iter_mut() {
            *k = order_key(*k);
        }
        keys.sort_unstable();
        return keys;
    }
    let mut hist = [[0u32; RADIX]; RADIX_DIGITS];
    for k in keys.iter_mut() {
        let key = order_key(*k);
        *k = key;
        for (d, h) in hist.iter_mut().enumerate() {
            h[digit(key, d)] += 1;
        }
    }
    if scratch.len() < n {
        scratch.resize(n, 0);
    }
    let (mut src, mut dst): (&'a mut [u64], &'a mut [u64]) = (keys, &mut scratch[..n]);
    if n < 2 {
        return src;
    }
    for (d, h) in hist.iter().enumerate() {
        if h[digit(src[0], d)] as usize == n {
            continue;
        }
        let mut offsets = [0u32; RADIX];
        let mut acc = 0;
        for (o, &c) in offsets.iter_mut().zip(h) {
            *o = acc;
            acc += c;
        }
        for &key in src.iter() {
            let b = digit(key, d);
            // Within bounds: the offsets of digit b run from its prefix sum up to the next
            // one, at most n.
            dst[offsets[b] as usize] = key;
            offsets[b] += 1;
        }
        std::mem::swap(&mut src, &mut dst);
    }
    src
}

/// Spark's `compressImmut`: from the right, merges each sample into its right neighbour
/// while `g + g_right + delta_right < threshold`; the first and last samples stay. In
/// place: the kept samples are written right to left into the slots already read.
fn compress_samples(s: &mut Vec<GkSample>, threshold: f64) {
    let len = s.len();
    if len == 0 {
        return;
    }
    let mut head = s[len - 1];
    // s[w..] holds the kept samples, in order. After reading s[i], at most len - i - 1
    // samples have been written, so w > i: no unread sample is overwritten.
    let mut w = len;
    let mut i = len - 1;
    while i > 1 {
        i -= 1;
        let x = s[i];
        if ((x.g + head.g + head.delta) as f64) < threshold {
            head.g += x.g;
        } else {
            w -= 1;
            s[w] = head;
            head = x;
        }
    }
    w -= 1;
    s[w] = head;
    if s[0].value <= head.value && len > 1 {
        w -= 1;
        s[w] = s[0];
    }
    s.drain(..w);
}

#[cfg(test)]
mod quantile_tests {
    use super::*;

    /// Spark's `QuantileSummaries` steps as Spark writes them (forward merge into a new
    /// buffer, `compressImmut` into a reversed new buffer, one `insert` per value): the
    /// reference the in-place versions must equal exactly.
    fn spark_steps(values: &[f64], eps: f64) -> QuantileSummary {
        fn compress_ref(s: &[GkSample], threshold: f64) -> Vec<GkSample> {
            if s.is_empty() {
                return Vec::new();
            }
            let mut rev = Vec::new();
            let mut head = s[s.len() - 1];
            let mut i = s.len() as isize - 2;
            while i >= 1 {
                let x = s[i as usize];
                if ((x.g + head.g + head.delta) as f64) < threshold {
                    head.g += x.g;
                } else {
                    rev.push(head);
                    head = x;
                }
                i -= 1;
            }
            rev.push(head);
            if s[0].value <= head.value && s.len() > 1 {
                rev.push(s[0]);
            }
            rev.reverse();
            rev
        }
        fn insert_ref(q: &mut QuantileSummary) {
            if q.head.is_empty() {
                return;
            }
            let mut sorted = std::mem::take(&mut q.head);
            sorted.sort_by(f64::total_cmp);
            let old = std::mem::take(&mut q.sampled);
            let mut out = Vec::new();
            let mut current = q.count;
            let mut si = 0;
            let last = sorted.len() - 1;
            for (oi, &x) in sorted.iter().enumerate() {
                while si < old.len() && old[si].value <= x {
                    out.push(old[si]);
                    si += 1;
                }
                current += 1;
                let delta = if out.is_empty() || (si == old.len() && oi == last) {
                    0
                } else {
                    (2.0 * q.relative_error * current as f64).floor() as u64
                };
                out.push(GkSample {
                    value: x,
                    g: 1,
                    delta,
                });
            }
            out.extend_from_slice(&old[si..]);
            q.sampled = out;
            q.count = current;
        }
        let mut q = QuantileSummary::new(eps);
        for &v in values {
            q.head.push(v);
            if q.head.len() >= HEAD_SIZE {
                insert_ref(&mut q);
                if q.sampled.len() >= COMPRESS_THRESHOLD {
                    q.sampled = compress_ref(&q.sampled, 2.0 * eps * q.count as f64);
                }
            }
        }
        insert_ref(&mut q);
        q.sampled = compress_ref(&q.sampled, 2.0 * eps * q.count as f64);
        q
    }

    #[test]
    fn in_place_insert_and_compress_are_sparks_steps() {
        // Heavy ties (a few hundred distinct values), signed zeros, a sorted run and a
        // reversed run, over several head buffers; and a short input.
        let n = 230_000usize;
        let mut vals: Vec<f64> = (0..n)
            .map(|i| (((i as u64 * 2_654_435_761) % 977) as f64 - 400.0) * 0.25)
            .collect();
        vals[10] = -0.0;
        vals[11] = 0.0;
        vals[120_000..130_000].sort_by(f64::total_cmp);
        vals[130_000..140_000].sort_by(|a, b| b.total_cmp(a));
        for eps in [0.0, 0.001, 0.01, 0.1] {
            for len in [1, 7, 50_000, 50_001, n] {
                let want = spark_steps(&vals[..len], eps);
                let got = QuantileSummary::from_values(vals[..len].iter().copied(), eps);
                assert_eq!(got.count, want.count, "eps {eps} len {len}");
                assert_eq!(got.sampled, want.sampled, "eps {eps} len {len}");
                // In uneven slices, one with a NaN (left out).
                let mut with_nan = vals[..len].to_vec();
                with_nan.insert(len / 2, f64::NAN);
                let cut = [0, len / 3, len / 2 + 1, len + 1];
                let got = QuantileSummary::from_slices(
                    cut.windows(2).map(|w| &with_nan[w[0]..w[1]]),
                    eps,
                );
                assert_eq!(got.count, want.count, "slices: eps {eps} len {len}");
                assert_eq!(got.sampled, want.sampled, "slices: eps {eps} len {len}");
            }
        }
    }

    #[test]
    fn median_rank_is_within_the_relative_error() {
        // 100,000 distinct values in 7 unequal parts, shuffled by a fixed permutation
        let n = 100_000u64;
        let vals: Vec<f64> = (0..n).map(|i| ((i * 7_919) % n) as f64).collect();
        let bounds = [0, 3_000, 20_000, 21_000, 50_000, 77_777, 90_000, 100_000];
        for eps in [0.001, 0.01] {
            let parts = bounds
                .windows(2)
                .map(|w| QuantileSummary::from_values(vals[w[0]..w[1]].iter().copied(), eps));
            let all = QuantileSummary::merge_all(parts);
            assert_eq!(all.count(), n);
            for q in [0.1, 0.5, 0.9] {
                let m = all.query(q).unwrap();
                // value v has rank v + 1 among 0..n; the target rank is ceil(q n)
                let err = (m + 1.0 - (q * n as f64).ceil()).abs();
                assert!(
                    err <= eps * n as f64,
                    "eps {eps} q {q}: {m}, rank error {err}"
                );
            }
        }
        let exact = QuantileSummary::from_values(vals.iter().copied(), 0.0)
            .query(0.5)
            .unwrap();
        assert_eq!(exact, (n / 2 - 1) as f64);
    }

    #[test]
    fn sparse_rows_summarise_like_their_dense_form() {
        use crate::frame::vector::Row;
        let n = 4;
        let dense: Vec<f64> = vec![
            0.0, 2.0, 0.0, -1.0, //
            3.0, 0.0, 0.0, 5.0, //
            0.0, 0.0, 0.0, 7.0, //
            1.0, 4.0, 0.0, 0.0,
        ];
        let idx: [&[i32]; 4] = [&[1, 3], &[0, 3], &[3], &[0, 1]];
        let val: [&[f64]; 4] = [&[2.0, -1.0], &[3.0, 5.0], &[7.0], &[1.0, 4.0]];
        for weights in [None, Some(vec![1.0, 2.0, 0.0, 0.5])] {
            let want = FeatureSummary::from_block(&dense, n, weights.as_deref());
            let w = |i: usize| weights.as_ref().map_or(1.0, |w| w[i]);
            let rows = (0..4).map(|i| {
                (
                    Row::Sparse {
                        size: n,
                        indices: idx[i],
                        values: val[i],
                    },
                    w(i),
                )
            });
            let got = FeatureSummary::from_rows(n, rows);
            assert_eq!((got.count, got.weight_sum), (want.count, want.weight_sum));
            assert_eq!(
                (got.min.clone(), got.max.clone()),
                (want.min.clone(), want.max.clone())
            );
            for j in 0..n {
                assert!((got.mean[j] - want.mean[j]).abs() < 1e-14, "{j}");
                assert!((got.m2[j] - want.m2[j]).abs() < 1e-12, "{j}");
            }
        }
    }

    #[test]
    fn the_radix_sort_orders_as_total_cmp() {
        // -0.0 before 0.0, infinities at the ends, subnormals, repeats: the order Spark's
        // `sorted` gives (java.lang.Double.compare), bit for bit.
        let pool = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            5e-324,
            -5e-324,
            1e300,
            -1e-300,
            2.5,
        ];
        let mut v: Vec<f64> = (0..5000)
            .map(|i| pool[(i * 7 + i / 3) % pool.len()] * (1 + i % 4) as f64)
            .collect();
        // Values whose every byte varies (all eight digits sorted), and tiny inputs.
        v.extend(
            (0..3000u64).map(|i| {
                f64::from_bits(i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 2) - 1e-3 * i as f64
            }),
        );
        let mut scratch = Vec::new();
        for len in [0, 1, 2, 3, 5000, v.len()] {
            let mut w = v[..len].to_vec();
            let mut x = w.clone();
            w.sort_by(f64::total_cmp);
            let got: Vec<u64> = radix_sort_keys(&mut x, &mut scratch)
                .iter()
                .map(|&k| from_order_key(k).to_bits())
                .collect();
            let want: Vec<u64> = w.iter().map(|x| x.to_bits()).collect();
            assert_eq!(got, want, "{len}");
        }
    }

    #[test]
    fn many_queries_agree_with_single_ones_and_keep_their_order() {
        let vals: Vec<f64> = (0..70_000u64).map(|i| ((i * 31) % 1000) as f64).collect();
        let s = QuantileSummary::from_values(vals, 0.01);
        let qs = [0.75, 0.0, 0.5, 1.0, 0.25];
        let many = s.query_many(&qs).unwrap();
        assert_eq!(many[1], 0.0);
        assert_eq!(many[3], 999.0);
        assert!(many[4] <= many[2] && many[2] <= many[0]);
        assert!(QuantileSummary::new(0.01).query(0.5).is_none());
    }
}
