//! [`DeferredVectorBlock`]: a vector column chunk whose sparse rows' index values are
//! checked while they are read, so a single pass over the rows reads each index once.

use arrow::array::Array;

use super::{At, Layout, Row, VectorBlock};
use crate::error::{Error, Result};

/// One partition's vector column, like [`VectorBlock`], except that opening it does not
/// read the sparse rows' index values: it checks every row's type, size, value count and
/// index count (and nulls), and the indices are checked (strictly increasing, below the
/// vector size) row by row as [`for_each_row`](Self::for_each_row) reads them, before the
/// row is handed out. A pass that reads every row anyway (a model's statistics pass) so
/// reads each index once instead of twice.
///
/// The contract that keeps an unchecked index from being used: rows leave this type only
/// through [`for_each_row`](Self::for_each_row) (each sparse row's indices checked first;
/// the first bad row stops the walk with [`VectorBlock::new`]'s error for the chunk) and
/// [`dense_rows`](Self::dense_rows) (dense rows only, which opening checks fully);
/// [`check`](Self::check) gives the fully checked [`VectorBlock`] (or its error).
///
/// # Examples
/// ```
/// # fn main() -> mlpipe::Result<()> {
/// use mlpipe::frame::vector::{At, DeferredVectorBlock, SparseVectorBuilder};
/// let at = At { stage: "Example", column: "v", partition: 0 };
/// let mut b = SparseVectorBuilder::new(3);
/// b.push(&[0, 2], &[1.0, 5.0])?;
/// b.push_dense(&[0.0, 2.0, 0.0])?;
/// let arr = b.finish()?;
/// let block = DeferredVectorBlock::new(arr.as_ref(), 3, at)?;
/// let mut sum = [0.0; 3];
/// block.for_each_row(0, block.len(), at, |_, row| {
///     row.for_each_active(|j, v| sum[j] += v)
/// })?;
/// assert_eq!(sum, [1.0, 2.0, 5.0]);
/// assert_eq!(block.check(at)?.row(0).unwrap().to_vec(), vec![1.0, 0.0, 5.0]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DeferredVectorBlock<'a> {
    /// The chunk, all but its sparse index values checked (all of it when `checked`).
    block: VectorBlock<'a>,
    /// The chunk itself, to name the first bad row with [`VectorBlock::new`]'s error.
    arr: &'a dyn Array,
    /// Whether opening checked the index values too (a dense chunk, or the row loop ran).
    checked: bool,
}

impl<'a> DeferredVectorBlock<'a> {
    /// Opens `arr` (a dense or sparse vector column chunk) whose vectors must have `size`
    /// values, checking everything [`VectorBlock::new`] checks except the sparse rows'
    /// index values.
    ///
    /// # Errors
    /// [`VectorBlock::new`]'s errors for what it checks (a bad index may be reported here
    /// too, when another problem sends the chunk through the row-naming loop).
    pub fn new(arr: &'a dyn Array, size: usize, at: At<'_>) -> Result<Self> {
        let (block, checked) = VectorBlock::open(arr, size, at, false)?;
        Ok(Self {
            block,
            arr,
            checked,
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.block.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.block.is_empty()
    }

    /// The vectors' size.
    pub fn size(&self) -> usize {
        self.block.size()
    }

    /// Whether row `r` is null.
    #[inline]
    pub fn is_null(&self, r: usize) -> bool {
        self.block.is_null(r)
    }

    /// [`VectorBlock::dense_rows`]: rows `first..first + rows` as one row-major slice
    /// when every one of them is stored dense (such rows are fully checked at open).
    #[inline]
    pub fn dense_rows(&self, first: usize, rows: usize) -> Option<&'a [f64]> {
        self.block.dense_rows(first, rows)
    }

    /// The fully checked [`VectorBlock`] (reads the index values, unless opening did).
    ///
    /// # Errors
    /// [`VectorBlock::new`]'s error for the chunk.
    pub fn check(&self, at: At<'_>) -> Result<VectorBlock<'a>> {
        if self.checked {
            Ok(self.block)
        } else {
            VectorBlock::new(self.arr, self.size(), at)
        }
    }

    /// Calls `f(k, row)` for the rows `first + k` of `first..first + rows` in order,
    /// skipping null rows; a sparse row's indices are checked (strictly increasing, below
    /// [`size`](Self::size)) before `f` sees it, so every [`Row`] `f` gets is as valid as
    /// [`VectorBlock::row`]'s. `first + rows <= len()`.
    ///
    /// # Errors
    /// At the first sparse row with bad indices, the walk stops with
    /// [`VectorBlock::new`]'s error for the chunk (naming its first bad row); `f` has then
    /// seen the rows before it.
    #[inline]
    pub fn for_each_row(
        &self,
        first: usize,
        rows: usize,
        at: At<'_>,
        mut f: impl FnMut(usize, Row<'a>),
    ) -> Result<()> {
        let n = self.size();
        let Layout::Udt {
            kinds,
            idx_off,
            idx,
            val_off,
            vals,
        } = self.block.layout
        else {
            for k in 0..rows {
                if let Some(row) = self.block.row(first + k) {
                    f(k, row);
                }
            }
            return Ok(());
        };
        // (A sparse chunk whose index values were not checked has a size below 2³¹: the
        // one-pass check it passed says so.)
        let s = i32::try_from(n).unwrap_or(i32::MAX);
        for k in 0..rows {
            let r = first + k;
            if self.block.is_null(r) {
                continue;
            }
            let (a, b) = (val_off[r] as usize, val_off[r + 1] as usize);
            let values = &vals[a..b];
            if kinds[r] == 1 {
                f(k, Row::Dense(values));
                continue;
            }
            // One index per value (checked at open).
            let ia = idx_off[r] as usize;
            let indices = &idx[ia..ia + (b - a)];
            if !self.checked {
                // A branch-free fold over the row's indices (in cache for `f` after).
                let mut prev = -1i32;
                let mut ok = true;
                for &i in indices {
                    ok &= (i > prev) & (i < s);
                    prev = i;
                }
                if !ok {
                    return Err(self.error(at));
                }
            }
            f(
                k,
                Row::Sparse {
                    size: n,
                    indices,
                    values,
                },
            );
        }
        Ok(())
    }

    /// The chunk's error from [`VectorBlock::new`] (which names its first bad row).
    #[cold]
    fn error(&self, at: At<'_>) -> Error {
        match VectorBlock::new(self.arr, self.size(), at) {
            Err(e) => e,
            Ok(_) => Error::Internal(format!(
                "{}: column `{}` (partition {}): a sparse row failed the index check that \
                 VectorBlock::new passes",
                at.stage, at.column, at.partition
            )),
        }
    }
}
