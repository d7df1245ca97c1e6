//! Spark persistence of the validators and their models (Spark's `ValidatorParams.saveImpl`
//! layout, which PySpark reads too):
//!
//! ```text
//! metadata/        the validator's params, with `estimatorParamMaps` as
//!                  [[{"parent": uid, "name": p, "value": "<JSON>", "isJson": "true"}, ...], ...];
//!                  models add `avgMetrics` + `stdMetrics` (CV) or `validationMetrics` (TVS)
//!                  and `persistSubModels` at top level
//! estimator/       the estimator that is tuned
//! evaluator/       the evaluator
//! bestModel/       models only: the best model refit on all rows
//! subModels/       models with sub-models only: `fold<k>/<j>/` (CV) or `<j>/` (TVS)
//! ```

use std::any::Any;
use std::path::Path;
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::validators::{CV_SEED, TVS_SEED};
use super::{
    stage_of, CrossValidator, CrossValidatorModel, FoldAssignment, Param, ParamMap,
    TrainValidationSplit, TrainValidationSplitModel,
};
use crate::error::{Error, Result};
use crate::evaluation::load_evaluator;
use crate::persist::{format, Metadata, Persist, SparkPersist};
use crate::pipeline::{DynEstimator, Estimator, Evaluator, Model, Pipeline, Transformer};

/// Spark's default seed of `CrossValidatorModel` (Java's hash of its class name), written
/// in its `defaultParamMap`.
const CVM_SEED: i64 = 880116102;
/// Spark's default seed of `TrainValidationSplitModel`.
const TVSM_SEED: i64 = -155849057;

/// The current params (JSON) of the stage with `uid` in `est` (a stage of a pipeline, or
/// the estimator itself).
fn params_of(est: &dyn DynEstimator, uid: &str) -> Option<Value> {
    if est.uid() == uid {
        return Some(est.params_json());
    }
    let pipeline = (est as &dyn Any).downcast_ref::<Pipeline>()?;
    pipeline
        .stages()
        .iter()
        .map(stage_of)
        .find(|s| s.uid() == uid)
        .map(|s| s.params_json())
}

/// `estimatorParamMaps` in Spark's JSON: each value JSON-encoded into a string. An integer
/// given for a param that holds a double is written as a double (Spark's `DoubleParam`
/// does not decode an integer).
fn encode_maps(est: &dyn DynEstimator, maps: &[ParamMap]) -> Value {
    Value::Array(
        maps.iter()
            .map(|m| {
                Value::Array(
                    m.pairs()
                        .iter()
                        .map(|(p, v)| {
                            let is_double = params_of(est, &p.parent)
                                .and_then(|ps| ps.get(&p.name).map(Value::is_f64))
                                .unwrap_or(false);
                            let v = match v.as_f64() {
                                Some(x) if is_double && !v.is_f64() => json!(x),
                                _ => v.clone(),
                            };
                            json!({"parent": p.parent, "name": p.name, "value": v.to_string(), "isJson": "true"})
                        })
                        .collect(),
                )
            })
            .collect(),
    )
}

fn decode_maps(dir: &Path, md: &Metadata) -> Result<Vec<ParamMap>> {
    let bad = |what: String| Error::file(dir.join("metadata"), what);
    let maps = md
        .params
        .get("estimatorParamMaps")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("metadata lacks paramMap.estimatorParamMaps".into()))?;
    maps.iter()
        .enumerate()
        .map(|(i, m)| {
            let pairs = m
                .as_array()
                .ok_or_else(|| bad(format!("estimatorParamMaps[{i}] is not a list")))?;
            pairs.iter().try_fold(ParamMap::new(), |map, pair| {
                let s = |k: &str| {
                    pair.get(k).and_then(Value::as_str).ok_or_else(|| {
                        bad(format!("estimatorParamMaps[{i}] has an entry without `{k}`"))
                    })
                };
                let (parent, name, value) = (s("parent")?, s("name")?, s("value")?);
                if pair.get("isJson").and_then(Value::as_str) == Some("false") {
                    return Err(bad(format!(
                        "estimatorParamMaps[{i}] sets `{name}` of {parent} to a saved stage ({value}); mlpipe reads only JSON param values"
                    )));
                }
                let v: Value = serde_json::from_str(value).map_err(|e| {
                    bad(format!(
                        "estimatorParamMaps[{i}]: the value of `{name}` is not JSON ({value:?}): {e}"
                    ))
                })?;
                Ok(map.put(
                    Param {
                        parent: parent.to_string(),
                        name: name.to_string(),
                    },
                    v,
                ))
            })
        })
        .collect()
}

/// Writes `metadata/`, `estimator/` and `evaluator/` of a validator or validator model.
fn write_common(
    dir: &Path,
    (class, uid): (&str, &str),
    mut params: Map<String, Value>,
    defaults: Value,
    est: &dyn DynEstimator,
    evaluator: &dyn Evaluator,
    maps: &[ParamMap],
) -> Result<()> {
    let cannot = |what: &str, kind: &str| {
        Error::Pipeline(format!(
            "{} ({uid}) cannot be saved: its {what}, {kind}, cannot be saved in Spark's format",
            format::short_class(class)
        ))
    };
    let est_p = crate::persist::persistable_estimator(est)
        .ok_or_else(|| cannot("estimator", est.kind()))?;
    let eval_p = evaluator
        .persistable()
        .ok_or_else(|| cannot("evaluator", "a custom evaluator"))?;
    params.insert("estimatorParamMaps".into(), encode_maps(est, maps));
    format::write_metadata(dir, class, uid, Value::Object(params), defaults, None)?;
    write_sub(&dir.join("estimator"), est_p)?;
    write_sub(&dir.join("evaluator"), eval_p)
}

fn write_sub(dir: &Path, p: &dyn Persist) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, format!("cannot create: {e}")))?;
    p.write_into(dir)
}

fn write_model(dir: &Path, m: &dyn Transformer) -> Result<()> {
    let p = crate::persist::persistable(m).ok_or_else(|| {
        Error::Pipeline(format!(
            "{} ({}) cannot be saved in Spark's format yet",
            m.kind(),
            m.uid()
        ))
    })?;
    write_sub(dir, p)
}

/// Reads `estimator/` as an `E`.
fn read_estimator<E: Estimator>(dir: &Path) -> Result<E> {
    let edir = dir.join("estimator");
    match crate::persist::load_pipeline_stage(&edir)? {
        crate::pipeline::PipelineStage::Estimator(e) => (e.as_ref() as &dyn Any)
            .downcast_ref::<E>()
            .cloned()
            .ok_or_else(|| mismatch(&edir, e.kind(), std::any::type_name::<E>())),
        crate::pipeline::PipelineStage::Transformer(t) => {
            Err(mismatch(&edir, t.kind(), std::any::type_name::<E>()))
        }
    }
}

/// Reads `estimator/` as any estimator (for a model).
fn read_dyn_estimator(dir: &Path) -> Result<Arc<dyn DynEstimator>> {
    let edir = dir.join("estimator");
    match crate::persist::load_pipeline_stage(&edir)? {
        crate::pipeline::PipelineStage::Estimator(e) => Ok(Arc::from(e)),
        crate::pipeline::PipelineStage::Transformer(t) => Err(Error::file(
            &edir,
            format!("holds a {}, not an estimator", t.kind()),
        )),
    }
}

/// Reads a saved model as an `M`.
fn read_model<M: Model>(dir: &Path) -> Result<M> {
    let t = crate::persist::load_stage(dir)?;
    let kind = t.kind();
    let any: Box<dyn Any> = t;
    any.downcast::<M>()
        .map(|m| *m)
        .map_err(|_| mismatch(dir, kind, std::any::type_name::<M>()))
}

fn mismatch(dir: &Path, found: &str, expected: &str) -> Error {
    let expected = expected.rsplit("::").next().unwrap_or(expected);
    Error::file(
        dir,
        format!(
            "holds a {found}, not a {expected}; load the validator with its type parameter set to {found} (CrossValidatorModel::<{found}>::load)"
        ),
    )
}

fn f64_list(dir: &Path, md: &Metadata, key: &str) -> Result<Option<Vec<f64>>> {
    let Some(v) = md.raw.get(key) else {
        return Ok(None);
    };
    v.as_array()
        .and_then(|a| a.iter().map(Value::as_f64).collect::<Option<Vec<f64>>>())
        .map(Some)
        .ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                format!("`{key}` is not a list of numbers"),
            )
        })
}

fn int_param(dir: &Path, md: &Metadata, name: &str, default: i64) -> Result<i64> {
    match md.params.get(name) {
        None => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                format!("param `{name}` is not an integer: {v}"),
            )
        }),
    }
}

fn fold_col(md: &Metadata) -> Option<String> {
    md.params
        .get("foldCol")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(String::from)
}

fn check_len(dir: &Path, what: &str, got: usize, maps: usize) -> Result<()> {
    if got == maps {
        Ok(())
    } else {
        Err(Error::file(
            dir.join("metadata"),
            format!("`{what}` has {got} values for {maps} param maps"),
        ))
    }
}

/// The index of the best metric, as the validators pick it.
fn best_of(metrics: &[f64], evaluator: &dyn Evaluator) -> usize {
    super::best_index(metrics, evaluator.is_larger_better())
}

impl<E: Estimator> SparkPersist for CrossValidator<E> {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.tuning.CrossValidator";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.tuning.CrossValidator"];

    fn write_spark(&self, dir: &Path) -> Result<()> {
        let Value::Object(params) = crate::pipeline::Stage::params_json(self) else {
            return Err(Error::Internal("validator params are not an object".into()));
        };
        write_common(
            dir,
            (Self::SPARK_CLASS, self.uid()),
            params,
            json!({"collectSubModels": false, "foldCol": "", "numFolds": 3, "parallelism": 1, "seed": CV_SEED}),
            &self.estimator,
            self.evaluator.as_ref(),
            &self.maps,
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let estimator: E = read_estimator(dir)?;
        let evaluator = load_evaluator(dir.join("evaluator"))?;
        let mut cv = CrossValidator {
            uid: md.uid.clone(),
            estimator,
            evaluator,
            maps: decode_maps(dir, md)?,
            num_folds: 3,
            fold_col: fold_col(md),
            seed: int_param(dir, md, "seed", CV_SEED)?,
            parallelism: 1,
            collect_sub_models: false,
            folds: FoldAssignment::PySpark,
            progress: None,
        };
        cv.num_folds = int_param(dir, md, "numFolds", 3)?.max(0) as usize;
        cv.parallelism = int_param(dir, md, "parallelism", 1)?.max(0) as usize;
        cv.collect_sub_models = md
            .params
            .get("collectSubModels")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Ok(cv)
    }
}

impl<M: Model + Clone> SparkPersist for CrossValidatorModel<M> {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.tuning.CrossValidatorModel";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.tuning.CrossValidatorModel"];

    fn write_spark(&self, dir: &Path) -> Result<()> {
        let Value::Object(params) = crate::pipeline::Stage::params_json(self) else {
            return Err(Error::Internal("validator params are not an object".into()));
        };
        write_common(
            dir,
            (Self::SPARK_CLASS, &self.uid),
            params,
            json!({"foldCol": "", "numFolds": 3, "seed": CVM_SEED}),
            self.estimator.as_ref(),
            self.evaluator.as_ref(),
            &self.maps,
        )?;
        let persist_subs = self.sub_models.is_some();
        format::add_metadata_keys(
            dir,
            &[
                ("avgMetrics", json!(self.avg_metrics)),
                ("stdMetrics", json!(self.std_metrics)),
                ("persistSubModels", json!(persist_subs)),
            ],
        )?;
        write_model(&dir.join("bestModel"), &self.best_model)?;
        if let Some(subs) = &self.sub_models {
            for (k, fold) in subs.iter().enumerate() {
                for (j, m) in fold.iter().enumerate() {
                    write_model(
                        &dir.join("subModels")
                            .join(format!("fold{k}"))
                            .join(j.to_string()),
                        m,
                    )?;
                }
            }
        }
        Ok(())
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let maps = decode_maps(dir, md)?;
        let evaluator = load_evaluator(dir.join("evaluator"))?;
        let avg_metrics = f64_list(dir, md, "avgMetrics")?.ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                "CrossValidatorModel metadata lacks `avgMetrics`",
            )
        })?;
        check_len(dir, "avgMetrics", avg_metrics.len(), maps.len())?;
        // Scala's writer has no stdMetrics (PySpark's adds them); empty when absent.
        let std_metrics = f64_list(dir, md, "stdMetrics")?.unwrap_or_default();
        if !std_metrics.is_empty() {
            check_len(dir, "stdMetrics", std_metrics.len(), maps.len())?;
        }
        let num_folds = int_param(dir, md, "numFolds", 3)?.max(0) as usize;
        let sub_models = if md.raw.get("persistSubModels").and_then(Value::as_bool) == Some(true) {
            let sdir = dir.join("subModels");
            Some(
                (0..num_folds)
                    .map(|k| {
                        (0..maps.len())
                            .map(|j| read_model(&sdir.join(format!("fold{k}")).join(j.to_string())))
                            .collect::<Result<Vec<M>>>()
                    })
                    .collect::<Result<Vec<_>>>()?,
            )
        } else {
            None
        };
        let best_index = best_of(&avg_metrics, evaluator.as_ref());
        Ok(CrossValidatorModel {
            uid: md.uid.clone(),
            num_folds,
            fold_col: fold_col(md),
            seed: int_param(dir, md, "seed", CVM_SEED)?,
            estimator: read_dyn_estimator(dir)?,
            evaluator,
            best_model: read_model(&dir.join("bestModel"))?,
            avg_metrics,
            std_metrics,
            fold_metrics: Vec::new(),
            sub_models,
            maps,
            best_index,
        })
    }
}

impl<E: Estimator> SparkPersist for TrainValidationSplit<E> {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.tuning.TrainValidationSplit";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.tuning.TrainValidationSplit"];

    fn write_spark(&self, dir: &Path) -> Result<()> {
        let Value::Object(params) = crate::pipeline::Stage::params_json(self) else {
            return Err(Error::Internal("validator params are not an object".into()));
        };
        write_common(
            dir,
            (Self::SPARK_CLASS, self.uid()),
            params,
            json!({"collectSubModels": false, "parallelism": 1, "seed": TVS_SEED, "trainRatio": 0.75}),
            &self.estimator,
            self.evaluator.as_ref(),
            &self.maps,
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let estimator: E = read_estimator(dir)?;
        let evaluator = load_evaluator(dir.join("evaluator"))?;
        Ok(TrainValidationSplit {
            uid: md.uid.clone(),
            estimator,
            evaluator,
            maps: decode_maps(dir, md)?,
            train_ratio: md
                .params
                .get("trainRatio")
                .and_then(Value::as_f64)
                .unwrap_or(0.75),
            seed: int_param(dir, md, "seed", TVS_SEED)?,
            parallelism: int_param(dir, md, "parallelism", 1)?.max(0) as usize,
            collect_sub_models: md
                .params
                .get("collectSubModels")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            split: FoldAssignment::PySpark,
            progress: None,
        })
    }
}

impl<M: Model + Clone> SparkPersist for TrainValidationSplitModel<M> {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.tuning.TrainValidationSplitModel";
    const ALSO_READS: &'static [&'static str] = &["pyspark.ml.tuning.TrainValidationSplitModel"];

    fn write_spark(&self, dir: &Path) -> Result<()> {
        let Value::Object(params) = crate::pipeline::Stage::params_json(self) else {
            return Err(Error::Internal("validator params are not an object".into()));
        };
        write_common(
            dir,
            (Self::SPARK_CLASS, &self.uid),
            params,
            json!({"seed": TVSM_SEED, "trainRatio": 0.75}),
            self.estimator.as_ref(),
            self.evaluator.as_ref(),
            &self.maps,
        )?;
        format::add_metadata_keys(
            dir,
            &[
                ("validationMetrics", json!(self.validation_metrics)),
                ("persistSubModels", json!(self.sub_models.is_some())),
            ],
        )?;
        write_model(&dir.join("bestModel"), &self.best_model)?;
        if let Some(subs) = &self.sub_models {
            for (j, m) in subs.iter().enumerate() {
                write_model(&dir.join("subModels").join(j.to_string()), m)?;
            }
        }
        Ok(())
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let maps = decode_maps(dir, md)?;
        let evaluator = load_evaluator(dir.join("evaluator"))?;
        let validation_metrics = f64_list(dir, md, "validationMetrics")?.ok_or_else(|| {
            Error::file(
                dir.join("metadata"),
                "TrainValidationSplitModel metadata lacks `validationMetrics`",
            )
        })?;
        check_len(
            dir,
            "validationMetrics",
            validation_metrics.len(),
            maps.len(),
        )?;
        let sub_models = if md.raw.get("persistSubModels").and_then(Value::as_bool) == Some(true) {
            Some(
                (0..maps.len())
                    .map(|j| read_model(&dir.join("subModels").join(j.to_string())))
                    .collect::<Result<Vec<M>>>()?,
            )
        } else {
            None
        };
        let best_index = best_of(&validation_metrics, evaluator.as_ref());
        Ok(TrainValidationSplitModel {
            uid: md.uid.clone(),
            train_ratio: md
                .params
                .get("trainRatio")
                .and_then(Value::as_f64)
                .unwrap_or(0.75),
            seed: int_param(dir, md, "seed", TVSM_SEED)?,
            estimator: read_dyn_estimator(dir)?,
            evaluator,
            best_model: read_model(&dir.join("bestModel"))?,
            validation_metrics,
            sub_models,
            maps,
            best_index,
        })
    }
}
