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
                // Row-major rank matrix, one partition, written in parallel row blocks.
                // SAFETY: the closure writes every value of each row of its block.
                let x = unsafe {
                    crate::frame::buffer::par_build(rows, n, |first, block| {
                        for (r, row) in block.chunks_exact_mut(n).enumerate() {
                            for (o, col) in row.iter_mut().zip(&ranks) {
                                o.write(col[first + r]);
                            }
                        }
                    })
                };
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
    if m == 0 {
        return Err(Error::Internal("a covariance of no rows".into()));
    }
    let shift = super::input::provisional_shift(parts, n);
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
            g.add_unlabelled_shifted(x, &shift);
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
///
/// Each partition's rows are checked finite (in parallel chunks, the first bad value in
/// row order reported) and copied into column-major tiles (`kernels::column_tiles`); then
/// each column, in parallel, sorts its `(value, row)` pairs with one radix sort (radsort,
/// stable; its float order is `f64::total_cmp`'s) and gives each run of equal values its
/// average position.
fn rank_columns(parts: &[Part<'_>], n: usize, column: &str) -> Result<Vec<Vec<f64>>> {
    use crate::frame::kernels::{column_tiles, tile_column};
    crate::frame::in_order(
        super::input::chunks(parts)
            .par_iter()
            .map(|&(k, first, len)| {
                let part = &parts[k];
                for r in first..first + len {
                    let mut bad_value = None;
                    if let Some(x) = part.block.row(r) {
                        x.for_each_active(|j, v| {
                            if !v.is_finite() && bad_value.is_none() {
                                bad_value = Some((j, v));
                            }
                        });
                    }
                    if let Some((j, v)) = bad_value {
                        return Err(bad(
                            STAGE,
                            column,
                            part.pi,
                            r,
                            format!("value {v} at feature {j}"),
                            "correlations need finite values; drop or impute such rows first",
                        ));
                    }
                }
                Ok(())
            })
            .collect(),
    )?;
    let mut tiles = Vec::new();
    for part in parts {
        match part.block.as_dense() {
            Some(v) => tiles.extend(column_tiles(v, n)),
            None => {
                let mut v = vec![0.0; part.block.len() * n];
                part.block.write_dense_rows(0, &mut v);
                tiles.extend(column_tiles(&v, n));
            }
        }
    }
    let rows = super::input::num_rows(parts);
    Ok((0..n)
        .into_par_iter()
        .map(|j| {
            let mut pairs: Vec<(f64, usize)> = Vec::with_capacity(rows);
            pairs.extend(
                tile_column(&tiles, n, j)
                    .flatten()
                    .enumerate()
                    .map(|(r, &v)| (v, r)),
            );
            radsort::sort_by_key(&mut pairs, |p| p.0);
            let mut ranks = vec![0.0; rows];
            let mut i = 0;
            while i < pairs.len() {
                let mut e = i + 1;
                while e < pairs.len() && pairs[e].0 == pairs[i].0 {
                    e += 1;
                }
                let rank = i as f64 + (e - i - 1) as f64 / 2.0;
                for &(_, r) in &pairs[i..e] {
                    ranks[r] = rank;
                }
                i = e;
            }
            ranks
        })
        .collect())
}
