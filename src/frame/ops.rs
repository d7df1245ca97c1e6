//! The everyday `DataFrame` operations a PySpark user reaches for: [`DataFrame::filter`]
//! (by a boolean column or a simple column predicate, [`col`]), [`DataFrame::cast`],
//! [`DataFrame::with_column_renamed`], [`DataFrame::count`], [`DataFrame::columns`],
//! [`DataFrame::limit`] and [`DataFrame::head`].
//!
//! Predicates run on Arrow's compute kernels (`arrow::compute::kernels::cmp`, Kleene
//! `and`/`or`, `filter_record_batch`), partition by partition in parallel; their columns and
//! types are checked against the schema before any data is read.

use std::fmt;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, Scalar};
use arrow::compute::kernels::{boolean, cmp};
use arrow::compute::{
    can_cast_types, cast, cast_with_options, filter_record_batch, is_not_null, is_null, CastOptions,
};
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use arrow::util::display::array_value_to_string;

use super::{new_batch, schema, DataFrame};
use crate::error::{Error, Result};

/// The stage name in the errors of these operations.
const STAGE: &str = "DataFrame";

/// A reference to column `name`, to build a [`Predicate`] from (PySpark's `col`).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::frame::col;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let long = df.filter(col("tenure").gt(12.0))?;
/// let monthly = df.filter(col("contract").eq("month-to-month").and(col("churn").eq(1)))?;
/// assert!(long.count() < df.count() && monthly.count() < df.count());
/// # Ok(()) }
/// ```
pub fn col(name: impl Into<String>) -> Col {
    Col(name.into())
}

/// A column reference (see [`col`]); its methods build predicates, and on its own it is
/// the predicate "this boolean column is true".
#[derive(Clone, Debug, PartialEq)]
pub struct Col(String);

/// A literal to compare a column with: a number, a string or a boolean.
#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// An integer (compared exactly with integer columns, as a double with others).
    Int(i64),
    /// A double.
    Float(f64),
    /// A string, for string columns.
    Str(String),
    /// A boolean, for boolean columns.
    Bool(bool),
}

macro_rules! literal_from {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Literal {
            fn from(x: $t) -> Self {
                Literal::$v(x.into())
            }
        }
    )*};
}
literal_from!(i64 => Int, i32 => Int, u32 => Int, f64 => Float, f32 => Float, bool => Bool,
    &str => Str, String => Str);

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Int(v) => write!(f, "{v}"),
            Literal::Float(v) => write!(f, "{v:?}"),
            Literal::Str(v) => write!(f, "{v:?}"),
            Literal::Bool(v) => write!(f, "{v}"),
        }
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A row predicate for [`DataFrame::filter`]: a boolean column, a comparison of a column
/// with a literal, a null test, or `and` / `or` / `!` of predicates.
///
/// As in Spark SQL, a comparison with a null is null and a row is kept only where the
/// predicate is true (so nulls never pass a comparison, nor its negation); `and`/`or` use
/// three-valued logic; NaN equals NaN and is larger than every other number.
#[derive(Clone, Debug, PartialEq)]
pub enum Predicate {
    /// The boolean column is true.
    Column(String),
    /// `column op literal`.
    Compare {
        /// The column.
        column: String,
        /// The operator.
        op: CmpOp,
        /// The literal on the right.
        value: Literal,
    },
    /// The column is null.
    IsNull(String),
    /// The column is not null.
    IsNotNull(String),
    /// Both hold.
    And(Box<Predicate>, Box<Predicate>),
    /// Either holds.
    Or(Box<Predicate>, Box<Predicate>),
    /// The predicate is false.
    Not(Box<Predicate>),
}

impl Col {
    fn compare(self, op: CmpOp, value: impl Into<Literal>) -> Predicate {
        Predicate::Compare {
            column: self.0,
            op,
            value: value.into(),
        }
    }
    /// `column = value`.
    pub fn eq(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Eq, value)
    }
    /// `column != value`.
    pub fn ne(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Ne, value)
    }
    /// `column < value`.
    pub fn lt(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Lt, value)
    }
    /// `column <= value`.
    pub fn le(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Le, value)
    }
    /// `column > value`.
    pub fn gt(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Gt, value)
    }
    /// `column >= value`.
    pub fn ge(self, value: impl Into<Literal>) -> Predicate {
        self.compare(CmpOp::Ge, value)
    }
    /// The column is null.
    pub fn is_null(self) -> Predicate {
        Predicate::IsNull(self.0)
    }
    /// The column is not null.
    pub fn is_not_null(self) -> Predicate {
        Predicate::IsNotNull(self.0)
    }
    /// This boolean column and `other` are true.
    pub fn and(self, other: impl Into<Predicate>) -> Predicate {
        Predicate::from(self).and(other)
    }
    /// This boolean column or `other` is true.
    pub fn or(self, other: impl Into<Predicate>) -> Predicate {
        Predicate::from(self).or(other)
    }
}

impl std::ops::Not for Col {
    type Output = Predicate;
    /// This boolean column is false.
    fn not(self) -> Predicate {
        !Predicate::from(self)
    }
}

impl From<Col> for Predicate {
    /// The boolean column is true.
    fn from(c: Col) -> Self {
        Predicate::Column(c.0)
    }
}

impl Predicate {
    /// Both `self` and `other` hold.
    pub fn and(self, other: impl Into<Predicate>) -> Predicate {
        Predicate::And(Box::new(self), Box::new(other.into()))
    }

    /// `self` or `other` holds.
    pub fn or(self, other: impl Into<Predicate>) -> Predicate {
        Predicate::Or(Box::new(self), Box::new(other.into()))
    }

    /// Checks every column and type against `schema`, without reading data.
    fn check(&self, schema: &Schema) -> Result<()> {
        match self {
            Predicate::Column(c) => {
                let (_, f) = schema::require_column(schema, STAGE, c)?;
                if f.data_type() != &DataType::Boolean {
                    return Err(Error::ColumnType {
                        stage: STAGE,
                        column: c.clone(),
                        expected: "a boolean column to filter by (or a comparison such as col(\"x\").gt(1.0))".into(),
                        found: f.data_type().clone(),
                    });
                }
                Ok(())
            }
            Predicate::Compare { column, value, .. } => {
                let (_, f) = schema::require_column(schema, STAGE, column)?;
                operand_type(f, value).map(|_| ())
            }
            Predicate::IsNull(c) | Predicate::IsNotNull(c) => {
                schema::require_column(schema, STAGE, c).map(|_| ())
            }
            Predicate::And(a, b) | Predicate::Or(a, b) => {
                a.check(schema)?;
                b.check(schema)
            }
            Predicate::Not(a) => a.check(schema),
        }
    }

    /// The predicate's value on each row of a checked batch (null where it is unknown).
    fn evaluate(&self, b: &RecordBatch) -> Result<BooleanArray> {
        Ok(match self {
            Predicate::Column(c) => schema::batch_column(b, c)?.as_boolean().clone(),
            Predicate::Compare { column, op, value } => {
                let (i, field) = schema::require_column(b.schema_ref(), STAGE, column)?;
                let ty = operand_type(field, value)?;
                let lhs = cast(b.column(i), &ty)?;
                let rhs = Scalar::new(cast(&literal_array(value), &ty)?);
                match op {
                    CmpOp::Eq => cmp::eq(&lhs, &rhs)?,
                    CmpOp::Ne => cmp::neq(&lhs, &rhs)?,
                    CmpOp::Lt => cmp::lt(&lhs, &rhs)?,
                    CmpOp::Le => cmp::lt_eq(&lhs, &rhs)?,
                    CmpOp::Gt => cmp::gt(&lhs, &rhs)?,
                    CmpOp::Ge => cmp::gt_eq(&lhs, &rhs)?,
                }
            }
            Predicate::IsNull(c) => is_null(schema::batch_column(b, c)?)?,
            Predicate::IsNotNull(c) => is_not_null(schema::batch_column(b, c)?)?,
            Predicate::And(x, y) => boolean::and_kleene(&x.evaluate(b)?, &y.evaluate(b)?)?,
            Predicate::Or(x, y) => boolean::or_kleene(&x.evaluate(b)?, &y.evaluate(b)?)?,
            Predicate::Not(x) => boolean::not(&x.evaluate(b)?)?,
        })
    }
}

impl std::ops::Not for Predicate {
    type Output = Predicate;
    /// The predicate is false (null stays null, so such rows are still dropped).
    fn not(self) -> Predicate {
        Predicate::Not(Box::new(self))
    }
}

impl fmt::Display for Predicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Predicate::Column(c) => write!(f, "{c}"),
            Predicate::Compare { column, op, value } => {
                write!(f, "{column} {} {value}", op.symbol())
            }
            Predicate::IsNull(c) => write!(f, "{c} IS NULL"),
            Predicate::IsNotNull(c) => write!(f, "{c} IS NOT NULL"),
            Predicate::And(a, b) => write!(f, "({a} AND {b})"),
            Predicate::Or(a, b) => write!(f, "({a} OR {b})"),
            Predicate::Not(a) => write!(f, "(NOT {a})"),
        }
    }
}

fn is_string(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// The type both sides of `field op value` are compared in: Int64 for an integer column
/// and an integer literal, Float64 for other numbers, the column's own string type for a
/// string literal, Boolean for a boolean literal; anything else is a type error.
fn operand_type(field: &Field, value: &Literal) -> Result<DataType> {
    let dt = field.data_type();
    let (ok, expected) = match value {
        Literal::Int(_) if dt.is_integer() => return Ok(DataType::Int64),
        Literal::Int(_) | Literal::Float(_) => (dt.is_numeric(), "a numeric column"),
        Literal::Str(_) => (is_string(dt), "a string column"),
        Literal::Bool(_) => (dt == &DataType::Boolean, "a boolean column"),
    };
    if !ok {
        return Err(Error::ColumnType {
            stage: STAGE,
            column: field.name().clone(),
            expected: format!("{expected} to compare with {value}"),
            found: dt.clone(),
        });
    }
    Ok(match value {
        Literal::Str(_) => dt.clone(),
        Literal::Bool(_) => DataType::Boolean,
        _ => DataType::Float64,
    })
}

/// A one-element array holding `value`.
fn literal_array(value: &Literal) -> ArrayRef {
    use arrow::array::{BooleanArray, Float64Array, Int64Array, StringArray};
    match value {
        Literal::Int(v) => Arc::new(Int64Array::from(vec![*v])),
        Literal::Float(v) => Arc::new(Float64Array::from(vec![*v])),
        Literal::Str(v) => Arc::new(StringArray::from(vec![v.as_str()])),
        Literal::Bool(v) => Arc::new(BooleanArray::from(vec![*v])),
    }
}

impl DataFrame {
    /// The rows where `predicate` is true (Spark's `filter` / `where`): a boolean column,
    /// `col("x")`, or a comparison such as `col("tenure").gt(12.0)`. Partitions keep their
    /// order; a partition whose rows all pass is shared, not copied.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] (listing the available columns) or [`Error::ColumnType`]
    /// for a column the predicate cannot use, before any data is read.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use std::sync::Arc;
    /// use mlpipe::arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch};
    /// use mlpipe::frame::col;
    /// use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([
    ///     ("tenure", Arc::new(Float64Array::from(vec![Some(3.0), None, Some(30.0)])) as ArrayRef),
    ///     ("senior", Arc::new(BooleanArray::from(vec![true, true, false])) as ArrayRef),
    /// ])?;
    /// let df = DataFrame::from_batches(vec![b])?;
    /// assert_eq!(df.filter(col("tenure").gt(12.0))?.count(), 1);
    /// assert_eq!(df.filter(!col("tenure").gt(12.0))?.count(), 1); // the null row never passes
    /// assert_eq!(df.filter(col("senior"))?.count(), 2);
    /// assert_eq!(df.filter(col("tenure").is_null().or(col("tenure").lt(5)))?.count(), 2);
    /// let err = df.filter(col("tenur").gt(1.0)).unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "DataFrame: column `tenur` not found; available columns: [\"tenure\", \"senior\"]"
    /// );
    /// # Ok(()) }
    /// ```
    pub fn filter(&self, predicate: impl Into<Predicate>) -> Result<DataFrame> {
        let predicate = predicate.into();
        predicate.check(&self.schema)?;
        let parts = self.map_partitions(|_, b| {
            let mask = predicate.evaluate(b)?;
            if mask.true_count() == b.num_rows() {
                return Ok(b.clone());
            }
            Ok(filter_record_batch(b, &mask)?)
        })?;
        Ok(self.with_partitions(parts))
    }

    /// Column `column` cast to type `to` with Arrow's cast kernel, in its place (Spark's
    /// `withColumn(c, col(c).cast(to))`). Like Spark 4's ANSI mode, a value that does not
    /// convert (a string that is no number, an overflow) is an error, not a null. The
    /// column's field metadata is dropped (its ML attributes describe the old values).
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] listing the available columns; [`Error::ColumnType`] when
    /// Arrow cannot cast between the two types; [`Error::InvalidValue`] naming the partition,
    /// row and value that does not convert.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use std::sync::Arc;
    /// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
    /// use mlpipe::arrow::datatypes::DataType;
    /// use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([
    ///     ("charges", Arc::new(StringArray::from(vec!["29.85", "1889.5", "n/a"])) as ArrayRef),
    /// ])?;
    /// let df = DataFrame::from_batches(vec![b])?;
    /// let err = df.cast("charges", DataType::Float64).unwrap_err();
    /// assert!(err.to_string().starts_with(
    ///     "DataFrame: value n/a cannot be cast to Float64 in column `charges` (partition 0, row 2)"
    /// ));
    /// let ok = df.limit(2)?.cast("charges", DataType::Float64)?;
    /// assert_eq!(ok.schema().field(0).data_type(), &DataType::Float64);
    /// # Ok(()) }
    /// ```
    pub fn cast(&self, column: &str, to: DataType) -> Result<DataFrame> {
        let (i, field) = schema::require_column(&self.schema, STAGE, column)?;
        let from = field.data_type();
        if !can_cast_types(from, &to) {
            return Err(Error::ColumnType {
                stage: STAGE,
                column: column.to_string(),
                expected: format!("a type Arrow can cast to {to}"),
                found: from.clone(),
            });
        }
        let options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let chunks = self.map_partitions(|pi, b| {
            let arr = b.column(i);
            cast_with_options(arr, &to, &options).map_err(|e| cast_failure(arr, &to, column, pi, e))
        })?;
        let out = Field::new(column, to, field.is_nullable());
        self.with_column(out, chunks)
    }

    /// The same data with column `old` named `new` (Spark's `withColumnRenamed`); the
    /// column keeps its place, type and metadata. Unlike Spark, whose rename of a missing
    /// column does nothing, a missing `old` is an error, so a misspelt name cannot pass
    /// silently.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] listing the available columns; [`Error::ColumnExists`] when
    /// another column is already called `new`.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
    /// let df = df.with_column_renamed("churn", "label")?;
    /// assert!(df.columns().contains(&"label") && !df.columns().contains(&"churn"));
    /// # Ok(()) }
    /// ```
    pub fn with_column_renamed(&self, old: &str, new: &str) -> Result<DataFrame> {
        let (i, field) = schema::require_column(&self.schema, STAGE, old)?;
        if old == new {
            return Ok(self.clone());
        }
        schema::require_absent(&self.schema, STAGE, new)?;
        let mut fields: Vec<FieldRef> = self.schema.fields().iter().cloned().collect();
        fields[i] = Arc::new(field.clone().with_name(new));
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
        let partitions = self
            .partitions
            .iter()
            .map(|p| new_batch(schema.clone(), p.columns().to_vec(), p.num_rows()))
            .collect::<Result<Vec<_>>>()?;
        Ok(DataFrame { schema, partitions })
    }

    /// The number of rows (Spark's `count`; the same as [`num_rows`](DataFrame::num_rows)).
    pub fn count(&self) -> usize {
        self.num_rows()
    }

    /// The column names, in schema order (Spark's `columns`).
    pub fn columns(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect()
    }

    /// The first `n` rows, in partition order (Spark's `limit`): zero-copy slices of the
    /// partitions that hold them.
    ///
    /// # Examples
    /// ```
    /// # fn main() -> mlpipe::Result<()> {
    /// use mlpipe::prelude::*;
    /// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?.repartition(4)?;
    /// assert_eq!(df.limit(10)?.count(), 10);
    /// assert_eq!(df.limit(1000)?.count(), df.count());
    /// assert_eq!(df.head(3)?.num_rows(), 3);
    /// # Ok(()) }
    /// ```
    pub fn limit(&self, n: usize) -> Result<DataFrame> {
        let mut left = n;
        let mut partitions = Vec::new();
        for p in &self.partitions {
            if left == 0 {
                break;
            }
            let take = left.min(p.num_rows());
            partitions.push(if take == p.num_rows() {
                p.clone()
            } else {
                p.slice(0, take)
            });
            left -= take;
        }
        Ok(self.with_partitions(partitions))
    }

    /// The first `n` rows as one `RecordBatch` (Spark's `head(n)`, which brings rows to the
    /// driver): [`limit`](DataFrame::limit) then [`collect`](DataFrame::collect).
    pub fn head(&self, n: usize) -> Result<RecordBatch> {
        self.limit(n)?.collect()
    }
}

/// The error of a cast that Arrow refused: the first value that does not convert, located
/// by a lenient cast (which turns exactly those values into nulls).
fn cast_failure(
    arr: &ArrayRef,
    to: &DataType,
    column: &str,
    partition: usize,
    e: arrow::error::ArrowError,
) -> Error {
    let lenient = cast(arr, to);
    let row = lenient
        .ok()
        .and_then(|l| (0..arr.len()).find(|&r| arr.is_valid(r) && l.is_null(r)));
    match row {
        Some(row) => Error::InvalidValue {
            stage: STAGE,
            column: column.to_string(),
            partition,
            row,
            what: format!(
                "value {} cannot be cast to {to}",
                array_value_to_string(arr, row).unwrap_or_default()
            ),
            hint:
                "fix or drop such rows first (e.g. with filter), or cast to a type that holds them"
                    .into(),
        },
        None => Error::Frame(format!(
            "cannot cast column `{column}` from {} to {to} (partition {partition}): {e}",
            arr.data_type()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use arrow::array::{BooleanArray, Float64Array, Int32Array, Int64Array, StringArray};
    use arrow::datatypes::Float64Type;

    use super::*;

    /// Three partitions: ids 0..7, an integer, a float (with a null and a NaN), a string
    /// and a boolean column.
    fn df() -> DataFrame {
        let b = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(Int64Array::from((0..7).collect::<Vec<i64>>())) as ArrayRef,
            ),
            (
                "n",
                Arc::new(Int32Array::from(vec![5, 12, 13, 40, -1, 12, 7])) as ArrayRef,
            ),
            (
                "x",
                Arc::new(Float64Array::from(vec![
                    Some(0.5),
                    None,
                    Some(f64::NAN),
                    Some(12.0),
                    Some(12.5),
                    Some(-3.0),
                    Some(100.0),
                ])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("yes"),
                    Some("no"),
                    None,
                    Some("yes"),
                    Some("maybe"),
                    Some("no"),
                    Some("yes"),
                ])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                    Some(false),
                    Some(true),
                    Some(false),
                ])) as ArrayRef,
            ),
        ])
        .unwrap();
        let df = DataFrame::from_batches(vec![b]).unwrap();
        let parts = vec![
            df.partitions[0].slice(0, 3),
            df.partitions[0].slice(3, 0),
            df.partitions[0].slice(3, 4),
        ];
        DataFrame::try_new(df.schema.clone(), parts).unwrap()
    }

    fn ids(df: &DataFrame) -> Vec<i64> {
        let b = df.collect().unwrap();
        b.column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .values()
            .to_vec()
    }

    #[test]
    fn filter_by_comparisons_like_spark_sql() {
        let d = df();
        // Integer column, integer literal: exact.
        assert_eq!(ids(&d.filter(col("n").gt(12)).unwrap()), [2, 3]);
        assert_eq!(ids(&d.filter(col("n").eq(12)).unwrap()), [1, 5]);
        assert_eq!(ids(&d.filter(col("n").ne(12)).unwrap()), [0, 2, 3, 4, 6]);
        // Integer column, double literal: compared as doubles.
        assert_eq!(ids(&d.filter(col("n").ge(12.5)).unwrap()), [2, 3]);
        // Double column: null never passes; NaN is larger than every number (Spark's rule).
        assert_eq!(ids(&d.filter(col("x").gt(12.0)).unwrap()), [2, 4, 6]);
        assert_eq!(ids(&d.filter(col("x").le(12)).unwrap()), [0, 3, 5]);
        assert_eq!(ids(&d.filter(col("x").eq(f64::NAN)).unwrap()), [2]);
        assert_eq!(ids(&d.filter(!col("x").gt(12.0)).unwrap()), [0, 3, 5]);
        assert_eq!(ids(&d.filter(col("x").is_null()).unwrap()), [1]);
        assert_eq!(ids(&d.filter(col("x").is_not_null()).unwrap()).len(), 6);
        // Strings and booleans.
        assert_eq!(ids(&d.filter(col("s").eq("yes")).unwrap()), [0, 3, 6]);
        assert_eq!(ids(&d.filter(col("s").lt("no")).unwrap()), [4]);
        assert_eq!(ids(&d.filter(col("b")).unwrap()), [0, 3, 5]);
        assert_eq!(ids(&d.filter(col("b").eq(false)).unwrap()), [1, 4, 6]);
        // Three-valued and/or: null AND false is false, null OR true is true.
        assert_eq!(
            ids(&d.filter(col("b").and(col("s").eq("yes"))).unwrap()),
            [0, 3]
        );
        assert_eq!(
            ids(&d.filter(col("x").gt(50.0).or(col("b"))).unwrap()),
            [0, 2, 3, 5, 6]
        );
        // Partitions are kept, in order; the input is untouched.
        let f = d.filter(col("n").gt(6)).unwrap();
        assert_eq!(f.num_partitions(), 3);
        assert_eq!(ids(&f), [1, 2, 3, 5, 6]);
        assert_eq!(d.count(), 7);
    }

    #[test]
    fn filter_checks_columns_and_types_before_reading() {
        let d = df();
        let err = d.filter(col("nn").gt(1)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: column `nn` not found; available columns: [\"id\", \"n\", \"x\", \"s\", \"b\"]"
        );
        let err = d.filter(col("s").gt(1.5)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: column `s` has type Utf8, expected a numeric column to compare with 1.5"
        );
        let err = d.filter(col("x").eq("yes")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: column `x` has type Float64, expected a string column to compare with \"yes\""
        );
        let err = d.filter(col("n")).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "DataFrame: column `n` has type Int32, expected a boolean column to filter by"
            ),
            "{err}"
        );
        // Deep inside a combination too.
        let err = d.filter(col("b").and(!col("q").is_null())).unwrap_err();
        assert!(matches!(err, Error::ColumnNotFound { ref column, .. } if column == "q"));
        assert_eq!(
            (col("n").gt(1).and(!col("s").eq("a"))).to_string(),
            "(n > 1 AND (NOT s = \"a\"))"
        );
    }

    #[test]
    fn cast_converts_or_locates_the_bad_value() {
        let d = df();
        let c = d.cast("n", DataType::Float64).unwrap();
        assert_eq!(c.columns(), d.columns(), "the column keeps its place");
        let n = c.column("n").unwrap();
        assert_eq!(n.field.data_type(), &DataType::Float64);
        assert_eq!(n.chunks[2].as_primitive::<Float64Type>().value(0), 40.0);
        // Same type: a no-op.
        assert_eq!(
            d.cast("x", DataType::Float64).unwrap().collect().unwrap(),
            d.collect().unwrap()
        );
        // A value that does not convert: partition 2, row 1 holds "maybe".
        let err = d.cast("s", DataType::Int64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: value yes cannot be cast to Int64 in column `s` (partition 0, row 0); fix or drop such rows first (e.g. with filter), or cast to a type that holds them"
        );
        // NaN has no integer value.
        let err = d.cast("x", DataType::Int8).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "DataFrame: value NaN cannot be cast to Int8 in column `x` (partition 0, row 2)"
            ),
            "{err}"
        );
        // Overflow: -1 does not fit UInt8.
        let err = d.cast("n", DataType::UInt8).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "DataFrame: value -1 cannot be cast to UInt8 in column `n` (partition 2, row 1)"
            ),
            "{err}"
        );
        let to = DataType::Struct(vec![Field::new("a", DataType::Int32, true)].into());
        let err = d.cast("x", to).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "DataFrame: column `x` has type Float64, expected a type Arrow can cast to Struct"
            ),
            "{err}"
        );
        let err = d.cast("zz", DataType::Int64).unwrap_err();
        assert!(matches!(err, Error::ColumnNotFound { .. }), "{err}");
    }

    #[test]
    fn rename_count_columns_limit_head() {
        let d = df();
        let mut meta = HashMap::new();
        meta.insert("k".to_string(), "v".to_string());
        let d = d
            .with_column(
                Field::new("m", DataType::Int64, false).with_metadata(meta.clone()),
                d.column("id").unwrap().chunks,
            )
            .unwrap();
        let r = d.with_column_renamed("m", "label").unwrap();
        assert_eq!(r.columns(), ["id", "n", "x", "s", "b", "label"]);
        assert_eq!(r.schema().field(5).metadata(), &meta);
        assert_eq!(r.num_partitions(), 3);
        assert_eq!(
            d.with_column_renamed("m", "m").unwrap().columns(),
            d.columns()
        );
        let err = d.with_column_renamed("mm", "label").unwrap_err();
        assert_eq!(
            err.to_string(),
            "DataFrame: column `mm` not found; available columns: [\"id\", \"n\", \"x\", \"s\", \"b\", \"m\"]"
        );
        let err = d.with_column_renamed("m", "id").unwrap_err();
        assert!(matches!(err, Error::ColumnExists { ref column, .. } if column == "id"));

        assert_eq!(d.count(), 7);
        assert_eq!(ids(&d.limit(0).unwrap()), Vec::<i64>::new());
        assert_eq!(d.limit(0).unwrap().columns(), d.columns());
        assert_eq!(ids(&d.limit(2).unwrap()), [0, 1]);
        let l = d.limit(5).unwrap();
        assert_eq!(ids(&l), [0, 1, 2, 3, 4]);
        assert_eq!(l.num_partitions(), 3);
        assert_eq!(d.limit(100).unwrap().count(), 7);
        let h = d.head(4).unwrap();
        assert_eq!(h.num_rows(), 4);
        assert_eq!(h.schema(), *d.schema());
    }
}
