//! Spark's `VectorUDT` and `MatrixUDT` structs in Parquet (`org.apache.spark.ml.linalg.VectorUDT` / `MatrixUDT`'s `sqlType`).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int32Array, Int8Array, ListArray, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Fields, Float64Type};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{json, Value};

use crate::param::SparkDouble;

use crate::error::{Error, Result};

/// A Spark ML vector.
#[derive(Clone, Debug, PartialEq)]
pub enum Vector {
    /// All values.
    Dense(Vec<f64>),
    /// `size`, and the non-zero entries at `indices`.
    Sparse {
        /// Length.
        size: usize,
        /// Positions of the stored values.
        indices: Vec<usize>,
        /// The stored values.
        values: Vec<f64>,
    },
}

/// A dense Spark ML matrix, held row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub num_rows: usize,
    /// Columns.
    pub num_cols: usize,
    /// Row-major values.
    pub values: Vec<f64>,
}

fn bad(dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::file(dir.join("data"), format!("corrupt model data: {what}"))
}

fn child<'a>(s: &'a StructArray, name: &str, dir: &Path) -> Result<&'a ArrayRef> {
    s.column_by_name(name)
        .ok_or_else(|| bad(dir, format!("the struct lacks field `{name}`")))
}

/// The struct column `a` (a UDT's `what`), whose row 0 must be non-null.
fn first_struct<'a>(a: &'a ArrayRef, what: &str, dir: &Path) -> Result<&'a StructArray> {
    let s = a.as_struct_opt().ok_or_else(|| {
        bad(
            dir,
            format!("expected a {what} struct, found {}", a.data_type()),
        )
    })?;
    if s.is_empty() || s.is_null(0) {
        return Err(bad(dir, format!("the {what} is null")));
    }
    Ok(s)
}

fn int_list(a: &ArrayRef, row: usize, dir: &Path) -> Result<Vec<i64>> {
    let l = a
        .as_list_opt::<i32>()
        .ok_or_else(|| bad(dir, "expected a list"))?;
    if l.is_null(row) {
        return Err(bad(dir, "a required list is null"));
    }
    let v = l.value(row);
    let v = arrow::compute::cast(&v, &DataType::Int64).map_err(|e| bad(dir, e))?;
    Ok(v.as_primitive::<arrow::datatypes::Int64Type>()
        .values()
        .to_vec())
}

fn f64_list(a: &ArrayRef, row: usize, dir: &Path) -> Result<Vec<f64>> {
    let l = a
        .as_list_opt::<i32>()
        .ok_or_else(|| bad(dir, "expected a list"))?;
    if l.is_null(row) {
        return Err(bad(dir, "a required list is null"));
    }
    let v = l.value(row);
    let v = v
        .as_primitive_opt::<Float64Type>()
        .ok_or_else(|| bad(dir, "expected doubles"))?;
    Ok(v.values().to_vec())
}

fn int_at(a: &ArrayRef, row: usize, dir: &Path) -> Result<i64> {
    let v = arrow::compute::cast(a, &DataType::Int64).map_err(|e| bad(dir, e))?;
    let v = v.as_primitive::<arrow::datatypes::Int64Type>();
    if v.is_null(row) {
        return Err(bad(dir, "a required integer is null"));
    }
    Ok(v.value(row))
}

fn indices_in(idx: &[i64], bound: usize) -> std::result::Result<Vec<usize>, String> {
    idx.iter()
        .map(|&i| {
            if i >= 0 && (i as usize) < bound {
                Ok(i as usize)
            } else {
                Err(format!("index {i} out of range 0..{bound}"))
            }
        })
        .collect()
}

impl Vector {
    /// Decodes row 0 of a VectorUDT column.
    pub fn from_column(a: &ArrayRef, dir: &Path) -> Result<Vector> {
        let s = first_struct(a, "vector", dir)?;
        let kind = int_at(child(s, "type", dir)?, 0, dir)?;
        let values = f64_list(child(s, "values", dir)?, 0, dir)?;
        let sparse = if kind == 0 {
            Some((
                int_at(child(s, "size", dir)?, 0, dir)?,
                int_list(child(s, "indices", dir)?, 0, dir)?,
            ))
        } else {
            None
        };
        Vector::from_parts(kind, sparse, values).map_err(|e| bad(dir, e))
    }

    /// A vector from Spark's fields: `kind` 1 is dense, 0 is sparse with `(size, indices)`.
    fn from_parts(
        kind: i64,
        sparse: Option<(i64, Vec<i64>)>,
        values: Vec<f64>,
    ) -> std::result::Result<Vector, String> {
        match (kind, sparse) {
            (1, _) => Ok(Vector::Dense(values)),
            (0, Some((size, indices))) => {
                if size < 0 {
                    return Err(format!("negative vector size {size}"));
                }
                let indices = indices_in(&indices, size as usize)?;
                if indices.len() != values.len() {
                    return Err("sparse vector with different numbers of indices and values".into());
                }
                Ok(Vector::Sparse {
                    size: size as usize,
                    indices,
                    values,
                })
            }
            (0, None) => Err("sparse vector without size and indices".into()),
            (k, _) => Err(format!("unknown vector type {k}")),
        }
    }

    /// All values.
    pub fn to_dense(&self) -> Vec<f64> {
        match self {
            Vector::Dense(v) => v.clone(),
            Vector::Sparse {
                size,
                indices,
                values,
            } => {
                let mut out = vec![0.0; *size];
                for (i, v) in indices.iter().zip(values) {
                    out[*i] = *v;
                }
                out
            }
        }
    }

    /// `values` stored as Spark 4's `Vector.compressed` stores them: sparse (non-zeros
    /// only) when that takes fewer bytes, else dense
    /// ([`prefers_sparse`](crate::frame::vector::prefers_sparse)). Spark saves several
    /// models' vectors this way (StandardScaler's std and mean, MinMaxScaler's and
    /// MaxAbsScaler's extremes, LinearRegression's coefficients, LogisticRegression's
    /// intercepts, NaiveBayes' pi).
    ///
    /// # Examples
    /// ```
    /// use mlpipe::persist::Vector;
    /// assert_eq!(Vector::compressed(&[0.0, 0.0, 3.0, 0.0]),
    ///     Vector::Sparse { size: 4, indices: vec![2], values: vec![3.0] });
    /// assert_eq!(Vector::compressed(&[1.0, 2.0]), Vector::Dense(vec![1.0, 2.0]));
    /// ```
    pub fn compressed(all: &[f64]) -> Vector {
        let nnz = all.iter().filter(|v| **v != 0.0).count();
        if !crate::frame::vector::prefers_sparse(nnz, all.len()) {
            return Vector::Dense(all.to_vec());
        }
        let (indices, values) = all
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(i, v)| (i, *v))
            .unzip();
        Vector::Sparse {
            size: all.len(),
            indices,
            values,
        }
    }

    /// The Arrow field and one-row array of the vector in Spark's struct layout, stored
    /// as it is (dense, or sparse with its size and indices).
    pub(crate) fn field_and_array(&self, name: &str) -> Result<(Field, ArrayRef)> {
        let mut b = crate::frame::vector::SparseVectorBuilder::new(match self {
            Vector::Dense(v) => v.len(),
            Vector::Sparse { size, .. } => *size,
        });
        match self {
            Vector::Dense(v) => b.push_dense(v)?,
            Vector::Sparse {
                indices, values, ..
            } => {
                let idx: Vec<i32> = indices.iter().map(|i| *i as i32).collect();
                b.push(&idx, values)?;
            }
        }
        let arr = b.finish()?;
        Ok((Field::new(name, arr.data_type().clone(), true), arr))
    }
}

fn f64_list_array(values: Vec<f64>) -> ArrayRef {
    let n = values.len();
    Arc::new(ListArray::new(
        Arc::new(Field::new("element", DataType::Float64, false)),
        OffsetBuffer::from_lengths([n]),
        Arc::new(arrow::array::Float64Array::from(values)),
        None,
    ))
}

fn list(t: DataType) -> DataType {
    DataType::List(Arc::new(Field::new("element", t, false)))
}

fn matrix_fields() -> Fields {
    Fields::from(vec![
        Field::new("type", DataType::Int8, false),
        Field::new("numRows", DataType::Int32, false),
        Field::new("numCols", DataType::Int32, false),
        Field::new("colPtrs", list(DataType::Int32), true),
        Field::new("rowIndices", list(DataType::Int32), true),
        Field::new("values", list(DataType::Float64), true),
        Field::new("isTransposed", DataType::Boolean, false),
    ])
}

impl Matrix {
    /// A `num_rows × num_cols` matrix from its row-major values.
    ///
    /// # Examples
    /// ```
    /// use mlpipe::persist::Matrix;
    /// let m = Matrix::new(1, 3, vec![0.0, f64::NEG_INFINITY, 1.0]).unwrap();
    /// assert_eq!(m.get(0, 2), Some(1.0));
    /// assert!(Matrix::new(2, 2, vec![1.0]).is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidParam`] when `values` does not hold `num_rows · num_cols` entries.
    pub fn new(num_rows: usize, num_cols: usize, values: Vec<f64>) -> Result<Matrix> {
        if num_rows.checked_mul(num_cols) != Some(values.len()) {
            return Err(Error::param(
                "Matrix",
                "values",
                format!("{num_rows} x {num_cols} values, row by row"),
                format!("{} values", values.len()),
            ));
        }
        Ok(Matrix {
            num_rows,
            num_cols,
            values,
        })
    }

    /// The entry at row `i`, column `j`; `None` outside the matrix.
    pub fn get(&self, i: usize, j: usize) -> Option<f64> {
        if i < self.num_rows && j < self.num_cols {
            self.values.get(i * self.num_cols + j).copied()
        } else {
            None
        }
    }

    /// Decodes row 0 of a MatrixUDT column (dense or sparse, either orientation).
    pub fn from_column(a: &ArrayRef, dir: &Path) -> Result<Matrix> {
        let s = first_struct(a, "matrix", dir)?;
        let kind = int_at(child(s, "type", dir)?, 0, dir)?;
        let (r, c) = (
            int_at(child(s, "numRows", dir)?, 0, dir)?,
            int_at(child(s, "numCols", dir)?, 0, dir)?,
        );
        if r < 0 || c < 0 || r.saturating_mul(c) > 1 << 31 {
            return Err(bad(dir, format!("matrix shape {r}x{c}")));
        }
        let (r, c) = (r as usize, c as usize);
        let t = child(s, "isTransposed", dir)?
            .as_boolean_opt()
            .map(|b: &BooleanArray| b.value(0))
            .ok_or_else(|| bad(dir, "isTransposed is not a boolean"))?;
        let values = f64_list(child(s, "values", dir)?, 0, dir)?;
        let sparse = if kind == 0 {
            Some((
                int_list(child(s, "colPtrs", dir)?, 0, dir)?,
                int_list(child(s, "rowIndices", dir)?, 0, dir)?,
            ))
        } else {
            None
        };
        Matrix::from_parts(kind, r, c, sparse, values, t).map_err(|e| bad(dir, e))
    }

    /// A row-major matrix from Spark's fields: `kind` 1 is dense (`values` column-major,
    /// or row-major when `transposed`), 0 is sparse CSC (CSR when `transposed`) with
    /// `(colPtrs, rowIndices)`.
    fn from_parts(
        kind: i64,
        r: usize,
        c: usize,
        sparse: Option<(Vec<i64>, Vec<i64>)>,
        values: Vec<f64>,
        t: bool,
    ) -> std::result::Result<Matrix, String> {
        let mut out = vec![0.0; r * c];
        match (kind, sparse) {
            (1, _) => {
                if values.len() != r * c {
                    return Err(format!("dense {r}x{c} matrix with {} values", values.len()));
                }
                for i in 0..r {
                    for j in 0..c {
                        out[i * c + j] = if t {
                            values[i * c + j]
                        } else {
                            values[j * r + i]
                        };
                    }
                }
            }
            (0, Some((ptrs, idx))) => {
                // CSC (colPtrs over columns, rowIndices are rows); transposed: CSR.
                let (outer, inner) = if t { (r, c) } else { (c, r) };
                if ptrs.len() != outer + 1 || idx.len() != values.len() {
                    return Err("sparse matrix arrays of inconsistent lengths".into());
                }
                let idx = indices_in(&idx, inner)?;
                for o in 0..outer {
                    let (a, b) = (ptrs[o], ptrs[o + 1]);
                    if a < 0 || b < a || b as usize > values.len() {
                        return Err("sparse matrix pointers out of order".into());
                    }
                    for k in a as usize..b as usize {
                        let (i, j) = if t { (o, idx[k]) } else { (idx[k], o) };
                        out[i * c + j] = values[k];
                    }
                }
            }
            (0, None) => return Err("sparse matrix without colPtrs and rowIndices".into()),
            (k, _) => return Err(format!("unknown matrix type {k}")),
        }
        Ok(Matrix {
            num_rows: r,
            num_cols: c,
            values: out,
        })
    }

    /// Row-major values.
    pub fn to_row_major(&self) -> Vec<f64> {
        self.values.clone()
    }

    /// The Arrow field and one-row array: dense, row-major (`isTransposed = true`).
    pub(crate) fn field_and_array(&self, name: &str) -> Result<(Field, ArrayRef)> {
        let fields = matrix_fields();
        let null_ints = || {
            Arc::new(ListArray::new_null(
                Arc::new(Field::new("element", DataType::Int32, false)),
                1,
            )) as ArrayRef
        };
        let arr = StructArray::try_new(
            fields.clone(),
            vec![
                Arc::new(Int8Array::from(vec![1i8])) as ArrayRef,
                Arc::new(Int32Array::from(vec![self.num_rows as i32])) as ArrayRef,
                Arc::new(Int32Array::from(vec![self.num_cols as i32])) as ArrayRef,
                null_ints(),
                null_ints(),
                f64_list_array(self.values.clone()),
                Arc::new(BooleanArray::from(vec![true])) as ArrayRef,
            ],
            None,
        )?;
        Ok((
            Field::new(name, DataType::Struct(fields), true),
            Arc::new(arr),
        ))
    }
}

fn array_json(t: &str) -> Value {
    json!({"type": "array", "elementType": t, "containsNull": false})
}

/// Spark's schema JSON of a `VectorUDT` column.
pub(crate) fn vector_udt_json() -> Value {
    json!({"type": "udt", "class": "org.apache.spark.ml.linalg.VectorUDT", "pyClass": "pyspark.ml.linalg.VectorUDT",
        "sqlType": {"type": "struct", "fields": [
            {"name": "type", "type": "byte", "nullable": false, "metadata": {}},
            {"name": "size", "type": "integer", "nullable": true, "metadata": {}},
            {"name": "indices", "type": array_json("integer"), "nullable": true, "metadata": {}},
            {"name": "values", "type": array_json("double"), "nullable": true, "metadata": {}}]}})
}

/// Spark's schema JSON of a `MatrixUDT` column.
pub(crate) fn matrix_udt_json() -> Value {
    json!({"type": "udt", "class": "org.apache.spark.ml.linalg.MatrixUDT", "pyClass": "pyspark.ml.linalg.MatrixUDT",
        "sqlType": {"type": "struct", "fields": [
            {"name": "type", "type": "byte", "nullable": false, "metadata": {}},
            {"name": "numRows", "type": "integer", "nullable": false, "metadata": {}},
            {"name": "numCols", "type": "integer", "nullable": false, "metadata": {}},
            {"name": "colPtrs", "type": array_json("integer"), "nullable": true, "metadata": {}},
            {"name": "rowIndices", "type": array_json("integer"), "nullable": true, "metadata": {}},
            {"name": "values", "type": array_json("double"), "nullable": true, "metadata": {}},
            {"name": "isTransposed", "type": "boolean", "nullable": false, "metadata": {}}]}})
}

/// A double as Spark's param JSON writes it inside a vector or matrix: a number, or the
/// Java spellings `"NaN"`, `"Infinity"` and `"-Infinity"`.
struct JavaDouble(f64);

impl Serialize for JavaDouble {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v = self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(v)
        }
    }
}

/// Spark's param JSON of a vector (`JsonVectorConverter`):
/// `{"type":1,"values":[…]}` or `{"type":0,"size":n,"indices":[…],"values":[…]}`.
impl Serialize for Vector {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let doubles = |v: &[f64]| v.iter().map(|x| JavaDouble(*x)).collect::<Vec<_>>();
        match self {
            Vector::Dense(v) => json!({"type": 1, "values": serde_json::to_value(doubles(v)).map_err(serde::ser::Error::custom)?}).serialize(s),
            Vector::Sparse {
                size,
                indices,
                values,
            } => json!({"type": 0, "size": size, "indices": indices, "values": serde_json::to_value(doubles(values)).map_err(serde::ser::Error::custom)?}).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Vector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            kind: i64,
            size: Option<i64>,
            indices: Option<Vec<i64>>,
            values: Vec<SparkDouble>,
        }
        let r = Raw::deserialize(d)?;
        let sparse = r.size.zip(r.indices);
        let values = r.values.into_iter().map(|v| v.0).collect();
        Vector::from_parts(r.kind, sparse, values).map_err(serde::de::Error::custom)
    }
}

/// Spark's param JSON of a matrix (`JsonMatrixConverter`). Written dense and column-major
/// (`isTransposed: false`), as Spark writes a `DenseMatrix` built in Python or Scala; read
/// in any of Spark's four forms.
impl Serialize for Matrix {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let (r, c) = (self.num_rows, self.num_cols);
        if self.values.len() != r * c {
            return Err(serde::ser::Error::custom(format!(
                "a {r}x{c} matrix with {} values",
                self.values.len()
            )));
        }
        let values: Vec<JavaDouble> = (0..c)
            .flat_map(|j| (0..r).map(move |i| (i, j)))
            .map(|(i, j)| JavaDouble(self.values[i * c + j]))
            .collect();
        json!({"class": "matrix", "type": 1, "numRows": r, "numCols": c,
            "values": serde_json::to_value(values).map_err(serde::ser::Error::custom)?,
            "isTransposed": false})
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Matrix {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(rename = "type")]
            kind: i64,
            num_rows: i64,
            num_cols: i64,
            col_ptrs: Option<Vec<i64>>,
            row_indices: Option<Vec<i64>>,
            values: Vec<SparkDouble>,
            #[serde(default)]
            is_transposed: bool,
        }
        let r = Raw::deserialize(d)?;
        if r.num_rows < 0 || r.num_cols < 0 || r.num_rows.saturating_mul(r.num_cols) > 1 << 31 {
            return Err(serde::de::Error::custom(format!(
                "matrix shape {}x{}",
                r.num_rows, r.num_cols
            )));
        }
        let values = r.values.into_iter().map(|v| v.0).collect();
        Matrix::from_parts(
            r.kind,
            r.num_rows as usize,
            r.num_cols as usize,
            r.col_ptrs.zip(r.row_indices),
            values,
            r.is_transposed,
        )
        .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The bound params as PySpark 4.3.0 wrote them for
    /// `LogisticRegression(lowerBoundsOnCoefficients=DenseMatrix(1, 3, [-inf, 0, 1]),
    /// upperBoundsOnCoefficients=SparseMatrix(1, 3, [0, 1, 1, 2], [0, 0], [2, 3]),
    /// upperBoundsOnIntercepts=Vectors.sparse(1, [0], [inf]))` saved with `write().save`.
    const SPARK_PARAMS: &str = r#"{"lowerBoundsOnCoefficients":{"class":"matrix","type":1,"numRows":1,"numCols":3,"values":["-Infinity",0.0,1.0],"isTransposed":false},"upperBoundsOnCoefficients":{"class":"matrix","type":0,"numRows":1,"numCols":3,"colPtrs":[0,1,1,2],"rowIndices":[0,0],"values":[2.0,3.0],"isTransposed":false},"upperBoundsOnIntercepts":{"type":0,"size":1,"indices":[0],"values":["Infinity"]}}"#;

    #[test]
    fn reads_sparks_matrix_and_vector_param_json() {
        let v: serde_json::Value = serde_json::from_str(SPARK_PARAMS).unwrap();
        let lower: Matrix = serde_json::from_value(v["lowerBoundsOnCoefficients"].clone()).unwrap();
        assert_eq!(lower.values, vec![f64::NEG_INFINITY, 0.0, 1.0]);
        let upper: Matrix = serde_json::from_value(v["upperBoundsOnCoefficients"].clone()).unwrap();
        assert_eq!((upper.num_rows, upper.num_cols), (1, 3));
        assert_eq!(upper.values, vec![2.0, 0.0, 3.0]);
        let b: Vector = serde_json::from_value(v["upperBoundsOnIntercepts"].clone()).unwrap();
        assert_eq!(b.to_dense(), vec![f64::INFINITY]);
        // Written back densely, in Spark's spelling.
        assert_eq!(
            serde_json::to_value(&lower).unwrap(),
            v["lowerBoundsOnCoefficients"]
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            v["upperBoundsOnIntercepts"]
        );
    }

    #[test]
    fn a_2x2_matrix_reads_in_every_layout() {
        // [[1, 2], [0, 4]] dense column-major, dense row-major, CSC and CSR.
        let want = vec![1.0, 2.0, 0.0, 4.0];
        for j in [
            r#"{"type":1,"numRows":2,"numCols":2,"values":[1,0,2,4],"isTransposed":false}"#,
            r#"{"type":1,"numRows":2,"numCols":2,"values":[1,2,0,4],"isTransposed":true}"#,
            r#"{"type":0,"numRows":2,"numCols":2,"colPtrs":[0,1,3],"rowIndices":[0,0,1],"values":[1,2,4],"isTransposed":false}"#,
            r#"{"type":0,"numRows":2,"numCols":2,"colPtrs":[0,2,3],"rowIndices":[0,1,1],"values":[1,2,4],"isTransposed":true}"#,
        ] {
            let m: Matrix = serde_json::from_str(j).unwrap();
            assert_eq!(m.values, want, "{j}");
        }
        let err = serde_json::from_str::<Matrix>(
            r#"{"type":1,"numRows":2,"numCols":2,"values":[1],"isTransposed":false}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("dense 2x2 matrix with 1 values"), "{err}");
    }
}
