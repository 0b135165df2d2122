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
/// Why these settings (`docs/performance.md` has the figures):
/// - glibc's malloc was markedly slower for the pipeline's many small objects (sled's
///   nodes, tokens, item keys, JSON); jemalloc's defaults (eight arenas, pages kept
///   10 s) and mimalloc were as fast but held about twice the memory.
/// - Returning freed pages at once made the pipeline fault the same pages back in
///   over and over; kept for 100 ms they are reused within a feed's processing and
///   still handed back between polls.
/// - Thread caches are a large part of the bot's anonymous memory, and sled's I/O
///   threads never hand theirs back, so each thread caches fewer objects; caching
///   nothing over 4 KiB would send those sizes to the one shared arena every time.
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
/// each with its own stack and allocator caches; each thread beyond four holds memory
/// for the rest of the process's life.
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
/// worker with nothing left to run: an idle thread then holds no freed memory of its
/// own. (The cost of flushing on every park was not measured on its own; the
/// pipeline's throughput, which flushes after each feed, did not change.) Does
/// nothing where jemalloc is not the allocator (the tests).
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
