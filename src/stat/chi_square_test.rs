//! [`ChiSquareTest`]: Pearson's independence test of every feature against a categorical
//! label (Spark's `org.apache.spark.ml.stat.ChiSquareTest`, source
//! `mllib/src/main/scala/org/apache/spark/ml/stat/ChiSquareTest.scala`).

use ahash::AHashMap as HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array, Int32Array, Int64Array, ListArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};

use super::distribution::chi_squared_p_value;
use super::input::{bad, check_no_nan, map_chunks, read_parts, require_rows, Part};
use super::selection::{label_index, FeatureTest};
use crate::error::Result;
use crate::frame::{vector, DataFrame};

/// Spark's `ChiSquareTest.maxCategories`: the most distinct values a feature or the label
/// may take.
pub const MAX_CATEGORIES: usize = 10_000;

/// Feature values `0.0, 1.0, …` below this are counted in a small dense table rather
/// than a hash map.
const SMALL_VALUES: usize = 64;
/// The small tables are used with at most this many distinct labels.
const SMALL_TABLE_LABELS: usize = 64;

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
    // Per chunk, per feature: value -> counts per label.
    type Counts = HashMap<u64, Vec<u64>>;
    let tables = map_chunks(&parts, |part, first, rows| {
        let y = part.label.as_deref().unwrap_or(&[]);
        let mut t: Vec<Counts> = vec![HashMap::new(); n];
        // Values 0, 1, …, SMALL_VALUES - 1 (bucket indices, binary and small categorical
        // codes) are counted in a dense table per feature, `[value][class]`; any other value
        // in the feature's hash map. The table joins the map at the end of the chunk.
        // (With many labels the tables would be large: the maps alone then.)
        let sv = if k <= SMALL_TABLE_LABELS {
            SMALL_VALUES
        } else {
            0
        };
        let mut small = vec![0u64; n * sv * k];
        let mut nan = false;
        if let Some(values) = part.block.as_dense() {
            for r in first..first + rows {
                let c = index.of(y[r]);
                for (j, &v) in values[r * n..(r + 1) * n].iter().enumerate() {
                    nan |= v.is_nan();
                    count_value(&mut t, &mut small, sv, k, j, v, c);
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
                        count_value(&mut t, &mut small, sv, k, j, v, c);
                    });
                }
            }
            for j in 0..n {
                for c in 0..k {
                    let zeros = class_rows[c] - stored[j * k + c];
                    if zeros > 0 {
                        if sv > 0 {
                            small[j * sv * k + c] += zeros;
                        } else {
                            t[j].entry(key(0.0)).or_insert_with(|| vec![0; k])[c] += zeros;
                        }
                    }
                }
            }
        }
        if nan {
            // Names the first NaN's row.
            check_no_nan(stage, features, part, first, rows)?;
        }
        for (j, table) in small.chunks(sv.max(1) * k).enumerate() {
            for (i, counts) in table.chunks_exact(k).enumerate() {
                if counts.iter().any(|&c| c > 0) {
                    let e = t[j].entry(key(i as f64)).or_insert_with(|| vec![0; k]);
                    for (a, b) in e.iter_mut().zip(counts) {
                        *a += b;
                    }
                }
            }
        }
        Ok(t)
    })?;
    let mut total: Vec<Counts> = vec![HashMap::new(); n];
    for t in tables {
        for (acc, m) in total.iter_mut().zip(t) {
            for (v, c) in m {
                let e = acc.entry(v).or_insert_with(|| vec![0; k]);
                for (a, b) in e.iter_mut().zip(c) {
                    *a += b;
                }
            }
        }
    }
    total
        .into_iter()
        .enumerate()
        .map(|(j, counts)| {
            if counts.len() > MAX_CATEGORIES {
                return Err(too_many(stage, features, &parts, Some(j)));
            }
            let mut values: Vec<(f64, Vec<u64>)> = counts
                .into_iter()
                .map(|(b, c)| (f64::from_bits(b), c))
                .collect();
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

/// Counts one value `v` of feature `j` in class `c`: in the small table when it is one of
/// `0.0, 1.0, …, sv - 1`, else in the feature's hash map.
#[inline(always)]
fn count_value(
    t: &mut [HashMap<u64, Vec<u64>>],
    small: &mut [u64],
    sv: usize,
    k: usize,
    j: usize,
    v: f64,
    c: usize,
) {
    let i = v as usize; // saturating: negatives and NaN give 0, checked below
    if i < sv && i as f64 == v {
        small[(j * sv + i) * k + c] += 1;
    } else {
        t[j].entry(key(v)).or_insert_with(|| vec![0; k])[c] += 1;
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
    /// the fast paths (small dense tables, sparse rows' unstored zeros) must give the same
    /// statistics bit for bit, and the same degrees of freedom.
    #[test]
    fn small_tables_and_unstored_zeros_count_as_a_plain_map() {
        let rows = 3000usize;
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
        for labels in [3usize, 80] {
            let y: Vec<f64> = (0..rows).map(|i| ((i * 31) % labels) as f64).collect();
            let batch = arrow::array::RecordBatch::try_from_iter([
                ("f0", Arc::new(Float64Array::from(f0.clone())) as ArrayRef),
                ("f1", Arc::new(Float64Array::from(f1.clone())) as ArrayRef),
                ("y", Arc::new(Float64Array::from(y.clone())) as ArrayRef),
            ])
            .unwrap();
            let df = DataFrame::from_batches(vec![batch]).unwrap();
            let df = VectorAssembler::new()
                .with_input_cols(["f0", "f1"])
                .with_output_col("v")
                .transform(&df)
                .unwrap();
            let want: Vec<(f64, i64)> = [&f0, &f1]
                .iter()
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
                for (g, (s, d)) in got.iter().zip(&want) {
                    assert_eq!(g.statistic.to_bits(), s.to_bits(), "labels {labels}");
                    assert_eq!(g.degrees_of_freedom, *d, "labels {labels}");
                }
            }
        }
    }
}
