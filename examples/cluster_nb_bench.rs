//! Benchmark report for KMeans and Gaussian NaiveBayes training (issue #14's speed targets).
//!
//! Data: `python3 ../shared/bench/gen_data.py --rows 1000000 --features 20 --seed 2
//! --out bench_data/churn_1m.parquet`. The 20 numeric features are assembled (rows with a
//! null dropped) and split 80/20 with seed 42; KMeans (k 8, maxIter 20, tol 0, so all 20
//! Lloyd iterations run, k-means|| init) and NaiveBayes (gaussian, label `churn`) are fitted
//! on the ~800k training rows already in memory, several times. The report gives median fit
//! times and, for KMeans, the time per Lloyd pass, as ratios to one parallel read of the
//! feature bytes measured here.
//!
//! With `MLPIPE_SKLEARN_PYTHON` set to a Python with scikit-learn and pyarrow, the same run
//! then times scikit-learn's KMeans and GaussianNB on the same file
//! (`examples/sklearn_cluster_nb.py`), for comparison on the same machine.
//!
//! Run: `cargo run --release --example cluster_nb_bench [-- PATH [REPEATS]]`.

use std::time::Instant;

use arrow::array::AsArray;
use mlpipe::classification::NaiveBayes;
use mlpipe::clustering::KMeans;
use mlpipe::feature::VectorAssembler;
use mlpipe::prelude::*;
use rayon::prelude::*;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() -> mlpipe::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "bench_data/churn_1m.parquet".into());
    let repeats: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let df = DataFrame::read_parquet(&path, &ParquetOptions::default())?;
    let features: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !["customer_id", "contract", "churn"].contains(&n.as_str()))
        .collect();
    let refs: Vec<&str> = features.iter().map(|s| s.as_str()).collect();
    let assembled = VectorAssembler::new()
        .with_input_cols(&refs)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&df)?
        .select(["features", "churn"])?;
    let split = assembled.random_split(&[0.8, 0.2], 42)?;
    let train = &split[0];
    let (rows, n) = (train.num_rows(), features.len());
    let bytes = (rows * n * 8) as f64;
    println!(
        "train {rows} rows x {n} features in {} partitions ({:.0} MB of features); {} threads",
        train.num_partitions(),
        bytes / 1e6,
        rayon::current_num_threads()
    );

    // One parallel read of every feature byte: the floor for a pass.
    let col = train.column("features")?;
    let mut read_times = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        let s: f64 = col
            .chunks
            .par_iter()
            .map(|c| {
                let v = mlpipe::frame::vector::dense_values(c.as_fixed_size_list()).unwrap();
                v.par_chunks(1 << 16)
                    .map(|b| b.iter().sum::<f64>())
                    .sum::<f64>()
            })
            .sum();
        std::hint::black_box(s);
        read_times.push(t.elapsed().as_secs_f64());
    }
    let read_pass = median(&mut read_times);
    println!(
        "memory read of the features: {:.2} ms median ({:.1} GB/s)",
        read_pass * 1e3,
        bytes / read_pass / 1e9
    );

    let km = KMeans::new()
        .with_k(8)
        .with_max_iter(20)
        .with_tol(0.0)
        .with_seed(1);
    let mut times = Vec::new();
    let mut iters = 0;
    for _ in 0..repeats {
        let t = Instant::now();
        let m = km.fit(train)?;
        times.push(t.elapsed().as_secs_f64());
        iters = m.summary().map_or(0, |s| s.num_iter);
    }
    let fit = median(&mut times);
    // The k-means|| initialisation alone (maxIter 0 still runs the init and the summary
    // pass), to isolate the time per Lloyd pass.
    let mut init_times = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        km.clone().with_max_iter(0).fit(train)?;
        init_times.push(t.elapsed().as_secs_f64());
    }
    let init = median(&mut init_times);
    let per_pass = (fit - init) / iters.max(1) as f64;
    println!(
        "KMeans k=8 fit: {:.1} ms median of {repeats} ({iters} Lloyd iterations; init + summary {:.1} ms); per Lloyd pass {:.2} ms = {:.2}x one memory read",
        fit * 1e3,
        init * 1e3,
        per_pass * 1e3,
        per_pass / read_pass
    );

    let nb = NaiveBayes::new()
        .with_model_type("gaussian")
        .with_label_col("churn");
    let mut times = Vec::new();
    for _ in 0..repeats {
        let t = Instant::now();
        std::hint::black_box(nb.fit(train)?);
        times.push(t.elapsed().as_secs_f64());
    }
    let fit = median(&mut times);
    println!(
        "NaiveBayes gaussian fit: {:.1} ms median of {repeats} = {:.2}x one memory read (one pass)",
        fit * 1e3,
        fit / read_pass
    );

    if let Ok(py) = std::env::var("MLPIPE_SKLEARN_PYTHON") {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/sklearn_cluster_nb.py"
        );
        let out = std::process::Command::new(py)
            .args([script, &path, &repeats.to_string()])
            .output()
            .map_err(|e| mlpipe::Error::Usage(format!("cannot run scikit-learn: {e}")))?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    } else {
        println!("(set MLPIPE_SKLEARN_PYTHON to time scikit-learn in the same run)");
    }
    Ok(())
}
