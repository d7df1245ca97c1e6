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

        /// The Spark classes of the stages with a row form (for the coverage test).
        #[cfg(test)]
        fn row_form_classes() -> Vec<&'static str> {
            vec![$(<$ty as crate::persist::SparkPersist>::SPARK_CLASS),*]
        }
    };
}

/// The stage types the persistence registry knows that have no row form of their own,
/// and why. Every other registered transformer or model must have one (the test below
/// fails for a stage added without it).
#[cfg(test)]
const NO_ROW_FORM: &[(&str, &str)] = &[
    (
        "org.apache.spark.ml.PipelineModel",
        "not a stage of its own: a (nested) PipelineModel is compiled through its stages",
    ),
    (
        "mlpipe.interop.LinfaSvmClassifierModel",
        "a linfa model (feature `linfa`), scored by linfa over whole arrays: score it with transform",
    ),
];

// Tuning models score with their best model (compiled through its stages).
impl RowStage for crate::tuning::CrossValidatorModel<crate::pipeline::PipelineModel> {
    fn compile_row(
        &self,
        plan: &mut super::PlanBuilder,
    ) -> crate::Result<Option<Box<dyn super::RowOp>>> {
        super::compile_nested(self.best_model(), plan)
    }
}

impl RowStage for crate::tuning::TrainValidationSplitModel<crate::pipeline::PipelineModel> {
    fn compile_row(
        &self,
        plan: &mut super::PlanBuilder,
    ) -> crate::Result<Option<Box<dyn super::RowOp>>> {
        super::compile_nested(self.best_model(), plan)
    }
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
    crate::feature::ChiSqSelectorModel,
    crate::feature::UnivariateFeatureSelectorModel,
    crate::feature::PCAModel,
    crate::feature::VarianceThresholdSelectorModel,
    crate::feature::TargetEncoderModel,
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
    crate::tuning::CrossValidatorModel<crate::pipeline::PipelineModel>,
    crate::tuning::TrainValidationSplitModel<crate::pipeline::PipelineModel>,
    crate::feature::ColumnPruner,
    crate::feature::VectorAttributeRewriter,
    crate::feature::RFormulaModel,
];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every transformer and fitted model the persistence registry reads has a row form
    /// or is listed in [`NO_ROW_FORM`] with the reason. (Estimators are covered by their
    /// models: a fitted pipeline holds no estimator.)
    #[test]
    fn every_registered_stage_has_a_row_form_or_a_reason() {
        let with_row_form = row_form_classes();
        let mut missing = Vec::new();
        for class in crate::persist::registry::transformer_classes() {
            let exempt = NO_ROW_FORM.iter().any(|(c, _)| *c == class);
            if !with_row_form.contains(&class) && !exempt {
                missing.push(class);
            }
        }
        assert!(
            missing.is_empty(),
            "stages without a row form: {missing:?}; implement crate::row::RowStage at the end of the stage's file and add a line to src/row/registry.rs (or list it in NO_ROW_FORM with the reason)"
        );
        // The exemptions are real registry entries (a stale one would hide nothing).
        let known: Vec<&str> = crate::persist::registry::transformer_classes().collect();
        for (c, _) in NO_ROW_FORM {
            assert!(
                known.contains(c) || c.contains("Linfa"),
                "{c} is not in the persistence registry"
            );
        }
    }
}
