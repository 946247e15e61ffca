//! `runtime.onMessage`: what a listener gets, and the three ways to answer.

use std::cell::Cell;
use std::future::Future;
use std::ops::Deref;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use runtime_events::{Event, ListenerError, ListenerId, ListenerOutcome};
use serde::Serialize;
use serde_json::Value;

use crate::driver::core::Driver;
use crate::model::channel::Reply;
use crate::model::ids::{ChannelId, EndId};
use crate::model::message::{checked_message, to_message, MessageError, MessageSender};
use crate::model::work::InboxItem;

/// What an `onMessage` / `onMessageExternal` listener gets: `(message, sender, sendResponse)`.
///
/// A listener answers in one of the three ways browsers have:
/// - at once: [`OnMessage::respond`] while it runs;
/// - later: it returns `true` (keeping the channel open) and answers with the
///   [`SendResponse`] from [`OnMessage::send_response`];
/// - with a promise (Chrome 144+): an async listener; what its future resolves to is the
///   response ([`OnMessageEvent::add_promise_listener`]), an error it fails with is the sender's
///   error.
///
/// The first answer wins; later ones are ignored.
#[derive(Clone)]
pub struct OnMessage {
    /// The message, as JSON.
    pub message: Value,
    /// Who sent it, as the browser saw it (shared by every receiver of the message, and by
    /// the sender's next messages while nothing it shows changes).
    pub sender: Arc<MessageSender>,
    pub(crate) respond: SendResponse,
    /// Whether the browser takes a listener's promise as its answer (Chrome 144+).
    pub(crate) promises: bool,
}

impl std::fmt::Debug for OnMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnMessage")
            .field("message", &self.message)
            .field("sender", &self.sender)
            .finish()
    }
}

impl OnMessage {
    /// `sendResponse(response)`. Returns whether this was the answer (the first one, while
    /// the channel is open).
    ///
    /// # Panics
    /// If `response` has no JSON form, as the browser throws `Could not serialize message.`
    /// in the listener.
    pub fn respond<T: Serialize + ?Sized>(&self, response: &T) -> bool {
        self.respond.send(response)
    }

    /// Whether the browser takes a promise the listener returns as its answer (Chrome 144 and
    /// later; before, its value is lost).
    pub fn promise_is_answer(&self) -> bool {
        self.promises
    }

    /// The `sendResponse` function, to answer later. Return `true` from the listener to keep
    /// the channel open until then; if every copy is dropped unanswered, the sender gets
    /// `A listener indicated an asynchronous response by returning true, but the message
    /// channel closed before a response was received`.
    pub fn send_response(&self) -> SendResponse {
        self.respond.clone()
    }
}

struct Responder {
    driver: Weak<Driver>,
    channel: ChannelId,
    end: EndId,
    /// An answer was given to the browser. Its end is gone then (the answer ended the channel,
    /// or the channel or the end had already gone), so dropping has nothing left to close.
    answered: Cell<bool>,
}

impl Drop for Responder {
    fn drop(&mut self) {
        if self.answered.get() {
            return;
        }
        // Like a collected `sendResponse` function: a channel kept open for it closes, at the
        // browser's next step.
        if let Some(driver) = self.driver.upgrade() {
            driver.hand_in(InboxItem::ResponderDropped {
                channel: self.channel,
                end: self.end,
            });
        }
    }
}

/// The `sendResponse` function of one receiver of a one-time message. Cheap to clone.
#[derive(Clone)]
pub struct SendResponse {
    inner: Rc<Responder>,
}

impl std::fmt::Debug for SendResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendResponse")
            .field("channel", &self.inner.channel)
            .finish()
    }
}

impl SendResponse {
    pub(crate) fn new(driver: Weak<Driver>, channel: ChannelId, end: EndId) -> SendResponse {
        SendResponse {
            inner: Rc::new(Responder {
                driver,
                channel,
                end,
                answered: Cell::new(false),
            }),
        }
    }

    /// Answers the message. Returns whether this was the answer (the first one, while the
    /// channel is open).
    ///
    /// # Panics
    /// If `response` has no JSON form (the browser throws `Could not serialize message.`).
    pub fn send<T: Serialize + ?Sized>(&self, response: &T) -> bool {
        match to_message(response) {
            Ok(value) => self.answer(Ok(Some(value))),
            Err(error) => panic!("{error}"),
        }
    }

    /// [`SendResponse::send`] of an answer that already is JSON, taken as it is (no copy is
    /// made); an answer over the browser's size limit is not sent and gives its error.
    pub fn send_json(&self, response: Value) -> Result<bool, MessageError> {
        Ok(self.answer(Ok(Some(checked_message(response)?))))
    }

    pub(crate) fn answer(&self, reply: Reply) -> bool {
        match self.inner.driver.upgrade() {
            Some(driver) => {
                let answered = driver
                    .with_model(|model| model.respond(self.inner.channel, self.inner.end, reply));
                self.inner.answered.set(true);
                answered
            }
            None => false,
        }
    }
}

/// `runtime.onMessage` / `runtime.onMessageExternal`: an [`Event`] of [`OnMessage`] that also
/// takes promise-form listeners.
pub struct OnMessageEvent(Event<OnMessage>);

impl OnMessageEvent {
    pub(crate) fn new(event: Event<OnMessage>) -> Self {
        OnMessageEvent(event)
    }

    /// Adds a listener in the promise form (Chrome 144+): the value its future resolves to is
    /// the response; the error it fails with is the sender's error (use
    /// [`ListenerError::not_an_error`] for a rejection with something that is not an `Error`).
    pub fn add_promise_listener<F, Fut, T, E>(&self, listener: F) -> ListenerId
    where
        F: Fn(OnMessage) -> Fut + 'static,
        Fut: Future<Output = Result<T, E>> + 'static,
        T: Serialize,
        E: Into<ListenerError>,
    {
        self.0.add_listener(move |message: OnMessage| {
            // Before Chrome 144 the returned promise is not the answer: its value is lost.
            let respond = message.promises.then(|| message.send_response());
            let answer = listener(message);
            ListenerOutcome::Pending(Box::pin(async move {
                let value = answer.await.map_err(Into::into)?;
                if let Some(respond) = respond {
                    respond.send(&value);
                }
                Ok(())
            }))
        })
    }
}

impl Deref for OnMessageEvent {
    type Target = Event<OnMessage>;

    fn deref(&self) -> &Event<OnMessage> {
        &self.0
    }
}

impl std::fmt::Debug for OnMessageEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}
