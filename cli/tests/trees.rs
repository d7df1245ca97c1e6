//! `mlpipe fit --pipeline` refits Spark 4.3's six tree pipelines node for node: Spark's
//! unfitted pipelines and training CSVs of `tests/fixtures/spark2` (copied from the shared
//! Spark 4.3.0 fixture set 2; see the README there), compared with Spark's fitted pipelines.
//! Tolerance: exact, except logistic GBT trees after the first (1e-12 relative: residuals
//! go through `exp`, whose JVM and Rust results may differ by an ulp).

use crate::common;
use crate::tree_check;

use std::process::Command;

use common::*;
use mlpipe::prelude::*;
use mlpipe::tree::{
    DecisionTree, DecisionTreeClassificationModel, DecisionTreeRegressionModel,
    GBTClassificationModel, GBTRegressionModel, RandomForestClassificationModel,
    RandomForestRegressionModel,
};

/// Runs `mlpipe fit --pipeline` on the case and loads what it saved beside Spark's model.
fn cli_refit(case: &str, train: &str) -> (PipelineModel, PipelineModel) {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("m");
    let out = Command::new(env!("CARGO_BIN_EXE_mlpipe"))
        .args([
            "fit",
            "--pipeline",
            &spark2(&format!("{case}_pipeline_unfitted")),
            "--input",
            &spark2(train),
            "--model",
            model.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{case}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (
        PipelineModel::load(&model).unwrap(),
        PipelineModel::load(spark2(&format!("{case}_pipeline"))).unwrap(),
    )
}

fn trees_of<T: Transformer>(
    m: &PipelineModel,
    f: impl Fn(&T) -> &[DecisionTree],
) -> Vec<DecisionTree> {
    f(m.stage::<T>().unwrap()).to_vec()
}

#[test]
fn cli_fit_refits_the_six_spark_tree_pipelines() {
    let cases: [(&str, &str, f64); 6] = [
        ("dtc_mixed", "synth_mixed_train.csv", 0.0),
        ("dtr_synth", "synth_reg_train.csv", 0.0),
        ("rfc_3class", "synth_3class_train.csv", 0.0),
        ("rfr_synth", "synth_reg_train.csv", 0.0),
        ("gbtc_binary", "synth_binary_train.csv", 1e-12),
        ("gbtr_squared", "synth_reg_train.csv", 0.0),
    ];
    for (case, train, rel) in cases {
        let (ours, spark) = cli_refit(case, train);
        let (a, b) = match case {
            "dtc_mixed" => (
                trees_of(&ours, DecisionTreeClassificationModel::trees),
                trees_of(&spark, DecisionTreeClassificationModel::trees),
            ),
            "dtr_synth" => (
                trees_of(&ours, DecisionTreeRegressionModel::trees),
                trees_of(&spark, DecisionTreeRegressionModel::trees),
            ),
            "rfc_3class" => (
                trees_of(&ours, RandomForestClassificationModel::trees),
                trees_of(&spark, RandomForestClassificationModel::trees),
            ),
            "rfr_synth" => (
                trees_of(&ours, RandomForestRegressionModel::trees),
                trees_of(&spark, RandomForestRegressionModel::trees),
            ),
            "gbtc_binary" => (
                trees_of(&ours, GBTClassificationModel::trees),
                trees_of(&spark, GBTClassificationModel::trees),
            ),
            _ => (
                trees_of(&ours, GBTRegressionModel::trees),
                trees_of(&spark, GBTRegressionModel::trees),
            ),
        };
        tree_check::same_trees(case, &a, &b, rel);
    }
}
