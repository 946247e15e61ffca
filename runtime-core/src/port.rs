//! `runtime.Port`: one end of a long-lived connection.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use runtime_events::Event;
use serde::Serialize;
use serde_json::Value;

use crate::context::Endpoint;
use crate::engine::Shared;
use crate::events::ContextEvents;
use crate::last_error::LastErrorSlot;
use crate::message::{to_message, MessageSender};
use crate::PostMessageError;

struct Inner {
    shared: Weak<Shared>,
    channel: u64,
    end: u64,
    name: String,
    sender: Option<Arc<MessageSender>>,
    endpoint: Endpoint,
    context: Arc<ContextEvents>,
    disconnected: AtomicBool,
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
    inner: Arc<Inner>,
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

impl Port {
    pub(crate) fn new(
        shared: Weak<Shared>,
        channel: u64,
        end: u64,
        name: String,
        sender: Option<Arc<MessageSender>>,
        endpoint: Endpoint,
        context: Arc<ContextEvents>,
    ) -> Port {
        Port {
            inner: Arc::new(Inner {
                shared,
                channel,
                end,
                name,
                sender,
                endpoint,
                context,
                disconnected: AtomicBool::new(false),
                on_message: Event::new("Port.onMessage"),
                on_disconnect: Event::new("Port.onDisconnect"),
            }),
        }
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
        self.inner.disconnected.load(Ordering::Acquire)
    }

    /// `port.postMessage(message)`: sends a message to the other end. Fails at once if the
    /// port is disconnected or the message cannot be sent (as the browser throws).
    pub fn post_message<T: Serialize + ?Sized>(&self, message: &T) -> Result<(), PostMessageError> {
        if self.is_disconnected() {
            return Err(PostMessageError::Disconnected);
        }
        let message = to_message(message)?;
        let Some(shared) = self.inner.shared.upgrade() else {
            return Err(PostMessageError::Disconnected);
        };
        let mut sim = shared.sim();
        if !sim.context_alive(&self.inner.endpoint) {
            return Err(PostMessageError::ContextInvalidated);
        }
        sim.post(self.inner.channel, self.inner.end, message);
        Ok(())
    }

    /// `port.disconnect()`: closes the connection. The other end gets `onDisconnect`; this end
    /// does not. A second call does nothing.
    pub fn disconnect(&self) {
        if !self.mark_disconnected() {
            return;
        }
        if let Some(shared) = self.inner.shared.upgrade() {
            shared.sim().disconnect(self.inner.channel, self.inner.end);
        }
    }

    /// Drops the port's listeners: its channel has closed and it has been told.
    pub(crate) fn clear_listeners(&self) {
        self.inner.on_message.clear_listeners();
        self.inner.on_disconnect.clear_listeners();
    }

    /// Marks the port disconnected. Returns whether it was connected.
    pub(crate) fn mark_disconnected(&self) -> bool {
        !self.inner.disconnected.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    pub(crate) fn last_error_slot(&self) -> &LastErrorSlot {
        &self.inner.context.last_error
    }
}
