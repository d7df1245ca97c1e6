//! [`DataFrame`]: an Arrow schema plus a list of partitions.
//!
//! A partition is one [`RecordBatch`] and the unit of parallel work, as in Spark and
//! DataFusion. A `DataFrame` is immutable: every operation returns a new one that shares
//! the untouched columns' buffers with its input, so cloning and adding a column are cheap.
//!
//! # Examples
//! ```
//! use std::sync::Arc;
//! use arrow::array::{ArrayRef, Float64Array, RecordBatch};
//! use mlpipe::DataFrame;
//!
//! let batch = RecordBatch::try_from_iter([
//!     ("x", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0])) as ArrayRef),
//! ]).unwrap();
//! let df = DataFrame::from_batches(vec![batch]).unwrap();
//! let df = df.repartition(2).unwrap();
//! assert_eq!((df.num_rows(), df.num_partitions()), (3, 2));
//! ```

#[doc(hidden)]
pub mod buffer;
mod io;
pub(crate) mod kernels;
mod ops;
mod order;
pub(crate) mod row_matrix;
pub mod schema;
mod show;
mod split;
pub mod vector;

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, RecordBatchOptions};
use arrow::compute::concat_batches;
use arrow::datatypes::{Field, FieldRef, Schema, SchemaRef};
use rayon::prelude::*;

use crate::error::{Error, Result};

pub use io::{CsvOptions, ParquetOptions, Partitioning};
pub use ops::{col, CmpOp, Col, Literal, Predicate};
pub use split::SplitWeights;

/// An Arrow schema plus partitions (`Vec<RecordBatch>`); immutable and cheap to clone.
#[derive(Clone, Debug)]
pub struct DataFrame {
    schema: SchemaRef,
    partitions: Vec<RecordBatch>,
}

/// One column of a [`DataFrame`]: its field and one array per partition.
#[derive(Clone, Debug)]
pub struct Column {
    /// The column's field (name, type, metadata).
    pub field: FieldRef,
    /// The column's data, one array per partition, in partition order.
    pub chunks: Vec<ArrayRef>,
}

impl Column {
    /// Total number of rows over all chunks.
    pub fn len(&self) -> usize {
        self.chunks.iter().map(|c| c.len()).sum()
    }

    /// True when the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl DataFrame {
    /// A `DataFrame` with the given schema and partitions. Every partition must have
    /// exactly the schema's fields.
    pub fn try_new(schema: SchemaRef, partitions: Vec<RecordBatch>) -> Result<Self> {
        for (i, p) in partitions.iter().enumerate() {
            if p.schema().fields() != schema.fields() {
                return Err(Error::Frame(format!(
                    "partition {i} has schema {:?}, but the DataFrame's schema is {:?}",
                    p.schema(),
                    schema
                )));
            }
        }
        Ok(Self { schema, partitions })
    }

    /// A `DataFrame` whose partitions are `batches`; the schema is the first batch's.
    ///
    /// # Errors
    /// [`Error::Frame`] if `batches` is empty (use [`DataFrame::empty`]) or the batches'
    /// schemas differ.
    pub fn from_batches(batches: Vec<RecordBatch>) -> Result<Self> {
        let schema = batches
            .first()
            .map(|b| b.schema())
            .ok_or_else(|| Error::Frame("from_batches needs at least one batch to know the schema; use DataFrame::empty(schema) for an empty DataFrame".into()))?;
        Self::try_new(schema, batches)
    }

    /// A `DataFrame` with no rows and no partitions.
    pub fn empty(schema: SchemaRef) -> Self {
        Self {
            schema,
            partitions: Vec::new(),
        }
    }

    /// The schema shared by every partition.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The partitions, in order.
    pub fn partitions(&self) -> &[RecordBatch] {
        &self.partitions
    }

    /// Total number of rows.
    pub fn num_rows(&self) -> usize {
        self.partitions.iter().map(|p| p.num_rows()).sum()
    }

    /// Number of partitions.
    pub fn num_partitions(&self) -> usize {
        self.partitions.len()
    }

    /// Column `name`, one array per partition.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] listing the available columns.
    pub fn column(&self, name: &str) -> Result<Column> {
        let (i, _) = schema::require_column(&self.schema, "DataFrame", name)?;
        Ok(Column {
            field: self.schema.fields()[i].clone(),
            chunks: self
                .partitions
                .iter()
                .map(|p| p.column(i).clone())
                .collect(),
        })
    }

    /// A `DataFrame` with only the named columns, in the given order (any list of names:
    /// `&["a", "b"]`, a `Vec<String>`, ...).
    pub fn select(&self, names: impl IntoIterator<Item = impl AsRef<str>>) -> Result<DataFrame> {
        let mut idx = Vec::new();
        for n in names {
            idx.push(schema::require_column(&self.schema, "DataFrame", n.as_ref())?.0);
        }
        let schema = Arc::new(self.schema.project(&idx)?);
        let partitions = self
            .partitions
            .iter()
            .map(|p| p.project(&idx))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self { schema, partitions })
    }

    /// A `DataFrame` without the named columns. Names that do not exist are ignored, as in
    /// Spark's `drop`.
    pub fn drop(&self, names: impl IntoIterator<Item = impl AsRef<str>>) -> Result<DataFrame> {
        let names: Vec<String> = names.into_iter().map(|n| n.as_ref().to_string()).collect();
        let idx: Vec<usize> = self
            .schema
            .fields()
            .iter()
            .enumerate()
            .filter(|(_, f)| !names.contains(f.name()))
            .map(|(i, _)| i)
            .collect();
        let schema = Arc::new(self.schema.project(&idx)?);
        let partitions = self
            .partitions
            .iter()
            .map(|p| p.project(&idx))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Self { schema, partitions })
    }

    /// A `DataFrame` with column `field` set to `chunks` (one array per partition, each as
    /// long as its partition). An existing column of that name is replaced in place, as
    /// Spark's `withColumn` does; otherwise the column is appended.
    pub fn with_column(&self, field: Field, chunks: Vec<ArrayRef>) -> Result<DataFrame> {
        if chunks.len() != self.partitions.len() {
            return Err(Error::Frame(format!(
                "with_column(`{}`): got {} arrays for {} partitions; pass one array per partition",
                field.name(),
                chunks.len(),
                self.partitions.len()
            )));
        }
        let existing = self.schema.index_of(field.name()).ok();
        let mut fields: Vec<FieldRef> = self.schema.fields().iter().cloned().collect();
        match existing {
            Some(i) => fields[i] = Arc::new(field),
            None => fields.push(Arc::new(field)),
        }
        let schema = Arc::new(Schema::new_with_metadata(
            fields,
            self.schema.metadata().clone(),
        ));
        let partitions = self
            .partitions
            .iter()
            .zip(chunks)
            .map(|(p, c)| {
                let mut cols = p.columns().to_vec();
                match existing {
                    Some(i) => cols[i] = c,
                    None => cols.push(c),
                }
                new_batch(schema.clone(), cols, p.num_rows())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { schema, partitions })
    }

    /// A `DataFrame` without the rows that hold a null, or a NaN in a floating-point column,
    /// in any of `columns` (Spark's `df.na.drop(cols)`; NaN inside vectors is not checked). Partitions without such rows are
    /// shared, not copied.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Float64Array, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([
    ///     ("x", Arc::new(Float64Array::from(vec![Some(1.0), None, Some(f64::NAN), Some(2.0)])) as ArrayRef),
    /// ]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap();
    /// assert_eq!(df.drop_invalid(&["x"]).unwrap().num_rows(), 2);
    /// ```
    pub fn drop_invalid(
        &self,
        columns: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> Result<DataFrame> {
        let mut idx = Vec::new();
        for c in columns {
            idx.push(schema::require_column(&self.schema, "DataFrame", c.as_ref())?.0);
        }
        let parts = self.map_partitions(|_, b| {
            let mut keep = vec![true; b.num_rows()];
            for &i in &idx {
                let col = b.column(i);
                if col.null_count() > 0 {
                    for (r, k) in keep.iter_mut().enumerate() {
                        *k &= col.is_valid(r);
                    }
                }
                use arrow::datatypes::DataType as T;
                if matches!(col.data_type(), T::Float16 | T::Float32 | T::Float64) {
                    let f = arrow::compute::cast(col, &T::Float64)?;
                    for (k, v) in keep
                        .iter_mut()
                        .zip(f.as_primitive::<arrow::datatypes::Float64Type>().values())
                    {
                        *k &= !v.is_nan();
                    }
                }
            }
            if keep.iter().all(|k| *k) {
                return Ok(b.clone());
            }
            Ok(arrow::compute::filter_record_batch(
                b,
                &arrow::array::BooleanArray::from(keep),
            )?)
        })?;
        Ok(self.with_partitions(parts))
    }

    /// All rows in one `RecordBatch` (a copy; for inspection and small results).
    pub fn collect(&self) -> Result<RecordBatch> {
        Ok(concat_batches(&self.schema, &self.partitions)?)
    }

    /// Runs `f` on every partition in parallel and returns the results in partition order.
    ///
    /// `f` receives the partition index and the partition. The order of the results never
    /// depends on the thread count, which is what makes merged summaries deterministic; nor
    /// does the error: when partitions fail, the first failing partition's error is returned.
    pub fn map_partitions<T, F>(&self, f: F) -> Result<Vec<T>>
    where
        T: Send,
        F: Fn(usize, &RecordBatch) -> Result<T> + Sync + Send,
    {
        in_order(
            self.partitions
                .par_iter()
                .enumerate()
                .map(|(i, p)| f(i, p))
                .collect(),
        )
    }

    /// A `DataFrame` with the same schema and new partitions.
    pub(crate) fn with_partitions(&self, partitions: Vec<RecordBatch>) -> DataFrame {
        Self {
            schema: self.schema.clone(),
            partitions,
        }
    }
}

/// The results of a parallel map, in order, or the first error in that order: the same
/// error whatever the thread count or scheduling (rayon's short-circuiting `collect` into a
/// `Result` returns whichever failure it meets first).
pub(crate) fn in_order<T>(results: Vec<Result<T>>) -> Result<Vec<T>> {
    results.into_iter().collect()
}

/// A batch from columns, valid also when it has no columns.
pub(crate) fn new_batch(
    schema: SchemaRef,
    cols: Vec<ArrayRef>,
    rows: usize,
) -> Result<RecordBatch> {
    let opts = RecordBatchOptions::new().with_row_count(Some(rows));
    Ok(RecordBatch::try_new_with_options(schema, cols, &opts)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::DataType;

    fn df() -> DataFrame {
        let b = RecordBatch::try_from_iter([
            ("a", Arc::new(Int64Array::from(vec![1, 2, 3])) as ArrayRef),
            (
                "b",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .unwrap();
        DataFrame::from_batches(vec![b]).unwrap()
    }

    #[test]
    fn select_drop_with_column() {
        let d = df();
        assert_eq!(d.select(["b"]).unwrap().schema().fields().len(), 1);
        assert_eq!(d.drop(["a", "nope"]).unwrap().schema().fields().len(), 1);
        let err = d.select(["c"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "DataFrame: column `c` not found; available columns: [\"a\", \"b\"]"
        );
        let c = Arc::new(Float64Array::from(vec![0.5, 1.5, 2.5])) as ArrayRef;
        let d2 = d
            .with_column(Field::new("c", DataType::Float64, false), vec![c.clone()])
            .unwrap();
        assert_eq!(d2.schema().fields().len(), 3);
        // replacing keeps the position
        let d3 = d2
            .with_column(Field::new("a", DataType::Float64, false), vec![c])
            .unwrap();
        assert_eq!(d3.schema().field(0).data_type(), &DataType::Float64);
        // the input is untouched
        assert_eq!(d.schema().fields().len(), 2);
        let err = d
            .with_column(Field::new("c", DataType::Float64, false), vec![])
            .unwrap_err();
        assert!(err.to_string().contains("one array per partition"), "{err}");
    }

    #[test]
    fn from_batches_needs_a_batch() {
        let err = DataFrame::from_batches(vec![]).unwrap_err().to_string();
        assert!(err.contains("DataFrame::empty"), "{err}");
    }
}
