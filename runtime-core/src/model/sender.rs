//! What a context is to others: whether it is still there, its URL, how the trace names it,
//! and the `MessageSender` receivers get for what it sends (§4.3).

use crate::model::contexts::ViewKind;
use crate::model::contexts::{ContextId, FrameState, TabState};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{DocumentId, FrameId, TabId, ViewId};
use crate::model::message::{origin_of, MessageSender, Tab};
use crate::model::tab::WINDOW_ID;
use crate::model::trace_entry::TraceContext;
use crate::model::world::Model;
use std::sync::Arc;

impl Model {
    /// A frame, if it still shows `document`.
    pub(crate) fn document(
        &self,
        tab: TabId,
        frame: FrameId,
        document: DocumentId,
    ) -> Option<&FrameState> {
        self.tabs
            .get(&tab)?
            .frames
            .get(&frame)
            .filter(|f| f.document == document)
    }

    /// Whether a context is still there.
    pub(crate) fn context_alive(&self, context: &ContextId) -> bool {
        match context {
            ContextId::Background { ext, load } => self
                .ext(ext)
                .and_then(|r| r.page.as_ref())
                .is_some_and(|p| p.load == *load),
            ContextId::View { ext, view } => {
                self.ext(ext).is_some_and(|r| r.views.contains_key(view))
            }
            ContextId::ContentScript {
                ext,
                tab,
                frame,
                document,
            } => self
                .document(*tab, *frame, *document)
                .is_some_and(|f| f.content_scripts.contains(ext)),
            ContextId::WebPage {
                tab,
                frame,
                document,
            } => self.document(*tab, *frame, *document).is_some(),
            ContextId::NativeHost { .. } => false,
            ContextId::NativeApp { id, .. } => self.native_apps.contains(id),
        }
    }

    /// The kind of an open view.
    fn view_kind(&self, ext: &ExtensionId, view: ViewId) -> Option<ViewKind> {
        self.ext(ext)?.views.get(&view).map(|v| v.kind)
    }

    /// How the trace names a context.
    pub(crate) fn trace_context(&self, context: &ContextId) -> TraceContext {
        match context {
            ContextId::Background { .. } => TraceContext::Background,
            ContextId::View { ext, view } => TraceContext::View {
                id: *view,
                kind: self.view_kind(ext, *view).unwrap_or(ViewKind::Tab),
            },
            ContextId::ContentScript { tab, frame, .. } => TraceContext::ContentScript {
                tab: *tab,
                frame: *frame,
            },
            ContextId::WebPage { tab, frame, .. } => TraceContext::WebPage {
                tab: *tab,
                frame: *frame,
            },
            ContextId::NativeHost { name, .. } | ContextId::NativeApp { name, .. } => {
                TraceContext::NativeHost { name: name.clone() }
            }
        }
    }

    /// The contexts of an extension that runtime messages reach: its loaded background page
    /// and its views (not its content scripts).
    pub(crate) fn extension_contexts(&self, ext: &ExtensionId) -> Vec<ContextId> {
        let Some(rec) = self.ext(ext) else {
            return Vec::new();
        };
        let page = rec
            .page
            .as_ref()
            .filter(|p| p.loaded)
            .map(|page| ContextId::Background {
                ext: ext.clone(),
                load: page.load,
            });
        let views = rec.views.keys().map(|view| ContextId::View {
            ext: ext.clone(),
            view: *view,
        });
        page.into_iter().chain(views).collect()
    }

    /// The content scripts of `ext` in a tab (in one frame, or in all).
    pub(crate) fn content_scripts_in(
        &self,
        ext: &ExtensionId,
        tab: TabId,
        frame: Option<FrameId>,
    ) -> Vec<ContextId> {
        self.tabs
            .get(&tab)
            .into_iter()
            .flat_map(|state| state.frames.iter())
            .filter(|(id, _)| frame.is_none_or(|want| want == **id))
            .filter(|(_, f)| f.content_scripts.contains(ext))
            .map(|(id, f)| ContextId::ContentScript {
                ext: ext.clone(),
                tab,
                frame: *id,
                document: f.document,
            })
            .collect()
    }

    /// The tab an open extension view is shown in (views of kind `Tab`).
    pub(crate) fn view_tab(&self, ext: &ExtensionId, view: ViewId) -> Option<TabId> {
        self.ext(ext)?.views.get(&view)?.tab
    }

    /// The URL a tab shows: its extension page's, or its top frame's.
    fn tab_url<'a>(&'a self, state: &'a TabState) -> Option<&'a str> {
        match &state.extension_page {
            Some((ext, view)) => self
                .ext(ext)
                .and_then(|r| r.views.get(view))
                .map(|v| v.url.as_str()),
            None => state.frames.get(&FrameId::TOP).map(|f| f.url.as_str()),
        }
    }

    /// `tabs.Tab` for a tab.
    pub(crate) fn tab_info(&self, tab: TabId) -> Option<Tab> {
        let state = self.tabs.get(&tab)?;
        let url = self.tab_url(state).map(str::to_owned);
        Some(Tab {
            id: tab,
            index: state.index,
            window_id: WINDOW_ID,
            url: url.unwrap_or_default(),
            active: self.active_tab == Some(tab),
            incognito: false,
        })
    }

    /// The URL a context shows.
    pub(crate) fn context_url(&self, context: &ContextId) -> Option<String> {
        match context {
            ContextId::Background { ext, .. } => Some(self.ext(ext)?.background_url()),
            ContextId::View { ext, view } => Some(self.ext(ext)?.views.get(view)?.url.clone()),
            ContextId::ContentScript { tab, frame, .. } | ContextId::WebPage { tab, frame, .. } => {
                Some(self.tabs.get(tab)?.frames.get(frame)?.url.clone())
            }
            ContextId::NativeHost { .. } | ContextId::NativeApp { .. } => None,
        }
    }

    /// What the browser tells receivers about a message from `context`, shared with the last
    /// message's when `context` sent that one and nothing it shows has changed since: each
    /// message then costs no new `MessageSender`.
    pub(crate) fn shared_sender(
        &mut self,
        context: &ContextId,
        tls_wanted: bool,
    ) -> Arc<MessageSender> {
        if let Some((last, tls, sender)) = &self.last_sender {
            if last == context
                && *tls == tls_wanted
                && self.sender_unchanged(sender, context, tls_wanted)
            {
                debug_assert_eq!(**sender, self.sender_for(context, tls_wanted));
                return Arc::clone(sender);
            }
        }
        let sender = Arc::new(self.sender_for(context, tls_wanted));
        self.last_sender = Some((context.clone(), tls_wanted, Arc::clone(&sender)));
        sender
    }

    /// Whether `sender`, made earlier for `context`, still says what [`Model::sender_for`]
    /// would, without making a new one: the context's URL, a web page's TLS channel id, and
    /// its tab's position, URL and whether it is active (a background page's URL is fixed for
    /// its load).
    fn sender_unchanged(&self, sender: &MessageSender, context: &ContextId, tls: bool) -> bool {
        let url = match context {
            ContextId::Background { .. } => return self.context_alive(context),
            ContextId::View { ext, view } => self
                .ext(ext)
                .and_then(|r| r.views.get(view))
                .map(|v| v.url.as_str()),
            ContextId::ContentScript { tab, frame, .. } | ContextId::WebPage { tab, frame, .. } => {
                self.tabs
                    .get(tab)
                    .and_then(|t| t.frames.get(frame))
                    .map(|f| f.url.as_str())
            }
            ContextId::NativeHost { .. } | ContextId::NativeApp { .. } => return false,
        };
        if url != sender.url.as_deref() {
            return false;
        }
        if let ContextId::WebPage { tab, .. } = context {
            let now = self.tabs.get(tab).and_then(|t| t.tls_channel_id.as_deref());
            if sender.tls_channel_id.as_deref() != now.filter(|_| tls) {
                return false;
            }
        }
        match (&sender.tab, self.sender_tab(context)) {
            (None, None) => true,
            (Some(shown), Some(tab)) => self.tab_unchanged(shown, tab),
            _ => false,
        }
    }

    /// The tab a context's messages come from.
    fn sender_tab(&self, context: &ContextId) -> Option<TabId> {
        match context {
            ContextId::ContentScript { tab, .. } | ContextId::WebPage { tab, .. } => Some(*tab),
            ContextId::View { ext, view } => self.view_tab(ext, *view),
            _ => None,
        }
    }

    /// Whether [`Model::tab_info`] of `tab` would still give `shown`.
    fn tab_unchanged(&self, shown: &Tab, tab: TabId) -> bool {
        let Some(state) = self.tabs.get(&tab) else {
            return false;
        };
        let url = self.tab_url(state);
        shown.id == tab
            && shown.index == state.index
            && shown.url == url.unwrap_or_default()
            && shown.active == (self.active_tab == Some(tab))
    }

    /// What the browser tells receivers about a message from `context` (§4.3).
    pub(crate) fn sender_for(&self, context: &ContextId, tls_wanted: bool) -> MessageSender {
        let url = self.context_url(context);
        let origin = url.as_deref().map(origin_of);
        let (tab, frame_id, tls) = match context {
            ContextId::ContentScript { tab, frame, .. } => {
                (self.tab_info(*tab), Some(*frame), None)
            }
            // An extension page shown in a tab is that tab's top frame.
            ContextId::View { ext, view } => match self.view_tab(ext, *view) {
                Some(tab) => (self.tab_info(tab), Some(FrameId::TOP), None),
                None => (None, None, None),
            },
            ContextId::WebPage { tab, frame, .. } => {
                let tls = self
                    .tabs
                    .get(tab)
                    .and_then(|t| t.tls_channel_id.clone())
                    .filter(|_| tls_wanted);
                (self.tab_info(*tab), Some(*frame), tls)
            }
            _ => (None, None, None),
        };
        let native_application = match context {
            ContextId::NativeApp { name, .. } => Some(name.clone()),
            _ => None,
        };
        MessageSender {
            id: context.extension().cloned(),
            url,
            origin,
            frame_id,
            tab,
            native_application,
            tls_channel_id: tls,
        }
    }
}
