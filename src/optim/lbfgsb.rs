//! The box-constrained part of breeze 2.1's `LBFGSB` (Byrd, Lu, Nocedal and Zhu 1995, as
//! breeze implements it): the compact limited-memory matrices `W` and `M`, the generalised
//! Cauchy point, the direct primal subspace minimisation, and the projected-gradient
//! convergence test. [`Lbfgs`](super::Lbfgs) runs the outer loop.
//!
//! Faithful to breeze 2.1.0 (the version Spark 4 ships, checked against its bytecode) where
//! Spark's iterations depend on it: the first iteration steps to the Cauchy point without a
//! subspace minimisation; the Cauchy point and the subspace minimum are clipped into the
//! box (`adjustWithinBound`), so a full step never leaves it. Where breeze would throw an
//! exception that Spark does not catch (a singular matrix, a step length outside [0, 1]),
//! this module reports a failed step, which the outer loop answers as it does a failed
//! line search: reset the history, stop on the second failure in a row.

// The loops index several arrays at once to follow breeze's (and the paper's) formulas.
#![allow(clippy::needless_range_loop)]

/// breeze's curvature-test epsilon.
const EPS: f64 = 2.2e-16;

/// breeze's `PROJ_GRADIENT_EPS`.
pub(super) const PROJECTED_GRADIENT_TOL: f64 = 1e-5;

/// Lower and upper bounds of every coordinate (±∞ where unbounded).
#[derive(Clone, Debug)]
pub(super) struct Bounds {
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// breeze's `LBFGSB.History`: θ, `W = [Y, θS]` (n × 2k, row-major), `M` (2k × 2k) and
/// the kept `s`/`y` pairs, oldest first. Before the first update, `W` and `M` are empty:
/// breeze's all-zero matrices contribute exactly nothing, and so do empty ones.
#[derive(Clone, Debug)]
pub(super) struct CompactHistory {
    m: usize,
    theta: f64,
    w: Vec<f64>,
    cols: usize,
    mm: Vec<f64>,
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `A·v` for a row-major `rows × cols` matrix.
fn mat_vec(a: &[f64], rows: usize, cols: usize, v: &[f64]) -> Vec<f64> {
    (0..rows)
        .map(|i| dot(&a[i * cols..(i + 1) * cols], v))
        .collect()
}

/// Java's `Math.max`: `NaN` if either argument is.
fn java_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Java's `Math.min`: `NaN` if either argument is.
fn java_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// LU factorisation with partial pivoting (LAPACK `dgetrf`'s pivot choice), in place.
/// `None` when the matrix is singular.
fn lu(a: &mut [f64], n: usize) -> Option<Vec<usize>> {
    let mut piv = vec![0; n];
    for k in 0..n {
        // The first row with the largest |a[i][k]|, as LAPACK's idamax.
        let mut p = k;
        for i in k + 1..n {
            if a[i * n + k].abs() > a[p * n + k].abs() {
                p = i;
            }
        }
        piv[k] = p;
        if a[p * n + k] == 0.0 || !a[p * n + k].is_finite() {
            return None;
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
        }
        let d = a[k * n + k];
        for i in k + 1..n {
            a[i * n + k] /= d;
            let l = a[i * n + k];
            for j in k + 1..n {
                a[i * n + j] -= l * a[k * n + j];
            }
        }
    }
    Some(piv)
}

/// Solves `A x = b` from [`lu`]'s factors.
fn lu_solve(f: &[f64], piv: &[usize], n: usize, b: &mut [f64]) {
    for k in 0..n {
        b.swap(k, piv[k]);
    }
    for i in 0..n {
        for j in 0..i {
            b[i] -= f[i * n + j] * b[j];
        }
    }
    for i in (0..n).rev() {
        for j in i + 1..n {
            b[i] -= f[i * n + j] * b[j];
        }
        b[i] /= f[i * n + i];
    }
}

/// The inverse of a row-major `n × n` matrix; `None` when it is singular.
fn inverse(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut f = a.to_vec();
    let piv = lu(&mut f, n)?;
    let mut inv = vec![0.0; n * n];
    let mut col = vec![0.0; n];
    for j in 0..n {
        col.iter_mut().for_each(|c| *c = 0.0);
        col[j] = 1.0;
        lu_solve(&f, &piv, n, &mut col);
        for i in 0..n {
            inv[i * n + j] = col[i];
        }
    }
    inv.iter().all(|v| v.is_finite()).then_some(inv)
}

impl CompactHistory {
    /// breeze's `initialize`: θ = 1, no pairs.
    pub fn new(m: usize) -> Self {
        Self {
            m,
            theta: 1.0,
            w: Vec::new(),
            cols: 0,
            mm: Vec::new(),
            s: Vec::new(),
            y: Vec::new(),
        }
    }

    /// Row `i` of `W`.
    fn w_row(&self, i: usize) -> &[f64] {
        &self.w[i * self.cols..(i + 1) * self.cols]
    }

    /// `M·v`.
    fn m_times(&self, v: &[f64]) -> Vec<f64> {
        mat_vec(&self.mm, self.cols, self.cols, v)
    }

    /// breeze's `updateSkYkHessianApproxMat`: keeps the pair only if it passes the
    /// curvature test `EPS·‖y‖ < |sᵀy|`, then rebuilds θ, `W` and `M`. `Err` when the
    /// middle matrix is singular (breeze throws).
    pub fn update(&mut self, s: Vec<f64>, y: Vec<f64>) -> Result<(), ()> {
        let sy = dot(&s, &y);
        let curvature_ok = EPS * dot(&y, &y).sqrt() < sy.abs();
        if !curvature_ok {
            return Ok(());
        }
        let (mut ss, mut ys) = (self.s.clone(), self.y.clone());
        if ss.len() == self.m {
            ss.remove(0);
            ys.remove(0);
        }
        ss.push(s);
        ys.push(y);
        let theta = dot(&ys[ys.len() - 1], &ys[ys.len() - 1]) / sy;
        let (n, k) = (ss[0].len(), ss.len());
        let cols = 2 * k;
        let mut w = vec![0.0; n * cols];
        for i in 0..n {
            for j in 0..k {
                w[i * cols + j] = ys[j][i];
                w[i * cols + k + j] = ss[j][i] * theta;
            }
        }
        // MM = [[-diag(SᵀY), Lᵀ], [L, θ SᵀS]] with L the strictly lower part of SᵀY.
        let mut mm = vec![0.0; cols * cols];
        for i in 0..k {
            for j in 0..k {
                let a = dot(&ss[i], &ys[j]);
                if i == j {
                    mm[i * cols + j] = -a;
                }
                if i > j {
                    mm[(k + i) * cols + j] = a;
                    mm[j * cols + k + i] = a;
                }
                mm[(k + i) * cols + k + j] = dot(&ss[i], &ss[j]) * theta;
            }
        }
        let inv = inverse(&mm, cols).ok_or(())?;
        *self = Self {
            m: self.m,
            theta,
            w,
            cols,
            mm: inv,
            s: ss,
            y: ys,
        };
        Ok(())
    }
}

impl Bounds {
    /// Clips `x` into the box (breeze's `takeStep`).
    pub fn clip(&self, x: &mut [f64]) {
        for ((v, l), u) in x.iter_mut().zip(&self.lower).zip(&self.upper) {
            if *v > *u {
                *v = *u;
            }
            if *v < *l {
                *v = *l;
            }
        }
    }

    /// `‖P(x − g) − x‖∞ < 1e-5`: breeze's `bfgsbConvergenceTest`.
    pub fn projected_gradient_converged(&self, x: &[f64], g: &[f64]) -> bool {
        let mut norm = 0.0f64;
        for i in 0..x.len() {
            let v = x[i] - g[i];
            let d = if v <= self.lower[i] {
                self.lower[i] - x[i]
            } else if self.upper[i] <= v {
                self.upper[i] - x[i]
            } else {
                v - x[i]
            };
            norm = java_max(norm, d.abs());
        }
        norm.abs() < PROJECTED_GRADIENT_TOL
    }

    /// The largest step along `dir` that stays in the box, and the first trial step
    /// (breeze's `determineStepSize`: 1, which the clipped direction guarantees is within
    /// the bound; `min(bound, 1)` here rather than breeze's failed `require`).
    pub fn step_bound(&self, x: &[f64], dir: &[f64]) -> (f64, f64) {
        let mut bound = f64::INFINITY;
        for i in 0..x.len() {
            let d = dir[i];
            if d != 0.0 {
                let b = if d < 0.0 {
                    self.lower[i]
                } else {
                    self.upper[i]
                };
                let step = (b - x[i]) / d;
                if step < bound {
                    bound = step;
                }
            }
        }
        (bound, if bound < 1.0 { bound } else { 1.0 })
    }

    /// The search direction: to the generalised Cauchy point on the first iteration, to
    /// the subspace minimum after that. `Err` when breeze would throw (a singular matrix)
    /// or the direction is not a number.
    pub fn direction(
        &self,
        h: &CompactHistory,
        x: &[f64],
        g: &[f64],
        first: bool,
    ) -> Result<Vec<f64>, ()> {
        let (mut xc, c) = self.cauchy_point(h, x, g);
        self.clip(&mut xc);
        let target = if first {
            xc
        } else {
            let mut t = self.subspace_minimum(h, &xc, x, &c, g)?;
            self.clip(&mut t);
            t
        };
        let dir: Vec<f64> = target.iter().zip(x).map(|(t, x)| t - x).collect();
        if dir.iter().any(|d| d.is_nan()) {
            return Err(());
        }
        Ok(dir)
    }

    /// breeze's `getGeneralizedCauchyPoint`: the first local minimiser of the quadratic
    /// model along the projected steepest-descent path, and `c = Wᵀ(xc − x)`.
    fn cauchy_point(&self, h: &CompactHistory, x: &[f64], g: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = x.len();
        let (l, u) = (&self.lower, &self.upper);
        let mut d = vec![0.0; n];
        let t: Vec<f64> = (0..n)
            .map(|i| {
                if g[i] == 0.0 {
                    f64::MAX
                } else {
                    let ti = if g[i] < 0.0 {
                        (x[i] - u[i]) / g[i]
                    } else {
                        (x[i] - l[i]) / g[i]
                    };
                    d[i] = if ti == 0.0 { 0.0 } else { -g[i] };
                    ti
                }
            })
            .collect();
        let mut xc = x.to_vec();
        let theta = h.theta;
        // p = Wᵀd
        let mut p = vec![0.0; h.cols];
        for (i, di) in d.iter().enumerate() {
            if h.cols > 0 {
                for (pj, wij) in p.iter_mut().zip(h.w_row(i)) {
                    *pj += wij * di;
                }
            }
        }
        let mut c = vec![0.0; h.cols];
        let mut f1 = dot(g, &d);
        let mut f2 = -theta * f1 - dot(&p, &h.m_times(&p));
        let mut dt_min = -(f1 / f2);
        let mut old_t = 0.0;
        // Stable, as Scala's sortWith.
        let mut sorted: Vec<usize> = (0..n).collect();
        sorted.sort_by(|&a, &b| t[a].partial_cmp(&t[b]).unwrap_or(std::cmp::Ordering::Equal));
        // Every coordinate at a bound it is pushed against: x is its own Cauchy point
        // (breeze would index out of bounds; the projected-gradient test stops first).
        let Some(mut i) = sorted.iter().position(|&k| t[k] != 0.0) else {
            return (xc, c);
        };
        let mut b = sorted[i];
        let mut min_t = t[b];
        let mut delta_t = min_t - old_t;
        while delta_t <= dt_min && i < n {
            xc[b] = if 0.0 < d[b] { u[b] } else { l[b] };
            let zb = xc[b] - x[b];
            for (cj, pj) in c.iter_mut().zip(&p) {
                *cj += pj * delta_t;
            }
            let gb = g[b];
            let wb: &[f64] = if h.cols > 0 { h.w_row(b) } else { &[] };
            let mc = h.m_times(&c);
            let wg_mc: f64 = wb.iter().zip(&mc).map(|(w, m)| (w * gb) * m).sum();
            f1 += delta_t * f2 + gb * gb + theta * gb * zb - wg_mc;
            let mp = h.m_times(&p);
            let mwb = h.m_times(wb);
            f2 += -theta * gb * gb - 2.0 * (gb * dot(wb, &mp)) - gb * gb * dot(wb, &mwb);
            for (pj, wj) in p.iter_mut().zip(wb) {
                *pj += wj * gb;
            }
            d[b] = 0.0;
            dt_min = -f1 / f2;
            old_t = min_t;
            i += 1;
            if i < n {
                b = sorted[i];
                min_t = t[b];
                delta_t = min_t - old_t;
            }
        }
        let dt_min = java_max(dt_min, 0.0);
        old_t += dt_min;
        for &k in &sorted[i.min(n)..] {
            xc[k] = x[k] + old_t * d[k];
        }
        for (cj, pj) in c.iter_mut().zip(&p) {
            *cj += pj * dt_min;
        }
        (xc, c)
    }

    /// breeze's `subspaceMinimization` (direct primal method) over the coordinates that
    /// are free at the Cauchy point, with its step length `findAlpha`: the largest
    /// `α ≤ 1` that keeps the free coordinates in the box.
    fn subspace_minimum(
        &self,
        h: &CompactHistory,
        xc: &[f64],
        x: &[f64],
        c: &[f64],
        g: &[f64],
    ) -> Result<Vec<f64>, ()> {
        let inv_theta = 1.0 / h.theta;
        let free: Vec<usize> = (0..x.len())
            .filter(|&i| xc[i] != self.upper[i] && xc[i] != self.lower[i])
            .collect();
        let k2 = h.cols;
        // r = g + θ(xc − x) − W·M·c, on the free coordinates.
        let mc = h.m_times(c);
        let rc: Vec<f64> = free
            .iter()
            .map(|&i| {
                let wmc = if k2 > 0 { dot(h.w_row(i), &mc) } else { 0.0 };
                g[i] + (xc[i] - x[i]) * h.theta - wmc
            })
            .collect();
        let mut du: Vec<f64> = rc.iter().map(|r| r * inv_theta).collect();
        if k2 > 0 {
            // v = M·(WZ·rc), with WZ = Wᵀ restricted to the free rows.
            let mut wz_rc = vec![0.0; k2];
            for (fi, &i) in free.iter().enumerate() {
                for (a, w) in wz_rc.iter_mut().zip(h.w_row(i)) {
                    *a += w * rc[fi];
                }
            }
            let mut v = h.m_times(&wz_rc);
            // N = I − M·(WZ·WZᵀ / θ)
            let mut wzwz = vec![0.0; k2 * k2];
            for &i in &free {
                let wr = h.w_row(i);
                for a in 0..k2 {
                    for b in 0..k2 {
                        wzwz[a * k2 + b] += wr[a] * wr[b];
                    }
                }
            }
            wzwz.iter_mut().for_each(|v| *v *= inv_theta);
            let mut nn = vec![0.0; k2 * k2];
            for a in 0..k2 {
                for b in 0..k2 {
                    let mn: f64 = (0..k2).map(|q| h.mm[a * k2 + q] * wzwz[q * k2 + b]).sum();
                    nn[a * k2 + b] = if a == b { 1.0 } else { 0.0 } - mn;
                }
            }
            let piv = lu(&mut nn, k2).ok_or(())?;
            lu_solve(&nn, &piv, k2, &mut v);
            for (fi, &i) in free.iter().enumerate() {
                du[fi] += dot(h.w_row(i), &v) * (inv_theta * inv_theta);
            }
        }
        du.iter_mut().for_each(|d| *d = -*d);
        let mut alpha = 1.0f64;
        for (fi, &i) in free.iter().enumerate() {
            if 0.0 < du[fi] {
                alpha = java_min(alpha, (self.upper[i] - xc[i]) / du[fi]);
            } else if 0.0 > du[fi] {
                alpha = java_min(alpha, (self.lower[i] - xc[i]) / du[fi]);
            }
        }
        // breeze asserts this (and Spark would fail).
        if !(0.0..=1.0).contains(&alpha) {
            return Err(());
        }
        let mut out = xc.to_vec();
        for (fi, &i) in free.iter().enumerate() {
            out[i] += du[fi] * alpha;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_of_a_permuted_matrix() {
        // Needs pivoting: the leading entry is 0.
        let a = [0.0, 2.0, 1.0, 1.0, 1.0, 0.0, 3.0, 0.0, 1.0];
        let inv = inverse(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| a[i * 3 + k] * inv[k * 3 + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-12, "A·A⁻¹[{i}][{j}] = {v}");
            }
        }
        assert!(inverse(&[1.0, 2.0, 2.0, 4.0], 2).is_none(), "singular");
    }

    #[test]
    fn cauchy_point_of_steepest_descent_stops_at_the_bound() {
        // Empty history: the model is ½θ‖z‖² + gᵀz with θ = 1, so the unconstrained
        // minimiser along −g is x − g; a bound on the way stops that coordinate there.
        let b = Bounds {
            lower: vec![-0.5, f64::NEG_INFINITY],
            upper: vec![f64::INFINITY, f64::INFINITY],
        };
        let h = CompactHistory::new(10);
        let (xc, c) = b.cauchy_point(&h, &[0.0, 0.0], &[1.0, -2.0]);
        assert!(c.is_empty());
        assert_eq!(xc, vec![-0.5, 2.0]);
    }

    #[test]
    fn projected_gradient_ignores_pushes_against_an_active_bound() {
        let b = Bounds {
            lower: vec![0.0, 0.0],
            upper: vec![1.0, 1.0],
        };
        assert!(b.projected_gradient_converged(&[0.0, 1.0], &[3.0, -3.0]));
        assert!(!b.projected_gradient_converged(&[0.5, 1.0], &[3.0, -3.0]));
    }
}
