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

/// How a file read by [`DataFrame::read_csv`] or [`DataFrame::read_parquet`] is cut into
/// partitions.
///
/// Spark's random operations (`randomSplit`, `sample`, `rand`, cross-validation folds) draw
/// per partition, so a port gives Spark's rows only with Spark's partitions:
/// [`Partitioning::Spark`] (the default) cuts the file as Spark's file source does.
///
/// # Examples
/// ```
/// use mlpipe::{CsvOptions, frame::Partitioning};
/// // Match a PySpark run on `local[4]`, whatever this machine's core count.
/// let opts = CsvOptions::default().with_partitioning(Partitioning::Spark { default_parallelism: 4 });
/// // A file under 4 MiB is always one partition in Spark.
/// assert_eq!(Partitioning::Spark { default_parallelism: 4 }.spark_max_split_bytes(970_457), 4 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Partitioning {
    /// Spark's split of one file: `maxSplitBytes = min(128 MiB, max(4 MiB, (fileLen + 4 MiB) /
    /// default_parallelism))`, pieces at offsets `0, M, 2M, ...`, one partition per piece.
    /// A CSV piece holds the lines that start after its start offset and at or before its end
    /// (Hadoop's line-reader rule); a Parquet piece holds the row groups whose midpoint lies in
    /// it. `default_parallelism` is Spark's `sc.defaultParallelism` (`local[N]` gives N).
    Spark {
        /// Spark's default parallelism (the `N` of `local[N]`).
        default_parallelism: usize,
    },
    /// mlpipe's own cut: CSV in chunks of `CsvOptions::partition_rows` rows; Parquet one
    /// partition per row group (or `ParquetOptions::partitions` near-equal partitions).
    Chunks,
}

impl Default for Partitioning {
    /// [`Partitioning::Spark`] with the machine's core count, as Spark's `local[*]`.
    fn default() -> Self {
        Partitioning::Spark {
            default_parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Spark's `spark.sql.files.maxPartitionBytes` default.
const MAX_PARTITION_BYTES: u64 = 128 << 20;
/// Spark's `spark.sql.files.openCostInBytes` default.
const OPEN_COST_BYTES: u64 = 4 << 20;

impl Partitioning {
    /// Spark's `maxSplitBytes` for one file of `file_len` bytes (the whole file for
    /// [`Partitioning::Chunks`]).
    pub fn spark_max_split_bytes(&self, file_len: u64) -> u64 {
        match *self {
            Partitioning::Spark {
                default_parallelism,
            } => {
                let per_core = (file_len + OPEN_COST_BYTES) / default_parallelism.max(1) as u64;
                MAX_PARTITION_BYTES.min(OPEN_COST_BYTES.max(per_core))
            }
            Partitioning::Chunks => file_len.max(1),
        }
    }
}

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
    /// Rows per partition with [`Partitioning::Chunks`]. Default 65,536.
    pub partition_rows: usize,
    /// How the file is cut into partitions. Default: Spark's cut
    /// ([`Partitioning::Spark`] with the machine's core count).
    pub partitioning: Partitioning,
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
            partitioning: Partitioning::default(),
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
    /// Cuts the file into partitions of `rows` rows ([`Partitioning::Chunks`]).
    pub fn with_partition_rows(mut self, rows: usize) -> Self {
        self.partition_rows = rows;
        self.partitioning = Partitioning::Chunks;
        self
    }
    /// Sets how the file is cut into partitions.
    pub fn with_partitioning(mut self, partitioning: Partitioning) -> Self {
        self.partitioning = partitioning;
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
    /// With [`Partitioning::Chunks`]: the number of partitions wanted; `None` makes one
    /// partition per row group.
    pub partitions: Option<usize>,
    /// How the file is cut into partitions. Default: Spark's cut
    /// ([`Partitioning::Spark`] with the machine's core count).
    pub partitioning: Partitioning,
}

impl ParquetOptions {
    /// Asks for `n` near-equal partitions ([`Partitioning::Chunks`], the row groups re-cut).
    pub fn with_partitions(mut self, n: usize) -> Self {
        self.partitions = Some(n);
        self.partitioning = Partitioning::Chunks;
        self
    }
    /// Sets how the file is cut into partitions.
    pub fn with_partitioning(mut self, partitioning: Partitioning) -> Self {
        self.partitioning = partitioning;
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

/// The number of data rows in each of Spark's pieces of a CSV file (pieces of `m` bytes):
/// a line starting at byte `s > 0` belongs to piece `(s - 1) / m` (a piece reads the lines
/// starting after its start and at or before its end); blank lines and the header give no row.
fn csv_rows_per_piece(bytes: &[u8], m: u64, has_header: bool) -> Vec<usize> {
    let pieces = (bytes.len() as u64).div_ceil(m).max(1) as usize;
    let mut counts = vec![0usize; pieces];
    let mut start = 0usize;
    let mut first = true;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| start + i);
        let line = &bytes[start..end];
        let blank = line.iter().all(|&b| b == b'\r');
        if !(blank || (first && has_header)) {
            let piece = if start == 0 {
                0
            } else {
                (start as u64 - 1) / m
            };
            counts[(piece as usize).min(pieces - 1)] += 1;
        }
        first = false;
        start = end + 1;
    }
    counts
}

/// Sparse vector columns (Spark's `VectorUDT` structs) of a file Spark wrote carry their
/// ML attributes only in Spark's schema JSON (the `org.apache.spark.sql.parquet.row.metadata`
/// footer key): each such column gets its `ml_attr` from there, or else its vector size
/// read from the data, so that stages know its size from the schema.
fn with_spark_vector_sizes(
    df: DataFrame,
    file: &parquet::file::metadata::FileMetaData,
) -> Result<DataFrame> {
    use super::vector;
    let udt: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .filter(|f| vector::is_sparse_vector_type(f.data_type()))
        .filter(|f| vector::field_vector_size(f).is_none())
        .map(|f| f.name().clone())
        .collect();
    if udt.is_empty() {
        return Ok(df);
    }
    let spark: Option<serde_json::Value> = file
        .key_value_metadata()
        .and_then(|kv| {
            kv.iter()
                .find(|k| k.key == "org.apache.spark.sql.parquet.row.metadata")
        })
        .and_then(|k| k.value.as_deref())
        .and_then(|v| serde_json::from_str(v).ok());
    let mut df = df;
    for name in udt {
        let attr = spark.as_ref().and_then(|s| {
            s.get("fields")?
                .as_array()?
                .iter()
                .find(|f| f.get("name").and_then(|n| n.as_str()) == Some(name.as_str()))?
                .get("metadata")?
                .get(vector::ML_ATTR)
                .cloned()
        });
        if let Some(attr) = attr.filter(|a| a.get("num_attrs").is_some()) {
            let (i, f) = super::schema::require_column(df.schema(), "read_parquet", &name)?;
            let mut f = f.clone();
            f.metadata_mut()
                .insert(vector::ML_ATTR.to_string(), attr.to_string());
            let chunks = df
                .partitions()
                .iter()
                .map(|p| p.column(i).clone())
                .collect();
            df = df.with_column(f, chunks)?;
        } else {
            // A column of only nulls has no size to read: left as it is.
            df = match df.with_vector_size(&name) {
                Err(Error::EmptyInput { .. }) => df,
                other => other?,
            };
        }
    }
    Ok(df)
}

impl DataFrame {
    /// Re-cuts the rows, in order, into partitions of `counts` rows (zero-copy slices where a
    /// partition lies inside one batch).
    fn cut(&self, path: &Path, counts: &[usize]) -> Result<DataFrame> {
        let total: usize = counts.iter().sum();
        if total != self.num_rows() {
            return Err(Error::file(
                path,
                format!(
                    "Spark's partitioning found {total} rows by lines but the reader read {}; a quoted field spans lines (Spark reads such files only with multiLine, as one partition): read with Partitioning::Chunks",
                    self.num_rows()
                ),
            ));
        }
        let all = if self.partitions.len() == 1 {
            self.partitions[0].clone()
        } else {
            self.collect()?
        };
        let mut at = 0;
        let parts = counts
            .iter()
            .map(|&n| {
                let b = all.slice(at, n);
                at += n;
                b
            })
            .collect();
        Ok(self.with_partitions(parts))
    }

    /// Reads a CSV file, cut into partitions as `options.partitioning` says (by default as
    /// Spark's file source cuts it).
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
        let df = DataFrame::try_new(schema, partitions)?;
        match options.partitioning {
            Partitioning::Chunks => Ok(df),
            spark => {
                let bytes = std::fs::read(path)
                    .map_err(|e| Error::file(path, format!("cannot re-read: {e}")))?;
                let m = spark.spark_max_split_bytes(bytes.len() as u64);
                let counts = csv_rows_per_piece(&bytes, m, options.has_header);
                df.cut(path, &counts)
            }
        }
    }

    /// Reads a Parquet file (row groups read in parallel), cut into partitions as
    /// `options.partitioning` says: by default as Spark's file source cuts it (whole row
    /// groups per piece); with [`Partitioning::Chunks`] one partition per row group, or
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
        let df = with_spark_vector_sizes(df, meta.metadata().file_metadata())?;
        match (options.partitioning, options.partitions) {
            (Partitioning::Chunks, Some(n)) => df.repartition(n),
            (Partitioning::Chunks, None) => Ok(df),
            (spark, _) => {
                let len = std::fs::metadata(path)
                    .map_err(|e| Error::file(path, format!("cannot stat: {e}")))?
                    .len();
                let m = spark.spark_max_split_bytes(len);
                let pieces = len.div_ceil(m).max(1) as usize;
                let mut counts = vec![0usize; pieces];
                let md = meta.metadata();
                for g in 0..groups {
                    let rg = md.row_group(g);
                    let first = rg.column(0);
                    let start = first
                        .dictionary_page_offset()
                        .unwrap_or_else(|| first.data_page_offset())
                        as u64;
                    let mid = start + rg.compressed_size() as u64 / 2;
                    counts[((mid / m) as usize).min(pieces - 1)] += rg.num_rows() as usize;
                }
                df.cut(path, &counts)
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_max_split_bytes_follows_sparks_rule() {
        let p4 = Partitioning::Spark {
            default_parallelism: 4,
        };
        // min(128 MiB, max(4 MiB, (len + 4 MiB) / 4)), by hand.
        assert_eq!(p4.spark_max_split_bytes(3 << 20), 4 << 20);
        assert_eq!(p4.spark_max_split_bytes(30 << 20), (34 << 20) / 4);
        assert_eq!(p4.spark_max_split_bytes(1 << 40), 128 << 20);
    }

    #[test]
    fn csv_lines_go_to_the_piece_hadoop_gives_them() {
        // Lines start at 0 (header), 4, 8, 12 and 16 (blank), 17; pieces of 8 bytes:
        // [0, 8), [8, 16), [16, 24). A line starting exactly at 8 belongs to piece 0 (the
        // previous piece reads it), 12 to piece 1, 16 (blank: no row) and 17 to piece 2.
        let text = b"h,h\na,1\nb,2\nc,3\n\nd,4\n";
        assert_eq!(csv_rows_per_piece(text, 8, true), [2, 1, 1]);
        assert_eq!(csv_rows_per_piece(text, 8, false), [3, 1, 1]);
        assert_eq!(csv_rows_per_piece(text, 1 << 20, true), [4]);
    }
}
