//! What the vector-to-vector stages share (RobustScaler, Normalizer, ElementwiseProduct,
//! PolynomialExpansion, DCT, Binarizer's vector form): the `inputCol` / `outputCol` check,
//! the output field with Spark's attribute metadata, and a parallel row map.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{Field, Schema};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::{schema, vector, DataFrame};

/// Fails unless both column params name a column.
pub(crate) fn check_in_out(stage: &'static str, input_col: &str, output_col: &str) -> Result<()> {
    for (name, v) in [("inputCol", input_col), ("outputCol", output_col)] {
        if v.is_empty() {
            return Err(Error::param(stage, name, "a non-empty column name", "\"\""));
        }
    }
    Ok(())
}

/// A vector field of `n` values whose attribute group records only its size (Spark's
/// `SchemaUtils.updateAttributeGroupSize`, what Spark's vector transformers write).
pub(crate) fn sized_vector_field(name: &str, n: usize) -> Field {
    let mut f = vector::vector_field(name, n, true);
    f.metadata_mut().insert(
        vector::ML_ATTR.to_string(),
        serde_json::json!({"num_attrs": n}).to_string(),
    );
    f
}

/// Checks that `input_col` is a vector column (of `expected` values when given) and
/// returns its size.
pub(crate) fn input_size(
    input: &Schema,
    stage: &'static str,
    input_col: &str,
    expected: Option<usize>,
) -> Result<usize> {
    let (_, f, n) = schema::require_vector(input, stage, input_col)?;
    if let Some(e) = expected {
        schema::check_vector_size(stage, input_col, f, n, e)?;
    }
    Ok(n)
}

/// How a vector stage stores each output row: Spark's rule for that stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OutLayout {
    /// A row keeps its input's layout: a dense row stays dense, a sparse row stays sparse
    /// with the entries [`VectorMap::sparse`] gives (Spark's stages that match on
    /// `DenseVector` / `SparseVector`). The output column is sparse (`VectorUDT`) iff the
    /// input column is.
    Keep,
    /// Every row dense (a dense column), whatever the input (Spark's DCT, a centring
    /// scaler).
    Dense,
    /// Every row as Spark's `Vector.compressed` stores it (a `VectorUDT` column), whatever
    /// the input (Spark's Binarizer, Interaction).
    Compressed,
}

impl OutLayout {
    /// Whether the output column is Spark's `VectorUDT` struct (rows dense or sparse each)
    /// for an input column of type `input`; decided from the schema alone.
    pub(crate) fn sparse_output(self, input: &arrow::datatypes::DataType) -> bool {
        match self {
            OutLayout::Keep => vector::is_sparse_vector_type(input),
            OutLayout::Dense => false,
            OutLayout::Compressed => true,
        }
    }

    /// `field` (a dense vector field with its metadata) in the output column type this
    /// layout gives for an input column of type `input`.
    pub(crate) fn field(self, field: Field, input: &arrow::datatypes::DataType) -> Field {
        if !self.sparse_output(input) {
            return field;
        }
        let n = vector::field_vector_size(&field).unwrap_or(0);
        let f = Field::new(field.name(), vector::sparse_vector_type(), true)
            .with_metadata(field.metadata().clone());
        vector::with_vector_size(f, n)
    }
}

/// The row maps of a vector stage.
pub(crate) trait VectorMap: Sync {
    /// Writes the output of the dense row `x` into `out` (zeroed before).
    fn dense(&self, x: &[f64], out: &mut [f64]);
    /// Whether [`dense_block`](Self::dense_block) is implemented.
    const BLOCK: bool = false;
    /// Maps a run of dense rows at once (`x`: rows of the input's values back to back;
    /// `out`: as many zeroed output rows), exactly as [`dense`](Self::dense) maps each
    /// row: for kernels with a faster block form (a multiversioned SIMD loop). Called only
    /// when [`BLOCK`](Self::BLOCK) is true.
    fn dense_block(&self, _x: &[f64], _out: &mut [f64]) {}
    /// How many values of [`dense`](Self::dense)'s output for `x` are not `0.0` (NaN
    /// counts), what Spark's `Vector.compressed` decides a row's layout by. The default
    /// maps `x` into `scratch` (the output's size) and counts; a stage whose count needs
    /// less (a threshold test per value) says so here, so that an
    /// [`OutLayout::Compressed`] transform's placing pass reads its input without
    /// computing rows.
    fn dense_nnz(&self, x: &[f64], scratch: &mut [f64]) -> usize {
        scratch.fill(0.0);
        self.dense(x, scratch);
        scratch.iter().filter(|v| **v != 0.0).count()
    }
    /// Appends the stored entries of the output of a sparse row (`indices`, `values`) to
    /// `oi` / `ov`, strictly increasing, as Spark's sparse branch computes them; returns
    /// false (appending nothing) when the stage has no sparse branch, and the row is then
    /// densified and mapped by [`dense`](Self::dense).
    fn sparse(
        &self,
        _size: usize,
        _indices: &[i32],
        _values: &[f64],
        _oi: &mut Vec<i32>,
        _ov: &mut Vec<f64>,
    ) -> bool {
        false
    }
}

/// A dense-only [`VectorMap`] from a row function (for stages such as PCA whose output
/// is dense for any input row: a sparse row is densified first).
pub(crate) struct DenseFn<F>(pub F);

impl<F: Fn(&[f64], &mut [f64]) + Sync> VectorMap for DenseFn<F> {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        (self.0)(x, out)
    }
}

/// Maps every row of the vector column `input` (`n_in` values a row, dense or sparse)
/// through `m` into the new column `out` (its type from [`OutLayout::field`], its vector
/// size recorded in it), each row stored as `layout` says; null rows stay null.
///
/// A dense output (or a [`OutLayout::Keep`] output of an all-dense input) is written
/// straight into one output buffer per partition in parallel row blocks
/// (`buffer::par_build_buffer`: pooled memory and streaming stores when large), with
/// `m.dense` called per row (or `m.dense_block` per block) through a static call (no per-row
/// allocation); a [`OutLayout::Compressed`] output of an all-dense input by
/// [`vector::par_compressed_chunk`] (rows placed by [`VectorMap::dense_nnz`], then mapped
/// once each); any other sparse-type output by the two-pass parallel builder
/// ([`vector::par_vector_chunk`]) straight into the column's buffers.
pub(crate) fn map_rows<M: VectorMap>(
    stage: &'static str,
    df: &DataFrame,
    input: &str,
    n_in: usize,
    out: Field,
    layout: OutLayout,
    m: &M,
) -> Result<DataFrame> {
    let n_out = vector::field_vector_size(&out).ok_or_else(|| {
        crate::error::Error::Internal(format!("{stage}: output field without a vector size"))
    })?;
    let c = df.column(input)?;
    let sparse_out = layout.sparse_output(df.schema().field_with_name(input)?.data_type());
    let chunks = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(partition, a)| {
            let at = vector::At {
                stage,
                column: input,
                partition,
            };
            let block = vector::VectorBlock::new(a.as_ref(), n_in, at)?;
            let nulls = a.nulls().cloned();
            if !sparse_out {
                let vals = dense_rows(&block, n_out, m);
                Ok(Arc::new(vector::vector_array_buf(vals, n_out, nulls)?) as ArrayRef)
            } else if layout == OutLayout::Keep && block.as_dense().is_some() {
                // Every row dense: every output row dense, written in place.
                vector::dense_rows_array_buf(dense_rows(&block, n_out, m), n_out, nulls)
            } else if let (OutLayout::Compressed, Some(x)) = (layout, block.as_dense()) {
                // Every row dense: placed by its output's non-zero count, then mapped once
                // straight into the column's buffers.
                let at = vector::At {
                    stage,
                    column: out.name(),
                    partition,
                };
                let row = |r: usize| &x[r * n_in..(r + 1) * n_in];
                vector::par_compressed_chunk(
                    block.len(),
                    n_out,
                    nulls.as_ref(),
                    at,
                    || vec![0.0; n_out],
                    |scratch, r| Ok(m.dense_nnz(row(r), scratch)),
                    |_, r, o| {
                        m.dense(row(r), o);
                        Ok(())
                    },
                )
            } else {
                let at = vector::At {
                    stage,
                    column: out.name(),
                    partition,
                };
                sparse_chunk(&block, n_out, layout, m, at)
            }
        })
        .collect::<Vec<_>>();
    let chunks = crate::frame::in_order(chunks)?;
    df.with_column(out, chunks)
}

/// One partition's rows mapped into dense output rows (`len · n_out` values).
fn dense_rows<M: VectorMap>(
    block: &vector::VectorBlock<'_>,
    n_out: usize,
    m: &M,
) -> arrow::buffer::ScalarBuffer<f64> {
    let n_in = block.size();
    if n_out == 0 {
        return Vec::new().into();
    }
    let dense_in = block.as_dense();
    // SAFETY: every output row is zeroed right before `m.dense` writes into it, so all of
    // every block is initialised.
    unsafe {
        crate::frame::buffer::par_build_buffer(block.len(), n_out, |first, dst| {
            if let (true, Some(x)) = (M::BLOCK, dense_in) {
                for v in dst.iter_mut() {
                    v.write(0.0);
                }
                // SAFETY: just initialised; MaybeUninit<f64> has f64's layout.
                let dst = &mut *(dst as *mut [std::mem::MaybeUninit<f64>] as *mut [f64]);
                let rows = dst.len() / n_out;
                m.dense_block(&x[first * n_in..(first + rows) * n_in], dst);
                return;
            }
            let mut scratch = Vec::new();
            for (k, o) in dst.chunks_exact_mut(n_out).enumerate() {
                // Zeroed here, in cache, rather than in a pass of its own over the block.
                for v in o.iter_mut() {
                    v.write(0.0);
                }
                // SAFETY: just initialised; MaybeUninit<f64> has f64's layout.
                let o = &mut *(o as *mut [std::mem::MaybeUninit<f64>] as *mut [f64]);
                let r = first + k;
                match dense_in {
                    Some(x) => m.dense(&x[r * n_in..(r + 1) * n_in], o),
                    None => match block.row(r) {
                        Some(vector::Row::Dense(x)) => m.dense(x, o),
                        Some(row) => {
                            scratch.resize(n_in, 0.0);
                            row.write_dense(&mut scratch);
                            m.dense(&scratch, o);
                        }
                        None => {}
                    },
                }
            }
        })
    }
}

/// One partition mapped into a sparse-type (`VectorUDT`) vector column chunk: a row keeps
/// its layout ([`OutLayout::Keep`]: a sparse row through [`VectorMap::sparse`] when the
/// stage has a sparse branch) or is stored `.compressed` ([`OutLayout::Compressed`]).
fn sparse_chunk<M: VectorMap>(
    block: &vector::VectorBlock<'_>,
    n_out: usize,
    layout: OutLayout,
    m: &M,
    at: vector::At<'_>,
) -> Result<ArrayRef> {
    let n_in = block.size();
    vector::par_vector_chunk(
        block.len(),
        n_out,
        layout == OutLayout::Compressed,
        at,
        Vec::new,
        |scratch: &mut Vec<f64>, r, sink| {
            match block.row(r) {
                None => sink.null(),
                Some(vector::Row::Dense(x)) => m.dense(x, sink.dense()),
                Some(
                    row @ vector::Row::Sparse {
                        indices, values, ..
                    },
                ) => {
                    let (oi, ov) = sink.sparse();
                    if !m.sparse(n_in, indices, values, oi, ov) {
                        scratch.resize(n_in, 0.0);
                        row.write_dense(scratch);
                        m.dense(scratch, sink.dense());
                    }
                }
            }
            Ok(())
        },
    )
}

/// The row function of a vector transformer: `(input row, zeroed output row)`.
pub(crate) type RowFn = Box<dyn Fn(&[f64], &mut [f64]) + Send + Sync>;

/// A vector-to-vector transformer in the shape of Spark's `UnaryTransformer` (a uid, a
/// params struct with `input_col` / `output_col`, the default output `<uid>__output`): its
/// constructor and column setters, `Stage` (output field with Spark's attribute-group
/// size, dense or sparse as the stage's [`OutLayout`] decides from the input type),
/// `Transformer`, `Model` and metadata-only persistence. The type provides
/// `fn output_size(&self, n: usize) -> Result<usize>`, `const LAYOUT: OutLayout` and
/// `fn kernel(&self, n: usize) -> Result<impl VectorMap + Send + 'static>` (the row form
/// uses the kernel's dense map). With `sized: false` the output field has no attribute
/// metadata (Spark's PolynomialExpansion writes none).
macro_rules! vector_transformer {
    ($ty:ident, $params:ident, $prefix:literal, $class:literal) => {
        super::vector_stage::vector_transformer!($ty, $params, $prefix, $class, sized: true);
    };
    ($ty:ident, $params:ident, $prefix:literal, $class:literal, sized: $sized:literal) => {
        super::columns::stage_basics!($ty, $params, $prefix, |uid| $params {
            output_col: format!("{uid}__output"),
            ..Default::default()
        });

        impl $ty {
            /// Input vector column (required).
            pub fn with_input_col(mut self, c: &str) -> Self {
                self.params.input_col = c.into();
                self
            }
            /// Output vector column; default `<uid>__output`.
            pub fn with_output_col(mut self, c: &str) -> Self {
                self.params.output_col = c.into();
                self
            }
        }

        impl $crate::pipeline::Stage for $ty {
            fn kind(&self) -> &'static str {
                stringify!($ty)
            }
            $crate::pipeline::stage_params!();
            fn transform_schema(
                &self,
                input: &arrow::datatypes::Schema,
            ) -> $crate::Result<arrow::datatypes::Schema> {
                use $crate::param::Params;
                self.params.validate()?;
                let stage = <$params as Params>::STAGE;
                let n =
                    super::vector_stage::input_size(input, stage, &self.params.input_col, None)?;
                // An input of unknown size (before fitting) gives an output of unknown
                // size, unchecked (Spark's transformSchema checks no size).
                let unknown = input
                    .field_with_name(&self.params.input_col)
                    .is_ok_and($crate::frame::vector::is_unknown_size);
                if unknown {
                    let f = $crate::frame::vector::unknown_size(
                        $crate::frame::vector::vector_field(&self.params.output_col, 0, true),
                    );
                    return $crate::frame::schema::append_field(input, stage, f);
                }
                let m = self.output_size(n)?;
                let field = if $sized {
                    super::vector_stage::sized_vector_field(&self.params.output_col, m)
                } else {
                    $crate::frame::vector::vector_field(&self.params.output_col, m, true)
                };
                let in_type = input.field_with_name(&self.params.input_col)?.data_type();
                let field = Self::LAYOUT.field(field, in_type);
                $crate::frame::schema::append_field(input, stage, field)
            }
        }

        impl $crate::pipeline::Transformer for $ty {
            fn transform(
                &self,
                df: &$crate::frame::DataFrame,
            ) -> $crate::Result<$crate::frame::DataFrame> {
                use $crate::pipeline::Stage;
                let out_schema = self.transform_schema(df.schema())?;
                let field = out_schema.field_with_name(&self.params.output_col)?.clone();
                let n = $crate::frame::vector::field_vector_size(
                    df.schema().field_with_name(&self.params.input_col)?,
                )
                .unwrap_or(0);
                let k = self.kernel(n)?;
                super::vector_stage::map_rows(
                    self.kind(),
                    df,
                    &self.params.input_col,
                    n,
                    field,
                    Self::LAYOUT,
                    &k,
                )
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

        $crate::persist::spark_params_only!($ty, $class);

        impl $crate::row::RowStage for $ty {
            fn compile_row(
                &self,
                plan: &mut $crate::row::PlanBuilder,
            ) -> $crate::Result<Option<Box<dyn $crate::row::RowOp>>> {
                let input = plan.vec_input(&self.params.input_col)?;
                let n = input.len();
                let out = plan.add_vec(&self.params.output_col, self.output_size(n)?);
                Ok(Some(Box::new(super::vector_stage::MapRow {
                    stage: stringify!($ty),
                    input,
                    out,
                    f: {
                        use super::vector_stage::VectorMap;
                        let k = self.kernel(n)?;
                        Box::new(move |x: &[f64], o: &mut [f64]| k.dense(x, o))
                    },
                })))
            }
        }
    };
}
pub(crate) use vector_transformer;

/// The row form of a [`vector_transformer!`] stage: the batch transform's row function on
/// one row, into a zeroed output slot.
pub(crate) struct MapRow {
    pub(crate) stage: &'static str,
    pub(crate) input: crate::row::VecSlot,
    pub(crate) out: crate::row::VecSlot,
    pub(crate) f: RowFn,
}

impl std::fmt::Debug for MapRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MapRow")
            .field("stage", &self.stage)
            .field("input", &self.input)
            .field("out", &self.out)
            .finish_non_exhaustive()
    }
}

impl crate::row::RowOp for MapRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (x, out) = row.vec_pair(self.input, self.out);
        out.fill(0.0);
        (self.f)(x, out);
        Ok(crate::row::Flow::Next)
    }
}

#[cfg(test)]
mod tests {
    use crate::feature::{Binarizer, ElementwiseProduct, Normalizer};
    use crate::frame::vector::{self, At, VectorBlock};
    use crate::frame::DataFrame;
    use crate::pipeline::Transformer;
    use arrow::array::RecordBatch;
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    /// Every row of the vector column `col` of `df`, in row order, spelled out (kind,
    /// indices, value bits).
    fn rows(df: &DataFrame, col: &str, n: usize) -> Vec<String> {
        let c = df.column(col).unwrap();
        let mut out = Vec::new();
        for (p, a) in c.chunks.iter().enumerate() {
            let at = At {
                stage: "test",
                column: col,
                partition: p,
            };
            let b = VectorBlock::new(a.as_ref(), n, at).unwrap();
            for r in 0..b.len() {
                out.push(match b.row(r) {
                    None => "null".into(),
                    Some(vector::Row::Dense(x)) => {
                        format!("d {:?}", x.iter().map(|v| v.to_bits()).collect::<Vec<_>>())
                    }
                    Some(vector::Row::Sparse {
                        indices, values, ..
                    }) => format!(
                        "s {indices:?} {:?}",
                        values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                    ),
                });
            }
        }
        out
    }

    #[test]
    fn large_outputs_written_through_the_pool_match_small_ones_bit_for_bit() {
        // 110,000 rows of 24 values: one partition's output is 21 MB, so it is written
        // into a pooled region through staged blocks and streaming stores (and its row
        // kinds and offsets into pooled memory); the same rows in 64 partitions give
        // outputs under 1 MB, written as plain vectors. Row r has r % 25 positive values,
        // so Binarizer's compressed output mixes sparse and dense rows.
        let (rows_n, n) = (110_000, 24);
        let values: Vec<f64> = (0..rows_n * n)
            .map(|i| {
                let (r, j) = (i / n, i % n);
                let mag = 0.5 + ((i * 7919) % 1000) as f64 / 250.0;
                if j < r % 25 {
                    mag
                } else if j % 7 == 3 {
                    0.0
                } else {
                    -mag
                }
            })
            .collect();
        let col = vector::dense_rows_array(values, n, None).unwrap();
        let field = vector::with_vector_size(Field::new("v", col.data_type().clone(), true), n);
        let batch = RecordBatch::try_new(Arc::new(Schema::new(vec![field])), vec![col]).unwrap();
        let one = DataFrame::from_batches(vec![batch]).unwrap();
        let many = one.repartition(64).unwrap();
        let stages: Vec<Box<dyn Transformer>> = vec![
            Box::new(
                Binarizer::new()
                    .with_input_col("v")
                    .with_output_col("o")
                    .with_threshold(0.0),
            ),
            Box::new(
                Normalizer::new()
                    .with_input_col("v")
                    .with_output_col("o")
                    .with_p(2.0),
            ),
            Box::new(
                ElementwiseProduct::new()
                    .with_input_col("v")
                    .with_output_col("o")
                    .with_scaling_vec(&[0.5; 24]),
            ),
        ];
        for s in &stages {
            let big = rows(&s.transform(&one).unwrap(), "o", n);
            let small = rows(&s.transform(&many).unwrap(), "o", n);
            assert_eq!(big.len(), rows_n);
            assert!(big == small, "{}", s.kind());
            if s.kind() == "Binarizer" {
                assert!(big.iter().any(|r| r.starts_with('s')));
                assert!(big.iter().any(|r| r.starts_with('d')));
            }
        }
    }
}
