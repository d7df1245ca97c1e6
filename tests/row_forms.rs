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

// ---------------------------------------------------------------------------------------
// Vector stages and ImputerModel on integer columns, on the Telco rows PySpark's CLI
// fixture holds.

use crate::common;

use mlpipe::feature::{
    Binarizer, Imputer, Interaction, QuantileDiscretizer, RobustScaler, SizeHintInvalid,
    VectorAssembler, VectorIndexer, VectorIndexerModel, VectorIndexerParams, VectorSizeHint,
    VectorSlicer,
};
use mlpipe::param::HandleInvalid;

fn spark_cli(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_cli/{name}",
        common::repo_root().display()
    )
}

/// Telco train / test rows (TotalCharges has blanks = nulls; tenure and SeniorCitizen
/// are integer columns).
fn telco() -> (DataFrame, DataFrame) {
    let o = CsvOptions::default();
    (
        DataFrame::read_csv(spark_cli("train.csv"), &o).unwrap(),
        DataFrame::read_csv(spark_cli("test.csv"), &o).unwrap(),
    )
}

fn assembled() -> Pipeline {
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(["Contract", "InternetService"])
                .with_output_cols(["c_idx", "i_idx"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols([
                    "c_idx",
                    "i_idx",
                    "tenure",
                    "MonthlyCharges",
                    "SeniorCitizen",
                ])
                .with_output_col("raw"),
        )
}

#[test]
fn vector_stages_rows_equal_transform_bit_for_bit() {
    let (train, test) = telco();
    let p = assembled()
        .with_transformer(VectorSizeHint::new().with_input_col("raw").with_size(5))
        .with_estimator(
            VectorIndexer::new()
                .with_input_col("raw")
                .with_output_col("vi")
                .with_max_categories(3)
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_transformer(
            Binarizer::new()
                .with_input_cols(["tenure", "raw", "MonthlyCharges"])
                .with_output_cols(["b_tenure", "b_raw", "b_mc"])
                .with_thresholds(&[12.0, 50.0, 70.0]),
        )
        .with_transformer(
            VectorSlicer::new()
                .with_input_col("vi")
                .with_indices(&[3, 0, 4])
                .with_output_col("sl"),
        )
        .with_transformer(
            Interaction::new()
                .with_input_cols(["c_idx", "raw", "tenure"])
                .with_output_col("inter"),
        )
        .with_estimator(
            RobustScaler::new()
                .with_input_col("raw")
                .with_output_col("rs")
                .with_centering(true),
        )
        .with_estimator(
            QuantileDiscretizer::new()
                .with_input_cols(["MonthlyCharges", "tenure"])
                .with_output_cols(["mc_q", "t_q"])
                .with_num_buckets(4),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["tenure", "SeniorCitizen"])
                .with_output_cols(["tenure_f", "sc_f"])
                .with_missing_value(1.0),
        );
    let model = p.fit(&train).unwrap();
    assert_eq!(
        check_against_transform(&model, &test).unwrap(),
        test.num_rows()
    );
}

/// A VectorIndexerModel with element 0 (the contract index) knowing only values 0 and 1:
/// the test rows with contract index 2 meet handleInvalid.
fn partial_indexer(h: HandleInvalid) -> VectorIndexerModel {
    let params = VectorIndexerParams {
        input_col: "raw".into(),
        output_col: "vi".into(),
        handle_invalid: h,
        ..Default::default()
    };
    VectorIndexerModel::new(
        "vi",
        params,
        5,
        [(0, vec![0.0, 1.0]), (4, vec![0.0, 1.0])]
            .into_iter()
            .collect(),
    )
}

#[test]
fn vector_indexer_handle_invalid_on_rows() {
    let (train, test) = telco();
    let features = assembled().fit(&train).unwrap();
    for h in [
        HandleInvalid::Keep,
        HandleInvalid::Skip,
        HandleInvalid::Error,
    ] {
        let model = PipelineModel::new(
            "p",
            vec![Box::new(features.clone()), Box::new(partial_indexer(h))],
        );
        // Both paths agree: the same rows kept, or both fail (the first bad row's index).
        let n = check_against_transform(&model, &test).unwrap();
        if h == HandleInvalid::Error {
            assert!(n < test.num_rows());
        } else {
            assert_eq!(n, test.num_rows());
        }
    }
    let model = PipelineModel::new(
        "p",
        vec![
            Box::new(features),
            Box::new(partial_indexer(HandleInvalid::Error)),
        ],
    );
    let mut scorer = model.row_scorer(test.schema()).unwrap();
    let row = Row::new()
        .with("Contract", "One year")
        .with("InternetService", "DSL")
        .with("tenure", 3)
        .with("MonthlyCharges", 50.0)
        .with("SeniorCitizen", 0);
    let e = scorer.score_row(&row).unwrap_err().to_string();
    assert_eq!(
        e,
        "VectorIndexerModel: value 2.0 of categorical element 0, not seen at fit in column `raw` (partition 0, row 0); set handleInvalid to \"keep\" to index it as an extra category or \"skip\" to drop the row"
    );
}

#[test]
fn vector_size_hint_handle_invalid_on_one_row() {
    use mlpipe::arrow::datatypes::Schema;
    use mlpipe::frame::vector::vector_field;
    use mlpipe::row::Value;
    let schema = Schema::new(vec![vector_field("v", 3, true)]);
    let scorer = |h: SizeHintInvalid| {
        let hint = VectorSizeHint::new()
            .with_input_col("v")
            .with_size(3)
            .with_handle_invalid(h);
        let norm = mlpipe::feature::Normalizer::new()
            .with_input_col("v")
            .with_output_col("n");
        PipelineModel::new("p", vec![Box::new(hint), Box::new(norm)])
            .row_scorer(&schema)
            .unwrap()
    };
    let good = [Value::Vector(&[3.0, 0.0, 4.0])];
    let short = [Value::Vector(&[3.0, 4.0])];
    let null = [Value::Null];
    // skip: a null or wrong-sized vector drops the row; a good one is scored.
    let mut s = scorer(SizeHintInvalid::Skip);
    assert!(s.score(&null).unwrap().is_none());
    assert!(s.score(&short).unwrap().is_none());
    let n = s.score(&good).unwrap().unwrap();
    assert_eq!(
        n.column("n"),
        Some(mlpipe::row::ColumnValue::Vector(&[0.6, 0.0, 0.8]))
    );
    // error: named.
    let mut s = scorer(SizeHintInvalid::Error);
    let e = s.score(&short).unwrap_err().to_string();
    assert!(
        e.starts_with("VectorSizeHint: vector of size 2 where the hint says 3 in column `v`"),
        "{e}"
    );
    assert!(s
        .score(&null)
        .unwrap_err()
        .to_string()
        .contains("null vector"));
    // optimistic: a row scorer cannot pass a wrong-sized vector on; it says so.
    let mut s = scorer(SizeHintInvalid::Optimistic);
    let e = s.score(&short).unwrap_err().to_string();
    assert!(e.contains("score such rows with transform"), "{e}");
    assert!(s.score(&good).unwrap().is_some());
}

/// A CrossValidatorModel (and a TrainValidationSplitModel) scores rows with its best
/// model, compiled through its stages.
#[test]
fn tuning_models_score_rows_with_their_best_model() {
    use mlpipe::evaluation::{BinaryClassificationEvaluator, BinaryMetric};
    use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder, TrainValidationSplit};
    let (train, test) = telco();
    let lr = LogisticRegression::new().with_max_iter(10);
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.01, 0.2])
        .build();
    let pipeline = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "MonthlyCharges", "SeniorCitizen"])
                .with_output_col("features"),
        )
        .with_estimator(lr);
    let eval = BinaryClassificationEvaluator::new().with_metric(BinaryMetric::AreaUnderRoc);
    let cv = CrossValidator::new(pipeline.clone(), eval.clone(), grid.clone())
        .with_num_folds(2)
        .with_seed(3)
        .fit(&train)
        .unwrap();
    let model = PipelineModel::new("p", vec![Box::new(cv)]);
    assert_eq!(
        check_against_transform(&model, &test).unwrap(),
        test.num_rows()
    );
    let tvs = TrainValidationSplit::new(pipeline, eval, grid)
        .with_seed(3)
        .fit(&train)
        .unwrap();
    let model = PipelineModel::new("p", vec![Box::new(tvs)]);
    assert_eq!(
        check_against_transform(&model, &test).unwrap(),
        test.num_rows()
    );
}
