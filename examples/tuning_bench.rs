//! Benchmark of tuning: a 3-fold CrossValidator over 6 grid points of the LR pipeline
//! (VectorAssembler -> StandardScaler -> LogisticRegression; regParam {0.001, 0.01, 0.1} x
//! elasticNetParam {0, 0.5}) on the 800k training rows of the 1M x 20 churn data.
//!
//! Data: `/work/venv/bin/python ../shared/bench/gen_data.py --rows 1000000 --features 20
//! --seed 2 --out bench_data/churn_1m.parquet`. The reference, scikit-learn's GridSearchCV
//! (n_jobs 2) on the same rows and grid, is `bench/tuning_sklearn.py`, run by the same
//! command line (`--sklearn`) so both are measured in one run.
//!
//! Run: `cargo run --release --example tuning_bench [-- PATH [REPEATS] [--sklearn]]`.
//! Reports the median wall time over REPEATS (default 3) runs, the peak resident memory
//! (VmHWM) and the size of the training data in memory.

use std::time::Instant;

use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::BinaryClassificationEvaluator;
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder};

/// Peak resident memory (VmHWM) in bytes, from /proc.
fn peak_rss() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sklearn = args.iter().any(|a| a == "--sklearn");
    let pos: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let path = pos
        .first()
        .map(|s| s.to_string())
        .unwrap_or_else(|| "bench_data/churn_1m.parquet".into());
    let repeats: usize = pos.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);

    let df = DataFrame::read_parquet(&path, &ParquetOptions::default())?;
    let features: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !["customer_id", "contract", "churn"].contains(&n.as_str()))
        .collect();
    let refs: Vec<&str> = features.iter().map(|s| s.as_str()).collect();
    let data = df.select([refs.clone(), vec!["churn"]].concat())?;
    let [train, test] = data.random_split([0.8, 0.2], 42)?;
    // Only the training rows stay alive: the 1M-row read and the test rows are freed
    // before the peak memory is measured.
    drop((data, test));
    let bytes: usize = train
        .partitions()
        .iter()
        .map(|b| b.get_array_memory_size())
        .sum();
    println!(
        "train: {} rows x {} features in {} partitions, {:.0} MB in memory; {} threads",
        train.num_rows(),
        features.len(),
        train.num_partitions(),
        bytes as f64 / 1e6,
        rayon::current_num_threads()
    );
    drop(df);

    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_max_iter(100)
        .with_tol(1e-6);
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.001, 0.01, 0.1])
        .add_grid(Param::elastic_net_param(&lr), [0.0, 0.5])
        .build();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("raw")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features"),
        )
        .with_estimator(lr);
    let cv = CrossValidator::new(
        pipeline,
        BinaryClassificationEvaluator::new().with_label_col("churn"),
        grid,
    )
    .with_num_folds(3)
    .with_seed(7)
    .with_parallelism(2);

    let mut times = Vec::new();
    let mut peak = 0;
    for r in 0..repeats {
        reset_peak();
        let t = Instant::now();
        let model = cv.fit(&train)?;
        let s = t.elapsed().as_secs_f64();
        peak = peak.max(peak_rss());
        println!(
            "run {r}: {s:.2} s; avgMetrics {:?}; best {}",
            model
                .avg_metrics()
                .iter()
                .map(|m| format!("{m:.5}"))
                .collect::<Vec<_>>(),
            model.best_params()
        );
        times.push(s);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!(
        "mlpipe CrossValidator (3 folds x 6 maps + refit): median {median:.2} s over {repeats}; peak RSS {:.0} MB = {:.2}x the training data",
        peak as f64 / 1e6,
        peak as f64 / bytes as f64
    );
    if sklearn {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/tuning_sklearn.py");
        let python = std::env::var("PYTHON").unwrap_or_else(|_| "/work/venv/bin/python".into());
        let out = std::process::Command::new(python)
            .args([script, &path])
            .output()
            .map_err(|e| Error::Internal(format!("cannot run {script}: {e}")))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        let sk: Option<f64> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("sklearn_seconds "))
            .and_then(|v| v.trim().parse().ok());
        if let Some(sk) = sk {
            println!("speed-up over GridSearchCV(n_jobs=2): {:.1}x", sk / median);
        }
    }
    Ok(())
}
