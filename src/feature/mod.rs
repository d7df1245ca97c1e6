//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod bucketizer;
pub(crate) mod columns;
mod imputer;
mod min_max_scaler;
mod one_hot_encoder;
mod standard_scaler;
mod string_indexer;
mod vector_assembler;

pub(crate) use bucketizer::java_double_string;
pub use bucketizer::{Bucketizer, BucketizerParams};
pub use imputer::{Imputer, ImputerModel, ImputerParams, ImputerStrategy};
pub use min_max_scaler::{
    MaxAbsScaler, MaxAbsScalerModel, MaxAbsScalerParams, MinMaxScaler, MinMaxScalerModel,
    MinMaxScalerParams,
};
pub use one_hot_encoder::{OneHotEncoder, OneHotEncoderModel, OneHotEncoderParams};
pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerParams};
pub use string_indexer::{
    nominal_labels, IndexToString, IndexToStringParams, StringIndexer, StringIndexerModel,
    StringIndexerParams, StringOrderType,
};
pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
