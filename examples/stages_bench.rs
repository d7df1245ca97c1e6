//! Benchmark report for issue #20's binning and scaling stages on the 1M-row benchmark file
//! (its 80% training split, 20 features): QuantileDiscretizer fit (20 columns, 10 buckets,
//! Spark's default relativeError 0.001) and the fitted Bucketizer's transform; RobustScaler
//! fit and transform; Normalizer, ElementwiseProduct, Binarizer (vector) and DCT
//! transforms; PCA (k = 5) fit and transform, VarianceThresholdSelector fit and transform,
//! and TargetEncoder (binary label `churn`, categories `tenure` and `num_support_calls`, on
//! all rows of the file) fit and transform. Each figure is the median of 5 runs, quoted beside one memory read of the
//! features measured in the same run (examples/support), and, when `--sklearn PYTHON` is
//! given, beside scikit-learn's KBinsDiscretizer(quantile), RobustScaler, Normalizer, PCA,
//! VarianceThreshold and TargetEncoder on the same file (examples/stages_bench_sklearn.py), run right after.
//!
//! Run: `cargo run --release --example stages_bench -- [--sklearn /work/venv/bin/python]`.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use mlpipe::feature::{
    Binarizer, ElementwiseProduct, Normalizer, QuantileDiscretizer, RobustScaler, TargetEncoder,
    VarianceThresholdSelector, DCT, PCA,
};
use mlpipe::prelude::*;
use support::{median, BenchData};

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
    let data = BenchData::load(None)?;
    println!("{}", data.describe());
    let read = data.memory_read()?;
    println!("memory read of the features: {:.4} s (median of 15)", read);
    let df = &data.train;
    // The training split's rows as scalar columns, for the per-column QuantileDiscretizer.
    let raw = &data.train_columns;
    let rows = raw.num_rows();
    let line = |name: &str, s: f64| {
        println!("{name:<44} {s:>8.4} s  ({:>5.1}x memory read)", s / read);
    };
    let qd = QuantileDiscretizer::new()
        .with_input_cols(&data.features)
        .with_output_cols(data.features.iter().map(|f| format!("{f}_bin")))
        .with_num_buckets(10);
    line(
        &format!("QuantileDiscretizer fit ({rows} rows x 20 cols)"),
        time(5, || qd.fit(raw))?,
    );
    let bucketizer = qd.fit(raw)?;
    line(
        "Bucketizer transform (20 cols)",
        time(5, || bucketizer.transform(raw))?,
    );
    let rs = RobustScaler::new()
        .with_input_col("features")
        .with_output_col("scaled")
        .with_centering(true);
    line("RobustScaler fit", time(5, || rs.fit(df))?);
    let rsm = rs.fit(df)?;
    line(
        "RobustScalerModel transform",
        time(5, || rsm.transform(df))?,
    );
    let norm = Normalizer::new()
        .with_input_col("features")
        .with_output_col("n")
        .with_p(1.0);
    line(
        "Normalizer (p = 1) transform",
        time(5, || norm.transform(df))?,
    );
    let ep = ElementwiseProduct::new()
        .with_input_col("features")
        .with_output_col("e")
        .with_scaling_vec(&[0.5; 20]);
    line(
        "ElementwiseProduct transform",
        time(5, || ep.transform(df))?,
    );
    let bin = Binarizer::new()
        .with_input_col("features")
        .with_output_col("b")
        .with_threshold(0.0);
    line(
        "Binarizer (vector) transform",
        time(5, || bin.transform(df))?,
    );
    let dct = DCT::new().with_input_col("features").with_output_col("d");
    line("DCT transform", time(5, || dct.transform(df))?);
    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("pca")
        .with_k(5);
    line("PCA fit (k = 5)", time(5, || pca.fit(df))?);
    let pcam = pca.fit(df)?;
    line("PCAModel transform", time(5, || pcam.transform(df))?);
    let vts = VarianceThresholdSelector::new()
        .with_output_col("sel")
        .with_variance_threshold(1.0);
    line("VarianceThresholdSelector fit", time(5, || vts.fit(df))?);
    let vtsm = vts.fit(df)?;
    line(
        "VarianceThresholdSelectorModel transform",
        time(5, || vtsm.transform(df))?,
    );
    let full = DataFrame::read_parquet(&data.path, &ParquetOptions::default())?;
    let te = TargetEncoder::new()
        .with_input_cols(["tenure", "num_support_calls"])
        .with_output_cols(["tenure_te", "calls_te"])
        .with_label_col("churn")
        .with_smoothing(1.0);
    line(
        &format!("TargetEncoder fit ({} rows x 2 cols)", full.num_rows()),
        time(5, || te.fit(&full))?,
    );
    let tem = te.fit(&full)?;
    line(
        "TargetEncoderModel transform (2 cols)",
        time(5, || tem.transform(&full))?,
    );
    if let Some(py) = sklearn {
        let out = std::process::Command::new(&py)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/examples/stages_bench_sklearn.py"
            ))
            .arg(&data.path)
            .output()
            .map_err(|e| Error::Usage(format!("cannot run {py}: {e}")))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
        }
    }
    Ok(())
}
