//! # mlpipe
//!
//! Spark MLlib's pipeline API (`org.apache.spark.ml`) in Rust, over partitioned Apache
//! Arrow data: the same stage names, params, defaults and numbers as Spark, and Spark's
//! own file format for saved models, without a JVM.
//!
//! ## From a file to a served prediction
//! Read a CSV, build a [`Pipeline`] as in PySpark, fit it, evaluate it on held-out rows,
//! save the fitted [`PipelineModel`] (a directory PySpark's `PipelineModel.load` reads),
//! load it back and score:
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::classification::LogisticRegression;
//! use mlpipe::evaluation::BinaryClassificationEvaluator;
//! use mlpipe::feature::{OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler};
//! use mlpipe::prelude::*;
//!
//! let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
//! let split = df.random_split(&[0.7, 0.3], 42)?;
//! let (train, test) = (&split[0], &split[1]);
//!
//! let pipeline = Pipeline::new()
//!     .with_estimator(StringIndexer::new().with_input_col("contract").with_output_col("contract_idx"))
//!     .with_estimator(
//!         OneHotEncoder::new().with_input_cols(["contract_idx"]).with_output_cols(["contract_vec"]),
//!     )
//!     .with_transformer(
//!         VectorAssembler::new()
//!             .with_input_cols(["tenure", "monthly_charges", "num_support_calls", "contract_vec"])
//!             .with_output_col("raw_features"),
//!     )
//!     .with_estimator(StandardScaler::new().with_input_col("raw_features").with_output_col("features"))
//!     .with_estimator(LogisticRegression::new().with_label_col("churn").with_reg_param(0.01));
//! let model = pipeline.fit(train)?;
//!
//! let auc = BinaryClassificationEvaluator::new()
//!     .with_label_col("churn")
//!     .evaluate(&model.transform(test)?)?;
//! assert!((0.0..=1.0).contains(&auc));
//!
//! let dir = std::env::temp_dir().join("mlpipe_crate_doc_model");
//! model.write().overwrite().save(&dir)?; // Spark's layout: PySpark loads it too
//! let loaded = PipelineModel::load(&dir)?;
//! let scored = loaded.transform(test)?.select(&["customer_id", "probability", "prediction"])?;
//! assert_eq!(scored.num_rows(), test.num_rows());
//! # Ok(()) }
//! ```
//!
//! ## Modules
//! - [`frame`]: [`DataFrame`], an Arrow schema plus `RecordBatch` partitions (a partition
//!   is the unit of parallel work); CSV and Parquet in and out; `random_split`; vector
//!   columns.
//! - [`pipeline`]: the [`Stage`], [`Transformer`], [`Estimator`], [`Model`] and
//!   [`Evaluator`] traits, and [`Pipeline`] / [`PipelineModel`] with Spark's semantics (the
//!   whole chain's schema is checked before anything is fitted; data is transformed only up
//!   to the last estimator).
//! - [`feature`]: the feature stages of Spark's `org.apache.spark.ml.feature`
//!   (VectorAssembler, StandardScaler, StringIndexer, OneHotEncoder, Imputer, ...).
//! - [`classification`]: LogisticRegression (Spark's
//!   `org.apache.spark.ml.classification`).
//! - [`regression`]: LinearRegression (Spark's `org.apache.spark.ml.regression`).
//! - [`predictor`]: the layer every model sits on (Spark's `PredictionModel` /
//!   `ClassificationModel` / `ProbabilisticClassificationModel`): column checks, output
//!   schema, raw -> probability -> prediction with thresholds, batch and single-row scoring.
//! - [`row`]: row scoring for serving: a fitted pipeline compiled into a per-row plan
//!   (no DataFrame and no allocation per row; `transform`'s numbers bit for bit).
//! - [`evaluation`]: Spark's binary, multiclass and regression evaluators.
//! - [`persist`]: save and load in Spark ML's on-disk format (`MLWritable` /
//!   `MLReadable`), and the registry of Spark classes mlpipe reads.
//! - [`param`]: params structs whose JSON names are Spark's param names, with get/set by
//!   name.
//! - [`optim`]: the L-BFGS / OWL-QN / L-BFGS-B optimisers (breeze's, as Spark uses them).
//! - [`stat`]: mergeable column summaries (Spark's `Summarizer`).
//! - [`testing`]: the contract check every stage passes (schema, save/load, partitions).
//! - [`arrow`] and [`parquet`]: the crates mlpipe is built on, re-exported so a program
//!   needs no `arrow` dependency of its own.
//!
//! ## Logging and progress
//! mlpipe reports through [`tracing`](https://docs.rs/tracing): each optimiser iteration
//! and each fitted stage as `INFO` events, anything that deserves a look (a fit that stopped
//! at `maxIter`, a skipped column) as `WARN`. Nothing is printed unless the program installs
//! a subscriber, for example with the `tracing-subscriber` crate:
//! ```text
//! tracing_subscriber::fmt().with_env_filter("mlpipe=info").init();
//! ```
//! For a progress bar, estimators with an optimiser take a callback that sees every
//! iteration (`LogisticRegression::with_iteration_callback`); the `churn` example drives
//! an `indicatif` bar with it.
//!
//! ## Arrow and Parquet
//! mlpipe re-exports the [`arrow`] and [`parquet`] crates it is built on, so a program
//! that builds batches or reads a scored column needs no `arrow` dependency of its own
//! (and cannot pick a major version that differs from mlpipe's):
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use std::sync::Arc;
//! use mlpipe::arrow::array::{ArrayRef, AsArray, Float64Array, RecordBatch};
//! use mlpipe::arrow::datatypes::Float64Type;
//! use mlpipe::DataFrame;
//!
//! let batch = RecordBatch::try_from_iter([
//!     ("tenure", Arc::new(Float64Array::from(vec![1.0, 24.0, 60.0])) as ArrayRef),
//! ])?;
//! let df = DataFrame::from_batches(vec![batch])?;
//! let tenure = df.column("tenure")?;
//! assert_eq!(tenure.chunks[0].as_primitive::<Float64Type>().value(1), 24.0);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod classification;
pub mod clustering;
#[cfg(feature = "connect")]
pub mod connect;
pub mod error;
pub mod evaluation;
pub mod feature;
pub mod frame;
pub mod interop;
pub(crate) mod lapack;
pub mod optim;
pub mod param;
pub mod persist;
pub mod pipeline;
pub mod predictor;
pub mod random;
pub mod regression;
pub mod row;
pub mod stat;
pub mod testing;
pub mod tree;
pub mod tuning;

/// The arrow-rs crate mlpipe is built on, so a program can name Arrow types (`RecordBatch`,
/// `Float64Array`, `DataType`) without its own `arrow` dependency pinned to mlpipe's major.
pub use arrow;
/// The linfa crate the `linfa` bridge is built against (feature `linfa`).
#[cfg(feature = "linfa")]
pub use linfa;
/// linfa's SVMs (with kernels), ready to wrap in a `LinfaEstimator` (feature `linfa`).
#[cfg(feature = "linfa")]
pub use linfa_svm;
/// The ndarray crate (the version linfa uses) the `ndarray` bridge is built against.
#[cfg(feature = "ndarray")]
pub use ndarray;
/// The parquet crate mlpipe reads and writes with (for example its `basic::Compression`).
pub use parquet;
/// The polars crate the `polars` bridge is built against (feature `polars`).
#[cfg(feature = "polars")]
pub use polars;

pub use error::{Error, Result};
pub use frame::{Column, CsvOptions, DataFrame, ParquetOptions};
pub use param::HandleInvalid;
pub use pipeline::{
    Estimator, Evaluator, Model, Pipeline, PipelineModel, PipelineStage, Stage, Transformer,
};

/// The types most programs need: `use mlpipe::prelude::*;`.
pub mod prelude {
    pub use crate::error::{Error, Result};
    pub use crate::frame::{CsvOptions, DataFrame, ParquetOptions};
    pub use crate::param::{HandleInvalid, Params};
    pub use crate::persist::{MLReadable, MLWritable};
    pub use crate::pipeline::{
        Estimator, Evaluator, Model, Pipeline, PipelineModel, PipelineStage, Stage, Transformer,
    };
}
