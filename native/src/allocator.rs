//! The process's allocator: mimalloc (scoring and preprocessing make many small strings), and
//! one setting for the model, [`keep_freed_memory`]. The `squadkit` binary and the model
//! benchmark declare it as their `#[global_allocator]`, so benchmarks time what users run.

pub use mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (include/mimalloc.h: its options keep
/// their numbers, retired ones stay as `deprecated_` placeholders); libmimalloc-sys 0.1.49, the
/// version pinned in Cargo.toml, does not name it.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keep memory that tensors free for the next tensors instead of handing it back to the
/// kernel. The CPU backend allocates a fresh buffer for almost every op's result; by default
/// mimalloc returns freed pages after 10 ms (100 ms in its arenas), so each step's buffers came
/// back as fresh pages that the kernel faults in and zeroes again: a third of a tiny model's
/// train step (`perf`: page faults, `clear_page`). The resident size stays at the peak a run
/// reaches anyway. Call it first thing in `main`.
pub fn keep_freed_memory() {
    // SAFETY: `mi_option_set` takes an option number and a value and has no other
    // precondition; -1 means "never purge" (mimalloc.h). mimalloc reads this option on each
    // purge decision, so setting it after allocations have happened is fine.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_purge_delay_option_is_set() {
        super::keep_freed_memory();
        // SAFETY: `mi_option_get` only reads an option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, -1);
    }
}
