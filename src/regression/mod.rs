//! Regression: [`LinearRegression`], the tree regressors ([`DecisionTreeRegressor`],
//! [`RandomForestRegressor`], [`GBTRegressor`], from [`crate::tree`]) and their models.

mod linear_regression;

pub use crate::tree::{
    DecisionTreeRegressionModel, DecisionTreeRegressor, DecisionTreeRegressorParams,
    GBTRegressionModel, GBTRegressor, GBTRegressorParams, RandomForestRegressionModel,
    RandomForestRegressor, RandomForestRegressorParams,
};
pub use linear_regression::{
    LinearRegression, LinearRegressionModel, LinearRegressionParams, LinearRegressionSummary,
};
