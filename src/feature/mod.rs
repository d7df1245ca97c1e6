//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod vector_assembler;

pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
