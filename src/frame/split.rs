//! `repartition`, `random_split` and `sample`.

use arrow::array::{BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, filter_record_batch, take_record_batch};

use super::order::spark_sort_indices;
use super::DataFrame;
use crate::error::{Error, Result};
use crate::random::{JavaRandom, JvmRandom, PoissonDistribution, XorShiftRandom};

impl DataFrame {
    /// Redistributes the rows into `n` partitions of near-equal size, keeping row order
    /// (partition `i` gets rows `[i*N/n, (i+1)*N/n)`). Rows that stay inside one source
    /// partition are zero-copy slices.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Int32Array, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from((0..10).collect::<Vec<_>>())) as ArrayRef)]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap().repartition(4).unwrap();
    /// let sizes: Vec<usize> = df.partitions().iter().map(|p| p.num_rows()).collect();
    /// assert_eq!(sizes, vec![2, 3, 2, 3]);
    /// ```
    pub fn repartition(&self, n: usize) -> Result<DataFrame> {
        if n == 0 {
            return Err(Error::Frame(
                "repartition(0): the number of partitions must be at least 1".into(),
            ));
        }
        let total = self.num_rows();
        // Global start offset of each source partition.
        let mut starts = Vec::with_capacity(self.partitions.len());
        let mut acc = 0;
        for p in &self.partitions {
            starts.push(acc);
            acc += p.num_rows();
        }
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (lo, hi) = (i * total / n, (i + 1) * total / n);
            let mut pieces: Vec<RecordBatch> = Vec::new();
            for (p, &s) in self.partitions.iter().zip(&starts) {
                let e = s + p.num_rows();
                let (a, b) = (lo.max(s), hi.min(e));
                if a < b {
                    pieces.push(p.slice(a - s, b - a));
                }
            }
            out.push(match pieces.len() {
                0 => RecordBatch::new_empty(self.schema.clone()),
                1 => pieces.pop().expect("one piece"),
                _ => concat_batches(&self.schema, &pieces)?,
            });
        }
        Ok(self.with_partitions(out))
    }

    /// Splits the rows at random into `weights.len()` DataFrames whose sizes are about
    /// proportional to `weights`, giving **exactly the rows Spark's
    /// `Dataset.randomSplit(weights, seed)` gives** for the same data in the same
    /// partitions.
    ///
    /// As Spark does, each partition is first sorted locally by every column in schema
    /// order (ascending, nulls first, stable; NaN above +∞, −0.0 equal to 0.0, strings by
    /// UTF-8 bytes, vectors by their values; map columns are skipped), then partition `p`
    /// seeds Spark's `XORShiftRandom` with `seed + p` and draws one `nextDouble()` per row
    /// in sorted order: the row goes to split `i` when
    /// `bounds[i] <= u < bounds[i + 1]`, with `bounds` the running sums of the normalised
    /// weights. The splits keep the input's partitioning, in sorted row order. Which rows
    /// land where depends on the partitioning, as in Spark: read files with
    /// [`Partitioning::Spark`](crate::frame::Partitioning::Spark) to get PySpark's rows.
    ///
    /// `weights` is an array (`[0.8, 0.2]`, giving an array of DataFrames you can
    /// destructure) or a slice / `Vec` (giving a `Vec<DataFrame>`).
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Int32Array, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from((0..1000).collect::<Vec<_>>())) as ArrayRef)]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap();
    /// let [train, test] = df.random_split([0.8, 0.2], 42)?;
    /// assert_eq!(train.num_rows() + test.num_rows(), 1000);
    /// let parts: Vec<DataFrame> = df.random_split(&[0.5, 0.3, 0.2][..], 42)?;
    /// assert_eq!(parts.len(), 3);
    /// # Ok::<(), mlpipe::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Frame`] when a weight is negative or not finite, the weights sum to 0, or a
    /// column has a type whose Spark ordering is not implemented.
    pub fn random_split<W: SplitWeights>(&self, weights: W, seed: i64) -> Result<W::Output> {
        let w = weights.as_weights();
        let bounds = split_bounds(w)?;
        let k = w.len();
        let per_partition = self.map_partitions(|p, batch| {
            let order = spark_sort_indices(batch, "random_split")?;
            let n = batch.num_rows();
            let mut rng = XorShiftRandom::new(seed.wrapping_add(p as i64));
            let mut picks: Vec<Vec<u32>> = vec![Vec::new(); k];
            for r in 0..n {
                let row = order.as_ref().map_or(r as u32, |o| o[r]);
                let u = rng.next_double();
                // bounds[0] = 0 <= u always; the last bound is 1 > u (or a rounding of it).
                if let Some(s) = (0..k).find(|&s| bounds[s] <= u && u < bounds[s + 1]) {
                    picks[s].push(row);
                }
            }
            picks
                .into_iter()
                .map(|rows| Ok(take_record_batch(batch, &UInt32Array::from(rows))?))
                .collect::<Result<Vec<_>>>()
        })?;
        let mut outs: Vec<Vec<RecordBatch>> = vec![Vec::new(); k];
        for parts in per_partition {
            for (s, b) in parts.into_iter().enumerate() {
                outs[s].push(b);
            }
        }
        W::output(outs.into_iter().map(|p| self.with_partitions(p)).collect())
    }

    /// A random sample of the rows, **the rows Spark's `Dataset.sample(withReplacement,
    /// fraction, seed)` gives** for the same data in the same partitions (no sort, unlike
    /// [`DataFrame::random_split`]).
    ///
    /// - Without replacement, partition `p` draws one `nextDouble()` per row from Spark's
    ///   `XORShiftRandom(seed + p)` and keeps the row when it is below `fraction`.
    /// - With replacement, each row is repeated a Poisson(`fraction`) number of times, drawn
    ///   by commons-math's `PoissonDistribution` seeded with the `(p + 1)`-th `nextLong()`
    ///   of `java.util.Random(seed)`, as Spark's `PoissonSampler`.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Int64Array, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([("id", Arc::new(Int64Array::from((0..40).collect::<Vec<_>>())) as ArrayRef)]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap();
    /// let s = df.sample(false, 0.3, 11)?;
    /// assert!(s.num_rows() < 40);
    /// # Ok::<(), mlpipe::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Frame`] when `fraction` is negative or not finite, above 1 without
    /// replacement, or 40 or more with replacement.
    pub fn sample(&self, with_replacement: bool, fraction: f64, seed: i64) -> Result<DataFrame> {
        let bad = !fraction.is_finite()
            || fraction < 0.0
            || (!with_replacement && fraction > 1.0)
            || (with_replacement && fraction >= PoissonDistribution::MAX_MEAN);
        if bad {
            let range = if with_replacement {
                "[0, 40)"
            } else {
                "[0, 1]"
            };
            return Err(Error::Frame(format!(
                "sample: fraction must be in {range} when with_replacement is {with_replacement}, got {fraction}"
            )));
        }
        let parts = if with_replacement {
            let mut seeds = JavaRandom::new(seed);
            let part_seeds: Vec<i64> = (0..self.num_partitions())
                .map(|_| seeds.next_long())
                .collect();
            self.map_partitions(|p, batch| {
                let mut rows = Vec::new();
                if fraction > 0.0 {
                    let mut poisson = PoissonDistribution::new(fraction)?;
                    poisson.reseed(part_seeds[p]);
                    for r in 0..batch.num_rows() as u32 {
                        rows.extend(std::iter::repeat_n(r, poisson.sample() as usize));
                    }
                }
                Ok(take_record_batch(batch, &UInt32Array::from(rows))?)
            })?
        } else {
            self.map_partitions(|p, batch| {
                if fraction <= 0.0 {
                    return Ok(batch.slice(0, 0));
                }
                let mut rng = XorShiftRandom::new(seed.wrapping_add(p as i64));
                let mask: BooleanArray = (0..batch.num_rows())
                    .map(|_| Some(rng.next_double() < fraction))
                    .collect();
                Ok(filter_record_batch(batch, &mask)?)
            })?
        };
        Ok(self.with_partitions(parts))
    }
}

/// Spark's cumulative bounds `[0, w0/s, w0/s + w1/s, ..., 1]` (running sum, left to right).
fn split_bounds(weights: &[f64]) -> Result<Vec<f64>> {
    if weights.is_empty() || weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(Error::Frame(format!(
            "random_split: weights must be finite and non-negative, got {weights:?}"
        )));
    }
    let sum: f64 = weights.iter().sum();
    if sum <= 0.0 {
        return Err(Error::Frame(format!(
            "random_split: weights must sum to a positive number, got {weights:?}"
        )));
    }
    let mut bounds = Vec::with_capacity(weights.len() + 1);
    let mut acc = 0.0;
    bounds.push(acc);
    for w in weights {
        acc += w / sum;
        bounds.push(acc);
    }
    Ok(bounds)
}

/// The weights argument of [`DataFrame::random_split`]: an array `[f64; N]` gives
/// `[DataFrame; N]`; a slice, `&[f64; N]` or `Vec<f64>` gives `Vec<DataFrame>`.
pub trait SplitWeights {
    /// What `random_split` returns for these weights.
    type Output;
    /// The weights.
    fn as_weights(&self) -> &[f64];
    /// Packs the splits (one per weight, in order).
    fn output(splits: Vec<DataFrame>) -> Result<Self::Output>;
}

impl<const N: usize> SplitWeights for [f64; N] {
    type Output = [DataFrame; N];
    fn as_weights(&self) -> &[f64] {
        self
    }
    fn output(splits: Vec<DataFrame>) -> Result<[DataFrame; N]> {
        let n = splits.len();
        splits
            .try_into()
            .map_err(|_| Error::Internal(format!("random_split made {n} splits for {N} weights")))
    }
}

impl<const N: usize> SplitWeights for &[f64; N] {
    type Output = Vec<DataFrame>;
    fn as_weights(&self) -> &[f64] {
        &self[..]
    }
    fn output(splits: Vec<DataFrame>) -> Result<Vec<DataFrame>> {
        Ok(splits)
    }
}

impl SplitWeights for &[f64] {
    type Output = Vec<DataFrame>;
    fn as_weights(&self) -> &[f64] {
        self
    }
    fn output(splits: Vec<DataFrame>) -> Result<Vec<DataFrame>> {
        Ok(splits)
    }
}

impl SplitWeights for Vec<f64> {
    type Output = Vec<DataFrame>;
    fn as_weights(&self) -> &[f64] {
        self
    }
    fn output(splits: Vec<DataFrame>) -> Result<Vec<DataFrame>> {
        Ok(splits)
    }
}

impl SplitWeights for &Vec<f64> {
    type Output = Vec<DataFrame>;
    fn as_weights(&self) -> &[f64] {
        self
    }
    fn output(splits: Vec<DataFrame>) -> Result<Vec<DataFrame>> {
        Ok(splits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, AsArray, Int64Array};
    use arrow::datatypes::Int64Type;
    use std::sync::Arc;

    fn ids(df: &DataFrame) -> Vec<i64> {
        df.partitions()
            .iter()
            .flat_map(|p| p.column(0).as_primitive::<Int64Type>().values().to_vec())
            .collect()
    }

    fn frame(n: i64) -> DataFrame {
        let b = RecordBatch::try_from_iter([(
            "id",
            Arc::new(Int64Array::from((0..n).collect::<Vec<_>>())) as ArrayRef,
        )])
        .unwrap();
        DataFrame::from_batches(vec![b]).unwrap()
    }

    #[test]
    fn split_partitions_the_rows() {
        let df = frame(10_000).repartition(3).unwrap();
        let [a, b] = df.random_split([0.8, 0.2], 7).unwrap();
        let mut all = [ids(&a), ids(&b)].concat();
        all.sort();
        assert_eq!(all, (0..10_000).collect::<Vec<_>>());
        let n0 = a.num_rows() as f64;
        assert!((n0 / 10_000.0 - 0.8).abs() < 0.02, "{n0}");
        let [_, c] = df.random_split([0.8, 0.2], 8).unwrap();
        assert_ne!(ids(&b), ids(&c));
    }

    #[test]
    fn split_does_not_depend_on_thread_count() {
        let df = frame(5_000).repartition(5).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| df.random_split([0.7, 0.3], 3).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(ids(&a[0]), ids(&b[0]));
        assert_eq!(ids(&a[1]), ids(&b[1]));
    }

    #[test]
    fn split_rejects_bad_weights() {
        let df = frame(3);
        assert!(df.random_split(Vec::new(), 1).is_err());
        assert!(df.random_split(&[-1.0, 2.0], 1).is_err());
        assert!(df.random_split(&[0.0, 0.0], 1).is_err());
        assert!(df.random_split(&[f64::NAN], 1).is_err());
    }

    #[test]
    fn repartition_keeps_rows_in_order() {
        let df = frame(10).repartition(3).unwrap().repartition(4).unwrap();
        assert_eq!(df.num_partitions(), 4);
        assert_eq!(ids(&df), (0..10).collect::<Vec<_>>());
        let more = frame(2).repartition(4).unwrap();
        assert_eq!(more.num_partitions(), 4);
        assert_eq!(more.num_rows(), 2);
        assert!(frame(2).repartition(0).is_err());
    }
}
