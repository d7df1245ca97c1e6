//! Spark's hinge loss (`HingeBlockAggregator`, used by `LinearSVC`), evaluated in parallel
//! over row blocks.
//!
//! As for the logistic loss, the optimiser works in Spark's scaled space (`x̃ = x / σ`,
//! virtually centred when fitting an intercept) while the data stay raw: each pass is the
//! logistic loss's binary pass (`logistic::binary_pass`: margins with `β̃ / σ`, then the
//! gradient, chunk by chunk while the rows are in L1) with the hinge as its link. Blocks have a fixed size and merge in block order, so the
//! result is the same for any thread count.

use rayon::prelude::*;

use super::lbfgs::DiffFunction;
use super::logistic::{binary_pass, BinaryLink, Block};
use crate::error::{Error, Result};

/// The objective Spark's `LinearSVC` minimises: the weighted mean of
/// `max(0, 1 − (2y − 1)·m)` plus `½λ‖β̃‖²` (or `½λ‖β‖²` without standardization), over
/// parameters `[β̃₀ … β̃_{F−1}, b]` (`b` only when fitting an intercept).
#[derive(Debug)]
pub struct HingeLoss<'a> {
    /// The data; labels are 0 or 1.
    pub blocks: Vec<Block<'a>>,
    /// Number of features `F`.
    pub num_features: usize,
    /// Whether the intercept is fitted (it follows the coefficients).
    pub fit_intercept: bool,
    /// `1/σ_j`, 0 where σ_j = 0.
    pub inv_std: Vec<f64>,
    /// `μ_j / σ_j` for virtual centring, or empty when not centring.
    pub scaled_mean: Vec<f64>,
    /// Sum of all weights.
    pub weight_sum: f64,
    /// `λ` (Spark's `regParam`).
    pub reg_l2: f64,
    /// Spark's `standardization`: with `false`, L2 is on the original-space coefficients.
    pub standardization: bool,
}

/// Spark's hinge `max(0, 1 − (2y − 1)·m)`, whose multiplier is `−(2y − 1)` where the
/// hinge is active and 0 elsewhere.
struct HingeLink;

impl BinaryLink for HingeLink {
    fn chunk(&self, m: &[f64], y: &[f64], w: Option<&[f64]>, mult: &mut [f64], loss: &mut f64) {
        for t in 0..m.len() {
            let w = w.map_or(1.0, |w| w[t]);
            let s = y[t] + y[t] - 1.0;
            // A zero weight gives 0 here: an inactive hinge.
            let l = (1.0 - s * m[t]) * w;
            // Branch-free: an inactive hinge adds 0 (about half the rows are active, so a
            // branch here would be mispredicted often).
            let active = l > 0.0;
            *loss += if active { l } else { 0.0 };
            mult[t] = if active { -s * w } else { 0.0 };
        }
    }
}

impl DiffFunction for HingeLoss<'_> {
    fn calculate(&mut self, params: &[f64]) -> Result<(f64, Vec<f64>)> {
        if self.weight_sum <= 0.0 {
            return Err(Error::Internal(
                "hinge loss with a non-positive weight sum".into(),
            ));
        }
        let f = self.num_features;
        let eff: Vec<f64> = (0..f).map(|j| params[j] * self.inv_std[j]).collect();
        let shift: f64 = if self.scaled_mean.is_empty() {
            0.0
        } else {
            (0..f).map(|j| params[j] * self.scaled_mean[j]).sum()
        };
        let offset = if self.fit_intercept { params[f] } else { 0.0 } - shift;
        let this = &*self;
        let partials: Vec<_> = this
            .blocks
            .par_iter()
            .map(|b| binary_pass(b, f, &eff, offset, None, &HingeLink))
            .collect();
        // Merge in block order: the same sums for any thread count.
        let (mut loss, mut msum) = (0.0, 0.0);
        let mut graw = vec![0.0; f];
        for p in &partials {
            loss += p.loss;
            msum += p.msum;
            for (a, b) in graw.iter_mut().zip(&p.grad) {
                *a += b;
            }
        }
        let w = self.weight_sum;
        let mut grad = vec![0.0; params.len()];
        for j in 0..f {
            let centred = if self.scaled_mean.is_empty() {
                0.0
            } else {
                msum * self.scaled_mean[j]
            };
            grad[j] = (graw[j] * self.inv_std[j] - centred) / w;
        }
        if self.fit_intercept {
            grad[f] = msum / w;
        }
        let value = loss / w
            + super::logistic::add_l2(
                params,
                &mut grad,
                self.reg_l2,
                &self.inv_std,
                self.standardization,
                f,
                1,
            );
        Ok((value, grad))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::logistic::Features;

    /// Away from the hinge's kinks the gradient agrees with central finite differences,
    /// with weights, centring and both L2 forms.
    #[test]
    fn gradient_matches_finite_differences() {
        let x: Vec<f64> = (0..40)
            .map(|i| ((i * 7919) % 23) as f64 / 5.0 - 2.0)
            .collect();
        let y: Vec<f64> = (0..10).map(|i| (i % 2) as f64).collect();
        let w: Vec<f64> = (0..10).map(|i| 0.5 + (i % 3) as f64).collect();
        for standardization in [true, false] {
            let mut loss = HingeLoss {
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
                fit_intercept: true,
                inv_std: vec![0.5, 2.0, 0.0, 1.0],
                scaled_mean: vec![0.1, -0.2, 0.0, 0.3],
                weight_sum: w.iter().sum(),
                reg_l2: 0.3,
                standardization,
            };
            let p: Vec<f64> = (0..5).map(|i| (i as f64 * 0.37).sin()).collect();
            let (_, g) = loss.calculate(&p).unwrap();
            for i in 0..p.len() {
                let h = 1e-7;
                let mut a = p.clone();
                a[i] += h;
                let mut b = p.clone();
                b[i] -= h;
                let fd =
                    (loss.calculate(&a).unwrap().0 - loss.calculate(&b).unwrap().0) / (2.0 * h);
                assert!((fd - g[i]).abs() < 1e-6, "i={i}: {fd} vs {}", g[i]);
            }
        }
    }

    /// At zero coefficients and intercept every margin is 0, so every hinge is active and
    /// the loss is 1 (Spark's `objectiveHistory[0]` with an intercept).
    #[test]
    fn loss_at_zero_is_one() {
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [0.0, 1.0];
        let mut loss = HingeLoss {
            blocks: vec![Block {
                x: Features::Dense(&x),
                y: &y,
                w: None,
            }],
            num_features: 2,
            fit_intercept: true,
            inv_std: vec![1.0, 1.0],
            scaled_mean: vec![2.0, 3.0],
            weight_sum: 2.0,
            reg_l2: 0.0,
            standardization: true,
        };
        let (v, g) = loss.calculate(&[0.0, 0.0, 0.0]).unwrap();
        assert_eq!(v, 1.0);
        // Σ mult = (+1) + (−1) = 0 → intercept gradient 0.
        assert_eq!(g[2], 0.0);
    }
}
