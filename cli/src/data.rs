//! Reading inputs, writing outputs, and the model target check shared by the commands.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::{DataType, Field};
use mlpipe::frame::vector;
use mlpipe::persist::{read_metadata, SaveMode};
use mlpipe::prelude::*;

/// Whether `path` names a Parquet file (by extension).
pub fn is_parquet(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("parquet") | Some("pq")
    )
}

/// Reads CSV (blank or single-space fields are null) or Parquet by extension.
pub fn read(path: &Path) -> Result<DataFrame> {
    if is_parquet(path) {
        DataFrame::read_parquet(path, &ParquetOptions::default())
    } else {
        DataFrame::read_csv(path, &CsvOptions::default().with_null_values(&["", " "]))
    }
}

/// Writes `df` as Parquet (vector columns kept as lists) or CSV (vector columns flattened).
pub fn write(df: &DataFrame, path: &Path) -> Result<()> {
    if is_parquet(path) {
        df.write_parquet(path)
    } else {
        flatten_vectors(df)?.write_csv(path)
    }
}

/// A command-line usage error.
pub fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(msg.into())
}

/// Whether a column type holds strings.
pub fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The input's column names, in order.
pub fn column_names(df: &DataFrame) -> Vec<String> {
    df.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// Checks where a model is to be saved, before any work, and returns the save mode.
///
/// Without `--overwrite` the target must not exist. With it, the target must be absent,
/// an empty directory, or a saved Spark/mlpipe stage (a directory whose `metadata` parses):
/// anything else (a regular file, a directory holding other files) is refused untouched.
pub fn save_mode(model: &Path, overwrite: bool) -> Result<SaveMode> {
    let exists = model.symlink_metadata().is_ok();
    if !exists {
        return Ok(SaveMode::ErrorIfExists);
    }
    if !overwrite {
        return Err(Error::File {
            path: model.to_path_buf(),
            reason: "already exists; pass --overwrite to replace a saved model".into(),
        });
    }
    let refuse = |what: String| {
        Error::File {
        path: model.to_path_buf(),
        reason: format!(
            "{what}, not a saved model; --overwrite replaces only a saved Spark/mlpipe model, so nothing was touched: choose another path or remove it yourself"
        ),
    }
    };
    if !model.is_dir() || model.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
        return Err(refuse("is a file".into()));
    }
    let mut entries = std::fs::read_dir(model)
        .map_err(|e| Error::File {
            path: model.to_path_buf(),
            reason: format!("cannot list: {e}"),
        })?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    if entries.is_empty() {
        return Ok(SaveMode::Overwrite);
    }
    if read_metadata(model).is_ok() {
        return Ok(SaveMode::Overwrite);
    }
    entries.sort();
    let shown: Vec<&str> = entries.iter().take(3).map(|s| s.as_str()).collect();
    Err(refuse(format!(
        "is a directory holding {} ({}{})",
        if entries.len() == 1 {
            "a file".to_string()
        } else {
            format!("{} entries", entries.len())
        },
        shown.join(", "),
        if entries.len() > 3 { ", ..." } else { "" }
    )))
}

/// Replaces each vector column `v` by `v_0`, `v_1`, ... (CSV holds only flat values).
pub fn flatten_vectors(df: &DataFrame) -> Result<DataFrame> {
    let mut out = df.clone();
    for f in df.schema().fields() {
        let Some(n) = vector::field_vector_size(f) else {
            continue;
        };
        let col = mlpipe::frame::Column {
            field: f.clone(),
            chunks: vector::dense_chunks(df, "flatten_vectors", f.name(), n)?,
        };
        let mut new_cols = Vec::with_capacity(n);
        for j in 0..n {
            let chunks = col
                .chunks
                .iter()
                .map(|c| {
                    let l = c.as_fixed_size_list();
                    let v = vector::dense_values(l)?;
                    Ok(Arc::new(Float64Array::from(
                        (0..l.len())
                            .map(|r| (!l.is_null(r)).then(|| v[r * n + j]))
                            .collect::<Vec<_>>(),
                    )) as ArrayRef)
                })
                .collect::<Result<Vec<_>>>()?;
            new_cols.push((format!("{}_{j}", f.name()), chunks));
        }
        for (name, chunks) in new_cols {
            out = out.with_column(Field::new(name, DataType::Float64, true), chunks)?;
        }
        out = out.drop([f.name()])?;
    }
    Ok(out)
}

/// Writes a JSON report.
pub fn write_report(path: &Path, report: &serde_json::Value) -> Result<()> {
    std::fs::write(
        path,
        serde_json::to_string_pretty(report).unwrap_or_default(),
    )
    .map_err(|e| Error::File {
        path: path.to_path_buf(),
        reason: format!("cannot write the report: {e}"),
    })
}
