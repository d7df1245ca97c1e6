//! Reading and writing CSV and Parquet.

use std::fs::File;
use std::io::{BufReader, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::csv::reader::Format;
use arrow::csv::{ReaderBuilder, WriterBuilder};
use arrow::datatypes::{DataType, SchemaRef};
use arrow::error::ArrowError;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use rayon::prelude::*;

use super::DataFrame;
use crate::error::{Error, Result};

/// How to read a CSV file; see [`DataFrame::read_csv`].
///
/// The defaults match Spark's CSV reader with `header=true, inferSchema=true`: a header
/// line, `,` as delimiter, the empty string read as null, and every row scanned to infer
/// the column types.
///
/// # Examples
/// ```
/// use mlpipe::CsvOptions;
/// // The Telco churn file writes a blank TotalCharges as a single space.
/// let opts = CsvOptions::default().with_null_values(&["", " "]);
/// assert_eq!(opts.null_values, vec!["".to_string(), " ".to_string()]);
/// ```
#[derive(Clone, Debug)]
pub struct CsvOptions {
    /// The first line holds column names. Default `true`.
    pub has_header: bool,
    /// Field delimiter. Default `b','`.
    pub delimiter: u8,
    /// Field values read as null (compared with the whole field). Default `[""]`.
    pub null_values: Vec<String>,
    /// The schema to read with; `None` infers it. Default `None`.
    pub schema: Option<SchemaRef>,
    /// How many records type inference reads; `None` reads them all. Default `None`.
    pub infer_rows: Option<usize>,
    /// Rows per partition. Default 65,536.
    pub partition_rows: usize,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: b',',
            null_values: vec![String::new()],
            schema: None,
            infer_rows: None,
            partition_rows: 65_536,
        }
    }
}

impl CsvOptions {
    /// Sets whether the first line holds column names.
    pub fn with_header(mut self, has_header: bool) -> Self {
        self.has_header = has_header;
        self
    }
    /// Sets the field delimiter.
    pub fn with_delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }
    /// Sets the field values read as null.
    pub fn with_null_values(mut self, values: &[&str]) -> Self {
        self.null_values = values.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Reads with this schema instead of inferring one.
    pub fn with_schema(mut self, schema: SchemaRef) -> Self {
        self.schema = Some(schema);
        self
    }
    /// Infers the types from the first `rows` records only (`None`: all of them).
    pub fn with_infer_rows(mut self, rows: Option<usize>) -> Self {
        self.infer_rows = rows;
        self
    }
    /// Sets the number of rows per partition.
    pub fn with_partition_rows(mut self, rows: usize) -> Self {
        self.partition_rows = rows;
        self
    }

    fn format(&self) -> Result<Format> {
        let mut f = Format::default()
            .with_header(self.has_header)
            .with_delimiter(self.delimiter);
        if !self.null_values.is_empty() {
            let alts: Vec<String> = self.null_values.iter().map(|s| regex::escape(s)).collect();
            let re = regex::Regex::new(&format!("^(?:{})$", alts.join("|")))
                .map_err(|e| Error::Frame(format!("invalid null_values: {e}")))?;
            f = f.with_null_regex(re);
        }
        Ok(f)
    }
}

/// How to read a Parquet file; see [`DataFrame::read_parquet`].
#[derive(Clone, Debug, Default)]
pub struct ParquetOptions {
    /// Number of partitions wanted; `None` makes one partition per row group.
    pub partitions: Option<usize>,
}

impl ParquetOptions {
    /// Asks for `n` partitions (the row groups are re-cut into `n` near-equal partitions).
    pub fn with_partitions(mut self, n: usize) -> Self {
        self.partitions = Some(n);
        self
    }
}

fn open(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => {
                let cwd = std::env::current_dir()
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|_| "?".into());
                format!("no such file; check the path (relative paths start at {cwd})")
            }
            std::io::ErrorKind::PermissionDenied => {
                "permission denied; check the file's permissions".to_string()
            }
            _ => format!("cannot open: {e}"),
        };
        Error::file(path, reason)
    })?;
    match file.metadata() {
        Ok(m) if m.is_dir() => Err(Error::file(path, "is a directory, expected a file")),
        _ => Ok(file),
    }
}

/// The number after `key` in `msg`.
fn number_after(msg: &str, key: &str) -> Option<usize> {
    let rest = &msg[msg.find(key)? + key.len()..];
    rest.chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .ok()
}

/// Maps an arrow-csv error to [`Error::Csv`] with a 1-based file line number.
fn csv_error(path: &Path, err: ArrowError, has_header: bool) -> Error {
    let msg = match &err {
        ArrowError::CsvError(m) | ArrowError::ParseError(m) => m.clone(),
        _ => return Error::file(path, format!("cannot read CSV: {err}")),
    };
    let wrong_fields = |line: usize, expected: Option<usize>, got: Option<usize>| {
        let counts = match (expected, got) {
            (Some(e), Some(g)) => format!(" (expected {e}, found {g})"),
            _ => String::new(),
        };
        Error::Csv {
            path: path.to_path_buf(),
            line,
            reason: format!(
                "wrong number of fields{counts}; check the delimiter and the quoting of that line"
            ),
        }
    };
    // The three sources count lines differently; each is turned into a 1-based file line.
    if msg.starts_with("Encountered unequal lengths") {
        // From schema inference (the csv crate): already a 1-based file line.
        if let Some(l) = number_after(&msg, " at line ") {
            return wrong_fields(
                l,
                number_after(&msg, "Expected "),
                number_after(&msg, "found "),
            );
        }
    } else if msg.starts_with("incorrect number of fields") {
        // From the arrow reader: counts the header as a record, 1-based.
        if let Some(l) = number_after(&msg, "for line ") {
            return wrong_fields(
                l,
                number_after(&msg, "expected "),
                number_after(&msg, "got "),
            );
        }
    } else if let Some(l) = number_after(&msg, " at line ") {
        // A value that does not parse as the column's type: 1-based data record.
        let what = msg.split(" at line").next().unwrap_or(&msg);
        return Error::Csv {
            path: path.to_path_buf(),
            line: l + usize::from(has_header),
            reason: format!(
                "{what}; give an explicit schema or mark such values as null with null_values"
            ),
        };
    }
    Error::file(path, format!("cannot read CSV: {msg}"))
}

impl DataFrame {
    /// Reads a CSV file into partitions of `options.partition_rows` rows.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::{CsvOptions, DataFrame};
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// assert!(df.num_rows() > 0);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::File`] for a missing or unreadable file; [`Error::Csv`] with the line
    /// number for a record with the wrong number of fields or a value of the wrong type.
    pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<DataFrame> {
        let path = path.as_ref();
        let mut file = open(path)?;
        let format = options.format()?;
        let schema = match &options.schema {
            Some(s) => s.clone(),
            None => {
                let (schema, _) = format
                    .infer_schema(BufReader::new(&mut file), options.infer_rows)
                    .map_err(|e| csv_error(path, e, options.has_header))?;
                if schema.fields().is_empty() {
                    return Err(Error::file(
                        path,
                        "the file is empty; expected a header line",
                    ));
                }
                file.seek(SeekFrom::Start(0))
                    .map_err(|e| Error::file(path, format!("cannot re-read: {e}")))?;
                // Columns that hold only nulls infer as Null; read them as strings.
                let fields: Vec<_> = schema
                    .fields()
                    .iter()
                    .map(|f| match f.data_type() {
                        DataType::Null => {
                            Arc::new(f.as_ref().clone().with_data_type(DataType::Utf8))
                        }
                        _ => f.clone(),
                    })
                    .collect();
                Arc::new(arrow::datatypes::Schema::new(fields))
            }
        };
        let reader = ReaderBuilder::new(schema.clone())
            .with_format(format)
            .with_batch_size(options.partition_rows.max(1))
            .build(file)
            .map_err(|e| csv_error(path, e, options.has_header))?;
        let mut partitions = Vec::new();
        for batch in reader {
            partitions.push(batch.map_err(|e| csv_error(path, e, options.has_header))?);
        }
        DataFrame::try_new(schema, partitions)
    }

    /// Reads a Parquet file: one partition per row group (read in parallel), or
    /// `options.partitions` near-equal partitions.
    ///
    /// # Errors
    /// [`Error::File`] for a missing, unreadable or corrupt file.
    pub fn read_parquet(path: impl AsRef<Path>, options: &ParquetOptions) -> Result<DataFrame> {
        let path = path.as_ref();
        let file = open(path)?;
        let bad = |e: parquet::errors::ParquetError| {
            Error::file(path, format!("not a readable Parquet file: {e}"))
        };
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default()).map_err(bad)?;
        let schema = meta.schema().clone();
        let groups = meta.metadata().num_row_groups();
        let partitions = (0..groups)
            .into_par_iter()
            .map(|g| {
                let rows = meta.metadata().row_group(g).num_rows().max(1) as usize;
                // A fresh handle per task: cloned handles share one file offset, which
                // parallel seeks would race on.
                let f = open(path)?;
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(f, meta.clone())
                    .with_row_groups(vec![g])
                    .with_batch_size(rows)
                    .build()
                    .map_err(bad)?;
                let batches = reader
                    .collect::<std::result::Result<Vec<_>, _>>()
                    .map_err(|e| Error::file(path, format!("corrupt Parquet data: {e}")))?;
                Ok(match batches.len() {
                    1 => batches.into_iter().next().expect("one batch"),
                    _ => arrow::compute::concat_batches(&schema, &batches)?,
                })
            })
            .collect::<Vec<_>>();
        let partitions: Vec<RecordBatch> = crate::frame::in_order(partitions)?;
        let df = DataFrame::try_new(schema, partitions)?;
        match options.partitions {
            Some(n) => df.repartition(n),
            None => Ok(df),
        }
    }

    /// Writes all rows as one CSV file with a header line.
    ///
    /// # Errors
    /// [`Error::Frame`] if a column is a vector or another nested type (CSV holds only
    /// flat values: write Parquet, or split the vector into columns first).
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        for f in self.schema.fields() {
            if f.data_type().is_nested() {
                return Err(Error::Frame(format!(
                    "write_csv: column `{}` has nested type {}, which CSV cannot hold; write Parquet or drop the column",
                    f.name(),
                    f.data_type()
                )));
            }
        }
        let file =
            File::create(path).map_err(|e| Error::file(path, format!("cannot create: {e}")))?;
        let mut w = WriterBuilder::new().with_header(true).build(file);
        for p in &self.partitions {
            w.write(p)
                .map_err(|e| Error::file(path, format!("cannot write CSV: {e}")))?;
        }
        Ok(())
    }

    /// Writes all rows as one Parquet file, one row group per partition, compressed with
    /// snappy (Spark's default codec). [`write_parquet_with`](Self::write_parquet_with)
    /// takes another codec.
    pub fn write_parquet(&self, path: impl AsRef<Path>) -> Result<()> {
        self.write_parquet_with(path, Compression::SNAPPY)
    }

    /// Writes all rows as one Parquet file with the given codec, one row group per
    /// partition. Every codec Spark and polars write is built in: snappy, zstd, gzip, lz4
    /// (LZ4_RAW, and the older Hadoop-framed LZ4 on read), brotli, or none; the reader
    /// ([`read_parquet`](Self::read_parquet)) takes them all.
    ///
    /// # Examples
    /// ```
    /// use mlpipe::parquet::basic::{Compression, ZstdLevel};
    /// use mlpipe::prelude::*;
    ///
    /// # fn main() -> mlpipe::Result<()> {
    /// let df = DataFrame::read_csv(
    ///     concat!(env!("CARGO_MANIFEST_DIR"), "/data/quickstart.csv"),
    ///     &CsvOptions::default(),
    /// )?;
    /// let path = std::env::temp_dir().join("mlpipe_doc_zstd.parquet");
    /// df.write_parquet_with(&path, Compression::ZSTD(ZstdLevel::default()))?;
    /// let back = DataFrame::read_parquet(&path, &ParquetOptions::default())?;
    /// assert_eq!(back.num_rows(), df.num_rows());
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_parquet_with(
        &self,
        path: impl AsRef<Path>,
        compression: Compression,
    ) -> Result<()> {
        let path = path.as_ref();
        let file =
            File::create(path).map_err(|e| Error::file(path, format!("cannot create: {e}")))?;
        let props = WriterProperties::builder()
            .set_compression(compression)
            .set_max_row_group_row_count(None)
            .build();
        let werr = |e: parquet::errors::ParquetError| {
            Error::file(path, format!("cannot write Parquet: {e}"))
        };
        let mut w = ArrowWriter::try_new(file, self.schema.clone(), Some(props)).map_err(werr)?;
        for p in &self.partitions {
            if p.num_rows() == 0 {
                continue;
            }
            w.write(p).map_err(werr)?;
            w.flush().map_err(werr)?;
        }
        w.close().map_err(werr)?;
        Ok(())
    }
}
