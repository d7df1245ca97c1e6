//! Save and load in Spark ML's own on-disk format (reference §6).
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

mod linalg;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{json, Map, Value};

pub use linalg::{Matrix, Vector};

use crate::classification::LogisticRegression;
use crate::classification::{LogisticRegressionModel, LogisticRegressionParams};
use crate::error::{Error, Result};
use crate::feature::*;
use crate::param::Params;
use crate::pipeline::{DynEstimator, Pipeline, PipelineModel, PipelineStage, Stage, Transformer};

/// What to do when the target directory exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveMode {
    /// Fail (Spark's default `save`).
    ErrorIfExists,
    /// Replace it atomically (Spark's `write.overwrite()`).
    Overwrite,
}

/// The Spark version stamped into saved metadata; Spark's readers take their current code
/// paths for it.
pub const SPARK_VERSION: &str = "3.5.0";

/// A stage that can be written in Spark's format.
pub trait Persist {
    /// Spark's fully qualified class name (`org.apache.spark.ml.feature.VectorAssembler`).
    fn spark_class(&self) -> &'static str;
    /// Writes `metadata/` (and `data/` for models) into the empty directory `dir`.
    fn write_into(&self, dir: &Path) -> Result<()>;
}

/// Saves `stage` at `path` atomically; see the [module docs](self).
pub fn save(stage: &dyn Persist, path: impl AsRef<Path>, mode: SaveMode) -> Result<()> {
    let path = path.as_ref();
    if path.exists() && mode == SaveMode::ErrorIfExists {
        return Err(Error::file(
            path,
            "already exists; to overwrite it, save with SaveMode::Overwrite",
        ));
    }
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
    if path.exists() {
        let old = parent.join(format!(".{name}.old-{id:x}"));
        fs::rename(path, &old)
            .map_err(|e| Error::file(path, format!("cannot move the old model aside: {e}")))?;
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
        fs::rename(&tmp, path)
            .map_err(|e| Error::file(path, format!("cannot move the new model into place: {e}")))?;
    }
    Ok(())
}

/// Parsed `metadata/` of a saved stage.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// Spark's class name.
    pub class: String,
    /// The stage uid.
    pub uid: String,
    /// The Spark version that wrote it.
    pub spark_version: String,
    /// `defaultParamMap` overlaid with `paramMap`.
    pub params: Map<String, Value>,
    /// The raw JSON (for extra keys such as `paramMap.stageUids`).
    pub raw: Value,
}

/// The visible files of a directory, sorted (names starting with `_` or `.` skipped).
fn part_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd = fs::read_dir(dir).map_err(|e| {
        Error::file(
            dir,
            format!("cannot list: {e}; is this a saved Spark ML / mlpipe stage?"),
        )
    })?;
    let mut files: Vec<PathBuf> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('_') && !n.starts_with('.'))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Reads a stage's `metadata/`.
pub fn read_metadata(dir: &Path) -> Result<Metadata> {
    let mdir = dir.join("metadata");
    let file = part_files(&mdir)?
        .into_iter()
        .next()
        .ok_or_else(|| Error::file(&mdir, "holds no metadata part file"))?;
    let text =
        fs::read_to_string(&file).map_err(|e| Error::file(&file, format!("cannot read: {e}")))?;
    let line = text.lines().next().unwrap_or("");
    let raw: Value = serde_json::from_str(line)
        .map_err(|e| Error::file(&file, format!("corrupt metadata JSON: {e}")))?;
    let s = |k: &str| {
        raw.get(k)
            .and_then(Value::as_str)
            .map(String::from)
            .ok_or_else(|| Error::file(&file, format!("metadata lacks `{k}`")))
    };
    let class = s("class")?;
    let uid = s("uid")?;
    let spark_version = s("sparkVersion")?;
    let major: u32 = spark_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if major > 4 {
        return Err(Error::file(&file, format!("written by Spark {spark_version}, a format newer than this mlpipe reads (Spark 2.x to 4.x)")));
    }
    let mut params = Map::new();
    for key in ["defaultParamMap", "paramMap"] {
        if let Some(m) = raw.get(key).and_then(Value::as_object) {
            for (k, v) in m {
                params.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(Metadata {
        class,
        uid,
        spark_version,
        params,
        raw,
    })
}

fn params_from<P: Params>(md: &Metadata, dir: &Path) -> Result<P> {
    serde_json::from_value(Value::Object(md.params.clone())).map_err(|e| {
        Error::file(
            dir.join("metadata"),
            format!("params do not fit {}: {e}", P::STAGE),
        )
    })
}

/// Writes `metadata/part-00000` with every non-null param in `paramMap` and `defaults`
/// in `defaultParamMap`.
fn write_metadata(
    dir: &Path,
    class: &str,
    uid: &str,
    params: Value,
    defaults: Value,
    extra: Option<(&str, Value)>,
) -> Result<()> {
    let strip = |v: Value| -> Value {
        match v {
            Value::Object(m) => {
                Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            o => o,
        }
    };
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut md = json!({
        "class": class, "timestamp": ts, "sparkVersion": SPARK_VERSION, "uid": uid,
        "paramMap": strip(params), "defaultParamMap": strip(defaults),
    });
    if let Some((k, v)) = extra {
        md[k] = v;
    }
    let mdir = dir.join("metadata");
    fs::create_dir_all(&mdir).map_err(|e| Error::file(&mdir, format!("cannot create: {e}")))?;
    fs::write(mdir.join("part-00000"), format!("{md}\n"))
        .map_err(|e| Error::file(&mdir, format!("cannot write: {e}")))?;
    fs::write(mdir.join("_SUCCESS"), "")
        .map_err(|e| Error::file(&mdir, format!("cannot write: {e}")))?;
    Ok(())
}

/// Writes the metadata of a stage whose params struct is `P` (defaults from `P::default()`).
fn write_params<P: Params + Default>(dir: &Path, class: &str, uid: &str, p: &P) -> Result<()> {
    write_metadata(dir, class, uid, p.to_json(), P::default().to_json(), None)
}

/// Writes a data row made of dense vectors (Spark's VectorUDT columns).
fn write_vectors(dir: &Path, cols: &[(&str, &[f64])]) -> Result<()> {
    let fields = cols
        .iter()
        .map(|(n, v)| Vector::Dense(v.to_vec()).field_and_array(n))
        .collect::<Result<Vec<_>>>()?;
    let schema: Vec<(&str, Value, bool)> = cols
        .iter()
        .map(|(n, _)| (*n, linalg::vector_udt_json(), true))
        .collect();
    write_data(dir, &one_row(fields)?, spark_schema(&schema))
}

/// Reads the one row of `data/`.
fn read_data(dir: &Path) -> Result<RecordBatch> {
    let ddir = dir.join("data");
    let file = part_files(&ddir)?
        .into_iter()
        .find(|p| p.extension().is_some_and(|e| e == "parquet"))
        .ok_or_else(|| Error::file(&ddir, "holds no Parquet part file"))?;
    let f = fs::File::open(&file).map_err(|e| Error::file(&file, format!("cannot open: {e}")))?;
    let bad = |e: &dyn std::fmt::Display| Error::file(&file, format!("corrupt model data: {e}"));
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .map_err(|e| bad(&e))?
        .build()
        .map_err(|e| bad(&e))?;
    let batches: Vec<RecordBatch> = reader
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| bad(&e))?;
    let batch = batches
        .into_iter()
        .find(|b| b.num_rows() > 0)
        .ok_or_else(|| Error::file(&file, "holds no row"))?;
    Ok(batch)
}

/// Writes one row as `data/part-00000.parquet` with Spark's row-metadata footer.
fn write_data(dir: &Path, batch: &RecordBatch, spark_schema: Value) -> Result<()> {
    let ddir = dir.join("data");
    fs::create_dir_all(&ddir).map_err(|e| Error::file(&ddir, format!("cannot create: {e}")))?;
    let path = ddir.join("part-00000.snappy.parquet");
    let file =
        fs::File::create(&path).map_err(|e| Error::file(&path, format!("cannot create: {e}")))?;
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![
            KeyValue::new("org.apache.spark.version".into(), SPARK_VERSION.to_string()),
            KeyValue::new(
                "org.apache.spark.sql.parquet.row.metadata".into(),
                spark_schema.to_string(),
            ),
        ]))
        .build();
    let werr = |e: parquet::errors::ParquetError| Error::file(&path, format!("cannot write: {e}"));
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).map_err(werr)?;
    w.write(batch).map_err(werr)?;
    w.close().map_err(werr)?;
    fs::write(ddir.join("_SUCCESS"), "")
        .map_err(|e| Error::file(&ddir, format!("cannot write: {e}")))?;
    Ok(())
}

fn column<'a>(b: &'a RecordBatch, name: &str, dir: &Path) -> Result<&'a ArrayRef> {
    b.column_by_name(name).ok_or_else(|| {
        Error::file(
            dir.join("data"),
            format!(
                "column `{name}` missing; found {:?}",
                b.schema()
                    .fields()
                    .iter()
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
            ),
        )
    })
}

/// The classes `load_stage` knows.
pub const KNOWN_CLASSES: [&str; 14] = [
    "org.apache.spark.ml.PipelineModel",
    "org.apache.spark.ml.feature.VectorAssembler",
    "org.apache.spark.ml.feature.StandardScalerModel",
    "org.apache.spark.ml.feature.MinMaxScalerModel",
    "org.apache.spark.ml.feature.MaxAbsScalerModel",
    "org.apache.spark.ml.feature.StringIndexerModel",
    "org.apache.spark.ml.feature.IndexToString",
    "org.apache.spark.ml.feature.OneHotEncoderModel",
    "org.apache.spark.ml.feature.ImputerModel",
    "org.apache.spark.ml.feature.Bucketizer",
    "org.apache.spark.ml.classification.LogisticRegressionModel",
    "pyspark.ml.pipeline.PipelineModel",
    "org.apache.spark.ml.feature.OneHotEncoderEstimator",
    "org.apache.spark.ml.Pipeline",
];

/// Loads any saved transformer or model, dispatching on the `class` in its metadata.
///
/// # Errors
/// [`Error::File`] naming the file for a missing, truncated or corrupt metadata or data
/// file, a wrong data schema, a newer format, or an unknown class (listing the known ones).
pub fn load_stage(dir: impl AsRef<Path>) -> Result<Box<dyn Transformer>> {
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    let short = md.class.rsplit('.').next().unwrap_or("");
    if crate::tree::is_tree_model(short) {
        return crate::tree::load_tree_model(dir, &md);
    }
    Ok(match short {
        "PipelineModel" => Box::new(load_pipeline(dir, &md)?),
        "VectorAssembler" => Box::new(VectorAssembler::from_params(
            md.uid.clone(),
            params_from(&md, dir)?,
        )),
        "Bucketizer" => Box::new(Bucketizer::from_params(
            md.uid.clone(),
            params_from(&md, dir)?,
        )),
        "IndexToString" => {
            let p: IndexToStringParams = params_from(&md, dir)?;
            Box::new(IndexToString::from_params(md.uid.clone(), p))
        }
        "StandardScalerModel" => {
            let d = read_data(dir)?;
            let std = dense_vector(&d, "std", dir)?;
            let mean = dense_vector(&d, "mean", dir)?;
            Box::new(StandardScalerModel::new(
                md.uid.clone(),
                params_from(&md, dir)?,
                mean,
                std,
            ))
        }
        "MinMaxScalerModel" => {
            let d = read_data(dir)?;
            let lo = dense_vector(&d, "originalMin", dir)?;
            let hi = dense_vector(&d, "originalMax", dir)?;
            Box::new(MinMaxScalerModel::new(
                md.uid.clone(),
                params_from(&md, dir)?,
                lo,
                hi,
            ))
        }
        "MaxAbsScalerModel" => {
            let d = read_data(dir)?;
            let m = dense_vector(&d, "maxAbs", dir)?;
            Box::new(MaxAbsScalerModel::new(
                md.uid.clone(),
                params_from(&md, dir)?,
                m,
            ))
        }
        "StringIndexerModel" => {
            let d = read_data(dir)?;
            let labels = if let Some(a) = d.column_by_name("labelsArray") {
                let outer = a
                    .as_list_opt::<i32>()
                    .ok_or_else(|| Error::file(dir.join("data"), "labelsArray is not a list"))?;
                // one row; its value is a list (per input column) of lists of labels
                let row = outer.value(0);
                let inner = row.as_list_opt::<i32>().ok_or_else(|| {
                    Error::file(dir.join("data"), "labelsArray is not a list of lists")
                })?;
                (0..inner.len())
                    .map(|i| string_list(&inner.value(i), dir))
                    .collect::<Result<Vec<_>>>()?
            } else {
                // Spark < 3: one `labels` column
                let a = column(&d, "labels", dir)?;
                let l = a
                    .as_list_opt::<i32>()
                    .ok_or_else(|| Error::file(dir.join("data"), "labels is not a list"))?;
                vec![string_list(&l.value(0), dir)?]
            };
            Box::new(StringIndexerModel::new(
                md.uid.clone(),
                params_from(&md, dir)?,
                labels,
            ))
        }
        "OneHotEncoderModel" => {
            let d = read_data(dir)?;
            let a = column(&d, "categorySizes", dir)?;
            let l = a
                .as_list_opt::<i32>()
                .ok_or_else(|| Error::file(dir.join("data"), "categorySizes is not a list"))?;
            let v = l.value(0);
            let sizes = v
                .as_primitive_opt::<Int32Type>()
                .ok_or_else(|| Error::file(dir.join("data"), "categorySizes are not ints"))?;
            Box::new(OneHotEncoderModel::new(
                md.uid.clone(),
                params_from(&md, dir)?,
                sizes.values().iter().map(|v| *v as usize).collect(),
            ))
        }
        "ImputerModel" => {
            let p: ImputerParams = params_from(&md, dir)?;
            let d = read_data(dir)?;
            let inputs = p
                .input_cols
                .clone()
                .or_else(|| p.input_col.clone().map(|c| vec![c]))
                .unwrap_or_default();
            let s = inputs
                .iter()
                .map(|c| {
                    let a = arrow::compute::cast(column(&d, c, dir)?, &DataType::Float64)?;
                    Ok(a.as_primitive::<arrow::datatypes::Float64Type>().value(0))
                })
                .collect::<Result<Vec<_>>>()?;
            Box::new(ImputerModel::new(md.uid.clone(), p, s))
        }
        "LogisticRegressionModel" => Box::new(load_lr(dir, &md)?),
        "Pipeline" | "StandardScaler" | "MinMaxScaler" | "MaxAbsScaler" | "StringIndexer" | "OneHotEncoder" | "Imputer" | "LogisticRegression" => {
            return Err(Error::file(
                dir.join("metadata"),
                format!("holds an unfitted {short}, not a transformer; load it with load_pipeline_stage or Pipeline::load and fit it"),
            ))
        }
        _ => {
            return Err(Error::file(
                dir.join("metadata"),
                format!(
                    "unknown class {}; known classes: {:?}",
                    md.class,
                    &KNOWN_CLASSES[..11]
                ),
            ))
        }
    })
}

/// Column `name` of a model's data row, decoded as a dense vector.
fn dense_vector(d: &RecordBatch, name: &str, dir: &Path) -> Result<Vec<f64>> {
    Ok(Vector::from_column(column(d, name, dir)?, dir)?.to_dense())
}

fn string_list(a: &ArrayRef, dir: &Path) -> Result<Vec<String>> {
    let s = arrow::compute::cast(a, &DataType::Utf8)
        .map_err(|e| Error::file(dir.join("data"), format!("labels are not strings: {e}")))?;
    Ok(s.as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn load_lr(dir: &Path, md: &Metadata) -> Result<LogisticRegressionModel> {
    let p: LogisticRegressionParams = params_from(md, dir)?;
    let d = read_data(dir)?;
    let int = |name: &str| -> Result<i64> {
        let a = arrow::compute::cast(column(&d, name, dir)?, &DataType::Int64)?;
        Ok(a.as_primitive::<arrow::datatypes::Int64Type>().value(0))
    };
    let num_classes = int("numClasses")? as usize;
    let num_features = int("numFeatures")? as usize;
    if d.column_by_name("coefficientMatrix").is_none() {
        // Spark < 2.1: `intercept: double, coefficients: Vector`, binomial only
        let b = arrow::compute::cast(column(&d, "intercept", dir)?, &DataType::Float64)?;
        let b = b.as_primitive::<arrow::datatypes::Float64Type>().value(0);
        let c = dense_vector(&d, "coefficients", dir)?;
        return Ok(LogisticRegressionModel::new(
            md.uid.clone(),
            p,
            c,
            vec![b],
            num_classes,
            false,
        ));
    }
    let multinomial = column(&d, "isMultinomial", dir)?
        .as_boolean_opt()
        .map(|b| b.value(0))
        .ok_or_else(|| Error::file(dir.join("data"), "isMultinomial is not a boolean"))?;
    let m = Matrix::from_column(column(&d, "coefficientMatrix", dir)?, dir)?;
    let intercepts = dense_vector(&d, "interceptVector", dir)?;
    let sets = if multinomial { num_classes } else { 1 };
    if m.num_cols != num_features || m.num_rows != intercepts.len() || intercepts.len() != sets {
        return Err(Error::file(
            dir.join("data"),
            format!("coefficientMatrix is {}x{} but numFeatures is {num_features}, numClasses {num_classes}, and there are {} intercepts", m.num_rows, m.num_cols, intercepts.len()),
        ));
    }
    Ok(LogisticRegressionModel::new(
        md.uid.clone(),
        p,
        m.to_row_major(),
        intercepts,
        num_classes,
        multinomial,
    ))
}

fn stage_uids(dir: &Path, md: &Metadata) -> Result<Vec<String>> {
    Ok(md
        .raw
        .get("paramMap")
        .and_then(|p| p.get("stageUids"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                "PipelineModel metadata lacks paramMap.stageUids",
            )
        })?
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect())
}

fn load_pipeline(dir: &Path, md: &Metadata) -> Result<PipelineModel> {
    let uids = stage_uids(dir, md)?;
    let width = uids.len().to_string().len();
    let mut stages = Vec::with_capacity(uids.len());
    for (i, uid) in uids.iter().enumerate() {
        let sdir = dir.join("stages").join(format!("{i:0width$}_{uid}"));
        if !sdir.is_dir() {
            return Err(Error::file(
                &sdir,
                format!("stage {i} of the pipeline is missing"),
            ));
        }
        stages.push(load_stage(&sdir)?);
    }
    Ok(PipelineModel::new(md.uid.clone(), stages))
}

impl PipelineModel {
    /// Loads a PipelineModel saved by Spark (3.x, 4.x) or mlpipe.
    pub fn load(dir: impl AsRef<Path>) -> Result<PipelineModel> {
        let dir = dir.as_ref();
        let md = read_metadata(dir)?;
        if !md.class.ends_with("PipelineModel") {
            return Err(Error::file(
                dir.join("metadata"),
                format!("holds a {}, not a PipelineModel; use load_stage", md.class),
            ));
        }
        load_pipeline(dir, &md)
    }
}

/// Spark's schema JSON for a one-row data file: `(name, type JSON, nullable)`.
fn spark_schema(fields: &[(&str, Value, bool)]) -> Value {
    json!({"type": "struct", "fields": fields.iter().map(|(n, t, nullable)| json!({"name": n, "type": t, "nullable": nullable, "metadata": {}})).collect::<Vec<_>>()})
}

fn one_row(fields: Vec<(Field, ArrayRef)>) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        fields.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
    ));
    Ok(RecordBatch::try_new(
        schema,
        fields.into_iter().map(|(_, a)| a).collect(),
    )?)
}

macro_rules! persist_params_only {
    ($($t:ty => $class:literal),* $(,)?) => {$(
        impl Persist for $t {
            fn spark_class(&self) -> &'static str {
                $class
            }
            fn write_into(&self, dir: &Path) -> Result<()> {
                write_params(dir, $class, Stage::uid(self), self.params())
            }
        }
    )*};
}

// Transformers without fitted data, and the unfitted estimators: metadata only.
persist_params_only!(
    VectorAssembler => "org.apache.spark.ml.feature.VectorAssembler",
    Bucketizer => "org.apache.spark.ml.feature.Bucketizer",
    IndexToString => "org.apache.spark.ml.feature.IndexToString",
    StandardScaler => "org.apache.spark.ml.feature.StandardScaler",
    MinMaxScaler => "org.apache.spark.ml.feature.MinMaxScaler",
    MaxAbsScaler => "org.apache.spark.ml.feature.MaxAbsScaler",
    StringIndexer => "org.apache.spark.ml.feature.StringIndexer",
    OneHotEncoder => "org.apache.spark.ml.feature.OneHotEncoder",
    Imputer => "org.apache.spark.ml.feature.Imputer",
    LogisticRegression => "org.apache.spark.ml.classification.LogisticRegression",
);

impl Persist for StandardScalerModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.StandardScalerModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        write_params(dir, self.spark_class(), self.uid(), self.params())?;
        write_vectors(dir, &[("std", self.std()), ("mean", self.mean())])
    }
}

impl Persist for LogisticRegressionModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.classification.LogisticRegressionModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        write_params(dir, self.spark_class(), self.uid(), self.params())?;
        let c = self.intercept_vector().len();
        let matrix = Matrix {
            num_rows: c,
            num_cols: self.num_features(),
            values: self.coefficient_matrix().to_vec(),
        };
        let batch = one_row(vec![
            (
                Field::new("numClasses", DataType::Int32, false),
                Arc::new(arrow::array::Int32Array::from(vec![
                    self.num_classes() as i32
                ])) as ArrayRef,
            ),
            (
                Field::new("numFeatures", DataType::Int32, false),
                Arc::new(arrow::array::Int32Array::from(vec![
                    self.num_features() as i32
                ])) as ArrayRef,
            ),
            Vector::Dense(self.intercept_vector().to_vec()).field_and_array("interceptVector")?,
            matrix.field_and_array("coefficientMatrix")?,
            (
                Field::new("isMultinomial", DataType::Boolean, false),
                Arc::new(arrow::array::BooleanArray::from(
                    vec![self.is_multinomial()],
                )) as ArrayRef,
            ),
        ])?;
        write_data(
            dir,
            &batch,
            spark_schema(&[
                ("numClasses", json!("integer"), false),
                ("numFeatures", json!("integer"), false),
                ("interceptVector", linalg::vector_udt_json(), true),
                ("coefficientMatrix", linalg::matrix_udt_json(), true),
                ("isMultinomial", json!("boolean"), false),
            ]),
        )
    }
}

impl Persist for MinMaxScalerModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.MinMaxScalerModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        let p: MinMaxScalerParams = serde_json::from_value(self.params_json())
            .map_err(|e| Error::Internal(format!("MinMaxScaler params: {e}")))?;
        write_params(dir, self.spark_class(), self.uid(), &p)?;
        write_vectors(
            dir,
            &[
                ("originalMin", self.original_min()),
                ("originalMax", self.original_max()),
            ],
        )
    }
}

impl Persist for MaxAbsScalerModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.MaxAbsScalerModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        let p: MaxAbsScalerParams = serde_json::from_value(self.params_json())
            .map_err(|e| Error::Internal(format!("MaxAbsScaler params: {e}")))?;
        write_params(dir, self.spark_class(), self.uid(), &p)?;
        write_vectors(dir, &[("maxAbs", self.max_abs())])
    }
}

impl Persist for StringIndexerModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.StringIndexerModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        write_params(dir, self.spark_class(), self.uid(), self.params())?;
        let mut b = arrow::array::ListBuilder::new(arrow::array::ListBuilder::new(
            arrow::array::StringBuilder::new(),
        ));
        for labels in self.labels() {
            for l in labels {
                b.values().values().append_value(l);
            }
            b.values().append(true);
        }
        b.append(true);
        let arr: ArrayRef = Arc::new(b.finish());
        let batch = one_row(vec![(
            Field::new("labelsArray", arr.data_type().clone(), true),
            arr,
        )])?;
        let strings = json!({"type": "array", "elementType": "string", "containsNull": true});
        write_data(
            dir,
            &batch,
            spark_schema(&[(
                "labelsArray",
                json!({"type": "array", "elementType": strings, "containsNull": true}),
                true,
            )]),
        )
    }
}

impl Persist for OneHotEncoderModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.OneHotEncoderModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        write_params(dir, self.spark_class(), self.uid(), self.params())?;
        let sizes: Vec<i32> = self.category_sizes().iter().map(|c| *c as i32).collect();
        let n = sizes.len();
        let arr: ArrayRef = Arc::new(arrow::array::ListArray::new(
            Arc::new(Field::new("element", DataType::Int32, false)),
            arrow::buffer::OffsetBuffer::from_lengths([n]),
            Arc::new(arrow::array::Int32Array::from(sizes)),
            None,
        ));
        let batch = one_row(vec![(
            Field::new("categorySizes", arr.data_type().clone(), true),
            arr,
        )])?;
        write_data(
            dir,
            &batch,
            spark_schema(&[(
                "categorySizes",
                json!({"type": "array", "elementType": "integer", "containsNull": false}),
                true,
            )]),
        )
    }
}

impl Persist for ImputerModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.feature.ImputerModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        write_params(dir, self.spark_class(), self.uid(), self.params())?;
        let p = self.params();
        let inputs = p
            .input_cols
            .clone()
            .or_else(|| p.input_col.clone().map(|c| vec![c]))
            .unwrap_or_default();
        let cols: Vec<(Field, ArrayRef)> = inputs
            .iter()
            .zip(self.surrogates())
            .map(|(c, s)| {
                (
                    Field::new(c, DataType::Float64, false),
                    Arc::new(arrow::array::Float64Array::from(vec![*s])) as ArrayRef,
                )
            })
            .collect();
        let batch = one_row(cols)?;
        let fields: Vec<(&str, Value, bool)> = inputs
            .iter()
            .map(|c| (c.as_str(), json!("double"), false))
            .collect();
        write_data(dir, &batch, spark_schema(&fields))
    }
}

impl Persist for PipelineModel {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.PipelineModel"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        let uids: Vec<&str> = self.stages().iter().map(|s| s.uid()).collect();
        write_metadata(
            dir,
            self.spark_class(),
            self.uid(),
            json!({"stageUids": uids}),
            json!({}),
            None,
        )?;
        let width = uids.len().to_string().len();
        for (i, s) in self.stages().iter().enumerate() {
            let p = persistable(s.as_ref()).ok_or_else(|| {
                Error::Pipeline(format!(
                    "stage {i} ({}) cannot be saved in Spark's format yet",
                    s.kind()
                ))
            })?;
            let sdir = dir.join("stages").join(format!("{i:0width$}_{}", s.uid()));
            fs::create_dir_all(&sdir)
                .map_err(|e| Error::file(&sdir, format!("cannot create: {e}")))?;
            p.write_into(&sdir)?;
        }
        Ok(())
    }
}

impl Persist for Pipeline {
    fn spark_class(&self) -> &'static str {
        "org.apache.spark.ml.Pipeline"
    }
    fn write_into(&self, dir: &Path) -> Result<()> {
        let uids: Vec<&str> = self.stages().iter().map(stage_uid).collect();
        write_metadata(
            dir,
            self.spark_class(),
            self.uid(),
            json!({"stageUids": uids}),
            json!({}),
            None,
        )?;
        let width = uids.len().to_string().len();
        for (i, s) in self.stages().iter().enumerate() {
            let p = persistable_stage(s).ok_or_else(|| {
                Error::Pipeline(format!(
                    "stage {i} ({}) cannot be saved in Spark's format yet",
                    stage_uid(s)
                ))
            })?;
            let sdir = dir.join("stages").join(format!("{i:0width$}_{}", uids[i]));
            fs::create_dir_all(&sdir)
                .map_err(|e| Error::file(&sdir, format!("cannot create: {e}")))?;
            p.write_into(&sdir)?;
        }
        Ok(())
    }
}

fn stage_uid(s: &PipelineStage) -> &str {
    match s {
        PipelineStage::Transformer(t) => t.uid(),
        PipelineStage::Estimator(e) => e.uid(),
    }
}

/// The [`Persist`] view of a pipeline stage (transformer or estimator).
pub fn persistable_stage(s: &PipelineStage) -> Option<&dyn Persist> {
    match s {
        PipelineStage::Transformer(t) => persistable(t.as_ref()),
        PipelineStage::Estimator(e) => {
            let any = e.as_ref() as &dyn std::any::Any;
            macro_rules! try_as {
                ($($ty:ty),*) => { $( if let Some(x) = any.downcast_ref::<$ty>() { return Some(x); } )* };
            }
            try_as!(
                StandardScaler,
                MinMaxScaler,
                MaxAbsScaler,
                StringIndexer,
                OneHotEncoder,
                Imputer,
                LogisticRegression,
                Pipeline
            );
            None
        }
    }
}

/// Loads any saved stage, estimators and unfitted pipelines included.
pub fn load_pipeline_stage(dir: impl AsRef<Path>) -> Result<PipelineStage> {
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    let short = md.class.rsplit('.').next().unwrap_or("");
    let uid = md.uid.clone();
    let est: Box<dyn DynEstimator> = match short {
        "Pipeline" => Box::new(Pipeline::load(dir)?),
        "StandardScaler" => Box::new(StandardScaler::from_params(uid, params_from(&md, dir)?)),
        "MinMaxScaler" => Box::new(MinMaxScaler::from_params(uid, params_from(&md, dir)?)),
        "MaxAbsScaler" => Box::new(MaxAbsScaler::from_params(uid, params_from(&md, dir)?)),
        "StringIndexer" => Box::new(StringIndexer::from_params(uid, params_from(&md, dir)?)),
        "OneHotEncoder" | "OneHotEncoderEstimator" => {
            Box::new(OneHotEncoder::from_params(uid, params_from(&md, dir)?))
        }
        "Imputer" => Box::new(Imputer::from_params(uid, params_from(&md, dir)?)),
        "LogisticRegression" => {
            Box::new(LogisticRegression::from_params(uid, params_from(&md, dir)?))
        }
        _ => return Ok(PipelineStage::Transformer(load_stage(dir)?)),
    };
    Ok(PipelineStage::Estimator(est))
}

impl Pipeline {
    /// Loads an unfitted Pipeline saved by Spark or mlpipe.
    pub fn load(dir: impl AsRef<Path>) -> Result<Pipeline> {
        let dir = dir.as_ref();
        let md = read_metadata(dir)?;
        if !md.class.ends_with(".Pipeline") {
            return Err(Error::file(
                dir.join("metadata"),
                format!("holds a {}, not a Pipeline", md.class),
            ));
        }
        let uids = stage_uids(dir, &md)?;
        let width = uids.len().to_string().len();
        let mut p = Pipeline::new().with_uid(md.uid.clone());
        for (i, uid) in uids.iter().enumerate() {
            let sdir = dir.join("stages").join(format!("{i:0width$}_{uid}"));
            if !sdir.is_dir() {
                return Err(Error::file(
                    &sdir,
                    format!("stage {i} of the pipeline is missing"),
                ));
            }
            p = p.with_stage(load_pipeline_stage(&sdir)?);
        }
        Ok(p)
    }
}

/// The [`Persist`] view of a transformer, for the types that have one.
pub fn persistable(t: &dyn Transformer) -> Option<&dyn Persist> {
    let any = t as &dyn std::any::Any;
    macro_rules! try_as {
        ($($ty:ty),*) => { $( if let Some(x) = any.downcast_ref::<$ty>() { return Some(x); } )* };
    }
    try_as!(
        VectorAssembler,
        Bucketizer,
        IndexToString,
        StandardScalerModel,
        MinMaxScalerModel,
        MaxAbsScalerModel,
        StringIndexerModel,
        OneHotEncoderModel,
        ImputerModel,
        LogisticRegressionModel,
        PipelineModel,
        crate::tree::DecisionTreeClassificationModel,
        crate::tree::DecisionTreeRegressionModel,
        crate::tree::RandomForestClassificationModel,
        crate::tree::RandomForestRegressionModel,
        crate::tree::GBTClassificationModel,
        crate::tree::GBTRegressionModel
    );
    None
}
