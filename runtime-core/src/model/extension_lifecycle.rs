//! An extension's own life, as one state machine: enabled, an update waiting to be installed,
//! terminated — and the rules that move it: the install gate (Chromium's
//! `UpdateInstallGate`), `reload()` and its fast-reload guard
//! (`ChromeRuntimeAPIDelegate::ReloadExtension`). Installing and uninstalling are the
//! machine's start and end: an uninstalled extension has no state.
//!
//! It is pure: the browser asks it what to do, then does it.

use runtime_events::SimInstant;

use crate::model::package::Package;
use crate::model::reload_guard::ReloadGuard;

/// Where an installed extension is in its life.
#[derive(Clone, Debug)]
pub(crate) enum ExtensionState {
    /// Installed and enabled.
    Enabled,
    /// A newer version was found while the extension was in use; it is installed when the
    /// extension goes idle, on `reload()`, or at the next start of the browser.
    UpdateWaiting(Box<Package>),
    /// Terminated (too many fast reloads): installed, but not running until the user reloads
    /// it or the browser starts again.
    Terminated,
}

/// What the browser knows of an extension's use when it finds an update for it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InUse {
    /// The browser is starting: what it finds now is installed at once.
    pub(crate) starting: bool,
    /// The extension has a persistent background page.
    pub(crate) persistent: bool,
    /// Its page listened to `runtime.onUpdateAvailable` when it last ran.
    pub(crate) listens_to_update_available: bool,
    /// Nothing of it runs: no loaded page, no open view (Chromium's `IsExtensionIdle`).
    pub(crate) idle: bool,
}

/// What to do with an update that was found.
#[derive(Debug)]
pub(crate) enum UpdateDecision {
    /// Install it now.
    InstallNow(Box<Package>),
    /// It waits (the state is now [`ExtensionState::UpdateWaiting`]); `onUpdateAvailable`
    /// tells the extension, and the reason goes into the trace.
    Wait { reason: &'static str },
}

/// What `runtime.reload()` does.
#[derive(Debug)]
pub(crate) enum ReloadPlan {
    /// An update was waiting: it is installed instead.
    InstallUpdate(Box<Package>),
    /// An unpacked extension is installed again from its folder (`onInstalled` `update`, with
    /// its own version as `previousVersion`).
    Reinstall,
    /// A packed extension is loaded again (no `onInstalled`).
    LoadAgain,
}

/// The verdict of the fast-reload guard on a reload the extension asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReloadVerdict {
    /// Reload.
    Reload,
    /// Terminate instead: it has reloaded itself `fast` times in a row, each soon after the
    /// previous one.
    Terminate { fast: u32 },
}

/// One installed extension's life.
#[derive(Clone, Debug)]
pub(crate) struct ExtensionLifecycle {
    state: ExtensionState,
    /// `runtime.reload()` history in this run of the browser.
    guard: ReloadGuard,
}

impl Default for ExtensionLifecycle {
    fn default() -> Self {
        ExtensionLifecycle {
            state: ExtensionState::Enabled,
            guard: ReloadGuard::default(),
        }
    }
}

impl ExtensionLifecycle {
    /// The current state.
    #[cfg(test)]
    pub(crate) fn state(&self) -> &ExtensionState {
        &self.state
    }

    /// Whether the extension runs (it is not terminated).
    pub(crate) fn is_running(&self) -> bool {
        !matches!(self.state, ExtensionState::Terminated)
    }

    /// The update that waits to be installed.
    pub(crate) fn waiting_update(&self) -> Option<&Package> {
        match &self.state {
            ExtensionState::UpdateWaiting(update) => Some(update),
            _ => None,
        }
    }

    /// The install gate: an update was found.
    pub(crate) fn update_found(&mut self, update: Package, use_: InUse) -> UpdateDecision {
        let reason = if use_.starting {
            None
        } else if use_.persistent {
            use_.listens_to_update_available.then_some(
                "the persistent page listens to runtime.onUpdateAvailable: the update waits for reload() or the next browser start",
            )
        } else {
            (!use_.idle).then_some(
                "the extension is in use (its page is loaded or a view is open): the update is installed when it goes idle, on reload(), or at the next browser start",
            )
        };
        match reason {
            None => UpdateDecision::InstallNow(Box::new(update)),
            Some(reason) => {
                self.state = ExtensionState::UpdateWaiting(Box::new(update));
                UpdateDecision::Wait { reason }
            }
        }
    }

    /// Takes the waiting update, to install it (the extension went idle, or the browser is
    /// starting).
    pub(crate) fn take_update(&mut self) -> Option<Box<Package>> {
        match std::mem::replace(&mut self.state, ExtensionState::Enabled) {
            ExtensionState::UpdateWaiting(update) => Some(update),
            other => {
                self.state = other;
                None
            }
        }
    }

    /// The fast-reload guard, on a `runtime.reload()` the extension called at `now`.
    pub(crate) fn reload_requested(&mut self, now: SimInstant, unpacked: bool) -> ReloadVerdict {
        match self.guard.record(now, unpacked) {
            Some(fast) => ReloadVerdict::Terminate { fast },
            None => ReloadVerdict::Reload,
        }
    }

    /// What a reload does (a waiting update is taken).
    pub(crate) fn reload(&mut self, unpacked: bool) -> ReloadPlan {
        match self.take_update() {
            Some(update) => ReloadPlan::InstallUpdate(update),
            None if unpacked => ReloadPlan::Reinstall,
            None => ReloadPlan::LoadAgain,
        }
    }

    /// The guard tripped: terminated until the user reloads it or the browser starts again.
    pub(crate) fn terminate(&mut self) {
        self.state = ExtensionState::Terminated;
    }

    /// The user reloads it, or the browser starts again: a terminated extension runs again.
    /// Returns whether it was terminated.
    pub(crate) fn restore(&mut self) -> bool {
        let terminated = !self.is_running();
        if terminated {
            self.state = ExtensionState::Enabled;
        }
        terminated
    }

    /// The browser stopped: what it knew of reloads goes with it.
    pub(crate) fn browser_stopped(&mut self) {
        self.guard = ReloadGuard::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::manifest::Manifest;
    use crate::model::package::Location;
    use serde_json::json;
    use std::time::Duration;

    fn package(version: &str) -> Package {
        let manifest =
            Manifest::from_value(json!({"name": "x", "version": version})).expect("a manifest");
        Package {
            manifest: manifest.into(),
            location: Location::Packed,
            path: "/x".into(),
            script: None,
            context_script: None,
        }
    }

    fn in_use(idle: bool) -> InUse {
        InUse {
            starting: false,
            persistent: false,
            listens_to_update_available: false,
            idle,
        }
    }

    #[test]
    fn an_update_waits_while_the_extension_is_in_use_and_goes_in_when_it_is_idle() {
        let mut life = ExtensionLifecycle::default();
        assert!(matches!(
            life.update_found(package("2"), in_use(true)),
            UpdateDecision::InstallNow(_)
        ));
        assert!(matches!(
            life.update_found(package("2"), in_use(false)),
            UpdateDecision::Wait { .. }
        ));
        assert_eq!(
            life.waiting_update().map(|p| p.manifest.version()),
            Some("2")
        );
        assert!(life.take_update().is_some());
        assert!(matches!(life.state(), ExtensionState::Enabled));
        assert!(life.take_update().is_none());
    }

    #[test]
    fn a_reload_installs_a_waiting_update_first() {
        let mut life = ExtensionLifecycle::default();
        let _ = life.update_found(package("2"), in_use(false));
        assert!(matches!(life.reload(true), ReloadPlan::InstallUpdate(_)));
        assert!(matches!(life.reload(true), ReloadPlan::Reinstall));
        assert!(matches!(life.reload(false), ReloadPlan::LoadAgain));
    }

    #[test]
    fn the_guard_terminates_and_a_user_reload_restores() {
        let mut life = ExtensionLifecycle::default();
        let at = |s| SimInstant::from_start(Duration::from_secs(s));
        for s in 0..5 {
            assert_eq!(life.reload_requested(at(s), false), ReloadVerdict::Reload);
        }
        assert_eq!(
            life.reload_requested(at(5), false),
            ReloadVerdict::Terminate { fast: 5 }
        );
        life.terminate();
        assert!(!life.is_running());
        assert!(life.restore());
        assert!(life.is_running());
        life.browser_stopped();
        assert_eq!(life.reload_requested(at(6), false), ReloadVerdict::Reload);
    }
}
