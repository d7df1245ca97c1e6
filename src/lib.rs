//! # mlpipe
//!
//! Spark MLlib's pipeline API (`org.apache.spark.ml`) in Rust, over partitioned Apache
//! Arrow data: the same stage names, params, defaults and numbers as Spark, without a JVM.
//!
//! - [`DataFrame`]: an Arrow schema plus `RecordBatch` partitions, read from CSV or
//!   Parquet; a partition is the unit of parallel work.
//! - [`pipeline`]: the [`Stage`], [`Transformer`], [`Estimator`], [`Model`] and
//!   [`Evaluator`] traits, and [`Pipeline`] / [`PipelineModel`] with Spark's semantics
//!   (the whole chain's schema is checked before anything is fitted).
//! - [`feature`]: [`feature::VectorAssembler`] and the other feature stages.
//! - [`param`]: params structs whose JSON names are Spark's param names.
//!
//! ## Example
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::prelude::*;
//! use mlpipe::feature::VectorAssembler;
//!
//! let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
//! let pipeline = Pipeline::new().with_transformer(
//!     VectorAssembler::new()
//!         .with_input_cols(&["tenure", "monthly_charges", "total_charges"])
//!         .with_output_col("features")
//!         .with_handle_invalid(HandleInvalid::Skip), // total_charges has a null
//! );
//! let model = pipeline.fit(&df)?;
//! let out = model.transform(&df)?;
//! assert_eq!(out.num_rows(), df.num_rows() - 1);
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod classification;
pub mod error;
pub mod evaluation;
pub mod feature;
pub mod frame;
pub mod interop;
pub mod optim;
pub mod param;
pub mod persist;
pub mod pipeline;
pub mod stat;
pub mod testing;

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
