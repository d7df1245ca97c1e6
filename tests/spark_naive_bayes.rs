//! NaiveBayes against Spark 4.3 (`tests/fixtures/spark2`: nb_multinomial with weights and
//! smoothing 0.8, nb_gaussian; copied from the shared Spark 4.3.0 fixture set).

use crate::common;

use common::*;
use mlpipe::classification::NaiveBayesModel;
use mlpipe::prelude::*;

fn matrix(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().unwrap().iter().flat_map(floats).collect()
}

/// Each value within `tol`, absolute or relative.
fn assert_close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert!(
        approx::relative_eq!(got, want, epsilon = tol, max_relative = tol),
        "{what}: {got:?} vs Spark {want:?}"
    );
}

/// Refit from Spark's unfitted pipeline: pi, theta (and sigma) to 1e-12.
fn refit_matches(case: &str, train: &str) {
    let j = spark2_json(case);
    let pipeline = Pipeline::load(spark2(&format!("{case}_pipeline_unfitted"))).unwrap();
    let model = pipeline.fit(&read2(train)).unwrap();
    let nb: &NaiveBayesModel = model.stage_at(1).unwrap();
    assert_close(nb.pi(), &floats(&j["model"]["pi"]), 1e-12, "pi");
    assert_close(nb.theta(), &matrix(&j["model"]["theta"]), 1e-12, "theta");
    assert_close(nb.sigma(), &matrix(&j["model"]["sigma"]), 1e-12, "sigma");
}

/// Spark's saved model loads and reproduces Spark's rawPrediction, probability and
/// prediction on the test rows to 1e-9.
fn saved_model_predicts(case: &str, test: &str) {
    let model = PipelineModel::load(spark2(&format!("{case}_pipeline"))).unwrap();
    let out = model.transform(&read2(test)).unwrap();
    let ids = f64_column(&out, "id");
    let raw = vector_rows(&out, "rawPrediction");
    let prob = vector_rows(&out, "probability");
    let pred = f64_column(&out, "prediction");
    let text = std::fs::read_to_string(spark2(&format!("{case}_predictions.csv"))).unwrap();
    let mut seen = 0;
    for line in text.lines().skip(1) {
        let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let i = ids.iter().position(|id| *id == v[0]).unwrap();
        let k = raw[i].len();
        assert_close(&raw[i], &v[1..1 + k], 1e-9, "rawPrediction");
        assert_close(&prob[i], &v[1 + k..1 + 2 * k], 1e-9, "probability");
        assert_eq!(pred[i], v[1 + 2 * k], "prediction of id {}", v[0]);
        seen += 1;
    }
    assert_eq!(seen, ids.len());
}

#[test]
fn multinomial_weighted_refit_matches_spark() {
    refit_matches("nb_multinomial", "synth_counts_train.csv");
}

#[test]
fn gaussian_refit_matches_spark() {
    refit_matches("nb_gaussian", "synth_gauss3_train.csv");
}

#[test]
fn multinomial_spark_model_predicts_like_spark() {
    saved_model_predicts("nb_multinomial", "synth_counts_test.csv");
}

#[test]
fn gaussian_spark_model_predicts_like_spark() {
    saved_model_predicts("nb_gaussian", "synth_gauss3_test.csv");
}
