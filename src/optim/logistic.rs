//! Spark's logistic loss (`BinaryLogisticBlockAggregator` / `MultinomialLogisticBlockAggregator` in `org.apache.spark.ml.optim.aggregator`, as `LogisticRegression.train` sets them up), evaluated in parallel over row blocks.
//!
//! The optimiser works in Spark's scaled space (`x̃ = x / σ`, virtually centred when
//! fitting an intercept), but the data are never scaled or copied: each pass reads the
//! raw row-major feature block once, computing the margin with `β̃ / σ`, the loss, and
//! the gradient in the same sweep over a row. Blocks have a fixed size, and their partial
//! sums merge in block order, so the result is the same for any thread count.

use rayon::prelude::*;

use super::lbfgs::DiffFunction;
use crate::error::{Error, Result};
use crate::frame::kernels::{add_scaled_rows, dot, dot_rows};
use crate::frame::vector::{AffineMap, Row, VectorBlock};

/// The feature rows of a [`Block`].
#[derive(Clone, Copy, Debug)]
pub enum Features<'a> {
    /// `rows * n` feature values, row-major.
    Dense(&'a [f64]),
    /// Rows `first..first + rows` of a checked vector column chunk (sparse rows: a pass
    /// reads and updates only their stored entries). No row in the range is null.
    Rows {
        /// The chunk.
        block: VectorBlock<'a>,
        /// Its first row in this block.
        first: usize,
    },
    /// Some rows of a dense chunk, read in place (a cross-validation fold's training rows):
    /// block row `i` is row `rows[i]` of `values` (row-major, `n` values a row). A pass
    /// gathers each chunk of rows into a reused buffer, so it sums the same values in the
    /// same order as over a copy of the rows.
    Picked {
        /// The chunk's row-major values, all its rows.
        values: &'a [f64],
        /// The block's rows of the chunk, ascending.
        rows: &'a [u32],
    },
}

impl<'a> Features<'a> {
    /// Row `i` of the block (`n` features).
    #[inline]
    pub fn row(&self, i: usize, n: usize) -> Row<'a> {
        match self {
            Features::Dense(x) => Row::Dense(&x[i * n..(i + 1) * n]),
            Features::Rows { block, first } => block.row(first + i).unwrap_or(Row::Sparse {
                size: n,
                indices: &[],
                values: &[],
            }),
            Features::Picked { values, rows } => {
                let r = rows[i] as usize;
                Row::Dense(&values[r * n..(r + 1) * n])
            }
        }
    }
}

/// The first problem among rows `r0..r0 + len` of a feature column chunk, as
/// `(row, what)`: a null vector or a non-finite value (a sparse row's stored values only;
/// its unstored zeros are finite). One vectorised sweep finds whether a dense block holds
/// a non-finite value (`x·0` is NaN exactly for ±inf and NaN) before any row is searched.
pub(crate) fn feature_issue(
    view: &VectorBlock<'_>,
    r0: usize,
    len: usize,
) -> Option<(usize, String)> {
    let n = view.size();
    let poisoned = match view.as_dense() {
        Some(v) => v[r0 * n..(r0 + len) * n]
            .iter()
            .map(|v| v * 0.0)
            .sum::<f64>()
            .is_nan(),
        None => true,
    };
    for r in r0..r0 + len {
        let Some(x) = view.row(r) else {
            return Some((r, "null vector".into()));
        };
        if poisoned {
            let mut bad = None;
            x.for_each_active(|_, v| {
                if bad.is_none() && !v.is_finite() {
                    bad = Some(v);
                }
            });
            if let Some(v) = bad {
                return Some((r, format!("feature value {v}")));
            }
        }
    }
    None
}

/// The first non-finite value among dense rows of `n` values, as `(row, what)`.
pub(crate) fn dense_issue(values: &[f64], n: usize) -> Option<(usize, String)> {
    // `x·0` is NaN exactly for ±inf and NaN: one vectorised sweep first.
    if !values.iter().map(|v| v * 0.0).sum::<f64>().is_nan() {
        return None;
    }
    let k = values.iter().position(|v| !v.is_finite())?;
    Some((k / n.max(1), format!("feature value {}", values[k])))
}

/// The weighted feature summary of rows `r0..r0 + len` (none of them null), reading a
/// sparse row's stored entries only. `weights` holds the block's `len` weights.
pub(crate) fn block_summary(
    view: &VectorBlock<'_>,
    r0: usize,
    len: usize,
    weights: Option<&[f64]>,
) -> crate::stat::FeatureSummary {
    let n = view.size();
    match view.as_dense() {
        Some(v) => crate::stat::FeatureSummary::from_block(&v[r0 * n..(r0 + len) * n], n, weights),
        None => crate::stat::FeatureSummary::from_rows(
            n,
            (0..len).filter_map(|i| {
                let w = weights.map_or(1.0, |w| w[i]);
                view.row(r0 + i).map(|x| (x, w))
            }),
        ),
    }
}

/// The block of rows `r0..r0 + len` of a feature column chunk.
pub(crate) fn features_of<'a>(view: &VectorBlock<'a>, r0: usize, len: usize) -> Features<'a> {
    let n = view.size();
    match view.as_dense() {
        Some(v) => Features::Dense(&v[r0 * n..(r0 + len) * n]),
        None => Features::Rows {
            block: *view,
            first: r0,
        },
    }
}

/// Rows of one block: features, labels, optional weights.
#[derive(Clone, Copy, Debug)]
pub struct Block<'a> {
    /// The feature rows.
    pub x: Features<'a>,
    /// One label per row.
    pub y: &'a [f64],
    /// One weight per row; `None` means all 1.
    pub w: Option<&'a [f64]>,
}

/// The objective Spark's `LogisticRegression` minimises, as a [`DiffFunction`] over the
/// optimiser's column-major layout (`index = feature * C + class`, intercepts last).
#[derive(Debug)]
pub struct LogisticLoss<'a> {
    /// The data.
    pub blocks: Vec<Block<'a>>,
    /// Number of features `F`.
    pub num_features: usize,
    /// Number of coefficient sets `C` (1 binomial, `K` multinomial).
    pub num_sets: usize,
    /// Whether intercepts are fitted (they follow the coefficients).
    pub fit_intercept: bool,
    /// `1/σ_j`, 0 where σ_j = 0.
    pub inv_std: Vec<f64>,
    /// `μ_j / σ_j` for virtual centring, or empty when not centring.
    pub scaled_mean: Vec<f64>,
    /// Sum of all weights.
    pub weight_sum: f64,
    /// `(1 − α)·λ`.
    pub reg_l2: f64,
    /// Spark's `standardization`: with `false`, L2 is on the original-space coefficients.
    pub standardization: bool,
    /// A map every feature value goes through as it is read (a fitted
    /// `StandardScalerModel`'s, when the fit reads the scaler's input instead of a
    /// materialised scaled column): each mapped value is rounded as the materialised one
    /// would be, so the sums are the same bits.
    pub input_map: Option<&'a AffineMap>,
}

/// Partial sums of one block.
struct Partial {
    loss: f64,
    /// `C × F`, row-major by class: Σ multiplier · x.
    grad: Vec<f64>,
    /// Σ multiplier per class.
    msum: Vec<f64>,
}

impl LogisticLoss<'_> {
    fn coef_eff(&self, params: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (f, c) = (self.num_features, self.num_sets);
        let mut eff = vec![0.0; c * f];
        let mut offset = vec![0.0; c];
        for k in 0..c {
            let mut shift = 0.0;
            for j in 0..f {
                let b = params[j * c + k];
                eff[k * f + j] = b * self.inv_std[j];
                if !self.scaled_mean.is_empty() {
                    shift += b * self.scaled_mean[j];
                }
            }
            let b0 = if self.fit_intercept {
                params[f * c + k]
            } else {
                0.0
            };
            offset[k] = b0 - shift;
        }
        (eff, offset)
    }

    /// One binomial block: [`binary_pass`] with the logistic link, reading the features
    /// through the input map if any (a fitted `StandardScalerModel` fused into the fit).
    fn binary_block(&self, b: &Block<'_>, eff: &[f64], offset: f64) -> Partial {
        let f = self.num_features;
        let p = binary_pass(b, f, eff, offset, self.input_map, &LogisticLink);
        Partial {
            loss: p.loss,
            grad: p.grad,
            msum: vec![p.msum],
        }
    }

    fn multinomial_block(&self, b: &Block<'_>, eff: &[f64], offset: &[f64]) -> Partial {
        let (f, c) = (self.num_features, self.num_sets);
        let mut grad = vec![0.0; c * f];
        let mut msum = vec![0.0; c];
        let mut loss = 0.0;
        let mut margins = vec![0.0; c];
        for i in 0..b.y.len() {
            let w = b.w.map_or(1.0, |w| w[i]);
            if w == 0.0 {
                continue;
            }
            let row = b.x.row(i, f);
            let mut max = f64::NEG_INFINITY;
            for k in 0..c {
                let e = &eff[k * f..(k + 1) * f];
                margins[k] = match row {
                    Row::Dense(x) => dot(e, x),
                    _ => row.dot(e),
                } + offset[k];
                max = max.max(margins[k]);
            }
            let y = b.y[i] as usize;
            let label_shifted = margins[y] - max;
            let mut sum = 0.0;
            for m in margins.iter_mut() {
                *m = (*m - max).exp();
                sum += *m;
            }
            loss += w * (sum.ln() - label_shifted);
            for k in 0..c {
                let mult = w * (margins[k] / sum - if k == y { 1.0 } else { 0.0 });
                msum[k] += mult;
                let g = &mut grad[k * f..(k + 1) * f];
                match row {
                    Row::Dense(x) => {
                        for (g, x) in g.iter_mut().zip(x) {
                            *g += mult * x;
                        }
                    }
                    _ => row.for_each_active(|j, x| g[j] += mult * x),
                }
            }
        }
        Partial { loss, grad, msum }
    }
}

/// How a loss turns a chunk's margins into its loss and its multipliers `∂loss/∂margin`
/// (weighted): the one part in which the logistic, hinge, least-squares and Huber passes
/// differ; [`binary_pass`] does the rest.
pub(crate) trait BinaryLink {
    /// For the rows `t` of a chunk (margins `m`, labels `y`, weights `w`, all 1 when
    /// `None`): sets `mult[t]` and adds the rows' weighted loss to `loss`, in row order. A
    /// row of weight 0 gets multiplier 0 and adds no loss.
    fn chunk(&self, m: &[f64], y: &[f64], w: Option<&[f64]>, mult: &mut [f64], loss: &mut f64);
}

/// The sums of one block's binary pass.
pub(crate) struct BinaryPartial {
    /// Σ weighted loss.
    pub loss: f64,
    /// Σ multiplier · x (raw features).
    pub grad: Vec<f64>,
    /// Σ multiplier.
    pub msum: f64,
}

/// Rows per chunk of [`binary_pass`]: their feature bytes stay in L1 between the margins
/// and the gradient step.
const CHUNK: usize = 64;

/// The loss-and-gradient pass of a linear model with one margin per row over one block
/// (Spark's `BinaryLogisticBlockAggregator` and `HingeBlockAggregator`, and
/// `LinearRegression`'s least-squares and Huber aggregators, share it): in chunks of
/// [`CHUNK`] rows, the margins `eff · x + offset` ([`dot_rows`]), then the
/// loss's `link` turns them into loss and multipliers, then `Σ mult · x` is added to the
/// gradient, rows in order. Sparse rows touch only their stored entries.
pub(crate) fn binary_pass(
    b: &Block<'_>,
    f: usize,
    eff: &[f64],
    offset: f64,
    map: Option<&AffineMap>,
    link: &impl BinaryLink,
) -> BinaryPartial {
    let mut grad = vec![0.0; f];
    let (mut loss, mut msum) = (0.0, 0.0);
    let rows = b.y.len();
    let mut m = [0.0f64; CHUNK];
    let mut mult = [0.0f64; CHUNK];
    // With an input map or picked rows, each chunk's rows gathered and mapped (rounded as
    // a materialised column's would be: the same bits) into one buffer, reused chunk
    // after chunk.
    let gathered = map.is_some() || matches!(b.x, Features::Picked { .. });
    let mut mapped = if gathered {
        vec![0.0; CHUNK * f]
    } else {
        Vec::new()
    };
    let mut start = 0;
    while start < rows {
        let len = CHUNK.min(rows - start);
        if gathered {
            map_chunk(b, f, map, start, &mut mapped[..len * f]);
        }
        // The chunk's rows as one dense slice, when they are (or were gathered into) one.
        let dense = match b.x {
            _ if gathered => Some(&mapped[..len * f]),
            Features::Dense(bx) => Some(&bx[start * f..(start + len) * f]),
            _ => None,
        };
        match dense {
            Some(xs) => dot_rows(eff, xs, offset, &mut m[..len]),
            None => {
                for (t, mt) in m[..len].iter_mut().enumerate() {
                    *mt = b.x.row(start + t, f).dot(eff) + offset;
                }
            }
        }
        link.chunk(
            &m[..len],
            &b.y[start..start + len],
            b.w.map(|w| &w[start..start + len]),
            &mut mult[..len],
            &mut loss,
        );
        for mt in &mult[..len] {
            msum += mt;
        }
        match dense {
            Some(xs) => add_scaled_rows(&mut grad, &mult[..len], xs),
            None => {
                for (t, &mt) in mult[..len].iter().enumerate() {
                    b.x.row(start + t, f)
                        .for_each_active(|j, v| grad[j] += mt * v);
                }
            }
        }
        start += len;
    }
    BinaryPartial { loss, grad, msum }
}

/// Spark's binomial logistic loss `log(1 + e^{−m})` (`+ m` when `y = 0`), whose
/// multiplier is `σ(m) − y`.
struct LogisticLink;

impl BinaryLink for LogisticLink {
    fn chunk(&self, m: &[f64], ys: &[f64], w: Option<&[f64]>, mult: &mut [f64], loss: &mut f64) {
        let len = m.len();
        let mut e = [0.0f64; CHUNK];
        for t in 0..len {
            e[t] = (-m[t].abs()).exp();
        }
        // loss_i = log1pExp(-m) (+ m when y = 0) = ln(1 + e) + max(-m, 0) (+ m when y = 0);
        // sigmoid(m) = 1/(1+e) for m >= 0, e/(1+e) otherwise.
        match w {
            None => {
                // Σ ln(1 + e_t) as the ln of one product (each factor is in (1, 2], so
                // 64 of them cannot overflow): one logarithm per chunk instead of per row.
                let mut prod = 1.0;
                let mut lin = 0.0;
                for t in 0..len {
                    let (mt, et, y) = (m[t], e[t], ys[t]);
                    prod *= 1.0 + et;
                    lin += if mt < 0.0 { -mt } else { 0.0 } + if y > 0.0 { 0.0 } else { mt };
                    let sig = if mt >= 0.0 {
                        1.0 / (1.0 + et)
                    } else {
                        et / (1.0 + et)
                    };
                    mult[t] = sig - y;
                }
                *loss += prod.ln() + lin;
            }
            Some(ws) => {
                for t in 0..len {
                    let (mt, et, y, w) = (m[t], e[t], ys[t], ws[t]);
                    if w == 0.0 {
                        mult[t] = 0.0;
                        continue;
                    }
                    let l = et.ln_1p() + if mt < 0.0 { -mt } else { 0.0 };
                    *loss += w * if y > 0.0 { l } else { l + mt };
                    let sig = if mt >= 0.0 {
                        1.0 / (1.0 + et)
                    } else {
                        et / (1.0 + et)
                    };
                    mult[t] = w * (sig - y);
                }
            }
        }
    }
}

/// Rows `first..first + out.len() / n` of `b`, gathered (picked rows) and mapped by `map`
/// (if any) into `out` (dense rows of `n`): each value as the materialised column holds it.
fn map_chunk(b: &Block<'_>, n: usize, map: Option<&AffineMap>, first: usize, out: &mut [f64]) {
    use crate::pipeline::view::fill_rows;
    match b.x {
        Features::Dense(x) => fill_rows(x, n, None, map, first, out),
        Features::Picked { values, rows } => fill_rows(values, n, Some(rows), map, first, out),
        Features::Rows { .. } => {
            for (i, o) in out.chunks_exact_mut(n.max(1)).enumerate() {
                o.fill(0.0);
                b.x.row(first + i, n).for_each_active(|j, v| o[j] = v);
                if let Some(map) = map {
                    for (j, v) in o.iter_mut().enumerate() {
                        *v = map.value(j, *v);
                    }
                }
            }
        }
    }
}

/// A block's rows mapped by `map`, as dense rows of `n` (for the passes that read rows
/// one by one).
fn mapped_rows(b: &Block<'_>, n: usize, map: &AffineMap) -> Vec<f64> {
    let mut out = vec![0.0; b.y.len() * n];
    map_chunk(b, n, Some(map), 0, &mut out);
    out
}

impl DiffFunction for LogisticLoss<'_> {
    fn calculate(&mut self, params: &[f64]) -> Result<(f64, Vec<f64>)> {
        if self.weight_sum <= 0.0 {
            return Err(Error::Internal(
                "logistic loss with a non-positive weight sum".into(),
            ));
        }
        let (f, c) = (self.num_features, self.num_sets);
        let (eff, offset) = self.coef_eff(params);
        let this = &*self;
        let partials: Vec<Partial> = this
            .blocks
            .par_iter()
            .map(|b| {
                if c == 1 {
                    this.binary_block(b, &eff, offset[0])
                } else if let Some(map) = this.input_map {
                    // The row-by-row pass reads the block's mapped rows from a copy.
                    let x = mapped_rows(b, f, map);
                    let mapped = Block {
                        x: Features::Dense(&x),
                        ..*b
                    };
                    this.multinomial_block(&mapped, &eff, &offset)
                } else {
                    this.multinomial_block(b, &eff, &offset)
                }
            })
            .collect();
        // Merge in block order: the same sums for any thread count.
        let mut loss = 0.0;
        let mut graw = vec![0.0; c * f];
        let mut msum = vec![0.0; c];
        for p in &partials {
            loss += p.loss;
            for (a, b) in graw.iter_mut().zip(&p.grad) {
                *a += b;
            }
            for (a, b) in msum.iter_mut().zip(&p.msum) {
                *a += b;
            }
        }
        let w = self.weight_sum;
        let mut grad = vec![0.0; params.len()];
        for k in 0..c {
            for j in 0..f {
                let centred = if self.scaled_mean.is_empty() {
                    0.0
                } else {
                    msum[k] * self.scaled_mean[j]
                };
                grad[j * c + k] = (graw[k * f + j] * self.inv_std[j] - centred) / w;
            }
            if self.fit_intercept {
                grad[f * c + k] = msum[k] / w;
            }
        }
        let value = loss / w
            + add_l2(
                params,
                &mut grad,
                self.reg_l2,
                &self.inv_std,
                self.standardization,
                f,
                c,
            );
        Ok((value, grad))
    }
}

/// Spark's L2 term on the standardised coefficients `params[j·c + k]` (feature `j`, set
/// `k`; intercepts not included): adds its gradient to `grad` and returns its value
/// `½λ Σ β̃²`, or with standardization off `½λ Σ (β̃/σ)²` (nothing where σ = 0). Shared
/// by the logistic and hinge losses.
// A range loop: `inv_std` is read only without standardization, so it may be empty.
#[allow(clippy::needless_range_loop)]
pub(crate) fn add_l2(
    params: &[f64],
    grad: &mut [f64],
    reg_l2: f64,
    inv_std: &[f64],
    standardization: bool,
    num_features: usize,
    c: usize,
) -> f64 {
    if reg_l2 == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0;
    for j in 0..num_features {
        for k in 0..c {
            let idx = j * c + k;
            let v = params[idx];
            if standardization {
                sum += v * v;
                grad[idx] += reg_l2 * v;
            } else if inv_std[j] != 0.0 {
                let inv = inv_std[j];
                let t = v * inv * inv;
                sum += v * t;
                grad[idx] += reg_l2 * t;
            }
        }
    }
    0.5 * reg_l2 * sum
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link whose multiplier is the margin itself (and loss `Σ w·m`), to check the
    /// pass's sums against a plain row loop.
    struct Identity;

    impl BinaryLink for Identity {
        fn chunk(
            &self,
            m: &[f64],
            _y: &[f64],
            w: Option<&[f64]>,
            mult: &mut [f64],
            loss: &mut f64,
        ) {
            for t in 0..m.len() {
                let w = w.map_or(1.0, |w| w[t]);
                *loss += w * m[t];
                mult[t] = w * m[t];
            }
        }
    }

    /// The dense pass gives the plain row loop's loss, gradient and multiplier sum up to
    /// rounding (1e-12 relative) for feature counts around the vector widths and chunks
    /// around [`CHUNK`], and the same bits when the same rows are picked out of a larger
    /// chunk (gathered).
    #[test]
    fn binary_pass_matches_the_plain_row_loop() {
        for f in [1, 5, 8, 13, 20, 24, 31, 32, 33, 40] {
            let rows = 2 * CHUNK + 5;
            let x: Vec<f64> = (0..rows * f)
                .map(|i| ((i as f64) * 0.377).sin() * 3.0)
                .collect();
            let y: Vec<f64> = (0..rows).map(|i| (i % 2) as f64).collect();
            let w: Vec<f64> = (0..rows).map(|i| 0.5 + (i % 3) as f64).collect();
            let eff: Vec<f64> = (0..f).map(|j| (j as f64 * 0.61).cos()).collect();
            let offset = 0.25;
            let (mut loss, mut msum) = (0.0, 0.0);
            let mut grad = vec![0.0; f];
            for r in 0..rows {
                let xr = &x[r * f..(r + 1) * f];
                let m: f64 = xr.iter().zip(&eff).map(|(a, b)| a * b).sum::<f64>() + offset;
                loss += w[r] * m;
                msum += w[r] * m;
                for (g, v) in grad.iter_mut().zip(xr) {
                    *g += w[r] * m * v;
                }
            }
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1.0);
            let block = Block {
                x: Features::Dense(&x),
                y: &y,
                w: Some(&w),
            };
            let p = binary_pass(&block, f, &eff, offset, None, &Identity);
            assert!(close(p.loss, loss), "f={f}: loss {} vs {loss}", p.loss);
            assert!(close(p.msum, msum), "f={f}");
            assert_eq!(p.grad.len(), f);
            for (j, (g, want)) in p.grad.iter().zip(&grad).enumerate() {
                assert!(close(*g, *want), "f={f} j={j}: {g} vs {want}");
            }
            // The same rows picked out of a chunk with one more row before each: gathered
            // into a buffer, summed as the same values in the same order.
            let mut wide = Vec::new();
            for r in 0..rows {
                wide.extend(std::iter::repeat_n(7.0, f));
                wide.extend_from_slice(&x[r * f..(r + 1) * f]);
            }
            let picked: Vec<u32> = (0..rows as u32).map(|r| 2 * r + 1).collect();
            let q = binary_pass(
                &Block {
                    x: Features::Picked {
                        values: &wide,
                        rows: &picked,
                    },
                    ..block
                },
                f,
                &eff,
                offset,
                None,
                &Identity,
            );
            assert_eq!(q.loss.to_bits(), p.loss.to_bits(), "f={f}");
            assert_eq!(
                q.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                p.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                "f={f}"
            );
        }
    }

    /// The gradient agrees with central finite differences, binomial and multinomial,
    /// with weights, centring and both L2 forms.
    #[test]
    fn gradient_matches_finite_differences() {
        let x: Vec<f64> = (0..40)
            .map(|i| ((i * 7919) % 23) as f64 / 5.0 - 2.0)
            .collect();
        let w: Vec<f64> = (0..10).map(|i| 0.5 + (i % 3) as f64).collect();
        for (c, y) in [
            (1usize, (0..10).map(|i| (i % 2) as f64).collect::<Vec<_>>()),
            (3, (0..10).map(|i| (i % 3) as f64).collect()),
        ] {
            for standardization in [true, false] {
                let mut loss = LogisticLoss {
                    blocks: vec![
                        Block {
                            x: Features::Dense(&x[..16]),
                            y: &y[..4],
                            w: Some(&w[..4]),
                        },
                        Block {
                            x: Features::Dense(&x[16..]),
                            y: &y[4..],
                            w: Some(&w[4..]),
                        },
                    ],
                    num_features: 4,
                    num_sets: c,
                    fit_intercept: true,
                    inv_std: vec![0.5, 2.0, 0.0, 1.0],
                    scaled_mean: vec![0.1, -0.2, 0.0, 0.3],
                    weight_sum: w.iter().sum(),
                    reg_l2: 0.3,
                    standardization,
                    input_map: None,
                };
                let p: Vec<f64> = (0..5 * c).map(|i| (i as f64 * 0.37).sin()).collect();
                let (_, g) = loss.calculate(&p).unwrap();
                for i in 0..p.len() {
                    let h = 1e-6;
                    let mut a = p.clone();
                    a[i] += h;
                    let mut b = p.clone();
                    b[i] -= h;
                    let fd =
                        (loss.calculate(&a).unwrap().0 - loss.calculate(&b).unwrap().0) / (2.0 * h);
                    assert!((fd - g[i]).abs() < 1e-7, "C={c} i={i}: {fd} vs {}", g[i]);
                }
            }
        }
    }
}
