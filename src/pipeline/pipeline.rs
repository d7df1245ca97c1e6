//! [`Pipeline`] and [`PipelineModel`] with Spark's semantics.

use std::collections::HashSet;

use arrow::datatypes::Schema;
use serde_json::{json, Value};

use super::view::{fit_on_view, FitView};
use super::{DynEstimator, Estimator, Model, Stage, Transformer};
use crate::error::{Error, Result};
use crate::frame::schema::column_names;
use crate::frame::DataFrame;
use crate::param::random_uid;

/// One stage of a [`Pipeline`]: a transformer used as is, or an estimator to fit.
#[derive(Debug)]
pub enum PipelineStage {
    /// Used as is, both when fitting and in the fitted model.
    Transformer(Box<dyn Transformer>),
    /// Fitted by [`Pipeline::fit`]; its model takes its place in the [`PipelineModel`].
    Estimator(Box<dyn DynEstimator>),
}

impl PipelineStage {
    fn stage(&self) -> &dyn Stage {
        match self {
            PipelineStage::Transformer(t) => t.as_ref(),
            PipelineStage::Estimator(e) => e.as_ref(),
        }
    }
}

impl Clone for PipelineStage {
    fn clone(&self) -> Self {
        match self {
            PipelineStage::Transformer(t) => PipelineStage::Transformer(t.clone_box()),
            PipelineStage::Estimator(e) => PipelineStage::Estimator(e.clone_dyn()),
        }
    }
}

/// A chain of stages fitted as one estimator (Spark's `Pipeline`).
///
/// [`Pipeline::fit`] first checks the whole chain's schema (so a misspelt column fails
/// before any data is read), then fits the stages in order, transforming the data only up
/// to the last estimator, and returns a [`PipelineModel`].
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let pipeline = Pipeline::new().with_transformer(
///     VectorAssembler::new()
///         .with_input_cols(&["tenure", "monthly_charges"])
///         .with_output_col("features"),
/// );
/// let model = pipeline.fit(&df)?;
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("features").is_ok());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Pipeline {
    uid: String,
    stages: Vec<PipelineStage>,
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

impl Pipeline {
    /// An empty pipeline with a fresh uid.
    pub fn new() -> Self {
        Self {
            uid: random_uid("pipeline"),
            stages: Vec::new(),
        }
    }

    /// Appends a transformer stage.
    pub fn with_transformer(mut self, t: impl Transformer) -> Self {
        self.stages.push(PipelineStage::Transformer(Box::new(t)));
        self
    }

    /// Appends an estimator stage.
    pub fn with_estimator(mut self, e: impl Estimator) -> Self {
        self.stages.push(PipelineStage::Estimator(Box::new(e)));
        self
    }

    /// Appends an already boxed stage.
    pub fn with_stage(mut self, s: PipelineStage) -> Self {
        self.stages.push(s);
        self
    }

    /// Sets the uid.
    pub fn with_uid(mut self, uid: impl Into<String>) -> Self {
        self.uid = uid.into();
        self
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[PipelineStage] {
        &self.stages
    }

    /// Mutable access to the stages (to set params by name, e.g. in tuning).
    pub fn stages_mut(&mut self) -> &mut [PipelineStage] {
        &mut self.stages
    }

    /// The first stage (transformer or estimator) of type `T`.
    ///
    /// # Errors
    /// [`Error::Pipeline`] when no stage has type `T`, listing the stages' kinds.
    ///
    /// # Examples
    /// ```
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::{StringIndexer, VectorAssembler};
    /// let pipeline = Pipeline::new()
    ///     .with_estimator(StringIndexer::new().with_input_col("contract"))
    ///     .with_transformer(VectorAssembler::new().with_input_cols(["tenure"]));
    /// assert!(pipeline.stage::<StringIndexer>().is_ok());
    /// assert_eq!(pipeline.stages_of::<VectorAssembler>().count(), 1);
    /// assert!(matches!(pipeline.last(), Some(PipelineStage::Transformer(_))));
    /// ```
    pub fn stage<T: Stage>(&self) -> Result<&T> {
        self.stages_of::<T>()
            .next()
            .ok_or_else(|| no_stage_of::<T>(self.stages.iter().map(|s| s.stage().kind())))
    }

    /// Every stage of type `T`, in pipeline order.
    pub fn stages_of<T: Stage>(&self) -> impl Iterator<Item = &T> {
        self.stages
            .iter()
            .filter_map(|s| (s.stage() as &dyn std::any::Any).downcast_ref::<T>())
    }

    /// The last stage, or `None` for an empty pipeline.
    pub fn last(&self) -> Option<&PipelineStage> {
        self.stages.last()
    }

    fn check_stages(&self) -> Result<()> {
        if self.stages.is_empty() {
            return Err(Error::Pipeline(
                "the pipeline is empty; add stages with with_transformer or with_estimator".into(),
            ));
        }
        let mut seen = HashSet::new();
        for s in &self.stages {
            if !seen.insert(s.stage().uid().to_string()) {
                return Err(Error::Pipeline(format!(
                    "stage uid `{}` appears twice; a pipeline cannot hold the same stage twice (create a second stage instead)",
                    s.stage().uid()
                )));
            }
        }
        Ok(())
    }
}

impl Stage for Pipeline {
    fn kind(&self) -> &'static str {
        "Pipeline"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.check_stages()?;
        self.stages
            .iter()
            .try_fold(input.clone(), |s, st| st.stage().transform_schema(&s))
    }
    fn params_json(&self) -> Value {
        let uids: Vec<&str> = self.stages.iter().map(|s| s.stage().uid()).collect();
        json!({ "stageUids": uids })
    }
    fn set_param_json(&mut self, name: &str, _value: Value) -> Result<()> {
        Err(Error::UnknownParam {
            stage: "Pipeline",
            param: name.to_string(),
            valid: vec![],
        })
    }
}

impl Estimator for Pipeline {
    type Model = PipelineModel;

    fn fit(&self, df: &DataFrame) -> Result<PipelineModel> {
        Ok(self.fit_timed(df)?.0)
    }
}

impl Pipeline {
    /// [`Estimator::fit`], also returning each stage's fit time in seconds (0 for a
    /// transformer stage, which is used as is), in stage order.
    ///
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::{StandardScaler, VectorAssembler};
    ///
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let (model, seconds) = Pipeline::new()
    ///     .with_transformer(VectorAssembler::new().with_input_cols(&["tenure"]).with_output_col("v"))
    ///     .with_estimator(StandardScaler::new().with_input_col("v").with_output_col("s"))
    ///     .fit_timed(&df)?;
    /// assert_eq!((model.stages().len(), seconds.len(), seconds[0]), (2, 2, 0.0));
    /// # Ok(()) }
    /// ```
    pub fn fit_timed(&self, df: &DataFrame) -> Result<(PipelineModel, Vec<f64>)> {
        let (model, seconds, _) = self.fit_view(FitView::new(df), false)?;
        Ok((model, seconds))
    }

    /// Fits on `view` (see [`FitView`]), each estimator on the view itself when it can
    /// read one, else on the view materialised. A stage's output that later stages read
    /// is made by transforming, except a `StandardScalerModel`'s, which is left pending
    /// in the view for the readers to compute block by block (when a later stage cannot
    /// read the view, it is materialised then). With `prefix` every stage's output is
    /// kept (the caller fits more stages on the returned view); otherwise the data go
    /// only up to the last estimator, as Spark's `Pipeline.fit`.
    pub(crate) fn fit_view<'a>(
        &self,
        mut view: FitView<'a>,
        prefix: bool,
    ) -> Result<(PipelineModel, Vec<f64>, FitView<'a>)> {
        self.transform_schema(view.schema()?.as_ref())?;
        let n = self.stages.len();
        let last = if prefix {
            Some(n)
        } else {
            self.stages
                .iter()
                .rposition(|s| matches!(s, PipelineStage::Estimator(_)))
        };
        let mut fitted: Vec<Box<dyn Transformer>> = Vec::with_capacity(n);
        let mut seconds = Vec::with_capacity(n);
        for (i, s) in self.stages.iter().enumerate() {
            let t: Box<dyn Transformer> = match s {
                PipelineStage::Transformer(t) => {
                    seconds.push(0.0);
                    t.clone_box()
                }
                PipelineStage::Estimator(e) => {
                    let start = std::time::Instant::now();
                    let m: Box<dyn Model> = match fit_on_view(e.as_ref(), &view) {
                        Some(m) => m?,
                        None => {
                            view = view.materialised()?;
                            e.fit_dyn(view.base())?
                        }
                    };
                    seconds.push(start.elapsed().as_secs_f64());
                    tracing::info!(
                        stage = i,
                        kind = e.kind(),
                        uid = e.uid(),
                        seconds = seconds[i],
                        "fitted pipeline stage"
                    );
                    m
                }
            };
            // Spark: the data is transformed only up to the last estimator. The columns
            // no later stage up to it reads (an assembler's input and output once a
            // scaler has read it) are dropped, so that the intermediate copies made here
            // are released before the next fit.
            if let Some(l) = last.filter(|&l| i < l) {
                if !view.defer(t.as_ref()) {
                    let mut current = t.transform(&view.materialise()?)?;
                    if i + 1 < n && l < n {
                        let rest = self.stages[i + 1..=l]
                            .iter()
                            .fold(Pipeline::new(), |p, s| p.with_stage(s.clone()));
                        let unread = super::unread_columns(current.schema(), &[rest], |_| true);
                        current = current.drop(&unread)?;
                    }
                    view = FitView::of_frame(current);
                }
            }
            fitted.push(t);
        }
        Ok((
            PipelineModel {
                uid: self.uid.clone(),
                stages: fitted,
            },
            seconds,
            view,
        ))
    }
}

/// A fitted [`Pipeline`]: its transformers in order (Spark's `PipelineModel`).
///
/// Save it with `.save(path)` (or `.write().overwrite().save(path)` to replace an earlier
/// save) and load it with [`PipelineModel::load`], here or in another program, or in
/// PySpark with `PipelineModel.load(path)`: the directory is in Spark ML's format.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{StandardScaler, VectorAssembler};
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = Pipeline::new()
///     .with_transformer(
///         VectorAssembler::new()
///             .with_input_cols(&["tenure", "monthly_charges"])
///             .with_output_col("raw"),
///     )
///     .with_estimator(StandardScaler::new().with_input_col("raw").with_output_col("features"))
///     .fit(&df)?;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("model");
/// model.save(&path)?; // an error if `path` exists
/// model.write().overwrite().save(&path)?; // replaces the saved model
///
/// let back = PipelineModel::load(&path)?;
/// assert_eq!(
///     back.transform(&df)?.collect()?,
///     model.transform(&df)?.collect()?
/// );
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct PipelineModel {
    uid: String,
    stages: Vec<Box<dyn Transformer>>,
}

impl Clone for PipelineModel {
    fn clone(&self) -> Self {
        Self {
            uid: self.uid.clone(),
            stages: self.stages.iter().map(|s| s.clone_box()).collect(),
        }
    }
}

impl PipelineModel {
    /// A model from already fitted stages.
    pub fn new(uid: impl Into<String>, stages: Vec<Box<dyn Transformer>>) -> Self {
        Self {
            uid: uid.into(),
            stages,
        }
    }

    /// The stages, in order.
    pub fn stages(&self) -> &[Box<dyn Transformer>] {
        &self.stages
    }

    /// The first stage of type `T` (Spark's `model.stages` filtered by class).
    ///
    /// # Errors
    /// [`Error::Pipeline`] when no stage has type `T`, listing the stages' kinds.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::{StringIndexer, StringIndexerModel, VectorAssembler};
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let model = Pipeline::new()
    ///     .with_estimator(StringIndexer::new().with_input_col("contract").with_output_col("c"))
    ///     .with_transformer(VectorAssembler::new().with_input_cols(["tenure", "c"]))
    ///     .fit(&df)?;
    /// let indexer = model.stage::<StringIndexerModel>()?;
    /// assert_eq!(indexer.labels()[0][0], "month-to-month");
    /// assert_eq!(model.stages_of::<VectorAssembler>().count(), 1);
    /// assert_eq!(model.last().map(|s| s.kind()), Some("VectorAssembler"));
    /// # Ok(()) }
    /// ```
    pub fn stage<T: Transformer>(&self) -> Result<&T> {
        self.stages_of::<T>()
            .next()
            .ok_or_else(|| no_stage_of::<T>(self.stages.iter().map(|s| s.kind())))
    }

    /// Every stage of type `T`, in pipeline order.
    pub fn stages_of<T: Transformer>(&self) -> impl Iterator<Item = &T> {
        self.stages.iter().filter_map(|s| s.downcast_ref::<T>())
    }

    /// Stage `i` as its concrete type, or `None` if it is another type or out of range.
    pub fn stage_at<T: Transformer>(&self, i: usize) -> Option<&T> {
        self.stages.get(i)?.downcast_ref::<T>()
    }

    /// The last stage (usually the model), or `None` for a model without stages. Its
    /// concrete type is a `downcast_ref` away (an inherent method of `dyn` [`Transformer`]).
    pub fn last(&self) -> Option<&dyn Transformer> {
        self.stages.last().map(|s| s.as_ref())
    }
}

/// The error of a typed stage look-up that found nothing.
fn no_stage_of<'a, T>(kinds: impl Iterator<Item = &'a str>) -> Error {
    let full = std::any::type_name::<T>();
    let name = full.split('<').next().unwrap_or(full);
    let name = name.rsplit("::").next().unwrap_or(name);
    Error::Pipeline(format!(
        "no stage of type {name}; the stages are {:?}",
        kinds.collect::<Vec<_>>()
    ))
}

impl Stage for PipelineModel {
    fn kind(&self) -> &'static str {
        "PipelineModel"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    /// Folds the stages' schemas. A column that a stage skipped because its input is
    /// missing (a label indexer on unlabelled data) and that a later stage needs is
    /// reported at the stage that lost it ([`Error::MissingInput`]), not as a missing
    /// column of the later stage.
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        // (stage, missing input, its output, the columns that stage was given)
        let mut skipped: Vec<(&'static str, String, String, Vec<String>)> = Vec::new();
        let mut schema = input.clone();
        for st in &self.stages {
            let next = match st.transform_schema(&schema) {
                Err(Error::ColumnNotFound {
                    stage: needed_by,
                    column,
                    available,
                }) => {
                    return Err(match skipped.into_iter().find(|s| s.2 == column) {
                        Some((stage, input, output, available)) => Error::MissingInput {
                            stage,
                            column: input,
                            output,
                            needed_by,
                            available,
                        },
                        None => Error::ColumnNotFound {
                            stage: needed_by,
                            column,
                            available,
                        },
                    })
                }
                other => other?,
            };
            for (i, o) in st.skipped_columns(&schema) {
                skipped.push((st.kind(), i, o, column_names(&schema)));
            }
            schema = next;
        }
        Ok(schema)
    }
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut schema = input.clone();
        for st in &self.stages {
            out.extend(st.skipped_columns(&schema));
            match st.transform_schema(&schema) {
                Ok(next) => schema = next,
                Err(_) => break,
            }
        }
        out
    }
    fn params_json(&self) -> Value {
        let uids: Vec<&str> = self.stages.iter().map(|s| s.uid()).collect();
        json!({ "stageUids": uids })
    }
    fn set_param_json(&mut self, name: &str, _value: Value) -> Result<()> {
        Err(Error::UnknownParam {
            stage: "PipelineModel",
            param: name.to_string(),
            valid: vec![],
        })
    }
}

impl Transformer for PipelineModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.transform_schema(df.schema())?;
        self.stages
            .iter()
            .try_fold(df.clone(), |d, s| s.transform(&d))
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for PipelineModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence: a directory of stages under `stages/<i>_<uid>/` ----

impl PipelineModel {
    /// Loads a PipelineModel saved by Spark (3.x, 4.x) or mlpipe.
    ///
    /// # Errors
    /// [`Error::File`] naming the file for a missing or corrupt directory, a missing stage,
    /// or a directory that holds another stage.
    pub fn load(dir: impl AsRef<std::path::Path>) -> Result<PipelineModel> {
        crate::persist::read_as(dir.as_ref())
    }
}

impl Pipeline {
    /// Loads an unfitted Pipeline saved by Spark or mlpipe.
    ///
    /// # Errors
    /// As [`PipelineModel::load`].
    pub fn load(dir: impl AsRef<std::path::Path>) -> Result<Pipeline> {
        crate::persist::read_as(dir.as_ref())
    }
}

/// Writes a pipeline's metadata and each stage into `stages/<i>_<uid>/`.
fn write_stages<'a>(
    dir: &std::path::Path,
    class: &str,
    uid: &str,
    stages: impl Iterator<Item = (&'a dyn Stage, Option<&'a dyn crate::persist::Persist>)>,
) -> Result<()> {
    use crate::persist::format;
    let stages: Vec<_> = stages.collect();
    let uids: Vec<&str> = stages.iter().map(|(s, _)| s.uid()).collect();
    format::write_metadata(
        dir,
        class,
        uid,
        json!({ "stageUids": uids }),
        json!({}),
        None,
    )?;
    for (i, (s, p)) in stages.iter().enumerate() {
        let p = p.ok_or_else(|| {
            Error::Pipeline(format!(
                "stage {i}, {} ({}), cannot be saved in Spark's format yet",
                s.kind(),
                s.uid()
            ))
        })?;
        let sdir = format::stage_dir(dir, i, stages.len(), s.uid());
        std::fs::create_dir_all(&sdir)
            .map_err(|e| Error::file(&sdir, format!("cannot create: {e}")))?;
        p.write_into(&sdir)?;
    }
    Ok(())
}

/// The directories of a saved pipeline's stages, in order; each must exist.
fn stage_dirs(
    dir: &std::path::Path,
    md: &crate::persist::Metadata,
) -> Result<Vec<std::path::PathBuf>> {
    use crate::persist::format;
    let uids = format::stage_uids(dir, md)?;
    uids.iter()
        .enumerate()
        .map(|(i, uid)| {
            let sdir = format::stage_dir(dir, i, uids.len(), uid);
            if sdir.is_dir() {
                Ok(sdir)
            } else {
                Err(Error::file(
                    &sdir,
                    format!("stage {i} of the pipeline is missing"),
                ))
            }
        })
        .collect()
}

impl crate::persist::SparkPersist for PipelineModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.PipelineModel";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.pipeline.PipelineModel"];
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        write_stages(
            dir,
            Self::SPARK_CLASS,
            &self.uid,
            self.stages.iter().map(|s| {
                (
                    s.as_ref() as &dyn Stage,
                    crate::persist::persistable(s.as_ref()),
                )
            }),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        let stages = stage_dirs(dir, md)?
            .iter()
            .map(crate::persist::load_stage)
            .collect::<Result<Vec<_>>>()?;
        Ok(PipelineModel::new(md.uid.clone(), stages))
    }
}

impl crate::persist::SparkPersist for Pipeline {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.Pipeline";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.pipeline.Pipeline"];
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        write_stages(
            dir,
            Self::SPARK_CLASS,
            &self.uid,
            self.stages
                .iter()
                .map(|s| (s.stage(), crate::persist::persistable_stage(s))),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        stage_dirs(dir, md)?
            .iter()
            .try_fold(Pipeline::new().with_uid(md.uid.clone()), |p, sdir| {
                Ok(p.with_stage(crate::persist::load_pipeline_stage(sdir)?))
            })
    }
}
