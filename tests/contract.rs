//! The stage contract (`mlpipe::testing`) run on every stage.

use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use mlpipe::testing::{check_transformer, toy_frame};

fn quickstart() -> DataFrame {
    DataFrame::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv"),
        &CsvOptions::default(),
    )
    .unwrap()
}

#[test]
fn vector_assembler_contract() {
    for h in [HandleInvalid::Keep, HandleInvalid::Skip] {
        let va = VectorAssembler::new()
            .with_input_cols(["tenure", "monthly_charges", "total_charges", "f0"])
            .with_output_col("features")
            .with_handle_invalid(h);
        check_transformer(&va, &quickstart());
    }
    let va = VectorAssembler::new()
        .with_input_cols(["x", "id", "y"])
        .with_output_col("features");
    check_transformer(&va, &toy_frame());
}

/// quickstart.csv with `features` = [tenure, f0, f1] (VectorAssembler, nulls skipped).
fn with_features() -> DataFrame {
    VectorAssembler::new()
        .with_input_cols(["tenure", "f0", "f1"])
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&quickstart())
        .unwrap()
}

/// KMeans' k-means|| draws Spark's random streams per partition, so (as in Spark) its
/// centres depend on the partitioning: the fitted model gets the transformer contract, and
/// the fit is checked to be deterministic.
#[test]
fn kmeans_contract() {
    use mlpipe::clustering::KMeans;
    let df = with_features();
    for km in [
        KMeans::new().with_k(3).with_seed(4),
        KMeans::new()
            .with_distance_measure("cosine")
            .with_init_mode("random"),
    ] {
        let m = km.fit(&df).unwrap();
        check_transformer(&m, &df);
        assert_eq!(km.fit(&df).unwrap().cluster_centers(), m.cluster_centers());
        assert_eq!(
            km.transform_schema(df.schema()).unwrap(),
            m.transform_schema(df.schema()).unwrap()
        );
    }
}

#[test]
fn naive_bayes_contract() {
    use mlpipe::classification::NaiveBayes;
    // Non-negative counts-like features, so every model type but bernoulli accepts them.
    let df = VectorAssembler::new()
        .with_input_cols(["tenure", "num_support_calls", "monthly_charges"])
        .with_output_col("features")
        .transform(&quickstart())
        .unwrap();
    for t in ["gaussian", "multinomial", "complement"] {
        let nb = NaiveBayes::new().with_model_type(t).with_label_col("churn");
        mlpipe::testing::check_estimator(&nb, &df);
    }
}

#[test]
fn one_vs_rest_contract() {
    use mlpipe::classification::{LogisticRegression, OneVsRest};
    let ovr = OneVsRest::new(LogisticRegression::new().with_max_iter(20)).with_label_col("churn");
    mlpipe::testing::check_estimator(&ovr, &with_features());
}

/// The six tree estimators. Without bootstrap and subsampling the trees do not depend on
/// the partitioning (feature subsets are drawn from the seed alone); with bootstrap (Spark's
/// per-partition Poisson seeding) the forest does, as in Spark, so that forest gets the
/// transformer contract and a determinism check.
#[test]
fn tree_estimators_contract() {
    use mlpipe::classification::{DecisionTreeClassifier, GBTClassifier, RandomForestClassifier};
    use mlpipe::regression::{DecisionTreeRegressor, GBTRegressor, RandomForestRegressor};
    use mlpipe::testing::check_estimator;
    let df = with_features();
    check_estimator(
        &DecisionTreeClassifier::new()
            .with_label_col("churn")
            .with_leaf_col("leaf")
            .with_max_depth(4),
        &df,
    );
    check_estimator(
        &DecisionTreeRegressor::new()
            .with_label_col("monthly_charges")
            .with_variance_col("variance")
            .with_leaf_col("leaf"),
        &df,
    );
    check_estimator(
        &RandomForestClassifier::new()
            .with_label_col("churn")
            .with_num_trees(5)
            .with_bootstrap(false)
            .with_leaf_col("leaf"),
        &df,
    );
    check_estimator(
        &RandomForestRegressor::new()
            .with_label_col("monthly_charges")
            .with_num_trees(4)
            .with_bootstrap(false),
        &df,
    );
    check_estimator(
        &GBTClassifier::new()
            .with_label_col("churn")
            .with_max_iter(5)
            .with_leaf_col("leaf"),
        &df,
    );
    check_estimator(
        &GBTRegressor::new()
            .with_label_col("monthly_charges")
            .with_max_iter(5)
            .with_loss_type("absolute"),
        &df,
    );
    let rf = RandomForestClassifier::new()
        .with_label_col("churn")
        .with_num_trees(6)
        .with_seed(3);
    let m = rf.fit(&df).unwrap();
    check_transformer(&m, &df);
    assert_eq!(rf.fit(&df).unwrap().trees(), m.trees());
    assert_eq!(
        rf.transform_schema(df.schema()).unwrap(),
        m.transform_schema(df.schema()).unwrap()
    );
}

/// The first 300 fortunes (category, text) with their tokens and term frequencies.
fn fortunes() -> DataFrame {
    use mlpipe::feature::{HashingTF, Tokenizer};
    let df = DataFrame::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/fortunes/fortunes.csv"),
        &CsvOptions::default(),
    )
    .unwrap();
    let df = df.limit(300).unwrap();
    let df = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words")
        .transform(&df)
        .unwrap();
    HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf")
        .with_num_features(1 << 10)
        .transform(&df)
        .unwrap()
}

#[test]
fn text_stages_contract() {
    use mlpipe::feature::{
        CountVectorizer, FeatureHasher, HashingTF, NGram, RegexTokenizer, StopWordsRemover,
        Tokenizer, IDF,
    };
    use mlpipe::testing::check_estimator;
    let df = fortunes();
    check_transformer(
        &Tokenizer::new().with_input_col("text").with_output_col("w2"),
        &df,
    );
    check_transformer(
        &RegexTokenizer::new()
            .with_input_col("text")
            .with_output_col("w2")
            .with_pattern("\\w+")
            .with_gaps(false),
        &df,
    );
    check_transformer(
        &StopWordsRemover::new()
            .with_input_col("words")
            .with_output_col("kept"),
        &df,
    );
    check_transformer(
        &NGram::new().with_input_col("words").with_output_col("grams"),
        &df,
    );
    check_transformer(
        &HashingTF::new()
            .with_input_col("words")
            .with_output_col("tf2")
            .with_binary(true),
        &df,
    );
    check_transformer(
        &FeatureHasher::new()
            .with_input_cols(["category", "text"])
            .with_output_col("hashed"),
        &df,
    );
    check_estimator(
        &CountVectorizer::new()
            .with_input_col("words")
            .with_output_col("counts")
            .with_vocab_size(500),
        &df,
    );
    check_estimator(
        &IDF::new().with_input_col("tf").with_output_col("tfidf"),
        &df,
    );
}
