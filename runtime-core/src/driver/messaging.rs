//! How any context sends: `sendMessage` (promise and callback forms) and `connect`. Shared by
//! [`Runtime`](crate::Runtime) and [`WebPage`](crate::WebPage).

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::rc::{Rc, Weak};
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::driver::core::Driver;
use crate::driver::executor::{TaskLabel, TaskOwner};
use crate::driver::listeners::ContextEvents;
use crate::driver::port::Port;
use crate::driver::reply::ReplyReceiver;
use crate::model::channel::{ChannelKind, Target};
use crate::model::contexts::ContextId;
use crate::model::error::{ConnectError, ContextInvalidated, SendMessageError};
use crate::model::extension_id::ExtensionId;
use crate::model::message::{to_message, MessageError};

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
fn open_message(
    driver: &Weak<Driver>,
    opener: &ContextId,
    target: Result<Target, TargetError>,
    message: Result<Value, SendMessageError>,
) -> Result<ReplyReceiver, SendMessageError> {
    let target = target?;
    let message = message?;
    let driver = driver
        .upgrade()
        .ok_or(SendMessageError::ContextInvalidated(ContextInvalidated))?;
    let channel = driver.with_model(|model| {
        if !model.context_alive(opener) {
            return None;
        }
        let (channel, _) = model.open_channel(
            opener.clone(),
            target,
            ChannelKind::Message {
                message: Arc::new(message),
                abandoned: false,
            },
            false,
        );
        Some(channel)
    });
    let channel = channel.ok_or(SendMessageError::ContextInvalidated(ContextInvalidated))?;
    Ok(driver.wait_for_reply(channel))
}

/// `sendMessage` in the promise form: the message goes now; the future gives the response
/// (`None` when no listener answered).
pub(crate) fn send_message<T: Serialize + ?Sized>(
    driver: &Weak<Driver>,
    opener: &ContextId,
    target: Result<Target, TargetError>,
    message: &T,
) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
    send_message_json(driver, opener, target, to_message(message))
}

/// [`send_message`] of a message that already is JSON (checked, or why it cannot go).
pub(crate) fn send_message_json(
    driver: &Weak<Driver>,
    opener: &ContextId,
    target: Result<Target, TargetError>,
    message: Result<Value, MessageError>,
) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
    let opened = open_message(driver, opener, target, message.map_err(Into::into));
    async move {
        match opened?.await {
            Ok(Err(SendMessageError::PortClosed)) => Ok(None),
            Ok(reply) => reply,
            Err(_) => Err(SendMessageError::ContextInvalidated(ContextInvalidated)),
        }
    }
}

/// `sendMessage` in the callback form: errors of the call itself are returned at once; the
/// callback runs later in the sending context, with `runtime.lastError` set if the message
/// failed. An error the callback does not read is recorded as
/// `Unchecked runtime.lastError: <message>`.
pub(crate) fn send_message_callback<T, F>(
    driver: &Weak<Driver>,
    opener: &ContextId,
    events: &Rc<ContextEvents>,
    target: Result<Target, TargetError>,
    message: &T,
    callback: F,
) -> Result<(), SendMessageError>
where
    T: Serialize + ?Sized,
    F: FnOnce(Option<Value>) + 'static,
{
    let rx = open_message(
        driver,
        opener,
        target,
        to_message(message).map_err(Into::into),
    )?;
    let reply = async move {
        match rx.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(ContextInvalidated.to_string()),
        }
    };
    call_back_when_done(
        driver,
        opener,
        events,
        "a runtime.sendMessage callback",
        reply,
        callback,
    )
    .map_err(|_| SendMessageError::ContextInvalidated(ContextInvalidated))
}

/// The callback form of an asynchronous call: when `reply` is ready, `callback` runs as the
/// context's work with its result, and with `runtime.lastError` set to the error if it
/// failed (reported as unchecked if the callback does not read it). `Err` if the browser
/// has gone.
pub(crate) fn call_back_when_done<F>(
    driver: &Weak<Driver>,
    opener: &ContextId,
    events: &Rc<ContextEvents>,
    label: &'static str,
    reply: impl Future<Output = Result<Option<Value>, String>> + 'static,
    callback: F,
) -> Result<(), ContextInvalidated>
where
    F: FnOnce(Option<Value>) + 'static,
{
    let strong = driver.upgrade().ok_or(ContextInvalidated)?;
    let events = Rc::clone(events);
    let endpoint = opener.clone();
    let weak = Weak::clone(driver);
    strong.executor.spawn_ready(
        TaskOwner::Context(opener.clone()),
        TaskLabel::Callback(label),
        Box::pin(async move {
            let (response, error) = match reply.await {
                Ok(response) => (response, None),
                Err(error) => (None, Some(error)),
            };
            run_callback(&weak, &endpoint, &events, error, || callback(response));
            Ok(())
        }),
    );
    Ok(())
}

/// Runs a callback with `runtime.lastError` set to `error` (if any) while it runs, and records
/// an error it did not read.
pub(crate) fn run_callback<R>(
    driver: &Weak<Driver>,
    endpoint: &ContextId,
    events: &ContextEvents,
    error: Option<String>,
    callback: impl FnOnce() -> R,
) -> R {
    if let Some(error) = error {
        events.last_error.set(error);
    }
    let outcome = catch_unwind(AssertUnwindSafe(callback));
    let unread = events.last_error.clear();
    if let Some(driver) = driver.upgrade() {
        driver.report_unchecked(endpoint, unread);
    }
    match outcome {
        Ok(result) => result,
        Err(panic) => resume_unwind(panic),
    }
}

/// `connect`: the port is returned at once; the channel opens when the receivers have been
/// asked (after the target's event page has loaded).
pub(crate) fn connect(
    driver: &Weak<Driver>,
    opener: &ContextId,
    events: &Rc<ContextEvents>,
    target: Result<Target, TargetError>,
    name: &str,
) -> Result<Port, ConnectError> {
    let target = target?;
    let strong = driver
        .upgrade()
        .ok_or(ConnectError::ContextInvalidated(ContextInvalidated))?;
    let opened = strong.with_model(|model| {
        if !model.context_alive(opener) {
            return None;
        }
        Some(model.open_channel(
            opener.clone(),
            target,
            ChannelKind::Port {
                name: name.to_owned(),
            },
            true,
        ))
    });
    let (channel, end) = opened.ok_or(ConnectError::ContextInvalidated(ContextInvalidated))?;
    let port = Port::new(
        Weak::clone(driver),
        channel,
        end,
        name.to_owned(),
        None,
        opener.clone(),
        Rc::clone(events),
    );
    strong.add_port(port.clone());
    Ok(port)
}
