//! [`ChiSqSelector`] and [`ChiSqSelectorModel`]: keep the categorical features most
//! dependent on a categorical label by Pearson's χ² test.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/ChiSqSelector.scala`
//! (and `Selector.scala`, whose shared parts are in this crate's `feature::selector`).

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::selector;
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::{check_in_range, Params};
use crate::pipeline::{stage_params, Estimator, Stage};

/// Params of [`ChiSqSelector`] and its model; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ChiSqSelectorParams {
    /// Input vector column. Default `"features"`.
    pub features_col: String,
    /// Label column (numeric, categorical values). Default `"label"`.
    pub label_col: String,
    /// Output vector column; [`ChiSqSelector::new`] sets Spark's `<uid>__output`.
    pub output_col: String,
    /// How features are chosen: `numTopFeatures`, `percentile`, `fpr`, `fdr` or `fwe`.
    /// Default `"numTopFeatures"`.
    pub selector_type: String,
    /// For `numTopFeatures`: how many features to keep, by ascending p-value (>= 1).
    /// Default 50.
    pub num_top_features: i32,
    /// For `percentile`: the fraction of features to keep, in [0, 1]. Default 0.1.
    pub percentile: f64,
    /// For `fpr`: the highest p-value kept, in [0, 1]. Default 0.05.
    pub fpr: f64,
    /// For `fdr`: the false discovery rate bound (Benjamini–Hochberg), in [0, 1].
    /// Default 0.05.
    pub fdr: f64,
    /// For `fwe`: the family-wise error rate bound (p-values below `fwe / numFeatures`),
    /// in [0, 1]. Default 0.05.
    pub fwe: f64,
}

impl Default for ChiSqSelectorParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            output_col: String::new(),
            selector_type: "numTopFeatures".into(),
            num_top_features: 50,
            percentile: 0.1,
            fpr: 0.05,
            fdr: 0.05,
            fwe: 0.05,
        }
    }
}

impl Params for ChiSqSelectorParams {
    const STAGE: &'static str = "ChiSqSelector";
    fn validate(&self) -> Result<()> {
        let stage = Self::STAGE;
        selector::check_mode(stage, "selectorType", &self.selector_type)?;
        if self.num_top_features < 1 {
            return Err(Error::param(
                stage,
                "numTopFeatures",
                ">= 1",
                self.num_top_features,
            ));
        }
        for (name, v) in [
            ("percentile", self.percentile),
            ("fpr", self.fpr),
            ("fdr", self.fdr),
            ("fwe", self.fwe),
        ] {
            check_in_range(stage, name, v, 0.0, 1.0)?;
        }
        for (name, v) in [
            ("featuresCol", &self.features_col),
            ("outputCol", &self.output_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(stage, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}

impl ChiSqSelectorParams {
    /// The threshold of the chosen selector type.
    fn threshold(&self) -> f64 {
        match self.selector_type.as_str() {
            "numTopFeatures" => self.num_top_features as f64,
            "percentile" => self.percentile,
            "fpr" => self.fpr,
            "fdr" => self.fdr,
            _ => self.fwe,
        }
    }
}

/// Chi-squared feature selection (Spark's `org.apache.spark.ml.feature.ChiSqSelector`,
/// deprecated there in favour of
/// [`UnivariateFeatureSelector`](super::UnivariateFeatureSelector) but still common in
/// saved pipelines): tests every feature against the label with
/// [`ChiSquareTest`](crate::stat::ChiSquareTest) and keeps
/// - `numTopFeatures`: the `numTopFeatures` lowest p-values (ties by feature index);
/// - `percentile`: the same for `⌊numFeatures · percentile⌋` features;
/// - `fpr`: p-values below `fpr`;
/// - `fdr`: the Benjamini–Hochberg choice at false discovery rate `fdr`;
/// - `fwe`: p-values below `fwe / numFeatures`.
///
/// The model keeps the chosen indices ascending. Its output keeps the chosen features'
/// attributes (default nominal attributes when the input has none, as Spark), and keeps
/// sparse rows sparse.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{ChiSqSelector, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["num_support_calls", "tenure"])
///     .with_output_col("features").transform(&df)?;
/// let model = ChiSqSelector::new().with_label_col("churn").with_output_col("selected")
///     .with_num_top_features(1).fit(&df)?;
/// assert_eq!(model.selected_features().len(), 1);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("selected").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a bad param; [`Error::ColumnNotFound`] /
/// [`Error::ColumnType`] for a missing or mistyped column; [`Error::InvalidValue`] for a
/// null or NaN value or more than 10,000 categories in a feature or the label;
/// [`Error::EmptyInput`] without rows.
#[derive(Clone, Debug)]
pub struct ChiSqSelector {
    uid: String,
    params: ChiSqSelectorParams,
}

super::columns::stage_basics!(ChiSqSelector, ChiSqSelectorParams, "chiSqSelector", |uid| {
    ChiSqSelectorParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
});

impl ChiSqSelector {
    crate::param::shared_setters! { features_col: "features", label_col: "label" }

    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// Selector type: `numTopFeatures` (default), `percentile`, `fpr`, `fdr`, `fwe`.
    pub fn with_selector_type(mut self, t: &str) -> Self {
        self.params.selector_type = t.into();
        self
    }
    /// Features kept by `numTopFeatures`; default 50.
    pub fn with_num_top_features(mut self, k: i32) -> Self {
        self.params.num_top_features = k;
        self
    }
    /// Fraction kept by `percentile`; default 0.1.
    pub fn with_percentile(mut self, v: f64) -> Self {
        self.params.percentile = v;
        self
    }
    /// Highest p-value kept by `fpr`; default 0.05.
    pub fn with_fpr(mut self, v: f64) -> Self {
        self.params.fpr = v;
        self
    }
    /// False discovery rate of `fdr`; default 0.05.
    pub fn with_fdr(mut self, v: f64) -> Self {
        self.params.fdr = v;
        self
    }
    /// Family-wise error rate of `fwe`; default 0.05.
    pub fn with_fwe(mut self, v: f64) -> Self {
        self.params.fwe = v;
        self
    }
}

impl Stage for ChiSqSelector {
    fn kind(&self) -> &'static str {
        "ChiSqSelector"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        p.validate()?;
        let stage = ChiSqSelectorParams::STAGE;
        let (_, field, n) = schema::require_vector(input, stage, &p.features_col)?;
        schema::require_numeric(input, stage, &p.label_col)?;
        let f = selector::estimator_field(
            field,
            n,
            &p.selector_type,
            p.threshold(),
            &p.output_col,
            selector::Defaults::Nominal,
        );
        schema::append_field(input, stage, f)
    }
}

impl Estimator for ChiSqSelector {
    type Model = ChiSqSelectorModel;
    fn fit(&self, df: &DataFrame) -> Result<ChiSqSelectorModel> {
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let stage = ChiSqSelectorParams::STAGE;
        let tests = crate::stat::chi_square(df, stage, &p.features_col, &p.label_col)?;
        let mut sel = selector::select(&tests, tests.len(), &p.selector_type, p.threshold());
        sel.sort_unstable();
        Ok(ChiSqSelectorModel::new(self.uid.clone(), p.clone(), sel))
    }
}

/// A fitted [`ChiSqSelector`]: the indices of the kept features, ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct ChiSqSelectorModel {
    uid: String,
    params: ChiSqSelectorParams,
    selected: Vec<usize>,
}

impl ChiSqSelectorModel {
    /// A model from its kept feature indices (sorted here; Spark requires them strictly
    /// increasing).
    pub fn new(
        uid: impl Into<String>,
        params: ChiSqSelectorParams,
        mut selected: Vec<usize>,
    ) -> Self {
        selected.sort_unstable();
        selected.dedup();
        Self {
            uid: uid.into(),
            params,
            selected,
        }
    }
    /// The params.
    pub fn params(&self) -> &ChiSqSelectorParams {
        &self.params
    }
    /// The kept feature indices, ascending (Spark's `selectedFeatures`).
    pub fn selected_features(&self) -> &[usize] {
        &self.selected
    }
    /// Input vector column.
    pub fn with_features_col(mut self, c: &str) -> Self {
        self.params.features_col = c.into();
        self
    }
    /// Output vector column.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
}

selector::selector_model!(ChiSqSelectorModel, selected, selector::Defaults::Nominal);

// ---- Spark persistence ----

crate::persist::spark_params_only!(ChiSqSelector, "org.apache.spark.ml.feature.ChiSqSelector");

impl crate::persist::SparkPersist for ChiSqSelectorModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.ChiSqSelectorModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        selector::write_selected(dir, &self.selected)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        let sel = selector::read_selected(dir)?;
        if sel.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::file(
                dir.join("data"),
                format!("selectedFeatures {sel:?} must be strictly increasing (Spark requires it)"),
            ));
        }
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, sel))
    }
}
