//! [`MinMaxScaler`] and [`MaxAbsScaler`] with their models.

use arrow::array::Array;
use arrow::datatypes::Schema;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::stat::FeatureSummary;

/// Params of [`MinMaxScaler`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MinMaxScalerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column (Spark's default `<uid>__output`).
    pub output_col: String,
    /// Lower bound of the output range. Default 0.
    pub min: f64,
    /// Upper bound of the output range. Default 1.
    pub max: f64,
}

impl Default for MinMaxScalerParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            min: 0.0,
            max: 1.0,
        }
    }
}

impl Params for MinMaxScalerParams {
    const STAGE: &'static str = "MinMaxScaler";
    fn validate(&self) -> Result<()> {
        if self.min.is_nan() || self.max.is_nan() || self.min >= self.max {
            return Err(Error::param(
                Self::STAGE,
                "min",
                format!("smaller than max ({})", self.max),
                self.min,
            ));
        }
        check_cols(Self::STAGE, &self.input_col, &self.output_col)
    }
}

/// Params of [`MaxAbsScaler`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct MaxAbsScalerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column (Spark's default `<uid>__output`).
    pub output_col: String,
}

impl Params for MaxAbsScalerParams {
    const STAGE: &'static str = "MaxAbsScaler";
    fn validate(&self) -> Result<()> {
        check_cols(Self::STAGE, &self.input_col, &self.output_col)
    }
}

fn check_cols(stage: &'static str, i: &str, o: &str) -> Result<()> {
    for (n, v) in [("inputCol", i), ("outputCol", o)] {
        if v.is_empty() {
            return Err(Error::param(stage, n, "a non-empty column name", "\"\""));
        }
    }
    Ok(())
}

fn vector_schema(
    input: &Schema,
    stage: &'static str,
    ic: &str,
    oc: &str,
    expected: Option<usize>,
) -> Result<Schema> {
    let (_, f, n) = schema::require_vector(input, stage, ic)?;
    if let Some(e) = expected {
        schema::check_vector_size(stage, ic, f, n, e)?;
    }
    let names = vector::feature_names_or_default(f);
    // Sparse input gives a sparse output column (Spark's scalers keep or compress it).
    let out = if vector::is_sparse_vector_type(f.data_type()) {
        vector::sparse_vector_field(oc, n, f.is_nullable())
    } else {
        vector::vector_field(oc, n, f.is_nullable())
    };
    let out = vector::like_input(f, vector::with_feature_names(out, &names));
    schema::append_field(input, stage, out)
}

/// Per-feature min and max over all rows (one parallel pass; NaN values are ignored).
fn summarize(df: &DataFrame, stage: &'static str, col: &str) -> Result<FeatureSummary> {
    let (_, _, n) = schema::require_vector(df.schema(), stage, col)?;
    let c = df.column(col)?;
    let parts = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(p, a)| {
            let at = vector::At {
                stage,
                column: col,
                partition: p,
            };
            let block = vector::VectorBlock::new(a.as_ref(), n, at)?;
            let Some(vals) = block.as_dense() else {
                // Sparse rows: only the stored values are read; null rows are skipped.
                return Ok(FeatureSummary::from_rows(
                    n,
                    (0..block.len())
                        .filter_map(|r| block.row(r))
                        .map(|x| (x, 1.0)),
                ));
            };
            // Null rows weigh 0, so they are skipped without copying the other rows.
            let mask: Option<Vec<f64>> = (a.null_count() > 0).then(|| {
                (0..a.len())
                    .map(|r| if a.is_valid(r) { 1.0 } else { 0.0 })
                    .collect()
            });
            Ok(FeatureSummary::from_block(vals, n, mask.as_deref()))
        })
        .collect::<Vec<_>>();
    let parts = crate::frame::in_order(parts)?;
    let s = FeatureSummary::merge_all(n, &parts);
    if s.count == 0 {
        return Err(Error::EmptyInput {
            stage,
            hint: "fit needs at least one row".into(),
        });
    }
    Ok(s)
}

macro_rules! scaler_common {
    ($est:ident, $params:ident, $prefix:literal) => {
        super::columns::stage_basics!($est, $params, $prefix, |uid| $params {
            output_col: format!("{uid}__output"),
            ..Default::default()
        });

        impl $est {
            /// Input vector column.
            pub fn with_input_col(mut self, c: &str) -> Self {
                self.params.input_col = c.into();
                self
            }
            /// Output vector column.
            pub fn with_output_col(mut self, c: &str) -> Self {
                self.params.output_col = c.into();
                self
            }
        }
    };
}

/// Rescales each feature to `[min, max]` (Spark's `org.apache.spark.ml.feature.MinMaxScaler`): a
/// constant feature maps to `(min + max) / 2`, NaN stays NaN.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{MinMaxScaler, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(&["tenure"]).with_output_col("v").transform(&df)?;
/// let m = MinMaxScaler::new().with_input_col("v").with_output_col("s").fit(&df)?;
/// assert_eq!(m.original_min(), &[0.0]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MinMaxScaler {
    uid: String,
    params: MinMaxScalerParams,
}
scaler_common!(MinMaxScaler, MinMaxScalerParams, "minMaxScal");

impl MinMaxScaler {
    /// Output range lower bound; default 0.
    pub fn with_min(mut self, v: f64) -> Self {
        self.params.min = v;
        self
    }
    /// Output range upper bound; default 1.
    pub fn with_max(mut self, v: f64) -> Self {
        self.params.max = v;
        self
    }
}

impl Stage for MinMaxScaler {
    fn kind(&self) -> &'static str {
        "MinMaxScaler"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        vector_schema(
            input,
            MinMaxScalerParams::STAGE,
            &self.params.input_col,
            &self.params.output_col,
            None,
        )
    }
}

impl Estimator for MinMaxScaler {
    type Model = MinMaxScalerModel;
    fn fit(&self, df: &DataFrame) -> Result<MinMaxScalerModel> {
        self.transform_schema(df.schema())?;
        let s = summarize(df, MinMaxScalerParams::STAGE, &self.params.input_col)?;
        Ok(MinMaxScalerModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            original_min: s.min,
            original_max: s.max,
        })
    }
}

/// A fitted [`MinMaxScaler`].
#[derive(Clone, Debug, PartialEq)]
pub struct MinMaxScalerModel {
    uid: String,
    params: MinMaxScalerParams,
    original_min: Vec<f64>,
    original_max: Vec<f64>,
}

impl MinMaxScalerModel {
    /// A model from its fitted values.
    pub fn new(
        uid: impl Into<String>,
        params: MinMaxScalerParams,
        original_min: Vec<f64>,
        original_max: Vec<f64>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            original_min,
            original_max,
        }
    }
    /// Per-feature minimum seen at fit.
    pub fn original_min(&self) -> &[f64] {
        &self.original_min
    }
    /// Per-feature maximum seen at fit.
    pub fn original_max(&self) -> &[f64] {
        &self.original_max
    }
}

impl Stage for MinMaxScalerModel {
    fn kind(&self) -> &'static str {
        "MinMaxScalerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        if self.original_max.len() != self.original_min.len() {
            return Err(Error::param(
                "MinMaxScalerModel",
                "originalMax",
                format!("{} values, one per originalMin", self.original_min.len()),
                self.original_max.len(),
            ));
        }
        self.params.validate()?;
        vector_schema(
            input,
            "MinMaxScalerModel",
            &self.params.input_col,
            &self.params.output_col,
            Some(self.original_min.len()),
        )
    }
}

impl Transformer for MinMaxScalerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let schema = self.transform_schema(df.schema())?;
        let (lo, hi) = (self.params.min, self.params.max);
        let field = schema.field_with_name(&self.params.output_col)?.clone();
        let scale = |j: usize, x: f64| {
            let range = self.original_max[j] - self.original_min[j];
            if x.is_nan() {
                x
            } else if range != 0.0 {
                (x - self.original_min[j]) / range * (hi - lo) + lo
            } else {
                0.5 * (hi + lo)
            }
        };
        let (stage, n) = ("MinMaxScalerModel", self.original_min.len());
        if vector::is_sparse_vector_type(field.data_type()) {
            // Sparse input: each output row stored as Spark compresses it.
            return vector::map_rows_compressed(
                df,
                stage,
                &self.params.input_col,
                n,
                field,
                |x, out| {
                    x.write_dense(out);
                    for (j, o) in out.iter_mut().enumerate() {
                        *o = scale(j, *o);
                    }
                },
            );
        }
        // SAFETY: rows have that many values (map_vectors checks), as do the model's
        // per-feature vectors, so the zip writes every output value.
        unsafe {
            vector::map_vectors(df, stage, &self.params.input_col, n, field, |row, out| {
                for (j, (o, &x)) in out.iter_mut().zip(row).enumerate() {
                    o.write(scale(j, x));
                }
            })
        }
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for MinMaxScalerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

/// Scales each feature by its maximum absolute value, into `[-1, 1]` (Spark's
/// `MaxAbsScaler`); a feature whose values are all 0 stays 0.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{MaxAbsScaler, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(&["f1"]).with_output_col("v").transform(&df)?;
/// let m = MaxAbsScaler::new().with_input_col("v").with_output_col("s").fit(&df)?;
/// assert!(m.max_abs()[0] > 0.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct MaxAbsScaler {
    uid: String,
    params: MaxAbsScalerParams,
}
scaler_common!(MaxAbsScaler, MaxAbsScalerParams, "maxAbsScal");

impl Stage for MaxAbsScaler {
    fn kind(&self) -> &'static str {
        "MaxAbsScaler"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        vector_schema(
            input,
            MaxAbsScalerParams::STAGE,
            &self.params.input_col,
            &self.params.output_col,
            None,
        )
    }
}

impl Estimator for MaxAbsScaler {
    type Model = MaxAbsScalerModel;
    fn fit(&self, df: &DataFrame) -> Result<MaxAbsScalerModel> {
        self.transform_schema(df.schema())?;
        let s = summarize(df, MaxAbsScalerParams::STAGE, &self.params.input_col)?;
        let max_abs = s
            .min
            .iter()
            .zip(&s.max)
            .map(|(a, b)| a.abs().max(b.abs()))
            .collect();
        Ok(MaxAbsScalerModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            max_abs,
        })
    }
}

/// A fitted [`MaxAbsScaler`].
#[derive(Clone, Debug, PartialEq)]
pub struct MaxAbsScalerModel {
    uid: String,
    params: MaxAbsScalerParams,
    max_abs: Vec<f64>,
}

impl MaxAbsScalerModel {
    /// A model from its fitted values.
    pub fn new(uid: impl Into<String>, params: MaxAbsScalerParams, max_abs: Vec<f64>) -> Self {
        Self {
            uid: uid.into(),
            params,
            max_abs,
        }
    }
    /// Per-feature maximum absolute value.
    pub fn max_abs(&self) -> &[f64] {
        &self.max_abs
    }
}

impl Stage for MaxAbsScalerModel {
    fn kind(&self) -> &'static str {
        "MaxAbsScalerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        vector_schema(
            input,
            "MaxAbsScalerModel",
            &self.params.input_col,
            &self.params.output_col,
            Some(self.max_abs.len()),
        )
    }
}

impl Transformer for MaxAbsScalerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let schema = self.transform_schema(df.schema())?;
        let field = schema.field_with_name(&self.params.output_col)?.clone();
        let scale: Vec<f64> = self
            .max_abs
            .iter()
            .map(|m| if *m != 0.0 { 1.0 / m } else { 0.0 })
            .collect();
        let stage = "MaxAbsScalerModel";
        if field.data_type() == &vector::sparse_vector_type() {
            // Spark keeps a sparse vector's structure: each stored value times 1/maxAbs.
            return vector::map_stored_values(
                df,
                stage,
                &self.params.input_col,
                scale.len(),
                field,
                |j, x| x * scale[j],
            );
        }
        // SAFETY: rows have that many values (map_vectors checks), as do the model's
        // per-feature vectors, so the zip writes every output value.
        unsafe {
            vector::map_vectors(
                df,
                stage,
                &self.params.input_col,
                scale.len(),
                field,
                |row, out| {
                    for ((o, x), k) in out.iter_mut().zip(row).zip(&scale) {
                        o.write(x * k);
                    }
                },
            )
        }
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for MaxAbsScalerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(MinMaxScaler, "org.apache.spark.ml.feature.MinMaxScaler");
crate::persist::spark_params_only!(MaxAbsScaler, "org.apache.spark.ml.feature.MaxAbsScaler");

impl crate::persist::SparkPersist for MinMaxScalerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.MinMaxScalerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        format::write_vectors(
            dir,
            &[
                ("originalMin", &self.original_min),
                ("originalMax", &self.original_max),
            ],
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let lo = format::dense_vector(&d, "originalMin", dir)?;
        let hi = format::dense_vector(&d, "originalMax", dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, lo, hi))
    }
}

impl crate::persist::SparkPersist for MaxAbsScalerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.MaxAbsScalerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        format::write_vectors(dir, &[("maxAbs", &self.max_abs)])
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let max_abs = format::dense_vector(&d, "maxAbs", dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, max_abs))
    }
}

// ---- Row forms (crate::row) ----

#[derive(Debug)]
struct MinMaxScalerRow {
    input: crate::row::VecSlot,
    out: crate::row::VecSlot,
    model: MinMaxScalerModel,
}

impl crate::row::RowStage for MinMaxScalerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, self.original_min.len());
        Ok(Some(Box::new(MinMaxScalerRow {
            input,
            out,
            model: self.clone(),
        })))
    }
}

impl crate::row::RowOp for MinMaxScalerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let m = &self.model;
        let (lo, hi) = (m.params.min, m.params.max);
        let (x, out) = row.vec_pair(self.input, self.out);
        for (j, (o, &x)) in out.iter_mut().zip(x).enumerate() {
            let range = m.original_max[j] - m.original_min[j];
            *o = if x.is_nan() {
                x
            } else if range != 0.0 {
                (x - m.original_min[j]) / range * (hi - lo) + lo
            } else {
                0.5 * (hi + lo)
            };
        }
        Ok(crate::row::Flow::Next)
    }
}

#[derive(Debug)]
struct MaxAbsScalerRow {
    input: crate::row::VecSlot,
    out: crate::row::VecSlot,
    scale: Vec<f64>,
}

impl crate::row::RowStage for MaxAbsScalerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, self.max_abs.len());
        let scale = self
            .max_abs
            .iter()
            .map(|m| if *m != 0.0 { 1.0 / m } else { 0.0 })
            .collect();
        Ok(Some(Box::new(MaxAbsScalerRow { input, out, scale })))
    }
}

impl crate::row::RowOp for MaxAbsScalerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (x, out) = row.vec_pair(self.input, self.out);
        for ((o, x), k) in out.iter_mut().zip(x).zip(&self.scale) {
            *o = x * k;
        }
        Ok(crate::row::Flow::Next)
    }
}
