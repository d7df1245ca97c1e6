//! [`Binarizer`]: threshold numbers or vector elements to 0/1.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/Binarizer.scala`.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::columns::{in_out_cols, InOutCols};
use super::vector_stage::{map_rows, sized_vector_field, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{spark_double, spark_doubles, Params};
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`Binarizer`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct BinarizerParams {
    /// Values above it map to 1.0, the rest to 0.0. Default 0.0; in multi-column mode it
    /// applies to every column unless `thresholds` is set.
    #[serde(with = "spark_double")]
    pub threshold: f64,
    /// Multi-column mode: one threshold per input column.
    #[serde(with = "spark_doubles")]
    pub thresholds: Option<Vec<f64>>,
    /// Single-column input (numeric or vector).
    pub input_col: Option<String>,
    /// Multi-column inputs.
    pub input_cols: Option<Vec<String>>,
    /// Single-column output.
    pub output_col: Option<String>,
    /// Multi-column outputs.
    pub output_cols: Option<Vec<String>>,
}

in_out_cols!(BinarizerParams);

impl BinarizerParams {
    /// The (input, output, threshold) triples, checking Spark's rules.
    fn plan(&self) -> Result<Vec<(String, String, f64)>> {
        let stage = Self::STAGE;
        let pairs = self.pairs(stage)?;
        let ts = match (&self.thresholds, self.input_col.is_some()) {
            (Some(_), true) => {
                return Err(Error::param(
                    stage,
                    "thresholds",
                    "unset in single-column mode (use threshold)",
                    "set",
                ))
            }
            (Some(t), false) => {
                if t.len() != pairs.len() {
                    return Err(Error::param(
                        stage,
                        "thresholds",
                        format!("{} thresholds, one per input column", pairs.len()),
                        t.len(),
                    ));
                }
                t.clone()
            }
            (None, _) => vec![self.threshold; pairs.len()],
        };
        Ok(pairs
            .into_iter()
            .zip(ts)
            .map(|((i, o), t)| (i, o, t))
            .collect())
    }
}

impl Params for BinarizerParams {
    const STAGE: &'static str = "Binarizer";
    fn validate(&self) -> Result<()> {
        self.plan().map(|_| ())
    }
}

/// Maps numbers, or each element of a vector, to 1.0 when above a threshold and 0.0
/// otherwise (Spark's `org.apache.spark.ml.feature.Binarizer`); NaN maps to 0.0, a null
/// number or vector to null. A numeric output carries Spark's binary attribute
/// (`{"type": "binary"}`), a vector output its size (`{"num_attrs": n}`). A vector output
/// is stored as Spark stores it: each row `.compressed` (sparse when that is smaller),
/// in a sparse-type (`VectorUDT`) column whatever the input's layout; with a negative
/// threshold every unstored zero becomes 1.0 (and NaN too, as in Spark).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::Binarizer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let b = Binarizer::new().with_input_cols(["tenure", "f0"]).with_output_cols(["long", "pos"])
///     .with_thresholds(&[12.0, 0.0]);
/// let out = b.transform(&df)?;
/// assert!(out.schema().field_with_name("pos").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (`thresholds` in single-column mode or of the wrong length, or a
/// NaN threshold for a vector column, which Spark's vector branches refuse),
/// [`Error::ColumnNotFound`], [`Error::ColumnType`] (neither numeric nor vector),
/// [`Error::ColumnExists`].
#[derive(Clone, Debug)]
pub struct Binarizer {
    uid: String,
    params: BinarizerParams,
}

super::columns::stage_basics!(Binarizer, BinarizerParams, "binarizer", |uid| {
    BinarizerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl Binarizer {
    super::columns::multi_column_setters!();
    /// The threshold; default 0.0.
    pub fn with_threshold(mut self, t: f64) -> Self {
        self.params.threshold = t;
        self
    }
    /// Multi-column mode: one threshold per input column.
    pub fn with_thresholds(mut self, t: &[f64]) -> Self {
        self.params.thresholds = Some(t.to_vec());
        self
    }
}

impl Stage for Binarizer {
    fn kind(&self) -> &'static str {
        "Binarizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = BinarizerParams::STAGE;
        let mut out = input.clone();
        for (ic, oc, _) in self.params.plan()? {
            let (_, f) = schema::require_column(input, stage, &ic)?;
            let field = if let Some(n) = vector::field_vector_size(f) {
                // Spark builds each row sparse and stores it `.compressed`: a VectorUDT
                // column whose rows are dense or sparse each, whatever the input.
                vector::like_input(
                    f,
                    OutLayout::Compressed.field(sized_vector_field(&oc, n), f.data_type()),
                )
            } else if schema::is_numeric(f.data_type()) {
                let mut field = Field::new(&oc, DataType::Float64, true);
                field.metadata_mut().insert(
                    vector::ML_ATTR.to_string(),
                    // Spark 4.3 writes the binary attribute without a name.
                    serde_json::json!({"type": "binary"}).to_string(),
                );
                field
            } else {
                return Err(Error::ColumnType {
                    stage,
                    column: ic,
                    expected: "a numeric or vector column".into(),
                    found: f.data_type().clone(),
                });
            };
            out = schema::append_field(&out, stage, field)?;
        }
        Ok(out)
    }
}

impl Transformer for Binarizer {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = self.transform_schema(df.schema())?;
        let plan = self.params.plan()?;
        // Every scalar column's partitions at once (columns x partitions in parallel, each
        // written in parallel row blocks straight into its new buffer); null rows keep the
        // input's validity.
        let is_vector = |ic: &str| -> Result<bool> {
            Ok(vector::field_vector_size(df.schema().field_with_name(ic)?).is_some())
        };
        let mut scalar_in: Vec<(usize, ArrayRef, f64)> = Vec::new();
        for (k, (ic, _, t)) in plan.iter().enumerate() {
            if !is_vector(ic)? {
                for c in df.column(ic)?.chunks {
                    scalar_in.push((k, c, *t));
                }
            }
        }
        let scalar_in = scalar_in
            .into_par_iter()
            .map(|(k, c, t)| Ok((k, cast(&c, &DataType::Float64)?, t)))
            .collect::<Vec<Result<_>>>();
        let scalar_in = crate::frame::in_order(scalar_in)?;
        let mut scalar_out: Vec<Vec<ArrayRef>> = vec![Vec::new(); plan.len()];
        for ((k, a, _), v) in scalar_in.iter().zip(binarize_scalars(&scalar_in)) {
            let nulls = a.nulls().cloned();
            scalar_out[*k].push(Arc::new(Float64Array::new(v, nulls)));
        }
        let mut out = df.clone();
        for (k, (ic, oc, t)) in plan.into_iter().enumerate() {
            let field = out_schema.field_with_name(&oc)?.clone();
            if let Some(n) = vector::field_vector_size(df.schema().field_with_name(&ic)?) {
                if t.is_nan() {
                    // Spark's vector branches test `t >= 0` and `t < 0`: a NaN threshold
                    // matches neither and fails there.
                    return Err(Error::param(
                        BinarizerParams::STAGE,
                        if self.params.thresholds.is_some() {
                            "thresholds"
                        } else {
                            "threshold"
                        },
                        format!("a number (not NaN) for the vector column `{ic}`"),
                        t,
                    ));
                }
                if n <= MASK_BITS {
                    let chunks = binarize_vectors(df, &ic, &oc, n, t)?;
                    out = out.with_column(field, chunks)?;
                    continue;
                }
                let k = BinarizeKernel { t };
                out = map_rows("Binarizer", &out, &ic, n, field, OutLayout::Compressed, &k)?;
            } else {
                out = out.with_column(field, std::mem::take(&mut scalar_out[k]))?;
            }
        }
        Ok(out)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// Scalar column chunks (as doubles, each with its threshold) binarized: 1.0 above the
/// threshold, else 0.0 (NaN gives 0.0); every chunk at once in parallel row blocks, into
/// one fresh buffer (`buffer::par_build_parts`). The caller keeps each input's validity.
fn binarize_scalars(chunks: &[(usize, ArrayRef, f64)]) -> Vec<arrow::buffer::ScalarBuffer<f64>> {
    let values: Vec<&[f64]> = chunks
        .iter()
        .map(|(_, a, _)| &a.as_primitive::<Float64Type>().values()[..])
        .collect();
    let lens: Vec<usize> = values.iter().map(|v| v.len()).collect();
    // SAFETY: the closure writes every element of its block.
    unsafe {
        crate::frame::buffer::par_build_parts(&lens, |i, first, dst| {
            let t = chunks[i].2;
            for (o, &x) in dst.iter_mut().zip(&values[i][first..]) {
                o.write(if x > t { 1.0 } else { 0.0 });
            }
        })
    }
}

/// Vectors up to this size are binarized through one bit mask per row.
const MASK_BITS: usize = 64;

/// The vector column `ic` (`n <= MASK_BITS` values a row, dense or sparse rows) binarized
/// into `oc`'s chunks, each row stored `.compressed` as Spark stores it: one pass over the
/// input makes each row's bit mask of the values that map to 1.0 (bit `j` for value `j`,
/// [`BinarizeKernel`]'s rule), which alone places the row (its ones are the non-zeros
/// `Vector.compressed` counts) and then writes it (`vector::par_planned_chunk`): the input
/// is read once.
fn binarize_vectors(df: &DataFrame, ic: &str, oc: &str, n: usize, t: f64) -> Result<Vec<ArrayRef>> {
    let stage = BinarizerParams::STAGE;
    let c = df.column(ic)?;
    let k = BinarizeKernel { t };
    let chunks = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(partition, a)| {
            let at = vector::At {
                stage,
                column: ic,
                partition,
            };
            let block = vector::VectorBlock::new(a.as_ref(), n, at)?;
            let at = vector::At {
                stage,
                column: oc,
                partition,
            };
            let place = |_: &mut (),
                         first: usize,
                         kinds: &mut [i8],
                         counts: &mut [i32],
                         masks: &mut [u64]| {
                match block.as_dense() {
                    Some(x) => k.dense_masks(&x[first * n..(first + masks.len()) * n], n, masks),
                    None => {
                        for (j, m) in masks.iter_mut().enumerate() {
                            *m = block.row(first + j).map_or(0, |row| k.row_mask(row));
                        }
                    }
                }
                // Each row's ones are its non-zeros: Spark's `compressed` rule on them.
                crate::frame::kernels::plan_mask_rows(masks, n, kinds, counts);
                Ok(())
            };
            let write =
                |_: &mut (), _first: usize, masks: &[u64], out: &mut vector::PlannedBlock<'_>| {
                    for &m in masks {
                        match out.next() {
                            vector::PlannedRow::Null => {}
                            vector::PlannedRow::Dense(o) => {
                                // Eight values a step, from the mask's byte (n <= 64).
                                for (k, o) in o.chunks_mut(8).enumerate() {
                                    let byte = &BYTE_ONES[(m >> (8 * k)) as u8 as usize];
                                    for (o, v) in o.iter_mut().zip(byte) {
                                        o.write(*v);
                                    }
                                }
                            }
                            vector::PlannedRow::Sparse(idx, vals) => {
                                let mut bits = m;
                                for (i, v) in idx.iter_mut().zip(vals.iter_mut()) {
                                    i.write(bits.trailing_zeros() as i32);
                                    v.write(1.0);
                                    bits &= bits - 1;
                                }
                            }
                        }
                    }
                    Ok(())
                };
            // SAFETY: `write` writes every value of every row: a dense row's `n` values,
            // a sparse row's counted entries (its mask's set bits, as many as `place`
            // counted, in increasing index below `n`).
            unsafe {
                vector::par_planned_chunk(block.len(), n, a.nulls(), true, at, || (), place, write)
            }
        })
        .collect::<Vec<_>>();
    crate::frame::in_order(chunks)
}

/// `BYTE_ONES[b][l]` is 1.0 where bit `l` of `b` is set, else 0.0: a dense output row
/// written from its bit mask eight values at a time (16 KB, stays in L1).
static BYTE_ONES: [[f64; 8]; 256] = byte_ones();

const fn byte_ones() -> [[f64; 8]; 256] {
    let mut t = [[0.0; 8]; 256];
    let mut b = 0;
    while b < 256 {
        let mut l = 0;
        while l < 8 {
            if b >> l & 1 == 1 {
                t[b][l] = 1.0;
            }
            l += 1;
        }
        b += 1;
    }
    t
}

/// Binarizer's vector row maps (Spark's `Binarizer.transform`): with a threshold `t ≥ 0`
/// the stored values above `t` become 1.0 (unstored zeros stay 0); with `t < 0` every
/// value becomes 1.0 except those `≤ t` (so NaN gives 1.0 there, as in Spark).
struct BinarizeKernel {
    t: f64,
}

impl BinarizeKernel {
    /// Whether `dense` maps the value `x` to 1.0.
    #[inline(always)]
    // `!(x <= t)`, not `x > t`: NaN (in `x` or in `t`) passes, as in Spark's `v <= t` test.
    #[allow(clippy::neg_cmp_op_on_partial_ord)]
    fn one(&self, x: f64) -> bool {
        // t >= 0: above t (NaN fails); t < 0: not at or below t (NaN passes).
        if self.t >= 0.0 {
            x > self.t
        } else {
            !(x <= self.t)
        }
    }

    /// The bit mask (bit `j` for value `j`, `row.len() <= 64`) of the values of `row`
    /// that [`dense`](VectorMap::dense) maps to 1.0; for a sparse row every unstored zero
    /// counts as a `0.0` (so a negative threshold sets its bit, as Spark's sparse branch
    /// does).
    fn row_mask(&self, row: vector::Row<'_>) -> u64 {
        match row {
            vector::Row::Dense(x) => {
                let mut m = 0;
                mask_rows(x, x.len(), self.t, std::slice::from_mut(&mut m));
                m
            }
            vector::Row::Sparse {
                size,
                indices,
                values,
            } => {
                // Every value unstored: all `size` bits when a zero maps to 1.0.
                let all = match size {
                    64.. => u64::MAX,
                    s => (1u64 << s) - 1,
                };
                let mut m = if self.one(0.0) { all } else { 0 };
                for (i, v) in indices.iter().zip(values) {
                    let bit = 1u64 << *i;
                    m = if self.one(*v) { m | bit } else { m & !bit };
                }
                m
            }
        }
    }

    /// [`row_mask`](Self::row_mask) of every row of `x` (rows of `n <= 64` values back to
    /// back) into `masks`.
    fn dense_masks(&self, x: &[f64], n: usize, masks: &mut [u64]) {
        mask_rows(x, n, self.t, masks);
    }
}

crate::frame::kernels::multiversion! {
    /// Each row's bit mask of the values above `t` (`t >= 0`) or not at or below `t`
    /// (`t < 0`, NaN included): Binarizer's ones, eight values compared at a time.
    fn mask_rows(x: &[f64], n: usize, t: f64, masks: &mut [u64]) {
        #[inline(always)]
        fn rows(x: &[f64], n: usize, masks: &mut [u64], one: impl Fn(f64) -> bool) {
            if n == 0 {
                masks.fill(0);
                return;
            }
            for (m, row) in masks.iter_mut().zip(x.chunks_exact(n)) {
                let mut bits = 0u64;
                let mut c = row.chunks_exact(8);
                let mut j = 0;
                for b in &mut c {
                    let mut byte = 0u64;
                    for (l, v) in b.iter().enumerate() {
                        byte |= u64::from(one(*v)) << l;
                    }
                    bits |= byte << j;
                    j += 8;
                }
                for v in c.remainder() {
                    bits |= u64::from(one(*v)) << j;
                    j += 1;
                }
                *m = bits;
            }
        }
        // `!(v <= t)`: NaN passes (a NaN threshold too), as in Spark's `v <= t` test.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        let not_at_or_below = |v: f64| !(v <= t);
        if t >= 0.0 {
            rows(x, n, masks, |v| v > t)
        } else {
            rows(x, n, masks, not_at_or_below)
        }
    }
}

impl VectorMap for BinarizeKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        let t = self.t;
        if t >= 0.0 {
            for (o, x) in out.iter_mut().zip(x) {
                *o = if *x > t { 1.0 } else { 0.0 };
            }
        } else {
            for (o, x) in out.iter_mut().zip(x) {
                *o = if *x <= t { 0.0 } else { 1.0 };
            }
        }
    }
    #[inline]
    fn dense_nnz(&self, x: &[f64], _scratch: &mut [f64]) -> usize {
        // The ones `dense` writes, counted straight from the input.
        let t = self.t;
        if t >= 0.0 {
            x.iter().map(|x| usize::from(*x > t)).sum()
        } else {
            x.iter().map(|x| usize::from(*x > t || x.is_nan())).sum()
        }
    }
    fn sparse(
        &self,
        _size: usize,
        indices: &[i32],
        values: &[f64],
        oi: &mut Vec<i32>,
        ov: &mut Vec<f64>,
    ) -> bool {
        if self.t < 0.0 {
            return false;
        }
        for (i, v) in indices.iter().zip(values) {
            if *v > self.t {
                oi.push(*i);
                ov.push(1.0);
            }
        }
        true
    }
}

impl Model for Binarizer {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

impl crate::persist::SparkPersist for Binarizer {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.Binarizer";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        let mut params = self.params.to_json();
        // Spark refuses threshold and thresholds both set: with a list, threshold stays a
        // default.
        if self.params.thresholds.is_some() {
            if let Some(m) = params.as_object_mut() {
                m.remove("threshold");
            }
        }
        let defaults = BinarizerParams::default().to_json();
        format::write_metadata(dir, Self::SPARK_CLASS, &self.uid, params, defaults, None)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        Ok(Self::from_params(md.uid.clone(), md.params_as(dir)?))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for Binarizer {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let mut cols = Vec::new();
        for (ic, oc, t) in self.params.plan()? {
            let is_vector = plan
                .schema()
                .field_with_name(&ic)
                .is_ok_and(|f| vector::field_vector_size(f).is_some());
            cols.push(if is_vector {
                let x = plan.vec_input(&ic)?;
                BinarizeCol::Vector(x, plan.add_vec(&oc, x.len()), t)
            } else {
                BinarizeCol::Scalar(plan.num_input(&ic)?, plan.add_num(&oc), t)
            });
        }
        Ok(Some(Box::new(BinarizerRow(cols))))
    }
}

#[derive(Debug)]
enum BinarizeCol {
    Scalar(crate::row::NumIn, crate::row::NumOut, f64),
    Vector(crate::row::VecSlot, crate::row::VecSlot, f64),
}

#[derive(Debug)]
struct BinarizerRow(Vec<BinarizeCol>);

impl crate::row::RowOp for BinarizerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        // As the batch form: 1 above the threshold, else 0 (NaN gives 0); null stays null.
        let bin = |x: f64, t: f64| if x > t { 1.0 } else { 0.0 };
        for c in &self.0 {
            match *c {
                BinarizeCol::Scalar(x, o, t) => {
                    let v = row.num(x).map(|x| bin(x, t));
                    row.set_num(o, v);
                }
                BinarizeCol::Vector(x, o, t) => {
                    // The batch form's dense map (with a negative threshold NaN gives 1).
                    let (x, out) = row.vec_pair(x, o);
                    BinarizeKernel { t }.dense(x, out);
                }
            }
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A frame with the vector column `v` (`n` values a row) in two partitions: dense
    /// rows of every kind of value (zeros of both signs, NaN, infinities, values at the
    /// thresholds) and, when `sparse`, a sparse-typed column mixing them with sparse rows
    /// and null rows.
    fn frame(n: usize, sparse: bool) -> DataFrame {
        let pool = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            f64::NAN,
            f64::INFINITY,
            -2.0,
            2.0,
            -1.0,
            0.4,
        ];
        let value = |r: usize, j: usize| pool[(r * 7 + j * 3 + r / 3) % pool.len()];
        let batch = |first: usize, rows: usize| {
            let field = if sparse {
                vector::sparse_vector_field("v", n, true)
            } else {
                vector::vector_field("v", n, true)
            };
            let col: ArrayRef = if sparse {
                let mut b = vector::SparseVectorBuilder::new(n);
                for r in first..first + rows {
                    let x: Vec<f64> = (0..n).map(|j| value(r, j)).collect();
                    match r % 5 {
                        0 => b.push_null(),
                        1 | 2 => {
                            // Every third element stored (stored zeros among them).
                            let idx: Vec<i32> =
                                (0..n as i32).filter(|j| (j + r as i32) % 3 == 0).collect();
                            let vals: Vec<f64> = idx.iter().map(|j| x[*j as usize]).collect();
                            b.push(&idx, &vals).unwrap();
                        }
                        _ => b.push_dense(&x).unwrap(),
                    }
                }
                b.finish().unwrap()
            } else {
                let vals: Vec<f64> = (first..first + rows)
                    .flat_map(|r| (0..n).map(move |j| value(r, j)))
                    .collect();
                Arc::new(vector::vector_array(vals, n, None).unwrap())
            };
            arrow::array::RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![col])
                .unwrap()
        };
        // More rows than one builder block (2048), so blocks and partitions both split.
        DataFrame::from_batches(vec![batch(0, 2500), batch(2500, 37)]).unwrap()
    }

    #[test]
    fn a_nan_threshold_is_refused_for_vector_columns() {
        // Spark's vector Binarizer matches `t >= 0` or `t < 0` (a MatchError for NaN).
        let df = frame(3, false);
        let e = Binarizer::new()
            .with_input_col("v")
            .with_output_col("o")
            .with_threshold(f64::NAN)
            .transform(&df)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Binarizer")
                && e.contains("threshold")
                && e.contains("not NaN")
                && e.contains("`v`"),
            "{e}"
        );
    }

    #[test]
    fn mask_path_is_the_row_map_path_bit_for_bit() {
        // The one-pass mask builder against the general compressed row map (the path
        // vectors wider than 64 take), for dense and mixed sparse input, thresholds of
        // both signs, sizes around the 8-value mask groups and at the 64-bit limit.
        for sparse in [false, true] {
            for n in [1, 3, 8, 9, 20, 64] {
                let df = frame(n, sparse);
                for t in [0.0, 0.45, -0.5, -1.5] {
                    let b = Binarizer::new()
                        .with_input_col("v")
                        .with_output_col("o")
                        .with_threshold(t);
                    let out = b.transform(&df).unwrap();
                    let field = out.schema().field_with_name("o").unwrap().clone();
                    let want = map_rows(
                        "Binarizer",
                        &df,
                        "v",
                        n,
                        field,
                        OutLayout::Compressed,
                        &BinarizeKernel { t },
                    )
                    .unwrap();
                    let (got, want) = (out.column("o").unwrap(), want.column("o").unwrap());
                    assert_eq!(got.chunks.len(), 2);
                    for (g, w) in got.chunks.iter().zip(&want.chunks) {
                        assert_eq!(g.to_data(), w.to_data(), "sparse {sparse} n {n} t {t}");
                    }
                }
            }
        }
    }

    #[test]
    fn vector_count_is_the_rows_non_zeros_and_the_row_form_is_the_batch_map() {
        // Spark's vector Binarizer: t >= 0 maps x > t to 1 (NaN to 0); t < 0 maps x <= t to
        // 0 and everything else, NaN included, to 1. The count that places a compressed row
        // is the number of ones `dense` writes.
        let x = [0.0, -0.0, 0.5, -0.5, f64::NAN, f64::INFINITY, -2.0, 2.0];
        for t in [0.0, 0.4, -0.5, -1.0] {
            let k = BinarizeKernel { t };
            let mut out = [0.0; 8];
            k.dense(&x, &mut out);
            let ones = out.iter().filter(|v| **v != 0.0).count();
            assert_eq!(k.dense_nnz(&x, &mut [0.0; 8]), ones, "t {t}");
            let by_hand: Vec<f64> = x
                .iter()
                .map(|v| match (t >= 0.0, *v > t, *v <= t) {
                    (true, true, _) | (false, _, false) => 1.0,
                    _ => 0.0,
                })
                .collect();
            assert_eq!(out.to_vec(), by_hand, "t {t}");
        }
    }
}
