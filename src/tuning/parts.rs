//! The few crate-internal entry points another driver of the validators' loop needs (the
//! Spark Connect client runs the loop against a cluster): applying a grid point, picking
//! the best, and assembling the fitted validator models from their parts. The loop itself
//! stays in `validators.rs`.

use std::sync::Arc;

use super::{CrossValidator, CrossValidatorModel, ParamMap, TrainValidationSplit};
use super::{FoldAssignment, TrainValidationSplitModel};
use crate::error::Result;
use crate::pipeline::{DynEstimator, Estimator, Evaluator};

/// A copy of `est` with `map` applied (on the pipeline stage each pair names).
pub(crate) fn with_map<E: Estimator>(est: &E, map: &ParamMap, tuner: &'static str) -> Result<E> {
    let mut e = est.clone();
    super::apply_map(&mut e, map, tuner)?;
    Ok(e)
}

/// The index of the best metric (the first of equals), as the validators pick it.
pub(crate) fn best_index(metrics: &[f64], larger_is_better: bool) -> usize {
    super::best_index(metrics, larger_is_better)
}

/// A cross-validator's settings: `(numFolds, foldCol, seed, parallelism, PySpark folds?)`.
pub(crate) fn cv_settings<E: Estimator>(
    cv: &CrossValidator<E>,
) -> (usize, Option<&str>, i64, usize, bool) {
    (
        cv.num_folds,
        cv.fold_col.as_deref(),
        cv.seed,
        cv.parallelism,
        cv.folds == FoldAssignment::PySpark,
    )
}

/// A cross-validator's evaluator.
pub(crate) fn cv_evaluator<E: Estimator>(cv: &CrossValidator<E>) -> Arc<dyn Evaluator> {
    cv.evaluator.clone()
}

/// A train-validation split's evaluator.
pub(crate) fn tvs_evaluator<E: Estimator>(tvs: &TrainValidationSplit<E>) -> Arc<dyn Evaluator> {
    tvs.evaluator.clone()
}

/// A train-validation split's settings: `(trainRatio, seed, parallelism, PySpark split?)`.
pub(crate) fn tvs_settings<E: Estimator>(tvs: &TrainValidationSplit<E>) -> (f64, i64, usize, bool) {
    (
        tvs.train_ratio,
        tvs.seed,
        tvs.parallelism,
        tvs.split == FoldAssignment::PySpark,
    )
}

/// The parts of a fitted [`CrossValidatorModel`] (no sub-models).
pub(crate) struct CvParts<M> {
    pub uid: String,
    pub num_folds: usize,
    pub fold_col: Option<String>,
    pub seed: i64,
    pub estimator: Arc<dyn DynEstimator>,
    pub evaluator: Arc<dyn Evaluator>,
    pub best_model: M,
    pub avg_metrics: Vec<f64>,
    pub std_metrics: Vec<f64>,
    pub fold_metrics: Vec<Vec<f64>>,
    pub maps: Vec<ParamMap>,
    pub best_index: usize,
}

pub(crate) fn cv_model<M>(p: CvParts<M>) -> CrossValidatorModel<M> {
    CrossValidatorModel {
        uid: p.uid,
        num_folds: p.num_folds,
        fold_col: p.fold_col,
        seed: p.seed,
        estimator: p.estimator,
        evaluator: p.evaluator,
        best_model: p.best_model,
        avg_metrics: p.avg_metrics,
        std_metrics: p.std_metrics,
        fold_metrics: p.fold_metrics,
        sub_models: None,
        maps: p.maps,
        best_index: p.best_index,
    }
}

/// The parts of a fitted [`TrainValidationSplitModel`] (no sub-models).
pub(crate) struct TvsParts<M> {
    pub uid: String,
    pub train_ratio: f64,
    pub seed: i64,
    pub estimator: Arc<dyn DynEstimator>,
    pub evaluator: Arc<dyn Evaluator>,
    pub best_model: M,
    pub validation_metrics: Vec<f64>,
    pub maps: Vec<ParamMap>,
    pub best_index: usize,
}

pub(crate) fn tvs_model<M>(p: TvsParts<M>) -> TrainValidationSplitModel<M> {
    TrainValidationSplitModel {
        uid: p.uid,
        train_ratio: p.train_ratio,
        seed: p.seed,
        estimator: p.estimator,
        evaluator: p.evaluator,
        best_model: p.best_model,
        validation_metrics: p.validation_metrics,
        sub_models: None,
        maps: p.maps,
        best_index: p.best_index,
    }
}
