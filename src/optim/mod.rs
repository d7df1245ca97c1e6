//! Optimisation: breeze-compatible L-BFGS / OWL-QN, and Spark's logistic loss evaluated
//! in parallel over row blocks.

mod lbfgs;
mod lbfgsb;
pub mod logistic;

pub use lbfgs::{DiffFunction, IterationInfo, Lbfgs, Minimum, StopReason};
