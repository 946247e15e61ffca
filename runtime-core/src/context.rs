//! Contexts: the places code runs and messages come from — a background page, an extension
//! view, a content script in a tab's frame, a web page — and the tabs that hold frames.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::Deferred;
use crate::events::ContextEvents;
use crate::executor::TaskOwner;
use crate::message::{origin_of, MessageSender, Tab};
use crate::sim::Sim;
use crate::trace::{Context, TraceEvent};
use crate::{ExtensionId, Runtime};

/// A tab of the simulated browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TabId(pub u64);

/// A frame of a tab; [`FrameId::TOP`] is the tab's top frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FrameId(pub u64);

impl FrameId {
    /// The top frame of a tab (`frameId` 0).
    pub const TOP: FrameId = FrameId(0);
}

/// One JavaScript context of the simulated browser.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Endpoint {
    /// One load (`life`) of an extension's background page.
    Background { ext: ExtensionId, life: u64 },
    /// An extension view.
    View { ext: ExtensionId, view: u64 },
    /// An extension's content script in one document (one page load) of a tab's frame.
    ContentScript {
        ext: ExtensionId,
        tab: u64,
        frame: u64,
        document: u64,
    },
    /// The web page (one document) shown in one frame of a tab.
    WebPage { tab: u64, frame: u64, document: u64 },
    /// A native messaging host, the far end of a `connectNative` port.
    NativeHost { name: String, channel: u64 },
    /// A native application that opened a connection to an extension (`onConnectNative`).
    NativeApp { name: String, id: u64 },
}

impl Endpoint {
    /// The extension the context belongs to (none for a web page).
    pub(crate) fn extension(&self) -> Option<&ExtensionId> {
        match self {
            Endpoint::Background { ext, .. }
            | Endpoint::View { ext, .. }
            | Endpoint::ContentScript { ext, .. } => Some(ext),
            Endpoint::WebPage { .. } | Endpoint::NativeHost { .. } | Endpoint::NativeApp { .. } => {
                None
            }
        }
    }

    /// How the trace names the context.
    pub(crate) fn trace_context(&self, sim: &Sim) -> Context {
        self.trace_context_with(|ext, view| {
            sim.extensions.get(ext)?.views.get(&view).map(|v| v.kind)
        })
    }

    /// How the trace names the context, given how to find a view's kind.
    pub(crate) fn trace_context_with(
        &self,
        view_kind: impl FnOnce(&ExtensionId, u64) -> Option<crate::ViewKind>,
    ) -> Context {
        match self {
            Endpoint::Background { .. } => Context::Background,
            Endpoint::View { ext, view } => Context::View {
                id: *view,
                kind: view_kind(ext, *view).unwrap_or(crate::ViewKind::Tab),
            },
            Endpoint::ContentScript { tab, frame, .. } => Context::ContentScript {
                tab: *tab,
                frame: *frame,
            },
            Endpoint::WebPage { tab, frame, .. } => Context::WebPage {
                tab: *tab,
                frame: *frame,
            },
            Endpoint::NativeHost { name, .. } | Endpoint::NativeApp { name, .. } => {
                Context::NativeHost { name: name.clone() }
            }
        }
    }
}

/// A tab: its frames, by frame id (0 is the top frame).
pub(crate) struct TabState {
    pub(crate) index: u64,
    pub(crate) frames: BTreeMap<u64, FrameState>,
    pub(crate) next_frame: u64,
    /// What `sender.tlsChannelId` is for the tab's pages, when a receiver asks for it.
    pub(crate) tls_channel_id: Option<String>,
    /// The extension page the tab shows instead of a web page (an extension view of kind
    /// `Tab`): its extension and view. Such a tab has no web page frames.
    pub(crate) extension_page: Option<(ExtensionId, u64)>,
}

/// A frame of a tab: the page it shows and the content scripts running in it.
pub(crate) struct FrameState {
    pub(crate) url: String,
    /// Which document (page load) the frame shows: contexts of an earlier one are gone.
    pub(crate) document: u64,
    pub(crate) parent: Option<u64>,
    /// The web page's own context (what it may call: `sendMessage` and `connect`).
    pub(crate) page: Arc<ContextEvents>,
    pub(crate) content_scripts: BTreeMap<ExtensionId, Runtime>,
}

impl Sim {
    /// The events (and `lastError`) of a context that is still there.
    pub(crate) fn context_events(&self, endpoint: &Endpoint) -> Option<Arc<ContextEvents>> {
        self.find_context_events(endpoint).cloned()
    }

    /// The events of a context that is still there, lent.
    pub(crate) fn find_context_events(&self, endpoint: &Endpoint) -> Option<&Arc<ContextEvents>> {
        match endpoint {
            Endpoint::Background { ext, life } => self
                .extensions
                .get(ext)?
                .page
                .as_ref()
                .filter(|p| p.life == *life)
                .map(|p| &p.events),
            Endpoint::View { ext, view } => self
                .extensions
                .get(ext)?
                .views
                .get(view)
                .map(|v| v.runtime.events()),
            Endpoint::ContentScript {
                ext,
                tab,
                frame,
                document,
            } => self
                .document(*tab, *frame, *document)?
                .content_scripts
                .get(ext)
                .map(Runtime::events),
            Endpoint::WebPage {
                tab,
                frame,
                document,
            } => self.document(*tab, *frame, *document).map(|f| &f.page),
            Endpoint::NativeHost { .. } => None,
            Endpoint::NativeApp { id, .. } => self.native_apps.get(id),
        }
    }

    /// A frame, if it still shows `document`.
    fn document(&self, tab: u64, frame: u64, document: u64) -> Option<&FrameState> {
        self.tabs
            .get(&tab)?
            .frames
            .get(&frame)
            .filter(|f| f.document == document)
    }

    /// Whether a context is still there.
    pub(crate) fn context_alive(&self, endpoint: &Endpoint) -> bool {
        self.find_context_events(endpoint).is_some()
    }

    /// The contexts of an extension that runtime messages reach: its loaded background page
    /// and its views (not its content scripts).
    pub(crate) fn extension_contexts<'a>(
        &'a self,
        ext: &'a ExtensionId,
    ) -> impl Iterator<Item = Endpoint> + 'a {
        let rec = self.extensions.get(ext);
        let page = rec
            .and_then(|r| r.page.as_ref().filter(|p| p.loaded))
            .map(|page| Endpoint::Background {
                ext: ext.clone(),
                life: page.life,
            });
        let views = rec
            .into_iter()
            .flat_map(|r| r.views.keys())
            .map(|view| Endpoint::View {
                ext: ext.clone(),
                view: *view,
            });
        page.into_iter().chain(views)
    }

    /// The content scripts of `ext` in a tab (in one frame, or in all).
    pub(crate) fn content_scripts_in<'a>(
        &'a self,
        ext: &'a ExtensionId,
        tab: u64,
        frame: Option<u64>,
    ) -> impl Iterator<Item = Endpoint> + 'a {
        self.tabs
            .get(&tab)
            .into_iter()
            .flat_map(|state| state.frames.iter())
            .filter(move |(id, _)| frame.map_or(true, |want| want == **id))
            .filter_map(|(_, f)| f.content_scripts.get(ext))
            .map(|runtime| runtime.endpoint().clone())
    }

    /// `tabs.Tab` for a tab.
    pub(crate) fn tab_info(&self, tab: u64) -> Option<Tab> {
        let state = self.tabs.get(&tab)?;
        let url = match &state.extension_page {
            Some((ext, view)) => self
                .extensions
                .get(ext)
                .and_then(|r| r.views.get(view))
                .map(|v| v.url.clone()),
            None => state.frames.get(&0).map(|f| f.url.clone()),
        };
        Some(Tab {
            id: tab,
            index: state.index,
            window_id: 1,
            url: url.unwrap_or_default(),
            active: true,
            incognito: false,
        })
    }

    /// The URL a context shows.
    pub(crate) fn context_url(&self, endpoint: &Endpoint) -> Option<String> {
        match endpoint {
            Endpoint::Background { ext, .. } => {
                let rec = self.extensions.get(ext)?;
                let path = rec
                    .manifest
                    .background()
                    .map_or("_generated_background_page.html", |bg| bg.page_path());
                Some(format!(
                    "{}/{}",
                    rec.base_url(),
                    path.trim_start_matches('/')
                ))
            }
            Endpoint::View { ext, view } => {
                Some(self.extensions.get(ext)?.views.get(view)?.url.clone())
            }
            Endpoint::ContentScript { tab, frame, .. } | Endpoint::WebPage { tab, frame, .. } => {
                Some(self.tabs.get(tab)?.frames.get(frame)?.url.clone())
            }
            Endpoint::NativeHost { .. } | Endpoint::NativeApp { .. } => None,
        }
    }

    /// What the browser tells receivers about a message from `endpoint` (§4.3).
    pub(crate) fn sender_for(&self, endpoint: &Endpoint, tls_wanted: bool) -> MessageSender {
        let url = self.context_url(endpoint);
        let origin = url.as_deref().map(origin_of);
        let (tab, frame_id, tls) = match endpoint {
            Endpoint::ContentScript { tab, frame, .. } => (self.tab_info(*tab), Some(*frame), None),
            // An extension page shown in a tab is that tab's top frame.
            Endpoint::View { ext, view } => match self.view_tab(ext, *view) {
                Some(tab) => (self.tab_info(tab), Some(0), None),
                None => (None, None, None),
            },
            Endpoint::WebPage { tab, frame, .. } => {
                let tls = self
                    .tabs
                    .get(tab)
                    .and_then(|t| t.tls_channel_id.clone())
                    .filter(|_| tls_wanted);
                (self.tab_info(*tab), Some(*frame), tls)
            }
            _ => (None, None, None),
        };
        let native_application = match endpoint {
            Endpoint::NativeApp { name, .. } => Some(name.clone()),
            _ => None,
        };
        MessageSender {
            id: endpoint.extension().cloned(),
            url,
            origin,
            frame_id,
            tab,
            native_application,
            tls_channel_id: tls,
        }
    }

    /// A context has gone (page unloaded, view closed, frame gone): its message channels close,
    /// and its asynchronous work and its listeners are dropped.
    pub(crate) fn context_closed(&mut self, endpoint: &Endpoint, events: &Arc<ContextEvents>) {
        self.close_channels_of(endpoint);
        self.deferred
            .push_back(Deferred::DropTasks(TaskOwner::Context(endpoint.clone())));
        self.deferred
            .push_back(Deferred::DropListeners(Arc::clone(events)));
    }

    /// Closes a frame and its children: their content scripts and pages go.
    pub(crate) fn close_frame(&mut self, tab: u64, frame: u64) {
        let children: Vec<u64> = self
            .tabs
            .get(&tab)
            .map(|t| {
                t.frames
                    .iter()
                    .filter(|(_, f)| f.parent == Some(frame))
                    .map(|(id, _)| *id)
                    .collect()
            })
            .unwrap_or_default();
        for child in children {
            self.close_frame(tab, child);
        }
        let Some(state) = self
            .tabs
            .get_mut(&tab)
            .and_then(|t| t.frames.remove(&frame))
        else {
            return;
        };
        for runtime in state.content_scripts.values() {
            self.context_closed(runtime.endpoint(), runtime.events());
        }
        self.context_closed(
            &Endpoint::WebPage {
                tab,
                frame,
                document: state.document,
            },
            &state.page,
        );
        self.record(
            None,
            Some(Context::WebPage { tab, frame }),
            TraceEvent::FrameClosed,
        );
    }

    /// A new tab, last in the window, with no frame yet.
    fn new_tab(&mut self, extension_page: Option<(ExtensionId, u64)>) -> u64 {
        self.next_tab += 1;
        let tab = self.next_tab;
        let index = self.tabs.len() as u64;
        self.tabs.insert(
            tab,
            TabState {
                index,
                frames: BTreeMap::new(),
                next_frame: 0,
                tls_channel_id: None,
                extension_page,
            },
        );
        tab
    }

    /// Opens a tab on `url`; the content scripts that match it start.
    pub(crate) fn open_tab(
        &mut self,
        shared: &std::sync::Weak<crate::engine::Shared>,
        url: &str,
    ) -> u64 {
        let tab = self.new_tab(None);
        self.record(
            None,
            Some(Context::WebPage { tab, frame: 0 }),
            TraceEvent::TabOpened {
                url: url.to_owned(),
            },
        );
        self.add_frame(shared, tab, 0, None, url);
        tab
    }

    /// Adds a frame to a tab and starts the content scripts that match it.
    pub(crate) fn add_frame(
        &mut self,
        shared: &std::sync::Weak<crate::engine::Shared>,
        tab: u64,
        frame: u64,
        parent: Option<u64>,
        url: &str,
    ) {
        let document = self.fresh_id();
        let Some(state) = self.tabs.get_mut(&tab) else {
            return;
        };
        state.next_frame = state.next_frame.max(frame);
        state.frames.insert(
            frame,
            FrameState {
                url: url.to_owned(),
                document,
                parent,
                page: Arc::new(ContextEvents::unobserved()),
                content_scripts: BTreeMap::new(),
            },
        );
        if parent.is_some() {
            self.record(
                None,
                Some(Context::WebPage { tab, frame }),
                TraceEvent::FrameOpened {
                    url: url.to_owned(),
                },
            );
        }
        self.inject_matching(shared, tab, frame);
    }

    /// A new id for a child frame of `tab`.
    pub(crate) fn next_frame_id(&mut self, tab: u64) -> Option<u64> {
        let state = self.tabs.get_mut(&tab)?;
        state.next_frame += 1;
        Some(state.next_frame)
    }

    /// Opens a tab that shows an extension page (the view `view` of `ext`, of kind `Tab`).
    pub(crate) fn open_extension_tab(&mut self, ext: &ExtensionId, view: u64, url: &str) -> u64 {
        let tab = self.new_tab(Some((ext.clone(), view)));
        self.record(
            None,
            Some(Context::WebPage { tab, frame: 0 }),
            TraceEvent::TabOpened {
                url: url.to_owned(),
            },
        );
        tab
    }

    /// The tab an open extension view is shown in (views of kind `Tab`).
    pub(crate) fn view_tab(&self, ext: &ExtensionId, view: u64) -> Option<u64> {
        self.extensions.get(ext)?.views.get(&view)?.tab
    }

    /// A view shown in `tab` has closed: the tab closes with it, unless it has navigated away.
    pub(crate) fn close_view_tab(&mut self, tab: u64, ext: &ExtensionId, view: u64) {
        let shows_it = self
            .tabs
            .get(&tab)
            .and_then(|t| t.extension_page.as_ref())
            .is_some_and(|(e, v)| e == ext && *v == view);
        if shows_it {
            self.tabs.remove(&tab);
            self.record(
                None,
                Some(Context::WebPage { tab, frame: 0 }),
                TraceEvent::TabClosed,
            );
        }
    }

    /// The tab stops showing its extension page (it navigates away): the page's view closes,
    /// the tab stays, with no frame until the new page is added.
    pub(crate) fn leave_extension_page(&mut self, tab: u64) {
        let page = self
            .tabs
            .get_mut(&tab)
            .and_then(|t| t.extension_page.take());
        if let Some((ext, view)) = page {
            self.close_view(&ext, view);
        }
    }

    /// Closes a tab: every frame goes, with its page and content scripts; an extension page
    /// shown in it closes (its view).
    pub(crate) fn close_tab(&mut self, tab: u64) -> bool {
        let Some(state) = self.tabs.get(&tab) else {
            return false;
        };
        if let Some((ext, view)) = state.extension_page.clone() {
            // Closing the view closes its tab.
            return self.close_view(&ext, view);
        }
        self.close_frame(tab, 0);
        self.tabs.remove(&tab);
        self.record(
            None,
            Some(Context::WebPage { tab, frame: 0 }),
            TraceEvent::TabClosed,
        );
        true
    }

    /// Stops every content script of `ext` (it was uninstalled).
    pub(crate) fn remove_content_scripts(&mut self, ext: &ExtensionId) {
        let mut gone = Vec::new();
        for state in self.tabs.values_mut() {
            for f in state.frames.values_mut() {
                if let Some(runtime) = f.content_scripts.remove(ext) {
                    gone.push(runtime);
                }
            }
        }
        for runtime in gone {
            self.context_closed(runtime.endpoint(), runtime.events());
        }
    }

    /// Runs the content scripts of every extension whose `content_scripts` match the frame.
    pub(crate) fn inject_matching(
        &mut self,
        shared: &std::sync::Weak<crate::engine::Shared>,
        tab: u64,
        frame: u64,
    ) {
        let Some(state) = self.tabs.get(&tab).and_then(|t| t.frames.get(&frame)) else {
            return;
        };
        let url = state.url.clone();
        let top = state.parent.is_none();
        let matching: Vec<ExtensionId> = self
            .extensions
            .values()
            .filter(|r| {
                r.manifest
                    .content_scripts()
                    .iter()
                    .any(|cs| cs.runs_in(&url, top))
            })
            .map(|r| r.id.clone())
            .collect();
        for ext in matching {
            self.inject(shared, &ext, tab, frame);
        }
    }

    /// Starts a content script of `ext` in a frame; gives its `runtime`.
    pub(crate) fn inject(
        &mut self,
        shared: &std::sync::Weak<crate::engine::Shared>,
        ext: &ExtensionId,
        tab: u64,
        frame: u64,
    ) -> Option<Runtime> {
        let rec = self.extensions.get(ext)?;
        let state = self.tabs.get(&tab)?.frames.get(&frame)?;
        if let Some(runtime) = state.content_scripts.get(ext) {
            return Some(runtime.clone());
        }
        let endpoint = Endpoint::ContentScript {
            ext: ext.clone(),
            tab,
            frame,
            document: state.document,
        };
        let runtime = Runtime::for_context(shared.clone(), rec, endpoint);
        self.tabs
            .get_mut(&tab)?
            .frames
            .get_mut(&frame)?
            .content_scripts
            .insert(ext.clone(), runtime.clone());
        self.record(
            Some(ext),
            Some(Context::ContentScript { tab, frame }),
            TraceEvent::ContentScriptStarted,
        );
        Some(runtime)
    }
}
