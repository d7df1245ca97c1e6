//! [`Pipeline`] and [`PipelineModel`] with Spark's semantics.

use std::collections::HashSet;

use arrow::datatypes::Schema;
use serde_json::{json, Value};

use super::{DynEstimator, Estimator, Model, Stage, Transformer};
use crate::error::{Error, Result};
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
        self.transform_schema(df.schema())?;
        let last_est = self
            .stages
            .iter()
            .rposition(|s| matches!(s, PipelineStage::Estimator(_)));
        let mut current = df.clone();
        let mut fitted: Vec<Box<dyn Transformer>> = Vec::with_capacity(self.stages.len());
        for (i, s) in self.stages.iter().enumerate() {
            let t: Box<dyn Transformer> = match s {
                PipelineStage::Transformer(t) => t.clone_box(),
                PipelineStage::Estimator(e) => {
                    let start = std::time::Instant::now();
                    let m: Box<dyn Transformer> = e.fit_dyn(&current)?;
                    tracing::info!(
                        stage = i,
                        kind = e.kind(),
                        uid = e.uid(),
                        seconds = start.elapsed().as_secs_f64(),
                        "fitted pipeline stage"
                    );
                    m
                }
            };
            // Spark: the data is transformed only up to the last estimator.
            if last_est.is_some_and(|l| i < l) {
                current = t.transform(&current)?;
            }
            fitted.push(t);
        }
        Ok(PipelineModel {
            uid: self.uid.clone(),
            stages: fitted,
        })
    }
}

/// A fitted [`Pipeline`]: its transformers in order (Spark's `PipelineModel`).
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

    /// Stage `i` as its concrete type, or `None` if it is another type or out of range.
    ///
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// # use mlpipe::prelude::*;
    /// # use mlpipe::feature::VectorAssembler;
    /// # let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let model = Pipeline::new()
    ///     .with_transformer(VectorAssembler::new().with_input_cols(&["tenure"]))
    ///     .fit(&df)?;
    /// assert!(model.stage::<VectorAssembler>(0).is_some());
    /// # Ok(()) }
    /// ```
    pub fn stage<T: Transformer>(&self, i: usize) -> Option<&T> {
        let s: &dyn Transformer = self.stages.get(i)?.as_ref();
        (s as &dyn std::any::Any).downcast_ref::<T>()
    }
}

impl Stage for PipelineModel {
    fn kind(&self) -> &'static str {
        "PipelineModel"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.stages
            .iter()
            .try_fold(input.clone(), |s, st| st.transform_schema(&s))
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
    stages: impl ExactSizeIterator<Item = (&'a str, Option<&'a dyn crate::persist::Persist>)>,
) -> Result<()> {
    use crate::persist::format;
    let n = stages.len();
    let stages: Vec<_> = stages.collect();
    let uids: Vec<&str> = stages.iter().map(|(u, _)| *u).collect();
    format::write_metadata(
        dir,
        class,
        uid,
        json!({ "stageUids": uids }),
        json!({}),
        None,
    )?;
    for (i, (uid, p)) in stages.into_iter().enumerate() {
        let p = p.ok_or_else(|| {
            Error::Pipeline(format!(
                "stage {i} ({uid}) cannot be saved in Spark's format yet"
            ))
        })?;
        let sdir = format::stage_dir(dir, i, n, uid);
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
            self.stages
                .iter()
                .map(|s| (s.uid(), crate::persist::persistable(s.as_ref()))),
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
                .map(|s| (s.stage().uid(), crate::persist::persistable_stage(s))),
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
