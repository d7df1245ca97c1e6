//! Sparse vector columns in Spark's `VectorUDT` struct layout, the one row view [`Row`]
//! and the chunk reader [`VectorBlock`] that gives it for both layouts.
//!
//! A sparse vector column is an Arrow struct
//! `{type: Int8, size: Int32, indices: List<Int32>, values: List<Float64>}` (Spark's
//! `VectorUDT.sqlType`, the layout Spark writes to Parquet and sends over Spark Connect).
//! Each row is either sparse (`type = 0`, `size`, strictly increasing `indices` and their
//! `values`) or dense (`type = 1`, `values` only), as in Spark. The vector size of the
//! column is recorded in the field's metadata (Spark's `ml_attr` attribute group,
//! `num_attrs`), so a stage knows it from the schema alone.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int8Array, ListArray, StructArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field, Fields, Float64Type, Int32Type, Int8Type};
use serde_json::{json, Value};

use super::ML_ATTR;
use crate::error::{Error, Result};
use crate::frame::buffer::{self, Output};

/// One feature vector as a stage or model sees it: a dense slice, or a size with the
/// indices and values of its stored entries.
///
/// # Examples
/// ```
/// use mlpipe::frame::vector::Row;
/// let w = [1.0, 2.0, 3.0, 4.0];
/// let sparse = Row::Sparse { size: 4, indices: &[1, 3], values: &[10.0, 100.0] };
/// assert_eq!(sparse.dot(&w), 420.0);
/// assert_eq!(Row::Dense(&[0.0, 10.0, 0.0, 100.0]).dot(&w), 420.0);
/// assert_eq!(sparse.to_vec(), vec![0.0, 10.0, 0.0, 100.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Row<'a> {
    /// All values, in feature order.
    Dense(&'a [f64]),
    /// A sparse vector: `values[k]` sits at position `indices[k]`; the indices are strictly
    /// increasing and below `size` (checked by [`VectorBlock`] and [`SparseVectorBuilder`]).
    Sparse {
        /// The vector's length.
        size: usize,
        /// Positions of the stored values, strictly increasing.
        indices: &'a [i32],
        /// The stored values (zeros may be stored, as in Spark).
        values: &'a [f64],
    },
}

impl<'a> Row<'a> {
    /// The vector's length (number of features).
    pub fn len(&self) -> usize {
        match self {
            Row::Dense(v) => v.len(),
            Row::Sparse { size, .. } => *size,
        }
    }

    /// Whether the vector has no features.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of stored values (every value of a dense row).
    pub fn num_active(&self) -> usize {
        match self {
            Row::Dense(v) => v.len(),
            Row::Sparse { values, .. } => values.len(),
        }
    }

    /// The number of values that are not `0.0` (NaN counts), Spark's `numNonzeros`.
    pub fn num_nonzeros(&self) -> usize {
        let vals = match self {
            Row::Dense(v) => v,
            Row::Sparse { values, .. } => values,
        };
        vals.iter().filter(|v| **v != 0.0).count()
    }

    /// `Σ wᵢ xᵢ` over the row's stored values, summed in index order; `w` has at least
    /// [`len`](Self::len) values. A sparse row touches only its stored entries.
    #[inline]
    pub fn dot(&self, w: &[f64]) -> f64 {
        match self {
            Row::Dense(x) => w.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>(),
            Row::Sparse {
                indices, values, ..
            } => indices
                .iter()
                .zip(values.iter())
                .map(|(i, v)| w[*i as usize] * v)
                .sum::<f64>(),
        }
    }

    /// Calls `f(index, value)` for each stored value, in index order (every value of a
    /// dense row).
    #[inline]
    pub fn for_each_active(&self, mut f: impl FnMut(usize, f64)) {
        match self {
            Row::Dense(x) => x.iter().enumerate().for_each(|(i, v)| f(i, *v)),
            Row::Sparse {
                indices, values, ..
            } => indices
                .iter()
                .zip(values.iter())
                .for_each(|(i, v)| f(*i as usize, *v)),
        }
    }

    /// The value at position `i` (`0.0` where a sparse row stores nothing); `None` past
    /// the end.
    pub fn get(&self, i: usize) -> Option<f64> {
        if i >= self.len() {
            return None;
        }
        Some(match self {
            Row::Dense(x) => x[i],
            Row::Sparse {
                indices, values, ..
            } => match indices.binary_search(&(i as i32)) {
                Ok(k) => values[k],
                Err(_) => 0.0,
            },
        })
    }

    /// Checks a sparse row's indices (strictly increasing, below the size, one per value),
    /// as [`VectorBlock`] and [`SparseVectorBuilder`] do; `Err` says what is wrong. For
    /// rows built by hand.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self {
            Row::Dense(_) => Ok(()),
            Row::Sparse {
                size,
                indices,
                values,
            } => check_sparse(indices, values.len(), *size),
        }
    }

    /// The values as a slice, when the row is dense.
    pub fn as_dense(&self) -> Option<&'a [f64]> {
        match self {
            Row::Dense(x) => Some(x),
            Row::Sparse { .. } => None,
        }
    }

    /// Writes all [`len`](Self::len) values into `out` (zeros where a sparse row stores
    /// nothing). `out` has exactly `len()` values.
    pub fn write_dense(&self, out: &mut [f64]) {
        match self {
            Row::Dense(x) => out.copy_from_slice(x),
            Row::Sparse {
                indices, values, ..
            } => {
                out.iter_mut().for_each(|v| *v = 0.0);
                for (i, v) in indices.iter().zip(values.iter()) {
                    out[*i as usize] = *v;
                }
            }
        }
    }

    /// All values as a new vector.
    pub fn to_vec(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.len()];
        self.write_dense(&mut out);
        out
    }
}

impl<'a> From<&'a [f64]> for Row<'a> {
    fn from(x: &'a [f64]) -> Self {
        Row::Dense(x)
    }
}

/// Spark's `Vector.compressed` rule (Spark 4): a vector of length `size` with `nnz`
/// non-zeros is stored sparse when that takes fewer bytes, `12·nnz + 28 < 8·size + 12`.
///
/// # Examples
/// ```
/// use mlpipe::frame::vector::prefers_sparse;
/// assert!(!prefers_sparse(2, 5)); // 40 < 40 is false: dense
/// assert!(prefers_sparse(1, 5));
/// ```
pub fn prefers_sparse(nnz: usize, size: usize) -> bool {
    (12 * nnz as u128) + 28 < (8 * size as u128) + 12
}

fn list_of(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", t, false)))
}

/// The fields of Spark's `VectorUDT` struct (`type`, `size`, `indices`, `values`), with
/// Spark's nullability.
pub fn sparse_vector_fields() -> Fields {
    Fields::from(vec![
        Field::new("type", DataType::Int8, false),
        Field::new("size", DataType::Int32, true),
        Field::new("indices", list_of(DataType::Int32), true),
        Field::new("values", list_of(DataType::Float64), true),
    ])
}

/// The Arrow type of a sparse vector column (Spark's `VectorUDT` struct).
pub fn sparse_vector_type() -> DataType {
    DataType::Struct(sparse_vector_fields())
}

/// Whether `dt` is Spark's `VectorUDT` struct (field names and kinds; the list children's
/// names and nullability may differ, as in files other writers made).
pub fn is_sparse_vector_type(dt: &DataType) -> bool {
    let DataType::Struct(fields) = dt else {
        return false;
    };
    let list_of = |f: &Field, t: &DataType| match f.data_type() {
        DataType::List(c) => c.data_type() == t,
        _ => false,
    };
    fields.len() == 4
        && fields[0].name() == "type"
        && fields[0].data_type() == &DataType::Int8
        && fields[1].name() == "size"
        && fields[1].data_type() == &DataType::Int32
        && fields[2].name() == "indices"
        && list_of(&fields[2], &DataType::Int32)
        && fields[3].name() == "values"
        && list_of(&fields[3], &DataType::Float64)
}

/// Returns `field` with its vector size recorded in the metadata (Spark's `ml_attr`
/// `num_attrs`, keeping any attributes already there).
pub fn with_vector_size(field: Field, size: usize) -> Field {
    let mut field = field;
    let mut attr: Value = field
        .metadata()
        .get(ML_ATTR)
        .and_then(|s| serde_json::from_str(s).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    attr["num_attrs"] = json!(size);
    field
        .metadata_mut()
        .insert(ML_ATTR.to_string(), attr.to_string());
    field
}

/// A sparse vector field named `name` of vector size `size`.
pub fn sparse_vector_field(name: &str, size: usize, nullable: bool) -> Field {
    with_vector_size(Field::new(name, sparse_vector_type(), nullable), size)
}

/// The vector size recorded in a field's metadata (`ml_attr` `num_attrs`).
pub(crate) fn metadata_size(field: &Field) -> Option<usize> {
    let raw = field.metadata().get(ML_ATTR)?;
    let v: Value = serde_json::from_str(raw).ok()?;
    v.get("num_attrs")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
}

/// The vector size of a vector field of either layout: the dense type's length, or the
/// size recorded in a sparse field's metadata. `None` for other fields, and for a sparse
/// field whose size is not recorded.
pub fn field_vector_size(field: &Field) -> Option<usize> {
    if let Some(n) = super::vector_size(field.data_type()) {
        return Some(n);
    }
    if is_sparse_vector_type(field.data_type()) {
        return metadata_size(field);
    }
    None
}

/// Field-metadata key marking a vector column whose size is not known yet.
const UNKNOWN_SIZE: &str = "mlpipe_size_unknown";

/// Marks `field` as a vector whose size is not known yet: the output of an estimator
/// that is not fitted (OneHotEncoder, CountVectorizer) in a pipeline's pre-fit schema
/// pass, like Spark's attribute group of unknown size. The field keeps a placeholder size
/// (0) for stages that only need a vector; the stages that check a vector's size skip the
/// check for such a field (Spark's `transformSchema` does not check it either) and mark
/// their own output unknown when its size follows the input's ([`like_input`]).
///
/// # Examples
/// ```
/// use mlpipe::frame::vector::{field_vector_size, is_unknown_size, sparse_vector_field, unknown_size};
/// let f = unknown_size(sparse_vector_field("v", 0, true));
/// assert!(is_unknown_size(&f));
/// assert_eq!(field_vector_size(&f), Some(0)); // the placeholder
/// ```
pub fn unknown_size(field: Field) -> Field {
    let mut field = with_vector_size(field, 0);
    field
        .metadata_mut()
        .insert(UNKNOWN_SIZE.to_string(), "true".to_string());
    field
}

/// Whether `field` is a vector whose size is not known yet (see [`unknown_size`]).
pub fn is_unknown_size(field: &Field) -> bool {
    field
        .metadata()
        .get(UNKNOWN_SIZE)
        .is_some_and(|v| v == "true")
}

/// `out` (a vector field whose size follows `input`'s) marked of unknown size when
/// `input` is; otherwise `out` itself.
pub fn like_input(input: &Field, out: Field) -> Field {
    if is_unknown_size(input) {
        unknown_size(out)
    } else {
        out
    }
}

/// Where a vector column is being read, for error messages.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// The stage reading it.
    pub stage: &'static str,
    /// The column.
    pub column: &'a str,
    /// The partition.
    pub partition: usize,
}

impl At<'_> {
    fn err(&self, row: usize, what: String, hint: &str) -> Error {
        Error::InvalidValue {
            stage: self.stage,
            column: self.column.to_string(),
            partition: self.partition,
            row,
            what,
            hint: hint.into(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Layout<'a> {
    /// `FixedSizeList<Float64, n>`: row-major values.
    Dense(&'a [f64]),
    /// The `VectorUDT` struct: per-row type, index and value offsets, child values.
    Udt {
        kinds: &'a [i8],
        idx_off: &'a [i32],
        idx: &'a [i32],
        val_off: &'a [i32],
        vals: &'a [f64],
    },
}

/// One partition's vector column, checked once, read row by row as [`Row`]s whatever its
/// layout. Construction checks every non-null row: the vector size, sparse indices
/// strictly increasing and in range, as many indices as values, no null inside a vector.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::frame::vector::{At, Row, SparseVectorBuilder, VectorBlock};
/// let mut b = SparseVectorBuilder::new(3);
/// b.push(&[0, 2], &[1.0, 5.0])?;
/// b.push_dense(&[0.0, 2.0, 0.0])?;
/// let arr = b.finish()?;
/// let at = At { stage: "Example", column: "v", partition: 0 };
/// let block = VectorBlock::new(arr.as_ref(), 3, at)?;
/// assert_eq!(block.row(0).unwrap().to_vec(), vec![1.0, 0.0, 5.0]);
/// assert_eq!(block.row(1), Some(Row::Dense(&[0.0, 2.0, 0.0])));
/// assert!(VectorBlock::new(arr.as_ref(), 4, at).is_err()); // wrong size: a clear error
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct VectorBlock<'a> {
    layout: Layout<'a>,
    nulls: Option<&'a NullBuffer>,
    len: usize,
    size: usize,
}

mod deferred;
pub use deferred::DeferredVectorBlock;

const SPARSE_HINT: &str = "sparse vectors need strictly increasing indices below the vector size and one value per index (Spark's Vectors.sparse)";

impl<'a> VectorBlock<'a> {
    /// Reads `arr` (a dense or sparse vector column chunk) whose vectors must have `size`
    /// values.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] naming the stage, column, partition and row for a vector of
    /// another size, unsorted, repeated or out-of-range sparse indices, or null elements;
    /// [`Error::ColumnType`] when `arr` is no vector column.
    pub fn new(arr: &'a dyn Array, size: usize, at: At<'_>) -> Result<Self> {
        Self::open(arr, size, at, false).map(|(block, _)| block)
    }

    /// [`new`](Self::new), and whether its rows were checked: always when `defer` is
    /// `false`. With `defer`, a `VectorUDT` chunk without nulls (but for the sizes and
    /// index lists, which Spark writes null for dense rows) and with mixed rows is returned
    /// with its rows' layout (type, size, value and index counts, indices) NOT checked:
    /// only [`DeferredVectorBlock`] asks for that, and it checks each row as it reads it.
    fn open(arr: &'a dyn Array, size: usize, at: At<'_>, defer: bool) -> Result<(Self, bool)> {
        let nulls = arr.nulls();
        if let Some(l) = arr.as_fixed_size_list_opt() {
            let n = l.value_length() as usize;
            if n != size {
                return Err(Error::FeatureCount {
                    stage: at.stage,
                    column: at.column.to_string(),
                    expected: size,
                    found: n,
                });
            }
            let child = l.values();
            let c = child
                .as_primitive_opt::<Float64Type>()
                .ok_or_else(|| column_type(at, arr.data_type()))?;
            if c.null_count() > 0 {
                return Err(at.err(
                    first_null_row(c, n),
                    "a null element inside a vector".into(),
                    "mlpipe vectors hold f64 values; use NaN, not null, for a missing element",
                ));
            }
            // The child of a sliced FixedSizeList is sliced with it.
            let vals = &c.values()[..l.len() * n];
            let block = Self {
                layout: Layout::Dense(vals),
                nulls,
                len: arr.len(),
                size,
            };
            return Ok((block, true));
        }
        if !is_sparse_vector_type(arr.data_type()) {
            return Err(column_type(at, arr.data_type()));
        }
        let s = arr.as_struct();
        let kinds = s.column(0).as_primitive::<Int8Type>();
        let sizes = s.column(1).as_primitive::<Int32Type>();
        let il = s.column(2).as_list::<i32>();
        let vl = s.column(3).as_list::<i32>();
        let idx_child = il.values().as_primitive::<Int32Type>();
        let val_child = vl.values().as_primitive::<Float64Type>();
        if let Some(vals) = all_dense_rows(s, size) {
            // Every row dense with `size` values, back to back: the one row-major slice
            // a dense column gives, so every reader takes its dense path.
            let block = Self {
                layout: Layout::Dense(vals),
                nulls,
                len: arr.len(),
                size,
            };
            return Ok((block, true));
        }
        let block = Self {
            layout: Layout::Udt {
                kinds: kinds.values(),
                idx_off: il.value_offsets(),
                idx: idx_child.values(),
                val_off: vl.value_offsets(),
                vals: val_child.values(),
            },
            nulls,
            len: arr.len(),
            size,
        };
        // Without nulls anywhere, one branch-light pass settles the common case that
        // every row is valid; the row loop below, which names the first bad row, runs
        // only when it does not.
        // (A dense row's size and indices may be null, as Spark writes them.)
        let no_nulls = nulls.is_none()
            && [kinds.null_count(), vl.null_count()]
                .iter()
                .chain(&[idx_child.null_count(), val_child.null_count()])
                .all(|c| *c == 0);
        if no_nulls && defer && i32::try_from(size).is_ok() {
            return Ok((block, false));
        }
        if no_nulls
            && all_rows_valid(
                kinds.values(),
                (sizes.values(), sizes.nulls()),
                (il.value_offsets(), il.nulls()),
                idx_child.values(),
                vl.value_offsets(),
                size,
            )
        {
            return Ok((block, true));
        }
        for r in 0..arr.len() {
            if block.is_null(r) {
                continue;
            }
            if kinds.is_null(r) || vl.is_null(r) {
                return Err(at.err(r, "a vector without its type or values".into(), SPARSE_HINT));
            }
            let (va, vb) = (
                vl.value_offsets()[r] as usize,
                vl.value_offsets()[r + 1] as usize,
            );
            if val_child.null_count() > 0 && (va..vb).any(|k| val_child.is_null(k)) {
                return Err(at.err(
                    r,
                    "a null element inside a vector".into(),
                    "mlpipe vectors hold f64 values; use NaN, not null, for a missing element",
                ));
            }
            match kinds.value(r) {
                1 => {
                    if vb - va != size {
                        return Err(at.err(
                            r,
                            format!("a dense vector of size {} where the column's vectors have size {size}", vb - va),
                            "every vector of a column must have the same size",
                        ));
                    }
                }
                0 => {
                    if sizes.is_null(r) || il.is_null(r) {
                        return Err(at.err(
                            r,
                            "a sparse vector without its size or indices".into(),
                            SPARSE_HINT,
                        ));
                    }
                    let n = sizes.value(r);
                    if n < 0 || n as usize != size {
                        return Err(at.err(
                            r,
                            format!("a sparse vector of size {n} where the column's vectors have size {size}"),
                            "every vector of a column must have the same size",
                        ));
                    }
                    let (ia, ib) = (
                        il.value_offsets()[r] as usize,
                        il.value_offsets()[r + 1] as usize,
                    );
                    if idx_child.null_count() > 0 && (ia..ib).any(|k| idx_child.is_null(k)) {
                        return Err(at.err(r, "a null sparse index".into(), SPARSE_HINT));
                    }
                    check_sparse(&idx_child.values()[ia..ib], vb - va, size)
                        .map_err(|what| at.err(r, what, SPARSE_HINT))?;
                }
                k => {
                    return Err(at.err(
                        r,
                        format!("vector type {k} (0 is sparse, 1 is dense)"),
                        SPARSE_HINT,
                    ))
                }
            }
        }
        Ok((block, true))
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The vectors' size.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether row `r` is null.
    #[inline]
    pub fn is_null(&self, r: usize) -> bool {
        self.nulls.is_some_and(|n| n.is_null(r))
    }

    /// Row `r` (`None` when null). `r < len()`.
    #[inline]
    pub fn row(&self, r: usize) -> Option<Row<'a>> {
        if self.is_null(r) {
            return None;
        }
        Some(self.row_unchecked_null(r))
    }

    /// Row `r`, whatever its validity (a null dense row holds unspecified values, a null
    /// sparse row may be empty).
    #[inline]
    fn row_unchecked_null(&self, r: usize) -> Row<'a> {
        match self.layout {
            Layout::Dense(v) => Row::Dense(&v[r * self.size..(r + 1) * self.size]),
            Layout::Udt {
                kinds,
                idx_off,
                idx,
                val_off,
                vals,
            } => {
                let values = &vals[val_off[r] as usize..val_off[r + 1] as usize];
                if kinds[r] == 1 {
                    Row::Dense(values)
                } else {
                    Row::Sparse {
                        size: self.size,
                        indices: &idx[idx_off[r] as usize..idx_off[r + 1] as usize],
                        values,
                    }
                }
            }
        }
    }

    /// The row-major values when the chunk is a dense column (`len() · size()` values;
    /// null rows hold unspecified values).
    pub fn as_dense(&self) -> Option<&'a [f64]> {
        match self.layout {
            Layout::Dense(v) => Some(v),
            Layout::Udt { .. } => None,
        }
    }

    /// Each row's Spark `type` (0 sparse or null, 1 dense) when the chunk is a sparse
    /// (`VectorUDT`) column with rows of both layouts; `None` for a dense chunk. (A dense
    /// row's values lie where [`stored_values`](Self::stored_values) puts them, so a run of
    /// dense rows is one row-major slice.)
    pub(crate) fn kinds(&self) -> Option<&'a [i8]> {
        match self.layout {
            Layout::Udt { kinds, .. } => Some(kinds),
            Layout::Dense(_) => None,
        }
    }

    /// Whether the chunk is a sparse (`VectorUDT`) column.
    pub fn is_sparse_layout(&self) -> bool {
        matches!(self.layout, Layout::Udt { .. })
    }

    /// The values stored for rows `first..first + rows`, back to back in row order: each
    /// row's [`Row::Dense`] values or [`Row::Sparse`] stored values, where that row's
    /// values start right after the previous row's (null rows' stored values included).
    /// One slice to check or convert in a single vectorised pass before a row walk.
    /// `first + rows <= len()`.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::frame::vector::{At, SparseVectorBuilder, VectorBlock};
    /// let mut b = SparseVectorBuilder::new(3);
    /// b.push(&[0, 2], &[1.0, 5.0])?;
    /// b.push_dense(&[0.0, 2.0, 0.0])?;
    /// let arr = b.finish()?;
    /// let at = At { stage: "Example", column: "v", partition: 0 };
    /// let block = VectorBlock::new(arr.as_ref(), 3, at)?;
    /// assert_eq!(block.stored_values(0, 2), &[1.0, 5.0, 0.0, 2.0, 0.0]);
    /// assert_eq!(block.stored_values(1, 1), &[0.0, 2.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn stored_values(&self, first: usize, rows: usize) -> &'a [f64] {
        match self.layout {
            Layout::Dense(v) => &v[first * self.size..(first + rows) * self.size],
            Layout::Udt { val_off, vals, .. } => {
                &vals[val_off[first] as usize..val_off[first + rows] as usize]
            }
        }
    }

    /// The row-major values of rows `first..first + rows` (`rows · size()` values, read in
    /// place) when every one of them is stored dense: always for a dense column, and for a
    /// sparse-typed (`VectorUDT`) chunk with rows of both layouts when those rows' `type`
    /// is 1 (a run of dense rows is one row-major slice). `None` when one of them is
    /// sparse. Null rows hold unspecified values, as in [`as_dense`](Self::as_dense).
    /// `first + rows <= len()`.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::frame::vector::{At, SparseVectorBuilder, VectorBlock};
    /// let mut b = SparseVectorBuilder::new(2);
    /// b.push_dense(&[1.0, 2.0])?;
    /// b.push_dense(&[3.0, 4.0])?;
    /// b.push(&[1], &[5.0])?;
    /// let arr = b.finish()?;
    /// let at = At { stage: "Example", column: "v", partition: 0 };
    /// let block = VectorBlock::new(arr.as_ref(), 2, at)?;
    /// assert_eq!(block.dense_rows(0, 2), Some(&[1.0, 2.0, 3.0, 4.0][..]));
    /// assert_eq!(block.dense_rows(1, 2), None); // row 2 is sparse
    /// # Ok(()) }
    /// ```
    pub fn dense_rows(&self, first: usize, rows: usize) -> Option<&'a [f64]> {
        match self.layout {
            Layout::Dense(v) => Some(&v[first * self.size..(first + rows) * self.size]),
            Layout::Udt { kinds, .. } => {
                // A branch-free fold (it vectorises); a null row's stored values may be
                // of any length, hence the length check.
                let dense = kinds[first..first + rows]
                    .iter()
                    .fold(true, |a, k| a & (*k == 1));
                let v = self.stored_values(first, rows);
                (dense && v.len() == rows * self.size).then_some(v)
            }
        }
    }

    /// All rows' values, row-major (`len() · size()` values): borrowed for a dense column,
    /// densified for a sparse one. Null rows hold zeros (sparse) or unspecified values.
    pub fn to_dense(&self) -> Cow<'a, [f64]> {
        match self.layout {
            Layout::Dense(v) => Cow::Borrowed(v),
            Layout::Udt { .. } => {
                let n = self.size;
                let mut out = vec![0.0; self.len * n];
                for r in 0..self.len {
                    if !self.is_null(r) {
                        self.row_unchecked_null(r)
                            .write_dense(&mut out[r * n..(r + 1) * n]);
                    }
                }
                Cow::Owned(out)
            }
        }
    }

    /// Rows `first..first + rows` written densely into `out` (`rows · size()` values;
    /// null rows as zeros).
    pub fn write_dense_rows(&self, first: usize, out: &mut [f64]) {
        let n = self.size;
        if n == 0 {
            return;
        }
        let rows = out.len() / n;
        match self.layout {
            Layout::Dense(v) => {
                out.copy_from_slice(&v[first * n..(first + rows) * n]);
                if self.nulls.is_some() {
                    for (k, o) in out.chunks_exact_mut(n).enumerate() {
                        if self.is_null(first + k) {
                            o.fill(0.0);
                        }
                    }
                }
            }
            Layout::Udt {
                kinds,
                idx_off,
                idx,
                val_off,
                vals,
            } => {
                // Each run of non-null dense rows (their values back to back, `size` each,
                // as construction checked) in one copy; a sparse row scattered into zeros.
                let dense = |r: usize| kinds[r] == 1 && !self.is_null(r);
                let mut k = 0;
                while k < rows {
                    let r = first + k;
                    let mut e = k;
                    while e < rows && dense(first + e) {
                        e += 1;
                    }
                    if e > k {
                        let (a, b) = (val_off[r] as usize, val_off[first + e] as usize);
                        out[k * n..e * n].copy_from_slice(&vals[a..b]);
                        k = e;
                        continue;
                    }
                    let o = &mut out[k * n..(k + 1) * n];
                    o.fill(0.0);
                    if !self.is_null(r) {
                        let (a, b) = (val_off[r] as usize, val_off[r + 1] as usize);
                        let ia = idx_off[r] as usize;
                        for (&i, &v) in idx[ia..ia + (b - a)].iter().zip(&vals[a..b]) {
                            o[i as usize] = v;
                        }
                    }
                    k += 1;
                }
            }
        }
    }

    /// The number of values stored over all non-null rows (what a pass over the rows
    /// reads).
    pub fn num_active(&self) -> usize {
        (0..self.len)
            .filter_map(|r| self.row(r))
            .map(|x| x.num_active())
            .sum()
    }
}

/// Whether every row of a `VectorUDT` chunk without null rows, types or values is valid
/// for vectors of `size` values (what [`VectorBlock::new`]'s row loop checks): a dense row
/// (`type` 1) holds `size` values; a sparse row (`type` 0) has a size (non-null) of `size`
/// and indices (non-null), one value per index, strictly increasing in `[0, size)`. One
/// pass without a branch per row on its type (a dense row's index list, null or empty as
/// Spark writes it, is checked like a sparse row's: a dense row with stray indices makes
/// this `false`, and the row loop then accepts it).
fn all_rows_valid(
    kinds: &[i8],
    (sizes, size_nulls): (&[i32], Option<&NullBuffer>),
    (idx_off, idx_nulls): (&[i32], Option<&NullBuffer>),
    idx: &[i32],
    val_off: &[i32],
    size: usize,
) -> bool {
    let Ok(s) = i32::try_from(size) else {
        return false;
    };
    let valid = |nulls: Option<&NullBuffer>, r: usize| nulls.is_none_or(|b| b.is_valid(r));
    let mut ok = true;
    for (r, (&k, &n)) in kinds.iter().zip(sizes).enumerate() {
        let vc = val_off[r + 1] - val_off[r];
        let (ia, ib) = (idx_off[r], idx_off[r + 1]);
        let sparse_ok =
            (k == 0) & valid(size_nulls, r) & valid(idx_nulls, r) & (n == s) & (ib - ia == vc);
        ok &= ((k == 1) & (vc == s)) | sparse_ok;
        let mut prev = -1;
        for &i in &idx[ia as usize..ib as usize] {
            ok &= (i > prev) & (i < s);
            prev = i;
        }
    }
    ok
}

#[cfg(test)]
mod block_read_tests {
    use super::*;

    fn at() -> At<'static> {
        At {
            stage: "T",
            column: "v",
            partition: 0,
        }
    }

    /// Mixed rows (runs of dense rows, sparse rows, nulls): `write_dense_rows` and
    /// `dense_rows` agree with the row view for every range, sliced chunks included.
    #[test]
    fn dense_reads_are_the_row_views() {
        let n = 4;
        // With null rows (checked at open) and without (the deferred block's rows then
        // checked as they are read).
        let make = |nulls: bool| {
            let mut b = SparseVectorBuilder::new(n);
            for r in 0..40 {
                let v: Vec<f64> = (0..n).map(|j| (r * n + j) as f64 - 7.5).collect();
                match r % 7 {
                    0 | 3 => b.push(&[1, 3], &[v[1], v[3]]).unwrap(),
                    5 if r > 10 && nulls => b.push_null(),
                    6 => b.push(&[], &[]).unwrap(),
                    _ => b.push_dense(&v).unwrap(),
                }
            }
            b.finish().unwrap()
        };
        let (arr, no_nulls) = (make(true), make(false));
        for chunk in [
            arr.clone(),
            arr.slice(5, 30),
            no_nulls.clone(),
            no_nulls.slice(3, 31),
        ] {
            let blk = VectorBlock::new(chunk.as_ref(), n, at()).unwrap();
            for first in 0..blk.len() {
                for rows in 0..=(blk.len() - first).min(9) {
                    let mut want = vec![f64::NAN; rows * n];
                    for (k, o) in want.chunks_exact_mut(n).enumerate() {
                        match blk.row(first + k) {
                            Some(x) => x.write_dense(o),
                            None => o.fill(0.0),
                        }
                    }
                    let mut got = vec![f64::NAN; rows * n];
                    blk.write_dense_rows(first, &mut got);
                    assert_eq!(got, want, "first {first} rows {rows}");
                    // The deferred block's walk: the same non-null rows, in order.
                    let d = DeferredVectorBlock::new(chunk.as_ref(), n, at()).unwrap();
                    let mut walked = Vec::new();
                    d.for_each_row(first, rows, at(), |k, x| walked.push((k, x.to_vec())))
                        .unwrap();
                    let want_walk: Vec<(usize, Vec<f64>)> = (0..rows)
                        .filter(|k| !blk.is_null(first + k))
                        .map(|k| (k, want[k * n..(k + 1) * n].to_vec()))
                        .collect();
                    assert_eq!(walked, want_walk, "first {first} rows {rows}");
                    let all_dense =
                        (first..first + rows).all(|r| matches!(blk.row(r), Some(Row::Dense(_))));
                    match blk.dense_rows(first, rows) {
                        Some(v) => {
                            assert!(all_dense, "first {first} rows {rows}");
                            assert_eq!(v, &want[..], "first {first} rows {rows}");
                        }
                        None => assert!(!all_dense, "first {first} rows {rows}"),
                    }
                }
            }
        }
    }

    /// `all_rows_valid` (the one-pass check) says yes exactly for the chunks the row loop
    /// accepts, Spark's layout of dense rows (null size and indices) included; the row loop
    /// still names the bad row.
    #[test]
    fn one_pass_check_is_the_row_loop() {
        type Spec = (i8, Option<i32>, Option<Vec<i32>>, Vec<f64>);
        let fields = sparse_vector_fields();
        let make = |rows: &[Spec]| -> ArrayRef {
            let DataType::List(ii) = fields[2].data_type() else {
                unreachable!()
            };
            let DataType::List(vi) = fields[3].data_type() else {
                unreachable!()
            };
            let idx_len = |r: &Spec| r.2.as_ref().map_or(0, Vec::len);
            let idx: Vec<i32> = rows
                .iter()
                .flat_map(|r| r.2.clone().unwrap_or_default())
                .collect();
            let vals: Vec<f64> = rows.iter().flat_map(|r| r.3.clone()).collect();
            let idx_valid: Vec<bool> = rows.iter().map(|r| r.2.is_some()).collect();
            Arc::new(
                StructArray::try_new(
                    fields.clone(),
                    vec![
                        Arc::new(Int8Array::from(
                            rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                        )) as ArrayRef,
                        Arc::new(Int32Array::from(
                            rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                        )),
                        Arc::new(ListArray::new(
                            ii.clone(),
                            OffsetBuffer::from_lengths(rows.iter().map(idx_len)),
                            Arc::new(Int32Array::from(idx)),
                            Some(NullBuffer::from(idx_valid)),
                        )),
                        Arc::new(ListArray::new(
                            vi.clone(),
                            OffsetBuffer::from_lengths(rows.iter().map(|r| r.3.len())),
                            Arc::new(Float64Array::from(vals)),
                            None,
                        )),
                    ],
                    None,
                )
                .unwrap(),
            )
        };
        let dense = |v: &[f64]| -> Spec { (1, None, None, v.to_vec()) };
        let sparse = |size: i32, i: &[i32], v: &[f64]| -> Spec {
            (0, Some(size), Some(i.to_vec()), v.to_vec())
        };
        let good = vec![
            dense(&[1.0, 2.0, 3.0]),
            sparse(3, &[0, 2], &[4.0, 5.0]),
            sparse(3, &[], &[]),
            dense(&[0.0, 0.0, 1.0]),
        ];
        let cases: Vec<(Vec<Spec>, Option<&str>)> = vec![
            (good.clone(), None),
            (vec![dense(&[1.0, 2.0])], Some("a dense vector of size 2")),
            (
                vec![sparse(4, &[0], &[1.0])],
                Some("a sparse vector of size 4"),
            ),
            (
                vec![sparse(3, &[2, 1], &[1.0, 1.0])],
                Some("not strictly increasing (2 then 1)"),
            ),
            (
                vec![sparse(3, &[1, 1], &[1.0, 1.0])],
                Some("not strictly increasing (1 then 1)"),
            ),
            (
                vec![sparse(3, &[3], &[1.0])],
                Some("sparse index 3 out of range"),
            ),
            (
                vec![sparse(3, &[-1], &[1.0])],
                Some("sparse index -1 out of range"),
            ),
            // The walk's fold over the indices: a step to the most negative index
            // (whose difference wraps) and a lone most negative index.
            (
                vec![sparse(3, &[1, i32::MIN], &[1.0, 1.0])],
                Some("sparse index -2147483648 out of range"),
            ),
            (
                vec![sparse(3, &[i32::MIN], &[1.0])],
                Some("sparse index -2147483648 out of range"),
            ),
            (
                vec![sparse(3, &[0, 1], &[1.0])],
                Some("2 indices but 1 values"),
            ),
            (
                vec![(2, Some(3), None, vec![1.0, 2.0, 3.0])],
                Some("vector type 2"),
            ),
            (
                vec![(0, None, Some(vec![0]), vec![1.0])],
                Some("without its size or indices"),
            ),
            (
                vec![(0, Some(3), None, vec![])],
                Some("without its size or indices"),
            ),
        ];
        for (rows, err) in cases {
            // Behind valid rows, so the bad one is row 4.
            let rows: Vec<Spec> = if err.is_some() {
                good.iter().cloned().chain(rows).collect()
            } else {
                rows
            };
            let arr = make(&rows);
            let s = arr.as_struct();
            let kinds = s.column(0).as_primitive::<Int8Type>();
            let sizes = s.column(1).as_primitive::<Int32Type>();
            let il = s.column(2).as_list::<i32>();
            let vl = s.column(3).as_list::<i32>();
            let fast = all_rows_valid(
                kinds.values(),
                (sizes.values(), sizes.nulls()),
                (il.value_offsets(), il.nulls()),
                il.values().as_primitive::<Int32Type>().values(),
                vl.value_offsets(),
                3,
            );
            let got = VectorBlock::new(arr.as_ref(), 3, at());
            // The deferred open, then a walk over every row: the rows the checked block
            // gives, or the same error (at open, or when the bad row is reached).
            let walked = DeferredVectorBlock::new(arr.as_ref(), 3, at()).and_then(|d| {
                let mut rows = Vec::new();
                d.for_each_row(0, d.len(), at(), |k, r| rows.push((k, r.to_vec())))?;
                Ok(rows)
            });
            match err {
                None => {
                    assert!(fast);
                    let blk = got.unwrap();
                    assert_eq!(blk.row(1).unwrap().to_vec(), vec![4.0, 0.0, 5.0]);
                    let want: Vec<(usize, Vec<f64>)> = (0..blk.len())
                        .map(|r| (r, blk.row(r).unwrap().to_vec()))
                        .collect();
                    assert_eq!(walked.unwrap(), want);
                }
                Some(msg) => {
                    assert!(!fast, "{msg}");
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(msg) && e.contains("row 4"), "{e}");
                    assert_eq!(walked.unwrap_err().to_string(), e, "{msg}");
                }
            }
        }
    }
}

/// The values of a `VectorUDT` chunk whose rows are all dense (`type = 1`, nulls
/// included) with `size` values each, laid out back to back without nulls inside:
/// `len · size` row-major values. `None` otherwise.
fn all_dense_rows(s: &StructArray, size: usize) -> Option<&[f64]> {
    let kinds = s.column(0).as_primitive::<Int8Type>();
    let vl = s.column(3).as_list::<i32>();
    let vals = vl.values().as_primitive::<Float64Type>();
    if kinds.null_count() > 0 || vl.null_count() > 0 || vals.null_count() > 0 {
        return None;
    }
    // Branch-free folds over blocks (they vectorise; an early exit per value does not),
    // stopping at the first block that fails.
    let ones = kinds
        .values()
        .chunks(4096)
        .all(|b| b.iter().fold(true, |a, k| a & (*k == 1)));
    if !ones {
        return None;
    }
    // Offsets `first + r·size`: each block's first where it belongs, every step between
    // neighbours `size`.
    let off = vl.value_offsets();
    let first = off[0] as usize;
    let step = i32::try_from(size).ok()?;
    let regular = off.chunks(4096).enumerate().all(|(i, b)| {
        let at = b[0] as usize == first + i * 4096 * size;
        b.windows(2)
            .fold(at, |a, w| a & (w[1].wrapping_sub(w[0]) == step))
    });
    regular.then(|| &vals.values()[first..first + s.len() * size])
}

/// A `VectorUDT` column chunk whose rows are all dense (`type = 1`), holding `values`
/// (`rows · size`, row-major) as its values child without a copy: the sparse-capable
/// column type for data that is dense throughout. Null rows (per `nulls`) keep their
/// `size` values.
///
/// # Errors
/// [`Error::Internal`] when `values` is not a whole number of rows.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::frame::vector::{dense_rows_array, At, Row, VectorBlock};
/// let arr = dense_rows_array(vec![1.0, 2.0, 3.0, 4.0], 2, None)?;
/// let at = At { stage: "Example", column: "v", partition: 0 };
/// let block = VectorBlock::new(arr.as_ref(), 2, at)?;
/// assert_eq!(block.row(1), Some(Row::Dense(&[3.0, 4.0])));
/// assert_eq!(block.as_dense(), Some(&[1.0, 2.0, 3.0, 4.0][..]));
/// # Ok(()) }
/// ```
pub fn dense_rows_array(
    values: Vec<f64>,
    size: usize,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    dense_rows_array_buf(values.into(), size, nulls)
}

/// [`dense_rows_array`] over values already in an Arrow buffer (a stage's output built by
/// `buffer::par_build_buffer`), without a copy.
pub(crate) fn dense_rows_array_buf(
    values: ScalarBuffer<f64>,
    size: usize,
    nulls: Option<NullBuffer>,
) -> Result<ArrayRef> {
    let rows = values
        .len()
        .checked_div(size)
        .unwrap_or_else(|| nulls.as_ref().map_or(0, |n| n.len()));
    if values.len() != rows * size {
        return Err(Error::Internal(format!(
            "{} values are not whole rows of {size}",
            values.len()
        )));
    }
    let fields = sparse_vector_fields();
    let (DataType::List(idx_item), DataType::List(val_item)) =
        (fields[2].data_type(), fields[3].data_type())
    else {
        return Err(Error::Internal("VectorUDT list fields".into()));
    };
    if values.len() > i32::MAX as usize {
        return Err(Error::Internal(format!(
            "{} values in one vector column chunk: more than 2^31",
            values.len()
        )));
    }
    // SAFETY: `filled` wrote every value.
    let kinds = unsafe { Output::filled(rows, 1i8).finish() };
    let kinds: ArrayRef = Arc::new(Int8Array::new(kinds, None));
    let sizes: ArrayRef = Arc::new(Int32Array::new_null(rows));
    let indices: ArrayRef = Arc::new(ListArray::try_new(
        idx_item.clone(),
        OffsetBuffer::new_zeroed(rows),
        Arc::new(Int32Array::from(Vec::<i32>::new())),
        Some(NullBuffer::new_null(rows)),
    )?);
    let offsets = OffsetBuffer::new(buffer::regular_offsets(rows, size));
    let vals: ArrayRef = Arc::new(ListArray::try_new(
        val_item.clone(),
        offsets,
        Arc::new(Float64Array::new(values, None)),
        None,
    )?);
    Ok(Arc::new(StructArray::try_new(
        fields,
        vec![kinds, sizes, indices, vals],
        nulls,
    )?))
}

fn column_type(at: At<'_>, found: &DataType) -> Error {
    Error::ColumnType {
        stage: at.stage,
        column: at.column.to_string(),
        expected:
            "a vector column (dense FixedSizeList<Float64> or Spark's sparse VectorUDT struct)"
                .into(),
        found: found.clone(),
    }
}

fn first_null_row(c: &Float64Array, n: usize) -> usize {
    (0..c.len())
        .find(|k| c.is_null(*k))
        .map_or(0, |k| k / n.max(1))
}

/// Checks sparse indices: strictly increasing, in `0..size`, one per value.
fn check_sparse(
    indices: &[i32],
    num_values: usize,
    size: usize,
) -> std::result::Result<(), String> {
    if indices.len() != num_values {
        return Err(format!(
            "a sparse vector with {} indices but {num_values} values",
            indices.len()
        ));
    }
    let mut prev = -1i64;
    for &i in indices {
        let i = i as i64;
        if i < 0 || i as u64 >= size as u64 {
            return Err(format!(
                "sparse index {i} out of range for a vector of size {size}"
            ));
        }
        if i <= prev {
            return Err(format!(
                "sparse indices not strictly increasing ({prev} then {i})"
            ));
        }
        prev = i;
    }
    Ok(())
}

/// Builds a sparse vector column (Spark's `VectorUDT` struct) row by row; each pushed
/// vector is checked (strictly increasing indices below the size, one value per index).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::frame::vector::SparseVectorBuilder;
/// let mut b = SparseVectorBuilder::new(4).context("Example", "v", 0);
/// b.push(&[1, 3], &[1.0, 2.0])?;
/// b.push_null();
/// let e = b.push(&[3, 1], &[1.0, 2.0]).unwrap_err().to_string();
/// assert!(e.contains("not strictly increasing") && e.contains("row 2"), "{e}");
/// let arr = b.finish()?;
/// assert_eq!(arr.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct SparseVectorBuilder {
    size: usize,
    stage: &'static str,
    column: String,
    partition: usize,
    kinds: Vec<i8>,
    sizes: Vec<Option<i32>>,
    idx_off: Vec<i32>,
    idx: Vec<i32>,
    val_off: Vec<i32>,
    vals: Vec<f64>,
    valid: Vec<bool>,
}

impl SparseVectorBuilder {
    /// A builder of vectors of length `size`.
    pub fn new(size: usize) -> Self {
        Self::with_capacity(size, 0, 0)
    }

    /// A builder with room for `rows` vectors holding `nnz` stored values in all.
    pub fn with_capacity(size: usize, rows: usize, nnz: usize) -> Self {
        let mut idx_off = Vec::with_capacity(rows + 1);
        idx_off.push(0);
        Self {
            size,
            stage: "SparseVectorBuilder",
            column: String::new(),
            partition: 0,
            kinds: Vec::with_capacity(rows),
            sizes: Vec::with_capacity(rows),
            val_off: idx_off.clone(),
            idx_off,
            idx: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
            valid: Vec::with_capacity(rows),
        }
    }

    /// Names the stage, column and partition in the errors of [`push`](Self::push).
    pub fn context(mut self, stage: &'static str, column: &str, partition: usize) -> Self {
        self.stage = stage;
        self.column = column.to_string();
        self.partition = partition;
        self
    }

    /// Rows pushed so far.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// Whether no row was pushed.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    fn err(&self, what: String) -> Error {
        Error::InvalidValue {
            stage: self.stage,
            column: self.column.clone(),
            partition: self.partition,
            row: self.len(),
            what,
            hint: SPARSE_HINT.into(),
        }
    }

    fn close_row(&mut self, kind: i8, valid: bool) -> Result<()> {
        if self.vals.len() > i32::MAX as usize {
            return Err(self.err("more than 2^31 stored values in one column chunk".into()));
        }
        self.kinds.push(kind);
        self.sizes.push((kind == 0).then_some(self.size as i32));
        self.idx_off.push(self.idx.len() as i32);
        self.val_off.push(self.vals.len() as i32);
        self.valid.push(valid);
        Ok(())
    }

    /// Appends a sparse vector.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] (naming the row) for unsorted, repeated or out-of-range
    /// indices, or a different number of indices and values; nothing is appended then.
    pub fn push(&mut self, indices: &[i32], values: &[f64]) -> Result<()> {
        check_sparse(indices, values.len(), self.size).map_err(|w| self.err(w))?;
        self.idx.extend_from_slice(indices);
        self.vals.extend_from_slice(values);
        self.close_row(0, true)
    }

    /// Appends a dense row (`type = 1`) of `size` values.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] when `values` does not have `size` values.
    pub fn push_dense(&mut self, values: &[f64]) -> Result<()> {
        if values.len() != self.size {
            return Err(self.err(format!(
                "a dense vector of size {} where the column's vectors have size {}",
                values.len(),
                self.size
            )));
        }
        self.vals.extend_from_slice(values);
        self.close_row(1, true)
    }

    /// Appends a dense row (`type = 1`) whose `size` values `fill` writes straight into the
    /// column's value buffer (zeroed before `fill` sees them).
    pub fn push_dense_with(&mut self, fill: impl FnOnce(&mut [f64])) -> Result<()> {
        let start = self.vals.len();
        self.vals.resize(start + self.size, 0.0);
        fill(&mut self.vals[start..]);
        self.close_row(1, true)
    }

    /// Appends a sparse row whose entries `fill(indices, values)` appends straight into the
    /// column's buffers; they are then checked as [`push`](Self::push) checks them.
    ///
    /// # Errors
    /// As [`push`](Self::push); nothing is appended then.
    pub fn push_sparse_with(
        &mut self,
        fill: impl FnOnce(&mut Vec<i32>, &mut Vec<f64>),
    ) -> Result<()> {
        let (i0, v0) = (self.idx.len(), self.vals.len());
        fill(&mut self.idx, &mut self.vals);
        if let Err(w) = check_sparse(&self.idx[i0..], self.vals.len() - v0, self.size) {
            self.idx.truncate(i0);
            self.vals.truncate(v0);
            return Err(self.err(w));
        }
        self.close_row(0, true)
    }

    /// Appends `row` in its own layout.
    ///
    /// # Errors
    /// As [`push`](Self::push) and [`push_dense`](Self::push_dense).
    pub fn push_row(&mut self, row: Row<'_>) -> Result<()> {
        match row {
            Row::Dense(v) => self.push_dense(v),
            Row::Sparse {
                size,
                indices,
                values,
            } => {
                if size != self.size {
                    return Err(self.err(format!(
                        "a sparse vector of size {size} where the column's vectors have size {}",
                        self.size
                    )));
                }
                self.push(indices, values)
            }
        }
    }

    /// Appends `row` as Spark's `Vector.compressed` stores it: sparse (non-zeros only) or
    /// dense, whichever [`prefers_sparse`] picks.
    ///
    /// # Errors
    /// As [`push_row`](Self::push_row).
    pub fn push_compressed(&mut self, row: Row<'_>) -> Result<()> {
        if row.len() != self.size {
            return Err(self.err(format!(
                "a vector of size {} where the column's vectors have size {}",
                row.len(),
                self.size
            )));
        }
        let nnz = row.num_nonzeros();
        if prefers_sparse(nnz, self.size) {
            row.for_each_active(|i, v| {
                if v != 0.0 {
                    self.idx.push(i as i32);
                    self.vals.push(v);
                }
            });
            self.close_row(0, true)
        } else {
            let start = self.vals.len();
            self.vals.resize(start + self.size, 0.0);
            row.write_dense(&mut self.vals[start..]);
            self.close_row(1, true)
        }
    }

    /// Appends a null row.
    pub fn push_null(&mut self) {
        // An empty sparse vector under a null: cannot fail.
        self.kinds.push(0);
        self.sizes.push(Some(self.size as i32));
        self.idx_off.push(self.idx.len() as i32);
        self.val_off.push(self.vals.len() as i32);
        self.valid.push(false);
    }

    /// The column chunk.
    ///
    /// # Errors
    /// [`Error::Arrow`] only if Arrow refuses the arrays (a bug).
    pub fn finish(self) -> Result<ArrayRef> {
        let fields = sparse_vector_fields();
        let list = |f: &Field, off: Vec<i32>, child: ArrayRef| -> Result<ArrayRef> {
            let DataType::List(item) = f.data_type() else {
                return Err(Error::Internal("VectorUDT list field".into()));
            };
            Ok(Arc::new(ListArray::try_new(
                item.clone(),
                OffsetBuffer::new(off.into()),
                child,
                None,
            )?))
        };
        let nulls = if self.valid.iter().all(|v| *v) {
            None
        } else {
            Some(NullBuffer::from(self.valid))
        };
        let kinds: ArrayRef = Arc::new(Int8Array::from(self.kinds));
        let sizes: ArrayRef = Arc::new(Int32Array::from(self.sizes));
        // Dense rows have no indices in Spark's layout: a null `indices` entry.
        let idx_valid: Vec<bool> = kinds
            .as_primitive::<Int8Type>()
            .values()
            .iter()
            .map(|k| *k == 0)
            .collect();
        let idx_nulls = (!idx_valid.iter().all(|v| *v)).then(|| NullBuffer::from(idx_valid));
        let DataType::List(idx_item) = fields[2].data_type() else {
            return Err(Error::Internal("VectorUDT indices field".into()));
        };
        let indices: ArrayRef = Arc::new(ListArray::try_new(
            idx_item.clone(),
            OffsetBuffer::new(self.idx_off.into()),
            Arc::new(Int32Array::from(self.idx)),
            idx_nulls,
        )?);
        let values = list(
            &fields[3],
            self.val_off,
            Arc::new(Float64Array::from(self.vals)),
        )?;
        Ok(Arc::new(StructArray::try_new(
            fields,
            vec![kinds, sizes, indices, values],
            nulls,
        )?))
    }
}

/// One output row of [`par_vector_chunk`], as its row function writes it: dense values, or
/// sparse entries, or null.
#[derive(Debug)]
pub(crate) struct RowSink {
    size: usize,
    kind: SinkKind,
    dense: Vec<f64>,
    idx: Vec<i32>,
    vals: Vec<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SinkKind {
    Null,
    Dense,
    Sparse,
}

impl RowSink {
    fn new(size: usize) -> Self {
        Self {
            size,
            kind: SinkKind::Null,
            dense: Vec::new(),
            idx: Vec::new(),
            vals: Vec::new(),
        }
    }

    /// The row as dense values: `size` zeros to overwrite.
    #[inline]
    pub(crate) fn dense(&mut self) -> &mut [f64] {
        self.kind = SinkKind::Dense;
        if self.dense.len() == self.size {
            self.dense.fill(0.0);
        } else {
            self.dense = vec![0.0; self.size];
        }
        &mut self.dense
    }

    /// The row as sparse entries: empty index and value lists to append to (indices
    /// strictly increasing and below the size, as [`SparseVectorBuilder::push`] checks;
    /// stored zeros allowed).
    #[inline]
    pub(crate) fn sparse(&mut self) -> (&mut Vec<i32>, &mut Vec<f64>) {
        self.kind = SinkKind::Sparse;
        self.idx.clear();
        self.vals.clear();
        (&mut self.idx, &mut self.vals)
    }

    /// The row is null.
    #[inline]
    pub(crate) fn null(&mut self) {
        self.kind = SinkKind::Null;
    }

    /// How the row is stored: its `type` (0 sparse, 1 dense) and how many indices and
    /// values it stores. With `compress`, as Spark's `Vector.compressed` stores it;
    /// otherwise in the layout it was written in.
    #[inline]
    fn stored(&self, compress: bool) -> (i8, usize, usize) {
        let nnz = |v: &[f64]| v.iter().filter(|v| **v != 0.0).count();
        match self.kind {
            SinkKind::Null => (0, 0, 0),
            SinkKind::Dense if !compress => (1, 0, self.size),
            SinkKind::Sparse if !compress => (0, self.idx.len(), self.idx.len()),
            SinkKind::Dense | SinkKind::Sparse => {
                let nnz = nnz(if self.kind == SinkKind::Dense {
                    &self.dense
                } else {
                    &self.vals
                });
                if prefers_sparse(nnz, self.size) {
                    (0, nnz, nnz)
                } else {
                    (1, 0, self.size)
                }
            }
        }
    }

    /// Writes the row's stored indices and values, as [`stored`](Self::stored) counted
    /// them (`idx` and `vals` have exactly those lengths).
    #[inline]
    fn write(&self, kind: i8, idx: &mut [MaybeUninit<i32>], vals: &mut [MaybeUninit<f64>]) {
        match (self.kind, kind) {
            (SinkKind::Null, _) => {}
            (SinkKind::Dense, 1) => {
                for (o, v) in vals.iter_mut().zip(&self.dense) {
                    o.write(*v);
                }
            }
            (SinkKind::Sparse, 1) => {
                for o in vals.iter_mut() {
                    o.write(0.0);
                }
                for (i, v) in self.idx.iter().zip(&self.vals) {
                    vals[*i as usize].write(*v);
                }
            }
            (SinkKind::Sparse, _) if idx.len() == self.idx.len() => {
                // Every entry kept (not compressed, or no stored zero).
                for (o, i) in idx.iter_mut().zip(&self.idx) {
                    o.write(*i);
                }
                for (o, v) in vals.iter_mut().zip(&self.vals) {
                    o.write(*v);
                }
            }
            (SinkKind::Sparse, _) => {
                let kept = self.idx.iter().zip(&self.vals).filter(|(_, v)| **v != 0.0);
                for ((oi, ov), (i, v)) in idx.iter_mut().zip(vals.iter_mut()).zip(kept) {
                    oi.write(*i);
                    ov.write(*v);
                }
            }
            (SinkKind::Dense, _) => {
                let kept = self.dense.iter().enumerate().filter(|(_, v)| **v != 0.0);
                for ((oi, ov), (i, v)) in idx.iter_mut().zip(vals.iter_mut()).zip(kept) {
                    oi.write(i as i32);
                    ov.write(*v);
                }
            }
        }
    }
}

/// Rows per task of [`par_vector_chunk`].
const CHUNK_ROWS: usize = 2048;

/// A sparse-type (`VectorUDT`) vector column chunk of `rows` rows of `size` values, built
/// in parallel: `row(state, r, sink)` writes row `r` into `sink` (dense, sparse or null;
/// `state` is a per-task scratch made by `init`). With `compress` each row is stored as
/// Spark's `Vector.compressed` stores it, otherwise in the layout the row function wrote.
///
/// Two passes over fixed blocks of rows: the first runs the row function to learn each
/// row's layout and length, a prefix sum over the blocks places every block's entries,
/// and the second runs it again, writing straight into the column's buffers, each
/// allocated once at its exact size and never zeroed. The row function must give the same
/// row both times (a pure function of `r`). Errors name the first failing row in row
/// order, whatever the thread count.
///
/// # Errors
/// The row function's first error; [`Error::InvalidValue`] (naming the row) for sparse
/// entries whose indices are not strictly increasing below `size`, or more than 2^31
/// stored values in the chunk.
pub(crate) fn par_vector_chunk<S, I, F>(
    rows: usize,
    size: usize,
    compress: bool,
    at: At<'_>,
    init: I,
    row: F,
) -> Result<ArrayRef>
where
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut RowSink) -> Result<()> + Sync,
{
    build_chunk(rows, size, compress, None, at, init, row)
}

/// [`par_vector_chunk`] for maps that keep each row's layout and number of stored entries
/// (a null row null, a dense row dense, a sparse row sparse with as many entries as
/// `input`'s row): each row's place is read from `input`, so the row function runs once
/// per row, in one parallel pass that writes the column's buffers. The row function must
/// write each row in that shape (checked: an [`Error::Internal`] otherwise); it is not
/// called for null rows.
///
/// # Errors
/// As [`par_vector_chunk`].
pub(crate) fn par_vector_chunk_like<S, I, F>(
    input: &VectorBlock<'_>,
    at: At<'_>,
    init: I,
    row: F,
) -> Result<ArrayRef>
where
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut RowSink) -> Result<()> + Sync,
{
    build_chunk(input.len(), input.size(), false, Some(input), at, init, row)
}

fn build_chunk<S, I, F>(
    rows: usize,
    size: usize,
    compress: bool,
    like: Option<&VectorBlock<'_>>,
    at: At<'_>,
    init: I,
    row: F,
) -> Result<ArrayRef>
where
    I: Fn() -> S + Sync,
    F: Fn(&mut S, usize, &mut RowSink) -> Result<()> + Sync,
{
    let mut plan = ChunkPlan::new(rows);
    let too_many = |r: usize| {
        at.err(
            r,
            "more than 2^31 stored values in one column chunk".into(),
            "split the data into more partitions",
        )
    };
    let totals = plan.count(|b, kinds, valid, ni, nv| {
        let (mut ti, mut tv) = (0usize, 0usize);
        if let Some(input) = like {
            // Each row's place from the input's row: no row function run.
            for j in 0..kinds.len() {
                let (kind, li, lv, ok) = match input.row(b * CHUNK_ROWS + j) {
                    None => (0, 0, 0, false),
                    Some(Row::Dense(_)) => (1, 0, size, true),
                    Some(Row::Sparse { indices, .. }) => (0, indices.len(), indices.len(), true),
                };
                kinds[j] = kind;
                valid[j] = ok;
                ni[j] = li as i32;
                nv[j] = lv as i32;
                ti += li;
                tv += lv;
            }
            return Ok((ti, tv));
        }
        let mut state = init();
        let mut sink = RowSink::new(size);
        for j in 0..kinds.len() {
            let r = b * CHUNK_ROWS + j;
            sink.null();
            row(&mut state, r, &mut sink)?;
            if sink.kind == SinkKind::Sparse {
                check_sparse(&sink.idx, sink.vals.len(), size)
                    .map_err(|w| at.err(r, w, SPARSE_HINT))?;
            }
            let (kind, li, lv) = sink.stored(compress);
            if lv > i32::MAX as usize {
                return Err(too_many(r));
            }
            kinds[j] = kind;
            valid[j] = sink.kind != SinkKind::Null;
            ni[j] = li as i32;
            nv[j] = lv as i32;
            ti += li;
            tv += lv;
        }
        Ok((ti, tv))
    })?;
    plan.write(size, at, &totals, |b, kinds, valid, ni, nv, pi, pv| {
        let mut state = init();
        let mut sink = RowSink::new(size);
        let (mut oi, mut ov) = (0usize, 0usize);
        for j in 0..kinds.len() {
            let (li, lv) = (ni[j] as usize, nv[j] as usize);
            if valid[j] {
                let r = b * CHUNK_ROWS + j;
                sink.null();
                row(&mut state, r, &mut sink)?;
                if like.is_some() && sink.kind == SinkKind::Sparse {
                    check_sparse(&sink.idx, sink.vals.len(), size)
                        .map_err(|w| at.err(r, w, SPARSE_HINT))?;
                }
                if sink.stored(compress) != (kinds[j], li, lv) {
                    return Err(Error::Internal(format!(
                        "{}: the row function gave row {r} of column `{}` two different ways",
                        at.stage, at.column
                    )));
                }
                sink.write(kinds[j], &mut pi[oi..oi + li], &mut pv[ov..ov + lv]);
            }
            oi += li;
            ov += lv;
        }
        Ok(())
    })
}

/// A column chunk's layout while one of the two-pass builders makes it: each row's kind
/// (Spark's `type`: 0 sparse, 1 dense) and validity, and each row's index and value counts
/// at offset `r + 1`, which [`ChunkPlan::write`] turns into the children's offsets.
struct ChunkPlan {
    kinds: Output<i8>,
    valid: Vec<bool>,
    idx_off: Output<i32>,
    val_off: Output<i32>,
}

impl ChunkPlan {
    /// Kinds and offsets (which become the column's buffers) from `buffer::Output`s,
    /// filled with zeros in parallel.
    fn new(rows: usize) -> Self {
        ChunkPlan {
            kinds: Output::filled(rows, 0i8),
            valid: vec![true; rows],
            idx_off: Output::filled(rows + 1, 0i32),
            val_off: Output::filled(rows + 1, 0i32),
        }
    }

    /// The kinds, validity and both offset arrays, for writing.
    fn parts(&mut self) -> (&mut [i8], &mut [bool], &mut [i32], &mut [i32]) {
        // SAFETY: all three were filled whole by `new`.
        unsafe {
            (
                self.kinds.values_mut(),
                &mut self.valid,
                self.idx_off.values_mut(),
                self.val_off.values_mut(),
            )
        }
    }

    /// Pass 1, in parallel over blocks of [`CHUNK_ROWS`] rows: `count(block, kinds, valid,
    /// index counts, value counts)` sets each of the block's rows and returns the block's
    /// totals; the first error in row order wins.
    fn count(
        &mut self,
        count: impl Fn(usize, &mut [i8], &mut [bool], &mut [i32], &mut [i32]) -> Result<(usize, usize)>
            + Sync,
    ) -> Result<Vec<(usize, usize)>> {
        self.count_memo(&mut [] as &mut [u8], |b, k, v, ni, nv, _| {
            count(b, k, v, ni, nv)
        })
    }

    /// [`count`](Self::count) with a per-row `memo` (empty, or one value per row) whose
    /// block share is handed to `count` too (empty when `memo` is).
    #[allow(clippy::type_complexity)]
    fn count_memo<M: Send>(
        &mut self,
        memo: &mut [M],
        count: impl Fn(
                usize,
                &mut [i8],
                &mut [bool],
                &mut [i32],
                &mut [i32],
                &mut [M],
            ) -> Result<(usize, usize)>
            + Sync,
    ) -> Result<Vec<(usize, usize)>> {
        use rayon::prelude::*;
        let (kinds, valid, idx_off, val_off) = self.parts();
        let blocks = kinds
            .par_chunks_mut(CHUNK_ROWS)
            .zip(valid.par_chunks_mut(CHUNK_ROWS))
            .zip(idx_off[1..].par_chunks_mut(CHUNK_ROWS))
            .zip(val_off[1..].par_chunks_mut(CHUNK_ROWS))
            .enumerate();
        let totals = if memo.is_empty() {
            blocks
                .map(|(b, (((kinds, valid), ni), nv))| count(b, kinds, valid, ni, nv, &mut []))
                .collect::<Vec<_>>()
        } else {
            blocks
                .zip(memo.par_chunks_mut(CHUNK_ROWS))
                .map(|((b, (((kinds, valid), ni), nv)), m)| count(b, kinds, valid, ni, nv, m))
                .collect::<Vec<_>>()
        };
        crate::frame::in_order(totals)
    }

    /// Pass 2 and the array: the children allocated once at their exact sizes (never
    /// zeroed); `write(block, kinds, valid, index counts, value counts, the block's index
    /// part, its value part)` writes every counted entry of the block's rows in row order,
    /// in parallel over blocks; the counts then become offsets; then Spark's struct array.
    ///
    /// # Errors
    /// `write`'s first error in row order; [`Error::InvalidValue`] for more than 2^31
    /// stored values in the chunk.
    #[allow(clippy::type_complexity)]
    fn write(
        mut self,
        size: usize,
        at: At<'_>,
        totals: &[(usize, usize)],
        write: impl Fn(
                usize,
                &[i8],
                &[bool],
                &[i32],
                &[i32],
                &mut [MaybeUninit<i32>],
                &mut [MaybeUninit<f64>],
            ) -> Result<()>
            + Sync,
    ) -> Result<ArrayRef> {
        use rayon::prelude::*;
        let (kinds, valid, idx_off, val_off) = self.parts();
        let (mut idx, mut vals, total_i, total_v) = child_buffers(totals, kinds.len(), at)?;
        // A large child is written through cache-resident blocks and streaming stores.
        let (si, sv) = (idx.is_large(), vals.is_large());
        {
            let parts = block_parts(totals, &mut idx, &mut vals);
            let written = kinds
                .par_chunks(CHUNK_ROWS)
                .zip(valid.par_chunks(CHUNK_ROWS))
                .zip(idx_off[1..].par_chunks_mut(CHUNK_ROWS))
                .zip(val_off[1..].par_chunks_mut(CHUNK_ROWS))
                .zip(parts.into_par_iter())
                .enumerate()
                .map(|(b, ((((kinds, valid), ni), nv), (bi, bv, pi, pv)))| {
                    buffer::staged(pi, si, |pi| {
                        buffer::staged(pv, sv, |pv| write(b, kinds, valid, ni, nv, pi, pv))
                    })?;
                    let (mut oi, mut ov) = (bi, bv);
                    for (i, v) in ni.iter_mut().zip(nv.iter_mut()) {
                        oi += *i as usize;
                        ov += *v as usize;
                        // Both fit: they are at most the checked totals.
                        (*i, *v) = (oi as i32, ov as i32);
                    }
                    Ok(())
                })
                .collect::<Vec<_>>();
            crate::frame::in_order(written)?;
        }
        debug_assert_eq!((idx.spare().len(), vals.spare().len()), (total_i, total_v));
        // SAFETY: the blocks' parts cover `idx` and `vals` exactly, and every block's
        // writer wrote each of its rows' counted entries (the builders check each row
        // against pass 1's counts before writing it).
        let (idx, vals) = unsafe { (idx.finish(), vals.finish()) };
        // SAFETY: filled whole by `new`, then rewritten in place.
        let (kinds, idx_off, val_off) = unsafe {
            (
                self.kinds.finish(),
                self.idx_off.finish(),
                self.val_off.finish(),
            )
        };
        udt_array(size, kinds, self.valid, idx_off, idx, val_off, vals)
    }
}

/// The index and value children of a chunk whose row blocks store `totals` (indices,
/// values) each: room for exactly the summed totals (`buffer::Output`: pooled memory when
/// large, never zeroed), and those totals.
///
/// # Errors
/// [`Error::InvalidValue`] when the chunk would store more than 2^31 values.
fn child_buffers(
    totals: &[(usize, usize)],
    rows: usize,
    at: At<'_>,
) -> Result<(Output<i32>, Output<f64>, usize, usize)> {
    let (total_i, total_v) = totals
        .iter()
        .fold((0usize, 0usize), |(a, b), (i, v)| (a + i, b + v));
    if total_v > i32::MAX as usize {
        return Err(at.err(
            rows.saturating_sub(1),
            "more than 2^31 stored values in one column chunk".into(),
            "split the data into more partitions",
        ));
    }
    let idx = Output::<i32>::new(total_i);
    let vals = Output::<f64>::new(total_v);
    Ok((idx, vals, total_i, total_v))
}

/// Each row block's first index and value positions and its parts of the children's
/// spare capacity (`totals[b]` entries each), in block order.
#[allow(clippy::type_complexity)]
fn block_parts<'a>(
    totals: &[(usize, usize)],
    idx: &'a mut Output<i32>,
    vals: &'a mut Output<f64>,
) -> Vec<(
    usize,
    usize,
    &'a mut [MaybeUninit<i32>],
    &'a mut [MaybeUninit<f64>],
)> {
    let (total_i, total_v) = totals
        .iter()
        .fold((0usize, 0usize), |(a, b), (i, v)| (a + i, b + v));
    let mut parts = Vec::with_capacity(totals.len());
    let (mut ri, mut rv) = (&mut idx.spare()[..total_i], &mut vals.spare()[..total_v]);
    let (mut bi, mut bv) = (0usize, 0usize);
    for &(ti, tv) in totals {
        let (pi, qi) = std::mem::take(&mut ri).split_at_mut(ti);
        let (pv, qv) = std::mem::take(&mut rv).split_at_mut(tv);
        parts.push((bi, bv, pi, pv));
        (ri, rv, bi, bv) = (qi, qv, bi + ti, bv + tv);
    }
    parts
}

/// A sparse-type (`VectorUDT`) column chunk of `rows` rows of `size` values, each stored
/// as Spark's `Vector.compressed` stores it, for maps that compute every output row as
/// dense values (a row function over dense input rows): the one-row-function-call cheaper
/// form of [`par_vector_chunk`] with `compress`.
///
/// Pass 1 asks only `nnz(state, r)` — how many values of row `r`'s output are not `0.0`
/// (NaN counts), which a map can often count without computing the row — to place every
/// row; pass 2 calls `fill(state, r, out)` once per row, `out` zeroed: a row stored dense
/// is written straight into the column's value buffer, a sparse one into a scratch row
/// whose non-zeros are then copied out. Rows null in `nulls` stay null (neither closure is
/// called for them). Buffers are allocated once at their exact sizes, never zeroed.
/// (Built on [`par_entries_chunk`], whose sparse rows it fills from the dense scratch row.)
///
/// # Errors
/// The closures' first error in row order; [`Error::Internal`] when `fill` writes another
/// number of non-zeros than `nnz` counted; [`Error::InvalidValue`] for more than 2^31
/// stored values in the chunk.
#[allow(clippy::too_many_arguments)]
pub(crate) fn par_compressed_chunk<S, I, C, F>(
    rows: usize,
    size: usize,
    nulls: Option<&NullBuffer>,
    at: At<'_>,
    init: I,
    nnz: C,
    fill: F,
) -> Result<ArrayRef>
where
    I: Fn() -> S + Sync,
    C: Fn(&mut S, usize) -> Result<usize> + Sync,
    F: Fn(&mut S, usize, &mut [f64]) -> Result<()> + Sync,
{
    let is_null = |r: usize| nulls.is_some_and(|b| b.is_null(r));
    par_entries_chunk(
        rows,
        size,
        nulls,
        true,
        at,
        || (init(), vec![0.0; size], vec![0i32; size], vec![0.0; size]),
        |(state, ..), first, counts| {
            for (j, c) in counts.iter_mut().enumerate() {
                if !is_null(first + j) {
                    *c = nnz(state, first + j)?;
                }
            }
            Ok(())
        },
        |(state, scratch, gather_i, gather_v), r, out| match out {
            RowOut::Dense(o) => fill(state, r, o),
            RowOut::Sparse { .. } => {
                scratch.fill(0.0);
                fill(state, r, scratch)?;
                // The non-zeros gathered without a branch per value (which of them is
                // zero is data, not a pattern a branch predictor learns): every entry
                // written, the position advanced past non-zeros only.
                let mut k = 0;
                for (i, v) in scratch.iter().enumerate() {
                    // k <= i < size: in bounds.
                    gather_i[k] = i as i32;
                    gather_v[k] = *v;
                    k += usize::from(*v != 0.0);
                }
                out.put_entries(&gather_i[..k], &gather_v[..k]);
                Ok(())
            }
        },
    )
}

/// One output row of [`par_entries_chunk`], as pass 1 placed it.
pub(crate) enum RowOut<'a> {
    /// Stored dense: the row's `size` values, zeroed, to set.
    Dense(&'a mut [f64]),
    /// Stored sparse: room for exactly the entries counted, appended in index order.
    Sparse {
        idx: &'a mut [MaybeUninit<i32>],
        vals: &'a mut [MaybeUninit<f64>],
        /// Entries appended so far (the row is checked against its count afterwards).
        k: usize,
    },
}

impl RowOut<'_> {
    /// Sets value `i` (below the size; entries in increasing `i`) to `v`; a `0.0` is not
    /// stored. An entry beyond the counted room is not written, only counted (the row is
    /// then refused).
    #[inline(always)]
    pub(crate) fn put(&mut self, i: usize, v: f64) {
        if v == 0.0 {
            return;
        }
        match self {
            RowOut::Dense(o) => o[i] = v,
            RowOut::Sparse { idx, vals, k } => {
                if let (Some(a), Some(b)) = (idx.get_mut(*k), vals.get_mut(*k)) {
                    a.write(i as i32);
                    b.write(v);
                }
                *k += 1;
            }
        }
    }

    /// Appends entries (indices increasing, values not zero) to a sparse row; on a dense
    /// row sets them.
    #[inline]
    pub(crate) fn put_entries(&mut self, indices: &[i32], values: &[f64]) {
        match self {
            RowOut::Dense(o) => {
                for (i, v) in indices.iter().zip(values) {
                    o[*i as usize] = *v;
                }
            }
            RowOut::Sparse { idx, vals, k } => {
                let n = indices.len().min(values.len());
                let end = (*k + n).min(idx.len());
                let m = end.saturating_sub(*k);
                for (o, i) in idx[*k..end].iter_mut().zip(&indices[..m]) {
                    o.write(*i);
                }
                for (o, v) in vals[*k..end].iter_mut().zip(&values[..m]) {
                    o.write(*v);
                }
                *k += n;
            }
        }
    }
}

/// A sparse-type (`VectorUDT`) column chunk of `rows` rows of `size` values, written entry
/// by entry: with `compress` each row stored as Spark's `Vector.compressed` stores it, else
/// every row sparse (`Vectors.sparse`).
///
/// Pass 1, over blocks of rows in parallel, asks `nnz(state, first, counts)` for the
/// number of non-zero values (NaN counts) of each of rows `first..first + counts.len()`
/// (null rows' counts are ignored): a map can count a block column by column, without
/// computing its rows. A prefix sum places every row; pass 2 calls `write(state, r, out)`
/// once per non-null row, which [`RowOut::put`]s the row's non-zeros in index order,
/// straight into the column's buffers: a dense row's values zeroed first, a sparse row's
/// entries appended. Rows null in `nulls` stay null. Buffers are allocated once at their
/// exact sizes, never zeroed; no row is built anywhere else first.
///
/// # Errors
/// The closures' first error in row order; [`Error::Internal`] when `write` puts another
/// number of non-zeros than `nnz` counted; [`Error::InvalidValue`] for more than 2^31
/// stored values in the chunk.
#[allow(clippy::too_many_arguments)]
pub(crate) fn par_entries_chunk<S, I, C, F>(
    rows: usize,
    size: usize,
    nulls: Option<&NullBuffer>,
    compress: bool,
    at: At<'_>,
    init: I,
    nnz: C,
    write: F,
) -> Result<ArrayRef>
where
    I: Fn() -> S + Sync,
    C: Fn(&mut S, usize, &mut [usize]) -> Result<()> + Sync,
    F: Fn(&mut S, usize, &mut RowOut<'_>) -> Result<()> + Sync,
{
    let is_null = |r: usize| nulls.is_some_and(|b| b.is_null(r));
    // Pass 1: each row's layout and counts, from its non-zero count.
    let place =
        |state: &mut S, first: usize, kinds: &mut [i8], counts: &mut [i32], _: &mut [u8]| {
            let mut nnzs = vec![0usize; kinds.len()];
            nnz(state, first, &mut nnzs)?;
            for (j, ((kind, c), k)) in kinds
                .iter_mut()
                .zip(counts.iter_mut())
                .zip(nnzs)
                .enumerate()
            {
                if is_null(first + j) {
                    continue;
                }
                if compress && !prefers_sparse(k, size) {
                    *kind = PLANNED_DENSE;
                } else {
                    *c = i32::try_from(k).unwrap_or(i32::MAX);
                }
            }
            Ok(())
        };
    let mismatch = |r: usize| {
        Error::Internal(format!(
            "{}: row {r} of column `{}` has another number of non-zeros than counted",
            at.stage, at.column
        ))
    };
    let nonzeros = |v: &[f64]| v.iter().filter(|v| **v != 0.0).count();
    let write = |state: &mut S, first: usize, _: &[u8], block: &mut PlannedBlock<'_>| {
        for r in first..first + block.len() {
            match block.next() {
                PlannedRow::Null => {}
                PlannedRow::Dense(o) => {
                    for v in o.iter_mut() {
                        v.write(0.0);
                    }
                    // SAFETY: just initialised; MaybeUninit<f64> has f64's layout.
                    let o = unsafe { &mut *(o as *mut [MaybeUninit<f64>] as *mut [f64]) };
                    write(state, r, &mut RowOut::Dense(&mut *o))?;
                    if prefers_sparse(nonzeros(o), size) {
                        return Err(mismatch(r));
                    }
                }
                PlannedRow::Sparse(idx, vals) => {
                    let want = idx.len();
                    let mut out = RowOut::Sparse { idx, vals, k: 0 };
                    write(state, r, &mut out)?;
                    if !matches!(out, RowOut::Sparse { k, .. } if k == want) {
                        return Err(mismatch(r));
                    }
                }
            }
        }
        Ok(())
    };
    // SAFETY: a dense row is zeroed before `write` sets it; a sparse row's entries are
    // exactly the `k == want` ones `RowOut::put` appended (checked), in increasing index
    // below `size` (the callers' contract for `write`).
    unsafe { par_planned_chunk(rows, size, nulls, false, at, init, place, write) }
}

/// How [`par_planned_chunk`]'s `place` stores one output row: dense (`size` values) or
/// sparse with `counts[j]` entries. Null rows (per the chunk's nulls) are neither.
pub(crate) const PLANNED_SPARSE: i8 = 0;
/// See [`PLANNED_SPARSE`].
pub(crate) const PLANNED_DENSE: i8 = 1;

/// One row block's share of a [`par_planned_chunk`] column: the rows' layouts as `place`
/// set them and room for exactly their entries, handed out row by row in order by
/// [`next`](Self::next).
pub(crate) struct PlannedBlock<'a> {
    kinds: &'a [i8],
    valid: &'a [bool],
    counts: &'a [i32],
    size: usize,
    idx: &'a mut [MaybeUninit<i32>],
    vals: &'a mut [MaybeUninit<f64>],
    row: usize,
    oi: usize,
    ov: usize,
}

/// One output row of a [`PlannedBlock`], to write whole.
pub(crate) enum PlannedRow<'a> {
    /// A null row: nothing to write.
    Null,
    /// A dense row: its `size` values.
    Dense(&'a mut [MaybeUninit<f64>]),
    /// A sparse row: its indices (strictly increasing, below the size) and values,
    /// exactly as many as `place` counted.
    Sparse(&'a mut [MaybeUninit<i32>], &'a mut [MaybeUninit<f64>]),
}

impl PlannedBlock<'_> {
    /// The number of rows in the block.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.kinds.len()
    }

    /// The next row's room (rows in order: the first call gives the block's first row).
    #[inline(always)]
    pub(crate) fn next(&mut self) -> PlannedRow<'_> {
        let j = self.row;
        self.row += 1;
        if !self.valid[j] {
            return PlannedRow::Null;
        }
        if self.kinds[j] == PLANNED_DENSE {
            let o = &mut self.vals[self.ov..self.ov + self.size];
            self.ov += self.size;
            PlannedRow::Dense(o)
        } else {
            let c = self.counts[j] as usize;
            let (i, v) = (
                &mut self.idx[self.oi..self.oi + c],
                &mut self.vals[self.ov..self.ov + c],
            );
            self.oi += c;
            self.ov += c;
            PlannedRow::Sparse(i, v)
        }
    }

    /// The next run of dense rows, at most `max` of them (none when the next row is not
    /// dense, or none is left): their count `k` and their `k · size` values back to back,
    /// to write whole, as `k` calls of [`next`](Self::next) would hand them out. For
    /// writers that fill many dense rows in one vectorised kernel.
    #[inline]
    pub(crate) fn next_dense_run(&mut self, max: usize) -> (usize, &mut [MaybeUninit<f64>]) {
        let first = self.row;
        let end = self.kinds.len().min(first.saturating_add(max));
        let mut j = first;
        while j < end && self.valid[j] && self.kinds[j] == PLANNED_DENSE {
            j += 1;
        }
        self.row = j;
        let len = (j - first) * self.size;
        let o = &mut self.vals[self.ov..self.ov + len];
        self.ov += len;
        (j - first, o)
    }
}

/// A sparse-type (`VectorUDT`) column chunk of `rows` rows of `size` values whose rows'
/// layouts and entry counts a cheap first pass can give without building any row: the
/// shared builder of the stages whose output rows are placed from the input's structure
/// (a selector keeps each row's layout and counts a sparse row's kept indices) or from a
/// small per-row summary (Binarizer's per-row bit mask). Null rows per `nulls` stay null.
///
/// Pass 1, over blocks of rows in parallel: `place(state, first, kinds, counts, memo)`
/// sets each row's layout ([`PLANNED_DENSE`], or [`PLANNED_SPARSE`] with `counts[j]`
/// entries) and, when `memo` is asked for, a per-row value of its choosing (that pass 2
/// then reads instead of the input); null rows' settings are ignored. A prefix sum over
/// the blocks places every block; pass 2, over the same blocks in parallel, calls
/// `write(state, first, memo, block)` once per block, which writes every row of the block
/// in order through [`PlannedBlock::next`] straight into the column's buffers (allocated
/// once at their exact sizes from the output pool, staged and streamed when large; a
/// dense row is written in place, with no per-row call, scratch row or zero fill).
/// Errors name the first failing row in row order, whatever the thread count.
///
/// # Safety
/// `write` must write every value of every row [`PlannedBlock::next`] hands it, and a
/// sparse row's indices strictly increasing below `size` (they are not checked again).
///
/// # Errors
/// The closures' first error in row order; [`Error::Internal`] when `write` leaves rows
/// of its block unvisited; [`Error::InvalidValue`] for more than 2^31 stored values in
/// the chunk.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn par_planned_chunk<S, M, I, P, W>(
    rows: usize,
    size: usize,
    nulls: Option<&NullBuffer>,
    memo: bool,
    at: At<'_>,
    init: I,
    place: P,
    write: W,
) -> Result<ArrayRef>
where
    M: arrow::datatypes::ArrowNativeType + Send + Sync,
    I: Fn() -> S + Sync,
    P: Fn(&mut S, usize, &mut [i8], &mut [i32], &mut [M]) -> Result<()> + Sync,
    W: Fn(&mut S, usize, &[M], &mut PlannedBlock<'_>) -> Result<()> + Sync,
{
    let mut plan = ChunkPlan::new(rows);
    let mut memo = Output::<M>::filled(if memo { rows } else { 0 }, M::default());
    let is_null = |r: usize| nulls.is_some_and(|b| b.is_null(r));
    // SAFETY: filled whole above.
    let totals = plan.count_memo(unsafe { memo.values_mut() }, |b, kinds, valid, ni, nv, m| {
        let first = b * CHUNK_ROWS;
        let mut state = init();
        // `ni` holds the counts while `place` runs; both become (indices, values) below.
        place(&mut state, first, kinds, ni, m)?;
        // No null row: every row settled in one vectorised pass, unless a count is out of
        // range (then the row walk below names the first such row).
        if nulls.is_none_or(|b| b.null_count() == 0) {
            if let Some(totals) = crate::frame::kernels::settle_plan(kinds, ni, nv, size) {
                return Ok(totals);
            }
        }
        let (mut ti, mut tv) = (0usize, 0usize);
        for j in 0..kinds.len() {
            let (kind, li, lv) = if is_null(first + j) {
                valid[j] = false;
                (PLANNED_SPARSE, 0, 0)
            } else if kinds[j] == PLANNED_DENSE {
                (PLANNED_DENSE, 0, size)
            } else {
                match usize::try_from(ni[j]) {
                    Ok(c) if c <= size => (PLANNED_SPARSE, c, c),
                    _ => {
                        return Err(Error::Internal(format!(
                            "{}: row {} of column `{}` counted {} entries in a vector of size {size}",
                            at.stage,
                            first + j,
                            at.column,
                            ni[j]
                        )))
                    }
                }
            };
            kinds[j] = kind;
            ni[j] = li as i32;
            nv[j] = lv as i32;
            ti += li;
            tv += lv;
        }
        Ok((ti, tv))
    })?;
    // SAFETY: filled whole above.
    let memo_all: &[M] = unsafe { memo.values_mut() };
    let memo_of = |first: usize, len: usize| {
        if memo_all.is_empty() {
            &memo_all[..0]
        } else {
            &memo_all[first..first + len]
        }
    };
    plan.write(size, at, &totals, |b, kinds, valid, ni, _nv, pi, pv| {
        let first = b * CHUNK_ROWS;
        let mut state = init();
        let mut block = PlannedBlock {
            kinds,
            valid,
            counts: ni,
            size,
            idx: pi,
            vals: pv,
            row: 0,
            oi: 0,
            ov: 0,
        };
        write(&mut state, first, memo_of(first, kinds.len()), &mut block)?;
        if block.row != kinds.len() || block.oi != block.idx.len() || block.ov != block.vals.len() {
            return Err(Error::Internal(format!(
                "{}: rows of column `{}` left unwritten from row {first}",
                at.stage, at.column
            )));
        }
        Ok(())
    })
}

/// The `VectorUDT` struct array from its parts: per-row `kinds` and validity, index and
/// value offsets and children. Sparse rows (and null ones) carry the size and indices;
/// dense rows have null ones, as in Spark's layout.
fn udt_array(
    size: usize,
    kinds: ScalarBuffer<i8>,
    valid: Vec<bool>,
    idx_off: ScalarBuffer<i32>,
    idx: ScalarBuffer<i32>,
    val_off: ScalarBuffer<i32>,
    vals: ScalarBuffer<f64>,
) -> Result<ArrayRef> {
    let rows = kinds.len();
    let fields = sparse_vector_fields();
    let (DataType::List(idx_item), DataType::List(val_item)) =
        (fields[2].data_type(), fields[3].data_type())
    else {
        return Err(Error::Internal("VectorUDT list fields".into()));
    };
    let nulls = (!valid.iter().all(|v| *v)).then(|| NullBuffer::from(valid));
    let sparse_rows = (!kinds.iter().all(|k| *k == 0)).then(|| {
        NullBuffer::new(arrow::buffer::BooleanBuffer::collect_bool(rows, |r| {
            kinds[r] == 0
        }))
    });
    let kinds: ArrayRef = Arc::new(Int8Array::new(kinds, None));
    // SAFETY: `filled` wrote every value.
    let sizes = unsafe { Output::filled(rows, size as i32).finish() };
    let sizes: ArrayRef = Arc::new(Int32Array::new(sizes, sparse_rows.clone()));
    let indices: ArrayRef = Arc::new(ListArray::try_new(
        idx_item.clone(),
        OffsetBuffer::new(idx_off),
        Arc::new(Int32Array::new(idx, None)),
        sparse_rows,
    )?);
    let values: ArrayRef = Arc::new(ListArray::try_new(
        val_item.clone(),
        OffsetBuffer::new(val_off),
        Arc::new(Float64Array::new(vals, None)),
        None,
    )?);
    Ok(Arc::new(StructArray::try_new(
        fields,
        vec![kinds, sizes, indices, values],
        nulls,
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> At<'static> {
        At {
            stage: "T",
            column: "v",
            partition: 0,
        }
    }

    #[test]
    fn compressed_rule_is_spark_4s() {
        // Spark 4.3 VectorAssembler sweep (reference): size 5, nnz 2 is dense; nnz 1 sparse.
        assert!(!prefers_sparse(2, 5));
        assert!(prefers_sparse(1, 5));
        // 12·nnz + 16 < 8·size: size 8, nnz 3 -> 52 < 64 sparse; nnz 4 -> 64 < 64 dense.
        assert!(prefers_sparse(3, 8));
        assert!(!prefers_sparse(4, 8));
        assert!(!prefers_sparse(0, 1)); // 16 < 8 false
        assert!(prefers_sparse(0, 3)); // 16 < 24
    }

    /// Row `r` of the planned-chunk tests: null, dense, or sparse with 0 or 2 entries.
    fn planned_row(r: usize, size: usize) -> Option<(bool, Vec<i32>, Vec<f64>)> {
        match r % 4 {
            0 => None,
            1 => Some((
                true,
                vec![],
                (0..size).map(|j| (r * size + j) as f64).collect(),
            )),
            2 => Some((false, vec![1, 3], vec![r as f64, -(r as f64)])),
            _ => Some((false, vec![], vec![])),
        }
    }

    fn planned(rows: usize, size: usize, visit_all: bool, over: bool) -> Result<ArrayRef> {
        let valid: Vec<bool> = (0..rows).map(|r| planned_row(r, size).is_some()).collect();
        let nulls = NullBuffer::from(valid);
        let place =
            |_: &mut (), first: usize, kinds: &mut [i8], counts: &mut [i32], m: &mut [u32]| {
                for (j, (k, c)) in kinds.iter_mut().zip(counts.iter_mut()).enumerate() {
                    m[j] = (first + j) as u32;
                    match planned_row(first + j, size) {
                        Some((true, ..)) => *k = PLANNED_DENSE,
                        Some((false, i, _)) => {
                            *c = if over {
                                size as i32 + 1
                            } else {
                                i.len() as i32
                            }
                        }
                        None => {}
                    }
                }
                Ok(())
            };
        let write = |_: &mut (), first: usize, m: &[u32], out: &mut PlannedBlock<'_>| {
            let n = if visit_all { out.len() } else { out.len() - 1 };
            for (j, r) in (first..first + n).enumerate() {
                assert_eq!(m[j] as usize, r, "the memo place set");
                match (out.next(), planned_row(r, size)) {
                    (PlannedRow::Null, None) => {}
                    (PlannedRow::Dense(o), Some((true, _, v))) => {
                        for (o, v) in o.iter_mut().zip(v) {
                            o.write(v);
                        }
                    }
                    (PlannedRow::Sparse(oi, ov), Some((false, i, v))) => {
                        for ((oi, ov), (i, v)) in
                            oi.iter_mut().zip(ov.iter_mut()).zip(i.iter().zip(v))
                        {
                            oi.write(*i);
                            ov.write(v);
                        }
                    }
                    _ => panic!("row {r} handed out in another layout"),
                }
            }
            Ok(())
        };
        // SAFETY: `write` writes every value of every row it visits.
        unsafe { par_planned_chunk(rows, size, Some(&nulls), true, at(), || (), place, write) }
    }

    #[test]
    fn planned_chunks_are_the_row_builders_columns() {
        // Several blocks of rows (CHUNK_ROWS each) of every layout, against the same rows
        // pushed one by one.
        let (rows, size) = (2 * CHUNK_ROWS + 5, 5);
        let got = planned(rows, size, true, false).unwrap();
        let mut b = SparseVectorBuilder::new(size);
        for r in 0..rows {
            match planned_row(r, size) {
                None => b.push_null(),
                Some((true, _, v)) => b.push_dense(&v).unwrap(),
                Some((false, i, v)) => b.push(&i, &v).unwrap(),
            }
        }
        assert_eq!(got.to_data(), b.finish().unwrap().to_data());
    }

    #[test]
    fn planned_chunks_refuse_unwritten_rows_and_impossible_counts() {
        let e = planned(10, 5, false, false).unwrap_err().to_string();
        assert!(
            e.contains("T: rows of column `v` left unwritten from row 0"),
            "{e}"
        );
        let e = planned(10, 5, true, true).unwrap_err().to_string();
        assert!(
            e.contains("T: row 2 of column `v` counted 6 entries in a vector of size 5"),
            "{e}"
        );
    }

    #[test]
    fn builder_round_trips_mixed_rows_and_nulls() {
        let mut b = SparseVectorBuilder::new(5);
        b.push(&[0, 4], &[1.0, -2.0]).unwrap();
        b.push_null();
        b.push_dense(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        b.push_compressed(Row::Dense(&[0.0, 0.0, 7.0, 0.0, 0.0]))
            .unwrap();
        b.push_compressed(Row::Dense(&[0.0, 1.0, 7.0, 0.0, 0.0]))
            .unwrap();
        let arr = b.finish().unwrap();
        assert!(is_sparse_vector_type(arr.data_type()));
        let blk = VectorBlock::new(arr.as_ref(), 5, at()).unwrap();
        assert_eq!(blk.len(), 5);
        assert_eq!(
            blk.row(0),
            Some(Row::Sparse {
                size: 5,
                indices: &[0, 4],
                values: &[1.0, -2.0]
            })
        );
        assert_eq!(blk.row(1), None);
        assert_eq!(blk.row(2), Some(Row::Dense(&[1.0, 2.0, 3.0, 4.0, 5.0])));
        assert!(matches!(blk.row(3), Some(Row::Sparse { .. })));
        assert!(matches!(blk.row(4), Some(Row::Dense(_))));
        let d = blk.to_dense();
        assert_eq!(&d[0..5], &[1.0, 0.0, 0.0, 0.0, -2.0]);
        assert_eq!(&d[15..20], &[0.0, 0.0, 7.0, 0.0, 0.0]);
        // Sliced chunks read the right rows.
        let s = arr.slice(2, 2);
        let blk = VectorBlock::new(s.as_ref(), 5, at()).unwrap();
        assert_eq!(blk.row(0).unwrap().to_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(blk.row(1).unwrap().get(2), Some(7.0));
        // Dense rows have null indices and size, as in Spark's layout.
        let st = arr.as_struct();
        assert!(st.column(1).is_null(2) && st.column(2).is_null(2));
    }

    #[test]
    fn bad_vectors_are_clear_errors() {
        let mut b = SparseVectorBuilder::new(3).context("Stage", "col", 2);
        let e = b.push(&[0, 3], &[1.0, 1.0]).unwrap_err().to_string();
        assert_eq!(e, format!("Stage: sparse index 3 out of range for a vector of size 3 in column `col` (partition 2, row 0); {SPARSE_HINT}"));
        let e = b.push(&[1, 1], &[1.0, 1.0]).unwrap_err().to_string();
        assert!(e.contains("not strictly increasing (1 then 1)"), "{e}");
        let e = b.push(&[1], &[1.0, 1.0]).unwrap_err().to_string();
        assert!(e.contains("1 indices but 2 values"), "{e}");
        let e = b.push_dense(&[1.0]).unwrap_err().to_string();
        assert!(
            e.contains("dense vector of size 1 where the column's vectors have size 3"),
            "{e}"
        );
        assert!(b.is_empty());

        // A hand-made struct with unsorted indices, and one with a mixed size.
        let fields = sparse_vector_fields();
        let make = |size: i32, idx: Vec<i32>| {
            let n = idx.len();
            let DataType::List(ii) = fields[2].data_type() else {
                unreachable!()
            };
            let DataType::List(vi) = fields[3].data_type() else {
                unreachable!()
            };
            StructArray::try_new(
                fields.clone(),
                vec![
                    Arc::new(Int8Array::from(vec![0i8])) as ArrayRef,
                    Arc::new(Int32Array::from(vec![size])),
                    Arc::new(ListArray::new(
                        ii.clone(),
                        OffsetBuffer::from_lengths([n]),
                        Arc::new(Int32Array::from(idx)),
                        None,
                    )),
                    Arc::new(ListArray::new(
                        vi.clone(),
                        OffsetBuffer::from_lengths([n]),
                        Arc::new(Float64Array::from(vec![1.0; n])),
                        None,
                    )),
                ],
                None,
            )
            .unwrap()
        };
        let a = make(4, vec![2, 1]);
        let e = VectorBlock::new(&a, 4, at()).unwrap_err().to_string();
        assert!(e.starts_with("T: sparse indices not strictly increasing (2 then 1) in column `v` (partition 0, row 0)"), "{e}");
        let a = make(5, vec![1]);
        let e = VectorBlock::new(&a, 4, at()).unwrap_err().to_string();
        assert!(
            e.contains("a sparse vector of size 5 where the column's vectors have size 4"),
            "{e}"
        );
        let a = make(4, vec![-1]);
        let e = VectorBlock::new(&a, 4, at()).unwrap_err().to_string();
        assert!(e.contains("sparse index -1 out of range"), "{e}");
        let e = VectorBlock::new(&Float64Array::from(vec![1.0]), 4, at())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a vector column"), "{e}");
    }

    #[test]
    fn sizes_come_from_metadata_or_the_dense_type() {
        let f = sparse_vector_field("v", 7, true);
        assert_eq!(field_vector_size(&f), Some(7));
        let named = super::super::with_feature_names(f, &["a".into(), "b".into()]);
        assert_eq!(field_vector_size(&named), Some(2));
        let bare = Field::new("v", sparse_vector_type(), true);
        assert_eq!(field_vector_size(&bare), None);
        assert_eq!(
            field_vector_size(&super::super::vector_field("d", 3, false)),
            Some(3)
        );
        assert_eq!(
            field_vector_size(&Field::new("x", DataType::Float64, true)),
            None
        );
    }

    #[test]
    fn row_view_agrees_across_layouts() {
        let w = [0.5, -1.0, 2.0, 4.0];
        let dense = [0.0, 3.0, 0.0, 1.5];
        let sp = Row::Sparse {
            size: 4,
            indices: &[1, 3],
            values: &[3.0, 1.5],
        };
        assert_eq!(Row::Dense(&dense).dot(&w), sp.dot(&w));
        assert_eq!(sp.to_vec(), dense.to_vec());
        assert_eq!((sp.len(), sp.num_active(), sp.num_nonzeros()), (4, 2, 2));
        assert_eq!(sp.get(0), Some(0.0));
        assert_eq!(sp.get(4), None);
        let mut seen = Vec::new();
        sp.for_each_active(|i, v| seen.push((i, v)));
        assert_eq!(seen, [(1, 3.0), (3, 1.5)]);
    }

    /// Row `r` of the builder tests: null, dense or sparse (with stored zeros and NaN),
    /// as a pure function of `r`.
    fn test_row(r: usize, size: usize) -> Option<(bool, Vec<i32>, Vec<f64>)> {
        let h = (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
        match h % 7 {
            0 => None,
            1 | 2 => Some((
                true,
                Vec::new(),
                (0..size)
                    .map(|j| match (h >> j) % 4 {
                        0 => 0.0,
                        1 => -0.0,
                        2 => f64::NAN,
                        _ => j as f64 - 1.5,
                    })
                    .collect(),
            )),
            _ => {
                let idx: Vec<i32> = (0..size as i32).filter(|j| (h >> j) % 3 == 0).collect();
                let vals = idx
                    .iter()
                    .map(|j| {
                        if (h >> (*j as u64 % 13)) % 5 == 0 {
                            0.0
                        } else {
                            *j as f64 + 0.25
                        }
                    })
                    .collect();
                Some((false, idx, vals))
            }
        }
    }

    #[test]
    fn parallel_builder_matches_the_row_builder_across_blocks() {
        // Row counts around the task size, so that blocks, their prefix sums and the
        // last partial block are all exercised; both storage rules.
        for (rows, size) in [(0, 5), (1, 5), (2047, 6), (2048, 9), (5000, 12), (4097, 1)] {
            for compress in [false, true] {
                let mut b = SparseVectorBuilder::new(size);
                for r in 0..rows {
                    match test_row(r, size) {
                        None => b.push_null(),
                        Some((true, _, v)) if compress => {
                            b.push_compressed(Row::Dense(&v)).unwrap()
                        }
                        Some((true, _, v)) => b.push_dense(&v).unwrap(),
                        Some((false, i, v)) if compress => b
                            .push_compressed(Row::Sparse {
                                size,
                                indices: &i,
                                values: &v,
                            })
                            .unwrap(),
                        Some((false, i, v)) => b.push(&i, &v).unwrap(),
                    }
                }
                let want = b.finish().unwrap();
                let got = par_vector_chunk(
                    rows,
                    size,
                    compress,
                    at(),
                    || (),
                    |_, r, sink| {
                        match test_row(r, size) {
                            None => sink.null(),
                            Some((true, _, v)) => sink.dense().copy_from_slice(&v),
                            Some((false, i, v)) => {
                                let (oi, ov) = sink.sparse();
                                oi.extend(i);
                                ov.extend(v);
                            }
                        }
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(got.len(), rows);
                // Row by row, bit for bit (NaN and -0.0 included), and the same nulls.
                let (w, g) = (
                    VectorBlock::new(want.as_ref(), size, at()).unwrap(),
                    VectorBlock::new(got.as_ref(), size, at()).unwrap(),
                );
                for r in 0..rows {
                    let bits = |x: Option<Row<'_>>| {
                        x.map(|x| match x {
                            Row::Dense(v) => {
                                (1, vec![], v.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                            }
                            Row::Sparse {
                                indices, values, ..
                            } => (
                                0,
                                indices.to_vec(),
                                values.iter().map(|v| v.to_bits()).collect(),
                            ),
                        })
                    };
                    assert_eq!(
                        bits(w.row(r)),
                        bits(g.row(r)),
                        "row {r} of {rows}x{size} compress {compress}"
                    );
                }
                assert_eq!(want.logical_nulls(), got.logical_nulls());
            }
        }
    }

    #[test]
    fn parallel_builder_reports_the_first_bad_row_in_row_order() {
        // Rows 3000 and 9000 fail (in different blocks): the error names row 3000 whatever
        // the scheduling; a bad sparse row names its row too.
        let e = par_vector_chunk(
            10_000,
            3,
            true,
            at(),
            || (),
            |_, r, sink| {
                if r == 3000 || r == 9000 {
                    return Err(Error::Internal(format!("row {r}")));
                }
                sink.dense()[0] = 1.0;
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::Internal("row 3000".into()).to_string()
        );
        let e = par_vector_chunk(
            5000,
            3,
            false,
            at(),
            || (),
            |_, r, sink| {
                let (i, v) = sink.sparse();
                if r == 4100 {
                    i.extend([2, 1]);
                    v.extend([1.0, 1.0]);
                }
                Ok(())
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("T: sparse indices not strictly increasing (2 then 1) in column `v` (partition 0, row 4100)"), "{e}");
    }

    #[test]
    fn compressed_builder_matches_the_row_builder_across_blocks() {
        // Dense output rows (zeros of both signs, NaN; nulls from a null buffer) stored
        // `.compressed` by the row builder and by par_compressed_chunk: the same rows, bit
        // for bit, at row counts around the task size.
        let dense = |r: usize, size: usize| {
            test_row(r, size).map(|(_, i, v)| {
                let mut d = v.clone();
                if !i.is_empty() || d.len() != size {
                    d = vec![0.0; size];
                    for (i, v) in i.iter().zip(&v) {
                        d[*i as usize] = *v;
                    }
                }
                d
            })
        };
        for (rows, size) in [(0, 5), (1, 5), (2047, 6), (2048, 9), (5000, 12), (4097, 1)] {
            let mut b = SparseVectorBuilder::new(size);
            for r in 0..rows {
                match dense(r, size) {
                    None => b.push_null(),
                    Some(d) => b.push_compressed(Row::Dense(&d)).unwrap(),
                }
            }
            let want = b.finish().unwrap();
            let nulls = NullBuffer::from_iter((0..rows).map(|r| dense(r, size).is_some()));
            let got = par_compressed_chunk(
                rows,
                size,
                Some(&nulls),
                at(),
                || (),
                |_, r| {
                    let d = dense(r, size).unwrap();
                    Ok(d.iter().filter(|v| **v != 0.0).count())
                },
                |_, r, o| {
                    o.copy_from_slice(&dense(r, size).unwrap());
                    Ok(())
                },
            )
            .unwrap();
            let (w, g) = (
                VectorBlock::new(want.as_ref(), size, at()).unwrap(),
                VectorBlock::new(got.as_ref(), size, at()).unwrap(),
            );
            assert_eq!(g.len(), rows);
            let bits = |x: Option<Row<'_>>| {
                x.map(|x| match x {
                    Row::Dense(v) => (1, vec![], v.iter().map(|v| v.to_bits()).collect()),
                    Row::Sparse {
                        indices, values, ..
                    } => (
                        0,
                        indices.to_vec(),
                        values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    ),
                })
            };
            for r in 0..rows {
                assert_eq!(bits(w.row(r)), bits(g.row(r)), "row {r} of {rows}x{size}");
            }
        }
        // A count that disagrees with the row: an internal error naming the row, whatever
        // layout the count picked; a closure's error comes out first in row order.
        for claimed in [0, 5] {
            let e = par_compressed_chunk(
                5000,
                5,
                None,
                at(),
                || (),
                |_, r| Ok(if r == 3000 { claimed } else { 1 }),
                |_, r, o| {
                    match (r, claimed) {
                        // three non-zeros where none were counted
                        (3000, 0) => o[..3].fill(2.0),
                        // none where a dense row was counted
                        (3000, _) => {}
                        _ => o[0] = 1.0,
                    }
                    Ok(())
                },
            )
            .unwrap_err()
            .to_string();
            assert!(e.contains("row 3000") && e.contains("non-zeros"), "{e}");
        }
        let e = par_compressed_chunk(
            5000,
            5,
            None,
            at(),
            || (),
            |_, r| {
                if r == 4100 || r == 4500 {
                    return Err(Error::Internal(format!("row {r}")));
                }
                Ok(1)
            },
            |_, _, o| {
                o[0] = 1.0;
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            Error::Internal("row 4100".into()).to_string()
        );
    }
}
