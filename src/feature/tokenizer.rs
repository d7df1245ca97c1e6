//! [`Tokenizer`]: lowercase a string column and split it at whitespace.

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::text_columns::{self as text, java_lowercase};
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`Tokenizer`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TokenizerParams {
    /// The string column to split (no default).
    pub input_col: Option<String>,
    /// The `List<Utf8>` output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
}

impl Params for TokenizerParams {
    const STAGE: &'static str = "Tokenizer";
    fn validate(&self) -> Result<()> {
        unary_cols(Self::STAGE, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// The `(inputCol, outputCol)` of a one-column text stage; both must be set.
pub(crate) fn unary_cols<'a>(
    stage: &'static str,
    input: &'a Option<String>,
    output: &'a Option<String>,
) -> Result<(&'a str, &'a str)> {
    let i = input
        .as_deref()
        .ok_or_else(|| Error::param(stage, "inputCol", "a column name", "unset"))?;
    let o = output
        .as_deref()
        .filter(|o| !o.is_empty())
        .ok_or_else(|| Error::param(stage, "outputCol", "a column name", "unset"))?;
    Ok((i, o))
}

/// Splits text at whitespace after lowercasing it, like Spark's
/// `org.apache.spark.ml.feature.Tokenizer`: Java's `s.toLowerCase().split("\\s")`.
///
/// Exactly as Spark: every single ASCII whitespace character (space, `\t`, `\n`, `\x0B`,
/// `\f`, `\r`) separates, so a run of them gives empty tokens and a leading one a leading
/// `""`; trailing empty tokens are dropped; an empty string gives `[""]`. Other Unicode
/// spaces (no-break space, em space) are not separators. Lowercasing is Unicode's (with
/// Greek final sigma), as Java's in an English locale. Use [`RegexTokenizer`] for other
/// rules.
///
/// The input must be a string column; the output is `List<Utf8>`. A null string is an
/// error (Spark's UDF fails on it too).
///
/// [`RegexTokenizer`]: crate::feature::RegexTokenizer
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::Tokenizer;
/// let text: ArrayRef = Arc::new(StringArray::from(vec![" Hello  World\tFOO "]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let out = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let words = out.column("words")?.string_lists()?;
/// assert_eq!(words[0], ["", "hello", "", "world", "foo"]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Tokenizer {
    uid: String,
    params: TokenizerParams,
}

super::columns::stage_basics!(Tokenizer, TokenizerParams, "tok", |uid| TokenizerParams {
    input_col: None,
    output_col: Some(format!("{uid}__output")),
});

impl Tokenizer {
    /// The string column to split.
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = Some(c.into());
        self
    }
    /// The output column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = Some(c.into());
        self
    }
}

/// Java's `String.split("\\s")` of an already lowercased string, appended to `out`.
fn split_java_whitespace(s: &str, out: &mut impl text::TokenSink) {
    let is_sep = |b: u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r');
    if !s.bytes().any(is_sep) {
        out.push_token(s);
        return;
    }
    // Empty pieces are held back until a non-empty one follows: trailing ones are dropped.
    let mut pending_empty = 0usize;
    for piece in s.split(|c: char| c.is_ascii() && is_sep(c as u8)) {
        if piece.is_empty() {
            pending_empty += 1;
        } else {
            for _ in 0..pending_empty {
                out.push_token("");
            }
            pending_empty = 0;
            out.push_token(piece);
        }
    }
}

impl Stage for Tokenizer {
    fn kind(&self) -> &'static str {
        "Tokenizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = TokenizerParams::STAGE;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        text::require_string(input, stage, i)?;
        schema::append_field(input, stage, text::string_list_field(o))
    }
}

impl Transformer for Tokenizer {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = TokenizerParams::STAGE;
        let out = self.transform_schema(df.schema())?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let field = out.field_with_name(o)?.clone();
        text::strings_to_lists(df, stage, i, field, |s, b| {
            split_java_whitespace(&java_lowercase(s, "en"), b)
        })
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for Tokenizer {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(Tokenizer, "org.apache.spark.ml.feature.Tokenizer");

// ---- Row form (crate::row) ----

impl crate::row::RowStage for Tokenizer {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = TokenizerParams::STAGE;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        Ok(Some(Box::new(TextRow {
            stage,
            input: text_field(plan, stage, i)?,
            column: i.to_string(),
            out: plan.add_list(o),
            split: Box::new(|s, lower, out| {
                split_java_whitespace(text::java_lowercase_in(s, "en", lower), out)
            }),
        })))
    }
}

/// Reads the string input field `name` of a string-to-tokens row form.
pub(crate) fn text_field(
    plan: &mut crate::row::PlanBuilder,
    stage: &'static str,
    name: &str,
) -> Result<usize> {
    match plan.str_input(name)? {
        crate::row::StrIn::Str(field) => Ok(field),
        crate::row::StrIn::Num(_) => Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a string column (Utf8)".into(),
            found: plan
                .input_type(name)
                .unwrap_or(arrow::datatypes::DataType::Null),
        }),
    }
}

/// A string-to-tokens row function: `(text, lowercase buffer, tokens out)`.
pub(crate) type SplitFn = Box<dyn Fn(&str, &mut String, &mut crate::row::StrList) + Send + Sync>;

/// The row form of a string-to-tokens stage (Tokenizer, RegexTokenizer): the batch
/// form's per-row function on one row, into a reused list.
pub(crate) struct TextRow {
    pub(crate) stage: &'static str,
    pub(crate) input: usize,
    pub(crate) column: String,
    pub(crate) out: crate::row::ListOut,
    pub(crate) split: SplitFn,
}

impl std::fmt::Debug for TextRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextRow")
            .field("stage", &self.stage)
            .field("column", &self.column)
            .finish_non_exhaustive()
    }
}

impl crate::row::RowOp for TextRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let Some(s) = row.str(self.input) else {
            return Err(text::null_value(
                self.stage,
                &self.column,
                0,
                row.row_index(),
                "string",
            ));
        };
        let mut out = row.take_list(self.out);
        let mut lower = row.take_text();
        out.clear();
        (self.split)(s, &mut lower, &mut out);
        row.put_list(self.out, out);
        row.put_text(lower);
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, StringBuilder};

    fn split(s: &str) -> Vec<String> {
        let mut b = StringBuilder::new();
        split_java_whitespace(s, &mut b);
        let a = b.finish();
        (0..a.len()).map(|i| a.value(i).to_string()).collect()
    }

    #[test]
    fn java_split_rules() {
        // Java 17: " hello  world\tfoo ".split("\\s") etc.
        assert_eq!(
            split(" hello  world\tfoo "),
            ["", "hello", "", "world", "foo"]
        );
        assert_eq!(split(""), [""]);
        assert!(split("   ").is_empty());
        assert_eq!(split("a\u{a0}b"), ["a\u{a0}b"], "NBSP is no separator");
        assert_eq!(split("a\u{b}b\u{c}c"), ["a", "b", "c"]);
    }
}
