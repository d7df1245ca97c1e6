//! [`HashingTF`]: term frequencies of lists of strings, hashed into a sparse vector.

use arrow::array::{Array, AsArray, ListArray};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Field, Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, Schema,
};
use serde::{Deserialize, Serialize};

use super::murmur3::{hash_int, hash_long, hash_str, non_negative_mod, SEED};
use super::text_columns as text;
use super::tokenizer::unary_cols;
use crate::error::{Error, Result};
use crate::frame::vector::{sparse_vector_field, SparseVectorBuilder};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`HashingTF`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct HashingTFParams {
    /// The `List<Utf8>` input column (no default).
    pub input_col: Option<String>,
    /// The sparse vector output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// The vector size (number of hash buckets); default 2^18 = 262144, must be in
    /// `1..=2^31 - 1`.
    pub num_features: i64,
    /// Count 1 for every term present instead of its frequency; default `false`.
    pub binary: bool,
}

impl Default for HashingTFParams {
    fn default() -> Self {
        Self {
            input_col: None,
            output_col: None,
            num_features: 1 << 18,
            binary: false,
        }
    }
}

/// Checks a `numFeatures` param: `> 0` and an `Int` as in Spark.
pub(crate) fn check_num_features(stage: &'static str, n: i64) -> Result<()> {
    if n <= 0 || n > i32::MAX as i64 {
        return Err(Error::param(stage, "numFeatures", "in [1, 2147483647]", n));
    }
    Ok(())
}

impl Params for HashingTFParams {
    const STAGE: &'static str = "HashingTF";
    fn validate(&self) -> Result<()> {
        check_num_features(Self::STAGE, self.num_features)?;
        unary_cols(Self::STAGE, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// Maps lists of terms to term-frequency vectors by hashing, like Spark's
/// `org.apache.spark.ml.feature.HashingTF`.
///
/// A term's index is Spark's: MurmurHash3 x86_32 with seed 42 over the term's UTF-8 bytes,
/// taken non-negative modulo `numFeatures` (default 2^18), so indices equal Spark's. The
/// value is the term's count in the row, or 1 when `binary`. The output is always a sparse
/// vector column of size `numFeatures`. A null term hashes as Spark's null (index
/// `42 mod numFeatures`); a null list is an error, as in Spark. The input is a list of
/// strings (`List<Utf8>`, e.g. Tokenizer's output) or of numbers or booleans, each term
/// hashed by Spark's rule for its type (`FeatureHasher.murmur3Hash`): booleans as the int
/// 1 or 0, 8-, 16- and 32-bit integers as an int, 64-bit integers as a long, `f32` by its
/// Java `floatToIntBits`, `f64` by its `doubleToLongBits` (so `-0.0` and `0.0` differ,
/// and every NaN is one term).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::frame::vector::{At, Row, VectorBlock};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{HashingTF, Tokenizer};
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["a spark a"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let df = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let out = HashingTF::new().with_input_col("words").with_output_col("tf").transform(&df)?;
/// let tf = out.column("tf")?;
/// let at = At { stage: "doc", column: "tf", partition: 0 };
/// let block = VectorBlock::new(tf.chunks[0].as_ref(), 1 << 18, at)?;
/// // Spark 4.3: "a" -> 107107, "spark" -> 173558.
/// assert_eq!(
///     block.row(0),
///     Some(Row::Sparse { size: 1 << 18, indices: &[107107, 173558], values: &[2.0, 1.0] })
/// );
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct HashingTF {
    uid: String,
    params: HashingTFParams,
}

super::columns::stage_basics!(HashingTF, HashingTFParams, "hashingTF", |uid| {
    HashingTFParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl HashingTF {
    /// The `List<Utf8>` input column.
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = Some(c.into());
        self
    }
    /// The output column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = Some(c.into());
        self
    }
    /// The vector size; default 262144, must be in `1..=2^31 - 1`.
    pub fn with_num_features(mut self, n: i64) -> Self {
        self.params.num_features = n;
        self
    }
    /// Binary counts; default `false`.
    pub fn with_binary(mut self, b: bool) -> Self {
        self.params.binary = b;
        self
    }
    /// The index of `term` (Spark's `indexOf`).
    ///
    /// # Examples
    /// ```
    /// use mlpipe::feature::HashingTF;
    /// assert_eq!(HashingTF::new().index_of("spark"), 173558); // Spark 4.3's index
    /// ```
    pub fn index_of(&self, term: &str) -> usize {
        let n = self.params.num_features.clamp(1, i32::MAX as i64) as i32;
        non_negative_mod(hash_str(term), n) as usize
    }
}

/// Hashes one row's terms (`None` for a null term) into `indices` / `values` (sorted by
/// index).
pub(crate) fn hash_row<'s>(
    terms: impl Iterator<Item = Option<&'s str>>,
    n: i32,
    binary: bool,
    scratch: &mut Vec<i32>,
    indices: &mut Vec<i32>,
    values: &mut Vec<f64>,
) {
    scratch.clear();
    scratch.extend(terms.map(|t| {
        let h = t.map_or(SEED as i32, hash_str);
        non_negative_mod(h, n)
    }));
    term_counts(scratch, binary, indices, values);
}

/// Sorts a row's term indices (`scratch`) and writes each distinct index with its count
/// (or 1.0 when `binary`) into `indices` / `values`.
fn term_counts(scratch: &mut [i32], binary: bool, indices: &mut Vec<i32>, values: &mut Vec<f64>) {
    scratch.sort_unstable();
    indices.clear();
    values.clear();
    let mut k = 0;
    while k < scratch.len() {
        let i = scratch[k];
        let mut end = k + 1;
        while end < scratch.len() && scratch[end] == i {
            end += 1;
        }
        indices.push(i);
        values.push(if binary { 1.0 } else { (end - k) as f64 });
        k = end;
    }
}

/// Whether HashingTF hashes terms of type `dt` (Spark's `FeatureHasher.murmur3Hash`
/// types that Arrow has).
fn is_term_type(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
    )
}

/// Finds a list column whose items HashingTF hashes, or fails naming its type.
fn require_term_list<'a>(input: &'a Schema, stage: &'static str, name: &str) -> Result<&'a Field> {
    let (_, f) = schema::require_column(input, stage, name)?;
    match f.data_type() {
        DataType::List(item) | DataType::LargeList(item) if is_term_type(item.data_type()) => {
            Ok(f)
        }
        found => Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a list of strings, booleans, integers or floating-point numbers (e.g. List<Utf8> from Tokenizer); Spark's HashingTF hashes no other term type".into(),
            found: found.clone(),
        }),
    }
}

/// Spark's hash of every item of `values` by the item type's rule
/// (`FeatureHasher.murmur3Hash`, seed 42; a null item hashes to the seed).
fn item_hashes(values: &dyn Array) -> Result<Vec<i32>> {
    let seed = SEED;
    let null = SEED as i32;
    macro_rules! prim {
        ($t:ty, $h:expr) => {{
            let a = values.as_primitive::<$t>();
            a.iter().map(|v| v.map_or(null, $h)).collect()
        }};
    }
    Ok(match values.data_type() {
        DataType::Boolean => values
            .as_boolean()
            .iter()
            .map(|v| v.map_or(null, |b| hash_int(b as i32, seed)))
            .collect(),
        DataType::Int8 => prim!(Int8Type, |v| hash_int(v as i32, seed)),
        DataType::Int16 => prim!(Int16Type, |v| hash_int(v as i32, seed)),
        DataType::Int32 => prim!(Int32Type, |v| hash_int(v, seed)),
        DataType::Int64 => prim!(Int64Type, |v| hash_long(v, seed)),
        // Java's floatToIntBits / doubleToLongBits: every NaN as the canonical NaN.
        DataType::Float32 => prim!(Float32Type, |v: f32| {
            let bits = if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
            hash_int(bits as i32, seed)
        }),
        DataType::Float64 => prim!(Float64Type, |v: f64| {
            let bits = if v.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                v.to_bits()
            };
            hash_long(bits as i64, seed)
        }),
        _ => {
            let s = cast(values, &DataType::Utf8)?;
            s.as_string::<i32>()
                .iter()
                .map(|v| v.map_or(null, hash_str))
                .collect()
        }
    })
}

impl Stage for HashingTF {
    fn kind(&self) -> &'static str {
        "HashingTF"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = HashingTFParams::STAGE;
        self.params.validate()?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        require_term_list(input, stage, i)?;
        let n = self.params.num_features as usize;
        schema::append_field(input, stage, sparse_vector_field(o, n, true))
    }
}

impl Transformer for HashingTF {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = HashingTFParams::STAGE;
        let out = self.transform_schema(df.schema())?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let n = self.params.num_features as i32;
        let binary = self.params.binary;
        let chunks = df.map_partitions(|p, b| {
            let col = schema::batch_column(b, i)?;
            let list: ListArray = match col.data_type() {
                DataType::LargeList(item) => {
                    let t = DataType::List(item.clone());
                    cast(col, &t)?.as_list::<i32>().clone()
                }
                _ => col.as_list::<i32>().clone(),
            };
            // Every item hashed once, by its type's rule; rows then index into that.
            let hashes = item_hashes(list.values().as_ref())?;
            let offsets = list.value_offsets();
            let mut out =
                SparseVectorBuilder::with_capacity(n as usize, list.len(), list.values().len())
                    .context(stage, o, p);
            let (mut scratch, mut idx, mut vals) = (Vec::new(), Vec::new(), Vec::new());
            for r in 0..list.len() {
                if list.is_null(r) {
                    return Err(text::null_value(stage, i, p, r, "list"));
                }
                scratch.clear();
                scratch.extend(
                    hashes[offsets[r] as usize..offsets[r + 1] as usize]
                        .iter()
                        .map(|h| non_negative_mod(*h, n)),
                );
                term_counts(&mut scratch, binary, &mut idx, &mut vals);
                out.push(&idx, &vals)?;
            }
            out.finish()
        })?;
        df.with_column(out.field_with_name(o)?.clone(), chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for HashingTF {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

impl crate::persist::SparkPersist for HashingTF {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.HashingTF";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        // Spark 1.x/2.x hashed terms with another murmur3 variant (sign-extended tail
        // bytes): its indices differ, so such a stage is refused rather than misread.
        check_spark_3(dir, md, "HashingTF")?;
        Ok(Self::from_params(md.uid.clone(), md.params_as(dir)?))
    }
}

/// Refuses a hashing stage saved by Spark before 3.0, whose term hashing differs.
pub(crate) fn check_spark_3(
    dir: &std::path::Path,
    md: &crate::persist::Metadata,
    what: &str,
) -> Result<()> {
    let major: u32 = md
        .spark_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(3);
    if major < 3 {
        return Err(Error::file(
            dir.join("metadata"),
            format!(
                "{what} saved by Spark {}, which hashed terms with its pre-3.0 murmur3 variant; mlpipe reproduces Spark 3+ hashing only: re-create the stage with Spark 3 or later (or mlpipe) and refit what follows it",
                md.spark_version
            ),
        ));
    }
    Ok(())
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for HashingTF {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = HashingTFParams::STAGE;
        self.params.validate()?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        Ok(Some(Box::new(HashingTFRow {
            input: plan.list_input(i)?,
            out: plan.add_sparse(o, self.params.num_features as usize),
            column: i.to_string(),
            n: self.params.num_features as i32,
            binary: self.params.binary,
        })))
    }
}

#[derive(Debug)]
struct HashingTFRow {
    input: crate::row::ListIn,
    out: crate::row::SparseSlot,
    column: String,
    n: i32,
    binary: bool,
}

impl crate::row::RowOp for HashingTFRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mut out = row.take_sparse(self.out);
        // The terms' indices before counting go to the slot's scratch buffer (reused).
        let mut scratch = std::mem::take(&mut out.scratch);
        let Some(terms) = row.list(self.input) else {
            let r = row.row_index();
            out.scratch = scratch;
            row.put_sparse(self.out, out);
            return Err(text::null_value(
                HashingTFParams::STAGE,
                &self.column,
                0,
                r,
                "list",
            ));
        };
        hash_row(
            terms.iter().map(Some),
            self.n,
            self.binary,
            &mut scratch,
            &mut out.indices,
            &mut out.values,
        );
        out.scratch = scratch;
        row.put_sparse(self.out, out);
        Ok(crate::row::Flow::Next)
    }
}
