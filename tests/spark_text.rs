//! The text stages against Spark 4.3: outputs, Spark-saved stages loaded by mlpipe, and
//! save -> load round trips. Fixtures: tests/fixtures/spark_text (made by
//! tests/pyspark/make_text_fixtures.py). Tokens are compared exactly.

mod common;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder};
use mlpipe::feature::{NGram, RegexTokenizer, StopWordsRemover, Tokenizer};
use mlpipe::persist::load_stage;
use mlpipe::prelude::*;
use serde_json::Value;

fn fixtures() -> String {
    format!("{}/tests/fixtures/spark_text", common::repo_root().display())
}

fn expected() -> Value {
    let text = std::fs::read_to_string(format!("{}/expected.json", fixtures())).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn stage_dir(name: &str) -> String {
    format!("{}/stages/{name}", fixtures())
}

/// The fixture corpus (`id`, `text`) in two partitions, as Spark's run had.
fn texts() -> DataFrame {
    let e = expected();
    let rows = e["texts"].as_array().unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();
    let texts: Vec<&str> = rows.iter().map(|r| r[1].as_str().unwrap()).collect();
    let half = ids.len() / 2;
    let batch = |a: usize, b: usize| {
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(ids[a..b].to_vec())) as ArrayRef),
            ("text", Arc::new(StringArray::from(texts[a..b].to_vec())) as ArrayRef),
        ])
        .unwrap()
    };
    DataFrame::from_batches(vec![batch(0, half), batch(half, ids.len())]).unwrap()
}

/// A list-of-strings column from JSON rows `[id, [tokens...], ...]` (column `k` of each row).
fn lists(rows: &[Value], k: usize) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for r in rows {
        for t in r[k].as_array().unwrap() {
            b.values().append_option(t.as_str());
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

/// The rows of a list-of-strings column, nulls as `None`.
fn list_rows(df: &DataFrame, col: &str) -> Vec<Vec<Option<String>>> {
    let mut out = Vec::new();
    for c in df.column(col).unwrap().chunks {
        let l = c.as_list::<i32>();
        for r in 0..l.len() {
            let v = l.value(r);
            let s = v.as_string::<i32>();
            out.push((0..s.len()).map(|i| s.is_valid(i).then(|| s.value(i).to_string())).collect());
        }
    }
    out
}

fn json_lists(rows: &Value, k: usize) -> Vec<Vec<Option<String>>> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r[k].as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Loads the Spark-saved stage of `case`, runs it on `df` and checks column `col` against
/// Spark's output (rows by id; `skip` lists ids left out, with the reason at the caller).
fn check_case(case: &str, df: &DataFrame, col: &str, skip: &[i64]) {
    let e = expected();
    let stage = load_stage(std::path::Path::new(&stage_dir(case))).unwrap();
    let out = stage.transform(df).unwrap();
    let got = list_rows(&out, col);
    let ids = common::f64_column(&out.select(["id"]).unwrap(), "id");
    let want = json_lists(&e["cases"][case]["output"], 1);
    assert_eq!(got.len(), want.len(), "{case}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if skip.contains(&(ids[i] as i64)) {
            continue;
        }
        assert_eq!(g, w, "{case}: row id {}", ids[i]);
    }
    // mlpipe's save of the loaded stage loads back and gives the same output.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(case);
    stage.as_ref().save(&path).unwrap();
    let back = load_stage(&path).unwrap();
    assert_eq!(back.params_json(), stage.params_json(), "{case}");
    assert_eq!(list_rows(&back.transform(df).unwrap(), col), got, "{case}");
}

#[test]
fn tokenizers_match_spark() {
    let df = texts();
    check_case("tokenizer", &df, "words", &[]);
    for case in [
        "regex_default",
        "regex_words",
        "regex_punct",
        "regex_min0",
        "regex_nonspace",
        "regex_letters",
    ] {
        check_case(case, &df, "toks", &[]);
    }
    // Row 6 holds an emoji: Java's zero-width split cuts between its two UTF-16 surrogates
    // (Spark returns two lone surrogates, not valid Unicode); mlpipe keeps the character.
    check_case("regex_zero_width", &df, "toks", &[6]);
}

#[test]
fn tokenizer_built_in_rust_matches_the_saved_one() {
    let df = texts();
    let tok = Tokenizer::new().with_input_col("text").with_output_col("words");
    let spark = load_stage(std::path::Path::new(&stage_dir("tokenizer"))).unwrap();
    assert_eq!(
        list_rows(&tok.transform(&df).unwrap(), "words"),
        list_rows(&spark.transform(&df).unwrap(), "words")
    );
    // The Spark defaults of RegexTokenizer.
    let r = RegexTokenizer::new();
    let p = r.params_json();
    assert_eq!(p["pattern"], "\\s+");
    assert_eq!(p["gaps"], true);
    assert_eq!(p["minTokenLength"], 1);
    assert_eq!(p["toLowercase"], true);
    assert!(p["outputCol"].as_str().unwrap().starts_with("regexTok_"));
}

fn lists_df() -> DataFrame {
    let e = expected();
    let rows = e["cases"]["stop_multi"]["output"].as_array().unwrap().clone();
    // The inputs of the StopWordsRemover cases (tests/pyspark/make_text_fixtures.py LISTS).
    let raw = serde_json::json!([
        [0, ["I", "The", "spark", "THE", null, "Don't"], ["a", "b"]],
        [1, ["Ich", "bin", "ein", "Berliner", "und", "DAS"], ["über", "der"]],
        [2, [], ["IS", "is", "Is"]],
        [3, ["İstanbul", "ISTANBUL", "ıi", "istanbul"], ["ve", "VE"]],
        [4, ["straße", "STRASSE", "ΣΑΣ", "σας"], []]
    ]);
    let raw = raw.as_array().unwrap();
    assert_eq!(raw.len(), rows.len());
    let ids: Vec<i64> = raw.iter().map(|r| r[0].as_i64().unwrap()).collect();
    let b = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("raw", lists(raw, 1)),
        ("raw2", lists(raw, 2)),
    ])
    .unwrap();
    DataFrame::from_batches(vec![b]).unwrap()
}

#[test]
fn stop_words_match_spark() {
    let df = lists_df();
    for case in [
        "stop_default",
        "stop_case_sensitive",
        "stop_german",
        "stop_custom_tr",
        "stop_custom_en",
    ] {
        check_case(case, &df, "filtered", &[]);
    }
    let e = expected();
    let stage = load_stage(std::path::Path::new(&stage_dir("stop_multi"))).unwrap();
    let out = stage.transform(&df).unwrap();
    assert_eq!(list_rows(&out, "f1"), json_lists(&e["cases"]["stop_multi"]["output"], 1));
    assert_eq!(list_rows(&out, "f2"), json_lists(&e["cases"]["stop_multi"]["output"], 2));

    // Built in Rust with the defaults: Spark's English list, case-insensitive.
    let swr = StopWordsRemover::new().with_input_col("raw").with_output_col("filtered");
    assert_eq!(
        list_rows(&swr.transform(&df).unwrap(), "filtered"),
        json_lists(&e["cases"]["stop_default"]["output"], 1)
    );
    let spark_default = load_stage(std::path::Path::new(&stage_dir("stop_default"))).unwrap();
    assert_eq!(
        swr.params_json()["stopWords"],
        spark_default.params_json()["stopWords"],
        "the default list is Spark's"
    );
}

#[test]
fn ngrams_and_stop_words_on_tokens_match_spark() {
    let tok = Tokenizer::new().with_input_col("text").with_output_col("words");
    let df = tok.transform(&texts()).unwrap();
    for case in ["ngram1", "ngram2", "ngram3"] {
        check_case(case, &df, "grams", &[]);
    }
    check_case("stop_words_tok", &df, "filtered", &[]);
    let out = NGram::new()
        .with_n(3)
        .with_input_col("words")
        .with_output_col("grams")
        .transform(&df)
        .unwrap();
    assert_eq!(list_rows(&out, "grams"), json_lists(&expected()["cases"]["ngram3"]["output"], 1));
}

#[test]
fn bad_input_is_a_clear_error() {
    // Spark fails on a null text value in every text stage (expected.json "nulls").
    let e = expected();
    for k in ["tokenizer", "regex_tokenizer", "stop_words", "ngram"] {
        assert!(e["nulls"][k]["error"].is_string(), "{k}");
    }
    let text: ArrayRef = Arc::new(StringArray::from(vec![Some("a b"), None]));
    let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)]).unwrap()])
        .unwrap();
    let err = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("w")
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Tokenizer: null string in column `text` (partition 0, row 1); Spark fails on it too; \
         drop or fill the nulls first (DataFrame::drop_invalid([\"text\"]))"
    );
    let err = RegexTokenizer::new()
        .with_input_col("text")
        .with_output_col("w")
        .transform(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("RegexTokenizer: null string in column `text` (partition 0, row 1)"));

    // A non-string column (Spark: "Input type must be string type but got double.").
    let x: ArrayRef = Arc::new(arrow::array::Float64Array::from(vec![1.5]));
    let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", x)]).unwrap()])
        .unwrap();
    let err = Tokenizer::new().with_input_col("text").transform(&df).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Tokenizer: column `text` has type Float64, expected a string column (Utf8)"
    );
    let err = NGram::new().with_input_col("text").transform(&df).unwrap_err();
    assert_eq!(
        err.to_string(),
        "NGram: column `text` has type Float64, expected a list of strings (List<Utf8>), e.g. the output of Tokenizer"
    );

    // An invalid regex names the pattern and the regex error.
    let err = RegexTokenizer::new()
        .with_input_col("text")
        .with_pattern("[a-")
        .transform(&df)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("RegexTokenizer: parameter `pattern` must be a valid regular expression"), "{err}");
    assert!(err.contains("unclosed character class"), "{err}");
    assert!(err.ends_with("got \"[a-\""), "{err}");
    let err = RegexTokenizer::new().with_min_token_length(-1).with_input_col("text").transform(&df);
    assert_eq!(
        err.unwrap_err().to_string(),
        "RegexTokenizer: parameter `minTokenLength` must be >= 0, got -1"
    );
    let err = NGram::new().with_n(0).with_input_col("text").transform(&df).unwrap_err();
    assert_eq!(err.to_string(), "NGram: parameter `n` must be >= 1, got 0");
    let err = StopWordsRemover::new()
        .with_input_col("text")
        .with_locale("xx")
        .transform(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("StopWordsRemover: parameter `locale` must be one of Java's available locales"));

    // A null list.
    let mut b = ListBuilder::new(StringBuilder::new());
    b.values().append_value("a");
    b.append(true);
    b.append(false);
    let l: ArrayRef = Arc::new(b.finish());
    let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("w", l)]).unwrap()]).unwrap();
    let err = StopWordsRemover::new()
        .with_input_col("w")
        .with_output_col("f")
        .transform(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with("StopWordsRemover: null list in column `w` (partition 0, row 1)"));
    // An existing output column.
    let err = NGram::new().with_input_col("w").with_output_col("w").transform(&df).unwrap_err();
    assert!(err.to_string().starts_with("NGram: output column `w` already exists"));
}
