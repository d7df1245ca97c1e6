//! Feature transformers and estimators, one file per stage, with Spark's params,
//! defaults and edge cases.

mod bucketizer;
pub(crate) mod columns;
mod count_vectorizer;
mod feature_hasher;
mod hashing_tf;
mod idf;
mod imputer;
mod min_max_scaler;
mod murmur3;
mod ngram;
mod one_hot_encoder;
mod regex_tokenizer;
mod standard_scaler;
mod stop_words_remover;
mod string_indexer;
mod text_columns;
mod tokenizer;
mod vector_assembler;

pub(crate) use bucketizer::java_double_string;
pub use bucketizer::{Bucketizer, BucketizerParams};
pub use count_vectorizer::{CountVectorizer, CountVectorizerModel, CountVectorizerParams};
pub use feature_hasher::{FeatureHasher, FeatureHasherParams};
pub use hashing_tf::{HashingTF, HashingTFParams};
pub use idf::{IDFModel, IDFParams, IDF};
pub use imputer::{Imputer, ImputerModel, ImputerParams, ImputerStrategy};
pub use min_max_scaler::{
    MaxAbsScaler, MaxAbsScalerModel, MaxAbsScalerParams, MinMaxScaler, MinMaxScalerModel,
    MinMaxScalerParams,
};
pub use ngram::{NGram, NGramParams};
pub use one_hot_encoder::{OneHotEncoder, OneHotEncoderModel, OneHotEncoderParams};
pub use regex_tokenizer::{RegexTokenizer, RegexTokenizerParams};
pub use standard_scaler::{StandardScaler, StandardScalerModel, StandardScalerParams};
pub use stop_words_remover::{StopWordsRemover, StopWordsRemoverParams};
pub use string_indexer::{
    nominal_labels, IndexToString, IndexToStringParams, StringIndexer, StringIndexerModel,
    StringIndexerParams, StringOrderType,
};
pub use tokenizer::{Tokenizer, TokenizerParams};
pub use vector_assembler::{VectorAssembler, VectorAssemblerParams};
