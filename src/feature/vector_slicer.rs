//! [`VectorSlicer`]: pick elements of a vector column by index or by feature name.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/VectorSlicer.scala`.

use std::collections::HashSet;

use arrow::datatypes::{Field, Schema};
use serde::{Deserialize, Serialize};

use super::selector::{self, Defaults};
use super::vector_stage::{check_in_out, map_rows, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`VectorSlicer`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VectorSlicerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column.
    pub output_col: String,
    /// Elements to take by index (distinct, non-negative). Default none.
    pub indices: Vec<i32>,
    /// Elements to take by feature name (distinct, non-empty; the input column must carry
    /// names). Default none. Taken after `indices`.
    pub names: Vec<String>,
}

impl Params for VectorSlicerParams {
    const STAGE: &'static str = "VectorSlicer";
    fn validate(&self) -> Result<()> {
        let stage = Self::STAGE;
        check_in_out(stage, &self.input_col, &self.output_col)?;
        let mut seen = HashSet::new();
        for &i in &self.indices {
            if i < 0 {
                return Err(Error::param(
                    stage,
                    "indices",
                    "non-negative element indices",
                    format!("{:?}", self.indices),
                ));
            }
            if !seen.insert(i) {
                return Err(Error::param(
                    stage,
                    "indices",
                    "distinct element indices",
                    format!("{:?} (index {i} twice)", self.indices),
                ));
            }
        }
        let mut seen = HashSet::new();
        for n in &self.names {
            if n.is_empty() || !seen.insert(n) {
                return Err(Error::param(
                    stage,
                    "names",
                    "distinct, non-empty feature names",
                    format!("{:?}", self.names),
                ));
            }
        }
        if self.indices.is_empty() && self.names.is_empty() {
            return Err(Error::param(
                stage,
                "indices",
                "at least one element selected (set indices or names)",
                "[] and names []",
            ));
        }
        Ok(())
    }
}

/// Takes some elements of a vector column into a new, shorter vector (Spark's
/// `org.apache.spark.ml.feature.VectorSlicer`): first those at `indices`, in the order
/// given, then those whose feature names (from the input's attribute metadata) are in
/// `names`. The selected elements' attributes (names, nominal values) carry over,
/// re-indexed; without input attributes the output records only its size.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{VectorAssembler, VectorSlicer};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0", "f1"]).with_output_col("v").transform(&df)?;
/// let out = VectorSlicer::new().with_input_col("v").with_output_col("s")
///     .with_indices(&[2]).with_names(["tenure"]).transform(&df)?;
/// let names = mlpipe::frame::vector::feature_names_or_default(out.schema().field_with_name("s")?);
/// assert_eq!(names, ["f1", "tenure"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for duplicated or negative indices, duplicated names, nothing
/// selected, an index past the vector's end, a name the input does not carry, or an element
/// selected both by index and by name.
#[derive(Clone, Debug)]
pub struct VectorSlicer {
    uid: String,
    params: VectorSlicerParams,
}

super::columns::stage_basics!(VectorSlicer, VectorSlicerParams, "vectorSlicer", |uid| {
    VectorSlicerParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl VectorSlicer {
    /// Input vector column (required).
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = c.into();
        self
    }
    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// Elements to take by index.
    pub fn with_indices(mut self, i: &[i32]) -> Self {
        self.params.indices = i.to_vec();
        self
    }
    /// Elements to take by feature name; any list of names.
    pub fn with_names(mut self, n: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.names = super::columns::names(n);
        self
    }

    /// The selected element indices (indices, then names) and the output field.
    fn plan(&self, input: &Schema) -> Result<(Vec<usize>, usize, Field)> {
        let stage = VectorSlicerParams::STAGE;
        let p = &self.params;
        p.validate()?;
        let (_, field, n) = schema::require_vector(input, stage, &p.input_col)?;
        if let Some(&i) = p.indices.iter().find(|&&i| i as usize >= n) {
            return Err(Error::param(
                stage,
                "indices",
                format!(
                    "element indices below the input's {n} elements (column `{}`)",
                    p.input_col
                ),
                format!("{:?} (index {i})", p.indices),
            ));
        }
        let mut sel: Vec<usize> = p.indices.iter().map(|&i| i as usize).collect();
        if !p.names.is_empty() {
            let names = vector::feature_names(field).unwrap_or_default();
            for name in &p.names {
                let j = names
                    .iter()
                    .position(|x| x.as_deref() == Some(name.as_str()))
                    .ok_or_else(|| {
                        Error::param(
                            stage,
                            "names",
                            format!(
                                "names of features in column `{}` (it has {:?})",
                                p.input_col,
                                names.iter().flatten().collect::<Vec<_>>()
                            ),
                            name,
                        )
                    })?;
                if sel.contains(&j) {
                    return Err(Error::param(
                        stage,
                        "names",
                        "features not also selected by indices (indices and names must be disjoint)",
                        format!("{name} (element {j})"),
                    ));
                }
                sel.push(j);
            }
        }
        let out = selector::selected_field(field, n, &sel, &p.output_col, Defaults::SizeOnly);
        // Each row keeps its layout: a sparse input column gives a sparse output column.
        let out = OutLayout::Keep.field(out, field.data_type());
        Ok((sel, n, out))
    }
}

impl Stage for VectorSlicer {
    fn kind(&self) -> &'static str {
        "VectorSlicer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let (_, _, field) = self.plan(input)?;
        schema::append_field(input, VectorSlicerParams::STAGE, field)
    }
}

impl Transformer for VectorSlicer {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.transform_schema(df.schema())?;
        let (sel, n, field) = self.plan(df.schema())?;
        map_rows(
            VectorSlicerParams::STAGE,
            df,
            &self.params.input_col,
            n,
            field,
            OutLayout::Keep,
            &SliceKernel { sel },
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// VectorSlicer's row maps: Spark's `DenseVector` branch picks the values, its
/// `SparseVector.slice` keeps the selected stored non-zero entries at their new positions
/// (Spark 4.3 drops a stored 0.0, whatever the order of the selection).
struct SliceKernel {
    sel: Vec<usize>,
}

impl VectorMap for SliceKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        for (o, &j) in out.iter_mut().zip(&self.sel) {
            *o = x[j];
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
        for (pos, &j) in self.sel.iter().enumerate() {
            if let Ok(k) = indices.binary_search(&(j as i32)) {
                if values[k] != 0.0 {
                    oi.push(pos as i32);
                    ov.push(values[k]);
                }
            }
        }
        true
    }
}

impl Model for VectorSlicer {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(VectorSlicer, "org.apache.spark.ml.feature.VectorSlicer");

// ---- Row form (crate::row) ----

impl crate::row::RowStage for VectorSlicer {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let (sel, _, _) = self.plan(plan.schema())?;
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, sel.len());
        Ok(Some(Box::new(super::vector_stage::MapRow {
            stage: VectorSlicerParams::STAGE,
            input,
            out,
            // The batch form's row function: the selected elements, in order.
            f: Box::new(move |x, out| {
                for (o, &j) in out.iter_mut().zip(&sel) {
                    *o = x[j];
                }
            }),
        })))
    }
}
