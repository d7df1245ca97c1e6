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
    let (_, _, n) = schema::require_vector(input, stage, input_col)?;
    if let Some(e) = expected {
        if e != n {
            return Err(Error::FeatureCount {
                stage,
                column: input_col.to_string(),
                expected: e,
                found: n,
            });
        }
    }
    Ok(n)
}

/// Maps every row of the vector column `input` (`n_in` values a row) through
/// `f(row, out_row)` into the new column `out` (`n_out` values a row, zeroed before `f`
/// sees them), in parallel row blocks; null rows stay null.
pub(crate) fn map_rows(
    stage: &'static str,
    df: &DataFrame,
    input: &str,
    n_in: usize,
    out: Field,
    n_out: usize,
    f: impl Fn(&[f64], &mut [f64]) + Sync,
) -> Result<DataFrame> {
    let c = df.column(input)?;
    let chunks = c
        .chunks
        .par_iter()
        .enumerate()
        .map(|(partition, a)| {
            // Dense or sparse input, read through the one row view: a dense column is used
            // in place, a sparse one densified for this partition.
            let at = vector::At {
                stage,
                column: input,
                partition,
            };
            let block = vector::VectorBlock::new(a.as_ref(), n_in, at)?;
            let vals = block.to_dense();
            let rows = a.len();
            let nulls = a.nulls().cloned();
            let mut outv = vec![0.0; rows * n_out];
            const BLOCK: usize = 4096;
            outv.par_chunks_mut((BLOCK * n_out).max(1))
                .enumerate()
                .for_each(|(b, dst)| {
                    let first = b * BLOCK;
                    for (k, o) in dst.chunks_exact_mut(n_out.max(1)).enumerate() {
                        let r = first + k;
                        f(&vals[r * n_in..(r + 1) * n_in], o);
                    }
                });
            Ok(Arc::new(vector::vector_array(outv, n_out, nulls)?) as ArrayRef)
        })
        .collect::<Vec<_>>();
    let chunks = crate::frame::in_order(chunks)?;
    df.with_column(out, chunks)
}

/// The row function of a vector transformer: `(input row, zeroed output row)`.
pub(crate) type RowFn = Box<dyn Fn(&[f64], &mut [f64]) + Send + Sync>;

/// A vector-to-vector transformer in the shape of Spark's `UnaryTransformer` (a uid, a
/// params struct with `input_col` / `output_col`, the default output `<uid>__output`): its
/// constructor and column setters, `Stage` (output field with Spark's attribute-group
/// size), `Transformer`, `Model` and metadata-only persistence. The type provides
/// `fn output_size(&self, n: usize) -> Result<usize>` and
/// `fn row_fn(&self, n: usize) -> Result<RowFn>`. With `sized: false` the output field has
/// no attribute metadata (Spark's PolynomialExpansion writes none).
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
                let m = self.output_size(n)?;
                let field = if $sized {
                    super::vector_stage::sized_vector_field(&self.params.output_col, m)
                } else {
                    $crate::frame::vector::vector_field(&self.params.output_col, m, true)
                };
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
                let m = self.output_size(n)?;
                let f = self.row_fn(n)?;
                super::vector_stage::map_rows(self.kind(), df, &self.params.input_col, n, field, m, f)
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
                    f: self.row_fn(n)?,
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
