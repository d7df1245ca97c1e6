//! [`ColumnPruner`]: Spark's internal stage that drops RFormula's temporary columns.
//!
//! Spark's source: `ColumnPruner` in
//! `mllib/src/main/scala/org/apache/spark/ml/feature/RFormula.scala`.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, ListBuilder, StringBuilder};
use arrow::datatypes::{Field, Schema};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{Model, Stage, Transformer};

/// Drops the named columns (those absent are ignored), as Spark's private
/// `org.apache.spark.ml.feature.ColumnPruner` does at the end of an [`RFormulaModel`]'s
/// inner pipeline. It has no params; PySpark-saved RFormula models contain it, so it loads
/// and saves in Spark's layout (`data/` holds `columnsToPrune`).
///
/// [`RFormulaModel`]: super::RFormulaModel
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::ColumnPruner;
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let out = ColumnPruner::new(["tenure", "no_such_column"]).transform(&df)?;
/// assert!(out.schema().field_with_name("tenure").is_err());
/// assert_eq!(out.schema().fields().len(), df.schema().fields().len() - 1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnPruner {
    uid: String,
    columns: Vec<String>,
}

impl ColumnPruner {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "columnPruner";

    /// A pruner of `columns`, with a fresh uid.
    pub fn new(columns: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        Self::with_uid(crate::param::random_uid(Self::UID_PREFIX), columns)
    }

    /// A pruner of `columns` with the given uid.
    pub fn with_uid(
        uid: impl Into<String>,
        columns: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Self {
        Self {
            uid: uid.into(),
            columns: crate::feature::columns::names(columns),
        }
    }

    /// The columns it drops.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    fn kept(&self, input: &Schema) -> Vec<String> {
        input
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| !self.columns.contains(n))
            .collect()
    }
}

impl Stage for ColumnPruner {
    fn kind(&self) -> &'static str {
        "ColumnPruner"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let idx: Vec<usize> = input
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| !self.columns.contains(f.name()))
            .map(|(i, _)| i)
            .collect();
        Ok(input.project(&idx)?)
    }
    fn params_json(&self) -> Value {
        json!({})
    }
    fn set_param_json(&mut self, name: &str, _value: Value) -> Result<()> {
        Err(Error::UnknownParam {
            stage: "ColumnPruner",
            param: name.to_string(),
            valid: vec![],
        })
    }
}

impl Transformer for ColumnPruner {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        df.select(self.kept(df.schema()))
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for ColumnPruner {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

impl SparkPersist for ColumnPruner {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.ColumnPruner";
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_metadata(
            dir,
            Self::SPARK_CLASS,
            &self.uid,
            json!({}),
            json!({}),
            None,
        )?;
        let mut b = ListBuilder::new(StringBuilder::new());
        for c in &self.columns {
            b.values().append_value(c);
        }
        b.append(true);
        let arr: ArrayRef = Arc::new(b.finish());
        let batch = format::one_row(vec![(
            Field::new("columnsToPrune", arr.data_type().clone(), true),
            arr,
        )])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[(
                "columnsToPrune",
                json!({"type": "array", "elementType": "string", "containsNull": true}),
                true,
            )]),
        )
    }
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        use arrow::array::AsArray;
        let d = format::read_data(dir)?;
        let list = format::column(&d, "columnsToPrune", dir)?
            .as_list_opt::<i32>()
            .ok_or_else(|| Error::file(dir.join("data"), "columnsToPrune is not a list"))?;
        let columns = format::string_list(&list.value(0), dir)?;
        Ok(Self {
            uid: md.uid.clone(),
            columns,
        })
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for ColumnPruner {
    /// Forgets the pruned columns; nothing runs per row.
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        for c in &self.columns {
            plan.forget(c);
        }
        Ok(None)
    }
}
