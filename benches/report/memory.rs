//! This process's memory: resident set from `/proc/self/statm`, the allocator's view (bytes in
//! use and bytes freed but kept) from glibc's `mallinfo2`, and glibc's `malloc_trim`, which
//! gives the memory freed but kept back to the system.

use serde::{Deserialize, Serialize};

/// One reading.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Memory {
    /// Resident set size, bytes.
    pub rss: u64,
    /// Bytes the allocator has handed out and not had back, chunk headers included (`None`
    /// where `mallinfo2` is not available).
    pub heap_in_use: Option<u64>,
    /// Bytes freed to the allocator and kept by it, not returned to the system.
    pub heap_free: Option<u64>,
}

impl Memory {
    /// Reads it now.
    pub fn now() -> Memory {
        let (heap_in_use, heap_free) = heap();
        Memory {
            rss: rss(),
            heap_in_use,
            heap_free,
        }
    }
}

fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * u64::try_from(page_size).unwrap_or(4096)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn heap() -> (Option<u64>, Option<u64>) {
    // SAFETY: mallinfo2 only reads the allocator's statistics.
    let info = unsafe { libc::mallinfo2() };
    let in_use = info.uordblks as u64 + info.hblkhd as u64;
    (Some(in_use), Some(info.fordblks as u64))
}

/// Gives the allocator's free memory back to the system (glibc's `malloc_trim`; elsewhere
/// nothing), so that the resident set holds only what is in use.
pub fn return_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap() -> (Option<u64>, Option<u64>) {
    (None, None)
}
