//! The registry: one line per stage type, mapping the Spark class names in `metadata/` to
//! the type that reads them. This is the only place that names every stage.

use std::any::Any;
use std::path::Path;

use super::format::{read_metadata, short_class, Metadata};
use super::{Persist, SparkPersist};
use crate::classification::{
    LinearSVC, LinearSVCModel, LogisticRegression, LogisticRegressionModel, NaiveBayes,
    NaiveBayesModel, OneVsRest, OneVsRestModel,
};
use crate::clustering::{KMeans, KMeansModel};
use crate::error::{Error, Result};
use crate::feature::*;
use crate::pipeline::{DynEstimator, Pipeline, PipelineModel, PipelineStage, Transformer};
use crate::regression::{LinearRegression, LinearRegressionModel};
use crate::tree::{
    DecisionTreeClassificationModel, DecisionTreeClassifier, DecisionTreeRegressionModel,
    DecisionTreeRegressor, GBTClassificationModel, GBTClassifier, GBTRegressionModel, GBTRegressor,
    RandomForestClassificationModel, RandomForestClassifier, RandomForestRegressionModel,
    RandomForestRegressor,
};
use crate::tuning::{
    CrossValidator, CrossValidatorModel, TrainValidationSplit, TrainValidationSplitModel,
};

/// A registered stage type: the Spark classes it reads, how to read it, and how to
/// recognise one of its values behind a trait object.
pub(crate) struct Registered<S: ?Sized> {
    class: &'static str,
    also_reads: &'static [&'static str],
    read: fn(&Path, &Metadata) -> Result<Box<S>>,
    as_persist: fn(&S) -> Option<&dyn Persist>,
}

impl<S: ?Sized> Registered<S> {
    fn reads(&self, class: &str) -> bool {
        self.class == class || self.also_reads.contains(&class)
    }
}

/// The registry line of a transformer or fitted model.
const fn transformer<T: SparkPersist + Transformer>() -> Registered<dyn Transformer> {
    fn read<T: SparkPersist + Transformer>(
        dir: &Path,
        md: &Metadata,
    ) -> Result<Box<dyn Transformer>> {
        Ok(Box::new(T::read_spark(dir, md)?))
    }
    fn as_persist<T: SparkPersist + Transformer>(t: &dyn Transformer) -> Option<&dyn Persist> {
        (t as &dyn Any)
            .downcast_ref::<T>()
            .map(|t| t as &dyn Persist)
    }
    Registered {
        class: T::SPARK_CLASS,
        also_reads: T::ALSO_READS,
        read: read::<T>,
        as_persist: as_persist::<T>,
    }
}

/// The registry line of an unfitted estimator.
const fn estimator<T: SparkPersist + DynEstimator>() -> Registered<dyn DynEstimator> {
    fn read<T: SparkPersist + DynEstimator>(
        dir: &Path,
        md: &Metadata,
    ) -> Result<Box<dyn DynEstimator>> {
        Ok(Box::new(T::read_spark(dir, md)?))
    }
    fn as_persist<T: SparkPersist + DynEstimator>(e: &dyn DynEstimator) -> Option<&dyn Persist> {
        (e as &dyn Any)
            .downcast_ref::<T>()
            .map(|e| e as &dyn Persist)
    }
    Registered {
        class: T::SPARK_CLASS,
        also_reads: T::ALSO_READS,
        read: read::<T>,
        as_persist: as_persist::<T>,
    }
}

/// Transformers and fitted models, one line per type (`load_stage` reads these).
const TRANSFORMERS: &[Registered<dyn Transformer>] = &[
    transformer::<PipelineModel>(),
    transformer::<VectorAssembler>(),
    transformer::<StandardScalerModel>(),
    transformer::<MinMaxScalerModel>(),
    transformer::<MaxAbsScalerModel>(),
    transformer::<StringIndexerModel>(),
    transformer::<IndexToString>(),
    transformer::<OneHotEncoderModel>(),
    transformer::<ImputerModel>(),
    transformer::<Bucketizer>(),
    transformer::<Tokenizer>(),
    transformer::<RegexTokenizer>(),
    transformer::<StopWordsRemover>(),
    transformer::<NGram>(),
    transformer::<HashingTF>(),
    transformer::<FeatureHasher>(),
    transformer::<CountVectorizerModel>(),
    transformer::<IDFModel>(),
    transformer::<RobustScalerModel>(),
    transformer::<ChiSqSelectorModel>(),
    transformer::<UnivariateFeatureSelectorModel>(),
    transformer::<PCAModel>(),
    transformer::<VarianceThresholdSelectorModel>(),
    transformer::<TargetEncoderModel>(),
    transformer::<Normalizer>(),
    transformer::<ElementwiseProduct>(),
    transformer::<PolynomialExpansion>(),
    transformer::<DCT>(),
    transformer::<Binarizer>(),
    transformer::<VectorIndexerModel>(),
    transformer::<VectorSlicer>(),
    transformer::<VectorSizeHint>(),
    transformer::<Interaction>(),
    transformer::<RFormulaModel>(),
    transformer::<ColumnPruner>(),
    transformer::<VectorAttributeRewriter>(),
    transformer::<LogisticRegressionModel>(),
    transformer::<LinearSVCModel>(),
    transformer::<KMeansModel>(),
    transformer::<NaiveBayesModel>(),
    transformer::<OneVsRestModel>(),
    transformer::<LinearRegressionModel>(),
    transformer::<DecisionTreeClassificationModel>(),
    transformer::<DecisionTreeRegressionModel>(),
    transformer::<RandomForestClassificationModel>(),
    transformer::<RandomForestRegressionModel>(),
    transformer::<GBTClassificationModel>(),
    transformer::<GBTRegressionModel>(),
    transformer::<CrossValidatorModel<PipelineModel>>(),
    transformer::<TrainValidationSplitModel<PipelineModel>>(),
    #[cfg(feature = "linfa")]
    transformer::<crate::interop::linfa::LinfaSvmClassifierModel>(),
];

/// Unfitted estimators, one line per type (`load_pipeline_stage` reads these too).
const ESTIMATORS: &[Registered<dyn DynEstimator>] = &[
    estimator::<Pipeline>(),
    estimator::<StandardScaler>(),
    estimator::<MinMaxScaler>(),
    estimator::<MaxAbsScaler>(),
    estimator::<StringIndexer>(),
    estimator::<OneHotEncoder>(),
    estimator::<Imputer>(),
    estimator::<CountVectorizer>(),
    estimator::<IDF>(),
    estimator::<QuantileDiscretizer>(),
    estimator::<RobustScaler>(),
    estimator::<ChiSqSelector>(),
    estimator::<UnivariateFeatureSelector>(),
    estimator::<PCA>(),
    estimator::<VarianceThresholdSelector>(),
    estimator::<TargetEncoder>(),
    estimator::<VectorIndexer>(),
    estimator::<LogisticRegression>(),
    estimator::<LinearSVC>(),
    estimator::<KMeans>(),
    estimator::<NaiveBayes>(),
    estimator::<OneVsRest>(),
    estimator::<LinearRegression>(),
    estimator::<DecisionTreeClassifier>(),
    estimator::<DecisionTreeRegressor>(),
    estimator::<RandomForestClassifier>(),
    estimator::<RandomForestRegressor>(),
    estimator::<GBTClassifier>(),
    estimator::<GBTRegressor>(),
    estimator::<RFormula>(),
    estimator::<CrossValidator<Pipeline>>(),
    estimator::<TrainValidationSplit<Pipeline>>(),
];

const fn count_classes<S: ?Sized>(table: &[Registered<S>]) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < table.len() {
        n += 1 + table[i].also_reads.len();
        i += 1;
    }
    n
}

const NUM_KNOWN: usize = count_classes(TRANSFORMERS) + count_classes(ESTIMATORS);

const fn known_classes() -> [&'static str; NUM_KNOWN] {
    let mut out = [""; NUM_KNOWN];
    let mut k = 0;
    let mut i = 0;
    while i < TRANSFORMERS.len() {
        out[k] = TRANSFORMERS[i].class;
        k += 1;
        let mut j = 0;
        while j < TRANSFORMERS[i].also_reads.len() {
            out[k] = TRANSFORMERS[i].also_reads[j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < ESTIMATORS.len() {
        out[k] = ESTIMATORS[i].class;
        k += 1;
        let mut j = 0;
        while j < ESTIMATORS[i].also_reads.len() {
            out[k] = ESTIMATORS[i].also_reads[j];
            k += 1;
            j += 1;
        }
        i += 1;
    }
    out
}

/// Every Spark class name mlpipe reads: the transformers and fitted models first (what
/// [`load_stage`] returns), then the unfitted estimators (what [`load_pipeline_stage`]
/// also returns).
pub const KNOWN_CLASSES: [&str; NUM_KNOWN] = known_classes();

fn unknown_class(dir: &Path, md: &Metadata) -> Error {
    Error::file(
        dir.join("metadata"),
        format!(
            "unknown class {}; known classes: {:?}",
            md.class, KNOWN_CLASSES
        ),
    )
}

/// Whether `class` (a full Spark class name, as in a stage's `metadata/`) is an unfitted
/// estimator or `Pipeline` that mlpipe reads: something to fit, not to score.
///
/// ```
/// use mlpipe::persist::is_estimator_class;
/// assert!(is_estimator_class("org.apache.spark.ml.classification.LogisticRegression"));
/// assert!(!is_estimator_class("org.apache.spark.ml.classification.LogisticRegressionModel"));
/// assert!(!is_estimator_class("org.apache.spark.ml.feature.VectorAssembler"));
/// ```
pub fn is_estimator_class(class: &str) -> bool {
    ESTIMATORS.iter().any(|r| r.reads(class))
}

/// Loads any saved transformer or model, dispatching on the `class` in its metadata.
///
/// # Errors
/// [`Error::File`] naming the file for a missing, truncated or corrupt metadata or data
/// file, a wrong data schema, a newer format, an unfitted estimator (use
/// [`load_pipeline_stage`]), or an unknown class (listing the known ones).
pub fn load_stage(dir: impl AsRef<Path>) -> Result<Box<dyn Transformer>> {
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    if let Some(r) = TRANSFORMERS.iter().find(|r| r.reads(&md.class)) {
        return (r.read)(dir, &md);
    }
    if ESTIMATORS.iter().any(|r| r.reads(&md.class)) {
        return Err(Error::file(
            dir.join("metadata"),
            format!("holds an unfitted {}, not a transformer; load it with load_pipeline_stage or Pipeline::load and fit it", md.short_class()),
        ));
    }
    Err(unknown_class(dir, &md))
}

/// Loads any saved stage, estimators and unfitted pipelines included.
///
/// # Errors
/// As [`load_stage`].
pub fn load_pipeline_stage(dir: impl AsRef<Path>) -> Result<PipelineStage> {
    let dir = dir.as_ref();
    let md = read_metadata(dir)?;
    if let Some(r) = ESTIMATORS.iter().find(|r| r.reads(&md.class)) {
        return Ok(PipelineStage::Estimator((r.read)(dir, &md)?));
    }
    if let Some(r) = TRANSFORMERS.iter().find(|r| r.reads(&md.class)) {
        return Ok(PipelineStage::Transformer((r.read)(dir, &md)?));
    }
    Err(unknown_class(dir, &md))
}

/// The [`Persist`] view of a transformer, for the types that have one.
pub fn persistable(t: &dyn Transformer) -> Option<&dyn Persist> {
    TRANSFORMERS.iter().find_map(|r| (r.as_persist)(t))
}

/// The [`Persist`] view of an unfitted estimator, for the types that have one.
pub(crate) fn persistable_estimator(e: &dyn DynEstimator) -> Option<&dyn Persist> {
    ESTIMATORS.iter().find_map(|r| (r.as_persist)(e))
}

/// The [`Persist`] view of a pipeline stage (transformer or estimator).
pub fn persistable_stage(s: &PipelineStage) -> Option<&dyn Persist> {
    match s {
        PipelineStage::Transformer(t) => persistable(t.as_ref()),
        PipelineStage::Estimator(e) => persistable_estimator(e.as_ref()),
    }
}

/// Reads `dir` as a `T`, after checking that its metadata names one of `T`'s classes.
pub(crate) fn read_as<T: SparkPersist>(dir: &Path) -> Result<T> {
    let md = read_metadata(dir)?;
    if md.class != T::SPARK_CLASS && !T::ALSO_READS.contains(&md.class.as_str()) {
        let expected = short_class(T::SPARK_CLASS);
        let hint = if TRANSFORMERS.iter().any(|r| r.reads(&md.class))
            || ESTIMATORS.iter().any(|r| r.reads(&md.class))
        {
            format!(
                "load it with {}::load or load_pipeline_stage",
                md.short_class()
            )
        } else {
            format!("mlpipe knows no such class; known classes: {KNOWN_CLASSES:?}")
        };
        return Err(Error::file(
            dir.join("metadata"),
            format!(
                "holds a {}, not a {expected} ({}); {hint}",
                md.class,
                T::SPARK_CLASS
            ),
        ));
    }
    T::read_spark(dir, &md)
}

/// The Spark classes of the registered transformers and fitted models (for the row-form
/// coverage test in `crate::row`).
#[cfg(test)]
pub(crate) fn transformer_classes() -> impl Iterator<Item = &'static str> {
    TRANSFORMERS.iter().map(|r| r.class)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two registry lines reading one class would make loading depend on table order.
    #[test]
    fn each_class_is_registered_once() {
        let mut seen = std::collections::HashSet::new();
        for class in KNOWN_CLASSES {
            assert!(!class.is_empty());
            assert!(seen.insert(class), "{class} is registered twice");
        }
        assert_eq!(KNOWN_CLASSES[0], "org.apache.spark.ml.PipelineModel");
    }
}
