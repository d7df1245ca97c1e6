//! Classification: [`LogisticRegression`], [`LinearSVC`], [`NaiveBayes`], [`OneVsRest`], the
//! tree classifiers ([`DecisionTreeClassifier`], [`RandomForestClassifier`],
//! [`GBTClassifier`], from [`crate::tree`]) and their models.

mod linear_svc;
mod logistic_regression;
mod naive_bayes;
mod one_vs_rest;

pub use crate::tree::{
    DecisionTreeClassificationModel, DecisionTreeClassifier, DecisionTreeClassifierParams,
    GBTClassificationModel, GBTClassifier, GBTClassifierParams, RandomForestClassificationModel,
    RandomForestClassifier, RandomForestClassifierParams,
};
pub use linear_svc::{LinearSVC, LinearSVCModel, LinearSVCParams, LinearSVCTrainingSummary};
pub use logistic_regression::{
    Family, IterationCallback, IterationInfo, LogisticRegression, LogisticRegressionModel,
    LogisticRegressionParams, TrainingSummary,
};
pub use naive_bayes::{NaiveBayes, NaiveBayesModel, NaiveBayesParams};
pub use one_vs_rest::{OneVsRest, OneVsRestModel, OneVsRestParams};
