//! Vector columns: dense `FixedSizeList<Float64, n>` and sparse (Spark's `VectorUDT`
//! struct), read through one row view, [`Row`], by [`VectorBlock`].
//!
//! A dense vector column stores its rows back to back in one `f64` buffer (row-major), so
//! a partition's feature block is a plain `&[f64]` of `rows * n` values and its length `n`
//! is known from the schema alone. A sparse vector column is Spark's `VectorUDT` struct
//! `{type, size, indices, values}` with the vector size in the field metadata (see
//! [`SparseVectorBuilder`]). Feature names travel in the field's metadata under Spark's
//! `ml_attr` key, in Spark's attribute-group JSON.
//!
//! # Examples
//! ```
//! use arrow::array::Array;
//! use mlpipe::frame::vector;
//! let arr = vector::vector_array(vec![1.0, 2.0, 3.0, 4.0], 2, None).unwrap();
//! assert_eq!(arr.len(), 2);
//! assert_eq!(vector::dense_values(&arr).unwrap(), &[1.0, 2.0, 3.0, 4.0]);
//! ```

use std::sync::Arc;

use arrow::array::{Array, AsArray, FixedSizeListArray, Float64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Float64Type};
use serde_json::{json, Value};

use crate::error::{Error, Result};

mod sparse;
pub use sparse::{
    dense_rows_array, field_vector_size, is_sparse_vector_type, is_unknown_size, like_input,
    prefers_sparse, sparse_vector_field, sparse_vector_fields, sparse_vector_type, unknown_size,
    with_vector_size, At, DeferredVectorBlock, Row, SparseVectorBuilder, VectorBlock,
};
pub(crate) use sparse::{
    dense_rows_array_buf, par_compressed_chunk, par_entries_chunk, par_planned_chunk,
    par_vector_chunk, par_vector_chunk_like, PlannedBlock, PlannedRow, PLANNED_DENSE,
    PLANNED_SPARSE,
};

/// Field-metadata key holding Spark's ML attribute JSON.
pub const ML_ATTR: &str = "ml_attr";

/// The child field of every vector column.
pub fn item_field() -> Field {
    Field::new("item", DataType::Float64, false)
}

/// The Arrow type of a dense vector of length `n`.
pub fn vector_type(n: usize) -> DataType {
    DataType::FixedSizeList(Arc::new(item_field()), n as i32)
}

/// A vector field named `name` of length `n`.
pub fn vector_field(name: &str, n: usize, nullable: bool) -> Field {
    Field::new(name, vector_type(n), nullable)
}

/// The length of a dense vector type, or `None` if `dt` is not `FixedSizeList<Float64>`.
pub fn vector_size(dt: &DataType) -> Option<usize> {
    match dt {
        DataType::FixedSizeList(item, n) if item.data_type() == &DataType::Float64 && *n >= 0 => {
            Some(*n as usize)
        }
        _ => None,
    }
}

/// Builds a vector array of `values.len() / n` rows from row-major `values`.
pub fn vector_array(
    values: Vec<f64>,
    n: usize,
    nulls: Option<NullBuffer>,
) -> Result<FixedSizeListArray> {
    vector_array_buf(values.into(), n, nulls)
}

/// [`vector_array`] over values already in an Arrow buffer (a stage's output built by
/// `buffer::par_build_buffer`), without a copy.
pub(crate) fn vector_array_buf(
    values: arrow::buffer::ScalarBuffer<f64>,
    n: usize,
    nulls: Option<NullBuffer>,
) -> Result<FixedSizeListArray> {
    let rows = values
        .len()
        .checked_div(n)
        .unwrap_or_else(|| nulls.as_ref().map_or(0, |b| b.len()));
    let child = Arc::new(Float64Array::new(values, None));
    Ok(FixedSizeListArray::try_new_with_length(
        Arc::new(item_field()),
        n as i32,
        child,
        nulls,
        rows,
    )?)
}

/// The row-major values of a vector array (`len() * n` of them; rows that are null hold
/// unspecified values). Fails if the child array itself holds nulls.
pub fn dense_values(arr: &FixedSizeListArray) -> Result<&[f64]> {
    let child = arr.values();
    let child = child.as_primitive_opt::<Float64Type>().ok_or_else(|| {
        Error::Internal(format!(
            "vector column with child type {} instead of Float64",
            child.data_type()
        ))
    })?;
    if child.null_count() > 0 {
        return Err(Error::Frame(
            "a vector column holds null elements inside its vectors; mlpipe vectors hold f64 values (use NaN, not null, for a missing element)".into(),
        ));
    }
    Ok(child.values())
}

/// Spark's `ml_attr` JSON for a vector column whose elements are the numeric features `names`.
pub fn attr_group_json(names: &[String]) -> Value {
    let attrs: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"idx": i, "name": n}))
        .collect();
    json!({"attrs": {"numeric": attrs}, "num_attrs": names.len()})
}

/// Returns `field` with its feature names recorded in the metadata (Spark's `ml_attr` form).
pub fn with_feature_names(field: Field, names: &[String]) -> Field {
    let mut field = field;
    field
        .metadata_mut()
        .insert(ML_ATTR, attr_group_json(names).to_string());
    field
}

/// The feature names recorded on a vector field, by element index. `None` when the field
/// carries no attribute group; unnamed elements are `None` inside the vector.
pub fn feature_names(field: &Field) -> Option<Vec<Option<String>>> {
    let raw = field.metadata().get(ML_ATTR)?;
    let v: Value = serde_json::from_str(raw).ok()?;
    let n = v
        .get("num_attrs")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .or_else(|| field_vector_size(field))?;
    let mut names = vec![None; n];
    if let Some(groups) = v.get("attrs").and_then(Value::as_object) {
        for attrs in groups.values().filter_map(Value::as_array) {
            for a in attrs {
                let idx = a.get("idx").and_then(Value::as_u64).map(|i| i as usize);
                let name = a.get("name").and_then(Value::as_str);
                if let (Some(i), Some(name)) = (idx, name) {
                    if i < n {
                        names[i] = Some(name.to_string());
                    }
                }
            }
        }
    }
    Some(names)
}

/// Feature names of a vector field with a fallback of `<field>_<i>` for unnamed elements.
pub fn feature_names_or_default(field: &Field) -> Vec<String> {
    let n = field_vector_size(field).unwrap_or(0);
    let named = feature_names(field).unwrap_or_else(|| vec![None; n]);
    (0..n)
        .map(|i| {
            named
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("{}_{i}", field.name()))
        })
        .collect()
}

/// A vector column chunk as a dense vector array: a dense chunk as it is (shared, not
/// copied), a sparse one densified (checked first, nulls kept). For stages whose work is
/// dense anyway (trees, distances); stages where sparsity pays read [`VectorBlock`] rows.
///
/// # Errors
/// As [`VectorBlock::new`].
pub fn dense_chunk(arr: &dyn Array, size: usize, at: At<'_>) -> Result<FixedSizeListArray> {
    let block = VectorBlock::new(arr, size, at)?;
    if let Some(l) = arr.as_fixed_size_list_opt() {
        return Ok(l.clone());
    }
    if block.as_dense().is_some() {
        // A sparse-type column whose rows are all dense, back to back: its values child,
        // shared (no copy).
        let vl = arr.as_struct().column(3).as_list::<i32>();
        let first = vl.value_offsets()[0] as usize;
        let vals = vl
            .values()
            .as_primitive::<arrow::datatypes::Float64Type>()
            .values()
            .slice(first, arr.len() * size);
        return Ok(FixedSizeListArray::try_new(
            Arc::new(item_field()),
            size as i32,
            Arc::new(Float64Array::new(vals, None)),
            arr.nulls().cloned(),
        )?);
    }
    vector_array(block.to_dense().into_owned(), size, arr.nulls().cloned())
}

/// The chunks of the vector column `column` of `df` as dense vector arrays (see
/// [`dense_chunk`]), partitions in parallel.
///
/// # Errors
/// As [`VectorBlock::new`].
pub fn dense_chunks(
    df: &super::DataFrame,
    stage: &'static str,
    column: &str,
    size: usize,
) -> Result<Vec<arrow::array::ArrayRef>> {
    use rayon::prelude::*;
    let c = df.column(column)?;
    let chunks = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(p, a)| {
            let at = At {
                stage,
                column,
                partition: p,
            };
            Ok(Arc::new(dense_chunk(a.as_ref(), size, at)?) as arrow::array::ArrayRef)
        })
        .collect::<Vec<_>>();
    crate::frame::in_order(chunks)
}

/// Downcasts a column to a vector array.
pub fn as_vector(arr: &dyn Array) -> Result<&FixedSizeListArray> {
    arr.as_fixed_size_list_opt().ok_or_else(|| {
        Error::Internal(format!(
            "expected a FixedSizeList column, found {}",
            arr.data_type()
        ))
    })
}

/// Maps every row of the vector column `input` (dense, or sparse and densified per
/// partition) through `f(row, out_row)` into a new dense vector column `out` of the same
/// size (nulls kept), partition by partition, writing each output straight into fresh
/// huge-page-backed memory in parallel row blocks (see `buffer`). `f` sees whole rows, so
/// its inner loop vectorises.
///
/// # Safety
/// `f` must write every value of `out_row`. Both `row` and `out_row` have `size` values:
/// a partition whose vectors have another size is an error before `f` sees it.
pub(crate) unsafe fn map_vectors(
    df: &super::DataFrame,
    stage: &'static str,
    input: &str,
    size: usize,
    out: Field,
    f: impl Fn(&[f64], &mut [std::mem::MaybeUninit<f64>]) + Sync,
) -> Result<super::DataFrame> {
    use rayon::prelude::*;
    let c = df.column(input)?;
    let chunks = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(p, a)| {
            let at = At {
                stage,
                column: input,
                partition: p,
            };
            let block = VectorBlock::new(a.as_ref(), size, at)?;
            let vals = block.to_dense();
            let n = size;
            // SAFETY: `block` holds whole rows of `n` values, as does `src`, and `f` sets
            // every value of each output row (this function's contract).
            let mapped = unsafe {
                super::buffer::par_build_buffer(a.len(), n, |first, block| {
                    let src = &vals[first * n..first * n + block.len()];
                    for (o, x) in block.chunks_exact_mut(n).zip(src.chunks_exact(n)) {
                        f(x, o);
                    }
                })
            };
            Ok(Arc::new(vector_array_buf(mapped, n, a.nulls().cloned())?)
                as arrow::array::ArrayRef)
        })
        .collect::<Vec<_>>();
    let chunks = crate::frame::in_order(chunks)?;
    df.with_column(out, chunks)
}

/// A per-feature affine map `x_j ↦ (x_j − shift_j) · scale_j` of dense rows: what a
/// fitted `StandardScalerModel` applies. One definition, so that a scaled column
/// materialised by the model and the same values computed on the fly by a fit that reads
/// the model's input instead (a pipeline's `StandardScaler → LogisticRegression`) hold the
/// same bits.
///
/// ```
/// use mlpipe::frame::vector::AffineMap;
/// let m = AffineMap { shift: vec![1.0, 0.0], scale: vec![0.5, 2.0] };
/// let mut out = [0.0; 2];
/// m.apply(&[3.0, 3.0], &mut out);
/// assert_eq!(out, [1.0, 6.0]);
/// assert_eq!(m.value(1, 3.0), 6.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AffineMap {
    /// `shift_j` (zeros when not centring).
    pub shift: Vec<f64>,
    /// `scale_j` (ones when not scaling).
    pub scale: Vec<f64>,
}

impl AffineMap {
    /// Writes the map of row `x` into `out` (both of the map's length).
    #[inline]
    pub fn apply(&self, x: &[f64], out: &mut [f64]) {
        for (((o, x), s), k) in out.iter_mut().zip(x).zip(&self.shift).zip(&self.scale) {
            *o = (x - s) * k;
        }
    }

    /// The map of one value `x` of feature `j`.
    #[inline]
    pub fn value(&self, j: usize, x: f64) -> f64 {
        (x - self.shift[j]) * self.scale[j]
    }
}

/// Dense rows (`values`, row-major, `size` each; null rows per `nulls`) as a sparse-type
/// vector column chunk whose rows are stored as Spark's `Vector.compressed` stores them:
/// when no row prefers sparse (`any_sparse`, counted here when `None`), the buffer itself
/// as all-dense rows (no copy); else by the two-pass parallel builder.
pub(crate) fn compressed_rows(
    values: Vec<f64>,
    size: usize,
    nulls: Option<NullBuffer>,
    any_sparse: Option<bool>,
    at: At<'_>,
) -> Result<arrow::array::ArrayRef> {
    use rayon::prelude::*;
    let any_sparse = any_sparse.unwrap_or_else(|| {
        prefers_sparse(0, size)
            && values.par_chunks((size * 4096).max(1)).any(|b| {
                b.chunks_exact(size)
                    .any(|r| prefers_sparse(Row::Dense(r).num_nonzeros(), size))
            })
    });
    if !any_sparse {
        return dense_rows_array(values, size, nulls);
    }
    let n = size.max(1);
    par_vector_chunk(
        values.len() / n,
        size,
        true,
        at,
        || (),
        |_, r, sink| {
            if nulls.as_ref().is_some_and(|b| b.is_null(r)) {
                sink.null();
            } else {
                sink.dense()
                    .copy_from_slice(&values[r * size..(r + 1) * size]);
            }
            Ok(())
        },
    )
}

/// Maps the stored values of every row of the vector column `input` through
/// `f(index, value)`, keeping each row's layout (a sparse row keeps its indices, a dense
/// row stays dense; nulls kept), into the sparse vector column `out`. For maps that send
/// 0 to 0 (scaling), so that unstored entries stay zero, as Spark's scalers do on sparse
/// vectors.
pub(crate) fn map_stored_values(
    df: &super::DataFrame,
    stage: &'static str,
    input: &str,
    size: usize,
    out: Field,
    f: impl Fn(usize, f64) -> f64 + Sync,
) -> Result<super::DataFrame> {
    let c = df.column(input)?;
    let chunks = df.map_partitions(|p, _| {
        let a = &c.chunks[p];
        let at = At {
            stage,
            column: input,
            partition: p,
        };
        let block = VectorBlock::new(a.as_ref(), size, at)?;
        if let Some(x) = block.as_dense() {
            // Every row dense: mapped in place, in parallel, still all dense.
            // SAFETY: each block holds whole rows of `size` values, every one written.
            let vals = unsafe {
                super::buffer::par_build_buffer(a.len(), size, |first, dst| {
                    let src = &x[first * size..first * size + dst.len()];
                    let n = size.max(1);
                    for (o, r) in dst.chunks_exact_mut(n).zip(src.chunks_exact(n)) {
                        for (j, (o, v)) in o.iter_mut().zip(r).enumerate() {
                            o.write(f(j, *v));
                        }
                    }
                })
            };
            return dense_rows_array_buf(vals, size, a.nulls().cloned());
        }
        let at = At {
            stage,
            column: out.name(),
            partition: p,
        };
        par_vector_chunk_like(
            &block,
            at,
            || (),
            |_, r, sink| {
                match block.row(r) {
                    None => sink.null(),
                    Some(Row::Sparse {
                        indices, values, ..
                    }) => {
                        let (oi, ov) = sink.sparse();
                        oi.extend_from_slice(indices);
                        ov.extend(indices.iter().zip(values).map(|(i, v)| f(*i as usize, *v)));
                    }
                    Some(Row::Dense(x)) => {
                        for (j, (o, v)) in sink.dense().iter_mut().zip(x).enumerate() {
                            *o = f(j, *v);
                        }
                    }
                }
                Ok(())
            },
        )
    })?;
    df.with_column(out, chunks)
}

/// Maps every row of the vector column `input` through `f(row, out_row)` (`out_row` has
/// `size` values to fill) into the sparse vector column `out`, each output row stored as
/// Spark's `Vector.compressed` stores it (nulls kept). For maps whose output is dense in
/// general (MinMaxScaler) over sparse input, as Spark compresses such outputs.
pub(crate) fn map_rows_compressed(
    df: &super::DataFrame,
    stage: &'static str,
    input: &str,
    size: usize,
    out: Field,
    f: impl Fn(Row<'_>, &mut [f64]) + Sync,
) -> Result<super::DataFrame> {
    let c = df.column(input)?;
    let chunks = df.map_partitions(|p, _| {
        let a = &c.chunks[p];
        let at = At {
            stage,
            column: input,
            partition: p,
        };
        let block = VectorBlock::new(a.as_ref(), size, at)?;
        // Each row mapped into a zeroed dense row, stored `.compressed`, by the two-pass
        // parallel builder.
        let at = At {
            stage,
            column: out.name(),
            partition: p,
        };
        par_vector_chunk(
            block.len(),
            size,
            true,
            at,
            || (),
            |_, r, sink| {
                match block.row(r) {
                    None => sink.null(),
                    Some(x) => f(x, sink.dense()),
                }
                Ok(())
            },
        )
    })?;
    df.with_column(out, chunks)
}

impl super::DataFrame {
    /// Records the vector size of the sparse vector column `column` in its field metadata,
    /// read from the data (every row must agree). For sparse columns written by other tools
    /// without Spark's `ml_attr` metadata; a dense column is returned unchanged.
    ///
    /// # Errors
    /// [`Error::ColumnType`] when `column` is no vector column; [`Error::InvalidValue`]
    /// naming the row whose size differs from the first row's; [`Error::EmptyInput`] when
    /// no row holds a vector.
    pub fn with_vector_size(&self, column: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "DataFrame::with_vector_size";
        let c = self.column(column)?;
        if vector_size(c.field.data_type()).is_some() {
            return Ok(self.clone());
        }
        if !is_sparse_vector_type(c.field.data_type()) {
            return Err(Error::ColumnType {
                stage: STAGE,
                column: column.to_string(),
                expected: "a sparse vector column (Spark's VectorUDT struct)".into(),
                found: c.field.data_type().clone(),
            });
        }
        let mut size: Option<(usize, usize, usize)> = None;
        for (p, a) in c.chunks.iter().enumerate() {
            let s = a.as_struct();
            let kinds = s.column(0).as_primitive::<arrow::datatypes::Int8Type>();
            let sizes = s.column(1).as_primitive::<arrow::datatypes::Int32Type>();
            let vals = s.column(3).as_list::<i32>();
            for r in 0..a.len() {
                if a.is_null(r) {
                    continue;
                }
                let n = if kinds.value(r) == 1 || sizes.is_null(r) {
                    vals.value_length(r) as usize
                } else {
                    sizes.value(r).max(0) as usize
                };
                match size {
                    None => size = Some((n, p, r)),
                    Some((m, p0, r0)) if m != n => {
                        return Err(Error::InvalidValue {
                            stage: STAGE,
                            column: column.to_string(),
                            partition: p,
                            row: r,
                            what: format!(
                                "a vector of size {n} where partition {p0}, row {r0} has size {m}"
                            ),
                            hint: "every vector of a column must have the same size".into(),
                        })
                    }
                    _ => {}
                }
            }
        }
        let Some((n, _, _)) = size else {
            return Err(Error::EmptyInput {
                stage: STAGE,
                hint: format!("column `{column}` holds no vector to read the size from"),
            });
        };
        let field = with_vector_size(c.field.as_ref().clone(), n);
        // Every row is checked (indices sorted and in range) now that the size is known.
        for (p, a) in c.chunks.iter().enumerate() {
            VectorBlock::new(
                a.as_ref(),
                n,
                At {
                    stage: STAGE,
                    column,
                    partition: p,
                },
            )?;
        }
        self.with_column(field, c.chunks)
    }
}

impl super::DataFrame {
    /// Rewrites the vector column `column` with every row stored sparse (its non-zeros
    /// only, Spark's `Vector.toSparse`), as a sparse vector column of the same size and
    /// metadata. A sparse column's dense rows are converted too.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::VectorAssembler;
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let df = VectorAssembler::new().with_input_cols(["tenure", "monthly_charges"])
    ///     .with_output_col("f").with_handle_invalid(HandleInvalid::Skip)
    ///     .with_dense_output(true).transform(&df)?;
    /// let sparse = df.vectors_to_sparse("f")?;
    /// assert!(mlpipe::frame::vector::is_sparse_vector_type(
    ///     sparse.schema().field_with_name("f")?.data_type()));
    /// let back = sparse.vectors_to_dense("f")?;
    /// assert_eq!(back.collect()?, df.collect()?);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] / [`Error::ColumnType`] when `column` is no vector column,
    /// and the checks of [`VectorBlock::new`].
    pub fn vectors_to_sparse(&self, column: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "DataFrame::vectors_to_sparse";
        let (_, f, n) = super::schema::require_vector(self.schema(), STAGE, column)?;
        let mut field = Field::new(column, sparse_vector_type(), f.is_nullable());
        field.set_metadata(f.metadata().clone());
        let field = with_vector_size(field, n);
        let c = self.column(column)?;
        let chunks = self.map_partitions(|p, _| {
            let a = &c.chunks[p];
            let at = At {
                stage: STAGE,
                column,
                partition: p,
            };
            let block = VectorBlock::new(a.as_ref(), n, at)?;
            let mut b = SparseVectorBuilder::with_capacity(n, a.len(), 0).context(STAGE, column, p);
            let (mut idx, mut vals) = (Vec::new(), Vec::new());
            for r in 0..block.len() {
                let Some(x) = block.row(r) else {
                    b.push_null();
                    continue;
                };
                idx.clear();
                vals.clear();
                x.for_each_active(|i, v| {
                    if v != 0.0 {
                        idx.push(i as i32);
                        vals.push(v);
                    }
                });
                b.push(&idx, &vals)?;
            }
            b.finish()
        })?;
        self.with_column(field, chunks)
    }

    /// Rewrites the vector column `column` as a dense vector column (`FixedSizeList`) of
    /// the same size and metadata (Spark's `Vector.toDense`); a dense column is returned
    /// unchanged.
    ///
    /// # Errors
    /// As [`DataFrame::vectors_to_sparse`](super::DataFrame::vectors_to_sparse).
    pub fn vectors_to_dense(&self, column: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "DataFrame::vectors_to_dense";
        let (_, f, n) = super::schema::require_vector(self.schema(), STAGE, column)?;
        if vector_size(f.data_type()).is_some() {
            return Ok(self.clone());
        }
        let mut field = vector_field(column, n, f.is_nullable());
        field.set_metadata(f.metadata().clone());
        let chunks = dense_chunks(self, STAGE, column, n)?;
        self.with_column(field, chunks)
    }

    /// Spark's `vector_to_array` (`pyspark.ml.functions`): appends `output`, the vector
    /// column `input` (dense or sparse) as a `List<Float64>` column, nulls kept.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::VectorAssembler;
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let df = VectorAssembler::new().with_input_cols(["tenure", "monthly_charges"])
    ///     .with_output_col("f").with_handle_invalid(HandleInvalid::Skip)
    ///     .with_dense_output(true).transform(&df)?;
    /// let arr = df.vector_to_array("f", "a")?;
    /// let back = arr.array_to_vector("a", "g")?;
    /// assert_eq!(back.column("g")?.chunks, df.column("f")?.chunks);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] / [`Error::ColumnType`] when `input` is no vector column,
    /// [`Error::ColumnExists`] when `output` exists, and the checks of [`VectorBlock::new`].
    pub fn vector_to_array(&self, input: &str, output: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "vector_to_array";
        let (_, _, n) = super::schema::require_vector(self.schema(), STAGE, input)?;
        super::schema::require_absent(self.schema(), STAGE, output)?;
        let item = Arc::new(Field::new("element", DataType::Float64, false));
        let field = Field::new(output, DataType::List(item.clone()), true);
        let dense = dense_chunks(self, STAGE, input, n)?;
        let chunks = dense
            .iter()
            .map(|a| {
                let l = as_vector(a.as_ref())?;
                let vals = dense_values(l)?;
                Ok(Arc::new(arrow::array::ListArray::try_new(
                    item.clone(),
                    arrow::buffer::OffsetBuffer::from_lengths(std::iter::repeat_n(n, l.len())),
                    Arc::new(Float64Array::from(vals[..l.len() * n].to_vec())),
                    l.nulls().cloned(),
                )?) as arrow::array::ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        self.with_column(field, chunks)
    }

    /// Spark's `array_to_vector` (`pyspark.ml.functions`): appends `output`, the numeric
    /// list column `input` as a dense vector column, nulls kept. Every non-null list must
    /// have the same length (a vector column has one size).
    ///
    /// # Errors
    /// [`Error::ColumnType`] when `input` is not a list of numbers; [`Error::InvalidValue`]
    /// naming the row of a list of another length or holding a null element;
    /// [`Error::ColumnExists`] when `output` exists.
    pub fn array_to_vector(&self, input: &str, output: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "array_to_vector";
        let (_, f) = super::schema::require_column(self.schema(), STAGE, input)?;
        let numeric_list = match f.data_type() {
            DataType::List(c) | DataType::LargeList(c) => super::schema::is_numeric(c.data_type()),
            _ => false,
        };
        if !numeric_list {
            return Err(Error::ColumnType {
                stage: STAGE,
                column: input.to_string(),
                expected: "a list of numbers (List<Float64>)".into(),
                found: f.data_type().clone(),
            });
        }
        super::schema::require_absent(self.schema(), STAGE, output)?;
        let c = self.column(input)?;
        let list_ty = DataType::List(Arc::new(Field::new("item", DataType::Float64, true)));
        let mut size: Option<(usize, usize, usize)> = None;
        let mut lists = Vec::with_capacity(c.chunks.len());
        for (p, a) in c.chunks.iter().enumerate() {
            let l = arrow::compute::cast(a, &list_ty)?;
            let l = l.as_list::<i32>().clone();
            for r in 0..l.len() {
                if l.is_null(r) {
                    continue;
                }
                let len = l.value_length(r) as usize;
                let bad = |what: String, hint: &str| Error::InvalidValue {
                    stage: STAGE,
                    column: input.to_string(),
                    partition: p,
                    row: r,
                    what,
                    hint: hint.into(),
                };
                match size {
                    None => size = Some((len, p, r)),
                    Some((m, p0, r0)) if m != len => {
                        return Err(bad(
                            format!(
                                "a list of {len} values where partition {p0}, row {r0} has {m}"
                            ),
                            "a vector column has one size: every list must have the same length",
                        ))
                    }
                    _ => {}
                }
                if l.value(r).null_count() > 0 {
                    return Err(bad(
                        "a null element".into(),
                        "vectors hold f64 values; use NaN, not null, for a missing element",
                    ));
                }
            }
            lists.push(l);
        }
        let n = size.map_or(0, |s| s.0);
        let chunks = lists
            .iter()
            .map(|l| {
                let mut vals = vec![0.0; l.len() * n];
                for r in 0..l.len() {
                    if !l.is_null(r) {
                        let v = l.value(r);
                        vals[r * n..(r + 1) * n]
                            .copy_from_slice(v.as_primitive::<Float64Type>().values());
                    }
                }
                Ok(Arc::new(vector_array(vals, n, l.nulls().cloned())?) as arrow::array::ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        self.with_column(vector_field(output, n, true), chunks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_metadata() {
        let names = vec!["a".to_string(), "b".to_string()];
        let f = with_feature_names(vector_field("v", 2, false), &names);
        assert_eq!(
            feature_names(&f).unwrap(),
            vec![Some("a".to_string()), Some("b".to_string())]
        );
        assert_eq!(feature_names_or_default(&f), names);
        let plain = vector_field("v", 2, false);
        assert_eq!(feature_names_or_default(&plain), vec!["v_0", "v_1"]);
    }

    #[test]
    fn sliced_array_values_are_sliced() {
        let arr = vector_array(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, None).unwrap();
        let s = arr.slice(1, 2);
        assert_eq!(dense_values(&s).unwrap(), &[3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn with_vector_size_reads_the_size_and_checks_rows() {
        use crate::DataFrame;
        use arrow::datatypes::Schema;
        let mut b = SparseVectorBuilder::new(4);
        b.push(&[1], &[2.0]).unwrap();
        b.push_dense(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let arr = b.finish().unwrap();
        let bare = Field::new("v", sparse_vector_type(), true);
        let schema = Arc::new(Schema::new(vec![bare.clone()]));
        let batch = arrow::array::RecordBatch::try_new(schema.clone(), vec![arr]).unwrap();
        let df = DataFrame::try_new(schema, vec![batch]).unwrap();
        let e = crate::frame::schema::require_vector(df.schema(), "T", "v")
            .unwrap_err()
            .to_string();
        assert!(e.contains("vector size in the field metadata"), "{e}");
        let sized = df.with_vector_size("v").unwrap();
        let (_, _, n) = crate::frame::schema::require_vector(sized.schema(), "T", "v").unwrap();
        assert_eq!(n, 4);
        assert!(sized.show_string(2).unwrap().contains("(4,[1],[2.0])"));

        // A second chunk whose vectors have size 3: the row is named.
        let mut b = SparseVectorBuilder::new(3);
        b.push(&[0], &[1.0]).unwrap();
        let other = b.finish().unwrap();
        let schema = Arc::new(Schema::new(vec![bare]));
        let parts = vec![
            df.partitions()[0].clone(),
            arrow::array::RecordBatch::try_new(schema.clone(), vec![other]).unwrap(),
        ];
        let mixed = DataFrame::try_new(schema, parts).unwrap();
        let e = mixed.with_vector_size("v").unwrap_err().to_string();
        assert_eq!(e, "DataFrame::with_vector_size: a vector of size 3 where partition 0, row 0 has size 4 in column `v` (partition 1, row 0); every vector of a column must have the same size");
    }
}
