//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::Float64Type;
use arrow::datatypes::{DataType, Field};
use mlpipe::prelude::*;

/// Path of a file under tests/fixtures/spark.
/// The repository root: this file is shared by the root crate's tests and by the `cli` and
/// `bench` workspace members, whose manifests sit one level down.
pub fn repo_root() -> std::path::PathBuf {
    let here = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if here.join("tests/fixtures").is_dir() {
        here
    } else {
        here.parent()
            .expect("a workspace member sits under the root")
            .to_path_buf()
    }
}

pub fn spark_fixture(name: &str) -> String {
    format!("{}/tests/fixtures/spark/{name}", repo_root().display())
}

/// The fixture's JSON file.
pub fn spark_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(spark_fixture(name)).unwrap()).unwrap()
}

/// A JSON array of numbers.
pub fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

/// Reads a fixture CSV.
pub fn read(name: &str) -> DataFrame {
    DataFrame::read_csv(spark_fixture(name), &CsvOptions::default()).unwrap()
}

/// The 20 feature columns of the fixtures, in Spark's order.
pub fn feature_cols() -> Vec<String> {
    let j = spark_json("spark_pipeline_lr.json");
    j["feature_cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// All values of a Float64 column, in row order.
pub fn f64_column(df: &DataFrame, name: &str) -> Vec<f64> {
    let c = df.column(name).unwrap();
    c.chunks
        .iter()
        .flat_map(|a| {
            arrow::compute::cast(a, &arrow::datatypes::DataType::Float64)
                .unwrap()
                .as_primitive::<Float64Type>()
                .values()
                .to_vec()
        })
        .collect()
}

/// All rows of a vector column, dense or sparse (a null sparse row reads as zeros).
pub fn vector_rows(df: &DataFrame, name: &str) -> Vec<Vec<f64>> {
    use mlpipe::frame::vector;
    let c = df.column(name).unwrap();
    let mut out = Vec::new();
    if vector::is_sparse_vector_type(c.field.data_type()) {
        let n = vector::field_vector_size(&c.field).unwrap();
        for (p, a) in c.chunks.iter().enumerate() {
            let at = vector::At {
                stage: "test",
                column: name,
                partition: p,
            };
            let b = vector::VectorBlock::new(a.as_ref(), n, at).unwrap();
            let d = b.to_dense();
            out.extend(d.chunks(n.max(1)).take(b.len()).map(|r| r.to_vec()));
        }
        return out;
    }
    for a in &c.chunks {
        let l = a.as_fixed_size_list();
        let n = l.value_length() as usize;
        let v = mlpipe::frame::vector::dense_values(l).unwrap();
        out.extend(v.chunks(n.max(1)).map(|r| r.to_vec()));
    }
    out
}

/// The fixtures' 20 feature columns assembled into `features`, rows with a null skipped
/// (as the fixtures' Spark pipelines did).
pub fn assembled(df: &DataFrame) -> DataFrame {
    let cols = feature_cols();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    mlpipe::feature::VectorAssembler::new()
        .with_input_cols(&refs)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(df)
        .unwrap()
}

/// Adds `contract_label` (month-to-month=0, one-year=1, two-year=2, the fixture's mapping).
pub fn with_contract_label(df: &DataFrame) -> DataFrame {
    let c = df.column("contract").unwrap();
    let chunks: Vec<ArrayRef> = c
        .chunks
        .iter()
        .map(|a| {
            let s = a
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            let v: Float64Array = s
                .iter()
                .map(|x| match x.unwrap() {
                    "month-to-month" => 0.0,
                    "one-year" => 1.0,
                    "two-year" => 2.0,
                    o => panic!("{o}"),
                })
                .map(Some)
                .collect();
            Arc::new(v) as ArrayRef
        })
        .collect();
    df.with_column(
        Field::new("contract_label", DataType::Float64, false),
        chunks,
    )
    .unwrap()
}

/// Spark's fixture tolerance for fitted coefficients: each within 1e-4 relative or 1e-6
/// absolute.
pub fn assert_coefs(name: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            approx::relative_eq!(*g, *w, max_relative = 1e-4, epsilon = 1e-6),
            "{name}[{i}]: mlpipe {g} vs Spark {w}"
        );
    }
}

/// The Python with PySpark 4.x and numpy that `MLPIPE_PYSPARK` names, for the tests marked
/// `#[ignore = "needs PySpark …"]`, which `.ci/run` runs with `--ignored`.
pub fn pyspark_python() -> String {
    std::env::var("MLPIPE_PYSPARK").expect(
        "this test needs PySpark 4.3: set MLPIPE_PYSPARK to a Python with pyspark 4.x and numpy \
         (.ci/run installs one into target/ci-venv)",
    )
}

/// Runs `tests/pyspark/<script>` with `args` under the PySpark Python ([`pyspark_python`]),
/// asserts that it succeeded (its stdout and stderr in the failure message), prints its
/// stdout and returns it. The round-trip tests' one way of asking PySpark to check mlpipe's
/// files.
pub fn run_pyspark_check(script: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) -> String {
    let python = pyspark_python();
    let out = std::process::Command::new(&python)
        .arg(repo_root().join("tests/pyspark").join(script))
        .args(args.iter().map(|a| a.as_ref()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "PySpark check {script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}");
    stdout
}

/// Path of a file under tests/fixtures/spark2 (Spark 4.3's second fixture set).
pub fn spark2(name: &str) -> String {
    format!("{}/tests/fixtures/spark2/{name}", repo_root().display())
}

/// A spark2 case's JSON file.
pub fn spark2_json(case: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(spark2(&format!("{case}.json"))).unwrap())
        .unwrap()
}

/// Reads a spark2 CSV as Spark's `inferSchema` would (one partition for these small files).
pub fn read2(name: &str) -> DataFrame {
    DataFrame::read_csv(spark2(name), &CsvOptions::default()).unwrap()
}

/// The uid and params (Spark's defaults overlaid by the set ones, as JSON) that Spark saved
/// for the stage of the unfitted pipeline `tests/fixtures/spark2/<pipeline>` whose
/// directory name contains `class`, read with mlpipe's own metadata reader.
pub fn saved_stage_params(pipeline: &str, class: &str) -> (String, serde_json::Value) {
    let dir = format!(
        "{}/tests/fixtures/spark2/{pipeline}/stages",
        repo_root().display()
    );
    let stage = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains(class))
        .unwrap_or_else(|| panic!("no {class} stage in {dir}"));
    let md = mlpipe::persist::read_metadata(&stage).unwrap();
    (md.uid, serde_json::Value::Object(md.params))
}

/// Panics naming each `tests/*.rs` file of the package at `manifest_dir` that `main_rs` (the
/// text of the integration binary's `tests/main.rs`) does not declare as a module.
pub fn assert_every_test_file_is_a_module(manifest_dir: &str, main_rs: &str) {
    let dir = std::path::Path::new(manifest_dir).join("tests");
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("the tests directory lists") {
        let path = entry.expect("a directory entry").path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs")
            && stem != "main"
            && !main_rs.lines().any(|l| l.trim() == format!("mod {stem};"))
        {
            missing.push(stem.to_string());
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "tests/main.rs must declare `mod NAME;` for {missing:?} in {}: with autotests = false \
         a file it does not name is never compiled",
        dir.display()
    );
}
