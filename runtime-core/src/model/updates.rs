//! The browser's update checks and installs (Chromium's `ExtensionUpdater`, the
//! `requestUpdateCheck` of `chrome_runtime_api_delegate.cc`, and `UpdateInstallGate`); the
//! rules are described in `update_service.rs`, the install gate in `extension_lifecycle.rs`.

use std::sync::Arc;
use std::time::Duration;

use crate::model::calls::CallOutcome;
use crate::model::event::{OnInstalledDetails, OnRestartRequiredReason, RuntimeEvent};
use crate::model::extension_id::ExtensionId;
use crate::model::extension_lifecycle::{InUse, UpdateDecision};
use crate::model::ids::CallId;
use crate::model::names::{EventName, RuntimeEventName};
use crate::model::package::{Location, Package};
use crate::model::page_lifecycle::PageState;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::update_service::{
    RequestUpdateCheckStatus, UpdateCheckResult, UpdateTrigger, MAX_PENDING_UPDATE_CHECKS,
};
use crate::model::version::is_newer;
use crate::model::work::Work;
use crate::model::world::Model;

impl Model {
    /// Publishes a new version of an extension on the update service.
    pub(crate) fn publish(&mut self, ext: &ExtensionId, update: Package) {
        self.record(
            Some(ext),
            Some(TraceContext::Browser),
            TraceEvent::UpdatePublished {
                version: update.manifest.version().to_owned(),
            },
        );
        self.updates.published.insert(ext.clone(), update);
    }

    /// The newest published version of `ext` that is newer than both its installed version
    /// and the update already waiting to be installed (the updater asks the store with the
    /// latter).
    fn newer_published(&self, ext: &ExtensionId) -> Option<Package> {
        let rec = self.ext(ext)?;
        let update = self.updates.published.get(ext)?;
        let known = rec
            .life
            .waiting_update()
            .map_or(rec.manifest.version(), |p| p.manifest.version());
        is_newer(update.manifest.version(), known).then(|| update.clone())
    }

    /// `requestUpdateCheck`'s browser side (Chromium's `CheckForUpdates`) for the call `call`,
    /// answered when the check completes, or at once when throttled.
    pub(crate) fn check_for_updates(&mut self, ext: &ExtensionId, call: CallId) {
        let now = self.bus.now();
        let info = self.updates.checks.entry(ext.clone()).or_default();
        if info.backoff.should_reject(now) || info.waiting.len() >= MAX_PENDING_UPDATE_CHECKS {
            let result = UpdateCheckResult::new(RequestUpdateCheckStatus::Throttled, "");
            self.bus.post(Work::AnswerUpdateCheck { call, result });
            return;
        }
        info.waiting.push(call);
        if !info.in_flight {
            info.in_flight = true;
            self.start_update_check(ext, UpdateTrigger::Request);
        }
    }

    /// Starts one check of one extension; it completes after the update service's response
    /// time.
    fn start_update_check(&mut self, ext: &ExtensionId, trigger: UpdateTrigger) {
        self.bus.post_after(
            self.config.update_check_duration,
            Work::UpdateCheck {
                ext: ext.clone(),
                trigger,
                run: self.run,
            },
        );
    }

    /// An update check completes, in the browser run `run`.
    pub(crate) fn update_check_done(
        &mut self,
        ext: &ExtensionId,
        trigger: UpdateTrigger,
        run: u64,
    ) {
        if self.run == run && self.running {
            self.complete_update_check(ext, trigger);
        }
    }

    fn complete_update_check(&mut self, ext: &ExtensionId, trigger: UpdateTrigger) {
        if self.ext(ext).is_none() {
            self.updates.checks.remove(ext);
            return;
        }
        let found = self.newer_published(ext);
        self.record(
            Some(ext),
            Some(TraceContext::Browser),
            TraceEvent::UpdateChecked {
                trigger: trigger.as_str(),
                found: found.as_ref().map(|s| s.manifest.version().to_owned()),
            },
        );
        if trigger == UpdateTrigger::Request {
            // The updater reports the version it found before it installs it
            // (`OnExtensionUpdateFound`) ...
            if let Some(update) = &found {
                let result = UpdateCheckResult::new(
                    RequestUpdateCheckStatus::UpdateAvailable,
                    update.manifest.version(),
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
                .ext(ext)
                .and_then(|r| r.life.waiting_update())
                .map(|p| p.manifest.version().to_owned());
            let result = match pending {
                Some(version) => {
                    UpdateCheckResult::new(RequestUpdateCheckStatus::UpdateAvailable, version)
                }
                None => UpdateCheckResult::new(RequestUpdateCheckStatus::NoUpdate, ""),
            };
            self.answer_update_checks(ext, result);
        }
        if let Some(update) = found {
            self.offer_update(ext, update, trigger == UpdateTrigger::Startup);
        }
    }

    fn answer_update_checks(&mut self, ext: &ExtensionId, result: UpdateCheckResult) {
        let waiting = match self.updates.checks.get_mut(ext) {
            Some(info) => std::mem::take(&mut info.waiting),
            None => return,
        };
        for call in waiting {
            self.finish_call(call, CallOutcome::UpdateCheck(Ok(result.clone())));
        }
    }

    /// The extensions the browser's own checks look at: those installed from a packed `.crx`.
    /// Unpacked extensions and those loaded from the command line have no update URL and are
    /// never checked (Chromium's `ExtensionUpdater::AddToDownloader` skips every location
    /// `Manifest::IsAutoUpdateableLocation` refuses).
    fn auto_updateable(&self) -> Vec<ExtensionId> {
        self.extensions
            .values()
            .filter(|r| r.life.is_running() && r.location == Location::Packed)
            .map(|r| r.id.clone())
            .collect()
    }

    /// At start: installs the updates that were waiting, and (with an update service) checks
    /// every extension it may update at once — what the browser finds while it starts is
    /// installed at once — then schedules the periodic check.
    pub(crate) fn start_updater(&mut self) {
        for ext in self.running_ids() {
            if let Some(update) = self.ext_mut(&ext).and_then(|r| r.life.take_update()) {
                self.install_update(&ext, *update);
            }
        }
        if !self.config.autoupdate {
            return;
        }
        for ext in self.auto_updateable() {
            self.complete_update_check(&ext, UpdateTrigger::Startup);
        }
        self.schedule_periodic_check();
    }

    /// The next periodic check: the frequency, jittered by ±20 % (`ExtensionUpdater`). It is
    /// scheduled only while an extension it would check is installed: a check of nothing does
    /// nothing anyone could see, and a quiet century must not cost 175 000 of them.
    pub(crate) fn schedule_periodic_check(&mut self) {
        if self.updates.periodic_scheduled
            || !self.running
            || !self.config.autoupdate
            || self.auto_updateable().is_empty()
        {
            return;
        }
        self.updates.periodic_scheduled = true;
        let jitter = self.rng.rand_double() * 0.4 + 0.8;
        let delay = Duration::from_millis(
            (self.config.update_check_period.as_millis() as f64 * jitter) as u64,
        );
        self.post_ambient_after(delay, Work::PeriodicUpdateCheck { run: self.run });
    }

    /// The periodic check of the browser run `run`: every extension it may update is checked.
    pub(crate) fn periodic_update_check(&mut self, run: u64) {
        if self.run != run || !self.running {
            return;
        }
        self.updates.periodic_scheduled = false;
        for ext in self.auto_updateable() {
            self.start_update_check(&ext, UpdateTrigger::Periodic);
        }
        self.schedule_periodic_check();
    }

    /// The browser stops: checks in flight and the periodic check end with it (they belong to
    /// the run that started them).
    pub(crate) fn stop_updater(&mut self) {
        self.updates.checks.clear();
        self.updates.periodic_scheduled = false;
    }

    /// Whether nothing of the extension is running: no loaded page, no open view (Chromium's
    /// `IsExtensionIdle`).
    fn is_idle(&self, ext: &ExtensionId) -> bool {
        self.ext(ext).is_some_and(|r| {
            matches!(r.state(), None | Some(PageState::Unloaded)) && r.views.is_empty()
        })
    }

    /// The install gate (`UpdateInstallGate`): installs a found update now, or keeps it until
    /// the extension is idle and tells it with `runtime.onUpdateAvailable`.
    fn offer_update(&mut self, ext: &ExtensionId, update: Package, starting: bool) {
        let idle = self.is_idle(ext);
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let in_use = InUse {
            starting,
            persistent: rec.lifecycle.as_ref().is_some_and(|l| l.is_persistent()),
            listens_to_update_available: rec
                .lazy_listeners
                .contains(&EventName::Runtime(RuntimeEventName::OnUpdateAvailable)),
            idle,
        };
        let version = update.manifest.version().to_owned();
        let manifest = update.manifest.to_value();
        match rec.life.update_found(update, in_use) {
            UpdateDecision::InstallNow(update) => self.install_update(ext, *update),
            UpdateDecision::Wait { reason } => {
                self.record(
                    Some(ext),
                    Some(TraceContext::Browser),
                    TraceEvent::UpdateDelayed {
                        version,
                        reason: reason.to_owned(),
                    },
                );
                self.deliver(ext, RuntimeEvent::UpdateAvailable(manifest));
                self.require_restart_of(ext, OnRestartRequiredReason::AppUpdate);
            }
        }
    }

    /// Installs an update that was waiting, if the extension has become idle.
    pub(crate) fn finish_delayed_install(&mut self, ext: &ExtensionId) {
        let ready = self.running
            && self.is_idle(ext)
            && self
                .ext(ext)
                .is_some_and(|r| r.life.waiting_update().is_some());
        if !ready {
            return;
        }
        if let Some(update) = self.ext_mut(ext).and_then(|r| r.life.take_update()) {
            self.install_update(ext, *update);
        }
    }

    /// Installs a new version: the old one is unloaded (its page closes without `onSuspend`,
    /// its views and content scripts lose their context), the new manifest and background
    /// script take its place, and the extension gets `onInstalled` (`update`). Extensions
    /// that import it, if it is a shared module, get `shared_module_update`.
    pub(crate) fn install_update(&mut self, ext: &ExtensionId, update: Package) {
        let Some(rec) = self.ext(ext) else {
            return;
        };
        let from = rec.manifest.version().to_owned();
        let to = update.manifest.version().to_owned();
        self.unload_extension(ext);
        let lifecycle = self.config.lifecycle_for(&update.manifest);
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        rec.lifecycle = lifecycle;
        rec.manifest = Arc::clone(&update.manifest);
        rec.script = update.script;
        rec.context_script = update.context_script;
        // A newer update waiting is superseded by this one.
        let _ = rec.life.take_update();
        let exports = rec.manifest.is_shared_module();
        self.record(
            Some(ext),
            Some(TraceContext::Browser),
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
                .values()
                .filter(|r| r.life.is_running())
                .filter(|r| r.manifest.imports().iter().any(|i| i == ext.as_str()))
                .map(|r| r.id.clone())
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
