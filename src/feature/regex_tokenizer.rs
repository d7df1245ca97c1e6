//! [`RegexTokenizer`]: split text at, or collect, the matches of a Java regular expression.

use arrow::datatypes::Schema;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::text_columns::{self as text, java_len};
use super::tokenizer::unary_cols;
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`RegexTokenizer`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RegexTokenizerParams {
    /// The string column to split (no default).
    pub input_col: Option<String>,
    /// The `List<Utf8>` output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// The regular expression, in Java's syntax; default `"\\s+"`.
    pub pattern: String,
    /// `true` (default): the pattern matches the gaps between tokens; `false`: it matches
    /// the tokens.
    pub gaps: bool,
    /// Tokens shorter than this (in UTF-16 code units, as Java counts) are dropped;
    /// default 1, must be >= 0.
    pub min_token_length: i64,
    /// Lowercase the text before matching; default `true`.
    pub to_lowercase: bool,
}

impl Default for RegexTokenizerParams {
    fn default() -> Self {
        Self {
            input_col: None,
            output_col: None,
            pattern: "\\s+".into(),
            gaps: true,
            min_token_length: 1,
            to_lowercase: true,
        }
    }
}

impl Params for RegexTokenizerParams {
    const STAGE: &'static str = "RegexTokenizer";
    fn validate(&self) -> Result<()> {
        if self.min_token_length < 0 {
            return Err(Error::param(
                Self::STAGE,
                "minTokenLength",
                ">= 0",
                self.min_token_length,
            ));
        }
        java_regex(&self.pattern)?;
        unary_cols(Self::STAGE, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// Splits text with a regular expression, like Spark's
/// `org.apache.spark.ml.feature.RegexTokenizer`.
///
/// With `gaps = true` (default) the text is split at the matches of `pattern` (Java's
/// `Pattern.split`: a leading empty token when the text starts with a match, trailing
/// empty tokens dropped); with `gaps = false` the tokens are the matches. Then tokens
/// shorter than `minTokenLength` (UTF-16 code units, default 1) are dropped. The text is
/// lowercased first unless `toLowercase` is false.
///
/// `pattern` is Java regex syntax, run on Rust's `regex` engine after translating what
/// differs: `\s`, `\w`, `\d` (and `\S`, `\W`, `\D`) are ASCII-only as in Java, Java's
/// POSIX classes (`\p{Alpha}`, `\p{Punct}`, ...) are ASCII, `\p{IsLatin}` /
/// `\p{IsAlphabetic}` name Unicode properties, `\h`, `\v`, `\R`, `\e`, octal `\0nn` and
/// `\Q...\E` quoting are translated, and `.` does not match Java's line terminators.
/// Not supported (an error naming the pattern): look-around, back-references, possessive
/// quantifiers and atomic groups. Known remaining differences: `$` matches only at the very
/// end (Java also before a final line terminator), `(?i)` folds case by Unicode rules
/// (Java: ASCII unless `(?u)`), and `\b` uses Unicode word characters.
///
/// The input must be a string column; a null string is an error (as in Spark).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::RegexTokenizer;
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["Hi, I heard about Spark!"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let tok = RegexTokenizer::new().with_input_col("text").with_output_col("words")
///     .with_pattern("\\w+").with_gaps(false).with_min_token_length(2);
/// let words = tok.transform(&df)?.column("words")?.string_lists()?;
/// assert_eq!(words[0], ["hi", "heard", "about", "spark"]);
///
/// let bad = RegexTokenizer::new().with_input_col("text").with_pattern("(a");
/// assert!(bad.transform(&df).unwrap_err().to_string().contains("`pattern`"));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct RegexTokenizer {
    uid: String,
    params: RegexTokenizerParams,
}

super::columns::stage_basics!(RegexTokenizer, RegexTokenizerParams, "regexTok", |uid| {
    RegexTokenizerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl RegexTokenizer {
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
    /// The regular expression (Java syntax); default `"\\s+"`.
    pub fn with_pattern(mut self, p: &str) -> Self {
        self.params.pattern = p.into();
        self
    }
    /// Split at matches (`true`, default) or collect matches (`false`).
    pub fn with_gaps(mut self, g: bool) -> Self {
        self.params.gaps = g;
        self
    }
    /// Minimum token length in UTF-16 code units; default 1, must be >= 0.
    pub fn with_min_token_length(mut self, n: i64) -> Self {
        self.params.min_token_length = n;
        self
    }
    /// Lowercase before matching; default `true`.
    pub fn with_to_lowercase(mut self, b: bool) -> Self {
        self.params.to_lowercase = b;
        self
    }
}

/// Compiles a Java regular expression on Rust's engine (see [`RegexTokenizer`] for what is
/// translated); an invalid or unsupported pattern is an [`Error::InvalidParam`] naming the
/// pattern and the regex error.
pub(crate) fn java_regex(pattern: &str) -> Result<Regex> {
    Regex::new(&translate_java_regex(pattern)).map_err(|e| {
        let reason = e.to_string().replace('\n', " ");
        let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
        Error::param(
            RegexTokenizerParams::STAGE,
            "pattern",
            format!(
                "a valid regular expression (Java syntax without look-around or back-references); the regex engine says: {reason}"
            ),
            format!("{pattern:?}"),
        )
    })
}

const JAVA_SPACE: &str = "\\t\\n\\x0B\\x0C\\r ";
const JAVA_LINE_TERMINATORS: &str = "\\n\\r\\x{85}\\x{2028}\\x{2029}";

/// Java's POSIX and `java.lang.Character` class names (ASCII unless noted).
fn posix_class(name: &str) -> Option<&'static str> {
    Some(match name {
        "Lower" => "a-z",
        "Upper" => "A-Z",
        "ASCII" => "\\x00-\\x7F",
        "Alpha" => "a-zA-Z",
        "Digit" => "0-9",
        "Alnum" => "a-zA-Z0-9",
        "Punct" => "!-/:-@\\[-`{-~",
        "Graph" => "!-~",
        "Print" => " -~",
        "Blank" => " \\t",
        "Cntrl" => "\\x00-\\x1F\\x7F",
        "XDigit" => "0-9a-fA-F",
        "Space" => JAVA_SPACE,
        _ => return None,
    })
}

/// Rewrites the Java-specific parts of `p` into Rust `regex` syntax.
fn translate_java_regex(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    let dotall = p.contains("(?s");
    let mut out = String::with_capacity(p.len() + 16);
    let mut in_class = 0usize;
    let mut i = 0;
    let class = |neg: bool, body: &str| format!("[{}{body}]", if neg { "^" } else { "" });
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if i + 1 < chars.len() => {
                let e = chars[i + 1];
                i += 2;
                match e {
                    's' | 'S' => out.push_str(&class(e == 'S', JAVA_SPACE)),
                    'w' | 'W' => out.push_str(&class(e == 'W', "0-9A-Za-z_")),
                    'd' | 'D' => out.push_str(&class(e == 'D', "0-9")),
                    'h' | 'H' => out.push_str(&class(
                        e == 'H',
                        " \\t\\x{A0}\\x{1680}\\x{180E}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}",
                    )),
                    'v' | 'V' => out.push_str(&class(e == 'V', "\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}")),
                    'R' => out.push_str("(?:\\r\\n|[\\n\\x0B\\x0C\\r\\x{85}\\x{2028}\\x{2029}])"),
                    'e' => out.push_str("\\x1B"),
                    '0' => {
                        let mut v = 0u32;
                        let mut n = 0;
                        while n < 3 && i < chars.len() && chars[i].is_digit(8) {
                            let next = v * 8 + chars[i].to_digit(8).unwrap_or(0);
                            if next > 0o377 {
                                break;
                            }
                            v = next;
                            i += 1;
                            n += 1;
                        }
                        out.push_str(&format!("\\x{{{v:X}}}"));
                    }
                    'Q' => {
                        let mut lit = String::new();
                        while i < chars.len() && !(chars[i] == '\\' && chars.get(i + 1) == Some(&'E')) {
                            lit.push(chars[i]);
                            i += 1;
                        }
                        i = (i + 2).min(chars.len());
                        out.push_str(&regex::escape(&lit));
                    }
                    'p' | 'P' if chars.get(i) == Some(&'{') => {
                        let end = chars[i..].iter().position(|&c| c == '}').map(|k| i + k);
                        let Some(end) = end else {
                            out.push('\\');
                            out.push(e);
                            continue;
                        };
                        let name: String = chars[i + 1..end].iter().collect();
                        i = end + 1;
                        let name = name.strip_prefix("Is").unwrap_or(&name).to_string();
                        match posix_class(&name) {
                            Some(body) => out.push_str(&class(e == 'P', body)),
                            None => out.push_str(&format!("\\{e}{{{name}}}")),
                        }
                    }
                    _ => {
                        out.push('\\');
                        out.push(e);
                    }
                }
                continue;
            }
            '[' => {
                in_class += 1;
                out.push('[');
                i += 1;
                // A `]` right after `[` or `[^` is a literal.
                if chars.get(i) == Some(&'^') {
                    out.push('^');
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    out.push_str("\\]");
                    i += 1;
                }
                continue;
            }
            ']' if in_class > 0 => in_class -= 1,
            '.' if in_class == 0 && !dotall => {
                out.push_str(&format!("[^{JAVA_LINE_TERMINATORS}]"));
                i += 1;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

impl Stage for RegexTokenizer {
    fn kind(&self) -> &'static str {
        "RegexTokenizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = RegexTokenizerParams::STAGE;
        self.params.validate()?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        text::require_string(input, stage, i)?;
        schema::append_field(input, stage, text::string_list_field(o))
    }
}

impl Transformer for RegexTokenizer {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = RegexTokenizerParams::STAGE;
        let out = self.transform_schema(df.schema())?;
        let p = &self.params;
        let (i, o) = unary_cols(stage, &p.input_col, &p.output_col)?;
        let field = out.field_with_name(o)?.clone();
        let re = java_regex(&p.pattern)?;
        text::strings_to_lists(df, stage, i, field, |s, b| {
            tokenize(p, &re, s, &mut String::new(), b)
        })
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// One string's tokens, as Spark's RegexTokenizer gives them (`lower` holds the
/// lowercased text when `toLowercase`).
fn tokenize(
    p: &RegexTokenizerParams,
    re: &Regex,
    s: &str,
    lower: &mut String,
    out: &mut impl text::TokenSink,
) {
    let min = p.min_token_length as usize;
    let s = if p.to_lowercase {
        text::java_lowercase_in(s, "en", lower)
    } else {
        s
    };
    let mut emit = |t: &str| {
        // UTF-16 length >= byte length / 3, and == byte length for ASCII.
        if t.len() >= min && (t.len() >= 3 * min || java_len(t) >= min) {
            out.push_token(t);
        }
    };
    if p.gaps {
        java_split(re, s, &mut emit);
    } else {
        for m in re.find_iter(s) {
            emit(m.as_str());
        }
    }
}

/// Java's `Pattern.split(s)` (limit 0): no leading empty piece for a zero-width match at
/// the start, the whole string when nothing matches, trailing empty pieces removed.
fn java_split(re: &Regex, s: &str, emit: &mut impl FnMut(&str)) {
    let mut index = 0;
    let mut matched = false;
    let mut pending_empty = 0usize;
    let mut push = |piece: &str, emit: &mut dyn FnMut(&str)| {
        if piece.is_empty() {
            pending_empty += 1;
        } else {
            for _ in 0..pending_empty {
                emit("");
            }
            pending_empty = 0;
            emit(piece);
        }
    };
    for m in re.find_iter(s) {
        if index == 0 && m.start() == 0 && m.end() == 0 {
            continue;
        }
        matched = true;
        push(&s[index..m.start()], emit);
        index = m.end();
    }
    if !matched {
        emit(s);
        return;
    }
    push(&s[index..], emit);
}

impl Model for RegexTokenizer {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(RegexTokenizer, "org.apache.spark.ml.feature.RegexTokenizer");

// ---- Row form (crate::row) ----

impl crate::row::RowStage for RegexTokenizer {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = RegexTokenizerParams::STAGE;
        let p = self.params.clone();
        let (i, o) = unary_cols(stage, &p.input_col, &p.output_col)?;
        let re = java_regex(&p.pattern)?;
        Ok(Some(Box::new(super::tokenizer::TextRow {
            stage,
            input: super::tokenizer::text_field(plan, stage, i)?,
            column: i.to_string(),
            out: plan.add_list(o),
            split: Box::new(move |s, lower, out| tokenize(&p, &re, s, lower, out)),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(p: &str, s: &str) -> Vec<String> {
        let re = java_regex(p).unwrap();
        let mut v = Vec::new();
        java_split(&re, s, &mut |t| v.push(t.to_string()));
        v
    }

    #[test]
    fn java_pattern_split() {
        // Java 17: Pattern.compile(p).split(s).
        assert_eq!(split("\\s+", " a  b "), ["", "a", "b"]);
        assert_eq!(split("\\s+", ""), [""]);
        assert_eq!(split("\\s+", "   "), Vec::<String>::new());
        assert_eq!(split("", "abc"), ["a", "b", "c"]);
        assert_eq!(split(",", "a,,b,,"), ["a", "", "b"]);
    }

    #[test]
    fn java_classes_are_ascii() {
        let re = java_regex("\\w+").unwrap();
        assert_eq!(
            re.find_iter("σας abc_1")
                .map(|m| m.as_str())
                .collect::<Vec<_>>(),
            ["abc_1"]
        );
        let re = java_regex("[\\s,]+").unwrap();
        assert!(!re.is_match("a\u{a0}b"));
        assert!(re.is_match("a, b"));
        let re = java_regex("\\p{Punct}").unwrap();
        assert!(re.is_match("!") && !re.is_match("¡"));
        let re = java_regex("\\Qa.b\\E").unwrap();
        assert!(re.is_match("a.b") && !re.is_match("axb"));
        let re = java_regex("a.b").unwrap();
        assert!(!re.is_match("a\rb") && re.is_match("a-b"));
        assert!(java_regex("\\p{IsLatin}+").unwrap().is_match("é"));
    }

    #[test]
    fn unsupported_patterns_name_the_pattern() {
        let err = java_regex("(?<=a)b").unwrap_err().to_string();
        assert!(
            err.starts_with(
                "RegexTokenizer: parameter `pattern` must be a valid regular expression"
            ),
            "{err}"
        );
        assert!(err.ends_with("got \"(?<=a)b\""), "{err}");
        assert!(
            err.contains("look-around") && err.contains("not supported"),
            "{err}"
        );
    }
}
