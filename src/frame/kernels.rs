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
            #[allow(clippy::too_many_arguments)]
            fn portable($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma")]
            #[allow(clippy::too_many_arguments)]
            fn avx2($($arg: $ty),*) $(-> $ret)? {
                portable($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2,fma,avx512f,avx512bw")]
            #[allow(clippy::too_many_arguments)]
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

/// `run()` once in each build this CPU can run ([`available_builds`], narrowest first), the
/// widest restored after each: what a test that compares the builds' bits collects.
#[cfg(test)]
pub(crate) fn in_each_build<T>(mut run: impl FnMut() -> T) -> Vec<(Build, T)> {
    available_builds()
        .into_iter()
        .map(|b| {
            force_build(b);
            let r = run();
            force_build(Build::Avx512);
            (b, r)
        })
        .collect()
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

/// `out[t] = a · x_t + offset` for the row-major rows `x_t` of `xs` (`a.len()` values
/// each), every dot product summed exactly as [`dot`] sums it: the same bits as
/// `dot(a, x_t) + offset`, four rows at a time. (The compiler vectorises a loop of `dot`
/// across the rows' lanes with shuffles; the AVX2 build spells out the four-lane sums.)
pub(crate) fn dot_rows(a: &[f64], xs: &[f64], offset: f64, out: &mut [f64]) {
    let n = a.len();
    if n == 0 {
        out.fill(0.0 + offset);
        return;
    }
    #[cfg(target_arch = "x86_64")]
    if widest_build() >= Build::Avx2 && std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2.
        unsafe { dot_rows_avx2(a, xs, offset, out) };
        return;
    }
    for (x, o) in xs.chunks_exact(n).zip(out) {
        *o = dot(a, x) + offset;
    }
}

/// [`dot_rows`] with AVX2: four rows' four-lane sums in four registers, one load of `a`
/// per step shared by the rows, then `(s₀ + s₁) + (s₂ + s₃)` for the four rows at once
/// (`hadd` gives each row's `s₀ + s₁` and `s₂ + s₃`), then each row's tail in order.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn dot_rows_avx2(a: &[f64], xs: &[f64], offset: f64, out: &mut [f64]) {
    use std::arch::x86_64::*;
    let n = a.len();
    let n4 = n / 4 * 4;
    let mut quads = xs.chunks_exact(4 * n);
    let mut outs = out.chunks_exact_mut(4);
    for (x4, o4) in (&mut quads).zip(&mut outs) {
        let (pa, px) = (a.as_ptr(), x4.as_ptr());
        let mut acc = [_mm256_setzero_pd(); 4];
        let mut i = 0;
        while i < n4 {
            // SAFETY: i + 4 ≤ n4 ≤ n, so a[i..i + 4] and row r's x4[r·n + i..][..4] are in
            // bounds (x4 holds 4 rows of n).
            unsafe {
                let av = _mm256_loadu_pd(pa.add(i));
                for (r, s) in acc.iter_mut().enumerate() {
                    let xv = _mm256_loadu_pd(px.add(r * n + i));
                    *s = _mm256_add_pd(*s, _mm256_mul_pd(av, xv));
                }
            }
            i += 4;
        }
        // [r0: s0+s1, r1: s0+s1, r0: s2+s3, r1: s2+s3] and the same for rows 2 and 3.
        let h01 = _mm256_hadd_pd(acc[0], acc[1]);
        let h23 = _mm256_hadd_pd(acc[2], acc[3]);
        let low = _mm256_permute2f128_pd::<0x20>(h01, h23);
        let high = _mm256_permute2f128_pd::<0x31>(h01, h23);
        let mut s = [0.0f64; 4];
        // SAFETY: `s` holds 4 values.
        unsafe { _mm256_storeu_pd(s.as_mut_ptr(), _mm256_add_pd(low, high)) };
        for (r, (s, o)) in s.iter_mut().zip(o4).enumerate() {
            for (av, xv) in a[n4..].iter().zip(&x4[r * n + n4..(r + 1) * n]) {
                *s += av * xv;
            }
            *o = *s + offset;
        }
    }
    for (x, o) in quads.remainder().chunks_exact(n).zip(outs.into_remainder()) {
        *o = dot(a, x) + offset;
    }
}

/// `grad[j0..j0 + 4W] += Σ_t mult[t] · x_t[j0..j0 + 4W]`, rows in order, the `4W` sums
/// held in registers across the rows (each sum is added to exactly as `grad[j] += m·x`
/// row after row adds to it).
#[inline(always)]
fn add_scaled_columns<const W: usize>(grad: &mut [f64], mult: &[f64], xs: &[f64], j0: usize) {
    let n = grad.len();
    let g = &mut grad[j0..j0 + 4 * W];
    let mut acc = [[0.0f64; 4]; W];
    for (a, g) in acc.iter_mut().zip(g.chunks_exact(4)) {
        a.copy_from_slice(g);
    }
    for (mt, x) in mult.iter().zip(xs.chunks_exact(n)) {
        for (a, x) in acc.iter_mut().zip(x[j0..j0 + 4 * W].chunks_exact(4)) {
            for l in 0..4 {
                a[l] += mt * x[l];
            }
        }
    }
    for (a, g) in acc.iter().zip(g.chunks_exact_mut(4)) {
        g.copy_from_slice(a);
    }
}

multiversion! {
    /// `grad += Σ_t mult[t] · x_t` over the row-major rows `x_t` of `xs` (`grad.len()`
    /// values each), rows in order: the same bits as `grad[j] += mult[t] * x_t[j]` row
    /// after row, with up to 32 columns' sums held in registers over the rows (meant for
    /// a chunk of rows that stays in L1), the last `n mod 4` columns one by one.
    pub(crate) fn add_scaled_rows(grad: &mut [f64], mult: &[f64], xs: &[f64]) {
        let n = grad.len();
        if n == 0 {
            return;
        }
        let mut j0 = 0;
        while n - j0 >= 4 {
            let w = ((n - j0) / 4).min(8);
            match w {
                1 => add_scaled_columns::<1>(grad, mult, xs, j0),
                2 => add_scaled_columns::<2>(grad, mult, xs, j0),
                3 => add_scaled_columns::<3>(grad, mult, xs, j0),
                4 => add_scaled_columns::<4>(grad, mult, xs, j0),
                5 => add_scaled_columns::<5>(grad, mult, xs, j0),
                6 => add_scaled_columns::<6>(grad, mult, xs, j0),
                7 => add_scaled_columns::<7>(grad, mult, xs, j0),
                _ => add_scaled_columns::<8>(grad, mult, xs, j0),
            }
            j0 += 4 * w;
        }
        for j in j0..n {
            let mut g = grad[j];
            for (mt, x) in mult.iter().zip(xs.chunks_exact(n)) {
                g += mt * x[j];
            }
            grad[j] = g;
        }
    }
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

/// Which per-feature sums [`Moments::add_rows`] accumulates (each costs a few vector
/// operations per row; what is not asked for is not computed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct MomentSums {
    /// `Σ w·d` (`d = x − shift`).
    pub sum: bool,
    /// `Σ w·d²`.
    pub sq: bool,
    /// The minimum and maximum of `x`.
    pub extremes: bool,
    /// The number of non-zero `x`.
    pub nonzeros: bool,
    /// `Σ w·|x|`.
    pub l1: bool,
    /// `Σ w·x²`.
    pub l2: bool,
    /// `Σ w·d·t` for a per-row factor `t` (a centred label).
    pub cross: bool,
    /// `Σ w·d` per class of the row (one vector of sums per class).
    pub classes: bool,
}

/// Per-feature sums over dense rows, each feature in a lane of eight-wide vectors
/// (shared by Summarizer and the ANOVA and F-regression tests): for rows of weight
/// `w > 0` (every row when unweighted) and `d = x − shift`, the sums [`MomentSums`] asks
/// for. Every sum runs over the rows in order, each [`Moments::add_rows`] call continuing
/// where the last one stopped, so that the same rows added in the same calls give the
/// same bits on any machine, build and thread count; blocks of rows merge with
/// [`Moments::merge`] in a fixed order. Lanes from `n` on hold nothing meaningful.
#[derive(Clone, Debug)]
pub(crate) struct Moments {
    n: usize,
    what: MomentSums,
    /// Rows counted (weight `> 0`).
    pub count: u64,
    /// `Σ w` and `Σ w²` over the counted rows, in row order.
    pub weight_sum: f64,
    pub weight_sq_sum: f64,
    pub sum: Vec<f64>,
    pub sq: Vec<f64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    /// Non-zero counts (exact: whole numbers below 2^53).
    pub nonzeros: Vec<f64>,
    pub l1: Vec<f64>,
    pub l2: Vec<f64>,
    pub cross: Vec<f64>,
    /// `classes × n8` sums, class after class.
    pub classes: Vec<f64>,
}

/// Rows per sweep of [`Moments::add_rows`]: each group of 24 features sweeps a block of
/// this many rows (40 KB of 20 features), which stays in the L1 cache for the next group.
const MOMENT_ROWS: usize = 256;

impl Moments {
    /// No rows yet, for `n` features (and `classes` classes when [`MomentSums::classes`]).
    pub(crate) fn new(n: usize, what: MomentSums, classes: usize) -> Self {
        let n8 = n.div_ceil(8) * 8;
        let v = |on: bool, fill: f64| if on { vec![fill; n8] } else { Vec::new() };
        Self {
            n,
            what,
            count: 0,
            weight_sum: 0.0,
            weight_sq_sum: 0.0,
            sum: v(what.sum, 0.0),
            sq: v(what.sq, 0.0),
            min: v(what.extremes, f64::INFINITY),
            max: v(what.extremes, f64::NEG_INFINITY),
            nonzeros: v(what.nonzeros, 0.0),
            l1: v(what.l1, 0.0),
            l2: v(what.l2, 0.0),
            cross: v(what.cross, 0.0),
            classes: if what.classes {
                vec![0.0; classes * n8]
            } else {
                Vec::new()
            },
        }
    }

    /// Adds rows `x` (row-major, `n` values each) shifted by `shift` (`n` values), with
    /// weights `w` (1 when `None`; rows of weight `<= 0` are left out), per-row factors `t`
    /// for [`MomentSums::cross`] and per-row classes for [`MomentSums::classes`]. Returns
    /// whether every value of `x` (of every row, whatever its weight) is finite: when not,
    /// the sums hold NaN or ±∞ and the caller looks for the bad row.
    pub(crate) fn add_rows(
        &mut self,
        x: &[f64],
        shift: &[f64],
        w: Option<&[f64]>,
        t: Option<&[f64]>,
        class: Option<&[u32]>,
    ) -> bool {
        let n = self.n;
        if n == 0 {
            return true;
        }
        let rows = x.len() / n;
        match w {
            None => {
                self.count += rows as u64;
                // Σ 1 row by row: exact below 2^53 rows.
                self.weight_sum += rows as f64;
                self.weight_sq_sum += rows as f64;
            }
            Some(w) => {
                for &w in &w[..rows] {
                    if w > 0.0 {
                        self.count += 1;
                        self.weight_sum += w;
                        self.weight_sq_sum += w * w;
                    }
                }
            }
        }
        let n8 = n.div_ceil(8) * 8;
        let mut shift8 = shift[..n].to_vec();
        shift8.resize(n8, 0.0);
        let mut finite = true;
        let mut r0 = 0;
        while r0 < rows {
            let r1 = (r0 + MOMENT_ROWS).min(rows);
            let mut j = 0;
            while j < n8 {
                let e = ((n8 - j) / 8).min(3);
                let args = LaneArgs {
                    x: &x[r0 * n..],
                    n,
                    j,
                    rows: r1 - r0,
                    shift: &shift8[j..],
                    w: w.map(|w| &w[r0..r1]),
                    t: t.map(|t| &t[r0..r1]),
                    class: class.map(|c| &c[r0..r1]),
                    what: self.what,
                };
                let acc = LaneAcc {
                    sum: self.sum.get_mut(j..).unwrap_or_default(),
                    sq: self.sq.get_mut(j..).unwrap_or_default(),
                    min: self.min.get_mut(j..).unwrap_or_default(),
                    max: self.max.get_mut(j..).unwrap_or_default(),
                    nonzeros: self.nonzeros.get_mut(j..).unwrap_or_default(),
                    l1: self.l1.get_mut(j..).unwrap_or_default(),
                    l2: self.l2.get_mut(j..).unwrap_or_default(),
                    cross: self.cross.get_mut(j..).unwrap_or_default(),
                    classes: &mut self.classes,
                    n8,
                };
                finite &= match (e, w.is_some()) {
                    (3, false) => lanes3(args, acc),
                    (2, false) => lanes2(args, acc),
                    (1, false) => lanes1(args, acc),
                    (3, true) => lanes3w(args, acc),
                    (2, true) => lanes2w(args, acc),
                    _ => lanes1w(args, acc),
                };
                j += 8 * e;
            }
            r0 = r1;
        }
        finite
    }

    /// Adds another block's sums (of the same features and sums).
    pub(crate) fn merge(&mut self, o: &Moments) {
        self.count += o.count;
        self.weight_sum += o.weight_sum;
        self.weight_sq_sum += o.weight_sq_sum;
        let add = |a: &mut Vec<f64>, b: &Vec<f64>| {
            for (a, b) in a.iter_mut().zip(b) {
                *a += b;
            }
        };
        add(&mut self.sum, &o.sum);
        add(&mut self.sq, &o.sq);
        add(&mut self.nonzeros, &o.nonzeros);
        add(&mut self.l1, &o.l1);
        add(&mut self.l2, &o.l2);
        add(&mut self.cross, &o.cross);
        add(&mut self.classes, &o.classes);
        for (a, b) in self.min.iter_mut().zip(&o.min) {
            *a = a.min(*b);
        }
        for (a, b) in self.max.iter_mut().zip(&o.max) {
            *a = a.max(*b);
        }
    }
}

/// The rows one group of lanes sweeps (see [`Moments::add_rows`]).
#[derive(Clone, Copy)]
struct LaneArgs<'a> {
    /// From the block's first row on (rows read in place, up to `8·E` values from `j`).
    x: &'a [f64],
    n: usize,
    j: usize,
    rows: usize,
    shift: &'a [f64],
    w: Option<&'a [f64]>,
    t: Option<&'a [f64]>,
    class: Option<&'a [u32]>,
    what: MomentSums,
}

/// The sums one group of lanes adds to (each from the group's first feature on; empty
/// when not asked for); `classes` whole, `n8` values a class.
struct LaneAcc<'a> {
    sum: &'a mut [f64],
    sq: &'a mut [f64],
    min: &'a mut [f64],
    max: &'a mut [f64],
    nonzeros: &'a mut [f64],
    l1: &'a mut [f64],
    l2: &'a mut [f64],
    cross: &'a mut [f64],
    classes: &'a mut [f64],
    n8: usize,
}

macro_rules! moment_kernels {
    ($($name:ident = <$e:literal, $w:literal>),* $(,)?) => {$(
        multiversion! {
            fn $name(args: LaneArgs<'_>, acc: LaneAcc<'_>) -> bool {
                moment_lanes::<$e, $w>(args, acc)
            }
        }
    )*};
}
moment_kernels!(
    lanes1 = <1, false>,
    lanes2 = <2, false>,
    lanes3 = <3, false>,
    lanes1w = <1, true>,
    lanes2w = <2, true>,
    lanes3w = <3, true>,
);

/// Eight-lane vectors of `E` eights of features.
type Lanes<const E: usize> = [[f64; 8]; E];

/// One sweep of [`moment_lanes`] over a block of rows: its own few sums, held in registers.
trait LaneSweep<const E: usize> {
    /// Adds row `r` (`x`, its weight `w`) to the sums.
    fn row(&mut self, x: &Lanes<E>, w: f64, r: usize);
}

/// Loads `E` eights from `v` (zeros when `v` is empty: a sum not asked for).
#[inline(always)]
fn load_lanes<const E: usize>(v: &[f64]) -> Lanes<E> {
    if v.is_empty() {
        [[0.0; 8]; E]
    } else {
        std::array::from_fn(|e| v[8 * e..8 * e + 8].try_into().expect("8 values"))
    }
}

/// Stores `E` eights into `dst` (nothing when it is empty).
#[inline(always)]
#[allow(clippy::needless_range_loop)] // lanes of parallel arrays
fn store_lanes<const E: usize>(dst: &mut [f64], v: &Lanes<E>) {
    if !dst.is_empty() {
        for e in 0..E {
            dst[8 * e..8 * e + 8].copy_from_slice(&v[e]);
        }
    }
}

/// Runs `k` over the block's rows in order: rows whose `8·E` values from `j` lie inside
/// `x` are read in place, the last ones (at most three) from a copy padded with zeros;
/// with `W`, rows of weight `<= 0` are skipped unless `all_rows`.
#[inline(always)]
fn sweep_rows<const E: usize, const W: bool, K: LaneSweep<E>>(
    args: &LaneArgs<'_>,
    all_rows: bool,
    k: &mut K,
) {
    let LaneArgs {
        x, n, j, rows, w, ..
    } = *args;
    let inside = if x.len() >= j + 8 * E {
        ((x.len() - j - 8 * E) / n + 1).min(rows)
    } else {
        0
    };
    let weight = |r: usize| if W { w.map_or(1.0, |w| w[r]) } else { 1.0 };
    for r in 0..inside {
        let wr = weight(r);
        if W && !all_rows && wr <= 0.0 {
            continue;
        }
        let o = r * n + j;
        let xr: Lanes<E> =
            std::array::from_fn(|e| x[o + 8 * e..o + 8 * e + 8].try_into().expect("8 values"));
        k.row(&xr, wr, r);
    }
    for r in inside..rows {
        let wr = weight(r);
        if W && !all_rows && wr <= 0.0 {
            continue;
        }
        let o = r * n + j;
        let mut xr: Lanes<E> = [[0.0; 8]; E];
        for (k, v) in x[o..(o + 8 * E).min(x.len())].iter().enumerate() {
            xr[k / 8][k % 8] = *v;
        }
        k.row(&xr, wr, r);
    }
}

/// The finiteness check over every row: `x − x` is `+0.0` (all bits 0) for a finite `x`
/// and NaN otherwise; the bits are OR-ed (a one-cycle chain from row to row, where a
/// floating-point sum would make every row wait for the previous row's add).
struct BadSweep<const E: usize> {
    bad: [[u64; 8]; E],
}

#[allow(clippy::needless_range_loop)] // lanes of parallel arrays
impl<const E: usize> LaneSweep<E> for BadSweep<E> {
    #[inline(always)]
    fn row(&mut self, x: &Lanes<E>, _w: f64, _r: usize) {
        for e in 0..E {
            for l in 0..8 {
                #[allow(clippy::eq_op)] // x − x: 0 for a finite x, NaN otherwise
                {
                    self.bad[e][l] |= (x[e][l] - x[e][l]).to_bits();
                }
            }
        }
    }
}

/// `Σ w·d`, `Σ w·d²`, the minimum and maximum.
struct MomentSweep<const E: usize, const W: bool> {
    s: Lanes<E>,
    sum: Lanes<E>,
    sq: Lanes<E>,
    min: Lanes<E>,
    max: Lanes<E>,
    what: MomentSums,
}

#[allow(clippy::needless_range_loop)] // lanes of parallel arrays
impl<const E: usize, const W: bool> LaneSweep<E> for MomentSweep<E, W> {
    #[inline(always)]
    fn row(&mut self, x: &Lanes<E>, w: f64, _r: usize) {
        if self.what.sum || self.what.sq {
            for e in 0..E {
                for l in 0..8 {
                    let d = x[e][l] - self.s[e][l];
                    let wd = if W { w * d } else { d };
                    self.sum[e][l] += wd;
                    self.sq[e][l] += wd * d;
                }
            }
        }
        if self.what.extremes {
            for e in 0..E {
                for l in 0..8 {
                    let v = x[e][l];
                    self.min[e][l] = if v < self.min[e][l] {
                        v
                    } else {
                        self.min[e][l]
                    };
                    self.max[e][l] = if v > self.max[e][l] {
                        v
                    } else {
                        self.max[e][l]
                    };
                }
            }
        }
    }
}

/// The non-zero counts and the two norms.
struct NormSweep<const E: usize, const W: bool> {
    nz: Lanes<E>,
    l1: Lanes<E>,
    l2: Lanes<E>,
    what: MomentSums,
}

#[allow(clippy::needless_range_loop)] // lanes of parallel arrays
impl<const E: usize, const W: bool> LaneSweep<E> for NormSweep<E, W> {
    #[inline(always)]
    fn row(&mut self, x: &Lanes<E>, w: f64, _r: usize) {
        if self.what.nonzeros {
            for e in 0..E {
                for l in 0..8 {
                    self.nz[e][l] += if x[e][l] != 0.0 { 1.0 } else { 0.0 };
                }
            }
        }
        if self.what.l1 || self.what.l2 {
            for e in 0..E {
                for l in 0..8 {
                    let v = x[e][l];
                    let a = v.abs();
                    self.l1[e][l] += if W { w * a } else { a };
                    self.l2[e][l] += if W { w * v * v } else { v * v };
                }
            }
        }
    }
}

/// `Σ w·d·t` and `Σ w·d` per class.
struct CrossSweep<'a, const E: usize, const W: bool> {
    s: Lanes<E>,
    cross: Lanes<E>,
    t: Option<&'a [f64]>,
    class: Option<&'a [u32]>,
    classes: &'a mut [f64],
    /// Where feature `j`'s class sums start: class `c` at `c·n8 + j`.
    n8: usize,
    j: usize,
}

#[allow(clippy::needless_range_loop)] // lanes of parallel arrays
impl<const E: usize, const W: bool> LaneSweep<E> for CrossSweep<'_, E, W> {
    #[inline(always)]
    fn row(&mut self, x: &Lanes<E>, w: f64, r: usize) {
        let wd: Lanes<E> = std::array::from_fn(|e| {
            std::array::from_fn(|l| {
                let d = x[e][l] - self.s[e][l];
                if W {
                    w * d
                } else {
                    d
                }
            })
        });
        if let Some(t) = self.t {
            let tr = t[r];
            for e in 0..E {
                for l in 0..8 {
                    self.cross[e][l] += wd[e][l] * tr;
                }
            }
        }
        if let Some(c) = self.class {
            let k = c[r] as usize * self.n8 + self.j;
            if let Some(cs) = self.classes.get_mut(k..k + 8 * E) {
                for e in 0..E {
                    for l in 0..8 {
                        cs[8 * e + l] += wd[e][l];
                    }
                }
            }
        }
    }
}

/// [`Moments::add_rows`] over one group of `E` eights of features and one block of rows,
/// unweighted or weighted (`W`), in up to four sweeps of the block (it stays in the L1
/// cache), each holding few enough sums to keep them in registers: the finiteness check
/// over every row, the moments and extremes, the counts and norms, the cross and class
/// sums (a sweep whose sums are not asked for is skipped). Each sum is added to row by row
/// in order. Returns whether every value was finite.
#[inline(always)]
fn moment_lanes<const E: usize, const W: bool>(args: LaneArgs<'_>, acc: LaneAcc<'_>) -> bool {
    let what = args.what;
    let s: Lanes<E> = load_lanes(args.shift);
    let mut bad = BadSweep::<E> { bad: [[0; 8]; E] };
    sweep_rows::<E, W, _>(&args, true, &mut bad);
    if what.sum || what.sq || what.extremes {
        let mut m = MomentSweep::<E, W> {
            s,
            sum: load_lanes(acc.sum),
            sq: load_lanes(acc.sq),
            min: load_lanes(acc.min),
            max: load_lanes(acc.max),
            what,
        };
        sweep_rows::<E, W, _>(&args, false, &mut m);
        store_lanes(acc.sum, &m.sum);
        store_lanes(acc.sq, &m.sq);
        store_lanes(acc.min, &m.min);
        store_lanes(acc.max, &m.max);
    }
    if what.nonzeros || what.l1 || what.l2 {
        let mut m = NormSweep::<E, W> {
            nz: load_lanes(acc.nonzeros),
            l1: load_lanes(acc.l1),
            l2: load_lanes(acc.l2),
            what,
        };
        sweep_rows::<E, W, _>(&args, false, &mut m);
        store_lanes(acc.nonzeros, &m.nz);
        store_lanes(acc.l1, &m.l1);
        store_lanes(acc.l2, &m.l2);
    }
    if what.cross || what.classes {
        let mut m = CrossSweep::<E, W> {
            s,
            cross: load_lanes(acc.cross),
            t: args.t.filter(|_| what.cross),
            class: args.class.filter(|_| what.classes),
            classes: acc.classes,
            n8: acc.n8,
            j: args.j,
        };
        sweep_rows::<E, W, _>(&args, false, &mut m);
        store_lanes(acc.cross, &m.cross);
    }
    // Lanes past the features (`n` on) read other rows' values or the pads: not looked at.
    let lanes = args.n.saturating_sub(args.j).min(8 * E);
    (0..lanes).all(|k| bad.bad[k / 8][k % 8] == 0)
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
    /// Whether each product is added with one rounding (`f64::mul_add`, an FMA
    /// instruction where the build has one) instead of rounded and then added: see
    /// [`Gram::new_fused`].
    fused: bool,
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
            fused: false,
        }
    }

    /// [`Gram::new`] whose sums add each product `(w·z_i)·z_j` with one rounding
    /// (`f64::mul_add`) instead of two: the same tile-by-tile row order, the same bits on
    /// every build, machine and thread count, as accurate or more per step; and one
    /// instruction instead of two where the build has FMA, which about halves the work of
    /// the multiply units' sweep (LinearRegression's normal solver, whose pass is bound by
    /// them). On a CPU without FMA the baseline build computes each fused step in software,
    /// far slower.
    pub(crate) fn new_fused(n: usize) -> Self {
        Self {
            fused: true,
            ..Self::new(n)
        }
    }

    /// Adds rows `x` (row-major, `n` per row) with labels `y` and weights `w` (1 when
    /// `None`).
    pub(crate) fn add_rows(&mut self, x: &[f64], y: &[f64], w: Option<&[f64]>) {
        self.add(x, None, Some(y), w, y.len());
    }

    /// [`Gram::add_rows`] of the shifted rows `x − shift` (Correlation shifts by a
    /// provisional mean, so the centred sums lose no digits to cancellation).
    #[cfg(test)]
    pub(crate) fn add_rows_shifted(
        &mut self,
        x: &[f64],
        shift: &[f64],
        y: &[f64],
        w: Option<&[f64]>,
    ) {
        self.add(x, Some(shift), Some(y), w, y.len());
    }

    /// [`Gram::add_rows_shifted`] of rows without a label, unweighted (a covariance
    /// matrix's sums): the label's entries stay 0, every other entry is, to the bit, what
    /// [`Gram::add_rows_shifted`] gives with any finite labels.
    pub(crate) fn add_unlabelled_shifted(&mut self, x: &[f64], shift: &[f64]) {
        let rows = x.len().checked_div(self.n).unwrap_or(0);
        self.add(x, Some(shift), None, None, rows);
    }

    fn add(
        &mut self,
        x: &[f64],
        shift: Option<&[f64]>,
        y: Option<&[f64]>,
        w: Option<&[f64]>,
        rows: usize,
    ) {
        let sums = GramSums {
            fused: self.fused,
            n: self.n,
            width: self.width,
            xx: &mut self.xx,
            zy: &mut self.zy,
            z1: &mut self.z1,
        };
        gram_add(
            sums,
            RowsIn {
                x,
                shift,
                y,
                w,
                rows,
            },
        );
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
    fused: bool,
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
        // The AVX2 builds of the Gram blocks also use FMA (the fused sums).
        if has_fma() {
            return Build::Avx2;
        }
    }
    Build::Portable
}

/// The rows [`gram_add`] adds: features `x` (row-major, `rows` rows), optionally
/// shifted, labelled and weighted.
struct RowsIn<'a> {
    x: &'a [f64],
    shift: Option<&'a [f64]>,
    y: Option<&'a [f64]>,
    w: Option<&'a [f64]>,
    rows: usize,
}

/// How many tiles ahead of the one being summed [`gram_add`] fetches rows into the cache
/// (measured by CPU time per LinearRegression normal fit on this 2-core Zen 5 VM: none
/// 11.0 ms, 1 tile 6.8, 2 tiles 7.2, 3 tiles 7.3, 4 tiles 7.7; into L2 instead of L1 7.9;
/// 2 leaves room for slower memory).
const PREFETCH_TILES: usize = 2;

multiversion! {
    /// [`Gram::add_rows`], tile by tile. Each tile's rows are read where they lie when
    /// they are neither shifted nor weighted (row-major rows are contiguous: the blocks
    /// read them in place, their lanes past a row's end falling on entries never read),
    /// else first written into a small buffer `z = [x − shift, y, 1]` that stays in the
    /// L1 cache, with the left factors `w·z` beside it. Then the register blocks of
    /// [`gram_plan`] sweep the tile, each accumulating its `h × 8v` sums row by row, and
    /// add them to the matrix; the label and `1` columns are one more sweep (`Σ w·z·y`,
    /// `Σ w·z`: no multiplication by 1). Every sweep also asks for its share of the rows
    /// [`PREFETCH_TILES`] tiles ahead, one cache line a row, so that memory streams at an
    /// even pace while the blocks multiply. Every entry is therefore the sum over each
    /// tile of its rows in order, tiles added in order, whatever the build and the path.
    fn gram_add(sums: GramSums<'_>, rows_in: RowsIn<'_>) {
        let GramSums { fused, n, width, xx, zy, z1 } = sums;
        let RowsIn { x, shift, y, w, rows } = rows_in;
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
        // The sweeps of a tile: its blocks and the label sweep, each fetching a share of
        // the rows ahead.
        let sweeps = blocks.len() + 1;
        let mut start = 0;
        while start < rows {
            let len = TILE.min(rows - start);
            let yt = y.map(|y| &y[start..start + len]);
            let ahead_rows = (start + PREFETCH_TILES * TILE).min(rows)
                ..(start + (PREFETCH_TILES + 1) * TILE).min(rows);
            let ahead = Ahead::new(&x[ahead_rows.start * n..ahead_rows.end * n], sweeps, len);
            if in_place && (start + len - 1) * n + reach <= x.len() {
                let xt = &x[start * n..];
                for (k, b) in blocks.iter().enumerate() {
                    run_block((build, fused), xx, width, *b, (xt, xt, n, len), ahead.share(k));
                }
                label_sweep((build, fused), (zy, z1), n, (xt, n, len, yt), true, ahead.share(sweeps - 1));
            } else {
                if z.is_empty() {
                    z = vec![0.0f64; TILE * width];
                    wz = vec![0.0f64; if w.is_some() { TILE * width } else { 0 }];
                }
                if (start + len - 1) * n + n8 <= x.len() {
                    let xt = &x[start * n..];
                    match n8 / 8 {
                        1 => pack_rows::<1>(&mut z, width, xt, n, len, yt, &shift8),
                        2 => pack_rows::<2>(&mut z, width, xt, n, len, yt, &shift8),
                        3 => pack_rows::<3>(&mut z, width, xt, n, len, yt, &shift8),
                        _ => pack_rows_any(&mut z, width, xt, n, len, yt, &shift8),
                    }
                } else {
                    // The data's last rows: no reading past them.
                    let xt = &x[start * n..(start + len) * n];
                    for (r, (d, src)) in z.chunks_exact_mut(width).zip(xt.chunks_exact(n.max(1))).take(len).enumerate() {
                        shifted_row(&mut d[..n], src, &shift8[..n]);
                        d[n] = yt.map_or(0.0, |y| y[r]);
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
                    run_block((build, fused), xx, width, *b, (a, z, width, len), ahead.share(k));
                }
                label_sweep((build, fused), (zy, z1), n, (a, width, len, yt), false, ahead.share(sweeps - 1));
            }
            start += len;
        }
    }
}

/// The rows a tile's sweeps fetch into the cache ahead of their use, shared out between
/// the sweeps: each takes a run of whole cache lines and asks for [`Ahead::per_row`] of
/// them per row it sums.
#[derive(Clone, Copy)]
struct Ahead<'a> {
    x: &'a [f64],
    /// Values (eights: cache lines) per sweep.
    per_sweep: usize,
    /// Cache lines a sweep asks for per row.
    per_row: usize,
}

impl<'a> Ahead<'a> {
    fn new(x: &'a [f64], sweeps: usize, rows: usize) -> Self {
        let lines = x.len().div_ceil(8);
        let per_sweep_lines = lines.div_ceil(sweeps.max(1));
        Ahead {
            x,
            per_sweep: 8 * per_sweep_lines,
            per_row: per_sweep_lines.div_ceil(rows.max(1)),
        }
    }

    /// Sweep `k`'s share.
    fn share(self, k: usize) -> Fetch<'a> {
        let from = (k * self.per_sweep).min(self.x.len());
        let to = ((k + 1) * self.per_sweep).min(self.x.len());
        Fetch {
            x: &self.x[from..to],
            per_row: self.per_row,
        }
    }
}

/// One sweep's share of [`Ahead`]: `per_row` cache lines of `x` to ask for per row.
#[derive(Clone, Copy)]
struct Fetch<'a> {
    x: &'a [f64],
    per_row: usize,
}

impl Fetch<'_> {
    /// Asks for row `r`'s lines of the share (none once it is used up).
    #[inline(always)]
    fn row(&self, r: usize) {
        for l in r * self.per_row..(r + 1) * self.per_row {
            match self.x.get(8 * l..) {
                Some(line) if !line.is_empty() => prefetch_line(line),
                _ => return,
            }
        }
    }
}

/// Rows `[x − shift, y, 1]` of one tile (`len` rows; `y` 0 without labels) into `z` (row
/// stride `width`), `E` whole eights of `x` a row read straight (no loop): the lanes past
/// a row's end are overwritten by y and 1 or never read. `xt` must hold `8·E` values from
/// the tile's last row on.
#[inline(always)]
fn pack_rows<const E: usize>(
    z: &mut [f64],
    width: usize,
    xt: &[f64],
    n: usize,
    len: usize,
    yt: Option<&[f64]>,
    shift8: &[f64],
) {
    let h: [[f64; 8]; E] =
        std::array::from_fn(|e| shift8[8 * e..8 * e + 8].try_into().expect("8 values"));
    for (r, d) in z.chunks_exact_mut(width).take(len).enumerate() {
        let src = &xt[r * n..r * n + 8 * E];
        // Loaded into values first: the stores cannot alias them (LLVM would otherwise
        // check at run time and often take a scalar loop).
        let s: [[f64; 8]; E] =
            std::array::from_fn(|e| src[8 * e..8 * e + 8].try_into().expect("8 values"));
        for e in 0..E {
            let v: [f64; 8] = std::array::from_fn(|l| s[e][l] - h[e][l]);
            d[8 * e..8 * e + 8].copy_from_slice(&v);
        }
        d[n] = yt.map_or(0.0, |y| y[r]);
        d[n + 1] = 1.0;
    }
}

/// [`pack_rows`] for any number of eights.
#[inline(always)]
fn pack_rows_any(
    z: &mut [f64],
    width: usize,
    xt: &[f64],
    n: usize,
    len: usize,
    yt: Option<&[f64]>,
    shift8: &[f64],
) {
    let n8 = shift8.len();
    for (r, d) in z.chunks_exact_mut(width).take(len).enumerate() {
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
        d[n] = yt.map_or(0.0, |y| y[r]);
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

/// The label and `1` columns over one tile of `rows` rows: `zy[i] += Σ a_i·y`,
/// `z1[i] += Σ a_i` for every lane `i` of `zy` (`a`'s rows of stride `stride`; without
/// labels only `z1`). With `in_place`, `a` is the features read in place: its lanes from
/// `n` on belong to the next row, so lanes `n` and `n + 1` (y and 1) come from sums of
/// `y·y` and `y` in the same sweep, and the rows' count, instead.
#[inline(always)]
fn label_sweep(
    (build, fused): (Build, bool),
    (zy, z1): (&mut [f64], &mut [f64]),
    n: usize,
    (a, stride, rows, y): (&[f64], usize, usize, Option<&[f64]>),
    in_place: bool,
    fetch: Fetch<'_>,
) {
    let lanes = zy.len();
    let (mut ty, mut t1) = ([0.0f64; 24], [0.0f64; 24]);
    let mut k = 0;
    let mut first = true;
    while k < lanes {
        let v = 3.min((lanes - k) / 8);
        let valid = if in_place {
            n.saturating_sub(k).min(8 * v)
        } else {
            8 * v
        };
        // The first run of lanes also sums y·y and y (read in place) and fetches ahead.
        let scalars = in_place && first;
        let args = LabelArgs {
            ty: &mut ty[..],
            t1: &mut t1[..],
            a: &a[k..],
            stride,
            rows,
            y,
            scalars,
            fetch: if first {
                fetch
            } else {
                Fetch { x: &[], per_row: 0 }
            },
        };
        let (yy, sy) = match (v, fused) {
            (3, false) => label_lanes::<3, false>(build, args),
            (2, false) => label_lanes::<2, false>(build, args),
            (_, false) => label_lanes::<1, false>(build, args),
            (3, true) => label_lanes::<3, true>(build, args),
            (2, true) => label_lanes::<2, true>(build, args),
            (_, true) => label_lanes::<1, true>(build, args),
        };
        for l in 0..valid {
            if y.is_some() {
                zy[k + l] += ty[l];
            }
            z1[k + l] += t1[l];
        }
        if scalars {
            if y.is_some() {
                zy[n] += yy;
                z1[n] += sy;
            }
            // Σ 1 over the tile's rows: exact in f64 (as adding 1.0 row by row).
            z1[n + 1] += rows as f64;
        }
        first = false;
        k += 8 * v;
    }
}

/// The arguments of [`label_lanes`]: its two outputs, `a`, its row stride, the rows, the
/// labels, whether to sum `y·y` and `y` too, and the rows to fetch ahead.
struct LabelArgs<'a> {
    ty: &'a mut [f64],
    t1: &'a mut [f64],
    a: &'a [f64],
    stride: usize,
    rows: usize,
    y: Option<&'a [f64]>,
    scalars: bool,
    fetch: Fetch<'a>,
}

/// [`label_sweep`]'s sums over `V` eights of lanes, written whole to the outputs (a
/// lane-wise condition here makes LLVM split the sums into scalars), and `(Σ y·y, Σ y)`
/// in row order when asked for (else zeros); with `F`, each product added with one
/// rounding ([`Gram::new_fused`]).
#[inline(always)]
fn label_lanes<const V: usize, const F: bool>(build: Build, args: LabelArgs<'_>) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma,avx512f,avx512bw")]
        fn avx512<const V: usize, const F: bool>(args: LabelArgs<'_>) -> (f64, f64) {
            label_lanes_body::<V, F>(args)
        }
        #[target_feature(enable = "avx2,fma")]
        fn avx2<const V: usize, const F: bool>(args: LabelArgs<'_>) -> (f64, f64) {
            label_lanes_body::<V, F>(args)
        }
        match build {
            // SAFETY: `build` is what the CPU runs (`running_build` checked its features).
            Build::Avx512 => return unsafe { avx512::<V, F>(args) },
            // SAFETY: as above.
            Build::Avx2 => return unsafe { avx2::<V, F>(args) },
            Build::Portable => {}
        }
    }
    let _ = build;
    label_lanes_body::<V, F>(args)
}

/// `acc + a·b`, with one rounding when `F` ([`Gram::new_fused`]), else two.
#[inline(always)]
fn mul_acc<const F: bool>(acc: f64, a: f64, b: f64) -> f64 {
    if F {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

#[inline(always)]
fn label_lanes_body<const V: usize, const F: bool>(args: LabelArgs<'_>) -> (f64, f64) {
    let LabelArgs {
        ty,
        t1,
        a,
        stride,
        rows,
        y,
        scalars,
        fetch,
    } = args;
    let mut acc_y = [[0.0f64; 8]; V];
    let mut acc_1 = [[0.0f64; 8]; V];
    let (mut yy, mut sy) = (0.0f64, 0.0f64);
    let a = &a[..(rows.max(1) - 1) * stride + 8 * V];
    match y {
        Some(y) => {
            let y = &y[..rows];
            for (r, yv) in y.iter().enumerate() {
                fetch.row(r);
                let ar = &a[r * stride..r * stride + 8 * V];
                for v in 0..V {
                    let av: &[f64; 8] = ar[8 * v..8 * v + 8].try_into().expect("8 values");
                    for l in 0..8 {
                        acc_y[v][l] = mul_acc::<F>(acc_y[v][l], av[l], *yv);
                        acc_1[v][l] += av[l];
                    }
                }
                if scalars {
                    yy = mul_acc::<F>(yy, *yv, *yv);
                    sy += yv;
                }
            }
        }
        None => {
            for r in 0..rows {
                fetch.row(r);
                let ar = &a[r * stride..r * stride + 8 * V];
                for v in 0..V {
                    let av: &[f64; 8] = ar[8 * v..8 * v + 8].try_into().expect("8 values");
                    for l in 0..8 {
                        acc_1[v][l] += av[l];
                    }
                }
            }
        }
    }
    for v in 0..V {
        ty[8 * v..8 * v + 8].copy_from_slice(&acc_y[v]);
        t1[8 * v..8 * v + 8].copy_from_slice(&acc_1[v]);
    }
    (yy, sy)
}

/// The rows one block sweeps: left factors `a`, right factors `z`, their row stride, and
/// the number of rows.
type Tile<'a> = (&'a [f64], &'a [f64], usize, usize);

/// Runs block `b` of [`gram_plan`] over a tile in `build`'s instructions, each shape
/// compiled on its own (so that its sums stay in registers), fetching its share of the
/// rows ahead as it sweeps.
#[inline(always)]
fn run_block(
    (build, fused): (Build, bool),
    xx: &mut [f64],
    width: usize,
    b: GramBlock,
    tile: Tile<'_>,
    fetch: Fetch<'_>,
) {
    let (g, c) = (b.g, b.c);
    macro_rules! shapes {
        ($($h:literal $v:literal),*) => {
            match (b.h, b.v) {
                $(($h, $v) => match (build, fused) {
                    // SAFETY: `build` is what the CPU runs (`running_build` checked its
                    // features).
                    #[cfg(target_arch = "x86_64")]
                    (Build::Avx512, false) => unsafe { block_avx512::<$h, $v, false>(xx, width, (g, c), tile, fetch) },
                    // SAFETY: as above.
                    #[cfg(target_arch = "x86_64")]
                    (Build::Avx512, true) => unsafe { block_avx512::<$h, $v, true>(xx, width, (g, c), tile, fetch) },
                    // SAFETY: as above.
                    #[cfg(target_arch = "x86_64")]
                    (Build::Avx2, false) => unsafe { block_avx2::<$h, $v, false>(xx, width, (g, c), tile, fetch) },
                    // SAFETY: as above.
                    #[cfg(target_arch = "x86_64")]
                    (Build::Avx2, true) => unsafe { block_avx2::<$h, $v, true>(xx, width, (g, c), tile, fetch) },
                    (_, false) => block_portable::<$h, $v, false>(xx, width, (g, c), tile, fetch),
                    (_, true) => block_portable::<$h, $v, true>(xx, width, (g, c), tile, fetch),
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
#[target_feature(enable = "avx2,fma,avx512f,avx512bw")]
fn block_avx512<const H: usize, const V: usize, const F: bool>(
    xx: &mut [f64],
    width: usize,
    at: (usize, usize),
    tile: Tile<'_>,
    fetch: Fetch<'_>,
) {
    block::<H, V, F>(xx, width, at, tile, fetch)
}

/// [`block`] with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn block_avx2<const H: usize, const V: usize, const F: bool>(
    xx: &mut [f64],
    width: usize,
    at: (usize, usize),
    tile: Tile<'_>,
    fetch: Fetch<'_>,
) {
    block::<H, V, F>(xx, width, at, tile, fetch)
}

/// [`block`] for the baseline target.
#[inline(never)]
fn block_portable<const H: usize, const V: usize, const F: bool>(
    xx: &mut [f64],
    width: usize,
    at: (usize, usize),
    tile: Tile<'_>,
    fetch: Fetch<'_>,
) {
    block::<H, V, F>(xx, width, at, tile, fetch)
}

/// Adds to `xx` the sums `Σ_r a[r][g + i] · z[r][c + j]` for `i < H`, `j < 8·V` over the
/// tile's rows, accumulated row by row in `H × 8·V` registers (each product added with
/// one rounding when `F`: [`Gram::new_fused`]).
#[inline(always)]
fn block<const H: usize, const V: usize, const F: bool>(
    xx: &mut [f64],
    width: usize,
    (g, c): (usize, usize),
    (a, z, stride, rows): Tile<'_>,
    fetch: Fetch<'_>,
) {
    let mut acc = [[[0.0f64; 8]; V]; H];
    if rows > 0 {
        // Every row's reads lie below these bounds, checked once here rather than per row.
        let last = (rows - 1) * stride;
        assert!(last + g + H <= a.len() && last + c + 8 * V <= z.len());
        let (pa, pz) = (a.as_ptr(), z.as_ptr());
        for r in 0..rows {
            fetch.row(r);
            let o = r * stride;
            // SAFETY: `o + g + H <= a.len()` and `o + c + 8V <= z.len()` (asserted above
            // for the last row, and `o` grows with `r`); f64 arrays have f64 alignment.
            let (ar, zr) = unsafe {
                (
                    pa.add(o + g).cast::<[f64; H]>().read(),
                    pz.add(o + c).cast::<[[f64; 8]; V]>().read(),
                )
            };
            for v in 0..V {
                for ii in 0..H {
                    for jj in 0..8 {
                        acc[ii][v][jj] = mul_acc::<F>(acc[ii][v][jj], ar[ii], zr[v][jj]);
                    }
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

    /// `dot_rows` gives `dot(a, x_t) + offset`'s bits and `add_scaled_rows` the plain
    /// `grad[j] += m·x` row loop's, in every build, for row counts around its four rows at
    /// a time and feature counts around its vector widths and 32-column register blocks.
    #[test]
    fn dot_rows_and_add_scaled_rows_give_the_plain_loops_bits() {
        for n in [0, 1, 3, 4, 5, 8, 13, 20, 31, 32, 33, 36, 45, 70] {
            for rows in [0, 1, 3, 4, 5, 9, 64] {
                let x: Vec<f64> = (0..rows * n)
                    .map(|i| ((i as f64) * 0.7311).sin() * 1e3 + 1.0 / (1.0 + i as f64))
                    .collect();
                let a: Vec<f64> = (0..n).map(|j| (j as f64 * 0.61).cos() * 0.3).collect();
                let mult: Vec<f64> = (0..rows).map(|t| (t as f64 * 0.37).cos()).collect();
                let offset = -0.125;
                let want_m: Vec<u64> = (0..rows)
                    .map(|t| (dot(&a, &x[t * n..(t + 1) * n]) + offset).to_bits())
                    .collect();
                let start: Vec<f64> = (0..n).map(|j| j as f64 * 0.01).collect();
                let mut want_g = start.clone();
                for t in 0..rows {
                    for j in 0..n {
                        want_g[j] += mult[t] * x[t * n + j];
                    }
                }
                let want_g: Vec<u64> = want_g.iter().map(|v| v.to_bits()).collect();
                for (b, (m, g)) in in_each_build(|| {
                    let mut m = vec![0.0; rows];
                    dot_rows(&a, &x, offset, &mut m);
                    let mut g = start.clone();
                    add_scaled_rows(&mut g, &mult, &x);
                    (m, g)
                }) {
                    let m: Vec<u64> = m.iter().map(|v| v.to_bits()).collect();
                    let g: Vec<u64> = g.iter().map(|v| v.to_bits()).collect();
                    assert_eq!(m, want_m, "{b:?}: n={n} rows={rows}");
                    assert_eq!(g, want_g, "{b:?}: n={n} rows={rows}");
                }
            }
        }
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
            let results = in_each_build(run);
            for (b, r) in &results {
                assert_eq!(
                    r, &results[0].1,
                    "n={n}: {b:?} differs from the baseline build"
                );
            }
        }
    }

    /// Every sum of [`Moments`] is, to the bit, the plain row walk over the rows in order
    /// (weighted rows of weight `<= 0` left out), for feature counts around the eights and
    /// past one group of 24, on every build, with rows split over several calls; a NaN
    /// or infinite value is reported.
    #[test]
    fn moments_are_the_row_walk_bitwise_on_every_build() {
        let all = MomentSums {
            sum: true,
            sq: true,
            extremes: true,
            nonzeros: true,
            l1: true,
            l2: true,
            cross: true,
            classes: true,
        };
        for n in [1, 5, 8, 13, 20, 24, 29, 50] {
            let rows = 700;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| {
                    if i % 11 == 0 {
                        0.0
                    } else {
                        ((i as f64) * 0.377).sin() * 10.0
                    }
                })
                .collect();
            let w: Vec<f64> = (0..rows).map(|i| (i % 4) as f64 * 0.5).collect();
            let t: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.91).cos()).collect();
            let cls: Vec<u32> = (0..rows).map(|i| (i % 3) as u32).collect();
            let shift: Vec<f64> = (0..n).map(|j| 0.25 * j as f64 - 1.5).collect();
            for weighted in [false, true] {
                let wt = weighted.then_some(&w[..]);
                let run = || {
                    let mut m = Moments::new(n, all, 3);
                    // Two calls: the second continues the first's sums.
                    let cut = 333;
                    assert!(m.add_rows(
                        &x[..cut * n],
                        &shift,
                        wt.map(|w| &w[..cut]),
                        Some(&t[..cut]),
                        Some(&cls[..cut])
                    ));
                    assert!(m.add_rows(
                        &x[cut * n..],
                        &shift,
                        wt.map(|w| &w[cut..]),
                        Some(&t[cut..]),
                        Some(&cls[cut..])
                    ));
                    m
                };
                let ms: Vec<(Build, Moments)> = in_each_build(run);
                let n8 = n.div_ceil(8) * 8;
                for (b, m) in &ms {
                    for j in 0..n {
                        let (mut sum, mut sq, mut lo, mut hi) =
                            (0.0f64, 0.0f64, f64::INFINITY, f64::NEG_INFINITY);
                        let (mut nz, mut l1, mut l2, mut cr) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
                        let mut by = [0.0f64; 3];
                        for r in 0..rows {
                            let wr = wt.map_or(1.0, |w| w[r]);
                            if wr <= 0.0 {
                                continue;
                            }
                            let v = x[r * n + j];
                            let d = v - shift[j];
                            let wd = if weighted { wr * d } else { d };
                            sum += wd;
                            sq += wd * d;
                            lo = lo.min(v);
                            hi = hi.max(v);
                            nz += if v != 0.0 { 1.0 } else { 0.0 };
                            l1 += if weighted { wr * v.abs() } else { v.abs() };
                            l2 += if weighted { wr * v * v } else { v * v };
                            cr += wd * t[r];
                            by[cls[r] as usize] += wd;
                        }
                        let got = [
                            m.sum[j],
                            m.sq[j],
                            m.min[j],
                            m.max[j],
                            m.nonzeros[j],
                            m.l1[j],
                            m.l2[j],
                            m.cross[j],
                        ];
                        let want = [sum, sq, lo, hi, nz, l1, l2, cr];
                        for (k, (g, e)) in got.iter().zip(&want).enumerate() {
                            assert_eq!(
                                g.to_bits(),
                                e.to_bits(),
                                "n={n} w={weighted} {b:?} feature {j} sum #{k}"
                            );
                        }
                        for (c, b) in by.iter().enumerate() {
                            assert_eq!(
                                m.classes[c * n8 + j].to_bits(),
                                b.to_bits(),
                                "n={n} class {c}"
                            );
                        }
                    }
                }
                let mut bad = x.clone();
                bad[(rows - 1) * n + n - 1] = f64::NAN;
                assert!(!Moments::new(n, all, 3).add_rows(&bad, &shift, wt, Some(&t), Some(&cls)));
                bad[(rows - 1) * n + n - 1] = 1.0;
                bad[n / 2] = f64::NEG_INFINITY;
                assert!(!Moments::new(n, MomentSums::default(), 0)
                    .add_rows(&bad, &shift, wt, None, None));
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
    sums_kernel!(
        feature_groups,
        check,
        squares,
        scale,
        (x, n, rows),
        (sums, m2)
    )
}

/// Calls the const-generic per-class sums kernel `$kernel::<K, SQ, WT>(pre.., w, post..)`
/// that a run-time ([`ValueCheck`], `squares`, `scale`) selects (`w` is the scale, or `&[]`
/// without one): the one dispatch of [`class_sums`] and [`class_sums_masked`].
macro_rules! sums_kernel {
    ($kernel:ident, $check:expr, $squares:expr, $scale:expr, $pre:tt, $post:tt) => {
        match ($squares, $scale) {
            (false, None) => sums_kernel!(@check $kernel, $check, false, false, &[], $pre, $post),
            (false, Some(w)) => sums_kernel!(@check $kernel, $check, false, true, w, $pre, $post),
            (true, None) => sums_kernel!(@check $kernel, $check, true, false, &[], $pre, $post),
            (true, Some(w)) => sums_kernel!(@check $kernel, $check, true, true, w, $pre, $post),
        }
    };
    (@check $kernel:ident, $check:expr, $sq:literal, $wt:literal, $w:expr, ($($a:expr),*), ($($b:expr),*)) => {
        match $check {
            ValueCheck::None => $kernel::<0, $sq, $wt>($($a,)* $w, $($b),*),
            ValueCheck::NonNegative => $kernel::<1, $sq, $wt>($($a,)* $w, $($b),*),
            ValueCheck::Binary => $kernel::<2, $sq, $wt>($($a,)* $w, $($b),*),
            ValueCheck::Finite => $kernel::<3, $sq, $wt>($($a,)* $w, $($b),*),
        }
    };
}
use sums_kernel;

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
        #[allow(clippy::too_many_arguments)]
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

/// The most classes [`class_sums_masked`] takes: every row is added to every class's
/// registers (masked), so its work grows with the class count while that of
/// [`group_rows`] + [`class_sums`] does not.
pub(crate) const MASKED_CLASSES: usize = 2;

/// Per-class `Σa`, `Σa·x` (and `Σ(a·x)·x`) of a block of rows read once, in row order:
/// row `i` of `x` (row-major, `n` values per row, `cls.len()` rows) belongs to class
/// `cls[i]` (below `classes`, at most [`MASKED_CLASSES`]) and has scale `a_i =
/// scale[i]` (or 1 without a scale). Adds per class `c` and feature `j`, in row order
/// over `c`'s rows, `s += a·x` into `sums[c·n + j]` (`s += x` without a scale), when
/// `squares` also `q += (a·x)·x` into `m2[c·n + j]`; adds each class's `Σa` into
/// `weight[c]` and its `Σa` over rows with `a != 0` into `total[c]` (row counts without a
/// scale). Returns a sum of [`ValueCheck`] terms: not 0 when some value of `x` fails,
/// 0 when every value passes.
///
/// Each sum is bit for bit the plain row loop's (`for i { s[cls[i]][j] += a·x }`) as long
/// as `sums`, `m2`, `weight` and `total` start from values other than -0.0 (sums started
/// at 0.0 never become -0.0): every row's value goes into every class's registers ANDed
/// with a mask that is all ones for its class and all zeros (+0.0, which leaves such a sum
/// unchanged) for the others. The rows are read once, in order, so the hardware prefetcher
/// streams them, and there is no grouping pass and no branch on the class: what
/// [`group_rows`] + [`class_sums`] cost per row (a counting sort, rows read out of order)
/// is gone, for `classes` adds per value instead of one. Call it from a
/// [`multiversion!`] function (it is always inlined).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn class_sums_masked(
    x: &[f64],
    n: usize,
    cls: &[u32],
    classes: usize,
    scale: Option<&[f64]>,
    check: ValueCheck,
    squares: bool,
    sums: &mut [f64],
    m2: &mut [f64],
    weight: &mut [f64],
    total: &mut [f64],
) -> f64 {
    debug_assert!(classes <= MASKED_CLASSES && cls.iter().all(|&c| (c as usize) < classes));
    debug_assert_eq!(x.len(), cls.len() * n);
    // Σa and Σa over a != 0 per class, in row order, in locals.
    match scale {
        Some(w) => {
            let (mut wt, mut tt) = ([0.0f64; MASKED_CLASSES], [0.0f64; MASKED_CLASSES]);
            wt[..classes].copy_from_slice(&weight[..classes]);
            tt[..classes].copy_from_slice(&total[..classes]);
            for (&c, &a) in cls.iter().zip(w) {
                let nz = if a != 0.0 { a } else { 0.0 };
                for k in 0..MASKED_CLASSES {
                    let m = class_mask(c, k);
                    wt[k] += f64::from_bits(a.to_bits() & m);
                    tt[k] += f64::from_bits(nz.to_bits() & m);
                }
            }
            weight[..classes].copy_from_slice(&wt[..classes]);
            total[..classes].copy_from_slice(&tt[..classes]);
        }
        None => {
            // Σ1 per class: exact counts.
            let mut count = [0usize; MASKED_CLASSES];
            for &c in cls {
                for (k, ck) in count.iter_mut().enumerate() {
                    *ck += (c as usize == k) as usize;
                }
            }
            for k in 0..classes {
                weight[k] += count[k] as f64;
                total[k] += count[k] as f64;
            }
        }
    }
    sums_kernel!(
        masked_groups,
        check,
        squares,
        scale,
        (x, n, cls),
        (sums, m2)
    )
}

/// All ones when row class `c` is class `k`, else all zeros (the AND mask of
/// [`class_sums_masked`]; no branch).
#[inline(always)]
fn class_mask(c: u32, k: usize) -> u64 {
    0u64.wrapping_sub((c as usize == k) as u64)
}

/// [`class_sums_masked`]'s sums a group of up to 24 features at a time (with squares) or
/// 32 (without): [`MASKED_CLASSES`] classes' sums (and squares) stay in registers.
#[inline(always)]
fn masked_groups<const K: u8, const SQ: bool, const WT: bool>(
    x: &[f64],
    n: usize,
    cls: &[u32],
    w: &[f64],
    sums: &mut [f64],
    m2: &mut [f64],
) -> f64 {
    let width = if SQ { 3 * SUM_LANES } else { 4 * SUM_LANES };
    let mut chk = 0.0;
    let mut j0 = 0;
    while j0 < n {
        let g = (n - j0).min(width);
        chk += match g.div_ceil(SUM_LANES) {
            1 => masked_group::<1, K, SQ, WT>(x, n, j0, g, cls, w, sums, m2),
            2 => masked_group::<2, K, SQ, WT>(x, n, j0, g, cls, w, sums, m2),
            3 => masked_group::<3, K, SQ, WT>(x, n, j0, g, cls, w, sums, m2),
            _ => masked_group::<4, K, SQ, WT>(x, n, j0, g, cls, w, sums, m2),
        };
        j0 += g;
    }
    chk
}

/// Features `j0..j0 + g` (`g <= CH·8`) of [`class_sums_masked`], every class's sums in
/// `CH` registers of 8 lanes across the rows. As in [`group_sums`], each row's `CH·8`
/// values are read straight from `x` (lanes past `g` hold the next row's values, summed
/// into dropped lanes and checked, harmlessly: they are checked as their own row's values
/// too), the last rows through a zero-padded copy.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn masked_group<const CH: usize, const K: u8, const SQ: bool, const WT: bool>(
    x: &[f64],
    n: usize,
    j0: usize,
    g: usize,
    cls: &[u32],
    w: &[f64],
    sums: &mut [f64],
    m2: &mut [f64],
) -> f64 {
    const L: usize = SUM_LANES;
    const C: usize = MASKED_CLASSES;
    let classes = sums.len() / n;
    let regs = |from: &[f64]| -> [[[f64; L]; CH]; C] {
        let mut r = [[[0.0f64; L]; CH]; C];
        for (c, rc) in r.iter_mut().enumerate().take(classes) {
            let mut init = [0.0f64; 4 * L];
            init[..g].copy_from_slice(&from[c * n + j0..c * n + j0 + g]);
            for (i, ri) in rc.iter_mut().enumerate() {
                ri.copy_from_slice(&init[i * L..(i + 1) * L]);
            }
        }
        r
    };
    let mut s = regs(sums);
    let mut q = if SQ { regs(m2) } else { [[[0.0f64; L]; CH]; C] };
    let mut k = [0.0f64; L];
    let width = CH * L;
    let rows = cls.len();
    // Rows whose `width` values from `j0` lie inside `x`, then the rest padded.
    let fits = if x.len() >= j0 + width {
        ((x.len() - j0 - width) / n.max(1) + 1).min(rows)
    } else {
        0
    };
    for (r, &c) in cls.iter().enumerate().take(fits) {
        let b = r * n + j0;
        let a = if WT { w[r] } else { 1.0 };
        add_row_masked::<CH, K, SQ, WT>(&x[b..b + width], a, c, &mut s, &mut q, &mut k);
    }
    for (r, &c) in cls.iter().enumerate().skip(fits) {
        let b = r * n + j0;
        let mut pad = [0.0f64; 4 * L];
        pad[..g].copy_from_slice(&x[b..b + g]);
        let a = if WT { w[r] } else { 1.0 };
        add_row_masked::<CH, K, SQ, WT>(&pad[..width], a, c, &mut s, &mut q, &mut k);
    }
    let store = |regs: &[[[f64; L]; CH]; C], to: &mut [f64]| {
        for (c, rc) in regs.iter().enumerate().take(classes) {
            let mut out = [0.0f64; 4 * L];
            for (i, ri) in rc.iter().enumerate() {
                out[i * L..(i + 1) * L].copy_from_slice(ri);
            }
            to[c * n + j0..c * n + j0 + g].copy_from_slice(&out[..g]);
        }
    };
    store(&s, sums);
    if SQ {
        store(&q, m2);
    }
    k.iter().fold(0.0, |a, b| a + b)
}

/// One row's `CH·8` values `v` (scale `a`, class `c`) added to [`masked_group`]'s
/// registers: `p = a·v` (and `p·v` when `SQ`) ANDed with each class's mask into its sums,
/// the row's check terms into `k`.
#[inline(always)]
fn add_row_masked<const CH: usize, const K: u8, const SQ: bool, const WT: bool>(
    v: &[f64],
    a: f64,
    c: u32,
    s: &mut [[[f64; SUM_LANES]; CH]; MASKED_CLASSES],
    q: &mut [[[f64; SUM_LANES]; CH]; MASKED_CLASSES],
    k: &mut [f64; SUM_LANES],
) {
    const L: usize = SUM_LANES;
    let v = &v[..CH * L];
    let masks: [u64; MASKED_CLASSES] = std::array::from_fn(|cl| class_mask(c, cl));
    let mut kr = [0.0f64; L];
    for i in 0..CH {
        for l in 0..L {
            let xv = v[i * L + l];
            let p = if WT { a * xv } else { xv };
            let pq = p * xv;
            for (cl, &m) in masks.iter().enumerate() {
                s[cl][i][l] += f64::from_bits(p.to_bits() & m);
                if SQ {
                    q[cl][i][l] += f64::from_bits(pq.to_bits() & m);
                }
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
mod class_sums_masked_tests {
    use super::*;

    multiversion! {
        /// [`class_sums_masked`] in each build, for the test below.
        #[allow(clippy::too_many_arguments)]
        fn masked_of(x: &[f64], n: usize, cls: &[u32], classes: usize, scale: Option<&[f64]>, check: ValueCheck, squares: bool, sums: &mut [f64], m2: &mut [f64], weight: &mut [f64], total: &mut [f64]) -> f64 {
            class_sums_masked(x, n, cls, classes, scale, check, squares, sums, m2, weight, total)
        }
    }

    /// `class_sums_masked` is, to the bit, the plain row loop (per row, its class's
    /// `w += a`, `t += a` for `a != 0`, `s += a·x`, `q += (a·x)·x` per feature, from the
    /// sums passed in), on every build, for 1 and 2 classes, widths around the 8-lane
    /// registers and the 24/32-feature groups, the last rows read through the padded copy,
    /// scales with zeros (and -0.0), values with -0.0; its check sum is 0 exactly when every
    /// value passes.
    #[test]
    fn class_sums_masked_is_the_plain_row_loop_bitwise() {
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for n in [1, 5, 8, 13, 20, 24, 25, 32, 33, 70] {
            let rows = 41;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| match i % 11 {
                    3 => -0.0,
                    _ => ((i as f64) * 0.7311).sin() * 3.0 + 1.0 / (1.0 + i as f64),
                })
                .collect();
            let a: Vec<f64> = (0..rows)
                .map(|i| [0.5, 0.0, 1.25, -0.0, 2.0, 0.3][i % 6])
                .collect();
            for classes in [1, 2] {
                let cls: Vec<u32> = (0..rows)
                    .map(|i| ((i * 7 + i / 3) % classes) as u32)
                    .collect();
                // Start from sums already holding something (never -0.0).
                let start: Vec<f64> = (0..classes * n).map(|j| j as f64 * 0.125).collect();
                let w0: Vec<f64> = (0..classes).map(|c| c as f64 * 0.5).collect();
                for scaled in [false, true] {
                    for squares in [false, true] {
                        let (mut s, mut q) = (start.clone(), start.clone());
                        let (mut w, mut t) = (w0.clone(), w0.clone());
                        for r in 0..rows {
                            let c = cls[r] as usize;
                            let av = if scaled { a[r] } else { 1.0 };
                            w[c] += av;
                            if av != 0.0 {
                                t[c] += av;
                            }
                            for j in 0..n {
                                let v = x[r * n + j];
                                let p = if scaled { av * v } else { v };
                                s[c * n + j] += p;
                                q[c * n + j] += p * v;
                            }
                        }
                        for (b, got) in in_each_build(|| {
                            let (mut gs, mut gq) = (start.clone(), start.clone());
                            let (mut gw, mut gt) = (w0.clone(), w0.clone());
                            let m2: &mut [f64] = if squares { &mut gq } else { &mut [] };
                            let chk = masked_of(
                                &x,
                                n,
                                &cls,
                                classes,
                                scaled.then_some(&a[..]),
                                ValueCheck::Finite,
                                squares,
                                &mut gs,
                                m2,
                                &mut gw,
                                &mut gt,
                            );
                            (gs, gq, gw, gt, chk)
                        }) {
                            let (gs, gq, gw, gt, chk) = got;
                            let at = format!(
                                "n {n} classes {classes} scaled {scaled} squares {squares} {b:?}"
                            );
                            assert_eq!(bits(&gs), bits(&s), "{at}");
                            if squares {
                                assert_eq!(bits(&gq), bits(&q), "{at}");
                            }
                            assert_eq!(bits(&gw), bits(&w), "{at}");
                            assert_eq!(bits(&gt), bits(&t), "{at}");
                            assert_eq!(chk, 0.0, "{at}");
                        }
                    }
                }
                // A failing value anywhere is caught, in every build (here the last row's
                // last value: read through the padded copy).
                for (check, bad_value) in [
                    (ValueCheck::NonNegative, -2.0),
                    (ValueCheck::Binary, 0.5),
                    (ValueCheck::Finite, f64::NAN),
                ] {
                    for at in [0, rows * n / 2, rows * n - 1] {
                        let mut bad = x
                            .iter()
                            .map(|v| v.abs().min(1.0).round())
                            .collect::<Vec<_>>();
                        let clean: Vec<f64> = bad.clone();
                        bad[at] = bad_value;
                        for (b, (chk_bad, chk_clean)) in in_each_build(|| {
                            let run = |x: &[f64]| {
                                let mut s = vec![0.0; classes * n];
                                let (mut w, mut t) = (vec![0.0; classes], vec![0.0; classes]);
                                masked_of(
                                    x,
                                    n,
                                    &cls,
                                    classes,
                                    None,
                                    check,
                                    false,
                                    &mut s,
                                    &mut [],
                                    &mut w,
                                    &mut t,
                                )
                            };
                            (run(&bad), run(&clean))
                        }) {
                            assert!(chk_bad != 0.0, "n {n} {check:?} at {at} {b:?}");
                            assert_eq!(chk_clean, 0.0, "n {n} {check:?} {b:?}");
                        }
                    }
                }
            }
        }
    }
}

// ---- LinearRegression's normal solver (issue #14, wave 10): the fused Gram's tests ----

#[cfg(test)]
mod gram_fused_tests {
    use super::*;

    /// [`Gram::new_fused`] pins its order: every entry is, to the bit, the sum over each
    /// [`TILE`] of its rows of `mul_add(w·z_i, z_j, part)` in row order, the tiles' sums
    /// added in order; in every build this CPU runs, with and without weights (the
    /// expected bits computed here by that definition, row by row). It also stays within
    /// rounding of the plain sum, and the unfused [`Gram::new`] keeps its own order.
    #[test]
    fn fused_gram_sums_rows_in_tile_order_bitwise() {
        for n in [1, 7, 8, 9, 17, 20, 29] {
            let rows = 2 * TILE + 13;
            let x: Vec<f64> = (0..rows * n)
                .map(|i| ((i as f64) * 0.377).sin() * 10.0)
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i as f64 * 0.91).cos()).collect();
            let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 5) as f64 * 0.3).collect();
            for weights in [None, Some(&w[..])] {
                let z = |r: usize, i: usize| match i {
                    i if i < n => x[r * n + i],
                    i if i == n => y[r],
                    _ => 1.0,
                };
                for (build, g) in in_each_build(|| {
                    let mut g = Gram::new_fused(n);
                    g.add_rows(&x, &y, weights);
                    g
                }) {
                    for i in 0..n + 2 {
                        for j in i..n + 2 {
                            let mut want = 0.0;
                            for tile in (0..rows).step_by(TILE) {
                                let mut part = 0.0f64;
                                for r in tile..(tile + TILE).min(rows) {
                                    let a = weights.map_or(z(r, i), |w| w[r] * z(r, i));
                                    // The `1` column's sums (`Σ w·z_i`) take no product.
                                    part = if j == n + 1 {
                                        part + a
                                    } else {
                                        a.mul_add(z(r, j), part)
                                    };
                                }
                                want += part;
                            }
                            let got = g.get(i, j);
                            assert_eq!(got.to_bits(), want.to_bits(), "{build:?} n={n} ({i},{j})");
                            let plain: f64 = (0..rows)
                                .map(|r| weights.map_or(1.0, |w| w[r]) * z(r, i) * z(r, j))
                                .sum();
                            assert!((got - plain).abs() <= 1e-12 * plain.abs().max(1.0));
                        }
                    }
                }
            }
        }
    }
}

// ---- vec: kernels of the vector transforms (Binarizer's per-row plan) ----

multiversion! {
    /// The planned layout of each row of a sparse-capable output whose row `r` stores
    /// `masks[r].count_ones()` non-zeros of `size` (at most 64): `kinds[r]` is
    /// `PLANNED_SPARSE` where Spark's `Vector.compressed` stores the row sparse
    /// ([`prefers_sparse`](crate::frame::vector::prefers_sparse)), else `PLANNED_DENSE`;
    /// `counts[r]` is the count (which the builder ignores for a dense row). One
    /// vectorised pass per block (counting bits and comparing in SIMD lanes) instead of a
    /// scalar `count_ones` per row in baseline x86-64 code.
    pub(crate) fn plan_mask_rows(masks: &[u64], size: usize, kinds: &mut [i8], counts: &mut [i32]) {
        use crate::frame::vector::{PLANNED_DENSE, PLANNED_SPARSE};
        // `prefers_sparse(ones, size)`: 12·ones + 28 < 8·size + 12, in u32 (ones, size <= 64).
        let bound = 8 * size.min(64) as u32 + 12;
        for ((m, k), c) in masks.iter().zip(kinds.iter_mut()).zip(counts.iter_mut()) {
            let ones = m.count_ones();
            *k = if 12 * ones + 28 < bound { PLANNED_SPARSE } else { PLANNED_DENSE };
            *c = ones as i32;
        }
    }
}

#[cfg(test)]
mod vec_tests {
    use super::*;
    use crate::frame::vector::{prefers_sparse, PLANNED_DENSE, PLANNED_SPARSE};

    #[test]
    fn mask_plans_follow_spark_compressed_rule_in_every_build() {
        // Every count 0..=size for every size 0..=64 (masks with that many low bits set,
        // and the same count scattered), against `prefers_sparse` (Spark's rule).
        for size in 0..=64usize {
            let masks: Vec<u64> = (0..=size)
                .flat_map(|ones| {
                    let low = if ones == 64 {
                        u64::MAX
                    } else {
                        (1u64 << ones) - 1
                    };
                    [low, low.rotate_left((ones * 7 % 64) as u32)]
                })
                .collect();
            for (b, (kinds, counts)) in in_each_build(|| {
                let mut kinds = vec![-1i8; masks.len()];
                let mut counts = vec![-1i32; masks.len()];
                plan_mask_rows(&masks, size, &mut kinds, &mut counts);
                (kinds, counts)
            }) {
                for (r, m) in masks.iter().enumerate() {
                    let ones = m.count_ones() as usize;
                    let want = if prefers_sparse(ones, size) {
                        PLANNED_SPARSE
                    } else {
                        PLANNED_DENSE
                    };
                    assert_eq!(kinds[r], want, "size {size} ones {ones} build {b:?}");
                    assert_eq!(counts[r], ones as i32, "size {size} build {b:?}");
                }
            }
        }
    }
}

multiversion! {
    /// A planned block's rows settled, for a block without null rows: each row's kind
    /// normalised (`PLANNED_DENSE`, anything else `PLANNED_SPARSE`), its index and value
    /// counts set (a dense row 0 and `size`, a sparse row its planned count `ni[r]` twice)
    /// and the block's totals returned; `None`, with nothing changed, when a sparse row's
    /// count is negative or above `size` (the caller's row walk then names the first).
    /// The row walk's arithmetic in two vectorised passes (check, then write).
    pub(crate) fn settle_plan(kinds: &mut [i8], ni: &mut [i32], nv: &mut [i32], size: usize) -> Option<(usize, usize)> {
        use crate::frame::vector::{PLANNED_DENSE, PLANNED_SPARSE};
        let size = size as i64;
        let mut bad = false;
        for (k, c) in kinds.iter().zip(ni.iter()) {
            let c = *c as i64;
            bad |= (*k != PLANNED_DENSE) & ((c < 0) | (c > size));
        }
        if bad {
            return None;
        }
        let (mut ti, mut tv) = (0u64, 0u64);
        for ((k, i), v) in kinds.iter_mut().zip(ni.iter_mut()).zip(nv.iter_mut()) {
            let dense = *k == PLANNED_DENSE;
            let c = *i as i64;
            let (li, lv) = if dense { (0, size) } else { (c, c) };
            *k = if dense { PLANNED_DENSE } else { PLANNED_SPARSE };
            *i = li as i32;
            *v = lv as i32;
            ti += li as u64;
            tv += lv as u64;
        }
        Some((ti as usize, tv as usize))
    }
}

#[cfg(test)]
mod vec_settle_tests {
    use super::*;
    use crate::frame::vector::{PLANNED_DENSE, PLANNED_SPARSE};

    /// The builder's row walk (`par_planned_chunk` with no null rows), as it was written
    /// before the kernel: the reference each build must equal.
    fn walk(
        kinds: &mut [i8],
        ni: &mut [i32],
        nv: &mut [i32],
        size: usize,
    ) -> Option<(usize, usize)> {
        let (mut ti, mut tv) = (0usize, 0usize);
        for j in 0..kinds.len() {
            let (kind, li, lv) = if kinds[j] == PLANNED_DENSE {
                (PLANNED_DENSE, 0, size)
            } else {
                match usize::try_from(ni[j]) {
                    Ok(c) if c <= size => (PLANNED_SPARSE, c, c),
                    _ => return None,
                }
            };
            kinds[j] = kind;
            ni[j] = li as i32;
            nv[j] = lv as i32;
            ti += li;
            tv += lv;
        }
        Some((ti, tv))
    }

    #[test]
    fn settled_plans_are_the_row_walk_in_every_build() {
        let size = 20;
        let rows = 2048 + 7;
        let kinds: Vec<i8> = (0..rows).map(|r| [0, 1, 0, 2][r % 4]).collect();
        let counts: Vec<i32> = (0..rows).map(|r| ((r * 7) % 21) as i32).collect();
        let mut want = (kinds.clone(), counts.clone(), vec![0; rows]);
        let want_totals = walk(&mut want.0, &mut want.1, &mut want.2, size);
        assert!(want_totals.is_some());
        for (b, got) in in_each_build(|| {
            let (mut k, mut i, mut v) = (kinds.clone(), counts.clone(), vec![0; rows]);
            let t = settle_plan(&mut k, &mut i, &mut v, size);
            (t, k, i, v)
        }) {
            assert_eq!(
                got,
                (want_totals, want.0.clone(), want.1.clone(), want.2.clone()),
                "{b:?}"
            );
        }
        // A sparse row counted above the size, or negative: None, nothing changed.
        for bad in [21, -1] {
            let mut c = counts.clone();
            c[1000] = bad;
            for (b, got) in in_each_build(|| {
                let (mut k, mut i, mut v) = (kinds.clone(), c.clone(), vec![0; rows]);
                let t = settle_plan(&mut k, &mut i, &mut v, size);
                (t, k == kinds, i == c)
            }) {
                assert_eq!(got, (None, true, true), "{bad} {b:?}");
            }
        }
    }
}

multiversion! {
    /// Interaction's rows of a dense vector times a number: row `q` of `out` is row `q` of
    /// `x` (`size > 0` values a row) times `scales[q]`, each product `a · v` as the per-row
    /// loop computes it. Returns the first row whose non-zero products would make Spark's
    /// `Vector.compressed` store it sparse (the row was placed dense), after writing it;
    /// the rows after it are left unwritten.
    pub(crate) fn scale_dense_rows(x: &[f64], scales: &[f64], size: usize, out: &mut [std::mem::MaybeUninit<f64>]) -> Option<usize> {
        let rows = x.chunks_exact(size).zip(out.chunks_exact_mut(size));
        for (q, (&a, (xr, or))) in scales.iter().zip(rows).enumerate() {
            let mut nnz = 0usize;
            for (o, v) in or.iter_mut().zip(xr) {
                let p = a * v;
                o.write(p);
                nnz += usize::from(p != 0.0);
            }
            if crate::frame::vector::prefers_sparse(nnz, size) {
                return Some(q);
            }
        }
        None
    }
}

#[cfg(test)]
mod vec_scale_tests {
    use super::*;
    use std::mem::MaybeUninit;

    #[test]
    fn scaled_rows_are_the_plain_products_and_stop_at_a_row_that_turns_sparse() {
        // Rows of 20 values (zeros of both signs, an infinity, a NaN) times scales (a
        // zero among them gives zero products: 20 zeros, stored sparse by Spark's rule,
        // so that row is the first misfit), in every build, bit for bit with `a * v`.
        let size = 20;
        let rows = 37;
        let x: Vec<f64> = (0..rows * size)
            .map(|k| match k % 11 {
                0 => -0.0,
                5 => 0.0,
                _ if k == 100 => f64::INFINITY,
                _ if k == 222 => f64::NAN,
                _ => (k as f64 * 0.37).sin() * 1e3,
            })
            .collect();
        let scales: Vec<f64> = (0..rows)
            .map(|r| if r == 30 { 0.0 } else { r as f64 - 12.5 })
            .collect();
        let bits = |v: f64| if v.is_nan() { 1 } else { v.to_bits() };
        for (b, (got, out)) in in_each_build(|| {
            let mut out = vec![MaybeUninit::new(7.0); rows * size];
            let got = scale_dense_rows(&x, &scales, size, &mut out);
            (
                got,
                out.iter()
                    .map(|v| unsafe { v.assume_init() })
                    .collect::<Vec<f64>>(),
            )
        }) {
            assert_eq!(got, Some(30), "{b:?}");
            for r in 0..=30 {
                for j in 0..size {
                    let want = scales[r] * x[r * size + j];
                    assert_eq!(
                        bits(out[r * size + j]),
                        bits(want),
                        "{b:?} row {r} value {j}"
                    );
                }
            }
            assert!(
                out[31 * size..].iter().all(|v| *v == 7.0),
                "{b:?}: rows after the misfit untouched"
            );
        }
        // Without the zero scale every row fits.
        let mut s = scales.clone();
        s[30] = 1.0;
        let mut out = vec![MaybeUninit::new(0.0); rows * size];
        assert_eq!(scale_dense_rows(&x, &s, size, &mut out), None);
    }
}

// ---- NaiveBayes bernoulli (issue #14, wave 11): per-class sums of mixed dense/sparse rows
// read once, in row order, without a densified copy ----

/// Per-class `Σa`, `Σa·x` (and `Σ(a·x)·x`) of the rows `first..first + cls.len()` of
/// `rows`, read once in row order through
/// [`DeferredVectorBlock::for_each_row`] (each sparse row's indices checked as they are
/// read, so each index is read once): row `first + i` belongs to class `cls[i]` and has
/// scale `a_i = scale[i]` (1 without a scale); null rows are skipped. Adds per class `c` and
/// feature `j`, in row order over `c`'s rows, `s += a·x` into `sums[c·n + j]` (`s += x`
/// without a scale; `n = rows.size()`), when `squares` also `q += (a·x)·x` into
/// `m2[c·n + j]`, and each class's `Σa` into `weight[c]`, its `Σa` over rows with `a != 0`
/// into `total[c]`. Returns 0 when every value passes `check`, a non-zero value when one
/// does not.
///
/// Each sum is bit for bit the plain row loop's over the rows written densely
/// (`for i { s[cls[i]][j] += a·x }`, the sums of [`class_sums`] and [`class_sums_masked`])
/// as long as the sums start from values other than -0.0: a sparse row adds only its
/// stored values, and an absent value's product (`a·0 = +0.0`, `a >= 0`) would leave
/// such a sum unchanged (sums started at 0.0 never become -0.0). A dense row is added to
/// its class's sums in memory (a run of the same class waits on the previous row's
/// store, a few cycles, where densifying a mostly sparse block costs a write of every
/// value and a second read). Call it from a [`multiversion!`] function.
///
/// # Errors
/// [`DeferredVectorBlock::for_each_row`]'s error for a sparse row with bad indices.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn class_sums_rows(
    rows: &crate::frame::vector::DeferredVectorBlock<'_>,
    first: usize,
    at: crate::frame::vector::At<'_>,
    cls: &[u32],
    scale: Option<&[f64]>,
    check: ValueCheck,
    squares: bool,
    sums: &mut [f64],
    m2: &mut [f64],
    weight: &mut [f64],
    total: &mut [f64],
) -> crate::error::Result<f64> {
    sums_kernel!(
        rows_in_order,
        check,
        squares,
        scale,
        (rows, first, at, cls),
        (sums, m2, weight, total)
    )
}

/// [`class_sums_rows`] with the check, squares and scale as constants.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn rows_in_order<const K: u8, const SQ: bool, const WT: bool>(
    rows: &crate::frame::vector::DeferredVectorBlock<'_>,
    first: usize,
    at: crate::frame::vector::At<'_>,
    cls: &[u32],
    w: &[f64],
    sums: &mut [f64],
    m2: &mut [f64],
    weight: &mut [f64],
    total: &mut [f64],
) -> crate::error::Result<f64> {
    use crate::frame::vector::Row;
    let n = rows.size();
    // Whether some value failed: an OR of `term != 0` (no add chain across the values).
    let mut bad = false;
    // Inlined (with `for_each_row`) into the caller's multiversion! build.
    rows.for_each_row(
        first,
        cls.len(),
        at,
        #[inline(always)]
        |i, row| {
            let c = cls[i] as usize;
            let a = if WT { w[i] } else { 1.0 };
            weight[c] += a;
            // Adds +0.0 for a zero scale: the total (never -0.0) keeps its bits.
            total[c] += if a != 0.0 { a } else { 0.0 };
            let s = &mut sums[c * n..(c + 1) * n];
            let q: &mut [f64] = if SQ {
                &mut m2[c * n..(c + 1) * n]
            } else {
                &mut []
            };
            let add = |s: &mut f64, q: Option<&mut f64>, xv: f64| {
                let p = if WT { a * xv } else { xv };
                *s += p;
                if let Some(q) = q {
                    *q += p * xv;
                }
            };
            match row {
                Row::Dense(x) => {
                    let mut b = false;
                    if SQ {
                        for ((s, q), &xv) in s.iter_mut().zip(q.iter_mut()).zip(x) {
                            add(s, Some(q), xv);
                            b |= check_term::<K>(xv) != 0.0;
                        }
                    } else {
                        for (s, &xv) in s.iter_mut().zip(x) {
                            add(s, None, xv);
                            b |= check_term::<K>(xv) != 0.0;
                        }
                    }
                    bad |= b;
                }
                Row::Sparse {
                    indices, values, ..
                } => {
                    // Each term's bits less its sign, OR-ed: non-zero when a term is not ±0
                    // (NaN included), in fewer instructions than a compare per value.
                    let mut b = 0u64;
                    assert!(s.len() == n && (!SQ || q.len() == n));
                    for (&j, &xv) in indices.iter().zip(values) {
                        let j = j as usize;
                        debug_assert!(j < n);
                        // SAFETY: `for_each_row` hands over only sparse rows whose indices are
                        // below the vector size `n` (checked as they are read, or by
                        // `VectorBlock::new`), and `s` (and `q` with squares) hold `n` values.
                        unsafe {
                            let q = if SQ {
                                Some(q.get_unchecked_mut(j))
                            } else {
                                None
                            };
                            add(s.get_unchecked_mut(j), q, xv);
                        }
                        b |= check_term::<K>(xv).to_bits() << 1;
                    }
                    bad |= b != 0;
                }
            }
        },
    )?;
    Ok(if bad { 1.0 } else { 0.0 })
}
