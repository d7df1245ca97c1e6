//! [`VectorAttributeRewriter`]: Spark's internal stage that renames the ML attributes of
//! RFormula's features column.
//!
//! Spark's source: `VectorAttributeRewriter` in
//! `mllib/src/main/scala/org/apache/spark/ml/feature/RFormula.scala`.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, MapBuilder, MapFieldNames, StringArray, StringBuilder,
};
use arrow::datatypes::{Field, Schema};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::persist::{format, Metadata, SparkPersist};
use crate::pipeline::{Model, Stage, Transformer};

/// Rewrites the attribute names of a vector column, replacing each `from` with its `to`
/// everywhere in every name (in the order given), and moves the column to the end, as
/// Spark's private `org.apache.spark.ml.feature.VectorAttributeRewriter` does inside an
/// [`RFormulaModel`] (turning `onehot_<uid>_red` into `a_red`). The values are untouched.
/// PySpark-saved RFormula models contain it, so it loads and saves in Spark's layout
/// (`data/` holds `vectorCol` and the map `prefixesToRewrite`).
///
/// [`RFormulaModel`]: super::RFormulaModel
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::{VectorAssembler, VectorAttributeRewriter};
/// use mlpipe::frame::vector::feature_names_or_default;
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let out = VectorAttributeRewriter::new("v", [("ten", "TEN"), ("f", "g")]).transform(&df)?;
/// assert_eq!(feature_names_or_default(out.schema().field_with_name("v")?), ["TENure", "g0"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`] when the vector column is missing, [`Error::ColumnType`] when
/// it is not a vector.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorAttributeRewriter {
    uid: String,
    vector_col: String,
    prefixes: Vec<(String, String)>,
}

impl VectorAttributeRewriter {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "vectorAttrRewriter";

    /// A rewriter of `vector_col`'s attribute names, with a fresh uid.
    pub fn new(
        vector_col: &str,
        prefixes: impl IntoIterator<Item = (impl Into<String>, impl Into<String>)>,
    ) -> Self {
        Self {
            uid: crate::param::random_uid(Self::UID_PREFIX),
            vector_col: vector_col.to_string(),
            prefixes: prefixes
                .into_iter()
                .map(|(a, b)| (a.into(), b.into()))
                .collect(),
        }
    }

    /// The vector column.
    pub fn vector_col(&self) -> &str {
        &self.vector_col
    }

    /// The `(from, to)` replacements, in the order applied.
    pub fn prefixes_to_rewrite(&self) -> &[(String, String)] {
        &self.prefixes
    }

    /// `name` rewritten: each `(from, to)` replaced everywhere in it, in order.
    ///
    /// ```
    /// use mlpipe::feature::VectorAttributeRewriter;
    /// let r = VectorAttributeRewriter::new("f", [("onehot_1_", "a_"), ("inter_2_", "")]);
    /// assert_eq!(r.rewrite_name("inter_2_onehot_1_red:x"), "a_red:x");
    /// ```
    pub fn rewrite_name(&self, name: &str) -> String {
        self.prefixes
            .iter()
            .fold(name.to_string(), |n, (from, to)| {
                n.replace(from.as_str(), to)
            })
    }

    /// The rewritten field.
    fn field(&self, f: &Field) -> Field {
        let mut f = f.clone();
        let Some(mut md) = f
            .metadata()
            .get(vector::ML_ATTR)
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
        else {
            return f;
        };
        if let Some(groups) = md.get_mut("attrs").and_then(Value::as_object_mut) {
            for attrs in groups.values_mut().filter_map(Value::as_array_mut) {
                for a in attrs {
                    if let Some(n) = a.get("name").and_then(Value::as_str) {
                        a["name"] = Value::String(self.rewrite_name(n));
                    }
                }
            }
        }
        f.metadata_mut()
            .insert(vector::ML_ATTR.to_string(), md.to_string());
        f
    }
}

impl Stage for VectorAttributeRewriter {
    fn kind(&self) -> &'static str {
        "VectorAttributeRewriter"
    }
    fn uid(&self) -> &str {
        &self.uid
    }
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let (i, f, _) = schema::require_vector(input, "VectorAttributeRewriter", &self.vector_col)?;
        let mut fields: Vec<Field> = input
            .fields()
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, f)| f.as_ref().clone())
            .collect();
        fields.push(self.field(f));
        Ok(Schema::new_with_metadata(fields, input.metadata().clone()))
    }
    fn params_json(&self) -> Value {
        json!({})
    }
    fn set_param_json(&mut self, name: &str, _value: Value) -> Result<()> {
        Err(Error::UnknownParam {
            stage: "VectorAttributeRewriter",
            param: name.to_string(),
            valid: vec![],
        })
    }
}

impl Transformer for VectorAttributeRewriter {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out = self.transform_schema(df.schema())?;
        let (i, _) = schema::require_column(df.schema(), self.kind(), &self.vector_col)?;
        let n = df.schema().fields().len();
        let order: Vec<usize> = (0..n).filter(|j| *j != i).chain([i]).collect();
        let parts = df
            .partitions()
            .iter()
            .map(|b| {
                let cols = order.iter().map(|&j| b.column(j).clone()).collect();
                Ok(arrow::array::RecordBatch::try_new(
                    Arc::new(out.clone()),
                    cols,
                )?)
            })
            .collect::<Result<Vec<_>>>()?;
        DataFrame::try_new(Arc::new(out), parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for VectorAttributeRewriter {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

impl SparkPersist for VectorAttributeRewriter {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.VectorAttributeRewriter";
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_metadata(
            dir,
            Self::SPARK_CLASS,
            &self.uid,
            json!({}),
            json!({}),
            None,
        )?;
        let names = MapFieldNames {
            entry: "key_value".into(),
            key: "key".into(),
            value: "value".into(),
        };
        let mut m = MapBuilder::new(Some(names), StringBuilder::new(), StringBuilder::new());
        for (k, v) in &self.prefixes {
            m.keys().append_value(k);
            m.values().append_value(v);
        }
        m.append(true)?;
        let map = m.finish();
        let col: ArrayRef = Arc::new(StringArray::from(vec![self.vector_col.clone()]));
        let batch = format::one_row(vec![
            (Field::new("vectorCol", col.data_type().clone(), true), col),
            (
                Field::new("prefixesToRewrite", map.data_type().clone(), true),
                Arc::new(map) as ArrayRef,
            ),
        ])?;
        let map_t = json!({"type": "map", "keyType": "string", "valueType": "string", "valueContainsNull": true});
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("vectorCol", json!("string"), true),
                ("prefixesToRewrite", map_t, true),
            ]),
        )
    }
    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let d = format::read_data(dir)?;
        let bad = |what: &str| Error::file(dir.join("data"), what.to_string());
        let vc = format::string_list(format::column(&d, "vectorCol", dir)?, dir)?;
        let vector_col = vc
            .into_iter()
            .next()
            .ok_or_else(|| bad("vectorCol is empty"))?;
        let map = format::column(&d, "prefixesToRewrite", dir)?
            .as_map_opt()
            .ok_or_else(|| bad("prefixesToRewrite is not a map"))?;
        let entries = map.value(0);
        let keys = format::string_list(entries.column(0), dir)?;
        let vals = format::string_list(entries.column(1), dir)?;
        Ok(Self {
            uid: md.uid.clone(),
            vector_col,
            prefixes: keys.into_iter().zip(vals).collect(),
        })
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for VectorAttributeRewriter {
    /// Only the column's metadata changes: nothing runs per row.
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        plan.vec_input(&self.vector_col)?;
        Ok(None)
    }
}
