//! Which stages have a row form: one line per stage type. A stage added to the crate
//! implements [`RowStage`] at the end of its own file and gets one line here.

use super::RowStage;
use crate::pipeline::Transformer;

macro_rules! row_forms {
    ($($ty:ty),* $(,)?) => {
        /// The row form of a stage, or `None` when its type has none.
        pub fn row_form(t: &dyn Transformer) -> Option<&dyn RowStage> {
            $(
                if let Some(s) = t.downcast_ref::<$ty>() {
                    return Some(s);
                }
            )*
            None
        }
    };
}

row_forms![
    crate::feature::StringIndexerModel,
    crate::feature::IndexToString,
    crate::feature::OneHotEncoderModel,
    crate::feature::ImputerModel,
    crate::feature::VectorAssembler,
    crate::feature::StandardScalerModel,
    crate::feature::MinMaxScalerModel,
    crate::feature::MaxAbsScalerModel,
    crate::feature::Bucketizer,
    crate::feature::Normalizer,
    crate::feature::ElementwiseProduct,
    crate::feature::PolynomialExpansion,
    crate::feature::DCT,
    crate::classification::LogisticRegressionModel,
    crate::classification::LinearSVCModel,
    crate::classification::NaiveBayesModel,
    crate::regression::LinearRegressionModel,
    crate::tree::DecisionTreeClassificationModel,
    crate::tree::RandomForestClassificationModel,
    crate::tree::GBTClassificationModel,
    crate::tree::DecisionTreeRegressionModel,
    crate::tree::RandomForestRegressionModel,
    crate::tree::GBTRegressionModel,
    crate::clustering::KMeansModel,
    crate::classification::OneVsRestModel,
    crate::feature::Tokenizer,
    crate::feature::RegexTokenizer,
    crate::feature::StopWordsRemover,
    crate::feature::NGram,
    crate::feature::HashingTF,
    crate::feature::CountVectorizerModel,
    crate::feature::IDFModel,
    crate::feature::FeatureHasher,
    crate::feature::Binarizer,
    crate::feature::VectorSlicer,
    crate::feature::VectorIndexerModel,
    crate::feature::VectorSizeHint,
    crate::feature::Interaction,
    crate::feature::RobustScalerModel,
];
