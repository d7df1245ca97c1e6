//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod standard_scaler;
mod vector_assembler;

pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerParams};
pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
