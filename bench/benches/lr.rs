//! Criterion benchmark of LogisticRegression training on the 1M-row benchmark file
//! (issue #3). Generate it first:
//! `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2 --out bench_data/churn_1m.parquet`.
//! Without the file the benchmark prints how to make it and exits. `examples/lr_bench.rs`
//! prints the per-pass report (passes, ms per pass, ratio to one memory read).

use criterion::{criterion_group, criterion_main, Criterion};
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;

const PATH: &str = "bench_data/churn_1m.parquet";

fn bench(c: &mut Criterion) {
    if !std::path::Path::new(PATH).exists() {
        eprintln!("{PATH} is missing; make it with gen_data.py (see benches/lr.rs)");
        return;
    }
    let df = DataFrame::read_parquet(PATH, &ParquetOptions::default()).expect("read");
    let cols: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !["customer_id", "contract", "churn"].contains(&n.as_str()))
        .collect();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let data = VectorAssembler::new()
        .with_input_cols(&refs)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&df)
        .expect("assemble");
    let train = data.random_split(&[0.8, 0.2], 42).expect("split").remove(0);
    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_tol(1e-6)
        .with_max_iter(100);
    let mut g = c.benchmark_group("logistic_regression");
    g.sample_size(10);
    g.bench_function("fit_800k_x_20", |b| b.iter(|| lr.fit(&train).expect("fit")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
