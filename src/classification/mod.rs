//! Classification: [`LogisticRegression`] and its model.

mod logistic_regression;

pub use logistic_regression::{
    Family, LogisticRegression, LogisticRegressionModel, LogisticRegressionParams, TrainingSummary,
};
