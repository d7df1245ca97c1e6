//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod binarizer;
mod bucketizer;
pub(crate) mod columns;
mod dct;
mod elementwise_product;
mod imputer;
mod interaction;
mod min_max_scaler;
mod normalizer;
mod one_hot_encoder;
mod polynomial_expansion;
mod quantile_discretizer;
mod robust_scaler;
mod standard_scaler;
mod string_indexer;
mod vector_assembler;
mod vector_indexer;
mod vector_size_hint;
mod vector_slicer;
mod vector_stage;

pub use binarizer::{Binarizer, BinarizerParams};
pub(crate) use bucketizer::java_double_string;
pub use bucketizer::{Bucketizer, BucketizerParams};
pub use dct::{DCTParams, DCT};
pub use elementwise_product::{ElementwiseProduct, ElementwiseProductParams};
pub use imputer::{Imputer, ImputerModel, ImputerParams, ImputerStrategy};
pub use interaction::{Interaction, InteractionParams};
pub use min_max_scaler::{
    MaxAbsScaler, MaxAbsScalerModel, MaxAbsScalerParams, MinMaxScaler, MinMaxScalerModel,
    MinMaxScalerParams,
};
pub use normalizer::{Normalizer, NormalizerParams};
pub use one_hot_encoder::{OneHotEncoder, OneHotEncoderModel, OneHotEncoderParams};
pub use polynomial_expansion::{PolynomialExpansion, PolynomialExpansionParams};
pub use quantile_discretizer::{QuantileDiscretizer, QuantileDiscretizerParams};
pub use robust_scaler::{RobustScaler, RobustScalerModel, RobustScalerParams};
pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerParams};
pub use string_indexer::{
    nominal_labels, IndexToString, IndexToStringParams, StringIndexer, StringIndexerModel,
    StringIndexerParams, StringOrderType,
};
pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
pub use vector_indexer::{VectorIndexer, VectorIndexerModel, VectorIndexerParams};
pub use vector_size_hint::{SizeHintInvalid, VectorSizeHint, VectorSizeHintParams};
pub use vector_slicer::{VectorSlicer, VectorSlicerParams};
