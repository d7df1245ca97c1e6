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
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{
    stage_params, DynEstimator, Estimator, Model, PipelineStage, Stage, Transformer,
};
use crate::predictor::{self, PredictionColumns, PredictionModel, PredictorKind, Row};

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

    fn columns(&self) -> PredictionColumns<'_> {
        PredictionColumns {
            features: &self.features_col,
            prediction: &self.prediction_col,
            raw_prediction: &self.raw_prediction_col,
            probability: "",
        }
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
/// The classifier is any of the crate's classifiers that can fit a binary label:
/// [`LogisticRegression`](super::LogisticRegression), [`LinearSVC`](super::LinearSVC),
/// [`NaiveBayes`](super::NaiveBayes) and the decision tree, random forest and GBT
/// classifiers; its `labelCol`, `featuresCol`, `predictionCol` and (when set) `weightCol`
/// are set from this stage's. The model scores rows on the shared predictor layer: each
/// binary model scores a block of rows at once, and its `rawPrediction[1]` becomes its
/// class's score.
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
    num_features: Option<usize>,
) -> Result<Schema> {
    p.validate()?;
    let kind = PredictorKind::Classification { num_classes: k };
    predictor::output_schema(stage, &p.columns(), kind, input, num_features)
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
        ovr_schema(&self.params, input, "OneVsRest", k, None)
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

    /// The predicted class of one feature row: the class whose model scores it highest.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] for a row of the wrong length; an unusable binary model
    /// (see [`PredictionModel::check_model`]).
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        PredictionModel::predict(self, x)
    }

    /// Each class's score (its binary model's `rawPrediction[1]`) for one feature row.
    ///
    /// # Errors
    /// As [`predict`](Self::predict).
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        PredictionModel::predict_raw(self, x)
    }

    /// The binary models as scorers on the predictor layer (`None` for a model that is not
    /// on it).
    fn scorers(&self) -> impl Iterator<Item = Option<&dyn PredictionModel>> {
        self.models.iter().map(|m| binary_scorer(m.as_ref()))
    }
}

/// `m` as a scorer on the predictor layer, when it is one of the crate's binary-capable
/// classifiers' models.
fn binary_scorer(m: &dyn Transformer) -> Option<&dyn PredictionModel> {
    use crate::tree::{
        DecisionTreeClassificationModel, GBTClassificationModel, RandomForestClassificationModel,
    };
    macro_rules! first_of {
        ($($t:ty),*) => {
            None $(.or_else(|| m.downcast_ref::<$t>().map(|x| x as &dyn PredictionModel)))*
        };
    }
    first_of!(
        super::LogisticRegressionModel,
        super::LinearSVCModel,
        super::NaiveBayesModel,
        DecisionTreeClassificationModel,
        RandomForestClassificationModel,
        GBTClassificationModel
    )
}

/// A binary model's raw scores for one row hold at most this many values (stack buffer).
const BINARY_RAW: usize = crate::predictor::STACK_OUTPUTS;

impl PredictionModel for OneVsRestModel {
    fn stage_name(&self) -> &'static str {
        "OneVsRestModel"
    }
    fn columns(&self) -> PredictionColumns<'_> {
        self.params.columns()
    }
    fn num_features(&self) -> usize {
        self.scorers()
            .next()
            .flatten()
            .map_or(0, |m| m.num_features())
    }
    fn kind(&self) -> PredictorKind {
        PredictorKind::Classification {
            num_classes: self.models.len(),
        }
    }
    /// Every binary model is a classifier on the predictor layer with 2 to
    /// [`STACK_OUTPUTS`](crate::predictor::STACK_OUTPUTS) raw scores, all score the same
    /// number of features, and each passes its own check.
    fn check_model(&self) -> Result<()> {
        let stage = self.stage_name();
        if self.models.is_empty() {
            return Err(Error::param(stage, "models", "at least one model", 0));
        }
        let n = self.num_features();
        for (c, (m, s)) in self.models.iter().zip(self.scorers()).enumerate() {
            let Some(s) = s else {
                return Err(Error::param(
                    stage,
                    "models",
                    "binary classifiers' models (LogisticRegression, LinearSVC, NaiveBayes, DecisionTree, RandomForest or GBT classifiers)",
                    format!("a {} for class {c}", m.kind()),
                ));
            };
            s.check_model()?;
            let k = s.kind().raw_len();
            if s.kind() == PredictorKind::Regression || !(2..=BINARY_RAW).contains(&k) {
                return Err(Error::param(
                    stage,
                    "models",
                    format!("binary classifiers (2 to {BINARY_RAW} raw scores)"),
                    format!("a {} with {k} raw scores for class {c}", s.stage_name()),
                ));
            }
            if s.num_features() != n {
                return Err(Error::param(
                    stage,
                    "models",
                    format!("models that all score {n} features"),
                    format!("{} features in the model of class {c}", s.num_features()),
                ));
            }
        }
        Ok(())
    }
    fn check_row_values(&self, x: Row<'_>) -> std::result::Result<(), String> {
        self.scorers()
            .flatten()
            .try_for_each(|m| m.check_row_values(x))
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let mut buf = [0.0; BINARY_RAW];
        for (r, m) in raw.iter_mut().zip(self.scorers().flatten()) {
            let b = &mut buf[..m.kind().raw_len()];
            b.fill(0.0);
            m.predict_raw_into(x, b);
            *r = b[1];
        }
    }
    /// Each binary model scores the whole block (through its own block hook), then its
    /// `rawPrediction[1]` goes to its class's column.
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let k = self.models.len();
        let mut buf = Vec::new();
        for (c, m) in self.scorers().flatten().enumerate() {
            let kc = m.kind().raw_len();
            buf.clear();
            buf.resize(rows.len() * kc, 0.0);
            m.predict_raw_block(rows, &mut buf);
            for (r, b) in raw.chunks_exact_mut(k).zip(buf.chunks_exact(kc)) {
                r[c] = b[1];
            }
        }
    }
}

impl Stage for OneVsRestModel {
    fn kind(&self) -> &'static str {
        "OneVsRestModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.check_model()?;
        ovr_schema(
            &self.params,
            input,
            "OneVsRestModel",
            self.models.len(),
            Some(self.num_features()),
        )
    }
}

impl Transformer for OneVsRestModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.params.validate()?;
        predictor::transform(self, df)
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
