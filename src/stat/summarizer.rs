//! [`Summarizer`]: per-feature statistics of a vector column, optionally weighted
//! (Spark's `org.apache.spark.ml.stat.Summarizer`, source
//! `mllib/src/main/scala/org/apache/spark/ml/stat/Summarizer.scala`).

use std::str::FromStr;
use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::input::{check_no_nan, fold_chunks, provisional_shift, read_parts, Part};
use super::FeatureSummary;
use crate::error::{Error, Result};
use crate::frame::kernels::{MomentSums, Moments};
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
/// One parallel pass over fixed-size row chunks, each feature a lane of eight-wide
/// vectors, computing only what the metrics asked for need: the weighted sums of
/// `x − shift` and of its square about a provisional mean (the first rows' mean, so that
/// large offsets cost no digits; then `mean = shift + Σw·d / W` and
/// `M2 = Σw·d² − (Σw·d)² / W`), the minimum and maximum, the non-zero counts and the two
/// norms. The chunks' sums merge in chunk order, so the result is the same on any thread
/// count. Rows of weight 0 are left out, as Spark leaves them out; the variance is Spark's
/// unbiased weighted one, `M2 / (W − Σw²/W)`. Spark's `SummarizerBuffer` updates a
/// running mean and `M2n` row by row instead: the results agree to rounding (1e-12
/// relative on Spark's fixtures). Sparse rows are read without densifying them: their
/// unstored zeros count in the mean, variance, minimum and maximum.
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
/// assert_eq!(s.mean().map(<[f64]>::len), Some(2));
/// assert_eq!(s.variance(), None); // not asked for, not computed
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
        let has = |m: SummaryMetric| self.metrics.contains(&m);
        use SummaryMetric as M;
        let what = MomentSums {
            sum: [M::Mean, M::Sum, M::Variance, M::Std].into_iter().any(has),
            sq: has(M::Variance) || has(M::Std),
            extremes: has(M::Max) || has(M::Min),
            nonzeros: has(M::NumNonZeros),
            l1: has(M::NormL1),
            l2: has(M::NormL2),
            ..MomentSums::default()
        };
        let shift = provisional_shift(&parts, n);
        let runs = fold_chunks(
            &parts,
            || Moments::new(n, what, 0),
            |m, part, first, rows| {
                let w = part.weight.as_deref().map(|w| &w[first..first + rows]);
                match part.block.as_dense() {
                    Some(x) if n > 0 => {
                        let x = &x[first * n..(first + rows) * n];
                        if !m.add_rows(x, &shift, w, None, None) {
                            // A NaN or ±∞ somewhere: a NaN is an error (±∞ is a value).
                            check_no_nan(STAGE, features, part, first, rows)?;
                        }
                    }
                    _ => {
                        check_no_nan(STAGE, features, part, first, rows)?;
                        sparse_rows(m, what, part, (first, rows), &shift, w);
                    }
                }
                Ok(())
            },
        )?;
        let mut m = Moments::new(n, what, 0);
        for r in &runs {
            m.merge(r);
        }
        if m.weight_sum <= 0.0 {
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
        let w = m.weight_sum;
        // mean = shift + Σw·d / W; M2 = Σw·d² − (Σw·d)² / W (never negative).
        let mean: Vec<f64> = if what.sum {
            (0..n).map(|j| shift[j] + m.sum[j] / w).collect()
        } else {
            Vec::new()
        };
        let variance = what.sq.then(|| {
            FeatureSummary {
                count: m.count,
                weight_sum: w,
                weight_sq_sum: m.weight_sq_sum,
                mean: mean.clone(),
                m2: (0..n)
                    .map(|j| (m.sq[j] - m.sum[j] * m.sum[j] / w).max(0.0))
                    .collect(),
                min: Vec::new(),
                max: Vec::new(),
            }
            .variance()
        });
        let keep = |on: bool, v: Vec<f64>| on.then_some(v);
        Ok(Summary {
            metrics: self.metrics.clone(),
            count: m.count,
            weight_sum: w,
            sum: keep(has(M::Sum), mean.iter().map(|v| v * w).collect()),
            mean: keep(has(M::Mean), mean),
            std: variance
                .as_ref()
                .filter(|_| has(M::Std))
                .map(|v| v.iter().map(|v| v.sqrt()).collect()),
            variance: variance.filter(|_| has(M::Variance)),
            max: keep(has(M::Max), m.max[..n.min(m.max.len())].to_vec()),
            min: keep(has(M::Min), m.min[..n.min(m.min.len())].to_vec()),
            num_nonzeros: has(M::NumNonZeros)
                .then(|| m.nonzeros[..n].iter().map(|&c| c as u64).collect()),
            norm_l1: keep(has(M::NormL1), m.l1[..n.min(m.l1.len())].to_vec()),
            norm_l2: keep(
                has(M::NormL2),
                m.l2[..n.min(m.l2.len())].iter().map(|v| v.sqrt()).collect(),
            ),
        })
    }
}

/// Sparse rows `first..first + rows` of a part into `m`, the same sums as
/// [`Moments::add_rows`] gives dense rows (up to rounding: the unstored zeros of a feature
/// are added at once, after its stored values), touching only the stored values.
#[allow(clippy::needless_range_loop)] // parallel arrays indexed by feature
fn sparse_rows(
    m: &mut Moments,
    what: MomentSums,
    part: &Part<'_>,
    (first, rows): (usize, usize),
    shift: &[f64],
    w: Option<&[f64]>,
) {
    let n = shift.len();
    // Weight and number of the counted rows that store each feature.
    let mut stored_w = vec![0.0; n];
    let mut stored = vec![0u64; n];
    let (mut count, mut wsum, mut wsq) = (0u64, 0.0f64, 0.0f64);
    for r in 0..rows {
        let wr = w.map_or(1.0, |w| w[r]);
        if wr <= 0.0 {
            continue;
        }
        count += 1;
        wsum += wr;
        wsq += wr * wr;
        let Some(x) = part.block.row(first + r) else {
            continue;
        };
        x.for_each_active(|j, v| {
            let d = v - shift[j];
            if what.sum {
                m.sum[j] += wr * d;
            }
            if what.sq {
                m.sq[j] += wr * d * d;
            }
            if what.extremes {
                m.min[j] = m.min[j].min(v);
                m.max[j] = m.max[j].max(v);
            }
            if what.nonzeros && v != 0.0 {
                m.nonzeros[j] += 1.0;
            }
            if what.l1 {
                m.l1[j] += wr * v.abs();
            }
            if what.l2 {
                m.l2[j] += wr * v * v;
            }
            stored_w[j] += wr;
            stored[j] += 1;
        });
    }
    for j in 0..n {
        // The unstored zeros: weight u, each `−shift` from the shift.
        let u = (wsum - stored_w[j]).max(0.0);
        if u > 0.0 {
            if what.sum {
                m.sum[j] += u * -shift[j];
            }
            if what.sq {
                m.sq[j] += u * shift[j] * shift[j];
            }
        }
        if what.extremes && stored[j] < count {
            m.min[j] = m.min[j].min(0.0);
            m.max[j] = m.max[j].max(0.0);
        }
    }
    m.count += count;
    m.weight_sum += wsum;
    m.weight_sq_sum += wsq;
}

/// The result of [`Summarizer::summary`]: the metrics asked for (they decide
/// [`Summary::to_frame`]'s columns). Only those are computed: the accessor of a metric not
/// asked for gives `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    metrics: Vec<SummaryMetric>,
    count: u64,
    weight_sum: f64,
    mean: Option<Vec<f64>>,
    sum: Option<Vec<f64>>,
    variance: Option<Vec<f64>>,
    std: Option<Vec<f64>>,
    max: Option<Vec<f64>>,
    min: Option<Vec<f64>>,
    num_nonzeros: Option<Vec<u64>>,
    norm_l1: Option<Vec<f64>>,
    norm_l2: Option<Vec<f64>>,
}

impl Summary {
    /// Weighted mean per feature (when asked for).
    pub fn mean(&self) -> Option<&[f64]> {
        self.mean.as_deref()
    }
    /// Weighted sum per feature (when asked for).
    pub fn sum(&self) -> Option<&[f64]> {
        self.sum.as_deref()
    }
    /// Unbiased weighted variance per feature (when asked for).
    pub fn variance(&self) -> Option<&[f64]> {
        self.variance.as_deref()
    }
    /// Unbiased weighted standard deviation per feature (when asked for).
    pub fn std(&self) -> Option<&[f64]> {
        self.std.as_deref()
    }
    /// Number of rows with a positive weight (always computed).
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Sum of the weights (always computed).
    pub fn weight_sum(&self) -> f64 {
        self.weight_sum
    }
    /// Number of non-zero values per feature (when asked for).
    pub fn num_nonzeros(&self) -> Option<&[u64]> {
        self.num_nonzeros.as_deref()
    }
    /// Maximum per feature (when asked for).
    pub fn max(&self) -> Option<&[f64]> {
        self.max.as_deref()
    }
    /// Minimum per feature (when asked for).
    pub fn min(&self) -> Option<&[f64]> {
        self.min.as_deref()
    }
    /// Weighted L2 norm per feature (when asked for).
    pub fn norm_l2(&self) -> Option<&[f64]> {
        self.norm_l2.as_deref()
    }
    /// Weighted L1 norm per feature (when asked for).
    pub fn norm_l1(&self) -> Option<&[f64]> {
        self.norm_l1.as_deref()
    }

    /// The values of one vector metric: `None` for [`SummaryMetric::Count`] and for a
    /// metric not asked for.
    pub fn vector(&self, m: SummaryMetric) -> Option<Vec<f64>> {
        Some(match m {
            SummaryMetric::Mean => self.mean()?.to_vec(),
            SummaryMetric::Sum => self.sum()?.to_vec(),
            SummaryMetric::Variance => self.variance()?.to_vec(),
            SummaryMetric::Std => self.std()?.to_vec(),
            SummaryMetric::Count => return None,
            SummaryMetric::NumNonZeros => self.num_nonzeros()?.iter().map(|&c| c as f64).collect(),
            SummaryMetric::Max => self.max()?.to_vec(),
            SummaryMetric::Min => self.min()?.to_vec(),
            SummaryMetric::NormL2 => self.norm_l2()?.to_vec(),
            SummaryMetric::NormL1 => self.norm_l1()?.to_vec(),
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
    use crate::frame::vector::vector_array;

    /// A one-partition frame of the vector column `v` (`n` per row) and the weights `w`.
    fn frame(values: Vec<f64>, n: usize, w: Vec<f64>) -> DataFrame {
        let v = vector_array(values, n, None).unwrap();
        let schema = Schema::new(vec![
            vector::vector_field("v", n, false),
            Field::new("w", DataType::Float64, false),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(v), Arc::new(arrow::array::Float64Array::from(w))],
        )
        .unwrap();
        DataFrame::from_batches(vec![batch]).unwrap()
    }

    fn close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        for (j, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= rtol * y.abs().max(1e-300) || x == y,
                "{what}[{j}]: {x} vs {y}"
            );
        }
    }

    /// Hand derivation: the column `1e9 + {1, 2, 3, 4}` (and its copy at `−1e9`, and a
    /// column of zeros and twos) has mean `±1e9 ± 2.5`, unbiased variance `5/3`: the
    /// offset costs no digits (the sums are taken about a provisional mean). Weights
    /// `{1, 1, 2, 0}`: W = 4, mean `1e9 + 9/4`, M2 = Σw(x − x̄)² = 25/16 + 1/16 + 2·9/16 =
    /// 44/16, variance M2 / (W − Σw²/W) = 2.75 / 2.5 = 1.1 (the third column: mean 1/2,
    /// M2 = 1/4 + 9/4 + 2/4 = 3, variance 1.2). Dense and sparse rows agree.
    #[test]
    fn moments_about_a_provisional_mean_keep_their_digits_dense_and_sparse() {
        let n = 3;
        let mut values = Vec::new();
        for (i, z) in [0.0, 2.0, 0.0, 2.0].into_iter().enumerate() {
            let d = (i + 1) as f64;
            values.extend([1e9 + d, -1e9 - d, z]);
        }
        let df = frame(values, n, vec![1.0, 1.0, 2.0, 0.0]);
        let sparse = df.vectors_to_sparse("v").unwrap();
        for f in [&df, &sparse] {
            let s = Summarizer::all().summary(f, "v", None).unwrap();
            close(
                s.mean().unwrap(),
                &[1e9 + 2.5, -1e9 - 2.5, 1.0],
                1e-15,
                "mean",
            );
            close(
                s.variance().unwrap(),
                &[5.0 / 3.0, 5.0 / 3.0, 4.0 / 3.0],
                1e-12,
                "variance",
            );
            close(
                s.sum().unwrap(),
                &[4e9 + 10.0, -4e9 - 10.0, 4.0],
                1e-15,
                "sum",
            );
            assert_eq!(s.num_nonzeros().unwrap(), &[4, 4, 2]);
            assert_eq!(s.min().unwrap(), &[1e9 + 1.0, -1e9 - 4.0, 0.0]);
            assert_eq!(s.max().unwrap(), &[1e9 + 4.0, -1e9 - 1.0, 2.0]);
            close(
                s.norm_l1().unwrap(),
                &[4e9 + 10.0, 4e9 + 10.0, 4.0],
                1e-15,
                "normL1",
            );
            assert_eq!(s.count(), 4);
            let s = Summarizer::all().summary(f, "v", Some("w")).unwrap();
            close(
                s.mean().unwrap(),
                &[1e9 + 2.25, -1e9 - 2.25, 0.5],
                1e-15,
                "weighted mean",
            );
            close(
                s.variance().unwrap(),
                &[1.1, 1.1, 1.2],
                1e-12,
                "weighted variance",
            );
            assert_eq!(s.count(), 3, "the zero-weight row is left out");
            assert_eq!(s.max().unwrap(), &[1e9 + 3.0, -1e9 - 1.0, 2.0]);
            assert_eq!(s.num_nonzeros().unwrap(), &[3, 3, 1]);
        }
    }

    /// Only the metrics asked for are computed (and given); the count always is.
    #[test]
    fn only_the_asked_for_metrics_are_computed() {
        let df = frame(vec![1.0, 2.0, 3.0, -4.0], 2, vec![1.0, 1.0]);
        let s = Summarizer::metrics(["max", "normL2"])
            .unwrap()
            .summary(&df, "v", None)
            .unwrap();
        assert_eq!(s.max(), Some(&[3.0, 2.0][..]));
        assert_eq!(s.norm_l2(), Some(&[10f64.sqrt(), 20f64.sqrt()][..]));
        assert_eq!(
            (s.mean(), s.variance(), s.min(), s.num_nonzeros()),
            (None, None, None, None)
        );
        assert_eq!(s.vector(SummaryMetric::Mean), None);
        assert_eq!(s.count(), 2);
    }

    /// The sums run in fixed-size chunks merged in order: the same bits on one thread and
    /// on several; an infinite value is a value (max ∞), a NaN an error naming its row.
    #[test]
    fn same_bits_on_any_thread_count_and_nan_is_an_error() {
        let (rows, n) = (300_000, 3);
        let values: Vec<f64> = (0..rows * n)
            .map(|i| ((i as f64) * 0.618).sin() * 1e3 + (i % 7) as f64)
            .collect();
        let w: Vec<f64> = (0..rows).map(|i| (i % 5) as f64 * 0.5).collect();
        let df = frame(values.clone(), n, w);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| Summarizer::all().summary(&df, "v", Some("w")).unwrap())
        };
        let (a, b) = (run(1), run(3));
        for m in SummaryMetric::ALL {
            let bits = |s: &Summary| {
                s.vector(m)
                    .map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
            };
            assert_eq!(bits(&a), bits(&b), "{}", m.name());
        }
        let mut bad = values;
        bad[7 * n + 1] = f64::INFINITY;
        let s = Summarizer::metrics(["max"])
            .unwrap()
            .summary(&frame(bad.clone(), n, vec![1.0; rows]), "v", None)
            .unwrap();
        assert_eq!(s.max().unwrap()[1], f64::INFINITY);
        bad[123_457 * n + 2] = f64::NAN;
        let err = Summarizer::all()
            .summary(&frame(bad, n, vec![1.0; rows]), "v", None)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "Summarizer: NaN at feature 2 in column `v` (partition 0, row 123457); drop or impute such rows first (Imputer)"
        );
    }
}
