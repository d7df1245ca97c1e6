//! [`StopWordsRemover`]: drop stop words from lists of strings, with Spark's default lists.

use std::sync::OnceLock;

use ahash::AHashSet;
use arrow::datatypes::{Field, Schema};
use serde::{Deserialize, Serialize};

use super::columns::{in_out_cols, InOutCols};
use super::text_columns::{self as text, java_lowercase};
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// The languages whose stop-word lists Spark ships, each list as Spark 4.3's
/// `StopWordsRemover.loadDefaultStopWords(language)` returns it (one word per line).
const LISTS: &[(&str, &str)] = &[
    ("danish", include_str!("stopwords/danish.txt")),
    ("dutch", include_str!("stopwords/dutch.txt")),
    ("english", include_str!("stopwords/english.txt")),
    ("finnish", include_str!("stopwords/finnish.txt")),
    ("french", include_str!("stopwords/french.txt")),
    ("german", include_str!("stopwords/german.txt")),
    ("hungarian", include_str!("stopwords/hungarian.txt")),
    ("italian", include_str!("stopwords/italian.txt")),
    ("norwegian", include_str!("stopwords/norwegian.txt")),
    ("portuguese", include_str!("stopwords/portuguese.txt")),
    ("russian", include_str!("stopwords/russian.txt")),
    ("spanish", include_str!("stopwords/spanish.txt")),
    ("swedish", include_str!("stopwords/swedish.txt")),
    ("turkish", include_str!("stopwords/turkish.txt")),
];

/// Java's `Locale.getAvailableLocales()` names (Java 17, as Spark 4.3 runs), which Spark
/// validates `locale` against.
const LOCALES: &str = include_str!("stopwords/locales.txt");

/// The default locale: Spark uses the JVM's default locale, or `en_US` when that one is
/// not available; mlpipe has no JVM default and uses Spark's fallback.
pub const DEFAULT_LOCALE: &str = "en_US";

/// Spark's default stop words for `language` (see [`StopWordsRemover::load_default_stop_words`]).
fn load_default(language: &str) -> Result<Vec<String>> {
    LISTS
        .iter()
        .find(|(l, _)| *l == language)
        .map(|(_, words)| words.split('\n').map(str::to_string).collect())
        .ok_or_else(|| {
            Error::param(
                "StopWordsRemover",
                "language",
                format!(
                    "one of {:?}",
                    LISTS.iter().map(|(l, _)| *l).collect::<Vec<_>>()
                ),
                format!("{language:?}"),
            )
        })
}

fn english() -> &'static [String] {
    static EN: OnceLock<Vec<String>> = OnceLock::new();
    EN.get_or_init(|| load_default("english").unwrap_or_default())
}

/// Params of [`StopWordsRemover`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StopWordsRemoverParams {
    /// Single-column mode: the input column (`List<Utf8>`).
    pub input_col: Option<String>,
    /// Multi-column mode: the input columns.
    pub input_cols: Option<Vec<String>>,
    /// Single-column mode: the output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// Multi-column mode: one output column per input column.
    pub output_cols: Option<Vec<String>>,
    /// The words to drop; default Spark's English list.
    pub stop_words: Vec<String>,
    /// Compare case-sensitively; default `false`.
    pub case_sensitive: bool,
    /// The locale whose lowercasing compares words when not case-sensitive (a Java
    /// locale name such as `en_US` or `tr`); default `en_US`.
    pub locale: String,
}

impl Default for StopWordsRemoverParams {
    fn default() -> Self {
        Self {
            input_col: None,
            input_cols: None,
            output_col: None,
            output_cols: None,
            stop_words: english().to_vec(),
            case_sensitive: false,
            locale: DEFAULT_LOCALE.into(),
        }
    }
}

in_out_cols!(StopWordsRemoverParams);

impl Params for StopWordsRemoverParams {
    const STAGE: &'static str = "StopWordsRemover";
    fn validate(&self) -> Result<()> {
        if !LOCALES.split('\n').any(|l| l == self.locale) {
            return Err(Error::param(
                Self::STAGE,
                "locale",
                "one of Java's available locales (StopWordsRemover::available_locales(), e.g. \"en_US\", \"tr\")",
                format!("{:?}", self.locale),
            ));
        }
        self.pairs(Self::STAGE).map(|_| ())
    }
}

/// Drops stop words from lists of strings, like Spark's
/// `org.apache.spark.ml.feature.StopWordsRemover`.
///
/// The default list is Spark's English one (181 words); Spark's lists for 14 languages
/// are at hand through [`StopWordsRemover::load_default_stop_words`]. Unless
/// `caseSensitive`, words and stop words are compared after lowercasing in `locale`
/// (Java's rules; `tr` and `az` lowercase `I` to dotless `ı`). Null items are kept. Works
/// on one column (`inputCol`/`outputCol`) or several (`inputCols`/`outputCols`).
///
/// The inputs must be lists of strings (`List<Utf8>`); a null list is an error, as in
/// Spark.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{StopWordsRemover, Tokenizer};
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["The cat and THE hat"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let df = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let out = StopWordsRemover::new().with_input_col("words").with_output_col("kept").transform(&df)?;
/// assert_eq!(out.column("kept")?.string_lists()?[0], ["cat", "hat"]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StopWordsRemover {
    uid: String,
    params: StopWordsRemoverParams,
}

super::columns::stage_basics!(
    StopWordsRemover,
    StopWordsRemoverParams,
    "stopWords",
    |uid| StopWordsRemoverParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
);

impl StopWordsRemover {
    super::columns::multi_column_setters!();
    /// The words to drop; default Spark's English list.
    pub fn with_stop_words(mut self, words: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.stop_words = super::columns::names(words);
        self
    }
    /// Case-sensitive comparison; default `false`.
    pub fn with_case_sensitive(mut self, b: bool) -> Self {
        self.params.case_sensitive = b;
        self
    }
    /// The Java locale used to lowercase; default `en_US`.
    pub fn with_locale(mut self, locale: &str) -> Self {
        self.params.locale = locale.into();
        self
    }
    /// Spark's default stop words for `language` (`"english"`, `"french"`, ...; see
    /// [`Self::supported_languages`]), like Spark's `StopWordsRemover.loadDefaultStopWords`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for another language, naming the supported ones.
    ///
    /// # Examples
    /// ```
    /// use mlpipe::feature::StopWordsRemover;
    /// let en = StopWordsRemover::load_default_stop_words("english").unwrap();
    /// assert_eq!(en.len(), 181);
    /// assert!(en.contains(&"don't".to_string()));
    /// assert!(StopWordsRemover::load_default_stop_words("klingon").is_err());
    /// ```
    pub fn load_default_stop_words(language: &str) -> Result<Vec<String>> {
        load_default(language)
    }
    /// The languages Spark ships stop words for.
    pub fn supported_languages() -> Vec<&'static str> {
        LISTS.iter().map(|(l, _)| *l).collect()
    }
    /// The locale names `locale` accepts (Java 17's available locales).
    pub fn available_locales() -> Vec<&'static str> {
        LOCALES.split('\n').collect()
    }
}

impl Stage for StopWordsRemover {
    fn kind(&self) -> &'static str {
        "StopWordsRemover"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = StopWordsRemoverParams::STAGE;
        self.params.validate()?;
        let mut out = input.clone();
        for (ic, oc) in self.params.pairs(stage)? {
            let f = text::require_string_list(input, stage, &ic)?;
            let field = Field::new(oc, text::string_list_type(), f.is_nullable());
            out = schema::append_field(&out, stage, field)?;
        }
        Ok(out)
    }
}

impl Transformer for StopWordsRemover {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = StopWordsRemoverParams::STAGE;
        let out_schema = self.transform_schema(df.schema())?;
        let p = &self.params;
        let locale = p.locale.as_str();
        let words: AHashSet<String> = if p.case_sensitive {
            p.stop_words.iter().cloned().collect()
        } else {
            p.stop_words
                .iter()
                .map(|w| java_lowercase(w, locale).into_owned())
                .collect()
        };
        let mut df = df.clone();
        for (ic, oc) in p.pairs(stage)? {
            let field = out_schema.field_with_name(&oc)?.clone();
            df = text::lists_to_lists(&df, stage, &ic, field, |rows, r, b| {
                for t in rows.row(r) {
                    match t {
                        None => b.append_null(),
                        Some(t) => {
                            let stop = if p.case_sensitive {
                                words.contains(t)
                            } else {
                                words.contains(java_lowercase(t, locale).as_ref())
                            };
                            if !stop {
                                b.append_value(t);
                            }
                        }
                    }
                }
            })?;
        }
        Ok(df)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for StopWordsRemover {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(
    StopWordsRemover,
    "org.apache.spark.ml.feature.StopWordsRemover"
);

// ---- Row form (crate::row) ----

impl crate::row::RowStage for StopWordsRemover {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = StopWordsRemoverParams::STAGE;
        let p = &self.params;
        // The stop words as the batch form matches them (lowercased unless case-sensitive).
        let words: AHashSet<String> = if p.case_sensitive {
            p.stop_words.iter().cloned().collect()
        } else {
            p.stop_words
                .iter()
                .map(|w| java_lowercase(w, &p.locale).into_owned())
                .collect()
        };
        let mut cols = Vec::new();
        for (ic, oc) in p.pairs(stage)? {
            cols.push((plan.list_input(&ic)?, plan.add_list(&oc), ic));
        }
        Ok(Some(Box::new(StopWordsRow {
            cols,
            words,
            case_sensitive: p.case_sensitive,
            locale: p.locale.clone(),
        })))
    }
}

#[derive(Debug)]
struct StopWordsRow {
    cols: Vec<(crate::row::ListIn, crate::row::ListOut, String)>,
    words: AHashSet<String>,
    case_sensitive: bool,
    locale: String,
}

impl crate::row::RowOp for StopWordsRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mut lower = row.take_text();
        for (input, output, column) in &self.cols {
            let mut out = row.take_list(*output);
            out.clear();
            let Some(tokens) = row.list(*input) else {
                row.put_text(lower);
                row.put_list(*output, out);
                let r = row.row_index();
                return Err(text::null_value(
                    StopWordsRemoverParams::STAGE,
                    column,
                    0,
                    r,
                    "list",
                ));
            };
            for t in tokens.iter() {
                let stop = if self.case_sensitive {
                    self.words.contains(t)
                } else {
                    self.words
                        .contains(text::java_lowercase_in(t, &self.locale, &mut lower))
                };
                if !stop {
                    out.push(t);
                }
            }
            row.put_list(*output, out);
        }
        row.put_text(lower);
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_lists() {
        // Sizes from PySpark 4.3's loadDefaultStopWords (tests/pyspark/make_text_fixtures.py).
        let sizes = [
            ("danish", 94),
            ("dutch", 101),
            ("english", 181),
            ("finnish", 235),
            ("french", 156),
            ("german", 231),
            ("hungarian", 199),
            ("italian", 279),
            ("norwegian", 176),
            ("portuguese", 203),
            ("russian", 151),
            ("spanish", 313),
            ("swedish", 114),
            ("turkish", 53),
        ];
        for (lang, n) in sizes {
            assert_eq!(load_default(lang).unwrap().len(), n, "{lang}");
        }
        let err = load_default("klingon").unwrap_err().to_string();
        assert!(
            err.starts_with("StopWordsRemover: parameter `language` must be one of [\"danish\""),
            "{err}"
        );
    }

    #[test]
    fn locale_is_checked() {
        let p = StopWordsRemoverParams {
            locale: "xx_YY".into(),
            input_col: Some("a".into()),
            output_col: Some("b".into()),
            ..Default::default()
        };
        let err = p.validate().unwrap_err().to_string();
        assert!(
            err.contains("parameter `locale` must be one of Java's available locales"),
            "{err}"
        );
        assert!(err.ends_with("got \"xx_YY\""), "{err}");
        for l in ["en_US", "en", "tr", "tr_TR", "de_DE"] {
            assert!(StopWordsRemover::available_locales().contains(&l), "{l}");
        }
    }
}
