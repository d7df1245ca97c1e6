//! [`Interaction`]: the products of one value from each input column, categorical
//! elements one-hot encoded.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/Interaction.scala`.

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`Interaction`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InteractionParams {
    /// Input columns, numeric or vector (at least one).
    pub input_cols: Vec<String>,
    /// Output vector column.
    pub output_col: String,
}

impl Params for InteractionParams {
    const STAGE: &'static str = "Interaction";
    fn validate(&self) -> Result<()> {
        if self.input_cols.is_empty() {
            return Err(Error::param(
                Self::STAGE,
                "inputCols",
                "a non-empty list",
                "[]",
            ));
        }
        if self.output_col.is_empty() {
            return Err(Error::param(
                Self::STAGE,
                "outputCol",
                "a non-empty column name",
                "\"\"",
            ));
        }
        Ok(())
    }
}

/// Every product of one value from each input column (Spark's
/// `org.apache.spark.ml.feature.Interaction`): a numeric column contributes its value, a
/// vector column each of its elements; a nominal input (attribute metadata with its values,
/// as StringIndexer or VectorIndexer write) contributes the one-hot encoding of its
/// category. The first column varies slowest. Output names are Spark's (`a:b`, a vector's
/// elements as `<column>_<name>`, categories as `<name>_<value>`). Each output row is
/// stored as Spark stores it, `.compressed` (sparse when that is smaller), in a
/// sparse-type (`VectorUDT`) column.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{Interaction, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["f0", "f1"]).with_output_col("v").transform(&df)?;
/// let out = Interaction::new().with_input_cols(["tenure", "v"]).with_output_col("x").transform(&df)?;
/// let names = mlpipe::frame::vector::feature_names_or_default(out.schema().field_with_name("x")?);
/// assert_eq!(names, ["tenure:v_f0", "tenure:v_f1"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for no input columns; [`Error::ColumnType`] for a column that is
/// neither numeric nor vector, or a vector without attribute metadata (Spark needs it);
/// [`Error::InvalidValue`] for a null, or a nominal value that is not a category index.
#[derive(Clone, Debug)]
pub struct Interaction {
    uid: String,
    params: InteractionParams,
}

super::columns::stage_basics!(Interaction, InteractionParams, "interaction", |uid| {
    InteractionParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl Interaction {
    /// Input columns.
    pub fn with_input_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.input_cols = super::columns::names(cs);
        self
    }
    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
}

/// A dense input's values back to back and how many a row has (1 for a number).
type DenseInput<'a> = (&'a [f64], usize);

/// One input column of a partition: a vector column read through the one row view (dense
/// or sparse), or a numeric column's values.
enum InputBlock<'b> {
    Vector(vector::VectorBlock<'b>),
    Number(Float64Array),
}

/// One attribute: its kind, name and, for a nominal one, its values.
struct Attr {
    kind: String,
    name: Option<String>,
    vals: Option<Vec<String>>,
    num_vals: Option<usize>,
}

impl Attr {
    fn from_json(kind: &str, a: &Value) -> Attr {
        Attr {
            kind: kind.to_string(),
            name: a.get("name").and_then(Value::as_str).map(String::from),
            vals: a.get("vals").and_then(Value::as_array).map(|v| {
                v.iter()
                    .map(|x| x.as_str().unwrap_or_default().to_string())
                    .collect()
            }),
            num_vals: a
                .get("num_vals")
                .and_then(Value::as_u64)
                .map(|n| n as usize),
        }
    }
    /// Spark's `getNumFeatures`: a nominal attribute's number of values (at least 1), else 1.
    fn width(&self) -> Option<usize> {
        if self.kind == "nominal" {
            self.vals
                .as_ref()
                .map(Vec::len)
                .or(self.num_vals)
                .map(|n| n.max(1))
        } else {
            Some(1)
        }
    }
}

/// One input column's encoding: per element, how many outputs it fills.
struct Encoder {
    col: String,
    is_vector: bool,
    widths: Vec<usize>,
    offsets: Vec<usize>,
    size: usize,
    names: Vec<String>,
}

fn encoder(stage: &'static str, f: &Field) -> Result<Encoder> {
    let meta: Option<Value> = f
        .metadata()
        .get(vector::ML_ATTR)
        .and_then(|s| serde_json::from_str(s).ok());
    let (is_vector, attrs, group): (bool, Vec<Attr>, Option<String>) = if let Some(n) =
        vector::field_vector_size(f)
    {
        let groups = meta
                .as_ref()
                .and_then(|m| m.get("attrs"))
                .and_then(Value::as_object)
                .ok_or_else(|| Error::ColumnType {
                    stage,
                    column: f.name().clone(),
                    expected: "a vector column with attribute metadata (as VectorAssembler writes), which Interaction needs to name its outputs".into(),
                    found: f.data_type().clone(),
                })?;
        let mut attrs: Vec<Option<Attr>> = (0..n).map(|_| None).collect();
        for (kind, list) in groups {
            for a in list.as_array().into_iter().flatten() {
                if let Some(i) = a.get("idx").and_then(Value::as_u64) {
                    if (i as usize) < n {
                        attrs[i as usize] = Some(Attr::from_json(kind, a));
                    }
                }
            }
        }
        let attrs = attrs
            .into_iter()
            .map(|a| {
                a.unwrap_or(Attr {
                    kind: "numeric".into(),
                    name: None,
                    vals: None,
                    num_vals: None,
                })
            })
            .collect();
        (true, attrs, Some(f.name().clone()))
    } else if schema::is_numeric(f.data_type()) || f.data_type() == &DataType::Boolean {
        let a = match &meta {
            Some(m) => Attr::from_json(
                m.get("type").and_then(Value::as_str).unwrap_or("numeric"),
                m,
            ),
            None => Attr {
                kind: "numeric".into(),
                name: None,
                vals: None,
                num_vals: None,
            },
        };
        let a = Attr {
            name: a.name.clone().or_else(|| Some(f.name().clone())),
            ..a
        };
        (false, vec![a], None)
    } else {
        return Err(Error::ColumnType {
            stage,
            column: f.name().clone(),
            expected: "a numeric, boolean or vector column".into(),
            found: f.data_type().clone(),
        });
    };
    let mut widths = Vec::with_capacity(attrs.len());
    let mut names = Vec::new();
    for (i, a) in attrs.iter().enumerate() {
        let w = a.width().ok_or_else(|| Error::ColumnType {
            stage,
            column: f.name().clone(),
            expected: "nominal attributes with their number of values".into(),
            found: f.data_type().clone(),
        })?;
        widths.push(w);
        // Spark's encodedFeatureAttrs names.
        let base: Vec<String> = group
            .iter()
            .cloned()
            .chain([a.name.clone().unwrap_or_else(|| i.to_string())])
            .collect();
        if a.kind == "nominal" {
            let cats: Vec<String> = a
                .vals
                .clone()
                .unwrap_or_else(|| (0..w).map(|j| j.to_string()).collect());
            for c in cats {
                names.push(format!("{}_{c}", base.join("_")));
            }
        } else {
            names.push(base.join("_"));
        }
    }
    let mut offsets = Vec::with_capacity(widths.len());
    let mut size = 0;
    for w in &widths {
        offsets.push(size);
        size += w;
    }
    Ok(Encoder {
        col: f.name().clone(),
        is_vector,
        widths,
        offsets,
        size,
        names,
    })
}

impl Interaction {
    fn encoders(&self, input: &Schema) -> Result<Vec<Encoder>> {
        let stage = InteractionParams::STAGE;
        self.params.validate()?;
        self.params
            .input_cols
            .iter()
            .map(|c| {
                let (_, f) = schema::require_column(input, stage, c)?;
                encoder(stage, f)
            })
            .collect()
    }

    fn output_field(&self, encs: &[Encoder]) -> Field {
        // Names: first column slowest, "head:tail".
        let mut names: Vec<String> = Vec::new();
        for e in encs.iter().rev() {
            names = if names.is_empty() {
                e.names.clone()
            } else {
                e.names
                    .iter()
                    .flat_map(|h| names.iter().map(move |t| format!("{h}:{t}")))
                    .collect()
            };
        }
        let size: usize = encs.iter().map(|e| e.size).product();
        // Spark stores each row `.compressed`: a VectorUDT column.
        let mut f = vector::sparse_vector_field(&self.params.output_col, size, true);
        let attrs: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, n)| json!({"idx": i, "name": n}))
            .collect();
        f.metadata_mut().insert(
            vector::ML_ATTR.to_string(),
            json!({"attrs": {"numeric": attrs}, "num_attrs": size}).to_string(),
        );
        f
    }
}

impl Stage for Interaction {
    fn kind(&self) -> &'static str {
        "Interaction"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let encs = self.encoders(input)?;
        schema::append_field(input, InteractionParams::STAGE, self.output_field(&encs))
    }
}

impl Transformer for Interaction {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = InteractionParams::STAGE;
        let encs = self.encoders(df.schema())?;
        let field = self.output_field(&encs);
        let size = vector::field_vector_size(&field).unwrap_or(0);
        let chunks = df.map_partitions(|pi, b| {
            let casts: Vec<Option<ArrayRef>> = encs
                .iter()
                .map(|e| {
                    let a = schema::batch_column(b, &e.col)?;
                    Ok((!e.is_vector).then(|| cast(a, &DataType::Float64)).transpose()?)
                })
                .collect::<Result<_>>()?;
            let cols: Vec<InputBlock<'_>> = encs
                .iter()
                .zip(&casts)
                .map(|(e, c)| match c {
                    Some(d) => Ok(InputBlock::Number(d.as_primitive::<Float64Type>().clone())),
                    None => {
                        let at = vector::At {
                            stage,
                            column: &e.col,
                            partition: pi,
                        };
                        let a = schema::batch_column(b, &e.col)?;
                        Ok(InputBlock::Vector(vector::VectorBlock::new(
                            a.as_ref(),
                            e.widths.len(),
                            at,
                        )?))
                    }
                })
                .collect::<Result<_>>()?;
            let rows = b.num_rows();
            // Spark builds each row sparse and stores it `.compressed`: each row's entries
            // written into the two-pass parallel builder (row blocks in parallel).
            let at = vector::At {
                stage,
                column: &self.params.output_col,
                partition: pi,
            };
            // Every element numeric (offset k at position k): each row's product is
            // dense, built by plain indexing (the same products in the same order as the
            // general walk below).
            let numeric = encs
                .iter()
                .all(|e| e.widths.iter().enumerate().all(|(k, w)| *w == 1 && e.offsets[k] == k));
            let null_err = |e: &Encoder, r: usize| Error::InvalidValue {
                stage,
                column: e.col.clone(),
                partition: pi,
                row: r,
                what: "null value".into(),
                hint: "values to interact cannot be null; drop or impute them first".into(),
            };
            if numeric {
                if let Some(cols) = dense_inputs(&cols, b, &encs)? {
                    // Every input dense and without nulls: each row's values read in
                    // place (no per-row row view), its products computed once into the
                    // scratch row to count them and once into the column's buffers.
                    if cols[1..].iter().all(|c| c.1 == 1) {
                        // Every column after the first a number: each row is the first
                        // column's values scaled by the others' product.
                        return scaled_chunk(&cols, rows, size, at);
                    }
                    let state = || (Vec::new(), Vec::new(), vec![0.0; size]);
                    return vector::par_compressed_chunk(
                        rows,
                        size,
                        None,
                        at,
                        state,
                        |(acc, nacc, scratch), r| {
                            dense_products(&cols, r, acc, nacc, scratch);
                            Ok(scratch.iter().filter(|v| **v != 0.0).count())
                        },
                        |(acc, nacc, _), r, out| {
                            dense_products(&cols, r, acc, nacc, out);
                            Ok(())
                        },
                    );
                }
                // Row r's products written densely into the zeroed `out`: position
                // k · |acc| + j holds acc[j] · x_k, the last column varying fastest.
                let products = |row: &mut Vec<f64>,
                                acc: &mut Vec<f64>,
                                nacc: &mut Vec<f64>,
                                r: usize,
                                out: &mut [f64]|
                 -> Result<()> {
                    acc.clear();
                    acc.push(1.0);
                    for (c, (e, col)) in encs.iter().zip(&cols).enumerate().rev() {
                        let one;
                        let vals: &[f64] = match col {
                            InputBlock::Vector(v) => match v.row(r) {
                                Some(vector::Row::Dense(x)) => x,
                                Some(x) => {
                                    row.clear();
                                    row.resize(e.widths.len(), 0.0);
                                    x.write_dense(row);
                                    row
                                }
                                None => return Err(null_err(e, r)),
                            },
                            InputBlock::Number(p) if p.is_null(r) => return Err(null_err(e, r)),
                            InputBlock::Number(p) => {
                                one = [p.value(r)];
                                &one
                            }
                        };
                        if c == 0 && acc.len() == 1 {
                            // One product per value (the other columns numbers): a
                            // vectorised scale, the same products.
                            let a = acc[0];
                            for (o, &x) in out.iter_mut().zip(vals) {
                                *o = a * x;
                            }
                        } else if c == 0 && !acc.is_empty() {
                            for (o, &x) in out.chunks_exact_mut(acc.len()).zip(vals) {
                                for (o, &v) in o.iter_mut().zip(acc.iter()) {
                                    *o = v * x;
                                }
                            }
                        } else if c > 0 {
                            nacc.clear();
                            for &x in vals {
                                nacc.extend(acc.iter().map(|&v| v * x));
                            }
                            std::mem::swap(acc, nacc);
                        }
                    }
                    Ok(())
                };
                // Each row placed by its products' non-zero count, then written once
                // straight into the column's buffers (row blocks in parallel).
                let state = || {
                    (
                        Vec::<f64>::new(),
                        Vec::<f64>::new(),
                        Vec::<f64>::new(),
                        vec![0.0; size],
                    )
                };
                return vector::par_compressed_chunk(
                    rows,
                    size,
                    None,
                    at,
                    state,
                    |(row, acc, nacc, scratch), r| {
                        scratch.fill(0.0);
                        products(row, acc, nacc, r, scratch)?;
                        Ok(scratch.iter().filter(|v| **v != 0.0).count())
                    },
                    |(row, acc, nacc, _), r, out| products(row, acc, nacc, r, out),
                );
            }
            let scratch = || {
                (
                    Vec::<(usize, f64)>::new(),
                    Vec::<(usize, f64)>::new(),
                    Vec::new(),
                )
            };
            vector::par_vector_chunk(rows, size, true, at, scratch, |(idx, next, row), r, sink| {
                idx.clear();
                idx.push((0, 1.0));
                let mut prev_size = 1;
                for (e, col) in encs.iter().zip(&cols).rev() {
                    let null = match col {
                        InputBlock::Vector(v) => v.is_null(r),
                        InputBlock::Number(p) => p.is_null(r),
                    };
                    if null {
                        return Err(null_err(e, r));
                    }
                    // The column's values in this row: a dense row read in place.
                    let one;
                    let vals: &[f64] = match col {
                        InputBlock::Vector(v) => match v.row(r) {
                            Some(vector::Row::Dense(x)) => x,
                            x => {
                                row.clear();
                                row.resize(e.widths.len(), 0.0);
                                if let Some(x) = x {
                                    x.write_dense(row);
                                }
                                row
                            }
                        },
                        InputBlock::Number(p) => {
                            one = [p.value(r)];
                            &one
                        }
                    };
                    next.clear();
                    let emit = |i: usize, a: f64, next: &mut Vec<(usize, f64)>| {
                        for &(j, v) in idx.iter() {
                            next.push((j + i * prev_size, v * a));
                        }
                    };
                    for (k, &x) in vals.iter().enumerate() {
                        let w = e.widths[k];
                        if w > 1 {
                            if !(x >= 0.0 && x == x.trunc() && (x as usize) < w) {
                                return Err(Error::InvalidValue {
                                    stage,
                                    column: e.col.clone(),
                                    partition: pi,
                                    row: r,
                                    what: format!("value {x} of a nominal feature with {w} categories"),
                                    hint: "nominal values must be category indices 0..n-1 (as StringIndexer or VectorIndexer output)".into(),
                                });
                            }
                            emit(e.offsets[k] + x as usize, 1.0, next);
                        } else {
                            emit(e.offsets[k], x, next);
                        }
                    }
                    std::mem::swap(idx, next);
                    prev_size *= e.size;
                }
                // The entries come in increasing position (Spark's order).
                let (oi, ov) = sink.sparse();
                for &(i, v) in idx.iter() {
                    oi.push(i as i32);
                    ov.push(v);
                }
                Ok(())
            })
        })?;
        df.with_column(field, chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// The values of a partition's inputs when every one is dense and has no null: per
/// column, its values back to back and how many a row has (1 for a number). `None` when
/// any input is sparse-typed with a sparse row, or has a null (the general walk handles,
/// or reports, those).
fn dense_inputs<'a>(
    cols: &'a [InputBlock<'_>],
    b: &arrow::record_batch::RecordBatch,
    encs: &[Encoder],
) -> Result<Option<Vec<DenseInput<'a>>>> {
    let mut out = Vec::with_capacity(cols.len());
    for (col, e) in cols.iter().zip(encs) {
        if schema::batch_column(b, &e.col)?.null_count() > 0 {
            return Ok(None);
        }
        match col {
            InputBlock::Vector(v) => match v.as_dense() {
                Some(x) => out.push((x, e.widths.len())),
                None => return Ok(None),
            },
            InputBlock::Number(p) if p.null_count() > 0 => return Ok(None),
            InputBlock::Number(p) => out.push((p.values().as_ref(), 1)),
        }
    }
    Ok(Some(out))
}

/// Row `r` of [`dense_inputs`]' columns when every column after the first is a number:
/// the product of those numbers (as [`dense_products`] builds it: `1.0` times the last
/// column's value, times the one before, …) and the first column's values, whose products
/// with it are the row's outputs.
#[inline(always)]
fn scaled_row<'a>(cols: &[DenseInput<'a>], r: usize) -> (f64, &'a [f64]) {
    let a = cols[1..].iter().rev().fold(1.0, |a, (v, _)| a * v[r]);
    let (x, w) = cols[0];
    (a, &x[r * w..(r + 1) * w])
}

/// Dense rows [`scaled_chunk`] writes in one kernel call, at most.
const SCALE_RUN: usize = 256;

/// The chunk of [`dense_inputs`]' products when every column after the first is a number
/// ([`scaled_row`]): each row stored `.compressed`, as Spark stores it.
///
/// A row's layout follows from its products' non-zero count. A product `a · x` of a
/// non-zero scale is very rarely zero (`x` zero, or an underflow), so the rows are first
/// placed from the scales alone — a zero scale as a row without non-zeros, any other as
/// a row of `size` non-zeros — and every row's count is checked as it is written: the
/// first column is then read once. When some row's count does not give the guessed
/// layout (a zero among the values, or `0 · ∞`), the chunk is built again from each row's
/// counted products (`place` reading every value first).
fn scaled_chunk(
    cols: &[DenseInput<'_>],
    rows: usize,
    size: usize,
    at: vector::At<'_>,
) -> Result<ArrayRef> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let set = |kind: &mut i8, c: &mut i32, nnz: usize| {
        if vector::prefers_sparse(nnz, size) {
            *c = nnz as i32;
        } else {
            *kind = vector::PLANNED_DENSE;
        }
    };
    let guessed = |_: &mut (), first: usize, kinds: &mut [i8], counts: &mut [i32], _: &mut [u8]| {
        for (j, (kind, c)) in kinds.iter_mut().zip(counts.iter_mut()).enumerate() {
            let (a, _) = scaled_row(cols, first + j);
            set(kind, c, if a == 0.0 { 0 } else { size });
        }
        Ok(())
    };
    let counted = |_: &mut (), first: usize, kinds: &mut [i8], counts: &mut [i32], _: &mut [u8]| {
        for (j, (kind, c)) in kinds.iter_mut().zip(counts.iter_mut()).enumerate() {
            let (a, x) = scaled_row(cols, first + j);
            set(kind, c, x.iter().map(|v| usize::from(a * v != 0.0)).sum());
        }
        Ok(())
    };
    let misplaced = AtomicBool::new(false);
    let misfit = |r: usize| {
        misplaced.store(true, Ordering::Relaxed);
        Error::Internal(format!(
            "{}: row {r} of column `{}` has another number of non-zeros than counted",
            at.stage, at.column
        ))
    };
    let write = |_: &mut (), first: usize, _: &[u8], out: &mut vector::PlannedBlock<'_>| {
        let (end, mut r) = (first + out.len(), first);
        while r < end {
            // A run of dense rows: their products in one vectorised kernel.
            let (k, o) = out.next_dense_run(SCALE_RUN);
            if k > 0 {
                if size > 0 {
                    let mut scales = [0.0; SCALE_RUN];
                    for (q, s) in scales[..k].iter_mut().enumerate() {
                        *s = scaled_row(cols, r + q).0;
                    }
                    let x = &cols[0].0[r * size..(r + k) * size];
                    if let Some(q) =
                        crate::frame::kernels::scale_dense_rows(x, &scales[..k], size, o)
                    {
                        return Err(misfit(r + q));
                    }
                }
                r += k;
                continue;
            }
            let (a, x) = scaled_row(cols, r);
            let fits = match out.next() {
                vector::PlannedRow::Dense(o) => {
                    let mut nnz = 0;
                    for (o, v) in o.iter_mut().zip(x) {
                        let p = a * v;
                        o.write(p);
                        nnz += usize::from(p != 0.0);
                    }
                    !vector::prefers_sparse(nnz, size)
                }
                vector::PlannedRow::Sparse(oi, ov) => {
                    let (want, mut k) = (oi.len(), 0);
                    for (i, v) in x.iter().enumerate() {
                        let p = a * v;
                        if p != 0.0 {
                            if k < want {
                                oi[k].write(i as i32);
                                ov[k].write(p);
                            }
                            k += 1;
                        }
                    }
                    k == want
                }
                vector::PlannedRow::Null => true,
            };
            if !fits {
                return Err(misfit(r));
            }
            r += 1;
        }
        Ok(())
    };
    // SAFETY (both): `write` writes every value of every row or fails: a dense row's
    // `size` products, a sparse row's non-zero ones (exactly as many as placed, else it
    // fails), in increasing position below `size`.
    let first_try =
        unsafe { vector::par_planned_chunk(rows, size, None, false, at, || (), guessed, write) };
    if first_try.is_ok() || !misplaced.load(Ordering::Relaxed) {
        return first_try;
    }
    unsafe { vector::par_planned_chunk(rows, size, None, false, at, || (), counted, write) }
}

/// Row `r`'s products of [`dense_inputs`]' columns written into `out` (every position):
/// the products of the general walk, in its order (the last column varying fastest, each
/// product built from the last column's value to the first's).
#[inline]
fn dense_products(
    cols: &[DenseInput<'_>],
    r: usize,
    acc: &mut Vec<f64>,
    nacc: &mut Vec<f64>,
    out: &mut [f64],
) {
    acc.clear();
    acc.push(1.0);
    for (c, (vals, w)) in cols.iter().enumerate().rev() {
        let x = &vals[r * w..(r + 1) * w];
        if c > 0 {
            nacc.clear();
            for &x in x {
                nacc.extend(acc.iter().map(|&v| v * x));
            }
            std::mem::swap(acc, nacc);
        } else if acc.len() == 1 {
            let a = acc[0];
            for (o, &x) in out.iter_mut().zip(x) {
                *o = a * x;
            }
        } else {
            for (o, &x) in out.chunks_exact_mut(acc.len()).zip(x) {
                for (o, &v) in o.iter_mut().zip(acc.iter()) {
                    *o = v * x;
                }
            }
        }
    }
}

impl Model for Interaction {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(Interaction, "org.apache.spark.ml.feature.Interaction");

// ---- Row form (crate::row) ----

/// One input of [`Interaction`]'s row form.
#[derive(Debug)]
enum RowInput {
    Num(crate::row::NumIn),
    Vec(crate::row::VecSlot),
}

/// The row form: each input's encoded values (one-hot for nominal elements) and which of
/// them the batch form would emit, then their Kronecker product in the output slot. The
/// products are the batch form's (the same factors, multiplied in the same order), and the
/// entries the batch form never writes stay exactly 0.0.
#[derive(Debug)]
struct InteractionRow {
    cols: Vec<(String, RowInput, Vec<usize>, usize)>,
    /// Per input: its encoded values and its emit mask (1.0 = written).
    scratch: Vec<(crate::row::VecSlot, crate::row::VecSlot)>,
    out: crate::row::VecSlot,
    mask: crate::row::VecSlot,
}

impl crate::row::RowStage for Interaction {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let encs = self.encoders(plan.schema())?;
        let size: usize = encs.iter().map(|e| e.size).product();
        let mut cols = Vec::with_capacity(encs.len());
        let mut scratch = Vec::with_capacity(encs.len());
        for e in encs {
            let input = if e.is_vector {
                RowInput::Vec(plan.vec_input(&e.col)?)
            } else {
                RowInput::Num(plan.num_input(&e.col)?)
            };
            scratch.push((plan.scratch_vec(e.size), plan.scratch_vec(e.size)));
            cols.push((e.col, input, e.widths, e.size));
        }
        let mask = plan.scratch_vec(size);
        let out = plan.add_vec(&self.params.output_col, size);
        Ok(Some(Box::new(InteractionRow {
            cols,
            scratch,
            out,
            mask,
        })))
    }
}

impl crate::row::RowOp for InteractionRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let stage = InteractionParams::STAGE;
        // Encode each input into its scratch values and mask.
        for ((col, input, widths, _), &(vals, mask)) in self.cols.iter().zip(&self.scratch) {
            let mut off = 0;
            for (k, &w) in widths.iter().enumerate() {
                let x = match input {
                    RowInput::Num(n) => match row.num(*n) {
                        Some(x) => x,
                        None => {
                            return Err(row.invalid(
                                stage,
                                col,
                                "null value",
                                "values to interact cannot be null; drop or impute them first",
                            ))
                        }
                    },
                    RowInput::Vec(s) => row.vec(*s)[k],
                };
                if w > 1 {
                    if !(x >= 0.0 && x == x.trunc() && (x as usize) < w) {
                        return Err(row.invalid(
                            stage,
                            col,
                            format!("value {x} of a nominal feature with {w} categories"),
                            "nominal values must be category indices 0..n-1 (as StringIndexer or VectorIndexer output)",
                        ));
                    }
                    for j in 0..w {
                        let on = j == x as usize;
                        row.vec_mut(vals)[off + j] = if on { 1.0 } else { 0.0 };
                        row.vec_mut(mask)[off + j] = if on { 1.0 } else { 0.0 };
                    }
                } else {
                    row.vec_mut(vals)[off] = x;
                    row.vec_mut(mask)[off] = 1.0;
                }
                off += w;
            }
        }
        // Kronecker product, last input first (the first input varies slowest).
        row.vec_mut(self.out)[0] = 1.0;
        row.vec_mut(self.mask)[0] = 1.0;
        let mut cur = 1;
        for ((_, _, _, size), &(vals, mask)) in self.cols.iter().zip(&self.scratch).rev() {
            for j in (0..*size).rev() {
                let (a, m) = (row.vec(vals)[j], row.vec(mask)[j]);
                for t in 0..cur {
                    let v = row.vec(self.out)[t];
                    let mt = row.vec(self.mask)[t];
                    row.vec_mut(self.out)[j * cur + t] = v * a;
                    row.vec_mut(self.mask)[j * cur + t] = mt * m;
                }
            }
            cur *= size;
        }
        for i in 0..cur {
            if row.vec(self.mask)[i] == 0.0 {
                row.vec_mut(self.out)[i] = 0.0;
            }
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::VectorAssembler;
    use arrow::record_batch::RecordBatch;
    use std::sync::Arc;

    #[test]
    fn numeric_products_are_each_rows_kronecker_product_compressed() {
        // 3000 rows (over several of the builder's row blocks) of a 4-element numeric
        // vector x and a number s, zeros and -0.0 among them: by hand, the interaction of
        // [x, s] is s · x_k at position k (the first column slowest), and of [s, x] the
        // same values (x_k · s), each row stored as Vector.compressed stores it: sparse
        // when 12·nnz + 28 < 8·4 + 12, i.e. at most one non-zero.
        let n = 3000;
        let f = |r: usize, k: usize| match (r + k) % 5 {
            0 => 0.0,
            1 => -0.0,
            _ => (r as f64 * 0.37 + k as f64).sin(),
        };
        let mut cols: Vec<(String, ArrayRef)> = (0..4)
            .map(|k| {
                let a: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|r| f(r, k))));
                (format!("x{k}"), a)
            })
            .collect();
        let s = |r: usize| if r % 7 == 0 { 0.0 } else { r as f64 - 1000.5 };
        cols.push((
            "s".into(),
            Arc::new(Float64Array::from_iter_values((0..n).map(s))),
        ));
        let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter(cols).unwrap()]).unwrap();
        let df = VectorAssembler::new()
            .with_input_cols(["x0", "x1", "x2", "x3"])
            .with_output_col("x")
            .transform(&df)
            .unwrap();
        for order in [["x", "s"], ["s", "x"]] {
            let out = Interaction::new()
                .with_input_cols(order)
                .with_output_col("i")
                .transform(&df)
                .unwrap();
            let a = &out.column("i").unwrap().chunks[0];
            let at = vector::At {
                stage: "test",
                column: "i",
                partition: 0,
            };
            let block = vector::VectorBlock::new(a.as_ref(), 4, at).unwrap();
            for r in 0..n {
                let want: Vec<f64> = (0..4).map(|k| f(r, k) * s(r)).collect();
                let nnz = want.iter().filter(|v| **v != 0.0).count();
                let row = block.row(r).unwrap();
                assert_eq!(
                    matches!(row, vector::Row::Sparse { .. }),
                    nnz <= 1,
                    "row {r}"
                );
                let got = row.to_vec();
                for k in 0..4 {
                    // Stored values bit for bit; an unstored entry is a zero of either sign.
                    if want[k] != 0.0 || row.as_dense().is_some() {
                        assert_eq!(
                            got[k].to_bits(),
                            want[k].to_bits(),
                            "row {r} element {k} {order:?}"
                        );
                    } else {
                        assert_eq!(got[k], 0.0);
                    }
                }
            }
        }
    }

    #[test]
    fn scaled_rows_placed_from_the_scales_are_checked_and_rebuilt_when_a_row_differs() {
        // A dense vector column times a number, over two builder blocks: rows of a zero
        // scale are guessed empty, the others dense. Without a zero value the guess holds;
        // two zero values (row 2500) leave one non-zero of three, still dense (the check
        // is on the layout, not the count), while an infinity under a zero scale (row
        // 2600: 0 · ∞ is NaN, a non-zero) makes its row dense where it was guessed empty,
        // and the chunk is rebuilt from counted rows. Each row is checked against its products
        // stored as Spark's `Vector.compressed` stores them (by hand).
        let n = 3000;
        let s = |r: usize| {
            if r % 4 == 0 {
                0.0
            } else {
                r as f64 * 0.5 - 700.0
            }
        };
        for odd in [false, true] {
            let x = |r: usize, k: usize| match (odd, r, k) {
                (true, 2500, 0 | 2) => 0.0,
                (true, 2600, 1) => f64::INFINITY,
                _ => 1.0 + (r * 3 + k) as f64 / 7.0,
            };
            let mut cols: Vec<(String, ArrayRef)> = (0..3)
                .map(|k| {
                    let a: ArrayRef =
                        Arc::new(Float64Array::from_iter_values((0..n).map(|r| x(r, k))));
                    (format!("x{k}"), a)
                })
                .collect();
            cols.push((
                "s".into(),
                Arc::new(Float64Array::from_iter_values((0..n).map(s))),
            ));
            let df =
                DataFrame::from_batches(vec![RecordBatch::try_from_iter(cols).unwrap()]).unwrap();
            let df = VectorAssembler::new()
                .with_input_cols(["x0", "x1", "x2"])
                .with_output_col("x")
                .with_dense_output(true)
                .transform(&df)
                .unwrap();
            let out = Interaction::new()
                .with_input_cols(["x", "s"])
                .with_output_col("i")
                .transform(&df)
                .unwrap();
            let a = &out.column("i").unwrap().chunks[0];
            let at = vector::At {
                stage: "test",
                column: "i",
                partition: 0,
            };
            let block = vector::VectorBlock::new(a.as_ref(), 3, at).unwrap();
            for r in 0..n {
                let want: Vec<f64> = (0..3).map(|k| s(r) * x(r, k)).collect();
                let nnz = want.iter().filter(|v| **v != 0.0).count();
                let row = block.row(r).unwrap();
                assert_eq!(
                    matches!(row, vector::Row::Sparse { .. }),
                    vector::prefers_sparse(nnz, 3),
                    "odd {odd}, row {r}"
                );
                let bits = |v: &[f64]| {
                    v.iter()
                        .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                        .collect::<Vec<_>>()
                };
                assert_eq!(bits(&row.to_vec()), bits(&want), "odd {odd}, row {r}");
            }
        }
    }

    #[test]
    fn dense_input_paths_give_the_general_walks_rows() {
        // The same 3000 rows (zeros of both signs, a NaN, an infinity) as a dense-typed
        // vector column (the dense fast paths: numbers after the first column, or the
        // general product walk over dense slices) and as a sparse-typed one whose first
        // row is stored sparse (the general row-view walk): every interaction of them
        // and two numbers gives the same rows, layouts and bits.
        let n = 3000;
        // Row 0 all zeros: the sparse-typed assembly stores it sparse.
        let x = |r: usize, k: usize| match (r * 3 + k) % 7 {
            _ if r == 0 => 0.0,
            0 => 0.0,
            1 => -0.0,
            _ if r == 5 && k == 2 => f64::NAN,
            _ if r == 9 => f64::INFINITY,
            _ => (r as f64 * 0.37 + k as f64).sin(),
        };
        let s = |r: usize| if r % 5 == 0 { 0.0 } else { r as f64 - 1000.5 };
        let t = |r: usize| {
            if r % 11 == 0 {
                -0.0
            } else {
                1.0 / (r as f64 + 0.25)
            }
        };
        let mut cols: Vec<(String, ArrayRef)> = (0..3)
            .map(|k| {
                let a: ArrayRef = Arc::new(Float64Array::from_iter_values((0..n).map(|r| x(r, k))));
                (format!("x{k}"), a)
            })
            .collect();
        cols.push((
            "s".into(),
            Arc::new(Float64Array::from_iter_values((0..n).map(s))),
        ));
        cols.push((
            "t".into(),
            Arc::new(Float64Array::from_iter_values((0..n).map(t))),
        ));
        let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter(cols).unwrap()]).unwrap();
        let assemble = |dense: bool| {
            VectorAssembler::new()
                .with_input_cols(["x0", "x1", "x2"])
                .with_output_col("x")
                .with_dense_output(dense)
                .with_handle_invalid(crate::param::HandleInvalid::Keep)
                .transform(&df)
                .unwrap()
        };
        let (dense, general) = (assemble(true), assemble(false));
        assert!(vector::is_sparse_vector_type(
            general.schema().field_with_name("x").unwrap().data_type()
        ));
        // Each row's layout and its values' bits (every NaN as one).
        let rows = |df: &DataFrame, size: usize| -> Vec<(bool, Vec<u64>)> {
            let a = &df.column("i").unwrap().chunks[0];
            let at = vector::At {
                stage: "test",
                column: "i",
                partition: 0,
            };
            let block = vector::VectorBlock::new(a.as_ref(), size, at).unwrap();
            (0..block.len())
                .map(|r| {
                    let row = block.row(r).unwrap();
                    let bits = row
                        .to_vec()
                        .iter()
                        .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                        .collect();
                    (matches!(row, vector::Row::Sparse { .. }), bits)
                })
                .collect()
        };
        for (order, size) in [
            (vec!["x", "s"], 3),
            (vec!["x", "s", "t"], 3),
            (vec!["s", "x"], 3),
            (vec!["s", "x", "t"], 3),
            (vec!["t", "s", "x"], 3),
            (vec!["x", "x"], 9),
        ] {
            let inter = Interaction::new()
                .with_input_cols(&order)
                .with_output_col("i");
            let got = rows(&inter.transform(&dense).unwrap(), size);
            let want = rows(&inter.transform(&general).unwrap(), size);
            assert_eq!(got.len(), n);
            assert_eq!(got, want, "{order:?}");
        }
    }
}
