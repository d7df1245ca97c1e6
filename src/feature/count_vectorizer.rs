//! [`CountVectorizer`] and [`CountVectorizerModel`]: a vocabulary of terms, and term counts
//! over it as sparse vectors.

use std::sync::Arc;

use ahash::AHashMap;
use arrow::array::{Array, ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{Field, Schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::text_columns::{self as text, java_cmp, StringLists};
use super::tokenizer::unary_cols;
use crate::error::{Error, Result};
use crate::frame::vector::{sparse_vector_field, SparseVectorBuilder};
use crate::frame::{schema, DataFrame};
use crate::param::{spark_double, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Params of [`CountVectorizer`] and [`CountVectorizerModel`]; JSON names and defaults are
/// Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CountVectorizerParams {
    /// The `List<Utf8>` input column (no default).
    pub input_col: Option<String>,
    /// The sparse vector output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// The most terms to keep, by total count; default 2^18 = 262144, must be > 0.
    pub vocab_size: i64,
    /// Keep only terms in at least this many documents (>= 1) or this fraction of them
    /// (< 1); default 1.0, must be >= 0.
    #[serde(with = "spark_double")]
    pub min_d_f: f64,
    /// Keep only terms in at most this many documents (>= 1) or this fraction of them
    /// (< 1); default `Long.MaxValue` (no limit), must be >= 0.
    #[serde(with = "spark_double")]
    pub max_d_f: f64,
    /// At transform: drop a row's terms counted fewer than this many times (>= 1) or less
    /// than this fraction of the row's tokens (< 1); default 1.0, must be >= 0.
    #[serde(with = "spark_double")]
    pub min_t_f: f64,
    /// Count 1 for every term present; default `false`.
    pub binary: bool,
}

impl Default for CountVectorizerParams {
    fn default() -> Self {
        Self {
            input_col: None,
            output_col: None,
            vocab_size: 1 << 18,
            min_d_f: 1.0,
            max_d_f: i64::MAX as f64,
            min_t_f: 1.0,
            binary: false,
        }
    }
}

impl Params for CountVectorizerParams {
    const STAGE: &'static str = "CountVectorizer";
    fn validate(&self) -> Result<()> {
        let stage = Self::STAGE;
        if self.vocab_size <= 0 || self.vocab_size > i32::MAX as i64 {
            return Err(Error::param(
                stage,
                "vocabSize",
                "in [1, 2147483647]",
                self.vocab_size,
            ));
        }
        for (name, v) in [
            ("minDF", self.min_d_f),
            ("maxDF", self.max_d_f),
            ("minTF", self.min_t_f),
        ] {
            if v.is_nan() || v < 0.0 {
                return Err(Error::param(stage, name, ">= 0", v));
            }
        }
        let same_side = (self.min_d_f >= 1.0) == (self.max_d_f >= 1.0);
        if same_side && self.max_d_f < self.min_d_f {
            return Err(Error::param(
                stage,
                "maxDF",
                format!(">= minDF ({})", self.min_d_f),
                self.max_d_f,
            ));
        }
        unary_cols(stage, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// Learns a vocabulary from lists of terms, like Spark's
/// `org.apache.spark.ml.feature.CountVectorizer`.
///
/// The vocabulary is the `vocabSize` terms with the highest total count over all rows,
/// ties broken by the term in Java's string order (UTF-16), exactly as Spark 4 orders it.
/// With `minDF` / `maxDF`, only terms whose document frequency lies in that range count
/// (a value below 1 is a fraction of the rows). The [`CountVectorizerModel`] maps each
/// row to its term counts over the vocabulary as a sparse vector.
///
/// The input must be lists of strings; a null list or a null term is an error.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{CountVectorizer, Tokenizer};
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["b a c a", "c a"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let df = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let model = CountVectorizer::new().with_input_col("words").with_output_col("counts").fit(&df)?;
/// assert_eq!(model.vocabulary(), ["a", "c", "b"]);
/// let out = model.transform(&df)?;
/// # let _ = out;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct CountVectorizer {
    uid: String,
    params: CountVectorizerParams,
}

super::columns::stage_basics!(CountVectorizer, CountVectorizerParams, "cntVec", |uid| {
    CountVectorizerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

macro_rules! cv_setters {
    () => {
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
        /// Drop a row's terms counted fewer times than this (a count if >= 1, else a
        /// fraction of the row's tokens); default 1.0.
        pub fn with_min_tf(mut self, v: f64) -> Self {
            self.params.min_t_f = v;
            self
        }
        /// Binary counts; default `false`.
        pub fn with_binary(mut self, b: bool) -> Self {
            self.params.binary = b;
            self
        }
    };
}

impl CountVectorizer {
    cv_setters!();
    /// The most terms to keep; default 262144, must be > 0.
    pub fn with_vocab_size(mut self, n: i64) -> Self {
        self.params.vocab_size = n;
        self
    }
    /// Minimum document frequency (a count if >= 1, else a fraction); default 1.0.
    pub fn with_min_df(mut self, v: f64) -> Self {
        self.params.min_d_f = v;
        self
    }
    /// Maximum document frequency (a count if >= 1, else a fraction); default no limit.
    pub fn with_max_df(mut self, v: f64) -> Self {
        self.params.max_d_f = v;
        self
    }
}

fn cv_schema(
    p: &CountVectorizerParams,
    input: &Schema,
    stage: &'static str,
    size: Option<usize>,
) -> Result<Schema> {
    p.validate().map_err(|e| rename_stage(e, stage))?;
    let (i, o) = unary_cols(stage, &p.input_col, &p.output_col)?;
    text::require_string_list(input, stage, i)?;
    let field = match size {
        Some(n) => sparse_vector_field(o, n, true),
        // Before fitting, the vocabulary's size is not known.
        None => crate::frame::vector::unknown_size(Field::new(
            o,
            crate::frame::vector::sparse_vector_type(),
            true,
        )),
    };
    schema::append_field(input, stage, field)
}

/// The params' errors carry the estimator's name; a model reports its own.
fn rename_stage(e: Error, stage: &'static str) -> Error {
    match e {
        Error::InvalidParam {
            param,
            expected,
            got,
            ..
        } => Error::InvalidParam {
            stage,
            param,
            expected,
            got,
        },
        e => e,
    }
}

impl Stage for CountVectorizer {
    fn kind(&self) -> &'static str {
        "CountVectorizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        cv_schema(&self.params, input, CountVectorizerParams::STAGE, None)
    }
}

/// Per-term (total count, document frequency) of one partition.
type TermCounts = AHashMap<String, (u64, u64)>;

impl Estimator for CountVectorizer {
    type Model = CountVectorizerModel;

    fn fit(&self, df: &DataFrame) -> Result<CountVectorizerModel> {
        let stage = CountVectorizerParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (i, _) = unary_cols(stage, &p.input_col, &p.output_col)?;
        let parts: Vec<TermCounts> = df.map_partitions(|part, b| {
            let list = text::string_list_array(schema::batch_column(b, i)?)?;
            let rows = StringLists::new(&list)?;
            let mut counts: TermCounts = AHashMap::new();
            let mut doc: AHashMap<&str, u64> = AHashMap::new();
            for r in 0..list.len() {
                if rows.is_null(r) {
                    return Err(text::null_value(stage, i, part, r, "list"));
                }
                doc.clear();
                for t in rows.row(r) {
                    let t =
                        t.ok_or_else(|| text::null_value(stage, i, part, r, "term in a list"))?;
                    *doc.entry(t).or_default() += 1;
                }
                for (t, c) in doc.drain() {
                    match counts.get_mut(t) {
                        Some(e) => {
                            e.0 += c;
                            e.1 += 1;
                        }
                        None => {
                            counts.insert(t.to_string(), (c, 1));
                        }
                    }
                }
            }
            Ok(counts)
        })?;
        // Merge in partition order (sums of integers: the order does not change them).
        let mut total: TermCounts = AHashMap::new();
        for m in parts {
            for (t, (c, d)) in m {
                let e = total.entry(t).or_default();
                e.0 += c;
                e.1 += d;
            }
        }
        let n_docs = df.num_rows() as f64;
        let min_df = if p.min_d_f >= 1.0 {
            p.min_d_f
        } else {
            p.min_d_f * n_docs
        };
        let max_df = if p.max_d_f >= 1.0 {
            p.max_d_f
        } else {
            p.max_d_f * n_docs
        };
        if max_df < min_df {
            return Err(Error::param(
                stage,
                "maxDF",
                format!(">= minDF once fractions are turned into document counts ({min_df} of {n_docs} rows)"),
                max_df,
            ));
        }
        // With the defaults the range keeps every term (Spark filters only when set).
        let mut terms: Vec<(String, u64)> = total
            .into_iter()
            .filter(|(_, (_, d))| (*d as f64) >= min_df && (*d as f64) <= max_df)
            .map(|(t, (c, _))| (t, c))
            .collect();
        // Spark 4: top by count, ties by Java's String order (ascending).
        terms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| java_cmp(&a.0, &b.0)));
        terms.truncate(p.vocab_size as usize);
        if terms.is_empty() {
            tracing::warn!(
                stage,
                "the vocabulary is empty: no term passes minDF/maxDF (Spark only warns, too)"
            );
        }
        Ok(CountVectorizerModel::new(
            self.uid.clone(),
            p.clone(),
            terms.into_iter().map(|(t, _)| t).collect(),
        ))
    }
}

/// A fitted [`CountVectorizer`]: its vocabulary, index by index.
#[derive(Clone, Debug, PartialEq)]
pub struct CountVectorizerModel {
    uid: String,
    params: CountVectorizerParams,
    vocabulary: Vec<String>,
    index: AHashMap<String, i32>,
}

impl CountVectorizerModel {
    /// A model from its vocabulary (Spark's `new CountVectorizerModel(vocabulary)`); the
    /// first occurrence of a repeated term wins.
    pub fn new(
        uid: impl Into<String>,
        params: CountVectorizerParams,
        vocabulary: Vec<String>,
    ) -> Self {
        let mut index = AHashMap::with_capacity(vocabulary.len());
        for (k, t) in vocabulary.iter().enumerate() {
            index.entry(t.clone()).or_insert(k as i32);
        }
        Self {
            uid: uid.into(),
            params,
            vocabulary,
            index,
        }
    }
    /// The vocabulary: term `i` is vector index `i`.
    pub fn vocabulary(&self) -> &[String] {
        &self.vocabulary
    }
    /// The params.
    pub fn params(&self) -> &CountVectorizerParams {
        &self.params
    }
    cv_setters!();
}

impl CountVectorizerModel {
    /// Counts one row's terms (`None` for a null term) into `indices` / `values` (sorted
    /// by index), keeping those at or above `minTF`.
    fn count_row<'s>(
        &self,
        terms: impl Iterator<Item = Option<&'s str>>,
        hits: &mut Vec<i32>,
        idx: &mut Vec<i32>,
        vals: &mut Vec<f64>,
    ) {
        let p = &self.params;
        hits.clear();
        let mut tokens = 0usize;
        for t in terms {
            tokens += 1;
            if let Some(k) = t.and_then(|t| self.index.get(t)) {
                hits.push(*k);
            }
        }
        hits.sort_unstable();
        let min_tf = if p.min_t_f >= 1.0 {
            p.min_t_f
        } else {
            tokens as f64 * p.min_t_f
        };
        idx.clear();
        vals.clear();
        let mut k = 0;
        while k < hits.len() {
            let mut end = k + 1;
            while end < hits.len() && hits[end] == hits[k] {
                end += 1;
            }
            let c = (end - k) as f64;
            if c >= min_tf {
                idx.push(hits[k]);
                vals.push(if p.binary { 1.0 } else { c });
            }
            k = end;
        }
    }
}

impl Stage for CountVectorizerModel {
    fn kind(&self) -> &'static str {
        "CountVectorizerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        cv_schema(
            &self.params,
            input,
            "CountVectorizerModel",
            Some(self.vocabulary.len()),
        )
    }
}

impl Transformer for CountVectorizerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "CountVectorizerModel";
        let out = self.transform_schema(df.schema())?;
        let p = &self.params;
        let (i, o) = unary_cols(stage, &p.input_col, &p.output_col)?;
        let size = self.vocabulary.len();
        let chunks = df.map_partitions(|part, b| {
            let list = text::string_list_array(schema::batch_column(b, i)?)?;
            let rows = StringLists::new(&list)?;
            let mut out = SparseVectorBuilder::with_capacity(size, list.len(), list.values().len())
                .context(stage, o, part);
            let (mut hits, mut idx, mut vals) = (Vec::new(), Vec::new(), Vec::new());
            for r in 0..list.len() {
                if rows.is_null(r) {
                    return Err(text::null_value(stage, i, part, r, "list"));
                }
                self.count_row(rows.row(r), &mut hits, &mut idx, &mut vals);
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

impl Model for CountVectorizerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    CountVectorizer,
    "org.apache.spark.ml.feature.CountVectorizer"
);

impl crate::persist::SparkPersist for CountVectorizerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.CountVectorizerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let mut b = ListBuilder::new(StringBuilder::new());
        for t in &self.vocabulary {
            b.values().append_value(t);
        }
        b.append(true);
        let arr: ArrayRef = Arc::new(b.finish());
        let batch = format::one_row(vec![(
            Field::new("vocabulary", arr.data_type().clone(), true),
            arr,
        )])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[(
                "vocabulary",
                json!({"type": "array", "elementType": "string", "containsNull": true}),
                true,
            )]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let col = format::column(&d, "vocabulary", dir)?;
        let list = arrow::array::AsArray::as_list_opt::<i32>(col.as_ref())
            .ok_or_else(|| Error::file(dir.join("data"), "vocabulary is not a list of strings"))?;
        if list.is_empty() || list.is_null(0) {
            return Err(Error::file(
                dir.join("data"),
                "the vocabulary row is missing or null",
            ));
        }
        let vocabulary = format::string_list(&list.value(0), dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, vocabulary))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for CountVectorizerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = "CountVectorizerModel";
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        Ok(Some(Box::new(CountVectorizerRow {
            input: plan.list_input(i)?,
            out: plan.add_sparse(o, self.vocabulary.len()),
            column: i.to_string(),
            model: self.clone(),
        })))
    }
}

#[derive(Debug)]
struct CountVectorizerRow {
    input: crate::row::ListIn,
    out: crate::row::SparseSlot,
    column: String,
    model: CountVectorizerModel,
}

impl crate::row::RowOp for CountVectorizerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mut out = row.take_sparse(self.out);
        let mut hits = std::mem::take(&mut out.scratch);
        let Some(terms) = row.list(self.input) else {
            let r = row.row_index();
            out.scratch = hits;
            row.put_sparse(self.out, out);
            return Err(text::null_value(
                "CountVectorizerModel",
                &self.column,
                0,
                r,
                "list",
            ));
        };
        self.model.count_row(
            terms.iter().map(Some),
            &mut hits,
            &mut out.indices,
            &mut out.values,
        );
        out.scratch = hits;
        row.put_sparse(self.out, out);
        Ok(crate::row::Flow::Next)
    }
}
