//! Row scoring (`PipelineModel::row_scorer`) against the batch transform: bit for bit, for
//! the Telco pipeline PySpark saved and for every stage's row form.

use crate::common;

use mlpipe::prelude::*;
use mlpipe::row::{check_against_transform, Row, Value};

fn spark_cli(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark_cli/{name}",
        common::repo_root().display()
    )
}

/// The PipelineModel PySpark 4.3 fitted and saved (tests/pyspark/make_cli_fixtures.py),
/// and the 400 held-out Telco rows (11 of them with a blank TotalCharges).
fn telco() -> (PipelineModel, DataFrame) {
    let model = PipelineModel::load(spark_cli("fitted_pipeline")).unwrap();
    let df = DataFrame::read_csv(spark_cli("test.csv"), &CsvOptions::default()).unwrap();
    (model, df)
}

#[test]
fn telco_pipeline_rows_equal_transform_bit_for_bit() {
    let (model, df) = telco();
    assert_eq!(check_against_transform(&model, &df).unwrap(), 400);
    // Without the label column too (its StringIndexer is skipped, as in Spark).
    let unlabelled = df.drop(["Churn"]).unwrap();
    assert_eq!(check_against_transform(&model, &unlabelled).unwrap(), 400);
}

#[test]
fn telco_pipeline_matches_spark_predictions() {
    // predictions.csv is PySpark's own transform of test.csv.
    let (model, df) = telco();
    let spark = DataFrame::read_csv(spark_cli("predictions.csv"), &CsvOptions::default()).unwrap();
    let probs = common::f64_column(&spark, "probability_1");
    let preds = common::f64_column(&spark, "prediction");
    let mut scorer = model.row_scorer(df.schema()).unwrap();
    let batch = df.collect().unwrap();
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for r in 0..batch.num_rows() {
        let row: Row<'_> = names
            .iter()
            .enumerate()
            .map(|(c, n)| (n.as_str(), row_value(&batch, c, r)))
            .collect();
        let s = scorer.score_row(&row).unwrap().unwrap();
        // 1e-12: the L-BFGS fit is PySpark's own; only the scoring arithmetic differs.
        assert!(
            (s.probability().unwrap()[1] - probs[r]).abs() < 1e-12,
            "row {r}"
        );
        assert_eq!(s.prediction().unwrap(), preds[r], "row {r}");
    }
}

fn row_value(b: &mlpipe::arrow::array::RecordBatch, c: usize, r: usize) -> Value<'_> {
    use mlpipe::arrow::array::{Array, AsArray};
    use mlpipe::arrow::datatypes::{DataType, Float64Type, Int64Type};
    let a = b.column(c);
    if a.is_null(r) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => Value::Str(a.as_string::<i32>().value(r)),
        DataType::Int64 => Value::Int(a.as_primitive::<Int64Type>().value(r)),
        DataType::Float64 => Value::Float(a.as_primitive::<Float64Type>().value(r)),
        dt => panic!("unexpected type {dt}"),
    }
}

#[test]
fn telco_bad_input_is_named() {
    let (model, df) = telco();
    let mut scorer = model.row_scorer(df.schema()).unwrap();
    let good = || {
        Row::new()
            .with("gender", "Female")
            .with("Partner", "Yes")
            .with("Contract", "Two year")
            .with("InternetService", "DSL")
            .with("PaymentMethod", "Mailed check")
            .with("SeniorCitizen", 0i64)
            .with("tenure", 12i64)
            .with("MonthlyCharges", 50.5)
            .with("TotalCharges", 600.0)
            .with("Churn", "No")
    };
    assert!(scorer.score_row(&good()).unwrap().is_some());
    // Missing field: named.
    let row: Row<'_> = good()
        .fields()
        .iter()
        .filter(|f| f.0 != "tenure")
        .copied()
        .collect();
    let e = scorer.score_row(&row).unwrap_err().to_string();
    assert_eq!(
        e,
        "row field `tenure`: missing; expected an integer (Int64)"
    );
    // Wrong type: named, with what was expected.
    let e = scorer
        .score_row(&good().with("MonthlyCharges", "lots"))
        .unwrap_err()
        .to_string();
    // The later field wins; its value is checked.
    assert!(
        e.contains("`MonthlyCharges`") && e.contains("a number (Float64)"),
        "{e}"
    );
    // An unseen category: the feature indexer keeps it (handleInvalid=keep), the label
    // indexer (handleInvalid=error) names it.
    assert!(scorer
        .score_row(&good().with("Contract", "Ten year"))
        .unwrap()
        .is_some());
    let e = scorer
        .score_row(&good().with("Churn", "Maybe"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("StringIndexerModel: unseen label \"Maybe\" in column `Churn`"),
        "{e}"
    );
    // NaN where the pipeline errors: VectorAssembler (handleInvalid=error) on tenure.
    let e = scorer
        .score_row(&good().with("MonthlyCharges", f64::NAN))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("VectorAssembler: NaN in column `MonthlyCharges`"),
        "{e}"
    );
    // The scorer goes on scoring after errors, with the same answer.
    let a = scorer.score_row(&good()).unwrap().unwrap().to_owned_row();
    let b = scorer.score_batch(&[good(), good()]).unwrap();
    assert_eq!(b, vec![Some(a.clone()), Some(a)]);
}

// ---- Every stage's row form against its batch form ----------------------------------

use mlpipe::classification::{
    DecisionTreeClassifier, GBTClassifier, LinearSVC, LogisticRegression, NaiveBayes, OneVsRest,
    RandomForestClassifier,
};
use mlpipe::clustering::KMeans;
use mlpipe::feature::{
    Bucketizer, Imputer, IndexToString, MaxAbsScaler, MinMaxScaler, OneHotEncoder, StandardScaler,
    StringIndexer, VectorAssembler,
};
use mlpipe::param::HandleInvalid;
use mlpipe::regression::{
    DecisionTreeRegressor, GBTRegressor, LinearRegression, RandomForestRegressor,
};

/// Telco train / test rows (PySpark's fixture data; TotalCharges has blanks = nulls).
fn train_test() -> (DataFrame, DataFrame) {
    let o = CsvOptions::default();
    (
        DataFrame::read_csv(spark_cli("train.csv"), &o).unwrap(),
        DataFrame::read_csv(spark_cli("test.csv"), &o).unwrap(),
    )
}

/// The categorical columns indexed (keep) and one-hot encoded, the numbers assembled
/// into `raw` (nulls in TotalCharges imputed), and the label indexed into `label`.
fn features() -> Pipeline {
    let cats = [
        "gender",
        "Partner",
        "Contract",
        "InternetService",
        "PaymentMethod",
    ];
    let idx: Vec<String> = cats.iter().map(|c| format!("{c}_idx")).collect();
    let vecs: Vec<String> = cats.iter().map(|c| format!("{c}_vec")).collect();
    let mut assembled: Vec<String> = vecs.clone();
    assembled.extend(["SeniorCitizen", "tenure", "MonthlyCharges", "tc"].map(String::from));
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(cats)
                .with_output_cols(&idx)
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(&idx)
                .with_output_cols(&vecs),
        )
        .with_estimator(
            Imputer::new()
                .with_input_cols(["TotalCharges"])
                .with_output_cols(["tc"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&assembled)
                .with_output_col("raw"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features"),
        )
}

/// Fits `p` on train, checks every test row against transform; returns the count.
fn check(p: Pipeline) -> usize {
    let (train, test) = train_test();
    let model = p.fit(&train).unwrap();
    // A scorer that does nothing would make the comparison vacuous.
    assert!(!model
        .row_scorer(test.schema())
        .unwrap()
        .stage_kinds()
        .is_empty());
    check_against_transform(&model, &test).unwrap()
}

fn with(p: Pipeline, e: impl mlpipe::pipeline::Estimator) -> Pipeline {
    p.with_estimator(e)
}

#[test]
fn feature_stages() {
    assert_eq!(check(features()), 400);
    // StringIndexer on numbers (Int64 and Float64: labels are their string forms; unseen
    // charges are kept as the extra index), OneHotEncoder keeping invalid and all
    // categories, MinMax / MaxAbs scalers, StandardScaler with the mean.
    let p = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(["SeniorCitizen", "MonthlyCharges"])
                .with_output_cols(["sc_idx", "mc_idx"])
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["sc_idx", "mc_idx"])
                .with_output_cols(["sc_vec", "mc_vec"])
                .with_drop_last(false)
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["sc_vec", "tenure", "MonthlyCharges", "TotalCharges"])
                .with_output_col("raw")
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_estimator(
            MinMaxScaler::new()
                .with_input_col("raw")
                .with_output_col("mm"),
        )
        .with_estimator(
            MaxAbsScaler::new()
                .with_input_col("raw")
                .with_output_col("ma"),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("ss")
                .with_mean(true),
        );
    assert_eq!(check(p), 400);
}

/// The vector stages in the shape of Spark's `UnaryTransformer` (Normalizer,
/// ElementwiseProduct, PolynomialExpansion, DCT) score rows bit for bit as `transform`.
/// They follow the fitted feature pipeline (a nested PipelineModel), so the scaling vector's
/// length is checked against the real feature count.
#[test]
fn unary_vector_stages() {
    use mlpipe::feature::{ElementwiseProduct, Normalizer, PolynomialExpansion, DCT};
    let (train, _) = train_test();
    let fitted = features().fit(&train).unwrap();
    let t = fitted.transform(&train).unwrap();
    let n =
        mlpipe::frame::vector::field_vector_size(t.schema().field_with_name("features").unwrap())
            .unwrap();
    let p = Pipeline::new()
        .with_transformer(fitted)
        .with_transformer(
            Normalizer::new()
                .with_input_col("features")
                .with_output_col("norm")
                .with_p(3.0),
        )
        .with_transformer(
            ElementwiseProduct::new()
                .with_input_col("norm")
                .with_output_col("ep")
                .with_scaling_vec(&(0..n).map(|i| 0.5 + i as f64).collect::<Vec<_>>()),
        )
        .with_transformer(DCT::new().with_input_col("ep").with_output_col("dct"))
        .with_transformer(
            PolynomialExpansion::new()
                .with_input_col("dct")
                .with_output_col("poly"),
        );
    assert_eq!(check(p), 400);
}

#[test]
fn skip_drops_the_same_rows_and_errors_fail_alike() {
    // VectorAssembler skip: the rows of test.csv with a null TotalCharges are dropped
    // by both paths (check_against_transform compares the kept rows in order).
    let va = VectorAssembler::new()
        .with_input_cols(["tenure", "TotalCharges"])
        .with_output_col("v");
    let p = Pipeline::new().with_transformer(va.clone().with_handle_invalid(HandleInvalid::Skip));
    assert_eq!(check(p), 400);
    // error: both fail, at the first null (row scoring reports it at that row).
    let (train, test) = train_test();
    let m = Pipeline::new().with_transformer(va).fit(&train).unwrap();
    let first_null = {
        use mlpipe::arrow::array::Array;
        let b = test.collect().unwrap();
        let c = b.column_by_name("TotalCharges").unwrap();
        (0..c.len()).position(|r| c.is_null(r)).unwrap()
    };
    assert_eq!(check_against_transform(&m, &test).unwrap(), first_null);
    // Bucketizer: keep / skip / error on the nulls.
    for h in [HandleInvalid::Keep, HandleInvalid::Skip] {
        let b = Bucketizer::new()
            .with_input_col("TotalCharges")
            .with_output_col("b")
            .with_splits(&[f64::NEG_INFINITY, 100.0, 1000.0, 5000.0, f64::INFINITY])
            .with_handle_invalid(h);
        assert_eq!(check(Pipeline::new().with_transformer(b)), 400);
    }
    // StringIndexer skip on an unseen label (a category missing from a filtered train).
    let si = StringIndexer::new()
        .with_input_col("PaymentMethod")
        .with_output_col("pm")
        .with_handle_invalid(HandleInvalid::Skip);
    let m = Pipeline::new()
        .with_estimator(si)
        .fit(
            &train
                .filter(mlpipe::frame::col("PaymentMethod").ne("Mailed check"))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(check_against_transform(&m, &test).unwrap(), 400);
}

#[test]
fn linear_models_and_naive_bayes() {
    let lr = LogisticRegression::new().with_reg_param(0.01);
    assert_eq!(check(with(features(), lr.clone())), 400);
    // Thresholds and a multinomial model on Contract (3 classes), with IndexToString.
    let multi = features()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Contract")
                .with_output_col("ct"),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("ct")
                .with_thresholds(&[0.5, 0.3, 0.2]),
        )
        .with_transformer(
            IndexToString::new()
                .with_input_col("prediction")
                .with_output_col("predicted_contract")
                .with_labels(["c0", "c1", "c2"]),
        );
    assert_eq!(check(multi), 400);
    assert_eq!(
        check(with(features(), LinearSVC::new().with_max_iter(20))),
        400
    );
    let linreg = LinearRegression::new().with_label_col("MonthlyCharges");
    assert_eq!(check(with(features(), linreg)), 400);
    // Naive Bayes needs non-negative features: the one-hot part only.
    let nb = features()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["Contract_vec", "PaymentMethod_vec"])
                .with_output_col("counts"),
        )
        .with_estimator(NaiveBayes::new().with_features_col("counts"));
    assert_eq!(check(nb), 400);
    let ovr = OneVsRest::new(LogisticRegression::new().with_max_iter(20)).with_label_col("label");
    assert_eq!(check(with(features(), ovr)), 400);
}

#[test]
fn kmeans() {
    for d in ["euclidean", "cosine"] {
        let km = KMeans::new()
            .with_k(4)
            .with_seed(1)
            .with_distance_measure(d);
        assert_eq!(check(with(features(), km)), 400);
    }
}

#[test]
fn tree_models() {
    let f = features;
    assert_eq!(
        check(with(
            f(),
            DecisionTreeClassifier::new()
                .with_max_depth(4)
                .with_leaf_col("leaf")
        )),
        400
    );
    assert_eq!(
        check(with(
            f(),
            RandomForestClassifier::new()
                .with_num_trees(5)
                .with_leaf_col("leaf")
        )),
        400
    );
    assert_eq!(
        check(with(
            f(),
            GBTClassifier::new()
                .with_max_iter(5)
                .with_thresholds(&[0.4, 0.6])
        )),
        400
    );
    let label = "MonthlyCharges";
    assert_eq!(
        check(with(
            f(),
            DecisionTreeRegressor::new()
                .with_label_col(label)
                .with_variance_col("var")
                .with_leaf_col("leaf")
        )),
        400
    );
    assert_eq!(
        check(with(
            f(),
            RandomForestRegressor::new()
                .with_label_col(label)
                .with_num_trees(5)
        )),
        400
    );
    assert_eq!(
        check(with(
            f(),
            GBTRegressor::new().with_label_col(label).with_max_iter(5)
        )),
        400
    );
}

#[test]
fn inferred_schema_scores_the_telco_model() {
    let (model, df) = telco();
    let schema = mlpipe::row::infer_input_schema(&model).unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    // The label's indexer is skipped when Churn is absent, so Churn is not required.
    assert_eq!(
        names,
        [
            "gender",
            "Partner",
            "Contract",
            "InternetService",
            "PaymentMethod",
            "TotalCharges",
            "SeniorCitizen",
            "tenure",
            "MonthlyCharges"
        ]
    );
    let mut scorer = model.row_scorer(&schema).unwrap();
    let mut exact = model.row_scorer(df.schema()).unwrap();
    let batch = df.collect().unwrap();
    let all: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    for r in 0..batch.num_rows() {
        let row: Row<'_> = all
            .iter()
            .enumerate()
            .map(|(c, n)| (n.as_str(), row_value(&batch, c, r)))
            .collect();
        let a = scorer.score_row(&row).unwrap().unwrap().to_owned_row();
        let b = exact.score_row(&row).unwrap().unwrap().to_owned_row();
        assert_eq!(a, b, "row {r}");
    }
}

#[test]
fn a_stage_without_row_form_is_named_when_compiling() {
    /// A user's own stage: it has no row form.
    #[derive(Clone, Debug)]
    struct Mine;
    impl mlpipe::pipeline::Stage for Mine {
        fn kind(&self) -> &'static str {
            "MyStage"
        }
        fn uid(&self) -> &str {
            "mine_1"
        }
        fn transform_schema(
            &self,
            input: &mlpipe::arrow::datatypes::Schema,
        ) -> mlpipe::Result<mlpipe::arrow::datatypes::Schema> {
            Ok(input.clone())
        }
        fn params_json(&self) -> serde_json::Value {
            serde_json::json!({})
        }
        fn set_param_json(&mut self, _: &str, _: serde_json::Value) -> mlpipe::Result<()> {
            Ok(())
        }
    }
    impl mlpipe::pipeline::Transformer for Mine {
        fn transform(&self, df: &DataFrame) -> mlpipe::Result<DataFrame> {
            Ok(df.clone())
        }
        fn clone_box(&self) -> Box<dyn mlpipe::pipeline::Transformer> {
            Box::new(self.clone())
        }
    }
    let (model, df) = telco();
    let mut stages: Vec<Box<dyn mlpipe::pipeline::Transformer>> =
        model.stages().iter().map(|s| s.clone_box()).collect();
    stages.insert(3, Box::new(Mine));
    let e = PipelineModel::new("p", stages)
        .row_scorer(df.schema())
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "Pipeline: stage 3: MyStage (uid mine_1) has no row form, so this pipeline cannot be scored row by row; score it with transform"
    );
}

#[test]
fn a_sparse_vector_input_field_is_read_like_a_dense_one() {
    use mlpipe::arrow::datatypes::Schema;
    use mlpipe::frame::vector::{sparse_vector_field, vector_field};
    let (train, test) = train_test();
    let model = features()
        .with_estimator(LogisticRegression::new())
        .fit(&train)
        .unwrap();
    // Score from the assembled vector: the scaler and the model only.
    let tail: Vec<Box<dyn mlpipe::pipeline::Transformer>> =
        model.stages()[5..].iter().map(|s| s.clone_box()).collect();
    let tail = PipelineModel::new("tail", tail);
    let raw = model.stages()[..5]
        .iter()
        .try_fold(test.clone(), |df, s| s.transform(&df))
        .unwrap();
    let n = common::vector_rows(&raw, "raw")[0].len();
    let dense = Schema::new(vec![vector_field("raw", n, true)]);
    let sparse = Schema::new(vec![sparse_vector_field("raw", n, true)]);
    let mut a = tail.row_scorer(&dense).unwrap();
    let mut b = tail.row_scorer(&sparse).unwrap();
    for x in common::vector_rows(&raw, "raw") {
        let v = [Value::Vector(&x)];
        let pa = a.score(&v).unwrap().unwrap().to_owned_row();
        let pb = b.score(&v).unwrap().unwrap().to_owned_row();
        assert_eq!(pa, pb);
    }
    // A vector of the wrong length is named with the size expected.
    let e = b.score(&[Value::Vector(&[1.0])]).unwrap_err().to_string();
    assert_eq!(
        e,
        format!("row field `raw`: got a vector of 1 values; expected a vector of {n} numbers")
    );
}

/// RFormula's row form is its inner pipeline's, stage by stage (StringIndexer,
/// Interaction, OneHotEncoder, VectorAssembler, Spark's VectorAttributeRewriter and
/// ColumnPruner, the label's StringIndexer), then LogisticRegression; and Interaction and
/// VectorSizeHint on their own, over a nominal column, a number and an assembled vector.
#[test]
fn rformula_interaction_and_size_hint() {
    use mlpipe::feature::{Interaction, RFormula, VectorSizeHint};
    let p = Pipeline::new()
        .with_estimator(
            RFormula::new()
                .with_formula("Churn ~ Contract:tenure + InternetService * MonthlyCharges + gender + SeniorCitizen")
                .with_handle_invalid(HandleInvalid::Keep),
        )
        .with_estimator(LogisticRegression::new());
    assert_eq!(check(p), 400);

    let (train, _) = train_test();
    let fitted = features().fit(&train).unwrap();
    let t = fitted.transform(&train).unwrap();
    let n = mlpipe::frame::vector::field_vector_size(t.schema().field_with_name("raw").unwrap())
        .unwrap();
    let p = Pipeline::new()
        .with_transformer(fitted)
        .with_transformer(
            VectorSizeHint::new()
                .with_input_col("raw")
                .with_size(n as i32),
        )
        .with_transformer(
            Interaction::new()
                .with_input_cols(["Contract_idx", "tenure", "raw"])
                .with_output_col("inter"),
        );
    assert_eq!(check(p), 400);
}
