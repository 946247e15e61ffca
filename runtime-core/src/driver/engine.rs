//! The engine: runs the browser one step at a time, in a fixed order — an action the model
//! left (after taking in what the inbox holds), else a woken task, else the next item of the
//! bus — so that the same inputs give the same trace. The actions that run extension code are
//! carried out here: loading a page, dispatching, opening a channel.

use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::Poll;

use runtime_events::{EventObserver, SimInstant};

use crate::driver::core::Driver;
use crate::driver::dispatch::Delivery;
use crate::driver::executor::{Failure, ForeignTask, Polled, TaskFuture, TaskLabel, TaskOwner};
use crate::driver::inbox::{Incoming, TaskId};
use crate::driver::listeners::ContextEvents;
use crate::driver::watchdog::StepKind;
use crate::model::channel::Via;
use crate::model::contexts::{ContextId, ScriptPlace};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{ChannelId, PageLoad, ScriptId};
use crate::model::names::{EventName, RuntimeEventName};
use crate::model::profile::BackgroundModel;
use crate::model::trace_entry::TraceEvent;
use crate::model::work::{Action, InboxItem};

/// What [`Driver::local_step_for`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LocalStep {
    /// There was no step to do.
    Idle,
    /// It did a step.
    Ran,
    /// The next step is to poll the caller's own task.
    OwnTaskWoken,
}

impl Driver {
    /// Does one step that is not a bus item. Returns whether there was one.
    pub(crate) fn local_step(self: &Rc<Self>) -> bool {
        self.local_step_for(None) != LocalStep::Idle
    }

    /// Does one step that is not a bus item, unless the step is to poll the task `own` (the
    /// caller's [`ForeignTask`]): then it says so, and the caller polls it.
    pub(crate) fn local_step_for(self: &Rc<Self>, own: Option<TaskId>) -> LocalStep {
        // The list with room that the last step used, if no step inside this one took it.
        let mut incoming = self.spare_incoming.take();
        self.inbox.drain(&mut incoming);
        if !incoming.is_empty() {
            self.with_model(|model| {
                for item in incoming.drain(..) {
                    match item {
                        Incoming::Wake(task) => self.executor.woken(task),
                        Incoming::Item(item) => {
                            self.host_news(&item);
                            model.act(Action::Inbox(item));
                        }
                    }
                }
            });
        }
        {
            let mut spare = self.spare_incoming.borrow_mut();
            if spare.capacity() == 0 {
                *spare = incoming;
            }
        }
        let next = self.with_model(|model| model.actions.pop_front());
        if let Some(action) = next {
            self.run_action(action);
            self.watchdog_check();
            return LocalStep::Ran;
        }
        if let Some(id) = self.executor.next_ready() {
            if Some(id) == own {
                return LocalStep::OwnTaskWoken;
            }
            self.poll_task(id);
            self.watchdog_check();
            return LocalStep::Ran;
        }
        LocalStep::Idle
    }

    /// Whether a step that is not a bus item waits: an action, a woken task, something handed
    /// in.
    pub(crate) fn has_local_work(&self) -> bool {
        self.read(|model| !model.actions.is_empty())
            || self.executor.has_ready()
            || self.inbox.is_filled()
    }

    /// Handles the next bus item due at or before `until`. Returns whether there was one.
    pub(crate) fn bus_step(self: &Rc<Self>, until: SimInstant) -> bool {
        let ran = self.with_model(|model| {
            let Some(delivery) = model.bus.pop_due(until) else {
                return false;
            };
            model.handle(delivery.item);
            true
        });
        if ran {
            self.watchdog_check();
        }
        ran
    }

    /// Runs local steps until there are none.
    pub(crate) fn settle(self: &Rc<Self>) {
        while self.local_step() {}
    }

    fn run_action(self: &Rc<Self>, action: Action) {
        match action {
            Action::RunScript { ext, load, script } => self.run_script(ext, load, script),
            Action::StartContext {
                context,
                script,
                place,
            } => self.start_context(context, script, place),
            Action::Dispatch { ext, load, event } => {
                let context = ContextId::Background { ext, load };
                let events = self.background_events(&context);
                self.dispatch(
                    &context,
                    Delivery::Event {
                        events: &events,
                        event: &event,
                    },
                );
            }
            Action::DispatchToContext { to, event } => {
                if let Some(events) = self.find_events(&to) {
                    self.dispatch(
                        &to,
                        Delivery::ContextEvent {
                            events: &events,
                            event: &event,
                        },
                    );
                }
            }
            Action::Suspend { ext, load } => {
                let context = ContextId::Background {
                    ext: ext.clone(),
                    load,
                };
                let Some(events) = self.find_events(&context) else {
                    return;
                };
                let awaited = self.read(|model| {
                    model
                        .ext(&ext)
                        .and_then(|r| r.lifecycle.as_ref())
                        .is_some_and(|l| l.model() == BackgroundModel::FirefoxEventPage)
                });
                let dispatched = self.dispatch(
                    &context,
                    Delivery::Lifecycle {
                        events: &events,
                        event: RuntimeEventName::OnSuspend,
                        awaited,
                    },
                );
                if !dispatched.reached {
                    return;
                }
                if awaited {
                    self.await_on_suspend(ext, load, dispatched.awaited);
                } else {
                    self.with_model(|model| model.suspend_acked(&ext, load));
                }
            }
            Action::SuspendCanceled { ext, load } => {
                let context = ContextId::Background { ext, load };
                if let Some(events) = self.find_events(&context) {
                    self.dispatch(
                        &context,
                        Delivery::Lifecycle {
                            events: &events,
                            event: RuntimeEventName::OnSuspendCanceled,
                            awaited: false,
                        },
                    );
                }
            }
            Action::Release { ext, keepalive } => {
                self.with_model(|model| model.release(&ext, keepalive))
            }
            Action::DropTasks(context) => {
                let _section = self.watched_step(StepKind::Dropping);
                self.executor.cancel_owned_by(&TaskOwner::Context(context));
            }
            Action::DropListeners(context) => {
                let _section = self.watched_step(StepKind::Dropping);
                self.drop_events(&context);
            }
            Action::OpenChannel(channel) => self.open_channel(channel),
            Action::DeliverPortMessage {
                channel,
                end,
                message,
                keepalive,
            } => {
                if let Some(port) = self.port(channel, end) {
                    let context = port.context().clone();
                    self.dispatch(
                        &context,
                        Delivery::PortMessage {
                            port: &port,
                            message,
                        },
                    );
                }
                if let Some((ext, id)) = keepalive {
                    self.with_model(|model| model.release(&ext, id));
                }
            }
            Action::NotifyDisconnect {
                channel,
                end,
                error,
            } => {
                if let Some(port) = self.port(channel, end) {
                    let context = port.context().clone();
                    self.dispatch(&context, Delivery::Disconnect { port: &port, error });
                }
            }
            Action::DropPorts(ends) => {
                let _section = self.watched_step(StepKind::Dropping);
                self.drop_ports(&ends);
            }
            Action::Inbox(item) => {
                let _section = self.watched_step(StepKind::Browser);
                self.with_model(|model| model.take_in(item));
            }
        }
    }

    /// The listeners of a background page load (none if it has gone).
    fn background_events(&self, context: &ContextId) -> Rc<ContextEvents> {
        self.find_events(context)
            .unwrap_or_else(|| Rc::new(ContextEvents::new(None)))
    }

    /// Creates a page load's context and runs its top-level script up to its first
    /// suspension.
    fn run_script(self: &Rc<Self>, ext: ExtensionId, load: PageLoad, script: ScriptId) {
        let Some(source) = self.script(script) else {
            return;
        };
        let context = ContextId::Background {
            ext: ext.clone(),
            load,
        };
        let tracker: Rc<dyn EventObserver> = Rc::new(ListenerTracker {
            driver: Rc::downgrade(self),
            ext: ext.clone(),
            load,
        });
        let events = Rc::new(ContextEvents::new(Some(tracker)));
        self.set_events(context.clone(), Rc::clone(&events));
        let Some(future) = source.start(self, &context, events) else {
            return;
        };
        let owner = TaskOwner::Context(context);
        let id = self
            .executor
            .spawn(owner, TaskLabel::TopLevelScript, future);
        let outcome = {
            let _section = self.watched_task(id);
            self.executor.poll(id)
        };
        let failed = match outcome {
            Polled::Finished | Polled::Pending => None,
            Polled::Failed(Failure { message, .. }) => Some(message),
            Polled::Gone => return,
        };
        self.with_model(|model| model.script_ran(&ext, load, failed));
    }

    /// Runs the extension's code in a content script or a view that has just begun, up to its
    /// first suspension; the rest is the context's work, dropped with it.
    fn start_context(self: &Rc<Self>, context: ContextId, script: ScriptId, place: ScriptPlace) {
        let Some(code) = self.context_script(script) else {
            return;
        };
        if !self.read(|model| model.context_alive(&context)) {
            return;
        }
        let Some(future) = code.start(self, &context, place) else {
            return;
        };
        let id = self.executor.spawn(
            TaskOwner::Context(context),
            TaskLabel::TopLevelScript,
            future,
        );
        self.poll_task(id);
    }

    /// Firefox: `onSuspend` is awaited — the suspend goes on when every listener, and every
    /// promise a listener returned, is done.
    fn await_on_suspend(
        self: &Rc<Self>,
        ext: ExtensionId,
        load: PageLoad,
        pending: Vec<runtime_events::ListenerFuture>,
    ) {
        let driver = Rc::downgrade(self);
        let context = ContextId::Background {
            ext: ext.clone(),
            load,
        };
        let done: TaskFuture = Box::pin(async move {
            let outcomes = futures::future::join_all(pending).await;
            if let Some(driver) = driver.upgrade() {
                driver.hand_in(InboxItem::SuspendAcked { ext, load });
            }
            outcomes
                .into_iter()
                .collect::<Result<Vec<()>, _>>()
                .map(|_| ())
        });
        let id = self.executor.spawn(
            TaskOwner::Context(context),
            TaskLabel::OnSuspendPromises,
            done,
        );
        self.poll_task(id);
    }

    /// Asks every receiving context of a channel: dispatches `onMessage`/`onConnect` (or
    /// their `External` forms) to each context with a listener, then settles the channel.
    fn open_channel(self: &Rc<Self>, id: ChannelId) {
        let (plan, promises) =
            self.read(|model| (model.channel_plan(id), model.config.promise_responses()));
        let Some(plan) = plan else {
            return;
        };
        let mut any_listener = false;
        for context in &plan.candidates {
            let events = self.events_of(context);
            let dispatched = match &plan.message {
                Some(message) => {
                    let (name, event) = match plan.via {
                        Via::External => (
                            RuntimeEventName::OnMessageExternal,
                            events.on_message_external(),
                        ),
                        Via::Own | Via::NativeApp => {
                            (RuntimeEventName::OnMessage, events.on_message())
                        }
                    };
                    self.dispatch(
                        context,
                        Delivery::Message {
                            name,
                            event,
                            channel: id,
                            message,
                            sender: &plan.sender,
                            promises,
                        },
                    )
                }
                None => {
                    let (name, event) = match plan.via {
                        Via::External => (
                            RuntimeEventName::OnConnectExternal,
                            events.on_connect_external(),
                        ),
                        Via::NativeApp => (
                            RuntimeEventName::OnConnectNative,
                            events.on_connect_native(),
                        ),
                        Via::Own => (RuntimeEventName::OnConnect, events.on_connect()),
                    };
                    self.dispatch(
                        context,
                        Delivery::Connect {
                            name,
                            event,
                            channel: id,
                            port_name: plan.name.as_deref().unwrap_or_default(),
                            sender: &plan.sender,
                            events: &events,
                        },
                    )
                }
            };
            any_listener |= dispatched.reached;
        }
        self.with_model(|model| model.channel_opened(id, any_listener));
    }

    /// Polls a task once and records its failure.
    pub(crate) fn poll_task(self: &Rc<Self>, id: TaskId) {
        let polled = {
            let _section = self.watched_task(id);
            self.executor.poll(id)
        };
        if let Polled::Failed(failure) = polled {
            self.record_task_failure(failure);
        }
    }

    /// Polls a [`ForeignTask`]'s future once, at its turn, as [`Driver::poll_task`] polls a
    /// task: the future is dropped when it completes or panics, and a panic is recorded.
    /// Returns the future's output once it is ready.
    pub(crate) fn poll_foreign<F: Future>(
        &self,
        task: &ForeignTask,
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
                    label: TaskLabel::BlockOn,
                    owner: TaskOwner::External,
                });
                None
            }
        }
    }

    /// Records that a task failed.
    fn record_task_failure(&self, failure: Failure) {
        let Failure {
            message,
            label,
            owner,
        } = failure;
        let event = TraceEvent::TaskFailed {
            task: label.to_string(),
            message,
        };
        self.with_model(|model| match owner {
            TaskOwner::Context(context) => model.record_at(&context, event),
            TaskOwner::External => model.record(None, None, event),
        });
    }
}

/// Remembers which events a page listens to (its lazy listeners), and explains late
/// listeners.
struct ListenerTracker {
    driver: Weak<Driver>,
    ext: ExtensionId,
    load: PageLoad,
}

impl EventObserver for ListenerTracker {
    fn listener_added(&self, event: &str, _count: usize) {
        if let Some(driver) = self.driver.upgrade() {
            let event = EventName::from(event);
            let added_at = driver.call_site.borrow().clone();
            driver.with_model(|model| model.listener_added(&self.ext, self.load, &event, added_at));
        }
    }

    fn listener_removed(&self, event: &str, count: usize) {
        if count > 0 {
            return;
        }
        if let Some(driver) = self.driver.upgrade() {
            let event = EventName::from(event);
            driver.with_model(|model| model.last_listener_removed(&self.ext, self.load, &event));
        }
    }
}
