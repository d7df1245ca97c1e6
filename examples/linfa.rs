//! A linfa algorithm that MLlib lacks — a support vector machine with a Gaussian kernel,
//! from `linfa-svm` — as a stage of an mlpipe Pipeline, scored from an ndarray and saved.
//!
//! The data is two interleaved rings: no linear model (Spark's LinearSVC or
//! LogisticRegression) separates them, a kernel SVM does.
//!
//! Run with `cargo run --example linfa --features linfa`.

use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::{MulticlassClassificationEvaluator, MulticlassMetric};
use mlpipe::interop::linfa::LinfaEstimator;
use mlpipe::interop::ndarray::PredictArray;
use mlpipe::linfa_svm::Svm;
use mlpipe::ndarray::{Array1, Array2};
use mlpipe::persist::{load_stage, save, SaveMode};
use mlpipe::prelude::*;

/// `n` points on two rings (radius 1 -> label 0, radius 2 -> label 1), deterministic.
fn rings(n: usize) -> (Array2<f64>, Array1<f64>) {
    let mut x = Array2::zeros((n, 2));
    let mut y = Array1::zeros(n);
    for i in 0..n {
        let angle = i as f64 * 2.399_963; // the golden angle spreads the points evenly
        let r = if i % 2 == 0 { 1.0 } else { 2.0 } + 0.1 * ((i * 7919 % 13) as f64 / 13.0 - 0.5);
        x[[i, 0]] = r * angle.cos();
        x[[i, 1]] = r * angle.sin();
        y[i] = (i % 2) as f64;
    }
    (x, y)
}

fn main() -> mlpipe::Result<()> {
    let (x, y) = rings(400);
    let df = DataFrame::from_array2(x.clone(), Some(y))?;
    let accuracy = MulticlassClassificationEvaluator::new().with_metric(MulticlassMetric::Accuracy);

    let linear = LogisticRegression::new().fit(&df)?;
    let acc_linear = accuracy.evaluate(&linear.transform(&df)?)?;

    let svm = LinfaEstimator::new(Svm::<f64, bool>::params().gaussian_kernel(1.0));
    let model = Pipeline::new().with_estimator(svm).fit(&df)?;
    let acc_svm = accuracy.evaluate(&model.transform(&df)?)?;
    println!("accuracy on two rings: LogisticRegression {acc_linear:.3}, linfa SVM (Gaussian kernel) {acc_svm:.3}");

    // Score straight from an ndarray: a batch and one row.
    let batch = model.predict_array(x.view())?;
    println!(
        "first predictions from an ndarray: {:?}",
        &batch.to_vec()[..6]
    );
    println!(
        "row (0.0, 1.9) -> {}",
        model.predict_row(ndarray_row(&[0.0, 1.9]).view())?
    );

    // Saved in mlpipe's layout (class mlpipe.interop.LinfaSvmClassifierModel; not for Spark).
    let dir = std::env::temp_dir().join(format!("mlpipe-linfa-example-{}", std::process::id()));
    save(&model, &dir, SaveMode::Overwrite)?;
    let back = load_stage(&dir)?;
    let again = back.transform(&df)?.to_array1("prediction")?;
    assert_eq!(again, batch);
    println!("saved to and reloaded from {}", dir.display());
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}

fn ndarray_row(v: &[f64]) -> Array1<f64> {
    Array1::from(v.to_vec())
}
