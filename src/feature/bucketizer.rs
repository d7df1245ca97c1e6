//! [`Bucketizer`]: map continuous values to bucket indices.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array};
use arrow::compute::{cast, filter_record_batch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::columns::{in_out_cols, InOutCols};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{spark_doubles, spark_doubles2, HandleInvalid, Params};
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`Bucketizer`]; JSON names are Spark's (±∞ written as `"-Inf"` / `"Inf"`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BucketizerParams {
    /// Single-column mode: `n + 1` strictly increasing split points for `n` buckets.
    #[serde(with = "spark_doubles")]
    pub splits: Option<Vec<f64>>,
    /// Multi-column mode: one `splits` per input column.
    #[serde(with = "spark_doubles2")]
    pub splits_array: Option<Vec<Vec<f64>>>,
    /// Single-column input.
    pub input_col: Option<String>,
    /// Multi-column inputs.
    pub input_cols: Option<Vec<String>>,
    /// Single-column output.
    pub output_col: Option<String>,
    /// Multi-column outputs.
    pub output_cols: Option<Vec<String>>,
    /// NaN: `error` (default), `skip` the row, or `keep` in an extra bucket.
    pub handle_invalid: HandleInvalid,
}

in_out_cols!(BucketizerParams);

fn check_splits(stage: &'static str, param: &str, s: &[f64]) -> Result<()> {
    if s.len() < 3 || s.iter().any(|v| v.is_nan()) || s.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::param(
            stage,
            param,
            "at least 3 strictly increasing split points without NaN",
            format!("{s:?}"),
        ));
    }
    Ok(())
}

impl BucketizerParams {
    /// The (input, output, splits) triples, checking Spark's rules.
    fn plan(&self) -> Result<Vec<(String, String, Vec<f64>)>> {
        let stage = Self::STAGE;
        let pairs = self.pairs(stage)?;
        let splits: Vec<Vec<f64>> = if self.input_col.is_some() {
            if self.splits_array.is_some() {
                return Err(Error::param(
                    stage,
                    "splitsArray",
                    "unset in single-column mode (use splits)",
                    "set",
                ));
            }
            vec![self
                .splits
                .clone()
                .ok_or_else(|| Error::param(stage, "splits", "set", "unset"))?]
        } else {
            if self.splits.is_some() {
                return Err(Error::param(
                    stage,
                    "splits",
                    "unset in multi-column mode (use splitsArray)",
                    "set",
                ));
            }
            let a = self
                .splits_array
                .clone()
                .ok_or_else(|| Error::param(stage, "splitsArray", "set", "unset"))?;
            if a.len() != pairs.len() {
                return Err(Error::param(
                    stage,
                    "splitsArray",
                    format!("{} split lists, one per input column", pairs.len()),
                    a.len(),
                ));
            }
            a
        };
        for s in &splits {
            check_splits(
                stage,
                if self.input_col.is_some() {
                    "splits"
                } else {
                    "splitsArray"
                },
                s,
            )?;
        }
        Ok(pairs
            .into_iter()
            .zip(splits)
            .map(|((i, o), s)| (i, o, s))
            .collect())
    }
}

impl Params for BucketizerParams {
    const STAGE: &'static str = "Bucketizer";
    fn validate(&self) -> Result<()> {
        self.plan().map(|_| ())
    }
}

/// Maps numbers to bucket indices by split points (Spark's `org.apache.spark.ml.feature.Bucketizer`):
/// bucket `i` is `[s_i, s_{i+1})`, the last also holds its upper split. A value outside
/// `[first, last]` is always an error (use ±∞ as outer splits); `handleInvalid` decides only
/// about NaN. A null input gives a null output.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::Bucketizer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let b = Bucketizer::new().with_input_col("tenure").with_output_col("t")
///     .with_splits(&[f64::NEG_INFINITY, 12.0, 24.0, f64::INFINITY]);
/// let out = b.transform(&df)?;
/// assert_eq!(b.params_json()["splits"], serde_json::json!(["-Inf", 12.0, 24.0, "Inf"]));
/// # let _ = out;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Bucketizer {
    uid: String,
    params: BucketizerParams,
}

super::columns::stage_basics!(Bucketizer, BucketizerParams, "bucketizer", |uid| {
    BucketizerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl Bucketizer {
    super::columns::multi_column_setters!();
    /// Single-column splits.
    pub fn with_splits(mut self, s: &[f64]) -> Self {
        self.params.splits = Some(s.to_vec());
        self
    }
    /// Multi-column splits.
    pub fn with_splits_array(mut self, s: &[Vec<f64>]) -> Self {
        self.params.splits_array = Some(s.to_vec());
        self
    }
    /// NaN policy; default `error`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
}

impl Stage for Bucketizer {
    fn kind(&self) -> &'static str {
        "Bucketizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let mut out = input.clone();
        for (ic, oc, splits) in self.params.plan()? {
            schema::require_numeric(input, BucketizerParams::STAGE, &ic)?;
            // Spark's ordinal nominal attribute: one "a, b" label per bucket (and, as in
            // Spark 4.3's output, no "name").
            let vals: Vec<String> = splits
                .windows(2)
                .map(|w| format!("{}, {}", java_double_string(w[0]), java_double_string(w[1])))
                .collect();
            let mut field = Field::new(&oc, DataType::Float64, true);
            field.metadata_mut().insert(
                vector::ML_ATTR.to_string(),
                serde_json::json!({"type": "nominal", "ord": true, "vals": vals}).to_string(),
            );
            out = schema::append_field(&out, BucketizerParams::STAGE, field)?;
        }
        Ok(out)
    }
}

/// Java's `Double.toString`, as Spark spells split values in the bucket labels: `"0.0"`,
/// `"1.5"`, `"1.0E7"`, `"1.0E-4"`, `"-Infinity"`. (Java 17's algorithm can print a longer
/// digit string than the shortest round-trip one for rare values; this prints the
/// shortest.)
pub(crate) fn java_double_string(x: f64) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let a = x.abs();
    if a == 0.0 || (1e-3..1e7).contains(&a) {
        let s = format!("{x}");
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        let s = format!("{x:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        if mantissa.contains('.') {
            format!("{mantissa}E{exp}")
        } else {
            format!("{mantissa}.0E{exp}")
        }
    }
}

impl Transformer for Bucketizer {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = BucketizerParams::STAGE;
        let out_schema = Arc::new(self.transform_schema(df.schema())?);
        let plan = self.params.plan()?;
        let h = self.params.handle_invalid;
        let cols = plan.len();
        // Every input column of every partition as doubles (the casts per partition, in
        // parallel).
        let inputs: Vec<Vec<ArrayRef>> = df.map_partitions(|_, b| {
            plan.iter()
                .map(|(ic, _, _)| Ok(cast(schema::batch_column(b, ic)?, &DataType::Float64)?))
                .collect()
        })?;
        let f64s = |p: usize, k: usize| inputs[p][k].as_primitive::<Float64Type>();
        // One pass over every (partition, column) at once, in parallel row blocks, into
        // one fresh buffer for all outputs (`buffer::par_build_parts`). A column chunk with
        // a null, or a NaN or out-of-range value, is flagged and redone below by the row
        // walk, which applies handleInvalid and names the first bad row.
        let lens: Vec<usize> = (0..inputs.len() * cols)
            .map(|i| f64s(i / cols, i % cols).len())
            .collect();
        let walk: Vec<AtomicBool> = (0..lens.len())
            .map(|i| AtomicBool::new(f64s(i / cols, i % cols).null_count() > 0))
            .collect();
        let kernels: Vec<BucketKernel> =
            plan.iter().map(|(_, _, s)| BucketKernel::new(s)).collect();
        // SAFETY: every branch writes every element of the block it is given.
        let fast = unsafe {
            crate::frame::buffer::par_build_parts(&lens, |i, first, dst| {
                let x = &f64s(i / cols, i % cols).values()[first..first + dst.len()];
                if walk[i].load(Ordering::Relaxed) {
                    dst.fill(std::mem::MaybeUninit::new(0.0));
                } else if !kernels[i % cols].run(x, dst) {
                    walk[i].store(true, Ordering::Relaxed);
                }
            })
        };
        let walked = walk
            .par_iter()
            .enumerate()
            .filter(|(_, w)| w.load(Ordering::Relaxed))
            .map(|(i, _)| {
                let (p, k) = (i / cols, i % cols);
                let (ic, _, splits) = &plan[k];
                Ok((i, walk_column(ic, p, f64s(p, k), splits, h)?))
            })
            .collect::<Vec<Result<_>>>();
        let mut walked = crate::frame::in_order(walked)?.into_iter().peekable();
        let mut fast = fast.into_iter();
        let mut parts = Vec::with_capacity(inputs.len());
        for (p, b) in df.partitions().iter().enumerate() {
            let mut out_cols = b.columns().to_vec();
            let mut keep: Option<Vec<bool>> = None;
            for k in 0..cols {
                let values = fast
                    .next()
                    .ok_or_else(|| Error::Internal(format!("{stage}: missing output")))?;
                match walked.next_if(|(i, _)| *i == p * cols + k) {
                    Some((_, (col, drop))) => {
                        if !drop.is_empty() {
                            let keep = keep.get_or_insert_with(|| vec![true; b.num_rows()]);
                            for r in drop {
                                keep[r] = false;
                            }
                        }
                        out_cols.push(col);
                    }
                    None => out_cols.push(Arc::new(Float64Array::new(values, None))),
                }
            }
            let batch = crate::frame::new_batch(out_schema.clone(), out_cols, b.num_rows())?;
            parts.push(match keep {
                Some(keep) => filter_record_batch(&batch, &BooleanArray::from(keep))?,
                None => batch,
            });
        }
        DataFrame::try_new(out_schema.clone(), parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// One column chunk bucketed row by row (the path for a chunk with a null, NaN or
/// out-of-range value): `handleInvalid` applied, the first bad row named; the output and
/// the rows `skip` drops.
fn walk_column(
    ic: &str,
    pi: usize,
    a: &Float64Array,
    splits: &[f64],
    h: HandleInvalid,
) -> Result<(ArrayRef, Vec<usize>)> {
    let stage = BucketizerParams::STAGE;
    let rows = a.len();
    let n = splits.len() - 1;
    let (lo, hi) = (splits[0], splits[n]);
    let in_nulls = a.nulls().filter(|nb| nb.null_count() > 0);
    let mut out = Vec::with_capacity(rows);
    let mut drop = Vec::new();
    // Rows made null here (NaN under `skip`), besides the input's nulls.
    let mut nan_nulls = Vec::new();
    for (r, &x) in a.values().iter().enumerate() {
        if in_nulls.is_some_and(|nb| nb.is_null(r)) {
            if h == HandleInvalid::Skip {
                drop.push(r);
            }
            out.push(0.0);
            continue;
        }
        if x.is_nan() {
            match h {
                HandleInvalid::Keep => out.push(n as f64),
                HandleInvalid::Skip => {
                    drop.push(r);
                    nan_nulls.push(r);
                    out.push(0.0);
                }
                HandleInvalid::Error => {
                    return Err(Error::InvalidValue {
                        stage,
                        column: ic.to_string(),
                        partition: pi,
                        row: r,
                        what: "NaN".into(),
                        hint: "set handleInvalid to \"skip\" to drop such rows or \"keep\" to put them in an extra bucket".into(),
                    })
                }
            }
            continue;
        }
        if below(x, lo) || x > hi {
            return Err(Error::InvalidValue {
                stage,
                column: ic.to_string(),
                partition: pi,
                row: r,
                what: format!("value {x} outside the splits [{lo}, {hi}]"),
                hint:
                    "check the feature, or widen the outer splits (-inf and inf cover every value)"
                        .into(),
            });
        }
        out.push(bucket_of(x, &splits[1..n]));
    }
    let nulls = if nan_nulls.is_empty() {
        in_nulls.cloned()
    } else {
        let mut valid = vec![true; rows];
        for &r in &nan_nulls {
            valid[r] = false;
        }
        if let Some(nb) = in_nulls {
            for (r, v) in valid.iter_mut().enumerate() {
                *v &= nb.is_valid(r);
            }
        }
        Some(arrow::buffer::NullBuffer::from(valid))
    };
    Ok((
        Arc::new(Float64Array::new(out.into(), nulls)) as ArrayRef,
        drop,
    ))
}

/// The bucket of a value `x` within the outer splits `[s_0, s_n]`, given the interior
/// splits `s_1 .. s_{n-1}`: the number of interior splits `<= x`. That is Spark's
/// `binarySearchForBuckets` — bucket `i` holds `[s_i, s_{i+1})`, and the upper outer split
/// falls in the last bucket `n - 1` (every interior split is below it). Spark searches
/// with `java.util.Arrays.binarySearch`, whose order puts `-0.0` below `0.0`
/// (`f64::total_cmp`'s): `-0.0` falls below a split at `0.0`.
#[inline]
fn bucket_of(x: f64, interior: &[f64]) -> f64 {
    interior.partition_point(|s| s.total_cmp(&x).is_le()) as f64
}

/// Whether `x` lies below the lowest split `lo` in Spark's search order (`-0.0` is below
/// a lowest split of `0.0`, which Spark refuses as out of range).
#[inline]
fn below(x: f64, lo: f64) -> bool {
    x.total_cmp(&lo).is_lt()
}

/// Interior split lists up to this long are searched by counting (branch-free, every
/// split compared; vectorises across values); longer ones by binary search.
const COUNTED_SPLITS: usize = 32;

/// The bucket search of one split list over blocks of values without nulls: counting for
/// short split lists, binary search for long ones.
struct BucketKernel<'a> {
    interior: &'a [f64],
    bounds: Bounds,
}

impl<'a> BucketKernel<'a> {
    fn new(splits: &'a [f64]) -> Self {
        let n = splits.len() - 1;
        let (lo, hi) = (splits[0], splits[n]);
        let interior = &splits[1..n];
        let zero = |s: &f64| s.to_bits() == 0;
        BucketKernel {
            interior,
            bounds: Bounds {
                lo,
                hi,
                zero_interior: if interior.iter().any(zero) { 1.0 } else { 0.0 },
                zero_lo: zero(&lo),
            },
        }
    }

    /// Writes the bucket of every value of `x` into `out`; false when some value is NaN
    /// or outside the outer splits (the output is then meaningless).
    fn run(&self, x: &[f64], out: &mut [std::mem::MaybeUninit<f64>]) -> bool {
        if self.interior.len() <= COUNTED_SPLITS {
            count_buckets(x, self.interior, &self.bounds, out)
        } else {
            search_buckets(x, self.interior, self.bounds.lo, self.bounds.hi, out)
        }
    }
}

/// The buckets of a column without nulls (`values`, split points `splits`) in one
/// buffer; `None` when some value is NaN or outside the outer splits.
#[cfg(test)]
fn bucket_valid_column(values: &[f64], splits: &[f64]) -> Option<Vec<f64>> {
    let k = BucketKernel::new(splits);
    let mut out = vec![std::mem::MaybeUninit::new(0.0); values.len()];
    // SAFETY: every element was initialised above (and `run` overwrites them).
    k.run(values, &mut out).then(|| {
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    })
}

/// The outer splits, and where `0.0` is a split (see [`count_buckets`]).
struct Bounds {
    lo: f64,
    hi: f64,
    /// 1.0 when an interior split is `0.0` (not `-0.0`), else 0.0.
    zero_interior: f64,
    /// Whether the lowest split is `0.0` (not `-0.0`).
    zero_lo: bool,
}

/// The bits of `-0.0`.
const NEG_ZERO: u64 = 1 << 63;

crate::frame::kernels::multiversion! {
    /// [`bucket_of`] for every value of `x` into `out`, by counting the interior splits
    /// `<= x` (eight values at a time, every split compared, no branch; a `-0.0` value
    /// then uncounts a `0.0` split, as Spark's search order has it); false when a value
    /// is NaN or outside `[lo, hi]` in Spark's order (its output is then meaningless).
    fn count_buckets(
        x: &[f64],
        interior: &[f64],
        b: &Bounds,
        out: &mut [std::mem::MaybeUninit<f64>],
    ) -> bool {
        const L: usize = 8;
        let (lo, hi) = (b.lo, b.hi);
        let mut ok = true;
        let mut xs = x.chunks_exact(L);
        let mut os = out.chunks_exact_mut(L);
        if b.zero_interior == 0.0 && !b.zero_lo {
            // No split is 0.0: IEEE `<=` is Spark's order on every split (a `-0.0` value
            // and a `-0.0` split compare alike either way), so no lane needs the `-0.0`
            // test; out-of-range lanes are counted per lane (no reduction per block).
            let mut bad = [0.0f64; L];
            for (xb, ob) in (&mut xs).zip(&mut os) {
                let mut c = [0.0f64; L];
                for &s in interior {
                    for l in 0..L {
                        c[l] += if s <= xb[l] { 1.0 } else { 0.0 };
                    }
                }
                for l in 0..L {
                    // NaN fails both comparisons.
                    bad[l] += if (xb[l] >= lo) & (xb[l] <= hi) { 0.0 } else { 1.0 };
                    ob[l].write(c[l]);
                }
            }
            ok = bad.iter().all(|&b| b == 0.0);
        } else {
            for (xb, ob) in (&mut xs).zip(&mut os) {
                let mut c = [0.0f64; L];
                for &s in interior {
                    for l in 0..L {
                        c[l] += if s <= xb[l] { 1.0 } else { 0.0 };
                    }
                }
                let mut good = true;
                for l in 0..L {
                    let neg_zero = xb[l].to_bits() == NEG_ZERO;
                    // NaN fails both comparisons.
                    good &= (xb[l] >= lo) & (xb[l] <= hi) & !(neg_zero & b.zero_lo);
                    ob[l].write(c[l] - if neg_zero { b.zero_interior } else { 0.0 });
                }
                ok &= good;
            }
        }
        for (&v, o) in xs.remainder().iter().zip(os.into_remainder()) {
            ok &= (v >= lo) & (v <= hi) & !below(v, lo);
            o.write(bucket_of(v, interior));
        }
        ok
    }
}

/// [`count_buckets`] by binary search, for long split lists.
fn search_buckets(
    x: &[f64],
    interior: &[f64],
    lo: f64,
    hi: f64,
    out: &mut [std::mem::MaybeUninit<f64>],
) -> bool {
    let mut ok = true;
    for (&v, o) in x.iter().zip(out) {
        ok &= (v >= lo) & (v <= hi) & !below(v, lo);
        o.write(bucket_of(v, interior));
    }
    ok
}

impl Model for Bucketizer {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(Bucketizer, "org.apache.spark.ml.feature.Bucketizer");

// ---- Row form (crate::row) ----

#[derive(Debug)]
struct BucketizerRow {
    cols: Vec<(crate::row::NumIn, String, Vec<f64>, crate::row::NumOut)>,
    handle_invalid: HandleInvalid,
}

impl crate::row::RowStage for Bucketizer {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let mut cols = Vec::new();
        for (ic, oc, splits) in self.params.plan()? {
            let input = plan.num_input(&ic)?;
            cols.push((input, ic, splits, plan.add_num(&oc)));
        }
        Ok(Some(Box::new(BucketizerRow {
            cols,
            handle_invalid: self.params.handle_invalid,
        })))
    }
}

impl crate::row::RowOp for BucketizerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let stage = BucketizerParams::STAGE;
        let h = self.handle_invalid;
        for (input, ic, splits, out) in &self.cols {
            let n = splits.len() - 1;
            let (lo, hi) = (splits[0], splits[n]);
            let Some(x) = row.num(*input) else {
                if h == HandleInvalid::Skip {
                    return Ok(crate::row::Flow::Drop);
                }
                row.set_num(*out, None);
                continue;
            };
            if x.is_nan() {
                match h {
                    HandleInvalid::Keep => row.set_num(*out, Some(n as f64)),
                    HandleInvalid::Skip => return Ok(crate::row::Flow::Drop),
                    HandleInvalid::Error => {
                        return Err(row.invalid(
                            stage,
                            ic,
                            "NaN",
                            "set handleInvalid to \"skip\" to drop such rows or \"keep\" to put them in an extra bucket",
                        ))
                    }
                }
                continue;
            }
            if below(x, lo) || x > hi {
                return Err(row.invalid(
                    stage,
                    ic,
                    format!("value {x} outside the splits [{lo}, {hi}]"),
                    "check the feature, or widen the outer splits (-inf and inf cover every value)",
                ));
            }
            row.set_num(*out, Some(bucket_of(x, &splits[1..n])));
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::java_double_string;
    use super::*;

    /// Spark's `binarySearchForBuckets` as Spark writes it: the last split belongs to the
    /// last bucket; otherwise Java's `binarySearch` (an exact hit gives its index, a miss
    /// `-insertion - 1`, whose bucket is `insertion - 1`).
    fn spark_bucket(splits: &[f64], x: f64) -> f64 {
        let n = splits.len();
        if x == splits[n - 1] {
            return (n - 2) as f64;
        }
        match splits.binary_search_by(|s| s.total_cmp(&x)) {
            Ok(i) => i as f64,
            Err(ins) => (ins - 1) as f64,
        }
    }

    #[test]
    fn the_counting_and_searching_kernels_are_sparks_buckets() {
        // -0.0 against a lowest split of 0.0: below the range in Spark's order.
        assert!(bucket_valid_column(&[1.0, -0.0], &[0.0, 1.0, 2.0]).is_none());
        assert!(bucket_valid_column(&[1.0, 0.0], &[-0.0, 1.0, 2.0]).is_some());
        // 4 splits (counted) and 50 (searched); values on every split, between them, at
        // both ends, and -0.0 against a 0.0 split; 1003 values (not a multiple of 8).
        for splits in [
            vec![-10.0, 0.0, 2.5, 10.0],
            // No 0.0 split (the kernel without the -0.0 test), and a -0.0 one.
            vec![-10.0, -1.0, 2.5, 10.0],
            vec![-10.0, -0.0, 2.5, 10.0],
            vec![-0.0, 1.0, 2.0],
            (0..50).map(|i| i as f64 * 0.5 - 12.0).collect::<Vec<f64>>(),
        ] {
            let (lo, hi) = (splits[0], splits[splits.len() - 1]);
            let mut x: Vec<f64> = (0..1003)
                .map(|i| lo + (hi - lo) * (i as f64 / 1002.0))
                .collect();
            x.extend(splits.iter().copied());
            x.extend([-0.0, 0.0]);
            let got = bucket_valid_column(&x, &splits).expect("all values valid");
            for (v, g) in x.iter().zip(&got) {
                assert_eq!(
                    g.to_bits(),
                    spark_bucket(&splits, *v).to_bits(),
                    "{v} in {splits:?}"
                );
            }
            // Any NaN or out-of-range value sends the column to the row walk.
            for bad in [f64::NAN, hi + 1.0, lo - 1.0] {
                let mut y = x.clone();
                y[500] = bad;
                assert!(bucket_valid_column(&y, &splits).is_none(), "{bad}");
            }
        }
    }

    #[test]
    fn clean_and_walked_chunks_mix_across_partitions_and_columns() {
        use arrow::array::RecordBatch;
        use arrow::datatypes::Field;
        // 3 partitions x 2 columns, 70,001 rows each (two row blocks per chunk): only
        // partition 1's column `a` has a NaN and a null (the row walk), the other chunks
        // take the counting kernel; under `skip` the bad rows go from both columns.
        let splits = [f64::NEG_INFINITY, -1.0, 0.0, 2.5, f64::INFINITY];
        let rows = 70_001;
        let schema = Arc::new(Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Float64, true),
        ]));
        let value = |p: usize, c: usize, r: usize| ((p * 7 + c * 3 + r) % 13) as f64 * 0.5 - 2.0;
        let parts: Vec<RecordBatch> = (0..3)
            .map(|p| {
                let cols: Vec<ArrayRef> = (0..2)
                    .map(|c| {
                        let v: Vec<Option<f64>> = (0..rows)
                            .map(|r| match (p, c, r) {
                                (1, 0, 5) => Some(f64::NAN),
                                (1, 0, 66_000) => None,
                                _ => Some(value(p, c, r)),
                            })
                            .collect();
                        Arc::new(Float64Array::from(v)) as ArrayRef
                    })
                    .collect();
                RecordBatch::try_new(schema.clone(), cols).unwrap()
            })
            .collect();
        let df = DataFrame::try_new(schema, parts).unwrap();
        let b = Bucketizer::new()
            .with_input_cols(["a", "b"])
            .with_output_cols(["ba", "bb"])
            .with_splits_array(&[splits.to_vec(), splits.to_vec()]);
        let err = b.transform(&df).unwrap_err().to_string();
        assert!(
            err.starts_with("Bucketizer: NaN in column `a` (partition 1, row 5)"),
            "{err}"
        );
        let out = b
            .clone()
            .with_handle_invalid(HandleInvalid::Skip)
            .transform(&df)
            .unwrap();
        for (p, batch) in out.partitions().iter().enumerate() {
            let kept: Vec<usize> = (0..rows)
                .filter(|&r| p != 1 || (r != 5 && r != 66_000))
                .collect();
            assert_eq!(batch.num_rows(), kept.len(), "partition {p}");
            for c in 0..2 {
                let got = batch.column(2 + c).as_primitive::<Float64Type>();
                assert_eq!(got.null_count(), 0);
                for (i, &r) in kept.iter().enumerate() {
                    let want = spark_bucket(&splits, value(p, c, r));
                    assert_eq!(got.value(i).to_bits(), want.to_bits(), "p {p} c {c} r {r}");
                }
            }
        }
        // `keep`: the NaN in the extra bucket, the null stays null.
        let out = b
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df)
            .unwrap();
        let a = out.partitions()[1].column(2).as_primitive::<Float64Type>();
        assert_eq!(
            (a.value(5), a.is_null(66_000), a.value(4)),
            (4.0, true, spark_bucket(&splits, value(1, 0, 4)))
        );
    }

    #[test]
    fn doubles_are_spelled_as_java_does() {
        for (x, want) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (-2.5, "-2.5"),
            (0.001, "0.001"),
            (1234567.0, "1234567.0"),
            (1e7, "1.0E7"),
            (1.5e-4, "1.5E-4"),
            (-3.25e20, "-3.25E20"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(java_double_string(x), want, "{x}");
        }
    }
}
