//! Spark's on-disk format: the Spark 4.3 fixtures load and predict as Spark did (1e-9),
//! mlpipe's saves round-trip, saves are atomic, and bad files give clear errors.

use crate::common;

use std::fs;

use common::*;
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{StandardScaler, VectorAssembler};
use mlpipe::persist::{load_stage, save, SaveMode};
use mlpipe::prelude::*;

fn assert_matches_spark(out: &DataFrame, csv: &str, k: usize) {
    let spark = read(csv);
    assert_eq!(
        f64_column(out, "customer_id"),
        f64_column(&spark, "customer_id")
    );
    let raw = vector_rows(out, "rawPrediction");
    let prob = vector_rows(out, "probability");
    for c in 0..k {
        let sr = f64_column(&spark, &format!("rawPrediction_{c}"));
        let sp = f64_column(&spark, &format!("probability_{c}"));
        for r in 0..sr.len() {
            assert!(
                (raw[r][c] - sr[r]).abs() <= 1e-9 * sr[r].abs().max(1.0),
                "raw {r},{c}: {} vs {}",
                raw[r][c],
                sr[r]
            );
            assert!(
                (prob[r][c] - sp[r]).abs() <= 1e-9,
                "prob {r},{c}: {} vs {}",
                prob[r][c],
                sp[r]
            );
        }
    }
    assert_eq!(
        f64_column(out, "prediction"),
        f64_column(&spark, "prediction")
    );
}

#[test]
fn spark_fixtures_load_and_predict_as_spark_did() {
    let inputs = read("spark_pipeline_lr_inputs.csv");
    let pipeline = PipelineModel::load(spark_fixture("spark_pipeline_lr")).unwrap();
    assert_eq!(pipeline.stages().len(), 3);
    assert_matches_spark(
        &pipeline.transform(&inputs).unwrap(),
        "spark_pipeline_lr_predictions.csv",
        2,
    );

    let en = load_stage(spark_fixture("spark_lr_elasticnet")).unwrap();
    assert_matches_spark(
        &en.transform(&assembled(&inputs)).unwrap(),
        "spark_lr_elasticnet_predictions.csv",
        2,
    );

    let mn = load_stage(spark_fixture("spark_lr_multinomial")).unwrap();
    assert_matches_spark(
        &mn.transform(&assembled(&inputs)).unwrap(),
        "spark_lr_multinomial_predictions.csv",
        3,
    );
}

#[test]
fn saved_pipeline_round_trips() {
    let train = read("train_rows.csv");
    let cols = feature_cols();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let model = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("raw")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features")
                .with_mean(true),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.01),
        )
        .fit(&train)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model");
    save(&model, &path, SaveMode::ErrorIfExists).unwrap();
    let back = PipelineModel::load(&path).unwrap();
    let inputs = read("spark_pipeline_lr_inputs.csv");
    assert_eq!(
        model.transform(&inputs).unwrap().collect().unwrap(),
        back.transform(&inputs).unwrap().collect().unwrap()
    );
    // the data file carries Spark's row-metadata footer
    let data = fs::read_dir(
        path.join("stages")
            .join(format!("2_{}", model.stages()[2].uid()))
            .join("data"),
    )
    .unwrap();
    let pq = data
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "parquet"))
        .unwrap();
    let bytes = fs::read(pq.path()).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("org.apache.spark.ml.linalg.MatrixUDT"));

    // an existing path is an error unless overwrite was asked for
    let err = save(&model, &path, SaveMode::ErrorIfExists).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: already exists; to overwrite it, save with SaveMode::Overwrite",
            path.display()
        )
    );
    save(&model, &path, SaveMode::Overwrite).unwrap();
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert_eq!(
        leftovers,
        vec![std::ffi::OsString::from("model")],
        "no temporary or old directory is left"
    );
}

#[test]
fn bad_model_directories_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let copy = |name: &str| {
        let to = dir.path().join(name);
        copy_dir(
            &std::path::PathBuf::from(spark_fixture("spark_lr_elasticnet")),
            &to,
        );
        to
    };
    // missing metadata
    let err = load_stage(dir.path().join("nothing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("nothing/metadata: cannot list"), "{err}");
    // corrupt metadata JSON
    let p = copy("corrupt");
    let md = first_part(&p.join("metadata"));
    fs::write(&md, "{\"class\": \"org.apache").unwrap();
    let err = load_stage(&p).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: corrupt metadata JSON", md.display())),
        "{err}"
    );
    // unknown class
    let p = copy("unknown");
    let md = first_part(&p.join("metadata"));
    let text = fs::read_to_string(&md)
        .unwrap()
        .replace("LogisticRegressionModel", "NoSuchClassificationModel");
    fs::write(&md, text).unwrap();
    let err = load_stage(&p).unwrap_err().to_string();
    assert!(err.contains("unknown class org.apache.spark.ml.classification.NoSuchClassificationModel; known classes: [\"org.apache.spark.ml.PipelineModel\""), "{err}");
    // a newer format
    let p = copy("newer");
    let md = first_part(&p.join("metadata"));
    let text = fs::read_to_string(&md)
        .unwrap()
        .replace("\"sparkVersion\":\"4.3.0\"", "\"sparkVersion\":\"5.0.0\"");
    fs::write(&md, text).unwrap();
    assert!(load_stage(&p)
        .unwrap_err()
        .to_string()
        .contains("written by Spark 5.0.0, a format newer than this mlpipe reads"));
    // truncated data file
    let p = copy("truncated");
    let data = first_part(&p.join("data"));
    let bytes = fs::read(&data).unwrap();
    fs::write(&data, &bytes[..bytes.len() / 2]).unwrap();
    let err = load_stage(&p).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{}: corrupt model data", data.display())),
        "{err}"
    );
    // a pipeline whose stage directory is missing
    let pipe = dir.path().join("pipe");
    copy_dir(
        &std::path::PathBuf::from(spark_fixture("spark_pipeline_lr")),
        &pipe,
    );
    let stage = fs::read_dir(pipe.join("stages"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("1_"))
        .unwrap();
    fs::remove_dir_all(stage.path()).unwrap();
    let err = PipelineModel::load(&pipe).unwrap_err().to_string();
    assert!(err.ends_with("stage 1 of the pipeline is missing"), "{err}");
}

fn first_part(dir: &std::path::Path) -> std::path::PathBuf {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(['.', '_'])
        })
        .collect();
    v.sort();
    v.remove(0)
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), &target).unwrap();
            let mut perm = fs::metadata(&target).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            fs::set_permissions(&target, perm).unwrap();
        }
    }
}

/// Every saveable stage: save -> load -> transform gives identical output.
#[test]
fn every_stage_round_trips() {
    use mlpipe::feature::*;
    let df = DataFrame::read_csv(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/telco_churn/telco_customer_churn.csv"
        ),
        &CsvOptions::default().with_null_values(&["", " "]),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, stage: Box<dyn Transformer>, input: &DataFrame| {
        let p = mlpipe::persist::persistable(stage.as_ref())
            .unwrap_or_else(|| panic!("{name} cannot be saved"));
        let path = dir.path().join(name);
        save(p, &path, SaveMode::ErrorIfExists).unwrap();
        let back = load_stage(&path).unwrap();
        assert_eq!(back.kind(), stage.kind());
        assert_eq!(back.params_json(), stage.params_json(), "{name}: params");
        assert_eq!(
            back.transform(input).unwrap().collect().unwrap(),
            stage.transform(input).unwrap().collect().unwrap(),
            "{name}: output"
        );
    };
    let label = StringIndexer::new()
        .with_input_col("Churn")
        .with_output_col("label")
        .fit(&df)
        .unwrap();
    let df1 = label.transform(&df).unwrap();
    check("label_indexer", Box::new(label), &df);
    let cats = StringIndexer::new()
        .with_input_cols(["Contract", "gender"])
        .with_output_cols(["c", "g"])
        .with_handle_invalid(HandleInvalid::Keep)
        .fit(&df1)
        .unwrap();
    let df2 = cats.transform(&df1).unwrap();
    check("indexer", Box::new(cats), &df1);
    let ohe = OneHotEncoder::new()
        .with_input_cols(["c", "g"])
        .with_output_cols(["cv", "gv"])
        .fit(&df2)
        .unwrap();
    let df3 = ohe.transform(&df2).unwrap();
    check("one_hot", Box::new(ohe), &df2);
    let imp = Imputer::new()
        .with_input_cols(["TotalCharges"])
        .with_output_cols(["tc"])
        .with_strategy(ImputerStrategy::Median)
        .fit(&df3)
        .unwrap();
    let df4 = imp.transform(&df3).unwrap();
    check("imputer", Box::new(imp), &df3);
    let va = VectorAssembler::new()
        .with_input_cols(["cv", "gv", "tenure", "tc", "SeniorCitizen"])
        .with_output_col("raw");
    let df5 = va.transform(&df4).unwrap();
    check("assembler", Box::new(va), &df4);
    check(
        "min_max",
        Box::new(
            MinMaxScaler::new()
                .with_input_col("raw")
                .with_output_col("mm")
                .fit(&df5)
                .unwrap(),
        ),
        &df5,
    );
    check(
        "max_abs",
        Box::new(
            MaxAbsScaler::new()
                .with_input_col("raw")
                .with_output_col("ma")
                .fit(&df5)
                .unwrap(),
        ),
        &df5,
    );
    let ss = StandardScaler::new()
        .with_input_col("raw")
        .with_output_col("features")
        .fit(&df5)
        .unwrap();
    let df6 = ss.transform(&df5).unwrap();
    check("scaler", Box::new(ss), &df5);
    check(
        "lr",
        Box::new(
            LogisticRegression::new()
                .with_reg_param(0.01)
                .fit(&df6)
                .unwrap(),
        ),
        &df6,
    );
    check(
        "bucketizer",
        Box::new(
            Bucketizer::new()
                .with_input_col("tenure")
                .with_output_col("tb")
                .with_splits(&[f64::NEG_INFINITY, 12.0, 48.0, f64::INFINITY]),
        ),
        &df,
    );
    check(
        "index_to_string",
        Box::new(
            IndexToString::new()
                .with_input_col("c")
                .with_output_col("c_str"),
        ),
        &df2,
    );
}

#[test]
fn unfitted_pipeline_round_trips() {
    use mlpipe::persist::load_pipeline_stage;
    let cols = feature_cols();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let pipeline = Pipeline::new()
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(&refs)
                .with_output_col("raw")
                .with_handle_invalid(HandleInvalid::Skip),
        )
        .with_estimator(
            StandardScaler::new()
                .with_input_col("raw")
                .with_output_col("features")
                .with_mean(true),
        )
        .with_estimator(
            LogisticRegression::new()
                .with_label_col("churn")
                .with_reg_param(0.05)
                .with_elastic_net_param(0.3),
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline");
    save(&pipeline, &path, SaveMode::ErrorIfExists).unwrap();
    let back = Pipeline::load(&path).unwrap();
    assert_eq!(back.uid(), pipeline.uid());
    let train = read("train_rows.csv");
    let (a, b) = (pipeline.fit(&train).unwrap(), back.fit(&train).unwrap());
    let inputs = read("spark_pipeline_lr_inputs.csv");
    assert_eq!(
        a.transform(&inputs).unwrap().collect().unwrap(),
        b.transform(&inputs).unwrap().collect().unwrap()
    );
    // each estimator loads on its own too, and load_stage explains what it holds
    let lr_dir = fs::read_dir(path.join("stages"))
        .unwrap()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("2_"))
        .unwrap()
        .path();
    assert!(matches!(
        load_pipeline_stage(&lr_dir).unwrap(),
        PipelineStage::Estimator(_)
    ));
    let err = load_stage(&lr_dir).unwrap_err().to_string();
    assert!(err.ends_with("holds an unfitted LogisticRegression, not a transformer; load it with load_pipeline_stage or Pipeline::load and fit it"), "{err}");
    let err = PipelineModel::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("holds a org.apache.spark.ml.Pipeline, not a PipelineModel"),
        "{err}"
    );
}

/// Every unfitted estimator: save -> load -> the same params and uid.
#[test]
fn every_estimator_round_trips() {
    use mlpipe::feature::*;
    use mlpipe::persist::{load_pipeline_stage, persistable_stage};
    let dir = tempfile::tempdir().unwrap();
    let stages: Vec<PipelineStage> = vec![
        PipelineStage::Estimator(Box::new(
            StandardScaler::new()
                .with_input_col("v")
                .with_output_col("s")
                .with_mean(true),
        )),
        PipelineStage::Estimator(Box::new(
            MinMaxScaler::new()
                .with_input_col("v")
                .with_output_col("s")
                .with_min(-1.0),
        )),
        PipelineStage::Estimator(Box::new(
            MaxAbsScaler::new().with_input_col("v").with_output_col("s"),
        )),
        PipelineStage::Estimator(Box::new(
            StringIndexer::new()
                .with_input_cols(["a", "b"])
                .with_output_cols(["ai", "bi"])
                .with_string_order_type(StringOrderType::AlphabetAsc),
        )),
        PipelineStage::Estimator(Box::new(
            OneHotEncoder::new()
                .with_input_col("i")
                .with_output_col("o")
                .with_drop_last(false),
        )),
        PipelineStage::Estimator(Box::new(
            Imputer::new()
                .with_input_cols(["x"])
                .with_output_cols(["y"])
                .with_strategy(ImputerStrategy::Mode),
        )),
        PipelineStage::Estimator(Box::new(
            LogisticRegression::new()
                .with_reg_param(0.3)
                .with_thresholds(&[0.4, 0.6]),
        )),
    ];
    for (i, s) in stages.iter().enumerate() {
        let path = dir.path().join(i.to_string());
        save(
            persistable_stage(s).unwrap(),
            &path,
            SaveMode::ErrorIfExists,
        )
        .unwrap();
        let (PipelineStage::Estimator(a), PipelineStage::Estimator(b)) =
            (s, load_pipeline_stage(&path).unwrap())
        else {
            panic!("stage {i} did not load as an estimator");
        };
        assert_eq!(
            (a.kind(), a.uid(), a.params_json()),
            (b.kind(), b.uid(), b.params_json()),
            "stage {i}"
        );
    }
}
