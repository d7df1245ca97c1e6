//! Spark's row ordering, for the local sort `Dataset.randomSplit` does before sampling.
//!
//! Spark sorts each partition by every orderable column in schema order, ascending,
//! nulls first, with a stable sort. Its ordering differs from Arrow's `total_cmp` on
//! floats: NaN equals NaN and is above +∞, and −0.0 equals 0.0 (a tie keeps input order).
//! Strings compare by unsigned UTF-8 bytes; a dense ML vector (Spark's `VectorUDT`, a
//! struct `(type = 1, size = null, indices = null, values)`) compares by its values.

use std::cmp::Ordering;

use arrow::array::{Array, ArrowPrimitiveType, AsArray, RecordBatch};
use arrow::datatypes::*;

use crate::error::{Error, Result};

type Cmp<'a> = Box<dyn Fn(usize, usize) -> Ordering + 'a>;

/// Spark's order of two doubles: numeric, NaN = NaN > +∞, −0.0 = 0.0.
pub(crate) fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

fn prim<'a, T>(arr: &'a dyn Array) -> Cmp<'a>
where
    T: ArrowPrimitiveType,
    T::Native: Ord,
{
    let v = arr.as_primitive::<T>().values();
    Box::new(move |i, j| v[i].cmp(&v[j]))
}

fn float<'a, T>(arr: &'a dyn Array) -> Cmp<'a>
where
    T: ArrowPrimitiveType,
    T::Native: Into<f64>,
{
    let v = arr.as_primitive::<T>().values();
    Box::new(move |i, j| cmp_f64(v[i].into(), v[j].into()))
}

/// The comparator of one column, without nulls; `None` when Spark skips the column
/// (maps); an error for a type whose Spark ordering is not implemented.
fn column_cmp<'a>(name: &str, arr: &'a dyn Array, stage: &str) -> Result<Option<Cmp<'a>>> {
    use DataType as D;
    let c: Cmp<'a> = match arr.data_type() {
        D::Map(..) => return Ok(None),
        D::Null => Box::new(|_, _| Ordering::Equal),
        D::Boolean => {
            let a = arr.as_boolean();
            Box::new(move |i, j| a.value(i).cmp(&a.value(j)))
        }
        D::Int8 => prim::<Int8Type>(arr),
        D::Int16 => prim::<Int16Type>(arr),
        D::Int32 => prim::<Int32Type>(arr),
        D::Int64 => prim::<Int64Type>(arr),
        D::UInt8 => prim::<UInt8Type>(arr),
        D::UInt16 => prim::<UInt16Type>(arr),
        D::UInt32 => prim::<UInt32Type>(arr),
        D::UInt64 => prim::<UInt64Type>(arr),
        D::Date32 => prim::<Date32Type>(arr),
        D::Date64 => prim::<Date64Type>(arr),
        D::Timestamp(TimeUnit::Second, _) => prim::<TimestampSecondType>(arr),
        D::Timestamp(TimeUnit::Millisecond, _) => prim::<TimestampMillisecondType>(arr),
        D::Timestamp(TimeUnit::Microsecond, _) => prim::<TimestampMicrosecondType>(arr),
        D::Timestamp(TimeUnit::Nanosecond, _) => prim::<TimestampNanosecondType>(arr),
        D::Float32 => float::<Float32Type>(arr),
        D::Float64 => float::<Float64Type>(arr),
        D::Utf8 => {
            let a = arr.as_string::<i32>();
            Box::new(move |i, j| a.value(i).as_bytes().cmp(a.value(j).as_bytes()))
        }
        D::LargeUtf8 => {
            let a = arr.as_string::<i64>();
            Box::new(move |i, j| a.value(i).as_bytes().cmp(a.value(j).as_bytes()))
        }
        D::Utf8View => {
            let a = arr.as_string_view();
            Box::new(move |i, j| a.value(i).as_bytes().cmp(a.value(j).as_bytes()))
        }
        D::Binary => {
            let a = arr.as_binary::<i32>();
            Box::new(move |i, j| a.value(i).cmp(a.value(j)))
        }
        D::LargeBinary => {
            let a = arr.as_binary::<i64>();
            Box::new(move |i, j| a.value(i).cmp(a.value(j)))
        }
        D::FixedSizeList(item, n) if item.data_type() == &D::Float64 => {
            // A dense vector: element-wise on the values (all rows have n of them).
            let n = *n as usize;
            let list = arr.as_fixed_size_list();
            let child = list.values().as_primitive::<Float64Type>();
            // A sliced FixedSizeListArray holds a sliced child, so row i starts at i * n.
            let vals = child.values();
            Box::new(move |i, j| {
                let a = &vals[i * n..(i + 1) * n];
                let b = &vals[j * n..(j + 1) * n];
                a.iter()
                    .zip(b)
                    .map(|(x, y)| cmp_f64(*x, *y))
                    .find(|o| o.is_ne())
                    .unwrap_or(Ordering::Equal)
            })
        }
        _ if crate::frame::vector::is_sparse_vector_type(arr.data_type()) => {
            // Spark's VectorUDT struct, field by field: type (sparse 0 before dense 1),
            // size (null first: dense rows), indices, values; arrays element-wise, then
            // the shorter first.
            let s = arr.as_struct();
            let kinds = s.column(0).as_primitive::<Int8Type>();
            let sizes = s.column(1).as_primitive::<Int32Type>();
            let il = s.column(2).as_list::<i32>();
            let vl = s.column(3).as_list::<i32>();
            let iv = il.values().as_primitive::<Int32Type>().values();
            let vv = vl.values().as_primitive::<Float64Type>().values();
            let (io, vo) = (il.value_offsets(), vl.value_offsets());
            let opt = |valid: bool, i: usize| valid.then_some(i);
            Box::new(move |a, b| {
                let size = |r: usize| opt(sizes.is_valid(r), r).map(|r| sizes.value(r));
                let idx = |r: usize| {
                    opt(il.is_valid(r), r).map(|r| &iv[io[r] as usize..io[r + 1] as usize])
                };
                let vals = |r: usize| {
                    opt(vl.is_valid(r), r).map(|r| &vv[vo[r] as usize..vo[r + 1] as usize])
                };
                kinds
                    .value(a)
                    .cmp(&kinds.value(b))
                    .then_with(|| size(a).cmp(&size(b)))
                    .then_with(|| idx(a).cmp(&idx(b)))
                    .then_with(|| match (vals(a), vals(b)) {
                        (Some(x), Some(y)) => x
                            .iter()
                            .zip(y)
                            .map(|(p, q)| cmp_f64(*p, *q))
                            .find(|o| o.is_ne())
                            .unwrap_or_else(|| x.len().cmp(&y.len())),
                        (x, y) => x.is_some().cmp(&y.is_some()),
                    })
            })
        }
        other => {
            return Err(Error::Frame(format!(
                "{stage}: column `{name}` has type {other}, whose Spark ordering mlpipe does not implement (Spark sorts every partition by all columns before splitting); select or drop columns so that only numbers, strings, booleans, dates, timestamps, binaries and vectors remain"
            )))
        }
    };
    Ok(Some(c))
}

/// The row order Spark's `randomSplit` sorts `batch` into (stable, every orderable column in
/// schema order, ascending, nulls first), or `None` when no column is orderable (Spark
/// then keeps the input order).
pub(crate) fn spark_sort_indices(batch: &RecordBatch, stage: &str) -> Result<Option<Vec<u32>>> {
    let schema = batch.schema();
    let mut cmps: Vec<(Option<&arrow::buffer::NullBuffer>, Cmp<'_>)> = Vec::new();
    for (f, col) in schema.fields().iter().zip(batch.columns()) {
        if let Some(c) = column_cmp(f.name(), col.as_ref(), stage)? {
            cmps.push((col.nulls().filter(|n| n.null_count() > 0), c));
        }
    }
    if cmps.is_empty() {
        return Ok(None);
    }
    let mut idx: Vec<u32> = (0..batch.num_rows() as u32).collect();
    idx.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        for (nulls, c) in &cmps {
            let o = match nulls {
                Some(n) => match (n.is_null(a), n.is_null(b)) {
                    (true, true) => Ordering::Equal,
                    (true, false) => Ordering::Less,
                    (false, true) => Ordering::Greater,
                    (false, false) => c(a, b),
                },
                None => c(a, b),
            };
            if o.is_ne() {
                return o;
            }
        }
        Ordering::Equal
    });
    Ok(Some(idx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{ArrayRef, Float64Array, StringArray};
    use std::sync::Arc;

    #[test]
    fn doubles_and_strings_sort_as_spark_does() {
        // Spark: nulls first, -0.0 ties 0.0 (stable), NaN above +inf; strings by UTF-8 bytes.
        let x = Float64Array::from(vec![
            Some(f64::NAN),
            Some(0.0),
            None,
            Some(f64::INFINITY),
            Some(-0.0),
            Some(-1.0),
        ]);
        let b = RecordBatch::try_from_iter([("x", Arc::new(x) as ArrayRef)]).unwrap();
        let idx = spark_sort_indices(&b, "t").unwrap().unwrap();
        assert_eq!(idx, [2, 5, 1, 4, 3, 0]);
        let s = StringArray::from(vec!["é", "a", "Z", "😀", "\u{FFFF}"]);
        let b = RecordBatch::try_from_iter([("s", Arc::new(s) as ArrayRef)]).unwrap();
        assert_eq!(
            spark_sort_indices(&b, "t").unwrap().unwrap(),
            [2, 1, 0, 4, 3]
        );
    }

    #[test]
    fn vector_udt_rows_sort_as_sparks_struct() {
        // Spark: every sparse row (type 0) before every dense row (type 1); sparse rows by
        // size, then indices (element-wise, shorter first), then values; dense by values.
        let mut b = crate::frame::vector::SparseVectorBuilder::new(3);
        b.push_dense(&[1.0, 0.0, 0.0]).unwrap(); // 0
        b.push(&[1], &[5.0]).unwrap(); // 1
        b.push(&[0, 2], &[1.0, 1.0]).unwrap(); // 2
        b.push(&[0], &[2.0]).unwrap(); // 3
        b.push(&[0], &[f64::NAN]).unwrap(); // 4
        b.push_dense(&[0.0, 9.0, 9.0]).unwrap(); // 5
        let batch = RecordBatch::try_from_iter([("v", b.finish().unwrap())]).unwrap();
        let idx = spark_sort_indices(&batch, "t").unwrap().unwrap();
        assert_eq!(idx, [3, 4, 2, 1, 5, 0]);
    }
}
