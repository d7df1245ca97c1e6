//! What every stage's params struct shares: by-name get/set through the JSON form,
//! validation helpers, the `handleInvalid` policy, uids, and Spark's JSON for doubles.
//!
//! Each stage has one `XParams` struct whose serde names are Spark's param names
//! (`regParam`, `inputCols`, ...). Its `Default` holds Spark's defaults, and `validate()`
//! checks every constraint before any data is read. The JSON form is what the CLI, tuning
//! and persistence use to get and set params by name.
//!
//! # Examples
//! ```
//! use mlpipe::param::Params;
//! use mlpipe::feature::VectorAssemblerParams;
//! let mut p = VectorAssemblerParams::default();
//! p.set_param("handleInvalid", serde_json::json!("skip")).unwrap();
//! assert_eq!(p.get_param("handleInvalid").unwrap(), "skip");
//! let err = p.set_param("handleInvalid", serde_json::json!("drop")).unwrap_err();
//! assert!(err.to_string().starts_with("VectorAssembler: parameter `handleInvalid` must be"));
//! ```

use std::fmt::Debug;

use rand::Rng;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The params struct of a stage: serde with Spark's names, defaults, validation, and
/// by-name access through JSON.
pub trait Params: Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static {
    /// The stage's name, used in error messages ("LogisticRegression").
    const STAGE: &'static str;

    /// Checks every constraint; called before any data is read.
    fn validate(&self) -> Result<()>;

    /// The params as a JSON object keyed by Spark's param names.
    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The sorted names of all params.
    fn param_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self.to_json() {
            Value::Object(m) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        names.sort();
        names
    }

    /// The JSON value of param `name`.
    ///
    /// # Errors
    /// [`Error::UnknownParam`] listing the valid names.
    fn get_param(&self, name: &str) -> Result<Value> {
        match self.to_json() {
            Value::Object(m) if m.contains_key(name) => Ok(m[name].clone()),
            _ => Err(Error::UnknownParam {
                stage: Self::STAGE,
                param: name.to_string(),
                valid: self.param_names(),
            }),
        }
    }

    /// Sets param `name` from JSON and checks its constraint; on error nothing changes.
    ///
    /// # Errors
    /// [`Error::UnknownParam`] for a name the stage lacks; [`Error::InvalidParam`] for a
    /// value of the wrong type or out of range.
    fn set_param(&mut self, name: &str, value: Value) -> Result<()> {
        let mut obj = match self.to_json() {
            Value::Object(m) => m,
            _ => {
                return Err(Error::Internal(format!(
                    "{} params are not a JSON object",
                    Self::STAGE
                )))
            }
        };
        if !obj.contains_key(name) {
            return Err(Error::UnknownParam {
                stage: Self::STAGE,
                param: name.to_string(),
                valid: self.param_names(),
            });
        }
        obj.insert(name.to_string(), value.clone());
        let new: Self = serde_json::from_value(Value::Object(obj)).map_err(|e| {
            let reason = e.to_string();
            let reason = reason
                .split(" at line")
                .next()
                .unwrap_or(&reason)
                .to_string();
            Error::param(
                Self::STAGE,
                name,
                format!("a valid value ({reason})"),
                &value,
            )
        })?;
        // Like Spark, a set checks that one param's constraint; problems with other params
        // (say, required ones not set yet) surface when the stage is used.
        match new.validate() {
            Err(Error::InvalidParam { param, .. }) if param != name => {}
            Err(e @ Error::InvalidParam { .. }) => return Err(e),
            _ => {}
        }
        *self = new;
        Ok(())
    }
}

/// What a stage does with an invalid value (null, NaN, an unseen category): Spark's
/// `handleInvalid` param.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HandleInvalid {
    /// Fail with an error naming the row (Spark's default).
    #[default]
    Error,
    /// Drop the row.
    Skip,
    /// Keep the row with a stand-in value (NaN, or an extra category).
    Keep,
}

impl HandleInvalid {
    /// Spark's string for the policy.
    pub fn as_str(self) -> &'static str {
        match self {
            HandleInvalid::Error => "error",
            HandleInvalid::Skip => "skip",
            HandleInvalid::Keep => "keep",
        }
    }
}

/// A new uid in Spark's form: `prefix` + `_` + 12 random hex digits.
///
/// # Examples
/// ```
/// let uid = mlpipe::param::random_uid("vecAssembler");
/// assert!(uid.starts_with("vecAssembler_") && uid.len() == "vecAssembler_".len() + 12);
/// ```
pub fn random_uid(prefix: &str) -> String {
    let x: u64 = rand::rng().random();
    format!("{prefix}_{:012x}", x & 0xffff_ffff_ffff)
}

/// Fails unless `v >= lo`.
pub fn check_at_least(stage: &'static str, param: &str, v: f64, lo: f64) -> Result<()> {
    if v >= lo {
        Ok(())
    } else {
        Err(Error::param(stage, param, format!(">= {lo}"), v))
    }
}

/// Fails unless `lo <= v <= hi`.
pub fn check_in_range(stage: &'static str, param: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(Error::param(stage, param, format!("in [{lo}, {hi}]"), v))
    }
}

/// Fails if `v` is empty.
pub fn check_non_empty<T: Debug>(stage: &'static str, param: &str, v: &[T]) -> Result<()> {
    if v.is_empty() {
        Err(Error::param(stage, param, "a non-empty list", "[]"))
    } else {
        Ok(())
    }
}

/// Serde for doubles in Spark's param JSON: NaN and infinities are the strings `"NaN"`,
/// `"Inf"` and `"-Inf"` (plain JSON numbers otherwise). Use with
/// `#[serde(with = "mlpipe::param::spark_double")]`.
pub mod spark_double {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes `v` as Spark does.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v == f64::INFINITY {
            s.serialize_str("Inf")
        } else if *v == f64::NEG_INFINITY {
            s.serialize_str("-Inf")
        } else {
            s.serialize_f64(*v)
        }
    }

    /// Reads a number or one of Spark's strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum NumOrStr {
            Num(f64),
            Str(String),
        }
        match NumOrStr::deserialize(d)? {
            NumOrStr::Num(v) => Ok(v),
            NumOrStr::Str(s) => super::parse_spark_double(&s).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a number, \"NaN\", \"Inf\" or \"-Inf\", got {s:?}"
                ))
            }),
        }
    }
}

/// A double in Spark's param JSON (see [`spark_double`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SparkDouble(pub f64);

impl Serialize for SparkDouble {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        spark_double::serialize(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for SparkDouble {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        spark_double::deserialize(d).map(SparkDouble)
    }
}

/// Serde for `Option<Vec<f64>>` in Spark's param JSON (`"-Inf"`, `"Inf"`, `"NaN"`).
pub mod spark_doubles {
    use super::SparkDouble;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes each element as Spark does.
    pub fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| v.iter().map(|x| SparkDouble(*x)).collect::<Vec<_>>())
            .serialize(s)
    }

    /// Reads numbers or Spark's strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
        Ok(Option::<Vec<SparkDouble>>::deserialize(d)?
            .map(|v| v.into_iter().map(|x| x.0).collect()))
    }
}

/// Serde for `Option<Vec<Vec<f64>>>` in Spark's param JSON.
pub mod spark_doubles2 {
    use super::SparkDouble;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes each element as Spark does.
    pub fn serialize<S: Serializer>(v: &Option<Vec<Vec<f64>>>, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref()
            .map(|v| {
                v.iter()
                    .map(|r| r.iter().map(|x| SparkDouble(*x)).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .serialize(s)
    }

    /// Reads numbers or Spark's strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Vec<f64>>>, D::Error> {
        Ok(Option::<Vec<Vec<SparkDouble>>>::deserialize(d)?.map(|v| {
            v.into_iter()
                .map(|r| r.into_iter().map(|x| x.0).collect())
                .collect()
        }))
    }
}

/// Parses Spark's spelling of a non-finite double (and plain numbers given as strings).
pub fn parse_spark_double(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "Inf" | "Infinity" => Some(f64::INFINITY),
        "-Inf" | "-Infinity" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// Builder setters for Spark's shared params (`HasFeaturesCol`, `HasMaxIter`, ...), one
/// mechanism for every estimator whose params struct has the matching fields: inside an
/// `impl` of a type with a `params` field, `shared_setters! { max_iter: "100", tol: "1e-6" }`
/// defines `with_max_iter(usize)` and `with_tol(f64)`, each documented with Spark's name,
/// meaning and the given default.
macro_rules! shared_setters {
    ($($param:ident : $default:literal),* $(,)?) => {
        $($crate::param::shared_setters!(@one $param, $default);)*
    };
    (@one features_col, $d:literal) => {
        $crate::param::shared_setters!(@col with_features_col, features_col, "featuresCol", "the feature vector column", $d);
    };
    (@one label_col, $d:literal) => {
        $crate::param::shared_setters!(@col with_label_col, label_col, "labelCol", "the label column", $d);
    };
    (@one prediction_col, $d:literal) => {
        $crate::param::shared_setters!(@col with_prediction_col, prediction_col, "predictionCol", "the prediction column (`\"\"` leaves it out)", $d);
    };
    (@one raw_prediction_col, $d:literal) => {
        $crate::param::shared_setters!(@col with_raw_prediction_col, raw_prediction_col, "rawPredictionCol", "the raw prediction column (`\"\"` leaves it out)", $d);
    };
    (@one probability_col, $d:literal) => {
        $crate::param::shared_setters!(@col with_probability_col, probability_col, "probabilityCol", "the class probability column (`\"\"` leaves it out)", $d);
    };
    (@one weight_col, $d:literal) => {
        #[doc = concat!("Sets `weightCol`, the instance weight column; default ", $d, ".")]
        pub fn with_weight_col(mut self, c: &str) -> Self {
            self.params.weight_col = Some(c.into());
            self
        }
    };
    (@one max_iter, $d:literal) => {
        $crate::param::shared_setters!(@val with_max_iter, max_iter, usize, "maxIter", "the maximum number of iterations (>= 0)", $d);
    };
    (@one reg_param, $d:literal) => {
        $crate::param::shared_setters!(@val with_reg_param, reg_param, f64, "regParam", "the regularisation parameter λ (>= 0)", $d);
    };
    (@one elastic_net_param, $d:literal) => {
        $crate::param::shared_setters!(@val with_elastic_net_param, elastic_net_param, f64, "elasticNetParam", "the elastic-net mix α in [0, 1] (0: L2, 1: L1)", $d);
    };
    (@one tol, $d:literal) => {
        $crate::param::shared_setters!(@val with_tol, tol, f64, "tol", "the convergence tolerance (>= 0)", $d);
    };
    (@one fit_intercept, $d:literal) => {
        $crate::param::shared_setters!(@val with_fit_intercept, fit_intercept, bool, "fitIntercept", "whether to fit an intercept", $d);
    };
    (@one standardization, $d:literal) => {
        $crate::param::shared_setters!(@val with_standardization, standardization, bool, "standardization", "whether to standardise the features while fitting (the coefficients are always on the original scale)", $d);
    };
    (@col $fn:ident, $field:ident, $spark:literal, $what:literal, $d:literal) => {
        #[doc = concat!("Sets `", $spark, "`, ", $what, "; default `\"", $d, "\"`.")]
        pub fn $fn(mut self, c: &str) -> Self {
            self.params.$field = c.into();
            self
        }
    };
    (@val $fn:ident, $field:ident, $t:ty, $spark:literal, $what:literal, $d:literal) => {
        #[doc = concat!("Sets `", $spark, "`, ", $what, "; default ", $d, ".")]
        pub fn $fn(mut self, v: $t) -> Self {
            self.params.$field = v;
            self
        }
    };
}
pub(crate) use shared_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct P {
        reg_param: f64,
        #[serde(with = "spark_double")]
        missing_value: f64,
    }
    impl Params for P {
        const STAGE: &'static str = "Test";
        fn validate(&self) -> Result<()> {
            check_at_least(Self::STAGE, "regParam", self.reg_param, 0.0)
        }
    }

    #[test]
    fn get_set_by_name() {
        let mut p = P {
            reg_param: 0.0,
            missing_value: f64::NAN,
        };
        assert_eq!(p.get_param("missingValue").unwrap(), "NaN");
        p.set_param("regParam", serde_json::json!(0.5)).unwrap();
        assert_eq!(p.reg_param, 0.5);
        let err = p
            .set_param("regParam", serde_json::json!(-1.0))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Test: parameter `regParam` must be >= 0, got -1"
        );
        assert_eq!(p.reg_param, 0.5, "a failed set leaves the params unchanged");
        let err = p.set_param("regparam", serde_json::json!(1.0)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Test: unknown parameter `regparam`; valid parameters are: [\"missingValue\", \"regParam\"]"
        );
        let err = p.set_param("regParam", serde_json::json!("a")).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "Test: parameter `regParam` must be a valid value (invalid type: string"
            ),
            "{err}"
        );
        p.set_param("missingValue", serde_json::json!("-Inf"))
            .unwrap();
        assert_eq!(p.missing_value, f64::NEG_INFINITY);
    }

    #[test]
    fn handle_invalid_json() {
        assert_eq!(
            serde_json::to_string(&HandleInvalid::Keep).unwrap(),
            "\"keep\""
        );
        let h: HandleInvalid = serde_json::from_str("\"skip\"").unwrap();
        assert_eq!(h, HandleInvalid::Skip);
    }
}
