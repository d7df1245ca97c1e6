//! What the stages that keep some elements of a vector column share (Spark's `Selector` /
//! `SelectorModel`, source `mllib/src/main/scala/org/apache/spark/ml/feature/Selector.scala`):
//! the output field with the selected features' attributes and the transform that keeps
//! sparse rows sparse (used by [`ChiSqSelector`](super::ChiSqSelector),
//! [`UnivariateFeatureSelector`](super::UnivariateFeatureSelector),
//! [`VarianceThresholdSelector`](super::VarianceThresholdSelector) and
//! [`VectorSlicer`](super::VectorSlicer)), the model's input check, the `selectedFeatures`
//! data of the saved model and the row form; and, for the p-value selectors, choosing
//! features from their p-values.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Field, Schema};
use serde_json::{json, Value};

use super::vector_stage::{map_rows, DenseFn, OutLayout};
use crate::error::{Error, Result};
use crate::frame::vector::{self, Row, VectorBlock};
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
    defaults: Defaults,
) -> Field {
    let k = predicted_size(mode, threshold, n);
    let first: Vec<usize> = (0..k).collect();
    output_field(input, n, &first, output_col, defaults)
}

/// What the output's attribute group holds when the input column carries no attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Defaults {
    /// Only the size (Spark's `VectorSlicer`: `new AttributeGroup(outputCol, k)`).
    SizeOnly,
    /// Default numeric attributes, which Spark writes as an empty `attrs` group
    /// (`SelectorModel`: VarianceThresholdSelector, UnivariateFeatureSelector).
    Numeric,
    /// Default nominal attributes (Spark's `ChiSqSelectorModel.prepOutputField`).
    Nominal,
}

/// The input's attributes by element, as `(kind, attribute JSON)`: `None` when the field
/// carries no attribute list (only its size, or nothing); an element the list leaves out
/// is `None` (Spark's `AttributeGroup.fromMetadata` makes it a default numeric attribute).
fn input_attrs(field: &Field, n: usize) -> Option<Vec<Option<(String, Value)>>> {
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

/// The dense output field of a stage that takes the elements `sel` (in that order) of a
/// vector column `input` of `n` elements, with Spark's attribute group
/// (`AttributeGroup.toStructField` of the selected attributes, as Spark's
/// `SelectorModel.prepOutputField` and `VectorSlicer.transform` build it): the selected
/// elements' attributes re-indexed, default numeric ones left out as Spark leaves them
/// out; without input attributes, `defaults`.
pub(crate) fn selected_field(
    input: &Field,
    n: usize,
    sel: &[usize],
    output_col: &str,
    defaults: Defaults,
) -> Field {
    let k = sel.len();
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
    let meta = match (input_attrs(input, n), defaults) {
        (Some(orig), _) => {
            for (pos, &j) in sel.iter().enumerate() {
                if let Some((kind, mut a)) = orig[j].clone() {
                    // Spark skips default numeric attributes (nothing but an index).
                    let default_numeric = kind == "numeric"
                        && a.as_object().is_some_and(|o| o.keys().all(|k| k == "idx"));
                    if !default_numeric {
                        a["idx"] = json!(pos);
                        push(&kind, a);
                    }
                }
            }
            json!({"attrs": groups, "num_attrs": k})
        }
        (None, Defaults::SizeOnly) => json!({"num_attrs": k}),
        (None, Defaults::Numeric) => json!({"attrs": {}, "num_attrs": k}),
        (None, Defaults::Nominal) => {
            for pos in 0..k {
                push("nominal", json!({"idx": pos}));
            }
            json!({"attrs": groups, "num_attrs": k})
        }
    };
    let mut f = vector::vector_field(output_col, k, true);
    f.metadata_mut()
        .insert(vector::ML_ATTR.to_string(), meta.to_string());
    f
}

/// [`selected_field`], sparse when the input column is (Spark's `SelectorModel` keeps
/// sparse rows sparse).
pub(crate) fn output_field(
    input: &Field,
    n: usize,
    sorted: &[usize],
    output_col: &str,
    defaults: Defaults,
) -> Field {
    let dense = selected_field(input, n, sorted, output_col, defaults);
    if vector::is_sparse_vector_type(input.data_type()) {
        vector::sparse_vector_field(output_col, sorted.len(), true)
            .with_metadata(dense.metadata().clone())
    } else {
        dense
    }
}

/// The model's check of its input: the features column is a vector column wide enough for
/// the selected indices. Returns the column's size and field.
pub(crate) fn check_input<'a>(
    stage: &'static str,
    input: &'a Schema,
    features_col: &str,
    sel: &[usize],
) -> Result<(usize, &'a Field)> {
    let (_, field, n) = schema::require_vector(input, stage, features_col)?;
    check_width(stage, features_col, n, sel)?;
    Ok((n, field))
}

/// Fails unless every index of `sel` is below `n`, naming the first one that is not.
fn check_width(stage: &'static str, features_col: &str, n: usize, sel: &[usize]) -> Result<()> {
    match sel.iter().find(|&&j| j >= n) {
        Some(&j) => Err(Error::param(
            stage,
            "selectedFeatures",
            format!(
                "feature indices below the {n} features of column `{features_col}` (the model was fitted on wider vectors)"
            ),
            format!("{sel:?} (index {j})"),
        )),
        None => Ok(()),
    }
}

/// Spark's `SelectorModel.transform` (and `VectorSlicer`'s): the elements `sel` of every
/// row of `features_col` into the new column `field`. A dense `field` gets the selected
/// values in `sel`'s order (sparse input rows are densified); a sparse one keeps each
/// row's stored entries at the selected indices (`compressSparse`), re-indexed to their
/// positions in `sel`, which must then be ascending.
pub(crate) fn transform(
    stage: &'static str,
    df: &DataFrame,
    features_col: &str,
    n: usize,
    sel: &[usize],
    field: Field,
) -> Result<DataFrame> {
    let k = sel.len();
    let c = df.column(features_col)?;
    let at = |partition| vector::At {
        stage,
        column: features_col,
        partition,
    };
    let dense_field = !matches!(field.data_type(), DataType::Struct(_));
    if dense_field {
        debug_assert_eq!(vector::field_vector_size(&field), Some(k));
        // Every partition dense (a dense-typed column): gathered below, straight into
        // the output; otherwise each row through the vector stages' row map.
        let all_dense = n > 0
            && k > 0
            && c.chunks.iter().enumerate().all(|(p, a)| {
                VectorBlock::new(a.as_ref(), n, at(p)).is_ok_and(|b| b.as_dense().is_some())
            });
        if !all_dense {
            let select = DenseFn(|x: &[f64], out: &mut [f64]| {
                for (o, &j) in out.iter_mut().zip(sel) {
                    *o = x[j];
                }
            });
            return map_rows(stage, df, features_col, n, field, OutLayout::Dense, &select);
        }
    }
    debug_assert!(
        sel.windows(2).all(|w| w[0] < w[1]),
        "sparse selection must ascend"
    );
    // Position of each input index in the selection, or -1.
    let mut pos = vec![-1i32; n];
    for (p, &j) in sel.iter().enumerate() {
        pos[j] = p as i32;
    }
    let chunks = df.map_partitions(|p, _| {
        let a = &c.chunks[p];
        let block = VectorBlock::new(a.as_ref(), n, at(p))?;
        if let (Some(x), true) = (block.as_dense(), n > 0 && k > 0) {
            // Every row dense: its selected values gathered straight into the output's
            // one values buffer, row blocks in parallel; every row stays dense.
            // SAFETY: every value of each block is written.
            let vals = unsafe {
                crate::frame::buffer::par_build_buffer(block.len(), k, |first, dst| {
                    let x = &x[first * n..];
                    for (o, row) in dst.chunks_exact_mut(k).zip(x.chunks_exact(n)) {
                        for (o, &j) in o.iter_mut().zip(sel) {
                            o.write(row[j]);
                        }
                    }
                })
            };
            return if dense_field {
                Ok(Arc::new(vector::vector_array_buf(vals, k, a.nulls().cloned())?) as ArrayRef)
            } else {
                vector::dense_rows_array_buf(vals, k, a.nulls().cloned())
            };
        }
        let at = vector::At {
            stage,
            column: field.name(),
            partition: p,
        };
        // Mixed rows: each keeps its layout, placed from the input's structure (a dense
        // row's k values; a sparse row's stored entries at selected indices, counted
        // from its indices alone), then written once straight into the column.
        let kept = |indices: &[i32]| indices.iter().filter(|i| pos[**i as usize] >= 0).count();
        let place =
            |_: &mut (), first: usize, kinds: &mut [i8], counts: &mut [i32], _: &mut [u8]| {
                for (j, (kind, c)) in kinds.iter_mut().zip(counts.iter_mut()).enumerate() {
                    match block.row(first + j) {
                        Some(Row::Dense(_)) => *kind = vector::PLANNED_DENSE,
                        Some(Row::Sparse { indices, .. }) => *c = kept(indices) as i32,
                        None => {}
                    }
                }
                Ok(())
            };
        let write = |_: &mut (), first: usize, _: &[u8], out: &mut vector::PlannedBlock<'_>| {
            for r in first..first + out.len() {
                match (out.next(), block.row(r)) {
                    (vector::PlannedRow::Dense(o), Some(Row::Dense(x))) => {
                        for (o, &j) in o.iter_mut().zip(sel) {
                            o.write(x[j]);
                        }
                    }
                    (
                        vector::PlannedRow::Sparse(oi, ov),
                        Some(Row::Sparse {
                            indices, values, ..
                        }),
                    ) => {
                        let kept = indices
                            .iter()
                            .zip(values)
                            .filter(|(&i, _)| pos[i as usize] >= 0)
                            .map(|(&i, &v)| (pos[i as usize], v));
                        for ((oi, ov), (q, v)) in oi.iter_mut().zip(ov.iter_mut()).zip(kept) {
                            oi.write(q);
                            ov.write(v);
                        }
                    }
                    (vector::PlannedRow::Null, None) => {}
                    _ => {
                        return Err(crate::error::Error::Internal(format!(
                            "{stage}: row {r} of `{features_col}` changed layout between passes"
                        )))
                    }
                }
            }
            Ok(())
        };
        // SAFETY: `write` writes every value of every row: a dense row's k selected
        // values, a sparse row's kept entries (as many as `place` counted, their
        // positions increasing below k because `sel` ascends).
        unsafe {
            vector::par_planned_chunk(block.len(), k, a.nulls(), false, at, || (), place, write)
        }
    })?;
    df.with_column(field, chunks)
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
    check_width(stage, features_col, input.len(), sorted)?;
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

/// A selector model's `Stage` (output field from [`check_input`] and [`output_field`]),
/// `Transformer` ([`transform`]), `Model` and row form ([`compile_row`]), for a model type
/// with `params.features_col`, `params.output_col` and the ascending selected indices in
/// the field `$sorted`; `$defaults` is its [`Defaults`] (Spark's `SelectorModel`, shared
/// the same way).
macro_rules! selector_model {
    ($ty:ident, $sorted:ident, $defaults:expr) => {
        impl $crate::pipeline::Stage for $ty {
            fn kind(&self) -> &'static str {
                stringify!($ty)
            }
            $crate::pipeline::stage_params!();
            fn transform_schema(
                &self,
                input: &arrow::datatypes::Schema,
            ) -> $crate::Result<arrow::datatypes::Schema> {
                let stage = stringify!($ty);
                let p = &self.params;
                let (n, field) =
                    super::selector::check_input(stage, input, &p.features_col, &self.$sorted)?;
                let f = super::selector::output_field(
                    field,
                    n,
                    &self.$sorted,
                    &p.output_col,
                    $defaults,
                );
                $crate::frame::schema::append_field(input, stage, f)
            }
        }

        impl $crate::pipeline::Transformer for $ty {
            fn transform(
                &self,
                df: &$crate::frame::DataFrame,
            ) -> $crate::Result<$crate::frame::DataFrame> {
                use $crate::pipeline::Stage;
                let stage = stringify!($ty);
                let out = self.transform_schema(df.schema())?;
                let p = &self.params;
                let field = out.field_with_name(&p.output_col)?.clone();
                let (n, _) = super::selector::check_input(
                    stage,
                    df.schema(),
                    &p.features_col,
                    &self.$sorted,
                )?;
                super::selector::transform(stage, df, &p.features_col, n, &self.$sorted, field)
            }
            fn clone_box(&self) -> Box<dyn $crate::pipeline::Transformer> {
                Box::new(self.clone())
            }
        }

        impl $crate::pipeline::Model for $ty {
            fn clone_model(&self) -> Box<dyn $crate::pipeline::Model> {
                Box::new(self.clone())
            }
        }

        impl $crate::row::RowStage for $ty {
            fn compile_row(
                &self,
                plan: &mut $crate::row::PlanBuilder,
            ) -> $crate::Result<Option<Box<dyn $crate::row::RowOp>>> {
                super::selector::compile_row(
                    plan,
                    stringify!($ty),
                    &self.params.features_col,
                    &self.params.output_col,
                    &self.$sorted,
                )
            }
        }
    };
}
pub(crate) use selector_model;

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

    /// Hand-derived from Spark's `AttributeGroup` (`fromMetadata` fills unlisted elements
    /// with default numeric attributes, `toMetadataImpl` leaves those out): element 0 is
    /// unnamed, 1 named, 2 nominal, 3 listed with its index only (a default).
    #[test]
    fn selected_field_carries_attributes_as_spark() {
        let mut f = vector::vector_field("v", 4, true);
        f.metadata_mut().insert(
            vector::ML_ATTR.to_string(),
            json!({"attrs": {
                "numeric": [{"idx": 1, "name": "b"}, {"idx": 3}],
                "nominal": [{"idx": 2, "name": "c", "vals": ["x", "y"]}]
            }, "num_attrs": 4})
            .to_string(),
        );
        let meta =
            |f: &Field| -> Value { serde_json::from_str(&f.metadata()[vector::ML_ATTR]).unwrap() };
        let out = selected_field(&f, 4, &[0, 2, 3, 1], "o", Defaults::Nominal);
        assert_eq!(
            meta(&out),
            json!({"attrs": {
                "nominal": [{"idx": 1, "name": "c", "vals": ["x", "y"]}],
                "numeric": [{"idx": 3, "name": "b"}]
            }, "num_attrs": 4})
        );
        // Without input attributes: Spark's defaults per stage.
        let plain = vector::vector_field("v", 4, true);
        for (d, want) in [
            (Defaults::SizeOnly, json!({"num_attrs": 2})),
            (Defaults::Numeric, json!({"attrs": {}, "num_attrs": 2})),
            (
                Defaults::Nominal,
                json!({"attrs": {"nominal": [{"idx": 0}, {"idx": 1}]}, "num_attrs": 2}),
            ),
        ] {
            assert_eq!(
                meta(&selected_field(&plain, 4, &[1, 3], "o", d)),
                want,
                "{d:?}"
            );
        }
        // Sparse in, sparse out (the selectors); VectorSlicer's dense field stays dense.
        let sp = vector::sparse_vector_field("v", 4, true);
        assert!(vector::is_sparse_vector_type(
            output_field(&sp, 4, &[1, 3], "o", Defaults::Numeric).data_type()
        ));
    }

    /// Spark's `compressSparse` by hand: rows `(0:1, 2:2, 5:3, 7:4)` and `[5, 6, 7]` dense
    /// over 8 features, selecting `[2, 3, 7]`.
    #[test]
    fn transform_keeps_sparse_rows_sparse_and_checks_the_width() {
        let mut b = vector::SparseVectorBuilder::new(8);
        b.push(&[0, 2, 5, 7], &[1.0, 2.0, 3.0, 4.0]).unwrap();
        b.push_null();
        b.push(&[3], &[9.0]).unwrap();
        let col = b.finish().unwrap();
        let batch = arrow::array::RecordBatch::try_new(
            Arc::new(Schema::new(vec![vector::sparse_vector_field("v", 8, true)])),
            vec![col],
        )
        .unwrap();
        let df = DataFrame::from_batches(vec![batch]).unwrap();
        let sel = [2, 3, 7];
        let (n, field) = check_input("T", df.schema(), "v", &sel).unwrap();
        let out_field = output_field(field, n, &sel, "o", Defaults::Numeric);
        let out = transform("T", &df, "v", n, &sel, out_field).unwrap();
        let c = out.column("o").unwrap();
        let at = vector::At {
            stage: "test",
            column: "o",
            partition: 0,
        };
        let block = VectorBlock::new(c.chunks[0].as_ref(), 3, at).unwrap();
        let rows: Vec<Option<(Vec<i32>, Vec<f64>)>> = (0..3)
            .map(|r| match block.row(r) {
                Some(Row::Sparse {
                    indices, values, ..
                }) => Some((indices.to_vec(), values.to_vec())),
                Some(Row::Dense(_)) => panic!("row {r} is dense"),
                None => None,
            })
            .collect();
        assert_eq!(
            rows,
            vec![
                Some((vec![0, 2], vec![2.0, 4.0])),
                None,
                Some((vec![1], vec![9.0]))
            ]
        );
        let err = check_input("T", df.schema(), "v", &[2, 8]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "T: parameter `selectedFeatures` must be feature indices below the 8 features of column `v` (the model was fitted on wider vectors), got [2, 8] (index 8)"
        );
    }
}
