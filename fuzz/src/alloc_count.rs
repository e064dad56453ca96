//! A global allocator that counts, for the targets that drive the boot library: its
//! archive has no heap, so a boot call that allocates is a finding. A target installs
//! it with `#[global_allocator] static COUNTING: Counting = Counting;` and wraps each
//! boot call in [`no_alloc`].

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Forwards to the system allocator and counts the allocations.
pub struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Runs `call`, which must not allocate (when [`Counting`] is the global allocator).
pub fn no_alloc<T>(what: &str, call: impl FnOnce() -> T) -> T {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    let out = call();
    assert_eq!(ALLOCATIONS.load(Ordering::Relaxed), before, "{what} allocated");
    out
}
