//! [`PolynomialExpansion`]: all monomials of a vector's elements up to a degree.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/PolynomialExpansion.scala`.

use serde::{Deserialize, Serialize};

use super::vector_stage::{vector_transformer, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::param::Params;

/// Params of [`PolynomialExpansion`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PolynomialExpansionParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column.
    pub output_col: String,
    /// Highest total degree, at least 1. Default 2.
    pub degree: i32,
}

impl Default for PolynomialExpansionParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            degree: 2,
        }
    }
}

impl Params for PolynomialExpansionParams {
    const STAGE: &'static str = "PolynomialExpansion";
    fn validate(&self) -> Result<()> {
        super::vector_stage::check_in_out(Self::STAGE, &self.input_col, &self.output_col)?;
        if self.degree < 1 {
            return Err(Error::param(Self::STAGE, "degree", ">= 1", self.degree));
        }
        Ok(())
    }
}

/// Expands a vector into every monomial of its elements of total degree 1 to `degree`
/// (Spark's `org.apache.spark.ml.feature.PolynomialExpansion`), in Spark's order: for
/// `(x, y)` and degree 2, `(x, x², y, xy, y²)`. Products are formed in Spark's order, so the
/// values are Spark's to the bit. `n` elements give `C(n + degree, degree) − 1` outputs.
/// Each row keeps its layout, as in Spark: a sparse row expands to the non-zero monomials
/// of its stored values (`expandSparse`), a dense row to all of them.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{PolynomialExpansion, VectorAssembler};
/// use mlpipe::frame::vector;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let out = PolynomialExpansion::new().with_input_col("v").with_output_col("p").transform(&df)?;
/// let f = out.schema().field_with_name("p")?.clone();
/// assert_eq!(vector::field_vector_size(&f), Some(5));
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a degree below 1 or an output longer than `i32::MAX`.
#[derive(Clone, Debug)]
pub struct PolynomialExpansion {
    uid: String,
    params: PolynomialExpansionParams,
}

vector_transformer!(
    PolynomialExpansion,
    PolynomialExpansionParams,
    "poly",
    "org.apache.spark.ml.feature.PolynomialExpansion",
    sized: false
);

/// `C(n + degree, degree)`, Spark's `getPolySize` (`None` past `i32::MAX`).
fn poly_size(n: usize, degree: usize) -> Option<usize> {
    let mut c: u128 = 1;
    for i in 1..=degree as u128 {
        c = c * (n as u128 + i) / i;
        if c > i32::MAX as u128 * 2 {
            return None;
        }
    }
    (c <= i32::MAX as u128).then_some(c as usize)
}

/// `poly_size(len, d)` for every `len <= n` and `d <= degree`, looked up by the expansion's
/// recursion (which asks for one at every call) instead of recomputed there.
struct PolySizes {
    degree: usize,
    sizes: Vec<usize>,
}

impl PolySizes {
    fn new(n: usize, degree: usize) -> Self {
        let sizes = (0..=n)
            .flat_map(|len| (0..=degree).map(move |d| poly_size(len, d).unwrap_or(0)))
            .collect();
        PolySizes { degree, sizes }
    }
    /// `poly_size(len, d)` (0 past `i32::MAX`, as the recursion's `unwrap_or(0)` had it).
    #[inline]
    fn get(&self, len: usize, d: usize) -> usize {
        self.sizes[len * (self.degree + 1) + d]
    }
}

/// Spark's `expandDense`: monomials of `values[..=last]` of degree at most `degree`, times
/// `multiplier`, written from `cur` on; returns the index after them.
fn expand_dense(
    sizes: &PolySizes,
    values: &[f64],
    last: isize,
    degree: usize,
    multiplier: f64,
    out: &mut [f64],
    cur: isize,
) -> isize {
    if multiplier == 0.0 {
        // zeros stay zeros
    } else if degree == 0 || last < 0 {
        if cur >= 0 {
            out[cur as usize] = multiplier;
        }
    } else if degree == 1 {
        // The recursion unrolled (it writes the same values at the same places): the
        // constant `multiplier` at `cur`, then `multiplier · values[j]` at `cur + 1 + j`,
        // each skipped when zero.
        if cur >= 0 {
            out[cur as usize] = multiplier;
        }
        let first = (cur + 1) as usize;
        let n = (last + 1) as usize;
        for (o, v) in out[first..first + n].iter_mut().zip(&values[..n]) {
            let a = multiplier * v;
            if a != 0.0 {
                *o = a;
            }
        }
    } else {
        let v = values[last as usize];
        let mut alpha = multiplier;
        let mut start = cur;
        let mut i = 0;
        while i <= degree && alpha != 0.0 {
            start = expand_dense(sizes, values, last - 1, degree - i, alpha, out, start);
            i += 1;
            alpha *= v;
        }
    }
    cur + sizes.get((last + 1) as usize, degree) as isize
}

/// Spark's `expandSparse`: the non-zero monomials of the stored entries
/// `(indices, values)[..=last]` (the features up to `last_feature`) of degree at most
/// `degree`, times `multiplier`, appended from output position `cur` on, in increasing
/// position; returns the position after them.
#[allow(clippy::too_many_arguments)]
fn expand_sparse(
    sizes: &PolySizes,
    indices: &[i32],
    values: &[f64],
    last: isize,
    last_feature: isize,
    degree: usize,
    multiplier: f64,
    oi: &mut Vec<i32>,
    ov: &mut Vec<f64>,
    cur: isize,
) -> isize {
    if multiplier == 0.0 {
        // zeros stay zeros
    } else if degree == 0 || last < 0 {
        if cur >= 0 {
            oi.push(cur as i32);
            ov.push(multiplier);
        }
    } else {
        let v = values[last as usize];
        let last_feature1 = indices[last as usize] as isize - 1;
        let mut alpha = multiplier;
        let mut start = cur;
        let mut i = 0;
        while i <= degree && alpha != 0.0 {
            start = expand_sparse(
                sizes,
                indices,
                values,
                last - 1,
                last_feature1,
                degree - i,
                alpha,
                oi,
                ov,
                start,
            );
            i += 1;
            alpha *= v;
        }
    }
    cur + sizes.get((last_feature + 1) as usize, degree) as isize
}

impl PolynomialExpansion {
    /// Highest total degree (at least 1); default 2.
    pub fn with_degree(mut self, d: i32) -> Self {
        self.params.degree = d;
        self
    }
    fn output_size(&self, n: usize) -> Result<usize> {
        poly_size(n, self.params.degree as usize)
            .map(|s| s - 1)
            .ok_or_else(|| {
                Error::param(
                    PolynomialExpansionParams::STAGE,
                    "degree",
                    format!("small enough that C({n} + degree, degree) fits in an Int"),
                    self.params.degree,
                )
            })
    }
    /// Spark's PolynomialExpansion keeps each row's layout (`expandDense` /
    /// `expandSparse`).
    const LAYOUT: OutLayout = OutLayout::Keep;
    fn kernel(&self, n: usize) -> Result<PolyKernel> {
        let degree = self.params.degree as usize;
        Ok(PolyKernel {
            n,
            degree,
            sizes: PolySizes::new(n, degree),
        })
    }
}

/// [`PolynomialExpansion`]'s row maps.
struct PolyKernel {
    n: usize,
    degree: usize,
    sizes: PolySizes,
}

impl VectorMap for PolyKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        expand_dense(
            &self.sizes,
            x,
            self.n as isize - 1,
            self.degree,
            1.0,
            out,
            -1,
        );
    }
    fn sparse(
        &self,
        size: usize,
        indices: &[i32],
        values: &[f64],
        oi: &mut Vec<i32>,
        ov: &mut Vec<f64>,
    ) -> bool {
        let last = values.len() as isize - 1;
        expand_sparse(
            &self.sizes,
            indices,
            values,
            last,
            size as isize - 1,
            self.degree,
            1.0,
            oi,
            ov,
            -1,
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spark's `expandDense` as written (no unrolling, sizes recomputed at every call).
    fn spark_expand_dense(
        values: &[f64],
        last: isize,
        degree: usize,
        multiplier: f64,
        out: &mut [f64],
        cur: isize,
    ) -> isize {
        if multiplier == 0.0 {
        } else if degree == 0 || last < 0 {
            if cur >= 0 {
                out[cur as usize] = multiplier;
            }
        } else {
            let v = values[last as usize];
            let (mut alpha, mut start, mut i) = (multiplier, cur, 0);
            while i <= degree && alpha != 0.0 {
                start = spark_expand_dense(values, last - 1, degree - i, alpha, out, start);
                i += 1;
                alpha *= v;
            }
        }
        cur + poly_size((last + 1) as usize, degree).unwrap() as isize
    }

    #[test]
    fn expansion_is_bit_for_bit_spark_recursion() {
        // The unrolled degree-1 step and the size table against Spark's recursion.
        // zeros (skipped terms), a negative zero, NaN, infinities and ordinary values
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
        for n in 1..6 {
            for degree in 1..5 {
                let sizes = PolySizes::new(n, degree);
                let m = poly_size(n, degree).unwrap() - 1;
                for seed in 0..40 {
                    let x: Vec<f64> = (0..n)
                        .map(|j| pool[(seed * 7 + j * 5) % pool.len()])
                        .collect();
                    let (mut a, mut b) = (vec![0.0; m], vec![0.0; m]);
                    expand_dense(&sizes, &x, n as isize - 1, degree, 1.0, &mut a, -1);
                    spark_expand_dense(&x, n as isize - 1, degree, 1.0, &mut b, -1);
                    // Bits, every NaN as one (IEEE 754 and LLVM leave a product's NaN
                    // sign and payload unspecified).
                    let bits = |v: &[f64]| {
                        v.iter()
                            .map(|x| if x.is_nan() { 1 } else { x.to_bits() })
                            .collect::<Vec<_>>()
                    };
                    assert_eq!(bits(&a), bits(&b), "n {n} degree {degree} x {x:?}");
                }
            }
        }
    }

    #[test]
    fn spark_term_order() {
        // (x, y) = (2, 3), degree 2: x, x², y, xy, y² (Spark's PolynomialExpansionSuite order)
        let mut out = vec![0.0; 5];
        expand_dense(&PolySizes::new(2, 2), &[2.0, 3.0], 1, 2, 1.0, &mut out, -1);
        assert_eq!(out, vec![2.0, 4.0, 3.0, 6.0, 9.0]);
        assert_eq!(poly_size(3, 3), Some(20));
    }
}
