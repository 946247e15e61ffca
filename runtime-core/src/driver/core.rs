//! The driver's state: the model behind one `RefCell`, the local executor, the inbox, and what
//! runs code or waits for it — the contexts' listeners, the ports, the code waiting for calls
//! and replies, the scripts' timers, the native hosts' stdins. Everything here lives on the
//! thread that drives the browser; only the inbox crosses threads.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use rustc_hash::FxHashMap;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::driver::awaited::{Awaited, Awaiting};
use crate::driver::executor::{Executor, TaskFuture};
use crate::driver::inbox::{Inbox, Incoming};
use crate::driver::listeners::ContextEvents;
use crate::driver::port::Port;
use crate::driver::reply::{reply_channel, ReplyReceiver, ReplySender};
use crate::driver::watchdog::Beat;
use crate::model::calls::CallOutcome;
use crate::model::contexts::{ContextId, ScriptPlace};
use crate::model::ids::{CallId, ChannelId, EndId, ScriptId, TimerId};
use crate::model::trace_entry::TraceEntry;
use crate::model::work::{HostSource, InboxItem, Signal};
use crate::model::Model;

/// A background script, as the driver keeps it: what starts the top-level code of a page load.
pub(crate) trait PageScript {
    /// The top-level code of a new load of the page `context`, whose listeners are `events`;
    /// `None` if the context is gone.
    fn start(
        &self,
        driver: &Rc<Driver>,
        context: &ContextId,
        events: Rc<ContextEvents>,
    ) -> Option<TaskFuture>;
}

/// The code of an extension's other contexts, as the driver keeps it: what starts the
/// top-level code of a content script or a view that has just begun.
pub(crate) trait ContextCode {
    /// The top-level code of the new context `context`, at `place`; `None` if the context is
    /// gone.
    fn start(
        &self,
        driver: &Rc<Driver>,
        context: &ContextId,
        place: ScriptPlace,
    ) -> Option<TaskFuture>;
}

/// How many contexts' entries the table of listeners keeps room for once it is empty: the
/// table of thousands of pages loaded at once goes when they have gone.
const KEPT_CONTEXTS: usize = 1024;

/// What waits for an API call's outcome.
pub(crate) type CallWaiter = Box<dyn FnOnce(CallOutcome)>;

/// A script's timer (`Runtime::sleep`): whether it fired, and who waits for it.
#[derive(Default)]
pub(crate) struct TimerSlot {
    pub(crate) fired: Cell<bool>,
    pub(crate) waker: RefCell<Option<Waker>>,
}

impl TimerSlot {
    fn fire(&self) {
        self.fired.set(true);
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// Settings of the driver, fixed when the browser is built.
#[derive(Clone, Debug)]
pub(crate) struct DriverSettings {
    /// The launcher set with `BrowserBuilder::native_launcher`; by default the profile's.
    pub(crate) launcher: Option<runtime_native::Launcher>,
    /// How long, in real time, the browser waits for a native host's answer (or end) before
    /// it gives up and lets the virtual clock move on.
    pub(crate) answer_limit: Duration,
    /// How much virtual time `Browser::block_on` runs before it gives up.
    pub(crate) block_on_limit: Duration,
    /// What sees every trace entry (`BrowserBuilder::on_trace_entry`).
    pub(crate) trace_hook: Option<TraceHook>,
}

/// A hook that sees every trace entry, kept or not.
#[derive(Clone)]
pub(crate) struct TraceHook(pub(crate) Arc<dyn Fn(&TraceEntry) + Send + Sync>);

impl std::fmt::Debug for TraceHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TraceHook")
    }
}

/// One simulated browser, as the driver runs it.
pub(crate) struct Driver {
    model: RefCell<Model>,
    pub(crate) executor: Executor,
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) settings: DriverSettings,
    /// The listeners of each context that has any.
    contexts: RefCell<FxHashMap<ContextId, Rc<ContextEvents>>>,
    /// The `Port` object of each port end.
    ports: RefCell<FxHashMap<(ChannelId, EndId), Port>>,
    /// What waits for each API call in flight.
    calls: RefCell<FxHashMap<CallId, CallWaiter>>,
    /// What waits for each one-time message's reply.
    replies: RefCell<FxHashMap<ChannelId, ReplySender>>,
    /// The scripts' timers that have not fired.
    timers: RefCell<FxHashMap<TimerId, Rc<TimerSlot>>>,
    /// The name and the stdin of each native host connected to a port.
    hosts: RefCell<FxHashMap<ChannelId, (String, mpsc::UnboundedSender<Value>)>>,
    /// The native hosts the browser waits for (see `real_time.rs`).
    pub(crate) awaited: RefCell<BTreeMap<HostSource, Awaited>>,
    /// Where in a script the code that calls the API now is (`file:line:column`), when its
    /// engine says (`Runtime::at_call_site`).
    pub(crate) call_site: RefCell<Option<String>>,
    /// The background scripts, by the id the model knows them by.
    scripts: RefCell<BTreeMap<ScriptId, Rc<dyn PageScript>>>,
    /// The code of the extensions' content scripts and views, by the id the model knows it by.
    context_scripts: RefCell<BTreeMap<ScriptId, Rc<dyn ContextCode>>>,
    next_script: Cell<u64>,
    /// The Tokio runtime native hosts run on, once one has been started.
    pub(crate) native: RefCell<Option<tokio::runtime::Runtime>>,
    /// What the driving thread runs, for the watchdog.
    pub(crate) beat: Arc<Beat>,
    /// An empty list with room, for the model's next signals (see `with_model`).
    spare_signals: RefCell<Vec<Signal>>,
    /// An empty list with room, for what the next step takes from the inbox.
    pub(crate) spare_incoming: RefCell<Vec<Incoming>>,
}

impl Driver {
    pub(crate) fn new(mut model: Model, settings: DriverSettings) -> Driver {
        if settings.trace_hook.is_some() {
            model.trace.tap();
        }
        let inbox = Arc::new(Inbox::default());
        Driver {
            model: RefCell::new(model),
            executor: Executor::new(&inbox),
            inbox,
            settings,
            contexts: RefCell::default(),
            call_site: RefCell::default(),
            ports: RefCell::default(),
            calls: RefCell::default(),
            replies: RefCell::default(),
            timers: RefCell::default(),
            hosts: RefCell::default(),
            awaited: RefCell::default(),
            scripts: RefCell::default(),
            context_scripts: RefCell::default(),
            next_script: Cell::new(0),
            native: RefCell::new(None),
            beat: Arc::default(),
            spare_signals: RefCell::default(),
            spare_incoming: RefCell::default(),
        }
    }

    /// Runs `f` on the model; then tells what the model settled (its signals). No extension
    /// code runs while the model is borrowed.
    pub(crate) fn with_model<R>(&self, f: impl FnOnce(&mut Model) -> R) -> R {
        let (result, mut signals) = {
            let mut model = self.model.borrow_mut();
            let result = f(&mut model);
            if model.signals.is_empty() {
                drop(model);
                self.feed_trace_hook();
                return result;
            }
            // The model gets the spare list (empty, with room), so that the next signal does
            // not allocate one; a nested call finds no spare and allocates its own.
            let spare = self.spare_signals.take();
            (result, std::mem::replace(&mut model.signals, spare))
        };
        for signal in signals.drain(..) {
            self.tell(signal);
        }
        {
            let mut spare = self.spare_signals.borrow_mut();
            if spare.capacity() == 0 {
                *spare = signals;
            }
        }
        self.feed_trace_hook();
        result
    }

    /// Hands the entries recorded since last time to the trace hook, if there is one.
    pub(crate) fn feed_trace_hook(&self) {
        let Some(hook) = &self.settings.trace_hook else {
            return;
        };
        let entries = match self.model.try_borrow_mut() {
            Ok(mut model) => model.trace.untapped(),
            // Called back from inside the model: the entries wait for the next call.
            Err(_) => return,
        };
        for entry in &entries {
            (hook.0)(entry);
        }
    }

    /// Reads the model.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Model) -> R) -> R {
        f(&self.model.borrow())
    }

    fn tell(&self, signal: Signal) {
        match signal {
            Signal::CallDone { call, outcome } => {
                let waiter = self.calls.borrow_mut().remove(&call);
                if let Some(waiter) = waiter {
                    waiter(outcome);
                }
            }
            Signal::Reply { channel, reply } => {
                let waiter = self.replies.borrow_mut().remove(&channel);
                if let Some(waiter) = waiter {
                    waiter.send(reply);
                }
            }
            Signal::PortDisconnected { channel, end } => {
                if let Some(port) = self.port(channel, end) {
                    port.mark_disconnected();
                }
            }
            Signal::ToHost { channel, message } => {
                let name = match self.hosts.borrow().get(&channel) {
                    Some((name, stdin)) => {
                        let _ = stdin.send(message);
                        name.clone()
                    }
                    None => return,
                };
                // The host has something to answer now.
                self.await_host(HostSource::Port(channel), &name, Awaiting::Answer);
            }
            Signal::CloseHost { channel } => {
                let host = self.hosts.borrow_mut().remove(&channel);
                if let Some((name, stdin)) = host {
                    drop(stdin);
                    // Its stdin closes: it is ending now.
                    self.await_host(HostSource::Port(channel), &name, Awaiting::End);
                }
            }
            Signal::TimerFired(timer) => {
                let slot = self.timers.borrow_mut().remove(&timer);
                if let Some(slot) = slot {
                    slot.fire();
                }
            }
        }
    }

    /// Hands something in, as another thread would.
    pub(crate) fn hand_in(&self, item: InboxItem) {
        self.inbox.hand_in(Incoming::Item(item));
    }

    /// The listeners of a context, made on first use.
    pub(crate) fn events_of(&self, context: &ContextId) -> Rc<ContextEvents> {
        if let Some(events) = self.contexts.borrow().get(context) {
            return Rc::clone(events);
        }
        let events = Rc::new(ContextEvents::new(None));
        self.contexts
            .borrow_mut()
            .insert(context.clone(), Rc::clone(&events));
        events
    }

    /// The listeners of a context, if it has had any.
    pub(crate) fn find_events(&self, context: &ContextId) -> Option<Rc<ContextEvents>> {
        self.contexts.borrow().get(context).cloned()
    }

    /// Sets the listeners of a context (a background page's, which its lazy listeners watch).
    pub(crate) fn set_events(&self, context: ContextId, events: Rc<ContextEvents>) {
        self.contexts.borrow_mut().insert(context, events);
    }

    /// A context has gone: its listeners go (dropped after the table is released, as they may
    /// hold anything).
    pub(crate) fn drop_events(&self, context: &ContextId) {
        let events = {
            let mut contexts = self.contexts.borrow_mut();
            let events = contexts.remove(context);
            if contexts.is_empty() && contexts.capacity() > KEPT_CONTEXTS {
                *contexts = FxHashMap::default();
            }
            events
        };
        if let Some(events) = events {
            events.clear_listeners();
        }
    }

    /// The `Port` object of a port end.
    pub(crate) fn port(&self, channel: ChannelId, end: EndId) -> Option<Port> {
        self.ports.borrow().get(&(channel, end)).cloned()
    }

    /// Keeps the `Port` object of a port end.
    pub(crate) fn add_port(&self, port: Port) {
        self.ports
            .borrow_mut()
            .insert((port.channel(), port.end()), port);
    }

    /// A closed channel's ports have been told: they go, with their listeners.
    pub(crate) fn drop_ports(&self, ends: &[(ChannelId, EndId)]) {
        let ports: Vec<Port> = {
            let mut table = self.ports.borrow_mut();
            ends.iter().filter_map(|key| table.remove(key)).collect()
        };
        for port in &ports {
            port.clear_listeners();
        }
    }

    /// Waits for an API call's outcome.
    pub(crate) fn wait_for_call(&self, call: CallId, waiter: CallWaiter) {
        self.calls.borrow_mut().insert(call, waiter);
    }

    /// Waits for a one-time message's reply.
    pub(crate) fn wait_for_reply(&self, channel: ChannelId) -> ReplyReceiver {
        let (tx, rx) = reply_channel();
        self.replies.borrow_mut().insert(channel, tx);
        rx
    }

    /// A script's timer, set to fire `after` from now.
    pub(crate) fn set_timer(&self, after: Duration) -> Rc<TimerSlot> {
        let slot = Rc::new(TimerSlot::default());
        let timer = self.with_model(|model| {
            let timer = model.ids.timer();
            model
                .bus
                .post_after(after, crate::model::work::Work::Timer(timer));
            timer
        });
        self.timers.borrow_mut().insert(timer, Rc::clone(&slot));
        slot
    }

    /// Keeps the name and the stdin of a native host connected to a port.
    pub(crate) fn add_host(
        &self,
        channel: ChannelId,
        name: &str,
        stdin: mpsc::UnboundedSender<Value>,
    ) {
        self.hosts
            .borrow_mut()
            .insert(channel, (name.to_owned(), stdin));
    }

    /// A new id for a script.
    fn next_script_id(&self) -> ScriptId {
        let id = self.next_script.get() + 1;
        self.next_script.set(id);
        ScriptId(id)
    }

    /// Keeps a background script; the model knows it by the id returned.
    pub(crate) fn add_script(&self, script: Rc<dyn PageScript>) -> ScriptId {
        let id = self.next_script_id();
        self.scripts.borrow_mut().insert(id, script);
        id
    }

    /// Keeps the code of an extension's content scripts and views; the model knows it by the
    /// id returned.
    pub(crate) fn add_context_script(&self, script: Rc<dyn ContextCode>) -> ScriptId {
        let id = self.next_script_id();
        self.context_scripts.borrow_mut().insert(id, script);
        id
    }

    /// The code of an extension's content scripts and views.
    pub(crate) fn context_script(&self, id: ScriptId) -> Option<Rc<dyn ContextCode>> {
        self.context_scripts.borrow().get(&id).cloned()
    }

    /// A background script.
    pub(crate) fn script(&self, id: ScriptId) -> Option<Rc<dyn PageScript>> {
        self.scripts.borrow().get(&id).cloned()
    }

    /// Drops everything that holds extension code, while the browser still exists: tasks,
    /// listeners, ports and waiters.
    pub(crate) fn clear(&self) {
        self.executor.clear();
        let contexts = std::mem::take(&mut *self.contexts.borrow_mut());
        for events in contexts.values() {
            events.clear_listeners();
        }
        drop(contexts);
        let ports = std::mem::take(&mut *self.ports.borrow_mut());
        for port in ports.values() {
            port.clear_listeners();
        }
        drop(ports);
        drop(std::mem::take(&mut *self.calls.borrow_mut()));
        drop(std::mem::take(&mut *self.replies.borrow_mut()));
        drop(std::mem::take(&mut *self.timers.borrow_mut()));
        drop(std::mem::take(&mut *self.scripts.borrow_mut()));
        drop(std::mem::take(&mut *self.context_scripts.borrow_mut()));
    }
}
