//! [`OneHotEncoder`] and [`OneHotEncoderModel`].

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use serde::{Deserialize, Serialize};

use super::columns::{in_out_cols, InOutCols};
use super::string_indexer::nominal_labels;
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{HandleInvalid, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Params of [`OneHotEncoder`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct OneHotEncoderParams {
    /// Single-column mode input.
    pub input_col: Option<String>,
    /// Multi-column mode inputs.
    pub input_cols: Option<Vec<String>>,
    /// Single-column mode output (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// Multi-column mode outputs.
    pub output_cols: Option<Vec<String>>,
    /// Drop the last category (its vector is all zeros). Default true.
    pub drop_last: bool,
    /// Invalid (unseen or negative) values: `error` (default) or `keep` (an extra category).
    pub handle_invalid: HandleInvalid,
    /// mlpipe's option, not Spark's: write dense vector columns instead of Spark's sparse
    /// ones. Default false. Saved (as `denseOutput`) only when true, so a stage left at the
    /// default stays loadable by Spark.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dense_output: bool,
}

in_out_cols!(OneHotEncoderParams);

impl Default for OneHotEncoderParams {
    fn default() -> Self {
        Self {
            input_col: None,
            input_cols: None,
            output_col: None,
            output_cols: None,
            drop_last: true,
            handle_invalid: HandleInvalid::Error,
            dense_output: false,
        }
    }
}

impl Params for OneHotEncoderParams {
    const STAGE: &'static str = "OneHotEncoder";
    fn validate(&self) -> Result<()> {
        if self.handle_invalid == HandleInvalid::Skip {
            return Err(Error::param(
                Self::STAGE,
                "handleInvalid",
                "\"error\" or \"keep\" (OneHotEncoder has no skip)",
                "\"skip\"",
            ));
        }
        self.pairs(Self::STAGE).map(|_| ())
    }
}

/// One-hot encodes category indices into sparse vector columns (Spark's `OneHotEncoder`,
/// `org.apache.spark.ml.feature.OneHotEncoder`): each row holds at most one stored 1.0.
/// [`with_dense_output(true)`](OneHotEncoder::with_dense_output) writes dense vector
/// columns instead (an mlpipe option). The number of categories of a column comes from its
/// nominal metadata (as written by StringIndexer) or from the data (max + 1). With
/// `dropLast` (default) the last category encodes as all zeros; with
/// `handleInvalid = keep`, invalid values get an extra category.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{OneHotEncoder, StringIndexer};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let idx = StringIndexer::new().with_input_col("contract").with_output_col("i").fit(&df)?.transform(&df)?;
/// let enc = OneHotEncoder::new().with_input_col("i").with_output_col("v").fit(&idx)?;
/// assert_eq!(enc.category_sizes(), &[3]);
/// let out = enc.transform(&idx)?;
/// assert_eq!(mlpipe::frame::vector::feature_names_or_default(out.schema().field_with_name("v").unwrap()),
///     vec!["month-to-month", "one-year"]); // dropLast
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct OneHotEncoder {
    uid: String,
    params: OneHotEncoderParams,
}

super::columns::stage_basics!(OneHotEncoder, OneHotEncoderParams, "oneHotEncoder", |uid| {
    OneHotEncoderParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl OneHotEncoder {
    super::columns::multi_column_setters!();
    /// Drop the last category; default true.
    pub fn with_drop_last(mut self, v: bool) -> Self {
        self.params.drop_last = v;
        self
    }
    /// `error` (default) or `keep`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
    /// Write dense vector columns instead of Spark's sparse ones (an mlpipe option;
    /// default false).
    pub fn with_dense_output(mut self, dense: bool) -> Self {
        self.params.dense_output = dense;
        self
    }
}

/// Category count declared by a column's metadata (nominal `vals` / `num_vals`, binary 2).
pub(crate) fn metadata_categories(f: &Field) -> Option<usize> {
    if let Some(l) = nominal_labels(f) {
        return Some(l.len());
    }
    let raw = f.metadata().get(vector::ML_ATTR)?;
    let v: serde_json::Value = serde_json::from_str(raw).ok()?;
    match v.get("type").and_then(|t| t.as_str()) {
        Some("binary") => Some(2),
        _ => v
            .get("num_vals")
            .and_then(|n| n.as_u64())
            .map(|n| n as usize),
    }
}

pub(crate) fn output_size(c: usize, p: &OneHotEncoderParams) -> usize {
    let keep = p.handle_invalid == HandleInvalid::Keep;
    match (p.drop_last, keep) {
        (true, false) => c.saturating_sub(1),
        (false, true) => c + 1,
        _ => c,
    }
}

/// Attribute names of the output vector: category labels (or indices), plus
/// `invalidValues` under keep without dropLast.
fn output_names(f: &Field, c: usize, p: &OneHotEncoderParams) -> Vec<String> {
    let base: Vec<String> =
        nominal_labels(f).unwrap_or_else(|| (0..c).map(|i| i.to_string()).collect());
    let mut names: Vec<String> = base.into_iter().take(c).collect();
    names.push("invalidValues".into());
    names.truncate(output_size(c, p));
    names
}

/// `field` with its elements recorded as Spark's OneHotEncoder records them: binary
/// attributes named by category (`BinaryAttribute.defaultAttr.withName`).
fn with_binary_attrs(mut field: Field, names: &[String]) -> Field {
    let attrs: Vec<serde_json::Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| serde_json::json!({"idx": i, "name": n}))
        .collect();
    field.metadata_mut().insert(
        vector::ML_ATTR.to_string(),
        serde_json::json!({"attrs": {"binary": attrs}, "num_attrs": names.len()}).to_string(),
    );
    field
}

/// Appends the outputs given each column's category count (`None`: not known yet).
fn encoder_schema(
    p: &OneHotEncoderParams,
    input: &Schema,
    sizes: Option<&[usize]>,
    stage: &'static str,
) -> Result<Schema> {
    p.validate()?;
    let pairs = p.pairs(stage)?;
    if let Some(s) = sizes.filter(|s| s.len() != pairs.len()) {
        return Err(Error::Internal(format!(
            "{} category sizes for {} input columns",
            s.len(),
            pairs.len()
        )));
    }
    let mut out = input.clone();
    for (i, (ic, oc)) in pairs.iter().enumerate() {
        let (_, f) = schema::require_numeric(input, stage, ic)?;
        let c = sizes.map(|s| s[i]).or_else(|| metadata_categories(f));
        // Before fitting, a column without metadata has an unknown size: the estimator's
        // schema then says 0 and the model's schema is exact.
        let c = c.unwrap_or(0);
        let size = output_size(c, p);
        let field = if p.dense_output {
            vector::vector_field(oc, size, false)
        } else {
            vector::sparse_vector_field(oc, size, false)
        };
        let field = with_binary_attrs(field, &output_names(f, c, p));
        // Before fitting, a column without category metadata gives a vector whose size is
        // not known yet (0 stands in for it).
        let unknown = sizes.is_none() && metadata_categories(f).is_none();
        let field = if unknown {
            vector::unknown_size(field)
        } else {
            field
        };
        out = schema::append_field(&out, stage, field)?;
    }
    Ok(out)
}

impl Stage for OneHotEncoder {
    fn kind(&self) -> &'static str {
        "OneHotEncoder"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        encoder_schema(&self.params, input, None, OneHotEncoderParams::STAGE)
    }
}

impl Estimator for OneHotEncoder {
    type Model = OneHotEncoderModel;

    fn fit(&self, df: &DataFrame) -> Result<OneHotEncoderModel> {
        let stage = OneHotEncoderParams::STAGE;
        self.transform_schema(df.schema())?;
        let pairs = self.params.pairs(stage)?;
        let mut sizes = Vec::with_capacity(pairs.len());
        for (ic, _) in &pairs {
            let (_, f) = schema::require_column(df.schema(), stage, ic)?;
            if let Some(c) = metadata_categories(f) {
                sizes.push(c);
                continue;
            }
            let col = df.column(ic)?;
            let maxes = df.map_partitions(|pi, _| {
                let a = cast(&col.chunks[pi], &DataType::Float64)?;
                let a = a.as_primitive::<Float64Type>();
                let mut m = -1.0f64;
                for (r, v) in a.iter().enumerate() {
                    let Some(v) = v else { continue };
                    if !(v >= 0.0 && v.fract() == 0.0 && v <= i32::MAX as f64) {
                        return Err(Error::InvalidValue {
                            stage,
                            column: ic.clone(),
                            partition: pi,
                            row: r,
                            what: format!("value {v}"),
                            hint: "values must be category indices 0, 1, 2, ... (index strings with StringIndexer first)".into(),
                        });
                    }
                    m = m.max(v);
                }
                Ok(m)
            })?;
            let max = maxes.into_iter().fold(-1.0f64, f64::max);
            if max < 0.0 {
                return Err(Error::EmptyInput {
                    stage,
                    hint: format!("column `{ic}` has no values to count categories from"),
                });
            }
            sizes.push(max as usize + 1);
        }
        Ok(OneHotEncoderModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            category_sizes: sizes,
        })
    }
}

/// A fitted [`OneHotEncoder`]: the category count of each input column.
#[derive(Clone, Debug, PartialEq)]
pub struct OneHotEncoderModel {
    uid: String,
    params: OneHotEncoderParams,
    category_sizes: Vec<usize>,
}

impl OneHotEncoderModel {
    /// A model from its category sizes (Spark's `categorySizes`).
    pub fn new(
        uid: impl Into<String>,
        params: OneHotEncoderParams,
        category_sizes: Vec<usize>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            category_sizes,
        }
    }
    /// The params.
    pub fn params(&self) -> &OneHotEncoderParams {
        &self.params
    }
    /// Number of categories of each input column.
    pub fn category_sizes(&self) -> &[usize] {
        &self.category_sizes
    }
}

impl Stage for OneHotEncoderModel {
    fn kind(&self) -> &'static str {
        "OneHotEncoderModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        encoder_schema(
            &self.params,
            input,
            Some(&self.category_sizes),
            "OneHotEncoderModel",
        )
    }
}

impl Transformer for OneHotEncoderModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "OneHotEncoderModel";
        let schema = self.transform_schema(df.schema())?;
        let pairs = self.params.pairs(stage)?;
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        let mut out = df.clone();
        for (i, (ic, oc)) in pairs.iter().enumerate() {
            let c = self.category_sizes[i];
            let size = output_size(c, &self.params);
            let col = df.column(ic)?;
            let chunks = df.map_partitions(|pi, _| {
                let a = cast(&col.chunks[pi], &DataType::Float64)?;
                let a = a.as_primitive::<Float64Type>();
                let dense = self.params.dense_output;
                // Row r's category, `c` for a null, NaN, negative or unseen value.
                let index = |r: usize| -> usize {
                    let v = if a.is_null(r) { f64::NAN } else { a.value(r) };
                    if v >= 0.0 && v < c as f64 {
                        v as usize
                    } else {
                        c
                    }
                };
                if !keep {
                    if let Some(r) = (0..a.len()).find(|&r| index(r) == c) {
                        let v = if a.is_null(r) { f64::NAN } else { a.value(r) };
                        let what = if v.is_nan() {
                            "null or NaN value".to_string()
                        } else if v < 0.0 {
                            format!("negative value {v}")
                        } else {
                            format!("unseen value {v}")
                        };
                        return Err(Error::InvalidValue {
                            stage,
                            column: ic.clone(),
                            partition: pi,
                            row: r,
                            what,
                            hint: "to handle unseen values, set handleInvalid to \"keep\"".into(),
                        });
                    }
                }
                // (With keep, category `c` is the extra slot, beyond the size when
                // dropLast drops it.)
                if dense {
                    let mut vals = vec![0.0f64; a.len() * size];
                    for r in 0..a.len() {
                        let idx = index(r);
                        if idx < size {
                            vals[r * size + idx] = 1.0;
                        }
                    }
                    return Ok(Arc::new(vector::vector_array(vals, size, None)?) as ArrayRef);
                }
                // Spark: `Vectors.sparse(size, [idx], [1.0])`, empty for the dropped
                // category: one entry or none per row, written straight into the
                // column's buffers.
                let at = vector::At {
                    stage,
                    column: oc,
                    partition: pi,
                };
                vector::par_entries_chunk(
                    a.len(),
                    size,
                    None,
                    false,
                    at,
                    || (),
                    |_, first, counts| {
                        for (j, n) in counts.iter_mut().enumerate() {
                            *n = usize::from(index(first + j) < size);
                        }
                        Ok(())
                    },
                    |_, r, out| {
                        let idx = index(r);
                        if idx < size {
                            out.put(idx, 1.0);
                        }
                        Ok(())
                    },
                )
            })?;
            out = out.with_column(schema.field_with_name(oc)?.clone(), chunks)?;
        }
        Ok(out)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for OneHotEncoderModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    OneHotEncoder,
    "org.apache.spark.ml.feature.OneHotEncoder",
    also_reads: ["org.apache.spark.ml.feature.OneHotEncoderEstimator"], // Spark 2.3-2.4
);

impl crate::persist::SparkPersist for OneHotEncoderModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.OneHotEncoderModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let sizes: Vec<i32> = self.category_sizes.iter().map(|c| *c as i32).collect();
        let n = sizes.len();
        let arr: ArrayRef = Arc::new(arrow::array::ListArray::new(
            Arc::new(Field::new("element", DataType::Int32, false)),
            arrow::buffer::OffsetBuffer::from_lengths([n]),
            Arc::new(arrow::array::Int32Array::from(sizes)),
            None,
        ));
        let batch = format::one_row(vec![(
            Field::new("categorySizes", arr.data_type().clone(), true),
            arr,
        )])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[(
                "categorySizes",
                serde_json::json!({"type": "array", "elementType": "integer", "containsNull": false}),
                true,
            )]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let a = format::column(&d, "categorySizes", dir)?;
        let l = a
            .as_list_opt::<i32>()
            .ok_or_else(|| Error::file(dir.join("data"), "categorySizes is not a list"))?;
        let v = l.value(0);
        let sizes = v
            .as_primitive_opt::<arrow::datatypes::Int32Type>()
            .ok_or_else(|| Error::file(dir.join("data"), "categorySizes are not ints"))?;
        let sizes = sizes.values().iter().map(|v| *v as usize).collect();
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, sizes))
    }
}

// ---- Row form (crate::row) ----

#[derive(Debug)]
struct OneHotRow {
    cols: Vec<(crate::row::NumIn, String, usize, crate::row::VecSlot)>,
    keep: bool,
}

impl crate::row::RowStage for OneHotEncoderModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let pairs = self.params.pairs("OneHotEncoderModel")?;
        let mut cols = Vec::with_capacity(pairs.len());
        for (i, (ic, oc)) in pairs.iter().enumerate() {
            let c = self.category_sizes[i];
            let input = plan.num_input(ic)?;
            let out = plan.add_vec(oc, output_size(c, &self.params));
            cols.push((input, ic.clone(), c, out));
        }
        Ok(Some(Box::new(OneHotRow {
            cols,
            keep: self.params.handle_invalid == HandleInvalid::Keep,
        })))
    }
}

impl crate::row::RowOp for OneHotRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        for (input, ic, c, out) in &self.cols {
            let (c, size) = (*c, out.len());
            let v = row.num(*input).unwrap_or(f64::NAN);
            let idx = if v >= 0.0 && v < c as f64 {
                v as usize
            } else if self.keep {
                c
            } else {
                let what = if v.is_nan() {
                    "null or NaN value".to_string()
                } else if v < 0.0 {
                    format!("negative value {v}")
                } else {
                    format!("unseen value {v}")
                };
                return Err(row.invalid(
                    "OneHotEncoderModel",
                    ic,
                    what,
                    "to handle unseen values, set handleInvalid to \"keep\"",
                ));
            };
            let o = row.vec_mut(*out);
            o.fill(0.0);
            if idx < size {
                o[idx] = 1.0;
            }
        }
        Ok(crate::row::Flow::Next)
    }
}
