//! The events of `chrome.runtime` and the event objects of one page load.

use std::sync::{Arc, LazyLock, Mutex, OnceLock};

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

/// `chrome.runtime`'s events.
pub(crate) const RUNTIME_EVENTS: [&str; 12] = [
    ON_STARTUP,
    ON_INSTALLED,
    ON_SUSPEND,
    ON_SUSPEND_CANCELED,
    ON_UPDATE_AVAILABLE,
    ON_BROWSER_UPDATE_AVAILABLE,
    ON_RESTART_REQUIRED,
    ON_MESSAGE,
    ON_MESSAGE_EXTERNAL,
    ON_CONNECT,
    ON_CONNECT_EXTERNAL,
    ON_CONNECT_NATIVE,
];

/// The name of one of `chrome.runtime`'s events as an event object holds it: one copy for the
/// whole process, so that making a page's event objects does not copy their names.
fn shared_name(name: &'static str) -> Arc<str> {
    static NAMES: LazyLock<[Arc<str>; 12]> = LazyLock::new(|| RUNTIME_EVENTS.map(Arc::from));
    RUNTIME_EVENTS
        .iter()
        .position(|known| *known == name)
        .map_or_else(|| Arc::from(name), |i| Arc::clone(&NAMES[i]))
}

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
///
/// Each event object is made when it is first used: a page uses few of the twelve, and
/// thousands of pages may be loaded at once.
pub(crate) struct ContextEvents {
    on_startup: OnceLock<Event<()>>,
    on_installed: OnceLock<Event<OnInstalledDetails>>,
    on_suspend: OnceLock<Event<()>>,
    on_suspend_canceled: OnceLock<Event<()>>,
    on_update_available: OnceLock<Event<Value>>,
    on_browser_update_available: OnceLock<Event<()>>,
    on_restart_required: OnceLock<Event<OnRestartRequiredReason>>,
    on_message: OnceLock<OnMessageEvent>,
    on_message_external: OnceLock<OnMessageEvent>,
    on_connect: OnceLock<Event<Port>>,
    on_connect_external: OnceLock<Event<Port>>,
    on_connect_native: OnceLock<Event<Port>>,
    pub(crate) last_error: LastErrorSlot,
    /// Other APIs' events (`alarms.onAlarm`, …), in the order they were first used.
    named: Mutex<Vec<Event<Value>>>,
    observer: Arc<dyn EventObserver>,
}

impl ContextEvents {
    pub(crate) fn new(observer: Arc<dyn EventObserver>) -> Self {
        ContextEvents {
            on_startup: OnceLock::new(),
            on_installed: OnceLock::new(),
            on_suspend: OnceLock::new(),
            on_suspend_canceled: OnceLock::new(),
            on_update_available: OnceLock::new(),
            on_browser_update_available: OnceLock::new(),
            on_restart_required: OnceLock::new(),
            on_message: OnceLock::new(),
            on_message_external: OnceLock::new(),
            on_connect: OnceLock::new(),
            on_connect_external: OnceLock::new(),
            on_connect_native: OnceLock::new(),
            last_error: LastErrorSlot::default(),
            named: Mutex::new(Vec::new()),
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

    /// The event in `slot`, made on first use.
    fn event<'a, A>(&self, slot: &'a OnceLock<Event<A>>, name: &'static str) -> &'a Event<A> {
        slot.get_or_init(|| Event::with_observer(shared_name(name), Arc::clone(&self.observer)))
    }

    /// The messaging event in `slot`, made on first use.
    fn on_message_event<'a>(
        &self,
        slot: &'a OnceLock<OnMessageEvent>,
        name: &'static str,
    ) -> &'a OnMessageEvent {
        slot.get_or_init(|| {
            OnMessageEvent::new(Event::with_observer(
                shared_name(name),
                Arc::clone(&self.observer),
            ))
        })
    }

    /// `runtime.onStartup`.
    pub(crate) fn on_startup(&self) -> &Event<()> {
        self.event(&self.on_startup, ON_STARTUP)
    }

    /// `runtime.onInstalled`.
    pub(crate) fn on_installed(&self) -> &Event<OnInstalledDetails> {
        self.event(&self.on_installed, ON_INSTALLED)
    }

    /// `runtime.onSuspend`.
    pub(crate) fn on_suspend(&self) -> &Event<()> {
        self.event(&self.on_suspend, ON_SUSPEND)
    }

    /// `runtime.onSuspendCanceled`.
    pub(crate) fn on_suspend_canceled(&self) -> &Event<()> {
        self.event(&self.on_suspend_canceled, ON_SUSPEND_CANCELED)
    }

    /// `runtime.onUpdateAvailable`.
    pub(crate) fn on_update_available(&self) -> &Event<Value> {
        self.event(&self.on_update_available, ON_UPDATE_AVAILABLE)
    }

    /// `runtime.onBrowserUpdateAvailable`.
    pub(crate) fn on_browser_update_available(&self) -> &Event<()> {
        self.event(
            &self.on_browser_update_available,
            ON_BROWSER_UPDATE_AVAILABLE,
        )
    }

    /// `runtime.onRestartRequired`.
    pub(crate) fn on_restart_required(&self) -> &Event<OnRestartRequiredReason> {
        self.event(&self.on_restart_required, ON_RESTART_REQUIRED)
    }

    /// `runtime.onMessage`.
    pub(crate) fn on_message(&self) -> &OnMessageEvent {
        self.on_message_event(&self.on_message, ON_MESSAGE)
    }

    /// `runtime.onMessageExternal`.
    pub(crate) fn on_message_external(&self) -> &OnMessageEvent {
        self.on_message_event(&self.on_message_external, ON_MESSAGE_EXTERNAL)
    }

    /// `runtime.onConnect`.
    pub(crate) fn on_connect(&self) -> &Event<Port> {
        self.event(&self.on_connect, ON_CONNECT)
    }

    /// `runtime.onConnectExternal`.
    pub(crate) fn on_connect_external(&self) -> &Event<Port> {
        self.event(&self.on_connect_external, ON_CONNECT_EXTERNAL)
    }

    /// `runtime.onConnectNative`.
    pub(crate) fn on_connect_native(&self) -> &Event<Port> {
        self.event(&self.on_connect_native, ON_CONNECT_NATIVE)
    }

    /// The event of another API with this name, created on first use.
    pub(crate) fn named(&self, name: &str) -> Event<Value> {
        let mut named = lock(&self.named);
        if let Some(event) = named.iter().find(|event| event.name() == name) {
            return event.clone();
        }
        let event = Event::with_observer(name, Arc::clone(&self.observer));
        named.push(event.clone());
        event
    }

    /// The event of another API with this name, if it was used.
    fn named_if_used(&self, name: &str) -> Option<Event<Value>> {
        lock(&self.named)
            .iter()
            .find(|event| event.name() == name)
            .cloned()
    }

    /// Drops every listener of the context, which has gone: a listener that holds the
    /// context's own `runtime` (as most do) would otherwise keep it, and itself, for good.
    pub(crate) fn clear_listeners(&self) {
        fn clear<A>(slot: &OnceLock<Event<A>>) {
            if let Some(event) = slot.get() {
                event.clear_listeners();
            }
        }
        clear(&self.on_startup);
        clear(&self.on_installed);
        clear(&self.on_suspend);
        clear(&self.on_suspend_canceled);
        clear(&self.on_update_available);
        clear(&self.on_browser_update_available);
        clear(&self.on_restart_required);
        for slot in [&self.on_message, &self.on_message_external] {
            if let Some(event) = slot.get() {
                event.clear_listeners();
            }
        }
        clear(&self.on_connect);
        clear(&self.on_connect_external);
        clear(&self.on_connect_native);
        let named = std::mem::take(&mut *lock(&self.named));
        for event in &named {
            event.clear_listeners();
        }
    }

    pub(crate) fn dispatch(&self, event: &RuntimeEvent) -> Dispatch {
        match event {
            RuntimeEvent::Startup => self.on_startup().dispatch(()),
            RuntimeEvent::Installed(details) => self.on_installed().dispatch(details.clone()),
            RuntimeEvent::UpdateAvailable(manifest) => {
                self.on_update_available().dispatch(manifest.clone())
            }
            RuntimeEvent::BrowserUpdateAvailable => self.on_browser_update_available().dispatch(()),
            RuntimeEvent::RestartRequired(reason) => self.on_restart_required().dispatch(*reason),
            RuntimeEvent::Named { name, args } => {
                let target = self.named_if_used(name);
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
            ON_MESSAGE => self.on_message().listener_count(),
            ON_MESSAGE_EXTERNAL => self.on_message_external().listener_count(),
            ON_CONNECT => self.on_connect().listener_count(),
            ON_CONNECT_EXTERNAL => self.on_connect_external().listener_count(),
            ON_CONNECT_NATIVE => self.on_connect_native().listener_count(),
            _ => 0,
        }
    }

    /// How many listeners the event would reach now.
    pub(crate) fn listener_count(&self, event: &RuntimeEvent) -> usize {
        match event {
            RuntimeEvent::Startup => self.on_startup().listener_count(),
            RuntimeEvent::Installed(_) => self.on_installed().listener_count(),
            RuntimeEvent::UpdateAvailable(_) => self.on_update_available().listener_count(),
            RuntimeEvent::BrowserUpdateAvailable => {
                self.on_browser_update_available().listener_count()
            }
            RuntimeEvent::RestartRequired(_) => self.on_restart_required().listener_count(),
            RuntimeEvent::Named { name, .. } => self
                .named_if_used(name)
                .map_or(0, |event| event.listener_count()),
        }
    }
}
