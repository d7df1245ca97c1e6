//! [`DCT`]: the orthonormal discrete cosine transform of each vector.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/DCT.scala` (JTransforms'
//! `DoubleDCT_1D` with `scale = true`).

use serde::{Deserialize, Serialize};

use super::vector_stage::{vector_transformer, OutLayout, VectorMap};
use crate::error::Result;
use crate::frame::row_matrix::RowMatrix;
use crate::param::Params;

/// Params of [`DCT`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DCTParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column.
    pub output_col: String,
    /// Apply the inverse transform (DCT-III) instead of the forward one (DCT-II). Default false.
    pub inverse: bool,
}

impl Params for DCTParams {
    const STAGE: &'static str = "DCT";
    fn validate(&self) -> Result<()> {
        super::vector_stage::check_in_out(Self::STAGE, &self.input_col, &self.output_col)
    }
}

/// The scaled (orthonormal) DCT-II of each vector, or with `inverse` its inverse, the
/// DCT-III (Spark's `org.apache.spark.ml.feature.DCT`):
/// `X_k = s_k Σ_n x_n cos(π (2n + 1) k / 2N)`, `s_0 = √(1/N)`, `s_k = √(2/N)`.
/// Computed directly from a table of cosines (O(N²) per row; Spark's FFT-based
/// JTransforms agrees to rounding, about 1e-15 relative).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{DCT, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let out = DCT::new().with_input_col("v").with_output_col("freq").transform(&df)?;
/// assert!(out.schema().field_with_name("freq").is_ok());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DCT {
    uid: String,
    params: DCTParams,
}

vector_transformer!(DCT, DCTParams, "dct", "org.apache.spark.ml.feature.DCT");

impl DCT {
    /// Inverse transform; default false.
    pub fn with_inverse(mut self, v: bool) -> Self {
        self.params.inverse = v;
        self
    }
    fn output_size(&self, n: usize) -> Result<usize> {
        Ok(n)
    }
    /// Spark's DCT densifies every row (`v.toArray`, then `Vectors.dense`).
    const LAYOUT: OutLayout = OutLayout::Dense;
    fn kernel(&self, n: usize) -> Result<DctKernel> {
        // basis[k * n + i] = s_k cos(π (2i + 1) k / 2N)
        let nf = n as f64;
        let mut basis = vec![0.0; n * n];
        for k in 0..n {
            let s = if k == 0 {
                (1.0 / nf).sqrt()
            } else {
                (2.0 / nf).sqrt()
            };
            for i in 0..n {
                // reduce the angle's integer part exactly: (2i + 1) k mod 4N
                let m = ((2 * i + 1) * k) % (4 * n);
                basis[k * n + i] = s * (std::f64::consts::PI * m as f64 / (2.0 * nf)).cos();
            }
        }
        // basis_t[i * n + k] = basis[k * n + i]: the forward transform walks it row by
        // row, adding x_i times row i into every output at once (vectorised), each
        // output still summed over i in increasing order.
        let mut basis_t = vec![0.0; n * n];
        for k in 0..n {
            for i in 0..n {
                basis_t[i * n + k] = basis[k * n + i];
            }
        }
        // The block form: every output of several rows in registers at once, from a
        // table with the transform's input index as its row (`basis_t` forward, `basis`
        // inverse).
        let inverse = self.params.inverse;
        let table = RowMatrix::new(n, n, |i, c| {
            if inverse {
                basis[i * n + c]
            } else {
                basis_t[i * n + c]
            }
        });
        Ok(DctKernel {
            n,
            basis,
            basis_t,
            table,
            inverse,
        })
    }
}

/// [`DCT`]'s row map: `basis[k * n + i] = s_k cos(π (2i + 1) k / 2N)`.
struct DctKernel {
    n: usize,
    basis: Vec<f64>,
    /// `basis` transposed.
    basis_t: Vec<f64>,
    /// The transform's block form ([`RowMatrix`]), for rows of up to 32 values.
    table: Option<RowMatrix>,
    inverse: bool,
}

impl VectorMap for DctKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        if self.inverse {
            inverse_rows(&self.basis, self.n, x, out);
        } else {
            forward_rows(&self.basis_t, self.n, x, out);
        }
    }
    const BLOCK: bool = true;
    fn dense_block(&self, x: &[f64], out: &mut [f64]) {
        match &self.table {
            // Each output summed as `forward_rows` (from -0.0) or `inverse_rows` (from
            // the zeroed output) sums it: the same bits.
            Some(t) => t.apply(if self.inverse { 0.0 } else { -0.0 }, x, out),
            None => self.dense(x, out),
        }
    }
}

crate::frame::kernels::multiversion! {
    /// The forward DCT of the rows of `x` (`n` values each) into the rows of `out`:
    /// `X_k = Σ_i basis[k][i] x_i`, summed in increasing i from -0.0 (as `Iterator::sum`
    /// does, so a sum of negative zeros stays -0.0), every k at once along the row `i` of
    /// `basis_t` (vectorised across k; each output's sum keeps its order, so every build
    /// gives the same bits).
    fn forward_rows(basis_t: &[f64], n: usize, x: &[f64], out: &mut [f64]) {
        let n1 = n.max(1);
        for (o, x) in out.chunks_exact_mut(n1).zip(x.chunks_exact(n1)) {
            o.fill(-0.0);
            for (i, &xi) in x.iter().enumerate() {
                let row = &basis_t[i * n..(i + 1) * n];
                for (o, b) in o.iter_mut().zip(row) {
                    *o += b * xi;
                }
            }
        }
    }
}

crate::frame::kernels::multiversion! {
    /// The inverse DCT of the rows of `x` into the zeroed rows of `out`:
    /// `x_i = Σ_k X_k basis[k][i]`, summed in increasing k, every i at once.
    fn inverse_rows(basis: &[f64], n: usize, x: &[f64], out: &mut [f64]) {
        let n1 = n.max(1);
        for (o, x) in out.chunks_exact_mut(n1).zip(x.chunks_exact(n1)) {
            for (k, &xk) in x.iter().enumerate() {
                let row = &basis[k * n..(k + 1) * n];
                for (o, b) in o.iter_mut().zip(row) {
                    *o += xk * b;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_rows_are_the_per_output_dot_products_bit_for_bit() {
        // The vectorised walk against each output's dot product summed in index order
        // (`Iterator::sum`), with zeros of both signs and odd sizes.
        for n in [1, 2, 3, 7, 20] {
            let k = DCT::new().kernel(n).unwrap();
            let mixed: Vec<f64> = (0..n)
                .map(|i| match i % 4 {
                    0 => -0.0,
                    1 => 1.0 / (i as f64 + 0.3),
                    2 => -(i as f64).sqrt(),
                    _ => 0.0,
                })
                .collect();
            for x in [mixed, vec![-0.0; n]] {
                let mut out = vec![0.0; n];
                k.dense(&x, &mut out);
                for (j, o) in out.iter().enumerate() {
                    let row = &k.basis[j * n..(j + 1) * n];
                    let want: f64 = row.iter().zip(&x).map(|(b, x)| b * x).sum();
                    assert_eq!(o.to_bits(), want.to_bits(), "n {n} output {j} x {x:?}");
                }
            }
        }
    }

    #[test]
    fn block_form_matches_the_row_form_in_every_build() {
        // Several rows at once (dense_block: the RowMatrix kernel up to 32 values,
        // the table walk above) against each row alone, forward and inverse, in the
        // portable, AVX2 and AVX-512 builds: the same bits, at sizes that fill a tile
        // exactly, leave padding, or exceed the tiles.
        use crate::frame::kernels::{force_build, Build};
        for (inverse, n) in [false, true]
            .into_iter()
            .flat_map(|inv| [1, 3, 8, 9, 17, 20, 32, 33].map(|n| (inv, n)))
        {
            let k = DCT::new().with_inverse(inverse).kernel(n).unwrap();
            assert_eq!(k.table.is_some(), n <= 32);
            let x: Vec<f64> = (0..5 * n)
                .map(|i| {
                    if i % 7 == 0 {
                        -0.0
                    } else if i == 11 {
                        f64::INFINITY
                    } else {
                        (i as f64 * 0.37).sin()
                    }
                })
                .collect();
            let mut want = vec![0.0; 5 * n];
            for (o, x) in want.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
                k.dense(x, o);
            }
            for b in [Build::Portable, Build::Avx2, Build::Avx512] {
                force_build(b);
                let mut got = vec![0.0; 5 * n];
                k.dense_block(&x, &mut got);
                force_build(Build::Avx512);
                // Bits, every NaN as one (∞ − ∞ makes some; their sign is unspecified).
                let bits = |v: &[f64]| {
                    v.iter()
                        .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                        .collect::<Vec<_>>()
                };
                assert_eq!(
                    bits(&got),
                    bits(&want),
                    "inverse {inverse} n {n} build {b:?}"
                );
            }
        }
    }
}
