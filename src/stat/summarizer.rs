//! [`Summarizer`]: per-feature statistics of a vector column, optionally weighted
//! (Spark's `org.apache.spark.ml.stat.Summarizer`, source
//! `mllib/src/main/scala/org/apache/spark/ml/stat/Summarizer.scala`).

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::input::{check_no_nan, map_chunks, read_parts};
use super::FeatureSummary;
use crate::error::{Error, Result};
use crate::frame::{vector, DataFrame};

const STAGE: &str = "Summarizer";

/// One statistic [`Summarizer`] computes; names as Spark's (`"mean"`, `"numNonZeros"`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SummaryMetric {
    /// Weighted mean.
    Mean,
    /// Weighted sum.
    Sum,
    /// Unbiased weighted variance.
    Variance,
    /// Unbiased weighted standard deviation.
    Std,
    /// Number of rows with a positive weight.
    Count,
    /// Number of non-zero values (a count, not weighted).
    NumNonZeros,
    /// Maximum.
    Max,
    /// Minimum.
    Min,
    /// Weighted Euclidean norm `sqrt(Σ w·x²)`.
    NormL2,
    /// Weighted L1 norm `Σ w·|x|`.
    NormL1,
}

impl SummaryMetric {
    /// Every metric, in Spark's order.
    pub const ALL: [SummaryMetric; 10] = [
        Self::Mean,
        Self::Sum,
        Self::Variance,
        Self::Std,
        Self::Count,
        Self::NumNonZeros,
        Self::Max,
        Self::Min,
        Self::NormL2,
        Self::NormL1,
    ];

    /// Spark's name of the metric.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mean => "mean",
            Self::Sum => "sum",
            Self::Variance => "variance",
            Self::Std => "std",
            Self::Count => "count",
            Self::NumNonZeros => "numNonZeros",
            Self::Max => "max",
            Self::Min => "min",
            Self::NormL2 => "normL2",
            Self::NormL1 => "normL1",
        }
    }
}

impl FromStr for SummaryMetric {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                Error::param(
                    STAGE,
                    "metrics",
                    format!(
                        "one of {:?}",
                        Self::ALL.iter().map(|m| m.name()).collect::<Vec<_>>()
                    ),
                    format!("{s:?}"),
                )
            })
    }
}

/// Per-feature statistics of a vector column, dense or sparse, optionally weighted (Spark's
/// `org.apache.spark.ml.stat.Summarizer`): mean, sum, variance, std, count, numNonZeros,
/// max, min, normL2 and normL1.
///
/// One parallel pass over fixed-size row chunks; each chunk's summary (the moments of
/// [`FeatureSummary`], the one the scalers use, plus non-zero counts and norms) merges into
/// the total in chunk order, so the result is the same on any thread count. Rows of weight
/// 0 are left out, as Spark leaves them out; the variance is Spark's unbiased weighted
/// one, `M2 / (W − Σw²/W)`. Sparse rows are read without densifying them: their unstored
/// zeros count in the mean, variance, minimum and maximum.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::stat::Summarizer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let s = Summarizer::metrics(["mean", "max", "count"])?.summary(&df, "v", None)?;
/// assert_eq!(s.count(), df.num_rows() as u64);
/// assert_eq!(s.mean().len(), 2);
/// let frame = s.to_frame()?; // Spark's `summary.*` columns: mean, max, count
/// assert_eq!(frame.schema().fields().len(), 3);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for an unknown metric name; [`Error::ColumnNotFound`] /
/// [`Error::ColumnType`] for a missing or non-vector features column or a non-numeric
/// weight column; [`Error::InvalidValue`] for a null or NaN feature value or a negative,
/// non-finite or null weight (naming partition and row); [`Error::EmptyInput`] when no row
/// has a positive weight.
#[derive(Clone, Debug, PartialEq)]
pub struct Summarizer {
    metrics: Vec<SummaryMetric>,
}

impl Summarizer {
    /// A summarizer of the named metrics (Spark's `Summarizer.metrics("mean", …)`), in the
    /// order given.
    pub fn metrics(names: impl IntoIterator<Item = impl AsRef<str>>) -> Result<Self> {
        let metrics = names
            .into_iter()
            .map(|n| n.as_ref().parse())
            .collect::<Result<Vec<SummaryMetric>>>()?;
        if metrics.is_empty() {
            return Err(Error::param(
                STAGE,
                "metrics",
                "at least one metric name",
                "none",
            ));
        }
        Ok(Self { metrics })
    }

    /// A summarizer of every metric.
    pub fn all() -> Self {
        Self {
            metrics: SummaryMetric::ALL.to_vec(),
        }
    }

    /// The metrics, in order.
    pub fn metric_list(&self) -> &[SummaryMetric] {
        &self.metrics
    }

    /// Summarises the vector column `features` of `df`, weighted by the numeric column
    /// `weight` when given (Spark's `summary(col(features), col(weight))`).
    pub fn summary(&self, df: &DataFrame, features: &str, weight: Option<&str>) -> Result<Summary> {
        let (n, parts) = read_parts(df, STAGE, features, None, weight)?;
        let chunks = map_chunks(&parts, |part, first, rows| {
            check_no_nan(STAGE, features, part, first, rows)?;
            if let (Some(x), true) = (part.block.as_dense(), n > 0) {
                let w = part.weight.as_deref().map(|w| &w[first..first + rows]);
                return Ok(dense_chunk(&x[first * n..(first + rows) * n], n, w));
            }
            let w = |r: usize| part.weight.as_ref().map_or(1.0, |w| w[r]);
            let it = (first..first + rows).filter_map(|r| part.block.row(r).map(|x| (x, w(r))));
            let moments = FeatureSummary::from_rows(n, it.clone());
            let mut nnz = vec![0u64; n];
            let mut l1 = vec![0.0; n];
            let mut l2 = vec![0.0; n];
            for (x, w) in it {
                if w <= 0.0 {
                    continue;
                }
                x.for_each_active(|j, v| {
                    if v != 0.0 {
                        nnz[j] += 1;
                        l1[j] += w * v.abs();
                        l2[j] += w * v * v;
                    }
                });
            }
            Ok((moments, nnz, l1, l2))
        })?;
        let mut moments = FeatureSummary::empty(n);
        let mut nnz = vec![0u64; n];
        let mut l1 = vec![0.0; n];
        let mut l2 = vec![0.0; n];
        for (m, z, a, b) in &chunks {
            moments.merge(m);
            for j in 0..n {
                nnz[j] += z[j];
                l1[j] += a[j];
                l2[j] += b[j];
            }
        }
        if moments.weight_sum <= 0.0 {
            return Err(Error::EmptyInput {
                stage: STAGE,
                hint: format!(
                    "column `{features}` has no row{}; a summary needs at least one",
                    if weight.is_some() {
                        " with a positive weight"
                    } else {
                        ""
                    }
                ),
            });
        }
        Ok(Summary {
            metrics: self.metrics.clone(),
            variance: moments.variance(),
            sum: moments
                .mean
                .iter()
                .map(|m| m * moments.weight_sum)
                .collect(),
            moments,
            num_nonzeros: nnz,
            norm_l1: l1,
            norm_l2: l2.into_iter().map(f64::sqrt).collect(),
        })
    }
}

/// What one chunk of rows contributes: the moments, non-zero counts, and the L1 / L2²
/// sums.
type ChunkSummary = (FeatureSummary, Vec<u64>, Vec<f64>, Vec<f64>);

/// One chunk of dense rows (`values`, `n` a row; no null row: the input check refuses
/// them), unweighted (`weights` `None`) or weighted: the moments, non-zero counts and
/// L1 / L2² sums that the general row walk (`FeatureSummary::from_rows` and the norm
/// loop) gives, bit for bit — every feature accumulated over the rows in the same order
/// with the same operations (a unit weight multiplies exactly, rows of weight `<= 0` are
/// skipped) — in two passes over the chunk (the second, for the squared deviations, from
/// the cache) that run across the features in registers (see [`dense_pass`]).
#[allow(clippy::needless_range_loop)] // parallel arrays indexed by row / feature
fn dense_chunk(values: &[f64], n: usize, weights: Option<&[f64]>) -> ChunkSummary {
    let mut s = FeatureSummary::empty(n);
    let mut sum = vec![0.0; n];
    let mut nnz = vec![0u64; n];
    let mut l1 = vec![0.0; n];
    let mut l2 = vec![0.0; n];
    match weights {
        None => {
            let rows = values.len() / n;
            s.count = rows as u64;
            // The row walk adds 1.0 per row: exact up to 2^53 rows.
            s.weight_sum = rows as f64;
            s.weight_sq_sum = s.weight_sum;
        }
        Some(w) => {
            for &w in w {
                if w > 0.0 {
                    s.count += 1;
                    s.weight_sum += w;
                    s.weight_sq_sum += w * w;
                }
            }
        }
    }
    if s.weight_sum == 0.0 {
        return (s, nnz, l1, l2);
    }
    {
        let mut acc = Sums {
            sum: &mut sum,
            min: &mut s.min,
            max: &mut s.max,
            nnz: &mut nnz,
            l1: &mut l1,
            l2: &mut l2,
            m2: &mut [],
            mean: &[],
        };
        dense_pass(values, n, weights, &mut acc, false);
    }
    for j in 0..n {
        s.mean[j] = sum[j] / s.weight_sum;
    }
    {
        let mut acc = Sums {
            sum: &mut [],
            min: &mut [],
            max: &mut [],
            nnz: &mut [],
            l1: &mut [],
            l2: &mut [],
            m2: &mut s.m2,
            mean: &s.mean,
        };
        dense_pass(values, n, weights, &mut acc, true);
    }
    for j in 0..n {
        // from_rows' unstored-zeros term: every row stores every feature, so its weight
        // is weight_sum - weight_sum = 0 (kept: 0 · mean² is NaN for an infinite mean).
        s.m2[j] += 0.0 * s.mean[j] * s.mean[j];
    }
    (s, nnz, l1, l2)
}

/// The per-feature accumulators of [`dense_pass`] (the first pass's, or the second's
/// `m2` with the `mean`).
struct Sums<'a> {
    sum: &'a mut [f64],
    min: &'a mut [f64],
    max: &'a mut [f64],
    nnz: &'a mut [u64],
    l1: &'a mut [f64],
    l2: &'a mut [f64],
    m2: &'a mut [f64],
    mean: &'a [f64],
}

/// Rows per sub-block of [`dense_pass`]: 256 rows of 20 features (40 KB) stay in L1.
const PASS_ROWS: usize = 256;

/// One pass over dense rows: the first (`second` false: Σ w·x, min, max, non-zeros,
/// Σ w·|x|, Σ w·x² over non-zeros) or the second (Σ w·(x − mean)²). Rows are taken in
/// sub-blocks that stay in L1; within one, the features go eight (then four, then one)
/// at a time, each group's accumulators held in registers across the sub-block's rows,
/// so every feature still sees its rows in order. Rows of weight `<= 0` are skipped.
fn dense_pass(values: &[f64], n: usize, weights: Option<&[f64]>, acc: &mut Sums<'_>, second: bool) {
    let rows = values.len() / n;
    let mut r0 = 0;
    while r0 < rows {
        let r1 = (r0 + PASS_ROWS).min(rows);
        let block = &values[r0 * n..r1 * n];
        let w = weights.map(|w| &w[r0..r1]);
        let mut j = 0;
        while j < n {
            let width = if n - j >= 8 {
                8
            } else if n - j >= 4 {
                4
            } else {
                1
            };
            match (width, second) {
                (8, false) => first_group8(block, n, j, w, acc),
                (4, false) => first_group4(block, n, j, w, acc),
                (_, false) => first_group1(block, n, j, w, acc),
                (8, true) => second_group8(block, n, j, w, acc),
                (4, true) => second_group4(block, n, j, w, acc),
                (_, true) => second_group1(block, n, j, w, acc),
            }
            j += width;
        }
        r0 = r1;
    }
}

/// The first pass over features `j..j + L` of a row block (see [`dense_pass`]).
#[inline(always)]
fn first_group<const L: usize>(
    block: &[f64],
    n: usize,
    j: usize,
    w: Option<&[f64]>,
    a: &mut Sums<'_>,
) {
    let take = |v: &[f64]| -> [f64; L] { v[j..j + L].try_into().expect("L values") };
    let (mut sum, mut min, mut max) = (take(a.sum), take(a.min), take(a.max));
    let (mut l1, mut l2) = (take(a.l1), take(a.l2));
    let mut nnz: [u64; L] = a.nnz[j..j + L].try_into().expect("L values");
    let mut row = |x: &[f64; L], w: f64| {
        for l in 0..L {
            let v = x[l];
            sum[l] += w * v;
            min[l] = min[l].min(v);
            max[l] = max[l].max(v);
            // Adding 0.0 for a zero leaves these sums (never -0.0) as skipping it does.
            let nz = v != 0.0;
            nnz[l] += nz as u64;
            l1[l] += if nz { w * v.abs() } else { 0.0 };
            l2[l] += if nz { w * v * v } else { 0.0 };
        }
    };
    match w {
        None => {
            for x in block.chunks_exact(n) {
                row(x[j..j + L].try_into().expect("L values"), 1.0);
            }
        }
        Some(ws) => {
            for (x, &w) in block.chunks_exact(n).zip(ws) {
                if w > 0.0 {
                    row(x[j..j + L].try_into().expect("L values"), w);
                }
            }
        }
    }
    a.sum[j..j + L].copy_from_slice(&sum);
    a.min[j..j + L].copy_from_slice(&min);
    a.max[j..j + L].copy_from_slice(&max);
    a.l1[j..j + L].copy_from_slice(&l1);
    a.l2[j..j + L].copy_from_slice(&l2);
    a.nnz[j..j + L].copy_from_slice(&nnz);
}

/// The second pass over features `j..j + L` of a row block (see [`dense_pass`]).
#[inline(always)]
fn second_group<const L: usize>(
    block: &[f64],
    n: usize,
    j: usize,
    w: Option<&[f64]>,
    a: &mut Sums<'_>,
) {
    let mut m2: [f64; L] = a.m2[j..j + L].try_into().expect("L values");
    let mean: [f64; L] = a.mean[j..j + L].try_into().expect("L values");
    let mut row = |x: &[f64; L], w: f64| {
        for l in 0..L {
            let d = x[l] - mean[l];
            m2[l] += w * d * d;
        }
    };
    match w {
        None => {
            for x in block.chunks_exact(n) {
                row(x[j..j + L].try_into().expect("L values"), 1.0);
            }
        }
        Some(ws) => {
            for (x, &w) in block.chunks_exact(n).zip(ws) {
                if w > 0.0 {
                    row(x[j..j + L].try_into().expect("L values"), w);
                }
            }
        }
    }
    a.m2[j..j + L].copy_from_slice(&m2);
}

macro_rules! group_kernels {
    ($($name:ident = $f:ident::<$l:literal>),* $(,)?) => {$(
        crate::frame::kernels::multiversion! {
            fn $name(block: &[f64], n: usize, j: usize, w: Option<&[f64]>, a: &mut Sums<'_>) {
                $f::<$l>(block, n, j, w, a)
            }
        }
    )*};
}
group_kernels!(
    first_group8 = first_group::<8>,
    first_group4 = first_group::<4>,
    first_group1 = first_group::<1>,
    second_group8 = second_group::<8>,
    second_group4 = second_group::<4>,
    second_group1 = second_group::<1>,
);

/// The result of [`Summarizer::summary`]: every metric, whichever were asked for (those
/// decide [`Summary::to_frame`]'s columns).
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    metrics: Vec<SummaryMetric>,
    moments: FeatureSummary,
    variance: Vec<f64>,
    sum: Vec<f64>,
    num_nonzeros: Vec<u64>,
    norm_l1: Vec<f64>,
    norm_l2: Vec<f64>,
}

impl Summary {
    /// Weighted mean per feature.
    pub fn mean(&self) -> &[f64] {
        &self.moments.mean
    }
    /// Weighted sum per feature.
    pub fn sum(&self) -> &[f64] {
        &self.sum
    }
    /// Unbiased weighted variance per feature.
    pub fn variance(&self) -> &[f64] {
        &self.variance
    }
    /// Unbiased weighted standard deviation per feature.
    pub fn std(&self) -> Vec<f64> {
        self.variance.iter().map(|v| v.sqrt()).collect()
    }
    /// Number of rows with a positive weight.
    pub fn count(&self) -> u64 {
        self.moments.count
    }
    /// Sum of the weights.
    pub fn weight_sum(&self) -> f64 {
        self.moments.weight_sum
    }
    /// Number of non-zero values per feature.
    pub fn num_nonzeros(&self) -> &[u64] {
        &self.num_nonzeros
    }
    /// Maximum per feature.
    pub fn max(&self) -> &[f64] {
        &self.moments.max
    }
    /// Minimum per feature.
    pub fn min(&self) -> &[f64] {
        &self.moments.min
    }
    /// Weighted L2 norm per feature.
    pub fn norm_l2(&self) -> &[f64] {
        &self.norm_l2
    }
    /// Weighted L1 norm per feature.
    pub fn norm_l1(&self) -> &[f64] {
        &self.norm_l1
    }
    /// The moments the summary was built from.
    pub fn moments(&self) -> &FeatureSummary {
        &self.moments
    }

    /// The values of one vector metric (`None` for [`SummaryMetric::Count`]).
    pub fn vector(&self, m: SummaryMetric) -> Option<Vec<f64>> {
        Some(match m {
            SummaryMetric::Mean => self.mean().to_vec(),
            SummaryMetric::Sum => self.sum.clone(),
            SummaryMetric::Variance => self.variance.clone(),
            SummaryMetric::Std => self.std(),
            SummaryMetric::Count => return None,
            SummaryMetric::NumNonZeros => self.num_nonzeros.iter().map(|&c| c as f64).collect(),
            SummaryMetric::Max => self.max().to_vec(),
            SummaryMetric::Min => self.min().to_vec(),
            SummaryMetric::NormL2 => self.norm_l2.clone(),
            SummaryMetric::NormL1 => self.norm_l1.clone(),
        })
    }

    /// The asked-for metrics as a one-row frame, one column per metric in order (Spark's
    /// `select(summary.*)`): vector columns, and `count` as a long.
    pub fn to_frame(&self) -> Result<DataFrame> {
        let mut fields = Vec::new();
        let mut cols: Vec<ArrayRef> = Vec::new();
        for &m in &self.metrics {
            match self.vector(m) {
                Some(v) => {
                    let n = v.len();
                    fields.push(vector::vector_field(m.name(), n, false));
                    cols.push(Arc::new(vector::vector_array(v, n, None)?));
                }
                None => {
                    fields.push(Field::new(m.name(), DataType::Int64, false));
                    cols.push(Arc::new(Int64Array::from(vec![self.count() as i64])));
                }
            }
        }
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?;
        DataFrame::from_batches(vec![batch])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dense_path_is_the_row_walk_bit_for_bit() {
        // 3 features over 1000 rows with zeros, negatives and large spreads.
        let n = 3;
        let values: Vec<f64> = (0..3000)
            .map(|i| match i % 7 {
                0 => 0.0,
                1 => -(i as f64) * 1e-3,
                2 => 1e12 + i as f64,
                _ => ((i * 37 % 101) as f64).sqrt(),
            })
            .collect();
        let (m, nnz, l1, l2) = dense_chunk(&values, n, None);
        let rows = values.chunks_exact(n).map(|x| (vector::Row::Dense(x), 1.0));
        let want = FeatureSummary::from_rows(n, rows.clone());
        assert_eq!(m, want);
        let (mut wz, mut w1, mut w2) = (vec![0u64; n], vec![0.0; n], vec![0.0; n]);
        for (x, w) in rows {
            x.for_each_active(|j, v| {
                if v != 0.0 {
                    wz[j] += 1;
                    w1[j] += w * v.abs();
                    w2[j] += w * v * v;
                }
            });
        }
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(nnz, wz);
        assert_eq!(bits(&l1), bits(&w1));
        assert_eq!(bits(&l2), bits(&w2));
        assert_eq!(bits(&m.m2), bits(&want.m2));
        assert_eq!(bits(&m.mean), bits(&want.mean));
    }
}
