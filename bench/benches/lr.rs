//! Criterion benchmark of LogisticRegression training on the 1M-row benchmark file
//! (issue #3). Generate it first:
//! `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2 --out bench_data/churn_1m.parquet`.
//! Without the file the benchmark prints how to make it and exits. The data loading is
//! the examples' `examples/support/mod.rs`. `examples/lr_bench.rs`
//! prints the per-pass report (passes, ms per pass, ratio to one memory read).

use criterion::{criterion_group, criterion_main, Criterion};
use mlpipe::classification::LogisticRegression;
use mlpipe::prelude::*;

#[path = "../../examples/support/mod.rs"]
mod support;

fn bench(c: &mut Criterion) {
    // Run from the repository root, where bench_data/ lives.
    let path = format!(
        "{}/../{}",
        env!("CARGO_MANIFEST_DIR"),
        support::DEFAULT_PATH
    );
    let data = match support::BenchData::load(Some(&path)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return;
        }
    };
    let train = data.train;
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
