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
