//! Random-number generators that give the JVM's numbers bit for bit.
//!
//! Spark draws its random numbers from three generators; a port that wants Spark's rows,
//! folds, bootstrap counts or cluster seeds must use the same ones:
//!
//! | generator | Spark uses it for |
//! |---|---|
//! | [`JavaRandom`] (`java.util.Random`) | per-partition seeds of RDD sampling and `MLUtils.kFold`, `takeSample`'s shuffle |
//! | [`XorShiftRandom`] (`org.apache.spark.util.random.XORShiftRandom`) | `Dataset.randomSplit`, `Dataset.sample`, SQL `rand(seed)`, RDD Bernoulli samplers, k-means‖ |
//! | [`PoissonDistribution`] (commons-math3 `PoissonDistribution`) | the bootstrap of random forests (`BaggedPoint`) |
//!
//! [`JavaRandom`] and [`XorShiftRandom`] share the [`JvmRandom`] trait: like
//! `java.util.Random`, every draw (`next_int`, `next_long`, `next_double`,
//! `next_int_bounded`) is composed from one primitive, `next(bits)`, so both give
//! `java.util.Random`'s derived values for their own bit streams.
//!
//! Seeds are `i64`, as Java's `long`: Spark's seed arithmetic (`seed + partitionIndex`)
//! wraps like Java's.
//!
//! # Examples
//! ```
//! use mlpipe::random::{JavaRandom, JvmRandom, XorShiftRandom};
//!
//! // What `new java.util.Random(42).nextDouble()` prints on a JVM.
//! assert_eq!(JavaRandom::new(42).next_double(), 0.7275636800328681);
//! // What Spark's `new XORShiftRandom(42).nextDouble()` gives: the first draw of
//! // `randomSplit(..., seed = 42)` in partition 0.
//! assert_eq!(XorShiftRandom::new(42).next_double(), 0.619189370225301);
//! ```

mod poisson;

pub use poisson::PoissonDistribution;

/// The draws of `java.util.Random`, composed from one primitive `next(bits)` exactly as
/// the JDK 17 composes them. Implemented by [`JavaRandom`] and [`XorShiftRandom`].
pub trait JvmRandom {
    /// The next `bits` (1..=32) random bits as a Java `int` (`Random.next(bits)`).
    fn next(&mut self, bits: u32) -> i32;

    /// Java's `nextInt()`: 32 random bits.
    fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// Java's `nextInt(bound)`: uniform in `[0, bound)`, by JDK 17's rejection loop.
    ///
    /// # Panics
    /// If `bound <= 0` (Java throws `IllegalArgumentException`); callers pass a positive
    /// length or count.
    fn next_int_bounded(&mut self, bound: i32) -> i32 {
        assert!(
            bound > 0,
            "next_int_bounded: bound must be positive, got {bound}"
        );
        let mut r = self.next(31);
        let m = bound - 1;
        if bound & m == 0 {
            return ((bound as i64 * r as i64) >> 31) as i32;
        }
        let mut u = r;
        loop {
            r = u % bound;
            if u.wrapping_sub(r).wrapping_add(m) >= 0 {
                return r;
            }
            u = self.next(31);
        }
    }

    /// Java's `nextLong()`: `((long) next(32) << 32) + next(32)`.
    fn next_long(&mut self) -> i64 {
        let hi = (self.next(32) as i64) << 32;
        hi.wrapping_add(self.next(32) as i64)
    }

    /// Java's `nextDouble()`: 53 random bits scaled into `[0, 1)`.
    fn next_double(&mut self) -> f64 {
        let hi = (self.next(26) as i64) << 27;
        (hi + self.next(27) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// `java.util.Random`: the 48-bit linear congruential generator.
///
/// # Examples
/// ```
/// use mlpipe::random::{JavaRandom, JvmRandom};
/// let mut r = JavaRandom::new(42);
/// assert_eq!(r.next_double(), 0.7275636800328681); // `new java.util.Random(42).nextDouble()`
/// assert_eq!(r.next_double(), 0.6832234717598454);
/// ```
#[derive(Clone, Debug)]
pub struct JavaRandom {
    seed: i64,
}

const JAVA_MULTIPLIER: i64 = 0x5DEE_CE66D;
const JAVA_MASK: i64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new java.util.Random(seed)`.
    pub fn new(seed: i64) -> Self {
        Self {
            seed: (seed ^ JAVA_MULTIPLIER) & JAVA_MASK,
        }
    }

    /// `setSeed(seed)`: restarts the stream as `new Random(seed)` would.
    pub fn set_seed(&mut self, seed: i64) {
        *self = Self::new(seed);
    }
}

impl JvmRandom for JavaRandom {
    fn next(&mut self, bits: u32) -> i32 {
        self.seed = self.seed.wrapping_mul(JAVA_MULTIPLIER).wrapping_add(0xB) & JAVA_MASK;
        (self.seed as u64 >> (48 - bits)) as i32
    }
}

/// Spark's `XORShiftRandom`: a 64-bit xorshift generator whose seed is first scrambled by
/// MurmurHash3 ([`XorShiftRandom::hash_seed`]). It returns the **low** `bits` of its state
/// from `next(bits)`.
///
/// Spark seeds one per partition with `seed + partitionIndex` for `Dataset.randomSplit`,
/// `Dataset.sample` and SQL `rand(seed)`.
///
/// # Examples
/// ```
/// use mlpipe::random::{JvmRandom, XorShiftRandom};
/// // Spark's `new XORShiftRandom(42)`: three `nextDouble()`s.
/// let mut r = XorShiftRandom::new(42);
/// let u: Vec<f64> = (0..3).map(|_| r.next_double()).collect();
/// assert_eq!(u, [0.619189370225301, 0.5096018842446481, 0.8325259388871524]);
/// ```
#[derive(Clone, Debug)]
pub struct XorShiftRandom {
    state: i64,
}

impl XorShiftRandom {
    /// `new XORShiftRandom(seed)`: the state is [`XorShiftRandom::hash_seed`]`(seed)`.
    pub fn new(seed: i64) -> Self {
        Self {
            state: Self::hash_seed(seed),
        }
    }

    /// `setSeed(seed)`: restarts the stream as `new XORShiftRandom(seed)` would.
    pub fn set_seed(&mut self, seed: i64) {
        self.state = Self::hash_seed(seed);
    }

    /// Spark's `XORShiftRandom.hashSeed`: Scala's `MurmurHash3.bytesHash` of the seed's 8
    /// big-endian bytes, twice (the second time seeded with the first hash); the high 32
    /// bits are the second hash, the low 32 bits the first.
    ///
    /// ```
    /// use mlpipe::random::XorShiftRandom;
    /// assert_eq!(XorShiftRandom::hash_seed(42), 4037347896089686661);
    /// ```
    pub fn hash_seed(seed: i64) -> i64 {
        let bytes = seed.to_be_bytes();
        let lo = murmur3_bytes_hash(&bytes, SCALA_ARRAY_SEED);
        let hi = murmur3_bytes_hash(&bytes, lo);
        ((hi as i64) << 32) | (lo as i64 & 0xFFFF_FFFF)
    }
}

impl JvmRandom for XorShiftRandom {
    fn next(&mut self, bits: u32) -> i32 {
        let mut x = self.state as u64;
        x ^= x << 21;
        x ^= x >> 35;
        x ^= x << 4;
        self.state = x as i64;
        (x & ((1u64 << bits) - 1)) as i32
    }
}

/// Scala's `MurmurHash3.arraySeed`.
const SCALA_ARRAY_SEED: i32 = 0x3c07_4a61;

/// Scala 2.13's `scala.util.hashing.MurmurHash3.bytesHash(data, seed)` (32-bit x86
/// MurmurHash3, little-endian 4-byte blocks).
fn murmur3_bytes_hash(data: &[u8], seed: i32) -> i32 {
    let mut h = seed as u32;
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        h = murmur_mix(h, k);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, &b) in tail.iter().enumerate() {
            k ^= (b as u32) << (8 * i);
        }
        h = murmur_mix_last(h, k);
    }
    murmur_avalanche(h ^ data.len() as u32) as i32
}

fn murmur_mix_last(h: u32, k: u32) -> u32 {
    let k = k
        .wrapping_mul(0xcc9e_2d51)
        .rotate_left(15)
        .wrapping_mul(0x1b87_3593);
    h ^ k
}

fn murmur_mix(h: u32, k: u32) -> u32 {
    murmur_mix_last(h, k)
        .rotate_left(13)
        .wrapping_mul(5)
        .wrapping_add(0xe654_6b64)
}

fn murmur_avalanche(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines of `tests/jvm/random_reference.txt`, printed by `tests/jvm/RandomReference.java`
    /// on OpenJDK 17 with PySpark 4.3.0's spark-core and commons-math3 3.6.1 jars.
    pub(super) const REFERENCE: &str = include_str!("../../tests/jvm/random_reference.txt");

    /// The values of `key` on a reference line, parsed as `T`, up to the next word that is
    /// not a number.
    pub(super) fn values<T: std::str::FromStr>(line: &str, key: &str) -> Vec<T> {
        let words: Vec<&str> = line.split(' ').collect();
        let at = words.iter().position(|w| *w == key).expect(key);
        words[at + 1..]
            .iter()
            .map_while(|w| w.parse().ok())
            .collect()
    }

    fn draws<R: JvmRandom>(r: &mut R, line: &str, bound: (&str, i32)) {
        let d: Vec<f64> = (0..3).map(|_| r.next_double()).collect();
        assert_eq!(d, values::<f64>(line, "nextDouble"), "{line}");
        let i: Vec<i32> = (0..3).map(|_| r.next_int()).collect();
        assert_eq!(i, values::<i32>(line, "nextInt"), "{line}");
        let l: Vec<i64> = (0..3).map(|_| r.next_long()).collect();
        assert_eq!(l, values::<i64>(line, "nextLong"), "{line}");
        let b: Vec<i32> = (0..3).map(|_| r.next_int_bounded(bound.1)).collect();
        assert_eq!(b, values::<i32>(line, bound.0), "{line}");
    }

    #[test]
    fn java_random_matches_the_jvm() {
        let mut n = 0;
        for line in REFERENCE.lines().filter(|l| l.starts_with("java ")) {
            let seed: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            let mut r = JavaRandom::new(seed);
            draws(&mut r, line, ("nextInt(10)", 10));
            let b: Vec<i32> = (0..3).map(|_| r.next_int_bounded(16)).collect();
            assert_eq!(b, values::<i32>(line, "nextInt(16)"), "{line}");
            n += 1;
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn xorshift_matches_spark() {
        let mut n = 0;
        for line in REFERENCE.lines().filter(|l| l.starts_with("xorshift ")) {
            let seed: i64 = line.split(' ').nth(1).unwrap().parse().unwrap();
            assert_eq!(
                vec![XorShiftRandom::hash_seed(seed)],
                values::<i64>(line, "hashSeed")
            );
            let mut r = XorShiftRandom::new(seed);
            draws(&mut r, line, ("nextInt(7)", 7));
            r.set_seed(seed);
            assert_eq!(r.next_double(), values::<f64>(line, "nextDouble")[0]);
            n += 1;
        }
        assert_eq!(n, 6);
    }

    #[test]
    fn murmur3_matches_scala() {
        let line = REFERENCE
            .lines()
            .find(|l| l.starts_with("murmur3 "))
            .unwrap();
        let arrays: [&[u8]; 5] = [&[], &[1], &[1, 2], &[1, 2, 3], &[1, 2, 3, 4, 5, 200, 7]];
        let got: Vec<i32> = arrays
            .iter()
            .map(|a| murmur3_bytes_hash(a, SCALA_ARRAY_SEED))
            .collect();
        assert_eq!(got, values::<i32>(line, "bytesHash"));
    }
}
