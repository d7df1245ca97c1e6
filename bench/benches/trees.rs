//! Criterion benchmark of the tree models on the 1M-row benchmark file (issue #13):
//! GBTClassifier and RandomForestClassifier fits (Spark's defaults: 20 trees of depth 5,
//! maxBins 32) on the 800k training rows, binning included, and batch scoring of the
//! ~200k test rows with each fitted model. Generate the file first:
//! `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2 --out bench_data/churn_1m.parquet`.
//! Without the file the benchmark prints how to make it and exits. The data loading is
//! the examples' `examples/support/mod.rs`; `examples/tree_bench.rs` and
//! `examples/tree_score_bench.rs` print the reports beside their baselines.

use criterion::{criterion_group, criterion_main, Criterion};
use mlpipe::prelude::*;
use mlpipe::tree::{GBTClassifier, RandomForestClassifier};

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
    let (train, test) = (&data.train, &data.test);
    let gbt = GBTClassifier::new().with_label_col("churn");
    let rf = RandomForestClassifier::new()
        .with_label_col("churn")
        .with_num_trees(20);

    let mut g = c.benchmark_group("tree_fit");
    g.sample_size(10);
    g.bench_function("gbt_20_trees_800k_x_20", |b| {
        b.iter(|| gbt.fit(train).expect("fit"))
    });
    g.bench_function("rf_20_trees_800k_x_20", |b| {
        b.iter(|| rf.fit(train).expect("fit"))
    });
    g.finish();

    let gbt_model = gbt.fit(train).expect("fit");
    let rf_model = rf.fit(train).expect("fit");
    let mut g = c.benchmark_group("tree_score");
    g.sample_size(30);
    g.bench_function("gbt_20_trees_200k_rows", |b| {
        b.iter(|| gbt_model.transform(test).expect("transform"))
    });
    g.bench_function("rf_20_trees_200k_rows", |b| {
        b.iter(|| rf_model.transform(test).expect("transform"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
