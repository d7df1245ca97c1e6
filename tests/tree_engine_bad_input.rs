//! Bad input to the tree engine: clear errors naming the stage, the column and the row.

use std::collections::HashMap;
use std::sync::Arc;

use mlpipe::arrow::array::{ArrayRef, Float64Array, RecordBatch};
use mlpipe::arrow::datatypes::{DataType, Field, Schema};
use mlpipe::frame::vector::{vector_array, vector_field};
use mlpipe::tree::engine::{train_forest, Impurity, Instances, LabelKind, Strategy};
use mlpipe::DataFrame;

fn frame(features: Vec<f64>, labels: Vec<f64>, weights: Vec<f64>) -> DataFrame {
    let n = 2;
    let schema = Arc::new(Schema::new(vec![
        vector_field("features", n, true),
        Field::new("label", DataType::Float64, false),
        Field::new("w", DataType::Float64, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(vector_array(features, n, None).unwrap()),
        Arc::new(Float64Array::from(labels)),
        Arc::new(Float64Array::from(weights)),
    ];
    DataFrame::from_batches(vec![RecordBatch::try_new(schema, cols).unwrap()]).unwrap()
}

const STAGE: &str = "DecisionTreeClassifier";

fn err(df: &DataFrame, kind: LabelKind, weight: Option<&str>) -> String {
    Instances::from_frame(df, STAGE, "features", "label", weight, kind)
        .err()
        .expect("bad input must fail")
        .to_string()
}

#[test]
fn non_finite_features_are_refused_with_their_row() {
    let df = frame(
        vec![1.0, 2.0, 3.0, f64::NAN],
        vec![0.0, 1.0],
        vec![1.0, 1.0],
    );
    assert_eq!(
        err(&df, LabelKind::Classes(2), None),
        "DecisionTreeClassifier: feature 1 is NaN in column `features` (partition 0, row 1); trees are fitted on finite features only; impute or drop NaN and infinite values first (e.g. with Imputer)"
    );
    let df = frame(
        vec![f64::INFINITY, 2.0, 3.0, 4.0],
        vec![0.0, 1.0],
        vec![1.0, 1.0],
    );
    assert!(err(&df, LabelKind::Regression, None)
        .contains("feature 0 is inf in column `features` (partition 0, row 0)"));
}

#[test]
fn labels_outside_the_classes_or_fractional_are_refused() {
    let df = frame(vec![1.0, 2.0, 3.0, 4.0], vec![0.0, 2.0], vec![1.0, 1.0]);
    assert_eq!(
        err(&df, LabelKind::Classes(2), None),
        "DecisionTreeClassifier: label 2 in column `label` (partition 0, row 1); classifier labels must be whole numbers in [0, 2) (numClasses = 2); index string labels with StringIndexer"
    );
    let df = frame(vec![1.0, 2.0, 3.0, 4.0], vec![0.5, 1.0], vec![1.0, 1.0]);
    assert!(err(&df, LabelKind::Classes(3), None)
        .contains("label 0.5 in column `label` (partition 0, row 0)"));
    let df = frame(
        vec![1.0, 2.0, 3.0, 4.0],
        vec![0.5, f64::NAN],
        vec![1.0, 1.0],
    );
    assert!(err(&df, LabelKind::Regression, None).contains(
        "label NaN in column `label` (partition 0, row 1); regression labels must be finite"
    ));
}

#[test]
fn negative_or_nan_weights_are_refused() {
    let df = frame(vec![1.0, 2.0, 3.0, 4.0], vec![0.0, 1.0], vec![1.0, -0.5]);
    assert_eq!(
        err(&df, LabelKind::Classes(2), Some("w")),
        "DecisionTreeClassifier: weight -0.5 in column `w` (partition 0, row 1); instance weights must be finite and non-negative"
    );
    let df = frame(
        vec![1.0, 2.0, 3.0, 4.0],
        vec![0.0, 1.0],
        vec![f64::NAN, 1.0],
    );
    assert!(err(&df, LabelKind::Classes(2), Some("w"))
        .contains("weight NaN in column `w` (partition 0, row 0)"));
}

#[test]
fn empty_input_is_refused() {
    let df = frame(vec![], vec![], vec![]);
    assert_eq!(
        err(&df, LabelKind::Classes(2), None),
        "DecisionTreeClassifier: the input has no rows; a tree needs at least one labelled row to learn from"
    );
}

#[test]
fn too_many_categories_gives_sparks_message() {
    // Feature 1 declared with 5 categories, maxBins 4.
    let df = frame(
        vec![1.0, 0.0, 2.0, 4.0, 3.0, 1.0, 4.0, 2.0],
        vec![0.0, 1.0, 0.0, 1.0],
        vec![1.0; 4],
    );
    let inst = Instances::from_frame(&df, STAGE, "features", "label", None, LabelKind::Classes(2))
        .unwrap();
    let mut s = Strategy::new(Impurity::Gini, 2);
    s.max_bins = 4;
    s.categorical = HashMap::from([(1, 5)]);
    let e = train_forest(STAGE, &inst, &s, 1, "all")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("DecisionTreeClassifier: parameter `maxBins` must be at least as large as the number of values in each categorical feature (DecisionTree requires maxBins (= 4) to be at least as large as the number of values in each categorical feature, but categorical feature 1 has 5 values"), "{e}");
    // A value outside the declared categories names its row.
    s.max_bins = 32;
    s.categorical = HashMap::from([(1, 3)]);
    let e = train_forest(STAGE, &inst, &s, 1, "all")
        .unwrap_err()
        .to_string();
    assert_eq!(e, "DecisionTreeClassifier: categorical feature 1 has value 4, outside its 3 categories [0, 3) in column `features` (partition 0, row 1); DecisionTree was given invalid data: fix the feature's nominal metadata (numValues) or the values");
}

#[test]
fn one_and_two_threads_give_the_same_forest() {
    let rows = 300;
    let feats: Vec<f64> = (0..rows * 2)
        .map(|i| ((i * 7919) % 101) as f64 / 10.0)
        .collect();
    let labels: Vec<f64> = (0..rows).map(|i| f64::from((i * 31 % 7) > 3)).collect();
    let df = frame(feats, labels, vec![1.0; rows]);
    let inst = Instances::from_frame(&df, STAGE, "features", "label", None, LabelKind::Classes(2))
        .unwrap();
    let mut s = Strategy::new(Impurity::Gini, 2);
    s.bootstrap = true;
    s.seed = 5;
    let fit = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| train_forest(STAGE, &inst, &s, 5, "sqrt").unwrap())
    };
    assert_eq!(fit(1), fit(2));
}
