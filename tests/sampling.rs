//! `random_split` and `sample` give Spark's rows (fixtures written by Spark 4.3.0).

use crate::common;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{Int32Type, Int64Type};
use mlpipe::prelude::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark2/{name}",
        common::repo_root().display()
    )
}

/// The `id` column of every partition, as Spark would list them partition by partition.
fn ids(df: &DataFrame) -> Vec<i64> {
    df.column("id")
        .unwrap()
        .chunks
        .iter()
        .flat_map(|c| match c.data_type() {
            arrow::datatypes::DataType::Int32 => c
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .map(|v| *v as i64)
                .collect::<Vec<_>>(),
            _ => c.as_primitive::<Int64Type>().values().to_vec(),
        })
        .collect()
}

fn as_ids(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

#[test]
fn random_split_gives_sparks_rows_for_one_and_three_partitions() {
    let df = DataFrame::read_csv(fixture("random_split_data.csv"), &CsvOptions::default()).unwrap();
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("random_split.json")).unwrap())
            .unwrap();
    let mut checked = 0;
    for (layout, parts) in [("one_partition", 1), ("three_partitions", 3)] {
        // Spark's layouts: the file as one partition; `sc.parallelize(rows, 3)` = rows 40p..40p+39.
        let input = df.repartition(parts).unwrap();
        for case in spec["layouts"][layout]["splits"].as_array().unwrap() {
            let seed = case["seed"].as_i64().unwrap();
            let weights: Vec<f64> = case["weights"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w.as_f64().unwrap())
                .collect();
            let splits = input.random_split(&weights, seed).unwrap();
            let expected = case["ids"].as_array().unwrap();
            assert_eq!(splits.len(), expected.len());
            for (s, e) in splits.iter().zip(expected) {
                assert_eq!(
                    ids(s),
                    as_ids(e),
                    "{layout} seed {seed} weights {weights:?}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 24);
}

#[test]
fn random_split_destructures_an_array_of_weights() {
    let df = DataFrame::read_csv(fixture("random_split_data.csv"), &CsvOptions::default())
        .unwrap()
        .repartition(1)
        .unwrap();
    let [train, test] = df.random_split([0.8, 0.2], 1).unwrap();
    // random_split.json, one_partition, seed 1, [0.8, 0.2]: sizes [99, 21].
    assert_eq!((train.num_rows(), test.num_rows()), (99, 21));
}

#[test]
fn sample_gives_sparks_rows() {
    // PySpark 4.3.0, local[2] (tests/pyspark/sampling.py):
    // spark.range(0, 40, 1, 2).sample(0.3, 11) and .sample(True, 0.5, 3).
    let text = std::fs::read_to_string(fixture("sample.json")).unwrap();
    let spec: Value = serde_json::from_str(&text).unwrap();
    let batch = arrow::array::RecordBatch::try_from_iter([(
        "id",
        std::sync::Arc::new(arrow::array::Int64Array::from(
            (0..40).collect::<Vec<i64>>(),
        )) as arrow::array::ArrayRef,
    )])
    .unwrap();
    let df = DataFrame::from_batches(vec![batch])
        .unwrap()
        .repartition(2)
        .unwrap();
    for case in spec["cases"].as_array().unwrap() {
        let with = case["with_replacement"].as_bool().unwrap();
        let fraction = case["fraction"].as_f64().unwrap();
        let seed = case["seed"].as_i64().unwrap();
        let got = ids(&df.sample(with, fraction, seed).unwrap());
        assert_eq!(got, as_ids(&case["ids"]), "{case}");
    }
}

#[test]
fn bad_fractions_and_weights_are_errors() {
    let df = DataFrame::read_csv(fixture("random_split_data.csv"), &CsvOptions::default()).unwrap();
    let e = df.sample(false, 1.5, 1).unwrap_err().to_string();
    assert_eq!(
        e,
        "DataFrame: sample: fraction must be in [0, 1] when with_replacement is false, got 1.5"
    );
    let e = df.random_split([-1.0, 2.0], 1).unwrap_err().to_string();
    assert!(
        e.contains("random_split: weights must be finite and non-negative, got [-1.0, 2.0]"),
        "{e}"
    );
}
