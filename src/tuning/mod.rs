//! Hyper-parameter tuning: [`ParamGridBuilder`], [`CrossValidator`] and
//! [`TrainValidationSplit`] (Spark's `org.apache.spark.ml.tuning`).
//!
//! A grid is a list of [`ParamMap`]s; each entry names a stage by its uid and a param by its
//! Spark name, so a grid can reach any stage of a [`Pipeline`]. The validators fit the
//! estimator once per (fold, param map), score each fit with an [`Evaluator`] and refit
//! the best map on all the data.
//!
//! The folds are the ones PySpark's `CrossValidator` makes for the same seed and
//! partitions (a `rand(seed)` column), or Scala's `MLUtils.kFold` folds
//! ([`FoldAssignment::Scala`]). A fold is a selection of rows (each row's fold number,
//! then per partition the sorted indices of its training rows), not a copy of the data.
//! As Spark does, the folds run one after the other and the maps of a fold in parallel
//! (`parallelism`). A fit reads the fold's training rows in place where its stages can
//! (`StandardScaler`, `LogisticRegression`): each pass gathers the selected rows of a
//! chunk into a small reused buffer, so it sums the values a copy would hold in the same
//! blocks and order (the same models, bit for bit) and no copy of the training rows is
//! made. In a [`Pipeline`], the stages before the first stage the grid touches are fitted
//! once per fold (not once per param map): its leading transformers (an assembler) are
//! applied to the training rows a slice at a time, keeping only the columns the later
//! stages read; a fitted `StandardScaler`'s output is not materialised but computed chunk
//! by chunk by the fits that read it; a fit that cannot read rows in place gets them made
//! once for all the maps. When the evaluator says which columns it reads (all of this
//! crate's do), each fit scores the validation rows a slice at a time and keeps only
//! those columns: the held-out rows are not copied either. The best map is then refit on
//! all rows by the estimator itself, reading them in place in the same way.
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::prelude::*;
//! use mlpipe::classification::LogisticRegression;
//! use mlpipe::evaluation::BinaryClassificationEvaluator;
//! use mlpipe::feature::VectorAssembler;
//! use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder};
//!
//! let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
//! let lr = LogisticRegression::new().with_label_col("churn");
//! let grid = ParamGridBuilder::new()
//!     .add_grid(Param::new(&lr, "regParam"), [0.01, 0.1])
//!     .build();
//! let pipeline = Pipeline::new()
//!     .with_transformer(VectorAssembler::new()
//!         .with_input_cols(&["tenure", "monthly_charges"])
//!         .with_output_col("features"))
//!     .with_estimator(lr);
//! let cv = CrossValidator::new(pipeline, BinaryClassificationEvaluator::new().with_label_col("churn"), grid)
//!     .with_num_folds(2)
//!     .with_seed(13);
//! let model = cv.fit(&df)?;
//! assert_eq!(model.avg_metrics().len(), 2);
//! let scored = model.transform(&df)?; // through the best model, refit on all rows
//! assert!(scored.schema().field_with_name("prediction").is_ok());
//! # Ok(()) }
//! ```

#[cfg(feature = "connect")]
pub(crate) mod parts;
mod persist;
mod validators;

use std::any::Any;
use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::pipeline::view::{fit_on_view, reads_in_place, FitView};
use crate::pipeline::{
    unread_columns, Estimator, Evaluator, Pipeline, PipelineModel, PipelineStage, Stage,
    Transformer,
};

pub use validators::{
    CrossValidator, CrossValidatorModel, FoldAssignment, TrainValidationSplit,
    TrainValidationSplitModel,
};

/// A param of one stage: the stage's uid and Spark's name of the param (Spark's `Param`
/// with its `parent`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    /// The uid of the stage the param belongs to.
    pub parent: String,
    /// Spark's name of the param (`regParam`).
    pub name: String,
}

impl Param {
    /// The param `name` of `stage` (take it before moving the stage into a pipeline).
    pub fn new(stage: &impl Stage, name: &str) -> Self {
        Self {
            parent: stage.uid().to_string(),
            name: name.to_string(),
        }
    }

    /// `regParam` of `stage`.
    pub fn reg_param(stage: &impl Stage) -> Self {
        Self::new(stage, "regParam")
    }

    /// `elasticNetParam` of `stage`.
    pub fn elastic_net_param(stage: &impl Stage) -> Self {
        Self::new(stage, "elasticNetParam")
    }

    /// `maxIter` of `stage`.
    pub fn max_iter(stage: &impl Stage) -> Self {
        Self::new(stage, "maxIter")
    }
}

/// A set of param values (Spark's `ParamMap`), in insertion order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParamMap {
    pairs: Vec<(Param, Value)>,
}

impl ParamMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `param` to `value` (replacing an earlier value of the same param).
    pub fn put(mut self, param: Param, value: impl Into<Value>) -> Self {
        let value = value.into();
        match self.pairs.iter_mut().find(|(p, _)| *p == param) {
            Some(pair) => pair.1 = value,
            None => self.pairs.push((param, value)),
        }
        self
    }

    /// The (param, value) pairs in insertion order.
    pub fn pairs(&self) -> &[(Param, Value)] {
        &self.pairs
    }

    /// The value of `param`, if set.
    pub fn get(&self, param: &Param) -> Option<&Value> {
        self.pairs.iter().find(|(p, _)| p == param).map(|(_, v)| v)
    }
}

impl std::fmt::Display for ParamMap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .pairs
            .iter()
            .map(|(p, v)| format!("{}={v}", p.name))
            .collect();
        write!(f, "{{{}}}", parts.join(", "))
    }
}

/// Builds the Cartesian product of param values (Spark's `ParamGridBuilder`), in PySpark's
/// order: the param added last varies fastest.
///
/// ```
/// use mlpipe::classification::LogisticRegression;
/// use mlpipe::tuning::{Param, ParamGridBuilder};
/// let lr = LogisticRegression::new();
/// let grid = ParamGridBuilder::new()
///     .add_grid(Param::reg_param(&lr), [0.01, 0.2])
///     .add_grid(Param::elastic_net_param(&lr), [0.0, 0.8])
///     .build();
/// assert_eq!(grid.len(), 4);
/// assert_eq!(grid[1].to_string(), "{regParam=0.01, elasticNetParam=0.8}");
/// ```
#[derive(Clone, Debug, Default)]
pub struct ParamGridBuilder {
    grid: Vec<(Param, Vec<Value>)>,
}

impl ParamGridBuilder {
    /// An empty builder (its [`build`](Self::build) gives one empty map).
    pub fn new() -> Self {
        Self::default()
    }

    /// The values to try for `param`; replaces an earlier grid of the same param (keeping
    /// its place in the order).
    pub fn add_grid<V: Into<Value>>(
        mut self,
        param: Param,
        values: impl IntoIterator<Item = V>,
    ) -> Self {
        let values: Vec<Value> = values.into_iter().map(Into::into).collect();
        match self.grid.iter_mut().find(|(p, _)| *p == param) {
            Some(entry) => entry.1 = values,
            None => self.grid.push((param, values)),
        }
        self
    }

    /// `[true, false]` for a boolean param.
    pub fn add_grid_bool(self, param: Param) -> Self {
        self.add_grid(param, [true, false])
    }

    /// Fixes every pair of `map` in all grid points (Spark's `baseOn`).
    pub fn base_on(mut self, map: &ParamMap) -> Self {
        for (p, v) in map.pairs() {
            self = self.add_grid(p.clone(), [v.clone()]);
        }
        self
    }

    /// The Cartesian product (one empty map when nothing was added; no maps when a param
    /// was given no values).
    pub fn build(&self) -> Vec<ParamMap> {
        let mut maps = vec![ParamMap::new()];
        for (param, values) in &self.grid {
            maps = maps
                .iter()
                .flat_map(|m| {
                    values
                        .iter()
                        .map(move |v| m.clone().put(param.clone(), v.clone()))
                })
                .collect();
        }
        maps
    }
}

/// Sets every pair of `map` on `est` (on the pipeline stage with the pair's uid when `est`
/// is a [`Pipeline`]).
fn apply_map<E: Estimator>(est: &mut E, map: &ParamMap, tuner: &'static str) -> Result<()> {
    for (param, value) in map.pairs() {
        let any: &mut dyn Any = est;
        if let Some(pipeline) = any.downcast_mut::<Pipeline>() {
            let uids: Vec<String> = pipeline
                .stages()
                .iter()
                .map(|s| stage_of(s).uid().to_string())
                .collect();
            let stage = pipeline
                .stages_mut()
                .iter_mut()
                .find(|s| stage_of(s).uid() == param.parent)
                .ok_or_else(|| missing_stage(tuner, param, &uids))?;
            match stage {
                PipelineStage::Estimator(e) => e.set_param_json(&param.name, value.clone())?,
                PipelineStage::Transformer(t) => t.set_param_json(&param.name, value.clone())?,
            }
        } else if est.uid() == param.parent {
            est.set_param_json(&param.name, value.clone())?;
        } else {
            return Err(missing_stage(tuner, param, &[est.uid().to_string()]));
        }
    }
    Ok(())
}

fn stage_of(s: &PipelineStage) -> &dyn Stage {
    match s {
        PipelineStage::Estimator(e) => e.as_ref(),
        PipelineStage::Transformer(t) => t.as_ref(),
    }
}

fn missing_stage(tuner: &'static str, param: &Param, uids: &[String]) -> Error {
    Error::InvalidParam {
        stage: tuner,
        param: "estimatorParamMaps".into(),
        expected: format!(
            "params of the estimator's stages (uids {uids:?}); take each Param from the stage object that is in the estimator"
        ),
        got: format!("`{}` of stage `{}`", param.name, param.parent),
    }
}

/// A callback a validator runs after every fit (see `with_progress`).
#[derive(Clone)]
pub(crate) struct Progress(pub(crate) Arc<dyn Fn() + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
}

impl Progress {
    fn tick(p: Option<&Progress>) {
        if let Some(p) = p {
            (p.0)();
        }
    }
}

/// One fitted-and-scored split: the metric of every param map, and the fitted models if
/// asked.
struct SplitResult<M> {
    metrics: Vec<f64>,
    models: Option<Vec<M>>,
}

/// What a validator fits on each split.
struct Job<'a, E> {
    est: &'a E,
    maps: &'a [ParamMap],
    evaluator: &'a Arc<dyn Evaluator>,
    pool: rayon::ThreadPool,
    collect: bool,
    tuner: &'static str,
    progress: Option<&'a Progress>,
}

/// Where one split's training and validation rows come from.
enum SplitRows<'a> {
    /// Selections of `df`'s rows by group: the rows of group `valid` validate, all others
    /// train (Spark's `filter` per fold). Each side is materialised only while it is used,
    /// partition by partition, and `drop` (a fold column) is left out.
    Groups {
        df: &'a DataFrame,
        groups: &'a [Vec<u32>],
        valid: u32,
        drop: Option<&'a str>,
    },
    /// Already materialised sides (Scala's `randomSplit`).
    Frames { train: DataFrame, valid: DataFrame },
}

impl SplitRows<'_> {
    /// Rows on each side: (training, validation).
    fn counts(&self) -> (usize, usize) {
        match self {
            SplitRows::Groups { groups, valid, .. } => {
                let v = groups.iter().flatten().filter(|&&g| g == *valid).count();
                (groups.iter().map(Vec::len).sum::<usize>() - v, v)
            }
            SplitRows::Frames { train, valid } => (train.num_rows(), valid.num_rows()),
        }
    }

    /// The schema of the rows handed out (without the dropped fold column).
    fn schema(&self) -> Result<arrow::datatypes::SchemaRef> {
        match self {
            SplitRows::Groups { df, drop, .. } => Ok(match drop {
                Some(c) => df.drop([c])?.schema().clone(),
                None => df.schema().clone(),
            }),
            SplitRows::Frames { train, .. } => Ok(train.schema().clone()),
        }
    }

    /// The training (`validation` false) or validation rows as a [`FitView`]'s parts:
    /// the caller's frame without the `unused` columns (and the fold column), and the
    /// side's rows of each of its partitions (`None`: all). No row is copied.
    fn side(
        &self,
        validation: bool,
        unused: &[String],
    ) -> Result<(DataFrame, Option<Vec<Vec<u32>>>)> {
        match self {
            SplitRows::Frames { train, valid } => {
                Ok(((if validation { valid } else { train }).drop(unused)?, None))
            }
            SplitRows::Groups {
                df,
                groups,
                valid,
                drop,
            } => {
                let base = df.drop(unused.iter().map(String::as_str).chain(*drop))?;
                let rows = groups
                    .iter()
                    .map(|g| {
                        g.iter()
                            .enumerate()
                            .filter(|(_, &x)| (x == *valid) == validation)
                            .map(|(r, _)| r as u32)
                            .collect()
                    })
                    .collect();
                Ok((base, Some(rows)))
            }
        }
    }
}

/// `model`'s output on the rows of `view` without the `unused` columns: a
/// `StandardScalerModel`'s output is made straight from the selected rows of its input
/// (see [`FitView::materialise_without`]); other stages transform the rows made so far.
fn transform_side(
    mut view: FitView<'_>,
    model: &PipelineModel,
    unused: &[String],
) -> Result<DataFrame> {
    for t in model.stages() {
        if !view.defer(t.as_ref()) {
            view = FitView::of_frame(t.transform(&view.materialise()?)?);
        }
    }
    view.materialise_without(unused)
}

/// Rows per slice when rows are made and transformed a slice at a time
/// ([`made_in_slices`]).
const SLICE_ROWS: usize = 1 << 14;

/// `make`'s output on the rows of `base` that `picked` selects (all rows when `None`),
/// made [`SLICE_ROWS`] rows at a time, keeping only the `keep` columns (all when `None`)
/// of each slice's output: one batch per partition with a selected row, in partition
/// order, as `make` on all the selected rows at once gives them (a Spark transformer maps
/// rows, so its output for a row does not depend on which other rows it is given with).
/// Only the kept columns of the selected rows are held at once, plus one slice.
fn made_in_slices(
    base: &DataFrame,
    picked: Option<&[Vec<u32>]>,
    keep: Option<&[String]>,
    slice_rows: usize,
    make: &(dyn Fn(FitView<'_>) -> Result<DataFrame> + Sync),
) -> Result<DataFrame> {
    let mut schema = None;
    let mut batches = Vec::new();
    for (p, batch) in base.partitions().iter().enumerate() {
        let all: Vec<u32>;
        let rows = match picked {
            Some(picked) => picked[p].as_slice(),
            None => {
                all = (0..batch.num_rows() as u32).collect();
                &all
            }
        };
        if rows.is_empty() {
            continue;
        }
        let one = DataFrame::try_new(base.schema().clone(), vec![batch.clone()])?;
        let mut made = Vec::new();
        for slice in rows.chunks(slice_rows.max(1)) {
            let slice = [slice.to_vec()];
            let out = make(FitView::with_rows(&one, &slice))?;
            let out = match keep {
                Some(cols) => {
                    let present: Vec<&String> = cols
                        .iter()
                        .filter(|c| out.schema().index_of(c).is_ok())
                        .collect();
                    out.select(present)?
                }
                None => out,
            };
            schema.get_or_insert_with(|| out.schema().clone());
            made.extend(out.partitions().iter().cloned());
        }
        if let Some(schema) = &schema {
            batches.push(arrow::compute::concat_batches(schema, &made)?);
        }
    }
    match schema {
        Some(schema) => DataFrame::try_new(schema, batches),
        None => Err(Error::Internal("no selected row to make".into())),
    }
}

/// Fits the job's estimator with every map on the training rows, then scores every fit
/// on the validation rows, on the job's pool. The training rows are read in place (see
/// [`FitView`]) by the stages that can; for the others they are materialised once, with
/// only the columns the fits read. When the estimator is a [`Pipeline`], the stages
/// before the first one the grid touches are fitted once, here. The validation rows are
/// made after the training side is released, with only the columns the fits and the
/// evaluator read.
fn fit_split<E: Estimator>(
    job: &Job<'_, E>,
    rows: &SplitRows<'_>,
) -> Result<SplitResult<E::Model>> {
    use rayon::prelude::*;
    let Job {
        est,
        maps,
        evaluator,
        ref pool,
        collect,
        tuner,
        progress,
    } = *job;
    let schema = rows.schema()?;
    let any: &dyn Any = est;
    if let Some(pipeline) = any.downcast_ref::<Pipeline>() {
        let stages = pipeline.stages();
        let touched = |s: &PipelineStage| {
            let uid = stage_of(s).uid();
            maps.iter()
                .any(|m| m.pairs().iter().any(|(p, _)| p.parent == uid))
        };
        let first = stages
            .iter()
            .position(touched)
            .unwrap_or(stages.len())
            .min(stages.len().saturating_sub(1));
        if first > 0 {
            let suffix = stages[first..]
                .iter()
                .fold(Pipeline::new().with_uid(pipeline.uid()), |p, s| {
                    p.with_stage(s.clone())
                });
            let suffixes = with_maps(&suffix, maps, tuner)?;
            // Columns that no stage of any map reads (a fold column, ids, raw text) are
            // never looked at. The prefix's leading transformers (an assembler) are
            // applied to the training rows a slice at a time, keeping only the columns
            // the later stages read; the rest of the prefix is fitted on the rows in
            // place where its stages can (a scaler's output is left for its readers to
            // compute).
            let wholes = with_maps(pipeline, maps, tuner)?;
            let source_unused = unread_columns(&schema, &wholes, |_| true);
            let (base, picked) = rows.side(false, &source_unused)?;
            let lead = stages[..first]
                .iter()
                .take_while(|s| matches!(s, PipelineStage::Transformer(_)))
                .count();
            let lead_model = PipelineModel::new(
                pipeline.uid(),
                stages[..lead]
                    .iter()
                    .filter_map(|s| match s {
                        PipelineStage::Transformer(t) => Some(t.clone_box()),
                        PipelineStage::Estimator(_) => None,
                    })
                    .collect(),
            );
            let view = match (lead, &picked) {
                (0, Some(p)) => FitView::with_rows(&base, p),
                (0, None) => FitView::new(&base),
                _ => {
                    let later = stages[lead..]
                        .iter()
                        .fold(Pipeline::new().with_uid(pipeline.uid()), |p, s| {
                            p.with_stage(s.clone())
                        });
                    let later = with_maps(&later, maps, tuner)?;
                    let made = lead_model.transform_schema(base.schema())?;
                    let unused = unread_columns(&made, &later, |_| true);
                    let make = |v: FitView<'_>| transform_side(v, &lead_model, &unused);
                    FitView::of_frame(made_in_slices(
                        &base,
                        picked.as_deref(),
                        None,
                        SLICE_ROWS,
                        &make,
                    )?)
                }
            };
            let rest = stages[lead..first]
                .iter()
                .fold(Pipeline::new().with_uid(pipeline.uid()), |p, s| {
                    p.with_stage(s.clone())
                });
            let (rest_model, view) = match lead < first {
                true => {
                    let (m, _, view) = rest.fit_view(view, true)?;
                    (Some(m), view)
                }
                false => (None, view),
            };
            let prefix_model = PipelineModel::new(
                pipeline.uid(),
                lead_model
                    .stages()
                    .iter()
                    .chain(rest_model.iter().flat_map(PipelineModel::stages))
                    .map(|t| t.clone_box())
                    .collect(),
            );
            // The grid's fits read the fold's rows in place when they all can; else the
            // rows are made once for all of them.
            let mut in_place = true;
            for s in &suffixes {
                in_place &= reads_in_place(s, &view)?;
            }
            let train = match in_place {
                true => view,
                false => {
                    let unused = unread_columns(view.schema()?.as_ref(), &suffixes, |_| true);
                    FitView::of_frame(view.materialise_without(&unused)?)
                }
            };
            let transformed = prefix_model.transform_schema(&schema)?;
            // The validation rows keep what the grid's fits and the evaluator read; with
            // an evaluator that does not say what it reads, every input column is kept
            // and only the prefix's unread vector columns go.
            let evaluated = evaluator.input_columns();
            let valid_unused = unread_columns(&transformed, &suffixes, |f| match &evaluated {
                Some(cols) => !cols.contains(f.name()),
                None => {
                    schema.field_with_name(f.name()).is_err()
                        && crate::frame::vector::field_vector_size(f).is_some()
                }
            });
            let fitted: Vec<Result<PipelineModel>> = pool.install(|| {
                suffixes
                    .par_iter()
                    .map(|s| Ok(s.fit_view(train.clone(), false)?.0))
                    .collect()
            });
            let fitted = crate::frame::in_order(fitted)?;
            drop(train);
            drop(picked);
            crate::frame::buffer::release_free_memory();
            // With an evaluator that says what it reads, each fit scores the validation
            // rows a slice at a time and keeps only those columns; else the validation
            // rows are made once for all fits.
            let (base, picked) = rows.side(true, &[])?;
            let valid = match &evaluated {
                Some(_) => None,
                None => {
                    let view = match &picked {
                        Some(p) => FitView::with_rows(&base, p),
                        None => FitView::new(&base),
                    };
                    Some(transform_side(view, &prefix_model, &valid_unused)?)
                }
            };
            let results: Vec<Result<(f64, Option<E::Model>)>> = pool.install(|| {
                fitted
                    .into_par_iter()
                    .map(|fitted| {
                        let scored = match (&valid, &evaluated) {
                            (Some(valid), _) => fitted.transform(valid)?,
                            (None, cols) => {
                                let make = |v: FitView<'_>| {
                                    fitted.transform(&transform_side(
                                        v,
                                        &prefix_model,
                                        &valid_unused,
                                    )?)
                                };
                                made_in_slices(
                                    &base,
                                    picked.as_deref(),
                                    cols.as_deref(),
                                    SLICE_ROWS,
                                    &make,
                                )?
                            }
                        };
                        let metric = evaluator.evaluate(&scored)?;
                        drop(scored);
                        Progress::tick(progress);
                        let model = if collect {
                            let all = prefix_model
                                .stages()
                                .iter()
                                .chain(fitted.stages())
                                .map(|t| t.clone_box())
                                .collect();
                            let whole: Box<dyn Any> =
                                Box::new(PipelineModel::new(pipeline.uid(), all));
                            Some(*whole.downcast::<E::Model>().map_err(|_| {
                                Error::Internal("a Pipeline's model is not a PipelineModel".into())
                            })?)
                        } else {
                            None
                        };
                        Ok((metric, model))
                    })
                    .collect()
            });
            return split_result(results, collect);
        }
    }
    let ests = with_maps(est, maps, tuner)?;
    let unused = unread_columns(&schema, &ests, |_| true);
    let (base, picked) = rows.side(false, &unused)?;
    let view = match &picked {
        Some(p) => FitView::with_rows(&base, p),
        None => FitView::new(&base),
    };
    // The fits read the training rows in place when they all can; else the rows are
    // made once for all of them.
    let mut in_place = true;
    for e in &ests {
        in_place &= reads_in_place(e, &view)?;
    }
    let train = match in_place {
        true => view,
        false => view.materialised()?,
    };
    let fitted: Vec<Result<E::Model>> = pool.install(|| {
        ests.par_iter()
            .map(|e| match fit_on_view(e, &train) {
                Some(m) => {
                    let m: Box<dyn Any> = m?;
                    m.downcast::<E::Model>().map(|m| *m).map_err(|_| {
                        Error::Internal(format!("{}'s model is not its Model type", e.kind()))
                    })
                }
                None => e.fit(&train.materialise()?),
            })
            .collect()
    });
    let fitted = crate::frame::in_order(fitted)?;
    drop(train);
    drop(picked);
    crate::frame::buffer::release_free_memory();
    let valid_unused = match evaluator.input_columns() {
        Some(cols) => unread_columns(&schema, &ests, |f| !cols.contains(f.name())),
        None => Vec::new(),
    };
    // As for a pipeline: the validation rows scored a slice at a time when the evaluator
    // says what it reads, else made once for all fits.
    let (base, picked) = rows.side(true, &valid_unused)?;
    let evaluated = evaluator.input_columns();
    let valid = match &evaluated {
        Some(_) => None,
        None => Some(
            match &picked {
                Some(p) => FitView::with_rows(&base, p),
                None => FitView::new(&base),
            }
            .materialise()?,
        ),
    };
    let results: Vec<Result<(f64, Option<E::Model>)>> = pool.install(|| {
        fitted
            .into_par_iter()
            .map(|model| {
                let scored = match &valid {
                    Some(valid) => model.transform(valid)?,
                    None => {
                        let make = |v: FitView<'_>| model.transform(&v.materialise()?);
                        made_in_slices(
                            &base,
                            picked.as_deref(),
                            evaluated.as_deref(),
                            SLICE_ROWS,
                            &make,
                        )?
                    }
                };
                let metric = evaluator.evaluate(&scored)?;
                drop(scored);
                Progress::tick(progress);
                Ok((metric, collect.then_some(model)))
            })
            .collect()
    });
    split_result(results, collect)
}

/// A copy of `est` with each map applied.
fn with_maps<E: Estimator>(est: &E, maps: &[ParamMap], tuner: &'static str) -> Result<Vec<E>> {
    maps.iter()
        .map(|m| {
            let mut e = est.clone();
            apply_map(&mut e, m, tuner)?;
            Ok(e)
        })
        .collect()
}

fn split_result<M>(
    results: Vec<Result<(f64, Option<M>)>>,
    collect: bool,
) -> Result<SplitResult<M>> {
    let results = crate::frame::in_order(results)?;
    let mut metrics = Vec::with_capacity(results.len());
    let mut models = Vec::with_capacity(results.len());
    for (m, model) in results {
        metrics.push(m);
        models.extend(model);
    }
    Ok(SplitResult {
        metrics,
        models: collect.then_some(models),
    })
}

/// The index of the best metric (the first of equals), as Spark's validators pick it.
fn best_index(metrics: &[f64], larger_is_better: bool) -> usize {
    let mut best = 0;
    for (i, &m) in metrics.iter().enumerate().skip(1) {
        let better = if larger_is_better {
            m > metrics[best]
        } else {
            m < metrics[best]
        };
        if better {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::LogisticRegression;
    use crate::feature::{StandardScaler, VectorAssembler};

    /// Rows made and scored a few at a time are the rows made and scored at once: the
    /// same partitions, the same values, bit for bit (an assembler, a pending scaler and
    /// a fitted LogisticRegression over picked rows, in slices of 3 rows).
    #[test]
    fn rows_made_in_slices_are_the_rows_made_at_once() {
        let df = DataFrame::read_csv("data/quickstart.csv", &crate::frame::CsvOptions::default())
            .unwrap();
        let model = Pipeline::new()
            .with_transformer(
                VectorAssembler::new()
                    .with_input_cols(["tenure", "monthly_charges"])
                    .with_output_col("raw"),
            )
            .with_estimator(
                StandardScaler::new()
                    .with_input_col("raw")
                    .with_output_col("features")
                    .with_mean(true),
            )
            .with_estimator(
                LogisticRegression::new()
                    .with_label_col("churn")
                    .with_features_col("features"),
            )
            .fit(&df)
            .unwrap();
        let picked: Vec<Vec<u32>> = df
            .partitions()
            .iter()
            .map(|b| (0..b.num_rows() as u32).filter(|r| r % 3 != 1).collect())
            .collect();
        assert!(picked.iter().map(Vec::len).sum::<usize>() > 3 * 2);
        let keep = ["rawPrediction".to_string(), "churn".to_string()];
        let whole = model
            .transform(&FitView::with_rows(&df, &picked).materialise().unwrap())
            .unwrap()
            .select(&keep)
            .unwrap();
        let make = |v: FitView<'_>| transform_side(v, &model, &[]);
        let sliced = made_in_slices(&df, Some(&picked), Some(&keep), 3, &make).unwrap();
        assert_eq!(sliced.schema(), whole.schema());
        assert_eq!(sliced.partitions(), whole.partitions());
        // All rows, every column.
        let sliced = made_in_slices(&df, None, None, 3, &make).unwrap();
        assert_eq!(
            sliced.partitions(),
            model.transform(&df).unwrap().partitions()
        );
    }

    /// The assembler's output is dropped once the scaler has read it, and so are the raw
    /// columns the assembler read; the scaler's output and the label, which the grid's
    /// LogisticRegression reads, are kept. On the validation side only the made and unread
    /// vector column goes (the evaluator may read any input column).
    #[test]
    fn unread_columns_are_dropped_before_the_grid_fits() {
        let df = DataFrame::read_csv("data/quickstart.csv", &crate::frame::CsvOptions::default())
            .unwrap();
        let lr = LogisticRegression::new()
            .with_label_col("churn")
            .with_features_col("features");
        let maps = ParamGridBuilder::new()
            .add_grid(Param::reg_param(&lr), [0.01, 0.1])
            .build();
        let prefix = Pipeline::new()
            .with_transformer(
                VectorAssembler::new()
                    .with_input_cols(["tenure", "monthly_charges"])
                    .with_output_col("raw"),
            )
            .with_estimator(
                StandardScaler::new()
                    .with_input_col("raw")
                    .with_output_col("features"),
            );
        let t = prefix.fit(&df).unwrap().transform(&df).unwrap();
        let suffixes =
            with_maps(&Pipeline::new().with_estimator(lr), &maps, "CrossValidator").unwrap();
        let train = unread_columns(t.schema(), &suffixes, |_| true);
        let kept: Vec<&str> = t
            .columns()
            .into_iter()
            .filter(|c| !train.contains(&c.to_string()))
            .collect();
        assert_eq!(kept, ["churn", "features"]);
        let valid = unread_columns(t.schema(), &suffixes, |f| {
            df.schema().field_with_name(f.name()).is_err()
                && crate::frame::vector::field_vector_size(f).is_some()
        });
        assert_eq!(valid, ["raw"]);
    }
}
