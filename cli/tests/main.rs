//! The command line's integration tests, one test binary (`autotests = false`): each file
//! beside this one is a module. Every test binary links nearly all of mlpipe, so four of
//! them were four 125 MB debug binaries on CI's small disk.
//!
//! Run one file's tests with its module name as the filter, e.g.
//! `cargo test -p mlpipe-cli --test integration trees::`.

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/common/trees.rs"]
mod tree_check;

mod cli;
#[cfg(feature = "connect")]
mod remote;
mod serve;
mod trees;

/// A file in `tests/` that this list does not name would never compile or run
/// (`autotests = false`): every one must be a module here.
#[test]
fn every_test_file_is_a_module_of_this_binary() {
    common::assert_every_test_file_is_a_module(env!("CARGO_MANIFEST_DIR"), include_str!("main.rs"));
}
