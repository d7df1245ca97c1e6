//! Decision trees, random forests and gradient-boosted trees.
//!
//! [`engine`] is the one training engine the six tree estimators share: Spark's split
//! candidates and binning, level-wise growth with Spark's candidate order and tie-breaks,
//! bootstrap and feature subsets with Spark's random streams, and gradient boosting.

pub mod engine;
