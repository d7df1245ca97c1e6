//! Row forms of the text stages and of the vector stages without one before: each
//! pipeline is scored row by row and compared bit for bit with `transform` on the same
//! rows (`mlpipe::row::check_against_transform`); the expected values are transform's.

use mlpipe::classification::{LogisticRegression, NaiveBayes};
use mlpipe::feature::{
    CountVectorizer, FeatureHasher, HashingTF, NGram, RegexTokenizer, StopWordsRemover,
    StringIndexer, Tokenizer, IDF,
};
use mlpipe::prelude::*;
use mlpipe::row::{check_against_transform, ColumnValue, Row};

/// About 330 of the fortunes (real short texts in five categories; `data/fortunes/`),
/// drawn across the categories by a seeded split.
fn fortunes() -> DataFrame {
    let df = DataFrame::read_csv("data/fortunes/fortunes.csv", &CsvOptions::default()).unwrap();
    let [a, _] = df.random_split([0.12, 0.88], 7).unwrap();
    a
}

/// The text classifier of `examples/text.rs` (StringIndexer → RegexTokenizer →
/// StopWordsRemover → HashingTF → IDF → multinomial LogisticRegression).
fn text_pipeline() -> Pipeline {
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("category")
                .with_output_col("label"),
        )
        .with_transformer(
            RegexTokenizer::new()
                .with_input_col("text")
                .with_output_col("words")
                .with_pattern("\\W+")
                .with_min_token_length(2),
        )
        .with_transformer(
            StopWordsRemover::new()
                .with_input_col("words")
                .with_output_col("filtered"),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("filtered")
                .with_output_col("tf")
                .with_num_features(1 << 16),
        )
        .with_estimator(
            IDF::new()
                .with_input_col("tf")
                .with_output_col("features")
                .with_min_doc_freq(2),
        )
        .with_estimator(LogisticRegression::new().with_max_iter(10))
}

#[test]
fn text_classifier_rows_equal_transform_bit_for_bit() {
    let df = fortunes();
    let model = text_pipeline().fit(&df).unwrap();
    assert_eq!(check_against_transform(&model, &df).unwrap(), df.num_rows());

    // A client gives only the text: the label indexer is skipped, the prediction comes.
    let schema = mlpipe::row::infer_input_schema(&model).unwrap();
    let mut scorer = model.row_scorer(&schema).unwrap();
    let row = Row::new().with("text", "The computer crashed, and the UNIX kernel paniced.");
    let s = scorer.score_row(&row).unwrap().unwrap();
    let p = s.probability().unwrap();
    assert_eq!(p.len(), 5);
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Intermediate columns: the tokens (lowercased, stop words gone) and the sparse tf.
    match s.column("filtered") {
        Some(ColumnValue::StrList(l)) => assert_eq!(
            l.iter().collect::<Vec<_>>(),
            ["computer", "crashed", "unix", "kernel", "paniced"]
        ),
        other => panic!("filtered: {other:?}"),
    }
    match s.column("tf") {
        Some(ColumnValue::Sparse { size, indices, .. }) => {
            assert_eq!((size, indices.len()), (1 << 16, 5))
        }
        other => panic!("tf: {other:?}"),
    }
}

#[test]
fn tokenizer_ngram_count_vectorizer_and_naive_bayes() {
    let df = fortunes();
    let p = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("category")
                .with_output_col("label"),
        )
        .with_transformer(
            Tokenizer::new()
                .with_input_col("text")
                .with_output_col("words"),
        )
        .with_transformer(
            NGram::new()
                .with_input_col("words")
                .with_output_col("bigrams"),
        )
        .with_estimator(
            CountVectorizer::new()
                .with_input_col("words")
                .with_output_col("tf")
                .with_min_df(2.0)
                .with_min_tf(0.05),
        )
        .with_estimator(
            CountVectorizer::new()
                .with_input_col("bigrams")
                .with_output_col("bi")
                .with_binary(true),
        )
        .with_transformer(
            HashingTF::new()
                .with_input_col("bigrams")
                .with_output_col("hashed")
                .with_num_features(1000)
                .with_binary(true),
        )
        .with_estimator(IDF::new().with_input_col("tf").with_output_col("features"))
        .with_estimator(NaiveBayes::new());
    let model = p.fit(&df).unwrap();
    assert_eq!(check_against_transform(&model, &df).unwrap(), df.num_rows());
}

#[test]
fn feature_hasher_on_strings_and_numbers() {
    use mlpipe::arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch, StringArray};
    use std::sync::Arc;
    let n = 200;
    let cat: ArrayRef = Arc::new(StringArray::from(
        (0..n)
            .map(|i| (i % 7 != 3).then(|| ["a", "b", "c"][i % 3]))
            .collect::<Vec<_>>(),
    ));
    let x: ArrayRef = Arc::new(Float64Array::from(
        (0..n)
            .map(|i| (i % 5 != 0).then_some(i as f64 * 0.37 - 9.0))
            .collect::<Vec<_>>(),
    ));
    let k: ArrayRef = Arc::new(Int32Array::from(
        (0..n).map(|i| (i % 4) as i32).collect::<Vec<_>>(),
    ));
    let b =
        RecordBatch::try_from_iter([("cat", cat), ("x", x.clone()), ("k", k), ("x2", x)]).unwrap();
    let df = DataFrame::from_batches(vec![b]).unwrap();
    let model = PipelineModel::new(
        "p",
        vec![Box::new(
            FeatureHasher::new()
                .with_input_cols(["cat", "x", "k", "x2"])
                .with_categorical_cols(["k", "x2"])
                .with_output_col("h")
                .with_num_features(16),
        )],
    );
    assert_eq!(check_against_transform(&model, &df).unwrap(), n);
}

#[test]
fn a_null_text_is_named() {
    let df = fortunes();
    let model = text_pipeline().fit(&df).unwrap();
    let schema = mlpipe::row::infer_input_schema(&model).unwrap();
    let mut scorer = model.row_scorer(&schema).unwrap();
    let e = scorer
        .score_row(&Row::new().with("text", None::<&str>))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("RegexTokenizer: null string in column `text`"),
        "{e}"
    );
}
