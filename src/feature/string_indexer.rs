//! [`StringIndexer`], [`StringIndexerModel`] and [`IndexToString`].

use std::sync::Arc;

use ahash::AHashMap;
use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, RecordBatch, StringArray,
};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::columns::{in_out_cols, InOutCols};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{HandleInvalid, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer, WarnOnce};

/// Spark's `stringOrderType`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StringOrderType {
    /// Most frequent first (default); ties alphabetical.
    #[default]
    FrequencyDesc,
    /// Least frequent first; ties alphabetical.
    FrequencyAsc,
    /// Reverse alphabetical.
    AlphabetDesc,
    /// Alphabetical.
    AlphabetAsc,
}

/// Params of [`StringIndexer`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StringIndexerParams {
    /// Single-column mode: the input column.
    pub input_col: Option<String>,
    /// Multi-column mode: the input columns.
    pub input_cols: Option<Vec<String>>,
    /// Single-column mode: the output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// Multi-column mode: one output column per input column.
    pub output_cols: Option<Vec<String>>,
    /// Nulls and unseen labels: `error` (default), `skip` the row, or `keep` as index
    /// `numLabels`.
    pub handle_invalid: HandleInvalid,
    /// Label order: `frequencyDesc` (default), `frequencyAsc`, `alphabetDesc`, `alphabetAsc`.
    pub string_order_type: StringOrderType,
}

in_out_cols!(StringIndexerParams);

impl Params for StringIndexerParams {
    const STAGE: &'static str = "StringIndexer";
    fn validate(&self) -> Result<()> {
        self.pairs(Self::STAGE).map(|_| ())
    }
}

/// Indexes string (or numeric, as their string form) columns by label frequency, like
/// Spark's `org.apache.spark.ml.feature.StringIndexer`: the most frequent label gets index 0, ties
/// are broken alphabetically. The output is a Float64 column whose field metadata holds
/// the labels (Spark's nominal attribute).
///
/// As in Spark, the fitted model skips an input column that is missing, so a pipeline that
/// indexes its label scores unlabelled data; fitting needs every input column. The skip is
/// logged as a `tracing` warning once per model (not on every `transform`), and inside a
/// [`PipelineModel`](crate::PipelineModel) a skipped column that a later stage needs is an
/// error ([`Error::MissingInput`]) naming this stage and the missing column.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::StringIndexer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = StringIndexer::new().with_input_col("contract").with_output_col("contract_idx").fit(&df)?;
/// assert_eq!(model.labels()[0], vec!["month-to-month", "one-year", "two-year"]);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("contract_idx").is_ok());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StringIndexer {
    uid: String,
    params: StringIndexerParams,
}

super::columns::stage_basics!(StringIndexer, StringIndexerParams, "strIdx", |uid| {
    StringIndexerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl StringIndexer {
    super::columns::multi_column_setters!();
    /// Null and unseen-label policy; default `error`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
    /// Label order; default frequencyDesc.
    pub fn with_string_order_type(mut self, o: StringOrderType) -> Self {
        self.params.string_order_type = o;
        self
    }
}

/// Checks the inputs (string or numeric) and appends the outputs with label metadata.
fn indexer_schema(
    p: &StringIndexerParams,
    input: &Schema,
    labels: Option<&[Vec<String>]>,
    stage: &'static str,
) -> Result<Schema> {
    let pairs = p.pairs(stage)?;
    let mut out = input.clone();
    for (i, (ic, oc)) in pairs.iter().enumerate() {
        let (_, f) = schema::require_column(input, stage, ic)?;
        if !is_indexable(f.data_type()) {
            return Err(Error::ColumnType {
                stage,
                column: ic.clone(),
                expected: INDEXABLE.into(),
                found: f.data_type().clone(),
            });
        }
        let mut field = Field::new(oc, DataType::Float64, false);
        if let Some(l) = labels {
            let mut vals = l[i].clone();
            if p.handle_invalid == HandleInvalid::Keep {
                vals.push("__unknown".into());
            }
            field.metadata_mut().insert(
                vector::ML_ATTR,
                json!({"vals": vals, "type": "nominal", "name": oc}).to_string(),
            );
        }
        out = schema::append_field(&out, stage, field)?;
    }
    Ok(out)
}

/// What an indexer reads: strings (plain, large, view, or dictionary-encoded as polars'
/// Categorical columns and Parquet's dictionary pages give them) or numbers.
fn is_indexable(dt: &DataType) -> bool {
    let string = |dt: &DataType| {
        matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
    };
    match dt {
        DataType::Dictionary(key, value) => key.is_dictionary_key_type() && string(value),
        dt => string(dt) || dt.is_numeric(),
    }
}

/// The input types an indexer accepts, for its type errors.
const INDEXABLE: &str = "a string column (Utf8, LargeUtf8, Utf8View, or a Dictionary of integer keys to one of them, such as a polars Categorical) or a numeric column";

/// The column as strings: numbers in their string form, numeric NaN as null, a
/// dictionary-encoded column through its dictionary (a null key is a null).
pub(crate) fn as_strings(arr: &ArrayRef) -> Result<StringArray> {
    let s = cast(arr, &DataType::Utf8)?;
    let s = s.as_string::<i32>().clone();
    if matches!(
        arr.data_type(),
        DataType::Float32 | DataType::Float64 | DataType::Float16
    ) {
        let f = cast(arr, &DataType::Float64)?;
        let f = f.as_primitive::<Float64Type>();
        if f.values().iter().any(|v| v.is_nan()) {
            return Ok(s
                .iter()
                .zip(f.iter())
                .map(|(s, v)| if v.is_some_and(f64::is_nan) { None } else { s })
                .collect());
        }
    }
    Ok(s)
}

impl Stage for StringIndexer {
    fn kind(&self) -> &'static str {
        "StringIndexer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        indexer_schema(&self.params, input, None, StringIndexerParams::STAGE)
    }
}

impl Estimator for StringIndexer {
    type Model = StringIndexerModel;

    fn fit(&self, df: &DataFrame) -> Result<StringIndexerModel> {
        let stage = StringIndexerParams::STAGE;
        self.transform_schema(df.schema())?;
        let pairs = self.params.pairs(stage)?;
        let mut labels = Vec::with_capacity(pairs.len());
        for (ic, _) in &pairs {
            let col = df.column(ic)?;
            // Count per partition in parallel, then merge in partition order.
            let counts = col
                .chunks
                .par_iter()
                .map(|c| {
                    let s = as_strings(c)?;
                    let mut local = StrIndex::default();
                    let mut counts: Vec<u64> = Vec::new();
                    for v in s.iter().flatten() {
                        let k = local.get_or_insert(v);
                        if k == counts.len() {
                            counts.push(0);
                        }
                        counts[k] += 1;
                    }
                    let m: AHashMap<String, u64> = local
                        .keys
                        .iter()
                        .zip(counts)
                        .map(|(k, n)| (k.to_string(), n))
                        .collect();
                    Ok(m)
                })
                .collect::<Vec<_>>();
            let counts = crate::frame::in_order(counts)?;
            let mut total: AHashMap<String, u64> = AHashMap::new();
            for m in counts {
                for (k, v) in m {
                    *total.entry(k).or_default() += v;
                }
            }
            if total.is_empty() {
                return Err(Error::EmptyInput {
                    stage,
                    hint: format!("column `{ic}` has no non-null values to index"),
                });
            }
            let mut l: Vec<(String, u64)> = total.into_iter().collect();
            match self.params.string_order_type {
                StringOrderType::FrequencyDesc => {
                    l.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)))
                }
                StringOrderType::FrequencyAsc => {
                    l.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)))
                }
                StringOrderType::AlphabetDesc => l.sort_by(|a, b| b.0.cmp(&a.0)),
                StringOrderType::AlphabetAsc => l.sort_by(|a, b| a.0.cmp(&b.0)),
            }
            labels.push(l.into_iter().map(|(s, _)| s).collect::<Vec<_>>());
        }
        Ok(StringIndexerModel::new(
            self.uid.clone(),
            self.params.clone(),
            labels,
        ))
    }
}

/// A fitted [`StringIndexer`]: one label array per input column.
#[derive(Clone, Debug, PartialEq)]
pub struct StringIndexerModel {
    uid: String,
    params: StringIndexerParams,
    labels: Vec<Vec<String>>,
    /// The missing input columns already warned about.
    warned: WarnOnce,
}

impl StringIndexerModel {
    /// A model from its labels (Spark's `labelsArray`).
    pub fn new(
        uid: impl Into<String>,
        params: StringIndexerParams,
        labels: Vec<Vec<String>>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            labels,
            warned: WarnOnce::default(),
        }
    }
    /// The params.
    pub fn params(&self) -> &StringIndexerParams {
        &self.params
    }
    /// The labels of each input column, by index (Spark's `labelsArray`).
    pub fn labels(&self) -> &[Vec<String>] {
        &self.labels
    }

    fn index_batch(
        &self,
        part: usize,
        b: &RecordBatch,
        pairs: &[(String, String)],
        labels: &[&[String]],
        maps: &[LabelIndex<'_>],
    ) -> Result<(Vec<ArrayRef>, Option<BooleanArray>)> {
        let stage = "StringIndexerModel";
        let h = self.params.handle_invalid;
        let mut outs = Vec::with_capacity(pairs.len());
        let mut keep = vec![true; b.num_rows()];
        for (i, (ic, _)) in pairs.iter().enumerate() {
            let arr = schema::batch_column(b, ic)?;
            let s = as_strings(arr)?;
            let unknown = labels[i].len() as f64;
            let nulls = s.null_count() > 0;
            let mut out = Vec::with_capacity(s.len());
            for (r, kept) in keep.iter_mut().enumerate() {
                let idx = if nulls && s.is_null(r) {
                    None
                } else {
                    maps[i].get(s.value(r))
                };
                match (idx, h) {
                    (Some(x), _) => out.push(x),
                    (None, HandleInvalid::Keep) => out.push(unknown),
                    (None, HandleInvalid::Skip) => {
                        *kept = false;
                        out.push(0.0);
                    }
                    (None, HandleInvalid::Error) => {
                        let what = if s.is_null(r) {
                            "null value".to_string()
                        } else {
                            format!("unseen label {:?}", s.value(r))
                        };
                        return Err(Error::InvalidValue {
                            stage,
                            column: ic.clone(),
                            partition: part,
                            row: r,
                            what,
                            hint: "to handle unseen labels and nulls, set handleInvalid to \"keep\" (extra index) or \"skip\" (drop the row)".into(),
                        });
                    }
                }
            }
            outs.push(Arc::new(Float64Array::from(out)) as ArrayRef);
        }
        let mask =
            (h == HandleInvalid::Skip && keep.iter().any(|k| !k)).then(|| BooleanArray::from(keep));
        Ok((outs, mask))
    }
}

/// A string of at most [`SHORT_BYTES`] bytes as an exact key (with its length): its bytes
/// read as two words, for 8..=16 bytes the first and the last eight (overlapping), for
/// fewer bytes the first and last four, or the first, middle and last byte. Longer
/// strings have none.
#[inline(always)]
fn short_key(b: &[u8]) -> Option<(u64, u64)> {
    /// The 8 bytes of `s` from `i` as a word.
    #[inline(always)]
    fn word(s: &[u8], i: usize) -> u64 {
        let mut w = [0u8; 8];
        w.copy_from_slice(&s[i..i + 8]);
        u64::from_le_bytes(w)
    }
    /// The 4 bytes of `s` from `i` as a word.
    #[inline(always)]
    fn half(s: &[u8], i: usize) -> u64 {
        let mut w = [0u8; 4];
        w.copy_from_slice(&s[i..i + 4]);
        u64::from(u32::from_le_bytes(w))
    }
    let n = b.len();
    Some(match n {
        8..=SHORT_BYTES => (word(b, 0), word(b, n - 8)),
        4..=7 => (half(b, 0), half(b, n - 4)),
        1..=3 => (
            u64::from(b[0]) | u64::from(b[n / 2]) << 8 | u64::from(b[n - 1]) << 16,
            0,
        ),
        0 => (0, 0),
        _ => return None,
    })
}

/// Strings up to this long are found through their [`short_key`]s (no byte compare).
const SHORT_BYTES: usize = 16;

/// One entry of [`StrIndex`]'s table of short strings: the key, the length and the slot
/// ([`EMPTY_SLOT`]: a free entry).
#[derive(Clone, Copy)]
struct ShortEntry {
    key: (u64, u64),
    len: u32,
    slot: u32,
}

/// A free [`ShortEntry`].
const EMPTY_SLOT: u32 = u32::MAX;

/// Distinct strings, each given a slot in order of first insertion. A categorical
/// column's values are short: those of at most [`SHORT_BYTES`] bytes are found in an
/// open-addressed table by their exact [`short_key`] (two word loads, one multiply, one
/// probe, no byte compare, no branch on which string it is); longer ones through a hash
/// map.
struct StrIndex<'a> {
    /// The strings, by slot.
    keys: Vec<&'a str>,
    /// The short strings' entries, a power of two of them, at most a quarter used.
    short: Vec<ShortEntry>,
    /// The longer strings, string to slot.
    long: AHashMap<&'a str, usize>,
}

impl Default for StrIndex<'_> {
    fn default() -> Self {
        StrIndex {
            keys: Vec::new(),
            short: vec![
                ShortEntry {
                    key: (0, 0),
                    len: 0,
                    slot: EMPTY_SLOT,
                };
                16
            ],
            long: AHashMap::new(),
        }
    }
}

impl<'a> StrIndex<'a> {
    /// The table position a short key starts probing at.
    #[inline(always)]
    fn home(&self, key: (u64, u64), len: usize) -> usize {
        let h = (key.0 ^ key.1.rotate_left(29) ^ (len as u64).rotate_right(7))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 32) as usize & (self.short.len() - 1)
    }

    /// The table position of a short key: its entry, or the free entry where it goes.
    #[inline(always)]
    fn probe(&self, key: (u64, u64), len: usize) -> usize {
        let mask = self.short.len() - 1;
        let mut i = self.home(key, len);
        loop {
            let e = &self.short[i];
            if e.slot == EMPTY_SLOT || (e.key == key && e.len as usize == len) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot of `s`, if present.
    #[inline]
    fn get(&self, s: &str) -> Option<usize> {
        let b = s.as_bytes();
        match short_key(b) {
            Some(key) => {
                let slot = self.short[self.probe(key, b.len())].slot;
                (slot != EMPTY_SLOT).then_some(slot as usize)
            }
            None => self.long.get(s).copied(),
        }
    }

    /// The slot of `s`, inserted at the next slot when absent.
    #[inline]
    fn get_or_insert(&mut self, s: &'a str) -> usize {
        let b = s.as_bytes();
        let Some(key) = short_key(b) else {
            let next = self.keys.len();
            let k = *self.long.entry(s).or_insert(next);
            if k == next {
                self.keys.push(s);
            }
            return k;
        };
        let i = self.probe(key, b.len());
        if self.short[i].slot != EMPTY_SLOT {
            return self.short[i].slot as usize;
        }
        let next = self.keys.len();
        self.keys.push(s);
        self.short[i] = ShortEntry {
            key,
            len: b.len() as u32,
            slot: next as u32,
        };
        if self.keys.len() * 4 > self.short.len() {
            self.grow();
        }
        next
    }

    /// Doubles the short strings' table and enters them again.
    #[cold]
    fn grow(&mut self) {
        let empty = ShortEntry {
            key: (0, 0),
            len: 0,
            slot: EMPTY_SLOT,
        };
        self.short = vec![empty; self.short.len() * 2];
        for (slot, s) in self.keys.iter().enumerate() {
            let b = s.as_bytes();
            if let Some(key) = short_key(b) {
                let i = self.probe(key, b.len());
                self.short[i] = ShortEntry {
                    key,
                    len: b.len() as u32,
                    slot: slot as u32,
                };
            }
        }
    }
}

/// A model's labels, string to index: a label listed twice indexes as its last listing,
/// as Spark's `labels.zipWithIndex.toMap` has it.
pub(crate) struct LabelIndex<'a> {
    slots: StrIndex<'a>,
    /// The index of each slot's label.
    index: Vec<f64>,
}

impl<'a> LabelIndex<'a> {
    pub(crate) fn new(labels: &'a [String]) -> Self {
        let mut slots = StrIndex::default();
        let mut index = Vec::with_capacity(labels.len());
        for (i, l) in labels.iter().enumerate() {
            let k = slots.get_or_insert(l);
            if k == index.len() {
                index.push(0.0);
            }
            index[k] = i as f64;
        }
        Self { slots, index }
    }

    /// The index of label `s`, if it is one.
    #[inline]
    pub(crate) fn get(&self, s: &str) -> Option<f64> {
        self.slots.get(s).map(|k| self.index[k])
    }
}

/// `(input, output)` column pairs and the labels of each.
type PresentPairs<'a> = (Vec<(String, String)>, Vec<&'a [String]>);

impl StringIndexerModel {
    /// The `(input, output)` pairs whose input column `input` holds, with their labels, and
    /// the pairs whose input is missing. As Spark does, a fitted indexer skips a missing
    /// input column, so a pipeline that indexes its label still scores unlabelled data.
    fn present_pairs(&self, input: &Schema) -> Result<(PresentPairs<'_>, Vec<(String, String)>)> {
        let pairs = self.params.pairs("StringIndexerModel")?;
        if pairs.len() != self.labels.len() {
            return Err(Error::Internal(format!(
                "{} label arrays for {} input columns",
                self.labels.len(),
                pairs.len()
            )));
        }
        let mut kept = Vec::new();
        let mut labels = Vec::new();
        let mut skipped = Vec::new();
        for (pair, l) in pairs.into_iter().zip(&self.labels) {
            if input.field_with_name(&pair.0).is_ok() {
                kept.push(pair);
                labels.push(l.as_slice());
            } else {
                skipped.push(pair);
            }
        }
        Ok(((kept, labels), skipped))
    }
}

impl Stage for StringIndexerModel {
    fn kind(&self) -> &'static str {
        "StringIndexerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let ((pairs, labels), _) = self.present_pairs(input)?;
        if pairs.is_empty() {
            return Ok(input.clone());
        }
        let (ics, ocs): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        let params = StringIndexerParams {
            input_col: None,
            input_cols: Some(ics),
            output_col: None,
            output_cols: Some(ocs),
            ..self.params.clone()
        };
        let labels: Vec<Vec<String>> = labels.iter().map(|l| l.to_vec()).collect();
        indexer_schema(&params, input, Some(&labels), "StringIndexerModel")
    }
    fn skipped_columns(&self, input: &Schema) -> Vec<(String, String)> {
        self.present_pairs(input)
            .map(|(_, skipped)| skipped)
            .unwrap_or_default()
    }
}

impl Transformer for StringIndexerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = Arc::new(self.transform_schema(df.schema())?);
        let ((pairs, labels), skipped) = self.present_pairs(df.schema())?;
        for (input, output) in &skipped {
            if self.warned.first(input) {
                tracing::warn!(
                    uid = %self.uid,
                    column = %input,
                    "StringIndexerModel: input column `{input}` not found; skipping it as Spark does, so `{output}` is not produced (logged once per model)"
                );
            }
        }
        if pairs.is_empty() {
            return Ok(df.clone());
        }
        let maps: Vec<LabelIndex<'_>> = labels.iter().map(|l| LabelIndex::new(l)).collect();
        let parts = df.map_partitions(|pi, b| {
            let (outs, mask) = self.index_batch(pi, b, &pairs, &labels, &maps)?;
            let mut cols = b.columns().to_vec();
            cols.extend(outs);
            let batch = crate::frame::new_batch(out_schema.clone(), cols, b.num_rows())?;
            Ok(match mask {
                Some(m) => filter_record_batch(&batch, &m)?,
                None => batch,
            })
        })?;
        DataFrame::try_new(out_schema, parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for StringIndexerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

/// The labels of a nominal column, from its metadata (as StringIndexer writes them).
pub fn nominal_labels(field: &Field) -> Option<Vec<String>> {
    let raw = field.metadata().get(vector::ML_ATTR)?;
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    let vals = v.get("vals")?.as_array()?;
    vals.iter().map(|s| s.as_str().map(String::from)).collect()
}

/// Params of [`IndexToString`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IndexToStringParams {
    /// Numeric index column. Required.
    pub input_col: String,
    /// String output column (Spark's default `<uid>__output`).
    pub output_col: String,
    /// Labels by index; when unset or empty, the input column's metadata supplies them.
    pub labels: Option<Vec<String>>,
}

impl Params for IndexToStringParams {
    const STAGE: &'static str = "IndexToString";
    fn validate(&self) -> Result<()> {
        for (n, v) in [
            ("inputCol", &self.input_col),
            ("outputCol", &self.output_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(
                    Self::STAGE,
                    n,
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        Ok(())
    }
}

/// Maps indices back to labels (Spark's `IndexToString`), with the labels given or taken
/// from the input column's metadata.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{IndexToString, StringIndexer};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let idx = StringIndexer::new().with_input_col("contract").with_output_col("i").fit(&df)?.transform(&df)?;
/// let back = IndexToString::new().with_input_col("i").with_output_col("c").transform(&idx)?;
/// assert_eq!(back.column("c")?.chunks[0].len(), 30);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct IndexToString {
    uid: String,
    params: IndexToStringParams,
}

super::columns::stage_basics!(IndexToString, IndexToStringParams, "idxToStr", |uid| {
    IndexToStringParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl IndexToString {
    /// Input index column.
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = c.into();
        self
    }
    /// Output column.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// Explicit labels, by index (any list of strings).
    pub fn with_labels(mut self, l: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.labels = Some(super::columns::names(l));
        self
    }

    fn resolve_labels(&self, input: &Schema) -> Result<Vec<String>> {
        let stage = IndexToStringParams::STAGE;
        let (_, f) = schema::require_numeric(input, stage, &self.params.input_col)?;
        match &self.params.labels {
            Some(l) if !l.is_empty() => Ok(l.clone()),
            _ => nominal_labels(f).ok_or_else(|| {
                Error::param(
                    stage,
                    "labels",
                    format!(
                        "set, since column `{}` carries no labels in its metadata",
                        self.params.input_col
                    ),
                    "unset",
                )
            }),
        }
    }
}

impl Stage for IndexToString {
    fn kind(&self) -> &'static str {
        "IndexToString"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        self.resolve_labels(input)?;
        schema::append_field(
            input,
            IndexToStringParams::STAGE,
            Field::new(&self.params.output_col, DataType::Utf8, true),
        )
    }
}

impl Transformer for IndexToString {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let schema = self.transform_schema(df.schema())?;
        let labels = self.resolve_labels(df.schema())?;
        let col = df.column(&self.params.input_col)?;
        let chunks = col
            .chunks
            .iter()
            .enumerate()
            .map(|(pi, c)| {
                let f = cast(c, &DataType::Float64)?;
                let f = f.as_primitive::<Float64Type>();
                let mut out: Vec<Option<&str>> = Vec::with_capacity(f.len());
                for (r, v) in f.iter().enumerate() {
                    match v {
                        None => out.push(None),
                        Some(v) if v >= 0.0 && (v as usize) < labels.len() => {
                            out.push(Some(&labels[v as usize]))
                        }
                        Some(v) => {
                            return Err(Error::InvalidValue {
                                stage: IndexToStringParams::STAGE,
                                column: self.params.input_col.clone(),
                                partition: pi,
                                row: r,
                                what: format!("unseen index {v}"),
                                hint: format!("indices must be in 0..{}", labels.len()),
                            })
                        }
                    }
                }
                Ok(Arc::new(StringArray::from(out)) as ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        df.with_column(
            schema.field_with_name(&self.params.output_col)?.clone(),
            chunks,
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(StringIndexer, "org.apache.spark.ml.feature.StringIndexer");
crate::persist::spark_params_only!(IndexToString, "org.apache.spark.ml.feature.IndexToString");

impl crate::persist::SparkPersist for StringIndexerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.StringIndexerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let mut b = arrow::array::ListBuilder::new(arrow::array::ListBuilder::new(
            arrow::array::StringBuilder::new(),
        ));
        for labels in &self.labels {
            for l in labels {
                b.values().values().append_value(l);
            }
            b.values().append(true);
        }
        b.append(true);
        let arr: ArrayRef = Arc::new(b.finish());
        let batch = format::one_row(vec![(
            Field::new("labelsArray", arr.data_type().clone(), true),
            arr,
        )])?;
        let strings = json!({"type": "array", "elementType": "string", "containsNull": true});
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[(
                "labelsArray",
                json!({"type": "array", "elementType": strings, "containsNull": true}),
                true,
            )]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let labels = if let Some(a) = d.column_by_name("labelsArray") {
            let outer = a
                .as_list_opt::<i32>()
                .ok_or_else(|| Error::file(dir.join("data"), "labelsArray is not a list"))?;
            // one row; its value is a list (per input column) of lists of labels
            let row = outer.value(0);
            let inner = row.as_list_opt::<i32>().ok_or_else(|| {
                Error::file(dir.join("data"), "labelsArray is not a list of lists")
            })?;
            (0..inner.len())
                .map(|i| format::string_list(&inner.value(i), dir))
                .collect::<Result<Vec<_>>>()?
        } else {
            // Spark < 3: one `labels` column
            let a = format::column(&d, "labels", dir)?;
            let l = a
                .as_list_opt::<i32>()
                .ok_or_else(|| Error::file(dir.join("data"), "labels is not a list"))?;
            vec![format::string_list(&l.value(0), dir)?]
        };
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, labels))
    }
}

// ---- Row form (crate::row) ----

/// One indexed column of a [`StringIndexerModel`]'s row form.
#[derive(Debug)]
struct IndexedCol {
    input: crate::row::StrIn,
    column: String,
    out: crate::row::NumOut,
    by_str: AHashMap<String, f64>,
    /// Numeric inputs: the value (as the batch's cast sees it) → index, for the labels
    /// that are a number's string form.
    by_num: AHashMap<u64, f64>,
    unknown: f64,
}

#[derive(Debug)]
struct StringIndexerRow {
    cols: Vec<IndexedCol>,
    handle_invalid: HandleInvalid,
}

/// The labels that are the string form (Arrow's cast, as in batch) of a value of type
/// `dt`, keyed by that value's f64 bits.
fn numeric_label_map(labels: &[String], dt: &DataType) -> Result<AHashMap<u64, f64>> {
    let mut out = AHashMap::new();
    for (i, l) in labels.iter().enumerate() {
        let Ok(v) = l.parse::<f64>() else { continue };
        let arr: ArrayRef = match dt {
            DataType::Float32 | DataType::Float16 => {
                Arc::new(arrow::array::Float32Array::from(vec![v as f32]))
            }
            dt if dt.is_integer() => {
                if v.fract() != 0.0 {
                    continue;
                }
                Arc::new(arrow::array::Int64Array::from(vec![v as i64]))
            }
            DataType::Boolean => continue,
            _ => Arc::new(Float64Array::from(vec![v])),
        };
        let s = cast(&arr, &DataType::Utf8)?;
        if s.as_string::<i32>().value(0) == l {
            let key = match dt {
                DataType::Float32 | DataType::Float16 => (v as f32 as f64).to_bits(),
                _ => v.to_bits(),
            };
            out.entry(key).or_insert(i as f64);
        }
    }
    Ok(out)
}

impl crate::row::RowStage for StringIndexerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let ((pairs, labels), _) = self.present_pairs(plan.schema())?;
        if pairs.is_empty() {
            return Ok(None);
        }
        let mut cols = Vec::with_capacity(pairs.len());
        for ((ic, oc), l) in pairs.iter().zip(labels) {
            let input = plan.str_input(ic)?;
            let by_num = match input {
                crate::row::StrIn::Num(_) => {
                    numeric_label_map(l, &plan.input_type(ic).unwrap_or(DataType::Float64))?
                }
                crate::row::StrIn::Str(_) => AHashMap::new(),
            };
            cols.push(IndexedCol {
                input,
                column: ic.clone(),
                out: plan.add_num(oc),
                by_str: l
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.clone(), i as f64))
                    .collect(),
                by_num,
                unknown: l.len() as f64,
            });
        }
        Ok(Some(Box::new(StringIndexerRow {
            cols,
            handle_invalid: self.params.handle_invalid,
        })))
    }
}

impl crate::row::RowOp for StringIndexerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        for c in &self.cols {
            // (found index, the value was null)
            let (idx, null) = match c.input {
                crate::row::StrIn::Str(f) => match row.str(f) {
                    Some(s) => (c.by_str.get(s).copied(), false),
                    None => (None, true),
                },
                crate::row::StrIn::Num(x) => match row.num(x) {
                    Some(v) if !v.is_nan() => (c.by_num.get(&v.to_bits()).copied(), false),
                    _ => (None, true),
                },
            };
            let v = match (idx, self.handle_invalid) {
                (Some(x), _) => x,
                (None, HandleInvalid::Keep) => c.unknown,
                (None, HandleInvalid::Skip) => return Ok(crate::row::Flow::Drop),
                (None, HandleInvalid::Error) => {
                    let what = if null {
                        "null value".to_string()
                    } else {
                        match c.input {
                            crate::row::StrIn::Str(f) => {
                                format!("unseen label {:?}", row.str(f).unwrap_or_default())
                            }
                            crate::row::StrIn::Num(x) => {
                                format!("unseen label {}", row.num(x).unwrap_or(f64::NAN))
                            }
                        }
                    };
                    return Err(row.invalid(
                        "StringIndexerModel",
                        &c.column,
                        what,
                        "to handle unseen labels and nulls, set handleInvalid to \"keep\" (extra index) or \"skip\" (drop the row)",
                    ));
                }
            };
            row.set_num(c.out, Some(v));
        }
        Ok(crate::row::Flow::Next)
    }
}

#[derive(Debug)]
struct IndexToStringRow {
    input: crate::row::NumIn,
    column: String,
    out: crate::row::NumOut,
    n: usize,
}

impl crate::row::RowStage for IndexToString {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let labels = self.resolve_labels(plan.schema())?;
        let input = plan.num_input(&self.params.input_col)?;
        let n = labels.len();
        let out = plan.add_label(&self.params.output_col, labels.into());
        Ok(Some(Box::new(IndexToStringRow {
            input,
            column: self.params.input_col.clone(),
            out,
            n,
        })))
    }
}

impl crate::row::RowOp for IndexToStringRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        match row.num(self.input) {
            None => row.set_num(self.out, None),
            Some(v) if v >= 0.0 && (v as usize) < self.n => {
                row.set_num(self.out, Some((v as usize) as f64))
            }
            Some(v) => {
                return Err(row.invalid(
                    IndexToStringParams::STAGE,
                    &self.column,
                    format!("unseen index {v}"),
                    format!("indices must be in 0..{}", self.n),
                ))
            }
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings of every length up to 20 bytes, and each with one byte changed: the short
    /// keys tell apart exactly the strings that differ (with their lengths); longer
    /// strings have none.
    #[test]
    fn short_keys_are_exact() {
        let words: Vec<Vec<u8>> = (0..=20)
            .flat_map(|n| {
                let base: Vec<u8> = (0..n as u8).map(|i| b'a' + i).collect();
                let mut v = vec![base.clone()];
                for i in 0..n {
                    let mut w = base.clone();
                    w[i] = b'Z';
                    v.push(w);
                }
                v
            })
            .collect();
        for a in &words {
            assert_eq!(short_key(a).is_some(), a.len() <= SHORT_BYTES, "{a:?}");
            for b in &words {
                if let (Some(ka), Some(kb)) = (short_key(a), short_key(b)) {
                    assert_eq!((ka, a.len()) == (kb, b.len()), a == b, "{a:?} {b:?}");
                }
            }
        }
    }

    /// The string index finds each string at its first insertion's slot, short and long
    /// strings of many lengths, across the short table's growth; a model's label listed
    /// twice indexes as its last listing (Spark's `labels.zipWithIndex.toMap`).
    #[test]
    fn string_index_finds_every_string() {
        let strings: Vec<String> = (0..300)
            .map(|i| match i % 4 {
                0 => format!("s{i:02}"),
                1 => "x".repeat(i % 23),
                2 => format!("a-longer-label-{i}-with-a-tail"),
                _ => format!("{i}"),
            })
            .collect();
        let mut distinct: Vec<&str> = Vec::new();
        for s in &strings {
            if !distinct.contains(&s.as_str()) {
                distinct.push(s);
            }
        }
        let mut idx = StrIndex::default();
        let mut seen = 0;
        for s in &strings {
            let want = distinct.iter().position(|d| d == s).unwrap();
            assert_eq!(idx.get_or_insert(s), want, "{s:?}");
            seen = seen.max(want + 1);
            for (j, t) in distinct[..seen].iter().enumerate() {
                assert_eq!(idx.get(t), Some(j), "{t:?} after {seen} strings");
            }
            assert_eq!(idx.get("s99x"), None);
            assert_eq!(idx.get("not-a-label-of-more-than-16-bytes"), None);
        }
        assert_eq!(idx.keys.len(), distinct.len());
        for n in [1, 3, 16, 17, 40] {
            let strings = &distinct;
            let mut labels: Vec<String> = strings[..n].iter().map(|s| s.to_string()).collect();
            labels.push(labels[n / 2].clone());
            let l = LabelIndex::new(&labels);
            assert_eq!(
                l.get(strings[0]),
                if n == 1 { Some(1.0) } else { Some(0.0) }
            );
            assert_eq!(l.get(strings[n / 2]), Some(n as f64), "{n} labels");
            assert_eq!(l.get("missing"), None);
        }
    }

    /// Fit counts many distinct strings (past the short table's first size) exactly: frequencies
    /// descending, ties alphabetical, as a plain count gives them.
    #[test]
    fn fit_counts_many_distinct_strings() {
        let values: Vec<Option<String>> = (0..3000)
            .map(|i| (i % 7 != 0).then(|| format!("v{}", (i * i) % 37)))
            .collect();
        let arr: ArrayRef = Arc::new(StringArray::from(values.clone()));
        let batch = RecordBatch::try_from_iter([("s", arr)]).unwrap();
        let df =
            DataFrame::from_batches(vec![batch.slice(0, 1000), batch.slice(1000, 2000)]).unwrap();
        let m = StringIndexer::new()
            .with_input_col("s")
            .with_output_col("i")
            .with_handle_invalid(HandleInvalid::Keep)
            .fit(&df)
            .unwrap();
        let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
        for v in values.iter().flatten() {
            *counts.entry(v).or_default() += 1;
        }
        let mut want: Vec<(&str, u64)> = counts.into_iter().collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let want: Vec<String> = want.into_iter().map(|(s, _)| s.to_string()).collect();
        assert!(want.len() > 16);
        assert_eq!(m.labels()[0], want);
        let out = m.transform(&df).unwrap();
        let idx = out.column("i").unwrap();
        let mut r = 0;
        for c in &idx.chunks {
            for v in c.as_primitive::<Float64Type>().values() {
                let expect = match &values[r] {
                    Some(s) => want.iter().position(|w| w == s).unwrap() as f64,
                    None => want.len() as f64,
                };
                assert_eq!(*v, expect, "row {r}");
                r += 1;
            }
        }
    }
}
