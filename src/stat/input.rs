//! What the statistics share: reading a vector column (dense or sparse, through the one
//! row view) with an optional numeric label and weight per partition, in fixed-size row
//! chunks that run in parallel and merge in order; and the bad-input checks with errors
//! that name the stage, column, partition and row.

use std::ops::Deref;

use arrow::array::{Array, Float64Array};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};

/// Rows per parallel task: small enough that a chunk of 20 features stays in L2, large
/// enough that the per-task summaries cost nothing.
pub(crate) const CHUNK_ROWS: usize = 8192;

/// One partition of a vector column with its optional label and weight values.
pub(crate) struct Part<'a> {
    /// Partition index.
    pub pi: usize,
    /// The vector rows.
    pub block: vector::VectorBlock<'a>,
    /// The label column as f64 (when asked for).
    pub label: Option<Values<'a>>,
    /// The weight column as f64 (when asked for).
    pub weight: Option<Values<'a>>,
}

/// A numeric column's values as f64: a Float64 column's own, or another type's converted
/// into a pooled output buffer (whose pages are already faulted in when it was used
/// before: no fresh memory per fit for an integer label).
pub(crate) enum Values<'a> {
    /// A Float64 column's values, read in place.
    Borrowed(&'a [f64]),
    /// Converted values.
    Converted(arrow::buffer::ScalarBuffer<f64>),
}

impl Deref for Values<'_> {
    type Target = [f64];

    fn deref(&self) -> &[f64] {
        match self {
            Values::Borrowed(v) => v,
            Values::Converted(b) => b,
        }
    }
}

/// The vector column `features` (size `n`) of every partition, with `label` and `weight`
/// cast to f64. Fails on a missing or mistyped column, a null vector, label or weight, a
/// NaN label, and a negative or non-finite weight.
pub(crate) fn read_parts<'a>(
    df: &'a DataFrame,
    stage: &'static str,
    features: &'a str,
    label: Option<&'a str>,
    weight: Option<&'a str>,
) -> Result<(usize, Vec<Part<'a>>)> {
    let (fi, _, n) = schema::require_vector(df.schema(), stage, features)?;
    let li = label
        .map(|l| schema::require_numeric(df.schema(), stage, l).map(|(i, _)| i))
        .transpose()?;
    let wi = weight
        .map(|w| schema::require_numeric(df.schema(), stage, w).map(|(i, _)| i))
        .transpose()?;
    // Partitions opened (and checked) in parallel; the first failing partition's error.
    let parts = df
        .partitions()
        .par_iter()
        .enumerate()
        .map(|(pi, b)| {
            let at = vector::At {
                stage,
                column: features,
                partition: pi,
            };
            let block = vector::VectorBlock::new(b.column(fi).as_ref(), n, at)?;
            if let Some(r) = (0..block.len()).find(|&r| block.is_null(r)) {
                return Err(bad(
                    stage,
                    features,
                    pi,
                    r,
                    "null vector".into(),
                    "drop such rows first",
                ));
            }
            let num = |i: usize, name: &str, what: &str| -> Result<Values<'a>> {
                let a: &'a arrow::array::ArrayRef = b.column(i);
                if a.null_count() > 0 {
                    if let Some(r) = (0..a.len()).find(|&r| a.is_null(r)) {
                        return Err(null_value(stage, name, pi, r, what));
                    }
                }
                Ok(match a.as_any().downcast_ref::<Float64Array>() {
                    Some(f) => Values::Borrowed(&f.values()[..]),
                    None => Values::Converted(crate::frame::buffer::numeric_as_f64(a)?),
                })
            };
            let label = match (li, label) {
                (Some(i), Some(name)) => {
                    let v = num(i, name, "label")?;
                    // A branch-free scan first (it vectorises); the row only when needed.
                    let any_nan = v.iter().fold(false, |a, x| a | x.is_nan());
                    if let Some(r) = any_nan.then(|| v.iter().position(|x| x.is_nan())).flatten() {
                        return Err(bad(
                            stage,
                            name,
                            pi,
                            r,
                            "NaN label".into(),
                            "labels must be numbers; drop or impute such rows first",
                        ));
                    }
                    Some(v)
                }
                _ => None,
            };
            let weight = match (wi, weight) {
                (Some(i), Some(name)) => {
                    let v = num(i, name, "weight")?;
                    let bad_w = |w: &f64| !(*w >= 0.0 && w.is_finite());
                    let any_bad = v.iter().fold(false, |a, w| a | bad_w(w));
                    if let Some(r) = any_bad.then(|| v.iter().position(bad_w)).flatten() {
                        return Err(bad(
                            stage,
                            name,
                            pi,
                            r,
                            format!("weight {}", v[r]),
                            "weights must be finite and non-negative",
                        ));
                    }
                    Some(v)
                }
                _ => None,
            };
            Ok(Part {
                pi,
                block,
                label,
                weight,
            })
        })
        .collect::<Vec<Result<_>>>();
    let parts = crate::frame::in_order(parts)?;
    Ok((n, parts))
}

fn null_value(stage: &'static str, column: &str, pi: usize, r: usize, what: &str) -> Error {
    bad(
        stage,
        column,
        pi,
        r,
        format!("null {what}"),
        "drop such rows first",
    )
}

/// An [`Error::InvalidValue`].
pub(crate) fn bad(
    stage: &'static str,
    column: &str,
    partition: usize,
    row: usize,
    what: String,
    hint: &str,
) -> Error {
    Error::InvalidValue {
        stage,
        column: column.to_string(),
        partition,
        row,
        what,
        hint: hint.to_string(),
    }
}

/// The first NaN feature value of rows `first..first + rows` of a part, as an error.
pub(crate) fn check_no_nan(
    stage: &'static str,
    column: &str,
    part: &Part<'_>,
    first: usize,
    rows: usize,
) -> Result<()> {
    if let Some(v) = part.block.as_dense() {
        let n = part.block.size();
        // Dense rows: one branch-free scan (x != x only for NaN) of the chunk's values;
        // the row walk below runs only to name the first NaN.
        let chunk = &v[first * n..(first + rows) * n];
        if !chunk.iter().fold(false, |acc, x| acc | x.is_nan()) {
            return Ok(());
        }
    }
    for r in first..first + rows {
        if let Some(x) = part.block.row(r) {
            let mut nan = None;
            x.for_each_active(|j, v| {
                if v.is_nan() && nan.is_none() {
                    nan = Some(j);
                }
            });
            if let Some(j) = nan {
                return Err(bad(
                    stage,
                    column,
                    part.pi,
                    r,
                    format!("NaN at feature {j}"),
                    "drop or impute such rows first (Imputer)",
                ));
            }
        }
    }
    Ok(())
}

/// `(part, first row, rows)` tasks of at most [`CHUNK_ROWS`] rows, in partition and row
/// order.
pub(crate) fn chunks(parts: &[Part<'_>]) -> Vec<(usize, usize, usize)> {
    parts
        .iter()
        .enumerate()
        .flat_map(|(k, p)| {
            let len = p.block.len();
            (0..len)
                .step_by(CHUNK_ROWS)
                .map(move |r| (k, r, CHUNK_ROWS.min(len - r)))
        })
        .collect()
}

/// Runs `f` on every chunk in parallel; the results come back in chunk order (so merging
/// them in order gives the same numbers on any thread count), or the first chunk's error.
pub(crate) fn map_chunks<T: Send>(
    parts: &[Part<'_>],
    f: impl Fn(&Part<'_>, usize, usize) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    let tasks = chunks(parts);
    crate::frame::in_order(
        tasks
            .par_iter()
            .map(|&(k, r, len)| f(&parts[k], r, len))
            .collect(),
    )
}

/// Chunks per task of [`fold_chunks`]: a fixed number, so the sums do not depend on the
/// thread count.
pub(crate) const CHUNKS_PER_TASK: usize = 16;

/// Folds every chunk into one accumulator per run of [`CHUNKS_PER_TASK`] consecutive
/// chunks (the runs in parallel, each run's chunks in order), and returns the runs'
/// accumulators in order, or the first chunk's error: a handful of partial sums to merge
/// in a fixed order, instead of one per chunk.
pub(crate) fn fold_chunks<T: Send>(
    parts: &[Part<'_>],
    init: impl Fn() -> T + Sync,
    f: impl Fn(&mut T, &Part<'_>, usize, usize) -> Result<()> + Sync,
) -> Result<Vec<T>> {
    let tasks = chunks(parts);
    crate::frame::in_order(
        tasks
            .par_chunks(CHUNKS_PER_TASK)
            .map(|run| {
                let mut acc = init();
                for &(k, r, len) in run {
                    f(&mut acc, &parts[k], r, len)?;
                }
                Ok(acc)
            })
            .collect(),
    )
}

/// The number of rows over all parts.
pub(crate) fn num_rows(parts: &[Part<'_>]) -> usize {
    parts.iter().map(|p| p.block.len()).sum()
}

/// Fails with [`Error::EmptyInput`] when there are no rows.
pub(crate) fn require_rows(stage: &'static str, parts: &[Part<'_>], what: &str) -> Result<()> {
    if num_rows(parts) == 0 {
        return Err(Error::EmptyInput {
            stage,
            hint: what.to_string(),
        });
    }
    Ok(())
}

/// A provisional mean per feature: the mean of the first (up to) 1024 rows of the first
/// partition holding rows, 0 for a feature whose mean there is not finite. Sums of
/// `x − shift` are then nearly centred and lose no digits to cancellation, whatever the
/// columns' offsets (Correlation's covariance, Summarizer's variance, F-regression's
/// covariances).
pub(crate) fn provisional_shift(parts: &[Part<'_>], n: usize) -> Vec<f64> {
    let mut shift = vec![0.0; n];
    let Some(first) = parts.iter().find(|p| !p.block.is_empty()) else {
        return shift;
    };
    let k = first.block.len().min(1024);
    let mut head = vec![0.0; k * n];
    first.block.write_dense_rows(0, &mut head);
    for row in head.chunks_exact(n.max(1)) {
        for (s, v) in shift.iter_mut().zip(row) {
            *s += v;
        }
    }
    for s in &mut shift {
        *s /= k as f64;
        if !s.is_finite() {
            *s = 0.0;
        }
    }
    shift
}
