//! [`VectorAssembler`]: concatenate columns into one vector column.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Schema};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_non_empty, random_uid, HandleInvalid, Params};
use crate::pipeline::{stage_params, Stage, Transformer};

/// Params of [`VectorAssembler`]; JSON names are Spark's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VectorAssemblerParams {
    /// Columns to assemble, in order. Required, non-empty.
    pub input_cols: Vec<String>,
    /// Output column. Spark's default is `<uid>__output`, set by [`VectorAssembler::new`].
    pub output_col: String,
    /// What to do with nulls and NaNs: `error` (default), `skip` or `keep`.
    pub handle_invalid: HandleInvalid,
}

impl Params for VectorAssemblerParams {
    const STAGE: &'static str = "VectorAssembler";
    fn validate(&self) -> Result<()> {
        check_non_empty(Self::STAGE, "inputCols", &self.input_cols)?;
        if self.output_col.is_empty() {
            return Err(Error::param(
                Self::STAGE,
                "outputCol",
                "a non-empty column name",
                "\"\"",
            ));
        }
        Ok(())
    }
}

/// Concatenate numeric, boolean and vector columns into one vector column.
///
/// [`VectorAssembler`] is a [`Transformer`] with Spark's semantics (reference §2.1): inputs
/// are read left to right, numbers and booleans are cast to `f64` (true → 1.0), vectors
/// are copied whole, and the output is a dense `FixedSizeList<Float64, n>` whose field
/// metadata records the feature names (`col` for a scalar, `col_<name>` or `col_<i>` for a
/// vector element).
///
/// `handleInvalid` decides what happens to a null (any input) or a NaN (scalar inputs; as
/// in Spark, NaN inside a vector is never checked): `error` fails naming the partition and
/// row, `skip` drops the row, `keep` writes NaN (a null vector becomes `n` NaNs).
///
/// # Example
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::VectorAssembler;
///
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let assembler = VectorAssembler::new()
///     .with_input_cols(&["tenure", "monthly_charges", "total_charges"])
///     .with_output_col("features")
///     .with_handle_invalid(HandleInvalid::Skip);
/// let out = assembler.transform(&df)?;
/// assert_eq!(mlpipe::frame::vector::feature_names_or_default(
///     out.schema().field_with_name("features").unwrap()),
///     vec!["tenure", "monthly_charges", "total_charges"]);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::ColumnNotFound`], [`Error::ColumnType`] (not numeric, boolean or vector),
/// [`Error::ColumnExists`], [`Error::InvalidParam`] (no input columns), and
/// [`Error::InvalidValue`] for a null or NaN under `handleInvalid = error`.
#[derive(Clone, Debug)]
pub struct VectorAssembler {
    uid: String,
    params: VectorAssemblerParams,
}

impl Default for VectorAssembler {
    fn default() -> Self {
        Self::new()
    }
}

/// The input columns' indices and kinds, and the output's feature names.
type Plan = (Vec<(usize, Input)>, Vec<String>);

/// How one input column feeds the output.
#[derive(Clone, Copy, Debug)]
enum Input {
    Scalar,
    Vector(usize),
}

impl VectorAssembler {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "vecAssembler";

    /// A VectorAssembler with Spark's defaults (output column `<uid>__output`).
    pub fn new() -> Self {
        let uid = random_uid(Self::UID_PREFIX);
        Self::from_params(
            uid.clone(),
            VectorAssemblerParams {
                output_col: format!("{uid}__output"),
                ..Default::default()
            },
        )
    }

    /// A VectorAssembler with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: VectorAssemblerParams) -> Self {
        Self {
            uid: uid.into(),
            params,
        }
    }

    /// The params.
    pub fn params(&self) -> &VectorAssemblerParams {
        &self.params
    }

    /// Columns to assemble, in order (Spark `inputCols`; required).
    pub fn with_input_cols(mut self, cols: &[&str]) -> Self {
        self.params.input_cols = cols.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Output column (Spark `outputCol`; default `<uid>__output`).
    pub fn with_output_col(mut self, col: &str) -> Self {
        self.params.output_col = col.to_string();
        self
    }

    /// Null/NaN policy (Spark `handleInvalid`; default `error`).
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }

    /// Resolves each input column's index, kind and the feature names.
    fn plan(&self, input: &Schema) -> Result<Plan> {
        self.params.validate()?;
        let stage = VectorAssemblerParams::STAGE;
        let mut cols = Vec::with_capacity(self.params.input_cols.len());
        let mut names = Vec::new();
        for c in &self.params.input_cols {
            let (i, f) = schema::require_column(input, stage, c)?;
            if let Some(n) = vector::vector_size(f.data_type()) {
                let attr = vector::feature_names(f).unwrap_or_else(|| vec![None; n]);
                for (j, a) in attr.iter().enumerate().take(n) {
                    names.push(match a {
                        Some(a) => format!("{c}_{a}"),
                        None => format!("{c}_{j}"),
                    });
                }
                cols.push((i, Input::Vector(n)));
            } else if schema::is_numeric(f.data_type()) {
                names.push(c.clone());
                cols.push((i, Input::Scalar));
            } else {
                return Err(Error::ColumnType {
                    stage,
                    column: c.clone(),
                    expected: "a numeric, boolean or vector column".into(),
                    found: f.data_type().clone(),
                });
            }
        }
        schema::require_absent(input, stage, &self.params.output_col)?;
        Ok((cols, names))
    }

    fn assemble(
        &self,
        part: usize,
        batch: &RecordBatch,
        cols: &[(usize, Input)],
        n: usize,
    ) -> Result<ArrayRef> {
        let stage = VectorAssemblerParams::STAGE;
        let rows = batch.num_rows();
        let keep = self.params.handle_invalid == HandleInvalid::Keep;
        let invalid = |c: usize, row: usize, what: &str| {
            Error::InvalidValue {
            stage,
            column: self.params.input_cols[c].clone(),
            partition: part,
            row,
            what: what.to_string(),
            hint: "set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN".into(),
        }
        };
        let mut out = vec![0.0f64; rows * n];
        let mut off = 0;
        for (c, &(i, kind)) in cols.iter().enumerate() {
            let col = batch.column(i);
            match kind {
                Input::Scalar => {
                    let casted = cast(col, &DataType::Float64)?;
                    let vals = casted.as_primitive::<Float64Type>();
                    let has_nulls = vals.null_count() > 0;
                    for (r, &v) in vals.values().iter().enumerate() {
                        let v = if has_nulls && vals.is_null(r) {
                            if !keep {
                                return Err(invalid(c, r, "null value"));
                            }
                            f64::NAN
                        } else {
                            if v.is_nan() && !keep {
                                return Err(invalid(c, r, "NaN"));
                            }
                            v
                        };
                        out[r * n + off] = v;
                    }
                    off += 1;
                }
                Input::Vector(size) => {
                    let list = vector::as_vector(col.as_ref())?;
                    let vals = vector::dense_values(list)?;
                    for r in 0..rows {
                        let dst = &mut out[r * n + off..r * n + off + size];
                        if list.is_null(r) {
                            if !keep {
                                return Err(invalid(c, r, "null vector"));
                            }
                            dst.fill(f64::NAN);
                        } else {
                            dst.copy_from_slice(&vals[r * size..(r + 1) * size]);
                        }
                    }
                    off += size;
                }
            }
        }
        Ok(Arc::new(vector::vector_array(out, n, None)?))
    }
}

impl Stage for VectorAssembler {
    fn kind(&self) -> &'static str {
        "VectorAssembler"
    }
    stage_params!();

    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let (_, names) = self.plan(input)?;
        let field = vector::with_feature_names(
            vector::vector_field(&self.params.output_col, names.len(), false),
            &names,
        );
        schema::append_field(input, VectorAssemblerParams::STAGE, field)
    }
}

impl Transformer for VectorAssembler {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let (cols, names) = self.plan(df.schema())?;
        let n = names.len();
        // skip: Spark's na.drop over the inputs (nulls anywhere, NaN in scalar columns).
        let df = if self.params.handle_invalid == HandleInvalid::Skip {
            let cols: Vec<&str> = self.params.input_cols.iter().map(|s| s.as_str()).collect();
            df.drop_invalid(&cols)?
        } else {
            df.clone()
        };
        let chunks = df.map_partitions(|p, b| self.assemble(p, b, &cols, n))?;
        let field = vector::with_feature_names(
            vector::vector_field(&self.params.output_col, n, false),
            &names,
        );
        df.with_column(field, chunks)
    }

    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int32Array, StringArray};

    fn df() -> DataFrame {
        let b = RecordBatch::try_from_iter([
            (
                "a",
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])) as ArrayRef,
            ),
            (
                "b",
                Arc::new(Float64Array::from(vec![0.5, 1.5, f64::NAN])) as ArrayRef,
            ),
            (
                "s",
                Arc::new(StringArray::from(vec!["x", "y", "z"])) as ArrayRef,
            ),
        ])
        .unwrap();
        DataFrame::from_batches(vec![b]).unwrap()
    }

    fn rows(df: &DataFrame, col: &str) -> Vec<Vec<f64>> {
        let c = df.column(col).unwrap();
        let mut out = Vec::new();
        for chunk in &c.chunks {
            let l = chunk.as_fixed_size_list();
            let v = vector::dense_values(l).unwrap();
            let n = l.value_length() as usize;
            out.extend(v.chunks(n).map(|r| r.to_vec()));
        }
        out
    }

    #[test]
    fn error_mode_names_partition_and_row() {
        let va = VectorAssembler::new()
            .with_input_cols(&["a", "b"])
            .with_output_col("f");
        let err = va.transform(&df()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: null value in column `a` (partition 0, row 1); set handleInvalid to \"skip\" to drop such rows or \"keep\" to assemble them as NaN"
        );
        let err = va
            .clone()
            .with_input_cols(&["b"])
            .transform(&df())
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("VectorAssembler: NaN in column `b` (partition 0, row 2)"),
            "{err}"
        );
    }

    #[test]
    fn skip_and_keep() {
        let va = VectorAssembler::new()
            .with_input_cols(&["a", "b"])
            .with_output_col("f")
            .with_handle_invalid(HandleInvalid::Skip);
        assert_eq!(
            rows(&va.transform(&df()).unwrap(), "f"),
            vec![vec![1.0, 0.5]]
        );
        let out = va
            .with_handle_invalid(HandleInvalid::Keep)
            .transform(&df())
            .unwrap();
        let r = rows(&out, "f");
        assert_eq!(r[0], vec![1.0, 0.5]);
        assert!(r[1][0].is_nan() && r[1][1] == 1.5);
        assert!(r[2][1].is_nan() && r[2][0] == 3.0);
    }

    #[test]
    fn vector_inputs_and_names() {
        let va = VectorAssembler::new()
            .with_input_cols(&["b"])
            .with_output_col("v")
            .with_handle_invalid(HandleInvalid::Keep);
        let d = va.transform(&df()).unwrap();
        let va2 = VectorAssembler::new()
            .with_input_cols(&["v", "b"])
            .with_output_col("w")
            .with_handle_invalid(HandleInvalid::Keep);
        let d2 = va2.transform(&d).unwrap();
        let f = d2.schema().field_with_name("w").unwrap();
        assert_eq!(vector::feature_names_or_default(f), vec!["v_b", "b"]);
        assert_eq!(rows(&d2, "w")[1], vec![1.5, 1.5]);
    }

    #[test]
    fn schema_errors() {
        let s = df();
        let err = VectorAssembler::new()
            .with_input_cols(&["s"])
            .with_output_col("f")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: column `s` has type Utf8, expected a numeric, boolean or vector column"
        );
        let err = VectorAssembler::new()
            .with_input_cols(&["a"])
            .with_output_col("b")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: output column `b` already exists; choose another output column name or drop the existing column first"
        );
        let err = VectorAssembler::new()
            .with_output_col("f")
            .transform(&s)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "VectorAssembler: parameter `inputCols` must be a non-empty list, got []"
        );
    }

    #[test]
    fn is_send_sync() {
        fn has_autotraits<T: Send + Sync + Sized + Unpin>() {}
        has_autotraits::<VectorAssembler>();
    }
}
