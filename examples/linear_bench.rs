//! Benchmark report for LinearRegression training (issue #14's speed targets).
//!
//! Data: `/work/venv/bin/python ../shared/bench/gen_data.py --rows 1000000 --features 20
//! --seed 2 --out bench_data/churn_1m.parquet`. The 20 numeric features are assembled (rows
//! with a null dropped), split 80/20 with seed 42, and LinearRegression is fitted on the
//! 800k training rows (label: the 0/1 `churn` column) already in memory: with the normal
//! solver (one pass of sufficient statistics) and with L-BFGS (regParam 0.01, elastic net
//! 0 — so one statistics pass, then one loss-and-gradient pass per evaluation). Each is
//! reported as a median fit time and as a ratio to one parallel read of the feature bytes,
//! measured here. LinearSVC (regParam 0.01, label `churn`) is timed the same way, with its
//! time per loss-and-gradient pass (fit time / objective evaluations). `examples/linear_bench_sklearn.py` times
//! scikit-learn's LinearRegression and LinearSVC on the same file (in the same run when
//! `MLPIPE_SKLEARN_PYTHON` names a Python with scikit-learn and pyarrow).
//!
//! Run: `cargo run --release --example linear_bench [-- PATH [REPEATS]]`.

use std::time::Instant;

use mlpipe::classification::LinearSVC;
use mlpipe::prelude::*;
use mlpipe::regression::LinearRegression;

mod support;

use support::{median, BenchData};

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let data = BenchData::load(args.get(1).map(String::as_str))?;
    let train = &data.train;
    println!("{}", data.describe());
    let read = data.memory_read()?;
    println!("memory read of the features: {:.2} ms median", read * 1e3);

    for (name, est) in [
        (
            "normal",
            LinearRegression::new()
                .with_label_col("churn")
                .with_solver("normal"),
        ),
        (
            "l-bfgs",
            LinearRegression::new()
                .with_label_col("churn")
                .with_solver("l-bfgs")
                .with_reg_param(0.01),
        ),
    ] {
        let mut times = Vec::new();
        let mut iters = 0;
        for _ in 0..repeats {
            let t = Instant::now();
            let m = est.fit(train)?;
            times.push(t.elapsed().as_secs_f64());
            iters = m.summary().map_or(0, |s| s.total_iterations);
        }
        let fit = median(&mut times);
        println!(
            "LinearRegression {name}: median fit {:.1} ms = {:.1}x one memory read ({iters} iterations)",
            fit * 1e3,
            fit / read
        );
        // The training summary is computed on first use (one more pass), as Spark's.
        let mut sum_times = Vec::new();
        for _ in 0..repeats {
            let m = est.fit(train)?;
            let t = Instant::now();
            std::hint::black_box(m.summary());
            sum_times.push(t.elapsed().as_secs_f64());
        }
        let s = median(&mut sum_times);
        println!(
            "  its training summary on first use: {:.1} ms = {:.1}x one memory read",
            s * 1e3,
            s / read
        );
        if name == "l-bfgs" {
            // maxIter 0: the statistics pass plus the first loss-and-gradient evaluation;
            // the rest divided by the iterations approximates one pass (L-BFGS usually
            // evaluates once per iteration).
            let one = est.clone().with_max_iter(0);
            let mut t0 = Vec::new();
            for _ in 0..repeats.max(5) {
                let t = Instant::now();
                one.fit(train)?;
                t0.push(t.elapsed().as_secs_f64());
            }
            let base = median(&mut t0);
            let per = (fit - base) / iters.max(1) as f64;
            println!(
                "  statistics pass + one evaluation (maxIter 0): {:.1} ms = {:.1}x; per iteration {:.2} ms = {:.2}x one memory read",
                base * 1e3,
                base / read,
                per * 1e3,
                per / read
            );
        }
    }
    let svc = LinearSVC::new()
        .with_label_col("churn")
        .with_reg_param(0.01);
    let mut times = Vec::new();
    let mut iters = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let m = svc.fit(train)?;
        times.push(t.elapsed().as_secs_f64());
        iters = m.summary().map_or(0, |s| s.total_iterations);
    }
    let fit = median(&mut times);
    println!(
        "LinearSVC: median fit {:.1} ms = {:.1}x one memory read ({iters} iterations)",
        fit * 1e3,
        fit / read
    );
    // maxIter 0: the statistics pass plus the one loss-and-gradient evaluation at the start.
    let one = LinearSVC::new()
        .with_label_col("churn")
        .with_reg_param(0.01)
        .with_max_iter(0);
    let mut t0 = Vec::new();
    for _ in 0..repeats.max(5) {
        let t = Instant::now();
        one.fit(train)?;
        t0.push(t.elapsed().as_secs_f64());
    }
    let base = median(&mut t0);
    let per = (fit - base) / iters.max(1) as f64;
    println!(
        "LinearSVC statistics pass + one loss/gradient evaluation (maxIter 0): {:.1} ms = {:.1}x one memory read; per iteration {:.2} ms = {:.2}x",
        base * 1e3,
        base / read,
        per * 1e3,
        per / read
    );
    support::run_sklearn("linear_bench_sklearn.py", &data.path, repeats)?;
    Ok(())
}
