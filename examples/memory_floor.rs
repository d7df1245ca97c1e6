//! The output-memory floor of a map transform on this machine: 160 MB (20 × 8 MiB f64
//! columns, and one 1Mi × 20 vector column) read once, and read + written into a new
//! output each of the ways `src/frame/buffer.rs` can write one. Each line is a median of
//! 15 runs (caches evicted before each), with its min and max, the process's page faults
//! per run (getrusage) and the kernel's /proc/vmstat counters (compact_stall,
//! compact_fail: direct compaction over the 15 runs; thp_fault_alloc, thp_fault_fallback:
//! huge-page faults served and refused, in the FIRST run and per LATER run: a pooled
//! output faults its region in once, on the first run, and nothing after). The counters
//! are machine-wide: other processes' faults count too.
//!
//! Lines: `read` (one parallel read: the floor every stage figure divides by);
//! `fresh 4 KB` (a plain `Vec`, normal stores); `fresh huge (par_build)` (the huge-page
//! advised fresh vector `par_build` returns); `prefaulted, normal stores` / `prefaulted,
//! streaming stores` (an output written before, written again); `pooled output
//! (par_build_buffer)` (what large outputs use: a pooled region written in place with
//! normal stores; dropped after each run, so runs 2.. reuse the region; with
//! `MLPIPE_STREAM_MB=1` it is staged in 32 KB blocks and streamed out instead); `pooled
//! output, direct normal stores` (the same region always written in place: the
//! comparison when `MLPIPE_STREAM_MB` is set); the same for the 20 columns
//! (`par_build_parts`). Rerun with `MLPIPE_STREAM_MB=1` to compare staged streaming
//! stores with normal ones in one run, with `MLPIPE_BUFFER_POOL_MB=0` to see the pooled
//! lines without the pool (a fresh huge-page region each run) and with
//! `MLPIPE_NO_HUGE_PAGES=1` for 4 KB pages.
//!
//! The last line says whether the pooled output meets the map-transform bound (3 reads).
//!
//! Run: `cargo run --release --example memory_floor`.

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;

use mlpipe::frame::buffer::floor;
use rayon::prelude::*;

const ROWS: usize = 1 << 20;
const COLS: usize = 20;
const N: usize = ROWS * COLS;

fn vmstat() -> [u64; 4] {
    let s = std::fs::read_to_string("/proc/vmstat").unwrap_or_default();
    let get = |k: &str| {
        s.lines()
            .find(|l| l.split_whitespace().next() == Some(k))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    [
        get("compact_stall"),
        get("compact_fail"),
        get("thp_fault_alloc"),
        get("thp_fault_fallback"),
    ]
}

fn minor_faults() -> i64 {
    // SAFETY: getrusage writes the struct it is given.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u.ru_minflt
    }
}

/// The median, min and max of 15 runs of `f` in ms, each after evicting the caches, and
/// prints them with the fault counters.
fn run(name: &str, mut f: impl FnMut()) -> f64 {
    let (v0, f0) = (vmstat(), minor_faults());
    let mut t = Vec::new();
    let mut after_first = v0;
    for k in 0..15 {
        support::evict_caches();
        let s = Instant::now();
        f();
        t.push(s.elapsed().as_secs_f64() * 1e3);
        if k == 0 {
            after_first = vmstat();
        }
    }
    let (v1, f1) = (vmstat(), minor_faults());
    let med = support::median(&mut t);
    println!(
        "{name:<42} {med:8.2} ms  (min {:7.2}, max {:8.2})  faults/run {:>6}  compact_stall {:>3} compact_fail {:>3}  thp_fault_alloc first {:>4} later/run {:>5.1}  thp_fault_fallback {:>3}",
        t[0],
        t[t.len() - 1],
        (f1 - f0) / 15,
        v1[0] - v0[0],
        v1[1] - v0[1],
        after_first[2] - v0[2],
        (v1[2] - after_first[2]) as f64 / 14.0,
        v1[3] - v0[3]
    );
    med
}

fn read(src: &[f64]) -> u64 {
    src.par_chunks(1 << 16)
        .map(|b| b.iter().fold(0u64, |a, x| a.wrapping_add(x.to_bits())))
        .reduce(|| 0, u64::wrapping_add)
}

fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| "unset".into());
    println!(
        "{} MB; {} threads; MLPIPE_BUFFER_POOL_MB={}, MLPIPE_STREAM_MB={}, MLPIPE_NO_HUGE_PAGES={}; THP enabled: {}, defrag: {}",
        (N * 8) >> 20,
        rayon::current_num_threads(),
        env("MLPIPE_BUFFER_POOL_MB"),
        env("MLPIPE_STREAM_MB"),
        env("MLPIPE_NO_HUGE_PAGES"),
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default()
            .trim(),
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/defrag")
            .unwrap_or_default()
            .trim(),
    );
    let src: Vec<f64> = floor::copy_fresh(&(0..N).map(|i| i as f64).collect::<Vec<_>>(), COLS);
    let cols: Vec<Vec<f64>> = src.chunks(ROWS).map(<[f64]>::to_vec).collect();
    let col_refs: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();

    let r = run("read", || {
        std::hint::black_box(read(&src));
    });
    run("fresh 4 KB pages (Vec), normal stores", || {
        let mut d: Vec<f64> = Vec::with_capacity(N);
        d.spare_capacity_mut()
            .par_chunks_mut(1 << 16)
            .zip(src.par_chunks(1 << 16))
            .for_each(|(d, s)| {
                for (d, s) in d.iter_mut().zip(s) {
                    d.write(*s);
                }
            });
        // SAFETY: every value was written above.
        unsafe { d.set_len(N) };
        std::hint::black_box(&d);
    });
    run("fresh huge (par_build), normal stores", || {
        std::hint::black_box(floor::copy_fresh(&src, COLS));
    });
    let mut pre = floor::copy_fresh(&src, COLS);
    run("prefaulted, normal stores", || {
        floor::copy_into(&src, &mut pre, false)
    });
    run("prefaulted, streaming stores", || {
        floor::copy_into(&src, &mut pre, true)
    });
    drop(pre);
    let v = run("pooled output (par_build_buffer), vector", || {
        std::hint::black_box(floor::copy_output(&src, COLS));
    });
    run("pooled output, direct normal stores", || {
        std::hint::black_box(floor::copy_output_direct(&src, COLS));
    });
    let c = run("pooled output (par_build_parts), 20 cols", || {
        std::hint::black_box(floor::copy_columns(&col_refs));
    });
    let (regions, bytes) = floor::pool_state();
    println!("pool now: {regions} free regions, {} MB", bytes >> 20);
    let worst = v.max(c);
    println!(
        "pooled output / read: vector {:.2}x, columns {:.2}x; target <= 3.0x (a map transform's bound): {}",
        v / r,
        c / r,
        if worst <= 3.0 * r { "met" } else { "NOT met" }
    );
}
