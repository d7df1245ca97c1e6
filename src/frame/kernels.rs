//! Dense row-block kernels shared by the estimators' statistics passes and the models'
//! scoring, compiled three times: for the baseline target, for AVX2 and for AVX-512, picked
//! at run time ([`multiversion!`]).
//!
//! All builds run the same additions and multiplications in the same order (Rust never
//! fuses `a * b + c` into an FMA on its own), so they give bit-identical results: the
//! choice only changes the vector width, never the numbers.

/// Defines `fn $name(args) -> ret` whose body is compiled for the baseline target and, on
/// x86-64, again with AVX2 + FMA and with AVX-512 (F and BW: 64-byte vectors of doubles and
/// of bytes) enabled; each call runs the widest build the CPU has
/// (`is_x86_feature_detected!` caches its answer). The body must not use `unsafe` and must
/// compute the same numbers in every build: plain `a * b + c` is never fused, and an
/// explicit `f64::mul_add` is one rounding in every build (an instruction where the build
/// has FMA, see [`has_fma`], a library call in the baseline build).
macro_rules! multiversion {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block) => {
        $(#[$m])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,avx512f,avx512bw")]
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
                    && std::is_x86_feature_detected!("fma")
                {
                    // SAFETY: `avx512` only needs the AVX2, FMA, AVX-512F and AVX-512BW
                    // instructions, which the CPU has (checked on the lines above).
                    return unsafe { avx512($($arg),*) };
                }
                if widest >= $crate::frame::kernels::Build::Avx2
                    && std::is_x86_feature_detected!("avx2")
                    && std::is_x86_feature_detected!("fma")
                {
                    // SAFETY: `avx2` only needs the AVX2 and FMA instructions, which the
                    // CPU has (checked on the lines above).
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
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma");
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
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
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

/// [`prefetch`] of the one cache line holding `line[0]`.
#[inline(always)]
pub(crate) fn prefetch_line(line: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch reads nothing and never faults; `line` is valid memory anyway.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            line.as_ptr().cast::<i8>(),
        )
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = line;
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

/// Rows of one tile of [`Gram`]: every sum runs over a tile's rows in order and is then
/// added to the matrix, tile after tile (so the tile boundaries fix the numbers; the
/// tile's rows stay in the L1 cache while every block of the triangle sweeps them).
const TILE: usize = 64;

/// The weighted Gram matrix `Σ w·z zᵀ` of augmented rows `z = [x, y, 1]`, upper triangle:
/// one sweep over a row block gives `Σw·xxᵀ`, `Σw·xy`, `Σw·x`, `Σw·y²`, `Σw·y` and `Σw`
/// together (the normal equations' sufficient statistics).
///
/// Every entry is, to the bit, the sum over each [`TILE`] of its rows' products
/// `(w·z_i)·z_j` in row order (from 0), the tiles' sums added to the entry in order. So a
/// `Gram` of the same rows is the same on any machine, build and thread count; blocks of
/// rows merge with [`Gram::merge`] in a fixed order.
#[derive(Clone, Debug)]
pub(crate) struct Gram {
    n: usize,
    /// Row stride of `xx` and of the packed tile: `n + 7` rounded up to 8, so that every
    /// register block of the triangle (columns up to `n + 7`, see [`gram_plan`]) fits.
    width: usize,
    /// `n × width`, row-major: `Σ w·x_i·x_j` for `i ≤ j < n` (other entries unused).
    xx: Vec<f64>,
    /// `Σ w·z_i·y` for `i ≤ n` (the label column, `Σ w·y²` last), `n + 2` rounded up to 8.
    zy: Vec<f64>,
    /// `Σ w·z_i` for `i ≤ n + 1` (the `1` column, `Σ w` last), as long as `zy`.
    z1: Vec<f64>,
}

impl Gram {
    /// An empty Gram matrix for rows of `n` features.
    pub(crate) fn new(n: usize) -> Self {
        let width = (n + 7).div_ceil(8) * 8;
        let lanes = (n + 2).div_ceil(8) * 8;
        Self {
            n,
            width,
            xx: vec![0.0; n * width],
            zy: vec![0.0; lanes],
            z1: vec![0.0; lanes],
        }
    }

    /// Adds rows `x` (row-major, `n` per row) with labels `y` and weights `w` (1 when
    /// `None`).
    pub(crate) fn add_rows(&mut self, x: &[f64], y: &[f64], w: Option<&[f64]>) {
        self.add(x, None, y, w);
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
        self.add(x, Some(shift), y, w);
    }

    fn add(&mut self, x: &[f64], shift: Option<&[f64]>, y: &[f64], w: Option<&[f64]>) {
        let sums = GramSums {
            n: self.n,
            width: self.width,
            xx: &mut self.xx,
            zy: &mut self.zy,
            z1: &mut self.z1,
        };
        gram_add(sums, x, shift, y, w);
    }

    /// Adds another Gram matrix of the same width.
    pub(crate) fn merge(&mut self, o: &Gram) {
        for (a, b) in self.xx.iter_mut().zip(&o.xx) {
            *a += b;
        }
        for (a, b) in self.zy.iter_mut().zip(&o.zy) {
            *a += b;
        }
        for (a, b) in self.z1.iter_mut().zip(&o.z1) {
            *a += b;
        }
    }

    /// Whether every `Σ w·z_i²` is finite: false when some row holds a NaN or ±∞ (or the
    /// sums overflow).
    pub(crate) fn diagonal_is_finite(&self) -> bool {
        (0..self.n + 2).all(|i| self.get(i, i).is_finite())
    }

    /// `Σ w·z_i·z_j` for `i ≤ j` (indices into `[x₀ … x_{n−1}, y, 1]`).
    pub(crate) fn get(&self, i: usize, j: usize) -> f64 {
        debug_assert!(i <= j && j < self.n + 2);
        if j == self.n + 1 {
            self.z1[i]
        } else if j == self.n {
            self.zy[i]
        } else {
            self.xx[i * self.width + j]
        }
    }
}

/// A [`Gram`]'s sums, borrowed for [`gram_add`].
struct GramSums<'a> {
    n: usize,
    width: usize,
    xx: &'a mut [f64],
    zy: &'a mut [f64],
    z1: &'a mut [f64],
}

/// One register block of the triangle: the sums of rows `g..g + h` × columns
/// `c..c + 8·v` of `Σ w·x xᵀ`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct GramBlock {
    g: usize,
    h: usize,
    c: usize,
    v: usize,
}

/// Covers the upper triangle of the `n × n` matrix `Σ w·x xᵀ` with register blocks of at
/// most `vmax` eights of columns and `acc` eight-lane sums each. Each group of rows starts
/// its columns at its first row (so little of each block lies below the diagonal) and
/// holds the rows that need as many eights of columns as its first: for 20 features,
/// rows 0–3 × 24 columns, rows 4–11 × 16 and rows 12–19 × 8 — 36 eight-lane
/// multiplications a row (3 more for the label column) where `4 × 8` blocks over the
/// padded 24 × 24 square of `[x, y, 1]` took 48.
fn gram_plan(n: usize, vmax: usize, acc: usize) -> Vec<GramBlock> {
    let mut out = Vec::new();
    let mut g = 0;
    while g < n {
        let left = n - g;
        let eights = left.div_ceil(8);
        // Rows g.. needing as many eights as row g.
        let same = left - 8 * (eights - 1);
        let h = same.min((acc / eights.min(vmax)).max(1)).min(8);
        let mut c = g;
        while c < n {
            let v = vmax.min((n - c).div_ceil(8));
            out.push(GramBlock { g, h, c, v });
            c += 8 * v;
        }
        g += h;
    }
    out
}

/// The build the [`multiversion!`] functions run now (what [`gram_add`] passes its
/// blocks to).
fn running_build() -> Build {
    #[cfg(target_arch = "x86_64")]
    {
        if has_avx512() {
            return Build::Avx512;
        }
        if widest_build() >= Build::Avx2 && std::is_x86_feature_detected!("avx2") {
            return Build::Avx2;
        }
    }
    Build::Portable
}

multiversion! {
    /// [`Gram::add_rows`], tile by tile. Each tile's rows are read where they lie when
    /// they are neither shifted nor weighted (row-major rows are contiguous: the blocks
    /// read them in place, their lanes past a row's end falling on entries never read),
    /// else first written into a small buffer `z = [x − shift, y, 1]` that stays in the
    /// L1 cache, with the left factors `w·z` beside it. Then the register blocks of
    /// [`gram_plan`] sweep the tile, each accumulating its `h × 8v` sums row by row, and
    /// add them to the matrix; the label and `1` columns are one more sweep (`Σ w·z·y`,
    /// `Σ w·z`: no multiplication by 1). While the first block sweeps a tile, the next
    /// tile's rows are fetched into the cache a row at a time, so memory streams while
    /// the blocks multiply. Every entry is therefore the sum over each tile of its rows in
    /// order, tiles added in order, whatever the build and the path.
    fn gram_add(
        sums: GramSums<'_>,
        x: &[f64],
        shift: Option<&[f64]>,
        y: &[f64],
        w: Option<&[f64]>,
    ) {
        let GramSums { n, width, xx, zy, z1 } = sums;
        let rows = y.len();
        let build = running_build();
        let blocks = if build == Build::Avx512 {
            // 32 vector registers: up to 8 × 24 sums.
            gram_plan(n, 3, 24)
        } else {
            // 16 (AVX2: 8 lanes are two registers) or fewer: 4 × 8 blocks (measured
            // faster than 6 × 8 or 3 × 16 on an AVX-512 machine capped to AVX2).
            gram_plan(n, 1, 4)
        };
        // How far past a row's first value the blocks and the label sweep read.
        let reach = blocks
            .iter()
            .map(|b| b.c + 8 * b.v)
            .fold(zy.len(), usize::max);
        let in_place = shift.is_none() && w.is_none();
        let n8 = n.div_ceil(8) * 8;
        // The shift padded to whole eights (the pads give lanes never read).
        let mut shift8 = shift.map_or_else(|| vec![0.0; n], <[f64]>::to_vec);
        shift8.resize(n8, 0.0);
        let mut z = Vec::new();
        let mut wz = Vec::new();
        let mut start = 0;
        while start < rows {
            let len = TILE.min(rows - start);
            let yt = &y[start..start + len];
            let next = &x[((start + TILE) * n).min(x.len())..((start + 2 * TILE) * n).min(x.len())];
            if in_place && (start + len - 1) * n + reach <= x.len() {
                let xt = &x[start * n..];
                for (k, b) in blocks.iter().enumerate() {
                    let ahead = if k == 0 { next } else { &[] };
                    run_block(build, xx, width, *b, xt, xt, n, len, ahead, n);
                }
                label_sweep(build, zy, z1, n, (xt, n, yt), true);
            } else {
                if z.is_empty() {
                    z = vec![0.0f64; TILE * width];
                    wz = vec![0.0f64; if w.is_some() { TILE * width } else { 0 }];
                }
                if (start + len - 1) * n + n8 <= x.len() {
                    let xt = &x[start * n..];
                    match n8 / 8 {
                        1 => pack_rows::<1>(&mut z, width, xt, n, yt, &shift8),
                        2 => pack_rows::<2>(&mut z, width, xt, n, yt, &shift8),
                        3 => pack_rows::<3>(&mut z, width, xt, n, yt, &shift8),
                        _ => pack_rows_any(&mut z, width, xt, n, yt, &shift8),
                    }
                } else {
                    // The data's last rows: no reading past them.
                    let xt = &x[start * n..(start + len) * n];
                    for ((d, src), yv) in z.chunks_exact_mut(width).zip(xt.chunks_exact(n.max(1))).zip(yt) {
                        shifted_row(&mut d[..n], src, &shift8[..n]);
                        d[n] = *yv;
                        d[n + 1] = 1.0;
                    }
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
                for (k, b) in blocks.iter().enumerate() {
                    let ahead = if k == 0 { next } else { &[] };
                    run_block(build, xx, width, *b, a, z, width, len, ahead, n);
                }
                label_sweep(build, zy, z1, n, (a, width, yt), false);
            }
            start += len;
        }
    }
}

/// Rows `[x − shift, y, 1]` of one tile into `z` (row stride `width`), `E` whole eights of
/// `x` a row read straight (no loop): the lanes past a row's end are overwritten by y
/// and 1 or never read. `xt` must hold `8·E` values from the tile's last row on.
#[inline(always)]
fn pack_rows<const E: usize>(
    z: &mut [f64],
    width: usize,
    xt: &[f64],
    n: usize,
    yt: &[f64],
    shift8: &[f64],
) {
    let h: [[f64; 8]; E] =
        std::array::from_fn(|e| shift8[8 * e..8 * e + 8].try_into().expect("8 values"));
    for (r, (d, yv)) in z.chunks_exact_mut(width).zip(yt).enumerate() {
        let src = &xt[r * n..r * n + 8 * E];
        // Loaded into values first: the stores cannot alias them (LLVM would otherwise
        // check at run time and often take a scalar loop).
        let s: [[f64; 8]; E] =
            std::array::from_fn(|e| src[8 * e..8 * e + 8].try_into().expect("8 values"));
        for e in 0..E {
            let v: [f64; 8] = std::array::from_fn(|l| s[e][l] - h[e][l]);
            d[8 * e..8 * e + 8].copy_from_slice(&v);
        }
        d[n] = *yv;
        d[n + 1] = 1.0;
    }
}

/// [`pack_rows`] for any number of eights.
#[inline(always)]
fn pack_rows_any(z: &mut [f64], width: usize, xt: &[f64], n: usize, yt: &[f64], shift8: &[f64]) {
    let n8 = shift8.len();
    for (r, (d, yv)) in z.chunks_exact_mut(width).zip(yt).enumerate() {
        let src = &xt[r * n..r * n + n8];
        for ((d, s), h) in d[..n8]
            .chunks_exact_mut(8)
            .zip(src.chunks_exact(8))
            .zip(shift8.chunks_exact(8))
        {
            let s: [f64; 8] = s.try_into().expect("8 values");
            let h: [f64; 8] = h.try_into().expect("8 values");
            let v: [f64; 8] = std::array::from_fn(|l| s[l] - h[l]);
            d.copy_from_slice(&v);
        }
        d[n] = *yv;
        d[n + 1] = 1.0;
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

/// The label and `1` columns over one tile: `zy[i] += Σ a_i·y`, `z1[i] += Σ a_i` for
/// every lane `i` of `zy` (`a`'s rows of stride `stride`). With `in_place`, `a` is the
/// features read in place: its lanes from `n` on belong to the next row, so lanes `n`
/// and `n + 1` (y and 1) come from sums of `y·y`, `y` and `1` instead.
#[inline(always)]
fn label_sweep(
    build: Build,
    zy: &mut [f64],
    z1: &mut [f64],
    n: usize,
    (a, stride, y): (&[f64], usize, &[f64]),
    in_place: bool,
) {
    let lanes = zy.len();
    let rows = y.len();
    let (mut ty, mut t1) = ([0.0f64; 24], [0.0f64; 24]);
    let mut k = 0;
    while k < lanes {
        let v = 3.min((lanes - k) / 8);
        let valid = if in_place {
            n.saturating_sub(k).min(8 * v)
        } else {
            8 * v
        };
        let args = (&mut ty[..], &mut t1[..], &a[k..], stride, y);
        match v {
            3 => label_lanes::<3>(build, args),
            2 => label_lanes::<2>(build, args),
            _ => label_lanes::<1>(build, args),
        }
        for l in 0..valid {
            zy[k + l] += ty[l];
            z1[k + l] += t1[l];
        }
        k += 8 * v;
    }
    if in_place {
        let (mut yy, mut sy, mut one) = (0.0f64, 0.0f64, 0.0f64);
        for v in &y[..rows] {
            yy += v * v;
            sy += v;
            one += 1.0;
        }
        zy[n] += yy;
        z1[n] += sy;
        z1[n + 1] += one;
    }
}

/// The arguments of [`label_lanes`]: its two outputs, `a`, its row stride and `y`.
type LabelArgs<'a> = (&'a mut [f64], &'a mut [f64], &'a [f64], usize, &'a [f64]);

/// [`label_sweep`]'s sums over `V` eights of lanes, written whole to the outputs (a
/// lane-wise condition here makes LLVM split the sums into scalars).
#[inline(always)]
fn label_lanes<const V: usize>(build: Build, args: LabelArgs<'_>) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,avx512f,avx512bw")]
        fn avx512<const V: usize>(args: LabelArgs<'_>) {
            label_lanes_body::<V>(args)
        }
        #[target_feature(enable = "avx2")]
        fn avx2<const V: usize>(args: LabelArgs<'_>) {
            label_lanes_body::<V>(args)
        }
        match build {
            // SAFETY: `build` is what the CPU runs (`running_build` checked its features).
            Build::Avx512 => return unsafe { avx512::<V>(args) },
            // SAFETY: as above.
            Build::Avx2 => return unsafe { avx2::<V>(args) },
            Build::Portable => {}
        }
    }
    let _ = build;
    label_lanes_body::<V>(args)
}

#[inline(always)]
fn label_lanes_body<const V: usize>((ty, t1, a, stride, y): LabelArgs<'_>) {
    let mut acc_y = [[0.0f64; 8]; V];
    let mut acc_1 = [[0.0f64; 8]; V];
    for (r, yv) in y.iter().enumerate() {
        let ar = &a[r * stride..r * stride + 8 * V];
        for v in 0..V {
            let av: &[f64; 8] = ar[8 * v..8 * v + 8].try_into().expect("8 values");
            for l in 0..8 {
                acc_y[v][l] += av[l] * yv;
                acc_1[v][l] += av[l];
            }
        }
    }
    for v in 0..V {
        ty[8 * v..8 * v + 8].copy_from_slice(&acc_y[v]);
        t1[8 * v..8 * v + 8].copy_from_slice(&acc_1[v]);
    }
}

/// Runs block `b` of [`gram_plan`] over a tile (left factors `a`, right factors `z`, row
/// stride `stride`, `rows` rows) in `build`'s instructions, each shape compiled on its own
/// (so that its sums stay in registers); while it sweeps, the rows of `ahead` (`an`
/// values each: the next tile) are fetched into the cache, a row at a time.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn run_block(
    build: Build,
    xx: &mut [f64],
    width: usize,
    b: GramBlock,
    a: &[f64],
    z: &[f64],
    stride: usize,
    rows: usize,
    ahead: &[f64],
    an: usize,
) {
    let (g, c) = (b.g, b.c);
    macro_rules! shapes {
        ($($h:literal $v:literal),*) => {
            match (b.h, b.v) {
                $(($h, $v) => match build {
                    // SAFETY: `build` is what the CPU runs (`running_build` checked its
                    // features).
                    #[cfg(target_arch = "x86_64")]
                    Build::Avx512 => unsafe { block_avx512::<$h, $v>(xx, width, g, c, a, z, stride, rows, ahead, an) },
                    // SAFETY: as above.
                    #[cfg(target_arch = "x86_64")]
                    Build::Avx2 => unsafe { block_avx2::<$h, $v>(xx, width, g, c, a, z, stride, rows, ahead, an) },
                    _ => block_portable::<$h, $v>(xx, width, g, c, a, z, stride, rows, ahead, an),
                },)*
                _ => unreachable!("gram_plan makes blocks of at most 8 rows and 3 eights"),
            }
        };
    }
    shapes!(1 1, 2 1, 3 1, 4 1, 5 1, 6 1, 7 1, 8 1,
            1 2, 2 2, 3 2, 4 2, 5 2, 6 2, 7 2, 8 2,
            1 3, 2 3, 3 3, 4 3, 5 3, 6 3, 7 3, 8 3)
}

/// [`block`] with AVX-512.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2,avx512f,avx512bw")]
fn block_avx512<const H: usize, const V: usize>(
    xx: &mut [f64],
    width: usize,
    g: usize,
    c: usize,
    a: &[f64],
    z: &[f64],
    stride: usize,
    rows: usize,
    ahead: &[f64],
    an: usize,
) {
    block::<H, V>(xx, width, g, c, a, z, stride, rows, ahead, an)
}

/// [`block`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[allow(clippy::too_many_arguments)]
#[target_feature(enable = "avx2")]
fn block_avx2<const H: usize, const V: usize>(
    xx: &mut [f64],
    width: usize,
    g: usize,
    c: usize,
    a: &[f64],
    z: &[f64],
    stride: usize,
    rows: usize,
    ahead: &[f64],
    an: usize,
) {
    block::<H, V>(xx, width, g, c, a, z, stride, rows, ahead, an)
}

/// [`block`] for the baseline target.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn block_portable<const H: usize, const V: usize>(
    xx: &mut [f64],
    width: usize,
    g: usize,
    c: usize,
    a: &[f64],
    z: &[f64],
    stride: usize,
    rows: usize,
    ahead: &[f64],
    an: usize,
) {
    block::<H, V>(xx, width, g, c, a, z, stride, rows, ahead, an)
}

/// Adds to `xx` the sums `Σ_r a[r][g + i] · z[r][c + j]` for `i < H`, `j < 8·V` over the
/// tile's rows, accumulated row by row in `H × 8·V` registers.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn block<const H: usize, const V: usize>(
    xx: &mut [f64],
    width: usize,
    g: usize,
    c: usize,
    a: &[f64],
    z: &[f64],
    stride: usize,
    rows: usize,
    ahead: &[f64],
    an: usize,
) {
    let mut acc = [[[0.0f64; 8]; V]; H];
    for r in 0..rows {
        if let Some(next) = ahead.get(r * an..(r + 1) * an) {
            for line in next.chunks(8) {
                prefetch_line(line);
            }
        }
        let o = r * stride;
        let ar: &[f64; H] = a[o + g..o + g + H].try_into().expect("H values");
        let zr = &z[o + c..o + c + 8 * V];
        for v in 0..V {
            let zv: &[f64; 8] = zr[8 * v..8 * v + 8].try_into().expect("8 values");
            for ii in 0..H {
                for jj in 0..8 {
                    acc[ii][v][jj] += ar[ii] * zv[jj];
                }
            }
        }
    }
    for ii in 0..H {
        let row = &mut xx[(g + ii) * width + c..(g + ii) * width + c + 8 * V];
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

    /// Every entry of `g`, as bits.
    fn entries(g: &Gram) -> Vec<u64> {
        let m = g.n + 2;
        (0..m)
            .flat_map(|i| (i..m).map(move |j| (i, j)))
            .map(|(i, j)| g.get(i, j).to_bits())
            .collect()
    }

    /// Every build gives the same bits (the Gram kernel, each of whose builds has its own
    /// plan of register blocks, and the dot); the check has teeth in optimised builds
    /// (`cargo test --release`), where LLVM vectorises.
    #[test]
    fn builds_agree_bitwise() {
        for n in [3, 20, 37] {
            let rows = 1000;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.7311).sin() * 1e3 + 1.0 / (1.0 + i as f64))
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.37).cos()).collect();
            let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 7) as f64 * 0.25).collect();
            let shift: Vec<f64> = (0..n).map(|j| j as f64 * 0.3 - 1.0).collect();
            let run = || {
                let mut g = Gram::new(n);
                g.add_rows(&x, &y, None);
                let mut h = Gram::new(n);
                h.add_rows_shifted(&x, &shift, &y, Some(&w));
                (entries(&g), entries(&h), dot_all(&x, &x[1..]).to_bits())
            };
            let builds = available_builds();
            let results: Vec<_> = builds
                .iter()
                .map(|&b| {
                    force_build(b);
                    let r = run();
                    force_build(Build::Avx512);
                    r
                })
                .collect();
            for (b, r) in builds.iter().zip(&results) {
                assert_eq!(
                    r, &results[0],
                    "n={n}: {b:?} differs from the baseline build"
                );
            }
        }
    }

    /// The rows read in place (unshifted, unweighted) and the packed tile (shifted by 0,
    /// to the bit the same rows) give the same bits, including the data's last tile
    /// (packed either way: no reading past the rows).
    #[test]
    fn in_place_and_packed_rows_agree_bitwise() {
        for n in [1, 5, 8, 13, 20, 24, 29] {
            let rows = 3 * TILE + 7;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.913).cos() * 7.0)
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.29).sin()).collect();
            let mut a = Gram::new(n);
            a.add_rows(&x, &y, None);
            let mut b = Gram::new(n);
            b.add_rows_shifted(&x, &vec![0.0; n], &y, None);
            assert_eq!(entries(&a), entries(&b), "n={n}");
        }
    }

    /// The blocks of every plan cover each entry of the upper triangle exactly once and
    /// fit in the matrix's row stride.
    #[test]
    fn gram_plan_covers_the_triangle_once() {
        for n in 1usize..60 {
            for (vmax, acc) in [(3, 24), (1, 4)] {
                let width = (n + 7).div_ceil(8) * 8;
                let mut seen = vec![0u32; n * width];
                for b in gram_plan(n, vmax, acc) {
                    assert!(b.h * b.v <= acc && b.v <= vmax && b.h <= 8, "{b:?}");
                    assert!(b.c + 8 * b.v <= width && b.g + b.h <= n, "n={n}: {b:?}");
                    for i in b.g..b.g + b.h {
                        for j in b.c..b.c + 8 * b.v {
                            seen[i * width + j] += 1;
                        }
                    }
                }
                for i in 0..n {
                    for j in i..n {
                        assert_eq!(seen[i * width + j], 1, "n={n} ({i},{j})");
                    }
                }
            }
        }
    }

    /// Every entry equals the plain row-by-row sum up to rounding and is, to the bit, the
    /// sum over each tile of its rows in order, tiles added in order (the order that makes the sums independent of the thread count and
    /// of the build), with and without weights, for feature counts around the 8-column
    /// blocks that are read in place.
    #[test]
    fn gram_sums_rows_in_tile_order_bitwise() {
        for n in [1, 7, 8, 9, 15, 16, 17, 20, 29, 41] {
            let rows = 2 * TILE + 13;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.377).sin() * 10.0)
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.91).cos()).collect();
            let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 5) as f64 * 0.3).collect();
            let shift: Vec<f64> = (0..n).map(|j| 0.25 * j as f64 - 1.5).collect();
            for (weights, shifted) in [
                (None, false),
                (Some(&w[..]), false),
                (None, true),
                (Some(&w[..]), true),
            ] {
                let mut g = Gram::new(n);
                if shifted {
                    g.add_rows_shifted(&x, &shift, &y, weights);
                } else {
                    g.add_rows(&x, &y, weights);
                }
                let x: Vec<f64> = if shifted {
                    x.iter()
                        .enumerate()
                        .map(|(k, v)| v - shift[k % n])
                        .collect()
                } else {
                    x.clone()
                };
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

/// Whether the [`multiversion!`] functions run a build with FMA instructions (the AVX2 or
/// the AVX-512 one): for kernels that move exact work (`x − c` as `fma(c, −1, x)`) from
/// the adders to the FMA units, which only pays where `mul_add` is one instruction.
#[inline]
pub(crate) fn has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    return widest_build() >= Build::Avx2
        && std::is_x86_feature_detected!("avx2")
        && std::is_x86_feature_detected!("fma");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// What [`class_sums`] checks each value for; each check's term is 0 exactly when the
/// value passes, and terms never cancel (all of one sign, or NaN), so their sum is 0
/// exactly when every value passes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueCheck {
    /// No check (the term is 0).
    None,
    /// Finite and `>= 0`: `v·0 + (v − |v|)` (NaN and ±∞ give NaN, negatives a negative).
    NonNegative,
    /// 0 or 1: `|v·(v − 1)|`.
    Binary,
    /// Finite: `v·0`.
    Finite,
}

impl ValueCheck {
    /// The check's term for one value: 0 exactly when `v` passes.
    #[inline]
    pub(crate) fn term(self, v: f64) -> f64 {
        match self {
            ValueCheck::None => check_term::<0>(v),
            ValueCheck::NonNegative => check_term::<1>(v),
            ValueCheck::Binary => check_term::<2>(v),
            ValueCheck::Finite => check_term::<3>(v),
        }
    }
}

/// [`ValueCheck::term`] with the check as a constant (0 to 3 in declaration order).
#[inline(always)]
fn check_term<const K: u8>(v: f64) -> f64 {
    match K {
        0 => 0.0,
        1 => v * 0.0 + (v - v.abs()),
        2 => (v * (v - 1.0)).abs(),
        _ => v * 0.0,
    }
}

/// The rows of a block grouped by class, each class's rows in row order (a stable
/// counting sort): class `c`'s rows are `order[start[c]..start[c + 1]]`. `cls[i]` is row
/// `i`'s class (below `classes`); `order` holds `cls.len()` rows, `start` `classes + 1`
/// offsets; `next` is scratch of `classes` values.
#[inline(always)]
pub(crate) fn group_rows(
    cls: &[u32],
    classes: usize,
    order: &mut [u32],
    start: &mut [usize],
    next: &mut [usize],
) {
    start[..classes + 1].fill(0);
    for &c in cls {
        start[c as usize + 1] += 1;
    }
    for c in 0..classes {
        start[c + 1] += start[c];
    }
    next[..classes].copy_from_slice(&start[..classes]);
    for (i, &c) in cls.iter().enumerate() {
        order[next[c as usize]] = i as u32;
        next[c as usize] += 1;
    }
}

/// Lanes per accumulator register of [`class_sums`] (one AVX-512 register of f64).
const SUM_LANES: usize = 8;

/// Adds the `rows` of `x` (row-major, `n` values per row; `rows` ascending) to `sums`
/// (`n` values): per feature, in row order, `s += a_r·x` with `a_r = scale[r]` (or `s += x`
/// without a scale, the same bits as `1.0·x`), and when `squares` also `q += (a_r·x)·x`
/// into `m2`. Returns a sum of [`ValueCheck`] terms: not 0 when a value of the rows fails;
/// 0 when every value of `x` passes (the lanes past a row's last feature read the next
/// row's values: callers pass each row of `x` to some class, so those are checked anyway).
///
/// Each sum is bit for bit the plain row loop's (`for r in rows { for j { s[j] += a·x } }`),
/// but the sums of up to 32 features at a time stay in registers across the rows, so no
/// row waits on the store of the previous one: the kernel behind the per-class sums of a
/// statistics pass whose rows were grouped by class ([`group_rows`]). Call it from a
/// [`multiversion!`] function (it is always inlined).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn class_sums(
    x: &[f64],
    n: usize,
    rows: &[u32],
    scale: Option<&[f64]>,
    check: ValueCheck,
    squares: bool,
    sums: &mut [f64],
    m2: &mut [f64],
) -> f64 {
    macro_rules! by_check {
        ($sq:literal, $wt:literal, $w:expr) => {
            match check {
                ValueCheck::None => feature_groups::<0, $sq, $wt>(x, n, rows, $w, sums, m2),
                ValueCheck::NonNegative => feature_groups::<1, $sq, $wt>(x, n, rows, $w, sums, m2),
                ValueCheck::Binary => feature_groups::<2, $sq, $wt>(x, n, rows, $w, sums, m2),
                ValueCheck::Finite => feature_groups::<3, $sq, $wt>(x, n, rows, $w, sums, m2),
            }
        };
    }
    match (squares, scale) {
        (false, None) => by_check!(false, false, &[]),
        (false, Some(w)) => by_check!(false, true, w),
        (true, None) => by_check!(true, false, &[]),
        (true, Some(w)) => by_check!(true, true, w),
    }
}

/// [`class_sums`] a group of up to 32 features at a time.
#[inline(always)]
fn feature_groups<const K: u8, const SQ: bool, const WT: bool>(
    x: &[f64],
    n: usize,
    rows: &[u32],
    w: &[f64],
    sums: &mut [f64],
    m2: &mut [f64],
) -> f64 {
    let mut chk = 0.0;
    let mut j0 = 0;
    while j0 < n {
        let g = (n - j0).min(4 * SUM_LANES);
        chk += match g.div_ceil(SUM_LANES) {
            1 => group_sums::<1, K, SQ, WT>(x, n, j0, g, rows, w, sums, m2),
            2 => group_sums::<2, K, SQ, WT>(x, n, j0, g, rows, w, sums, m2),
            3 => group_sums::<3, K, SQ, WT>(x, n, j0, g, rows, w, sums, m2),
            _ => group_sums::<4, K, SQ, WT>(x, n, j0, g, rows, w, sums, m2),
        };
        j0 += g;
    }
    chk
}

/// Features `j0..j0 + g` (`g <= CH·8`) of [`class_sums`], the sums in `CH` registers of 8
/// lanes across the rows. Each row's `CH·8` values are read straight from `x`: lanes past
/// `g` hold the next row's values, summed into lanes that are dropped (and checked, which
/// is harmless: they are checked as their own row's values too); a row too close to the
/// end of `x` goes through a zero-padded copy.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn group_sums<const CH: usize, const K: u8, const SQ: bool, const WT: bool>(
    x: &[f64],
    n: usize,
    j0: usize,
    g: usize,
    rows: &[u32],
    w: &[f64],
    sums: &mut [f64],
    m2: &mut [f64],
) -> f64 {
    const L: usize = SUM_LANES;
    // The sums so far into registers, through fixed-size copies (constant indices keep
    // the accumulators in registers; lanes past `g` start at 0 and are dropped).
    let regs = |from: &[f64]| -> [[f64; L]; CH] {
        let mut init = [0.0f64; 4 * L];
        init[..g].copy_from_slice(&from[j0..j0 + g]);
        let mut r = [[0.0f64; L]; CH];
        for (i, ri) in r.iter_mut().enumerate() {
            ri.copy_from_slice(&init[i * L..(i + 1) * L]);
        }
        r
    };
    let mut s = regs(sums);
    let mut q = if SQ { regs(m2) } else { [[0.0f64; L]; CH] };
    let mut k = [0.0f64; L];
    let width = CH * L;
    // `rows` ascend: those whose `width` values from `j0` lie inside `x` come first.
    let fits = rows.partition_point(|&r| r as usize * n + j0 + width <= x.len());
    for &r in &rows[..fits] {
        let b = r as usize * n + j0;
        let a = if WT { w[r as usize] } else { 1.0 };
        add_row::<CH, K, SQ, WT>(&x[b..b + width], a, &mut s, &mut q, &mut k);
    }
    for &r in &rows[fits..] {
        let b = r as usize * n + j0;
        let mut pad = [0.0f64; 4 * L];
        pad[..g].copy_from_slice(&x[b..b + g]);
        let a = if WT { w[r as usize] } else { 1.0 };
        add_row::<CH, K, SQ, WT>(&pad[..width], a, &mut s, &mut q, &mut k);
    }
    let store = |regs: &[[f64; L]; CH], to: &mut [f64]| {
        let mut out = [0.0f64; 4 * L];
        for i in 0..CH {
            out[i * L..(i + 1) * L].copy_from_slice(&regs[i]);
        }
        to[j0..j0 + g].copy_from_slice(&out[..g]);
    };
    store(&s, sums);
    if SQ {
        store(&q, m2);
    }
    k.iter().fold(0.0, |a, b| a + b)
}

/// One row's `CH·8` values `v` (scale `a`) added to [`group_sums`]' registers: `s += a·v`,
/// `q += (a·v)·v` when `SQ`, and the row's check terms into `k`. (A function, not a
/// closure: it must be inlined into the caller's SIMD build.)
#[inline(always)]
fn add_row<const CH: usize, const K: u8, const SQ: bool, const WT: bool>(
    v: &[f64],
    a: f64,
    s: &mut [[f64; SUM_LANES]; CH],
    q: &mut [[f64; SUM_LANES]; CH],
    k: &mut [f64; SUM_LANES],
) {
    const L: usize = SUM_LANES;
    let v = &v[..CH * L];
    let mut kr = [0.0f64; L];
    for i in 0..CH {
        for l in 0..L {
            let xv = v[i * L + l];
            let p = if WT { a * xv } else { xv };
            s[i][l] += p;
            if SQ {
                q[i][l] += p * xv;
            }
            kr[l] += check_term::<K>(xv);
        }
    }
    if K != 0 {
        for l in 0..L {
            k[l] += kr[l];
        }
    }
}

#[cfg(test)]
mod class_sums_tests {
    use super::*;

    multiversion! {
        /// [`class_sums`] in each build, for the test below.
        fn sums_of(x: &[f64], n: usize, rows: &[u32], scale: Option<&[f64]>, check: ValueCheck, squares: bool, sums: &mut [f64], m2: &mut [f64]) -> f64 {
            class_sums(x, n, rows, scale, check, squares, sums, m2)
        }
    }

    /// `class_sums` is, to the bit, the plain row loop (`s += a·x`, `q += (a·x)·x` per
    /// feature in row order, from the sums passed in), on every build, for widths around
    /// the 8-lane registers and the 32-feature groups, the last row read through the padded
    /// copy; and its check sum is 0 exactly when every value of the rows passes.
    #[test]
    fn class_sums_is_the_plain_row_loop_bitwise() {
        for n in [1, 5, 8, 13, 20, 32, 33, 70] {
            let rows = 37;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.7311).sin() * 3.0 + 1.0 / (1.0 + i as f64))
                .collect();
            let a: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 7) as f64 * 0.3).collect();
            // Every third row and the last one: the padded copy is used.
            let picked: Vec<u32> = (0..rows as u32)
                .filter(|r| r % 3 == 1 || *r == 36)
                .collect();
            let start: Vec<f64> = (0..n).map(|j| j as f64 * 0.125).collect();
            for scaled in [false, true] {
                for squares in [false, true] {
                    let (mut s, mut q) = (start.clone(), start.clone());
                    for &r in &picked {
                        let r = r as usize;
                        for j in 0..n {
                            let v = x[r * n + j];
                            let p = if scaled { a[r] * v } else { v };
                            s[j] += p;
                            q[j] += p * v;
                        }
                    }
                    for b in available_builds() {
                        force_build(b);
                        let (mut gs, mut gq) = (start.clone(), start.clone());
                        let m2: &mut [f64] = if squares { &mut gq } else { &mut [] };
                        let chk = sums_of(
                            &x,
                            n,
                            &picked,
                            scaled.then_some(&a[..]),
                            ValueCheck::Finite,
                            squares,
                            &mut gs,
                            m2,
                        );
                        force_build(Build::Avx512);
                        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
                        let at = format!("n {n} scaled {scaled} squares {squares} {b:?}");
                        assert_eq!(bits(&gs), bits(&s), "{at}");
                        if squares {
                            assert_eq!(bits(&gq), bits(&q), "{at}");
                        }
                        assert_eq!(chk, 0.0, "{at}");
                    }
                }
            }
            // A failing value in one of the rows is caught. (Values of rows not passed may
            // be read into dropped lanes and counted too: callers pass every row of `x`
            // to some class, so that never flags a passing block.)
            let mut bad = x.clone();
            bad[picked[1] as usize * n + n - 1] = -2.0;
            for check in [
                ValueCheck::NonNegative,
                ValueCheck::Binary,
                ValueCheck::Finite,
            ] {
                let mut s = vec![0.0; n];
                let chk = sums_of(&bad, n, &picked, None, check, false, &mut s, &mut []);
                let any = picked.iter().any(|&r| {
                    bad[r as usize * n..(r as usize + 1) * n]
                        .iter()
                        .any(|v| check.term(*v) != 0.0)
                });
                assert_eq!(chk != 0.0, any, "n {n} {check:?}");
            }
        }
    }
}
