//! Benchmark report for batch scoring with tree ensembles (issue #13's scoring target:
//! 200k rows with a 20-tree forest in under 10 ms).
//!
//! Builds a seeded 20-tree, depth-5 (complete, 63 nodes per tree) random forest over 20
//! features, 3 classes, and a 200k-row feature vector column in one partition, then times
//! `transform` (rawPrediction + probability + prediction) of the classifier, the same trees
//! as a regression forest (prediction only) and as a GBT classifier. Prints the median and
//! the minimum of the runs.
//!
//! Run: `cargo run --release --example tree_score_bench [-- ROWS [RUNS]]`.

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{ArrayRef, RecordBatch};
use mlpipe::frame::vector::vector_array;
use mlpipe::prelude::*;
use mlpipe::tree::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FEATURES: usize = 20;
const TREES: usize = 20;
const DEPTH: usize = 5;

/// A complete tree of `depth` with random splits; leaves carry class totals (`classes` > 0)
/// or variance stats.
fn random_tree(rng: &mut ChaCha8Rng, depth: usize, classes: usize) -> Node {
    if depth == 0 {
        if classes > 0 {
            let stats: Vec<f64> = (0..classes)
                .map(|_| rng.random_range(0..50) as f64 + 1.0)
                .collect();
            let best =
                stats.iter().enumerate().fold(
                    (0, f64::MIN),
                    |b, (i, v)| if *v > b.1 { (i, *v) } else { b },
                );
            return Node::leaf(best.0 as f64, 0.5, stats, 10);
        }
        let y: f64 = rng.random::<f64>() * 10.0;
        return Node::leaf(y, 1.0, vec![10.0, 10.0 * y, 10.0 * y * y + 5.0], 10);
    }
    let left = random_tree(rng, depth - 1, classes);
    let right = random_tree(rng, depth - 1, classes);
    let stats = left
        .impurity_stats
        .iter()
        .zip(&right.impurity_stats)
        .map(|(a, b)| a + b)
        .collect();
    let split = Split::continuous(
        rng.random_range(0..FEATURES),
        rng.random::<f64>() * 2.0 - 1.0,
    );
    let prediction = left.prediction;
    Node::internal(prediction, 0.5, stats, 20, split, 0.1, left, right)
}

fn time(
    label: &str,
    runs: usize,
    mut f: impl FnMut() -> mlpipe::Result<DataFrame>,
) -> mlpipe::Result<()> {
    f()?; // warm-up
    let mut ms = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let out = f()?;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(out);
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "{label:<44} median {:7.2} ms   min {:7.2} ms   ({runs} runs)",
        ms[runs / 2],
        ms[0]
    );
    Ok(())
}

fn main() -> mlpipe::Result<()> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(21);
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let x: Vec<f64> = (0..rows * FEATURES)
        .map(|_| rng.random::<f64>() * 2.0 - 1.0)
        .collect();
    let col = Arc::new(vector_array(x, FEATURES, None)?) as ArrayRef;
    let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("features", col)])
        .map_err(|e| mlpipe::Error::Frame(e.to_string()))?])?;

    let class_trees: Vec<DecisionTree> = (0..TREES)
        .map(|_| DecisionTree::from_root(random_tree(&mut rng, DEPTH, 3), FEATURES, 3))
        .collect::<mlpipe::Result<_>>()?;
    let reg_trees: Vec<DecisionTree> = (0..TREES)
        .map(|_| DecisionTree::from_root(random_tree(&mut rng, DEPTH, 0), FEATURES, 0))
        .collect::<mlpipe::Result<_>>()?;
    let rfc = RandomForestClassificationModel::new(
        "rfc_bench",
        RandomForestClassifierParams::default(),
        TreeEnsemble::new(class_trees, vec![1.0; TREES], FEATURES, 3)?,
    )?;
    let rfr = RandomForestRegressionModel::new(
        "rfr_bench",
        RandomForestRegressorParams::default(),
        TreeEnsemble::new(reg_trees.clone(), vec![1.0; TREES], FEATURES, 0)?,
    )?;
    let mut w = vec![0.1; TREES];
    w[0] = 1.0;
    let gbtc = GBTClassificationModel::new(
        "gbtc_bench",
        GBTClassifierParams::default(),
        TreeEnsemble::new(reg_trees, w, FEATURES, 0)?,
    )?;
    println!(
        "{rows} rows x {FEATURES} features in one partition; {TREES} trees of depth {DEPTH} \
         ({} nodes each); {} threads",
        rfc.trees()[0].num_nodes(),
        rayon::current_num_threads()
    );
    time("RandomForestClassificationModel.transform", runs, || {
        rfc.transform(&df)
    })?;
    time("RandomForestRegressionModel.transform", runs, || {
        rfr.transform(&df)
    })?;
    time("GBTClassificationModel.transform", runs, || {
        gbtc.transform(&df)
    })?;
    Ok(())
}
