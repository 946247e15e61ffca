//! The event objects of one context (one load of a background page, a view, a content
//! script, a web page, a native application) and its `runtime.lastError`: where the context's
//! listeners live. A new load gets new objects: listeners do not survive a suspend.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use runtime_events::{Dispatch, Event, EventObserver};
use serde_json::Value;

use crate::driver::last_error::LastErrorSlot;
use crate::driver::on_message::OnMessageEvent;
use crate::driver::port::Port;
use crate::model::event::{OnInstalledDetails, OnRestartRequiredReason, RuntimeEvent};
use crate::model::names::RuntimeEventName;

thread_local! {
    /// The names of `chrome.runtime`'s events as event objects hold them: one copy for the
    /// thread, so that making a page's event objects does not copy their names.
    static NAMES: [Rc<str>; 12] = RuntimeEventName::ALL.map(|e| Rc::from(e.as_str()));
}

fn shared_name(event: RuntimeEventName) -> Rc<str> {
    NAMES.with(|names| Rc::clone(&names[event as usize]))
}

/// The event objects of one context, and its `runtime.lastError`.
///
/// Each event object is made when it is first used: a page uses few of the twelve, and
/// thousands of pages may be loaded at once.
pub(crate) struct ContextEvents {
    on_startup: OnceCell<Event<()>>,
    on_installed: OnceCell<Event<OnInstalledDetails>>,
    on_suspend: OnceCell<Event<()>>,
    on_suspend_canceled: OnceCell<Event<()>>,
    on_update_available: OnceCell<Event<Value>>,
    on_browser_update_available: OnceCell<Event<()>>,
    on_restart_required: OnceCell<Event<OnRestartRequiredReason>>,
    on_message: OnceCell<OnMessageEvent>,
    on_message_external: OnceCell<OnMessageEvent>,
    on_connect: OnceCell<Event<Port>>,
    on_connect_external: OnceCell<Event<Port>>,
    on_connect_native: OnceCell<Event<Port>>,
    pub(crate) last_error: LastErrorSlot,
    /// Other APIs' events (`alarms.onAlarm`, …), in the order they were first used.
    named: RefCell<Vec<Event<Value>>>,
    observer: Option<Rc<dyn EventObserver>>,
}

impl ContextEvents {
    /// The events of a context whose listeners the browser remembers (a background page:
    /// its lazy listeners), through `observer`; or, with `None`, of one whose listeners
    /// nobody needs to remember.
    pub(crate) fn new(observer: Option<Rc<dyn EventObserver>>) -> Self {
        ContextEvents {
            on_startup: OnceCell::new(),
            on_installed: OnceCell::new(),
            on_suspend: OnceCell::new(),
            on_suspend_canceled: OnceCell::new(),
            on_update_available: OnceCell::new(),
            on_browser_update_available: OnceCell::new(),
            on_restart_required: OnceCell::new(),
            on_message: OnceCell::new(),
            on_message_external: OnceCell::new(),
            on_connect: OnceCell::new(),
            on_connect_external: OnceCell::new(),
            on_connect_native: OnceCell::new(),
            last_error: LastErrorSlot::default(),
            named: RefCell::new(Vec::new()),
            observer,
        }
    }

    fn make<A>(&self, name: Rc<str>) -> Event<A> {
        match &self.observer {
            Some(observer) => Event::with_observer(name, Rc::clone(observer)),
            None => Event::new(name),
        }
    }

    /// The event in `slot`, made on first use.
    fn event<'a, A>(&self, slot: &'a OnceCell<Event<A>>, name: RuntimeEventName) -> &'a Event<A> {
        slot.get_or_init(|| self.make(shared_name(name)))
    }

    /// The messaging event in `slot`, made on first use.
    fn on_message_event<'a>(
        &self,
        slot: &'a OnceCell<OnMessageEvent>,
        name: RuntimeEventName,
    ) -> &'a OnMessageEvent {
        slot.get_or_init(|| OnMessageEvent::new(self.make(shared_name(name))))
    }

    /// `runtime.onStartup`.
    pub(crate) fn on_startup(&self) -> &Event<()> {
        self.event(&self.on_startup, RuntimeEventName::OnStartup)
    }

    /// `runtime.onInstalled`.
    pub(crate) fn on_installed(&self) -> &Event<OnInstalledDetails> {
        self.event(&self.on_installed, RuntimeEventName::OnInstalled)
    }

    /// `runtime.onSuspend`.
    pub(crate) fn on_suspend(&self) -> &Event<()> {
        self.event(&self.on_suspend, RuntimeEventName::OnSuspend)
    }

    /// `runtime.onSuspendCanceled`.
    pub(crate) fn on_suspend_canceled(&self) -> &Event<()> {
        self.event(
            &self.on_suspend_canceled,
            RuntimeEventName::OnSuspendCanceled,
        )
    }

    /// `runtime.onUpdateAvailable`.
    pub(crate) fn on_update_available(&self) -> &Event<Value> {
        self.event(
            &self.on_update_available,
            RuntimeEventName::OnUpdateAvailable,
        )
    }

    /// `runtime.onBrowserUpdateAvailable`.
    pub(crate) fn on_browser_update_available(&self) -> &Event<()> {
        self.event(
            &self.on_browser_update_available,
            RuntimeEventName::OnBrowserUpdateAvailable,
        )
    }

    /// `runtime.onRestartRequired`.
    pub(crate) fn on_restart_required(&self) -> &Event<OnRestartRequiredReason> {
        self.event(
            &self.on_restart_required,
            RuntimeEventName::OnRestartRequired,
        )
    }

    /// `runtime.onMessage`.
    pub(crate) fn on_message(&self) -> &OnMessageEvent {
        self.on_message_event(&self.on_message, RuntimeEventName::OnMessage)
    }

    /// `runtime.onMessageExternal`.
    pub(crate) fn on_message_external(&self) -> &OnMessageEvent {
        self.on_message_event(
            &self.on_message_external,
            RuntimeEventName::OnMessageExternal,
        )
    }

    /// `runtime.onConnect`.
    pub(crate) fn on_connect(&self) -> &Event<Port> {
        self.event(&self.on_connect, RuntimeEventName::OnConnect)
    }

    /// `runtime.onConnectExternal`.
    pub(crate) fn on_connect_external(&self) -> &Event<Port> {
        self.event(
            &self.on_connect_external,
            RuntimeEventName::OnConnectExternal,
        )
    }

    /// `runtime.onConnectNative`.
    pub(crate) fn on_connect_native(&self) -> &Event<Port> {
        self.event(&self.on_connect_native, RuntimeEventName::OnConnectNative)
    }

    /// The event of another API with this name, created on first use.
    pub(crate) fn named(&self, name: &str) -> Event<Value> {
        if let Some(event) = self.named_if_used(name) {
            return event;
        }
        let event = self.make(Rc::from(name));
        self.named.borrow_mut().push(event.clone());
        event
    }

    /// The event of another API with this name, if it was used.
    fn named_if_used(&self, name: &str) -> Option<Event<Value>> {
        self.named
            .borrow()
            .iter()
            .find(|event| event.name() == name)
            .cloned()
    }

    /// Drops every listener of the context, which has gone: a listener that holds the
    /// context's own `runtime` (as most do) would otherwise keep it, and itself, for good.
    pub(crate) fn clear_listeners(&self) {
        fn clear<A>(slot: &OnceCell<Event<A>>) {
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
        let named = std::mem::take(&mut *self.named.borrow_mut());
        for event in &named {
            event.clear_listeners();
        }
    }

    /// Calls the listeners of a runtime event. An event object that was never made has no
    /// listener: it is not made for the dispatch (thousands of pages get `onInstalled` with
    /// no listener for it).
    pub(crate) fn dispatch(&self, event: &RuntimeEvent) -> Dispatch {
        fn to<A: Clone>(slot: &OnceCell<Event<A>>, args: impl FnOnce() -> A) -> Dispatch {
            slot.get()
                .map_or_else(Dispatch::default, |event| event.dispatch(args()))
        }
        match event {
            RuntimeEvent::Startup => to(&self.on_startup, || ()),
            RuntimeEvent::Installed(details) => to(&self.on_installed, || details.clone()),
            RuntimeEvent::UpdateAvailable(manifest) => {
                to(&self.on_update_available, || manifest.clone())
            }
            RuntimeEvent::BrowserUpdateAvailable => to(&self.on_browser_update_available, || ()),
            RuntimeEvent::RestartRequired(reason) => to(&self.on_restart_required, || *reason),
            RuntimeEvent::Named { name, args } => match self.named_if_used(name) {
                Some(event) => event.dispatch(args.clone()),
                None => Dispatch::default(),
            },
        }
    }

    /// How many listeners a runtime event would reach now (none for an event object that was
    /// never made, which is not made for this).
    pub(crate) fn listener_count(&self, event: &RuntimeEvent) -> usize {
        fn count<A>(slot: &OnceCell<Event<A>>) -> usize {
            slot.get().map_or(0, Event::listener_count)
        }
        match event {
            RuntimeEvent::Startup => count(&self.on_startup),
            RuntimeEvent::Installed(_) => count(&self.on_installed),
            RuntimeEvent::UpdateAvailable(_) => count(&self.on_update_available),
            RuntimeEvent::BrowserUpdateAvailable => count(&self.on_browser_update_available),
            RuntimeEvent::RestartRequired(_) => count(&self.on_restart_required),
            RuntimeEvent::Named { name, .. } => self
                .named_if_used(name)
                .map_or(0, |event| event.listener_count()),
        }
    }
}
