//! [`VarianceThresholdSelector`] and [`VarianceThresholdSelectorModel`]: drop the features
//! whose sample variance is not above a threshold.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/VarianceThresholdSelector.scala`
//! (the transform and output attributes are `SelectorModel.transform` /
//! `SelectorModel.prepOutputField` in `ml/feature/Selector.scala`).

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::selector::{self, Defaults};
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::{check_at_least, Params};
use crate::pipeline::{stage_params, Estimator, Stage};
use crate::stat::input::{map_chunks, read_parts};
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
        let out =
            selector::output_field(field, n, &all, &self.params.output_col, Defaults::Numeric);
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
        let (_, parts) = read_parts(df, stage, &p.features_col, None, None)?;
        // One pass over fixed-size chunks, merged in order (the same on any thread count).
        let chunks = map_chunks(&parts, |part, first, rows| {
            Ok(match part.block.as_dense() {
                Some(v) => FeatureSummary::from_block(&v[first * n..(first + rows) * n], n, None),
                None => FeatureSummary::from_rows(
                    n,
                    (first..first + rows)
                        .filter_map(|r| part.block.row(r))
                        .map(|x| (x, 1.0)),
                ),
            })
        })?;
        let summary = FeatureSummary::merge_all(n, &chunks);
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
}

selector::selector_model!(VarianceThresholdSelectorModel, selected, Defaults::Numeric);

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    VarianceThresholdSelector,
    "org.apache.spark.ml.feature.VarianceThresholdSelector"
);

impl crate::persist::SparkPersist for VarianceThresholdSelectorModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.VarianceThresholdSelectorModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        selector::write_selected(dir, &self.selected)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        let selected = selector::read_selected(dir)?;
        Self::new(md.uid.clone(), md.params_as(dir)?, selected)
    }
}
