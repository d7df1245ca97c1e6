//! Classification: [`LogisticRegression`], [`NaiveBayes`] and their models.

mod logistic_regression;
mod naive_bayes;
mod one_vs_rest;

pub use logistic_regression::{
    Family, IterationCallback, IterationInfo, LogisticRegression, LogisticRegressionModel,
    LogisticRegressionParams, TrainingSummary,
};
pub use naive_bayes::{NaiveBayes, NaiveBayesModel, NaiveBayesParams};
pub use one_vs_rest::{OneVsRest, OneVsRestModel, OneVsRestParams};
