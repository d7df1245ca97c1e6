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
//! - the batch transform over a vector column ([`transform`]): partitions in parallel, each
//!   partition scored into its output buffers with no allocation per row;
//! - single-row scoring: [`PredictionModel::predict`], [`PredictionModel::predict_raw`]
//!   and [`PredictionModel::predict_probability`], with no heap allocation for up to
//!   [`STACK_OUTPUTS`] classes.
//!
//! Rows reach a model as a [`Row`] view, so a model's scoring code does not care how the
//! vector is stored (dense today; a sparse variant will be added to [`Row`] and every model
//! that uses [`Row::dot`] / [`Row::for_each_active`] keeps working).
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

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};

/// Classes up to which single-row scoring uses stack buffers (no heap allocation).
pub const STACK_OUTPUTS: usize = 16;

/// One feature vector as a model sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Row<'a> {
    /// All values, in feature order.
    Dense(&'a [f64]),
}

impl<'a> Row<'a> {
    /// The vector's length (number of features).
    pub fn len(&self) -> usize {
        match self {
            Row::Dense(v) => v.len(),
        }
    }

    /// Whether the vector has no features.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `Σ wᵢ xᵢ` over the row's features, summed in feature order; `w` has at least
    /// [`len`](Self::len) values.
    pub fn dot(&self, w: &[f64]) -> f64 {
        match self {
            Row::Dense(x) => w.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>(),
        }
    }

    /// Calls `f(index, value)` for each stored value, in index order (every value of a
    /// dense row).
    pub fn for_each_active(&self, mut f: impl FnMut(usize, f64)) {
        match self {
            Row::Dense(x) => x.iter().enumerate().for_each(|(i, v)| f(i, *v)),
        }
    }

    /// The values as a slice, when the row is dense.
    pub fn as_dense(&self) -> Option<&'a [f64]> {
        match self {
            Row::Dense(x) => Some(x),
        }
    }
}

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
        Ok(score_row(self, &decision, Row::Dense(x), raw, prob, false))
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

fn check_row<M: PredictionModel + ?Sized>(m: &M, x: &[f64]) -> Result<()> {
    m.check_model()?;
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
    let (_, _, n) = schema::require_vector(input, stage, cols.features)?;
    if let Some(expected) = expected_features {
        if n != expected {
            return Err(Error::FeatureCount {
                stage,
                column: cols.features.to_string(),
                expected,
                found: n,
            });
        }
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

/// The output columns for one partition, in [`output_schema`]'s order.
fn score_batch<M: PredictionModel + ?Sized>(
    m: &M,
    part: usize,
    b: &RecordBatch,
) -> Result<Vec<ArrayRef>> {
    let cols = m.columns();
    let kind = m.kind();
    let col = schema::batch_column(b, cols.features)?;
    let feats = vector::as_vector(col.as_ref())?;
    let vals = vector::dense_values(feats)?;
    let (rows, n, k) = (b.num_rows(), m.num_features(), kind.raw_len());
    let classifier = kind != PredictorKind::Regression;
    let probabilistic = matches!(kind, PredictorKind::Probabilistic { .. });
    let keep_raw = classifier && !cols.raw_prediction.is_empty();
    let keep_prob = probabilistic && !cols.probability.is_empty();
    let keep_pred = !cols.prediction.is_empty();
    // Outputs not kept are scored into a one-row scratch buffer.
    let mut raw = vec![0.0; if keep_raw { rows * k } else { k }];
    let mut prob = vec![0.0; if keep_prob { rows * k } else { k }];
    let mut pred = vec![0.0; if keep_pred { rows } else { 0 }];
    let decision = Decision::of(m);
    for r in 0..rows {
        if feats.is_null(r) {
            return Err(Error::InvalidValue {
                stage: m.stage_name(),
                column: cols.features.to_string(),
                partition: part,
                row: r,
                what: "null vector".into(),
                hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
            });
        }
        let x = Row::Dense(&vals[r * n..(r + 1) * n]);
        if let Err(hint) = m.check_row_values(x) {
            return Err(Error::InvalidValue {
                stage: m.stage_name(),
                column: cols.features.to_string(),
                partition: part,
                row: r,
                what: format!("vector {:?}", &vals[r * n..(r + 1) * n]),
                hint,
            });
        }
        let ro = if keep_raw { r * k } else { 0 };
        let po = if keep_prob { r * k } else { 0 };
        let p = score_row(
            m,
            &decision,
            x,
            &mut raw[ro..ro + k],
            &mut prob[po..po + k],
            keep_prob,
        );
        if keep_pred {
            pred[r] = p;
        }
    }
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
        let df = DataFrame::try_new(schema, vec![b]).unwrap();
        let e = transform(&m, &df).unwrap_err().to_string();
        assert!(e.contains("Votes") && e.contains("row 1"), "{e}");
    }
}
