//! [`LinearRegression`] (Spark's `org.apache.spark.ml.regression.LinearRegression`) and
//! [`LinearRegressionModel`].
//!
//! Two solvers, chosen as Spark chooses them, and Huber loss:
//! - **normal** (`solver = "normal"`, or `"auto"` with at most 4096 features): one pass
//!   over the data gathers the weighted sufficient statistics (Σw, Σwb, Σwb², Σwa, Σwba,
//!   Σwaaᵀ); the normal equations are solved in the standardised space by Cholesky, or by
//!   OWL-QN on the same quadratic when the penalty has an L1 part (Spark's
//!   `WeightedLeastSquares`); a singular system falls back to L-BFGS without L1, as Spark
//!   does. Without regularisation the summary has coefficient standard errors, t-values and
//!   p-values.
//! - **l-bfgs**: L-BFGS (OWL-QN with an L1 part) on Spark's scaled least-squares objective,
//!   features scaled by their sample std and labels by theirs; one loss-and-gradient pass
//!   over the data per evaluation.
//! - **huber** (`loss = "huber"`, always iterative): Spark's Huber objective with the scale σ
//!   fitted jointly by L-BFGS-B; the model's `scale` is σ.
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use std::sync::Arc;
//! use mlpipe::arrow::array::{Float64Array, RecordBatch};
//! use mlpipe::arrow::datatypes::{DataType, Field, Schema};
//! use mlpipe::frame::vector;
//! use mlpipe::prelude::*;
//! use mlpipe::regression::LinearRegression;
//!
//! // y = 2·x₀ − x₁ + 1 exactly.
//! let xs = [[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 5.0], [1.0, 2.0]];
//! let ys: Vec<f64> = xs.iter().map(|x| 2.0 * x[0] - x[1] + 1.0).collect();
//! let schema = Arc::new(Schema::new(vec![
//!     vector::vector_field("features", 2, false),
//!     Field::new("label", DataType::Float64, false),
//! ]));
//! let feats = vector::vector_array(xs.iter().flatten().copied().collect(), 2, None)?;
//! let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(feats), Arc::new(Float64Array::from(ys))])?;
//! let df = DataFrame::try_new(schema, vec![batch])?;
//!
//! let model = LinearRegression::new().fit(&df)?;
//! assert!((model.coefficients()[0] - 2.0).abs() < 1e-9);
//! assert!((model.intercept() - 1.0).abs() < 1e-9);
//! assert!((model.predict(&[1.0, 1.0])? - 2.0).abs() < 1e-9);
//! # Ok(()) }
//! ```

use arrow::array::{Array, ArrayRef, AsArray, FixedSizeListArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type, Schema};
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::evaluation::RegressionMetrics;
use crate::frame::kernels::Gram;
use crate::frame::{schema, vector, DataFrame};
use crate::optim::logistic::{binary_pass, BinaryLink, Block, Features};
use crate::optim::{DiffFunction, Lbfgs};
use crate::param::{check_at_least, check_in_range, random_uid, shared_setters, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::predictor::{self, PredictionColumns, PredictionModel, PredictorKind, Row};
use crate::stat::FeatureSummary;

/// Spark's `WeightedLeastSquares.MAX_NUM_FEATURES`: `auto` uses the normal solver up to
/// this many features.
const MAX_NORMAL_FEATURES: usize = 4096;

/// Params of [`LinearRegression`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LinearRegressionParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Numeric label column. Default `"label"`.
    pub label_col: String,
    /// Instance weight column; `None` (or `""`) gives every row weight 1. Default `None`.
    pub weight_col: Option<String>,
    /// Prediction column (`""` disables it). Default `"prediction"`.
    pub prediction_col: String,
    /// Regularisation strength λ (>= 0). Default 0.
    pub reg_param: f64,
    /// Elastic-net mix α in [0, 1]: 0 is L2, 1 is L1. Default 0.
    pub elastic_net_param: f64,
    /// Maximum number of optimiser iterations (>= 0). Default 100.
    pub max_iter: usize,
    /// Convergence tolerance (>= 0). Default 1e-6.
    pub tol: f64,
    /// Fit an intercept. Default true.
    pub fit_intercept: bool,
    /// Penalise coefficients in the standardised space. Default true.
    pub standardization: bool,
    /// `"auto"`, `"normal"` or `"l-bfgs"`. Default `"auto"`.
    pub solver: String,
    /// `"squaredError"` or `"huber"`. Default `"squaredError"`.
    pub loss: String,
    /// Huber's shape parameter (> 1). Default 1.35.
    pub epsilon: f64,
    /// Spark's `treeAggregate` depth (>= 2); kept for file parity, no effect here.
    pub aggregation_depth: usize,
    /// Spark's block size for stacking rows; kept for file parity, no effect here.
    #[serde(rename = "maxBlockSizeInMB")]
    pub max_block_size_in_mb: f64,
}

impl Default for LinearRegressionParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            weight_col: None,
            prediction_col: "prediction".into(),
            reg_param: 0.0,
            elastic_net_param: 0.0,
            max_iter: 100,
            tol: 1e-6,
            fit_intercept: true,
            standardization: true,
            solver: "auto".into(),
            loss: "squaredError".into(),
            epsilon: 1.35,
            aggregation_depth: 2,
            max_block_size_in_mb: 0.0,
        }
    }
}

impl LinearRegressionParams {
    /// The weight column, if one is set and non-empty.
    pub fn weight_col(&self) -> Option<&str> {
        self.weight_col.as_deref().filter(|s| !s.is_empty())
    }

    fn columns(&self) -> PredictionColumns<'_> {
        PredictionColumns::regression(&self.features_col, &self.prediction_col)
    }
}

impl Params for LinearRegressionParams {
    const STAGE: &'static str = "LinearRegression";

    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        check_at_least(s, "regParam", self.reg_param, 0.0)?;
        check_in_range(s, "elasticNetParam", self.elastic_net_param, 0.0, 1.0)?;
        check_at_least(s, "tol", self.tol, 0.0)?;
        check_at_least(s, "maxBlockSizeInMB", self.max_block_size_in_mb, 0.0)?;
        if self.epsilon.is_nan() || self.epsilon <= 1.0 {
            return Err(Error::param(s, "epsilon", "> 1.0", self.epsilon));
        }
        if self.aggregation_depth < 2 {
            return Err(Error::param(
                s,
                "aggregationDepth",
                ">= 2",
                self.aggregation_depth,
            ));
        }
        if !["auto", "normal", "l-bfgs"].contains(&self.solver.as_str()) {
            return Err(Error::param(
                s,
                "solver",
                "one of \"auto\", \"normal\", \"l-bfgs\"",
                format!("{:?}", self.solver),
            ));
        }
        if !["squaredError", "huber"].contains(&self.loss.as_str()) {
            return Err(Error::param(
                s,
                "loss",
                "one of \"squaredError\", \"huber\"",
                format!("{:?}", self.loss),
            ));
        }
        for (name, col) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
        ] {
            if col.is_empty() {
                return Err(Error::param(s, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}

/// Linear regression (Spark's `LinearRegression`): least squares with optional elastic-net
/// regularisation, by the normal equations or by L-BFGS / OWL-QN. See the
/// [module docs](crate::regression).
#[derive(Clone, Debug)]
pub struct LinearRegression {
    uid: String,
    params: LinearRegressionParams,
}

impl Default for LinearRegression {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! setter {
    ($name:ident, $field:ident, $t:ty) => {
        #[doc = concat!("Sets `", stringify!($field), "`.")]
        pub fn $name(mut self, v: $t) -> Self {
            self.params.$field = v.into();
            self
        }
    };
}

impl LinearRegression {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "linReg";

    /// An estimator with Spark's defaults.
    pub fn new() -> Self {
        Self::from_params(
            random_uid(Self::UID_PREFIX),
            LinearRegressionParams::default(),
        )
    }

    /// An estimator with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: LinearRegressionParams) -> Self {
        Self {
            uid: uid.into(),
            params,
        }
    }

    /// The params.
    pub fn params(&self) -> &LinearRegressionParams {
        &self.params
    }

    shared_setters! {
        features_col: "features",
        label_col: "label",
        weight_col: "none (all weights 1)",
        prediction_col: "prediction",
        max_iter: "100",
        reg_param: "0",
        elastic_net_param: "0",
        tol: "1e-6",
        fit_intercept: "true",
        standardization: "true",
    }
    setter!(with_solver, solver, &str);
    setter!(with_loss, loss, &str);
    setter!(with_epsilon, epsilon, f64);
}

impl Stage for LinearRegression {
    fn kind(&self) -> &'static str {
        "LinearRegression"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        p.validate()?;
        let stage = LinearRegressionParams::STAGE;
        predictor::check_fit_columns(stage, input, &p.features_col, &p.label_col, p.weight_col())?;
        predictor::output_schema(stage, &p.columns(), PredictorKind::Regression, input, None)
    }
}

/// One partition's inputs as `f64` (Arrow arrays: cloning shares the buffers).
#[derive(Clone)]
struct Part {
    features: FixedSizeListArray,
    /// The label column as given (any numeric type).
    label: ArrayRef,
    /// The labels as Float64, made on first use: the normal solver's statistics pass reads
    /// a Float64 label in place and converts any other a chunk at a time, so that it never
    /// writes a whole fresh column.
    labels_f64: OnceLock<Float64Array>,
    weights: Option<Float64Array>,
}

impl Part {
    /// The labels as Float64 (cast on first use; labels of other types than Float64,
    /// Int32 and Int64 were cast when the fit read them).
    fn labels(&self) -> &Float64Array {
        self.labels_f64.get_or_init(|| {
            cast(&self.label, &DataType::Float64)
                .expect("a numeric label column casts to Float64")
                .as_primitive::<Float64Type>()
                .clone()
        })
    }

    /// Labels `r0..r0 + len` as f64: a Float64 column's own values, any other converted
    /// into `buf` (Int32 and Int64 directly, other types through Arrow's cast).
    fn label_values<'a>(&'a self, r0: usize, len: usize, buf: &'a mut Vec<f64>) -> &'a [f64] {
        let lab = self.label.as_ref();
        buf.clear();
        match lab.data_type() {
            DataType::Float64 => return &lab.as_primitive::<Float64Type>().values()[r0..r0 + len],
            DataType::Int32 => buf.extend(
                lab.as_primitive::<Int32Type>().values()[r0..r0 + len]
                    .iter()
                    .map(|&y| f64::from(y)),
            ),
            DataType::Int64 => buf.extend(
                lab.as_primitive::<Int64Type>().values()[r0..r0 + len]
                    .iter()
                    .map(|&y| y as f64),
            ),
            _ => return &self.labels().values()[r0..r0 + len],
        }
        buf
    }

    fn weight(&self, r: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w.value(r))
    }
}

/// Per-partition statistics, merged in partition order.
struct Stats {
    features: FeatureSummary,
    label: FeatureSummary,
    /// The normal path's sufficient statistics (when that path is taken): the Gram matrix
    /// of `[x, y, 1]`.
    normal: Option<Gram>,
}

/// Weighted sums for the normal equations: Σw, Σwb, Σwb², Σwa, Σwba, Σwaaᵀ (row-major,
/// upper triangle filled).
#[derive(Clone)]
struct Normal {
    w: f64,
    wb: f64,
    wbb: f64,
    wa: Vec<f64>,
    wba: Vec<f64>,
    waa: Vec<f64>,
}

impl Normal {
    fn new(n: usize) -> Self {
        Self {
            w: 0.0,
            wb: 0.0,
            wbb: 0.0,
            wa: vec![0.0; n],
            wba: vec![0.0; n],
            waa: vec![0.0; n * n],
        }
    }
    /// The sums read off the Gram matrix of the augmented rows `[x, y, 1]`.
    fn from_gram(n: usize, g: &Gram) -> Self {
        let mut s = Normal::new(n);
        s.w = g.get(n + 1, n + 1);
        s.wb = g.get(n, n + 1);
        s.wbb = g.get(n, n);
        for i in 0..n {
            s.wa[i] = g.get(i, n + 1);
            s.wba[i] = g.get(i, n);
            for j in i..n {
                s.waa[i * n + j] = g.get(i, j);
            }
        }
        s
    }
}

/// Rows per parallel chunk of the statistics pass: fixed, so sums do not depend on the
/// thread count (chunks merge in order).
const CHUNK_ROWS: usize = 16384;

/// `(partition, (first row, rows))` of every [`CHUNK_ROWS`] chunk, in row order: the
/// parallel work units of each pass.
fn chunks(parts: &[Part]) -> Vec<(usize, (usize, usize))> {
    parts
        .iter()
        .enumerate()
        .flat_map(|(pi, part)| {
            let rows = part.label.len();
            (0..rows)
                .step_by(CHUNK_ROWS)
                .map(move |r| (pi, (r, CHUNK_ROWS.min(rows - r))))
        })
        .collect()
}

fn bad_value(column: &str, partition: usize, row: usize, what: String, hint: &str) -> Error {
    Error::InvalidValue {
        stage: LinearRegressionParams::STAGE,
        column: column.to_string(),
        partition,
        row,
        what,
        hint: hint.to_string(),
    }
}

/// Validates rows `r0..r0+len` of one partition and summarises them.
fn part_stats(
    part: &Part,
    pi: usize,
    (r0, len): (usize, usize),
    n: usize,
    p: &LinearRegressionParams,
    normal: bool,
) -> Result<Stats> {
    let values = vector::dense_values(&part.features)?;
    let x = &values[r0 * n..(r0 + len) * n];
    let mut buf = Vec::new();
    let labels = part.label_values(r0, len, &mut buf);
    let w = part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]);
    let normal = normal.then(|| {
        let mut g = Gram::new_fused(n);
        g.add_rows(x, labels, w);
        g
    });
    // Whether the chunk holds a non-finite value: a non-finite Gram diagonal (Σw·v² is NaN
    // or ∞ exactly when some v is, barring overflow), else one vectorised sweep (v·0 is NaN
    // exactly for ±∞ and NaN). Only then is the offending row looked for.
    let poisoned = match &normal {
        Some(g) => !g.diagonal_is_finite(),
        None => x
            .iter()
            .chain(labels)
            .map(|v| v * 0.0)
            .sum::<f64>()
            .is_nan(),
    };
    let scan = poisoned
        || part.weights.is_some()
        || part.label.null_count() > 0
        || part.features.null_count() > 0;
    for r in (r0..r0 + len).filter(|_| scan) {
        if part.label.is_null(r) || (poisoned && !part.labels().value(r).is_finite()) {
            let what = if part.label.is_null(r) {
                "null label".to_string()
            } else {
                format!("label {}", part.labels().value(r))
            };
            return Err(bad_value(
                &p.label_col,
                pi,
                r,
                what,
                "labels must be finite numbers; drop or impute such rows first",
            ));
        }
        if let (Some(ws), Some(wc)) = (&part.weights, p.weight_col()) {
            let w = ws.value(r);
            if ws.is_null(r) || !(w >= 0.0 && w.is_finite()) {
                let what = if ws.is_null(r) {
                    "null weight".to_string()
                } else {
                    format!("weight {w}")
                };
                return Err(bad_value(
                    wc,
                    pi,
                    r,
                    what,
                    "weights must be finite and >= 0",
                ));
            }
        }
        if part.features.is_null(r) {
            return Err(bad_value(
                &p.features_col,
                pi,
                r,
                "null vector".into(),
                "drop such rows first (VectorAssembler with handleInvalid=skip)",
            ));
        }
        if poisoned && values[r * n..(r + 1) * n].iter().any(|v| !v.is_finite()) {
            return Err(bad_value(
                &p.features_col,
                pi,
                r,
                "a NaN or infinite feature value".into(),
                "feature values must be finite; impute them (Imputer) or drop such rows (VectorAssembler with handleInvalid=skip)",
            ));
        }
    }
    // The normal path needs only its own sums; the summaries are for the L-BFGS path.
    let (features, label) = match &normal {
        Some(s) => {
            let mut label = FeatureSummary::empty(1);
            label.weight_sum = s.get(n + 1, n + 1);
            (FeatureSummary::empty(n), label)
        }
        None => (
            FeatureSummary::from_block(x, n, w),
            FeatureSummary::from_block(labels, 1, w),
        ),
    };
    Ok(Stats {
        features,
        label,
        normal,
    })
}

/// What a solver returns: coefficients and intercept in the original space, the objective
/// history, and (Cholesky only) the diagonal of `(AᵀWA)⁻¹`.
struct Solution {
    coefficients: Vec<f64>,
    intercept: f64,
    /// Huber's σ (Spark's `scale`); 1 for squared error.
    scale: f64,
    objective_history: Vec<f64>,
    diag_inv_atwa: Option<Vec<f64>>,
}

impl Estimator for LinearRegression {
    type Model = LinearRegressionModel;

    fn fit(&self, df: &DataFrame) -> Result<LinearRegressionModel> {
        let stage = LinearRegressionParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let huber = p.loss == "huber";
        if huber && p.solver == "normal" {
            return Err(Error::param(
                stage,
                "solver",
                "\"auto\" or \"l-bfgs\" with loss = \"huber\" (LinearRegression with huber loss doesn't support the normal solver)",
                "\"normal\"",
            ));
        }
        if huber && p.elastic_net_param != 0.0 {
            return Err(Error::param(
                stage,
                "elasticNetParam",
                "0 with loss = \"huber\" (LinearRegression with huber loss only supports L2 regularization)",
                p.elastic_net_param,
            ));
        }
        let (_, feat_field, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        let feature_names = vector::feature_names_or_default(feat_field);
        let normal = match p.solver.as_str() {
            _ if huber => false,
            "normal" => {
                if n > MAX_NORMAL_FEATURES {
                    return Err(Error::param(stage, "solver", format!("\"l-bfgs\" or \"auto\" for more than {MAX_NORMAL_FEATURES} features (the normal equations are solved with at most {MAX_NORMAL_FEATURES})"), "\"normal\""));
                }
                true
            }
            "auto" => n <= MAX_NORMAL_FEATURES,
            _ => false,
        };
        let parts = df.map_partitions(|pi, b| {
            let f64_col = |name: &str| -> Result<Float64Array> {
                Ok(cast(schema::batch_column(b, name)?, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone())
            };
            let at = vector::At {
                stage,
                column: &p.features_col,
                partition: pi,
            };
            let label = schema::batch_column(b, &p.label_col)?.clone();
            let labels_f64 = OnceLock::new();
            if !matches!(
                label.data_type(),
                DataType::Float64 | DataType::Int32 | DataType::Int64
            ) {
                // Cast now, so that a failure is this fit's error; Float64, Int32 and
                // Int64 labels are read in place or cast when first needed (never fails).
                let _ = labels_f64.set(f64_col(&p.label_col)?);
            }
            Ok(Part {
                // The normal equations and the L-BFGS pass read dense rows: a sparse
                // partition is densified here.
                features: vector::dense_chunk(
                    schema::batch_column(b, &p.features_col)?.as_ref(),
                    n,
                    at,
                )?,
                label,
                labels_f64,
                weights: p.weight_col().map(f64_col).transpose()?,
            })
        })?;
        let spans = chunks(&parts);
        let stats = spans
            .par_iter()
            .map(|&(pi, span)| part_stats(&parts[pi], pi, span, n, p, normal))
            .collect::<Vec<_>>();
        let stats = crate::frame::in_order(stats)?;
        let features = FeatureSummary::merge_all(n, stats.iter().map(|s| &s.features));
        let label = FeatureSummary::merge_all(1, stats.iter().map(|s| &s.label));
        if df.num_rows() == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: "fit needs at least one row".into(),
            });
        }
        if label.weight_sum <= 0.0 {
            return Err(Error::EmptyInput {
                stage,
                hint:
                    "the sum of weights is zero; fit needs at least one row with a positive weight"
                        .into(),
            });
        }
        let sol = if normal {
            let mut g = Gram::new_fused(n);
            for st in &stats {
                if let Some(x) = &st.normal {
                    g.merge(x);
                }
            }
            let s = Normal::from_gram(n, &g);
            solve_normal(p, &s, n)?
        } else {
            solve_lbfgs(p, &parts, &features, &label, n)?
        };
        let mut model = LinearRegressionModel::new(
            self.uid.clone(),
            p.clone(),
            sol.coefficients.clone(),
            sol.intercept,
        );
        model.scale = sol.scale;
        model.training = Some(Arc::new(Training {
            parts,
            objective_history: sol.objective_history,
            diag_inv_atwa: sol.diag_inv_atwa,
            feature_names,
        }));
        Ok(model)
    }
}

/// Spark's `WeightedLeastSquares` with `standardizeLabel = true`.
fn solve_normal(p: &LinearRegressionParams, s: &Normal, n: usize) -> Result<Solution> {
    let stage = LinearRegressionParams::STAGE;
    let w = s.w;
    let mut a_bar: Vec<f64> = s.wa.iter().map(|v| v / w).collect();
    let mut b_bar = s.wb / w;
    let mut bb_bar = s.wbb / w;
    let mut ab_bar: Vec<f64> = s.wba.iter().map(|v| v / w).collect();
    let mut aa_bar: Vec<f64> = s.waa.iter().map(|v| v / w).collect();
    for i in 0..n {
        for j in 0..i {
            aa_bar[i * n + j] = aa_bar[j * n + i];
        }
    }
    let raw_b_std = (bb_bar - b_bar * b_bar).max(0.0).sqrt();
    let a_std: Vec<f64> = (0..n)
        .map(|j| (aa_bar[j * n + j] - a_bar[j] * a_bar[j]).max(0.0).sqrt())
        .collect();
    let mut b_std = raw_b_std;
    if raw_b_std == 0.0 {
        if p.fit_intercept || b_bar == 0.0 {
            return Ok(Solution {
                coefficients: vec![0.0; n],
                intercept: b_bar,
                scale: 1.0,
                objective_history: vec![0.0],
                diag_inv_atwa: None,
            });
        }
        if p.reg_param > 0.0 {
            return Err(Error::param(stage, "regParam", "0 when the label is constant and no intercept is fitted (the label's standard deviation is zero, so it cannot be standardised)", p.reg_param));
        }
        b_std = b_bar.abs();
    }
    // To the standardised space.
    b_bar /= b_std;
    bb_bar /= b_std * b_std;
    let inv = |s: f64| if s == 0.0 { 0.0 } else { 1.0 / s };
    for j in 0..n {
        a_bar[j] *= inv(a_std[j]);
        ab_bar[j] *= inv(a_std[j]) / b_std;
        for i in 0..n {
            aa_bar[i * n + j] *= inv(a_std[i]) * inv(a_std[j]);
        }
    }
    let lambda = p.reg_param / b_std;
    let (l1, l2) = (
        p.elastic_net_param * lambda,
        (1.0 - p.elastic_net_param) * lambda,
    );
    for j in 0..n {
        aa_bar[j * n + j] += if p.standardization {
            l2
        } else if a_std[j] == 0.0 {
            0.0
        } else {
            l2 / (a_std[j] * a_std[j])
        };
    }
    // The assembled (n+1)² system with an intercept, else n².
    let d = if p.fit_intercept { n + 1 } else { n };
    let mut aa = vec![0.0; d * d];
    let mut ab = vec![0.0; d];
    for i in 0..n {
        aa[i * d..i * d + n].copy_from_slice(&aa_bar[i * n..(i + 1) * n]);
        ab[i] = ab_bar[i];
    }
    if p.fit_intercept {
        for i in 0..n {
            aa[i * d + n] = a_bar[i];
            aa[n * d + i] = a_bar[i];
        }
        aa[n * d + n] = 1.0;
        ab[n] = b_bar;
    }
    let quad = Quadratic {
        aa: &aa,
        ab: &ab,
        bb_half: bb_bar / 2.0,
        a_bar: p.fit_intercept.then_some(&a_bar[..]),
        b_bar,
    };
    let (x, history, diag) = if l1 != 0.0 {
        let weights: Vec<f64> = (0..d)
            .map(|j| {
                if j == n {
                    0.0
                } else if p.standardization {
                    l1
                } else if a_std[j] == 0.0 {
                    0.0
                } else {
                    l1 / a_std[j]
                }
            })
            .collect();
        let (x, h) = quad.minimize(p, Some(weights))?;
        (x, h, None)
    } else {
        match cholesky_solve_and_inverse_diag(&aa, &ab, d) {
            Some((x, diag)) => (x, vec![0.0], Some(diag)),
            None => {
                // Spark: "Cholesky solver failed due to singular covariance matrix.
                // Retrying with Quasi-Newton solver."
                let (x, h) = quad.minimize(p, None)?;
                (x, h, None)
            }
        }
    };
    let coefficients: Vec<f64> = (0..n).map(|j| x[j] * b_std * inv(a_std[j])).collect();
    let intercept = if p.fit_intercept { x[n] * b_std } else { 0.0 };
    let diag_inv_atwa = diag.map(|dg| {
        (0..d)
            .map(|i| {
                if i == n {
                    dg[i] / w
                } else {
                    dg[i] / (w * a_std[i] * a_std[i])
                }
            })
            .collect()
    });
    Ok(Solution {
        coefficients,
        intercept,
        scale: 1.0,
        objective_history: history,
        diag_inv_atwa,
    })
}

/// Spark's local quadratic for the normal equations: `½·bb − x·ab + ½·xᵀ(AA)x`, with the
/// intercept (last coordinate) set to `b̄ − Σ xⱼ āⱼ` before every evaluation.
struct Quadratic<'a> {
    aa: &'a [f64],
    ab: &'a [f64],
    bb_half: f64,
    a_bar: Option<&'a [f64]>,
    b_bar: f64,
}

impl Quadratic<'_> {
    fn with_intercept(&self, x: &[f64]) -> Vec<f64> {
        let mut x = x.to_vec();
        if let Some(a) = self.a_bar {
            let n = a.len();
            x[n] = self.b_bar - x[..n].iter().zip(a).map(|(u, v)| u * v).sum::<f64>();
        }
        x
    }

    fn minimize(
        &self,
        p: &LinearRegressionParams,
        l1: Option<Vec<f64>>,
    ) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.ab.len();
        let mut x0 = vec![0.0; d];
        if self.a_bar.is_some() {
            x0[d - 1] = self.b_bar;
        }
        let mut opt = Lbfgs::new(p.max_iter, 10, p.tol);
        if let Some(w) = l1 {
            opt = opt.with_l1(w);
        }
        let mut f = QuadFn(self);
        let min = opt.minimize(&mut f, x0, |_| {})?;
        Ok((self.with_intercept(&min.x), min.objective_history))
    }
}

struct QuadFn<'a, 'b>(&'a Quadratic<'b>);

impl DiffFunction for QuadFn<'_, '_> {
    fn calculate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
        let q = self.0;
        let x = q.with_intercept(x);
        let d = x.len();
        let mut g: Vec<f64> =
            q.aa.chunks_exact(d)
                .map(|row| row.iter().zip(&x).map(|(a, b)| a * b).sum::<f64>())
                .collect();
        let xax: f64 = x.iter().zip(&g).map(|(a, b)| a * b).sum();
        let xab: f64 = x.iter().zip(q.ab).map(|(a, b)| a * b).sum();
        for (gi, b) in g.iter_mut().zip(q.ab) {
            *gi -= b;
        }
        Ok((q.bb_half - xab + 0.5 * xax, g))
    }
}

/// Solves `A x = b` for a symmetric `d × d` matrix by Cholesky and returns `x` and the
/// diagonal of `A⁻¹`; `None` when `A` is not positive definite (LAPACK `dppsv` info > 0).
fn cholesky_solve_and_inverse_diag(a: &[f64], b: &[f64], d: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    // Lower factor L with A = L Lᵀ.
    let mut l = vec![0.0; d * d];
    for j in 0..d {
        let mut s = a[j * d + j];
        for k in 0..j {
            s -= l[j * d + k] * l[j * d + k];
        }
        if s.is_nan() || s <= 0.0 {
            return None;
        }
        let ljj = s.sqrt();
        l[j * d + j] = ljj;
        for i in j + 1..d {
            let mut s = a[i * d + j];
            for k in 0..j {
                s -= l[i * d + k] * l[j * d + k];
            }
            l[i * d + j] = s / ljj;
        }
    }
    let solve = |rhs: &[f64]| -> Vec<f64> {
        let mut y = rhs.to_vec();
        for i in 0..d {
            for k in 0..i {
                y[i] -= l[i * d + k] * y[k];
            }
            y[i] /= l[i * d + i];
        }
        for i in (0..d).rev() {
            for k in i + 1..d {
                y[i] -= l[k * d + i] * y[k];
            }
            y[i] /= l[i * d + i];
        }
        y
    };
    let x = solve(b);
    let mut e = vec![0.0; d];
    let diag = (0..d)
        .map(|i| {
            e.fill(0.0);
            e[i] = 1.0;
            solve(&e)[i]
        })
        .collect();
    Some((x, diag))
}

/// Spark's L-BFGS path: the scaled least-squares objective over the data.
fn solve_lbfgs(
    p: &LinearRegressionParams,
    parts: &[Part],
    features: &FeatureSummary,
    label: &FeatureSummary,
    n: usize,
) -> Result<Solution> {
    let stage = LinearRegressionParams::STAGE;
    let y_mean = label.mean[0];
    let raw_y_std = label.std()[0];
    if raw_y_std == 0.0 && (p.fit_intercept || y_mean == 0.0) {
        return Ok(Solution {
            coefficients: vec![0.0; n],
            intercept: y_mean,
            scale: 1.0,
            objective_history: vec![0.0],
            diag_inv_atwa: None,
        });
    }
    let y_std = if raw_y_std == 0.0 {
        if p.reg_param != 0.0 {
            return Err(Error::param(stage, "regParam", "0 when the label is constant and no intercept is fitted (the label's standard deviation is zero, so it cannot be regularised)", p.reg_param));
        }
        y_mean.abs()
    } else {
        raw_y_std
    };
    let std = features.std();
    let mean = features.mean();
    let inv_std: Vec<f64> = std
        .iter()
        .map(|s| if *s == 0.0 { 0.0 } else { 1.0 / s })
        .collect();
    if p.loss == "huber" {
        return solve_huber(p, parts, &mean, &std, &inv_std, label.weight_sum, n);
    }
    let lambda = p.reg_param / y_std;
    let (l1, l2) = (
        p.elastic_net_param * lambda,
        (1.0 - p.elastic_net_param) * lambda,
    );
    let mut opt = Lbfgs::new(p.max_iter, 10, p.tol);
    if p.elastic_net_param != 0.0 && lambda != 0.0 {
        let w = (0..n)
            .map(|j| {
                if p.standardization {
                    l1
                } else if std[j] == 0.0 {
                    0.0
                } else {
                    l1 / std[j]
                }
            })
            .collect();
        opt = opt.with_l1(w);
    }
    let mut f = LeastSquares {
        parts,
        n,
        inv_std: &inv_std,
        scaled_mean: mean.iter().zip(&inv_std).map(|(m, s)| m * s).collect(),
        y_mean,
        y_std,
        fit_intercept: p.fit_intercept,
        weight_sum: label.weight_sum,
        l2,
        l2_scale: (!p.standardization).then(|| {
            std.iter()
                .map(|s| if *s == 0.0 { 0.0 } else { 1.0 / (s * s) })
                .collect()
        }),
    };
    let min = opt.minimize(&mut f, vec![0.0; n], |_| {})?;
    let coefficients: Vec<f64> = (0..n).map(|j| min.x[j] * y_std * inv_std[j]).collect();
    let intercept = if p.fit_intercept {
        y_mean
            - coefficients
                .iter()
                .zip(&mean)
                .map(|(b, m)| b * m)
                .sum::<f64>()
    } else {
        0.0
    };
    Ok(Solution {
        coefficients,
        intercept,
        scale: 1.0,
        objective_history: min.objective_history,
        diag_inv_atwa: None,
    })
}

/// Spark's Huber path: L-BFGS-B over `[β̃, b, σ]` (labels not scaled, λ not divided by the
/// label's std), starting at all ones, with σ bounded below by the smallest positive double.
fn solve_huber(
    p: &LinearRegressionParams,
    parts: &[Part],
    mean: &[f64],
    std: &[f64],
    inv_std: &[f64],
    weight_sum: f64,
    n: usize,
) -> Result<Solution> {
    let scaled_mean: Vec<f64> = if p.fit_intercept {
        mean.iter().zip(inv_std).map(|(m, s)| m * s).collect()
    } else {
        Vec::new()
    };
    let dim = n + usize::from(p.fit_intercept) + 1;
    let mut x0 = vec![1.0; dim];
    if p.fit_intercept {
        // Spark's virtual centring of the initial intercept.
        x0[n] += (0..n).map(|j| x0[j] * scaled_mean[j]).sum::<f64>();
    }
    // Breeze's LBFGSB bounds as Spark sets them: finite ±Double.MaxValue, σ > 0.
    let lower: Vec<f64> = (0..dim)
        .map(|i| {
            if i == dim - 1 {
                f64::from_bits(1)
            } else {
                f64::MIN
            }
        })
        .collect();
    let upper = vec![f64::MAX; dim];
    let mut f = Huber {
        parts,
        n,
        inv_std,
        scaled_mean: &scaled_mean,
        epsilon: p.epsilon,
        fit_intercept: p.fit_intercept,
        weight_sum,
        l2: p.reg_param,
        l2_scale: (!p.standardization).then(|| {
            std.iter()
                .map(|s| if *s == 0.0 { 0.0 } else { 1.0 / (s * s) })
                .collect()
        }),
    };
    let min = Lbfgs::new(p.max_iter, 10, p.tol)
        .with_bounds(lower, upper)
        .minimize(&mut f, x0, |_| {})?;
    let x = min.x;
    let coefficients: Vec<f64> = (0..n).map(|j| x[j] * inv_std[j]).collect();
    let intercept = if p.fit_intercept {
        x[n] - (0..n).map(|j| x[j] * scaled_mean[j]).sum::<f64>()
    } else {
        0.0
    };
    Ok(Solution {
        coefficients,
        intercept,
        scale: x[dim - 1],
        objective_history: min.objective_history,
        diag_inv_atwa: None,
    })
}

/// Spark's `HuberBlockAggregator` plus its L2 term, over every partition in parallel,
/// merged in partition order. Parameters `[β̃, b, σ]` (`b` only with an intercept).
struct Huber<'a> {
    parts: &'a [Part],
    n: usize,
    inv_std: &'a [f64],
    /// `μⱼ/σⱼ` when fitting an intercept (virtual centring), else empty.
    scaled_mean: &'a [f64],
    epsilon: f64,
    fit_intercept: bool,
    weight_sum: f64,
    l2: f64,
    l2_scale: Option<Vec<f64>>,
}

impl DiffFunction for Huber<'_> {
    fn calculate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
        let n = self.n;
        let sigma = x[x.len() - 1];
        let eps = self.epsilon;
        let eff: Vec<f64> = x[..n]
            .iter()
            .zip(self.inv_std)
            .map(|(b, s)| b * s)
            .collect();
        let offset = if self.fit_intercept {
            x[n] - (0..n).map(|j| x[j] * self.scaled_mean[j]).sum::<f64>()
        } else {
            0.0
        };
        let partials = chunks(self.parts)
            .par_iter()
            .map(|&(pi, (r0, len))| {
                let part = &self.parts[pi];
                let xs =
                    vector::dense_values(&part.features).expect("checked in the statistics pass");
                let block = dense_block(
                    &xs[r0 * n..(r0 + len) * n],
                    &part.labels().values()[r0..r0 + len],
                    part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]),
                );
                let link = HuberLink {
                    sigma,
                    eps,
                    gsigma: std::cell::Cell::new(0.0),
                };
                let p = binary_pass(&block, n, &eff, offset, None, &link);
                (p.loss, p.grad, p.msum, link.gsigma.get())
            })
            .collect::<Vec<_>>();
        let (mut loss, mut msum, mut gsigma) = (0.0, 0.0, 0.0);
        let mut graw = vec![0.0; n];
        for (l, g, m, s) in partials {
            loss += l;
            msum += m;
            gsigma += s;
            for (a, b) in graw.iter_mut().zip(g) {
                *a += b;
            }
        }
        let wsum = self.weight_sum;
        let mut grad = vec![0.0; x.len()];
        for j in 0..n {
            let centred = if self.fit_intercept {
                msum * self.scaled_mean[j]
            } else {
                0.0
            };
            grad[j] = (graw[j] * self.inv_std[j] - centred) / wsum;
        }
        if self.fit_intercept {
            grad[n] = msum / wsum;
        }
        grad[x.len() - 1] = gsigma / wsum;
        loss /= wsum;
        if self.l2 != 0.0 {
            for j in 0..n {
                let scale = self.l2_scale.as_ref().map_or(1.0, |s| s[j]);
                loss += 0.5 * self.l2 * x[j] * x[j] * scale;
                grad[j] += self.l2 * x[j] * scale;
            }
        }
        Ok((loss, grad))
    }
}

/// Spark's least-squares loss as the link of [`binary_pass`] (margins `x·eff`, no
/// offset): `d = offset − y/σ_y + m`, loss `w·d²/2`, multiplier `w·d`; a row of weight 0
/// adds nothing.
struct LeastSquaresLink {
    offset: f64,
    inv_y: f64,
}

impl BinaryLink for LeastSquaresLink {
    fn chunk(&self, m: &[f64], y: &[f64], w: Option<&[f64]>, mult: &mut [f64], loss: &mut f64) {
        for t in 0..m.len() {
            let wr = w.map_or(1.0, |w| w[t]);
            mult[t] = if wr == 0.0 {
                0.0
            } else {
                let diff = self.offset - y[t] * self.inv_y + m[t];
                *loss += wr * diff * diff / 2.0;
                wr * diff
            };
        }
    }
}

/// Spark's `HuberBlockAggregator` as the link of [`binary_pass`] (margins `x·eff +
/// offset`): the loss and multiplier of `y − margin` against `σ·ε`, and `∂σ` summed into
/// `gsigma`; a row of weight ≤ 0 adds nothing.
struct HuberLink {
    sigma: f64,
    eps: f64,
    gsigma: std::cell::Cell<f64>,
}

impl BinaryLink for HuberLink {
    fn chunk(&self, m: &[f64], y: &[f64], w: Option<&[f64]>, mult: &mut [f64], loss: &mut f64) {
        let (sigma, eps) = (self.sigma, self.eps);
        let mut gsigma = self.gsigma.get();
        for t in 0..m.len() {
            let wr = w.map_or(1.0, |w| w[t]);
            if wr <= 0.0 {
                mult[t] = 0.0;
                continue;
            }
            let lin = y[t] - m[t];
            mult[t] = if lin.abs() <= sigma * eps {
                *loss += 0.5 * wr * (sigma + lin * lin / sigma);
                let d = lin / sigma;
                gsigma += 0.5 * wr * (1.0 - d * d);
                -wr * d
            } else {
                *loss += 0.5 * wr * (sigma + 2.0 * eps * lin.abs() - sigma * eps * eps);
                gsigma += 0.5 * wr * (1.0 - eps * eps);
                wr * eps * if lin >= 0.0 { -1.0 } else { 1.0 }
            };
        }
        self.gsigma.set(gsigma);
    }
}

/// One block's rows as a [`binary_pass`] block.
fn dense_block<'a>(x: &'a [f64], y: &'a [f64], w: Option<&'a [f64]>) -> Block<'a> {
    Block {
        x: Features::Dense(x),
        y,
        w,
    }
}

/// Spark's `LeastSquaresBlockAggregator` plus its L2 term, over every partition in
/// parallel, merged in partition order.
struct LeastSquares<'a> {
    parts: &'a [Part],
    n: usize,
    inv_std: &'a [f64],
    scaled_mean: Vec<f64>,
    y_mean: f64,
    y_std: f64,
    fit_intercept: bool,
    weight_sum: f64,
    l2: f64,
    /// `1/σⱼ²` per coefficient without standardization (the L2 term is in original units).
    l2_scale: Option<Vec<f64>>,
}

impl DiffFunction for LeastSquares<'_> {
    fn calculate(&mut self, beta: &[f64]) -> Result<(f64, Vec<f64>)> {
        let n = self.n;
        // Coefficients on the raw features: β̃ⱼ / σⱼ.
        let eff: Vec<f64> = beta.iter().zip(self.inv_std).map(|(b, s)| b * s).collect();
        let offset = if self.fit_intercept {
            self.y_mean / self.y_std
                - beta
                    .iter()
                    .zip(&self.scaled_mean)
                    .map(|(b, m)| b * m)
                    .sum::<f64>()
        } else {
            0.0
        };
        let inv_y = 1.0 / self.y_std;
        let partials = chunks(self.parts)
            .par_iter()
            .map(|&(pi, (r0, len))| {
                let part = &self.parts[pi];
                let x =
                    vector::dense_values(&part.features).expect("checked in the statistics pass");
                let block = dense_block(
                    &x[r0 * n..(r0 + len) * n],
                    &part.labels().values()[r0..r0 + len],
                    part.weights.as_ref().map(|w| &w.values()[r0..r0 + len]),
                );
                let link = LeastSquaresLink { offset, inv_y };
                let p = binary_pass(&block, n, &eff, 0.0, None, &link);
                (p.loss, p.grad)
            })
            .collect::<Vec<_>>();
        let mut loss = 0.0;
        let mut grad = vec![0.0; n];
        for (l, g) in partials {
            loss += l;
            for (a, b) in grad.iter_mut().zip(g) {
                *a += b;
            }
        }
        loss /= self.weight_sum;
        for (g, s) in grad.iter_mut().zip(self.inv_std) {
            *g *= s / self.weight_sum;
        }
        if self.l2 != 0.0 {
            for j in 0..n {
                let scale = self.l2_scale.as_ref().map_or(1.0, |s| s[j]);
                loss += 0.5 * self.l2 * beta[j] * beta[j] * scale;
                grad[j] += self.l2 * beta[j] * scale;
            }
        }
        Ok((loss, grad))
    }
}

/// What the training summary is computed from, on first use: the training data (shared
/// Arrow buffers, as Spark's summary keeps its training DataFrame) and the solver's output.
struct Training {
    parts: Vec<Part>,
    objective_history: Vec<f64>,
    diag_inv_atwa: Option<Vec<f64>>,
    feature_names: Vec<String>,
}

impl std::fmt::Debug for Training {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Training")
            .field("partitions", &self.parts.len())
            .field("objective_history", &self.objective_history)
            .finish_non_exhaustive()
    }
}

/// The training summary: objective history and the fit's metrics on the training data
/// (predictions computed partition-parallel, kept in row order).
fn training_summary(model: &LinearRegressionModel, t: &Training) -> LinearRegressionSummary {
    let n = model.num_features;
    let per_part: Vec<Vec<(f64, f64, f64)>> = t
        .parts
        .par_iter()
        .map(|part| {
            let x = vector::dense_values(&part.features).expect("checked in the statistics pass");
            (0..part.label.len())
                .map(|r| {
                    let mut out = [0.0];
                    model.predict_raw_into(Row::Dense(&x[r * n..(r + 1) * n]), &mut out);
                    (part.labels().value(r), out[0], part.weight(r))
                })
                .collect()
        })
        .collect();
    let rows: Vec<(f64, f64, f64)> = per_part.into_iter().flatten().collect();
    let residuals: Vec<f64> = rows.iter().map(|(y, yh, _)| y - yh).collect();
    let p = &model.params;
    let metrics = RegressionMetrics::new(&rows, !p.fit_intercept);
    let num_instances = rows.len();
    let i = usize::from(p.fit_intercept);
    let dof = num_instances as f64 - n as f64 - i as f64;
    let (mut se, mut tv, mut pv) = (None, None, None);
    if let Some(diag) = &t.diag_inv_atwa {
        // Spark: σ² = RSS / dof, RSS = MSE·n unweighted, Σw(y−ŷ)² with weights.
        let rss = if p.weight_col().is_some() {
            rows.iter()
                .map(|(y, yh, w)| w * (y - yh).powi(2))
                .sum::<f64>()
        } else {
            metrics.mean_squared_error * num_instances as f64
        };
        let sigma2 = rss / dof;
        let s: Vec<f64> = diag.iter().map(|d| (d * sigma2).sqrt()).collect();
        let est: Vec<f64> = model
            .coefficients
            .iter()
            .copied()
            .chain(p.fit_intercept.then_some(model.intercept))
            .collect();
        let t: Vec<f64> = est.iter().zip(&s).map(|(e, s)| e / s).collect();
        pv = Some(t.iter().map(|t| student_t_two_sided_p(*t, dof)).collect());
        se = Some(s);
        tv = Some(t);
    }
    let dev = rows
        .iter()
        .map(|(y, yh, w)| (y - yh) * w.sqrt())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    LinearRegressionSummary {
        total_iterations: t.objective_history.len().saturating_sub(1),
        objective_history: t.objective_history.clone(),
        root_mean_squared_error: metrics.root_mean_squared_error,
        mean_squared_error: metrics.mean_squared_error,
        mean_absolute_error: metrics.mean_absolute_error,
        r2: metrics.r2,
        r2adj: 1.0 - (1.0 - metrics.r2) * (num_instances as f64 - i as f64) / dof,
        explained_variance: metrics.explained_variance,
        num_instances,
        degrees_of_freedom: dof,
        deviance_residuals: [dev.0, dev.1],
        residuals,
        coefficient_standard_errors: se,
        t_values: tv,
        p_values: pv,
        feature_names: t.feature_names.clone(),
    }
}

/// `2·(1 − F(|t|))` for Student's t with `dof` degrees of freedom: the regularised
/// incomplete beta `I_{dof/(dof+t²)}(dof/2, 1/2)`.
fn student_t_two_sided_p(t: f64, dof: f64) -> f64 {
    if t.is_nan() || dof <= 0.0 {
        return f64::NAN;
    }
    incomplete_beta(dof / 2.0, 0.5, dof / (dof + t * t))
}

/// ln Γ(x) (Lanczos, g = 7, n = 9; relative error below 1e-15 for x > 0).
fn ln_gamma(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return (std::f64::consts::PI / (std::f64::consts::PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The regularised incomplete beta `I_x(a, b)` by Lentz's continued fraction.
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    if x > (a + 1.0) / (a + b + 2.0) {
        return 1.0 - incomplete_beta(b, a, 1.0 - x);
    }
    let tiny = 1e-300;
    let (mut c, mut d) = (1.0, 1.0 - (a + b) * x / (a + 1.0));
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut f = d;
    for m in 1..500 {
        let m = m as f64;
        for num in [
            m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0)),
        ] {
            d = 1.0 + num * d;
            if d.abs() < tiny {
                d = tiny;
            }
            c = 1.0 + num / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            f *= c * d;
        }
        if (c * d - 1.0).abs() < 1e-16 {
            break;
        }
    }
    front * f / a
}

/// What training recorded (Spark's `LinearRegressionTrainingSummary`), on the training data.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearRegressionSummary {
    /// The objective at every optimiser state, the initial one included (`[0.0]` for the
    /// Cholesky solve and the constant-label shortcut).
    pub objective_history: Vec<f64>,
    /// `objective_history.len() - 1`.
    pub total_iterations: usize,
    /// √MSE.
    pub root_mean_squared_error: f64,
    /// Weighted mean squared error.
    pub mean_squared_error: f64,
    /// Weighted mean absolute error.
    pub mean_absolute_error: f64,
    /// R² (through the origin when no intercept is fitted, as Spark).
    pub r2: f64,
    /// Adjusted R².
    pub r2adj: f64,
    /// Explained variance.
    pub explained_variance: f64,
    /// Number of training rows (unweighted).
    pub num_instances: usize,
    /// `numInstances − numFeatures − (1 if fitIntercept)`.
    pub degrees_of_freedom: f64,
    /// `[min, max]` of `(label − prediction)·√weight`.
    pub deviance_residuals: [f64; 2],
    /// `label − prediction` per training row, in row order (Spark's `residuals` column).
    pub residuals: Vec<f64>,
    /// Standard errors of the coefficients then the intercept (normal solver without L1
    /// only, as Spark).
    pub coefficient_standard_errors: Option<Vec<f64>>,
    /// t-statistics, in the same order.
    pub t_values: Option<Vec<f64>>,
    /// Two-sided p-values, in the same order.
    pub p_values: Option<Vec<f64>>,
    /// Feature names from the features column's metadata (`<col>_<i>` when absent).
    pub feature_names: Vec<String>,
}

/// A fitted linear regression (Spark's `LinearRegressionModel`): `prediction = x·β + b`.
#[derive(Clone, Debug)]
pub struct LinearRegressionModel {
    uid: String,
    params: LinearRegressionParams,
    coefficients: Vec<f64>,
    intercept: f64,
    scale: f64,
    num_features: usize,
    /// The training data and solver output behind [`summary`](Self::summary) (fitted models).
    training: Option<Arc<Training>>,
    /// The summary, computed from `training` on first use (as Spark's lazy metrics).
    summary: OnceLock<LinearRegressionSummary>,
}

impl PartialEq for LinearRegressionModel {
    fn eq(&self, o: &Self) -> bool {
        self.params == o.params
            && self.coefficients == o.coefficients
            && self.intercept == o.intercept
            && self.scale == o.scale
    }
}

impl LinearRegressionModel {
    /// A model from its coefficients and intercept (`scale` 1).
    pub fn new(
        uid: impl Into<String>,
        params: LinearRegressionParams,
        coefficients: Vec<f64>,
        intercept: f64,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            num_features: coefficients.len(),
            coefficients,
            intercept,
            scale: 1.0,
            training: None,
            summary: OnceLock::new(),
        }
    }

    /// The model with Spark's `scale` (the Huber loss's fitted sigma; 1 for squared
    /// error), as a model rebuilt from its fitted values needs.
    #[cfg(feature = "connect")]
    pub(crate) fn with_scale(mut self, scale: f64) -> Self {
        self.scale = scale;
        self
    }

    /// The params the model was fitted with.
    pub fn params(&self) -> &LinearRegressionParams {
        &self.params
    }

    /// The coefficients, one per feature.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// The intercept (0 without `fitIntercept`).
    pub fn intercept(&self) -> f64 {
        self.intercept
    }

    /// Spark's `scale` (Huber's σ; 1 for squared error).
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The number of features.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The training summary, if the model was fitted in this process (it is not saved).
    ///
    /// As in Spark, the metrics are computed from the training data on first use (one
    /// parallel pass), not during `fit`; later calls return the same summary.
    pub fn summary(&self) -> Option<&LinearRegressionSummary> {
        let t = self.training.as_ref()?;
        Some(self.summary.get_or_init(|| training_summary(self, t)))
    }

    /// The prediction for one row.
    ///
    /// # Errors
    /// When `x` does not have [`num_features`](Self::num_features) values.
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        PredictionModel::predict(self, x)
    }
}

impl PredictionModel for LinearRegressionModel {
    fn stage_name(&self) -> &'static str {
        "LinearRegressionModel"
    }
    fn columns(&self) -> PredictionColumns<'_> {
        self.params.columns()
    }
    fn num_features(&self) -> usize {
        self.num_features
    }
    fn kind(&self) -> PredictorKind {
        PredictorKind::Regression
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        raw[0] = x.dot(&self.coefficients) + self.intercept;
    }
}

impl Stage for LinearRegressionModel {
    fn kind(&self) -> &'static str {
        "LinearRegressionModel"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        predictor::transform_schema(self, input)
    }
}

impl Transformer for LinearRegressionModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        predictor::transform(self, df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for LinearRegressionModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Row form (crate::row): the shared predictor layer's ----

impl crate::row::RowStage for LinearRegressionModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> crate::Result<Option<Box<dyn crate::row::RowOp>>> {
        crate::row::predictor_row_form(self, plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn student_t_p_values() {
        // scipy 1.x: stats.t.sf(2.0, 10) * 2 and stats.t.sf(1.0, 3) * 2
        assert!((student_t_two_sided_p(2.0, 10.0) - 0.073_388_034_770_740_37).abs() < 1e-12);
        assert!((student_t_two_sided_p(-1.0, 3.0) - 0.391_002_218_955_770_5).abs() < 1e-12);
    }

    #[test]
    fn cholesky_matches_hand_solution() {
        // [[4, 2], [2, 3]] x = [2, 1]: x = [0.5, 0]; inverse diag = [3/8, 4/8].
        let (x, d) =
            cholesky_solve_and_inverse_diag(&[4.0, 2.0, 2.0, 3.0], &[2.0, 1.0], 2).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15);
        assert!((d[0] - 0.375).abs() < 1e-15 && (d[1] - 0.5).abs() < 1e-15);
        assert!(cholesky_solve_and_inverse_diag(&[1.0, 1.0, 1.0, 1.0], &[1.0, 1.0], 2).is_none());
    }
}

crate::persist::spark_params_only!(
    LinearRegression,
    "org.apache.spark.ml.regression.LinearRegression"
);

/// Spark's `LinearRegressionModel` data row: `intercept: double, coefficients: Vector,
/// scale: double` (files from Spark 2.2 and older have no `scale`, read as 1).
impl crate::persist::SparkPersist for LinearRegressionModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.regression.LinearRegressionModel";

    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::{format, Vector};
        use arrow::array::ArrayRef;
        use arrow::datatypes::Field;
        use std::sync::Arc;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let double = |name: &str, v: f64| {
            (
                Field::new(name, DataType::Float64, false),
                Arc::new(Float64Array::from(vec![v])) as ArrayRef,
            )
        };
        let batch = format::one_row(vec![
            double("intercept", self.intercept),
            Vector::compressed(&self.coefficients).field_and_array("coefficients")?,
            double("scale", self.scale),
        ])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("intercept", serde_json::json!("double"), false),
                ("coefficients", format::vector_udt_json(), true),
                ("scale", serde_json::json!("double"), false),
            ]),
        )
    }

    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let intercept = format::f64_value(&d, "intercept", dir)?;
        let coefficients = format::dense_vector(&d, "coefficients", dir)?;
        let scale = if d.column_by_name("scale").is_some() {
            format::f64_value(&d, "scale", dir)?
        } else {
            1.0
        };
        let mut m = Self::new(md.uid.clone(), md.params_as(dir)?, coefficients, intercept);
        m.scale = scale;
        Ok(m)
    }
}
