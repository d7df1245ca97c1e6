//! [`ElementwiseProduct`]: multiply each vector by a fixed weight vector, element by element.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/ElementwiseProduct.scala`.

use serde::{Deserialize, Serialize};

use super::vector_stage::{vector_transformer, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::param::Params;
use crate::persist::Vector;

/// Params of [`ElementwiseProduct`]; JSON names are Spark's (`scalingVec` in Spark's vector
/// JSON).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ElementwiseProductParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column.
    pub output_col: String,
    /// The weights, one per vector element. Required.
    pub scaling_vec: Option<Vector>,
}

impl Params for ElementwiseProductParams {
    const STAGE: &'static str = "ElementwiseProduct";
    fn validate(&self) -> Result<()> {
        super::vector_stage::check_in_out(Self::STAGE, &self.input_col, &self.output_col)?;
        if self.scaling_vec.is_none() {
            return Err(Error::param(
                Self::STAGE,
                "scalingVec",
                "set (one weight per vector element)",
                "unset",
            ));
        }
        Ok(())
    }
}

/// Multiplies each vector by `scalingVec` element by element (Spark's Hadamard product
/// `org.apache.spark.ml.feature.ElementwiseProduct`).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{ElementwiseProduct, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let ep = ElementwiseProduct::new().with_input_col("v").with_output_col("w")
///     .with_scaling_vec(&[2.0, 0.5]);
/// assert!(ep.transform(&df)?.schema().field_with_name("w").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::FeatureCount`] when the vectors' length differs from `scalingVec`'s.
#[derive(Clone, Debug)]
pub struct ElementwiseProduct {
    uid: String,
    params: ElementwiseProductParams,
}

vector_transformer!(
    ElementwiseProduct,
    ElementwiseProductParams,
    "elemProd",
    "org.apache.spark.ml.feature.ElementwiseProduct"
);

impl ElementwiseProduct {
    /// The weights (required).
    pub fn with_scaling_vec(mut self, w: &[f64]) -> Self {
        self.params.scaling_vec = Some(Vector::Dense(w.to_vec()));
        self
    }
    fn weights(&self) -> Vec<f64> {
        self.params
            .scaling_vec
            .as_ref()
            .map(Vector::to_dense)
            .unwrap_or_default()
    }
    fn output_size(&self, n: usize) -> Result<usize> {
        let w = self.weights();
        if w.len() != n {
            return Err(Error::FeatureCount {
                stage: ElementwiseProductParams::STAGE,
                column: self.params.input_col.clone(),
                expected: w.len(),
                found: n,
            });
        }
        Ok(n)
    }
    fn kernel(&self, _n: usize) -> Result<ElementwiseKernel> {
        Ok(ElementwiseKernel { w: self.weights() })
    }
    /// Spark's `ElementwiseProduct` keeps each row's layout: a sparse row keeps its
    /// indices (a stored value times a zero weight stays stored).
    const LAYOUT: OutLayout = OutLayout::Keep;
}

/// [`ElementwiseProduct`]'s row maps.
struct ElementwiseKernel {
    w: Vec<f64>,
}

impl VectorMap for ElementwiseKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        for ((o, x), w) in out.iter_mut().zip(x).zip(&self.w) {
            *o = x * w;
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
        oi.extend_from_slice(indices);
        ov.extend(
            indices
                .iter()
                .zip(values)
                .map(|(i, v)| v * self.w[*i as usize]),
        );
        true
    }
}
