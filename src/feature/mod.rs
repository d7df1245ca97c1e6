//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod binarizer;
mod bucketizer;
pub(crate) mod columns;
mod count_vectorizer;
mod dct;
mod elementwise_product;
mod feature_hasher;
mod hashing_tf;
mod idf;
mod imputer;
mod interaction;
mod min_max_scaler;
mod murmur3;
mod ngram;
mod normalizer;
mod one_hot_encoder;
mod polynomial_expansion;
mod quantile_discretizer;
mod regex_tokenizer;
mod rformula;
mod robust_scaler;
mod standard_scaler;
mod stop_words_remover;
mod string_indexer;
mod text_columns;
mod tokenizer;
mod vector_assembler;
mod vector_indexer;
mod vector_size_hint;
mod vector_slicer;
mod vector_stage;

pub use binarizer::{Binarizer, BinarizerParams};
pub(crate) use bucketizer::java_double_string;
pub use bucketizer::{Bucketizer, BucketizerParams};
pub use count_vectorizer::{CountVectorizer, CountVectorizerModel, CountVectorizerParams};
pub use dct::{DCTParams, DCT};
pub use elementwise_product::{ElementwiseProduct, ElementwiseProductParams};
pub use feature_hasher::{FeatureHasher, FeatureHasherParams};
pub use hashing_tf::{HashingTF, HashingTFParams};
pub use idf::{IDFModel, IDFParams, IDF};
pub use imputer::{Imputer, ImputerModel, ImputerParams, ImputerStrategy};
pub use interaction::{Interaction, InteractionParams};
pub use min_max_scaler::{
    MaxAbsScaler, MaxAbsScalerModel, MaxAbsScalerParams, MinMaxScaler, MinMaxScalerModel,
    MinMaxScalerParams,
};
pub use ngram::{NGram, NGramParams};
pub use normalizer::{Normalizer, NormalizerParams};
pub use one_hot_encoder::{OneHotEncoder, OneHotEncoderModel, OneHotEncoderParams};
pub use polynomial_expansion::{PolynomialExpansion, PolynomialExpansionParams};
pub use quantile_discretizer::{QuantileDiscretizer, QuantileDiscretizerParams};
pub use regex_tokenizer::{RegexTokenizer, RegexTokenizerParams};
pub use rformula::{
    ColumnPruner, RFormula, RFormulaModel, RFormulaParams, ResolvedFormula, VectorAttributeRewriter,
};
pub use robust_scaler::{RobustScaler, RobustScalerModel, RobustScalerParams};
pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerParams};
pub use stop_words_remover::{StopWordsRemover, StopWordsRemoverParams};
pub use string_indexer::{
    nominal_labels, IndexToString, IndexToStringParams, StringIndexer, StringIndexerModel,
    StringIndexerParams, StringOrderType,
};
pub use tokenizer::{Tokenizer, TokenizerParams};
pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
pub use vector_indexer::{VectorIndexer, VectorIndexerModel, VectorIndexerParams};
pub use vector_size_hint::{SizeHintInvalid, VectorSizeHint, VectorSizeHintParams};
pub use vector_slicer::{VectorSlicer, VectorSlicerParams};
