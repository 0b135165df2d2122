//! Settings of the whole process that must be made before anything else runs: the
//! allocator ([`bot_allocator!`](crate::bot_allocator)) and the cap on glibc's malloc
//! arenas (for the C code that still uses glibc's malloc, SQLite). `main` applies
//! them first; the performance budget bench applies them too, so that what it
//! measures runs as the bot does.

pub use tikv_jemallocator::Jemalloc;

/// Declares the bot's allocator in a binary: jemalloc with one arena, returning
/// freed pages to the system at once (`dirty_decay_ms:0,muzzy_decay_ms:0`).
///
/// glibc's malloc took about two fifths of the pipeline's time (sled's nodes, tokens,
/// item keys, JSON). Measured with `cargo bench --bench budget`, back to back:
/// pipeline throughput 9,588-10,970 items/s over five runs against 8,031-8,498 with
/// glibc; the memory soak 66.1-66.5 MiB resident against 61.3-64.9 with glibc.
/// jemalloc's defaults (eight arenas, freed pages kept for 10 s) ran at 12,000
/// items/s but held 74 MiB; mimalloc ran at 11,400 but held 76-150 MiB.
#[macro_export]
macro_rules! bot_allocator {
    () => {
        #[global_allocator]
        static ALLOCATOR: $crate::process::Jemalloc = $crate::process::Jemalloc;

        /// jemalloc's options, read when it starts (a C string).
        #[unsafe(export_name = "_rjem_malloc_conf")]
        static MALLOC_CONF: &[u8] = b"narenas:1,dirty_decay_ms:0,muzzy_decay_ms:0\0";
    };
}

/// Caps glibc's malloc arenas at two. Rust allocates with jemalloc, but the C code
/// (SQLite, under the Matrix SDK's stores) still uses glibc's malloc, which by
/// default keeps up to eight arenas per core, one for each thread that allocates
/// while another does; free space in one is not reused by the others.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; callers call it at the start
    // of main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
