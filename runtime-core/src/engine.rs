//! The engine: the part of the browser that runs extension code.
//!
//! Everything here runs with no lock held, because extension code calls back into the
//! browser: it loads pages (running their top-level script), dispatches events to listeners and
//! polls the pages' asynchronous work. One step does one thing, in a fixed order: a deferred
//! step, else a woken task, else the next item of the bus.

use std::collections::{BTreeSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};

use runtime_events::{Dispatch, EventObserver, ListenerError, SimInstant};

use crate::context::Endpoint;
use crate::events::{ContextEvents, RuntimeEvent, ON_SUSPEND, ON_SUSPEND_CANCELED};
use crate::executor::{lock, Executor, Failure, ForeignTask, Polled, TaskFuture, TaskOwner};
use crate::lifecycle::Input;
use crate::port::Port;
use crate::profile::BackgroundModel;
use crate::sim::{Page, Sim};
use crate::trace::TraceEvent;
use crate::watchdog::{Beat, StepKind};
use crate::{ExtensionId, Keepalive, KeepaliveReason, PageState, Runtime};

/// An item of the bus.
pub(crate) enum Work {
    /// Create the page of an extension whose lifecycle is loading.
    LoadPage {
        ext: ExtensionId,
    },
    IdleTimer {
        ext: ExtensionId,
        sequence: u64,
    },
    ShouldSuspend {
        ext: ExtensionId,
        sequence: u64,
    },
    CloseTimer {
        ext: ExtensionId,
        sequence: u64,
    },
    /// Hand an event to an extension.
    Deliver {
        ext: ExtensionId,
        event: RuntimeEvent,
    },
    /// Complete an API call (or any browser-side step scheduled for later).
    Complete(Box<dyn FnOnce(&mut Sim) + Send>),
    /// A script's timer fired.
    Wake(Arc<TimerState>),
    /// The browser's own recurring work (the periodic update check, a kiosk's uptime limit):
    /// it is always scheduled, so it does not keep the simulation from being idle.
    Ambient(Box<dyn FnOnce(&mut Sim) + Send>),
}

/// A step that runs extension code, left by the simulation for the engine.
pub(crate) enum Deferred {
    Dispatch {
        ext: ExtensionId,
        life: u64,
        event: RuntimeEvent,
    },
    Suspend {
        ext: ExtensionId,
        life: u64,
    },
    SuspendCanceled {
        ext: ExtensionId,
        life: u64,
    },
    Release {
        ext: ExtensionId,
        keepalive: u64,
    },
    DropTasks(TaskOwner),
    /// Drop the listeners of a context that has gone.
    DropListeners(Arc<ContextEvents>),
    /// Ask the receiving contexts of a channel.
    OpenChannel(u64),
    /// Hand a message to a port's `onMessage` listeners.
    DeliverPortMessage {
        port: Port,
        message: Arc<serde_json::Value>,
        keepalive: Option<(ExtensionId, u64)>,
    },
    /// Tell a port its channel closed.
    NotifyDisconnect {
        port: Port,
        error: Option<String>,
    },
    /// Drop the listeners of the ports of a closed channel, once they have been told.
    DropPortListeners(Vec<Port>),
    /// Every copy of a `sendResponse` was dropped.
    ResponderDropped {
        channel: u64,
        end: u64,
    },
    /// Browser-side work handed in from a real-time task (a native host's message).
    Sim(Box<dyn FnOnce(&mut Sim) + Send>),
}

/// What [`Shared::local_step_for`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalStep {
    /// There was no step to do.
    Idle,
    /// It did a step.
    Ran,
    /// The next step is to poll the caller's own task.
    OwnTaskWoken,
}

/// The state of a script's virtual timer.
#[derive(Default)]
pub(crate) struct TimerState {
    pub(crate) fired: AtomicBool,
    pub(crate) waker: Mutex<Option<Waker>>,
}

impl TimerState {
    fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        if let Some(waker) = lock(&self.waker).take() {
            waker.wake();
        }
    }
}

/// Everything one simulated browser is made of.
pub(crate) struct Shared {
    pub(crate) sim: Mutex<Sim>,
    pub(crate) executor: Executor,
    /// Steps handed in from outside the engine (a dropped `Keepalive`, a native host's
    /// message).
    pub(crate) inbox: Mutex<VecDeque<Deferred>>,
    /// Whether the inbox may hold a step: set with the inbox locked when a step is handed in,
    /// cleared with it locked when it is drained, so that a step need not lock it to find it
    /// empty.
    inbox_filled: AtomicBool,
    /// Signalled when a step is handed in, or a real-time source ends.
    pub(crate) inbox_ready: Condvar,
    /// How many real-time sources (native hosts, native calls) are open.
    pub(crate) realtime: AtomicUsize,
    /// The Tokio runtime native hosts run on, once one has been started.
    pub(crate) native: Mutex<Option<tokio::runtime::Runtime>>,
    /// What the driving thread runs, for the watchdog.
    pub(crate) beat: Beat,
}

impl Shared {
    pub(crate) fn sim(&self) -> MutexGuard<'_, Sim> {
        lock(&self.sim)
    }

    pub(crate) fn new(sim: Sim) -> Shared {
        Shared {
            sim: Mutex::new(sim),
            executor: Executor::default(),
            inbox: Mutex::new(VecDeque::new()),
            inbox_filled: AtomicBool::new(false),
            inbox_ready: Condvar::new(),
            realtime: AtomicUsize::new(0),
            native: Mutex::new(None),
            beat: Beat::default(),
        }
    }

    /// Hands a step to the engine from outside it (any thread).
    pub(crate) fn hand_in(&self, step: Deferred) {
        {
            let mut inbox = lock(&self.inbox);
            inbox.push_back(step);
            self.inbox_filled.store(true, Ordering::Release);
        }
        self.inbox_ready.notify_all();
    }

    /// Wakes a driver waiting for real-time work.
    pub(crate) fn wake_driver(&self) {
        let _guard = lock(&self.inbox);
        self.inbox_ready.notify_all();
    }

    /// Whether a real-time source (a native host) is open.
    pub(crate) fn realtime_open(&self) -> bool {
        self.realtime.load(Ordering::Acquire) > 0
    }

    /// Waits, in real time and for at most `limit`, until a step is handed in or the last
    /// real-time source ends. Returns whether a step is waiting.
    pub(crate) fn wait_for_real_time(&self, limit: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + limit;
        let mut inbox = lock(&self.inbox);
        loop {
            if !inbox.is_empty() {
                return true;
            }
            if !self.realtime_open() {
                return false;
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            inbox = self
                .inbox_ready
                .wait_timeout(inbox, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
        }
    }

    /// Whether the bus holds anything but the browser's recurring work.
    pub(crate) fn work_scheduled(&self) -> bool {
        let sim = self.sim();
        sim.bus.len() > sim.ambient
    }

    /// Whether nothing on the bus is due at the current virtual instant.
    pub(crate) fn nothing_due_now(&self) -> bool {
        let sim = self.sim();
        let now = sim.bus.now();
        sim.bus.peek_key().map_or(true, |key| key.at > now)
    }

    /// Does one step that is not a bus item. Returns whether there was one.
    pub(crate) fn local_step(self: &Arc<Self>) -> bool {
        self.local_step_for(None) != LocalStep::Idle
    }

    /// Does one step that is not a bus item, unless the step is to poll the task `own` (the
    /// caller's [`ForeignTask`]): then it says so, and the caller polls it.
    pub(crate) fn local_step_for(self: &Arc<Self>, own: Option<u64>) -> LocalStep {
        let handed_in: Vec<Deferred> = if self.inbox_filled.load(Ordering::Acquire) {
            let mut inbox = lock(&self.inbox);
            self.inbox_filled.store(false, Ordering::Relaxed);
            inbox.drain(..).collect()
        } else {
            Vec::new()
        };
        let next = {
            let mut sim = self.sim();
            sim.deferred.extend(handed_in);
            sim.deferred.pop_front()
        };
        if let Some(step) = next {
            self.run_deferred(step);
            return LocalStep::Ran;
        }
        if let Some(id) = self.executor.next_ready() {
            if Some(id) == own {
                return LocalStep::OwnTaskWoken;
            }
            self.poll_task(id);
            return LocalStep::Ran;
        }
        LocalStep::Idle
    }

    /// Polls a [`ForeignTask`]'s future once, at its turn, as [`Shared::poll_task`] polls a
    /// task: the future is dropped when it completes or panics, and a panic is recorded.
    /// Returns the future's output once it is ready.
    pub(crate) fn poll_foreign<F: Future>(
        &self,
        task: &ForeignTask,
        label: &'static str,
        mut future: Pin<&mut Option<F>>,
    ) -> Option<F::Output> {
        let polled = {
            let _section = self.watched_foreign(task.id());
            task.poll(future.as_mut().as_pin_mut()?)
        };
        if !matches!(polled, Ok(Poll::Pending)) {
            future.set(None);
        }
        match polled {
            Ok(Poll::Ready(output)) => Some(output),
            Ok(Poll::Pending) => None,
            Err(message) => {
                self.record_task_failure(Failure {
                    message,
                    label: label.into(),
                    owner: TaskOwner::External,
                });
                None
            }
        }
    }

    /// Handles the next bus item due at or before `until`. Returns whether there was one.
    pub(crate) fn bus_step(self: &Arc<Self>, until: SimInstant) -> bool {
        let next = self.sim().bus.pop_due(until);
        match next {
            Some(delivery) => {
                let _section = self.watched_step(StepKind::Browser);
                self.handle(delivery.item);
                true
            }
            None => false,
        }
    }

    /// Runs local steps until there are none.
    pub(crate) fn settle(self: &Arc<Self>) {
        while self.local_step() {}
    }

    fn handle(self: &Arc<Self>, work: Work) {
        match work {
            Work::LoadPage { ext } => self.load_page(ext),
            Work::IdleTimer { ext, sequence } => {
                self.sim().drive(&ext, Input::IdleTimerFired { sequence });
            }
            Work::ShouldSuspend { ext, sequence } => {
                self.sim().drive(&ext, Input::ShouldSuspend { sequence });
            }
            Work::CloseTimer { ext, sequence } => {
                self.sim().drive(&ext, Input::CloseTimerFired { sequence });
            }
            Work::Deliver { ext, event } => self.sim().deliver(&ext, event),
            Work::Complete(complete) => {
                let mut sim = self.sim();
                complete(&mut sim);
            }
            Work::Wake(timer) => timer.fire(),
            Work::Ambient(step) => {
                let mut sim = self.sim();
                sim.ambient -= 1;
                step(&mut sim);
            }
        }
    }

    fn run_deferred(self: &Arc<Self>, step: Deferred) {
        let _section = self.watched_step(match step {
            Deferred::Dispatch { .. }
            | Deferred::Suspend { .. }
            | Deferred::SuspendCanceled { .. }
            | Deferred::OpenChannel(_)
            | Deferred::DeliverPortMessage { .. }
            | Deferred::NotifyDisconnect { .. } => StepKind::Listeners,
            Deferred::DropTasks(_)
            | Deferred::DropListeners(_)
            | Deferred::DropPortListeners(_) => StepKind::Dropping,
            Deferred::Release { .. } | Deferred::ResponderDropped { .. } | Deferred::Sim(_) => {
                StepKind::Browser
            }
        });
        match step {
            Deferred::Dispatch { ext, life, event } => self.dispatch(ext, life, event),
            Deferred::Suspend { ext, life } if self.awaits_on_suspend(&ext) => {
                self.dispatch_on_suspend_awaited(ext, life);
            }
            Deferred::Suspend { ext, life } => {
                if self.dispatch_lifecycle_event(&ext, life, ON_SUSPEND) {
                    let mut sim = self.sim();
                    if sim.extensions.get(&ext).and_then(|r| r.loaded_life()) == Some(life) {
                        sim.drive(&ext, Input::SuspendAcked);
                    }
                }
            }
            Deferred::SuspendCanceled { ext, life } => {
                self.dispatch_lifecycle_event(&ext, life, ON_SUSPEND_CANCELED);
            }
            Deferred::Release { ext, keepalive } => self.sim().release(&ext, keepalive),
            Deferred::DropTasks(owner) => {
                self.executor.cancel_owned_by(&owner);
            }
            Deferred::DropListeners(events) => events.clear_listeners(),
            Deferred::OpenChannel(id) => self.open_channel(id),
            Deferred::DeliverPortMessage {
                port,
                message,
                keepalive,
            } => self.deliver_port_message(port, message, keepalive),
            Deferred::NotifyDisconnect { port, error } => self.notify_disconnect(port, error),
            Deferred::DropPortListeners(ports) => ports.iter().for_each(Port::clear_listeners),
            Deferred::ResponderDropped { channel, end } => {
                self.sim().receiver_abandoned(channel, end);
            }
            Deferred::Sim(step) => step(&mut self.sim()),
        }
    }

    /// Creates an extension's page and runs its top-level script up to its first suspension.
    fn load_page(self: &Arc<Self>, ext: ExtensionId) {
        let prepared = {
            let mut sim = self.sim();
            let Some(rec) = sim.extensions.get_mut(&ext) else {
                return;
            };
            if rec.state() != Some(PageState::Loading) || rec.page.is_some() {
                return;
            }
            let Some(source) = rec.script.clone() else {
                return;
            };
            rec.life += 1;
            let life = rec.life;
            let tracker = Arc::new(ListenerTracker {
                shared: Arc::downgrade(self),
                ext: ext.clone(),
                life,
            });
            let events = Arc::new(ContextEvents::new(tracker));
            rec.page = Some(Page {
                life,
                events: Arc::clone(&events),
                loaded: false,
                missed: BTreeSet::new(),
            });
            let runtime = Runtime::new(
                Arc::downgrade(self),
                rec,
                Endpoint::Background {
                    ext: ext.clone(),
                    life,
                },
                events,
            );
            (source, runtime, life)
        };
        let (source, runtime, life) = prepared;
        let script = source.instance();
        let future: TaskFuture = Box::pin(async move {
            script
                .run(runtime)
                .await
                .map_err(|e| ListenerError::new(e.to_string()))
        });
        let owner = TaskOwner::Context(Endpoint::Background {
            ext: ext.clone(),
            life,
        });
        let id = self
            .executor
            .spawn(owner.clone(), "the top-level script", future);
        let outcome = {
            let _section = self.watched_task(id);
            self.executor.poll(id)
        };
        let mut sim = self.sim();
        match outcome {
            Polled::Finished | Polled::Pending => {
                sim.record_bg(&ext, TraceEvent::ScriptLoaded);
                if let Some(page) = sim.extensions.get_mut(&ext).and_then(|r| r.page.as_mut()) {
                    page.loaded = true;
                }
                sim.drive(&ext, Input::LoadFinished);
            }
            Polled::Failed(Failure { message, .. }) => {
                sim.record_bg(&ext, TraceEvent::ScriptFailed { message });
                let page = sim.extensions.get_mut(&ext).and_then(|r| r.page.take());
                sim.deferred.push_back(Deferred::DropTasks(owner));
                if let Some(page) = page {
                    sim.deferred.push_back(Deferred::DropListeners(page.events));
                }
                sim.drive(&ext, Input::LoadFailed);
            }
            Polled::Gone => {}
        }
    }

    /// Dispatches an event to a loaded page, holding a keepalive while its listeners run.
    fn dispatch(self: &Arc<Self>, ext: ExtensionId, life: u64, event: RuntimeEvent) {
        let (events, keepalive) = {
            let mut sim = self.sim();
            let page_events = sim.page_events(&ext, life);
            let Some(events) = page_events else {
                sim.record_bg(
                    &ext,
                    TraceEvent::EventNotDelivered {
                        event: event.name().to_owned(),
                        reason: "the page it was for has been closed".into(),
                    },
                );
                return;
            };
            let keepalive = sim.acquire(
                &ext,
                crate::KeepaliveReason::EventDispatch(event.name().to_owned()),
                Some(life),
            );
            let listeners = events.listener_count(&event);
            let name = event.name().to_owned();
            let listened_before = sim
                .extensions
                .get(&ext)
                .is_some_and(|r| r.lazy_listeners.contains(&name));
            if listeners == 0 {
                if let Some(page) = sim.extensions.get_mut(&ext).and_then(|r| r.page.as_mut()) {
                    page.missed.insert(name.clone());
                }
            }
            if listeners == 0 && listened_before {
                let explanation = format!(
                    "the page listened to {name} when it last ran, but no listener for it was registered when it was dispatched. A page runs its script from the top each time it loads, and work that woke it is dispatched as soon as the top-level code has run: a listener added later (after an await, in a timer or in a callback) misses it. Register listeners synchronously at the top level."
                );
                sim.record_bg(
                    &ext,
                    TraceEvent::EventMissed {
                        event: name,
                        explanation,
                    },
                );
            } else {
                sim.record_bg(
                    &ext,
                    TraceEvent::EventDispatched {
                        event: name,
                        listeners,
                        args: Arc::new(event.args()),
                    },
                );
            }
            (events, keepalive)
        };
        let dispatch = events.dispatch(&event);
        let endpoint = Endpoint::Background {
            ext: ext.clone(),
            life,
        };
        self.after_dispatch(&endpoint, event.name(), dispatch);
        self.sim().release(&ext, keepalive);
    }

    /// Dispatches `onSuspend` or `onSuspendCanceled` (no keepalive: Chromium sends them
    /// outside the event router). Returns whether the page was still there.
    fn dispatch_lifecycle_event(
        self: &Arc<Self>,
        ext: &ExtensionId,
        life: u64,
        name: &str,
    ) -> bool {
        let events = {
            let mut sim = self.sim();
            let page_events = sim.page_events(ext, life);
            let Some(events) = page_events else {
                return false;
            };
            let listeners = if name == ON_SUSPEND {
                events.on_suspend().listener_count()
            } else {
                events.on_suspend_canceled().listener_count()
            };
            sim.record_bg(
                ext,
                TraceEvent::EventDispatched {
                    event: name.to_owned(),
                    listeners,
                    args: TraceEvent::no_args(),
                },
            );
            events
        };
        let dispatch = if name == ON_SUSPEND {
            events.on_suspend().dispatch(())
        } else {
            events.on_suspend_canceled().dispatch(())
        };
        let endpoint = Endpoint::Background {
            ext: ext.clone(),
            life,
        };
        self.after_dispatch(&endpoint, name, dispatch);
        true
    }

    fn awaits_on_suspend(&self, ext: &ExtensionId) -> bool {
        let sim = self.sim();
        sim.extensions
            .get(ext)
            .and_then(|r| r.lifecycle.as_ref())
            .is_some_and(|l| l.model() == BackgroundModel::FirefoxEventPage)
    }

    /// Firefox: `onSuspend` is awaited — the suspend goes on when every listener, and every
    /// promise a listener returned, is done.
    fn dispatch_on_suspend_awaited(self: &Arc<Self>, ext: ExtensionId, life: u64) {
        let events = {
            let mut sim = self.sim();
            let page_events = sim.page_events(&ext, life);
            let Some(events) = page_events else {
                return;
            };
            sim.record_bg(
                &ext,
                TraceEvent::EventDispatched {
                    event: ON_SUSPEND.to_owned(),
                    listeners: events.on_suspend().listener_count(),
                    args: TraceEvent::no_args(),
                },
            );
            events
        };
        let mut dispatch = events.on_suspend().dispatch(());
        let pending: Vec<_> = std::mem::take(&mut dispatch.pending)
            .into_iter()
            .map(|(_, future)| future)
            .collect();
        let endpoint = Endpoint::Background {
            ext: ext.clone(),
            life,
        };
        self.after_dispatch(&endpoint, ON_SUSPEND, dispatch);
        let weak = Arc::downgrade(self);
        let done: TaskFuture = Box::pin(async move {
            let outcomes = futures::future::join_all(pending).await;
            if let Some(shared) = weak.upgrade() {
                shared.hand_in(Deferred::Sim(Box::new(move |sim: &mut Sim| {
                    if sim.extensions.get(&ext).and_then(|r| r.loaded_life()) == Some(life) {
                        sim.drive(&ext, Input::SuspendAcked);
                    }
                })));
            }
            outcomes
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(|_| ())
        });
        let id = self.executor.spawn(
            TaskOwner::Context(endpoint),
            "the onSuspend listeners' promises",
            done,
        );
        self.poll_task(id);
    }

    /// Records a dispatch's failures and starts the asynchronous work its listeners left.
    pub(crate) fn after_dispatch(
        self: &Arc<Self>,
        endpoint: &Endpoint,
        event: &str,
        dispatch: Dispatch,
    ) {
        if !dispatch.failures.is_empty() {
            let mut sim = self.sim();
            let context = endpoint.trace_context(&sim);
            for failure in dispatch.failures {
                sim.record(
                    endpoint.extension(),
                    Some(context.clone()),
                    TraceEvent::ListenerFailed {
                        event: event.to_owned(),
                        failure: failure.kind.as_str(),
                        message: failure.message,
                    },
                );
            }
        }
        if dispatch.pending.is_empty() {
            return;
        }
        let owner = TaskOwner::Context(endpoint.clone());
        let label: Arc<str> = format!("an async listener of {event}").into();
        let holds_promises = self.holds_listener_promises(endpoint);
        for (_, future) in dispatch.pending {
            let future: TaskFuture = match &holds_promises {
                // Firefox does not suspend a page while a listener's promise is pending.
                Some((ext, life)) => {
                    let guard = self.take_keepalive(
                        ext,
                        KeepaliveReason::ListenerPromise(event.to_owned()),
                        *life,
                    );
                    Box::pin(async move {
                        let outcome = future.await;
                        drop(guard);
                        outcome
                    })
                }
                None => future,
            };
            // Like a JavaScript async function, it runs up to its first real wait now.
            let id = self
                .executor
                .spawn(owner.clone(), Arc::clone(&label), future);
            self.poll_task(id);
        }
    }

    /// The page's extension and life, if it is a background whose pending listener promises
    /// keep it (Firefox).
    fn holds_listener_promises(&self, endpoint: &Endpoint) -> Option<(ExtensionId, u64)> {
        let Endpoint::Background { ext, life } = endpoint else {
            return None;
        };
        let sim = self.sim();
        let model = sim.extensions.get(ext)?.lifecycle.as_ref()?.model();
        (model == BackgroundModel::FirefoxEventPage).then(|| (ext.clone(), *life))
    }

    /// Takes a keepalive that is given back when the returned guard is dropped.
    fn take_keepalive(
        self: &Arc<Self>,
        ext: &ExtensionId,
        reason: KeepaliveReason,
        life: u64,
    ) -> Keepalive {
        let id = self.sim().acquire(ext, reason, Some(life));
        Keepalive {
            ext: ext.clone(),
            id,
            shared: Arc::downgrade(self),
        }
    }

    /// Polls a task once and records its failure.
    pub(crate) fn poll_task(self: &Arc<Self>, id: u64) {
        let polled = {
            let _section = self.watched_task(id);
            self.executor.poll(id)
        };
        if let Polled::Failed(failure) = polled {
            self.record_task_failure(failure);
        }
    }

    /// Records that a task failed.
    fn record_task_failure(&self, failure: Failure) {
        let Failure {
            message,
            label,
            owner,
        } = failure;
        let mut sim = self.sim();
        match owner {
            TaskOwner::Context(endpoint) => {
                let context = endpoint.trace_context(&sim);
                sim.record(
                    endpoint.extension(),
                    Some(context),
                    TraceEvent::TaskFailed {
                        task: label.to_string(),
                        message,
                    },
                );
            }
            TaskOwner::External => sim.record(
                None,
                None,
                TraceEvent::TaskFailed {
                    task: label.to_string(),
                    message,
                },
            ),
        }
    }
}

/// Remembers which events a page listens to (its lazy listeners), and explains late listeners.
struct ListenerTracker {
    shared: Weak<Shared>,
    ext: ExtensionId,
    life: u64,
}

impl EventObserver for ListenerTracker {
    fn listener_added(&self, event: &str, _count: usize) {
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut sim = shared.sim();
        let sim = &mut *sim;
        let Some(rec) = sim.extensions.get_mut(&self.ext) else {
            return;
        };
        rec.lazy_listeners.insert(event, &mut sim.event_names);
        let late = rec
            .page
            .as_mut()
            .filter(|p| p.life == self.life && p.loaded)
            .is_some_and(|p| p.missed.remove(event));
        if late {
            sim.record_bg(
                &self.ext,
                TraceEvent::LateListener {
                    event: event.to_owned(),
                    explanation: "this listener was registered after the top-level script had finished, so the event that woke the page had already been dispatched with no listener. It is remembered now and will wake the page next time, but each load must register it again at the top level.".into(),
                },
            );
        }
    }

    fn listener_removed(&self, event: &str, count: usize) {
        if count > 0 {
            return;
        }
        let Some(shared) = self.shared.upgrade() else {
            return;
        };
        let mut sim = shared.sim();
        if let Some(rec) = sim.extensions.get_mut(&self.ext) {
            if rec.loaded_life() == Some(self.life) {
                rec.lazy_listeners.remove(event);
            }
        }
    }
}
