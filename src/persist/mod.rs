//! Save and load in Spark ML's own on-disk format.
//!
//! A saved stage is a directory with `metadata/part-00000` (one JSON line: `class`,
//! `timestamp`, `sparkVersion`, `uid`, `paramMap`, `defaultParamMap`) and, for fitted models,
//! `data/part-00000.parquet` (one row in Spark's schema, Vector and Matrix columns as
//! Spark's UDT structs, and Spark's row-metadata footer). A `PipelineModel` keeps its stages
//! under `stages/<i>_<uid>/`. Files written by Spark 3.x and 4.x load (any part-file name;
//! `_SUCCESS`, `.crc` and other names starting with `_` or `.` are skipped).
//!
//! Saves are atomic: the stage is written into a temporary directory beside the target and
//! renamed into place. An existing target is an error unless [`SaveMode::Overwrite`] is
//! given; an overwrite first renames the old directory aside (`.<name>.old-<id>`), renames
//! the new one into place, and only then deletes the old one, so a crash leaves the old model
//! or the new one. If a crash falls between the two renames, the target is missing and the
//! complete old model is the `.<name>.old-<id>` directory beside it: rename it back.
//! An overwrite replaces only an empty directory or a saved stage (a directory with
//! `metadata/`); a file, a symbolic link or a directory of other things is refused and
//! left untouched.
//!
//! Every stage, model and pipeline has Spark's API for this, from the prelude:
//! `.save(path)` and `.write().overwrite().save(path)` ([`MLWritable`]) and `T::load(path)`
//! ([`MLReadable`]), which names the class it expected and the class it found when the
//! directory holds another stage. [`load_stage`] and [`load_pipeline_stage`] load whatever
//! stage a directory holds.
//!
//! # Examples
//! ```
//! # fn main() -> mlpipe::Result<()> {
//! use mlpipe::prelude::*;
//! use mlpipe::feature::VectorAssembler;
//! use mlpipe::persist::{load_stage, save, SaveMode};
//! let dir = std::env::temp_dir().join(format!("mlpipe-doc-{}", std::process::id()));
//! let va = VectorAssembler::new().with_input_cols(&["tenure"]).with_output_col("v");
//! save(&va, &dir, SaveMode::Overwrite)?;
//! let back = load_stage(&dir)?;
//! assert_eq!(back.uid(), va.uid());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```
//!
//! # Where the code lives
//!
//! This module holds only the format: `format.rs` (metadata JSON, the one-row data Parquet
//! file, small column readers), `linalg.rs` (Spark's Vector and Matrix structs), the atomic
//! [`save`], and `registry.rs` (one line per stage type). Each stage's own read and write
//! sit in the stage's own file, as an impl of [`SparkPersist`]; [`Persist`] (what [`save`]
//! takes) follows from it.
//!
//! # Adding a stage
//!
//! 1. In the stage's file, implement [`SparkPersist`]. A stage that is only a uid and a
//!    params struct (`stage_basics!`, an estimator or a data-free transformer) needs one
//!    line:
//!    ```text
//!    crate::persist::spark_params_only!(Binarizer, "org.apache.spark.ml.feature.Binarizer");
//!    ```
//!    A fitted model writes its params and its data row, and reads them back:
//!    ```text
//!    use crate::persist::{format, Metadata, SparkPersist};
//!
//!    impl SparkPersist for MaxAbsScalerModel {
//!        const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.MaxAbsScalerModel";
//!        fn write_spark(&self, dir: &Path) -> Result<()> {
//!            format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
//!            format::write_vectors(dir, &[("maxAbs", &self.max_abs)])
//!        }
//!        fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
//!            let d = format::read_data(dir)?;
//!            let max_abs = format::dense_vector(&d, "maxAbs", dir)?;
//!            Ok(Self::new(md.uid.clone(), md.params_as(dir)?, max_abs))
//!        }
//!    }
//!    ```
//!    Use Spark's class name, param names and data schema, so that PySpark loads what
//!    mlpipe saves; a stage Spark lacks uses its own class name and the same layout. Class
//!    names that older Spark versions (or PySpark) wrote for the same stage go in
//!    [`SparkPersist::ALSO_READS`]. Other data columns are built with `format::one_row`,
//!    `format::spark_schema`, `format::write_data` and `Vector`/`Matrix`; see
//!    `StringIndexerModel` and `LogisticRegressionModel` for lists and matrices, and
//!    `VectorIndexerModel` for a map column (Spark's `Map[Int, Map[Double, Int]]`).
//! 2. Add one line to the table in `src/persist/registry.rs`:
//!    `transformer::<MaxAbsScalerModel>(),` for a transformer or fitted model,
//!    `estimator::<MaxAbsScaler>(),` for an unfitted estimator.
//!
//! That is all: [`load_stage`], [`load_pipeline_stage`], pipelines holding the stage,
//! [`KNOWN_CLASSES`] and the unknown-class error message pick it up from the registry
//! line; [`save`], `.save(path)`, `.write().overwrite().save(path)` and `T::load(path)`
//! from the trait. Test it with a save -> load -> transform round trip (add it to
//! `every_type_saves_overwrites_and_loads` in `tests/ml_io.rs`) and, where Spark has the
//! stage, by loading a model Spark saved.

pub(crate) mod format;
mod linalg;
pub(crate) mod registry;
mod save;

use std::path::Path;

pub use format::{read_metadata, Metadata, SPARK_VERSION};
pub use linalg::{Matrix, Vector};
pub use registry::{
    is_estimator_class, load_pipeline_stage, load_stage, persistable, persistable_stage,
    KNOWN_CLASSES,
};
pub(crate) use registry::{persistable_estimator, read_as};
pub use save::{check_writable, save, MLReadable, MLWritable, MLWriter, SaveMode};

use crate::error::Result;

/// A stage that can be written in Spark's format: the object-safe view [`save`] takes.
///
/// Implemented for every [`SparkPersist`] type; implement that, not this.
pub trait Persist {
    /// Spark's fully qualified class name (`org.apache.spark.ml.feature.VectorAssembler`).
    fn spark_class(&self) -> &'static str;
    /// Writes `metadata/` (and `data/` for models) into the empty directory `dir`.
    fn write_into(&self, dir: &Path) -> Result<()>;
}

/// A stage's read and write in Spark's on-disk format. Each stage implements it in its own
/// file; see [Adding a stage](crate::persist#adding-a-stage).
pub trait SparkPersist: Sized {
    /// Spark's fully qualified class name, written into `metadata/`
    /// (`org.apache.spark.ml.feature.StringIndexerModel`).
    const SPARK_CLASS: &'static str;
    /// Other class names that read as this type: names older Spark versions or PySpark
    /// wrote for the same stage.
    const ALSO_READS: &'static [&'static str] = &[];
    /// Writes `metadata/` (and `data/` for a fitted model) into the empty directory `dir`.
    fn write_spark(&self, dir: &Path) -> Result<()>;
    /// Reads the stage saved in `dir`, whose metadata `md` has been read and names
    /// [`Self::SPARK_CLASS`](SparkPersist::SPARK_CLASS) or one of
    /// [`Self::ALSO_READS`](SparkPersist::ALSO_READS).
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self>;
}

impl<T: SparkPersist> Persist for T {
    fn spark_class(&self) -> &'static str {
        T::SPARK_CLASS
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        self.write_spark(dir)
    }
}

/// Implements [`SparkPersist`] for a stage that is just a uid and a params struct (it has
/// `from_params(uid, params)` and `params()`): metadata only, no `data/`.
macro_rules! spark_params_only {
    ($ty:ty, $class:literal $(, also_reads: [$($alias:literal),* $(,)?])? $(,)?) => {
        impl $crate::persist::SparkPersist for $ty {
            const SPARK_CLASS: &'static str = $class;
            $(const ALSO_READS: &'static [&'static str] = &[$($alias),*];)?
            fn write_spark(&self, dir: &::std::path::Path) -> $crate::Result<()> {
                $crate::persist::format::write_params(
                    dir,
                    $class,
                    $crate::pipeline::Stage::uid(self),
                    self.params(),
                )
            }
            fn read_spark(
                dir: &::std::path::Path,
                md: &$crate::persist::Metadata,
            ) -> $crate::Result<Self> {
                Ok(Self::from_params(md.uid.clone(), md.params_as(dir)?))
            }
        }
    };
}
pub(crate) use spark_params_only;
