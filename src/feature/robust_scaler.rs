//! [`RobustScaler`] and [`RobustScalerModel`]: centre by the median and scale by a
//! quantile range.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/RobustScaler.scala`
//! (quantiles from `sql/catalyst/.../util/QuantileSummaries.scala`, see [`QuantileSummary`]).

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::vector_stage::{check_in_out, input_size, map_rows, OutLayout, VectorMap};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_in_range, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::stat::{QuantileSummary, Sketch};
use rayon::prelude::*;

/// Rows per block of the fit's gather: 1,024 rows of 20 doubles (160 KB) stay in cache
/// while each feature of a group takes its values from them.
const GATHER_ROWS: usize = 1024;

/// Params of [`RobustScaler`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct RobustScalerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column; [`RobustScaler::new`] sets Spark's `<uid>__output`.
    pub output_col: String,
    /// Lower quantile of the range, in (0, 1). Default 0.25.
    pub lower: f64,
    /// Upper quantile of the range, in (0, 1), above `lower`. Default 0.75.
    pub upper: f64,
    /// Subtract the median. Default false.
    pub with_centering: bool,
    /// Divide by the quantile range. Default true.
    pub with_scaling: bool,
    /// The quantiles' rank error as a fraction of the row count, in `[0, 1]`. Default 0.001.
    pub relative_error: f64,
}

impl Default for RobustScalerParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            lower: 0.25,
            upper: 0.75,
            with_centering: false,
            with_scaling: true,
            relative_error: 0.001,
        }
    }
}

impl Params for RobustScalerParams {
    const STAGE: &'static str = "RobustScaler";
    fn validate(&self) -> Result<()> {
        let stage = Self::STAGE;
        check_in_out(stage, &self.input_col, &self.output_col)?;
        for (name, v) in [("lower", self.lower), ("upper", self.upper)] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::param(stage, name, "in (0, 1)", v));
            }
        }
        if self.lower >= self.upper {
            return Err(Error::param(
                stage,
                "lower",
                format!("below upper ({})", self.upper),
                self.lower,
            ));
        }
        check_in_range(stage, "relativeError", self.relative_error, 0.0, 1.0)
    }
}

/// Scales a vector column by statistics that outliers barely move (Spark's
/// `org.apache.spark.ml.feature.RobustScaler`): each feature's median and its range
/// between the `lower` and `upper` quantiles (the interquartile range by default).
///
/// `fit` makes one parallel pass: each partition builds one Spark quantile summary per
/// feature (NaN left out), and the summaries merge in partition order, so on Spark's
/// partitions the medians and ranges are Spark's. The model maps `x` to
/// `(x − median) / range` (the parts enabled by `withCentering` / `withScaling`); a
/// feature with range 0 maps to 0 when scaling. The output keeps the input's feature names.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{RobustScaler, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("raw").transform(&df)?;
/// let model = RobustScaler::new().with_input_col("raw").with_output_col("scaled")
///     .with_centering(true).fit(&df)?;
/// assert_eq!(model.median().len(), 2);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("scaled").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (quantiles outside (0, 1) or `lower >= upper`),
/// [`Error::ColumnNotFound`], [`Error::ColumnType`] (a non-vector input),
/// [`Error::ColumnExists`], [`Error::EmptyInput`] when a feature has no non-NaN value,
/// [`Error::FeatureCount`] when the model meets vectors of another length.
#[derive(Clone, Debug)]
pub struct RobustScaler {
    uid: String,
    params: RobustScalerParams,
}

super::columns::stage_basics!(RobustScaler, RobustScalerParams, "robustScal", |uid| {
    RobustScalerParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl RobustScaler {
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
    /// Lower quantile of the range; default 0.25.
    pub fn with_lower(mut self, v: f64) -> Self {
        self.params.lower = v;
        self
    }
    /// Upper quantile of the range; default 0.75.
    pub fn with_upper(mut self, v: f64) -> Self {
        self.params.upper = v;
        self
    }
    /// Subtract the median; default false.
    pub fn with_centering(mut self, v: bool) -> Self {
        self.params.with_centering = v;
        self
    }
    /// Divide by the quantile range; default true.
    pub fn with_scaling(mut self, v: bool) -> Self {
        self.params.with_scaling = v;
        self
    }
    /// Rank error of the quantiles; default 0.001.
    pub fn with_relative_error(mut self, v: f64) -> Self {
        self.params.relative_error = v;
        self
    }
}

fn robust_schema(
    p: &RobustScalerParams,
    input: &Schema,
    expected: Option<usize>,
    stage: &'static str,
) -> Result<Schema> {
    p.validate()?;
    let n = input_size(input, stage, &p.input_col, expected)?;
    let field = input.field_with_name(&p.input_col)?;
    let names = vector::feature_names_or_default(field);
    let out = vector::with_feature_names(vector::vector_field(&p.output_col, n, true), &names);
    let out = robust_layout(p).field(out, field.data_type());
    schema::append_field(input, stage, vector::like_input(field, out))
}

/// Spark's `StandardScalerModel.getTransformFunc`, which RobustScalerModel uses: a
/// centring transform densifies every row; scaling alone (or nothing) keeps each row's
/// layout.
fn robust_layout(p: &RobustScalerParams) -> OutLayout {
    if p.with_centering {
        OutLayout::Dense
    } else {
        OutLayout::Keep
    }
}

impl Stage for RobustScaler {
    fn kind(&self) -> &'static str {
        "RobustScaler"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        robust_schema(&self.params, input, None, RobustScalerParams::STAGE)
    }
}

impl Estimator for RobustScaler {
    type Model = RobustScalerModel;

    fn fit(&self, df: &DataFrame) -> Result<RobustScalerModel> {
        let stage = RobustScalerParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (ci, _, n) = schema::require_vector(df.schema(), stage, &p.input_col)?;
        // One pass: per partition, one summary per feature (Spark's path for up to 1000
        // features; empty partitions give nothing).
        let parts = df.map_partitions(|pi, b| {
            // Dense or sparse input through the one row view (sparse densified per
            // partition: Spark's summaries see every value, zeros included).
            let at = vector::At {
                stage,
                column: &p.input_col,
                partition: pi,
            };
            let arr = vector::VectorBlock::new(b.column(ci).as_ref(), n, at)?;
            if arr.is_empty() {
                return Ok(None);
            }
            if let Some(r) = (0..arr.len()).find(|&r| arr.is_null(r)) {
                return Err(Error::InvalidValue {
                    stage,
                    column: p.input_col.clone(),
                    partition: pi,
                    row: r,
                    what: "null vector".into(),
                    hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
                });
            }
            let owned;
            let vals: &[f64] = match arr.as_dense() {
                Some(v) => v,
                None => {
                    owned = arr.to_dense();
                    &owned
                }
            };
            // Each feature's values (NaN left out, row order kept) summarised, the features
            // split into one group per thread: a group's task walks the rows in blocks
            // small enough to stay in cache and hands each of its features its values
            // (no transposed copy of the partition). A feature's summary is the same
            // whatever the grouping.
            let rows = vals.len() / n;
            let per = n.div_ceil(rayon::current_num_threads().clamp(1, n));
            let sums: Vec<QuantileSummary> = (0..n)
                .step_by(per)
                .collect::<Vec<usize>>()
                .into_par_iter()
                .flat_map_iter(|j0| {
                    let js = j0..(j0 + per).min(n);
                    let mut sketches: Vec<Sketch> =
                        js.clone().map(|_| Sketch::new(p.relative_error)).collect();
                    for block in vals[..rows * n].chunks(GATHER_ROWS * n) {
                        for (sk, j) in sketches.iter_mut().zip(js.clone()) {
                            for row in block.chunks_exact(n) {
                                let x = row[j];
                                if !x.is_nan() {
                                    sk.push(x);
                                }
                            }
                        }
                    }
                    sketches.into_iter().map(Sketch::finish)
                })
                .collect();
            Ok(Some(sums))
        })?;
        let mut per_feature: Vec<Vec<QuantileSummary>> = vec![Vec::new(); n];
        for part in parts.into_iter().flatten() {
            for (m, s) in per_feature.iter_mut().zip(part) {
                m.push(s);
            }
        }
        // Each feature's summaries merged in partition order, the features in parallel.
        let merged: Vec<Option<QuantileSummary>> = per_feature
            .into_par_iter()
            .map(|parts| parts.into_iter().reduce(|acc, s| acc.merge(s)))
            .collect();
        let (mut range, mut median) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (j, s) in merged.into_iter().enumerate() {
            let q = s
                // Three single queries, as Spark asks them (a multi-quantile walk may
                // stop at other samples).
                .and_then(|s| Some([s.query(p.lower)?, s.query(p.upper)?, s.query(0.5)?]))
                .ok_or_else(|| Error::EmptyInput {
                    stage,
                    hint: format!(
                        "feature {j} of column `{}` has no value that is not NaN; quantiles need at least one",
                        p.input_col
                    ),
                })?;
            range.push(q[1] - q[0]);
            median.push(q[2]);
        }
        Ok(RobustScalerModel::new(
            self.uid.clone(),
            p.clone(),
            range,
            median,
        ))
    }
}

/// A fitted [`RobustScaler`]: each feature's quantile range and median.
#[derive(Clone, Debug, PartialEq)]
pub struct RobustScalerModel {
    uid: String,
    params: RobustScalerParams,
    range: Vec<f64>,
    median: Vec<f64>,
}

impl RobustScalerModel {
    /// A model from its fitted values.
    pub fn new(
        uid: impl Into<String>,
        params: RobustScalerParams,
        range: Vec<f64>,
        median: Vec<f64>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            range,
            median,
        }
    }
    /// The params.
    pub fn params(&self) -> &RobustScalerParams {
        &self.params
    }
    /// Per-feature quantile range (`upper` quantile − `lower` quantile).
    pub fn range(&self) -> &[f64] {
        &self.range
    }
    /// Per-feature median.
    pub fn median(&self) -> &[f64] {
        &self.median
    }
}

impl Stage for RobustScalerModel {
    fn kind(&self) -> &'static str {
        "RobustScalerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        if self.range.len() != self.median.len() {
            return Err(Error::param(
                "RobustScalerModel",
                "range",
                format!("{} values, one per median", self.median.len()),
                self.range.len(),
            ));
        }
        robust_schema(
            &self.params,
            input,
            Some(self.median.len()),
            "RobustScalerModel",
        )
    }
}

impl Transformer for RobustScalerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = self.transform_schema(df.schema())?;
        let field = out_schema.field_with_name(&self.params.output_col)?.clone();
        let n = self.median.len();
        let shift: Vec<f64> = if self.params.with_centering {
            self.median.clone()
        } else {
            vec![0.0; n]
        };
        let scale: Vec<f64> = if self.params.with_scaling {
            self.range
                .iter()
                .map(|v| if *v == 0.0 { 0.0 } else { 1.0 / v })
                .collect()
        } else {
            vec![1.0; n]
        };
        let k = RobustKernel {
            centre: self.params.with_centering,
            scaled: self.params.with_scaling,
            shift,
            scale,
        };
        map_rows(
            "RobustScalerModel",
            df,
            &self.params.input_col,
            n,
            field,
            robust_layout(&self.params),
            &k,
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

/// RobustScalerModel's row maps: Spark's `StandardScalerModel.getTransformFunc`,
/// operation for operation.
struct RobustKernel {
    centre: bool,
    scaled: bool,
    shift: Vec<f64>,
    scale: Vec<f64>,
}

impl VectorMap for RobustKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        let (shift, scale) = (&self.shift, &self.scale);
        match (self.centre, self.scaled) {
            (true, true) => {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = (x[j] - shift[j]) * scale[j];
                }
            }
            (true, false) => {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = x[j] - shift[j];
                }
            }
            (false, true) => {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = x[j] * scale[j];
                }
            }
            (false, false) => out.copy_from_slice(x),
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
        if self.centre {
            return false;
        }
        oi.extend_from_slice(indices);
        if self.scaled {
            ov.extend(
                indices
                    .iter()
                    .zip(values)
                    .map(|(i, v)| v * self.scale[*i as usize]),
            );
        } else {
            ov.extend_from_slice(values);
        }
        true
    }
}

impl Model for RobustScalerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(RobustScaler, "org.apache.spark.ml.feature.RobustScaler");

impl crate::persist::SparkPersist for RobustScalerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.RobustScalerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        format::write_vectors(dir, &[("range", &self.range), ("median", &self.median)])
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let range = format::dense_vector(&d, "range", dir)?;
        let median = format::dense_vector(&d, "median", dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, range, median))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for RobustScalerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let n = self.median.len();
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, n);
        let shift: Vec<f64> = if self.params.with_centering {
            self.median.clone()
        } else {
            vec![0.0; n]
        };
        let scale: Vec<f64> = if self.params.with_scaling {
            self.range
                .iter()
                .map(|v| if *v == 0.0 { 0.0 } else { 1.0 / v })
                .collect()
        } else {
            vec![1.0; n]
        };
        let (centre, scaled) = (self.params.with_centering, self.params.with_scaling);
        Ok(Some(Box::new(super::vector_stage::MapRow {
            stage: "RobustScalerModel",
            input,
            out,
            // The batch form's arithmetic (Spark's StandardScalerModel.getTransformFunc).
            f: Box::new(move |x, out| {
                for (j, o) in out.iter_mut().enumerate() {
                    *o = match (centre, scaled) {
                        (true, true) => (x[j] - shift[j]) * scale[j],
                        (true, false) => x[j] - shift[j],
                        (false, true) => x[j] * scale[j],
                        (false, false) => x[j],
                    };
                }
            }),
        })))
    }
}
