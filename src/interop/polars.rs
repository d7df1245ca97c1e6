//! polars <-> mlpipe through the Arrow C Data Interface, without copying (feature `polars`).
//!
//! polars keeps its columns in its own Arrow implementation (`polars-arrow`), mlpipe in
//! arrow-rs. Both speak the [Arrow C Data Interface], so a column moves from one to the
//! other by handing over pointers to the same buffers: [`DataFrame::from_polars`] and
//! [`DataFrame::to_polars`] copy no values for numeric, boolean, polars string
//! (`Utf8View`) and vector columns. A polars chunk becomes an mlpipe partition and an mlpipe
//! partition becomes a polars chunk.
//!
//! | polars dtype                 | mlpipe column (Arrow type)            | copied? |
//! |------------------------------|---------------------------------------|---------|
//! | `Boolean`                    | `Boolean`                             | no      |
//! | `Int8`..`Int64`, `UInt8`..`UInt64`, `Float32`, `Float64` | the same | no      |
//! | `String`                     | `Utf8View` (StringIndexer reads it)   | no      |
//! | `Array(Float64, n)`          | dense vector `FixedSizeList<Float64, n>` | no   |
//! | `Struct{type: Int8, size: Int32, indices: List(Int32), values: List(Float64)}` | sparse vector (Spark's `VectorUDT` struct) | offsets only |
//!
//! A `Utf8View` string column goes to polars with its views and data buffers as they are,
//! and polars does no per-row work on them in an optimised build. A polars compiled with
//! debug assertions (cargo's dev profile) checks every view as it imports the column
//! (`BinaryViewArrayGeneric::new_unchecked` in polars-arrow): about 10 ms per million
//! rows there, nothing in a release build. An mlpipe `Utf8` column (as read from CSV)
//! keeps its string bytes too: polars, which stores strings only as views, builds 16 bytes
//! of views per row over the same bytes (one pass over the offsets, no string copied). Other
//! polars dtypes (dates, categoricals, lists, structs, decimals, ...) are refused with an
//! error that names the column and says what to cast it to.
//!
//! A sparse vector column (Spark's `VectorUDT` struct, each row dense or sparse) becomes a
//! polars `Struct` column with the same four fields, `type` (0 sparse, 1 dense), `size`,
//! `indices` and `values`; polars stores lists with 64-bit offsets, so the two offset
//! buffers are widened on the way (the index and value buffers are shared). Coming back,
//! such a struct column is a sparse vector column again, its size read from the rows (all
//! rows must agree). Feature names recorded on a vector column (Spark's `ml_attr`
//! metadata) do not survive a trip through polars, which has no field metadata; the
//! vector size of a sparse column is restored from its rows.
//!
//! When a polars frame's columns are chunked differently (after some `hstack`s), the chunks
//! are aligned first, which polars does by rechunking: that one case copies. Frames that
//! come out of a `LazyFrame::collect`, a file reader or [`DataFrame::to_polars`] are
//! aligned.
//!
//! [Arrow C Data Interface]: https://arrow.apache.org/docs/format/CDataInterface.html
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::polars::prelude::*;
//! let pl = df!("x" => [1.0, 2.0, 3.0], "label" => [0i32, 1, 0]).unwrap();
//! let df = mlpipe::DataFrame::from_polars(&pl)?;
//! assert_eq!(df.num_rows(), 3);
//! let back = df.to_polars()?;
//! assert!(back.equals(&pl));
//! # Ok(()) }
//! ```

use std::sync::Arc;

use arrow::array::{make_array, Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use polars::prelude::{
    Column as PlColumn, DataFrame as PlDataFrame, DataType as PlDataType, IntoColumn, LazyFrame,
    PlSmallStr, Series,
};
use polars_arrow::array::Array as PaArray;
use polars_arrow::datatypes::Field as PaField;
use polars_arrow::ffi as pa_ffi;

use crate::error::{Error, Result};
use crate::frame::{vector, DataFrame};

const FROM: &str = "from_polars";
const TO: &str = "to_polars";

impl DataFrame {
    /// An mlpipe `DataFrame` over the same buffers as the polars frame `df`: no values are
    /// copied (see the [module docs](crate::interop::polars) for the dtypes and the one
    /// case that copies). Chunk `i` of every column becomes partition `i`.
    ///
    /// # Errors
    /// [`Error::Frame`] naming the column, its polars dtype and the cast that makes it
    /// usable, for a dtype mlpipe cannot represent (dates, categoricals, lists, ...), and
    /// for an `Array(Float64, n)` column holding null elements inside its arrays.
    pub fn from_polars(df: &PlDataFrame) -> Result<DataFrame> {
        let aligned;
        let df = if df.should_rechunk() {
            let mut copy = df.clone();
            copy.align_chunks_par();
            aligned = copy;
            &aligned
        } else {
            df
        };
        let mut fields = Vec::with_capacity(df.width());
        let mut columns: Vec<Vec<ArrayRef>> = Vec::with_capacity(df.width());
        for c in df.columns() {
            let name = c.name().as_str();
            let dtype = c.dtype();
            check_polars_dtype(name, dtype)?;
            let series = c.as_materialized_series();
            let chunks = series
                .chunks()
                .iter()
                .map(|chunk| import_chunk(name, chunk.clone()))
                .collect::<Result<Vec<_>>>()?;
            let data_type = match chunks.first() {
                Some(a) => a.data_type().clone(),
                None => {
                    return Err(Error::Internal(format!(
                        "polars column `{name}` has no chunks"
                    )))
                }
            };
            let field = if vector::is_sparse_vector_type(&data_type) {
                match sparse_size_from_rows(name, &chunks)? {
                    Some(size) => vector::sparse_vector_field(name, size, true),
                    None => Field::new(name, data_type, true),
                }
            } else {
                Field::new(name, data_type, true)
            };
            fields.push(field);
            columns.push(chunks);
        }
        let schema = Arc::new(Schema::new(fields));
        let num_partitions = columns.first().map_or(0, Vec::len);
        if num_partitions == 0 {
            // No columns: keep the row count, as polars does.
            let opts = RecordBatchOptions::new().with_row_count(Some(df.height()));
            let batch = RecordBatch::try_new_with_options(schema.clone(), vec![], &opts)?;
            return DataFrame::try_new(schema, vec![batch]);
        }
        let mut partitions = Vec::with_capacity(num_partitions);
        for p in 0..num_partitions {
            let arrays: Vec<ArrayRef> = columns.iter().map(|c| c[p].clone()).collect();
            partitions.push(RecordBatch::try_new(schema.clone(), arrays)?);
        }
        DataFrame::try_new(schema, partitions)
    }

    /// Collects a polars `LazyFrame` and takes its result in without copying, as
    /// [`DataFrame::from_polars`] does.
    ///
    /// # Errors
    /// [`Error::Frame`] when the query fails (polars' message) or a column has a dtype
    /// mlpipe cannot represent.
    pub fn from_polars_lazy(lf: LazyFrame) -> Result<DataFrame> {
        let df = lf
            .collect()
            .map_err(|e| Error::Frame(format!("{FROM}: collecting the LazyFrame failed: {e}")))?;
        Self::from_polars(&df)
    }

    /// A polars frame over the same buffers as this `DataFrame`; partition `i` becomes
    /// chunk `i` of every column. Numeric, boolean, `Utf8View` and vector columns are not
    /// copied; for a `Utf8` string column polars builds its string views over the same
    /// bytes (one pass over the rows). Vector columns become `Array(Float64, n)`.
    ///
    /// # Errors
    /// [`Error::Frame`] naming the column, for an Arrow type polars cannot import.
    pub fn to_polars(&self) -> Result<PlDataFrame> {
        let mut columns: Vec<PlColumn> = Vec::with_capacity(self.schema().fields().len());
        for (i, field) in self.schema().fields().iter().enumerate() {
            let name = field.name().as_str();
            let arrays: Vec<ArrayRef> = if self.partitions().is_empty() {
                vec![arrow::array::new_empty_array(field.data_type())]
            } else {
                self.partitions()
                    .iter()
                    .map(|p| p.column(i).clone())
                    .collect()
            };
            let chunks = arrays
                .iter()
                .map(|a| export_chunk(name, a))
                .collect::<Result<Vec<_>>>()?;
            let series = Series::from_arrow_chunks(PlSmallStr::from(name), chunks)
                .map_err(|e| Error::Frame(format!("{TO}: column `{name}`: {e}")))?;
            columns.push(series.into_column());
        }
        PlDataFrame::new(self.num_rows(), columns).map_err(|e| Error::Frame(format!("{TO}: {e}")))
    }
}

/// Refuses the polars dtypes mlpipe cannot represent, saying what to cast to.
fn check_polars_dtype(name: &str, dtype: &PlDataType) -> Result<()> {
    let ok = dtype.is_bool()
        || dtype.is_string()
        || matches!(
            dtype,
            PlDataType::Int8
                | PlDataType::Int16
                | PlDataType::Int32
                | PlDataType::Int64
                | PlDataType::UInt8
                | PlDataType::UInt16
                | PlDataType::UInt32
                | PlDataType::UInt64
                | PlDataType::Float32
                | PlDataType::Float64
        )
        || (dtype.is_array() && dtype.inner_dtype() == Some(&PlDataType::Float64))
        || is_polars_vector_struct(dtype);
    if ok {
        return Ok(());
    }
    let hint = if dtype.is_array() || dtype.is_list() {
        "a vector column must be Array(Float64, n): cast it with `col(name).cast(DataType::Array(Box::new(DataType::Float64), n))` (a List needs the same length in every row)"
    } else if dtype.is_temporal() {
        "cast it to Int64 (`col(name).cast(DataType::Int64)`: days, or time units, since the epoch) or derive numeric features from it"
    } else if dtype.is_categorical() || dtype.is_enum() {
        "cast it to String (`col(name).cast(DataType::String)`) and index it with StringIndexer"
    } else if dtype.is_decimal() || matches!(dtype, PlDataType::Int128 | PlDataType::UInt128) {
        "cast it to Float64 (`col(name).cast(DataType::Float64)`)"
    } else if dtype.is_struct() {
        "unnest it into separate columns (`.unnest([name])`); a sparse vector is a struct of exactly `type` (Int8), `size` (Int32), `indices` (List(Int32)) and `values` (List(Float64))"
    } else if matches!(dtype, PlDataType::Null) {
        "it holds only nulls; drop it or cast it to Float64"
    } else {
        "cast it to Float64, Int64, Boolean or String, or to Array(Float64, n) for a vector"
    };
    Err(Error::Frame(format!(
        "{FROM}: column `{name}` has polars dtype {dtype}, which mlpipe cannot represent; {}",
        hint.replace("name", &format!("\"{name}\""))
    )))
}

/// Whether a polars dtype is Spark's `VectorUDT` struct: `type` Int8, `size` Int32,
/// `indices` List(Int32), `values` List(Float64), in that order.
fn is_polars_vector_struct(dtype: &PlDataType) -> bool {
    let PlDataType::Struct(fields) = dtype else {
        return false;
    };
    let list_of = |d: &PlDataType, inner: &PlDataType| matches!(d, PlDataType::List(t) if t.as_ref() == inner);
    let expected = ["type", "size", "indices", "values"];
    fields.len() == 4
        && fields
            .iter()
            .zip(expected)
            .all(|(f, n)| f.name().as_str() == n)
        && fields[0].dtype() == &PlDataType::Int8
        && fields[1].dtype() == &PlDataType::Int32
        && list_of(fields[2].dtype(), &PlDataType::Int32)
        && list_of(fields[3].dtype(), &PlDataType::Float64)
}

/// The vector size of a sparse vector column that came from polars (which keeps no field
/// metadata): a sparse row's `size`, a dense row's length. `None` when no row says.
fn sparse_size_from_rows(name: &str, chunks: &[ArrayRef]) -> Result<Option<usize>> {
    let mut size: Option<(usize, usize, usize)> = None; // (size, partition, row)
    for (p, chunk) in chunks.iter().enumerate() {
        let s = chunk.as_struct();
        let kind = s.column(0).as_primitive::<arrow::datatypes::Int8Type>();
        let sizes = s.column(1).as_primitive::<arrow::datatypes::Int32Type>();
        let values = s.column(3).as_list::<i32>();
        for r in 0..s.len() {
            if s.is_null(r) {
                continue;
            }
            let n = match kind.value(r) {
                0 if sizes.is_valid(r) && sizes.value(r) >= 0 => sizes.value(r) as usize,
                1 if values.is_valid(r) => values.value_length(r) as usize,
                t => {
                    return Err(Error::Frame(format!(
                        "{FROM}: column `{name}`, chunk {p}, row {r}: not a vector (type {t} with {} size); a sparse row has type 0 and its size, a dense row type 1 and its values",
                        if sizes.is_valid(r) { "a" } else { "no" }
                    )))
                }
            };
            match size {
                None => size = Some((n, p, r)),
                Some((m, p0, r0)) if m != n => {
                    return Err(Error::Frame(format!(
                        "{FROM}: column `{name}` mixes vector sizes: {m} (chunk {p0}, row {r0}) and {n} (chunk {p}, row {r}); every vector of a column must have the same size"
                    )))
                }
                Some(_) => {}
            }
        }
    }
    Ok(size.map(|(n, _, _)| n))
}

/// One polars chunk as an arrow-rs array over the same buffers.
fn import_chunk(name: &str, chunk: Box<dyn PaArray>) -> Result<ArrayRef> {
    let field = PaField::new(PlSmallStr::from(name), chunk.dtype().clone(), true);
    let schema = pa_ffi::export_field_to_c(&field);
    let array = pa_ffi::export_array_to_c(chunk);
    // SAFETY: polars-arrow's `ArrowArray`/`ArrowSchema` and arrow-rs's `FFI_ArrowArray`/
    // `FFI_ArrowSchema` are both the `#[repr(C)]` structs of the Arrow C Data Interface
    // (same fields, same order; `transmute` checks the sizes). The release callbacks travel
    // with them, so the buffers stay owned by polars' allocations and are freed once.
    let (array, schema) = unsafe {
        (
            std::mem::transmute::<pa_ffi::ArrowArray, FFI_ArrowArray>(array),
            std::mem::transmute::<pa_ffi::ArrowSchema, FFI_ArrowSchema>(schema),
        )
    };
    // SAFETY: `array` and `schema` were just exported by polars-arrow and describe each other.
    let data = unsafe { arrow::ffi::from_ffi(array, &schema) }
        .map_err(|e| Error::Frame(format!("{FROM}: column `{name}`: {e}")))?;
    let arr = make_array(data);
    match arr.data_type() {
        DataType::FixedSizeList(_, n) => {
            // Re-label polars' nullable child as mlpipe's vector item field (same buffers).
            let list = arr.as_fixed_size_list();
            if list.values().null_count() > 0 {
                return Err(Error::Frame(format!(
                    "{FROM}: column `{name}` holds null elements inside its arrays; mlpipe vectors hold f64 values: fill them first (`col(\"{name}\").arr.eval(element().fill_null(f64::NAN))`, or fill_null before building the array)"
                )));
            }
            let vectors = arrow::array::FixedSizeListArray::try_new(
                Arc::new(vector::item_field()),
                *n,
                list.values().clone(),
                list.nulls().cloned(),
            )?;
            Ok(Arc::new(vectors))
        }
        DataType::Struct(_) => {
            // A sparse vector: polars' lists have 64-bit offsets; Spark's struct has 32-bit
            // ones. The cast rewrites the two offset buffers and shares the rest.
            let sparse = vector::sparse_vector_type();
            arrow::compute::cast(&arr, &sparse).map_err(|e| {
                Error::Frame(format!(
                    "{FROM}: column `{name}` does not convert to a sparse vector column: {e}"
                ))
            })
        }
        _ => Ok(arr),
    }
}

/// One arrow-rs array as a polars chunk over the same buffers.
fn export_chunk(name: &str, arr: &ArrayRef) -> Result<Box<dyn PaArray>> {
    let (array, schema) = arrow::ffi::to_ffi(&arr.to_data())
        .map_err(|e| Error::Frame(format!("{TO}: column `{name}`: {e}")))?;
    // SAFETY: see `import_chunk`; the same structs in the other direction.
    let (array, schema) = unsafe {
        (
            std::mem::transmute::<FFI_ArrowArray, pa_ffi::ArrowArray>(array),
            std::mem::transmute::<FFI_ArrowSchema, pa_ffi::ArrowSchema>(schema),
        )
    };
    // SAFETY: `schema` and `array` were just exported by arrow-rs and describe each other.
    unsafe {
        let field = pa_ffi::import_field_from_c(&schema)
            .map_err(|e| Error::Frame(format!("{TO}: column `{name}`: {e}")))?;
        pa_ffi::import_array_from_c(array, field.dtype().clone())
            .map_err(|e| Error::Frame(format!("{TO}: column `{name}`: {e}")))
    }
}
