//! Fresh output buffers written at memory speed.
//!
//! A transform that writes a new 160 MB column spends most of its time in first-touch page
//! faults, not in writing: 40,000 faults of 4 KB each, every one a trip into the kernel to
//! zero a page. On Linux, `par_build` asks for transparent huge pages on the buffer
//! (`madvise(MADV_HUGEPAGE)`, which works whether the system's THP mode is `always` or
//! `madvise`): 2 MB pages, 512 times fewer faults. It then writes the buffer in parallel
//! row blocks, so a partition's output is written by every thread.
//!
//! Even huge-page faults cost: the kernel zeroes every page before the first write (a
//! second write of the whole output), may stall in direct compaction to find a free 2 MB
//! block (THP `defrag=madvise`), and under a hypervisor that takes freed guest memory back
//! (free page reporting, memory ballooning) each fresh page also faults on the host. The
//! run-to-run spread of a transform's time comes from there, not from its arithmetic. So
//! an output that becomes an Arrow buffer (`Output`, `par_build_buffer`,
//! `par_build_parts`) is written into memory from a small process-wide POOL of regions
//! already faulted in: when the last Arrow buffer over a region is dropped, the region goes
//! back to the pool (at most `POOL_REGIONS` regions and `MLPIPE_BUFFER_POOL_MB` MB,
//! default `POOL_MB_DEFAULT`; `MLPIPE_BUFFER_POOL_MB=0` turns the pool off and every
//! region is unmapped when dropped). Outputs are written in place with normal stores:
//! staging a large output in cache-sized blocks copied out with non-temporal (streaming)
//! stores, which write whole cache lines without first reading them, measured slower (see
//! `STREAMED`; `MLPIPE_STREAM_MB=N` turns it on for outputs of N MB and more).
//!
//! Huge pages can cost a stall when the kernel has to compact memory to find one; set
//! `MLPIPE_NO_HUGE_PAGES=1` to keep ordinary pages.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// Values per parallel task: 512 KB of output.
const TASK_VALUES: usize = 1 << 16;

/// Buffers smaller than this are not worth a huge page.
const HUGE_PAGE: usize = 2 << 20;

/// Outputs at least this large come from pooled [`Region`]s; smaller ones are ordinary
/// vectors (the allocator recycles those itself).
const POOLED: usize = 1 << 20;

/// Outputs at least this large would be written through staged blocks and streaming
/// stores: by default none (`usize::MAX`). Measured with `examples/memory_floor` (160 MB,
/// 2 threads, same run): a pooled output written through 32 KB staged blocks and
/// streaming stores took 5.29 ms idle against 4.01 ms for normal stores into the same
/// kind of resident memory (last wave), and 60 / 82 ms against 44 / 56 ms in two loaded
/// runs this wave, with AVX2 line-wide streaming stores: the staging copy costs more than
/// the read-for-ownership it saves. So pooled outputs are written in place with normal
/// stores. (On a quiet machine streaming stores into prefaulted memory did win, 5.85 against
/// 7.96 ms for 160 MB: which way pays depends on the machine, hence the switch.) `MLPIPE_STREAM_MB=N` streams outputs of N MB and more (to measure both ways).
const STREAMED: usize = usize::MAX;

/// [`STREAMED`], or `MLPIPE_STREAM_MB` MB when set.
fn streamed_bytes() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var("MLPIPE_STREAM_MB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .map_or(STREAMED, |mb| mb.saturating_mul(1 << 20))
    })
}

/// Values a task stages in cache before streaming them out: 32 KB of doubles.
const STAGE_BYTES: usize = 32 << 10;

/// The largest block [`staged`] stages (larger ones are written in place): a thread keeps
/// its staging block for the next call.
const MAX_STAGED: usize = 4 << 20;

/// The most regions the pool keeps. Every partition of a vector column is several outputs
/// (values, indices, offsets, row kinds, sizes): a column of 20 partitions returns 40
/// regions or more, and a pool that kept fewer than a transform's outputs would unmap the
/// surplus after every run, so that the next run faulted them in again. (The benchmark's
/// stages, on 2 partitions, fault nothing after their first run with either bound.) The
/// byte bound ([`POOL_MB_DEFAULT`]) is the real bound; this one only caps the free list's
/// length (a linear scan per output).
pub(crate) const POOL_REGIONS: usize = 256;

/// The pool's default size bound, in MB (`MLPIPE_BUFFER_POOL_MB` overrides it).
pub(crate) const POOL_MB_DEFAULT: usize = 512;

/// Whether large outputs may use transparent huge pages (`MLPIPE_NO_HUGE_PAGES` unset).
fn huge_pages_wanted() -> bool {
    static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WANTED.get_or_init(|| std::env::var_os("MLPIPE_NO_HUGE_PAGES").is_none())
}

/// The pool's size bound in bytes: `MLPIPE_BUFFER_POOL_MB` (0 turns the pool off), else
/// [`POOL_MB_DEFAULT`].
fn pool_bytes() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var("MLPIPE_BUFFER_POOL_MB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(POOL_MB_DEFAULT)
            .saturating_mul(1 << 20)
    })
}

/// A page-aligned anonymous memory mapping of `bytes` bytes (a multiple of [`HUGE_PAGE`])
/// for one large output, huge-page advised when it is fresh. Dropping it gives it back to
/// the [`POOL`] (or unmaps it when the pool is full or off); the pool hands it out again
/// with its pages already faulted in. Its contents are whatever was last written.
pub(crate) struct Region {
    ptr: std::ptr::NonNull<u8>,
    bytes: usize,
}

// SAFETY: a Region owns its mapping exclusively; the bytes carry no thread affinity.
unsafe impl Send for Region {}
// SAFETY: as above; shared access only reads through Arrow buffers.
unsafe impl Sync for Region {}

/// Free regions kept for reuse, and their total size.
struct Pool {
    free: Vec<Region>,
    bytes: usize,
}

/// The process-wide pool of free output regions.
static POOL: std::sync::Mutex<Pool> = std::sync::Mutex::new(Pool {
    free: Vec::new(),
    bytes: 0,
});

fn pool() -> std::sync::MutexGuard<'static, Pool> {
    // A panic while the lock was held left the pool's list consistent (every change to it
    // is one push or remove): keep using it.
    POOL.lock().unwrap_or_else(|e| e.into_inner())
}

impl Region {
    /// A region of at least `bytes` bytes: the smallest free region of the pool that
    /// fits and wastes at most a quarter (plus one huge page), else a fresh mapping.
    /// `None` when the system refuses the mapping.
    fn new(bytes: usize) -> Option<Region> {
        let want = bytes.checked_add(HUGE_PAGE - 1)? & !(HUGE_PAGE - 1);
        {
            let mut p = pool();
            let best = p
                .free
                .iter()
                .enumerate()
                .filter(|(_, r)| r.bytes >= want && r.bytes <= want + want / 4 + HUGE_PAGE)
                .min_by_key(|(_, r)| r.bytes)
                .map(|(i, _)| i);
            if let Some(i) = best {
                let r = p.free.swap_remove(i);
                p.bytes -= r.bytes;
                return Some(r);
            }
        }
        Region::map(want)
    }

    /// A fresh mapping of `bytes` (a multiple of [`HUGE_PAGE`]), aligned to a huge page
    /// and advised into huge pages.
    #[cfg(unix)]
    fn map(bytes: usize) -> Option<Region> {
        let span = bytes.checked_add(HUGE_PAGE)?;
        // SAFETY: a new private anonymous mapping; nothing else refers to it.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                span,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return None;
        }
        let start = (base as usize + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
        let (head, tail) = (
            start - base as usize,
            base as usize + span - (start + bytes),
        );
        // SAFETY: the head and tail lie inside the mapping just made and outside the
        // region kept; unmapping them leaves [start, start + bytes) mapped.
        unsafe {
            if head > 0 {
                libc::munmap(base, head);
            }
            if tail > 0 {
                libc::munmap((start + bytes) as *mut libc::c_void, tail);
            }
            #[cfg(target_os = "linux")]
            if huge_pages_wanted() {
                libc::madvise(start as *mut libc::c_void, bytes, libc::MADV_HUGEPAGE);
            }
        }
        Some(Region {
            ptr: std::ptr::NonNull::new(start as *mut u8)?,
            bytes,
        })
    }

    #[cfg(not(unix))]
    fn map(_bytes: usize) -> Option<Region> {
        None
    }

    /// The region's memory as `len` uninitialised values of `T` (`len · size_of::<T>()`
    /// must fit in the region).
    fn slice_mut<T>(&mut self, len: usize) -> &mut [MaybeUninit<T>] {
        assert!(len * std::mem::size_of::<T>() <= self.bytes);
        // SAFETY: the mapping is page aligned (so aligned for T), owned exclusively, and
        // holds at least `len` values of T.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().cast(), len) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        let limit = pool_bytes();
        let mut p = pool();
        if self.bytes <= limit {
            // Make room: the oldest free regions go first.
            while !p.free.is_empty()
                && (p.free.len() >= POOL_REGIONS || p.bytes + self.bytes > limit)
            {
                let old = p.free.remove(0);
                p.bytes -= old.bytes;
                // SAFETY: `old` is a mapping this module made and nothing refers to it.
                unsafe { unmap(&old) };
                std::mem::forget(old);
            }
            if p.bytes + self.bytes <= limit {
                p.bytes += self.bytes;
                p.free.push(Region {
                    ptr: self.ptr,
                    bytes: self.bytes,
                });
                return;
            }
        }
        drop(p);
        // SAFETY: as above: this region's mapping, no longer referred to.
        unsafe { unmap(self) };
    }
}

/// Unmaps `r`'s memory.
///
/// # Safety
/// Nothing may refer to the memory afterwards, and `r` must not be unmapped twice.
unsafe fn unmap(r: &Region) {
    #[cfg(unix)]
    // SAFETY: the caller's contract.
    unsafe {
        libc::munmap(r.ptr.as_ptr().cast(), r.bytes);
    }
    #[cfg(not(unix))]
    let _ = r;
}

/// Memory for one output that becomes an Arrow buffer of `len` values of `T`: an ordinary
/// vector when small, a pooled [`Region`] from [`POOLED`] bytes up. Write every value
/// through [`spare`](Self::spare) (from [`STREAMED`] bytes (`MLPIPE_STREAM_MB`) up through [`stage`] blocks and
/// [`stream_into`]: see [`is_large`](Self::is_large)), then [`finish`](Self::finish).
pub(crate) struct Output<T> {
    len: usize,
    mem: OutputMem<T>,
}

enum OutputMem<T> {
    Vec(Vec<T>),
    Region(Region),
}

impl<T: arrow::datatypes::ArrowNativeType> Output<T> {
    /// Room for exactly `len` values (unwritten).
    pub(crate) fn new(len: usize) -> Self {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        let mem = if bytes >= POOLED {
            Region::new(bytes).map(OutputMem::Region)
        } else {
            None
        };
        let mem = mem.unwrap_or_else(|| OutputMem::Vec(with_exact_capacity(len)));
        Output { len, mem }
    }

    /// Whether this output is large: written through staged blocks and streaming stores.
    pub(crate) fn is_large(&self) -> bool {
        self.len.saturating_mul(std::mem::size_of::<T>()) >= streamed_bytes()
    }

    /// `len` copies of `value`, written in parallel: for the per-row arrays of a vector
    /// column (row kinds, sizes, offsets to be rewritten) that are written whole before
    /// being read.
    pub(crate) fn filled(len: usize, value: T) -> Self
    where
        T: Send + Sync,
    {
        let mut out = Output::new(len);
        out.spare()
            .par_chunks_mut(TASK_VALUES)
            .for_each(|c| c.fill(MaybeUninit::new(value)));
        out
    }

    /// The values of an output whose every value has been written (by
    /// [`filled`](Self::filled), or through [`spare`](Self::spare)).
    ///
    /// # Safety
    /// Every one of the `len` values must have been written.
    pub(crate) unsafe fn values_mut(&mut self) -> &mut [T] {
        let s = self.spare();
        // SAFETY: initialised (the caller's contract); MaybeUninit<T> has T's layout.
        unsafe { &mut *(s as *mut [MaybeUninit<T>] as *mut [T]) }
    }

    /// The `len` values to write.
    pub(crate) fn spare(&mut self) -> &mut [MaybeUninit<T>] {
        let len = self.len;
        match &mut self.mem {
            OutputMem::Vec(v) => &mut v.spare_capacity_mut()[..len],
            OutputMem::Region(r) => r.slice_mut(len),
        }
    }

    /// The written values as an Arrow buffer (a pooled region goes back to the pool when
    /// the last buffer over it is dropped).
    ///
    /// # Safety
    /// Every one of the `len` values must have been written.
    pub(crate) unsafe fn finish(self) -> arrow::buffer::ScalarBuffer<T> {
        match self.mem {
            OutputMem::Vec(mut v) => {
                // SAFETY: the caller wrote all `len` values of the spare capacity.
                unsafe { v.set_len(self.len) };
                arrow::buffer::ScalarBuffer::from(v)
            }
            OutputMem::Region(r) => {
                let bytes = self.len * std::mem::size_of::<T>();
                let ptr = r.ptr;
                // SAFETY: `ptr` points at `bytes` initialised bytes (the caller's
                // contract) that the region owns and keeps alive.
                let b = unsafe {
                    arrow::buffer::Buffer::from_custom_allocation(
                        ptr,
                        bytes,
                        std::sync::Arc::new(r),
                    )
                };
                arrow::buffer::ScalarBuffer::new(b, 0, self.len)
            }
        }
    }
}

/// The offsets `0, step, 2·step, …, rows·step` of a list column whose `rows` rows all
/// hold `step` values, written in parallel into an [`Output`] (the caller has checked
/// that `rows · step` fits in an `i32`).
pub(crate) fn regular_offsets(rows: usize, step: usize) -> arrow::buffer::ScalarBuffer<i32> {
    let mut out = Output::<i32>::new(rows + 1);
    out.spare()
        .par_chunks_mut(TASK_VALUES)
        .enumerate()
        .for_each(|(t, c)| {
            for (i, v) in c.iter_mut().enumerate() {
                v.write(((t * TASK_VALUES + i) * step) as i32);
            }
        });
    // SAFETY: every value written above.
    unsafe { out.finish() }
}

/// Copies `src` into `dst` (same length) with non-temporal stores where the target has
/// them (x86-64's `vmovntdq` with AVX2, a whole 64-byte cache line in two stores, else
/// SSE2's 16-byte `movntdq`): whole cache lines written without being read first and
/// without displacing the cache. Call [`stream_fence`] after the last copy of a task,
/// before the values are handed to other threads.
pub(crate) fn stream_into<T: Copy>(src: &[T], dst: &mut [MaybeUninit<T>]) {
    assert_eq!(src.len(), dst.len());
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_stream_si128};
        let size = std::mem::size_of::<T>();
        let len = src.len();
        let d = dst.as_mut_ptr().cast::<T>();
        let s = src.as_ptr();
        // Plain stores up to the first 64-byte (cache line) boundary of `dst`: every
        // streamed line is then written whole, by consecutive stores.
        let mut i = 0;
        while i < len && (d as usize + i * size) % 64 != 0 {
            // SAFETY: i < len, in bounds of both slices.
            unsafe { d.add(i).write(*s.add(i)) };
            i += 1;
        }
        if i < len && (d as usize + i * size) % 64 == 0 && 64 % size == 0 {
            let lines = (len - i) * size / 64;
            if lines > 0 && std::is_x86_feature_detected!("avx2") {
                // SAFETY: `lines` whole lines from value `i` on lie in both slices; the
                // destination is 64-byte aligned there; the CPU has AVX2 (checked).
                unsafe { stream_lines_avx2(s.add(i).cast(), d.add(i).cast(), lines) };
                i += lines * 64 / size;
            }
            let per = 16 / size;
            while i + per <= len {
                // SAFETY: [i, i + per) is in bounds of both slices; the destination is
                // 16-byte aligned (a multiple of 16 bytes past a line boundary); SSE2 is
                // part of x86-64.
                unsafe {
                    let v = _mm_loadu_si128(s.add(i).cast::<__m128i>());
                    _mm_stream_si128(d.add(i).cast::<__m128i>(), v);
                }
                i += per;
            }
        }
        while i < len {
            // SAFETY: i < len.
            unsafe { d.add(i).write(*s.add(i)) };
            i += 1;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    for (d, s) in dst.iter_mut().zip(src) {
        d.write(*s);
    }
}

/// `lines` 64-byte lines from `s` streamed to `d` (64-byte aligned), each in two 32-byte
/// AVX2 non-temporal stores.
///
/// # Safety
/// The CPU must have AVX2; `s` and `d` must each hold `lines · 64` bytes, `d` aligned to 64.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn stream_lines_avx2(s: *const u8, d: *mut u8, lines: usize) {
    use std::arch::x86_64::{__m256i, _mm256_loadu_si256, _mm256_stream_si256};
    for k in 0..lines {
        // SAFETY: line k lies in both buffers (the caller's contract); `d + 64k` and
        // `d + 64k + 32` are 32-byte aligned.
        unsafe {
            let a = _mm256_loadu_si256(s.add(k * 64).cast::<__m256i>());
            let b = _mm256_loadu_si256(s.add(k * 64 + 32).cast::<__m256i>());
            _mm256_stream_si256(d.add(k * 64).cast::<__m256i>(), a);
            _mm256_stream_si256(d.add(k * 64 + 32).cast::<__m256i>(), b);
        }
    }
}

/// Orders this thread's earlier [`stream_into`] stores before its later stores (x86-64's
/// `sfence`; non-temporal stores are otherwise weakly ordered), so that a thread that
/// synchronises with this one afterwards sees them. Once per task, not per copy: a fence
/// waits for every pending streamed line.
pub(crate) fn stream_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

thread_local! {
    /// Each thread's staging blocks, reused from call to call (a fresh block of a few
    /// hundred KB per call would be a fresh mapping, or a heap top trimmed and regrown,
    /// faulting in its pages every time). A stack: nested calls (a builder staging its
    /// index and value parts at once, or `f` running another task on this thread) each
    /// take their own block.
    static SCRATCH: std::cell::RefCell<Vec<Vec<u64>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` on a scratch block of `len` uninitialised values of `T` (at most 8-byte
/// aligned) taken from this thread's [`SCRATCH`] and put back after.
fn with_scratch<T: Copy, R>(len: usize, f: impl FnOnce(&mut [MaybeUninit<T>]) -> R) -> R {
    assert!(std::mem::align_of::<T>() <= 8);
    let words = (len * std::mem::size_of::<T>()).div_ceil(8);
    let mut buf = SCRATCH.with(|c| c.borrow_mut().pop()).unwrap_or_default();
    if buf.capacity() < words {
        buf = Vec::with_capacity(words);
    }
    // SAFETY: the vector's capacity holds `words` u64s, i.e. at least `len` values of T,
    // suitably aligned (align_of::<T>() <= 8); the values are handed out uninitialised.
    let block =
        unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast::<MaybeUninit<T>>(), len) };
    let r = f(block);
    SCRATCH.with(|c| c.borrow_mut().push(buf));
    r
}

/// Writes all of `dst` through `write` (which must write every value it is given when it
/// returns `Ok`): straight into `dst`, or, when `streamed`, into a scratch block that
/// [`stream_into`] then copies out (only on `Ok`). For writers that fill a bounded block
/// (a few hundred KB, at most [`MAX_STAGED`] bytes staged) of a large [`Output`] at once.
pub(crate) fn staged<T: Copy, R>(
    dst: &mut [MaybeUninit<T>],
    streamed: bool,
    write: impl FnOnce(&mut [MaybeUninit<T>]) -> crate::Result<R>,
) -> crate::Result<R> {
    if !streamed || dst.is_empty() || std::mem::size_of_val(dst) > MAX_STAGED {
        return write(dst);
    }
    with_scratch(dst.len(), |buf| {
        let r = write(buf)?;
        // SAFETY: `write` returned Ok, so it wrote every value of `buf` (the contract).
        let b = unsafe { &*(buf as *const [MaybeUninit<T>] as *const [T]) };
        stream_into(b, dst);
        stream_fence();
        Ok(r)
    })
}

/// Writes `dst` through `fill`, in staged blocks of `unit`-value units (whole rows) when
/// `streamed`: `fill(first_unit, block)` writes every value of a cache-resident block,
/// which [`stream_into`] then copies out; otherwise `fill` writes `dst` directly. Units
/// wider than the staging block are written directly.
fn stage<T: Copy>(
    dst: &mut [MaybeUninit<T>],
    unit: usize,
    streamed: bool,
    fill: impl Fn(usize, &mut [MaybeUninit<T>]),
) {
    let per = (STAGE_BYTES / std::mem::size_of::<T>().max(1) / unit.max(1)) * unit.max(1);
    if !streamed || per == 0 || dst.len() <= per / 2 {
        fill(0, dst);
        return;
    }
    with_scratch(per.min(dst.len()), |buf| {
        for (k, d) in dst.chunks_mut(per).enumerate() {
            let b = &mut buf[..d.len()];
            fill(k * (per / unit.max(1)), b);
            // SAFETY: `fill` wrote every value of `b` (the callers' contract).
            let b = unsafe { &*(b as *const [MaybeUninit<T>] as *const [T]) };
            stream_into(b, d);
        }
    });
    stream_fence();
}

/// Asks the kernel to back the whole 2 MB pages inside `v`'s spare capacity with huge
/// pages. Advice only: nothing changes if the kernel declines.
fn advise_huge_pages<T>(v: &mut Vec<T>) {
    advise_range(v.spare_capacity_mut());
}

/// [`advise_huge_pages`] on the memory of `mem` (values not yet written, or zeros the
/// kernel has not yet faulted in).
fn advise_range<T>(mem: &mut [MaybeUninit<T>]) {
    #[cfg(target_os = "linux")]
    {
        let start = mem.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(mem);
        let first = (start + HUGE_PAGE - 1) & !(HUGE_PAGE - 1);
        let last = end & !(HUGE_PAGE - 1);
        if last > first {
            // SAFETY: [first, last) lies inside the allocation `v` owns, and MADV_HUGEPAGE
            // only changes how untouched pages of it will be backed, never their contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = mem;
}

/// `len` zeros for an output that parallel tasks fill block by block: a large one is
/// freshly mapped zero memory, which is advised into huge pages before anything touches
/// it, so the tasks' first writes fault in 2 MB pages, not 4 KB ones.
pub(crate) fn zeroed(len: usize) -> Vec<f64> {
    let mut v = vec![0.0; len];
    if len * 8 >= 2 * HUGE_PAGE && huge_pages_wanted() {
        // SAFETY: the zeros are initialised f64s; viewing them as MaybeUninit only gives
        // the advice call their address range, and nothing is written through it.
        let mem = unsafe {
            std::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<MaybeUninit<f64>>(), len)
        };
        advise_range(mem);
    }
    v
}

/// An empty vector with room for exactly `len` values, whose large untouched memory is
/// advised into huge pages (as [`par_build`] does): for outputs that parallel tasks fill
/// through `spare_capacity_mut` before `set_len`, so no page is zeroed by user code.
pub(crate) fn with_exact_capacity<T>(len: usize) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(len);
    if len * std::mem::size_of::<T>() >= 2 * HUGE_PAGE && huge_pages_wanted() {
        advise_huge_pages(&mut out);
    }
    out
}

/// A vector of `rows · n` values built in parallel: `fill(first_row, block)` writes every
/// value of `block` (whole rows, row-major, starting at row `first_row`) with
/// `MaybeUninit::write`.
///
/// # Safety
/// `fill` must write every element of each block it is given; the result is assumed
/// initialised.
pub(crate) unsafe fn par_build(
    rows: usize,
    n: usize,
    fill: impl Fn(usize, &mut [MaybeUninit<f64>]) + Sync,
) -> Vec<f64> {
    let len = rows * n;
    if len == 0 {
        return Vec::new();
    }
    let mut out: Vec<f64> = with_exact_capacity(len);
    let task_rows = (TASK_VALUES / n).max(1);
    out.spare_capacity_mut()[..len]
        .par_chunks_mut(task_rows * n)
        .enumerate()
        .for_each(|(t, dst)| fill(t * task_rows, dst));
    // SAFETY: the chunks above cover `out[..len]` exactly, and the caller promises that
    // `fill` wrote every element of each.
    unsafe { out.set_len(len) };
    out
}

/// [`par_build`] for an output that becomes an Arrow buffer: the same `fill` contract, the
/// memory an [`Output`] (a pooled, already faulted region when large, written through
/// cache-resident blocks and streaming stores).
///
/// # Safety
/// `fill` must write every element of each block it is given; the result is assumed
/// initialised.
pub(crate) unsafe fn par_build_buffer(
    rows: usize,
    n: usize,
    fill: impl Fn(usize, &mut [MaybeUninit<f64>]) + Sync,
) -> arrow::buffer::ScalarBuffer<f64> {
    // SAFETY: the caller's contract.
    unsafe { build_buffer(rows, n, None, fill) }
}

/// [`par_build_buffer`], staged and streamed when `streamed` says so (`None`: when the
/// output [is large](Output::is_large)).
///
/// # Safety
/// As [`par_build_buffer`]'s.
unsafe fn build_buffer(
    rows: usize,
    n: usize,
    streamed: Option<bool>,
    fill: impl Fn(usize, &mut [MaybeUninit<f64>]) + Sync,
) -> arrow::buffer::ScalarBuffer<f64> {
    let len = rows * n;
    if len == 0 {
        return arrow::buffer::ScalarBuffer::from(Vec::new());
    }
    let mut out = Output::<f64>::new(len);
    let streamed = streamed.unwrap_or(out.is_large());
    let task_rows = (TASK_VALUES / n).max(1);
    out.spare()
        .par_chunks_mut(task_rows * n)
        .enumerate()
        .for_each(|(t, dst)| stage(dst, n, streamed, |r, b| fill(t * task_rows + r, b)));
    // SAFETY: the chunks above cover the output exactly, and the caller promises that
    // `fill` wrote every element of each block (`stage` hands each value to `fill` once).
    unsafe { out.finish() }
}

/// Several outputs of `lens[k]` values each, built in parallel into ONE [`Output`] (pooled
/// and streamed when large, as [`par_build_buffer`]'s) and returned as slices of it, in order:
/// `fill(k, first, block)` writes every value of `block`, output `k`'s values `first ..`.
/// For stages that write many small columns (one per input column and partition): each
/// alone would be a small fresh allocation, faulted in 4 KB pages (about 4x slower to
/// first-touch than huge pages), and one task per output would leave threads idle.
/// Every output keeps the whole allocation alive until the last one is dropped.
///
/// # Safety
/// `fill` must write every element of each block it is given; the result is assumed
/// initialised.
pub(crate) unsafe fn par_build_parts(
    lens: &[usize],
    fill: impl Fn(usize, usize, &mut [MaybeUninit<f64>]) + Sync,
) -> Vec<arrow::buffer::ScalarBuffer<f64>> {
    let total: usize = lens.iter().sum();
    let mut out = Output::<f64>::new(total);
    let streamed = out.is_large();
    {
        // Tasks of up to TASK_VALUES values, never straddling two outputs.
        let mut tasks: Vec<(usize, usize, &mut [MaybeUninit<f64>])> = Vec::new();
        let mut rest = out.spare();
        for (k, &len) in lens.iter().enumerate() {
            let (mine, after) = rest.split_at_mut(len);
            rest = after;
            for (t, block) in mine.chunks_mut(TASK_VALUES).enumerate() {
                tasks.push((k, t * TASK_VALUES, block));
            }
        }
        tasks
            .into_par_iter()
            .for_each(|(k, first, block)| stage(block, 1, streamed, |i, b| fill(k, first + i, b)));
    }
    // SAFETY: the tasks cover the output exactly, and the caller promises that `fill`
    // wrote every element of each block.
    let buffer = unsafe { out.finish() }.into_inner();
    let mut offset = 0;
    lens.iter()
        .map(|&len| {
            let b = arrow::buffer::ScalarBuffer::new(buffer.clone(), offset, len);
            offset += len;
            b
        })
        .collect()
}

/// Hands the heap memory freed so far back to the operating system (glibc's
/// `malloc_trim`; nothing on other C libraries). glibc keeps freed blocks below its mmap
/// threshold (which grows to 32 MB as large blocks are freed) in its arenas for reuse, up
/// to 64 MB free at the top of each arena and any amount below live blocks: after a phase
/// that made and dropped many mid-sized arrays (a cross-validation fold), that memory would
/// stay resident while the next phase allocates afresh in other arenas. The output pool's
/// free regions are unmapped too.
pub(crate) fn release_free_memory() {
    let free = {
        let mut p = pool();
        p.bytes = 0;
        std::mem::take(&mut p.free)
    };
    for r in free {
        // SAFETY: a free region: nothing refers to its memory.
        unsafe { unmap(&r) };
        std::mem::forget(r);
    }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free heap pages to the kernel; it touches no live
    // allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A numeric or boolean column's values as f64, as Arrow's `cast` to Float64 gives them:
/// Int32 and Int64 converted into pooled output memory ([`par_build_buffer`]: no fresh
/// pages to fault in on every fit or transform), other types through `cast`. Nulls are
/// not carried: the caller takes them from `a`.
///
/// # Errors
/// `cast`'s error for a type it cannot make Float64.
pub(crate) fn numeric_as_f64(
    a: &arrow::array::ArrayRef,
) -> crate::error::Result<arrow::buffer::ScalarBuffer<f64>> {
    use arrow::array::AsArray;
    use arrow::datatypes::{Int32Type, Int64Type};
    fn convert<T: Copy + Sync>(
        v: &[T],
        f: impl Fn(T) -> f64 + Sync,
    ) -> arrow::buffer::ScalarBuffer<f64> {
        // SAFETY: the closure writes every value of its block.
        unsafe {
            par_build_buffer(v.len(), 1, |first, block| {
                for (o, x) in block.iter_mut().zip(&v[first..]) {
                    o.write(f(*x));
                }
            })
        }
    }
    Ok(match a.data_type() {
        arrow::datatypes::DataType::Int32 => {
            convert(a.as_primitive::<Int32Type>().values(), f64::from)
        }
        arrow::datatypes::DataType::Int64 => {
            convert(a.as_primitive::<Int64Type>().values(), |x| x as f64)
        }
        _ => {
            let c = arrow::compute::cast(a, &arrow::datatypes::DataType::Float64)?;
            let f = c
                .as_any()
                .downcast_ref::<arrow::array::Float64Array>()
                .ok_or_else(|| crate::error::Error::Internal("cast to Float64".into()))?;
            f.values().clone()
        }
    })
}

/// The output-memory floor's entry points (`examples/memory_floor.rs`): each of the ways
/// this module can write a large output, on a plain copy (`dst[i] = src[i]`), so that the
/// example can time them against one read of the same bytes. Not part of the API.
#[doc(hidden)]
pub mod floor {
    use super::*;

    /// `src` copied into a fresh vector from `par_build` (huge-page advised, normal
    /// stores): how outputs were written before the pool.
    pub fn copy_fresh(src: &[f64], n: usize) -> Vec<f64> {
        // SAFETY: every block is written whole from `src`.
        unsafe { par_build(src.len() / n, n, |first, b| copy_block(src, first * n, b)) }
    }

    /// `src` copied into an `Output` by `par_build_buffer` (pooled region; staged blocks
    /// and streaming stores only from `MLPIPE_STREAM_MB`): how large outputs are written.
    pub fn copy_output(src: &[f64], n: usize) -> arrow::buffer::ScalarBuffer<f64> {
        // SAFETY: every block is written whole from `src`.
        unsafe { par_build_buffer(src.len() / n, n, |first, b| copy_block(src, first * n, b)) }
    }

    /// [`copy_output`] written straight into the pooled region with normal stores (no
    /// staging, no streaming stores): what streaming saves, or costs.
    pub fn copy_output_direct(src: &[f64], n: usize) -> arrow::buffer::ScalarBuffer<f64> {
        // SAFETY: every block is written whole from `src`.
        unsafe {
            build_buffer(src.len() / n, n, Some(false), |first, b| {
                copy_block(src, first * n, b)
            })
        }
    }

    /// `len` copies of `value` written into an `Output` by `par_build_buffer` (pooled
    /// region, as every large output is written): writing an output of a given size with
    /// no source to read, the write half of a transform's read + write floor.
    pub fn fill_output(len: usize, value: f64) -> arrow::buffer::ScalarBuffer<f64> {
        // SAFETY: every value of every block is written.
        unsafe {
            par_build_buffer(len, 1, |_, b| {
                for v in b {
                    v.write(value);
                }
            })
        }
    }

    /// The columns `cols` copied into one `Output` by `par_build_parts`.
    pub fn copy_columns(cols: &[&[f64]]) -> Vec<arrow::buffer::ScalarBuffer<f64>> {
        let lens: Vec<usize> = cols.iter().map(|c| c.len()).collect();
        // SAFETY: every block is written whole from its column.
        unsafe { par_build_parts(&lens, |k, first, b| copy_block(cols[k], first, b)) }
    }

    /// `src` copied into the existing `dst` in parallel blocks, with streaming stores
    /// (`stream`) or normal ones.
    pub fn copy_into(src: &[f64], dst: &mut [f64], stream: bool) {
        // SAFETY: f64 and MaybeUninit<f64> have the same layout; every value is written.
        let dst = unsafe { &mut *(dst as *mut [f64] as *mut [MaybeUninit<f64>]) };
        dst.par_chunks_mut(TASK_VALUES)
            .enumerate()
            .for_each(|(t, d)| {
                let s = &src[t * TASK_VALUES..t * TASK_VALUES + d.len()];
                if stream {
                    stream_into(s, d);
                    stream_fence();
                } else {
                    copy_block(src, t * TASK_VALUES, d);
                }
            });
    }

    /// Free regions in the pool and their total bytes.
    pub fn pool_state() -> (usize, usize) {
        let p = pool();
        (p.free.len(), p.bytes)
    }

    fn copy_block(src: &[f64], first: usize, b: &mut [MaybeUninit<f64>]) {
        for (o, x) in b.iter_mut().zip(&src[first..]) {
            o.write(*x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_every_row_in_order() {
        for (rows, n) in [(0, 3), (1, 1), (5, 3), (100_000, 7), (70_001, 20)] {
            // SAFETY: the closure writes every element of its block.
            let v = unsafe {
                par_build(rows, n, |first, block| {
                    for (r, row) in block.chunks_mut(n).enumerate() {
                        for (j, x) in row.iter_mut().enumerate() {
                            x.write(((first + r) * n + j) as f64);
                        }
                    }
                })
            };
            assert_eq!(v.len(), rows * n);
            assert!(
                v.iter().enumerate().all(|(i, x)| *x == i as f64),
                "{rows}x{n}"
            );
        }
    }
    #[test]
    fn streams_any_alignment_and_width() {
        let src: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
        let ints: Vec<i32> = (0..1000).collect();
        for start in 0..4 {
            for len in [0, 1, 3, 17, 500, 997 - start] {
                let mut d = vec![MaybeUninit::new(-1.0); 1000];
                stream_into(&src[..len], &mut d[start..start + len]);
                stream_fence();
                assert!((0..len).all(|i| unsafe { d[start + i].assume_init() } == src[i]));
                let mut e = vec![MaybeUninit::new(-1); 1000];
                stream_into(&ints[..len], &mut e[start..start + len]);
                stream_fence();
                assert!((0..len).all(|i| unsafe { e[start + i].assume_init() } == ints[i]));
                // Nothing written outside the target.
                assert!(start == 0 || unsafe { d[start - 1].assume_init() } == -1.0);
            }
        }
    }

    #[test]
    fn large_outputs_reuse_pooled_regions() {
        // 37 MB: an odd size no other test's output takes from the pool meanwhile.
        let (rows, n) = (242_500, 20);
        let fill = |first: usize, block: &mut [MaybeUninit<f64>]| {
            for (i, x) in block.iter_mut().enumerate() {
                x.write((first * n + i) as f64);
            }
        };
        // SAFETY: `fill` writes every element of its block.
        let a = unsafe { par_build_buffer(rows, n, fill) };
        assert_eq!(a.len(), rows * n);
        assert!(a.iter().enumerate().all(|(i, x)| *x == i as f64));
        let ptr = a.as_ptr();
        drop(a);
        if pool_bytes() >= 40 << 20 {
            // The region came back to the pool and is handed out again (pages already
            // faulted in), its old contents overwritten.
            // SAFETY: as above.
            let b = unsafe { par_build_buffer(rows, n, |f, blk| fill(f + 1, blk)) };
            assert_eq!(b.as_ptr(), ptr);
            assert!(b.iter().enumerate().all(|(i, x)| *x == (i + n) as f64));
        }
    }

    #[test]
    fn the_pool_keeps_a_bounded_number_of_regions() {
        let mut o = Output::<u8>::new(5 << 20);
        assert!(matches!(o.mem, OutputMem::Region(_)));
        o.spare().fill(MaybeUninit::new(3));
        // SAFETY: every value written above.
        let o = unsafe { o.finish() };
        assert!(o.iter().all(|v| *v == 3));
        drop(o);
        // More free regions than the pool keeps (fresh mappings never touched: no memory).
        let regions: Vec<Region> = (0..POOL_REGIONS + 3)
            .map(|_| Region::map(HUGE_PAGE).expect("a 2 MB mapping"))
            .collect();
        drop(regions);
        let (regions, bytes) = floor::pool_state();
        assert!(regions <= POOL_REGIONS, "{regions} regions");
        assert!(bytes <= pool_bytes(), "{bytes} bytes");
    }

    #[test]
    fn a_transform_with_many_partitions_gets_all_its_regions_back() {
        // 40 outputs of 10 MB, as a 20-partition vector column's values and indices: all
        // 40 regions come back from the pool on the next run (last wave's pool kept 32,
        // and unmapped the rest after every run). Mappings never touched: no memory.
        let (outputs, bytes) = (40, 5 * HUGE_PAGE);
        if pool_bytes() < outputs * bytes + (64 << 20) {
            return;
        }
        let first: Vec<Region> = (0..outputs).map(|_| Region::new(bytes).unwrap()).collect();
        let mut ptrs: Vec<usize> = first.iter().map(|r| r.ptr.as_ptr() as usize).collect();
        drop(first);
        let again: Vec<Region> = (0..outputs).map(|_| Region::new(bytes).unwrap()).collect();
        let mut back: Vec<usize> = again.iter().map(|r| r.ptr.as_ptr() as usize).collect();
        ptrs.sort_unstable();
        back.sort_unstable();
        assert_eq!(back, ptrs, "every region handed out again");
    }

    #[test]
    fn staged_writes_only_what_succeeded() {
        let mut d = vec![MaybeUninit::new(7.0); 100];
        let r: crate::Result<()> = staged(&mut d, true, |b| {
            b[0].write(1.0);
            Err(crate::Error::Internal("stop".into()))
        });
        assert!(r.is_err());
        assert!(d.iter().all(|v| unsafe { v.assume_init() } == 7.0));
        staged(&mut d, true, |b| {
            for (i, v) in b.iter_mut().enumerate() {
                v.write(i as f64);
            }
            Ok(())
        })
        .unwrap();
        assert!(d
            .iter()
            .enumerate()
            .all(|(i, v)| unsafe { v.assume_init() } == i as f64));
    }

    #[test]
    fn builds_every_part_in_order_in_one_allocation() {
        let lens = [0, 1, 5, 70_001, 3, 140_000];
        // SAFETY: the closure writes every element of its block.
        let parts = unsafe {
            par_build_parts(&lens, |k, first, block| {
                for (i, x) in block.iter_mut().enumerate() {
                    x.write((k * 1_000_000 + first + i) as f64);
                }
            })
        };
        assert_eq!(parts.len(), lens.len());
        for (k, (p, len)) in parts.iter().zip(lens).enumerate() {
            assert_eq!(p.len(), len);
            assert!(p
                .iter()
                .enumerate()
                .all(|(i, x)| *x == (k * 1_000_000 + i) as f64));
        }
        // One allocation: every part is a slice of the same buffer.
        assert!(parts
            .windows(2)
            .all(|w| w[0].inner().data_ptr() == w[1].inner().data_ptr()));
    }
}
