//! Benchmark report for issue #20's statistics and selectors on the 1M-row benchmark file
//! (every row, its 20 numeric features assembled into `features`): Correlation (pearson and
//! spearman), Summarizer (all metrics) and UnivariateFeatureSelector (continuous features,
//! categorical `churn`: the ANOVA F-test, scikit-learn's `f_classif`) fit keeping 10
//! features. Each figure is the median of 5 runs, quoted beside one memory read of the
//! same features measured in the same run (examples/support), and, when `--sklearn PYTHON`
//! is given, beside numpy.corrcoef and scikit-learn's SelectKBest(f_classif, k=10) on the
//! same rows (examples/stat_bench_sklearn.py), run right after.
//!
//! Run: `cargo run --release --example stat_bench -- [--sklearn /work/venv/bin/python]`.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use mlpipe::feature::{UnivariateFeatureSelector, VectorAssembler};
use mlpipe::prelude::*;
use mlpipe::stat::{Correlation, Summarizer};
use support::{median, memory_read};

fn time<T>(reps: usize, mut f: impl FnMut() -> Result<T>) -> Result<f64> {
    let mut v = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        std::hint::black_box(f()?);
        v.push(t.elapsed().as_secs_f64());
    }
    Ok(median(&mut v))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sklearn = args
        .iter()
        .position(|a| a == "--sklearn")
        .and_then(|i| args.get(i + 1).cloned());
    let path = support::DEFAULT_PATH;
    let raw = DataFrame::read_parquet(path, &ParquetOptions::default())?;
    let features: Vec<String> = raw
        .columns()
        .into_iter()
        .filter(|n| !["customer_id", "contract", "churn"].contains(n))
        .map(str::to_string)
        .collect();
    let df = VectorAssembler::new()
        .with_input_cols(&features)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&raw)?
        .select(["features", "churn"])?;
    println!(
        "data: {path}; {} rows x {} features in {} partitions ({:.0} MB of features); {} threads",
        df.num_rows(),
        features.len(),
        df.num_partitions(),
        (df.num_rows() * features.len() * 8) as f64 / 1e6,
        rayon::current_num_threads()
    );
    let read = memory_read(&df)?;
    println!("memory read of the features: {read:.4} s (median of 15)");
    let line = |name: &str, s: f64| {
        println!("{name:<52} {s:>8.4} s  ({:>5.1}x memory read)", s / read);
    };
    let pearson = time(5, || Correlation::corr(&df, "features", "pearson"))?;
    line("Correlation pearson (20 x 20)", pearson);
    println!(
        "  target (issue #20: Correlation pearson within 2x of one memory read): {}",
        if pearson / read <= 2.0 {
            "met"
        } else {
            "not met"
        }
    );
    line(
        "Correlation spearman (20 x 20)",
        time(3, || Correlation::corr(&df, "features", "spearman"))?,
    );
    let s = Summarizer::all();
    line(
        "Summarizer (all 10 metrics)",
        time(5, || s.summary(&df, "features", None))?,
    );
    let ufs = UnivariateFeatureSelector::new()
        .with_feature_type("continuous")
        .with_label_type("categorical")
        .with_label_col("churn")
        .with_selection_threshold(10.0)
        .with_output_col("selected");
    line(
        "UnivariateFeatureSelector fit (ANOVA F, top 10)",
        time(5, || ufs.fit(&df))?,
    );
    let m = ufs.fit(&df)?;
    println!("  selected: {:?}", m.selected_features());
    line(
        "UnivariateFeatureSelectorModel transform",
        time(5, || m.transform(&df))?,
    );
    if let Some(py) = sklearn {
        let out = std::process::Command::new(&py)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/stat_bench_sklearn.py"
            ))
            .arg(path)
            .output()
            .map_err(|e| Error::Usage(format!("cannot run {py}: {e}")))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(())
}
