//! Fitted models brought back through Spark Connect's ML Fetch: the server hands out the
//! fitted values its allowlist names (`MLUtils` in Spark's `spark-connect` jar), and the
//! local mlpipe model is built from them with the params the client sent, without any
//! storage shared with the cluster.
//!
//! The models whose whole fitted state the allowlist covers (Spark 4.0 to 4.3):
//! `LogisticRegressionModel` (`coefficientMatrix`, `interceptVector`, `numClasses`,
//! `numFeatures`), `LinearRegressionModel` (`coefficients`, `intercept`, `scale`),
//! `LinearSVCModel` (`coefficients`, `intercept`), `NaiveBayesModel` (`pi`, `theta`,
//! `sigma`), `KMeansModel` (`clusterCenterMatrix`), `StringIndexerModel`
//! (`labelsArray`), `OneHotEncoderModel` (`categorySizes`), `StandardScalerModel`
//! (`mean`, `std`), `MinMaxScalerModel` (`originalMin`, `originalMax`),
//! `MaxAbsScalerModel` (`maxAbs`), `RobustScalerModel` (`median`, `range`),
//! `ImputerModel` (`surrogateDF`), `IDFModel` (`idf`, `docFreq`, `numDocs`) and
//! `CountVectorizerModel` (`vocabulary`). The others (tree models, whose trees the
//! allowlist hands out only as further server objects; `VectorIndexerModel`; the
//! `Bucketizer` a `QuantileDiscretizer` fits) come back through a save.

use serde_json::{Map, Value};
use spark_connect_proto as pb;

use super::frame::RemoteFrame;
use super::session::Session;
use crate::classification::{LinearSVCModel, LogisticRegressionModel, NaiveBayesModel};
use crate::clustering::KMeansModel;
use crate::error::{Error, Result};
use crate::feature::{
    CountVectorizerModel, IDFModel, ImputerModel, MaxAbsScalerModel, MinMaxScalerModel,
    OneHotEncoderModel, RobustScalerModel, StandardScalerModel, StringIndexerModel,
};
use crate::persist::Metadata;
use crate::pipeline::Transformer;
use crate::regression::LinearRegressionModel;

use pb::expression::literal::LiteralType as L;

/// The Spark model class a server-side fit of `class` (an estimator's, or already a
/// model's) gives, short name: `...LogisticRegression` -> `LogisticRegressionModel`.
pub(super) fn model_short_class(class: &str) -> String {
    let short = class.rsplit('.').next().unwrap_or(class);
    match short {
        "QuantileDiscretizer" => "Bucketizer".into(),
        s if s.ends_with("Model") => s.into(),
        // DecisionTreeClassifier -> DecisionTreeClassificationModel, GBTRegressor ->
        // GBTRegressionModel, as Spark names them.
        s if s.ends_with("Classifier") => format!("{}ClassificationModel", &s[..s.len() - 10]),
        s if s.ends_with("Regressor") => format!("{}RegressionModel", &s[..s.len() - 9]),
        s => format!("{s}Model"),
    }
}

/// One fitted model on the server, as far as building it here needs.
pub(super) struct Fetched<'a> {
    pub session: &'a Session,
    pub obj_ref: &'a str,
    /// The model's uid.
    pub uid: &'a str,
    /// Spark's class (estimator's or model's).
    pub class: &'a str,
    /// Every param (defaults overlaid with the ones set), as in Spark's metadata.
    pub params: &'a Map<String, Value>,
}

impl Fetched<'_> {
    fn what(&self) -> String {
        format!("{} ({})", model_short_class(self.class), self.uid)
    }

    /// Calls the allowed method `name` on the server-side model.
    fn attr(&self, name: &str) -> Result<pb::expression::Literal> {
        let command = pb::ml_command::Command::Fetch(pb::Fetch {
            obj_ref: Some(pb::ObjectRef {
                id: self.obj_ref.to_string(),
            }),
            methods: vec![pb::fetch::Method {
                method: name.to_string(),
                args: Vec::new(),
            }],
        });
        let r = self.session.ml_command(command).map_err(|e| match e {
            Error::Remote { message, .. } => self.session.error(format!(
                "{}: fetching `{name}` failed: {message}",
                self.what()
            )),
            other => other,
        })?;
        match r.and_then(|r| r.result_type) {
            Some(pb::ml_command_result::ResultType::Param(l)) => Ok(l),
            other => Err(self.bad(name, &format!("{other:?}"))),
        }
    }

    /// The DataFrame the allowed method `name` returns (`surrogateDF`), still remote.
    fn attr_frame(&self, name: &str) -> RemoteFrame {
        let rel = pb::MlRelation {
            ml_type: Some(pb::ml_relation::MlType::Fetch(pb::Fetch {
                obj_ref: Some(pb::ObjectRef {
                    id: self.obj_ref.to_string(),
                }),
                methods: vec![pb::fetch::Method {
                    method: name.to_string(),
                    args: Vec::new(),
                }],
            })),
            model_summary_dataset: None,
        };
        RemoteFrame::new(
            self.session.clone(),
            super::session::relation(pb::relation::RelType::MlRelation(Box::new(rel))),
        )
    }

    fn bad(&self, name: &str, got: &str) -> Error {
        self.session.error(format!(
            "{}: the server's `{name}` is not what Spark's model holds (got {got}); fetch it with fetch_via(scratch) instead",
            self.what()
        ))
    }

    fn vector(&self, name: &str) -> Result<Vec<f64>> {
        let l = self.attr(name)?;
        vector_of(&l).ok_or_else(|| self.bad(name, &short(&l)))
    }

    fn matrix(&self, name: &str) -> Result<(usize, usize, Vec<f64>)> {
        let l = self.attr(name)?;
        matrix_of(&l).ok_or_else(|| self.bad(name, &short(&l)))
    }

    fn number(&self, name: &str) -> Result<f64> {
        let l = self.attr(name)?;
        number_of(&l).ok_or_else(|| self.bad(name, &short(&l)))
    }

    fn json(&self, name: &str) -> Result<Value> {
        let l = self.attr(name)?;
        json_of(&l).ok_or_else(|| self.bad(name, &short(&l)))
    }

    /// The params decoded into the model's params struct.
    fn params<P: crate::param::Params>(&self) -> Result<P> {
        let md = Metadata {
            class: self.class.to_string(),
            uid: self.uid.to_string(),
            spark_version: crate::persist::SPARK_VERSION.to_string(),
            params: self.params.clone(),
            raw: Value::Null,
        };
        md.params_as(std::path::Path::new(&format!(
            "spark-connect model {}",
            self.obj_ref
        )))
    }
}

/// A short rendering of a literal for messages.
fn short(l: &pb::expression::Literal) -> String {
    let s = format!("{:?}", l.literal_type);
    s.chars().take(120).collect()
}

fn number_of(l: &pb::expression::Literal) -> Option<f64> {
    Some(match l.literal_type.as_ref()? {
        L::Double(d) => *d,
        L::Float(f) => *f as f64,
        L::Integer(i) | L::Short(i) | L::Byte(i) => *i as f64,
        L::Long(i) => *i as f64,
        _ => return None,
    })
}

fn int_of(l: &pb::expression::Literal) -> Option<i64> {
    match l.literal_type.as_ref()? {
        L::Integer(i) | L::Short(i) | L::Byte(i) => Some(*i as i64),
        L::Long(i) => Some(*i),
        _ => None,
    }
}

/// The elements of an array literal (plain or specialized) as JSON values.
fn json_of(l: &pb::expression::Literal) -> Option<Value> {
    use pb::expression::literal::specialized_array::ValueType as S;
    Some(match l.literal_type.as_ref()? {
        L::Null(_) => Value::Null,
        L::Boolean(b) => Value::Bool(*b),
        L::String(s) => Value::String(s.clone()),
        L::Integer(_) | L::Short(_) | L::Byte(_) | L::Long(_) => Value::from(int_of(l)?),
        L::Double(_) | L::Float(_) => Value::from(number_of(l)?),
        #[allow(deprecated)]
        L::Array(a) => Value::Array(a.elements.iter().map(json_of).collect::<Option<_>>()?),
        L::SpecializedArray(s) => match s.value_type.as_ref()? {
            S::Bools(v) => v.values.iter().map(|x| Value::Bool(*x)).collect(),
            S::Ints(v) => v.values.iter().map(|x| Value::from(*x)).collect(),
            S::Longs(v) => v.values.iter().map(|x| Value::from(*x)).collect(),
            S::Floats(v) => v.values.iter().map(|x| Value::from(*x as f64)).collect(),
            S::Doubles(v) => v.values.iter().map(|x| Value::from(*x)).collect(),
            S::Strings(v) => v.values.iter().map(|x| Value::from(x.as_str())).collect(),
        },
        _ => return None,
    })
}

fn f64s_of(l: &pb::expression::Literal) -> Option<Vec<f64>> {
    json_of(l)?.as_array()?.iter().map(Value::as_f64).collect()
}

fn usizes_of(l: &pb::expression::Literal) -> Option<Vec<usize>> {
    json_of(l)?
        .as_array()?
        .iter()
        .map(|v| v.as_u64().and_then(|x| usize::try_from(x).ok()))
        .collect()
}

fn struct_elements(l: &pb::expression::Literal) -> Option<&[pb::expression::Literal]> {
    match l.literal_type.as_ref()? {
        #[allow(deprecated)]
        L::Struct(s) => Some(&s.elements),
        _ => None,
    }
}

/// A Spark ML vector (its UDT struct: type, size, indices, values) as dense values.
fn vector_of(l: &pb::expression::Literal) -> Option<Vec<f64>> {
    let e = struct_elements(l)?;
    if e.len() != 4 {
        return None;
    }
    let values = f64s_of(&e[3])?;
    match int_of(&e[0])? {
        1 => Some(values),
        0 => {
            let size = usize::try_from(int_of(&e[1])?).ok()?;
            let mut out = vec![0.0; size];
            for (i, v) in usizes_of(&e[2])?.into_iter().zip(values) {
                *out.get_mut(i)? = v;
            }
            Some(out)
        }
        _ => None,
    }
}

/// A Spark ML matrix (its UDT struct: type, numRows, numCols, colPtrs, rowIndices,
/// values, isTransposed) as `(rows, cols, row-major values)`.
fn matrix_of(l: &pb::expression::Literal) -> Option<(usize, usize, Vec<f64>)> {
    let e = struct_elements(l)?;
    if e.len() != 7 {
        return None;
    }
    let rows = usize::try_from(int_of(&e[1])?).ok()?;
    let cols = usize::try_from(int_of(&e[2])?).ok()?;
    let values = f64s_of(&e[5])?;
    let transposed = matches!(e[6].literal_type, Some(L::Boolean(true)));
    let mut out = vec![0.0; rows.checked_mul(cols)?];
    match int_of(&e[0])? {
        1 => {
            if values.len() != out.len() {
                return None;
            }
            for i in 0..rows {
                for j in 0..cols {
                    // Dense: column-major, or row-major when transposed.
                    out[i * cols + j] = if transposed {
                        values[i * cols + j]
                    } else {
                        values[j * rows + i]
                    };
                }
            }
        }
        0 => {
            // Sparse: CSC, or CSR when transposed.
            let ptrs = usizes_of(&e[3])?;
            let idx = usizes_of(&e[4])?;
            let major = if transposed { rows } else { cols };
            if ptrs.len() != major + 1 || idx.len() != values.len() {
                return None;
            }
            for m in 0..major {
                for k in *ptrs.get(m)?..*ptrs.get(m + 1)? {
                    let (i, j) = if transposed { (m, idx[k]) } else { (idx[k], m) };
                    if i >= rows || j >= cols {
                        return None;
                    }
                    out[i * cols + j] = values[k];
                }
            }
        }
        _ => return None,
    }
    Some((rows, cols, out))
}

/// The string value of a param.
fn param_str<'a>(params: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    params.get(name).and_then(Value::as_str)
}

/// The model built from its fetched attributes, or `None` when the server's allowlist
/// does not cover its whole fitted state (the caller falls back to a save).
pub(super) fn fetch_model(f: &Fetched<'_>) -> Result<Option<Box<dyn Transformer>>> {
    let uid = f.uid.to_string();
    let m: Box<dyn Transformer> = match model_short_class(f.class).as_str() {
        "LogisticRegressionModel" => {
            let (rows, cols, coefficients) = f.matrix("coefficientMatrix")?;
            let intercepts = f.vector("interceptVector")?;
            let num_classes = f.number("numClasses")? as usize;
            // Spark's LogisticRegression.fit: multinomial for family "multinomial", or
            // "auto" with more than two classes.
            let multinomial = match param_str(f.params, "family").unwrap_or("auto") {
                "multinomial" => true,
                "binomial" => false,
                _ => num_classes > 2,
            };
            if intercepts.len() != rows || (!multinomial && rows != 1) {
                return Err(f.bad(
                    "coefficientMatrix",
                    &format!("{rows}x{cols} with {} intercepts", intercepts.len()),
                ));
            }
            Box::new(LogisticRegressionModel::new(
                uid,
                f.params()?,
                coefficients,
                intercepts,
                num_classes,
                multinomial,
            ))
        }
        "LinearRegressionModel" => {
            let coefficients = f.vector("coefficients")?;
            let intercept = f.number("intercept")?;
            let scale = f.number("scale")?;
            Box::new(
                LinearRegressionModel::new(uid, f.params()?, coefficients, intercept)
                    .with_scale(scale),
            )
        }
        "LinearSVCModel" => Box::new(LinearSVCModel::new(
            uid,
            f.params()?,
            f.vector("coefficients")?,
            f.number("intercept")?,
        )),
        "NaiveBayesModel" => {
            let pi = f.vector("pi")?;
            let (_, _, theta) = f.matrix("theta")?;
            let (_, _, sigma) = f.matrix("sigma")?;
            Box::new(NaiveBayesModel::new(uid, f.params()?, pi, theta, sigma))
        }
        "KMeansModel" => {
            let (rows, cols, centers) = f.matrix("clusterCenterMatrix")?;
            if rows == 0 || cols == 0 {
                return Err(f.bad("clusterCenterMatrix", &format!("{rows}x{cols}")));
            }
            let centers = centers.chunks(cols).map(<[f64]>::to_vec).collect();
            Box::new(KMeansModel::new(uid, f.params()?, centers))
        }
        "StringIndexerModel" => {
            let labels = f.json("labelsArray")?;
            let labels: Option<Vec<Vec<String>>> = labels.as_array().and_then(|cols| {
                cols.iter()
                    .map(|c| {
                        c.as_array()?
                            .iter()
                            .map(|s| s.as_str().map(String::from))
                            .collect()
                    })
                    .collect()
            });
            let labels = labels.ok_or_else(|| f.bad("labelsArray", "not lists of strings"))?;
            Box::new(StringIndexerModel::new(uid, f.params()?, labels))
        }
        "OneHotEncoderModel" => {
            let l = f.attr("categorySizes")?;
            let sizes = usizes_of(&l).ok_or_else(|| f.bad("categorySizes", &short(&l)))?;
            Box::new(OneHotEncoderModel::new(uid, f.params()?, sizes))
        }
        "StandardScalerModel" => Box::new(StandardScalerModel::new(
            uid,
            f.params()?,
            f.vector("mean")?,
            f.vector("std")?,
        )),
        "MinMaxScalerModel" => Box::new(MinMaxScalerModel::new(
            uid,
            f.params()?,
            f.vector("originalMin")?,
            f.vector("originalMax")?,
        )),
        "MaxAbsScalerModel" => Box::new(MaxAbsScalerModel::new(
            uid,
            f.params()?,
            f.vector("maxAbs")?,
        )),
        "RobustScalerModel" => Box::new(RobustScalerModel::new(
            uid,
            f.params()?,
            f.vector("range")?,
            f.vector("median")?,
        )),
        "ImputerModel" => {
            // surrogateDF: one row, a column per input column, named after it.
            let cols: Vec<String> = match f.params.get("inputCols").and_then(Value::as_array) {
                Some(a) if !a.is_empty() => a
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect(),
                _ => param_str(f.params, "inputCol")
                    .map(String::from)
                    .into_iter()
                    .collect(),
            };
            let df = f.attr_frame("surrogateDF").collect()?;
            let surrogates = cols
                .iter()
                .map(|c| {
                    let col = df.column(c)?;
                    let a =
                        arrow::compute::cast(&col.chunks[0], &arrow::datatypes::DataType::Float64)?;
                    let a =
                        arrow::array::AsArray::as_primitive::<arrow::datatypes::Float64Type>(&a);
                    if df.num_rows() != 1 || arrow::array::Array::is_null(a, 0) {
                        return Err(f.bad("surrogateDF", &format!("{} rows", df.num_rows())));
                    }
                    Ok(a.value(0))
                })
                .collect::<Result<Vec<f64>>>()?;
            Box::new(ImputerModel::new(uid, f.params()?, surrogates))
        }
        "IDFModel" => {
            let idf = f.vector("idf")?;
            let l = f.attr("docFreq")?;
            let doc_freq: Vec<u64> = usizes_of(&l)
                .ok_or_else(|| f.bad("docFreq", &short(&l)))?
                .into_iter()
                .map(|x| x as u64)
                .collect();
            let num_docs = f.number("numDocs")?.max(0.0) as u64;
            Box::new(IDFModel::new(uid, f.params()?, idf, doc_freq, num_docs))
        }
        "CountVectorizerModel" => {
            let v = f.json("vocabulary")?;
            let vocabulary: Option<Vec<String>> = v
                .as_array()
                .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect());
            let vocabulary = vocabulary.ok_or_else(|| f.bad("vocabulary", "not strings"))?;
            Box::new(CountVectorizerModel::new(uid, f.params()?, vocabulary))
        }
        _ => return Ok(None),
    };
    Ok(Some(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(t: L) -> pb::expression::Literal {
        pb::expression::Literal {
            literal_type: Some(t),
            ..Default::default()
        }
    }

    fn ints(v: &[i32]) -> pb::expression::Literal {
        lit(L::SpecializedArray(
            pb::expression::literal::SpecializedArray {
                value_type: Some(pb::expression::literal::specialized_array::ValueType::Ints(
                    pb::Ints { values: v.to_vec() },
                )),
            },
        ))
    }

    fn doubles(v: &[f64]) -> pb::expression::Literal {
        lit(L::SpecializedArray(
            pb::expression::literal::SpecializedArray {
                value_type: Some(
                    pb::expression::literal::specialized_array::ValueType::Doubles(pb::Doubles {
                        values: v.to_vec(),
                    }),
                ),
            },
        ))
    }

    #[allow(deprecated)]
    fn strukt(e: Vec<pb::expression::Literal>) -> pb::expression::Literal {
        lit(L::Struct(pb::expression::literal::Struct {
            struct_type: None,
            elements: e,
        }))
    }

    /// The matrix [[1, 0, 2], [0, 3, 0]] in each of Spark's four layouts decodes to the
    /// same row-major values (hand-written layouts of Spark's DenseMatrix/SparseMatrix).
    #[test]
    fn matrices_of_every_layout_decode_row_major() {
        let want = vec![1.0, 0.0, 2.0, 0.0, 3.0, 0.0];
        let null = || lit(L::Null(Default::default()));
        let dense_col = strukt(vec![
            lit(L::Byte(1)),
            lit(L::Integer(2)),
            lit(L::Integer(3)),
            null(),
            null(),
            doubles(&[1.0, 0.0, 0.0, 3.0, 2.0, 0.0]),
            lit(L::Boolean(false)),
        ]);
        let dense_row = strukt(vec![
            lit(L::Byte(1)),
            lit(L::Integer(2)),
            lit(L::Integer(3)),
            null(),
            null(),
            doubles(&want),
            lit(L::Boolean(true)),
        ]);
        // CSC: column pointers over 3 columns, row indices.
        let csc = strukt(vec![
            lit(L::Byte(0)),
            lit(L::Integer(2)),
            lit(L::Integer(3)),
            ints(&[0, 1, 2, 3]),
            ints(&[0, 1, 0]),
            doubles(&[1.0, 3.0, 2.0]),
            lit(L::Boolean(false)),
        ]);
        // CSR (transposed): row pointers over 2 rows, column indices.
        let csr = strukt(vec![
            lit(L::Byte(0)),
            lit(L::Integer(2)),
            lit(L::Integer(3)),
            ints(&[0, 2, 3]),
            ints(&[0, 2, 1]),
            doubles(&[1.0, 2.0, 3.0]),
            lit(L::Boolean(true)),
        ]);
        for m in [dense_col, dense_row, csc, csr] {
            assert_eq!(matrix_of(&m), Some((2, 3, want.clone())), "{m:?}");
        }
        // A sparse index past the end is refused, not written out of bounds.
        let broken = strukt(vec![
            lit(L::Byte(0)),
            lit(L::Integer(2)),
            lit(L::Integer(3)),
            ints(&[0, 1, 2, 3]),
            ints(&[0, 5, 0]),
            doubles(&[1.0, 3.0, 2.0]),
            lit(L::Boolean(false)),
        ]);
        assert_eq!(matrix_of(&broken), None);
    }

    #[test]
    fn vectors_dense_and_sparse_decode() {
        let dense = strukt(vec![
            lit(L::Byte(1)),
            lit(L::Null(Default::default())),
            lit(L::Null(Default::default())),
            doubles(&[1.0, 2.0]),
        ]);
        assert_eq!(vector_of(&dense), Some(vec![1.0, 2.0]));
        let sparse = strukt(vec![
            lit(L::Byte(0)),
            lit(L::Integer(4)),
            ints(&[1, 3]),
            doubles(&[5.0, 6.0]),
        ]);
        assert_eq!(vector_of(&sparse), Some(vec![0.0, 5.0, 0.0, 6.0]));
    }

    #[test]
    fn model_classes_follow_spark() {
        assert_eq!(
            model_short_class("org.apache.spark.ml.classification.LogisticRegression"),
            "LogisticRegressionModel"
        );
        assert_eq!(
            model_short_class("org.apache.spark.ml.feature.StringIndexerModel"),
            "StringIndexerModel"
        );
        assert_eq!(
            model_short_class("org.apache.spark.ml.classification.GBTClassifier"),
            "GBTClassificationModel"
        );
        assert_eq!(
            model_short_class("org.apache.spark.ml.regression.RandomForestRegressor"),
            "RandomForestRegressionModel"
        );
        assert_eq!(
            model_short_class("org.apache.spark.ml.feature.QuantileDiscretizer"),
            "Bucketizer"
        );
    }
}
