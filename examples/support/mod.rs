//! What the benchmark examples share: the benchmark data set, loaded and split the same
//! way everywhere, the memory-read baseline every figure is quoted beside, medians, and
//! the process's memory. Included with `#[path]`/`mod support;` (not an example itself).
#![allow(dead_code)] // each benchmark uses its own part

pub mod report;

use std::time::Instant;

use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use rayon::prelude::*;

/// The benchmark file every speed figure uses, made by the shared `gen_data.py`:
/// `python3 gen_data.py --rows 1000000 --features 20 --seed 2 --out bench_data/churn_1m.parquet`.
pub const DEFAULT_PATH: &str = "bench_data/churn_1m.parquet";

/// The median of `v` (sorted in place).
pub fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Area under the ROC curve of `scores` for 0/1 `labels`, exact (tied scores count half,
/// as scikit-learn's `roc_auc_score`).
pub fn auc(scores: &[f64], labels: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut i) = (0.0, 0);
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if labels[k] == 1.0 {
                rank_sum += avg;
            }
        }
        i = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y == 1.0).count() as f64;
    let neg = labels.len() as f64 - pos;
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// A numeric column as `f64`s, in row order.
pub fn f64_column(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    let c = df.column(name)?;
    let mut out = Vec::with_capacity(df.num_rows());
    for a in &c.chunks {
        let a = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64)?;
        out.extend_from_slice(
            arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(&a).values(),
        );
    }
    Ok(out)
}

/// The benchmark data's training split: its 20 numeric features assembled into `features`
/// (rows with a null dropped), with `churn`, split 80/20 with seed 42.
pub struct BenchData {
    /// The file read.
    pub path: String,
    /// Seconds the Parquet read took.
    pub read_s: f64,
    /// The feature columns' names.
    pub features: Vec<String>,
    /// The 80% training split: `features` and `churn`.
    pub train: DataFrame,
    /// The same rows as `train`, as the scalar feature columns.
    pub train_columns: DataFrame,
    /// The 20% test split.
    pub test: DataFrame,
    /// The split's rows as scalar columns (`customer_id`, the features, `churn`): what
    /// [`write_split`](Self::write_split) writes, index 0 training, 1 test.
    pub split_tables: [DataFrame; 2],
}

impl BenchData {
    /// Reads `path` (or [`DEFAULT_PATH`]), assembles and splits it; says how to make the
    /// file when it is missing.
    pub fn load(path: Option<&str>) -> Result<BenchData> {
        let path = path.unwrap_or(DEFAULT_PATH).to_string();
        if !std::path::Path::new(&path).exists() {
            return Err(Error::Usage(format!(
                "{path} is missing; make it with `python3 gen_data.py --rows 1000000 --features 20 --seed 2 --out {path}` (needs numpy and pyarrow)"
            )));
        }
        let t = Instant::now();
        let df = DataFrame::read_parquet(&path, &ParquetOptions::default())?;
        let read_s = t.elapsed().as_secs_f64();
        let features: Vec<String> = df
            .columns()
            .into_iter()
            .filter(|n| !["customer_id", "contract", "churn"].contains(n))
            .map(str::to_string)
            .collect();
        let assembled = VectorAssembler::new()
            .with_input_cols(&features)
            .with_output_col("features")
            .with_handle_invalid(HandleInvalid::Skip)
            .transform(&df)?;
        let [train_all, test] = assembled.random_split([0.8, 0.2], 42)?;
        let train = train_all.select(["features", "churn"])?;
        let train_columns = train_all.select(&features)?;
        let table_cols: Vec<&str> = std::iter::once("customer_id")
            .chain(features.iter().map(String::as_str))
            .chain(std::iter::once("churn"))
            .collect();
        let split_tables = [train_all.select(&table_cols)?, test.select(&table_cols)?];
        let test = test.select(["features", "churn"])?;
        Ok(BenchData {
            path,
            read_s,
            features,
            train,
            train_columns,
            test,
            split_tables,
        })
    }

    /// The paths of the split's files beside the data file: `<stem>_train.parquet` and
    /// `<stem>_test.parquet`.
    pub fn split_paths(&self) -> [std::path::PathBuf; 2] {
        let p = std::path::Path::new(&self.path);
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("data");
        let dir = p.parent().unwrap_or(std::path::Path::new("."));
        ["train", "test"].map(|k| dir.join(format!("{stem}_{k}.parquet")))
    }

    /// Writes this split (`customer_id`, the feature columns, `churn`; the training rows
    /// in their partition order) to [`split_paths`](Self::split_paths) unless those files
    /// are newer than the data file, so that the other libraries' scripts (`bench/anchors/`) score the same test
    /// rows and train on the same rows. Each file is written to a temporary name and renamed,
    /// so a concurrent reader never sees half a file. Returns the paths.
    pub fn write_split(&self) -> Result<[std::path::PathBuf; 2]> {
        let paths = self.split_paths();
        let modified = |p: &std::path::Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        let data_time = modified(std::path::Path::new(&self.path));
        for (table, path) in self.split_tables.iter().zip(&paths) {
            // Kept when written after the data file (a regenerated data file gets a new split).
            if matches!((modified(path), data_time), (Some(s), Some(d)) if s >= d) {
                continue;
            }
            let tmp = path.with_extension(format!("parquet.tmp{}", std::process::id()));
            table.write_parquet(&tmp)?;
            std::fs::rename(&tmp, path).map_err(|e| Error::File {
                path: path.clone(),
                reason: format!("cannot rename {} to it: {e}", tmp.display()),
            })?;
        }
        Ok(paths)
    }

    /// Rows of the training split.
    pub fn rows(&self) -> usize {
        self.train.num_rows()
    }

    /// Bytes of the training split's feature values.
    pub fn feature_bytes(&self) -> f64 {
        (self.rows() * self.features.len() * 8) as f64
    }

    /// One line describing the data, for the report's head.
    pub fn describe(&self) -> String {
        format!(
            "data: {}, read in {:.3} s; train {} rows x {} features in {} partitions ({:.0} MB of features); {} threads",
            self.path,
            self.read_s,
            self.rows(),
            self.features.len(),
            self.train.num_partitions(),
            self.feature_bytes() / 1e6,
            rayon::current_num_threads()
        )
    }

    /// The floor for any pass over the features: the median time of one parallel read of
    /// every feature byte of the training split (15 runs), in seconds.
    pub fn memory_read(&self) -> Result<f64> {
        memory_read(&self.train)
    }
}

/// The median time of one parallel read of every byte of `df`'s `features` column (15
/// runs), in seconds: the floor for any pass over those features.
pub fn memory_read(df: &DataFrame) -> Result<f64> {
    let col = df.column("features")?;
    let n = mlpipe::frame::vector::field_vector_size(&col.field).unwrap_or(0);
    let mut times = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        // The values' bits summed as wrapping integers: the adds vectorise and carry no
        // dependency chain, so this is bound by memory, not by f64 add latency (a serial
        // f64 sum runs at about one add per 4 cycles and made this floor look ~2x slower).
        let s: u64 = col
            .chunks
            .par_iter()
            .enumerate()
            .map(|(p, c)| {
                let v = dense_slice(c.as_ref(), n, p);
                v.par_chunks(1 << 16)
                    .map(|b| b.iter().fold(0u64, |a, x| a.wrapping_add(x.to_bits())))
                    .reduce(|| 0, u64::wrapping_add)
            })
            .reduce(|| 0, u64::wrapping_add);
        std::hint::black_box(s);
        times.push(t.elapsed().as_secs_f64());
    }
    Ok(median(&mut times))
}

/// The row-major values of a vector column chunk whose rows are all dense (a dense column,
/// or the assembler's all-dense rows); panics otherwise (benchmark data only).
pub fn dense_slice(c: &dyn arrow::array::Array, n: usize, partition: usize) -> &[f64] {
    let at = mlpipe::frame::vector::At {
        stage: "bench",
        column: "features",
        partition,
    };
    mlpipe::frame::vector::VectorBlock::new(c, n, at)
        .expect("a vector column")
        .as_dense()
        .expect("rows all dense")
}

/// Peak resident memory (VmHWM) and current (VmRSS), in bytes, from /proc.
pub fn mem() -> (u64, u64) {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.starts_with(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
            * 1024
    };
    (get("VmHWM:"), get("VmRSS:"))
}

/// Resets the peak resident memory so that [`mem`] measures from now.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Runs `examples/<script>` (a scikit-learn timing script taking `PATH REPEATS`) with the
/// Python named by `MLPIPE_SKLEARN_PYTHON` and prints its output, so that its figures come
/// from the same run; says how to enable it when the variable is unset.
pub fn run_sklearn(script: &str, path: &str, repeats: usize) -> Result<()> {
    let Ok(py) = std::env::var("MLPIPE_SKLEARN_PYTHON") else {
        println!("(set MLPIPE_SKLEARN_PYTHON to time scikit-learn in the same run)");
        return Ok(());
    };
    let script = format!("{}/examples/{script}", env!("CARGO_MANIFEST_DIR"));
    let out = std::process::Command::new(py)
        .args([&script, path, &repeats.to_string()])
        .output()
        .map_err(|e| Error::Usage(format!("cannot run scikit-learn: {e}")))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// A sum over every byte of one column chunk's buffers (values, offsets, indices, validity;
/// children included), read as 64-bit words: what [`memory_read_cols`] reads.
fn read_chunk(d: &arrow::array::ArrayData) -> u64 {
    let own: u64 = d
        .buffers()
        .iter()
        .chain(d.nulls().map(|n| n.buffer()))
        .map(|b| {
            // SAFETY: any bytes are valid u64 words; the unaligned ends are summed bytewise.
            let (pre, words, post) = unsafe { b.as_slice().align_to::<u64>() };
            let ends: u64 = pre.iter().chain(post).map(|&x| x as u64).sum();
            ends + words
                .par_chunks(1 << 13)
                .map(|c| c.iter().fold(0u64, |a, &x| a.wrapping_add(x)))
                .reduce(|| 0, u64::wrapping_add)
        })
        .fold(0u64, u64::wrapping_add);
    d.child_data()
        .iter()
        .map(read_chunk)
        .fold(own, u64::wrapping_add)
}

/// Bytes [`evict_caches`] writes: twice the last-level cache of the machines the benches
/// run on (32 MB L3), so that none of what was read before stays cached.
const EVICT_BYTES: usize = 64 << 20;

/// Pushes every earlier read out of the CPU caches by reading a 64 MB buffer (allocated
/// and written once, then only read): a read timed right after comes from memory, not from
/// L3. Without it, columns of a few MB (3 int32 columns of 1M rows: 12 MB) read 15 times in
/// a row stay in the 32 MB L3, and their "memory read" measured L3 bandwidth (~0.1 ms for
/// 12 MB, ~120 GB/s), a floor no stage that reads the same bytes from memory can approach.
/// The buffer is read, not written: written lines would sit dirty in L3, and the timed run
/// after would pay for writing them back, which would add the same cost to the floor and to
/// the stage and flatter every ratio.
pub fn evict_caches() {
    use std::sync::OnceLock;
    static BUF: OnceLock<Vec<u64>> = OnceLock::new();
    let b = BUF.get_or_init(|| (0..EVICT_BYTES as u64 / 8).collect());
    let s: u64 = b
        .par_chunks(1 << 16)
        .map(|c| c.iter().fold(0u64, |a, x| a.wrapping_add(*x)))
        .reduce(|| 0, u64::wrapping_add);
    std::hint::black_box(s);
}

/// The columns a stage reads, held ready to be read from memory again and again: every
/// buffer of those columns (dense or sparse vectors, strings, validity bitmaps).
pub struct ColumnsRead {
    columns: Vec<Vec<arrow::array::ArrayData>>,
}

impl ColumnsRead {
    /// The columns `cols` of `df`.
    pub fn new(df: &DataFrame, cols: &[&str]) -> Result<ColumnsRead> {
        let columns = cols
            .iter()
            .map(|c| {
                let col = df.column(c)?;
                Ok(col.chunks.iter().map(|a| a.to_data()).collect::<Vec<_>>())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ColumnsRead { columns })
    }

    /// The time of one parallel read of every byte of the columns from memory (the caches
    /// are evicted first, untimed), in seconds.
    pub fn cold(&self) -> f64 {
        evict_caches();
        let t = Instant::now();
        let s: u64 = self
            .columns
            .par_iter()
            .flat_map(|chunks| chunks.par_iter().map(read_chunk))
            .reduce(|| 0, u64::wrapping_add);
        std::hint::black_box(s);
        t.elapsed().as_secs_f64()
    }
}

/// The median time of one parallel read of every byte of the columns `cols` of `df` (15
/// runs, each from memory: the caches are evicted before each), in seconds: the floor for
/// a pass over exactly what a stage reads (every buffer of those columns, dense or sparse
/// vectors, strings, validity bitmaps).
pub fn memory_read_cols(df: &DataFrame, cols: &[&str]) -> Result<f64> {
    let read = ColumnsRead::new(df, cols)?;
    let mut times: Vec<f64> = (0..15).map(|_| read.cold()).collect();
    Ok(median(&mut times))
}
