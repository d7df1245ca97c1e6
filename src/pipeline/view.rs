//! Fitting on rows that are not materialised: a [`FitView`] is a frame, optionally only
//! some rows of each partition (a cross-validation fold's training rows), optionally with
//! a fitted `StandardScalerModel`'s output column still to be made. A stage that can read
//! a view ([`fit_on_view`]: `StandardScaler`, `LogisticRegression`) reads the selected
//! rows in place and computes the scaled values a block at a time, so that neither a
//! fold's copy of the data nor the scaled column exists in memory; any other stage gets
//! the view materialised ([`FitView::materialise`]) and fits as usual. Either way the
//! fit sees the same values in the same blocks, so the fitted model is the same, bit for
//! bit.

use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{AsArray, Float64Array, UInt32Array};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, SchemaRef};

use super::{DynEstimator, Model, Pipeline, Stage, Transformer};
use crate::classification::LogisticRegression;
use crate::error::Result;
use crate::feature::{StandardScaler, StandardScalerModel};
use crate::frame::kernels::multiversion;
use crate::frame::vector::{AffineMap, At, VectorBlock};
use crate::frame::DataFrame;

/// Rows a fit reads: see the [module documentation](self).
#[derive(Clone, Debug)]
pub(crate) struct FitView<'a> {
    base: Cow<'a, DataFrame>,
    /// The selected rows of each partition of `base`, ascending; `None`: all rows.
    rows: Option<&'a [Vec<u32>]>,
    /// A model whose output column is not made yet, with its map.
    pending: Option<(StandardScalerModel, AffineMap)>,
}

impl<'a> FitView<'a> {
    /// All of `df`.
    pub(crate) fn new(df: &'a DataFrame) -> Self {
        Self {
            base: Cow::Borrowed(df),
            rows: None,
            pending: None,
        }
    }

    /// The rows `rows[p]` of each partition `p` of `df` (ascending indices).
    pub(crate) fn with_rows(df: &'a DataFrame, rows: &'a [Vec<u32>]) -> Self {
        Self {
            base: Cow::Borrowed(df),
            rows: Some(rows),
            pending: None,
        }
    }

    fn owned(df: DataFrame) -> Self {
        Self {
            base: Cow::Owned(df),
            rows: None,
            pending: None,
        }
    }

    /// Whether the view is a plain frame (all rows, nothing pending).
    pub(crate) fn is_plain(&self) -> bool {
        self.rows.is_none() && self.pending.is_none()
    }

    /// The frame the view reads (before row selection and the pending column).
    pub(crate) fn base(&self) -> &DataFrame {
        &self.base
    }

    /// The columns of the view: the base's, plus the pending column.
    pub(crate) fn schema(&self) -> Result<SchemaRef> {
        match &self.pending {
            None => Ok(self.base.schema().clone()),
            Some((m, _)) => Ok(Arc::new(m.transform_schema(self.base.schema())?)),
        }
    }

    /// The selected rows of partition `p` (`None`: all of them).
    pub(crate) fn selected(&self, p: usize) -> Option<&'a [u32]> {
        self.rows.map(|r| r[p].as_slice())
    }

    /// Rows in the view.
    pub(crate) fn num_rows(&self) -> usize {
        match self.rows {
            Some(r) => r.iter().map(Vec::len).sum(),
            None => self.base.num_rows(),
        }
    }

    /// Defers `model`'s transform when it is a `StandardScalerModel` and no transform is
    /// pending yet (its output is then computed by the readers); returns whether it did.
    pub(crate) fn defer(&mut self, model: &dyn Transformer) -> bool {
        if self.pending.is_some() {
            return false;
        }
        match (model as &dyn Any).downcast_ref::<StandardScalerModel>() {
            Some(m) => {
                self.pending = Some((m.clone(), m.map()));
                true
            }
            None => false,
        }
    }

    /// The view as a frame (see [`materialise_without`](Self::materialise_without)).
    pub(crate) fn materialise(&self) -> Result<DataFrame> {
        self.materialise_without(&[])
    }

    /// The view as a frame without the `unused` columns, made one partition at a time (in
    /// parallel), in partition order; a partition with no selected row is left out. The
    /// pending column is computed straight from the selected rows of its input (the
    /// input is copied only if it is kept): one pass, one copy. A plain view is its frame
    /// (no copy).
    pub(crate) fn materialise_without(&self, unused: &[String]) -> Result<DataFrame> {
        use rayon::prelude::*;
        if self.is_plain() {
            return self.base.drop(unused);
        }
        let full = self.schema()?;
        let keep: Vec<usize> = (0..full.fields().len())
            .filter(|&i| !unused.contains(full.field(i).name()))
            .collect();
        let schema = Arc::new(full.project(&keep)?);
        let parts: Vec<Result<Option<arrow::array::RecordBatch>>> = self
            .base
            .partitions()
            .par_iter()
            .enumerate()
            .map(|(p, batch)| {
                if self.selected(p).is_some_and(<[u32]>::is_empty) {
                    return Ok(None);
                }
                self.partition(p, batch, &schema).map(Some)
            })
            .collect();
        let batches = crate::frame::in_order(parts)?
            .into_iter()
            .flatten()
            .collect();
        DataFrame::try_new(schema, batches)
    }

    /// Partition `p` of the view with the columns of `schema` (a projection of the
    /// view's schema).
    fn partition(
        &self,
        p: usize,
        batch: &arrow::array::RecordBatch,
        schema: &SchemaRef,
    ) -> Result<arrow::array::RecordBatch> {
        let idx = self.selected(p).map(|r| UInt32Array::from(r.to_vec()));
        let pick = |a: &arrow::array::ArrayRef| -> Result<arrow::array::ArrayRef> {
            Ok(match &idx {
                Some(i) => arrow::compute::take(a.as_ref(), i, None)?,
                None => a.clone(),
            })
        };
        let mut cols = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let pending = self
                .pending
                .as_ref()
                .filter(|(m, _)| &m.params().output_col == field.name());
            match pending {
                None => cols.push(pick(
                    batch.column(self.base.schema().index_of(field.name())?),
                )?),
                Some((m, map)) => cols.push(self.pending_column(p, batch, m, map, field, &pick)?),
            }
        }
        Ok(arrow::array::RecordBatch::try_new_with_options(
            schema.clone(),
            cols,
            &arrow::array::RecordBatchOptions::new().with_row_count(Some(
                self.selected(p).map_or(batch.num_rows(), <[u32]>::len),
            )),
        )?)
    }

    /// The pending model's output for partition `p`'s selected rows: mapped straight
    /// from the input's dense rows, or (sparse rows, nulls) the model's own transform of
    /// the picked input.
    fn pending_column(
        &self,
        p: usize,
        batch: &arrow::array::RecordBatch,
        model: &StandardScalerModel,
        map: &AffineMap,
        field: &arrow::datatypes::Field,
        pick: &dyn Fn(&arrow::array::ArrayRef) -> Result<arrow::array::ArrayRef>,
    ) -> Result<arrow::array::ArrayRef> {
        use rayon::prelude::*;
        let input = &model.params().input_col;
        let source = batch.column(self.base.schema().index_of(input)?);
        let n = map.scale.len();
        let at = At {
            stage: "StandardScalerModel",
            column: input,
            partition: p,
        };
        let block = VectorBlock::new(source.as_ref(), n, at)?;
        if let (Some(values), 0) = (block.as_dense(), source.null_count()) {
            let rows = self.selected(p);
            let count = rows.map_or(block.len(), <[u32]>::len);
            // Fresh memory (huge pages where the kernel gives them), written in parallel
            // row blocks.
            let mut out = crate::frame::buffer::zeroed(count * n);
            let task = (1 << 16) / n.max(1) + 1;
            out.par_chunks_mut(task * n.max(1))
                .enumerate()
                .for_each(|(t, o)| fill_rows(values, n, rows, Some(map), t * task, o));
            return match crate::frame::vector::vector_size(field.data_type()) {
                Some(_) => Ok(Arc::new(crate::frame::vector::vector_array(out, n, None)?)),
                None => crate::frame::vector::dense_rows_array(out, n, None),
            };
        }
        let in_field = self.base.schema().field_with_name(input)?.clone();
        let one = arrow::array::RecordBatch::try_new(
            Arc::new(arrow::datatypes::Schema::new(vec![in_field])),
            vec![pick(source)?],
        )?;
        let one = DataFrame::from_batches(vec![one])?;
        let out = model.transform(&one)?;
        Ok(out.column(field.name())?.chunks[0].clone())
    }

    /// [`materialise`](Self::materialise)d, as a plain view.
    pub(crate) fn materialised(&self) -> Result<FitView<'a>> {
        if self.is_plain() {
            return Ok(self.clone());
        }
        Ok(Self::owned(self.materialise()?))
    }

    /// A plain view of `df`.
    pub(crate) fn of_frame(df: DataFrame) -> FitView<'a> {
        Self::owned(df)
    }

    /// Numeric column `col` of the selected rows as `f64`, one array per partition.
    ///
    /// # Errors
    /// [`Error::ColumnNotFound`] / a cast error for a column that is not numeric.
    pub(crate) fn f64_parts(&self, col: &str) -> Result<Vec<Float64Array>> {
        let c = self.base.column(col)?;
        c.chunks
            .iter()
            .enumerate()
            .map(|(p, chunk)| {
                let picked = match self.selected(p) {
                    Some(rows) => arrow::compute::take(
                        chunk.as_ref(),
                        &UInt32Array::from(rows.to_vec()),
                        None,
                    )?,
                    None => chunk.clone(),
                };
                Ok(cast(&picked, &DataType::Float64)?
                    .as_primitive::<Float64Type>()
                    .clone())
            })
            .collect()
    }

    /// Vector column `col` (of `n` values) as the view's readers read it, one part per
    /// partition: the column itself, or the pending model's input mapped. `None` when a
    /// chunk is not dense (sparse rows are read from a materialised view), or when `col`
    /// is neither in the base nor the pending column.
    ///
    /// # Errors
    /// A chunk that is no vector column of `n` values, as [`VectorBlock::new`] reports it
    /// (naming `stage`).
    pub(crate) fn vector_parts(
        &self,
        stage: &'static str,
        col: &str,
        n: usize,
    ) -> Result<Option<Vec<VectorPart<'_>>>> {
        let (source, map) = match &self.pending {
            Some((m, map)) if m.params().output_col == col => {
                (m.params().input_col.as_str(), Some(map))
            }
            _ => (col, None),
        };
        let Some(i) = self.base.schema().index_of(source).ok() else {
            return Ok(None);
        };
        let mut parts = Vec::with_capacity(self.base.num_partitions());
        for (p, batch) in self.base.partitions().iter().enumerate() {
            let at = At {
                stage,
                column: source,
                partition: p,
            };
            let block = VectorBlock::new(batch.column(i).as_ref(), n, at)?;
            let Some(values) = block.as_dense() else {
                return Ok(None);
            };
            parts.push(VectorPart {
                block,
                values,
                rows: self.selected(p),
                map,
                n,
            });
        }
        Ok(Some(parts))
    }
}

/// One partition of a vector column as a [`FitView`] reads it: the source chunk's dense
/// rows, picked by index and mapped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct VectorPart<'v> {
    block: VectorBlock<'v>,
    values: &'v [f64],
    rows: Option<&'v [u32]>,
    map: Option<&'v AffineMap>,
    n: usize,
}

impl<'v> VectorPart<'v> {
    /// Rows in the view.
    pub(crate) fn len(&self) -> usize {
        self.rows.map_or(self.block.len(), <[u32]>::len)
    }

    /// The row of the source partition that view row `i` is.
    #[inline]
    pub(crate) fn source_row(&self, i: usize) -> usize {
        self.rows.map_or(i, |r| r[i] as usize)
    }

    /// Whether view row `i` is null.
    pub(crate) fn is_null(&self, i: usize) -> bool {
        self.block.is_null(self.source_row(i))
    }

    /// The source partition's row-major values.
    pub(crate) fn values(&self) -> &'v [f64] {
        self.values
    }

    /// The picked rows of the source partition (`None`: all of them).
    pub(crate) fn rows(&self) -> Option<&'v [u32]> {
        self.rows
    }

    /// The pending map (`None`: the values are read as they are).
    pub(crate) fn map(&self) -> Option<&'v AffineMap> {
        self.map
    }

    /// Values per row.
    pub(crate) fn size(&self) -> usize {
        self.n
    }

    /// View rows `first..first + len`, as the materialised view would hold them.
    pub(crate) fn gather(&self, first: usize, len: usize) -> Vec<f64> {
        let mut out = vec![0.0; len * self.n];
        fill_rows(self.values, self.n, self.rows, self.map, first, &mut out);
        out
    }
}

/// Writes rows `first..` of the view of `values` (rows of `n`; picked by `rows`, mapped
/// by `map`) into `out` (a whole number of rows).
#[inline]
pub(crate) fn fill_rows(
    values: &[f64],
    n: usize,
    rows: Option<&[u32]>,
    map: Option<&AffineMap>,
    first: usize,
    out: &mut [f64],
) {
    match map {
        None => {
            for (i, o) in out.chunks_exact_mut(n.max(1)).enumerate() {
                let r = rows.map_or(first + i, |r| r[first + i] as usize);
                o.copy_from_slice(&values[r * n..(r + 1) * n]);
            }
        }
        // `x − (+0.0)` is `x` for every `x` (−0.0 included), so without centring the
        // subtraction is left out: the same bits, less work.
        Some(m) if m.shift.iter().all(|s| s.to_bits() == 0) => {
            scale_rows(values, n, rows, first, None, &m.scale, out)
        }
        Some(m) => scale_rows(values, n, rows, first, Some(&m.shift), &m.scale, out),
    }
}

/// How many picked rows ahead [`scale_rows`] prefetches.
const PICK_AHEAD: usize = 24;

multiversion! {
    /// `out`'s rows = rows `first..` (picked by `rows`) of `values`, each value
    /// `(x − shift) · scale` (`x · scale` without a shift), as [`AffineMap::apply`].
    fn scale_rows(
        values: &[f64],
        n: usize,
        rows: Option<&[u32]>,
        first: usize,
        shift: Option<&[f64]>,
        scale: &[f64],
        out: &mut [f64],
    ) {
        let scale = &scale[..n];
        for (i, o) in out.chunks_exact_mut(n.max(1)).enumerate() {
            let r = rows.map_or(first + i, |r| r[first + i] as usize);
            // Picked rows leave gaps that the hardware's stream prefetcher follows poorly:
            // ask for the row `AHEAD` picks on now (measured in `tuning_bench`).
            if let Some(&ahead) = rows.and_then(|r| r.get(first + i + PICK_AHEAD)) {
                let a = ahead as usize * n;
                if let Some(x) = values.get(a..a + n) {
                    crate::frame::kernels::prefetch(x);
                }
            }
            let x = &values[r * n..(r + 1) * n];
            match shift {
                None => {
                    for ((o, x), k) in o.iter_mut().zip(x).zip(scale) {
                        *o = x * k;
                    }
                }
                Some(s) => {
                    for (((o, x), s), k) in o.iter_mut().zip(x).zip(&s[..n]).zip(scale) {
                        *o = (x - s) * k;
                    }
                }
            }
        }
    }
}

/// Fits `e` on `view` without materialising it when `e` can read views (a plain view:
/// any estimator); `None` when the view must be materialised first.
pub(crate) fn fit_on_view(
    e: &dyn DynEstimator,
    view: &FitView<'_>,
) -> Option<Result<Box<dyn Model>>> {
    if view.is_plain() {
        return Some(e.fit_dyn(view.base()));
    }
    let any = e as &dyn Any;
    let boxed = |r: Result<Option<Box<dyn Model>>>| r.transpose();
    if let Some(lr) = any.downcast_ref::<LogisticRegression>() {
        return boxed(
            lr.fit_view(view)
                .map(|m| m.map(|m| Box::new(m) as Box<dyn Model>)),
        );
    }
    if let Some(p) = any.downcast_ref::<Pipeline>() {
        return Some(
            p.fit_view(view.clone(), false)
                .map(|(m, _, _)| Box::new(m) as Box<dyn Model>),
        );
    }
    if let Some(s) = any.downcast_ref::<StandardScaler>() {
        return boxed(
            s.fit_view(view)
                .map(|m| m.map(|m| Box::new(m) as Box<dyn Model>)),
        );
    }
    None
}

/// Whether [`fit_on_view`] fits `e` on `view` without materialising any of it (a plain
/// view: always). A [`Pipeline`] does when the one stage it fits (its data go up to its
/// last estimator) is its first and reads the view in place.
pub(crate) fn reads_in_place(e: &dyn DynEstimator, view: &FitView<'_>) -> Result<bool> {
    use super::PipelineStage;
    if view.is_plain() {
        return Ok(true);
    }
    let any = e as &dyn Any;
    if let Some(lr) = any.downcast_ref::<LogisticRegression>() {
        return lr.reads_view(view);
    }
    if let Some(s) = any.downcast_ref::<StandardScaler>() {
        return s.reads_view(view);
    }
    if let Some(p) = any.downcast_ref::<Pipeline>() {
        let stages = p.stages();
        let last = stages
            .iter()
            .rposition(|s| matches!(s, PipelineStage::Estimator(_)));
        return match (last, stages.first()) {
            (None, _) => Ok(true),
            (Some(0), Some(PipelineStage::Estimator(e))) => reads_in_place(e.as_ref(), view),
            _ => Ok(false),
        };
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::StandardScalerParams;
    use crate::pipeline::Estimator;
    use arrow::array::{ArrayRef, Float64Array, Int32Array, RecordBatch};
    use arrow::buffer::NullBuffer;
    use arrow::datatypes::{Field, Schema};

    /// Two partitions of `v` (3 values; row `null_row` of partition 1 null), a `label` of
    /// `classes` classes and a `w` weight column.
    fn frame(classes: usize, null_row: Option<usize>) -> DataFrame {
        frame_of(classes, null_row, false)
    }

    /// [`frame`], with `v` in Spark's `VectorUDT` layout (all rows dense) when `udt`.
    fn frame_of(classes: usize, null_row: Option<usize>, udt: bool) -> DataFrame {
        let v_field = match udt {
            false => crate::frame::vector::vector_field("v", 3, true),
            true => crate::frame::vector::sparse_vector_field("v", 3, true),
        };
        let schema = Arc::new(Schema::new(vec![
            v_field,
            Field::new("label", DataType::Int32, false),
            Field::new("w", DataType::Float64, false),
        ]));
        let batches = (0..2)
            .map(|p| {
                let rows = 40 + 7 * p;
                let v: Vec<f64> = (0..rows * 3)
                    .map(|i| ((i * 7919 + p * 31) % 97) as f64 / 9.0 - 4.0 + (i % 3) as f64 * 10.0)
                    .collect();
                let nulls = null_row
                    .filter(|_| p == 1)
                    .map(|r| NullBuffer::from((0..rows).map(|i| i != r).collect::<Vec<_>>()));
                let label: Vec<i32> = (0..rows).map(|r| ((r * 5 + p) % classes) as i32).collect();
                let w: Vec<f64> = (0..rows).map(|r| 0.5 + (r % 4) as f64).collect();
                let cols: Vec<ArrayRef> = vec![
                    match udt {
                        false => Arc::new(crate::frame::vector::vector_array(v, 3, nulls).unwrap()),
                        true => crate::frame::vector::dense_rows_array(v, 3, nulls).unwrap(),
                    },
                    Arc::new(Int32Array::from(label)),
                    Arc::new(Float64Array::from(w)),
                ];
                RecordBatch::try_new(schema.clone(), cols).unwrap()
            })
            .collect();
        DataFrame::try_new(schema, batches).unwrap()
    }

    fn picked(df: &DataFrame) -> Vec<Vec<u32>> {
        df.partitions()
            .iter()
            .map(|b| (0..b.num_rows() as u32).filter(|r| r % 3 != 1).collect())
            .collect()
    }

    fn scaler(with_mean: bool) -> StandardScaler {
        StandardScaler::new()
            .with_input_col("v")
            .with_output_col("s")
            .with_mean(with_mean)
    }

    /// The scaler fitted on picked rows in place is the one fitted on their copy, and a
    /// view's materialised pending column (made straight from the picked input rows) is
    /// the model's own transform of the copy.
    #[test]
    fn picked_rows_fit_and_materialise_as_their_copy() {
        for (udt, with_mean) in [(false, false), (false, true), (true, false), (true, true)] {
            let df = frame_of(2, None, udt);
            let rows = picked(&df);
            let mut view = FitView::with_rows(&df, &rows);
            let copy = view.materialise().unwrap();
            assert_eq!(copy.num_rows(), view.num_rows());
            let model = scaler(with_mean).fit_view(&view).unwrap().unwrap();
            let expected = scaler(with_mean).fit(&copy).unwrap();
            assert_eq!(
                (model.mean(), model.std()),
                (expected.mean(), expected.std())
            );
            assert!(view.defer(&model));
            assert!(!view.defer(&model), "one pending transform at a time");
            let made = view.materialise_without(&["v".to_string()]).unwrap();
            let want = model.transform(&copy).unwrap().drop(["v"]).unwrap();
            assert_eq!(made.schema(), want.schema());
            assert_eq!(made.partitions(), want.partitions());
        }
    }

    /// LogisticRegression reading picked rows in place (gathered a chunk at a time, through
    /// a pending scaler's map or as they are) fits the model it fits on their copy, bit for
    /// bit: binomial and multinomial, weighted, with and without centring, elastic net.
    #[test]
    fn picked_rows_fit_lr_as_their_copy() {
        for classes in [2, 3] {
            let df = frame(classes, None);
            let rows = picked(&df);
            for pending in [None, Some(false), Some(true)] {
                let mut view = FitView::with_rows(&df, &rows);
                let features = match pending {
                    None => "v",
                    Some(with_mean) => {
                        let model = scaler(with_mean).fit_view(&view).unwrap().unwrap();
                        assert!(view.defer(&model));
                        "s"
                    }
                };
                let copy = view.materialise().unwrap();
                for weighted in [false, true] {
                    let mut lr = LogisticRegression::new()
                        .with_features_col(features)
                        .with_reg_param(0.05)
                        .with_elastic_net_param(0.3);
                    if weighted {
                        lr = lr.with_weight_col("w");
                    }
                    assert!(lr.reads_view(&view).unwrap());
                    assert!(reads_in_place(&lr, &view).unwrap());
                    let got = lr.fit_view(&view).unwrap().unwrap();
                    let want = lr.fit(&copy).unwrap();
                    let case =
                        format!("{classes} classes, scaler {pending:?}, weighted {weighted}");
                    assert_eq!(got.num_classes(), classes, "{case}");
                    assert_eq!(
                        got.coefficient_matrix(),
                        want.coefficient_matrix(),
                        "{case}"
                    );
                    assert_eq!(got.intercept_vector(), want.intercept_vector(), "{case}");
                    assert_eq!(
                        got.summary().unwrap().objective_history,
                        want.summary().unwrap().objective_history,
                        "{case}"
                    );
                }
            }
        }
    }

    /// Sparse rows, and a pipeline that fits more than its first stage, are not read in
    /// place (the tuning then makes the fold's rows once for all maps); a sparse view
    /// still fits, materialised, as its copy.
    #[test]
    fn what_is_not_read_in_place() {
        let df = frame(2, None);
        let rows = picked(&df);
        let view = FitView::with_rows(&df, &rows);
        let lr = LogisticRegression::new().with_features_col("v");
        assert!(reads_in_place(&lr, &view).unwrap());
        let one_fit = Pipeline::new().with_estimator(lr.clone());
        assert!(reads_in_place(&one_fit, &view).unwrap());
        let two_fits = Pipeline::new()
            .with_estimator(scaler(false))
            .with_estimator(LogisticRegression::new().with_features_col("s"));
        assert!(!reads_in_place(&two_fits, &view).unwrap());
        // The same rows with `v` sparse (every other value stored).
        let sparse_parts = df
            .partitions()
            .iter()
            .map(|b| {
                let at = At {
                    stage: "test",
                    column: "v",
                    partition: 0,
                };
                let block = VectorBlock::new(b.column(0).as_ref(), 3, at).unwrap();
                let mut out = crate::frame::vector::SparseVectorBuilder::new(3);
                for r in 0..block.len() {
                    let x = block.row(r).unwrap().to_vec();
                    out.push(&[0, 2], &[x[0], x[2]]).unwrap();
                }
                let mut cols = b.columns().to_vec();
                cols[0] = out.finish().unwrap();
                cols
            })
            .collect::<Vec<_>>();
        let mut fields = df.schema().fields().to_vec();
        fields[0] = Arc::new(crate::frame::vector::sparse_vector_field("v", 3, true));
        let schema = Arc::new(arrow::datatypes::Schema::new(fields));
        let batches = sparse_parts
            .into_iter()
            .map(|c| RecordBatch::try_new(schema.clone(), c).unwrap())
            .collect();
        let sparse = DataFrame::try_new(schema, batches).unwrap();
        let view = FitView::with_rows(&sparse, &rows);
        assert!(!reads_in_place(&lr, &view).unwrap());
        assert!(lr.fit_view(&view).unwrap().is_none());
        let (got, _, _) = one_fit.fit_view(view.clone(), false).unwrap();
        let want = lr.fit(&view.materialise().unwrap()).unwrap();
        let got = got
            .stage::<crate::classification::LogisticRegressionModel>()
            .unwrap();
        assert_eq!(got.coefficient_matrix(), want.coefficient_matrix());
    }

    /// LogisticRegression reading a pending scaler's input fits the model it fits on the
    /// materialised scaled column, bit for bit: binomial and multinomial, weighted, with
    /// and without centring, elastic net.
    #[test]
    fn a_pending_scaler_is_read_as_its_output() {
        for classes in [2, 3] {
            let df = frame(classes, None);
            for with_mean in [false, true] {
                let model = scaler(with_mean).fit(&df).unwrap();
                let mut view = FitView::new(&df);
                assert!(view.defer(&model));
                let lr = LogisticRegression::new()
                    .with_features_col("s")
                    .with_weight_col("w")
                    .with_reg_param(0.05)
                    .with_elastic_net_param(0.3);
                let got = lr.fit_view(&view).unwrap().unwrap();
                let want = lr.fit(&model.transform(&df).unwrap()).unwrap();
                assert_eq!(got.num_classes(), classes);
                assert_eq!(got.coefficient_matrix(), want.coefficient_matrix());
                assert_eq!(got.intercept_vector(), want.intercept_vector());
            }
        }
    }

    /// A null input vector under a pending scaler is reported at its row, in the column
    /// the fit reads, as on the materialised column.
    #[test]
    fn a_null_row_under_a_pending_scaler_is_reported_at_its_row() {
        let df = frame(2, Some(5));
        let params = StandardScalerParams {
            input_col: "v".into(),
            output_col: "s".into(),
            ..Default::default()
        };
        let model = StandardScalerModel::new("s1", params, vec![0.0; 3], vec![2.0; 3]);
        let mut view = FitView::new(&df);
        assert!(view.defer(&model));
        let lr = LogisticRegression::new().with_features_col("s");
        let got = lr.fit_view(&view).unwrap_err().to_string();
        let want = lr
            .fit(&model.transform(&df).unwrap())
            .unwrap_err()
            .to_string();
        assert_eq!(got, want);
        assert!(
            got.contains("null vector in column `s` (partition 1, row 5)"),
            "{got}"
        );
    }
}
