//! Vector columns: dense `FixedSizeList<Float64, n>` and sparse (Spark's `VectorUDT`
//! struct), read through one row view, [`Row`], by [`VectorBlock`].
//!
//! A dense vector column stores its rows back to back in one `f64` buffer (row-major), so
//! a partition's feature block is a plain `&[f64]` of `rows * n` values and its length `n`
//! is known from the schema alone. A sparse vector column is Spark's `VectorUDT` struct
//! `{type, size, indices, values}` with the vector size in the field metadata (see
//! [`SparseVectorBuilder`]). Feature names travel in the field's metadata under Spark's
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

mod sparse;
pub use sparse::{
    field_vector_size, is_sparse_vector_type, prefers_sparse, sparse_vector_field,
    sparse_vector_fields, sparse_vector_type, with_vector_size, At, Row, SparseVectorBuilder,
    VectorBlock,
};

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
        .or_else(|| field_vector_size(field))?;
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
    let n = field_vector_size(field).unwrap_or(0);
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

impl super::DataFrame {
    /// Records the vector size of the sparse vector column `column` in its field metadata,
    /// read from the data (every row must agree). For sparse columns written by other tools
    /// without Spark's `ml_attr` metadata; a dense column is returned unchanged.
    ///
    /// # Errors
    /// [`Error::ColumnType`] when `column` is no vector column; [`Error::InvalidValue`]
    /// naming the row whose size differs from the first row's; [`Error::EmptyInput`] when
    /// no row holds a vector.
    pub fn with_vector_size(&self, column: &str) -> Result<super::DataFrame> {
        const STAGE: &str = "DataFrame::with_vector_size";
        let c = self.column(column)?;
        if vector_size(c.field.data_type()).is_some() {
            return Ok(self.clone());
        }
        if !is_sparse_vector_type(c.field.data_type()) {
            return Err(Error::ColumnType {
                stage: STAGE,
                column: column.to_string(),
                expected: "a sparse vector column (Spark's VectorUDT struct)".into(),
                found: c.field.data_type().clone(),
            });
        }
        let mut size: Option<(usize, usize, usize)> = None;
        for (p, a) in c.chunks.iter().enumerate() {
            let s = a.as_struct();
            let kinds = s.column(0).as_primitive::<arrow::datatypes::Int8Type>();
            let sizes = s.column(1).as_primitive::<arrow::datatypes::Int32Type>();
            let vals = s.column(3).as_list::<i32>();
            for r in 0..a.len() {
                if a.is_null(r) {
                    continue;
                }
                let n = if kinds.value(r) == 1 || sizes.is_null(r) {
                    vals.value_length(r) as usize
                } else {
                    sizes.value(r).max(0) as usize
                };
                match size {
                    None => size = Some((n, p, r)),
                    Some((m, p0, r0)) if m != n => {
                        return Err(Error::InvalidValue {
                            stage: STAGE,
                            column: column.to_string(),
                            partition: p,
                            row: r,
                            what: format!(
                                "a vector of size {n} where partition {p0}, row {r0} has size {m}"
                            ),
                            hint: "every vector of a column must have the same size".into(),
                        })
                    }
                    _ => {}
                }
            }
        }
        let Some((n, _, _)) = size else {
            return Err(Error::EmptyInput {
                stage: STAGE,
                hint: format!("column `{column}` holds no vector to read the size from"),
            });
        };
        let field = with_vector_size(c.field.as_ref().clone(), n);
        // Every row is checked (indices sorted and in range) now that the size is known.
        for (p, a) in c.chunks.iter().enumerate() {
            VectorBlock::new(
                a.as_ref(),
                n,
                At {
                    stage: STAGE,
                    column,
                    partition: p,
                },
            )?;
        }
        self.with_column(field, c.chunks)
    }
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

    #[test]
    fn with_vector_size_reads_the_size_and_checks_rows() {
        use crate::DataFrame;
        use arrow::datatypes::Schema;
        let mut b = SparseVectorBuilder::new(4);
        b.push(&[1], &[2.0]).unwrap();
        b.push_dense(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        let arr = b.finish().unwrap();
        let bare = Field::new("v", sparse_vector_type(), true);
        let schema = Arc::new(Schema::new(vec![bare.clone()]));
        let batch = arrow::array::RecordBatch::try_new(schema.clone(), vec![arr]).unwrap();
        let df = DataFrame::try_new(schema, vec![batch]).unwrap();
        let e = crate::frame::schema::require_vector(df.schema(), "T", "v")
            .unwrap_err()
            .to_string();
        assert!(e.contains("vector size in the field metadata"), "{e}");
        let sized = df.with_vector_size("v").unwrap();
        let (_, _, n) = crate::frame::schema::require_vector(sized.schema(), "T", "v").unwrap();
        assert_eq!(n, 4);
        assert!(sized.show_string(2).unwrap().contains("(4,[1],[2.0])"));

        // A second chunk whose vectors have size 3: the row is named.
        let mut b = SparseVectorBuilder::new(3);
        b.push(&[0], &[1.0]).unwrap();
        let other = b.finish().unwrap();
        let schema = Arc::new(Schema::new(vec![bare]));
        let parts = vec![
            df.partitions()[0].clone(),
            arrow::array::RecordBatch::try_new(schema.clone(), vec![other]).unwrap(),
        ];
        let mixed = DataFrame::try_new(schema, parts).unwrap();
        let e = mixed.with_vector_size("v").unwrap_err().to_string();
        assert_eq!(e, "DataFrame::with_vector_size: a vector of size 3 where partition 0, row 0 has size 4 in column `v` (partition 1, row 0); every vector of a column must have the same size");
    }
}
