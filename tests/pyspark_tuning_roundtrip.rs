//! PySpark 4.3 loads the CrossValidatorModel (with sub-models), TrainValidationSplitModel and
//! CrossValidator that mlpipe saved, and its best model predicts what mlpipe predicted
//! (1e-9); see `tests/pyspark/check_tuning_roundtrip.py`.

use crate::common;

use std::fmt::Write as _;

use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::evaluation::{BinaryClassificationEvaluator, BinaryMetric};
use mlpipe::feature::VectorAssembler;
use mlpipe::frame::Partitioning;
use mlpipe::prelude::*;
use mlpipe::tuning::{CrossValidator, Param, ParamGridBuilder, TrainValidationSplit};

fn spark2(name: &str) -> String {
    format!("{}/tests/fixtures/spark2/{name}", repo_root().display())
}

#[test]
#[ignore = "needs PySpark 4.3: set MLPIPE_PYSPARK to its python and run with --ignored (.ci/run does)"]
fn pyspark_loads_mlpipe_validator_models() {
    pyspark_python(); // fails at once, before any work, when PySpark is not set up
    let opts = CsvOptions::default().with_partitioning(Partitioning::Spark {
        default_parallelism: 2,
    });
    let train = DataFrame::read_csv(spark2("synth_binary_train.csv"), &opts).unwrap();
    let test = DataFrame::read_csv(spark2("synth_binary_test.csv"), &opts).unwrap();
    let lr = LogisticRegression::new().with_max_iter(100);
    // Integer 0 for a double param: written as 0.0, which Spark's DoubleParam decodes.
    let grid = ParamGridBuilder::new()
        .add_grid(Param::reg_param(&lr), [0.01, 0.2])
        .add_grid(
            Param::elastic_net_param(&lr),
            [serde_json::json!(0), 0.8.into()],
        )
        .build();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["x1", "x2", "x3", "x4"])
                .with_output_col("features"),
        )
        .with_estimator(lr);
    let pr = BinaryClassificationEvaluator::new().with_metric(BinaryMetric::AreaUnderPr);
    let cv = CrossValidator::new(pipeline.clone(), pr.clone(), grid.clone())
        .with_num_folds(2)
        .with_seed(13)
        .with_collect_sub_models(true);
    let dir = tempfile::tempdir().unwrap();
    cv.save(dir.path().join("cv")).unwrap();
    let cvm = cv.fit(&train).unwrap();
    cvm.save(dir.path().join("cvm")).unwrap();
    let tvsm = TrainValidationSplit::new(pipeline, pr, grid)
        .with_seed(3)
        .fit(&train)
        .unwrap();
    tvsm.save(dir.path().join("tvsm")).unwrap();
    let maps: Vec<serde_json::Value> = cvm
        .estimator_param_maps()
        .iter()
        .map(|m| {
            let mut o = serde_json::Map::new();
            for (p, v) in m.pairs() {
                o.insert(p.name.clone(), serde_json::json!(v.as_f64().unwrap()));
            }
            serde_json::Value::Object(o)
        })
        .collect();
    let expected = serde_json::json!({
        "avgMetrics": cvm.avg_metrics(),
        "validationMetrics": tvsm.validation_metrics(),
        "maps": maps,
    });
    std::fs::write(dir.path().join("expected.json"), expected.to_string()).unwrap();
    let scored = cvm.transform(&test).unwrap();
    let ids = f64_column(&scored, "id");
    let prob = vector_rows(&scored, "probability");
    let pred = f64_column(&scored, "prediction");
    let mut csv = String::from("id,probability_1,prediction\n");
    for r in 0..ids.len() {
        writeln!(csv, "{},{:?},{:?}", ids[r] as i64, prob[r][1], pred[r]).unwrap();
    }
    std::fs::write(dir.path().join("predictions.csv"), csv).unwrap();
    run_pyspark_check(
        "check_tuning_roundtrip.py",
        &[&dir.path(), &spark2("synth_binary_test.csv")],
    );
}
