//! Params of the six tree estimators and their models, with Spark 4.3's names, defaults and
//! validation: [`DecisionTreeClassifierParams`], [`DecisionTreeRegressorParams`],
//! [`RandomForestClassifierParams`], [`RandomForestRegressorParams`],
//! [`GBTClassifierParams`], [`GBTRegressorParams`].
//!
//! Each struct holds exactly the params its Spark class has, flat, under Spark's JSON names
//! (so a saved model never carries a param Spark's loader would reject). The params all six
//! share are also available as one [`DecisionTreeParams`] value through `tree()`.
//!
//! # Examples
//! ```
//! use mlpipe::param::Params;
//! use mlpipe::tree::RandomForestClassifierParams;
//! let mut p = RandomForestClassifierParams::default();
//! assert_eq!(p.num_trees, 20);
//! assert_eq!(p.get_param("featureSubsetStrategy").unwrap(), "auto");
//! p.set_param("maxDepth", serde_json::json!(8)).unwrap();
//! assert_eq!(p.max_depth, 8);
//! let err = p.set_param("featureSubsetStrategy", serde_json::json!("half")).unwrap_err();
//! assert!(err.to_string().contains("featureSubsetStrategy"));
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};
use crate::param::Params;

/// Spark's `impurity` param.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impurity {
    /// Gini impurity (classification; Spark's classifier default).
    Gini,
    /// Entropy (classification).
    Entropy,
    /// Variance (regression and GBT).
    Variance,
}

impl Impurity {
    /// Spark's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Impurity::Gini => "gini",
            Impurity::Entropy => "entropy",
            Impurity::Variance => "variance",
        }
    }

    /// Parses Spark's spelling, any case.
    pub fn parse(s: &str) -> Option<Impurity> {
        match s.to_ascii_lowercase().as_str() {
            "gini" => Some(Impurity::Gini),
            "entropy" => Some(Impurity::Entropy),
            "variance" => Some(Impurity::Variance),
            _ => None,
        }
    }
}

impl Serialize for Impurity {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Impurity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Impurity::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown impurity {s:?}; expected \"gini\", \"entropy\" or \"variance\""
            ))
        })
    }
}

/// The params every tree estimator has (Spark's `DecisionTreeParams` with the predictor
/// columns, `seed` and `weightCol`), as one value: what [`DecisionTreeClassifierParams::tree`]
/// and the other params structs' `tree()` return for the training engine.
#[derive(Clone, Debug, PartialEq)]
pub struct DecisionTreeParams {
    /// Feature vector column.
    pub features_col: String,
    /// Label column.
    pub label_col: String,
    /// Prediction column.
    pub prediction_col: String,
    /// Leaf index column (`""` = none).
    pub leaf_col: String,
    /// Maximum depth in [0, 30].
    pub max_depth: usize,
    /// Maximum bins, >= 2.
    pub max_bins: usize,
    /// Minimum (unweighted) rows per child, >= 1.
    pub min_instances_per_node: usize,
    /// Minimum fraction of the total weight per child, in [0, 0.5).
    pub min_weight_fraction_per_node: f64,
    /// Minimum information gain of a split, >= 0.
    pub min_info_gain: f64,
    /// Memory for histogram aggregation in MB.
    pub max_memory_in_mb: usize,
    /// Spark's node-id cache switch (no effect on the trees).
    pub cache_node_ids: bool,
    /// Checkpoint interval (no effect on the trees).
    pub checkpoint_interval: i32,
    /// Random seed.
    pub seed: i64,
    /// Instance weight column, if set and non-empty.
    pub weight_col: Option<String>,
}

/// Defines a tree params struct: the shared tree params, then the class's own fields with
/// their defaults, `Default`, `tree()` and `validate_tree()`.
macro_rules! tree_params {
    (
        $(#[$meta:meta])*
        $name:ident, seed = $seed:expr,
        { $( $(#[$fm:meta])* $field:ident : $ty:ty = $default:expr ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, rename_all = "camelCase")]
        pub struct $name {
            /// Feature vector column. Default `"features"`.
            pub features_col: String,
            /// Label column. Default `"label"`.
            pub label_col: String,
            /// Prediction column. Default `"prediction"`.
            pub prediction_col: String,
            /// Leaf index column (`""` = none). Default `""`.
            pub leaf_col: String,
            /// Maximum depth in [0, 30]; depth 0 is a single leaf. Default 5.
            pub max_depth: usize,
            /// Maximum bins for continuous features, >= 2, and at least every categorical
            /// feature's arity. Default 32.
            pub max_bins: usize,
            /// Minimum (unweighted) rows per child, >= 1. Default 1.
            pub min_instances_per_node: usize,
            /// Minimum fraction of the total weight per child, in [0, 0.5). Default 0.
            pub min_weight_fraction_per_node: f64,
            /// Minimum information gain of a split, >= 0. Default 0.
            pub min_info_gain: f64,
            /// Memory for histogram aggregation in MB. Default 256.
            #[serde(rename = "maxMemoryInMB")]
            pub max_memory_in_mb: usize,
            /// Spark's node-id cache; no effect on the trees. Default false.
            pub cache_node_ids: bool,
            /// Checkpoint interval, -1 or >= 1; no effect on the trees. Default 10.
            pub checkpoint_interval: i32,
            /// Random seed. Default: Spark's Scala default for the estimator
            /// (`className.hashCode`, see [`default_seed`]).
            pub seed: i64,
            /// Instance weight column; `None` (or `""`) gives every row weight 1. Default
            /// `None`.
            pub weight_col: Option<String>,
            $( $(#[$fm])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name {
                    features_col: "features".into(),
                    label_col: "label".into(),
                    prediction_col: "prediction".into(),
                    leaf_col: String::new(),
                    max_depth: 5,
                    max_bins: 32,
                    min_instances_per_node: 1,
                    min_weight_fraction_per_node: 0.0,
                    min_info_gain: 0.0,
                    max_memory_in_mb: 256,
                    cache_node_ids: false,
                    checkpoint_interval: 10,
                    seed: $seed,
                    weight_col: None,
                    $( $field: $default, )*
                }
            }
        }

        impl $name {
            /// The shared tree params (weight column `None` when set to `""`).
            pub fn tree(&self) -> DecisionTreeParams {
                DecisionTreeParams {
                    features_col: self.features_col.clone(),
                    label_col: self.label_col.clone(),
                    prediction_col: self.prediction_col.clone(),
                    leaf_col: self.leaf_col.clone(),
                    max_depth: self.max_depth,
                    max_bins: self.max_bins,
                    min_instances_per_node: self.min_instances_per_node,
                    min_weight_fraction_per_node: self.min_weight_fraction_per_node,
                    min_info_gain: self.min_info_gain,
                    max_memory_in_mb: self.max_memory_in_mb,
                    cache_node_ids: self.cache_node_ids,
                    checkpoint_interval: self.checkpoint_interval,
                    seed: self.seed,
                    weight_col: self.weight_col.clone().filter(|c| !c.is_empty()),
                }
            }

            fn validate_tree(&self) -> Result<()> {
                self.tree().validate(<Self as Params>::STAGE)
            }
        }
    };
}

impl DecisionTreeParams {
    /// Checks every constraint (Spark's param validators).
    pub fn validate(&self, stage: &'static str) -> Result<()> {
        if self.max_depth > 30 {
            return Err(Error::param(
                stage,
                "maxDepth",
                "in [0, 30]",
                self.max_depth,
            ));
        }
        if self.max_bins < 2 {
            return Err(Error::param(stage, "maxBins", ">= 2", self.max_bins));
        }
        if self.min_instances_per_node < 1 {
            return Err(Error::param(
                stage,
                "minInstancesPerNode",
                ">= 1",
                self.min_instances_per_node,
            ));
        }
        let w = self.min_weight_fraction_per_node;
        if !(0.0..0.5).contains(&w) {
            return Err(Error::param(
                stage,
                "minWeightFractionPerNode",
                "in [0, 0.5)",
                w,
            ));
        }
        if self.min_info_gain.is_nan() || self.min_info_gain < 0.0 {
            return Err(Error::param(
                stage,
                "minInfoGain",
                ">= 0",
                self.min_info_gain,
            ));
        }
        if self.checkpoint_interval != -1 && self.checkpoint_interval < 1 {
            return Err(Error::param(
                stage,
                "checkpointInterval",
                "-1 or >= 1",
                self.checkpoint_interval,
            ));
        }
        for (name, col) in [
            ("featuresCol", &self.features_col),
            ("labelCol", &self.label_col),
        ] {
            if col.is_empty() {
                return Err(Error::param(stage, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}

/// Spark's `thresholds` validator: values >= 0 (not NaN), at most one 0.
fn check_thresholds(stage: &'static str, thresholds: &Option<Vec<f64>>) -> Result<()> {
    if let Some(ts) = thresholds {
        let zeros = ts.iter().filter(|t| **t == 0.0).count();
        if ts.is_empty() || ts.iter().any(|t| t.is_nan() || *t < 0.0) || zeros > 1 {
            return Err(Error::param(
                stage,
                "thresholds",
                "a non-empty list of values >= 0 with at most one 0",
                format!("{ts:?}"),
            ));
        }
    }
    Ok(())
}

/// Resolves Spark's `featureSubsetStrategy` to the number of features tried per node, given
/// `num_features`, the number of trees and whether the task is classification.
///
/// `auto` is `all` for one tree, else `sqrt` (classification) or `onethird` (regression);
/// `all` = n, `sqrt` = ⌈√n⌉, `log2` = max(1, ⌈log₂ n⌉), `onethird` = ⌈n/3⌉; an integer
/// k > 0 gives min(k, n); a fraction r in (0, 1] gives ⌈r·n⌉. `None` for anything else.
///
/// # Examples
/// ```
/// use mlpipe::tree::num_features_per_node;
/// assert_eq!(num_features_per_node("auto", 20, 20, true), Some(5));
/// assert_eq!(num_features_per_node("auto", 20, 1, true), Some(20));
/// assert_eq!(num_features_per_node("onethird", 20, 20, false), Some(7));
/// assert_eq!(num_features_per_node("0.5", 9, 3, true), Some(5));
/// assert_eq!(num_features_per_node("25", 9, 3, true), Some(9));
/// assert_eq!(num_features_per_node("half", 9, 3, true), None);
/// ```
pub fn num_features_per_node(
    strategy: &str,
    num_features: usize,
    num_trees: usize,
    classification: bool,
) -> Option<usize> {
    let n = num_features as f64;
    let s = strategy.to_ascii_lowercase();
    let s = match s.as_str() {
        "auto" if num_trees == 1 => "all",
        "auto" if classification => "sqrt",
        "auto" => "onethird",
        other => other,
    };
    match s {
        "all" => Some(num_features),
        "sqrt" => Some(n.sqrt().ceil() as usize),
        "log2" => Some((n.ln() / std::f64::consts::LN_2).ceil().max(1.0) as usize),
        "onethird" => Some((n / 3.0).ceil() as usize),
        _ => {
            // Java's Integer.parseInt takes no spaces; Double.parseDouble trims them.
            if let Ok(k) = strategy.parse::<i32>() {
                return (k > 0).then(|| (k as usize).min(num_features));
            }
            match strategy.trim().parse::<f64>() {
                Ok(r) if r > 0.0 && r <= 1.0 => Some((r * n).ceil() as usize),
                _ => None,
            }
        }
    }
}

/// Spark's `subsamplingRate` and `featureSubsetStrategy` validators.
fn check_ensemble(stage: &'static str, rate: f64, strategy: &str) -> Result<()> {
    if !(rate > 0.0 && rate <= 1.0) {
        return Err(Error::param(stage, "subsamplingRate", "in (0, 1]", rate));
    }
    if num_features_per_node(strategy, 1, 1, true).is_none() {
        return Err(Error::param(
            stage,
            "featureSubsetStrategy",
            "auto, all, onethird, sqrt, log2, an integer > 0 or a fraction in (0, 1]",
            format!("{strategy:?}"),
        ));
    }
    Ok(())
}

/// GBT's `stepSize` and `validationTol` validators and Strategy's `maxMemoryInMB <= 10240`.
fn check_gbt(stage: &'static str, step: f64, tol: f64, max_memory_in_mb: usize) -> Result<()> {
    if !(step > 0.0 && step <= 1.0) {
        return Err(Error::param(stage, "stepSize", "in (0, 1]", step));
    }
    if tol.is_nan() || tol < 0.0 {
        return Err(Error::param(stage, "validationTol", ">= 0", tol));
    }
    if max_memory_in_mb > 10240 {
        return Err(Error::param(
            stage,
            "maxMemoryInMB",
            "<= 10240 for GBT",
            max_memory_in_mb,
        ));
    }
    Ok(())
}

fn check_impurity(stage: &'static str, got: Impurity, allowed: &[Impurity]) -> Result<()> {
    if allowed.contains(&got) {
        Ok(())
    } else {
        let names: Vec<&str> = allowed.iter().map(|i| i.as_str()).collect();
        Err(Error::param(
            stage,
            "impurity",
            format!("one of {}", names.join(", ")),
            got.as_str(),
        ))
    }
}

fn check_loss(stage: &'static str, got: &str, allowed: &[&str]) -> Result<()> {
    if allowed.contains(&got.to_ascii_lowercase().as_str()) {
        Ok(())
    } else {
        Err(Error::param(
            stage,
            "lossType",
            format!("one of {}", allowed.join(", ")),
            format!("{got:?}"),
        ))
    }
}

fn check_num_trees(stage: &'static str, n: usize) -> Result<()> {
    if n >= 1 {
        Ok(())
    } else {
        Err(Error::param(stage, "numTrees", ">= 1", n))
    }
}

/// Scala default seeds, `className.hashCode` of the estimator (computed on the JVM).
pub mod default_seed {
    /// `org.apache.spark.ml.classification.DecisionTreeClassifier`.
    pub const DECISION_TREE_CLASSIFIER: i64 = 159147643;
    /// `org.apache.spark.ml.classification.RandomForestClassifier`.
    pub const RANDOM_FOREST_CLASSIFIER: i64 = 207336481;
    /// `org.apache.spark.ml.classification.GBTClassifier`.
    pub const GBT_CLASSIFIER: i64 = -1287390502;
    /// `org.apache.spark.ml.regression.DecisionTreeRegressor`.
    pub const DECISION_TREE_REGRESSOR: i64 = 926680331;
    /// `org.apache.spark.ml.regression.RandomForestRegressor`.
    pub const RANDOM_FOREST_REGRESSOR: i64 = 235498149;
    /// `org.apache.spark.ml.regression.GBTRegressor`.
    pub const GBT_REGRESSOR: i64 = -131597770;
}

tree_params! {
    /// Params of `DecisionTreeClassifier` and its model.
    DecisionTreeClassifierParams, seed = default_seed::DECISION_TREE_CLASSIFIER, {
        /// Raw prediction vector column (`""` disables it). Default `"rawPrediction"`.
        raw_prediction_col: String = "rawPrediction".into(),
        /// Probability vector column (`""` disables it). Default `"probability"`.
        probability_col: String = "probability".into(),
        /// Per-class thresholds: prediction = argmax `p_i / t_i`; values >= 0, at most one
        /// 0, one per class. Default `None`.
        #[serde(with = "crate::param::spark_doubles")]
        thresholds: Option<Vec<f64>> = None,
        /// `gini` or `entropy`. Default `gini`.
        impurity: Impurity = Impurity::Gini,
        /// Merge sibling leaves with the same prediction (Spark 4.3). Default true.
        prune_tree: bool = true,
    }
}

impl Params for DecisionTreeClassifierParams {
    const STAGE: &'static str = "DecisionTreeClassifier";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_thresholds(Self::STAGE, &self.thresholds)?;
        check_impurity(
            Self::STAGE,
            self.impurity,
            &[Impurity::Gini, Impurity::Entropy],
        )
    }
}

tree_params! {
    /// Params of `DecisionTreeRegressor` and its model.
    DecisionTreeRegressorParams, seed = default_seed::DECISION_TREE_REGRESSOR, {
        /// `variance` (the only value). Default `variance`.
        impurity: Impurity = Impurity::Variance,
        /// Column for the variance of the reached leaf; `None` = no column. Default `None`.
        variance_col: Option<String> = None,
    }
}

impl Params for DecisionTreeRegressorParams {
    const STAGE: &'static str = "DecisionTreeRegressor";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_impurity(Self::STAGE, self.impurity, &[Impurity::Variance])
    }
}

tree_params! {
    /// Params of `RandomForestClassifier` and its model.
    RandomForestClassifierParams, seed = default_seed::RANDOM_FOREST_CLASSIFIER, {
        /// Raw prediction vector column (`""` disables it). Default `"rawPrediction"`.
        raw_prediction_col: String = "rawPrediction".into(),
        /// Probability vector column (`""` disables it). Default `"probability"`.
        probability_col: String = "probability".into(),
        /// Per-class thresholds: prediction = argmax `p_i / t_i`; values >= 0, at most one
        /// 0, one per class. Default `None`.
        #[serde(with = "crate::param::spark_doubles")]
        thresholds: Option<Vec<f64>> = None,
        /// `gini` or `entropy`. Default `gini`.
        impurity: Impurity = Impurity::Gini,
        /// Merge sibling leaves with the same prediction (Spark 4.3). Default true.
        prune_tree: bool = true,
        /// Fraction of rows sampled per tree, in (0, 1]. Default 1.0.
        subsampling_rate: f64 = 1.0,
        /// Features tried per node (see [`num_features_per_node`]). Default `auto`.
        feature_subset_strategy: String = "auto".into(),
        /// Number of trees, >= 1. Default 20.
        num_trees: usize = 20,
        /// Poisson bootstrap (true) or sampling without replacement. Default true.
        bootstrap: bool = true,
    }
}

impl Params for RandomForestClassifierParams {
    const STAGE: &'static str = "RandomForestClassifier";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_thresholds(Self::STAGE, &self.thresholds)?;
        check_ensemble(
            Self::STAGE,
            self.subsampling_rate,
            &self.feature_subset_strategy,
        )?;
        check_num_trees(Self::STAGE, self.num_trees)?;
        check_impurity(
            Self::STAGE,
            self.impurity,
            &[Impurity::Gini, Impurity::Entropy],
        )
    }
}

tree_params! {
    /// Params of `RandomForestRegressor` and its model.
    RandomForestRegressorParams, seed = default_seed::RANDOM_FOREST_REGRESSOR, {
        /// `variance` (the only value). Default `variance`.
        impurity: Impurity = Impurity::Variance,
        /// Fraction of rows sampled per tree, in (0, 1]. Default 1.0.
        subsampling_rate: f64 = 1.0,
        /// Features tried per node (see [`num_features_per_node`]). Default `auto`.
        feature_subset_strategy: String = "auto".into(),
        /// Number of trees, >= 1. Default 20.
        num_trees: usize = 20,
        /// Poisson bootstrap (true) or sampling without replacement. Default true.
        bootstrap: bool = true,
    }
}

impl Params for RandomForestRegressorParams {
    const STAGE: &'static str = "RandomForestRegressor";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_ensemble(
            Self::STAGE,
            self.subsampling_rate,
            &self.feature_subset_strategy,
        )?;
        check_num_trees(Self::STAGE, self.num_trees)?;
        check_impurity(Self::STAGE, self.impurity, &[Impurity::Variance])
    }
}

tree_params! {
    /// Params of `GBTClassifier` and its model.
    GBTClassifierParams, seed = default_seed::GBT_CLASSIFIER, {
        /// Raw prediction vector column (`""` disables it). Default `"rawPrediction"`.
        raw_prediction_col: String = "rawPrediction".into(),
        /// Probability vector column (`""` disables it). Default `"probability"`.
        probability_col: String = "probability".into(),
        /// Per-class thresholds (2 values): prediction = argmax `p_i / t_i`. Default `None`.
        #[serde(with = "crate::param::spark_doubles")]
        thresholds: Option<Vec<f64>> = None,
        /// `variance` (the trees are regression trees). Default `variance`.
        impurity: Impurity = Impurity::Variance,
        /// Fraction of rows sampled per tree, in (0, 1]. Default 1.0.
        subsampling_rate: f64 = 1.0,
        /// Features tried per node (see [`num_features_per_node`]). Default `all`.
        feature_subset_strategy: String = "all".into(),
        /// Number of boosting iterations (trees), >= 0. Default 20.
        max_iter: usize = 20,
        /// Learning rate, in (0, 1]. Default 0.1.
        step_size: f64 = 0.1,
        /// Early-stop tolerance on the validation error, >= 0. Default 0.01.
        validation_tol: f64 = 0.01,
        /// Boolean column marking validation rows; `None` = no validation. Default `None`.
        validation_indicator_col: Option<String> = None,
        /// `logistic` (the only value). Default `logistic`.
        loss_type: String = "logistic".into(),
    }
}

impl Params for GBTClassifierParams {
    const STAGE: &'static str = "GBTClassifier";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_thresholds(Self::STAGE, &self.thresholds)?;
        check_ensemble(
            Self::STAGE,
            self.subsampling_rate,
            &self.feature_subset_strategy,
        )?;
        check_gbt(
            Self::STAGE,
            self.step_size,
            self.validation_tol,
            self.max_memory_in_mb,
        )?;
        check_loss(Self::STAGE, &self.loss_type, &["logistic"])
    }
}

tree_params! {
    /// Params of `GBTRegressor` and its model.
    GBTRegressorParams, seed = default_seed::GBT_REGRESSOR, {
        /// `variance` (the only value). Default `variance`.
        impurity: Impurity = Impurity::Variance,
        /// Fraction of rows sampled per tree, in (0, 1]. Default 1.0.
        subsampling_rate: f64 = 1.0,
        /// Features tried per node (see [`num_features_per_node`]). Default `all`.
        feature_subset_strategy: String = "all".into(),
        /// Number of boosting iterations (trees), >= 0. Default 20.
        max_iter: usize = 20,
        /// Learning rate, in (0, 1]. Default 0.1.
        step_size: f64 = 0.1,
        /// Early-stop tolerance on the validation error, >= 0. Default 0.01.
        validation_tol: f64 = 0.01,
        /// Boolean column marking validation rows; `None` = no validation. Default `None`.
        validation_indicator_col: Option<String> = None,
        /// `squared` or `absolute`. Default `squared`.
        loss_type: String = "squared".into(),
    }
}

impl Params for GBTRegressorParams {
    const STAGE: &'static str = "GBTRegressor";
    fn validate(&self) -> Result<()> {
        self.validate_tree()?;
        check_ensemble(
            Self::STAGE,
            self.subsampling_rate,
            &self.feature_subset_strategy,
        )?;
        check_gbt(
            Self::STAGE,
            self.step_size,
            self.validation_tol,
            self.max_memory_in_mb,
        )?;
        check_impurity(Self::STAGE, self.impurity, &[Impurity::Variance])?;
        check_loss(Self::STAGE, &self.loss_type, &["squared", "absolute"])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn names<P: Params>(p: &P) -> Vec<String> {
        p.param_names()
    }

    /// The name lists of Spark 4.3's `defaultParamMap` plus the no-default params
    /// (reference list checked against PySpark 4.3.0-saved models).
    #[test]
    fn param_names_are_sparks() {
        let dt = [
            "cacheNodeIds",
            "checkpointInterval",
            "featuresCol",
            "impurity",
            "labelCol",
            "leafCol",
            "maxBins",
            "maxDepth",
            "maxMemoryInMB",
            "minInfoGain",
            "minInstancesPerNode",
            "minWeightFractionPerNode",
            "predictionCol",
            "seed",
            "weightCol",
        ];
        let cls = ["probabilityCol", "rawPredictionCol", "thresholds"];
        let mut dtc: Vec<&str> = dt.iter().chain(&cls).copied().collect();
        dtc.push("pruneTree");
        let sorted = |mut v: Vec<&str>| {
            v.sort();
            v.into_iter().map(String::from).collect::<Vec<_>>()
        };
        assert_eq!(
            names(&DecisionTreeClassifierParams::default()),
            sorted(dtc.clone())
        );
        let mut dtr: Vec<&str> = dt.to_vec();
        dtr.push("varianceCol");
        assert_eq!(names(&DecisionTreeRegressorParams::default()), sorted(dtr));
        let ens = [
            "bootstrap",
            "featureSubsetStrategy",
            "numTrees",
            "subsamplingRate",
        ];
        let rfc: Vec<&str> = dtc.iter().chain(&ens).copied().collect();
        assert_eq!(names(&RandomForestClassifierParams::default()), sorted(rfc));
        let rfr: Vec<&str> = dt.iter().chain(&ens).copied().collect();
        assert_eq!(names(&RandomForestRegressorParams::default()), sorted(rfr));
        let gbt = [
            "featureSubsetStrategy",
            "lossType",
            "maxIter",
            "stepSize",
            "subsamplingRate",
            "validationIndicatorCol",
            "validationTol",
        ];
        let gbtr: Vec<&str> = dt.iter().chain(&gbt).copied().collect();
        assert_eq!(names(&GBTRegressorParams::default()), sorted(gbtr.clone()));
        let gbtc: Vec<&str> = gbtr.iter().chain(&cls).copied().collect();
        assert_eq!(names(&GBTClassifierParams::default()), sorted(gbtc));
    }

    #[test]
    fn defaults_and_json_round_trip() {
        let p = GBTClassifierParams::default();
        let j = p.to_json();
        assert_eq!(j["featureSubsetStrategy"], "all");
        assert_eq!(j["seed"], json!(-1287390502i64));
        assert_eq!(j["maxMemoryInMB"], 256);
        assert_eq!(j["thresholds"], Value::Null);
        let back: GBTClassifierParams = serde_json::from_value(j).unwrap();
        assert_eq!(back, p);
        // Spark writes impurity in any case; thresholds with its double spellings.
        let p: RandomForestClassifierParams =
            serde_json::from_value(json!({"impurity": "Entropy", "thresholds": [0.5, "Inf"]}))
                .unwrap();
        assert_eq!(p.impurity, Impurity::Entropy);
        assert_eq!(p.thresholds, Some(vec![0.5, f64::INFINITY]));
    }

    #[test]
    fn validation_messages() {
        let mut p = DecisionTreeClassifierParams::default();
        let e = p.set_param("maxDepth", json!(31)).unwrap_err();
        assert!(
            e.to_string().contains("DecisionTreeClassifier") && e.to_string().contains("maxDepth")
        );
        let e = p.set_param("impurity", json!("variance")).unwrap_err();
        assert!(e.to_string().contains("gini, entropy"), "{e}");
        let e = p
            .set_param("minWeightFractionPerNode", json!(0.5))
            .unwrap_err();
        assert!(e.to_string().contains("[0, 0.5)"), "{e}");
        let e = p.set_param("thresholds", json!([0.0, 0.0])).unwrap_err();
        assert!(e.to_string().contains("at most one 0"), "{e}");
        let mut g = GBTRegressorParams::default();
        assert!(g.set_param("lossType", json!("Absolute")).is_ok());
        let e = g.set_param("lossType", json!("huber")).unwrap_err();
        assert!(e.to_string().contains("squared, absolute"), "{e}");
        let e = g.set_param("stepSize", json!(0.0)).unwrap_err();
        assert!(e.to_string().contains("(0, 1]"), "{e}");
        let mut r = RandomForestRegressorParams::default();
        assert!(r.set_param("featureSubsetStrategy", json!("0.3")).is_ok());
        assert!(r.set_param("featureSubsetStrategy", json!("1e-1")).is_ok());
        assert!(r.set_param("featureSubsetStrategy", json!("0")).is_err());
        assert!(r.set_param("featureSubsetStrategy", json!("1.5")).is_err());
        assert!(r.set_param("numTrees", json!(0)).is_err());
    }

    #[test]
    fn feature_subset_resolution() {
        // Hand-derived from Spark's rules: sqrt(10)=3.16 → 4, log2(10)=3.32 → 4, 10/3 → 4.
        assert_eq!(num_features_per_node("sqrt", 10, 5, true), Some(4));
        assert_eq!(num_features_per_node("LOG2", 10, 5, true), Some(4));
        assert_eq!(num_features_per_node("log2", 1, 5, true), Some(1));
        assert_eq!(num_features_per_node("auto", 10, 5, false), Some(4));
        assert_eq!(num_features_per_node("1.0", 10, 5, false), Some(10));
        assert_eq!(num_features_per_node("3", 10, 5, false), Some(3));
        assert_eq!(num_features_per_node("-3", 10, 5, false), None);
    }
}
