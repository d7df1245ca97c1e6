//! The per-stage report both stage benchmarks print: each stage's median time beside one
//! memory read of exactly the columns it reads, their ratio, and scikit-learn's (or
//! numpy's / scipy's) counterpart when the same run timed one.
//!
//! The read is the MEDIAN of [`READS_PER_RUN`] cold reads before each of the stage's runs
//! and after the last, interleaved with them (so the read and the stage see the same
//! machine: a read measured once per column set moved 2.5-3.8 ms from row to row of one
//! run, and ratios flipped with it), printed with the reads' spread (min-max).
#![allow(dead_code)]

use std::collections::HashMap;
use std::time::Instant;

use mlpipe::prelude::*;

use super::{evict_caches, median, ColumnsRead};

/// A transform (read + write of a same-sized output) is "close to memory speed" within this
/// many memory reads of its input; a fit (read only) within [`FIT_TARGET`].
pub const TRANSFORM_TARGET: f64 = 3.0;
/// See [`TRANSFORM_TARGET`].
pub const FIT_TARGET: f64 = 2.0;
/// Cold memory reads taken before each timed run of a stage (and after its last run).
pub const READS_PER_RUN: usize = 2;

/// One measured stage.
pub struct Line {
    pub name: String,
    /// The key of scikit-learn's counterpart in the Python script's output.
    pub key: &'static str,
    pub ours: f64,
    /// CPU seconds (user + system, every thread) per run: the work, whatever the load.
    pub cpu: f64,
    /// The median of the interleaved cold reads.
    pub read: f64,
    /// The fastest and slowest of those reads.
    pub read_spread: (f64, f64),
    /// The ratio this line is held to (None: reported only, e.g. sort-bound work).
    pub target: Option<f64>,
}

/// Times stages and the memory reads of their columns, interleaved. `--only WORD[,WORD…]`
/// on the command line times only the stages whose name holds one of the WORDs
/// (case-insensitive).
pub struct Report {
    reps: usize,
    /// `--only WORD[,WORD…]` on the command line: time only the stages whose name holds
    /// one of them.
    only: Option<String>,
    pub lines: Vec<Line>,
}

impl Report {
    /// `reps` timed runs per stage (`--reps N` on the command line overrides it: many runs
    /// of one `--only` stage make a profile of that stage alone).
    pub fn new(reps: usize) -> Self {
        let args: Vec<String> = std::env::args().collect();
        let arg = |k: &str| {
            args.iter()
                .position(|a| a == k)
                .and_then(|i| args.get(i + 1))
        };
        let only = arg("--only").map(|s| s.to_lowercase());
        let reps = arg("--reps")
            .and_then(|r| r.parse::<usize>().ok())
            .filter(|r| *r > 0)
            .unwrap_or(reps);
        Report {
            reps,
            only,
            lines: Vec::new(),
        }
    }

    /// The median wall time of `self.reps` runs of `f` and the mean CPU time of a run
    /// (user + system over every thread), in seconds. Each run starts with the caches
    /// evicted ([`evict_caches`], untimed), as each memory read does: a stage whose input
    /// fits in L3 is not timed on cached input against a floor read from memory.
    pub fn time<T>(&self, f: impl FnMut() -> Result<T>) -> Result<(f64, f64)> {
        let t = self.time_interleaved(None, f)?;
        Ok((t.ours, t.cpu))
    }

    /// [`time`](Self::time), with [`READS_PER_RUN`] cold reads of `read`'s columns before
    /// each run and after the last (untimed as the stage's).
    fn time_interleaved<T>(
        &self,
        read: Option<&ColumnsRead>,
        mut f: impl FnMut() -> Result<T>,
    ) -> Result<Timing> {
        let mut v = Vec::new();
        let mut reads = Vec::new();
        let mut cpu = 0.0;
        let (mut faults, mut thp) = (0, 0);
        let take_reads = |reads: &mut Vec<f64>| {
            if let Some(r) = read {
                reads.extend((0..READS_PER_RUN).map(|_| r.cold()));
            }
        };
        for _ in 0..self.reps {
            take_reads(&mut reads);
            evict_caches();
            let (c0, f0, h0) = (cpu_seconds(), minor_faults(), thp_faults());
            let t = Instant::now();
            std::hint::black_box(f()?);
            v.push(t.elapsed().as_secs_f64());
            cpu += cpu_seconds() - c0;
            // The first run fills the output pool; the later ones show the steady state.
            if v.len() > 1 {
                faults += minor_faults() - f0;
                thp += thp_faults() - h0;
            }
        }
        take_reads(&mut reads);
        let later = (self.reps - 1).max(1) as u64;
        Ok(Timing {
            ours: median(&mut v),
            cpu: cpu / self.reps as f64,
            reads,
            faults: faults / later,
            thp: thp / later,
        })
    }

    /// Times `f` interleaved with cold reads of `cols` of `df` and prints the line: the
    /// stage's median, the reads' median and spread, their ratio. (`_frame`, the frame's
    /// name, keyed a cache of reads shared by stages; each stage now takes its own.)
    #[allow(clippy::too_many_arguments)]
    pub fn stage<T>(
        &mut self,
        name: &str,
        key: &'static str,
        _frame: &str,
        df: &DataFrame,
        cols: &[&str],
        target: Option<f64>,
        f: impl FnMut() -> Result<T>,
    ) -> Result<()> {
        if let Some(o) = &self.only {
            let name = name.to_lowercase();
            if !o.split(',').any(|w| name.contains(w)) {
                return Ok(());
            }
        }
        let columns = ColumnsRead::new(df, cols)?;
        let Timing {
            ours,
            cpu,
            mut reads,
            faults,
            thp,
        } = self.time_interleaved(Some(&columns), f)?;
        let read = median(&mut reads);
        let read_spread = (reads[0], reads[reads.len() - 1]);
        println!(
            "{name:<46} {:>9.1} ms  (cpu {:>7.1} ms)  read {:>5.2} ms ({:.2}-{:.2}, {} reads)  {:>6.1}x  faults/run {faults} (huge {thp})",
            ours * 1e3,
            cpu * 1e3,
            read * 1e3,
            read_spread.0 * 1e3,
            read_spread.1 * 1e3,
            reads.len(),
            ours / read
        );
        self.lines.push(Line {
            name: name.to_string(),
            key,
            ours,
            cpu,
            read,
            read_spread,
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
            "| stage | ours (ms) | ours, CPU (ms) | memory read, median (ms) | read spread (ms) | ratio | target | scikit-learn (ms) | counterpart |"
        );
        println!("|---|---:|---:|---:|---|---:|---|---:|---|");
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
                "| {} | {:.1} | {:.1} | {:.2} | {:.2}-{:.2} | {:.1}x | {} | {} | {} |",
                l.name,
                l.ours * 1e3,
                l.cpu * 1e3,
                l.read * 1e3,
                l.read_spread.0 * 1e3,
                l.read_spread.1 * 1e3,
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

/// What [`Report::time_interleaved`] measured: the stage's median wall time and mean CPU
/// time a run (seconds), every interleaved read's time (seconds), and the page faults a run
/// after the first (this process's minor faults; huge-page faults machine-wide, from
/// /proc/vmstat's `thp_fault_alloc`): an output written into memory the pool already holds
/// faults nothing.
struct Timing {
    ours: f64,
    cpu: f64,
    reads: Vec<f64>,
    faults: u64,
    thp: u64,
}

/// This process's minor page faults so far (every thread; /proc/self/stat's `minflt`,
/// field 10; 0 where /proc is missing).
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name (which may hold spaces), from field 3 on.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    rest.split_whitespace()
        .nth(7)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Huge pages faulted in so far, machine-wide (/proc/vmstat `thp_fault_alloc`; 0 where
/// missing).
fn thp_faults() -> u64 {
    std::fs::read_to_string("/proc/vmstat")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("thp_fault_alloc "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
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
