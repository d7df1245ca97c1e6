//! ML over Spark Connect: pipelines and estimators fitted on the cluster, the models kept
//! there as server-side objects, saved in Spark's format, and fetched back as mlpipe models.
//!
//! The client drives the pipeline, as PySpark does under Spark Connect (the server has no
//! `Pipeline`): each estimator is an `MlCommand.Fit`, each transformer or fitted model an
//! `MlRelation.Transform` over the previous relation. A stage is described to the server by
//! its Spark class name, uid and params, taken from the metadata mlpipe writes when it saves
//! the stage in Spark's format; so every stage that saves in Spark's format, and that
//! Spark's server offers, runs remotely.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use spark_connect_proto as pb;

use super::frame::RemoteFrame;
use super::session::Session;
use crate::error::{Error, Result};
use crate::persist::{self, format, Persist};
use crate::pipeline::{
    DynEstimator, Estimator, Evaluator, Pipeline, PipelineModel, PipelineStage, Stage, Transformer,
};

// The ML classes a Spark 4.3 Connect server instantiates for a client: the lists in
// spark-mllib_2.13-4.3.0.jar's META-INF/services/org.apache.spark.ml.{Estimator,Transformer}
// and org.apache.spark.ml.evaluation.Evaluator (the server refuses any other class).
// Models are not listed: they come from a fit and are referred to by their server id.
const SPARK_ESTIMATORS: &[&str] = &[
    "classification.NaiveBayes",
    "classification.LinearSVC",
    "classification.LogisticRegression",
    "classification.FMClassifier",
    "classification.MultilayerPerceptronClassifier",
    "classification.DecisionTreeClassifier",
    "classification.RandomForestClassifier",
    "classification.GBTClassifier",
    "regression.AFTSurvivalRegression",
    "regression.IsotonicRegression",
    "regression.LinearRegression",
    "regression.GeneralizedLinearRegression",
    "regression.FMRegressor",
    "regression.DecisionTreeRegressor",
    "regression.RandomForestRegressor",
    "regression.GBTRegressor",
    "clustering.KMeans",
    "clustering.BisectingKMeans",
    "clustering.GaussianMixture",
    "clustering.LDA",
    "recommendation.ALS",
    "fpm.FPGrowth",
    "feature.QuantileDiscretizer",
    "feature.RFormula",
    "feature.Imputer",
    "feature.StandardScaler",
    "feature.MaxAbsScaler",
    "feature.MinMaxScaler",
    "feature.RobustScaler",
    "feature.ChiSqSelector",
    "feature.UnivariateFeatureSelector",
    "feature.VarianceThresholdSelector",
    "feature.StringIndexer",
    "feature.VectorIndexer",
    "feature.PCA",
    "feature.IDF",
    "feature.Word2Vec",
    "feature.CountVectorizer",
    "feature.OneHotEncoder",
    "feature.TargetEncoder",
    "feature.BucketedRandomProjectionLSH",
    "feature.MinHashLSH",
];
const SPARK_TRANSFORMERS: &[&str] = &[
    "feature.DCT",
    "feature.NGram",
    "feature.Normalizer",
    "feature.Interaction",
    "feature.Binarizer",
    "feature.Bucketizer",
    "feature.VectorAssembler",
    "feature.VectorSlicer",
    "feature.VectorSizeHint",
    "feature.Tokenizer",
    "feature.RegexTokenizer",
    "feature.SQLTransformer",
    "feature.StopWordsRemover",
    "feature.FeatureHasher",
    "feature.ElementwiseProduct",
    "feature.HashingTF",
    "feature.IndexToString",
    "feature.PolynomialExpansion",
];
const SPARK_EVALUATORS: &[&str] = &[
    "evaluation.RegressionEvaluator",
    "evaluation.BinaryClassificationEvaluator",
    "evaluation.MulticlassClassificationEvaluator",
    "evaluation.MultilabelClassificationEvaluator",
    "evaluation.ClusteringEvaluator",
    "evaluation.RankingEvaluator",
];

/// Whether a Spark Connect server instantiates `class` for a client, as the given kind.
fn offered(class: &str, list: &[&str]) -> bool {
    class
        .strip_prefix("org.apache.spark.ml.")
        .is_some_and(|c| list.contains(&c))
}

/// What the server needs to know of one stage: Spark's class, the uid and the params that
/// differ from Spark's defaults.
#[derive(Clone, Debug)]
pub(super) struct StageSpec {
    /// mlpipe's name of the stage ("LogisticRegression"), for messages.
    kind: &'static str,
    class: String,
    uid: String,
    params: Map<String, Value>,
    /// Every param: Spark's defaults overlaid with the ones set (what the fitted model
    /// carries).
    all_params: Map<String, Value>,
    /// The stage's metadata JSON (a transformer is rebuilt here from it).
    metadata: Value,
}

impl StageSpec {
    fn operator(&self, ty: pb::ml_operator::OperatorType) -> pb::MlOperator {
        pb::MlOperator {
            name: self.class.clone(),
            uid: self.uid.clone(),
            r#type: ty as i32,
        }
    }

    fn ml_params(&self) -> Result<pb::MlParams> {
        let params = self
            .params
            .iter()
            .map(|(k, v)| {
                literal(v).map(|l| (k.clone(), l)).ok_or_else(|| {
                    self.unsupported(&format!(
                        "its parameter `{k}` = {v} has no Spark Connect form"
                    ))
                })
            })
            .collect::<Result<_>>()?;
        Ok(pb::MlParams { params })
    }

    fn unsupported(&self, why: &str) -> Error {
        Error::Pipeline(format!(
            "{} ({}) cannot run on a Spark Connect server: {why}; nothing was sent to the server",
            self.kind, self.uid
        ))
    }

    /// "stage 2, StandardScaler (stdScal_1a2b)".
    fn name(&self, i: usize) -> String {
        format!("stage {i}, {} ({})", self.kind, self.uid)
    }
}

/// A unique scratch directory under the system temp dir.
pub(super) fn scratch_dir(what: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "mlpipe-connect-{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Removes a scratch directory when dropped.
pub(super) struct Scratch(pub(super) PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The spec of a stage from the Spark metadata mlpipe writes for it.
fn spec_of(
    kind: &'static str,
    uid: &str,
    p: Option<&dyn Persist>,
    offer: &[&str],
    what: &str,
) -> Result<StageSpec> {
    let name = if uid.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} ({uid})")
    };
    let unsupported = |why: String| {
        Error::Pipeline(format!(
            "{name} cannot run on a Spark Connect server: {why}; nothing was sent to the server"
        ))
    };
    let p = p.ok_or_else(|| unsupported("mlpipe cannot describe it in Spark's format".into()))?;
    let class = p.spark_class();
    if !offered(class, offer) {
        return Err(unsupported(format!(
            "Spark's server offers no {what} `{class}` (run it locally, or replace it by a stage Spark has)"
        )));
    }
    let dir = Scratch(scratch_dir("spec"));
    p.write_into(&dir.0)?;
    let md = persist::read_metadata(&dir.0)?;
    let params = user_params(&md.raw, &md.uid);
    Ok(StageSpec {
        kind,
        class: class.to_string(),
        uid: md.uid,
        params,
        all_params: md.params,
        metadata: md.raw,
    })
}

/// The params of a stage's metadata JSON that differ from Spark's defaults: like PySpark,
/// send only those (mlpipe's defaults are Spark's). `<uid>__output` is Spark's default
/// output column, so it is a default whatever map it sits in (sending it would also set
/// `outputCol` beside `outputCols`, which Spark refuses).
fn user_params(md: &Value, uid: &str) -> Map<String, Value> {
    let obj = |k: &str| {
        md.get(k)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let defaults = obj("defaultParamMap");
    let default_output = format!("{uid}__output");
    obj("paramMap")
        .into_iter()
        .filter(|(k, v)| defaults.get(k) != Some(v) && v.as_str() != Some(default_output.as_str()))
        .collect()
}

fn stage_spec(s: &PipelineStage) -> Result<StageSpec> {
    match s {
        PipelineStage::Transformer(t) => spec_of(
            t.kind(),
            t.uid(),
            persist::persistable(t.as_ref()),
            SPARK_TRANSFORMERS,
            "transformer",
        ),
        PipelineStage::Estimator(e) => spec_of(
            e.kind(),
            e.uid(),
            persist::persistable_stage(s),
            SPARK_ESTIMATORS,
            "estimator",
        ),
    }
}

// ---- literals ----

fn lit(t: pb::expression::literal::LiteralType) -> pb::expression::Literal {
    pb::expression::Literal {
        literal_type: Some(t),
        ..Default::default()
    }
}

fn spark_type(kind: pb::data_type::Kind) -> pb::DataType {
    pb::DataType { kind: Some(kind) }
}

fn string_type() -> pb::DataType {
    spark_type(pb::data_type::Kind::String(Default::default()))
}

fn double_type() -> pb::DataType {
    spark_type(pb::data_type::Kind::Double(Default::default()))
}

fn null_lit() -> pb::expression::Literal {
    lit(pb::expression::literal::LiteralType::Null(spark_type(
        pb::data_type::Kind::Null(Default::default()),
    )))
}

fn udt(class: &str) -> pb::DataType {
    spark_type(pb::data_type::Kind::Udt(Box::new(pb::data_type::Udt {
        r#type: "udt".into(),
        jvm_class: Some(class.into()),
        ..Default::default()
    })))
}

fn doubles(v: &[f64]) -> pb::expression::Literal {
    lit(pb::expression::literal::LiteralType::SpecializedArray(
        pb::expression::literal::SpecializedArray {
            value_type: Some(
                pb::expression::literal::specialized_array::ValueType::Doubles(pb::Doubles {
                    values: v.to_vec(),
                }),
            ),
        },
    ))
}

fn ints(v: &[i32]) -> pb::expression::Literal {
    lit(pb::expression::literal::LiteralType::SpecializedArray(
        pb::expression::literal::SpecializedArray {
            value_type: Some(pb::expression::literal::specialized_array::ValueType::Ints(
                pb::Ints { values: v.to_vec() },
            )),
        },
    ))
}

fn struct_lit(ty: pb::DataType, elements: Vec<pb::expression::Literal>) -> pb::expression::Literal {
    #[allow(deprecated)]
    lit(pb::expression::literal::LiteralType::Struct(
        pb::expression::literal::Struct {
            struct_type: Some(ty),
            elements,
        },
    ))
}

fn f64s(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?.iter().map(Value::as_f64).collect()
}

fn i32s(v: &Value) -> Option<Vec<i32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_i64().and_then(|i| i32::try_from(i).ok()))
        .collect()
}

/// A Spark ML vector or matrix param, as Spark writes one into metadata JSON, as the UDT
/// struct literal PySpark sends (`pyspark.ml.connect.serialize.serialize_param`).
fn linalg_literal(m: &Map<String, Value>) -> Option<pb::expression::Literal> {
    use pb::expression::literal::LiteralType as L;
    let ty = m.get("type")?.as_i64()?;
    let values = doubles(&f64s(m.get("values")?)?);
    if m.contains_key("numRows") {
        let int = |k: &str| Some(lit(L::Integer(i32::try_from(m.get(k)?.as_i64()?).ok()?)));
        let transposed = lit(L::Boolean(m.get("isTransposed")?.as_bool()?));
        let (col_ptrs, row_indices) = if ty == 0 {
            (
                ints(&i32s(m.get("colPtrs")?)?),
                ints(&i32s(m.get("rowIndices")?)?),
            )
        } else {
            (null_lit(), null_lit())
        };
        return Some(struct_lit(
            udt("org.apache.spark.ml.linalg.MatrixUDT"),
            vec![
                lit(L::Byte(ty as i32)),
                int("numRows")?,
                int("numCols")?,
                col_ptrs,
                row_indices,
                values,
                transposed,
            ],
        ));
    }
    let (size, indices) = if ty == 0 {
        (
            lit(L::Integer(i32::try_from(m.get("size")?.as_i64()?).ok()?)),
            ints(&i32s(m.get("indices")?)?),
        )
    } else {
        (null_lit(), null_lit())
    };
    Some(struct_lit(
        udt("org.apache.spark.ml.linalg.VectorUDT"),
        vec![lit(L::Byte(ty as i32)), size, indices, values],
    ))
}

/// A param value (as JSON in Spark's metadata) as the literal PySpark would send: ints as
/// Integer (Long past 32 bits), floats as Double, string and number lists as arrays.
fn literal(v: &Value) -> Option<pb::expression::Literal> {
    use pb::expression::literal::LiteralType as L;
    Some(match v {
        Value::Bool(b) => lit(L::Boolean(*b)),
        Value::String(s) => lit(L::String(s.clone())),
        Value::Number(n) => match n.as_i64() {
            Some(i) => match i32::try_from(i) {
                Ok(i) => lit(L::Integer(i)),
                Err(_) => lit(L::Long(i)),
            },
            None => lit(L::Double(n.as_f64()?)),
        },
        Value::Array(items) => {
            let elements: Vec<_> = items.iter().map(literal).collect::<Option<_>>()?;
            let element_type = match items.first() {
                Some(Value::String(_)) | None => string_type(),
                Some(Value::Number(_)) if items.iter().all(Value::is_i64) => {
                    spark_type(pb::data_type::Kind::Integer(Default::default()))
                }
                Some(Value::Number(_)) => {
                    // A double array: every element a Double, also the whole ones.
                    return Some(array_lit(
                        double_type(),
                        items
                            .iter()
                            .map(|x| Some(lit(L::Double(x.as_f64()?))))
                            .collect::<Option<_>>()?,
                    ));
                }
                Some(Value::Array(_)) => {
                    // Spark's Array[Array[Double]] params (Bucketizer's splitsArray).
                    let inner = items
                        .iter()
                        .map(|x| {
                            Some(array_lit(
                                double_type(),
                                f64s(x)?.into_iter().map(|d| lit(L::Double(d))).collect(),
                            ))
                        })
                        .collect::<Option<_>>()?;
                    let ty =
                        spark_type(pb::data_type::Kind::Array(Box::new(pb::data_type::Array {
                            element_type: Some(Box::new(double_type())),
                            contains_null: false,
                            ..Default::default()
                        })));
                    return Some(array_lit(ty, inner));
                }
                _ => return None,
            };
            array_lit(element_type, elements)
        }
        Value::Object(m) => linalg_literal(m)?,
        Value::Null => return None,
    })
}

fn array_lit(
    element_type: pb::DataType,
    elements: Vec<pb::expression::Literal>,
) -> pb::expression::Literal {
    #[allow(deprecated)]
    lit(pb::expression::literal::LiteralType::Array(
        pb::expression::literal::Array {
            element_type: Some(element_type),
            elements,
        },
    ))
}

// ---- server objects ----

/// A model fitted on the Spark cluster, held there (Spark Connect's ML cache) until this
/// value is dropped. Transform with it remotely, save it in Spark's format, or fetch it as
/// an mlpipe model.
#[derive(Debug)]
pub struct RemoteModel {
    session: Session,
    obj_ref: String,
    spec: StageSpec,
}

impl RemoteModel {
    /// The model's uid (its estimator's).
    pub fn uid(&self) -> &str {
        &self.spec.uid
    }

    /// The server's id of the cached model.
    pub fn server_id(&self) -> &str {
        &self.obj_ref
    }

    /// The frame `df` transformed by the model on the cluster (lazy). The frame is valid
    /// while this model is alive.
    pub fn transform_remote(&self, df: &RemoteFrame) -> Result<RemoteFrame> {
        same_session(&self.session, df)?;
        Ok(transform_relation(
            df,
            self.as_operator(),
            pb::MlParams::default(),
        ))
    }

    /// Saves the model in Spark's format at `path` as the cluster sees it (Spark writes it).
    pub fn save_remote(&self, path: &str, overwrite: bool) -> Result<()> {
        write_stage(&self.session, self.as_write_type(), None, path, overwrite)
            .map_err(|e| stage_error(&self.session, &self.spec.name(0), "save", e))
    }

    /// The model as a local mlpipe model, built from its fitted values fetched through
    /// Spark Connect's ML Fetch (no storage shared with the cluster). The models whose
    /// whole fitted state the server hands out are listed in the
    /// [module documentation](super#fetching-fitted-models); for the others use
    /// [`RemoteModel::fetch_via`].
    ///
    /// # Errors
    /// [`Error::Pipeline`] for a model the server does not hand out (naming it and
    /// `fetch_via`); [`Error::Remote`] with Spark's message.
    pub fn fetch(&self) -> Result<Box<dyn Transformer>> {
        self.fetch_attributes()?.ok_or_else(|| {
            needs_save(
                &self.spec.name(0),
                &super::fetch::model_short_class(&self.spec.class),
            )
        })
    }

    /// [`RemoteModel::fetch`], falling back, for a model the server does not hand out
    /// through ML Fetch, to [`RemoteModel::fetch_saved`] at `scratch`.
    pub fn fetch_via(&self, scratch: &str) -> Result<Box<dyn Transformer>> {
        match self.fetch_attributes()? {
            Some(m) => Ok(m),
            None => self.fetch_saved(scratch),
        }
    }

    /// The model as Spark saved it: Spark writes it at `scratch` (a path the cluster
    /// writes; overwritten), and the files come back through the Spark session, so the
    /// local model is exactly what Spark wrote. Works for every model.
    pub fn fetch_saved(&self, scratch: &str) -> Result<Box<dyn Transformer>> {
        self.save_remote(scratch, true)?;
        let local = Scratch(scratch_dir("fetch"));
        fetch_stage_dir(&self.session, scratch, &local.0, true)
            .map_err(|e| stage_error(&self.session, &self.spec.name(0), "fetch", e))?;
        persist::load_stage(&local.0)
    }

    /// The model from fetched attributes, `None` when the allowlist does not cover it.
    fn fetch_attributes(&self) -> Result<Option<Box<dyn Transformer>>> {
        super::fetch::fetch_model(&super::fetch::Fetched {
            session: &self.session,
            obj_ref: &self.obj_ref,
            uid: &self.spec.uid,
            class: &self.spec.class,
            params: &self.spec.all_params,
        })
    }

    pub(super) fn session(&self) -> &Session {
        &self.session
    }

    fn as_operator(&self) -> pb::ml_relation::transform::Operator {
        pb::ml_relation::transform::Operator::ObjRef(pb::ObjectRef {
            id: self.obj_ref.clone(),
        })
    }

    fn as_write_type(&self) -> pb::ml_command::write::Type {
        pb::ml_command::write::Type::ObjRef(pb::ObjectRef {
            id: self.obj_ref.clone(),
        })
    }
}

impl Drop for RemoteModel {
    /// Releases the model from the server's ML cache.
    fn drop(&mut self) {
        let delete = pb::ml_command::Command::Delete(pb::ml_command::Delete {
            obj_refs: vec![pb::ObjectRef {
                id: self.obj_ref.clone(),
            }],
            evict_only: None,
        });
        if let Err(e) = self.session.ml_command(delete) {
            tracing::warn!(model = %self.obj_ref, error = %e, "could not release a remote model");
        }
    }
}

/// The error for a model ML Fetch cannot bring back.
fn needs_save(stage: &str, class: &str) -> Error {
    Error::Pipeline(format!(
        "{stage}: Spark's server does not hand out the fitted state of a {class} through ML Fetch; use fetch_via(scratch) with a path the cluster writes (the model is saved there by Spark and read back through the session)"
    ))
}

/// A transformer rebuilt here from the metadata it was described (or loaded) with.
fn local_transformer(spec: &StageSpec) -> Result<Box<dyn Transformer>> {
    let dir = Scratch(scratch_dir("transformer"));
    format::write_metadata_json(&dir.0, &spec.metadata)?;
    persist::load_stage(&dir.0)
}

fn same_session(s: &Session, df: &RemoteFrame) -> Result<()> {
    if std::sync::Arc::ptr_eq(&s.inner, &df.session().inner) {
        Ok(())
    } else {
        Err(Error::Pipeline(
            "the frame belongs to another Spark Connect session than the model".into(),
        ))
    }
}

fn transform_relation(
    df: &RemoteFrame,
    op: pb::ml_relation::transform::Operator,
    params: pb::MlParams,
) -> RemoteFrame {
    let t = pb::MlRelation {
        ml_type: Some(pb::ml_relation::MlType::Transform(Box::new(
            pb::ml_relation::Transform {
                operator: Some(op),
                input: Some(Box::new(df.relation().clone())),
                params: Some(params),
            },
        ))),
        model_summary_dataset: None,
    };
    df.derive(pb::relation::RelType::MlRelation(Box::new(t)))
}

/// A server error at a stage: which stage, what was done, Spark's message.
pub(super) fn stage_error(session: &Session, stage: &str, what: &str, e: Error) -> Error {
    match e {
        Error::Remote { message, .. } => {
            session.error(format!("{stage}: {what} failed: {message}"))
        }
        other => other,
    }
}

/// Fits `spec` on `df` on the server.
pub(super) fn fit(
    session: &Session,
    spec: &StageSpec,
    df: &RemoteFrame,
    i: usize,
) -> Result<RemoteModel> {
    let command = pb::ml_command::Command::Fit(pb::ml_command::Fit {
        estimator: Some(spec.operator(pb::ml_operator::OperatorType::Estimator)),
        params: Some(spec.ml_params()?),
        dataset: Some(df.relation().clone()),
    });
    let result = session
        .ml_command(command)
        .map_err(|e| stage_error(session, &spec.name(i), "fit", e))?;
    match result.and_then(|r| r.result_type) {
        Some(pb::ml_command_result::ResultType::OperatorInfo(info)) => match info.r#type {
            Some(pb::ml_command_result::ml_operator_info::Type::ObjRef(r)) => Ok(RemoteModel {
                session: session.clone(),
                obj_ref: r.id,
                spec: spec.clone(),
            }),
            _ => Err(session.error(format!("{}: fit returned no model", spec.name(i)))),
        },
        _ => Err(session.error(format!("{}: fit returned no model", spec.name(i)))),
    }
}

/// Writes one stage with `MlCommand.Write`.
fn write_stage(
    session: &Session,
    ty: pb::ml_command::write::Type,
    params: Option<pb::MlParams>,
    path: &str,
    overwrite: bool,
) -> Result<()> {
    let command = pb::ml_command::Command::Write(pb::ml_command::Write {
        r#type: Some(ty),
        params,
        path: path.to_string(),
        should_overwrite: Some(overwrite),
        options: Default::default(),
    });
    session.ml_command(command).map(|_| ())
}

/// Writes a one-line text file set (`metadata/`) through Spark.
pub(super) fn write_text(session: &Session, line: &str, path: &str, overwrite: bool) -> Result<()> {
    use arrow::array::StringArray;
    let batch = arrow::record_batch::RecordBatch::try_from_iter([(
        "value",
        std::sync::Arc::new(StringArray::from(vec![line])) as arrow::array::ArrayRef,
    )])?;
    let df = crate::frame::DataFrame::from_batches(vec![batch])?;
    let frame = session.create_frame(&df)?;
    let mode = if overwrite {
        pb::write_operation::SaveMode::Overwrite
    } else {
        pb::write_operation::SaveMode::ErrorIfExists
    };
    let write = pb::WriteOperation {
        input: Some(frame.relation().clone()),
        source: Some("text".into()),
        save_type: Some(pb::write_operation::SaveType::Path(path.to_string())),
        mode: mode as i32,
        ..Default::default()
    };
    session.command(pb::command::CommandType::WriteOperation(write))
}

/// Brings the saved stage at `remote` (a path the cluster reads) into the local directory
/// `local` through the Spark session: `metadata/` as text, `data/` (for a model) as
/// Parquet, in Spark's own layout.
fn fetch_stage_dir(session: &Session, remote: &str, local: &Path, data: bool) -> Result<()> {
    let md = session.read_metadata_remote(remote)?;
    format::write_metadata_json(local, &md)?;
    if data {
        let (schema, batches) = session.collect_relation(
            session
                .read("parquet", [format!("{remote}/data")], &[])?
                .relation()
                .clone(),
        )?;
        let ddir = local.join("data");
        std::fs::create_dir_all(&ddir)
            .map_err(|e| Error::file(&ddir, format!("cannot create: {e}")))?;
        let file = ddir.join("part-00000.parquet");
        let f = std::fs::File::create(&file)
            .map_err(|e| Error::file(&file, format!("cannot create: {e}")))?;
        let werr = |e: parquet::errors::ParquetError| {
            Error::file(&file, format!("cannot write Parquet: {e}"))
        };
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, None).map_err(werr)?;
        for b in &batches {
            w.write(b).map_err(werr)?;
        }
        w.close().map_err(werr)?;
    }
    Ok(())
}

// ---- pipelines ----

/// One stage of a [`RemotePipelineModel`]: a transformer sent by description, or a model
/// fitted on the server.
#[derive(Debug)]
enum RemoteStage {
    Transformer(StageSpec),
    Model(RemoteModel),
}

impl RemoteStage {
    fn spec(&self) -> &StageSpec {
        match self {
            RemoteStage::Transformer(s) => s,
            RemoteStage::Model(m) => &m.spec,
        }
    }
}

/// A [`PipelineModel`] fitted on a Spark cluster by [`Pipeline::fit_remote`]: its fitted
/// stages stay on the server (released when this value is dropped) until saved or fetched.
///
/// # Examples
/// ```no_run
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::connect::{EvaluateRemote, Session};
/// use mlpipe::classification::LogisticRegression;
/// use mlpipe::evaluation::BinaryClassificationEvaluator;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::prelude::*;
///
/// let spark = Session::connect("sc://127.0.0.1:15002")?;
/// let train = spark.read_parquet(["/data/churn.parquet"])?;
/// let pipeline = Pipeline::new()
///     .with_transformer(VectorAssembler::new().with_input_cols(["tenure", "charges"]).with_output_col("features"))
///     .with_estimator(LogisticRegression::new().with_label_col("churn"));
/// let model = pipeline.fit_remote(&train)?;             // fitted on the cluster
/// let scored = model.transform_remote(&train)?;         // still on the cluster
/// let auc = BinaryClassificationEvaluator::new().with_label_col("churn").evaluate_remote(&scored)?;
/// model.save_remote("/models/churn", true)?;            // Spark's format, written by Spark
/// let local: PipelineModel = model.fetch()?;           // scores here, no shared storage
/// # let _ = (auc, local); Ok(()) }
/// ```
#[derive(Debug)]
pub struct RemotePipelineModel {
    session: Session,
    uid: String,
    stages: Vec<RemoteStage>,
}

impl Pipeline {
    /// Fits the pipeline on a Spark cluster, as PySpark does under Spark Connect: each
    /// estimator is fitted on the server on the data transformed by the stages before it,
    /// and the fitted models stay on the server.
    ///
    /// Before anything runs, every stage is checked locally: that Spark's server has it
    /// (a stage Spark lacks fails here, naming the stage, before any server call), and
    /// the params and columns against the frame's schema (one one-row query), so a
    /// misspelt column fails before any fit.
    ///
    /// # Errors
    /// [`Error::Pipeline`] for a stage Spark cannot run; the local schema errors
    /// ([`Error::ColumnNotFound`], [`Error::InvalidParam`], ...); [`Error::Remote`] naming
    /// the stage and carrying Spark's message when the server fails (models fitted so far
    /// are released).
    pub fn fit_remote(&self, df: &RemoteFrame) -> Result<RemotePipelineModel> {
        let specs = self.remote_specs()?;
        self.transform_schema(df.schema()?.as_ref())?;
        self.fit_remote_specs(specs, df)
    }

    /// Every stage's description for the server (fails for a stage Spark lacks).
    pub(super) fn remote_specs(&self) -> Result<Vec<StageSpec>> {
        self.stages().iter().map(stage_spec).collect()
    }

    /// The pipeline loop on the server, after the local checks.
    pub(super) fn fit_remote_specs(
        &self,
        specs: Vec<StageSpec>,
        df: &RemoteFrame,
    ) -> Result<RemotePipelineModel> {
        let session = df.session().clone();
        let last_est = self
            .stages()
            .iter()
            .rposition(|s| matches!(s, PipelineStage::Estimator(_)));
        let mut current = df.clone();
        let mut fitted = Vec::with_capacity(specs.len());
        for (i, (s, spec)) in self.stages().iter().zip(specs).enumerate() {
            let stage = match s {
                PipelineStage::Transformer(_) => RemoteStage::Transformer(spec),
                PipelineStage::Estimator(_) => {
                    let m = fit(&session, &spec, &current, i)?;
                    tracing::info!(stage = i, kind = spec.kind, uid = %spec.uid, "fitted pipeline stage on Spark");
                    RemoteStage::Model(m)
                }
            };
            if last_est.is_some_and(|l| i < l) {
                current = apply(&stage, &current)?;
            }
            fitted.push(stage);
        }
        Ok(RemotePipelineModel {
            session,
            uid: self.uid().to_string(),
            stages: fitted,
        })
    }
}

fn apply(stage: &RemoteStage, df: &RemoteFrame) -> Result<RemoteFrame> {
    Ok(match stage {
        RemoteStage::Transformer(spec) => transform_relation(
            df,
            pb::ml_relation::transform::Operator::Transformer(
                spec.operator(pb::ml_operator::OperatorType::Transformer),
            ),
            spec.ml_params()?,
        ),
        RemoteStage::Model(m) => m.transform_remote(df)?,
    })
}

impl RemotePipelineModel {
    /// The pipeline's uid.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The stages' `(name, uid)`, in order.
    pub fn stages(&self) -> Vec<(&'static str, &str)> {
        self.stages
            .iter()
            .map(|s| (s.spec().kind, s.spec().uid.as_str()))
            .collect()
    }

    /// The server ids of the fitted models (Spark Connect's ML cache).
    pub fn server_ids(&self) -> Vec<&str> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                RemoteStage::Model(m) => Some(m.obj_ref.as_str()),
                RemoteStage::Transformer(_) => None,
            })
            .collect()
    }

    /// The frame `df` transformed by every stage on the cluster (lazy). The frame is valid
    /// while this model is alive.
    pub fn transform_remote(&self, df: &RemoteFrame) -> Result<RemoteFrame> {
        same_session(&self.session, df)?;
        self.stages.iter().try_fold(df.clone(), |d, s| apply(s, &d))
    }

    /// Saves the pipeline model in Spark's format at `path` as the cluster sees it: Spark
    /// writes every stage (`stages/<i>_<uid>/`), and the pipeline's `metadata/` names the
    /// Scala class `org.apache.spark.ml.PipelineModel`, so Spark (Scala and PySpark) and
    /// mlpipe both load it. With `overwrite`, an existing model there is replaced.
    ///
    /// # Errors
    /// [`Error::Remote`] with Spark's message (a path that exists without `overwrite`, a
    /// path the cluster cannot write), naming the stage being written.
    pub fn save_remote(&self, path: &str, overwrite: bool) -> Result<()> {
        let path = path.trim_end_matches('/');
        let md = self.metadata();
        write_text(
            &self.session,
            &md.to_string(),
            &format!("{path}/metadata"),
            overwrite,
        )
        .map_err(|e| stage_error(&self.session, "PipelineModel", "save", e))?;
        let n = self.stages.len();
        for (i, s) in self.stages.iter().enumerate() {
            let dir = self.stage_path(path, i, n);
            let (ty, params) = match s {
                RemoteStage::Model(m) => (m.as_write_type(), None),
                RemoteStage::Transformer(spec) => (
                    pb::ml_command::write::Type::Operator(
                        spec.operator(pb::ml_operator::OperatorType::Transformer),
                    ),
                    Some(spec.ml_params()?),
                ),
            };
            write_stage(&self.session, ty, params, &dir, overwrite)
                .map_err(|e| stage_error(&self.session, &s.spec().name(i), "save", e))?;
        }
        Ok(())
    }

    /// The fitted pipeline as a local [`PipelineModel`] without any storage shared with
    /// the cluster: every fitted model built from its values fetched through Spark
    /// Connect's ML Fetch, every transformer from its params. The models whose whole
    /// fitted state the server hands out are listed in the
    /// [module documentation](super#fetching-fitted-models); a pipeline with another
    /// model needs [`RemotePipelineModel::fetch_via`].
    ///
    /// # Errors
    /// [`Error::Pipeline`] naming the first stage ML Fetch cannot bring back;
    /// [`Error::Remote`] with Spark's message, naming the stage.
    pub fn fetch(&self) -> Result<PipelineModel> {
        self.fetch_stages(None)
    }

    /// [`RemotePipelineModel::fetch`], with the stages ML Fetch cannot bring back saved
    /// by Spark under `scratch` (a path the cluster writes; those stages' directories are
    /// overwritten) and read back through the Spark session.
    pub fn fetch_via(&self, scratch: &str) -> Result<PipelineModel> {
        self.fetch_stages(Some(scratch.trim_end_matches('/')))
    }

    fn fetch_stages(&self, scratch: Option<&str>) -> Result<PipelineModel> {
        let n = self.stages.len();
        let mut local = Vec::with_capacity(n);
        for (i, s) in self.stages.iter().enumerate() {
            let stage = match s {
                RemoteStage::Transformer(spec) => local_transformer(spec)?,
                RemoteStage::Model(m) => match (m.fetch_attributes(), scratch) {
                    (Ok(Some(t)), _) => t,
                    (Ok(None), Some(root)) => m.fetch_saved(&self.stage_path(root, i, n))?,
                    (Ok(None), None) => {
                        return Err(needs_save(
                            &m.spec.name(i),
                            &super::fetch::model_short_class(&m.spec.class),
                        ))
                    }
                    (Err(e), _) => {
                        return Err(stage_error(&self.session, &m.spec.name(i), "fetch", e))
                    }
                },
            };
            local.push(stage);
        }
        Ok(PipelineModel::new(&self.uid, local))
    }

    /// The fitted pipeline as Spark saved it: Spark saves it at `scratch` (a path the
    /// cluster writes; overwritten), and the saved files come back through the Spark
    /// session, so the local model is exactly what Spark wrote. Works for every stage.
    ///
    /// # Errors
    /// [`Error::Remote`] from the save or the reads; [`Error::File`] if the local copy does
    /// not load.
    pub fn fetch_saved(&self, scratch: &str) -> Result<PipelineModel> {
        let scratch = scratch.trim_end_matches('/');
        self.save_remote(scratch, true)?;
        let local = Scratch(scratch_dir("fetch"));
        format::write_metadata_json(&local.0, &self.metadata())?;
        let n = self.stages.len();
        for (i, s) in self.stages.iter().enumerate() {
            let sdir = format::stage_dir(&local.0, i, n, &s.spec().uid);
            let is_model = matches!(s, RemoteStage::Model(_));
            fetch_stage_dir(
                &self.session,
                &self.stage_path(scratch, i, n),
                &sdir,
                is_model,
            )
            .map_err(|e| stage_error(&self.session, &s.spec().name(i), "fetch", e))?;
        }
        PipelineModel::load(&local.0)
    }

    pub(super) fn session(&self) -> &Session {
        &self.session
    }

    fn metadata(&self) -> Value {
        let uids: Vec<&str> = self.stages.iter().map(|s| s.spec().uid.as_str()).collect();
        format::metadata_json(
            "org.apache.spark.ml.PipelineModel",
            &self.uid,
            json!({ "stageUids": uids }),
            json!({}),
            self.session.spark_version(),
        )
    }

    fn stage_path(&self, root: &str, i: usize, n: usize) -> String {
        let rel = format::stage_dir(Path::new(""), i, n, &self.stages[i].spec().uid);
        format!("{root}/{}", rel.to_string_lossy())
    }
}

// ---- single estimators and evaluators ----

/// Fitting a single mlpipe estimator on a Spark cluster.
pub trait FitRemote {
    /// Fits the estimator on the server (after the same local checks as
    /// [`Pipeline::fit_remote`]) and returns the model held there.
    ///
    /// # Errors
    /// As [`Pipeline::fit_remote`].
    fn fit_remote(&self, df: &RemoteFrame) -> Result<RemoteModel>;
}

impl<E: Estimator> FitRemote for E {
    fn fit_remote(&self, df: &RemoteFrame) -> Result<RemoteModel> {
        let spec = estimator_spec(self)?;
        self.transform_schema(df.schema()?.as_ref())?;
        fit(df.session(), &spec, df, 0)
    }
}

/// A single estimator's description for the server (fails for one Spark lacks).
pub(super) fn estimator_spec<E: Estimator>(e: &E) -> Result<StageSpec> {
    stage_spec(&PipelineStage::Estimator(DynEstimator::clone_dyn(e)))
}

/// Evaluating with an mlpipe evaluator on a Spark cluster.
pub trait EvaluateRemote {
    /// Computes the metric with Spark's evaluator of the same class and params, on the
    /// server, over the remote frame `df` (usually a `transform_remote` result).
    ///
    /// Spark's binned metrics (`areaUnderROC` with `numBins > 0`) depend on how Spark
    /// partitions the data; set `numBins` to 0 for the exact value.
    ///
    /// # Errors
    /// [`Error::Pipeline`] for an evaluator Spark's server lacks (before any server call);
    /// [`Error::Remote`] with Spark's message.
    fn evaluate_remote(&self, df: &RemoteFrame) -> Result<f64>;
}

impl<T: Evaluator + ?Sized> EvaluateRemote for T {
    fn evaluate_remote(&self, df: &RemoteFrame) -> Result<f64> {
        let p = self.persistable();
        let class = p.map_or("Evaluator", |p| p.spark_class());
        let kind = class.rsplit('.').next().unwrap_or(class);
        let spec = spec_of(kind, "", p, SPARK_EVALUATORS, "evaluator")?;
        let session = df.session();
        let command = pb::ml_command::Command::Evaluate(pb::ml_command::Evaluate {
            evaluator: Some(spec.operator(pb::ml_operator::OperatorType::Evaluator)),
            params: Some(spec.ml_params()?),
            dataset: Some(df.relation().clone()),
        });
        let result = session
            .ml_command(command)
            .map_err(|e| stage_error(session, kind, "evaluate", e))?;
        match result.and_then(|r| r.result_type) {
            Some(pb::ml_command_result::ResultType::Param(l)) => match l.literal_type {
                Some(pb::expression::literal::LiteralType::Double(d)) => Ok(d),
                Some(pb::expression::literal::LiteralType::Float(f)) => Ok(f as f64),
                other => {
                    Err(session.error(format!("{kind}: evaluate returned {other:?}, not a number")))
                }
            },
            _ => Err(session.error(format!("{kind}: evaluate returned no metric"))),
        }
    }
}

impl Session {
    /// The ids of the ML objects this session holds on the server (Spark Connect's
    /// `GetCacheInfo`): empty once every remote model is dropped.
    ///
    /// # Errors
    /// [`Error::Remote`] on a Spark 4.0 server, which has no `GetCacheInfo` (it arrived
    /// in Spark 4.1; the models are released when dropped all the same).
    pub fn cached_models(&self) -> Result<Vec<String>> {
        if self.spark_version().starts_with("4.0.") {
            return Err(self.error(format!(
                "cached_models: Spark {} has no GetCacheInfo command (it arrived in Spark 4.1); remote models are still released when dropped",
                self.spark_version()
            )));
        }
        let r = self.ml_command(pb::ml_command::Command::GetCacheInfo(
            pb::ml_command::GetCacheInfo {},
        ))?;
        let lit = match r.and_then(|r| r.result_type) {
            Some(pb::ml_command_result::ResultType::Param(l)) => l,
            _ => return Ok(Vec::new()),
        };
        Ok(strings_of(&lit))
    }
}

impl Session {
    /// A pipeline model saved in Spark's format at `path` (as the cluster sees it) — saved
    /// by Spark or by mlpipe — loaded on the server, ready for
    /// [`RemotePipelineModel::transform_remote`]. The client reads the pipeline's
    /// `metadata/` through Spark (the server does not load whole pipelines); the server
    /// loads each fitted stage.
    ///
    /// # Errors
    /// [`Error::Remote`] with Spark's message (a missing path, a class the server lacks),
    /// naming the stage.
    pub fn read_pipeline_model(&self, path: &str) -> Result<RemotePipelineModel> {
        let path = path.trim_end_matches('/');
        let md = self.read_metadata_remote(path)?;
        let uids: Vec<String> = md
            .get("paramMap")
            .and_then(|p| p.get("stageUids"))
            .and_then(Value::as_array)
            .ok_or_else(|| {
                self.error(format!(
                    "{path}/metadata lacks paramMap.stageUids; is it a saved PipelineModel?"
                ))
            })?
            .iter()
            .map(|v| v.as_str().unwrap_or("").to_string())
            .collect();
        let n = uids.len();
        let mut stages = Vec::with_capacity(n);
        for (i, uid) in uids.iter().enumerate() {
            let rel = format::stage_dir(Path::new(""), i, n, uid);
            let dir = format!("{path}/{}", rel.to_string_lossy());
            stages.push(self.read_stage(&dir, i)?);
        }
        Ok(RemotePipelineModel {
            session: self.clone(),
            uid: md
                .get("uid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            stages,
        })
    }

    /// A single fitted model saved in Spark's format at `path` (as the cluster sees it),
    /// loaded on the server.
    ///
    /// # Errors
    /// [`Error::Remote`] with Spark's message; [`Error::Pipeline`] when `path` holds a
    /// transformer rather than a fitted model.
    pub fn read_model(&self, path: &str) -> Result<RemoteModel> {
        match self.read_stage(path.trim_end_matches('/'), 0)? {
            RemoteStage::Model(m) => Ok(m),
            RemoteStage::Transformer(spec) => Err(Error::Pipeline(format!(
                "{path} holds the transformer {}, not a fitted model",
                spec.kind
            ))),
        }
    }

    fn read_metadata_remote(&self, dir: &str) -> Result<Value> {
        let (_, lines) = self.collect_relation(
            self.read("text", [format!("{dir}/metadata")], &[])?
                .relation()
                .clone(),
        )?;
        let line = lines
            .iter()
            .find_map(|b| {
                arrow::array::AsArray::as_string_opt::<i32>(b.column(0).as_ref())
                    .filter(|a| arrow::array::Array::len(*a) > 0)
                    .map(|a| a.value(0).to_string())
            })
            .ok_or_else(|| self.error(format!("{dir}/metadata holds no metadata line")))?;
        serde_json::from_str(&line)
            .map_err(|e| self.error(format!("{dir}/metadata is not JSON: {e}")))
    }

    fn read_stage(&self, dir: &str, i: usize) -> Result<RemoteStage> {
        let md = self.read_metadata_remote(dir)?;
        let class = md
            .get("class")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let uid = md
            .get("uid")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let kind: &'static str = crate::persist::KNOWN_CLASSES
            .iter()
            .find(|c| **c == class)
            .map_or("stage", |c| c.rsplit('.').next().unwrap_or(c));
        let params = user_params(&md, &uid);
        let mut all_params = Map::new();
        for key in ["defaultParamMap", "paramMap"] {
            if let Some(m) = md.get(key).and_then(Value::as_object) {
                all_params.extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        let spec = StageSpec {
            kind,
            class: class.clone(),
            uid,
            params,
            all_params,
            metadata: md,
        };
        if offered(&class, SPARK_TRANSFORMERS) {
            return Ok(RemoteStage::Transformer(spec));
        }
        let command = pb::ml_command::Command::Read(pb::ml_command::Read {
            operator: Some(pb::MlOperator {
                name: class,
                uid: String::new(),
                r#type: pb::ml_operator::OperatorType::Model as i32,
            }),
            path: dir.to_string(),
        });
        let result = self
            .ml_command(command)
            .map_err(|e| stage_error(self, &spec.name(i), "load", e))?;
        match result.and_then(|r| r.result_type) {
            Some(pb::ml_command_result::ResultType::OperatorInfo(
                pb::ml_command_result::MlOperatorInfo {
                    r#type: Some(pb::ml_command_result::ml_operator_info::Type::ObjRef(r)),
                    ..
                },
            )) => Ok(RemoteStage::Model(RemoteModel {
                session: self.clone(),
                obj_ref: r.id,
                spec,
            })),
            _ => Err(self.error(format!("{}: load returned no model", spec.name(i)))),
        }
    }
}

fn strings_of(l: &pb::expression::Literal) -> Vec<String> {
    use pb::expression::literal::LiteralType as L;
    match &l.literal_type {
        Some(L::String(s)) => vec![s.clone()],
        Some(L::Array(a)) => a.elements.iter().flat_map(strings_of).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::LogisticRegression;
    use crate::feature::VectorAssembler;

    #[test]
    fn specs_carry_spark_class_and_the_params_that_differ_from_the_defaults() {
        let lr = LogisticRegression::new()
            .with_label_col("churn")
            .with_reg_param(0.1);
        let s = stage_spec(&PipelineStage::Estimator(Box::new(lr.clone()))).unwrap();
        assert_eq!(
            s.class,
            "org.apache.spark.ml.classification.LogisticRegression"
        );
        assert_eq!(s.uid, lr.uid());
        assert_eq!(s.params.get("regParam"), Some(&json!(0.1)));
        assert_eq!(s.params.get("labelCol"), Some(&json!("churn")));
        assert!(!s.params.contains_key("maxIter"), "{:?}", s.params);
        let va = VectorAssembler::new()
            .with_input_cols(["a", "b"])
            .with_output_col("f");
        let s = stage_spec(&PipelineStage::Transformer(Box::new(va))).unwrap();
        assert_eq!(s.class, "org.apache.spark.ml.feature.VectorAssembler");
        let p = s.ml_params().unwrap();
        #[allow(deprecated)]
        let cols = match &p.params["inputCols"].literal_type {
            Some(pb::expression::literal::LiteralType::Array(a)) => a.elements.len(),
            other => panic!("{other:?}"),
        };
        assert_eq!(cols, 2);
    }

    #[test]
    fn literals_follow_pyspark() {
        use pb::expression::literal::LiteralType as L;
        let t = |v: Value| literal(&v).unwrap().literal_type.unwrap();
        assert!(matches!(t(json!(3)), L::Integer(3)));
        assert!(matches!(t(json!(1i64 << 40)), L::Long(_)));
        assert!(matches!(t(json!(0.5)), L::Double(d) if d == 0.5));
        assert!(matches!(t(json!(true)), L::Boolean(true)));
        // A dense vector param, as Spark writes it into metadata.
        match t(json!({"type": 1, "values": [1.0, 2.0]})) {
            L::Struct(s) => assert_eq!(s.elements.len(), 4),
            other => panic!("{other:?}"),
        }
        assert!(literal(&Value::Null).is_none());
    }
}
