//! The one way listeners are called: every event, one-time message, new port, port message
//! and disconnect reaches its listeners through [`Driver::dispatch`], which keeps, for all of
//! them, the trace entries, the keepalive of the dispatch, the missed- and late-listener
//! explanation, the watchdog's section, the listeners' failures and the work they leave.

use std::rc::Rc;
use std::sync::Arc;

use futures::FutureExt as _;
use runtime_events::{Dispatch, Event, ListenerError, ListenerFuture};
use serde_json::Value;

use crate::driver::core::Driver;
use crate::driver::executor::{TaskFuture, TaskLabel, TaskOwner};
use crate::driver::keepalive::Keepalive;
use crate::driver::listeners::ContextEvents;
use crate::driver::on_message::{OnMessage, OnMessageEvent, SendResponse};
use crate::driver::port::Port;
use crate::model::contexts::ContextId;
use crate::model::error::SendMessageError;
use crate::model::event::RuntimeEvent;
use crate::model::ids::{ChannelId, EndId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::names::{EventName, RuntimeEventName};
use crate::model::profile::BackgroundModel;
use crate::model::trace_entry::TraceEvent;

/// What reaches listeners.
pub(crate) enum Delivery<'a> {
    /// A runtime event to a background page's listeners, holding the dispatch's keepalive
    /// while they run.
    Event {
        events: &'a ContextEvents,
        event: &'a RuntimeEvent,
    },
    /// An event to the listeners of a view or a content script (no keepalive: only a
    /// background page is kept alive by its events).
    ContextEvent {
        events: &'a ContextEvents,
        event: &'a RuntimeEvent,
    },
    /// `onSuspend` or `onSuspendCanceled` (no keepalive: Chromium sends them outside the
    /// event router). With `awaited`, the listeners' promises are handed back (Firefox).
    Lifecycle {
        events: &'a ContextEvents,
        event: RuntimeEventName,
        awaited: bool,
    },
    /// A one-time message to one receiving context's `onMessage` (or `onMessageExternal`).
    Message {
        name: RuntimeEventName,
        event: &'a OnMessageEvent,
        channel: ChannelId,
        message: &'a Arc<Value>,
        sender: &'a Arc<crate::model::message::MessageSender>,
        promises: bool,
    },
    /// A new port to one receiving context's `onConnect` (or its `External`/`Native` form).
    Connect {
        name: RuntimeEventName,
        event: &'a Event<Port>,
        channel: ChannelId,
        port_name: &'a str,
        sender: &'a Arc<crate::model::message::MessageSender>,
        events: &'a Rc<ContextEvents>,
    },
    /// A message to a port's `onMessage`.
    PortMessage { port: &'a Port, message: Arc<Value> },
    /// A port's channel closed: its `onDisconnect`, with `lastError` set when there is an
    /// error.
    Disconnect {
        port: &'a Port,
        error: Option<String>,
    },
}

/// What a dispatch came to, for the one who asked for it.
#[derive(Default)]
pub(crate) struct Dispatched {
    /// Whether the context had a listener (for a message or a port: whether it became a
    /// receiver).
    pub(crate) reached: bool,
    /// The promises of Firefox's awaited `onSuspend` listeners.
    pub(crate) awaited: Vec<ListenerFuture>,
}

impl Driver {
    /// Calls the listeners of one event in one context.
    pub(crate) fn dispatch(self: &Rc<Self>, to: &ContextId, delivery: Delivery<'_>) -> Dispatched {
        let name = delivery_name(&delivery);
        let _section = self.watched_dispatch(to, &name);
        let mut dispatched = Dispatched::default();
        match delivery {
            Delivery::Event { events, event } => {
                let (Some(ext), Some(load)) = (to.extension(), to.background_load()) else {
                    return dispatched;
                };
                let listeners = events.listener_count(event);
                let keepalive =
                    self.with_model(|model| model.dispatch_begins(ext, load, event, listeners));
                let Some(keepalive) = keepalive else {
                    return dispatched;
                };
                dispatched.reached = listeners > 0;
                let dispatch = events.dispatch(event);
                self.after_dispatch(to, &name, dispatch);
                self.with_model(|model| model.release(ext, keepalive));
            }
            Delivery::ContextEvent { events, event } => {
                let listeners = events.listener_count(event);
                if listeners == 0 || !self.read(|model| model.context_alive(to)) {
                    return dispatched;
                }
                self.with_model(|model| {
                    model.record_at(
                        to,
                        TraceEvent::EventDispatched {
                            event: name.clone(),
                            listeners,
                            args: event.shared_args(),
                        },
                    )
                });
                dispatched.reached = true;
                let dispatch = events.dispatch(event);
                self.after_dispatch(to, &name, dispatch);
            }
            Delivery::Lifecycle {
                events,
                event,
                awaited,
            } => {
                let (Some(ext), Some(load)) = (to.extension(), to.background_load()) else {
                    return dispatched;
                };
                let target = match event {
                    RuntimeEventName::OnSuspend => events.on_suspend(),
                    _ => events.on_suspend_canceled(),
                };
                let listeners = target.listener_count();
                let present = self.with_model(|model| {
                    model.lifecycle_dispatch_begins(ext, load, name.clone(), listeners)
                });
                if !present {
                    return dispatched;
                }
                dispatched.reached = true;
                let mut dispatch = target.dispatch(());
                if awaited {
                    dispatched.awaited = std::mem::take(&mut dispatch.pending)
                        .into_iter()
                        .map(|(_, future)| future)
                        .collect();
                }
                self.after_dispatch(to, &name, dispatch);
            }
            Delivery::Message {
                event,
                channel,
                name: _,
                message,
                sender,
                promises,
            } => {
                let Some(end) = self.join_channel(
                    to,
                    &name,
                    channel,
                    event.listener_count(),
                    Arc::clone(message),
                    false,
                ) else {
                    return dispatched;
                };
                dispatched.reached = true;
                let respond =
                    SendResponse::new(Rc::downgrade(self), channel, end.unwrap_or(EndId(0)));
                let dispatch = event.dispatch(OnMessage {
                    message: Value::clone(message),
                    sender: Arc::clone(sender),
                    respond: respond.clone(),
                    promises,
                });
                let kept_open = !dispatch.returned_true.is_empty()
                    || (promises && !dispatch.pending.is_empty());
                let dispatch = if promises {
                    answer_with_promises(dispatch, &respond)
                } else {
                    dispatch
                };
                drop(respond);
                self.after_dispatch(to, &name, dispatch);
                if let Some(end) = end {
                    self.with_model(|model| model.receiver_done(channel, end, kept_open));
                }
            }
            Delivery::Connect {
                event,
                channel,
                port_name,
                name: _,
                sender,
                events,
            } => {
                let args = Arc::new(Value::String(port_name.to_owned()));
                let Some(end) =
                    self.join_channel(to, &name, channel, event.listener_count(), args, true)
                else {
                    return dispatched;
                };
                dispatched.reached = true;
                let port = Port::new(
                    Rc::downgrade(self),
                    channel,
                    end.unwrap_or(EndId(0)),
                    port_name.to_owned(),
                    Some(Arc::clone(sender)),
                    to.clone(),
                    Rc::clone(events),
                );
                match end {
                    Some(_) => self.add_port(port.clone()),
                    // A channel closed meanwhile still shows its port, already disconnected.
                    None => {
                        port.mark_disconnected();
                    }
                }
                let dispatch = event.dispatch(port);
                self.after_dispatch(to, &name, dispatch);
            }
            Delivery::PortMessage { port, message } => {
                let alive = self.read(|model| model.context_alive(to));
                if !alive {
                    // Its page, view or tab went away with the message on its way.
                    port.mark_disconnected();
                }
                if port.is_disconnected() {
                    return dispatched;
                }
                let listeners = port.on_message().listener_count();
                self.with_model(|model| {
                    if listeners == 0 {
                        model.record_at(
                            to,
                            TraceEvent::EventMissed {
                                event: name.clone(),
                                explanation: "a message reached this port while it had no onMessage listener: it is lost, and a listener added later does not get it. Add a port's listeners as soon as you have the port.".into(),
                            },
                        );
                    } else {
                        model.record_at(
                            to,
                            TraceEvent::EventDispatched {
                                event: name.clone(),
                                listeners,
                                args: Arc::clone(&message),
                            },
                        );
                    }
                });
                if listeners == 0 {
                    port.note_missed();
                    return dispatched;
                }
                dispatched.reached = true;
                let message = Arc::unwrap_or_clone(message);
                let dispatch = port.on_message().dispatch((message, port.clone()));
                self.after_dispatch(to, &name, dispatch);
            }
            Delivery::Disconnect { port, error } => {
                let alive = self.read(|model| model.context_alive(to));
                if !port.mark_disconnected() || !alive {
                    return dispatched;
                }
                dispatched.reached = true;
                let listeners = port.on_disconnect().listener_count();
                self.with_model(|model| {
                    model.record_at(
                        to,
                        TraceEvent::EventDispatched {
                            event: name.clone(),
                            listeners,
                            args: Arc::new(error.clone().map_or(Value::Null, Value::String)),
                        },
                    )
                });
                let slot = port.last_error_slot();
                if let Some(error) = &error {
                    slot.set(error.clone());
                }
                let dispatch = port.on_disconnect().dispatch(port.clone());
                if error.is_some() {
                    self.report_unchecked(to, slot.clear());
                }
                self.after_dispatch(to, &name, dispatch);
            }
        }
        dispatched
    }

    /// A context with `listeners` listeners of a channel's event joins the channel (its end
    /// has a `Port` object if `port`): `None` if it has none (the event may be missed),
    /// `Some(None)` if the channel closed meanwhile, else its end.
    fn join_channel(
        &self,
        to: &ContextId,
        event: &EventName,
        channel: ChannelId,
        listeners: usize,
        args: Arc<Value>,
        port: bool,
    ) -> Option<Option<EndId>> {
        if listeners == 0 {
            self.with_model(|model| model.note_missed(to, event, 0));
            return None;
        }
        Some(self.with_model(|model| {
            model.add_receiver(channel, to, event.clone(), args, listeners, port)
        }))
    }

    /// Records a dispatch's failures and starts the asynchronous work its listeners left.
    fn after_dispatch(self: &Rc<Self>, to: &ContextId, event: &EventName, dispatch: Dispatch) {
        if !dispatch.failures.is_empty() {
            self.with_model(|model| {
                for failure in dispatch.failures {
                    model.record_at(
                        to,
                        TraceEvent::ListenerFailed {
                            event: event.clone(),
                            failure: failure.kind.as_str(),
                            message: failure.message,
                        },
                    );
                }
            });
        }
        if dispatch.pending.is_empty() {
            return;
        }
        let owner = TaskOwner::Context(to.clone());
        let holds_promises = self.holds_listener_promises(to);
        for (_, future) in dispatch.pending {
            let future: TaskFuture = if holds_promises {
                // Firefox does not suspend a page while a listener's promise is pending.
                let guard =
                    self.take_keepalive(to, KeepaliveReason::ListenerPromise(event.clone()));
                Box::pin(async move {
                    let outcome = future.await;
                    drop(guard);
                    outcome
                })
            } else {
                future
            };
            // Like a JavaScript async function, it runs up to its first real wait now.
            let id = self.executor.spawn(
                owner.clone(),
                TaskLabel::AsyncListener(event.clone()),
                future,
            );
            self.poll_task(id);
        }
    }

    /// Whether `to` is a background whose pending listener promises keep it (Firefox).
    fn holds_listener_promises(&self, to: &ContextId) -> bool {
        let ContextId::Background { ext, .. } = to else {
            return false;
        };
        self.read(|model| {
            model
                .ext(ext)
                .and_then(|r| r.lifecycle.as_ref())
                .is_some_and(|l| l.model() == BackgroundModel::FirefoxEventPage)
        })
    }

    /// Takes a keepalive on the page of `to` (for its load) that is given back when the
    /// returned guard is dropped.
    fn take_keepalive(&self, to: &ContextId, reason: KeepaliveReason) -> Option<Keepalive> {
        let ext = to.extension()?;
        let load = to.background_load();
        let id = self.with_model(|model| model.acquire(ext, reason, load));
        Some(Keepalive::new(ext.clone(), id, &self.inbox))
    }

    /// Records an error no callback read: `Unchecked runtime.lastError: <message>`.
    pub(crate) fn report_unchecked(&self, to: &ContextId, unread: Option<String>) {
        if let Some(message) = unread {
            self.with_model(|model| {
                model.record_at(to, TraceEvent::UncheckedLastError { message })
            });
        }
    }
}

/// The name of what is delivered.
fn delivery_name(delivery: &Delivery<'_>) -> EventName {
    match delivery {
        Delivery::Event { event, .. } | Delivery::ContextEvent { event, .. } => event.name(),
        Delivery::Lifecycle { event, .. } => EventName::Runtime(*event),
        Delivery::Message { name, .. } | Delivery::Connect { name, .. } => {
            EventName::Runtime(*name)
        }
        Delivery::PortMessage { .. } => EventName::PortOnMessage,
        Delivery::Disconnect { .. } => EventName::PortOnDisconnect,
    }
}

/// In the promise form (Chrome 144+), a listener's future is its answer: what it resolves to
/// is the response, an error it fails with is the sender's error.
fn answer_with_promises(mut dispatch: Dispatch, respond: &SendResponse) -> Dispatch {
    let pending = std::mem::take(&mut dispatch.pending);
    dispatch.pending = pending
        .into_iter()
        .map(|(id, future)| {
            let respond = respond.clone();
            let answered: ListenerFuture = Box::pin(async move {
                let outcome = std::panic::AssertUnwindSafe(future).catch_unwind().await;
                let reply = match outcome {
                    Ok(Ok(())) => Ok(None),
                    Ok(Err(error)) => Err(rejection(&error)),
                    Err(panic) => Err(SendMessageError::Rejected(runtime_events::panic_message(
                        panic.as_ref(),
                    ))),
                };
                respond.answer(reply);
                Ok(())
            });
            (id, answered)
        })
        .collect();
    dispatch
}

/// What the sender of a message gets when a listener's promise rejects.
fn rejection(error: &ListenerError) -> SendMessageError {
    if error.is_error() {
        SendMessageError::Rejected(error.message().to_owned())
    } else {
        SendMessageError::RejectedWithoutError
    }
}
