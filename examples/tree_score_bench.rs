//! Benchmark report for batch scoring with tree ensembles (issue #13's scoring target:
//! 200k rows with a 20-tree forest in under 10 ms).
//!
//! Fits a GBTClassifier (Spark's defaults: maxIter 20, maxDepth 5) and a
//! RandomForestClassifier (20 trees, maxDepth 5) on the churn file's 800k training rows,
//! then times `transform` of the ~200k test rows: rawPrediction + probability +
//! prediction, and the prediction column alone. Each figure is the median wall time of
//! the runs, quoted beside one parallel memory read of the same test features (the floor
//! for any pass over them), measured in the same run, and beside the process's CPU time
//! per transform (user + system, all threads): on a loaded machine the wall time
//! measures the machine's load as much as the transform, the CPU time much less so.
//! The report names the thread count and the load average, and says for each model
//! whether the target (under 10 ms) is met.
//!
//! Data: `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2
//! --out bench_data/churn_1m.parquet` (see `examples/support`).
//!
//! Run: `cargo run --release --example tree_score_bench [-- PATH [RUNS]]`.

use std::time::Instant;

use mlpipe::prelude::*;
use mlpipe::tree::{GBTClassifier, RandomForestClassifier};

mod support;

use support::{median, memory_read, BenchData};

/// The target: 200k rows scored in under this many milliseconds.
const TARGET_MS: f64 = 10.0;

/// The process's CPU time so far (user + system, all threads), in milliseconds (NaN
/// where getrusage is not available).
#[cfg(not(target_os = "linux"))]
fn cpu_ms() -> f64 {
    f64::NAN
}

/// The process's CPU time so far (user + system, all threads), in milliseconds.
#[cfg(target_os = "linux")]
fn cpu_ms() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let u = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
    ms(u.ru_utime) + ms(u.ru_stime)
}

/// The 1-minute load average, from /proc.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

/// Median wall milliseconds of `runs` calls of `f` (after one warm-up call), and the
/// mean CPU milliseconds per call.
fn time_ms(runs: usize, mut f: impl FnMut() -> Result<DataFrame>) -> Result<(f64, f64)> {
    std::hint::black_box(f()?);
    let mut ms = Vec::with_capacity(runs);
    let cpu0 = cpu_ms();
    for _ in 0..runs {
        let t = Instant::now();
        let out = f()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(out);
    }
    let cpu = (cpu_ms() - cpu0) / runs as f64;
    Ok((median(&mut ms), cpu))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(21);
    let data = BenchData::load(args.get(1).map(String::as_str))?;
    println!("{}", data.describe());
    let test = &data.test;
    let rows = test.num_rows();
    let gbt = GBTClassifier::new()
        .with_label_col("churn")
        .fit(&data.train)?;
    let rf = RandomForestClassifier::new()
        .with_label_col("churn")
        .with_num_trees(20)
        .fit(&data.train)?;
    let cpu0 = cpu_ms();
    let read = memory_read(test)? * 1e3;
    let read_cpu = (cpu_ms() - cpu0) / 15.0; // memory_read takes 15 runs

    println!(
        "scoring {rows} test rows ({} partitions, {:.0} MB of features) on {} threads; \
         load average {} at the start; median of {runs} runs",
        test.num_partitions(),
        (rows * data.features.len() * 8) as f64 / 1e6,
        rayon::current_num_threads(),
        load_average()
    );
    println!(
        "  memory read of the test features (baseline)      {read:7.2} ms  (CPU {read_cpu:.2} ms per read)"
    );
    let mut verdicts = Vec::new();
    let mut report = |what: &str, (ms, cpu): (f64, f64)| {
        println!(
            "  {what:<48} {ms:7.2} ms  ({:.1}x the memory read; CPU {cpu:.2} ms per transform)",
            ms / read
        );
        verdicts.push((what.to_string(), ms));
    };
    report(
        &format!(
            "GBTClassificationModel ({} trees), all outputs",
            gbt.num_trees()
        ),
        time_ms(runs, || gbt.transform(test))?,
    );
    report(
        &format!(
            "RandomForestClassificationModel ({} trees), all",
            rf.num_trees()
        ),
        time_ms(runs, || rf.transform(test))?,
    );
    let mut gbt_pred = gbt.clone();
    gbt_pred.params_mut().raw_prediction_col = String::new();
    gbt_pred.params_mut().probability_col = String::new();
    report(
        "GBTClassificationModel, prediction only",
        time_ms(runs, || gbt_pred.transform(test))?,
    );
    let mut rf_pred = rf.clone();
    rf_pred.params_mut().raw_prediction_col = String::new();
    rf_pred.params_mut().probability_col = String::new();
    report(
        "RandomForestClassificationModel, prediction only",
        time_ms(runs, || rf_pred.transform(test))?,
    );
    println!("  load average {} at the end", load_average());
    for (what, ms) in verdicts.iter().take(2) {
        let met = if *ms < TARGET_MS { "met" } else { "not met" };
        println!(
            "target < {TARGET_MS} ms for {rows} rows, {what}: {met} ({ms:.2} ms on {} threads)",
            rayon::current_num_threads()
        );
    }
    // The tree walk alone on one thread, without the outputs: the public block walk
    // (complete-tree layout, 8 rows in lockstep; the models use it where the column
    // kernel for shallow trees does not run, i.e. without AVX-512) against a row-by-row
    // walk.
    let col = test.column("features")?;
    let n = data.features.len();
    let xs: Vec<&[f64]> = col
        .chunks
        .iter()
        .enumerate()
        .flat_map(|(p, c)| support::dense_slice(c.as_ref(), n, p).chunks_exact(n))
        .collect();
    let trees = gbt.trees();
    let mut leaves = vec![0u32; xs.len()];
    let mut block = Vec::new();
    let mut row_by_row = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        for tree in trees {
            tree.leaf_nodes(&xs, &mut leaves);
            std::hint::black_box(&leaves);
        }
        block.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        for tree in trees {
            for (x, l) in xs.iter().zip(leaves.iter_mut()) {
                *l = tree.leaf_node(x) as u32;
            }
            std::hint::black_box(&leaves);
        }
        row_by_row.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "  walk of the {} GBT trees, one thread: block {:.2} ms, row by row {:.2} ms",
        trees.len(),
        median(&mut block),
        median(&mut row_by_row)
    );
    Ok(())
}
