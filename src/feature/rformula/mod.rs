//! [`RFormula`] and [`RFormulaModel`]: a whole feature pipeline from an R model formula.
//!
//! Spark's sources: `mllib/src/main/scala/org/apache/spark/ml/feature/RFormula.scala`
//! (`RFormula`, `RFormulaModel` and the internal `ColumnPruner` and
//! `VectorAttributeRewriter` stages) and `RFormulaParser.scala` (the formula language,
//! here in `parser.rs`).
//!
//! Fitting builds the inner pipeline Spark builds, stage for stage: a [`StringIndexer`]
//! per string column the terms name (in name order), a [`VectorSizeHint`] per vector
//! column, an [`Interaction`] per interaction term, a [`OneHotEncoder`] for the string
//! terms, a [`VectorAssembler`] into the features column, a [`VectorAttributeRewriter`]
//! that gives the features their R-style names (`a_red`, `a_red:x`), a [`ColumnPruner`]
//! that drops the temporary columns, and a [`StringIndexer`] for a string label (or any
//! label with `forceIndexLabel`). The fitted stages form the model's
//! [`PipelineModel`], saved under `pipelineModel/` as Spark saves it.

mod column_pruner;
mod fused;
pub(crate) mod parser;
mod vector_attribute_rewriter;

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, BooleanArray, ListBuilder, RecordBatch, StringArray, StringBuilder,
};
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use column_pruner::ColumnPruner;
pub use parser::ResolvedFormula;
pub use vector_attribute_rewriter::VectorAttributeRewriter;

use super::{
    Interaction, OneHotEncoder, SizeHintInvalid, StringIndexer, StringOrderType, VectorAssembler,
    VectorSizeHint,
};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{random_uid, HandleInvalid, Params};
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{
    stage_params, Estimator, Model, PipelineModel, PipelineStage, Stage, Transformer,
};

const STAGE: &str = "RFormula";

/// Params of [`RFormula`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RFormulaParams {
    /// The R formula (`y ~ a + b:c - 1`). Required.
    pub formula: Option<String>,
    /// The output features vector column; default `features`.
    pub features_col: String,
    /// The output label column; default `label`.
    pub label_col: String,
    /// Index the label with a StringIndexer even when it is numeric; default false.
    pub force_index_label: bool,
    /// Nulls and unseen categories in string columns (and nulls in the assembled
    /// features): `error` (default), `skip` the row, or `keep` (an extra category / NaN).
    pub handle_invalid: HandleInvalid,
    /// Category order of string FEATURE columns: `frequencyDesc` (default),
    /// `frequencyAsc`, `alphabetDesc`, `alphabetAsc`; the last category is dropped.
    pub string_indexer_order_type: StringOrderType,
}

impl Default for RFormulaParams {
    fn default() -> Self {
        Self {
            formula: None,
            features_col: "features".into(),
            label_col: "label".into(),
            force_index_label: false,
            handle_invalid: HandleInvalid::Error,
            string_indexer_order_type: StringOrderType::FrequencyDesc,
        }
    }
}

impl Params for RFormulaParams {
    const STAGE: &'static str = STAGE;
    fn validate(&self) -> Result<()> {
        self.parsed().map(|_| ())
    }
}

impl RFormulaParams {
    fn parsed(&self) -> Result<parser::ParsedFormula> {
        let f = self.formula.as_deref().ok_or_else(|| {
            Error::param(
                STAGE,
                "formula",
                "set (an R formula such as `y ~ a + b`; Spark: \"Formula must be defined first.\")",
                "unset",
            )
        })?;
        parser::parse(f)
    }

    /// Spark's `checkCanTransform`.
    fn check_can_transform(&self, input: &Schema) -> Result<()> {
        schema::require_absent(input, STAGE, &self.features_col)?;
        // An existing numeric label column is kept (Spark's checkCanTransform); another
        // type is refused (Spark: "Label column already exists and is not of type numeric").
        if let Ok(f) = input.field_with_name(&self.label_col) {
            if !f.data_type().is_numeric() {
                return Err(Error::ColumnExists {
                    stage: STAGE,
                    column: self.label_col.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Fits a feature pipeline from an R model formula (Spark's
/// `org.apache.spark.ml.feature.RFormula`).
///
/// The formula language is Spark's: `y ~ a + b` (label `y`, terms `a` and `b`), `.` (every
/// numeric, string, boolean or vector column but the label), `a:b` (interaction), `a * b`
/// (`a + b + a:b`), `(a + b)^2` (all interactions up to degree 2), `- a` (remove a term),
/// `- 1` or `+ 0` (no intercept), `+ 1`. String columns are indexed by
/// `stringIndexerOrderType` and one-hot encoded with the last category dropped; without an
/// intercept the first string term keeps all its categories, as in R. Numeric and boolean
/// columns pass as numbers, vector columns whole. A string label is indexed (by
/// frequency); a numeric or boolean label is cast to double into `labelCol`.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::RFormula;
/// use mlpipe::frame::vector::feature_names_or_default;
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = RFormula::new().with_formula("churn ~ contract + tenure + contract:tenure").fit(&df)?;
/// let out = model.transform(&df)?;
/// let names = feature_names_or_default(out.schema().field_with_name("features")?);
/// assert_eq!(names, [
///     "contract_month-to-month", "contract_one-year", "tenure",
///     "contract_month-to-month:tenure", "contract_one-year:tenure", "contract_two-year:tenure",
/// ]);
/// assert!(out.schema().field_with_name("label").is_ok()); // churn as double
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a missing formula or one that does not parse (pointing at
/// the position); [`Error::ColumnNotFound`] for a term or label column the data lacks
/// (listing the columns); [`Error::ColumnType`] for a term column RFormula cannot encode;
/// the inner stages' errors for invalid values under `handleInvalid = error`.
#[derive(Clone, Debug)]
pub struct RFormula {
    uid: String,
    params: RFormulaParams,
}

crate::feature::columns::stage_basics!(RFormula, RFormulaParams, "rFormula", |_uid| {
    RFormulaParams::default()
});

impl RFormula {
    /// The R formula (required).
    pub fn with_formula(mut self, f: &str) -> Self {
        self.params.formula = Some(f.into());
        self
    }
    /// The features column; default `features`.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// The label column; default `label`.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Index a numeric label too; default false.
    pub fn with_force_index_label(mut self, v: bool) -> Self {
        self.params.force_index_label = v;
        self
    }
    /// `error` (default), `skip` or `keep`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
    /// Category order of string feature columns; default frequencyDesc.
    pub fn with_string_indexer_order_type(mut self, o: StringOrderType) -> Self {
        self.params.string_indexer_order_type = o;
        self
    }

    /// Whether the formula keeps the intercept (no `- 1` / `+ 0`): for the model fitted
    /// on the features.
    ///
    /// # Errors
    /// A missing or unparsable formula.
    pub fn has_intercept(&self) -> Result<bool> {
        Ok(self.params.parsed()?.has_intercept())
    }

    /// Resolves the formula on `input` and checks every column it names.
    fn resolve(&self, input: &Schema) -> Result<ResolvedFormula> {
        let p = &self.params;
        let parsed = p.parsed()?;
        let formula = p.formula.as_deref().unwrap_or_default();
        let resolved = parsed.resolve(input, formula)?;
        for c in resolved.terms.iter().flatten() {
            let (_, f) = schema::require_column(input, STAGE, c)?;
            if term_kind(f).is_none() {
                return Err(Error::ColumnType {
                    stage: STAGE,
                    column: c.clone(),
                    expected: "a numeric, boolean, string or vector column".into(),
                    found: f.data_type().clone(),
                });
            }
        }
        if p.force_index_label {
            if input.field_with_name(&p.label_col).is_ok() {
                return Err(Error::param(
                    STAGE,
                    "forceIndexLabel",
                    format!("false when the label column `{}` already exists (Spark: \"If label column already exists, forceIndexLabel can not be set with true.\")", p.label_col),
                    "true",
                ));
            }
            schema::require_column(input, STAGE, &resolved.label)?;
        }
        Ok(resolved)
    }

    /// The inner stages Spark's `RFormula.fit` builds, in order.
    fn inner_stages(&self, input: &Schema, r: &ResolvedFormula) -> Result<Vec<PipelineStage>> {
        let p = &self.params;
        let mut stages: Vec<PipelineStage> = Vec::new();
        let mut prefixes: Vec<(String, String)> = Vec::new();
        let mut temp: Vec<String> = Vec::new();
        let mut tmp = |category: &str| {
            let c = random_uid(category);
            temp.push(c.clone());
            c
        };
        let kind = |c: &str| -> TermKind {
            input
                .field_with_name(c)
                .ok()
                .and_then(term_kind)
                .unwrap_or(TermKind::Numeric)
        };

        // Index each string column the terms name, in name order.
        let mut names: Vec<&String> = r.terms.iter().flatten().collect();
        names.sort();
        names.dedup();
        let mut indexed: Vec<(String, String)> = Vec::new();
        for term in names {
            match kind(term) {
                TermKind::String => {
                    let idx = tmp("stridx");
                    stages.push(PipelineStage::Estimator(Box::new(
                        StringIndexer::new()
                            .with_input_col(term)
                            .with_output_col(&idx)
                            .with_string_order_type(p.string_indexer_order_type)
                            .with_handle_invalid(p.handle_invalid),
                    )));
                    prefixes.push((format!("{idx}_"), format!("{term}_")));
                    indexed.push((term.clone(), idx));
                }
                TermKind::Vector(size) => {
                    stages.push(PipelineStage::Transformer(Box::new(
                        VectorSizeHint::from_params(self.uid.clone(), Default::default())
                            .with_handle_invalid(SizeHintInvalid::Optimistic)
                            .with_input_col(term)
                            .with_size(size as i32),
                    )));
                }
                TermKind::Numeric => {}
            }
        }
        let indexed_name = |c: &String| -> String {
            indexed
                .iter()
                .find(|(t, _)| t == c)
                .map_or_else(|| c.clone(), |(_, i)| i.clone())
        };

        // One-hot encoding and interactions.
        let mut keep_reference = false;
        let mut one_hot: Vec<(String, String)> = Vec::new();
        let mut encoded: Vec<String> = Vec::new();
        for t in &r.terms {
            match t.as_slice() {
                [term] if kind(term) == TermKind::String => {
                    let enc = tmp("onehot");
                    if !r.has_intercept && !keep_reference {
                        // Without an intercept the first string term keeps every category.
                        stages.push(PipelineStage::Estimator(Box::new(
                            OneHotEncoder::from_params(self.uid.clone(), Default::default())
                                .with_input_cols([indexed_name(term)])
                                .with_output_cols([&enc])
                                .with_drop_last(false),
                        )));
                        keep_reference = true;
                    } else {
                        one_hot.push((indexed_name(term), enc.clone()));
                    }
                    prefixes.push((format!("{enc}_"), format!("{term}_")));
                    encoded.push(enc);
                }
                [term] => encoded.push(term.clone()),
                terms => {
                    let col = tmp("interaction");
                    stages.push(PipelineStage::Transformer(Box::new(
                        Interaction::new()
                            .with_input_cols(terms.iter().map(indexed_name))
                            .with_output_col(&col),
                    )));
                    prefixes.push((format!("{col}_"), String::new()));
                    encoded.push(col);
                }
            }
        }
        if !one_hot.is_empty() {
            stages.push(PipelineStage::Estimator(Box::new(
                OneHotEncoder::from_params(self.uid.clone(), Default::default())
                    .with_input_cols(one_hot.iter().map(|(i, _)| i))
                    .with_output_cols(one_hot.iter().map(|(_, o)| o))
                    .with_drop_last(true),
            )));
        }
        stages.push(PipelineStage::Transformer(Box::new(
            VectorAssembler::from_params(self.uid.clone(), Default::default())
                .with_input_cols(&encoded)
                .with_output_col(&p.features_col)
                .with_handle_invalid(p.handle_invalid),
        )));
        stages.push(PipelineStage::Transformer(Box::new(
            VectorAttributeRewriter::new(&p.features_col, prefixes),
        )));
        stages.push(PipelineStage::Transformer(Box::new(ColumnPruner::new(
            temp,
        ))));
        let string_label = input
            .field_with_name(&r.label)
            .is_ok_and(|f| term_kind(f) == Some(TermKind::String));
        if string_label || p.force_index_label {
            stages.push(PipelineStage::Estimator(Box::new(
                StringIndexer::new()
                    .with_input_col(&r.label)
                    .with_output_col(&p.label_col)
                    .with_handle_invalid(p.handle_invalid),
            )));
        }
        Ok(stages)
    }
}

/// How a term column is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TermKind {
    Numeric,
    String,
    Vector(usize),
}

fn term_kind(f: &Field) -> Option<TermKind> {
    match f.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Some(TermKind::String),
        DataType::Dictionary(k, v)
            if k.is_dictionary_key_type()
                && matches!(
                    **v,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
        {
            Some(TermKind::String)
        }
        dt if schema::is_numeric(dt) => Some(TermKind::Numeric),
        _ => vector::field_vector_size(f).map(TermKind::Vector),
    }
}

impl Stage for RFormula {
    fn kind(&self) -> &'static str {
        "RFormula"
    }
    stage_params!();
    /// The model's output schema: the inner stages' schemas folded from `input` (the
    /// features' size is only known after fitting when string terms are one-hot encoded),
    /// then the label column.
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.check_can_transform(input)?;
        let r = self.resolve(input)?;
        let mut schema = input.clone();
        for s in self.inner_stages(input, &r)? {
            schema = match &s {
                PipelineStage::Transformer(t) => t.transform_schema(&schema)?,
                PipelineStage::Estimator(e) => e.transform_schema(&schema)?,
            };
        }
        with_label(input, schema, &r.label, &self.params.label_col)
    }
}

/// Spark's `transformLabel` on a schema: when the formula has a label, `input` has it and
/// `after` (the inner pipeline's output) lacks `labelCol`, `labelCol` is added as a double
/// (from a numeric or boolean label; another type is an error).
fn with_label(input: &Schema, after: Schema, label: &str, label_col: &str) -> Result<Schema> {
    match label_source(input, &after, label, label_col)? {
        None => Ok(after),
        Some(f) => schema::append_field(
            &after,
            "RFormulaModel",
            Field::new(label_col, DataType::Float64, f.is_nullable()),
        ),
    }
}

/// The label column `transform` casts into `labelCol`, if any (see [`with_label`]).
fn label_source<'a>(
    input: &'a Schema,
    after: &Schema,
    label: &str,
    label_col: &str,
) -> Result<Option<&'a Field>> {
    if label.is_empty() || after.field_with_name(label_col).is_ok() {
        return Ok(None);
    }
    let Ok(f) = input.field_with_name(label) else {
        return Ok(None);
    };
    if !schema::is_numeric(f.data_type()) {
        return Err(Error::ColumnType {
            stage: "RFormulaModel",
            column: f.name().clone(),
            expected: "a numeric or boolean label (Spark: \"Unsupported type for label\"); the formula was fitted with a numeric label".into(),
            found: f.data_type().clone(),
        });
    }
    Ok(Some(f))
}

impl Estimator for RFormula {
    type Model = RFormulaModel;

    fn fit(&self, df: &DataFrame) -> Result<RFormulaModel> {
        self.fit_with(df, true)
    }
}

impl RFormula {
    /// `fit`, with the indexers whose output no later estimator reads applied to the
    /// schema only (`lazy`), or to the data as the stages come (for the tests that
    /// compare the two).
    fn fit_with(&self, df: &DataFrame, lazy: bool) -> Result<RFormulaModel> {
        self.params.check_can_transform(df.schema())?;
        let resolved = self.resolve(df.schema())?;
        let stages = self.inner_stages(df.schema(), &resolved)?;
        // Spark's Pipeline.fit: fit each estimator on the data transformed by the stages
        // before it; the data go only up to the last estimator (the stages after it are
        // used as they are, nothing reads their output). (Pipeline itself refuses two
        // stages with one uid, and Spark's inner OneHotEncoder and VectorAssembler both
        // carry the RFormula's uid.)
        let last = stages
            .iter()
            .rposition(|s| matches!(s, PipelineStage::Estimator(_)));
        //
        // Only what a later estimator reads is computed: a OneHotEncoder counts the
        // categories of an indexed column from its metadata and reads no rows, so the
        // StringIndexerModels before it are applied to the data only when an estimator
        // that reads rows follows (a string label's indexer), and otherwise only to the
        // schema (`shape`, no rows). An indexer that would refuse a row (a null under
        // `error`) is applied to the data at once, so the fit fails as it always did.
        let mut current = df.clone();
        let mut shape = DataFrame::empty(df.schema().clone());
        let mut pending: Vec<usize> = Vec::new();
        let mut fitted: Vec<Box<dyn Transformer>> = Vec::with_capacity(stages.len());
        for (i, s) in stages.into_iter().enumerate() {
            let t: Box<dyn Transformer> = match s {
                PipelineStage::Transformer(t) => t,
                PipelineStage::Estimator(e)
                    if lazy && fits_from_schema(e.as_ref(), shape.schema()) =>
                {
                    e.fit_dyn(&shape)?
                }
                PipelineStage::Estimator(e) => {
                    for j in pending.drain(..) {
                        current = fitted[j].transform(&current)?;
                    }
                    e.fit_dyn(&current)?
                }
            };
            if last.is_some_and(|l| i < l) {
                shape = t.transform(&shape)?;
                if lazy && deferrable(t.as_ref(), &current)? {
                    pending.push(i);
                } else {
                    for j in pending.drain(..) {
                        current = fitted[j].transform(&current)?;
                    }
                    current = t.transform(&current)?;
                }
            }
            fitted.push(t);
        }
        // The stages from the last estimator on see no data at fit. They run here on no
        // rows, so that what they refuse from the columns alone (an interaction of a
        // vector without attribute metadata) still fails the fit, at no cost.
        let mut probe = DataFrame::empty(shape.schema().clone());
        for t in &fitted[last.unwrap_or(0)..] {
            probe = t.transform(&probe)?;
        }
        Ok(RFormulaModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            resolved,
            pipeline: PipelineModel::new(self.uid.clone(), fitted),
        })
    }
}

/// A numeric or boolean label column as doubles, as `cast` to Float64 gives them; an
/// integer column's values written into pooled output memory (`buffer::par_build_buffer`:
/// no fresh pages to fault in), with its nulls.
fn label_as_double(a: &ArrayRef) -> Result<ArrayRef> {
    let values = crate::frame::buffer::numeric_as_f64(a)?;
    Ok(Arc::new(arrow::array::Float64Array::new(values, a.logical_nulls())) as ArrayRef)
}

/// Whether estimator `e` fits from `schema` alone: a [`OneHotEncoder`] whose every input
/// carries its category count in its metadata (as an indexer's output does).
fn fits_from_schema(e: &dyn crate::pipeline::DynEstimator, schema: &Schema) -> bool {
    let Some(ohe) = (e as &dyn std::any::Any).downcast_ref::<OneHotEncoder>() else {
        return false;
    };
    use super::columns::InOutCols;
    ohe.params().pairs("OneHotEncoder").is_ok_and(|pairs| {
        pairs.iter().all(|(ic, _)| {
            schema
                .field_with_name(ic)
                .is_ok_and(|f| super::one_hot_encoder::metadata_categories(f).is_some())
        })
    })
}

/// Whether fitted stage `t` may be applied to `current`'s rows later (only if a later
/// estimator reads them): a [`StringIndexerModel`] that neither refuses nor drops a row
/// of it (under `keep`, or when its inputs have no null: at fit every other value is one
/// of its labels). A row `skip` drops must be gone before the next indexer counts.
fn deferrable(t: &dyn Transformer, current: &DataFrame) -> Result<bool> {
    let Some(si) = t.downcast_ref::<super::StringIndexerModel>() else {
        return Ok(false);
    };
    if si.params().handle_invalid == HandleInvalid::Keep {
        return Ok(true);
    }
    use super::columns::InOutCols;
    for (ic, _) in si.params().pairs("StringIndexerModel")? {
        if current.schema().field_with_name(&ic).is_err() {
            return Ok(false);
        }
        if current
            .column(&ic)?
            .chunks
            .iter()
            .any(|c| c.logical_null_count() > 0)
        {
            return Ok(false);
        }
    }
    Ok(true)
}

crate::persist::spark_params_only!(RFormula, "org.apache.spark.ml.feature.RFormula");

/// A fitted [`RFormula`] (Spark's `org.apache.spark.ml.feature.RFormulaModel`): the
/// resolved formula and the fitted inner [`PipelineModel`].
///
/// `transform` runs the inner pipeline (adding the features column) and then the label:
/// a numeric or boolean label column is cast to double into `labelCol`. A frame without
/// the label column transforms too (no label is added), so the model scores unlabelled
/// data; an existing `labelCol` is kept as it is.
///
/// Saved in Spark's layout (`metadata/`, `data/` with `label`, `terms` and
/// `hasIntercept`, and the inner pipeline under `pipelineModel/`), so PySpark loads it and
/// mlpipe loads PySpark's.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::{RFormula, RFormulaModel};
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = RFormula::new().with_formula("churn ~ . - customer_id - total_charges").fit(&df)?;
/// let dir = tempfile::tempdir().unwrap();
/// model.save(dir.path().join("rf"))?;
/// let back = RFormulaModel::load(dir.path().join("rf"))?;
/// assert_eq!(back.resolved_formula(), model.resolved_formula());
/// let unlabelled = df.drop(["churn"])?;
/// let out = back.transform(&unlabelled)?;
/// assert!(out.schema().field_with_name("label").is_err());
/// assert_eq!(out.num_rows(), df.num_rows());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnExists`] when the features column exists; [`Error::ColumnType`] when an
/// existing label column is not numeric; [`Error::ColumnNotFound`] for a term column the
/// data lacks; the inner stages' errors.
#[derive(Clone, Debug)]
pub struct RFormulaModel {
    uid: String,
    params: RFormulaParams,
    resolved: ResolvedFormula,
    pipeline: PipelineModel,
}

impl RFormulaModel {
    /// A model from its parts (as loaded from disk).
    pub fn new(
        uid: impl Into<String>,
        params: RFormulaParams,
        resolved: ResolvedFormula,
        pipeline: PipelineModel,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            resolved,
            pipeline,
        }
    }
    /// The params.
    pub fn params(&self) -> &RFormulaParams {
        &self.params
    }
    /// The resolved formula: label, terms, intercept.
    pub fn resolved_formula(&self) -> &ResolvedFormula {
        &self.resolved
    }
    /// The fitted inner pipeline.
    pub fn pipeline_model(&self) -> &PipelineModel {
        &self.pipeline
    }
    /// Loads an RFormulaModel saved by Spark or mlpipe.
    ///
    /// # Errors
    /// [`Error::File`] for a missing or corrupt directory or another stage's directory.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self> {
        crate::persist::read_as(dir.as_ref())
    }
}

impl Stage for RFormulaModel {
    fn kind(&self) -> &'static str {
        "RFormulaModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.check_can_transform(input)?;
        // Every column the terms name, checked here so that the error lists the input's
        // columns (not the inner pipeline's temporary ones).
        for c in self.resolved.terms.iter().flatten() {
            schema::require_column(input, "RFormulaModel", c)?;
        }
        let with = self.pipeline.transform_schema(input)?;
        with_label(input, with, &self.resolved.label, &self.params.label_col)
    }
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        self.pipeline.skipped_columns(input)
    }
}

impl RFormulaModel {
    /// `transform`, with the fused features pass allowed or not (the staged pipeline
    /// alone, for the tests that compare the two).
    fn transform_with(&self, df: &DataFrame, allow_fused: bool) -> Result<DataFrame> {
        self.transform_schema(df.schema())?;
        // The string and numeric terms' features in one pass when the inner pipeline has
        // the common shape; the stages one by one otherwise (and for the rows the fused
        // path leaves to them), with the same output.
        let plan = if allow_fused {
            fused::Fused::plan(&self.pipeline, df.schema())
        } else {
            None
        };
        let fused = match plan {
            Some(f) => f.transform(&self.pipeline, df)?,
            None => None,
        };
        let out = match fused {
            Some(out) => out,
            None => self.pipeline.transform(df)?,
        };
        let p = &self.params;
        let Some(f) = label_source(
            df.schema(),
            out.schema(),
            &self.resolved.label,
            &p.label_col,
        )?
        else {
            return Ok(out);
        };
        let f = f.clone();
        let chunks = out.map_partitions(|_, b| {
            let a = schema::batch_column(b, f.name())?;
            label_as_double(a)
        })?;
        out.with_column(
            Field::new(&self.params.label_col, DataType::Float64, f.is_nullable()),
            chunks,
        )
    }
}

impl Transformer for RFormulaModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.transform_with(df, true)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for RFormulaModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

impl SparkPersist for RFormulaModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.RFormulaModel";
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let mut terms = ListBuilder::new(ListBuilder::new(StringBuilder::new()));
        for t in &self.resolved.terms {
            for c in t {
                terms.values().values().append_value(c);
            }
            terms.values().append(true);
        }
        terms.append(true);
        let terms: ArrayRef = Arc::new(terms.finish());
        let label: ArrayRef = Arc::new(StringArray::from(vec![self.resolved.label.clone()]));
        let icpt: ArrayRef = Arc::new(BooleanArray::from(vec![self.resolved.has_intercept]));
        let batch = format::one_row(vec![
            (Field::new("label", DataType::Utf8, true), label),
            (Field::new("terms", terms.data_type().clone(), true), terms),
            (Field::new("hasIntercept", DataType::Boolean, false), icpt),
        ])?;
        let strings = json!({"type": "array", "elementType": "string", "containsNull": true});
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("label", json!("string"), true),
                (
                    "terms",
                    json!({"type": "array", "elementType": strings, "containsNull": true}),
                    true,
                ),
                ("hasIntercept", json!("boolean"), false),
            ]),
        )?;
        let pm = dir.join("pipelineModel");
        std::fs::create_dir_all(&pm)
            .map_err(|e| Error::file(&pm, format!("cannot create: {e}")))?;
        self.pipeline.write_spark(&pm)
    }
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        use arrow::array::AsArray;
        let d: RecordBatch = format::read_data(dir)?;
        let bad = |what: &str| Error::file(dir.join("data"), what.to_string());
        let label = format::string_list(format::column(&d, "label", dir)?, dir)?
            .into_iter()
            .next()
            .ok_or_else(|| bad("`label` is empty"))?;
        let outer = format::column(&d, "terms", dir)?
            .as_list_opt::<i32>()
            .ok_or_else(|| bad("`terms` is not a list"))?;
        let row = outer.value(0);
        let inner = row
            .as_list_opt::<i32>()
            .ok_or_else(|| bad("`terms` is not a list of lists"))?;
        let terms = (0..inner.len())
            .map(|i| format::string_list(&inner.value(i), dir))
            .collect::<Result<Vec<_>>>()?;
        let icpt = format::column(&d, "hasIntercept", dir)?
            .as_boolean_opt()
            .ok_or_else(|| bad("`hasIntercept` is not a boolean"))?;
        if icpt.is_empty() || icpt.is_null(0) {
            return Err(bad("`hasIntercept` is empty"));
        }
        let pipeline: PipelineModel = crate::persist::read_as(&dir.join("pipelineModel"))?;
        Ok(Self {
            uid: md.uid.clone(),
            params: md.params_as(dir)?,
            resolved: ResolvedFormula {
                label,
                terms,
                has_intercept: icpt.value(0),
            },
            pipeline,
        })
    }
}

// ---- Row form (crate::row) ----

/// The inner stages' row forms in order, then the label cast.
#[derive(Debug)]
struct RFormulaRow {
    inner: Vec<Box<dyn crate::row::RowOp>>,
    label: Option<(crate::row::NumIn, crate::row::NumOut)>,
}

impl crate::row::RowStage for RFormulaModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let input = plan.schema().clone();
        let mut inner = Vec::new();
        for s in self.pipeline.stages() {
            if let Some(op) = crate::row::compile_stage(s.as_ref(), plan)? {
                inner.push(op);
            }
        }
        let after = plan.schema().clone();
        let label =
            match label_source(&input, &after, &self.resolved.label, &self.params.label_col)? {
                Some(f) => {
                    let src = plan.num_input(f.name())?;
                    Some((src, plan.add_num(&self.params.label_col)))
                }
                None => None,
            };
        Ok(Some(Box::new(RFormulaRow { inner, label })))
    }
}

impl crate::row::RowOp for RFormulaRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        for op in &self.inner {
            if op.run(row)? == crate::row::Flow::Drop {
                return Ok(crate::row::Flow::Drop);
            }
        }
        if let Some((src, out)) = self.label {
            let v = row.num(src);
            row.set_num(out, v);
        }
        Ok(crate::row::Flow::Next)
    }
}
