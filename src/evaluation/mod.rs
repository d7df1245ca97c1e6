//! Evaluators with Spark's formulas (reference §4): [`BinaryClassificationEvaluator`]
//! (with [`BinaryClassificationMetrics`] for ROC and PR curves),
//! [`MulticlassClassificationEvaluator`] and [`RegressionEvaluator`].

mod binary;
mod multiclass;
mod regression;

pub use binary::{
    BinaryClassificationEvaluator, BinaryClassificationMetrics, BinaryEvaluatorParams, BinaryMetric,
};
pub use multiclass::{
    MulticlassClassificationEvaluator, MulticlassEvaluatorParams, MulticlassMetrics,
};
pub use regression::{RegressionEvaluator, RegressionEvaluatorParams, RegressionMetrics};

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};

/// Reads a numeric column as `f64` per partition, rejecting nulls and NaN.
pub(crate) fn numeric_values(
    df: &DataFrame,
    stage: &'static str,
    col: &str,
    what: &'static str,
) -> Result<Vec<Vec<f64>>> {
    schema::require_numeric(df.schema(), stage, col)?;
    df.map_partitions(|pi, b| {
        let arr = b
            .column_by_name(col)
            .ok_or_else(|| Error::Internal(format!("column {col} vanished")))?;
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
        Ok(a.values().to_vec())
    })
}

/// Reads an optional weight column: finite, >= 0; `None` gives all 1.
pub(crate) fn weight_values(
    df: &DataFrame,
    stage: &'static str,
    col: Option<&str>,
) -> Result<Option<Vec<Vec<f64>>>> {
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
) -> Result<Vec<Vec<f64>>> {
    let (_, field) = schema::require_column(df.schema(), stage, col)?;
    match vector::vector_size(field.data_type()) {
        Some(n) if n > index => df.map_partitions(|pi, b| {
            let arr = vector::as_vector(
                b.column_by_name(col)
                    .ok_or_else(|| Error::Internal(format!("column {col} vanished")))?
                    .as_ref(),
            )?;
            let vals = vector::dense_values(arr)?;
            let mut out = Vec::with_capacity(arr.len());
            for r in 0..arr.len() {
                let v = vals[r * n + index];
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
            Ok(out)
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
