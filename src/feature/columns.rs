//! Spark's single-column / multi-column param rules (`inputCol` vs `inputCols`), shared by
//! StringIndexer, OneHotEncoder and Imputer.

use crate::error::{Error, Result};

/// Column names from any list of names: `&["a", "b"]`, `&[String]`, `Vec<String>`, an
/// iterator of `String`s. What every column-list setter takes.
pub(crate) fn names(cs: impl IntoIterator<Item = impl AsRef<str>>) -> Vec<String> {
    cs.into_iter().map(|c| c.as_ref().to_string()).collect()
}

/// Resolves the (input, output) column pairs: exactly one of `input_col` / `input_cols`
/// must be set, and the output params must match the mode (Spark's
/// `checkSingleVsMultiColumnParams`).
pub(crate) fn column_pairs(
    stage: &'static str,
    input_col: &Option<String>,
    input_cols: &Option<Vec<String>>,
    output_col: &Option<String>,
    output_cols: &Option<Vec<String>>,
) -> Result<Vec<(String, String)>> {
    match (input_col, input_cols) {
        (Some(_), Some(_)) => Err(Error::param(
            stage,
            "inputCols",
            "unset when inputCol is set (exactly one of inputCol, inputCols)",
            "both set",
        )),
        (None, None) => Err(Error::param(
            stage,
            "inputCol",
            "set, or inputCols set (exactly one of inputCol, inputCols)",
            "neither set",
        )),
        (Some(i), None) => {
            if output_cols.is_some() {
                return Err(Error::param(
                    stage,
                    "outputCols",
                    "unset in single-column mode (use outputCol)",
                    "set",
                ));
            }
            let o = output_col
                .clone()
                .filter(|o| !o.is_empty())
                .ok_or_else(|| Error::param(stage, "outputCol", "a column name", "unset"))?;
            Ok(vec![(i.clone(), o)])
        }
        (None, Some(is)) => {
            if is.is_empty() {
                return Err(Error::param(stage, "inputCols", "a non-empty list", "[]"));
            }
            let os = output_cols.as_ref().ok_or_else(|| {
                Error::param(
                    stage,
                    "outputCols",
                    "set in multi-column mode, one per input column",
                    "unset",
                )
            })?;
            if os.len() != is.len() {
                return Err(Error::param(
                    stage,
                    "outputCols",
                    format!("{} names, one per input column", is.len()),
                    format!("{} names", os.len()),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            for o in os {
                if !seen.insert(o) {
                    return Err(Error::param(
                        stage,
                        "outputCols",
                        "distinct names",
                        format!("`{o}` twice"),
                    ));
                }
            }
            Ok(is.iter().cloned().zip(os.iter().cloned()).collect())
        }
    }
}

/// The `with_input_col` / `with_output_col` / `with_input_cols` / `with_output_cols`
/// setters of a stage with Spark's single- and multi-column modes (`uid` and `params`
/// fields with `Option` column params).
macro_rules! multi_column_setters {
    () => {
        /// Single-column mode: the input column.
        pub fn with_input_col(mut self, c: &str) -> Self {
            self.params.input_col = Some(c.into());
            self
        }
        /// Single-column mode: the output column.
        pub fn with_output_col(mut self, c: &str) -> Self {
            self.params.output_col = Some(c.into());
            self
        }
        /// Multi-column mode: the input columns (leaves single-column mode); any list of
        /// names (`&["a", "b"]`, a `Vec<String>`, an iterator of `String`s).
        pub fn with_input_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
            self.params.input_cols = Some($crate::feature::columns::names(cs));
            self.params.input_col = None;
            self.clear_default_output();
            self
        }
        /// Multi-column mode: one output column per input column; any list of names.
        pub fn with_output_cols(mut self, cs: impl IntoIterator<Item = impl AsRef<str>>) -> Self {
            self.params.output_cols = Some($crate::feature::columns::names(cs));
            self.clear_default_output();
            self
        }
        /// Drops Spark's single-column default output (`<uid>__output`) in multi-column mode.
        fn clear_default_output(&mut self) {
            if self.params.output_col.as_deref() == Some(&format!("{}__output", self.uid)) {
                self.params.output_col = None;
            }
        }
    };
}
pub(crate) use multi_column_setters;

/// What every stage that holds just a uid and its params has: `Default`, Spark's uid
/// prefix, `new` (Spark's defaults: the params `$params_expr` builds from the fresh uid
/// `$uid`), `from_params` and `params`.
macro_rules! stage_basics {
    ($ty:ident, $params:ident, $prefix:literal, |$uid:ident| $params_expr:expr) => {
        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $ty {
            /// Spark's uid prefix.
            pub const UID_PREFIX: &'static str = $prefix;

            #[doc = concat!("A `", stringify!($ty), "` with Spark's defaults and a fresh uid.")]
            pub fn new() -> Self {
                let $uid = crate::param::random_uid(Self::UID_PREFIX);
                let params = $params_expr;
                Self { uid: $uid, params }
            }

            #[doc = concat!("A `", stringify!($ty), "` with the given uid and params.")]
            pub fn from_params(uid: impl Into<String>, params: $params) -> Self {
                Self {
                    uid: uid.into(),
                    params,
                }
            }

            /// The params.
            pub fn params(&self) -> &$params {
                &self.params
            }
        }
    };
}
pub(crate) use stage_basics;

/// Params with Spark's single- and multi-column forms (`inputCol`/`inputCols`,
/// `outputCol`/`outputCols`).
pub(crate) trait InOutCols {
    /// The four column params.
    fn in_out(&self) -> InOut<'_>;

    /// The `(input, output)` column pairs, checked as [`column_pairs`] does.
    fn pairs(&self, stage: &'static str) -> Result<Vec<(String, String)>> {
        let (ic, ics, oc, ocs) = self.in_out();
        column_pairs(stage, ic, ics, oc, ocs)
    }
}

/// `inputCol`, `inputCols`, `outputCol`, `outputCols`.
pub(crate) type InOut<'a> = (
    &'a Option<String>,
    &'a Option<Vec<String>>,
    &'a Option<String>,
    &'a Option<Vec<String>>,
);

/// Implements [`InOutCols`] for params structs with the four column fields.
macro_rules! in_out_cols {
    ($($params:ident),*) => {$(
        impl $crate::feature::columns::InOutCols for $params {
            fn in_out(&self) -> $crate::feature::columns::InOut<'_> {
                (&self.input_col, &self.input_cols, &self.output_col, &self.output_cols)
            }
        }
    )*};
}
pub(crate) use in_out_cols;
