//! Message channels as data, as Chromium's message service keeps them: a one-time message
//! (`sendMessage`) and a port (`connect`) are both a channel from an opener to the receiving
//! contexts that have a listener.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;

use crate::model::contexts::ContextId;
use crate::model::error::SendMessageError;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{EndId, FrameId, KeepaliveId, TabId};
use crate::model::message::MessageSender;

/// Where a channel to the opener's own extension goes, in the trace's words.
pub(crate) const OWN_EXTENSION: &str = "own extension";

/// What a one-time message's sender gets: a response (`None`: `undefined`), or an error.
pub(crate) type Reply = Result<Option<Value>, SendMessageError>;

/// Where a channel goes.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// The sender's own extension: `onMessage` / `onConnect` in its pages and views.
    Own(ExtensionId),
    /// Another extension, or any extension from a web page: `onMessageExternal` /
    /// `onConnectExternal`.
    External(ExtensionId),
    /// An extension, from a native application (`onConnectNative`).
    FromNativeApp(ExtensionId),
    /// An extension's content scripts in a tab (`tabs.sendMessage`, `tabs.connect`).
    Tab {
        ext: ExtensionId,
        tab: TabId,
        frame: Option<FrameId>,
    },
}

impl Target {
    /// The extension the channel goes to.
    pub(crate) fn ext(&self) -> &ExtensionId {
        match self {
            Target::Own(ext)
            | Target::External(ext)
            | Target::FromNativeApp(ext)
            | Target::Tab { ext, .. } => ext,
        }
    }

    /// Where it goes, in the trace's words.
    pub(crate) fn describe(&self) -> Cow<'static, str> {
        match self {
            Target::Own(_) => Cow::Borrowed(OWN_EXTENSION),
            Target::External(ext) | Target::FromNativeApp(ext) => {
                Cow::Owned(format!("extension {ext}"))
            }
            Target::Tab {
                tab,
                frame: Some(frame),
                ..
            } => Cow::Owned(format!("tab {tab} frame {frame}")),
            Target::Tab { tab, .. } => Cow::Owned(format!("tab {tab}")),
        }
    }

    /// Which events of the receiving contexts the channel reaches.
    pub(crate) fn via(&self) -> Via {
        match self {
            Target::Own(_) | Target::Tab { .. } => Via::Own,
            Target::External(_) => Via::External,
            Target::FromNativeApp(_) => Via::NativeApp,
        }
    }
}

/// Which events of the receiving contexts a channel reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// `onMessage` / `onConnect`: from the extension itself (its pages, views and content
    /// scripts), or to its content scripts.
    Own,
    /// `onMessageExternal` / `onConnectExternal`.
    External,
    /// `onConnectNative`.
    NativeApp,
}

/// A one-time message or a port.
#[derive(Clone, Debug)]
pub(crate) enum ChannelKind {
    Message {
        message: Arc<Value>,
        /// A receiver that kept the channel open went away without answering.
        abandoned: bool,
    },
    Port {
        name: String,
    },
}

/// One end of a channel.
#[derive(Clone, Debug)]
pub(crate) struct End {
    pub(crate) context: ContextId,
    /// The keepalive the end holds on its extension's background page.
    pub(crate) keepalive: Option<(ExtensionId, KeepaliveId)>,
    /// Whether this end has a `Port` object (ports only; the driver holds it).
    pub(crate) port: bool,
    /// Whether this end is a native host's process (the driver holds the way to it).
    pub(crate) native: bool,
}

/// The receiving ends of a channel, by end id, in the order of their ids.
///
/// A channel has few receivers (one per receiving context), so a sorted vector serves better
/// than a map: one small allocation per channel, where a `BTreeMap` of `End`s allocates a node
/// of over a kilobyte for the first one.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ends(Vec<(EndId, End)>);

impl Ends {
    fn position(&self, id: EndId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(end, _)| *end)
    }

    pub(crate) fn insert(&mut self, id: EndId, end: End) {
        match self.position(id) {
            Ok(at) => self.0[at].1 = end,
            Err(at) => {
                // Most channels have one receiver: room for it alone, not for four.
                if self.0.len() == self.0.capacity() && self.0.capacity() < 4 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(at, (id, end))
            }
        }
    }

    pub(crate) fn remove(&mut self, id: EndId) -> Option<End> {
        let at = self.position(id).ok()?;
        Some(self.0.remove(at).1)
    }

    pub(crate) fn get(&self, id: EndId) -> Option<&End> {
        let at = self.position(id).ok()?;
        Some(&self.0[at].1)
    }

    pub(crate) fn contains(&self, id: EndId) -> bool {
        self.position(id).is_ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (EndId, &End)> {
        self.0.iter().map(|(id, end)| (*id, end))
    }

    pub(crate) fn values(&self) -> impl Iterator<Item = &End> {
        self.0.iter().map(|(_, end)| end)
    }
}

/// What the opener did before the channel opened, in order.
#[derive(Clone, Debug)]
pub(crate) enum PendingOp {
    Post(Value),
    Disconnect,
}

/// One message channel.
#[derive(Clone, Debug)]
pub(crate) struct Channel {
    pub(crate) kind: ChannelKind,
    pub(crate) opener: End,
    pub(crate) opener_end: EndId,
    pub(crate) receivers: Ends,
    pub(crate) target: Target,
    /// Who opened it, as receivers see it; shared with the receiving ports.
    pub(crate) sender: Arc<MessageSender>,
    /// The receivers have been asked; posts from the opener go straight to them.
    pub(crate) opened: bool,
    /// What the opener did before the channel opened, in order.
    pub(crate) pending: Vec<PendingOp>,
}

impl Channel {
    /// Whether it is a port (not a one-time message).
    pub(crate) fn is_port(&self) -> bool {
        matches!(self.kind, ChannelKind::Port { .. })
    }

    /// Every end that has a `Port` object: the opener's first.
    pub(crate) fn port_ends(&self) -> impl Iterator<Item = EndId> + '_ {
        std::iter::once((self.opener_end, &self.opener))
            .chain(self.receivers.iter())
            .filter(|(_, end)| end.port)
            .map(|(id, _)| id)
    }
}
