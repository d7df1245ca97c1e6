//! The text stages against Spark 4.3: outputs, Spark-saved stages loaded by mlpipe, and
//! save -> load round trips. Fixtures: tests/fixtures/spark_text (made by
//! tests/pyspark/make_text_fixtures.py). Tokens are compared exactly.

use crate::common;

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, ListBuilder, RecordBatch, StringArray, StringBuilder,
};
use mlpipe::feature::{NGram, RegexTokenizer, StopWordsRemover, Tokenizer};
use mlpipe::persist::load_stage;
use mlpipe::prelude::*;
use serde_json::Value;

fn fixtures() -> String {
    format!(
        "{}/tests/fixtures/spark_text",
        common::repo_root().display()
    )
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
            (
                "id",
                Arc::new(Int64Array::from(ids[a..b].to_vec())) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from(texts[a..b].to_vec())) as ArrayRef,
            ),
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
            out.push(
                (0..s.len())
                    .map(|i| s.is_valid(i).then(|| s.value(i).to_string()))
                    .collect(),
            );
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
    let tok = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words");
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
    let rows = e["cases"]["stop_multi"]["output"]
        .as_array()
        .unwrap()
        .clone();
    // The inputs of the StopWordsRemover cases (tests/pyspark/make_text_fixtures.py LISTS).
    let raw = serde_json::json!([
        [0, ["I", "The", "spark", "THE", null, "Don't"], ["a", "b"]],
        [
            1,
            ["Ich", "bin", "ein", "Berliner", "und", "DAS"],
            ["über", "der"]
        ],
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
    assert_eq!(
        list_rows(&out, "f1"),
        json_lists(&e["cases"]["stop_multi"]["output"], 1)
    );
    assert_eq!(
        list_rows(&out, "f2"),
        json_lists(&e["cases"]["stop_multi"]["output"], 2)
    );

    // Built in Rust with the defaults: Spark's English list, case-insensitive.
    let swr = StopWordsRemover::new()
        .with_input_col("raw")
        .with_output_col("filtered");
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
    let tok = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words");
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
    assert_eq!(
        list_rows(&out, "grams"),
        json_lists(&expected()["cases"]["ngram3"]["output"], 1)
    );
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
    assert!(err
        .to_string()
        .starts_with("RegexTokenizer: null string in column `text` (partition 0, row 1)"));

    // A non-string column (Spark: "Input type must be string type but got double.").
    let x: ArrayRef = Arc::new(arrow::array::Float64Array::from(vec![1.5]));
    let df =
        DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", x)]).unwrap()]).unwrap();
    let err = Tokenizer::new()
        .with_input_col("text")
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Tokenizer: column `text` has type Float64, expected a string column (Utf8)"
    );
    let err = NGram::new()
        .with_input_col("text")
        .transform(&df)
        .unwrap_err();
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
    assert!(
        err.starts_with("RegexTokenizer: parameter `pattern` must be a valid regular expression"),
        "{err}"
    );
    assert!(err.contains("unclosed character class"), "{err}");
    assert!(err.ends_with("got \"[a-\""), "{err}");
    let err = RegexTokenizer::new()
        .with_min_token_length(-1)
        .with_input_col("text")
        .transform(&df);
    assert_eq!(
        err.unwrap_err().to_string(),
        "RegexTokenizer: parameter `minTokenLength` must be >= 0, got -1"
    );
    let err = NGram::new()
        .with_n(0)
        .with_input_col("text")
        .transform(&df)
        .unwrap_err();
    assert_eq!(err.to_string(), "NGram: parameter `n` must be >= 1, got 0");
    let err = StopWordsRemover::new()
        .with_input_col("text")
        .with_locale("xx")
        .transform(&df)
        .unwrap_err();
    assert!(err.to_string().starts_with(
        "StopWordsRemover: parameter `locale` must be one of Java's available locales"
    ));

    // A null list.
    let mut b = ListBuilder::new(StringBuilder::new());
    b.values().append_value("a");
    b.append(true);
    b.append(false);
    let l: ArrayRef = Arc::new(b.finish());
    let df =
        DataFrame::from_batches(vec![RecordBatch::try_from_iter([("w", l)]).unwrap()]).unwrap();
    let err = StopWordsRemover::new()
        .with_input_col("w")
        .with_output_col("f")
        .transform(&df)
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("StopWordsRemover: null list in column `w` (partition 0, row 1)"));
    // An existing output column.
    let err = NGram::new()
        .with_input_col("w")
        .with_output_col("w")
        .transform(&df)
        .unwrap_err();
    assert!(err
        .to_string()
        .starts_with("NGram: output column `w` already exists"));
}

// ---- the vector stages ----

use mlpipe::feature::{
    CountVectorizer, CountVectorizerModel, FeatureHasher, HashingTF, IDFModel, IDF,
};
use mlpipe::frame::vector::{field_vector_size, At, Row, SparseVectorBuilder, VectorBlock};

/// A vector as the fixture spells it: `Some(size)` for sparse (dense: `None`), indices,
/// values.
type Vec3 = (Option<usize>, Vec<usize>, Vec<f64>);

fn json_vec(v: &Value) -> Vec3 {
    let nums = |k: &str| -> Vec<f64> {
        v[k].as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect())
            .unwrap_or_default()
    };
    match v["size"].as_u64() {
        Some(n) => (
            Some(n as usize),
            nums("indices").iter().map(|i| *i as usize).collect(),
            nums("values"),
        ),
        None => (None, Vec::new(), nums("values")),
    }
}

fn vector_rows(df: &DataFrame, col: &str) -> Vec<Vec3> {
    let c = df.column(col).unwrap();
    let n = field_vector_size(&c.field).expect("a vector column with its size");
    let mut out = Vec::new();
    for (p, chunk) in c.chunks.iter().enumerate() {
        let at = At {
            stage: "test",
            column: col,
            partition: p,
        };
        let block = VectorBlock::new(chunk.as_ref(), n, at).unwrap();
        for r in 0..block.len() {
            out.push(match block.row(r).expect("no null vectors") {
                Row::Dense(v) => (None, Vec::new(), v.to_vec()),
                Row::Sparse {
                    size,
                    indices,
                    values,
                } => (
                    Some(size),
                    indices.iter().map(|i| *i as usize).collect(),
                    values.to_vec(),
                ),
                _ => unreachable!(),
            });
        }
    }
    out
}

/// Compares vectors: layout, size and indices exactly, values to `tol` (relative), with
/// the sign of zeros (Spark keeps `-0.0`).
fn assert_vectors(case: &str, got: &[Vec3], want: &Value, tol: f64) {
    let want: Vec<Vec3> = want
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json_vec(&r[1]))
        .collect();
    assert_eq!(got.len(), want.len(), "{case}");
    for (r, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!((g.0, &g.1), (w.0, &w.1), "{case}: row {r} layout/indices");
        assert_eq!(g.2.len(), w.2.len(), "{case}: row {r}");
        for (a, b) in g.2.iter().zip(&w.2) {
            assert!(
                (a - b).abs() <= tol * b.abs().max(1.0),
                "{case}: row {r}: {a} vs {b}"
            );
            assert_eq!(
                a.is_sign_negative(),
                b.is_sign_negative(),
                "{case}: row {r}: sign of {a} vs {b}"
            );
        }
    }
}

fn words() -> DataFrame {
    Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words")
        .transform(&texts())
        .unwrap()
}

#[test]
fn hashing_tf_indices_match_spark() {
    let e = expected();
    for nf in [1i64 << 18, i32::MAX as i64, 1000] {
        let case = &e["cases"][format!("terms_{nf}")];
        let tf = HashingTF::new().with_num_features(nf);
        for (t, i) in case["terms"]
            .as_array()
            .unwrap()
            .iter()
            .zip(case["index"].as_array().unwrap())
        {
            assert_eq!(
                tf.index_of(t.as_str().unwrap()) as u64,
                i.as_u64().unwrap(),
                "{t} mod {nf}"
            );
        }
    }
    let df = words();
    for case in ["hashing_default", "hashing_small_binary", "hashing_max"] {
        let stage = load_stage(std::path::Path::new(&stage_dir(case))).unwrap();
        let out = stage.transform(&df).unwrap();
        // Counts are integers: exact.
        assert_vectors(
            case,
            &vector_rows(&out, "tf"),
            &e["cases"][case]["output"],
            0.0,
        );
        let dir = tempfile::tempdir().unwrap();
        stage.as_ref().save(dir.path().join("s")).unwrap();
        let back = load_stage(dir.path().join("s")).unwrap();
        assert_eq!(
            vector_rows(&back.transform(&df).unwrap(), "tf"),
            vector_rows(&out, "tf")
        );
    }
    let built = HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf");
    assert_eq!(built.params_json()["numFeatures"], 262144);
    assert_vectors(
        "built",
        &vector_rows(&built.transform(&df).unwrap(), "tf"),
        &e["cases"]["hashing_default"]["output"],
        0.0,
    );
}

fn vocab(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn check_cv(case: &str, df: &DataFrame) {
    let e = expected();
    let c = &e["cases"][case];
    // mlpipe fits the estimator Spark saved.
    let model = CountVectorizer::load(stage_dir(case))
        .unwrap()
        .fit(df)
        .unwrap();
    assert_eq!(
        model.vocabulary(),
        vocab(&c["vocabulary"]),
        "{case}: vocabulary"
    );
    assert_vectors(
        case,
        &vector_rows(&model.transform(df).unwrap(), "counts"),
        &c["output"],
        0.0,
    );
    // Spark's fitted model loads and transforms the same.
    let spark = CountVectorizerModel::load(stage_dir(&format!("{case}_model"))).unwrap();
    assert_eq!(
        spark.vocabulary(),
        vocab(&c["vocabulary"]),
        "{case}: Spark's vocabulary"
    );
    assert_vectors(
        case,
        &vector_rows(&spark.transform(df).unwrap(), "counts"),
        &c["output"],
        0.0,
    );
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path().join("m")).unwrap();
    let back = CountVectorizerModel::load(dir.path().join("m")).unwrap();
    assert_eq!(back.vocabulary(), model.vocabulary());
    assert_eq!(back.params_json(), model.params_json());
}

#[test]
fn count_vectorizer_matches_spark() {
    let df = words();
    for case in [
        "cv_default",
        "cv_vocab5_mindf2",
        "cv_fraction",
        "cv_maxdf_count",
        "cv_mintf_binary",
        "cv_mintf2",
    ] {
        check_cv(case, &df);
    }
    // Ties by count are broken by Java's (UTF-16) string order.
    let e = expected();
    let input = e["cases"]["cv_ties"]["input"].as_array().unwrap().clone();
    let b = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(vec![0i64, 1])) as ArrayRef),
        ("words", lists(&input, 1)),
    ])
    .unwrap();
    check_cv("cv_ties", &DataFrame::from_batches(vec![b]).unwrap());

    let built = CountVectorizer::new()
        .with_input_col("words")
        .with_output_col("counts");
    let p = built.params_json();
    assert_eq!(p["vocabSize"], 262144);
    assert_eq!(p["maxDF"].as_f64(), Some(9.223372036854776e18));
    assert_eq!(
        built.fit(&df).unwrap().vocabulary(),
        vocab(&e["cases"]["cv_default"]["vocabulary"])
    );
}

fn check_idf(case: &str, df: &DataFrame) {
    let e = expected();
    let c = &e["cases"][case];
    let fitted = IDF::load(stage_dir(case)).unwrap().fit(df).unwrap();
    let spark = IDFModel::load(stage_dir(&format!("{case}_model"))).unwrap();
    for (who, m) in [("mlpipe", &fitted), ("spark", &spark)] {
        let want = common::floats(&c["idf"]);
        assert_eq!(m.idf().len(), want.len());
        for (a, b) in m.idf().iter().zip(&want) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                "{case} {who}: idf {a} vs {b}"
            );
        }
        let df_want: Vec<u64> = c["docFreq"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert_eq!(m.doc_freq(), df_want, "{case} {who}");
        assert_eq!(m.num_docs(), c["numDocs"].as_u64().unwrap(), "{case} {who}");
        assert_vectors(
            case,
            &vector_rows(&m.transform(df).unwrap(), "tfidf"),
            &c["output"],
            1e-12,
        );
    }
    let dir = tempfile::tempdir().unwrap();
    spark.save(dir.path().join("m")).unwrap();
    let back = IDFModel::load(dir.path().join("m")).unwrap();
    assert_eq!(back.idf(), spark.idf());
    assert_eq!(back.doc_freq(), spark.doc_freq());
    assert_eq!(back.num_docs(), spark.num_docs());
}

#[test]
fn idf_matches_spark() {
    let df = words();
    let tf = HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf")
        .with_num_features(64);
    let htf = tf.transform(&df).unwrap();
    // The input of the IDF cases is Spark's HashingTF output: check it is ours.
    assert_vectors(
        "idf input",
        &vector_rows(&htf, "tf"),
        &expected()["cases"]["idf_hashing"]["input"],
        0.0,
    );
    check_idf("idf_hashing", &htf);
    check_idf("idf_mindocfreq", &htf);
    let counts = CountVectorizer::new()
        .with_input_col("words")
        .with_output_col("counts")
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    check_idf("idf_counts", &counts);

    // A column mixing sparse rows and a dense row, as Spark's case has.
    let mut b = SparseVectorBuilder::new(4);
    b.push(&[0, 1], &[1.0, 2.0]).unwrap();
    b.push_dense(&[0.0, 1.0, 0.0, -3.0]).unwrap();
    b.push(&[1], &[0.0]).unwrap();
    let v = b.finish().unwrap();
    let field = mlpipe::frame::vector::sparse_vector_field("v", 4, true);
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        arrow::datatypes::Field::new("id", arrow::datatypes::DataType::Int64, false),
        field,
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![Arc::new(Int64Array::from(vec![0i64, 1, 2])), v],
    )
    .unwrap();
    check_idf("idf_mixed", &DataFrame::from_batches(vec![batch]).unwrap());

    // A dense column stays dense.
    // A dense column stays dense; the same numbers as the mixed case (Spark: -3 * 0 = -0.0).
    let values = vec![1.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, -3.0, 0.0, 0.0, 0.0, 0.0];
    let dense: ArrayRef = Arc::new(mlpipe::frame::vector::vector_array(values, 4, None).unwrap());
    let dense =
        DataFrame::from_batches(vec![RecordBatch::try_from_iter([("v", dense)]).unwrap()]).unwrap();
    let m = IDF::new()
        .with_input_col("v")
        .with_output_col("w")
        .with_min_doc_freq(1)
        .fit(&dense)
        .unwrap();
    assert_eq!(m.idf(), [2f64.ln(), (4.0f64 / 3.0).ln(), 0.0, 0.0]);
    let out = m.transform(&dense).unwrap();
    let rows = vector_rows(&out, "w");
    assert_eq!(
        rows[1],
        (None, vec![], vec![0.0, (4.0f64 / 3.0).ln(), 0.0, -0.0])
    );
    assert!(rows[1].2[3].is_sign_negative());
    assert!(mlpipe::frame::vector::vector_size(
        out.schema().field_with_name("w").unwrap().data_type()
    )
    .is_some());
}

#[test]
fn feature_hasher_matches_spark() {
    use arrow::array::{BooleanArray, Float64Array, Int32Array};
    let e = expected();
    let rows = e["feature_hasher_rows"].as_array().unwrap();
    let col = |k: usize| rows.iter().map(move |r| &r[k]);
    let b = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int32Array::from(
                col(0)
                    .map(|v| v.as_i64().map(|x| x as i32))
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "real",
            Arc::new(Float64Array::from(
                col(1).map(Value::as_f64).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "bool",
            Arc::new(BooleanArray::from(
                col(2).map(Value::as_bool).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "int",
            Arc::new(Int32Array::from(
                col(3)
                    .map(|v| v.as_i64().map(|x| x as i32))
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "long",
            Arc::new(Int64Array::from(
                col(4).map(Value::as_i64).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "str",
            Arc::new(StringArray::from(
                col(5).map(Value::as_str).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    for case in ["fh_default", "fh_small_cat"] {
        let stage = load_stage(std::path::Path::new(&stage_dir(case))).unwrap();
        let out = stage.transform(&df).unwrap();
        assert_vectors(
            case,
            &vector_rows(&out, "features"),
            &e["cases"][case]["output"],
            0.0,
        );
        let dir = tempfile::tempdir().unwrap();
        stage.as_ref().save(dir.path().join("s")).unwrap();
        let back = load_stage(dir.path().join("s")).unwrap();
        assert_eq!(back.params_json(), stage.params_json());
    }
    let built = FeatureHasher::new()
        .with_input_cols(["real", "bool", "int", "str"])
        .with_categorical_cols(["int", "real"])
        .with_num_features(16)
        .with_output_col("features");
    assert_vectors(
        "built",
        &vector_rows(&built.transform(&df).unwrap(), "features"),
        &e["cases"]["fh_small_cat"]["output"],
        0.0,
    );
}

#[test]
fn spark_text_pipeline_loads_and_matches() {
    let e = expected();
    let pm = PipelineModel::load(stage_dir("text_pipeline_model")).unwrap();
    let out = pm.transform(&texts()).unwrap();
    assert_vectors(
        "text_pipeline",
        &vector_rows(&out, "tfidf"),
        &e["cases"]["text_pipeline"]["output"],
        1e-12,
    );
}

#[test]
fn vector_stages_reject_bad_input() {
    let df = words();
    let err = HashingTF::new()
        .with_input_col("words")
        .with_num_features(0)
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "HashingTF: parameter `numFeatures` must be in [1, 2147483647], got 0"
    );
    let err = FeatureHasher::new()
        .with_input_cols(["text"])
        .with_num_features(-4)
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "FeatureHasher: parameter `numFeatures` must be in [1, 2147483647], got -4"
    );
    let err = CountVectorizer::new()
        .with_input_col("words")
        .with_vocab_size(0)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CountVectorizer: parameter `vocabSize` must be in [1, 2147483647], got 0"
    );
    let err = CountVectorizer::new()
        .with_input_col("words")
        .with_min_df(3.0)
        .with_max_df(2.0)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CountVectorizer: parameter `maxDF` must be >= minDF (3), got 2"
    );
    let err = IDF::new().with_input_col("words").fit(&df).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("IDF: column `words` has type List("),
        "{err}"
    );

    // Null lists and vectors: Spark fails on them (expected.json "nulls"), so does mlpipe.
    let e = expected();
    for k in ["hashing_tf", "count_vectorizer", "idf_fit"] {
        assert!(e["nulls"][k]["error"].is_string(), "{k}");
    }
    let mut b = ListBuilder::new(StringBuilder::new());
    b.values().append_value("a");
    b.append(true);
    b.append(false);
    let l: ArrayRef = Arc::new(b.finish());
    let nulls =
        DataFrame::from_batches(vec![RecordBatch::try_from_iter([("w", l)]).unwrap()]).unwrap();
    let err = HashingTF::new()
        .with_input_col("w")
        .transform(&nulls)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("HashingTF: null list in column `w` (partition 0, row 1)"),
        "{err}"
    );
    let err = CountVectorizer::new()
        .with_input_col("w")
        .fit(&nulls)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("CountVectorizer: null list in column `w` (partition 0, row 1)"),
        "{err}"
    );
    let mut v = SparseVectorBuilder::new(2);
    v.push(&[0], &[1.0]).unwrap();
    v.push_null();
    let v = v.finish().unwrap();
    let schema = Arc::new(arrow::datatypes::Schema::new(vec![
        mlpipe::frame::vector::sparse_vector_field("v", 2, true),
    ]));
    let nv = DataFrame::from_batches(vec![RecordBatch::try_new(schema, vec![v]).unwrap()]).unwrap();
    let err = IDF::new().with_input_col("v").fit(&nv).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("IDF: null vector in column `v` (partition 0, row 1)"),
        "{err}"
    );
    // An empty input.
    let empty = DataFrame::empty(nv.schema().clone());
    let err = IDF::new().with_input_col("v").fit(&empty).unwrap_err();
    assert!(
        err.to_string().contains("Haven't seen any document yet."),
        "{err}"
    );
    // A vector of another size than the model's.
    let m = IDFModel::new(
        "idf_x",
        mlpipe::feature::IDFParams {
            input_col: Some("v".into()),
            output_col: Some("o".into()),
            min_doc_freq: 0,
        },
        vec![1.0; 3],
        vec![1; 3],
        3,
    );
    let err = m.transform(&nv).unwrap_err();
    assert_eq!(
        err.to_string(),
        "IDFModel: column `v` has 2 features per row, but 3 are expected"
    );
}
