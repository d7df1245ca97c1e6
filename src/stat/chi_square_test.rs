//! [`ChiSquareTest`]: Pearson's independence test of every feature against a categorical
//! label (Spark's `org.apache.spark.ml.stat.ChiSquareTest`, source
//! `mllib/src/main/scala/org/apache/spark/ml/stat/ChiSquareTest.scala`).

use ahash::AHashMap as HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::distribution::chi_squared_p_value;
use super::input::{bad, check_no_nan, fold_chunks, read_parts, require_rows, Part};
use super::selection::{label_index, FeatureTest, LabelIndex};
use crate::error::Result;
use crate::frame::vector::Row;
use crate::frame::{vector, DataFrame};

/// Spark's `ChiSquareTest.maxCategories`: the most distinct values a feature or the label
/// may take.
pub const MAX_CATEGORIES: usize = 10_000;

/// Feature values `0.0, 1.0, …` below this are counted in a small dense table rather
/// than a hash map.
const SMALL_VALUES: usize = 64;
/// The small tables are used with at most this many distinct labels.
const SMALL_TABLE_LABELS: usize = 64;
/// The most bytes of the grouped tables (see [`Tally::grouped`]): they stay in the L1/L2
/// caches; beyond, values are counted one at a time.
const GROUPED_BYTES: usize = 64 * 1024;

/// Pearson's χ² independence test of each feature of a vector column against a
/// categorical label (Spark's `org.apache.spark.ml.stat.ChiSquareTest`).
///
/// For each feature, the (value, label) pairs are counted into a contingency table (rows:
/// the feature's distinct values ascending; columns: the label's) in one parallel pass;
/// the statistic is `Σ (observed − expected)² / expected` summed column by column as Spark
/// sums it, with `(values − 1)(labels − 1)` degrees of freedom and the p-value
/// `1 − cdf` of the χ² distribution (a table of one row or column: statistic 0, p-value 1,
/// 0 degrees of freedom). Every distinct real value is a category: a feature or label
/// with more than 10,000 of them is refused, as Spark refuses it.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::stat::ChiSquareTest;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["num_support_calls"]).with_output_col("v").transform(&df)?;
/// let r = ChiSquareTest::results(&df, "v", "churn")?;
/// assert_eq!(r.len(), 1);
/// assert!(r[0].p_value >= 0.0 && r[0].p_value <= 1.0);
/// // Spark's one-row output: pValues, degreesOfFreedom, statistics
/// let out = ChiSquareTest::test(&df, "v", "churn", false)?;
/// assert_eq!(out.num_rows(), 1);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`](crate::Error::ColumnNotFound) /
/// [`Error::ColumnType`](crate::Error::ColumnType) for a missing or mistyped column;
/// [`Error::InvalidValue`](crate::Error::InvalidValue) for a null or NaN value, and for a
/// label or feature with more than 10,000 distinct values (naming the row where the
/// 10,001st appears); [`Error::EmptyInput`](crate::Error::EmptyInput) without rows.
#[derive(Clone, Copy, Debug)]
pub struct ChiSquareTest;

impl ChiSquareTest {
    /// The test of every feature of `features` against `label`, in feature order.
    pub fn results(df: &DataFrame, features: &str, label: &str) -> Result<Vec<FeatureTest>> {
        chi_square(df, "ChiSquareTest", features, label)
    }

    /// Spark's output frame: with `flatten = false` one row of `pValues` (vector),
    /// `degreesOfFreedom` (array of int) and `statistics` (vector); with `flatten = true`
    /// one row per feature of `featureIndex` (int), `pValue`, `degreesOfFreedom` (long) and
    /// `statistic`.
    pub fn test(df: &DataFrame, features: &str, label: &str, flatten: bool) -> Result<DataFrame> {
        let r = Self::results(df, features, label)?;
        let batch = if flatten {
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    Field::new("featureIndex", DataType::Int32, false),
                    Field::new("pValue", DataType::Float64, false),
                    Field::new("degreesOfFreedom", DataType::Int64, false),
                    Field::new("statistic", DataType::Float64, false),
                ])),
                vec![
                    Arc::new(Int32Array::from_iter_values(
                        r.iter().map(|t| t.feature_index as i32),
                    )) as ArrayRef,
                    Arc::new(Float64Array::from_iter_values(r.iter().map(|t| t.p_value))),
                    Arc::new(Int64Array::from_iter_values(
                        r.iter().map(|t| t.degrees_of_freedom),
                    )),
                    Arc::new(Float64Array::from_iter_values(
                        r.iter().map(|t| t.statistic),
                    )),
                ],
            )?
        } else {
            let n = r.len();
            let dof = Arc::new(ListArray::new(
                Arc::new(Field::new("element", DataType::Int32, false)),
                arrow::buffer::OffsetBuffer::from_lengths([n]),
                Arc::new(Int32Array::from_iter_values(
                    r.iter().map(|t| t.degrees_of_freedom as i32),
                )),
                None,
            ));
            let p = vector::vector_array(r.iter().map(|t| t.p_value).collect(), n, None)?;
            let s = vector::vector_array(r.iter().map(|t| t.statistic).collect(), n, None)?;
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![
                    vector::vector_field("pValues", n, false),
                    Field::new("degreesOfFreedom", dof.data_type().clone(), false),
                    vector::vector_field("statistics", n, false),
                ])),
                vec![Arc::new(p) as ArrayRef, dof as ArrayRef, Arc::new(s)],
            )?
        };
        DataFrame::from_batches(vec![batch])
    }
}

/// A feature value as a category key (-0.0 is 0.0, as Spark's `==` has it).
fn key(v: f64) -> u64 {
    (v + 0.0).to_bits()
}

/// Spark's chi-squared test of every feature against the label.
#[allow(clippy::needless_range_loop)] // parallel arrays indexed by row / feature
pub(crate) fn chi_square(
    df: &DataFrame,
    stage: &'static str,
    features: &str,
    label: &str,
) -> Result<Vec<FeatureTest>> {
    let (n, parts) = read_parts(df, stage, features, Some(label), None)?;
    require_rows(stage, &parts, "a chi-squared test needs rows")?;
    let (labels, index) = label_index(&parts);
    if labels.len() > MAX_CATEGORIES {
        return Err(too_many(stage, label, &parts, None));
    }
    let k = labels.len();
    // Values 0, 1, …, SMALL_VALUES - 1 (bucket indices, binary and small categorical codes)
    // are counted in a dense table, `[class][feature][value]`; any other value in the
    // feature's hash map. (With many labels the table would be large: the maps alone then.)
    let small = k <= SMALL_TABLE_LABELS;
    // One tally per run of chunks (in parallel), merged in order below. The counts are
    // integers, so how the rows are grouped changes nothing.
    let tallies = fold_chunks(
        &parts,
        || Tally::new(n, k, small),
        |t, part, first, rows| t.count(stage, features, &index, part, first, rows),
    )?;
    let mut tallies = tallies.into_iter();
    let mut total = tallies.next().unwrap_or_else(|| Tally::new(n, k, small));
    for t in tallies {
        total.merge(t);
    }
    total
        .into_tables(k)
        .into_iter()
        .enumerate()
        .map(|(j, mut values)| {
            if values.len() > MAX_CATEGORIES {
                return Err(too_many(stage, features, &parts, Some(j)));
            }
            values.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (statistic, dof) = chi_squared_matrix(&values, k);
            let p_value = if dof == 0 {
                1.0
            } else {
                chi_squared_p_value(statistic, dof as f64)
            };
            Ok(FeatureTest {
                feature_index: j,
                p_value,
                degrees_of_freedom: dof,
                statistic: if dof == 0 { 0.0 } else { statistic },
            })
        })
        .collect()
}

/// One feature's small-value counts: `[value]` for values `0.0 ..= 63.0`.
type SmallCounts = [u64; SMALL_VALUES];

/// The (value, label) counts of some rows: small values in dense tables, the others in a
/// hash map per feature (value bits → counts per class).
struct Tally {
    /// `[class][feature]`: the counts of values `0.0, 1.0, …` (empty with many labels).
    small: Vec<SmallCounts>,
    /// Dense rows of a chunk whose codes are all below `2^group_bits` (1, 2 or 4 bits:
    /// binary, up to 4 or up to 16 values) are counted `8 / group_bits` features at a
    /// time: `[class][group][256]`, the group's codes packed into one byte-sized index,
    /// one increment for the group instead of one per feature. Added into `small` (each
    /// index's count to each of its features' codes) by [`flush_groups`](Self::flush_groups)
    /// before the counts are read or merged. u32: a tally counts at most
    /// `CHUNKS_PER_TASK · CHUNK_ROWS` rows.
    grouped: Vec<u32>,
    /// The code width `grouped` is laid out for (0: none yet).
    group_bits: usize,
    /// The number of features.
    n: usize,
    /// Per feature: every other value's counts per class.
    maps: Vec<HashMap<u64, Vec<u64>>>,
    /// Scratch: a chunk's values as small codes.
    codes: Vec<u8>,
    /// Scratch: a chunk's rows' classes.
    classes: Vec<u32>,
    /// The number of classes.
    k: usize,
}

impl Tally {
    /// An empty tally of `n` features and `k` classes, with small tables when `small`.
    fn new(n: usize, k: usize, small: bool) -> Self {
        Tally {
            small: vec![[0; SMALL_VALUES]; if small { k * n } else { 0 }],
            grouped: Vec::new(),
            group_bits: 0,
            n,
            k,
            maps: vec![HashMap::new(); n],
            codes: Vec::new(),
            classes: Vec::new(),
        }
    }

    /// Counts rows `first..first + rows` of a part.
    #[allow(clippy::needless_range_loop)] // rows index the labels and the values
    fn count(
        &mut self,
        stage: &'static str,
        features: &str,
        index: &LabelIndex,
        part: &Part<'_>,
        first: usize,
        rows: usize,
    ) -> Result<()> {
        let n = part.block.size();
        let y = part.label.as_deref().unwrap_or(&[]);
        let k = self.k;
        let small = !self.small.is_empty();
        let mut nan = false;
        if small && n > 0 && self.count_small_codes(index, part, y, first, rows) {
            return Ok(());
        }
        if let Some(values) = part.block.as_dense() {
            for r in first..first + rows {
                let c = index.of(y[r]);
                for (j, &v) in values[r * n..(r + 1) * n].iter().enumerate() {
                    nan |= v.is_nan();
                    self.count_value(n, j, v, c, k);
                }
            }
        } else {
            // Rows stored sparse or dense: the stored values, then each feature's unstored
            // zeros per class (the class's rows less the values stored).
            let mut class_rows = vec![0u64; k];
            let mut stored = vec![0u64; n * k];
            for r in first..first + rows {
                let c = index.of(y[r]);
                if let Some(x) = part.block.row(r) {
                    class_rows[c] += 1;
                    x.for_each_active(|j, v| {
                        nan |= v.is_nan();
                        stored[j * k + c] += 1;
                        self.count_value(n, j, v, c, k);
                    });
                }
            }
            for j in 0..n {
                for c in 0..k {
                    let zeros = class_rows[c] - stored[j * k + c];
                    if zeros > 0 {
                        if small {
                            self.small[c * n + j][0] += zeros;
                        } else {
                            self.maps[j].entry(key(0.0)).or_insert_with(|| vec![0; k])[c] += zeros;
                        }
                    }
                }
            }
        }
        if nan {
            // Names the first NaN's row.
            check_no_nan(stage, features, part, first, rows)?;
        }
        Ok(())
    }

    /// The fast path of [`count`](Self::count): when every value stored for the rows is
    /// one of `0.0 ..= 63.0` (binned or small categorical features), counts the rows in
    /// the small tables and returns true; else counts nothing and returns false. One
    /// vectorised pass converts the stored values to codes, then each value is one table
    /// increment: a dense row's every value; a sparse row's stored values, its unstored
    /// zeros counted as value 0 (the row counted at 0 for every feature, less one per
    /// stored value, with wrapping arithmetic that the chunk's end makes whole again).
    fn count_small_codes(
        &mut self,
        index: &LabelIndex,
        part: &Part<'_>,
        y: &[f64],
        first: usize,
        rows: usize,
    ) -> bool {
        let n = part.block.size();
        let stored = part.block.stored_values(first, rows);
        self.codes.resize(stored.len(), 0);
        // The OR of every code (so its width bounds them all), or none.
        let Some(or) = small_codes(stored, &mut self.codes) else {
            return false;
        };
        self.classes.resize(rows, 0);
        index.classes(&y[first..first + rows], &mut self.classes);
        let need = match or {
            0..=1 => 1,
            2..=3 => 2,
            4..=15 => 4,
            _ => 0,
        };
        // Grouped counting when the codes are narrow and the tables small; a layout for
        // wider codes takes narrower ones too, so it only ever widens (flushing first).
        let bits = need.max(self.group_bits);
        let bits = if need > 0 && self.k * n.div_ceil(8 / bits) * 256 * 4 <= GROUPED_BYTES {
            bits
        } else {
            0
        };
        if bits != 0 && bits != self.group_bits {
            self.flush_groups();
            self.group_bits = bits;
            self.grouped = vec![0; self.k * n.div_ceil(8 / bits) * 256];
        }
        let per_class = n.div_ceil(8 / bits.max(1)) * 256;
        if part.block.as_dense().is_some() {
            match bits {
                1 => grouped_rows::<1>(&mut self.grouped, per_class, &self.codes, n, &self.classes),
                2 => grouped_rows::<2>(&mut self.grouped, per_class, &self.codes, n, &self.classes),
                4 => grouped_rows::<4>(&mut self.grouped, per_class, &self.codes, n, &self.classes),
                _ => {
                    for (codes, &c) in self.codes.chunks_exact(n).zip(&self.classes) {
                        let c = c as usize;
                        for (t, &code) in self.small[c * n..(c + 1) * n].iter_mut().zip(codes) {
                            t[code as usize % SMALL_VALUES] += 1;
                        }
                    }
                }
            }
            return true;
        }
        let mut sparse_rows = vec![0u64; self.k];
        let mut at = 0;
        let kinds = part.block.kinds().unwrap_or(&[]);
        for (r, &c) in (first..first + rows).zip(&self.classes) {
            let c = c as usize;
            if kinds.get(r) == Some(&1) && bits != 0 {
                // A dense row (most rows of an assembled column): its `n` codes are next,
                // counted a group at a time, without building the row's view.
                let table = &mut self.grouped[c * per_class..(c + 1) * per_class];
                let codes = &self.codes[at..at + n];
                match bits {
                    1 => grouped_row::<1>(table, codes),
                    2 => grouped_row::<2>(table, codes),
                    _ => grouped_row::<4>(table, codes),
                }
                at += n;
                continue;
            }
            let table = &mut self.small[c * n..(c + 1) * n];
            if kinds.get(r) == Some(&1) {
                // A dense row: its `n` codes are next, counted as the dense path counts
                // them, without building the row's view.
                for (t, &code) in table.iter_mut().zip(&self.codes[at..at + n]) {
                    let t = &mut t[code as usize % SMALL_VALUES];
                    *t = t.wrapping_add(1);
                }
                at += n;
                continue;
            }
            match part.block.row(r) {
                Some(Row::Dense(x)) => {
                    for (t, &code) in table.iter_mut().zip(&self.codes[at..at + x.len()]) {
                        let t = &mut t[code as usize % SMALL_VALUES];
                        *t = t.wrapping_add(1);
                    }
                    at += x.len();
                }
                Some(Row::Sparse {
                    indices, values, ..
                }) => {
                    sparse_rows[c] += 1;
                    let codes = &self.codes[at..at + values.len()];
                    for (&j, &code) in indices.iter().zip(codes) {
                        let t = &mut table[j as usize];
                        let i = code as usize % SMALL_VALUES;
                        t[i] = t[i].wrapping_add(1);
                        t[0] = t[0].wrapping_sub(1);
                    }
                    at += values.len();
                }
                // read_parts refuses null rows.
                None => {}
            }
        }
        for (c, &rows) in sparse_rows.iter().enumerate() {
            for t in &mut self.small[c * n..(c + 1) * n] {
                t[0] = t[0].wrapping_add(rows);
            }
        }
        true
    }

    /// Counts one value `v` of feature `j` (of `n`) in class `c` (of `k`): in the small
    /// table when it is one of `0.0, 1.0, …, 63.0` and there is one, else in the
    /// feature's hash map.
    #[inline(always)]
    fn count_value(&mut self, n: usize, j: usize, v: f64, c: usize, k: usize) {
        let i = v as usize; // saturating: negatives and NaN give 0, checked below
        if !self.small.is_empty() && i < SMALL_VALUES && i as f64 == v {
            self.small[c * n + j][i] += 1;
        } else {
            self.maps[j].entry(key(v)).or_insert_with(|| vec![0; k])[c] += 1;
        }
    }

    /// Adds the grouped counts into the small tables and empties them.
    fn flush_groups(&mut self) {
        let b = self.group_bits;
        if b == 0 {
            return;
        }
        let (n, g) = (self.n, 8 / b);
        let groups = n.div_ceil(g);
        let mask = (1usize << b) - 1;
        for (cg, t) in self.grouped.chunks_exact_mut(256).enumerate() {
            let (c, gi) = (cg / groups, cg % groups);
            let j0 = gi * g;
            let features = &mut self.small[c * n + j0..c * n + (j0 + g).min(n)];
            for (idx, count) in t.iter_mut().enumerate() {
                if *count != 0 {
                    for (i, f) in features.iter_mut().enumerate() {
                        f[(idx >> (b * i)) & mask] += u64::from(*count);
                    }
                    *count = 0;
                }
            }
        }
    }

    /// Adds another tally's counts.
    fn merge(&mut self, mut other: Tally) {
        self.flush_groups();
        other.flush_groups();
        for (a, b) in self.small.iter_mut().zip(&other.small) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        for (acc, m) in self.maps.iter_mut().zip(other.maps) {
            for (v, c) in m {
                match acc.get_mut(&v) {
                    Some(e) => {
                        for (a, b) in e.iter_mut().zip(c) {
                            *a += b;
                        }
                    }
                    None => {
                        acc.insert(v, c);
                    }
                }
            }
        }
    }

    /// Per feature, its contingency table: each value seen with its counts per class (of
    /// `k`), in no particular order.
    fn into_tables(mut self, k: usize) -> Vec<Vec<(f64, Vec<u64>)>> {
        self.flush_groups();
        let n = self.maps.len();
        self.maps
            .into_iter()
            .enumerate()
            .map(|(j, m)| {
                let mut rows: Vec<(f64, Vec<u64>)> =
                    m.into_iter().map(|(b, c)| (f64::from_bits(b), c)).collect();
                if !self.small.is_empty() {
                    for i in 0..SMALL_VALUES {
                        let counts: Vec<u64> = (0..k).map(|c| self.small[c * n + j][i]).collect();
                        if counts.iter().any(|&c| c > 0) {
                            rows.push((i as f64, counts));
                        }
                    }
                }
                rows
            })
            .collect()
    }
}

crate::frame::kernels::multiversion! {
    /// Writes each value's small code (`v` for `v` one of `0.0 ..= 63.0`, `-0.0` as 0) to
    /// `codes`; when every value was one, the OR of all codes (its width bounds them),
    /// else `None`. Branch-free, so it vectorises.
    fn small_codes(values: &[f64], codes: &mut [u8]) -> Option<u8> {
        // 2^52: for 0 <= v < 2^52, v + 2^52 rounds v to an integer, held in the low bits.
        const SHIFT: f64 = 4_503_599_627_370_496.0;
        let mut bad = 0u8;
        let mut or = 0u8;
        for (&v, code) in values.iter().zip(codes.iter_mut()) {
            let t = v + SHIFT;
            let c = t.to_bits() as u8;
            *code = c;
            or |= c;
            let ok = (v >= 0.0) & (v < SMALL_VALUES as f64) & (t - SHIFT == v);
            bad |= u8::from(!ok);
        }
        (bad == 0).then_some(or)
    }
}

/// Counts one dense row's codes (each below `2^B`) in its class's grouped table
/// (`[group][256]`, see [`Tally::grouped`]): `8 / B` features' codes packed into one index,
/// the first feature in the low bits, one increment per group.
#[inline(always)]
fn grouped_row<const B: usize>(table: &mut [u32], codes: &[u8]) {
    let g = 8 / B;
    let mut groups = codes.chunks_exact(g);
    let mut t = 0;
    for group in &mut groups {
        let mut idx = 0usize;
        for (i, &c) in group.iter().enumerate() {
            idx |= (c as usize) << (B * i);
        }
        table[t + idx] += 1;
        t += 256;
    }
    let rest = groups.remainder();
    if !rest.is_empty() {
        let mut idx = 0usize;
        for (i, &c) in rest.iter().enumerate() {
            idx |= (c as usize) << (B * i);
        }
        table[t + idx] += 1;
    }
}

/// [`grouped_row`] over every row of a chunk of dense rows (`n` codes each; class
/// `classes[r]`, `per_class` entries of `table` a class).
fn grouped_rows<const B: usize>(
    table: &mut [u32],
    per_class: usize,
    codes: &[u8],
    n: usize,
    classes: &[u32],
) {
    for (row, &c) in codes.chunks_exact(n).zip(classes) {
        let c = c as usize;
        grouped_row::<B>(&mut table[c * per_class..(c + 1) * per_class], row);
    }
}

/// Spark's `chiSquaredMatrix` over the contingency table (rows: values, columns: labels),
/// walked column-major: the statistic and `(rows − 1)(columns − 1)`.
fn chi_squared_matrix(rows: &[(f64, Vec<u64>)], k: usize) -> (f64, i64) {
    let nr = rows.len();
    let mut col_sums = vec![0.0; k];
    let mut row_sums = vec![0.0; nr];
    for c in 0..k {
        for (i, (_, counts)) in rows.iter().enumerate() {
            let v = counts[c] as f64;
            col_sums[c] += v;
            row_sums[i] += v;
        }
    }
    let total: f64 = col_sums.iter().sum();
    let mut statistic = 0.0;
    for c in 0..k {
        for (i, (_, counts)) in rows.iter().enumerate() {
            let expected = col_sums[c] * row_sums[i] / total;
            let dev = counts[c] as f64 - expected;
            statistic += dev * dev / expected;
        }
    }
    (statistic, (k as i64 - 1) * (nr as i64 - 1))
}

/// The error for a label (`feature = None`) or feature with more than
/// [`MAX_CATEGORIES`] distinct values, at the row where the next one appears.
fn too_many(
    stage: &'static str,
    column: &str,
    parts: &[Part<'_>],
    feature: Option<usize>,
) -> crate::Error {
    let mut seen = ahash::AHashSet::new();
    for p in parts {
        for r in 0..p.block.len() {
            let v = match feature {
                None => p.label.as_deref().unwrap_or(&[])[r],
                Some(j) => p.block.row(r).and_then(|x| x.get(j)).unwrap_or(0.0),
            };
            if seen.insert(key(v)) && seen.len() > MAX_CATEGORIES {
                let what = match feature {
                    None => format!("label {v}: more than {MAX_CATEGORIES} distinct label values"),
                    Some(j) => format!(
                        "value {v} of feature {j}: more than {MAX_CATEGORIES} distinct values in that feature"
                    ),
                };
                return bad(
                    stage,
                    column,
                    p.pi,
                    r,
                    what,
                    "the chi-squared test expects categorical values (as Spark, at most 10000 per column); bucket continuous values first (QuantileDiscretizer, Bucketizer), or test continuous features with UnivariateFeatureSelector featureType=continuous",
                );
            }
        }
    }
    crate::Error::Internal("too many categories counted but not found again".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::VectorAssembler;
    use crate::pipeline::Transformer;
    use arrow::array::Float64Array;

    /// The contingency counts by a plain hash map per feature, as Spark's
    /// `ChiSquareTest` gathers them (each `(value, label)` pair counted once per row):
    /// the fast paths (small dense tables, chunks of small codes only, sparse rows'
    /// unstored zeros) must give the same statistics bit for bit, and the same degrees of
    /// freedom. 20,000 rows: three chunks, so that chunks are merged.
    #[test]
    fn small_tables_and_unstored_zeros_count_as_a_plain_map() {
        let rows = 20_000usize;
        // Small codes, zeros (most rows), codes beyond the small table, negatives,
        // fractions, -0.0.
        let f0: Vec<f64> = (0..rows).map(|i| ((i * 7919) % 13) as f64).collect();
        let f1: Vec<f64> = (0..rows)
            .map(|i| match i % 9 {
                0 => 70.0,
                1 => -1.0,
                2 => 2.5,
                3 => -0.0,
                4 => 63.0,
                5 => 64.0,
                _ => 0.0,
            })
            .collect();
        // Small codes only (the whole-chunk fast path), -0.0 and 63.0 included; in the
        // last chunk one value that is not (2.5) sends that chunk down the general path.
        let f2: Vec<f64> = (0..rows)
            .map(|i| match i % 7 {
                0 => -0.0,
                1 => 63.0,
                _ if i == rows - 3 => 2.5,
                _ => ((i * 13) % 5) as f64,
            })
            .collect();
        // The grouped tables: binary (1-bit codes), 0..=3 (2 bits); a feature whose codes
        // widen from chunk to chunk (1, 2, then 4 bits: the layout widens, flushing), and
        // one with a code of 40 in the middle chunk only (that chunk counted one value at
        // a time between grouped ones).
        let f3: Vec<f64> = (0..rows).map(|i| ((i * 7) % 3 == 0) as u8 as f64).collect();
        let f4: Vec<f64> = (0..rows).map(|i| ((i * 11) % 4) as f64).collect();
        let f5: Vec<f64> = (0..rows)
            .map(|i| match i / 8192 {
                0 => (i % 2) as f64,
                1 => (i % 4) as f64,
                _ => (i % 13) as f64,
            })
            .collect();
        let f6: Vec<f64> = (0..rows)
            .map(|i| if i == 9000 { 40.0 } else { (i % 3) as f64 })
            .collect();
        // Nine binary features: one group of eight and one of one.
        let bin: Vec<Vec<f64>> = (0..9)
            .map(|b| (0..rows).map(|i| ((i >> (b % 5)) & 1) as f64).collect())
            .collect();
        let names = ["b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"];
        let mut cols = vec![
            ("f0", &f0),
            ("f1", &f1),
            ("f2", &f2),
            ("f3", &f3),
            ("f4", &f4),
            ("f5", &f5),
            ("f6", &f6),
        ];
        cols.extend(names.iter().copied().zip(&bin));
        let nine: Vec<usize> = (7..16).collect();
        for (labels, pick) in [
            (3usize, &[0, 1][..]),
            (80, &[0, 1]),
            (2, &[0, 2]),
            (5, &[2]),
            (2, &[3]),
            (3, &[3, 4]),
            (2, &[5]),
            (4, &[5, 6]),
            (2, &nine[..]),
            // 40 labels: one group of the grouped tables fits, two do not.
            (40, &[3, 4]),
            (40, &nine[..]),
        ] {
            let y: Vec<f64> = (0..rows).map(|i| ((i * 31) % labels) as f64).collect();
            let mut columns: Vec<(&str, ArrayRef)> = pick
                .iter()
                .map(|&c| {
                    (
                        cols[c].0,
                        Arc::new(Float64Array::from(cols[c].1.clone())) as ArrayRef,
                    )
                })
                .collect();
            columns.push(("y", Arc::new(Float64Array::from(y.clone()))));
            let batch = arrow::array::RecordBatch::try_from_iter(columns).unwrap();
            let df = DataFrame::from_batches(vec![batch]).unwrap();
            let df = VectorAssembler::new()
                .with_input_cols(pick.iter().map(|&c| cols[c].0))
                .with_output_col("v")
                .transform(&df)
                .unwrap();
            let want: Vec<(f64, i64)> = pick
                .iter()
                .map(|&c| cols[c].1)
                .map(|f| {
                    let mut m: std::collections::HashMap<u64, Vec<u64>> = Default::default();
                    for (x, l) in f.iter().zip(&y) {
                        m.entry(key(*x)).or_insert_with(|| vec![0; labels])[*l as usize] += 1;
                    }
                    let mut v: Vec<(f64, Vec<u64>)> =
                        m.into_iter().map(|(b, c)| (f64::from_bits(b), c)).collect();
                    v.sort_by(|a, b| a.0.total_cmp(&b.0));
                    chi_squared_matrix(&v, labels)
                })
                .collect();
            for frame in [
                df.clone(),
                df.vectors_to_sparse("v").unwrap(),
                df.repartition(3).unwrap(),
            ] {
                let got = ChiSquareTest::results(&frame, "v", "y").unwrap();
                assert_eq!(got.len(), want.len());
                for (g, (s, d)) in got.iter().zip(&want) {
                    assert_eq!(g.statistic.to_bits(), s.to_bits(), "labels {labels}");
                    assert_eq!(g.degrees_of_freedom, *d, "labels {labels}");
                }
            }
        }
    }
}
