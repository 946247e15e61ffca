//! Kiosk mode: `runtime.restart()`, `runtime.restartAfterDelay()`, `runtime.onRestartRequired`
//! and the simulated device restart (Chromium's `runtime_api.cc`,
//! `chrome_runtime_api_delegate.cc`).
//!
//! A device restart ends every page and starts the browser again at the same virtual instant
//! (extensions get `onStartup`). What Chromium keeps in its preferences survives it: when the
//! last `restartAfterDelay` restart happened, and whether the last restart was one. The rest —
//! which extension called first, the scheduled restart — lives as long as one run of the
//! browser.

use std::time::Duration;

use runtime_events::SimInstant;

use crate::model::extension_id::ExtensionId;
use crate::model::ids::TimerToken;

/// The shortest time between two restarts caused by `restartAfterDelay` (3 h); a request for
/// an earlier one is throttled to this.
pub const MIN_DURATION_BETWEEN_RESTARTS: Duration = Duration::from_secs(3 * 60 * 60);

/// How long after `onRestartRequired` the device is restarted if the app does nothing (24 h).
pub const FORCED_RESTART_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// What the browser keeps across device restarts (Chromium's preferences).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KioskPrefs {
    /// When the last restart caused by `restartAfterDelay` happened.
    pub(crate) last_restart_after_delay_time: SimInstant,
    /// Whether the most recent restart was caused by `restartAfterDelay`.
    pub(crate) last_restart_was_due_to_delayed_restart_api: bool,
}

/// What one run of the browser knows (Chromium's `RuntimeAPI` object).
#[derive(Clone, Debug, Default)]
pub(crate) struct KioskSession {
    first_extension: Option<ExtensionId>,
    did_read_prefs: bool,
    was_last_restart_due_to_delayed_restart_api: bool,
    last_delayed_restart_time: SimInstant,
    /// The token of the scheduled `restartAfterDelay` restart.
    pub(crate) restart_timer: Option<TimerToken>,
    /// The token of the forced restart after `onRestartRequired`.
    pub(crate) grace_timer: Option<TimerToken>,
}

/// Kiosk state of one browser.
#[derive(Clone, Debug, Default)]
pub(crate) struct Kiosk {
    pub(crate) prefs: KioskPrefs,
    pub(crate) session: KioskSession,
}

/// What `restartAfterDelay` decided, once its checks passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DelayedRestart {
    /// `-1`: no restart is scheduled any more; `was_scheduled` says whether one was.
    Cancelled { was_scheduled: bool },
    /// A restart is scheduled `delay` from now; `throttled`: moved to 3 h after the previous
    /// one (the call then fails with `Throttled`, the restart still happens).
    Scheduled { delay: Duration, throttled: bool },
}

/// Why `restartAfterDelay` refused, before scheduling anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DelayedRestartRefused {
    /// `seconds` is zero or negative, and not `-1`.
    InvalidArgument(i32),
    /// Another extension called it first in this run.
    NotFirstExtension,
}

impl Kiosk {
    /// A new run of the browser: the session starts afresh; the preferences stay.
    pub(crate) fn new_session(&mut self) {
        self.session = KioskSession::default();
    }

    /// `runtime.restart()` in kiosk mode: an app cannot clear the throttle of
    /// `restartAfterDelay` by restarting the device itself.
    pub(crate) fn restart_requested(&mut self) {
        if self.session.was_last_restart_due_to_delayed_restart_api {
            self.prefs.last_restart_was_due_to_delayed_restart_api = true;
        }
    }

    /// `runtime.restartAfterDelay(seconds)` in kiosk mode, at `now`: Chromium's checks in
    /// their order, then what to schedule. The caller keeps the new timer's token in
    /// `session.restart_timer` when a restart is scheduled.
    pub(crate) fn restart_after_delay(
        &mut self,
        ext: &ExtensionId,
        seconds: i32,
        now: SimInstant,
    ) -> Result<DelayedRestart, DelayedRestartRefused> {
        if seconds <= 0 && seconds != -1 {
            return Err(DelayedRestartRefused::InvalidArgument(seconds));
        }
        let session = &mut self.session;
        match &session.first_extension {
            None => session.first_extension = Some(ext.clone()),
            Some(first) if first != ext => return Err(DelayedRestartRefused::NotFirstExtension),
            Some(_) => {}
        }
        let was_scheduled = session.restart_timer.take().is_some();
        if seconds == -1 {
            return Ok(DelayedRestart::Cancelled { was_scheduled });
        }
        if !session.did_read_prefs {
            session.did_read_prefs = true;
            session.was_last_restart_due_to_delayed_restart_api =
                self.prefs.last_restart_was_due_to_delayed_restart_api;
            // Cleared, so that restarts with other causes do not throttle the next request.
            self.prefs.last_restart_was_due_to_delayed_restart_api = false;
            session.last_delayed_restart_time = self.prefs.last_restart_after_delay_time;
        }
        let mut delay = Duration::from_secs(seconds as u64);
        let mut throttled = false;
        if session.was_last_restart_due_to_delayed_restart_api {
            let last = session.last_delayed_restart_time;
            let since_last = (now + delay).saturating_duration_since(last);
            if now + delay > last && since_last < MIN_DURATION_BETWEEN_RESTARTS {
                delay = MIN_DURATION_BETWEEN_RESTARTS - now.saturating_duration_since(last);
                throttled = true;
            }
        }
        Ok(DelayedRestart::Scheduled { delay, throttled })
    }

    /// The restart scheduled by `restartAfterDelay` happens at `now`.
    pub(crate) fn delayed_restart_happens(&mut self, now: SimInstant) {
        self.prefs.last_restart_after_delay_time = now;
        self.prefs.last_restart_was_due_to_delayed_restart_api = true;
    }
}
