//! Histogram kernels: one pass over a node's rows fills the histograms of a block of
//! features (and the node's parent vector) at once.
//!
//! Every bin of every histogram receives its rows' statistics in the rows' order, the same
//! additions Spark's aggregator makes row by row, so the sums are bit for bit the ones a
//! per-feature loop gives: visiting several features per row only interleaves independent
//! sums (which also keeps the adds into one bin apart, instead of waiting on each other).
//! - Variance (regression and every GBT tree): each row's `(w, w·y, w·y·y, count)` is
//!   added to its bin as one 4-lane vector add (each lane is the scalar double add).
//! - Unweighted classification: class counts in integers, which are exact, so the doubles
//!   written equal Spark's row-by-row `stats[y] += count; raw += count`.
//!
//! Weighted classification, unordered categorical features and bins wider than a byte take
//! the per-feature path in `growth.rs`.

use super::binning::{BinColumns, Binned, FeatureKind};
use super::growth::{NodeHists, Targets};
use crate::frame::kernels::multiversion;

/// Whether [`fill_block`] handles the histograms of this engine run.
pub(crate) fn block_kernel_applies(b: &Binned, t: &Targets, classification: bool) -> bool {
    matches!(b.bins, BinColumns::U8(_))
        && (!classification || (t.weights.is_none() && t.classes.is_some()))
}

/// Whether feature `f` can be in a block (its bins are its histogram's bins).
pub(crate) fn in_block(b: &Binned, f: usize) -> bool {
    !matches!(b.kinds[f], FeatureKind::Unordered { .. })
}

/// The histograms of `feats` (each `numBins × ss` doubles) and the node's parent vector
/// (`ss` doubles) over `rows`, in one pass.
///
/// Needs [`block_kernel_applies`] and [`in_block`] for every feature of `feats`.
pub(crate) fn fill_block(
    b: &Binned,
    feats: &[usize],
    rows: &[u32],
    t: &Targets,
    counts: Option<&[u16]>,
    ss: usize,
    classification: bool,
) -> (Vec<f64>, Vec<Vec<f64>>) {
    let BinColumns::U8(all) = &b.bins else {
        unreachable!("fill_block needs byte bins (block_kernel_applies)")
    };
    let cols: Vec<&[u8]> = feats
        .iter()
        .map(|&f| &all[f * b.rows..(f + 1) * b.rows])
        .collect();
    // Each feature's bins start at base[i] of one flat histogram; the parent is last.
    let mut base = Vec::with_capacity(feats.len());
    let mut total = 0;
    for &f in feats {
        base.push(total);
        total += b.num_bins[f];
    }
    check_block(b, feats, &base, rows, counts);
    if classification {
        let k = ss - 1;
        let classes = t.classes.expect("byte class labels (block_kernel_applies)");
        assert!(classes.num_classes() <= k && classes.len() == b.rows);
        let mut h = vec![0u64; (total + 1) * k];
        class_pass(&cols, &base, &mut h, k, rows, classes.as_slice(), counts);
        let to_stats = |lanes: &[u64]| -> Vec<f64> {
            let mut out = vec![0.0; lanes.len() / k * ss];
            for (o, l) in out.chunks_exact_mut(ss).zip(lanes.chunks_exact(k)) {
                let mut raw = 0u64;
                for (v, &n) in o.iter_mut().zip(l) {
                    *v = n as f64;
                    raw += n;
                }
                o[k] = raw as f64;
            }
            out
        };
        let hists = feats
            .iter()
            .zip(&base)
            .map(|(&f, &o)| to_stats(&h[o * k..(o + b.num_bins[f]) * k]))
            .collect();
        (to_stats(&h[total * k..]), hists)
    } else {
        assert!(t.labels.len() == b.rows && t.weights.is_none_or(|w| w.len() == b.rows));
        let mut h = vec![[0.0f64; 4]; total + 1];
        variance_pass(&cols, &base, &mut h, rows, t.labels, t.weights, counts);
        let flat = |bins: &[[f64; 4]]| -> Vec<f64> { bins.iter().flatten().copied().collect() };
        let hists = feats
            .iter()
            .zip(&base)
            .map(|(&f, &o)| flat(&h[o..o + b.num_bins[f]]))
            .collect();
        (flat(&h[total..]), hists)
    }
}

/// The checks the unchecked reads of [`class_pass`], [`variance_pass`] and [`sweep_pass`]
/// rely on, besides [`Binned`]'s own invariant that every bin of feature `f` is below
/// `num_bins[f]` (binning.rs builds it so): each feature's bins fit in the block's
/// histogram below the parent vector, every column, count and target array has one entry
/// per binned row, and the rows (ascending: growth.rs keeps them so) are binned rows.
fn check_block(b: &Binned, feats: &[usize], base: &[usize], rows: &[u32], counts: Option<&[u16]>) {
    let total: usize = feats.iter().map(|&f| b.num_bins[f]).sum();
    assert!(feats
        .iter()
        .zip(base)
        .all(|(&f, &o)| o + b.num_bins[f] <= total && b.num_bins[f] <= 256));
    assert!(counts.is_none_or(|c| c.len() == b.rows));
    debug_assert!(rows.windows(2).all(|w| w[0] < w[1]));
    assert!(rows.last().is_none_or(|&r| (r as usize) < b.rows));
}

/// Adds `u` to the bin of row `r` of every column and to the parent (the last entry).
///
/// # Safety
/// [`check_block`]'s conditions, and `r` below every column's length.
#[inline(always)]
unsafe fn add_row(cols: &[&[u8]], base: &[usize], h: &mut [[f64; 4]], r: usize, u: [f64; 4]) {
    let last = h.len() - 1;
    let h = h.as_mut_ptr();
    for (c, &o) in cols.iter().zip(base) {
        debug_assert!(r < c.len() && o + usize::from(c[r]) < last);
        // SAFETY: the caller's conditions: the row is in the column and its bin in the
        // feature's part of `h`.
        let hb = unsafe { &mut *h.add(o + usize::from(*c.get_unchecked(r))) };
        for l in 0..4 {
            hb[l] += u[l];
        }
    }
    // SAFETY: `last < h.len()`.
    let hb = unsafe { &mut *h.add(last) };
    for l in 0..4 {
        hb[l] += u[l];
    }
}

multiversion! {
    /// Variance statistics: row `r` adds `(iw, iw·y, iw·y·y, k)` with `k` its sampling
    /// count and `iw = k·w` (Spark's `VarianceAggregator.update`); the unit case adds
    /// `(1, y, y·y, 1)`, the same bits.
    ///
    /// Needs [`check_block`]'s conditions and `y`, `w` of one entry per binned row.
    fn variance_pass(
        cols: &[&[u8]],
        base: &[usize],
        h: &mut [[f64; 4]],
        rows: &[u32],
        y: &[f64],
        w: Option<&[f64]>,
        counts: Option<&[u16]>,
    ) {
        let n = y.len();
        assert!(cols.iter().all(|c| c.len() == n));
        if w.is_none() && counts.is_none() {
            for &r in rows {
                let r = r as usize;
                debug_assert!(r < n);
                // SAFETY: rows are binned rows (check_block), and every array has one
                // entry per binned row (asserted above and by the caller).
                let v = unsafe { *y.get_unchecked(r) };
                unsafe { add_row(cols, base, h, r, [1.0, v, v * v, 1.0]) };
            }
        } else {
            for &r in rows {
                let r = r as usize;
                let kf = counts.map_or(1.0, |c| f64::from(c[r]));
                let iw = kf * w.map_or(1.0, |w| w[r]);
                // SAFETY: as above.
                unsafe { add_row(cols, base, h, r, [iw, iw * y[r], iw * y[r] * y[r], kf]) };
            }
        }
    }
}

multiversion! {
    /// Class counts: row `r` adds its sampling count to its class's lane of its bin
    /// (`k` lanes per bin; the parent's lanes last).
    ///
    /// Needs [`check_block`]'s conditions and every class below `k`.
    fn class_pass(
        cols: &[&[u8]],
        base: &[usize],
        h: &mut [u64],
        k: usize,
        rows: &[u32],
        y: &[u8],
        counts: Option<&[u16]>,
    ) {
        let n = y.len();
        assert!(cols.iter().all(|c| c.len() == n) && h.len() >= k);
        let parent = h.len() - k;
        // Each column with its first lane: bin `b` of row `r` is lane `start + b·k + y[r]`.
        let cols: Vec<(*const u8, usize)> = cols
            .iter()
            .zip(base)
            .map(|(c, &o)| (c.as_ptr(), o * k))
            .collect();
        let h = h.as_mut_ptr();
        // Blocks of up to eight features with their columns in registers (a const width);
        // wider ones through the slice.
        macro_rules! widths {
            ($($w:literal)*) => {
                match cols.len() {
                    $($w => {
                        let cols: [(*const u8, usize); $w] =
                            cols[..].try_into().expect("the block's width");
                        // SAFETY: `h` is the block's histogram, checked above.
                        unsafe { class_rows(&cols, h, k, parent, rows, y, counts) }
                    })*
                    // SAFETY: as above.
                    _ => unsafe { class_rows(&cols, h, k, parent, rows, y, counts) },
                }
            };
        }
        widths!(1 2 3 4 5 6 7 8)
    }
}

/// [`class_pass`]'s rows: row `r` adds its count to lane `start + bin·k + y[r]` of each
/// column's `(col, start)` and to lane `parent + y[r]`.
///
/// # Safety
/// `h` holds the block's lanes, with [`check_block`]'s conditions (every row binned,
/// every bin inside its feature's part of `h`, the parent's `k` lanes ending `h`) and
/// every class below `k`, as `class_pass` asserts.
#[inline(always)]
unsafe fn class_rows<C: AsRef<[(*const u8, usize)]>>(
    cols: &C,
    h: *mut u64,
    k: usize,
    parent: usize,
    rows: &[u32],
    y: &[u8],
    counts: Option<&[u16]>,
) {
    let n = y.len();
    let cols = cols.as_ref();
    macro_rules! add {
        ($r:expr, $w:expr) => {{
            let (r, w): (usize, u64) = ($r, $w);
            debug_assert!(r < n);
            // SAFETY: the row is a binned row (check_block) and its class is below `k`
            // (ClassLabels), so every lane below is inside `h` (check_block: each feature's
            // bins fit below the parent, whose `k` lanes end `h`).
            unsafe {
                let c = usize::from(*y.get_unchecked(r));
                debug_assert!(c < k);
                for &(col, start) in cols {
                    *h.add(start + usize::from(*col.add(r)) * k + c) += w;
                }
                *h.add(parent + c) += w;
            }
        }};
    }
    match counts {
        None => {
            for &r in rows {
                add!(r as usize, 1);
            }
        }
        Some(cn) => {
            assert!(cn.len() == n);
            for &r in rows {
                // SAFETY: rows are binned rows, `cn` has one count per binned row.
                add!(
                    r as usize,
                    u64::from(unsafe { *cn.get_unchecked(r as usize) })
                );
            }
        }
    }
}

/// The histograms of a group of nodes of one tree on every feature, by sweeps over all
/// rows in row order: row `r` belongs to node `node_of[r]`, which is in the group when
/// `slot_of[node_of[r]]` is its slot (rows of other nodes and unsampled rows, `u32::MAX`,
/// are passed over). Per slot: the parent vector and each feature with splits' histogram.
/// Features are cut into blocks, one task each, every (node, feature) histogram summed by
/// one task in row order.
///
/// With `rows` (a [`RowList`] of exactly the rows whose node has a slot, made by
/// [`RowList::fill`]), the sweep visits only those rows, in the same order: the same sums,
/// without passing over the rows of other nodes.
pub(crate) fn sweep_variance(
    b: &Binned,
    node_of: &[u32],
    slot_of: &[u32],
    slots: usize,
    t: &Targets,
    counts: Option<&[u16]>,
    rows: Option<&RowList>,
) -> Vec<NodeHists> {
    use rayon::prelude::*;
    let BinColumns::RowMajorU8(all) = &b.bins else {
        unreachable!("sweeps need row-major byte bins (growth::sweeps)")
    };
    let nf = b.kinds.len();
    let blocks = sweep_blocks(b, rayon::current_num_threads());
    let done: Vec<(usize, Vec<[f64; 4]>)> = blocks
        .par_iter()
        .enumerate()
        .map(|(i, block)| {
            // Each bin `c` of the block's `j`-th feature at `c·k + j` of a slot's
            // histograms, `wide` bins a feature, the parent last.
            let wide = block.clone().map(|f| b.num_bins[f]).max().unwrap_or(0);
            // Binned's invariant (bins of f below num_bins[f]) then keeps every row's
            // bins in its slot's histograms, as sweep_pass needs.
            assert!(wide <= 256);
            let stride = wide * block.len() + 1;
            let mut h = vec![[0.0f64; 4]; slots * stride];
            let sweep = Sweep {
                bins: all,
                nf,
                first: block.start,
                wide,
                node_of,
                slot_of,
                y: t.labels,
                w: t.weights,
                counts,
                list: rows.map(|l| (l.idx.as_slice(), l.lens.as_slice())),
                // Only the first block's parent vectors are read.
                parent: i == 0,
            };
            sweep_pass(sweep, block.len(), &mut h);
            (stride, h)
        })
        .collect();
    let mut out: Vec<NodeHists> = (0..slots).map(|_| (Vec::new(), Vec::new())).collect();
    for (i, ((stride, h), block)) in done.iter().zip(&blocks).enumerate() {
        let k = block.len();
        for (g, o) in out.iter_mut().enumerate() {
            let node = &h[g * stride..(g + 1) * stride];
            if i == 0 {
                o.0 = node[stride - 1].to_vec();
            }
            for (j, f) in block.clone().enumerate() {
                if b.num_splits(f) != 0 {
                    let hist = (0..b.num_bins[f]).flat_map(|c| node[c * k + j]).collect();
                    o.1.push((f, hist));
                }
            }
        }
    }
    out
}

/// The feature blocks of a level sweep over `b` with `threads` threads (see the
/// comments).
fn sweep_blocks(b: &Binned, threads: usize) -> Vec<std::ops::Range<usize>> {
    let nf = b.kinds.len();
    // Blocks are runs of adjacent features (a row's bins of a block are adjacent bytes),
    // one per thread when they fit in MAX_BLOCK_FEATURES: every block pays the per-row
    // work (node, slot, target) once per row, so fewer, wider blocks do less of it. A
    // feature without splits is swept with its block and left out of the result.
    let pieces = threads
        .clamp(1, nf.div_ceil(super::growth::MIN_BLOCK_FEATURES).max(1))
        .max(nf.div_ceil(MAX_BLOCK_FEATURES));
    let size = nf.div_ceil(pieces).max(1);
    // A block's histograms are bin-major with its widest feature's bins for every feature:
    // a run is cut further where that layout would exceed both twice its features' own
    // bins and BLOCK_SLACK_BINS (a feature of many bins beside ones of few), so that the
    // group's memory stays within twice what `maxMemoryInMB` accounted for.
    let mut blocks: Vec<std::ops::Range<usize>> = Vec::new();
    for s in (0..nf.max(1)).step_by(size) {
        let end = (s + size).min(nf);
        let (mut start, mut wide, mut sum) = (s, 0, 0);
        for f in s..end {
            let (w2, s2) = (wide.max(b.num_bins[f]), sum + b.num_bins[f]);
            let len = f + 1 - start;
            if f > start && w2 * len > (2 * s2).max(BLOCK_SLACK_BINS) {
                blocks.push(start..f);
                (start, wide, sum) = (f, b.num_bins[f], b.num_bins[f]);
            } else {
                (wide, sum) = (w2, s2);
            }
        }
        blocks.push(start..end);
    }
    blocks
}

/// Most features in one sweep block: [`sweep_pass`] is compiled for each block width up
/// to this, so that a row's bins are read at fixed offsets and every bin's place is one
/// multiply-add.
pub(crate) const MAX_BLOCK_FEATURES: usize = 16;

/// Bins of a sweep block's bin-major layout (16 KB of statistics per slot) that it may
/// spend beyond twice its features' own bins (see [`sweep_blocks`]): with the default
/// 32 bins, 16 features never reach it.
const BLOCK_SLACK_BINS: usize = 512;

multiversion! {
    /// One sweep: every row of a group node adds `(iw, iw·y, iw·y·y, k)` (as
    /// [`variance_pass`]) to its node's bin of each of the `k` features `first..first + k`
    /// and, when `parent`, to its node's parent vector. `bins` is row-major, `nf` bins a
    /// row. A slot's histograms hold bin `c` of feature `first + j` at `c·k + j`, `wide`
    /// bins a feature, and the parent vector last.
    ///
    /// Needs every feature's bins below `wide`, which [`sweep_variance`] checks with
    /// [`Binned`]'s invariant, and `k ≤` [`MAX_BLOCK_FEATURES`] (0 sums the parents only).
    fn sweep_pass(s: Sweep<'_>, k: usize, h: &mut [[f64; 4]]) {
        macro_rules! widths {
            ($($k:literal)*) => {
                match k {
                    $($k => sweep_block::<$k>(s, h),)*
                    _ => panic!("a sweep block of {k} features (at most {MAX_BLOCK_FEATURES})"),
                }
            };
        }
        widths!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16)
    }
}

/// What one block's sweep reads ([`sweep_pass`]): `bins` row-major, `nf` bins a row, the
/// block's features from `first` on, each with its bins below `wide`; the rows' nodes,
/// the nodes' slots, the targets, weights and sampling counts; an optional row list
/// (`RowList`'s rows and chunk lengths); whether to sum the parent vectors.
#[derive(Clone, Copy)]
struct Sweep<'a> {
    bins: &'a [u8],
    nf: usize,
    first: usize,
    wide: usize,
    node_of: &'a [u32],
    slot_of: &'a [u32],
    y: &'a [f64],
    w: Option<&'a [f64]>,
    counts: Option<&'a [u16]>,
    list: Option<(&'a [u32], &'a [u32])>,
    parent: bool,
}

/// [`sweep_pass`] for blocks of `K` features.
#[inline(always)]
fn sweep_block<const K: usize>(s: Sweep<'_>, h: &mut [[f64; 4]]) {
    let Sweep {
        bins,
        nf,
        first,
        wide,
        node_of,
        slot_of,
        y,
        w,
        counts,
        list,
        parent,
    } = s;
    let n = node_of.len();
    let stride = wide * K + 1;
    assert!(
        bins.len() == n * nf
            && first + K <= nf
            && y.len() == n
            && w.is_none_or(|w| w.len() == n)
            && counts.is_none_or(|c| c.len() == n)
    );
    // A row list: each chunk's first `lens[c]` entries, rows of that chunk's range.
    if let Some((idx, lens)) = list {
        assert!(idx.len() == n && lens.len() == n.div_ceil(LIST_CHUNK));
        assert!(lens
            .iter()
            .enumerate()
            .all(|(c, &l)| l as usize <= LIST_CHUNK.min(n - c * LIST_CHUNK)));
    }
    assert!(slot_of
        .iter()
        .all(|&g| g == u32::MAX || (g as usize + 1) * stride <= h.len()));
    let bins = bins.as_ptr();
    let h = h.as_mut_ptr();
    // Row `r`'s statistics into its node's histograms. (A function, not a closure: a
    // closure is compiled on its own, without the caller's target features.)
    //
    // # Safety
    // `h` holds every slot of `slot_of` (`stride` entries each), `r` is a row of `bins`
    // (`nf` bins a row, `first + K ≤ nf`) and each of its block's bins is below
    // `(stride - 1) / K`, as sweep_block asserts and Binned's invariant keeps.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn add<const K: usize>(
        slot_of: &[u32],
        h: *mut [f64; 4],
        stride: usize,
        bins: *const u8,
        nf: usize,
        first: usize,
        parent: bool,
        (r, a, u): (usize, u32, [f64; 4]),
    ) {
        let Some(&g) = slot_of.get(a as usize) else {
            return;
        };
        if g == u32::MAX {
            return;
        }
        // SAFETY: the function's conditions: the slot's histograms are inside `h`, the
        // row's bins inside `bins`, and `c·K + j` below `stride - 1`, the parent's place.
        unsafe {
            add_block::<K>(
                h.add(g as usize * stride),
                bins.add(r * nf + first),
                parent.then_some(stride - 1),
                u,
            )
        }
    }
    macro_rules! add {
        ($row:expr) => {
            // SAFETY: sweep_block's asserts (the slots inside `h`, `bins` of `n` rows of
            // `nf`, `first + K ≤ nf`), each row below `n`, and sweep_variance's `wide`
            // (every bin of the block below it, Binned's invariant).
            unsafe { add::<K>(slot_of, h, stride, bins, nf, first, parent, $row) }
        };
    }
    if let Some((idx, lens)) = list {
        let unit = w.is_none() && counts.is_none();
        for (c, &len) in lens.iter().enumerate() {
            for &r in &idx[c * LIST_CHUNK..c * LIST_CHUNK + len as usize] {
                let r = r as usize;
                assert!(r < n);
                // SAFETY: r < n, the length of node_of and y (asserted above).
                let (a, v) = unsafe { (*node_of.get_unchecked(r), *y.get_unchecked(r)) };
                if unit {
                    add!((r, a, [1.0, v, v * v, 1.0]));
                } else {
                    let kf = counts.map_or(1.0, |c| f64::from(c[r]));
                    let iw = kf * w.map_or(1.0, |w| w[r]);
                    add!((r, a, [iw, iw * v, iw * v * v, kf]));
                }
            }
        }
    } else if w.is_none() && counts.is_none() {
        for (r, (&a, &v)) in node_of.iter().zip(y).enumerate() {
            add!((r, a, [1.0, v, v * v, 1.0]));
        }
    } else {
        for (r, &a) in node_of.iter().enumerate() {
            let kf = counts.map_or(1.0, |c| f64::from(c[r]));
            let iw = kf * w.map_or(1.0, |w| w[r]);
            add!((r, a, [iw, iw * y[r], iw * y[r] * y[r], kf]));
        }
    }
}

/// Adds `u` to bin `row[j]` of each feature `j < K` of one node's histograms (bin `c` of
/// feature `j` at `node[c·K + j]`) and, with `parent`, to `node[parent]`.
///
/// # Safety
/// `row` points to `K` bins, and every entry written is inside the node's histograms.
#[inline(always)]
unsafe fn add_block<const K: usize>(
    node: *mut [f64; 4],
    row: *const u8,
    parent: Option<usize>,
    u: [f64; 4],
) {
    for j in 0..K {
        // SAFETY: the caller's conditions.
        let hb = unsafe { &mut *node.add(usize::from(*row.add(j)) * K + j) };
        for l in 0..4 {
            hb[l] += u[l];
        }
    }
    if let Some(p) = parent {
        // SAFETY: the caller's conditions.
        let hb = unsafe { &mut *node.add(p) };
        for l in 0..4 {
            hb[l] += u[l];
        }
    }
}

/// Rows per chunk of a [`RowList`].
pub(crate) const LIST_CHUNK: usize = 16 * 1024;

/// The rows of a sweep's nodes, ascending, in chunks of [`LIST_CHUNK`] rows: chunk `c`'s
/// rows (of `c·LIST_CHUNK..(c + 1)·LIST_CHUNK`) are the first `lens[c]` entries of its
/// part of `idx`. Made by a parallel pass without a branch per row; the buffers are reused
/// from one fill to the next.
#[derive(Default)]
pub(crate) struct RowList {
    idx: Vec<u32>,
    lens: Vec<u32>,
}

impl RowList {
    /// The rows `r` with `slot_of[node_of[r]]` a slot (not `u32::MAX`); returns their number.
    pub(crate) fn fill(&mut self, node_of: &[u32], slot_of: &[u32]) -> usize {
        use rayon::prelude::*;
        let n = node_of.len();
        if self.idx.len() != n {
            // Fresh memory advised into huge pages, reused while the row count stays.
            let mut idx = crate::frame::buffer::with_exact_capacity(n);
            idx.resize(n, 0);
            self.idx = idx;
        }
        self.lens.resize(n.div_ceil(LIST_CHUNK), 0);
        self.idx
            .par_chunks_mut(LIST_CHUNK)
            .zip(self.lens.par_iter_mut())
            .zip(node_of.par_chunks(LIST_CHUNK))
            .enumerate()
            .for_each(|(c, ((out, len), nodes))| {
                let first = (c * LIST_CHUNK) as u32;
                let mut k = 0;
                for (j, &a) in nodes.iter().enumerate() {
                    out[k] = first + j as u32;
                    k += usize::from(slot_of.get(a as usize).is_some_and(|&g| g != u32::MAX));
                }
                *len = k as u32;
            });
        self.lens.iter().map(|&l| l as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::engine::{bin_instances, Impurity, Instances, Strategy};

    /// 41 continuous features (so that sweeps cut them into several blocks, some of
    /// [`MAX_BLOCK_FEATURES`]), every third one with few distinct values, and weights.
    fn data(rows: usize, few: fn(usize) -> bool) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let nf = 41;
        let mut x = Vec::with_capacity(rows * nf);
        let (mut y, mut w) = (Vec::new(), Vec::new());
        for _ in 0..rows {
            for f in 0..nf {
                let v = next();
                x.push(if few(f) {
                    (v * 4.0).floor()
                } else {
                    v * 10.0 - 3.0
                });
            }
            y.push(next() * 5.0 - 1.0);
            w.push(0.25 + next());
        }
        (x, y, w)
    }

    /// The class-count block kernel, at every width its columns are held in registers
    /// for (1 to 8) and beyond (9, 10), equals the plain count per feature, bin and class.
    #[test]
    fn class_blocks_count_every_width() {
        use crate::tree::engine::growth::ClassLabels;
        let rows = 3000;
        let nf = 41;
        let (x, _, _) = data(rows, |f| f % 3 == 0);
        let labels: Vec<f64> = (0..rows).map(|r| ((r * 7 + r / 5) % 3) as f64).collect();
        let inst = Instances::new(vec![&x[..]], nf, labels.clone(), None).unwrap();
        let s = Strategy::new(Impurity::Gini, 3);
        let b = bin_instances(&inst, &s, "test", false).unwrap();
        let classes = ClassLabels::new(&labels, 3).unwrap();
        let t = Targets {
            labels: &labels,
            weights: None,
            classes: Some(&classes),
        };
        let counts: Vec<u16> = (0..rows).map(|r| (r % 3) as u16).collect();
        let mine: Vec<u32> = (0..rows as u32).filter(|r| r % 5 != 2).collect();
        for counts in [None, Some(&counts[..])] {
            let w = |r: usize| counts.map_or(1.0, |c| f64::from(c[r]));
            for width in 1..=10 {
                let feats: Vec<usize> = (3..3 + width).collect();
                let (parent, hists) = fill_block(&b, &feats, &mine, &t, counts, 4, true);
                let mut want_parent = vec![0.0; 4];
                for &r in &mine {
                    let r = r as usize;
                    want_parent[labels[r] as usize] += w(r);
                    want_parent[3] += w(r);
                }
                assert_eq!(parent, want_parent, "width {width}");
                for (&f, h) in feats.iter().zip(&hists) {
                    let mut want = vec![0.0; b.num_bins[f] * 4];
                    for &r in &mine {
                        let r = r as usize;
                        let bin = b.bin(f, r);
                        want[bin * 4 + labels[r] as usize] += w(r);
                        want[bin * 4 + 3] += w(r);
                    }
                    assert_eq!(h, &want, "width {width}, feature {f}");
                }
            }
        }
    }

    /// Every slot's histograms from the level sweep equal, bit for bit, the column-major
    /// block kernel's over the slot's rows, whatever the thread count and with or without
    /// a row list: both add each bin's rows in row order.
    #[test]
    fn sweeps_equal_the_block_kernel_on_wide_rows() {
        // Default bins; then 200 bins on every eighth feature beside 4-bin ones, so that
        // sweep_blocks cuts the runs.
        let few_third: fn(usize) -> bool = |f| f % 3 == 0;
        let many_eighth: fn(usize) -> bool = |f| f % 8 != 0;
        for (few, max_bins) in [(few_third, 32), (many_eighth, 200)] {
            sweeps_equal_the_block_kernel(few, max_bins);
        }
    }

    /// The features of every block of `sweep_blocks`, in order, cover all features once,
    /// and no block's bin-major layout exceeds both twice its features' bins and the slack.
    #[test]
    fn sweep_blocks_bound_their_layout() {
        let nf = 41;
        let (x, y, _) = data(2000, |f| f % 8 != 0);
        let inst = Instances::new(vec![&x[..]], nf, y, None).unwrap();
        let mut s = Strategy::new(Impurity::Variance, 0);
        s.max_bins = 200;
        let b = bin_instances(&inst, &s, "test", true).unwrap();
        for threads in [1, 2, 3, 8] {
            let blocks = sweep_blocks(&b, threads);
            assert!(blocks.first().unwrap().start == 0 && blocks.last().unwrap().end == nf);
            assert!(blocks.windows(2).all(|w| w[0].end == w[1].start));
            for bl in &blocks {
                let wide = bl.clone().map(|f| b.num_bins[f]).max().unwrap();
                let sum: usize = bl.clone().map(|f| b.num_bins[f]).sum();
                assert!(bl.len() <= MAX_BLOCK_FEATURES, "{threads} threads: {bl:?}");
                assert!(
                    bl.len() == 1 || wide * bl.len() <= (2 * sum).max(BLOCK_SLACK_BINS),
                    "{threads} threads: {bl:?} of {wide} x {} bins for {sum}",
                    bl.len()
                );
            }
            // The runs were cut: more blocks than runs of MAX_BLOCK_FEATURES.
            assert!(blocks.len() > nf.div_ceil(MAX_BLOCK_FEATURES), "{blocks:?}");
        }
        // With the default 32 bins nothing is cut.
        let b32 =
            bin_instances(&inst, &Strategy::new(Impurity::Variance, 0), "test", true).unwrap();
        assert_eq!(sweep_blocks(&b32, 1).len(), nf.div_ceil(MAX_BLOCK_FEATURES));
    }

    fn sweeps_equal_the_block_kernel(few: fn(usize) -> bool, max_bins: usize) {
        let rows = 5000;
        let nf = 41;
        let (x, y, w) = data(rows, few);
        let inst = Instances::new(vec![&x[..]], nf, y.clone(), Some(w.clone())).unwrap();
        let mut s = Strategy::new(Impurity::Variance, 0);
        s.max_bins = max_bins;
        let by_row = bin_instances(&inst, &s, "test", true).unwrap();
        let by_col = bin_instances(&inst, &s, "test", false).unwrap();
        assert!(matches!(by_row.bins, BinColumns::RowMajorU8(_)));
        // Nodes 0..6, some rows outside the tree; nodes 1 and 4 not in the group.
        let node_of: Vec<u32> = (0..rows as u32)
            .map(|r| {
                if r % 11 == 5 {
                    u32::MAX
                } else {
                    (r * 7 + r / 13) % 6
                }
            })
            .collect();
        let slot_of = [0, u32::MAX, 1, 2, u32::MAX, 3];
        let counts: Vec<u16> = (0..rows).map(|r| (r % 4) as u16).collect();
        let feats: Vec<usize> = (0..nf).filter(|&f| by_col.num_splits(f) != 0).collect();
        for (weights, counts) in [(None, None), (Some(&w[..]), Some(&counts[..]))] {
            let t = Targets {
                labels: &y,
                weights,
                classes: None,
            };
            let want: Vec<NodeHists> = (0..4)
                .map(|slot| {
                    let node = slot_of.iter().position(|&g| g == slot as u32).unwrap();
                    let mine: Vec<u32> = (0..rows as u32)
                        .filter(|&r| node_of[r as usize] == node as u32)
                        .collect();
                    let (parent, hists) = fill_block(&by_col, &feats, &mine, &t, counts, 4, false);
                    (parent, feats.iter().copied().zip(hists).collect())
                })
                .collect();
            let mut list = RowList::default();
            let in_group = node_of
                .iter()
                .filter(|&&a| slot_of.get(a as usize).is_some_and(|&g| g != u32::MAX))
                .count();
            assert_eq!(list.fill(&node_of, &slot_of), in_group);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                for rows in [None, Some(&list)] {
                    let got = pool.install(|| {
                        sweep_variance(&by_row, &node_of, &slot_of, 4, &t, counts, rows)
                    });
                    let bits = |h: &[NodeHists]| -> Vec<Vec<u64>> {
                        h.iter()
                            .map(|(p, fs)| {
                                p.iter()
                                    .chain(fs.iter().flat_map(|(_, v)| v))
                                    .map(|v| v.to_bits())
                                    .collect()
                            })
                            .collect()
                    };
                    let feats_of = |h: &[NodeHists]| -> Vec<Vec<usize>> {
                        h.iter()
                            .map(|(_, fs)| fs.iter().map(|(f, _)| *f).collect())
                            .collect()
                    };
                    assert_eq!(feats_of(&got), feats_of(&want), "{threads} threads");
                    assert!(
                        bits(&got) == bits(&want),
                        "{threads} threads, list {}",
                        rows.is_some()
                    );
                }
            }
        }
    }
}
