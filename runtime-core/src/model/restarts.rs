//! Kiosk restarts: `runtime.restart()`, `runtime.restartAfterDelay()`,
//! `runtime.onRestartRequired` with its grace period, and the device restart. The decisions
//! are the kiosk state's (`kiosk.rs`); here they are scheduled and traced.

use crate::model::error::{RestartAfterDelayError, RestartError};
use crate::model::event::{OnRestartRequiredReason, RuntimeEvent};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::TimerToken;
use crate::model::kiosk::{DelayedRestart, DelayedRestartRefused, FORCED_RESTART_GRACE};
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::Work;
use crate::model::world::Model;

impl Model {
    /// `runtime.restart()`.
    pub(crate) fn restart_requested(&mut self, ext: &ExtensionId) -> Result<(), RestartError> {
        if !self.config.kiosk {
            return Err(RestartError::NotKiosk);
        }
        self.kiosk.restart_requested();
        self.bus.post(Work::RestartDevice { ext: ext.clone() });
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
        let now = self.bus.now();
        let decision = self
            .kiosk
            .restart_after_delay(ext, seconds, now)
            .map_err(|refused| match refused {
                DelayedRestartRefused::InvalidArgument(s) => {
                    RestartAfterDelayError::InvalidArgument(s)
                }
                DelayedRestartRefused::NotFirstExtension => {
                    RestartAfterDelayError::NotFirstExtension
                }
            })?;
        match decision {
            DelayedRestart::Cancelled { was_scheduled } => {
                if was_scheduled {
                    self.record(
                        Some(ext),
                        Some(TraceContext::Browser),
                        TraceEvent::RestartCanceled,
                    );
                }
                Ok(())
            }
            DelayedRestart::Scheduled { delay, throttled } => {
                let token = self.ids.token();
                self.kiosk.session.restart_timer = Some(token);
                self.bus.post_after(delay, Work::ScheduledRestart { token });
                self.record(
                    Some(ext),
                    Some(TraceContext::Browser),
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
        }
    }

    /// The restart `restartAfterDelay` scheduled, if it still is.
    pub(crate) fn scheduled_restart(&mut self, token: TimerToken) {
        if self.kiosk.session.restart_timer != Some(token) {
            return;
        }
        let now = self.bus.now();
        self.kiosk.delayed_restart_happens(now);
        self.restart_device("the restart scheduled by runtime.restartAfterDelay()");
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
        for ext in self.running_ids() {
            self.deliver(&ext, RuntimeEvent::RestartRequired(reason));
        }
        self.start_grace_period(reason);
    }

    fn start_grace_period(&mut self, reason: OnRestartRequiredReason) {
        if self.kiosk.session.grace_timer.is_some() {
            return;
        }
        let token = self.ids.token();
        self.kiosk.session.grace_timer = Some(token);
        let fires_at_ms = (self.bus.now() + FORCED_RESTART_GRACE).as_millis();
        self.record(
            None,
            Some(TraceContext::Browser),
            TraceEvent::TimerStarted {
                timer: "forced restart",
                fires_at_ms,
            },
        );
        self.bus
            .post_after(FORCED_RESTART_GRACE, Work::ForcedRestart { token, reason });
    }

    /// The grace period after `onRestartRequired` ended, if it is still this one.
    pub(crate) fn forced_restart(&mut self, token: TimerToken, reason: OnRestartRequiredReason) {
        if self.kiosk.session.grace_timer == Some(token) {
            let why = format!(
                "forced: a restart was required ({}) and the app did not restart within the 24 h grace period",
                reason.as_str()
            );
            self.restart_device(&why);
        }
    }

    /// At each start in kiosk mode: a fresh session, and the uptime limit's timer.
    pub(crate) fn start_kiosk_session(&mut self) {
        self.kiosk.new_session();
        if !self.config.kiosk {
            return;
        }
        if let Some(limit) = self.config.kiosk_uptime_limit {
            self.post_ambient_after(limit, Work::UptimeLimit { run: self.run });
        }
    }

    /// The uptime limit of the browser run `run` is reached.
    pub(crate) fn uptime_limit(&mut self, run: u64) {
        if self.run == run && self.running {
            self.require_restart(OnRestartRequiredReason::Periodic);
        }
    }

    /// The device restarts: every page ends, the browser stops and starts again.
    pub(crate) fn restart_device(&mut self, reason: &str) {
        if !self.running {
            return;
        }
        self.record(
            None,
            Some(TraceContext::Browser),
            TraceEvent::DeviceRestart {
                reason: reason.to_owned(),
            },
        );
        self.stop_browser();
        self.start_browser();
    }
}
