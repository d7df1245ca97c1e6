//! The tree engine refits the Spark 4.3 tree fixtures node for node.
//!
//! Fixtures: `tests/fixtures/spark2/` (copied from the project's Spark 4.3.0 fixture set 2,
//! written by PySpark 4.3.0 with the training data coalesced to one partition; see the
//! README there). Each case's `saved_nodes` is the node table Spark wrote; the engine must
//! give the same nodes with the same numbers. Tolerance: exact (0 ulp) for everything,
//! except logistic GBT trees after the first, whose residuals go through `exp` (the JVM's and
//! Rust's may differ by an ulp), compared to 1e-12 relative.

use std::collections::HashMap;

use mlpipe::tree::engine::{
    train_forest, train_gbt, Boosting, Impurity, Instances, Loss, Strategy, TrainedSplit,
    TrainedTree,
};
use serde_json::Value;

const DIR: &str = "tests/fixtures/spark2";

struct Data {
    rows: Vec<f64>,
    labels: Vec<f64>,
    nf: usize,
}

/// Reads a fixture CSV; `cat` is the string column indexed as StringIndexer's
/// frequencyDesc does (count descending, then label ascending), appended last.
fn read(file: &str, num: &[&str], cat: Option<&str>) -> Data {
    let text = std::fs::read_to_string(format!("{DIR}/{file}")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let idx = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let recs: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let mut index = HashMap::new();
    if let Some(c) = cat {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for r in &recs {
            *counts.entry(r[idx(c)]).or_default() += 1;
        }
        let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        for (i, (k, _)) in v.into_iter().enumerate() {
            index.insert(k.to_string(), i as f64);
        }
    }
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for r in &recs {
        for n in num {
            rows.push(r[idx(n)].parse::<f64>().unwrap());
        }
        if let Some(c) = cat {
            rows.push(index[r[idx(c)]]);
        }
        labels.push(r[idx("label")].parse::<f64>().unwrap());
    }
    let nf = num.len() + usize::from(cat.is_some());
    Data { rows, labels, nf }
}

fn case(name: &str) -> (Value, Value) {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{name}.json")).unwrap())
            .unwrap();
    let p = v["stages"].as_array().unwrap().last().unwrap()["params"].clone();
    (v, p)
}

fn strategy(p: &Value, imp: Impurity, num_classes: usize, cat: &Value) -> Strategy {
    let mut s = Strategy::new(imp, num_classes);
    s.max_depth = p["maxDepth"].as_u64().unwrap() as usize;
    s.max_bins = p["maxBins"].as_u64().unwrap() as usize;
    s.min_instances_per_node = p["minInstancesPerNode"].as_u64().unwrap() as usize;
    s.min_info_gain = p["minInfoGain"].as_f64().unwrap();
    s.min_weight_fraction_per_node = p["minWeightFractionPerNode"].as_f64().unwrap();
    s.seed = p["seed"].as_i64().unwrap();
    s.subsampling_rate = p
        .get("subsamplingRate")
        .and_then(Value::as_f64)
        .unwrap_or(1.0);
    s.bootstrap = p.get("bootstrap").and_then(Value::as_bool).unwrap_or(false);
    for (k, v) in cat.as_object().unwrap() {
        s.categorical
            .insert(k.parse().unwrap(), v.as_u64().unwrap() as usize);
    }
    s
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 0.0, max_relative = rel)
}

fn compare(what: &str, got: &TrainedTree, want: &Value, rel: f64) {
    let want = want.as_array().unwrap();
    assert_eq!(got.nodes.len(), want.len(), "{what}: node count");
    for (g, w) in got.nodes.iter().zip(want) {
        let id = w["id"].as_u64().unwrap();
        let ctx = format!("{what}, node {id}: got {g:?}, Spark {w}");
        let ws: Vec<f64> = w["impurityStats"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        // Variance trees are grown with histogram subtraction (the engine's default): their
        // numbers carry a rounding of a few ulps of the parent's sums (the engine's docs and
        // tests derive the bound), compared relative to the node's scale (mean square,
        // impurity, largest statistic); structure, thresholds and counts stay exact.
        let (rel, ms, top) = if ws.len() == 3 {
            let ms = if ws[0] > 0.0 {
                (ws[2] / ws[0]).abs()
            } else {
                0.0
            };
            (
                rel.max(1e-12),
                ms,
                ws.iter().fold(0.0f64, |m, v| m.max(v.abs())),
            )
        } else {
            (rel, 0.0, 0.0)
        };
        let near = |x: f64, y: f64, scale: f64| close(x, y, rel) || (x - y).abs() <= rel * scale;
        let wi = w["impurity"].as_f64().unwrap();
        assert!(
            near(g.prediction, w["prediction"].as_f64().unwrap(), ms.sqrt()),
            "prediction; {ctx}"
        );
        assert!(near(g.impurity, wi, ms), "impurity; {ctx}");
        assert!(
            near(g.gain, w["gain"].as_f64().unwrap(), wi.abs().max(ms)),
            "gain; {ctx}"
        );
        assert_eq!(
            g.raw_count,
            w["rawCount"].as_i64().unwrap(),
            "rawCount; {ctx}"
        );
        assert_eq!(g.impurity_stats.len(), ws.len(), "{ctx}");
        for (a, b) in g.impurity_stats.iter().zip(&ws) {
            assert!(near(*a, *b, top), "impurityStats; {ctx}");
        }
        assert_eq!(
            g.left_child as i64,
            w["leftChild"].as_i64().unwrap(),
            "{ctx}"
        );
        assert_eq!(
            g.right_child as i64,
            w["rightChild"].as_i64().unwrap(),
            "{ctx}"
        );
        let sp = &w["split"];
        let lc: Vec<f64> = sp["leftCategoriesOrThreshold"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        match &g.split {
            None => assert_eq!(sp["featureIndex"].as_i64().unwrap(), -1, "{ctx}"),
            Some(TrainedSplit::Continuous { feature, threshold }) => {
                assert_eq!(
                    *feature as i64,
                    sp["featureIndex"].as_i64().unwrap(),
                    "{ctx}"
                );
                assert_eq!(sp["numCategories"].as_i64().unwrap(), -1, "{ctx}");
                assert_eq!(vec![*threshold], lc, "threshold; {ctx}");
            }
            Some(TrainedSplit::Categorical {
                feature,
                left_categories,
                num_categories,
            }) => {
                assert_eq!(
                    *feature as i64,
                    sp["featureIndex"].as_i64().unwrap(),
                    "{ctx}"
                );
                assert_eq!(
                    *num_categories as i64,
                    sp["numCategories"].as_i64().unwrap(),
                    "{ctx}"
                );
                assert_eq!(*left_categories, lc, "categories; {ctx}");
            }
        }
    }
}

fn forest_case(
    name: &str,
    file: &str,
    num: &[&str],
    cat: Option<&str>,
    imp: Impurity,
    num_classes: usize,
    trees: usize,
) {
    let (v, p) = case(name);
    let d = read(file, num, cat);
    let inst = Instances::new(vec![&d.rows], d.nf, d.labels.clone(), None).unwrap();
    let mut s = strategy(
        &p,
        imp,
        num_classes,
        &v["categorical_features_seen_by_model"],
    );
    s.prune = p.get("pruneTree").and_then(Value::as_bool).unwrap_or(true);
    let fss = p
        .get("featureSubsetStrategy")
        .and_then(Value::as_str)
        .unwrap_or("all");
    let got = train_forest("test", &inst, &s, trees, fss).unwrap();
    for t in &got {
        // The model structure takes the engine's trees as they are.
        let dt = t.to_decision_tree(d.nf, num_classes).unwrap();
        assert_eq!(dt.num_nodes(), t.nodes.len());
    }
    let saved = &v["model"]["saved_nodes"];
    if trees == 1 && saved.get("nodes").is_some() {
        compare(name, &got[0], &saved["nodes"], 0.0);
    } else {
        for (t, tree) in got.iter().enumerate() {
            compare(
                &format!("{name} tree {t}"),
                tree,
                &saved["trees"][t]["nodes"],
                0.0,
            );
        }
    }
}

#[test]
fn dtc_mixed_node_for_node() {
    forest_case(
        "dtc_mixed",
        "synth_mixed_train.csv",
        &["x1", "x2"],
        Some("color"),
        Impurity::Gini,
        2,
        1,
    );
}

#[test]
fn dtr_synth_node_for_node() {
    forest_case(
        "dtr_synth",
        "synth_reg_train.csv",
        &["x1", "x2", "x3", "x4", "x5"],
        None,
        Impurity::Variance,
        0,
        1,
    );
}

#[test]
fn rfc_3class_node_for_node() {
    forest_case(
        "rfc_3class",
        "synth_3class_train.csv",
        &["x1", "x2", "x3"],
        Some("shape"),
        Impurity::Gini,
        3,
        7,
    );
}

#[test]
fn rfr_synth_node_for_node() {
    forest_case(
        "rfr_synth",
        "synth_reg_train.csv",
        &["x1", "x2", "x3", "x4", "x5"],
        None,
        Impurity::Variance,
        0,
        8,
    );
}

fn gbt_case(name: &str, file: &str, num: &[&str], loss: Loss) {
    let (v, p) = case(name);
    let d = read(file, num, None);
    let inst = Instances::new(vec![&d.rows], d.nf, d.labels.clone(), None).unwrap();
    let s = strategy(
        &p,
        Impurity::Variance,
        0,
        &v["categorical_features_seen_by_model"],
    );
    let g = Boosting {
        loss,
        max_iter: p["maxIter"].as_u64().unwrap() as usize,
        step_size: p["stepSize"].as_f64().unwrap(),
        validation_tol: p["validationTol"].as_f64().unwrap(),
        feature_subset_strategy: p["featureSubsetStrategy"].as_str().unwrap().into(),
    };
    let got = train_gbt("test", &inst, None, &s, &g).unwrap();
    let want_w: Vec<f64> = v["model"]["treeWeights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(got.weights, want_w);
    for (t, tree) in got.trees.iter().enumerate() {
        // Logistic residuals go through exp: the JVM's and Rust's may differ by an ulp.
        let rel = if t > 0 && loss == Loss::Logistic {
            1e-12
        } else {
            0.0
        };
        compare(
            &format!("{name} tree {t}"),
            tree,
            &v["model"]["saved_nodes"]["trees"][t]["nodes"],
            rel,
        );
    }
}

#[test]
fn gbtc_binary_node_for_node() {
    gbt_case(
        "gbtc_binary",
        "synth_binary_train.csv",
        &["x1", "x2", "x3", "x4"],
        Loss::Logistic,
    );
}

#[test]
fn gbtr_squared_node_for_node() {
    gbt_case(
        "gbtr_squared",
        "synth_reg_train.csv",
        &["x1", "x2", "x3", "x4", "x5"],
        Loss::Squared,
    );
}
