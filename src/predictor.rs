//! The shared predictor layer: what Spark's `PredictionModel`, `ClassificationModel` and
//! `ProbabilisticClassificationModel` do, written once for every model.
//!
//! A model scores one row; this layer does everything around it:
//!
//! - the column params and their checks (`featuresCol`, `labelCol`, `weightCol` at fit
//!   time; `predictionCol`, `rawPredictionCol`, `probabilityCol` at transform time; an
//!   empty output name disables that output, as in Spark);
//! - the output schema ([`output_schema`], which a model's and its estimator's
//!   `transform_schema` both use);
//! - raw → probability → prediction, with Spark's `thresholds` rule
//!   (`argmax p_i / t_i`, a threshold of 0 always wins unless its probability is 0);
//! - the batch transform over a vector column ([`transform`]): partitions and blocks of
//!   [`BLOCK_ROWS`] rows in parallel, each block scored at once
//!   ([`PredictionModel::predict_raw_block`]) into the output buffers, with no allocation
//!   per row;
//! - single-row scoring: [`PredictionModel::predict`], [`PredictionModel::predict_raw`]
//!   and [`PredictionModel::predict_probability`], with no heap allocation for up to
//!   [`STACK_OUTPUTS`] classes.
//!
//! Rows reach a model as a [`Row`] view, so a model's scoring code does not care how the
//! vector is stored: a dense slice, or a sparse vector's indices and values (Spark's
//! `VectorUDT` column). A model that uses [`Row::dot`] / [`Row::for_each_active`] touches
//! only a sparse row's stored entries.
//!
//! # Adding a model
//!
//! 1. Implement [`PredictionModel`] for the fitted model:
//!    - [`stage_name`](PredictionModel::stage_name) (Spark's class name, used in errors),
//!      [`columns`](PredictionModel::columns) (from the model's params),
//!      [`num_features`](PredictionModel::num_features) and
//!      [`kind`](PredictionModel::kind): [`PredictorKind::Regression`],
//!      [`PredictorKind::Classification`] (raw scores, prediction = argmax) or
//!      [`PredictorKind::Probabilistic`] (raw → probability → prediction);
//!    - [`predict_raw_into`](PredictionModel::predict_raw_into): a regressor writes its
//!      prediction into `raw[0]`; a classifier writes its `num_classes` raw scores;
//!    - optionally [`predict_raw_block`](PredictionModel::predict_raw_block), when the
//!      model scores a block of rows faster than one row at a time (tree ensembles: one
//!      tree over the whole block);
//!    - for a probabilistic classifier,
//!      [`raw_to_probability_in_place`](PredictionModel::raw_to_probability_in_place)
//!      (the default divides by the sum, Spark's `normalizeToProbabilitiesInPlace`, as
//!      trees and forests use) and [`thresholds`](PredictionModel::thresholds);
//!    - for a binary classifier that decides on the raw margin (Spark's
//!      LogisticRegression and LinearSVC), [`raw_threshold`](PredictionModel::raw_threshold);
//!    - [`check_model`](PredictionModel::check_model) if the model can be built with
//!      inconsistent parts, and [`check_row_values`](PredictionModel::check_row_values) if
//!      it refuses some feature values.
//! 2. In the model's `Stage::transform_schema`, validate the params and call
//!    [`transform_schema`]; in its `Transformer::transform`, call [`transform`].
//! 3. In the estimator's `transform_schema`, call [`check_fit_columns`] and
//!    [`output_schema`] with `expected_features = None`.
//! 4. Give the model inherent `predict` / `predict_raw` (/ `predict_probability`) methods
//!    that forward to the trait's, so callers need no trait import.
//!
//! # Examples
//! A toy regressor `y = 2·x₀ + 1`:
//! ```
//! use mlpipe::predictor::{PredictionColumns, PredictionModel, PredictorKind, Row};
//!
//! struct Line;
//! impl PredictionModel for Line {
//!     fn stage_name(&self) -> &'static str { "Line" }
//!     fn columns(&self) -> PredictionColumns<'_> { PredictionColumns::regression("features", "prediction") }
//!     fn num_features(&self) -> usize { 1 }
//!     fn kind(&self) -> PredictorKind { PredictorKind::Regression }
//!     fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) { raw[0] = x.dot(&[2.0]) + 1.0 }
//! }
//! assert_eq!(Line.predict(&[3.0]).unwrap(), 7.0);
//! assert!(Line.predict(&[3.0, 4.0]).is_err()); // wrong length: a clear error
//! ```

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::{buffer, in_order, schema, vector, DataFrame};

/// Classes up to which single-row scoring uses stack buffers (no heap allocation).
pub const STACK_OUTPUTS: usize = 16;

/// Rows per block in the batch transform: each block is one parallel task and one
/// [`PredictionModel::predict_raw_block`] call.
pub const BLOCK_ROWS: usize = 512;

/// One feature vector as a model sees it (dense slice or sparse indices + values); the
/// same view every stage reads vector columns through.
pub use crate::frame::vector::Row;

/// What a model outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PredictorKind {
    /// One value per row, the prediction (Spark's `RegressionModel`).
    Regression,
    /// `num_classes` raw scores; prediction = their argmax (Spark's `ClassificationModel`).
    Classification {
        /// Length of the raw prediction vector.
        num_classes: usize,
    },
    /// Raw scores, probabilities from them, prediction from either (Spark's
    /// `ProbabilisticClassificationModel`).
    Probabilistic {
        /// Length of the raw prediction and probability vectors.
        num_classes: usize,
    },
}

impl PredictorKind {
    /// Length of the raw buffer [`PredictionModel::predict_raw_into`] fills.
    pub fn raw_len(self) -> usize {
        match self {
            PredictorKind::Regression => 1,
            PredictorKind::Classification { num_classes }
            | PredictorKind::Probabilistic { num_classes } => num_classes,
        }
    }
}

/// A model's column names. An empty output name disables that output (Spark's rule);
/// regressors have no raw prediction or probability column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PredictionColumns<'a> {
    /// The input vector column (`featuresCol`).
    pub features: &'a str,
    /// The predicted value or class (`predictionCol`).
    pub prediction: &'a str,
    /// The raw scores vector (`rawPredictionCol`); `""` for regressors.
    pub raw_prediction: &'a str,
    /// The probability vector (`probabilityCol`); `""` for regressors and plain classifiers.
    pub probability: &'a str,
}

impl<'a> PredictionColumns<'a> {
    /// The columns of a regressor.
    pub fn regression(features: &'a str, prediction: &'a str) -> Self {
        Self {
            features,
            prediction,
            raw_prediction: "",
            probability: "",
        }
    }
}

/// A fitted model that scores feature vectors. See the [module docs](self) for how to add
/// one.
pub trait PredictionModel: Sync {
    /// The Spark class name, for errors (e.g. `"LinearRegressionModel"`).
    fn stage_name(&self) -> &'static str;
    /// The model's column names.
    fn columns(&self) -> PredictionColumns<'_>;
    /// The number of features a row must have.
    fn num_features(&self) -> usize;
    /// What the model outputs.
    fn kind(&self) -> PredictorKind;
    /// Checks that the model's parts fit together (a model built from inconsistent parts
    /// is an error, never a panic while scoring). Called before any scoring.
    fn check_model(&self) -> Result<()> {
        Ok(())
    }
    /// Checks one row's values before it is scored (e.g. naive Bayes refuses negative
    /// counts): `Err(what to do)` makes the batch transform fail with
    /// [`Error::InvalidValue`] naming the row. The default accepts every row.
    fn check_row_values(&self, _x: Row<'_>) -> std::result::Result<(), String> {
        Ok(())
    }
    /// Scores one row: a regressor writes the prediction into `raw[0]`, a classifier its
    /// raw scores into `raw` (length [`PredictorKind::raw_len`]). `x` has
    /// [`num_features`](Self::num_features) values (checked by the caller).
    fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]);
    /// Scores a block of rows: the raw scores of `rows[i]` go to
    /// `raw[i·k .. (i+1)·k]`, `k` = [`PredictorKind::raw_len`]; `raw` is zero-filled on
    /// entry. The batch transform calls this once per block of up to [`BLOCK_ROWS`] rows
    /// (blocks in parallel); every row has [`num_features`](Self::num_features) values and
    /// passed [`check_row_values`](Self::check_row_values). Single-row scoring uses
    /// [`predict_raw_into`](Self::predict_raw_into).
    ///
    /// The default calls [`predict_raw_into`](Self::predict_raw_into) row by row. Override
    /// it when scoring a block at once is faster (tree ensembles walk one tree over the
    /// whole block, so the tree stays in cache); each row's scores must equal what
    /// [`predict_raw_into`](Self::predict_raw_into) gives for it.
    fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
        let k = self.kind().raw_len();
        for (x, r) in rows.iter().zip(raw.chunks_exact_mut(k)) {
            self.predict_raw_into(*x, r);
        }
    }
    /// Turns raw scores into probabilities in place (probabilistic classifiers). The
    /// default divides by the sum, Spark's `normalizeToProbabilitiesInPlace`.
    fn raw_to_probability_in_place(&self, raw: &mut [f64]) {
        let sum: f64 = raw.iter().sum();
        if sum != 0.0 {
            raw.iter_mut().for_each(|v| *v /= sum);
        }
    }
    /// Per-class thresholds (Spark's `thresholds`): prediction = `argmax pᵢ / tᵢ`.
    fn thresholds(&self) -> Option<&[f64]> {
        None
    }
    /// For a binary classifier that decides on its margin: predict 1 when `raw[1]` is
    /// greater than this, else 0 (Spark's LogisticRegression and LinearSVC). Computed once
    /// per batch; when `Some`, it replaces the argmax and `thresholds` rules.
    fn raw_threshold(&self) -> Option<f64> {
        None
    }

    /// The prediction (value or class index) for one row.
    ///
    /// # Errors
    /// When `x` does not have [`num_features`](Self::num_features) values, or the model is
    /// inconsistent.
    fn predict(&self, x: &[f64]) -> Result<f64> {
        self.predict_row(Row::Dense(x))
    }

    /// The prediction (value or class index) for one row given as a [`Row`], dense or
    /// sparse.
    ///
    /// ```
    /// use mlpipe::classification::LinearSVCModel;
    /// use mlpipe::predictor::{PredictionModel, Row};
    /// let m = LinearSVCModel::new("svc", Default::default(), vec![2.0, 0.0, -1.0], 0.5);
    /// let x = Row::Sparse { size: 3, indices: &[0], values: &[1.0] };
    /// assert_eq!(m.predict_row(x).unwrap(), m.predict(&[1.0, 0.0, 0.0]).unwrap());
    /// let bad = Row::Sparse { size: 3, indices: &[2, 0], values: &[1.0, 1.0] };
    /// assert!(m.predict_row(bad).is_err()); // unsorted indices: a clear error
    /// ```
    ///
    /// # Errors
    /// As [`predict`](Self::predict), and [`Error::InvalidValue`] for a sparse row whose
    /// indices are unsorted, repeated or out of range.
    fn predict_row(&self, x: Row<'_>) -> Result<f64> {
        check_row(self, x)?;
        let k = self.kind().raw_len();
        let mut stack = [0.0; 2 * STACK_OUTPUTS];
        let mut heap = Vec::new();
        let buf = if k <= STACK_OUTPUTS {
            &mut stack[..2 * k]
        } else {
            heap.resize(2 * k, 0.0);
            &mut heap[..]
        };
        let (raw, prob) = buf.split_at_mut(k);
        let decision = Decision::of(self);
        Ok(score_row(self, &decision, x, raw, prob, false))
    }

    /// The raw prediction of one row (for a regressor, the one-value prediction).
    ///
    /// # Errors
    /// As [`predict`](Self::predict).
    fn predict_raw(&self, x: &[f64]) -> Result<Vec<f64>> {
        check_row(self, x)?;
        let mut raw = vec![0.0; self.kind().raw_len()];
        self.predict_raw_into(Row::Dense(x), &mut raw);
        Ok(raw)
    }

    /// The class probabilities of one row.
    ///
    /// # Errors
    /// As [`predict`](Self::predict), and for a model that is not a probabilistic
    /// classifier.
    fn predict_probability(&self, x: &[f64]) -> Result<Vec<f64>> {
        if !matches!(self.kind(), PredictorKind::Probabilistic { .. }) {
            return Err(Error::Usage(format!(
                "{} gives no probabilities; use predict or predict_raw",
                self.stage_name()
            )));
        }
        let mut p = self.predict_raw(x)?;
        self.raw_to_probability_in_place(&mut p);
        Ok(p)
    }
}

fn check_row<'a, M: PredictionModel + ?Sized>(m: &M, x: impl Into<Row<'a>>) -> Result<()> {
    m.check_model()?;
    let x: Row<'a> = x.into();
    if let Err(what) = x.check() {
        return Err(Error::InvalidValue {
            stage: m.stage_name(),
            column: m.columns().features.to_string(),
            partition: 0,
            row: 0,
            what,
            hint: "sparse vectors need strictly increasing indices below the vector size and one value per index (Spark's Vectors.sparse)".into(),
        });
    }
    if x.len() != m.num_features() {
        return Err(Error::FeatureCount {
            stage: m.stage_name(),
            column: m.columns().features.to_string(),
            expected: m.num_features(),
            found: x.len(),
        });
    }
    Ok(())
}

/// The per-batch decision rule, worked out once (a margin threshold costs a logarithm);
/// row scoring (`crate::row`) keeps one per compiled model.
#[derive(Clone, Debug)]
pub(crate) struct Decision {
    kind: PredictorKind,
    raw_threshold: Option<f64>,
    thresholds: Option<Vec<f64>>,
}

impl Decision {
    pub(crate) fn of<M: PredictionModel + ?Sized>(m: &M) -> Self {
        let kind = m.kind();
        let thresholds = match kind {
            PredictorKind::Probabilistic { num_classes } => m
                .thresholds()
                .filter(|t| t.len() == num_classes)
                .map(<[f64]>::to_vec),
            _ => None,
        };
        Self {
            kind,
            raw_threshold: m.raw_threshold(),
            thresholds,
        }
    }
}

/// Scores one row into `raw` (and `prob` for a probabilistic classifier when the
/// probabilities are wanted or needed) and returns the prediction.
#[inline]
pub(crate) fn score_row<M: PredictionModel + ?Sized>(
    m: &M,
    d: &Decision,
    x: Row<'_>,
    raw: &mut [f64],
    prob: &mut [f64],
    want_prob: bool,
) -> f64 {
    m.predict_raw_into(x, raw);
    finish_row(m, d, raw, prob, want_prob)
}

/// From one row's raw scores: its probabilities into `prob` (a probabilistic classifier,
/// when they are wanted or the thresholds need them) and the returned prediction.
#[inline]
fn finish_row<M: PredictionModel + ?Sized>(
    m: &M,
    d: &Decision,
    raw: &[f64],
    prob: &mut [f64],
    want_prob: bool,
) -> f64 {
    let probabilistic = matches!(d.kind, PredictorKind::Probabilistic { .. });
    if probabilistic && (want_prob || d.thresholds.is_some()) {
        prob.copy_from_slice(raw);
        m.raw_to_probability_in_place(prob);
    }
    if let Some(t) = d.raw_threshold {
        return if raw[1] > t { 1.0 } else { 0.0 };
    }
    match (d.kind, d.thresholds.as_deref()) {
        (PredictorKind::Regression, _) => raw[0],
        (_, Some(ts)) => argmax(prob.iter().zip(ts).map(|(p, t)| {
            if *t == 0.0 {
                // The one class with threshold 0 always wins, unless its probability is 0.
                if *p == 0.0 {
                    f64::NAN
                } else {
                    f64::INFINITY
                }
            } else {
                p / t
            }
        })),
        _ => argmax(raw.iter().copied()),
    }
}

/// Index of the first maximum (NaN never wins; all-NaN gives 0).
pub fn argmax(v: impl Iterator<Item = f64>) -> f64 {
    let mut best = (0usize, f64::NEG_INFINITY);
    for (i, x) in v.enumerate() {
        if x > best.1 {
            best = (i, x);
        }
    }
    best.0 as f64
}

/// Checks `input` and appends the output fields whose names are non-empty:
/// rawPrediction and probability vectors of length `num_classes`, then prediction (Spark's
/// order). `expected_features` is the model's feature count (`None` before fitting).
pub fn output_schema(
    stage: &'static str,
    cols: &PredictionColumns<'_>,
    kind: PredictorKind,
    input: &Schema,
    expected_features: Option<usize>,
) -> Result<Schema> {
    let (_, f, n) = schema::require_vector(input, stage, cols.features)?;
    if let Some(expected) = expected_features {
        schema::check_vector_size(stage, cols.features, f, n, expected)?;
    }
    let mut out = input.clone();
    if let PredictorKind::Classification { num_classes }
    | PredictorKind::Probabilistic { num_classes } = kind
    {
        if !cols.raw_prediction.is_empty() {
            out = schema::append_field(
                &out,
                stage,
                vector::vector_field(cols.raw_prediction, num_classes, false),
            )?;
        }
    }
    if let PredictorKind::Probabilistic { num_classes } = kind {
        if !cols.probability.is_empty() {
            out = schema::append_field(
                &out,
                stage,
                vector::vector_field(cols.probability, num_classes, false),
            )?;
        }
    }
    if !cols.prediction.is_empty() {
        out = schema::append_field(
            &out,
            stage,
            Field::new(cols.prediction, DataType::Float64, false),
        )?;
    }
    Ok(out)
}

/// Fit-time column checks shared by every predictor's estimator: `features` is a vector
/// column, `label` and `weight` (when set) are numeric. Returns the feature count.
pub fn check_fit_columns(
    stage: &'static str,
    input: &Schema,
    features: &str,
    label: &str,
    weight: Option<&str>,
) -> Result<usize> {
    let (_, _, n) = schema::require_vector(input, stage, features)?;
    schema::require_numeric(input, stage, label)?;
    if let Some(w) = weight.filter(|w| !w.is_empty()) {
        schema::require_numeric(input, stage, w)?;
    }
    Ok(n)
}

/// The model's output schema for `input` (the model's `transform_schema` without its
/// param validation).
pub fn transform_schema<M: PredictionModel + ?Sized>(m: &M, input: &Schema) -> Result<Schema> {
    m.check_model()?;
    output_schema(
        m.stage_name(),
        &m.columns(),
        m.kind(),
        input,
        Some(m.num_features()),
    )
}

/// Scores every row of `df`, appending the model's output columns; partitions are scored
/// in parallel. A null feature vector is an error naming the partition and row.
pub fn transform<M: PredictionModel + ?Sized>(m: &M, df: &DataFrame) -> Result<DataFrame> {
    let schema = Arc::new(transform_schema(m, df.schema())?);
    let parts = df.map_partitions(|i, b| {
        let mut cols = b.columns().to_vec();
        cols.extend(score_batch(m, i, b)?);
        crate::frame::new_batch(schema.clone(), cols, b.num_rows())
    })?;
    DataFrame::try_new(schema, parts)
}

/// The output columns for one partition, in [`output_schema`]'s order. The partition is
/// scored in blocks of [`BLOCK_ROWS`] rows, in parallel; each block goes to the model's
/// [`predict_raw_block`](PredictionModel::predict_raw_block) at once.
fn score_batch<M: PredictionModel + ?Sized>(
    m: &M,
    part: usize,
    b: &RecordBatch,
) -> Result<Vec<ArrayRef>> {
    let cols = m.columns();
    let kind = m.kind();
    let col = schema::batch_column(b, cols.features)?;
    let (rows, n, k) = (b.num_rows(), m.num_features(), kind.raw_len());
    let feats = vector::VectorBlock::new(
        col.as_ref(),
        n,
        vector::At {
            stage: m.stage_name(),
            column: cols.features,
            partition: part,
        },
    )?;
    let classifier = kind != PredictorKind::Regression;
    let probabilistic = matches!(kind, PredictorKind::Probabilistic { .. });
    let keep_raw = classifier && !cols.raw_prediction.is_empty();
    let keep_prob = probabilistic && !cols.probability.is_empty();
    let keep_pred = !cols.prediction.is_empty();
    let mut raw = buffer::zeroed(if keep_raw { rows * k } else { 0 });
    let mut prob = buffer::zeroed(if keep_prob { rows * k } else { 0 });
    let mut pred = buffer::zeroed(if keep_pred { rows } else { 0 });
    let blocks = rows.div_ceil(BLOCK_ROWS);
    let work: Vec<_> = block_slices(&mut raw, if keep_raw { k } else { 0 }, blocks)
        .into_iter()
        .zip(block_slices(
            &mut prob,
            if keep_prob { k } else { 0 },
            blocks,
        ))
        .zip(block_slices(&mut pred, usize::from(keep_pred), blocks))
        .enumerate()
        .collect();
    let decision = Decision::of(m);
    let results: Vec<Result<()>> = work
        .into_par_iter()
        .map(|(blk, ((raw_out, prob_out), pred_out))| {
            let r0 = blk * BLOCK_ROWS;
            let len = BLOCK_ROWS.min(rows - r0);
            let mut block_rows = Vec::with_capacity(len);
            for r in r0..r0 + len {
                block_rows.push(checked_row(m, part, &feats, r)?);
            }
            // Outputs not kept are scored into scratch buffers: raw for the block,
            // probability for one row.
            let mut raw_scratch = Vec::new();
            let raw_b = if keep_raw {
                raw_out
            } else {
                raw_scratch.resize(len * k, 0.0);
                &mut raw_scratch[..]
            };
            m.predict_raw_block(&block_rows, raw_b);
            let mut prob_scratch = vec![0.0; if keep_prob { 0 } else { k }];
            for i in 0..len {
                let prob_row = if keep_prob {
                    &mut prob_out[i * k..(i + 1) * k]
                } else {
                    &mut prob_scratch[..]
                };
                let p = finish_row(
                    m,
                    &decision,
                    &raw_b[i * k..(i + 1) * k],
                    prob_row,
                    keep_prob,
                );
                if keep_pred {
                    pred_out[i] = p;
                }
            }
            Ok(())
        })
        .collect();
    in_order(results)?;
    let mut out: Vec<ArrayRef> = Vec::new();
    if keep_raw {
        out.push(Arc::new(vector::vector_array(raw, k, None)?));
    }
    if keep_prob {
        out.push(Arc::new(vector::vector_array(prob, k, None)?));
    }
    if keep_pred {
        out.push(Arc::new(Float64Array::from(pred)));
    }
    Ok(out)
}

/// Row `r` of a partition as a [`Row`], after the null and
/// [`check_row_values`](PredictionModel::check_row_values) checks.
fn checked_row<'a, M: PredictionModel + ?Sized>(
    m: &M,
    part: usize,
    feats: &vector::VectorBlock<'a>,
    r: usize,
) -> Result<Row<'a>> {
    let column = || m.columns().features.to_string();
    let Some(row) = feats.row(r) else {
        return Err(Error::InvalidValue {
            stage: m.stage_name(),
            column: column(),
            partition: part,
            row: r,
            what: "null vector".into(),
            hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
        });
    };
    if let Err(hint) = m.check_row_values(row) {
        return Err(Error::InvalidValue {
            stage: m.stage_name(),
            column: column(),
            partition: part,
            row: r,
            what: format!("vector {:?}", row.to_vec()),
            hint,
        });
    }
    Ok(row)
}

/// `buf` cut into `blocks` slices of [`BLOCK_ROWS`] rows × `width` values (the last one
/// shorter); `blocks` empty slices when `width` is 0 (an output that is not kept).
fn block_slices(buf: &mut [f64], width: usize, blocks: usize) -> Vec<&mut [f64]> {
    if width == 0 {
        return (0..blocks).map(|_| &mut [][..]).collect();
    }
    buf.chunks_mut(BLOCK_ROWS * width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probabilistic toy: raw = x itself, probability = x / Σx.
    struct Votes {
        thresholds: Option<Vec<f64>>,
    }
    impl PredictionModel for Votes {
        fn stage_name(&self) -> &'static str {
            "Votes"
        }
        fn columns(&self) -> PredictionColumns<'_> {
            PredictionColumns {
                features: "f",
                prediction: "prediction",
                raw_prediction: "raw",
                probability: "",
            }
        }
        fn num_features(&self) -> usize {
            3
        }
        fn kind(&self) -> PredictorKind {
            PredictorKind::Probabilistic { num_classes: 3 }
        }
        fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
            raw.copy_from_slice(x.as_dense().unwrap());
        }
        fn thresholds(&self) -> Option<&[f64]> {
            self.thresholds.as_deref()
        }
    }

    fn frame(rows: &[[f64; 3]]) -> DataFrame {
        let vals: Vec<f64> = rows.iter().flatten().copied().collect();
        let arr = vector::vector_array(vals, 3, None).unwrap();
        let schema = Arc::new(Schema::new(vec![vector::vector_field("f", 3, false)]));
        let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap();
        DataFrame::try_new(schema, vec![b]).unwrap()
    }

    #[test]
    fn spark_thresholds_rule() {
        // Hand derivation: p = (0.2, 0.5, 0.3); p / t with t = (0.1, 1, 1) = (2, .5, .3).
        let m = Votes {
            thresholds: Some(vec![0.1, 1.0, 1.0]),
        };
        assert_eq!(m.predict(&[2.0, 5.0, 3.0]).unwrap(), 0.0);
        let plain = Votes { thresholds: None };
        assert_eq!(plain.predict(&[2.0, 5.0, 3.0]).unwrap(), 1.0);
        // A zero threshold always wins, unless its probability is 0.
        let zero = Votes {
            thresholds: Some(vec![1.0, 1.0, 0.0]),
        };
        assert_eq!(zero.predict(&[2.0, 5.0, 0.001]).unwrap(), 2.0);
        assert_eq!(zero.predict(&[2.0, 5.0, 0.0]).unwrap(), 1.0);
        assert_eq!(
            m.predict_probability(&[2.0, 5.0, 3.0]).unwrap(),
            vec![0.2, 0.5, 0.3]
        );
    }

    #[test]
    fn batch_transform_matches_single_rows_and_schema() {
        let m = Votes {
            thresholds: Some(vec![0.1, 1.0, 1.0]),
        };
        let rows = [[2.0, 5.0, 3.0], [0.0, 5.0, 3.0], [1.0, 1.0, 8.0]];
        let df = frame(&rows);
        let out = transform(&m, &df).unwrap();
        let names: Vec<_> = out
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, ["f", "raw", "prediction"]);
        assert_eq!(
            out.schema().as_ref(),
            &transform_schema(&m, df.schema()).unwrap()
        );
        let col = out.column("prediction").unwrap();
        let pred = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(
            col.chunks[0].as_ref(),
        );
        for (r, x) in rows.iter().enumerate() {
            assert_eq!(pred.value(r), m.predict(x).unwrap());
        }
    }

    #[test]
    fn wrong_length_and_missing_column_are_clear_errors() {
        let m = Votes { thresholds: None };
        let e = m.predict(&[1.0]).unwrap_err().to_string();
        assert!(e.contains("Votes") && e.contains("`f`"), "{e}");
        let schema = Schema::new(vec![vector::vector_field("g", 3, false)]);
        let e = transform_schema(&m, &schema).unwrap_err().to_string();
        assert!(e.contains("Votes: column `f` not found"), "{e}");
        let e = check_fit_columns("Votes", &schema, "g", "label", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("column `label` not found"), "{e}");
    }

    /// `Votes` scored a block at a time, recording the block sizes it was given.
    struct BlockVotes {
        inner: Votes,
        blocks: std::sync::Mutex<Vec<usize>>,
    }
    impl PredictionModel for BlockVotes {
        fn stage_name(&self) -> &'static str {
            "BlockVotes"
        }
        fn columns(&self) -> PredictionColumns<'_> {
            PredictionColumns {
                probability: "probability",
                ..self.inner.columns()
            }
        }
        fn num_features(&self) -> usize {
            3
        }
        fn kind(&self) -> PredictorKind {
            self.inner.kind()
        }
        fn predict_raw_into(&self, _: Row<'_>, _: &mut [f64]) {
            unreachable!("the batch transform scores whole blocks")
        }
        fn predict_raw_block(&self, rows: &[Row<'_>], raw: &mut [f64]) {
            assert!(raw.iter().all(|v| *v == 0.0), "raw is zero-filled on entry");
            self.blocks.lock().unwrap().push(rows.len());
            // Column-outer, as a tree ensemble walks tree by tree.
            for j in 0..3 {
                for (x, r) in rows.iter().zip(raw.chunks_exact_mut(3)) {
                    r[j] += x.as_dense().unwrap()[j];
                }
            }
        }
        fn thresholds(&self) -> Option<&[f64]> {
            self.inner.thresholds()
        }
    }

    #[test]
    fn block_hook_scores_blocks_like_single_rows() {
        let rows: Vec<[f64; 3]> = (0..BLOCK_ROWS + 7)
            .map(|i| [(i % 5) as f64, (i % 7) as f64, 1.0 + (i % 3) as f64])
            .collect();
        let df = frame(&rows);
        let thresholds = Some(vec![0.5, 1.0, 2.0]);
        let m = BlockVotes {
            inner: Votes {
                thresholds: thresholds.clone(),
            },
            blocks: Default::default(),
        };
        let out = transform(&m, &df).unwrap();
        let mut blocks = m.blocks.lock().unwrap().clone();
        blocks.sort_unstable();
        assert_eq!(blocks, [7, BLOCK_ROWS]);
        // The default hook (row by row) gives the same columns.
        let plain = Votes { thresholds };
        let batch = &out.partitions()[0];
        let f64s = |name: &str| {
            let a = batch.column_by_name(name).unwrap();
            match a.data_type() {
                DataType::Float64 => a
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .unwrap()
                    .values()
                    .to_vec(),
                _ => vector::dense_values(vector::as_vector(a.as_ref()).unwrap())
                    .unwrap()
                    .to_vec(),
            }
        };
        let (raw, prob, pred) = (f64s("raw"), f64s("probability"), f64s("prediction"));
        for (r, x) in rows.iter().enumerate() {
            assert_eq!(&raw[r * 3..r * 3 + 3], &plain.predict_raw(x).unwrap()[..]);
            assert_eq!(
                &prob[r * 3..r * 3 + 3],
                &plain.predict_probability(x).unwrap()[..]
            );
            assert_eq!(pred[r], plain.predict(x).unwrap());
        }
    }

    #[test]
    fn null_vector_names_partition_and_row() {
        let m = Votes { thresholds: None };
        let arr = vector::vector_array(
            vec![1.0; 6],
            3,
            Some(arrow::buffer::NullBuffer::from(vec![true, false])),
        )
        .unwrap();
        let schema = Arc::new(Schema::new(vec![vector::vector_field("f", 3, true)]));
        let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap();
        let df = DataFrame::try_new(schema.clone(), vec![b]).unwrap();
        let e = transform(&m, &df).unwrap_err().to_string();
        assert!(e.contains("Votes") && e.contains("row 1"), "{e}");
        // Nulls in several blocks (scored in parallel): the first in row order is named.
        let rows = 3 * BLOCK_ROWS;
        let valid: Vec<bool> = (0..rows)
            .map(|r| r != BLOCK_ROWS + 3 && r != 2 * BLOCK_ROWS + 1)
            .collect();
        let arr = vector::vector_array(
            vec![1.0; rows * 3],
            3,
            Some(arrow::buffer::NullBuffer::from(valid)),
        )
        .unwrap();
        let b = RecordBatch::try_new(schema.clone(), vec![Arc::new(arr)]).unwrap();
        let df = DataFrame::try_new(schema, vec![b]).unwrap();
        let e = transform(&m, &df).unwrap_err().to_string();
        assert!(e.contains(&format!("row {}", BLOCK_ROWS + 3)), "{e}");
    }

    /// `y = 2·x₀ − x₂ + 1`, scored through [`Row::dot`].
    struct Lin;
    impl PredictionModel for Lin {
        fn stage_name(&self) -> &'static str {
            "Lin"
        }
        fn columns(&self) -> PredictionColumns<'_> {
            PredictionColumns::regression("f", "prediction")
        }
        fn num_features(&self) -> usize {
            3
        }
        fn kind(&self) -> PredictorKind {
            PredictorKind::Regression
        }
        fn predict_raw_into(&self, x: Row<'_>, raw: &mut [f64]) {
            raw[0] = x.dot(&[2.0, 0.0, -1.0]) + 1.0;
        }
    }

    #[test]
    fn sparse_and_dense_rows_score_alike() {
        let mut b = vector::SparseVectorBuilder::new(3);
        b.push(&[0, 2], &[1.5, 4.0]).unwrap();
        b.push_dense(&[1.0, 9.0, 1.0]).unwrap();
        b.push(&[], &[]).unwrap();
        let schema = Arc::new(Schema::new(vec![vector::sparse_vector_field(
            "f", 3, false,
        )]));
        let batch = RecordBatch::try_new(schema.clone(), vec![b.finish().unwrap()]).unwrap();
        let df = DataFrame::try_new(schema, vec![batch]).unwrap();
        let out = transform(&Lin, &df).unwrap();
        let col = out.column("prediction").unwrap();
        let pred = arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(
            col.chunks[0].as_ref(),
        );
        // Hand derivation: 2·1.5 − 4 + 1 = 0; 2 − 1 + 1 = 2; 0 + 1 = 1.
        assert_eq!(pred.values().to_vec(), vec![0.0, 2.0, 1.0]);
        // A sparse column of another size is refused from the schema.
        let schema = Schema::new(vec![vector::sparse_vector_field("f", 4, false)]);
        let e = transform_schema(&Lin, &schema).unwrap_err().to_string();
        assert!(
            e.contains("has 4 features per row, but 3 are expected"),
            "{e}"
        );
    }
}
