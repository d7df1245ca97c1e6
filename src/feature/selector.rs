//! What [`ChiSqSelector`](super::ChiSqSelector) and
//! [`UnivariateFeatureSelector`](super::UnivariateFeatureSelector) share (Spark's
//! `Selector` / `SelectorModel`, source
//! `mllib/src/main/scala/org/apache/spark/ml/feature/Selector.scala`): choosing features
//! from their p-values, the output field with the selected features' attributes, the
//! transform that keeps sparse rows sparse, the `selectedFeatures` data of the saved
//! model, and the row form.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::frame::vector::{self, Row, SparseVectorBuilder, VectorBlock};
use crate::frame::{schema, DataFrame};
use crate::stat::FeatureTest;

/// Spark's selection modes (`selectorType` / `selectionMode`).
pub(crate) const MODES: [&str; 5] = ["numTopFeatures", "percentile", "fpr", "fdr", "fwe"];

/// Fails unless `mode` is one of [`MODES`].
pub(crate) fn check_mode(stage: &'static str, param: &str, mode: &str) -> Result<()> {
    if MODES.contains(&mode) {
        Ok(())
    } else {
        Err(Error::param(
            stage,
            param,
            format!("one of {MODES:?}"),
            format!("{mode:?}"),
        ))
    }
}

/// Spark's ascending p-value order, ties by feature index (`sort("pValue",
/// "featureIndex")`; NaN sorts last, as Spark SQL sorts it).
fn by_p_value(tests: &[FeatureTest]) -> Vec<&FeatureTest> {
    let mut v: Vec<&FeatureTest> = tests.iter().collect();
    v.sort_by(|a, b| {
        let key = |t: &FeatureTest| (t.p_value.is_nan(), t.p_value);
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.partial_cmp(&kb.1).unwrap_or(std::cmp::Ordering::Equal))
            .then(a.feature_index.cmp(&b.feature_index))
    });
    v
}

/// Spark's `selectIndicesFromPValues`: the features `mode` keeps at `threshold`, in
/// Spark's order (ascending p-value for numTopFeatures, percentile and fdr; feature order
/// for fpr and fwe).
pub(crate) fn select(
    tests: &[FeatureTest],
    num_features: usize,
    mode: &str,
    threshold: f64,
) -> Vec<usize> {
    let top = |k: usize| -> Vec<usize> {
        by_p_value(tests)
            .into_iter()
            .take(k)
            .map(|t| t.feature_index)
            .collect()
    };
    let nf = num_features as f64;
    match mode {
        "numTopFeatures" => top(threshold.max(0.0) as usize),
        "percentile" => top((nf * threshold).max(0.0) as usize),
        "fpr" => tests
            .iter()
            .filter(|t| t.p_value < threshold)
            .map(|t| t.feature_index)
            .collect(),
        "fdr" => {
            // Benjamini–Hochberg.
            let f = threshold / nf;
            let max = by_p_value(tests)
                .iter()
                .enumerate()
                .filter(|(i, t)| t.p_value <= f * (*i as f64 + 1.0))
                .map(|(i, _)| i)
                .max();
            max.map_or_else(Vec::new, |m| top(m + 1))
        }
        _ => tests
            .iter()
            .filter(|t| t.p_value < threshold / nf)
            .map(|t| t.feature_index)
            .collect(),
    }
}

/// The output size the estimator's schema announces before fitting: exact for
/// `numTopFeatures` (`min(k, n)`) and `percentile` (`⌊n · p⌋`); for the p-value thresholds
/// the size is the fit's to decide, and the schema announces the input's `n` (the model's
/// schema is exact).
pub(crate) fn predicted_size(mode: &str, threshold: f64, n: usize) -> usize {
    match mode {
        "numTopFeatures" => (threshold.max(0.0) as usize).min(n),
        "percentile" => ((n as f64 * threshold).max(0.0) as usize).min(n),
        _ => n,
    }
}

/// The estimator's output field (see [`predicted_size`]): the first features' attributes.
pub(crate) fn estimator_field(
    input: &Field,
    n: usize,
    mode: &str,
    threshold: f64,
    output_col: &str,
    nominal_default: bool,
) -> Field {
    let k = predicted_size(mode, threshold, n);
    let first: Vec<usize> = (0..k).collect();
    output_field(input, n, &first, output_col, nominal_default)
}

/// The input's attributes by element, as `(kind, attribute JSON)`: `None` when the field
/// carries no attributes (only its size, or nothing).
pub(crate) fn input_attrs(field: &Field, n: usize) -> Option<Vec<Option<(String, Value)>>> {
    let v: Value = field
        .metadata()
        .get(vector::ML_ATTR)
        .and_then(|s| serde_json::from_str(s).ok())?;
    let groups = v.get("attrs").and_then(Value::as_object)?;
    let mut orig = vec![None; n];
    for (kind, attrs) in groups {
        for a in attrs.as_array().into_iter().flatten() {
            if let Some(i) = a.get("idx").and_then(Value::as_u64) {
                if (i as usize) < n {
                    orig[i as usize] = Some((kind.clone(), a.clone()));
                }
            }
        }
    }
    Some(orig)
}

/// Spark's `SelectorModel.prepOutputField`: the selected features' attributes re-indexed
/// (Spark leaves default numeric attributes out), or, without input attributes, default
/// ones: nominal for ChiSqSelector (`nominal_default`), numeric (written as nothing) for
/// UnivariateFeatureSelector. The column is sparse when the input is.
pub(crate) fn output_field(
    input: &Field,
    n: usize,
    sorted: &[usize],
    output_col: &str,
    nominal_default: bool,
) -> Field {
    let k = sorted.len();
    let mut groups = serde_json::Map::new();
    let mut push = |kind: &str, a: Value| {
        if let Some(v) = groups
            .entry(kind.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            v.push(a);
        }
    };
    match input_attrs(input, n) {
        Some(orig) => {
            for (pos, &j) in sorted.iter().enumerate() {
                if let Some((kind, mut a)) = orig[j].clone() {
                    a["idx"] = json!(pos);
                    push(&kind, a);
                }
            }
        }
        None if nominal_default => {
            for pos in 0..k {
                push("nominal", json!({"idx": pos}));
            }
        }
        None => {}
    }
    let mut f = if vector::is_sparse_vector_type(input.data_type()) {
        vector::sparse_vector_field(output_col, k, true)
    } else {
        vector::vector_field(output_col, k, true)
    };
    f.metadata_mut().insert(
        vector::ML_ATTR.to_string(),
        json!({"attrs": groups, "num_attrs": k}).to_string(),
    );
    f
}

/// Checks the features column and the model's indices against it; returns its size.
pub(crate) fn check_input(
    stage: &'static str,
    input: &Schema,
    features_col: &str,
    sorted: &[usize],
) -> Result<usize> {
    let (_, _, n) = schema::require_vector(input, stage, features_col)?;
    if let Some(&j) = sorted.iter().find(|&&j| j >= n) {
        return Err(Error::param(
            stage,
            "selectedFeatures",
            format!(
                "feature indices below the {n} features of column `{features_col}` (the model was fitted on wider vectors)"
            ),
            format!("{sorted:?} (index {j})"),
        ));
    }
    Ok(n)
}

/// Spark's `SelectorModel.transform`: dense rows keep the selected values, sparse rows
/// their stored selected entries (`compressSparse`), re-indexed; `sorted` ascending.
pub(crate) fn transform(
    stage: &'static str,
    df: &DataFrame,
    features_col: &str,
    n: usize,
    sorted: &[usize],
    field: Field,
) -> Result<DataFrame> {
    let k = sorted.len();
    let sparse_out = matches!(field.data_type(), DataType::Struct(_));
    let c = df.column(features_col)?;
    let chunks = df.map_partitions(|p, _| {
        let a = &c.chunks[p];
        let at = vector::At {
            stage,
            column: features_col,
            partition: p,
        };
        let block = VectorBlock::new(a.as_ref(), n, at)?;
        if !sparse_out {
            let mut out = vec![0.0; block.len() * k];
            let mut dense = vec![0.0; n];
            for (r, o) in out.chunks_exact_mut(k.max(1)).enumerate().take(block.len()) {
                if let Some(x) = block.row(r) {
                    let x = match x.as_dense() {
                        Some(d) => d,
                        None => {
                            x.write_dense(&mut dense);
                            &dense
                        }
                    };
                    for (v, &j) in o.iter_mut().zip(sorted) {
                        *v = x[j];
                    }
                }
            }
            return Ok(Arc::new(vector::vector_array(out, k, a.nulls().cloned())?) as ArrayRef);
        }
        let mut b = SparseVectorBuilder::new(k).context(stage, field.name(), p);
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for r in 0..block.len() {
            match block.row(r) {
                None => b.push_null(),
                Some(Row::Dense(x)) => {
                    val.clear();
                    val.extend(sorted.iter().map(|&j| x[j]));
                    b.push_dense(&val)?;
                }
                Some(Row::Sparse {
                    indices, values, ..
                }) => {
                    compress_sparse(indices, values, sorted, &mut idx, &mut val);
                    b.push(&idx, &val)?;
                }
            }
        }
        b.finish()
    })?;
    df.with_column(field, chunks)
}

/// Spark's `SelectorModel.compressSparse`: the stored entries at selected indices, with
/// their positions among the selected.
fn compress_sparse(
    indices: &[i32],
    values: &[f64],
    sorted: &[usize],
    idx: &mut Vec<i32>,
    val: &mut Vec<f64>,
) {
    idx.clear();
    val.clear();
    let (mut i, mut j) = (0, 0);
    while i < indices.len() && j < sorted.len() {
        let a = indices[i] as usize;
        let s = sorted[j];
        if a == s {
            idx.push(j as i32);
            val.push(values[i]);
            i += 1;
            j += 1;
        } else if a > s {
            j += 1;
        } else {
            i += 1;
        }
    }
}

/// Writes Spark's model data: one row with `selectedFeatures: array<int>`.
pub(crate) fn write_selected(dir: &std::path::Path, selected: &[usize]) -> Result<()> {
    use crate::persist::format;
    let v: Vec<i32> = selected.iter().map(|&j| j as i32).collect();
    let arr: ArrayRef = Arc::new(arrow::array::ListArray::new(
        Arc::new(Field::new("element", DataType::Int32, false)),
        arrow::buffer::OffsetBuffer::from_lengths([v.len()]),
        Arc::new(arrow::array::Int32Array::from(v)),
        None,
    ));
    let batch = format::one_row(vec![(
        Field::new("selectedFeatures", arr.data_type().clone(), true),
        arr,
    )])?;
    format::write_data(
        dir,
        &batch,
        format::spark_schema(&[(
            "selectedFeatures",
            json!({"type": "array", "elementType": "integer", "containsNull": false}),
            true,
        )]),
    )
}

/// Reads Spark's model data `selectedFeatures`.
pub(crate) fn read_selected(dir: &std::path::Path) -> Result<Vec<usize>> {
    use crate::persist::format;
    let d = format::read_data(dir)?;
    let a = format::column(&d, "selectedFeatures", dir)?;
    let bad = |what: &str| Error::file(dir.join("data"), format!("selectedFeatures {what}"));
    let l = a.as_list_opt::<i32>().ok_or_else(|| bad("is not a list"))?;
    if l.is_empty() || l.is_null(0) {
        return Err(bad("is missing"));
    }
    let v = l.value(0);
    let ints = v
        .as_primitive_opt::<arrow::datatypes::Int32Type>()
        .ok_or_else(|| bad("are not ints"))?;
    ints.values()
        .iter()
        .map(|&j| usize::try_from(j).map_err(|_| bad(&format!("hold a negative index {j}"))))
        .collect()
}

/// The row form: the selected values of one dense row.
pub(crate) fn compile_row(
    plan: &mut crate::row::PlanBuilder,
    stage: &'static str,
    features_col: &str,
    output_col: &str,
    sorted: &[usize],
) -> Result<Option<Box<dyn crate::row::RowOp>>> {
    let input = plan.vec_input(features_col)?;
    let n = input.len();
    if let Some(&j) = sorted.iter().find(|&&j| j >= n) {
        return Err(Error::param(
            stage,
            "selectedFeatures",
            format!("feature indices below the {n} features of `{features_col}`"),
            format!("{sorted:?} (index {j})"),
        ));
    }
    let out = plan.add_vec(output_col, sorted.len());
    let sel = sorted.to_vec();
    Ok(Some(Box::new(super::vector_stage::MapRow {
        stage,
        input,
        out,
        f: Box::new(move |x: &[f64], o: &mut [f64]| {
            for (v, &j) in o.iter_mut().zip(&sel) {
                *v = x[j];
            }
        }),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(j: usize, p: f64) -> FeatureTest {
        FeatureTest {
            feature_index: j,
            p_value: p,
            degrees_of_freedom: 1,
            statistic: 0.0,
        }
    }

    /// Hand-derived: p-values [0.04, 0.001, 0.5, 0.001, NaN, 0.02] over 6 features.
    #[test]
    fn modes_follow_spark() {
        let tests = vec![
            t(0, 0.04),
            t(1, 0.001),
            t(2, 0.5),
            t(3, 0.001),
            t(4, f64::NAN),
            t(5, 0.02),
        ];
        // ties by index, NaN last
        assert_eq!(select(&tests, 6, "numTopFeatures", 3.0), vec![1, 3, 5]);
        assert_eq!(
            select(&tests, 6, "numTopFeatures", 50.0),
            vec![1, 3, 5, 0, 2, 4]
        );
        // (6 · 0.5) as int = 3
        assert_eq!(select(&tests, 6, "percentile", 0.5), vec![1, 3, 5]);
        assert_eq!(select(&tests, 6, "fpr", 0.03), vec![1, 3, 5]);
        // fwe: p < 0.05 / 6 = 0.00833
        assert_eq!(select(&tests, 6, "fwe", 0.05), vec![1, 3]);
        // fdr at 0.15: f = 0.025; sorted p 0.001 <= .025, 0.001 <= .05, 0.02 <= .075,
        // 0.04 <= .1, 0.5 > .125 -> the top 4
        assert_eq!(select(&tests, 6, "fdr", 0.15), vec![1, 3, 5, 0]);
        assert!(select(&tests, 6, "fdr", 0.001).is_empty());
    }

    #[test]
    fn compress_sparse_keeps_selected_entries() {
        let (mut i, mut v) = (Vec::new(), Vec::new());
        compress_sparse(
            &[0, 2, 5, 7],
            &[1.0, 2.0, 3.0, 4.0],
            &[2, 3, 7],
            &mut i,
            &mut v,
        );
        assert_eq!((i, v), (vec![0, 2], vec![2.0, 4.0]));
    }
}
