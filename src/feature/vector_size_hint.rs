//! [`VectorSizeHint`]: declare (and check) the length of a vector column.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/VectorSizeHint.scala`.

use std::sync::Arc;

use arrow::array::{Array, BooleanArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// What [`VectorSizeHint`] does with a null vector (Spark's `handleInvalid`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeHintInvalid {
    /// Fail naming the row (Spark's default).
    #[default]
    Error,
    /// Drop the row.
    Skip,
    /// Do not check.
    Optimistic,
}

/// Params of [`VectorSizeHint`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VectorSizeHintParams {
    /// The vector column. Required.
    pub input_col: String,
    /// Its length (positive). Required.
    pub size: Option<i32>,
    /// Null or wrongly sized vectors: `error` (default), `skip`, `optimistic`.
    pub handle_invalid: SizeHintInvalid,
}

impl Params for VectorSizeHintParams {
    const STAGE: &'static str = "VectorSizeHint";
    fn validate(&self) -> Result<()> {
        if self.input_col.is_empty() {
            return Err(Error::param(
                Self::STAGE,
                "inputCol",
                "a non-empty column name",
                "\"\"",
            ));
        }
        match self.size {
            None => Err(Error::param(
                Self::STAGE,
                "size",
                "set (the vectors' length)",
                "unset",
            )),
            Some(s) if s <= 0 => Err(Error::param(Self::STAGE, "size", "> 0", s)),
            _ => Ok(()),
        }
    }
}

/// Declares the length of a vector column in its attribute metadata, as Spark's
/// `org.apache.spark.ml.feature.VectorSizeHint` does for streaming pipelines, and checks
/// it: the column's length (fixed by its Arrow type) and any length its metadata already
/// records must equal `size`, else an error. A null vector is an error with `error`,
/// dropped with `skip`, and passed through with `optimistic`. No column is added.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{VectorAssembler, VectorSizeHint};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(["tenure", "f0"]).with_output_col("v").transform(&df)?;
/// let out = VectorSizeHint::new().with_input_col("v").with_size(2).transform(&df)?;
/// assert_eq!(out.num_rows(), df.num_rows());
/// assert!(VectorSizeHint::new().with_input_col("v").with_size(3).transform(&df).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct VectorSizeHint {
    uid: String,
    params: VectorSizeHintParams,
}

super::columns::stage_basics!(
    VectorSizeHint,
    VectorSizeHintParams,
    "vectSizeHint",
    |_uid| { VectorSizeHintParams::default() }
);

impl VectorSizeHint {
    /// The vector column (required).
    pub fn with_input_col(mut self, c: &str) -> Self {
        self.params.input_col = c.into();
        self
    }
    /// The vectors' length (required).
    pub fn with_size(mut self, n: i32) -> Self {
        self.params.size = Some(n);
        self
    }
    /// Policy for null vectors; default `error`.
    pub fn with_handle_invalid(mut self, h: SizeHintInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
}

impl Stage for VectorSizeHint {
    fn kind(&self) -> &'static str {
        "VectorSizeHint"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = VectorSizeHintParams::STAGE;
        let p = &self.params;
        p.validate()?;
        let size = p.size.unwrap_or(0) as usize;
        let (i, field, n) = schema::require_vector(input, stage, &p.input_col)?;
        let mut meta: Value = field
            .metadata()
            .get(vector::ML_ATTR)
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        let recorded = meta.get("num_attrs").and_then(Value::as_u64);
        // A size not known yet (before fitting) is what the hint is for: no check.
        let known = !vector::is_unknown_size(field);
        for found in [Some(n as u64), recorded]
            .into_iter()
            .flatten()
            .filter(|_| known)
        {
            if found != size as u64 {
                return Err(Error::FeatureCount {
                    stage,
                    column: p.input_col.clone(),
                    expected: size,
                    found: found as usize,
                });
            }
        }
        meta["num_attrs"] = size.into();
        let mut f = field.clone();
        f.metadata_mut()
            .insert(vector::ML_ATTR.to_string(), meta.to_string());
        if !known {
            f = vector::with_vector_size(f, size);
            f.metadata_mut()
                .retain(|k, _| !k.starts_with("mlpipe_size_unknown"));
        }
        let mut fields: Vec<_> = input.fields().iter().cloned().collect();
        fields[i] = Arc::new(f);
        Ok(Schema::new_with_metadata(fields, input.metadata().clone()))
    }
}

impl Transformer for VectorSizeHint {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = VectorSizeHintParams::STAGE;
        let out_schema = Arc::new(self.transform_schema(df.schema())?);
        let (ci, _, _) = schema::require_vector(df.schema(), stage, &self.params.input_col)?;
        let h = self.params.handle_invalid;
        let parts = df.map_partitions(|pi, b| {
            let col = b.column(ci);
            let batch = crate::frame::new_batch(out_schema.clone(), b.columns().to_vec(), b.num_rows())?;
            if col.null_count() == 0 || h == SizeHintInvalid::Optimistic {
                return Ok(batch);
            }
            if h == SizeHintInvalid::Error {
                let r = (0..col.len()).find(|&r| col.is_null(r)).unwrap_or(0);
                return Err(Error::InvalidValue {
                    stage,
                    column: self.params.input_col.clone(),
                    partition: pi,
                    row: r,
                    what: "null vector".into(),
                    hint: "set handleInvalid to \"skip\" to drop such rows or \"optimistic\" to pass them on".into(),
                });
            }
            let keep: BooleanArray = (0..col.len()).map(|r| Some(col.is_valid(r))).collect();
            Ok(filter_record_batch(&batch, &keep)?)
        })?;
        DataFrame::try_new(out_schema.clone(), parts)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for VectorSizeHint {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

crate::persist::spark_params_only!(VectorSizeHint, "org.apache.spark.ml.feature.VectorSizeHint");

// ---- Row form (crate::row) ----

impl crate::row::RowStage for VectorSizeHint {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        // A column an earlier stage wrote always has its (checked) size and no nulls:
        // nothing to do per row. An input field's null or wrong-sized vector meets
        // handleInvalid here, as in batch.
        Ok(plan.hint_vector(&self.params.input_col)?.map(|field| {
            Box::new(SizeHintRow {
                field,
                column: self.params.input_col.clone(),
                size: self.params.size.unwrap_or(0) as usize,
                handle: self.params.handle_invalid,
            }) as Box<dyn crate::row::RowOp>
        }))
    }
}

#[derive(Debug)]
struct SizeHintRow {
    field: crate::row::HintedVec,
    column: String,
    size: usize,
    handle: SizeHintInvalid,
}

impl crate::row::RowOp for SizeHintRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        use crate::row::VecStatus;
        let status = row.vector_status(self.field);
        let what = match status {
            VecStatus::Ok => return Ok(crate::row::Flow::Next),
            VecStatus::Null => "null vector".to_string(),
            VecStatus::WrongSize(n) => {
                format!("vector of size {n} where the hint says {}", self.size)
            }
        };
        match self.handle {
            SizeHintInvalid::Skip => Ok(crate::row::Flow::Drop),
            SizeHintInvalid::Error => Err(row.invalid(
                VectorSizeHintParams::STAGE,
                &self.column,
                what,
                "set handleInvalid to \"skip\" to drop such rows or \"optimistic\" to pass them on",
            )),
            // Spark passes the value on unchecked; a row scorer holds vectors of the
            // column's size only, so it cannot go on with this one.
            SizeHintInvalid::Optimistic => Err(row.invalid(
                VectorSizeHintParams::STAGE,
                &self.column,
                what,
                "handleInvalid = \"optimistic\" passes it on unchecked, which a row scorer cannot do (its vectors have the column's size); score such rows with transform, or use \"skip\"",
            )),
        }
    }
}
