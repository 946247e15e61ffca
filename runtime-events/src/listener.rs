//! What a listener is, what it returns, and how its failures are reported.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// The future an asynchronous listener leaves running after it returned.
pub type ListenerFuture = Pin<Box<dyn Future<Output = Result<(), ListenerError>> + 'static>>;

/// Identifies one listener added to one [`Event`](crate::Event): the handle `add_listener`
/// returns, and what `remove_listener` and `has_listener` take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(pub(crate) u64);

impl ListenerId {
    /// The number of this listener within its event, in order of registration (from 1).
    pub fn get(self) -> u64 {
        self.0
    }
}

/// What a listener gives back when it is called, like the return value of a JavaScript listener.
#[non_exhaustive]
pub enum ListenerOutcome {
    /// The listener ran to completion.
    Done,
    /// The listener returned `true`. Most events ignore it; for `runtime.onMessage` it says
    /// the listener will answer later, so the message channel stays open.
    True,
    /// The listener failed (a thrown error); the other listeners still run.
    Failed(ListenerError),
    /// The listener started asynchronous work that goes on after it returned (an `async`
    /// listener). Whoever dispatched the event decides where that work runs.
    Pending(ListenerFuture),
}

impl fmt::Debug for ListenerOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenerOutcome::Done => f.write_str("Done"),
            ListenerOutcome::True => f.write_str("True"),
            ListenerOutcome::Failed(e) => f.debug_tuple("Failed").field(e).finish(),
            ListenerOutcome::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

/// Conversion of a listener's return value into a [`ListenerOutcome`], so that listeners may
/// return `()`, a `Result`, or an outcome.
pub trait IntoListenerOutcome {
    /// Converts the value.
    fn into_outcome(self) -> ListenerOutcome;
}

impl IntoListenerOutcome for ListenerOutcome {
    fn into_outcome(self) -> ListenerOutcome {
        self
    }
}

impl IntoListenerOutcome for () {
    fn into_outcome(self) -> ListenerOutcome {
        ListenerOutcome::Done
    }
}

/// `true` is [`ListenerOutcome::True`]; `false` is [`ListenerOutcome::Done`], as a JavaScript
/// listener returning `false` does nothing special.
impl IntoListenerOutcome for bool {
    fn into_outcome(self) -> ListenerOutcome {
        if self {
            ListenerOutcome::True
        } else {
            ListenerOutcome::Done
        }
    }
}

impl<E: fmt::Display> IntoListenerOutcome for Result<(), E> {
    fn into_outcome(self) -> ListenerOutcome {
        match self {
            Ok(()) => ListenerOutcome::Done,
            Err(e) => ListenerOutcome::Failed(ListenerError::new(e.to_string())),
        }
    }
}

/// Conversion of what an asynchronous listener's future resolves to.
pub trait IntoListenerResult {
    /// Converts the value.
    fn into_result(self) -> Result<(), ListenerError>;
}

impl IntoListenerResult for () {
    fn into_result(self) -> Result<(), ListenerError> {
        Ok(())
    }
}

impl<E: fmt::Display> IntoListenerResult for Result<(), E> {
    fn into_result(self) -> Result<(), ListenerError> {
        self.map_err(|e| ListenerError::new(e.to_string()))
    }
}

/// The error a listener failed with: the message a thrown JavaScript error would carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerError {
    message: String,
    not_an_error: bool,
}

impl ListenerError {
    /// An error with this message (a thrown JavaScript `Error`).
    pub fn new(message: impl Into<String>) -> Self {
        ListenerError {
            message: message.into(),
            not_an_error: false,
        }
    }

    /// A thrown value that is not an `Error` (JavaScript's `throw 42`, `Promise.reject("x")`);
    /// `description` says what it was. Some dispatchers tell the two apart:
    /// `runtime.onMessage` answers the sender differently.
    pub fn not_an_error(description: impl Into<String>) -> Self {
        ListenerError {
            message: description.into(),
            not_an_error: true,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a value that is not an `Error` was thrown (see [`ListenerError::not_an_error`]).
    pub fn is_error(&self) -> bool {
        !self.not_an_error
    }
}

impl fmt::Display for ListenerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ListenerError {}

impl From<&str> for ListenerError {
    fn from(message: &str) -> Self {
        ListenerError::new(message)
    }
}

impl From<String> for ListenerError {
    fn from(message: String) -> Self {
        ListenerError::new(message)
    }
}

/// How a listener failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The listener panicked; the panic was caught.
    Panicked,
    /// The listener returned an error.
    Errored,
}

impl FailureKind {
    /// `"panicked"` or `"errored"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Panicked => "panicked",
            FailureKind::Errored => "errored",
        }
    }
}

/// A listener that failed during a dispatch. The dispatch went on to the other listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerFailure {
    /// The listener that failed.
    pub listener: ListenerId,
    /// Whether it panicked or returned an error.
    pub kind: FailureKind,
    /// The panic message or the error's message.
    pub message: String,
}

impl fmt::Display for ListenerFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "listener {} {}: {}",
            self.listener.0,
            self.kind.as_str(),
            self.message
        )
    }
}

/// The message of a caught panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
