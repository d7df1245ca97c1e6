//! Bad sparse input: unsorted, repeated or out-of-range indices, vectors of another size in
//! a column, null vectors and ragged lists are clear errors naming the stage, the column,
//! the partition and the row — never a panic or a silently wrong result.

use std::sync::Arc;

use mlpipe::arrow::array::{
    ArrayRef, Float64Array, Int32Array, Int8Array, ListArray, RecordBatch, StructArray,
};
use mlpipe::arrow::buffer::{NullBuffer, OffsetBuffer};
use mlpipe::arrow::datatypes::{DataType, Field, Schema};
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::frame::vector;
use mlpipe::prelude::*;

/// A sparse vector column of declared size `size` from raw rows `(indices, values)`,
/// bypassing the builder's checks (as a file written elsewhere could), plus `label`.
fn frame(size: usize, rows: &[(i32, &[i32], &[f64])], nulls: Option<Vec<bool>>) -> DataFrame {
    let fields = vector::sparse_vector_fields();
    let list = |i: usize| match fields[i].data_type() {
        DataType::List(f) => f.clone(),
        _ => unreachable!(),
    };
    let idx: Vec<i32> = rows.iter().flat_map(|r| r.1.iter().copied()).collect();
    let vals: Vec<f64> = rows.iter().flat_map(|r| r.2.iter().copied()).collect();
    let arr = StructArray::try_new(
        fields.clone(),
        vec![
            Arc::new(Int8Array::from(vec![0i8; rows.len()])) as ArrayRef,
            Arc::new(Int32Array::from(
                rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            )),
            Arc::new(ListArray::new(
                list(2),
                OffsetBuffer::from_lengths(rows.iter().map(|r| r.1.len())),
                Arc::new(Int32Array::from(idx)),
                None,
            )),
            Arc::new(ListArray::new(
                list(3),
                OffsetBuffer::from_lengths(rows.iter().map(|r| r.2.len())),
                Arc::new(Float64Array::from(vals)),
                None,
            )),
        ],
        nulls.map(NullBuffer::from),
    )
    .unwrap();
    let labels: Vec<f64> = (0..rows.len()).map(|i| (i % 2) as f64).collect();
    let schema = Arc::new(Schema::new(vec![
        vector::sparse_vector_field("features", size, true),
        Field::new("label", DataType::Float64, false),
        Field::new("x", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(arr),
            Arc::new(Float64Array::from(labels.clone())),
            Arc::new(Float64Array::from(labels)),
        ],
    )
    .unwrap();
    DataFrame::try_new(schema, vec![batch]).unwrap()
}

const HINT: &str = "sparse vectors need strictly increasing indices below the vector size and one value per index (Spark's Vectors.sparse)";

#[test]
fn unsorted_indices_are_named_by_every_kind_of_stage() {
    let df = frame(4, &[(4, &[0], &[1.0]), (4, &[2, 1], &[1.0, 2.0])], None);
    let e = LogisticRegression::new().fit(&df).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("LogisticRegression: sparse indices not strictly increasing (2 then 1) in column `features` (partition 0, row 1); {HINT}")
    );
    let e = StandardScaler::new()
        .with_input_col("features")
        .with_output_col("s")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("StandardScaler: sparse indices not strictly increasing (2 then 1) in column `features` (partition 0, row 1)"), "{e}");
    let e = VectorAssembler::new()
        .with_input_cols(["x", "features"])
        .with_output_col("v")
        .transform(&df)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("VectorAssembler: sparse indices not strictly increasing (2 then 1) in column `features` (partition 0, row 1)"), "{e}");
    // A model fitted on good rows refuses the bad row at scoring time, naming itself.
    let good = frame(4, &[(4, &[0], &[1.0]), (4, &[1, 2], &[1.0, 2.0])], None);
    let m = LogisticRegression::new().fit(&good).unwrap();
    let e = m.transform(&df).unwrap_err().to_string();
    assert!(e.starts_with("LogisticRegressionModel: sparse indices not strictly increasing (2 then 1) in column `features` (partition 0, row 1)"), "{e}");
    // Repeated indices are unsorted too.
    let dup = frame(4, &[(4, &[1, 1], &[1.0, 2.0])], None);
    let e = LogisticRegression::new().fit(&dup).unwrap_err().to_string();
    assert!(e.contains("not strictly increasing (1 then 1)"), "{e}");
}

#[test]
fn out_of_range_indices_and_mixed_sizes_are_errors() {
    let df = frame(3, &[(3, &[0, 3], &[1.0, 1.0]), (3, &[], &[])], None);
    let e = LogisticRegression::new().fit(&df).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("LogisticRegression: sparse index 3 out of range for a vector of size 3 in column `features` (partition 0, row 0); {HINT}")
    );
    let neg = frame(3, &[(3, &[-1], &[1.0])], None);
    let e = LogisticRegression::new().fit(&neg).unwrap_err().to_string();
    assert!(e.contains("sparse index -1 out of range"), "{e}");
    // Row 1 says size 5 in a column of size 3.
    let mixed = frame(3, &[(3, &[0], &[1.0]), (5, &[4], &[1.0])], None);
    let e = StandardScaler::new()
        .with_input_col("features")
        .with_output_col("s")
        .fit(&mixed)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "StandardScaler: a sparse vector of size 5 where the column's vectors have size 3 in column `features` (partition 0, row 1); every vector of a column must have the same size");
    // More indices than values.
    let ragged = frame(3, &[(3, &[0, 1], &[1.0])], None);
    let e = LogisticRegression::new()
        .fit(&ragged)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a sparse vector with 2 indices but 1 values") && e.contains("row 0"),
        "{e}"
    );
}

#[test]
fn null_vectors_and_ragged_lists_are_errors() {
    let df = frame(
        3,
        &[(3, &[0], &[1.0]), (3, &[1], &[1.0])],
        Some(vec![true, false]),
    );
    let e = LogisticRegression::new().fit(&df).unwrap_err().to_string();
    assert!(
        e.starts_with("LogisticRegression: null vector in column `features` (partition 0, row 1)"),
        "{e}"
    );
    // array_to_vector: every list of a vector column must have one length.
    let lists =
        ListArray::from_iter_primitive::<mlpipe::arrow::datatypes::Float64Type, _, _>(vec![
            Some(vec![Some(1.0), Some(2.0)]),
            Some(vec![Some(3.0)]),
        ]);
    let b = RecordBatch::try_from_iter([("a", Arc::new(lists) as ArrayRef)]).unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    let e = df.array_to_vector("a", "v").unwrap_err().to_string();
    assert_eq!(e, "array_to_vector: a list of 1 values where partition 0, row 0 has 2 in column `a` (partition 0, row 1); a vector column has one size: every list must have the same length");
    let e = df.vector_to_array("a", "b").unwrap_err().to_string();
    assert!(
        e.starts_with("vector_to_array: column `a` has type List"),
        "{e}"
    );
}
