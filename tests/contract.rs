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

/// KMeans' initialisation (k-means||, and random's `takeSample`) draws Spark's random
/// streams per partition, so, as in Spark, its centres depend on the partitioning: it gets
/// the full estimator contract with the partition-dependent rule (identical fits on one
/// partitioning, twice and on one thread) instead of the 1-versus-4-partitions comparison.
#[test]
fn kmeans_contract() {
    use mlpipe::clustering::KMeans;
    use mlpipe::testing::{check_estimator_with, Partitioning};
    let df = with_features();
    for km in [
        KMeans::new().with_k(3).with_seed(4),
        KMeans::new()
            .with_distance_measure("cosine")
            .with_init_mode("random"),
    ] {
        check_estimator_with(&km, &df, Partitioning::Dependent);
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
        &Tokenizer::new()
            .with_input_col("text")
            .with_output_col("w2"),
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
        &NGram::new()
            .with_input_col("words")
            .with_output_col("grams"),
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

/// The stage contract (1 vs 4 partitions, schema agreement and errors, params round trip)
/// for Spark's binning, scaling and vector stages on dense input; their sparse-input
/// contract is `more_vector_stages_take_sparse_input`.
#[test]
fn binning_and_vector_stages_contract() {
    use mlpipe::feature::{
        Binarizer, ElementwiseProduct, Interaction, Normalizer, PolynomialExpansion,
        QuantileDiscretizer, RobustScaler, VectorIndexer, VectorSizeHint, VectorSlicer, DCT,
    };
    use mlpipe::testing::check_estimator;
    let df = one_hot_features();
    let n =
        mlpipe::frame::vector::field_vector_size(df.schema().field_with_name("features").unwrap())
            .unwrap();
    // Small data: Spark's quantile summaries stay exact, so any partitioning gives the
    // same splits.
    check_estimator(
        &QuantileDiscretizer::new()
            .with_input_col("tenure")
            .with_output_col("tenure_bin")
            .with_num_buckets(4),
        &df,
    );
    check_estimator(
        &RobustScaler::new()
            .with_input_col("features")
            .with_output_col("out"),
        &df,
    );
    check_estimator(
        &VectorIndexer::new()
            .with_input_col("features")
            .with_output_col("out")
            .with_max_categories(3),
        &df,
    );
    check_transformer(
        &Binarizer::new()
            .with_input_cols(["tenure", "features"])
            .with_output_cols(["tenure_b", "features_b"])
            .with_thresholds(&[12.0, 0.5]),
        &df,
    );
    check_transformer(
        &Normalizer::new()
            .with_input_col("features")
            .with_output_col("out"),
        &df,
    );
    let w: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
    check_transformer(
        &ElementwiseProduct::new()
            .with_input_col("features")
            .with_output_col("out")
            .with_scaling_vec(&w),
        &df,
    );
    check_transformer(
        &PolynomialExpansion::new()
            .with_input_col("features")
            .with_output_col("out"),
        &df,
    );
    check_transformer(
        &DCT::new().with_input_col("features").with_output_col("out"),
        &df,
    );
    check_transformer(
        &VectorSlicer::new()
            .with_input_col("features")
            .with_output_col("out")
            .with_indices(&[1, 3]),
        &df,
    );
    check_transformer(
        &Interaction::new()
            .with_input_cols(["features", "tenure"])
            .with_output_col("out"),
        &df,
    );
    check_transformer(
        &VectorSizeHint::new()
            .with_input_col("features")
            .with_size(n as i32),
        &df,
    );
}

/// quickstart.csv with `features` = [contract one-hot (2), num_support_calls, tenure]
/// (dense, mostly zeros in the one-hot part) for the sparse-input contract.
fn one_hot_features() -> DataFrame {
    use mlpipe::feature::{OneHotEncoder, StringIndexer};
    let df = quickstart();
    let df = StringIndexer::new()
        .with_input_col("contract")
        .with_output_col("contract_idx")
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    let df = OneHotEncoder::new()
        .with_input_col("contract_idx")
        .with_output_col("contract_vec")
        .with_dense_output(true)
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    VectorAssembler::new()
        .with_input_cols(["contract_vec", "num_support_calls", "tenure"])
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&df)
        .unwrap()
}

/// The vector stages of Spark's feature catalogue beyond the scalers (Binarizer,
/// Normalizer, ElementwiseProduct, PolynomialExpansion, DCT, VectorSlicer, RobustScaler,
/// VectorIndexer, Interaction, VectorSizeHint)
/// take sparse input as they take dense: the contract holds on sparse input and the
/// outputs equal the dense ones exactly (each row is densified, then the same arithmetic).
#[test]
fn more_vector_stages_take_sparse_input() {
    use mlpipe::feature::{
        Binarizer, ElementwiseProduct, Interaction, Normalizer, PolynomialExpansion, RobustScaler,
        VectorIndexer, VectorSizeHint, VectorSlicer, DCT,
    };
    use mlpipe::testing::{check_estimator_sparse_input, check_transformer_sparse_input};
    let df = one_hot_features();
    let n =
        mlpipe::frame::vector::field_vector_size(df.schema().field_with_name("features").unwrap())
            .unwrap();
    let b = Binarizer::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_threshold(0.5);
    check_transformer_sparse_input(&b, &df, "features", 0.0);
    let nz = Normalizer::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_p(1.0);
    check_transformer_sparse_input(&nz, &df, "features", 0.0);
    let w: Vec<f64> = (0..n).map(|i| 0.5 + i as f64).collect();
    let ep = ElementwiseProduct::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_scaling_vec(&w);
    check_transformer_sparse_input(&ep, &df, "features", 0.0);
    let pe = PolynomialExpansion::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_degree(2);
    check_transformer_sparse_input(&pe, &df, "features", 0.0);
    let dct = DCT::new().with_input_col("features").with_output_col("out");
    check_transformer_sparse_input(&dct, &df, "features", 0.0);
    let vs = VectorSlicer::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_indices(&[0, (n - 1) as i32]);
    check_transformer_sparse_input(&vs, &df, "features", 0.0);
    let rs = RobustScaler::new()
        .with_input_col("features")
        .with_output_col("out");
    check_estimator_sparse_input(&rs, &df, "features", 0.0);
    let vi = VectorIndexer::new()
        .with_input_col("features")
        .with_output_col("out")
        .with_max_categories(3);
    check_estimator_sparse_input(&vi, &df, "features", 0.0);
    let ia = Interaction::new()
        .with_input_cols(["features", "tenure"])
        .with_output_col("out");
    check_transformer_sparse_input(&ia, &df, "features", 0.0);
    let sh = VectorSizeHint::new()
        .with_input_col("features")
        .with_size(n as i32);
    // VectorSizeHint adds no column: on sparse input it keeps every row and the size.
    let sparse = df.vectors_to_sparse("features").unwrap();
    let hinted = sh.transform(&sparse).unwrap();
    assert_eq!(hinted.num_rows(), df.num_rows());
    let f = hinted.schema().field_with_name("features").unwrap().clone();
    assert_eq!(mlpipe::frame::vector::field_vector_size(&f), Some(n));
    assert!(mlpipe::frame::vector::is_sparse_vector_type(f.data_type()));
}

/// Every stage that reads a vector column takes the sparse layout as it takes the dense
/// one: the contract holds on sparse input, and fits on sparse and dense input agree.
/// Tolerances: exact-arithmetic stages match to 1e-12; optimisers (whose sums over a
/// sparse row skip the zeros, so round differently) to 1e-6 relative on their outputs.
#[test]
fn vector_stages_take_sparse_input() {
    use mlpipe::classification::{
        DecisionTreeClassifier, LinearSVC, LogisticRegression, NaiveBayes,
    };
    use mlpipe::clustering::KMeans;
    use mlpipe::feature::{MaxAbsScaler, MinMaxScaler, StandardScaler};
    use mlpipe::regression::{LinearRegression, RandomForestRegressor};
    use mlpipe::testing::{check_estimator_sparse_input, check_transformer_sparse_input};
    let df = one_hot_features();
    for with_mean in [false, true] {
        let s = StandardScaler::new()
            .with_input_col("features")
            .with_output_col("scaled")
            .with_mean(with_mean);
        check_estimator_sparse_input(&s, &df, "features", 1e-12);
    }
    let mm = MinMaxScaler::new()
        .with_input_col("features")
        .with_output_col("scaled");
    check_estimator_sparse_input(&mm, &df, "features", 1e-12);
    let ma = MaxAbsScaler::new()
        .with_input_col("features")
        .with_output_col("scaled");
    check_estimator_sparse_input(&ma, &df, "features", 1e-12);
    let va = VectorAssembler::new()
        .with_input_cols(["features", "f0"])
        .with_output_col("assembled");
    check_transformer_sparse_input(&va, &df, "features", 0.0);

    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_reg_param(0.01);
    check_estimator_sparse_input(&lr, &df, "features", 1e-6);
    let svc = LinearSVC::new().with_label_col("churn").with_max_iter(30);
    check_estimator_sparse_input(&svc, &df, "features", 1e-6);
    let lin = LinearRegression::new().with_label_col("monthly_charges");
    check_estimator_sparse_input(&lin, &df, "features", 1e-9);
    for t in ["multinomial", "complement", "gaussian"] {
        let nb = NaiveBayes::new().with_model_type(t).with_label_col("churn");
        check_estimator_sparse_input(&nb, &df, "features", 1e-12);
    }
    let dt = DecisionTreeClassifier::new()
        .with_label_col("churn")
        .with_max_depth(3);
    check_estimator_sparse_input(&dt, &df, "features", 0.0);
    let rf = RandomForestRegressor::new()
        .with_label_col("monthly_charges")
        .with_num_trees(3)
        .with_bootstrap(false);
    check_estimator_sparse_input(&rf, &df, "features", 0.0);
    // KMeans' k-means|| depends on the partitioning (as in Spark): the fitted model gets
    // the sparse-input transformer contract, and the fits agree.
    let km = KMeans::new().with_k(3).with_seed(4);
    let sparse = df.vectors_to_sparse("features").unwrap();
    let (md, ms) = (km.fit(&df).unwrap(), km.fit(&sparse).unwrap());
    assert_eq!(md.cluster_centers(), ms.cluster_centers());
    check_transformer_sparse_input(&md, &df, "features", 0.0);
}

/// The evaluators read sparse score and feature vectors as they read dense ones.
#[test]
fn evaluators_take_sparse_vectors() {
    use mlpipe::classification::LogisticRegression;
    use mlpipe::clustering::KMeans;
    use mlpipe::evaluation::{
        BinaryClassificationEvaluator, ClusteringEvaluator, MulticlassClassificationEvaluator,
        MulticlassMetric,
    };
    let df = one_hot_features();
    let scored = LogisticRegression::new()
        .with_label_col("churn")
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    let sparse = scored
        .vectors_to_sparse("rawPrediction")
        .unwrap()
        .vectors_to_sparse("probability")
        .unwrap()
        .vectors_to_sparse("features")
        .unwrap();
    let auc = BinaryClassificationEvaluator::new().with_label_col("churn");
    assert_eq!(
        auc.evaluate(&scored).unwrap(),
        auc.evaluate(&sparse).unwrap()
    );
    let ll = MulticlassClassificationEvaluator::new()
        .with_label_col("churn")
        .with_metric(MulticlassMetric::LogLoss);
    assert_eq!(ll.evaluate(&scored).unwrap(), ll.evaluate(&sparse).unwrap());
    let clustered = KMeans::new()
        .with_k(3)
        .with_seed(1)
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    let ce = ClusteringEvaluator::new();
    assert_eq!(
        ce.evaluate(&clustered).unwrap(),
        ce.evaluate(&clustered.vectors_to_sparse("features").unwrap())
            .unwrap()
    );
}
