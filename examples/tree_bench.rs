//! Benchmark report for the tree engine: GBTClassifier (maxIter 20, maxDepth 5, maxBins 32,
//! stepSize 0.1) and RandomForestClassifier (20 trees, maxDepth 5, featureSubsetStrategy
//! auto = sqrt, bootstrap) on the 800k training rows of the churn file, binning included.
//!
//! Data: `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2
//! --out bench_data/churn_1m.parquet`. The 20 numeric features are assembled (rows with a
//! null dropped) and split 80/20 with seed 42. The other libraries run on the same file
//! with `bench/anchors/tree_anchors.py`.
//!
//! Run: `cargo run --release --example tree_bench [-- PATH [REPEATS]]`.

use std::time::Instant;

use mlpipe::tree::engine::{
    train_forest, train_gbt, Boosting, Impurity, Instances, LabelKind, Loss, Strategy,
};

mod support;

use support::{median, BenchData};

/// Area under the ROC curve of `scores` for 0/1 `labels` (ties counted half).
fn auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1.0 {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y == 1.0).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(3);
    let data = BenchData::load(args.get(1).map(String::as_str))?;
    let (train, test, features) = (&data.train, &data.test, &data.features);
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

    // GBT: Spark's defaults.
    let mut s = Strategy::new(Impurity::Variance, 2);
    s.seed = -1287390502; // GBTClassifier's Scala default seed
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
    let n = features.len();
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
    println!(
        "GBTClassifier fit (maxIter 20, maxDepth 5, maxBins 32): median {:.3} s of {repeats} {:?}; test AUC {:.4}",
        median(&mut times),
        times,
        auc(&margins, test_inst.labels())
    );

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
    let forest: Vec<_> = forest
        .iter()
        .map(|t| t.to_decision_tree(n, 2))
        .collect::<mlpipe::Result<_>>()?;
    let votes: Vec<f64> = test_inst
        .rows()
        .map(|x| {
            forest
                .iter()
                .map(|t| {
                    let s = &t.leaf_for(x).impurity_stats;
                    s[1] / (s[0] + s[1])
                })
                .sum()
        })
        .collect();
    println!(
        "RandomForestClassifier fit (20 trees, maxDepth 5, sqrt): median {:.3} s of {repeats} {:?}; test AUC {:.4}",
        median(&mut times),
        times,
        auc(&votes, test_inst.labels())
    );
    Ok(())
}
