//! Cache prefetch hints. A capture of many short connections is bound by memory latency:
//! each connection's state (~3 KB) is read long after it was last touched, or on the other
//! core, and the next one to be read is known in advance (the next in a batch, the next to
//! be evicted), so it can be on its way into the cache while the current one is worked on.

/// Ask the CPU to bring every cache line of `*r` into this core's cache. A hint only: no
/// effect on the result, none at all on other architectures.
#[inline]
pub fn all<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = (r as *const T).cast::<i8>();
        for off in (0..std::mem::size_of::<T>()).step_by(64) {
            line(p.wrapping_add(off));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}

/// The first lines of a buffer's elements (up to [`SLICE_LINES`]): what a row reads of a
/// connection's queues and samples is at their start, and they are mostly short.
#[inline]
pub fn slice<T>(s: &[T]) {
    #[cfg(target_arch = "x86_64")]
    {
        let p = s.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(s).min(SLICE_LINES * 64);
        for off in (0..bytes).step_by(64) {
            line(p.wrapping_add(off));
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

/// Lines of a buffer [`slice`] fetches at most.
const SLICE_LINES: usize = 4;

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn line(p: *const i8) {
    // SAFETY: PREFETCHT0 (SSE, part of every x86_64 CPU) never faults, whatever the address,
    // and changes no memory: it only moves a line into the cache.
    unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) }
}
