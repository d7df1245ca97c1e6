//! `repartition` and `random_split`.

use arrow::array::{BooleanArray, RecordBatch};
use arrow::compute::{concat_batches, filter_record_batch};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::DataFrame;
use crate::error::{Error, Result};

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
    /// proportional to `weights` (which are normalised to sum to 1), like Spark's
    /// `randomSplit`.
    ///
    /// Each row draws one uniform number from a ChaCha8 stream seeded with `seed`, at the
    /// position of the row's global index, so **the same seed gives the same rows whatever
    /// the partition count and the thread count**, in this and future releases. Each result
    /// keeps the input's partitioning.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Int32Array, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from((0..1000).collect::<Vec<_>>())) as ArrayRef)]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap();
    /// let parts = df.random_split(&[0.8, 0.2], 42).unwrap();
    /// assert_eq!(parts[0].num_rows() + parts[1].num_rows(), 1000);
    /// ```
    pub fn random_split(&self, weights: &[f64], seed: u64) -> Result<Vec<DataFrame>> {
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
        // Upper bounds of each split's interval in [0, 1).
        let mut bounds = Vec::with_capacity(weights.len());
        let mut acc = 0.0;
        for w in weights {
            acc += w / sum;
            bounds.push(acc);
        }
        let k = weights.len();
        let mut starts = Vec::with_capacity(self.partitions.len());
        let mut acc_rows = 0u128;
        for p in &self.partitions {
            starts.push(acc_rows);
            acc_rows += p.num_rows() as u128;
        }
        let per_partition = self.map_partitions(|i, p| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Each row consumes one u64, i.e. two 32-bit words of the stream.
            rng.set_word_pos(starts[i] * 2);
            let mut which = Vec::with_capacity(p.num_rows());
            for _ in 0..p.num_rows() {
                let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
                let s = bounds.iter().position(|&b| u < b).unwrap_or(k - 1);
                which.push(s);
            }
            (0..k)
                .map(|s| {
                    let mask: BooleanArray = which.iter().map(|&w| Some(w == s)).collect();
                    Ok(filter_record_batch(p, &mask)?)
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let mut outs: Vec<Vec<RecordBatch>> = vec![Vec::new(); k];
        for parts in per_partition {
            for (s, b) in parts.into_iter().enumerate() {
                outs[s].push(b);
            }
        }
        Ok(outs.into_iter().map(|p| self.with_partitions(p)).collect())
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
    fn split_does_not_depend_on_partitioning() {
        let df = frame(10_000);
        let a = df.random_split(&[0.8, 0.2], 7).unwrap();
        let b = df
            .repartition(7)
            .unwrap()
            .random_split(&[4.0, 1.0], 7)
            .unwrap();
        assert_eq!(ids(&a[0]), ids(&b[0]));
        assert_eq!(ids(&a[1]), ids(&b[1]));
        let n0 = a[0].num_rows() as f64;
        assert!((n0 / 10_000.0 - 0.8).abs() < 0.02, "{n0}");
        // another seed gives another split
        let c = df.random_split(&[0.8, 0.2], 8).unwrap();
        assert_ne!(ids(&a[1]), ids(&c[1]));
    }

    #[test]
    fn split_does_not_depend_on_thread_count() {
        let df = frame(5_000).repartition(5).unwrap();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| df.random_split(&[0.7, 0.3], 3).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(ids(&a[0]), ids(&b[0]));
        assert_eq!(ids(&a[1]), ids(&b[1]));
    }

    #[test]
    fn split_rejects_bad_weights() {
        let df = frame(3);
        assert!(df.random_split(&[], 1).is_err());
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
