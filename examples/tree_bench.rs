//! Benchmark report for the tree engine: GBTClassifier (maxIter 20, maxDepth 5, maxBins 32,
//! stepSize 0.1) and RandomForestClassifier (20 trees, maxDepth 5, featureSubsetStrategy
//! auto = sqrt, bootstrap) on the 800k training rows of the churn file, binning included.
//!
//! Data: `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2
//! --out bench_data/churn_1m.parquet`. The 20 numeric features are assembled (rows with a
//! null dropped) and split 80/20 with seed 42 (Spark's `randomSplit`). The split is written
//! once beside the data file (`churn_1m_train.parquet`, `churn_1m_test.parquet`), and the
//! other libraries run on exactly those rows: `bench/anchors/tree_anchors.py` (LightGBM,
//! scikit-learn) and `bench/anchors/tree_spark.py` (PySpark 4.3, whose trees
//! `examples/tree_spark_check.rs` compares with ours node for node).
//!
//! Test AUCs: the forest's is Spark's (the same trees on the same partition), and lower
//! than scikit-learn's or LightGBM's because of Spark's default `pruneTree = true`, which
//! merges sibling leaves predicting the same class whatever their class distributions (with
//! ~25% positives most leaves predict 0); the line `pruneTree=false` shows the forest
//! without it. `bench/anchors/tree_auc_why.py` reproduces both AUCs with scikit-learn's
//! forest pruned Spark's way, and shows why Spark's GBT is ahead of LightGBM's at 20 trees.
//!
//! Run: `cargo run --release --example tree_bench [-- PATH [REPEATS]]`; `TREE_BENCH=gbt` or
//! `TREE_BENCH=rf` runs only that model (to profile it alone). With
//! `TREE_BENCH_PYTHON=/path/to/python` (LightGBM and scikit-learn installed), the example
//! then runs `bench/anchors/tree_anchors.py` on the same split in the same run and prints
//! the targets (GBT and RF fits at least 3x faster than LightGBM's) as met or not.
//! `TREE_BENCH_BASELINE=1` also fits the GBT without histogram subtraction first (the
//! engine's row-by-row sums, Spark's bits), for a before/after in the same run.

use std::time::Instant;

use mlpipe::tree::engine::{
    train_forest, train_gbt, Boosting, Impurity, Instances, LabelKind, Loss, Strategy,
};

mod support;

use support::{auc, f64_column, median, BenchData};

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let data = BenchData::load(args.get(1).map(String::as_str))?;
    let (train, test, features) = (&data.train, &data.test, &data.features);
    // The other libraries' scripts (bench/anchors/tree_anchors.py, tree_spark.py) read this
    // split, so that every tool trains on the same rows and scores the same test rows.
    let [train_path, test_path] = data.write_split()?;
    println!(
        "split: {} and {} (written once, read by bench/anchors/)",
        train_path.display(),
        test_path.display()
    );
    println!(
        "train {} rows x {} features ({} partitions), test {} rows; {} threads",
        train.num_rows(),
        features.len(),
        train.num_partitions(),
        test.num_rows(),
        rayon::current_num_threads()
    );
    let test_inst = Instances::from_frame(
        test,
        "bench",
        "features",
        "churn",
        None,
        LabelKind::Classes(2),
    )?;

    // `TREE_BENCH=gbt` or `TREE_BENCH=rf` runs one of the two (to profile it alone).
    let only = std::env::var("TREE_BENCH").unwrap_or_default();
    let n = features.len();
    let gbt_s = if only != "rf" {
        // `TREE_BENCH_BASELINE=1`: first the engine without histogram subtraction (every
        // histogram summed row by row, Spark's bits), for a before/after in one run.
        if std::env::var("TREE_BENCH_BASELINE").is_ok_and(|v| v == "1") {
            gbt(&data, &test_inst, repeats, false)?;
        }
        Some(gbt(&data, &test_inst, repeats, true)?)
    } else {
        None
    };
    let rf_s = if only != "gbt" {
        Some(rf(&data, &test_inst, repeats, n)?)
    } else {
        None
    };
    spark_aucs(&data, test_inst.labels())?;
    targets(&data.path, repeats, gbt_s, rf_s);
    Ok(())
}

/// Runs `bench/anchors/tree_anchors.py` (LightGBM, scikit-learn) on the same split when
/// `TREE_BENCH_PYTHON` names a Python with those libraries, and prints the targets:
/// GBTClassifier and RandomForestClassifier fits at least 3x faster than LightGBM's.
fn targets(path: &str, repeats: usize, gbt: Option<f64>, rf: Option<f64>) {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average: {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let Ok(python) = std::env::var("TREE_BENCH_PYTHON") else {
        println!("targets (GBT and RF fits >= 3x faster than LightGBM's): set TREE_BENCH_PYTHON=/path/to/python (with lightgbm) to run bench/anchors/tree_anchors.py in this run");
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/anchors/tree_anchors.py");
    let out = match std::process::Command::new(&python)
        .args([script, path, &repeats.to_string()])
        .output()
    {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            println!(
                "{script} failed: {}",
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return;
        }
        Err(e) => {
            println!("could not run {python}: {e}");
            return;
        }
    };
    print!("{out}");
    // "LightGBM GBT: median 1.181 s of 3 [...]"
    let median = |name: &str| -> Option<f64> {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name}: median ")))?;
        line.split_whitespace()
            .nth(name.split_whitespace().count() + 1)?
            .parse()
            .ok()
    };
    for (what, ours, theirs) in [
        ("GBTClassifier", gbt, median("LightGBM GBT")),
        (
            "RandomForestClassifier",
            rf,
            median("LightGBM random forest"),
        ),
    ] {
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            let ratio = theirs / ours;
            println!(
                "target {what} fit >= 3x faster than LightGBM's: ours {ours:.3} s, LightGBM {theirs:.3} s (same run) = {ratio:.2}x: {}",
                if ratio >= 3.0 { "met" } else { "NOT met" }
            );
        }
    }
}

fn gbt(
    data: &BenchData,
    test_inst: &Instances,
    repeats: usize,
    subtract: bool,
) -> mlpipe::Result<f64> {
    let (train, features) = (&data.train, &data.features);
    // GBT: Spark's defaults.
    let mut s = Strategy::new(Impurity::Variance, 2);
    s.seed = -1287390502; // GBTClassifier's Scala default seed
    s.subtract_histograms = subtract;
    let g = Boosting {
        loss: Loss::Logistic,
        max_iter: 20,
        step_size: 0.1,
        validation_tol: 0.01,
        feature_subset_strategy: "all".into(),
    };
    let mut times = Vec::new();
    let mut model = None;
    for _ in 0..repeats {
        let t = Instant::now();
        let inst = Instances::from_frame(
            train,
            "GBTClassifier",
            "features",
            "churn",
            None,
            LabelKind::Classes(2),
        )?;
        model = Some(train_gbt("GBTClassifier", &inst, None, &s, &g)?);
        times.push(t.elapsed().as_secs_f64());
    }
    let boosted = model.expect("at least one repeat");
    let trees: Vec<_> = boosted
        .trees
        .iter()
        .map(|t| t.to_decision_tree(features.len(), 0))
        .collect::<mlpipe::Result<_>>()?;
    let margins: Vec<f64> = test_inst
        .rows()
        .map(|x| {
            trees
                .iter()
                .zip(&boosted.weights)
                .map(|(t, w)| t.predict(x) * w)
                .sum()
        })
        .collect();
    let med = median(&mut times);
    println!(
        "GBTClassifier fit (maxIter 20, maxDepth 5, maxBins 32{}): median {med:.3} s of {repeats} {:?}; test AUC {:.4}",
        if subtract { "" } else { ", histogram subtraction off" },
        times,
        auc(&margins, test_inst.labels())
    );
    Ok(med)
}

fn rf(data: &BenchData, test_inst: &Instances, repeats: usize, n: usize) -> mlpipe::Result<f64> {
    let train = &data.train;
    // RF: Spark's defaults.
    let mut s = Strategy::new(Impurity::Gini, 2);
    s.seed = 207336481; // RandomForestClassifier's Scala default seed
    s.bootstrap = true;
    let mut times = Vec::new();
    let mut forest = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        let inst = Instances::from_frame(
            train,
            "RandomForestClassifier",
            "features",
            "churn",
            None,
            LabelKind::Classes(2),
        )?;
        forest = train_forest("RandomForestClassifier", &inst, &s, 20, "auto")?;
        times.push(t.elapsed().as_secs_f64());
    }
    // Spark's forest score: each tree's leaf class distribution, averaged (the sum ranks
    // the same).
    let forest_auc = |forest: &[mlpipe::tree::engine::TrainedTree]| -> mlpipe::Result<f64> {
        let trees: Vec<_> = forest
            .iter()
            .map(|t| t.to_decision_tree(n, 2))
            .collect::<mlpipe::Result<_>>()?;
        let votes: Vec<f64> = test_inst
            .rows()
            .map(|x| {
                trees
                    .iter()
                    .map(|t| {
                        let s = &t.leaf_for(x).impurity_stats;
                        s[1] / (s[0] + s[1])
                    })
                    .sum()
            })
            .collect();
        Ok(auc(&votes, test_inst.labels()))
    };
    let med = median(&mut times);
    println!(
        "RandomForestClassifier fit (20 trees, maxDepth 5, sqrt): median {med:.3} s of {repeats} {:?}; test AUC {:.4}",
        times,
        forest_auc(&forest)?
    );
    // Spark's default pruneTree = true merges sibling leaves that predict the same class
    // whatever their class distributions; with ~25% positives most leaves predict 0, so the
    // forest's probabilities coarsen. Without pruning (pruneTree = false, Spark 4.3):
    s.prune = false;
    let inst = Instances::from_frame(
        train,
        "RandomForestClassifier",
        "features",
        "churn",
        None,
        LabelKind::Classes(2),
    )?;
    let unpruned = train_forest("RandomForestClassifier", &inst, &s, 20, "auto")?;
    println!(
        "RandomForestClassifier pruneTree=false: test AUC {:.4}",
        forest_auc(&unpruned)?
    );
    Ok(med)
}

/// Prints PySpark 4.3's test AUCs on the same test rows when `bench/anchors/tree_spark.py`
/// has scored them (`<data dir>/spark_trees/test_scores.parquet`).
fn spark_aucs(data: &BenchData, labels: &[f64]) -> mlpipe::Result<()> {
    let dir = std::path::Path::new(&data.path)
        .parent()
        .unwrap_or(std::path::Path::new("."));
    let path = dir.join("spark_trees/test_scores.parquet");
    if !path.exists() {
        println!(
            "(PySpark 4.3 on the same rows: run bench/anchors/tree_spark.py, then this again)"
        );
        return Ok(());
    }
    let scores = mlpipe::DataFrame::read_parquet(&path, &Default::default())?;
    if f64_column(&scores, "customer_id")? != f64_column(&data.split_tables[1], "customer_id")? {
        println!(
            "({} is not on this split's test rows: rerun bench/anchors/tree_spark.py)",
            path.display()
        );
        return Ok(());
    }
    let score = |c: &str| -> mlpipe::Result<f64> { Ok(auc(&f64_column(&scores, c)?, labels)) };
    println!(
        "PySpark 4.3 on the same rows (training rows in one partition; bench/anchors/tree_spark.py): test AUC RF {:.4}, RF pruneTree=false {:.4}, GBT {:.4}",
        score("rf")?,
        score("rf_unpruned")?,
        score("gbt")?
    );
    println!("  (mlpipe fitted on that one partition grows the same trees, node for node: examples/tree_spark_check.rs)");
    Ok(())
}
