//! The update service and the browser's update checks.
//!
//! A test or a scenario *publishes* a new version of a packed extension
//! ([`Browser::publish_update`](crate::Browser::publish_update)); the browser finds it with its
//! own periodic check (every 5 h by default, ±20 % jitter, and once as it starts) or when the
//! extension calls `runtime.requestUpdateCheck()`. Chromium's rules
//! (`chrome_runtime_api_delegate.cc`, `extension_updater.cc`):
//!
//! - `requestUpdateCheck` has a per-extension backoff: **every completed check counts as a
//!   failure**, after which calls within the next 5 h (less up to 10 % jitter) are `throttled`
//!   without checking. The first call is never throttled; the backoff is reset when the
//!   extension is actually updated. Calls made while a check is in flight share its result, up
//!   to 10; more are `throttled`.
//! - A found update goes through the install gate (`Model::offer_update`): installed at once, or
//!   delayed (with `runtime.onUpdateAvailable`) while the extension is in use.

use std::collections::BTreeMap;
use std::time::Duration;

use runtime_events::SimInstant;
use serde::Serialize;

use crate::model::extension_id::ExtensionId;
use crate::model::ids::CallId;
use crate::model::package::Package;
use crate::model::rng::SimRng;

/// How often the browser checks for updates unless told otherwise, and the backoff of
/// `requestUpdateCheck` (Chromium's `kDefaultUpdateFrequency`): 5 hours.
pub const DEFAULT_UPDATE_FREQUENCY: Duration = Duration::from_secs(5 * 60 * 60);

/// How many `requestUpdateCheck` calls may wait for one check; more are `throttled`.
pub const MAX_PENDING_UPDATE_CHECKS: usize = 10;

/// The backoff's jitter: a delay is shortened by up to this fraction.
const BACKOFF_JITTER: f64 = 0.1;

/// The result status of `runtime.requestUpdateCheck()` (`runtime.RequestUpdateCheckStatus`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestUpdateCheckStatus {
    /// Checked too recently (or too many calls waiting): no check was made.
    Throttled,
    /// The check found no newer version.
    NoUpdate,
    /// A newer version was found (it may be waiting to be installed).
    UpdateAvailable,
}

impl RequestUpdateCheckStatus {
    /// `throttled`, `no_update` or `update_available`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestUpdateCheckStatus::Throttled => "throttled",
            RequestUpdateCheckStatus::NoUpdate => "no_update",
            RequestUpdateCheckStatus::UpdateAvailable => "update_available",
        }
    }
}

/// What `runtime.requestUpdateCheck()` resolves to in the promise form: `{status, version}`.
/// `version` is the new version for `update_available`, and empty otherwise (as Chromium
/// sends it).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateCheckResult {
    /// The status.
    pub status: RequestUpdateCheckStatus,
    /// The available version, or `""`.
    pub version: String,
}

impl UpdateCheckResult {
    pub(crate) fn new(status: RequestUpdateCheckStatus, version: impl Into<String>) -> Self {
        UpdateCheckResult {
            status,
            version: version.into(),
        }
    }

    /// The two arguments of the callback form: `(status, {version})`.
    pub fn into_callback_args(self) -> (RequestUpdateCheckStatus, UpdateDetails) {
        (
            self.status,
            UpdateDetails {
                version: self.version,
            },
        )
    }
}

/// The second argument of `requestUpdateCheck`'s callback: `{version}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UpdateDetails {
    /// The available version, or `""`.
    pub version: String,
}

/// Chromium's `net::BackoffEntry` with the policy of `requestUpdateCheck`: no errors ignored,
/// initial delay 5 h, multiplier 1, jitter 10 %, no maximum, never discarded.
#[derive(Clone, Debug, Default)]
pub(crate) struct Backoff {
    failures: u32,
    release_at: Option<SimInstant>,
}

impl Backoff {
    /// Whether a request now must be refused.
    pub(crate) fn should_reject(&self, now: SimInstant) -> bool {
        self.release_at.is_some_and(|at| at > now)
    }

    /// A request failed (for update checks: any completed check).
    pub(crate) fn inform_of_failure(&mut self, now: SimInstant, rng: &mut SimRng) {
        self.failures += 1;
        // Multiplier 1: every failure waits the initial delay, less the jitter.
        let delay_ms = DEFAULT_UPDATE_FREQUENCY.as_millis() as f64;
        let delay_ms = delay_ms - rng.rand_double() * BACKOFF_JITTER * delay_ms;
        let release = now + Duration::from_millis((delay_ms + 0.5) as u64);
        // Never bring a release time forward.
        self.release_at = Some(self.release_at.map_or(release, |at| at.max(release)));
    }

    /// A success: no backoff any more.
    pub(crate) fn reset(&mut self) {
        *self = Backoff::default();
    }

    /// When requests are accepted again, if they are refused now.
    #[cfg(test)]
    pub(crate) fn release_at(&self) -> Option<SimInstant> {
        self.release_at
    }
}

/// One extension's `requestUpdateCheck` state (Chromium's `UpdateCheckInfo`).
#[derive(Clone, Debug, Default)]
pub(crate) struct UpdateCheckInfo {
    pub(crate) backoff: Backoff,
    /// The `requestUpdateCheck` calls waiting for the check in flight.
    pub(crate) waiting: Vec<CallId>,
    pub(crate) in_flight: bool,
}

/// Why an update check runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UpdateTrigger {
    /// The browser is starting: what it finds is installed at once.
    Startup,
    /// The browser's periodic check.
    Periodic,
    /// `runtime.requestUpdateCheck()`.
    Request,
}

impl UpdateTrigger {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            UpdateTrigger::Startup => "startup",
            UpdateTrigger::Periodic => "periodic",
            UpdateTrigger::Request => "requestUpdateCheck",
        }
    }
}

/// The update service and the update checks of one browser.
#[derive(Clone, Debug, Default)]
pub(crate) struct Updates {
    /// The newest version published for each extension (the store's side: it survives
    /// browser restarts).
    pub(crate) published: BTreeMap<ExtensionId, Package>,
    /// `requestUpdateCheck` state (the browser's memory: gone at a restart).
    pub(crate) checks: BTreeMap<ExtensionId, UpdateCheckInfo>,
    /// Whether the next periodic check is on the bus.
    pub(crate) periodic_scheduled: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_waits_between_four_and_a_half_and_five_hours() {
        let mut rng = SimRng::new(1);
        for _ in 0..100 {
            let mut backoff = Backoff::default();
            let now = SimInstant::ZERO + Duration::from_secs(1000);
            assert!(!backoff.should_reject(now));
            backoff.inform_of_failure(now, &mut rng);
            let wait = backoff.release_at().unwrap().saturating_duration_since(now);
            assert!(wait > Duration::from_secs(4 * 3600 + 1800) - Duration::from_millis(1));
            assert!(wait <= DEFAULT_UPDATE_FREQUENCY);
            assert!(backoff.should_reject(now + (wait - Duration::from_millis(1))));
            assert!(!backoff.should_reject(now + wait));
            backoff.reset();
            assert!(!backoff.should_reject(now));
        }
    }

    #[test]
    fn a_release_time_is_never_brought_forward() {
        let mut rng = SimRng::new(2);
        let mut backoff = Backoff::default();
        let now = SimInstant::ZERO;
        backoff.inform_of_failure(now, &mut rng);
        let first = backoff.release_at().unwrap();
        for _ in 0..20 {
            backoff.inform_of_failure(now, &mut rng);
            assert!(backoff.release_at().unwrap() >= first);
        }
    }
}
