//! Spark's `LinearSVC`: a linear support vector machine (hinge loss, L2 regularisation),
//! fitted with Spark's objective and optimiser so coefficients and iteration counts match.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::optim::hinge::HingeLoss;
use crate::optim::logistic::{block_summary, feature_issue, features_of, Block};
use crate::optim::{Lbfgs, StopReason};
use crate::param::{check_at_least, random_uid, shared_setters, Params};
use crate::persist::{format, Metadata, SparkPersist, Vector};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::predictor::{self, PredictionColumns, PredictionModel, PredictorKind, Row};
use crate::stat::FeatureSummary;

/// The params of [`LinearSVC`] and [`LinearSVCModel`], with Spark's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LinearSVCParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Label column: 0 or 1. Default `"label"`.
    pub label_col: String,
    /// Instance weight column; `None` gives every row weight 1. Default `None`.
    pub weight_col: Option<String>,
    /// Predicted class column (`""` disables it). Default `"prediction"`.
    pub prediction_col: String,
    /// Raw prediction column, `[−m, m]` for the margin `m` (`""` disables it).
    /// Default `"rawPrediction"`.
    pub raw_prediction_col: String,
    /// Maximum optimiser iterations (>= 0). Default 100.
    pub max_iter: usize,
    /// L2 regularisation strength λ (>= 0). Default 0.0.
    pub reg_param: f64,
    /// Convergence tolerance (>= 0). Default 1e-6.
    pub tol: f64,
    /// Whether to fit an intercept. Default true.
    pub fit_intercept: bool,
    /// Whether to penalise the standardised coefficients (the data are standardised inside
    /// the optimiser either way; the model is in the original units). Default true.
    pub standardization: bool,
    /// Predict 1 when the margin `w·x + b` is above this (any real value). Default 0.0.
    pub threshold: f64,
    /// Spark's `treeAggregate` depth (>= 2; no effect on one machine). Default 2.
    pub aggregation_depth: usize,
    /// Spark's block size for stacking rows (>= 0; 0 means 1 MB). Default 0.0.
    #[serde(rename = "maxBlockSizeInMB")]
    pub max_block_size_in_mb: f64,
}

impl Default for LinearSVCParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            weight_col: None,
            prediction_col: "prediction".into(),
            raw_prediction_col: "rawPrediction".into(),
            max_iter: 100,
            reg_param: 0.0,
            tol: 1e-6,
            fit_intercept: true,
            standardization: true,
            threshold: 0.0,
            aggregation_depth: 2,
            max_block_size_in_mb: 0.0,
        }
    }
}

impl LinearSVCParams {
    /// The weight column, if one is set and non-empty.
    pub fn weight_col(&self) -> Option<&str> {
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

impl Params for LinearSVCParams {
    const STAGE: &'static str = "LinearSVC";

    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        check_at_least(s, "regParam", self.reg_param, 0.0)?;
        check_at_least(s, "tol", self.tol, 0.0)?;
        if self.threshold.is_nan() {
            return Err(Error::param(s, "threshold", "a number", self.threshold));
        }
        if self.aggregation_depth < 2 {
            return Err(Error::param(
                s,
                "aggregationDepth",
                ">= 2",
                self.aggregation_depth,
            ));
        }
        check_at_least(s, "maxBlockSizeInMB", self.max_block_size_in_mb, 0.0)
    }
}

/// Spark's `LinearSVC` estimator: a binary linear SVM.
///
/// Minimises the weighted mean hinge loss `max(0, 1 − (2y − 1)(w·x + b))` plus
/// `½λ‖β̃‖²` on the standardised coefficients (`½λ‖w‖²` with `standardization = false`),
/// with breeze's OWL-QN (zero L1 weights) as Spark does, so coefficients and iteration
/// counts match Spark's. Labels must be 0 or 1.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::classification::{LinearSVC, LinearSVCModel};
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = Pipeline::new()
///     .with_transformer(VectorAssembler::new()
///         .with_input_cols(["tenure", "monthly_charges", "num_support_calls"])
///         .with_output_col("features"))
///     .with_estimator(LinearSVC::new().with_label_col("churn").with_reg_param(0.1))
///     .fit(&df)?;
/// let svc = model.stage::<LinearSVCModel>()?;
/// assert_eq!(svc.coefficients().len(), 3);
/// let raw = svc.predict_raw(&[12.0, 80.0, 2.0])?;
/// assert_eq!(raw[0], -raw[1]); // [−margin, margin]
/// # Ok(()) }
/// ```
///
/// # Errors
/// Schema errors as for every stage; [`Error::InvalidValue`] naming the first bad row for
/// a label other than 0 or 1, a negative, NaN or infinite weight, a null vector or a
/// non-finite feature; [`Error::InvalidParam`] when the labels do not give two classes;
/// [`Error::EmptyInput`] when no row has a positive weight.
#[derive(Clone, Debug)]
pub struct LinearSVC {
    uid: String,
    params: LinearSVCParams,
}

impl Default for LinearSVC {
    fn default() -> Self {
        Self::new()
    }
}

/// Rows per block of the parallel passes: about 1 MB of features. Fixed, so sums do not
/// depend on the thread count.
const BLOCK_BYTES: usize = 1 << 20;

impl LinearSVC {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "linearsvc";

    /// A LinearSVC with Spark's defaults.
    pub fn new() -> Self {
        Self::from_params(random_uid(Self::UID_PREFIX), LinearSVCParams::default())
    }

    /// A LinearSVC with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: LinearSVCParams) -> Self {
        Self {
            uid: uid.into(),
            params,
        }
    }

    /// The params.
    pub fn params(&self) -> &LinearSVCParams {
        &self.params
    }
    shared_setters! {
        features_col: "features",
        label_col: "label",
        weight_col: "none (all weights 1)",
        prediction_col: "prediction",
        raw_prediction_col: "rawPrediction",
        max_iter: "100",
        reg_param: "0",
        tol: "1e-6",
        fit_intercept: "true",
        standardization: "true",
    }
    /// Sets `threshold` (on the margin).
    pub fn with_threshold(mut self, v: f64) -> Self {
        self.params.threshold = v;
        self
    }
}

struct PartInput {
    features: arrow::array::ArrayRef,
    labels: Float64Array,
    weights: Option<Float64Array>,
}

/// Statistics of one block: feature moments and the largest label.
struct BlockStats {
    summary: FeatureSummary,
    max_label: f64,
}

impl Stage for LinearSVC {
    fn kind(&self) -> &'static str {
        "LinearSVC"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        let p = &self.params;
        let stage = LinearSVCParams::STAGE;
        schema::require_numeric(input, stage, &p.label_col)?;
        if let Some(w) = p.weight_col() {
            schema::require_numeric(input, stage, w)?;
        }
        predictor::output_schema(
            stage,
            &p.columns(),
            PredictorKind::Classification { num_classes: 2 },
            input,
            None,
        )
    }
}

impl Estimator for LinearSVC {
    type Model = LinearSVCModel;

    fn fit(&self, df: &DataFrame) -> Result<LinearSVCModel> {
        let stage = LinearSVCParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        let (_, label_field) = schema::require_column(df.schema(), stage, &p.label_col)?;
        let meta_classes = super::LogisticRegression::label_metadata_classes(label_field);

        let parts = df.map_partitions(|_, b| {
            let f64_col = |name: &str| -> Result<Float64Array> {
                Ok(cast(schema::batch_column(b, name)?, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone())
            };
            Ok(PartInput {
                features: schema::batch_column(b, &p.features_col)?.clone(),
                labels: f64_col(&p.label_col)?,
                weights: p.weight_col().map(f64_col).transpose()?,
            })
        })?;
        // Each partition's feature chunk, checked once (sizes, sparse indices).
        let views = parts
            .par_iter()
            .enumerate()
            .map(|(pi, part)| {
                let at = vector::At {
                    stage,
                    column: &p.features_col,
                    partition: pi,
                };
                vector::VectorBlock::new(part.features.as_ref(), n, at)
            })
            .collect::<Vec<_>>();
        let views = crate::frame::in_order(views)?;
        let block_rows = (BLOCK_BYTES / (8 * n.max(1))).max(64);
        let mut spans = Vec::new();
        for (pi, part) in parts.iter().enumerate() {
            let rows = part.labels.len();
            let mut r = 0;
            while r < rows {
                let len = block_rows.min(rows - r);
                spans.push((pi, r, len));
                r += len;
            }
        }

        // Statistics pass: validate every row, summarise features and labels.
        let stats = spans
            .par_iter()
            .map(|&(pi, r0, len)| block_stats(&parts[pi], &views[pi], pi, r0, len, p))
            .collect::<Vec<_>>();
        let stats = crate::frame::in_order(stats)?;
        let mut summary = FeatureSummary::empty(n);
        let mut max_label = f64::NEG_INFINITY;
        for s in &stats {
            summary.merge(&s.summary);
            max_label = max_label.max(s.max_label);
        }
        drop(stats);
        if summary.count == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: if df.num_rows() == 0 {
                    "fit needs at least one row".into()
                } else {
                    "every row has weight 0; fit needs at least one row with a positive weight"
                        .into()
                },
            });
        }
        // Spark: the label's metadata, else the largest label + 1; it must be 2.
        let from_data = if max_label >= 1.0 { 2 } else { 1 };
        let num_classes = match meta_classes {
            Some(m) if m >= from_data => m,
            _ => from_data,
        };
        if num_classes != 2 {
            return Err(Error::param(
                stage,
                "labelCol",
                format!("labels of two classes, 0 and 1 (LinearSVC only supports binary classification); column `{}` has", p.label_col),
                format!("{num_classes} class(es)"),
            ));
        }

        let mean = summary.mean();
        let std = summary.std();
        let inv_std: Vec<f64> = std
            .iter()
            .map(|s| if *s != 0.0 { 1.0 / s } else { 0.0 })
            .collect();
        if !p.fit_intercept && std.iter().zip(&mean).any(|(s, m)| *s == 0.0 && *m != 0.0) {
            tracing::warn!("fitting without an intercept on data with a constant non-zero column: its coefficient will be 0 (as R glmnet, unlike LIBSVM)");
        }
        let scaled_mean: Vec<f64> = if p.fit_intercept {
            mean.iter().zip(&inv_std).map(|(m, i)| m * i).collect()
        } else {
            Vec::new()
        };
        let blocks: Vec<Block<'_>> = spans
            .iter()
            .map(|&(pi, r0, len)| {
                let part = &parts[pi];
                Ok(Block {
                    x: features_of(&views[pi], r0, len),
                    y: &part.labels.values()[r0..r0 + len],
                    w: part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]),
                })
            })
            .collect::<Result<_>>()?;
        let mut loss = HingeLoss {
            blocks,
            num_features: n,
            fit_intercept: p.fit_intercept,
            inv_std,
            scaled_mean: scaled_mean.clone(),
            weight_sum: summary.weight_sum,
            reg_l2: p.reg_param,
            standardization: p.standardization,
        };
        let dim = n + usize::from(p.fit_intercept);
        // Spark starts at zeros (its centring shift of the intercept is 0 there) and uses
        // OWL-QN with zero L1 weights, not L-BFGS: orthant projection and backtracking.
        let opt = Lbfgs::new(p.max_iter, 10, p.tol).with_l1(vec![0.0; dim]);
        let min = opt.minimize(&mut loss, vec![0.0; dim], |it| {
            tracing::debug!(
                iteration = it.iteration,
                objective = it.objective,
                gradient_norm = it.gradient_norm,
                "LinearSVC iteration"
            );
        })?;
        if min.reason == StopReason::MaxIterations {
            tracing::warn!(
                iterations = min.objective_history.len() - 1,
                "LinearSVC stopped at maxIter without converging; raise maxIter (or tol) if the objective was still falling"
            );
        }
        let mut sol = min.x;
        if p.fit_intercept {
            let shift: f64 = (0..n).map(|j| sol[j] * scaled_mean[j]).sum();
            sol[n] -= shift;
        }
        let coefficients: Vec<f64> = (0..n)
            .map(|j| if std[j] != 0.0 { sol[j] / std[j] } else { 0.0 })
            .collect();
        let intercept = if p.fit_intercept { sol[n] } else { 0.0 };
        let summary = LinearSVCTrainingSummary {
            total_iterations: min.objective_history.len().saturating_sub(1),
            objective_history: min.objective_history,
            stop_reason: min.reason,
            evaluations: min.evaluations,
        };
        Ok(
            LinearSVCModel::new(self.uid.clone(), p.clone(), coefficients, intercept)
                .with_summary(summary),
        )
    }
}

/// Validates and summarises rows `r0..r0+len` of one partition.
fn block_stats(
    part: &PartInput,
    view: &vector::VectorBlock<'_>,
    pi: usize,
    r0: usize,
    len: usize,
    p: &LinearSVCParams,
) -> Result<BlockStats> {
    let stage = LinearSVCParams::STAGE;
    let bad = |column: &str, row: usize, what: String, hint: &str| Error::InvalidValue {
        stage,
        column: column.to_string(),
        partition: pi,
        row,
        what,
        hint: hint.to_string(),
    };
    let label_hint = "LinearSVC labels must be 0 or 1 (binary classification); index other labels with StringIndexer, or use OneVsRest for more classes";
    let feat_hint = "feature values must be finite; impute them (Imputer) or drop such rows (VectorAssembler with handleInvalid=skip)";
    let weight_hint = "weights must be finite and >= 0";
    let issue = feature_issue(view, r0, len);
    let mut max_label = f64::NEG_INFINITY;
    for r in r0..r0 + len {
        if part.labels.is_null(r) {
            return Err(bad(&p.label_col, r, "null label".into(), label_hint));
        }
        let y = part.labels.value(r);
        if y != 0.0 && y != 1.0 {
            return Err(bad(&p.label_col, r, format!("label {y}"), label_hint));
        }
        max_label = max_label.max(y);
        if let Some(ws) = &part.weights {
            let col = p.weight_col().unwrap_or("");
            if ws.is_null(r) {
                return Err(bad(col, r, "null weight".into(), weight_hint));
            }
            let w = ws.value(r);
            if !(w >= 0.0 && w.is_finite()) {
                return Err(bad(col, r, format!("weight {w}"), weight_hint));
            }
        }
        if let Some((_, what)) = issue.as_ref().filter(|(br, _)| *br == r) {
            return Err(bad(&p.features_col, r, what.clone(), feat_hint));
        }
    }
    let summary = block_summary(
        view,
        r0,
        len,
        part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]),
    );
    Ok(BlockStats { summary, max_label })
}

/// What a [`LinearSVC`] fit reports (Spark's `LinearSVCTrainingSummary` optimiser fields).
#[derive(Clone, Debug, PartialEq)]
pub struct LinearSVCTrainingSummary {
    /// The objective at every optimiser state, the initial one included.
    pub objective_history: Vec<f64>,
    /// `objective_history.len() − 1`.
    pub total_iterations: usize,
    /// Why the optimiser stopped.
    pub stop_reason: StopReason,
    /// Number of loss-and-gradient passes over the data (line searches may take more than
    /// one per iteration).
    pub evaluations: usize,
}

/// A fitted [`LinearSVC`]: `rawPrediction = [−m, m]` with margin `m = w·x + b`, and
/// prediction 1 when `m > threshold`.
///
/// # Examples
/// ```
/// use mlpipe::classification::{LinearSVCModel, LinearSVCParams};
/// let m = LinearSVCModel::new("svc", LinearSVCParams::default(), vec![2.0, -1.0], 0.5);
/// assert_eq!(m.predict_raw(&[1.0, 3.0]).unwrap(), vec![0.5, -0.5]);
/// assert_eq!(m.predict(&[1.0, 3.0]).unwrap(), 0.0);
/// assert_eq!(m.predict(&[1.0, 1.0]).unwrap(), 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct LinearSVCModel {
    uid: String,
    params: LinearSVCParams,
    coefficients: Vec<f64>,
    intercept: f64,
    summary: Option<LinearSVCTrainingSummary>,
}

impl PartialEq for LinearSVCModel {
    fn eq(&self, o: &Self) -> bool {
        self.params == o.params
            && self.coefficients == o.coefficients
            && self.intercept == o.intercept
    }
}

impl LinearSVCModel {
    /// A model from its parts.
    pub fn new(
        uid: impl Into<String>,
        params: LinearSVCParams,
        coefficients: Vec<f64>,
        intercept: f64,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            coefficients,
            intercept,
            summary: None,
        }
    }

    fn with_summary(mut self, s: LinearSVCTrainingSummary) -> Self {
        self.summary = Some(s);
        self
    }

    /// The params.
    pub fn params(&self) -> &LinearSVCParams {
        &self.params
    }
    /// The coefficients `w`, in the original feature units.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }
    /// The intercept `b`.
    pub fn intercept(&self) -> f64 {
        self.intercept
    }
    /// Always 2.
    pub fn num_classes(&self) -> usize {
        2
    }
    /// The number of features.
    pub fn num_features(&self) -> usize {
        self.coefficients.len()
    }
    /// The training summary (only on a freshly fitted model, as in Spark).
    pub fn summary(&self) -> Option<&LinearSVCTrainingSummary> {
        self.summary.as_ref()
    }
    /// Sets the margin threshold.
    pub fn with_threshold(mut self, t: f64) -> Self {
        self.params.threshold = t;
        self
    }
    /// The predicted class (0 or 1) of one row.
    ///
    /// # Errors
    /// When `x` does not have [`num_features`](Self::num_features) values.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        PredictionModel::predict(self, x)
    }
    /// `[−m, m]` for one row.
    ///
    /// # Errors
    /// As [`predict`](Self::predict).
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        PredictionModel::predict_raw(self, x)
    }
}

impl PredictionModel for LinearSVCModel {
    fn stage_name(&self) -> &'static str {
        "LinearSVCModel"
    }
    fn columns(&self) -> PredictionColumns<'_> {
        self.params.columns()
    }
    fn num_features(&self) -> usize {
        self.coefficients.len()
    }
    fn kind(&self) -> PredictorKind {
        PredictorKind::Classification { num_classes: 2 }
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let m = x.dot(&self.coefficients) + self.intercept;
        raw[0] = -m;
        raw[1] = m;
    }
    fn raw_threshold(&self) -> Option<f64> {
        Some(self.params.threshold)
    }
}

impl Stage for LinearSVCModel {
    fn kind(&self) -> &'static str {
        "LinearSVCModel"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        predictor::transform_schema(self, input)
    }
}

impl Transformer for LinearSVCModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        predictor::transform(self, df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for LinearSVCModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(LinearSVC, "org.apache.spark.ml.classification.LinearSVC");

impl SparkPersist for LinearSVCModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.classification.LinearSVCModel";

    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let batch = format::one_row(vec![
            Vector::Dense(self.coefficients.clone()).field_and_array("coefficients")?,
            (
                Field::new("intercept", DataType::Float64, false),
                Arc::new(Float64Array::from(vec![self.intercept])) as ArrayRef,
            ),
        ])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("coefficients", format::vector_udt_json(), true),
                ("intercept", json!("double"), false),
            ]),
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let d = format::read_data(dir)?;
        let coefficients = format::dense_vector(&d, "coefficients", dir)?;
        let intercept = format::f64_value(&d, "intercept", dir)?;
        Ok(Self::new(
            md.uid.clone(),
            md.params_as(dir)?,
            coefficients,
            intercept,
        ))
    }
}

// ---- Row form (crate::row): the shared predictor layer's ----

impl crate::row::RowStage for LinearSVCModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> crate::Result<Option<Box<dyn crate::row::RowOp>>> {
        crate::row::predictor_row_form(self, plan)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_send_sync() {
        fn has<T: Send + Sync>() {}
        has::<super::LinearSVC>();
        has::<super::LinearSVCModel>();
    }
}
