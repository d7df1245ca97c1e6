//! [`Imputer`] and [`ImputerModel`].

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use serde::{Deserialize, Serialize};

use super::columns::{in_out_cols, InOutCols};
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::{check_in_range, spark_double, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Spark's Imputer `strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImputerStrategy {
    /// The mean of the present values (default).
    #[default]
    Mean,
    /// The median of the present values.
    Median,
    /// The most frequent present value (ties: the smallest).
    Mode,
}

/// Params of [`Imputer`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ImputerParams {
    /// Single-column mode input.
    pub input_col: Option<String>,
    /// Multi-column mode inputs.
    pub input_cols: Option<Vec<String>>,
    /// Single-column mode output.
    pub output_col: Option<String>,
    /// Multi-column mode outputs.
    pub output_cols: Option<Vec<String>>,
    /// `mean` (default), `median` or `mode`.
    pub strategy: ImputerStrategy,
    /// The value that counts as missing, besides null. Default NaN.
    #[serde(with = "spark_double")]
    pub missing_value: f64,
    /// The median's rank error bound, as a fraction of the row count, in [0, 1]
    /// (Spark's approxQuantile). Default 0.001; 0 gives the exact median.
    pub relative_error: f64,
}

in_out_cols!(ImputerParams);

impl Default for ImputerParams {
    fn default() -> Self {
        Self {
            input_col: None,
            input_cols: None,
            output_col: None,
            output_cols: None,
            strategy: ImputerStrategy::Mean,
            missing_value: f64::NAN,
            relative_error: 0.001,
        }
    }
}

impl Params for ImputerParams {
    const STAGE: &'static str = "Imputer";
    fn validate(&self) -> Result<()> {
        check_in_range(Self::STAGE, "relativeError", self.relative_error, 0.0, 1.0)?;
        self.pairs(Self::STAGE).map(|_| ())
    }
}

/// Replaces missing values (null, NaN, or `missingValue`) by the column's mean, median or
/// mode (Spark's `org.apache.spark.ml.feature.Imputer`). The output keeps the input's type, so an
/// integer column's mean is truncated. With a non-NaN `missingValue`, NaNs are left out
/// of the fit but, as in Spark, are not replaced.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::Imputer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?; // one null total_charges
/// let model = Imputer::new().with_input_cols(&["total_charges"]).with_output_cols(&["tc"]).fit(&df)?;
/// let out = model.transform(&df)?;
/// assert_eq!(out.column("tc")?.chunks.iter().map(|c| c.null_count()).sum::<usize>(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Imputer {
    uid: String,
    params: ImputerParams,
}

super::columns::stage_basics!(Imputer, ImputerParams, "imputer", |uid| {
    ImputerParams::default()
});

impl Imputer {
    super::columns::multi_column_setters!();
    /// The strategy; default mean.
    pub fn with_strategy(mut self, s: ImputerStrategy) -> Self {
        self.params.strategy = s;
        self
    }
    /// The placeholder for missing values; default NaN.
    pub fn with_missing_value(mut self, v: f64) -> Self {
        self.params.missing_value = v;
        self
    }
}

fn imputer_schema(p: &ImputerParams, input: &Schema, stage: &'static str) -> Result<Schema> {
    p.validate()?;
    let mut out = input.clone();
    for (ic, oc) in p.pairs(stage)? {
        let (_, f) = schema::require_numeric(input, stage, &ic)?;
        out = schema::append_field(
            &out,
            stage,
            Field::new(oc, f.data_type().clone(), f.is_nullable()),
        )?;
    }
    Ok(out)
}

impl Stage for Imputer {
    fn kind(&self) -> &'static str {
        "Imputer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        imputer_schema(&self.params, input, ImputerParams::STAGE)
    }
}

impl Estimator for Imputer {
    type Model = ImputerModel;

    fn fit(&self, df: &DataFrame) -> Result<ImputerModel> {
        let stage = ImputerParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let mv = p.missing_value;
        let mut surrogates = Vec::new();
        for (ic, _) in p.pairs(stage)? {
            let col = df.column(&ic)?;
            // Partition `pi` as doubles; `present` then reads its non-missing values.
            let doubles = |pi: usize| cast(&col.chunks[pi], &DataType::Float64);
            let no_values = || {
                Error::EmptyInput {
                stage,
                hint: format!("surrogate cannot be computed: all the values in column `{ic}` are null, NaN or missingValue ({mv})"),
            }
            };
            let s = match p.strategy {
                ImputerStrategy::Mean => {
                    // One pass of mergeable (sum, count) summaries, merged in partition order.
                    let parts = df.map_partitions(|pi, _| {
                        let (mut sum, mut n) = (0.0, 0u64);
                        for v in present(&doubles(pi)?, mv) {
                            sum += v;
                            n += 1;
                        }
                        Ok((sum, n))
                    })?;
                    let (sum, n) = parts
                        .iter()
                        .fold((0.0, 0u64), |a, p| (a.0 + p.0, a.1 + p.1));
                    if n == 0 {
                        return Err(no_values());
                    }
                    sum / n as f64
                }
                ImputerStrategy::Mode => {
                    // Per-partition value counts (keyed by the bits of the value), merged.
                    let parts = df.map_partitions(|pi, _| {
                        let mut m: ahash::AHashMap<u64, u64> = ahash::AHashMap::new();
                        for v in present(&doubles(pi)?, mv) {
                            *m.entry((v + 0.0).to_bits()).or_default() += 1;
                        }
                        Ok(m)
                    })?;
                    let mut total: std::collections::BTreeMap<u64, u64> =
                        std::collections::BTreeMap::new();
                    for m in parts {
                        for (k, c) in m {
                            *total.entry(k).or_default() += c;
                        }
                    }
                    // Most frequent; ties go to the smallest value.
                    total
                        .into_iter()
                        .map(|(k, c)| (f64::from_bits(k), c))
                        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.total_cmp(&a.0)))
                        .map(|(v, _)| v)
                        .ok_or_else(no_values)?
                }
                ImputerStrategy::Median => {
                    // Spark's approxQuantile(0.5, relativeError): a mergeable quantile
                    // summary per partition, merged in partition order.
                    let parts = df.map_partitions(|pi, _| {
                        Ok(crate::stat::QuantileSummary::from_values(
                            present(&doubles(pi)?, mv),
                            p.relative_error,
                        ))
                    })?;
                    crate::stat::QuantileSummary::merge_all(parts)
                        .query(0.5)
                        .ok_or_else(no_values)?
                }
            };
            surrogates.push(s);
        }
        Ok(ImputerModel {
            uid: self.uid.clone(),
            params: p.clone(),
            surrogates,
        })
    }
}

/// The values of a Float64 array that count for a surrogate: not null, not NaN, not
/// `missingValue`. Read in place (the median alone collects them, to sort).
fn present(a: &ArrayRef, missing_value: f64) -> impl Iterator<Item = f64> + '_ {
    a.as_primitive::<Float64Type>()
        .iter()
        .flatten()
        .filter(move |v| !v.is_nan() && *v != missing_value)
}

/// A fitted [`Imputer`]: one surrogate per input column.
#[derive(Clone, Debug, PartialEq)]
pub struct ImputerModel {
    uid: String,
    params: ImputerParams,
    surrogates: Vec<f64>,
}

impl ImputerModel {
    /// A model from its surrogates.
    pub fn new(uid: impl Into<String>, params: ImputerParams, surrogates: Vec<f64>) -> Self {
        Self {
            uid: uid.into(),
            params,
            surrogates,
        }
    }
    /// The params.
    pub fn params(&self) -> &ImputerParams {
        &self.params
    }
    /// The value that replaces missing values, per input column.
    pub fn surrogates(&self) -> &[f64] {
        &self.surrogates
    }
}

impl Stage for ImputerModel {
    fn kind(&self) -> &'static str {
        "ImputerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        let inputs = p.pairs("ImputerModel")?.len();
        if self.surrogates.len() != inputs {
            return Err(Error::param(
                "ImputerModel",
                "surrogates",
                format!("{inputs} values, one per input column"),
                self.surrogates.len(),
            ));
        }
        imputer_schema(&self.params, input, "ImputerModel")
    }
}

impl Transformer for ImputerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "ImputerModel";
        let schema = self.transform_schema(df.schema())?;
        let p = &self.params;
        let mv = p.missing_value;
        let mut out = df.clone();
        for (i, (ic, oc)) in p.pairs(stage)?.into_iter().enumerate() {
            let s = self.surrogates[i];
            let col = df.column(&ic)?;
            let chunks = col
                .chunks
                .iter()
                .map(|c| {
                    let f = cast(c, &DataType::Float64)?;
                    let f = f.as_primitive::<Float64Type>();
                    // Spark: null and values equal to missingValue (NaN = NaN in Spark SQL).
                    let filled: Float64Array = f
                        .iter()
                        .map(|v| match v {
                            None => Some(s),
                            Some(v) if v == mv || (mv.is_nan() && v.is_nan()) => Some(s),
                            Some(v) => Some(v),
                        })
                        .collect();
                    Ok(cast(
                        &(std::sync::Arc::new(filled) as ArrayRef),
                        c.data_type(),
                    )?)
                })
                .collect::<Result<Vec<_>>>()?;
            let field = schema.field_with_name(&oc)?.clone();
            out = out.with_column(field, chunks)?;
        }
        Ok(out)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for ImputerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(Imputer, "org.apache.spark.ml.feature.Imputer");

/// The input columns an Imputer's data row is keyed by (Spark writes one column each).
fn surrogate_cols(p: &ImputerParams) -> Vec<String> {
    p.input_cols
        .clone()
        .or_else(|| p.input_col.clone().map(|c| vec![c]))
        .unwrap_or_default()
}

impl crate::persist::SparkPersist for ImputerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.ImputerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let inputs = surrogate_cols(&self.params);
        let cols: Vec<(Field, ArrayRef)> = inputs
            .iter()
            .zip(&self.surrogates)
            .map(|(c, s)| {
                (
                    Field::new(c, DataType::Float64, false),
                    std::sync::Arc::new(Float64Array::from(vec![*s])) as ArrayRef,
                )
            })
            .collect();
        let batch = format::one_row(cols)?;
        let fields: Vec<(&str, serde_json::Value, bool)> = inputs
            .iter()
            .map(|c| (c.as_str(), serde_json::json!("double"), false))
            .collect();
        format::write_data(dir, &batch, format::spark_schema(&fields))
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let p: ImputerParams = md.params_as(dir)?;
        let d = format::read_data(dir)?;
        let surrogates = surrogate_cols(&p)
            .iter()
            .map(|c| format::f64_value(&d, c, dir))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self::new(md.uid.clone(), p, surrogates))
    }
}

// ---- Row form (crate::row) ----

#[derive(Debug)]
struct ImputerRow {
    cols: Vec<(crate::row::NumIn, f64, crate::row::NumOut, OutCast)>,
    missing: f64,
}

/// How a filled value goes back to the input column's type (Arrow's safe cast from
/// Float64, as the batch form does).
#[derive(Clone, Copy, Debug)]
enum OutCast {
    F64,
    F32,
    /// Truncated toward zero; null outside `[lo, hi]` (and for NaN).
    Int {
        lo: f64,
        hi: f64,
    },
}

/// The range of an integer type, as the f64 bounds its values truncate into
/// (`hi` exclusive for 64-bit types: 2^63 and 2^64 are not representable as integers).
fn int_range(dt: &DataType) -> (f64, f64) {
    match dt {
        DataType::Int8 => (i8::MIN as f64, i8::MAX as f64),
        DataType::Int16 => (i16::MIN as f64, i16::MAX as f64),
        DataType::Int32 => (i32::MIN as f64, i32::MAX as f64),
        DataType::UInt8 => (0.0, u8::MAX as f64),
        DataType::UInt16 => (0.0, u16::MAX as f64),
        DataType::UInt32 => (0.0, u32::MAX as f64),
        DataType::UInt64 => (0.0, f64::from_bits(18446744073709551616f64.to_bits() - 1)),
        _ => (
            i64::MIN as f64,
            f64::from_bits(9223372036854775808f64.to_bits() - 1),
        ),
    }
}

impl crate::row::RowStage for ImputerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = "ImputerModel";
        let mut cols = Vec::new();
        for (i, (ic, oc)) in self.params.pairs(stage)?.into_iter().enumerate() {
            let dt = plan.input_type(&ic).unwrap_or(DataType::Float64);
            let input = plan.num_input(&ic)?;
            // The batch form casts the filled values back to the input's type.
            let cast = match &dt {
                DataType::Float32 | DataType::Float16 => OutCast::F32,
                dt if dt.is_integer() => {
                    let (lo, hi) = int_range(dt);
                    OutCast::Int { lo, hi }
                }
                _ => OutCast::F64,
            };
            cols.push((input, self.surrogates[i], plan.add_num(&oc), cast));
        }
        Ok(Some(Box::new(ImputerRow {
            cols,
            missing: self.params.missing_value,
        })))
    }
}

impl crate::row::RowOp for ImputerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let mv = self.missing;
        for &(input, s, out, cast) in &self.cols {
            let v = match row.num(input) {
                None => s,
                Some(v) if v == mv || (mv.is_nan() && v.is_nan()) => s,
                Some(v) => v,
            };
            let v = match cast {
                OutCast::F64 => Some(v),
                OutCast::F32 => Some(v as f32 as f64),
                OutCast::Int { lo, hi } => Some(v.trunc()).filter(|t| *t >= lo && *t <= hi),
            };
            row.set_num(out, v);
        }
        Ok(crate::row::Flow::Next)
    }
}
