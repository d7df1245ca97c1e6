//! Optimisation: breeze-compatible L-BFGS / OWL-QN, and Spark's logistic and hinge losses
//! evaluated in parallel over row blocks.

pub mod hinge;
mod lbfgs;
mod lbfgsb;
pub mod logistic;

pub use lbfgs::{DiffFunction, IterationInfo, Lbfgs, Minimum, StopReason};
