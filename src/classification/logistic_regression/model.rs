//! [`LogisticRegressionModel`] and its [`TrainingSummary`].

use arrow::datatypes::Schema;

use super::params::LogisticRegressionParams;
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::optim::StopReason;
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};
use crate::predictor::{self, PredictionColumns, PredictionModel, PredictorKind, Row};

/// What training recorded (Spark's `LogisticRegressionTrainingSummary`, the parts that
/// do not need the evaluators).
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingSummary {
    /// The objective at every optimiser state, the initial one included.
    pub objective_history: Vec<f64>,
    /// `objective_history.len() - 1`.
    pub total_iterations: usize,
    /// Names of the features, from the feature column's metadata (`<col>_<i>` when absent).
    pub feature_names: Vec<String>,
    /// Why the optimiser stopped (`None` when no optimisation ran).
    pub stop_reason: Option<StopReason>,
    /// Number of loss-and-gradient passes over the data.
    pub evaluations: usize,
}

impl TrainingSummary {
    pub(crate) fn new(objective_history: Vec<f64>, feature_names: Vec<String>) -> Self {
        Self {
            total_iterations: objective_history.len().saturating_sub(1),
            objective_history,
            feature_names,
            stop_reason: None,
            evaluations: 0,
        }
    }
}

/// A fitted logistic regression (Spark's `LogisticRegressionModel`).
///
/// Holds a `C × F` coefficient matrix (C = 1 for binomial, K for multinomial) and `C`
/// intercepts. Besides `transform`, it scores single rows without a DataFrame:
/// [`predict`](Self::predict), [`predict_probability`](Self::predict_probability) and
/// [`predict_raw`](Self::predict_raw).
///
/// # Examples
/// ```
/// use mlpipe::classification::{LogisticRegressionModel, LogisticRegressionParams};
/// let m = LogisticRegressionModel::new("logreg_1", LogisticRegressionParams::default(),
///     vec![2.0, -1.0], vec![0.5], 2, false);
/// assert_eq!(m.predict(&[1.0, 1.0]).unwrap(), 1.0);          // margin 1.5
/// assert_eq!(m.predict_raw(&[0.0, 0.5]).unwrap(), vec![-0.0, 0.0]); // margin 0 predicts 0
/// assert_eq!(m.predict(&[0.0, 0.5]).unwrap(), 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct LogisticRegressionModel {
    uid: String,
    params: LogisticRegressionParams,
    coefficients: Vec<f64>,
    intercepts: Vec<f64>,
    num_classes: usize,
    num_features: usize,
    multinomial: bool,
    summary: Option<TrainingSummary>,
}

impl PartialEq for LogisticRegressionModel {
    fn eq(&self, o: &Self) -> bool {
        self.params == o.params
            && self.coefficients == o.coefficients
            && self.intercepts == o.intercepts
            && self.num_classes == o.num_classes
            && self.multinomial == o.multinomial
    }
}

/// The prediction columns named by `p`.
pub(super) fn columns(p: &LogisticRegressionParams) -> PredictionColumns<'_> {
    PredictionColumns {
        features: &p.features_col,
        prediction: &p.prediction_col,
        raw_prediction: &p.raw_prediction_col,
        probability: &p.probability_col,
    }
}

impl LogisticRegressionModel {
    /// A model from its fitted values: `coefficients` is `C × F` row-major (C = 1 unless
    /// `multinomial`), `intercepts` has C entries.
    pub fn new(
        uid: impl Into<String>,
        params: LogisticRegressionParams,
        coefficients: Vec<f64>,
        intercepts: Vec<f64>,
        num_classes: usize,
        multinomial: bool,
    ) -> Self {
        let c = intercepts.len().max(1);
        Self {
            uid: uid.into(),
            params,
            num_features: coefficients.len() / c,
            coefficients,
            intercepts,
            num_classes,
            multinomial,
            summary: None,
        }
    }

    pub(crate) fn with_summary(mut self, s: TrainingSummary) -> Self {
        self.summary = Some(s);
        self
    }

    /// The params the model was fitted with (and transforms with).
    pub fn params(&self) -> &LogisticRegressionParams {
        &self.params
    }

    /// Sets the binary threshold used by `transform` and `predict`.
    pub fn with_threshold(mut self, t: f64) -> Self {
        self.params.threshold = t;
        self.params.thresholds = None;
        self
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Number of features.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Whether this is a multinomial model.
    pub fn is_multinomial(&self) -> bool {
        self.multinomial
    }

    /// The `C × F` coefficient matrix, row-major.
    pub fn coefficient_matrix(&self) -> &[f64] {
        &self.coefficients
    }

    /// The C intercepts.
    pub fn intercept_vector(&self) -> &[f64] {
        &self.intercepts
    }

    /// The coefficients of a binomial model.
    ///
    /// # Errors
    /// For a multinomial model (use [`coefficient_matrix`](Self::coefficient_matrix)).
    pub fn coefficients(&self) -> Result<&[f64]> {
        if self.multinomial {
            return Err(Error::param(
                LogisticRegressionParams::STAGE,
                "family",
                "binomial for coefficients(); multinomial models have a matrix, use coefficient_matrix()",
                "multinomial",
            ));
        }
        Ok(&self.coefficients)
    }

    /// The intercept of a binomial model.
    ///
    /// # Errors
    /// For a multinomial model (use [`intercept_vector`](Self::intercept_vector)).
    pub fn intercept(&self) -> Result<f64> {
        self.coefficients()?;
        Ok(self.intercepts[0])
    }

    /// The training summary, if the model was fitted in this process (it is not saved).
    pub fn summary(&self) -> Option<&TrainingSummary> {
        self.summary.as_ref()
    }

    /// `(feature name, coefficient)` for a binomial model, in feature order.
    pub fn coefficients_by_name(&self) -> Option<Vec<(String, f64)>> {
        let s = self.summary.as_ref()?;
        if self.multinomial {
            return None;
        }
        Some(
            s.feature_names
                .iter()
                .cloned()
                .zip(self.coefficients.iter().copied())
                .collect(),
        )
    }

    /// Spark's binary summary on `df` (the training data, or any labelled data): the ROC
    /// and PR curves and their areas, scored by `probability[1]` with 1000 bins, as
    /// Spark's `model.binarySummary` / `model.evaluate(df)`. Computed on demand, so a fit
    /// does not pay for a scoring pass it may not need.
    ///
    /// # Errors
    /// For a multinomial model, or when `df` lacks the features or label column.
    pub fn binary_summary(
        &self,
        df: &DataFrame,
    ) -> Result<crate::evaluation::BinaryClassificationMetrics> {
        if self.multinomial {
            return Err(Error::param(
                "LogisticRegressionModel",
                "family",
                "binomial for a binary summary",
                "multinomial",
            ));
        }
        let mut params = self.params.clone();
        params.probability_col = "__mlpipe_probability".into();
        params.raw_prediction_col = String::new();
        params.prediction_col = String::new();
        let scorer = Self {
            params,
            summary: None,
            ..self.clone()
        };
        let scored = scorer.transform(df)?;
        let mut ev = crate::evaluation::BinaryClassificationEvaluator::new()
            .with_raw_prediction_col("__mlpipe_probability")
            .with_label_col(&self.params.label_col);
        if let Some(w) = self.params.weight_col() {
            ev = ev.with_weight_col(w);
        }
        ev.metrics(&scored)
    }

    /// A model built with `new` from inconsistent parts is an error, not a panic later.
    fn check_shape(&self) -> Result<()> {
        let sets = if self.multinomial {
            self.num_classes
        } else {
            1
        };
        if self.intercepts.len() != sets || self.coefficients.len() != sets * self.num_features {
            return Err(Error::param(
                "LogisticRegressionModel",
                "coefficientMatrix",
                format!(
                    "{sets} rows and {sets} intercepts for {} classes",
                    self.num_classes
                ),
                format!(
                    "{} values and {} intercepts",
                    self.coefficients.len(),
                    self.intercepts.len()
                ),
            ));
        }
        Ok(())
    }

    fn margin(&self, k: usize, x: Row<'_>) -> f64 {
        x.dot(&self.coefficients[k * self.num_features..(k + 1) * self.num_features])
            + self.intercepts[k]
    }

    /// The raw prediction (margins) of one row: `[-m, m]` for binomial, `W x + b` for
    /// multinomial.
    pub fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        PredictionModel::predict_raw(self, x)
    }

    /// The class probabilities of one row.
    pub fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
        PredictionModel::predict_probability(self, x)
    }

    /// The predicted class of one row. A binomial margin of exactly 0 predicts 0.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        PredictionModel::predict(self, x)
    }

    /// Length of the raw and probability vectors.
    fn output_len(&self) -> usize {
        if self.multinomial {
            self.num_classes
        } else {
            2
        }
    }
}

impl PredictionModel for LogisticRegressionModel {
    fn stage_name(&self) -> &'static str {
        "LogisticRegressionModel"
    }
    fn columns(&self) -> PredictionColumns<'_> {
        columns(&self.params)
    }
    fn num_features(&self) -> usize {
        self.num_features
    }
    fn kind(&self) -> PredictorKind {
        PredictorKind::Probabilistic {
            num_classes: self.output_len(),
        }
    }
    fn check_model(&self) -> Result<()> {
        self.check_shape()
    }

    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        if self.multinomial {
            for (k, r) in raw.iter_mut().enumerate() {
                *r = self.margin(k, x);
            }
        } else {
            let m = self.margin(0, x);
            raw[0] = -m;
            raw[1] = m;
        }
    }

    fn raw_to_probability_in_place(&self, v: &mut [f64]) {
        if self.multinomial {
            softmax_in_place(v);
        } else {
            v[0] = 1.0 / (1.0 + (-v[0]).exp());
            v[1] = 1.0 - v[0];
        }
    }

    fn thresholds(&self) -> Option<&[f64]> {
        self.params.thresholds.as_deref()
    }

    /// Spark's margin threshold for the binary decision: `ln(t / (1 − t))`, ±∞ at t = 0, 1.
    fn raw_threshold(&self) -> Option<f64> {
        if self.multinomial {
            return None;
        }
        let t = self.params.effective_threshold();
        Some(if t == 0.0 {
            f64::NEG_INFINITY
        } else if t == 1.0 {
            f64::INFINITY
        } else {
            (t / (1.0 - t)).ln()
        })
    }
}

fn softmax_in_place(v: &mut [f64]) {
    if let Some(i) = v.iter().position(|x| *x == f64::INFINITY) {
        v.fill(0.0);
        v[i] = 1.0;
        return;
    }
    let max = v.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for o in v.iter_mut() {
        *o = (*o - max).exp();
        sum += *o;
    }
    for o in v.iter_mut() {
        *o /= sum;
    }
}

impl Stage for LogisticRegressionModel {
    fn kind(&self) -> &'static str {
        "LogisticRegressionModel"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        predictor::transform_schema(self, input)
    }
}

impl Transformer for LogisticRegressionModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        predictor::transform(self, df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for LogisticRegressionModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Row form (crate::row): the shared predictor layer's ----

impl crate::row::RowStage for LogisticRegressionModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> crate::Result<Option<Box<dyn crate::row::RowOp>>> {
        crate::row::predictor_row_form(self, plan)
    }
}
