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

/// Finds a dense vector column (`FixedSizeList<Float64, n>`) and returns its index, field
/// and length `n`.
pub fn require_vector<'a>(
    schema: &'a Schema,
    stage: &'static str,
    name: &str,
) -> Result<(usize, &'a Field, usize)> {
    let (i, f) = require_column(schema, stage, name)?;
    match vector::vector_size(f.data_type()) {
        Some(n) => Ok((i, f, n)),
        None => Err(Error::ColumnType {
            stage,
            column: name.to_string(),
            expected:
                "a vector column (FixedSizeList<Float64>), e.g. the output of VectorAssembler"
                    .into(),
            found: f.data_type().clone(),
        }),
    }
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
