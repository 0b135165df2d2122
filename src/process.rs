//! Settings of the whole process that must be made before anything else runs: the
//! allocator ([`bot_allocator!`](crate::bot_allocator)) and the cap on glibc's malloc
//! arenas (for the C code that still uses glibc's malloc, SQLite); and handing a
//! thread's cached memory back when its work is done. `main` applies the settings
//! first; the performance budget bench applies them too, so that what it measures
//! runs as the bot does.

use std::sync::atomic::{AtomicBool, Ordering};

pub use tikv_jemallocator::Jemalloc;

/// Declares the bot's allocator in a binary: jemalloc with one arena, keeping freed
/// pages for reuse for about a tenth of a second (`dirty_decay_ms:100,
/// muzzy_decay_ms:0`); the poller hands them all back whenever its fetches are done
/// ([`return_freed_pages`]). A thread caches at most 32 freed objects of each small
/// size and 4 of each size from 4 to 32 KiB for reuse (`tcache_nslots_small_max:32,
/// tcache_nslots_large:4`; jemalloc's defaults are 200 and 20).
///
/// glibc's malloc took about two fifths of the pipeline's time (sled's nodes, tokens,
/// item keys, JSON). Measured with `cargo bench --bench budget`, back to back:
/// pipeline throughput 9,588-10,970 items/s over five runs against 8,031-8,498 with
/// glibc; the memory soak 66.1-66.5 MiB resident against 61.3-64.9 with glibc (both
/// before the hot-function link of `scripts/link-hot-first`).
/// jemalloc's defaults (eight arenas, freed pages kept for 10 s) ran at 12,000
/// items/s but held 74 MiB; mimalloc ran at 11,400 but held 76-150 MiB.
///
/// Returning freed pages at once (`dirty_decay_ms:0`) cost the pipeline dearly: every
/// page sled's log buffers and the pipeline freed was unmapped and faulted back in,
/// 45,000 page faults per 10,000 items against 5,500-8,400 with pages kept for 1-5 s,
/// and about a third of its time in the kernel. Kept for 100 ms or for 1 s, the
/// pipeline ran alike (medians of 10,900 and 11,100 items/s over three alternating
/// runs, against 8,800 returning at once), but 1 s held about 1.2 MiB more in the
/// memory soak; 100 ms held no more than returning at once (37.3 and 36.9 MiB
/// resident).
///
/// Thread caches held about 7 MiB of the memory soak: with them off (`tcache:false`)
/// the bot's anonymous memory was 13.7 MiB instead of 20.5-22.4, and the pipeline ran
/// about a fifth slower. Only the bot's own threads hand their caches back where
/// their work ends (sled's seven I/O threads, for one, never do), so the caches are
/// kept smaller instead. With fewer slots per size the soak ended at 35.0 and 35.4
/// MiB (anonymous 16.9 and 17.3) against 38.4-39.3, and the pipeline ran alike:
/// medians of eight alternating runs 11,057 items/s against 11,149 with the default
/// slots (11,298 with only the larger sizes' slots cut). Caching nothing over 4 KiB
/// (`tcache_max:4096`) saved as much memory (35.8, 35.4 MiB) but cost the pipeline
/// 7% (10,419 against 11,185): objects of 4-32 KiB then go to the one shared arena
/// every time.
#[macro_export]
macro_rules! bot_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::process::Jemalloc = $crate::process::Jemalloc;

        /// jemalloc's options, read when it starts (a C string).
        #[unsafe(export_name = "_rjem_malloc_conf")]
        static MALLOC_CONF: &[u8] =
            b"narenas:1,dirty_decay_ms:100,muzzy_decay_ms:0,tcache_nslots_small_max:32,tcache_nslots_large:4\0";
    };
}

/// The most threads the bot's runtime runs blocking work on at once: parsing and
/// processing fetched feeds (one per core, see
/// [`feeds_processed_at_once`](crate::app::feeds_processed_at_once)), the Matrix
/// SDK's SQLite, commands. tokio's default of 512 would let a burst start hundreds,
/// each with its own stack and allocator caches; eight held about 3 MiB more than
/// four in the memory soak of `cargo bench --bench budget`.
pub const MAX_BLOCKING_THREADS: usize = 4;

/// Whether this process allocates with jemalloc: set by [`apply_bot_allocator_settings`].
static JEMALLOC_IN_USE: AtomicBool = AtomicBool::new(false);

/// The settings that go with [`bot_allocator!`]; a binary that declares it calls this
/// first in `main`, before any other thread exists.
///
/// - Caps glibc's malloc arenas at two. Rust allocates with jemalloc, but the C code
///   (SQLite, under the Matrix SDK's stores) still uses glibc's malloc, which by
///   default keeps up to eight arenas per core, one for each thread that allocates
///   while another does; free space in one is not reused by the others.
/// - Lets [`release_thread_cache`] act.
pub fn apply_bot_allocator_settings() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; callers call it at the start
    // of main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    JEMALLOC_IN_USE.store(true, Ordering::Relaxed);
}

/// Hands the memory this thread's jemalloc cache holds back to the shared arena.
///
/// Each thread keeps recently freed blocks for its next allocations; a thread that
/// has gone idle keeps them until it allocates again. The bot calls this where a
/// thread's burst of work ends: a feed processed on a blocking thread, a runtime
/// worker with nothing left to run. In the memory soak of `cargo bench --bench
/// budget` (100 feeds at 1 s) this kept about 1.5 MiB less resident, at no cost
/// measurable in its pipeline throughput (which releases after each feed, but does
/// not run the runtime's workers: the cost of releasing on every park was not
/// measured on its own). Does nothing where jemalloc is not the allocator (the
/// tests).
pub fn release_thread_cache() {
    // Acts only on the calling thread's cache; fails harmlessly where thread caches
    // are off.
    jemalloc_action(c"thread.tcache.flush");
}

/// Runs a jemalloc control that takes and gives no value (`thread.tcache.flush`,
/// `arena.<i>.purge`), if jemalloc is the allocator. A failure is an error code,
/// ignored: these only hand memory back.
fn jemalloc_action(name: &std::ffi::CStr) {
    if !JEMALLOC_IN_USE.load(Ordering::Relaxed) {
        return;
    }
    // SAFETY: `name` is a NUL-terminated control that takes no old or new value, so
    // the value pointers are null and the new length zero, as jemalloc requires.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

/// Hands the pages jemalloc keeps for reuse back to the system now.
///
/// Freed pages are kept for a moment so that a burst of work (a poll of many
/// feeds, sled's log buffers) reuses them instead of faulting fresh ones in; the
/// poller calls this when its last fetch in flight is done, so that a burst of polls
/// leaves nothing behind. Pages other tasks free (delivery, the Matrix sync) go back
/// as jemalloc's decay reaches them, which it does as the bot allocates. Does
/// nothing where jemalloc is not the allocator (the tests).
pub fn return_freed_pages() {
    // 4096 is MALLCTL_ARENAS_ALL: the unused dirty pages of every arena.
    jemalloc_action(c"arena.4096.purge");
}

/// Calls [`release_thread_cache`] when dropped. Made first in a closure that runs on
/// a thread of its own, it acts after everything else the closure owned is freed,
/// whichever way the closure ends.
pub struct ReleaseThreadCacheOnDrop;

impl Drop for ReleaseThreadCacheOnDrop {
    fn drop(&mut self) {
        release_thread_cache();
    }
}
