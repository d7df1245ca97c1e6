//! mlpipe's RandomForestClassifier and GBTClassifier against PySpark 4.3's on the tree
//! benchmark's split: are they the same trees, the same test predictions and the same test
//! AUC?
//!
//! Steps: `cargo run --release --example tree_bench` writes the split
//! (`bench_data/churn_1m_train.parquet`, `churn_1m_test.parquet`); then
//! `/work/venv/bin/python bench/anchors/tree_spark.py` fits Spark's forest and GBT on the
//! training file read as one partition and saves the models and their test scores in
//! `bench_data/spark_trees/`; then this example fits ours with the same params and seeds on
//! the same single partition, loads Spark's saved models through mlpipe's reader and compares
//! node for node (split feature and threshold, impurity, stats, gain, counts) and the test
//! rows' P(churn = 1) with the JVM's. The forest is checked twice: with Spark's default
//! `pruneTree = true` and with `pruneTree = false`, whose AUC shows what pruning costs.
//!
//! Run: `cargo run --release --example tree_spark_check [-- DATA_DIR [SPARK_DIR]]`.

use mlpipe::classification::{GBTClassifier, RandomForestClassifier};
use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use mlpipe::tree::{DecisionTree, GBTClassificationModel, RandomForestClassificationModel, Split};

mod support;

use support::{auc, f64_column};

/// One comparison: name, our trees, Spark's, our test P(1), Spark's, the relative tolerance
/// of the node numbers.
type Case<'a> = (
    &'a str,
    &'a [DecisionTree],
    &'a [DecisionTree],
    Vec<f64>,
    Vec<f64>,
    f64,
);

/// The first node where `ours` and `spark` differ (numbers compared to `rel` relative), as
/// a sentence; `None` when every node of every tree agrees.
fn first_difference(ours: &[DecisionTree], spark: &[DecisionTree], rel: f64) -> Option<String> {
    let close = |a: f64, b: f64| a == b || (a - b).abs() <= rel * a.abs().max(b.abs());
    // GBT's trees are grown with histogram subtraction, whose sums carry a rounding of a
    // few ulps of the sums they were subtracted from, at most the root's (the bound the
    // `mlpipe::tree::engine` tests derive): Σwy within rel·√(W·S) and Σwy² within rel·S of
    // the root's W = Σw, S = Σwy²; a node of weight w: prediction within rel·√(W·S)/w,
    // impurity and gain within 4·rel·S/w.
    let close_in = |a: f64, b: f64, bound: f64| close(a, b) || (a - b).abs() <= bound;
    if ours.len() != spark.len() {
        return Some(format!("{} trees vs Spark's {}", ours.len(), spark.len()));
    }
    for (t, (g, w)) in ours.iter().zip(spark).enumerate() {
        let root = &w.nodes()[0].impurity_stats;
        let (big_w, big_s) = if root.len() == 3 {
            (root[0], root[2].abs())
        } else {
            (0.0, 0.0)
        };
        for (i, (a, b)) in g.nodes().iter().zip(w.nodes()).enumerate() {
            let wn = b.impurity_stats.first().copied().unwrap_or(0.0).max(1.0);
            let sy = rel * (big_w * big_s).sqrt();
            let bounds = [0.0, sy, rel * big_s];
            let same_split = match (&a.split, &b.split) {
                (
                    Some(Split::Continuous {
                        feature: f1,
                        threshold: t1,
                    }),
                    Some(Split::Continuous {
                        feature: f2,
                        threshold: t2,
                    }),
                ) => f1 == f2 && t1 == t2,
                (x, y) => x == y,
            };
            let same = same_split
                && close_in(a.prediction, b.prediction, sy / wn)
                && close_in(a.impurity, b.impurity, 4.0 * rel * big_s / wn)
                && close_in(a.gain, b.gain, 4.0 * rel * big_s / wn)
                && a.raw_count == b.raw_count
                && (a.left_child, a.right_child) == (b.left_child, b.right_child)
                && a.impurity_stats.len() == b.impurity_stats.len()
                && a.impurity_stats
                    .iter()
                    .zip(&b.impurity_stats)
                    .enumerate()
                    .all(|(k, (x, y))| close_in(*x, *y, bounds.get(k).copied().unwrap_or(0.0)));
            if !same {
                return Some(format!("tree {t} node {i}: ours {a:?}\n    Spark's {b:?}"));
            }
        }
        if g.num_nodes() != w.num_nodes() {
            return Some(format!(
                "tree {t}: {} nodes vs Spark's {}",
                g.num_nodes(),
                w.num_nodes()
            ));
        }
    }
    None
}

/// The root split and its two children's splits of a tree, as `f<feature> <= threshold`.
fn top_splits(t: &DecisionTree) -> String {
    let show = |i: i32| match t.nodes().get(i as usize).and_then(|n| n.split.as_ref()) {
        Some(Split::Continuous { feature, threshold }) => format!("f{feature} <= {threshold}"),
        Some(s) => format!("{s:?}"),
        None => "leaf".into(),
    };
    let root = t.root();
    format!(
        "root {}; left {}; right {}",
        show(0),
        show(root.left_child),
        show(root.right_child)
    )
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args.get(1).map(String::as_str).unwrap_or("bench_data");
    let spark_dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| format!("{dir}/spark_trees"));
    let [train_path, test_path] = ["train", "test"].map(|k| format!("{dir}/churn_1m_{k}.parquet"));
    for p in [&train_path, &test_path, &spark_dir] {
        if !std::path::Path::new(p).exists() {
            return Err(Error::Usage(format!(
                "{p} is missing: run `cargo run --release --example tree_bench` (writes the split), then `python bench/anchors/tree_spark.py` (Spark's models)"
            )));
        }
    }
    // One partition, in file order: Spark's bootstrap and split-finding sample are seeded
    // per partition, and tree_spark.py reads the file as one partition too.
    let one = ParquetOptions::default().with_partitions(1);
    let (train, test) = (
        DataFrame::read_parquet(&train_path, &one)?,
        DataFrame::read_parquet(&test_path, &one)?,
    );
    let features: Vec<String> = train
        .columns()
        .into_iter()
        .filter(|n| !["customer_id", "churn"].contains(n))
        .map(str::to_string)
        .collect();
    let asm = VectorAssembler::new()
        .with_input_cols(&features)
        .with_output_col("features");
    let train = asm.transform(&train)?.select(["features", "churn"])?;
    println!(
        "train {} rows x {} features in {} partition; test {} rows",
        train.num_rows(),
        features.len(),
        train.num_partitions(),
        test.num_rows()
    );
    let cols: Vec<Vec<f64>> = features
        .iter()
        .map(|f| f64_column(&test, f))
        .collect::<Result<_>>()?;
    let rows: Vec<Vec<f64>> = (0..test.num_rows())
        .map(|r| cols.iter().map(|c| c[r]).collect())
        .collect();
    let labels = f64_column(&test, "churn")?;
    let ids = f64_column(&test, "customer_id")?;

    let spark_scores = DataFrame::read_parquet(
        format!("{spark_dir}/test_scores.parquet"),
        &ParquetOptions::default(),
    )?;
    if f64_column(&spark_scores, "customer_id")? != ids {
        return Err(Error::Usage(format!(
            "{spark_dir}/test_scores.parquet is not on {test_path}'s rows: rerun tree_spark.py"
        )));
    }

    let rf = RandomForestClassifier::new()
        .with_features_col("features")
        .with_label_col("churn")
        .with_num_trees(20)
        .with_max_depth(5)
        .with_max_bins(32)
        .with_feature_subset_strategy("auto")
        .with_bootstrap(true)
        .with_subsampling_rate(1.0)
        .with_seed(207336481);
    let gbt = GBTClassifier::new()
        .with_features_col("features")
        .with_label_col("churn")
        .with_max_iter(20)
        .with_max_depth(5)
        .with_max_bins(32)
        .with_step_size(0.1)
        .with_seed(-1287390502);
    let rf_ours = rf.fit(&train)?;
    let rf_spark = RandomForestClassificationModel::load(format!("{spark_dir}/rf"))?;
    let unpruned_ours = rf.clone().with_prune_tree(false).fit(&train)?;
    let unpruned_spark = RandomForestClassificationModel::load(format!("{spark_dir}/rf_unpruned"))?;
    let gbt_ours = gbt.fit(&train)?;
    let gbt_spark = GBTClassificationModel::load(format!("{spark_dir}/gbt"))?;

    let p1 = |f: &dyn Fn(&[f64]) -> Result<Vec<f64>>| -> Result<Vec<f64>> {
        rows.iter().map(|x| Ok(f(x)?[1])).collect()
    };
    let cases: [Case; 3] = [
        (
            "RandomForestClassifier",
            rf_ours.trees(),
            rf_spark.trees(),
            p1(&|x| rf_ours.predict_probability(x))?,
            f64_column(&spark_scores, "rf")?,
            0.0,
        ),
        (
            "RandomForestClassifier pruneTree=false",
            unpruned_ours.trees(),
            unpruned_spark.trees(),
            p1(&|x| unpruned_ours.predict_probability(x))?,
            f64_column(&spark_scores, "rf_unpruned")?,
            0.0,
        ),
        (
            "GBTClassifier",
            gbt_ours.trees(),
            gbt_spark.trees(),
            p1(&|x| gbt_ours.predict_probability(x))?,
            f64_column(&spark_scores, "gbt")?,
            // Logistic residuals go through exp: the JVM's and Rust's may differ by an ulp;
            // histogram subtraction rounds the sums a few ulps of the parent's.
            1e-12,
        ),
    ];
    let mut all_same = true;
    for (name, ours, spark, ours_p, spark_p, rel) in cases {
        let diff = ours_p
            .iter()
            .zip(&spark_p)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        println!(
            "{name}: test AUC ours {:.4}, PySpark 4.3 {:.4}; max |P(1) ours - Spark's| over the test rows {diff:.2e}",
            auc(&ours_p, &labels),
            auc(&spark_p, &labels)
        );
        let mut distinct = ours_p.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        println!(
            "  {} leaves in {} trees; {} distinct test scores",
            ours.iter().map(DecisionTree::num_leaves).sum::<usize>(),
            ours.len(),
            distinct.len()
        );
        println!("  tree 0 ours:    {}", top_splits(&ours[0]));
        println!("  tree 0 Spark's: {}", top_splits(&spark[0]));
        match first_difference(ours, spark, rel) {
            None => println!(
                "  trees: all {} identical node for node ({} nodes)",
                ours.len(),
                ours.iter().map(DecisionTree::num_nodes).sum::<usize>()
            ),
            Some(d) => {
                all_same = false;
                println!("  trees DIFFER; first difference: {d}");
            }
        }
        all_same &= diff <= 1e-9;
    }
    println!(
        "target Spark's trees and predictions (to 1e-9) on the benchmark split: {}",
        if all_same { "met" } else { "NOT met" }
    );
    Ok(())
}
