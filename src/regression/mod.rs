//! Regression: [`LinearRegression`] and its model.

mod linear_regression;

pub use linear_regression::{
    LinearRegression, LinearRegressionModel, LinearRegressionParams, LinearRegressionSummary,
};
