//! Contexts: the places code runs and messages come from — a background page, an extension
//! view, a content script in a tab's frame, a web page, a native host or application — and
//! the tabs and frames that hold web pages.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::extension_id::ExtensionId;
use crate::model::ids::{
    ChannelId, DocumentId, FrameId, KeepaliveId, NativeAppId, PageLoad, TabId, ViewId,
};

/// The kind of an extension view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// The browser action's or page action's popup.
    Popup,
    /// The options page.
    Options,
    /// A tab showing a page of the extension.
    Tab,
}

impl ViewKind {
    /// `popup`, `options` or `tab`.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewKind::Popup => "popup",
            ViewKind::Options => "options",
            ViewKind::Tab => "tab",
        }
    }
}

/// Where an extension's [`ContextScript`](crate::ContextScript) runs: what the browser tells it
/// when a content script starts in a frame or an extension view opens.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptPlace {
    /// A content script of the extension starts in a frame of a tab.
    ContentScript {
        /// The tab.
        tab: TabId,
        /// The frame (0: the tab's top frame).
        frame: FrameId,
        /// The URL the frame shows.
        url: String,
        /// The entries of the manifest's `content_scripts` whose `matches` take this frame, by
        /// their index, in the manifest's order: their `js` files run, in that order. Empty when
        /// the content script was injected by hand into a frame none of them matches.
        entries: Vec<usize>,
    },
    /// An extension view opens: a popup, the options page, or a tab showing a page of the
    /// extension.
    View {
        /// The view.
        view: ViewId,
        /// What kind of view it is.
        kind: ViewKind,
        /// The page's URL (`chrome-extension://<id>/popup.html`).
        url: String,
    },
}

/// One JavaScript context of the simulated browser, as the browser tells it from every other:
/// a context of an earlier page load is another context.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ContextId {
    /// One load of an extension's background page.
    Background { ext: ExtensionId, load: PageLoad },
    /// An extension view.
    View { ext: ExtensionId, view: ViewId },
    /// An extension's content script in one document (one page load) of a tab's frame.
    ContentScript {
        ext: ExtensionId,
        tab: TabId,
        frame: FrameId,
        document: DocumentId,
    },
    /// The web page (one document) shown in one frame of a tab.
    WebPage {
        tab: TabId,
        frame: FrameId,
        document: DocumentId,
    },
    /// A native messaging host, the far end of a `connectNative` port.
    NativeHost { name: String, channel: ChannelId },
    /// A native application that opened a connection to an extension (`onConnectNative`).
    NativeApp { name: String, id: NativeAppId },
}

impl ContextId {
    /// The extension the context belongs to (none for a web page or a native program).
    pub(crate) fn extension(&self) -> Option<&ExtensionId> {
        match self {
            ContextId::Background { ext, .. }
            | ContextId::View { ext, .. }
            | ContextId::ContentScript { ext, .. } => Some(ext),
            ContextId::WebPage { .. }
            | ContextId::NativeHost { .. }
            | ContextId::NativeApp { .. } => None,
        }
    }

    /// The background page load, if this is one.
    pub(crate) fn background_load(&self) -> Option<PageLoad> {
        match self {
            ContextId::Background { load, .. } => Some(*load),
            _ => None,
        }
    }

    /// Whether this is a content script.
    pub(crate) fn is_content_script(&self) -> bool {
        matches!(self, ContextId::ContentScript { .. })
    }
}

/// An open extension view.
#[derive(Clone, Debug)]
pub(crate) struct View {
    pub(crate) kind: ViewKind,
    pub(crate) url: String,
    /// The tab it is shown in (views of kind `Tab`).
    pub(crate) tab: Option<TabId>,
    pub(crate) keepalive: KeepaliveId,
}

/// A tab: its frames, by frame id (0 is the top frame).
#[derive(Clone, Debug)]
pub(crate) struct TabState {
    pub(crate) index: u64,
    pub(crate) frames: BTreeMap<FrameId, FrameState>,
    pub(crate) next_frame: u64,
    /// What `sender.tlsChannelId` is for the tab's pages, when a receiver asks for it.
    pub(crate) tls_channel_id: Option<String>,
    /// The extension page the tab shows instead of a web page (an extension view of kind
    /// `Tab`): its extension and view. Such a tab has no web page frames.
    pub(crate) extension_page: Option<(ExtensionId, ViewId)>,
}

/// A frame of a tab: the page it shows and the extensions whose content scripts run in it.
#[derive(Clone, Debug)]
pub(crate) struct FrameState {
    pub(crate) url: String,
    /// Which document (page load) the frame shows: contexts of an earlier one are gone.
    pub(crate) document: DocumentId,
    pub(crate) parent: Option<FrameId>,
    pub(crate) content_scripts: BTreeSet<ExtensionId>,
}
