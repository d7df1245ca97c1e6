//! Dense vector columns: `FixedSizeList<Float64, n>`.
//!
//! A vector column stores its rows back to back in one `f64` buffer (row-major), so a
//! partition's feature block is a plain `&[f64]` of `rows * n` values and its length `n` is
//! known from the schema alone. Feature names travel in the field's metadata under Spark's
//! `ml_attr` key, in Spark's attribute-group JSON.
//!
//! # Examples
//! ```
//! use arrow::array::Array;
//! use mlpipe::frame::vector;
//! let arr = vector::vector_array(vec![1.0, 2.0, 3.0, 4.0], 2, None).unwrap();
//! assert_eq!(arr.len(), 2);
//! assert_eq!(vector::dense_values(&arr).unwrap(), &[1.0, 2.0, 3.0, 4.0]);
//! ```

use std::sync::Arc;

use arrow::array::{Array, AsArray, FixedSizeListArray, Float64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Float64Type};
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// Field-metadata key holding Spark's ML attribute JSON.
pub const ML_ATTR: &str = "ml_attr";

/// The child field of every vector column.
pub fn item_field() -> Field {
    Field::new("item", DataType::Float64, false)
}

/// The Arrow type of a dense vector of length `n`.
pub fn vector_type(n: usize) -> DataType {
    DataType::FixedSizeList(Arc::new(item_field()), n as i32)
}

/// A vector field named `name` of length `n`.
pub fn vector_field(name: &str, n: usize, nullable: bool) -> Field {
    Field::new(name, vector_type(n), nullable)
}

/// The length of a dense vector type, or `None` if `dt` is not `FixedSizeList<Float64>`.
pub fn vector_size(dt: &DataType) -> Option<usize> {
    match dt {
        DataType::FixedSizeList(item, n) if item.data_type() == &DataType::Float64 && *n >= 0 => {
            Some(*n as usize)
        }
        _ => None,
    }
}

/// Builds a vector array of `values.len() / n` rows from row-major `values`.
pub fn vector_array(
    values: Vec<f64>,
    n: usize,
    nulls: Option<NullBuffer>,
) -> Result<FixedSizeListArray> {
    let rows = values
        .len()
        .checked_div(n)
        .unwrap_or_else(|| nulls.as_ref().map_or(0, |b| b.len()));
    let child = Arc::new(Float64Array::from(values));
    Ok(FixedSizeListArray::try_new_with_length(
        Arc::new(item_field()),
        n as i32,
        child,
        nulls,
        rows,
    )?)
}

/// The row-major values of a vector array (`len() * n` of them; rows that are null hold
/// unspecified values). Fails if the child array itself holds nulls.
pub fn dense_values(arr: &FixedSizeListArray) -> Result<&[f64]> {
    let child = arr.values();
    let child = child.as_primitive_opt::<Float64Type>().ok_or_else(|| {
        Error::Internal(format!(
            "vector column with child type {} instead of Float64",
            child.data_type()
        ))
    })?;
    if child.null_count() > 0 {
        return Err(Error::Frame(
            "a vector column holds null elements inside its vectors; mlpipe vectors hold f64 values (use NaN, not null, for a missing element)".into(),
        ));
    }
    Ok(child.values())
}

/// Spark's `ml_attr` JSON for a vector column whose elements are the numeric features `names`.
pub fn attr_group_json(names: &[String]) -> Value {
    let attrs: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(i, n)| json!({"idx": i, "name": n}))
        .collect();
    json!({"attrs": {"numeric": attrs}, "num_attrs": names.len()})
}

/// Returns `field` with its feature names recorded in the metadata (Spark's `ml_attr` form).
pub fn with_feature_names(field: Field, names: &[String]) -> Field {
    let mut field = field;
    field
        .metadata_mut()
        .insert(ML_ATTR, attr_group_json(names).to_string());
    field
}

/// The feature names recorded on a vector field, by element index. `None` when the field
/// carries no attribute group; unnamed elements are `None` inside the vector.
pub fn feature_names(field: &Field) -> Option<Vec<Option<String>>> {
    let raw = field.metadata().get(ML_ATTR)?;
    let v: Value = serde_json::from_str(raw).ok()?;
    let n = v
        .get("num_attrs")
        .and_then(Value::as_u64)
        .map(|n| n as usize)
        .or_else(|| vector_size(field.data_type()))?;
    let mut names = vec![None; n];
    if let Some(groups) = v.get("attrs").and_then(Value::as_object) {
        for attrs in groups.values().filter_map(Value::as_array) {
            for a in attrs {
                let idx = a.get("idx").and_then(Value::as_u64).map(|i| i as usize);
                let name = a.get("name").and_then(Value::as_str);
                if let (Some(i), Some(name)) = (idx, name) {
                    if i < n {
                        names[i] = Some(name.to_string());
                    }
                }
            }
        }
    }
    Some(names)
}

/// Feature names of a vector field with a fallback of `<field>_<i>` for unnamed elements.
pub fn feature_names_or_default(field: &Field) -> Vec<String> {
    let n = vector_size(field.data_type()).unwrap_or(0);
    let named = feature_names(field).unwrap_or_else(|| vec![None; n]);
    (0..n)
        .map(|i| {
            named
                .get(i)
                .cloned()
                .flatten()
                .unwrap_or_else(|| format!("{}_{i}", field.name()))
        })
        .collect()
}

/// Downcasts a column to a vector array.
pub fn as_vector(arr: &dyn Array) -> Result<&FixedSizeListArray> {
    arr.as_fixed_size_list_opt().ok_or_else(|| {
        Error::Internal(format!(
            "expected a FixedSizeList column, found {}",
            arr.data_type()
        ))
    })
}

/// Maps every row of the vector column `input` through `f(row, out_row)` into a new
/// vector column `out` of the same size (nulls kept), partition by partition, writing each
/// output straight into fresh huge-page-backed memory in parallel row blocks (see
/// `buffer`). `f` sees whole rows, so its inner loop vectorises.
///
/// # Safety
/// `f` must write every value of `out_row`. Both `row` and `out_row` have `size` values:
/// a partition whose vectors have another size is an error before `f` sees it.
pub(crate) unsafe fn map_vectors(
    df: &super::DataFrame,
    input: &str,
    size: usize,
    out: Field,
    f: impl Fn(&[f64], &mut [std::mem::MaybeUninit<f64>]) + Sync,
) -> Result<super::DataFrame> {
    use rayon::prelude::*;
    let c = df.column(input)?;
    let chunks = c
        .chunks
        .par_iter()
        .map(|a| {
            let arr = as_vector(a.as_ref())?;
            let n = arr.value_length() as usize;
            if n != size {
                return Err(Error::Internal(format!(
                    "vectors of column `{input}` have {n} values where {size} were checked"
                )));
            }
            let vals = dense_values(arr)?;
            // SAFETY: `block` holds whole rows of `n` values, as does `src`, and `f` sets
            // every value of each output row (this function's contract).
            let mapped = unsafe {
                super::buffer::par_build(arr.len(), n, |first, block| {
                    let src = &vals[first * n..first * n + block.len()];
                    for (o, x) in block.chunks_exact_mut(n).zip(src.chunks_exact(n)) {
                        f(x, o);
                    }
                })
            };
            Ok(Arc::new(vector_array(mapped, n, arr.nulls().cloned())?) as arrow::array::ArrayRef)
        })
        .collect::<Vec<_>>();
    let chunks = crate::frame::in_order(chunks)?;
    df.with_column(out, chunks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_metadata() {
        let names = vec!["a".to_string(), "b".to_string()];
        let f = with_feature_names(vector_field("v", 2, false), &names);
        assert_eq!(
            feature_names(&f).unwrap(),
            vec![Some("a".to_string()), Some("b".to_string())]
        );
        assert_eq!(feature_names_or_default(&f), names);
        let plain = vector_field("v", 2, false);
        assert_eq!(feature_names_or_default(&plain), vec!["v_0", "v_1"]);
    }

    #[test]
    fn sliced_array_values_are_sliced() {
        let arr = vector_array(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, None).unwrap();
        let s = arr.slice(1, 2);
        assert_eq!(dense_values(&s).unwrap(), &[3.0, 4.0, 5.0, 6.0]);
    }
}
