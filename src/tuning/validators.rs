//! [`CrossValidator`] and [`TrainValidationSplit`] and their models.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Int16Type, Int32Type, Int64Type, Int8Type};

use super::{apply_map, best_index, fit_split, Job, ParamMap, Progress, SplitRows};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::pipeline::{DynEstimator, Estimator, Evaluator, Model, Stage, Transformer};
use crate::random::{JavaRandom, JvmRandom, XorShiftRandom};
use arrow::datatypes::Schema;
use serde_json::{json, Value};

/// How random folds (and train/validation splits) are drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FoldAssignment {
    /// PySpark's `CrossValidator` / `TrainValidationSplit`: a `rand(seed)` column
    /// (Spark's `XORShiftRandom(seed + partition)`, one draw per row in partition order);
    /// fold `i` holds the rows with `i/K <= u < (i+1)/K`, and a split validates the rows
    /// with `u >= trainRatio`. What a PySpark user sees.
    #[default]
    PySpark,
    /// Scala's: `MLUtils.kFold` (Bernoulli cells with float32 bounds, per-partition seeds
    /// from `java.util.Random(seed)`), and `randomSplit([r, 1 - r], seed)` for a split.
    Scala,
}

/// Spark's default seed of `CrossValidator` (Java's hash of its class name).
pub(super) const CV_SEED: i64 = -1191137437;
/// Spark's default seed of `TrainValidationSplit`.
pub(super) const TVS_SEED: i64 = -1772833110;

/// Spark's `CrossValidator`: k-fold cross-validation of an estimator over a param grid.
///
/// Params (Spark's names): `numFolds` (default 3, at least 2), `foldCol` (default none:
/// random folds), `seed` (default Spark's −1191137437), `parallelism` (default 1: how many
/// fits run at once), `collectSubModels` (default false). `avg_metrics[j]` is the plain mean
/// over folds of map `j`'s metric; the best map (the first of equals) is refit on all rows.
///
/// See the [module documentation](super) for an example.
#[derive(Clone, Debug)]
pub struct CrossValidator<E: Estimator> {
    pub(super) uid: String,
    pub(super) estimator: E,
    pub(super) evaluator: Arc<dyn Evaluator>,
    pub(super) maps: Vec<ParamMap>,
    pub(super) num_folds: usize,
    pub(super) fold_col: Option<String>,
    pub(super) seed: i64,
    pub(super) parallelism: usize,
    pub(super) collect_sub_models: bool,
    pub(super) folds: FoldAssignment,
    pub(super) progress: Option<Progress>,
}

impl<E: Estimator> CrossValidator<E> {
    /// A cross-validator of `estimator` over `maps`, scored by `evaluator`.
    pub fn new(estimator: E, evaluator: impl Evaluator + 'static, maps: Vec<ParamMap>) -> Self {
        Self {
            uid: crate::param::random_uid("CrossValidator"),
            estimator,
            evaluator: Arc::new(evaluator),
            maps,
            num_folds: 3,
            fold_col: None,
            seed: CV_SEED,
            parallelism: 1,
            collect_sub_models: false,
            folds: FoldAssignment::PySpark,
            progress: None,
        }
    }
    /// `numFolds`.
    pub fn with_num_folds(mut self, k: usize) -> Self {
        self.num_folds = k;
        self
    }
    /// `foldCol`: an integer column holding each row's fold in `[0, numFolds)`.
    pub fn with_fold_col(mut self, col: &str) -> Self {
        self.fold_col = Some(col.to_string());
        self
    }
    /// `seed`.
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.seed = seed;
        self
    }
    /// `parallelism`: how many (fold, map) fits run at once.
    pub fn with_parallelism(mut self, n: usize) -> Self {
        self.parallelism = n;
        self
    }
    /// `collectSubModels`: keep every fold's model of every map.
    pub fn with_collect_sub_models(mut self, on: bool) -> Self {
        self.collect_sub_models = on;
        self
    }
    /// Runs `f` after every fit, from the thread that made it: `numFolds` × maps fits
    /// scored on the folds, then the refit of the best map (for a progress bar).
    pub fn with_progress(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.progress = Some(Progress(Arc::new(f)));
        self
    }
    /// PySpark's folds (default) or Scala's.
    pub fn with_fold_assignment(mut self, a: FoldAssignment) -> Self {
        self.folds = a;
        self
    }
    /// The param maps.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.maps
    }
    /// The uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }
    /// The estimator to tune.
    pub fn estimator(&self) -> &E {
        &self.estimator
    }
    /// The evaluator.
    pub fn evaluator(&self) -> &dyn Evaluator {
        self.evaluator.as_ref()
    }

    /// The fold of every row, per partition (`num_folds` = in no validation fold).
    fn assign(&self, df: &DataFrame) -> Result<Vec<Vec<u32>>> {
        let k = self.num_folds;
        if let Some(col) = &self.fold_col {
            let c = df.column(col)?;
            let mut out = Vec::new();
            for (p, chunk) in c.chunks.iter().enumerate() {
                let vals: Vec<Option<i64>> = match chunk.data_type() {
                    DataType::Int8 => chunk
                        .as_primitive::<Int8Type>()
                        .iter()
                        .map(|v| v.map(i64::from))
                        .collect(),
                    DataType::Int16 => chunk
                        .as_primitive::<Int16Type>()
                        .iter()
                        .map(|v| v.map(i64::from))
                        .collect(),
                    DataType::Int32 => chunk
                        .as_primitive::<Int32Type>()
                        .iter()
                        .map(|v| v.map(i64::from))
                        .collect(),
                    DataType::Int64 => chunk.as_primitive::<Int64Type>().iter().collect(),
                    other => {
                        return Err(Error::ColumnType {
                            stage: "CrossValidator",
                            column: col.clone(),
                            found: other.clone(),
                            expected: "an integer type (the fold of each row)".into(),
                        })
                    }
                };
                let mut folds = Vec::with_capacity(vals.len());
                for (row, v) in vals.into_iter().enumerate() {
                    match v {
                        Some(f) if f >= 0 && (f as usize) < k => folds.push(f as u32),
                        _ => {
                            return Err(Error::InvalidParam {
                                stage: "CrossValidator",
                                param: "foldCol".into(),
                                expected: format!(
                                    "a column whose fold numbers are in range [0, {k})"
                                ),
                                got: format!(
                                    "{} in column `{col}` (partition {p}, row {row})",
                                    v.map_or("null".to_string(), |f| f.to_string())
                                ),
                            })
                        }
                    }
                }
                out.push(folds);
            }
            return Ok(out);
        }
        Ok(match self.folds {
            FoldAssignment::PySpark => {
                let h = 1.0 / k as f64;
                df.partitions()
                    .iter()
                    .enumerate()
                    .map(|(p, b)| {
                        let mut rng = XorShiftRandom::new(self.seed.wrapping_add(p as i64));
                        (0..b.num_rows())
                            .map(|_| {
                                let u = rng.next_double();
                                (0..k)
                                    .find(|&i| i as f64 * h <= u && u < (i + 1) as f64 * h)
                                    .unwrap_or(k) as u32
                            })
                            .collect()
                    })
                    .collect()
            }
            FoldAssignment::Scala => {
                // MLUtils.kFold: float32 bounds widened to double.
                let bounds: Vec<f64> = (0..=k).map(|f| (f as f32 / k as f32) as f64).collect();
                let mut seeds = JavaRandom::new(self.seed);
                df.partitions()
                    .iter()
                    .map(|b| {
                        let mut rng = XorShiftRandom::new(seeds.next_long());
                        (0..b.num_rows())
                            .map(|_| {
                                let u = rng.next_double();
                                (0..k)
                                    .find(|&f| bounds[f] <= u && u < bounds[f + 1])
                                    .unwrap_or(k) as u32
                            })
                            .collect()
                    })
                    .collect()
            }
        })
    }

    fn check(&self, df: &DataFrame) -> Result<()> {
        check_common(
            "CrossValidator",
            &self.estimator,
            &self.maps,
            self.parallelism,
            df,
        )?;
        if self.num_folds < 2 {
            return Err(Error::param(
                "CrossValidator",
                "numFolds",
                ">= 2",
                self.num_folds,
            ));
        }
        Ok(())
    }

    /// Fits every map on every fold, then the best map on all of `df`.
    ///
    /// # Errors
    /// An empty grid, a grid param the estimator's stages lack (the stage's error lists its
    /// params), `numFolds < 2`, `parallelism < 1`, a `foldCol` value outside
    /// `[0, numFolds)`, an empty training or validation fold, or any error of a fit or of
    /// the evaluator.
    pub fn fit(&self, df: &DataFrame) -> Result<CrossValidatorModel<E::Model>> {
        self.check(df)?;
        let k = self.num_folds;
        let groups = self.assign(df)?;
        let job = Job {
            est: &self.estimator,
            maps: &self.maps,
            evaluator: &self.evaluator,
            pool: pool(self.parallelism)?,
            collect: self.collect_sub_models,
            tuner: "CrossValidator",
            progress: self.progress.as_ref(),
        };
        let mut per_fold = Vec::with_capacity(k);
        let mut sub_models = self.collect_sub_models.then(Vec::new);
        for fold in 0..k {
            // The fold's rows are selections of `df`, materialised one side at a time.
            let rows = SplitRows::Groups {
                df,
                groups: &groups,
                valid: fold as u32,
                drop: self.fold_col.as_deref(),
            };
            let (train, valid) = rows.counts();
            for (what, n) in [("training", train), ("validation", valid)] {
                if n == 0 {
                    return Err(Error::Frame(format!(
                        "CrossValidator: the {what} data at fold {fold} is empty; use fewer folds or more rows"
                    )));
                }
            }
            let r = fit_split(&job, &rows)?;
            // The fold's copies are dropped: their memory goes back to the OS before the
            // next fold (or the refit) allocates.
            crate::frame::buffer::release_free_memory();
            tracing::info!(fold, metrics = ?r.metrics, "cross-validation fold done");
            per_fold.push(r.metrics);
            if let (Some(all), Some(m)) = (sub_models.as_mut(), r.models) {
                all.push(m);
            }
        }
        let n = self.maps.len();
        let avg: Vec<f64> = (0..n)
            .map(|j| per_fold.iter().map(|f| f[j]).sum::<f64>() / k as f64)
            .collect();
        let std: Vec<f64> = (0..n)
            .map(|j| {
                let var = per_fold
                    .iter()
                    .map(|f| (f[j] - avg[j]).powi(2))
                    .sum::<f64>()
                    / k as f64;
                var.sqrt()
            })
            .collect();
        drop(groups);
        let best = best_index(&avg, self.evaluator.is_larger_better());
        let mut est = self.estimator.clone();
        apply_map(&mut est, &self.maps[best], "CrossValidator")?;
        let data = match &self.fold_col {
            Some(c) => df.drop([c])?,
            None => df.clone(),
        };
        let best_model = est.fit(&data)?;
        Progress::tick(self.progress.as_ref());
        Ok(CrossValidatorModel {
            uid: self.uid.clone(),
            num_folds: self.num_folds,
            fold_col: self.fold_col.clone(),
            seed: self.seed,
            estimator: Arc::new(self.estimator.clone()),
            evaluator: self.evaluator.clone(),
            best_model,
            avg_metrics: avg,
            std_metrics: std,
            fold_metrics: per_fold,
            sub_models,
            maps: self.maps.clone(),
            best_index: best,
        })
    }
}

fn check_common<E: Estimator>(
    tuner: &'static str,
    est: &E,
    maps: &[ParamMap],
    parallelism: usize,
    df: &DataFrame,
) -> Result<()> {
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
    // Spark's transformSchema: every map on a copy of the estimator, before any fit.
    for m in maps {
        let mut e = est.clone();
        apply_map(&mut e, m, tuner)?;
        e.transform_schema(df.schema())?;
    }
    Ok(())
}

fn pool(parallelism: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(parallelism)
        .build()
        .map_err(|e| Error::Internal(format!("cannot start {parallelism} tuning threads: {e}")))
}

/// A fitted [`CrossValidator`]: the best model refit on all rows, and the metrics.
///
/// It is a [`Transformer`] (through the best model), so it sits in a pipeline, and saves
/// and loads in Spark's layout (`CrossValidatorModel::<PipelineModel>::load(path)`).
#[derive(Clone, Debug)]
pub struct CrossValidatorModel<M> {
    pub(super) uid: String,
    pub(super) num_folds: usize,
    pub(super) fold_col: Option<String>,
    pub(super) seed: i64,
    pub(super) estimator: Arc<dyn DynEstimator>,
    pub(super) evaluator: Arc<dyn Evaluator>,
    pub(super) best_model: M,
    pub(super) avg_metrics: Vec<f64>,
    pub(super) std_metrics: Vec<f64>,
    pub(super) fold_metrics: Vec<Vec<f64>>,
    pub(super) sub_models: Option<Vec<Vec<M>>>,
    pub(super) maps: Vec<ParamMap>,
    pub(super) best_index: usize,
}

impl<M: Transformer> CrossValidatorModel<M> {
    /// The estimator that was tuned (unfitted, without the grid's values).
    pub fn estimator(&self) -> &dyn DynEstimator {
        self.estimator.as_ref()
    }
    /// The evaluator that scored the fits.
    pub fn evaluator(&self) -> &dyn Evaluator {
        self.evaluator.as_ref()
    }
    /// The best map's model, refit on all rows.
    pub fn best_model(&self) -> &M {
        &self.best_model
    }
    /// The mean over folds of each map's metric, in map order (`avgMetrics`).
    pub fn avg_metrics(&self) -> &[f64] {
        &self.avg_metrics
    }
    /// The standard deviation over folds of each map's metric (population, as PySpark's
    /// `stdMetrics`).
    pub fn std_metrics(&self) -> &[f64] {
        &self.std_metrics
    }
    /// Each fold's metric of each map: `fold_metrics()[fold][map]`.
    pub fn fold_metrics(&self) -> &[Vec<f64>] {
        &self.fold_metrics
    }
    /// `sub_models()[fold][map]` when `collectSubModels` was set.
    pub fn sub_models(&self) -> Option<&[Vec<M>]> {
        self.sub_models.as_deref()
    }
    /// The param maps, in order.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.maps
    }
    /// The index of the best map.
    pub fn best_index(&self) -> usize {
        self.best_index
    }
    /// The best map.
    pub fn best_params(&self) -> &ParamMap {
        &self.maps[self.best_index]
    }
    /// The uid (the validator's).
    pub fn uid(&self) -> &str {
        &self.uid
    }
    /// Transforms through the best model.
    pub fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.best_model.transform(df)
    }
}

/// Spark's `TrainValidationSplit`: one random train/validation split, every map fitted on
/// the training rows and scored on the validation rows; the best map is refit on all rows.
///
/// Params: `trainRatio` (default 0.75, in (0, 1)), `seed` (default Spark's −1772833110),
/// `parallelism`, `collectSubModels`. PySpark's split (default): a row validates when its
/// `rand(seed)` is at least `trainRatio`.
#[derive(Clone, Debug)]
pub struct TrainValidationSplit<E: Estimator> {
    pub(super) uid: String,
    pub(super) estimator: E,
    pub(super) evaluator: Arc<dyn Evaluator>,
    pub(super) maps: Vec<ParamMap>,
    pub(super) train_ratio: f64,
    pub(super) seed: i64,
    pub(super) parallelism: usize,
    pub(super) collect_sub_models: bool,
    pub(super) split: FoldAssignment,
    pub(super) progress: Option<Progress>,
}

impl<E: Estimator> TrainValidationSplit<E> {
    /// A train/validation split of `estimator` over `maps`, scored by `evaluator`.
    pub fn new(estimator: E, evaluator: impl Evaluator + 'static, maps: Vec<ParamMap>) -> Self {
        Self {
            uid: crate::param::random_uid("TrainValidationSplit"),
            estimator,
            evaluator: Arc::new(evaluator),
            maps,
            train_ratio: 0.75,
            seed: TVS_SEED,
            parallelism: 1,
            collect_sub_models: false,
            split: FoldAssignment::PySpark,
            progress: None,
        }
    }
    /// `trainRatio`.
    pub fn with_train_ratio(mut self, r: f64) -> Self {
        self.train_ratio = r;
        self
    }
    /// `seed`.
    pub fn with_seed(mut self, seed: i64) -> Self {
        self.seed = seed;
        self
    }
    /// `parallelism`.
    pub fn with_parallelism(mut self, n: usize) -> Self {
        self.parallelism = n;
        self
    }
    /// `collectSubModels`.
    pub fn with_collect_sub_models(mut self, on: bool) -> Self {
        self.collect_sub_models = on;
        self
    }
    /// Runs `f` after every fit, from the thread that made it: one per map, then the refit
    /// of the best map (for a progress bar).
    pub fn with_progress(mut self, f: impl Fn() + Send + Sync + 'static) -> Self {
        self.progress = Some(Progress(Arc::new(f)));
        self
    }
    /// PySpark's split (default) or Scala's (`randomSplit`, with its sort).
    pub fn with_split(mut self, a: FoldAssignment) -> Self {
        self.split = a;
        self
    }
    /// The param maps.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.maps
    }
    /// The uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }
    /// The estimator to tune.
    pub fn estimator(&self) -> &E {
        &self.estimator
    }
    /// The evaluator.
    pub fn evaluator(&self) -> &dyn Evaluator {
        self.evaluator.as_ref()
    }

    /// Fits every map on the training rows, scores it on the validation rows, and refits
    /// the best map on all of `df`.
    ///
    /// # Errors
    /// An empty grid, a grid param the estimator's stages lack, `trainRatio` outside
    /// (0, 1), an empty training or validation set, or any error of a fit or the evaluator.
    pub fn fit(&self, df: &DataFrame) -> Result<TrainValidationSplitModel<E::Model>> {
        check_common(
            "TrainValidationSplit",
            &self.estimator,
            &self.maps,
            self.parallelism,
            df,
        )?;
        let r = self.train_ratio;
        if !(r > 0.0 && r < 1.0) {
            return Err(Error::param(
                "TrainValidationSplit",
                "trainRatio",
                "in (0, 1)",
                r,
            ));
        }
        let groups: Vec<Vec<u32>>;
        let rows = match self.split {
            FoldAssignment::PySpark => {
                groups = df
                    .partitions()
                    .iter()
                    .enumerate()
                    .map(|(p, b)| {
                        let mut rng = XorShiftRandom::new(self.seed.wrapping_add(p as i64));
                        (0..b.num_rows())
                            .map(|_| u32::from(rng.next_double() >= r))
                            .collect()
                    })
                    .collect();
                SplitRows::Groups {
                    df,
                    groups: &groups,
                    valid: 1,
                    drop: None,
                }
            }
            FoldAssignment::Scala => {
                let [train, valid] = df.random_split([r, 1.0 - r], self.seed)?;
                SplitRows::Frames { train, valid }
            }
        };
        let (train, valid) = rows.counts();
        for (what, n) in [("training", train), ("validation", valid)] {
            if n == 0 {
                return Err(Error::Frame(format!(
                    "TrainValidationSplit: the {what} data is empty; use another trainRatio or more rows"
                )));
            }
        }
        let job = Job {
            est: &self.estimator,
            maps: &self.maps,
            evaluator: &self.evaluator,
            pool: pool(self.parallelism)?,
            collect: self.collect_sub_models,
            tuner: "TrainValidationSplit",
            progress: self.progress.as_ref(),
        };
        let res = fit_split(&job, &rows)?;
        // The split is not needed for the refit on all rows.
        drop(rows);
        crate::frame::buffer::release_free_memory();
        let best = best_index(&res.metrics, self.evaluator.is_larger_better());
        let mut est = self.estimator.clone();
        apply_map(&mut est, &self.maps[best], "TrainValidationSplit")?;
        let best_model = est.fit(df)?;
        Progress::tick(self.progress.as_ref());
        Ok(TrainValidationSplitModel {
            uid: self.uid.clone(),
            train_ratio: self.train_ratio,
            seed: self.seed,
            estimator: Arc::new(self.estimator.clone()),
            evaluator: self.evaluator.clone(),
            best_model,
            validation_metrics: res.metrics,
            sub_models: res.models,
            maps: self.maps.clone(),
            best_index: best,
        })
    }
}

/// A fitted [`TrainValidationSplit`]: a [`Transformer`] through its best model, saved
/// and loaded in Spark's layout.
#[derive(Clone, Debug)]
pub struct TrainValidationSplitModel<M> {
    pub(super) uid: String,
    pub(super) train_ratio: f64,
    pub(super) seed: i64,
    pub(super) estimator: Arc<dyn DynEstimator>,
    pub(super) evaluator: Arc<dyn Evaluator>,
    pub(super) best_model: M,
    pub(super) validation_metrics: Vec<f64>,
    pub(super) sub_models: Option<Vec<M>>,
    pub(super) maps: Vec<ParamMap>,
    pub(super) best_index: usize,
}

impl<M: Transformer> TrainValidationSplitModel<M> {
    /// The estimator that was tuned (unfitted, without the grid's values).
    pub fn estimator(&self) -> &dyn DynEstimator {
        self.estimator.as_ref()
    }
    /// The evaluator that scored the fits.
    pub fn evaluator(&self) -> &dyn Evaluator {
        self.evaluator.as_ref()
    }
    /// The best map's model, refit on all rows.
    pub fn best_model(&self) -> &M {
        &self.best_model
    }
    /// Each map's metric on the validation rows (`validationMetrics`).
    pub fn validation_metrics(&self) -> &[f64] {
        &self.validation_metrics
    }
    /// Each map's model when `collectSubModels` was set.
    pub fn sub_models(&self) -> Option<&[M]> {
        self.sub_models.as_deref()
    }
    /// The param maps, in order.
    pub fn estimator_param_maps(&self) -> &[ParamMap] {
        &self.maps
    }
    /// The index of the best map.
    pub fn best_index(&self) -> usize {
        self.best_index
    }
    /// The uid (the validator's).
    pub fn uid(&self) -> &str {
        &self.uid
    }
    /// Transforms through the best model.
    pub fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.best_model.transform(df)
    }
}

/// Sets one of a validator's own params by Spark name (`names` lists the valid ones).
fn set_validator_param(
    tuner: &'static str,
    names: &[&str],
    name: &str,
    value: &Value,
) -> Result<Value> {
    if !names.contains(&name) {
        return Err(Error::UnknownParam {
            stage: tuner,
            param: name.to_string(),
            valid: names.iter().map(|n| n.to_string()).collect(),
        });
    }
    let bad = |expected: &str| Error::param(tuner, name, expected, value);
    Ok(match name {
        "numFolds" => match value.as_u64() {
            Some(k) if k >= 2 => json!(k),
            _ => return Err(bad("an integer >= 2")),
        },
        "parallelism" => match value.as_u64() {
            Some(n) if n >= 1 => json!(n),
            _ => return Err(bad("an integer >= 1")),
        },
        "seed" => match value.as_i64() {
            Some(n) => json!(n),
            None => return Err(bad("a 64-bit integer")),
        },
        "trainRatio" => match value.as_f64() {
            Some(r) if r > 0.0 && r < 1.0 => json!(r),
            _ => return Err(bad("a number in (0, 1)")),
        },
        "foldCol" => match value.as_str() {
            Some(c) => json!(c),
            None => return Err(bad("a column name (\"\" for random folds)")),
        },
        "collectSubModels" => match value.as_bool() {
            Some(b) => json!(b),
            None => return Err(bad("true or false")),
        },
        _ => unreachable!("checked against names"),
    })
}

const CV_PARAMS: &[&str] = &[
    "collectSubModels",
    "foldCol",
    "numFolds",
    "parallelism",
    "seed",
];
const TVS_PARAMS: &[&str] = &["collectSubModels", "parallelism", "seed", "trainRatio"];

impl<E: Estimator> Stage for CrossValidator<E> {
    fn kind(&self) -> &'static str {
        "CrossValidator"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    /// Spark's `CrossValidator.transformSchema`: the fold column, when set, is an integer
    /// column; then the estimator's schema.
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        if let Some(col) = &self.fold_col {
            let (_, field) = crate::frame::schema::require_column(input, "CrossValidator", col)?;
            if !field.data_type().is_signed_integer() {
                return Err(Error::ColumnType {
                    stage: "CrossValidator",
                    column: col.clone(),
                    found: field.data_type().clone(),
                    expected: "an integer type (the fold of each row)".into(),
                });
            }
        }
        self.estimator.transform_schema(input)
    }
    fn params_json(&self) -> Value {
        json!({
            "numFolds": self.num_folds,
            "foldCol": self.fold_col.clone().unwrap_or_default(),
            "seed": self.seed,
            "parallelism": self.parallelism,
            "collectSubModels": self.collect_sub_models,
        })
    }
    fn set_param_json(&mut self, name: &str, value: Value) -> Result<()> {
        let v = set_validator_param("CrossValidator", CV_PARAMS, name, &value)?;
        match name {
            "numFolds" => self.num_folds = v.as_u64().unwrap_or(3) as usize,
            "parallelism" => self.parallelism = v.as_u64().unwrap_or(1) as usize,
            "seed" => self.seed = v.as_i64().unwrap_or(CV_SEED),
            "foldCol" => self.fold_col = v.as_str().filter(|c| !c.is_empty()).map(String::from),
            _ => self.collect_sub_models = v.as_bool().unwrap_or(false),
        }
        Ok(())
    }
}

impl<E: Estimator> Estimator for CrossValidator<E>
where
    E::Model: Clone,
{
    type Model = CrossValidatorModel<E::Model>;
    fn fit(&self, df: &DataFrame) -> Result<Self::Model> {
        CrossValidator::fit(self, df)
    }
}

impl<M: Model + Clone> Stage for CrossValidatorModel<M> {
    fn kind(&self) -> &'static str {
        "CrossValidatorModel"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.best_model.transform_schema(input)
    }
    fn params_json(&self) -> Value {
        json!({
            "numFolds": self.num_folds,
            "foldCol": self.fold_col.clone().unwrap_or_default(),
            "seed": self.seed,
        })
    }
    fn set_param_json(&mut self, name: &str, value: Value) -> Result<()> {
        fitted_param(
            "CrossValidatorModel",
            &["foldCol", "numFolds", "seed"],
            name,
            value,
        )
    }
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        self.best_model.skipped_columns(input)
    }
}

/// A fitted validator's params describe how it was fitted; changing them would make the
/// model lie about itself.
fn fitted_param(tuner: &'static str, names: &[&str], name: &str, value: Value) -> Result<()> {
    if !names.contains(&name) {
        return Err(Error::UnknownParam {
            stage: tuner,
            param: name.to_string(),
            valid: names.iter().map(|n| n.to_string()).collect(),
        });
    }
    Err(Error::param(
        tuner,
        name,
        "unchanged: a fitted validator's params record how it was fitted; set them on the validator and fit again",
        value,
    ))
}

impl<M: Model + Clone> Transformer for CrossValidatorModel<M> {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.best_model.transform(df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl<M: Model + Clone> Model for CrossValidatorModel<M> {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

impl<E: Estimator> Stage for TrainValidationSplit<E> {
    fn kind(&self) -> &'static str {
        "TrainValidationSplit"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.estimator.transform_schema(input)
    }
    fn params_json(&self) -> Value {
        json!({
            "trainRatio": self.train_ratio,
            "seed": self.seed,
            "parallelism": self.parallelism,
            "collectSubModels": self.collect_sub_models,
        })
    }
    fn set_param_json(&mut self, name: &str, value: Value) -> Result<()> {
        let v = set_validator_param("TrainValidationSplit", TVS_PARAMS, name, &value)?;
        match name {
            "trainRatio" => self.train_ratio = v.as_f64().unwrap_or(0.75),
            "parallelism" => self.parallelism = v.as_u64().unwrap_or(1) as usize,
            "seed" => self.seed = v.as_i64().unwrap_or(TVS_SEED),
            _ => self.collect_sub_models = v.as_bool().unwrap_or(false),
        }
        Ok(())
    }
}

impl<E: Estimator> Estimator for TrainValidationSplit<E>
where
    E::Model: Clone,
{
    type Model = TrainValidationSplitModel<E::Model>;
    fn fit(&self, df: &DataFrame) -> Result<Self::Model> {
        TrainValidationSplit::fit(self, df)
    }
}

impl<M: Model + Clone> Stage for TrainValidationSplitModel<M> {
    fn kind(&self) -> &'static str {
        "TrainValidationSplitModel"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.best_model.transform_schema(input)
    }
    fn params_json(&self) -> Value {
        json!({ "trainRatio": self.train_ratio, "seed": self.seed })
    }
    fn set_param_json(&mut self, name: &str, value: Value) -> Result<()> {
        fitted_param(
            "TrainValidationSplitModel",
            &["seed", "trainRatio"],
            name,
            value,
        )
    }
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        self.best_model.skipped_columns(input)
    }
}

impl<M: Model + Clone> Transformer for TrainValidationSplitModel<M> {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.best_model.transform(df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl<M: Model + Clone> Model for TrainValidationSplitModel<M> {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}
