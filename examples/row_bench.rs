//! Benchmark report for row scoring (issue #19's targets: the Telco churn pipeline in
//! ≤ 1 µs per row with zero heap allocations per row; a 20-tree forest pipeline ≤ 3 µs).
//!
//! Pipelines:
//! - the churn example's pipeline on the bundled Telco data (StringIndexer on the label and
//!   on 15 categorical fields, OneHotEncoder, Imputer, VectorAssembler with 4 numeric fields,
//!   StandardScaler, LogisticRegression), fitted on the 80% split, scoring the 20% test rows;
//! - the same feature stages with a 20-tree RandomForestClassifier (depth 5);
//! - the PipelineModel PySpark 4.3 saved (tests/fixtures/spark_cli/fitted_pipeline, 5
//!   categorical + 4 numeric fields) on its 400 test rows;
//! - the text classifier of examples/text.rs (RegexTokenizer, StopWordsRemover, HashingTF
//!   2^16, IDF, multinomial LogisticRegression on sparse features) on the fortunes' 20%
//!   test split: string lists and sparse vectors live in reused buffers.
//!
//! Row values are prepared once, in the input schema's order; each pass scores every row;
//! a counting global allocator counts the heap allocations made while scoring. Baselines
//! from the same run: the batch `transform` of the same rows (per row), and `transform` of
//! a one-row DataFrame (what one request costs without row scoring). Medians of the passes.
//!
//! Run: `cargo run --release --example row_bench [-- PASSES [NAME_FILTER]]` (e.g.
//! `-- 200 text` runs the text pipeline only).

#[path = "support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use mlpipe::arrow::array::{Array, AsArray, RecordBatch};
use mlpipe::arrow::datatypes::{DataType, Float64Type, Int64Type};
use mlpipe::classification::{LogisticRegression, RandomForestClassifier};
use mlpipe::feature::{
    HashingTF, Imputer, OneHotEncoder, RegexTokenizer, StandardScaler, StopWordsRemover,
    StringIndexer, VectorAssembler, IDF,
};
use mlpipe::prelude::*;
use mlpipe::row::Value;

/// Counts every allocation (and reallocation) the program makes.
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn value(b: &RecordBatch, c: usize, r: usize) -> Value<'_> {
    let a = b.column(c);
    if a.is_null(r) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Value::Str(a.as_string::<i32>().value(r)),
        DataType::Int64 => Value::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::Float64 => Value::Float(a.as_primitive::<Float64Type>().value(r)),
        dt => panic!("unexpected type {dt}"),
    }
}

fn bench(name: &str, model: &PipelineModel, test: &DataFrame, passes: usize) -> Result<()> {
    if let Some(f) = std::env::args().nth(2) {
        if !name.contains(f.as_str()) {
            return Ok(());
        }
    }
    let batch = test.collect()?;
    let n = batch.num_rows();
    let rows: Vec<Vec<Value<'_>>> = (0..n)
        .map(|r| {
            (0..batch.num_columns())
                .map(|c| value(&batch, c, r))
                .collect()
        })
        .collect();
    let mut scorer = model.row_scorer(test.schema())?;
    // Warm-up pass (also checks every row scores).
    let mut check = 0.0;
    for r in &rows {
        check += scorer.score(r)?.and_then(|s| s.prediction()).unwrap_or(0.0);
    }
    let mut per_row = Vec::new();
    let mut allocs = 0u64;
    for _ in 0..passes {
        let a0 = ALLOCS.load(Ordering::Relaxed);
        let t = Instant::now();
        for r in &rows {
            let s = scorer.score(r)?;
            std::hint::black_box(s.map(|s| s.probability()));
        }
        per_row.push(t.elapsed().as_secs_f64() / n as f64 * 1e6);
        allocs += ALLOCS.load(Ordering::Relaxed) - a0;
    }
    let row_us = support::median(&mut per_row);
    // Baselines: batch transform of the 400 rows, and transform of one row.
    let mut batch_us = Vec::new();
    for _ in 0..passes.min(50) {
        let t = Instant::now();
        std::hint::black_box(model.transform(test)?);
        batch_us.push(t.elapsed().as_secs_f64() / n as f64 * 1e6);
    }
    let one = DataFrame::from_batches(vec![batch.slice(0, 1)])?;
    let mut single_us = Vec::new();
    for _ in 0..passes.min(200) {
        let t = Instant::now();
        std::hint::black_box(model.transform(&one)?);
        single_us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "{name}: {n} rows\n  row_scorer {row_us:.3} µs/row, {:.4} allocations/row | baselines: batch transform {:.3} µs/row, one-row transform {:.1} µs (checksum {check})",
        allocs as f64 / (passes * n) as f64,
        support::median(&mut batch_us),
        support::median(&mut single_us),
    );
    Ok(())
}

const CATEGORICAL: [&str; 15] = [
    "gender",
    "Partner",
    "Dependents",
    "PhoneService",
    "MultipleLines",
    "InternetService",
    "OnlineSecurity",
    "OnlineBackup",
    "DeviceProtection",
    "TechSupport",
    "StreamingTV",
    "StreamingMovies",
    "Contract",
    "PaperlessBilling",
    "PaymentMethod",
];

/// The churn example's feature stages (15 categorical + 4 numeric fields; label indexer,
/// indexers, one-hot, imputer, assembler, scaler).
fn churn_features() -> Pipeline {
    let idx: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_idx")).collect();
    let vec: Vec<String> = CATEGORICAL.iter().map(|c| format!("{c}_vec")).collect();
    let numeric = [
        "SeniorCitizen",
        "tenure",
        "MonthlyCharges",
        "TotalCharges_imputed",
    ];
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(CATEGORICAL)
                .with_output_cols(&idx),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(&idx)
                .with_output_cols(&vec),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["TotalCharges"])
                .with_output_cols(["TotalCharges_imputed"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(vec.iter().map(String::as_str).chain(numeric))
                .with_output_col("raw_features"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw_features")
                .with_output_col("features"),
        )
}

fn main() -> Result<()> {
    let passes: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("PASSES"))
        .unwrap_or(500);
    let root = env!("CARGO_MANIFEST_DIR");
    println!(
        "one thread; medians of {passes} passes; counting allocator on. Machine: {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    // The churn example's pipeline on the bundled Telco data (7,043 rows, 80/20 split).
    let df = DataFrame::read_csv(
        format!("{root}/data/telco_churn/telco_customer_churn.csv"),
        &CsvOptions::default().with_null_values(&["", " "]),
    )?;
    let [train, test] = df.random_split([0.8, 0.2], 42)?;
    let only = std::env::args().nth(2).unwrap_or_default();
    let lr = churn_features()
        .with_estimator(LogisticRegression::new().with_reg_param(0.01))
        .fit(&train)?;
    bench("churn LR (15 cat + 4 num, 7 stages)", &lr, &test, passes)?;
    if "churn RF20".contains(only.as_str()) {
        let rf = churn_features()
            .with_estimator(
                RandomForestClassifier::new()
                    .with_num_trees(20)
                    .with_max_depth(5)
                    .with_seed(1),
            )
            .fit(&train)?;
        bench("churn RF20 (20 trees, depth 5)", &rf, &test, passes)?;
    }
    // The PipelineModel PySpark saved (5 cat + 4 num), scored as loaded.
    let dir = format!("{root}/tests/fixtures/spark_cli");
    let spark = PipelineModel::load(format!("{dir}/fitted_pipeline"))?;
    let test = DataFrame::read_csv(format!("{dir}/test.csv"), &CsvOptions::default())?;
    bench("PySpark-saved Telco LR", &spark, &test, passes)?;
    // The text classifier of examples/text.rs.
    let df = DataFrame::read_csv(
        format!("{root}/data/fortunes/fortunes.csv"),
        &CsvOptions::default(),
    )?;
    let [train, test] = df.random_split([0.8, 0.2], 42)?;
    let text = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("category")
                .with_output_col("label"),
        )
        .with_transformer(
            RegexTokenizer::new()
                .with_input_col("text")
                .with_output_col("words")
                .with_pattern("\\W+")
                .with_min_token_length(2),
        )
        .with_transformer(
            StopWordsRemover::new()
                .with_input_col("words")
                .with_output_col("filtered"),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("filtered")
                .with_output_col("tf")
                .with_num_features(1 << 16),
        )
        .with_estimator(
            IDF::new()
                .with_input_col("tf")
                .with_output_col("features")
                .with_min_doc_freq(2),
        )
        .with_estimator(LogisticRegression::new())
        .fit(&train)?;
    bench(
        "text LR (fortunes: RegexTokenizer, StopWordsRemover, HashingTF 2^16, IDF, LR)",
        &text,
        &test,
        passes,
    )?;
    Ok(())
}
