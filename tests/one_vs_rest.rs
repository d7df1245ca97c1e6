//! OneVsRest around LogisticRegression: the model of class c is exactly LR fitted on
//! `label == c`, prediction = argmax of the models' rawPrediction[1], and a save/load
//! round trip in Spark's layout predicts the same.

use crate::common;

use common::*;
use mlpipe::classification::{
    LogisticRegression, LogisticRegressionModel, OneVsRest, OneVsRestModel,
};
use mlpipe::persist::{load_stage, save, SaveMode};
use mlpipe::prelude::*;

fn data() -> DataFrame {
    let pipeline = Pipeline::load(spark2("nb_gaussian_pipeline_unfitted")).unwrap();
    // Only the VectorAssembler (stage 0) of that pipeline: x1..x4 -> features.
    let va = match &pipeline.stages()[0] {
        mlpipe::pipeline::PipelineStage::Transformer(t) => t.clone_box(),
        _ => unreachable!("stage 0 is the VectorAssembler"),
    };
    va.transform(&read2("synth_gauss3_train.csv")).unwrap()
}

#[test]
fn each_model_is_lr_on_its_binary_label_and_prediction_is_argmax() {
    let df = data();
    let lr = LogisticRegression::new().with_reg_param(0.01);
    let ovr = OneVsRest::new(lr.clone()).fit(&df).unwrap();
    assert_eq!(ovr.num_classes(), 3);
    let out = ovr.transform(&df).unwrap();
    let raw = vector_rows(&out, "rawPrediction");
    let pred = f64_column(&out, "prediction");
    let labels = f64_column(&df, "label");
    for c in 0..3 {
        // LR on label == c, fitted directly.
        let bin: Vec<f64> = labels
            .iter()
            .map(|y| (*y == c as f64) as i32 as f64)
            .collect();
        let col = mlpipe::arrow::array::Float64Array::from(bin);
        let d = df
            .with_column(
                mlpipe::arrow::datatypes::Field::new(
                    "bin",
                    mlpipe::arrow::datatypes::DataType::Float64,
                    false,
                ),
                vec![std::sync::Arc::new(col) as _],
            )
            .unwrap();
        let m: LogisticRegressionModel = lr.clone().with_label_col("bin").fit(&d).unwrap();
        let direct = vector_rows(&m.transform(&d).unwrap(), "rawPrediction");
        for r in 0..raw.len() {
            assert_eq!(raw[r][c], direct[r][1], "row {r} class {c}");
        }
    }
    for r in 0..raw.len() {
        let best = (0..3).fold(0, |b, c| if raw[r][c] > raw[r][b] { c } else { b });
        assert_eq!(pred[r], best as f64);
    }
    // Training accuracy on these Gaussian blobs is well above chance (1/3).
    let acc = pred.iter().zip(&labels).filter(|(p, y)| p == y).count() as f64 / pred.len() as f64;
    assert!(acc > 0.6, "accuracy {acc}");
}

#[test]
fn save_load_round_trip_in_sparks_layout() {
    let df = data();
    let ovr = OneVsRest::new(LogisticRegression::new()).fit(&df).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ovr");
    save(&ovr, &path, SaveMode::ErrorIfExists).unwrap();
    for sub in [
        "metadata",
        "classifier/metadata",
        "model_0/data",
        "model_2/metadata",
    ] {
        assert!(path.join(sub).is_dir(), "{sub}");
    }
    let back = load_stage(&path).unwrap();
    let a = f64_column(&ovr.transform(&df).unwrap(), "prediction");
    let b = f64_column(&back.transform(&df).unwrap(), "prediction");
    assert_eq!(a, b);
    assert!((back.as_ref() as &dyn std::any::Any)
        .downcast_ref::<OneVsRestModel>()
        .is_some());
}

#[test]
fn bad_label_names_row() {
    let df = data();
    let e = OneVsRest::new(LogisticRegression::new())
        .with_label_col("x1")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("OneVsRest: label "), "{e}");
    assert!(e.contains("column `x1` (partition 0, row 0)"), "{e}");
}

#[test]
fn tree_and_svc_classifiers_score_through_the_block_hook_like_their_own_transform() {
    // OneVsRest around GBT, random forest and LinearSVC: each class's score is exactly
    // that binary model's own rawPrediction[1] (from its own transform), and single-row
    // predict agrees with the batch transform.
    use mlpipe::classification::LinearSVC;
    use mlpipe::tree::{GBTClassifier, RandomForestClassifier};
    let df = data();
    let fitted = [
        OneVsRest::new(GBTClassifier::new().with_max_iter(5))
            .fit(&df)
            .unwrap(),
        OneVsRest::new(RandomForestClassifier::new().with_num_trees(5).with_seed(3))
            .fit(&df)
            .unwrap(),
        OneVsRest::new(LinearSVC::new().with_max_iter(20))
            .fit(&df)
            .unwrap(),
    ];
    let feats = vector_rows(&df, "features");
    for ovr in fitted {
        let out = ovr.transform(&df).unwrap();
        let raw = vector_rows(&out, "rawPrediction");
        let pred = f64_column(&out, "prediction");
        for (c, m) in ovr.models().iter().enumerate() {
            let own = vector_rows(&m.transform(&df).unwrap(), "rawPrediction");
            for r in 0..raw.len() {
                assert_eq!(raw[r][c], own[r][1], "{} row {r} class {c}", m.kind());
            }
        }
        for (r, x) in feats.iter().enumerate() {
            assert_eq!(ovr.predict(x).unwrap(), pred[r], "row {r}");
            assert_eq!(ovr.predict_raw(x).unwrap(), raw[r], "row {r}");
        }
        let e = ovr.predict(&[1.0]).unwrap_err().to_string();
        assert!(e.contains("OneVsRestModel"), "{e}");
    }
}
