//! Split candidates and binning, as Spark's `DecisionTreeMetadata`, `RandomForest.findSplits`
//! and `TreePoint` compute them.
//!
//! Continuous features get midpoint thresholds between distinct (sampled) values, with the
//! zeros re-inserted as one value carrying the missing weight; categorical features (from
//! the features column's nominal metadata) are ordered (one bin per category) or, for
//! multiclass problems with few categories, unordered (one bin per subset). Every row is
//! binned once into a matrix of one byte per value (two above 256 bins): column-major for
//! trees grown from per-node row lists, row-major for trees grown by level sweeps (below
//! the root a sweep visits a fraction of the rows, and a row's bins then sit in one or two
//! cache lines instead of one line per feature). Either way there is one binned copy.

use rayon::prelude::*;

use super::{Instances, Strategy};
use crate::error::{Error, Result};
use crate::random::{JavaRandom, JvmRandom, XorShiftRandom};

/// How one feature is split.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FeatureKind {
    /// Thresholds ascending; bin `b` holds values in `(t[b-1], t[b]]`.
    Continuous(Vec<f64>),
    /// Categories `0..arity`; one bin per category, sorted by centroid per node.
    Ordered { arity: usize },
    /// Categories `0..arity`; split `s` sends the categories of bitmask `s + 1` left.
    Unordered { arity: usize },
}

/// Per-feature split candidates and the binned rows.
pub(crate) struct Binned {
    pub kinds: Vec<FeatureKind>,
    /// Histogram bins per feature (`numBins` in Spark).
    pub num_bins: Vec<usize>,
    /// The bins: feature `f`'s bin of row `i` at `f * rows + i` (column-major) or at
    /// `i * kinds.len() + f` ([`BinColumns::RowMajorU8`]).
    pub bins: BinColumns,
    pub rows: usize,
}

/// The binned matrix, one byte per value when every feature has at most 256 bins.
pub(crate) enum BinColumns {
    /// Column-major bytes.
    U8(Vec<u8>),
    /// Column-major, two bytes per value (some feature has more than 256 bins).
    U16(Vec<u16>),
    /// Row-major bytes: row `i`'s bins are `i * numFeatures..(i + 1) * numFeatures`.
    RowMajorU8(Vec<u8>),
}

impl Binned {
    /// Number of split candidates of feature `f`.
    pub fn num_splits(&self, f: usize) -> usize {
        match self.kinds[f] {
            FeatureKind::Unordered { .. } => self.num_bins[f],
            _ => self.num_bins[f] - 1,
        }
    }

    /// Bin of row `i` for feature `f`.
    #[inline]
    pub fn bin(&self, f: usize, i: usize) -> usize {
        match &self.bins {
            BinColumns::U8(b) => b[f * self.rows + i] as usize,
            BinColumns::U16(b) => b[f * self.rows + i] as usize,
            BinColumns::RowMajorU8(b) => b[i * self.kinds.len() + f] as usize,
        }
    }
}

/// The largest number of categories handled as unordered for a given `maxPossibleBins`
/// (Spark's `numUnorderedBins` bound): `floor(log2(maxPossibleBins / 2 + 1) + 1)`.
fn max_unordered_arity(max_possible_bins: usize) -> usize {
    (((max_possible_bins / 2 + 1) as f64).ln() / 2f64.ln() + 1.0).floor() as usize
}

/// Builds the split candidates (with Spark's sampling above `max(maxBins², 10000)` rows) and
/// bins every row, row-major when `row_major` and every feature has at most 256 bins (the
/// layout of level sweeps, `growth::sweep_layout`), else column-major.
pub(crate) fn bin_instances(
    inst: &Instances,
    strategy: &Strategy,
    stage: &'static str,
    row_major: bool,
) -> Result<Binned> {
    let n = inst.num_features;
    let rows = inst.num_rows();
    let max_possible_bins = strategy.max_bins.min(rows);
    let multiclass = strategy.num_classes > 2 && strategy.impurity != super::Impurity::Variance;
    let max_u = max_unordered_arity(max_possible_bins);
    let mut kinds = Vec::with_capacity(n);
    let mut num_bins = vec![max_possible_bins; n];
    for (f, nb) in num_bins.iter_mut().enumerate() {
        match strategy.categorical.get(&f) {
            Some(&arity) => {
                if arity > max_possible_bins {
                    return Err(Error::InvalidParam {
                        stage,
                        param: "maxBins".into(),
                        expected: format!(
                            "at least as large as the number of values in each categorical feature \
                             (DecisionTree requires maxBins (= {max_possible_bins}) to be at least as large as \
                             the number of values in each categorical feature, but categorical feature {f} has \
                             {arity} values; consider removing this and other categorical features with a large \
                             number of values, or add more training examples)"
                        ),
                        got: strategy.max_bins.to_string(),
                    });
                }
                if arity <= 1 {
                    kinds.push(FeatureKind::Ordered { arity });
                } else if multiclass && arity <= max_u {
                    kinds.push(FeatureKind::Unordered { arity });
                    *nb = (1usize << (arity - 1)) - 1;
                } else {
                    kinds.push(FeatureKind::Ordered { arity });
                    *nb = arity;
                }
            }
            None => kinds.push(FeatureKind::Continuous(Vec::new())),
        }
    }
    let meta_max_bins = num_bins.iter().copied().max().unwrap_or(0);
    let continuous: Vec<usize> = (0..n)
        .filter(|&f| matches!(kinds[f], FeatureKind::Continuous(_)))
        .collect();
    if !continuous.is_empty() {
        let (sample, fraction) = sample_rows(inst, meta_max_bins, strategy.seed);
        let total_weight = inst.total_weight();
        let thresholds: Vec<Vec<f64>> = continuous
            .par_iter()
            .map(|&f| {
                continuous_thresholds(
                    inst,
                    &sample,
                    f,
                    fraction * total_weight,
                    max_possible_bins - 1,
                )
            })
            .collect();
        for (&f, t) in continuous.iter().zip(thresholds) {
            num_bins[f] = t.len() + 1;
            kinds[f] = FeatureKind::Continuous(t);
        }
    }
    check_categories(inst, &kinds, stage)?;
    let wide = num_bins.iter().any(|&b| b > 256);
    let bins = if wide {
        BinColumns::U16(bin_columns::<u16>(inst, &kinds))
    } else if row_major {
        BinColumns::RowMajorU8(bin_rows(inst, &kinds))
    } else {
        BinColumns::U8(bin_columns::<u8>(inst, &kinds))
    };
    Ok(Binned {
        kinds,
        num_bins,
        bins,
        rows,
    })
}

/// Bins `inst` (validation rows) with the split candidates of the training rows `train`.
pub(crate) fn bin_with(inst: &Instances, train: &Binned, stage: &'static str) -> Result<Binned> {
    check_categories(inst, &train.kinds, stage)?;
    let rows = inst.num_rows();
    let bins = match train.bins {
        BinColumns::U8(_) => BinColumns::U8(bin_columns::<u8>(inst, &train.kinds)),
        BinColumns::U16(_) => BinColumns::U16(bin_columns::<u16>(inst, &train.kinds)),
        BinColumns::RowMajorU8(_) => BinColumns::RowMajorU8(bin_rows(inst, &train.kinds)),
    };
    Ok(Binned {
        kinds: train.kinds.clone(),
        num_bins: train.num_bins.clone(),
        bins,
        rows,
    })
}

/// Categorical values must be whole categories in `[0, arity)` (truncated toward zero).
fn check_categories(inst: &Instances, kinds: &[FeatureKind], stage: &'static str) -> Result<()> {
    for (f, kind) in kinds.iter().enumerate() {
        let arity = match kind {
            FeatureKind::Ordered { arity } | FeatureKind::Unordered { arity } => *arity,
            FeatureKind::Continuous(_) => continue,
        };
        if let Some((p, r, v)) = inst.find_row(
            |row| {
                let c = row[f].trunc();
                !(c >= 0.0 && (c as usize) < arity.max(1))
            },
            f,
        ) {
            return Err(Error::InvalidValue {
                stage,
                column: inst.features_col.clone(),
                partition: p,
                row: r,
                what: format!("categorical feature {f} has value {v}, outside its {arity} categories [0, {arity})"),
                hint: "DecisionTree was given invalid data: fix the feature's nominal metadata (numValues) or the values".into(),
            });
        }
    }
    Ok(())
}

trait BinValue: Copy + Send + Sync + Default {
    fn from_usize(v: usize) -> Self;
}
impl BinValue for u8 {
    fn from_usize(v: usize) -> Self {
        v as u8
    }
}
impl BinValue for u16 {
    fn from_usize(v: usize) -> Self {
        v as u16
    }
}

/// Bins every row: one task per block of [`BIN_CHUNK_ROWS`] rows, each reading its rows
/// once (row-major, in place) and writing its stretch of every feature's column.
fn bin_columns<T: BinValue>(inst: &Instances, kinds: &[FeatureKind]) -> Vec<T> {
    let rows = inst.num_rows();
    let n = inst.num_features;
    // Fresh memory advised into huge pages (first touch of 4 KB pages costs ~4x more).
    let mut out = crate::frame::buffer::with_exact_capacity(rows * n);
    out.resize(rows * n, T::default());
    if rows == 0 {
        return out;
    }
    let mut cols: Vec<&mut [T]> = out.chunks_mut(rows).collect();
    let mut chunks: Vec<(&[f64], Vec<&mut [T]>)> = Vec::new();
    for part in &inst.parts {
        for x in part.chunks(BIN_CHUNK_ROWS * n) {
            let len = x.len() / n;
            let pieces = cols
                .iter_mut()
                .map(|c| {
                    let (mine, rest) = std::mem::take(c).split_at_mut(len);
                    *c = rest;
                    mine
                })
                .collect();
            chunks.push((x, pieces));
        }
    }
    chunks.into_par_iter().for_each(|(x, mut pieces)| {
        for (f, col) in pieces.iter_mut().enumerate() {
            feature_bins(x, n, f, &kinds[f], col);
        }
    });
    out
}

/// The bins of feature `f` of the row-major rows `x` (`n` values a row) into `col`.
fn feature_bins<T: BinValue>(x: &[f64], n: usize, f: usize, kind: &FeatureKind, col: &mut [T]) {
    match kind {
        FeatureKind::Continuous(t) if t.len() <= LINEAR_BIN_SEARCH => bin_linear(x, n, f, t, col),
        FeatureKind::Continuous(t) => {
            for (c, row) in col.iter_mut().zip(x.chunks_exact(n)) {
                let v = row[f];
                *c = T::from_usize(t.partition_point(|&th| th < v));
            }
        }
        _ => {
            for (c, row) in col.iter_mut().zip(x.chunks_exact(n)) {
                *c = T::from_usize(row[f].trunc() as usize);
            }
        }
    }
}

/// Bins every row into a row-major byte matrix (every feature has at most 256 bins): one
/// task per block of [`BIN_CHUNK_ROWS`] rows, each feature's bins computed as in
/// [`bin_columns`] and written into its place of each row.
fn bin_rows(inst: &Instances, kinds: &[FeatureKind]) -> Vec<u8> {
    let rows = inst.num_rows();
    let n = inst.num_features;
    // Fresh memory advised into huge pages (first touch of 4 KB pages costs ~4x more).
    let mut out = crate::frame::buffer::with_exact_capacity(rows * n);
    out.resize(rows * n, 0u8);
    let mut rest: &mut [u8] = &mut out;
    let mut chunks: Vec<(&[f64], &mut [u8])> = Vec::new();
    for part in &inst.parts {
        for x in part.chunks(BIN_CHUNK_ROWS * n) {
            let (mine, r) = std::mem::take(&mut rest).split_at_mut(x.len());
            rest = r;
            chunks.push((x, mine));
        }
    }
    chunks.into_par_iter().for_each(|(x, out)| {
        let mut col = [0u8; BIN_CHUNK_ROWS];
        let col = &mut col[..x.len() / n];
        for (f, kind) in kinds.iter().enumerate() {
            feature_bins(x, n, f, kind, col);
            for (row, &c) in out.chunks_exact_mut(n).zip(col.iter()) {
                row[f] = c;
            }
        }
    });
    out
}

/// Rows binned per task: 1024 rows of 20 features (160 KB) stay in the core's cache while
/// each of their features is binned.
const BIN_CHUNK_ROWS: usize = 1024;

/// Up to this many thresholds a value's bin is counted over all of them (vector compares)
/// rather than found by a binary search.
const LINEAR_BIN_SEARCH: usize = 64;

/// The bins of feature `f` of the row-major rows `x`: the number of thresholds below each
/// value, which is `partition_point(|t| t < v)` of the ascending thresholds.
#[inline(always)]
fn bin_linear<T: BinValue>(x: &[f64], n: usize, f: usize, t: &[f64], col: &mut [T]) {
    let mut bins = [0u8; BIN_CHUNK_ROWS];
    count_below(x, n, f, t, &mut bins[..col.len()]);
    for (c, &b) in col.iter_mut().zip(&bins) {
        *c = T::from_usize(usize::from(b));
    }
}

/// `out[i]` = how many of `t` (at most 255) are below feature `f` of row `i` of `x`.
fn count_below(x: &[f64], n: usize, f: usize, t: &[f64], out: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if crate::frame::kernels::widest_build() >= crate::frame::kernels::Build::Avx2
        && std::is_x86_feature_detected!("avx2")
    {
        // SAFETY: the CPU has AVX2.
        unsafe { count_below_avx2(x, n, f, t, out) };
        return;
    }
    for (o, row) in out.iter_mut().zip(x.chunks_exact(n)) {
        *o = count_one(t, row[f]);
    }
}

/// How many of `t` are below `v` (none for a NaN value).
#[inline]
fn count_one(t: &[f64], v: f64) -> u8 {
    t.iter().map(|&th| u8::from(th < v)).sum()
}

/// [`count_below`] eight rows at a time: their values in two registers, then per
/// threshold two compares and two subtractions of the all-ones lanes (−1) from the
/// eight counts. (A value at a time, each value's compares must be summed across the
/// vector: the compiler's code for that spent most of the binning in a scalar tail.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn count_below_avx2(x: &[f64], n: usize, f: usize, t: &[f64], out: &mut [u8]) {
    use std::arch::x86_64::*;
    let rows = out.len().min(x.len().checked_div(n).unwrap_or(0));
    let mut r = 0;
    while r + 8 <= rows {
        let v: [f64; 8] = std::array::from_fn(|l| x[(r + l) * n + f]);
        // SAFETY: `v` holds 8 values, `counts` 8 i64.
        unsafe {
            let lo = _mm256_loadu_pd(v.as_ptr());
            let hi = _mm256_loadu_pd(v.as_ptr().add(4));
            let (mut below_lo, mut below_hi) = (_mm256_setzero_si256(), _mm256_setzero_si256());
            for &th in t {
                let tv = _mm256_set1_pd(th);
                // `v > th` (ordered: false for a NaN value) is `th < v`.
                let m_lo = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_GT_OQ>(lo, tv));
                let m_hi = _mm256_castpd_si256(_mm256_cmp_pd::<_CMP_GT_OQ>(hi, tv));
                below_lo = _mm256_sub_epi64(below_lo, m_lo);
                below_hi = _mm256_sub_epi64(below_hi, m_hi);
            }
            let mut counts = [0i64; 8];
            _mm256_storeu_si256(counts.as_mut_ptr().cast(), below_lo);
            _mm256_storeu_si256(counts.as_mut_ptr().add(4).cast(), below_hi);
            for (o, &c) in out[r..r + 8].iter_mut().zip(&counts) {
                *o = c as u8;
            }
        }
        r += 8;
    }
    for (o, row) in out[r..rows].iter_mut().zip(x[r * n..].chunks_exact(n)) {
        *o = count_one(t, row[f]);
    }
}

/// The rows used to find continuous thresholds, as global row indices, and the fraction.
fn sample_rows(inst: &Instances, meta_max_bins: usize, seed: i64) -> (Vec<usize>, f64) {
    let rows = inst.num_rows();
    let required = (meta_max_bins * meta_max_bins).max(10_000);
    if required >= rows {
        return ((0..rows).collect(), 1.0);
    }
    let fraction = required as f64 / rows as f64;
    let sample_seed = XorShiftRandom::new(seed).next_int() as i64;
    let mut seeds = JavaRandom::new(sample_seed);
    let mut out = Vec::with_capacity(required + required / 8);
    let mut base = 0;
    for p in 0..inst.parts.len() {
        let n_p = inst.part_rows(p);
        let mut rng = XorShiftRandom::new(seeds.next_long());
        if fraction <= 0.4 {
            let lnq = (-fraction).ln_1p();
            let gap = |rng: &mut XorShiftRandom| {
                let u = rng.next_double().max(5e-11);
                (u.ln() / lnq) as i64
            };
            let mut drop = gap(&mut rng);
            for i in 0..n_p {
                if drop > 0 {
                    drop -= 1;
                } else {
                    out.push(base + i);
                    drop = gap(&mut rng);
                }
            }
        } else {
            for i in 0..n_p {
                if rng.next_double() <= fraction {
                    out.push(base + i);
                }
            }
        }
        base += n_p;
    }
    (out, fraction)
}

/// Spark's `findSplitsForContinuousFeature` over the sampled rows.
fn continuous_thresholds(
    inst: &Instances,
    sample: &[usize],
    f: usize,
    expected_n: f64,
    num_splits: usize,
) -> Vec<f64> {
    let mut vals: Vec<(f64, f64)> = sample
        .iter()
        .filter_map(|&i| {
            let v = inst.value(i, f);
            (v != 0.0).then(|| (v, inst.weight(i)))
        })
        .collect();
    if vals.is_empty() {
        return Vec::new();
    }
    let count = vals.len();
    vals.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut distinct: Vec<(f64, f64)> = Vec::with_capacity(vals.len());
    for (v, w) in vals {
        match distinct.last_mut() {
            Some(last) if last.0 == v => last.1 += w,
            _ => distinct.push((v, w)),
        }
    }
    let part_n: f64 = distinct.iter().map(|d| d.1).sum();
    let tolerance = f64::EPSILON * count as f64 * 100.0;
    if expected_n - part_n > tolerance {
        let at = distinct.partition_point(|d| d.0 < 0.0);
        distinct.insert(at, (0.0, expected_n - part_n));
    }
    let possible = distinct.len() - 1;
    if possible == 0 {
        return Vec::new();
    }
    let mid = |i: usize| (distinct[i - 1].0 + distinct[i].0) / 2.0;
    if possible <= num_splits {
        return (1..=possible).map(mid).collect();
    }
    let stride = expected_n / (num_splits + 1) as f64;
    let mut out = Vec::with_capacity(num_splits);
    let mut cur = distinct[0].1;
    let mut target = stride;
    for (i, d) in distinct.iter().enumerate().skip(1) {
        let prev = cur;
        cur += d.1;
        if (prev - target).abs() < (cur - target).abs() {
            out.push(mid(i));
            target += stride;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `count_below` (eight rows at a time) gives, in every build,
    /// `partition_point(|t| t < v)` for every row: ties with a threshold, ±∞ and NaN
    /// values, no thresholds, up to the linear search's 64, row counts around 8.
    #[test]
    fn count_below_is_the_partition_point() {
        for nt in [0, 1, 7, 8, 9, 31, 64] {
            let t: Vec<f64> = (0..nt).map(|i| i as f64 * 0.5 - 3.0).collect();
            for rows in [0, 1, 7, 8, 9, 17, 1024] {
                let n = 3;
                let special = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -3.0, 0.5, 100.0];
                let x: Vec<f64> = (0..rows * n)
                    .map(|i| match i % 5 {
                        0 => special[(i / 5) % special.len()],
                        _ => ((i as f64) * 0.731).sin() * 20.0,
                    })
                    .collect();
                for f in 0..n {
                    let want: Vec<u8> = (0..rows)
                        .map(|r| t.partition_point(|&th| th < x[r * n + f]) as u8)
                        .collect();
                    for (b, got) in crate::frame::kernels::in_each_build(|| {
                        let mut got = vec![0u8; rows];
                        count_below(&x, n, f, &t, &mut got);
                        got
                    }) {
                        assert_eq!(
                            got, want,
                            "{b:?}: {nt} thresholds, {rows} rows, feature {f}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn unordered_bound_is_sparks() {
        // Spark's DecisionTreeMetadata.numUnorderedBins: maxBins 32 -> 5 categories at most, maxBins 10 -> 3.
        assert_eq!(max_unordered_arity(32), 5);
        assert_eq!(max_unordered_arity(10), 3);
    }
}
