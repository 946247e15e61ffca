//! Keepalives: what holds a background page alive.

use std::fmt;
use std::sync::Weak;

use crate::engine::{Deferred, Shared};
use crate::ExtensionId;

/// Why a keepalive is held (Chromium's keepalive activities).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepaliveReason {
    /// An extension API call in flight.
    ApiCall(String),
    /// An event being dispatched to the page.
    EventDispatch(String),
    /// The page is being created for queued work.
    PageCreation,
    /// A visible extension view (popup, options page, extension tab).
    View(u64),
    /// An open message channel (a port, or a one-time message awaiting its answer) with an end
    /// in this extension; the channel's id.
    MessageChannel(u64),
    /// A message being delivered through a port; the channel's id.
    MessageInTransit(u64),
    /// An open `connectNative` port (a message channel to a native host); the channel's id.
    NativePort(u64),
    /// Held from outside the simulated extension, e.g. by a test.
    External(String),
    /// An async listener's promise that has not settled yet (Firefox does not suspend while
    /// one is pending); the event's name.
    ListenerPromise(String),
}

impl fmt::Display for KeepaliveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeepaliveReason::ApiCall(api) => write!(f, "API call {api}"),
            KeepaliveReason::EventDispatch(event) => write!(f, "dispatching {event}"),
            KeepaliveReason::PageCreation => f.write_str("page being created"),
            KeepaliveReason::ListenerPromise(event) => {
                write!(f, "a promise of a {event} listener pending")
            }
            KeepaliveReason::View(id) => write!(f, "view #{id} open"),
            KeepaliveReason::MessageChannel(id) => write!(f, "message channel #{id} open"),
            KeepaliveReason::MessageInTransit(id) => {
                write!(f, "message in transit on channel #{id}")
            }
            KeepaliveReason::NativePort(id) => write!(f, "native port #{id} open"),
            KeepaliveReason::External(label) => write!(f, "held: {label}"),
        }
    }
}

/// A reason serializes as its text (what the timeline prints), e.g. `"view #2 open"`.
impl serde::Serialize for KeepaliveReason {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A keepalive held on an extension's background page from outside the extension (Chromium's
/// `IncrementLazyKeepaliveCount`). It is released when dropped, or by
/// [`Keepalive::release`]; the release takes effect at the simulation's next step.
#[must_use = "a Keepalive is released as soon as it is dropped"]
#[derive(Debug)]
pub struct Keepalive {
    pub(crate) ext: ExtensionId,
    pub(crate) id: u64,
    pub(crate) shared: Weak<Shared>,
}

impl Keepalive {
    /// The extension it keeps alive.
    pub fn extension(&self) -> &ExtensionId {
        &self.ext
    }

    /// Releases it (the same as dropping it).
    pub fn release(self) {}
}

impl Drop for Keepalive {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.hand_in(Deferred::Release {
                ext: self.ext.clone(),
                keepalive: self.id,
            });
        }
    }
}
