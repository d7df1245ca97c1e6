//! [`Normalizer`]: scale each vector to unit p-norm.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/Normalizer.scala` (the
//! arithmetic is `mllib/.../mllib/feature/Normalizer.scala` and `Vectors.norm`).

use serde::{Deserialize, Serialize};

use super::vector_stage::{vector_transformer, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::param::{spark_double, Params};

/// Params of [`Normalizer`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NormalizerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column.
    pub output_col: String,
    /// The norm's p, at least 1 (`f64::INFINITY` for the max norm). Default 2.
    #[serde(with = "spark_double")]
    pub p: f64,
}

impl Default for NormalizerParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            p: 2.0,
        }
    }
}

impl Params for NormalizerParams {
    const STAGE: &'static str = "Normalizer";
    fn validate(&self) -> Result<()> {
        super::vector_stage::check_in_out(Self::STAGE, &self.input_col, &self.output_col)?;
        if self.p.is_nan() || self.p < 1.0 {
            return Err(Error::param(Self::STAGE, "p", ">= 1", self.p));
        }
        Ok(())
    }
}

/// Divides each vector by its p-norm (Spark's `org.apache.spark.ml.feature.Normalizer`); a
/// vector of norm 0 stays as it is. The norm is summed in element order as Spark's
/// `Vectors.norm` does (p = 1, 2 and ∞ have their own loops).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{Normalizer, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let out = Normalizer::new().with_input_col("v").with_output_col("unit").with_p(1.0).transform(&df)?;
/// assert!(out.schema().field_with_name("unit").is_ok());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Normalizer {
    uid: String,
    params: NormalizerParams,
}

vector_transformer!(
    Normalizer,
    NormalizerParams,
    "normalizer",
    "org.apache.spark.ml.feature.Normalizer"
);

/// Spark's `Vectors.norm` of dense values.
pub(crate) fn p_norm(v: &[f64], p: f64) -> f64 {
    if p == 1.0 {
        v.iter().fold(0.0, |s, x| s + x.abs())
    } else if p == 2.0 {
        v.iter().fold(0.0, |s, x| s + x * x).sqrt()
    } else if p == f64::INFINITY {
        v.iter().fold(0.0, |m: f64, x| m.max(x.abs()))
    } else {
        v.iter().fold(0.0, |s, x| s + x.abs().powf(p)).powf(1.0 / p)
    }
}

impl Normalizer {
    /// The norm's p (at least 1); default 2.
    pub fn with_p(mut self, p: f64) -> Self {
        self.params.p = p;
        self
    }
    /// Spark's `Normalizer.transform` keeps each row's layout: a sparse row's stored
    /// values are divided by the norm of its stored values, indices unchanged.
    const LAYOUT: OutLayout = OutLayout::Keep;
    fn output_size(&self, n: usize) -> Result<usize> {
        Ok(n)
    }
    fn kernel(&self, n: usize) -> Result<NormalizerKernel> {
        Ok(NormalizerKernel {
            p: self.params.p,
            n,
        })
    }
}

/// [`Normalizer`]'s row maps.
struct NormalizerKernel {
    p: f64,
    /// Values a row.
    n: usize,
}

/// Rows whose norms [`normalize_rows`] sums side by side.
const NORM_LANES: usize = 8;

/// The accumulated norms (before any root) of the [`NORM_LANES`] rows of `xb` (rows of `n`
/// values back to back), each folded from `0.0` by `step` over its values in element
/// order, as [`p_norm`] folds one row. The rows' values are taken eight columns at a time
/// into a transposed tile (every row's column `c` side by side), so that each step is one
/// vector operation across the rows rather than one scalar operation per row.
#[inline(always)]
fn block_norms(xb: &[f64], n: usize, step: impl Fn(f64, f64) -> f64) -> [f64; NORM_LANES] {
    let mut acc = [0.0f64; NORM_LANES];
    let mut j = 0;
    while j + NORM_LANES <= n {
        let mut t = [[0.0f64; NORM_LANES]; NORM_LANES];
        for (l, row) in xb.chunks_exact(n).enumerate() {
            let r: &[f64; NORM_LANES] = row[j..j + NORM_LANES].try_into().expect("8 values");
            for (c, v) in r.iter().enumerate() {
                t[c][l] = *v;
            }
        }
        for col in &t {
            for (a, v) in acc.iter_mut().zip(col) {
                *a = step(*a, *v);
            }
        }
        j += NORM_LANES;
    }
    for j in j..n {
        for (l, a) in acc.iter_mut().enumerate() {
            *a = step(*a, xb[l * n + j]);
        }
    }
    acc
}

crate::frame::kernels::multiversion! {
    /// [`NormalizerKernel::dense`] on every row of `x` (rows of `n` values back to back)
    /// into `out`, for p = 1, 2 or ∞: the norms of [`NORM_LANES`] rows are summed side by
    /// side, each still in element order (the same additions as [`p_norm`]'s, so the same
    /// bits), which hides the latency of one row's chain of additions behind the others'.
    fn normalize_rows(x: &[f64], n: usize, p: f64, out: &mut [f64]) {
        let mut xs = x.chunks_exact(n * NORM_LANES);
        let mut os = out.chunks_exact_mut(n * NORM_LANES);
        for (xb, ob) in (&mut xs).zip(&mut os) {
            let acc = if p == 1.0 {
                block_norms(xb, n, |a, v| a + v.abs())
            } else if p == 2.0 {
                block_norms(xb, n, |a, v| a + v * v)
            } else {
                block_norms(xb, n, |a: f64, v: f64| a.max(v.abs()))
            };
            for (l, a) in acc.iter().enumerate() {
                let norm = if p == 2.0 { a.sqrt() } else { *a };
                let (xr, or) = (&xb[l * n..(l + 1) * n], &mut ob[l * n..(l + 1) * n]);
                if norm != 0.0 {
                    for (o, v) in or.iter_mut().zip(xr) {
                        *o = v / norm;
                    }
                } else {
                    or.copy_from_slice(xr);
                }
            }
        }
        for (xr, or) in xs.remainder().chunks_exact(n).zip(os.into_remainder().chunks_exact_mut(n)) {
            let norm = p_norm(xr, p);
            if norm != 0.0 {
                for (o, v) in or.iter_mut().zip(xr) {
                    *o = v / norm;
                }
            } else {
                or.copy_from_slice(xr);
            }
        }
    }
}

impl VectorMap for NormalizerKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        let norm = p_norm(x, self.p);
        out.copy_from_slice(x);
        if norm != 0.0 {
            for o in out.iter_mut() {
                *o /= norm;
            }
        }
    }
    const BLOCK: bool = true;
    fn dense_block(&self, x: &[f64], out: &mut [f64]) {
        if self.n == 0 || !matches!(self.p, 1.0 | 2.0 | f64::INFINITY) {
            // Nothing to interleave (powf dominates a general p's norm).
            for (x, o) in x
                .chunks_exact(self.n.max(1))
                .zip(out.chunks_exact_mut(self.n.max(1)))
            {
                self.dense(x, o);
            }
            return;
        }
        normalize_rows(x, self.n, self.p, out);
    }
    fn sparse(
        &self,
        _size: usize,
        indices: &[i32],
        values: &[f64],
        oi: &mut Vec<i32>,
        ov: &mut Vec<f64>,
    ) -> bool {
        // Spark's Vectors.norm of a sparse vector runs over its stored values.
        let norm = p_norm(values, self.p);
        oi.extend_from_slice(indices);
        if norm != 0.0 {
            ov.extend(values.iter().map(|v| v / norm));
        } else {
            ov.extend_from_slice(values);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_norms_are_the_row_norms_bit_for_bit() {
        // Rows with zeros (norm 0 keeps the row), NaN, infinities, -0.0 and a spread of
        // magnitudes; row counts around the lane width.
        let pool = [
            0.0,
            -0.0,
            1.5,
            -2.25,
            1e-300,
            3e300,
            f64::NAN,
            f64::INFINITY,
            7.0,
            -1e-3,
        ];
        for n in [1, 3, 8, 16, 20] {
            for rows in [0, 1, 7, 8, 9, 17, 40] {
                let x: Vec<f64> = (0..rows * n)
                    .map(|i| {
                        let r = i / n;
                        if r % 5 == 1 {
                            0.0 // an all-zero row
                        } else {
                            pool[(i * 7 + r) % pool.len()] * (1.0 + (i % 13) as f64 / 7.0)
                        }
                    })
                    .collect();
                for p in [1.0, 2.0, f64::INFINITY, 3.0] {
                    let k = NormalizerKernel { p, n };
                    let mut want = vec![0.0; x.len()];
                    for (xr, o) in x.chunks_exact(n).zip(want.chunks_exact_mut(n)) {
                        k.dense(xr, o);
                    }
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    for (b, got) in crate::frame::kernels::in_each_build(|| {
                        let mut got = vec![0.0; x.len()];
                        k.dense_block(&x, &mut got);
                        bits(&got)
                    }) {
                        assert_eq!(got, bits(&want), "{b:?}: n {n}, rows {rows}, p {p}");
                    }
                }
            }
        }
    }
}
