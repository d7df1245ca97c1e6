//! [`OneVsRest`] and [`OneVsRestModel`]: a multiclass classifier from k binary ones.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{
    stage_params, DynEstimator, Estimator, Model, PipelineStage, Stage, Transformer,
};

/// Params of [`OneVsRest`] and [`OneVsRestModel`] (all but the classifier); JSON names and
/// defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OneVsRestParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Label column: class indices 0..k-1. Default `"label"`.
    pub label_col: String,
    /// Predicted class column. Default `"prediction"`.
    pub prediction_col: String,
    /// Per-class score vector column (`""` disables it). Default `"rawPrediction"`.
    pub raw_prediction_col: String,
    /// Instance weight column, passed to the binary classifier. Default `None`.
    pub weight_col: Option<String>,
    /// Spark's number of models fitted at once (>= 1); mlpipe fits all k in parallel on
    /// its thread pool. Default 1.
    pub parallelism: usize,
}

impl Default for OneVsRestParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            prediction_col: "prediction".into(),
            raw_prediction_col: "rawPrediction".into(),
            weight_col: None,
            parallelism: 1,
        }
    }
}

impl OneVsRestParams {
    fn weight_col(&self) -> Option<&str> {
        self.weight_col.as_deref().filter(|s| !s.is_empty())
    }
}

impl Params for OneVsRestParams {
    const STAGE: &'static str = "OneVsRest";
    fn validate(&self) -> Result<()> {
        if self.parallelism < 1 {
            return Err(Error::param(
                Self::STAGE,
                "parallelism",
                ">= 1",
                self.parallelism,
            ));
        }
        for (name, v) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
            ("predictionCol", &self.prediction_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(
                    Self::STAGE,
                    name,
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        Ok(())
    }
}

/// One-vs-rest (Spark's `org.apache.spark.ml.classification.OneVsRest`): fits one binary
/// classifier per class `c` on the label `label == c` (k fits in parallel), and predicts
/// the class whose model gives the largest `rawPrediction[1]`.
///
/// Any estimator in the crate whose model writes a `rawPrediction` vector works as the
/// classifier (today [`LogisticRegression`](super::LogisticRegression)); its `labelCol`,
/// `featuresCol`, `predictionCol` and (when set) `weightCol` are set from this stage's.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::classification::{LogisticRegression, OneVsRest};
/// use mlpipe::frame::vector::vector_array;
/// let x = vector_array(vec![0.0, 0.1, 0.2, 0.0, 5.0, 0.1, 5.2, 0.0, 0.0, 5.0, 0.1, 5.3], 2, None)?;
/// let b = RecordBatch::try_from_iter([
///     ("features", Arc::new(x) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![0.0, 0.0, 1.0, 1.0, 2.0, 2.0])) as ArrayRef),
/// ])?;
/// let df = DataFrame::from_batches(vec![b])?;
/// let model = OneVsRest::new(LogisticRegression::new().with_reg_param(0.1)).fit(&df)?;
/// assert_eq!(model.num_classes(), 3);
/// assert_eq!(model.predict(&[5.0, 0.0])?, 1.0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidValue`] for a null, negative or non-integer label (naming the row);
/// whatever the binary classifier's fit reports; [`Error::EmptyInput`] for no rows.
#[derive(Debug)]
pub struct OneVsRest {
    uid: String,
    params: OneVsRestParams,
    classifier: Box<dyn DynEstimator>,
}

impl Clone for OneVsRest {
    fn clone(&self) -> Self {
        Self {
            uid: self.uid.clone(),
            params: self.params.clone(),
            classifier: self.classifier.clone_dyn(),
        }
    }
}

impl OneVsRest {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "oneVsRest";

    /// A `OneVsRest` around `classifier`, with Spark's defaults and a fresh uid.
    pub fn new(classifier: impl Estimator) -> Self {
        Self::from_parts(
            crate::param::random_uid(Self::UID_PREFIX),
            OneVsRestParams::default(),
            Box::new(classifier),
        )
    }
    /// A `OneVsRest` from its uid, params and classifier.
    pub fn from_parts(
        uid: impl Into<String>,
        params: OneVsRestParams,
        classifier: Box<dyn DynEstimator>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            classifier,
        }
    }
    /// The params.
    pub fn params(&self) -> &OneVsRestParams {
        &self.params
    }
    /// The binary classifier.
    pub fn classifier(&self) -> &dyn DynEstimator {
        self.classifier.as_ref()
    }
    /// Feature column.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// Label column.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Weight column (passed to the classifier).
    pub fn with_weight_col(mut self, c: &str) -> Self {
        self.params.weight_col = Some(c.into());
        self
    }
    /// Per-class score column (`""` disables it).
    pub fn with_raw_prediction_col(mut self, c: &str) -> Self {
        self.params.raw_prediction_col = c.into();
        self
    }
}

fn ovr_schema(
    p: &OneVsRestParams,
    input: &Schema,
    stage: &'static str,
    k: usize,
) -> Result<Schema> {
    p.validate()?;
    schema::require_vector(input, stage, &p.features_col)?;
    let mut out = input.clone();
    if !p.raw_prediction_col.is_empty() {
        out = schema::append_field(
            &out,
            stage,
            vector::vector_field(&p.raw_prediction_col, k, false),
        )?;
    }
    schema::append_field(
        &out,
        stage,
        Field::new(&p.prediction_col, DataType::Float64, false),
    )
}

impl Stage for OneVsRest {
    fn kind(&self) -> &'static str {
        "OneVsRest"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        schema::require_numeric(input, "OneVsRest", &self.params.label_col)?;
        // The class count is known for sure only after fitting (max label + 1): the
        // label's nominal metadata when it has some, else 2, as for LogisticRegression.
        let (_, label) = schema::require_column(input, "OneVsRest", &self.params.label_col)?;
        let k = super::LogisticRegression::label_metadata_classes(label).unwrap_or(2);
        ovr_schema(&self.params, input, "OneVsRest", k)
    }
}

/// The column the k-th binary label goes into (Spark's name).
fn binary_label_col(c: usize) -> String {
    format!("mc2b${c}")
}

impl Estimator for OneVsRest {
    type Model = OneVsRestModel;

    fn fit(&self, df: &DataFrame) -> Result<OneVsRestModel> {
        let stage = OneVsRestParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        if df.num_rows() == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: "OneVsRest needs labelled rows".into(),
            });
        }
        let labels = df.map_partitions(|pi, b| {
            let a = cast(schema::batch_column(b, &p.label_col)?, &DataType::Float64)?;
            let a = a.as_primitive::<Float64Type>().clone();
            for r in 0..a.len() {
                let y = a.value(r);
                if a.is_null(r) || !(y >= 0.0 && y.fract() == 0.0 && y < i32::MAX as f64) {
                    return Err(Error::InvalidValue {
                        stage,
                        column: p.label_col.clone(),
                        partition: pi,
                        row: r,
                        what: if a.is_null(r) { "null label".into() } else { format!("label {y}") },
                        hint: "labels must be class indices 0, 1, 2, ... (index string labels with StringIndexer)".into(),
                    });
                }
            }
            Ok(a)
        })?;
        // Spark: the label column's nominal metadata, else max label + 1.
        let (_, lf) = schema::require_column(df.schema(), stage, &p.label_col)?;
        let from_meta = super::LogisticRegression::label_metadata_classes(lf);
        let max = labels
            .iter()
            .flat_map(|a| a.values().iter().copied())
            .fold(0.0, f64::max);
        let k = from_meta.unwrap_or(max as usize + 1);
        let has_weight = self.classifier.params_json().get("weightCol").is_some();
        let fits = (0..k)
            .into_par_iter()
            .map(|c| -> Result<Box<dyn Transformer>> {
                let col = binary_label_col(c);
                let chunks: Vec<ArrayRef> = labels
                    .iter()
                    .map(|a| {
                        Arc::new(Float64Array::from_iter_values(a.values().iter().map(|y| {
                            if *y == c as f64 {
                                1.0
                            } else {
                                0.0
                            }
                        }))) as ArrayRef
                    })
                    .collect();
                let data = df.with_column(Field::new(&col, DataType::Float64, false), chunks)?;
                let mut est = self.classifier.clone_dyn();
                est.set_param_json("labelCol", json!(col))?;
                est.set_param_json("featuresCol", json!(p.features_col))?;
                est.set_param_json("predictionCol", json!(p.prediction_col))?;
                if let (Some(w), true) = (p.weight_col(), has_weight) {
                    est.set_param_json("weightCol", json!(w))?;
                }
                Ok(est.fit_dyn(&data)?.clone_box())
            })
            .collect::<Vec<_>>();
        let models = crate::frame::in_order(fits)?;
        Ok(OneVsRestModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            classifier: self.classifier.clone_dyn(),
            models,
        })
    }
}

/// A fitted [`OneVsRest`]: one binary model per class.
#[derive(Debug)]
pub struct OneVsRestModel {
    uid: String,
    params: OneVsRestParams,
    classifier: Box<dyn DynEstimator>,
    models: Vec<Box<dyn Transformer>>,
}

impl Clone for OneVsRestModel {
    fn clone(&self) -> Self {
        Self {
            uid: self.uid.clone(),
            params: self.params.clone(),
            classifier: self.classifier.clone_dyn(),
            models: self.models.iter().map(|m| m.clone_box()).collect(),
        }
    }
}

impl OneVsRestModel {
    /// The params.
    pub fn params(&self) -> &OneVsRestParams {
        &self.params
    }
    /// Number of classes (binary models).
    pub fn num_classes(&self) -> usize {
        self.models.len()
    }
    /// The binary models, one per class.
    pub fn models(&self) -> &[Box<dyn Transformer>] {
        &self.models
    }

    /// Each class's score (its model's `rawPrediction[1]`) for every row, per partition.
    fn scores(&self, df: &DataFrame) -> Result<Vec<Vec<Vec<f64>>>> {
        const TMP: &str = "mlpipe$ovr_raw";
        let feats = df.select([&self.params.features_col])?;
        self.models
            .par_iter()
            .map(|m| -> Result<Vec<Vec<f64>>> {
                let mut m = m.clone_box();
                m.set_param_json("featuresCol", json!(self.params.features_col))?;
                m.set_param_json("rawPredictionCol", json!(TMP))?;
                m.set_param_json("predictionCol", json!(""))?;
                if m.params_json().get("probabilityCol").is_some() {
                    m.set_param_json("probabilityCol", json!(""))?;
                }
                let out = m.transform(&feats)?;
                out.map_partitions(|_, b| {
                    let arr = vector::as_vector(schema::batch_column(b, TMP)?.as_ref())?;
                    let n = arr.value_length() as usize;
                    let v = vector::dense_values(arr)?;
                    Ok((0..arr.len()).map(|r| v[r * n + 1]).collect())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    }

    /// The predicted class of one feature row: the class whose model scores it highest.
    ///
    /// # Errors
    /// Whatever the binary models report for the row.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        let arr = vector::vector_array(x.to_vec(), x.len(), None)?;
        let b = arrow::array::RecordBatch::try_from_iter([(
            self.params.features_col.as_str(),
            Arc::new(arr) as ArrayRef,
        )])?;
        let out = self.transform(&DataFrame::from_batches(vec![b])?)?;
        let c = out.column(&self.params.prediction_col)?;
        Ok(c.chunks[0].as_primitive::<Float64Type>().value(0))
    }
}

impl Stage for OneVsRestModel {
    fn kind(&self) -> &'static str {
        "OneVsRestModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        if self.models.is_empty() {
            return Err(Error::param(
                "OneVsRestModel",
                "models",
                "at least one model",
                0,
            ));
        }
        ovr_schema(&self.params, input, "OneVsRestModel", self.models.len())
    }
}

impl Transformer for OneVsRestModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = self.transform_schema(df.schema())?;
        let k = self.models.len();
        let scores = self.scores(df)?;
        let mut raws = Vec::new();
        let mut preds = Vec::new();
        for (pi, part) in df.partitions().iter().enumerate() {
            let rows = part.num_rows();
            let mut raw = vec![0.0; rows * k];
            let mut pred = vec![0.0; rows];
            for r in 0..rows {
                let (mut best, mut bv) = (0, f64::NEG_INFINITY);
                for c in 0..k {
                    let s = scores[c][pi][r];
                    raw[r * k + c] = s;
                    if s > bv {
                        bv = s;
                        best = c;
                    }
                }
                pred[r] = best as f64;
            }
            raws.push(Arc::new(vector::vector_array(raw, k, None)?) as ArrayRef);
            preds.push(Arc::new(Float64Array::from(pred)) as ArrayRef);
        }
        let mut out = df.clone();
        if !self.params.raw_prediction_col.is_empty() {
            out = out.with_column(
                out_schema
                    .field_with_name(&self.params.raw_prediction_col)?
                    .clone(),
                raws,
            )?;
        }
        out.with_column(
            out_schema
                .field_with_name(&self.params.prediction_col)?
                .clone(),
            preds,
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for OneVsRestModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence: metadata (params without the classifier), `classifier/`, and
// for the model `model_<i>/` plus `labelMetadata` and `numClasses` in the metadata. ----

fn write_classifier(dir: &Path, c: &dyn DynEstimator) -> Result<()> {
    let stage = PipelineStage::Estimator(c.clone_dyn());
    let p = crate::persist::persistable_stage(&stage).ok_or_else(|| {
        Error::param(
            "OneVsRest",
            "classifier",
            "a classifier mlpipe can save",
            c.kind(),
        )
    })?;
    p.write_into(&dir.join("classifier"))
}

fn read_classifier(dir: &Path) -> Result<Box<dyn DynEstimator>> {
    match crate::persist::load_pipeline_stage(dir.join("classifier"))? {
        PipelineStage::Estimator(e) => Ok(e),
        PipelineStage::Transformer(t) => Err(Error::file(
            dir.join("classifier"),
            format!("holds a {}, not an estimator", t.kind()),
        )),
    }
}

impl SparkPersist for OneVsRest {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.classification.OneVsRest";
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        write_classifier(dir, self.classifier.as_ref())
    }
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        Ok(Self::from_parts(
            md.uid.clone(),
            md.params_as(dir)?,
            read_classifier(dir)?,
        ))
    }
}

impl SparkPersist for OneVsRestModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.classification.OneVsRestModel";
    fn write_spark(&self, dir: &Path) -> Result<()> {
        // Spark's OneVsRestModel has no `parallelism` param (only the estimator has it).
        let strip = |mut v: Value| {
            if let Some(m) = v.as_object_mut() {
                m.remove("parallelism");
            }
            v
        };
        format::write_metadata(
            dir,
            Self::SPARK_CLASS,
            &self.uid,
            strip(self.params.to_json()),
            strip(OneVsRestParams::default().to_json()),
            None,
        )?;
        format::add_metadata_keys(
            dir,
            &[
                ("labelMetadata", json!("{}")),
                ("numClasses", json!(self.models.len())),
            ],
        )?;
        write_classifier(dir, self.classifier.as_ref())?;
        for (i, m) in self.models.iter().enumerate() {
            let p = crate::persist::persistable(m.as_ref()).ok_or_else(|| {
                Error::param(
                    "OneVsRestModel",
                    "models",
                    "models mlpipe can save",
                    m.kind(),
                )
            })?;
            p.write_into(&dir.join(format!("model_{i}")))?;
        }
        Ok(())
    }
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let k = md
            .raw
            .get("numClasses")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::file(dir.join("metadata"), "lacks `numClasses`"))?;
        let models = (0..k)
            .map(|i| crate::persist::load_stage(dir.join(format!("model_{i}"))))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            uid: md.uid.clone(),
            params: md.params_as(dir)?,
            classifier: read_classifier(dir)?,
            models,
        })
    }
}

// ---- Row form (crate::row) ----

/// Each binary model's row form (writing its raw scores into a temporary slot, as the
/// batch form's temporary column), then the argmax of their `raw[1]`.
#[derive(Debug)]
struct OneVsRestRow {
    models: Vec<(Box<dyn crate::row::RowOp>, crate::row::VecSlot)>,
    raw: crate::row::VecSlot,
    pred: Option<crate::row::NumOut>,
}

impl crate::row::RowStage for OneVsRestModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        const TMP: &str = "mlpipe$ovr_raw";
        let mut models = Vec::with_capacity(self.models.len());
        for m in &self.models {
            let mut m = m.clone_box();
            m.set_param_json("featuresCol", json!(self.params.features_col))?;
            m.set_param_json("rawPredictionCol", json!(TMP))?;
            m.set_param_json("predictionCol", json!(""))?;
            if m.params_json().get("probabilityCol").is_some() {
                m.set_param_json("probabilityCol", json!(""))?;
            }
            let saved = plan.schema().clone();
            let op = crate::row::compile_stage(m.as_ref(), plan)?.ok_or_else(|| {
                Error::Internal(format!(
                    "OneVsRestModel: {} has an empty row form",
                    m.kind()
                ))
            })?;
            let slot = plan.vec_input(TMP)?;
            plan.forget(TMP);
            plan.set_schema(saved);
            models.push((op, slot));
        }
        let k = self.models.len();
        let raw = if self.params.raw_prediction_col.is_empty() {
            plan.scratch_vec(k)
        } else {
            plan.add_vec(&self.params.raw_prediction_col, k)
        };
        let pred = (!self.params.prediction_col.is_empty())
            .then(|| plan.add_num(&self.params.prediction_col));
        plan.set_model_outputs(crate::row::ModelOutputs {
            prediction: pred,
            raw_prediction: (!self.params.raw_prediction_col.is_empty()).then_some(raw),
            probability: None,
        });
        Ok(Some(Box::new(OneVsRestRow { models, raw, pred })))
    }
}

impl crate::row::RowOp for OneVsRestRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (mut best, mut bv) = (0, f64::NEG_INFINITY);
        for (c, (op, slot)) in self.models.iter().enumerate() {
            if op.run(row)? == crate::row::Flow::Drop {
                return Ok(crate::row::Flow::Drop);
            }
            let s = row.vec(*slot)[1];
            row.vec_mut(self.raw)[c] = s;
            if s > bv {
                bv = s;
                best = c;
            }
        }
        if let Some(o) = self.pred {
            row.set_num(o, Some(best as f64));
        }
        Ok(crate::row::Flow::Next)
    }
}
