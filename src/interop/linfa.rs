//! linfa <-> mlpipe (feature `linfa`): `Dataset`s from frames, and linfa estimators as
//! pipeline stages.
//!
//! [`DataFrame::to_linfa_dataset`] copies a vector column and a label column into a linfa
//! `Dataset` (feature names come from the vector column's metadata), and
//! [`DataFrame::from_linfa_dataset`] goes back (handing the arrays' memory over).
//!
//! [`LinfaEstimator`] wraps any linfa algorithm whose params implement linfa's `Fit` on
//! `(Array2<f64>, Array1<L>)` and whose fitted model predicts an `Array1<L>`, so that
//! algorithms MLlib lacks (an SVM with a Gaussian or polynomial kernel from `linfa-svm`,
//! for example) sit in an mlpipe [`Pipeline`](crate::Pipeline) with the usual column
//! checks: `fit` reads `featuresCol` and `labelCol`, and the fitted [`LinfaModel`] appends
//! `predictionCol` (a `Float64`; `true`/`false` labels become 1.0/0.0).
//!
//! linfa's own checks panic on some bad input; the adapter checks the columns, the labels
//! and the feature count first, and turns a linfa error (or a panic inside linfa) into an
//! [`Error::Pipeline`] naming the stage.
//!
//! # Persistence
//! A fitted [`LinfaModel`] of a type that implements [`LinfaPersist`] (the `linfa-svm`
//! classifier `Svm<f64, bool>` does) saves in mlpipe's directory layout: `metadata/` with
//! the params under mlpipe's own class name (`mlpipe.interop.LinfaSvmClassifierModel`) and
//! `data/model.json` with the linfa model as serde JSON. Spark cannot load it (Spark has no
//! such class); mlpipe loads it back, alone or inside a saved `PipelineModel`. The unfitted
//! [`LinfaEstimator`] is not saved (linfa's params types have no serde form).
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::interop::linfa::LinfaEstimator;
//! use mlpipe::linfa_svm::Svm;
//! use mlpipe::ndarray::{array, Array1};
//! use mlpipe::prelude::*;
//! // XOR: no linear model separates it; an SVM with a Gaussian kernel does.
//! let x = array![[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]];
//! let y = Array1::from(vec![0.0, 0.0, 1.0, 1.0]);
//! let df = DataFrame::from_array2(x, Some(y))?;
//! let svm = LinfaEstimator::new(Svm::<f64, bool>::params().gaussian_kernel(0.5));
//! let model = Pipeline::new().with_estimator(svm).fit(&df)?;
//! let out = model.transform(&df)?;
//! assert_eq!(out.to_array1("prediction")?.to_vec(), vec![0.0, 0.0, 1.0, 1.0]);
//! # Ok(()) }
//! ```

use std::fmt::Debug;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array};
use arrow::datatypes::{DataType, Field, Schema};
use linfa::dataset::Records;
use linfa::traits::{Fit, PredictInplace};
use linfa::{Dataset, DatasetBase};
use ndarray::Ix1;
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{random_uid, Params};
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

const ESTIMATOR: &str = "LinfaEstimator";
const MODEL: &str = "LinfaModel";

/// A label type a linfa algorithm learns: read from an mlpipe `f64` label column and
/// written back as an `f64` prediction.
pub trait LinfaLabel: Clone + Default + Debug + Send + Sync + 'static {
    /// What a valid label value is, for error messages.
    const EXPECTED: &'static str;
    /// The label for `v`, or `None` when `v` is not one.
    fn from_f64(v: f64) -> Option<Self>;
    /// The prediction as an `f64`.
    fn to_f64(&self) -> f64;
}

impl LinfaLabel for f64 {
    const EXPECTED: &'static str = "a finite number";
    fn from_f64(v: f64) -> Option<Self> {
        v.is_finite().then_some(v)
    }
    fn to_f64(&self) -> f64 {
        *self
    }
}

impl LinfaLabel for bool {
    const EXPECTED: &'static str = "0 or 1 (a binary label)";
    fn from_f64(v: f64) -> Option<Self> {
        match v {
            0.0 => Some(false),
            1.0 => Some(true),
            _ => None,
        }
    }
    fn to_f64(&self) -> f64 {
        f64::from(u8::from(*self))
    }
}

impl LinfaLabel for usize {
    const EXPECTED: &'static str = "a class index 0, 1, 2, ...";
    fn from_f64(v: f64) -> Option<Self> {
        (v >= 0.0 && v.fract() == 0.0 && v < 2f64.powi(53)).then_some(v as usize)
    }
    fn to_f64(&self) -> f64 {
        *self as f64
    }
}

impl DataFrame {
    /// A linfa `Dataset` of the vector column `features_col` (records) and the numeric
    /// column `label_col` (targets, converted to `L`); one copy of each. The vector
    /// column's feature names (Spark's `ml_attr` metadata, or `<col>_<i>`) become the
    /// dataset's feature names.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`], [`Error::ColumnType`], [`Error::InvalidValue`] for a null
    /// or a value that is not a valid `L` (naming the partition and row).
    pub fn to_linfa_dataset<L: LinfaLabel>(
        &self,
        features_col: &str,
        label_col: &str,
    ) -> Result<Dataset<f64, L, Ix1>> {
        let (records, targets) =
            records_and_targets(self, "to_linfa_dataset", features_col, label_col)?;
        let (_, field, _) =
            schema::require_vector(self.schema(), "to_linfa_dataset", features_col)?;
        Ok(Dataset::new(records, targets)
            .with_feature_names(vector::feature_names_or_default(field)))
    }

    /// A frame with the dataset's records as a `features` vector column (with the
    /// dataset's feature names in its metadata) and its targets as a `Float64` `label`
    /// column.
    ///
    /// # Errors
    /// As [`DataFrame::from_array2`].
    pub fn from_linfa_dataset<L: LinfaLabel>(ds: &Dataset<f64, L, Ix1>) -> Result<DataFrame> {
        let label: Array1<f64> = ds.targets().map(<L as LinfaLabel>::to_f64);
        let df = DataFrame::from_array2(ds.records().clone(), Some(label))?;
        let names = ds.feature_names();
        if names.len() != ds.nfeatures() {
            return Ok(df);
        }
        let (_, f, _) =
            schema::require_vector(df.schema(), "from_linfa_dataset", super::ndarray::FEATURES)?;
        let field = vector::with_feature_names(f.clone(), names);
        let chunk: Vec<ArrayRef> = df
            .partitions()
            .iter()
            .map(|p| p.column(0).clone())
            .collect();
        df.with_column(field, chunk)
    }
}

fn records_and_targets<L: LinfaLabel>(
    df: &DataFrame,
    stage: &'static str,
    features_col: &str,
    label_col: &str,
) -> Result<(Array2<f64>, Array1<L>)> {
    let records = df.to_array2(features_col)?;
    schema::require_numeric(df.schema(), stage, label_col)?;
    let labels = df.to_array1(label_col)?;
    let mut targets = Vec::with_capacity(labels.len());
    let mut rows = df
        .partitions()
        .iter()
        .enumerate()
        .flat_map(|(p, b)| (0..b.num_rows()).map(move |r| (p, r)));
    for &v in labels.iter() {
        let (p, r) = rows.next().unwrap_or((0, 0));
        match L::from_f64(v) {
            Some(l) => targets.push(l),
            None => {
                return Err(Error::InvalidValue {
                    stage,
                    column: label_col.to_string(),
                    partition: p,
                    row: r,
                    what: format!("label {v}"),
                    hint: format!("this linfa algorithm needs labels that are {}", L::EXPECTED),
                })
            }
        }
    }
    Ok((records, Array1::from(targets)))
}

/// The column params of a linfa stage (Spark's names and defaults for predictors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LinfaParams {
    /// Vector column read by fit and transform; default `"features"`.
    pub features_col: String,
    /// Label column read by fit; default `"label"`.
    pub label_col: String,
    /// Output column of the model; default `"prediction"`.
    pub prediction_col: String,
}

impl Default for LinfaParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            prediction_col: "prediction".into(),
        }
    }
}

impl Params for LinfaParams {
    const STAGE: &'static str = ESTIMATOR;
    fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
            ("predictionCol", &self.prediction_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(
                    ESTIMATOR,
                    name,
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        Ok(())
    }
}

/// Any linfa algorithm as an mlpipe [`Estimator`]: `P` is the algorithm's params (linfa's
/// `Fit` on `Array2<f64>` records and `Array1<L>` targets, with error type `E`).
pub struct LinfaEstimator<P, L, E> {
    uid: String,
    params: LinfaParams,
    algorithm: P,
    _types: PhantomData<fn() -> (L, E)>,
}

impl<P: Clone, L, E> Clone for LinfaEstimator<P, L, E> {
    fn clone(&self) -> Self {
        Self {
            uid: self.uid.clone(),
            params: self.params.clone(),
            algorithm: self.algorithm.clone(),
            _types: PhantomData,
        }
    }
}

impl<P: Debug, L, E> Debug for LinfaEstimator<P, L, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinfaEstimator")
            .field("uid", &self.uid)
            .field("params", &self.params)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl<P, L, E> LinfaEstimator<P, L, E>
where
    P: Fit<Array2<f64>, Array1<L>, E>,
    E: std::error::Error + From<linfa::Error>,
{
    /// Wraps the linfa algorithm params `algorithm` (for example
    /// `Svm::<f64, bool>::params().gaussian_kernel(80.0)`), with Spark's default columns.
    pub fn new(algorithm: P) -> Self {
        Self {
            uid: random_uid("linfa"),
            params: LinfaParams::default(),
            algorithm,
            _types: PhantomData,
        }
    }
}

impl<P, L, E> LinfaEstimator<P, L, E> {
    /// The column params.
    pub fn params(&self) -> &LinfaParams {
        &self.params
    }
    /// The wrapped linfa params.
    pub fn algorithm(&self) -> &P {
        &self.algorithm
    }
    /// Vector column to learn from; default `"features"`.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// Label column; default `"label"`.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Output column of the fitted model; default `"prediction"`.
    pub fn with_prediction_col(mut self, c: &str) -> Self {
        self.params.prediction_col = c.into();
        self
    }
}

fn output_schema(
    params: &LinfaParams,
    stage: &'static str,
    input: &Schema,
    n: Option<usize>,
) -> Result<Schema> {
    params.validate()?;
    let (_, _, found) = schema::require_vector(input, stage, &params.features_col)?;
    if let Some(expected) = n {
        if expected != found {
            return Err(Error::FeatureCount {
                stage,
                column: params.features_col.clone(),
                expected,
                found,
            });
        }
    }
    schema::append_field(
        input,
        stage,
        Field::new(&params.prediction_col, DataType::Float64, false),
    )
}

impl<P, L, E> Stage for LinfaEstimator<P, L, E>
where
    P: Debug + Send + Sync + 'static,
    L: 'static,
    E: 'static,
{
    fn kind(&self) -> &'static str {
        ESTIMATOR
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        schema::require_numeric(input, ESTIMATOR, &self.params.label_col)?;
        output_schema(&self.params, ESTIMATOR, input, None)
    }
    stage_params!();
}

impl<P, L, E> Estimator for LinfaEstimator<P, L, E>
where
    P: Fit<Array2<f64>, Array1<L>, E> + Clone + Debug + Send + Sync + 'static,
    P::Object: for<'a> PredictInplace<ArrayView2<'a, f64>, Array1<L>>
        + Clone
        + Debug
        + Send
        + Sync
        + 'static,
    L: LinfaLabel,
    E: std::error::Error + From<linfa::Error> + 'static,
{
    type Model = LinfaModel<P::Object, L>;

    fn fit(&self, df: &DataFrame) -> Result<Self::Model> {
        self.transform_schema(df.schema())?;
        if df.num_rows() == 0 {
            return Err(Error::EmptyInput {
                stage: ESTIMATOR,
                hint: "give the linfa algorithm at least one row".into(),
            });
        }
        let (records, targets) = records_and_targets::<L>(
            df,
            ESTIMATOR,
            &self.params.features_col,
            &self.params.label_col,
        )?;
        let n = records.ncols();
        let dataset: DatasetBase<Array2<f64>, Array1<L>> = Dataset::new(records, targets);
        let fitted = catch_unwind(AssertUnwindSafe(|| self.algorithm.fit(&dataset)))
            .map_err(|p| {
                Error::Pipeline(format!(
                    "{ESTIMATOR} {}: the linfa algorithm panicked while fitting: {}",
                    self.uid,
                    panic_message(&p)
                ))
            })?
            .map_err(|e| {
                Error::Pipeline(format!(
                    "{ESTIMATOR} {}: the linfa algorithm failed to fit: {e}",
                    self.uid
                ))
            })?;
        Ok(LinfaModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            num_features: n,
            model: fitted,
            _label: PhantomData,
        })
    }
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

/// A fitted linfa model as an mlpipe [`Model`]: appends `predictionCol` (`Float64`).
pub struct LinfaModel<M, L> {
    uid: String,
    params: LinfaParams,
    num_features: usize,
    model: M,
    _label: PhantomData<fn() -> L>,
}

impl<M: Clone, L> Clone for LinfaModel<M, L> {
    fn clone(&self) -> Self {
        Self {
            uid: self.uid.clone(),
            params: self.params.clone(),
            num_features: self.num_features,
            model: self.model.clone(),
            _label: PhantomData,
        }
    }
}

impl<M: Debug, L> Debug for LinfaModel<M, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinfaModel")
            .field("uid", &self.uid)
            .field("params", &self.params)
            .field("num_features", &self.num_features)
            .field("model", &self.model)
            .finish()
    }
}

impl<M, L> LinfaModel<M, L> {
    /// The fitted linfa model.
    pub fn inner(&self) -> &M {
        &self.model
    }
    /// The number of features the model was fitted on.
    pub fn num_features(&self) -> usize {
        self.num_features
    }
    /// The column params.
    pub fn params(&self) -> &LinfaParams {
        &self.params
    }
}

impl<M, L> Stage for LinfaModel<M, L>
where
    M: Debug + Send + Sync + 'static,
    L: 'static,
{
    fn kind(&self) -> &'static str {
        MODEL
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        output_schema(&self.params, MODEL, input, Some(self.num_features))
    }
    stage_params!();
}

impl<M, L> Transformer for LinfaModel<M, L>
where
    M: for<'a> PredictInplace<ArrayView2<'a, f64>, Array1<L>>
        + Clone
        + Debug
        + Send
        + Sync
        + 'static,
    L: LinfaLabel,
{
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out = self.transform_schema(df.schema())?;
        // linfa reads dense rows: a sparse features column is densified first (same
        // partitions).
        let dense = df.vectors_to_dense(&self.params.features_col)?;
        let views = dense.vector_views(&self.params.features_col)?;
        let chunks = views
            .into_iter()
            .map(|x| {
                let mut y = self.model.default_target(&x);
                catch_unwind(AssertUnwindSafe(|| self.model.predict_inplace(&x, &mut y))).map_err(
                    |p| {
                        Error::Pipeline(format!(
                            "{MODEL} {}: the linfa model panicked while predicting: {}",
                            self.uid,
                            panic_message(&p)
                        ))
                    },
                )?;
                Ok(Arc::new(Float64Array::from_iter_values(
                    y.iter().map(<L as LinfaLabel>::to_f64),
                )) as ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        let field = out.field_with_name(&self.params.prediction_col)?.clone();
        df.with_column(field, chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl<M, L> Model for LinfaModel<M, L>
where
    M: for<'a> PredictInplace<ArrayView2<'a, f64>, Array1<L>>
        + Clone
        + Debug
        + Send
        + Sync
        + 'static,
    L: LinfaLabel,
{
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

/// A fitted linfa model type that mlpipe can save: its class name in mlpipe's layout
/// (not a Spark class; Spark cannot load it) and a serde form.
pub trait LinfaPersist: Serialize + for<'de> Deserialize<'de> {
    /// The class name written into `metadata/`.
    const CLASS: &'static str;
}

impl LinfaPersist for linfa_svm::Svm<f64, bool> {
    const CLASS: &'static str = "mlpipe.interop.LinfaSvmClassifierModel";
}

impl<M: LinfaPersist, L> SparkPersist for LinfaModel<M, L> {
    const SPARK_CLASS: &'static str = M::CLASS;

    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, M::CLASS, &self.uid, &self.params)?;
        let data = dir.join("data");
        std::fs::create_dir_all(&data)
            .map_err(|e| Error::file(&data, format!("cannot create: {e}")))?;
        let json = serde_json::json!({ "numFeatures": self.num_features, "model": &self.model });
        let path = data.join("model.json");
        std::fs::write(&path, json.to_string())
            .map_err(|e| Error::file(&path, format!("cannot write: {e}")))
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Saved<M> {
            num_features: usize,
            model: M,
        }
        let path = dir.join("data").join("model.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::file(&path, format!("cannot read: {e}")))?;
        let saved: Saved<M> = serde_json::from_str(&text)
            .map_err(|e| Error::file(&path, format!("not a saved {}: {e}", M::CLASS)))?;
        Ok(Self {
            uid: md.uid.clone(),
            params: md.params_as(dir)?,
            num_features: saved.num_features,
            model: saved.model,
            _label: PhantomData,
        })
    }
}

/// The linfa-svm binary classifier as a fitted stage, the type the registry loads.
pub type LinfaSvmClassifierModel = LinfaModel<linfa_svm::Svm<f64, bool>, bool>;
