//! [`UnivariateFeatureSelector`] and [`UnivariateFeatureSelectorModel`]: keep the features
//! a univariate test against the label ranks best — χ² for categorical features and label,
//! the ANOVA F-test for continuous features and a categorical label, F-regression for
//! continuous features and label.
//!
//! Spark's source:
//! `mllib/src/main/scala/org/apache/spark/ml/feature/UnivariateFeatureSelector.scala`.

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::selector;
use crate::error::{Error, Result};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Estimator, Stage};
use crate::stat::FeatureTest;

/// Params of [`UnivariateFeatureSelector`] and its model; JSON names and defaults are
/// Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct UnivariateFeatureSelectorParams {
    /// Input vector column. Default `"features"`.
    pub features_col: String,
    /// Label column (numeric). Default `"label"`.
    pub label_col: String,
    /// Output vector column; [`UnivariateFeatureSelector::new`] sets Spark's
    /// `<uid>__output`.
    pub output_col: String,
    /// `"categorical"` or `"continuous"`. No default: fitting needs it set.
    pub feature_type: Option<String>,
    /// `"categorical"` or `"continuous"`. No default: fitting needs it set.
    pub label_type: Option<String>,
    /// `numTopFeatures`, `percentile`, `fpr`, `fdr` or `fwe`. Default `"numTopFeatures"`.
    pub selection_mode: String,
    /// The mode's threshold; unset means Spark's per-mode default: 50 for
    /// `numTopFeatures`, 0.1 for `percentile`, 0.05 for `fpr`, `fdr` and `fwe`.
    pub selection_threshold: Option<f64>,
}

impl Default for UnivariateFeatureSelectorParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            label_col: "label".into(),
            output_col: String::new(),
            feature_type: None,
            label_type: None,
            selection_mode: "numTopFeatures".into(),
            selection_threshold: None,
        }
    }
}

impl Params for UnivariateFeatureSelectorParams {
    const STAGE: &'static str = "UnivariateFeatureSelector";
    fn validate(&self) -> Result<()> {
        let stage = Self::STAGE;
        selector::check_mode(stage, "selectionMode", &self.selection_mode)?;
        for (name, v) in [
            ("featureType", &self.feature_type),
            ("labelType", &self.label_type),
        ] {
            if let Some(t) = v {
                if t != "categorical" && t != "continuous" {
                    return Err(Error::param(
                        stage,
                        name,
                        "\"categorical\" or \"continuous\"",
                        format!("{t:?}"),
                    ));
                }
            }
        }
        if let Some(t) = self.selection_threshold {
            if self.selection_mode == "numTopFeatures" {
                if !(t >= 1.0 && t.fract() == 0.0 && t <= i32::MAX as f64) {
                    return Err(Error::param(
                        stage,
                        "selectionThreshold",
                        "a positive integer for selection mode numTopFeatures",
                        t,
                    ));
                }
            } else if !(0.0..=1.0).contains(&t) {
                return Err(Error::param(
                    stage,
                    "selectionThreshold",
                    format!("in [0, 1] for selection mode {}", self.selection_mode),
                    t,
                ));
            }
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

impl UnivariateFeatureSelectorParams {
    /// The threshold in force: the set one, or Spark's default for the mode.
    pub fn threshold(&self) -> f64 {
        self.selection_threshold
            .unwrap_or(match self.selection_mode.as_str() {
                "numTopFeatures" => 50.0,
                "percentile" => 0.1,
                _ => 0.05,
            })
    }
}

/// Univariate feature selection (Spark's
/// `org.apache.spark.ml.feature.UnivariateFeatureSelector`): each feature is tested
/// against the label by the test `featureType` and `labelType` pick —
/// - categorical / categorical: Pearson's χ² ([`ChiSquareTest`](crate::stat::ChiSquareTest),
///   scikit-learn's `chi2` on counts);
/// - continuous / categorical: the one-way ANOVA F-test (scikit-learn's `f_classif`);
/// - continuous / continuous: F-regression (scikit-learn's `f_regression`);
///
/// and `selectionMode` keeps, at `selectionThreshold` (default 50, 0.1 or 0.05 by mode):
/// `numTopFeatures` the lowest p-values (ties by feature index), `percentile` the same for
/// `⌊numFeatures · threshold⌋` features, `fpr` p-values below the threshold, `fdr` the
/// Benjamini–Hochberg choice, `fwe` p-values below `threshold / numFeatures`.
///
/// The model keeps the indices in the order Spark finds them for the ranked modes
/// (`numTopFeatures`, `percentile`, `fdr`: ascending p-value); for `fpr` and `fwe` Spark
/// lists them in its shuffle's internal order and mlpipe ascending (the same set). The
/// transform selects them in ascending order; the output keeps the selected
/// features' attributes and keeps sparse rows sparse.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{UnivariateFeatureSelector, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0", "f1"])
///     .with_output_col("features").transform(&df)?;
/// let model = UnivariateFeatureSelector::new()
///     .with_feature_type("continuous").with_label_type("categorical")
///     .with_label_col("churn").with_selection_mode("numTopFeatures")
///     .with_selection_threshold(2.0).with_output_col("top").fit(&df)?;
/// assert_eq!(model.selected_features().len(), 2);
/// // featureType and labelType have no default
/// assert!(UnivariateFeatureSelector::new().with_label_col("churn").fit(&df).is_err());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for unset `featureType` / `labelType`, the unsupported pair
/// categorical features with a continuous label, or a bad param;
/// [`Error::ColumnNotFound`] / [`Error::ColumnType`] for a missing or mistyped column;
/// [`Error::InvalidValue`] for a null or NaN value (and, for χ², more than 10,000
/// categories); [`Error::EmptyInput`] without rows.
#[derive(Clone, Debug)]
pub struct UnivariateFeatureSelector {
    uid: String,
    params: UnivariateFeatureSelectorParams,
}

super::columns::stage_basics!(
    UnivariateFeatureSelector,
    UnivariateFeatureSelectorParams,
    "UnivariateFeatureSelector",
    |uid| UnivariateFeatureSelectorParams {
        output_col: format!("{uid}__output"),
        ..Default::default()
    }
);

impl UnivariateFeatureSelector {
    crate::param::shared_setters! { features_col: "features", label_col: "label" }

    /// Output vector column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = c.into();
        self
    }
    /// `"categorical"` or `"continuous"` features (required).
    pub fn with_feature_type(mut self, t: &str) -> Self {
        self.params.feature_type = Some(t.into());
        self
    }
    /// `"categorical"` or `"continuous"` label (required).
    pub fn with_label_type(mut self, t: &str) -> Self {
        self.params.label_type = Some(t.into());
        self
    }
    /// `numTopFeatures` (default), `percentile`, `fpr`, `fdr` or `fwe`.
    pub fn with_selection_mode(mut self, m: &str) -> Self {
        self.params.selection_mode = m.into();
        self
    }
    /// The mode's threshold (default by mode: 50, 0.1, 0.05).
    pub fn with_selection_threshold(mut self, t: f64) -> Self {
        self.params.selection_threshold = Some(t);
        self
    }
}

impl Stage for UnivariateFeatureSelector {
    fn kind(&self) -> &'static str {
        "UnivariateFeatureSelector"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let p = &self.params;
        p.validate()?;
        let stage = UnivariateFeatureSelectorParams::STAGE;
        if p.feature_type.is_none() || p.label_type.is_none() {
            return Err(Error::param(
                stage,
                if p.feature_type.is_none() {
                    "featureType"
                } else {
                    "labelType"
                },
                "set: featureType and labelType need to be set (\"categorical\" or \"continuous\"), they have no default",
                "unset",
            ));
        }
        let (_, field, n) = schema::require_vector(input, stage, &p.features_col)?;
        schema::require_numeric(input, stage, &p.label_col)?;
        let f = selector::estimator_field(
            field,
            n,
            &p.selection_mode,
            p.threshold(),
            &p.output_col,
            selector::Defaults::Numeric,
        );
        schema::append_field(input, stage, f)
    }
}

impl Estimator for UnivariateFeatureSelector {
    type Model = UnivariateFeatureSelectorModel;
    fn fit(&self, df: &DataFrame) -> Result<UnivariateFeatureSelectorModel> {
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let stage = UnivariateFeatureSelectorParams::STAGE;
        let (f, l) = (&p.features_col, &p.label_col);
        let tests: Vec<FeatureTest> = match (p.feature_type.as_deref(), p.label_type.as_deref()) {
            (Some("categorical"), Some("categorical")) => crate::stat::chi_square(df, stage, f, l)?,
            (Some("continuous"), Some("categorical")) => {
                crate::stat::selection::anova(df, stage, f, l)?
            }
            (Some("continuous"), Some("continuous")) => {
                crate::stat::selection::f_regression(df, stage, f, l)?
            }
            (ft, lt) => {
                return Err(Error::param(
                    stage,
                    "featureType",
                    "a supported combination (categorical/categorical: chi-squared, continuous/categorical: ANOVA F, continuous/continuous: F-regression)",
                    format!(
                        "featureType={}, labelType={}",
                        ft.unwrap_or("unset"),
                        lt.unwrap_or("unset")
                    ),
                ))
            }
        };
        let sel = selector::select(&tests, tests.len(), &p.selection_mode, p.threshold());
        Ok(UnivariateFeatureSelectorModel::new(
            self.uid.clone(),
            p.clone(),
            sel,
        ))
    }
}

/// A fitted [`UnivariateFeatureSelector`]: the kept feature indices.
#[derive(Clone, Debug, PartialEq)]
pub struct UnivariateFeatureSelectorModel {
    uid: String,
    params: UnivariateFeatureSelectorParams,
    /// As Spark found them.
    selected: Vec<usize>,
    /// Ascending, what the transform selects.
    sorted: Vec<usize>,
}

impl UnivariateFeatureSelectorModel {
    /// A model from its kept feature indices, in Spark's order (the transform selects them
    /// ascending).
    pub fn new(
        uid: impl Into<String>,
        params: UnivariateFeatureSelectorParams,
        selected: Vec<usize>,
    ) -> Self {
        let mut sorted = selected.clone();
        sorted.sort_unstable();
        sorted.dedup();
        Self {
            uid: uid.into(),
            params,
            selected,
            sorted,
        }
    }
    /// The params.
    pub fn params(&self) -> &UnivariateFeatureSelectorParams {
        &self.params
    }
    /// The kept feature indices in Spark's order (Spark's `selectedFeatures`).
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

selector::selector_model!(
    UnivariateFeatureSelectorModel,
    sorted,
    selector::Defaults::Numeric
);

// ---- Spark persistence ----

crate::persist::spark_params_only!(
    UnivariateFeatureSelector,
    "org.apache.spark.ml.feature.UnivariateFeatureSelector"
);

impl crate::persist::SparkPersist for UnivariateFeatureSelectorModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.UnivariateFeatureSelectorModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        selector::write_selected(dir, &self.selected)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        let sel = selector::read_selected(dir)?;
        Ok(Self::new(md.uid.clone(), md.params_as(dir)?, sel))
    }
}
