//! Starting and stopping the browser, and bringing one extension up after an install, an
//! update or a reload.

use crate::events::{OnInstalledDetails, RuntimeEvent, ON_INSTALLED};
use crate::kiosk::OnRestartRequiredReason;
use crate::lifecycle::Input;
use crate::sim::{Queued, Sim};
use crate::trace::{Context, TraceEvent};
use crate::{ExtensionId, Location};

use crate::engine::Work;

impl Sim {
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
        let terminated = std::mem::take(&mut self.terminated);
        self.extensions.extend(terminated);
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
        self.start_kiosk_session();
        self.start_updater();
        let ids: Vec<ExtensionId> = self.extensions.keys().cloned().collect();
        for id in ids {
            let Some(rec) = self.extensions.get_mut(&id) else {
                continue;
            };
            if rec.lifecycle.is_none() {
                rec.install_pending = false;
                continue;
            }
            let fresh = rec.install_pending || rec.location == Location::CommandLine;
            rec.install_pending = false;
            let listens_to_installed = rec.lazy_listeners.contains(ON_INSTALLED);
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
                    event: RuntimeEvent::Installed(OnInstalledDetails::chrome_update()),
                });
            }
            self.bus.post(Work::Deliver {
                ext: id,
                event: RuntimeEvent::Startup,
            });
        }
    }

    /// Stops the browser: tabs close, every page closes without `onSuspend`, every view
    /// closes, every keepalive goes. What only lives in the browser's memory (update-check
    /// backoffs, the reload guard, kiosk timers) goes too; installed extensions, their storage
    /// and the browser's preferences stay.
    pub(crate) fn stop_browser(&mut self) {
        if !self.running {
            return;
        }
        let tabs: Vec<u64> = self.tabs.keys().copied().collect();
        for tab in tabs {
            self.close_tab(tab);
        }
        let ids: Vec<ExtensionId> = self.extensions.keys().cloned().collect();
        for id in &ids {
            self.close_extension(id);
        }
        self.stop_updater();
        self.reload_guards.clear();
        self.running = false;
        self.record(None, None, TraceEvent::BrowserStopped);
    }

    /// Closes everything an extension runs: its views, its page (without `onSuspend`), and
    /// every keepalive it holds.
    pub(crate) fn close_extension(&mut self, id: &ExtensionId) {
        let views: Vec<u64> = self
            .extensions
            .get(id)
            .map(|r| r.views.keys().copied().collect())
            .unwrap_or_default();
        for view in views {
            self.close_view(id, view);
        }
        self.drive(id, Input::Shutdown);
        let held: Vec<u64> = self
            .extensions
            .get(id)
            .map(|r| r.keepalives.ids().collect())
            .unwrap_or_default();
        for keepalive in held {
            self.release(id, keepalive);
        }
    }

    /// Unloads an extension to replace, set aside or remove it (an update, a reload, a
    /// termination, an uninstall):
    /// everything it runs closes, and its content scripts lose their context.
    pub(crate) fn unload_extension(&mut self, id: &ExtensionId) {
        self.close_extension(id);
        self.remove_content_scripts(id);
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
            .extensions
            .get(ext)
            .and_then(|r| r.lifecycle.as_ref())
            .is_some_and(|l| l.is_persistent());
        if persistent {
            self.enqueue(ext, Queued::Callback(Box::new(|_: &mut Sim, _: bool| {})));
        }
    }

    /// A browser update has been downloaded and needs a restart: extensions get
    /// `onBrowserUpdateAvailable` (and, in kiosk mode, `onRestartRequired("os_update")`); the
    /// next start runs the new version.
    pub(crate) fn stage_browser_update(&mut self, version: String) {
        self.record(
            None,
            Some(Context::Browser),
            TraceEvent::BrowserUpdateStaged {
                version: version.clone(),
            },
        );
        self.staged_version = Some(version);
        if !self.running {
            return;
        }
        let ids: Vec<ExtensionId> = self.extensions.keys().cloned().collect();
        for ext in ids {
            self.deliver(&ext, RuntimeEvent::BrowserUpdateAvailable);
        }
        self.require_restart(OnRestartRequiredReason::OsUpdate);
    }
}
