//! Benchmark report for the text stages (issue #16's speed target): Tokenizer + HashingTF
//! (2^18 features) + IDF (fit and transform) on 1M short documents, against scikit-learn's
//! HashingVectorizer + TfidfTransformer on the same documents, measured in the same run.
//!
//! The documents (5 to 15 words drawn from a Zipf-like 20,000-word vocabulary, some words
//! capitalised) are generated here with a seeded ChaCha8 stream and written to
//! `target/text_bench/docs_1m.parquet`, which `examples/text_bench_sklearn.py` reads.
//!
//! Run: `cargo run --release --example text_bench [-- ROWS]`; the Python with scikit-learn
//! and pyarrow is `$MLPIPE_PYTHON` (default `/work/venv/bin/python`, then `python3`).

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
use mlpipe::feature::{HashingTF, Tokenizer, IDF};
use mlpipe::frame::vector::{field_vector_size, At, VectorBlock};
use mlpipe::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// A pronounceable word for vocabulary index `i`.
fn word(mut i: usize) -> String {
    const ON: [&str; 12] = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t"];
    const NU: [&str; 6] = ["a", "e", "i", "o", "u", "ou"];
    let mut w = String::new();
    loop {
        w.push_str(ON[i % ON.len()]);
        i /= ON.len();
        w.push_str(NU[i % NU.len()]);
        i /= NU.len();
        if i == 0 {
            return w;
        }
    }
}

fn documents(rows: usize, parts: usize) -> Result<DataFrame> {
    let vocab: Vec<String> = (0..20_000).map(word).collect();
    // Zipf-like: index = floor(V^u) - 1 for uniform u.
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let mut batches = Vec::new();
    for p in 0..parts {
        let n = rows / parts + usize::from(p < rows % parts);
        let docs: Vec<String> = (0..n)
            .map(|_| {
                let len = rng.random_range(5..=15);
                let mut d = String::new();
                for k in 0..len {
                    if k > 0 {
                        d.push(' ');
                    }
                    let u: f64 = rng.random();
                    let idx = (20_000f64.powf(u) as usize).saturating_sub(1).min(19_999);
                    if rng.random_range(0..10) == 0 {
                        let w = &vocab[idx];
                        d.push_str(&w[..1].to_uppercase());
                        d.push_str(&w[1..]);
                    } else {
                        d.push_str(&vocab[idx]);
                    }
                }
                d
            })
            .collect();
        let text: ArrayRef = Arc::new(StringArray::from(docs));
        batches.push(RecordBatch::try_from_iter([("text", text)])?);
    }
    DataFrame::from_batches(batches)
}

/// Tokenize, hash, fit IDF, transform; returns the stored values of the output (a check
/// that the work was done).
fn pipeline(df: &DataFrame) -> Result<usize> {
    let words = Tokenizer::new()
        .with_input_col("text")
        .with_output_col("words")
        .transform(df)?;
    let tf = HashingTF::new()
        .with_input_col("words")
        .with_output_col("tf")
        .transform(&words)?;
    let tfidf = IDF::new()
        .with_input_col("tf")
        .with_output_col("tfidf")
        .fit(&tf)?
        .transform(&tf)?;
    let c = tfidf.column("tfidf")?;
    let n = field_vector_size(&c.field).unwrap_or(0);
    let mut nnz = 0;
    for (p, chunk) in c.chunks.iter().enumerate() {
        let at = At {
            stage: "text_bench",
            column: "tfidf",
            partition: p,
        };
        nnz += VectorBlock::new(chunk.as_ref(), n, at)?.num_active();
    }
    Ok(nnz)
}

fn time(reps: usize, df: &DataFrame) -> Result<(f64, usize)> {
    let mut times = Vec::new();
    let mut nnz = 0;
    for _ in 0..reps {
        let t = Instant::now();
        nnz = pipeline(df)?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok((median(times), nnz))
}

fn main() -> Result<()> {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let threads = rayon::current_num_threads();
    let parts = 16;
    let t = Instant::now();
    let df = documents(rows, parts)?;
    println!(
        "{rows} documents in {parts} partitions generated in {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let dir = std::path::Path::new("target/text_bench");
    std::fs::create_dir_all(dir).map_err(|e| Error::File {
        path: dir.into(),
        reason: e.to_string(),
    })?;
    let path = dir.join(format!("docs_{rows}.parquet"));
    df.write_parquet(&path)?;

    let reps = 5;
    let (all, nnz) = time(reps, &df)?;
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (single, _) = one.install(|| time(reps, &df))?;
    println!(
        "mlpipe Tokenizer + HashingTF(2^18) + IDF fit + transform: median of {reps}: {:.3} s on {threads} threads, {:.3} s on 1 thread ({nnz} stored values)",
        all, single
    );

    let python = std::env::var("MLPIPE_PYTHON").unwrap_or_else(|_| {
        if std::path::Path::new("/work/venv/bin/python").exists() {
            "/work/venv/bin/python".into()
        } else {
            "python3".into()
        }
    });
    let out = Command::new(&python)
        .arg("examples/text_bench_sklearn.py")
        .arg(&path)
        .arg(reps.to_string())
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            print!("{text}");
            let sk: Option<f64> = text
                .lines()
                .find_map(|l| l.strip_prefix("SECONDS "))
                .and_then(|s| s.trim().parse().ok());
            if let Some(sk) = sk {
                println!(
                    "speed-up: {:.1}x ({threads} threads), {:.1}x (1 thread) over scikit-learn (1 thread)",
                    sk / all,
                    sk / single
                );
            }
        }
        Ok(o) => println!(
            "scikit-learn baseline failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("scikit-learn baseline not run ({python}: {e}); set MLPIPE_PYTHON"),
    }
    Ok(())
}
