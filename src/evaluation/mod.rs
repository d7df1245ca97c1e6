//! Evaluators with Spark's formulas: [`BinaryClassificationEvaluator`]
//! (with [`BinaryClassificationMetrics`] for ROC and PR curves),
//! [`MulticlassClassificationEvaluator`] and [`RegressionEvaluator`].
//!
//! Each evaluator takes its metric as an enum ([`BinaryMetric`], [`MulticlassMetric`],
//! [`RegressionMetric`]) whose variants are Spark's `metricName` values; Spark's names are
//! accepted too, by `str::parse` or through the by-name params:
//! ```
//! use mlpipe::evaluation::{MulticlassClassificationEvaluator, MulticlassMetric};
//! let by_enum = MulticlassClassificationEvaluator::new().with_metric(MulticlassMetric::Accuracy);
//! let mut by_name = MulticlassClassificationEvaluator::new();
//! by_name.set_param("metricName", serde_json::json!("accuracy")).unwrap();
//! assert_eq!(by_name.params(), by_enum.params());
//! assert_eq!("logLoss".parse::<MulticlassMetric>().unwrap(), MulticlassMetric::LogLoss);
//! ```

mod binary;
mod clustering;
mod multiclass;
mod regression;

pub use binary::{
    BinaryClassificationEvaluator, BinaryClassificationMetrics, BinaryEvaluatorParams, BinaryMetric,
};
pub use clustering::{ClusteringEvaluator, ClusteringEvaluatorParams, ClusteringMetric};
pub use multiclass::{
    MulticlassClassificationEvaluator, MulticlassEvaluatorParams, MulticlassMetric,
    MulticlassMetrics, MULTICLASS_METRICS,
};
pub use regression::{
    RegressionEvaluator, RegressionEvaluatorParams, RegressionMetric, RegressionMetrics,
};

use arrow::array::{Array, AsArray};
use arrow::buffer::ScalarBuffer;
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};

/// Defines an evaluator's metric enum from Spark's `metricName` table: each variant with its
/// Spark name and whether a larger value is better (Spark's `isLargerBetter`). The enum
/// serialises as the Spark name, parses from it (`FromStr`, whose error lists every name)
/// and prints it.
macro_rules! metric_enum {
    (
        $(#[$meta:meta])*
        $ty:ident for $stage:literal, default $default:ident {
            $($(#[$vmeta:meta])* $variant:ident = $spark:literal, larger_better: $lb:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $ty {
            $($(#[$vmeta])* #[serde(rename = $spark)] $variant,)*
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::$default
            }
        }

        impl $ty {
            /// Every metric, in Spark's order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];

            /// Spark's `metricName` for the metric.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => $spark,)*
                }
            }

            /// Whether a larger value is better (Spark's `isLargerBetter`).
            pub fn is_larger_better(self) -> bool {
                match self {
                    $(Self::$variant => $lb,)*
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::Error;

            /// The metric with Spark's name `s` (case-sensitive, as in Spark).
            fn from_str(s: &str) -> $crate::Result<Self> {
                Self::ALL.iter().copied().find(|m| m.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|m| m.name()).collect();
                    $crate::Error::param($stage, "metricName", format!("one of {names:?}"), format!("{s:?}"))
                })
            }
        }
    };
}
pub(crate) use metric_enum;

/// The by-name param access every evaluator has (as a stage's params have), for an
/// evaluator struct with a `params` field.
macro_rules! evaluator_params {
    ($params:ty) => {
        /// The params.
        pub fn params(&self) -> &$params {
            &self.params
        }

        /// Sets one param by Spark's name from JSON (`"metricName"`, `"labelCol"`, ...);
        /// validates it, and on error leaves the evaluator unchanged.
        ///
        /// # Errors
        /// [`Error::UnknownParam`](crate::Error::UnknownParam) listing the valid names, or
        /// [`Error::InvalidParam`](crate::Error::InvalidParam) for a bad value.
        pub fn set_param(&mut self, name: &str, value: serde_json::Value) -> Result<()> {
            $crate::param::Params::set_param(&mut self.params, name, value)
        }

        /// The JSON value of param `name` (Spark's name).
        ///
        /// # Errors
        /// [`Error::UnknownParam`](crate::Error::UnknownParam) listing the valid names.
        pub fn get_param(&self, name: &str) -> Result<serde_json::Value> {
            $crate::param::Params::get_param(&self.params, name)
        }
    };
}
pub(crate) use evaluator_params;

/// The uid, `Default` (Spark's defaults and a fresh uid) and Spark persistence
/// (`org.apache.spark.ml.evaluation.<Name>`: metadata only) of an evaluator struct with
/// `uid` and `params` fields.
macro_rules! evaluator_persist {
    ($ty:ident, $params:ty) => {
        impl Default for $ty {
            fn default() -> Self {
                Self {
                    uid: $crate::param::random_uid(stringify!($ty)),
                    params: <$params>::default(),
                }
            }
        }

        impl $ty {
            /// The uid (Spark's `uid`, kept through save and load).
            pub fn uid(&self) -> &str {
                &self.uid
            }
        }

        impl $crate::persist::SparkPersist for $ty {
            const SPARK_CLASS: &'static str =
                concat!("org.apache.spark.ml.evaluation.", stringify!($ty));
            const ALSO_READS: &'static [&'static str] =
                &[concat!("pyspark.ml.evaluation.", stringify!($ty))];
            fn write_spark(&self, dir: &std::path::Path) -> $crate::Result<()> {
                $crate::persist::format::write_params(
                    dir,
                    Self::SPARK_CLASS,
                    &self.uid,
                    &self.params,
                )
            }
            fn read_spark(
                dir: &std::path::Path,
                md: &$crate::persist::Metadata,
            ) -> $crate::Result<Self> {
                let params: $params = md.params_as(dir)?;
                $crate::param::Params::validate(&params)?;
                Ok(Self {
                    uid: md.uid.clone(),
                    params,
                })
            }
        }
    };
}
pub(crate) use evaluator_persist;

/// Loads an evaluator saved by Spark or mlpipe (any of the four evaluators), dispatching
/// on the class in its metadata. Used by the tuning validators (`evaluator/`).
///
/// # Errors
/// [`Error::File`] naming the directory for a corrupt save or a class that is no evaluator
/// mlpipe has (listing the ones it has).
pub fn load_evaluator(
    dir: impl AsRef<std::path::Path>,
) -> Result<std::sync::Arc<dyn crate::pipeline::Evaluator>> {
    use crate::persist::{read_metadata, SparkPersist};
    use std::sync::Arc;
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    fn reads<T: SparkPersist>(class: &str) -> bool {
        T::SPARK_CLASS == class || T::ALSO_READS.contains(&class)
    }
    let c = md.class.as_str();
    Ok(if reads::<BinaryClassificationEvaluator>(c) {
        Arc::new(BinaryClassificationEvaluator::read_spark(dir, &md)?)
    } else if reads::<MulticlassClassificationEvaluator>(c) {
        Arc::new(MulticlassClassificationEvaluator::read_spark(dir, &md)?)
    } else if reads::<RegressionEvaluator>(c) {
        Arc::new(RegressionEvaluator::read_spark(dir, &md)?)
    } else if reads::<ClusteringEvaluator>(c) {
        Arc::new(ClusteringEvaluator::read_spark(dir, &md)?)
    } else {
        return Err(Error::file(
            dir.join("metadata"),
            format!(
                "holds a {c}, not an evaluator mlpipe has (BinaryClassificationEvaluator, MulticlassClassificationEvaluator, RegressionEvaluator, ClusteringEvaluator)"
            ),
        ));
    })
}

/// One column's `f64` values, one buffer per partition. A Float64 column is shared, not
/// copied; other types are cast once.
pub(crate) type Values = Vec<ScalarBuffer<f64>>;

/// Reads a numeric column as `f64` per partition, rejecting nulls and NaN.
pub(crate) fn numeric_values(
    df: &DataFrame,
    stage: &'static str,
    col: &str,
    what: &'static str,
) -> Result<Values> {
    schema::require_numeric(df.schema(), stage, col)?;
    df.map_partitions(|pi, b| {
        let arr = schema::batch_column(b, col)?;
        let arr = cast(arr, &DataType::Float64)?;
        let a = arr.as_primitive::<Float64Type>();
        for r in 0..a.len() {
            if a.is_null(r) || a.value(r).is_nan() {
                return Err(Error::InvalidValue {
                    stage,
                    column: col.to_string(),
                    partition: pi,
                    row: r,
                    what: format!("{} {what}", if a.is_null(r) { "null" } else { "NaN" }),
                    hint: "drop or fix such rows before evaluating".into(),
                });
            }
        }
        Ok(a.values().clone())
    })
}

/// Reads an optional weight column: finite, >= 0; `None` gives all 1.
pub(crate) fn weight_values(
    df: &DataFrame,
    stage: &'static str,
    col: Option<&str>,
) -> Result<Option<Values>> {
    let Some(col) = col.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    let w = numeric_values(df, stage, col, "weight")?;
    for (pi, part) in w.iter().enumerate() {
        if let Some(r) = part.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::InvalidValue {
                stage,
                column: col.to_string(),
                partition: pi,
                row: r,
                what: format!("weight {}", part[r]),
                hint: "weights must be finite and >= 0".into(),
            });
        }
    }
    Ok(Some(w))
}

/// Element `index` of a vector column, or a plain numeric column, as `f64` per partition.
pub(crate) fn score_values(
    df: &DataFrame,
    stage: &'static str,
    col: &str,
    index: usize,
) -> Result<Values> {
    let (_, field) = schema::require_column(df.schema(), stage, col)?;
    match vector::field_vector_size(field) {
        Some(n) if n > index => df.map_partitions(|pi, b| {
            let at = vector::At {
                stage,
                column: col,
                partition: pi,
            };
            let arr = vector::VectorBlock::new(schema::batch_column(b, col)?.as_ref(), n, at)?;
            let mut out = Vec::with_capacity(arr.len());
            for r in 0..arr.len() {
                let v = arr.row(r).and_then(|x| x.get(index)).unwrap_or(f64::NAN);
                if arr.is_null(r) || v.is_nan() {
                    return Err(Error::InvalidValue {
                        stage,
                        column: col.to_string(),
                        partition: pi,
                        row: r,
                        what: if arr.is_null(r) {
                            "null score".into()
                        } else {
                            "NaN score".into()
                        },
                        hint: "drop or fix such rows before evaluating".into(),
                    });
                }
                out.push(v);
            }
            Ok(ScalarBuffer::from(out))
        }),
        Some(n) => Err(Error::FeatureCount {
            stage,
            column: col.to_string(),
            expected: index + 1,
            found: n,
        }),
        None if schema::is_numeric(field.data_type()) => numeric_values(df, stage, col, "score"),
        None => Err(Error::ColumnType {
            stage,
            column: col.to_string(),
            expected: "a numeric or vector column".into(),
            found: field.data_type().clone(),
        }),
    }
}

/// The columns an evaluator reads, one buffer per partition.
pub(crate) struct Scored {
    /// Predictions, or scores.
    pub preds: Values,
    /// Labels.
    pub labels: Values,
    /// Weights, when a weight column is set.
    pub weights: Option<Values>,
}

impl Scored {
    /// Weight of row `r` of partition `p` (1 without a weight column).
    pub fn weight(&self, p: usize, r: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[p][r])
    }
}

/// Checks every column before any data is read, then reads the prediction column (element
/// `score_index` of a vector column, or a number, when `score_index` is given), the label
/// and the optional weight.
pub(crate) fn read_scored(
    df: &DataFrame,
    stage: &'static str,
    pred_col: &str,
    score_index: Option<usize>,
    label_col: &str,
    weight_col: Option<&str>,
) -> Result<Scored> {
    match score_index {
        Some(_) => check_columns(df, stage, &[pred_col], &[label_col], weight_col)?,
        None => check_columns(df, stage, &[], &[pred_col, label_col], weight_col)?,
    }
    require_rows(df, stage)?;
    let preds = match score_index {
        Some(i) => score_values(df, stage, pred_col, i)?,
        None => numeric_values(df, stage, pred_col, "prediction")?,
    };
    Ok(Scored {
        preds,
        labels: numeric_values(df, stage, label_col, "label")?,
        weights: weight_values(df, stage, weight_col)?,
    })
}

/// Checks that the columns exist (and the numeric ones are numeric) before data is read.
pub(crate) fn check_columns(
    df: &DataFrame,
    stage: &'static str,
    any: &[&str],
    numeric: &[&str],
    weight: Option<&str>,
) -> Result<()> {
    for c in any {
        schema::require_column(df.schema(), stage, c)?;
    }
    for c in numeric
        .iter()
        .chain(weight.filter(|w| !w.is_empty()).as_slice())
    {
        schema::require_numeric(df.schema(), stage, c)?;
    }
    Ok(())
}

/// Fails with [`Error::EmptyInput`] when `df` has no rows.
pub(crate) fn require_rows(df: &DataFrame, stage: &'static str) -> Result<()> {
    if df.num_rows() == 0 {
        return Err(Error::EmptyInput {
            stage,
            hint: "evaluate needs at least one scored row".into(),
        });
    }
    Ok(())
}
