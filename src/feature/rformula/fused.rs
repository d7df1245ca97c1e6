//! RFormulaModel's features column in one pass: the inner pipeline's
//! `StringIndexerModel`s, `OneHotEncoderModel`s and `VectorAssembler` fused, so each row's
//! vector is written once, straight from the string and numeric input columns, without
//! the index and one-hot columns the stages in turn would write.
//!
//! The output is the staged pipeline's, bit for bit and field for field: each string
//! term's category is found by the StringIndexer's own label lookup
//! ([`LabelIndex`](crate::feature::string_indexer::LabelIndex)) and mapped to its one-hot
//! position as `OneHotEncoderModel` maps an index (dropLast, handleInvalid `keep`'s extra
//! category); numeric terms are read as `VectorAssembler` casts them (a `0.0` stored as
//! `+0.0`, a null kept as NaN); each row is stored dense or sparse by Spark's
//! `Vector.compressed` rule ([`vector::prefers_sparse`]) through the shared planned
//! builder ([`vector::par_planned_chunk`]), and the field is the one the staged stages'
//! schemas give. What the fused path does not cover — an inner pipeline of another shape
//! (interactions, vector terms), a type it does not read, or any row that one of the
//! stages would drop or refuse (a null, an unseen label or a NaN under `error` or `skip`)
//! — runs the staged pipeline instead, so rows are dropped and errors named exactly as
//! the stages do.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::buffer::NullBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema};

use super::column_pruner::ColumnPruner;
use super::vector_attribute_rewriter::VectorAttributeRewriter;
use super::{term_kind, TermKind};
use crate::error::{Error, Result};
use crate::feature::columns::InOutCols;
use crate::feature::one_hot_encoder::output_size;
use crate::feature::string_indexer::{as_strings, LabelIndex};
use crate::feature::{OneHotEncoderModel, StringIndexerModel, VectorAssembler};
use crate::frame::{schema, vector, DataFrame};
use crate::param::HandleInvalid;
use crate::pipeline::PipelineModel;

/// A one-hot position meaning "no entry" (the dropped last category).
const NONE: u32 = u32::MAX - 1;
/// A one-hot position meaning "a row the stages would refuse or drop".
const INVALID: u32 = u32::MAX;

/// One input of the fused assembly, in the assembler's order.
#[derive(Debug)]
enum Term<'m> {
    /// A numeric (or boolean) input column, by index in the input schema.
    Numeric(usize),
    /// A string column indexed then one-hot encoded into `width` values.
    OneHot {
        /// The string column's index in the input schema.
        col: usize,
        labels: &'m [String],
        /// The one-hot position of each label index `0..n`, and at `n` that of an unseen
        /// label or a null (`keep`'s extra index; [`INVALID`] under `error` / `skip`).
        position: Vec<u32>,
        width: usize,
        /// Where the row's position (plus one; 0 for none) sits in the per-row memo word.
        shift: u32,
    },
}

/// The fused form of an inner pipeline on one input schema.
#[derive(Debug)]
pub(super) struct Fused<'m> {
    /// The assembler's index in the pipeline: the stages after it run as they are.
    assembler: usize,
    terms: Vec<Term<'m>>,
    size: usize,
    /// The assembler's `keep` (nulls and NaN assembled as NaN).
    keep: bool,
    /// The features field exactly as the staged stages' schemas give it.
    field: Field,
}

impl<'m> Fused<'m> {
    /// The fused form of `pipeline` on `input`, or `None` when its shape or the input's
    /// types are not covered (the caller then runs the stages).
    pub(super) fn plan(pipeline: &'m PipelineModel, input: &Schema) -> Option<Fused<'m>> {
        let stages = pipeline.stages();
        // Index outputs: column -> (string column, labels, indexer keeps invalid).
        let mut indexed: Vec<(String, usize, &'m [String], bool)> = Vec::new();
        // One-hot outputs: column -> (indexed entry, category count, OHE keep, width).
        let mut encoded: Vec<(String, usize, usize, bool, usize)> = Vec::new();
        let mut temps: Vec<&str> = Vec::new();
        let mut assembler = None;
        for (i, s) in stages.iter().enumerate() {
            if let Some(si) = s.downcast_ref::<StringIndexerModel>() {
                let pairs = si.params().pairs("StringIndexerModel").ok()?;
                if pairs.len() != si.labels().len() {
                    return None;
                }
                for ((ic, oc), labels) in pairs.into_iter().zip(si.labels()) {
                    let (col, f) = input.column_with_name(&ic)?;
                    if term_kind(f) != Some(TermKind::String) {
                        return None;
                    }
                    let keep = si.params().handle_invalid == HandleInvalid::Keep;
                    indexed.push((oc, col, labels, keep));
                }
            } else if let Some(ohe) = s.downcast_ref::<OneHotEncoderModel>() {
                let p = ohe.params();
                if p.dense_output {
                    return None;
                }
                let pairs = p.pairs("OneHotEncoderModel").ok()?;
                for ((ic, oc), &c) in pairs.into_iter().zip(ohe.category_sizes()) {
                    let k = indexed.iter().position(|(o, ..)| *o == ic)?;
                    let keep = p.handle_invalid == HandleInvalid::Keep;
                    encoded.push((oc, k, c, keep, output_size(c, p)));
                }
            } else if s.downcast_ref::<VectorAssembler>().is_some() {
                assembler = Some(i);
                break;
            } else {
                return None;
            }
        }
        let assembler = assembler?;
        temps.extend(indexed.iter().map(|(o, ..)| o.as_str()));
        temps.extend(encoded.iter().map(|(o, ..)| o.as_str()));
        // After the assembler: the attribute rewriter, the pruner of every temporary
        // column, and a label indexer that reads none of them.
        let mut pruned = false;
        for s in &stages[assembler + 1..] {
            if let Some(p) = s.downcast_ref::<ColumnPruner>() {
                pruned |= temps.iter().all(|t| p.columns().iter().any(|c| c == t));
            } else if let Some(si) = s.downcast_ref::<StringIndexerModel>() {
                let pairs = si.params().pairs("StringIndexerModel").ok()?;
                if pairs.iter().any(|(ic, _)| temps.contains(&ic.as_str())) {
                    return None;
                }
            } else if s.downcast_ref::<VectorAttributeRewriter>().is_none() {
                return None;
            }
        }
        if !pruned {
            return None;
        }
        let va = stages[assembler].downcast_ref::<VectorAssembler>()?;
        let vp = va.params();
        if vp.dense_output {
            return None;
        }
        let mut terms = Vec::with_capacity(vp.input_cols.len());
        let mut shift = 0u32;
        let mut size = 0usize;
        for c in &vp.input_cols {
            if let Some((_, k, cats, ohe_keep, width)) = encoded.iter().find(|(o, ..)| o == c) {
                let (_, col, labels, si_keep) = indexed[*k];
                let n = labels.len();
                // Index i (n: the indexer's extra index) through the encoder: category i
                // below its count, else invalid (the encoder's extra category under keep).
                let position = (0..=n)
                    .map(|i| {
                        if i == n && !si_keep {
                            return INVALID;
                        }
                        let cat = if i < *cats { i } else { *cats };
                        if cat == *cats && !ohe_keep {
                            INVALID
                        } else if cat < *width {
                            cat as u32
                        } else {
                            NONE
                        }
                    })
                    .collect();
                let bits = u64::BITS - (*width as u64).leading_zeros();
                if shift + bits > u64::BITS || *width >= NONE as usize {
                    return None;
                }
                terms.push(Term::OneHot {
                    col,
                    labels,
                    position,
                    width: *width,
                    shift,
                });
                shift += bits;
                size += width;
            } else if temps.contains(&c.as_str()) {
                return None;
            } else {
                let (col, f) = input.column_with_name(c)?;
                if !schema::is_numeric(f.data_type()) {
                    return None;
                }
                terms.push(Term::Numeric(col));
                size += 1;
            }
        }
        // The field the staged stages give (their schema checks run here too: a failing
        // one leaves the data to the stages, which fail the same way).
        let mut s = input.clone();
        for st in &stages[..=assembler] {
            s = st.transform_schema(&s).ok()?;
        }
        let field = s.field_with_name(&vp.output_col).ok()?.clone();
        if vector::field_vector_size(&field) != Some(size) {
            return None;
        }
        Some(Fused {
            assembler,
            terms,
            size,
            keep: vp.handle_invalid == HandleInvalid::Keep,
            field,
        })
    }

    /// The inner pipeline's output on `df`, or `None` when a row needs the stages (one
    /// they would drop or refuse).
    pub(super) fn transform(
        &self,
        pipeline: &PipelineModel,
        df: &DataFrame,
    ) -> Result<Option<DataFrame>> {
        let staged = AtomicBool::new(false);
        // Each string term's label lookup, built once for every partition.
        let maps: Vec<Option<LabelIndex<'_>>> = self
            .terms
            .iter()
            .map(|t| match t {
                Term::OneHot { labels, .. } => Some(LabelIndex::new(labels)),
                Term::Numeric(_) => None,
            })
            .collect();
        let chunks = df.map_partitions(|p, b| self.chunk(p, b, &maps, &staged));
        if staged.load(Ordering::Relaxed) {
            return Ok(None);
        }
        let mut out = df.with_column(self.field.clone(), chunks?)?;
        for s in &pipeline.stages()[self.assembler + 1..] {
            out = s.transform(&out)?;
        }
        Ok(Some(out))
    }

    /// One partition's features column; `staged` set (and an error returned) at the
    /// first row the stages must handle.
    fn chunk(
        &self,
        part: usize,
        b: &RecordBatch,
        maps: &[Option<LabelIndex<'_>>],
        staged: &AtomicBool,
    ) -> Result<ArrayRef> {
        let rows = b.num_rows();
        let mut owned: Vec<ArrayRef> = Vec::new();
        let mut cols: Vec<Col<'_>> = Vec::with_capacity(self.terms.len());
        // Arrays first (owned casts), then borrowed views of them.
        for t in &self.terms {
            match t {
                Term::Numeric(c) => {
                    let a = b.column(*c);
                    if !matches!(
                        a.data_type(),
                        DataType::Float64 | DataType::Int32 | DataType::Int64
                    ) {
                        owned.push(cast(a, &DataType::Float64)?);
                    }
                }
                Term::OneHot { col, .. } => {
                    let a = b.column(*col);
                    if !matches!(a.data_type(), DataType::Utf8) {
                        owned.push(Arc::new(as_strings(a)?) as ArrayRef);
                    }
                }
            }
        }
        let mut next = owned.iter();
        for (t, map) in self.terms.iter().zip(maps) {
            cols.push(match t {
                Term::Numeric(c) => {
                    let a = b.column(*c);
                    let a = match a.data_type() {
                        DataType::Float64 | DataType::Int32 | DataType::Int64 => a,
                        _ => next.next().ok_or_else(missing)?,
                    };
                    let nulls = a.logical_nulls().filter(|n| n.null_count() > 0);
                    let v = match a.data_type() {
                        DataType::Int32 => Num::I32(a.as_primitive::<Int32Type>().values()),
                        DataType::Int64 => Num::I64(a.as_primitive::<Int64Type>().values()),
                        _ => Num::F64(a.as_primitive::<Float64Type>().values()),
                    };
                    Col::Numeric(v, nulls)
                }
                Term::OneHot {
                    col,
                    position,
                    width,
                    shift,
                    ..
                } => {
                    let a = b.column(*col);
                    let s: &StringArray = match a.data_type() {
                        DataType::Utf8 => a.as_string::<i32>(),
                        _ => next.next().ok_or_else(missing)?.as_string::<i32>(),
                    };
                    Col::OneHot {
                        s,
                        map: map.as_ref().ok_or_else(missing)?,
                        position,
                        width: *width,
                        shift: *shift,
                    }
                }
            });
        }
        let keep = self.keep;
        let size = self.size;
        let refuse = || {
            staged.store(true, Ordering::Relaxed);
            Error::Internal(
                "RFormulaModel: a row for the staged pipeline (the fused path gives way)".into(),
            )
        };
        let at = vector::At {
            stage: "RFormulaModel",
            column: self.field.name(),
            partition: part,
        };
        // Pass 1: each row's one-hot positions (into the memo word) and non-zero count.
        let place = |nnz: &mut Vec<u32>,
                     first: usize,
                     kinds: &mut [i8],
                     counts: &mut [i32],
                     memo: &mut [u64]| {
            let len = kinds.len();
            nnz.clear();
            nnz.resize(len, 0);
            memo.fill(0);
            for c in &cols {
                match c {
                    Col::OneHot {
                        s,
                        map,
                        position,
                        shift,
                        ..
                    } => {
                        let unknown = position[position.len() - 1];
                        let has_nulls = s.null_count() > 0;
                        for j in 0..len {
                            let r = first + j;
                            let p = if has_nulls && s.is_null(r) {
                                unknown
                            } else {
                                match map.get(s.value(r)) {
                                    Some(i) => position[i as usize],
                                    None => unknown,
                                }
                            };
                            if p == INVALID {
                                return Err(refuse());
                            }
                            // Branch-free on the category: the dropped last one
                            // (NONE) adds no entry.
                            let hit = u32::from(p != NONE);
                            memo[j] |= ((u64::from(p) + 1) * u64::from(hit)) << shift;
                            nnz[j] += hit;
                        }
                    }
                    Col::Numeric(v, nulls) => {
                        let mut nan = false;
                        // One loop per value type (the type's match out of the loop).
                        macro_rules! count {
                            ($x:expr) => {
                                for (n, &x) in nnz.iter_mut().zip(&$x[first..first + len]) {
                                    #[allow(clippy::unnecessary_cast)]
                                    let x = x as f64;
                                    *n += u32::from(x != 0.0);
                                    nan |= x.is_nan();
                                }
                            };
                        }
                        match v {
                            Num::F64(x) => count!(x),
                            Num::I32(x) => count!(x),
                            Num::I64(x) => count!(x),
                        }
                        if let Some(nb) = nulls {
                            for (j, n) in nnz.iter_mut().enumerate() {
                                if nb.is_null(first + j) {
                                    if !keep {
                                        return Err(refuse());
                                    }
                                    // Assembled as NaN: one non-zero.
                                    *n += u32::from(v.get(first + j) == 0.0);
                                }
                            }
                        }
                        if nan && !keep {
                            return Err(refuse());
                        }
                    }
                }
            }
            for ((k, c), &n) in kinds.iter_mut().zip(counts.iter_mut()).zip(nnz.iter()) {
                if vector::prefers_sparse(n as usize, size) {
                    (*k, *c) = (vector::PLANNED_SPARSE, n as i32);
                } else {
                    *k = vector::PLANNED_DENSE;
                }
            }
            Ok(())
        };
        // Pass 2: each row written once, as `VectorAssembler` stores it: each run of dense
        // rows (nearly every row) term by term ([`dense_rows`]), the others row by row.
        let write =
            |_: &mut Vec<u32>, first: usize, memo: &[u64], out: &mut vector::PlannedBlock<'_>| {
                let mut j = 0;
                while j < memo.len() {
                    let (k, o) = out.next_dense_run(memo.len() - j);
                    if k > 0 {
                        dense_rows(&cols, size, first + j, &memo[j..j + k], o);
                        j += k;
                        continue;
                    }
                    let (r, m) = (first + j, memo[j]);
                    j += 1;
                    match out.next() {
                        vector::PlannedRow::Null => {}
                        vector::PlannedRow::Dense(o) => {
                            dense_rows(&cols, size, r, &[m], o);
                        }
                        vector::PlannedRow::Sparse(idx, vals) => {
                            let (mut k, mut off) = (0usize, 0usize);
                            let mut put = |i: usize, x: f64| {
                                if let (Some(a), Some(b)) = (idx.get_mut(k), vals.get_mut(k)) {
                                    a.write(i as i32);
                                    b.write(x);
                                }
                                k += 1;
                            };
                            for c in &cols {
                                match c {
                                    Col::OneHot { width, shift, .. } => {
                                        let p = one_hot(m, *shift, *width);
                                        if p != 0 {
                                            put(off + p - 1, 1.0);
                                        }
                                        off += width;
                                    }
                                    Col::Numeric(v, nulls) => {
                                        let x = value(v, nulls.as_ref(), r);
                                        if x != 0.0 {
                                            put(off, x);
                                        }
                                        off += 1;
                                    }
                                }
                            }
                            if k != idx.len() {
                                return Err(Error::Internal(format!(
                                "RFormulaModel: row {r} has another number of entries than counted"
                            )));
                            }
                        }
                    }
                }
                Ok(())
            };
        // SAFETY: `write` writes every value of a dense row (each term its width, in
        // order, the widths adding up to `size`) and exactly the counted entries of a
        // sparse row (the same terms' non-zeros as `place` counted, else it returns an
        // error), in increasing index below `size`.
        unsafe {
            vector::par_planned_chunk::<Vec<u32>, u64, _, _, _>(
                rows,
                size,
                None,
                true,
                at,
                Vec::new,
                place,
                write,
            )
        }
    }
}

/// Rows `first..first + memo.len()`, all stored dense, written into `o` (their values
/// back to back, `size` per row) term by term, each term's loop free of the others'
/// types: a numeric term's values as [`value`] gives them, a one-hot term's `width`
/// values from each row's memo word.
#[allow(clippy::unnecessary_cast)] // the macro reads i32, i64 and f64 slices alike
fn dense_rows(
    cols: &[Col<'_>],
    size: usize,
    first: usize,
    memo: &[u64],
    o: &mut [std::mem::MaybeUninit<f64>],
) {
    let end = first + memo.len();
    let mut off = 0;
    for c in cols {
        match c {
            Col::OneHot { width, shift, .. } => {
                let (width, shift) = (*width, *shift);
                for (row, &m) in o.chunks_exact_mut(size).zip(memo) {
                    let p = one_hot(m, shift, width);
                    for (k, x) in row[off..off + width].iter_mut().enumerate() {
                        x.write(if p == k + 1 { 1.0 } else { 0.0 });
                    }
                }
                off += width;
            }
            Col::Numeric(v, None) => {
                // A zero as `+0.0` ([`assembled`]).
                macro_rules! put {
                    ($x:expr) => {
                        for (row, &x) in o.chunks_exact_mut(size).zip(&$x[first..end]) {
                            row[off].write(assembled(x as f64));
                        }
                    };
                }
                match v {
                    Num::F64(x) => put!(x),
                    Num::I32(x) => put!(x),
                    Num::I64(x) => put!(x),
                }
                off += 1;
            }
            Col::Numeric(v, nulls) => {
                for (row, r) in o.chunks_exact_mut(size).zip(first..end) {
                    row[off].write(value(v, nulls.as_ref(), r));
                }
                off += 1;
            }
        }
    }
}

/// An internal error: a view without its array.
fn missing() -> Error {
    Error::Internal("RFormulaModel: fused input arrays out of step".into())
}

/// The row's one-hot position plus one (0: no entry) from its memo word.
#[inline(always)]
fn one_hot(m: u64, shift: u32, width: usize) -> usize {
    let bits = u64::BITS - (width as u64).leading_zeros();
    ((m >> shift) & ((1u64 << bits) - 1)) as usize
}

/// A numeric term's value as `VectorAssembler` stores it: a null as NaN (only reached
/// under keep), a zero as `+0.0` (its zero-filled slot).
#[inline(always)]
fn value(v: &Num<'_>, nulls: Option<&NullBuffer>, r: usize) -> f64 {
    if nulls.is_some_and(|n| n.is_null(r)) {
        return f64::NAN;
    }
    assembled(v.get(r))
}

/// A value as VectorAssembler stores it: a zero (either sign) as `+0.0`, its zero-filled
/// slot; shared by the row-by-row and the term-by-term writes.
#[inline(always)]
fn assembled(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else {
        x
    }
}

/// A numeric column's values, read as the cast to double reads them.
#[derive(Clone, Copy)]
enum Num<'a> {
    F64(&'a [f64]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Num<'_> {
    #[inline(always)]
    fn get(&self, r: usize) -> f64 {
        match self {
            Num::F64(v) => v[r],
            Num::I32(v) => f64::from(v[r]),
            Num::I64(v) => v[r] as f64,
        }
    }
}

/// One input of a partition.
enum Col<'a> {
    Numeric(Num<'a>, Option<NullBuffer>),
    OneHot {
        s: &'a StringArray,
        map: &'a LabelIndex<'a>,
        position: &'a [u32],
        width: usize,
        shift: u32,
    },
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array, StructArray,
    };
    use arrow::datatypes::Int8Type;

    use super::*;
    use crate::feature::{RFormula, RFormulaModel, StringOrderType};
    use crate::pipeline::{Estimator, Transformer};

    /// A small deterministic generator (64-bit LCG, Knuth's constants).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// `parts` partitions of random rows: string terms `s1` (5 labels, skewed), `s2` (2
    /// labels), `s3` (dictionary-encoded, 3 labels), numbers `i` (Int32, many zeros), `f`
    /// (Float64 with -0.0), `b` (Boolean), `l` (Int64), labels `y` (double) and `ys`.
    /// `dirty`: nulls, unseen labels and NaN too.
    fn frame(seed: u64, parts: &[usize], dirty: bool) -> DataFrame {
        let mut g = Lcg(seed);
        let s1 = ["red", "green", "blue", "a-longer-label-17", "x"];
        let batches = parts
            .iter()
            .map(|&rows| {
                let rare = |g: &mut Lcg| dirty && g.next(23) == 0;
                let str_col = |g: &mut Lcg, labels: &[&str]| -> Vec<Option<String>> {
                    (0..rows)
                        .map(|_| {
                            if rare(g) {
                                None
                            } else if rare(g) {
                                Some("unseen".to_string())
                            } else {
                                let k = g.next(labels.len() as u64 * 2) as usize;
                                Some(labels[k.min(k % labels.len())].to_string())
                            }
                        })
                        .collect()
                };
                let a = str_col(&mut g, &s1);
                let b = str_col(&mut g, &["p", "q"]);
                let c = str_col(&mut g, &["u", "v", "w"]);
                let i: Int32Array = (0..rows)
                    .map(|_| (!rare(&mut g)).then(|| g.next(5) as i32 - 2))
                    .collect();
                let f: Float64Array = (0..rows)
                    .map(|_| match g.next(40) {
                        0 if dirty => None,
                        1 if dirty => Some(f64::NAN),
                        2..=12 => Some(0.0),
                        13..=16 => Some(-0.0),
                        k => Some(k as f64 * 0.37 - 9.0),
                    })
                    .collect();
                let flag: BooleanArray = (0..rows).map(|_| Some(g.next(3) == 0)).collect();
                let l: Int64Array = (0..rows).map(|_| Some(g.next(3) as i64 * 1001)).collect();
                let y: Float64Array = (0..rows).map(|_| Some(g.next(2) as f64)).collect();
                let ys: arrow::array::StringArray = (0..rows)
                    .map(|_| Some(["no", "yes", "maybe"][g.next(3) as usize]))
                    .collect();
                let dict: DictionaryArray<Int32Type> = c.iter().map(|s| s.as_deref()).collect();
                let cols: Vec<ArrayRef> = vec![
                    Arc::new(arrow::array::StringArray::from(a)),
                    Arc::new(arrow::array::StringArray::from(b)),
                    Arc::new(dict),
                    Arc::new(i),
                    Arc::new(f),
                    Arc::new(flag),
                    Arc::new(l),
                    Arc::new(y),
                    Arc::new(ys),
                ];
                let names = ["s1", "s2", "s3", "i", "f", "b", "l", "y", "ys"];
                let fields: Vec<Field> = names
                    .iter()
                    .zip(&cols)
                    .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
                    .collect();
                RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
            })
            .collect();
        DataFrame::from_batches(batches).unwrap()
    }

    /// Each row of a `VectorUDT` column: struct validity, type, size, indices and the
    /// values' bits.
    type RowBits = (bool, i8, Option<i32>, Option<Vec<i32>>, Vec<u64>);

    fn rows_bits(a: &dyn Array) -> Vec<RowBits> {
        let s: &StructArray = a.as_struct();
        let kind = s.column(0).as_primitive::<Int8Type>();
        let size = s.column(1).as_primitive::<Int32Type>();
        let idx = s.column(2).as_list::<i32>();
        let vals = s.column(3).as_list::<i32>();
        (0..s.len())
            .map(|r| {
                (
                    s.is_valid(r),
                    kind.value(r),
                    size.is_valid(r).then(|| size.value(r)),
                    idx.is_valid(r)
                        .then(|| idx.value(r).as_primitive::<Int32Type>().values().to_vec()),
                    vals.value(r)
                        .as_primitive::<Float64Type>()
                        .values()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect(),
                )
            })
            .collect()
    }

    /// The fused and the staged outputs are the same: schema (metadata included), every
    /// column, the features bit for bit; or the same error.
    fn assert_same(what: &str, model: &RFormulaModel, df: &DataFrame) {
        let fused = model.transform_with(df, true);
        let staged = model.transform_with(df, false);
        let (fused, staged) = match (fused, staged) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(a), Err(b)) => {
                assert_eq!(a.to_string(), b.to_string(), "{what}: errors");
                return;
            }
            (a, b) => panic!("{what}: fused {:?} vs staged {:?}", a.err(), b.err()),
        };
        assert_eq!(fused.schema(), staged.schema(), "{what}: schema");
        assert_eq!(fused.num_partitions(), staged.num_partitions(), "{what}");
        let fcol = &model.params().features_col;
        for (pa, pb) in fused.partitions().iter().zip(staged.partitions()) {
            assert_eq!(pa.num_rows(), pb.num_rows(), "{what}: rows");
            for (f, (a, b)) in fused
                .schema()
                .fields()
                .iter()
                .zip(pa.columns().iter().zip(pb.columns()))
            {
                if f.name() == fcol {
                    assert_eq!(rows_bits(a.as_ref()), rows_bits(b.as_ref()), "{what}");
                } else {
                    assert_eq!(a.to_data(), b.to_data(), "{what}: column {}", f.name());
                }
            }
        }
    }

    #[test]
    fn fused_equals_staged_bit_for_bit() {
        let parts = [5000, 1, 700];
        let train = frame(7, &parts, false);
        let clean = frame(8, &parts, false);
        let dirty = frame(9, &parts, true);
        // Every formula here has the fused shape (string and numeric terms only).
        let formulas = [
            "y ~ s1 + i + f",
            "y ~ s1 + s2 + s3 + i + f + b + l",
            "ys ~ s1 + f - 1",
            "ys ~ s2 + s1 + s3 + 0",
            "y ~ s1 + s3 + i",
            "y ~ . - ys",
        ];
        let orders = [
            StringOrderType::FrequencyDesc,
            StringOrderType::FrequencyAsc,
            StringOrderType::AlphabetDesc,
            StringOrderType::AlphabetAsc,
        ];
        let mut fused_runs = 0;
        for formula in formulas {
            for h in [
                HandleInvalid::Error,
                HandleInvalid::Skip,
                HandleInvalid::Keep,
            ] {
                for o in orders {
                    let what = format!("{formula} / {} / {o:?}", h.as_str());
                    let model = RFormula::new()
                        .with_formula(formula)
                        .with_handle_invalid(h)
                        .with_string_indexer_order_type(o)
                        .fit(&train)
                        .unwrap_or_else(|e| panic!("{what}: {e}"));
                    for (name, df) in [("clean", &clean), ("dirty", &dirty)] {
                        let plan = Fused::plan(model.pipeline_model(), df.schema())
                            .unwrap_or_else(|| panic!("{what}: not fused"));
                        let taken = plan.transform(model.pipeline_model(), df).ok().flatten();
                        // Clean rows always go the fused way; dirty ones under keep too.
                        if name == "clean" || h == HandleInvalid::Keep {
                            assert!(taken.is_some(), "{what} {name}: fused path not taken");
                            fused_runs += 1;
                        }
                        assert_same(&format!("{what} {name}"), &model, df);
                    }
                }
            }
        }
        assert_eq!(fused_runs, formulas.len() * 4 * 4);
    }

    /// The fit that applies indexers to the schema only when no later estimator reads
    /// their rows gives the model the stage-by-stage fit gives (labels, category sizes,
    /// outputs), and the same errors, also on training rows with nulls.
    #[test]
    fn lazy_fit_equals_staged_fit() {
        let clean = frame(11, &[900, 300], false);
        let dirty = frame(12, &[900, 300], true);
        for formula in [
            "y ~ s1 + s2 + s3 + i",
            "ys ~ s1 + s2 + f",
            "y ~ s1:s2 + s3",
            "y ~ s2 + f - 1",
        ] {
            for h in [
                HandleInvalid::Error,
                HandleInvalid::Skip,
                HandleInvalid::Keep,
            ] {
                for (name, df) in [("clean", &clean), ("dirty", &dirty)] {
                    let what = format!("{formula} / {} / {name}", h.as_str());
                    let rf = RFormula::new().with_formula(formula).with_handle_invalid(h);
                    let (lazy, staged) = match (rf.fit_with(df, true), rf.fit_with(df, false)) {
                        (Ok(a), Ok(b)) => (a, b),
                        (Err(a), Err(b)) => {
                            assert_eq!(a.to_string(), b.to_string(), "{what}");
                            continue;
                        }
                        (a, b) => panic!("{what}: lazy {:?} vs staged {:?}", a.err(), b.err()),
                    };
                    let kinds = |m: &RFormulaModel| -> Vec<&'static str> {
                        m.pipeline_model()
                            .stages()
                            .iter()
                            .map(|s| s.kind())
                            .collect()
                    };
                    assert_eq!(kinds(&lazy), kinds(&staged), "{what}");
                    let labels = |m: &RFormulaModel| -> Vec<Vec<Vec<String>>> {
                        m.pipeline_model()
                            .stages_of::<StringIndexerModel>()
                            .map(|s| s.labels().to_vec())
                            .collect()
                    };
                    assert_eq!(labels(&lazy), labels(&staged), "{what}: labels");
                    let sizes = |m: &RFormulaModel| -> Vec<Vec<usize>> {
                        m.pipeline_model()
                            .stages_of::<OneHotEncoderModel>()
                            .map(|s| s.category_sizes().to_vec())
                            .collect()
                    };
                    assert_eq!(sizes(&lazy), sizes(&staged), "{what}: category sizes");
                    let (a, b) = (lazy.transform(&clean), staged.transform(&clean));
                    match (a, b) {
                        (Ok(a), Ok(b)) => assert_eq!(a.schema(), b.schema(), "{what}"),
                        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                        (a, b) => panic!("{what}: {:?} vs {:?}", a.err(), b.err()),
                    }
                    assert_same(&what, &lazy, &clean);
                }
            }
        }
    }

    /// The label written into pooled memory is the cast's, nulls included.
    #[test]
    fn label_as_double_is_the_cast() {
        let arrays: [ArrayRef; 3] = [
            Arc::new(Int32Array::from(vec![
                Some(1),
                None,
                Some(-7),
                Some(i32::MAX),
            ])),
            Arc::new(Int64Array::from(vec![Some(i64::MAX), Some(3), None])),
            Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
        ];
        for a in arrays {
            let want = cast(&a, &DataType::Float64).unwrap();
            let got = super::super::label_as_double(&a).unwrap();
            assert_eq!(got.to_data(), want.to_data(), "{:?}", a.data_type());
        }
    }

    #[test]
    fn other_shapes_are_left_to_the_stages() {
        let train = frame(3, &[300], false);
        for formula in ["y ~ s1 + s1:i", "y ~ s1 * s2"] {
            let model = RFormula::new().with_formula(formula).fit(&train).unwrap();
            assert!(Fused::plan(model.pipeline_model(), train.schema()).is_none());
            assert_same(formula, &model, &train);
        }
        // A frame lacking a term column: the stages' error.
        let model = RFormula::new()
            .with_formula("y ~ s1 + i")
            .fit(&train)
            .unwrap();
        let err = model.transform(&train.drop(["s1"]).unwrap()).unwrap_err();
        assert!(err.to_string().contains("`s1`"), "{err}");
    }
}
