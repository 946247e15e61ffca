//! How any context sends: `sendMessage` (promise and callback forms) and `connect`. Shared by
//! [`Runtime`](crate::Runtime) and [`WebPage`](crate::WebPage).

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::{Arc, Weak};

use futures::channel::oneshot;
use serde::Serialize;
use serde_json::Value;

use crate::channel::{ChannelKind, Reply, Target};
use crate::context::Endpoint;
use crate::engine::Shared;
use crate::events::ContextEvents;
use crate::executor::TaskOwner;
use crate::message::to_message;
use crate::port::Port;
use crate::{ConnectError, ExtensionId, SendMessageError};

/// What is wrong with the extension id a call names.
pub(crate) enum TargetError {
    Invalid(String),
    Required,
}

impl From<TargetError> for SendMessageError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(id) => SendMessageError::InvalidExtensionId(id),
            TargetError::Required => SendMessageError::ExtensionIdRequired,
        }
    }
}

impl From<TargetError> for ConnectError {
    fn from(e: TargetError) -> Self {
        match e {
            TargetError::Invalid(id) => ConnectError::InvalidExtensionId(id),
            TargetError::Required => ConnectError::ExtensionIdRequired,
        }
    }
}

/// The target of `sendMessage(extensionId?, …)` / `connect(extensionId?, …)` called by an
/// extension `own` (none for a web page, which must name one).
pub(crate) fn resolve_target(
    own: Option<&ExtensionId>,
    extension_id: Option<&str>,
) -> Result<Target, TargetError> {
    match (extension_id, own) {
        (None, Some(own)) => Ok(Target::Own(own.clone())),
        (None, None) => Err(TargetError::Required),
        (Some(id), own) => {
            let parsed =
                ExtensionId::parse(id).ok_or_else(|| TargetError::Invalid(id.to_owned()))?;
            if own == Some(&parsed) {
                Ok(Target::Own(parsed))
            } else {
                Ok(Target::External(parsed))
            }
        }
    }
}

/// Sends a one-time message now; the receiver gives the sender's reply.
pub(crate) fn open_message(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    target: Result<Target, TargetError>,
    message: Result<Value, SendMessageError>,
) -> Result<oneshot::Receiver<Reply>, SendMessageError> {
    let target = target?;
    let message = message?;
    let shared = shared
        .upgrade()
        .ok_or(SendMessageError::ContextInvalidated)?;
    let mut sim = shared.sim();
    if !sim.context_alive(opener) {
        return Err(SendMessageError::ContextInvalidated);
    }
    let (tx, rx) = oneshot::channel();
    sim.open_channel(
        opener.clone(),
        target,
        ChannelKind::Message {
            message: Arc::new(message),
            reply: Some(tx),
            abandoned: false,
        },
        |_, _| None,
    );
    Ok(rx)
}

/// `sendMessage` in the promise form: the message goes now; the future gives the response
/// (`None` when no listener answered).
pub(crate) fn send_message<T: Serialize + ?Sized>(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    target: Result<Target, TargetError>,
    message: &T,
) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + Send + 'static {
    let opened = open_message(
        shared,
        opener,
        target,
        to_message(message).map_err(Into::into),
    );
    async move {
        match opened?.await {
            Ok(Err(SendMessageError::PortClosed)) => Ok(None),
            Ok(reply) => reply,
            Err(_) => Err(SendMessageError::ContextInvalidated),
        }
    }
}

/// `sendMessage` in the callback form: errors of the call itself are returned at once; the
/// callback runs later in the sending context, with `runtime.lastError` set if the message
/// failed. An error the callback does not read is recorded as
/// `Unchecked runtime.lastError: <message>`.
pub(crate) fn send_message_callback<T, F>(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    events: &Arc<ContextEvents>,
    target: Result<Target, TargetError>,
    message: &T,
    callback: F,
) -> Result<(), SendMessageError>
where
    T: Serialize + ?Sized,
    F: FnOnce(Option<Value>) + Send + 'static,
{
    let rx = open_message(
        shared,
        opener,
        target,
        to_message(message).map_err(Into::into),
    )?;
    let Some(strong) = shared.upgrade() else {
        return Err(SendMessageError::ContextInvalidated);
    };
    let events = Arc::clone(events);
    let endpoint = opener.clone();
    let weak = shared.clone();
    strong.executor.spawn_ready(
        TaskOwner::Context(opener.clone()),
        "a runtime.sendMessage callback",
        Box::pin(async move {
            let reply = rx
                .await
                .unwrap_or(Err(SendMessageError::ContextInvalidated));
            let (response, error) = match reply {
                Ok(response) => (response, None),
                Err(error) => (None, Some(error.to_string())),
            };
            run_callback(&weak, &endpoint, &events, error, || callback(response));
            Ok(())
        }),
    );
    Ok(())
}

/// Runs a callback with `runtime.lastError` set to `error` (if any) while it runs, and records
/// an error it did not read.
pub(crate) fn run_callback(
    shared: &Weak<Shared>,
    endpoint: &Endpoint,
    events: &ContextEvents,
    error: Option<String>,
    callback: impl FnOnce(),
) {
    if let Some(error) = error {
        events.last_error.set(error);
    }
    let outcome = catch_unwind(AssertUnwindSafe(callback));
    let unread = events.last_error.clear();
    if let Some(shared) = shared.upgrade() {
        shared.report_unchecked(endpoint, unread);
    }
    if let Err(panic) = outcome {
        resume_unwind(panic);
    }
}

/// `connect`: the port is returned at once; the channel opens when the receivers have been
/// asked (after the target's event page has loaded).
pub(crate) fn connect(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    events: &Arc<ContextEvents>,
    target: Result<Target, TargetError>,
    name: &str,
) -> Result<Port, ConnectError> {
    let target = target?;
    let strong = shared.upgrade().ok_or(ConnectError::ContextInvalidated)?;
    let mut sim = strong.sim();
    if !sim.context_alive(opener) {
        return Err(ConnectError::ContextInvalidated);
    }
    let mut created = None;
    sim.open_channel(
        opener.clone(),
        target,
        ChannelKind::Port {
            name: name.to_owned(),
        },
        |channel, end| {
            let port = Port::new(
                shared.clone(),
                channel,
                end,
                name.to_owned(),
                None,
                opener.clone(),
                Arc::clone(events),
            );
            created = Some(port.clone());
            Some(port)
        },
    );
    created.ok_or(ConnectError::ContextInvalidated)
}
