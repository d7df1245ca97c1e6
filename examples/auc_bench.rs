//! Benchmark report for areaUnderROC on 10M scored rows (issue #5's speed target):
//! exact (numBins = 0) and Spark's binned default (numBins = 1000). The scores are a
//! seeded logistic model's probabilities, so most of them are distinct.
//!
//! Run: `cargo run --release --example auc_bench [-- ROWS]`.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mlpipe::evaluation::BinaryClassificationEvaluator;
use mlpipe::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn main() -> mlpipe::Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let parts = 8;
    let mut batches = Vec::new();
    for _ in 0..parts {
        let n = rows / parts;
        let mut s = Vec::with_capacity(n);
        let mut l = Vec::with_capacity(n);
        for _ in 0..n {
            let z: f64 = rng.random::<f64>() * 8.0 - 4.0;
            let p = 1.0 / (1.0 + (-z).exp());
            s.push(p);
            l.push(if rng.random::<f64>() < p { 1.0 } else { 0.0 });
        }
        batches.push(
            RecordBatch::try_from_iter([
                ("score", Arc::new(Float64Array::from(s)) as ArrayRef),
                ("label", Arc::new(Float64Array::from(l)) as ArrayRef),
            ])
            .expect("batch"),
        );
    }
    let df = DataFrame::from_batches(batches)?;
    println!(
        "{} rows in {} partitions, {} threads",
        df.num_rows(),
        df.num_partitions(),
        rayon::current_num_threads()
    );
    for bins in [0usize, 1000] {
        let ev = BinaryClassificationEvaluator::new()
            .with_raw_prediction_col("score")
            .with_num_bins(bins);
        let mut times = Vec::new();
        let mut auc = 0.0;
        for _ in 0..5 {
            let t = Instant::now();
            auc = ev.evaluate(&df)?;
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "areaUnderROC numBins={bins}: {auc:.6} in {:.3} s (median of 5)",
            times[2]
        );
    }
    Ok(())
}
