//! mlpipe's integration tests, one test binary.
//!
//! Each file beside this one is a module of the one binary (`autotests = false` in
//! Cargo.toml), not a binary of its own: every integration test links nearly all of mlpipe,
//! arrow and parquet (the pipeline loader reaches every stage), so each of the 47 binaries
//! was 125 MB in a debug build. As one binary the build links once and takes a tenth of
//! the disk (CI's small disk ran out linking them: stops 24, 26 and 27).
//!
//! Run one file's tests with its module name as the filter, e.g.
//! `cargo test --test integration spark_trees::`.

mod common;
#[path = "common/trees.rs"]
mod tree_check;

mod churn;
#[cfg(feature = "connect")]
mod connect;
mod contract;
mod evaluation;
mod features;
mod interop;
mod io;
mod lr;
mod ml_io;
mod nbkm_bad_input;
mod one_vs_rest;
mod persist;
mod pipeline;
mod pyspark_nbkm;
mod pyspark_nbkm_roundtrip;
mod pyspark_roundtrip;
mod pyspark_sparse_roundtrip;
mod pyspark_stages2_roundtrip;
mod pyspark_stages_roundtrip;
mod pyspark_stat_roundtrip;
mod pyspark_text_roundtrip;
mod pyspark_tuning_roundtrip;
mod row_forms;
mod row_scoring;
mod sampling;
mod scoring;
mod spark_kmeans;
mod spark_linear_svc;
mod spark_linreg;
mod spark_lr;
mod spark_lr_bounds;
mod spark_naive_bayes;
mod spark_rformula;
mod spark_sparse;
mod spark_sparse_layout;
mod spark_stages;
mod spark_stages2;
mod spark_stat;
mod spark_text;
mod spark_tree_estimators;
mod spark_tree_partitions;
mod spark_trees;
mod sparse_bad_input;
mod tree_engine_bad_input;
mod tree_engine_spark;
mod tuning;
mod unknown_size;

/// A file in `tests/` that this list does not name would never compile or run
/// (`autotests = false`): every one must be a module here.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    common::assert_every_test_file_is_a_module(env!("CARGO_MANIFEST_DIR"), include_str!("main.rs"));
}
