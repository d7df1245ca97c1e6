//! argmin 0.11 as an independent oracle for mlpipe's optimiser: on Spark's logistic
//! objective for the fixture training rows, argmin's L-BFGS and OWL-QN reach the same
//! optimum as mlpipe's breeze-compatible ones. (argmin's OWL-QN penalises every parameter,
//! the intercept included, so the L1 comparison fits without an intercept.)

#[path = "../../tests/common/mod.rs"]
mod common;

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::condition::ArmijoCondition;
use argmin::solver::linesearch::{BacktrackingLineSearch, MoreThuenteLineSearch};
use argmin::solver::quasinewton::LBFGS;
use common::*;
use mlpipe::feature::VectorAssembler;
use mlpipe::optim::logistic::{Block, LogisticLoss};
use mlpipe::optim::{DiffFunction, Lbfgs};
use mlpipe::prelude::*;
use mlpipe::stat::FeatureSummary;

struct Oracle<'a>(Mutex<LogisticLoss<'a>>);

impl CostFunction for Oracle<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, p: &Vec<f64>) -> Result<f64, argmin::core::Error> {
        Ok(self.0.lock().unwrap().calculate(p).unwrap().0)
    }
}

impl Gradient for Oracle<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, p: &Vec<f64>) -> Result<Vec<f64>, argmin::core::Error> {
        Ok(self.0.lock().unwrap().calculate(p).unwrap().1)
    }
}

fn problem(
    fit_intercept: bool,
    reg_l2: f64,
    x: &[f64],
    y: &[f64],
    n: usize,
) -> LogisticLoss<'static> {
    let x: &'static [f64] = Box::leak(x.to_vec().into_boxed_slice());
    let y: &'static [f64] = Box::leak(y.to_vec().into_boxed_slice());
    let s = FeatureSummary::from_block(x, n, None);
    let std = s.std();
    let inv_std: Vec<f64> = std
        .iter()
        .map(|v| if *v != 0.0 { 1.0 / v } else { 0.0 })
        .collect();
    let scaled_mean = if fit_intercept {
        s.mean().iter().zip(&inv_std).map(|(m, i)| m * i).collect()
    } else {
        vec![]
    };
    LogisticLoss {
        blocks: x
            .chunks(n * 700)
            .zip(y.chunks(700))
            .map(|(x, y)| Block {
                x: mlpipe::optim::logistic::Features::Dense(x),
                y,
                w: None,
            })
            .collect(),
        num_features: n,
        num_sets: 1,
        fit_intercept,
        inv_std,
        scaled_mean,
        weight_sum: y.len() as f64,
        reg_l2,
        standardization: true,
        input_map: None,
    }
}

fn data() -> (Vec<f64>, Vec<f64>, usize) {
    let cols = feature_cols();
    let refs: Vec<&str> = cols.iter().map(|s| s.as_str()).collect();
    let df = VectorAssembler::new()
        .with_input_cols(&refs)
        .with_output_col("features")
        .with_handle_invalid(HandleInvalid::Skip)
        .transform(&read("train_rows.csv"))
        .unwrap();
    let c = df.column("features").unwrap();
    let n = mlpipe::frame::vector::field_vector_size(&c.field).unwrap();
    let x: Vec<f64> = c
        .chunks
        .iter()
        .enumerate()
        .flat_map(|(p, a)| {
            let at = mlpipe::frame::vector::At {
                stage: "oracle",
                column: "features",
                partition: p,
            };
            mlpipe::frame::vector::VectorBlock::new(a.as_ref(), n, at)
                .unwrap()
                .to_dense()
                .into_owned()
        })
        .collect();
    let y = f64_column(&df, "churn");
    (x, y, cols.len())
}

fn argmin_solve(loss: LogisticLoss<'static>, dim: usize, l1: Option<f64>) -> Vec<f64> {
    let oracle = Oracle(Mutex::new(loss));
    let x0 = vec![0.0; dim];
    match l1 {
        None => {
            let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
                .with_tolerance_grad(1e-12)
                .unwrap()
                .with_tolerance_cost(0.0)
                .unwrap();
            let res = Executor::new(oracle, solver)
                .configure(|s| s.param(x0).max_iters(300))
                .run()
                .unwrap();
            res.state().get_best_param().unwrap().clone()
        }
        Some(l1) => {
            // A backtracking (Armijo) line search: argmin's More-Thuente does not terminate
            // on this kinked objective.
            let ls = BacktrackingLineSearch::new(ArmijoCondition::new(1e-4).unwrap());
            let solver = LBFGS::new(ls, 10)
                .with_tolerance_grad(1e-12)
                .unwrap()
                .with_tolerance_cost(0.0)
                .unwrap()
                .with_l1_regularization(l1)
                .unwrap();
            let res = Executor::new(oracle, solver)
                .configure(|s| s.param(x0).max_iters(300))
                .run()
                .unwrap();
            res.state().get_best_param().unwrap().clone()
        }
    }
}

fn assert_same(ours: &[f64], oracle: &[f64], tol: f64) {
    for (i, (a, b)) in ours.iter().zip(oracle).enumerate() {
        assert!(
            (a - b).abs() <= tol * b.abs().max(1.0),
            "param {i}: mlpipe {a} vs argmin {b}"
        );
    }
}

#[test]
fn lbfgs_reaches_argmins_optimum() {
    let (x, y, n) = data();
    let ours = Lbfgs::new(500, 10, 1e-12)
        .minimize(
            &mut problem(true, 0.01, &x, &y, n),
            vec![0.0; n + 1],
            |_| {},
        )
        .unwrap();
    let oracle = argmin_solve(problem(true, 0.01, &x, &y, n), n + 1, None);
    assert_same(&ours.x, &oracle, 1e-5);
}

#[test]
fn owlqn_reaches_argmins_optimum() {
    // Centred columns keep the intercept-free problem well conditioned (uncentred, both
    // optimisers crawl: Spark avoids that by centring virtually, which needs an intercept).
    let (mut x, y, n) = data();
    let mean = FeatureSummary::from_block(&x, n, None).mean();
    for row in x.chunks_mut(n) {
        for (v, m) in row.iter_mut().zip(&mean) {
            *v -= m;
        }
    }
    let ours = Lbfgs::new(500, 10, 1e-12)
        .with_l1(vec![0.02; n])
        .minimize(&mut problem(false, 0.0, &x, &y, n), vec![0.0; n], |_| {})
        .unwrap();
    let oracle = argmin_solve(problem(false, 0.0, &x, &y, n), n, Some(0.02));
    let obj = |p: &[f64]| {
        problem(false, 0.0, &x, &y, n).calculate(p).unwrap().0
            + 0.02 * p.iter().map(|v| v.abs()).sum::<f64>()
    };
    assert!(
        (obj(&ours.x) - obj(&oracle)).abs() < 1e-12,
        "{} vs {}",
        obj(&ours.x),
        obj(&oracle)
    );
    assert_same(&ours.x, &oracle, 1e-4);
    let zeros = ours.x.iter().filter(|v| **v == 0.0).count();
    assert!(zeros > 0, "L1 should zero some coefficients: {:?}", ours.x);
}
