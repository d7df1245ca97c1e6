//! [`KolmogorovSmirnovTest`]: the one-sample, two-sided Kolmogorov–Smirnov test of a
//! numeric column against a normal distribution (Spark's
//! `org.apache.spark.ml.stat.KolmogorovSmirnovTest`, sources
//! `mllib/src/main/scala/org/apache/spark/ml/stat/KolmogorovSmirnovTest.scala` and
//! `mllib/.../mllib/stat/test/KolmogorovSmirnovTest.scala`).

use arrow::array::{Array, AsArray, Float64Array};
use arrow::datatypes::{DataType, Float64Type};
use rayon::prelude::*;

use super::distribution::{ks_cdf, normal_cdf};
use super::input::bad;
use super::{from_order_key, radix_sort_keys};
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};

const STAGE: &str = "KolmogorovSmirnovTest";

/// The result of [`KolmogorovSmirnovTest::test`] (Spark's `pValue` and `statistic`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KolmogorovSmirnovTestResult {
    /// `1 − P(D_n < statistic)` from Commons Math's KS distribution.
    pub p_value: f64,
    /// The largest distance between the sample's empirical CDF and the distribution's.
    pub statistic: f64,
}

/// The one-sample, two-sided Kolmogorov–Smirnov test (Spark's
/// `org.apache.spark.ml.stat.KolmogorovSmirnovTest.test(dataset, sampleCol, distName,
/// params*)`): does the numeric column `sample` follow the named distribution?
///
/// Spark supports `"norm"` with no params (the standard normal) or two, mean and standard
/// deviation; so does this. The statistic is `max_i max(|i/n − F(x_(i))|, |(i+1)/n −
/// F(x_(i))|)` over the sorted sample; the p-value is `1 − P(D_n < statistic)` from Commons
/// Math's `KolmogorovSmirnovTest.cdf` (Durbin's matrix up to 140 values, the Pelz–Good
/// series above), as Spark computes it.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::stat::KolmogorovSmirnovTest;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let r = KolmogorovSmirnovTest::test(&df, "f0", "norm", &[20.0, 10.0])?;
/// assert!(r.statistic > 0.0 && r.statistic <= 1.0);
/// assert!((0.0..=1.0).contains(&r.p_value));
/// assert!(KolmogorovSmirnovTest::test(&df, "f0", "exp", &[]).is_err());
/// // any CDF: here the uniform one on [−200, 200]
/// let u = KolmogorovSmirnovTest::test_cdf(&df, "f0", |x| ((x + 200.0) / 400.0).clamp(0.0, 1.0))?;
/// assert!(u.p_value < 0.05);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a distribution other than `"norm"`, a param count other than
/// 0 or 2, or a standard deviation that is not positive; [`Error::ColumnNotFound`] /
/// [`Error::ColumnType`] for a missing or non-numeric column; [`Error::InvalidValue`] for a
/// null or NaN value; [`Error::EmptyInput`] without rows.
#[derive(Clone, Copy, Debug)]
pub struct KolmogorovSmirnovTest;

impl KolmogorovSmirnovTest {
    /// Tests the numeric column `sample` of `df` against distribution `dist` with `params`.
    pub fn test(
        df: &DataFrame,
        sample: &str,
        dist: &str,
        params: &[f64],
    ) -> Result<KolmogorovSmirnovTestResult> {
        if dist != "norm" {
            return Err(Error::param(
                STAGE,
                "distName",
                "\"norm\" (the distributions Spark's convenience method supports: ['norm'])",
                format!("{dist:?}"),
            ));
        }
        let (mean, sd) = match params {
            [] => (0.0, 1.0),
            [m, s] => (*m, *s),
            _ => {
                return Err(Error::param(
                    STAGE,
                    "params",
                    "no params (the standard normal) or two: mean and standard deviation",
                    format!("{params:?}"),
                ))
            }
        };
        if sd <= 0.0 || !mean.is_finite() || !sd.is_finite() {
            return Err(Error::param(
                STAGE,
                "params",
                "a finite mean and a positive, finite standard deviation",
                format!("{params:?}"),
            ));
        }
        Self::test_cdf(df, sample, |x| normal_cdf(x, mean, sd))
    }

    /// Tests the numeric column `sample` of `df` against the continuous distribution whose
    /// CDF is `cdf` (Spark's `test(dataset, sampleCol, cdf)`), which is evaluated on blocks
    /// of the sorted values in parallel (hence `Sync`).
    ///
    /// # Errors
    /// As [`KolmogorovSmirnovTest::test`], without the distribution checks.
    pub fn test_cdf(
        df: &DataFrame,
        sample: &str,
        cdf: impl Fn(f64) -> f64 + Sync,
    ) -> Result<KolmogorovSmirnovTestResult> {
        let (ci, _) = schema::require_numeric(df.schema(), STAGE, sample)?;
        // The partitions as doubles, in parallel, each checked for a null or NaN (the first
        // in partition order named).
        let parts = df.map_partitions(|pi, b| {
            let c = arrow::compute::cast(b.column(ci), &DataType::Float64)?;
            let f = c
                .as_any()
                .downcast_ref::<Float64Array>()
                .ok_or_else(|| Error::Internal("cast to Float64".into()))?;
            if f.null_count() > 0 || f.values().iter().fold(false, |acc, x| acc | x.is_nan()) {
                let r = (0..f.len())
                    .find(|&r| f.is_null(r) || f.value(r).is_nan())
                    .unwrap_or(0);
                let what = if f.is_null(r) { "null value" } else { "NaN" };
                return Err(bad(
                    STAGE,
                    sample,
                    pi,
                    r,
                    what.into(),
                    "drop or impute such rows first",
                ));
            }
            Ok(c)
        })?;
        // Fresh memory advised into huge pages (first touch ~4x cheaper than 4 KB pages).
        let mut values: Vec<f64> = crate::frame::buffer::with_exact_capacity(df.num_rows());
        for c in &parts {
            values.extend_from_slice(c.as_primitive::<Float64Type>().values());
        }
        drop(parts);
        if values.is_empty() {
            return Err(Error::EmptyInput {
                stage: STAGE,
                hint: format!("column `{sample}` has no values to test"),
            });
        }
        // Sorted by a radix sort in `f64::total_cmp`'s order (Spark sorts the doubles; the
        // statistic is the same whichever order equal values take).
        let mut scratch: Vec<u64> = crate::frame::buffer::with_exact_capacity(values.len());
        let sorted = radix_sort_keys(&mut values, &mut scratch);
        let n = sorted.len() as f64;
        // Spark's one-partition search: min of i/n − F, max of (i+1)/n − F; the values in
        // parallel blocks (a min and a max are the same in any order).
        let (lo, hi) = sorted
            .par_chunks(1 << 16)
            .enumerate()
            .map(|(b, keys)| {
                let (mut lo, mut hi) = (f64::MAX, f64::MIN);
                for (i, &k) in keys.iter().enumerate() {
                    let i = (b << 16) + i;
                    let c = cdf(from_order_key(k));
                    lo = lo.min(i as f64 / n - c);
                    hi = hi.max((i + 1) as f64 / n - c);
                }
                (lo, hi)
            })
            .reduce(|| (f64::MAX, f64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        let statistic = f64::MIN.max(lo.abs()).max(hi.abs());
        Ok(KolmogorovSmirnovTestResult {
            p_value: 1.0 - ks_cdf(statistic, sorted.len()),
            statistic,
        })
    }
}
