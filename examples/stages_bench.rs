//! Benchmark report for issue #20's feature stages on the 1M-row benchmark file: every
//! stage's fit and transform, each a median of 5 runs printed beside one memory read of
//! exactly the columns the stage reads (measured in the same run, examples/support) and
//! their ratio, and, with `--sklearn PYTHON`, beside scikit-learn's (or numpy's / scipy's)
//! counterpart on the same rows (examples/stages_bench_sklearn.py), run right after.
//!
//! Frames: `train` is the 80% training split (seed 42) with the 20 numeric features
//! assembled into `features` (and as 20 scalar columns for the per-column stages);
//! `all` is every row of the file with `features` and the raw columns (TargetEncoder,
//! Interaction, RFormula). The stages: QuantileDiscretizer (20 columns, 10 buckets,
//! relativeError 0.001) and its Bucketizer, RobustScaler, Binarizer (vector and 20 scalar
//! columns), Normalizer (p = 1 and 2), ElementwiseProduct, PolynomialExpansion (degree 2:
//! 230 outputs), DCT, VectorSlicer (10 of 20), VectorSizeHint, VectorIndexer
//! (maxCategories 20), Interaction (features x num_support_calls), PCA (k = 5),
//! VarianceThresholdSelector, TargetEncoder (binary `churn`, `tenure` and
//! `num_support_calls`), RFormula (`churn ~ contract + tenure + monthly_charges +
//! num_support_calls`).
//!
//! A transform writing a new column of the input's size costs a read and a write: its
//! bound is 3 memory reads of its input (fresh pages included); a fit reads only: 2 reads.
//! Sort-bound fits (the quantile sketches) and outputs much larger than the input are
//! reported, not held to a bound. The last line says whether every held stage met it.
//! RFormulaModel's output vector column is several times the size of its input, so beside
//! its held bound (3 reads of the input) a second floor is reported: one read of its
//! inputs plus one write of an output of the transform's size through the output pool.
//!
//! Run: `cargo run --release --example stages_bench -- [--sklearn /work/venv/bin/python]`.

#[path = "support/mod.rs"]
mod support;

use mlpipe::feature::{
    Binarizer, ElementwiseProduct, Interaction, Normalizer, PolynomialExpansion,
    QuantileDiscretizer, RFormula, RobustScaler, StringIndexer, TargetEncoder,
    VarianceThresholdSelector, VectorAssembler, VectorIndexer, VectorSizeHint, VectorSlicer, DCT,
    PCA,
};
use mlpipe::prelude::*;
use support::report::{Report, FIT_TARGET, TRANSFORM_TARGET};
use support::BenchData;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sklearn = args
        .iter()
        .position(|a| a == "--sklearn")
        .and_then(|i| args.get(i + 1).cloned());
    let data = BenchData::load(None)?;
    println!("{}", data.describe());
    let df = &data.train;
    let raw = &data.train_columns;
    let feats: Vec<&str> = data.features.iter().map(String::as_str).collect();
    let full = DataFrame::read_parquet(&data.path, &ParquetOptions::default())?;
    let all = VectorAssembler::new()
        .with_input_cols(&data.features)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&full)?;
    println!("all: {} rows", all.num_rows());
    let (t, f) = (Some(TRANSFORM_TARGET), Some(FIT_TARGET));
    let mut r = Report::new(5);
    let v = &["features"][..];

    let qd = QuantileDiscretizer::new()
        .with_input_cols(&data.features)
        .with_output_cols(data.features.iter().map(|f| format!("{f}_bin")))
        .with_num_buckets(10);
    r.stage(
        "QuantileDiscretizer fit (20 cols)",
        "qd_fit",
        "train",
        raw,
        &feats,
        None,
        || qd.fit(raw),
    )?;
    let bucketizer = qd.fit(raw)?;
    r.stage(
        "Bucketizer transform (20 cols)",
        "bucketizer",
        "train",
        raw,
        &feats,
        t,
        || bucketizer.transform(raw),
    )?;

    let rs = RobustScaler::new()
        .with_input_col("features")
        .with_output_col("scaled")
        .with_centering(true);
    r.stage("RobustScaler fit", "rs_fit", "train", df, v, None, || {
        rs.fit(df)
    })?;
    let rsm = rs.fit(df)?;
    r.stage(
        "RobustScalerModel transform",
        "rs_transform",
        "train",
        df,
        v,
        t,
        || rsm.transform(df),
    )?;

    let bin = Binarizer::new()
        .with_input_col("features")
        .with_output_col("b")
        .with_threshold(0.0);
    r.stage(
        "Binarizer (vector) transform",
        "binarizer",
        "train",
        df,
        v,
        t,
        || bin.transform(df),
    )?;
    let bins = Binarizer::new()
        .with_input_cols(&data.features)
        .with_output_cols(data.features.iter().map(|f| format!("{f}_b")))
        .with_threshold(0.0);
    r.stage(
        "Binarizer (20 scalar cols) transform",
        "binarizer",
        "train",
        raw,
        &feats,
        t,
        || bins.transform(raw),
    )?;

    for p in [1.0, 2.0] {
        let norm = Normalizer::new()
            .with_input_col("features")
            .with_output_col("n")
            .with_p(p);
        let key = if p == 1.0 {
            "normalizer_l1"
        } else {
            "normalizer_l2"
        };
        r.stage(
            &format!("Normalizer (p = {p}) transform"),
            key,
            "train",
            df,
            v,
            t,
            || norm.transform(df),
        )?;
    }
    let ep = ElementwiseProduct::new()
        .with_input_col("features")
        .with_output_col("e")
        .with_scaling_vec(&[0.5; 20]);
    r.stage(
        "ElementwiseProduct transform",
        "ep",
        "train",
        df,
        v,
        t,
        || ep.transform(df),
    )?;
    let poly = PolynomialExpansion::new()
        .with_input_col("features")
        .with_output_col("p")
        .with_degree(2);
    r.stage(
        "PolynomialExpansion (2: 230 outputs)",
        "poly",
        "train",
        df,
        v,
        None,
        || poly.transform(df),
    )?;
    let dct = DCT::new().with_input_col("features").with_output_col("d");
    r.stage("DCT transform", "dct", "train", df, v, t, || {
        dct.transform(df)
    })?;
    let slicer = VectorSlicer::new()
        .with_input_col("features")
        .with_output_col("s")
        .with_indices(&[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    r.stage(
        "VectorSlicer (10 of 20) transform",
        "slicer",
        "train",
        df,
        v,
        t,
        || slicer.transform(df),
    )?;
    let hint = VectorSizeHint::new()
        .with_input_col("features")
        .with_size(20);
    r.stage("VectorSizeHint transform", "", "train", df, v, t, || {
        hint.transform(df)
    })?;

    let vi = VectorIndexer::new()
        .with_input_col("features")
        .with_output_col("i")
        .with_max_categories(20);
    r.stage(
        "VectorIndexer fit (maxCategories 20)",
        "",
        "train",
        df,
        v,
        f,
        || vi.fit(df),
    )?;
    let vim = vi.fit(df)?;
    r.stage(
        "VectorIndexerModel transform",
        "",
        "train",
        df,
        v,
        t,
        || vim.transform(df),
    )?;

    let inter = Interaction::new()
        .with_input_cols(["features", "num_support_calls"])
        .with_output_col("x");
    r.stage(
        "Interaction (features x calls) transform",
        "interaction",
        "all",
        &all,
        &["features", "num_support_calls"],
        t,
        || inter.transform(&all),
    )?;

    let pca = PCA::new()
        .with_input_col("features")
        .with_output_col("pca")
        .with_k(5);
    r.stage("PCA fit (k = 5)", "pca_fit", "train", df, v, f, || {
        pca.fit(df)
    })?;
    let pcam = pca.fit(df)?;
    r.stage(
        "PCAModel transform",
        "pca_transform",
        "train",
        df,
        v,
        t,
        || pcam.transform(df),
    )?;

    let vts = VarianceThresholdSelector::new()
        .with_output_col("sel")
        .with_variance_threshold(1.0);
    r.stage(
        "VarianceThresholdSelector fit",
        "vt_fit",
        "train",
        df,
        v,
        f,
        || vts.fit(df),
    )?;
    let vtsm = vts.fit(df)?;
    r.stage(
        "VarianceThresholdSelectorModel transform",
        "vt_transform",
        "train",
        df,
        v,
        t,
        || vtsm.transform(df),
    )?;

    let te_in = ["tenure", "num_support_calls"];
    let te = TargetEncoder::new()
        .with_input_cols(te_in)
        .with_output_cols(["tenure_te", "calls_te"])
        .with_label_col("churn")
        .with_smoothing(1.0);
    r.stage(
        "TargetEncoder fit (2 cols)",
        "te_fit",
        "all",
        &all,
        &["tenure", "num_support_calls", "churn"],
        f,
        || te.fit(&all),
    )?;
    // The work a read does not do, as its own floor (reported beside, not instead of, the
    // read): a fit must at least count each category per class, an integer bincount of
    // the two columns by `churn` (one table per partition, no validation, no statistics).
    use mlpipe::arrow::{array::AsArray, datatypes::Int32Type};
    // (The columns are int32: the cast is a reference count, no copy.)
    let i32s = |b: &mlpipe::arrow::array::RecordBatch, c: &str| -> Result<_> {
        let a = b
            .column_by_name(c)
            .ok_or_else(|| Error::Usage(format!("no column {c}")))?;
        Ok(mlpipe::arrow::compute::cast(
            a,
            &mlpipe::arrow::datatypes::DataType::Int32,
        )?)
    };
    let counts = |df: &DataFrame| -> Result<u64> {
        let parts = df.map_partitions(|_, b| {
            let y = i32s(b, "churn")?;
            let y = y.as_primitive::<Int32Type>().values();
            let mut total = 0u64;
            for c in te_in {
                let x = i32s(b, c)?;
                let x = x.as_primitive::<Int32Type>().values();
                let mut t = vec![[0u64; 2]; 256];
                for (&x, &y) in x.iter().zip(y.iter()) {
                    t[(x as u32 as usize) & 255][(y & 1) as usize] += 1;
                }
                total += t.iter().map(|c| c[1]).sum::<u64>();
            }
            Ok(total)
        })?;
        Ok(parts.into_iter().sum())
    };
    r.stage(
        "  floor: bincount of the 2 cols by churn",
        "",
        "all",
        &all,
        &["tenure", "num_support_calls", "churn"],
        None,
        || counts(&all),
    )?;
    let tem = te.fit(&all)?;
    r.stage(
        "TargetEncoderModel transform (2 cols)",
        "te_transform",
        "all",
        &all,
        &te_in,
        t,
        || tem.transform(&all),
    )?;
    // Its outputs (doubles) are twice the size of its inputs (int32): the read + write
    // floor beside the read (reported).
    read_write_floor(
        &mut r,
        "TargetEncoderModel transform",
        &tem.transform(&all)?,
        &["tenure_te", "calls_te"],
        &all,
        &te_in,
    )?;

    let rf_in = [
        "churn",
        "contract",
        "tenure",
        "monthly_charges",
        "num_support_calls",
    ];
    let rf = RFormula::new()
        .with_formula("churn ~ contract + tenure + monthly_charges + num_support_calls")
        .with_features_col("rf_features")
        .with_label_col("rf_label");
    r.stage(
        "RFormula fit",
        "rformula_fit",
        "all",
        &all,
        &rf_in,
        f,
        || rf.fit(&all),
    )?;
    let rfm = rf.fit(&all)?;
    r.stage(
        "RFormulaModel transform",
        "rformula_transform",
        "all",
        &all,
        &rf_in,
        t,
        || rfm.transform(&all),
    )?;
    // The same features through the inner pipeline's stages one by one (StringIndexerModel,
    // OneHotEncoderModel, VectorAssembler, ...), the path the fused one replaces: the
    // same-run before/after pair (reported).
    let staged = rfm.pipeline_model();
    r.stage(
        "  RFormulaModel's stages one by one",
        "",
        "all",
        &all,
        &rf_in,
        None,
        || staged.transform(&all),
    )?;
    // The transform writes a vector column several times the size of what it reads: beside
    // the read (the bound it is held to, above), the floor of reading its inputs AND
    // writing an output of the transform's size through the output pool (reported).
    read_write_floor(
        &mut r,
        "RFormulaModel transform",
        &rfm.transform(&all)?,
        &["rf_features"],
        &all,
        &rf_in,
    )?;
    // RFormula's string term must be indexed (a lookup per row of a string column), work
    // a read does not do: StringIndexerModel on `contract` alone, as its own floor.
    let sim = StringIndexer::new()
        .with_input_col("contract")
        .with_output_col("contract_idx")
        .fit(&all)?;
    r.stage(
        "  floor: StringIndexerModel on contract",
        "",
        "all",
        &all,
        &["contract"],
        None,
        || sim.transform(&all),
    )?;

    r.finish(sklearn.as_deref(), "stages_bench_sklearn.py", &data.path)
}

/// Prints, below stage `stage`'s line, the floor of reading its inputs `cols` of `df` and
/// writing an output as large as the columns `outputs` of its result `out` through the
/// output pool (`buffer::floor::fill_output`, timed as its own reported line): the read
/// (measured once per column set) plus the write, and the stage's time as a multiple of
/// it. For a transform whose output is larger than its input, beside (not instead of) the
/// bound of 3 reads it is held to.
fn read_write_floor(
    r: &mut Report,
    stage: &str,
    out: &DataFrame,
    outputs: &[&str],
    df: &DataFrame,
    cols: &[&str],
) -> Result<()> {
    let mut bytes = 0usize;
    for c in outputs {
        for a in &out.column(c)?.chunks {
            bytes += a.to_data().get_slice_memory_size()?;
        }
    }
    let name = format!(
        "  floor for {stage}: write {:.0} MB through the pool",
        bytes as f64 / 1e6
    );
    r.stage(&name, "", "all", df, cols, None, || {
        Ok(mlpipe::frame::buffer::floor::fill_output(bytes / 8, 1.0))
    })?;
    let line = |n: &str| r.lines.iter().rev().find(|l| l.name.starts_with(n));
    if let (Some(t), Some(w)) = (line(stage), line(&name)) {
        let floor = w.read + w.ours;
        println!(
            "  floor for {stage}: read of its inputs + write of its output {:.1} ms; the stage {:.1}x of it (held to {TRANSFORM_TARGET}x of the read alone, above)",
            floor * 1e3,
            t.ours / floor,
        );
    }
    Ok(())
}
