//! Dense row-block kernels shared by the estimators' statistics passes and the models'
//! scoring, compiled three times: for the baseline target, for AVX2 and for AVX-512, picked
//! at run time ([`multiversion!`]).
//!
//! All builds run the same additions and multiplications in the same order (Rust never
//! fuses `a * b + c` into an FMA on its own), so they give bit-identical results: the
//! choice only changes the vector width, never the numbers.

/// Defines `fn $name(args) -> ret` whose body is compiled for the baseline target and, on
/// x86-64, again with AVX2 and with AVX-512 (F and BW: 64-byte vectors of doubles and of
/// bytes) enabled; each call runs the widest build the CPU has (`is_x86_feature_detected!`
/// caches its answer). The body must not use `unsafe` or rely on FMA: every build then
/// computes the same numbers.
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,avx512f,avx512bw")]
            fn avx512($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            {
                let widest = $crate::frame::kernels::widest_build();
                if widest >= $crate::frame::kernels::Build::Avx512
                    && std::is_x86_feature_detected!("avx512f")
                    && std::is_x86_feature_detected!("avx512bw")
                    && std::is_x86_feature_detected!("avx2")
                {
                    // SAFETY: `avx512` only needs the AVX2, AVX-512F and AVX-512BW
                    // instructions, which the CPU has (checked on the lines above).
                    return unsafe { avx512($($arg),*) };
                }
                if widest >= $crate::frame::kernels::Build::Avx2
                    && std::is_x86_feature_detected!("avx2")
                {
                    // SAFETY: `avx2` only needs the AVX2 instructions, which the CPU has
                    // (checked on the line above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            portable($($arg),*)
        }
    };
}
pub(crate) use multiversion;

/// Rows per tile of [`column_tiles`]: 4096 rows of 20 features (640 KB) read and
/// written within L2.
pub(crate) const TILE_ROWS: usize = 4096;

/// Row-major dense rows (`n` values each) as column-major tiles of up to [`TILE_ROWS`]
/// rows, made in parallel: tile `t` holds rows `t · TILE_ROWS ..`, its feature `j`'s
/// values (in row order) at `[j · len, (j + 1) · len)` where `len = tile.len() / n`. A
/// per-feature pass then reads each feature's values contiguously, tile after tile, in
/// row order, without a serial transposition or a strided read of every row per feature.
pub(crate) fn column_tiles(values: &[f64], n: usize) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    if n == 0 {
        return Vec::new();
    }
    values
        .par_chunks(TILE_ROWS * n)
        .map(|rows| {
            let len = rows.len() / n;
            let mut t = vec![0.0; len * n];
            for (r, row) in rows.chunks_exact(n).enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    t[j * len + r] = v;
                }
            }
            t
        })
        .collect()
}

/// Feature `j`'s values of [`column_tiles`]' tiles (`n` features), a slice per tile, in
/// row order.
pub(crate) fn tile_column(tiles: &[Vec<f64>], n: usize, j: usize) -> impl Iterator<Item = &[f64]> {
    tiles.iter().map(move |t| {
        let len = t.len() / n;
        &t[j * len..(j + 1) * len]
    })
}

/// The builds of a [`multiversion!`] function, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Build {
    /// The baseline target.
    Portable = 0,
    /// AVX2.
    Avx2 = 1,
    /// AVX-512F and AVX-512BW.
    Avx512 = 2,
}

/// Tests can cap the build every [`multiversion!`] function runs, to check that all builds
/// give the same bits (other tests running meanwhile are unaffected: the numbers are the
/// same either way).
#[cfg(test)]
static WIDEST: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(Build::Avx512 as u8);

/// Makes every [`multiversion!`] function run at most build `b` (tests that compare the
/// builds; [`Build::Avx512`] restores the default, the widest the CPU has).
#[cfg(test)]
pub(crate) fn force_build(b: Build) {
    WIDEST.store(b as u8, std::sync::atomic::Ordering::Relaxed);
}

/// Makes every [`multiversion!`] function run its baseline build (`true`) or its widest
/// (`false`), for tests that compare the builds.
#[cfg(test)]
pub(crate) fn force_portable(on: bool) {
    force_build(if on { Build::Portable } else { Build::Avx512 });
}

/// The widest build [`multiversion!`] functions may run: the widest the CPU has, unless
/// the environment variable `MLPIPE_SIMD` is `avx2` or `portable` (to measure or rule out
/// the wider builds; read once), or a test caps it.
#[inline(always)]
pub(crate) fn widest_build() -> Build {
    static FROM_ENV: std::sync::OnceLock<Build> = std::sync::OnceLock::new();
    let env = *FROM_ENV.get_or_init(|| match std::env::var("MLPIPE_SIMD").as_deref() {
        Ok("portable") => Build::Portable,
        Ok("avx2") => Build::Avx2,
        _ => Build::Avx512,
    });
    #[cfg(test)]
    let env = env.min(match WIDEST.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Build::Portable,
        1 => Build::Avx2,
        _ => Build::Avx512,
    });
    env
}

/// Whether the [`multiversion!`] functions run their AVX-512 build: for callers that pick
/// between two algorithms, one of which only pays with wide vectors.
#[inline]
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    return widest_build() >= Build::Avx512
        && std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// The builds of a [`multiversion!`] function this CPU can run, narrowest first: what a
/// test that compares them loops over.
#[cfg(test)]
pub(crate) fn available_builds() -> Vec<Build> {
    let mut b = vec![Build::Portable];
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx2") {
            b.push(Build::Avx2);
            if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512bw")
            {
                b.push(Build::Avx512);
            }
        }
    }
    b
}

/// Asks the CPU to bring the cache lines of `x` into the L1 cache ahead of their use (a
/// hint: nothing changes when it is ignored), so that a loop reading the next block of
/// rows overlaps their arrival from memory with its work on this block.
#[inline]
pub(crate) fn prefetch(x: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    for line in x.chunks(8) {
        // SAFETY: a prefetch reads nothing and never faults; `line` is valid memory anyway.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast::<i8>(),
            )
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}

/// `a · b` in four interleaved partial sums (`(s₀ + s₁) + (s₂ + s₃)`, then the tail), so
/// the compiler can vectorise it; inlined into each caller's [`multiversion!`] body.
#[inline(always)]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Rows of one tile of [`Gram`]: the tile's rows (`TILE · n` values) and its copied tail
/// columns stay in the L1 cache while every block of the triangle sweeps them.
const TILE: usize = 64;

/// The weighted Gram matrix `Σ w·z zᵀ` of augmented rows `z = [x, y, 1]`, the upper
/// triangle in 4 × 8 blocks: one sweep over a row block gives `Σw·xxᵀ`, `Σw·xy`, `Σw·x`,
/// `Σw·y²`, `Σw·y` and `Σw` together (the normal equations' sufficient statistics).
///
/// Each sum runs over the rows in order, so a `Gram` of the same rows is the same on any
/// machine and thread count; blocks of rows merge with [`Gram::merge`] in a fixed order.
#[derive(Clone, Debug)]
pub(crate) struct Gram {
    n: usize,
    /// `n + 2` rounded up to a multiple of 8.
    width: usize,
    /// `width × width`, row-major; the blocks on or above the diagonal are filled.
    c: Vec<f64>,
}

impl Gram {
    /// An empty Gram matrix for rows of `n` features.
    pub(crate) fn new(n: usize) -> Self {
        let width = (n + 2).div_ceil(8) * 8;
        Self {
            n,
            width,
            c: vec![0.0; width * width],
        }
    }

    /// Adds rows `x` (row-major, `n` per row) with labels `y` and weights `w` (1 when
    /// `None`).
    pub(crate) fn add_rows(&mut self, x: &[f64], y: &[f64], w: Option<&[f64]>) {
        gram_add(self.n, self.width, &mut self.c, x, None, y, w);
    }

    /// [`Gram::add_rows`] of the shifted rows `x − shift` (Correlation shifts by a
    /// provisional mean, so the centred sums lose no digits to cancellation).
    pub(crate) fn add_rows_shifted(
        &mut self,
        x: &[f64],
        shift: &[f64],
        y: &[f64],
        w: Option<&[f64]>,
    ) {
        gram_add(self.n, self.width, &mut self.c, x, Some(shift), y, w);
    }

    /// Adds another Gram matrix of the same width.
    pub(crate) fn merge(&mut self, o: &Gram) {
        for (a, b) in self.c.iter_mut().zip(&o.c) {
            *a += b;
        }
    }

    /// Whether every `Σ w·z_i²` is finite: false when some row holds a NaN or ±∞ (or the
    /// sums overflow).
    pub(crate) fn diagonal_is_finite(&self) -> bool {
        (0..self.n + 2).all(|i| self.c[i * self.width + i].is_finite())
    }

    /// `Σ w·z_i·z_j` for `i ≤ j` (indices into `[x₀ … x_{n−1}, y, 1]`).
    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        debug_assert!(i <= j && j < self.n + 2);
        self.c[i * self.width + j]
    }
}

multiversion! {
    /// [`Gram::add_rows`], tile by tile. Each tile's augmented rows
    /// `z = [x − shift, y, 1, 0 …]` (`width` values a row) are first written into a small
    /// buffer that stays in the L1 cache, eight values at a time (no per-row library
    /// call), and, with weights, the left factors `w·z` beside them. Then each group of
    /// four triangle rows `ib..ib + 4` sweeps the tile once, accumulating its blocks right
    /// of the diagonal block in register-resident sums (`4 × 24` with AVX-512, `4 × 8`
    /// otherwise: the same sums, only fewer loads per multiplication), row by row, and
    /// adds them to `c`. Every entry is therefore the sum over each tile of its rows in
    /// order, tiles added in order, whatever the build.
    fn gram_add(
        n: usize,
        width: usize,
        c: &mut [f64],
        x: &[f64],
        shift: Option<&[f64]>,
        y: &[f64],
        w: Option<&[f64]>,
    ) {
        let rows = y.len();
        // Columns right of the diagonal swept together per tile pass (× 8).
        let group = if has_avx512() { 3 } else { 1 };
        let zeros;
        let shift = match shift {
            Some(s) => s,
            None => {
                // x − 0 is x, to the bit (−0 − 0 is −0).
                zeros = vec![0.0; n];
                &zeros
            }
        };
        // Pads stay 0: rows are written at 0..n, n and n + 1 only.
        let mut z = vec![0.0f64; TILE * width];
        let mut wz = vec![0.0f64; if w.is_some() { TILE * width } else { 0 }];
        let mut start = 0;
        while start < rows {
            let len = TILE.min(rows - start);
            for (r, d) in z[..len * width].chunks_exact_mut(width).enumerate() {
                shifted_row(&mut d[..n], &x[(start + r) * n..(start + r + 1) * n], shift);
                d[n] = y[start + r];
                d[n + 1] = 1.0;
            }
            let z = &z[..len * width];
            let a = match w {
                None => z,
                Some(w) => {
                    for ((d, zr), wr) in wz.chunks_exact_mut(width).zip(z.chunks_exact(width)).zip(&w[start..start + len]) {
                        for (d, v) in d.iter_mut().zip(zr) {
                            *d = wr * v;
                        }
                    }
                    &wz[..len * width]
                }
            };
            for ib in (0..width).step_by(4) {
                let mut jb = ib / 8 * 8;
                while jb < width {
                    let v = group.min((width - jb) / 8);
                    match v {
                        3 => block3(c, width, ib, jb, a, z),
                        2 => block2(c, width, ib, jb, a, z),
                        _ => block1(c, width, ib, jb, a, z),
                    }
                    jb += v * 8;
                }
            }
            start += len;
        }
    }
}

/// `d = src − shift`, eight values at a time; the last (partial) eight are done as the
/// eight ending at the row's end (rewriting a few values with the same bits), so that no
/// copy of a run-time length (a library call per row) is left.
#[inline(always)]
fn shifted_row(d: &mut [f64], src: &[f64], shift: &[f64]) {
    let n = d.len();
    let eight = |d: &mut [f64], k: usize| {
        let (dd, s, h): (&mut [f64; 8], &[f64; 8], &[f64; 8]) = (
            (&mut d[k..k + 8]).try_into().expect("8 values"),
            src[k..k + 8].try_into().expect("8 values"),
            shift[k..k + 8].try_into().expect("8 values"),
        );
        for l in 0..8 {
            dd[l] = s[l] - h[l];
        }
    };
    if n < 8 {
        for k in 0..n {
            d[k] = src[k] - shift[k];
        }
        return;
    }
    let mut k = 0;
    while k + 8 <= n {
        eight(d, k);
        k += 8;
    }
    if k < n {
        eight(d, n - 8);
    }
}

// Each block width compiled on its own: inlined together into one function, LLVM leaves
// the accumulators in memory.
multiversion! {
    fn block1(c: &mut [f64], width: usize, ib: usize, jb: usize, a: &[f64], z: &[f64]) {
        block::<1>(c, width, ib, jb, a, z)
    }
}
multiversion! {
    fn block2(c: &mut [f64], width: usize, ib: usize, jb: usize, a: &[f64], z: &[f64]) {
        block::<2>(c, width, ib, jb, a, z)
    }
}
multiversion! {
    fn block3(c: &mut [f64], width: usize, ib: usize, jb: usize, a: &[f64], z: &[f64]) {
        block::<3>(c, width, ib, jb, a, z)
    }
}

/// Adds to `c` the sums `Σ_r a[r][ib + i] · z[r][jb + j]` for `i < 4`, `j < 8·V` over the
/// tile's rows (row stride `width`), accumulated row by row in `4 × 8·V` registers.
#[inline(always)]
fn block<const V: usize>(c: &mut [f64], width: usize, ib: usize, jb: usize, a: &[f64], z: &[f64]) {
    let mut acc = [[[0.0f64; 8]; V]; 4];
    for (ar, zr) in a.chunks_exact(width).zip(z.chunks_exact(width)) {
        let ar: &[f64; 4] = ar[ib..ib + 4].try_into().expect("4 values");
        for v in 0..V {
            let zv: &[f64; 8] = zr[jb + 8 * v..jb + 8 * v + 8].try_into().expect("8 values");
            for ii in 0..4 {
                for jj in 0..8 {
                    acc[ii][v][jj] += ar[ii] * zv[jj];
                }
            }
        }
    }
    for ii in 0..4 {
        let row = &mut c[(ib + ii) * width + jb..(ib + ii) * width + jb + 8 * V];
        for v in 0..V {
            for jj in 0..8 {
                row[8 * v + jj] += acc[ii][v][jj];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    multiversion! {
        fn dot_all(a: &[f64], b: &[f64]) -> f64 {
            dot(a, b)
        }
    }

    /// The AVX2 and baseline builds give the same bits (the Gram kernel and the dot); the
    /// check has teeth in optimised builds (`cargo test --release`), where LLVM vectorises.
    #[test]
    fn builds_agree_bitwise() {
        let n = 20;
        let rows = 1000;
        let x: Vec<f64> = (0..rows * n)
            .map(|i| ((i as f64) * 0.7311).sin() * 1e3 + 1.0 / (1.0 + i as f64))
            .collect();
        let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.37).cos()).collect();
        let run = || {
            let mut g = Gram::new(n);
            g.add_rows(&x, &y, None);
            (g.c.clone(), dot_all(&x, &x[1..]).to_bits())
        };
        let fast = run();
        force_portable(true);
        let portable = run();
        force_portable(false);
        assert_eq!(
            fast.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            portable.0.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_eq!(fast.1, portable.1);
    }

    /// Every entry equals the plain row-by-row sum up to rounding and is, to the bit, the
    /// sum over each tile of its rows in order, tiles added in order (the order that makes the sums independent of the thread count and
    /// of the build), with and without weights, for feature counts around the 8-column
    /// blocks that are read in place.
    #[test]
    fn gram_sums_rows_in_tile_order_bitwise() {
        for n in [1, 7, 8, 9, 15, 16, 17, 20] {
            let rows = 2 * TILE + 13;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.377).sin() * 10.0)
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.91).cos()).collect();
            let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 5) as f64 * 0.3).collect();
            for weights in [None, Some(&w[..])] {
                let mut g = Gram::new(n);
                g.add_rows(&x, &y, weights);
                let z = |r: usize, i: usize| match i {
                    i if i < n => x[r * n + i],
                    i if i == n => y[r],
                    _ => 1.0,
                };
                for i in 0..n + 2 {
                    for j in i..n + 2 {
                        let mut want = 0.0;
                        for tile in (0..rows).step_by(TILE) {
                            let mut part = 0.0;
                            for r in tile..(tile + TILE).min(rows) {
                                let a = weights.map_or(z(r, i), |w| w[r] * z(r, i));
                                part += a * z(r, j);
                            }
                            want += part;
                        }
                        let got = g.get(i, j);
                        assert_eq!(got.to_bits(), want.to_bits(), "n={n} ({i},{j})");
                        // And the plain sum over all rows, up to rounding.
                        let plain: f64 = (0..rows)
                            .map(|r| weights.map_or(1.0, |w| w[r]) * z(r, i) * z(r, j))
                            .sum();
                        assert!(
                            (got - plain).abs() <= 1e-12 * plain.abs().max(1.0),
                            "n={n} ({i},{j}): {got} vs {plain}"
                        );
                    }
                }
            }
        }
    }
}
