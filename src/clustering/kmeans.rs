//! [`KMeans`] and [`KMeansModel`]: Spark's k-means with k-means|| or random
//! initialisation, Euclidean or cosine distance, and instance weights.
//!
//! # What Spark computes in a Lloyd iteration, and what this module computes
//!
//! Spark 4.3's row solver (`mllib.clustering.KMeans.runAlgorithmWithWeight`) assigns each
//! point with `DistanceMeasure.findClosest(centers, statistics, point)`. For the Euclidean
//! measure (`EuclideanDistanceMeasure`, read from the bytecode of
//! `spark-mllib_2.13-4.3.0.jar`) that is:
//!
//! ```text
//! var bestDistance = fastSquaredDistance(centers(0), point)
//! if (bestDistance < statistics(0)) return (0, bestDistance)
//! var bestIndex = 0
//! var i = 1
//! while (i < k) {
//!   val center = centers(i)
//!   val normDiff = center.norm - point.norm
//!   val lowerBound = normDiff * normDiff
//!   if (lowerBound < bestDistance) {
//!     val index1 = indexUpperTriangular(k, i, bestIndex)
//!     if (statistics(index1) < bestDistance) {
//!       val d = fastSquaredDistance(center, point)
//!       val index2 = indexUpperTriangular(k, i, i)
//!       if (d < statistics(index2)) return (i, d)
//!       if (d < bestDistance) { bestDistance = d; bestIndex = i }
//!     }
//!   }
//!   i += 1
//! }
//! (bestIndex, bestDistance)
//! ```
//!
//! where `statistics` holds, for each pair of centres, a quarter of their squared distance
//! and, on the diagonal, each centre's smallest such value over the other centres
//! (`computeStatistics`, when `k < 1000`). These tests only skip centres that the triangle
//! inequality proves no closer, so in exact arithmetic the result is the first centre
//! with the strictly smallest distance. And `fastSquaredDistance` is
//! `MLUtils.fastSquaredDistance(v1, norm1, v2, norm2, precision = 1e-6)`:
//!
//! ```text
//! if (v1.isInstanceOf[DenseVector] && v2.isInstanceOf[DenseVector]) {
//!   sqDist = Vectors.sqdist(v1, v2)          // Σ (a_j − b_j)², sequential in j
//! } else {
//!   val sumSquaredNorm = norm1 * norm1 + norm2 * norm2
//!   val normDiff = norm1 - norm2
//!   val precisionBound1 = 2.0 * EPSILON * sumSquaredNorm / (normDiff * normDiff + EPSILON)
//!   if (precisionBound1 < precision) {
//!     sqDist = sumSquaredNorm - 2.0 * dot(v1, v2)
//!   } else {
//!     val dotValue = dot(v1, v2)
//!     sqDist = math.max(sumSquaredNorm - 2.0 * dotValue, 0.0)
//!     val precisionBound2 = EPSILON * (sumSquaredNorm + 2.0 * math.abs(dotValue)) /
//!       (sqDist + EPSILON)
//!     if (precisionBound2 > precision) sqDist = Vectors.sqdist(v1, v2)
//!   }
//! }
//! ```
//!
//! Spark's centres are dense, so for dense points every distance Spark computes is the
//! exact sequential `Vectors.sqdist`: the norm form `‖x‖² + ‖c‖² − 2x·c` is only taken for
//! sparse points. This module densifies its input and takes the first strict minimum of
//! that exact sequential sum over the centres: Spark's pruned result in exact arithmetic
//! (the pruning could only tell apart distances that agree to the last bits, at exact
//! ties of a point with the half-way bound between two centres). In the Lloyd passes, for
//! the Euclidean measure (with FMA instructions), it first screens with the norm form, `‖c‖²/2 − x·c`
//! by FMAs (eight rows against groups of eight centres held in registers, one FMA per
//! centre and feature): when no other centre comes within a proven bound on the rounding
//! of both forms, the screened winner is the exact scan's winner; otherwise (near ties,
//! exact ties) it computes the exact sums for that row. The exact sums (four rows
//! against the groups of centres, each sum in Spark's feature order, so bit-identical to
//! `Vectors.sqdist`) also serve the cosine measure, and the winner's exact sum gives the
//! cost. `CosineDistanceMeasure` prunes
//! the same way with `statistics` (no norm bound); its distance is
//! `1 − x·c / ‖x‖ / ‖c‖` with the sequential dot product, computed the same way here.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Int32Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Int32Type, Schema};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::error::{Error, Result};
use crate::frame::kernels::{class_sums, group_rows, multiversion, prefetch, ValueCheck};
use crate::frame::{schema, vector, DataFrame};
use crate::param::{check_at_least, shared_setters, Params};
use crate::persist::{format, Metadata, SparkPersist, Vector};
use crate::pipeline::{stage_params, Estimator, Model, Stage, Transformer};
use crate::random::{JavaRandom, JvmRandom, XorShiftRandom};

/// Spark's default seed: `"org.apache.spark.ml.clustering.KMeans".hashCode`.
pub const DEFAULT_SEED: i64 = -1689246527;

/// Params of [`KMeans`] and [`KMeansModel`]; JSON names and defaults are Spark's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct KMeansParams {
    /// Feature vector column. Default `"features"`.
    pub features_col: String,
    /// Output column of cluster indices (Int32). Default `"prediction"`.
    pub prediction_col: String,
    /// Number of clusters (> 1). Default 2. The model may have fewer centres when the data
    /// has fewer distinct points, as in Spark.
    pub k: usize,
    /// Maximum number of Lloyd iterations (>= 0). Default 20.
    pub max_iter: usize,
    /// Convergence tolerance on centre movement (>= 0). Default 1e-4.
    pub tol: f64,
    /// `"k-means||"` (default) or `"random"`.
    pub init_mode: String,
    /// Rounds of k-means|| sampling (> 0). Default 2.
    pub init_steps: usize,
    /// Random seed. Default Spark's `-1689246527`.
    pub seed: i64,
    /// `"euclidean"` (default) or `"cosine"`.
    pub distance_measure: String,
    /// Instance weight column; `None` gives every row weight 1. Default `None`.
    pub weight_col: Option<String>,
    /// Spark's `solver` (`"auto"`, `"row"`, `"block"`). mlpipe always runs the row
    /// algorithm, which is what `auto` picks for vector input; kept for file parity.
    pub solver: String,
    /// Spark's block size for the block solver; kept for file parity, no effect here.
    #[serde(rename = "maxBlockSizeInMB")]
    pub max_block_size_in_mb: f64,
    /// Spark 4's storage level of the cached data; kept for file parity, no effect here.
    pub intermediate_storage_level: String,
}

impl Default for KMeansParams {
    fn default() -> Self {
        Self {
            features_col: "features".into(),
            prediction_col: "prediction".into(),
            k: 2,
            max_iter: 20,
            tol: 1e-4,
            init_mode: "k-means||".into(),
            init_steps: 2,
            seed: DEFAULT_SEED,
            distance_measure: "euclidean".into(),
            weight_col: None,
            solver: "auto".into(),
            max_block_size_in_mb: 0.0,
            intermediate_storage_level: "MEMORY_AND_DISK".into(),
        }
    }
}

impl KMeansParams {
    /// The weight column, if one is set and non-empty.
    pub fn weight_col(&self) -> Option<&str> {
        self.weight_col.as_deref().filter(|s| !s.is_empty())
    }
    fn cosine(&self) -> bool {
        self.distance_measure == "cosine"
    }
}

impl Params for KMeansParams {
    const STAGE: &'static str = "KMeans";
    fn validate(&self) -> Result<()> {
        let s = Self::STAGE;
        if self.k < 2 {
            return Err(Error::param(s, "k", "> 1", self.k));
        }
        if self.init_steps < 1 {
            return Err(Error::param(s, "initSteps", "> 0", self.init_steps));
        }
        check_at_least(s, "tol", self.tol, 0.0)?;
        check_at_least(s, "maxBlockSizeInMB", self.max_block_size_in_mb, 0.0)?;
        let one_of = |name: &str, v: &str, ok: &[&str]| {
            if ok.contains(&v) {
                Ok(())
            } else {
                Err(Error::param(
                    s,
                    name,
                    format!("one of {ok:?}"),
                    format!("{v:?}"),
                ))
            }
        };
        one_of("initMode", &self.init_mode, &["random", "k-means||"])?;
        one_of(
            "distanceMeasure",
            &self.distance_measure,
            &["euclidean", "cosine"],
        )?;
        one_of("solver", &self.solver, &["auto", "row", "block"])?;
        if self.intermediate_storage_level.is_empty() || self.intermediate_storage_level == "NONE" {
            return Err(Error::param(
                s,
                "intermediateStorageLevel",
                "a storage level other than NONE",
                format!("{:?}", self.intermediate_storage_level),
            ));
        }
        for (name, v) in [
            ("featuresCol", &self.features_col),
            ("predictionCol", &self.prediction_col),
        ] {
            if v.is_empty() {
                return Err(Error::param(s, name, "a non-empty column name", "\"\""));
            }
        }
        Ok(())
    }
}

/// K-means clustering (Spark's `org.apache.spark.ml.clustering.KMeans`).
///
/// Initialisation is Spark's: k-means|| (`initSteps` rounds of sampling with Spark's
/// `XORShiftRandom` streams, then a weighted k-means++ on the candidates seeded with
/// `java.util.Random(0)`) or `random` (Spark's `takeSample`), so the same data in the same
/// partitions with the same seed gives Spark's centres. Each Lloyd iteration is one
/// parallel pass over the rows, merged in a fixed order; it stops after `maxIter`
/// iterations or when no centre moved more than `tol`. Instance weights enter the Lloyd
/// updates (not the initialisation, as in Spark).
///
/// When the data holds fewer than `k` distinct points the model has fewer centres, as in
/// Spark (a warning is logged).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::prelude::*;
/// use mlpipe::clustering::KMeans;
/// use mlpipe::feature::VectorAssembler;
/// let df = DataFrame::read_csv("data/quickstart.csv", &CsvOptions::default())?;
/// let df = VectorAssembler::new().with_input_cols(&["tenure", "f0"]).with_output_col("features").transform(&df)?;
/// let model = KMeans::new().with_k(3).with_seed(1).fit(&df)?;
/// assert_eq!(model.cluster_centers().len(), 3);
/// let out = model.transform(&df)?;
/// assert!(out.schema().field_with_name("prediction").is_ok());
/// assert_eq!(model.summary().unwrap().cluster_sizes.iter().sum::<u64>(), df.num_rows() as u64);
/// # Ok(()) }
/// ```
///
/// # Errors
/// [`Error::InvalidParam`] for a bad param; [`Error::ColumnNotFound`] /
/// [`Error::ColumnType`] for the features or weight column; [`Error::InvalidValue`] for a
/// null or non-finite feature, a bad weight, or a zero vector under the cosine distance;
/// [`Error::EmptyInput`] for no rows.
#[derive(Clone, Debug)]
pub struct KMeans {
    uid: String,
    params: KMeansParams,
}

impl Default for KMeans {
    fn default() -> Self {
        Self::new()
    }
}

impl KMeans {
    /// Spark's uid prefix.
    pub const UID_PREFIX: &'static str = "KMeans";

    /// A `KMeans` with Spark's defaults and a fresh uid.
    pub fn new() -> Self {
        Self::from_params(
            crate::param::random_uid(Self::UID_PREFIX),
            KMeansParams::default(),
        )
    }
    /// A `KMeans` with the given uid and params.
    pub fn from_params(uid: impl Into<String>, params: KMeansParams) -> Self {
        Self {
            uid: uid.into(),
            params,
        }
    }
    /// The params.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }
    shared_setters! {
        features_col: "features",
        prediction_col: "prediction",
        weight_col: "none (all weights 1)",
        max_iter: "20",
        tol: "1e-4",
    }
    /// Number of clusters; default 2.
    pub fn with_k(mut self, k: usize) -> Self {
        self.params.k = k;
        self
    }
    /// `"k-means||"` or `"random"`.
    pub fn with_init_mode(mut self, v: &str) -> Self {
        self.params.init_mode = v.into();
        self
    }
    /// k-means|| rounds; default 2.
    pub fn with_init_steps(mut self, v: usize) -> Self {
        self.params.init_steps = v;
        self
    }
    /// Random seed.
    pub fn with_seed(mut self, v: i64) -> Self {
        self.params.seed = v;
        self
    }
    /// `"euclidean"` or `"cosine"`.
    pub fn with_distance_measure(mut self, v: &str) -> Self {
        self.params.distance_measure = v.into();
        self
    }
}

fn kmeans_schema(
    p: &KMeansParams,
    input: &Schema,
    stage: &'static str,
    expected: Option<usize>,
    k: usize,
) -> Result<Schema> {
    p.validate()?;
    let (_, _, n) = schema::require_vector(input, stage, &p.features_col)?;
    if let Some(e) = expected {
        if e != n {
            return Err(Error::FeatureCount {
                stage,
                column: p.features_col.clone(),
                expected: e,
                found: n,
            });
        }
    }
    schema::append_field(input, stage, prediction_field(&p.prediction_col, k))
}

/// The Int32 cluster-index column, with Spark's nominal attribute (`num_vals` = centres).
fn prediction_field(name: &str, k: usize) -> Field {
    let attr = json!({"type": "nominal", "num_vals": k, "name": name});
    let mut f = Field::new(name, DataType::Int32, false);
    f.metadata_mut()
        .insert(String::from("ml_attr"), attr.to_string());
    f
}

impl Stage for KMeans {
    fn kind(&self) -> &'static str {
        "KMeans"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        // The fit reads the weights too (the model's transform does not).
        if let Some(w) = self.params.weight_col() {
            schema::require_numeric(input, "KMeans", w)?;
        }
        kmeans_schema(&self.params, input, "KMeans", None, self.params.k)
    }
}

/// Rows per parallel work unit inside a partition.
const BLOCK_ROWS: usize = 16384;

/// One partition's features (row-major), weights and row norms.
struct Part<'a> {
    x: &'a [f64],
    w: Option<&'a [f64]>,
    norms: Vec<f64>,
    rows: usize,
}

/// The training points: Spark's partitions, in order.
struct Points<'a> {
    n: usize,
    parts: Vec<Part<'a>>,
    /// (partition, first row, rows) work units in row order.
    blocks: Vec<(usize, usize, usize)>,
}

impl Points<'_> {
    fn row(&self, p: usize, r: usize) -> &[f64] {
        &self.parts[p].x[r * self.n..(r + 1) * self.n]
    }
    /// The closest centre of rows `r0..r0 + len` of partition `p`.
    fn assign(&self, centers: &Centers, p: usize, r0: usize, len: usize) -> Vec<usize> {
        let part = &self.parts[p];
        let mut best = vec![0; len];
        let mut dist = vec![0.0; len];
        assign_block(
            centers,
            &part.x[r0 * self.n..(r0 + len) * self.n],
            &part.norms[r0..r0 + len],
            &mut best,
            &mut dist,
        );
        best
    }
    fn total(&self) -> usize {
        self.parts.iter().map(|p| p.rows).sum()
    }
}

/// `Vectors.norm(v, 2)`: the square root of the sequential sum of squares.
fn norm2(v: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in v {
        s += x * x;
    }
    s.sqrt()
}

/// `Vectors.sqdist` for two dense vectors: the sequential sum of squared differences.
fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        let d = x - y;
        s += d * d;
    }
    s
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for (x, y) in a.iter().zip(b) {
        s += x * y;
    }
    s
}

/// Centres per group of the transposed layout: one AVX-512 register (two AVX2 ones).
const LANES: usize = 8;

/// Rows whose screening values [`Centers::screen_values`] computes together (one FMA per
/// value and feature, so more independent sums than [`TILE`] to keep the FMA units busy).
const SCREEN_TILE: usize = 8;

/// The screening's slack in units of `(n + 2)·ε·(‖x‖² + max‖c‖²)`, over three times its
/// proven rounding bound ([`Centers::unique_min`]).
const SCREEN_SLACK: f64 = 8.0;

/// Rows whose distances [`Centers::distances`] computes together: their sums are
/// independent, so the vector units work on `TILE` of them at once instead of waiting on
/// one row's chain of additions.
const TILE: usize = 4;

/// Cluster centres laid out for the assignment loop: transposed in groups of [`LANES`]
/// centres (feature-major inside a group) so that a tile of rows accumulates its
/// distances to a whole group side by side, each centre's sum in Spark's feature order
/// (bit-identical to `Vectors.sqdist`, or to the sequential dot product for cosine).
struct Centers {
    k: usize,
    n: usize,
    rows: Vec<Vec<f64>>,
    /// The centres' norms, padded to `kp` with the last centre's.
    norms: Vec<f64>,
    cosine: bool,
    /// The centres' values in `kp / LANES` groups of `LANES` centres, taken in pairs of
    /// groups (the last group alone when their number is odd): a block of `G` groups
    /// (`G` = 2 or 1) starting at group `g0` holds, from `g0·n·LANES`, feature `j` of its
    /// group `g`'s lane `l` at `(j·G + g)·LANES + l`; lanes past `k` repeat the last centre.
    t: Vec<f64>,
    /// `k` rounded up to a multiple of [`LANES`]: the distances a row gets.
    kp: usize,
    /// Whether [`tile_sums`] computes half of its subtractions as FMAs: when the kernels
    /// run a build with FMA instructions (the same bits either way).
    fma_sub: bool,
    /// −1.0, hidden from the optimiser (see [`tile_sums`]).
    m1: f64,
    /// Whether the Lloyd pass screens with the norm form ([`Centers::screen`]) before it
    /// falls back to the exact distances: Euclidean, FMA instructions, `kp` small enough
    /// for [`Centers::unique_min`]'s packed count.
    screen: bool,
    /// `‖c‖²/2` per lane (`kp` values; +∞ past `k`, so padding lanes never compete).
    half_sq: Vec<f64>,
    /// The rounding slack of the screening, `SCREEN_SLACK·(n + 2)·ε` times the largest
    /// `‖c‖²`, and the factor of `‖x‖²` ([`Centers::unique_min`]).
    slack_c: f64,
    slack_x: f64,
}

impl Centers {
    fn new(rows: Vec<Vec<f64>>, n: usize, cosine: bool) -> Self {
        let k = rows.len();
        let kp = k.div_ceil(LANES).max(1) * LANES;
        let last = k.saturating_sub(1);
        let groups = kp / LANES;
        let mut t = vec![0.0; n * kp];
        for g in 0..groups {
            // Groups go in pairs (the last one alone when their number is odd), each
            // pair's block feature-major: feature j of both groups side by side.
            let g0 = g - g % 2;
            let gs = if g0 + 2 <= groups { 2 } else { 1 };
            for j in 0..n {
                for l in 0..LANES {
                    t[(g0 * n + j * gs + (g - g0)) * LANES + l] =
                        rows[(g * LANES + l).min(last)][j];
                }
            }
        }
        let norms: Vec<f64> = (0..kp).map(|c| norm2(&rows[c.min(last)])).collect();
        let half_sq = (0..kp)
            .map(|c| {
                if c < k {
                    0.5 * rows[c].iter().fold(0.0, |a, v| a + v * v)
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        let cc_max = rows
            .iter()
            .map(|r| r.iter().fold(0.0, |a, v| a + v * v))
            .fold(0.0, f64::max);
        let slack_x = SCREEN_SLACK * (n + 2) as f64 * f64::EPSILON;
        let fma = crate::frame::kernels::has_fma();
        Self {
            k,
            n,
            rows,
            norms,
            cosine,
            t,
            kp,
            fma_sub: fma,
            m1: std::hint::black_box(-1.0),
            screen: !cosine && fma && kp <= 1 << 12,
            half_sq,
            slack_c: slack_x * cc_max,
            slack_x,
        }
    }

    /// Each row's screening value to every centre, `s = ‖c‖²/2 − x·c` (the dot product
    /// by FMAs, in any order: these only screen), into `s[r·kp + c]` for the rows of `x`;
    /// +∞ in the lanes past `k`. `‖x − c‖² = ‖x‖² + 2s`, so the closest centre has the
    /// smallest `s` up to rounding ([`Centers::unique_min`] bounds it).
    #[inline(always)]
    fn screen_values(&self, x: &[f64], s: &mut [f64]) {
        let (n, kp) = (self.n, self.kp);
        let rows = s.len() / kp;
        let mut r = 0;
        while r + SCREEN_TILE <= rows {
            self.screen_tile::<SCREEN_TILE>(
                &x[r * n..(r + SCREEN_TILE) * n],
                &mut s[r * kp..(r + SCREEN_TILE) * kp],
            );
            r += SCREEN_TILE;
        }
        while r < rows {
            self.screen_tile::<1>(&x[r * n..(r + 1) * n], &mut s[r * kp..(r + 1) * kp]);
            r += 1;
        }
    }

    /// [`Centers::screen_values`] for `T` rows, the groups two at a time.
    #[inline(always)]
    fn screen_tile<const T: usize>(&self, x: &[f64], s: &mut [f64]) {
        let groups = self.kp / LANES;
        let mut g = 0;
        while g + 2 <= groups {
            self.screen_group::<T, 2>(g, x, s);
            g += 2;
        }
        if g < groups {
            self.screen_group::<T, 1>(g, x, s);
        }
    }

    #[inline(always)]
    fn screen_group<const T: usize, const G: usize>(&self, g0: usize, x: &[f64], s: &mut [f64]) {
        let n = self.n;
        let t = &self.t[g0 * n * LANES..(g0 + G) * n * LANES];
        let mut init = [Lanes([0.0; LANES]); G];
        for (g, h) in init.iter_mut().enumerate() {
            h.0.copy_from_slice(&self.half_sq[(g0 + g) * LANES..(g0 + g + 1) * LANES]);
        }
        let acc = tile_screen::<T, G>(t, x, n, init);
        for (r, acc_r) in acc.iter().enumerate() {
            for (g, a) in acc_r.iter().enumerate() {
                let c0 = r * self.kp + (g0 + g) * LANES;
                s[c0..c0 + LANES].copy_from_slice(&a.0);
            }
        }
    }

    /// The centre with the smallest screening value `s` (`kp` values of
    /// [`Centers::screen_values`] for a row of norm `xnorm`) when no other centre comes
    /// within the rounding slack of it, so that Spark's exact `Vectors.sqdist` scan picks
    /// it too (strictly closer than every other centre); `None` when it might not (a near
    /// tie, or values too large to bound), and the caller computes the exact distances.
    ///
    /// The slack: `s` is `‖c‖²/2 − x·c` with an error of at most `1.5γ_{n+1}(‖x‖² + ‖c‖²)`,
    /// and Spark's `sqdist` (at most `2(‖x‖² + ‖c‖²)`) has a relative error of at most
    /// `γ_{n+2}`, where `γ_m = m·ε/2/(1 − m·ε/2)`; so `s_c − s_b > 2.5(n + 2)ε(‖x‖² +
    /// max‖c‖²)` proves `sqdist(x, c) > sqdist(x, b)`. The slack takes [`SCREEN_SLACK`]
    /// `= 8` for the 2.5. A NaN value (an overflow) counts as within the slack.
    #[inline(always)]
    fn unique_min(&self, s: &[f64], xnorm: f64) -> Option<usize> {
        let slack = self.slack_x * (xnorm * xnorm) + self.slack_c;
        // One or two groups unrolled (the lanes vectorise); more in a loop.
        match self.kp / LANES {
            1 => Self::unique_min_of(&s[..LANES], slack),
            2 => Self::unique_min_of(&s[..2 * LANES], slack),
            _ => Self::unique_min_of(s, slack),
        }
    }

    /// [`Centers::unique_min`] over the values `s` (whole groups of [`LANES`]) with the
    /// rounding slack `slack`.
    #[inline(always)]
    fn unique_min_of(s: &[f64], slack: f64) -> Option<usize> {
        let m = lanes_min(s);
        let thr = m + slack;
        if !thr.is_finite() {
            return None;
        }
        // Per lane, the count of values within the slack (high half) and the sum of
        // their indices (low half): one value within means its index.
        let mut found = [0u64; LANES];
        for (g, ch) in s.chunks_exact(LANES).enumerate() {
            for l in 0..LANES {
                let hit = (1u64 << 32) | (g * LANES + l) as u64;
                found[l] += if ch[l] > thr { 0 } else { hit };
            }
        }
        let f = (found[0] + found[4])
            + (found[2] + found[6])
            + ((found[1] + found[5]) + (found[3] + found[7]));
        (f >> 32 == 1).then_some((f & 0xffff_ffff) as usize)
    }

    /// Each row's distance to every centre: `dist[r·kp + c]` for the `xnorms.len()` rows
    /// of `x` (row-major, norms `xnorms`); lanes past `k` repeat the last centre's.
    #[inline(always)]
    fn distances(&self, x: &[f64], xnorms: &[f64], dist: &mut [f64]) {
        let (n, kp) = (self.n, self.kp);
        let rows = xnorms.len();
        let mut r = 0;
        while r + TILE <= rows {
            self.tile::<TILE>(
                &x[r * n..(r + TILE) * n],
                &xnorms[r..r + TILE],
                &mut dist[r * kp..(r + TILE) * kp],
            );
            r += TILE;
        }
        while r < rows {
            self.tile::<1>(
                &x[r * n..(r + 1) * n],
                &xnorms[r..r + 1],
                &mut dist[r * kp..(r + 1) * kp],
            );
            r += 1;
        }
    }

    /// [`Centers::distances`] for `T` rows: the groups two at a time (`T × 16` sums in
    /// registers), then a last single group.
    #[inline(always)]
    fn tile<const T: usize>(&self, x: &[f64], xnorms: &[f64], dist: &mut [f64]) {
        let groups = self.kp / LANES;
        let mut g = 0;
        while g + 2 <= groups {
            self.group_tile::<T, 2>(g, x, xnorms, dist);
            g += 2;
        }
        if g < groups {
            self.group_tile::<T, 1>(g, x, xnorms, dist);
        }
    }

    /// The distances of `T` rows to the `G` groups from group `g0`, into their lanes of
    /// `dist` (`T` rows of `kp`). Per feature, in order: each row's value against the
    /// group's centres, `acc += (x − c)²` (or `acc += x·c` for cosine, then
    /// `1 − acc/‖x‖/‖c‖`), exactly as Spark's sequential loops.
    #[inline(always)]
    fn group_tile<const T: usize, const G: usize>(
        &self,
        g0: usize,
        x: &[f64],
        xnorms: &[f64],
        dist: &mut [f64],
    ) {
        let n = self.n;
        let t = &self.t[g0 * n * LANES..(g0 + G) * n * LANES];
        let acc = if self.cosine {
            tile_sums::<T, G, true, false>(t, x, n, 0.0)
        } else if self.fma_sub {
            tile_sums::<T, G, false, true>(t, x, n, self.m1)
        } else {
            tile_sums::<T, G, false, false>(t, x, n, 0.0)
        };
        for (r, acc_r) in acc.iter().enumerate() {
            for (g, a) in acc_r.iter().enumerate() {
                let c0 = (g0 + g) * LANES;
                let out = &mut dist[r * self.kp + c0..r * self.kp + c0 + LANES];
                if self.cosine {
                    let cn = &self.norms[c0..c0 + LANES];
                    for ((o, s), cn) in out.iter_mut().zip(&a.0).zip(cn) {
                        *o = 1.0 - s / xnorms[r] / cn;
                    }
                } else {
                    out.copy_from_slice(&a.0);
                }
            }
        }
    }

    /// Spark's `findClosest` over one row's distances (`kp` values from
    /// [`Centers::distances`]): the first centre with the smallest distance (a strict `<`
    /// scan, so NaN never wins and ties go to the lower index) and that distance;
    /// `(0, +∞)` when no distance is below +∞. Lane-wise, without a data-dependent
    /// branch: the smallest value first, then the lowest index holding it.
    #[inline(always)]
    fn argmin(&self, d: &[f64]) -> (usize, f64) {
        let m = lanes_min(d);
        if m.is_nan() || m == f64::INFINITY {
            return (0, f64::INFINITY);
        }
        // Per lane, the lowest index holding `m`; then the lowest over the lanes.
        let mut first = [u64::MAX; LANES];
        for (g, ch) in d.chunks_exact(LANES).enumerate() {
            for l in 0..LANES {
                let i = if ch[l] == m {
                    (g * LANES + l) as u64
                } else {
                    u64::MAX
                };
                first[l] = first[l].min(i);
            }
        }
        let f = first[0]
            .min(first[4])
            .min(first[2].min(first[6]))
            .min(first[1].min(first[5]).min(first[3].min(first[7])));
        // Lanes past `k` repeat centre k − 1, so the first match is below k.
        (f as usize, m)
    }

    /// Rows per call of [`Centers::closest_rows`].
    fn step(&self) -> usize {
        if self.screen {
            SCREEN_TILE
        } else {
            TILE
        }
    }

    /// The closest centre of each row of `x` (norms `xnorms`, at most
    /// [`Centers::step`] rows), Spark's `findClosest`: `emit(r, centre, distance)` in row
    /// order. With screening ([`Centers::screen`]) the norm form decides unless two centres
    /// come within its rounding slack, where the exact distances do; the distance is then
    /// the winner's exact `Vectors.sqdist` when `with_dist`, else 0. `scratch` holds
    /// `step·kp` values, `exact` `kp`.
    #[inline(always)]
    fn closest_rows(
        &self,
        x: &[f64],
        xnorms: &[f64],
        with_dist: bool,
        scratch: &mut [f64],
        exact: &mut [f64],
        mut emit: impl FnMut(usize, usize, f64),
    ) {
        let (n, kp) = (self.n, self.kp);
        let s = &mut scratch[..xnorms.len() * kp];
        if self.screen {
            self.screen_values(x, s);
            for (r, sr) in s.chunks_exact(kp).enumerate() {
                let row = &x[r * n..(r + 1) * n];
                let (b, d) = match self.unique_min(sr, xnorms[r]) {
                    Some(b) if with_dist => (b, sqdist(row, &self.rows[b])),
                    Some(b) => (b, 0.0),
                    None => self.closest(row, xnorms[r], exact),
                };
                emit(r, b, d);
            }
        } else {
            self.distances(x, xnorms, s);
            for (r, d) in s.chunks_exact(kp).enumerate() {
                let (b, d) = self.argmin(d);
                emit(r, b, d);
            }
        }
    }

    /// The closest centre to one row and its distance (`dist`: `kp` values of scratch).
    fn closest(&self, x: &[f64], xnorm: f64, dist: &mut [f64]) -> (usize, f64) {
        self.distances(x, &[xnorm], dist);
        self.argmin(dist)
    }

    /// The distance of Spark's distance measure between two centres or points.
    fn distance(&self, a: &[f64], b: &[f64]) -> f64 {
        if self.cosine {
            1.0 - dot(a, b) / norm2(a) / norm2(b)
        } else {
            sqdist(a, b)
        }
    }
}

/// One lane group's running sums for one row.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Lanes([f64; LANES]);

/// The per-lane sums of `T` rows (`x`, row-major, `n` values each) against a block of `G`
/// lane groups of the transposed centres `t` (`n × G × LANES`, feature-major): per feature
/// in order, `acc += (x − c)²`, or `acc += x·c` when `COS`.
///
/// With `FMA`, the first group of a pair computes `x − c` as `fma(c, m1, x)` with `m1 = −1`: the
/// product `−c` is exact, so that is `x − c` rounded once, the same bits as the
/// subtraction, but it runs on the FMA units instead of the adders, which the `+=` (and
/// the other subtractions) keep busy. (`m1` comes in opaque, so that the compiler cannot
/// turn the FMA back into a subtraction.)
#[inline(always)]
fn tile_sums<const T: usize, const G: usize, const COS: bool, const FMA: bool>(
    t: &[f64],
    x: &[f64],
    n: usize,
    m1: f64,
) -> [[Lanes; G]; T] {
    let mut acc = [[Lanes([0.0; LANES]); G]; T];
    let mut xs: [&[f64]; T] = [&[]; T];
    for (r, xr) in xs.iter_mut().enumerate() {
        *xr = &x[r * n..][..n];
    }
    for (j, tj) in (0..n).zip(t.chunks_exact(G * LANES)) {
        let cols: [Lanes; G] = std::array::from_fn(|g| {
            let mut c = [0.0; LANES];
            c.copy_from_slice(&tj[g * LANES..(g + 1) * LANES]);
            Lanes(c)
        });
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let xj = xs[r][j];
            for (g, (a, c)) in acc_r.iter_mut().zip(&cols).enumerate() {
                for l in 0..LANES {
                    if COS {
                        a.0[l] += xj * c.0[l];
                    } else {
                        // The first group of a pair (half the subtractions). A lone
                        // group keeps plain subtractions: moving half of its rows' ones
                        // (the other pattern the compiler keeps vectorised) measured
                        // slower, 0.66 against 0.50 ms per 100k rows for k = 8.
                        let fma = G >= 2 && g % 2 == 0;
                        let d = if FMA && fma {
                            c.0[l].mul_add(m1, xj)
                        } else {
                            xj - c.0[l]
                        };
                        a.0[l] += d * d;
                    }
                }
            }
        }
    }
    acc
}

/// The screening values of `T` rows against a block of `G` lane groups of the transposed
/// centres `t` (as in [`tile_sums`]): from `init` (`‖c‖²/2`), per feature,
/// `acc = fma(−x, c, acc)`.
#[inline(always)]
fn tile_screen<const T: usize, const G: usize>(
    t: &[f64],
    x: &[f64],
    n: usize,
    init: [Lanes; G],
) -> [[Lanes; G]; T] {
    let mut acc = [init; T];
    let mut xs: [&[f64]; T] = [&[]; T];
    for (r, xr) in xs.iter_mut().enumerate() {
        *xr = &x[r * n..][..n];
    }
    for (j, tj) in (0..n).zip(t.chunks_exact(G * LANES)) {
        let mut cols = [Lanes([0.0; LANES]); G];
        for (g, c) in cols.iter_mut().enumerate() {
            c.0.copy_from_slice(&tj[g * LANES..(g + 1) * LANES]);
        }
        for (acc_r, xr) in acc.iter_mut().zip(&xs) {
            let xj = -xr[j];
            for (a, c) in acc_r.iter_mut().zip(&cols) {
                for l in 0..LANES {
                    a.0[l] = xj.mul_add(c.0[l], a.0[l]);
                }
            }
        }
    }
    acc
}

/// Spark's `BernoulliSampler` for one partition (fraction in (0, 1)): gap sampling for
/// fractions up to 0.4, one `nextDouble() <= f` per row above.
fn bernoulli_rows(rows: usize, f: f64, seed: i64, out: &mut Vec<usize>) {
    if f <= 0.0 {
        return;
    }
    if f >= 1.0 {
        out.extend(0..rows);
        return;
    }
    let mut rng = XorShiftRandom::new(seed);
    if f <= 0.4 {
        if rows == 0 {
            return;
        }
        let lnq = (-f).ln_1p();
        let advance = |rng: &mut XorShiftRandom| -> i32 {
            let u = rng.next_double().max(5e-11);
            (u.ln() / lnq) as i32
        };
        let mut skip = advance(&mut rng);
        for r in 0..rows {
            if skip > 0 {
                skip -= 1;
            } else {
                skip = advance(&mut rng);
                out.push(r);
            }
        }
    } else {
        for r in 0..rows {
            if rng.next_double() <= f {
                out.push(r);
            }
        }
    }
}

/// Spark's `RDD.takeSample(withReplacement = false, num, seed)` over the points'
/// partitions: `(partition, row)` pairs.
fn take_sample(points: &Points, num: usize, seed: i64) -> Vec<(usize, usize)> {
    let total = points.total();
    if num == 0 || total == 0 {
        return Vec::new();
    }
    let mut rand = JavaRandom::new(seed);
    let all = || -> Vec<(usize, usize)> {
        points
            .parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| (0..part.rows).map(move |r| (p, r)))
            .collect()
    };
    let mut samples = if num >= total {
        all()
    } else {
        let q = num as f64 / total as f64;
        let gamma = -(1e-4f64).ln() / total as f64;
        let f = (q + gamma + (gamma * gamma + 2.0 * gamma * q).sqrt()).clamp(1e-10, 1.0);
        loop {
            let s = rand.next_int() as i64;
            // `PartitionwiseSampledRDD`: partition p's sampler seed is the (p+1)-th
            // `nextLong` of `java.util.Random(s)`.
            let mut seeds = JavaRandom::new(s);
            let mut got = Vec::new();
            for (p, part) in points.parts.iter().enumerate() {
                let mut rows = Vec::new();
                bernoulli_rows(part.rows, f, seeds.next_long(), &mut rows);
                got.extend(rows.into_iter().map(|r| (p, r)));
            }
            if got.len() >= num {
                break got;
            }
        }
    };
    // `Utils.randomizeInPlace`: Fisher–Yates from the end.
    for i in (1..samples.len()).rev() {
        let j = rand.next_int_bounded((i + 1) as i32) as usize;
        samples.swap(i, j);
    }
    samples.truncate(num);
    samples
}

/// Keeps the first occurrence of each vector, comparing values bitwise (Spark's dense
/// vector equality: `-0.0 != 0.0`).
fn distinct(v: Vec<Vec<f64>>) -> Vec<Vec<f64>> {
    let mut seen = std::collections::HashSet::new();
    v.into_iter()
        .filter(|c| seen.insert(c.iter().map(|x| x.to_bits()).collect::<Vec<u64>>()))
        .collect()
}

/// Spark's `LocalKMeans.kMeansPlusPlus`: weighted k-means++ then up to `max_iter` Lloyd
/// rounds on the candidates, always Euclidean, with `java.util.Random(seed)`.
fn local_kmeans_pp(
    points: &[Vec<f64>],
    weights: &[f64],
    k: usize,
    max_iter: usize,
    seed: i64,
) -> Vec<Vec<f64>> {
    let mut rand = JavaRandom::new(seed);
    let n = points[0].len();
    let wsum: f64 = weights.iter().fold(0.0, |a, b| a + b);
    let r = rand.next_double() * wsum;
    let (mut i, mut cur) = (0, 0.0);
    while i < points.len() && cur < r {
        cur += weights[i];
        i += 1;
    }
    let mut centers = vec![points[i.saturating_sub(1)].clone()];
    let mut cost: Vec<f64> = points.iter().map(|p| sqdist(p, &centers[0])).collect();
    for _ in 1..k {
        let sum = cost
            .iter()
            .zip(weights)
            .map(|(c, w)| c * w)
            .fold(0.0, |a, b| a + b);
        let r = rand.next_double() * sum;
        let (mut j, mut cum) = (0, 0.0);
        while j < points.len() && cum < r {
            cum += weights[j] * cost[j];
            j += 1;
        }
        let c = if j == 0 {
            tracing::warn!("kMeansPlusPlus initialization ran out of distinct points for centers; using duplicate point for center k");
            points[0].clone()
        } else {
            points[j - 1].clone()
        };
        for (p, cp) in points.iter().zip(cost.iter_mut()) {
            *cp = sqdist(p, &c).min(*cp);
        }
        centers.push(c);
    }
    let mut old = vec![usize::MAX; points.len()];
    let mut moved = true;
    let mut it = 0;
    while moved && it < max_iter {
        moved = false;
        let mut counts = vec![0.0; k];
        let mut sums = vec![vec![0.0; n]; k];
        for (i, p) in points.iter().enumerate() {
            let mut best = 0;
            let mut bd = f64::INFINITY;
            for (c, ctr) in centers.iter().enumerate() {
                let d = sqdist(p, ctr);
                if d < bd {
                    bd = d;
                    best = c;
                }
            }
            for (s, x) in sums[best].iter_mut().zip(p) {
                *s += weights[i] * x;
            }
            counts[best] += weights[i];
            if best != old[i] {
                moved = true;
                old[i] = best;
            }
        }
        for j in 0..k {
            if counts[j] == 0.0 {
                centers[j] = points[rand.next_int_bounded(points.len() as i32) as usize].clone();
            } else {
                let s = 1.0 / counts[j];
                centers[j] = sums[j].iter().map(|v| v * s).collect();
            }
        }
        it += 1;
    }
    centers
}

/// Rows per sub-block of [`lloyd_block`]: assigned a tile at a time, then summed per
/// cluster, read from cache (160 KB of 20 features: L2) the second time; large enough that
/// each of up to 16 clusters gets tens of rows per [`class_sums`] call.
const SUB_ROWS: usize = 1024;

/// How many tiles ahead [`lloyd_block`] and [`assign_block`] ask for the rows they will
/// read (the hardware prefetcher alone left the Lloyd pass at 1.95× one memory read for
/// k = 8, against 1.5× with this).
const PREFETCH_TILES: usize = 4;

multiversion! {
    /// One Lloyd block: each row's closest centre ([`Centers::closest_rows`] a tile at a
    /// time) and, `with_cost`, `cost += d·w` in row order; then, per cluster, `sum_best += a·x` (`a = w`,
    /// or `w/‖x‖` for cosine) and `wsum_best += w` over its rows in row order: the plain
    /// row loop's sums to the bit, with each cluster's sums in registers
    /// ([`class_sums`] over the rows of a sub-block grouped by cluster).
    fn lloyd_block(centers: &Centers, x: &[f64], norms: &[f64], w: Option<&[f64]>, with_cost: bool, out: &mut Pass) {
        let (n, kp, k) = (centers.n, centers.kp, centers.k);
        let rows = norms.len();
        let sub = SUB_ROWS.min(rows);
        let step = centers.step();
        let mut dist = vec![0.0; step * kp];
        let mut exact = vec![0.0; kp];
        let mut best = vec![0u32; sub];
        let scaled = w.is_some() || centers.cosine;
        let mut scale = vec![0.0; if scaled { sub } else { 0 }];
        let mut order = vec![0u32; sub];
        let mut start = vec![0usize; k + 1];
        let mut next = vec![0usize; k];
        let mut cost = out.cost;
        for s0 in (0..rows).step_by(SUB_ROWS) {
            let m = SUB_ROWS.min(rows - s0);
            let xs = &x[s0 * n..(s0 + m) * n];
            let ns = &norms[s0..s0 + m];
            let ws = w.map(|w| &w[s0..s0 + m]);
            for t0 in (0..m).step_by(step) {
                let len = step.min(m - t0);
                let xt = &xs[t0 * n..(t0 + len) * n];
                let ahead = ((s0 + t0 + PREFETCH_TILES * step) * n).min(x.len());
                prefetch(&x[ahead..(ahead + step * n).min(x.len())]);
                let best = &mut best[t0..t0 + len];
                centers.closest_rows(xt, &ns[t0..t0 + len], with_cost, &mut dist, &mut exact, |i, b, d| {
                    if with_cost {
                        cost += d * ws.map_or(1.0, |w| w[t0 + i]);
                    }
                    best[i] = b as u32;
                });
            }
            if scaled {
                for (r, a) in scale[..m].iter_mut().enumerate() {
                    let wr = ws.map_or(1.0, |w| w[r]);
                    *a = if centers.cosine { wr / ns[r] } else { wr };
                }
            }
            group_rows(&best[..m], k, &mut order, &mut start, &mut next);
            for c in 0..k {
                let rs = &order[start[c]..start[c + 1]];
                if rs.is_empty() {
                    continue;
                }
                match ws {
                    Some(ws) => {
                        for &r in rs {
                            out.wsum[c] += ws[r as usize];
                        }
                    }
                    // Σ1 over the rows: an exact count, whatever the order.
                    None => out.wsum[c] += rs.len() as f64,
                }
                class_sums(
                    xs,
                    n,
                    rs,
                    scaled.then(|| &scale[..m]),
                    ValueCheck::None,
                    false,
                    &mut out.sums[c * n..(c + 1) * n],
                    &mut [],
                );
            }
        }
        out.cost = cost;
    }
}

multiversion! {
    /// Each row's closest centre and its distance, for a block of rows.
    fn assign_block(centers: &Centers, x: &[f64], norms: &[f64], best: &mut [usize], dist: &mut [f64]) {
        let (n, kp) = (centers.n, centers.kp);
        let mut all = vec![0.0; TILE * kp];
        for t0 in (0..norms.len()).step_by(TILE) {
            let len = TILE.min(norms.len() - t0);
            let ahead = ((t0 + PREFETCH_TILES * TILE) * n).min(x.len());
            prefetch(&x[ahead..(ahead + TILE * n).min(x.len())]);
            let all = &mut all[..len * kp];
            centers.distances(&x[t0 * n..(t0 + len) * n], &norms[t0..t0 + len], all);
            for (i, d) in all.chunks_exact(kp).enumerate() {
                (best[t0 + i], dist[t0 + i]) = centers.argmin(d);
            }
        }
    }
}

/// One Lloyd pass's merged statistics.
struct Pass {
    sums: Vec<f64>,
    wsum: Vec<f64>,
    cost: f64,
}

impl KMeans {
    fn init_random(&self, points: &Points) -> Vec<Vec<f64>> {
        let s = XorShiftRandom::new(self.params.seed).next_int() as i64;
        let rows = take_sample(points, self.params.k, s)
            .into_iter()
            .map(|(p, r)| points.row(p, r).to_vec())
            .collect();
        distinct(rows)
    }

    /// Spark's `initKMeansParallel`.
    fn init_parallel(&self, points: &Points, cosine: bool) -> Vec<Vec<f64>> {
        let k = self.params.k;
        let s = XorShiftRandom::new(self.params.seed).next_int();
        let first = take_sample(points, 1, s as i64);
        if first.is_empty() {
            return Vec::new();
        }
        let mut candidates: Vec<Vec<f64>> = first
            .iter()
            .map(|&(p, r)| points.row(p, r).to_vec())
            .collect();
        let mut new_centers = candidates.clone();
        let mut costs: Vec<Vec<f64>> = points
            .parts
            .iter()
            .map(|p| vec![f64::INFINITY; p.rows])
            .collect();
        for step in 0..self.params.init_steps {
            let nc = (!new_centers.is_empty())
                .then(|| Centers::new(new_centers.clone(), points.n, cosine));
            // costs_i = min(costs_i, d(newCenters, x_i)), one parallel pass.
            let parts: Vec<f64> = costs
                .par_iter_mut()
                .enumerate()
                .map(|(p, cs)| {
                    if let Some(nc) = &nc {
                        let part = &points.parts[p];
                        let mut best = vec![0; part.rows];
                        let mut dist = vec![0.0; part.rows];
                        assign_block(nc, part.x, &part.norms, &mut best, &mut dist);
                        for (c, d) in cs.iter_mut().zip(dist) {
                            *c = c.min(d);
                        }
                    }
                    cs.iter().fold(0.0, |sum, c| sum + c)
                })
                .collect();
            let sum_costs = parts.iter().fold(0.0, |a, b| a + b);
            new_centers = Vec::new();
            for (p, cs) in costs.iter().enumerate() {
                let seed = s ^ ((step as i32) << 16) ^ (p as i32);
                let mut rng = XorShiftRandom::new(seed as i64);
                for (r, &c) in cs.iter().enumerate() {
                    if rng.next_double() < 2.0 * c * k as f64 / sum_costs {
                        new_centers.push(points.row(p, r).to_vec());
                    }
                }
            }
            candidates.extend(new_centers.iter().cloned());
        }
        let candidates = distinct(candidates);
        if candidates.len() <= k {
            return candidates;
        }
        // Weight each candidate by how many points it is closest to (unweighted).
        let cc = Centers::new(candidates.clone(), points.n, cosine);
        let counts: Vec<Vec<f64>> = points
            .blocks
            .par_iter()
            .map(|&(p, r0, len)| {
                let mut cnt = vec![0.0; cc.k];
                for b in points.assign(&cc, p, r0, len) {
                    cnt[b] += 1.0;
                }
                cnt
            })
            .collect();
        let mut weights = vec![0.0; cc.k];
        for c in &counts {
            for (w, x) in weights.iter_mut().zip(c) {
                *w += x;
            }
        }
        local_kmeans_pp(&candidates, &weights, k, 30, 0)
    }

    /// One Lloyd pass: assign, sum and cost per block in parallel, merged in block order.
    /// Without `with_cost` the cost may be left at 0 (a pass that is not the last).
    fn lloyd_pass(&self, points: &Points, centers: &Centers, with_cost: bool) -> Pass {
        let n = points.n;
        let k = centers.k;
        let parts: Vec<Pass> = points
            .blocks
            .par_iter()
            .map(|&(p, r0, len)| {
                let part = &points.parts[p];
                let mut out = Pass {
                    sums: vec![0.0; k * n],
                    wsum: vec![0.0; k],
                    cost: 0.0,
                };
                lloyd_block(
                    centers,
                    &part.x[r0 * n..(r0 + len) * n],
                    &part.norms[r0..r0 + len],
                    part.w.map(|w| &w[r0..r0 + len]),
                    with_cost,
                    &mut out,
                );
                out
            })
            .collect();
        let mut total = Pass {
            sums: vec![0.0; k * n],
            wsum: vec![0.0; k],
            cost: 0.0,
        };
        for b in &parts {
            total.cost += b.cost;
            for c in 0..k {
                if b.wsum[c] > 0.0 {
                    for (s, v) in total.sums[c * n..(c + 1) * n]
                        .iter_mut()
                        .zip(&b.sums[c * n..(c + 1) * n])
                    {
                        *s += v;
                    }
                    total.wsum[c] += b.wsum[c];
                }
            }
        }
        total
    }

    /// Reads and checks the features (and weights) of every partition.
    fn read_points<'a>(
        &self,
        feats: &'a [ArrayRef],
        weights: &'a Option<Vec<arrow::buffer::ScalarBuffer<f64>>>,
        n: usize,
    ) -> Result<Points<'a>> {
        let stage = KMeansParams::STAGE;
        let col = &self.params.features_col;
        let cosine = self.params.cosine();
        let parts = feats
            .par_iter()
            .enumerate()
            .map(|(pi, a)| {
                let arr = vector::as_vector(a.as_ref())?;
                let x = vector::dense_values(arr)?;
                let bad = |r: usize, what: String, hint: &str| Error::InvalidValue {
                    stage,
                    column: col.clone(),
                    partition: pi,
                    row: r,
                    what,
                    hint: hint.into(),
                };
                let mut norms = Vec::with_capacity(arr.len());
                for r in 0..arr.len() {
                    if arr.is_null(r) {
                        return Err(bad(
                            r,
                            "null vector".into(),
                            "Vectors MUST NOT be Null; drop such rows first",
                        ));
                    }
                    let row = &x[r * n..(r + 1) * n];
                    let nv = norm2(row);
                    if !nv.is_finite() {
                        return Err(bad(
                            r,
                            format!("vector {row:?}"),
                            "Vector values MUST NOT be NaN or Infinity",
                        ));
                    }
                    if cosine && nv == 0.0 {
                        return Err(bad(
                            r,
                            "zero vector".into(),
                            "Cosine distance is not defined for zero-length vectors; drop such rows or use distanceMeasure=euclidean",
                        ));
                    }
                    norms.push(nv);
                }
                Ok(Part {
                    x,
                    w: weights.as_ref().map(|w| &w[pi][..]),
                    norms,
                    rows: arr.len(),
                })
            })
            .collect::<Vec<_>>();
        let parts = crate::frame::in_order(parts)?;
        let mut blocks = Vec::new();
        for (p, part) in parts.iter().enumerate() {
            let mut r = 0;
            while r < part.rows {
                let len = BLOCK_ROWS.min(part.rows - r);
                blocks.push((p, r, len));
                r += len;
            }
        }
        Ok(Points { n, parts, blocks })
    }
}

impl Estimator for KMeans {
    type Model = KMeansModel;

    fn fit(&self, df: &DataFrame) -> Result<KMeansModel> {
        let stage = KMeansParams::STAGE;
        self.transform_schema(df.schema())?;
        let p = &self.params;
        let (_, _, n) = schema::require_vector(df.schema(), stage, &p.features_col)?;
        let weights = crate::evaluation::weight_values(df, stage, p.weight_col())?;
        // Distances are dense work: a sparse column is densified per partition.
        let feats = vector::dense_chunks(df, stage, &p.features_col, n)?;
        let points = self.read_points(&feats, &weights, n)?;
        let cosine = p.cosine();

        let init = if p.init_mode == "random" {
            self.init_random(&points)
        } else {
            self.init_parallel(&points, cosine)
        };
        if init.is_empty() {
            return Err(Error::EmptyInput {
                stage,
                hint: "KMeans needs at least one row to sample its initial centres from".into(),
            });
        }
        if init.len() < p.k {
            tracing::warn!(
                "KMeans: the data has only {} distinct points, fewer than k = {}; the model has {} centres",
                init.len(),
                p.k,
                init.len()
            );
        }
        let mut centers = Centers::new(init, n, cosine);
        let mut iteration = 0;
        let mut converged = false;
        let mut cost = 0.0;
        while iteration < p.max_iter && !converged {
            // Only the last pass's cost is reported: a pass that turns out to be the last
            // by convergence is measured again below, with its cost.
            let last = iteration + 1 == p.max_iter;
            let pass = self.lloyd_pass(&points, &centers, last);
            converged = true;
            let mut rows = centers.rows.clone();
            for (j, row) in rows.iter_mut().enumerate() {
                let ws = pass.wsum[j];
                if ws <= 0.0 {
                    continue; // a cluster that received no points keeps its centre
                }
                let s = 1.0 / ws;
                let mut c: Vec<f64> = pass.sums[j * n..(j + 1) * n]
                    .iter()
                    .map(|v| v * s)
                    .collect();
                if cosine {
                    let inv = 1.0 / norm2(&c);
                    c.iter_mut().for_each(|v| *v *= inv);
                }
                if converged {
                    let moved = centers.distance(row, &c);
                    let ok = if cosine {
                        moved <= p.tol
                    } else {
                        moved <= p.tol * p.tol
                    };
                    converged = ok;
                }
                *row = c;
            }
            cost = if converged && !last {
                self.lloyd_pass(&points, &centers, true).cost
            } else {
                pass.cost
            };
            centers = Centers::new(rows, n, cosine);
            iteration += 1;
            tracing::debug!(iteration, cost, "KMeans Lloyd iteration");
        }
        // Summary: cluster sizes under the final centres (row counts, as Spark's groupBy).
        let sizes: Vec<Vec<u64>> = points
            .blocks
            .par_iter()
            .map(|&(pp, r0, len)| {
                let mut cnt = vec![0u64; p.k.max(centers.k)];
                for b in points.assign(&centers, pp, r0, len) {
                    cnt[b] += 1;
                }
                cnt
            })
            .collect();
        let mut cluster_sizes = vec![0u64; p.k.max(centers.k)];
        for s in &sizes {
            for (a, b) in cluster_sizes.iter_mut().zip(s) {
                *a += b;
            }
        }
        let mut model = KMeansModel::new(self.uid.clone(), self.params.clone(), centers.rows);
        model.summary = Some(KMeansSummary {
            k: p.k,
            num_iter: iteration,
            training_cost: cost,
            cluster_sizes,
        });
        Ok(model)
    }
}

/// What Spark's `KMeansSummary` holds besides the predictions.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansSummary {
    /// The `k` param (the model may have fewer centres).
    pub k: usize,
    /// Lloyd iterations run.
    pub num_iter: usize,
    /// Spark's `trainingCost`: the weighted sum of distances measured in the last
    /// iteration, against the centres before that iteration's update.
    pub training_cost: f64,
    /// Rows per cluster under the final centres (`k` entries).
    pub cluster_sizes: Vec<u64>,
}

/// A fitted [`KMeans`]: the cluster centres.
#[derive(Clone, Debug)]
pub struct KMeansModel {
    uid: String,
    params: KMeansParams,
    centers: Vec<Vec<f64>>,
    summary: Option<KMeansSummary>,
}

impl KMeansModel {
    /// A model from its centres (all of one length, at least one).
    pub fn new(uid: impl Into<String>, params: KMeansParams, centers: Vec<Vec<f64>>) -> Self {
        Self {
            uid: uid.into(),
            params,
            centers,
            summary: None,
        }
    }
    /// The params.
    pub fn params(&self) -> &KMeansParams {
        &self.params
    }
    /// Spark's `clusterCenters`.
    pub fn cluster_centers(&self) -> &[Vec<f64>] {
        &self.centers
    }
    /// The training summary (`None` for a loaded model, as in Spark).
    pub fn summary(&self) -> Option<&KMeansSummary> {
        self.summary.as_ref()
    }
    /// The training cost (Spark's `summary.trainingCost`), when the model was fitted here.
    pub fn training_cost(&self) -> Option<f64> {
        self.summary.as_ref().map(|s| s.training_cost)
    }
    fn num_features(&self) -> usize {
        self.centers.first().map_or(0, Vec::len)
    }
    /// The index of the closest centre to one feature row (Spark's `predict`).
    ///
    /// # Errors
    /// [`Error::FeatureCount`] for a row of another length.
    pub fn predict(&self, x: &[f64]) -> Result<usize> {
        if x.len() != self.num_features() {
            return Err(Error::FeatureCount {
                stage: "KMeansModel",
                column: self.params.features_col.clone(),
                expected: self.num_features(),
                found: x.len(),
            });
        }
        let c = self.layout();
        let mut acc = vec![0.0; c.kp];
        Ok(c.closest(x, norm2(x), &mut acc).0)
    }
    fn layout(&self) -> Centers {
        Centers::new(
            self.centers.clone(),
            self.num_features(),
            self.params.cosine(),
        )
    }
    fn check(&self) -> Result<()> {
        let n = self.num_features();
        if self.centers.is_empty() || self.centers.iter().any(|c| c.len() != n) {
            return Err(Error::param(
                "KMeansModel",
                "clusterCenters",
                "at least one centre, all of one length",
                format!("{} centres", self.centers.len()),
            ));
        }
        Ok(())
    }
}

impl Stage for KMeansModel {
    fn kind(&self) -> &'static str {
        "KMeansModel"
    }
    stage_params!();
    fn transform_schema(&self, input: &Schema) -> Result<Schema> {
        self.check()?;
        kmeans_schema(
            &self.params,
            input,
            "KMeansModel",
            Some(self.num_features()),
            self.centers.len(),
        )
    }
}

impl Transformer for KMeansModel {
    fn transform(&self, df: &DataFrame) -> Result<DataFrame> {
        let out = self.transform_schema(df.schema())?;
        let field = out.field_with_name(&self.params.prediction_col)?.clone();
        let c = self.layout();
        let n = c.n;
        let col = &self.params.features_col;
        let cosine = c.cosine;
        let chunks = df.map_partitions(|pi, b| {
            let at = vector::At {
                stage: "KMeansModel",
                column: col,
                partition: pi,
            };
            let arr = vector::dense_chunk(schema::batch_column(b, col)?.as_ref(), n, at)?;
            let arr = &arr;
            let x = vector::dense_values(arr)?;
            let mut out = vec![0i32; arr.len()];
            out.par_chunks_mut(BLOCK_ROWS)
                .enumerate()
                .map(|(bi, o)| {
                    let r0 = bi * BLOCK_ROWS;
                    let mut norms = Vec::with_capacity(o.len());
                    for r in r0..r0 + o.len() {
                        let nv = norm2(&x[r * n..(r + 1) * n]);
                        if arr.is_null(r) || (cosine && nv == 0.0) {
                            return Err(Error::InvalidValue {
                                stage: "KMeansModel",
                                column: col.clone(),
                                partition: pi,
                                row: r,
                                what: if arr.is_null(r) {
                                    "null vector"
                                } else {
                                    "zero vector"
                                }
                                .into(),
                                hint: if arr.is_null(r) {
                                    "drop such rows first".into()
                                } else {
                                    "Cosine distance is not defined for zero-length vectors".into()
                                },
                            });
                        }
                        norms.push(nv);
                    }
                    let mut best = vec![0; o.len()];
                    let mut dist = vec![0.0; o.len()];
                    assign_block(
                        &c,
                        &x[r0 * n..(r0 + o.len()) * n],
                        &norms,
                        &mut best,
                        &mut dist,
                    );
                    for (o, b) in o.iter_mut().zip(best) {
                        *o = b as i32;
                    }
                    Ok(())
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Result<()>>()?;
            Ok(Arc::new(Int32Array::from(out)) as ArrayRef)
        })?;
        df.with_column(field, chunks)
    }
    fn clone_box(&self) -> Box<dyn Transformer> {
        Box::new(self.clone())
    }
}

impl Model for KMeansModel {
    fn clone_model(&self) -> Box<dyn Model> {
        Box::new(self.clone())
    }
}

// ---- Spark persistence ----

crate::persist::spark_params_only!(KMeans, "org.apache.spark.ml.clustering.KMeans");

impl SparkPersist for KMeansModel {
    const SPARK_CLASS: &'static str = "org.apache.spark.ml.clustering.KMeansModel";

    /// `data/`: one row per centre, `clusterIdx: int NOT NULL, clusterCenter: vector`.
    fn write_spark(&self, dir: &Path) -> Result<()> {
        format::write_params(dir, Self::SPARK_CLASS, &self.uid, &self.params)?;
        let mut field = None;
        let mut arrays = Vec::new();
        for c in &self.centers {
            let (f, a) = Vector::Dense(c.clone()).field_and_array("clusterCenter")?;
            field = Some(f);
            arrays.push(a);
        }
        let field = field.ok_or_else(|| {
            Error::param("KMeansModel", "clusterCenters", "at least one centre", 0)
        })?;
        let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
        let centers = arrow::compute::concat(&refs)?;
        let idx: ArrayRef = Arc::new(Int32Array::from(
            (0..self.centers.len() as i32).collect::<Vec<_>>(),
        ));
        let schema = Arc::new(Schema::new(vec![
            Field::new("clusterIdx", DataType::Int32, false),
            field,
        ]));
        let batch = RecordBatch::try_new(schema, vec![idx, centers])?;
        format::write_data(
            dir,
            &batch,
            format::spark_schema(&[
                ("clusterIdx", json!("integer"), false),
                ("clusterCenter", format::vector_udt_json(), true),
            ]),
        )
    }

    fn read_spark(dir: &Path, md: &Metadata) -> Result<Self> {
        let mut rows: Vec<(i64, Vec<f64>)> = Vec::new();
        for b in format::read_data_batches(dir)? {
            let idx =
                arrow::compute::cast(format::column(&b, "clusterIdx", dir)?, &DataType::Int32)?;
            let idx = idx.as_primitive::<Int32Type>();
            let cc = format::column(&b, "clusterCenter", dir)?;
            for r in 0..b.num_rows() {
                if idx.is_null(r) {
                    return Err(Error::file(dir.join("data"), "null clusterIdx"));
                }
                rows.push((
                    idx.value(r) as i64,
                    Vector::from_column(&cc.slice(r, 1), dir)?.to_dense(),
                ));
            }
        }
        rows.sort_by_key(|(i, _)| *i);
        let n = rows[0].1.len();
        if rows
            .iter()
            .enumerate()
            .any(|(i, (ci, c))| *ci != i as i64 || c.len() != n)
        {
            return Err(Error::file(
                dir.join("data"),
                "cluster indices are not 0..k-1 or the centres differ in length",
            ));
        }
        Ok(Self::new(
            md.uid.clone(),
            md.params_as(dir)?,
            rows.into_iter().map(|(_, c)| c).collect(),
        ))
    }
}

// ---- Row form (crate::row) ----

struct KMeansRow {
    centers: Centers,
    x: crate::row::VecSlot,
    /// The row's distances to the centres (`kp` values), `closest`'s scratch.
    acc: crate::row::VecSlot,
    pred: crate::row::NumOut,
    column: String,
}

impl std::fmt::Debug for KMeansRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KMeansRow")
            .field("k", &self.centers.k)
            .field("column", &self.column)
            .finish()
    }
}

impl crate::row::RowStage for KMeansModel {
    fn compile_row(
        &self,
        plan: &mut crate::row::PlanBuilder,
    ) -> Result<Option<Box<dyn crate::row::RowOp>>> {
        self.check()?;
        let centers = self.layout();
        let x = plan.vec_input(&self.params.features_col)?;
        let acc = plan.scratch_vec(centers.kp);
        let pred = plan.add_num(&self.params.prediction_col);
        plan.set_model_outputs(crate::row::ModelOutputs {
            prediction: Some(pred),
            ..Default::default()
        });
        Ok(Some(Box::new(KMeansRow {
            centers,
            x,
            acc,
            pred,
            column: self.params.features_col.clone(),
        })))
    }
}

impl crate::row::RowOp for KMeansRow {
    fn run(&self, row: &mut crate::row::RowCtx<'_, '_>) -> Result<crate::row::Flow> {
        let (x, acc) = row.vec_pair(self.x, self.acc);
        let nv = norm2(x);
        if self.centers.cosine && nv == 0.0 {
            return Err(row.invalid(
                "KMeansModel",
                &self.column,
                "zero vector",
                "Cosine distance is not defined for zero-length vectors",
            ));
        }
        let c = self.centers.closest(x, nv, acc).0 as i32;
        row.set_num(self.pred, Some(c.into()));
        Ok(crate::row::Flow::Next)
    }
}

/// The smallest of `s` (whole groups of [`LANES`]) by a strict `<` per lane, then a fixed
/// tree over the lanes: NaN never wins over a number, +∞ when nothing is below it. Shared
/// by the exact argmin and the screening's unique-minimum test.
#[inline(always)]
fn lanes_min(s: &[f64]) -> f64 {
    let mut m = [f64::INFINITY; LANES];
    for ch in s.chunks_exact(LANES) {
        for l in 0..LANES {
            m[l] = if ch[l] < m[l] { ch[l] } else { m[l] };
        }
    }
    let min = |a: f64, b: f64| if b < a { b } else { a };
    min(
        min(min(m[0], m[4]), min(m[2], m[6])),
        min(min(m[1], m[5]), min(m[3], m[7])),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_kmeans_pp_on_separated_points_finds_them() {
        let pts = vec![vec![0.0, 0.0], vec![10.0, 0.0], vec![0.0, 10.0]];
        let c = local_kmeans_pp(&pts, &[1.0, 1.0, 1.0], 3, 30, 0);
        let mut c = c;
        c.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(c, vec![vec![0.0, 0.0], vec![0.0, 10.0], vec![10.0, 0.0]]);
    }

    #[test]
    fn distinct_is_bitwise_and_keeps_first() {
        let v = distinct(vec![vec![0.0], vec![-0.0], vec![0.0], vec![1.0]]);
        assert_eq!(v.len(), 3);
        assert!(v[1][0].is_sign_negative());
    }

    /// Spark's `findClosest` on dense vectors as it reads in Spark: a strict `<` scan of
    /// `Vectors.sqdist` (or `1 − x·c/‖x‖/‖c‖` for cosine), lowest index on ties.
    fn spark_find_closest(centers: &[Vec<f64>], x: &[f64], cosine: bool) -> (usize, f64) {
        let (mut best, mut bd) = (0, f64::INFINITY);
        for (i, c) in centers.iter().enumerate() {
            let d = if cosine {
                1.0 - dot(x, c) / norm2(x) / norm2(c)
            } else {
                sqdist(x, c)
            };
            if d < bd {
                (best, bd) = (i, d);
            }
        }
        (best, bd)
    }

    #[test]
    fn tiled_assignment_is_sparks_find_closest_bitwise() {
        let n = 5;
        let mut rng = JavaRandom::new(3);
        for k in [1, 2, 7, 8, 9, 16, 17, 33] {
            for cosine in [false, true] {
                let mut centers: Vec<Vec<f64>> = (0..k)
                    .map(|_| (0..n).map(|_| rng.next_double() - 0.5).collect())
                    .collect();
                if k > 2 {
                    centers[2] = centers[1].clone(); // a tie: the lower index wins
                }
                // 13 rows: three tiles and a remainder; row 0 sits on centre 1.
                let mut x: Vec<f64> = (0..13 * n).map(|_| rng.next_double() - 0.5).collect();
                x[..n].copy_from_slice(&centers[(k > 1) as usize]);
                let norms: Vec<f64> = x.chunks(n).map(norm2).collect();
                let c = Centers::new(centers.clone(), n, cosine);
                let (mut best, mut dist) = (vec![0; 13], vec![0.0; 13]);
                for portable in [false, true] {
                    crate::frame::kernels::force_portable(portable);
                    assign_block(&c, &x, &norms, &mut best, &mut dist);
                    crate::frame::kernels::force_portable(false);
                    for (r, row) in x.chunks(n).enumerate() {
                        let (b, d) = spark_find_closest(&centers, row, cosine);
                        assert_eq!(best[r], b, "k {k} cosine {cosine} row {r}");
                        assert_eq!(dist[r].to_bits(), d.to_bits(), "k {k} row {r}");
                    }
                }
            }
        }
    }

    #[test]
    fn argmin_is_a_strict_less_than_scan() {
        let c = Centers::new(vec![vec![0.0]; 9], 1, false);
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let mut d = vec![nan, 3.0, 1.0, 2.0, 1.0, nan, 5.0, 6.0, 7.0];
        d.resize(c.kp, 7.0);
        assert_eq!(c.argmin(&d), (2, 1.0));
        d[8] = 0.5; // past the first group of lanes
        assert_eq!(c.argmin(&d), (8, 0.5));
        // Nothing below +inf: Spark keeps index 0 and +inf.
        assert_eq!(
            c.argmin(&[
                nan, inf, inf, nan, inf, inf, inf, inf, inf, inf, inf, inf, inf, inf, inf, inf
            ]),
            (0, inf)
        );
    }

    #[test]
    fn closest_matches_plain_sqdist_argmin() {
        let rows = vec![
            vec![1.0, 2.0, 3.0],
            vec![0.5, 0.1, 7.0],
            vec![-1.0, 4.0, 0.0],
        ];
        let c = Centers::new(rows.clone(), 3, false);
        let mut acc = vec![0.0; c.kp];
        let x = [0.3, 1.7, 2.2];
        let (b, d) = c.closest(&x, norm2(&x), &mut acc);
        let want: Vec<f64> = rows.iter().map(|r| sqdist(&x, r)).collect();
        assert_eq!(b, 0);
        assert_eq!(d.to_bits(), want[0].to_bits());
    }

    /// Asserts that a Lloyd pass over the partitions `xs` (weights `ws` when `weighted`)
    /// against `centers` is, to the bit, the plain row loop of Spark's
    /// `runAlgorithmWithWeight` over each block in row order, blocks merged in order, on
    /// every build, on one and on two threads.
    fn assert_lloyd_pass_is_plain(
        n: usize,
        xs: &[Vec<f64>],
        ws: &[Vec<f64>],
        centers: &[Vec<f64>],
        cosine: bool,
        weighted: bool,
    ) {
        let k = centers.len();
        let parts = xs
            .iter()
            .zip(ws)
            .map(|(x, w)| Part {
                x,
                w: weighted.then_some(&w[..]),
                norms: x.chunks(n).map(norm2).collect(),
                rows: x.len() / n,
            })
            .collect::<Vec<_>>();
        let mut blocks = Vec::new();
        for (p, part) in parts.iter().enumerate() {
            for r0 in (0..part.rows).step_by(BLOCK_ROWS) {
                blocks.push((p, r0, BLOCK_ROWS.min(part.rows - r0)));
            }
        }
        let points = Points { n, parts, blocks };
        // The plain loop, one block at a time, merged in block order.
        let mut want = Pass {
            sums: vec![0.0; k * n],
            wsum: vec![0.0; k],
            cost: 0.0,
        };
        for &(p, r0, len) in &points.blocks {
            let part = &points.parts[p];
            let mut b = Pass {
                sums: vec![0.0; k * n],
                wsum: vec![0.0; k],
                cost: 0.0,
            };
            for r in r0..r0 + len {
                let x = points.row(p, r);
                let wr = part.w.map_or(1.0, |w| w[r]);
                let (best, d) = spark_find_closest(centers, x, cosine);
                b.cost += d * wr;
                let a = if cosine { wr / part.norms[r] } else { wr };
                for (s, v) in b.sums[best * n..(best + 1) * n].iter_mut().zip(x) {
                    *s += a * v;
                }
                b.wsum[best] += wr;
            }
            want.cost += b.cost;
            for c in 0..k {
                if b.wsum[c] > 0.0 {
                    for j in 0..n {
                        want.sums[c * n + j] += b.sums[c * n + j];
                    }
                    want.wsum[c] += b.wsum[c];
                }
            }
        }
        let km = KMeans::new();
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        for build in crate::frame::kernels::available_builds() {
            for threads in [1, 2] {
                crate::frame::kernels::force_build(build);
                // The layout after the build is forced: it decides whether to screen.
                let c = Centers::new(centers.to_vec(), n, cosine);
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let got = pool.install(|| km.lloyd_pass(&points, &c, true));
                let sums_only = pool.install(|| km.lloyd_pass(&points, &c, false));
                crate::frame::kernels::force_build(crate::frame::kernels::Build::Avx512);
                let at = format!(
                    "k {k} cosine {cosine} weighted {weighted} {build:?} threads {threads}"
                );
                assert_eq!(got.cost.to_bits(), want.cost.to_bits(), "{at}");
                assert_eq!(bits(&got.sums), bits(&want.sums), "{at}");
                assert_eq!(bits(&got.wsum), bits(&want.wsum), "{at}");
                assert_eq!(bits(&sums_only.sums), bits(&want.sums), "{at}");
                assert_eq!(bits(&sums_only.wsum), bits(&want.wsum), "{at}");
            }
        }
    }

    /// A Lloyd pass is Spark's plain row loop to the bit ([`assert_lloyd_pass_is_plain`]):
    /// for k around the lane groups, Euclidean and cosine, with and without weights, over
    /// several sub-blocks and two partitions.
    #[test]
    fn lloyd_pass_is_the_plain_row_loop_bitwise() {
        let n = 7;
        let mut rng = JavaRandom::new(11);
        let rows = [BLOCK_ROWS + 77, 301];
        let xs: Vec<Vec<f64>> = rows
            .iter()
            .map(|&r| (0..r * n).map(|_| rng.next_double() * 4.0 - 1.0).collect())
            .collect();
        let ws: Vec<Vec<f64>> = rows
            .iter()
            .map(|&r| (0..r).map(|i| [0.0, 0.5, 1.0, 2.25][i % 4]).collect())
            .collect();
        for k in [1, 2, 8, 9, 16, 33] {
            for cosine in [false, true] {
                for weighted in [false, true] {
                    let mut centers: Vec<Vec<f64>> = (0..k)
                        .map(|_| (0..n).map(|_| rng.next_double() * 4.0 - 1.0).collect())
                        .collect();
                    if k > 2 {
                        centers[2] = centers[1].clone(); // tied centres: the lower index wins
                    }
                    assert_lloyd_pass_is_plain(n, &xs, &ws, &centers, cosine, weighted);
                }
            }
        }
    }

    /// The screened assignment where the norm form cannot decide: points far from the
    /// origin (1e6, so `‖x‖²` dwarfs the distances) on and a few ulps beside the half-way
    /// planes between centres, exact ties, and ordinary points, for k 8 and 16: Spark's
    /// exact scan's choice every time.
    #[test]
    fn screened_pass_decides_near_ties_as_sparks_exact_scan() {
        let n = 3;
        let o = 1e6;
        let mut rng = JavaRandom::new(5);
        for k in [8, 16] {
            let centers: Vec<Vec<f64>> = (0..k)
                .map(|c| {
                    (0..n)
                        .map(|j| o + ((c >> j) & 1) as f64 + (c / 8) as f64)
                        .collect()
                })
                .collect();
            let mut x = Vec::new();
            for r in 0..2 * SUB_ROWS + 13 {
                let a = &centers[r % k];
                let b = &centers[(r / k) % k];
                let mut p: Vec<f64> = a.iter().zip(b).map(|(u, v)| 0.5 * (u + v)).collect();
                match r % 4 {
                    0 => {}
                    1 => p[r % n] = f64::from_bits(p[r % n].to_bits() + (r as u64 % 5)),
                    2 => p[r % n] = f64::from_bits(p[r % n].to_bits() - (r as u64 % 5)),
                    _ => p.iter_mut().for_each(|v| *v += rng.next_double() - 0.5),
                }
                x.extend(p);
            }
            let w = vec![1.0; x.len() / n];
            assert_lloyd_pass_is_plain(n, &[x], &[w], &centers, false, false);
        }
    }
}
