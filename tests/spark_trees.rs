//! The six tree models against Spark 4.3 (fixtures in tests/fixtures/spark2, copied from
//! the project's Spark 4.3.0 fixture set; README there): every PySpark-saved pipeline loads
//! and predicts the test rows to 1e-9 of Spark's predictions CSV; sizes, depths and
//! feature importances match the fixture JSON (Spark's own `numNodes`, `depth`,
//! `featureImportances`); an mlpipe save loads back to the same predictions.

use crate::common;

use std::collections::HashMap;

use common::*;
use mlpipe::persist::{save, SaveMode};
use mlpipe::prelude::*;
use mlpipe::tree::*;

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/spark2/{name}", repo_root().display())
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(&format!("{name}.json"))).unwrap())
        .unwrap()
}

fn test_csv(case: &str) -> &'static str {
    match case {
        "dtc_mixed" => "synth_mixed_test.csv",
        "rfc_3class" => "synth_3class_test.csv",
        "gbtc_binary" => "synth_binary_test.csv",
        _ => "synth_reg_test.csv",
    }
}

/// Spark's prediction CSV columns, by name, keyed by id.
fn spark_predictions(case: &str) -> (Vec<String>, HashMap<i64, Vec<f64>>) {
    let df = DataFrame::read_csv(
        fixture(&format!("{case}_predictions.csv")),
        &CsvOptions::default(),
    )
    .unwrap();
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let cols: Vec<Vec<f64>> = names.iter().map(|n| f64_column(&df, n)).collect();
    let mut rows = HashMap::new();
    for r in 0..df.num_rows() {
        rows.insert(cols[0][r] as i64, cols.iter().map(|c| c[r]).collect());
    }
    (names, rows)
}

/// Our outputs in the CSV's column layout for row `r`.
fn our_row(
    out: &DataFrame,
    names: &[String],
    r: usize,
    cache: &mut HashMap<String, Vec<Vec<f64>>>,
) -> Vec<f64> {
    names
        .iter()
        .map(|n| {
            if let Some((col, i)) = n.rsplit_once('_') {
                if let Ok(i) = i.parse::<usize>() {
                    let rows = cache
                        .entry(col.to_string())
                        .or_insert_with(|| vector_rows(out, col));
                    return rows[r][i];
                }
            }
            let rows = cache
                .entry(n.clone())
                .or_insert_with(|| f64_column(out, n).into_iter().map(|v| vec![v]).collect());
            rows[r][0]
        })
        .collect()
}

fn check_case(case: &str, model: &PipelineModel) {
    let test = DataFrame::read_csv(fixture(test_csv(case)), &CsvOptions::default()).unwrap();
    let out = model.transform(&test).unwrap();
    let (names, spark) = spark_predictions(case);
    let ids = f64_column(&out, "id");
    assert_eq!(ids.len(), spark.len(), "{case}: row count");
    let mut cache = HashMap::new();
    for (r, id) in ids.iter().enumerate() {
        let ours = our_row(&out, &names, r, &mut cache);
        let want = &spark[&(*id as i64)];
        for (c, (a, b)) in ours.iter().zip(want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{case} id {id} column {}: mlpipe {a} vs Spark {b}",
                names[c]
            );
        }
    }
}

fn load(case: &str) -> PipelineModel {
    PipelineModel::load(fixture(&format!("{case}_pipeline"))).unwrap()
}

fn last<T: 'static>(m: &PipelineModel) -> &T {
    let t = m.stages().last().unwrap();
    (t.as_ref() as &dyn std::any::Any)
        .downcast_ref::<T>()
        .expect("the last stage is the tree model")
}

const CASES: [&str; 6] = [
    "dtc_mixed",
    "dtr_synth",
    "rfc_3class",
    "rfr_synth",
    "gbtc_binary",
    "gbtr_squared",
];

#[test]
fn spark_saved_tree_pipelines_predict_like_spark() {
    for case in CASES {
        check_case(case, &load(case));
    }
}

/// Spark's `featureImportances` from the fixture JSON, to 1e-12 (Spark sums in hash-map
/// order; the reference measured differences of ~1e-16).
fn assert_importances(case: &str, got: &[f64]) {
    let j = json(case);
    let want = floats(&j["model"]["featureImportances"]);
    assert_eq!(got.len(), want.len(), "{case}");
    for (a, b) in got.iter().zip(&want) {
        assert!(
            (a - b).abs() < 1e-12,
            "{case}: importances {got:?} vs Spark {want:?}"
        );
    }
}

#[test]
fn sizes_and_importances_match_spark() {
    let m = load("dtc_mixed");
    let dtc: &DecisionTreeClassificationModel = last(&m);
    let j = json("dtc_mixed");
    assert_eq!(
        dtc.num_nodes() as u64,
        j["model"]["numNodes"].as_u64().unwrap()
    );
    assert_eq!(dtc.depth() as u64, j["model"]["depth"].as_u64().unwrap());
    assert_importances("dtc_mixed", &dtc.feature_importances());
    // The categorical feature (index 2) is split on.
    assert!(dtc
        .tree()
        .nodes()
        .iter()
        .any(|n| matches!(n.split, Some(Split::Categorical { feature: 2, .. }))));

    let m = load("dtr_synth");
    let dtr: &DecisionTreeRegressionModel = last(&m);
    let j = json("dtr_synth");
    assert_eq!(
        dtr.num_nodes() as u64,
        j["model"]["numNodes"].as_u64().unwrap()
    );
    assert_eq!(dtr.depth() as u64, j["model"]["depth"].as_u64().unwrap());
    assert_importances("dtr_synth", &dtr.feature_importances());

    let m = load("rfc_3class");
    let rfc: &RandomForestClassificationModel = last(&m);
    let j = json("rfc_3class");
    assert_eq!(rfc.num_trees(), 7);
    assert_eq!(
        rfc.total_num_nodes() as u64,
        j["model"]["totalNumNodes"].as_u64().unwrap()
    );
    assert_eq!(
        rfc.tree_weights(),
        floats(&j["model"]["treeWeights"]).as_slice()
    );
    assert_importances("rfc_3class", &rfc.feature_importances());

    let m = load("rfr_synth");
    let rfr: &RandomForestRegressionModel = last(&m);
    assert_importances("rfr_synth", &rfr.feature_importances());

    let m = load("gbtc_binary");
    let gbtc: &GBTClassificationModel = last(&m);
    let j = json("gbtc_binary");
    assert_eq!(
        gbtc.tree_weights(),
        floats(&j["model"]["treeWeights"]).as_slice()
    );
    assert_importances("gbtc_binary", &gbtc.feature_importances());

    let m = load("gbtr_squared");
    let gbtr: &GBTRegressionModel = last(&m);
    let j = json("gbtr_squared");
    assert_eq!(
        gbtr.tree_weights(),
        floats(&j["model"]["treeWeights"]).as_slice()
    );
    assert_importances("gbtr_squared", &gbtr.feature_importances());
}

#[test]
fn single_row_predict_agrees_with_transform() {
    let m = load("gbtc_binary");
    let g: &GBTClassificationModel = last(&m);
    let (_, spark) = spark_predictions("gbtc_binary");
    let test =
        DataFrame::read_csv(fixture("synth_binary_test.csv"), &CsvOptions::default()).unwrap();
    let feats = vector_rows(&m.transform(&test).unwrap(), "features");
    let ids = f64_column(&test, "id");
    for (x, id) in feats.iter().zip(&ids) {
        let want = &spark[&(*id as i64)];
        let p = g.predict_probability(x).unwrap();
        assert!((p[1] - want[4]).abs() < 1e-9);
        assert_eq!(g.predict(x).unwrap(), want[5]);
    }
    let err = g.predict(&[1.0]).unwrap_err().to_string();
    assert!(
        err.contains("GBTClassificationModel") && err.contains('4'),
        "{err}"
    );
}

#[test]
fn mlpipe_saved_pipelines_load_back_identically() {
    let tmp = std::env::temp_dir().join(format!("mlpipe-trees-{}", std::process::id()));
    for case in CASES {
        let m = load(case);
        let dir = tmp.join(case);
        save(&m, &dir, SaveMode::Overwrite).unwrap();
        let back = PipelineModel::load(&dir).unwrap();
        check_case(case, &back);
        // Per-tree metadata carries only params the tree class has.
        if let Ok(rd) = std::fs::read_dir(dir.join("stages")) {
            for e in rd.flatten() {
                let md = std::fs::read_to_string(
                    std::fs::read_dir(e.path().join("metadata"))
                        .unwrap()
                        .flatten()
                        .find(|f| f.file_name().to_string_lossy().starts_with("part-"))
                        .unwrap()
                        .path(),
                )
                .unwrap();
                if case.starts_with("dtr") || case.starts_with("rfr") || case.starts_with("gbt") {
                    assert!(!md.contains("pruneTree"), "{case}: {md}");
                }
            }
        }
    }
    std::fs::remove_dir_all(&tmp).ok();
}

#[test]
fn debug_string_has_sparks_form() {
    let m = load("dtc_mixed");
    let dtc: &DecisionTreeClassificationModel = last(&m);
    let s = dtc.to_debug_string();
    let first = s.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "DecisionTreeClassificationModel: uid={}, depth=4, numNodes=17, numClasses=2, numFeatures=3",
            dtc.uid()
        )
    );
    assert!(
        s.lines().nth(1).unwrap().starts_with("  If (feature "),
        "{s}"
    );
    assert_eq!(
        s.lines()
            .filter(|l| l.trim_start().starts_with("Predict: "))
            .count(),
        dtc.tree().num_leaves()
    );
}
