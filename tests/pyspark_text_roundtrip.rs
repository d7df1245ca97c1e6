//! PySpark 4.3 loads the text stages mlpipe saved (unfitted stages, CountVectorizer and IDF
//! models mlpipe fitted, and a fitted Tokenizer -> StopWordsRemover -> HashingTF -> IDF
//! PipelineModel) and reproduces Spark's recorded outputs with them
//! (tests/pyspark/check_text_roundtrip.py). Ignored by a plain `cargo test` (needs PySpark).

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use common::*;
use mlpipe::feature::{
    CountVectorizer, FeatureHasher, HashingTF, NGram, RegexTokenizer, StopWordsRemover, Tokenizer,
    IDF,
};
use mlpipe::prelude::*;

fn texts(fixtures: &str) -> DataFrame {
    let e: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{fixtures}/expected.json")).unwrap(),
    )
    .unwrap();
    let rows = e["texts"].as_array().unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r[0].as_i64().unwrap()).collect();
    let texts: Vec<&str> = rows.iter().map(|r| r[1].as_str().unwrap()).collect();
    let b = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("text", Arc::new(StringArray::from(texts)) as ArrayRef),
    ])
    .unwrap();
    DataFrame::from_batches(vec![b]).unwrap()
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_text_stages() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let fixtures = format!("{}/tests/fixtures/spark_text", repo_root().display());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let df = texts(&fixtures);
    let tok = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words");
    tok.save(d.join("tokenizer")).unwrap();
    let words = tok.transform(&df).unwrap();
    RegexTokenizer::new()
        .with_input_col("text")
        .with_output_col("toks")
        .with_pattern("\\w+")
        .with_gaps(false)
        .save(d.join("regex_words"))
        .unwrap();
    StopWordsRemover::new()
        .with_input_col("raw")
        .with_output_col("filtered")
        .with_stop_words(["istanbul", "ve"])
        .with_locale("tr")
        .save(d.join("stop_custom_tr"))
        .unwrap();
    StopWordsRemover::new()
        .with_input_cols(["raw", "raw2"])
        .with_output_cols(["f1", "f2"])
        .with_stop_words(["is", "i", "über", "ve", "b"])
        .save(d.join("stop_multi"))
        .unwrap();
    NGram::new()
        .with_n(3)
        .with_input_col("words")
        .with_output_col("grams")
        .save(d.join("ngram3"))
        .unwrap();
    HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf")
        .with_num_features(16)
        .with_binary(true)
        .save(d.join("hashing_small_binary"))
        .unwrap();
    FeatureHasher::new()
        .with_input_cols(["real", "bool", "int", "str"])
        .with_categorical_cols(["int", "real"])
        .with_num_features(16)
        .with_output_col("features")
        .save(d.join("fh_small_cat"))
        .unwrap();
    let cv = CountVectorizer::new()
        .with_input_col("words")
        .with_output_col("counts")
        .with_vocab_size(5)
        .with_min_df(2.0);
    cv.save(d.join("cv_vocab5_mindf2")).unwrap();
    cv.fit(&words)
        .unwrap()
        .save(d.join("cv_vocab5_mindf2_model"))
        .unwrap();
    IDF::new()
        .with_input_col("tf")
        .with_output_col("tfidf")
        .with_min_doc_freq(2)
        .save(d.join("idf_mindocfreq"))
        .unwrap();
    let htf = HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf")
        .with_num_features(64)
        .transform(&words)
        .unwrap();
    IDF::new()
        .with_input_col("tf")
        .with_output_col("tfidf")
        .fit(&htf)
        .unwrap()
        .save(d.join("idf_hashing_model"))
        .unwrap();
    let pipeline = Pipeline::new()
        .with_transformer(Tokenizer::new().with_input_col("text").with_output_col("w"))
        .with_transformer(
            StopWordsRemover::new()
                .with_input_col("w")
                .with_output_col("f"),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("f")
                .with_output_col("tf")
                .with_num_features(128),
        )
        .with_estimator(IDF::new().with_input_col("tf").with_output_col("tfidf"));
    pipeline
        .fit(&df)
        .unwrap()
        .save(d.join("text_pipeline_model"))
        .unwrap();

    let stdout = run_pyspark_check("check_text_roundtrip.py", &[&d, &&fixtures]);
    assert!(
        stdout.contains("all text stages saved by mlpipe load and match in PySpark"),
        "{stdout}"
    );
}
