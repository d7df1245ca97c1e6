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
        let mut n: u32 = 0;
        let mut r = 1.0;
        while (n as f64) < 1000.0 * self.mean {
            r *= self.rng.next_double();
            if r >= self.p {
                n += 1;
            } else {
                return n;
            }
        }
        n
    }
}

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

    fn next(&mut self, bits: u32) -> u32 {
        let v = &mut self.v;
        let idx = self.index;
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
        self.index = rm1;
        z4 ^= (z4 << 7) & 0xe46e_1700;
        z4 ^= (z4 << 15) & 0x9b86_8000;
        z4 >> (32 - bits)
    }

    fn next_double(&mut self) -> f64 {
        let high = (self.next(26) as u64) << 26;
        let low = self.next(26) as u64;
        (high | low) as f64 * (1.0 / (1u64 << 52) as f64)
    }
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
