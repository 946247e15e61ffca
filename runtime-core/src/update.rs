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
//! - A found update goes through the install gate ([`Sim::offer_update`]): installed at once, or
//!   delayed (with `runtime.onUpdateAvailable`) while the extension is in use.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::SimInstant;
use serde::Serialize;

use crate::engine::Work;
use crate::events::{RuntimeEvent, ON_UPDATE_AVAILABLE};
use crate::kiosk::OnRestartRequiredReason;
use crate::rng::SimRng;
use crate::sim::Sim;
use crate::trace::{Context, TraceEvent};
use crate::version::is_newer;
use crate::{ExtensionId, ExtensionSpec, OnInstalledDetails, PageState};

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
    fn new(status: RequestUpdateCheckStatus, version: impl Into<String>) -> Self {
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

/// What to do with the result of a `requestUpdateCheck` call.
pub(crate) type UpdateCallback = Box<dyn FnOnce(&mut Sim, UpdateCheckResult) + Send>;

/// One extension's `requestUpdateCheck` state (Chromium's `UpdateCheckInfo`).
#[derive(Default)]
pub(crate) struct UpdateCheckInfo {
    pub(crate) backoff: Backoff,
    callbacks: Vec<UpdateCallback>,
    in_flight: bool,
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
    fn as_str(self) -> &'static str {
        match self {
            UpdateTrigger::Startup => "startup",
            UpdateTrigger::Periodic => "periodic",
            UpdateTrigger::Request => "requestUpdateCheck",
        }
    }
}

/// The update service and the update checks of one browser.
#[derive(Default)]
pub(crate) struct Updates {
    /// The newest version published for each extension (the store's side: it survives
    /// browser restarts).
    pub(crate) published: BTreeMap<ExtensionId, ExtensionSpec>,
    /// `requestUpdateCheck` state (the browser's memory: gone at a restart).
    pub(crate) checks: BTreeMap<ExtensionId, UpdateCheckInfo>,
}

impl Sim {
    /// Publishes a new version of an extension on the update service.
    pub(crate) fn publish(&mut self, ext: &ExtensionId, spec: ExtensionSpec) {
        self.record(
            Some(ext),
            Some(Context::Browser),
            TraceEvent::UpdatePublished {
                version: spec.manifest.version().to_owned(),
            },
        );
        self.updates.published.insert(ext.clone(), spec);
    }

    /// The newest published version of `ext` that is newer than both its installed version and
    /// the update already waiting to be installed (the updater asks the store with the latter).
    fn newer_published(&self, ext: &ExtensionId) -> Option<ExtensionSpec> {
        let rec = self.extensions.get(ext)?;
        let spec = self.updates.published.get(ext)?;
        let known = rec
            .pending_update
            .as_ref()
            .map_or(rec.manifest.version(), |p| p.manifest.version());
        is_newer(spec.manifest.version(), known).then(|| spec.clone())
    }

    /// `requestUpdateCheck`'s browser side (Chromium's `CheckForUpdates`). Returns `false`
    /// when there is no update service (`Autoupdate is not enabled.`).
    pub(crate) fn check_for_updates(
        &mut self,
        ext: &ExtensionId,
        callback: UpdateCallback,
    ) -> bool {
        if !self.config.autoupdate {
            return false;
        }
        let now = self.bus.now();
        let info = self.updates.checks.entry(ext.clone()).or_default();
        if info.backoff.should_reject(now) || info.callbacks.len() >= MAX_PENDING_UPDATE_CHECKS {
            let throttled = UpdateCheckResult::new(RequestUpdateCheckStatus::Throttled, "");
            self.bus.post(Work::Complete(Box::new(move |sim: &mut Sim| {
                callback(sim, throttled)
            })));
            return true;
        }
        info.callbacks.push(callback);
        if !info.in_flight {
            info.in_flight = true;
            self.start_update_check(ext, UpdateTrigger::Request);
        }
        true
    }

    /// Starts one check of one extension; it completes after the update service's response
    /// time.
    fn start_update_check(&mut self, ext: &ExtensionId, trigger: UpdateTrigger) {
        let ext = ext.clone();
        let run = self.run;
        self.bus.post_after(
            self.config.update_check_duration,
            Work::Complete(Box::new(move |sim: &mut Sim| {
                if sim.run == run && sim.running {
                    sim.complete_update_check(&ext, trigger);
                }
            })),
        );
    }

    fn complete_update_check(&mut self, ext: &ExtensionId, trigger: UpdateTrigger) {
        if !self.extensions.contains_key(ext) {
            self.updates.checks.remove(ext);
            return;
        }
        let found = self.newer_published(ext);
        self.record(
            Some(ext),
            Some(Context::Browser),
            TraceEvent::UpdateChecked {
                trigger: trigger.as_str(),
                found: found.as_ref().map(|s| s.manifest.version().to_owned()),
            },
        );
        if trigger == UpdateTrigger::Request {
            // The updater reports the version it found before it installs it
            // (`OnExtensionUpdateFound`) ...
            if let Some(spec) = &found {
                let result = UpdateCheckResult::new(
                    RequestUpdateCheckStatus::UpdateAvailable,
                    spec.manifest.version(),
                );
                self.answer_update_checks(ext, result);
            }
            // ... then the check completes (`UpdateCheckComplete`): it counts as a failure,
            // and whoever still waits learns of a pending update or of none.
            let now = self.bus.now();
            if let Some(info) = self.updates.checks.get_mut(ext) {
                info.in_flight = false;
                info.backoff.inform_of_failure(now, &mut self.rng);
            }
            let pending = self
                .extensions
                .get(ext)
                .and_then(|r| r.pending_update.as_ref())
                .map(|p| p.manifest.version().to_owned());
            let result = match pending {
                Some(version) => {
                    UpdateCheckResult::new(RequestUpdateCheckStatus::UpdateAvailable, version)
                }
                None => UpdateCheckResult::new(RequestUpdateCheckStatus::NoUpdate, ""),
            };
            self.answer_update_checks(ext, result);
        }
        if let Some(spec) = found {
            self.offer_update(ext, spec, trigger == UpdateTrigger::Startup);
        }
    }

    fn answer_update_checks(&mut self, ext: &ExtensionId, result: UpdateCheckResult) {
        let callbacks = match self.updates.checks.get_mut(ext) {
            Some(info) => std::mem::take(&mut info.callbacks),
            None => return,
        };
        for callback in callbacks {
            callback(self, result.clone());
        }
    }

    /// At start: installs the updates that were waiting, and (with an update service) checks
    /// every extension at once — what the browser finds while it starts is installed at once —
    /// then schedules the periodic check.
    pub(crate) fn start_updater(&mut self) {
        let waiting: Vec<ExtensionId> = self
            .extensions
            .iter()
            .filter(|(_, r)| r.pending_update.is_some())
            .map(|(id, _)| id.clone())
            .collect();
        for ext in waiting {
            if let Some(spec) = self
                .extensions
                .get_mut(&ext)
                .and_then(|r| r.pending_update.take())
            {
                self.install_update(&ext, *spec);
            }
        }
        if !self.config.autoupdate {
            return;
        }
        let ids: Vec<ExtensionId> = self.extensions.keys().cloned().collect();
        for ext in ids {
            self.complete_update_check(&ext, UpdateTrigger::Startup);
        }
        self.schedule_periodic_check();
    }

    /// The next periodic check: the frequency, jittered by ±20 % (`ExtensionUpdater`).
    fn schedule_periodic_check(&mut self) {
        let jitter = self.rng.rand_double() * 0.4 + 0.8;
        let delay = Duration::from_millis(
            (self.config.update_check_period.as_millis() as f64 * jitter) as u64,
        );
        let run = self.run;
        self.post_ambient_after(delay, move |sim: &mut Sim| {
            if sim.run != run || !sim.running {
                return;
            }
            let ids: Vec<ExtensionId> = sim.extensions.keys().cloned().collect();
            for ext in ids {
                sim.start_update_check(&ext, UpdateTrigger::Periodic);
            }
            sim.schedule_periodic_check();
        });
    }

    /// The browser stops: checks in flight and the periodic check end with it (they belong to
    /// the run that started them).
    pub(crate) fn stop_updater(&mut self) {
        self.updates.checks.clear();
    }

    /// Whether nothing of the extension is running: no loaded page, no open view (Chromium's
    /// `IsExtensionIdle`).
    pub(crate) fn is_idle(&self, ext: &ExtensionId) -> bool {
        self.extensions.get(ext).is_some_and(|r| {
            matches!(r.state(), None | Some(PageState::Unloaded)) && r.views.is_empty()
        })
    }

    /// The install gate (`UpdateInstallGate`): installs a found update now, or keeps it until
    /// the extension is idle and tells it with `runtime.onUpdateAvailable`.
    pub(crate) fn offer_update(&mut self, ext: &ExtensionId, spec: ExtensionSpec, starting: bool) {
        let Some(rec) = self.extensions.get(ext) else {
            return;
        };
        let delay_reason = if starting {
            None
        } else if rec.lifecycle.as_ref().is_some_and(|l| l.is_persistent()) {
            rec.lazy_listeners.contains(ON_UPDATE_AVAILABLE).then_some(
                "the persistent page listens to runtime.onUpdateAvailable: the update waits for reload() or the next browser start",
            )
        } else {
            (!self.is_idle(ext)).then_some(
                "the extension is in use (its page is loaded or a view is open): the update is installed when it goes idle, on reload(), or at the next browser start",
            )
        };
        let Some(reason) = delay_reason else {
            self.install_update(ext, spec);
            return;
        };
        let version = spec.manifest.version().to_owned();
        let manifest = spec.manifest.to_value();
        if let Some(rec) = self.extensions.get_mut(ext) {
            rec.pending_update = Some(Box::new(spec));
        }
        self.record(
            Some(ext),
            Some(Context::Browser),
            TraceEvent::UpdateDelayed {
                version,
                reason: reason.to_owned(),
            },
        );
        self.deliver(ext, RuntimeEvent::UpdateAvailable(manifest));
        self.require_restart_of(ext, OnRestartRequiredReason::AppUpdate);
    }

    /// Installs an update that was waiting, if the extension has become idle.
    pub(crate) fn finish_delayed_install(&mut self, ext: &ExtensionId) {
        let ready = self.running
            && self.is_idle(ext)
            && self
                .extensions
                .get(ext)
                .is_some_and(|r| r.pending_update.is_some());
        if !ready {
            return;
        }
        if let Some(spec) = self
            .extensions
            .get_mut(ext)
            .and_then(|r| r.pending_update.take())
        {
            self.install_update(ext, *spec);
        }
    }

    /// Installs a new version: the old one is unloaded (its page closes without `onSuspend`,
    /// its views and content scripts lose their context), the new manifest and background
    /// script take its place, and the extension gets `onInstalled` (`update`). Extensions that
    /// import it, if it is a shared module, get `shared_module_update`.
    pub(crate) fn install_update(&mut self, ext: &ExtensionId, spec: ExtensionSpec) {
        let Some(rec) = self.extensions.get(ext) else {
            return;
        };
        let from = rec.manifest.version().to_owned();
        let to = spec.manifest.version().to_owned();
        self.unload_extension(ext);
        let lifecycle = self.config.lifecycle_for(&spec.manifest);
        let Some(rec) = self.extensions.get_mut(ext) else {
            return;
        };
        rec.lifecycle = lifecycle;
        rec.manifest = Arc::new(spec.manifest);
        rec.script = spec.script;
        rec.pending_update = None;
        let exports = rec.manifest.is_shared_module();
        self.record(
            Some(ext),
            Some(Context::Browser),
            TraceEvent::Updated {
                from: from.clone(),
                to,
            },
        );
        if let Some(info) = self.updates.checks.get_mut(ext) {
            info.backoff.reset();
        }
        self.activate(ext, Some(OnInstalledDetails::update(from.clone())));
        if exports {
            let dependents: Vec<ExtensionId> = self
                .extensions
                .iter()
                .filter(|(_, r)| r.manifest.imports().iter().any(|i| i == ext.as_str()))
                .map(|(id, _)| id.clone())
                .collect();
            for dependent in dependents {
                self.bus.post(Work::Deliver {
                    ext: dependent,
                    event: RuntimeEvent::Installed(OnInstalledDetails::shared_module_update(
                        from.clone(),
                        ext.as_str(),
                    )),
                });
            }
        }
    }
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
