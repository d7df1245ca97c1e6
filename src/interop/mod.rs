//! Bridges to the Rust data and ML ecosystem, each behind its own cargo feature (all off by
//! default, so the default build stays lean):
//!
//! - `polars`: `DataFrame::from_polars` / `to_polars` through the Arrow
//!   C Data Interface, without copying (module `interop::polars`).
//! - `ndarray`: vector columns as `ArrayView2<f64>` per partition, `to_array2`,
//!   `from_array2`, and `predict_array` for any model (module `interop::ndarray`).
//! - `linfa` (implies `ndarray`): linfa `Dataset`s from frames and any linfa estimator as a
//!   pipeline stage (module `interop::linfa`).
//!
//! Sparse vectors do not exist in mlpipe yet, so none of the bridges maps them.

#[cfg(feature = "linfa")]
pub mod linfa;
#[cfg(feature = "ndarray")]
pub mod ndarray;
#[cfg(feature = "polars")]
pub mod polars;
