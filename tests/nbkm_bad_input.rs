//! Bad input to NaiveBayes and KMeans: a clear error naming the stage, column and row (with
//! Spark's rule in the words Spark uses), or Spark's documented result.

use std::sync::Arc;

use mlpipe::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mlpipe::classification::NaiveBayes;
use mlpipe::clustering::KMeans;
use mlpipe::frame::vector::vector_array;
use mlpipe::prelude::*;

fn frame(x: Vec<f64>, n: usize, label: Vec<f64>) -> DataFrame {
    let b = RecordBatch::try_from_iter([
        (
            "features",
            Arc::new(vector_array(x, n, None).unwrap()) as ArrayRef,
        ),
        ("label", Arc::new(Float64Array::from(label)) as ArrayRef),
    ])
    .unwrap();
    DataFrame::from_batches(vec![b]).unwrap()
}

#[test]
fn multinomial_refuses_negative_features() {
    let df = frame(vec![1.0, 2.0, 3.0, -0.5], 2, vec![0.0, 1.0]);
    let e = NaiveBayes::new().fit(&df).unwrap_err().to_string();
    assert_eq!(
        e,
        "NaiveBayes: vector [3.0, -0.5] in column `features` (partition 0, row 1); Vector values MUST NOT be Negative, NaN or Infinity, but got [3.0, -0.5] (modelType \"multinomial\")"
    );
}

#[test]
fn bernoulli_refuses_values_other_than_0_and_1() {
    let df = frame(vec![1.0, 0.0, 2.0, 1.0], 2, vec![0.0, 1.0]);
    let e = NaiveBayes::new()
        .with_model_type("bernoulli")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "NaiveBayes: vector [2.0, 1.0] in column `features` (partition 0, row 1); Vector values MUST be in {0, 1}, but got [2.0, 1.0] (modelType \"bernoulli\")"
    );
    // The fitted model refuses such a row too, with Spark's model-time message.
    let ok = frame(vec![1.0, 0.0, 0.0, 1.0], 2, vec![0.0, 1.0]);
    let m = NaiveBayes::new()
        .with_model_type("bernoulli")
        .fit(&ok)
        .unwrap();
    let e = m.transform(&df).unwrap_err().to_string();
    assert!(
        e.ends_with("(partition 0, row 1); Bernoulli naive Bayes requires 0 or 1 feature values but found 2"),
        "{e}"
    );
}

#[test]
fn naive_bayes_refuses_non_integer_labels() {
    let df = frame(vec![1.0, 2.0, 3.0, 4.0], 2, vec![0.0, 1.5]);
    let e = NaiveBayes::new().fit(&df).unwrap_err().to_string();
    assert_eq!(
        e,
        "NaiveBayes: label 1.5 in column `label` (partition 0, row 1); Labels MUST be Integers, but got 1.5"
    );
}

#[test]
fn kmeans_with_k_above_the_distinct_points_returns_fewer_centres_as_spark() {
    // Spark's k-means|| keeps only distinct candidates and returns them when there are at
    // most k: 2 distinct points and k = 3 give a 2-centre model; the summary keeps k = 3.
    let df = frame(
        vec![1.0, 1.0, 1.0, 1.0, 5.0, 5.0, 1.0, 1.0],
        2,
        vec![0.0; 4],
    );
    for mode in ["k-means||", "random"] {
        let m = KMeans::new()
            .with_k(3)
            .with_init_mode(mode)
            .fit(&df)
            .unwrap();
        let mut c = m.cluster_centers().to_vec();
        c.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(c, vec![vec![1.0, 1.0], vec![5.0, 5.0]], "{mode}");
        let s = m.summary().unwrap();
        assert_eq!(s.k, 3);
        assert_eq!(s.cluster_sizes.iter().sum::<u64>(), 4);
        assert_eq!(s.cluster_sizes.len(), 3);
    }
}

#[test]
fn kmeans_cosine_refuses_a_zero_vector() {
    let df = frame(vec![1.0, 1.0, 0.0, 0.0, 5.0, 5.0], 2, vec![0.0; 3]);
    let e = KMeans::new()
        .with_distance_measure("cosine")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "KMeans: zero vector in column `features` (partition 0, row 1); Cosine distance is not defined for zero-length vectors; drop such rows or use distanceMeasure=euclidean"
    );
}

#[test]
fn kmeans_empty_input_is_an_error() {
    let df = frame(vec![], 2, vec![]);
    let e = KMeans::new().fit(&df).unwrap_err().to_string();
    assert!(e.starts_with("KMeans: the input has no rows"), "{e}");
}

/// One stored row of a `VectorUDT` column: type, size, indices, values.
type UdtRow = (i8, Option<i32>, Vec<i32>, Vec<f64>);

/// A sparse-typed (Spark `VectorUDT`) features column from its stored rows, built without
/// the builder's checks (so bad indices can be written).
fn udt_frame(rows: &[UdtRow], label: Vec<f64>) -> DataFrame {
    use mlpipe::arrow::array::{Int32Array, Int8Array, ListArray, StructArray};
    use mlpipe::arrow::buffer::OffsetBuffer;
    use mlpipe::arrow::datatypes::{DataType, Field, Schema};
    let fields = mlpipe::frame::vector::sparse_vector_fields();
    let (DataType::List(ii), DataType::List(vi)) = (fields[2].data_type(), fields[3].data_type())
    else {
        unreachable!()
    };
    let list = |item, lens: Vec<usize>, child: ArrayRef| -> ArrayRef {
        Arc::new(ListArray::new(
            item,
            OffsetBuffer::from_lengths(lens),
            child,
            None,
        ))
    };
    let feats: ArrayRef = Arc::new(
        StructArray::try_new(
            fields.clone(),
            vec![
                Arc::new(Int8Array::from(
                    rows.iter().map(|r| r.0).collect::<Vec<_>>(),
                )),
                Arc::new(Int32Array::from(
                    rows.iter().map(|r| r.1).collect::<Vec<_>>(),
                )),
                list(
                    ii.clone(),
                    rows.iter().map(|r| r.2.len()).collect(),
                    Arc::new(Int32Array::from(
                        rows.iter().flat_map(|r| r.2.clone()).collect::<Vec<_>>(),
                    )),
                ),
                list(
                    vi.clone(),
                    rows.iter().map(|r| r.3.len()).collect(),
                    Arc::new(Float64Array::from(
                        rows.iter().flat_map(|r| r.3.clone()).collect::<Vec<_>>(),
                    )),
                ),
            ],
            None,
        )
        .unwrap(),
    );
    let schema = Schema::new(vec![
        mlpipe::frame::vector::sparse_vector_field("features", 3, true),
        Field::new("label", DataType::Float64, true),
    ]);
    let b = RecordBatch::try_new(
        Arc::new(schema),
        vec![feats, Arc::new(Float64Array::from(label))],
    )
    .unwrap();
    DataFrame::from_batches(vec![b]).unwrap()
}

/// Sparse rows' indices are checked as the fit's one pass reads them (not when the column
/// is opened): bad indices still give the column reader's error naming the stage, column
/// and row, for every model type; a sparse row with a value other than 0/1 gets
/// bernoulli's message with the row written out densely.
#[test]
fn naive_bayes_names_the_sparse_row_with_bad_indices_or_values() {
    let dense = |v: &[f64]| (1i8, None, vec![], v.to_vec());
    let sparse = |i: &[i32], v: &[f64]| (0i8, Some(3), i.to_vec(), v.to_vec());
    let cases = [
        (
            sparse(&[2, 0], &[1.0, 1.0]),
            "sparse indices not strictly increasing (2 then 0)",
        ),
        (
            sparse(&[1, 3], &[1.0, 1.0]),
            "sparse index 3 out of range for a vector of size 3",
        ),
        (
            sparse(&[-1], &[1.0]),
            "sparse index -1 out of range for a vector of size 3",
        ),
    ];
    for (bad, msg) in cases {
        let df = udt_frame(
            &[
                dense(&[1.0, 0.0, 1.0]),
                sparse(&[1], &[1.0]),
                bad,
                sparse(&[], &[]),
            ],
            vec![0.0, 1.0, 1.0, 0.0],
        );
        for kind in ["bernoulli", "multinomial", "complement", "gaussian"] {
            let e = NaiveBayes::new()
                .with_model_type(kind)
                .fit(&df)
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("NaiveBayes: ")
                    && e.contains("column `features` (partition 0, row 2)")
                    && e.contains(msg),
                "{kind}: {e}"
            );
        }
    }
    let df = udt_frame(
        &[sparse(&[0], &[1.0]), sparse(&[1, 2], &[1.0, 2.0])],
        vec![0.0, 1.0],
    );
    let e = NaiveBayes::new()
        .with_model_type("bernoulli")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "NaiveBayes: vector [0.0, 1.0, 2.0] in column `features` (partition 0, row 1); Vector values MUST be in {0, 1}, but got [0.0, 1.0, 2.0] (modelType \"bernoulli\")"
    );
}
