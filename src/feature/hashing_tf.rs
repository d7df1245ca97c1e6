//! [`HashingTF`]: term frequencies of lists of strings, hashed into a sparse vector.

use arrow::array::Array;
use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::murmur3::{hash_str, non_negative_mod, SEED};
use super::text_columns::{self as text, StringLists};
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
/// `42 mod numFeatures`); a null list is an error, as in Spark. The input must be a list
/// of strings (`List<Utf8>`); Spark also hashes lists of numbers, mlpipe does not.
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

impl Stage for HashingTF {
    fn kind(&self) -> &'static str {
        "HashingTF"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = HashingTFParams::STAGE;
        self.params.validate()?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        text::require_string_list(input, stage, i)?;
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
            let list = text::string_list_array(schema::batch_column(b, i)?)?;
            let rows = StringLists::new(&list)?;
            let mut out =
                SparseVectorBuilder::with_capacity(n as usize, list.len(), list.values().len())
                    .context(stage, o, p);
            let (mut scratch, mut idx, mut vals) = (Vec::new(), Vec::new(), Vec::new());
            for r in 0..list.len() {
                if rows.is_null(r) {
                    return Err(text::null_value(stage, i, p, r, "list"));
                }
                hash_row(rows.row(r), n, binary, &mut scratch, &mut idx, &mut vals);
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
