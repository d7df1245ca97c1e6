//! commons-math3's `PoissonDistribution.sample()` over its default `Well19937c` generator.

use crate::error::{Error, Result};

/// The Poisson sampler Spark's random forests draw their bootstrap counts from:
/// commons-math3 3.6.1 `PoissonDistribution(mean)` with its default `Well19937c`
/// generator, reseeded by `reseedRandomGenerator(seed)`.
///
/// Spark's `BaggedPoint` (bootstrap with replacement) builds one per partition with mean
/// `subsamplingRate`, reseeds it with `seed + partitionIndex + 1` and calls `sample()`
/// once per (row, tree), row-major. Do the same to get Spark's counts:
///
/// ```
/// use mlpipe::random::PoissonDistribution;
/// let (seed, partition, num_trees) = (0_i64, 0_i64, 3);
/// let mut poisson = PoissonDistribution::new(1.0)?;
/// poisson.reseed(seed + partition + 1);
/// let counts: Vec<u32> = (0..num_trees).map(|_| poisson.sample()).collect();
/// // commons-math3 on a JVM: `p = new PoissonDistribution(1.0); p.reseedRandomGenerator(1);`
/// // then three `p.sample()`.
/// assert_eq!(counts, [0, 0, 1]);
/// # Ok::<(), mlpipe::Error>(())
/// ```
///
/// Only means below 40 are supported (commons-math switches to another algorithm, built
/// on its normal and exponential samplers, from 40 on); Spark's bootstrap uses the
/// subsampling rate, at most 1. `exp(-mean)` is Rust's `f64::exp`, which gives
/// commons-math's `FastMath.exp` value for the means tested.
#[derive(Clone, Debug)]
pub struct PoissonDistribution {
    mean: f64,
    /// `exp(-mean)`: the product of uniforms stops below it.
    p: f64,
    rng: Well19937c,
}

impl PoissonDistribution {
    /// The largest mean (exclusive) this sampler supports.
    pub const MAX_MEAN: f64 = 40.0;

    /// `new PoissonDistribution(mean)`, seeded with 0 until [`PoissonDistribution::reseed`].
    ///
    /// # Errors
    /// [`Error::InvalidParam`] unless `0 < mean < 40`.
    pub fn new(mean: f64) -> Result<Self> {
        if !(mean > 0.0 && mean < Self::MAX_MEAN) {
            return Err(Error::InvalidParam {
                stage: "PoissonDistribution",
                param: "mean".into(),
                expected: "in (0, 40) (commons-math's small-mean algorithm)".into(),
                got: mean.to_string(),
            });
        }
        Ok(Self {
            mean,
            p: (-mean).exp(),
            rng: Well19937c::new(0),
        })
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// `reseedRandomGenerator(seed)`: restarts the generator's stream.
    pub fn reseed(&mut self, seed: i64) {
        self.rng = Well19937c::new(seed);
    }

    /// `sample()`: one Poisson draw (multiplication of uniforms until the product falls
    /// below `exp(-mean)`, capped at `1000 * mean` as commons-math caps it).
    pub fn sample(&mut self) -> u32 {
        let mut n = [0];
        self.sample_into(&mut n);
        n[0]
    }

    /// `out.len()` successive [`PoissonDistribution::sample`] draws, the same numbers from
    /// the same stream (the bulk form Spark's bootstrap needs: one draw per row and tree).
    ///
    /// ```
    /// use mlpipe::random::PoissonDistribution;
    /// let mut one = PoissonDistribution::new(1.0)?;
    /// let mut bulk = one.clone();
    /// one.reseed(7);
    /// bulk.reseed(7);
    /// let mut counts = [0u32; 1000];
    /// bulk.sample_into(&mut counts);
    /// assert!(counts.iter().all(|&c| c == one.sample()));
    /// # Ok::<(), mlpipe::Error>(())
    /// ```
    pub fn sample_into(&mut self, out: &mut [u32]) {
        // commons-math's loop, per draw: `n = 0; r = 1; while (n < 1000 * mean) { r *=
        // nextDouble(); if (r >= p) n++; else return n; } return n;`. `n < 1000 * mean`
        // holds for n = 0 (mean > 0) and fails first at `cap`.
        let cap = (1000.0 * self.mean).ceil() as u32;
        sample_batches(&mut self.rng, self.p, cap, out);
    }
}

crate::frame::kernels::multiversion! {
    /// [`PoissonDistribution::sample_into`]'s draws, `p = e^{−mean}`.
    fn sample_batches(rng: &mut Well19937c, p: f64, cap: u32, out: &mut [u32]) {
        let mut words = [0u32; 2 * BATCH];
        let mut u = [0.0f64; BATCH];
        let mut len = [0u8; BATCH];
        let mut k = 0;
        // The draw in progress across uniforms taken one at a time: its count and product.
        let (mut n, mut r) = (0u32, 1.0f64);
        while k < out.len() {
            // Every draw left (the one in progress too) takes at least one more uniform,
            // so a batch of this many is used up exactly before the draws end: the
            // stream stops where commons-math's would.
            let m = BATCH.min(out.len() - k);
            rng.fill(&mut words[..2 * m]);
            for (x, w) in u[..m].iter_mut().zip(words.chunks_exact(2)) {
                // BitsStreamGenerator.nextDouble(): (next(26) << 26 | next(26)) * 2^-52.
                let bits = u64::from(w[0] >> 6) << 26 | u64::from(w[1] >> 6);
                // bits < 2^52: the signed conversion (one instruction) is exact.
                *x = bits as i64 as f64 * (1.0 / (1u64 << 52) as f64);
            }
            // The length of a draw starting at uniform i, when it ends within 4 uniforms
            // (0 otherwise): its products are u[i], u[i]·u[i+1], .. (the first `r *= u`
            // multiplies 1.0, exactly), and they only decrease, so the draw ends at the
            // first one below p. Independent per i, so this runs at full width instead
            // of one random branch per uniform; the walk below then jumps draw by draw.
            let known = if cap >= 4 { m.saturating_sub(3) } else { 0 };
            for i in 0..known {
                let p1 = u[i];
                let p2 = p1 * u[i + 1];
                let p3 = p2 * u[i + 2];
                let p4 = p3 * u[i + 3];
                let l = 1 + u8::from(p1 >= p) + u8::from(p2 >= p) + u8::from(p3 >= p);
                len[i] = if p4 < p { l } else { 0 };
            }
            let mut i = 0;
            while i < m {
                if r == 1.0 && n == 0 && i < known && len[i] != 0 {
                    // A whole draw of len[i] uniforms: n = len[i] - 1 (below cap >= 4).
                    out[k] = u32::from(len[i]) - 1;
                    k += 1;
                    i += usize::from(len[i]);
                    continue;
                }
                // One uniform of a draw that is long, near the batch's end, or capped low.
                r *= u[i];
                i += 1;
                if r >= p {
                    n += 1;
                    if n < cap {
                        continue;
                    }
                }
                out[k] = n;
                k += 1;
                n = 0;
                r = 1.0;
            }
        }
    }
}

/// Uniforms made per batch in [`PoissonDistribution::sample_into`].
const BATCH: usize = 256;

/// commons-math3's `Well19937c` (WELL generator with Matsumoto–Kurita tempering), with
/// `BitsStreamGenerator.nextDouble()` (52 bits).
#[derive(Clone)]
struct Well19937c {
    v: Box<[u32; R]>,
    index: usize,
}

impl std::fmt::Debug for Well19937c {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Well19937c")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

const R: usize = 624;
const M1: usize = 70;
const M2: usize = 179;
const M3: usize = 449;

impl Well19937c {
    /// `setSeed(long)`: the seed's two halves, high first, then the MT-style fill.
    fn new(seed: i64) -> Self {
        let mut v = Box::new([0u32; R]);
        v[0] = (seed as u64 >> 32) as u32;
        v[1] = seed as u32;
        for i in 2..R {
            let l = v[i - 2] as i32 as i64; // Java widens the int with its sign
            v[i] = (1_812_433_253_i64
                .wrapping_mul(l ^ (l >> 30))
                .wrapping_add(i as i64)
                & 0xFFFF_FFFF) as u32;
        }
        Self { v, index: 0 }
    }

    /// The next `out.len()` outputs `next(32)`, in order.
    ///
    /// The state index runs down from `index` (each step's `i - 1` is the next step's
    /// `i`), so between the points where one of `i + M1`, `i + M2`, `i + M3`, `i - 1`,
    /// `i - 2` wraps around `R`, every step reads and writes at fixed offsets from `i`:
    /// the steps are run in those stretches, with the offsets as constants.
    #[inline(always)]
    fn fill(&mut self, out: &mut [u32]) {
        let v = &mut *self.v;
        let mut i = self.index;
        // The word at `i`: each step writes the next step's starting word, handed over
        // in a register rather than through memory.
        let mut v0 = v[i];
        let mut k = 0;
        while k < out.len() {
            let left = out.len() - k;
            // Runs steps i, i - 1, .., down to `lo` (or fewer when `out` fills first),
            // with `i + o1`, `i + o2`, `i + o3`, `i + b1`, `i + b2` the five positions.
            macro_rules! stretch {
                ($lo:expr, $o1:expr, $o2:expr, $o3:expr, $b1:expr, $b2:expr) => {{
                    let steps = (i + 1 - $lo).min(left);
                    for o in &mut out[k..k + steps] {
                        let at = |d: isize| i.wrapping_add_signed(d);
                        let (vm1, vm2, vm3) = (v[at($o1)], v[at($o2)], v[at($o3)]);
                        let (wm1, wm2) = (v[at($b1)], v[at($b2)]);
                        let z0 = (0x8000_0000 & wm1) ^ (0x7FFF_FFFF & wm2);
                        let z1 = (v0 ^ (v0 << 25)) ^ (vm1 ^ (vm1 >> 27));
                        let z2 = (vm2 >> 9) ^ (vm3 ^ (vm3 >> 1));
                        let z3 = z1 ^ z2;
                        // commons-math's z0 ^ (z1 ^ z1 << 9) ^ (z2 ^ z2 << 21) ^
                        // (z3 ^ z3 >>> 21) with z3 = z1 ^ z2: z1 and z2 cancel (xor
                        // algebra, the same bits), which shortens the chain from one
                        // step's word to the next.
                        let z4 = z0 ^ (z1 << 9) ^ (z1 >> 21) ^ (z2 << 21) ^ (z2 >> 21);
                        v[i] = z3;
                        v[at($b1)] = z4;
                        v[at($b2)] &= 0x8000_0000;
                        v0 = z4;
                        // Tempered below, all words at once.
                        *o = z4;
                        i = at($b1);
                    }
                    k += steps;
                }};
            }
            const W1: isize = M1 as isize - R as isize;
            const W2: isize = M2 as isize - R as isize;
            const W3: isize = M3 as isize - R as isize;
            const P1: isize = M1 as isize;
            const P2: isize = M2 as isize;
            const P3: isize = M3 as isize;
            const TOP: isize = R as isize - 1;
            // The long stretches (`i − 1` and `i − 2` unwrapped) in batches; the two steps
            // at 1 and 0 one by one.
            macro_rules! batched {
                ($lo:expr, $o1:expr, $o2:expr, $o3:expr) => {{
                    let steps = (i + 1 - $lo).min(left);
                    v0 = batched_steps::<{ $o1 }, { $o2 }, { $o3 }>(
                        v,
                        i,
                        v0,
                        &mut out[k..k + steps],
                    );
                    i -= steps;
                    k += steps;
                }};
            }
            match i {
                554.. => batched!(554, W1, W2, W3),
                445..=553 => batched!(445, P1, W2, W3),
                175..=444 => batched!(175, P1, P2, W3),
                2..=174 => batched!(2, P1, P2, P3),
                1 => stretch!(1, P1, P2, P3, -1, TOP - 1),
                _ => stretch!(0, P1, P2, P3, TOP, TOP - 1),
            }
        }
        self.index = i;
        // Matsumoto–Kurita tempering: per word, off the chain from one step to the next,
        // so it runs vectorised over the whole output after the steps.
        for t in out.iter_mut() {
            *t ^= (*t << 7) & 0xe46e_1700;
            *t ^= (*t << 15) & 0x9b86_8000;
        }
    }
}

/// Steps per batch of [`batched_steps`]: fewer than `M1`, so that no step of a batch reads
/// a word another step of it writes.
const STEP_BATCH: usize = 64;

/// `Well19937c` steps `i, i − 1, .., i + 1 − out.len()` (their `i − 1`, `i − 2` and
/// `i + O1`, `i + O2`, `i + O3` inside the state, unwrapped), given the word at `i`, `v0`:
/// writes their outputs (untempered) to `out` and returns the last one, the next step's
/// word at its `i`.
///
/// A step's output is `z4 = g(v0) ^ rest` with `g(v0) = (v0 << 9) ^ (v0 >> 21) ^ ((v0 &
/// 0x7f) << 4)` (z1's part from `v0` in `z1 << 9 ^ z1 >> 21`: `(v0 << 25) << 9` is 0 and
/// `(v0 << 25) >> 21` is `(v0 & 0x7f) << 4`) and `rest` from words the batch does not
/// write: `z0` (the top bit of the word at `i − 1`, which the previous step's masking
/// keeps, and the low bits of the word at `i − 2`, which no earlier step of the batch
/// touches) and `vm1`, `vm2`, `vm3` (at least `M1 − STEP_BATCH` positions away from every
/// write). So per batch: every `rest`, vectorised; then the chain of `z4`s, a few
/// instructions a step; then the words `z3 = z1 ^ z2` the steps leave in the state,
/// vectorised. The same state and outputs as the steps one by one.
#[inline(always)]
fn batched_steps<const O1: isize, const O2: isize, const O3: isize>(
    v: &mut [u32; R],
    i: usize,
    mut v0: u32,
    out: &mut [u32],
) -> u32 {
    let mut a = [0u32; STEP_BATCH];
    let mut z2 = [0u32; STEP_BATCH];
    let mut rest = [0u32; STEP_BATCH];
    let mut starts = [0u32; STEP_BATCH];
    let mut top = i;
    for chunk in out.chunks_mut(STEP_BATCH) {
        let b = chunk.len();
        // The batch's positions, ascending: base + j is the step `b − 1 − j` of the batch.
        let base = top + 1 - b;
        let at = |o: isize| base.wrapping_add_signed(o);
        let (s1, s2, s3) = (&v[at(O1)..][..b], &v[at(O2)..][..b], &v[at(O3)..][..b]);
        let (w1, w2) = (&v[base - 1..][..b], &v[base - 2..][..b]);
        for j in 0..b {
            let aj = s1[j] ^ (s1[j] >> 27);
            let z2j = (s2[j] >> 9) ^ (s3[j] ^ (s3[j] >> 1));
            let z0 = (0x8000_0000 & w1[j]) ^ (0x7FFF_FFFF & w2[j]);
            a[j] = aj;
            z2[j] = z2j;
            rest[j] = z0 ^ (aj << 9) ^ (aj >> 21) ^ (z2j << 21) ^ (z2j >> 21);
        }
        for (j, o) in (0..b).rev().zip(chunk.iter_mut()) {
            starts[j] = v0;
            v0 = ((v0 << 9) ^ (v0 >> 21)) ^ (((v0 & 0x7f) << 4) ^ rest[j]);
            *o = v0;
        }
        for (j, w) in v[base..base + b].iter_mut().enumerate() {
            let x = starts[j];
            *w = (x ^ (x << 25)) ^ a[j] ^ z2[j];
        }
        v[base - 1] = v0;
        v[base - 2] &= 0x8000_0000;
        top = base.wrapping_sub(1);
    }
    v0
}

#[cfg(test)]
mod tests {
    use super::super::tests::{values, REFERENCE};
    use super::*;

    #[test]
    fn poisson_matches_commons_math() {
        let mut n = 0;
        for line in REFERENCE.lines().filter(|l| l.starts_with("poisson ")) {
            let w: Vec<&str> = line.split(' ').collect();
            let (mean, seed): (f64, i64) = (w[1].parse().unwrap(), w[2].parse().unwrap());
            let expected: Vec<u32> = values(line, w[2]);
            let mut p = PoissonDistribution::new(mean).unwrap();
            p.reseed(seed);
            let got: Vec<u32> = (0..expected.len()).map(|_| p.sample()).collect();
            assert_eq!(got, expected, "{line}");
            n += 1;
        }
        assert_eq!(n, 20);
    }

    /// commons-math3's `Well19937c.next` and `PoissonDistribution.sample` transcribed
    /// line for line (index arithmetic modulo R, the state read back every step).
    fn literal_samples(mean: f64, seed: i64, count: usize) -> Vec<u32> {
        let mut w = Well19937c::new(seed);
        let mut next = |bits: u32| -> u32 {
            let v = &mut w.v;
            let idx = w.index;
            let rm1 = (idx + R - 1) % R;
            let rm2 = (idx + R - 2) % R;
            let v0 = v[idx];
            let vm1 = v[(idx + M1) % R];
            let vm2 = v[(idx + M2) % R];
            let vm3 = v[(idx + M3) % R];
            let z0 = (0x8000_0000 & v[rm1]) ^ (0x7FFF_FFFF & v[rm2]);
            let z1 = (v0 ^ (v0 << 25)) ^ (vm1 ^ (vm1 >> 27));
            let z2 = (vm2 >> 9) ^ (vm3 ^ (vm3 >> 1));
            let z3 = z1 ^ z2;
            let mut z4 = z0 ^ (z1 ^ (z1 << 9)) ^ (z2 ^ (z2 << 21)) ^ (z3 ^ (z3 >> 21));
            v[idx] = z3;
            v[rm1] = z4;
            v[rm2] &= 0x8000_0000;
            w.index = rm1;
            z4 ^= (z4 << 7) & 0xe46e_1700;
            z4 ^= (z4 << 15) & 0x9b86_8000;
            z4 >> (32 - bits)
        };
        let p = (-mean).exp();
        (0..count)
            .map(|_| {
                let mut n: u32 = 0;
                let mut r = 1.0;
                while (n as f64) < 1000.0 * mean {
                    let high = (next(26) as u64) << 26;
                    let low = next(26) as u64;
                    r *= (high | low) as f64 * (1.0 / (1u64 << 52) as f64);
                    if r >= p {
                        n += 1;
                    } else {
                        return n;
                    }
                }
                n
            })
            .collect()
    }

    #[test]
    fn bulk_draws_equal_the_literal_algorithm() {
        // Long streams (several wraps of the 624-word state), means whose cap
        // `1000 * mean` ends draws (0.0005: cap 0.5, 0.001: cap 1), Spark's subsampling
        // rates, and the largest mean supported; in one bulk call and in odd-sized pieces.
        for (mean, seed) in [
            (1.0, 1),
            (0.3, -7),
            (0.0005, 42),
            (0.001, 3),
            (5.0, 9),
            (39.9, 11),
        ] {
            let want = literal_samples(mean, seed, 20_000);
            let mut p = PoissonDistribution::new(mean).unwrap();
            p.reseed(seed);
            let mut got = vec![0u32; want.len()];
            p.sample_into(&mut got);
            assert_eq!(got, want, "mean {mean}");
            let mut p = PoissonDistribution::new(mean).unwrap();
            p.reseed(seed);
            let mut pieces = Vec::new();
            for chunk in want.chunks(997) {
                let mut c = vec![0u32; chunk.len()];
                p.sample_into(&mut c[..1]);
                p.sample_into(&mut c[1..]);
                pieces.extend(c);
            }
            assert_eq!(pieces, want, "mean {mean}, pieces");
        }
    }

    #[test]
    fn poisson_rejects_means_it_cannot_sample() {
        for m in [0.0, -1.0, 40.0, f64::NAN] {
            let e = PoissonDistribution::new(m).unwrap_err().to_string();
            assert!(
                e.starts_with("PoissonDistribution: parameter `mean` must be in (0, 40)"),
                "{e}"
            );
        }
    }
}
