//! [`VectorIndexer`] and [`VectorIndexerModel`]: find the categorical elements of a vector
//! column and index their values, writing the nominal metadata trees read.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/VectorIndexer.scala`.

use std::collections::BTreeMap;

use ahash::AHashSet as HashSet;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Builder, Int32Array, Int32Builder, MapArray,
    MapBuilder, MapFieldNames,
};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::vector_stage::check_in_out;
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{HandleInvalid, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Params of [`VectorIndexer`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VectorIndexerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column; [`VectorIndexer::new`] sets Spark's `<uid>__output`.
    pub output_col: String,
    /// An element with at most this many distinct values is categorical (at least 2).
    /// Default 20.
    pub max_categories: i32,
    /// A value of a categorical element not seen at fit (or NaN): `error` (default),
    /// `skip` the row, or `keep` it as the extra index `number of categories`.
    pub handle_invalid: HandleInvalid,
}

impl Default for VectorIndexerParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            max_categories: 20,
            handle_invalid: HandleInvalid::Error,
        }
    }
}

impl Params for VectorIndexerParams {
    const STAGE: &'static str = "VectorIndexer";
    fn validate(&self) -> Result<()> {
        check_in_out(Self::STAGE, &self.input_col, &self.output_col)?;
        if self.max_categories < 2 {
            return Err(Error::param(
                Self::STAGE,
                "maxCategories",
                ">= 2",
                self.max_categories,
            ));
        }
        Ok(())
    }
}

/// Decides which elements of a vector column are categorical and indexes their values
/// (Spark's `org.apache.spark.ml.feature.VectorIndexer`).
///
/// `fit` collects, in one parallel pass, each element's distinct values up to
/// `maxCategories + 1`; an element with at most `maxCategories` values is categorical, and
/// its values get indices in increasing order, except that 0.0 (when present) always gets
/// index 0. The model replaces categorical values by their indices, leaves the other
/// elements alone, and writes Spark's attribute metadata on the output: a `binary` attribute
/// for a two-valued element (without `keep`), else `nominal` with the values as labels (plus
/// `"__unknown"` with `keep`), `numeric` for the rest, names carried over from the input, so
/// that tree estimators split these elements categorically. NaN counts as one value (Spark's
/// hash set counts every NaN apart), and -0.0 as 0.0.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{VectorAssembler, VectorIndexer};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let model = VectorIndexer::new().with_input_col("v").with_output_col("idx")
///     .with_max_categories(200).fit(&df)?;
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("idx").is_ok());
/// # let _ = model.category_maps();
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (`maxCategories` below 2), [`Error::ColumnNotFound`],
/// [`Error::ColumnType`], [`Error::ColumnExists`], [`Error::EmptyInput`] at fit;
/// [`Error::InvalidValue`] for an unseen value under `handleInvalid = "error"`, naming the
/// element.
#[derive(Clone, Debug)]
pub struct VectorIndexer {
    uid: String,
    params: VectorIndexerParams,
}

super::columns::stage_basics!(VectorIndexer, VectorIndexerParams, "vecIdx", |uid| {
    VectorIndexerParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl VectorIndexer {
    /// Input vector column (required).
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = c.into();
        self
    }
    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// Most distinct values of a categorical element; default 20.
    pub fn with_max_categories(mut self, n: i32) -> Self {
        self.params.max_categories = n;
        self
    }
    /// Policy for unseen values; default `error`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
}

impl Stage for VectorIndexer {
    fn kind(&self) -> &'static str {
        "VectorIndexer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        let stage = VectorIndexerParams::STAGE;
        let (_, f, n) = schema::require_vector(input, stage, &self.params.input_col)?;
        // Each row keeps its layout: a sparse input column gives a sparse output column.
        let out = vector::like_input(
            f,
            super::vector_stage::OutLayout::Keep.field(
                vector::vector_field(&self.params.output_col, n, true),
                f.data_type(),
            ),
        );
        schema::append_field(input, stage, out)
    }
}

/// The bits a value is keyed by: -0.0 as 0.0, every NaN as one NaN.
fn key(x: f64) -> u64 {
    if x == 0.0 {
        0
    } else if x.is_nan() {
        f64::NAN.to_bits()
    } else {
        x.to_bits()
    }
}

/// A categorical element's value -> category index map (a value's position in the
/// model's list of the element's values): a direct table for the whole-number values
/// categories usually are, the sorted keys for any other value.
#[derive(Debug)]
struct CategoryIndex {
    /// `(key(value), index)`, sorted by key.
    sorted: Vec<(u64, f64)>,
    /// `direct[v]` = the index of the value `v` (`-1.0`: not a category), for the whole
    /// numbers `0 ≤ v <` its length; every entry is what `sorted` gives.
    direct: Vec<f64>,
}

/// Whole-number values below this are looked up in [`CategoryIndex`]'s direct table
/// (when the element's largest whole-number category is below it).
const DIRECT_MAX: usize = 4096;

impl CategoryIndex {
    fn new(vals: &[f64]) -> Self {
        let mut sorted: Vec<(u64, f64)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (key(*v), i as f64))
            .collect();
        sorted.sort_by_key(|e| e.0);
        let mut m = CategoryIndex {
            sorted,
            direct: Vec::new(),
        };
        let top = vals
            .iter()
            .filter(|v| **v >= 0.0 && **v == v.trunc() && **v < DIRECT_MAX as f64)
            .map(|v| *v as usize + 1)
            .max()
            .unwrap_or(0);
        m.direct = (0..top)
            .map(|v| m.find_sorted(v as f64).unwrap_or(-1.0))
            .collect();
        m
    }

    /// Categories.
    fn len(&self) -> usize {
        self.sorted.len()
    }

    fn find_sorted(&self, x: f64) -> Option<f64> {
        let m = &self.sorted;
        m.binary_search_by_key(&key(x), |e| e.0)
            .ok()
            .map(|i| m[i].1)
    }

    /// The index of the value `x`; `None` for a value not seen at fit.
    #[inline]
    fn find(&self, x: f64) -> Option<f64> {
        // -0.0 is 0.0's entry, as `key` has it; NaN fails the test.
        if x >= 0.0 && x < self.direct.len() as f64 && x == x.trunc() {
            let v = self.direct[x as usize];
            return (v >= 0.0).then_some(v);
        }
        self.find_sorted(x)
    }
}

impl Estimator for VectorIndexer {
    type Model = VectorIndexerModel;

    fn fit(&self, df: &DataFrame) -> Result<VectorIndexerModel> {
        let stage = VectorIndexerParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (ci, _, n) = schema::require_vector(df.schema(), stage, &p.input_col)?;
        if df.num_rows() == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: "VectorIndexer cannot be fit on an empty dataset".into(),
            });
        }
        let cap = p.max_categories as usize;
        let parts = df.map_partitions(|pi, b| {
            // Dense or sparse input through the one row view (sparse densified per partition).
            let at = vector::At {
                stage,
                column: &p.input_col,
                partition: pi,
            };
            let arr = vector::VectorBlock::new(b.column(ci).as_ref(), n, at)?;
            let vals = arr.to_dense();
            let mut sets: Vec<HashSet<u64>> = vec![HashSet::new(); n];
            for (r, row) in vals.chunks_exact(n.max(1)).enumerate() {
                if arr.is_null(r) {
                    continue;
                }
                for (s, &x) in sets.iter_mut().zip(row) {
                    if s.len() <= cap {
                        s.insert(key(x));
                    }
                }
            }
            Ok(sets)
        })?;
        let mut sets: Vec<HashSet<u64>> = vec![HashSet::new(); n];
        for part in parts {
            for (s, o) in sets.iter_mut().zip(part) {
                for x in o {
                    if s.len() <= cap {
                        s.insert(x);
                    }
                }
            }
        }
        let mut maps = BTreeMap::new();
        for (j, s) in sets.into_iter().enumerate() {
            if s.len() > cap {
                continue;
            }
            let has_zero = s.contains(&0);
            let mut vals: Vec<f64> = s
                .into_iter()
                .filter(|k| *k != 0)
                .map(f64::from_bits)
                .collect();
            vals.sort_by(f64::total_cmp);
            if has_zero {
                vals.insert(0, 0.0);
            }
            maps.insert(j, vals);
        }
        Ok(VectorIndexerModel::new(
            self.uid.clone(),
            p.clone(),
            n,
            maps,
        ))
    }
}

/// A fitted [`VectorIndexer`]: the number of elements and, for each categorical element,
/// its values in index order.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorIndexerModel {
    uid: String,
    params: VectorIndexerParams,
    num_features: usize,
    category_maps: BTreeMap<usize, Vec<f64>>,
}

impl VectorIndexerModel {
    /// A model from its fitted values: `category_maps[j]` lists element `j`'s values, the
    /// value at position `i` getting index `i`.
    pub fn new(
        uid: impl Into<String>,
        params: VectorIndexerParams,
        num_features: usize,
        category_maps: BTreeMap<usize, Vec<f64>>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            num_features,
            category_maps,
        }
    }
    /// The params.
    pub fn params(&self) -> &VectorIndexerParams {
        &self.params
    }
    /// Length of the vectors it indexes.
    pub fn num_features(&self) -> usize {
        self.num_features
    }
    /// The categorical elements and their values in index order (Spark's `categoryMaps`,
    /// value -> index, read as position -> value).
    pub fn category_maps(&self) -> &BTreeMap<usize, Vec<f64>> {
        &self.category_maps
    }

    /// Spark's output attribute group (`prepOutputField`).
    fn output_field(&self, input: &Field) -> Field {
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        // The input's own attributes by index (kind, JSON), when it has any.
        let mut orig: BTreeMap<usize, (String, Value)> = BTreeMap::new();
        if let Some(v) = input
            .metadata()
            .get(vector::ML_ATTR)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        {
            if let Some(groups) = v.get("attrs").and_then(Value::as_object) {
                for (kind, attrs) in groups {
                    for a in attrs.as_array().into_iter().flatten() {
                        if let Some(i) = a.get("idx").and_then(Value::as_u64) {
                            orig.insert(i as usize, (kind.clone(), a.clone()));
                        }
                    }
                }
            }
        }
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for j in 0..self.num_features {
            let name = orig.get(&j).and_then(|(_, a)| a.get("name").cloned());
            let (kind, mut attr) = match self.category_maps.get(&j) {
                Some(vals) => {
                    let mut sorted = vals.clone();
                    sorted.sort_by(f64::total_cmp);
                    let mut labels: Vec<String> = sorted
                        .iter()
                        .map(|v| super::java_double_string(*v))
                        .collect();
                    if keep {
                        labels.push("__unknown".into());
                    }
                    if labels.len() == 2 && !keep {
                        ("binary".to_string(), json!({"idx": j, "vals": labels}))
                    } else {
                        (
                            "nominal".to_string(),
                            json!({"idx": j, "vals": labels, "ord": false}),
                        )
                    }
                }
                None => match orig.get(&j) {
                    Some((kind, a)) => (kind.clone(), a.clone()),
                    None => ("numeric".to_string(), json!({"idx": j})),
                },
            };
            if let (Some(n), Some(o)) = (name, attr.as_object_mut()) {
                o.insert("name".into(), n);
            }
            groups.entry(kind).or_default().push(attr);
        }
        let mut field = vector::vector_field(&self.params.output_col, self.num_features, true);
        field.metadata_mut().insert(
            vector::ML_ATTR.to_string(),
            json!({"attrs": groups, "num_attrs": self.num_features}).to_string(),
        );
        // Each row keeps its layout: a sparse input column gives a sparse output column.
        super::vector_stage::OutLayout::Keep.field(field, input.data_type())
    }
}

impl Stage for VectorIndexerModel {
    fn kind(&self) -> &'static str {
        "VectorIndexerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = "VectorIndexerModel";
        self.params.validate()?;
        if let Some(j) = self.category_maps.keys().find(|j| **j >= self.num_features) {
            return Err(Error::param(
                stage,
                "categoryMaps",
                format!("element indices below numFeatures ({})", self.num_features),
                j,
            ));
        }
        let (_, field, n) = schema::require_vector(input, stage, &self.params.input_col)?;
        schema::check_vector_size(stage, &self.params.input_col, field, n, self.num_features)?;
        schema::append_field(input, stage, self.output_field(field))
    }
}

impl Transformer for VectorIndexerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "VectorIndexerModel";
        let out_schema = Arc::new(self.transform_schema(df.schema())?);
        let (ci, _, n) = schema::require_vector(df.schema(), stage, &self.params.input_col)?;
        let h = self.params.handle_invalid;
        // Per categorical element: (element, its value -> index lookup).
        let lookup: Vec<(usize, CategoryIndex)> = self
            .category_maps
            .iter()
            .map(|(j, vals)| (*j, CategoryIndex::new(vals)))
            .collect();
        let col = &self.params.input_col;
        // Each row keeps its layout (Spark's DenseVector / SparseVector branches).
        let sparse_out = vector::is_sparse_vector_type(df.schema().field(ci).data_type());
        let parts = df.map_partitions(|pi, b| {
            let at = vector::At {
                stage,
                column: col,
                partition: pi,
            };
            let arr = vector::VectorBlock::new(b.column(ci).as_ref(), n, at)?;
            let rows = b.num_rows();
            // The categorical elements a row stores, with their values: every one of a
            // dense row; a sparse row's stored ones (an unstored 0 is category 0, index 0).
            let stored = |row: vector::Row<'_>, j: usize| -> Option<f64> {
                match row {
                    vector::Row::Sparse {
                        indices, values, ..
                    } => indices.binary_search(&(j as i32)).ok().map(|k| values[k]),
                    row => row.get(j),
                }
            };
            let unseen = |r: usize, j: usize, x: f64| Error::InvalidValue {
                stage,
                column: col.clone(),
                partition: pi,
                row: r,
                what: format!(
                    "value {} of categorical element {j}, not seen at fit",
                    super::java_double_string(x)
                ),
                hint: "set handleInvalid to \"keep\" to index it as an extra category or \"skip\" to drop the row".into(),
            };
            // The rows handleInvalid keeps, in one parallel pass in row blocks: "skip"
            // drops a row with an unseen value (and null rows); "error" fails on the first
            // unseen value in row order. It runs first for "skip"; "error" checks in the
            // map itself (a sparse-type column fails there, at the same value; a dense one
            // runs this pass only when the map saw an unseen value, to name the first).
            let scan = || -> Result<Vec<bool>> {
                    let blocks = (0..rows)
                        .into_par_iter()
                        .step_by(4096)
                        .map(|first| {
                            (first..(first + 4096).min(rows))
                                .map(|r| {
                                    let Some(row) = arr.row(r) else {
                                        return Ok(h != HandleInvalid::Skip);
                                    };
                                    for (j, m) in &lookup {
                                        let Some(x) = stored(row, *j) else { continue };
                                        if m.find(x).is_some() {
                                            continue;
                                        }
                                        if h == HandleInvalid::Skip {
                                            return Ok(false);
                                        }
                                        return Err(unseen(r, *j, x));
                                    }
                                    Ok(true)
                                })
                                .collect::<Result<Vec<bool>>>()
                        })
                        .collect::<Vec<_>>();
                    Ok(crate::frame::in_order(blocks)?.into_iter().flatten().collect())
            };
            let keep: Option<Vec<bool>> = match h {
                HandleInvalid::Skip => Some(scan()?),
                HandleInvalid::Keep | HandleInvalid::Error => None,
            };
            // A value's index; an unseen one is the extra category with "keep", kept
            // unchanged in a row "skip" drops, an error with "error" (where the first
            // pass has not already failed).
            let index = |r: usize, j: usize, m: &CategoryIndex, x: f64| -> Result<f64> {
                match m.find(x) {
                    Some(v) => Ok(v),
                    None => match h {
                        HandleInvalid::Keep => Ok(m.len() as f64),
                        HandleInvalid::Skip => Ok(x),
                        HandleInvalid::Error => Err(unseen(r, j, x)),
                    },
                }
            };
            // A sparse-typed column whose rows are all dense and valid: its rows stay dense,
            // written by the dense path below into a sparse-typed chunk of dense rows.
            let all_dense_rows = arr.as_dense().is_some() && b.column(ci).null_count() == 0;
            let out: ArrayRef = if sparse_out && !all_dense_rows {
                // Spark's sparse branch: a copy of the row whose stored values at
                // categorical elements are indexed; dense rows stay dense. Each row written
                // once, in parallel, where the input's row sits.
                let at = vector::At {
                    stage,
                    column: &self.params.output_col,
                    partition: pi,
                };
                // Each row's layout and entry count read from the input's structure.
                let place = |_: &mut (), first: usize, kinds: &mut [i8], counts: &mut [i32], _: &mut [u8]| {
                    for (j, (kind, c)) in kinds.iter_mut().zip(counts.iter_mut()).enumerate() {
                        match arr.row(first + j) {
                            Some(vector::Row::Dense(_)) => *kind = vector::PLANNED_DENSE,
                            Some(vector::Row::Sparse { indices, .. }) => *c = indices.len() as i32,
                            None => {}
                        }
                    }
                    Ok(())
                };
                let write = |_: &mut (), first: usize, _: &[u8], out: &mut vector::PlannedBlock<'_>| {
                    for r in first..first + out.len() {
                        match (out.next(), arr.row(r)) {
                            (vector::PlannedRow::Dense(o), Some(vector::Row::Dense(x))) => {
                                for (o, v) in o.iter_mut().zip(x) {
                                    o.write(*v);
                                }
                                for (j, m) in &lookup {
                                    o[*j].write(index(r, *j, m, x[*j])?);
                                }
                            }
                            (
                                vector::PlannedRow::Sparse(oi, ov),
                                Some(vector::Row::Sparse {
                                    indices, values, ..
                                }),
                            ) => {
                                for (o, i) in oi.iter_mut().zip(indices) {
                                    o.write(*i);
                                }
                                for (o, v) in ov.iter_mut().zip(values) {
                                    o.write(*v);
                                }
                                for (j, m) in &lookup {
                                    if let Ok(k) = indices.binary_search(&(*j as i32)) {
                                        ov[k].write(index(r, *j, m, values[k])?);
                                    }
                                }
                            }
                            (vector::PlannedRow::Null, None) => {}
                            _ => {
                                return Err(Error::Internal(format!(
                                    "{stage}: row {r} of `{col}` changed layout between passes"
                                )))
                            }
                        }
                    }
                    Ok(())
                };
                // SAFETY: `write` writes every value of every row: a dense row's `n`
                // values, a sparse row's indices and values (as many as the input row's,
                // as `place` counted; the input's indices, increasing below `n`).
                unsafe {
                    vector::par_planned_chunk(rows, n, b.column(ci).nulls(), false, at, || (), place, write)?
                }
            } else {
                let nn = n.max(1);
                let dense = arr.as_dense();
                let unseen_error = std::sync::atomic::AtomicBool::new(false);
                // SAFETY: every value of each block is written (a null row's too).
                // An unseen value's output: the extra category with "keep"; kept unchanged
                // otherwise ("skip" dropped the row in the first pass; "error" fails below).
                let unseen_value = |m: &CategoryIndex, x: f64| {
                    if h == HandleInvalid::Keep {
                        m.len() as f64
                    } else {
                        if h == HandleInvalid::Error {
                            unseen_error.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        x
                    }
                };
                // SAFETY: every value of each block is written (a null row's too).
                let vals = unsafe {
                    crate::frame::buffer::par_build_buffer(rows, n, |first, dst| {
                        if let Some(x) = dense {
                            // Every row dense: the block copied in bulk, then each row's
                            // categorical elements indexed in place.
                            let src = &x[first * n..first * n + dst.len()];
                            for (o, v) in dst.iter_mut().zip(src) {
                                o.write(*v);
                            }
                            // SAFETY: just initialised; MaybeUninit<f64> has f64's layout.
                            let dst = &mut *(dst as *mut [std::mem::MaybeUninit<f64>] as *mut [f64]);
                            for (k, o) in dst.chunks_exact_mut(nn).enumerate() {
                                if arr.is_null(first + k) {
                                    continue;
                                }
                                for (j, m) in &lookup {
                                    let x = o[*j];
                                    o[*j] = m.find(x).unwrap_or_else(|| unseen_value(m, x));
                                }
                            }
                            return;
                        }
                        let mut buf = vec![0.0; n];
                        for (k, o) in dst.chunks_exact_mut(nn).enumerate() {
                            let r = first + k;
                            let row = arr.row(r);
                            // A null row keeps what `to_dense` gives it.
                            match row {
                                Some(row) => row.write_dense(&mut buf),
                                None => buf.fill(0.0),
                            }
                            for (o, v) in o.iter_mut().zip(&buf) {
                                o.write(*v);
                            }
                            if row.is_none() {
                                continue;
                            }
                            for (j, m) in &lookup {
                                let x = buf[*j];
                                o[*j].write(m.find(x).unwrap_or_else(|| unseen_value(m, x)));
                            }
                        }
                    })
                };
                if unseen_error.into_inner() {
                    scan()?;
                    return Err(Error::Internal(format!(
                        "{stage}: an unseen value the check did not find"
                    )));
                }
                if sparse_out {
                    vector::dense_rows_array_buf(vals, n, None)?
                } else {
                    Arc::new(vector::vector_array_buf(
                        vals,
                        n,
                        b.column(ci).nulls().cloned(),
                    )?)
                }
            };
            let mut cols = b.columns().to_vec();
            cols.push(out);
            let batch = crate::frame::new_batch(out_schema.clone(), cols, b.num_rows())?;
            Ok(match keep {
                Some(keep) if !keep.iter().all(|k| *k) => {
                    filter_record_batch(&batch, &BooleanArray::from(keep))?
                }
                _ => batch,
            })
        })?;
        DataFrame::try_new(out_schema.clone(), parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for VectorIndexerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(VectorIndexer, "org.apache.spark.ml.feature.VectorIndexer");

/// Spark's names for a map's entries, keys and values in Parquet.
fn map_names() -> MapFieldNames {
    MapFieldNames {
        entry: "key_value".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

impl crate::persist::SparkPersist for VectorIndexerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.VectorIndexerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        // categoryMaps: Map[Int, Map[Double, Int]]
        let inner = MapBuilder::new(
            Some(map_names()),
            Float64Builder::new(),
            Int32Builder::new(),
        )
        .with_values_field(Field::new("value", DataType::Int32, false));
        let mut outer = MapBuilder::new(Some(map_names()), Int32Builder::new(), inner);
        for (j, vals) in &self.category_maps {
            outer.keys().append_value(*j as i32);
            let m = outer.values();
            for (i, v) in vals.iter().enumerate() {
                m.keys().append_value(*v);
                m.values().append_value(i as i32);
            }
            m.append(true)?;
        }
        outer.append(true)?;
        let maps = outer.finish();
        let batch = format::one_row(vec![
            (
                Field::new("numFeatures", DataType::Int32, false),
                Arc::new(Int32Array::from(vec![self.num_features as i32])) as ArrayRef,
            ),
            (
                Field::new("categoryMaps", maps.data_type().clone(), true),
                Arc::new(maps) as ArrayRef,
            ),
        ])?;
        let inner_t = json!({"type": "map", "keyType": "double", "valueType": "integer", "valueContainsNull": false});
        let outer_t = json!({"type": "map", "keyType": "integer", "valueType": inner_t, "valueContainsNull": true});
        let schema = format::spark_schema(&[
            ("numFeatures", json!("integer"), false),
            ("categoryMaps", outer_t, true),
        ]);
        format::write_data(dir, &batch, schema)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let num_features = format::i64_value(&d, "numFeatures", dir)? as usize;
        let bad = |what: &str| Error::file(dir.join("data"), format!("categoryMaps: {what}"));
        let maps: &MapArray = format::column(&d, "categoryMaps", dir)?
            .as_map_opt()
            .ok_or_else(|| bad("not a map column"))?;
        let entries = maps.value(0);
        let keys = arrow::compute::cast(entries.column(0), &DataType::Int32)?;
        let keys = keys.as_primitive::<Int32Type>();
        let inner = entries
            .column(1)
            .as_map_opt()
            .ok_or_else(|| bad("values are not maps"))?;
        let mut category_maps = BTreeMap::new();
        for (e, j) in keys.values().iter().enumerate() {
            let m = inner.value(e);
            let vals = arrow::compute::cast(m.column(0), &DataType::Float64)?;
            let idx = arrow::compute::cast(m.column(1), &DataType::Int32)?;
            let mut pairs: Vec<(i32, f64)> = idx
                .as_primitive::<Int32Type>()
                .values()
                .iter()
                .copied()
                .zip(vals.as_primitive::<Float64Type>().values().iter().copied())
                .collect();
            pairs.sort_by_key(|p| p.0);
            if pairs.iter().enumerate().any(|(i, p)| p.0 != i as i32) {
                return Err(bad(&format!(
                    "element {j}: category indices are not 0..{}",
                    pairs.len()
                )));
            }
            category_maps.insert(*j as usize, pairs.into_iter().map(|p| p.1).collect());
        }
        Ok(Self::new(
            md.uid.clone(),
            md.params_as(dir)?,
            num_features,
            category_maps,
        ))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for VectorIndexerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, input.len());
        // As the batch form: per categorical element, its value -> index lookup.
        let lookup = self
            .category_maps
            .iter()
            .map(|(j, vals)| (*j, CategoryIndex::new(vals)))
            .collect();
        Ok(Some(Box::new(VectorIndexerRow {
            input,
            out,
            lookup,
            handle: self.params.handle_invalid,
            column: self.params.input_col.clone(),
        })))
    }
}

#[derive(Debug)]
struct VectorIndexerRow {
    input: crate::row::VecSlot,
    out: crate::row::VecSlot,
    lookup: Vec<(usize, CategoryIndex)>,
    handle: HandleInvalid,
    column: String,
}

impl crate::row::RowOp for VectorIndexerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (x, out) = row.vec_pair(self.input, self.out);
        out.copy_from_slice(x);
        let mut bad = None;
        for (j, m) in &self.lookup {
            let v = out[*j];
            match m.find(v) {
                Some(i) => out[*j] = i,
                None => match self.handle {
                    HandleInvalid::Keep => out[*j] = m.len() as f64,
                    HandleInvalid::Skip => return Ok(crate::row::Flow::Drop),
                    HandleInvalid::Error => {
                        bad = Some((*j, v));
                        break;
                    }
                },
            }
        }
        match bad {
            None => Ok(crate::row::Flow::Next),
            Some((j, v)) => Err(row.invalid(
                "VectorIndexerModel",
                &self.column,
                format!(
                    "value {} of categorical element {j}, not seen at fit",
                    super::java_double_string(v)
                ),
                "set handleInvalid to \"keep\" to index it as an extra category or \"skip\" to drop the row",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::record_batch::RecordBatch;

    /// 5000 rows over several of the map's parallel row blocks: element 0 takes 0 or 1,
    /// except 7.0 (unseen at fit) at rows 3000 and 4500; element 1 is numeric.
    fn frame(sparse_type: bool) -> DataFrame {
        let vals: Vec<f64> = (0..5000)
            .flat_map(|r| {
                let c = if r == 3000 || r == 4500 {
                    7.0
                } else {
                    (r % 2) as f64
                };
                [c, r as f64 * 0.5]
            })
            .collect();
        let arr: ArrayRef = if sparse_type {
            vector::dense_rows_array(vals, 2, None).unwrap()
        } else {
            Arc::new(vector::vector_array(vals, 2, None).unwrap())
        };
        let b = RecordBatch::try_from_iter([("v", arr)]).unwrap();
        let df = DataFrame::from_batches(vec![b]).unwrap();
        if sparse_type {
            df.with_vector_size("v").unwrap()
        } else {
            df
        }
    }

    /// Every row of the vector column `c` (of 2 values), in order.
    fn rows_of(df: &DataFrame, c: &str) -> Vec<Vec<f64>> {
        let col = df.column(c).unwrap();
        let mut out = Vec::new();
        for (p, a) in col.chunks.iter().enumerate() {
            let at = vector::At {
                stage: "test",
                column: c,
                partition: p,
            };
            let b = vector::VectorBlock::new(a.as_ref(), 2, at).unwrap();
            out.extend((0..b.len()).map(|r| b.row(r).unwrap().to_vec()));
        }
        out
    }

    #[test]
    fn handle_invalid_across_row_blocks_in_both_layouts() {
        for sparse_type in [false, true] {
            let df = frame(sparse_type);
            let fit = |h| {
                VectorIndexer::new()
                    .with_input_col("v")
                    .with_output_col("i")
                    .with_max_categories(2)
                    .with_handle_invalid(h)
                    .fit(&df.limit(10).unwrap())
                    .unwrap()
            };
            let model = fit(HandleInvalid::Error);
            // "error": the first unseen value in row order, whatever the thread count.
            let e = model.transform(&df).unwrap_err().to_string();
            assert_eq!(
                e,
                "VectorIndexerModel: value 7.0 of categorical element 0, not seen at fit in column `v` (partition 0, row 3000); set handleInvalid to \"keep\" to index it as an extra category or \"skip\" to drop the row",
                "sparse type {sparse_type}"
            );
            // "keep": the extra category, index 2; others indexed (0 -> 0, 1 -> 1).
            let kept = fit(HandleInvalid::Keep).transform(&df).unwrap();
            let rows = rows_of(&kept, "i");
            assert_eq!(rows.len(), 5000);
            assert_eq!(rows[3000], vec![2.0, 1500.0]);
            assert_eq!(rows[4500], vec![2.0, 2250.0]);
            assert_eq!(rows[7], vec![1.0, 3.5]);
            // "skip": exactly those two rows go.
            let skipped = fit(HandleInvalid::Skip).transform(&df).unwrap();
            let rows = rows_of(&skipped, "i");
            assert_eq!(rows.len(), 4998);
            assert_eq!(rows[3000], vec![1.0, 1500.5]);
        }
    }

    #[test]
    fn category_index_direct_table_gives_what_the_sorted_keys_give() {
        // Whole numbers (the direct table, up to 7 here), a fraction, a negative, NaN and
        // a whole number past the table's limit; probes on and off the categories,
        // both zeros, and values the table must not take (fractions, NaN, infinities).
        let vals = [3.0, 0.0, 1.0, 2.5, -1.0, 7.0, f64::NAN, 5000.0];
        let m = CategoryIndex::new(&vals);
        assert_eq!(m.direct.len(), 8);
        assert_eq!(m.len(), 8);
        let probes = [
            -0.0,
            0.0,
            1.0,
            2.0,
            3.0,
            2.5,
            -1.0,
            7.0,
            8.0,
            6.0,
            4095.0,
            5000.0,
            1e300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.5,
            7.000000000000001,
        ];
        for x in probes {
            assert_eq!(m.find(x), m.find_sorted(x), "value {x}");
        }
        // Each category's index is its position in the model's list.
        assert_eq!(m.find(-0.0), Some(1.0));
        assert_eq!(m.find(7.0), Some(5.0));
        assert_eq!(m.find(f64::NAN), Some(6.0));
        assert_eq!(m.find(5000.0), Some(7.0));
        assert_eq!(m.find(6.0), None);
    }
}
