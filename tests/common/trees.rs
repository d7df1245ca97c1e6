//! Node-for-node comparison of fitted trees (shared by the library and CLI tree tests).
#![allow(dead_code)]

use mlpipe::tree::{DecisionTree, Split};

fn close(a: f64, b: f64, rel: f64) -> bool {
    approx::relative_eq!(a, b, epsilon = 0.0, max_relative = rel)
}

/// Asserts `got` equals `want` node for node: every field equal, except that trees after
/// the first compare their numbers to `rel_after_first` relative.
pub fn same_trees(what: &str, got: &[DecisionTree], want: &[DecisionTree], rel_after_first: f64) {
    assert_eq!(got.len(), want.len(), "{what}: number of trees");
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        let rel = if t == 0 { 0.0 } else { rel_after_first };
        assert_eq!(g.num_nodes(), w.num_nodes(), "{what} tree {t}: node count");
        for (i, (a, b)) in g.nodes().iter().zip(w.nodes()).enumerate() {
            let ctx = format!("{what} tree {t} node {i}: got {a:?}, Spark {b:?}");
            assert!(close(a.prediction, b.prediction, rel), "{ctx}");
            assert!(close(a.impurity, b.impurity, rel), "{ctx}");
            assert!(close(a.gain, b.gain, rel), "{ctx}");
            assert_eq!(a.raw_count, b.raw_count, "{ctx}");
            assert_eq!(
                (a.left_child, a.right_child),
                (b.left_child, b.right_child),
                "{ctx}"
            );
            assert_eq!(a.impurity_stats.len(), b.impurity_stats.len(), "{ctx}");
            for (x, y) in a.impurity_stats.iter().zip(&b.impurity_stats) {
                assert!(close(*x, *y, rel), "{ctx}");
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
