//! [`Correlation`]: the Pearson or Spearman correlation matrix of a vector column
//! (Spark's `org.apache.spark.ml.stat.Correlation`; sources
//! `mllib/src/main/scala/org/apache/spark/ml/stat/Correlation.scala`,
//! `mllib/.../mllib/stat/correlation/PearsonCorrelation.scala` and
//! `SpearmanCorrelation.scala`).

use std::str::FromStr;

use rayon::prelude::*;

use super::input::{bad, fold_chunks, read_parts, require_rows, Part};
use crate::error::{Error, Result};
use crate::frame::kernels::Gram;
use crate::frame::DataFrame;
use crate::persist::Matrix;

const STAGE: &str = "Correlation";

/// Spark's correlation methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CorrelationMethod {
    /// Pearson's product-moment correlation (Spark's default).
    Pearson,
    /// Spearman's rank correlation: Pearson's on the ranks, ties averaged.
    Spearman,
}

impl FromStr for CorrelationMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "pearson" => Ok(Self::Pearson),
            "spearman" => Ok(Self::Spearman),
            _ => Err(Error::param(
                STAGE,
                "method",
                "\"pearson\" or \"spearman\"",
                format!("{s:?}"),
            )),
        }
    }
}

/// The correlation matrix of a vector column (Spark's
/// `org.apache.spark.ml.stat.Correlation.corr(dataset, column, method)`).
///
/// - **pearson**: one parallel pass of the Gram kernel LinearRegression's normal
///   equations use (`frame::kernels`), over rows shifted by the first chunk's mean, in
///   fixed-size chunks merged in order; then Spark's `PearsonCorrelation`: the sample
///   covariance, standard deviations within `1e-12` of zero taken as 0, and a correlation
///   of `NaN` for every pair with a constant column (its diagonal entry stays 1.0).
/// - **spearman**: each column is ranked (0-based positions in sorted order, ties given
///   their average position, as Spark's `SpearmanCorrelation`), then Pearson's on the ranks.
///
/// Dense and sparse vector columns both work (sparse rows are densified a chunk at a time).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::stat::Correlation;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0", "f1"]).with_output_col("v").transform(&df)?;
/// let m = Correlation::corr(&df, "v", "pearson")?;
/// assert_eq!((m.num_rows, m.num_cols), (3, 3));
/// assert_eq!(m.get(1, 1), Some(1.0));
/// assert_eq!(m.get(0, 1), m.get(1, 0));
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a method other than `pearson` / `spearman`;
/// [`Error::ColumnNotFound`] / [`Error::ColumnType`] for a missing or non-vector column;
/// [`Error::InvalidValue`] for a null vector or a NaN or infinite value (naming partition,
/// row and feature); [`Error::EmptyInput`] for fewer than two rows.
#[derive(Clone, Copy, Debug)]
pub struct Correlation;

impl Correlation {
    /// The `method` correlation matrix of the vector column `column`: `"pearson"` or
    /// `"spearman"`.
    pub fn corr(df: &DataFrame, column: &str, method: &str) -> Result<Matrix> {
        let method: CorrelationMethod = method.parse()?;
        let (n, parts) = read_parts(df, STAGE, column, None, None)?;
        require_rows(STAGE, &parts, "a correlation needs at least two rows")?;
        match method {
            CorrelationMethod::Pearson => pearson(&parts, n, column),
            CorrelationMethod::Spearman => {
                let rows = super::input::num_rows(&parts);
                let ranks = rank_columns(&parts, n, column)?;
                // Row-major rank matrix, one partition.
                let mut x = vec![0.0; rows * n];
                for (j, col) in ranks.iter().enumerate() {
                    for (r, v) in col.iter().enumerate() {
                        x[r * n + j] = *v;
                    }
                }
                let block = crate::frame::vector::vector_array(x, n, None)?;
                let at = crate::frame::vector::At {
                    stage: STAGE,
                    column,
                    partition: 0,
                };
                let part = Part {
                    pi: 0,
                    block: crate::frame::vector::VectorBlock::new(&block, n, at)?,
                    label: None,
                    weight: None,
                };
                pearson(std::slice::from_ref(&part), n, column)
            }
        }
    }
}

/// Spark's Pearson correlation matrix of the parts' rows.
fn pearson(parts: &[Part<'_>], n: usize, column: &str) -> Result<Matrix> {
    let m = super::input::num_rows(parts);
    if m < 2 {
        return Err(Error::EmptyInput {
            stage: STAGE,
            hint: format!(
                "column `{column}` has {m} row; the covariance of fewer than two rows is undefined"
            ),
        });
    }
    let cov = covariance(parts, n, |pi, row, j, v| {
        bad(
            STAGE,
            column,
            pi,
            row,
            format!("value {v} at feature {j}"),
            "correlations need finite values; drop or impute such rows first",
        )
    })?;
    Ok(correlation_from_covariance(cov, n))
}

/// The sample covariance matrix (divided by `m − 1`; `n × n`, row-major, symmetric) of the
/// parts' rows, at least two of them: one parallel pass of the Gram kernel
/// LinearRegression's normal equations use (`frame::kernels`), over rows shifted by the
/// mean of the first (up to) 1024 rows, so that the sums are nearly centred and lose no
/// digits to cancellation whatever the columns' offsets; each run of a fixed number of
/// chunks sums into one Gram matrix and the runs merge in order, so the result is the
/// same on any thread count. Correlation's pearson and PCA's fit
/// (Spark's `RowMatrix.computeCovariance`) both use it. A NaN or infinite value fails with
/// `on_bad(partition, row, feature, value)`.
pub(crate) fn covariance(
    parts: &[Part<'_>],
    n: usize,
    on_bad: impl Fn(usize, usize, usize, f64) -> Error + Sync,
) -> Result<Vec<f64>> {
    let m = super::input::num_rows(parts);
    let first = parts
        .iter()
        .find(|p| !p.block.is_empty())
        .ok_or_else(|| Error::Internal("rows counted but no partition holds them".into()))?;
    let k = first.block.len().min(1024);
    let mut head = vec![0.0; k * n];
    first.block.write_dense_rows(0, &mut head);
    let mut shift = vec![0.0; n];
    for row in head.chunks_exact(n.max(1)) {
        for (s, v) in shift.iter_mut().zip(row) {
            *s += v;
        }
    }
    for s in &mut shift {
        *s /= k as f64;
    }
    // One Gram per run of chunks (a fixed number of rows, whatever the thread count),
    // merged in order.
    let grams = fold_chunks(
        parts,
        || Gram::new(n),
        |g, part, first, rows| {
            let owned;
            let x: &[f64] = match part.block.as_dense() {
                Some(v) => &v[first * n..(first + rows) * n],
                None => {
                    let mut buf = vec![0.0; rows * n];
                    part.block.write_dense_rows(first, &mut buf);
                    owned = buf;
                    &owned
                }
            };
            let zeros = vec![0.0; rows];
            g.add_rows_shifted(x, &shift, &zeros, None);
            if !g.diagonal_is_finite() {
                for (r, row) in x.chunks_exact(n.max(1)).enumerate() {
                    if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                        return Err(on_bad(part.pi, first + r, j, row[j]));
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut g = Gram::new(n);
    for c in &grams {
        g.merge(c);
    }
    let mf = m as f64;
    // Sample covariance from the shifted sums: (Σ zᵢzⱼ − Σzᵢ Σzⱼ / m) / (m − 1).
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for j in i..n {
            let c = (g.get(i, j) - g.get(i, n + 1) * g.get(j, n + 1) / mf) / (mf - 1.0);
            cov[i * n + j] = c;
            cov[j * n + i] = c;
        }
    }
    Ok(cov)
}

/// Spark's `PearsonCorrelation.computeCorrelationMatrixFromCovariance`: standard
/// deviations within 1e-12 of zero are 0, pairs with a zero deviation get NaN, the
/// diagonal is 1.
fn correlation_from_covariance(mut cov: Vec<f64>, n: usize) -> Matrix {
    for i in 0..n {
        let v = cov[i * n + i];
        cov[i * n + i] = if v.abs() <= 1e-12 { 0.0 } else { v.sqrt() };
    }
    for j in 0..n {
        let sigma = cov[j * n + j];
        for i in 0..j {
            let corr = if sigma == 0.0 || cov[i * n + i] == 0.0 {
                f64::NAN
            } else {
                cov[i * n + j] / (sigma * cov[i * n + i])
            };
            cov[i * n + j] = corr;
            cov[j * n + i] = corr;
        }
    }
    for i in 0..n {
        cov[i * n + i] = 1.0;
    }
    Matrix {
        num_rows: n,
        num_cols: n,
        values: cov,
    }
}

/// Each column's ranks, rows in frame order: 0-based positions in ascending order, ties
/// given the average of their positions (Spark's `SpearmanCorrelation.getRanks`).
fn rank_columns(parts: &[Part<'_>], n: usize, column: &str) -> Result<Vec<Vec<f64>>> {
    let rows = super::input::num_rows(parts);
    // Column-major copy of the values, checked finite.
    let mut cols = vec![vec![0.0; rows]; n];
    let mut r0 = 0;
    for part in parts {
        let len = part.block.len();
        let mut buf = vec![0.0; len * n];
        part.block.write_dense_rows(0, &mut buf);
        for (r, row) in buf.chunks_exact(n.max(1)).enumerate() {
            if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                return Err(bad(
                    STAGE,
                    column,
                    part.pi,
                    r,
                    format!("value {} at feature {j}", row[j]),
                    "correlations need finite values; drop or impute such rows first",
                ));
            }
            for (j, v) in row.iter().enumerate() {
                cols[j][r0 + r] = *v;
            }
        }
        r0 += len;
    }
    Ok(cols
        .into_par_iter()
        .map(|col| {
            let mut order: Vec<usize> = (0..col.len()).collect();
            order.sort_by(|&a, &b| col[a].total_cmp(&col[b]).then(a.cmp(&b)));
            let mut ranks = vec![0.0; col.len()];
            let mut i = 0;
            while i < order.len() {
                let mut e = i + 1;
                while e < order.len() && col[order[e]] == col[order[i]] {
                    e += 1;
                }
                let rank = i as f64 + (e - i - 1) as f64 / 2.0;
                for &r in &order[i..e] {
                    ranks[r] = rank;
                }
                i = e;
            }
            ranks
        })
        .collect())
}
