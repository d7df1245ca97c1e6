//! [`QuantileDiscretizer`]: bins numeric columns into buckets of about equal counts by
//! approximate quantiles, fitting a [`Bucketizer`].
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/QuantileDiscretizer.scala`
//! (the quantiles are `DataFrameStatFunctions.approxQuantile`, i.e.
//! `sql/core/.../execution/stat/StatFunctions.scala` over
//! `sql/catalyst/.../util/QuantileSummaries.scala`, which [`QuantileSummary`] reproduces).

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use serde::{Deserialize, Serialize};

use super::bucketizer::{Bucketizer, BucketizerParams};
use super::columns::{in_out_cols, InOutCols};
use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_in_range, HandleInvalid, Params};
use crate::pipeline::{stage_params, Estimator, Stage};
use crate::stat::QuantileSummary;
use rayon::prelude::*;

/// Params of [`QuantileDiscretizer`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct QuantileDiscretizerParams {
    /// Number of buckets (at least 2); in multi-column mode, for every column unless
    /// `numBucketsArray` is set. Default 2.
    pub num_buckets: i32,
    /// Multi-column mode: the number of buckets per input column (each at least 2).
    pub num_buckets_array: Option<Vec<i32>>,
    /// Single-column input.
    pub input_col: Option<String>,
    /// Multi-column inputs.
    pub input_cols: Option<Vec<String>>,
    /// Single-column output.
    pub output_col: Option<String>,
    /// Multi-column outputs.
    pub output_cols: Option<Vec<String>>,
    /// The quantiles' rank error, as a fraction of the row count, in `[0, 1]`. Default 0.001.
    pub relative_error: f64,
    /// NaN at transform: `error` (default), `skip` the row, or `keep` in an extra bucket
    /// (passed on to the fitted [`Bucketizer`]; NaN and null never count at fit).
    pub handle_invalid: HandleInvalid,
}

impl Default for QuantileDiscretizerParams {
    fn default() -> Self {
        Self {
            num_buckets: 2,
            num_buckets_array: None,
            input_col: None,
            input_cols: None,
            output_col: None,
            output_cols: None,
            relative_error: 0.001,
            handle_invalid: HandleInvalid::Error,
        }
    }
}

in_out_cols!(QuantileDiscretizerParams);

impl QuantileDiscretizerParams {
    /// The (input, output, number of buckets) triples, checking Spark's rules.
    fn plan(&self) -> Result<Vec<(String, String, usize)>> {
        let stage = Self::STAGE;
        let pairs = self.pairs(stage)?;
        check_in_range(stage, "relativeError", self.relative_error, 0.0, 1.0)?;
        let at_least_two = |param: &str, n: i32| {
            if n < 2 {
                Err(Error::param(stage, param, ">= 2", n))
            } else {
                Ok(n as usize)
            }
        };
        let counts: Vec<usize> = match (&self.num_buckets_array, self.input_col.is_some()) {
            (Some(_), true) => {
                return Err(Error::param(
                    stage,
                    "numBucketsArray",
                    "unset in single-column mode (use numBuckets)",
                    "set",
                ))
            }
            (Some(a), false) => {
                if a.len() != pairs.len() {
                    return Err(Error::param(
                        stage,
                        "numBucketsArray",
                        format!("{} counts, one per input column", pairs.len()),
                        a.len(),
                    ));
                }
                a.iter()
                    .map(|&n| at_least_two("numBucketsArray", n))
                    .collect::<Result<_>>()?
            }
            (None, _) => {
                let n = at_least_two("numBuckets", self.num_buckets)?;
                vec![n; pairs.len()]
            }
        };
        Ok(pairs
            .into_iter()
            .zip(counts)
            .map(|((i, o), n)| (i, o, n))
            .collect())
    }
}

impl Params for QuantileDiscretizerParams {
    const STAGE: &'static str = "QuantileDiscretizer";
    fn validate(&self) -> Result<()> {
        self.plan().map(|_| ())
    }
}

/// Bins numeric columns into buckets holding about equal numbers of rows (Spark's
/// `org.apache.spark.ml.feature.QuantileDiscretizer`).
///
/// `fit` computes, in one parallel pass, Spark's approximate quantiles `0, 1/k, ..., 1` of
/// each input column (nulls and NaN left out) to within `relativeError`, replaces the
/// outer two by -∞ and +∞, drops repeated split points (fewer buckets when values repeat;
/// -0.0 counts as 0.0), and returns a [`Bucketizer`] with these splits, the same uid,
/// columns and `handleInvalid`. With the partitions Spark had, the splits are Spark's.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::QuantileDiscretizer;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let qd = QuantileDiscretizer::new().with_input_col("tenure").with_output_col("t")
///     .with_num_buckets(4);
/// let bucketizer = qd.fit(&df)?;
/// let splits = bucketizer.params().splits.clone().unwrap();
/// assert_eq!((splits[0], splits[splits.len() - 1]), (f64::NEG_INFINITY, f64::INFINITY));
/// let out = bucketizer.transform(&df)?;
/// assert!(out.schema().field_with_name("t").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] (fewer than 2 buckets, `numBucketsArray` in single-column mode
/// or of the wrong length, `relativeError` outside `[0, 1]`), [`Error::ColumnNotFound`],
/// [`Error::ColumnType`] (a non-numeric input), [`Error::ColumnExists`], and
/// [`Error::EmptyInput`] when an input column holds no value that is neither null nor NaN.
#[derive(Clone, Debug)]
pub struct QuantileDiscretizer {
    uid: String,
    params: QuantileDiscretizerParams,
}

super::columns::stage_basics!(
    QuantileDiscretizer,
    QuantileDiscretizerParams,
    "quantileDiscretizer",
    |uid| QuantileDiscretizerParams {
        output_col: Some(format!("{uid}__output")),
        ..Default::default()
    }
);

impl QuantileDiscretizer {
    super::columns::multi_column_setters!();
    /// Number of buckets (at least 2); default 2.
    pub fn with_num_buckets(mut self, n: i32) -> Self {
        self.params.num_buckets = n;
        self
    }
    /// Multi-column mode: the number of buckets of each input column.
    pub fn with_num_buckets_array(mut self, n: &[i32]) -> Self {
        self.params.num_buckets_array = Some(n.to_vec());
        self
    }
    /// Rank error of the quantiles as a fraction of the row count; default 0.001.
    pub fn with_relative_error(mut self, e: f64) -> Self {
        self.params.relative_error = e;
        self
    }
    /// NaN policy of the fitted Bucketizer; default `error`.
    pub fn with_handle_invalid(mut self, h: HandleInvalid) -> Self {
        self.params.handle_invalid = h;
        self
    }
}

impl Stage for QuantileDiscretizer {
    fn kind(&self) -> &'static str {
        "QuantileDiscretizer"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = QuantileDiscretizerParams::STAGE;
        let mut out = input.clone();
        for (ic, oc, _) in self.params.plan()? {
            schema::require_numeric(input, stage, &ic)?;
            // Spark's NominalAttribute.defaultAttr (the fitted Bucketizer adds the labels).
            let mut field = Field::new(&oc, DataType::Float64, true);
            field.metadata_mut().insert(
                vector::ML_ATTR.to_string(),
                serde_json::json!({"type": "nominal"}).to_string(),
            );
            out = schema::append_field(&out, stage, field)?;
        }
        Ok(out)
    }
}

/// Spark's `getDistinctSplits`: outer splits to ±∞, -0.0 to 0.0, repeats dropped, sorted.
fn distinct_splits(mut s: Vec<f64>) -> Vec<f64> {
    let last = s.len() - 1;
    s[0] = f64::NEG_INFINITY;
    s[last] = f64::INFINITY;
    for x in &mut s {
        if *x == 0.0 {
            *x = 0.0;
        }
    }
    let mut out: Vec<f64> = Vec::with_capacity(s.len());
    for x in s {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out.sort_by(f64::total_cmp);
    out
}

impl Estimator for QuantileDiscretizer {
    type Model = Bucketizer;

    fn fit(&self, df: &DataFrame) -> Result<Bucketizer> {
        let stage = QuantileDiscretizerParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let plan = p.plan()?;
        // Spark asks every column for the union of all columns' probabilities.
        let probs_of = |k: usize| (0..=k).map(|i| i as f64 / k as f64).collect::<Vec<f64>>();
        let mut all_probs: Vec<f64> = plan.iter().flat_map(|(_, _, k)| probs_of(*k)).collect();
        all_probs.sort_by(f64::total_cmp);
        all_probs.dedup();
        // One pass: per partition, one summary per column, the columns in parallel.
        let parts = df.map_partitions(|_, b| {
            plan.par_iter()
                .map(|(ic, _, _)| {
                    let a = cast(schema::batch_column(b, ic)?, &DataType::Float64)?;
                    let a = a.as_primitive::<Float64Type>();
                    Ok(if a.null_count() == 0 {
                        QuantileSummary::from_slices([&a.values()[..]], p.relative_error)
                    } else {
                        let vals = a.iter().flatten().filter(|v| !v.is_nan());
                        QuantileSummary::from_values(vals, p.relative_error)
                    })
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Result<Vec<_>>>()
        })?;
        let mut per_col: Vec<Vec<QuantileSummary>> = vec![Vec::new(); plan.len()];
        for part in parts {
            for (j, s) in part.into_iter().enumerate() {
                per_col[j].push(s);
            }
        }
        // Each column's summaries merged in partition order, the columns in parallel.
        let merged: Vec<Option<Vec<f64>>> = per_col
            .into_par_iter()
            .map(|parts| QuantileSummary::merge_all(parts).query_many(&all_probs))
            .collect();
        let mut splits = Vec::with_capacity(plan.len());
        for ((ic, _, k), q) in plan.iter().zip(merged) {
            let q = q.ok_or_else(|| Error::EmptyInput {
                    stage,
                    hint: format!(
                        "column `{ic}` holds no value that is neither null nor NaN; quantiles need at least one"
                    ),
                })?;
            let mine = probs_of(*k);
            let s: Vec<f64> = all_probs
                .iter()
                .zip(q)
                .filter(|(pr, _)| mine.contains(pr))
                .map(|(_, v)| v)
                .collect();
            splits.push(distinct_splits(s));
        }
        let single = p.input_col.is_some();
        let params = BucketizerParams {
            splits: single.then(|| splits[0].clone()),
            splits_array: (!single).then_some(splits),
            input_col: p.input_col.clone(),
            input_cols: p.input_cols.clone(),
            output_col: p.output_col.clone(),
            output_cols: p.output_cols.clone(),
            handle_invalid: p.handle_invalid,
        };
        Ok(Bucketizer::from_params(self.uid.clone(), params))
    }
}

// ---- Spark persistence ----

impl crate::persist::SparkPersist for QuantileDiscretizer {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.QuantileDiscretizer";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        let mut params = self.params.to_json();
        // Spark refuses numBuckets and numBucketsArray both set: with an array, numBuckets
        // stays a default.
        if self.params.num_buckets_array.is_some() {
            if let Some(m) = params.as_object_mut() {
                m.remove("numBuckets");
            }
        }
        let defaults = QuantileDiscretizerParams::default().to_json();
        format::write_metadata(dir, Self::SPARK_CLASS, &self.uid, params, defaults, None)
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        Ok(Self::from_params(md.uid.clone(), md.params_as(dir)?))
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_splits;

    #[test]
    fn splits_are_made_distinct_as_spark_does() {
        let s = distinct_splits(vec![-3.0, -0.0, 0.0, 0.0, 2.0, 9.0]);
        assert_eq!(s, vec![f64::NEG_INFINITY, 0.0, 2.0, f64::INFINITY]);
        assert!(s[1].is_sign_positive());
    }
}
