//! Quiet, precise scoring with a `PipelineModel` that indexes its label: on unlabelled data
//! the label indexer's skip is logged once per model, not on every `transform`; a missing
//! feature column that a later stage needs is an error at the stage that lost it.
//!
//! Log output is captured with a small `tracing` subscriber installed for the current
//! thread (`transform` logs from the calling thread).

use std::sync::{Arc, Mutex};

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use mlpipe::classification::LogisticRegression;
use mlpipe::feature::{OneHotEncoder, StringIndexer, VectorAssembler};
use mlpipe::prelude::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records every event: its level and message.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(Level, String)>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = Message(String::new());
        event.record(&mut m);
        self.0
            .lock()
            .unwrap()
            .push((*event.metadata().level(), m.0));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// Runs `f` with a capturing subscriber on this thread; returns its result and the events.
fn logged<T>(f: impl FnOnce() -> T) -> (T, Vec<(Level, String)>) {
    let capture = Capture::default();
    let out = tracing::subscriber::with_default(capture.clone(), f);
    let events = capture.0.lock().unwrap().clone();
    (out, events)
}

fn train() -> DataFrame {
    let tenure = [1.0, 40.0, 3.0, 60.0, 5.0, 30.0, 2.0, 50.0];
    let pay = [
        "Electronic check",
        "Mailed check",
        "Electronic check",
        "Credit card",
        "Mailed check",
        "Credit card",
        "Electronic check",
        "Mailed check",
    ];
    let churn = ["Yes", "No", "Yes", "No", "No", "No", "Yes", "Yes"];
    let b = RecordBatch::try_from_iter([
        (
            "tenure",
            Arc::new(Float64Array::from(tenure.to_vec())) as ArrayRef,
        ),
        (
            "PaymentMethod",
            Arc::new(StringArray::from(pay.to_vec())) as ArrayRef,
        ),
        (
            "Churn",
            Arc::new(StringArray::from(churn.to_vec())) as ArrayRef,
        ),
    ])
    .unwrap();
    DataFrame::from_batches(vec![b]).unwrap()
}

/// The churn example's shape: label indexer, feature indexer, encoder, assembler, LR.
fn fitted() -> PipelineModel {
    Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_col("Churn")
                .with_output_col("label"),
        )
        .with_estimator(
            StringIndexer::new()
                .with_input_col("PaymentMethod")
                .with_output_col("PaymentMethod_idx"),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_cols(["PaymentMethod_idx"])
                .with_output_cols(["PaymentMethod_vec"]),
        )
        .with_transformer(
            VectorAssembler::new()
                .with_input_cols(["tenure", "PaymentMethod_vec"])
                .with_output_col("features"),
        )
        .with_estimator(LogisticRegression::new().with_max_iter(5))
        .fit(&train())
        .unwrap()
}

fn warnings(events: &[(Level, String)]) -> Vec<&str> {
    events
        .iter()
        .filter(|(l, _)| *l == Level::WARN)
        .map(|(_, m)| m.as_str())
        .collect()
}

#[test]
fn the_label_skip_is_logged_once_per_model_not_per_call() {
    let model = fitted();
    let unlabelled = train().drop(["Churn"]).unwrap();

    let (out, events) = logged(|| model.transform(&unlabelled));
    assert_eq!(out.unwrap().column("prediction").unwrap().len(), 8);
    assert_eq!(
        warnings(&events),
        ["StringIndexerModel: input column `Churn` not found; skipping it as Spark does, so `label` is not produced (logged once per model)"],
        "the first call warns once: {events:?}"
    );

    // The second call (and a clone's, as a server hands to its workers) logs nothing at all.
    let (out, events) = logged(|| model.transform(&unlabelled));
    out.unwrap();
    assert!(events.is_empty(), "second transform logged {events:?}");
    let (_, events) = logged(|| model.clone().transform(&unlabelled).unwrap());
    assert!(events.is_empty(), "a clone's transform logged {events:?}");

    // Labelled data never warns; another model (a fresh load) warns once of its own.
    let (_, events) = logged(|| fitted().transform(&train()).unwrap());
    assert!(warnings(&events).is_empty(), "{events:?}");
    let (_, events) = logged(|| {
        let other = fitted();
        other.transform(&unlabelled).unwrap();
        other.transform(&unlabelled).unwrap();
    });
    assert_eq!(warnings(&events).len(), 1, "{events:?}");
}

#[test]
fn a_missing_feature_is_an_error_at_the_stage_that_lost_it() {
    let model = fitted();
    let no_payment = train().drop(["Churn", "PaymentMethod"]).unwrap();
    let (res, events) = logged(|| model.transform(&no_payment));
    let err = res.unwrap_err();
    assert_eq!(
        err.to_string(),
        "StringIndexerModel: input column `PaymentMethod` not found; it produces `PaymentMethod_idx`, which OneHotEncoderModel needs; available columns: [\"tenure\"]"
    );
    assert!(matches!(
        err,
        Error::MissingInput {
            stage: "StringIndexerModel",
            needed_by: "OneHotEncoderModel",
            ..
        }
    ));
    // Nothing is logged for a column a later stage needs (nor for the label: the check
    // runs before any stage transforms).
    assert!(events.is_empty(), "{events:?}");
    // The schema check alone, without data, gives the same error.
    let err = model.transform_schema(no_payment.schema()).unwrap_err();
    assert!(matches!(err, Error::MissingInput { .. }), "{err}");

    // A column that nothing produced stays a plain missing column of the stage needing it.
    let no_tenure = train().drop(["tenure"]).unwrap();
    let err = model.transform(&no_tenure).unwrap_err();
    assert_eq!(
        err.to_string(),
        "VectorAssembler: column `tenure` not found; available columns: [\"PaymentMethod\", \"Churn\", \"label\", \"PaymentMethod_idx\", \"PaymentMethod_vec\"]"
    );
}

#[test]
fn a_multi_column_indexer_names_itself_and_the_lost_column() {
    let model = Pipeline::new()
        .with_estimator(
            StringIndexer::new()
                .with_input_cols(["Churn", "PaymentMethod"])
                .with_output_cols(["label", "pay_idx"]),
        )
        .with_estimator(
            OneHotEncoder::new()
                .with_input_col("pay_idx")
                .with_output_col("pay_vec"),
        )
        .fit(&train())
        .unwrap();
    // Without the label, the model scores (warning once); without the feature, it fails.
    let (_, events) = logged(|| {
        let unlabelled = train().drop(["Churn"]).unwrap();
        model.transform(&unlabelled).unwrap();
        model.transform(&unlabelled).unwrap();
    });
    assert_eq!(warnings(&events).len(), 1, "{events:?}");
    let err = model
        .transform(&train().drop(["PaymentMethod"]).unwrap())
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "StringIndexerModel: input column `PaymentMethod` not found; it produces `pay_idx`, which OneHotEncoderModel needs; available columns: [\"tenure\", \"Churn\"]"
    );
}
