//! [`StandardScaler`] and [`StandardScalerModel`]: standardise a vector column.

use arrow::array::Array;
use arrow::datatypes::Schema;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::stat::FeatureSummary;

/// Params of [`StandardScaler`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct StandardScalerParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column. Spark's default `<uid>__output` is set by [`StandardScaler::new`].
    pub output_col: String,
    /// Centre to mean 0. Default **false**, as in Spark.
    pub with_mean: bool,
    /// Scale to unit sample standard deviation. Default true.
    pub with_std: bool,
}

impl Default for StandardScalerParams {
    fn default() -> Self {
        Self {
            input_col: String::new(),
            output_col: String::new(),
            with_mean: false,
            with_std: true,
        }
    }
}

impl Params for StandardScalerParams {
    const STAGE: &'static str = "StandardScaler";
    fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("inputCol", &self.input_col),
            ("outputCol", &self.output_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(
                    Self::STAGE,
                    name,
                    "a non-empty column name",
                    "\"\"",
                ));
            }
        }
        Ok(())
    }
}

/// Standardises a vector column (Spark's `org.apache.spark.ml.feature.StandardScaler`).
///
/// `fit` makes one parallel pass over the input, summarising each row block's per-feature
/// mean and squared deviations and merging them in a fixed order. The model maps
/// `x` to `(x − mean) / std` (the parts enabled by `withMean` / `withStd`), with the sample
/// standard deviation (n − 1); a feature with std 0 maps to 0.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{StandardScaler, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(&["tenure", "f0"]).with_output_col("raw").transform(&df)?;
/// let model = StandardScaler::new().with_input_col("raw").with_output_col("scaled").with_mean(true).fit(&df)?;
/// let out = model.transform(&df)?;
/// assert_eq!(model.mean().len(), 2);
/// assert!(out.schema().field_with_name("scaled").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`], [`Error::ColumnType`] (input must be a vector column),
/// [`Error::ColumnExists`], [`Error::EmptyInput`] at fit, and [`Error::FeatureCount`]
/// when the model is applied to vectors of another length.
#[derive(Clone, Debug)]
pub struct StandardScaler {
    uid: String,
    params: StandardScalerParams,
}

super::columns::stage_basics!(StandardScaler, StandardScalerParams, "stdScal", |uid| {
    StandardScalerParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl StandardScaler {
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
    /// Centre to mean 0; default false.
    pub fn with_mean(mut self, v: bool) -> Self {
        self.params.with_mean = v;
        self
    }
    /// Scale to unit standard deviation; default true.
    pub fn with_std(mut self, v: bool) -> Self {
        self.params.with_std = v;
        self
    }
}

/// Whether the output is a sparse vector column: sparse input without centring.
fn sparse_output(p: &StandardScalerParams, input: &arrow::datatypes::Field) -> bool {
    vector::is_sparse_vector_type(input.data_type()) && !p.with_mean
}

fn scaler_schema(
    p: &StandardScalerParams,
    input: &Schema,
    expected: Option<usize>,
    stage: &'static str,
) -> Result<Schema> {
    p.validate()?;
    let (_, field, n) = schema::require_vector(input, stage, &p.input_col)?;
    if let Some(e) = expected {
        schema::check_vector_size(stage, &p.input_col, field, n, e)?;
    }
    // Feature names carry over to the scaled column. Sparse input stays sparse unless
    // centred (Spark: withMean builds dense output).
    let names = vector::feature_names_or_default(field);
    let out = if sparse_output(p, field) {
        vector::sparse_vector_field(&p.output_col, n, field.is_nullable())
    } else {
        vector::vector_field(&p.output_col, n, field.is_nullable())
    };
    let out = vector::like_input(field, vector::with_feature_names(out, &names));
    schema::append_field(input, stage, out)
}

impl Stage for StandardScaler {
    fn kind(&self) -> &'static str {
        "StandardScaler"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        scaler_schema(&self.params, input, None, StandardScalerParams::STAGE)
    }
}

/// Rows per summary block.
const BLOCK_ROWS: usize = 8192;

impl Estimator for StandardScaler {
    type Model = StandardScalerModel;

    fn fit(&self, df: &DataFrame) -> Result<StandardScalerModel> {
        let stage = StandardScalerParams::STAGE;
        self.transform_schema(df.schema())?;
        let (_, _, n) = schema::require_vector(df.schema(), stage, &self.params.input_col)?;
        let col = df.column(&self.params.input_col)?;
        // (chunk, first row, rows) blocks, summarised in parallel, merged in order.
        let spans = blocks(col.chunks.iter().map(|c| c.len()));
        let parts = spans
            .par_iter()
            .map(|&(ci, r0, len)| {
                let at = vector::At {
                    stage,
                    column: &self.params.input_col,
                    partition: ci,
                };
                let arr = col.chunks[ci].slice(r0, len);
                let block = vector::VectorBlock::new(arr.as_ref(), n, at)?;
                if let Some(r) = (0..len).find(|&r| block.is_null(r)) {
                    return Err(self.null_row(ci, r0 + r));
                }
                Ok(match block.as_dense() {
                    Some(vals) => FeatureSummary::from_block(vals, n, None),
                    None => FeatureSummary::from_rows(
                        n,
                        (0..len).filter_map(|r| block.row(r)).map(|x| (x, 1.0)),
                    ),
                })
            })
            .collect::<Vec<_>>();
        self.model(n, crate::frame::in_order(parts)?)
    }
}

/// `(partition, first row, rows)` blocks of [`BLOCK_ROWS`] over partitions of `lens` rows.
fn blocks(lens: impl Iterator<Item = usize>) -> Vec<(usize, usize, usize)> {
    let mut spans = Vec::new();
    for (ci, rows) in lens.enumerate() {
        let mut r = 0;
        while r < rows {
            let len = BLOCK_ROWS.min(rows - r);
            spans.push((ci, r, len));
            r += len;
        }
    }
    spans
}

impl StandardScaler {
    fn null_row(&self, partition: usize, row: usize) -> Error {
        Error::InvalidValue {
            stage: StandardScalerParams::STAGE,
            column: self.params.input_col.clone(),
            partition,
            row,
            what: "null vector".into(),
            hint: "drop such rows first (VectorAssembler with handleInvalid=skip)".into(),
        }
    }

    /// The model from the blocks' summaries, in block order.
    fn model(&self, n: usize, parts: Vec<FeatureSummary>) -> Result<StandardScalerModel> {
        let summary = FeatureSummary::merge_all(n, &parts);
        if summary.count == 0 {
            return Err(Error::EmptyInput {
                stage: StandardScalerParams::STAGE,
                hint: "fit needs at least one row".into(),
            });
        }
        Ok(StandardScalerModel {
            uid: self.uid.clone(),
            params: self.params.clone(),
            mean: summary.mean(),
            std: summary.std(),
        })
    }

    /// Whether [`fit_view`](Self::fit_view) reads `view` in place.
    pub(crate) fn reads_view(&self, view: &crate::pipeline::view::FitView<'_>) -> Result<bool> {
        let schema = view.schema()?;
        let stage = StandardScalerParams::STAGE;
        let (_, _, n) = schema::require_vector(&schema, stage, &self.params.input_col)?;
        Ok(view
            .vector_parts(stage, &self.params.input_col, n)?
            .is_some())
    }

    /// Fits on a [`FitView`](crate::pipeline::view::FitView) (a fold's rows read in
    /// place): the blocks the materialised view would give, so the same model. `None`
    /// when the view must be materialised first (sparse rows).
    pub(crate) fn fit_view(
        &self,
        view: &crate::pipeline::view::FitView<'_>,
    ) -> Result<Option<StandardScalerModel>> {
        let stage = StandardScalerParams::STAGE;
        let schema = view.schema()?;
        self.transform_schema(&schema)?;
        let (_, _, n) = schema::require_vector(&schema, stage, &self.params.input_col)?;
        let Some(parts) = view.vector_parts(stage, &self.params.input_col, n)? else {
            return Ok(None);
        };
        let spans = blocks(parts.iter().map(|p| p.len()));
        let sums = spans
            .par_iter()
            .map(|&(pi, r0, len)| {
                let part = &parts[pi];
                if let Some(r) = (r0..r0 + len).find(|&r| part.is_null(r)) {
                    return Err(self.null_row(pi, part.source_row(r)));
                }
                Ok(FeatureSummary::from_block(&part.gather(r0, len), n, None))
            })
            .collect::<Vec<_>>();
        self.model(n, crate::frame::in_order(sums)?).map(Some)
    }
}

/// A fitted [`StandardScaler`]: the per-feature mean and sample standard deviation.
#[derive(Clone, Debug, PartialEq)]
pub struct StandardScalerModel {
    uid: String,
    params: StandardScalerParams,
    mean: Vec<f64>,
    std: Vec<f64>,
}

impl StandardScalerModel {
    /// A model from its fitted values.
    pub fn new(
        uid: impl Into<String>,
        params: StandardScalerParams,
        mean: Vec<f64>,
        std: Vec<f64>,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            mean,
            std,
        }
    }
    /// The params.
    pub fn params(&self) -> &StandardScalerParams {
        &self.params
    }
    /// Per-feature mean.
    pub fn mean(&self) -> &[f64] {
        &self.mean
    }
    /// Per-feature sample standard deviation.
    pub fn std(&self) -> &[f64] {
        &self.std
    }

    /// The map the model applies to a dense row: shift by the mean when `withMean`, scale
    /// by `1/std` (0 where std is 0) when `withStd`.
    pub(crate) fn map(&self) -> vector::AffineMap {
        let n = self.mean.len();
        vector::AffineMap {
            shift: if self.params.with_mean {
                self.mean.clone()
            } else {
                vec![0.0; n]
            },
            scale: if self.params.with_std {
                self.std
                    .iter()
                    .map(|s| if *s != 0.0 { 1.0 / s } else { 0.0 })
                    .collect()
            } else {
                vec![1.0; n]
            },
        }
    }
}

impl Stage for StandardScalerModel {
    fn kind(&self) -> &'static str {
        "StandardScalerModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        if self.std.len() != self.mean.len() {
            return Err(Error::param(
                "StandardScalerModel",
                "std",
                format!("{} values, one per mean", self.mean.len()),
                self.std.len(),
            ));
        }
        scaler_schema(
            &self.params,
            input,
            Some(self.mean.len()),
            "StandardScalerModel",
        )
    }
}

impl Transformer for StandardScalerModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = self.transform_schema(df.schema())?;
        let field = out_schema.field_with_name(&self.params.output_col)?.clone();
        let n = self.mean.len();
        let map = self.map();
        let stage = "StandardScalerModel";
        let (_, in_field) = schema::require_column(df.schema(), stage, &self.params.input_col)?;
        if sparse_output(&self.params, in_field) {
            // Spark keeps a sparse vector's structure: each stored value times 1/std.
            return vector::map_stored_values(
                df,
                stage,
                &self.params.input_col,
                n,
                field,
                |j, x| map.value(j, x),
            );
        }
        // SAFETY: rows have n values (map_vectors checks), as do the model's
        // per-feature vectors, so the zip writes every output value.
        unsafe {
            vector::map_vectors(df, stage, &self.params.input_col, n, field, |x, out| {
                for (((o, x), s), k) in out.iter_mut().zip(x).zip(&map.shift).zip(&map.scale) {
                    o.write((x - s) * k);
                }
            })
        }
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for StandardScalerModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(StandardScaler, "org.apache.spark.ml.feature.StandardScaler");

impl crate::persist::SparkPersist for StandardScalerModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.StandardScalerModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        format::write_vectors(dir, &[("std", &self.std), ("mean", &self.mean)])
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let std = format::dense_vector(&d, "std", dir)?;
        let mean = format::dense_vector(&d, "mean", dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, mean, std))
    }
}

// ---- Row form (crate::row) ----

#[derive(Debug)]
struct StandardScalerRow {
    input: crate::row::VecSlot,
    out: crate::row::VecSlot,
    map: vector::AffineMap,
}

impl crate::row::RowStage for StandardScalerModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let n = self.mean.len();
        let input = plan.vec_input(&self.params.input_col)?;
        let out = plan.add_vec(&self.params.output_col, n);
        // The batch transform's per-feature shift and scale.
        Ok(Some(Box::new(StandardScalerRow {
            input,
            out,
            map: self.map(),
        })))
    }
}

impl crate::row::RowOp for StandardScalerRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (x, out) = row.vec_pair(self.input, self.out);
        self.map.apply(x, out);
        Ok(crate::row::Flow::Next)
    }
}
