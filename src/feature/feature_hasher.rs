//! [`FeatureHasher`]: hash numeric, boolean and string columns into one sparse vector.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float32Type, Float64Type, Schema};
use serde::{Deserialize, Serialize};

use super::hashing_tf::{check_num_features, check_spark_3};
use super::java_double_string;
use super::murmur3::{hash_str, non_negative_mod};
use crate::error::{Error, Result};
use crate::frame::vector::{sparse_vector_field, SparseVectorBuilder};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Model, Stage, Transformer};

/// Params of [`FeatureHasher`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct FeatureHasherParams {
    /// The columns to hash: numeric, boolean or string (no default).
    pub input_cols: Option<Vec<String>>,
    /// The sparse vector output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// The vector size; default 2^18 = 262144, must be in `1..=2^31 - 1`.
    pub num_features: i64,
    /// Numeric columns to treat as categorical (hashed as `column=value`); unset by
    /// default. String and boolean columns are always categorical.
    pub categorical_cols: Option<Vec<String>>,
}

impl Default for FeatureHasherParams {
    fn default() -> Self {
        Self {
            input_cols: None,
            output_col: None,
            num_features: 1 << 18,
            categorical_cols: None,
        }
    }
}

impl FeatureHasherParams {
    fn cols(&self) -> Result<(&[String], &str)> {
        let stage = Self::STAGE;
        let i = self
            .input_cols
            .as_deref()
            .ok_or_else(|| Error::param(stage, "inputCols", "a list of column names", "unset"))?;
        if i.is_empty() {
            return Err(Error::param(stage, "inputCols", "a non-empty list", "[]"));
        }
        let o = self
            .output_col
            .as_deref()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| Error::param(stage, "outputCol", "a column name", "unset"))?;
        Ok((i, o))
    }
}

impl Params for FeatureHasherParams {
    const STAGE: &'static str = "FeatureHasher";
    fn validate(&self) -> Result<()> {
        check_num_features(Self::STAGE, self.num_features)?;
        self.cols().map(|_| ())
    }
}

/// Hashes several columns into one sparse feature vector, like Spark's
/// `org.apache.spark.ml.feature.FeatureHasher`.
///
/// A numeric column (not listed in `categoricalCols`) adds its value at the index of its
/// column name's hash; a string or boolean column, or a numeric one listed in
/// `categoricalCols`, adds 1.0 at the index of `"<column>=<value>"`'s hash, the value
/// spelled as Java spells it (`true`, `2.0`, `1.0E7`). Hashing is Spark's (MurmurHash3
/// x86_32, seed 42, non-negative modulo `numFeatures`), so indices equal Spark's; values
/// landing on the same index add up. Null values are skipped.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
/// use mlpipe::frame::vector::{At, VectorBlock};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::FeatureHasher;
/// let b = RecordBatch::try_from_iter([
///     ("real", Arc::new(Float64Array::from(vec![2.5])) as ArrayRef),
///     ("str", Arc::new(StringArray::from(vec!["foo"])) as ArrayRef),
/// ])?;
/// let df = DataFrame::from_batches(vec![b])?;
/// let fh = FeatureHasher::new().with_input_cols(["real", "str"]).with_output_col("f")
///     .with_num_features(1 << 10);
/// let out = fh.transform(&df)?;
/// let at = At { stage: "doc", column: "f", partition: 0 };
/// let col = out.column("f")?;
/// let row = VectorBlock::new(col.chunks[0].as_ref(), 1 << 10, at)?.row(0).unwrap();
/// // 2.5 at the index of "real", 1.0 at the index of "str=foo".
/// assert_eq!(row.num_active(), 2);
/// let mut values = Vec::new();
/// row.for_each_active(|_, v| values.push(v));
/// values.sort_by(f64::total_cmp);
/// assert_eq!(values, [1.0, 2.5]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FeatureHasher {
    uid: String,
    params: FeatureHasherParams,
}

super::columns::stage_basics!(FeatureHasher, FeatureHasherParams, "featureHasher", |uid| {
    FeatureHasherParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
});

impl FeatureHasher {
    /// The columns to hash.
    pub fn with_input_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.input_cols = Some(super::columns::names(cs));
        self
    }
    /// The output column; default `<uid>__output`.
    pub fn with_output_col(mut self, c: &str) -> Self {
        self.params.output_col = Some(c.into());
        self
    }
    /// The vector size; default 262144.
    pub fn with_num_features(mut self, n: i64) -> Self {
        self.params.num_features = n;
        self
    }
    /// Numeric columns to hash as categories.
    pub fn with_categorical_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
        self.params.categorical_cols = Some(super::columns::names(cs));
        self
    }
}

fn is_hashable(dt: &DataType) -> bool {
    dt.is_numeric()
        || matches!(
            dt,
            DataType::Boolean | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
        )
}

impl Stage for FeatureHasher {
    fn kind(&self) -> &'static str {
        "FeatureHasher"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = FeatureHasherParams::STAGE;
        self.params.validate()?;
        let (ics, o) = self.params.cols()?;
        for c in ics {
            let (_, f) = schema::require_column(input, stage, c)?;
            if !is_hashable(f.data_type()) {
                return Err(Error::ColumnType {
                    stage,
                    column: c.clone(),
                    expected: "a numeric, boolean or string column".into(),
                    found: f.data_type().clone(),
                });
            }
        }
        if let Some(cats) = &self.params.categorical_cols {
            for c in cats.iter().filter(|c| !ics.contains(c)) {
                tracing::warn!(stage, column = %c, "categoricalCols names a column that is not in inputCols; it is ignored (as in Spark)");
            }
        }
        let n = self.params.num_features as usize;
        schema::append_field(input, stage, sparse_vector_field(o, n, true))
    }
}

/// One input column of a partition, ready to hash.
enum Hashed {
    /// A numeric value at the index of the column name.
    Real { index: i32, values: ArrayRef },
    /// 1.0 at the index of `"<column>=<value>"`.
    Categorical {
        prefix: String,
        values: Vec<Option<String>>,
    },
}

/// Java's `toString` of each value of a numeric or boolean column (`None` for null).
fn java_strings(arr: &ArrayRef) -> Result<Vec<Option<String>>> {
    Ok(match arr.data_type() {
        DataType::Float64 => arr
            .as_primitive::<Float64Type>()
            .iter()
            .map(|v| v.map(java_double_string))
            .collect(),
        DataType::Float32 | DataType::Float16 => {
            let f = cast(arr, &DataType::Float32)?;
            f.as_primitive::<Float32Type>()
                .iter()
                // Java's Float.toString: the float's shortest digits in Double.toString's form.
                .map(|v| {
                    v.map(|x| java_double_string(format!("{x}").parse::<f64>().unwrap_or(x as f64)))
                })
                .collect()
        }
        _ => {
            let s = cast(arr, &DataType::Utf8)?;
            s.as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        }
    })
}

impl Transformer for FeatureHasher {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = FeatureHasherParams::STAGE;
        let out = self.transform_schema(df.schema())?;
        let (ics, o) = self.params.cols()?;
        let n = self.params.num_features as i32;
        let cats: &[String] = self.params.categorical_cols.as_deref().unwrap_or(&[]);
        let input = df.schema();
        let real: Vec<bool> = ics
            .iter()
            .map(|c| {
                let dt = input.field_with_name(c).map(|f| f.data_type().clone());
                dt.is_ok_and(|dt| dt.is_numeric()) && !cats.contains(c)
            })
            .collect();
        let chunks = df.map_partitions(|p, b| {
            let mut cols = Vec::with_capacity(ics.len());
            for (c, real) in ics.iter().zip(&real) {
                let arr = schema::batch_column(b, c)?;
                cols.push(if *real {
                    Hashed::Real {
                        index: non_negative_mod(hash_str(c), n),
                        values: cast(arr, &DataType::Float64)?,
                    }
                } else {
                    Hashed::Categorical {
                        prefix: format!("{c}="),
                        values: java_strings(arr)?,
                    }
                });
            }
            let mut out = SparseVectorBuilder::with_capacity(
                n as usize,
                b.num_rows(),
                b.num_rows() * ics.len(),
            )
            .context(stage, o, p);
            let mut entries: Vec<(i32, f64)> = Vec::with_capacity(ics.len());
            let mut key = String::new();
            let (mut idx, mut vals) = (Vec::new(), Vec::new());
            for r in 0..b.num_rows() {
                entries.clear();
                for col in &cols {
                    let (index, value) = match col {
                        Hashed::Real { index, values } => {
                            if values.is_null(r) {
                                continue;
                            }
                            (*index, values.as_primitive::<Float64Type>().value(r))
                        }
                        Hashed::Categorical { prefix, values } => {
                            let Some(v) = &values[r] else { continue };
                            key.clear();
                            key.push_str(prefix);
                            key.push_str(v);
                            (non_negative_mod(hash_str(&key), n), 1.0)
                        }
                    };
                    // Spark's map.changeValue(idx, value, _ + value), in column order.
                    match entries.iter_mut().find(|(i, _)| *i == index) {
                        Some(e) => e.1 += value,
                        None => entries.push((index, value)),
                    }
                }
                entries.sort_by_key(|(i, _)| *i);
                idx.clear();
                vals.clear();
                idx.extend(entries.iter().map(|(i, _)| *i));
                vals.extend(entries.iter().map(|(_, v)| *v));
                out.push(&idx, &vals)?;
            }
            out.finish()
        })?;
        df.with_column(out.field_with_name(o)?.clone(), chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for FeatureHasher {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

impl crate::persist::SparkPersist for FeatureHasher {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.FeatureHasher";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        crate::persist::format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        check_spark_3(dir, md, "FeatureHasher")?;
        Ok(Self::from_params(md.uid.clone(), md.params_as(dir)?))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for FeatureHasher {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let (ics, o) = self.params.cols()?;
        let n = self.params.num_features as i32;
        let cats: &[String] = self.params.categorical_cols.as_deref().unwrap_or(&[]);
        let mut cols = Vec::with_capacity(ics.len());
        for c in ics {
            let dt = plan.input_type(c).unwrap_or(DataType::Null);
            cols.push(if dt.is_numeric() && !cats.contains(c) {
                HashedIn::Real {
                    index: non_negative_mod(hash_str(c), n),
                    value: plan.num_input(c)?,
                }
            } else {
                HashedIn::Categorical {
                    prefix: format!("{c}="),
                    value: plan.str_input(c)?,
                    dt,
                }
            });
        }
        Ok(Some(Box::new(FeatureHasherRow {
            cols,
            out: plan.add_sparse(o, n as usize),
            n,
        })))
    }
}

/// One input column of the row form, ready to hash (as [`Hashed`] in batch).
#[derive(Debug)]
enum HashedIn {
    Real {
        index: i32,
        value: crate::row::NumIn,
    },
    Categorical {
        prefix: String,
        value: crate::row::StrIn,
        dt: DataType,
    },
}

#[derive(Debug)]
struct FeatureHasherRow {
    cols: Vec<HashedIn>,
    out: crate::row::SparseSlot,
    n: i32,
}

impl crate::row::RowOp for FeatureHasherRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        use std::fmt::Write;
        let mut out = row.take_sparse(self.out);
        let mut key = row.take_text();
        out.clear();
        for col in &self.cols {
            let (index, value) = match col {
                HashedIn::Real { index, value } => match row.num(*value) {
                    Some(v) => (*index, v),
                    None => continue,
                },
                HashedIn::Categorical { prefix, value, dt } => {
                    key.clear();
                    key.push_str(prefix);
                    match *value {
                        crate::row::StrIn::Str(f) => match row.str(f) {
                            Some(s) => key.push_str(s),
                            None => continue,
                        },
                        // A number's Java `toString`, as the batch form's cast.
                        crate::row::StrIn::Num(x) => match (row.num(x), dt) {
                            (None, _) => continue,
                            (Some(v), DataType::Float64) => key.push_str(&java_double_string(v)),
                            (Some(v), DataType::Float32 | DataType::Float16) => {
                                let x = v as f32;
                                let v = format!("{x}").parse::<f64>().unwrap_or(v);
                                key.push_str(&java_double_string(v));
                            }
                            (Some(v), DataType::Boolean) => {
                                key.push_str(if v != 0.0 { "true" } else { "false" })
                            }
                            (Some(v), _) => {
                                let _ = write!(key, "{}", v as i64);
                            }
                        },
                    }
                    (non_negative_mod(hash_str(&key), self.n), 1.0)
                }
            };
            // Spark's map.changeValue(idx, value, _ + value), in column order.
            match out.indices.iter().position(|i| *i == index) {
                Some(k) => out.values[k] += value,
                None => {
                    out.indices.push(index);
                    out.values.push(value);
                }
            }
        }
        // Sorted by index (few entries: an insertion sort of both buffers).
        for k in 1..out.indices.len() {
            let mut j = k;
            while j > 0 && out.indices[j - 1] > out.indices[j] {
                out.indices.swap(j - 1, j);
                out.values.swap(j - 1, j);
                j -= 1;
            }
        }
        row.put_text(key);
        row.put_sparse(self.out, out);
        Ok(crate::row::Flow::Next)
    }
}
