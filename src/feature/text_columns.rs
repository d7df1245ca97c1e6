//! What the text stages share: string and string-list (`List<Utf8>`) columns, Java's
//! lowercasing, Java's string order, and the error for a null value.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, GenericListArray, ListArray, ListBuilder, StringArray, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};

/// `List<Utf8>` with nullable items: Spark's `array<string>` (containsNull = true).
pub(crate) fn string_list_type() -> DataType {
    DataType::List(item_field())
}

fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Finds a string column (`Utf8`, `LargeUtf8` or `Utf8View`) or fails naming its type.
pub(crate) fn require_string<'a>(
    input: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<&'a Field> {
    let (_, f) = schema::require_column(input, stage, name)?;
    if !is_string(f.data_type()) {
        return Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a string column (Utf8)".into(),
            found: f.data_type().clone(),
        });
    }
    Ok(f)
}

/// Finds a list-of-strings column (`List<Utf8>`, also `LargeList` or `Utf8View` items) or
/// fails naming its type.
pub(crate) fn require_string_list<'a>(
    input: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<&'a Field> {
    let (_, f) = schema::require_column(input, stage, name)?;
    let ok = match f.data_type() {
        DataType::List(item) | DataType::LargeList(item) => is_string(item.data_type()),
        _ => false,
    };
    if !ok {
        return Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a list of strings (List<Utf8>), e.g. the output of Tokenizer".into(),
            found: f.data_type().clone(),
        });
    }
    Ok(f)
}

/// A checked string column as `Utf8` (no copy when it already is).
pub(crate) fn string_array(arr: &ArrayRef) -> Result<StringArray> {
    Ok(match arr.data_type() {
        DataType::Utf8 => arr.as_string::<i32>().clone(),
        _ => cast(arr, &DataType::Utf8)?.as_string::<i32>().clone(),
    })
}

/// A checked list-of-strings column as `List<Utf8>` (no copy when it already is).
pub(crate) fn string_list_array(arr: &ArrayRef) -> Result<ListArray> {
    if let DataType::List(item) = arr.data_type() {
        if item.data_type() == &DataType::Utf8 {
            return Ok(arr.as_list::<i32>().clone());
        }
    }
    Ok(cast(arr, &string_list_type())?.as_list::<i32>().clone())
}

/// The strings of a `List<Utf8>` array: values, and row `r`'s range in them.
pub(crate) struct StringLists<'a> {
    list: &'a GenericListArray<i32>,
    values: &'a StringArray,
}

impl<'a> StringLists<'a> {
    /// A view of `list`, whose items must be `Utf8` (see [`string_list_array`]).
    pub(crate) fn new(list: &'a ListArray) -> Result<Self> {
        let values = list.values().as_string_opt::<i32>().ok_or_else(|| {
            Error::Internal(format!(
                "string list with {} items passed the type check",
                list.values().data_type()
            ))
        })?;
        Ok(Self { list, values })
    }

    /// Whether row `r` is null.
    pub(crate) fn is_null(&self, r: usize) -> bool {
        self.list.is_null(r)
    }

    /// The items of row `r` (`None` for a null item).
    pub(crate) fn row(&self, r: usize) -> impl Iterator<Item = Option<&'a str>> + 'a {
        let o = self.list.value_offsets();
        let (a, b) = (o[r] as usize, o[r + 1] as usize);
        let values = self.values;
        (a..b).map(move |i| values.is_valid(i).then(|| values.value(i)))
    }

    /// The number of items of row `r`.
    pub(crate) fn row_len(&self, r: usize) -> usize {
        let o = self.list.value_offsets();
        (o[r + 1] - o[r]) as usize
    }
}

/// A `List<Utf8>` column built row by row from string column `input`: `f` appends one
/// row's items to the builder's values (the row is then closed). Partitions run in
/// parallel. A null string is an error, as in Spark (whose UDF fails on it).
pub(crate) fn strings_to_lists<F>(
    df: &DataFrame,
    stage: &'static str,
    input: &str,
    output: Field,
    f: F,
) -> Result<DataFrame>
where
    F: Fn(&str, &mut StringBuilder) + Sync,
{
    let chunks = df.map_partitions(|p, b| {
        let s = string_array(schema::batch_column(b, input)?)?;
        let bytes = s.value_data().len();
        let mut out = ListBuilder::with_capacity(
            StringBuilder::with_capacity(s.len() * 4, bytes + bytes / 8),
            s.len(),
        )
        .with_field(item_field());
        for r in 0..s.len() {
            if s.is_null(r) {
                return Err(null_value(stage, input, p, r, "string"));
            }
            f(s.value(r), out.values());
            out.append(true);
        }
        Ok(Arc::new(out.finish()) as ArrayRef)
    })?;
    df.with_column(output, chunks)
}

/// A `List<Utf8>` column built row by row from list-of-strings column `input`: `f` appends
/// row `r`'s items to the builder's values (the row is then closed). A null list is an
/// error, as in Spark.
pub(crate) fn lists_to_lists<F>(
    df: &DataFrame,
    stage: &'static str,
    input: &str,
    output: Field,
    f: F,
) -> Result<DataFrame>
where
    F: Fn(&StringLists<'_>, usize, &mut StringBuilder) + Sync,
{
    let chunks = df.map_partitions(|p, b| {
        let list = string_list_array(schema::batch_column(b, input)?)?;
        let rows = StringLists::new(&list)?;
        let mut out =
            ListBuilder::with_capacity(StringBuilder::new(), list.len()).with_field(item_field());
        for r in 0..list.len() {
            if rows.is_null(r) {
                return Err(null_value(stage, input, p, r, "list"));
            }
            f(&rows, r, out.values());
            out.append(true);
        }
        Ok(Arc::new(out.finish()) as ArrayRef)
    })?;
    df.with_column(output, chunks)
}

fn item_field() -> Arc<Field> {
    Arc::new(Field::new("item", DataType::Utf8, true))
}

/// The output field of a text stage: `List<Utf8>`, not nullable (Spark's
/// `array<string>`, nullable = false).
pub(crate) fn string_list_field(name: &str) -> Field {
    Field::new(name, string_list_type(), false)
}

impl crate::frame::Column {
    /// The rows of a list-of-strings column (the output of [`Tokenizer`] and the other text
    /// stages), for inspection and tests.
    ///
    /// [`Tokenizer`]: crate::feature::Tokenizer
    ///
    /// # Errors
    /// [`Error::ColumnType`] if the column is not a list of strings; [`Error::Frame`] for a
    /// null list or a null item (read the Arrow arrays in `chunks` to see nulls).
    pub fn string_lists(&self) -> Result<Vec<Vec<String>>> {
        let name = self.field.name();
        let schema = Schema::new(vec![self.field.clone()]);
        require_string_list(&schema, "Column::string_lists", name)?;
        let mut out = Vec::with_capacity(self.len());
        for chunk in &self.chunks {
            let list = string_list_array(chunk)?;
            let rows = StringLists::new(&list)?;
            for r in 0..list.len() {
                if rows.is_null(r) {
                    return Err(Error::Frame(format!(
                        "column `{name}`: row {} is null",
                        out.len()
                    )));
                }
                let row = rows
                    .row(r)
                    .map(|t| t.map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Error::Frame(format!(
                            "column `{name}`: row {} holds a null item",
                            out.len()
                        ))
                    })?;
                out.push(row);
            }
        }
        Ok(out)
    }
}

/// The error for a null text value, which Spark's UDF-based text stages reject.
pub(crate) fn null_value(
    stage: &'static str,
    column: &str,
    partition: usize,
    row: usize,
    what: &str,
) -> Error {
    Error::InvalidValue {
        stage,
        column: column.to_string(),
        partition,
        row,
        what: format!("null {what}"),
        hint: format!(
            "Spark fails on it too; drop or fill the nulls first (DataFrame::drop_invalid([\"{column}\"]))"
        ),
    }
}

/// Where a text stage's per-row function writes its tokens: the batch column's builder,
/// or a row scorer's reusable list ([`crate::row::StrList`]).
pub(crate) trait TokenSink {
    /// Appends one token.
    fn push_token(&mut self, s: &str);
}

impl TokenSink for StringBuilder {
    fn push_token(&mut self, s: &str) {
        self.append_value(s);
    }
}

impl TokenSink for crate::row::StrList {
    fn push_token(&mut self, s: &str) {
        self.push(s);
    }
}

/// [`java_lowercase`] into a reusable buffer: ASCII text is lowercased without allocating
/// (other text goes through `java_lowercase`).
pub(crate) fn java_lowercase_in<'s>(s: &'s str, locale: &str, buf: &'s mut String) -> &'s str {
    if s.bytes().all(|b| !b.is_ascii_uppercase() && b < 0x80) {
        return s;
    }
    let turkic = locale_language(locale).is_some_and(|l| l == "tr" || l == "az");
    buf.clear();
    if s.is_ascii() && !turkic {
        buf.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        buf.push_str(&java_lowercase(s, locale));
    }
    buf
}

/// Java's `String.toLowerCase(locale)`: Unicode full lowercasing (with the final-sigma rule),
/// plus the Turkish and Azeri dotted/dotless i rules when `locale` is `tr` or `az`.
///
/// Lithuanian's dot-above rules are not reproduced (Rust's lowercasing is the root
/// locale's).
pub(crate) fn java_lowercase<'s>(s: &'s str, locale: &str) -> Cow<'s, str> {
    let turkic = locale_language(locale).is_some_and(|l| l == "tr" || l == "az");
    if s.bytes().all(|b| !b.is_ascii_uppercase() && b < 0x80) {
        return Cow::Borrowed(s);
    }
    if !turkic {
        return Cow::Owned(s.to_lowercase());
    }
    // Mask I and İ (private-use placeholders lowercase to themselves), lowercase with the
    // standard rules (which keep the final-sigma rule), then apply the Turkic i rules.
    let masked: String = s
        .chars()
        .map(|c| match c {
            'I' => '\u{E000}',
            'İ' => '\u{E001}',
            c => c,
        })
        .collect();
    let lower = masked.to_lowercase();
    let mut out = String::with_capacity(lower.len());
    let mut chars = lower.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            // "I" + COMBINING DOT ABOVE is a dotted i; a lone "I" is dotless.
            '\u{E000}' if chars.peek() == Some(&'\u{307}') => {
                chars.next();
                out.push('i');
            }
            '\u{E000}' => out.push('ı'),
            '\u{E001}' => out.push('i'),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The language part of a Java locale string (`"tr_TR"` -> `"tr"`).
fn locale_language(locale: &str) -> Option<&str> {
    locale.split(['_', '-']).next().filter(|l| !l.is_empty())
}

/// Java's `String.compareTo`: UTF-16 code-unit order (differs from UTF-8 byte order for
/// characters above U+FFFF against U+E000..U+FFFF).
pub(crate) fn java_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Java's `String.length()`: UTF-16 code units.
pub(crate) fn java_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().map(char::len_utf16).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_lowercasing() {
        // Values from Java 17's String.toLowerCase(Locale) (see also the Spark fixtures).
        assert_eq!(java_lowercase("HeLLo", "en"), "hello");
        assert_eq!(java_lowercase("ΣΑΣ", "en"), "σας");
        assert_eq!(java_lowercase("İSTANBUL", "en"), "i\u{307}stanbul");
        assert_eq!(java_lowercase("İSTANBUL", "tr"), "istanbul");
        assert_eq!(java_lowercase("ISTANBUL ΣΑΣ", "tr_TR"), "ıstanbul σας");
        assert_eq!(java_lowercase("already lower", "tr"), "already lower");
    }

    #[test]
    fn java_order_and_length() {
        use std::cmp::Ordering::Less;
        assert_eq!(java_cmp("é", "😀"), Less);
        assert_eq!(
            java_cmp("😀", "\u{ffff}"),
            Less,
            "surrogates sort below U+FFFF"
        );
        assert_eq!(java_len("😀a"), 3);
        assert_eq!(java_len("abc"), 3);
    }
}
