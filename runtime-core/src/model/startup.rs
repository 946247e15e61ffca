//! Installing and uninstalling, starting and stopping the browser, and bringing one extension
//! up after an install, an update or a reload.

use std::collections::{BTreeMap, VecDeque};

use crate::model::error::{InstallError, UninstallError};
use crate::model::event::{OnInstalledDetails, OnRestartRequiredReason, RuntimeEvent};
use crate::model::extension_id::ExtensionId;
use crate::model::extension_lifecycle::ExtensionLifecycle;
use crate::model::ids::{KeepaliveId, TabId, ViewId};
use crate::model::keepalive::Holders;
use crate::model::lazy_listeners::LazyListeners;
use crate::model::names::{EventName, RuntimeEventName};
use crate::model::package::{Location, Package};
use crate::model::page_lifecycle::Input;
use crate::model::profile::Profile;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::{Queued, Work};
use crate::model::world::{ExtState, Model};

impl Model {
    /// Installs a package. In a running browser it gets `onInstalled` (`install`) at once
    /// (its page loads for it); in a stopped one, at the next start.
    pub(crate) fn install(&mut self, package: Package) -> Result<ExtensionId, InstallError> {
        package.check()?;
        let id = package.id();
        if self.extensions.contains_key(&id) {
            return Err(InstallError::AlreadyInstalled(id.to_string()));
        }
        let lifecycle = self.config.lifecycle_for(&package.manifest);
        let origin = self.origin_for(&id);
        let legacy_under_mv3 = self.config.profile == Profile::ChromeMv3
            && package.manifest.manifest_version() < 3
            && lifecycle.is_some();
        let has_page = lifecycle.is_some();
        let running = self.running;
        self.trace.name_extension(&id, package.manifest.name());
        self.record(
            Some(&id),
            Some(TraceContext::Browser),
            TraceEvent::Installed {
                name: package.manifest.name().to_owned(),
                version: package.manifest.version().to_owned(),
                location: package.location,
            },
        );
        self.extensions.insert(
            id.clone(),
            Box::new(ExtState {
                id: id.clone(),
                manifest: package.manifest,
                location: package.location,
                path: package.path,
                script: package.script,
                context_script: package.context_script,
                life: ExtensionLifecycle::default(),
                lifecycle,
                page: None,
                loads: 0,
                queue: VecDeque::new(),
                creating: None,
                lazy_listeners: LazyListeners::with_room(),
                keepalives: Holders::default(),
                storage: crate::model::storage_area::Items::default(),
                alarms: BTreeMap::new(),
                uninstall_url: None,
                views: BTreeMap::new(),
                install_pending: !running,
                origin,
            }),
        );
        if legacy_under_mv3 {
            self.record(
                Some(&id),
                Some(TraceContext::Browser),
                TraceEvent::Warning {
                    message: "Chromium no longer loads Manifest V2 extensions (\"unsupported manifest version\"); under chrome-mv3 the simulator runs this background page as a service worker".into(),
                },
            );
        }
        if running && has_page {
            self.activate(&id, Some(OnInstalledDetails::install()));
        }
        // The first extension the browser may update starts its periodic checks.
        self.schedule_periodic_check();
        Ok(id)
    }

    /// Uninstalls an extension: its page closes (without `onSuspend`), its views close, its
    /// storage goes, and its uninstall URL, if it set one, opens in a new tab.
    pub(crate) fn uninstall(&mut self, id: &ExtensionId) -> Result<(), UninstallError> {
        let Some(rec) = self.extensions.get_mut(id) else {
            return Err(UninstallError::NotInstalled(id.to_string()));
        };
        rec.life.restore();
        self.unload_extension(id);
        self.record(
            Some(id),
            Some(TraceContext::Browser),
            TraceEvent::Uninstalled,
        );
        if let Some(url) = self.ext(id).and_then(|r| r.uninstall_url.clone()) {
            if self.running {
                self.record(
                    Some(id),
                    Some(TraceContext::Browser),
                    TraceEvent::UninstallUrlOpened { url },
                );
            }
        }
        self.extensions.remove(id);
        self.forget_storage(id);
        self.updates.published.remove(id);
        self.updates.checks.remove(id);
        Ok(())
    }

    /// Starts the browser: a staged browser update becomes its version; updates waiting (and
    /// found now) are installed; then extensions installed while it was stopped (and those
    /// loaded from the command line, every time) get `onInstalled` (`install`), the others
    /// `onStartup` — and, if the browser's version changed and they listen to it,
    /// `onInstalled` (`chrome_update`). Persistent pages load now; event pages load for an
    /// event they listen to.
    pub(crate) fn start_browser(&mut self) {
        if self.running {
            return;
        }
        self.running = true;
        self.run += 1;
        // Termination is not remembered across runs: a terminated extension loads again.
        for rec in self.extensions.values_mut() {
            rec.life.restore();
        }
        // chrome_update only when the version actually changed.
        let chrome_updated = match self.staged_version.take() {
            Some(version) if version != self.config.version => {
                self.config.version = version;
                true
            }
            _ => false,
        };
        let version = self.config.version.clone();
        self.record(None, None, TraceEvent::BrowserStarted { version });
        self.storage_browser_started();
        self.start_kiosk_session();
        self.start_updater();
        for id in self.running_ids() {
            let Some(rec) = self.ext_mut(&id) else {
                continue;
            };
            if rec.lifecycle.is_none() {
                rec.install_pending = false;
                continue;
            }
            let fresh = rec.install_pending || rec.location == Location::CommandLine;
            rec.install_pending = false;
            let listens_to_installed = rec
                .lazy_listeners
                .contains(&EventName::Runtime(RuntimeEventName::OnInstalled));
            self.load_if_persistent(&id);
            if fresh {
                self.bus.post(Work::Deliver {
                    ext: id,
                    event: RuntimeEvent::Installed(OnInstalledDetails::install()),
                });
                continue;
            }
            if chrome_updated && listens_to_installed {
                self.bus.post(Work::Deliver {
                    ext: id.clone(),
                    event: RuntimeEvent::Installed(OnInstalledDetails {
                        reason: self.config.profile.browser_update_reason(),
                        previous_version: None,
                        id: None,
                    }),
                });
            }
            self.bus.post(Work::Deliver {
                ext: id,
                event: RuntimeEvent::Startup,
            });
        }
        // Alarms are kept while the browser is stopped; one whose time passed fires now.
        self.reschedule_alarms();
    }

    /// Stops the browser: tabs close, every page closes without `onSuspend`, every view
    /// closes, every keepalive goes. What only lives in the browser's memory (update-check
    /// backoffs, the reload guard, kiosk timers, `storage.session`, the quota service's
    /// buckets) goes too; installed extensions, their other storage and the browser's
    /// preferences stay.
    pub(crate) fn stop_browser(&mut self) {
        if !self.running {
            return;
        }
        let tabs: Vec<TabId> = self.tabs.keys().copied().collect();
        for tab in tabs {
            self.close_tab(tab);
        }
        for id in self.running_ids() {
            self.close_extension(&id);
        }
        self.stop_updater();
        self.storage_browser_stopped();
        for rec in self.extensions.values_mut() {
            rec.life.browser_stopped();
        }
        self.running = false;
        self.record(None, None, TraceEvent::BrowserStopped);
    }

    /// Closes everything an extension runs: its views, its page (without `onSuspend`), and
    /// every keepalive it holds.
    pub(crate) fn close_extension(&mut self, id: &ExtensionId) {
        let views: Vec<ViewId> = self
            .ext(id)
            .map(|r| r.views.keys().copied().collect())
            .unwrap_or_default();
        for view in views {
            self.close_view(id, view);
        }
        self.drive(id, Input::Shutdown);
        let held: Vec<KeepaliveId> = self
            .ext(id)
            .map(|r| r.keepalives.ids().collect())
            .unwrap_or_default();
        for keepalive in held {
            self.release(id, keepalive);
        }
    }

    /// Unloads an extension to replace, set aside or remove it (an update, a reload, a
    /// termination, an uninstall): everything it runs closes, its content scripts lose their
    /// context, and its `storage.session` items go.
    pub(crate) fn unload_extension(&mut self, id: &ExtensionId) {
        self.close_extension(id);
        self.remove_content_scripts(id);
        self.clear_session(id);
    }

    /// Brings an extension up after an install, an update or a reload: a persistent page
    /// loads, and `onInstalled` (if given) is on its way.
    pub(crate) fn activate(&mut self, ext: &ExtensionId, installed: Option<OnInstalledDetails>) {
        if !self.running {
            return;
        }
        self.load_if_persistent(ext);
        if let Some(details) = installed {
            self.bus.post(Work::Deliver {
                ext: ext.clone(),
                event: RuntimeEvent::Installed(details),
            });
        }
    }

    /// Loads a persistent background page (Chromium creates those as the extension loads).
    fn load_if_persistent(&mut self, ext: &ExtensionId) {
        let persistent = self
            .ext(ext)
            .and_then(|r| r.lifecycle.as_ref())
            .is_some_and(|l| l.is_persistent());
        if persistent {
            self.enqueue(ext, Queued::Load);
        }
    }

    /// A browser update has been downloaded and needs a restart: extensions get
    /// `onBrowserUpdateAvailable` (and, in kiosk mode, `onRestartRequired("os_update")`); the
    /// next start runs the new version.
    pub(crate) fn stage_browser_update(&mut self, version: String) {
        self.record(
            None,
            Some(TraceContext::Browser),
            TraceEvent::BrowserUpdateStaged {
                version: version.clone(),
            },
        );
        self.staged_version = Some(version);
        if !self.running {
            return;
        }
        for ext in self.running_ids() {
            self.deliver(&ext, RuntimeEvent::BrowserUpdateAvailable);
        }
        self.require_restart(OnRestartRequiredReason::OsUpdate);
    }
}
