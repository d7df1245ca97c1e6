//! `show`: a text table like Spark's `df.show()`.

use arrow::array::{Array, AsArray};
use arrow::datatypes::Float64Type;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::{vector, DataFrame};
use crate::error::Result;

/// Spark truncates cells longer than this to `CELL - 3` characters plus "...".
const CELL: usize = 20;

fn cell(arr: &dyn Array, fmt: &ArrayFormatter<'_>, row: usize) -> String {
    if arr.is_null(row) {
        return "null".to_string();
    }
    if vector::vector_size(arr.data_type()).is_some() {
        let list = arr.as_fixed_size_list();
        let v = list.value(row);
        let v = v.as_primitive::<Float64Type>();
        let parts: Vec<String> = v.values().iter().map(|x| format!("{x:?}")).collect();
        return format!("[{}]", parts.join(","));
    }
    if vector::is_sparse_vector_type(arr.data_type()) {
        // Spark's `SparseVector.toString`: `(size,[indices],[values])`; dense rows `[values]`.
        let s = arr.as_struct();
        let num = |x: &f64| format!("{x:?}");
        let vals = s.column(3).as_list::<i32>().value(row);
        let vals: Vec<String> = vals
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .map(num)
            .collect();
        if s.column(0)
            .as_primitive::<arrow::datatypes::Int8Type>()
            .value(row)
            == 1
        {
            return format!("[{}]", vals.join(","));
        }
        let size = s
            .column(1)
            .as_primitive::<arrow::datatypes::Int32Type>()
            .value(row);
        let idx = s.column(2).as_list::<i32>().value(row);
        let idx: Vec<String> = idx
            .as_primitive::<arrow::datatypes::Int32Type>()
            .values()
            .iter()
            .map(|i| i.to_string())
            .collect();
        return format!("({size},[{}],[{}])", idx.join(","), vals.join(","));
    }
    if let Some(f) = arr.as_primitive_opt::<Float64Type>() {
        return format!("{:?}", f.value(row));
    }
    fmt.value(row).to_string()
}

impl DataFrame {
    /// The first `n` rows as a table in Spark's `show()` layout: right-aligned cells, long
    /// cells cut to 20 characters, and a note when rows were left out.
    ///
    /// # Examples
    /// ```
    /// # use std::sync::Arc;
    /// # use arrow::array::{ArrayRef, Int32Array, StringArray, RecordBatch};
    /// # use mlpipe::DataFrame;
    /// let b = RecordBatch::try_from_iter([
    ///     ("id", Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef),
    ///     ("name", Arc::new(StringArray::from(vec![Some("a"), None])) as ArrayRef),
    /// ]).unwrap();
    /// let df = DataFrame::from_batches(vec![b]).unwrap();
    /// assert_eq!(df.show_string(1).unwrap(), "\
    /// +---+----+
    /// | id|name|
    /// +---+----+
    /// |  1|   a|
    /// +---+----+
    /// only showing top 1 row
    /// ");
    /// ```
    pub fn show_string(&self, n: usize) -> Result<String> {
        let opts = FormatOptions::default().with_null("null");
        let headers: Vec<String> = self
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut rows: Vec<Vec<String>> = Vec::new();
        'outer: for p in &self.partitions {
            let fmts = p
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &opts))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            for r in 0..p.num_rows() {
                if rows.len() >= n {
                    break 'outer;
                }
                rows.push(
                    p.columns()
                        .iter()
                        .zip(&fmts)
                        .map(|(c, f)| {
                            let s = cell(c.as_ref(), f, r);
                            if s.chars().count() > CELL {
                                format!("{}...", s.chars().take(CELL - 3).collect::<String>())
                            } else {
                                s
                            }
                        })
                        .collect(),
                );
            }
        }
        let widths: Vec<usize> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                rows.iter()
                    .map(|r| r[i].chars().count())
                    .chain([h.chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let sep: String = widths
            .iter()
            .map(|w| format!("+{}", "-".repeat(*w)))
            .collect::<String>()
            + "+\n";
        let line = |cells: &[String]| -> String {
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("|{c:>w$}"))
                .collect::<String>()
                + "|\n"
        };
        let mut out = sep.clone();
        out += &line(&headers);
        out += &sep;
        for r in &rows {
            out += &line(r);
        }
        out += &sep;
        let total = self.num_rows();
        if total > rows.len() {
            let k = rows.len();
            out += &format!(
                "only showing top {k} row{}\n",
                if k == 1 { "" } else { "s" }
            );
        }
        Ok(out)
    }

    /// Prints the first `n` rows like Spark's `df.show(n)`; see [`DataFrame::show_string`].
    pub fn show(&self, n: usize) -> Result<()> {
        print!("{}", self.show_string(n)?);
        Ok(())
    }
}
