//! Classification: [`LogisticRegression`] and its model.

mod logistic_regression;

pub use logistic_regression::{
    Family, IterationCallback, IterationInfo, LogisticRegression, LogisticRegressionModel,
    LogisticRegressionParams, TrainingSummary,
};
