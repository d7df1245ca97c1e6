//! [`PCA`] and [`PCAModel`]: project vectors onto their top `k` principal components.
//!
//! Spark's source: `mllib/src/main/scala/org/apache/spark/ml/feature/PCA.scala`, which fits
//! through `mllib/.../feature/PCA.scala` and
//! `mllib/.../linalg/distributed/RowMatrix.scala`
//! (`computePrincipalComponentsAndExplainedVariance`, `computeCovariance`).

use arrow::datatypes::Schema;
use serde::{Deserialize, Serialize};

use super::vector_stage::{
    check_in_out, input_size, map_rows, sized_vector_field, OutLayout, RowFn, VectorMap,
};
use crate::error::{Error, Result};
use crate::frame::row_matrix::RowMatrix;
use crate::frame::{schema, vector, DataFrame};
use crate::param::Params;
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};

/// Spark's largest number of columns for a covariance matrix
/// (`RowMatrix.checkNumColumns`); above it Spark switches to a distributed SVD.
pub(crate) const MAX_FEATURES: usize = 65535;

/// Params of [`PCA`] and [`PCAModel`]; JSON names are Spark's.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PCAParams {
    /// Input vector column. Required.
    pub input_col: String,
    /// Output vector column; [`PCA::new`] sets Spark's `<uid>__output`.
    pub output_col: String,
    /// Number of principal components, > 0 and at most the number of features. Required
    /// (Spark has no default).
    pub k: Option<usize>,
}

impl Params for PCAParams {
    const STAGE: &'static str = "PCA";
    fn validate(&self) -> Result<()> {
        check_in_out(Self::STAGE, &self.input_col, &self.output_col)?;
        match self.k {
            Some(k) if k > 0 => Ok(()),
            Some(k) => Err(Error::param(Self::STAGE, "k", "> 0", k)),
            None => Err(Error::param(
                Self::STAGE,
                "k",
                "set (the number of principal components, > 0; Spark has no default)",
                "unset",
            )),
        }
    }
}

impl PCAParams {
    fn k(&self) -> usize {
        self.k.unwrap_or(0)
    }
}

/// Principal component analysis (Spark's `org.apache.spark.ml.feature.PCA`): fits the top
/// `k` principal components of a vector column and projects vectors onto them.
///
/// `fit` makes one parallel pass over the rows (dense or sparse, through the one row view)
/// into the sample covariance matrix (divided by `m − 1`, Spark's
/// `RowMatrix.computeCovariance`): the pass [`Correlation`](crate::stat::Correlation)'s
/// pearson makes, the register-blocked Gram kernel over rows shifted by a provisional mean,
/// in fixed-size chunks merged in a fixed order. The components are the leading left singular
/// vectors of that matrix, and `explainedVariance` each singular value over their sum over
/// all `n`, as Spark's `RowMatrix.computePrincipalComponentsAndExplainedVariance` takes
/// them from Breeze's `svd` (LAPACK `dgesdd`), ordered by decreasing singular value.
///
/// **Signs.** A component is defined only up to its sign, and Spark's signs are whatever
/// `dgesdd` produces. mlpipe computes the SVD with a pure-Rust port of that routine as Spark
/// runs it without a native LAPACK (the Java translation of reference LAPACK 3.1.1 that
/// `dev.ludovic.netlib` falls back to, as in a PySpark pip install): the same Householder
/// bidiagonalisation, the same QR iteration (up to 25 features) or divide and conquer
/// (more), so the components — signs included — and hence the projections equal Spark's.
/// Checked against Spark's own `dgesdd` on 72 covariance matrices of 1 to 161 features
/// (rank-deficient ones and repeated eigenvalues included; U bit for bit), and against
/// Spark's fitted `PCAModel`s. Two limits: components of a zero singular value (k larger
/// than the covariance's rank) are any basis of its null space and follow the rounding of
/// the covariance, which mlpipe computes in one parallel pass and Spark in its own order;
/// and a Spark that loads a native LAPACK (OpenBLAS, MKL) may take other signs. A model
/// loaded from Spark keeps Spark's components exactly.
///
/// The model maps `x` to `pcᵀ x` (dense output of `k` values, each summed in feature order
/// as Spark's `DenseMatrix.multiply` does). The output column's attribute group records
/// its size `k`, as Spark's does.
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::feature::{PCA, VectorAssembler};
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new()
///     .with_input_cols(["tenure", "monthly_charges", "f0"])
///     .with_output_col("raw")
///     .transform(&df)?;
/// let model = PCA::new().with_input_col("raw").with_output_col("pca").with_k(2).fit(&df)?;
/// assert_eq!((model.pc().num_rows, model.pc().num_cols), (3, 2));
/// assert!(model.explained_variance()[0] >= model.explained_variance()[1]);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("pca").is_ok());
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] when `k` is unset, 0, larger than the number of features, or
/// too large for Spark's SVD memory bound; [`Error::ColumnNotFound`], [`Error::ColumnType`]
/// (a non-vector input), [`Error::ColumnExists`]; [`Error::InvalidValue`] naming the row of
/// a null vector or a NaN / infinite value; [`Error::Usage`] for fewer than two rows or
/// more than 65535 features; [`Error::FeatureCount`] when the model meets vectors of
/// another length.
#[derive(Clone, Debug)]
pub struct PCA {
    uid: String,
    params: PCAParams,
}

super::columns::stage_basics!(PCA, PCAParams, "pca", |uid| PCAParams {
    output_col: format!("{uid}__output"),
    ..Default::default()
});

impl PCA {
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
    /// Number of principal components (required).
    pub fn with_k(mut self, k: usize) -> Self {
        self.params.k = Some(k);
        self
    }
}

/// The output schema: the input must be a vector column (of `expected` values when given).
fn pca_schema(
    p: &PCAParams,
    input: &Schema,
    expected: Option<usize>,
    stage: &'static str,
) -> Result<Schema> {
    p.validate()?;
    input_size(input, stage, &p.input_col, expected)?;
    // Spark's SchemaUtils.updateAttributeGroupSize(outputCol, k).
    schema::append_field(input, stage, sized_vector_field(&p.output_col, p.k()))
}

impl Stage for PCA {
    fn kind(&self) -> &'static str {
        "PCA"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        pca_schema(&self.params, input, None, PCAParams::STAGE)
    }
}

/// Spark's bound on Breeze's SVD workspace (`PCAUtil.memoryCost`).
fn svd_memory_cost(k: usize, n: usize) -> u128 {
    let (k, n) = (k as u128, n as u128);
    let m = k.min(n);
    3 * m * m + k.max(n).max(4 * m * m + 4 * m)
}

impl Estimator for PCA {
    type Model = PCAModel;

    fn fit(&self, df: &DataFrame) -> Result<PCAModel> {
        let stage = PCAParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let k = p.k();
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.input_col)?;
        if k > n {
            return Err(Error::param(
                stage,
                "k",
                format!(
                    "at most the number of features of column `{}` ({n}); lower k",
                    p.input_col
                ),
                k,
            ));
        }
        if n > MAX_FEATURES {
            return Err(Error::Usage(format!(
                "PCA: column `{}` has {n} features; the covariance matrix is limited to \
                 {MAX_FEATURES} (Spark's RowMatrix limit); reduce the features first, e.g. \
                 with VarianceThresholdSelector or FeatureHasher",
                p.input_col
            )));
        }
        if svd_memory_cost(k, n) >= i32::MAX as u128 {
            return Err(Error::param(
                stage,
                "k",
                format!(
                    "small enough for Spark's SVD workspace with {n} features \
                     (3k² + max(n, 4k² + 4k) < 2³¹ − 1); reduce k or the features"
                ),
                k,
            ));
        }
        let (_, parts) = crate::stat::input::read_parts(df, stage, &p.input_col, None, None)?;
        let rows = crate::stat::input::num_rows(&parts);
        if rows < 2 {
            return Err(Error::Usage(format!(
                "PCA: column `{}` has {rows} row(s); the covariance matrix needs at least two \
                 (Spark: Cannot compute the covariance of a RowMatrix with <= 1 row)",
                p.input_col
            )));
        }
        let cov = crate::stat::covariance(&parts, n, |partition, row, _, _| Error::InvalidValue {
            stage,
            column: p.input_col.clone(),
            partition,
            row,
            what: "a NaN or infinite value".into(),
            hint:
                "the covariance needs finite values; impute them first (Imputer) or drop such rows"
                    .into(),
        })?;
        let (pc, explained) = principal_components(&cov, n, k)?;
        Ok(PCAModel::new(self.uid.clone(), p.clone(), pc, explained))
    }
}

/// The top `k` left singular vectors (column-major `n × k`) of the symmetric `n × n`
/// row-major matrix `cov` and each one's singular value over the sum of all `n`, as Spark's
/// `RowMatrix.computePrincipalComponentsAndExplainedVariance` takes them from `dgesdd`
/// (JOBZ = 'A'), signs included (see [`crate::lapack`]).
fn principal_components(cov: &[f64], n: usize, k: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    // Breeze hands LAPACK the column-major data of the covariance matrix.
    let mut a = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            a[j * n + i] = cov[i * n + j];
        }
    }
    let (mut u, s) = crate::lapack::dgesdd_square(&a, n).map_err(|info| {
        Error::Internal(format!(
            "PCA: the SVD of the {n} x {n} covariance matrix did not converge (LAPACK dgesdd \
             INFO = {info}; Spark's Breeze svd fails on it likewise)"
        ))
    })?;
    // Scala's `s.data.sum`: a left fold in index order.
    let eigen_sum = s.iter().fold(0.0, |acc, v| acc + v);
    let explained = s[..k].iter().map(|v| v / eigen_sum).collect();
    u.truncate(n * k);
    Ok((u, explained))
}

/// A fitted [`PCA`]: the principal components and the variance each explains.
#[derive(Clone, Debug, PartialEq)]
pub struct PCAModel {
    uid: String,
    params: PCAParams,
    /// `n × k`, column-major (one component per column), as Spark's `DenseMatrix`.
    pc: Vec<f64>,
    explained_variance: Vec<f64>,
}

impl PCAModel {
    /// A model from its components (`n × k` column-major: component `c` is
    /// `pc[c * n..(c + 1) * n]`) and explained variance (`k` values); `k` is taken from
    /// `explained_variance`, or from `params.k` when that is empty (Spark ≤ 1.6 models).
    pub fn new(
        uid: impl Into<String>,
        mut params: PCAParams,
        pc: Vec<f64>,
        explained_variance: Vec<f64>,
    ) -> Self {
        if !explained_variance.is_empty() {
            params.k = Some(explained_variance.len());
        }
        Self {
            uid: uid.into(),
            params,
            pc,
            explained_variance,
        }
    }
    /// The params.
    pub fn params(&self) -> &PCAParams {
        &self.params
    }
    /// The principal components as Spark's matrix: `n` rows (features) × `k` columns
    /// (components).
    pub fn pc(&self) -> crate::persist::Matrix {
        let (n, k) = self.shape();
        let mut rows = vec![0.0; n * k];
        for c in 0..k {
            for i in 0..n {
                rows[i * k + c] = self.pc[c * n + i];
            }
        }
        crate::persist::Matrix {
            num_rows: n,
            num_cols: k,
            values: rows,
        }
    }
    /// Component `c` (`n` values), or `None` past the last.
    pub fn component(&self, c: usize) -> Option<&[f64]> {
        let (n, k) = self.shape();
        (c < k).then(|| &self.pc[c * n..(c + 1) * n])
    }
    /// The proportion of variance each component explains (`k` values).
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }
    /// `(n, k)`: features and components.
    fn shape(&self) -> (usize, usize) {
        let k = self.params.k();
        (self.pc.len().checked_div(k).unwrap_or(0), k)
    }
    fn check(&self) -> Result<(usize, usize)> {
        let (n, k) = self.shape();
        if k == 0 || n * k != self.pc.len() {
            return Err(Error::param(
                "PCAModel",
                "pc",
                format!("k = {k} columns of equal length"),
                format!("{} values", self.pc.len()),
            ));
        }
        Ok((n, k))
    }
    /// The batch and row transforms' function: `out[c] = Σᵢ pc[i, c] · x[i]`, summed in
    /// feature order.
    fn row_fn(&self) -> RowFn {
        let pc = self.pc.clone();
        let n = self.shape().0;
        Box::new(move |x: &[f64], out: &mut [f64]| {
            for (o, col) in out.iter_mut().zip(pc.chunks_exact(n.max(1))) {
                let mut s = 0.0;
                for (a, b) in col.iter().zip(x) {
                    s += a * b;
                }
                *o = s;
            }
        })
    }
}

/// [`PCAModel`]'s row map: [`PCAModel::row_fn`] per row, [`RowMatrix`] over blocks of
/// dense rows (when `k` is at most 32).
struct PcaKernel {
    row: RowFn,
    table: Option<RowMatrix>,
    n: usize,
    k: usize,
}

impl VectorMap for PcaKernel {
    #[inline]
    fn dense(&self, x: &[f64], out: &mut [f64]) {
        (self.row)(x, out)
    }
    const BLOCK: bool = true;
    fn dense_block(&self, x: &[f64], out: &mut [f64]) {
        match &self.table {
            Some(t) => t.apply(0.0, x, out),
            None => {
                let rows = out.chunks_exact_mut(self.k.max(1));
                for (o, x) in rows.zip(x.chunks_exact(self.n.max(1))) {
                    (self.row)(x, o);
                }
            }
        }
    }
}

impl Stage for PCAModel {
    fn kind(&self) -> &'static str {
        "PCAModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        let (n, _) = self.check()?;
        pca_schema(&self.params, input, Some(n), "PCAModel")
    }
}

impl Transformer for PCAModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out_schema = self.transform_schema(df.schema())?;
        let field = out_schema.field_with_name(&self.params.output_col)?.clone();
        let (n, k) = self.check()?;
        let kernel = PcaKernel {
            row: self.row_fn(),
            // Blocks of dense rows: every output of several rows in registers at once,
            // each summed in feature order from 0.0 as `row_fn` sums it (the same bits).
            table: RowMatrix::new(n, k, |i, c| self.pc[c * n + i]),
            n,
            k,
        };
        debug_assert_eq!(vector::field_vector_size(&field), Some(k));
        // Spark's PCAModel multiplies every row by the dense matrix: dense out.
        let layout = OutLayout::Dense;
        map_rows(
            "PCAModel",
            df,
            &self.params.input_col,
            n,
            field,
            layout,
            &kernel,
        )
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for PCAModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(PCA, "org.apache.spark.ml.feature.PCA");

impl crate::persist::SparkPersist for PCAModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.feature.PCAModel";
    fn write_spark(&self, dir: &std::path::Path) -> Result<()> {
        use crate::persist::{format, Vector};
        self.check()?;
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        // Spark's reader matches `Row(pc: DenseMatrix, explainedVariance: DenseVector)`:
        // both dense, whatever their zeros.
        let (pf, pa) = self.pc().field_and_array("pc")?;
        let (ef, ea) =
            Vector::Dense(self.explained_variance.clone()).field_and_array("explainedVariance")?;
        let batch = format::one_row(vec![(pf, pa), (ef, ea)])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("pc", format::matrix_udt_json(), true),
                ("explainedVariance", format::vector_udt_json(), true),
            ]),
        )
    }
    fn read_spark(dir: &std::path::Path, md: &crate::persist::Metadata) -> Result<Self> {
        use crate::persist::{format, Matrix};
        let d = format::read_data(dir)?;
        let m = Matrix::from_column(format::column(&d, "pc", dir)?, dir)?;
        // Spark ≤ 1.6 wrote no explainedVariance.
        let explained = match d.column_by_name("explainedVariance") {
            Some(_) => format::dense_vector(&d, "explainedVariance", dir)?,
            None => Vec::new(),
        };
        let mut params: PCAParams = md.params_as(dir)?;
        if !explained.is_empty() && explained.len() != m.num_cols {
            return Err(Error::file(
                dir.join("data"),
                format!(
                    "corrupt model data: pc has {} columns but explainedVariance {} values",
                    m.num_cols,
                    explained.len()
                ),
            ));
        }
        params.k = Some(m.num_cols);
        let (n, k) = (m.num_rows, m.num_cols);
        let mut pc = vec![0.0; n * k];
        for i in 0..n {
            for c in 0..k {
                pc[c * n + i] = m.values[i * k + c];
            }
        }
        Ok(Self::new(md.uid.clone(), params, pc, explained))
    }
}

// ---- Row form (crate::row) ----

impl crate::row::RowStage for PCAModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        let (n, k) = self.check()?;
        let input = plan.vec_input(&self.params.input_col)?;
        if input.len() != n {
            return Err(Error::FeatureCount {
                stage: "PCAModel",
                column: self.params.input_col.clone(),
                expected: n,
                found: input.len(),
            });
        }
        let out = plan.add_vec(&self.params.output_col, k);
        Ok(Some(Box::new(super::vector_stage::MapRow {
            stage: "PCAModel",
            input,
            out,
            f: self.row_fn(),
        })))
    }
}
