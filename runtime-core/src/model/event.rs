//! The events the browser sends to an extension's pages: their arguments, and an event on its
//! way to a page.

use std::sync::{Arc, LazyLock};

use serde::Serialize;
use serde_json::Value;

use crate::model::names::{EventName, RuntimeEventName};

/// `runtime.OnInstalledReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInstalledReason {
    /// First install.
    Install,
    /// A new version was installed.
    Update,
    /// The browser's own version changed (Chromium's name for it).
    ChromeUpdate,
    /// The browser's own version changed (Firefox's name for it).
    BrowserUpdate,
    /// A shared module this extension imports was updated.
    SharedModuleUpdate,
}

impl OnInstalledReason {
    /// The reason as the browser sends it: `install`, `update`, `chrome_update`,
    /// `browser_update` or `shared_module_update`.
    pub fn as_str(self) -> &'static str {
        match self {
            OnInstalledReason::Install => "install",
            OnInstalledReason::Update => "update",
            OnInstalledReason::ChromeUpdate => "chrome_update",
            OnInstalledReason::BrowserUpdate => "browser_update",
            OnInstalledReason::SharedModuleUpdate => "shared_module_update",
        }
    }
}

/// The argument of `runtime.onInstalled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OnInstalledDetails {
    /// Why the event fired.
    pub reason: OnInstalledReason,
    /// The version before an update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_version: Option<String>,
    /// The shared module's id, for `shared_module_update`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

impl OnInstalledDetails {
    /// `{reason: "install"}`.
    pub fn install() -> Self {
        OnInstalledDetails {
            reason: OnInstalledReason::Install,
            previous_version: None,
            id: None,
        }
    }

    /// `{reason: "update", previousVersion}`.
    pub fn update(previous_version: impl Into<String>) -> Self {
        OnInstalledDetails {
            reason: OnInstalledReason::Update,
            previous_version: Some(previous_version.into()),
            id: None,
        }
    }

    /// `{reason: "chrome_update"}`.
    pub fn chrome_update() -> Self {
        OnInstalledDetails {
            reason: OnInstalledReason::ChromeUpdate,
            previous_version: None,
            id: None,
        }
    }

    /// `{reason: "shared_module_update", previousVersion, id}`: the shared module `id` was
    /// updated from `previous_version`.
    pub fn shared_module_update(
        previous_version: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        OnInstalledDetails {
            reason: OnInstalledReason::SharedModuleUpdate,
            previous_version: Some(previous_version.into()),
            id: Some(id.into()),
        }
    }
}

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

/// An event on its way to an extension's background page.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum RuntimeEvent {
    Startup,
    Installed(OnInstalledDetails),
    /// `runtime.onUpdateAvailable`, with the new manifest.
    UpdateAvailable(Value),
    BrowserUpdateAvailable,
    RestartRequired(OnRestartRequiredReason),
    /// An event of another API (`alarms.onAlarm`, …) with JSON arguments.
    Named {
        name: Arc<str>,
        args: Value,
    },
}

impl RuntimeEvent {
    pub(crate) fn name(&self) -> EventName {
        let runtime = match self {
            RuntimeEvent::Startup => RuntimeEventName::OnStartup,
            RuntimeEvent::Installed(_) => RuntimeEventName::OnInstalled,
            RuntimeEvent::UpdateAvailable(_) => RuntimeEventName::OnUpdateAvailable,
            RuntimeEvent::BrowserUpdateAvailable => RuntimeEventName::OnBrowserUpdateAvailable,
            RuntimeEvent::RestartRequired(_) => RuntimeEventName::OnRestartRequired,
            RuntimeEvent::Named { name, .. } => return EventName::Api(Arc::clone(name)),
        };
        EventName::Runtime(runtime)
    }

    /// [`RuntimeEvent::args`] as the trace keeps them: one shared value where every dispatch
    /// has the same arguments (none; `onInstalled`'s plain `{reason}`), so that 10 000
    /// extensions installed record one copy, not 10 000.
    pub(crate) fn shared_args(&self) -> Arc<Value> {
        static NONE: LazyLock<Arc<Value>> = LazyLock::new(|| Arc::new(Value::Null));
        static PLAIN_INSTALLED: LazyLock<[Arc<Value>; 5]> = LazyLock::new(|| {
            [
                OnInstalledReason::Install,
                OnInstalledReason::Update,
                OnInstalledReason::ChromeUpdate,
                OnInstalledReason::BrowserUpdate,
                OnInstalledReason::SharedModuleUpdate,
            ]
            .map(|reason| {
                Arc::new(
                    RuntimeEvent::Installed(OnInstalledDetails {
                        reason,
                        previous_version: None,
                        id: None,
                    })
                    .args(),
                )
            })
        });
        match self {
            RuntimeEvent::Startup | RuntimeEvent::BrowserUpdateAvailable => Arc::clone(&NONE),
            RuntimeEvent::Installed(OnInstalledDetails {
                reason,
                previous_version: None,
                id: None,
            }) => Arc::clone(&PLAIN_INSTALLED[*reason as usize]),
            _ => Arc::new(self.args()),
        }
    }

    pub(crate) fn args(&self) -> Value {
        match self {
            RuntimeEvent::Startup | RuntimeEvent::BrowserUpdateAvailable => Value::Null,
            RuntimeEvent::Installed(d) => serde_json::to_value(d).unwrap_or(Value::Null),
            RuntimeEvent::UpdateAvailable(manifest) => manifest.clone(),
            RuntimeEvent::RestartRequired(reason) => Value::String(reason.as_str().to_owned()),
            RuntimeEvent::Named { args, .. } => args.clone(),
        }
    }

    /// Whether the event loads an unloaded event page even if the page never registered a
    /// listener for it. Chromium dispatches `onInstalled` "with a lazy listener": it always
    /// loads the page. `onStartup`, like every other event, wakes the page only if it listened
    /// to it when it last ran.
    pub(crate) fn always_wakes(&self) -> bool {
        matches!(self, RuntimeEvent::Installed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared arguments are the event's own, for every reason of `onInstalled` and with
    /// a previous version too.
    #[test]
    fn shared_args_are_the_events_args() {
        let reasons = [
            OnInstalledReason::Install,
            OnInstalledReason::Update,
            OnInstalledReason::ChromeUpdate,
            OnInstalledReason::BrowserUpdate,
            OnInstalledReason::SharedModuleUpdate,
        ];
        for reason in reasons {
            for previous_version in [None, Some("1.0".to_owned())] {
                let event = RuntimeEvent::Installed(OnInstalledDetails {
                    reason,
                    previous_version,
                    id: None,
                });
                assert_eq!(*event.shared_args(), event.args(), "{event:?}");
            }
        }
        assert_eq!(*RuntimeEvent::Startup.shared_args(), Value::Null);
    }
}
