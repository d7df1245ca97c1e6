//! ndarray <-> mlpipe (feature `ndarray`, at the ndarray version linfa 0.8 uses).
//!
//! A dense vector column (`FixedSizeList<Float64, n>`) stores each partition's rows back to
//! back in one `f64` buffer, so [`DataFrame::vector_views`] hands out one `ArrayView2<f64>`
//! per partition over that buffer, without copying. [`DataFrame::to_array2`] gathers every
//! partition into one `Array2` (one copy), [`DataFrame::to_array1`] does the same for a
//! numeric column (a prediction or a label), and [`DataFrame::from_array2`] builds a frame
//! with a `features` vector column (and an optional `label` column) that takes over the
//! arrays' memory when they are in standard (row-major) layout.
//!
//! [`PredictArray`] scores any fitted model or [`PipelineModel`] straight from an
//! `ArrayView2<f64>` (a batch) or an `ArrayView1<f64>` (one row).
//!
//! Sparse vectors do not exist in mlpipe yet; when they do, they will not have a
//! zero-copy view (a sparse row is not a contiguous slice).
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::ndarray::{array, Array1};
//! use mlpipe::DataFrame;
//! let x = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
//! let df = DataFrame::from_array2(x.clone(), Some(Array1::from(vec![0.0, 1.0, 0.0])))?;
//! let views = df.vector_views("features")?;
//! assert_eq!(views[0], x.view());
//! assert_eq!(df.to_array1("label")?, array![0.0, 1.0, 0.0]);
//! # Ok(()) }
//! ```

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use arrow::buffer::ScalarBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::pipeline::{PipelineModel, Transformer};

/// Column name of the feature vectors in [`DataFrame::from_array2`].
pub const FEATURES: &str = "features";
/// Column name of the label in [`DataFrame::from_array2`].
pub const LABEL: &str = "label";

impl DataFrame {
    /// One `ArrayView2<f64>` (rows x n) per partition over the vector column `col`'s own
    /// buffer: nothing is copied.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`], [`Error::ColumnType`] when `col` is not a dense vector
    /// column, [`Error::InvalidValue`] naming the partition and row of a null vector (its
    /// slot holds no values; drop it with `drop_invalid` first).
    pub fn vector_views(&self, col: &str) -> Result<Vec<ArrayView2<'_, f64>>> {
        const STAGE: &str = "DataFrame::vector_views";
        let (i, f, n) = schema::require_vector(self.schema(), STAGE, col)?;
        let not_dense = || {
            Error::ColumnType {
            stage: STAGE,
            column: col.to_string(),
            expected: "a vector column whose rows are all dense (views borrow its buffer); use to_array2, which densifies sparse rows".into(),
            found: f.data_type().clone(),
        }
        };
        self.partitions()
            .iter()
            .enumerate()
            .map(|(p, batch)| {
                let arr = batch.column(i).as_ref();
                let at = vector::At {
                    stage: STAGE,
                    column: col,
                    partition: p,
                };
                // A dense column, or a sparse-type one whose rows are all dense (such as
                // VectorAssembler's output from numbers): one row-major buffer either way.
                let values = vector::VectorBlock::new(arr, n, at)?
                    .as_dense()
                    .ok_or_else(not_dense)?;
                reject_nulls(STAGE, col, p, arr)?;
                ArrayView2::from_shape((arr.len(), n), values)
                    .map_err(|e| Error::Internal(format!("vector block of `{col}`: {e}")))
            })
            .collect()
    }

    /// The vector column `col` as one `Array2<f64>` (all partitions, in order): one copy.
    ///
    /// # Errors
    /// As [`DataFrame::vector_views`].
    pub fn to_array2(&self, col: &str) -> Result<Array2<f64>> {
        const STAGE: &str = "DataFrame::to_array2";
        let (_, f, n) = schema::require_vector(self.schema(), STAGE, col)?;
        if vector::is_sparse_vector_type(f.data_type()) && self.vector_views(col).is_err() {
            let dense = vector::dense_chunks(self, STAGE, col, n)?;
            let field = vector::vector_field(col, n, true);
            let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(vec![field]));
            let parts = dense
                .into_iter()
                .map(|a| Ok(arrow::array::RecordBatch::try_new(schema.clone(), vec![a])?))
                .collect::<Result<Vec<_>>>()?;
            return DataFrame::try_new(schema, parts)?.to_array2(col);
        }
        let views = self.vector_views(col)?;
        if views.is_empty() {
            return Ok(Array2::zeros((0, n)));
        }
        ndarray::concatenate(Axis(0), &views)
            .map_err(|e| Error::Internal(format!("concatenating `{col}`: {e}")))
    }

    /// The numeric (or boolean) column `col` as one `Array1<f64>` (all partitions, in
    /// order), for a prediction or label column.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`], [`Error::ColumnType`] for a non-numeric column (use
    /// [`DataFrame::to_array2`] for a vector column), [`Error::InvalidValue`] for a null.
    pub fn to_array1(&self, col: &str) -> Result<Array1<f64>> {
        const STAGE: &str = "DataFrame::to_array1";
        let (i, _) = schema::require_numeric(self.schema(), STAGE, col)?;
        let mut out = Vec::with_capacity(self.num_rows());
        for (p, batch) in self.partitions().iter().enumerate() {
            let a = cast(batch.column(i), &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>();
            reject_nulls(STAGE, col, p, a)?;
            out.extend_from_slice(a.values());
        }
        Ok(Array1::from(out))
    }

    /// A frame with a `features` vector column holding the rows of `features` and, when
    /// given, a `label` column; one partition. Arrays in standard (row-major, contiguous)
    /// layout hand over their memory without a copy; others are copied once.
    ///
    /// # Errors
    /// [`Error::Frame`] when `label` has another length than `features` has rows.
    pub fn from_array2(features: Array2<f64>, label: Option<Array1<f64>>) -> Result<DataFrame> {
        let (rows, n) = features.dim();
        if let Some(label) = &label {
            if label.len() != rows {
                return Err(Error::Frame(format!(
                    "from_array2: the features have {rows} rows but the label has {} values; pass one label per row",
                    label.len()
                )));
            }
        }
        let mut fields = vec![vector::vector_field(FEATURES, n, false)];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(vector_column(features)?)];
        if let Some(label) = label {
            fields.push(Field::new(LABEL, DataType::Float64, false));
            columns.push(Arc::new(Float64Array::new(owned_values1(label), None)));
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        DataFrame::try_new(schema, vec![batch])
    }
}

/// An `Array2` as a vector column, taking over its memory when it is row-major and
/// contiguous.
fn vector_column(features: Array2<f64>) -> Result<arrow::array::FixedSizeListArray> {
    let (rows, n) = features.dim();
    let features = if features.is_standard_layout() {
        features
    } else {
        features.as_standard_layout().into_owned()
    };
    let (values, offset) = features.into_raw_vec_and_offset();
    let offset = offset.unwrap_or(0);
    let buffer = ScalarBuffer::from(values).slice(offset, rows * n);
    let child = Arc::new(Float64Array::new(buffer, None));
    Ok(arrow::array::FixedSizeListArray::try_new_with_length(
        Arc::new(vector::item_field()),
        n as i32,
        child,
        None,
        rows,
    )?)
}

fn owned_values1(a: Array1<f64>) -> ScalarBuffer<f64> {
    if a.is_standard_layout() {
        let len = a.len();
        let (values, offset) = a.into_raw_vec_and_offset();
        ScalarBuffer::from(values).slice(offset.unwrap_or(0), len)
    } else {
        ScalarBuffer::from(a.to_vec())
    }
}

fn null_row(stage: &'static str, col: &str, partition: usize, row: usize) -> Error {
    Error::InvalidValue {
        stage,
        column: col.to_string(),
        partition,
        row,
        what: "null value".into(),
        hint: "an ndarray has no nulls: drop or impute those rows first (DataFrame::drop_invalid, Imputer)".into(),
    }
}

fn reject_nulls(stage: &'static str, col: &str, p: usize, arr: &dyn Array) -> Result<()> {
    match arr.nulls() {
        Some(n) if n.null_count() > 0 => {
            let row = (0..n.len()).find(|&r| n.is_null(r)).unwrap_or(0);
            Err(null_row(stage, col, p, row))
        }
        _ => Ok(()),
    }
}

/// Scoring from ndarray: any fitted model or [`PipelineModel`] predicts straight from an
/// `ArrayView2<f64>` whose columns are the model's features, in order.
///
/// The rows are handed to the model as its input columns: a model with a `featuresCol`
/// param (LogisticRegressionModel, a linfa model) gets them as that vector column; a
/// pipeline whose first stage is a VectorAssembler gets column `j` of the array as the
/// assembler's `j`-th input column; a first stage with an `inputCol` gets them as that
/// vector column. The result is the model's `predictionCol` (of the last stage that has
/// one) as `f64`.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::classification::LogisticRegression;
/// use mlpipe::interop::ndarray::PredictArray;
/// use mlpipe::ndarray::{array, Array1};
/// use mlpipe::prelude::*;
/// let x = array![[0.0, 1.0], [1.0, 0.0], [0.1, 0.9], [0.9, 0.2]];
/// let y = Array1::from(vec![1.0, 0.0, 1.0, 0.0]);
/// let model = LogisticRegression::new().fit(&DataFrame::from_array2(x.clone(), Some(y))?)?;
/// assert_eq!(model.predict_array(x.view())?.to_vec(), vec![1.0, 0.0, 1.0, 0.0]);
/// assert_eq!(model.predict_row(x.row(1))?, 0.0);
/// # Ok(()) }
/// ```
pub trait PredictArray {
    /// Predicts every row of `x` (rows x features).
    ///
    /// # Errors
    /// [`Error::Pipeline`] when the model's input or prediction column cannot be told from
    /// its params; the model's own errors (a feature count it was not fitted on, ...).
    fn predict_array(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>>;

    /// Predicts one row.
    ///
    /// # Errors
    /// As [`PredictArray::predict_array`].
    fn predict_row(&self, x: ArrayView1<'_, f64>) -> Result<f64> {
        let n = x.len();
        let x = x
            .into_shape_with_order((1, n))
            .map_err(|e| Error::Internal(format!("one row as a matrix: {e}")))?;
        Ok(self.predict_array(x)?[0])
    }
}

impl<T: Transformer> PredictArray for T {
    fn predict_array(&self, x: ArrayView2<'_, f64>) -> Result<Array1<f64>> {
        let (first, last): (&dyn Transformer, &dyn Transformer) =
            match (self as &dyn Any).downcast_ref::<PipelineModel>() {
                Some(pm) => match (pm.stages().first(), pm.stages().last()) {
                    (Some(f), Some(l)) => (f.as_ref(), l.as_ref()),
                    _ => {
                        return Err(Error::Pipeline(
                            "predict_array: the PipelineModel has no stages".into(),
                        ))
                    }
                },
                None => (self, self),
            };
        let df = input_frame(first, x)?;
        let out = self.transform(&df)?;
        let pred = prediction_col(self, last)?;
        out.to_array1(&pred)
    }
}

fn str_param(t: &dyn Transformer, name: &str) -> Option<String> {
    t.params_json().get(name)?.as_str().map(str::to_string)
}

/// The rows of `x` as the input columns of the stage `first`.
fn input_frame(first: &dyn Transformer, x: ArrayView2<'_, f64>) -> Result<DataFrame> {
    let params = first.params_json();
    if let Some(cols) = params.get("inputCols").and_then(|v| v.as_array()) {
        let names: Vec<&str> = cols.iter().filter_map(|v| v.as_str()).collect();
        if names.len() != x.ncols() {
            return Err(Error::FeatureCount {
                stage: first.kind(),
                column: names.join(", "),
                expected: names.len(),
                found: x.ncols(),
            });
        }
        let fields: Vec<Field> = names
            .iter()
            .map(|n| Field::new(*n, DataType::Float64, false))
            .collect();
        let columns: Vec<ArrayRef> = x
            .columns()
            .into_iter()
            .map(|c| Arc::new(Float64Array::from(c.to_vec())) as ArrayRef)
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), columns)?;
        return DataFrame::try_new(schema, vec![batch]);
    }
    let col = str_param(first, "featuresCol")
        .or_else(|| str_param(first, "inputCol"))
        .ok_or_else(|| {
            Error::Pipeline(format!(
                "predict_array: cannot tell which column {} reads (it has no featuresCol, inputCol or inputCols param); build a DataFrame and call transform",
                first.kind()
            ))
        })?;
    let features = vector_column(x.to_owned())?;
    let schema = Arc::new(Schema::new(vec![vector::vector_field(
        &col,
        x.ncols(),
        false,
    )]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(features)])?;
    DataFrame::try_new(schema, vec![batch])
}

fn prediction_col(model: &dyn Transformer, last: &dyn Transformer) -> Result<String> {
    if let Some(pm) = (model as &dyn Any).downcast_ref::<PipelineModel>() {
        if let Some(c) = pm
            .stages()
            .iter()
            .rev()
            .find_map(|s| str_param(s.as_ref(), "predictionCol"))
        {
            return Ok(c);
        }
    }
    str_param(last, "predictionCol").ok_or_else(|| {
        Error::Pipeline(format!(
            "predict_array: {} has no predictionCol param, so it makes no prediction to return; call transform and read the column you need with to_array1 / to_array2",
            last.kind()
        ))
    })
}
