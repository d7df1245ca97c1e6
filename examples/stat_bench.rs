//! Benchmark report for issue #20's statistics and selectors on the 1M-row benchmark file
//! (every row, its 20 numeric features assembled into `features`; rows with a null
//! dropped): Correlation (pearson and spearman), Summarizer (all metrics, and weighted),
//! ChiSquareTest, KolmogorovSmirnovTest, UnivariateFeatureSelector (ANOVA F against
//! `churn`, F-regression against `monthly_charges`, chi² on binned features), ChiSqSelector
//! (binned features) fit and transform. The binned features are the 20 features cut into
//! 10 quantile buckets each (QuantileDiscretizer), assembled into `bins`. Each figure is
//! the median of 5 runs, printed beside one memory read of exactly the columns read
//! (measured in the same run, examples/support) and their ratio, and, with
//! `--sklearn PYTHON`, beside numpy's / scipy's / scikit-learn's counterpart on the same
//! rows (examples/stat_bench_sklearn.py), run right after.
//!
//! A one-pass fit reads only: its bound is 2 memory reads; a transform writing an output
//! of the input's size, 3. Sort-bound work (spearman, the KS test) is reported only.
//!
//! Run: `cargo run --release --example stat_bench -- [--sklearn /work/venv/bin/python]`.

#[path = "support/mod.rs"]
mod support;

use mlpipe::feature::{
    ChiSqSelector, QuantileDiscretizer, UnivariateFeatureSelector, VectorAssembler,
};
use mlpipe::prelude::*;
use mlpipe::stat::{ChiSquareTest, Correlation, KolmogorovSmirnovTest, Summarizer};
use support::report::{Report, FIT_TARGET, TRANSFORM_TARGET};

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
        .transform(&raw)?;
    let bin_cols: Vec<String> = features.iter().map(|f| format!("{f}_bin")).collect();
    let bucketizer = QuantileDiscretizer::new()
        .with_input_cols(&features)
        .with_output_cols(&bin_cols)
        .with_num_buckets(10)
        .fit(&df)?;
    let df = VectorAssembler::new()
        .with_input_cols(&bin_cols)
        .with_output_col("bins")
        .transform(&bucketizer.transform(&df)?)?
        .select(["features", "bins", "churn", "monthly_charges", "f0"])?;
    println!(
        "data: {path}; {} rows x {} features in {} partitions ({:.0} MB of features); {} threads",
        df.num_rows(),
        features.len(),
        df.num_partitions(),
        (df.num_rows() * features.len() * 8) as f64 / 1e6,
        rayon::current_num_threads()
    );
    let (t, f) = (Some(TRANSFORM_TARGET), Some(FIT_TARGET));
    let mut r = Report::new(5);
    let v = &["features"][..];
    let vl = &["features", "churn"][..];
    let bl = &["bins", "churn"][..];

    r.stage(
        "Correlation pearson (20 x 20)",
        "pearson",
        "df",
        &df,
        v,
        f,
        || Correlation::corr(&df, "features", "pearson"),
    )?;
    r.stage(
        "Correlation spearman (20 x 20)",
        "spearman",
        "df",
        &df,
        v,
        None,
        || Correlation::corr(&df, "features", "spearman"),
    )?;
    let s = Summarizer::all();
    r.stage(
        "Summarizer (all 10 metrics)",
        "summarizer",
        "df",
        &df,
        v,
        f,
        || s.summary(&df, "features", None),
    )?;
    r.stage(
        "Summarizer (all, weighted by monthly_charges)",
        "",
        "df",
        &df,
        &["features", "monthly_charges"],
        f,
        || s.summary(&df, "features", Some("monthly_charges")),
    )?;
    r.stage(
        "ChiSquareTest (20 binned x churn)",
        "chi2",
        "df",
        &df,
        bl,
        f,
        || ChiSquareTest::results(&df, "bins", "churn"),
    )?;
    r.stage(
        "KolmogorovSmirnovTest (f0, norm)",
        "ks",
        "df",
        &df,
        &["f0"],
        None,
        || KolmogorovSmirnovTest::test(&df, "f0", "norm", &[0.0, 1.0]),
    )?;
    let ufs = UnivariateFeatureSelector::new()
        .with_feature_type("continuous")
        .with_label_type("categorical")
        .with_label_col("churn")
        .with_selection_threshold(10.0)
        .with_output_col("selected");
    r.stage(
        "UnivariateFeatureSelector fit (ANOVA F)",
        "f_classif",
        "df",
        &df,
        vl,
        f,
        || ufs.fit(&df),
    )?;
    let m = ufs.fit(&df)?;
    println!("  selected: {:?}", m.selected_features());
    r.stage(
        "UnivariateFeatureSelectorModel transform",
        "select_transform",
        "df",
        &df,
        v,
        t,
        || m.transform(&df),
    )?;
    let ufr = UnivariateFeatureSelector::new()
        .with_feature_type("continuous")
        .with_label_type("continuous")
        .with_label_col("monthly_charges")
        .with_selection_threshold(10.0)
        .with_output_col("selected");
    r.stage(
        "UnivariateFeatureSelector fit (F-regression)",
        "f_regression",
        "df",
        &df,
        &["features", "monthly_charges"],
        f,
        || ufr.fit(&df),
    )?;
    let ufc = UnivariateFeatureSelector::new()
        .with_features_col("bins")
        .with_feature_type("categorical")
        .with_label_type("categorical")
        .with_label_col("churn")
        .with_selection_threshold(10.0)
        .with_output_col("selected");
    r.stage(
        "UnivariateFeatureSelector fit (chi², binned)",
        "chi2_select",
        "df",
        &df,
        bl,
        f,
        || ufc.fit(&df),
    )?;
    let chi = ChiSqSelector::new()
        .with_features_col("bins")
        .with_label_col("churn")
        .with_num_top_features(10)
        .with_output_col("selected");
    r.stage(
        "ChiSqSelector fit (top 10, binned)",
        "chi2_select",
        "df",
        &df,
        bl,
        f,
        || chi.fit(&df),
    )?;
    let cm = chi.fit(&df)?;
    r.stage(
        "ChiSqSelectorModel transform",
        "",
        "df",
        &df,
        &["bins"],
        t,
        || cm.transform(&df),
    )?;
    r.finish(sklearn.as_deref(), "stat_bench_sklearn.py", path)
}
