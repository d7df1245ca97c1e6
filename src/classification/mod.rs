//! Classification: [`LogisticRegression`], [`NaiveBayes`] and their models.

mod logistic_regression;
mod naive_bayes;

pub use logistic_regression::{
    Family, IterationCallback, IterationInfo, LogisticRegression, LogisticRegressionModel,
    LogisticRegressionParams, TrainingSummary,
};
pub use naive_bayes::{NaiveBayes, NaiveBayesModel, NaiveBayesParams};
