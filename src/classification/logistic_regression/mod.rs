//! Logistic regression with Spark's exact objective, optimiser and outputs.
//!
//! [`LogisticRegression`] fits binomial or multinomial models with elastic-net
//! regularisation, instance weights and optional bounds (Spark's `org.apache.spark.ml.classification.LogisticRegression`). Training
//! reads the feature column's row-major blocks in place: one statistics pass (means,
//! standard deviations, label counts, input validation), then one fused loss-and-gradient
//! pass per optimiser evaluation, parallel over fixed-size row blocks whose sums merge in
//! a fixed order.

mod model;
mod params;
mod persist;

use std::sync::Arc;

use arrow::array::{Array, Float64Array};
use arrow::datatypes::{Field, Schema};
use rayon::prelude::*;

pub use crate::optim::IterationInfo;
pub use model::{LogisticRegressionModel, TrainingSummary};
pub use params::{Family, LogisticRegressionParams};

use crate::error::{Error, Result};
use crate::frame::vector::AffineMap;
use crate::frame::{schema, vector, DataFrame};
use crate::optim::logistic::{
    block_summary, dense_issue, feature_issue, features_of, Block, Features, LogisticLoss,
};
use crate::optim::{Lbfgs, StopReason};
use crate::param::{random_uid, shared_setters, Params};
use crate::persist::{Matrix, Vector};
use crate::pipeline::view::{FitView, VectorPart};
use crate::pipeline::{stage_params, Estimator, Stage};
use crate::stat::FeatureSummary;

/// Spark's `LogisticRegression` estimator.
///
/// Minimises the weighted mean log-loss plus `λ((1−α)/2‖β̃‖² + α‖β̃‖₁)` in the
/// standardised space, with L-BFGS (OWL-QN when α > 0 and λ > 0; L-BFGS-B when bounds on
/// the coefficients or intercepts are set), breeze's line searches and convergence test,
/// so coefficients and iteration counts match Spark's.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::classification::LogisticRegression;
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = Pipeline::new()
///     .with_transformer(VectorAssembler::new()
///         .with_input_cols(&["tenure", "monthly_charges", "num_support_calls"])
///         .with_output_col("features"))
///     .with_estimator(LogisticRegression::new().with_label_col("churn").with_reg_param(0.1))
///     .fit(&df)?;
/// let lr = model.stage::<mlpipe::classification::LogisticRegressionModel>()?;
/// assert_eq!(lr.coefficients()?.len(), 3);
/// let p = lr.predict_probability(&[12.0, 80.0, 2.0])?;
/// assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
/// # Ok(()) }
/// ```
///
/// # Errors
/// Schema errors as for every stage; [`Error::InvalidValue`] naming the first bad row for
/// a null or non-integer label, a negative or infinite weight, a null vector or a
/// non-finite feature; [`Error::EmptyInput`] when no row has a positive weight.
#[derive(Clone)]
pub struct LogisticRegression {
    uid: String,
    params: LogisticRegressionParams,
    on_iteration: Option<IterationCallback>,
}

/// A function called with every optimiser state during `fit` (for progress bars).
pub type IterationCallback = Arc<dyn Fn(&IterationInfo) + Send + Sync>;

impl std::fmt::Debug for LogisticRegression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogisticRegression")
            .field("uid", &self.uid)
            .field("params", &self.params)
            .field(
                "on_iteration",
                &self.on_iteration.as_ref().map(|_| "callback"),
            )
            .finish()
    }
}

impl Default for LogisticRegression {
    fn default() -> Self {
        Self::new()
    }
}

/// Rows per block of the parallel passes: about 1 MB of features for 20 features. Fixed,
/// so sums do not depend on the thread count.
const BLOCK_BYTES: usize = 1 << 20;

/// The most classes a fit accepts (the coefficient matrix has one row per class).
const MAX_CLASSES: usize = 1 << 20;

impl LogisticRegression {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "logreg";

    /// A LogisticRegression with Spark's defaults.
    pub fn new() -> Self {
        Self::from_params(
            random_uid(Self::UID_PREFIX),
            LogisticRegressionParams::default(),
        )
    }

    /// A LogisticRegression with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: LogisticRegressionParams) -> Self {
        Self {
            uid: uid.into(),
            params,
            on_iteration: None,
        }
    }

    /// Calls `f` with every optimiser state during `fit` (iteration, objective, gradient
    /// norm), e.g. to drive a progress bar. Not a param: it is neither saved nor compared.
    pub fn with_iteration_callback(
        mut self,
        f: impl Fn(&IterationInfo) + Send + Sync + 'static,
    ) -> Self {
        self.on_iteration = Some(Arc::new(f));
        self
    }

    /// The params.
    pub fn params(&self) -> &LogisticRegressionParams {
        &self.params
    }

    shared_setters! {
        features_col: "features",
        label_col: "label",
        weight_col: "none (all weights 1)",
        prediction_col: "prediction",
        probability_col: "probability",
        raw_prediction_col: "rawPrediction",
        max_iter: "100",
        reg_param: "0",
        elastic_net_param: "0",
        tol: "1e-6",
        fit_intercept: "true",
        standardization: "true",
    }
    /// Binary threshold in [0, 1]; default 0.5. Clears `thresholds`, as in Spark.
    pub fn with_threshold(mut self, v: f64) -> Self {
        self.params.threshold = v;
        self.params.thresholds = None;
        self
    }
    /// Per-class thresholds; take precedence over `threshold`.
    pub fn with_thresholds(mut self, v: &[f64]) -> Self {
        self.params.thresholds = Some(v.to_vec());
        self
    }
    /// Model family; default `auto`.
    pub fn with_family(mut self, f: Family) -> Self {
        self.params.family = f;
        self
    }
    /// Lower bounds on the coefficients (1 × F for binomial, K × F for multinomial, in
    /// the original feature space; `-inf` entries are unbounded). Any bound switches the
    /// optimiser to L-BFGS-B and needs `elasticNetParam = 0`. Default none.
    ///
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::classification::LogisticRegression;
    /// use mlpipe::persist::Matrix;
    /// // Non-negative coefficients on three features.
    /// let lr = LogisticRegression::new()
    ///     .with_lower_bounds_on_coefficients(Matrix::new(1, 3, vec![0.0; 3])?);
    /// assert!(lr.params().has_bounds());
    /// # Ok(()) }
    /// ```
    pub fn with_lower_bounds_on_coefficients(mut self, m: Matrix) -> Self {
        self.params.lower_bounds_on_coefficients = Some(m);
        self
    }
    /// Upper bounds on the coefficients, shaped as the lower ones. Default none.
    pub fn with_upper_bounds_on_coefficients(mut self, m: Matrix) -> Self {
        self.params.upper_bounds_on_coefficients = Some(m);
        self
    }
    /// Lower bounds on the intercepts (1 value for binomial, K for multinomial); needs
    /// `fitIntercept`. Default none.
    pub fn with_lower_bounds_on_intercepts(mut self, v: &[f64]) -> Self {
        self.params.lower_bounds_on_intercepts = Some(Vector::Dense(v.to_vec()));
        self
    }
    /// Upper bounds on the intercepts, shaped as the lower ones. Default none.
    pub fn with_upper_bounds_on_intercepts(mut self, v: &[f64]) -> Self {
        self.params.upper_bounds_on_intercepts = Some(Vector::Dense(v.to_vec()));
        self
    }

    /// Number of classes declared by a nominal ML attribute on the label field, if any.
    pub(crate) fn label_metadata_classes(field: &Field) -> Option<usize> {
        let raw = field.metadata().get(vector::ML_ATTR)?;
        let v: serde_json::Value = serde_json::from_str(raw).ok()?;
        if v.get("type").and_then(|t| t.as_str()) != Some("nominal") {
            return None;
        }
        v.get("num_vals")
            .and_then(|n| n.as_u64())
            .map(|n| n as usize)
            .or_else(|| v.get("vals").and_then(|a| a.as_array()).map(|a| a.len()))
    }
}

/// One partition's labels and weights as `f64` (the features stay where they are).
struct PartInput {
    labels: Float64Array,
    weights: Option<Float64Array>,
}

/// One partition's features: a vector column chunk, or a [`FitView`]'s rows (picked
/// and/or mapped).
enum PartFeatures<'a> {
    Arrow(vector::VectorBlock<'a>),
    View(VectorPart<'a>),
}

impl<'a> PartFeatures<'a> {
    /// The map the view's rows go through, if any.
    fn map(&self) -> Option<&'a AffineMap> {
        match self {
            PartFeatures::Arrow(_) => None,
            PartFeatures::View(v) => v.map(),
        }
    }

    /// Rows `r0..r0 + len` for the loss (unmapped: the loss applies the map).
    fn rows(&self, r0: usize, len: usize) -> Features<'a> {
        match self {
            PartFeatures::Arrow(b) => features_of(b, r0, len),
            PartFeatures::View(v) => match v.rows() {
                Some(rows) => Features::Picked {
                    values: v.values(),
                    rows: &rows[r0..r0 + len],
                },
                None => Features::Dense(&v.values()[r0 * v.size()..(r0 + len) * v.size()]),
            },
        }
    }

    /// The partition's row that block row `r` is (for error messages).
    fn source_row(&self, r: usize) -> usize {
        match self {
            PartFeatures::Arrow(_) => r,
            PartFeatures::View(v) => v.source_row(r),
        }
    }

    /// The first problem among rows `r0..r0 + len` (a null vector, a non-finite value,
    /// as mapped) and their weighted summary.
    fn check_and_summarise(
        &self,
        r0: usize,
        len: usize,
        weights: Option<&[f64]>,
    ) -> (Option<(usize, String)>, FeatureSummary) {
        match self {
            PartFeatures::Arrow(b) => (
                feature_issue(b, r0, len),
                block_summary(b, r0, len, weights),
            ),
            PartFeatures::View(v) => {
                let x = v.gather(r0, len);
                let n = v.size();
                let issue = match (r0..r0 + len).find(|&r| v.is_null(r)) {
                    Some(r) => Some((r, "null vector".to_string())),
                    None => dense_issue(&x, n).map(|(i, what)| (r0 + i, what)),
                };
                (issue, FeatureSummary::from_block(&x, n, weights))
            }
        }
    }
}

/// Statistics of one block: feature moments and the weighted label histogram.
struct BlockStats {
    summary: FeatureSummary,
    histogram: std::collections::BTreeMap<usize, f64>,
}

impl Stage for LogisticRegression {
    fn kind(&self) -> &'static str {
        "LogisticRegression"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        let stage = LogisticRegressionParams::STAGE;
        schema::require_numeric(input, stage, &self.params.label_col)?;
        if let Some(w) = self.params.weight_col() {
            schema::require_numeric(input, stage, w)?;
        }
        // The vector length of rawPrediction and probability is the number of classes,
        // known for sure only after fitting: 2 unless the family is multinomial and the
        // label's metadata declares the classes. The fitted model's schema is exact.
        let (_, label) = schema::require_column(input, stage, &self.params.label_col)?;
        let k = match (self.params.family, Self::label_metadata_classes(label)) {
            (Family::Binomial, _) => 2,
            (_, Some(k)) if k > 2 => k,
            _ => 2,
        };
        let kind = crate::predictor::PredictorKind::Probabilistic { num_classes: k };
        crate::predictor::output_schema(stage, &model::columns(&self.params), kind, input, None)
    }
}

impl Estimator for LogisticRegression {
    type Model = LogisticRegressionModel;

    fn fit(&self, df: &DataFrame) -> Result<LogisticRegressionModel> {
        self.fit_view(&FitView::new(df))?.ok_or_else(|| {
            Error::Internal("LogisticRegression could not read a whole frame".into())
        })
    }
}

impl LogisticRegression {
    /// The view's feature rows (`n` values) as the passes read them in place, one part per
    /// partition; `None` when the view must be materialised first (sparse rows, a label or
    /// weight column not in the view's frame).
    fn view_parts<'v>(
        &self,
        view: &'v FitView<'_>,
        n: usize,
    ) -> Result<Option<Vec<VectorPart<'v>>>> {
        let p = &self.params;
        let base = view.base().schema();
        let scalar = std::iter::once(&p.label_col).chain(p.weight_col.as_ref());
        if scalar.into_iter().any(|c| base.index_of(c).is_err()) {
            return Ok(None);
        }
        view.vector_parts(LogisticRegressionParams::STAGE, &p.features_col, n)
    }

    /// Whether [`fit_view`](Self::fit_view) reads `view` in place (a plain view: always).
    pub(crate) fn reads_view(&self, view: &FitView<'_>) -> Result<bool> {
        if view.is_plain() {
            return Ok(true);
        }
        let schema = view.schema()?;
        let stage = LogisticRegressionParams::STAGE;
        let (_, _, n) = schema::require_vector(&schema, stage, &self.params.features_col)?;
        Ok(self.view_parts(view, n)?.is_some())
    }

    /// Fits on a [`FitView`]: the view's picked rows (a fold's training rows) are read in
    /// place and a pending `StandardScalerModel`'s output is computed as the passes read
    /// the scaler's input, a chunk of rows at a time (the same values in the same blocks
    /// as the materialised view, so the same model, bit for bit). `None` when the view
    /// must be materialised first: sparse features, or a label or weight column that is
    /// not in the view's frame.
    pub(crate) fn fit_view(&self, view: &FitView<'_>) -> Result<Option<LogisticRegressionModel>> {
        let stage = LogisticRegressionParams::STAGE;
        let schema = view.schema()?;
        self.transform_schema(&schema)?;
        let p = &self.params;
        let (_, feat_field, n) = schema::require_vector(&schema, stage, &p.features_col)?;
        let feature_names = vector::feature_names_or_default(feat_field);
        let (_, label_field) = schema::require_column(&schema, stage, &p.label_col)?;
        let meta_classes = Self::label_metadata_classes(label_field);

        // Each partition's feature chunk, checked once (sizes, sparse indices).
        let plain = match view.is_plain() {
            true => Some(view.base().column(&p.features_col)?),
            false => None,
        };
        let features: Vec<PartFeatures<'_>> = if let Some(col) = &plain {
            let blocks = col
                .chunks
                .par_iter()
                .enumerate()
                .map(|(pi, chunk)| {
                    let at = vector::At {
                        stage,
                        column: &p.features_col,
                        partition: pi,
                    };
                    vector::VectorBlock::new(chunk.as_ref(), n, at).map(PartFeatures::Arrow)
                })
                .collect::<Vec<_>>();
            crate::frame::in_order(blocks)?
        } else {
            match self.view_parts(view, n)? {
                Some(parts) => parts.into_iter().map(PartFeatures::View).collect(),
                None => return Ok(None),
            }
        };
        let labels = view.f64_parts(&p.label_col)?;
        let mut weights = match p.weight_col() {
            Some(w) => view.f64_parts(w)?.into_iter().map(Some).collect(),
            None => vec![None; labels.len()],
        };
        let parts: Vec<PartInput> = labels
            .into_iter()
            .zip(weights.drain(..))
            .map(|(labels, weights)| PartInput { labels, weights })
            .collect();
        let input_map = features.iter().find_map(PartFeatures::map);

        // Fixed-size row blocks over all partitions: (partition, first row, rows).
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
            .map(|&(pi, r0, len)| block_stats(&parts[pi], &features[pi], pi, r0, len, p))
            .collect::<Vec<_>>();
        let stats = crate::frame::in_order(stats)?;
        let mut summary = FeatureSummary::empty(n);
        // Label weights per class, kept sparse per block so a stray huge label cannot
        // make every block allocate; merged in block order.
        let mut by_label: std::collections::BTreeMap<usize, f64> =
            std::collections::BTreeMap::new();
        for s in &stats {
            summary.merge(&s.summary);
            for (k, w) in &s.histogram {
                *by_label.entry(*k).or_default() += w;
            }
        }
        let classes = by_label.keys().next_back().map_or(0, |k| k + 1);
        if classes > MAX_CLASSES {
            return Err(Error::InvalidValue {
                stage,
                column: p.label_col.clone(),
                partition: 0,
                row: 0,
                what: format!("label {} (it would make {classes} classes)", classes - 1),
                hint: format!("labels must be class indices 0..k-1 with k up to {MAX_CLASSES}; index the labels with StringIndexer first"),
            });
        }
        let mut histogram = vec![0.0; classes];
        for (k, w) in by_label {
            histogram[k] = w;
        }
        drop(stats);
        if summary.count == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: if view.num_rows() == 0 {
                    "fit needs at least one row".into()
                } else {
                    "every row has weight 0; fit needs at least one row with a positive weight"
                        .into()
                },
            });
        }

        let num_classes =
            match meta_classes {
                Some(m) if m >= histogram.len() => m,
                Some(m) => return Err(Error::InvalidValue {
                    stage,
                    column: p.label_col.clone(),
                    partition: 0,
                    row: 0,
                    what: format!(
                        "label metadata declares {m} classes, but label {} occurs",
                        histogram.len() - 1
                    ),
                    hint:
                        "refit the indexer that produced the labels, or drop the column's metadata"
                            .into(),
                }),
                None => histogram.len(),
            };
        let multinomial = match p.family {
            Family::Multinomial => true,
            Family::Binomial => {
                if num_classes > 2 {
                    return Err(Error::param(
                        stage,
                        "family",
                        format!("\"multinomial\" or \"auto\" for {num_classes} classes (binomial supports 1 or 2 outcome classes)"),
                        "\"binomial\"",
                    ));
                }
                false
            }
            Family::Auto => num_classes > 2,
        };
        let c = if multinomial { num_classes } else { 1 };
        if let Some(ts) = &p.thresholds {
            if ts.len() != num_classes {
                return Err(Error::param(
                    stage,
                    "thresholds",
                    format!("a list of {num_classes} values, one per class"),
                    format!("{ts:?}"),
                ));
            }
        }

        let bounds = scaled_bounds_layout(p, c, n, multinomial)?;
        let nonzero_classes = histogram.iter().filter(|h| **h != 0.0).count();
        if nonzero_classes == 1 && p.fit_intercept && bounds.is_none() {
            // Spark: no optimisation; zero coefficients and an infinite intercept.
            let observed = histogram.iter().position(|h| *h != 0.0).unwrap_or(0);
            tracing::warn!(
                label = observed,
                "all labels are the same class; the model predicts it everywhere (coefficients 0, intercept infinite)"
            );
            let intercepts = if multinomial {
                (0..c)
                    .map(|k| if k == observed { f64::INFINITY } else { 0.0 })
                    .collect()
            } else if num_classes == 2 {
                vec![f64::INFINITY]
            } else {
                vec![f64::NEG_INFINITY]
            };
            return Ok(Some(
                LogisticRegressionModel::new(
                    self.uid.clone(),
                    p.clone(),
                    vec![0.0; c * n],
                    intercepts,
                    num_classes,
                    multinomial,
                )
                .with_summary(TrainingSummary::new(vec![0.0], feature_names)),
            ));
        }
        if nonzero_classes == 1 {
            tracing::warn!("all labels are the same class and fitIntercept is false: dangerous ground, the optimiser may not converge");
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
        // Virtual centring changes the intercept's meaning, so Spark turns it off when
        // the intercepts are bounded.
        let intercepts_unbounded = |v: &Option<Vector>, inf: f64| {
            v.as_ref()
                .is_none_or(|v| v.to_dense().iter().all(|b| *b == inf))
        };
        let fit_with_mean = p.fit_intercept
            && intercepts_unbounded(&p.lower_bounds_on_intercepts, f64::NEG_INFINITY)
            && intercepts_unbounded(&p.upper_bounds_on_intercepts, f64::INFINITY);
        let scaled_mean: Vec<f64> = if fit_with_mean {
            mean.iter().zip(&inv_std).map(|(m, i)| m * i).collect()
        } else {
            Vec::new()
        };
        let reg_l1 = p.elastic_net_param * p.reg_param;
        let reg_l2 = (1.0 - p.elastic_net_param) * p.reg_param;

        let dim = c * n + if p.fit_intercept { c } else { 0 };
        let mut x0 = vec![0.0; dim];
        if p.fit_intercept {
            if multinomial {
                let raw: Vec<f64> = (0..c)
                    .map(|k| histogram.get(k).copied().unwrap_or(0.0).ln_1p())
                    .collect();
                let avg = raw.iter().sum::<f64>() / c as f64;
                for k in 0..c {
                    x0[n * c + k] = raw[k] - avg;
                }
            } else if histogram.len() >= 2 {
                x0[n] = (histogram[1] / histogram[0]).ln();
            }
        }
        // Bounds move into the scaled space (coefficient bound × σ); the start is clipped
        // into them, then its intercepts are shifted for the centred parameterisation.
        let bounds = bounds.map(|b| b.scaled(&std));
        if let Some((lower, upper)) = &bounds {
            for i in 0..dim {
                x0[i] = x0[i].max(lower[i]).min(upper[i]);
            }
            if fit_with_mean {
                for k in 0..c {
                    let shift: f64 = (0..n).map(|j| x0[j * c + k] * scaled_mean[j]).sum();
                    x0[n * c + k] += shift;
                }
            }
        }

        let blocks: Vec<Block<'_>> = spans
            .iter()
            .map(|&(pi, r0, len)| {
                let part = &parts[pi];
                Ok(Block {
                    x: features[pi].rows(r0, len),
                    y: &part.labels.values()[r0..r0 + len],
                    w: part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]),
                })
            })
            .collect::<Result<_>>()?;
        let mut loss = LogisticLoss {
            blocks,
            num_features: n,
            num_sets: c,
            fit_intercept: p.fit_intercept,
            inv_std: inv_std.clone(),
            scaled_mean: scaled_mean.clone(),
            weight_sum: summary.weight_sum,
            reg_l2,
            standardization: p.standardization,
            input_map,
        };
        let mut opt = Lbfgs::new(p.max_iter, 10, p.tol);
        if reg_l1 > 0.0 {
            let l1: Vec<f64> = (0..dim)
                .map(|i| {
                    if i >= n * c {
                        0.0
                    } else if p.standardization {
                        reg_l1
                    } else if std[i / c] != 0.0 {
                        reg_l1 / std[i / c]
                    } else {
                        0.0
                    }
                })
                .collect();
            opt = opt.with_l1(l1);
        }
        if let Some((lower, upper)) = bounds.clone() {
            opt = opt.with_bounds(lower, upper);
        }
        let start = std::time::Instant::now();
        let min = opt.minimize(&mut loss, x0, |it| {
            if let Some(cb) = &self.on_iteration {
                cb(it);
            }
            tracing::info!(
                iteration = it.iteration,
                objective = it.objective,
                gradient_norm = it.gradient_norm,
                "LogisticRegression iteration"
            );
        })?;
        if min.reason == StopReason::MaxIterations {
            tracing::warn!(
                iterations = min.objective_history.len() - 1,
                evaluations = min.evaluations,
                seconds = start.elapsed().as_secs_f64(),
                "LogisticRegression stopped at maxIter without converging; raise maxIter (or tol) if the objective was still falling"
            );
        } else {
            tracing::info!(
                iterations = min.objective_history.len() - 1,
                evaluations = min.evaluations,
                reason = ?min.reason,
                seconds = start.elapsed().as_secs_f64(),
                "LogisticRegression converged"
            );
        }

        // Back from the optimiser's scaled, centred, column-major layout.
        let mut sol = min.x;
        if fit_with_mean {
            for k in 0..c {
                let shift: f64 = (0..n).map(|j| sol[j * c + k] * scaled_mean[j]).sum();
                sol[n * c + k] -= shift;
            }
        }
        let mut coef = vec![0.0; c * n];
        for k in 0..c {
            for j in 0..n {
                if std[j] != 0.0 {
                    coef[k * n + j] = sol[j * c + k] / std[j];
                }
            }
        }
        let mut intercepts: Vec<f64> = if p.fit_intercept {
            (0..c).map(|k| sol[n * c + k]).collect()
        } else {
            vec![0.0; c]
        };
        // Spark leaves a bounded multinomial fit as it is: centring could leave the box.
        if multinomial && bounds.is_none() {
            if p.reg_param == 0.0 {
                for j in 0..n {
                    let avg = (0..c).map(|k| coef[k * n + j]).sum::<f64>() / c as f64;
                    for k in 0..c {
                        coef[k * n + j] -= avg;
                    }
                }
            }
            if p.fit_intercept {
                let avg = intercepts.iter().sum::<f64>() / c as f64;
                for b in intercepts.iter_mut() {
                    *b -= avg;
                }
            }
        }
        let mut summary = TrainingSummary::new(min.objective_history, feature_names);
        summary.stop_reason = Some(min.reason);
        summary.evaluations = min.evaluations;
        Ok(Some(
            LogisticRegressionModel::new(
                self.uid.clone(),
                p.clone(),
                coef,
                intercepts,
                num_classes,
                multinomial,
            )
            .with_summary(summary),
        ))
    }
}

/// The bounds of a fit in the optimiser's layout, before scaling: coefficients
/// column-major (`j·c + k`), then the `c` intercepts, ±∞ where unset.
struct BoundsLayout {
    lower: Vec<f64>,
    upper: Vec<f64>,
    c: usize,
    n: usize,
}

impl BoundsLayout {
    /// Coefficient bounds × σ_j, as Spark moves them into the standardised space. For a
    /// constant feature (σ = 0) a finite bound becomes 0 and an infinite one stays
    /// infinite (Spark's `∞ · 0` would be NaN; the coefficient is 0 either way).
    fn scaled(mut self, std: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let coefficients = self.c * self.n;
        for v in [&mut self.lower, &mut self.upper] {
            for (i, b) in v[..coefficients].iter_mut().enumerate() {
                let s = std[i / self.c];
                if b.is_finite() || s != 0.0 {
                    *b *= s;
                }
            }
        }
        (self.lower, self.upper)
    }
}

/// Checks the bound params against the fit's shape (`c` coefficient sets of `n`
/// features) and lays them out; `None` when no bound is set.
fn scaled_bounds_layout(
    p: &LogisticRegressionParams,
    c: usize,
    n: usize,
    multinomial: bool,
) -> Result<Option<BoundsLayout>> {
    if !p.has_bounds() {
        return Ok(None);
    }
    let stage = LogisticRegressionParams::STAGE;
    let kind = if multinomial {
        format!("multinomial regression with {c} classes")
    } else {
        "binomial regression".to_string()
    };
    let dim = c * n + if p.fit_intercept { c } else { 0 };
    let mut lower = vec![f64::NEG_INFINITY; dim];
    let mut upper = vec![f64::INFINITY; dim];
    for (name, m, out) in [
        (
            "lowerBoundsOnCoefficients",
            &p.lower_bounds_on_coefficients,
            &mut lower,
        ),
        (
            "upperBoundsOnCoefficients",
            &p.upper_bounds_on_coefficients,
            &mut upper,
        ),
    ] {
        let Some(m) = m else { continue };
        if m.num_rows != c || m.num_cols != n || m.values.len() != c * n {
            return Err(Error::param(
                stage,
                name,
                format!("a {c}x{n} matrix for {kind} on {n} features"),
                format!("a {}x{} matrix", m.num_rows, m.num_cols),
            ));
        }
        for k in 0..c {
            for j in 0..n {
                out[j * c + k] = m.values[k * n + j];
            }
        }
    }
    for (name, v, out) in [
        (
            "lowerBoundsOnIntercepts",
            &p.lower_bounds_on_intercepts,
            &mut lower,
        ),
        (
            "upperBoundsOnIntercepts",
            &p.upper_bounds_on_intercepts,
            &mut upper,
        ),
    ] {
        let Some(v) = v else { continue };
        let v = v.to_dense();
        if v.len() != c {
            return Err(Error::param(
                stage,
                name,
                format!("{c} value(s) for {kind}"),
                format!("{} values", v.len()),
            ));
        }
        out[c * n..].copy_from_slice(&v);
    }
    let ordered = |i: usize| {
        matches!(lower[i].partial_cmp(&upper[i]), Some(o) if o.is_le())
            && lower[i] != f64::INFINITY
            && upper[i] != f64::NEG_INFINITY
    };
    if let Some(i) = (0..dim).find(|&i| !ordered(i)) {
        let what = if i < c * n {
            format!("coefficient bounds of class {} feature {}", i % c, i / c)
        } else {
            format!("intercept bounds of class {}", i - c * n)
        };
        let param = if i < c * n {
            "lowerBoundsOnCoefficients/upperBoundsOnCoefficients"
        } else {
            "lowerBoundsOnIntercepts/upperBoundsOnIntercepts"
        };
        return Err(Error::param(
            stage,
            param,
            "lower bounds <= upper bounds everywhere, with no NaN, no +inf lower and no -inf upper bound",
            format!("{what}: [{}, {}]", lower[i], upper[i]),
        ));
    }
    Ok(Some(BoundsLayout { lower, upper, c, n }))
}

/// Validates and summarises rows `r0..r0+len` of one partition.
fn block_stats(
    part: &PartInput,
    features: &PartFeatures<'_>,
    pi: usize,
    r0: usize,
    len: usize,
    p: &LogisticRegressionParams,
) -> Result<BlockStats> {
    let stage = LogisticRegressionParams::STAGE;
    // Rows are reported as the partition's rows (a view's picked row as its source row).
    let bad = |column: &str, row: usize, what: String, hint: &str| Error::InvalidValue {
        stage,
        column: column.to_string(),
        partition: pi,
        row: features.source_row(row),
        what,
        hint: hint.to_string(),
    };
    let label_hint = "labels must be whole numbers 0, 1, ..., k-1; index string or arbitrary labels with StringIndexer first";
    let feat_hint = "feature values must be finite; impute them (Imputer) or drop such rows (VectorAssembler with handleInvalid=skip)";
    let labels = &part.labels;
    let weights = part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]);
    let (issue, summary) = features.check_and_summarise(r0, len, weights);
    // Small class indices count in a dense array (a map update per row would dominate
    // the pass); any others in the map. Both add each class's weights in row order.
    const DENSE_CLASSES: usize = 64;
    let mut dense = [0.0f64; DENSE_CLASSES];
    let mut histogram = std::collections::BTreeMap::new();
    for r in r0..r0 + len {
        if labels.is_null(r) {
            return Err(bad(&p.label_col, r, "null label".into(), label_hint));
        }
        let y = labels.value(r);
        if !(y >= 0.0 && y < i32::MAX as f64 && y.fract() == 0.0) {
            return Err(bad(&p.label_col, r, format!("label {y}"), label_hint));
        }
        let w = match &part.weights {
            Some(ws) => {
                if ws.is_null(r) {
                    return Err(bad(
                        p.weight_col().unwrap_or(""),
                        r,
                        "null weight".into(),
                        "weights must be finite and >= 0",
                    ));
                }
                let w = ws.value(r);
                if !(w >= 0.0 && w.is_finite()) {
                    return Err(bad(
                        p.weight_col().unwrap_or(""),
                        r,
                        format!("weight {w}"),
                        "weights must be finite and >= 0",
                    ));
                }
                w
            }
            None => 1.0,
        };
        if let Some((_, what)) = issue.as_ref().filter(|(br, _)| *br == r) {
            return Err(bad(&p.features_col, r, what.clone(), feat_hint));
        }
        if w > 0.0 {
            let k = y as usize;
            if k < DENSE_CLASSES {
                dense[k] += w;
            } else {
                *histogram.entry(k).or_insert(0.0) += w;
            }
        }
    }
    for (k, w) in dense.iter().enumerate() {
        if *w > 0.0 {
            histogram.insert(k, *w);
        }
    }
    Ok(BlockStats { summary, histogram })
}

#[cfg(test)]
mod tests {
    #[test]
    fn is_send_sync() {
        fn has<T: Send + Sync>() {}
        has::<super::LogisticRegression>();
        has::<super::LogisticRegressionModel>();
    }
}
