//! `runtime.reload()` and the user's reload: what the extension lifecycle decides
//! ([`ReloadPlan`], [`ReloadVerdict`]), carried out.

use crate::model::event::OnInstalledDetails;
use crate::model::extension_id::ExtensionId;
use crate::model::extension_lifecycle::{ReloadPlan, ReloadVerdict};
use crate::model::reload_guard::{FAST_RELOAD_TIME, UNPACKED_FAST_RELOAD_TIME};
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::Work;
use crate::model::world::Model;

impl Model {
    /// `runtime.reload()` called by the extension: the fast-reload guard decides now, and the
    /// reload (or the termination) happens in a step of its own, after the call has answered.
    pub(crate) fn reload_requested(&mut self, ext: &ExtensionId) {
        let now = self.bus.now();
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let unpacked = rec.location.is_unpacked();
        let verdict = rec.life.reload_requested(now, unpacked);
        if self.config.kiosk {
            self.record(
                Some(ext),
                Some(TraceContext::Browser),
                TraceEvent::Warning {
                    message: "runtime.reload() is not supported in kiosk mode (use runtime.restart()); Chromium reloads the app anyway".into(),
                },
            );
        }
        let terminate = match verdict {
            ReloadVerdict::Terminate { fast } => Some(fast),
            ReloadVerdict::Reload => None,
        };
        self.bus.post(Work::Reload {
            ext: ext.clone(),
            terminate,
        });
    }

    /// The reload `runtime.reload()` asked for.
    pub(crate) fn reload_step(&mut self, ext: &ExtensionId, terminate: Option<u32>) {
        match terminate {
            Some(fast) => self.terminate_for_fast_reloads(ext, fast),
            None => self.reload_extension(ext),
        }
    }

    /// Reloads an extension: a waiting update is installed; otherwise an unpacked extension
    /// is installed again and a packed one loaded again.
    pub(crate) fn reload_extension(&mut self, ext: &ExtensionId) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let unpacked = rec.location.is_unpacked();
        let version = rec.manifest.version().to_owned();
        let reinstalled = match rec.life.reload(unpacked) {
            ReloadPlan::InstallUpdate(update) => {
                self.install_update(ext, *update);
                return;
            }
            ReloadPlan::Reinstall => true,
            ReloadPlan::LoadAgain => false,
        };
        self.unload_extension(ext);
        self.record(
            Some(ext),
            Some(TraceContext::Browser),
            TraceEvent::Reloaded { reinstalled },
        );
        if reinstalled {
            if let Some(info) = self.updates.checks.get_mut(ext) {
                info.backoff.reset();
            }
            self.activate(ext, Some(OnInstalledDetails::update(version)));
        } else {
            self.activate(ext, None);
        }
    }

    /// The user reloads an extension from the extensions page (no guard applies): a
    /// terminated one runs again. `false` if it is not installed.
    pub(crate) fn user_reload(&mut self, ext: &ExtensionId) -> bool {
        let Some(rec) = self.extensions.get_mut(ext) else {
            return false;
        };
        rec.life.restore();
        self.reload_extension(ext);
        true
    }

    /// The guard tripped: the extension is terminated (unloaded, still installed) with a
    /// "reload too frequent" warning.
    fn terminate_for_fast_reloads(&mut self, ext: &ExtensionId, fast: u32) {
        let Some(rec) = self.ext(ext) else {
            return;
        };
        let window = if rec.location.is_unpacked() {
            UNPACKED_FAST_RELOAD_TIME
        } else {
            FAST_RELOAD_TIME
        };
        self.unload_extension(ext);
        self.record(
            Some(ext),
            Some(TraceContext::Browser),
            TraceEvent::Terminated {
                reason: format!(
                    "reload too frequent: runtime.reload() was called {} times in a row, each within {} s of the previous one; the extension is terminated until the user reloads it",
                    fast + 1,
                    window.as_secs()
                ),
            },
        );
        if let Some(rec) = self.ext_mut(ext) {
            rec.life.terminate();
        }
    }
}
