//! Spark's on-disk format of [`LogisticRegression`] and [`LogisticRegressionModel`]
//! (Spark's `LogisticRegressionModelWriter` / `Reader`, including the Spark < 2.1 layout).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, AsArray, BooleanArray, Int32Array};
use arrow::datatypes::{DataType, Field};
use serde_json::json;

use super::{LogisticRegression, LogisticRegressionModel, LogisticRegressionParams};
use crate::error::{Error, Result};
use crate::persist::{format, Matrix, Metadata, SparkPersist, Vector};
use crate::pipeline::Stage;

crate::persist::spark_params_only!(
    LogisticRegression,
    "org.apache.spark.ml.classification.LogisticRegression"
);

impl SparkPersist for LogisticRegressionModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.classification.LogisticRegressionModel";

    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, self.uid(), self.params())?;
        let matrix = Matrix {
            num_rows: self.intercept_vector().len(),
            num_cols: self.num_features(),
            values: self.coefficient_matrix().to_vec(),
        };
        let int = |name: &str, v: usize| {
            (
                Field::new(name, DataType::Int32, false),
                Arc::new(Int32Array::from(vec![v as i32])) as ArrayRef,
            )
        };
        let batch = format::one_row(vec![
            int("numClasses", self.num_classes()),
            int("numFeatures", self.num_features()),
            Vector::compressed(self.intercept_vector()).field_and_array("interceptVector")?,
            matrix.field_and_array("coefficientMatrix")?,
            (
                Field::new("isMultinomial", DataType::Boolean, false),
                Arc::new(BooleanArray::from(vec![self.is_multinomial()])) as ArrayRef,
            ),
        ])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("numClasses", json!("integer"), false),
                ("numFeatures", json!("integer"), false),
                ("interceptVector", format::vector_udt_json(), true),
                ("coefficientMatrix", format::matrix_udt_json(), true),
                ("isMultinomial", json!("boolean"), false),
            ]),
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let p: LogisticRegressionParams = md.params_as(dir)?;
        let d = format::read_data(dir)?;
        let num_classes = format::i64_value(&d, "numClasses", dir)? as usize;
        let num_features = format::i64_value(&d, "numFeatures", dir)? as usize;
        if d.column_by_name("coefficientMatrix").is_none() {
            // Spark < 2.1: `intercept: double, coefficients: Vector`, binomial only
            let b = format::f64_value(&d, "intercept", dir)?;
            let c = format::dense_vector(&d, "coefficients", dir)?;
            return Ok(Self::new(md.uid.clone(), p, c, vec![b], num_classes, false));
        }
        let multinomial = format::column(&d, "isMultinomial", dir)?
            .as_boolean_opt()
            .map(|b| b.value(0))
            .ok_or_else(|| Error::file(dir.join("data"), "isMultinomial is not a boolean"))?;
        let m = Matrix::from_column(format::column(&d, "coefficientMatrix", dir)?, dir)?;
        let intercepts = format::dense_vector(&d, "interceptVector", dir)?;
        let sets = if multinomial { num_classes } else { 1 };
        if m.num_cols != num_features || m.num_rows != intercepts.len() || intercepts.len() != sets
        {
            return Err(Error::file(
                dir.join("data"),
                format!("coefficientMatrix is {}x{} but numFeatures is {num_features}, numClasses {num_classes}, and there are {} intercepts", m.num_rows, m.num_cols, intercepts.len()),
            ));
        }
        Ok(Self::new(
            md.uid.clone(),
            p,
            m.to_row_major(),
            intercepts,
            num_classes,
            multinomial,
        ))
    }
}
