//! Row scoring: a fitted [`PipelineModel`] compiled once into a plan over one row of typed
//! values, for serving (a single-row `transform`, Spark's or mlpipe's, builds a whole frame
//! for each request; a row scorer builds nothing per row).
//!
//! [`PipelineModel::row_scorer`] walks the stages with the input schema, as `transform`
//! would, and asks each stage for its row form ([`RowStage`]): string lookups become
//! prebuilt hash maps, every vector column gets a fixed place in one reusable buffer,
//! scalers and models run in place. Scoring a row then allocates nothing: the outputs are
//! read from the scorer's buffers through [`Scored`]. A stage without a row form, or a
//! column the pipeline needs that the schema lacks, is an error when the scorer is built,
//! not at the first row.
//!
//! Text pipelines score row by row too: a string field is tokenized into a reusable list
//! of strings ([`StrList`]), HashingTF / CountVectorizerModel / FeatureHasher write sparse
//! vectors into reused index and value buffers, IDF and the models read them sparse; a
//! stage that needs a dense vector gets the sparse one densified once. Input fields may
//! hold lists of strings ([`Value::StrList`]) and sparse vectors ([`Value::Sparse`]); a
//! [`Scored`] row gives them back as [`ColumnValue::StrList`] and [`ColumnValue::Sparse`].
//!
//! The results are those of `transform` on the same rows, bit for bit: each row form does
//! the batch form's arithmetic in the same order, and bad values meet the stage's
//! `handleInvalid` as in batch (`error` → an [`Error`] naming the stage and column, `skip`
//! → [`RowScorer::score`] returns `Ok(None)`, `keep` → the stand-in value).
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::classification::LogisticRegression;
//! use mlpipe::feature::{OneHotEncoder, StringIndexer, VectorAssembler};
//! use mlpipe::prelude::*;
//! use mlpipe::row::{Row, Value};
//!
//! let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
//! let model = Pipeline::new()
//!     .with_estimator(StringIndexer::new().with_input_col("contract").with_output_col("c_idx"))
//!     .with_estimator(OneHotEncoder::new().with_input_cols(["c_idx"]).with_output_cols(["c_vec"]))
//!     .with_transformer(
//!         VectorAssembler::new()
//!             .with_input_cols(["tenure", "monthly_charges", "c_vec"])
//!             .with_output_col("features"),
//!     )
//!     .with_estimator(LogisticRegression::new().with_label_col("churn"))
//!     .fit(&df)?;
//!
//! let mut scorer = model.row_scorer(df.schema())?;
//! let row = Row::new()
//!     .with("tenure", 3.0)
//!     .with("monthly_charges", 80.5)
//!     .with("contract", "month-to-month");
//! let scored = scorer.score_row(&row)?.expect("not skipped");
//! let p = scored.probability().unwrap();
//! assert!((p[0] + p[1] - 1.0).abs() < 1e-12);
//! assert!(scored.prediction() == Some(0.0) || scored.prediction() == Some(1.0));
//!
//! // A missing field is named.
//! let err = scorer.score_row(&Row::new().with("tenure", 3.0)).unwrap_err();
//! assert!(err.to_string().contains("`monthly_charges`"), "{err}");
//! # Ok(()) }
//! ```

mod check;
mod registry;

use std::fmt::Debug;
use std::sync::Arc;

use ahash::AHashMap;
use arrow::datatypes::{DataType, Schema};

use crate::error::{Error, Result};
use crate::frame::vector::Row as VecRow;
use crate::frame::{schema, vector};
use crate::pipeline::{PipelineModel, Transformer};
use crate::predictor::{PredictionModel, PredictorKind};

pub use check::check_against_transform;
pub use registry::row_form;

/// One field value of a row. Strings and vectors are borrowed, so building a row of
/// values allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// A missing (null) value.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer (for integer columns; also accepted by floating-point columns).
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// A dense vector (for vector columns).
    Vector(&'a [f64]),
    /// A sparse vector (for vector columns): `values[k]` at position `indices[k]`, the
    /// indices strictly increasing and below `size`.
    Sparse {
        /// The vector's length.
        size: usize,
        /// Positions of the stored values.
        indices: &'a [i32],
        /// The stored values.
        values: &'a [f64],
    },
    /// A list of strings (for `List<Utf8>` columns, such as a Tokenizer's output).
    StrList(&'a [&'a str]),
}

impl Value<'_> {
    /// What the value is, for error messages.
    fn describe(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Int(i) => format!("the integer {i}"),
            Value::Float(f) => format!("the number {f}"),
            Value::Str(s) => format!("the string {s:?}"),
            Value::Vector(v) => format!("a vector of {} values", v.len()),
            Value::Sparse { size, .. } => format!("a sparse vector of size {size}"),
            Value::StrList(v) => format!("a list of {} strings", v.len()),
        }
    }
}

impl From<f64> for Value<'_> {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<bool> for Value<'_> {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Str(v)
    }
}
impl<'a> From<&'a [f64]> for Value<'a> {
    fn from(v: &'a [f64]) -> Self {
        Value::Vector(v)
    }
}
impl<'a> From<&'a [&'a str]> for Value<'a> {
    fn from(v: &'a [&'a str]) -> Self {
        Value::StrList(v)
    }
}
impl<'a> From<VecRow<'a>> for Value<'a> {
    fn from(v: VecRow<'a>) -> Self {
        match v {
            VecRow::Sparse {
                size,
                indices,
                values,
            } => Value::Sparse {
                size,
                indices,
                values,
            },
            v => Value::Vector(v.as_dense().unwrap_or_default()),
        }
    }
}
impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// A row with named fields (input column name → value), in any order. Fields the
/// pipeline does not read are ignored.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Row<'a> {
    fields: Vec<(&'a str, Value<'a>)>,
}

impl<'a> Row<'a> {
    /// An empty row.
    pub fn new() -> Self {
        Self::default()
    }
    /// With one more field.
    pub fn with(mut self, name: &'a str, value: impl Into<Value<'a>>) -> Self {
        self.push(name, value);
        self
    }
    /// Adds one field.
    pub fn push(&mut self, name: &'a str, value: impl Into<Value<'a>>) {
        self.fields.push((name, value.into()));
    }
    /// The fields, in the order given.
    pub fn fields(&self) -> &[(&'a str, Value<'a>)] {
        &self.fields
    }
}

impl<'a> FromIterator<(&'a str, Value<'a>)> for Row<'a> {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value<'a>)>>(iter: I) -> Self {
        Self {
            fields: iter.into_iter().collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Slots: where a column's value lives while a row is scored.

/// A numeric scalar a row form reads: an input field or a column an earlier stage wrote.
#[derive(Clone, Copy, Debug)]
pub struct NumIn(NumSrc);

#[derive(Clone, Copy, Debug)]
enum NumSrc {
    Input { field: usize, kind: NumKind },
    Slot(usize),
}

/// How an input field's value becomes the f64 the batch transform sees (Arrow's cast).
#[derive(Clone, Copy, Debug, PartialEq)]
enum NumKind {
    F64,
    F32,
    Int,
    Bool,
}

/// A string a row form reads (always an input field; a numeric input is read as its
/// value, for the stages that index numbers by their string form).
#[derive(Clone, Copy, Debug)]
pub enum StrIn {
    /// A string input field.
    Str(usize),
    /// A numeric column.
    Num(NumIn),
}

/// A numeric scalar column a row form writes (nullable).
#[derive(Clone, Copy, Debug)]
pub struct NumOut(usize);

impl NumOut {
    /// This output read back as an input of a later step.
    pub fn as_input(self) -> NumIn {
        NumIn(NumSrc::Slot(self.0))
    }
}

/// A dense vector column: its place in the scorer's one feature buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VecSlot {
    off: usize,
    len: usize,
}

impl VecSlot {
    /// The vector's length.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether the vector has no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[derive(Clone, Debug)]
enum Col {
    Input { field: usize },
    Num(usize),
    Vec(VecSlot),
    Sparse(SparseSlot),
    List(usize),
    Label { num: usize, labels: Arc<[String]> },
}

/// A sparse vector column an earlier stage wrote (HashingTF, CountVectorizerModel, ...):
/// its own index and value buffers, reused from row to row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SparseSlot {
    i: usize,
    size: usize,
}

impl SparseSlot {
    /// The vector's length.
    pub fn size(&self) -> usize {
        self.size
    }
}

/// A vector column a row form reads as it is stored: dense, or sparse (for the stages
/// that work on sparse vectors without densifying them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VecIn {
    /// A dense vector.
    Dense(VecSlot),
    /// A sparse vector.
    Sparse(SparseSlot),
}

impl VecIn {
    /// The vector's length.
    pub fn len(&self) -> usize {
        match self {
            VecIn::Dense(s) => s.len,
            VecIn::Sparse(s) => s.size,
        }
    }
    /// Whether the vector has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A list of strings a row form reads: an input field or a column an earlier stage wrote.
#[derive(Clone, Copy, Debug)]
pub struct ListIn(ListSrc);

#[derive(Clone, Copy, Debug)]
enum ListSrc {
    Input(usize),
    Slot(usize),
}

/// A list-of-strings column a row form writes.
#[derive(Clone, Copy, Debug)]
pub struct ListOut(usize);

impl ListOut {
    /// This output read back as an input of a later step.
    pub fn as_input(self) -> ListIn {
        ListIn(ListSrc::Slot(self.0))
    }
}

/// A list of strings held in one reusable string (the items' bytes back to back) and
/// their end offsets: writing a row's list allocates nothing once the buffers have grown.
///
/// # Examples
/// ```
/// use mlpipe::row::StrList;
/// let mut l = StrList::default();
/// l.push("spark");
/// l.push_joined(["big", "data"], ' ');
/// assert_eq!(l.iter().collect::<Vec<_>>(), ["spark", "big data"]);
/// l.clear(); // keeps the buffers
/// assert!(l.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StrList {
    text: String,
    ends: Vec<usize>,
}

impl StrList {
    /// Empties the list, keeping its buffers.
    pub fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
    /// Appends one item.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len());
    }
    /// Appends one item made of `parts` joined by `sep` (an n-gram).
    pub fn push_joined<'s>(&mut self, parts: impl IntoIterator<Item = &'s str>, sep: char) {
        for (k, p) in parts.into_iter().enumerate() {
            if k > 0 {
                self.text.push(sep);
            }
            self.text.push_str(p);
        }
        self.ends.push(self.text.len());
    }
    /// The number of items.
    pub fn len(&self) -> usize {
        self.ends.len()
    }
    /// Whether the list has no items.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
    /// Item `i`.
    pub fn get(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.text[start..self.ends[i]]
    }
    /// The items, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// A list of strings being read: an input field's or a column's.
#[derive(Clone, Copy, Debug)]
pub enum ListView<'a> {
    /// An input field's items.
    Input(&'a [&'a str]),
    /// A column an earlier stage wrote.
    Slot(&'a StrList),
}

impl<'a> ListView<'a> {
    /// The number of items.
    pub fn len(&self) -> usize {
        match self {
            ListView::Input(v) => v.len(),
            ListView::Slot(l) => l.len(),
        }
    }
    /// Whether the list has no items.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Item `i`.
    pub fn get(&self, i: usize) -> &'a str {
        match self {
            ListView::Input(v) => v[i],
            ListView::Slot(l) => l.get(i),
        }
    }
    /// The items, in order.
    pub fn iter(self) -> impl ExactSizeIterator<Item = &'a str> {
        (0..self.len()).map(move |i| self.get(i))
    }
}

/// A sparse vector's index and value buffers (see [`RowCtx::take_sparse`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SparseBuf {
    /// Positions of the stored values, strictly increasing.
    pub indices: Vec<i32>,
    /// The stored values.
    pub values: Vec<f64>,
    /// Scratch indices for the stage writing the vector (terms before counting); not
    /// part of the vector.
    pub scratch: Vec<i32>,
}

impl SparseBuf {
    /// Empties the vector, keeping its buffers' capacity.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.values.clear();
    }
}

/// Densifies a sparse column for a stage that reads it as a dense vector.
#[derive(Debug)]
struct Densify {
    src: SparseSlot,
    dst: VecSlot,
}

impl RowOp for Densify {
    fn run(&self, row: &mut RowCtx<'_, '_>) -> Result<Flow> {
        let sp = &row.sparse[self.src.i];
        let out = &mut row.vecs[self.dst.off..self.dst.off + self.dst.len];
        out.fill(0.0);
        for (i, v) in sp.indices.iter().zip(&sp.values) {
            out[*i as usize] = *v;
        }
        Ok(Flow::Next)
    }
}

/// A vector input field whose checks a stage took over ([`PlanBuilder::hint_vector`]).
#[derive(Clone, Copy, Debug)]
pub struct HintedVec(usize);

/// What a row held in a [`HintedVec`] field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum VecStatus {
    /// A vector of the field's size.
    #[default]
    Ok,
    /// Null.
    Null,
    /// A vector of another size (the size given).
    WrongSize(usize),
}

/// What a row form returns per row: go on, or drop the row (`handleInvalid = skip`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// The row goes on to the next stage.
    Next,
    /// The stage drops the row, as its batch form would filter it out.
    Drop,
}

/// One stage's compiled per-row work. Built by [`RowStage::compile_row`].
pub trait RowOp: Debug + Send + Sync {
    /// Runs on one row. Allocates only to build an error.
    ///
    /// # Errors
    /// A value the stage rejects (under `handleInvalid = error`, or always).
    fn run(&self, row: &mut RowCtx<'_, '_>) -> Result<Flow>;
}

/// A stage that can score one row at a time. Implemented by every stage of the crate (in
/// the stage's own file) and listed in [`row_form`].
pub trait RowStage: Transformer {
    /// Compiles the stage against the columns so far: reads its inputs' slots from
    /// `plan`, adds its outputs, and returns the per-row op (`None` when the stage does
    /// nothing on this schema). The plan checks afterwards that the columns added are
    /// exactly those of the stage's `transform_schema`.
    ///
    /// # Errors
    /// As the stage's `transform_schema`, and when an input is of a kind the row form
    /// cannot read.
    fn compile_row(&self, plan: &mut PlanBuilder) -> Result<Option<Box<dyn RowOp>>>;
}

/// The column layout a [`RowStage`] compiles against.
#[derive(Debug)]
pub struct PlanBuilder {
    stage: &'static str,
    schema: Schema,
    cols: AHashMap<String, Col>,
    input_fields: usize,
    used: Vec<bool>,
    input_vecs: Vec<(usize, VecSlot)>,
    hinted: Vec<usize>,
    nums: usize,
    vec_len: usize,
    lists: usize,
    sparse: usize,
    /// Sparse columns densified so far, for the stages that read them dense.
    densified: Vec<(usize, VecSlot)>,
    /// Ops the stage being compiled needs run before its own (densifying its inputs).
    pre_ops: Vec<Box<dyn RowOp>>,
    outputs: ModelOutputs,
    label: Option<String>,
}

/// The model outputs a scorer reports as [`Scored::prediction`] and friends.
#[derive(Clone, Copy, Debug, Default)]
pub struct ModelOutputs {
    /// The prediction column.
    pub prediction: Option<NumOut>,
    /// The raw prediction column.
    pub raw_prediction: Option<VecSlot>,
    /// The probability column.
    pub probability: Option<VecSlot>,
}

impl PlanBuilder {
    fn new(input: &Schema) -> Self {
        let mut cols = AHashMap::new();
        for (i, f) in input.fields().iter().enumerate() {
            cols.insert(f.name().clone(), Col::Input { field: i });
        }
        Self {
            stage: "RowScorer",
            schema: input.clone(),
            cols,
            input_fields: input.fields().len(),
            used: vec![false; input.fields().len()],
            input_vecs: Vec::new(),
            hinted: Vec::new(),
            nums: 0,
            vec_len: 0,
            lists: 0,
            sparse: 0,
            densified: Vec::new(),
            pre_ops: Vec::new(),
            outputs: ModelOutputs::default(),
            label: None,
        }
    }

    /// The schema so far (the input of the stage being compiled).
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    fn col(&self, name: &str) -> Result<&Col> {
        self.cols.get(name).ok_or_else(|| Error::ColumnNotFound {
            stage: self.stage,
            column: name.to_string(),
            available: schema::column_names(&self.schema),
        })
    }

    fn data_type(&self, name: &str) -> Result<&DataType> {
        Ok(schema::require_column(&self.schema, self.stage, name)?
            .1
            .data_type())
    }

    fn type_error(&self, name: &str, expected: &str) -> Error {
        Error::ColumnType {
            stage: self.stage,
            column: name.to_string(),
            expected: expected.to_string(),
            found: self.data_type(name).cloned().unwrap_or(DataType::Null),
        }
    }

    /// Reads a numeric scalar column (an integer, floating-point or boolean input field,
    /// or a column an earlier stage wrote).
    ///
    /// # Errors
    /// A missing column, or one that is not a numeric scalar.
    pub fn num_input(&mut self, name: &str) -> Result<NumIn> {
        match self.col(name)?.clone() {
            Col::Num(i) => Ok(NumIn(NumSrc::Slot(i))),
            Col::Input { field } => {
                let kind = match self.data_type(name)? {
                    DataType::Float64 => NumKind::F64,
                    DataType::Float32 | DataType::Float16 => NumKind::F32,
                    DataType::Boolean => NumKind::Bool,
                    dt if dt.is_integer() => NumKind::Int,
                    _ => return Err(self.type_error(name, "a numeric column")),
                };
                self.used[field] = true;
                Ok(NumIn(NumSrc::Input { field, kind }))
            }
            _ => Err(self.type_error(name, "a numeric column")),
        }
    }

    /// Reads a string input field, or a numeric column (as its value).
    ///
    /// # Errors
    /// A missing column, or one that is neither.
    pub fn str_input(&mut self, name: &str) -> Result<StrIn> {
        match self.col(name)?.clone() {
            Col::Input { field }
                if matches!(
                    self.data_type(name)?,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) =>
            {
                self.used[field] = true;
                Ok(StrIn::Str(field))
            }
            _ => Ok(StrIn::Num(self.num_input(name)?)),
        }
    }

    /// The data type of the numeric input or column `name` reads (for stages that
    /// depend on it, such as indexing numbers by their string form).
    pub fn input_type(&self, name: &str) -> Option<DataType> {
        self.data_type(name).ok().cloned()
    }

    /// Reads a vector column as a dense vector (an input field of Spark's vector type, or
    /// a column an earlier stage wrote; a sparse column is densified for the stage, once).
    ///
    /// # Errors
    /// A missing column, or one that is not a vector.
    pub fn vec_input(&mut self, name: &str) -> Result<VecSlot> {
        match self.col(name)?.clone() {
            Col::Vec(s) => Ok(s),
            Col::Sparse(sp) => {
                if let Some((_, d)) = self.densified.iter().find(|(i, _)| *i == sp.i) {
                    return Ok(*d);
                }
                let dst = self.scratch_vec(sp.size);
                self.densified.push((sp.i, dst));
                self.pre_ops.push(Box::new(Densify { src: sp, dst }));
                Ok(dst)
            }
            Col::Input { field } => {
                let (_, _, n) = schema::require_vector(&self.schema, self.stage, name)?;
                if let Some((_, s)) = self.input_vecs.iter().find(|(f, _)| *f == field) {
                    return Ok(*s);
                }
                let s = self.scratch_vec(n);
                self.used[field] = true;
                self.input_vecs.push((field, s));
                Ok(s)
            }
            _ => Err(self.type_error(name, "a vector column")),
        }
    }

    /// Defers the null and size checks of vector input field `name` to the calling stage
    /// (VectorSizeHint, whose `handleInvalid` decides): the stage reads what the row held
    /// through [`RowCtx::vector_status`]. `None` when `name` is a column an earlier stage
    /// wrote (never null, always of its size).
    ///
    /// # Errors
    /// A missing column, or one that is not a vector.
    pub fn hint_vector(&mut self, name: &str) -> Result<Option<HintedVec>> {
        self.vec_input(name)?;
        Ok(match self.col(name)? {
            Col::Input { field } => {
                let f = *field;
                if !self.hinted.contains(&f) {
                    self.hinted.push(f);
                }
                Some(HintedVec(f))
            }
            _ => None,
        })
    }

    /// Reads a vector column as it is stored (sparse columns stay sparse), for stages
    /// that handle both layouts through [`RowCtx::vec_row`].
    ///
    /// # Errors
    /// A missing column, or one that is not a vector.
    pub fn vector_input(&mut self, name: &str) -> Result<VecIn> {
        match self.col(name)?.clone() {
            Col::Sparse(s) => Ok(VecIn::Sparse(s)),
            _ => self.vec_input(name).map(VecIn::Dense),
        }
    }

    /// Reads a list-of-strings column (an input field of type `List<Utf8>`, or a column
    /// an earlier text stage wrote).
    ///
    /// # Errors
    /// A missing column, or one that is not a list of strings.
    pub fn list_input(&mut self, name: &str) -> Result<ListIn> {
        match self.col(name)?.clone() {
            Col::List(i) => Ok(ListIn(ListSrc::Slot(i))),
            Col::Input { field } if is_string_list(self.data_type(name)?) => {
                self.used[field] = true;
                Ok(ListIn(ListSrc::Input(field)))
            }
            _ => Err(self.type_error(name, "a list of strings (List<Utf8>)")),
        }
    }

    /// Adds a list-of-strings output column.
    pub fn add_list(&mut self, name: &str) -> ListOut {
        let i = self.lists;
        self.lists += 1;
        self.cols.insert(name.to_string(), Col::List(i));
        ListOut(i)
    }

    /// Adds a sparse vector output column of size `size`.
    pub fn add_sparse(&mut self, name: &str, size: usize) -> SparseSlot {
        let s = SparseSlot {
            i: self.sparse,
            size,
        };
        self.sparse += 1;
        self.cols.insert(name.to_string(), Col::Sparse(s));
        s
    }

    /// A vector of `len` values that is no column (for outputs a stage computes but does
    /// not keep).
    pub fn scratch_vec(&mut self, len: usize) -> VecSlot {
        let s = VecSlot {
            off: self.vec_len,
            len,
        };
        self.vec_len += len;
        s
    }

    /// Adds a numeric output column.
    pub fn add_num(&mut self, name: &str) -> NumOut {
        let i = self.nums;
        self.nums += 1;
        self.cols.insert(name.to_string(), Col::Num(i));
        NumOut(i)
    }

    /// Adds a vector output column of `len` values.
    pub fn add_vec(&mut self, name: &str, len: usize) -> VecSlot {
        let s = self.scratch_vec(len);
        self.cols.insert(name.to_string(), Col::Vec(s));
        s
    }

    /// Adds a string output column: the label `labels[i]` for the index `i` in a numeric
    /// slot (IndexToString); it becomes the scorer's [`Scored::label`].
    pub fn add_label(&mut self, name: &str, labels: Arc<[String]>) -> NumOut {
        let i = self.nums;
        self.nums += 1;
        self.cols
            .insert(name.to_string(), Col::Label { num: i, labels });
        self.label = Some(name.to_string());
        NumOut(i)
    }

    /// Replaces the schema so far (a stage that compiles inner stages restores its
    /// input schema after each).
    pub fn set_schema(&mut self, schema: Schema) {
        self.schema = schema;
    }

    /// Forgets a column name (a stage's temporary column), keeping its slot for the ops
    /// that already hold it.
    pub fn forget(&mut self, name: &str) {
        self.cols.remove(name);
    }

    /// Records the model outputs (the last model in the pipeline wins).
    pub fn set_model_outputs(&mut self, out: ModelOutputs) {
        self.outputs = out;
    }
}

// ---------------------------------------------------------------------------------------
// Per-row state.

/// The buffers one row is scored in, reused from row to row.
#[derive(Clone, Debug)]
struct Buffers {
    nums: Vec<f64>,
    nulls: Vec<bool>,
    vecs: Vec<f64>,
    lists: Vec<StrList>,
    sparse: Vec<SparseBuf>,
    text: String,
    /// Per input field: what a hinted vector field held.
    vstatus: Vec<VecStatus>,
    /// Named rows: the position in the row of each input field (usize::MAX = absent).
    order: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Input<'a, 'r> {
    Ordered(&'a [Value<'r>]),
    Named(&'a [(&'r str, Value<'r>)], &'a [usize]),
}

/// One row being scored, as a [`RowOp`] sees it.
pub struct RowCtx<'a, 'r> {
    input: Input<'a, 'r>,
    nums: &'a mut [f64],
    nulls: &'a mut [bool],
    vecs: &'a mut [f64],
    lists: &'a mut [StrList],
    sparse: &'a mut [SparseBuf],
    text: &'a mut String,
    vstatus: &'a mut [VecStatus],
    row: usize,
}

impl<'r> RowCtx<'_, 'r> {
    fn input(&self, field: usize) -> Value<'r> {
        match self.input {
            Input::Ordered(v) => v[field],
            Input::Named(f, order) => match order[field] {
                usize::MAX => Value::Null,
                i => f[i].1,
            },
        }
    }

    /// The value of a numeric column (`None` for null), converted as Arrow's cast to
    /// Float64 converts it.
    #[inline]
    pub fn num(&self, x: NumIn) -> Option<f64> {
        match x.0 {
            NumSrc::Slot(i) => (!self.nulls[i]).then(|| self.nums[i]),
            NumSrc::Input { field, kind } => match (self.input(field), kind) {
                (Value::Float(f), NumKind::F32) => Some(f as f32 as f64),
                (Value::Float(f), _) => Some(f),
                (Value::Int(i), _) => Some(i as f64),
                (Value::Bool(b), _) => Some(if b { 1.0 } else { 0.0 }),
                _ => None,
            },
        }
    }

    /// The value of a string input (`None` for null).
    #[inline]
    pub fn str(&self, field: usize) -> Option<&'r str> {
        match self.input(field) {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of an input field, as given (for stages that need its exact form, such
    /// as hashing a number by its string).
    #[inline]
    pub fn input_value(&self, field: usize) -> Value<'r> {
        self.input(field)
    }

    /// A list-of-strings column (`None` for null).
    #[inline]
    pub fn list(&self, l: ListIn) -> Option<ListView<'_>> {
        match l.0 {
            ListSrc::Slot(i) => Some(ListView::Slot(&self.lists[i])),
            ListSrc::Input(field) => match self.input(field) {
                Value::StrList(v) => Some(ListView::Input(v)),
                _ => None,
            },
        }
    }

    /// Takes a list output's buffers out to write them (give them back with
    /// [`put_list`](Self::put_list); taking allocates nothing).
    #[inline]
    pub fn take_list(&mut self, o: ListOut) -> StrList {
        std::mem::take(&mut self.lists[o.0])
    }

    /// Gives a list output's buffers back.
    #[inline]
    pub fn put_list(&mut self, o: ListOut, l: StrList) {
        self.lists[o.0] = l;
    }

    /// Takes a sparse output's buffers out to write them (give them back with
    /// [`put_sparse`](Self::put_sparse)).
    #[inline]
    pub fn take_sparse(&mut self, o: SparseSlot) -> SparseBuf {
        std::mem::take(&mut self.sparse[o.i])
    }

    /// What the row held in a vector field whose checks the stage took over.
    #[inline]
    pub fn vector_status(&self, h: HintedVec) -> VecStatus {
        self.vstatus[h.0]
    }

    /// Takes the scorer's scratch string (for a stage's temporary text, such as a
    /// lowercased copy); give it back with [`put_text`](Self::put_text).
    #[inline]
    pub fn take_text(&mut self) -> String {
        std::mem::take(self.text)
    }

    /// Gives the scratch string back.
    #[inline]
    pub fn put_text(&mut self, s: String) {
        *self.text = s;
    }

    /// Gives a sparse output's buffers back.
    #[inline]
    pub fn put_sparse(&mut self, o: SparseSlot, b: SparseBuf) {
        self.sparse[o.i] = b;
    }

    /// A vector column as it is stored, dense or sparse.
    #[inline]
    pub fn vec_row(&self, x: VecIn) -> VecRow<'_> {
        match x {
            VecIn::Dense(s) => VecRow::Dense(self.vec(s)),
            VecIn::Sparse(s) => {
                let b = &self.sparse[s.i];
                VecRow::Sparse {
                    size: s.size,
                    indices: &b.indices,
                    values: &b.values,
                }
            }
        }
    }

    /// A vector column to read (dense or sparse) and two distinct dense vectors to write.
    pub fn vec_row_pair(
        &mut self,
        x: VecIn,
        a: VecSlot,
        b: VecSlot,
    ) -> (VecRow<'_>, &mut [f64], &mut [f64]) {
        match x {
            VecIn::Dense(s) => {
                let (x, a, b) = self.vec_triple(s, a, b);
                (VecRow::Dense(x), a, b)
            }
            VecIn::Sparse(s) => {
                let sp = &self.sparse[s.i];
                let (lo, hi) = if a.off < b.off { (a, b) } else { (b, a) };
                let (x0, x1) = self.vecs.split_at_mut(hi.off);
                let lo_s = &mut x0[lo.off..lo.off + lo.len];
                let hi_s = &mut x1[..hi.len];
                let (ra, rb) = if a.off < b.off {
                    (lo_s, hi_s)
                } else {
                    (hi_s, lo_s)
                };
                let row = VecRow::Sparse {
                    size: s.size,
                    indices: &sp.indices,
                    values: &sp.values,
                };
                (row, ra, rb)
            }
        }
    }

    /// Writes a numeric output.
    #[inline]
    pub fn set_num(&mut self, o: NumOut, v: Option<f64>) {
        self.nulls[o.0] = v.is_none();
        self.nums[o.0] = v.unwrap_or(0.0);
    }

    /// A vector column's values.
    #[inline]
    pub fn vec(&self, s: VecSlot) -> &[f64] {
        &self.vecs[s.off..s.off + s.len]
    }

    /// A vector column's values, to write.
    #[inline]
    pub fn vec_mut(&mut self, s: VecSlot) -> &mut [f64] {
        &mut self.vecs[s.off..s.off + s.len]
    }

    /// Two distinct vector columns: `src` to read and `dst` to write.
    #[inline]
    pub fn vec_pair(&mut self, src: VecSlot, dst: VecSlot) -> (&[f64], &mut [f64]) {
        if src.off < dst.off {
            let (a, b) = self.vecs.split_at_mut(dst.off);
            (&a[src.off..src.off + src.len], &mut b[..dst.len])
        } else {
            let (a, b) = self.vecs.split_at_mut(src.off);
            (&b[..src.len], &mut a[dst.off..dst.off + dst.len])
        }
    }

    /// Three vector columns: `src` to read, `a` and `b` to write (all distinct).
    #[inline]
    pub fn vec_triple(
        &mut self,
        src: VecSlot,
        a: VecSlot,
        b: VecSlot,
    ) -> (&[f64], &mut [f64], &mut [f64]) {
        // Split the buffer at the three offsets, in order.
        let mut parts: [(usize, VecSlot); 3] = [(0, src), (1, a), (2, b)];
        parts.sort_by_key(|p| p.1.off);
        let (x0, rest) = self.vecs.split_at_mut(parts[1].1.off);
        let (x1, x2) = rest.split_at_mut(parts[2].1.off - parts[1].1.off);
        let mut refs: [Option<&mut [f64]>; 3] = [None, None, None];
        refs[parts[0].0] = Some(&mut x0[parts[0].1.off..parts[0].1.off + parts[0].1.len]);
        refs[parts[1].0] = Some(&mut x1[..parts[1].1.len]);
        refs[parts[2].0] = Some(&mut x2[..parts[2].1.len]);
        let [s, a, b] = refs;
        // Every index 0..3 was assigned above.
        (
            s.unwrap_or_default(),
            a.unwrap_or_default(),
            b.unwrap_or_default(),
        )
    }

    /// The row's index (in [`RowScorer::score_batch`]; 0 for a single row), for errors.
    pub fn row_index(&self) -> usize {
        self.row
    }

    /// An [`Error::InvalidValue`] for this row.
    pub fn invalid(
        &self,
        stage: &'static str,
        column: &str,
        what: impl Into<String>,
        hint: impl Into<String>,
    ) -> Error {
        Error::InvalidValue {
            stage,
            column: column.to_string(),
            partition: 0,
            row: self.row,
            what: what.into(),
            hint: hint.into(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The scorer.

#[derive(Debug)]
struct Plan {
    input: Schema,
    /// Input field name → index.
    by_name: AHashMap<String, usize>,
    /// The input fields the plan reads.
    used: Vec<usize>,
    input_vecs: Vec<(usize, VecSlot)>,
    hinted: Vec<usize>,
    ops: Vec<Box<dyn RowOp>>,
    cols: AHashMap<String, Col>,
    output_schema: Schema,
    outputs: ModelOutputs,
    label: Option<String>,
    stages: Vec<&'static str>,
}

/// A fitted pipeline compiled for scoring one row at a time. Build it with
/// [`PipelineModel::row_scorer`]; see the [module docs](self).
///
/// Cloning is cheap (the plan is shared) and gives a scorer with its own buffers, for
/// another thread.
#[derive(Clone, Debug)]
pub struct RowScorer {
    plan: Arc<Plan>,
    buf: Buffers,
    kept: bool,
}

/// A scored row, read from the scorer's buffers (valid until the next row is scored).
#[derive(Clone, Copy, Debug)]
pub struct Scored<'a> {
    plan: &'a Plan,
    buf: &'a Buffers,
}

/// One column's value in a [`Scored`] row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ColumnValue<'a> {
    /// A null.
    Null,
    /// A number.
    Num(f64),
    /// A dense vector.
    Vector(&'a [f64]),
    /// A sparse vector.
    Sparse {
        /// The vector's length.
        size: usize,
        /// Positions of the stored values, strictly increasing.
        indices: &'a [i32],
        /// The stored values.
        values: &'a [f64],
    },
    /// A string.
    Str(&'a str),
    /// A list of strings.
    StrList(&'a StrList),
}

/// A scored row's main outputs, owned (from [`RowScorer::score_batch`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredRow {
    /// The prediction.
    pub prediction: Option<f64>,
    /// The class probabilities (probabilistic classifiers).
    pub probability: Option<Vec<f64>>,
    /// The raw scores (classifiers).
    pub raw_prediction: Option<Vec<f64>>,
    /// The predicted label (an IndexToString stage's output).
    pub label: Option<String>,
}

impl<'a> Scored<'a> {
    fn num(&self, o: NumOut) -> Option<f64> {
        (!self.buf.nulls[o.0]).then(|| self.buf.nums[o.0])
    }
    fn vec(&self, s: VecSlot) -> &'a [f64] {
        &self.buf.vecs[s.off..s.off + s.len]
    }
    /// The model's prediction.
    pub fn prediction(&self) -> Option<f64> {
        self.plan.outputs.prediction.and_then(|o| self.num(o))
    }
    /// The model's class probabilities.
    pub fn probability(&self) -> Option<&'a [f64]> {
        self.plan.outputs.probability.map(|s| self.vec(s))
    }
    /// The model's raw scores.
    pub fn raw_prediction(&self) -> Option<&'a [f64]> {
        self.plan.outputs.raw_prediction.map(|s| self.vec(s))
    }
    /// The predicted label, when the pipeline ends in IndexToString.
    pub fn label(&self) -> Option<&'a str> {
        match self.column(self.plan.label.as_deref()?) {
            Some(ColumnValue::Str(s)) => Some(s),
            _ => None,
        }
    }
    /// Any column the pipeline computes (intermediate columns included), by name; input
    /// fields are not echoed (`None`).
    pub fn column(&self, name: &str) -> Option<ColumnValue<'a>> {
        Some(match self.plan.cols.get(name)? {
            Col::Input { .. } => return None,
            Col::Num(i) => match self.num(NumOut(*i)) {
                Some(v) => ColumnValue::Num(v),
                None => ColumnValue::Null,
            },
            Col::Vec(s) => ColumnValue::Vector(self.vec(*s)),
            Col::Sparse(s) => {
                let b = &self.buf.sparse[s.i];
                ColumnValue::Sparse {
                    size: s.size,
                    indices: &b.indices,
                    values: &b.values,
                }
            }
            Col::List(i) => ColumnValue::StrList(&self.buf.lists[*i]),
            Col::Label { num, labels } => match self.num(NumOut(*num)) {
                Some(v) => ColumnValue::Str(&labels[v as usize]),
                None => ColumnValue::Null,
            },
        })
    }
    /// The main outputs, owned.
    pub fn to_owned_row(&self) -> ScoredRow {
        ScoredRow {
            prediction: self.prediction(),
            probability: self.probability().map(<[f64]>::to_vec),
            raw_prediction: self.raw_prediction().map(<[f64]>::to_vec),
            label: self.label().map(str::to_string),
        }
    }
}

impl PipelineModel {
    /// Compiles the pipeline for scoring rows of `input`'s fields one at a time (see
    /// [`row`](crate::row)).
    ///
    /// # Errors
    /// A stage without a row form (named), and whatever `transform_schema` would report
    /// on `input` (a missing column, a wrong type).
    pub fn row_scorer(&self, input: &Schema) -> Result<RowScorer> {
        let mut b = PlanBuilder::new(input);
        let mut ops = Vec::new();
        let mut stages = Vec::new();
        compile_stages(self, &mut b, &mut ops, &mut stages)?;
        let used: Vec<usize> = (0..b.input_fields).filter(|i| b.used[*i]).collect();
        let by_name = input
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name().clone(), i))
            .collect();
        let buf = Buffers {
            nums: vec![0.0; b.nums],
            nulls: vec![false; b.nums],
            vecs: vec![0.0; b.vec_len],
            lists: vec![StrList::default(); b.lists],
            sparse: vec![SparseBuf::default(); b.sparse],
            text: String::new(),
            vstatus: vec![VecStatus::Ok; b.input_fields],
            order: vec![usize::MAX; b.input_fields],
        };
        let plan = Plan {
            input: input.clone(),
            by_name,
            used,
            input_vecs: b.input_vecs,
            hinted: b.hinted,
            ops,
            cols: b.cols,
            output_schema: b.schema,
            outputs: b.outputs,
            label: b.label,
            stages,
        };
        Ok(RowScorer {
            plan: Arc::new(plan),
            buf,
            kept: false,
        })
    }
}

/// Compiles one fitted stage into `plan` through its row form, checking its columns
/// against its `transform_schema` (for stages made of other stages, such as OneVsRest).
///
/// # Errors
/// A stage without a row form, or what its `transform_schema` or row form reports.
pub fn compile_stage(
    stage: &dyn Transformer,
    plan: &mut PlanBuilder,
) -> Result<Option<Box<dyn RowOp>>> {
    let Some(rs) = row_form(stage) else {
        return Err(Error::Pipeline(format!(
            "{} (uid {}) has no row form, so this pipeline cannot be scored row by row; score it with transform",
            stage.kind(),
            stage.uid()
        )));
    };
    let next = stage.transform_schema(&plan.schema)?;
    let (outer, outer_schema) = (plan.stage, plan.schema.clone());
    plan.stage = stage.kind();
    let op = rs.compile_row(plan)?;
    // The row form must add exactly the columns transform adds.
    for f in next.fields() {
        if outer_schema.field_with_name(f.name()).is_err() && !plan.cols.contains_key(f.name()) {
            return Err(Error::Internal(format!(
                "{}: the row form does not produce column `{}`",
                stage.kind(),
                f.name()
            )));
        }
    }
    plan.schema = next;
    plan.stage = outer;
    Ok(op)
}

fn compile_stages(
    model: &PipelineModel,
    b: &mut PlanBuilder,
    ops: &mut Vec<Box<dyn RowOp>>,
    names: &mut Vec<&'static str>,
) -> Result<()> {
    for (i, stage) in model.stages().iter().enumerate() {
        if let Some(inner) = stage.downcast_ref::<PipelineModel>() {
            compile_stages(inner, b, ops, names)?;
            continue;
        }
        let op = compile_stage(stage.as_ref(), b).map_err(|e| match e {
            Error::Pipeline(m) => Error::Pipeline(format!("stage {i}: {m}")),
            e => e,
        })?;
        ops.append(&mut b.pre_ops);
        ops.extend(op);
        names.push(stage.kind());
    }
    Ok(())
}

/// Compiles the stages of `model` into one op (for a stage that wraps a fitted pipeline,
/// such as CrossValidatorModel's best model).
pub(crate) fn compile_nested(
    model: &PipelineModel,
    plan: &mut PlanBuilder,
) -> Result<Option<Box<dyn RowOp>>> {
    let (mut ops, mut names) = (Vec::new(), Vec::new());
    let outer = plan.stage;
    compile_stages(model, plan, &mut ops, &mut names)?;
    plan.stage = outer;
    Ok(Some(Box::new(Seq(ops))))
}

/// Ops run in order (a nested pipeline's).
#[derive(Debug)]
struct Seq(Vec<Box<dyn RowOp>>);

impl RowOp for Seq {
    fn run(&self, row: &mut RowCtx<'_, '_>) -> Result<Flow> {
        for op in &self.0 {
            if op.run(row)? == Flow::Drop {
                return Ok(Flow::Drop);
            }
        }
        Ok(Flow::Next)
    }
}

impl RowScorer {
    /// The input schema the scorer was built for.
    pub fn input_schema(&self) -> &Schema {
        &self.plan.input
    }
    /// The names of the input fields the pipeline reads (a row must give these).
    pub fn required_fields(&self) -> impl Iterator<Item = &str> + '_ {
        self.plan
            .used
            .iter()
            .map(|&i| self.plan.input.field(i).name().as_str())
    }
    /// The schema `transform` would output.
    pub fn output_schema(&self) -> &Schema {
        &self.plan.output_schema
    }
    /// The stages' Spark class names, in order (nested pipelines flattened).
    pub fn stage_kinds(&self) -> &[&'static str] {
        &self.plan.stages
    }

    /// Scores one row given as values in the input schema's order (one per field).
    /// `Ok(None)` when a stage drops the row (`handleInvalid = skip`).
    ///
    /// # Errors
    /// A wrong number of values, a value of the wrong type (naming the field), and any
    /// value a stage rejects (as `transform` would).
    pub fn score(&mut self, values: &[Value<'_>]) -> Result<Option<Scored<'_>>> {
        if values.len() != self.plan.input.fields().len() {
            return Err(Error::Usage(format!(
                "RowScorer: {} values given for an input schema of {} fields ({:?}); give one per field, in order, or use score_row",
                values.len(),
                self.plan.input.fields().len(),
                schema::column_names(&self.plan.input)
            )));
        }
        self.run(Input::Ordered(values), 0)
    }

    /// Scores one row with named fields. `Ok(None)` when a stage drops the row.
    ///
    /// # Errors
    /// A field the pipeline reads that the row lacks or gives with the wrong type (named),
    /// and any value a stage rejects.
    pub fn score_row(&mut self, row: &Row<'_>) -> Result<Option<Scored<'_>>> {
        self.score_row_at(row, 0)
    }

    fn score_row_at(&mut self, row: &Row<'_>, index: usize) -> Result<Option<Scored<'_>>> {
        for &i in &self.plan.used {
            self.buf.order[i] = usize::MAX;
        }
        for (pos, (name, _)) in row.fields.iter().enumerate() {
            if let Some(&i) = self.plan.by_name.get(*name) {
                self.buf.order[i] = pos;
            }
        }
        for &i in &self.plan.used {
            if self.buf.order[i] == usize::MAX {
                return Err(Error::RowField {
                    field: self.plan.input.field(i).name().clone(),
                    problem: "missing".into(),
                    expected: expected(self.plan.input.field(i)),
                });
            }
        }
        let order = std::mem::take(&mut self.buf.order);
        let r = self.run_checked(Input::Named(&row.fields, &order), index);
        self.buf.order = order;
        r?;
        Ok(self.finish())
    }

    /// Scores a few rows; one entry per row (`None` for a dropped row).
    ///
    /// # Errors
    /// As [`score_row`](Self::score_row), naming the row's index.
    pub fn score_batch(&mut self, rows: &[Row<'_>]) -> Result<Vec<Option<ScoredRow>>> {
        let mut out = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            out.push(self.score_row_at(r, i)?.map(|s| s.to_owned_row()));
        }
        Ok(out)
    }

    fn run(&mut self, input: Input<'_, '_>, index: usize) -> Result<Option<Scored<'_>>> {
        self.run_checked(input, index)?;
        Ok(self.finish())
    }

    /// Runs the ops on one row; the buffers then hold its columns, and `kept` says
    /// whether every stage kept it.
    fn run_checked(&mut self, input: Input<'_, '_>, index: usize) -> Result<()> {
        let plan = &*self.plan;
        let mut ctx = RowCtx {
            input,
            nums: &mut self.buf.nums,
            nulls: &mut self.buf.nulls,
            vecs: &mut self.buf.vecs,
            lists: &mut self.buf.lists,
            sparse: &mut self.buf.sparse,
            text: &mut self.buf.text,
            vstatus: &mut self.buf.vstatus,
            row: index,
        };
        for &i in &plan.used {
            let v = ctx.input(i);
            let deferred = plan.hinted.contains(&i)
                && matches!(v, Value::Null | Value::Vector(_) | Value::Sparse { .. });
            if !deferred {
                check_type(&plan.input, i, v)?;
            }
        }
        for &(field, s) in &plan.input_vecs {
            if plan.hinted.contains(&field) {
                let status = match ctx.input(field) {
                    Value::Null => VecStatus::Null,
                    Value::Vector(v) if v.len() != s.len => VecStatus::WrongSize(v.len()),
                    Value::Sparse { size, .. } if size != s.len => VecStatus::WrongSize(size),
                    _ => VecStatus::Ok,
                };
                ctx.vstatus[field] = status;
                if status != VecStatus::Ok {
                    continue;
                }
            }
            match ctx.input(field) {
                Value::Vector(v) => ctx.vec_mut(s).copy_from_slice(v),
                Value::Sparse {
                    size,
                    indices,
                    values,
                } => {
                    let r = VecRow::Sparse {
                        size,
                        indices,
                        values,
                    };
                    if let Err(what) = r.check() {
                        return Err(Error::RowField {
                            field: plan.input.field(field).name().clone(),
                            problem: what,
                            expected: expected(plan.input.field(field)),
                        });
                    }
                    r.write_dense(ctx.vec_mut(s));
                }
                _ => {
                    return Err(Error::InvalidValue {
                        stage: "RowScorer",
                        column: plan.input.field(field).name().clone(),
                        partition: 0,
                        row: index,
                        what: "null vector".into(),
                        hint: "give every vector field a value".into(),
                    })
                }
            }
        }
        self.kept = true;
        for op in &plan.ops {
            if op.run(&mut ctx)? == Flow::Drop {
                self.kept = false;
                break;
            }
        }
        Ok(())
    }

    fn finish(&self) -> Option<Scored<'_>> {
        self.kept.then_some(Scored {
            plan: &self.plan,
            buf: &self.buf,
        })
    }
}

/// What a field must hold, for errors.
fn expected(f: &arrow::datatypes::Field) -> String {
    match f.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "a string".into(),
        DataType::Boolean => "a boolean".into(),
        dt if is_string_list(dt) => "a list of strings".into(),
        dt if dt.is_integer() => format!("an integer ({dt})"),
        dt if dt.is_floating() => format!("a number ({dt})"),
        dt => match vector::field_vector_size(f) {
            Some(n) => format!("a vector of {n} numbers"),
            None => format!("a value of type {dt}"),
        },
    }
}

/// Whether `dt` is a list of strings (`List<Utf8>` and its large / view forms).
fn is_string_list(dt: &DataType) -> bool {
    match dt {
        DataType::List(item) | DataType::LargeList(item) => matches!(
            item.data_type(),
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
        _ => false,
    }
}

/// Checks that `v` fits input field `i` (null fits every field).
fn check_type(input: &Schema, i: usize, v: Value<'_>) -> Result<()> {
    let f = input.field(i);
    let dt = f.data_type();
    // A whole number given as a float (JSON's `3.0`) fits an integer field.
    let v = match v {
        Value::Float(x) if dt.is_integer() && x.fract() == 0.0 && x.abs() < 9.2e18 => {
            Value::Int(x as i64)
        }
        v => v,
    };
    let ok = match v {
        Value::Null => true,
        Value::Str(_) => matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        ),
        Value::Bool(_) => matches!(dt, DataType::Boolean),
        Value::Int(x) => {
            dt.is_floating()
                || match dt {
                    DataType::Int8 => i8::try_from(x).is_ok(),
                    DataType::Int16 => i16::try_from(x).is_ok(),
                    DataType::Int32 => i32::try_from(x).is_ok(),
                    DataType::UInt8 => u8::try_from(x).is_ok(),
                    DataType::UInt16 => u16::try_from(x).is_ok(),
                    DataType::UInt32 => u32::try_from(x).is_ok(),
                    DataType::Int64 | DataType::UInt64 => x >= 0 || *dt == DataType::Int64,
                    _ => false,
                }
        }
        Value::Float(_) => dt.is_floating(),
        Value::Vector(x) => vector::field_vector_size(f) == Some(x.len()),
        Value::Sparse { size, .. } => vector::field_vector_size(f) == Some(size),
        Value::StrList(_) => is_string_list(dt),
    };
    if ok {
        return Ok(());
    }
    Err(Error::RowField {
        field: f.name().clone(),
        problem: format!("got {}", v.describe()),
        expected: expected(f),
    })
}

// ---------------------------------------------------------------------------------------
// Shared row forms.

/// The row form of a model on the shared predictor layer: reads the features vector,
/// writes rawPrediction / probability / prediction as the batch transform does.
///
/// # Errors
/// As the model's `transform_schema`.
pub fn predictor_row_form<M>(m: &M, plan: &mut PlanBuilder) -> Result<Option<Box<dyn RowOp>>>
where
    M: PredictionModel + Clone + Debug + Send + 'static,
{
    m.check_model()?;
    let cols = m.columns();
    let kind = m.kind();
    // A sparse features column (HashingTF's, CountVectorizer's) is scored sparse, as in
    // batch.
    let x = plan.vector_input(cols.features)?;
    if x.len() != m.num_features() {
        return Err(Error::FeatureCount {
            stage: m.stage_name(),
            column: cols.features.to_string(),
            expected: m.num_features(),
            found: x.len(),
        });
    }
    let k = kind.raw_len();
    let classifier = kind != PredictorKind::Regression;
    let probabilistic = matches!(kind, PredictorKind::Probabilistic { .. });
    // Outputs not kept are scored into scratch slots, as the batch form does.
    let raw = if classifier && !cols.raw_prediction.is_empty() {
        (plan.add_vec(cols.raw_prediction, k), true)
    } else {
        (plan.scratch_vec(k), false)
    };
    let prob = if probabilistic && !cols.probability.is_empty() {
        (plan.add_vec(cols.probability, k), true)
    } else {
        (plan.scratch_vec(k), false)
    };
    let pred = (!cols.prediction.is_empty()).then(|| plan.add_num(cols.prediction));
    plan.set_model_outputs(ModelOutputs {
        prediction: pred,
        raw_prediction: raw.1.then_some(raw.0),
        probability: prob.1.then_some(prob.0),
    });
    let decision = crate::predictor::Decision::of(m);
    Ok(Some(Box::new(PredictorOp {
        model: m.clone(),
        decision,
        x,
        raw: raw.0,
        prob: prob.0,
        want_prob: prob.1,
        pred,
    })))
}

#[derive(Debug)]
struct PredictorOp<M> {
    model: M,
    decision: crate::predictor::Decision,
    x: VecIn,
    raw: VecSlot,
    prob: VecSlot,
    want_prob: bool,
    pred: Option<NumOut>,
}

impl<M: PredictionModel + Debug + Send> RowOp for PredictorOp<M> {
    fn run(&self, row: &mut RowCtx<'_, '_>) -> Result<Flow> {
        let (fx, raw, prob) = row.vec_row_pair(self.x, self.raw, self.prob);
        if let Err(hint) = self.model.check_row_values(fx) {
            let what = format!("vector {:?}", fx.to_vec());
            let stage = self.model.stage_name();
            let col = self.model.columns().features.to_string();
            return Err(row.invalid(stage, &col, what, hint));
        }
        let p =
            crate::predictor::score_row(&self.model, &self.decision, fx, raw, prob, self.want_prob);
        if let Some(o) = self.pred {
            row.set_num(o, Some(p));
        }
        Ok(Flow::Next)
    }
}

/// The input schema a fitted pipeline needs, worked out from its stages alone (a saved
/// Spark model does not record the schema it was trained on): each column a stage reads
/// that no earlier stage writes becomes a nullable field — a string for a
/// StringIndexerModel's input, a vector of the model's size for a model's features, a
/// Float64 otherwise (integers are accepted there too). Columns a stage skips when absent
/// (a StringIndexerModel on the label) are left out.
///
/// # Errors
/// A stage whose input cannot be worked out (its `transform_schema` error is returned).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::PipelineModel;
/// let model = PipelineModel::new("p", vec![Box::new(
///     VectorAssembler::new().with_input_cols(["a", "b"]).with_output_col("f"),
/// )]);
/// let schema = mlpipe::row::infer_input_schema(&model)?;
/// assert_eq!(schema.fields().len(), 2);
/// # Ok(()) }
/// ```
pub fn infer_input_schema(model: &PipelineModel) -> Result<Schema> {
    use arrow::datatypes::Field;
    let mut fields: Vec<Field> = Vec::new();
    let mut stages: Vec<&dyn Transformer> = Vec::new();
    flatten(model, &mut stages);
    let mut input = Schema::empty();
    // Each retry adds or refines one field; a bound keeps a confused stage from looping.
    for _ in 0..4 * stages.len() + 64 {
        let mut schema = input.clone();
        let mut failed = None;
        // (input, output) pairs a stage skipped because the input is absent.
        let mut skipped: Vec<(String, String)> = Vec::new();
        for s in &stages {
            skipped.extend(s.skipped_columns(&schema));
            match s.transform_schema(&schema) {
                Ok(next) => schema = next,
                Err(e) => {
                    failed = Some((s.kind(), e));
                    break;
                }
            }
        }
        let Some((kind, e)) = failed else {
            return Ok(input);
        };
        let pos = |name: &str| fields.iter().position(|f| f.name() == name);
        match &e {
            Error::ColumnNotFound { column, .. } if skipped.iter().any(|(_, o)| o == column) => {
                // A later stage needs what a skipping indexer would have made.
                let (i, _) = skipped
                    .iter()
                    .find(|(_, o)| o == column)
                    .cloned()
                    .unwrap_or_default();
                fields.push(Field::new(i, DataType::Utf8, true));
            }
            Error::ColumnNotFound { column, .. } if pos(column).is_none() => {
                let dt = if kind == "StringIndexerModel" {
                    DataType::Utf8
                } else {
                    DataType::Float64
                };
                fields.push(Field::new(column, dt, true));
            }
            // A text stage's input: a string, or a list of strings (checked first: its
            // message names strings too).
            Error::ColumnType {
                column, expected, ..
            } if pos(column).is_some_and(|i| fields[i].data_type() == &DataType::Float64)
                && expected.contains("string") =>
            {
                let i = pos(column).unwrap_or_default();
                let dt = if expected.contains("list of strings") {
                    DataType::List(Arc::new(Field::new("item", DataType::Utf8, true)))
                } else {
                    DataType::Utf8
                };
                fields[i] = Field::new(column, dt, true);
            }
            Error::ColumnType {
                column, expected, ..
            } if pos(column).is_some() && expected.contains("vector") => {
                let i = pos(column).unwrap_or_default();
                fields[i] = vector::vector_field(column, 1, true);
            }
            Error::FeatureCount {
                column, expected, ..
            } if pos(column)
                .is_some_and(|i| vector::vector_size(fields[i].data_type()).is_some()) =>
            {
                let i = pos(column).unwrap_or_default();
                fields[i] = vector::vector_field(column, *expected, true);
            }
            _ => return Err(e),
        }
        input = Schema::new(fields.clone());
    }
    Err(Error::Pipeline(
        "could not work out the input schema from the stages".into(),
    ))
}

fn flatten<'a>(model: &'a PipelineModel, out: &mut Vec<&'a dyn Transformer>) {
    for s in model.stages() {
        match s.downcast_ref::<PipelineModel>() {
            Some(inner) => flatten(inner, out),
            None => out.push(s.as_ref()),
        }
    }
}
