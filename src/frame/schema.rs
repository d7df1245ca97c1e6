//! Column look-ups that build mlpipe's uniform schema errors.
//!
//! Every stage checks its columns through these helpers, so a missing column always lists
//! the available ones and a wrong type always says what would have been accepted.

use arrow::datatypes::{DataType, Field, Schema};

use crate::error::{Error, Result};
use crate::frame::vector;

/// The names of all fields of `schema`, in order.
pub fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// Finds column `name` or fails with [`Error::ColumnNotFound`] listing the available columns.
pub fn require_column<'a>(
    schema: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<(usize, &'a Field)> {
    match schema.column_with_name(name) {
        Some((i, f)) => Ok((i, f)),
        None => Err(Error::ColumnNotFound {
            stage,
            column: name.to_string(),
            available: column_names(schema),
        }),
    }
}

/// Fails with [`Error::ColumnExists`] if `name` is already a column of `schema`.
pub fn require_absent(schema: &Schema, stage: &'static str, name: &str) -> Result<()> {
    if schema.column_with_name(name).is_some() {
        return Err(Error::ColumnExists {
            stage,
            column: name.to_string(),
        });
    }
    Ok(())
}

/// True for the Arrow types mlpipe reads as a number (cast to `f64`).
pub fn is_numeric(dt: &DataType) -> bool {
    dt.is_numeric() || matches!(dt, DataType::Boolean)
}

/// Finds a numeric (or boolean) column, or fails naming its actual type.
pub fn require_numeric<'a>(
    schema: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<(usize, &'a Field)> {
    let (i, f) = require_column(schema, stage, name)?;
    if !is_numeric(f.data_type()) {
        return Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a numeric or boolean column".into(),
            found: f.data_type().clone(),
        });
    }
    Ok((i, f))
}

/// Finds a vector column, dense (`FixedSizeList<Float64, n>`) or sparse (Spark's
/// `VectorUDT` struct with its size in the field metadata), and returns its index, field
/// and vector size `n`.
pub fn require_vector<'a>(
    schema: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<(usize, &'a Field, usize)> {
    let (i, f) = require_column(schema, stage, name)?;
    match vector::field_vector_size(f) {
        Some(n) => Ok((i, f, n)),
        None if vector::is_sparse_vector_type(f.data_type()) => Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected: "a sparse vector column with its vector size in the field metadata (`ml_attr` `num_attrs`, as Spark's stages write it); set it with frame::vector::with_vector_size or DataFrame::with_vector_size".into(),
            found: f.data_type().clone(),
        }),
        None => Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected:
                "a vector column (dense FixedSizeList<Float64> or Spark's sparse VectorUDT struct), e.g. the output of VectorAssembler"
                    .into(),
            found: f.data_type().clone(),
        }),
    }
}

/// Checks that vector column `column` (its field `field`, `found` values) has the
/// `expected` size; a vector whose size is not known yet (a pipeline's pre-fit schema pass,
/// [`vector::unknown_size`]) passes, as in Spark's `transformSchema`.
///
/// # Errors
/// [`Error::FeatureCount`] naming the stage and column.
///
/// # Examples
/// ```
/// use mlpipe::frame::{schema::check_vector_size, vector};
/// let known = vector::vector_field("v", 3, true);
/// assert!(check_vector_size("Stage", "v", &known, 3, 3).is_ok());
/// assert!(check_vector_size("Stage", "v", &known, 3, 4).is_err());
/// let unknown = vector::unknown_size(vector::sparse_vector_field("v", 0, true));
/// assert!(check_vector_size("Stage", "v", &unknown, 0, 4).is_ok());
/// ```
pub fn check_vector_size(
    stage: &'static str,
    column: &str,
    field: &Field,
    found: usize,
    expected: usize,
) -> Result<()> {
    if found == expected || vector::is_unknown_size(field) {
        return Ok(());
    }
    Err(Error::FeatureCount {
        stage,
        column: column.to_string(),
        expected,
        found,
    })
}

/// Column `name` of a partition whose schema was already checked. A miss here is a bug
/// (the schema check let it through), so it is reported as [`Error::Internal`].
pub fn batch_column<'a>(
    batch: &'a arrow::array::RecordBatch,
    name: &str,
) -> Result<&'a arrow::array::ArrayRef> {
    batch.column_by_name(name).ok_or_else(|| {
        Error::Internal(format!(
            "column `{name}` passed the schema check but is missing from a partition"
        ))
    })
}

/// Appends `field` to `schema`, failing if its name is already taken.
pub fn append_field(schema: &Schema, stage: &'static str, field: Field) -> Result<Schema> {
    require_absent(schema, stage, field.name())?;
    let mut fields: Vec<_> = schema.fields().iter().cloned().collect();
    fields.push(field.into());
    Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_column_lists_available() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Float64, true),
            Field::new("b", DataType::Utf8, true),
        ]);
        let err = require_column(&schema, "Test", "c").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Test: column `c` not found; available columns: [\"a\", \"b\"]"
        );
        let err = require_numeric(&schema, "Test", "b").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Test: column `b` has type Utf8, expected a numeric or boolean column"
        );
        assert!(require_absent(&schema, "Test", "a").is_err());
    }
}
