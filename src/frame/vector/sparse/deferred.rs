//! [`DeferredVectorBlock`]: a vector column chunk whose rows are checked while they are
//! read, so a single pass over the rows reads each index (and offset) once.

use arrow::array::{Array, AsArray};
use arrow::buffer::NullBuffer;
use arrow::datatypes::Int32Type;

use super::{At, Layout, Row, VectorBlock};
use crate::error::{Error, Result};

/// One partition's vector column, like [`VectorBlock`], except that opening a sparse
/// (`VectorUDT`) chunk with rows of both layouts and no nulls does not read its rows:
/// each row's layout (type, size, one value per index, a dense row's length) and sparse
/// indices (strictly increasing, below the vector size) are checked as
/// [`for_each_row`](Self::for_each_row) reads the row, before it is handed out. A pass
/// that reads every row anyway (a model's statistics pass) so reads each index and offset
/// once, not once to check and once to use. A dense chunk, an all-dense `VectorUDT` chunk
/// and a chunk with nulls are checked at open, as [`VectorBlock::new`] does.
///
/// The contract that keeps an unchecked row from being used: rows leave this type only
/// through [`for_each_row`](Self::for_each_row) (each row checked first; the first bad row
/// stops the walk with [`VectorBlock::new`]'s error for the chunk, which names its first
/// bad row) and [`dense_rows`](Self::dense_rows) (which checks the rows' layout itself);
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
    /// The chunk (its rows checked only when `checked`).
    block: VectorBlock<'a>,
    /// The chunk itself, to name the first bad row with [`VectorBlock::new`]'s error.
    arr: &'a dyn Array,
    /// Whether opening checked every row.
    checked: bool,
    /// Unchecked `VectorUDT` chunk: each row's `size`, and which sizes and index lists
    /// are non-null (a sparse row needs both).
    sizes: &'a [i32],
    size_nulls: Option<&'a NullBuffer>,
    idx_nulls: Option<&'a NullBuffer>,
}

impl<'a> DeferredVectorBlock<'a> {
    /// Opens `arr` (a dense or sparse vector column chunk) whose vectors must have `size`
    /// values: the column's type always, its rows now or as they are read (see above).
    ///
    /// # Errors
    /// [`VectorBlock::new`]'s errors for what is checked at open.
    pub fn new(arr: &'a dyn Array, size: usize, at: At<'_>) -> Result<Self> {
        let (block, checked) = VectorBlock::open(arr, size, at, true)?;
        let (sizes, size_nulls, idx_nulls) = match (checked, arr.as_struct_opt()) {
            (false, Some(s)) => {
                let sizes = s.column(1).as_primitive::<Int32Type>();
                (sizes.values().as_ref(), sizes.nulls(), s.column(2).nulls())
            }
            _ => (&[][..], None, None),
        };
        Ok(Self {
            block,
            arr,
            checked,
            sizes,
            size_nulls,
            idx_nulls,
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
    /// when every one of them is stored dense with [`size`](Self::size) values (checked
    /// here for an unchecked chunk: `None` otherwise, and the row walk names the bad row).
    #[inline]
    pub fn dense_rows(&self, first: usize, rows: usize) -> Option<&'a [f64]> {
        let v = self.block.dense_rows(first, rows)?;
        match self.block.layout {
            Layout::Udt { val_off, .. } if !self.checked => {
                // Every row's values `size` long (a branch-free fold: it vectorises).
                let s = self.size() as i32;
                let regular = val_off[first..=first + rows]
                    .windows(2)
                    .fold(true, |a, w| a & (w[1].wrapping_sub(w[0]) == s));
                regular.then_some(v)
            }
            _ => Some(v),
        }
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
    /// skipping null rows; in an unchecked chunk each row is checked before `f` sees it (a
    /// dense row's length; a sparse row's size, one value per index, indices strictly
    /// increasing below [`size`](Self::size)), so every [`Row`] `f` gets is as valid as
    /// [`VectorBlock::row`]'s. `first + rows <= len()`.
    ///
    /// # Errors
    /// At the first sparse row with bad indices, the walk stops with
    /// [`VectorBlock::new`]'s error for the chunk (naming its first bad row); `f` has then
    /// seen the rows before it.
    ///
    /// Always inlined, so that a kernel compiled for a wider instruction set (the crate's
    /// `multiversion!` kernels) that calls it compiles the walk and `f` (given as
    /// `#[inline(always)] |i, row| ..`) with its own target features: a function or
    /// closure left out of line is compiled without them.
    #[inline(always)]
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
        if self.checked {
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
                let ia = idx_off[r] as usize;
                let row = Row::Sparse {
                    size: n,
                    indices: &idx[ia..ia + (b - a)],
                    values,
                };
                f(k, row);
            }
            return Ok(());
        }
        // Unchecked (no nulls; the size fits an i32): each row's layout, then its indices.
        let s = n as i32;
        let valid = |nulls: Option<&NullBuffer>, r: usize| nulls.is_none_or(|b| b.is_valid(r));
        for k in 0..rows {
            let r = first + k;
            let (a, b) = (val_off[r], val_off[r + 1]);
            let values = &vals[a as usize..b as usize];
            if kinds[r] == 1 {
                if b - a != s {
                    return Err(self.error(at));
                }
                f(k, Row::Dense(values));
                continue;
            }
            let (ia, ib) = (idx_off[r], idx_off[r + 1]);
            let mut ok = (kinds[r] == 0)
                & valid(self.size_nulls, r)
                & valid(self.idx_nulls, r)
                & (self.sizes[r] == s)
                & (ib - ia == b - a);
            if !ok {
                return Err(self.error(at));
            }
            let indices = &idx[ia as usize..ib as usize];
            // A branch-free fold over the row's indices (in cache for `f` after): the sign
            // bits of every index and of every step less one, OR-ed, are clear when the
            // indices are non-negative and strictly increasing (non-negative, so a step
            // does not wrap); then the last one below `s` bounds them all.
            let mut signs = 0i32;
            let mut prev = -1i32;
            for &i in indices {
                signs |= i | i.wrapping_sub(prev).wrapping_sub(1);
                prev = i;
            }
            ok &= (signs >= 0) & (prev < s);
            if !ok {
                return Err(self.error(at));
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
