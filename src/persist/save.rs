//! The atomic save, and Spark's `MLWritable` / `MLReadable` API over it.

use std::fs;
use std::path::Path;

use super::{persistable, persistable_stage, read_as, Persist, SparkPersist};
use crate::error::{Error, Result};
use crate::pipeline::{PipelineStage, Transformer};

/// What to do when the target directory exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveMode {
    /// Fail (Spark's default `save`).
    ErrorIfExists,
    /// Replace it atomically (Spark's `write.overwrite()`), but only if it is an empty
    /// directory or a saved stage (it has `metadata/`).
    Overwrite,
}

/// Saves `stage` at `path` atomically; see the [module docs](crate::persist).
///
/// [`SaveMode::Overwrite`] replaces only what a save could have made: an empty directory
/// or a saved Spark ML / mlpipe stage (a directory with `metadata/`). Anything else at
/// `path` (a file, a directory of other things, a symbolic link) is refused and left
/// untouched.
///
/// # Errors
/// [`Error::File`] naming `path` when it exists and `mode` is [`SaveMode::ErrorIfExists`],
/// when it is not something an overwrite may replace, or when a directory or file cannot
/// be written. On error nothing is left behind and an existing model is unchanged.
pub fn save(stage: &dyn Persist, path: impl AsRef<Path>, mode: SaveMode) -> Result<()> {
    save_as(
        stage,
        path.as_ref(),
        mode,
        "to overwrite it, save with SaveMode::Overwrite",
    )
}

/// Checks, without writing anything, that a save at `path` with `mode` would be allowed:
/// the checks [`save`] makes before it writes (so a long job can fail before it starts).
///
/// # Errors
/// The errors [`save`] gives for an existing `path`.
///
/// # Examples
/// ```
/// use mlpipe::persist::{check_writable, SaveMode};
/// let dir = std::env::temp_dir().join(format!("mlpipe-check-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// std::fs::write(dir.join("notes.txt"), "keep me").unwrap();
/// let err = check_writable(&dir, SaveMode::Overwrite).unwrap_err().to_string();
/// assert!(err.contains("is not a saved model"), "{err}");
/// assert!(check_writable(dir.join("model"), SaveMode::ErrorIfExists).is_ok());
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
pub fn check_writable(path: impl AsRef<Path>, mode: SaveMode) -> Result<()> {
    check(
        path.as_ref(),
        mode,
        "to overwrite it, save with SaveMode::Overwrite",
    )
}

fn check(path: &Path, mode: SaveMode, overwrite_hint: &str) -> Result<()> {
    let Ok(meta) = fs::symlink_metadata(path) else {
        return Ok(()); // absent
    };
    if mode == SaveMode::ErrorIfExists {
        return Err(Error::file(
            path,
            format!("already exists; {overwrite_hint}"),
        ));
    }
    let refuse = |what: String| {
        Err(Error::file(
            path,
            format!("{what}; refusing to overwrite it (remove it yourself, or save elsewhere)"),
        ))
    };
    if meta.file_type().is_symlink() {
        return refuse("is a symbolic link, not a saved model directory".into());
    }
    if !meta.is_dir() {
        return refuse("is a file, not a saved model directory".into());
    }
    if path.join("metadata").is_dir() {
        return Ok(());
    }
    let mut entries: Vec<String> = fs::read_dir(path)
        .map_err(|e| Error::file(path, format!("cannot list: {e}")))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort();
    let more = entries.len().saturating_sub(5);
    entries.truncate(5);
    let listed = entries.join(", ");
    let listed = if more > 0 {
        format!("{listed} and {more} more")
    } else {
        listed
    };
    refuse(format!(
        "is not a saved model (it has no metadata/ directory, but holds {listed})"
    ))
}

fn save_as(stage: &dyn Persist, path: &Path, mode: SaveMode, overwrite_hint: &str) -> Result<()> {
    check(path, mode, overwrite_hint)?;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| Error::file(parent, format!("cannot create: {e}")))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let id: u64 = rand::random();
    let tmp = parent.join(format!(".{name}.tmp-{id:x}"));
    let result = (|| {
        fs::create_dir(&tmp).map_err(|e| Error::file(&tmp, format!("cannot create: {e}")))?;
        stage.write_into(&tmp)
    })();
    if let Err(e) = result {
        let _ = fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if fs::symlink_metadata(path).is_ok() {
        let old = parent.join(format!(".{name}.old-{id:x}"));
        if let Err(e) = fs::rename(path, &old) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(Error::file(
                path,
                format!("cannot move the old model aside: {e}"),
            ));
        }
        fs::rename(&tmp, path).map_err(|e| {
            Error::file(
                path,
                format!(
                    "cannot move the new model into place (the old one is at {}): {e}",
                    old.display()
                ),
            )
        })?;
        fs::remove_dir_all(&old).map_err(|e| {
            Error::file(&old, format!("saved, but cannot remove the old model: {e}"))
        })?;
    } else {
        fs::rename(&tmp, path).map_err(|e| {
            let _ = fs::remove_dir_all(&tmp);
            Error::file(path, format!("cannot move the new model into place: {e}"))
        })?;
    }
    Ok(())
}

/// Spark's `MLWritable`: `.save(path)` and `.write().overwrite().save(path)` on every
/// stage, model, [`Pipeline`](crate::Pipeline) and [`PipelineModel`](crate::PipelineModel)
/// (and on a `Box<dyn Transformer>` or [`PipelineStage`] whose stage can be saved).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
///
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("assembler");
/// let va = VectorAssembler::new().with_input_cols(&["tenure"]).with_output_col("v");
/// va.save(&path)?; // fails if `path` exists, as in Spark
/// va.write().overwrite().save(&path)?; // replaces the saved stage
/// let back = VectorAssembler::load(&path)?;
/// assert_eq!(back.uid(), va.uid());
/// # Ok(()) }
/// ```
pub trait MLWritable {
    /// The object-safe writer of this stage, or an error saying why it cannot be saved.
    fn persistable(&self) -> Result<&dyn Persist>;

    /// Saves at `path`, which must not exist (Spark's `save`); use
    /// `.write().overwrite().save(path)` to replace a saved stage.
    ///
    /// # Errors
    /// As [`save`]; on error nothing is written.
    fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.write().save(path)
    }

    /// A writer to set the save mode on (Spark's `write`).
    fn write(&self) -> MLWriter<'_> {
        MLWriter {
            stage: self.persistable(),
            mode: SaveMode::ErrorIfExists,
        }
    }
}

impl<T: Persist> MLWritable for T {
    fn persistable(&self) -> Result<&dyn Persist> {
        Ok(self)
    }
}

impl MLWritable for dyn Persist {
    fn persistable(&self) -> Result<&dyn Persist> {
        Ok(self)
    }
}

impl MLWritable for dyn Transformer {
    fn persistable(&self) -> Result<&dyn Persist> {
        persistable(self).ok_or_else(|| not_saveable(self.kind(), self.uid()))
    }
}

impl MLWritable for PipelineStage {
    fn persistable(&self) -> Result<&dyn Persist> {
        persistable_stage(self).ok_or_else(|| {
            let s = match self {
                PipelineStage::Transformer(t) => t.as_ref() as &dyn crate::Stage,
                PipelineStage::Estimator(e) => e.as_ref() as &dyn crate::Stage,
            };
            not_saveable(s.kind(), s.uid())
        })
    }
}

fn not_saveable(kind: &str, uid: &str) -> Error {
    Error::Pipeline(format!(
        "{kind} ({uid}) cannot be saved in Spark's format yet"
    ))
}

/// Saves one stage with a chosen [`SaveMode`] (Spark's `MLWriter`); made by
/// [`MLWritable::write`].
#[must_use = "a writer does nothing until .save(path)"]
pub struct MLWriter<'a> {
    stage: Result<&'a dyn Persist>,
    mode: SaveMode,
}

impl std::fmt::Debug for MLWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MLWriter")
            .field("class", &self.stage.as_ref().map(|s| s.spark_class()).ok())
            .field("mode", &self.mode)
            .finish()
    }
}

impl MLWriter<'_> {
    /// Replace what is at the path if it is a saved stage or an empty directory (Spark's
    /// `overwrite()`); anything else there is refused and left untouched.
    pub fn overwrite(mut self) -> Self {
        self.mode = SaveMode::Overwrite;
        self
    }

    /// Sets the save mode.
    pub fn mode(mut self, mode: SaveMode) -> Self {
        self.mode = mode;
        self
    }

    /// Saves atomically at `path`.
    ///
    /// # Errors
    /// As [`save`]; and [`Error::Pipeline`] for a stage that cannot be saved.
    pub fn save(self, path: impl AsRef<Path>) -> Result<()> {
        save_as(
            self.stage?,
            path.as_ref(),
            self.mode,
            "to replace it, use .write().overwrite().save(path)",
        )
    }
}

/// Spark's `MLReadable`: `T::load(path)` for every stage, model and pipeline type.
///
/// # Errors
/// [`Error::File`] naming the file for a directory that is no saved stage, holds another
/// stage (naming the class expected and the class found), or is corrupt.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{StandardScaler, VectorAssembler};
///
/// let dir = tempfile::tempdir().unwrap();
/// let va = VectorAssembler::new().with_input_cols(&["tenure"]);
/// va.save(dir.path().join("va"))?;
/// let err = StandardScaler::load(dir.path().join("va")).unwrap_err().to_string();
/// assert!(err.contains("holds a org.apache.spark.ml.feature.VectorAssembler, not a StandardScaler"));
/// # Ok(()) }
/// ```
pub trait MLReadable: Sized {
    /// Loads the stage saved at `path` by Spark or mlpipe.
    fn load(path: impl AsRef<Path>) -> Result<Self>;
}

impl<T: SparkPersist> MLReadable for T {
    fn load(path: impl AsRef<Path>) -> Result<Self> {
        read_as(path.as_ref())
    }
}
