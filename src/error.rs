//! The one error type of mlpipe.
//!
//! Every variant that comes from user input names the stage (or file) and the column (or
//! line), and its message says what would be valid. Messages are part of the API: the
//! tests pin their text.

use std::path::PathBuf;

use arrow::datatypes::DataType;
use arrow::error::ArrowError;

/// `Result` with [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in mlpipe.
///
/// User errors (a bad parameter, a missing column, a null value, an unreadable file) have
/// their own structured variants; [`Error::Internal`] is reserved for bugs.
///
/// `Debug` prints the same sentence as `Display`, so `fn main() -> mlpipe::Result<()>`
/// reports a failure as `Error: <the message>`, not as a struct dump. The structure is still
/// there to match on (`Error::ColumnNotFound { column, .. }`), and the alternate form
/// `{:#?}` prefixes the message with the variant's name.
///
/// # Examples
/// ```
/// use mlpipe::Error;
/// let err = Error::ColumnNotFound {
///     stage: "VectorAssembler",
///     column: "tenur".into(),
///     available: vec!["tenure".into(), "churn".into()],
/// };
/// assert_eq!(
///     err.to_string(),
///     "VectorAssembler: column `tenur` not found; available columns: [\"tenure\", \"churn\"]"
/// );
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A parameter value breaks its constraint.
    #[error("{stage}: parameter `{param}` must be {expected}, got {got}")]
    InvalidParam {
        /// Stage the parameter belongs to.
        stage: &'static str,
        /// Spark's name of the parameter (`regParam`).
        param: String,
        /// What a valid value looks like.
        expected: String,
        /// The value given.
        got: String,
    },
    /// A parameter name the stage does not have.
    #[error("{stage}: unknown parameter `{param}`; valid parameters are: {valid:?}")]
    UnknownParam {
        /// Stage asked.
        stage: &'static str,
        /// The unknown name.
        param: String,
        /// The names the stage has, sorted.
        valid: Vec<String>,
    },
    /// An input column does not exist.
    #[error("{stage}: column `{column}` not found; available columns: {available:?}")]
    ColumnNotFound {
        /// Stage that needed the column.
        stage: &'static str,
        /// The missing column.
        column: String,
        /// The columns that do exist, in schema order.
        available: Vec<String>,
    },
    /// An input column has a type the stage cannot use.
    #[error("{stage}: column `{column}` has type {found}, expected {expected}")]
    ColumnType {
        /// Stage that read the column.
        stage: &'static str,
        /// The column.
        column: String,
        /// What the stage accepts.
        expected: String,
        /// The column's actual Arrow type.
        found: DataType,
    },
    /// A fitted stage skips a missing input column (as Spark's `StringIndexerModel` does for a
    /// label), but a later stage of the pipeline needs the column it would have produced.
    #[error("{stage}: input column `{column}` not found; it produces `{output}`, which {needed_by} needs; available columns: {available:?}")]
    MissingInput {
        /// The stage that lost its input.
        stage: &'static str,
        /// The missing input column.
        column: String,
        /// The column the stage makes from it.
        output: String,
        /// The later stage that needs `output`.
        needed_by: &'static str,
        /// The columns the stage was given, in schema order.
        available: Vec<String>,
    },
    /// The output column of a stage is already in the input.
    #[error("{stage}: output column `{column}` already exists; choose another output column name or drop the existing column first")]
    ColumnExists {
        /// Stage that would write the column.
        stage: &'static str,
        /// The clashing column name.
        column: String,
    },
    /// A vector column has another length than the stage expects.
    #[error(
        "{stage}: column `{column}` has {found} features per row, but {expected} are expected"
    )]
    FeatureCount {
        /// Stage that read the column.
        stage: &'static str,
        /// The vector column.
        column: String,
        /// The length the stage needs.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A null, NaN or otherwise invalid value in a row, under a policy that rejects it.
    #[error("{stage}: {what} in column `{column}` (partition {partition}, row {row}); {hint}")]
    InvalidValue {
        /// Stage that met the value.
        stage: &'static str,
        /// The column holding it.
        column: String,
        /// Partition index (0-based).
        partition: usize,
        /// Row index inside the partition (0-based).
        row: usize,
        /// What was wrong ("null value", "NaN", "label 2.5").
        what: String,
        /// What to do about it.
        hint: String,
    },
    /// A field of a row given to a [`RowScorer`](crate::row::RowScorer) is missing or has
    /// the wrong type.
    #[error("row field `{field}`: {problem}; expected {expected}")]
    RowField {
        /// The field (input column) name.
        field: String,
        /// What was wrong ("missing", "got a string").
        problem: String,
        /// What the field must hold ("a number (Float64)").
        expected: String,
    },
    /// A stage was given no rows to learn from or to work on.
    #[error("{stage}: the input has no rows; {hint}")]
    EmptyInput {
        /// Stage that needed data.
        stage: &'static str,
        /// What to do about it.
        hint: String,
    },
    /// A malformed CSV record.
    #[error("{path}: line {line}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file (the header is line 1).
        line: usize,
        /// What is wrong with the record.
        reason: String,
    },
    /// A file or directory that cannot be read, written or parsed.
    #[error("{path}: {reason}")]
    File {
        /// The path involved.
        path: PathBuf,
        /// What went wrong and what to do.
        reason: String,
    },
    /// A pipeline-level problem (an empty pipeline, a stage of the wrong kind).
    #[error("Pipeline: {0}")]
    Pipeline(String),
    /// Invalid arguments to a `DataFrame` operation.
    #[error("DataFrame: {0}")]
    Frame(String),
    /// A command-line usage problem (a bad flag combination, a missing choice).
    #[error("{0}")]
    Usage(String),
    /// A Spark Connect failure (feature `connect`): the server could not be reached, is too
    /// old, refused a command, or the connection dropped. The message names the server and,
    /// for a pipeline stage, the stage, and carries Spark's own message.
    #[error("Spark Connect server {url}: {message}")]
    Remote {
        /// The server's `sc://` URL (without its token).
        url: String,
        /// What failed, Spark's message, and what to do.
        message: String,
    },
    /// An error from Arrow that mlpipe could not attribute to a stage or file.
    #[error(transparent)]
    Arrow(#[from] ArrowError),
    /// A bug in mlpipe.
    #[error("internal error: {0}. This is a bug in mlpipe; please report it")]
    Internal(String),
}

impl std::fmt::Debug for Error {
    /// The `Display` message; with `{:#?}`, prefixed by the variant's name.
    ///
    /// ```
    /// let err = mlpipe::Error::Usage("give --input".into());
    /// assert_eq!(format!("{err:?}"), "give --input");
    /// assert_eq!(format!("{err:#?}"), "Usage: give --input");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if f.alternate() {
            write!(f, "{}: ", self.variant_name())?;
        }
        std::fmt::Display::fmt(self, f)
    }
}

impl Error {
    /// The variant's name (`"ColumnNotFound"`), for logs and the alternate `Debug` form.
    pub fn variant_name(&self) -> &'static str {
        match self {
            Error::InvalidParam { .. } => "InvalidParam",
            Error::UnknownParam { .. } => "UnknownParam",
            Error::ColumnNotFound { .. } => "ColumnNotFound",
            Error::MissingInput { .. } => "MissingInput",
            Error::ColumnType { .. } => "ColumnType",
            Error::ColumnExists { .. } => "ColumnExists",
            Error::FeatureCount { .. } => "FeatureCount",
            Error::InvalidValue { .. } => "InvalidValue",
            Error::RowField { .. } => "RowField",
            Error::EmptyInput { .. } => "EmptyInput",
            Error::Csv { .. } => "Csv",
            Error::File { .. } => "File",
            Error::Pipeline(_) => "Pipeline",
            Error::Frame(_) => "Frame",
            Error::Usage(_) => "Usage",
            Error::Remote { .. } => "Remote",
            Error::Arrow(_) => "Arrow",
            Error::Internal(_) => "Internal",
        }
    }

    /// Shorthand for [`Error::InvalidParam`].
    pub(crate) fn param(
        stage: &'static str,
        param: &str,
        expected: impl Into<String>,
        got: impl std::fmt::Display,
    ) -> Self {
        Error::InvalidParam {
            stage,
            param: param.to_string(),
            expected: expected.into(),
            got: got.to_string(),
        }
    }

    /// Shorthand for [`Error::File`].
    pub(crate) fn file(path: impl Into<PathBuf>, reason: impl std::fmt::Display) -> Self {
        Error::File {
            path: path.into(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `fn main() -> mlpipe::Result<()>` prints `Error: {err:?}`: that must be the sentence.
    #[test]
    fn debug_is_the_message_and_the_structure_stays() {
        let err = Error::file("data/missing.csv", "No such file or directory (os error 2)");
        assert_eq!(format!("{err:?}"), err.to_string());
        assert!(!format!("{err:?}").contains("File {"), "{err:?}");
        assert_eq!(format!("{err:#?}"), format!("File: {err}"));
        assert!(matches!(err, Error::File { ref path, .. } if path.ends_with("missing.csv")));
    }
}
