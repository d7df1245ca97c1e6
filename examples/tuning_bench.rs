//! Benchmark of tuning: a 3-fold CrossValidator over 6 grid points of the LR pipeline
//! (StandardScaler -> LogisticRegression; regParam {0.001, 0.01, 0.1} x elasticNetParam
//! {0, 0.5}) on the 80% training split of the 1M x 20 churn data, loaded and assembled by
//! `examples/support` like the other benchmarks.
//!
//! The references run from the same command line, so that every figure comes from one run
//! on the same machine state: `--sklearn` runs scikit-learn's GridSearchCV (n_jobs 2) on
//! the same rows and grid (`bench/tuning_sklearn.py`), `--spark` runs Spark's
//! CrossValidator (PySpark, local[2], parallelism 2) on the same split, grid, folds and
//! seed (`bench/tuning_spark.py`), whose avgMetrics are printed beside mlpipe's.
//!
//! Run: `cargo run --release --example tuning_bench [-- PATH [REPEATS] [--sklearn] [--spark]]`.
//! Reports the median wall time over REPEATS (default 3) fits, the peak resident memory
//! (VmHWM, the whole process) during the fits beside the size of the training data in
//! memory, and the time of one parallel read of the features (the floor of any pass).
//!
//! The peak is measured under both of glibc's malloc policies: this process keeps glibc's
//! default (what a library user calling `CrossValidator::fit` gets; the target is judged
//! on it), then runs itself again (`--mmap-1mb --one-policy`) with the mmap threshold
//! fixed at 1 MB before anything is allocated (what `mlpipe tune` sets), since a policy
//! cannot be undone within a process. `--mmap-1mb` alone measures only that policy;
//! `--one-policy` skips the second run.

#[path = "support/mod.rs"]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::BinaryClassificationEvaluator;
use mlpipe::feature::StandardScaler;
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder};
use support::{median, mem, reset_peak, BenchData};

/// Hands the heap memory freed so far back to the OS (glibc's `malloc_trim`), so that the
/// resident memory measured next is live data, not what loading the data set left behind.
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it touches no live allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// glibc's mmap threshold is fixed at this (`mallopt(M_MMAP_THRESHOLD)`) at the start,
/// before anything is allocated, with `--mmap-1mb`: blocks from this size up are mapped and unmapped on their own, so a
/// freed array goes back to the OS at once. By default glibc raises the threshold to the
/// size of each mapped block freed (up to 32 MB) and keeps up to twice that free at the top
/// of each arena: arrays of a few MB made and dropped during a fold then stay resident.
const MMAP_THRESHOLD: i32 = 1 << 20;

/// Fixes glibc's mmap threshold at [`MMAP_THRESHOLD`] (which also stops its dynamic
/// raising); returns whether it did (only glibc has it).
fn fix_mmap_threshold() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's policy for later allocations.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Runs a reference script with the benchmark file; prints its output and returns the
/// values of its `KEY value` lines.
fn reference(script: &str, path: &str) -> Result<Vec<(String, String)>> {
    let script = format!("{}/bench/{script}", env!("CARGO_MANIFEST_DIR"));
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "/work/venv/bin/python".into());
    let out = std::process::Command::new(python)
        .args([&script, path])
        .output()
        .map_err(|e| Error::Internal(format!("cannot run {script}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return Err(Error::Internal(format!("{script} failed ({})", out.status)));
    }
    let mut keyed = Vec::new();
    for line in stdout.lines() {
        match line.split_once(' ') {
            Some((k, v)) if k.ends_with("_seconds") || k.ends_with("_avg_metrics") => {
                keyed.push((k.to_string(), v.trim().to_string()))
            }
            _ => println!("{line}"),
        }
    }
    Ok(keyed)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |f: &str| args.iter().any(|a| a == f);
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    // The allocator's policy is set before anything is allocated (a later change does not
    // undo what the default policy kept).
    let policy = if flag("--mmap-1mb") && fix_mmap_threshold() {
        format!(
            "glibc's mmap threshold fixed at {} KB",
            MMAP_THRESHOLD >> 10
        )
    } else {
        "glibc's default malloc policy".to_string()
    };
    let repeats: usize = pos.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);

    // The process's resident memory before the data is loaded: the binary, the runtime
    // and the thread pool, which the peak is measured above.
    let (_, rss_before_load) = mem();
    let mut data = BenchData::load(pos.first().map(|s| s.as_str()))?;
    // Only the training rows handed to CrossValidator.fit stay alive while the peak
    // memory is measured (not the test split, nor the same rows as scalar columns).
    data.test = DataFrame::empty(data.test.schema().clone());
    data.train_columns = DataFrame::empty(data.train_columns.schema().clone());
    data.split_tables = data
        .split_tables
        .each_ref()
        .map(|t| DataFrame::empty(t.schema().clone()));
    println!("{}", data.describe());
    let train = &data.train;
    let bytes: usize = train
        .partitions()
        .iter()
        .map(|b| b.get_array_memory_size())
        .sum();
    let read = data.memory_read()?;
    println!(
        "the data set (the frame handed to CrossValidator.fit: features + churn): {bytes} bytes = {:.1} MB; one parallel read of the features: {:.2} ms",
        bytes as f64 / 1e6,
        read * 1e3
    );

    let lr = LogisticRegression::new()
        .with_features_col("scaled")
        .with_label_col("churn")
        .with_max_iter(100)
        .with_tol(1e-6);
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.001, 0.01, 0.1])
        .add_grid(Param::elastic_net_param(&lr), [0.0, 0.5])
        .build();
    let pipeline = Pipeline::new()
        .with_estimator(
            StandardScaler::new()
                .with_input_col("features")
                .with_output_col("scaled"),
        )
        .with_estimator(lr);
    // After every fit (6 scored fits per fold, then the refit) the peak resident memory
    // since the previous fit is recorded and reset, so that each fold's peak and the
    // refit's are known apart: fit 6f, the first of fold f, covers the fold's training
    // side and fits; the last covers the refit.
    let segments = Arc::new(Mutex::new(Vec::new()));
    let cv = CrossValidator::new(
        pipeline,
        BinaryClassificationEvaluator::new().with_label_col("churn"),
        grid,
    )
    .with_num_folds(3)
    .with_seed(7)
    .with_parallelism(2)
    .with_progress({
        let segments = segments.clone();
        move || {
            let mut s = segments.lock().unwrap_or_else(|e| e.into_inner());
            s.push(mem().0);
            reset_peak();
        }
    });

    // For comparison: the peak of one plain fit of the same pipeline (the best map's
    // params, no tuning) on the same frame, measured the same way (with glibc's default malloc
    // policy).
    let plain = Pipeline::new()
        .with_estimator(
            StandardScaler::new()
                .with_input_col("features")
                .with_output_col("scaled"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_features_col("scaled")
                .with_label_col("churn")
                .with_max_iter(100)
                .with_tol(1e-6)
                .with_reg_param(0.001),
        );
    trim();
    reset_peak();
    let t = Instant::now();
    let fitted = plain.fit(train)?;
    let plain_s = t.elapsed().as_secs_f64();
    let plain_peak = mem().0;
    drop(fitted);
    println!(
        "plain Pipeline(StandardScaler, LogisticRegression(regParam 0.001)).fit, no tuning: {plain_s:.2} s; peak RSS {:.1} MB, {:.2}x the data set above the RSS before loading",
        plain_peak as f64 / 1e6,
        plain_peak.saturating_sub(rss_before_load) as f64 / bytes as f64
    );

    // The fits, `repeats` times: the median time, the peak resident memory above the RSS
    // before loading, the last avgMetrics and best params.
    let series = |policy: &str| -> Result<(f64, u64, Vec<f64>, String)> {
        let mut times = Vec::new();
        let mut peak = 0;
        let mut avg = Vec::new();
        let mut best = String::new();
        for r in 0..repeats {
            // What loading (and the previous run) freed goes back to the OS first, so that
            // the resident memory before the fit is the live data.
            trim();
            let (_, before) = mem();
            reset_peak();
            let t = Instant::now();
            segments.lock().unwrap_or_else(|e| e.into_inner()).clear();
            let model = cv.fit(train)?;
            let s = t.elapsed().as_secs_f64();
            let seg = segments.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let run_peak = seg.iter().copied().fold(mem().0, u64::max);
            peak = peak.max(run_peak);
            let above = |b: u64| b.saturating_sub(rss_before_load) as f64 / bytes as f64;
            let folds: Vec<String> = seg[..seg.len().saturating_sub(1)]
                .chunks(6)
                .map(|c| format!("{:.2}x", above(c.iter().copied().max().unwrap_or(0))))
                .collect();
            println!(
                "{policy}, run {r}: peak above the RSS before loading, per fold {folds:?}, refit {:.2}x the data set",
                above(seg.last().copied().unwrap_or(0))
            );
            avg = model.avg_metrics().to_vec();
            best = model.best_params().to_string();
            println!(
                "{policy}, run {r}: {s:.2} s; avgMetrics {:?}; best {}; RSS before the fit {:.0} MB, peak during it {:.0} MB",
                avg.iter().map(|m| format!("{m:.5}")).collect::<Vec<_>>(),
                model.best_params(),
                before as f64 / 1e6,
                run_peak as f64 / 1e6
            );
            times.push(s);
        }
        Ok((median(&mut times), peak, avg, best))
    };
    let report = |policy: &str, secs: f64, peak: u64| {
        let above = peak.saturating_sub(rss_before_load);
        println!(
            "mlpipe CrossValidator (3 folds x 6 maps + refit, parallelism 2), {policy}: median {secs:.2} s over {repeats} = {:.0}x one read of the features; peak RSS during the fits {:.1} MB, {:.1} MB above the RSS before loading ({:.1} MB) = {:.2}x the data set ({:.1} MB)",
            secs / read,
            peak as f64 / 1e6,
            above as f64 / 1e6,
            rss_before_load as f64 / 1e6,
            above as f64 / bytes as f64,
            bytes as f64 / 1e6,
        );
        above as f64 / bytes as f64
    };
    let (secs, peak, avg, best) = series(&policy)?;
    let ratio = report(&policy, secs, peak);
    println!("mlpipe_peak_ratio {ratio:.4}");
    println!(
        "mlpipe_plain_fit_peak_ratio {:.4}",
        plain_peak.saturating_sub(rss_before_load) as f64 / bytes as f64
    );
    // The other policy, from a fresh process (see the module documentation).
    let mut ratios = vec![(policy.clone(), ratio)];
    if !flag("--one-policy") && !flag("--mmap-1mb") {
        let exe = std::env::current_exe()
            .map_err(|e| Error::Internal(format!("cannot find this benchmark's binary: {e}")))?;
        let mut child_args: Vec<String> = pos.iter().map(|s| s.to_string()).collect();
        child_args.extend(["--mmap-1mb".to_string(), "--one-policy".to_string()]);
        let out = std::process::Command::new(exe)
            .args(&child_args)
            .output()
            .map_err(|e| Error::Internal(format!("cannot rerun the benchmark: {e}")))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            eprint!("{}", String::from_utf8_lossy(&out.stderr));
            return Err(Error::Internal(format!(
                "the benchmark's run with the mmap threshold fixed failed ({})",
                out.status
            )));
        }
        let mut other = None;
        for line in stdout.lines() {
            match line.split_once(' ') {
                Some(("mlpipe_peak_ratio", v)) => other = v.trim().parse::<f64>().ok(),
                Some((k, _)) if k.starts_with("mlpipe_") => {}
                _ => println!("[mmap threshold 1 MB run] {line}"),
            }
        }
        if let Some(r) = other {
            ratios.push((
                format!(
                    "glibc's mmap threshold fixed at {} KB",
                    MMAP_THRESHOLD >> 10
                ),
                r,
            ));
        }
    }
    for (policy, ratio) in &ratios {
        println!("peak / data set: {ratio:.2}x ({policy})");
    }
    let worst = ratios.iter().map(|r| r.1).fold(0.0, f64::max);
    println!(
        "target < 2x: {} (peak during the tuning / data set, worst of the policies measured: {worst:.2}x)",
        if worst < 2.0 { "met" } else { "NOT met" }
    );

    // Keyed lines for bench/tuning_all.py, which runs the three tools in one run.
    println!("mlpipe_seconds {secs:.3}");
    println!("mlpipe_avg_metrics {avg:?}");
    println!("mlpipe_best {best}");
    println!("mlpipe_rss_before_load_bytes {rss_before_load}");
    println!("mlpipe_fit_peak_rss_bytes {peak}");
    println!("mlpipe_data_bytes {bytes}");
    println!("mlpipe_rows {}", train.num_rows());
    let seconds = |keyed: &[(String, String)], key: &str| -> Option<f64> {
        keyed
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse().ok())
    };
    if flag("--sklearn") {
        let keyed = reference("tuning_sklearn.py", &data.path)?;
        if let Some(sk) = seconds(&keyed, "sklearn_seconds") {
            println!(
                "mlpipe vs scikit-learn GridSearchCV(n_jobs=2): {sk:.2} s / {secs:.2} s = {:.1}x",
                sk / secs
            );
        }
    }
    if flag("--spark") {
        let keyed = reference("tuning_spark.py", &data.path)?;
        if let Some(sp) = seconds(&keyed, "spark_seconds") {
            println!(
                "mlpipe vs Spark CrossValidator (local[2]): {sp:.2} s / {secs:.2} s = {:.1}x",
                sp / secs
            );
        }
        if let Some((_, v)) = keyed.iter().find(|(k, _)| k == "spark_avg_metrics") {
            let spark: Vec<f64> = v
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .filter_map(|x| x.trim().parse().ok())
                .collect();
            let diff = spark
                .iter()
                .zip(&avg)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            println!(
                "avgMetrics, Spark: {spark:?}\navgMetrics, mlpipe: {avg:?}\nlargest difference {diff:.2e}"
            );
        }
    }
    Ok(())
}
