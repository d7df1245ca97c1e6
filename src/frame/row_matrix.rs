//! [`RowMatrix`]: a small dense matrix applied to blocks of dense rows with every output
//! of several rows held in registers at once (DCT's cosine table, PCAModel's principal
//! components).

/// Values per register tile (an AVX-512 register of f64; two AVX2 registers).
const LANES: usize = 8;
/// Outputs per row the register-held kernel takes: up to `MAX_TILES · LANES`.
const MAX_TILES: usize = 4;

/// `out[c] = start + t[0][c]·x[0] + t[1][c]·x[1] + … + t[n−1][c]·x[n−1]` for the `m`
/// outputs `c` of each row `x` of `n` values, every output summed in that order (so each
/// output has the bits of the plain loop `s = start; for i in 0..n { s += t[i][c] * x[i] }`
/// in every SIMD build and for any block of rows), with the outputs of several rows
/// accumulated in registers at once: the table (`n` rows of `m` values zero-padded to a
/// whole number of [`LANES`]-wide tiles) stays in L1, each input value is read once and
/// each output written once.
#[derive(Clone, Debug)]
pub(crate) struct RowMatrix {
    n: usize,
    m: usize,
    tiles: usize,
    /// `n` rows of `tiles` tiles: `t[i][c]` at tile `i · tiles + c / LANES`, lane
    /// `c % LANES`; zero from `m` on.
    table: Vec<[f64; LANES]>,
}

impl RowMatrix {
    /// The matrix `t[i][c] = entry(i, c)` for `i < n`, `c < m`; `None` when `m` is 0 or
    /// more than the kernel holds in registers (32 outputs), where the caller's plain
    /// per-row loop is the better form anyway.
    pub(crate) fn new(n: usize, m: usize, entry: impl Fn(usize, usize) -> f64) -> Option<Self> {
        let tiles = m.div_ceil(LANES);
        if m == 0 || tiles > MAX_TILES {
            return None;
        }
        let mut table = vec![[0.0; LANES]; n * tiles];
        for (i, row) in table.chunks_exact_mut(tiles).enumerate() {
            for c in 0..m {
                row[c / LANES][c % LANES] = entry(i, c);
            }
        }
        Some(RowMatrix { n, m, tiles, table })
    }

    /// The rows of `x` (`n` values each, back to back) mapped into the rows of `out` (`m`
    /// values each, as many rows; every value overwritten), each output summed from
    /// `start` (0.0 for `s = 0.0; s += …`, -0.0 for `Iterator::sum`'s start).
    pub(crate) fn apply(&self, start: f64, x: &[f64], out: &mut [f64]) {
        if self.n == 0 {
            out.fill(start);
            return;
        }
        debug_assert_eq!(
            x.len() / self.n,
            out.len() / self.m,
            "as many output rows as input rows"
        );
        apply_rows(&self.table, self.n, self.m, self.tiles, start, x, out);
    }
}

crate::frame::kernels::multiversion! {
    /// [`RowMatrix::apply`]'s kernel: `R` rows at a time (the fewer tiles per row, the
    /// more rows, so that `R · T` independent accumulator chains hide the add latency),
    /// then the last rows one at a time; padding lanes are computed and dropped.
    fn apply_rows(table: &[[f64; LANES]], n: usize, m: usize, tiles: usize, start: f64, x: &[f64], out: &mut [f64]) {
        match tiles {
            1 => block::<1, 8>(table, n, m, start, x, out),
            2 => block::<2, 4>(table, n, m, start, x, out),
            3 => block::<3, 2>(table, n, m, start, x, out),
            _ => block::<4, 2>(table, n, m, start, x, out),
        }
    }
}

#[inline(always)]
fn block<const T: usize, const R: usize>(
    table: &[[f64; LANES]],
    n: usize,
    m: usize,
    start: f64,
    x: &[f64],
    out: &mut [f64],
) {
    let len = x.len() / n;
    let mut r = 0;
    while r + R <= len {
        rows::<T, R>(
            table,
            n,
            m,
            start,
            &x[r * n..(r + R) * n],
            &mut out[r * m..],
        );
        r += R;
    }
    while r < len {
        rows::<T, 1>(
            table,
            n,
            m,
            start,
            &x[r * n..(r + 1) * n],
            &mut out[r * m..],
        );
        r += 1;
    }
}

/// `R` rows (`x`: `R · n` values) into the first `R · m` values of `out`, every output
/// in a register lane. A row's whole tiles are stored when `out` has room (the padding
/// lanes land on the next row's place, which that row's store overwrites); the last
/// rows' outputs one by one.
#[inline(always)]
fn rows<const T: usize, const R: usize>(
    table: &[[f64; LANES]],
    n: usize,
    m: usize,
    start: f64,
    x: &[f64],
    out: &mut [f64],
) {
    let mut acc = [[[start; LANES]; T]; R];
    for i in 0..n {
        let t: &[[f64; LANES]; T] = table[i * T..(i + 1) * T].try_into().expect("T tiles a row");
        for (q, acc) in acc.iter_mut().enumerate() {
            let xi = x[q * n + i];
            for k in 0..T {
                for l in 0..LANES {
                    acc[k][l] += t[k][l] * xi;
                }
            }
        }
    }
    for (q, acc) in acc.iter().enumerate() {
        let o = q * m;
        let acc = acc.as_flattened();
        if o + T * LANES <= out.len() {
            out[o..o + T * LANES].copy_from_slice(acc);
        } else {
            out[o..o + m].copy_from_slice(&acc[..m]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::kernels::in_each_build;

    /// The plain loop each output must equal bit for bit.
    fn plain(
        t: impl Fn(usize, usize) -> f64,
        n: usize,
        m: usize,
        start: f64,
        x: &[f64],
    ) -> Vec<f64> {
        let mut out = Vec::new();
        for row in x.chunks_exact(n) {
            for c in 0..m {
                let mut s = start;
                for (i, v) in row.iter().enumerate() {
                    s += t(i, c) * v;
                }
                out.push(s);
            }
        }
        out
    }

    #[test]
    fn every_output_is_the_plain_loop_bit_for_bit_in_every_build() {
        // Sizes that fill tiles exactly or leave padding, row counts that leave a tail
        // after the R-row blocks, zeros of both signs, an infinity (NaNs compared as one:
        // their sign is unspecified), both starts.
        let entry = |i: usize, c: usize| ((i * 7 + c * 3) as f64 * 0.37).sin() / (c as f64 + 0.5);
        for (n, m) in [
            (1, 1),
            (3, 2),
            (20, 5),
            (20, 20),
            (9, 8),
            (7, 9),
            (17, 17),
            (33, 32),
            (5, 24),
        ] {
            let mx = RowMatrix::new(n, m, entry).unwrap();
            for rows in [0, 1, 2, 7, 9, 17] {
                let x: Vec<f64> = (0..rows * n)
                    .map(|k| match k % 9 {
                        0 => -0.0,
                        4 => 0.0,
                        _ if k == 13 => f64::INFINITY,
                        _ => (k as f64 * 0.61).cos() * 3.0,
                    })
                    .collect();
                for start in [0.0, -0.0] {
                    let want = plain(entry, n, m, start, &x);
                    let bits = |v: &[f64]| {
                        v.iter()
                            .map(|v| if v.is_nan() { 1 } else { v.to_bits() })
                            .collect::<Vec<_>>()
                    };
                    for (b, got) in in_each_build(|| {
                        let mut out = vec![f64::NAN; rows * m];
                        mx.apply(start, &x, &mut out);
                        out
                    }) {
                        assert_eq!(
                            bits(&got),
                            bits(&want),
                            "n {n} m {m} rows {rows} start {start} build {b:?}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn wide_or_empty_outputs_are_left_to_the_caller() {
        assert!(RowMatrix::new(4, 33, |_, _| 1.0).is_none());
        assert!(RowMatrix::new(4, 0, |_, _| 1.0).is_none());
        // No inputs: every output is the start.
        let mx = RowMatrix::new(0, 3, |_, _| 1.0).unwrap();
        let mut out = vec![1.0; 6];
        mx.apply(-0.0, &[], &mut out);
        assert!(out.iter().all(|v| v.to_bits() == (-0.0f64).to_bits()));
    }
}
