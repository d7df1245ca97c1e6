//! Benchmark report for the feature stages (issue #4's speed targets):
//! StandardScaler fit + transform on 1M x 20 dense features, against one memory read of
//! the features and against a plain parallel copy of them into fresh memory (what any
//! transform that writes a new column must at least pay); StringIndexer fit on a 1M-row string column with 1,000 distinct values.
//! Data are generated here with a seeded ChaCha8 stream.
//!
//! Run: `cargo run --release --example features_bench`.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use mlpipe::feature::{StandardScaler, StringIndexer};
use mlpipe::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn main() -> mlpipe::Result<()> {
    let (rows, n, parts) = (1_000_000usize, 20usize, 16usize);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut batches = Vec::new();
    for _ in 0..parts {
        let r = rows / parts;
        let vals: Vec<f64> = (0..r * n)
            .map(|_| rng.random::<f64>() * 100.0 - 20.0)
            .collect();
        let labels: Vec<String> = (0..r)
            .map(|_| format!("category_{:04}", rng.random_range(0..1000)))
            .collect();
        batches.push(RecordBatch::try_from_iter([
            (
                "features",
                Arc::new(mlpipe::frame::vector::vector_array(vals, n, None)?) as ArrayRef,
            ),
            ("cat", Arc::new(StringArray::from(labels)) as ArrayRef),
        ])?);
    }
    let df = DataFrame::from_batches(batches)?;
    let bytes = (rows * n * 8) as f64;
    let col = df.column("features")?;
    let read = time(15, || {
        let s: f64 = col
            .chunks
            .par_iter()
            .map(|c| {
                use arrow::array::AsArray;
                mlpipe::frame::vector::dense_values(c.as_fixed_size_list())
                    .unwrap()
                    .iter()
                    .sum::<f64>()
            })
            .sum();
        std::hint::black_box(s);
    });
    println!(
        "{rows} rows x {n} features ({:.0} MB), {} threads; one read of the features: {:.2} ms",
        bytes / 1e6,
        rayon::current_num_threads(),
        read * 1e3
    );

    let scaler = StandardScaler::new()
        .with_input_col("features")
        .with_output_col("scaled")
        .with_mean(true);
    let fit = time(9, || {
        std::hint::black_box(scaler.fit(&df).unwrap());
    });
    let model = scaler.fit(&df)?;
    let transform = time(9, || {
        std::hint::black_box(model.transform(&df).unwrap());
    });
    // The floor for any transform that writes a new column: copy every feature into fresh
    // memory with rayon (the kernel has to zero each new page first).
    let copy = time(9, || {
        let copies: Vec<Vec<f64>> = col
            .chunks
            .par_iter()
            .map(|c| {
                use arrow::array::AsArray;
                let v = mlpipe::frame::vector::dense_values(c.as_fixed_size_list()).unwrap();
                v.par_iter().map(|x| x * 1.0).collect()
            })
            .collect();
        std::hint::black_box(copies);
    });
    println!(
        "StandardScaler: fit {:.1} ms ({:.2}x one read), transform {:.1} ms ({:.2}x one read; it also writes a new 160 MB column)",
        fit * 1e3,
        fit / read,
        transform * 1e3,
        transform / read
    );
    println!(
        "a plain parallel copy of the features into fresh memory: {:.1} ms ({:.2}x one read); the transform takes {:.2}x that",
        copy * 1e3,
        copy / read,
        transform / copy
    );

    let indexer = StringIndexer::new()
        .with_input_col("cat")
        .with_output_col("cat_idx");
    let fit = time(9, || {
        std::hint::black_box(indexer.fit(&df).unwrap());
    });
    let labels = indexer.fit(&df)?.labels()[0].len();
    println!(
        "StringIndexer fit on {rows} strings ({labels} distinct): {:.1} ms median",
        fit * 1e3
    );
    Ok(())
}
