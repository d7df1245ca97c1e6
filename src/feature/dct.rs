//! [`DCT`]: the orthonormal discrete cosine transform of each vector.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/DCT.scala` (JTransforms'
//! `DoubleDCT_1D` with `scale = true`).

use serde::{Deserialize, Serialize};

use super::vector_stage::{vector_transformer, OutLayout, VectorMap};
use crate::error::Result;
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
        // Both tables again with each row zero-padded to a whole number of LANES-wide
        // tiles, for rows short enough to keep every output in registers.
        let tiles = n.div_ceil(LANES);
        let pad = |t: &[f64]| {
            let mut p = vec![0.0; n * tiles * LANES];
            for (p, t) in p
                .chunks_exact_mut(tiles * LANES)
                .zip(t.chunks_exact(n.max(1)))
            {
                p[..n].copy_from_slice(t);
            }
            p
        };
        let tiled = (n > 0 && tiles <= MAX_TILES).then(|| (pad(&basis_t), pad(&basis)));
        Ok(DctKernel {
            n,
            basis,
            basis_t,
            tiled,
            inverse: self.params.inverse,
        })
    }
}

/// [`DCT`]'s row map: `basis[k * n + i] = s_k cos(π (2i + 1) k / 2N)`.
struct DctKernel {
    n: usize,
    basis: Vec<f64>,
    /// `basis` transposed.
    basis_t: Vec<f64>,
    /// `basis_t` and `basis` with each row zero-padded to `n.div_ceil(LANES)` tiles of
    /// [`LANES`] values, when that is at most [`MAX_TILES`] tiles.
    tiled: Option<(Vec<f64>, Vec<f64>)>,
    inverse: bool,
}

/// Values per register tile of the tiled kernels (an AVX-512 register of f64).
const LANES: usize = 8;
/// Rows of up to `MAX_TILES · LANES` values are transformed with every output in
/// registers.
const MAX_TILES: usize = 4;

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
        match &self.tiled {
            Some((fwd, inv)) => {
                let (table, start) = if self.inverse {
                    (inv, 0.0)
                } else {
                    (fwd, -0.0)
                };
                tiled_rows(table, self.n, start, x, out)
            }
            None => self.dense(x, out),
        }
    }
}

crate::frame::kernels::multiversion! {
    /// [`forward_rows`] (`table` = the padded `basis_t`, `start` = -0.0) or
    /// [`inverse_rows`] (`table` = the padded `basis`, `start` = 0.0) with each row's
    /// outputs held in registers: output `k` is `start + t[0][k]·x_0 + t[1][k]·x_1 + …`
    /// added in that order, as in those loops, so the bits are theirs (padding lanes
    /// are computed and dropped).
    fn tiled_rows(table: &[f64], n: usize, start: f64, x: &[f64], out: &mut [f64]) {
        #[inline(always)]
        fn run<const T: usize>(table: &[f64], n: usize, start: f64, x: &[f64], out: &mut [f64]) {
            let w = T * LANES;
            for (o, x) in out.chunks_exact_mut(n).zip(x.chunks_exact(n)) {
                let mut acc = [[start; LANES]; T];
                for (i, &xi) in x.iter().enumerate() {
                    let row = &table[i * w..(i + 1) * w];
                    for (a, t) in acc.iter_mut().zip(row.chunks_exact(LANES)) {
                        for (a, t) in a.iter_mut().zip(t) {
                            *a += t * xi;
                        }
                    }
                }
                for (o, a) in o.iter_mut().zip(acc.iter().flatten()) {
                    *o = *a;
                }
            }
        }
        match n.div_ceil(LANES) {
            1 => run::<1>(table, n, start, x, out),
            2 => run::<2>(table, n, start, x, out),
            3 => run::<3>(table, n, start, x, out),
            _ => run::<4>(table, n, start, x, out),
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
        // Several rows at once (dense_block: the register-tiled kernel up to 32 values,
        // the table walk above) against each row alone, forward and inverse, in the
        // portable, AVX2 and AVX-512 builds: the same bits, at sizes that fill a tile
        // exactly, leave padding, or exceed the tiles.
        use crate::frame::kernels::{force_build, Build};
        for (inverse, n) in [false, true]
            .into_iter()
            .flat_map(|inv| [1, 3, 8, 9, 17, 20, 32, 33].map(|n| (inv, n)))
        {
            let k = DCT::new().with_inverse(inverse).kernel(n).unwrap();
            assert_eq!(k.tiled.is_some(), n <= 32);
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
