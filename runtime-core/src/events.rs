//! The events of `chrome.runtime` and the event objects of one page load.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use runtime_events::{Dispatch, Event, EventObserver};
use serde::Serialize;
use serde_json::Value;

use crate::executor::lock;
use crate::kiosk::OnRestartRequiredReason;
use crate::last_error::LastErrorSlot;
use crate::on_message::OnMessageEvent;
use crate::port::Port;

/// `runtime.OnInstalledReason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInstalledReason {
    /// First install.
    Install,
    /// A new version was installed.
    Update,
    /// The browser's own version changed.
    ChromeUpdate,
    /// A shared module this extension imports was updated.
    SharedModuleUpdate,
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

pub(crate) const ON_STARTUP: &str = "runtime.onStartup";
pub(crate) const ON_INSTALLED: &str = "runtime.onInstalled";
pub(crate) const ON_SUSPEND: &str = "runtime.onSuspend";
pub(crate) const ON_UPDATE_AVAILABLE: &str = "runtime.onUpdateAvailable";
pub(crate) const ON_BROWSER_UPDATE_AVAILABLE: &str = "runtime.onBrowserUpdateAvailable";
pub(crate) const ON_RESTART_REQUIRED: &str = "runtime.onRestartRequired";
pub(crate) const ON_SUSPEND_CANCELED: &str = "runtime.onSuspendCanceled";
pub(crate) const ON_MESSAGE: &str = "runtime.onMessage";
pub(crate) const ON_MESSAGE_EXTERNAL: &str = "runtime.onMessageExternal";
pub(crate) const ON_CONNECT: &str = "runtime.onConnect";
pub(crate) const ON_CONNECT_EXTERNAL: &str = "runtime.onConnectExternal";
pub(crate) const ON_CONNECT_NATIVE: &str = "runtime.onConnectNative";

impl RuntimeEvent {
    pub(crate) fn name(&self) -> &str {
        match self {
            RuntimeEvent::Startup => ON_STARTUP,
            RuntimeEvent::Installed(_) => ON_INSTALLED,
            RuntimeEvent::UpdateAvailable(_) => ON_UPDATE_AVAILABLE,
            RuntimeEvent::BrowserUpdateAvailable => ON_BROWSER_UPDATE_AVAILABLE,
            RuntimeEvent::RestartRequired(_) => ON_RESTART_REQUIRED,
            RuntimeEvent::Named { name, .. } => name,
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

/// The event objects of one context (one load of a background page, a view, a content
/// script, a web page) and its `runtime.lastError`. A new load gets new objects: listeners do
/// not survive a suspend.
pub(crate) struct ContextEvents {
    pub(crate) on_startup: Event<()>,
    pub(crate) on_installed: Event<OnInstalledDetails>,
    pub(crate) on_suspend: Event<()>,
    pub(crate) on_suspend_canceled: Event<()>,
    pub(crate) on_update_available: Event<Value>,
    pub(crate) on_browser_update_available: Event<()>,
    pub(crate) on_restart_required: Event<OnRestartRequiredReason>,
    pub(crate) on_message: OnMessageEvent,
    pub(crate) on_message_external: OnMessageEvent,
    pub(crate) on_connect: Event<Port>,
    pub(crate) on_connect_external: Event<Port>,
    pub(crate) on_connect_native: Event<Port>,
    pub(crate) last_error: LastErrorSlot,
    named: Mutex<BTreeMap<String, Event<Value>>>,
    observer: Arc<dyn EventObserver>,
}

impl ContextEvents {
    pub(crate) fn new(observer: Arc<dyn EventObserver>) -> Self {
        ContextEvents {
            on_startup: Event::with_observer(ON_STARTUP, Arc::clone(&observer)),
            on_installed: Event::with_observer(ON_INSTALLED, Arc::clone(&observer)),
            on_suspend: Event::with_observer(ON_SUSPEND, Arc::clone(&observer)),
            on_suspend_canceled: Event::with_observer(ON_SUSPEND_CANCELED, Arc::clone(&observer)),
            on_update_available: Event::with_observer(ON_UPDATE_AVAILABLE, Arc::clone(&observer)),
            on_browser_update_available: Event::with_observer(
                ON_BROWSER_UPDATE_AVAILABLE,
                Arc::clone(&observer),
            ),
            on_restart_required: Event::with_observer(ON_RESTART_REQUIRED, Arc::clone(&observer)),
            on_message: OnMessageEvent::new(Event::with_observer(
                ON_MESSAGE,
                Arc::clone(&observer),
            )),
            on_message_external: OnMessageEvent::new(Event::with_observer(
                ON_MESSAGE_EXTERNAL,
                Arc::clone(&observer),
            )),
            on_connect: Event::with_observer(ON_CONNECT, Arc::clone(&observer)),
            on_connect_external: Event::with_observer(ON_CONNECT_EXTERNAL, Arc::clone(&observer)),
            on_connect_native: Event::with_observer(ON_CONNECT_NATIVE, Arc::clone(&observer)),
            last_error: LastErrorSlot::default(),
            named: Mutex::new(BTreeMap::new()),
            observer,
        }
    }

    /// The events of a context whose listeners nobody needs to remember (a view, a content
    /// script, a web page: only a background page has lazy listeners).
    pub(crate) fn unobserved() -> Self {
        struct NoObserver;
        impl EventObserver for NoObserver {}
        ContextEvents::new(Arc::new(NoObserver))
    }

    /// The event of another API with this name, created on first use.
    pub(crate) fn named(&self, name: &str) -> Event<Value> {
        lock(&self.named)
            .entry(name.to_owned())
            .or_insert_with(|| Event::with_observer(name, Arc::clone(&self.observer)))
            .clone()
    }

    /// Drops every listener of the context, which has gone: a listener that holds the
    /// context's own `runtime` (as most do) would otherwise keep it, and itself, for good.
    pub(crate) fn clear_listeners(&self) {
        self.on_startup.clear_listeners();
        self.on_installed.clear_listeners();
        self.on_suspend.clear_listeners();
        self.on_suspend_canceled.clear_listeners();
        self.on_update_available.clear_listeners();
        self.on_browser_update_available.clear_listeners();
        self.on_restart_required.clear_listeners();
        self.on_message.clear_listeners();
        self.on_message_external.clear_listeners();
        self.on_connect.clear_listeners();
        self.on_connect_external.clear_listeners();
        self.on_connect_native.clear_listeners();
        let named = std::mem::take(&mut *lock(&self.named));
        for event in named.values() {
            event.clear_listeners();
        }
    }

    pub(crate) fn dispatch(&self, event: &RuntimeEvent) -> Dispatch {
        match event {
            RuntimeEvent::Startup => self.on_startup.dispatch(()),
            RuntimeEvent::Installed(details) => self.on_installed.dispatch(details.clone()),
            RuntimeEvent::UpdateAvailable(manifest) => {
                self.on_update_available.dispatch(manifest.clone())
            }
            RuntimeEvent::BrowserUpdateAvailable => self.on_browser_update_available.dispatch(()),
            RuntimeEvent::RestartRequired(reason) => self.on_restart_required.dispatch(*reason),
            RuntimeEvent::Named { name, args } => {
                let target = lock(&self.named).get(&**name).cloned();
                match target {
                    Some(event) => event.dispatch(args.clone()),
                    None => Dispatch::default(),
                }
            }
        }
    }
}

impl ContextEvents {
    /// How many listeners a messaging event (`runtime.onMessage`, …) has now.
    pub(crate) fn listener_count_of(&self, event: &str) -> usize {
        match event {
            ON_MESSAGE => self.on_message.listener_count(),
            ON_MESSAGE_EXTERNAL => self.on_message_external.listener_count(),
            ON_CONNECT => self.on_connect.listener_count(),
            ON_CONNECT_EXTERNAL => self.on_connect_external.listener_count(),
            ON_CONNECT_NATIVE => self.on_connect_native.listener_count(),
            _ => 0,
        }
    }

    /// How many listeners the event would reach now.
    pub(crate) fn listener_count(&self, event: &RuntimeEvent) -> usize {
        match event {
            RuntimeEvent::Startup => self.on_startup.listener_count(),
            RuntimeEvent::Installed(_) => self.on_installed.listener_count(),
            RuntimeEvent::UpdateAvailable(_) => self.on_update_available.listener_count(),
            RuntimeEvent::BrowserUpdateAvailable => {
                self.on_browser_update_available.listener_count()
            }
            RuntimeEvent::RestartRequired(_) => self.on_restart_required.listener_count(),
            RuntimeEvent::Named { name, .. } => lock(&self.named)
                .get(&**name)
                .map_or(0, Event::listener_count),
        }
    }
}
