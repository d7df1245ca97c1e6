//! [`NGram`]: the n-grams of lists of strings.

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::text_columns as text;
use super::tokenizer::unary_cols;
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`NGram`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct NGramParams {
    /// The `List<Utf8>` input column (no default).
    pub input_col: Option<String>,
    /// The `List<Utf8>` output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// Tokens per n-gram; default 2, must be >= 1.
    pub n: i64,
}

impl Default for NGramParams {
    fn default() -> Self {
        Self {
            input_col: None,
            output_col: None,
            n: 2,
        }
    }
}

impl Params for NGramParams {
    const STAGE: &'static str = "NGram";
    fn validate(&self) -> Result<()> {
        if self.n < 1 {
            return Err(Error::param(Self::STAGE, "n", ">= 1", self.n));
        }
        unary_cols(Self::STAGE, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// The n-grams of a list of strings, like Spark's `org.apache.spark.ml.feature.NGram`:
/// every window of `n` consecutive tokens (default 2), joined with a single space; a list
/// shorter than `n` gives `[]`. A null token is spelled `"null"` (Scala's `mkString`);
/// a null list is an error, as in Spark.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{NGram, Tokenizer};
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["a b c", "a"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let df = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let out = NGram::new().with_input_col("words").with_output_col("grams").transform(&df)?;
/// let grams = out.column("grams")?.string_lists()?;
/// assert_eq!(grams[0], ["a b", "b c"]);
/// assert!(grams[1].is_empty());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct NGram {
    uid: String,
    params: NGramParams,
}

super::columns::stage_basics!(NGram, NGramParams, "ngram", |uid| NGramParams {
    output_col: Some(format!("{uid}__output")),
    ..Default::default()
});

impl NGram {
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
    /// Tokens per n-gram; default 2, must be >= 1.
    pub fn with_n(mut self, n: i64) -> Self {
        self.params.n = n;
        self
    }
}

impl Stage for NGram {
    fn kind(&self) -> &'static str {
        "NGram"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = NGramParams::STAGE;
        self.params.validate()?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        text::require_string_list(input, stage, i)?;
        // Spark's items are not nullable (containsNull = false); the n-grams never are null,
        // and the column is `List<Utf8>` like every text column of mlpipe.
        schema::append_field(input, stage, text::string_list_field(o))
    }
}

impl Transformer for NGram {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = NGramParams::STAGE;
        let out = self.transform_schema(df.schema())?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let field = out.field_with_name(o)?.clone();
        let n = self.params.n as usize;
        text::lists_to_lists(df, stage, i, field, |rows, r, b| {
            if rows.row_len(r) < n {
                return;
            }
            let tokens: Vec<&str> = rows.row(r).map(|t| t.unwrap_or("null")).collect();
            let mut gram = String::new();
            for w in tokens.windows(n) {
                gram.clear();
                for (k, t) in w.iter().enumerate() {
                    if k > 0 {
                        gram.push(' ');
                    }
                    gram.push_str(t);
                }
                b.append_value(&gram);
            }
        })
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for NGram {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(NGram, "org.apache.spark.ml.feature.NGram");

// ---- Row form (crate::row) ----

impl crate::row::RowStage for NGram {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = NGramParams::STAGE;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        Ok(Some(Box::new(NGramRow {
            input: plan.list_input(i)?,
            out: plan.add_list(o),
            column: i.to_string(),
            n: self.params.n as usize,
        })))
    }
}

#[derive(Debug)]
struct NGramRow {
    input: crate::row::ListIn,
    out: crate::row::ListOut,
    column: String,
    n: usize,
}

impl crate::row::RowOp for NGramRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mut out = row.take_list(self.out);
        out.clear();
        let Some(tokens) = row.list(self.input) else {
            let r = row.row_index();
            row.put_list(self.out, out);
            return Err(text::null_value(
                NGramParams::STAGE,
                &self.column,
                0,
                r,
                "list",
            ));
        };
        // As the batch form: the windows of n tokens, joined by one space.
        if tokens.len() >= self.n {
            for start in 0..=tokens.len() - self.n {
                out.push_joined((start..start + self.n).map(|k| tokens.get(k)), ' ');
            }
        }
        row.put_list(self.out, out);
        Ok(crate::row::Flow::Next)
    }
}
