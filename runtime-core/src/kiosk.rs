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
use serde::Serialize;

use crate::engine::Work;
use crate::events::RuntimeEvent;
use crate::sim::Sim;
use crate::trace::{Context, TraceEvent};
use crate::{ExtensionId, RestartAfterDelayError, RestartError};

/// The shortest time between two restarts caused by `restartAfterDelay` (3 h); a request for
/// an earlier one is throttled to this.
pub const MIN_DURATION_BETWEEN_RESTARTS: Duration = Duration::from_secs(3 * 60 * 60);

/// How long after `onRestartRequired` the device is restarted if the app does nothing (24 h).
pub const FORCED_RESTART_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// Why `runtime.onRestartRequired` fired (`runtime.OnRestartRequiredReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRestartRequiredReason {
    /// The app was updated to a newer version.
    AppUpdate,
    /// The browser or the OS was updated to a newer version.
    OsUpdate,
    /// The device ran longer than the uptime the enterprise policy allows.
    Periodic,
}

impl OnRestartRequiredReason {
    /// `app_update`, `os_update` or `periodic`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnRestartRequiredReason::AppUpdate => "app_update",
            OnRestartRequiredReason::OsUpdate => "os_update",
            OnRestartRequiredReason::Periodic => "periodic",
        }
    }
}

/// What the browser keeps across device restarts (Chromium's preferences).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct KioskPrefs {
    /// When the last restart caused by `restartAfterDelay` happened.
    last_restart_after_delay_time: SimInstant,
    /// Whether the most recent restart was caused by `restartAfterDelay`.
    last_restart_was_due_to_delayed_restart_api: bool,
}

/// What one run of the browser knows (Chromium's `RuntimeAPI` object).
#[derive(Clone, Debug, Default)]
pub(crate) struct KioskSession {
    first_extension: Option<ExtensionId>,
    did_read_prefs: bool,
    was_last_restart_due_to_delayed_restart_api: bool,
    last_delayed_restart_time: SimInstant,
    /// The token of the scheduled `restartAfterDelay` restart.
    restart_timer: Option<u64>,
    /// The token of the forced restart after `onRestartRequired`.
    grace_timer: Option<u64>,
}

/// Kiosk state of one browser.
#[derive(Clone, Debug, Default)]
pub(crate) struct Kiosk {
    prefs: KioskPrefs,
    session: KioskSession,
}

impl Sim {
    /// `runtime.restart()`.
    pub(crate) fn restart_requested(&mut self, ext: &ExtensionId) -> Result<(), RestartError> {
        if self
            .kiosk
            .session
            .was_last_restart_due_to_delayed_restart_api
            && self.config.kiosk
        {
            // An app cannot clear the throttle of restartAfterDelay by restarting itself.
            self.kiosk.prefs.last_restart_was_due_to_delayed_restart_api = true;
        }
        if !self.config.kiosk {
            return Err(RestartError::NotKiosk);
        }
        let reason = format!("runtime.restart() called by {ext}");
        self.bus.post(Work::Complete(Box::new(move |sim: &mut Sim| {
            sim.restart_device(&reason)
        })));
        Ok(())
    }

    /// `runtime.restartAfterDelay(seconds)`: the checks in Chromium's order.
    pub(crate) fn restart_after_delay(
        &mut self,
        ext: &ExtensionId,
        seconds: i32,
    ) -> Result<(), RestartAfterDelayError> {
        if !self.config.kiosk {
            return Err(RestartAfterDelayError::NotKiosk);
        }
        if seconds <= 0 && seconds != -1 {
            return Err(RestartAfterDelayError::InvalidArgument(seconds));
        }
        let now = self.bus.now();
        let session = &mut self.kiosk.session;
        match &session.first_extension {
            None => session.first_extension = Some(ext.clone()),
            Some(first) if first != ext => return Err(RestartAfterDelayError::NotFirstExtension),
            Some(_) => {}
        }
        let was_running = session.restart_timer.take().is_some();
        if seconds == -1 {
            if was_running {
                self.record(
                    Some(ext),
                    Some(Context::Browser),
                    TraceEvent::RestartCanceled,
                );
            }
            return Ok(());
        }
        if !session.did_read_prefs {
            session.did_read_prefs = true;
            session.was_last_restart_due_to_delayed_restart_api =
                self.kiosk.prefs.last_restart_was_due_to_delayed_restart_api;
            // Cleared, so that restarts with other causes do not throttle the next request.
            self.kiosk.prefs.last_restart_was_due_to_delayed_restart_api = false;
            session.last_delayed_restart_time = self.kiosk.prefs.last_restart_after_delay_time;
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
        let token = self.fresh_id();
        self.kiosk.session.restart_timer = Some(token);
        self.bus.post_after(
            delay,
            Work::Complete(Box::new(move |sim: &mut Sim| {
                if sim.kiosk.session.restart_timer != Some(token) {
                    return;
                }
                let now = sim.bus.now();
                sim.kiosk.prefs.last_restart_after_delay_time = now;
                sim.kiosk.prefs.last_restart_was_due_to_delayed_restart_api = true;
                sim.restart_device("the restart scheduled by runtime.restartAfterDelay()");
            })),
        );
        self.record(
            Some(ext),
            Some(Context::Browser),
            TraceEvent::RestartScheduled {
                fires_at_ms: (now + delay).as_millis(),
                throttled,
            },
        );
        if throttled {
            Err(RestartAfterDelayError::Throttled)
        } else {
            Ok(())
        }
    }

    /// In kiosk mode, tells one extension a restart is required and starts the 24 h grace
    /// period after which the device restarts anyway.
    pub(crate) fn require_restart_of(
        &mut self,
        ext: &ExtensionId,
        reason: OnRestartRequiredReason,
    ) {
        if !self.config.kiosk || !self.running {
            return;
        }
        self.deliver(ext, RuntimeEvent::RestartRequired(reason));
        self.start_grace_period(reason);
    }

    /// In kiosk mode, tells every extension a restart is required (a browser or OS update,
    /// the uptime limit).
    pub(crate) fn require_restart(&mut self, reason: OnRestartRequiredReason) {
        if !self.config.kiosk || !self.running {
            return;
        }
        let ids: Vec<ExtensionId> = self.extensions.keys().cloned().collect();
        for ext in ids {
            self.deliver(&ext, RuntimeEvent::RestartRequired(reason));
        }
        self.start_grace_period(reason);
    }

    fn start_grace_period(&mut self, reason: OnRestartRequiredReason) {
        if self.kiosk.session.grace_timer.is_some() {
            return;
        }
        let token = self.fresh_id();
        self.kiosk.session.grace_timer = Some(token);
        let fires_at_ms = (self.bus.now() + FORCED_RESTART_GRACE).as_millis();
        self.record(
            None,
            Some(Context::Browser),
            TraceEvent::TimerStarted {
                timer: "forced restart",
                fires_at_ms,
            },
        );
        let why = format!(
            "forced: a restart was required ({}) and the app did not restart within the 24 h grace period",
            reason.as_str()
        );
        self.bus.post_after(
            FORCED_RESTART_GRACE,
            Work::Complete(Box::new(move |sim: &mut Sim| {
                if sim.kiosk.session.grace_timer == Some(token) {
                    sim.restart_device(&why);
                }
            })),
        );
    }

    /// At each start in kiosk mode: a fresh session, and the uptime limit's timer.
    pub(crate) fn start_kiosk_session(&mut self) {
        self.kiosk.session = KioskSession::default();
        if !self.config.kiosk {
            return;
        }
        if let Some(limit) = self.config.kiosk_uptime_limit {
            let run = self.run;
            self.post_ambient_after(limit, move |sim: &mut Sim| {
                if sim.run == run && sim.running {
                    sim.require_restart(OnRestartRequiredReason::Periodic);
                }
            });
        }
    }

    /// The device restarts: every page ends, the browser stops and starts again.
    pub(crate) fn restart_device(&mut self, reason: &str) {
        if !self.running {
            return;
        }
        self.record(
            None,
            Some(Context::Browser),
            TraceEvent::DeviceRestart {
                reason: reason.to_owned(),
            },
        );
        self.stop_browser();
        self.start_browser();
    }
}
