//! [`VarianceThresholdSelector`] and [`VarianceThresholdSelectorModel`]: drop the features
//! whose sample variance is not above a threshold.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/VarianceThresholdSelector.scala`
//! (the transform and output attributes are `SelectorModel.transform` /
//! `SelectorModel.prepOutputField` in `ml/feature/Selector.scala`).

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema};
use serde::{Deserialize, Serialize};

use super::vector_stage::{map_rows, selected_field, DenseFn, OutLayout};
use crate::error::{Error, Result};
use crate::frame::vector::{self, Row, SparseVectorBuilder, VectorBlock};
use crate::frame::{schema, DataFrame};
use crate::param::{check_at_least, Params};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::stat::FeatureSummary;

/// Params of [`VarianceThresholdSelector`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VarianceThresholdSelectorParams {
    /// Input vector column. Default `features`.
    pub features_col: String,
    /// Output vector column; [`VarianceThresholdSelector::new`] sets Spark's `<uid>__output`.
    pub output_col: String,
    /// Features whose sample variance is not greater than this are removed; ≥ 0.
    /// Default 0.0 (remove the constant features).
    pub variance_threshold: f64,
}

impl Default for VarianceThresholdSelectorParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            output_col: String::new(),
            variance_threshold: 0.0,
        }
    }
}

impl Params for VarianceThresholdSelectorParams {
    const STAGE: &'static str = "VarianceThresholdSelector";
    fn validate(&self) -> Result<()> {
        super::vector_stage::check_in_out(Self::STAGE, &self.features_col, &self.output_col)
            .map_err(|e| match e {
                Error::InvalidParam {
                    stage,
                    param,
                    expected,
                    got,
                } if param == "inputCol" => Error::InvalidParam {
                    stage,
                    param: "featuresCol".into(),
                    expected,
                    got,
                },
                e => e,
            })?;
        check_at_least(
            Self::STAGE,
            "varianceThreshold",
            self.variance_threshold,
            0.0,
        )
    }
}

/// Removes low-variance features (Spark's
/// `org.apache.spark.ml.feature.VarianceThresholdSelector`): keeps the features whose
/// sample variance (divided by `m − 1`, Spark's `Summarizer`) is greater than
/// `varianceThreshold`. A feature whose maximum equals its minimum counts as variance 0, as
/// in Spark, so the default threshold 0 removes exactly the constant features.
///
/// `fit` makes one parallel pass (dense or sparse rows, through the one row view), merging
/// per-block summaries in a fixed order. The model keeps the selected elements in index
/// order: a sparse input column gives a sparse output column (each row keeps its stored
/// entries among the selected features, re-indexed), a dense one a dense column; the
/// selected features' attributes (names) carry over, as Spark's `SelectorModel` writes them.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{VarianceThresholdSelector, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0", "f1"])
///     .with_output_col("features").transform(&df)?;
/// let model = VarianceThresholdSelector::new().with_output_col("selected")
///     .with_variance_threshold(0.5).fit(&df)?;
/// assert!(model.selected_features().len() <= 3);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("selected").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (negative threshold), [`Error::ColumnNotFound`],
/// [`Error::ColumnType`] (a non-vector input), [`Error::ColumnExists`],
/// [`Error::InvalidValue`] naming the row of a null vector, [`Error::EmptyInput`],
/// [`Error::FeatureCount`] when the model meets vectors shorter than its selection needs.
#[derive(Clone, Debug)]
pub struct VarianceThresholdSelector {
    uid: String,
    params: VarianceThresholdSelectorParams,
}

super::columns::stage_basics!(
    VarianceThresholdSelector,
    VarianceThresholdSelectorParams,
    "VarianceThresholdSelector",
    |uid| VarianceThresholdSelectorParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
);

impl VarianceThresholdSelector {
    /// Input vector column; default `features`.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// Variance threshold; default 0.0.
    pub fn with_variance_threshold(mut self, v: f64) -> Self {
        self.params.variance_threshold = v;
        self
    }
}

impl Stage for VarianceThresholdSelector {
    fn kind(&self) -> &'static str {
        "VarianceThresholdSelector"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = VarianceThresholdSelectorParams::STAGE;
        self.params.validate()?;
        let (_, field, n) = schema::require_vector(input, stage, &self.params.features_col)?;
        // The selection is known only after fit: the output's size is unknown here
        // (Spark appends a plain VectorUDT column); all features is the upper bound.
        let all: Vec<usize> = (0..n).collect();
        let out = select_field(field, n, &all, &self.params.output_col);
        schema::append_field(input, stage, out)
    }
}

impl Estimator for VarianceThresholdSelector {
    type Model = VarianceThresholdSelectorModel;

    fn fit(&self, df: &DataFrame) -> Result<VarianceThresholdSelectorModel> {
        let stage = VarianceThresholdSelectorParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        let parts =
            super::vector_stage::summarize_blocks(stage, df, &p.features_col, n, |block, _, _| {
                Ok(match block.as_dense() {
                    Some(vals) => FeatureSummary::from_block(vals, n, None),
                    None => FeatureSummary::from_rows(
                        n,
                        (0..block.len())
                            .filter_map(|r| block.row(r))
                            .map(|x| (x, 1.0)),
                    ),
                })
            })?;
        let summary = FeatureSummary::merge_all(n, &parts);
        if summary.count == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: "fit needs at least one row to compute the variances".into(),
            });
        }
        let variance = summary.variance();
        // Spark: peak-to-peak 0 counts as variance 0 (no rounding noise for constants);
        // a NaN variance is not above the threshold.
        let selected = (0..n)
            .filter(|&j| {
                let v = if summary.max[j] == summary.min[j] {
                    0.0
                } else {
                    variance[j]
                };
                v > p.variance_threshold
            })
            .collect();
        VarianceThresholdSelectorModel::new(self.uid.clone(), p.clone(), selected)
    }
}

/// A fitted [`VarianceThresholdSelector`]: the indices of the features it keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct VarianceThresholdSelectorModel {
    uid: String,
    params: VarianceThresholdSelectorParams,
    selected: Vec<usize>,
}

impl VarianceThresholdSelectorModel {
    /// A model keeping the features `selected_features` (strictly increasing indices).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] when the indices are not strictly increasing (Spark's
    /// "Index should be strictly increasing").
    pub fn new(
        uid: impl Into<String>,
        params: VarianceThresholdSelectorParams,
        selected_features: Vec<usize>,
    ) -> Result<Self> {
        if selected_features.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::param(
                "VarianceThresholdSelectorModel",
                "selectedFeatures",
                "strictly increasing feature indices",
                format!("{selected_features:?}"),
            ));
        }
        Ok(Self {
            uid: uid.into(),
            params,
            selected: selected_features,
        })
    }
    /// The params.
    pub fn params(&self) -> &VarianceThresholdSelectorParams {
        &self.params
    }
    /// The kept feature indices, increasing.
    pub fn selected_features(&self) -> &[usize] {
        &self.selected
    }

    /// The input vector size, checked against the selection.
    fn input_size(&self, input: &Schema) -> Result<(usize, Field)> {
        let stage = "VarianceThresholdSelectorModel";
        let (_, field, n) = schema::require_vector(input, stage, &self.params.features_col)?;
        if let Some(&last) = self.selected.last() {
            if last >= n {
                return Err(Error::FeatureCount {
                    stage,
                    column: self.params.features_col.clone(),
                    expected: last + 1,
                    found: n,
                });
            }
        }
        Ok((n, field.clone()))
    }
}

/// The output field: the selected elements' attributes (Spark's
/// `SelectorModel.prepOutputField`), sparse when the input column is sparse.
fn select_field(input: &Field, n: usize, sel: &[usize], output: &str) -> Field {
    let dense = selected_field(input, n, sel, output, true);
    if vector::is_sparse_vector_type(input.data_type()) {
        let f = vector::sparse_vector_field(output, sel.len(), true);
        f.with_metadata(dense.metadata().clone())
    } else {
        dense
    }
}

impl Stage for VarianceThresholdSelectorModel {
    fn kind(&self) -> &'static str {
        "VarianceThresholdSelectorModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.params.validate()?;
        let (n, field) = self.input_size(input)?;
        let out = select_field(&field, n, &self.selected, &self.params.output_col);
        schema::append_field(input, "VarianceThresholdSelectorModel", out)
    }
}

impl Transformer for VarianceThresholdSelectorModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "VarianceThresholdSelectorModel";
        let out_schema = self.transform_schema(df.schema())?;
        let field = out_schema.field_with_name(&self.params.output_col)?.clone();
        let (n, in_field) = self.input_size(df.schema())?;
        let sel = &self.selected;
        if vector::is_sparse_vector_type(in_field.data_type()) {
            return select_sparse(df, stage, &self.params.features_col, n, sel, field);
        }
        map_rows(
            stage,
            df,
            &self.params.features_col,
            n,
            field,
            OutLayout::Dense,
            &DenseFn(|x: &[f64], out: &mut [f64]| {
                for (o, &j) in out.iter_mut().zip(sel) {
                    *o = x[j];
                }
            }),
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for VarianceThresholdSelectorModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

/// Spark's `SelectorModel.transform` on a sparse vector column: each sparse row keeps its
/// stored entries at the selected indices `sel` (increasing), re-indexed to their position
/// in `sel`; a dense row keeps the selected values, dense; nulls stay null.
pub(crate) fn select_sparse(
    df: &DataFrame,
    stage: &'static str,
    input: &str,
    n: usize,
    sel: &[usize],
    out: Field,
) -> Result<DataFrame> {
    let c = df.column(input)?;
    // Position of each input index in the selection, or -1.
    let mut pos = vec![-1i32; n];
    for (k, &j) in sel.iter().enumerate() {
        pos[j] = k as i32;
    }
    let chunks = df.map_partitions(|p, _| {
        let a = &c.chunks[p];
        let at = vector::At {
            stage,
            column: input,
            partition: p,
        };
        let block = VectorBlock::new(a.as_ref(), n, at)?;
        let mut b = SparseVectorBuilder::with_capacity(sel.len(), a.len(), block.num_active())
            .context(stage, out.name(), p);
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for r in 0..block.len() {
            match block.row(r) {
                None => b.push_null(),
                Some(Row::Sparse {
                    indices, values, ..
                }) => {
                    idx.clear();
                    val.clear();
                    for (&i, &v) in indices.iter().zip(values) {
                        let k = pos[i as usize];
                        if k >= 0 {
                            idx.push(k);
                            val.push(v);
                        }
                    }
                    b.push(&idx, &val)?;
                }
                Some(Row::Dense(x)) => {
                    val.clear();
                    val.extend(sel.iter().map(|&j| x[j]));
                    b.push_dense(&val)?;
                }
            }
        }
        b.finish()
    })?;
    df.with_column(out, chunks)
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    VarianceThresholdSelector,
    "org.apache.spark.ml.feature.VarianceThresholdSelector"
);

impl crate::persist::SparkPersist for VarianceThresholdSelectorModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.VarianceThresholdSelectorModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        use arrow::array::{Int32Array, ListArray};
        use arrow::buffer::OffsetBuffer;
        use arrow::datatypes::DataType;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        // Spark's Data(selectedFeatures: Seq[Int]).
        let item = Arc::new(Field::new("element", DataType::Int32, false));
        let vals: Vec<i32> = self.selected.iter().map(|&i| i as i32).collect();
        let list: ArrayRef = Arc::new(ListArray::try_new(
            item.clone(),
            OffsetBuffer::from_lengths([vals.len()]),
            Arc::new(Int32Array::from(vals)),
            None,
        )?);
        let batch = format::one_row(vec![(
            Field::new("selectedFeatures", DataType::List(item), true),
            list,
        )])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[(
                "selectedFeatures",
                serde_json::json!({"type": "array", "elementType": "integer", "containsNull": false}),
                true,
            )]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::Int32Type;
        let d = format::read_data(dir)?;
        let col = format::column(&d, "selectedFeatures", dir)?;
        let bad = |what: &str| Error::file(dir.join("data"), format!("corrupt model data: {what}"));
        let list = col
            .as_list_opt::<i32>()
            .ok_or_else(|| bad("selectedFeatures is not a list of integers"))?;
        if list.is_null(0) {
            return Err(bad("selectedFeatures is null"));
        }
        let v = list.value(0);
        let ints = v
            .as_primitive_opt::<Int32Type>()
            .ok_or_else(|| bad("selectedFeatures is not a list of integers"))?;
        let mut selected = Vec::with_capacity(ints.len());
        for i in ints.iter() {
            match i {
                Some(i) if i >= 0 => selected.push(i as usize),
                _ => return Err(bad("selectedFeatures holds a null or negative index")),
            }
        }
        Self::new(md.uid.clone(), md.params_as(dir)?, selected)
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for VarianceThresholdSelectorModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let input = plan.vec_input(&self.params.features_col)?;
        if let Some(&last) = self.selected.last() {
            if last >= input.len() {
                return Err(Error::FeatureCount {
                    stage: "VarianceThresholdSelectorModel",
                    column: self.params.features_col.clone(),
                    expected: last + 1,
                    found: input.len(),
                });
            }
        }
        let out = plan.add_vec(&self.params.output_col, self.selected.len());
        let sel = self.selected.clone();
        Ok(Some(Box::new(super::vector_stage::MapRow {
            stage: "VarianceThresholdSelectorModel",
            input,
            out,
            f: Box::new(move |x: &[f64], out: &mut [f64]| {
                for (o, &j) in out.iter_mut().zip(&sel) {
                    *o = x[j];
                }
            }),
        })))
    }
}
