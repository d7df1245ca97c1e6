//! Checking a row form against the batch transform.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};

use super::{ColumnValue, Value};
use crate::error::{Error, Result};
use crate::frame::{vector, DataFrame};
use crate::pipeline::{PipelineModel, Transformer};

/// Scores every row of `df` one at a time and checks that each column the pipeline adds
/// is bit for bit what `model.transform(df)` gives (rows a stage drops included: both
/// drop the same rows). Returns the number of rows compared; when transform fails, both
/// must fail, and the index of the first row that row scoring rejects is returned. For
/// tests of a stage's row form.
///
/// # Errors
/// The first difference, naming the row and column; any error of either path (an error
/// in one path and not the other is a difference too).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::feature::VectorAssembler;
/// use mlpipe::prelude::*;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let model = PipelineModel::new("p", vec![Box::new(
///     VectorAssembler::new().with_input_cols(["tenure", "monthly_charges"]).with_output_col("f"),
/// )]);
/// assert_eq!(mlpipe::row::check_against_transform(&model, &df)?, df.num_rows());
/// # Ok(()) }
/// ```
pub fn check_against_transform(model: &PipelineModel, df: &DataFrame) -> Result<usize> {
    let mut scorer = model.row_scorer(df.schema())?;
    let input = df.collect()?;
    let batch = match model.transform(df) {
        Ok(out) => Some(out.collect()?),
        Err(_) => None,
    };
    let fields = df.schema().fields().len();
    let added: Vec<String> = scorer.output_schema().fields()[fields..]
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut kept = 0usize;
    for r in 0..input.num_rows() {
        // List fields' items are gathered first, so the row's values can borrow them.
        let lists: Vec<Vec<&str>> = (0..fields)
            .map(|c| list_at(&input, c, r))
            .collect::<Result<_>>()?;
        let mut values: Vec<Value<'_>> = Vec::with_capacity(fields);
        for (c, list) in lists.iter().enumerate() {
            values.push(match input.column(c).data_type() {
                DataType::List(_) | DataType::LargeList(_) if !input.column(c).is_null(r) => {
                    Value::StrList(list)
                }
                _ => value_at(&input, c, r)?,
            });
        }
        let scored = match scorer.score(&values) {
            Ok(s) => s,
            // Both fail: the first row that row scoring rejects is returned.
            Err(_) if batch.is_none() => return Ok(r),
            Err(e) => {
                return Err(Error::Internal(format!(
                    "row {r}: row scoring failed ({e}) where transform succeeded"
                )))
            }
        };
        let Some(scored) = scored else { continue };
        // When transform failed, the rows before the bad one score (nothing to compare).
        let Some(out) = &batch else { continue };
        for name in &added {
            let want = out
                .column_by_name(name)
                .ok_or_else(|| Error::Internal(format!("transform has no column `{name}`")))?;
            let got = scored.column(name);
            if !same(want.as_ref(), kept, got) {
                return Err(Error::Internal(format!(
                    "row {r}, column `{name}`: row scoring gave {got:?}, transform {:?}",
                    arrow::util::display::array_value_to_string(want, kept)
                )));
            }
        }
        kept += 1;
    }
    match &batch {
        Some(out) if out.num_rows() != kept => Err(Error::Internal(format!(
            "transform kept {} rows, row scoring {kept}",
            out.num_rows()
        ))),
        Some(_) => Ok(input.num_rows()),
        None => Err(Error::Internal(
            "transform failed where row scoring succeeded on every row".into(),
        )),
    }
}

/// Whether `got` is bit for bit the value at `row` of `want`.
fn same(want: &dyn Array, row: usize, got: Option<ColumnValue<'_>>) -> bool {
    let Some(got) = got else { return false };
    if want.is_null(row) {
        return got == ColumnValue::Null;
    }
    match (want.data_type(), got) {
        (DataType::Utf8, ColumnValue::Str(s)) => want.as_string::<i32>().value(row) == s,
        (DataType::List(_), ColumnValue::StrList(l)) => {
            let list = want.as_list::<i32>().value(row);
            let Some(items) = list.as_string_opt::<i32>() else {
                return false;
            };
            items.len() == l.len()
                && l.iter()
                    .enumerate()
                    .all(|(i, s)| items.is_valid(i) && items.value(i) == s)
        }
        (
            _,
            ColumnValue::Sparse {
                size,
                indices,
                values,
            },
        ) => {
            // A sparse row must match the transform's stored entries exactly (same
            // indices, same values); a dense transform row its dense values.
            let Ok(block) = vector::VectorBlock::new(want, size, at()) else {
                return false;
            };
            match block.row(row) {
                Some(vector::Row::Sparse {
                    size: n,
                    indices: i,
                    values: v,
                }) => {
                    n == size
                        && i == indices
                        && v.len() == values.len()
                        && v.iter()
                            .zip(values)
                            .all(|(a, b)| a.to_bits() == b.to_bits())
                }
                Some(vector::Row::Dense(d)) => {
                    let mut dense = vec![0.0; size];
                    for (i, v) in indices.iter().zip(values) {
                        dense[*i as usize] = *v;
                    }
                    d.iter()
                        .zip(&dense)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                        && d.len() == size
                }
                _ => false,
            }
        }
        (_, ColumnValue::Vector(v)) => {
            // Either layout (dense or Spark's sparse struct), compared as dense values.
            let Ok(block) = vector::VectorBlock::new(want, v.len(), at()) else {
                return false;
            };
            let Some(r) = block.row(row) else {
                return false;
            };
            r.len() == v.len()
                && r.to_vec()
                    .iter()
                    .zip(v)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
        }
        (dt, ColumnValue::Num(x)) if dt.is_numeric() => {
            match arrow::compute::cast(&want.slice(row, 1), &DataType::Float64) {
                Ok(a) => a.as_primitive::<Float64Type>().value(0).to_bits() == x.to_bits(),
                Err(_) => false,
            }
        }
        _ => false,
    }
}

fn at() -> vector::At<'static> {
    vector::At {
        stage: "check_against_transform",
        column: "",
        partition: 0,
    }
}

/// The items of list-of-strings column `c` at row `r` (empty for other columns and nulls).
fn list_at(b: &RecordBatch, c: usize, r: usize) -> Result<Vec<&str>> {
    let a = b.column(c);
    if a.is_null(r) {
        return Ok(Vec::new());
    }
    let (values, lo, hi) = match a.data_type() {
        DataType::List(_) => {
            let l = a.as_list::<i32>();
            let o = l.value_offsets();
            (l.values(), o[r] as usize, o[r + 1] as usize)
        }
        DataType::LargeList(_) => {
            let l = a.as_list::<i64>();
            let o = l.value_offsets();
            (l.values(), o[r] as usize, o[r + 1] as usize)
        }
        _ => return Ok(Vec::new()),
    };
    let name = b.schema().field(c).name().clone();
    let Some(s) = values.as_string_opt::<i32>() else {
        return Err(Error::Usage(format!(
            "row scoring: column {name} is a list of {}, which rows cannot hold (lists of strings only)",
            values.data_type()
        )));
    };
    let mut out = Vec::with_capacity(hi - lo);
    for i in lo..hi {
        if s.is_null(i) {
            return Err(Error::Usage(format!(
                "row scoring: column {name} row {r} holds a null item, which rows cannot hold"
            )));
        }
        out.push(s.value(i));
    }
    Ok(out)
}

/// The value of column `c` at row `r`, as a row [`Value`].
pub(crate) fn value_at(b: &RecordBatch, c: usize, r: usize) -> Result<Value<'_>> {
    let a = b.column(c);
    if a.is_null(r) {
        return Ok(Value::Null);
    }
    use arrow::datatypes as t;
    Ok(match a.data_type() {
        DataType::Utf8 => Value::Str(a.as_string::<i32>().value(r)),
        DataType::LargeUtf8 => Value::Str(a.as_string::<i64>().value(r)),
        DataType::Boolean => Value::Bool(a.as_boolean().value(r)),
        DataType::Float64 => Value::Float(a.as_primitive::<t::Float64Type>().value(r)),
        DataType::Float32 => Value::Float(a.as_primitive::<t::Float32Type>().value(r).into()),
        DataType::Int64 => Value::Int(a.as_primitive::<t::Int64Type>().value(r)),
        DataType::Int32 => Value::Int(a.as_primitive::<t::Int32Type>().value(r).into()),
        DataType::Int16 => Value::Int(a.as_primitive::<t::Int16Type>().value(r).into()),
        DataType::Int8 => Value::Int(a.as_primitive::<t::Int8Type>().value(r).into()),
        dt if vector::vector_size(dt).is_some() => {
            let list = vector::as_vector(a.as_ref())?;
            let n = list.value_length() as usize;
            Value::Vector(&vector::dense_values(list)?[r * n..(r + 1) * n])
        }
        dt if vector::is_sparse_vector_type(dt) => {
            let size = vector::field_vector_size(b.schema().field(c)).ok_or_else(|| {
                Error::Usage(format!(
                    "row scoring: vector column {} has no recorded size",
                    b.schema().field(c).name()
                ))
            })?;
            let block = vector::VectorBlock::new(a.as_ref(), size, at())?;
            block.row(r).map_or(Value::Null, Value::from)
        }
        dt => {
            return Err(Error::Usage(format!(
                "row scoring: column {} has type {dt}, which rows cannot hold",
                b.schema().field(c).name()
            )))
        }
    })
}
