//! [`VectorAssembler`]: concatenate columns into one vector column.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::frame::{buffer, schema, vector, DataFrame};
use crate::param::{check_non_empty, HandleInvalid, Params};
use crate::pipeline::{stage_params, Stage, Transformer};

/// Params of [`VectorAssembler`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VectorAssemblerParams {
    /// Columns to assemble, in order. Required, non-empty.
    pub input_cols: Vec<String>,
    /// Output column. Spark's default is `<uid>__output`, set by [`VectorAssembler::new`].
    pub output_col: String,
    /// What to do with nulls and NaNs: `error` (default), `skip` or `keep`.
    pub handle_invalid: HandleInvalid,
    /// mlpipe's option, not Spark's: write a plain dense vector column
    /// (`FixedSizeList<Float64>`) instead of Spark's per-row compressed layout. Default
    /// false. Saved (as `denseOutput`) only when true, so a stage left at the default stays
    /// loadable by Spark.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dense_output: bool,
}

impl Params for VectorAssemblerParams {
    const STAGE: &'static str = "VectorAssembler";
    fn validate(&self) -> Result<()> {
        check_non_empty(Self::STAGE, "inputCols", &self.input_cols)?;
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

/// Concatenate numeric, boolean and vector columns into one vector column.
///
/// [`VectorAssembler`] is a [`Transformer`] with the semantics of Spark's `org.apache.spark.ml.feature.VectorAssembler`: inputs
/// are read left to right, numbers and booleans are cast to `f64` (true → 1.0), vectors
/// are copied whole, and the output's field metadata records the feature names (`col` for
/// a scalar, `col_<name>` or `col_<i>` for a vector element).
///
/// The output layout is Spark's: a vector column (Spark's `VectorUDT` struct) in which
/// each row is stored as Spark stores it, whatever the inputs: its non-zeros as
/// `Vectors.sparse(n, …).compressed`, sparse when that takes fewer bytes than dense (Spark
/// 4's rule, [`prefers_sparse`](crate::frame::vector::prefers_sparse)), else dense. When
/// every row is dense (the usual case for numeric features), the rows' values lie back to
/// back in one buffer and every reader of the column takes its dense path
/// ([`VectorBlock::as_dense`](crate::frame::vector::VectorBlock::as_dense)).
/// [`with_dense_output(true)`](VectorAssembler::with_dense_output) writes a plain dense
/// `FixedSizeList<Float64, n>` column instead (the same values).
///
/// `handleInvalid` decides what happens to a null (any input) or a NaN (scalar inputs; as
/// in Spark, NaN inside a vector is never checked): `error` fails naming the partition and
/// row, `skip` drops the row, `keep` writes NaN (a null vector becomes `n` NaNs).
///
/// # Example
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let assembler = VectorAssembler::new()
///     .with_input_cols(&["tenure", "monthly_charges", "total_charges"])
///     .with_output_col("features")
///     .with_handle_invalid(HandleInvalid::Skip);
/// let out = assembler.transform(&df)?;
/// assert_eq!(mlpipe::frame::vector::feature_names_or_default(
///     out.schema().field_with_name("features").unwrap()),
///     vec!["tenure", "monthly_charges", "total_charges"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`], [`Error::ColumnType`] (not numeric, boolean or vector),
/// [`Error::ColumnExists`], [`Error::InvalidParam`] (no input columns), and
/// [`Error::InvalidValue`] for a null or NaN under `handleInvalid = error`.
#[derive(Clone, Debug)]
pub struct VectorAssembler {
    uid: String,
    params: VectorAssemblerParams,
}

/// The input columns' indices and kinds, and the output's feature names.
/// One output element's ML attribute: its kind (`numeric`, `nominal` or `binary`) and its
/// JSON fields (`name`, `vals`, ...; `idx` is set when the group is written).
type Attr = (String, Map<String, Value>);

/// The input columns with their kinds, and the output elements' attributes.
type Plan = (Vec<(usize, Input)>, Vec<Attr>);

/// The attribute of a numeric column (Spark's `Attribute.fromStructField`): the nominal,
/// binary or numeric attribute in its metadata, else a plain numeric one.
fn scalar_attr(f: &arrow::datatypes::Field) -> Attr {
    let parsed = f
        .metadata()
        .get(vector::ML_ATTR)
        .and_then(|raw| serde_json::from_str::<Value>(raw).ok());
    match parsed {
        Some(Value::Object(mut m)) => {
            let kind = match m.remove("type") {
                Some(Value::String(t)) => t,
                _ => "numeric".to_string(),
            };
            m.remove("idx");
            (kind, m)
        }
        _ => ("numeric".to_string(), Map::new()),
    }
}

/// The per-element attributes of a vector column's attribute group (`None` for elements the
/// group does not describe).
fn vector_attrs(f: &arrow::datatypes::Field, n: usize) -> Vec<Option<Attr>> {
    let mut out = vec![None; n];
    let parsed = f
        .metadata()
        .get(vector::ML_ATTR)
        .and_then(|raw| serde_json::from_str::<Value>(raw).ok());
    let Some(groups) = parsed
        .as_ref()
        .and_then(|v| v.get("attrs"))
        .and_then(Value::as_object)
    else {
        return out;
    };
    for (kind, attrs) in groups {
        for a in attrs.as_array().into_iter().flatten() {
            let (Some(i), Some(m)) = (a.get("idx").and_then(Value::as_u64), a.as_object()) else {
                continue;
            };
            if (i as usize) < n {
                let mut m = m.clone();
                m.remove("idx");
                out[i as usize] = Some((kind.clone(), m));
            }
        }
    }
    out
}

/// The output field with Spark's attribute group: every element's attribute under its
/// kind, with its index, as Spark's `VectorAssembler` writes it (so the nominal features a
/// `StringIndexer` made stay categorical for the trees).
fn output_field(name: &str, attrs: &[Attr], sparse: bool) -> arrow::datatypes::Field {
    let mut groups: Map<String, Value> = Map::new();
    for (i, (kind, m)) in attrs.iter().enumerate() {
        let mut m = m.clone();
        m.insert("idx".into(), json!(i));
        if let Value::Array(list) = groups
            .entry(kind.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            list.push(Value::Object(m));
        }
    }
    let mut field = if sparse {
        vector::sparse_vector_field(name, attrs.len(), false)
    } else {
        vector::vector_field(name, attrs.len(), false)
    };
    field.metadata_mut().insert(
        vector::ML_ATTR.to_string(),
        json!({"attrs": groups, "num_attrs": attrs.len()}).to_string(),
    );
    field
}

/// How one input column feeds the output.
#[derive(Clone, Copy, Debug)]
enum Input {
    Scalar,
    Vector(usize),
    Sparse(usize),
}

/// Whether any input is a sparse vector column (assembled row by row).
fn sparse_input(cols: &[(usize, Input)]) -> bool {
    cols.iter().any(|(_, k)| matches!(k, Input::Sparse(_)))
}

super::columns::stage_basics!(
    VectorAssembler,
    VectorAssemblerParams,
    "vecAssembler",
    |uid| VectorAssemblerParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
);

impl VectorAssembler {
    /// Columns to assemble, in order (Spark `inputCols`; required): any list of names,
    /// such as `&["a", "b"]`, a `Vec<String>` or an iterator of `String`s.
    ///
    /// ```
    /// use mlpipe::feature::VectorAssembler;
    /// let onehot: Vec<String> = ["gender", "contract"].iter().map(|c| format!("{c}_vec")).collect();
    /// let va = VectorAssembler::new()
    ///     .with_input_cols(onehot.iter().map(String::as_str).chain(["tenure"]));
    /// assert_eq!(va.params().input_cols, ["gender_vec", "contract_vec", "tenure"]);
    /// ```
    pub fn with_input_cols(mut self, cols: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.input_cols = super::columns::names(cols);
        self
    }

    /// Output column (Spark `outputCol`; default `<uid>__output`).
    pub fn with_output_col(mut self, col: &str) -> Self {
        self.params.output_col = col.to_string();
        self
    }

    /// Null/NaN policy (Spark `handleInvalid`; default `error`).
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }

    /// mlpipe's option, not Spark's: `true` writes a plain dense vector column
    /// (`FixedSizeList<Float64, n>`) instead of Spark's per-row compressed layout; default
    /// false.
    ///
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// use mlpipe::feature::VectorAssembler;
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let va = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v");
    /// let dense = va.clone().with_dense_output(true).transform(&df)?;
    /// assert!(matches!(
    ///     dense.schema().field_with_name("v")?.data_type(),
    ///     mlpipe::arrow::datatypes::DataType::FixedSizeList(..)
    /// ));
    /// let spark = va.transform(&df)?;
    /// assert!(mlpipe::frame::vector::is_sparse_vector_type(
    ///     spark.schema().field_with_name("v")?.data_type()
    /// ));
    /// # Ok(()) }
    /// ```
    pub fn with_dense_output(mut self, dense: bool) -> Self {
        self.params.dense_output = dense;
        self
    }

    /// Resolves each input column's index, kind and the feature names.
    fn plan(&self, input: &Schema) -> Result<Plan> {
        self.params.validate()?;
        let stage = VectorAssemblerParams::STAGE;
        let mut cols = Vec::with_capacity(self.params.input_cols.len());
        let mut names = Vec::new();
        for c in &self.params.input_cols {
            let (i, f) = schema::require_column(input, stage, c)?;
            if let Some(n) = vector::field_vector_size(f) {
                for (j, a) in vector_attrs(f, n).into_iter().enumerate() {
                    let (kind, mut m) = a.unwrap_or_else(|| ("numeric".into(), Map::new()));
                    let name = match m.get("name").and_then(Value::as_str) {
                        Some(a) => format!("{c}_{a}"),
                        None => format!("{c}_{j}"),
                    };
                    m.insert("name".into(), json!(name));
                    names.push((kind, m));
                }
                cols.push((
                    i,
                    if vector::is_sparse_vector_type(f.data_type()) {
                        Input::Sparse(n)
                    } else {
                        Input::Vector(n)
                    },
                ));
            } else if vector::is_sparse_vector_type(f.data_type()) {
                // A sparse column without its size: the schema check says what to do.
                schema::require_vector(input, stage, c)?;
            } else if schema::is_numeric(f.data_type()) {
                let (kind, mut m) = scalar_attr(f);
                m.insert("name".into(), json!(c));
                names.push((kind, m));
                cols.push((i, Input::Scalar));
            } else {
                return Err(Error::ColumnType {
                    stage,
                    column: c.clone(),
                    expected: "a numeric, boolean or vector column".into(),
                    found: f.data_type().clone(),
                });
            }
        }
        schema::require_absent(input, stage, &self.params.output_col)?;
        Ok((cols, names))
    }

    /// Assembles one partition of scalar and dense vector inputs into row-major values,
    /// in place and in parallel; also says whether any row would be stored sparse by
    /// Spark's `.compressed` rule.
    fn assemble(
        &self,
        part: usize,
        batch: &RecordBatch,
        cols: &[(usize, Input)],
        n: usize,
    ) -> Result<(Vec<f64>, bool)> {
        let stage = VectorAssemblerParams::STAGE;
        let rows = batch.num_rows();
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        // Every input as f64 values (a scalar column cast once) and its nulls.
        let casted: Vec<ArrayRef> = cols
            .iter()
            .map(|&(i, kind)| match kind {
                Input::Scalar => Ok(cast(batch.column(i), &DataType::Float64)?),
                Input::Vector(_) | Input::Sparse(_) => Ok(batch.column(i).clone()),
            })
            .collect::<Result<_>>()?;
        let sources: Vec<Source<'_>> = cols
            .iter()
            .zip(&casted)
            .map(|(&(_, kind), a)| {
                Ok(match kind {
                    Input::Scalar => Source {
                        values: a.as_primitive::<Float64Type>().values(),
                        size: 1,
                        nulls: a.logical_nulls(),
                    },
                    Input::Sparse(_) => {
                        return Err(Error::Internal(
                            "VectorAssembler: a sparse input on the dense path".into(),
                        ))
                    }
                    Input::Vector(size) => {
                        let list = vector::as_vector(a.as_ref())?;
                        Source {
                            values: vector::dense_values(list)?,
                            size,
                            nulls: list.logical_nulls(),
                        }
                    }
                })
            })
            .collect::<Result<_>>()?;
        if sources.iter().map(|s| s.size).sum::<usize>() != n {
            return Err(Error::Internal(format!(
                "{stage}: input sizes do not add up to {n}"
            )));
        }
        // Invalid values are noted while assembling; the first one (in column, then row
        // order) is found afterwards, on that rare path only.
        let invalid = std::sync::atomic::AtomicBool::new(false);
        let any_sparse = std::sync::atomic::AtomicBool::new(false);
        // Below 3 values no row is ever stored sparse (12·nnz + 16 < 8·n needs n ≥ 3).
        let check_sparse = !self.params.dense_output && vector::prefers_sparse(0, n);
        let fill = |first: usize, block: &mut [std::mem::MaybeUninit<f64>]| {
            let len = block.len() / n.max(1);
            let mut off = 0;
            for s in &sources {
                if s.size == 1 && s.nulls.is_none() {
                    // The common case, kept tight: a scalar column without nulls.
                    let mut nan = false;
                    for (r, v) in s.values[first..first + len].iter().enumerate() {
                        block[r * n + off].write(*v);
                        nan |= v.is_nan();
                    }
                    if nan && !keep {
                        invalid.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                    off += 1;
                    continue;
                }
                for r in 0..len {
                    let row = first + r;
                    let src = &s.values[row * s.size..(row + 1) * s.size];
                    let dst = &mut block[r * n + off..r * n + off + s.size];
                    let null = s.nulls.as_ref().is_some_and(|b| b.is_null(row));
                    if null {
                        for d in dst {
                            d.write(f64::NAN);
                        }
                    } else {
                        for (d, v) in dst.iter_mut().zip(src) {
                            d.write(*v);
                        }
                    }
                    if !keep && (null || (s.size == 1 && src[0].is_nan())) {
                        invalid.store(true, std::sync::atomic::Ordering::Relaxed);
                    }
                }
                off += s.size;
            }
            if check_sparse {
                // The block is in cache: count each row's non-zeros.
                let sparse = block.chunks_exact(n).any(|row| {
                    // SAFETY: every value of the block was written above.
                    let nnz = row
                        .iter()
                        .filter(|v| unsafe { v.assume_init_read() } != 0.0)
                        .count();
                    vector::prefers_sparse(nnz, n)
                });
                if sparse {
                    any_sparse.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            }
        };
        // SAFETY: the sources' sizes add up to n (checked above), so each row's n
        // outputs are all written, null rows included.
        let out = unsafe { buffer::par_build(rows, n, fill) };
        if invalid.into_inner() {
            return Err(self.first_invalid(part, &sources));
        }
        Ok((out, any_sparse.into_inner()))
    }

    /// Assembles one partition into a sparse vector column: each row's non-zeros, stored
    /// as Spark's `Vectors.sparse(n, …).compressed` picks (sparse or dense per row).
    ///
    /// Two passes over blocks of rows ([`vector::par_entries_chunk`]): the first counts
    /// each row's non-zeros input column by input column (and finds invalid values), the
    /// second writes each row's entries straight into the output's buffers, allocated once
    /// at their exact sizes.
    fn assemble_sparse(
        &self,
        part: usize,
        batch: &RecordBatch,
        cols: &[(usize, Input)],
        n: usize,
    ) -> Result<ArrayRef> {
        let stage = VectorAssemblerParams::STAGE;
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        /// One input: a scalar column's values as f64 (and its nulls), or a vector column.
        enum Src<'a> {
            Scalar(&'a [f64], Option<&'a arrow::buffer::NullBuffer>),
            Vector(vector::VectorBlock<'a>),
        }
        let casted: Vec<Option<ArrayRef>> = cols
            .iter()
            .map(|&(i, kind)| match kind {
                Input::Scalar => Ok(Some(cast(batch.column(i), &DataType::Float64)?)),
                Input::Vector(_) | Input::Sparse(_) => Ok(None),
            })
            .collect::<Result<_>>()?;
        let mut srcs = Vec::with_capacity(cols.len());
        for (c, (&(i, kind), a)) in cols.iter().zip(&casted).enumerate() {
            let at = vector::At {
                stage,
                column: &self.params.input_cols[c],
                partition: part,
            };
            srcs.push(match (kind, a) {
                (Input::Scalar, Some(a)) => {
                    Src::Scalar(a.as_primitive::<Float64Type>().values(), a.nulls())
                }
                (Input::Vector(size) | Input::Sparse(size), _) => Src::Vector(
                    vector::VectorBlock::new(batch.column(i).as_ref(), size, at)?,
                ),
                (Input::Scalar, None) => {
                    return Err(Error::Internal(format!("{stage}: an uncast scalar input")))
                }
            });
        }
        let width = |s: &Src<'_>| match s {
            Src::Scalar(..) => 1,
            Src::Vector(b) => b.size(),
        };
        if srcs.iter().map(width).sum::<usize>() != n {
            return Err(Error::Internal(format!(
                "{stage}: input sizes do not add up to {n}"
            )));
        }
        let invalid = |c: usize, row: usize, what: &str| {
            Error::InvalidValue {
            stage,
            column: self.params.input_cols[c].clone(),
            partition: part,
            row,
            what: what.to_string(),
            hint: "set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN".into(),
        }
        };
        // The first invalid value of row `r` (in column order), under `error`.
        let row_invalid = |r: usize| -> Option<Error> {
            for (c, s) in srcs.iter().enumerate() {
                match s {
                    Src::Scalar(_, Some(nb)) if nb.is_null(r) => {
                        return Some(invalid(c, r, "null value"))
                    }
                    Src::Scalar(v, _) if v[r].is_nan() => return Some(invalid(c, r, "NaN")),
                    Src::Vector(b) if b.is_null(r) => return Some(invalid(c, r, "null vector")),
                    _ => {}
                }
            }
            None
        };
        let at = vector::At {
            stage,
            column: &self.params.output_col,
            partition: part,
        };
        vector::par_entries_chunk(
            batch.num_rows(),
            n,
            None,
            true,
            at,
            || (),
            |_, first, counts| {
                // Column by column over the block: a scalar counts 1 unless 0.0 (a null
                // kept is NaN: 1), a vector its row's non-zeros (a null kept: all NaN).
                let mut bad = false;
                for s in &srcs {
                    match s {
                        Src::Scalar(v, nulls) => {
                            let v = &v[first..first + counts.len()];
                            for (c, x) in counts.iter_mut().zip(v) {
                                *c += usize::from(*x != 0.0);
                                bad |= x.is_nan();
                            }
                            if let Some(nb) = nulls {
                                for (j, c) in counts.iter_mut().enumerate() {
                                    if nb.is_null(first + j) {
                                        bad = true;
                                        *c += usize::from(v[j] == 0.0);
                                    }
                                }
                            }
                        }
                        Src::Vector(b) => {
                            for (j, c) in counts.iter_mut().enumerate() {
                                match b.row(first + j) {
                                    Some(x) => *c += x.num_nonzeros(),
                                    None => {
                                        bad = true;
                                        *c += b.size();
                                    }
                                }
                            }
                        }
                    }
                }
                if bad && !keep {
                    if let Some(e) = (first..first + counts.len()).find_map(row_invalid) {
                        return Err(e);
                    }
                }
                Ok(())
            },
            |_, r, out| {
                let mut off = 0;
                for s in &srcs {
                    match s {
                        Src::Scalar(v, nulls) => {
                            let null = nulls.is_some_and(|nb| nb.is_null(r));
                            out.put(off, if null { f64::NAN } else { v[r] });
                            off += 1;
                        }
                        Src::Vector(b) => {
                            match b.row(r) {
                                Some(x) => x.for_each_active(|i, v| out.put(off + i, v)),
                                None => (0..b.size()).for_each(|i| out.put(off + i, f64::NAN)),
                            }
                            off += b.size();
                        }
                    }
                }
                Ok(())
            },
        )
    }

    /// The first null or NaN, in column order then row order (Spark's `error` mode).
    fn first_invalid(&self, part: usize, sources: &[Source<'_>]) -> Error {
        for (c, s) in sources.iter().enumerate() {
            let rows = s.values.len() / s.size.max(1);
            for row in 0..rows {
                let what = if s.nulls.as_ref().is_some_and(|b| b.is_null(row)) {
                    if s.size == 1 {
                        "null value"
                    } else {
                        "null vector"
                    }
                } else if s.size == 1 && s.values[row].is_nan() {
                    "NaN"
                } else {
                    continue;
                };
                return Error::InvalidValue {
                    stage: VectorAssemblerParams::STAGE,
                    column: self.params.input_cols[c].clone(),
                    partition: part,
                    row,
                    what: what.to_string(),
                    hint: "set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN".into(),
                };
            }
        }
        Error::Internal("VectorAssembler: an invalid value was noted but not found".into())
    }
}

/// One input of an assembly: its values as f64 (`size` per row), and its nulls.
struct Source<'a> {
    values: &'a [f64],
    size: usize,
    nulls: Option<arrow::buffer::NullBuffer>,
}

impl Stage for VectorAssembler {
    fn kind(&self) -> &'static str {
        "VectorAssembler"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let (_, attrs) = self.plan(input)?;
        let mut field = output_field(&self.params.output_col, &attrs, !self.params.dense_output);
        // An input whose size is only known after fitting (an unfitted OneHotEncoder's
        // output in Pipeline's schema pass) makes the assembled size unknown too.
        let unknown = self
            .params
            .input_cols
            .iter()
            .any(|c| input.field_with_name(c).is_ok_and(vector::is_unknown_size));
        if unknown {
            field = vector::unknown_size(field);
        }
        schema::append_field(input, VectorAssemblerParams::STAGE, field)
    }
}

impl Transformer for VectorAssembler {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let (cols, attrs) = self.plan(df.schema())?;
        let n = attrs.len();
        // skip: Spark's na.drop over the inputs (nulls anywhere, NaN in scalar columns).
        let df = if self.params.handle_invalid == HandleInvalid::Skip {
            let cols: Vec<&str> = self.params.input_cols.iter().map(|s| s.as_str()).collect();
            df.drop_invalid(&cols)?
        } else {
            df.clone()
        };
        let sparse_in = sparse_input(&cols);
        let dense_out = self.params.dense_output;
        let chunks = df.map_partitions(|p, b| match (sparse_in, dense_out) {
            (true, false) => self.assemble_sparse(p, b, &cols, n),
            (true, true) => {
                let a = self.assemble_sparse(p, b, &cols, n)?;
                let at = vector::At {
                    stage: VectorAssemblerParams::STAGE,
                    column: &self.params.output_col,
                    partition: p,
                };
                Ok(Arc::new(vector::dense_chunk(a.as_ref(), n, at)?) as ArrayRef)
            }
            (false, true) => Ok(Arc::new(vector::vector_array(
                self.assemble(p, b, &cols, n)?.0,
                n,
                None,
            )?) as ArrayRef),
            (false, false) => {
                let (values, any_sparse) = self.assemble(p, b, &cols, n)?;
                let at = vector::At {
                    stage: VectorAssemblerParams::STAGE,
                    column: &self.params.output_col,
                    partition: p,
                };
                vector::compressed_rows(values, n, None, Some(any_sparse), at)
            }
        })?;
        df.with_column(
            output_field(&self.params.output_col, &attrs, !dense_out),
            chunks,
        )
    }

    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    VectorAssembler,
    "org.apache.spark.ml.feature.VectorAssembler"
);

// ---- Row form (crate::row) ----

#[derive(Debug)]
enum RowSource {
    Scalar(crate::row::NumIn),
    Vector(crate::row::VecSlot),
}

#[derive(Debug)]
struct AssemblerRow {
    sources: Vec<(RowSource, String)>,
    out: crate::row::VecSlot,
    handle_invalid: HandleInvalid,
    /// Per source: whether the batch's `skip` filter looks for NaN in it (floating-point
    /// scalar columns; Spark's `na.drop`).
    nan_drops: Vec<bool>,
}

impl crate::row::RowStage for VectorAssembler {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let (cols, attrs) = self.plan(plan.schema())?;
        let mut sources = Vec::with_capacity(cols.len());
        let mut nan_drops = Vec::with_capacity(cols.len());
        for ((_, kind), name) in cols.iter().zip(&self.params.input_cols) {
            let dt = plan.input_type(name).unwrap_or(DataType::Float64);
            nan_drops.push(dt.is_floating());
            sources.push(match kind {
                Input::Scalar => (RowSource::Scalar(plan.num_input(name)?), name.clone()),
                Input::Vector(_) | Input::Sparse(_) => {
                    (RowSource::Vector(plan.vec_input(name)?), name.clone())
                }
            });
        }
        let out = plan.add_vec(&self.params.output_col, attrs.len());
        Ok(Some(Box::new(AssemblerRow {
            sources,
            out,
            handle_invalid: self.params.handle_invalid,
            nan_drops,
        })))
    }
}

impl crate::row::RowOp for AssemblerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mut off = 0;
        for (i, (src, name)) in self.sources.iter().enumerate() {
            match *src {
                RowSource::Scalar(x) => {
                    let v = row.num(x);
                    let invalid = match v {
                        None => Some("null value"),
                        Some(v) if v.is_nan() => Some("NaN"),
                        Some(_) => None,
                    };
                    if let Some(what) = invalid {
                        match self.handle_invalid {
                            HandleInvalid::Keep => {}
                            HandleInvalid::Skip if v.is_none() || self.nan_drops[i] => {
                                return Ok(crate::row::Flow::Drop)
                            }
                            HandleInvalid::Skip => {}
                            HandleInvalid::Error => {
                                return Err(row.invalid(
                                    VectorAssemblerParams::STAGE,
                                    name,
                                    what,
                                    "set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN",
                                ))
                            }
                        }
                    }
                    row.vec_mut(self.out)[off] = v.unwrap_or(f64::NAN);
                    off += 1;
                }
                RowSource::Vector(s) => {
                    let (x, o) = row.vec_pair(s, self.out);
                    o[off..off + s.len()].copy_from_slice(x);
                    off += s.len();
                }
            }
        }
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, StringArray};

    fn df() -> DataFrame {
        let b = RecordBatch::try_from_iter([
            (
                "a",
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(Float64Array::from(vec![0.5, 1.5, f64::NAN])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .unwrap();
        DataFrame::from_batches(vec![b]).unwrap()
    }

    fn rows(df: &DataFrame, col: &str) -> Vec<Vec<f64>> {
        let c = df.column(col).unwrap();
        let n = vector::field_vector_size(&c.field).unwrap();
        let mut out = Vec::new();
        for (p, chunk) in c.chunks.iter().enumerate() {
            let at = vector::At {
                stage: "test",
                column: col,
                partition: p,
            };
            let b = vector::VectorBlock::new(chunk.as_ref(), n, at).unwrap();
            let v = b.to_dense();
            out.extend(v.chunks(n).map(|r| r.to_vec()));
        }
        out
    }

    #[test]
    fn error_mode_names_partition_and_row() {
        let va = VectorAssembler::new()
            .with_input_cols(["a", "b"])
            .with_output_col("f");
        let err = va.transform(&df()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: null value in column `a` (partition 0, row 1); set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN"
        );
        let err = va
            .clone()
            .with_input_cols(["b"])
            .transform(&df())
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("VectorAssembler: NaN in column `b` (partition 0, row 2)"),
            "{err}"
        );
    }

    #[test]
    fn skip_and_keep() {
        let va = VectorAssembler::new()
            .with_input_cols(["a", "b"])
            .with_output_col("f")
            .with_handle_invalid(HandleInvalid::Skip);
        assert_eq!(
            rows(&va.transform(&df()).unwrap(), "f"),
            vec![vec![1.0, 0.5]]
        );
        let out = va
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df())
            .unwrap();
        let r = rows(&out, "f");
        assert_eq!(r[0], vec![1.0, 0.5]);
        assert!(r[1][0].is_nan() && r[1][1] == 1.5);
        assert!(r[2][1].is_nan() && r[2][0] == 3.0);
    }

    #[test]
    fn vector_inputs_and_names() {
        let va = VectorAssembler::new()
            .with_input_cols(["b"])
            .with_output_col("v")
            .with_handle_invalid(HandleInvalid::Keep);
        let d = va.transform(&df()).unwrap();
        let va2 = VectorAssembler::new()
            .with_input_cols(["v", "b"])
            .with_output_col("w")
            .with_handle_invalid(HandleInvalid::Keep);
        let d2 = va2.transform(&d).unwrap();
        let f = d2.schema().field_with_name("w").unwrap();
        assert_eq!(vector::feature_names_or_default(f), vec!["v_b", "b"]);
        assert_eq!(rows(&d2, "w")[1], vec![1.5, 1.5]);
    }

    #[test]
    fn schema_errors() {
        let s = df();
        let err = VectorAssembler::new()
            .with_input_cols(["s"])
            .with_output_col("f")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: column `s` has type Utf8, expected a numeric, boolean or vector column"
        );
        let err = VectorAssembler::new()
            .with_input_cols(["a"])
            .with_output_col("b")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: output column `b` already exists; choose another output column name or drop the existing column first"
        );
        let err = VectorAssembler::new()
            .with_output_col("f")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: parameter `inputCols` must be a non-empty list, got []"
        );
    }

    #[test]
    fn is_send_sync() {
        fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
        has_autotraits::<VectorAssembler>();
    }

    /// 50,000 rows in two partitions (more than one parallel task each), a scalar column,
    /// a vector column with null rows and a scalar column with nulls: every assembled value
    /// lands where it belongs, and the first invalid value is the one reported.
    #[test]
    fn large_partitions_assemble_in_place() {
        let per = 25_000usize;
        let part = |p: usize| {
            let base = p * per;
            let a = Float64Array::from_iter_values((0..per).map(|r| (base + r) as f64));
            let v: Vec<f64> = (0..per)
                .flat_map(|r| [(base + r) as f64 + 0.25, (base + r) as f64 + 0.5])
                .collect();
            let nulls = arrow::buffer::NullBuffer::from(
                (0..per).map(|r| r % 1000 != 7).collect::<Vec<bool>>(),
            );
            let v = vector::vector_array(v, 2, Some(nulls)).unwrap();
            let c = Float64Array::from_iter(
                (0..per).map(|r| (r % 500 != 3).then_some(-((base + r) as f64))),
            );
            RecordBatch::try_from_iter([
                ("a", Arc::new(a) as ArrayRef),
                ("v", Arc::new(v) as ArrayRef),
                ("c", Arc::new(c) as ArrayRef),
            ])
            .unwrap()
        };
        let df = DataFrame::from_batches(vec![part(0), part(1)]).unwrap();
        let va = VectorAssembler::new()
            .with_input_cols(["a", "v", "c"])
            .with_output_col("f");
        let out = va
            .clone()
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df)
            .unwrap();
        let got = rows(&out, "f");
        assert_eq!(got.len(), 2 * per);
        for (i, row) in got.iter().enumerate() {
            let x = i as f64;
            let r = i % per;
            let v = if r % 1000 == 7 {
                [f64::NAN, f64::NAN]
            } else {
                [x + 0.25, x + 0.5]
            };
            let c = if r % 500 == 3 { f64::NAN } else { -x };
            let want = [x, v[0], v[1], c];
            let same = row
                .iter()
                .zip(want)
                .all(|(g, w)| g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan()));
            assert!(same, "row {i}: {row:?} vs {want:?}");
        }
        let err = va.transform(&df).unwrap_err().to_string();
        assert!(
            err.starts_with("VectorAssembler: null vector in column `v` (partition 0, row 7)"),
            "{err}"
        );
    }

    /// The sparse-input path (two passes over blocks of 2048 rows, rows written straight
    /// into the output) against a row-by-row reference: each row's non-zeros pushed
    /// through `SparseVectorBuilder::push_compressed`, Spark's `.compressed` layout.
    /// 5,000 rows (three blocks) of a sparse vector (nulls, stored zeros, empty rows),
    /// a scalar with nulls and NaN, and a mostly-zero scalar: same layout and bits with
    /// `keep`, and with `error` the first invalid row in row order, past the first block.
    #[test]
    fn sparse_inputs_assemble_as_row_by_row() {
        let rows = 5000usize;
        let mut sv = vector::SparseVectorBuilder::new(4);
        for r in 0..rows {
            match r % 7 {
                0 => sv.push(&[], &[]).unwrap(),
                1 => sv.push(&[0, 3], &[1.5, 0.0]).unwrap(),
                2 if r > 3000 => sv.push_null(),
                _ => sv.push(&[1, 2, 3], &[r as f64, -1.0, 2.0]).unwrap(),
            }
        }
        let sv = sv.finish().unwrap();
        let a = Float64Array::from_iter((0..rows).map(|r| match r % 11 {
            3 if r > 2500 => None,
            5 if r > 4000 => Some(f64::NAN),
            _ => Some((r % 3) as f64),
        }));
        let z = Int32Array::from_iter_values((0..rows).map(|r| i32::from(r % 13 == 0)));
        let batch = RecordBatch::try_from_iter([
            ("v", sv.clone()),
            ("a", Arc::new(a.clone()) as ArrayRef),
            ("z", Arc::new(z.clone()) as ArrayRef),
        ])
        .unwrap();
        let df = DataFrame::from_batches(vec![batch])
            .unwrap()
            .with_vector_size("v")
            .unwrap();
        let va = VectorAssembler::new()
            .with_input_cols(["a", "v", "z"])
            .with_output_col("f");
        let out = va
            .clone()
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df)
            .unwrap();
        let at = vector::At {
            stage: "test",
            column: "v",
            partition: 0,
        };
        let block = vector::VectorBlock::new(sv.as_ref(), 4, at).unwrap();
        let mut want = vector::SparseVectorBuilder::new(6);
        for r in 0..rows {
            let (mut idx, mut vals) = (Vec::new(), Vec::new());
            let mut put = |i: usize, v: f64| {
                if v != 0.0 {
                    idx.push(i as i32);
                    vals.push(v);
                }
            };
            put(0, if a.is_null(r) { f64::NAN } else { a.value(r) });
            match block.row(r) {
                Some(x) => x.for_each_active(|i, v| put(1 + i, v)),
                None => (1..5).for_each(|i| put(i, f64::NAN)),
            }
            put(5, f64::from(z.value(r)));
            want.push_compressed(vector::Row::Sparse {
                size: 6,
                indices: &idx,
                values: &vals,
            })
            .unwrap();
        }
        let want = want.finish().unwrap();
        let got = &out.column("f").unwrap().chunks[0];
        assert_eq!(got.to_data(), want.to_data());
        let err = va.transform(&df).unwrap_err().to_string();
        assert!(
            err.starts_with("VectorAssembler: null value in column `a` (partition 0, row 2511)"),
            "{err}"
        );
        let err = va
            .with_input_cols(["v", "a"])
            .transform(&df)
            .unwrap_err()
            .to_string();
        // Row 2511 holds a null `a`; row 3005 is the first null vector, later.
        assert!(
            err.starts_with("VectorAssembler: null value in column `a` (partition 0, row 2511)"),
            "{err}"
        );
    }
}
