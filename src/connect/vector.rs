//! Vector columns across the wire: Spark sends an ML vector over Arrow as its UDT struct
//! `{type: Int8, size: Int32, indices: List<Int32>, values: List<Float64>}` (1 = dense,
//! 0 = sparse, the layout Spark writes to Parquet); mlpipe holds one as
//! `FixedSizeList<Float64, n>`.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, FixedSizeListArray, Int32Array, Int8Array, ListArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, Float64Type, Int32Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::vector::{vector_array, vector_field, vector_size};
use crate::frame::DataFrame;
use crate::persist::format::vector_udt_json;

/// Whether `dt` is Spark's VectorUDT struct.
fn is_spark_vector(dt: &DataType) -> bool {
    match dt {
        DataType::Struct(f) => {
            let names: Vec<&str> = f.iter().map(|f| f.name().as_str()).collect();
            names == ["type", "size", "indices", "values"]
        }
        _ => false,
    }
}

/// A collected batch with Spark's vector structs turned into mlpipe's dense vector columns.
pub(crate) fn from_spark_batch(batch: &RecordBatch) -> Result<RecordBatch> {
    let schema = from_spark_schema(&batch.schema(), Some(batch))?;
    let cols = batch
        .columns()
        .iter()
        .zip(batch.schema().fields())
        .zip(schema.fields())
        .map(|((c, f), out)| {
            if is_spark_vector(f.data_type()) {
                dense_from_struct(c, f.name(), vector_size(out.data_type()).unwrap_or(0))
            } else {
                Ok(c.clone())
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(Arc::new(schema), cols)?)
}

/// The mlpipe schema of a Spark schema: vector columns get their length from the first
/// non-null row of `batch` (0 when there is none).
pub(crate) fn from_spark_schema(schema: &SchemaRef, batch: Option<&RecordBatch>) -> Result<Schema> {
    let fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if !is_spark_vector(f.data_type()) {
                return Ok(f.as_ref().clone());
            }
            let n = match batch {
                Some(b) => first_length(b.column(i), f.name())?,
                None => 0,
            };
            Ok(vector_field(f.name(), n, f.is_nullable()).with_metadata(f.metadata().clone()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn parts<'a>(
    col: &'a ArrayRef,
    name: &str,
) -> Result<(
    &'a StructArray,
    &'a Int8Array,
    &'a Int32Array,
    &'a ListArray,
    &'a ListArray,
)> {
    let bad = || {
        Error::Frame(format!(
            "column `{name}`: not a Spark ML vector column as sent by the server"
        ))
    };
    let s = col.as_struct_opt().ok_or_else(bad)?;
    let kind = s
        .column(0)
        .as_primitive_opt::<arrow::datatypes::Int8Type>()
        .ok_or_else(bad)?;
    let size = s
        .column(1)
        .as_primitive_opt::<Int32Type>()
        .ok_or_else(bad)?;
    let indices = s.column(2).as_list_opt::<i32>().ok_or_else(bad)?;
    let values = s.column(3).as_list_opt::<i32>().ok_or_else(bad)?;
    Ok((s, kind, size, indices, values))
}

fn row_length(
    p: &(
        &StructArray,
        &Int8Array,
        &Int32Array,
        &ListArray,
        &ListArray,
    ),
    row: usize,
) -> usize {
    if p.1.value(row) == 0 {
        p.2.value(row).max(0) as usize
    } else {
        p.4.value_length(row).max(0) as usize
    }
}

fn first_length(col: &ArrayRef, name: &str) -> Result<usize> {
    let p = parts(col, name)?;
    Ok((0..col.len())
        .find(|&r| p.0.is_valid(r))
        .map_or(0, |r| row_length(&p, r)))
}

/// Spark's vector structs (dense or sparse) as a dense vector column of length `n`.
fn dense_from_struct(col: &ArrayRef, name: &str, n: usize) -> Result<ArrayRef> {
    let p = parts(col, name)?;
    let rows = col.len();
    let mut out = vec![0.0; rows * n];
    for r in 0..rows {
        if !p.0.is_valid(r) {
            continue;
        }
        let len = row_length(&p, r);
        if len != n {
            return Err(Error::FeatureCount {
                stage: "RemoteFrame::collect",
                column: name.to_string(),
                expected: n,
                found: len,
            });
        }
        let vals = p.4.value(r);
        let vals = vals.as_primitive::<Float64Type>().values();
        let row = &mut out[r * n..(r + 1) * n];
        if p.1.value(r) == 0 {
            let idx = p.3.value(r);
            for (i, v) in idx
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .zip(vals.iter())
            {
                let i = usize::try_from(*i).ok().filter(|&i| i < n).ok_or_else(|| {
                    Error::Frame(format!(
                        "column `{name}`, row {r}: sparse vector index {i} out of range 0..{n}"
                    ))
                })?;
                row[i] = *v;
            }
        } else {
            row.copy_from_slice(vals);
        }
    }
    let nulls = p.0.nulls().cloned();
    Ok(Arc::new(vector_array(out, n, nulls)?))
}

/// The fields of Spark's VectorUDT struct, as Spark sends them.
fn spark_vector_fields() -> Fields {
    Fields::from(vec![
        Field::new("type", DataType::Int8, false),
        Field::new("size", DataType::Int32, true),
        Field::new_list(
            "indices",
            Field::new("element", DataType::Int32, false),
            true,
        ),
        Field::new_list(
            "values",
            Field::new("element", DataType::Float64, false),
            true,
        ),
    ])
}

/// A dense vector column as Spark's vector structs (type 1, no size or indices).
fn struct_from_dense(arr: &FixedSizeListArray) -> Result<ArrayRef> {
    let n = arr.value_length() as usize;
    let rows = arr.len();
    let values = arr.values().clone();
    let offsets = OffsetBuffer::from_lengths(std::iter::repeat_n(n, rows));
    let values = ListArray::try_new(
        Arc::new(Field::new("element", DataType::Float64, false)),
        offsets,
        values,
        None,
    )?;
    let s = StructArray::try_new(
        spark_vector_fields(),
        vec![
            Arc::new(Int8Array::from(vec![1i8; rows])) as ArrayRef,
            Arc::new(Int32Array::from(vec![None::<i32>; rows])) as ArrayRef,
            Arc::new(ListArray::new_null(
                Arc::new(Field::new("element", DataType::Int32, false)),
                rows,
            )) as ArrayRef,
            Arc::new(values) as ArrayRef,
        ],
        arr.nulls().cloned(),
    )?;
    Ok(Arc::new(s))
}

/// Spark's JSON name of a plain Arrow type, for the schema of an upload.
fn spark_type(dt: &DataType) -> Option<Value> {
    Some(json!(match dt {
        DataType::Boolean => "boolean",
        DataType::Int8 => "byte",
        DataType::Int16 => "short",
        DataType::Int32 => "integer",
        DataType::Int64 => "long",
        DataType::Float32 => "float",
        DataType::Float64 => "double",
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "string",
        DataType::Binary | DataType::LargeBinary => "binary",
        DataType::Date32 => "date",
        _ if vector_size(dt).is_some() => return Some(vector_udt_json()),
        _ => return None,
    }))
}

/// `df` as one batch for an upload, vector columns as Spark's structs, and the Spark schema
/// JSON that makes the server see them as ML vectors.
pub(crate) fn to_spark_batch(df: &DataFrame) -> Result<(RecordBatch, String)> {
    let batch = df.collect()?;
    let mut fields = Vec::new();
    let mut cols = Vec::new();
    let mut json_fields = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        let ty = spark_type(f.data_type()).ok_or_else(|| {
            Error::Frame(format!(
                "create_frame: column `{}` has type {}, which mlpipe does not upload to Spark; cast it to a number, string, boolean, date or vector column",
                f.name(),
                f.data_type()
            ))
        })?;
        json_fields.push(
            json!({"name": f.name(), "type": ty, "nullable": f.is_nullable(), "metadata": {}}),
        );
        if vector_size(f.data_type()).is_some() {
            let s = struct_from_dense(c.as_fixed_size_list())?;
            fields.push(Field::new(f.name(), s.data_type().clone(), f.is_nullable()));
            cols.push(s);
        } else {
            fields.push(
                f.as_ref()
                    .clone()
                    .with_metadata(std::collections::HashMap::new()),
            );
            cols.push(c.clone());
        }
    }
    let batch = crate::frame::new_batch(Arc::new(Schema::new(fields)), cols, batch.num_rows())?;
    let schema = json!({"type": "struct", "fields": json_fields}).to_string();
    Ok((batch, schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;

    #[test]
    fn dense_vectors_round_trip_through_spark_structs() {
        let v = vector_array(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, None).unwrap();
        let s = struct_from_dense(&v).unwrap();
        let field = Field::new("f", s.data_type().clone(), true);
        let b = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![s]).unwrap();
        let back = from_spark_batch(&b).unwrap();
        assert_eq!(vector_size(back.schema().field(0).data_type()), Some(3));
        let arr = back.column(0).as_fixed_size_list();
        let vals = arr.values().as_primitive::<Float64Type>().values().to_vec();
        assert_eq!(vals, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn sparse_vectors_become_dense_and_bad_indices_are_errors() {
        // Row 0: sparse (size 3, {1: 7.0}); row 1: dense [1, 2, 3].
        let idx =
            ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)]), None]);
        let vals = ListArray::from_iter_primitive::<Float64Type, _, _>(vec![
            Some(vec![Some(7.0)]),
            Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
        ]);
        let fields = Fields::from(vec![
            Field::new("type", DataType::Int8, false),
            Field::new("size", DataType::Int32, true),
            Field::new("indices", idx.data_type().clone(), true),
            Field::new("values", vals.data_type().clone(), true),
        ]);
        let s = StructArray::try_new(
            fields,
            vec![
                Arc::new(Int8Array::from(vec![0i8, 1])) as ArrayRef,
                Arc::new(Int32Array::from(vec![Some(3), None])) as ArrayRef,
                Arc::new(idx) as ArrayRef,
                Arc::new(vals) as ArrayRef,
            ],
            None,
        )
        .unwrap();
        let field = Field::new("features", s.data_type().clone(), true);
        let b =
            RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![Arc::new(s)]).unwrap();
        let back = from_spark_batch(&b).unwrap();
        let arr = back.column(0).as_fixed_size_list();
        let vals = arr.values().as_primitive::<Float64Type>().values().to_vec();
        assert_eq!(vals, vec![0.0, 7.0, 0.0, 1.0, 2.0, 3.0]);
        let _ = Float64Array::from(vec![0.0]);
    }
}
