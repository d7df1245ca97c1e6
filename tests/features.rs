//! Feature stages: expected outputs for small inputs derived by hand from Spark's
//! documented behaviour (reference §2), edge cases, error messages, and the contract.

use crate::common;

use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::*;
use mlpipe::prelude::*;
use mlpipe::testing::{check_estimator, check_transformer};

fn frame(cols: Vec<(&str, ArrayRef)>) -> DataFrame {
    DataFrame::from_batches(vec![RecordBatch::try_from_iter(cols).unwrap()]).unwrap()
}

fn strings(v: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(v.to_vec()))
}

fn floats_arr(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

fn col(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    let c = df.column(name).unwrap();
    c.chunks
        .iter()
        .flat_map(|a| {
            let a = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64).unwrap();
            a.as_primitive::<arrow::datatypes::Float64Type>()
                .iter()
                .collect::<Vec<_>>()
        })
        .collect()
}

fn cats() -> DataFrame {
    // b x3, a x2, c x2, d x1: frequencyDesc = b, a, c, d (a and c tie: alphabetical)
    frame(vec![(
        "s",
        strings(&[
            Some("b"),
            Some("a"),
            Some("c"),
            Some("b"),
            Some("d"),
            Some("c"),
            Some("a"),
            Some("b"),
        ]),
    )])
}

#[test]
fn string_indexer_orders_like_spark() {
    let df = cats();
    let fit = |o| {
        StringIndexer::new()
            .with_input_col("s")
            .with_output_col("i")
            .with_string_order_type(o)
            .fit(&df)
            .unwrap()
            .labels()[0]
            .clone()
    };
    assert_eq!(
        fit(StringOrderType::FrequencyDesc),
        vec!["b", "a", "c", "d"]
    );
    assert_eq!(fit(StringOrderType::FrequencyAsc), vec!["d", "a", "c", "b"]);
    assert_eq!(fit(StringOrderType::AlphabetAsc), vec!["a", "b", "c", "d"]);
    assert_eq!(fit(StringOrderType::AlphabetDesc), vec!["d", "c", "b", "a"]);
    let m = StringIndexer::new()
        .with_input_col("s")
        .with_output_col("i")
        .fit(&df)
        .unwrap();
    let out = m.transform(&df).unwrap();
    assert_eq!(
        col(&out, "i"),
        [0.0, 1.0, 2.0, 0.0, 3.0, 2.0, 1.0, 0.0].map(Some).to_vec()
    );
    assert_eq!(
        nominal_labels(out.schema().field_with_name("i").unwrap()).unwrap(),
        vec!["b", "a", "c", "d"]
    );
    check_estimator(
        &StringIndexer::new()
            .with_input_col("s")
            .with_output_col("i"),
        &df,
    );
}

#[test]
fn string_indexer_numeric_input_and_invalid_handling() {
    // numbers are indexed by their string form; NaN is not counted at fit
    let df = frame(vec![(
        "x",
        floats_arr(&[Some(1.0), Some(2.0), Some(1.0), Some(f64::NAN)]),
    )]);
    let m = StringIndexer::new()
        .with_input_col("x")
        .with_output_col("i")
        .fit(&df)
        .unwrap();
    assert_eq!(m.labels()[0], vec!["1.0", "2.0"]);
    let ints = frame(vec![(
        "n",
        Arc::new(Int64Array::from(vec![3, 3, 7])) as ArrayRef,
    )]);
    assert_eq!(
        StringIndexer::new()
            .with_input_col("n")
            .with_output_col("i")
            .fit(&ints)
            .unwrap()
            .labels()[0],
        vec!["3", "7"]
    );

    let train = frame(vec![("s", strings(&[Some("a"), Some("b"), Some("a")]))]);
    let test = frame(vec![(
        "s",
        strings(&[Some("a"), Some("z"), None, Some("b")]),
    )]);
    let base = StringIndexer::new()
        .with_input_col("s")
        .with_output_col("i");
    let err = base
        .clone()
        .fit(&train)
        .unwrap()
        .transform(&test)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "StringIndexerModel: unseen label \"z\" in column `s` (partition 0, row 1); to handle unseen labels and nulls, set handleInvalid to \"keep\" (extra index) or \"skip\" (drop the row)"
    );
    let keep = base
        .clone()
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&train)
        .unwrap()
        .transform(&test)
        .unwrap();
    assert_eq!(col(&keep, "i"), [0.0, 2.0, 2.0, 1.0].map(Some).to_vec());
    assert_eq!(
        nominal_labels(keep.schema().field_with_name("i").unwrap()).unwrap(),
        vec!["a", "b", "__unknown"]
    );
    let skip = base
        .with_handle_invalid(HandleInvalid::Skip)
        .fit(&train)
        .unwrap()
        .transform(&test)
        .unwrap();
    assert_eq!(col(&skip, "i"), vec![Some(0.0), Some(1.0)]);

    let mut p = StringIndexerParams {
        input_col: Some("s".into()),
        input_cols: Some(vec!["s".into()]),
        ..Default::default()
    };
    let err = StringIndexer::from_params("x", p.clone())
        .fit(&train)
        .unwrap_err();
    assert_eq!(err.to_string(), "StringIndexer: parameter `inputCols` must be unset when inputCol is set (exactly one of inputCol, inputCols), got both set");
    p.input_col = None;
    p.output_cols = Some(vec!["a".into(), "b".into()]);
    let err = StringIndexer::from_params("x", p).fit(&train).unwrap_err();
    assert_eq!(
        err.to_string(),
        "StringIndexer: parameter `outputCols` must be 1 names, one per input column, got 2 names"
    );
}

#[test]
fn index_to_string_round_trips() {
    let df = cats();
    let idx = StringIndexer::new()
        .with_input_col("s")
        .with_output_col("i")
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap();
    let back = IndexToString::new()
        .with_input_col("i")
        .with_output_col("s2")
        .transform(&idx)
        .unwrap();
    assert_eq!(
        back.column("s").unwrap().chunks,
        back.column("s2").unwrap().chunks
    );
    let err = IndexToString::new()
        .with_input_col("i")
        .with_output_col("o")
        .with_labels(["x"])
        .transform(&idx)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("IndexToString: unseen index 1 in column `i` (partition 0, row 1)"),
        "{err}"
    );
    check_transformer(
        &IndexToString::new()
            .with_input_col("i")
            .with_output_col("s2"),
        &idx,
    );
}

#[test]
fn one_hot_encoder_like_spark() {
    let df = frame(vec![(
        "c",
        floats_arr(&[Some(0.0), Some(1.0), Some(2.0), Some(1.0)]),
    )]);
    // categories from the data: max + 1 = 3; dropLast: size 2, the last category is all zeros
    let m = OneHotEncoder::new()
        .with_input_col("c")
        .with_output_col("v")
        .fit(&df)
        .unwrap();
    assert_eq!(m.category_sizes(), &[3]);
    let out = m.transform(&df).unwrap();
    assert_eq!(
        vector_rows(&out, "v"),
        vec![
            vec![1.0, 0.0],
            vec![0.0, 1.0],
            vec![0.0, 0.0],
            vec![0.0, 1.0]
        ]
    );
    // keep without dropLast: size c + 1, an invalid value takes the extra slot
    let test = frame(vec![("c", floats_arr(&[Some(5.0), Some(0.0)]))]);
    let keep = OneHotEncoder::new()
        .with_input_col("c")
        .with_output_col("v")
        .with_drop_last(false)
        .with_handle_invalid(HandleInvalid::Keep);
    let out = keep.fit(&df).unwrap().transform(&test).unwrap();
    assert_eq!(
        vector_rows(&out, "v"),
        vec![vec![0.0, 0.0, 0.0, 1.0], vec![1.0, 0.0, 0.0, 0.0]]
    );
    // dropLast + keep: size c, invalid values are all zeros
    let out = OneHotEncoder::new()
        .with_input_col("c")
        .with_output_col("v")
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&df)
        .unwrap()
        .transform(&test)
        .unwrap();
    assert_eq!(
        vector_rows(&out, "v"),
        vec![vec![0.0, 0.0, 0.0], vec![1.0, 0.0, 0.0]]
    );
    let err = m.transform(&test).unwrap_err();
    assert_eq!(err.to_string(), "OneHotEncoderModel: unseen value 5 in column `c` (partition 0, row 0); to handle unseen values, set handleInvalid to \"keep\"");
    let bad = frame(vec![("c", floats_arr(&[Some(0.5)]))]);
    let err = OneHotEncoder::new()
        .with_input_col("c")
        .with_output_col("v")
        .fit(&bad)
        .unwrap_err();
    assert!(err.to_string().starts_with("OneHotEncoder: value 0.5 in column `c` (partition 0, row 0); values must be category indices"), "{err}");
    let err = OneHotEncoder::new()
        .with_input_col("c")
        .with_output_col("v")
        .with_handle_invalid(HandleInvalid::Skip)
        .fit(&df)
        .unwrap_err();
    assert!(
        err.to_string().contains("OneHotEncoder has no skip"),
        "{err}"
    );
    // categories from StringIndexer metadata, and the contract on indexed data
    let idx = StringIndexer::new()
        .with_input_col("s")
        .with_output_col("i")
        .fit(&cats())
        .unwrap()
        .transform(&cats())
        .unwrap();
    let m = OneHotEncoder::new()
        .with_input_col("i")
        .with_output_col("v")
        .fit(&idx)
        .unwrap();
    assert_eq!(m.category_sizes(), &[4]);
    check_estimator(
        &OneHotEncoder::new()
            .with_input_col("i")
            .with_output_col("v"),
        &idx,
    );
}

#[test]
fn imputer_strategies() {
    let df = frame(vec![
        (
            "x",
            floats_arr(&[
                Some(1.0),
                None,
                Some(3.0),
                Some(f64::NAN),
                Some(3.0),
                Some(10.0),
            ]),
        ),
        (
            "n",
            Arc::new(Int64Array::from(vec![
                Some(1),
                Some(2),
                None,
                Some(2),
                Some(4),
                Some(-1),
            ])) as ArrayRef,
        ),
    ]);
    let fit = |s, mv: f64| {
        Imputer::new()
            .with_input_cols(["x", "n"])
            .with_output_cols(["xo", "no"])
            .with_strategy(s)
            .with_missing_value(mv)
            .fit(&df)
            .unwrap()
    };
    // present x: 1, 3, 3, 10 -> mean 4.25, (lower) median 3, mode 3
    assert_eq!(fit(ImputerStrategy::Mean, f64::NAN).surrogates()[0], 4.25);
    assert_eq!(fit(ImputerStrategy::Median, f64::NAN).surrogates()[0], 3.0);
    assert_eq!(fit(ImputerStrategy::Mode, f64::NAN).surrogates()[0], 3.0);
    // missingValue -1 on n: present 1, 2, 2, 4 -> mean 2.25, cast back to an integer: 2
    let m = fit(ImputerStrategy::Mean, -1.0);
    assert_eq!(m.surrogates()[1], 2.25);
    let out = m.transform(&df).unwrap();
    assert_eq!(
        col(&out, "no"),
        [1.0, 2.0, 2.0, 2.0, 4.0, 2.0].map(Some).to_vec()
    );
    // with missingValue -1, x's NaN is left alone but x's null is filled
    let xo = col(&out, "xo");
    assert_eq!(xo[1], Some(m.surrogates()[0]));
    assert!(xo[3].unwrap().is_nan());
    // mode ties: the smallest value
    let ties = frame(vec![(
        "x",
        floats_arr(&[Some(5.0), Some(2.0), Some(5.0), Some(2.0)]),
    )]);
    let m = Imputer::new()
        .with_input_col("x")
        .with_output_col("y")
        .with_strategy(ImputerStrategy::Mode)
        .fit(&ties)
        .unwrap();
    assert_eq!(m.surrogates(), &[2.0]);
    let empty = frame(vec![("x", floats_arr(&[None, Some(f64::NAN)]))]);
    let err = Imputer::new()
        .with_input_col("x")
        .with_output_col("y")
        .fit(&empty)
        .unwrap_err();
    assert_eq!(err.to_string(), "Imputer: the input has no rows; surrogate cannot be computed: all the values in column `x` are null, NaN or missingValue (NaN)");
    check_estimator(
        &Imputer::new()
            .with_input_cols(["x", "n"])
            .with_output_cols(["xo", "no"]),
        &df,
    );
    // Spark's JSON for NaN
    assert_eq!(Imputer::new().params_json()["missingValue"], "NaN");
}

#[test]
fn standard_scaler_like_spark() {
    let df = frame(vec![
        ("a", floats_arr(&[Some(1.0), Some(2.0), Some(3.0)])),
        ("b", floats_arr(&[Some(5.0), Some(5.0), Some(5.0)])),
    ]);
    let df = VectorAssembler::new()
        .with_input_cols(["a", "b"])
        .with_output_col("v")
        .transform(&df)
        .unwrap();
    // sample std of a = 1; b is constant: std 0 maps to 0; withMean defaults to false
    let m = StandardScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .fit(&df)
        .unwrap();
    assert_eq!(m.std(), &[1.0, 0.0]);
    assert_eq!(
        vector_rows(&m.transform(&df).unwrap(), "s"),
        vec![vec![1.0, 0.0], vec![2.0, 0.0], vec![3.0, 0.0]]
    );
    let m = StandardScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .with_mean(true)
        .fit(&df)
        .unwrap();
    assert_eq!(
        vector_rows(&m.transform(&df).unwrap(), "s"),
        vec![vec![-1.0, 0.0], vec![0.0, 0.0], vec![1.0, 0.0]]
    );
    check_estimator(
        &StandardScaler::new()
            .with_input_col("v")
            .with_output_col("s")
            .with_mean(true),
        &df,
    );
    let empty = DataFrame::empty(df.schema().clone());
    assert_eq!(
        StandardScaler::new()
            .with_input_col("v")
            .with_output_col("s")
            .fit(&empty)
            .unwrap_err()
            .to_string(),
        "StandardScaler: the input has no rows; fit needs at least one row"
    );
    let err = m
        .transform(&frame(vec![("v", floats_arr(&[Some(1.0)]))]))
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "StandardScalerModel: column `v` has type Float64, expected a vector column"
        ),
        "{err}"
    );
}

#[test]
fn min_max_and_max_abs_like_spark() {
    let df = frame(vec![
        ("a", floats_arr(&[Some(-2.0), Some(0.0), Some(6.0)])),
        ("b", floats_arr(&[Some(3.0), Some(3.0), Some(3.0)])),
    ]);
    let df = VectorAssembler::new()
        .with_input_cols(["a", "b"])
        .with_output_col("v")
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(&df)
        .unwrap();
    // a: (x + 2) / 8 scaled to [-1, 1]; b constant: the midpoint (min + max) / 2 = 0
    let m = MinMaxScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .with_min(-1.0)
        .with_max(1.0)
        .fit(&df)
        .unwrap();
    assert_eq!(
        vector_rows(&m.transform(&df).unwrap(), "s"),
        vec![vec![-1.0, 0.0], vec![-0.5, 0.0], vec![1.0, 0.0]]
    );
    check_estimator(
        &MinMaxScaler::new().with_input_col("v").with_output_col("s"),
        &df,
    );
    let err = MinMaxScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .with_min(1.0)
        .fit(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "MinMaxScaler: parameter `min` must be smaller than max (1), got 1"
    );
    // max |a| = 6, max |b| = 3
    let m = MaxAbsScaler::new()
        .with_input_col("v")
        .with_output_col("s")
        .fit(&df)
        .unwrap();
    assert_eq!(m.max_abs(), &[6.0, 3.0]);
    assert_eq!(
        vector_rows(&m.transform(&df).unwrap(), "s")[0],
        vec![-2.0 / 6.0, 1.0]
    );
    check_estimator(
        &MaxAbsScaler::new().with_input_col("v").with_output_col("s"),
        &df,
    );
}

#[test]
fn bucketizer_like_spark() {
    let df = frame(vec![(
        "x",
        floats_arr(&[
            Some(-0.5),
            Some(0.0),
            Some(0.5),
            Some(1.0),
            None,
            Some(f64::NAN),
        ]),
    )]);
    let b = Bucketizer::new()
        .with_input_col("x")
        .with_output_col("b")
        .with_splits(&[-1.0, 0.0, 0.5, 1.0]);
    // [-1, 0) -> 0, [0, 0.5) -> 1, [0.5, 1] -> 2 (the last bucket holds its upper split)
    let err = b.transform(&df).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Bucketizer: NaN in column `x` (partition 0, row 5); set handleInvalid to \"skip\" to drop such rows or \"keep\" to put them in an extra bucket"
    );
    let keep = b
        .clone()
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(&df)
        .unwrap();
    assert_eq!(
        col(&keep, "b"),
        vec![Some(0.0), Some(1.0), Some(2.0), Some(2.0), None, Some(3.0)]
    );
    let skip = b
        .clone()
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&df)
        .unwrap();
    assert_eq!(
        col(&skip, "b"),
        vec![Some(0.0), Some(1.0), Some(2.0), Some(2.0)]
    );
    let out = frame(vec![("x", floats_arr(&[Some(2.0)]))]);
    let err = b
        .clone()
        .with_handle_invalid(HandleInvalid::Keep)
        .transform(&out)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Bucketizer: value 2 outside the splits [-1, 1] in column `x`"),
        "{err}"
    );
    let err = Bucketizer::new()
        .with_input_col("x")
        .with_output_col("b")
        .with_splits(&[0.0, 0.0, 1.0])
        .transform(&df)
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("Bucketizer: parameter `splits` must be at least 3 strictly increasing"),
        "{err}"
    );
    check_transformer(&b.with_handle_invalid(HandleInvalid::Keep), &df);
    // multi-column form and Spark's JSON for infinities
    let m = Bucketizer::new()
        .with_input_cols(["x", "x"])
        .with_output_cols(["b1", "b2"])
        .with_splits_array(&[
            vec![f64::NEG_INFINITY, 0.0, f64::INFINITY],
            vec![-1.0, 0.5, 1.0],
        ])
        .with_handle_invalid(HandleInvalid::Skip);
    let out = m.transform(&df).unwrap();
    assert_eq!(
        col(&out, "b1"),
        vec![Some(0.0), Some(1.0), Some(1.0), Some(1.0)]
    );
    assert_eq!(
        m.params_json()["splitsArray"],
        serde_json::json!([["-Inf", 0.0, "Inf"], [-1.0, 0.5, 1.0]])
    );

    // Spark's output metadata: an ordinal nominal attribute with one "a, b" label per
    // bucket (split values spelled as Java's Double.toString), which OneHotEncoder reads
    // for the category count even when the data fill only one bucket.
    let field = out.schema().field_with_name("b2").unwrap().clone();
    let attr: serde_json::Value = serde_json::from_str(&field.metadata()["ml_attr"]).unwrap();
    assert_eq!(
        attr,
        serde_json::json!({"type": "nominal", "ord": true, "vals": ["-1.0, 0.5", "0.5, 1.0"]})
    );
    let b1 = out.schema().field_with_name("b1").unwrap();
    assert!(b1.metadata()["ml_attr"].contains(r#""vals":["-Infinity, 0.0","0.0, Infinity"]"#));
    // PySpark 4.3.0 gives this column the metadata
    // {"ml_attr": {"ord": true, "vals": ["-Infinity, 0.0", "0.0, 10.0", "10.0, 1.0E7",
    //  "1.0E7, Infinity"], "type": "nominal"}}
    let low = frame(vec![("x", floats_arr(&[Some(-5.0), Some(-7.0)]))]);
    let bucketed = Bucketizer::new()
        .with_input_col("x")
        .with_output_col("b")
        .with_splits(&[f64::NEG_INFINITY, 0.0, 10.0, 1e7, f64::INFINITY])
        .transform(&low)
        .unwrap();
    let attr: serde_json::Value = serde_json::from_str(
        &bucketed.schema().field_with_name("b").unwrap().metadata()["ml_attr"],
    )
    .unwrap();
    assert_eq!(
        attr,
        serde_json::json!({"ord": true, "type": "nominal",
            "vals": ["-Infinity, 0.0", "0.0, 10.0", "10.0, 1.0E7", "1.0E7, Infinity"]})
    );
    let ohe = OneHotEncoder::new()
        .with_input_col("b")
        .with_output_col("v")
        .fit(&bucketed)
        .unwrap();
    assert_eq!(
        ohe.category_sizes(),
        &[4],
        "four buckets, from the metadata (the data fill only one)"
    );
}

#[test]
fn inconsistent_models_are_errors_not_panics() {
    let df = frame(vec![
        ("a", floats_arr(&[Some(1.0)])),
        ("b", floats_arr(&[Some(2.0)])),
    ]);
    let df = VectorAssembler::new()
        .with_input_cols(["a", "b"])
        .with_output_col("v")
        .transform(&df)
        .unwrap();
    let m = StandardScalerModel::new(
        "s",
        StandardScalerParams {
            input_col: "v".into(),
            output_col: "o".into(),
            ..Default::default()
        },
        vec![0.0, 0.0],
        vec![1.0],
    );
    assert_eq!(
        m.transform(&df).unwrap_err().to_string(),
        "StandardScalerModel: parameter `std` must be 2 values, one per mean, got 1"
    );
    let m = MinMaxScalerModel::new(
        "m",
        MinMaxScalerParams {
            input_col: "v".into(),
            output_col: "o".into(),
            ..Default::default()
        },
        vec![0.0, 0.0],
        vec![1.0],
    );
    assert!(m
        .transform(&df)
        .unwrap_err()
        .to_string()
        .starts_with("MinMaxScalerModel: parameter `originalMax` must be 2 values"));
    let p = ImputerParams {
        input_cols: Some(vec!["a".into(), "b".into()]),
        output_cols: Some(vec!["x".into(), "y".into()]),
        ..Default::default()
    };
    let err = ImputerModel::new("i", p, vec![1.0])
        .transform(&df)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ImputerModel: parameter `surrogates` must be 2 values, one per input column, got 1"
    );
}

#[test]
fn fitted_string_indexer_skips_a_missing_input_like_spark() {
    // Spark's StringIndexerModel skips (with a warning) an input column that is absent, so
    // a pipeline that indexes its label scores data that has no label.
    let train = frame(vec![
        (
            "x",
            floats_arr(&[Some(1.0), Some(2.0), Some(3.0), Some(4.0)]),
        ),
        (
            "y",
            strings(&[Some("no"), Some("yes"), Some("no"), Some("yes")]),
        ),
    ]);
    let model = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("y")
                .with_output_col("label"),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["x"])
                .with_output_col("features"),
        )
        .with_estimator(LogisticRegression::new())
        .fit(&train)
        .unwrap();
    let unlabelled = frame(vec![("x", floats_arr(&[Some(0.5), Some(3.5)]))]);
    let out = model.transform(&unlabelled).unwrap();
    assert!(out.schema().field_with_name("label").is_err());
    assert_eq!(out.column("prediction").unwrap().len(), 2);

    // Multi-column: only the present column is indexed.
    let m = StringIndexer::new()
        .with_input_cols(["y", "z"])
        .with_output_cols(["yi", "zi"])
        .fit(&frame(vec![
            ("y", strings(&[Some("a"), Some("b"), Some("a")])),
            ("z", strings(&[Some("c"), Some("c"), Some("d")])),
        ]))
        .unwrap();
    let out = m
        .transform(&frame(vec![("z", strings(&[Some("d"), Some("c")]))]))
        .unwrap();
    assert_eq!(col(&out, "zi"), vec![Some(1.0), Some(0.0)]);
    assert!(out.schema().field_with_name("yi").is_err());
}

/// A dictionary-encoded string column (what polars' Categorical and Parquet dictionary
/// pages give) indexes as the same plain strings do: the same labels in Spark's
/// frequencyDesc and alphabetAsc orders (ties alphabetical), the same indices, nulls
/// under handleInvalid keep / error alike; a dictionary of numbers is refused, naming
/// the column and the accepted types.
#[test]
fn string_indexer_reads_dictionary_columns_as_strings() {
    use arrow::array::{DictionaryArray, Int32Array};
    use arrow::datatypes::{Int32Type, Int8Type};
    let vals = [
        Some("b"),
        Some("a"),
        Some("b"),
        None,
        Some("c"),
        Some("b"),
        Some("a"),
    ];
    let plain = StringArray::from(vals.to_vec());
    let dict: DictionaryArray<Int8Type> = vals.iter().copied().collect();
    let batch = RecordBatch::try_from_iter([
        ("s", Arc::new(plain) as ArrayRef),
        ("d", Arc::new(dict) as ArrayRef),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![batch.slice(0, 4), batch.slice(4, 3)]).unwrap();
    for order in [StringOrderType::FrequencyDesc, StringOrderType::AlphabetAsc] {
        let fit = |c: &str| {
            StringIndexer::new()
                .with_input_col(c)
                .with_output_col(&format!("{c}_i"))
                .with_string_order_type(order)
                .with_handle_invalid(HandleInvalid::Keep)
                .fit(&df)
                .unwrap()
        };
        let (ms, md) = (fit("s"), fit("d"));
        assert_eq!(ms.labels(), md.labels());
        // b x3, a x2, c x1 (hand count); alphabetical: a, b, c.
        let want = match order {
            StringOrderType::FrequencyDesc => ["b", "a", "c"],
            _ => ["a", "b", "c"],
        };
        assert_eq!(md.labels()[0], want);
        let out = md.transform(&ms.transform(&df).unwrap()).unwrap();
        let col = |c: &str| -> Vec<f64> {
            out.column(c)
                .unwrap()
                .chunks
                .iter()
                .flat_map(|a| {
                    a.as_primitive::<arrow::datatypes::Float64Type>()
                        .values()
                        .to_vec()
                })
                .collect()
        };
        assert_eq!(col("s_i"), col("d_i"));
        assert_eq!(col("d_i")[3], 3.0, "a null key under keep: index numLabels");
    }
    let err = StringIndexer::new()
        .with_input_col("d")
        .with_output_col("d_i")
        .fit(&df)
        .unwrap()
        .transform(&df)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("StringIndexerModel: null value in column `d` (partition 0, row 3)"),
        "{err}"
    );
    let nums: DictionaryArray<Int32Type> = DictionaryArray::new(
        Int32Array::from(vec![0, 1, 0]),
        Arc::new(Int64Array::from(vec![7, 9])),
    );
    let batch = RecordBatch::try_from_iter([("n", Arc::new(nums) as ArrayRef)]).unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let err = StringIndexer::new()
        .with_input_col("n")
        .with_output_col("n_i")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`n`") && err.contains("Dictionary of integer keys") && err.contains("Utf8"),
        "{err}"
    );
}

/// RFormula one-hot encodes a dictionary-encoded string term as it does the plain strings:
/// the same features, bit for bit.
#[test]
fn rformula_encodes_dictionary_terms_as_strings() {
    use arrow::array::DictionaryArray;
    use arrow::datatypes::Int16Type;
    let vals = ["x", "y", "x", "z", "y", "x"];
    let dict: DictionaryArray<Int16Type> = vals.iter().copied().collect();
    let batch = RecordBatch::try_from_iter([
        ("s", Arc::new(StringArray::from(vals.to_vec())) as ArrayRef),
        ("d", Arc::new(dict) as ArrayRef),
        (
            "y",
            Arc::new(Float64Array::from(vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0])) as ArrayRef,
        ),
    ])
    .unwrap();
    let df = DataFrame::from_batches(vec![batch]).unwrap();
    let features = |term: &str| {
        let out = RFormula::new()
            .with_formula(&format!("y ~ {term}"))
            .fit(&df)
            .unwrap()
            .transform(&df)
            .unwrap();
        out.column("features").unwrap().chunks[0].to_data()
    };
    assert_eq!(features("s"), features("d"));
}
