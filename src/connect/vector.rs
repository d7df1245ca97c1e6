//! Vector columns across the wire: Spark sends an ML vector over Arrow as its UDT struct
//! `{type: Int8, size: Int32, indices: List<Int32>, values: List<Float64>}` (1 = dense,
//! 0 = sparse, the layout Spark writes to Parquet); mlpipe holds one as
//! `FixedSizeList<Float64, n>`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, Int32Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::vector::{
    is_sparse_vector_type, vector_array, vector_field, vector_size, with_vector_size, At, Row,
    SparseVectorBuilder, VectorBlock,
};
use crate::frame::DataFrame;
use crate::persist::format::vector_udt_json;

const STAGE: &str = "RemoteFrame::collect";

/// The vector size of Spark's vector column `col`: the first non-null row's (a dense row's
/// length, a sparse row's `size`), 0 when every row is null. [`VectorBlock`] then checks
/// that every row has it.
fn first_size(col: &ArrayRef, name: &str) -> Result<usize> {
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
    let values = s.column(3).as_list_opt::<i32>().ok_or_else(bad)?;
    let Some(r) = (0..s.len()).find(|&r| s.is_valid(r)) else {
        return Ok(0);
    };
    let n = if kind.value(r) == 0 {
        size.value(r)
    } else {
        values.value_length(r)
    };
    usize::try_from(n).map_err(|_| {
        Error::Frame(format!(
            "column `{name}`, row {r}: negative vector size {n}"
        ))
    })
}

/// A collected batch as mlpipe columns: Spark's vectors stay in Spark's struct layout as
/// mlpipe sparse vector columns (the size recorded in the field), except a column whose
/// rows are all dense, which becomes a dense vector column.
pub(crate) fn from_spark_batch(batch: &RecordBatch, partition: usize) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut cols = Vec::with_capacity(batch.num_columns());
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if !is_sparse_vector_type(f.data_type()) {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
            continue;
        }
        let n = first_size(c, f.name())?;
        let at = At {
            stage: STAGE,
            column: f.name(),
            partition,
        };
        let block = VectorBlock::new(c.as_ref(), n, at)?;
        let all_dense = (0..block.len()).all(|r| !matches!(block.row(r), Some(Row::Sparse { .. })));
        if all_dense {
            let mut values = vec![0.0; block.len() * n];
            block.write_dense_rows(0, &mut values);
            fields.push(
                vector_field(f.name(), n, f.is_nullable()).with_metadata(f.metadata().clone()),
            );
            cols.push(Arc::new(vector_array(values, n, c.nulls().cloned())?) as ArrayRef);
        } else {
            fields.push(with_vector_size(f.as_ref().clone(), n));
            cols.push(c.clone());
        }
    }
    crate::frame::new_batch(
        Arc::new(Schema::new_with_metadata(
            fields,
            batch.schema().metadata().clone(),
        )),
        cols,
        batch.num_rows(),
    )
}

/// The mlpipe schema of a Spark schema with no rows: vector columns of unknown size 0.
pub(crate) fn from_spark_schema(schema: &SchemaRef) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_sparse_vector_type(f.data_type()) {
                with_vector_size(f.as_ref().clone(), 0)
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// A dense vector column as Spark's vector structs (dense rows, `type = 1`).
fn struct_from_dense(arr: &ArrayRef, name: &str, n: usize) -> Result<ArrayRef> {
    let at = At {
        stage: "Session::create_frame",
        column: name,
        partition: 0,
    };
    let block = VectorBlock::new(arr.as_ref(), n, at)?;
    let mut b = SparseVectorBuilder::with_capacity(n, block.len(), block.len() * n);
    for r in 0..block.len() {
        match block.row(r) {
            Some(row) => b.push_row(row)?,
            None => b.push_null(),
        }
    }
    b.finish()
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
        _ if vector_size(dt).is_some() || is_sparse_vector_type(dt) => {
            return Some(vector_udt_json());
        }
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
        if let Some(n) = vector_size(f.data_type()) {
            let s = struct_from_dense(c, f.name(), n)?;
            fields.push(Field::new(f.name(), s.data_type().clone(), f.is_nullable()));
            cols.push(s);
        } else {
            // Other columns, sparse vector columns included, are already in Spark's layout.
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
    use crate::frame::vector::field_vector_size;
    use arrow::array::{Int32Array, Int8Array, ListArray, StructArray};
    use arrow::datatypes::{Fields, Float64Type};

    fn batch_of(col: ArrayRef) -> RecordBatch {
        let field = Field::new("v", col.data_type().clone(), true);
        RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![col]).unwrap()
    }

    #[test]
    fn dense_vectors_round_trip_through_spark_structs() {
        let v: ArrayRef =
            Arc::new(vector_array(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 3, None).unwrap());
        let s = struct_from_dense(&v, "v", 3).unwrap();
        assert!(is_sparse_vector_type(s.data_type()));
        let back = from_spark_batch(&batch_of(s), 0).unwrap();
        assert_eq!(vector_size(back.schema().field(0).data_type()), Some(3));
        let arr = back.column(0).as_fixed_size_list();
        let vals = arr.values().as_primitive::<Float64Type>().values().to_vec();
        assert_eq!(vals, vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    fn spark_rows(
        kinds: Vec<i8>,
        sizes: Vec<Option<i32>>,
        idx: Vec<Option<Vec<Option<i32>>>>,
        vals: Vec<Option<Vec<Option<f64>>>>,
    ) -> ArrayRef {
        let idx = ListArray::from_iter_primitive::<Int32Type, _, _>(idx);
        let vals = ListArray::from_iter_primitive::<Float64Type, _, _>(vals);
        let fields = Fields::from(vec![
            Field::new("type", DataType::Int8, false),
            Field::new("size", DataType::Int32, true),
            Field::new("indices", idx.data_type().clone(), true),
            Field::new("values", vals.data_type().clone(), true),
        ]);
        Arc::new(
            StructArray::try_new(
                fields,
                vec![
                    Arc::new(Int8Array::from(kinds)) as ArrayRef,
                    Arc::new(Int32Array::from(sizes)) as ArrayRef,
                    Arc::new(idx) as ArrayRef,
                    Arc::new(vals) as ArrayRef,
                ],
                None,
            )
            .unwrap(),
        )
    }

    #[test]
    fn sparse_rows_stay_sparse_with_their_size_and_bad_rows_are_errors() {
        // Row 0: sparse (size 3, {1: 7.0}); row 1: dense [1, 2, 3].
        let col = spark_rows(
            vec![0, 1],
            vec![Some(3), None],
            vec![Some(vec![Some(1)]), None],
            vec![
                Some(vec![Some(7.0)]),
                Some(vec![Some(1.0), Some(2.0), Some(3.0)]),
            ],
        );
        let back = from_spark_batch(&batch_of(col), 0).unwrap();
        assert_eq!(field_vector_size(back.schema().field(0)), Some(3));
        let at = At {
            stage: "t",
            column: "v",
            partition: 0,
        };
        let block = VectorBlock::new(back.column(0).as_ref(), 3, at).unwrap();
        assert_eq!(block.row(0).unwrap().to_vec(), vec![0.0, 7.0, 0.0]);
        assert_eq!(block.row(1).unwrap().to_vec(), vec![1.0, 2.0, 3.0]);

        // A dense row of another length than the first row's: an error naming the column.
        let col = spark_rows(
            vec![1, 1],
            vec![None, None],
            vec![None, None],
            vec![Some(vec![Some(1.0), Some(2.0)]), Some(vec![Some(1.0)])],
        );
        let err = from_spark_batch(&batch_of(col), 0).unwrap_err().to_string();
        assert!(err.contains("`v`"), "{err}");
    }
}
