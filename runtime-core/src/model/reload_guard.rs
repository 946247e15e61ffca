//! The fast-reload guard of `runtime.reload()` (Chromium's `ChromeRuntimeAPIDelegate::
//! ReloadExtension`).
//!
//! A reload installs a waiting update if there is one; otherwise an unpacked extension is
//! installed again from its folder (`onInstalled` `update`, with `previousVersion` equal to the
//! current version) and a packed one is just loaded again (no `onInstalled`). An extension that
//! reloads itself too often is terminated instead: packed, the 6th reload when each came within
//! 10 s of the previous one; unpacked, the 31st within 1 s of each other.

use std::time::Duration;

use runtime_events::SimInstant;

/// A reload within this long of the previous one is "fast", for a packed extension.
pub const FAST_RELOAD_TIME: Duration = Duration::from_secs(10);
/// A reload within this long of the previous one is "fast", for an unpacked extension.
pub const UNPACKED_FAST_RELOAD_TIME: Duration = Duration::from_secs(1);
/// After this many fast reloads in a row a packed extension is terminated.
pub const FAST_RELOAD_COUNT: u32 = 5;
/// After this many fast reloads in a row an unpacked extension is terminated.
pub const UNPACKED_FAST_RELOAD_COUNT: u32 = 30;

/// One extension's reload history in this run of the browser.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ReloadGuard {
    last: Option<SimInstant>,
    fast: u32,
}

impl ReloadGuard {
    /// Records a reload at `now`; returns the number of fast reloads in a row if the extension
    /// must be terminated instead.
    pub(crate) fn record(&mut self, now: SimInstant, unpacked: bool) -> Option<u32> {
        let (window, limit) = if unpacked {
            (UNPACKED_FAST_RELOAD_TIME, UNPACKED_FAST_RELOAD_COUNT)
        } else {
            (FAST_RELOAD_TIME, FAST_RELOAD_COUNT)
        };
        match self.last {
            Some(last) if now.saturating_duration_since(last) <= window => self.fast += 1,
            _ => self.fast = 0,
        }
        self.last = Some(now);
        (self.fast >= limit).then_some(self.fast)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimInstant {
        SimInstant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn the_sixth_packed_reload_within_ten_seconds_of_each_other_terminates() {
        let mut guard = ReloadGuard::default();
        for i in 0..5 {
            assert_eq!(
                guard.record(at(i * 10_000), false),
                None,
                "reload {}",
                i + 1
            );
        }
        assert_eq!(guard.record(at(50_000), false), Some(5));
    }

    #[test]
    fn a_slow_reload_starts_the_count_again() {
        let mut guard = ReloadGuard::default();
        for i in 0..5 {
            guard.record(at(i * 1000), false);
        }
        assert_eq!(guard.record(at(4000 + 10_001), false), None);
        for i in 1..5 {
            assert_eq!(guard.record(at(14_001 + i * 1000), false), None);
        }
        assert_eq!(guard.record(at(20_001), false), Some(5));
    }

    #[test]
    fn unpacked_extensions_get_thirty_fast_reloads_within_one_second() {
        let mut guard = ReloadGuard::default();
        for i in 0..30 {
            assert_eq!(guard.record(at(i * 1000), true), None);
        }
        assert_eq!(guard.record(at(30_000), true), Some(30));
        let mut slow = ReloadGuard::default();
        for i in 0..40 {
            assert_eq!(slow.record(at(i * 1001), true), None);
        }
    }
}
