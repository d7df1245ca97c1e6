//! Mergeable per-feature summaries (Spark's `Summarizer`): weighted count, mean, M2, min,
//! max. A summary is built per row block in two cache-resident passes (mean, then squared
//! deviations), and blocks merge with Chan's formula in a fixed order, so results do not
//! depend on the thread count.
//!
//! # Examples
//! ```
//! use mlpipe::stat::FeatureSummary;
//! // two rows of two features, unit weights
//! let s = FeatureSummary::from_block(&[1.0, 10.0, 3.0, 30.0], 2, None);
//! assert_eq!(s.mean(), vec![2.0, 20.0]);
//! assert_eq!(s.std(), vec![2f64.sqrt(), 200f64.sqrt()]); // sample std (n - 1)
//! ```

/// Calls `f` with each group of four consecutive rows of a row-major block, then with
/// each remaining row alone.
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
            None => Self::from_unweighted_block(values, n),
            Some(w) => Self::from_weighted_block(values, n, w),
        }
    }

    /// The unit-weight case, four rows per step so that each feature's sum, minimum and
    /// maximum are loaded and stored once per four rows (the arrays are too long to stay
    /// in registers).
    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by feature
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

/// A mergeable quantile summary with Spark's `relativeError` guarantee: a query for the
/// `q`-quantile of `n` values returns a value whose rank is within `relative_error * n` of
/// `ceil(q * n)` (with `relative_error = 0`, the exact value at that rank).
///
/// Each part sorts its values and keeps every `floor(relative_error * n_part)`-th one with
/// the number of values it stands for, so a part's rank estimate is off by less than its
/// step; parts merge by concatenation, in a fixed order, and the errors add up to at most
/// `relative_error * n`.
///
/// # Examples
/// ```
/// use mlpipe::stat::QuantileSummary;
/// let a = QuantileSummary::from_values((1..=50).map(f64::from).collect(), 0.0);
/// let b = QuantileSummary::from_values((51..=100).map(f64::from).collect(), 0.0);
/// assert_eq!(QuantileSummary::merge_all([a, b]).query(0.5), Some(50.0));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QuantileSummary {
    /// `(value, how many values it stands for)`, sorted by value.
    samples: Vec<(f64, u64)>,
    count: u64,
}

impl QuantileSummary {
    /// Summarises `values` (NaN excluded by the caller) to within `relative_error`.
    pub fn from_values(mut values: Vec<f64>, relative_error: f64) -> Self {
        values.sort_unstable_by(|a, b| a.total_cmp(b));
        let n = values.len();
        let step = ((relative_error * n as f64).floor() as usize).max(1);
        let mut samples = Vec::with_capacity(n / step + 1);
        let mut last = 0usize;
        let mut i = step - 1;
        while i < n {
            samples.push((values[i], (i + 1 - last) as u64));
            last = i + 1;
            i += step;
        }
        if last < n {
            samples.push((values[n - 1], (n - last) as u64));
        }
        Self {
            samples,
            count: n as u64,
        }
    }

    /// Merges summaries (in the given order).
    pub fn merge_all(parts: impl IntoIterator<Item = QuantileSummary>) -> Self {
        let mut samples = Vec::new();
        let mut count = 0;
        for p in parts {
            samples.extend(p.samples);
            count += p.count;
        }
        samples.sort_by(|a, b| a.0.total_cmp(&b.0));
        Self { samples, count }
    }

    /// Number of values summarised.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The `q`-quantile: the first sample whose cumulative count reaches `ceil(q * n)`
    /// (Spark's target rank); `None` when empty.
    pub fn query(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let target = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut acc = 0;
        for (v, w) in &self.samples {
            acc += w;
            if acc >= target {
                return Some(*v);
            }
        }
        self.samples.last().map(|s| s.0)
    }
}

#[cfg(test)]
mod quantile_tests {
    use super::*;

    #[test]
    fn median_rank_is_within_the_relative_error() {
        // 100,000 distinct values in 7 unequal parts, shuffled by a fixed permutation
        let n = 100_000u64;
        let vals: Vec<f64> = (0..n).map(|i| ((i * 7_919) % n) as f64).collect();
        let bounds = [0, 3_000, 20_000, 21_000, 50_000, 77_777, 90_000, 100_000];
        for eps in [0.001, 0.01] {
            let parts = bounds
                .windows(2)
                .map(|w| QuantileSummary::from_values(vals[w[0]..w[1]].to_vec(), eps));
            let m = QuantileSummary::merge_all(parts).query(0.5).unwrap();
            // value v has rank v + 1 among 0..n; the target rank is n / 2
            let err = (m + 1.0 - (n / 2) as f64).abs();
            assert!(
                err <= eps * n as f64,
                "eps {eps}: median {m}, rank error {err}"
            );
        }
        let exact = QuantileSummary::from_values(vals.clone(), 0.0)
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
}
