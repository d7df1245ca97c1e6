//! One fitted decision tree: [`Split`], the recursive [`Node`] a training engine builds,
//! and the flat pre-order [`DecisionTree`] every model scores with and saves.

use crate::error::{Error, Result};
use crate::frame::kernels::multiversion;

/// How an internal node routes a row: Spark's `ContinuousSplit` or `CategoricalSplit`.
///
/// # Examples
/// ```
/// use mlpipe::tree::Split;
/// let s = Split::continuous(0, 2.5);
/// assert!(s.goes_left(&[2.5]) && !s.goes_left(&[2.6]) && !s.goes_left(&[f64::NAN]));
/// // 1 of 4 categories on the left: an unseen value goes right.
/// let c = Split::categorical(0, vec![1.0], 4);
/// assert!(c.goes_left(&[1.0]) && !c.goes_left(&[9.0]));
/// // 3 of 4 on the left: Spark keeps the right set, so an unseen value goes left.
/// let c = Split::categorical(0, vec![0.0, 1.0, 3.0], 4);
/// assert!(c.goes_left(&[9.0]) && !c.goes_left(&[2.0]));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum Split {
    /// Go left iff `x[feature] <= threshold` (NaN goes right).
    Continuous {
        /// Feature index.
        feature: usize,
        /// Threshold.
        threshold: f64,
    },
    /// Go left iff `x[feature]` is one of `left_categories` — with Spark's rule for values
    /// outside `0..num_categories` (see [`Split::goes_left`]).
    Categorical {
        /// Feature index.
        feature: usize,
        /// Categories sent left, sorted ascending, as doubles (Spark's stored form).
        left_categories: Vec<f64>,
        /// Arity of the feature.
        num_categories: usize,
    },
}

impl Split {
    /// A continuous split `x[feature] <= threshold`.
    pub fn continuous(feature: usize, threshold: f64) -> Split {
        Split::Continuous { feature, threshold }
    }

    /// A categorical split; `left_categories` are sorted here.
    pub fn categorical(
        feature: usize,
        mut left_categories: Vec<f64>,
        num_categories: usize,
    ) -> Split {
        left_categories.sort_by(f64::total_cmp);
        Split::Categorical {
            feature,
            left_categories,
            num_categories,
        }
    }

    /// The feature the split reads.
    pub fn feature(&self) -> usize {
        match self {
            Split::Continuous { feature, .. } | Split::Categorical { feature, .. } => *feature,
        }
    }

    /// Whether a row goes to the left child, exactly as Spark routes it.
    ///
    /// A categorical split with at most half of the categories on the left (integer
    /// division) tests membership in the left set, so an unseen or invalid value (out of
    /// range, negative, non-integral, NaN) goes right; otherwise Spark stores the right set
    /// and tests non-membership there, so such a value goes left. Membership is exact
    /// double equality.
    #[inline]
    pub fn goes_left(&self, features: &[f64]) -> bool {
        match self {
            Split::Continuous { feature, threshold } => features[*feature] <= *threshold,
            Split::Categorical {
                feature,
                left_categories,
                num_categories,
            } => categorical_goes_left(features[*feature], left_categories, *num_categories),
        }
    }
}

/// Spark's `CategoricalSplit.shouldGoLeft` on the stored left set.
#[inline]
pub(crate) fn categorical_goes_left(x: f64, left: &[f64], num_categories: usize) -> bool {
    let in_left = left.contains(&x);
    if left.len() <= num_categories / 2 {
        in_left
    } else {
        // Spark keeps the right set {0..K-1} \ left and goes left iff x is not in it.
        let in_right = !in_left && x >= 0.0 && x < num_categories as f64 && x.fract() == 0.0;
        !in_right
    }
}

/// A node as a training engine builds it: Spark's `LeafNode` / `InternalNode`.
///
/// The engine builds the final (pruned) tree bottom-up as nested `Node`s and hands the root
/// to [`DecisionTree::from_root`]; see the [`tree`](crate::tree) module docs.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Prediction: the class index (classification) or the mean label (regression).
    pub prediction: f64,
    /// Node impurity; Spark stores -1.0 for leaves that were never evaluated for a split.
    pub impurity: f64,
    /// Impurity calculator stats: weighted class totals (classification), or
    /// `[Σw, Σwy, Σwy²]` (variance).
    pub impurity_stats: Vec<f64>,
    /// Raw (unweighted, bootstrap-multiplied) row count; -1 when unknown (Spark < 3.0 files).
    pub raw_count: i64,
    /// Leaf or internal.
    pub kind: NodeKind,
}

/// What sits below a [`Node`].
#[derive(Clone, Debug, PartialEq)]
pub enum NodeKind {
    /// A leaf.
    Leaf,
    /// An internal node.
    Internal {
        /// The split.
        split: Split,
        /// The split's information gain.
        gain: f64,
        /// Rows with `split.goes_left`.
        left: Box<Node>,
        /// The other rows.
        right: Box<Node>,
    },
}

impl Node {
    /// A leaf.
    pub fn leaf(prediction: f64, impurity: f64, impurity_stats: Vec<f64>, raw_count: i64) -> Node {
        Node {
            prediction,
            impurity,
            impurity_stats,
            raw_count,
            kind: NodeKind::Leaf,
        }
    }

    /// An internal node with its two children.
    #[allow(clippy::too_many_arguments)]
    pub fn internal(
        prediction: f64,
        impurity: f64,
        impurity_stats: Vec<f64>,
        raw_count: i64,
        split: Split,
        gain: f64,
        left: Node,
        right: Node,
    ) -> Node {
        Node {
            prediction,
            impurity,
            impurity_stats,
            raw_count,
            kind: NodeKind::Internal {
                split,
                gain,
                left: Box::new(left),
                right: Box::new(right),
            },
        }
    }
}

/// One node of a [`DecisionTree`], in the shape of a row of Spark's saved node table.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeData {
    /// Prediction of the node (class index or mean label).
    pub prediction: f64,
    /// Impurity (-1.0 for leaves Spark never evaluated).
    pub impurity: f64,
    /// Impurity calculator stats.
    pub impurity_stats: Vec<f64>,
    /// Raw row count (-1 when unknown).
    pub raw_count: i64,
    /// Split gain; -1.0 for a leaf.
    pub gain: f64,
    /// Pre-order id of the left child; -1 for a leaf.
    pub left_child: i32,
    /// Pre-order id of the right child; -1 for a leaf.
    pub right_child: i32,
    /// The split; `None` for a leaf.
    pub split: Option<Split>,
}

impl NodeData {
    /// Whether the node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.split.is_none()
    }
}

/// Kind of a [`Route`] entry.
const LEAF: u8 = 0;
const CONTINUOUS: u8 = 1;
const CATEGORICAL: u8 = 2;

/// A compact routing entry: what batch prediction walks.
#[derive(Clone, Copy, Debug)]
struct Route {
    /// Continuous: the threshold. Categorical: unused.
    threshold: f64,
    /// Feature index (0 for a leaf).
    feature: u32,
    /// Left child index; for a leaf, the node itself.
    left: u32,
    /// Right child index; for a leaf, the node itself.
    right: u32,
    /// Index into the categorical sets (categorical nodes only).
    set: u32,
    /// Leaf / continuous / categorical.
    kind: u8,
}

/// Depth up to which a tree of continuous splits gets a [`Complete`] layout (4095 split
/// slots, 32 KiB of leaves at most).
const COMPLETE_MAX_DEPTH: usize = 12;

/// Rows walked in lockstep by [`DecisionTree::leaf_nodes`]: independent walks the CPU
/// overlaps.
const LOCKSTEP: usize = 8;

/// Rows of a [`BinBlock`]: what [`BinnedTrees`] scores at once (one byte per row in a
/// 64-byte vector).
pub(crate) const BIN_BLOCK_ROWS: usize = 64;

/// Depth up to which [`BinnedTrees`] scores a complete tree from its bins (`2^d` bottom
/// positions in a byte; the work per row grows as `2^d`, the row walk's as `d`).
const BINNED_MAX_DEPTH: usize = 6;

/// Distinct thresholds per feature up to which [`BinnedTrees`] bins the feature (a bin
/// index `0..=254` in a byte).
const MAX_FEATURE_THRESHOLDS: usize = 254;

/// Up to [`BIN_BLOCK_ROWS`] rows turned into bin indices, feature by feature: for each
/// feature the trees split on, the number of its split thresholds each row goes right of.
#[derive(Debug)]
pub(crate) struct BinBlock {
    bins: Vec<[u8; BIN_BLOCK_ROWS]>,
    values: [f64; BIN_BLOCK_ROWS],
    rows: usize,
}

/// A split slot of a binned tree: go right iff the row's bin of column `column` is above
/// `rank` (the threshold's position among the feature's sorted thresholds).
#[derive(Clone, Copy, Debug)]
struct BinSlot {
    column: u32,
    rank: u8,
}

/// One tree scored from bins: its [`Complete`] layout with thresholds as ranks.
#[derive(Clone, Debug)]
struct BinnedTree {
    depth: usize,
    /// `2^d − 1` split slots in breadth-first order.
    slots: Vec<BinSlot>,
    /// The pre-order node id of the leaf at each of the `2^d` bottom positions.
    leaves: Vec<u32>,
}

/// The shallow trees of continuous splits of an ensemble, scored from bins.
///
/// Every split compares one feature with one threshold, and a forest reuses few
/// thresholds per feature (at most `maxBins − 1` when fitted). So a row is first turned
/// into bin indices, once for all trees: for each feature the trees split on, the number
/// `b` of its distinct thresholds `t` with `!(x <= t)`. With the thresholds sorted, the
/// row goes right at the `j`-th one iff `b > j` — Spark's `x <= t` goes left, NaN goes
/// right (it is right of every threshold), exactly. Each tree then walks its
/// [`Complete`] layout on bytes, 64 rows at a time: every slot of a level compares one
/// 64-byte column of bins with one rank, which wide vectors do in one instruction.
///
/// Trees deeper than [`BINNED_MAX_DEPTH`], with categorical splits or NaN thresholds,
/// and features with more than [`MAX_FEATURE_THRESHOLDS`] thresholds are not binned:
/// those trees are walked row by row ([`DecisionTree::leaf_nodes`]); both give the same
/// leaves.
#[derive(Clone, Debug, Default)]
pub(crate) struct BinnedTrees {
    /// The features binned: feature index and its sorted distinct thresholds.
    columns: Vec<(usize, Vec<f64>)>,
    /// Per tree of the ensemble: its binned layout, or `None` (walked row by row).
    trees: Vec<Option<BinnedTree>>,
}

impl BinnedTrees {
    /// The binned layouts of `trees` (those that qualify).
    pub(crate) fn new(trees: &[DecisionTree]) -> BinnedTrees {
        let eligible = |t: &DecisionTree| {
            t.complete
                .as_ref()
                .is_some_and(|c| c.depth <= BINNED_MAX_DEPTH)
                && t.routes.iter().all(|r| !r.threshold.is_nan())
        };
        let mut per_feature: Vec<Vec<f64>> = Vec::new();
        for t in trees.iter().filter(|t| eligible(t)) {
            for r in t.routes.iter().filter(|r| r.kind == CONTINUOUS) {
                let f = r.feature as usize;
                if per_feature.len() <= f {
                    per_feature.resize_with(f + 1, Vec::new);
                }
                per_feature[f].push(r.threshold);
            }
        }
        let mut column_of = vec![None; per_feature.len()];
        let mut columns = Vec::new();
        for (f, mut ts) in per_feature.into_iter().enumerate() {
            ts.sort_by(f64::total_cmp);
            // -0.0 and 0.0 split alike: one threshold.
            ts.dedup_by(|a, b| a == b);
            if !ts.is_empty() && ts.len() <= MAX_FEATURE_THRESHOLDS {
                column_of[f] = Some(columns.len() as u32);
                columns.push((f, ts));
            }
        }
        let binned = trees
            .iter()
            .map(|t| {
                if !eligible(t) {
                    return None;
                }
                let c = t.complete.as_ref()?;
                let inner = c.slots.len();
                if inner > 0 && columns.is_empty() {
                    return None;
                }
                // As `Complete::new`: (slot, node, level); a leaf above the bottom is
                // carried down both sides, and its slots below (padding, which route
                // every row to that leaf whichever way they go) keep rank 0 of column 0.
                let mut slots = vec![BinSlot { column: 0, rank: 0 }; inner];
                let mut stack = vec![(0usize, 0u32, 0usize)];
                while let Some((slot, node, level)) = stack.pop() {
                    if level == c.depth {
                        continue;
                    }
                    let r = &t.routes[node as usize];
                    let (left, right) = if r.kind == LEAF {
                        (node, node)
                    } else {
                        let column = column_of.get(r.feature as usize).copied().flatten()?;
                        let ts = &columns[column as usize].1;
                        let rank = ts.partition_point(|v| *v < r.threshold) as u8;
                        slots[slot] = BinSlot { column, rank };
                        (r.left, r.right)
                    };
                    stack.push((2 * slot + 1, left, level + 1));
                    stack.push((2 * slot + 2, right, level + 1));
                }
                Some(BinnedTree {
                    depth: c.depth,
                    slots,
                    leaves: c.leaves.clone(),
                })
            })
            .collect();
        BinnedTrees {
            columns,
            trees: binned,
        }
    }

    /// Whether any tree is scored from bins.
    pub(crate) fn any(&self) -> bool {
        self.trees.iter().any(Option::is_some)
    }

    /// An empty block for [`bin`](Self::bin).
    pub(crate) fn block(&self) -> BinBlock {
        BinBlock {
            bins: vec![[0; BIN_BLOCK_ROWS]; self.columns.len()],
            values: [0.0; BIN_BLOCK_ROWS],
            rows: 0,
        }
    }

    /// Bins `rows` (at most [`BIN_BLOCK_ROWS`], each with every feature) into `block`.
    pub(crate) fn bin(&self, rows: &[&[f64]], block: &mut BinBlock) {
        debug_assert!(rows.len() <= BIN_BLOCK_ROWS);
        block.rows = rows.len();
        if rows.len() < BIN_BLOCK_ROWS {
            block.values.fill(0.0);
        }
        for ((f, ts), out) in self.columns.iter().zip(&mut block.bins) {
            for (v, x) in block.values.iter_mut().zip(rows) {
                *v = x[*f];
            }
            bin_column(&block.values, ts, out);
        }
    }

    /// The bottom position (`0..2^d`) of each row of `block` in tree `t`'s layout, and
    /// the leaf node ids per bottom position; `None` when tree `t` is not binned.
    pub(crate) fn positions<'a>(
        &'a self,
        t: usize,
        block: &BinBlock,
        pos: &mut [u8; BIN_BLOCK_ROWS],
    ) -> Option<&'a [u32]> {
        let b = self.trees.get(t)?.as_ref()?;
        bin_positions(&b.slots, b.depth, &block.bins, pos);
        Some(&b.leaves)
    }

    /// The leaf node ids per bottom position of tree `t`; `None` when it is not binned.
    pub(crate) fn bottom_leaves(&self, t: usize) -> Option<&[u32]> {
        self.trees.get(t)?.as_ref().map(|b| &b.leaves[..])
    }
}

multiversion! {
    /// The bin of each of 64 values: how many of the sorted `thresholds` it is right of
    /// (`!(x <= t)`, so NaN is right of all).
    fn bin_column(values: &[f64; 64], thresholds: &[f64], out: &mut [u8; 64]) {
        let mut counts = [0u64; 64];
        for t in thresholds {
            for (c, x) in counts.iter_mut().zip(values) {
                *c += goes_right(*x, *t) as u64;
            }
        }
        for (o, c) in out.iter_mut().zip(counts) {
            *o = c as u8;
        }
    }
}

multiversion! {
    /// The bottom position (`0..2^depth`) of each of 64 rows in a binned complete tree:
    /// level by level, every slot of the level sends right the rows it holds whose bin is
    /// above its rank. Each step is one comparison over a 64-byte column.
    fn bin_positions(slots: &[BinSlot], depth: usize, bins: &[[u8; 64]], pos: &mut [u8; 64]) {
        *pos = [0; 64];
        for level in 0..depth {
            let first = (1usize << level) - 1;
            let mut right = [0u8; 64];
            for (j, s) in slots[first..2 * first + 1].iter().enumerate() {
                let (col, rank, j) = (&bins[s.column as usize], s.rank, j as u8);
                for ((r, p), b) in right.iter_mut().zip(pos.iter()).zip(col) {
                    *r |= u8::from(*p == j) & u8::from(*b > rank);
                }
            }
            for (p, r) in pos.iter_mut().zip(right) {
                *p = 2 * *p + r;
            }
        }
    }
}

/// 1 when a continuous split sends `x` right, else 0: Spark goes left iff
/// `x <= threshold`, so NaN goes right (hence the negated comparison).
#[inline(always)]
#[allow(clippy::neg_cmp_op_on_partial_ord)]
fn goes_right(x: f64, threshold: f64) -> usize {
    usize::from(!(x <= threshold))
}

/// A split slot of a [`Complete`] tree: go right iff `!(x[feature] <= threshold)` (so NaN
/// goes right, as in Spark).
#[derive(Clone, Copy, Debug)]
struct Slot {
    threshold: f64,
    feature: u32,
}

/// A tree of continuous splits laid out as a complete binary tree of its depth `d`: slot
/// `i`'s children are `2i + 1` and `2i + 2`, so a walk is `d` steps of one load, one
/// compare and one add, with no child pointers and no branch. A leaf above the bottom
/// owns every bottom position under it (its slots below are padding; whichever way they
/// send a row, it ends at that leaf).
#[derive(Clone, Debug)]
struct Complete {
    depth: usize,
    /// `2^d − 1` split slots in breadth-first order.
    slots: Vec<Slot>,
    /// The pre-order node id of the leaf at each of the `2^d` bottom positions.
    leaves: Vec<u32>,
}

impl Complete {
    fn new(routes: &[Route], depth: usize) -> Complete {
        let inner = (1usize << depth) - 1;
        let mut c = Complete {
            depth,
            slots: vec![
                Slot {
                    threshold: 0.0,
                    feature: 0,
                };
                inner
            ],
            leaves: vec![0; inner + 1],
        };
        // (slot, node, level); a leaf above the bottom is carried down both sides.
        let mut stack = vec![(0usize, 0u32, 0usize)];
        while let Some((slot, node, level)) = stack.pop() {
            if level == depth {
                c.leaves[slot - inner] = node;
                continue;
            }
            let r = &routes[node as usize];
            let (left, right) = if r.kind == LEAF {
                (node, node)
            } else {
                c.slots[slot] = Slot {
                    threshold: r.threshold,
                    feature: r.feature,
                };
                (r.left, r.right)
            };
            stack.push((2 * slot + 1, left, level + 1));
            stack.push((2 * slot + 2, right, level + 1));
        }
        c
    }

    /// Bottom position of one row.
    #[inline(always)]
    fn walk(&self, x: &[f64]) -> usize {
        let mut i = 0usize;
        for _ in 0..self.depth {
            let s = &self.slots[i];
            i = 2 * i + 1 + goes_right(x[s.feature as usize], s.threshold);
        }
        i - self.slots.len()
    }
}

/// A fitted decision tree in flat pre-order (Spark's node ids): node 0 is the root, then
/// its whole left subtree, then its right subtree.
///
/// Scoring walks a compact routing table built once from the nodes; a tree of continuous
/// splits is walked without branches (leaves point to themselves, so every row takes
/// `depth` steps).
///
/// # Examples
/// ```
/// use mlpipe::tree::{DecisionTree, Node, Split};
/// let root = Node::internal(
///     1.0, 0.5, vec![5.0, 5.0], 10, Split::continuous(0, 0.5), 0.5,
///     Node::leaf(0.0, 0.0, vec![5.0, 0.0], 5),
///     Node::leaf(1.0, 0.0, vec![0.0, 5.0], 5),
/// );
/// let tree = DecisionTree::from_root(root, 1, 2).unwrap();
/// assert_eq!((tree.num_nodes(), tree.depth()), (3, 1));
/// assert_eq!(tree.leaf_for(&[0.2]).impurity_stats, vec![5.0, 0.0]);
/// assert_eq!(tree.leaf_index(&[0.9]), 1);
/// ```
#[derive(Clone, Debug)]
pub struct DecisionTree {
    nodes: Vec<NodeData>,
    routes: Vec<Route>,
    /// Sorted left categories and arity of each categorical node (indexed by `Route::set`).
    categories: Vec<(Vec<f64>, usize)>,
    /// Leaf ordinal (left-to-right) of each node; `u32::MAX` for internal nodes.
    leaf_ordinal: Vec<u32>,
    /// The same tree as a complete binary tree, for block scoring (continuous splits and
    /// depth up to [`COMPLETE_MAX_DEPTH`] only).
    complete: Option<Complete>,
    /// Each node's prediction, compact for scoring.
    predictions: Vec<f64>,
    num_leaves: usize,
    depth: usize,
    has_categorical: bool,
    num_features: usize,
    num_classes: usize,
}

impl PartialEq for DecisionTree {
    fn eq(&self, other: &Self) -> bool {
        self.nodes == other.nodes
            && self.num_features == other.num_features
            && self.num_classes == other.num_classes
    }
}

impl DecisionTree {
    /// Flattens a built tree into pre-order. `num_features` is the feature vector size the
    /// tree scores; `num_classes` is 0 for a regression tree.
    ///
    /// # Errors
    /// [`Error::Internal`] when a split reads a feature `>= num_features` or a
    /// classification node's stats have a length other than `num_classes`.
    pub fn from_root(root: Node, num_features: usize, num_classes: usize) -> Result<DecisionTree> {
        let mut nodes = Vec::new();
        // Iterative pre-order: a node's row is pushed, then its left subtree, then right.
        fn push(node: Node, nodes: &mut Vec<NodeData>) -> usize {
            let id = nodes.len();
            let Node {
                prediction,
                impurity,
                impurity_stats,
                raw_count,
                kind,
            } = node;
            nodes.push(NodeData {
                prediction,
                impurity,
                impurity_stats,
                raw_count,
                gain: -1.0,
                left_child: -1,
                right_child: -1,
                split: None,
            });
            if let NodeKind::Internal {
                split,
                gain,
                left,
                right,
            } = kind
            {
                let l = push(*left, nodes);
                let r = push(*right, nodes);
                let n = &mut nodes[id];
                n.gain = gain;
                n.split = Some(split);
                n.left_child = l as i32;
                n.right_child = r as i32;
            }
            id
        }
        push(root, &mut nodes);
        DecisionTree::from_nodes(nodes, num_features, num_classes)
    }

    /// Builds a tree from its pre-order node table (what Spark saves: `nodes[i]` has id
    /// `i`, children have larger ids than their parent, every node but the root has
    /// exactly one parent).
    ///
    /// # Errors
    /// [`Error::Internal`] naming the node when the table is not such a tree, a split
    /// reads a feature `>= num_features`, or classification stats have the wrong length.
    pub fn from_nodes(
        nodes: Vec<NodeData>,
        num_features: usize,
        num_classes: usize,
    ) -> Result<DecisionTree> {
        let n = nodes.len();
        let bad = |i: usize, what: String| {
            Error::Internal(format!("decision tree node {i} of {n}: {what}"))
        };
        if n == 0 {
            return Err(Error::Internal("decision tree has no nodes".into()));
        }
        if n >= u32::MAX as usize {
            return Err(Error::Internal(format!("decision tree has {n} nodes")));
        }
        let mut parents = vec![0u32; n];
        let mut routes = Vec::with_capacity(n);
        let mut categories = Vec::new();
        let mut has_categorical = false;
        for (i, node) in nodes.iter().enumerate() {
            if num_classes > 0 && node.impurity_stats.len() != num_classes {
                return Err(bad(
                    i,
                    format!(
                        "{} impurity stats for {num_classes} classes",
                        node.impurity_stats.len()
                    ),
                ));
            }
            match &node.split {
                None => {
                    if node.left_child != -1 || node.right_child != -1 {
                        return Err(bad(i, "a leaf with children".into()));
                    }
                    routes.push(Route {
                        threshold: 0.0,
                        feature: 0,
                        left: i as u32,
                        right: i as u32,
                        set: 0,
                        kind: LEAF,
                    });
                }
                Some(split) => {
                    let (l, r) = (node.left_child, node.right_child);
                    for c in [l, r] {
                        if c <= i as i32 || c as usize >= n {
                            return Err(bad(i, format!("child id {c} is not a later node")));
                        }
                        parents[c as usize] += 1;
                    }
                    let f = split.feature();
                    if f >= num_features {
                        return Err(bad(
                            i,
                            format!("splits on feature {f} but the model has {num_features}"),
                        ));
                    }
                    let set = categories.len() as u32;
                    let (kind, threshold) = match split {
                        Split::Continuous { threshold, .. } => (CONTINUOUS, *threshold),
                        Split::Categorical {
                            left_categories,
                            num_categories,
                            ..
                        } => {
                            has_categorical = true;
                            categories.push((left_categories.clone(), *num_categories));
                            (CATEGORICAL, 0.0)
                        }
                    };
                    routes.push(Route {
                        threshold,
                        feature: f as u32,
                        left: l as u32,
                        right: r as u32,
                        set,
                        kind,
                    });
                }
            }
        }
        if let Some(i) = (1..n).find(|&i| parents[i] != 1) {
            return Err(bad(i, format!("has {} parents, expected 1", parents[i])));
        }
        // Depth and leaf ordinals: children come after parents, so one forward pass gives
        // depths; leaves in pre-order are leaves from left to right.
        let mut node_depth = vec![0usize; n];
        let mut leaf_ordinal = vec![u32::MAX; n];
        let mut num_leaves = 0usize;
        for (i, node) in nodes.iter().enumerate() {
            if node.split.is_some() {
                let d = node_depth[i] + 1;
                node_depth[node.left_child as usize] = d;
                node_depth[node.right_child as usize] = d;
            } else {
                leaf_ordinal[i] = num_leaves as u32;
                num_leaves += 1;
            }
        }
        let depth = node_depth.iter().copied().max().unwrap_or(0);
        let complete = (!has_categorical && depth <= COMPLETE_MAX_DEPTH)
            .then(|| Complete::new(&routes, depth));
        let predictions = nodes.iter().map(|n| n.prediction).collect();
        Ok(DecisionTree {
            nodes,
            routes,
            categories,
            leaf_ordinal,
            complete,
            predictions,
            num_leaves,
            depth,
            has_categorical,
            num_features,
            num_classes,
        })
    }

    /// The nodes in pre-order (index = Spark's node id).
    pub fn nodes(&self) -> &[NodeData] {
        &self.nodes
    }

    /// The root node.
    pub fn root(&self) -> &NodeData {
        &self.nodes[0]
    }

    /// Number of nodes (Spark's `numNodes`).
    pub fn num_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// Number of leaves.
    pub fn num_leaves(&self) -> usize {
        self.num_leaves
    }

    /// Depth: 0 for a lone leaf (Spark's `depth`).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// Size of the feature vectors the tree scores.
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// Number of classes; 0 for a regression tree.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Index of the leaf a row reaches. `features` must hold at least `num_features`
    /// values (callers check the vector size once per column).
    #[inline]
    pub fn leaf_node(&self, features: &[f64]) -> usize {
        let routes = &self.routes;
        let mut i = 0usize;
        if !self.has_categorical {
            // Branch-free walk: leaves loop to themselves.
            for _ in 0..self.depth {
                let r = &routes[i];
                i = if features[r.feature as usize] <= r.threshold {
                    r.left as usize
                } else {
                    r.right as usize
                };
            }
            return i;
        }
        loop {
            let r = &routes[i];
            let left = match r.kind {
                LEAF => return i,
                CONTINUOUS => features[r.feature as usize] <= r.threshold,
                _ => {
                    let (cats, k) = &self.categories[r.set as usize];
                    categorical_goes_left(features[r.feature as usize], cats, *k)
                }
            };
            i = if left { r.left } else { r.right } as usize;
        }
    }

    /// The leaf node id ([`leaf_node`](Self::leaf_node)) of every row of a block, into
    /// `out` (one per row). Each row holds at least `num_features` values. Walks several
    /// rows in lockstep over a complete-tree layout when the tree has only continuous
    /// splits and a bounded depth.
    pub fn leaf_nodes(&self, rows: &[&[f64]], out: &mut [u32]) {
        let Some(c) = &self.complete else {
            for (x, o) in rows.iter().zip(out.iter_mut()) {
                *o = self.leaf_node(x) as u32;
            }
            return;
        };
        let mut groups = rows.chunks_exact(LOCKSTEP);
        let mut outs = out.chunks_exact_mut(LOCKSTEP);
        for (g, o) in (&mut groups).zip(&mut outs) {
            let mut idx = [0usize; LOCKSTEP];
            for _ in 0..c.depth {
                for (i, x) in idx.iter_mut().zip(g) {
                    let s = &c.slots[*i];
                    *i = 2 * *i + 1 + goes_right(x[s.feature as usize], s.threshold);
                }
            }
            for (o, i) in o.iter_mut().zip(idx) {
                *o = c.leaves[i - c.slots.len()];
            }
        }
        for (x, o) in groups.remainder().iter().zip(outs.into_remainder()) {
            *o = c.leaves[c.walk(x)];
        }
    }

    /// The leaf a row reaches.
    #[inline]
    pub fn leaf_for(&self, features: &[f64]) -> &NodeData {
        &self.nodes[self.leaf_node(features)]
    }

    /// The prediction of the leaf a row reaches.
    #[inline]
    pub fn predict(&self, features: &[f64]) -> f64 {
        self.nodes[self.leaf_node(features)].prediction
    }

    /// Left-to-right position of the leaf a row reaches (Spark's `leafCol` value).
    #[inline]
    pub fn leaf_index(&self, features: &[f64]) -> usize {
        self.leaf_ordinal[self.leaf_node(features)] as usize
    }

    /// Each node's prediction, by node id (what [`leaf_nodes`](Self::leaf_nodes) returns),
    /// in one compact slice.
    pub fn node_predictions(&self) -> &[f64] {
        &self.predictions
    }

    /// Left-to-right position of leaf node `node` (Spark's `leafCol` value); `node` is a
    /// leaf id from [`leaf_node`](Self::leaf_node) or [`leaf_nodes`](Self::leaf_nodes).
    #[inline]
    pub fn leaf_ordinal(&self, node: usize) -> usize {
        self.leaf_ordinal[node] as usize
    }

    /// Unnormalised feature importances of this tree: for every internal node,
    /// `gain × weighted count` added to its feature (Spark's per-tree step). The weighted
    /// count is the stats' class total for classification and `Σw` for variance.
    pub fn raw_importances(&self) -> Vec<(usize, f64)> {
        let mut imp: Vec<(usize, f64)> = Vec::new();
        for node in &self.nodes {
            if let Some(split) = &node.split {
                let count = if self.num_classes > 0 {
                    node.impurity_stats.iter().sum::<f64>()
                } else {
                    node.impurity_stats.first().copied().unwrap_or(0.0)
                };
                let f = split.feature();
                let v = node.gain * count;
                match imp.iter_mut().find(|(g, _)| *g == f) {
                    Some((_, s)) => *s += v,
                    None => imp.push((f, v)),
                }
            }
        }
        imp.sort_by_key(|(f, _)| *f);
        imp
    }
}

/// Spark's `TreeEnsembleModel.featureImportances` over `trees`: per-tree normalised for
/// DT/RF (`per_tree_normalization`), raw sums for GBT; then divided by the grand total.
/// Returns `(index, value)` pairs of the features used in some split, ascending.
pub fn feature_importances(
    trees: &[DecisionTree],
    per_tree_normalization: bool,
) -> Vec<(usize, f64)> {
    let mut total: Vec<(usize, f64)> = Vec::new();
    let mut add = |f: usize, v: f64| match total.binary_search_by_key(&f, |(g, _)| *g) {
        Ok(p) => total[p].1 += v,
        Err(p) => total.insert(p, (f, v)),
    };
    for tree in trees {
        let imp = tree.raw_importances();
        if per_tree_normalization {
            let sum: f64 = imp.iter().map(|(_, v)| v).sum();
            if sum != 0.0 {
                for (f, v) in imp {
                    add(f, v / sum);
                }
            }
        } else {
            for (f, v) in imp {
                add(f, v);
            }
        }
    }
    let sum: f64 = total.iter().map(|(_, v)| v).sum();
    if sum != 0.0 {
        for (_, v) in total.iter_mut() {
            *v /= sum;
        }
    }
    total
}

/// Trees with weights: the core of Spark's `TreeEnsembleModel` (random forests have all
/// weights 1.0; GBTs have `[1.0, stepSize, stepSize, …]`).
#[derive(Clone, Debug, PartialEq)]
pub struct TreeEnsemble {
    /// The trees, in order.
    pub trees: Vec<DecisionTree>,
    /// One weight per tree.
    pub tree_weights: Vec<f64>,
    /// Size of the feature vectors scored.
    pub num_features: usize,
    /// Number of classes; 0 for regression.
    pub num_classes: usize,
}

impl TreeEnsemble {
    /// An ensemble; checks one weight per tree and that every tree agrees on
    /// `num_features`.
    ///
    /// # Errors
    /// [`Error::Internal`] on a mismatch.
    pub fn new(
        trees: Vec<DecisionTree>,
        tree_weights: Vec<f64>,
        num_features: usize,
        num_classes: usize,
    ) -> Result<TreeEnsemble> {
        if trees.len() != tree_weights.len() {
            return Err(Error::Internal(format!(
                "tree ensemble has {} trees but {} weights",
                trees.len(),
                tree_weights.len()
            )));
        }
        if let Some(t) = trees.iter().position(|t| t.num_features() != num_features) {
            return Err(Error::Internal(format!(
                "tree {t} scores {} features, the ensemble {num_features}",
                trees[t].num_features()
            )));
        }
        Ok(TreeEnsemble {
            trees,
            tree_weights,
            num_features,
            num_classes,
        })
    }

    /// Total number of nodes over all trees (Spark's `totalNumNodes`).
    pub fn total_num_nodes(&self) -> usize {
        self.trees.iter().map(DecisionTree::num_nodes).sum()
    }

    /// Σ weight × tree prediction, summed in tree order (GBT's margin).
    #[inline]
    pub fn weighted_sum(&self, features: &[f64]) -> f64 {
        let mut m = 0.0;
        for (t, w) in self.trees.iter().zip(&self.tree_weights) {
            m += t.predict(features) * w;
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stump() -> Node {
        Node::internal(
            1.0,
            0.48,
            vec![4.0, 6.0],
            10,
            Split::continuous(1, 0.5),
            0.2,
            Node::leaf(0.0, 0.0, vec![4.0, 0.0], 4),
            Node::internal(
                1.0,
                0.3,
                vec![0.0, 6.0],
                6,
                Split::categorical(0, vec![2.0], 3),
                0.1,
                Node::leaf(1.0, -1.0, vec![0.0, 2.0], 2),
                Node::leaf(1.0, -1.0, vec![0.0, 4.0], 4),
            ),
        )
    }

    #[test]
    fn preorder_ids_depth_and_leaves() {
        let t = DecisionTree::from_root(stump(), 2, 2).unwrap();
        let n = t.nodes();
        assert_eq!(n.len(), 5);
        assert_eq!((n[0].left_child, n[0].right_child), (1, 2));
        assert_eq!((n[2].left_child, n[2].right_child), (3, 4));
        assert!(n[1].is_leaf() && n[1].gain == -1.0);
        assert_eq!(t.depth(), 2);
        assert_eq!(t.num_leaves(), 3);
        assert_eq!(t.leaf_index(&[0.0, 0.1]), 0);
        assert_eq!(t.leaf_index(&[2.0, 0.9]), 1);
        assert_eq!(t.leaf_index(&[1.0, 0.9]), 2);
        // Unseen category 7 with 1 of 3 left goes right.
        assert_eq!(t.leaf_index(&[7.0, 0.9]), 2);
    }

    /// An unbalanced tree of continuous splits: leaves at every depth up to `depth`,
    /// thresholds on a grid so that rows hit them exactly too.
    fn lopsided(depth: usize, seed: &mut u64) -> Node {
        let mut next = || {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (*seed >> 33) as usize
        };
        fn grow(depth: usize, next: &mut dyn FnMut() -> usize) -> Node {
            if depth == 0 || next() % 4 == 0 {
                let p = (next() % 100) as f64;
                return Node::leaf(p, 0.0, vec![1.0, p, p * p], 1);
            }
            let split = Split::continuous(next() % 3, (next() % 9) as f64 / 4.0 - 1.0);
            let (l, r) = (grow(depth - 1, next), grow(depth - 1, next));
            Node::internal(0.0, 0.0, vec![2.0, 0.0, 0.0], 2, split, 0.0, l, r)
        }
        grow(depth, &mut next)
    }

    /// `len` rows of 3 features on and off [`lopsided`]'s threshold grid, with NaN and ±inf.
    fn grid_rows(len: usize) -> Vec<[f64; 3]> {
        let grid = [
            -1.0,
            -0.75,
            -0.3,
            0.0,
            0.25,
            0.5,
            1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        (0..len)
            .map(|i| [grid[i % 10], grid[(i / 10) % 10], grid[(i * 7 + 3) % 10]])
            .collect()
    }

    #[test]
    fn block_walk_matches_row_walk() {
        // Rows on and off the threshold grid, NaN (goes right) and ±inf; block lengths
        // that are and are not multiples of the lockstep width; a tree deeper than the
        // complete layout allows; a tree with a categorical split; a lone leaf.
        let rows = grid_rows(997);
        let mut seed = 7;
        let mut trees: Vec<DecisionTree> = [0, 1, 3, 5, 8, COMPLETE_MAX_DEPTH + 2]
            .iter()
            .map(|&d| DecisionTree::from_root(lopsided(d, &mut seed), 3, 0).unwrap())
            .collect();
        trees.push(DecisionTree::from_root(stump(), 3, 2).unwrap());
        assert!(trees[3].complete.is_some() && trees[6].complete.is_none());
        assert!(trees
            .iter()
            .any(|t| t.depth() > COMPLETE_MAX_DEPTH && t.complete.is_none()));
        for t in &trees {
            for len in [0, 1, 7, 8, 9, 64, 997] {
                let xs: Vec<&[f64]> = rows[..len].iter().map(|r| &r[..]).collect();
                let mut out = vec![u32::MAX; len];
                t.leaf_nodes(&xs, &mut out);
                for (x, o) in xs.iter().zip(&out) {
                    assert_eq!(*o as usize, t.leaf_node(x), "depth {} row {x:?}", t.depth());
                }
            }
        }
    }

    #[test]
    fn binned_kernel_matches_row_walk() {
        // A forest of complete and lopsided trees of depth 0 to 7 (7 is walked row by
        // row), one splitting at -0.0 (the same split as 0.0), one with a categorical
        // split and one with a NaN threshold (both walked row by row); rows on the
        // threshold grid, NaN (goes right) and ±inf, full and partial blocks. Every build
        // of the kernels this CPU runs gives the row walk's leaves.
        let rows = grid_rows(150);
        let mut seed = 5;
        let mut trees: Vec<DecisionTree> = (0..=BINNED_MAX_DEPTH + 1)
            .chain([3, 5, 6])
            .map(|d| DecisionTree::from_root(lopsided(d, &mut seed), 3, 0).unwrap())
            .collect();
        let at = |f, t| {
            Node::internal(
                0.0,
                0.0,
                vec![2.0, 0.0, 0.0],
                2,
                Split::continuous(f, t),
                0.0,
                Node::leaf(1.0, 0.0, vec![1.0, 1.0, 1.0], 1),
                Node::leaf(2.0, 0.0, vec![1.0, 2.0, 4.0], 1),
            )
        };
        trees.push(DecisionTree::from_root(at(2, -0.0), 3, 0).unwrap());
        trees.push(DecisionTree::from_root(at(1, f64::NAN), 3, 0).unwrap());
        let cat = Node::internal(
            0.0,
            0.0,
            vec![2.0, 0.0, 0.0],
            2,
            Split::categorical(0, vec![1.0], 3),
            0.0,
            Node::leaf(1.0, 0.0, vec![1.0, 1.0, 1.0], 1),
            at(0, 0.25),
        );
        trees.push(DecisionTree::from_root(cat, 3, 0).unwrap());
        let binned = BinnedTrees::new(&trees);
        for (t, tree) in trees.iter().enumerate() {
            let want = tree.depth() <= BINNED_MAX_DEPTH && !tree.has_categorical;
            let want = want && t + 2 != trees.len(); // the NaN threshold
            assert_eq!(binned.trees[t].is_some(), want, "tree {t}");
        }
        // -0.0 and 0.0 are one threshold of feature 2.
        let f2 = &binned.columns.iter().find(|(f, _)| *f == 2).unwrap().1;
        assert_eq!(f2.iter().filter(|t| **t == 0.0).count(), 1, "{f2:?}");
        let mut block = binned.block();
        for build in crate::frame::kernels::available_builds() {
            crate::frame::kernels::force_build(build);
            for chunk in rows.chunks(BIN_BLOCK_ROWS) {
                let xs: Vec<&[f64]> = chunk.iter().map(|r| &r[..]).collect();
                binned.bin(&xs, &mut block);
                for (t, tree) in trees.iter().enumerate() {
                    let mut pos = [u8::MAX; BIN_BLOCK_ROWS];
                    let Some(leaves) = binned.positions(t, &block, &mut pos) else {
                        continue;
                    };
                    for (x, p) in xs.iter().zip(pos) {
                        assert_eq!(
                            leaves[p as usize] as usize,
                            tree.leaf_node(x),
                            "{build:?} tree {t} row {x:?}"
                        );
                    }
                }
            }
        }
        crate::frame::kernels::force_build(crate::frame::kernels::Build::Avx512);
    }

    #[test]
    fn rejects_bad_tables() {
        let mut nodes = DecisionTree::from_root(stump(), 2, 2)
            .unwrap()
            .nodes()
            .to_vec();
        nodes[0].left_child = 2;
        let err = DecisionTree::from_nodes(nodes, 2, 2).unwrap_err();
        assert!(err.to_string().contains("parents"), "{err}");
        let err = DecisionTree::from_root(stump(), 1, 2).unwrap_err();
        assert!(err.to_string().contains("feature 1"), "{err}");
    }

    #[test]
    fn categorical_rule_matches_spark() {
        // 7 of 10 left (Spark keeps the right set): 11.0 goes left (observed in Spark 4.3).
        let left: Vec<f64> = vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert!(categorical_goes_left(11.0, &left, 10));
        assert!(categorical_goes_left(1.5, &left, 10));
        assert!(!categorical_goes_left(8.0, &left, 10));
        assert!(categorical_goes_left(f64::NAN, &left, 10));
        // 2 of 10 left: unseen goes right.
        assert!(!categorical_goes_left(11.0, &[0.0, 1.0], 10));
        assert!(!categorical_goes_left(f64::NAN, &[0.0, 1.0], 10));
    }

    #[test]
    fn importances_normalise_per_tree() {
        // Tree: root gain 0.2 × 10 on f1, node gain 0.1 × 6 on f0 → f0 0.6/2.6, f1 2.0/2.6.
        let t = DecisionTree::from_root(stump(), 2, 2).unwrap();
        let imp = feature_importances(&[t.clone(), t], true);
        assert_eq!(imp.len(), 2);
        assert!((imp[0].1 - 0.6 / 2.6).abs() < 1e-15);
        assert!((imp[1].1 - 2.0 / 2.6).abs() < 1e-15);
    }
}
