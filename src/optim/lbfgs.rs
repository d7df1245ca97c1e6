//! L-BFGS, OWL-QN and L-BFGS-B with breeze 2.1's exact iteration, line searches and
//! convergence test (Spark reference §3.6–3.7), so iteration counts and objective
//! histories track Spark's.

use super::lbfgsb::{Bounds, CompactHistory};
use crate::error::{Error, Result};

/// A differentiable objective: value and gradient at `x`.
pub trait DiffFunction {
    /// Evaluates the objective and its gradient at `x`.
    fn calculate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)>;
}

/// Why the optimiser stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// `maxIter` iterations were run.
    MaxIterations,
    /// No progress over the last 20 iterations (relative to the initial value).
    FunctionValuesConverged,
    /// `‖∇f‖ ≤ max(tol·|f|, 1e-8)`.
    GradientConverged,
    /// The line search failed twice in a row.
    SearchFailed,
    /// L-BFGS-B only: the projected gradient step `‖P(x − ∇f) − x‖∞` is below 1e-5.
    ProjectedGradientConverged,
}

/// One optimiser state, reported to the iteration callback.
#[derive(Clone, Debug)]
pub struct IterationInfo {
    /// Iteration number (0 is the initial point).
    pub iteration: usize,
    /// The objective, including the L1 term for OWL-QN.
    pub objective: f64,
    /// Norm of the (pseudo-)gradient.
    pub gradient_norm: f64,
}

/// Result of a minimisation.
#[derive(Clone, Debug)]
pub struct Minimum {
    /// The solution.
    pub x: Vec<f64>,
    /// The objective of every state, the initial one included (Spark's `objectiveHistory`).
    pub objective_history: Vec<f64>,
    /// Why it stopped.
    pub reason: StopReason,
    /// Number of objective evaluations (passes over the data).
    pub evaluations: usize,
}

/// L-BFGS, OWL-QN when L1 weights are given, L-BFGS-B when bounds are given (breeze's
/// `LBFGS`, `OWLQN` and `LBFGSB`).
///
/// # Examples
/// ```
/// use mlpipe::optim::{DiffFunction, Lbfgs};
/// struct Quad;
/// impl DiffFunction for Quad {
///     fn calculate(&mut self, x: &[f64]) -> mlpipe::Result<(f64, Vec<f64>)> {
///         let f = (x[0] - 3.0).powi(2) + 2.0 * (x[1] + 1.0).powi(2);
///         Ok((f, vec![2.0 * (x[0] - 3.0), 4.0 * (x[1] + 1.0)]))
///     }
/// }
/// let min = Lbfgs::new(100, 10, 1e-9).minimize(&mut Quad, vec![0.0, 0.0], |_| {}).unwrap();
/// assert!((min.x[0] - 3.0).abs() < 1e-6 && (min.x[1] + 1.0).abs() < 1e-6);
///
/// // The same with x₀ ≤ 2 and x₁ ≥ 0: the solution sits on both bounds.
/// let min = Lbfgs::new(100, 10, 1e-9)
///     .with_bounds(vec![f64::NEG_INFINITY, 0.0], vec![2.0, f64::INFINITY])
///     .minimize(&mut Quad, vec![0.0, 0.0], |_| {})
///     .unwrap();
/// assert_eq!(min.x, vec![2.0, 0.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Lbfgs {
    /// Maximum number of iterations.
    pub max_iter: usize,
    /// History length (Spark uses 10).
    pub m: usize,
    /// Convergence tolerance.
    pub tol: f64,
    /// L-BFGS, OWL-QN or L-BFGS-B.
    method: Method,
}

/// Which of breeze's minimisers runs: they share the outer loop and the convergence test.
#[derive(Clone, Debug)]
enum Method {
    /// Plain L-BFGS.
    Lbfgs,
    /// OWL-QN with per-coordinate L1 weights.
    Owlqn(Vec<f64>),
    /// L-BFGS-B with a per-coordinate box.
    Lbfgsb(Bounds),
}

struct State {
    x: Vec<f64>,
    value: f64,
    grad: Vec<f64>,
    adj_value: f64,
    adj_grad: Vec<f64>,
    iter: usize,
}

/// A failed step that breeze answers by resetting the history (`FirstOrderException`).
enum StepError {
    Failure,
    Data(crate::Error),
}

impl From<crate::Error> for StepError {
    fn from(e: crate::Error) -> Self {
        StepError::Data(e)
    }
}

/// Caches the last evaluation, as breeze's `CachedDiffFunction` does.
struct Cached<'a, F: DiffFunction> {
    f: &'a mut F,
    last: Option<(Vec<f64>, f64, Vec<f64>)>,
    evaluations: usize,
}

impl<F: DiffFunction> Cached<'_, F> {
    fn calc(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
        if let Some((lx, v, g)) = &self.last {
            if lx.len() == x.len() && lx.iter().zip(x).all(|(a, b)| a.to_bits() == b.to_bits()) {
                return Ok((*v, g.clone()));
            }
        }
        let (v, g) = self.f.calculate(x)?;
        self.evaluations += 1;
        self.last = Some((x.to_vec(), v, g.clone()));
        Ok((v, g))
    }
}

/// The optimiser's memory: the two-loop pairs (L-BFGS, OWL-QN) or breeze's compact
/// matrices and the box they work in (L-BFGS-B).
enum Memory<'a> {
    TwoLoop(History),
    Compact(CompactHistory, &'a Bounds),
}

/// The two-loop recursion's pairs (newest first).
struct History {
    m: usize,
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

impl History {
    fn new(m: usize) -> Self {
        Self {
            m,
            s: Vec::new(),
            y: Vec::new(),
        }
    }

    fn update(&mut self, s: Vec<f64>, y: Vec<f64>) {
        self.s.insert(0, s);
        self.y.insert(0, y);
        self.s.truncate(self.m);
        self.y.truncate(self.m);
    }

    /// The descent direction `-H g` by the two-loop recursion.
    fn direction(&self, g: &[f64]) -> std::result::Result<Vec<f64>, StepError> {
        let k = self.s.len();
        let diag = if k > 0 {
            let sy = dot(&self.s[0], &self.y[0]);
            let yy = dot(&self.y[0], &self.y[0]);
            if sy < 0.0 || sy.is_nan() {
                return Err(StepError::Failure);
            }
            sy / yy
        } else {
            1.0
        };
        let mut dir = g.to_vec();
        let mut a = vec![0.0; k];
        let mut rho = vec![0.0; k];
        for i in 0..k {
            rho[i] = dot(&self.s[i], &self.y[i]);
            a[i] = dot(&self.s[i], &dir) / rho[i];
            if a[i].is_nan() {
                return Err(StepError::Failure);
            }
            for (d, y) in dir.iter_mut().zip(&self.y[i]) {
                *d -= a[i] * y;
            }
        }
        for d in dir.iter_mut() {
            *d *= diag;
        }
        for i in (0..k).rev() {
            let beta = dot(&self.y[i], &dir) / rho[i];
            for (d, s) in dir.iter_mut().zip(&self.s[i]) {
                *d += (a[i] - beta) * s;
            }
        }
        for d in dir.iter_mut() {
            *d = -*d;
        }
        Ok(dir)
    }
}

/// Number of function values the convergence test remembers (breeze's `fvalMemory`).
const FVAL_MEMORY: usize = 20;

impl Lbfgs {
    /// L-BFGS with `max_iter` iterations, history `m` and tolerance `tol`.
    pub fn new(max_iter: usize, m: usize, tol: f64) -> Self {
        Self {
            max_iter,
            m,
            tol,
            method: Method::Lbfgs,
        }
    }

    /// Switches to L-BFGS-B with per-coordinate bounds (±∞ where unbounded), as breeze's
    /// `LBFGSB`: strong-Wolfe line search of up to 64 steps and 64 zooms, bounded by the
    /// box, and the extra convergence test `‖P(x − ∇f) − x‖∞ < 1e-5`. The starting point
    /// must lie in the box. Replaces OWL-QN if [`with_l1`](Self::with_l1) was called:
    /// breeze (and Spark) bound L2-regularised fits only.
    pub fn with_bounds(mut self, lower: Vec<f64>, upper: Vec<f64>) -> Self {
        self.method = Method::Lbfgsb(Bounds { lower, upper });
        self
    }

    fn new_memory(&self) -> Memory<'_> {
        match &self.method {
            Method::Lbfgsb(b) => Memory::Compact(CompactHistory::new(self.m), b),
            _ => Memory::TwoLoop(History::new(self.m)),
        }
    }

    fn l1(&self) -> Option<&[f64]> {
        match &self.method {
            Method::Owlqn(w) => Some(w),
            _ => None,
        }
    }

    fn bounds(&self) -> Option<&Bounds> {
        match &self.method {
            Method::Lbfgsb(b) => Some(b),
            _ => None,
        }
    }

    /// Checks that the bounds fit `x0` and contain it.
    fn check_start(&self, x0: &[f64]) -> Result<()> {
        let Some(b) = self.bounds() else {
            return Ok(());
        };
        let stage = "L-BFGS-B";
        if b.lower.len() != x0.len() || b.upper.len() != x0.len() {
            return Err(Error::param(
                stage,
                "bounds",
                format!("{} lower and upper bounds, one per coordinate", x0.len()),
                format!("{} and {}", b.lower.len(), b.upper.len()),
            ));
        }
        for (i, (&x, (&l, &u))) in x0.iter().zip(b.lower.iter().zip(&b.upper)).enumerate() {
            if !(l..=u).contains(&x) {
                return Err(Error::param(
                    stage,
                    "x0",
                    "a starting point inside the bounds, with lower <= upper",
                    format!("x0[{i}] = {x} with bounds [{l}, {u}]"),
                ));
            }
        }
        Ok(())
    }

    /// Switches to OWL-QN with per-coordinate L1 weights (replacing bounds, if any).
    pub fn with_l1(mut self, weights: Vec<f64>) -> Self {
        self.method = Method::Owlqn(weights);
        self
    }

    /// OWL-QN's adjusted value and pseudo-gradient (identity for L-BFGS).
    fn adjust(&self, x: &[f64], g: &[f64], v: f64) -> (f64, Vec<f64>) {
        let Some(l1) = self.l1() else {
            return (v, g.to_vec());
        };
        let mut adj = v;
        let res = x
            .iter()
            .zip(g)
            .zip(l1)
            .map(|((&xv, &gv), &w)| {
                if w == 0.0 {
                    return gv;
                }
                adj += (w * xv).abs();
                if xv == 0.0 {
                    let (plus, minus) = (gv + w, gv - w);
                    if minus > 0.0 {
                        minus
                    } else if plus < 0.0 {
                        plus
                    } else {
                        0.0
                    }
                } else {
                    gv + xv.signum() * w
                }
            })
            .collect();
        (adj, res)
    }

    fn take_step(&self, st: &State, dir: &[f64], t: f64) -> Vec<f64> {
        let mut stepped: Vec<f64> = st.x.iter().zip(dir).map(|(x, d)| x + d * t).collect();
        match &self.method {
            Method::Lbfgs => return stepped,
            Method::Lbfgsb(b) => {
                b.clip(&mut stepped);
                return stepped;
            }
            Method::Owlqn(_) => {}
        }
        // Project onto the orthant of x (or of -pseudo-gradient where x is 0).
        stepped
            .iter()
            .zip(st.x.iter().zip(&st.adj_grad))
            .map(|(&v, (&x, &g))| {
                let orth = if x != 0.0 { signum(x) } else { signum(-g) };
                if signum(v) == orth {
                    v
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn direction(&self, st: &State, mem: &Memory) -> std::result::Result<Vec<f64>, StepError> {
        let hist = match mem {
            Memory::TwoLoop(h) => h,
            Memory::Compact(h, b) => {
                return b
                    .direction(h, &st.x, &st.grad, st.iter == 0)
                    .map_err(|()| StepError::Failure)
            }
        };
        if self.l1().is_none() {
            return hist.direction(&st.grad);
        }
        let d = hist.direction(&st.adj_grad)?;
        Ok(d.iter()
            .zip(&st.adj_grad)
            .map(|(&d, &g)| if d * g < 0.0 { d } else { 0.0 })
            .collect())
    }

    fn step_size<F: DiffFunction>(
        &self,
        f: &mut Cached<'_, F>,
        st: &State,
        dir: &[f64],
    ) -> std::result::Result<f64, StepError> {
        if let Some(b) = self.bounds() {
            let (bound, init) = b.step_bound(&st.x, dir);
            let mut phi = |t: f64| -> Result<(f64, f64)> {
                let (v, g) = f.calc(&self.take_step(st, dir, t))?;
                Ok((v, dot(&g, dir)))
            };
            strong_wolfe(&mut phi, init, bound, 64, 64)
        } else if self.l1().is_none() {
            let init = if st.iter == 0 { 1.0 / norm(dir) } else { 1.0 };
            let mut phi = |t: f64| -> Result<(f64, f64)> {
                let x: Vec<f64> = st.x.iter().zip(dir).map(|(x, d)| x + d * t).collect();
                let (v, g) = f.calc(&x)?;
                Ok((v, dot(&g, dir)))
            };
            let alpha = strong_wolfe(&mut phi, init, f64::INFINITY, 10, 10)?;
            if alpha * norm(&st.grad) < 1e-10 {
                return Err(StepError::Failure);
            }
            Ok(alpha)
        } else {
            let (init, shrink) = if st.iter < 1 {
                (0.5 / norm(&st.grad), 0.1)
            } else {
                (1.0, 0.5)
            };
            let mut phi = |t: f64| -> Result<(f64, f64)> {
                let x = self.take_step(st, dir, t);
                let (v, g) = f.calc(&x)?;
                let (av, ag) = self.adjust(&x, &g, v);
                Ok((av, dot(&ag, dir)))
            };
            backtracking(&mut phi, st.value, init, shrink)
        }
    }

    /// Minimises `f` from `x0`, calling `on_iter` for every state (the initial one
    /// included).
    ///
    /// # Errors
    /// Only the errors of `f` itself; optimiser trouble ends the run with
    /// [`StopReason::SearchFailed`], as in Spark.
    pub fn minimize<F: DiffFunction>(
        &self,
        f: &mut F,
        x0: Vec<f64>,
        mut on_iter: impl FnMut(&IterationInfo),
    ) -> Result<Minimum> {
        self.check_start(&x0)?;
        let mut cf = Cached {
            f,
            last: None,
            evaluations: 0,
        };
        let (v, g) = cf.calc(&x0)?;
        let (av, ag) = self.adjust(&x0, &g, v);
        let mut st = State {
            x: x0,
            value: v,
            grad: g,
            adj_value: av,
            adj_grad: ag,
            iter: 0,
        };
        let init_adj = st.adj_value;
        let mut hist = self.new_memory();
        let mut fvals: Vec<f64> = vec![f64::INFINITY];
        let mut failed_once = false;
        let mut search_failed = false;
        let mut history = vec![st.adj_value];
        on_iter(&IterationInfo {
            iteration: 0,
            objective: st.adj_value,
            gradient_norm: norm(&st.adj_grad),
        });
        loop {
            if let Some(reason) = self.converged(&st, &fvals, init_adj, search_failed) {
                return Ok(Minimum {
                    x: st.x,
                    objective_history: history,
                    reason,
                    evaluations: cf.evaluations,
                });
            }
            let step = (|| -> std::result::Result<State, StepError> {
                let dir = self.direction(&st, &hist)?;
                let alpha = self.step_size(&mut cf, &st, &dir)?;
                let x = self.take_step(&st, &dir, alpha);
                let (v, g) = cf.calc(&x)?;
                let (av, ag) = self.adjust(&x, &g, v);
                // breeze updates the history inside the step, so a failure there counts
                // as a failed step.
                let s: Vec<f64> = x.iter().zip(&st.x).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = g.iter().zip(&st.grad).map(|(a, b)| a - b).collect();
                match &mut hist {
                    Memory::TwoLoop(h) => h.update(s, y),
                    Memory::Compact(h, _) => h.update(s, y).map_err(|()| StepError::Failure)?,
                }
                Ok(State {
                    x,
                    value: v,
                    grad: g,
                    adj_value: av,
                    adj_grad: ag,
                    iter: st.iter + 1,
                })
            })();
            match step {
                Ok(new) => {
                    fvals.push(new.adj_value);
                    if fvals.len() > FVAL_MEMORY {
                        fvals.remove(0);
                    }
                    failed_once = false;
                    st = new;
                }
                Err(StepError::Data(e)) => return Err(e),
                Err(StepError::Failure) if !failed_once => {
                    tracing::warn!(
                        iteration = st.iter,
                        "line search failed; resetting the L-BFGS history"
                    );
                    failed_once = true;
                    hist = self.new_memory();
                }
                Err(StepError::Failure) => {
                    tracing::warn!(iteration = st.iter, "line search failed again; stopping");
                    search_failed = true;
                }
            }
            // breeze yields a state for a reset too, and Spark records every state.
            history.push(st.adj_value);
            on_iter(&IterationInfo {
                iteration: st.iter,
                objective: st.adj_value,
                gradient_norm: norm(&st.adj_grad),
            });
        }
    }

    fn converged(
        &self,
        st: &State,
        fvals: &[f64],
        init_adj: f64,
        failed: bool,
    ) -> Option<StopReason> {
        if let Some(b) = self.bounds() {
            if b.projected_gradient_converged(&st.x, &st.grad) {
                return Some(StopReason::ProjectedGradientConverged);
            }
        }
        if st.iter >= self.max_iter {
            return Some(StopReason::MaxIterations);
        }
        if fvals.len() >= 2 {
            let max = fvals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            if (st.adj_value - max).abs() <= self.tol * init_adj.abs() {
                return Some(StopReason::FunctionValuesConverged);
            }
        }
        if norm(&st.adj_grad) <= (self.tol * st.adj_value.abs()).max(1e-8) {
            return Some(StopReason::GradientConverged);
        }
        if failed {
            return Some(StopReason::SearchFailed);
        }
        None
    }
}

/// Java's `Math.signum` (0 for 0).
fn signum(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// breeze's `StrongWolfeLineSearch(maxZoomIter, maxLineSearchIter).minimizeWithBound`
/// (L-BFGS uses 10 and 10 with no bound, L-BFGS-B 64 and 64 with the box's bound).
/// `phi(t)` returns the value and the directional derivative at step `t`.
fn strong_wolfe(
    phi: &mut impl FnMut(f64) -> Result<(f64, f64)>,
    init: f64,
    bound: f64,
    max_zoom: usize,
    max_search: usize,
) -> std::result::Result<f64, StepError> {
    const C1: f64 = 1e-4;
    const C2: f64 = 0.9;
    #[derive(Clone, Copy)]
    struct Bracket {
        t: f64,
        dd: f64,
        fval: f64,
    }
    let mut eval = |t: f64| -> std::result::Result<Bracket, StepError> {
        let (fval, dd) = phi(t)?;
        Ok(Bracket { t, dd, fval })
    };
    let interp = |l: Bracket, r: Bracket| -> f64 {
        let d1 = l.dd + r.dd - 3.0 * (l.fval - r.fval) / (l.t - r.t);
        let d2 = (d1 * d1 - l.dd * r.dd).sqrt();
        let mult = r.t - l.t;
        let t = r.t - mult * (r.dd + d2 - d1) / (r.dd - l.dd + 2.0 * d2);
        let lb = l.t + 0.1 * (r.t - l.t);
        let ub = l.t + 0.9 * (r.t - l.t);
        if t < lb {
            lb
        } else if t > ub {
            ub
        } else {
            t
        }
    };
    let mut t = init;
    let mut low = eval(0.0)?;
    let (fval0, dd0) = (low.fval, low.dd);
    if dd0 > 0.0 {
        return Err(StepError::Failure);
    }
    let zoom =
        |mut lo: Bracket,
         mut hi: Bracket,
         eval: &mut dyn FnMut(f64) -> std::result::Result<Bracket, StepError>| {
            for _ in 0..max_zoom {
                let t = if lo.t > hi.t {
                    interp(hi, lo)
                } else {
                    interp(lo, hi)
                };
                if t.is_nan() {
                    return Err(StepError::Failure);
                }
                let c = eval(t)?;
                if c.fval > fval0 + C1 * c.t * dd0 || c.fval >= lo.fval {
                    hi = c;
                } else {
                    if c.dd.abs() <= C2 * dd0.abs() {
                        return Ok(c.t);
                    }
                    if c.dd * (hi.t - lo.t) >= 0.0 {
                        hi = lo;
                    }
                    lo = c;
                }
            }
            Err(StepError::Failure)
        };
    for i in 0..max_search {
        let c = eval(t)?;
        if c.fval.is_infinite() || c.fval.is_nan() {
            t /= 2.0;
            continue;
        }
        if c.fval > fval0 + C1 * t * dd0 || (c.fval >= low.fval && i > 0) {
            return zoom(low, c, &mut eval);
        }
        if c.dd.abs() <= C2 * dd0.abs() {
            return Ok(c.t);
        }
        if c.dd >= 0.0 {
            return zoom(c, low, &mut eval);
        }
        low = c;
        if t == bound {
            // Sufficient decrease at the bound, without the curvature condition.
            return Ok(bound);
        }
        t = (t * 1.5).min(bound);
    }
    Err(StepError::Failure)
}

/// breeze's `BacktrackingLineSearch(initfval, shrinkStep)` as OWL-QN calls it (Wolfe and
/// strong Wolfe checks on, 20 iterations). As in breeze, the first trial's value is
/// `initfval` (the smooth value at the current point), not the value at `init`.
fn backtracking(
    phi: &mut impl FnMut(f64) -> Result<(f64, f64)>,
    initfval: f64,
    init: f64,
    shrink: f64,
) -> std::result::Result<f64, StepError> {
    const MAX_ITER: usize = 20;
    const GROW: f64 = 2.1;
    const C_ARMIJO: f64 = 1e-4;
    const C_WOLFE: f64 = 0.9;
    let (f0, df0) = phi(0.0)?;
    let (_, init_deriv) = phi(init)?;
    let (mut alpha, mut fval, mut fderiv) = (init, initfval, init_deriv);
    let mut iter = 0;
    loop {
        let mult = if fval > f0 + alpha * df0 * C_ARMIJO {
            shrink
        } else if fderiv < C_WOLFE * df0 {
            GROW
        } else if fderiv > -C_WOLFE * df0 {
            shrink
        } else {
            return Ok(alpha);
        };
        let next = alpha * mult;
        if iter >= MAX_ITER || !(1e-10..=1e10).contains(&next) {
            return Err(StepError::Failure);
        }
        let (v, d) = phi(next)?;
        iter += 1;
        if iter >= MAX_ITER {
            // breeze evaluates this step, but its `takeWhile(iter < maxIterations)` drops
            // it and returns the step before (checked against Spark's LinearSVC, whose
            // OWL-QN line search runs into this limit on the hinge loss).
            return Ok(alpha);
        }
        alpha = next;
        fval = v;
        fderiv = d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rosenbrock function.
    struct Rosen;
    impl DiffFunction for Rosen {
        fn calculate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
            let (a, b) = (x[0], x[1]);
            let f = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = vec![
                -2.0 * (1.0 - a) - 400.0 * a * (b - a * a),
                200.0 * (b - a * a),
            ];
            Ok((f, g))
        }
    }

    #[test]
    fn lbfgs_solves_rosenbrock() {
        let m = Lbfgs::new(200, 10, 1e-12)
            .minimize(&mut Rosen, vec![-1.2, 1.0], |_| {})
            .unwrap();
        assert!(
            (m.x[0] - 1.0).abs() < 1e-5 && (m.x[1] - 1.0).abs() < 1e-5,
            "{:?}",
            m.x
        );
        assert_eq!(m.objective_history.len(), m.objective_history.len());
    }

    /// f = ½‖x − c‖²; with L1 weight w the solution is soft-thresholding of c.
    struct Shifted(Vec<f64>);
    impl DiffFunction for Shifted {
        fn calculate(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
            let g: Vec<f64> = x.iter().zip(&self.0).map(|(x, c)| x - c).collect();
            Ok((0.5 * dot(&g, &g), g))
        }
    }

    #[test]
    fn owlqn_soft_thresholds() {
        let c = vec![2.0, -0.3, 0.5, -3.0];
        let m = Lbfgs::new(100, 10, 1e-10)
            .with_l1(vec![1.0, 1.0, 0.0, 1.0])
            .minimize(&mut Shifted(c), vec![0.0; 4], |_| {})
            .unwrap();
        let want = [1.0, 0.0, 0.5, -2.0];
        for (x, w) in m.x.iter().zip(want) {
            assert!((x - w).abs() < 1e-6, "{:?}", m.x);
        }
    }

    #[test]
    fn max_iter_zero_returns_the_initial_point() {
        let m = Lbfgs::new(0, 10, 1e-6)
            .minimize(&mut Rosen, vec![-1.2, 1.0], |_| {})
            .unwrap();
        assert_eq!(m.x, vec![-1.2, 1.0]);
        assert_eq!(m.objective_history.len(), 1);
        assert_eq!(m.reason, StopReason::MaxIterations);
    }
}
