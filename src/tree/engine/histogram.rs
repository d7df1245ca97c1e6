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
    matches!(b.bins, BinColumns::U8(_)) && (!classification || t.weights.is_none())
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
    if classification {
        let k = ss - 1;
        let mut h = vec![0u64; (total + 1) * k];
        class_pass(&cols, &base, &mut h, k, rows, t.labels, counts);
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

/// Adds `u` to the bin of row `r` of every column and to the parent (the last entry).
#[inline(always)]
fn add_row(cols: &[&[u8]], base: &[usize], h: &mut [[f64; 4]], r: usize, u: [f64; 4]) {
    for (c, &o) in cols.iter().zip(base) {
        let hb = &mut h[o + c[r] as usize];
        for l in 0..4 {
            hb[l] += u[l];
        }
    }
    let last = h.len() - 1;
    let hb = &mut h[last];
    for l in 0..4 {
        hb[l] += u[l];
    }
}

multiversion! {
    /// Variance statistics: row `r` adds `(iw, iw·y, iw·y·y, k)` with `k` its sampling
    /// count and `iw = k·w` (Spark's `VarianceAggregator.update`); the unit case adds
    /// `(1, y, y·y, 1)`, the same bits.
    fn variance_pass(
        cols: &[&[u8]],
        base: &[usize],
        h: &mut [[f64; 4]],
        rows: &[u32],
        y: &[f64],
        w: Option<&[f64]>,
        counts: Option<&[u16]>,
    ) {
        if w.is_none() && counts.is_none() {
            for &r in rows {
                let r = r as usize;
                let v = y[r];
                add_row(cols, base, h, r, [1.0, v, v * v, 1.0]);
            }
        } else {
            for &r in rows {
                let r = r as usize;
                let kf = counts.map_or(1.0, |c| f64::from(c[r]));
                let iw = kf * w.map_or(1.0, |w| w[r]);
                add_row(cols, base, h, r, [iw, iw * y[r], iw * y[r] * y[r], kf]);
            }
        }
    }
}

multiversion! {
    /// Class counts: row `r` adds its sampling count to its class's lane of its bin
    /// (`k` lanes per bin; the parent's lanes last).
    fn class_pass(
        cols: &[&[u8]],
        base: &[usize],
        h: &mut [u64],
        k: usize,
        rows: &[u32],
        y: &[f64],
        counts: Option<&[u16]>,
    ) {
        let parent = h.len() - k;
        for &r in rows {
            let r = r as usize;
            let c = y[r] as usize;
            let n = counts.map_or(1, |c| u64::from(c[r]));
            for (col, &o) in cols.iter().zip(base) {
                h[(o + col[r] as usize) * k + c] += n;
            }
            h[parent + c] += n;
        }
    }
}

/// The histograms of a group of nodes of one tree on every feature, by sweeps over all
/// rows in row order: row `r` belongs to node `node_of[r]`, which is in the group when
/// `slot_of[node_of[r]]` is its slot (rows of other nodes and unsampled rows, `u32::MAX`,
/// are passed over). Per slot: the parent vector and each feature with splits' histogram.
/// Features are cut into blocks, one task each, every (node, feature) histogram summed by
/// one task in row order.
pub(crate) fn sweep_variance(
    b: &Binned,
    node_of: &[u32],
    slot_of: &[u32],
    slots: usize,
    t: &Targets,
    counts: Option<&[u16]>,
) -> Vec<NodeHists> {
    use rayon::prelude::*;
    let BinColumns::U8(all) = &b.bins else {
        unreachable!("sweeps need byte bins (block_kernel_applies)")
    };
    let feats: Vec<usize> = (0..b.kinds.len())
        .filter(|&f| b.num_splits(f) != 0)
        .collect();
    let pieces = (2 * rayon::current_num_threads()).clamp(
        1,
        feats
            .len()
            .div_ceil(super::growth::MIN_BLOCK_FEATURES)
            .max(1),
    );
    let size = feats.len().div_ceil(pieces).max(1);
    let mut blocks: Vec<&[usize]> = feats.chunks(size).collect();
    if blocks.is_empty() {
        blocks.push(&[]);
    }
    let done: Vec<(Vec<usize>, Vec<[f64; 4]>, usize)> = blocks
        .into_par_iter()
        .map(|block| {
            let cols: Vec<&[u8]> = block
                .iter()
                .map(|&f| &all[f * b.rows..(f + 1) * b.rows])
                .collect();
            let mut base = Vec::with_capacity(block.len());
            let mut stride = 0;
            for &f in block {
                base.push(stride);
                stride += b.num_bins[f];
            }
            stride += 1; // the parent
            let mut h = vec![[0.0f64; 4]; slots * stride];
            sweep_pass(
                &cols, &base, stride, &mut h, node_of, slot_of, t.labels, t.weights, counts,
            );
            (base, h, stride)
        })
        .collect();
    let flat = |bins: &[[f64; 4]]| -> Vec<f64> { bins.iter().flatten().copied().collect() };
    let mut out: Vec<NodeHists> = (0..slots).map(|_| (Vec::new(), Vec::new())).collect();
    let blocks = feats.chunks(size).chain(std::iter::once(&[][..]));
    for (i, ((base, h, stride), block)) in done.iter().zip(blocks).enumerate() {
        for (g, o) in out.iter_mut().enumerate() {
            let node = &h[g * stride..(g + 1) * stride];
            if i == 0 {
                o.0 = flat(&node[stride - 1..]);
            }
            for (&f, &at) in block.iter().zip(base) {
                o.1.push((f, flat(&node[at..at + b.num_bins[f]])));
            }
        }
    }
    out
}

multiversion! {
    /// One sweep: every row of a group node adds `(iw, iw·y, iw·y·y, k)` (as
    /// [`variance_pass`]) to its node's bin of each column and to its node's parent vector.
    #[allow(clippy::too_many_arguments)]
    fn sweep_pass(
        cols: &[&[u8]],
        base: &[usize],
        stride: usize,
        h: &mut [[f64; 4]],
        node_of: &[u32],
        slot_of: &[u32],
        y: &[f64],
        w: Option<&[f64]>,
        counts: Option<&[u16]>,
    ) {
        for (r, &a) in node_of.iter().enumerate() {
            let Some(&g) = slot_of.get(a as usize) else {
                continue;
            };
            if g == u32::MAX {
                continue;
            }
            let u = if w.is_none() && counts.is_none() {
                let v = y[r];
                [1.0, v, v * v, 1.0]
            } else {
                let kf = counts.map_or(1.0, |c| f64::from(c[r]));
                let iw = kf * w.map_or(1.0, |w| w[r]);
                [iw, iw * y[r], iw * y[r] * y[r], kf]
            };
            let node = &mut h[g as usize * stride..(g as usize + 1) * stride];
            for (c, &o) in cols.iter().zip(base) {
                let hb = &mut node[o + c[r] as usize];
                for l in 0..4 {
                    hb[l] += u[l];
                }
            }
            let hb = &mut node[stride - 1];
            for l in 0..4 {
                hb[l] += u[l];
            }
        }
    }
}
