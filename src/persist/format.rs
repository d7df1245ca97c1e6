//! The format itself: `metadata/` JSON, the one-row `data/` Parquet file with Spark's
//! row-metadata footer, and the small helpers every stage's read/write is made of.
//!
//! Nothing here knows any stage; each stage's `SparkPersist` impl (in the stage's own file)
//! calls these.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use serde_json::{json, Map, Value};

use super::linalg::{self, Vector};
use crate::error::{Error, Result};
use crate::param::Params;

/// The Spark version stamped into saved metadata: the version whose format mlpipe writes and is
/// tested against (tree models need at least 4.3, where `pruneTree` appeared); Spark's readers take
/// their current code paths for it.
pub const SPARK_VERSION: &str = "4.3.0";

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

impl Metadata {
    /// The params decoded into the stage's params struct `P` (`dir` is the stage directory,
    /// named in the error).
    pub(crate) fn params_as<P: Params>(&self, dir: &Path) -> Result<P> {
        serde_json::from_value(Value::Object(self.params.clone())).map_err(|e| {
            Error::file(
                dir.join("metadata"),
                format!("params do not fit {}: {e}", P::STAGE),
            )
        })
    }

    /// The last segment of the class name (`StringIndexerModel`).
    pub(crate) fn short_class(&self) -> &str {
        short_class(&self.class)
    }
}

/// The last segment of a class name (`org.apache.spark.ml.feature.Bucketizer` ->
/// `Bucketizer`).
pub(crate) fn short_class(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
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
///
/// # Errors
/// [`Error::File`] naming the file when `metadata/` is missing, empty or corrupt, lacks
/// `class`, `uid` or `sparkVersion`, or was written by a Spark newer than 4.x.
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

/// Writes `metadata/part-00000` with every non-null param of `params` in `paramMap` and
/// of `defaults` in `defaultParamMap`, plus an optional extra top-level key.
pub(crate) fn write_metadata(
    dir: &Path,
    class: &str,
    uid: &str,
    params: Value,
    defaults: Value,
    extra: Option<(&str, Value)>,
) -> Result<()> {
    let mut md = metadata_json(class, uid, params, defaults, SPARK_VERSION);
    if let Some((k, v)) = extra {
        md[k] = v;
    }
    write_metadata_json(dir, &md)
}

/// Spark's metadata JSON (`class`, `timestamp`, `sparkVersion`, `uid`, `paramMap` with the
/// non-null `params`, `defaultParamMap` with the non-null `defaults`), stamped with
/// `spark_version` (Spark picks its reader's code path by it).
pub(crate) fn metadata_json(
    class: &str,
    uid: &str,
    params: Value,
    defaults: Value,
    spark_version: &str,
) -> Value {
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
    json!({
        "class": class, "timestamp": ts, "sparkVersion": spark_version, "uid": uid,
        "paramMap": strip(params), "defaultParamMap": strip(defaults),
    })
}

/// Writes a metadata JSON value as `dir/metadata/part-00000` (with `_SUCCESS`).
pub(crate) fn write_metadata_json(dir: &Path, md: &Value) -> Result<()> {
    let mdir = dir.join("metadata");
    fs::create_dir_all(&mdir).map_err(|e| Error::file(&mdir, format!("cannot create: {e}")))?;
    fs::write(mdir.join("part-00000"), format!("{md}\n"))
        .map_err(|e| Error::file(&mdir, format!("cannot write: {e}")))?;
    fs::write(mdir.join("_SUCCESS"), "")
        .map_err(|e| Error::file(&mdir, format!("cannot write: {e}")))?;
    Ok(())
}

/// Adds top-level keys to a written `metadata/part-00000` (Spark's extra metadata, such as
/// OneVsRestModel's `numClasses`).
pub(crate) fn add_metadata_keys(dir: &Path, keys: &[(&str, Value)]) -> Result<()> {
    let file = dir.join("metadata").join("part-00000");
    let text =
        fs::read_to_string(&file).map_err(|e| Error::file(&file, format!("cannot read: {e}")))?;
    let mut md: Value = serde_json::from_str(text.trim())
        .map_err(|e| Error::file(&file, format!("corrupt metadata JSON: {e}")))?;
    for (k, v) in keys {
        md[*k] = v.clone();
    }
    fs::write(&file, format!("{md}\n"))
        .map_err(|e| Error::file(&file, format!("cannot write: {e}")))
}

/// Writes the metadata of a stage whose params struct is `P` (its `defaultParamMap` from
/// `P::default()`).
pub(crate) fn write_params<P: Params + Default>(
    dir: &Path,
    class: &str,
    uid: &str,
    p: &P,
) -> Result<()> {
    write_metadata(dir, class, uid, p.to_json(), P::default().to_json(), None)
}

/// Writes a data row of vectors (Spark's VectorUDT columns), each stored as Spark's
/// `Vector.compressed` stores it.
pub(crate) fn write_vectors(dir: &Path, cols: &[(&str, &[f64])]) -> Result<()> {
    let fields = cols
        .iter()
        .map(|(n, v)| Vector::compressed(v).field_and_array(n))
        .collect::<Result<Vec<_>>>()?;
    let schema: Vec<(&str, Value, bool)> = cols
        .iter()
        .map(|(n, _)| (*n, linalg::vector_udt_json(), true))
        .collect();
    write_data(dir, &one_row(fields)?, spark_schema(&schema))
}

/// Reads the (first non-empty) row of `data/`.
pub(crate) fn read_data(dir: &Path) -> Result<RecordBatch> {
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

/// Every row of `data/`, over all Parquet part files in name order (Spark 4.x writes a
/// multi-row array such as KMeans' centres into several part files).
pub(crate) fn read_data_batches(dir: &Path) -> Result<Vec<RecordBatch>> {
    let ddir = dir.join("data");
    let out: Vec<RecordBatch> = read_parquet_dir(&ddir)?
        .into_iter()
        .map(|(_, b)| b)
        .filter(|b| b.num_rows() > 0)
        .collect();
    if out.is_empty() {
        return Err(Error::file(&ddir, "holds no Parquet row"));
    }
    Ok(out)
}

/// Every batch of every Parquet part file of `dir` (a `data/`-like directory), in file-name
/// order, each with its file (for error messages).
pub(crate) fn read_parquet_dir(dir: &Path) -> Result<Vec<(PathBuf, RecordBatch)>> {
    let mut out = Vec::new();
    for file in part_files(dir)?
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
    {
        let f =
            fs::File::open(&file).map_err(|e| Error::file(&file, format!("cannot open: {e}")))?;
        let bad =
            |e: &dyn std::fmt::Display| Error::file(&file, format!("corrupt model data: {e}"));
        let reader = ParquetRecordBatchReaderBuilder::try_new(f)
            .map_err(|e| bad(&e))?
            .build()
            .map_err(|e| bad(&e))?;
        for b in reader {
            out.push((file.clone(), b.map_err(|e| bad(&e))?));
        }
    }
    if out.is_empty() {
        return Err(Error::file(dir, "holds no Parquet data"));
    }
    Ok(out)
}

/// Writes one row as `data/part-00000.snappy.parquet` with Spark's row-metadata footer
/// (`spark_schema`, built with [`spark_schema`]).
pub(crate) fn write_data(dir: &Path, batch: &RecordBatch, spark_schema: Value) -> Result<()> {
    write_parquet(&dir.join("data"), batch, spark_schema, SPARK_VERSION)
}

/// Writes `batch` as `dir/part-00000.snappy.parquet` (with `_SUCCESS`) with Spark's
/// row-metadata footer `spark_schema` and `org.apache.spark.version` = `spark_version`.
pub(crate) fn write_parquet(
    dir: &Path,
    batch: &RecordBatch,
    spark_schema: Value,
    spark_version: &str,
) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::file(dir, format!("cannot create: {e}")))?;
    let path = dir.join("part-00000.snappy.parquet");
    let file =
        fs::File::create(&path).map_err(|e| Error::file(&path, format!("cannot create: {e}")))?;
    let props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_key_value_metadata(Some(vec![
            KeyValue::new("org.apache.spark.version".into(), spark_version.to_string()),
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
    fs::write(dir.join("_SUCCESS"), "")
        .map_err(|e| Error::file(dir, format!("cannot write: {e}")))?;
    Ok(())
}

/// Column `name` of a stage's data row; the error names `dir/data` and the columns found.
pub(crate) fn column<'a>(b: &'a RecordBatch, name: &str, dir: &Path) -> Result<&'a ArrayRef> {
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

/// Column `name` of a data row, decoded as a dense vector.
pub(crate) fn dense_vector(d: &RecordBatch, name: &str, dir: &Path) -> Result<Vec<f64>> {
    Ok(Vector::from_column(column(d, name, dir)?, dir)?.to_dense())
}

/// Column `name` of a data row cast to `f64` (first row).
pub(crate) fn f64_value(d: &RecordBatch, name: &str, dir: &Path) -> Result<f64> {
    let a = arrow::compute::cast(column(d, name, dir)?, &DataType::Float64)?;
    Ok(a.as_primitive::<Float64Type>().value(0))
}

/// Column `name` of a data row cast to `i64` (first row).
pub(crate) fn i64_value(d: &RecordBatch, name: &str, dir: &Path) -> Result<i64> {
    let a = arrow::compute::cast(column(d, name, dir)?, &DataType::Int64)?;
    Ok(a.as_primitive::<Int64Type>().value(0))
}

/// A list of strings (nulls read as ""), as in Spark's label arrays.
pub(crate) fn string_list(a: &ArrayRef, dir: &Path) -> Result<Vec<String>> {
    let s = arrow::compute::cast(a, &DataType::Utf8)
        .map_err(|e| Error::file(dir.join("data"), format!("labels are not strings: {e}")))?;
    Ok(s.as_string::<i32>()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

/// Spark's schema JSON for a one-row data file: `(name, type JSON, nullable)`.
pub(crate) fn spark_schema(fields: &[(&str, Value, bool)]) -> Value {
    json!({"type": "struct", "fields": fields.iter().map(|(n, t, nullable)| json!({"name": n, "type": t, "nullable": nullable, "metadata": {}})).collect::<Vec<_>>()})
}

/// A one-row batch from `(field, one-element array)` pairs.
pub(crate) fn one_row(fields: Vec<(Field, ArrayRef)>) -> Result<RecordBatch> {
    let schema = Arc::new(Schema::new(
        fields.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>(),
    ));
    Ok(RecordBatch::try_new(
        schema,
        fields.into_iter().map(|(_, a)| a).collect(),
    )?)
}

/// `paramMap.stageUids` of a Pipeline or PipelineModel.
pub(crate) fn stage_uids(dir: &Path, md: &Metadata) -> Result<Vec<String>> {
    Ok(md
        .raw
        .get("paramMap")
        .and_then(|p| p.get("stageUids"))
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                format!("{} metadata lacks paramMap.stageUids", md.short_class()),
            )
        })?
        .iter()
        .map(|v| v.as_str().unwrap_or("").to_string())
        .collect())
}

/// The directory of stage `i` of `n` under a pipeline directory: `stages/<i>_<uid>`, `i`
/// zero-padded to the width of `n` as Spark writes it.
pub(crate) fn stage_dir(dir: &Path, i: usize, n: usize, uid: &str) -> PathBuf {
    let width = n.to_string().len();
    dir.join("stages").join(format!("{i:0width$}_{uid}"))
}

pub(crate) use super::linalg::{matrix_udt_json, vector_udt_json};
