//! [`CrossValidator`] and [`TrainValidationSplit`] on a Spark cluster, driven from here as
//! PySpark 4.3 drives them under Spark Connect (`pyspark.ml.tuning`): the server has no
//! validator, so the client builds the folds as relations (a `rand(seed)` column and
//! filters, so the rows never leave the cluster), fits every grid point on the training
//! side, evaluates it on the validation side, averages, and refits the best point on the
//! whole frame.

use std::any::Any;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;

use spark_connect_proto as pb;

use super::frame::{column, expr, RemoteFrame};
use super::ml::{
    estimator_spec, fit, scratch_dir, stage_error, write_text, EvaluateRemote, RemoteModel,
    RemotePipelineModel, Scratch,
};
use crate::error::{Error, Result};
use crate::persist::Persist;
use crate::pipeline::{Estimator, Evaluator, Model, Pipeline, Transformer};
use crate::tuning::parts::{self, CvParts, TvsParts};
use crate::tuning::{
    CrossValidator, CrossValidatorModel, ParamMap, TrainValidationSplit, TrainValidationSplitModel,
};

/// A model a validator fitted on the server: a whole pipeline's, or one estimator's.
#[derive(Debug)]
enum RemoteFit {
    Pipeline(RemotePipelineModel),
    Single(RemoteModel),
}

impl RemoteFit {
    fn transform_remote(&self, df: &RemoteFrame) -> Result<RemoteFrame> {
        match self {
            RemoteFit::Pipeline(p) => p.transform_remote(df),
            RemoteFit::Single(m) => m.transform_remote(df),
        }
    }

    fn save_remote(&self, path: &str, overwrite: bool) -> Result<()> {
        match self {
            RemoteFit::Pipeline(p) => p.save_remote(path, overwrite),
            RemoteFit::Single(m) => m.save_remote(path, overwrite),
        }
    }

    /// The model as the local type `M` (a [`crate::PipelineModel`] for a pipeline, the
    /// estimator's model type otherwise); `scratch` as for
    /// [`RemotePipelineModel::fetch_via`], `None` for [`RemotePipelineModel::fetch`].
    fn fetch_as<M: Transformer + Clone>(&self, scratch: Option<&str>) -> Result<M> {
        let wrong =
            || Error::Internal("a fetched model is not of the estimator's model type".into());
        match self {
            RemoteFit::Pipeline(p) => {
                let local = match scratch {
                    Some(s) => p.fetch_via(s)?,
                    None => p.fetch()?,
                };
                let any: Box<dyn Any> = Box::new(local);
                any.downcast::<M>().map(|m| *m).map_err(|_| wrong())
            }
            RemoteFit::Single(m) => {
                let local = match scratch {
                    Some(s) => m.fetch_via(s)?,
                    None => m.fetch()?,
                };
                local.downcast_ref::<M>().cloned().ok_or_else(wrong)
            }
        }
    }
}

/// Fits `est` on the server (a [`Pipeline`] stage by stage, any other estimator in one
/// fit), after the local checks the caller made.
fn fit_any<E: Estimator>(est: &E, df: &RemoteFrame) -> Result<RemoteFit> {
    match (est as &dyn Any).downcast_ref::<Pipeline>() {
        Some(p) => Ok(RemoteFit::Pipeline(
            p.fit_remote_specs(p.remote_specs()?, df)?,
        )),
        None => Ok(RemoteFit::Single(fit(
            df.session(),
            &estimator_spec(est)?,
            df,
            0,
        )?)),
    }
}

/// The checks PySpark's and Spark's validators make before any fit, made here before
/// anything is sent: a non-empty grid, `parallelism >= 1`, every stage one Spark's server
/// has, and every grid point's params and columns against the frame's schema.
fn check<E: Estimator>(
    tuner: &'static str,
    est: &E,
    maps: &[ParamMap],
    parallelism: usize,
    df: &RemoteFrame,
) -> Result<Vec<E>> {
    if maps.is_empty() {
        return Err(Error::param(
            tuner,
            "estimatorParamMaps",
            "a non-empty list of param maps (ParamGridBuilder::new().build() gives one empty map)",
            "[]",
        ));
    }
    if parallelism < 1 {
        return Err(Error::param(tuner, "parallelism", ">= 1", parallelism));
    }
    let ests = maps
        .iter()
        .map(|m| parts::with_map(est, m, tuner))
        .collect::<Result<Vec<E>>>()?;
    // Stages Spark lacks fail here, before the schema query.
    for e in &ests {
        match (e as &dyn Any).downcast_ref::<Pipeline>() {
            Some(p) => drop(p.remote_specs()?),
            None => drop(estimator_spec(e)?),
        }
    }
    let schema = df.schema()?;
    for e in &ests {
        e.transform_schema(schema.as_ref())?;
    }
    Ok(ests)
}

/// Caches a split's two sides on the cluster for the fits (as PySpark does) and drops the
/// cached copies when dropped, also on an error.
struct Cached<'a>(Vec<&'a RemoteFrame>);

impl<'a> Cached<'a> {
    fn new(frames: &[&'a RemoteFrame]) -> Result<Self> {
        let mut c = Cached(Vec::new());
        for f in frames {
            f.persist()?;
            c.0.push(f);
        }
        Ok(c)
    }
}

impl Drop for Cached<'_> {
    fn drop(&mut self) {
        for f in &self.0 {
            if let Err(e) = f.unpersist() {
                tracing::warn!(error = %e, "could not drop a cached split on the server");
            }
        }
    }
}

/// Fits every grid point on `train` and scores it on `valid`, at most `parallelism` at
/// once (PySpark's thread pool); each model is released on the server as soon as it is
/// scored. The metrics come back in grid order.
fn fit_and_score<E: Estimator>(
    tuner: &'static str,
    ests: &[E],
    evaluator: &dyn Evaluator,
    train: &RemoteFrame,
    valid: &RemoteFrame,
    parallelism: usize,
) -> Result<Vec<f64>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let one = |j: usize| -> Result<f64> {
        let model = fit_any(&ests[j], train)?;
        let metric = evaluator.evaluate_remote(&model.transform_remote(valid)?)?;
        tracing::info!(
            tuner,
            map = j,
            metric,
            "grid point fitted and scored on Spark"
        );
        Ok(metric)
        // `model` dropped here: released on the server.
    };
    let n = ests.len();
    let workers = parallelism.min(n).max(1);
    if workers == 1 {
        return (0..n).map(one).collect();
    }
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Result<f64>>> = (0..n).map(|_| None).collect();
    let done: Vec<Vec<(usize, Result<f64>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    loop {
                        let j = next.fetch_add(1, Ordering::SeqCst);
                        if j >= n {
                            break;
                        }
                        out.push((j, one(j)));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    for (j, r) in done.into_iter().flatten() {
        results[j] = Some(r);
    }
    // The first error in grid order, as a sequential run would report it.
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(Error::Internal("a grid point was not run".into()))))
        .collect()
}

fn call(name: &str, args: Vec<pb::Expression>) -> pb::Expression {
    expr(pb::expression::ExprType::UnresolvedFunction(
        pb::expression::UnresolvedFunction {
            function_name: name.into(),
            arguments: args,
            ..Default::default()
        },
    ))
}

fn lit(l: pb::expression::literal::LiteralType) -> pb::Expression {
    expr(pb::expression::ExprType::Literal(pb::expression::Literal {
        literal_type: Some(l),
        ..Default::default()
    }))
}

fn double(x: f64) -> pb::Expression {
    lit(pb::expression::literal::LiteralType::Double(x))
}

/// An integer literal as PySpark's `lit` makes one: Integer when it fits, else Long.
fn int(x: i64) -> pb::Expression {
    use pb::expression::literal::LiteralType as L;
    lit(match i32::try_from(x) {
        Ok(i) => L::Integer(i),
        Err(_) => L::Long(x),
    })
}

/// `df.select("*", F.rand(seed).alias(name))`: Spark's `rand` draws
/// `XORShiftRandom(seed + partition index)` per partition, so the folds are PySpark's for
/// the same frame and seed.
fn with_rand(df: &RemoteFrame, seed: i64, name: &str) -> RemoteFrame {
    df.with_column_expr(call("rand", vec![int(seed)]), name)
}

/// PySpark's random k folds: fold `i` validates the rows with `i/k <= rand < (i+1)/k`
/// and trains on the others.
fn random_folds(
    df: &RemoteFrame,
    k: usize,
    seed: i64,
    rand_col: &str,
) -> Vec<(RemoteFrame, RemoteFrame)> {
    let df = with_rand(df, seed, rand_col);
    let h = 1.0 / k as f64;
    (0..k)
        .map(|i| {
            let cond = call(
                "and",
                vec![
                    call(">=", vec![column(rand_col), double(i as f64 * h)]),
                    call("<", vec![column(rand_col), double((i + 1) as f64 * h)]),
                ],
            );
            (df.filter(call("not", vec![cond.clone()])), df.filter(cond))
        })
        .collect()
}

/// PySpark's folds from a fold column: fold `i` validates the rows whose `col` is `i`.
/// A value outside `[0, k)` (or null) fails here, naming it, before any fit; so does an
/// empty side (as PySpark checks).
fn column_folds(df: &RemoteFrame, k: usize, col: &str) -> Result<Vec<(RemoteFrame, RemoteFrame)>> {
    let c = || column(col);
    let in_range = call(
        "and",
        vec![
            call(">=", vec![c(), int(0)]),
            call("<", vec![c(), int(k as i64)]),
        ],
    );
    let bad = df
        .filter(call(
            "or",
            vec![call("isnull", vec![c()]), call("not", vec![in_range])],
        ))
        .select([col])?
        .limit(1)
        .collect()?;
    if bad.num_rows() > 0 {
        let shown = arrow::util::display::ArrayFormatter::try_new(
            bad.column(col)?.chunks[0].as_ref(),
            &Default::default(),
        )
        .map(|f| f.value(0).to_string())
        .unwrap_or_else(|_| "?".into());
        return Err(Error::InvalidParam {
            stage: "CrossValidator",
            param: "foldCol".into(),
            expected: format!("a column whose fold numbers are in range [0, {k})"),
            got: format!(
                "{} in column `{col}`",
                if shown.is_empty() {
                    "null".into()
                } else {
                    shown
                }
            ),
        });
    }
    let mut out = Vec::with_capacity(k);
    for i in 0..k {
        let train = df.filter(call("not", vec![call("==", vec![c(), int(i as i64)])]));
        let valid = df.filter(call("==", vec![c(), int(i as i64)]));
        for (what, side) in [("training", &train), ("validation", &valid)] {
            if side.limit(1).count()? == 0 {
                return Err(Error::Frame(format!(
                    "CrossValidator: the {what} data of fold {i} is empty (foldCol `{col}`); every fold in [0, {k}) needs rows"
                )));
            }
        }
        out.push((train, valid));
    }
    Ok(out)
}

/// The mean and the population standard deviation of each grid point's metric over the
/// folds (numpy's `mean` and `std`, as PySpark computes `avgMetrics` and `stdMetrics`).
fn mean_and_std(per_fold: &[Vec<f64>], n: usize) -> (Vec<f64>, Vec<f64>) {
    let k = per_fold.len() as f64;
    let avg: Vec<f64> = (0..n)
        .map(|j| per_fold.iter().map(|f| f[j]).sum::<f64>() / k)
        .collect();
    let std = (0..n)
        .map(|j| {
            (per_fold
                .iter()
                .map(|f| (f[j] - avg[j]).powi(2))
                .sum::<f64>()
                / k)
                .sqrt()
        })
        .collect();
    (avg, std)
}

impl<E: Estimator> CrossValidator<E> {
    /// Cross-validates on a Spark cluster, as PySpark 4.3's `CrossValidator` does under
    /// Spark Connect: the folds are relations over `df` (a `rand(seed)` column named
    /// `<uid>_rand` and filters, or the `foldCol` values), each side cached on the
    /// cluster while its fold is fitted; every grid point is fitted on the server on the
    /// training side (a [`Pipeline`] stage by stage, any other estimator in one fit),
    /// scored with the evaluator on the server on the validation side and released at
    /// once; `parallelism` grid points run at a time. The best point (by the mean over
    /// folds) is refit on all of `df` and stays on the server until the result is
    /// dropped. No row comes to this program.
    ///
    /// The folds depend on how Spark partitions `df`, as PySpark's do; Scala's folds
    /// ([`FoldAssignment::Scala`](crate::tuning::FoldAssignment::Scala)) are local only.
    ///
    /// # Errors
    /// Before anything runs: an empty grid, `numFolds < 2`, `parallelism < 1`, a stage
    /// Spark's server lacks, a grid param or column the stages do not have. Then: a
    /// `foldCol` value outside `[0, numFolds)` or an empty fold (named), and any server
    /// error, naming the stage (every model fitted so far is released).
    ///
    /// # Examples
    /// ```no_run
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::connect::Session;
    /// use mlpipe::classification::LogisticRegression;
    /// use mlpipe::evaluation::BinaryClassificationEvaluator;
    /// use mlpipe::feature::VectorAssembler;
    /// use mlpipe::prelude::*;
    /// use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder};
    ///
    /// let spark = Session::connect("sc://127.0.0.1:15002")?;
    /// let data = spark.read_parquet(["/data/churn.parquet"])?;
    /// let lr = LogisticRegression::new().with_label_col("churn");
    /// let grid = ParamGridBuilder::new().add_grid(Param::reg_param(&lr), [0.01, 0.1]).build();
    /// let pipeline = Pipeline::new()
    ///     .with_transformer(VectorAssembler::new().with_input_cols(["tenure", "charges"]).with_output_col("features"))
    ///     .with_estimator(lr);
    /// let evaluator = BinaryClassificationEvaluator::new().with_label_col("churn").with_num_bins(0);
    /// let cv = CrossValidator::new(pipeline, evaluator, grid).with_seed(7).with_parallelism(2);
    /// let fitted = cv.fit_remote(&data)?;
    /// println!("{:?}, best {}", fitted.avg_metrics(), fitted.best_params());
    /// let local = fitted.fetch()?; // a CrossValidatorModel<PipelineModel>, scored here
    /// # let _ = local; Ok(()) }
    /// ```
    pub fn fit_remote(&self, df: &RemoteFrame) -> Result<RemoteCrossValidatorModel<E::Model>> {
        const TUNER: &str = "CrossValidator";
        let (k, fold_col, seed, parallelism, pyspark) = parts::cv_settings(self);
        let maps = self.estimator_param_maps();
        if k < 2 {
            return Err(Error::param(TUNER, "numFolds", ">= 2", k));
        }
        if !pyspark && fold_col.is_none() {
            return Err(Error::param(
                TUNER,
                "foldAssignment",
                "FoldAssignment::PySpark on a Spark cluster (Scala's MLUtils.kFold folds are not expressible as Spark Connect relations)",
                "FoldAssignment::Scala",
            ));
        }
        let ests = check(TUNER, self.estimator(), maps, parallelism, df)?;
        let folds = match fold_col {
            Some(c) => column_folds(df, k, c)?,
            None => random_folds(df, k, seed, &format!("{}_rand", self.uid())),
        };
        let evaluator = parts::cv_evaluator(self);
        let mut per_fold = Vec::with_capacity(k);
        for (i, (train, valid)) in folds.iter().enumerate() {
            let _cached = Cached::new(&[train, valid])?;
            let metrics =
                fit_and_score(TUNER, &ests, evaluator.as_ref(), train, valid, parallelism)?;
            tracing::info!(fold = i, ?metrics, "cross-validation fold done on Spark");
            per_fold.push(metrics);
        }
        let (avg, std) = mean_and_std(&per_fold, maps.len());
        let best_index = parts::best_index(&avg, evaluator.is_larger_better());
        let best = fit_any(&ests[best_index], df)?;
        Ok(RemoteCrossValidatorModel {
            best,
            parts: CvParts {
                uid: self.uid().to_string(),
                num_folds: k,
                fold_col: fold_col.map(String::from),
                seed,
                estimator: Arc::new(self.estimator().clone()),
                evaluator,
                best_model: (),
                avg_metrics: avg,
                std_metrics: std,
                fold_metrics: per_fold,
                maps: maps.to_vec(),
                best_index,
            },
            model: PhantomData,
        })
    }
}

impl<E: Estimator> TrainValidationSplit<E> {
    /// Tunes on a Spark cluster, as PySpark 4.3's `TrainValidationSplit` does under Spark
    /// Connect: a `rand(seed)` column named `<uid>_rand` splits `df` on the cluster (a row
    /// validates when its draw is at least `trainRatio`), every grid point is fitted on the
    /// training side and scored on the validation side on the server (`parallelism` at a
    /// time, each model released once scored), and the best is refit on all of `df`.
    ///
    /// # Errors
    /// As [`CrossValidator::fit_remote`], and `trainRatio` outside (0, 1).
    pub fn fit_remote(
        &self,
        df: &RemoteFrame,
    ) -> Result<RemoteTrainValidationSplitModel<E::Model>> {
        const TUNER: &str = "TrainValidationSplit";
        let (ratio, seed, parallelism, pyspark) = parts::tvs_settings(self);
        if !(ratio > 0.0 && ratio < 1.0) {
            return Err(Error::param(TUNER, "trainRatio", "in (0, 1)", ratio));
        }
        if !pyspark {
            return Err(Error::param(
                TUNER,
                "split",
                "FoldAssignment::PySpark on a Spark cluster (Scala's randomSplit split is local only)",
                "FoldAssignment::Scala",
            ));
        }
        let maps = self.estimator_param_maps();
        let ests = check(TUNER, self.estimator(), maps, parallelism, df)?;
        let rand_col = format!("{}_rand", self.uid());
        let with = with_rand(df, seed, &rand_col);
        let cond = call(">=", vec![column(&rand_col), double(ratio)]);
        let (train, valid) = (
            with.filter(call("not", vec![cond.clone()])),
            with.filter(cond),
        );
        let evaluator = parts::tvs_evaluator(self);
        let metrics = {
            let _cached = Cached::new(&[&train, &valid])?;
            fit_and_score(
                TUNER,
                &ests,
                evaluator.as_ref(),
                &train,
                &valid,
                parallelism,
            )?
        };
        let best_index = parts::best_index(&metrics, evaluator.is_larger_better());
        let best = fit_any(&ests[best_index], df)?;
        Ok(RemoteTrainValidationSplitModel {
            best,
            parts: TvsParts {
                uid: self.uid().to_string(),
                train_ratio: ratio,
                seed,
                estimator: Arc::new(self.estimator().clone()),
                evaluator,
                best_model: (),
                validation_metrics: metrics,
                maps: maps.to_vec(),
                best_index,
            },
            model: PhantomData,
        })
    }
}

/// A [`CrossValidatorModel`] fitted on a Spark cluster by [`CrossValidator::fit_remote`]:
/// the metrics here, the best model (refit on all rows) on the server until this value is
/// dropped.
pub struct RemoteCrossValidatorModel<M> {
    best: RemoteFit,
    parts: CvParts<()>,
    model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for RemoteCrossValidatorModel<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteCrossValidatorModel")
            .field("uid", &self.parts.uid)
            .field("avg_metrics", &self.parts.avg_metrics)
            .field("best_index", &self.parts.best_index)
            .field("best", &self.best)
            .finish()
    }
}

impl<M: Model + Clone> RemoteCrossValidatorModel<M> {
    /// The mean over folds of each grid point's metric (`avgMetrics`).
    pub fn avg_metrics(&self) -> &[f64] {
        &self.parts.avg_metrics
    }
    /// The population standard deviation over folds of each point's metric (`stdMetrics`).
    pub fn std_metrics(&self) -> &[f64] {
        &self.parts.std_metrics
    }
    /// Each fold's metric of each grid point: `fold_metrics()[fold][point]`.
    pub fn fold_metrics(&self) -> &[Vec<f64>] {
        &self.parts.fold_metrics
    }
    /// The index of the best grid point.
    pub fn best_index(&self) -> usize {
        self.parts.best_index
    }
    /// The best grid point.
    pub fn best_params(&self) -> &ParamMap {
        &self.parts.maps[self.parts.best_index]
    }
    /// The grid.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.parts.maps
    }
    /// The validator's uid.
    pub fn uid(&self) -> &str {
        &self.parts.uid
    }
    /// `df` transformed by the best model on the cluster (lazy; valid while this value is
    /// alive).
    pub fn transform_remote(&self, df: &RemoteFrame) -> Result<RemoteFrame> {
        self.best.transform_remote(df)
    }

    /// The whole result as a local [`CrossValidatorModel`], the best model fetched through
    /// ML Fetch ([`RemotePipelineModel::fetch`]): no storage shared with the cluster.
    ///
    /// # Errors
    /// As [`RemotePipelineModel::fetch`] (a stage whose state the server does not hand
    /// out: use [`RemoteCrossValidatorModel::fetch_via`]).
    pub fn fetch(&self) -> Result<CrossValidatorModel<M>> {
        self.local(self.best.fetch_as(None)?)
    }

    /// [`RemoteCrossValidatorModel::fetch`], with stages the server does not hand out
    /// through ML Fetch saved by Spark at `scratch` (a path the cluster writes) and read
    /// back through the session ([`RemotePipelineModel::fetch_via`]).
    pub fn fetch_via(&self, scratch: &str) -> Result<CrossValidatorModel<M>> {
        self.local(self.best.fetch_as(Some(scratch))?)
    }

    fn local(&self, best_model: M) -> Result<CrossValidatorModel<M>> {
        let p = &self.parts;
        Ok(parts::cv_model(CvParts {
            uid: p.uid.clone(),
            num_folds: p.num_folds,
            fold_col: p.fold_col.clone(),
            seed: p.seed,
            estimator: p.estimator.clone(),
            evaluator: p.evaluator.clone(),
            best_model,
            avg_metrics: p.avg_metrics.clone(),
            std_metrics: p.std_metrics.clone(),
            fold_metrics: p.fold_metrics.clone(),
            maps: p.maps.clone(),
            best_index: p.best_index,
        }))
    }

    /// Saves the result in Spark's `CrossValidatorModel` layout at `path` as the cluster
    /// sees it (what PySpark and Spark load, and mlpipe's `CrossValidatorModel::load`):
    /// Spark writes `bestModel/`; `metadata/` (with `avgMetrics` and `stdMetrics`),
    /// `estimator/` and `evaluator/` are written by mlpipe's writer and sent through
    /// Spark. With `overwrite`, each of those is replaced.
    ///
    /// # Errors
    /// [`Error::Remote`] with Spark's message (a path that exists without `overwrite`).
    pub fn save_remote(&self, path: &str, overwrite: bool) -> Result<()> {
        let path = path.trim_end_matches('/');
        let best = format!("{path}/bestModel");
        self.best.save_remote(&best, overwrite)?;
        let local = self.fetch_via(&best)?;
        upload_except_best(&self.best, &local, path, overwrite)
    }
}

/// A [`TrainValidationSplitModel`] fitted on a Spark cluster by
/// [`TrainValidationSplit::fit_remote`]: the metrics here, the best model on the server
/// until this value is dropped.
pub struct RemoteTrainValidationSplitModel<M> {
    best: RemoteFit,
    parts: TvsParts<()>,
    model: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for RemoteTrainValidationSplitModel<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteTrainValidationSplitModel")
            .field("uid", &self.parts.uid)
            .field("validation_metrics", &self.parts.validation_metrics)
            .field("best_index", &self.parts.best_index)
            .field("best", &self.best)
            .finish()
    }
}

impl<M: Model + Clone> RemoteTrainValidationSplitModel<M> {
    /// Each grid point's metric on the validation rows (`validationMetrics`).
    pub fn validation_metrics(&self) -> &[f64] {
        &self.parts.validation_metrics
    }
    /// The index of the best grid point.
    pub fn best_index(&self) -> usize {
        self.parts.best_index
    }
    /// The best grid point.
    pub fn best_params(&self) -> &ParamMap {
        &self.parts.maps[self.parts.best_index]
    }
    /// The grid.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.parts.maps
    }
    /// The validator's uid.
    pub fn uid(&self) -> &str {
        &self.parts.uid
    }
    /// `df` transformed by the best model on the cluster (lazy).
    pub fn transform_remote(&self, df: &RemoteFrame) -> Result<RemoteFrame> {
        self.best.transform_remote(df)
    }

    /// The whole result as a local [`TrainValidationSplitModel`], the best model fetched
    /// through ML Fetch, as [`RemoteCrossValidatorModel::fetch`].
    pub fn fetch(&self) -> Result<TrainValidationSplitModel<M>> {
        self.local(self.best.fetch_as(None)?)
    }

    /// As [`RemoteCrossValidatorModel::fetch_via`].
    pub fn fetch_via(&self, scratch: &str) -> Result<TrainValidationSplitModel<M>> {
        self.local(self.best.fetch_as(Some(scratch))?)
    }

    fn local(&self, best_model: M) -> Result<TrainValidationSplitModel<M>> {
        let p = &self.parts;
        Ok(parts::tvs_model(TvsParts {
            uid: p.uid.clone(),
            train_ratio: p.train_ratio,
            seed: p.seed,
            estimator: p.estimator.clone(),
            evaluator: p.evaluator.clone(),
            best_model,
            validation_metrics: p.validation_metrics.clone(),
            maps: p.maps.clone(),
            best_index: p.best_index,
        }))
    }

    /// Saves the result in Spark's `TrainValidationSplitModel` layout at `path`, as
    /// [`RemoteCrossValidatorModel::save_remote`].
    pub fn save_remote(&self, path: &str, overwrite: bool) -> Result<()> {
        let path = path.trim_end_matches('/');
        let best = format!("{path}/bestModel");
        self.best.save_remote(&best, overwrite)?;
        let local = self.fetch_via(&best)?;
        upload_except_best(&self.best, &local, path, overwrite)
    }
}

/// Writes `local` (a validator model) with mlpipe's writer into a scratch directory and
/// sends every `metadata/` file but `bestModel/`'s (Spark wrote that) to `path` through
/// Spark: the validator's own, `estimator/`'s (and its stages') and `evaluator/`'s.
fn upload_except_best(
    best: &RemoteFit,
    local: &dyn Persist,
    path: &str,
    overwrite: bool,
) -> Result<()> {
    let session = match best {
        RemoteFit::Pipeline(p) => p.session(),
        RemoteFit::Single(m) => m.session(),
    };
    let dir = Scratch(scratch_dir("tuning"));
    local.write_into(&dir.0)?;
    let mut metadata = Vec::new();
    collect_metadata(&dir.0, Path::new(""), &mut metadata)?;
    for (rel, line) in metadata {
        let target = if rel.as_os_str().is_empty() {
            format!("{path}/metadata")
        } else {
            format!("{path}/{}/metadata", rel.to_string_lossy())
        };
        write_text(session, &line, &target, overwrite)
            .map_err(|e| stage_error(session, local.spark_class(), "save", e))?;
    }
    Ok(())
}

/// The `(relative dir, metadata line)` of every saved stage under `root/rel`, except
/// `bestModel/`.
fn collect_metadata(
    root: &Path,
    rel: &Path,
    out: &mut Vec<(std::path::PathBuf, String)>,
) -> Result<()> {
    let dir = root.join(rel);
    let md = dir.join("metadata").join("part-00000");
    if md.exists() {
        let text = std::fs::read_to_string(&md)
            .map_err(|e| Error::file(&md, format!("cannot read: {e}")))?;
        out.push((rel.to_path_buf(), text.trim_end().to_string()));
    }
    let entries =
        std::fs::read_dir(&dir).map_err(|e| Error::file(&dir, format!("cannot list: {e}")))?;
    let mut subdirs: Vec<_> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name())
        .filter(|n| {
            n != "metadata" && n != "data" && !(rel.as_os_str().is_empty() && n == "bestModel")
        })
        .collect();
    subdirs.sort();
    for n in subdirs {
        collect_metadata(root, &rel.join(n), out)?;
    }
    Ok(())
}
