//! Pipeline semantics (Spark reference §1.3), checked with a small estimator defined here
//! that counts how often it is fitted and how often its model transforms.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use mlpipe::feature::{StandardScalerModel, VectorAssembler};
use mlpipe::frame::schema;
use mlpipe::prelude::*;
use serde_json::Value;

/// Learns the mean of `input` and outputs `input - mean` as `output`.
#[derive(Clone, Debug)]
struct Center {
    uid: String,
    input: String,
    output: String,
    fits: Arc<AtomicUsize>,
    transforms: Arc<AtomicUsize>,
}

#[derive(Clone, Debug)]
struct CenterModel {
    spec: Center,
    mean: f64,
}

impl Center {
    fn new(uid: &str, input: &str, output: &str) -> Self {
        Self {
            uid: uid.into(),
            input: input.into(),
            output: output.into(),
            fits: Arc::default(),
            transforms: Arc::default(),
        }
    }
    fn check(&self, s: &Schema) -> Result<Schema> {
        schema::require_numeric(s, "Center", &self.input)?;
        schema::append_field(
            s,
            "Center",
            Field::new(&self.output, DataType::Float64, true),
        )
    }
}

impl Stage for Center {
    fn kind(&self) -> &'static str {
        "Center"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, s: &Schema) -> Result<Schema> {
        self.check(s)
    }
    fn params_json(&self) -> Value {
        serde_json::json!({"inputCol": self.input, "outputCol": self.output})
    }
    fn set_param_json(&mut self, _: &str, _: Value) -> Result<()> {
        unimplemented!()
    }
}

impl Estimator for Center {
    type Model = CenterModel;
    fn fit(&self, df: &DataFrame) -> Result<CenterModel> {
        self.check(df.schema())?;
        self.fits.fetch_add(1, Ordering::SeqCst);
        let col = df.column(&self.input)?;
        let (mut s, mut n) = (0.0, 0usize);
        for c in &col.chunks {
            let c = cast(c, &DataType::Float64)?;
            for v in c.as_primitive::<Float64Type>().iter().flatten() {
                s += v;
                n += 1;
            }
        }
        Ok(CenterModel {
            spec: self.clone(),
            mean: s / n as f64,
        })
    }
}

impl Stage for CenterModel {
    fn kind(&self) -> &'static str {
        "CenterModel"
    }
    fn uid(&self) -> &str {
        &self.spec.uid
    }
    fn transform_schema(&self, s: &Schema) -> Result<Schema> {
        self.spec.check(s)
    }
    fn params_json(&self) -> Value {
        self.spec.params_json()
    }
    fn set_param_json(&mut self, _: &str, _: Value) -> Result<()> {
        unimplemented!()
    }
}

impl Transformer for CenterModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        self.spec.check(df.schema())?;
        self.spec.transforms.fetch_add(1, Ordering::SeqCst);
        let col = df.column(&self.spec.input)?;
        let chunks = col
            .chunks
            .iter()
            .map(|c| {
                let c = cast(c, &DataType::Float64)?;
                let v: Float64Array = c
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|x| x.map(|x| x - self.mean))
                    .collect();
                Ok(Arc::new(v) as ArrayRef)
            })
            .collect::<Result<Vec<_>>>()?;
        df.with_column(
            Field::new(&self.spec.output, DataType::Float64, true),
            chunks,
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for CenterModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

fn data() -> DataFrame {
    DataFrame::read_csv(
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv"),
        &CsvOptions::default(),
    )
    .unwrap()
}

#[test]
fn fit_transforms_only_up_to_the_last_estimator() {
    let first = Center::new("c1", "tenure", "t1");
    let last = Center::new("c2", "t1", "t2");
    let pipeline = Pipeline::new()
        .with_estimator(first.clone())
        .with_estimator(last.clone())
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["t2"])
                .with_output_col("v"),
        );
    let model = pipeline.fit(&data()).unwrap();
    assert_eq!(first.fits.load(Ordering::SeqCst), 1);
    assert_eq!(last.fits.load(Ordering::SeqCst), 1);
    // The first model transformed the training data for the second; the last one did not.
    assert_eq!(first.transforms.load(Ordering::SeqCst), 1);
    assert_eq!(last.transforms.load(Ordering::SeqCst), 0);
    assert_eq!(model.stages().len(), 3);
    assert_eq!(
        model.uid(),
        pipeline.uid(),
        "a PipelineModel keeps its Pipeline's uid"
    );
    assert_eq!(
        model.stages()[0].uid(),
        "c1",
        "a model keeps its estimator's uid"
    );
    let out = model.transform(&data()).unwrap();
    // t2 = (tenure - mean) - mean(tenure - mean) = tenure - mean, whose mean is 0.
    let t2 = out.column("t2").unwrap();
    let sum: f64 = t2
        .chunks
        .iter()
        .flat_map(|c| c.as_primitive::<Float64Type>().values().to_vec())
        .sum();
    assert!(sum.abs() < 1e-9, "{sum}");
    assert!(model.stage_at::<VectorAssembler>(2).is_some());
    assert!(model.stage_at::<VectorAssembler>(0).is_none());
}

#[test]
fn schema_errors_surface_before_any_fit() {
    let first = Center::new("c1", "tenure", "t1");
    let pipeline = Pipeline::new()
        .with_estimator(first.clone())
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["t1", "tenur"])
                .with_output_col("v"),
        );
    let err = pipeline.fit(&data()).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "VectorAssembler: column `tenur` not found; available columns: [\"customer_id\""
        ),
        "{err}"
    );
    assert_eq!(
        first.fits.load(Ordering::SeqCst),
        0,
        "nothing may be fitted before the whole chain's schema is checked"
    );
}

#[test]
fn empty_and_duplicate_pipelines_are_errors() {
    let err = Pipeline::new().fit(&data()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pipeline: the pipeline is empty; add stages with with_transformer or with_estimator"
    );
    let c = Center::new("same", "tenure", "t1");
    let err = Pipeline::new()
        .with_estimator(c.clone())
        .with_estimator(c)
        .fit(&data())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pipeline: stage uid `same` appears twice; a pipeline cannot hold the same stage twice (create a second stage instead)"
    );
}

#[test]
fn transformer_only_pipeline_and_set_param_by_name() {
    let mut pipeline = Pipeline::new().with_transformer(
        VectorAssembler::new()
            .with_input_cols(["tenure"])
            .with_output_col("v"),
    );
    if let PipelineStage::Transformer(t) = &mut pipeline.stages_mut()[0] {
        t.set_param_json("handleInvalid", serde_json::json!("keep"))
            .unwrap();
        assert_eq!(t.params_json()["handleInvalid"], "keep");
        let err = t
            .set_param_json("maxIter", serde_json::json!(3))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: unknown parameter `maxIter`; valid parameters are: [\"handleInvalid\", \"inputCols\", \"outputCol\"]"
        );
    }
    let model = pipeline.fit(&data()).unwrap();
    assert_eq!(model.transform(&data()).unwrap().num_rows(), 30);
}

#[test]
fn stages_by_type() {
    let pipeline = Pipeline::new()
        .with_estimator(Center::new("c1", "tenure", "t1"))
        .with_estimator(Center::new("c2", "t1", "t2"))
        .with_transformer(VectorAssembler::new().with_input_cols(["t2"]));
    // The unfitted pipeline: estimators and transformers alike.
    assert_eq!(pipeline.stage::<Center>().unwrap().uid(), "c1");
    let uids: Vec<&str> = pipeline.stages_of::<Center>().map(|c| c.uid()).collect();
    assert_eq!(uids, ["c1", "c2"]);
    assert!(matches!(
        pipeline.last(),
        Some(PipelineStage::Transformer(t)) if t.kind() == "VectorAssembler"
    ));

    let model = pipeline.fit(&data()).unwrap();
    assert_eq!(model.stage::<CenterModel>().unwrap().uid(), "c1");
    let uids: Vec<&str> = model.stages_of::<CenterModel>().map(|c| c.uid()).collect();
    assert_eq!(uids, ["c1", "c2"]);
    assert_eq!(model.stages_of::<StandardScalerModel>().count(), 0);
    let last = model.last().unwrap();
    assert!(last.downcast_ref::<VectorAssembler>().is_some());
    assert!(last.downcast_ref::<CenterModel>().is_none());
    assert_eq!(model.stage_at::<CenterModel>(1).unwrap().uid(), "c2");
    assert!(model.stage_at::<CenterModel>(2).is_none());
    assert!(model.stage_at::<CenterModel>(3).is_none());

    // A type that is not there: the error lists what is.
    let err = model.stage::<StandardScalerModel>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pipeline: no stage of type StandardScalerModel; the stages are [\"CenterModel\", \"CenterModel\", \"VectorAssembler\"]"
    );
    let err = pipeline.stage::<CenterModel>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "Pipeline: no stage of type CenterModel; the stages are [\"Center\", \"Center\", \"VectorAssembler\"]"
    );
    assert!(PipelineModel::new("empty", vec![]).last().is_none());
    assert!(Pipeline::new().last().is_none());
}
