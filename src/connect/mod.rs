//! Scale out on Spark itself: a Spark Connect client (feature `connect`).
//!
//! When the data outgrows one machine, the same mlpipe [`Pipeline`](crate::Pipeline) fits
//! on a Spark 4 cluster through Spark Connect, and the fitted
//! [`PipelineModel`](crate::PipelineModel) comes back in Spark's format, which mlpipe scores
//! locally. Nothing is converted: mlpipe's stages are Spark's, with the same class names,
//! params and files.
//!
//! **What runs where.** Here: the checks of every stage's params and columns, the pipeline
//! loop (as PySpark drives it under Spark Connect: the server has no `Pipeline`), and the
//! pipeline's `metadata/`. On the cluster: every read, fit, transform and evaluation, with
//! Spark's own estimators, and the model files. The fitted models stay on the server until
//! saved ([`RemotePipelineModel::save_remote`]) or fetched
//! ([`RemotePipelineModel::fetch`]), and are released when dropped.
//!
//! **Servers.** Spark 4.0 or later (ML over Spark Connect arrived in 4.0; older servers are
//! refused with that reason). Tested against Spark 4.0.5, 4.1.4, 4.2.1 and 4.3.0 (a Spark
//! 4.0 server cannot list its ML cache: [`Session::cached_models`] says so). A stage Spark's server does not
//! offer (mlpipe's own stages, `OneVsRest`, the tuning validators) fails before anything is
//! sent, naming the stage.
//!
//! # Fetching fitted models
//!
//! [`RemotePipelineModel::fetch`] (and [`RemoteModel::fetch`]) bring a fitted model back
//! without any storage shared with the cluster, through Spark Connect's ML Fetch: the
//! server hands out the fitted values its allowlist names, and mlpipe builds its own
//! model from them and the params the client sent. That covers the whole fitted state of
//! `LogisticRegressionModel`, `LinearRegressionModel`, `LinearSVCModel`,
//! `NaiveBayesModel`, `KMeansModel`, `StringIndexerModel`, `OneHotEncoderModel`,
//! `StandardScalerModel`, `MinMaxScalerModel`, `MaxAbsScalerModel`, `RobustScalerModel`,
//! `ImputerModel`, `IDFModel` and `CountVectorizerModel` (every transformer comes back
//! from its params). The others — the tree models (the server hands out their trees
//! only as further server objects), `VectorIndexerModel` and the `Bucketizer` a
//! `QuantileDiscretizer` fits — come back through a save: `fetch_via(scratch)` has Spark
//! save just those at a path the cluster writes and reads the files back through the
//! session, and `fetch_saved(scratch)` does that for every stage (the model exactly as
//! Spark wrote it).
//!
//! # Tuning
//!
//! [`CrossValidator::fit_remote`](crate::tuning::CrossValidator::fit_remote) and
//! [`TrainValidationSplit::fit_remote`](crate::tuning::TrainValidationSplit::fit_remote)
//! run the validators' loop from here as PySpark does under Spark Connect (the folds are
//! relations on the cluster; every grid point is fitted and scored there and released at
//! once); the result fetches as mlpipe's own `CrossValidatorModel` /
//! `TrainValidationSplitModel` and saves in Spark's layout.
//!
//! # Examples
//! ```no_run
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::connect::{EvaluateRemote, Session};
//! use mlpipe::classification::LogisticRegression;
//! use mlpipe::evaluation::BinaryClassificationEvaluator;
//! use mlpipe::feature::VectorAssembler;
//! use mlpipe::prelude::*;
//!
//! let spark = Session::connect("sc://127.0.0.1:15002")?;
//! let [train, test] = spark.read_parquet(["/data/churn.parquet"])?.random_split([0.8, 0.2], 7)?;
//! let pipeline = Pipeline::new()
//!     .with_transformer(VectorAssembler::new().with_input_cols(["tenure", "charges"]).with_output_col("features"))
//!     .with_estimator(LogisticRegression::new().with_label_col("churn"));
//! let model = pipeline.fit_remote(&train)?;
//! let auc = BinaryClassificationEvaluator::new()
//!     .with_label_col("churn")
//!     .evaluate_remote(&model.transform_remote(&test)?)?;
//! let local = model.fetch()?; // a PipelineModel (fitted values through ML Fetch), scored here
//! # let _ = (auc, local); Ok(()) }
//! ```

mod fetch;
mod frame;
mod ml;
mod session;
mod tuning;
mod vector;

pub use frame::RemoteFrame;
pub use ml::{EvaluateRemote, FitRemote, RemoteModel, RemotePipelineModel};
pub use session::{Session, DEFAULT_CONNECT_TIMEOUT};
pub use tuning::{RemoteCrossValidatorModel, RemoteTrainValidationSplitModel};
