//! Settings of the whole process that must be made before anything else runs: the
//! cap on glibc's malloc arenas. `main` applies them first; the performance budget
//! bench applies them too, so that what it measures runs as the bot does.

/// Caps glibc's malloc arenas at two. By default glibc keeps up to eight per core,
/// one for each thread that allocates while another does; free space in one arena
/// is not reused by the others, so a long-running bot's resident memory creeps up
/// with every arena its bursts of feed work touched. One arena saved about 1 MiB
/// more in the budget's memory soak (18.5 against 19.6 MiB anonymous), but work on
/// both cores then waits on its lock: the budget bench's pipeline and parse-only
/// baseline both ran about 30% slower.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; callers call it at the start
    // of main, before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}
