//! The per-feature tests behind the selectors: Spark's `ANOVATest` (continuous features,
//! categorical label) and `FValueTest` (continuous features and label), both
//! `private[ml]` in Spark (sources `mllib/src/main/scala/org/apache/spark/ml/stat/ANOVATest.scala`
//! and `FValueTest.scala`), and the one result type they share with
//! [`ChiSquareTest`](super::ChiSquareTest).

use ahash::AHashMap as HashMap;

use super::distribution::f_p_value;
use super::input::{
    check_no_nan, fold_chunks, map_chunks, provisional_shift, read_parts, require_rows, Part,
};
use crate::error::Result;
use crate::frame::kernels::{
    class_sums, class_sums_masked, group_rows, multiversion, MomentSums, Moments, ValueCheck,
    MASKED_CLASSES,
};
use crate::frame::DataFrame;

/// One feature's test against the label (Spark's `SelectionTestResult` with its feature
/// index, as the tests' flattened output has it).
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureTest {
    /// The feature's index in the vector.
    pub feature_index: usize,
    /// The p-value, `1 − cdf(statistic)` as Spark computes it.
    pub p_value: f64,
    /// Degrees of freedom (χ²: `(values − 1)(labels − 1)`; ANOVA: rows − 1; F-regression:
    /// rows − 2).
    pub degrees_of_freedom: i64,
    /// The χ² or F statistic.
    pub statistic: f64,
}

/// Up to this many distinct labels are looked up by a linear scan of their bits (a few
/// compares, no hashing); more through a hash map.
const LINEAR_LABELS: usize = 16;

/// A label's class: its index among the distinct labels in ascending order.
pub(crate) struct LabelIndex {
    /// The distinct labels' bits (`-0.0` as `0.0`), in ascending label order.
    bits: Vec<u64>,
    /// The same, bits to index, for more than [`LINEAR_LABELS`] labels.
    map: HashMap<u64, usize>,
}

impl LabelIndex {
    /// The class of label `y` (one of the labels the index was built from).
    #[inline]
    pub(crate) fn of(&self, y: f64) -> usize {
        let b = (y + 0.0).to_bits();
        if self.bits.len() <= LINEAR_LABELS {
            if let Some(c) = self.bits.iter().position(|&x| x == b) {
                return c;
            }
        }
        self.map[&b]
    }

    /// The class of each label of `ys` (labels the index was built from), into `out` (as
    /// long as `ys`): with few labels one compare pass per label over all the rows, which
    /// vectorises (no search per row); with many, through the hash map. The same classes
    /// as [`of`](Self::of) row by row.
    pub(crate) fn classes(&self, ys: &[f64], out: &mut [u32]) {
        if self.bits.len() <= LINEAR_LABELS {
            // Each label matches exactly one class: OR-ing the matching class in (class 0
            // adds nothing) leaves it.
            out.fill(0);
            for (c, &b) in self.bits.iter().enumerate().skip(1) {
                let c = c as u32;
                for (o, &y) in out.iter_mut().zip(ys) {
                    *o |= if (y + 0.0).to_bits() == b { c } else { 0 };
                }
            }
        } else {
            for (o, &y) in out.iter_mut().zip(ys) {
                *o = self.map[&(y + 0.0).to_bits()] as u32;
            }
        }
    }
}

/// The distinct label bits (`-0.0` as `0.0`) of `ys`: a short list scanned linearly while
/// there are few, a hash set beyond.
fn distinct_label_bits(ys: &[f64]) -> Vec<u64> {
    let mut few: Vec<u64> = Vec::new();
    let mut many: ahash::AHashSet<u64> = ahash::AHashSet::new();
    for &y in ys {
        let b = (y + 0.0).to_bits();
        if many.is_empty() {
            if !few.contains(&b) {
                few.push(b);
                if few.len() > LINEAR_LABELS {
                    many.extend(few.drain(..));
                }
            }
        } else {
            many.insert(b);
        }
    }
    few.extend(many);
    few
}

/// The distinct labels of the parts in ascending order, and the index giving each label's
/// class (the parts' chunks scanned in parallel).
pub(crate) fn label_index(parts: &[Part<'_>]) -> (Vec<f64>, LabelIndex) {
    use rayon::prelude::*;
    let tasks = super::input::chunks(parts);
    let found: Vec<Vec<u64>> = tasks
        .par_iter()
        .map(|&(k, first, len)| {
            let y = parts[k].label.as_deref().unwrap_or(&[]);
            distinct_label_bits(&y[first..first + len])
        })
        .collect();
    let mut seen: ahash::AHashSet<u64> = ahash::AHashSet::new();
    for f in found {
        seen.extend(f);
    }
    let mut labels: Vec<f64> = seen.into_iter().map(f64::from_bits).collect();
    labels.sort_by(f64::total_cmp);
    let bits: Vec<u64> = labels.iter().map(|y| y.to_bits()).collect();
    let map = bits.iter().enumerate().map(|(i, &b)| (b, i)).collect();
    (labels, LabelIndex { bits, map })
}

/// Spark's `ANOVATest.testClassification`: per feature the one-way ANOVA F statistic over
/// the label's classes, `F = (SSB / (k − 1)) / (SSW / (N − k))`, its p-value from
/// `F(k − 1, N − k)`, and `N − 1` degrees of freedom.
#[allow(clippy::needless_range_loop)] // parallel arrays indexed by row / feature
pub(crate) fn anova(
    df: &DataFrame,
    stage: &'static str,
    features: &str,
    label: &str,
) -> Result<Vec<FeatureTest>> {
    let (n, parts) = read_parts(df, stage, features, Some(label), None)?;
    require_rows(stage, &parts, "an ANOVA F-test needs rows")?;
    let (labels, index) = label_index(&parts);
    let k = labels.len();
    // Per chunk: per feature Σx, Σx², per (class, feature) Σx; per class the count. The
    // chunks' sums are added in chunk order: the same on any thread count.
    let sums = map_chunks(&parts, |part, first, rows| {
        let y = part.label.as_deref().unwrap_or(&[]);
        let mut cls = vec![0u32; rows];
        index.classes(&y[first..first + rows], &mut cls);
        let mut a = AnovaSums::new(n, k);
        for &c in &cls {
            a.counts[c as usize] += 1;
        }
        if n == 0 {
            return Ok(a);
        }
        let mut scratch = Vec::new();
        let mut chk = 0.0;
        for s0 in (0..rows).step_by(ANOVA_ROWS) {
            let m = ANOVA_ROWS.min(rows - s0);
            // Dense rows read in place; a sub-block holding a sparse row written out
            // densely (its zeros add exact zeros: every sum keeps its bits).
            let x = match part.block.dense_rows(first + s0, m) {
                Some(x) => x,
                None => {
                    scratch.resize(m * n, 0.0);
                    part.block
                        .write_dense_rows(first + s0, &mut scratch[..m * n]);
                    &scratch[..m * n]
                }
            };
            chk += anova_block(x, n, &cls[s0..s0 + m], &mut a);
        }
        if chk != 0.0 {
            // A value that is not finite: names the first NaN's row (±∞ give ±∞/NaN
            // statistics, as in Spark).
            check_no_nan(stage, features, part, first, rows)?;
        }
        Ok(a)
    })?;
    let mut s = vec![0.0; n];
    let mut sq = vec![0.0; n];
    let mut by = vec![0.0; n * k];
    let mut counts = vec![0u64; k];
    for a in &sums {
        for j in 0..n {
            s[j] += a.sum[j];
            sq[j] += a.sq[j];
        }
        for (x, y) in by.iter_mut().zip(&a.by) {
            *x += y;
        }
        for (x, y) in counts.iter_mut().zip(&a.counts) {
            *x += y;
        }
    }
    Ok(anova_statistics(n, &s, &sq, &by, &counts))
}

/// The F statistics, p-values and degrees of freedom of [`anova`] from its sums: per
/// feature `Σx`, `Σx²`, per class and feature (`c·n + j`) `Σx`, per class the rows.
fn anova_statistics(
    n: usize,
    s: &[f64],
    sq: &[f64],
    by: &[f64],
    counts: &[u64],
) -> Vec<FeatureTest> {
    let k = counts.len();
    let num_samples: u64 = counts.iter().sum();
    let ns = num_samples as f64;
    (0..n)
        .map(|j| {
            let sq_sum = s[j] * s[j];
            let ss_tot = sq[j] - sq_sum / ns;
            let total_sq_sum: f64 = (0..k)
                .map(|c| by[c * n + j] * by[c * n + j] / counts[c] as f64)
                .sum();
            let ssbn = total_sq_sum - sq_sum / ns;
            let sswn = ss_tot - ssbn;
            let dfbn = k as i64 - 1;
            let dfwn = num_samples as i64 - k as i64;
            let msb = ssbn / dfbn as f64;
            let msw = sswn / dfwn as f64;
            let f = msb / msw;
            FeatureTest {
                feature_index: j,
                p_value: f_p_value(f, dfbn as f64, dfwn as f64),
                degrees_of_freedom: dfbn + dfwn,
                statistic: f,
            }
        })
        .collect()
}

/// Rows per sub-block of the ANOVA pass: 512 rows of 20 features (80 KB) stay in the L2
/// cache between the kernel's two reads of them.
const ANOVA_ROWS: usize = 512;

/// One chunk's sums of the ANOVA pass.
struct AnovaSums {
    /// Per feature `Σx` and `Σx²`, over the rows in order.
    sum: Vec<f64>,
    sq: Vec<f64>,
    /// Per class and feature (`c·n + j`) `Σx` over the class's rows in order.
    by: Vec<f64>,
    /// Rows per class.
    counts: Vec<u64>,
    /// Scratch: rows grouped by class (more than two classes).
    order: Vec<u32>,
    start: Vec<usize>,
    next: Vec<usize>,
}

impl AnovaSums {
    fn new(n: usize, k: usize) -> Self {
        AnovaSums {
            sum: vec![0.0; n],
            sq: vec![0.0; n],
            by: vec![0.0; k * n],
            counts: vec![0; k],
            order: Vec::new(),
            start: vec![0; k + 1],
            next: vec![0; k],
        }
    }
}

multiversion! {
    /// Adds dense rows `x` (row `i` in class `cls[i]`) to `a`: `Σx`, `Σx²` per feature
    /// and `Σx` per class and feature, each in row order with the sums in registers (the
    /// NaiveBayes kernels: every row once in order behind a class mask with at most two
    /// classes, the rows grouped by class with more). Returns the sum of the values'
    /// finiteness terms: 0 exactly when every value is finite.
    fn anova_block(x: &[f64], n: usize, cls: &[u32], a: &mut AnovaSums) -> f64 {
        let k = a.counts.len();
        let m = cls.len();
        // Σx and Σx² over every row: one class, every row in it.
        let (mut w1, mut t1) = ([0.0], [0.0]);
        let one = [0u32; ANOVA_ROWS];
        let chk = class_sums_masked(
            x,
            n,
            &one[..m],
            1,
            None,
            ValueCheck::Finite,
            true,
            &mut a.sum,
            &mut a.sq,
            &mut w1,
            &mut t1,
        );
        if k <= MASKED_CLASSES {
            let (mut w, mut t) = ([0.0; MASKED_CLASSES], [0.0; MASKED_CLASSES]);
            class_sums_masked(
                x,
                n,
                cls,
                k,
                None,
                ValueCheck::None,
                false,
                &mut a.by,
                &mut [],
                &mut w[..k],
                &mut t[..k],
            );
        } else {
            a.order.resize(m, 0);
            group_rows(cls, k, &mut a.order, &mut a.start, &mut a.next);
            for c in 0..k {
                let rows = &a.order[a.start[c]..a.start[c + 1]];
                if !rows.is_empty() {
                    let sums = &mut a.by[c * n..(c + 1) * n];
                    class_sums(x, n, rows, None, ValueCheck::None, false, sums, &mut []);
                }
            }
        }
        chk
    }
}

/// Spark's `FValueTest.testRegression`: per feature the correlation `r` with the label
/// (two-pass covariance over sample standard deviations), `F = r² / (1 − r²) · (N − 2)`,
/// its p-value from `F(1, N − 2)`, and `N − 2` degrees of freedom.
pub(crate) fn f_regression(
    df: &DataFrame,
    stage: &'static str,
    features: &str,
    label: &str,
) -> Result<Vec<FeatureTest>> {
    let (n, parts) = read_parts(df, stage, features, Some(label), None)?;
    require_rows(stage, &parts, "an F-regression test needs rows")?;
    // One pass: per feature Σdx, Σdx² and Σdx·dy about provisional means (the first rows'
    // means: nearly centred sums, no digits lost to cancellation), and Σdy, Σdy².
    let shift = provisional_shift(&parts, n);
    let y_shift = parts
        .iter()
        .find(|p| !p.block.is_empty())
        .and_then(|p| p.label.as_deref())
        .map(|y| {
            let head = &y[..y.len().min(1024)];
            head.iter().sum::<f64>() / head.len() as f64
        })
        .filter(|v| v.is_finite())
        .unwrap_or(0.0);
    let what = MomentSums {
        sum: true,
        sq: true,
        cross: true,
        ..MomentSums::default()
    };
    let runs = fold_chunks(
        &parts,
        || (Moments::new(n, what, 0), 0.0f64, 0.0f64),
        |(m, sy, syy), part, first, rows| {
            let y = &part.label.as_deref().unwrap_or(&[])[first..first + rows];
            let dy: Vec<f64> = y.iter().map(|v| v - y_shift).collect();
            for d in &dy {
                *sy += d;
                *syy += d * d;
            }
            if n == 0 {
                m.count += rows as u64;
                return Ok(());
            }
            match part.block.as_dense() {
                Some(x) => {
                    if !m.add_rows(
                        &x[first * n..(first + rows) * n],
                        &shift,
                        None,
                        Some(&dy),
                        None,
                    ) {
                        check_no_nan(stage, features, part, first, rows)?;
                    }
                }
                None => {
                    // Sparse rows densified a block at a time (about 512 KB).
                    check_no_nan(stage, features, part, first, rows)?;
                    let step = (65536 / n).max(1);
                    let mut buf = vec![0.0; step.min(rows) * n];
                    for b in (0..rows).step_by(step) {
                        let len = step.min(rows - b);
                        let x = &mut buf[..len * n];
                        part.block.write_dense_rows(first + b, x);
                        m.add_rows(x, &shift, None, Some(&dy[b..b + len]), None);
                    }
                }
            }
            Ok(())
        },
    )?;
    let mut m = Moments::new(n, what, 0);
    let (mut sy, mut syy) = (0.0, 0.0);
    for (r, a, b) in &runs {
        m.merge(r);
        sy += a;
        syy += b;
    }
    // Sample covariances and deviations from the sums about the provisional means.
    let nf = m.count as f64;
    let y_std = ((syy - sy * sy / nf).max(0.0) / (nf - 1.0)).sqrt();
    let x_std: Vec<f64> = (0..n)
        .map(|j| ((m.sq[j] - m.sum[j] * m.sum[j] / nf).max(0.0) / (nf - 1.0)).sqrt())
        .collect();
    let sum_cov: Vec<f64> = (0..n).map(|j| m.cross[j] - m.sum[j] * sy / nf).collect();
    let num = m.count as i64;
    let dof = num - 2;
    Ok((0..n)
        .map(|j| {
            let covariance = sum_cov[j] / (num - 1) as f64;
            let corr = covariance / (y_std * x_std[j]);
            let f = corr * corr / (1.0 - corr * corr) * dof as f64;
            FeatureTest {
                feature_index: j,
                p_value: f_p_value(f, 1.0, dof as f64),
                degrees_of_freedom: dof,
                statistic: f,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::VectorAssembler;
    use crate::frame::CsvOptions;
    use crate::pipeline::Transformer;

    /// The vectorised class pass gives each row the class the per-row lookup gives, with
    /// few labels (the compare passes, -0.0 as 0.0) and with many (the hash map).
    #[test]
    fn classes_match_the_per_row_lookup() {
        for k in [1usize, 2, 5, LINEAR_LABELS, LINEAR_LABELS + 1, 40] {
            let ys: Vec<f64> = (0..1000)
                .map(|i| match (i * 7) % k {
                    0 if i % 2 == 0 => -0.0,
                    0 if i % 4 == 1 => 0.0,
                    c => c as f64 - 3.5,
                })
                .collect();
            let rows = crate::frame::vector::vector_array(vec![0.0; 1000], 1, None).unwrap();
            let part = super::super::input::Part {
                pi: 0,
                block: crate::frame::vector::VectorBlock::new(
                    &rows,
                    1,
                    crate::frame::vector::At {
                        stage: "test",
                        column: "v",
                        partition: 0,
                    },
                )
                .unwrap(),
                label: Some(super::super::input::Values::Borrowed(&ys)),
                weight: None,
            };
            let (labels, index) = label_index(std::slice::from_ref(&part));
            assert!(labels.len() >= k);
            let mut got = vec![7u32; ys.len()];
            index.classes(&ys, &mut got);
            let want: Vec<u32> = ys.iter().map(|&y| index.of(y) as u32).collect();
            assert_eq!(got, want, "{k} labels");
        }
    }

    /// The ANOVA pass (the NaiveBayes per-class kernels over sub-blocks of rows) gives, bit
    /// for bit, the sums of the plain row loop: per chunk of `CHUNK_ROWS` rows
    /// (`input::chunks`) `Σx`, `Σx²` and per class `Σx` in row order from 0, the chunks
    /// added in order. 1, 2 (the masked kernel) and 3 and 5 classes (rows grouped by
    /// class), dense, sparse and mixed rows (-0.0 and zeros stored), 1 and 3 partitions,
    /// 1 and 2 threads; 20,000 rows: three chunks and a last partial sub-block.
    #[test]
    #[allow(clippy::needless_range_loop)] // parallel arrays indexed by row / feature
    fn anova_sums_are_the_row_loop_bitwise() {
        let rows = 20_000usize;
        let n = 5;
        let x: Vec<Vec<f64>> = (0..n)
            .map(|j| {
                (0..rows)
                    .map(|i| match (i * (j + 3)) % 11 {
                        0 => 0.0,
                        1 => -0.0,
                        2 if j % 2 == 0 => 0.0,
                        v => (v as f64 - 4.3) * 1.7f64.powi(j as i32) + (i as f64) * 1e-3,
                    })
                    .collect()
            })
            .collect();
        for k in [1usize, 2, 3, 5] {
            let y: Vec<f64> = (0..rows).map(|i| ((i * 31 + i / 7) % k) as f64).collect();
            let mut cols: Vec<(String, arrow::array::ArrayRef)> = (0..n)
                .map(|j| {
                    (
                        format!("x{j}"),
                        std::sync::Arc::new(arrow::array::Float64Array::from(x[j].clone()))
                            as arrow::array::ArrayRef,
                    )
                })
                .collect();
            cols.push((
                "y".into(),
                std::sync::Arc::new(arrow::array::Float64Array::from(y.clone())),
            ));
            let batch = arrow::array::RecordBatch::try_from_iter(cols).unwrap();
            let df = DataFrame::from_batches(vec![batch]).unwrap();
            let df = VectorAssembler::new()
                .with_input_cols((0..n).map(|j| format!("x{j}")))
                .with_output_col("v")
                .transform(&df)
                .unwrap();
            for frame in [
                df.clone(),
                df.vectors_to_sparse("v").unwrap(),
                df.repartition(3).unwrap(),
                df.repartition(3).unwrap().vectors_to_sparse("v").unwrap(),
            ] {
                // The reference: the plain row loop over each partition's chunks.
                let (mut s, mut sq, mut by, mut counts) =
                    (vec![0.0; n], vec![0.0; n], vec![0.0; k * n], vec![0u64; k]);
                let mut at = 0;
                for p in frame.partitions() {
                    let len = p.num_rows();
                    for c0 in (0..len).step_by(super::super::input::CHUNK_ROWS) {
                        let c1 = (c0 + super::super::input::CHUNK_ROWS).min(len);
                        let (mut cs, mut csq, mut cby) =
                            (vec![0.0; n], vec![0.0; n], vec![0.0; k * n]);
                        for r in at + c0..at + c1 {
                            let c = y[r] as usize;
                            counts[c] += 1;
                            for j in 0..n {
                                cs[j] += x[j][r];
                                csq[j] += x[j][r] * x[j][r];
                                cby[c * n + j] += x[j][r];
                            }
                        }
                        for j in 0..n {
                            s[j] += cs[j];
                            sq[j] += csq[j];
                        }
                        for (a, b) in by.iter_mut().zip(&cby) {
                            *a += b;
                        }
                    }
                    at += len;
                }
                let want = anova_statistics(n, &s, &sq, &by, &counts);
                for threads in [1, 2] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let got = pool.install(|| anova(&frame, "test", "v", "y")).unwrap();
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g.degrees_of_freedom, w.degrees_of_freedom, "k {k}");
                        assert_eq!(
                            g.statistic.to_bits(),
                            w.statistic.to_bits(),
                            "k {k} feature {}: {} vs {}",
                            g.feature_index,
                            g.statistic,
                            w.statistic
                        );
                    }
                }
            }
        }
    }

    /// Spark 4.3's `ANOVATest` and `FValueTest` outputs (tests/fixtures/spark_stat, made by
    /// tests/pyspark/make_stat_fixtures.py): F values to 1e-12 relative, p-values to 1e-12
    /// relative at p >= 1e-3 and 1e-14 absolute below (Spark's `1 − cdf`), degrees of
    /// freedom exact.
    #[test]
    fn anova_and_f_regression_match_spark() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/spark_stat");
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(format!("{dir}/expected.json")).unwrap())
                .unwrap();
        let df = DataFrame::read_csv(format!("{dir}/data.csv"), &CsvOptions::default()).unwrap();
        let df = VectorAssembler::new()
            .with_input_cols(["x0", "x1", "x2", "x3", "x4"])
            .with_output_col("cont")
            .transform(&df)
            .unwrap();
        let sparse = df.vectors_to_sparse("cont").unwrap();
        let nums = |v: &serde_json::Value| -> Vec<f64> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        for (key, label) in [("anova", "label"), ("fvalue", "y")] {
            for frame in [&df, &sparse, &df.repartition(3).unwrap()] {
                let r = if key == "anova" {
                    anova(frame, "test", "cont", label).unwrap()
                } else {
                    f_regression(frame, "test", "cont", label).unwrap()
                };
                let want = &e[key];
                let (p, f, d) = (
                    nums(&want["pValues"]),
                    nums(&want["fValues"]),
                    nums(&want["degreesOfFreedom"]),
                );
                for (j, t) in r.iter().enumerate() {
                    assert_eq!(t.feature_index, j);
                    assert_eq!(t.degrees_of_freedom as f64, d[j], "{key} dof {j}");
                    assert!(
                        (t.statistic - f[j]).abs() <= 1e-12 * f[j].abs(),
                        "{key} F {j}: {} vs {}",
                        t.statistic,
                        f[j]
                    );
                    let tol = if p[j] >= 1e-3 { 1e-12 * p[j] } else { 1e-14 };
                    assert!(
                        (t.p_value - p[j]).abs() <= tol,
                        "{key} p {j}: {} vs {}",
                        t.p_value,
                        p[j]
                    );
                }
            }
        }
    }
}
