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

#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
#[inline]
fn line(p: *const i8) {
    // SAFETY: PREFETCHT0 (SSE, part of every x86_64 CPU) never faults, whatever the address,
    // and changes no memory: it only moves a line into the cache.
    unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) }
}
