//! [`NaiveBayes`] and [`NaiveBayesModel`]: Spark's multinomial, complement, Bernoulli and
//! Gaussian naive Bayes.

use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::kernels::{
    class_sums, class_sums_masked, class_sums_rows, group_rows, multiversion, ValueCheck,
    MASKED_CLASSES,
};
use crate::frame::vector::DeferredVectorBlock;
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_at_least, shared_setters, Params};
use crate::persist::{format, Matrix, Metadata, SparkPersist, Vector};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::predictor::{PredictionColumns, PredictionModel, PredictorKind, Row};

/// Params of [`NaiveBayes`] and [`NaiveBayesModel`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NaiveBayesParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Label column: class indices 0, 1, ... Default `"label"`.
    pub label_col: String,
    /// Instance weight column; `None` gives every row weight 1. Default `None`.
    pub weight_col: Option<String>,
    /// Predicted class index column (`""` disables it). Default `"prediction"`.
    pub prediction_col: String,
    /// Class probability column (`""` disables it). Default `"probability"`.
    pub probability_col: String,
    /// Raw (log-likelihood) column (`""` disables it). Default `"rawPrediction"`.
    pub raw_prediction_col: String,
    /// Additive (Laplace) smoothing (>= 0); unused by `gaussian`. Default 1.0.
    pub smoothing: f64,
    /// `"multinomial"` (default), `"complement"`, `"bernoulli"` or `"gaussian"`.
    pub model_type: String,
    /// Per-class thresholds: prediction = `argmax p_c / t_c`. Default `None`.
    #[serde(with = "crate::param::spark_doubles")]
    pub thresholds: Option<Vec<f64>>,
}

impl Default for NaiveBayesParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            weight_col: None,
            prediction_col: "prediction".into(),
            probability_col: "probability".into(),
            raw_prediction_col: "rawPrediction".into(),
            smoothing: 1.0,
            model_type: "multinomial".into(),
            thresholds: None,
        }
    }
}

/// The four model types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Multinomial,
    Complement,
    Bernoulli,
    Gaussian,
}

impl Kind {
    /// The model type's input check: non-negative (multinomial, complement), 0/1
    /// (bernoulli), finite (gaussian).
    fn check(self) -> ValueCheck {
        match self {
            Kind::Multinomial | Kind::Complement => ValueCheck::NonNegative,
            Kind::Bernoulli => ValueCheck::Binary,
            Kind::Gaussian => ValueCheck::Finite,
        }
    }
}

impl NaiveBayesParams {
    /// The weight column, if one is set and non-empty.
    pub fn weight_col(&self) -> Option<&str> {
        self.weight_col.as_deref().filter(|s| !s.is_empty())
    }
    fn kind(&self) -> Kind {
        match self.model_type.as_str() {
            "complement" => Kind::Complement,
            "bernoulli" => Kind::Bernoulli,
            "gaussian" => Kind::Gaussian,
            _ => Kind::Multinomial,
        }
    }
}

impl Params for NaiveBayesParams {
    const STAGE: &'static str = "NaiveBayes";
    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        check_at_least(s, "smoothing", self.smoothing, 0.0)?;
        const TYPES: [&str; 4] = ["multinomial", "complement", "bernoulli", "gaussian"];
        if !TYPES.contains(&self.model_type.as_str()) {
            return Err(Error::param(
                s,
                "modelType",
                format!("one of {TYPES:?}"),
                format!("{:?}", self.model_type),
            ));
        }
        if let Some(ts) = &self.thresholds {
            let zeros = ts.iter().filter(|t| **t == 0.0).count();
            if ts.is_empty() || ts.iter().any(|t| t.is_nan() || *t < 0.0) || zeros > 1 {
                return Err(Error::param(
                    s,
                    "thresholds",
                    "non-negative values with at most one 0",
                    format!("{ts:?}"),
                ));
            }
        }
        for (name, v) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(s, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}

/// Naive Bayes classification (Spark's `org.apache.spark.ml.classification.NaiveBayes`).
///
/// One pass over the data sums, per class present, the weights and Spark's `Summarizer`
/// statistics of the features; the model follows Spark's formulas for each model type:
/// - `multinomial`: `pi_c = log(N_c + λ) − log(N + Lλ)`, `theta_cj = log(S_cj + λ) −
///   log(Σ_j S_cj + Fλ)`; `complement` the same on the other classes' sums (theta stored
///   negated, pi unused); `bernoulli` with `log(N_c + 2λ)` as denominator;
/// - `gaussian`: `pi_c = log(N_c / N)`, per-class means and variances, each variance
///   raised by `1e-9 ×` the largest global variance.
///
/// Classes are the **distinct labels present**, sorted: with labels {0, 2, 3} the model
/// has 3 classes and predicts the indices 0, 1, 2, as Spark does.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// # use std::sync::Arc;
/// # use mlpipe::arrow::array::{ArrayRef, Float64Array, RecordBatch};
/// use mlpipe::prelude::*;
/// use mlpipe::classification::NaiveBayes;
/// use mlpipe::frame::vector::vector_array;
/// let x = vector_array(vec![3.0, 0.0, 2.0, 1.0, 0.0, 4.0, 1.0, 3.0], 2, None)?;
/// let b = RecordBatch::try_from_iter([
///     ("features", Arc::new(x) as ArrayRef),
///     ("label", Arc::new(Float64Array::from(vec![0.0, 0.0, 1.0, 1.0])) as ArrayRef),
/// ])?;
/// let df = DataFrame::from_batches(vec![b])?;
/// let model = NaiveBayes::new().fit(&df)?;
/// assert_eq!(model.predict(&[5.0, 0.0])?, 0.0);
/// assert_eq!(model.predict(&[0.0, 5.0])?, 1.0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidValue`] naming the column, partition and row for a null or non-integer
/// label, a bad weight, a null vector, and the model type's value checks with Spark's
/// messages (multinomial/complement: "Vector values MUST NOT be Negative, NaN or
/// Infinity"; bernoulli: "Vector values MUST be in {0, 1}"; gaussian: "Vector values MUST
/// NOT be NaN or Infinity"); [`Error::EmptyInput`] for no rows.
#[derive(Clone, Debug)]
pub struct NaiveBayes {
    uid: String,
    params: NaiveBayesParams,
}

impl Default for NaiveBayes {
    fn default() -> Self {
        Self::new()
    }
}

impl NaiveBayes {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "nb";

    /// A `NaiveBayes` with Spark's defaults and a fresh uid.
    pub fn new() -> Self {
        Self::from_params(
            crate::param::random_uid(Self::UID_PREFIX),
            NaiveBayesParams::default(),
        )
    }
    /// A `NaiveBayes` with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: NaiveBayesParams) -> Self {
        Self {
            uid: uid.into(),
            params,
        }
    }
    /// The params.
    pub fn params(&self) -> &NaiveBayesParams {
        &self.params
    }
    /// `"multinomial"`, `"complement"`, `"bernoulli"` or `"gaussian"`.
    pub fn with_model_type(mut self, t: &str) -> Self {
        self.params.model_type = t.into();
        self
    }
    /// Additive smoothing; default 1.0.
    pub fn with_smoothing(mut self, v: f64) -> Self {
        self.params.smoothing = v;
        self
    }
    shared_setters! {
        features_col: "features",
        label_col: "label",
        weight_col: "none (all weights 1)",
        prediction_col: "prediction",
        probability_col: "probability",
        raw_prediction_col: "rawPrediction",
    }
    /// Per-class thresholds.
    pub fn with_thresholds(mut self, t: &[f64]) -> Self {
        self.params.thresholds = Some(t.to_vec());
        self
    }
}

/// The output columns a probabilistic classifier adds: raw, probability, prediction (each
/// skipped when its name is `""`).
fn output_schema(
    p: &NaiveBayesParams,
    input: &Schema,
    stage: &'static str,
    n_features: Option<usize>,
    k: Option<usize>,
) -> Result<Schema> {
    p.validate()?;
    let (_, _, n) = schema::require_vector(input, stage, &p.features_col)?;
    if let Some(e) = n_features {
        if e != n {
            return Err(Error::FeatureCount {
                stage,
                column: p.features_col.clone(),
                expected: e,
                found: n,
            });
        }
    }
    let mut out = input.clone();
    let k = k.unwrap_or(2);
    for c in [&p.raw_prediction_col, &p.probability_col] {
        if !c.is_empty() {
            out = schema::append_field(&out, stage, vector::vector_field(c, k, false))?;
        }
    }
    if !p.prediction_col.is_empty() {
        out = schema::append_field(
            &out,
            stage,
            Field::new(&p.prediction_col, DataType::Float64, false),
        )?;
    }
    Ok(out)
}

impl Stage for NaiveBayes {
    fn kind(&self) -> &'static str {
        "NaiveBayes"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        schema::require_numeric(input, "NaiveBayes", &self.params.label_col)?;
        if let Some(w) = self.params.weight_col() {
            schema::require_numeric(input, "NaiveBayes", w)?;
        }
        // The class count (the vector length) is the number of labels present, known for
        // sure only after fitting: the label's nominal metadata when it has some, else 2,
        // as for LogisticRegression. The fitted model's schema is exact.
        let (_, label) = schema::require_column(input, "NaiveBayes", &self.params.label_col)?;
        let k = super::LogisticRegression::label_metadata_classes(label).unwrap_or(2);
        output_schema(&self.params, input, "NaiveBayes", None, Some(k))
    }
}

/// One class's statistics over its rows: Σw over all its rows (Spark's `sum(w)`), Σw over
/// the rows with a non-zero weight, and per feature Σw·x and Σw·x².
///
/// Spark's `Summarizer` keeps a running mean per feature instead of the sum; both give the
/// same sums up to rounding (about 1e-16 relative), far inside Spark's 1e-12 fixtures, and
/// plain sums need neither a division nor a branch per value.
#[derive(Clone, Debug)]
struct ClassStats {
    label: f64,
    /// Σw over the class's rows (Spark's SQL `sum(w)`).
    weight: f64,
    /// Σw over the rows the Summarizer counts (weight > 0).
    total: f64,
    /// Σw·x per feature.
    wsum_x: Vec<f64>,
    /// Σw·x² per feature.
    m2: Vec<f64>,
}

impl ClassStats {
    fn new(label: f64, n: usize) -> Self {
        Self {
            label,
            weight: 0.0,
            total: 0.0,
            wsum_x: vec![0.0; n],
            m2: vec![0.0; n],
        }
    }
    fn merge(&mut self, o: &ClassStats) {
        self.weight += o.weight;
        self.total += o.total;
        for (a, b) in self.wsum_x.iter_mut().zip(&o.wsum_x) {
            *a += b;
        }
        for (a, b) in self.m2.iter_mut().zip(&o.m2) {
            *a += b;
        }
    }
    /// `Summarizer.sum`.
    fn sum(&self) -> Vec<f64> {
        self.wsum_x.clone()
    }
    /// `Summarizer.mean`.
    fn real_mean(&self) -> Vec<f64> {
        self.wsum_x.iter().map(|s| s / self.total).collect()
    }
    /// `Summarizer.normL2`.
    fn norm_l2(&self) -> Vec<f64> {
        self.m2.iter().map(|v| v.sqrt()).collect()
    }
}

/// Rows per sub-block of [`nb_block`]: its class passes read the sub-block from cache.
const SUB_ROWS: usize = 512;

/// One block's per-class sums (class slots in order of first appearance in the block).
struct BlockSums {
    /// Σw per slot (Spark's `sum(w)`).
    weight: Vec<f64>,
    /// Σw over rows with a non-zero weight per slot.
    total: Vec<f64>,
    /// Σw·x, `slots × n` row-major.
    sums: Vec<f64>,
    /// Σw·x², `slots × n` (gaussian only; empty otherwise).
    m2: Vec<f64>,
}

multiversion! {
    /// Adds the rows `r0..r0 + cls.len()` of `arr` (row `r0 + i` in class slot `cls[i]`
    /// of `out`'s `slots`, weight `w[i]` or 1) to the slots' `Σw`, `Σw·x` (and `Σw·x²` for
    /// gaussian), and returns the sum of each value's check term (see [`value_check`]): 0
    /// exactly when every value passes the model type's check.
    ///
    /// Every sum is the plain row loop's to the bit: per class and feature the rows in row
    /// order, each `acc += w·x` (`acc += (w·x)·x`). Rows are taken a sub-block at a time
    /// ([`SUB_ROWS`]). A sub-block whose rows are all dense is read in place: with at most
    /// [`MASKED_CLASSES`](crate::frame::kernels::MASKED_CLASSES) classes once in order,
    /// every class's sums in registers ([`class_sums_masked`]); with more, its rows sorted
    /// by class (stable) and each class's rows run with its sums in registers
    /// ([`class_sums`]), so no row waits on the previous row's store. A sub-block with
    /// sparse rows (Binarizer's output for bernoulli) is read once in row order, each
    /// sparse row's indices checked as they are read and only its stored values added
    /// ([`class_sums_rows`]; an absent value would add an exact zero).
    ///
    /// # Errors
    /// A sparse row with bad indices: [`VectorBlock::new`](crate::frame::vector::VectorBlock::new)'s error.
    fn nb_block(arr: &DeferredVectorBlock<'_>, at: vector::At<'_>, r0: usize, cls: &[u32], w: Option<&[f64]>, kind: Kind, out: &mut BlockSums) -> Result<f64> {
        let n = arr.size();
        let l = out.weight.len();
        let len = cls.len();
        let check = kind.check();
        let gaussian = kind == Kind::Gaussian;
        let masked = l <= MASKED_CLASSES;
        let (mut order, mut start, mut next) = if masked {
            (Vec::new(), Vec::new(), Vec::new())
        } else {
            (vec![0u32; SUB_ROWS.min(len)], vec![0usize; l + 1], vec![0usize; l])
        };
        let mut chk = 0.0;
        for s0 in (0..len).step_by(SUB_ROWS) {
            let m = SUB_ROWS.min(len - s0);
            let ws = w.map(|w| &w[s0..s0 + m]);
            let Some(x) = arr.dense_rows(r0 + s0, m) else {
                chk += class_sums_rows(
                    arr,
                    r0 + s0,
                    at,
                    &cls[s0..s0 + m],
                    ws,
                    check,
                    gaussian,
                    &mut out.sums,
                    &mut out.m2,
                    &mut out.weight,
                    &mut out.total,
                )?;
                continue;
            };
            if !masked {
                // The sub-block in order from memory: the class passes below read its
                // rows grouped by class, out of order, which the hardware prefetcher does
                // not follow.
                crate::frame::kernels::prefetch(x);
            }
            if masked {
                chk += class_sums_masked(
                    x,
                    n,
                    &cls[s0..s0 + m],
                    l,
                    ws,
                    check,
                    gaussian,
                    &mut out.sums,
                    &mut out.m2,
                    &mut out.weight,
                    &mut out.total,
                );
                continue;
            }
            group_rows(&cls[s0..s0 + m], l, &mut order, &mut start, &mut next);
            for c in 0..l {
                let rows = &order[start[c]..start[c + 1]];
                if rows.is_empty() {
                    continue;
                }
                match ws {
                    Some(ws) => {
                        for &r in rows {
                            let v = ws[r as usize];
                            out.weight[c] += v;
                            // Adds +0.0 for a zero weight: the total (never -0.0) keeps
                            // its bits, as when the row is skipped.
                            out.total[c] += if v != 0.0 { v } else { 0.0 };
                        }
                    }
                    None => {
                        // Σ1 over the rows: an exact count, whatever the order.
                        out.weight[c] += rows.len() as f64;
                        out.total[c] += rows.len() as f64;
                    }
                }
                let sums = &mut out.sums[c * n..(c + 1) * n];
                let m2 = if gaussian {
                    &mut out.m2[c * n..(c + 1) * n]
                } else {
                    &mut [][..]
                };
                chk += class_sums(x, n, rows, ws, check, gaussian, sums, m2);
            }
        }
        Ok(chk)
    }
}

/// Merges one block's statistics of a class into `classes` (in first-seen order), adding
/// the class when it is new: the fixed-order merge of the fit and of its reference test.
fn merge_class(classes: &mut Vec<ClassStats>, s: &ClassStats, n: usize) {
    match classes.iter_mut().find(|c| c.label == s.label) {
        Some(c) => c.merge(s),
        None => {
            let mut c = ClassStats::new(s.label, n);
            c.merge(s);
            classes.push(c);
        }
    }
}

/// A value's check term for the model type, 0 exactly when the value passes: NaN and ±∞
/// give NaN or ∞ (`v·0`), negatives a negative (`v − |v|`, multinomial/complement), and
/// anything but 0 or 1 a positive (`|v·(v − 1)|`, bernoulli). Terms never cancel: all are
/// of one sign or NaN.
#[inline(always)]
fn value_check(kind: Kind, v: f64) -> f64 {
    kind.check().term(v)
}

const BLOCK_ROWS: usize = 16384;

/// Labels below this get their class slot from a table (larger ones are searched).
const LABEL_TABLE: usize = 256;

/// Labels read at a time (into the span's class slots, not a fresh column).
const LABEL_CHUNK: usize = 1024;

multiversion! {
    /// Labels `r0..r0 + out.len()` of a Float64, Int32 or Int64 column as whole numbers
    /// into `out`, and whether every one is a whole number in `[0, n_max)` (`n_max <=
    /// 2³¹ − 1`, so a valid label is exact as `i32`; `out` is meaningless otherwise): one
    /// branch-free pass that vectorises, reading Int32 and Int64 labels as they are (no
    /// cast into a fresh Float64 column).
    fn label_values(lab: &dyn Array, r0: usize, n_max: usize, out: &mut [u32]) -> bool {
        let m = out.len();
        let mut ok = true;
        match lab.data_type() {
            DataType::Int32 => {
                let n_max = n_max as i64;
                let v = &lab.as_primitive::<Int32Type>().values()[r0..r0 + m];
                for (o, &y) in out.iter_mut().zip(v) {
                    ok &= (y >= 0) & (i64::from(y) < n_max);
                    *o = y as u32;
                }
            }
            DataType::Int64 => {
                let n_max = n_max as i64;
                let v = &lab.as_primitive::<Int64Type>().values()[r0..r0 + m];
                for (o, &y) in out.iter_mut().zip(v) {
                    ok &= (y >= 0) & (y < n_max);
                    *o = y as u32;
                }
            }
            _ => {
                let n_max = n_max as f64;
                let v = &lab.as_primitive::<Float64Type>().values()[r0..r0 + m];
                for (o, &y) in out.iter_mut().zip(v) {
                    // (`as i32` is one conversion in every build, where `trunc` is a
                    // call in the baseline one; below `n_max` it is exact.)
                    let yi = y as i32;
                    ok &= (y >= 0.0) & (y < n_max) & (f64::from(yi) == y);
                    *o = yi as u32;
                }
            }
        }
        ok
    }
}

impl Estimator for NaiveBayes {
    type Model = NaiveBayesModel;

    fn fit(&self, df: &DataFrame) -> Result<NaiveBayesModel> {
        let stage = NaiveBayesParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let kind = p.kind();
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        let n_max = p.thresholds.as_ref().map_or(i32::MAX as usize, Vec::len);
        let weights = crate::evaluation::weight_values(df, stage, p.weight_col())?;
        // Each partition's rows through the one row view: an all-dense chunk (any layout)
        // as one row-major slice, mixed or sparse rows row by row (no densified copy), their
        // sparse indices checked as the sweep below reads them (read once, not twice).
        let feat_col = df.column(&p.features_col)?;
        let at = |pi: usize| vector::At {
            stage,
            column: &p.features_col,
            partition: pi,
        };
        // (The partitions are opened in parallel: that checks every row's layout.)
        let feats = feat_col
            .chunks
            .par_iter()
            .enumerate()
            .map(|(pi, c)| DeferredVectorBlock::new(c.as_ref(), n, at(pi)))
            .collect::<Vec<_>>();
        let feats = crate::frame::in_order(feats)?;
        // Labels as they are when Float64, Int32 or Int64 (read as f64 a chunk at a time:
        // a cast would write a fresh column); other numeric types cast once per partition.
        let labels = df
            .column(&p.label_col)?
            .chunks
            .iter()
            .map(|c| match c.data_type() {
                DataType::Float64 | DataType::Int32 | DataType::Int64 => Ok(c.clone()),
                _ => cast(c, &DataType::Float64),
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut spans = Vec::new();
        for (pi, c) in feats.iter().enumerate() {
            let mut r = 0;
            while r < c.len() {
                let len = BLOCK_ROWS.min(c.len() - r);
                spans.push((pi, r, len));
                r += len;
            }
        }
        let parts = spans
            .par_iter()
            .map(|&(pi, r0, len)| -> Result<Vec<ClassStats>> {
                let arr = &feats[pi];
                let lab = labels[pi].as_ref();
                let bad = |col: &str, r: usize, what: String, hint: String| Error::InvalidValue {
                    stage,
                    column: col.to_string(),
                    partition: pi,
                    row: r,
                    what,
                    hint,
                };
                // The labels first (one value per row), a chunk at a time: checked in a
                // branch-free pass (the row loop naming the first bad row runs only when
                // one fails), and each row's class slot, by a table for small labels.
                let nulls = (lab.null_count() > 0 && (r0..r0 + len).any(|r| lab.is_null(r)))
                    || (feat_col.chunks[pi].null_count() > 0
                        && (r0..r0 + len).any(|r| arr.is_null(r)));
                let n_max_f = n_max as f64;
                let mut slots: Vec<f64> = Vec::new();
                let mut table = [u32::MAX; LABEL_TABLE];
                let mut slot_of = |y: u32| -> u32 {
                    if (y as usize) < LABEL_TABLE {
                        let e = &mut table[y as usize];
                        if *e == u32::MAX {
                            *e = slots.len() as u32;
                            slots.push(f64::from(y));
                        }
                        *e
                    } else {
                        let y = f64::from(y);
                        match slots.iter().position(|s| *s == y) {
                            Some(c) => c as u32,
                            None => {
                                slots.push(y);
                                (slots.len() - 1) as u32
                            }
                        }
                    }
                };
                let mut cls = vec![0u32; len];
                let mut labels_ok = true;
                for c0 in (0..len).step_by(LABEL_CHUNK) {
                    let m = LABEL_CHUNK.min(len - c0);
                    let out = &mut cls[c0..c0 + m];
                    labels_ok &= label_values(lab, r0 + c0, n_max, out);
                    if !labels_ok {
                        break;
                    }
                    for c in out {
                        *c = slot_of(*c);
                    }
                }
                if nulls || !labels_ok {
                    let lab = cast(&lab.slice(r0, len), &DataType::Float64)?;
                    let lab = lab.as_primitive::<Float64Type>();
                    for i in 0..len {
                        let r = r0 + i;
                        if lab.is_null(i) || lab.value(i).is_nan() {
                            return Err(bad(
                                &p.label_col,
                                r,
                                "null or NaN label".into(),
                                "Labels MUST NOT be Null or NaN".into(),
                            ));
                        }
                        let y = lab.value(i);
                        if !(y >= 0.0 && y < n_max_f) {
                            return Err(bad(
                                &p.label_col,
                                r,
                                format!("label {y}"),
                                format!("Labels MUST be in [0, {n_max}), but got {y}"),
                            ));
                        }
                        if y.fract() != 0.0 {
                            return Err(bad(
                                &p.label_col,
                                r,
                                format!("label {y}"),
                                format!("Labels MUST be Integers, but got {y}"),
                            ));
                        }
                        if arr.is_null(r) {
                            return Err(bad(
                                &p.features_col,
                                r,
                                "null vector".into(),
                                "Vectors MUST NOT be Null".into(),
                            ));
                        }
                    }
                }
                // Then one sweep over the features: the sums and the value checks.
                let l = slots.len();
                let mut block = BlockSums {
                    weight: vec![0.0; l],
                    total: vec![0.0; l],
                    sums: vec![0.0; l * n],
                    m2: vec![0.0; if kind == Kind::Gaussian { l * n } else { 0 }],
                };
                let wb = weights.as_ref().map(|w| &w[pi][r0..r0 + len]);
                let check = nb_block(arr, at(pi), r0, &cls, wb, kind, &mut block)?;
                if check != 0.0 {
                    // Some value fails the check: name the first row holding one (any bad
                    // sparse indices in the partition reported first, as at open).
                    let arr = arr.check(at(pi))?;
                    for r in r0..r0 + len {
                        let row = arr.row(r).map(|v| v.to_vec()).unwrap_or_default();
                        if row.iter().all(|v| value_check(kind, *v) == 0.0) {
                            continue;
                        }
                        let rule = match kind {
                            Kind::Multinomial | Kind::Complement => {
                                "Vector values MUST NOT be Negative, NaN or Infinity"
                            }
                            Kind::Bernoulli => "Vector values MUST be in {0, 1}",
                            Kind::Gaussian => "Vector values MUST NOT be NaN or Infinity",
                        };
                        return Err(bad(
                            &p.features_col,
                            r,
                            format!("vector {row:?}"),
                            format!("{rule}, but got {row:?} (modelType {:?})", p.model_type),
                        ));
                    }
                }
                let stats = slots
                    .iter()
                    .enumerate()
                    .map(|(c, &label)| {
                        let mut st = ClassStats::new(label, n);
                        st.weight = block.weight[c];
                        st.total = block.total[c];
                        st.wsum_x.copy_from_slice(&block.sums[c * n..(c + 1) * n]);
                        if kind == Kind::Gaussian {
                            st.m2.copy_from_slice(&block.m2[c * n..(c + 1) * n]);
                        }
                        st
                    })
                    .collect::<Vec<_>>();
                Ok(stats)
            })
            .collect::<Vec<_>>();
        let parts = crate::frame::in_order(parts)?;
        let mut classes: Vec<ClassStats> = Vec::new();
        for part in parts {
            for s in part {
                merge_class(&mut classes, &s, n);
            }
        }
        if classes.is_empty() {
            return Err(Error::EmptyInput {
                stage,
                hint: "NaiveBayes needs at least one labelled row".into(),
            });
        }
        classes.sort_by(|a, b| a.label.total_cmp(&b.label));
        let (pi, theta, sigma) = train(&classes, n, kind, p.smoothing);
        Ok(NaiveBayesModel::new(
            self.uid.clone(),
            self.params.clone(),
            pi,
            theta,
            sigma,
        ))
    }
}

/// Spark's fitting formulas: `(pi, theta, sigma)`, theta and sigma row-major L×F.
fn train(
    classes: &[ClassStats],
    n: usize,
    kind: Kind,
    lambda: f64,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let l = classes.len();
    let num_docs = classes.iter().fold(0.0, |a, c| a + c.weight);
    if kind == Kind::Gaussian {
        let means: Vec<Vec<f64>> = classes.iter().map(ClassStats::real_mean).collect();
        let norms: Vec<Vec<f64>> = classes.iter().map(ClassStats::norm_l2).collect();
        let epsilon = (0..n)
            .map(|j| {
                let (mut gs, mut gq) = (0.0, 0.0);
                for (c, cl) in classes.iter().enumerate() {
                    gs += means[c][j] * cl.weight;
                    gq += norms[c][j] * norms[c][j];
                }
                gq / num_docs - gs * gs / num_docs / num_docs
            })
            .fold(f64::NEG_INFINITY, f64::max)
            * 1e-9;
        let log_n = num_docs.ln();
        let mut pi = vec![0.0; l];
        let mut theta = vec![0.0; l * n];
        let mut sigma = vec![0.0; l * n];
        for (c, cl) in classes.iter().enumerate() {
            pi[c] = cl.weight.ln() - log_n;
            for j in 0..n {
                let m = means[c][j];
                theta[c * n + j] = m;
                sigma[c * n + j] = epsilon + norms[c][j] * norms[c][j] / cl.weight - m * m;
            }
        }
        return (pi, theta, sigma);
    }
    let pi_denom = (num_docs + l as f64 * lambda).ln();
    let pi: Vec<f64> = classes
        .iter()
        .map(|c| (c.weight + lambda).ln() - pi_denom)
        .collect();
    let sums: Vec<Vec<f64>> = classes.iter().map(ClassStats::sum).collect();
    let mut theta = vec![0.0; l * n];
    match kind {
        Kind::Multinomial => {
            for (c, s) in sums.iter().enumerate() {
                let denom = (s.iter().fold(0.0, |a, b| a + b) + n as f64 * lambda).ln();
                for j in 0..n {
                    theta[c * n + j] = (s[j] + lambda).ln() - denom;
                }
            }
        }
        Kind::Bernoulli => {
            for (c, s) in sums.iter().enumerate() {
                let denom = (classes[c].weight + 2.0 * lambda).ln();
                for j in 0..n {
                    theta[c * n + j] = (s[j] + lambda).ln() - denom;
                }
            }
        }
        Kind::Complement => {
            let mut total = vec![0.0; n];
            for s in &sums {
                for (t, v) in total.iter_mut().zip(s) {
                    *t += v;
                }
            }
            for (c, s) in sums.iter().enumerate() {
                let comp: Vec<f64> = total.iter().zip(s).map(|(t, v)| t - v).collect();
                let denom = (comp.iter().fold(0.0, |a, b| a + b) + n as f64 * lambda).ln();
                for j in 0..n {
                    theta[c * n + j] = -((comp[j] + lambda).ln() - denom);
                }
            }
        }
        Kind::Gaussian => unreachable!("handled above"),
    }
    (pi, theta, Vec::new())
}

/// A fitted [`NaiveBayes`]: log priors `pi`, `theta` (log likelihoods, or the means for
/// gaussian) and `sigma` (variances, gaussian only).
#[derive(Clone, Debug)]
pub struct NaiveBayesModel {
    uid: String,
    params: NaiveBayesParams,
    pi: Vec<f64>,
    theta: Vec<f64>,
    sigma: Vec<f64>,
    /// Precomputed per model type: bernoulli `theta − log1p(−exp theta)`.
    theta_adj: Vec<f64>,
    /// bernoulli: `pi + Σ_j log1p(−exp theta_cj)`; gaussian: `Σ_j log sigma_cj`.
    class_const: Vec<f64>,
}

impl NaiveBayesModel {
    /// A model from its fitted values: `theta` and `sigma` row-major, one row per class
    /// (`sigma` empty unless the model type is gaussian).
    pub fn new(
        uid: impl Into<String>,
        params: NaiveBayesParams,
        pi: Vec<f64>,
        theta: Vec<f64>,
        sigma: Vec<f64>,
    ) -> Self {
        let l = pi.len().max(1);
        let n = theta.len() / l;
        let (theta_adj, class_const) = match params.kind() {
            Kind::Bernoulli => {
                let neg: Vec<f64> = theta.iter().map(|t| (-t.exp()).ln_1p()).collect();
                let adj = theta.iter().zip(&neg).map(|(t, g)| t - g).collect();
                let cc = (0..pi.len())
                    .map(|c| {
                        let mut s = 0.0;
                        for g in &neg[c * n..(c + 1) * n] {
                            s += g;
                        }
                        pi[c] + s
                    })
                    .collect();
                (adj, cc)
            }
            Kind::Gaussian => {
                let cc = (0..pi.len())
                    .map(|c| {
                        let mut s = 0.0;
                        for v in sigma.get(c * n..(c + 1) * n).unwrap_or(&[]) {
                            s += v.ln();
                        }
                        s
                    })
                    .collect();
                (Vec::new(), cc)
            }
            _ => (Vec::new(), Vec::new()),
        };
        Self {
            uid: uid.into(),
            params,
            pi,
            theta,
            sigma,
            theta_adj,
            class_const,
        }
    }
    /// The params.
    pub fn params(&self) -> &NaiveBayesParams {
        &self.params
    }
    /// Log class priors (Spark's `pi`).
    pub fn pi(&self) -> &[f64] {
        &self.pi
    }
    /// Spark's `theta`, row-major (classes × features).
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }
    /// Spark's `sigma` (gaussian variances), row-major; empty for other model types.
    pub fn sigma(&self) -> &[f64] {
        &self.sigma
    }
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.pi.len()
    }
    /// Number of features.
    pub fn num_features(&self) -> usize {
        self.theta.len() / self.pi.len().max(1)
    }

    fn check_row(&self, x: Row<'_>) -> std::result::Result<(), String> {
        // A sparse row's unstored entries are zeros, which every kind accepts.
        let mut bad = None;
        match self.params.kind() {
            Kind::Multinomial | Kind::Complement => x.for_each_active(|_, v| {
                if bad.is_none() && (v.is_nan() || v < 0.0) {
                    bad = Some(format!(
                        "Naive Bayes requires nonnegative feature values but found {v}"
                    ));
                }
            }),
            Kind::Bernoulli => x.for_each_active(|_, v| {
                if bad.is_none() && v != 0.0 && v != 1.0 {
                    bad = Some(format!(
                        "Bernoulli naive Bayes requires 0 or 1 feature values but found {v}"
                    ));
                }
            }),
            Kind::Gaussian => {}
        }
        bad.map_or(Ok(()), Err)
    }

    /// Spark's `predictRaw` into `raw` (one value per class); the row is checked.
    fn raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        let n = self.num_features();
        // Spark's `theta.multiply(features)`: a sparse row sums over its stored entries.
        let gemv = |m: &[f64], c: usize| x.dot(&m[c * n..(c + 1) * n]);
        match self.params.kind() {
            Kind::Multinomial => {
                for (c, r) in raw.iter_mut().enumerate() {
                    *r = gemv(&self.theta, c) + self.pi[c];
                }
            }
            Kind::Complement => {
                for (c, r) in raw.iter_mut().enumerate() {
                    *r = gemv(&self.theta, c);
                }
                let max = raw.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let mut se = 0.0;
                for r in raw.iter() {
                    se += (r - max).exp();
                }
                let lse = se.ln() + max;
                raw.iter_mut().for_each(|r| *r -= lse);
            }
            Kind::Bernoulli => {
                for (c, r) in raw.iter_mut().enumerate() {
                    *r = gemv(&self.theta_adj, c) + self.class_const[c];
                }
            }
            Kind::Gaussian => {
                let dense;
                let x = match x.as_dense() {
                    Some(v) => v,
                    None => {
                        dense = x.to_vec();
                        &dense[..]
                    }
                };
                for (c, r) in raw.iter_mut().enumerate() {
                    let mut s = 0.0;
                    let (th, sg) = (
                        &self.theta[c * n..(c + 1) * n],
                        &self.sigma[c * n..(c + 1) * n],
                    );
                    for ((xj, t), v) in x.iter().zip(th).zip(sg) {
                        let d = xj - t;
                        s += d * d / v;
                    }
                    *r = self.pi[c] - (s + self.class_const[c]) / 2.0;
                }
            }
        }
    }

    /// Spark's softmax (`Utils.softmax`): a `+∞` entry gives the one-hot vector, else
    /// `exp(r − max)` scaled by `1 / Σ`.
    fn probability_into(raw: &[f64], prob: &mut [f64]) {
        if let Some(i) = raw.iter().position(|v| *v == f64::INFINITY) {
            prob.iter_mut().for_each(|p| *p = 0.0);
            prob[i] = 1.0;
            return;
        }
        let max = raw.iter().cloned().fold(f64::MIN, f64::max);
        let mut sum = 0.0;
        for (p, r) in prob.iter_mut().zip(raw) {
            *p = (r - max).exp();
            sum += *p;
        }
        let inv = 1.0 / sum;
        prob.iter_mut().for_each(|p| *p *= inv);
    }

    fn prediction(&self, raw: &[f64], prob: &[f64]) -> f64 {
        let argmax = |v: &mut dyn Iterator<Item = f64>| {
            let (mut best, mut bv) = (0, f64::NEG_INFINITY);
            for (i, x) in v.enumerate() {
                if x > bv {
                    bv = x;
                    best = i;
                }
            }
            best as f64
        };
        match &self.params.thresholds {
            None => argmax(&mut raw.iter().cloned()),
            Some(t) => argmax(&mut prob.iter().zip(t).map(|(p, t)| p / t)),
        }
    }

    /// Raw scores, probabilities and the predicted class index of one row.
    ///
    /// # Errors
    /// [`Error::FeatureCount`] for a row of another length; [`Error::InvalidParam`] for a
    /// value the model type refuses (negative for multinomial/complement, not 0/1 for
    /// bernoulli), with Spark's message.
    pub fn predict_all(&self, x: &[f64]) -> Result<(Vec<f64>, Vec<f64>, f64)> {
        if x.len() != self.num_features() {
            return Err(Error::FeatureCount {
                stage: "NaiveBayesModel",
                column: self.params.features_col.clone(),
                expected: self.num_features(),
                found: x.len(),
            });
        }
        self.check_row(Row::Dense(x)).map_err(|m| {
            Error::param(
                "NaiveBayesModel",
                &self.params.features_col,
                m,
                format!("{x:?}"),
            )
        })?;
        let k = self.num_classes();
        let mut raw = vec![0.0; k];
        let mut prob = vec![0.0; k];
        self.raw_into(Row::Dense(x), &mut raw);
        Self::probability_into(&raw, &mut prob);
        let pred = self.prediction(&raw, &prob);
        Ok((raw, prob, pred))
    }

    /// The predicted class index of one row.
    ///
    /// # Errors
    /// As [`NaiveBayesModel::predict_all`].
    pub fn predict(&self, x: &[f64]) -> Result<f64> {
        Ok(self.predict_all(x)?.2)
    }

    fn check(&self) -> Result<()> {
        let l = self.pi.len();
        let bad = |what: String| Err(Error::param("NaiveBayesModel", "theta", what, ""));
        if l == 0 || self.theta.len() % l != 0 {
            return bad(format!("{} classes × features values", l));
        }
        let gaussian = self.params.kind() == Kind::Gaussian;
        if gaussian == self.sigma.is_empty() || (gaussian && self.sigma.len() != self.theta.len()) {
            return Err(Error::param(
                "NaiveBayesModel",
                "sigma",
                "a classes × features matrix for gaussian, empty otherwise",
                format!("{} values", self.sigma.len()),
            ));
        }
        if let Some(t) = &self.params.thresholds {
            if t.len() != l {
                return Err(Error::param(
                    "NaiveBayesModel",
                    "thresholds",
                    format!("{l} values, one per class"),
                    format!("{t:?}"),
                ));
            }
        }
        Ok(())
    }
}

impl Stage for NaiveBayesModel {
    fn kind(&self) -> &'static str {
        "NaiveBayesModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.check()?;
        output_schema(
            &self.params,
            input,
            "NaiveBayesModel",
            Some(self.num_features()),
            Some(self.num_classes()),
        )
    }
}

impl Transformer for NaiveBayesModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.params.validate()?;
        crate::predictor::transform(self, df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl PredictionModel for NaiveBayesModel {
    fn stage_name(&self) -> &'static str {
        "NaiveBayesModel"
    }
    fn columns(&self) -> PredictionColumns<'_> {
        PredictionColumns {
            features: &self.params.features_col,
            prediction: &self.params.prediction_col,
            raw_prediction: &self.params.raw_prediction_col,
            probability: &self.params.probability_col,
        }
    }
    fn num_features(&self) -> usize {
        NaiveBayesModel::num_features(self)
    }
    fn kind(&self) -> PredictorKind {
        PredictorKind::Probabilistic {
            num_classes: self.num_classes(),
        }
    }
    fn check_model(&self) -> Result<()> {
        self.check()
    }
    fn check_row_values(&self, x: Row<'_>) -> std::result::Result<(), String> {
        self.check_row(x)
    }
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
        self.raw_into(x, raw);
    }
    fn raw_to_probability_in_place(&self, raw: &mut [f64]) {
        // Spark's softmax (one-hot at a +inf, else exp(r − max) × 1/Σ).
        let r = raw.to_vec();
        Self::probability_into(&r, raw);
    }
    fn thresholds(&self) -> Option<&[f64]> {
        self.params.thresholds.as_deref()
    }
}

impl Model for NaiveBayesModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(NaiveBayes, "org.apache.spark.ml.classification.NaiveBayes");

impl SparkPersist for NaiveBayesModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.classification.NaiveBayesModel";

    /// `data/`: one row `pi: vector, theta: matrix, sigma: matrix` (sigma 0×0 unless
    /// gaussian).
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let (l, n) = (self.num_classes(), self.num_features());
        let sigma = if self.sigma.is_empty() {
            Matrix::new(0, 0, Vec::new())?
        } else {
            Matrix::new(l, n, self.sigma.clone())?
        };
        let batch = format::one_row(vec![
            Vector::compressed(&self.pi).field_and_array("pi")?,
            Matrix::new(l, n, self.theta.clone())?.field_and_array("theta")?,
            sigma.field_and_array("sigma")?,
        ])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("pi", format::vector_udt_json(), true),
                ("theta", format::matrix_udt_json(), true),
                ("sigma", format::matrix_udt_json(), true),
            ]),
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let d = format::read_data(dir)?;
        let pi = format::dense_vector(&d, "pi", dir)?;
        let theta = Matrix::from_column(format::column(&d, "theta", dir)?, dir)?;
        let sigma = match d.column_by_name("sigma") {
            Some(c) => Matrix::from_column(c, dir)?.to_row_major(),
            None => Vec::new(),
        };
        let m = Self::new(
            md.uid.clone(),
            md.params_as(dir)?,
            pi,
            theta.to_row_major(),
            sigma,
        );
        m.check()
            .map_err(|e| Error::file(dir.join("data"), format!("inconsistent model: {e}")))?;
        Ok(m)
    }
}

// ---- Row form (crate::row): the shared predictor layer's ----

impl crate::row::RowStage for NaiveBayesModel {
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
    use crate::random::JvmRandom;
    use arrow::array::{ArrayRef, Float64Array, RecordBatch};
    use std::sync::Arc;

    /// Rows of one partition: features (dense, or mixed dense/sparse rows), label, weight.
    fn batch(x: &[f64], n: usize, y: &[f64], w: &[f64], sparse: bool) -> RecordBatch {
        let feats: ArrayRef = if sparse {
            let mut b = crate::frame::vector::SparseVectorBuilder::new(n);
            for (r, row) in x.chunks(n).enumerate() {
                if r % 3 == 0 {
                    b.push_dense(row).unwrap();
                } else {
                    let (idx, val): (Vec<i32>, Vec<f64>) = row
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| **v != 0.0)
                        .map(|(j, v)| (j as i32, *v))
                        .unzip();
                    b.push(&idx, &val).unwrap();
                }
            }
            b.finish().unwrap()
        } else {
            Arc::new(vector::vector_array(x.to_vec(), n, None).unwrap())
        };
        let schema = Schema::new(vec![
            if sparse {
                crate::frame::vector::sparse_vector_field("features", n, true)
            } else {
                vector::vector_field("features", n, true)
            },
            Field::new("label", DataType::Float64, true),
            Field::new("w", DataType::Float64, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![
                feats,
                Arc::new(Float64Array::from(y.to_vec())),
                Arc::new(Float64Array::from(w.to_vec())),
            ],
        )
        .unwrap()
    }

    /// The fit is, to the bit, the plain row loop (per block, each row added to its
    /// class's `Σw`, `Σw·x`, `Σw·x²` in row order; blocks merged in order) followed by
    /// Spark's formulas: every model type, dense and mixed dense/sparse rows, with and
    /// without weights, labels above the lookup table, 4 classes (rows grouped by class),
    /// 2 and 1 (rows in order, masked sums), on one and on two threads, in every SIMD build.
    #[test]
    fn fit_is_the_plain_row_loop_bitwise() {
        let n = 5;
        let mut rng = crate::random::JavaRandom::new(5);
        let sizes = [BLOCK_ROWS + 2500, 900];
        let label_sets: [&[f64]; 3] = [&[0.0, 1.0, 2.0, 70.0], &[0.0, 70.0], &[2.0]];
        for kind in ["multinomial", "complement", "bernoulli", "gaussian"] {
            for (sparse, weighted, labels) in [false, true]
                .into_iter()
                .flat_map(|s| [(s, false), (s, true)])
                .flat_map(|(s, w)| label_sets.map(|l| (s, w, l)))
            {
                {
                    let parts: Vec<(Vec<f64>, Vec<f64>, Vec<f64>)> = sizes
                        .iter()
                        .map(|&rows| {
                            let x = (0..rows * n)
                                .map(|_| {
                                    let u = rng.next_double();
                                    match kind {
                                        "bernoulli" => (u < 0.4) as u8 as f64,
                                        "gaussian" => u * 6.0 - 3.0,
                                        _ => (u * 5.0).floor() * 0.75,
                                    }
                                })
                                .collect();
                            let y = (0..rows)
                                .map(|_| labels[(rng.next_double() * labels.len() as f64) as usize])
                                .collect();
                            let w = (0..rows)
                                .map(|i| {
                                    if weighted {
                                        [0.0, 0.5, 1.5, 2.25][i % 4]
                                    } else {
                                        1.0
                                    }
                                })
                                .collect();
                            (x, y, w)
                        })
                        .collect();
                    let df = DataFrame::from_batches(
                        parts
                            .iter()
                            .map(|(x, y, w)| batch(x, n, y, w, sparse))
                            .collect(),
                    )
                    .unwrap();
                    // The plain loop.
                    let k = NaiveBayes::new().with_model_type(kind).params.kind();
                    let mut classes: Vec<ClassStats> = Vec::new();
                    for (x, y, w) in &parts {
                        for r0 in (0..y.len()).step_by(BLOCK_ROWS) {
                            let mut block: Vec<ClassStats> = Vec::new();
                            for r in r0..(r0 + BLOCK_ROWS).min(y.len()) {
                                let c = match block.iter().position(|s| s.label == y[r]) {
                                    Some(c) => c,
                                    None => {
                                        block.push(ClassStats::new(y[r], n));
                                        block.len() - 1
                                    }
                                };
                                let st = &mut block[c];
                                st.weight += w[r];
                                if w[r] != 0.0 {
                                    st.total += w[r];
                                }
                                for j in 0..n {
                                    let v = x[r * n + j];
                                    st.wsum_x[j] += w[r] * v;
                                    st.m2[j] += w[r] * v * v;
                                }
                            }
                            for s in block {
                                merge_class(&mut classes, &s, n);
                            }
                        }
                    }
                    classes.sort_by(|a, b| a.label.total_cmp(&b.label));
                    let (pi, theta, sigma) = train(&classes, n, k, 1.0);
                    let nb = NaiveBayes::new().with_model_type(kind);
                    let nb = if weighted {
                        nb.with_weight_col("w")
                    } else {
                        nb
                    };
                    let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                    for threads in [1, 2] {
                        let pool = rayon::ThreadPoolBuilder::new()
                            .num_threads(threads)
                            .build()
                            .unwrap();
                        let fits = crate::frame::kernels::in_each_build(|| {
                            pool.install(|| nb.fit(&df)).unwrap()
                        });
                        for (build, m) in fits {
                            let at = format!(
                                "{kind} sparse {sparse} weighted {weighted} classes {} threads {threads} {build:?}",
                                labels.len()
                            );
                            assert_eq!(bits(m.pi()), bits(&pi), "{at}");
                            assert_eq!(bits(m.theta()), bits(&theta), "{at}");
                            assert_eq!(bits(m.sigma()), bits(&sigma), "{at}");
                        }
                    }
                }
            }
        }
    }

    /// Int32 and Int64 labels (read as f64 a chunk at a time, not cast into a new column)
    /// give the Float64 labels' model to the bit, and a bad integer label is named by its
    /// partition and row with Spark's message.
    #[test]
    fn integer_labels_are_the_float_labels() {
        use arrow::array::{Int32Array, Int64Array};
        let n = 3;
        let rows = BLOCK_ROWS + 1500;
        let mut rng = crate::random::JavaRandom::new(9);
        let x: Vec<f64> = (0..rows * n)
            .map(|_| (rng.next_double() * 4.0).floor())
            .collect();
        let y: Vec<i32> = (0..rows)
            .map(|_| [0, 1, 3, 300][(rng.next_double() * 4.0) as usize])
            .collect();
        let feats: ArrayRef = Arc::new(vector::vector_array(x, n, None).unwrap());
        let frame = |label: ArrayRef| {
            let schema = Schema::new(vec![
                vector::vector_field("features", n, true),
                Field::new("label", label.data_type().clone(), true),
            ]);
            DataFrame::from_batches(vec![RecordBatch::try_new(
                Arc::new(schema),
                vec![feats.clone(), label],
            )
            .unwrap()])
            .unwrap()
        };
        let f64s: ArrayRef = Arc::new(Float64Array::from(
            y.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(),
        ));
        let i32s: ArrayRef = Arc::new(Int32Array::from(y.clone()));
        let i64s: ArrayRef = Arc::new(Int64Array::from(
            y.iter().map(|&v| i64::from(v)).collect::<Vec<_>>(),
        ));
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for kind in ["multinomial", "gaussian"] {
            let nb = NaiveBayes::new().with_model_type(kind);
            let want = nb.fit(&frame(f64s.clone())).unwrap();
            for labels in [&i32s, &i64s] {
                let got = nb.fit(&frame(labels.clone())).unwrap();
                assert_eq!(
                    bits(got.pi()),
                    bits(want.pi()),
                    "{kind} {}",
                    labels.data_type()
                );
                assert_eq!(
                    bits(got.theta()),
                    bits(want.theta()),
                    "{kind} {}",
                    labels.data_type()
                );
                assert_eq!(
                    bits(got.sigma()),
                    bits(want.sigma()),
                    "{kind} {}",
                    labels.data_type()
                );
            }
        }
        let mut bad = y.clone();
        bad[BLOCK_ROWS + 7] = -2;
        let err = NaiveBayes::new()
            .fit(&frame(Arc::new(Int32Array::from(bad))))
            .unwrap_err()
            .to_string();
        assert!(err.contains("NaiveBayes"), "{err}");
        assert!(err.contains("label"), "{err}");
        assert!(err.contains(&format!("row {}", BLOCK_ROWS + 7)), "{err}");
        assert!(
            err.contains("Labels MUST be in [0, 2147483647), but got -2"),
            "{err}"
        );
    }
}
