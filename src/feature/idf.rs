//! [`IDF`] and [`IDFModel`]: inverse document frequency weights for term-frequency vectors.

use std::sync::Arc;

use arrow::array::{ArrayRef, Int64Array, ListArray};
use arrow::buffer::OffsetBuffer;
use arrow::datatypes::{DataType, Field, Schema};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::tokenizer::unary_cols;
use crate::error::{Error, Result};
use crate::frame::vector::{self, At, Row, SparseVectorBuilder, VectorBlock};
use crate::frame::{schema, DataFrame};
use crate::param::Params;
use crate::persist::Vector;
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Params of [`IDF`] and [`IDFModel`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct IDFParams {
    /// The vector input column (dense or sparse; no default).
    pub input_col: Option<String>,
    /// The output column (Spark's default `<uid>__output`).
    pub output_col: Option<String>,
    /// Terms in fewer documents than this get weight 0; default 0, must be >= 0.
    pub min_doc_freq: i64,
}

impl Params for IDFParams {
    const STAGE: &'static str = "IDF";
    fn validate(&self) -> Result<()> {
        if self.min_doc_freq < 0 {
            return Err(Error::param(
                Self::STAGE,
                "minDocFreq",
                ">= 0",
                self.min_doc_freq,
            ));
        }
        unary_cols(Self::STAGE, &self.input_col, &self.output_col).map(|_| ())
    }
}

/// Learns inverse document frequencies, like Spark's `org.apache.spark.ml.feature.IDF`:
/// for `m` rows and `df_j` rows whose vector is positive at `j`,
/// `idf_j = ln((m + 1) / (df_j + 1))`, or 0 when `df_j < minDocFreq`. The
/// [`IDFModel`] multiplies each vector by the weights, keeping its layout (a sparse vector
/// keeps its indices, explicit zeros included; a dense one stays dense).
///
/// The input is a vector column, dense or sparse (e.g. the output of [`HashingTF`] or
/// [`CountVectorizerModel`]); a null vector is an error, as in Spark, and so is an empty
/// input ("Haven't seen any document yet.").
///
/// [`HashingTF`]: crate::feature::HashingTF
/// [`CountVectorizerModel`]: crate::feature::CountVectorizerModel
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use std::sync::Arc;
/// use mlpipe::arrow::array::{ArrayRef, RecordBatch, StringArray};
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{HashingTF, IDF, Tokenizer};
/// let text: ArrayRef = Arc::new(StringArray::from(vec!["a b", "a c", "a"]));
/// let df = DataFrame::from_batches(vec![RecordBatch::try_from_iter([("text", text)])?])?;
/// let df = Tokenizer::new().with_input_col("text").with_output_col("words").transform(&df)?;
/// let tf = HashingTF::new().with_input_col("words").with_output_col("tf");
/// let df = tf.transform(&df)?;
/// let model = IDF::new().with_input_col("tf").with_output_col("tfidf").fit(&df)?;
/// assert_eq!(model.idf()[tf.index_of("a")], (4.0f64 / 4.0).ln());
/// assert_eq!(model.idf()[tf.index_of("b")], (4.0f64 / 2.0).ln());
/// assert_eq!(model.num_docs(), 3);
/// let out = model.transform(&df)?;
/// # let _ = out;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct IDF {
    uid: String,
    params: IDFParams,
}

super::columns::stage_basics!(IDF, IDFParams, "idf", |uid| IDFParams {
    output_col: Some(format!("{uid}__output")),
    ..Default::default()
});

macro_rules! idf_cols {
    () => {
        /// The vector input column.
        pub fn with_input_col(mut self, c: &str) -> Self {
            self.params.input_col = Some(c.into());
            self
        }
        /// The output column; default `<uid>__output`.
        pub fn with_output_col(mut self, c: &str) -> Self {
            self.params.output_col = Some(c.into());
            self
        }
    };
}

impl IDF {
    idf_cols!();
    /// Minimum document frequency for a non-zero weight; default 0.
    pub fn with_min_doc_freq(mut self, n: i64) -> Self {
        self.params.min_doc_freq = n;
        self
    }
}

/// The output field: the input's layout and size.
fn idf_schema(p: &IDFParams, input: &Schema, stage: &'static str) -> Result<(Schema, usize)> {
    p.validate().map_err(|e| match e {
        Error::InvalidParam {
            param,
            expected,
            got,
            ..
        } => Error::InvalidParam {
            stage,
            param,
            expected,
            got,
        },
        e => e,
    })?;
    let (i, o) = unary_cols(stage, &p.input_col, &p.output_col)?;
    let (_, f, n) = schema::require_vector(input, stage, i)?;
    let field = if vector::vector_size(f.data_type()).is_some() {
        vector::vector_field(o, n, true)
    } else {
        vector::sparse_vector_field(o, n, true)
    };
    let field = vector::like_input(f, field);
    Ok((schema::append_field(input, stage, field)?, n))
}

impl Stage for IDF {
    fn kind(&self) -> &'static str {
        "IDF"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        idf_schema(&self.params, input, IDFParams::STAGE).map(|(s, _)| s)
    }
}

impl Estimator for IDF {
    type Model = IDFModel;

    fn fit(&self, df: &DataFrame) -> Result<IDFModel> {
        let stage = IDFParams::STAGE;
        let (_, n) = idf_schema(&self.params, df.schema(), stage)?;
        let (i, _) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        // Per partition: (rows, df counts); merged in partition order.
        let parts = df.map_partitions(|p, b| {
            let at = At {
                stage,
                column: i,
                partition: p,
            };
            let block = VectorBlock::new(schema::batch_column(b, i)?.as_ref(), n, at)?;
            let mut counts = vec![0u64; n];
            for r in 0..block.len() {
                let row = block.row(r).ok_or_else(|| null_vector(stage, i, p, r))?;
                row.for_each_active(|j, v| {
                    if v > 0.0 {
                        counts[j] += 1;
                    }
                });
            }
            Ok((block.len() as u64, counts))
        })?;
        let mut m = 0u64;
        let mut doc_freq = vec![0u64; n];
        for (rows, counts) in parts {
            m += rows;
            for (d, c) in doc_freq.iter_mut().zip(counts) {
                *d += c;
            }
        }
        if m == 0 {
            return Err(Error::EmptyInput {
                stage,
                hint: "IDF needs at least one document (Spark: \"Haven't seen any document yet.\")"
                    .into(),
            });
        }
        let min = self.params.min_doc_freq.max(0) as u64;
        let mut idf = vec![0.0; n];
        for (j, d) in doc_freq.iter_mut().enumerate() {
            if *d >= min {
                idf[j] = ((m as f64 + 1.0) / (*d as f64 + 1.0)).ln();
            } else {
                *d = 0;
            }
        }
        Ok(IDFModel::new(
            self.uid.clone(),
            self.params.clone(),
            idf,
            doc_freq,
            m,
        ))
    }
}

fn null_vector(stage: &'static str, column: &str, partition: usize, row: usize) -> Error {
    Error::InvalidValue {
        stage,
        column: column.to_string(),
        partition,
        row,
        what: "null vector".into(),
        hint: format!(
            "Spark fails on it too; drop the rows first (DataFrame::drop_invalid([\"{column}\"]))"
        ),
    }
}

/// A fitted [`IDF`]: the weights, the document frequencies and the number of documents.
#[derive(Clone, Debug, PartialEq)]
pub struct IDFModel {
    uid: String,
    params: IDFParams,
    idf: Vec<f64>,
    doc_freq: Vec<u64>,
    num_docs: u64,
}

impl IDFModel {
    /// A model from its weights, document frequencies and document count.
    pub fn new(
        uid: impl Into<String>,
        params: IDFParams,
        idf: Vec<f64>,
        doc_freq: Vec<u64>,
        num_docs: u64,
    ) -> Self {
        Self {
            uid: uid.into(),
            params,
            idf,
            doc_freq,
            num_docs,
        }
    }
    idf_cols!();
    /// The weights, one per vector index.
    pub fn idf(&self) -> &[f64] {
        &self.idf
    }
    /// The document frequency of each index (0 where below `minDocFreq`).
    pub fn doc_freq(&self) -> &[u64] {
        &self.doc_freq
    }
    /// The number of documents fitted on.
    pub fn num_docs(&self) -> u64 {
        self.num_docs
    }
    /// The params.
    pub fn params(&self) -> &IDFParams {
        &self.params
    }
}

impl Stage for IDFModel {
    fn kind(&self) -> &'static str {
        "IDFModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let stage = "IDFModel";
        let (s, n) = idf_schema(&self.params, input, stage)?;
        let (i, _) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let f = input.field_with_name(i)?;
        schema::check_vector_size(stage, i, f, n, self.idf.len())?;
        Ok(s)
    }
}

impl Transformer for IDFModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let stage = "IDFModel";
        let out = self.transform_schema(df.schema())?;
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let n = self.idf.len();
        let idf = &self.idf;
        let chunks = df.map_partitions(|p, b| {
            let at = At {
                stage,
                column: i,
                partition: p,
            };
            let arr = schema::batch_column(b, i)?;
            let block = VectorBlock::new(arr.as_ref(), n, at)?;
            if let Some(values) = block.as_dense() {
                // A dense column stays dense.
                if let Some(r) = (0..block.len()).find(|&r| block.is_null(r)) {
                    return Err(null_vector(stage, i, p, r));
                }
                let scaled: Vec<f64> = values
                    .chunks_exact(n.max(1))
                    .flat_map(|row| row.iter().zip(idf).map(|(v, w)| v * w))
                    .collect();
                let scaled = if n == 0 { Vec::new() } else { scaled };
                return Ok(Arc::new(vector::vector_array(scaled, n, None)?) as ArrayRef);
            }
            let mut out = SparseVectorBuilder::with_capacity(n, block.len(), block.num_active())
                .context(stage, o, p);
            let mut vals = Vec::new();
            for r in 0..block.len() {
                match block.row(r).ok_or_else(|| null_vector(stage, i, p, r))? {
                    Row::Dense(v) => {
                        vals.clear();
                        vals.extend(v.iter().zip(idf).map(|(v, w)| v * w));
                        out.push_dense(&vals)?;
                    }
                    Row::Sparse {
                        indices, values, ..
                    } => {
                        vals.clear();
                        vals.extend(
                            indices
                                .iter()
                                .zip(values)
                                .map(|(j, v)| v * idf[*j as usize]),
                        );
                        out.push(indices, &vals)?;
                    }
                }
            }
            out.finish()
        })?;
        df.with_column(out.field_with_name(o)?.clone(), chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for IDFModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for IDFModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let stage = "IDFModel";
        let (i, o) = unary_cols(stage, &self.params.input_col, &self.params.output_col)?;
        let input = plan.vector_input(i)?;
        // A sparse column stays sparse, a dense one dense, as in batch.
        let out = match input {
            crate::row::VecIn::Sparse(_) => {
                crate::row::VecIn::Sparse(plan.add_sparse(o, self.idf.len()))
            }
            crate::row::VecIn::Dense(_) => {
                crate::row::VecIn::Dense(plan.add_vec(o, self.idf.len()))
            }
        };
        Ok(Some(Box::new(IDFRow {
            input,
            out,
            idf: self.idf.clone(),
        })))
    }
}

#[derive(Debug)]
struct IDFRow {
    input: crate::row::VecIn,
    out: crate::row::VecIn,
    idf: Vec<f64>,
}

impl crate::row::RowOp for IDFRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        use crate::row::VecIn;
        let idf = &self.idf;
        match (self.input, self.out) {
            (VecIn::Dense(x), VecIn::Dense(o)) => {
                let (x, out) = row.vec_pair(x, o);
                for ((o, v), w) in out.iter_mut().zip(x).zip(idf) {
                    *o = v * w;
                }
            }
            (x, VecIn::Sparse(o)) => {
                let mut out = row.take_sparse(o);
                out.clear();
                if let Row::Sparse {
                    indices, values, ..
                } = row.vec_row(x)
                {
                    out.indices.extend_from_slice(indices);
                    out.values.extend(
                        indices
                            .iter()
                            .zip(values)
                            .map(|(j, v)| v * idf[*j as usize]),
                    );
                }
                row.put_sparse(o, out);
            }
            (VecIn::Sparse(_), VecIn::Dense(_)) => {
                return Err(Error::Internal(
                    "IDFModel row form: a sparse input with a dense output".into(),
                ))
            }
        }
        Ok(crate::row::Flow::Next)
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(IDF, "org.apache.spark.ml.feature.IDF");

impl crate::persist::SparkPersist for IDFModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.IDFModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::format;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let (idf_field, idf) = Vector::Dense(self.idf.clone()).field_and_array("idf")?;
        let item = Arc::new(Field::new("element", DataType::Int64, false));
        let df_values: Vec<i64> = self.doc_freq.iter().map(|d| *d as i64).collect();
        let doc_freq: ArrayRef = Arc::new(ListArray::try_new(
            item.clone(),
            OffsetBuffer::from_lengths([df_values.len()]),
            Arc::new(Int64Array::from(df_values)),
            None,
        )?);
        let num_docs: ArrayRef = Arc::new(Int64Array::from(vec![self.num_docs as i64]));
        let batch = format::one_row(vec![
            (idf_field, idf),
            (Field::new("docFreq", DataType::List(item), true), doc_freq),
            (Field::new("numDocs", DataType::Int64, false), num_docs),
        ])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("idf", format::vector_udt_json(), true),
                (
                    "docFreq",
                    json!({"type": "array", "elementType": "long", "containsNull": false}),
                    true,
                ),
                ("numDocs", json!("long"), false),
            ]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::format;
        let d = format::read_data(dir)?;
        let idf = format::dense_vector(&d, "idf", dir)?;
        // Spark < 3 saved only `idf`: its reader assumes zero document frequencies and 0
        // documents, and so does this one.
        let doc_freq = match d.column_by_name("docFreq") {
            None => vec![0; idf.len()],
            Some(a) => {
                let list = arrow::array::AsArray::as_list_opt::<i32>(a.as_ref())
                    .ok_or_else(|| Error::file(dir.join("data"), "docFreq is not a list"))?;
                let v = arrow::compute::cast(&list.value(0), &DataType::Int64)?;
                let v = arrow::array::AsArray::as_primitive::<arrow::datatypes::Int64Type>(&v);
                v.values().iter().map(|x| (*x).max(0) as u64).collect()
            }
        };
        if doc_freq.len() != idf.len() {
            return Err(Error::file(
                dir.join("data"),
                format!(
                    "{} weights but {} document frequencies",
                    idf.len(),
                    doc_freq.len()
                ),
            ));
        }
        let num_docs = match d.column_by_name("numDocs") {
            None => 0,
            Some(_) => format::i64_value(&d, "numDocs", dir)?.max(0) as u64,
        };
        Ok(Self::new(
            md.uid.clone(),
            md.params_as(dir)?,
            idf,
            doc_freq,
            num_docs,
        ))
    }
}
