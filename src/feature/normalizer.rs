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
    /// The rows' size.
    n: usize,
}

impl VectorMap for NormalizerKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        let norm = p_norm(x, self.p);
        divide_row(x, norm, out);
    }
    const BLOCK: bool = true;
    fn dense_block(&self, x: &[f64], out: &mut [f64]) {
        let n = self.n;
        if n == 0 {
            return;
        }
        if ![1.0, 2.0, f64::INFINITY].contains(&self.p) {
            for (o, x) in out.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
                self.dense(x, o);
            }
            return;
        }
        normalize_rows(x, n, self.p, out);
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

/// `x / norm` into `out`, or `x` itself when the norm is 0 (Spark's `Normalizer`).
#[inline(always)]
fn divide_row(x: &[f64], norm: f64, out: &mut [f64]) {
    if norm != 0.0 {
        for (o, x) in out.iter_mut().zip(x) {
            *o = x / norm;
        }
    } else {
        out.copy_from_slice(x);
    }
}

/// Rows normalised together: the norms of [`LANES`] rows summed side by side (each row's
/// own sum still in element order, so the bits are [`p_norm`]'s), which hides the add
/// latency of one row's serial sum.
const LANES: usize = 8;

crate::frame::kernels::multiversion! {
    /// Every row of `x` (`n` values each) divided by its p-norm into `out`, for p = 1, 2
    /// and ∞, as [`p_norm`] and [`divide_row`] compute them row by row.
    fn normalize_rows(x: &[f64], n: usize, p: f64, out: &mut [f64]) {
        #[inline(always)]
        fn run(x: &[f64], n: usize, out: &mut [f64], step: impl Fn(f64, f64) -> f64, last: impl Fn(f64) -> f64) {
            let mut xs = x.chunks_exact(n * LANES);
            let mut os = out.chunks_exact_mut(n * LANES);
            for (x, o) in (&mut xs).zip(&mut os) {
                let mut acc = [0.0f64; LANES];
                for j in 0..n {
                    for (l, a) in acc.iter_mut().enumerate() {
                        *a = step(*a, x[l * n + j]);
                    }
                }
                for (l, a) in acc.iter().enumerate() {
                    divide_row(&x[l * n..(l + 1) * n], last(*a), &mut o[l * n..(l + 1) * n]);
                }
            }
            for (x, o) in xs.remainder().chunks_exact(n).zip(os.into_remainder().chunks_exact_mut(n)) {
                let norm = last(x.iter().fold(0.0, |s, v| step(s, *v)));
                divide_row(x, norm, o);
            }
        }
        if p == 1.0 {
            run(x, n, out, |s, v| s + v.abs(), |s| s);
        } else if p == 2.0 {
            run(x, n, out, |s, v| s + v * v, f64::sqrt);
        } else {
            run(x, n, out, |m: f64, v| m.max(v.abs()), |m| m);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_form_is_the_row_form_bit_for_bit_in_every_build() {
        // 8-row groups and a remainder (19 rows), rows of zeros (norm 0: kept as they
        // are), -0.0, NaN, ∞ and tiny values, p = 1, 2, ∞ (the block kernel) and 3 (row by
        // row), in the portable, AVX2 and AVX-512 builds: the bits of `dense` per row.
        use crate::frame::kernels::{force_build, Build};
        let pool = [
            0.0,
            -0.0,
            1.5,
            -2.25,
            f64::NAN,
            f64::INFINITY,
            3.0,
            1e-300,
            -7.0,
        ];
        for n in [1, 5, 20] {
            let rows = 19;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| {
                    if (i / n) % 6 == 0 {
                        0.0
                    } else if (i / n) % 4 == 1 {
                        (i as f64 * 0.37).sin()
                    } else {
                        pool[(i * 7) % pool.len()]
                    }
                })
                .collect();
            for p in [1.0, 2.0, f64::INFINITY, 3.0] {
                let k = Normalizer::new().with_p(p).kernel(n).unwrap();
                let mut want = vec![0.0; rows * n];
                for (o, x) in want.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
                    k.dense(x, o);
                }
                for b in [Build::Portable, Build::Avx2, Build::Avx512] {
                    force_build(b);
                    let mut got = vec![0.0; rows * n];
                    k.dense_block(&x, &mut got);
                    force_build(Build::Avx512);
                    // Bits, every NaN as one (a quotient's NaN sign is unspecified).
                    let bits = |v: &[f64]| {
                        v.iter()
                            .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(bits(&got), bits(&want), "n {n} p {p} build {b:?}");
                }
            }
        }
    }
}
