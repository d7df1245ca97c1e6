//! CrossValidator / TrainValidationSplit against Spark, and their bad-input errors.
//!
//! Reference: `tests/fixtures/spark2/cv_lr.json` (PySpark 4.3.0 CrossValidator, see the
//! README there): 2 folds, seed 13, areaUnderPR, regParam [0.01, 0.2] x elasticNetParam
//! [0.0, 0.8] over VectorAssembler -> LogisticRegression(maxIter=100), the training CSV as
//! one partition in file order.

mod common;

use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::{BinaryClassificationEvaluator, BinaryMetric};
use mlpipe::feature::VectorAssembler;
use mlpipe::frame::Partitioning;
use mlpipe::prelude::*;
use mlpipe::tuning::{
    CrossValidator, FoldAssignment, Param, ParamGridBuilder, TrainValidationSplit,
};
use serde_json::Value;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/spark2/{name}",
        common::repo_root().display()
    )
}

fn train() -> DataFrame {
    let opts = CsvOptions::default().with_partitioning(Partitioning::Spark {
        default_parallelism: 2,
    });
    let df = DataFrame::read_csv(fixture("synth_binary_train.csv"), &opts).unwrap();
    assert_eq!(df.num_partitions(), 1);
    df
}

fn spec() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("cv_lr.json")).unwrap()).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn setup() -> (Pipeline, LogisticRegression, Vec<mlpipe::tuning::ParamMap>) {
    let lr = LogisticRegression::new().with_max_iter(100);
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.01, 0.2])
        .add_grid(Param::elastic_net_param(&lr), [0.0, 0.8])
        .build();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["x1", "x2", "x3", "x4"])
                .with_output_col("features"),
        )
        .with_estimator(lr.clone());
    (pipeline, lr, grid)
}

fn pr() -> BinaryClassificationEvaluator {
    BinaryClassificationEvaluator::new().with_metric(BinaryMetric::AreaUnderPr)
}

#[test]
fn cross_validator_gives_sparks_avg_metrics_and_best_params() {
    let spec = spec();
    let (pipeline, lr, grid) = setup();
    let cv = CrossValidator::new(pipeline, pr(), grid)
        .with_num_folds(2)
        .with_seed(13)
        .with_parallelism(2)
        .with_collect_sub_models(true);
    let model = cv.fit(&train()).unwrap();
    let (avg, std) = (f64s(&spec["avgMetrics"]), f64s(&spec["stdMetrics"]));
    for j in 0..4 {
        assert!(
            (model.avg_metrics()[j] - avg[j]).abs() < 1e-9,
            "avgMetrics[{j}] {} vs Spark {}",
            model.avg_metrics()[j],
            avg[j]
        );
        assert!(
            (model.std_metrics()[j] - std[j]).abs() < 1e-9,
            "stdMetrics[{j}]"
        );
    }
    assert_eq!(
        model.best_index() as i64,
        spec["bestIndex"].as_i64().unwrap()
    );
    let best = model.best_params();
    assert_eq!(
        best.get(&Param::reg_param(&lr)).unwrap().as_f64(),
        Some(0.01)
    );
    assert_eq!(
        best.get(&Param::elastic_net_param(&lr)).unwrap().as_f64(),
        Some(0.0)
    );
    let subs = model.sub_models().unwrap();
    assert_eq!((subs.len(), subs[0].len()), (2, 4));
    assert_eq!(subs[0][0].stages().len(), 2, "prefix stage + fitted LR");
    let scored = model.transform(&train()).unwrap();
    assert!(scored.schema().field_with_name("probability").is_ok());
}

#[test]
fn same_result_on_one_thread_and_without_a_pipeline_prefix() {
    // The assembler fitted once per fold (prefix) or per map must give the same numbers.
    let (pipeline, lr, grid) = setup();
    let a = CrossValidator::new(pipeline, pr(), grid.clone())
        .with_num_folds(3)
        .with_seed(5)
        .fit(&train())
        .unwrap();
    let assembled = VectorAssembler::new()
        .with_input_cols(["x1", "x2", "x3", "x4"])
        .with_output_col("features")
        .transform(&train())
        .unwrap();
    let b = CrossValidator::new(lr, pr(), grid)
        .with_num_folds(3)
        .with_seed(5)
        .with_parallelism(3)
        .fit(&assembled)
        .unwrap();
    assert_eq!(a.avg_metrics(), b.avg_metrics());
}

#[test]
fn scala_folds_and_train_validation_split_run() {
    let (pipeline, _, grid) = setup();
    let m = CrossValidator::new(pipeline.clone(), pr(), grid.clone())
        .with_num_folds(2)
        .with_fold_assignment(FoldAssignment::Scala)
        .fit(&train())
        .unwrap();
    assert_eq!(m.avg_metrics().len(), 4);
    let t = TrainValidationSplit::new(pipeline, pr(), grid)
        .with_seed(3)
        .fit(&train())
        .unwrap();
    assert_eq!(t.validation_metrics().len(), 4);
    assert!(t.validation_metrics().iter().all(|m| *m > 0.5 && *m <= 1.0));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let (pipeline, _, grid) = setup();
    let df = train();
    let e = CrossValidator::new(pipeline.clone(), pr(), vec![])
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("CrossValidator: parameter `estimatorParamMaps` must be a non-empty list"),
        "{e}"
    );
    let e = CrossValidator::new(pipeline.clone(), pr(), grid.clone())
        .with_num_folds(1)
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "CrossValidator: parameter `numFolds` must be >= 2, got 1"
    );
    let e = TrainValidationSplit::new(pipeline.clone(), pr(), grid.clone())
        .with_train_ratio(1.0)
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "TrainValidationSplit: parameter `trainRatio` must be in (0, 1), got 1"
    );
    // A param the stage lacks: the stage lists its params.
    let lr = LogisticRegression::new();
    let bad = ParamGridBuilder::new()
        .add_grid(Param::new(&lr, "regParm"), [0.1])
        .build();
    let e = CrossValidator::new(lr, pr(), bad)
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("LogisticRegression: unknown parameter `regParm`; valid parameters are:"),
        "{e}"
    );
    assert!(e.contains("\"regParam\""), "{e}");
    // A param of a stage that is not in the estimator.
    let other = LogisticRegression::new();
    let stray = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&other), [0.1])
        .build();
    let e = CrossValidator::new(pipeline.clone(), pr(), stray)
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("must be params of the estimator's stages"),
        "{e}"
    );
    // foldCol values outside [0, numFolds).
    let e = CrossValidator::new(pipeline, pr(), grid)
        .with_num_folds(3)
        .with_fold_col("id")
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert_eq!(e, "CrossValidator: parameter `foldCol` must be a column whose fold numbers are in range [0, 3), got 3 in column `id` (partition 0, row 2)");
}

#[test]
fn pyspark_fold_draws_are_sparks() {
    // cv_lr_folds.csv: PySpark's rand(13) of every training row (one partition, file order)
    // and the fold it put the row in (2 folds: fold = u >= 0.5).
    use mlpipe::random::{JvmRandom, XorShiftRandom};
    let text = std::fs::read_to_string(fixture("cv_lr_folds.csv")).unwrap();
    let mut rng = XorShiftRandom::new(13);
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (u, fold): (f64, u32) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        let mine = rng.next_double();
        assert_eq!(mine, u, "row {line}");
        assert_eq!(u32::from(mine >= 0.5), fold);
        n += 1;
    }
    assert_eq!(n, 400);
}
