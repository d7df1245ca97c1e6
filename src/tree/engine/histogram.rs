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
        let add = |r: usize, w: u64| {
            debug_assert!(r < n);
            // SAFETY: the row is a binned row (check_block) and its class is below `k`
            // (ClassLabels), so every lane below is inside `h` (check_block: each feature's
            // bins fit below the parent, whose `k` lanes end `h`).
            unsafe {
                let c = usize::from(*y.get_unchecked(r));
                debug_assert!(c < k);
                for &(col, start) in &cols {
                    *h.add(start + usize::from(*col.add(r)) * k + c) += w;
                }
                *h.add(parent + c) += w;
            }
        };
        match counts {
            None => rows.iter().for_each(|&r| add(r as usize, 1)),
            Some(cn) => {
                assert!(cn.len() == n);
                // SAFETY: rows are binned rows, `cn` has one count per binned row.
                rows.iter()
                    .for_each(|&r| add(r as usize, u64::from(unsafe { *cn.get_unchecked(r as usize) })))
            }
        }
    }
}

/// The histograms of a group of nodes of one tree on every feature with splits, from
/// row-major bins: node `g`'s rows are `order[runs[g]]` (ascending). Per node: the parent
/// vector and each feature's histogram. Each node's features are cut into as few blocks as
/// keep the threads busy (one block of every feature once there are enough rows elsewhere),
/// one task each; every (node, feature) histogram is summed by one task over the node's
/// rows in order.
pub(crate) fn row_list_variance(
    b: &Binned,
    order: &[u32],
    runs: &[std::ops::Range<usize>],
    t: &Targets,
    counts: Option<&[u16]>,
) -> Vec<NodeHists> {
    use rayon::prelude::*;
    let rb = RowBins::new(b, t, counts);
    let tasks = row_tasks(&rb, runs, |_| true, order.len());
    let done: Vec<TaskHists> = tasks
        .into_par_iter()
        .map(|(g, block)| {
            let rows = &order[runs[g].clone()];
            let (slots, stride) = rb.slots(block);
            let mut h = vec![[0.0f64; 4]; stride + 1];
            rows_pass(
                rb.data, rb.nf, &slots, &mut h, rows, t.labels, t.weights, counts,
            );
            (g, block, slots.iter().map(|s| s.1).collect(), h)
        })
        .collect();
    let mut out: Vec<NodeHists> = runs.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for (g, block, base, h) in done {
        rb.gather(&mut out[g], block, &base, &h);
    }
    out
}

/// A task's node, its features, their first slots and its histograms.
type TaskHists<'a> = (usize, &'a [usize], Vec<usize>, Vec<[f64; 4]>);

/// One split node's rows for [`split_rows`]: its run of the tree's order, which bins go
/// left, and whether each child's histograms are wanted.
pub(crate) struct RowSplit {
    pub rows: std::ops::Range<usize>,
    pub feature: usize,
    pub left: [bool; 256],
    pub hists: (bool, bool),
}

/// Per split node: the number of its rows going left, and the histograms of each child
/// asked for.
pub(crate) type SplitDone = (usize, Option<NodeHists>, Option<NodeHists>);

/// Partitions each split node's run of `order` stably into the rows going left, then
/// those going right (both ascending), and in the same pass over the rows sums the
/// histograms of the children that are asked for (as [`row_list_variance`] would over the
/// children's runs: each child's rows in order). `scratch` holds at least `order.len()`
/// values. Tasks are blocks of features per split node (cut as [`row_list_variance`]
/// cuts them); the first block of each node also writes the partition.
pub(crate) fn split_rows(
    b: &Binned,
    order: &mut [u32],
    scratch: &mut [u32],
    splits: &[RowSplit],
    t: &Targets,
    counts: Option<&[u16]>,
) -> Vec<SplitDone> {
    use rayon::prelude::*;
    let rb = RowBins::new(b, t, counts);
    let runs: Vec<std::ops::Range<usize>> = splits.iter().map(|s| s.rows.clone()).collect();
    let tasks = row_tasks(
        &rb,
        &runs,
        |g| splits[g].hists != (false, false),
        order.len(),
    );
    assert!(scratch.len() >= order.len());
    assert!(splits.iter().all(|s| s.feature < rb.nf));
    // Each node's stretch of the scratch, for its first task to write the partition into.
    let mut outs: Vec<Option<&mut [u32]>> = Vec::with_capacity(splits.len());
    let mut sorted: Vec<usize> = (0..splits.len()).collect();
    sorted.sort_by_key(|&g| runs[g].start);
    let mut slots_out: Vec<Option<&mut [u32]>> = (0..splits.len()).map(|_| None).collect();
    let mut rest = &mut scratch[..];
    let mut at = 0;
    for &g in &sorted {
        assert!(runs[g].start >= at, "split runs are disjoint");
        let (_, after) = std::mem::take(&mut rest).split_at_mut(runs[g].start - at);
        let (mine, after) = after.split_at_mut(runs[g].len());
        rest = after;
        at = runs[g].end;
        slots_out[g] = Some(mine);
    }
    outs.extend(slots_out);
    let mut jobs = Vec::with_capacity(tasks.len());
    for (g, block) in tasks {
        jobs.push((g, block, outs[g].take()));
    }
    let order_ro: &[u32] = order;
    let done: Vec<(TaskHists, Option<usize>)> = jobs
        .into_par_iter()
        .map(|(g, block, out)| {
            let sp = &splits[g];
            let rows = &order_ro[sp.rows.clone()];
            let (slots, stride) = rb.slots(block);
            let mut h = vec![[0.0f64; 4]; 2 * (stride + 1)];
            let wrote = out.is_some();
            let nl = split_pass(
                rb.data, rb.nf, sp.feature, &sp.left, &slots, &mut h, rows, t.labels, t.weights,
                counts, out,
            );
            let base = slots.iter().map(|s| s.1).collect();
            ((g, block, base, h), wrote.then_some(nl))
        })
        .collect();
    let mut res: Vec<SplitDone> = splits
        .iter()
        .map(|s| {
            (
                0,
                s.hists.0.then(|| (Vec::new(), Vec::new())),
                s.hists.1.then(|| (Vec::new(), Vec::new())),
            )
        })
        .collect();
    for ((g, block, base, h), nl) in done {
        let half = h.len() / 2;
        let r = &mut res[g];
        if let Some(nl) = nl {
            r.0 = nl;
        }
        if let Some(o) = r.1.as_mut() {
            rb.gather(o, block, &base, &h[..half]);
        }
        if let Some(o) = r.2.as_mut() {
            rb.gather(o, block, &base, &h[half..]);
        }
    }
    // Back into the order, the nodes in parallel: the lefts as written, the rights
    // (written from the end down) reversed.
    let mut back: Vec<(&mut [u32], &[u32], usize)> = Vec::with_capacity(splits.len());
    let mut rest = &mut order[..];
    let mut at = 0;
    for &g in &sorted {
        let run = &runs[g];
        let (_, after) = std::mem::take(&mut rest).split_at_mut(run.start - at);
        let (mine, after) = after.split_at_mut(run.len());
        rest = after;
        at = run.end;
        back.push((mine, &scratch[run.clone()], res[g].0));
    }
    back.into_par_iter().for_each(|(o, w, nl)| {
        o[..nl].copy_from_slice(&w[..nl]);
        for (o, &v) in o[nl..].iter_mut().zip(w[nl..].iter().rev()) {
            *o = v;
        }
    });
    res
}

/// The row-major bins of a row-list run, checked once for the unchecked reads of
/// [`rows_pass`] and [`split_pass`].
struct RowBins<'a> {
    data: &'a [u8],
    nf: usize,
    num_bins: &'a [usize],
    /// Features with splits.
    feats: Vec<usize>,
}

impl<'a> RowBins<'a> {
    fn new(b: &'a Binned, t: &Targets, counts: Option<&[u16]>) -> Self {
        let BinColumns::Rows(data) = &b.bins else {
            unreachable!("row lists need row-major bins (growth.rs row_lists)")
        };
        let nf = b.kinds.len();
        assert!(data.len() == b.rows * nf && t.labels.len() == b.rows);
        assert!(t.weights.is_none_or(|w| w.len() == b.rows));
        assert!(counts.is_none_or(|c| c.len() == b.rows));
        // Binned's invariant (bins of f below num_bins[f]) keeps every bin of a block's
        // features in its part of the block's histograms, as the passes need.
        assert!(b.num_bins.iter().all(|&n| n <= 256));
        RowBins {
            data,
            nf,
            num_bins: &b.num_bins,
            feats: (0..nf).filter(|&f| b.num_splits(f) != 0).collect(),
        }
    }

    /// Each feature of `block` with its first slot, and the slots they take.
    fn slots(&self, block: &[usize]) -> (Vec<(usize, usize)>, usize) {
        let mut slots = Vec::with_capacity(block.len());
        let mut stride = 0;
        for &f in block {
            slots.push((f, stride));
            stride += self.num_bins[f];
        }
        (slots, stride)
    }

    /// Appends a task's histograms `h` (features of `block` from `base`, the parent last)
    /// to a node's.
    fn gather(&self, o: &mut NodeHists, block: &[usize], base: &[usize], h: &[[f64; 4]]) {
        let flat = |bins: &[[f64; 4]]| -> Vec<f64> { bins.iter().flatten().copied().collect() };
        if o.0.is_empty() {
            o.0 = flat(&h[h.len() - 1..]);
        }
        for (&f, &at) in block.iter().zip(base) {
            o.1.push((f, flat(&h[at..at + self.num_bins[f]])));
        }
    }
}

/// Tasks (node, block of features) over the runs: each node's features in as few blocks as
/// keep the threads busy, given the node's share of the rows.
/// A run whose histograms are not wanted gets one task, without features.
fn row_tasks<'r>(
    rb: &'r RowBins,
    runs: &[std::ops::Range<usize>],
    wanted: impl Fn(usize) -> bool,
    len: usize,
) -> Vec<(usize, &'r [usize])> {
    let threads = rayon::current_num_threads();
    let group_rows = (0..runs.len())
        .filter(|&g| wanted(g))
        .map(|g| runs[g].len())
        .sum::<usize>()
        .max(1);
    let mut tasks: Vec<(usize, &[usize])> = Vec::new();
    for (g, run) in runs.iter().enumerate() {
        // Every row of a run is a binned row (the passes read them unchecked).
        assert!(run.end <= len);
        if !wanted(g) {
            tasks.push((g, &[]));
            continue;
        }
        let pieces = (threads * run.len())
            .div_ceil(group_rows)
            .clamp(1, rb.feats.len().div_ceil(MIN_ROW_BLOCK_FEATURES).max(1));
        let size = rb.feats.len().div_ceil(pieces).max(1);
        if rb.feats.is_empty() {
            tasks.push((g, &[]));
        }
        tasks.extend(rb.feats.chunks(size).map(|block| (g, block)));
    }
    tasks
}

/// The fewest features a row-list block is cut to (each block gathers its rows' bins and
/// targets again).
const MIN_ROW_BLOCK_FEATURES: usize = 5;

/// Rows ahead whose bins and target the row-list passes prefetch.
const PREFETCH_ROWS: usize = 16;

/// Prefetches row `rows[i + PREFETCH_ROWS]`'s bins and target.
#[inline(always)]
fn prefetch(d: &[u8], nf: usize, y: &[f64], rows: &[u32], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(&r) = rows.get(i + PREFETCH_ROWS) {
        let r = r as usize;
        if r < y.len() && (r + 1) * nf <= d.len() {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            // SAFETY: prefetching is a hint that never faults; both addresses are inside
            // their arrays (checked above).
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(d.as_ptr().add(r * nf).cast());
                _mm_prefetch::<_MM_HINT_T0>(y.as_ptr().add(r).cast());
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (d, nf, y, rows, i);
}

/// Row `r`'s statistics `(iw, iw·y, iw·y·y, k)` (Spark's `VarianceAggregator.update`;
/// `(1, y, y·y, 1)` without weights and counts, the same bits).
#[inline(always)]
fn row_stats(r: usize, y: &[f64], w: Option<&[f64]>, counts: Option<&[u16]>) -> [f64; 4] {
    if w.is_none() && counts.is_none() {
        let v = y[r];
        [1.0, v, v * v, 1.0]
    } else {
        let kf = counts.map_or(1.0, |c| f64::from(c[r]));
        let iw = kf * w.map_or(1.0, |w| w[r]);
        [iw, iw * y[r], iw * y[r] * y[r], kf]
    }
}

/// Adds `u` to the bin of each feature of `slots` (feature, first slot) of the row whose
/// bins start at `row`, in the histograms starting at `h`.
///
/// # Safety
/// `row` points at a row's `nf` bins (every feature of `slots` below `nf`), and each
/// feature's bin falls inside `h`'s allocation from its first slot.
#[inline(always)]
unsafe fn add_bins(row: *const u8, slots: &[(usize, usize)], h: *mut [f64; 4], u: [f64; 4]) {
    for &(f, o) in slots {
        // SAFETY: the caller's conditions.
        let hb = unsafe { &mut *h.add(o + usize::from(*row.add(f))) };
        for l in 0..4 {
            hb[l] += u[l];
        }
    }
}

multiversion! {
    /// One pass over a node's rows (ascending): each row's statistics ([`row_stats`]) into
    /// its bin of each feature of `slots` (feature, first slot) and into the parent vector
    /// (the last slot of `h`, summed in registers: one chain of additions, in row order),
    /// reading its bins from the row-major `data` (`nf` per row).
    ///
    /// Needs every row below `y.len()` and each feature's bins below the next feature's
    /// first slot (the last's below the parent's), which [`RowBins::new`] checks with
    /// [`Binned`]'s invariant.
    #[allow(clippy::too_many_arguments)]
    fn rows_pass(
        data: &[u8],
        nf: usize,
        slots: &[(usize, usize)],
        h: &mut [[f64; 4]],
        rows: &[u32],
        y: &[f64],
        w: Option<&[f64]>,
        counts: Option<&[u16]>,
    ) {
        let n = y.len();
        assert!(data.len() == n * nf && w.is_none_or(|w| w.len() == n) && counts.is_none_or(|c| c.len() == n));
        assert!(!h.is_empty() && slots.iter().all(|&(f, o)| f < nf && o < h.len() - 1));
        let last = h.len() - 1;
        let mut parent = h[last];
        let hp = h.as_mut_ptr();
        for (i, &r) in rows.iter().enumerate() {
            prefetch(data, nf, y, rows, i);
            let r = r as usize;
            let u = row_stats(r, y, w, counts);
            // SAFETY: `r < n` (row_stats read y[r]), so the row's `nf` bins are in
            // `data`; each feature's bin falls in its part of `h` (the caller's check).
            unsafe { add_bins(data.as_ptr().add(r * nf), slots, hp, u) };
            for l in 0..4 {
                parent[l] += u[l];
            }
        }
        h[last] = parent;
    }
}

multiversion! {
    /// One pass over a split node's rows (ascending): row `r` goes left when
    /// `left[bin of feature]`, and adds its statistics ([`row_stats`]) to that child's bin
    /// of each feature of `slots` and to that child's parent vector. `h` holds the left
    /// child's histograms then the right's, each ending with its parent vector. With
    /// `out`, the rows going left are written from its start, those going right from its
    /// end down. Returns how many go left.
    ///
    /// Needs [`rows_pass`]'s conditions, `feature < nf`, and `out` as long as `rows`.
    #[allow(clippy::too_many_arguments)]
    fn split_pass(
        data: &[u8],
        nf: usize,
        feature: usize,
        left: &[bool; 256],
        slots: &[(usize, usize)],
        h: &mut [[f64; 4]],
        rows: &[u32],
        y: &[f64],
        w: Option<&[f64]>,
        counts: Option<&[u16]>,
        out: Option<&mut [u32]>,
    ) -> usize {
        let n = y.len();
        assert!(data.len() == n * nf && w.is_none_or(|w| w.len() == n) && counts.is_none_or(|c| c.len() == n));
        assert!(feature < nf && h.len() >= 2 && h.len() % 2 == 0);
        let half = h.len() / 2;
        assert!(slots.iter().all(|&(f, o)| f < nf && o < half - 1));
        assert!(out.as_ref().is_none_or(|o| o.len() == rows.len()));
        // The other child's parent vector adds +0, which leaves its sum's bits as they
        // are: x + 0 = x for every x but −0, and a sum of additions from +0 is never −0
        // (x + y = −0 only when both are −0). So each parent vector is its rows' sum in
        // order, without a branch on the row's side.
        let (mut pl, mut pr) = (h[half - 1], h[2 * half - 1]);
        let hp = h.as_mut_ptr();
        let (mut nl, mut nr) = (0usize, 0usize);
        let mut out = out;
        let last = rows.len().wrapping_sub(1);
        for (i, &r) in rows.iter().enumerate() {
            prefetch(data, nf, y, rows, i);
            let r = r as usize;
            let u = row_stats(r, y, w, counts);
            // SAFETY: `r < n` (row_stats read y[r]), so the row's `nf` bins are in `data`.
            let row = unsafe { data.as_ptr().add(r * nf) };
            // SAFETY: as above, and `feature < nf`.
            let goes_left = left[usize::from(unsafe { *row.add(feature) })];
            // All ones when the row goes left: the side is selected by masks, not
            // branches (the sides of consecutive rows are unpredictable).
            let mask = u64::from(goes_left).wrapping_neg();
            let side = half & !(mask as usize);
            // SAFETY: each feature's bin falls in its part of the child's half of `h`.
            unsafe { add_bins(row, slots, hp.add(side), u) };
            for l in 0..4 {
                pl[l] += f64::from_bits(u[l].to_bits() & mask);
                pr[l] += f64::from_bits(u[l].to_bits() & !mask);
            }
            if let Some(o) = out.as_deref_mut() {
                let at = (nl & mask as usize) | (last.wrapping_sub(nr) & !(mask as usize));
                o[at] = r as u32;
            }
            nl += usize::from(goes_left);
            nr += usize::from(!goes_left);
        }
        h[half - 1] = pl;
        h[2 * half - 1] = pr;
        nl
    }
}
