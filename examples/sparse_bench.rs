//! LogisticRegression on a one-hot encoded frame: the sparse pass against its dense
//! equivalent.
//!
//! 1,000,000 rows of one categorical column with 1,000 categories (uniform, seeded) and a
//! binary label drawn from a per-category logit. OneHotEncoder writes Spark's sparse
//! vectors (999 features after dropLast, at most one stored 1.0 per row). Reported:
//! - bytes one loss+gradient pass reads, sparse vs the dense equivalent (999 f64 per row);
//! - the median time of one pass (LogisticLoss::calculate, the unit the optimiser calls
//!   once per evaluation), sparse over all rows; dense measured on a 100,000-row slice
//!   (the full dense frame would take 8 GB) and scaled ×10;
//! - beside each, a memory-read baseline: one parallel read of the same bytes;
//! - the whole LogisticRegression fit on the sparse frame.
//!
//! Run: `cargo run --release --example sparse_bench [rows]`

#[path = "support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Instant;

use mlpipe::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch};
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::OneHotEncoder;
use mlpipe::frame::vector::{At, VectorBlock};
use mlpipe::optim::logistic::{Block, Features, LogisticLoss};
use mlpipe::optim::DiffFunction;
use mlpipe::prelude::*;
use support::median;

const CATEGORIES: usize = 1000;
const PARTITIONS: usize = 8;
const BLOCK_ROWS: usize = 4096;

/// xorshift64*: a fixed, seeded stream for the synthetic data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn frame(rows: usize) -> Result<DataFrame> {
    let mut rng = Rng(0x5EED_2026_1600_0001);
    let logit: Vec<f64> = (0..CATEGORIES).map(|_| rng.uniform() * 4.0 - 2.0).collect();
    let per = rows.div_ceil(PARTITIONS);
    let mut batches = Vec::new();
    for p in 0..PARTITIONS {
        let n = per.min(rows - (p * per).min(rows));
        let (mut cat, mut label) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for _ in 0..n {
            let c = (rng.next() % CATEGORIES as u64) as usize;
            cat.push(c as f64);
            let pr = 1.0 / (1.0 + (-logit[c]).exp());
            label.push(if rng.uniform() < pr { 1.0 } else { 0.0 });
        }
        batches.push(RecordBatch::try_from_iter([
            ("cat", Arc::new(Float64Array::from(cat)) as ArrayRef),
            ("label", Arc::new(Float64Array::from(label)) as ArrayRef),
        ])?);
    }
    DataFrame::from_batches(batches)
}

/// The loss over `df`'s `features` / `label` in row blocks, as LogisticRegression builds it
/// (unit scaling: the pass's cost does not depend on the values).
fn pass_time<'a>(views: &'a [VectorBlock<'a>], labels: &'a [Float64Array], n: usize) -> f64 {
    let mut blocks = Vec::new();
    for (v, y) in views.iter().zip(labels) {
        let mut r = 0;
        while r < v.len() {
            let len = BLOCK_ROWS.min(v.len() - r);
            let x = match v.as_dense() {
                Some(d) => Features::Dense(&d[r * n..(r + len) * n]),
                None => Features::Rows {
                    block: *v,
                    first: r,
                },
            };
            blocks.push(Block {
                x,
                y: &y.values()[r..r + len],
                w: None,
            });
            r += len;
        }
    }
    let rows: usize = labels.iter().map(|l| l.len()).sum();
    let mut loss = LogisticLoss {
        blocks,
        num_features: n,
        num_sets: 1,
        fit_intercept: true,
        inv_std: vec![1.0; n],
        scaled_mean: Vec::new(),
        weight_sum: rows as f64,
        reg_l2: 0.0,
        standardization: true,
        input_map: None,
    };
    let params: Vec<f64> = (0..=n).map(|i| ((i * 37) % 11) as f64 * 0.01).collect();
    let mut times = Vec::new();
    for _ in 0..9 {
        let t = Instant::now();
        std::hint::black_box(loss.calculate(&params).expect("pass"));
        times.push(t.elapsed().as_secs_f64());
    }
    median(&mut times)
}

/// One parallel read of every buffer a pass reads (the `features` column's values,
/// indices, offsets, row types and validity, and the labels), median of 15: the shared
/// `support::memory_read_cols`, which sums the bytes as wrapping 64-bit words (memory
/// bound; a serial f64 sum measures add latency and made this floor ~2x too slow).
fn memory_read(df: &DataFrame) -> Result<f64> {
    support::memory_read_cols(df, &["features", "label"])
}

/// Bytes a pass reads from a vector column chunk and its labels.
fn pass_bytes(a: &ArrayRef, rows: usize, n: usize) -> usize {
    let labels = 8 * rows;
    if a.as_fixed_size_list_opt().is_some() {
        return 8 * rows * n + labels;
    }
    let nnz = a.as_struct().column(3).as_list::<i32>().values().len();
    // values + indices, two offset arrays, one type byte per row, labels.
    12 * nnz + 8 * (rows + 1) + rows + labels
}

/// `df` one-hot encoded into `features`, with the feature chunks and labels.
type Encoded = (DataFrame, Vec<ArrayRef>, Vec<Float64Array>);

fn encoded(df: &DataFrame, dense: bool) -> Result<Encoded> {
    let enc = OneHotEncoder::new()
        .with_input_col("cat")
        .with_output_col("features")
        .with_dense_output(dense)
        .fit(df)?;
    let out = enc.transform(df)?;
    let cols = out.column("features")?.chunks;
    let labels = out
        .column("label")?
        .chunks
        .iter()
        .map(|a| {
            a.as_primitive::<mlpipe::arrow::datatypes::Float64Type>()
                .clone()
        })
        .collect();
    Ok((out, cols, labels))
}

fn views<'a>(cols: &'a [ArrayRef], n: usize) -> Result<Vec<VectorBlock<'a>>> {
    cols.iter()
        .enumerate()
        .map(|(p, a)| {
            let at = At {
                stage: "sparse_bench",
                column: "features",
                partition: p,
            };
            VectorBlock::new(a.as_ref(), n, at)
        })
        .collect()
}

fn main() -> Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("rows"))
        .unwrap_or(1_000_000);
    let n = CATEGORIES - 1;
    let t = Instant::now();
    let df = frame(rows)?;
    let (features, sparse_cols, labels) = encoded(&df, false)?;
    println!(
        "data: {rows} rows, one-hot of {CATEGORIES} categories -> {n} features (sparse), {PARTITIONS} partitions, made in {:.2} s; {} threads",
        t.elapsed().as_secs_f64(),
        rayon::current_num_threads()
    );
    let sparse_bytes: usize = sparse_cols
        .iter()
        .zip(&labels)
        .map(|(a, y)| pass_bytes(a, y.len(), n))
        .sum();
    let dense_bytes = 8 * rows * n + 8 * rows;
    let v = views(&sparse_cols, n)?;
    let sparse_pass = pass_time(&v, &labels, n);
    let sparse_mem = memory_read(&features)?;

    // The dense equivalent on a 10% slice (8 GB in full), scaled to all rows.
    let slice_rows = rows / 10;
    let small = df.limit(slice_rows)?;
    let (dense_df, dense_cols, dense_labels) = encoded(&small, true)?;
    let dv = views(&dense_cols, n)?;
    let dense_pass = pass_time(&dv, &dense_labels, n) * rows as f64 / slice_rows as f64;
    let dense_mem = memory_read(&dense_df)? * rows as f64 / slice_rows as f64;

    println!("one loss+gradient pass (median of 9; memory-read baseline: median of 15 parallel reads of the same bytes)");
    println!(
        "  sparse: {:>8.1} MB read, {:>8.4} s per pass, memory read {:.4} s",
        sparse_bytes as f64 / 1e6,
        sparse_pass,
        sparse_mem
    );
    println!(
        "  dense:  {:>8.1} MB read, {:>8.4} s per pass, memory read {:.4} s (measured on {slice_rows} rows, x{})",
        dense_bytes as f64 / 1e6,
        dense_pass,
        dense_mem,
        rows / slice_rows
    );
    println!(
        "  sparse reads {:.0}x fewer bytes and its pass is {:.0}x faster",
        dense_bytes as f64 / sparse_bytes as f64,
        dense_pass / sparse_pass
    );

    // The whole fit on the sparse frame.
    let t = Instant::now();
    let m = LogisticRegression::new()
        .with_max_iter(50)
        .with_reg_param(1e-4)
        .fit(&features)?;
    let fit_s = t.elapsed().as_secs_f64();
    let s = m.summary().expect("summary");
    println!(
        "LogisticRegression fit on the sparse frame (maxIter 50, regParam 1e-4): {:.2} s, {} iterations, {} evaluations, {:.4} s per evaluation (statistics pass included)",
        fit_s,
        s.objective_history.len().saturating_sub(1),
        s.evaluations,
        fit_s / s.evaluations.max(1) as f64
    );
    let (peak, _) = support::mem();
    println!("peak resident memory: {:.0} MB", peak as f64 / 1e6);
    Ok(())
}
