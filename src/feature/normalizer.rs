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
    fn kernel(&self, _n: usize) -> Result<NormalizerKernel> {
        Ok(NormalizerKernel { p: self.params.p })
    }
}

/// [`Normalizer`]'s row maps.
struct NormalizerKernel {
    p: f64,
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
