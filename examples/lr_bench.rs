//! Benchmark report for LogisticRegression training (issue #3's speed target).
//!
//! Data: `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2
//! --out bench_data/churn_1m.parquet` (needs `pip install numpy pyarrow`). The 20 numeric
//! features are assembled (rows with a null dropped), split 80/20 with seed 42, and LR
//! (regParam 0, tol 1e-6, maxIter 100) is fitted on the 800k training rows already in
//! memory, several times. The report gives the median fit time, the number of
//! loss-and-gradient passes, the fit time per pass (which also carries the statistics pass
//! and the optimiser's own work), and, measured on its own, the time of one
//! loss-and-gradient pass; both as ratios to the time one parallel read of the feature bytes
//! takes on this machine, measured here.
//!
//! Run: `cargo run --release --example lr_bench [-- PATH [REPEATS]]`.

use std::time::Instant;

use arrow::array::AsArray;
use mlpipe::classification::LogisticRegression;
use mlpipe::prelude::*;

mod support;

use support::{median, mem, reset_peak, BenchData};

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let data = BenchData::load(args.get(1).map(String::as_str))?;
    let train = &data.train;
    let (rows, n, bytes) = (data.rows(), data.features.len(), data.feature_bytes());
    println!("{}", data.describe());
    let read_pass = data.memory_read()?;
    println!(
        "memory read of the features: {:.2} ms median ({:.1} GB/s)",
        read_pass * 1e3,
        bytes / read_pass / 1e9
    );
    let col = train.column("features")?;

    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_reg_param(0.0)
        .with_tol(1e-6)
        .with_max_iter(100);
    let mut fit_times = Vec::new();
    let mut extra = 0u64;
    let mut model = None;
    for _ in 0..repeats {
        let (_, rss_before) = mem();
        reset_peak();
        let t = Instant::now();
        let m = lr.fit(train)?;
        fit_times.push(t.elapsed().as_secs_f64());
        let (peak, _) = mem();
        extra = extra.max(peak.saturating_sub(rss_before));
        model = Some(m);
    }
    let model = model.expect("at least one fit");
    let s = model.summary().expect("summary");
    let fit = median(&mut fit_times);
    // The same fit on the same values as a plain dense column (VectorAssembler's
    // with_dense_output(true), the layout before Spark's per-row one), timed alternately.
    let dense_train = train.vectors_to_dense("features")?;
    let (mut t_udt, mut t_dense) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        let t = Instant::now();
        std::hint::black_box(lr.fit(&dense_train)?);
        t_dense.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        std::hint::black_box(lr.fit(train)?);
        t_udt.push(t.elapsed().as_secs_f64());
    }
    println!(
        "fit on the assembler's default column (Spark's layout, rows all dense): {:.1} ms; on a plain dense column: {:.1} ms (medians of {repeats}, alternating)",
        median(&mut t_udt) * 1e3,
        median(&mut t_dense) * 1e3
    );
    let per_pass = fit / s.evaluations as f64;
    println!(
        "LogisticRegression fit: {:.1} ms median of {repeats}; {} iterations, {} loss+gradient passes, fit time / passes = {:.2} ms = {:.2}x one memory read",
        fit * 1e3,
        s.total_iterations,
        s.evaluations,
        per_pass * 1e3,
        per_pass / read_pass
    );
    println!(
        "extra memory during fit (peak RSS - RSS before): {:.1} MB = {:.1}% of the feature data",
        extra as f64 / 1e6,
        100.0 * extra as f64 / bytes
    );
    println!(
        "final objective {:.12}, intercept {:.6}",
        s.objective_history.last().unwrap(),
        model.intercept()?
    );

    // One loss+gradient pass on its own (no optimiser, no statistics pass), over the same
    // 1 MB row blocks a fit uses, at a fixed point.
    let labels = train.select(["churn"])?;
    let ys: Vec<Vec<f64>> = labels
        .column("churn")?
        .chunks
        .iter()
        .map(|a| {
            let a = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64).unwrap();
            a.as_primitive::<arrow::datatypes::Float64Type>()
                .values()
                .to_vec()
        })
        .collect();
    let block_rows = (1usize << 20) / (8 * n);
    let mut blocks = Vec::new();
    for (p, (c, y)) in col.chunks.iter().zip(&ys).enumerate() {
        let x = support::dense_slice(c.as_ref(), n, p);
        for (xb, yb) in x.chunks(block_rows * n).zip(y.chunks(block_rows)) {
            blocks.push(mlpipe::optim::logistic::Block {
                x: mlpipe::optim::logistic::Features::Dense(xb),
                y: yb,
                w: None,
            });
        }
    }
    let mut loss = mlpipe::optim::logistic::LogisticLoss {
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
    let mut point = model.coefficients()?.to_vec();
    point.push(model.intercept()?);
    let mut pass_times = Vec::new();
    for _ in 0..31 {
        let t = Instant::now();
        std::hint::black_box(mlpipe::optim::DiffFunction::calculate(&mut loss, &point)?);
        pass_times.push(t.elapsed().as_secs_f64());
    }
    let pass = median(&mut pass_times);
    println!(
        "one loss+gradient pass alone: {:.2} ms median of 31 = {:.2}x one memory read",
        pass * 1e3,
        pass / read_pass
    );
    Ok(())
}
