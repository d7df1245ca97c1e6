//! Node-for-node comparison of fitted trees (shared by the library and CLI tree tests).
#![allow(dead_code)]

use mlpipe::tree::{DecisionTree, Split};

fn close(a: f64, b: f64, rel: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 0.0, max_relative = rel)
}

/// Relative rounding of variance trees grown with histogram subtraction (the engine's
/// default for GBT and regression trees): their `Σwy`, `Σwy²` and what follows from them
/// carry a rounding of a few ulps of the parent's sums (`mlpipe::tree::engine` docs, whose
/// tests derive the bound), compared relative to the node's scale (its mean square for
/// predictions and impurities, its impurity for the gain, its largest statistic for the
/// statistics). Structure, splits, thresholds and counts stay exact.
const SUBTRACTION_REL: f64 = 1e-12;

/// Asserts `got` equals `want` node for node: every field equal, except that trees after
/// the first compare their numbers to `rel_after_first` relative, and variance trees to at
/// least [`SUBTRACTION_REL`] of the node's scale.
pub fn same_trees(what: &str, got: &[DecisionTree], want: &[DecisionTree], rel_after_first: f64) {
    assert_eq!(got.len(), want.len(), "{what}: number of trees");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        let rel = if t == 0 { 0.0 } else { rel_after_first };
        assert_eq!(g.num_nodes(), w.num_nodes(), "{what} tree {t}: node count");
        for (i, (a, b)) in g.nodes().iter().zip(w.nodes()).enumerate() {
            let ctx = format!("{what} tree {t} node {i}: got {a:?}, Spark {b:?}");
            let st = &b.impurity_stats;
            let (rel, ms, top) = if st.len() == 3 {
                let ms = if st[0] > 0.0 {
                    (st[2] / st[0]).abs()
                } else {
                    0.0
                };
                let top = st.iter().fold(0.0f64, |m, v| m.max(v.abs()));
                (rel.max(SUBTRACTION_REL), ms, top)
            } else {
                (rel, 0.0, 0.0)
            };
            let near =
                |x: f64, y: f64, scale: f64| close(x, y, rel) || (x - y).abs() <= rel * scale;
            assert!(near(a.prediction, b.prediction, ms.sqrt()), "{ctx}");
            assert!(near(a.impurity, b.impurity, ms), "{ctx}");
            assert!(near(a.gain, b.gain, b.impurity.abs().max(ms)), "{ctx}");
            assert_eq!(a.raw_count, b.raw_count, "{ctx}");
            assert_eq!(
                (a.left_child, a.right_child),
                (b.left_child, b.right_child),
                "{ctx}"
            );
            assert_eq!(a.impurity_stats.len(), b.impurity_stats.len(), "{ctx}");
            for (x, y) in a.impurity_stats.iter().zip(&b.impurity_stats) {
                assert!(near(*x, *y, top), "{ctx}");
            }
            match (&a.split, &b.split) {
                (
                    Some(Split::Continuous {
                        feature: f1,
                        threshold: t1,
                    }),
                    Some(Split::Continuous {
                        feature: f2,
                        threshold: t2,
                    }),
                ) => assert!(f1 == f2 && t1 == t2, "{ctx}"),
                (x, y) => assert_eq!(x, y, "{ctx}"),
            }
        }
    }
}
