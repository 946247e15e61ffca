//! `runtime.Port`: one end of a long-lived connection.

use std::cell::Cell;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use runtime_events::{Event, EventObserver};
use serde::Serialize;
use serde_json::Value;

use crate::driver::core::Driver;
use crate::driver::last_error::LastErrorSlot;
use crate::driver::listeners::ContextEvents;
use crate::model::contexts::ContextId;
use crate::model::error::{ContextInvalidated, PostMessageError};
use crate::model::ids::{ChannelId, EndId};
use crate::model::message::{to_message, MessageSender};
use crate::model::names::EventName;
use crate::model::trace_entry::TraceEvent;

struct Inner {
    driver: Weak<Driver>,
    channel: ChannelId,
    end: EndId,
    name: String,
    sender: Option<Arc<MessageSender>>,
    context: ContextId,
    events: Rc<ContextEvents>,
    disconnected: Cell<bool>,
    /// A message reached this port's `onMessage` while it had no listener.
    missed: Cell<bool>,
    on_message: Event<(Value, Port)>,
    on_disconnect: Event<Port>,
}

/// `runtime.Port`: one end of a connection opened with `connect` (or received by `onConnect`).
///
/// The rules are Chromium's: `disconnect()` tells only the other end, whose `onDisconnect`
/// fires at most once, after the port has been marked disconnected; posting on a disconnected
/// port fails with `Attempting to use a disconnected port object`; a port closes when its page
/// unloads, its view closes or its tab closes. Messages are delivered in the order they were
/// posted. Cheap to clone: clones are the same port.
#[derive(Clone)]
pub struct Port {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Port")
            .field("name", &self.inner.name)
            .field("channel", &self.inner.channel)
            .field("disconnected", &self.is_disconnected())
            .finish()
    }
}

/// Notices a listener added to a port's `onMessage` after a message was missed.
struct LateOnMessage(Weak<Inner>);

impl EventObserver for LateOnMessage {
    fn listener_added(&self, _event: &str, _count: usize) {
        let Some(inner) = self.0.upgrade() else {
            return;
        };
        if !inner.missed.replace(false) {
            return;
        }
        if let Some(driver) = inner.driver.upgrade() {
            let added_at = driver.call_site.borrow().clone();
            driver.with_model(|model| {
                model.record_at(
                    &inner.context,
                    TraceEvent::LateListener {
                        event: EventName::PortOnMessage,
                        added_at,
                        explanation: "this listener was added to the port after a message had reached it with no onMessage listener: that message is lost (a port does not keep messages for listeners added later). Add a port's listeners as soon as you have the port, before any await.".into(),
                    },
                );
            });
        }
    }
}

impl Port {
    pub(crate) fn new(
        driver: Weak<Driver>,
        channel: ChannelId,
        end: EndId,
        name: String,
        sender: Option<Arc<MessageSender>>,
        context: ContextId,
        events: Rc<ContextEvents>,
    ) -> Port {
        let inner = Rc::new_cyclic(|me: &Weak<Inner>| Inner {
            driver,
            channel,
            end,
            name,
            sender,
            context,
            events,
            disconnected: Cell::new(false),
            missed: Cell::new(false),
            on_message: Event::with_observer(
                "Port.onMessage",
                Rc::new(LateOnMessage(Weak::clone(me))),
            ),
            on_disconnect: Event::new("Port.onDisconnect"),
        });
        Port { inner }
    }

    /// `port.name`: the name given to `connect`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// `port.sender`: who opened the connection. Only on ports handed to `onConnect` /
    /// `onConnectExternal` listeners.
    pub fn sender(&self) -> Option<&MessageSender> {
        self.inner.sender.as_deref()
    }

    /// `port.onMessage`: a message from the other end, with this port.
    pub fn on_message(&self) -> &Event<(Value, Port)> {
        &self.inner.on_message
    }

    /// `port.onDisconnect`: the other end disconnected, or the connection failed (then
    /// `runtime.lastError` is set while the listeners run). Fires at most once.
    pub fn on_disconnect(&self) -> &Event<Port> {
        &self.inner.on_disconnect
    }

    /// Whether the port is disconnected (what `postMessage` checks).
    pub fn is_disconnected(&self) -> bool {
        self.inner.disconnected.get()
    }

    /// `port.postMessage(message)`: sends a message to the other end. Fails at once if the
    /// port is disconnected or the message cannot be sent (as the browser throws).
    pub fn post_message<T: Serialize + ?Sized>(&self, message: &T) -> Result<(), PostMessageError> {
        if self.is_disconnected() {
            return Err(PostMessageError::Disconnected);
        }
        let message = to_message(message)?;
        let Some(driver) = self.inner.driver.upgrade() else {
            return Err(PostMessageError::Disconnected);
        };
        driver.with_model(|model| {
            if !model.context_alive(&self.inner.context) {
                return Err(PostMessageError::ContextInvalidated(ContextInvalidated));
            }
            model.post(self.inner.channel, self.inner.end, message);
            Ok(())
        })
    }

    /// `port.disconnect()`: closes the connection. The other end gets `onDisconnect`; this end
    /// does not. A second call does nothing.
    pub fn disconnect(&self) {
        if !self.mark_disconnected() {
            return;
        }
        if let Some(driver) = self.inner.driver.upgrade() {
            driver.with_model(|model| model.disconnect(self.inner.channel, self.inner.end));
        }
    }

    /// Drops the port's listeners: its channel has closed and it has been told.
    pub(crate) fn clear_listeners(&self) {
        self.inner.on_message.clear_listeners();
        self.inner.on_disconnect.clear_listeners();
    }

    /// Marks the port disconnected. Returns whether it was connected.
    pub(crate) fn mark_disconnected(&self) -> bool {
        !self.inner.disconnected.replace(true)
    }

    /// Notes that a message reached the port with no `onMessage` listener.
    pub(crate) fn note_missed(&self) {
        self.inner.missed.set(true);
    }

    pub(crate) fn channel(&self) -> ChannelId {
        self.inner.channel
    }

    pub(crate) fn end(&self) -> EndId {
        self.inner.end
    }

    pub(crate) fn context(&self) -> &ContextId {
        &self.inner.context
    }

    pub(crate) fn last_error_slot(&self) -> &LastErrorSlot {
        &self.inner.events.last_error
    }
}
