//! Spark's `MLWritable` / `MLReadable` API: every stage, model and pipeline type saves with
//! `.save(path)` and `.write().overwrite().save(path)` and loads with `T::load(path)`; an
//! existing path, a directory of another stage and a directory that is no stage give
//! clear errors; an overwrite never replaces what is not a saved stage.

use std::fs;
use std::path::Path;

use mlpipe::classification::{LogisticRegression, LogisticRegressionModel};
use mlpipe::feature::*;
use mlpipe::persist::{check_writable, SaveMode};
use mlpipe::prelude::*;
use mlpipe::regression::{LinearRegression, LinearRegressionModel};

fn quickstart() -> DataFrame {
    DataFrame::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv"),
        &CsvOptions::default(),
    )
    .unwrap()
}

/// The names in `dir`, sorted (to show nothing else was written there).
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `.save`, a refused second `.save`, `.write().overwrite().save` and `T::load`; returns
/// what was loaded, after checking its uid, kind and params.
fn round_trip<T: MLWritable + MLReadable + Stage>(dir: &Path, name: &str, stage: &T) -> T {
    let path = dir.join(name);
    stage.save(&path).unwrap();
    let back = T::load(&path).unwrap();
    let err = back.save(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: already exists; to replace it, use .write().overwrite().save(path)",
            path.display()
        ),
        "{name}"
    );
    back.write().overwrite().save(&path).unwrap();
    let again = T::load(&path).unwrap();
    assert_eq!(
        (again.kind(), again.uid(), again.params_json()),
        (stage.kind(), stage.uid(), stage.params_json()),
        "{name}"
    );
    again
}

/// A fitted or data-free transformer: the loaded one transforms `df` identically.
fn model_round_trip<T: MLWritable + MLReadable + Transformer>(
    dir: &Path,
    name: &str,
    stage: &T,
    df: &DataFrame,
) -> DataFrame {
    let back = round_trip(dir, name, stage);
    let out = stage.transform(df).unwrap();
    assert_eq!(
        back.transform(df).unwrap().collect().unwrap(),
        out.collect().unwrap(),
        "{name}: output"
    );
    out
}

/// An estimator: the loaded one fits the same model.
fn estimator_round_trip<E>(dir: &Path, name: &str, est: &E, df: &DataFrame) -> E::Model
where
    E: Estimator + MLWritable + MLReadable,
{
    let back = round_trip(dir, name, est);
    let (a, b) = (est.fit(df).unwrap(), back.fit(df).unwrap());
    assert_eq!(
        a.transform(df).unwrap().collect().unwrap(),
        b.transform(df).unwrap().collect().unwrap(),
        "{name}: fitted output"
    );
    a
}

#[test]
fn every_type_saves_overwrites_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let df = quickstart();

    let si = StringIndexer::new()
        .with_input_col("contract")
        .with_output_col("contract_idx");
    let si_model = estimator_round_trip(d, "si", &si, &df);
    let df = model_round_trip(d, "si_model", &si_model, &df);
    model_round_trip(
        d,
        "its",
        &IndexToString::new()
            .with_input_col("contract_idx")
            .with_output_col("contract_again"),
        &df,
    );

    let ohe = OneHotEncoder::new()
        .with_input_col("contract_idx")
        .with_output_col("contract_vec");
    let ohe_model = estimator_round_trip(d, "ohe", &ohe, &df);
    let df = model_round_trip(d, "ohe_model", &ohe_model, &df);

    let imp = Imputer::new()
        .with_input_cols(["total_charges"])
        .with_output_cols(["total_filled"]);
    let imp_model = estimator_round_trip(d, "imp", &imp, &df);
    let df = model_round_trip(d, "imp_model", &imp_model, &df);

    let bucketizer = Bucketizer::new()
        .with_input_col("tenure")
        .with_output_col("tenure_bucket")
        .with_splits(&[f64::NEG_INFINITY, 12.0, 48.0, f64::INFINITY]);
    let df = model_round_trip(d, "bucketizer", &bucketizer, &df);

    let va = VectorAssembler::new()
        .with_input_cols(["tenure", "monthly_charges", "total_filled", "contract_vec"])
        .with_output_col("raw");
    let df = model_round_trip(d, "va", &va, &df);

    let mm = MinMaxScaler::new()
        .with_input_col("raw")
        .with_output_col("mm");
    let mm_model = estimator_round_trip(d, "mm", &mm, &df);
    model_round_trip(d, "mm_model", &mm_model, &df);
    let ma = MaxAbsScaler::new()
        .with_input_col("raw")
        .with_output_col("ma");
    let ma_model = estimator_round_trip(d, "ma", &ma, &df);
    model_round_trip(d, "ma_model", &ma_model, &df);
    let ss = StandardScaler::new()
        .with_input_col("raw")
        .with_output_col("features")
        .with_mean(true);
    let ss_model = estimator_round_trip(d, "ss", &ss, &df);
    let df = model_round_trip(d, "ss_model", &ss_model, &df);

    let lr = LogisticRegression::new()
        .with_label_col("churn")
        .with_reg_param(0.01);
    let lr_model: LogisticRegressionModel = estimator_round_trip(d, "lr", &lr, &df);
    model_round_trip(d, "lr_model", &lr_model, &df);
    let linreg = LinearRegression::new()
        .with_label_col("tenure")
        .with_prediction_col("tenure_hat")
        .with_reg_param(0.1);
    let linreg_model: LinearRegressionModel = estimator_round_trip(d, "linreg", &linreg, &df);
    model_round_trip(d, "linreg_model", &linreg_model, &df);

    {
        use mlpipe::classification::{
            DecisionTreeClassifier, GBTClassifier, RandomForestClassifier,
        };
        use mlpipe::regression::{DecisionTreeRegressor, GBTRegressor, RandomForestRegressor};
        let dtc = DecisionTreeClassifier::new()
            .with_label_col("churn")
            .with_prediction_col("dtc")
            .with_raw_prediction_col("dtc_raw")
            .with_probability_col("dtc_p")
            .with_max_depth(3);
        let m = estimator_round_trip(d, "dtc", &dtc, &df);
        model_round_trip(d, "dtc_model", &m, &df);
        let rfc = RandomForestClassifier::new()
            .with_label_col("churn")
            .with_prediction_col("rfc")
            .with_raw_prediction_col("rfc_raw")
            .with_probability_col("rfc_p")
            .with_num_trees(3);
        let m = estimator_round_trip(d, "rfc", &rfc, &df);
        model_round_trip(d, "rfc_model", &m, &df);
        let gbtc = GBTClassifier::new()
            .with_label_col("churn")
            .with_prediction_col("gbtc")
            .with_raw_prediction_col("gbtc_raw")
            .with_probability_col("gbtc_p")
            .with_max_iter(3);
        let m = estimator_round_trip(d, "gbtc", &gbtc, &df);
        model_round_trip(d, "gbtc_model", &m, &df);
        let dtr = DecisionTreeRegressor::new()
            .with_label_col("tenure")
            .with_prediction_col("dtr")
            .with_variance_col("dtr_var");
        let m = estimator_round_trip(d, "dtr", &dtr, &df);
        model_round_trip(d, "dtr_model", &m, &df);
        let rfr = RandomForestRegressor::new()
            .with_label_col("tenure")
            .with_prediction_col("rfr")
            .with_num_trees(3);
        let m = estimator_round_trip(d, "rfr", &rfr, &df);
        model_round_trip(d, "rfr_model", &m, &df);
        let gbtr = GBTRegressor::new()
            .with_label_col("tenure")
            .with_prediction_col("gbtr")
            .with_max_iter(3);
        let m = estimator_round_trip(d, "gbtr", &gbtr, &df);
        model_round_trip(d, "gbtr_model", &m, &df);
    }

    let pipeline = Pipeline::new()
        .with_estimator(si)
        .with_estimator(ohe)
        .with_estimator(imp)
        .with_transformer(bucketizer)
        .with_transformer(va)
        .with_estimator(ss)
        .with_estimator(lr);
    let raw = quickstart();
    let pipeline_model = estimator_round_trip(d, "pipeline", &pipeline, &raw);
    model_round_trip(d, "pipeline_model", &pipeline_model, &raw);

    // RFormula: its model holds a whole inner pipeline (with Spark's ColumnPruner and
    // VectorAttributeRewriter) under pipelineModel/.
    let rf = RFormula::new().with_formula("churn ~ contract * tenure + monthly_charges");
    let rf_model = estimator_round_trip(d, "rformula", &rf, &raw);
    model_round_trip(d, "rformula_model", &rf_model, &raw);

    // a stage held as a trait object saves too (what load_stage returns)
    let boxed: Box<dyn Transformer> = mlpipe::persist::load_stage(d.join("lr_model")).unwrap();
    boxed.save(d.join("boxed")).unwrap();
    let back = LogisticRegressionModel::load(d.join("boxed")).unwrap();
    assert_eq!(back.coefficient_matrix(), lr_model.coefficient_matrix());
    // and a pipeline stage
    let PipelineStage::Estimator(lr) = &pipeline.stages()[6] else {
        panic!("stage 6 is the LogisticRegression");
    };
    pipeline.stages()[6].save(d.join("stage6")).unwrap();
    let back = LogisticRegression::load(d.join("stage6")).unwrap();
    assert_eq!(
        (back.uid(), back.params_json()),
        (lr.uid(), lr.params_json())
    );
}

/// A transformer with no Spark format, to see the refusal.
#[derive(Clone, Debug)]
struct Unsaveable;

impl Stage for Unsaveable {
    fn kind(&self) -> &'static str {
        "Unsaveable"
    }
    fn uid(&self) -> &str {
        "unsaveable_1"
    }
    fn transform_schema(
        &self,
        input: &arrow::datatypes::Schema,
    ) -> Result<arrow::datatypes::Schema> {
        Ok(input.clone())
    }
    fn params_json(&self) -> serde_json::Value {
        serde_json::json!({})
    }
    fn set_param_json(&mut self, _: &str, _: serde_json::Value) -> Result<()> {
        Ok(())
    }
}

impl Transformer for Unsaveable {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        Ok(df.clone())
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

#[test]
fn a_stage_without_a_spark_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let boxed: Box<dyn Transformer> = Box::new(Unsaveable);
    let err = boxed.save(dir.path().join("x")).unwrap_err().to_string();
    assert_eq!(
        err,
        "Pipeline: Unsaveable (unsaveable_1) cannot be saved in Spark's format yet"
    );
    let model = PipelineModel::new("pipe_1", vec![boxed]);
    let err = model.save(dir.path().join("p")).unwrap_err().to_string();
    assert_eq!(
        err,
        "Pipeline: stage 0, Unsaveable (unsaveable_1), cannot be saved in Spark's format yet"
    );
    assert!(listing(dir.path()).is_empty(), "no debris");
}

#[test]
fn load_names_the_class_expected_and_found() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("va");
    VectorAssembler::new()
        .with_input_cols(["tenure"])
        .save(&path)
        .unwrap();
    let err = StringIndexerModel::load(&path).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: holds a org.apache.spark.ml.feature.VectorAssembler, not a StringIndexerModel \
             (org.apache.spark.ml.feature.StringIndexerModel); load it with VectorAssembler::load \
             or load_pipeline_stage",
            path.join("metadata").display()
        )
    );
    // an estimator is not its model
    let path = dir.path().join("lr");
    LogisticRegression::new().save(&path).unwrap();
    let err = LogisticRegressionModel::load(&path)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "holds a org.apache.spark.ml.classification.LogisticRegression, not a LogisticRegressionModel"
        ),
        "{err}"
    );
    // a class mlpipe does not know
    let md = path.join("metadata").join("part-00000");
    let text = fs::read_to_string(&md)
        .unwrap()
        .replace("LogisticRegression\"", "FMClassifier\"");
    fs::write(&md, text).unwrap();
    let err = LogisticRegression::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("holds a org.apache.spark.ml.classification.FMClassifier, not a LogisticRegression (org.apache.spark.ml.classification.LogisticRegression); mlpipe knows no such class; known classes: [\"org.apache.spark.ml.PipelineModel\""),
        "{err}"
    );
}

#[test]
fn load_of_a_directory_that_is_no_stage_says_so() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("notes.txt"), "not a model").unwrap();
    let err = PipelineModel::load(dir.path()).unwrap_err().to_string();
    let prefix = format!("{}: cannot list: ", dir.path().join("metadata").display());
    assert!(err.starts_with(&prefix), "{err}");
    assert!(
        err.ends_with("; is this a saved Spark ML / mlpipe stage?"),
        "{err}"
    );
}

#[test]
fn overwrite_replaces_only_saved_stages_and_empty_directories() {
    let dir = tempfile::tempdir().unwrap();
    let va = VectorAssembler::new().with_input_cols(["tenure"]);

    // a directory of other things: refused, untouched, nothing written beside it
    let notes = dir.path().join("notes");
    fs::create_dir(&notes).unwrap();
    fs::write(notes.join("notes.txt"), "keep me").unwrap();
    let err = va.write().overwrite().save(&notes).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: is not a saved model (it has no metadata/ directory, but holds notes.txt); \
             refusing to overwrite it (remove it yourself, or save elsewhere)",
            notes.display()
        )
    );
    assert_eq!(listing(&notes), ["notes.txt"]);
    assert_eq!(
        fs::read_to_string(notes.join("notes.txt")).unwrap(),
        "keep me"
    );
    // the free function and check_writable refuse the same way
    let err2 = mlpipe::persist::save(&va, &notes, SaveMode::Overwrite)
        .unwrap_err()
        .to_string();
    assert_eq!(err2, err);
    assert_eq!(
        check_writable(&notes, SaveMode::Overwrite)
            .unwrap_err()
            .to_string(),
        err
    );

    // a regular file: refused, untouched
    let file = dir.path().join("model.txt");
    fs::write(&file, "a file").unwrap();
    let err = va.write().overwrite().save(&file).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: is a file, not a saved model directory; refusing to overwrite it \
             (remove it yourself, or save elsewhere)",
            file.display()
        )
    );
    assert_eq!(fs::read_to_string(&file).unwrap(), "a file");
    assert_eq!(listing(dir.path()), ["model.txt", "notes"], "no debris");

    // an empty directory and a saved stage are replaced
    let empty = dir.path().join("empty");
    fs::create_dir(&empty).unwrap();
    va.write().overwrite().save(&empty).unwrap();
    assert_eq!(VectorAssembler::load(&empty).unwrap().uid(), va.uid());
    let other = VectorAssembler::new().with_input_cols(["monthly_charges"]);
    other.write().overwrite().save(&empty).unwrap();
    assert_eq!(VectorAssembler::load(&empty).unwrap().uid(), other.uid());
    assert_eq!(
        listing(dir.path()),
        ["empty", "model.txt", "notes"],
        "no temporary or old directory is left"
    );
    // an absent path is written, with its parents
    va.write()
        .overwrite()
        .save(dir.path().join("a/b/model"))
        .unwrap();
    assert!(VectorAssembler::load(dir.path().join("a/b/model")).is_ok());
}

#[cfg(unix)]
#[test]
fn overwrite_refuses_a_symbolic_link() {
    let dir = tempfile::tempdir().unwrap();
    let va = VectorAssembler::new().with_input_cols(["tenure"]);
    let target = dir.path().join("real");
    va.save(&target).unwrap();
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = va.write().overwrite().save(&link).unwrap_err().to_string();
    assert!(
        err.contains("is a symbolic link, not a saved model directory; refusing to overwrite it"),
        "{err}"
    );
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
}
