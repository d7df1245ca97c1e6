//! CrossValidator / TrainValidationSplit against Spark, and their bad-input errors.
//!
//! Reference: `tests/fixtures/spark2/cv_lr.json` (PySpark 4.3.0 CrossValidator, see the
//! README there): 2 folds, seed 13, areaUnderPR, regParam [0.01, 0.2] x elasticNetParam
//! [0.0, 0.8] over VectorAssembler -> LogisticRegression(maxIter=100), the training CSV as
//! one partition in file order.

use crate::common;

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

fn test_rows() -> DataFrame {
    DataFrame::read_csv(fixture("synth_binary_test.csv"), &CsvOptions::default()).unwrap()
}

#[test]
fn sparks_saved_cross_validator_loads_and_refits_to_sparks_metrics() {
    // cv_lr_pipeline_unfitted/: the CrossValidator as Spark 4.3 saved it (estimator,
    // evaluator, estimatorParamMaps); refit here, it gives cv_lr.json's avgMetrics.
    use mlpipe::persist::load_pipeline_stage;
    let spec = spec();
    let cv = CrossValidator::<Pipeline>::load(fixture("cv_lr_pipeline_unfitted")).unwrap();
    assert_eq!(cv.uid(), "CrossValidator_cc5d2a8167aa");
    assert_eq!(cv.estimator_param_maps().len(), 4);
    assert_eq!(cv.params_json()["numFolds"], 2);
    assert_eq!(cv.params_json()["seed"], 13);
    let model = cv.fit(&train()).unwrap();
    let avg = f64s(&spec["avgMetrics"]);
    for (j, (mine, spark)) in model.avg_metrics().iter().zip(&avg).enumerate() {
        assert!(
            (mine - spark).abs() < 1e-9,
            "avgMetrics[{j}] {mine} vs Spark {spark}"
        );
    }
    assert_eq!(model.avg_metrics().len(), 4);
    assert_eq!(
        model.best_index() as i64,
        spec["bestIndex"].as_i64().unwrap()
    );
    let best = model.best_params().to_string();
    assert_eq!(best, "{regParam=0.01, elasticNetParam=0.0}");
    // load_pipeline_stage dispatches it too, as an estimator.
    assert!(matches!(
        load_pipeline_stage(fixture("cv_lr_pipeline_unfitted")).unwrap(),
        PipelineStage::Estimator(_)
    ));
}

#[test]
fn sparks_saved_cross_validator_model_loads_and_predicts_as_spark() {
    // cv_lr_pipeline/: Spark's CrossValidatorModel; cv_lr_predictions.csv: what its best
    // model predicted on the test CSV (Spark 4.3).
    use mlpipe::tuning::CrossValidatorModel;
    let m = CrossValidatorModel::<PipelineModel>::load(fixture("cv_lr_pipeline")).unwrap();
    let spec = spec();
    let avg = f64s(&spec["avgMetrics"]);
    assert_eq!(
        m.avg_metrics(),
        avg.as_slice(),
        "metadata avgMetrics, as saved"
    );
    assert!(
        m.std_metrics().is_empty(),
        "Scala's writer saves no stdMetrics"
    );
    assert_eq!(m.best_index(), 0);
    assert_eq!(m.estimator_param_maps().len(), 4);
    let dynamic = mlpipe::persist::load_stage(fixture("cv_lr_pipeline")).unwrap();
    assert_eq!(dynamic.kind(), "CrossValidatorModel");
    let scored = dynamic.transform(&test_rows()).unwrap();
    let ids = common::f64_column(&scored, "id");
    let prob = common::vector_rows(&scored, "probability");
    let pred = common::f64_column(&scored, "prediction");
    let text = std::fs::read_to_string(fixture("cv_lr_predictions.csv")).unwrap();
    let mut n = 0;
    for line in text.lines().skip(1) {
        let f: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
        let r = ids.iter().position(|&i| i == f[0]).unwrap();
        assert!((prob[r][1] - f[4]).abs() < 1e-9, "id {}", f[0]);
        assert_eq!(pred[r], f[5], "id {}", f[0]);
        n += 1;
    }
    assert_eq!(n, 100);
}

#[test]
fn validators_and_models_round_trip_in_sparks_layout() {
    use mlpipe::tuning::{CrossValidatorModel, TrainValidationSplitModel};
    let (pipeline, _, grid) = setup();
    let dir = tempfile::tempdir().unwrap();
    let cv = CrossValidator::new(pipeline.clone(), pr(), grid.clone())
        .with_num_folds(2)
        .with_seed(13)
        .with_collect_sub_models(true);
    cv.save(dir.path().join("cv")).unwrap();
    let back = CrossValidator::<Pipeline>::load(dir.path().join("cv")).unwrap();
    assert_eq!(back.estimator_param_maps(), cv.estimator_param_maps());
    assert_eq!(back.params_json(), cv.params_json());
    let model = cv.fit(&train()).unwrap();
    model.save(dir.path().join("cvm")).unwrap();
    for sub in ["estimator", "evaluator", "bestModel", "subModels/fold1/3"] {
        assert!(
            dir.path().join("cvm").join(sub).join("metadata").is_dir(),
            "{sub}"
        );
    }
    let loaded = CrossValidatorModel::<PipelineModel>::load(dir.path().join("cvm")).unwrap();
    assert_eq!(loaded.avg_metrics(), model.avg_metrics());
    assert_eq!(loaded.std_metrics(), model.std_metrics());
    assert_eq!(loaded.best_index(), model.best_index());
    assert_eq!(loaded.estimator_param_maps(), model.estimator_param_maps());
    assert_eq!(loaded.sub_models().unwrap().len(), 2);
    let (a, b) = (
        model.transform(&test_rows()).unwrap(),
        loaded.transform(&test_rows()).unwrap(),
    );
    assert_eq!(
        common::vector_rows(&a, "probability"),
        common::vector_rows(&b, "probability")
    );

    let tvs = TrainValidationSplit::new(pipeline, pr(), grid)
        .with_seed(3)
        .with_collect_sub_models(true);
    tvs.save(dir.path().join("tvs")).unwrap();
    let tvs_back = TrainValidationSplit::<Pipeline>::load(dir.path().join("tvs")).unwrap();
    assert_eq!(tvs_back.params_json(), tvs.params_json());
    let tm = tvs.fit(&train()).unwrap();
    tm.save(dir.path().join("tvsm")).unwrap();
    let tl = TrainValidationSplitModel::<PipelineModel>::load(dir.path().join("tvsm")).unwrap();
    assert_eq!(tl.validation_metrics(), tm.validation_metrics());
    assert_eq!(tl.sub_models().unwrap().len(), 4);
    // A model of another type names both.
    let e = CrossValidatorModel::<PipelineModel>::load(dir.path().join("tvsm"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("holds a org.apache.spark.ml.tuning.TrainValidationSplitModel, not a CrossValidatorModel"),
        "{e}"
    );
}

#[test]
fn a_cross_validator_model_sits_in_a_pipeline() {
    // The validator is an Estimator: a pipeline stage, fitted into a PipelineModel.
    let (pipeline, _, grid) = setup();
    let cv = CrossValidator::new(pipeline, pr(), grid)
        .with_num_folds(2)
        .with_seed(13);
    let outer = Pipeline::new().with_estimator(cv).fit(&train()).unwrap();
    let scored = outer.transform(&test_rows()).unwrap();
    assert!(scored.schema().field_with_name("prediction").is_ok());
    let dir = tempfile::tempdir().unwrap();
    outer.save(dir.path().join("m")).unwrap();
    let back = PipelineModel::load(dir.path().join("m")).unwrap();
    assert_eq!(
        common::vector_rows(&back.transform(&test_rows()).unwrap(), "probability"),
        common::vector_rows(&scored, "probability")
    );
}

#[test]
fn a_validation_fold_with_one_class_scores_as_spark_does() {
    // Spark's BinaryClassificationEvaluator does not fail on a validation set with a single
    // class: its BinaryConfusionMatrix gives recall 0 when there are no positives
    // (`Recall`: weightedPositives == 0 -> 0.0), so every ROC point has TPR 0 and, with the
    // closing (1, 1) point, areaUnderROC is 0.0. The fold's metric enters avgMetrics as is.
    use arrow::array::{ArrayRef, Int32Array};
    use arrow::datatypes::{DataType, Field};
    use std::sync::Arc;
    let df = train();
    let labels = common::f64_column(&df, "label");
    let mut zeros = 0;
    let folds: Vec<i32> = labels
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            if l == 0.0 && zeros < 50 {
                zeros += 1;
                0
            } else {
                1 + (i % 2) as i32
            }
        })
        .collect();
    let df = df
        .with_column(
            Field::new("fold", DataType::Int32, false),
            vec![Arc::new(Int32Array::from(folds)) as ArrayRef],
        )
        .unwrap();
    let (pipeline, _, grid) = setup();
    let m = CrossValidator::new(pipeline, BinaryClassificationEvaluator::new(), grid)
        .with_num_folds(3)
        .with_fold_col("fold")
        .fit(&df)
        .unwrap();
    for j in 0..4 {
        assert_eq!(m.fold_metrics()[0][j], 0.0, "map {j}: the one-class fold");
        assert!(m.fold_metrics()[1][j] > 0.5 && m.fold_metrics()[2][j] > 0.5);
        let mean = m.fold_metrics().iter().map(|f| f[j]).sum::<f64>() / 3.0;
        assert_eq!(m.avg_metrics()[j], mean);
    }
}

#[test]
fn a_cross_validator_with_a_fold_column_fits_inside_a_pipeline() {
    // Pipeline::fit drops the columns that no later stage reads before each fit; the
    // CrossValidator's schema check reads its foldCol (as Spark's transformSchema does), so
    // the fold column reaches it. Same folds, same fits: the metrics are those of the
    // CrossValidator fitted on the assembled rows directly.
    use arrow::array::{ArrayRef, Int32Array};
    use arrow::datatypes::{DataType, Field};
    use mlpipe::classification::LogisticRegressionModel;
    use mlpipe::tuning::CrossValidatorModel;
    use std::sync::Arc;
    let df = train();
    let folds: Vec<i32> = (0..df.num_rows() as i32).map(|i| i % 2).collect();
    let df = df
        .with_column(
            Field::new("fold", DataType::Int32, false),
            vec![Arc::new(Int32Array::from(folds)) as ArrayRef],
        )
        .unwrap();
    let (_, lr, grid) = setup();
    let assembler = VectorAssembler::new()
        .with_input_cols(["x1", "x2", "x3", "x4"])
        .with_output_col("features");
    let cv = CrossValidator::new(lr, pr(), grid)
        .with_num_folds(2)
        .with_fold_col("fold");
    let direct = cv.fit(&assembler.transform(&df).unwrap()).unwrap();
    let model = Pipeline::new()
        .with_transformer(assembler.clone())
        .with_estimator(cv.clone())
        .fit(&df)
        .unwrap();
    let inner = model
        .stage::<CrossValidatorModel<LogisticRegressionModel>>()
        .unwrap();
    assert_eq!(inner.avg_metrics(), direct.avg_metrics());
    // A fold column that is not an integer column is refused before any fit.
    let e = Pipeline::new()
        .with_transformer(assembler)
        .with_estimator(cv.with_fold_col("x1"))
        .fit(&df)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("CrossValidator") && e.contains("x1") && e.contains("integer type"),
        "{e}"
    );
}

#[test]
fn a_scaler_pipeline_is_tuned_in_place_with_the_numbers_of_materialised_folds() {
    // The folds' training rows are read in place and the scaler's output is computed
    // block by block, never materialised; every fold metric and the refit must be those of
    // fits on materialised copies (rows copied, the scaler's column made), bit for bit.
    use arrow::array::{ArrayRef, BooleanArray, Int32Array};
    use arrow::datatypes::{DataType, Field};
    use mlpipe::classification::LogisticRegressionModel;
    use mlpipe::feature::StandardScaler;
    use std::sync::Arc;
    let assembled = VectorAssembler::new()
        .with_input_cols(["x1", "x2", "x3", "x4"])
        .with_output_col("features")
        .transform(&train())
        .unwrap();
    // Three partitions and a fold column.
    let batch = &assembled.partitions()[0];
    let n = batch.num_rows();
    let parts = [(0, n / 3), (n / 3, n / 3), (2 * n / 3, n - 2 * n / 3)]
        .iter()
        .map(|&(o, l)| batch.slice(o, l))
        .collect();
    let df = DataFrame::try_new(assembled.schema().clone(), parts).unwrap();
    let folds: Vec<ArrayRef> = df
        .partitions()
        .iter()
        .enumerate()
        .map(|(p, b)| {
            let f: Vec<i32> = (0..b.num_rows())
                .map(|r| ((r * 7 + p) % 3) as i32)
                .collect();
            Arc::new(Int32Array::from(f)) as ArrayRef
        })
        .collect();
    let df = df
        .with_column(Field::new("fold", DataType::Int32, false), folds)
        .unwrap();
    let fold_rows = |f: i32, validation: bool| -> DataFrame {
        let parts = df
            .partitions()
            .iter()
            .map(|b| {
                let fc = b.column_by_name("fold").unwrap();
                let fc = fc.as_any().downcast_ref::<Int32Array>().unwrap();
                let mask: BooleanArray = fc
                    .iter()
                    .map(|v| Some((v == Some(f)) == validation))
                    .collect();
                arrow::compute::filter_record_batch(b, &mask).unwrap()
            })
            .collect();
        let all = DataFrame::try_new(df.schema().clone(), parts).unwrap();
        all.drop(["fold"]).unwrap()
    };
    for with_mean in [false, true] {
        let scaler = StandardScaler::new()
            .with_input_col("features")
            .with_output_col("scaled")
            .with_mean(with_mean);
        let lr = LogisticRegression::new()
            .with_features_col("scaled")
            .with_max_iter(100);
        let grid = ParamGridBuilder::new()
            .add_grid(Param::reg_param(&lr), [0.01, 0.2])
            .add_grid(Param::elastic_net_param(&lr), [0.0, 0.8])
            .build();
        let pipeline = Pipeline::new()
            .with_estimator(scaler.clone())
            .with_estimator(lr.clone());
        let cv = CrossValidator::new(pipeline, pr(), grid.clone())
            .with_num_folds(3)
            .with_fold_col("fold")
            .with_parallelism(2)
            .fit(&df)
            .unwrap();
        let with_map = |m: &mlpipe::tuning::ParamMap| {
            let get = |p: Param| m.get(&p).unwrap().as_f64().unwrap();
            lr.clone()
                .with_reg_param(get(Param::reg_param(&lr)))
                .with_elastic_net_param(get(Param::elastic_net_param(&lr)))
        };
        for f in 0..3 {
            let (train_rows, valid_rows) = (fold_rows(f, false), fold_rows(f, true));
            let scaler_model = scaler.fit(&train_rows).unwrap();
            let scaled = scaler_model.transform(&train_rows).unwrap();
            let valid = scaler_model.transform(&valid_rows).unwrap();
            for (j, map) in grid.iter().enumerate() {
                let model = with_map(map).fit(&scaled).unwrap();
                let metric = pr().evaluate(&model.transform(&valid).unwrap()).unwrap();
                assert_eq!(
                    cv.fold_metrics()[f as usize][j],
                    metric,
                    "withMean {with_mean}, fold {f}, map {j}"
                );
            }
        }
        // The refit on all rows, and a plain fit of the pipeline, read the scaler's input
        // through its map: the coefficients of the fit on the materialised scaled column.
        let all = df.drop(["fold"]).unwrap();
        let scaler_model = scaler.fit(&all).unwrap();
        let scaled = scaler_model.transform(&all).unwrap();
        let expected = with_map(&grid[cv.best_index()]).fit(&scaled).unwrap();
        let best = cv.best_model().stage::<LogisticRegressionModel>().unwrap();
        assert_eq!(
            best.coefficients().unwrap(),
            expected.coefficients().unwrap()
        );
        assert_eq!(best.intercept().unwrap(), expected.intercept().unwrap());
        let plain = Pipeline::new()
            .with_estimator(scaler.clone())
            .with_estimator(with_map(&grid[0]))
            .fit(&all)
            .unwrap();
        let direct = with_map(&grid[0]).fit(&scaled).unwrap();
        let fitted = plain.stage::<LogisticRegressionModel>().unwrap();
        assert_eq!(
            fitted.coefficients().unwrap(),
            direct.coefficients().unwrap()
        );
        assert_eq!(
            fitted.summary().unwrap().objective_history,
            direct.summary().unwrap().objective_history
        );
    }
}
