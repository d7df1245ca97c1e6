//! The per-stage report both stage benchmarks print: each stage's median time beside one
//! memory read of exactly the columns it reads (measured in the same run), their ratio,
//! and scikit-learn's (or numpy's / scipy's) counterpart when the same run timed one.
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Instant;

use mlpipe::prelude::*;

use super::{evict_caches, median, memory_read_cols};

/// A transform (read + write of a same-sized output) is "close to memory speed" within this
/// many memory reads of its input; a fit (read only) within [`FIT_TARGET`].
pub const TRANSFORM_TARGET: f64 = 3.0;
/// See [`TRANSFORM_TARGET`].
pub const FIT_TARGET: f64 = 2.0;

/// One measured stage.
pub struct Line {
    pub name: String,
    /// The key of scikit-learn's counterpart in the Python script's output.
    pub key: &'static str,
    pub ours: f64,
    /// CPU seconds (user + system, every thread) per run: the work, whatever the load.
    pub cpu: f64,
    pub read: f64,
    /// The ratio this line is held to (None: reported only, e.g. sort-bound work).
    pub target: Option<f64>,
}

/// Times stages and measures memory reads (cached per frame and column set). `--only WORD`
/// on the command line times only the stages whose name holds WORD (case-insensitive).
pub struct Report {
    reps: usize,
    reads: HashMap<String, f64>,
    /// `--only WORD` on the command line: time only the stages whose name holds it.
    only: Option<String>,
    pub lines: Vec<Line>,
}

impl Report {
    pub fn new(reps: usize) -> Self {
        let args: Vec<String> = std::env::args().collect();
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1).map(|s| s.to_lowercase()));
        Report {
            reps,
            reads: HashMap::new(),
            only,
            lines: Vec::new(),
        }
    }

    /// The median wall time of `self.reps` runs of `f` and the mean CPU time of a run
    /// (user + system over every thread), in seconds. Each run starts with the caches
    /// evicted ([`evict_caches`], untimed), as each memory read does: a stage whose input
    /// fits in L3 is not timed on cached input against a floor read from memory.
    pub fn time<T>(&self, mut f: impl FnMut() -> Result<T>) -> Result<(f64, f64)> {
        let mut v = Vec::new();
        let mut cpu = 0.0;
        for _ in 0..self.reps {
            evict_caches();
            let c0 = cpu_seconds();
            let t = Instant::now();
            std::hint::black_box(f()?);
            v.push(t.elapsed().as_secs_f64());
            cpu += cpu_seconds() - c0;
        }
        let cpu = cpu / self.reps as f64;
        Ok((median(&mut v), cpu))
    }

    /// Times `f`, reads `cols` of `df` (`frame` names the frame, for the cache) and prints
    /// the line.
    #[allow(clippy::too_many_arguments)]
    pub fn stage<T>(
        &mut self,
        name: &str,
        key: &'static str,
        frame: &str,
        df: &DataFrame,
        cols: &[&str],
        target: Option<f64>,
        f: impl FnMut() -> Result<T>,
    ) -> Result<()> {
        if let Some(o) = &self.only {
            if !name.to_lowercase().contains(o.as_str()) {
                return Ok(());
            }
        }
        let ck = format!("{frame}:{}", cols.join(","));
        let read = match self.reads.get(&ck) {
            Some(r) => *r,
            None => {
                let r = memory_read_cols(df, cols)?;
                self.reads.insert(ck, r);
                r
            }
        };
        let (ours, cpu) = self.time(f)?;
        println!(
            "{name:<46} {:>9.1} ms  (cpu {:>7.1} ms)  read {:>7.1} ms  {:>6.1}x",
            ours * 1e3,
            cpu * 1e3,
            read * 1e3,
            ours / read
        );
        self.lines.push(Line {
            name: name.to_string(),
            key,
            ours,
            cpu,
            read,
            target,
        });
        Ok(())
    }

    /// Runs `examples/<script> FILE` with `python` (its lines `SK <key> <seconds> <what>`
    /// are scikit-learn's timings) and prints the table with them; without `python`, the
    /// table alone.
    pub fn finish(&self, python: Option<&str>, script: &str, path: &str) -> Result<()> {
        let mut sk: HashMap<String, (f64, String)> = HashMap::new();
        if let Some(py) = python {
            let script = format!("{}/examples/{script}", env!("CARGO_MANIFEST_DIR"));
            let out = std::process::Command::new(py)
                .args([&script, path])
                .output()
                .map_err(|e| Error::Usage(format!("cannot run {py}: {e}")))?;
            if !out.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            }
            for l in String::from_utf8_lossy(&out.stdout).lines() {
                let mut it = l.splitn(4, ' ');
                if it.next() != Some("SK") {
                    println!("{l}");
                    continue;
                }
                if let (Some(k), Some(s), Some(w)) = (it.next(), it.next(), it.next()) {
                    if let Ok(s) = s.parse::<f64>() {
                        sk.insert(k.to_string(), (s, w.to_string()));
                    }
                }
            }
        }
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!();
        if let Some((s, w)) = sk.get("read") {
            println!(
                "numpy's memory read of the features in the same run: {:.1} ms ({w})",
                s * 1e3
            );
        }
        println!(
            "| stage | ours (ms) | ours, CPU (ms) | memory read (ms) | ratio | target | scikit-learn (ms) | counterpart |"
        );
        println!("|---|---:|---:|---:|---:|---|---:|---|");
        let mut over = Vec::new();
        for l in &self.lines {
            let ratio = l.ours / l.read;
            let target = match l.target {
                Some(t) if ratio <= t => format!("<= {t}x met"),
                Some(t) => {
                    over.push(l.name.clone());
                    format!("<= {t}x NOT met")
                }
                None => "reported".to_string(),
            };
            let (skms, what) = match sk.get(l.key) {
                Some((s, w)) => (format!("{:.1}", s * 1e3), w.clone()),
                None => ("-".to_string(), String::new()),
            };
            println!(
                "| {} | {:.1} | {:.1} | {:.1} | {:.1}x | {} | {} | {} |",
                l.name,
                l.ours * 1e3,
                l.cpu * 1e3,
                l.read * 1e3,
                ratio,
                target,
                skms,
                what
            );
        }
        println!(
            "load average at the end: {}; {} threads",
            load.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
            rayon::current_num_threads()
        );
        if over.is_empty() {
            println!("TARGET MET: every held stage within its memory-read bound");
        } else {
            println!("TARGET NOT MET for: {}", over.join("; "));
        }
        Ok(())
    }
}

/// User + system CPU seconds of the whole process so far (every thread), from
/// /proc/self/stat (in USER_HZ = 100 ticks a second: 10 ms resolution, averaged over the
/// runs); 0 where /proc is missing.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces), from field 3 on:
    // utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|x| x.parse().ok())
        .collect();
    f.iter().sum::<f64>() / 100.0
}
