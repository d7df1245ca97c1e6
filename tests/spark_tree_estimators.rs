//! The six tree estimators refit Spark 4.3's trees node for node from Spark's saved,
//! unfitted pipelines (`tests/fixtures/spark2/*_pipeline_unfitted`, copied from the
//! project's Spark 4.3.0 fixture set 2; see the README there): `StringIndexer` (where the
//! case has a string feature) -> `VectorAssembler` -> tree estimator, fitted here on the
//! training CSV in one partition, as the fixture script coalesced it. The reference trees are
//! Spark's fitted pipelines (`*_pipeline`), loaded through mlpipe's reader.
//!
//! Tolerance: exact (every node field equal) except logistic GBT trees after the first,
//! whose residuals go through `exp` (the JVM's and Rust's may differ by an ulp), compared to
//! 1e-12 relative.

use crate::common;
use crate::tree_check;

use common::*;
use mlpipe::persist::load_pipeline_stage;
use mlpipe::prelude::*;
use mlpipe::tree::{
    DecisionTreeClassificationModel, DecisionTreeRegressionModel, GBTClassificationModel,
    GBTRegressionModel, RandomForestClassificationModel, RandomForestRegressionModel, Split,
};
use tree_check::same_trees;

/// Fits Spark's unfitted pipeline `case` on `train` (one partition) and returns it beside
/// Spark's fitted pipeline.
fn refit(case: &str, train: &str) -> (PipelineModel, PipelineModel) {
    let stage = load_pipeline_stage(spark2(&format!("{case}_pipeline_unfitted"))).unwrap();
    let df = read2(train);
    assert_eq!(df.num_partitions(), 1);
    let ours = match stage {
        PipelineStage::Estimator(e) => e.fit_dyn(&df).unwrap(),
        PipelineStage::Transformer(_) => {
            panic!("{case}: an unfitted pipeline loads as an estimator")
        }
    };
    let ours = ours
        .clone_box()
        .downcast_ref::<PipelineModel>()
        .expect("a Pipeline fits to a PipelineModel")
        .clone();
    let spark = PipelineModel::load(spark2(&format!("{case}_pipeline"))).unwrap();
    (ours, spark)
}

#[test]
fn decision_tree_classifier_refits_spark_with_a_categorical_feature() {
    let (ours, spark) = refit("dtc_mixed", "synth_mixed_train.csv");
    let (a, b) = (
        ours.stage::<DecisionTreeClassificationModel>().unwrap(),
        spark.stage::<DecisionTreeClassificationModel>().unwrap(),
    );
    // The StringIndexer's nominal attribute reached the tree through the VectorAssembler.
    assert!(a.trees()[0]
        .nodes()
        .iter()
        .any(|n| matches!(n.split, Some(Split::Categorical { .. }))));
    same_trees("dtc_mixed", a.trees(), b.trees(), 0.0);
    assert_eq!(a.num_classes(), b.num_classes());
    // The assembled features column carries Spark's attribute group (the fixture JSON's
    // `features_ml_attr`, read from Spark's DataFrame schema).
    let out = ours.transform(&read2("synth_mixed_test.csv")).unwrap();
    let f = out.schema().field_with_name("features").unwrap();
    let got: serde_json::Value =
        serde_json::from_str(&f.metadata()[mlpipe::frame::vector::ML_ATTR]).unwrap();
    assert_eq!(got, spark2_json("dtc_mixed")["features_ml_attr"]);
    assert_eq!(a.params(), b.params());
}

#[test]
fn decision_tree_regressor_refits_spark() {
    let (ours, spark) = refit("dtr_synth", "synth_reg_train.csv");
    let (a, b) = (
        ours.stage::<DecisionTreeRegressionModel>().unwrap(),
        spark.stage::<DecisionTreeRegressionModel>().unwrap(),
    );
    same_trees("dtr_synth", a.trees(), b.trees(), 0.0);
    assert_eq!(a.params(), b.params());
}

#[test]
fn random_forest_classifier_refits_spark_bootstrap_and_subsets() {
    let (ours, spark) = refit("rfc_3class", "synth_3class_train.csv");
    let (a, b) = (
        ours.stage::<RandomForestClassificationModel>().unwrap(),
        spark.stage::<RandomForestClassificationModel>().unwrap(),
    );
    same_trees("rfc_3class", a.trees(), b.trees(), 0.0);
    assert_eq!(a.num_classes(), 3);
    assert_eq!(a.feature_importances(), b.feature_importances());
}

#[test]
fn random_forest_regressor_refits_spark() {
    let (ours, spark) = refit("rfr_synth", "synth_reg_train.csv");
    let (a, b) = (
        ours.stage::<RandomForestRegressionModel>().unwrap(),
        spark.stage::<RandomForestRegressionModel>().unwrap(),
    );
    same_trees("rfr_synth", a.trees(), b.trees(), 0.0);
}

#[test]
fn gbt_classifier_refits_spark() {
    let (ours, spark) = refit("gbtc_binary", "synth_binary_train.csv");
    let (a, b) = (
        ours.stage::<GBTClassificationModel>().unwrap(),
        spark.stage::<GBTClassificationModel>().unwrap(),
    );
    same_trees("gbtc_binary", a.trees(), b.trees(), 1e-12);
    assert_eq!(a.tree_weights(), b.tree_weights());
}

#[test]
fn gbt_regressor_refits_spark() {
    let (ours, spark) = refit("gbtr_squared", "synth_reg_train.csv");
    let (a, b) = (
        ours.stage::<GBTRegressionModel>().unwrap(),
        spark.stage::<GBTRegressionModel>().unwrap(),
    );
    same_trees("gbtr_squared", a.trees(), b.trees(), 0.0);
    assert_eq!(a.tree_weights(), b.tree_weights());
}
