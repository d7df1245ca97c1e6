//! Spark's level-wise growth (`RandomForest.runBagged`): a stack of nodes, popped in
//! groups; per group one histogram per (node, feature), each accumulated over the node's
//! rows in their original order (Spark's summation order, so the trees are bit for bit
//! Spark's); best split by Spark's candidate order and tie-breaks; children pushed in
//! Spark's order; finally conversion with pruning.
//!
//! The histograms of a group are computed in parallel, one task per (node, feature): each
//! task is sequential over its rows, so the result does not depend on the thread count.
//! Trees grown by level sweeps may instead take a node's histograms as its parent's minus
//! its sibling's (histogram subtraction; see the engine's module docs for its terms).

use std::cell::RefCell;
use std::ops::Range;

use rayon::prelude::*;

use super::binning::{BinColumns, Binned, FeatureKind};
use super::histogram::{self, RowList};
use super::impurity::{count, Impurity};
use super::order::scala_map_order;
use super::{Strategy, TrainedNode, TrainedSplit, TrainedTree};
use crate::random::{JavaRandom, JvmRandom, XorShiftRandom};

/// Sufficient statistics of a set of rows (`ImpurityCalculator`): class weights or
/// (Σw, Σwy, Σwy²), and the raw (bootstrap-multiplied, unweighted) count.
#[derive(Clone, Debug)]
pub(crate) struct Calc {
    pub stats: Vec<f64>,
    pub raw: i64,
}

impl Calc {
    fn from_hist(h: &[f64]) -> Calc {
        let n = h.len() - 1;
        Calc {
            stats: h[..n].to_vec(),
            raw: h[n] as i64,
        }
    }
    fn sub(&self, o: &Calc) -> Calc {
        Calc {
            stats: self
                .stats
                .iter()
                .zip(&o.stats)
                .map(|(a, b)| a - b)
                .collect(),
            raw: self.raw - o.raw,
        }
    }
    fn add(&self, o: &Calc) -> Calc {
        Calc {
            stats: self
                .stats
                .iter()
                .zip(&o.stats)
                .map(|(a, b)| a + b)
                .collect(),
            raw: self.raw + o.raw,
        }
    }
}

/// A node's parent vector and its (feature, histogram) pairs.
pub(crate) type NodeHists = (Vec<f64>, Vec<(usize, Vec<f64>)>);

/// `ImpurityStats` of a node.
#[derive(Clone, Debug)]
struct Stats {
    gain: f64,
    impurity: f64,
    calc: Calc,
    children: Option<(Calc, Calc)>,
    valid: bool,
}

/// A split in bin form (for routing binned rows) with its model form.
#[derive(Clone, Debug)]
enum BinSplit {
    /// Bins `<= bin` go left.
    Continuous { feature: usize, bin: usize },
    /// Categories with `left[c]` go left.
    Categorical { feature: usize, left: Vec<bool> },
}

impl BinSplit {
    #[inline]
    fn goes_left(&self, b: &Binned, row: usize) -> bool {
        match self {
            BinSplit::Continuous { feature, bin } => b.bin(*feature, row) <= *bin,
            BinSplit::Categorical { feature, left } => left[b.bin(*feature, row)],
        }
    }
}

struct LearningNode {
    /// 1-based heap id (root 1, children 2i and 2i + 1).
    id: u64,
    stats: Option<Stats>,
    split: Option<BinSplit>,
    children: Option<(usize, usize)>,
    /// Where the rows reaching the node (global indices, ascending) are in its tree's
    /// `order`, while the node waits on the stack.
    rows: Range<usize>,
    /// The arena index of the parent (`None` for the root).
    parent: Option<usize>,
    /// Its histograms were its parent's minus its sibling's (histogram subtraction), not
    /// summed over its rows.
    subtracted: bool,
}

impl LearningNode {
    fn level(&self) -> u32 {
        63 - self.id.leading_zeros()
    }
}

/// Rows and their sampling counts for one tree.
pub(crate) struct TreeInput<'a> {
    /// Bootstrap/subsample count per row; `None` = every row once.
    pub counts: Option<&'a [u16]>,
}

/// What the trees are fitted to: labels (class indices or regression targets) and weights.
pub(crate) struct Targets<'a> {
    pub labels: &'a [f64],
    pub weights: Option<&'a [f64]>,
    /// The class labels as bytes, for the class-count block kernel (8 times less memory
    /// to stream than the `f64` labels); `None` for regression or above 256 classes.
    pub classes: Option<&'a ClassLabels>,
}

/// Class indices as bytes, every one below `num_classes` (checked when built).
pub(crate) struct ClassLabels {
    y: Vec<u8>,
    num_classes: usize,
}

impl ClassLabels {
    /// The labels as bytes when every one is a whole number in `[0, num_classes)` and
    /// `num_classes <= 256`.
    pub fn new(labels: &[f64], num_classes: usize) -> Option<ClassLabels> {
        let k = num_classes as f64;
        (num_classes <= 256
            && labels
                .iter()
                .all(|&y| y >= 0.0 && y < k && y.fract() == 0.0))
        .then(|| ClassLabels {
            y: labels.iter().map(|&y| y as u8).collect(),
            num_classes,
        })
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.y
    }

    pub fn len(&self) -> usize {
        self.y.len()
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }
}

/// A tree being grown: its node arena (index 0 is the root).
pub(crate) struct GrownTree {
    nodes: Vec<LearningNode>,
    /// The tree's sampled rows, each waiting node's rows one ascending run of them
    /// (children's runs replace their parent's in place when it is split); empty when
    /// grown by sweeps.
    order: Vec<u32>,
    /// Grown by sweeps ([`sweeps`]): the node (arena index) each row ended in, `NO_NODE`
    /// for rows the tree did not sample.
    node_of: Option<Vec<u32>>,
}

/// `node_of` of a row outside the tree (sampling count 0) or of a node outside the group.
const NO_NODE: u32 = u32::MAX;

/// Whether a tree is grown by level sweeps instead of per-node row lists: a single tree on
/// every feature (a decision tree, each GBT tree) with variance statistics, binned
/// row-major in bytes (the binning's choice by [`sweep_layout`]). A sweep streams the rows
/// once per group in row order (Spark's own pass), adding each to its node's histograms:
/// the bins, targets and node ids are read in row order, where per-node row lists would
/// gather them, and each (node, feature, bin) still receives its rows in row order, so the
/// sums are the same.
fn sweeps(b: &Binned, trees: &[TreeInput], s: &Strategy, subsampling: bool) -> bool {
    trees.len() == 1
        && !subsampling
        && s.impurity == Impurity::Variance
        && matches!(b.bins, BinColumns::RowMajorU8(_))
        && (0..b.kinds.len()).all(|f| histogram::in_block(b, f))
}

/// Whether to bin row-major for level sweeps (see [`sweeps`]): `num_trees` trees grown
/// together on `features_per_node` of `num_features` features with `impurity`.
pub(crate) fn sweep_layout(
    impurity: Impurity,
    num_trees: usize,
    features_per_node: usize,
    num_features: usize,
) -> bool {
    num_trees == 1 && features_per_node == num_features && impurity == Impurity::Variance
}

/// Grows `trees.len()` trees together, as Spark's `runBagged` does, drawing feature
/// subsets from `java.util.Random(subset_seed)` when `features_per_node < numFeatures`.
pub(crate) fn grow(
    b: &Binned,
    targets: &Targets,
    trees: &[TreeInput],
    s: &Strategy,
    features_per_node: usize,
    subset_seed: i64,
    min_weight_per_node: f64,
) -> Vec<GrownTree> {
    let nf = b.kinds.len();
    let subsampling = features_per_node != nf;
    let mut rng = JavaRandom::new(subset_seed);
    let sweep = sweeps(b, trees, s, subsampling);
    // Histogram subtraction: level sweeps only, and only where every count it subtracts
    // is exact (whole-number weights).
    let subtract = sweep && s.subtract_histograms && whole_weights(targets.weights);
    // With subtraction: the histograms of split nodes whose children wait on the stack,
    // by arena index, kept until the children's are made.
    let mut kept: Vec<Option<NodeHists>> = Vec::new();
    // The swept rows below the root, in a buffer reused by every tree grown on this thread
    // (taken out while in use, so a nested fit on this thread makes its own).
    let mut list = if subtract {
        ROW_LIST.take()
    } else {
        RowList::default()
    };
    // Each row's node, in a buffer reused from the last tree grown by sweeps on this thread
    // (its pages already faulted in).
    let mut node_of: Vec<u32> = if sweep { NODE_OF.take() } else { Vec::new() };
    node_of.clear();
    match (sweep, trees.first().and_then(|t| t.counts)) {
        (false, _) => {}
        (true, Some(c)) => node_of.extend(c.iter().map(|&k| if k > 0 { 0 } else { NO_NODE })),
        (true, None) => node_of.resize(b.rows, 0),
    }
    let mut grown: Vec<GrownTree> = trees
        .par_iter()
        .map(|t| {
            let order: Vec<u32> = if sweep {
                Vec::new()
            } else {
                // Fresh memory advised into huge pages, filled once and reused by every
                // level (first touch of 4 KB pages costs ~4x more).
                let mut order = crate::frame::buffer::with_exact_capacity(b.rows);
                match t.counts {
                    Some(c) => order.extend((0..b.rows as u32).filter(|&i| c[i as usize] > 0)),
                    None => order.extend(0..b.rows as u32),
                }
                order
            };
            GrownTree {
                nodes: vec![LearningNode {
                    id: 1,
                    stats: None,
                    split: None,
                    children: None,
                    rows: 0..order.len(),
                    parent: None,
                    subtracted: false,
                }],
                order,
                node_of: None,
            }
        })
        .collect();
    // The stack's top is its last element; roots are pushed for tree 0, 1, ..
    let mut stack: Vec<(usize, usize)> = (0..trees.len()).map(|t| (t, 0)).collect();
    let ss = s.impurity.stats_len(s.num_classes) + 1;
    let max_memory = (s.max_memory_in_mb as u64) << 20;
    let per_bin = if s.impurity == Impurity::Variance {
        3
    } else {
        s.num_classes as u64
    };
    while !stack.is_empty() {
        // selectNodesToSplit
        let mut group: Vec<(usize, usize, Option<Vec<usize>>)> = Vec::new();
        let mut mem: u64 = 0;
        while let Some(&(t, n)) = stack.last() {
            if !(mem < max_memory || mem == 0) {
                break;
            }
            let subset =
                subsampling.then(|| reservoir_sample(nf, features_per_node, rng.next_long()));
            let bins: u64 = match &subset {
                Some(fs) => fs.iter().map(|&f| b.num_bins[f] as u64).sum(),
                None => b.num_bins.iter().map(|&x| x as u64).sum(),
            };
            let node_mem = bins * per_bin * 8;
            if mem + node_mem <= max_memory || mem == 0 {
                stack.pop();
                group.push((t, n, subset));
            }
            mem += node_mem;
        }
        let mut by_node = if sweep {
            sweep_group(
                b,
                &mut grown[0].nodes,
                &group,
                &node_of,
                &mut kept,
                &mut list,
                targets,
                trees[0].counts,
                ss,
            )
        } else {
            group_histograms(b, &grown, &group, targets, trees, s, ss)
        };
        // Visit the group's trees in Scala's Map order, each tree's nodes in pop order.
        let mut tree_keys: Vec<usize> = Vec::new();
        for (t, _, _) in &group {
            if !tree_keys.contains(t) {
                tree_keys.push(*t);
            }
        }
        // Best splits (independent per node), in parallel.
        let visit: Vec<usize> = scala_map_order(&tree_keys)
            .into_iter()
            .flat_map(|t| {
                let group = &group;
                (0..group.len()).filter(move |&g| group[g].0 == t)
            })
            .collect();
        let found: Vec<(BinSplit, Stats)> = visit
            .par_iter()
            .map(|&g| {
                let (parent_hist, feature_hists) = &by_node[g];
                let (t, n, subset) = &group[g];
                let order: Vec<usize> = match subset {
                    Some(fs) => fs.clone(),
                    None => (0..nf).collect(),
                };
                let nodes = &grown[*t].nodes;
                let node = &nodes[*n];
                let recycled = if node.level() == 0 {
                    None
                } else {
                    node.stats.clone()
                };
                // Statistics that went through a subtraction (its own histograms, or its
                // parent's, which its own statistics come from) decide near ties.
                let tol = match (node.stats.as_ref(), inexact_origin(nodes, *n)) {
                    (Some(st), Some(origin)) => {
                        tie_tolerance(nodes, origin, count(s.impurity, &st.calc.stats))
                    }
                    _ => 0.0,
                };
                best_split(
                    b,
                    s,
                    &order,
                    feature_hists,
                    parent_hist,
                    recycled,
                    ss,
                    min_weight_per_node,
                    tol,
                )
            })
            .collect();
        // Apply them in Spark's visiting order; the rows are partitioned afterwards.
        let mut splits: Vec<Partition> = Vec::new();
        for (&g, (split, stats)) in visit.iter().zip(found) {
            let (t, n, _) = group[g];
            let tree = &mut grown[t];
            let level = tree.nodes[n].level();
            let is_leaf = stats.gain <= 0.0 || level as usize == s.max_depth;
            if is_leaf {
                tree.nodes[n].stats = Some(stats);
                tree.nodes[n].rows = 0..0;
                continue;
            }
            let (lc, rc) = stats.children.clone().expect("a valid split has children");
            let child_is_leaf = level as usize + 1 == s.max_depth;
            // Spark's "pure child" test; on subtracted statistics, a child whose impurity is
            // within their rounding of zero is pure (see `tie_tolerance`).
            let origin = inexact_origin(&tree.nodes, n).filter(|_| tree.nodes[n].subtracted);
            let pure = |c: &Calc| {
                let eps = match origin {
                    Some(o) => {
                        f64::EPSILON.max(tie_tolerance(&tree.nodes, o, count(s.impurity, &c.stats)))
                    }
                    None => f64::EPSILON,
                };
                s.impurity.calculate(&c.stats).abs() < eps
            };
            let left_leaf = child_is_leaf || pure(&lc);
            let right_leaf = child_is_leaf || pure(&rc);
            let id = tree.nodes[n].id;
            let li = tree.nodes.len();
            tree.nodes.push(LearningNode {
                id: 2 * id,
                stats: Some(empty_stats(s.impurity, lc)),
                split: None,
                children: None,
                rows: 0..0,
                parent: Some(n),
                subtracted: false,
            });
            tree.nodes.push(LearningNode {
                id: 2 * id + 1,
                stats: Some(empty_stats(s.impurity, rc)),
                split: None,
                children: None,
                rows: 0..0,
                parent: Some(n),
                subtracted: false,
            });
            let rows = std::mem::replace(&mut tree.nodes[n].rows, 0..0);
            if sweep || !left_leaf || !right_leaf {
                splits.push(Partition {
                    tree: t,
                    node: n,
                    left: li,
                    rows,
                    split: split.clone(),
                    keep: (!left_leaf, !right_leaf),
                });
            }
            let node = &mut tree.nodes[n];
            node.stats = Some(stats);
            node.split = Some(split);
            node.children = Some((li, li + 1));
            if !left_leaf {
                stack.push((t, li));
            }
            if !right_leaf {
                stack.push((t, li + 1));
            }
            if subtract && !(left_leaf && right_leaf) {
                if kept.len() <= n {
                    kept.resize_with(n + 1, || None);
                }
                kept[n] = Some(std::mem::take(&mut by_node[g]));
            }
        }
        if sweep {
            // Every row of a split node moves to its child (leaves included, so that
            // `node_of` ends as each row's leaf).
            route_rows(b, &mut node_of, grown[0].nodes.len(), &splits);
            continue;
        }
        // Each split node's run of its tree's `order` is partitioned in place, the runs
        // (disjoint) in parallel.
        splits.sort_by_key(|p| (p.tree, p.rows.start));
        let mut runs: Vec<(&mut [u32], &Partition)> = Vec::with_capacity(splits.len());
        let mut orders: Vec<Option<&mut [u32]>> =
            grown.iter_mut().map(|g| Some(&mut g.order[..])).collect();
        let mut at = vec![0; orders.len()];
        for p in &splits {
            let rest = orders[p.tree]
                .take()
                .expect("every tree's order is split in turn");
            let (_, rest) = rest.split_at_mut(p.rows.start - at[p.tree]);
            let (run, rest) = rest.split_at_mut(p.rows.len());
            orders[p.tree] = Some(rest);
            at[p.tree] = p.rows.end;
            runs.push((run, p));
        }
        let lefts: Vec<usize> = runs
            .into_par_iter()
            .map(|(run, p)| partition(b, &p.split, run))
            .collect();
        for (p, nl) in splits.iter().zip(lefts) {
            let nodes = &mut grown[p.tree].nodes;
            let mid = p.rows.start + nl;
            if p.keep.0 {
                nodes[p.left].rows = p.rows.start..mid;
            }
            if p.keep.1 {
                nodes[p.left + 1].rows = mid..p.rows.end;
            }
        }
    }
    if sweep {
        grown[0].node_of = Some(node_of);
    }
    if subtract {
        ROW_LIST.set(list);
    }
    grown
}

thread_local! {
    /// [`grow`]'s row list between fits on this thread.
    static ROW_LIST: std::cell::Cell<RowList> = std::cell::Cell::new(RowList::default());
    /// The `node_of` buffer of the last tree grown by sweeps and dropped on this thread.
    static NODE_OF: std::cell::Cell<Vec<u32>> = const { std::cell::Cell::new(Vec::new()) };
}

impl Drop for GrownTree {
    /// Hands `node_of` back for the next tree grown on this thread (each GBT tree).
    fn drop(&mut self) {
        if let Some(v) = self.node_of.take() {
            NODE_OF.set(v);
        }
    }
}

/// Rows per task of a sweep's row pass.
const SWEEP_CHUNK: usize = 16 * 1024;

/// Moves every row of a split node to its child: the row of node `a` split by `p` goes to
/// `p.left`, or `p.left + 1` when the split sends its bin right; rows of other nodes (and
/// unsampled rows, `NO_NODE`) stay.
///
/// With byte bins, one branch-free pass: per node a feature and a 256-entry table
/// (1 = the bin goes right), so that a row's move is `left[a] + right[a][bin]` whatever
/// kind of split (continuous or categorical) its node has, and a node that stays has
/// itself as `left` and an all-zero table. Unsampled rows go through one extra entry that
/// maps them to `NO_NODE`. Wider bins take the split's own test.
fn route_rows(b: &Binned, node_of: &mut [u32], num_nodes: usize, splits: &[Partition]) {
    // Feature `f`'s bin of row `r` at `f * per_feature + r * per_row`.
    let (all, per_feature, per_row) = match &b.bins {
        BinColumns::U8(all) => (all, b.rows, 1),
        BinColumns::RowMajorU8(all) => (all, 1, b.kinds.len()),
        BinColumns::U16(_) => {
            let mut moves: Vec<Option<&Partition>> = vec![None; num_nodes];
            for p in splits {
                moves[p.node] = Some(p);
            }
            node_of
                .par_chunks_mut(SWEEP_CHUNK)
                .enumerate()
                .for_each(|(c, chunk)| {
                    let first = c * SWEEP_CHUNK;
                    for (j, a) in chunk.iter_mut().enumerate() {
                        if let Some(Some(p)) = moves.get(*a as usize) {
                            *a = p.left as u32 + u32::from(!p.split.goes_left(b, first + j));
                        }
                    }
                });
            return;
        }
    };
    // Entry `num_nodes` stands for every row outside the tree.
    let out = num_nodes;
    let mut left: Vec<u32> = (0..=num_nodes as u32).collect();
    left[out] = NO_NODE;
    let mut col = vec![0usize; num_nodes + 1];
    let mut right = vec![0u8; (num_nodes + 1) * 256];
    for p in splits {
        left[p.node] = p.left as u32;
        let t = &mut right[p.node * 256..(p.node + 1) * 256];
        let feature = match &p.split {
            BinSplit::Continuous { feature, bin } => {
                t.iter_mut().skip(*bin + 1).for_each(|r| *r = 1);
                *feature
            }
            BinSplit::Categorical { feature, left } => {
                for (r, &l) in t.iter_mut().zip(left) {
                    *r = u8::from(!l);
                }
                *feature
            }
        };
        col[p.node] = feature * per_feature;
    }
    assert!(all.len() == b.kinds.len() * b.rows && node_of.len() == b.rows);
    // Every feature's last bin is inside `all`.
    assert!(b.rows == 0 || col.iter().all(|&c| c + (b.rows - 1) * per_row < all.len()));
    node_of
        .par_chunks_mut(SWEEP_CHUNK)
        .enumerate()
        .for_each(|(c, chunk)| {
            let first = c * SWEEP_CHUNK;
            for (j, a) in chunk.iter_mut().enumerate() {
                let i = (*a as usize).min(out);
                // Every entry of `col` starts a column of `all` (asserted above) and
                // `first + j` is a row, below `b.rows`.
                let bin = all[col[i] + (first + j) * per_row];
                *a = left[i].wrapping_add(u32::from(right[i * 256 + usize::from(bin)]));
            }
        });
}

/// Whether every weight is a whole number with their total below 2^53 (so that sums of
/// weights, and their differences, are exact).
fn whole_weights(w: Option<&[f64]>) -> bool {
    w.is_none_or(|w| {
        w.iter().all(|v| v.fract() == 0.0)
            && w.iter().sum::<f64>() * f64::from(u16::MAX) < 2f64.powi(53)
    })
}

/// The histograms of a group of one tree's nodes by a level sweep ([`histogram::sweep_variance`]).
/// A node whose parent's histograms were `kept` pairs with its sibling: the child with fewer
/// rows is swept (whether it waits on the stack or is a leaf), and the other one, if it
/// waits, is the parent's histograms minus the swept child's ([`subtract_hists`]). Other
/// nodes (the root, or all of them when `kept` is empty) are swept. Marks each group node
/// `subtracted` or not, and drops the parents' kept histograms once used.
#[allow(clippy::too_many_arguments)]
fn sweep_group(
    b: &Binned,
    nodes: &mut [LearningNode],
    group: &[(usize, usize, Option<Vec<usize>>)],
    node_of: &[u32],
    kept: &mut [Option<NodeHists>],
    list: &mut RowList,
    targets: &Targets,
    counts: Option<&[u16]>,
    ss: usize,
) -> Vec<NodeHists> {
    let mut slot_of = vec![NO_NODE; nodes.len()];
    let mut swept = 0u32;
    let mut slot = |i: usize, slot_of: &mut [u32]| {
        if slot_of[i] == NO_NODE {
            slot_of[i] = swept;
            swept += 1;
        }
        slot_of[i]
    };
    // Per group node: its own slot, or (parent, the swept sibling's slot).
    let mut source: Vec<Result<u32, (usize, u32)>> = Vec::with_capacity(group.len());
    let mut paired = false;
    for &(_, n, _) in group {
        let pair = nodes[n]
            .parent
            .filter(|&p| kept.get(p).is_some_and(Option::is_some));
        paired |= pair.is_some();
        source.push(match pair {
            Some(p) => {
                let (l, r) = nodes[p].children.expect("a parent has children");
                let raw = |i: usize| nodes[i].stats.as_ref().map_or(0, |st| st.calc.raw);
                let small = if raw(r) < raw(l) { r } else { l };
                let k = slot(small, &mut slot_of);
                if small == n {
                    Ok(k)
                } else {
                    Err((p, k))
                }
            }
            None => Ok(slot(n, &mut slot_of)),
        });
    }
    // Below the root, the swept children hold a fraction of the rows: visit only theirs.
    let rows = paired.then(|| {
        list.fill(node_of, &slot_of);
        &*list
    });
    let mut hists =
        histogram::sweep_variance(b, node_of, &slot_of, swept as usize, targets, counts, rows);
    // The subtractions first (they read swept histograms), then the swept ones move.
    let mut out: Vec<NodeHists> = source
        .iter()
        .map(|src| match src {
            Err((p, k)) => subtract_hists(
                kept[*p].as_ref().expect("kept parent histograms"),
                &hists[*k as usize],
                ss,
            ),
            Ok(_) => (Vec::new(), Vec::new()),
        })
        .collect();
    for ((o, src), &(_, n, _)) in out.iter_mut().zip(&source).zip(group) {
        nodes[n].subtracted = src.is_err();
        if let Ok(k) = src {
            *o = std::mem::take(&mut hists[*k as usize]);
        }
    }
    for &(_, n, _) in group {
        if let Some(p) = nodes[n].parent {
            if let Some(h) = kept.get_mut(p) {
                *h = None;
            }
        }
    }
    out
}

/// A node's histograms as its parent's minus its sibling's, bin by bin. The counts (the
/// last of each bin's `ss` statistics) and, with whole-number weights, the weight sums are
/// exact in doubles, so their differences are too; a bin left with no rows is exactly zero
/// in every statistic (not the rounding residue of `Σwy` and `Σwy²`).
fn subtract_hists(parent: &NodeHists, child: &NodeHists, ss: usize) -> NodeHists {
    let sub = |p: &[f64], c: &[f64]| -> Vec<f64> {
        assert_eq!(p.len(), c.len(), "histograms of the same bins");
        let mut out = Vec::with_capacity(p.len());
        for (pb, cb) in p.chunks_exact(ss).zip(c.chunks_exact(ss)) {
            if pb[ss - 1] == cb[ss - 1] {
                out.extend(std::iter::repeat_n(0.0, ss));
            } else {
                out.extend(pb.iter().zip(cb).map(|(a, b)| a - b));
            }
        }
        out
    };
    let feats = parent
        .1
        .iter()
        .zip(&child.1)
        .map(|((f, p), (g, c))| {
            assert_eq!(f, g, "histograms of the same features");
            (*f, sub(p, c))
        })
        .collect();
    (sub(&parent.0, &child.0), feats)
}

/// The node where the subtractions behind node `n`'s statistics start (the nearest swept
/// ancestor of its histograms, or of its parent's, which its statistics come from), or
/// `None` when they are exact (its and its parent's histograms were swept).
fn inexact_origin(nodes: &[LearningNode], n: usize) -> Option<usize> {
    let mut a = if nodes[n].subtracted {
        n
    } else {
        let p = nodes[n].parent?;
        if !nodes[p].subtracted {
            return None;
        }
        p
    };
    while nodes[a].subtracted {
        a = nodes[a].parent.expect("the root is swept");
    }
    Some(a)
}

/// Relative rounding allowed for near ties on subtracted statistics (see `tie_tolerance`).
pub(crate) const TIE_RELATIVE: f64 = 1e-12;

/// How far a gain (or impurity) per unit of `weight` may be off Spark's when its statistics
/// went through subtractions starting at node `origin`: `TIE_RELATIVE · Σwy²(origin) /
/// weight`.
///
/// Derivation: a subtracted bin differs from the row-by-row sum Spark makes by the rounding
/// of one subtraction and of two sums in other orders, each a few ulps of the minuend bin's
/// sums (ulp ≈ 1.1e-16 relative; random-order sums of m terms drift like √m ulps), and
/// the chain of subtractions down from `origin` adds at most one such term per level. In a
/// node's weighted squared error `Σwy² − (Σwy)²/Σw` that lands as at most a few ulps of
/// `origin`'s `Σwy²` (its `(Σwy)²/Σw` term is bounded by `Σwy²`, Cauchy–Schwarz), and gains
/// and impurities divide that squared error by the node's weight. 1e-12 is about 1e4 ulps:
/// room for √m ≈ 900 (m = 800k rows) times the few levels of a tree. Only variance
/// statistics are subtracted.
fn tie_tolerance(nodes: &[LearningNode], origin: usize, weight: f64) -> f64 {
    let Some(st) = nodes[origin].stats.as_ref() else {
        return 0.0;
    };
    if st.calc.stats.len() != 3 || weight.is_nan() || weight <= 0.0 {
        return 0.0;
    }
    TIE_RELATIVE * st.calc.stats[2].abs() / weight
}

/// A node's rows waiting to be sent to its children (`left`, `left + 1`).
struct Partition {
    tree: usize,
    node: usize,
    left: usize,
    rows: Range<usize>,
    split: BinSplit,
    /// Whether the (left, right) child keeps its rows.
    keep: (bool, bool),
}

/// Reorders `rows` (ascending) into the rows going left then the rows going right, both
/// ascending, and returns how many go left: the left ones written over `rows` in place,
/// the right ones through a per-thread scratch buffer reused by every call (no
/// allocation per node), without a branch per row.
fn partition(b: &Binned, split: &BinSplit, rows: &mut [u32]) -> usize {
    thread_local! {
        static RIGHT: RefCell<Vec<u32>> = const { RefCell::new(Vec::new()) };
    }
    fn run(rows: &mut [u32], goes_left: impl Fn(usize) -> bool) -> usize {
        RIGHT.with_borrow_mut(|right| {
            let n = rows.len();
            if right.len() < n {
                *right = vec![0; n];
            }
            let (mut nl, mut nr) = (0, 0);
            for i in 0..n {
                let r = rows[i];
                let left = goes_left(r as usize);
                rows[nl] = r;
                right[nr] = r;
                nl += usize::from(left);
                nr += usize::from(!left);
            }
            rows[nl..].copy_from_slice(&right[..nr]);
            nl
        })
    }
    match (split, &b.bins) {
        (BinSplit::Continuous { feature, bin }, BinColumns::U8(all)) => {
            let col = &all[feature * b.rows..(feature + 1) * b.rows];
            run(rows, |r| usize::from(col[r]) <= *bin)
        }
        (BinSplit::Categorical { feature, left }, BinColumns::U8(all)) => {
            let col = &all[feature * b.rows..(feature + 1) * b.rows];
            run(rows, |r| left[usize::from(col[r])])
        }
        _ => run(rows, |r| split.goes_left(b, r)),
    }
}

/// The histograms of a node group: per node its parent vector and one histogram per
/// feature of its subset that has splits. Each histogram is summed by one task over the
/// node's rows in order, so the result does not depend on how the work is cut: tasks are
/// blocks of features (one pass over the rows each, [`histogram::fill_block`]), sized
/// so that both the nodes' rows and the threads are covered; features the block kernel
/// does not handle get a task each.
fn group_histograms(
    b: &Binned,
    grown: &[GrownTree],
    group: &[(usize, usize, Option<Vec<usize>>)],
    targets: &Targets,
    trees: &[TreeInput],
    s: &Strategy,
    ss: usize,
) -> Vec<NodeHists> {
    enum Task {
        Block {
            g: usize,
            feats: Vec<usize>,
            parent: bool,
        },
        Single {
            g: usize,
            f: Option<usize>,
        },
    }
    let classification = s.impurity != Impurity::Variance;
    let blocks = histogram::block_kernel_applies(b, targets, classification);
    let nf = b.kinds.len();
    let rows_of = |g: usize| grown[group[g].0].nodes[group[g].1].rows.len();
    let rows_at =
        |g: usize| &grown[group[g].0].order[grown[group[g].0].nodes[group[g].1].rows.clone()];
    let group_rows = (0..group.len()).map(rows_of).sum::<usize>().max(1);
    let target_tasks = 4 * rayon::current_num_threads();
    let mut tasks = Vec::new();
    for (g, (_, _, subset)) in group.iter().enumerate() {
        let feats: Vec<usize> = match subset {
            Some(fs) => fs.clone(),
            None => (0..nf).collect(),
        };
        let feats = feats.into_iter().filter(|&f| b.num_splits(f) != 0);
        if !blocks {
            tasks.push(Task::Single { g, f: None });
            tasks.extend(feats.map(|f| Task::Single { g, f: Some(f) }));
            continue;
        }
        let (block, single): (Vec<usize>, Vec<usize>) =
            feats.partition(|&f| histogram::in_block(b, f));
        tasks.extend(single.into_iter().map(|f| Task::Single { g, f: Some(f) }));
        if block.is_empty() {
            tasks.push(Task::Single { g, f: None });
            continue;
        }
        let want = (target_tasks * rows_of(g)).div_ceil(group_rows);
        let pieces = want.clamp(1, block.len().div_ceil(MIN_BLOCK_FEATURES));
        let size = block.len().div_ceil(pieces);
        for (i, feats) in block.chunks(size).enumerate() {
            tasks.push(Task::Block {
                g,
                feats: feats.to_vec(),
                parent: i == 0,
            });
        }
    }
    // Per task: its node's slot, the parent vector if the task made it, its histograms.
    type Done = (usize, Option<Vec<f64>>, Vec<(usize, Vec<f64>)>);
    let done: Vec<Done> = tasks
        .into_par_iter()
        .map(|task| {
            let g = match task {
                Task::Block { g, .. } | Task::Single { g, .. } => g,
            };
            let rows = rows_at(g);
            let counts = trees[group[g].0].counts;
            match task {
                Task::Block { feats, parent, .. } => {
                    let (p, hs) =
                        histogram::fill_block(b, &feats, rows, targets, counts, ss, classification);
                    (g, parent.then_some(p), feats.into_iter().zip(hs).collect())
                }
                Task::Single { f, .. } => {
                    let h = histogram(b, f, rows, targets, counts, ss, classification);
                    match f {
                        None => (g, Some(h), Vec::new()),
                        Some(f) => (g, None, vec![(f, h)]),
                    }
                }
            }
        })
        .collect();
    let mut by_node: Vec<NodeHists> = group.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for (g, parent, hs) in done {
        if let Some(p) = parent {
            by_node[g].0 = p;
        }
        by_node[g].1.extend(hs);
    }
    by_node
}

/// The fewest features a histogram block is cut to (smaller blocks pay the per-row work
/// of a pass for too few histograms).
pub(crate) const MIN_BLOCK_FEATURES: usize = 4;

fn empty_stats(imp: Impurity, calc: Calc) -> Stats {
    Stats {
        gain: f64::NAN,
        impurity: imp.calculate(&calc.stats),
        calc,
        children: None,
        valid: true,
    }
}

fn invalid_stats(imp: Impurity, calc: Calc) -> Stats {
    Stats {
        gain: -f64::MAX,
        impurity: imp.calculate(&calc.stats),
        calc,
        children: None,
        valid: false,
    }
}

/// Spark's `SamplingUtils.reservoirSampleAndCount` over features `0..n`, array order kept.
pub(crate) fn reservoir_sample(n: usize, k: usize, seed: i64) -> Vec<usize> {
    let mut res: Vec<usize> = (0..k.min(n)).collect();
    if k >= n {
        return res;
    }
    let mut rng = XorShiftRandom::new(seed);
    for i in k..n {
        let l = (i + 1) as f64;
        let j = (rng.next_double() * l) as i64;
        if j < k as i64 {
            res[j as usize] = i;
        }
    }
    res
}

/// The histogram of one node over feature `f` (numBins × ss doubles, unordered features: one
/// bin per split holding the rows that go left), or the node's parent vector (`f = None`).
fn histogram(
    b: &Binned,
    f: Option<usize>,
    rows: &[u32],
    t: &Targets,
    counts: Option<&[u16]>,
    ss: usize,
    classification: bool,
) -> Vec<f64> {
    let nbins = match f {
        Some(f) => b.num_bins[f],
        None => 1,
    };
    let mut h = vec![0.0; nbins * ss];
    let unordered = match f {
        Some(f) => matches!(b.kinds[f], FeatureKind::Unordered { .. }),
        None => false,
    };
    match f {
        None => fill(&mut h, |_| 0, rows, t, counts, ss, classification),
        Some(f) if unordered => {
            for &r in rows {
                let cat = b.bin(f, r as usize);
                for s in 0..nbins {
                    if ((s + 1) >> cat) & 1 == 1 {
                        fill(&mut h, |_| s, &[r], t, counts, ss, classification);
                    }
                }
            }
        }
        Some(f) => match &b.bins {
            super::binning::BinColumns::U8(col) => {
                let col = &col[f * b.rows..(f + 1) * b.rows];
                fill(
                    &mut h,
                    |r| col[r] as usize,
                    rows,
                    t,
                    counts,
                    ss,
                    classification,
                );
            }
            super::binning::BinColumns::RowMajorU8(_) => {
                fill(&mut h, |r| b.bin(f, r), rows, t, counts, ss, classification);
            }
            super::binning::BinColumns::U16(col) => {
                let col = &col[f * b.rows..(f + 1) * b.rows];
                fill(
                    &mut h,
                    |r| col[r] as usize,
                    rows,
                    t,
                    counts,
                    ss,
                    classification,
                );
            }
        },
    }
    h
}

/// Adds every row of `rows` to the histogram bin `bin(row)`, in row order: classification
/// `stats[y] += k·w`, `raw += k`; variance `iw = k·w`, `Σw += iw`, `Σwy += iw·y`,
/// `Σwy² += (iw·y)·y`, `raw += k` (Spark's aggregator updates). The unit-weight,
/// single-count loops give the same bits (`1 · 1.0 = 1.0`, `1.0 · y = y`).
#[inline(always)]
fn fill(
    h: &mut [f64],
    bin: impl Fn(usize) -> usize,
    rows: &[u32],
    t: &Targets,
    counts: Option<&[u16]>,
    ss: usize,
    classification: bool,
) {
    let y = t.labels;
    if classification && t.weights.is_none() && rows.len() >= INT_COUNT_MIN_ROWS {
        return count_classes(h, bin, rows, y, counts, ss);
    }
    match (classification, counts, t.weights) {
        (true, None, None) => {
            for &r in rows {
                let r = r as usize;
                let o = bin(r) * ss;
                h[o + y[r] as usize] += 1.0;
                h[o + ss - 1] += 1.0;
            }
        }
        (true, Some(c), None) => {
            for &r in rows {
                let r = r as usize;
                let o = bin(r) * ss;
                let k = f64::from(c[r]);
                h[o + y[r] as usize] += k;
                h[o + ss - 1] += k;
            }
        }
        (false, None, None) => {
            for &r in rows {
                let r = r as usize;
                let o = bin(r) * 4;
                let v = y[r];
                let hb = &mut h[o..o + 4];
                hb[0] += 1.0;
                hb[1] += v;
                hb[2] += v * v;
                hb[3] += 1.0;
            }
        }
        _ => {
            for &r in rows {
                let r = r as usize;
                let o = bin(r) * ss;
                let kf = f64::from(counts.map_or(1u16, |c| c[r]));
                let w = t.weights.map_or(1.0, |w| w[r]);
                if classification {
                    h[o + y[r] as usize] += kf * w;
                    h[o + ss - 1] += kf;
                } else {
                    let iw = kf * w;
                    h[o] += iw;
                    h[o + 1] += iw * y[r];
                    h[o + 2] += iw * y[r] * y[r];
                    h[o + 3] += kf;
                }
            }
        }
    }
}

/// Rows from which [`count_classes`] pays for its integer buffers.
const INT_COUNT_MIN_ROWS: usize = 256;

/// Independent integer histograms [`count_classes`] spreads consecutive rows over, so
/// that rows falling into the same bin do not wait for each other's increment.
const COUNT_LANES: usize = 4;

/// Unweighted classification's histogram: per bin, the count of each class (times the
/// row's sampling count) and their total. Counted in integers, which are exact: the
/// doubles written are the same whatever the order of the additions, so they equal
/// Spark's row-by-row `stats[y] += k; raw += k`.
#[inline(always)]
fn count_classes(
    h: &mut [f64],
    bin: impl Fn(usize) -> usize,
    rows: &[u32],
    y: &[f64],
    counts: Option<&[u16]>,
    ss: usize,
) {
    let k = ss - 1;
    let width = h.len() / ss * k;
    let mut lanes = vec![0u64; COUNT_LANES * width];
    let mut groups = rows.chunks_exact(COUNT_LANES);
    match counts {
        None => {
            for g in &mut groups {
                for (l, &r) in g.iter().enumerate() {
                    let r = r as usize;
                    lanes[l * width + bin(r) * k + y[r] as usize] += 1;
                }
            }
        }
        Some(c) => {
            for g in &mut groups {
                for (l, &r) in g.iter().enumerate() {
                    let r = r as usize;
                    lanes[l * width + bin(r) * k + y[r] as usize] += u64::from(c[r]);
                }
            }
        }
    }
    for &r in groups.remainder() {
        let r = r as usize;
        lanes[bin(r) * k + y[r] as usize] += counts.map_or(1, |c| u64::from(c[r]));
    }
    for (b, hb) in h.chunks_exact_mut(ss).enumerate() {
        let mut total = 0u64;
        for (c, v) in hb[..k].iter_mut().enumerate() {
            let n: u64 = (0..COUNT_LANES).map(|l| lanes[l * width + b * k + c]).sum();
            *v += n as f64;
            total += n;
        }
        hb[k] += total as f64;
    }
}

/// Spark's `binsToBestSplit` for one node.
///
/// `tol` is 0 for statistics summed row by row (then the first of equal gains wins, in
/// Spark's candidate order). On subtracted statistics it is their rounding bound
/// ([`tie_tolerance`]): a candidate must beat the best so far by more than `tol` (gains
/// within `tol` are the exact ties Spark breaks by candidate order), and a gain within
/// `tol` of `minInfoGain` counts as equal to it.
#[allow(clippy::too_many_arguments)]
fn best_split(
    b: &Binned,
    s: &Strategy,
    order: &[usize],
    hists: &[(usize, Vec<f64>)],
    parent_hist: &[f64],
    recycled: Option<Stats>,
    ss: usize,
    min_weight: f64,
    tol: f64,
) -> (BinSplit, Stats) {
    let imp = s.impurity;
    // The fixed parent (calculator, impurity) once known.
    let mut parent: Option<(Calc, f64)> = recycled.map(|g| (g.calc, g.impurity));
    let mut best: Option<(BinSplit, Stats)> = None;
    let mut scratch: Vec<f64> = Vec::new();
    let consider = |split: BinSplit,
                    l: Calc,
                    r: Calc,
                    best: &mut Option<(BinSplit, Stats)>,
                    parent: &mut Option<(Calc, f64)>| {
        let (pc, pi) = parent.get_or_insert_with(|| {
            let p = l.add(&r);
            let i = imp.calculate(&p.stats);
            (p, i)
        });
        let stats = 'st: {
            if l.raw < s.min_instances_per_node as i64 || r.raw < s.min_instances_per_node as i64 {
                break 'st invalid_stats(imp, pc.clone());
            }
            let lcount = count(imp, &l.stats);
            let rcount = count(imp, &r.stats);
            if lcount < min_weight || rcount < min_weight {
                break 'st invalid_stats(imp, pc.clone());
            }
            let total = lcount + rcount;
            let li = imp.calculate(&l.stats);
            let ri = imp.calculate(&r.stats);
            let mut gain = *pi - lcount / total * li - rcount / total * ri;
            if tol > 0.0 && (gain - s.min_info_gain).abs() <= tol {
                gain = s.min_info_gain;
            }
            if gain < s.min_info_gain {
                break 'st invalid_stats(imp, pc.clone());
            }
            Stats {
                gain,
                impurity: *pi,
                calc: pc.clone(),
                children: Some((l, r)),
                valid: true,
            }
        };
        let better = match best {
            None => true,
            Some((_, bs)) if tol > 0.0 => stats.gain > bs.gain + tol,
            Some((_, bs)) => stats.gain.total_cmp(&bs.gain) == std::cmp::Ordering::Greater,
        };
        if better {
            *best = Some((split, stats));
        }
    };
    for &f in order {
        let nsplits = b.num_splits(f);
        if nsplits == 0 {
            continue;
        }
        let pos = hists
            .iter()
            .position(|(hf, _)| *hf == f)
            .expect("histogram per feature");
        // A copy: the cumulative sums below overwrite it, and the node's histograms may be
        // kept for its children's subtraction.
        scratch.clear();
        scratch.extend_from_slice(&hists[pos].1);
        let h = &mut scratch;
        match &b.kinds[f] {
            FeatureKind::Continuous(_) => {
                for j in 0..nsplits {
                    for k in 0..ss {
                        h[(j + 1) * ss + k] += h[j * ss + k];
                    }
                }
                let total = Calc::from_hist(&h[nsplits * ss..(nsplits + 1) * ss]);
                for j in 0..nsplits {
                    let l = Calc::from_hist(&h[j * ss..(j + 1) * ss]);
                    let r = total.sub(&l);
                    consider(
                        BinSplit::Continuous { feature: f, bin: j },
                        l,
                        r,
                        &mut best,
                        &mut parent,
                    );
                }
            }
            FeatureKind::Unordered { arity } => {
                let pv = Calc::from_hist(parent_hist);
                for j in 0..nsplits {
                    let l = Calc::from_hist(&h[j * ss..(j + 1) * ss]);
                    let r = pv.sub(&l);
                    let left = (0..*arity).map(|c| ((j + 1) >> c) & 1 == 1).collect();
                    consider(
                        BinSplit::Categorical { feature: f, left },
                        l,
                        r,
                        &mut best,
                        &mut parent,
                    );
                }
            }
            FeatureKind::Ordered { .. } => {
                let k = b.num_bins[f];
                let mut centroids: Vec<(usize, f64)> = (0..k)
                    .map(|c| {
                        let st = &h[c * ss..c * ss + ss - 1];
                        let centroid = if count(imp, st) != 0.0 {
                            if imp == Impurity::Variance {
                                imp.predict(st)
                            } else if s.num_classes > 2 {
                                imp.calculate(st)
                            } else {
                                st[1]
                            }
                        } else {
                            f64::MAX
                        };
                        (c, centroid)
                    })
                    .collect();
                centroids.sort_by(|a, b| a.1.total_cmp(&b.1));
                for i in 0..nsplits {
                    let (cur, next) = (centroids[i].0, centroids[i + 1].0);
                    for q in 0..ss {
                        h[next * ss + q] += h[cur * ss + q];
                    }
                }
                let last = centroids[k - 1].0;
                let total = Calc::from_hist(&h[last * ss..(last + 1) * ss]);
                for i in 0..nsplits {
                    let c = centroids[i].0;
                    let l = Calc::from_hist(&h[c * ss..(c + 1) * ss]);
                    let r = total.sub(&l);
                    let mut left = vec![false; k];
                    for &(cat, _) in &centroids[..=i] {
                        left[cat] = true;
                    }
                    consider(
                        BinSplit::Categorical { feature: f, left },
                        l,
                        r,
                        &mut best,
                        &mut parent,
                    );
                }
            }
        }
    }
    match best {
        Some(found) => found,
        None => {
            let dummy = order.first().copied().unwrap_or(0);
            let split = match b.kinds[dummy] {
                FeatureKind::Continuous(_) => BinSplit::Continuous {
                    feature: dummy,
                    bin: 0,
                },
                _ => BinSplit::Categorical {
                    feature: dummy,
                    left: Vec::new(),
                },
            };
            (split, invalid_stats(imp, Calc::from_hist(parent_hist)))
        }
    }
}

impl GrownTree {
    /// For a tree grown by sweeps with every row sampled: each row's leaf (arena index) and
    /// every node's prediction, which for a row's leaf is what
    /// [`GrownTree::predict_binned`] gives the row.
    pub(crate) fn row_leaves(&self, imp: Impurity) -> Option<(&[u32], Vec<f64>)> {
        let node_of = self.node_of.as_deref()?;
        if node_of.contains(&NO_NODE) {
            return None;
        }
        let preds = self
            .nodes
            .iter()
            .map(|n| {
                imp.predict(
                    &n.stats
                        .as_ref()
                        .expect("every grown node has stats")
                        .calc
                        .stats,
                )
            })
            .collect();
        Some((node_of, preds))
    }

    /// The prediction of the leaf each row reaches, routing binned rows.
    pub(crate) fn predict_binned(&self, b: &Binned, imp: Impurity, row: usize) -> f64 {
        let mut n = 0;
        while let (Some((l, r)), Some(split)) = (self.nodes[n].children, &self.nodes[n].split) {
            n = if split.goes_left(b, row) { l } else { r };
        }
        let st = self.nodes[n]
            .stats
            .as_ref()
            .expect("every grown node has stats");
        imp.predict(&st.calc.stats)
    }

    /// Converts to the final tree (pre-order node table), merging sibling leaves with equal
    /// predictions when `prune`.
    pub(crate) fn finish(&self, b: &Binned, imp: Impurity, prune: bool) -> TrainedTree {
        // Bottom-up conversion into a recursive form, then pre-order numbering.
        enum Conv {
            Leaf {
                prediction: f64,
                impurity: f64,
                calc: Calc,
            },
            Internal {
                node: usize,
                left: Box<Conv>,
                right: Box<Conv>,
            },
        }
        fn conv(t: &GrownTree, imp: Impurity, prune: bool, n: usize) -> Conv {
            let node = &t.nodes[n];
            let st = node.stats.as_ref().expect("every grown node has stats");
            match node.children {
                Some((l, r)) => {
                    let (lc, rc) = (conv(t, imp, prune, l), conv(t, imp, prune, r));
                    if let (Conv::Leaf { prediction: lp, .. }, Conv::Leaf { prediction: rp, .. }) =
                        (&lc, &rc)
                    {
                        if prune && lp == rp {
                            return Conv::Leaf {
                                prediction: *lp,
                                impurity: st.impurity,
                                calc: st.calc.clone(),
                            };
                        }
                    }
                    Conv::Internal {
                        node: n,
                        left: Box::new(lc),
                        right: Box::new(rc),
                    }
                }
                None => Conv::Leaf {
                    prediction: imp.predict(&st.calc.stats),
                    impurity: if st.valid { st.impurity } else { -1.0 },
                    calc: st.calc.clone(),
                },
            }
        }
        fn emit(
            t: &GrownTree,
            b: &Binned,
            imp: Impurity,
            c: &Conv,
            out: &mut Vec<TrainedNode>,
        ) -> usize {
            let id = out.len();
            match c {
                Conv::Leaf {
                    prediction,
                    impurity,
                    calc,
                } => out.push(TrainedNode {
                    prediction: *prediction,
                    impurity: *impurity,
                    impurity_stats: calc.stats.clone(),
                    raw_count: calc.raw,
                    gain: -1.0,
                    split: None,
                    left_child: -1,
                    right_child: -1,
                }),
                Conv::Internal { node, left, right } => {
                    let n = &t.nodes[*node];
                    let st = n.stats.as_ref().expect("every grown node has stats");
                    let split = match n.split.as_ref().expect("internal nodes have splits") {
                        BinSplit::Continuous { feature, bin } => match &b.kinds[*feature] {
                            FeatureKind::Continuous(th) => TrainedSplit::Continuous {
                                feature: *feature,
                                threshold: th[*bin],
                            },
                            _ => unreachable!("continuous split on a categorical feature"),
                        },
                        BinSplit::Categorical { feature, left } => TrainedSplit::Categorical {
                            feature: *feature,
                            left_categories: (0..left.len())
                                .filter(|&c| left[c])
                                .map(|c| c as f64)
                                .collect(),
                            num_categories: match b.kinds[*feature] {
                                FeatureKind::Unordered { arity }
                                | FeatureKind::Ordered { arity } => arity as i32,
                                FeatureKind::Continuous(_) => {
                                    unreachable!("categorical split on a continuous feature")
                                }
                            },
                        },
                    };
                    out.push(TrainedNode {
                        prediction: imp.predict(&st.calc.stats),
                        impurity: st.impurity,
                        impurity_stats: st.calc.stats.clone(),
                        raw_count: st.calc.raw,
                        gain: st.gain,
                        split: Some(split),
                        left_child: -1,
                        right_child: -1,
                    });
                    let l = emit(t, b, imp, left, out);
                    let r = emit(t, b, imp, right, out);
                    out[id].left_child = l as i32;
                    out[id].right_child = r as i32;
                }
            }
            id
        }
        let c = conv(self, imp, prune, 0);
        let mut nodes = Vec::new();
        emit(self, b, imp, &c, &mut nodes);
        TrainedTree { nodes }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn integer_class_counts_equal_row_by_row_doubles() {
        // count_classes (integer lanes) against the row-by-row double additions it
        // replaces (fill over one row at a time), bit for bit, with and without
        // sampling counts.
        let n = 5000usize;
        let mut x = 12345u64;
        let mut next = |m: u64| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) % m
        };
        let bins: Vec<usize> = (0..n).map(|_| next(32) as usize).collect();
        let labels: Vec<f64> = (0..n).map(|_| next(3) as f64).collect();
        let counts: Vec<u16> = (0..n).map(|_| next(4) as u16).collect();
        let rows: Vec<u32> = (0..n as u32).filter(|r| r % 7 != 3).collect();
        let t = Targets {
            labels: &labels,
            weights: None,
            classes: None,
        };
        for c in [None, Some(&counts[..])] {
            let mut fast = vec![0.0; 32 * 4];
            fill(&mut fast, |r| bins[r], &rows, &t, c, 4, true);
            let mut slow = vec![0.0; 32 * 4];
            for r in &rows {
                fill(&mut slow, |r| bins[r], &[*r], &t, c, 4, true);
            }
            let bits = |v: &[f64]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&slow));
            assert!(fast.iter().sum::<f64>() > 0.0);
        }
    }

    use super::*;

    #[test]
    fn byte_class_labels_only_for_whole_labels_in_range() {
        // The class-count kernel reads these bytes unchecked as lanes below num_classes:
        // anything else must fall back to the f64 path.
        let ok = ClassLabels::new(&[0.0, 2.0, 1.0, 2.0], 3).expect("valid labels");
        assert_eq!(ok.as_slice(), [0, 2, 1, 2]);
        assert_eq!((ok.len(), ok.num_classes()), (4, 3));
        for bad in [[0.0, 3.0], [0.0, 1.5], [-1.0, 0.0], [0.0, f64::NAN]] {
            assert!(ClassLabels::new(&bad, 3).is_none(), "{bad:?}");
        }
        assert!(ClassLabels::new(&[0.0, 1.0], 257).is_none());
        let all: Vec<f64> = (0..256).map(f64::from).collect();
        assert_eq!(
            ClassLabels::new(&all, 256).expect("256 classes").as_slice()[255],
            255
        );
    }

    #[test]
    fn near_ties_on_subtracted_statistics_go_to_the_first_candidate() {
        // Two features with one split each that cut the same six rows the same way (left
        // y = 1, 2, 3; right y = 10, 11, 12: hand sums below), feature 1's left Σwy off by
        // 1e-12, a subtraction's rounding (tie_tolerance here: 1e-12 · Σwy² / Σw =
        // 1e-12 · 379 / 6 ≈ 6.3e-11). Row by row (tol 0) the larger gain wins, as in
        // Spark; within the tolerance the first feature wins, as Spark breaks exact ties.
        let b = Binned {
            kinds: vec![
                FeatureKind::Continuous(vec![0.5]),
                FeatureKind::Continuous(vec![0.5]),
            ],
            num_bins: vec![2, 2],
            bins: BinColumns::U8(Vec::new()),
            rows: 0,
        };
        let s = Strategy::new(Impurity::Variance, 0);
        let exact = vec![3.0, 6.0, 14.0, 3.0, 3.0, 33.0, 365.0, 3.0];
        let mut off = exact.clone();
        off[1] += 1e-12;
        let hists = vec![(0, exact), (1, off)];
        let parent = [6.0, 39.0, 379.0, 6.0];
        let feature = |tol: f64| {
            let (split, stats) = best_split(&b, &s, &[0, 1], &hists, &parent, None, 4, 0.0, tol);
            assert!(stats.valid && stats.gain > 20.0, "{stats:?}");
            match split {
                BinSplit::Continuous { feature, .. } => feature,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(feature(0.0), 1, "row by row, the larger gain wins");
        let tol = TIE_RELATIVE * 379.0 / 6.0;
        assert_eq!(
            feature(tol),
            0,
            "within the rounding, Spark's candidate order"
        );
        // A gain within the tolerance of minInfoGain counts as equal to it (kept: Spark
        // refuses only gains below it).
        let mut s = s;
        let (_, stats) = best_split(&b, &s, &[0], &hists, &parent, None, 4, 0.0, 0.0);
        s.min_info_gain = stats.gain + tol / 2.0;
        let (_, near) = best_split(&b, &s, &[0], &hists, &parent, None, 4, 0.0, tol);
        assert!(near.valid && near.gain == s.min_info_gain);
        let (_, strict) = best_split(&b, &s, &[0], &hists, &parent, None, 4, 0.0, 0.0);
        assert!(!strict.valid);
    }

    #[test]
    fn subtracted_bins_keep_counts_exact_and_empty_bins_zero() {
        // Parent bins (Σw, Σwy, Σwy², count) minus a child's: a bin the child takes whole
        // is exactly zero, not the residue of two rounded sums.
        let parent: NodeHists = (
            vec![5.0, 0.1 + 0.2 + 0.3, 0.14, 5.0],
            vec![(
                2,
                vec![2.0, 0.1 + 0.2, 0.05, 2.0, 3.0, 0.3 + 0.0, 0.09, 3.0],
            )],
        );
        let child: NodeHists = (
            vec![3.0, 0.3, 0.09, 3.0],
            vec![(2, vec![0.0, 0.0, 0.0, 0.0, 3.0, 0.3, 0.09, 3.0])],
        );
        let (p, hs) = subtract_hists(&parent, &child, 4);
        assert_eq!(p[0], 2.0);
        assert_eq!(p[3], 2.0);
        assert_eq!(hs[0].0, 2);
        assert_eq!(hs[0].1[..4], [2.0, 0.1 + 0.2, 0.05, 2.0]);
        assert_eq!(hs[0].1[4..], [0.0; 4]);
    }

    #[test]
    fn reservoir_matches_the_jvm() {
        // Reference Appendix A: features 0..9, k = 4, seed = java.util.Random(42).nextLong()
        // gives [0, 5, 6, 3] on the JVM.
        let seed = JavaRandom::new(42).next_long();
        assert_eq!(seed, -5025562857975149833);
        assert_eq!(reservoir_sample(10, 4, seed), [0, 5, 6, 3]);
    }
}
