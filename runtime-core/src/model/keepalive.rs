//! Keepalives: what holds a background page alive, and the keepalives one page holds.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::model::ids::{ChannelId, KeepaliveId, PageLoad, ViewId};
use crate::model::names::{ApiFunction, EventName};

/// Why a keepalive is held (Chromium's keepalive activities).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeepaliveReason {
    /// An extension API call in flight.
    ApiCall(ApiFunction),
    /// An event being dispatched to the page.
    EventDispatch(EventName),
    /// The page is being created for queued work.
    PageCreation,
    /// A visible extension view (popup, options page, extension tab).
    View(ViewId),
    /// An open message channel (a port, or a one-time message awaiting its answer) with an end
    /// in this extension.
    MessageChannel(ChannelId),
    /// A message being delivered through a port.
    MessageInTransit(ChannelId),
    /// An open `connectNative` port (a message channel to a native host).
    NativePort(ChannelId),
    /// Held from outside the simulated extension, e.g. by a test, with its label.
    External(String),
    /// An async listener's promise that has not settled yet (Firefox does not suspend while
    /// one is pending).
    ListenerPromise(EventName),
}

impl KeepaliveReason {
    /// The reason's kind, as the JSON trace names it.
    pub fn kind(&self) -> &'static str {
        match self {
            KeepaliveReason::ApiCall(_) => "api_call",
            KeepaliveReason::EventDispatch(_) => "event_dispatch",
            KeepaliveReason::PageCreation => "page_creation",
            KeepaliveReason::View(_) => "view",
            KeepaliveReason::MessageChannel(_) => "message_channel",
            KeepaliveReason::MessageInTransit(_) => "message_in_transit",
            KeepaliveReason::NativePort(_) => "native_port",
            KeepaliveReason::External(_) => "external",
            KeepaliveReason::ListenerPromise(_) => "listener_promise",
        }
    }
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

/// A reason is data in JSON: its kind and what it names, e.g.
/// `{"kind":"api_call","api":"runtime.getPlatformInfo"}` or `{"kind":"view","view":2}`.
impl Serialize for KeepaliveReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = usize::from(!matches!(self, KeepaliveReason::PageCreation));
        let mut map = serializer.serialize_map(Some(1 + fields))?;
        map.serialize_entry("kind", self.kind())?;
        match self {
            KeepaliveReason::ApiCall(api) => map.serialize_entry("api", api)?,
            KeepaliveReason::EventDispatch(event) | KeepaliveReason::ListenerPromise(event) => {
                map.serialize_entry("event", event)?
            }
            KeepaliveReason::PageCreation => {}
            KeepaliveReason::View(view) => map.serialize_entry("view", view)?,
            KeepaliveReason::MessageChannel(channel)
            | KeepaliveReason::MessageInTransit(channel)
            | KeepaliveReason::NativePort(channel) => map.serialize_entry("channel", channel)?,
            KeepaliveReason::External(label) => map.serialize_entry("label", label)?,
        }
        map.end()
    }
}

/// One keepalive: why it is held, and the page load it goes with.
#[derive(Clone, Debug)]
pub(crate) struct Holder {
    pub(crate) reason: KeepaliveReason,
    /// The page load the keepalive belongs to; it goes with that load.
    pub(crate) load: Option<PageLoad>,
}

/// The keepalives held on one page, by id.
///
/// A page rarely holds more than a few at once, so they are a `Vec` sorted by id (ids are
/// handed out in increasing order, so a new one goes at the end): it is smaller than a
/// `BTreeMap`'s node, which a loaded page would allocate for its first keepalive.
/// Up to how many keepalives a page's list grows one at a time (then it doubles).
const ROOM: usize = 4;

#[derive(Clone, Debug, Default)]
pub(crate) struct Holders(Vec<(KeepaliveId, Holder)>);

impl Holders {
    fn position(&self, id: KeepaliveId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(held, _)| *held)
    }

    /// Adds keepalive `id` (or replaces the one with that id).
    pub(crate) fn insert(&mut self, id: KeepaliveId, holder: Holder) {
        match self.position(id) {
            Ok(at) => self.0[at].1 = holder,
            Err(at) => {
                // A page holds one or two at a time: room for exactly those, not the four a
                // `Vec` starts with, on each of thousands of loaded pages.
                if self.0.len() == self.0.capacity() && self.0.capacity() < ROOM {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, (id, holder));
            }
        }
    }

    /// Keepalive `id`, if it is held.
    pub(crate) fn get(&self, id: KeepaliveId) -> Option<&Holder> {
        self.position(id).ok().map(|at| &self.0[at].1)
    }

    /// Takes keepalive `id` away, if it is held.
    pub(crate) fn remove(&mut self, id: KeepaliveId) -> Option<Holder> {
        let at = self.position(id).ok()?;
        let (_, holder) = self.0.remove(at);
        if self.0.is_empty() {
            // An idle page holds none: its room goes, rather than stay with every unloaded
            // extension.
            self.0 = Vec::new();
        }
        Some(holder)
    }

    /// How many are held.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The held keepalives, by increasing id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (KeepaliveId, &Holder)> {
        self.0.iter().map(|(id, holder)| (*id, holder))
    }

    /// The ids of the held keepalives, increasing.
    pub(crate) fn ids(&self) -> impl Iterator<Item = KeepaliveId> + '_ {
        self.0.iter().map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_data_in_json_and_words_in_the_timeline() {
        let reason = KeepaliveReason::ApiCall(ApiFunction::GetPlatformInfo);
        assert_eq!(
            serde_json::to_string(&reason).unwrap(),
            r#"{"kind":"api_call","api":"runtime.getPlatformInfo"}"#
        );
        assert_eq!(reason.to_string(), "API call runtime.getPlatformInfo");
        assert_eq!(
            serde_json::to_string(&KeepaliveReason::PageCreation).unwrap(),
            r#"{"kind":"page_creation"}"#
        );
        assert_eq!(
            serde_json::to_string(&KeepaliveReason::MessageChannel(ChannelId(3))).unwrap(),
            r#"{"kind":"message_channel","channel":3}"#
        );
    }
}
