//! A vector whose size is not known before fitting (an unfitted OneHotEncoder's or
//! CountVectorizer's output) does not make Pipeline's pre-fit schema pass refuse the
//! stages after it: Spark's `transformSchema` checks no size there; the fitted stages
//! check the real sizes.

use mlpipe::feature::{
    CountVectorizer, ElementwiseProduct, MinMaxScaler, Normalizer, OneHotEncoder, StringIndexer,
    Tokenizer, VectorSizeHint, IDF,
};
use mlpipe::prelude::*;

fn quickstart() -> DataFrame {
    DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default()).unwrap()
}

/// `contract` has 3 values in data/quickstart.csv, so the one-hot vector has 2 slots
/// (dropLast).
fn encoded() -> Pipeline {
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("contract")
                .with_output_col("c_idx"),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["c_idx"])
                .with_output_cols(["c_vec"]),
        )
}

#[test]
fn elementwise_product_after_an_unfitted_one_hot_encoder() {
    let df = quickstart();
    // Refused before: the pre-fit pass saw a size-0 placeholder against 2 weights.
    let model = encoded()
        .with_transformer(
            ElementwiseProduct::new()
                .with_input_col("c_vec")
                .with_output_col("w")
                .with_scaling_vec(&[2.0, 3.0]),
        )
        .with_transformer(Normalizer::new().with_input_col("w").with_output_col("n"))
        .with_estimator(MinMaxScaler::new().with_input_col("n").with_output_col("m"))
        .fit(&df)
        .unwrap();
    let out = model.transform(&df).unwrap();
    let n = mlpipe::frame::vector::field_vector_size(out.schema().field_with_name("m").unwrap());
    assert_eq!(n, Some(2));
    // The fitted stages check the real size: 3 weights for a 2-slot vector is named.
    let e = encoded()
        .with_transformer(
            ElementwiseProduct::new()
                .with_input_col("c_vec")
                .with_output_col("w")
                .with_scaling_vec(&[2.0, 3.0, 4.0]),
        )
        .fit(&df)
        .and_then(|m| m.transform(&df))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ElementwiseProduct") && e.contains("c_vec"),
        "{e}"
    );
}

#[test]
fn a_size_hint_gives_the_unknown_size() {
    let df = quickstart();
    let p = encoded().with_transformer(VectorSizeHint::new().with_input_col("c_vec").with_size(2));
    let s = p.transform_schema(df.schema()).unwrap();
    let f = s.field_with_name("c_vec").unwrap();
    assert_eq!(mlpipe::frame::vector::field_vector_size(f), Some(2));
    assert!(!mlpipe::frame::vector::is_unknown_size(f));
    p.fit(&df).unwrap();
}

#[test]
fn idf_after_an_unfitted_count_vectorizer() {
    let df = DataFrame::read_csv("data/fortunes/fortunes.csv", &CsvOptions::default())
        .unwrap()
        .limit(50)
        .unwrap();
    let model = Pipeline::new()
        .with_transformer(Tokenizer::new().with_input_col("text").with_output_col("w"))
        .with_estimator(
            CountVectorizer::new()
                .with_input_col("w")
                .with_output_col("tf"),
        )
        .with_estimator(IDF::new().with_input_col("tf").with_output_col("tfidf"))
        .fit(&df)
        .unwrap();
    assert_eq!(model.transform(&df).unwrap().num_rows(), 50);
}
