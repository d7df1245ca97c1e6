//! [`TargetEncoder`] and [`TargetEncoderModel`]: encode categorical indices by the target's
//! statistics within each category.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/TargetEncoder.scala`
//! (Spark 4.0+).

use ahash::AHashMap as HashMap;
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int32Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::columns::names;
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::{check_at_least, HandleInvalid, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Spark's key of the overall statistic (`TargetEncoder.UNSEEN_CATEGORY`, `Int.MaxValue`).
pub(crate) const UNSEEN_CATEGORY: f64 = 2147483647.0;
/// Spark's key of the null category (`TargetEncoder.NULL_CATEGORY`).
pub(crate) const NULL_CATEGORY: f64 = -1.0;

/// What the label is: Spark's `targetType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TargetType {
    /// Labels 0 or 1: a category encodes as the share of label 1 (bin counting). Default.
    #[default]
    Binary,
    /// Any real label: a category encodes as the mean label (mean encoding).
    Continuous,
}

/// Params of [`TargetEncoder`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TargetEncoderParams {
    /// Single-column mode: the input column (non-negative integer category indices).
    pub input_col: Option<String>,
    /// Multi-column mode: the input columns.
    pub input_cols: Option<Vec<String>>,
    /// Single-column mode: the output column; default `<inputCol>_indexed` (Spark's).
    pub output_col: Option<String>,
    /// Multi-column mode: one output column per input; default `<input>_indexed` each.
    pub output_cols: Option<Vec<String>>,
    /// Label column (numeric). Default `label`.
    pub label_col: String,
    /// `binary` (default) or `continuous`.
    pub target_type: TargetType,
    /// `error` (default) or `keep`: what transform does with a category (or null) unseen
    /// at fit: fail, or encode it with the overall statistic.
    pub handle_invalid: HandleInvalid,
    /// Weight of the overall statistic against a category's own, ≥ 0: a category of `n`
    /// rows weighs its own statistic `n / (n + smoothing)`. Default 0.0.
    pub smoothing: f64,
}

impl Default for TargetEncoderParams {
    fn default() -> Self {
        Self {
            input_col: None,
            input_cols: None,
            output_col: None,
            output_cols: None,
            label_col: "label".into(),
            target_type: TargetType::Binary,
            handle_invalid: HandleInvalid::Error,
            smoothing: 0.0,
        }
    }
}

impl Params for TargetEncoderParams {
    const STAGE: &'static str = "TargetEncoder";
    fn validate(&self) -> Result<()> {
        if self.handle_invalid == HandleInvalid::Skip {
            return Err(Error::param(
                Self::STAGE,
                "handleInvalid",
                "\"error\" or \"keep\" (Spark's TargetEncoder has no \"skip\")",
                "\"skip\"",
            ));
        }
        check_at_least(Self::STAGE, "smoothing", self.smoothing, 0.0)?;
        self.pairs().map(|_| ())
    }
}

impl TargetEncoderParams {
    /// The (input, output) column pairs, Spark's rules: `inputCol` wins over `inputCols`,
    /// `outputCol` over `outputCols`, and without either output param each input `c`
    /// writes `c_indexed`.
    pub fn pairs(&self) -> Result<Vec<(String, String)>> {
        let stage = Self::STAGE;
        let inputs: Vec<String> = match (&self.input_col, &self.input_cols) {
            (Some(c), _) => vec![c.clone()],
            (None, Some(cs)) => cs.clone(),
            (None, None) => Vec::new(),
        };
        if inputs.is_empty() || inputs.iter().any(|c| c.is_empty()) {
            return Err(Error::param(
                stage,
                "inputCols",
                "at least one input column (set inputCol or inputCols)",
                format!("{inputs:?}"),
            ));
        }
        let outputs: Vec<String> = match (&self.output_col, &self.output_cols) {
            (Some(c), _) => vec![c.clone()],
            (None, Some(cs)) => cs.clone(),
            (None, None) => inputs.iter().map(|c| format!("{c}_indexed")).collect(),
        };
        if outputs.len() != inputs.len() {
            return Err(Error::param(
                stage,
                "outputCols",
                format!("{} names, one per input column", inputs.len()),
                format!("{} names", outputs.len()),
            ));
        }
        if self.label_col.is_empty() {
            return Err(Error::param(stage, "labelCol", "a column name", "\"\""));
        }
        Ok(inputs.into_iter().zip(outputs).collect())
    }
}

/// Target encoding (Spark's `org.apache.spark.ml.feature.TargetEncoder`): maps each
/// categorical index to a statistic of the label within its category, blended with the
/// overall statistic.
///
/// `fit` makes one parallel pass, counting per category (and overall) the rows and — for
/// `binary` targets — the rows with label 1, or — for `continuous` ones — the label sum,
/// merged in partition order. Rows whose label is null or NaN are left out, as Spark does.
/// A null category is its own category (Spark's key −1). With `n` rows in a category,
/// `w = n / (n + smoothing)`, the encoding is
/// `w · ones/n + (1 − w) · ones_all/n_all` (binary) or `w · mean + (1 − w) · mean_all`
/// (continuous), Spark's formula operation for operation. The statistics, not the
/// encodings, are the model, so changing the model's `smoothing` re-weights them.
///
/// A category not seen at fit (or a null, when no null was seen) fails the transform with
/// `handleInvalid = error` and encodes as the overall statistic with `keep`. Outputs are
/// non-null doubles with Spark's nominal attribute metadata (the distinct encodings).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::TargetEncoder;
/// use arrow::array::{Float64Array, Int32Array, RecordBatch};
/// use std::sync::Arc;
/// let batch = RecordBatch::try_from_iter([
///     ("city", Arc::new(Int32Array::from(vec![0, 0, 1, 1, 1])) as _),
///     ("label", Arc::new(Float64Array::from(vec![1.0, 0.0, 1.0, 1.0, 0.0])) as _),
/// ])?;
/// let df = DataFrame::from_batches(vec![batch])?;
/// let model = TargetEncoder::new().with_input_col("city").with_output_col("city_te").fit(&df)?;
/// let out = model.transform(&df)?;
/// let te = out.column("city_te")?.chunks[0].clone();
/// let te = te.as_any().downcast_ref::<Float64Array>().unwrap();
/// assert_eq!(te.value(0), 0.5); // category 0: one of two rows has label 1
/// assert_eq!(te.value(2), 2.0 / 3.0);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (no input column, mismatched outputs, negative smoothing,
/// `handleInvalid = skip`); [`Error::ColumnNotFound`]; [`Error::ColumnType`] for a
/// non-numeric input or label column; [`Error::InvalidValue`] naming the row of a binary
/// label other than 0 / 1, of a category that is NaN, negative, fractional or too large,
/// and (transform, `handleInvalid = error`) of an unseen category; [`Error::EmptyInput`]
/// when no row has a label.
#[derive(Clone, Debug)]
pub struct TargetEncoder {
    uid: String,
    params: TargetEncoderParams,
}

super::columns::stage_basics!(TargetEncoder, TargetEncoderParams, "TargetEncoder", |uid| {
    TargetEncoderParams::default()
});

impl TargetEncoder {
    /// Single-column mode: the input column.
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = Some(c.into());
        self
    }
    /// Single-column mode: the output column.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = Some(c.into());
        self
    }
    /// Multi-column mode: the input columns.
    pub fn with_input_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.input_cols = Some(names(cs));
        self
    }
    /// Multi-column mode: the output columns, one per input.
    pub fn with_output_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.output_cols = Some(names(cs));
        self
    }
    /// Label column; default `label`.
    pub fn with_label_col(mut self, c: &str) -> Self {
        self.params.label_col = c.into();
        self
    }
    /// Binary (default) or continuous label.
    pub fn with_target_type(mut self, t: TargetType) -> Self {
        self.params.target_type = t;
        self
    }
    /// `Error` (default) or `Keep` for categories unseen at fit.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
    /// Smoothing; default 0.0.
    pub fn with_smoothing(mut self, v: f64) -> Self {
        self.params.smoothing = v;
        self
    }
}

/// Checks the params and the input (and, when fitting, label) columns: numeric.
fn check_schema(
    p: &TargetEncoderParams,
    input: &Schema,
    fitting: bool,
    stage: &'static str,
) -> Result<Vec<(String, String)>> {
    p.validate()?;
    let pairs = p.pairs()?;
    for (ic, _) in &pairs {
        schema::require_numeric(input, stage, ic)?;
    }
    if fitting {
        schema::require_numeric(input, stage, &p.label_col)?;
    }
    Ok(pairs)
}

/// The output schema: one non-null double column per input, with Spark's nominal
/// attribute (`vals`, the distinct encodings, when known).
fn output_schema(
    input: &Schema,
    pairs: &[(String, String)],
    vals: Option<&[Vec<f64>]>,
    stage: &'static str,
) -> Result<Schema> {
    let mut s = input.clone();
    for (i, (_, oc)) in pairs.iter().enumerate() {
        let mut f = Field::new(oc, DataType::Float64, false);
        if let Some(v) = vals {
            let strs: Vec<String> = v[i].iter().map(|x| super::java_double_string(*x)).collect();
            f.metadata_mut().insert(
                crate::frame::vector::ML_ATTR.to_string(),
                json!({"name": oc, "type": "nominal", "vals": strs}).to_string(),
            );
        }
        s = schema::append_field(&s, stage, f)?;
    }
    Ok(s)
}

impl Stage for TargetEncoder {
    fn kind(&self) -> &'static str {
        "TargetEncoder"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = TargetEncoderParams::STAGE;
        let pairs = check_schema(&self.params, input, true, stage)?;
        output_schema(input, &pairs, None, stage)
    }
}

/// A category key: Spark's double value of the index, −1 for null.
fn key(v: f64) -> i64 {
    v as i64
}

/// Per-category `(count, stat)`: `stat` is the number of label-1 rows (binary) or the
/// label sum (continuous; the mean once merged).
type Counts = HashMap<i64, (f64, f64)>;

/// Categories below this are counted and looked up in a table indexed by the category
/// (no hashing); larger ones in a hash map.
const DENSE_CATEGORIES: usize = 4096;

/// Whether `x` is a valid category: a non-negative integer below 2147483647 (Spark's
/// `TargetEncoder` check). `x as i64` is exact in that range, so the round trip tests
/// integrality without a call to `trunc`.
#[inline(always)]
fn is_category(x: f64) -> bool {
    (0.0..UNSEEN_CATEGORY).contains(&x) && (x as i64) as f64 == x
}

/// A category column's value, read in place by [`with_values!`].
trait CategoryValue: Copy {
    /// The value as the cast to double gives it.
    fn as_f64(self) -> f64;
    /// The value itself when it is a valid category (see [`is_category`]) of at most
    /// `usize::MAX / 2`, else some value of at least 2^31: so `table_index() < len` for a
    /// table shorter than 2^31 holds exactly for the valid categories below `len`.
    fn table_index(self) -> usize;
}

impl CategoryValue for i32 {
    #[inline(always)]
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn table_index(self) -> usize {
        // A negative value wraps to 2^31 or more.
        self as u32 as usize
    }
}

impl CategoryValue for i64 {
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn table_index(self) -> usize {
        // A negative value wraps to 2^63 or more.
        self as u64 as usize
    }
}

impl CategoryValue for f64 {
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn table_index(self) -> usize {
        if is_category(self) {
            self as usize
        } else {
            usize::MAX
        }
    }
}

/// Runs `$body` with `$v` bound to the values of the numeric column `$a` as a slice of its
/// own type: no copy for int32, int64 and double columns (other numeric types are cast to
/// double once); `$body` reads row `r` as `$v[r] as f64`, as the cast to double would.
macro_rules! with_values {
    ($a:expr, $v:ident => $body:expr) => {{
        let a: &ArrayRef = $a;
        match a.data_type() {
            DataType::Int32 => {
                let $v = a.as_primitive::<Int32Type>().values();
                $body
            }
            DataType::Int64 => {
                let $v = a.as_primitive::<Int64Type>().values();
                $body
            }
            DataType::Float64 => {
                let $v = a.as_primitive::<Float64Type>().values();
                $body
            }
            _ => {
                let c = cast(a, &DataType::Float64)?;
                let $v = c.as_primitive::<Float64Type>().values();
                $body
            }
        }
    }};
}

/// One partition's `(count, label sum)` per category of one column, in row order: small
/// categories in a table indexed by the category, others in a map.
#[derive(Default)]
struct Tally {
    /// Categories `0 ..` below [`DENSE_CATEGORIES`] (count 0: not seen).
    dense: Vec<(f64, f64)>,
    /// The null category and categories from [`DENSE_CATEGORIES`] on.
    other: Counts,
}

impl Tally {
    /// Counts a row of category `k` with label `y`.
    #[inline(always)]
    fn add(&mut self, k: i64, y: f64) {
        let e = match usize::try_from(k) {
            Ok(i) if i < DENSE_CATEGORIES => {
                if i >= self.dense.len() {
                    self.dense.resize(i + 1, (0.0, 0.0));
                }
                &mut self.dense[i]
            }
            _ => self.other.entry(k).or_insert((0.0, 0.0)),
        };
        e.0 += 1.0;
        e.1 += y;
    }

    /// The categories seen with their `(count, label sum)`, in category order.
    fn into_sorted(self) -> Vec<(i64, (f64, f64))> {
        let mut v: Vec<(i64, (f64, f64))> = self
            .dense
            .into_iter()
            .enumerate()
            .filter(|(_, c)| c.0 > 0.0)
            .map(|(i, c)| (i as i64, c))
            .chain(self.other)
            .collect();
        v.sort_by_key(|(k, _)| *k);
        v
    }
}

/// One partition's overall `(count, label sum)` and, per input column, each category's
/// `(count, label sum)` in category order.
type PartitionCounts = ((f64, f64), Vec<Vec<(i64, (f64, f64))>>);

/// One partition's counts for a binary label: the overall `(labelled rows, rows with
/// label 1)`, and per input column each category's, in category order (as [`Tally`]
/// gives them: the number of label-1 rows is the label sum). Integer counts: exactly the
/// sums of 0.0 and 1.0 the continuous path adds, in any order.
///
/// One pass over the label gives each row's class (0, 1, or 2 for a row Spark drops: a
/// null or NaN label); one pass over each input column counts `[category][class]` in a
/// table indexed by the category — one increment per row, no hashing, no branch on the
/// label — and sends the rare other rows (null, large or invalid categories) to the slow
/// path, in row order, so the first invalid row is the one named.
#[allow(clippy::unnecessary_cast)] // `with_values!` reads i32, i64 and f64 slices alike
fn binary_tally(
    b: &arrow::array::RecordBatch,
    pi: usize,
    pairs: &[(String, String)],
    la: &ArrayRef,
    bad_label: impl Fn(usize, usize, f64) -> Error,
    bad_category: impl Fn(&str, usize, usize, f64) -> Error,
) -> Result<PartitionCounts> {
    let rows = la.len();
    let mut cls = vec![0u8; rows];
    // Branch-free: 0 for label 0, 1 for 1, 2 for anything else (NaN: dropped; another
    // value: an error, found below).
    let mut other = false;
    with_values!(la, v => {
        for (c, &x) in cls.iter_mut().zip(v.iter()) {
            let y = x as f64;
            let (zero, one) = (y == 0.0, y == 1.0);
            *c = u8::from(one) + 2 * u8::from(!zero && !one);
            other |= !zero && !one;
        }
    });
    if la.null_count() > 0 {
        for (r, c) in cls.iter_mut().enumerate() {
            if la.is_null(r) {
                *c = 2;
            }
        }
    }
    if other {
        // A label other than 0, 1, NaN or null: the first one is an error.
        let bad = with_values!(la, v => (0..rows).find_map(|r| {
            let y = v[r] as f64;
            (cls[r] == 2 && !la.is_null(r) && !y.is_nan()).then_some((r, y))
        }));
        if let Some((r, y)) = bad {
            return Err(bad_label(pi, r, y));
        }
    }
    let ones = cls.iter().filter(|&&c| c == 1).count();
    let labelled = cls.iter().filter(|&&c| c < 2).count();
    let overall = (labelled as f64, ones as f64);
    let mut per_col = Vec::with_capacity(pairs.len());
    for (ic, _) in pairs {
        let a = schema::batch_column(b, ic)?;
        let nulls = a.null_count() > 0;
        // [category][class]: class 2 counts dropped rows, never read.
        let mut table: Vec<[u64; 3]> = Vec::new();
        let mut rest: HashMap<i64, [u64; 2]> = HashMap::new();
        with_values!(a, v => {
            for (r, (&x, &c)) in v.iter().zip(&cls).enumerate() {
                // The common row: a category already in the table (an integer compare).
                let i = x.table_index();
                if i < table.len() && !(nulls && a.is_null(r)) {
                    table[i][usize::from(c)] += 1;
                    continue;
                }
                let x = x.as_f64();
                let null = nulls && a.is_null(r);
                if !null && is_category(x) && (x as usize) < DENSE_CATEGORIES {
                    let i = x as usize;
                    if i >= table.len() {
                        table.resize(i + 1, [0; 3]);
                    }
                    table[i][usize::from(c)] += 1;
                } else if c != 2 {
                    let k = if null {
                        key(NULL_CATEGORY)
                    } else if is_category(x) {
                        key(x)
                    } else {
                        return Err(bad_category(ic, pi, r, x));
                    };
                    rest.entry(k).or_default()[usize::from(c)] += 1;
                }
            }
        });
        let mut v: Vec<(i64, (f64, f64))> = table
            .iter()
            .enumerate()
            .filter(|(_, t)| t[0] + t[1] > 0)
            .map(|(i, t)| (i as i64, ((t[0] + t[1]) as f64, t[1] as f64)))
            .chain(
                rest.into_iter()
                    .map(|(k, t)| (k, ((t[0] + t[1]) as f64, t[1] as f64))),
            )
            .collect();
        v.sort_by_key(|(k, _)| *k);
        per_col.push(v);
    }
    Ok((overall, per_col))
}

impl Estimator for TargetEncoder {
    type Model = TargetEncoderModel;

    fn fit(&self, df: &DataFrame) -> Result<TargetEncoderModel> {
        let stage = TargetEncoderParams::STAGE;
        let p = &self.params;
        let pairs = check_schema(p, df.schema(), true, stage)?;
        let binary = p.target_type == TargetType::Binary;
        // One pass: per partition, per input column, its categories' counts in category
        // order, plus the overall count, merged below in partition order.
        let bad_label = |pi: usize, r: usize, y: f64| {
            Error::InvalidValue {
            stage,
            column: p.label_col.clone(),
            partition: pi,
            row: r,
            what: format!("label {y}"),
            hint: "targetType \"binary\" needs labels 0 or 1 (Spark: Labels for TARGET_BINARY must be {0, 1}); set targetType to \"continuous\" for a real-valued label".into(),
        }
        };
        let bad_category = |ic: &str, pi: usize, r: usize, x: f64| {
            Error::InvalidValue {
            stage,
            column: ic.to_string(),
            partition: pi,
            row: r,
            what: format!("category {x}"),
            hint: "categories must be non-negative integer indices below 2147483647 (Spark: Values MUST be non-negative integers); index strings with StringIndexer first".into(),
        }
        };
        let parts = df.map_partitions(|pi, b| {
            let la = schema::batch_column(b, &p.label_col)?;
            let label_nulls = la.null_count() > 0;
            if binary {
                return binary_tally(b, pi, &pairs, la, bad_label, bad_category);
            }
            // The labels as f64, NaN where Spark drops the row (a null or NaN label).
            let labels: Vec<f64> = with_values!(la, v => (0..la.len())
                .map(|r| if label_nulls && la.is_null(r) { f64::NAN } else { v[r] as f64 })
                .collect());
            let mut overall = (0.0, 0.0);
            for &y in &labels {
                if y.is_nan() {
                    continue;
                }
                overall.0 += 1.0;
                overall.1 += y;
            }
            let mut per_col = Vec::with_capacity(pairs.len());
            for (ic, _) in &pairs {
                let a = schema::batch_column(b, ic)?;
                let nulls = a.null_count() > 0;
                let mut t = Tally::default();
                with_values!(a, v => {
                    for (r, &y) in labels.iter().enumerate() {
                        if y.is_nan() {
                            continue;
                        }
                        if nulls && a.is_null(r) {
                            t.add(key(NULL_CATEGORY), y);
                            continue;
                        }
                        // The common row: a category already in the dense table.
                        if let Some(e) = t.dense.get_mut(v[r].table_index()) {
                            e.0 += 1.0;
                            e.1 += y;
                            continue;
                        }
                        let x = v[r].as_f64();
                        if !is_category(x) {
                            return Err(bad_category(ic, pi, r, x));
                        }
                        t.add(key(x), y);
                    }
                });
                per_col.push(t.into_sorted());
            }
            Ok((overall, per_col))
        })?;
        let mut overall = (0.0, 0.0);
        let mut merged: Vec<Counts> = vec![Counts::new(); pairs.len()];
        for (o, cols) in parts {
            overall.0 += o.0;
            overall.1 += o.1;
            for (m, c) in merged.iter_mut().zip(cols) {
                // In category order, so the sums add up the same way every time.
                for (k, (n, s)) in c {
                    let e = m.entry(k).or_insert((0.0, 0.0));
                    e.0 += n;
                    e.1 += s;
                }
            }
        }
        if overall.0 == 0.0 {
            return Err(Error::EmptyInput {
                stage,
                hint: format!(
                    "fit needs at least one row whose label (column `{}`) is neither null nor NaN",
                    p.label_col
                ),
            });
        }
        // Spark: count_if(label = 1) for binary, avg(label) = sum / count for continuous.
        let finish = |(n, s): (f64, f64)| if binary { (n, s) } else { (n, s / n) };
        let stats = merged
            .into_iter()
            .map(|m| {
                let mut v: Vec<CategoryStat> = m
                    .into_iter()
                    .map(|(k, c)| {
                        let (count, stat) = finish(c);
                        CategoryStat {
                            category: k as f64,
                            count,
                            stat,
                        }
                    })
                    .collect();
                let (count, stat) = finish(overall);
                v.push(CategoryStat {
                    category: UNSEEN_CATEGORY,
                    count,
                    stat,
                });
                v.sort_by(|a, b| a.category.total_cmp(&b.category));
                v
            })
            .collect();
        TargetEncoderModel::new(self.uid.clone(), p.clone(), stats)
    }
}

/// One category's statistics in a [`TargetEncoderModel`] (Spark's `(count, stat)`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CategoryStat {
    /// The category index; −1 for null, 2147483647 for the overall statistic.
    pub category: f64,
    /// Rows (with a label) in the category.
    pub count: f64,
    /// Rows with label 1 (binary) or the mean label (continuous).
    pub stat: f64,
}

/// A fitted [`TargetEncoder`]: per input column, each category's count and statistic.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetEncoderModel {
    uid: String,
    params: TargetEncoderParams,
    stats: Vec<Vec<CategoryStat>>,
}

impl TargetEncoderModel {
    /// A model from its statistics, one list per input column, each holding the overall
    /// statistic under category 2147483647 (Spark's `UNSEEN_CATEGORY`).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] when a list lacks the overall statistic.
    pub fn new(
        uid: impl Into<String>,
        params: TargetEncoderParams,
        mut stats: Vec<Vec<CategoryStat>>,
    ) -> Result<Self> {
        for (i, s) in stats.iter_mut().enumerate() {
            s.sort_by(|a, b| a.category.total_cmp(&b.category));
            if !s.iter().any(|c| c.category == UNSEEN_CATEGORY) {
                return Err(Error::param(
                    "TargetEncoderModel",
                    "stats",
                    format!(
                        "the overall statistic (category {UNSEEN_CATEGORY}) for every input column"
                    ),
                    format!("none for input {i}"),
                ));
            }
        }
        Ok(Self {
            uid: uid.into(),
            params,
            stats,
        })
    }
    /// The params.
    pub fn params(&self) -> &TargetEncoderParams {
        &self.params
    }
    /// Per input column, each category's statistics (sorted by category; the null
    /// category −1 first and the overall statistic 2147483647 last when present).
    pub fn stats(&self) -> &[Vec<CategoryStat>] {
        &self.stats
    }
    /// Sets the smoothing the encodings use (Spark's `TargetEncoderModel.setSmoothing`).
    pub fn with_smoothing(mut self, v: f64) -> Self {
        self.params.smoothing = v;
        self
    }
    /// Sets `handleInvalid` (`Error` or `Keep`).
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }

    /// Per input column, `(category, encoding)` for every category (sorted), with the
    /// current smoothing: Spark's formula operation for operation.
    pub fn encodings(&self) -> Vec<Vec<(f64, f64)>> {
        let binary = self.params.target_type == TargetType::Binary;
        let smoothing = self.params.smoothing;
        self.stats
            .iter()
            .map(|stat| {
                let g = stat
                    .iter()
                    .find(|c| c.category == UNSEEN_CATEGORY)
                    .copied()
                    .unwrap_or(CategoryStat {
                        category: UNSEEN_CATEGORY,
                        count: f64::NAN,
                        stat: f64::NAN,
                    });
                stat.iter()
                    .map(|c| {
                        let weight = c.count / (c.count + smoothing);
                        let e = if binary {
                            weight * (c.stat / c.count) + (1.0 - weight) * (g.stat / g.count)
                        } else {
                            weight * c.stat + (1.0 - weight) * g.stat
                        };
                        (c.category, e)
                    })
                    .collect()
            })
            .collect()
    }

    /// The lookup of each input column.
    fn lookups(&self) -> Vec<Lookup> {
        self.encodings()
            .into_iter()
            .map(|enc| {
                let mut l = Lookup {
                    dense: Vec::new(),
                    table: Vec::new(),
                    by_key: HashMap::new(),
                    null: None,
                    unseen: f64::NAN,
                    vals: Vec::new(),
                };
                for &(c, e) in &enc {
                    if c == UNSEEN_CATEGORY {
                        l.unseen = e;
                    } else if c == NULL_CATEGORY {
                        l.null = Some(e);
                    } else if c >= 0.0 && (c as usize) < DENSE_CATEGORIES {
                        let i = c as usize;
                        if i >= l.dense.len() {
                            l.dense.resize(i + 1, None);
                        }
                        l.dense[i] = Some(e);
                    } else {
                        l.by_key.insert(key(c), e);
                    }
                    if !l.vals.iter().any(|v: &f64| v.to_bits() == e.to_bits()) {
                        l.vals.push(e);
                    }
                }
                l.table = l.dense.iter().map(|e| e.unwrap_or(MISS)).collect();
                l.table.push(MISS);
                l
            })
            .collect()
    }

    fn pairs(&self, input: &Schema, stage: &'static str) -> Result<Vec<(String, String)>> {
        let pairs = check_schema(&self.params, input, false, stage)?;
        if pairs.len() != self.stats.len() {
            return Err(Error::param(
                stage,
                "inputCols",
                format!(
                    "{} columns, one per encoding in the model",
                    self.stats.len()
                ),
                format!("{} columns", pairs.len()),
            ));
        }
        Ok(pairs)
    }
}

/// One input column's encodings, ready for lookup.
#[derive(Clone, Debug)]
struct Lookup {
    /// The encodings of categories below [`DENSE_CATEGORIES`], by category (None: unseen).
    dense: Vec<Option<f64>>,
    /// `dense` as one flat table for the column pass: [`MISS`] for a category unseen,
    /// and one more [`MISS`] at the end that every other value (larger, invalid) reads.
    table: Vec<f64>,
    /// The encodings of the larger categories.
    by_key: HashMap<i64, f64>,
    null: Option<f64>,
    unseen: f64,
    /// The distinct encodings, in category order (the nominal attribute's values).
    vals: Vec<f64>,
}

impl Lookup {
    /// The encoding of `v` (`None` = null), or `Err(())` for an unseen value under
    /// `handleInvalid = error`.
    fn encode(&self, v: Option<f64>, keep: bool) -> std::result::Result<f64, ()> {
        let found = match v {
            None => self.null,
            Some(x) if is_category(x) => match self.dense.get(x as usize) {
                Some(e) => *e,
                None => self.by_key.get(&key(x)).copied(),
            },
            Some(_) => None,
        };
        match found {
            Some(e) => Ok(e),
            None if keep => Ok(self.unseen),
            None => Err(()),
        }
    }
}

/// What [`Lookup::table`] holds where it has no answer: a NaN with a payload no
/// arithmetic makes. A row reading it (or a row whose encoding happens to be this very
/// NaN) is looked up again the general way, so it never leaks into an output.
const MISS: f64 = f64::from_bits(0x7ff8_dead_beef_0001);

impl Lookup {
    /// What [`table`](Self::table) holds for value `x`: its encoding, or [`MISS`].
    #[inline(always)]
    fn table_value(&self, x: impl CategoryValue) -> f64 {
        let last = self.table.len() - 1;
        self.table[x.table_index().min(last)]
    }

    /// The table's encodings of rows `first..first + dst.len()` of a column chunk without
    /// nulls, written to `dst`; whether every row was answered (false: a row read
    /// [`MISS`], and the chunk must go through [`encode_column`](Self::encode_column)).
    #[allow(clippy::unnecessary_cast)] // `with_values!` reads i32, i64 and f64 slices alike
    fn encode_block(
        &self,
        a: &ArrayRef,
        first: usize,
        dst: &mut [std::mem::MaybeUninit<f64>],
    ) -> Result<bool> {
        let mut missed = false;
        let end = first + dst.len();
        with_values!(a, v => {
            for (o, &x) in dst.iter_mut().zip(&v[first..end]) {
                let e = self.table_value(x);
                missed |= e.to_bits() == MISS.to_bits();
                o.write(e);
            }
        });
        Ok(!missed)
    }

    /// The encodings of one column chunk: one table read per row (no branch on the
    /// value), then the rows the table did not answer (nulls, unseen, large or invalid
    /// categories) through [`encode`](Self::encode), in row order, so the first unseen
    /// row is the one an error names.
    #[allow(clippy::unnecessary_cast)] // `with_values!` reads i32, i64 and f64 slices alike
    fn encode_column(&self, a: &ArrayRef, keep: bool, column: &str, pi: usize) -> Result<Vec<f64>> {
        let mut out: Vec<f64> = with_values!(a, v => v
            .iter()
            .map(|&x| self.table_value(x))
            .collect());
        let nulls = a.null_count() > 0;
        let missed = out
            .iter()
            .fold(false, |m, o| m | (o.to_bits() == MISS.to_bits()));
        if missed || nulls {
            with_values!(a, v => {
                for (r, o) in out.iter_mut().enumerate() {
                    let null = nulls && a.is_null(r);
                    if null || o.to_bits() == MISS.to_bits() {
                        let x = (!null).then(|| v[r] as f64);
                        *o = self.encode(x, keep).map_err(|()| unseen_error(column, x, pi, r))?;
                    }
                }
            });
        }
        Ok(out)
    }
}

/// The error for an unseen value under `handleInvalid = error`.
fn unseen_error(column: &str, v: Option<f64>, partition: usize, row: usize) -> Error {
    Error::InvalidValue {
        stage: "TargetEncoderModel",
        column: column.to_string(),
        partition,
        row,
        what: match v {
            Some(x) => format!("category {x} not seen at fit"),
            None => "a null category, none of which was seen at fit".into(),
        },
        hint:
            "set handleInvalid to \"keep\" to encode unseen categories with the overall statistic"
                .into(),
    }
}

impl Stage for TargetEncoderModel {
    fn kind(&self) -> &'static str {
        "TargetEncoderModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = "TargetEncoderModel";
        let pairs = self.pairs(input, stage)?;
        let vals: Vec<Vec<f64>> = self.lookups().into_iter().map(|l| l.vals).collect();
        output_schema(input, &pairs, Some(&vals), stage)
    }
}

impl Transformer for TargetEncoderModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "TargetEncoderModel";
        let out_schema = Arc::new(self.transform_schema(df.schema())?);
        let pairs = self.pairs(df.schema(), stage)?;
        let lookups = self.lookups();
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        let cols = pairs.len();
        // Every input column of every partition, read in its own type (int32, int64 and
        // double in place; other numeric types cast to double once).
        let inputs: Vec<Vec<ArrayRef>> = df.map_partitions(|_, b| {
            pairs
                .iter()
                .map(|(ic, _)| {
                    let a = schema::batch_column(b, ic)?;
                    Ok(match a.data_type() {
                        DataType::Int32 | DataType::Int64 | DataType::Float64 => a.clone(),
                        _ => cast(a, &DataType::Float64)?,
                    })
                })
                .collect()
        })?;
        // One pass over every (partition, column) at once, in parallel row blocks, into one
        // pooled buffer for all outputs (`buffer::par_build_parts`, as Bucketizer's). A
        // chunk with a null, or a row the table does not answer, is flagged and redone
        // below by `encode_column`, which applies handleInvalid and names the first bad row.
        let lens: Vec<usize> = (0..inputs.len() * cols)
            .map(|i| inputs[i / cols][i % cols].len())
            .collect();
        let walk: Vec<AtomicBool> = (0..lens.len())
            .map(|i| AtomicBool::new(inputs[i / cols][i % cols].null_count() > 0))
            .collect();
        // SAFETY: every branch writes every element of the block it is given (a block
        // whose encode_block fails part-way is rewritten whole).
        let fast = unsafe {
            crate::frame::buffer::par_build_parts(&lens, |i, first, dst| {
                let (a, l) = (&inputs[i / cols][i % cols], &lookups[i % cols]);
                if walk[i].load(Ordering::Relaxed)
                    || !l.encode_block(a, first, dst).unwrap_or(false)
                {
                    walk[i].store(true, Ordering::Relaxed);
                    dst.fill(std::mem::MaybeUninit::new(0.0));
                }
            })
        };
        let walked = walk
            .par_iter()
            .enumerate()
            .filter(|(_, w)| w.load(Ordering::Relaxed))
            .map(|(i, _)| {
                let (p, k) = (i / cols, i % cols);
                let out = lookups[k].encode_column(&inputs[p][k], keep, &pairs[k].0, p)?;
                Ok((i, Float64Array::from(out)))
            })
            .collect::<Vec<Result<_>>>();
        let mut walked = crate::frame::in_order(walked)?.into_iter().peekable();
        let mut fast = fast.into_iter().enumerate();
        let mut parts = Vec::with_capacity(inputs.len());
        for b in df.partitions() {
            let mut out_cols = b.columns().to_vec();
            for _ in 0..cols {
                let (i, values) = fast
                    .next()
                    .ok_or_else(|| Error::Internal(format!("{stage}: missing output")))?;
                let col = match walked.next_if(|(w, _)| *w == i) {
                    Some((_, col)) => col,
                    None => Float64Array::new(values, None),
                };
                out_cols.push(Arc::new(col) as ArrayRef);
            }
            parts.push(crate::frame::new_batch(
                out_schema.clone(),
                out_cols,
                b.num_rows(),
            )?);
        }
        DataFrame::try_new(out_schema.clone(), parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for TargetEncoderModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

/// The params Spark *set* (`paramMap`), over mlpipe's defaults: Spark's TargetEncoder
/// tells a set `outputCol` from its default (`<uid>__output`, which it never uses).
fn read_params(
    dir: &std::path::Path,
    md: &crate::persist::Metadata,
) -> Result<TargetEncoderParams> {
    let set = md.raw.get("paramMap").cloned().unwrap_or_else(|| json!({}));
    serde_json::from_value(set).map_err(|e| {
        Error::file(
            dir.join("metadata"),
            format!("params do not fit TargetEncoder: {e}"),
        )
    })
}

impl crate::persist::SparkPersist for TargetEncoder {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.TargetEncoder";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        Ok(Self::from_params(md.uid.clone(), read_params(dir, md)?))
    }
}

impl crate::persist::SparkPersist for TargetEncoderModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.TargetEncoderModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        // Spark's Data(index: Int, categories, counts, stats: Array[Double]), one row per
        // input column.
        let item = Arc::new(Field::new("element", DataType::Float64, false));
        let list = |f: &dyn Fn(&CategoryStat) -> f64| -> Result<ArrayRef> {
            let lens = self.stats.iter().map(Vec::len);
            let vals: Vec<f64> = self.stats.iter().flatten().map(f).collect();
            Ok(Arc::new(ListArray::try_new(
                item.clone(),
                OffsetBuffer::from_lengths(lens),
                Arc::new(Float64Array::from(vals)),
                None,
            )?))
        };
        let index: ArrayRef = Arc::new(Int32Array::from_iter_values(0..self.stats.len() as i32));
        let batch = arrow::array::RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("index", DataType::Int32, false),
                Field::new("categories", DataType::List(item.clone()), true),
                Field::new("counts", DataType::List(item.clone()), true),
                Field::new("stats", DataType::List(item.clone()), true),
            ])),
            vec![
                index,
                list(&|c| c.category)?,
                list(&|c| c.count)?,
                list(&|c| c.stat)?,
            ],
        )?;
        let doubles = json!({"type": "array", "elementType": "double", "containsNull": false});
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("index", json!("integer"), false),
                ("categories", doubles.clone(), true),
                ("counts", doubles.clone(), true),
                ("stats", doubles, true),
            ]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let params = read_params(dir, md)?;
        let bad =
            |what: String| Error::file(dir.join("data"), format!("corrupt model data: {what}"));
        let mut rows: Vec<(i64, Vec<CategoryStat>)> = Vec::new();
        for b in format::read_data_batches(dir)? {
            let index = cast(format::column(&b, "index", dir)?, &DataType::Int64)?;
            let index = index.as_primitive::<arrow::datatypes::Int64Type>();
            let lists: Vec<&ListArray> = ["categories", "counts", "stats"]
                .iter()
                .map(|n| {
                    format::column(&b, n, dir)?
                        .as_list_opt::<i32>()
                        .ok_or_else(|| bad(format!("`{n}` is not a list of doubles")))
                })
                .collect::<Result<_>>()?;
            for r in 0..b.num_rows() {
                let vals: Vec<Vec<f64>> = lists
                    .iter()
                    .map(|l| {
                        let v = l.value(r);
                        v.as_primitive_opt::<Float64Type>()
                            .map(|a| a.values().to_vec())
                            .ok_or_else(|| bad("a list is not of doubles".into()))
                    })
                    .collect::<Result<_>>()?;
                if vals[0].len() != vals[1].len() || vals[0].len() != vals[2].len() {
                    return Err(bad(format!(
                        "row {r}: categories, counts and stats differ in length"
                    )));
                }
                let stats = (0..vals[0].len())
                    .map(|i| CategoryStat {
                        category: vals[0][i],
                        count: vals[1][i],
                        stat: vals[2][i],
                    })
                    .collect();
                rows.push((index.value(r), stats));
            }
        }
        rows.sort_by_key(|(i, _)| *i);
        let stats = rows.into_iter().map(|(_, s)| s).collect();
        Self::new(md.uid.clone(), params, stats)
    }
}

// ---- Row form (crate::row) ----

#[derive(Debug)]
struct TargetEncoderRow {
    cols: Vec<(crate::row::NumIn, String, crate::row::NumOut, Lookup)>,
    keep: bool,
}

impl crate::row::RowStage for TargetEncoderModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let pairs = self.params.pairs()?;
        if pairs.len() != self.stats.len() {
            return Err(Error::param(
                "TargetEncoderModel",
                "inputCols",
                format!(
                    "{} columns, one per encoding in the model",
                    self.stats.len()
                ),
                format!("{} columns", pairs.len()),
            ));
        }
        let mut cols = Vec::new();
        for ((ic, oc), l) in pairs.into_iter().zip(self.lookups()) {
            let input = plan.num_input(&ic)?;
            cols.push((input, ic, plan.add_num(&oc), l));
        }
        Ok(Some(Box::new(TargetEncoderRow {
            cols,
            keep: self.params.handle_invalid == HandleInvalid::Keep,
        })))
    }
}

impl crate::row::RowOp for TargetEncoderRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        for (input, ic, out, l) in &self.cols {
            let v = row.num(*input);
            let e = l
                .encode(v, self.keep)
                .map_err(|()| unseen_error(ic, v, 0, row.row_index()))?;
            row.set_num(*out, Some(e));
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float32Array, Int64Array, RecordBatch};

    /// The dense category tables and the in-place integer reads give the statistics a
    /// plain map over the values cast to double gives (Spark's `count` and `count_if` /
    /// `avg` per category, summed in row order within a partition, partitions in order),
    /// bit for bit, whatever the column type; small and large categories and nulls alike;
    /// and the transform encodes the same column the same way in every type.
    #[test]
    fn dense_tables_and_typed_reads_match_a_plain_map() {
        let rows = 5000usize;
        let cat = |i: usize| -> Option<i64> {
            match i % 13 {
                0 => None,
                1 => Some(5000),          // beyond the dense table
                2 => Some(2_000_000_000), // far beyond
                _ => Some(((i * 7) % 9) as i64),
            }
        };
        let y: Vec<f64> = (0..rows).map(|i| ((i * 37) % 100) as f64 / 7.0).collect();
        let cats: Vec<Option<i64>> = (0..rows).map(cat).collect();
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "i32",
                Arc::new(Int32Array::from_iter(
                    cats.iter().map(|c| c.map(|v| v as i32)),
                )),
            ),
            ("i64", Arc::new(Int64Array::from_iter(cats.iter().copied()))),
            (
                "f64",
                Arc::new(Float64Array::from_iter(
                    cats.iter().map(|c| c.map(|v| v as f64)),
                )),
            ),
            (
                "f32",
                Arc::new(Float32Array::from_iter(
                    cats.iter().map(|c| c.map(|v| v as f32)),
                )),
            ),
            ("y", Arc::new(Float64Array::from(y.clone()))),
        ];
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let df =
            DataFrame::from_batches(vec![batch.slice(0, 3000), batch.slice(3000, 2000)]).unwrap();
        let names = ["i32", "i64", "f64", "f32"];
        let model = TargetEncoder::new()
            .with_input_cols(names)
            .with_output_cols(names.map(|n| format!("{n}_te")))
            .with_label_col("y")
            .with_target_type(TargetType::Continuous)
            .with_handle_invalid(HandleInvalid::Keep)
            .fit(&df)
            .unwrap();
        // The reference: per partition a map in row order, merged in partition order.
        let mut want: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
        for (first, len) in [(0, 3000), (3000, 2000)] {
            let mut part: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
            for i in first..first + len {
                // (f32 holds 2e9 exactly: every column agrees.)
                let k = cats[i].unwrap_or(-1);
                let e = part.entry(k).or_insert((0.0, 0.0));
                e.0 += 1.0;
                e.1 += y[i];
            }
            for (k, (n, s)) in part {
                let e = want.entry(k).or_insert((0.0, 0.0));
                e.0 += n;
                e.1 += s;
            }
        }
        for stats in model.stats() {
            let got: Vec<(i64, u64, u64)> = stats
                .iter()
                .filter(|c| c.category != UNSEEN_CATEGORY)
                .map(|c| (c.category as i64, c.count.to_bits(), c.stat.to_bits()))
                .collect();
            let expect: Vec<(i64, u64, u64)> = want
                .iter()
                .map(|(k, (n, s))| (*k, n.to_bits(), (s / n).to_bits()))
                .collect();
            assert_eq!(got, expect);
        }
        let out = model.transform(&df).unwrap();
        let first = out.column("i32_te").unwrap();
        for n in &names[1..] {
            let c = out.column(&format!("{n}_te")).unwrap();
            for (a, b) in first.chunks.iter().zip(&c.chunks) {
                let (a, b) = (
                    a.as_primitive::<Float64Type>(),
                    b.as_primitive::<Float64Type>(),
                );
                assert!(a
                    .values()
                    .iter()
                    .zip(b.values())
                    .all(|(x, y)| x.to_bits() == y.to_bits()));
            }
        }
    }

    /// The transform's one pooled pass over every (partition, column) against the
    /// per-value lookup, bit for bit: chunks of several parallel tasks, an int32 and a
    /// double column, a chunk the table answers whole, one with unseen categories (redone
    /// by the row walk under `keep`), and under `error` the first unseen row in partition
    /// order, not the first found.
    #[test]
    fn pooled_pass_matches_the_per_value_lookup() {
        let part = |first: usize, rows: usize, unseen_at: &[usize]| {
            let cats: Vec<i32> = (first..first + rows)
                .map(|i| {
                    if unseen_at.contains(&(i - first)) {
                        45
                    } else {
                        ((i * 7) % 40) as i32
                    }
                })
                .collect();
            let y: Vec<f64> = (first..first + rows)
                .map(|i| ((i / 3) % 2) as f64)
                .collect();
            RecordBatch::try_from_iter([
                ("c", Arc::new(Int32Array::from(cats.clone())) as ArrayRef),
                (
                    "d",
                    Arc::new(Float64Array::from_iter_values(
                        cats.iter().map(|&c| f64::from(c)),
                    )) as ArrayRef,
                ),
                ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
            ])
            .unwrap()
        };
        let train = DataFrame::from_batches(vec![part(0, 5000, &[])]).unwrap();
        let model = TargetEncoder::new()
            .with_input_cols(["c", "d"])
            .with_output_cols(["c_te", "d_te"])
            .with_label_col("y")
            .with_smoothing(2.0)
            .fit(&train)
            .unwrap();
        let df = DataFrame::from_batches(vec![
            part(0, 150_000, &[]),
            part(150_000, 90_000, &[777, 80_000]),
            part(240_000, 3000, &[5]),
        ])
        .unwrap();
        let kept = model
            .clone()
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df)
            .unwrap();
        let lookups = model.lookups();
        for (k, name) in ["c", "d"].iter().enumerate() {
            let input = df.column(name).unwrap();
            let output = kept.column(&format!("{name}_te")).unwrap();
            for (a, o) in input.chunks.iter().zip(&output.chunks) {
                let a = cast(a, &DataType::Float64).unwrap();
                let a = a.as_primitive::<Float64Type>();
                let o = o.as_primitive::<Float64Type>();
                assert_eq!(a.len(), o.len());
                for (x, e) in a.values().iter().zip(o.values()) {
                    let want = lookups[k].encode(Some(*x), true).unwrap();
                    assert_eq!(e.to_bits(), want.to_bits(), "{name} {x}");
                }
            }
        }
        let err = model.transform(&df).unwrap_err().to_string();
        assert!(
            err.contains("partition 1") && err.contains("row 777") && err.contains("category 45"),
            "{err}"
        );
    }

    /// The binary path (a class per row, `[category][class]` integer tables, the rest by
    /// row) against a plain map of `(rows, rows with label 1)` per category over the
    /// labelled rows (Spark's `count` and `count_if(label = 1)`), bit for bit, with null,
    /// NaN and integer labels, null, small and large categories, and an invalid category
    /// on an unlabelled row (left out, as Spark drops the row first); the transform's
    /// table pass against the per-value lookup, unseen categories included; and the
    /// errors naming the first bad row.
    #[test]
    fn binary_tables_match_a_plain_map() {
        let rows = 7000usize;
        let cat = |i: usize| -> Option<f64> {
            match i % 17 {
                0 => None,
                1 => Some(4100.0),
                2 if i % 2 == 0 => Some(-3.0), // invalid, on unlabelled rows only
                _ => Some(((i * 5) % 11) as f64),
            }
        };
        let label = |i: usize| -> Option<f64> {
            match i % 17 {
                2 if i % 2 == 0 => Some(f64::NAN),
                4 => None,
                _ => Some(((i * 31) % 3 == 0) as u8 as f64),
            }
        };
        let cats: Vec<Option<f64>> = (0..rows).map(cat).collect();
        let ys: Vec<Option<f64>> = (0..rows).map(label).collect();
        let batch = RecordBatch::try_from_iter([
            ("c", Arc::new(Float64Array::from(cats.clone())) as ArrayRef),
            ("y", Arc::new(Float64Array::from(ys.clone())) as ArrayRef),
            (
                "yi",
                Arc::new(Int32Array::from_iter(
                    ys.iter()
                        .map(|y| y.filter(|v| !v.is_nan()).map(|v| v as i32)),
                )) as ArrayRef,
            ),
        ])
        .unwrap();
        let df =
            DataFrame::from_batches(vec![batch.slice(0, 4000), batch.slice(4000, 3000)]).unwrap();
        let mut want: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
        for i in 0..rows {
            let Some(y) = ys[i].filter(|y| !y.is_nan()) else {
                continue;
            };
            let e = want
                .entry(cats[i].map_or(-1, |c| c as i64))
                .or_insert((0.0, 0.0));
            e.0 += 1.0;
            e.1 += y;
        }
        for lc in ["y", "yi"] {
            let model = TargetEncoder::new()
                .with_input_col("c")
                .with_output_col("te")
                .with_label_col(lc)
                .with_smoothing(2.0)
                .fit(&df)
                .unwrap();
            let got: Vec<(i64, u64, u64)> = model.stats()[0]
                .iter()
                .filter(|c| c.category != UNSEEN_CATEGORY)
                .map(|c| (c.category as i64, c.count.to_bits(), c.stat.to_bits()))
                .collect();
            let expect: Vec<(i64, u64, u64)> = want
                .iter()
                .map(|(k, (n, s))| (*k, n.to_bits(), s.to_bits()))
                .collect();
            assert_eq!(got, expect, "label {lc}");
            // Transform: categories 3 and 4100 dropped from the model are unseen.
            let stats: Vec<CategoryStat> = model.stats()[0]
                .iter()
                .copied()
                .filter(|c| c.category != 3.0 && c.category != 4100.0)
                .collect();
            let m = TargetEncoderModel::new("m", model.params().clone(), vec![stats])
                .unwrap()
                .with_handle_invalid(HandleInvalid::Keep);
            let l = &m.lookups()[0];
            let test = df.drop_invalid(["c"]).unwrap();
            let out = m.transform(&df).unwrap();
            for (p, chunk) in out.column("te").unwrap().chunks.iter().enumerate() {
                let first = if p == 0 { 0 } else { 4000 };
                let got = chunk.as_primitive::<Float64Type>();
                for (r, g) in got.values().iter().enumerate() {
                    let c = cats[first + r];
                    let e = l.encode(c, true).unwrap();
                    assert_eq!(g.to_bits(), e.to_bits(), "row {}", first + r);
                }
            }
            let err = m
                .clone()
                .with_handle_invalid(HandleInvalid::Error)
                .transform(&test)
                .unwrap_err()
                .to_string();
            // The first row of category 3 or 4100 (no nulls left in `test`).
            assert!(err.contains("(partition 0, row 0)"), "{err}");
        }
        // A label 2 at row 5000 (partition 1, row 1000); a negative category on a
        // labelled row 10 (row 6 is unlabelled: not an error).
        let mut y2 = ys.clone();
        y2[5000] = Some(2.0);
        let mut c2 = cats.clone();
        c2[10] = Some(-1.0);
        for (cats, ys, want) in [
            (&cats, &y2, "label 2 in column `y` (partition 1, row 1000)"),
            (&c2, &ys, "category -1 in column `c` (partition 0, row 10)"),
        ] {
            let batch = RecordBatch::try_from_iter([
                ("c", Arc::new(Float64Array::from(cats.clone())) as ArrayRef),
                ("y", Arc::new(Float64Array::from(ys.clone())) as ArrayRef),
            ])
            .unwrap();
            let df = DataFrame::from_batches(vec![batch.slice(0, 4000), batch.slice(4000, 3000)])
                .unwrap();
            let err = TargetEncoder::new()
                .with_input_col("c")
                .with_label_col("y")
                .fit(&df)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
