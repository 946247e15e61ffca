//! Tabs, frames, extension views and content scripts: opening and closing them, and what
//! goes with a context that closes.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::contexts::{ContextId, FrameState, ScriptPlace, TabState, View, ViewKind};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{FrameId, TabId, ViewId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::Action;
use crate::model::world::Model;

impl Model {
    /// A context has gone (page unloaded, view closed, frame gone): its message channels
    /// close, and its asynchronous work and its listeners are dropped.
    pub(crate) fn context_closed(&mut self, context: &ContextId) {
        self.close_channels_of(context);
        self.act(Action::DropTasks(context.clone()));
        self.act(Action::DropListeners(context.clone()));
    }

    /// Opens an extension view; it holds a keepalive until it is closed. `None` if the
    /// extension is not installed (or does not run).
    pub(crate) fn open_view(
        &mut self,
        ext: &ExtensionId,
        kind: ViewKind,
        path: &str,
    ) -> Option<ViewId> {
        self.open_view_at(ext, kind, path, None, true)
    }

    /// [`Model::open_view`], with where a view of kind `Tab` goes among the tabs (`index`,
    /// default last) and whether its tab becomes the active one.
    pub(crate) fn open_view_at(
        &mut self,
        ext: &ExtensionId,
        kind: ViewKind,
        path: &str,
        index: Option<u64>,
        active: bool,
    ) -> Option<ViewId> {
        let url = self.ext(ext)?.url(path);
        let view = self.ids.view();
        let tab = (kind == ViewKind::Tab)
            .then(|| self.open_extension_tab(ext, view, &url, index, active));
        self.record(
            Some(ext),
            Some(TraceContext::View { id: view, kind }),
            TraceEvent::ViewOpened { url: url.clone() },
        );
        let keepalive = self.acquire(ext, KeepaliveReason::View(view), None);
        if let Some(rec) = self.ext_mut(ext) {
            rec.views.insert(
                view,
                View {
                    kind,
                    url: url.clone(),
                    tab,
                    keepalive,
                },
            );
        }
        if let Some(tab) = tab {
            self.tab_created(tab);
        }
        self.run_context_script(
            ext,
            ContextId::View {
                ext: ext.clone(),
                view,
            },
            ScriptPlace::View { view, kind, url },
        );
        Some(view)
    }

    /// A context of `ext` has begun: the extension's code for its contexts, if it has some,
    /// runs there.
    fn run_context_script(&mut self, ext: &ExtensionId, context: ContextId, place: ScriptPlace) {
        if let Some(script) = self.ext(ext).and_then(|r| r.context_script) {
            self.act(Action::StartContext {
                context,
                script,
                place,
            });
        }
    }

    /// Closes an extension view and gives back its keepalive. Returns whether it was open.
    pub(crate) fn close_view(&mut self, ext: &ExtensionId, view: ViewId) -> bool {
        let Some(v) = self.ext_mut(ext).and_then(|r| r.views.remove(&view)) else {
            return false;
        };
        self.record(
            Some(ext),
            Some(TraceContext::View {
                id: view,
                kind: v.kind,
            }),
            TraceEvent::ViewClosed,
        );
        self.context_closed(&ContextId::View {
            ext: ext.clone(),
            view,
        });
        if let Some(tab) = v.tab {
            self.close_view_tab(tab, ext, view);
        }
        self.release(ext, v.keepalive);
        self.after_going_idle(ext);
        true
    }

    /// Closes a frame and its children: their content scripts and pages go.
    pub(crate) fn close_frame(&mut self, tab: TabId, frame: FrameId) {
        let children: Vec<FrameId> = self
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
        for ext in &state.content_scripts {
            self.context_closed(&ContextId::ContentScript {
                ext: ext.clone(),
                tab,
                frame,
                document: state.document,
            });
        }
        self.context_closed(&ContextId::WebPage {
            tab,
            frame,
            document: state.document,
        });
        self.record(
            None,
            Some(TraceContext::WebPage { tab, frame }),
            TraceEvent::FrameClosed,
        );
    }

    /// A new tab with no frame yet, at `index` in the window (clamped; default last); it
    /// becomes the active tab if `active`, or if the window had none.
    fn new_tab(
        &mut self,
        extension_page: Option<(ExtensionId, ViewId)>,
        index: Option<u64>,
        active: bool,
    ) -> TabId {
        let tab = self.ids.tab();
        let count = self.tabs.len() as u64;
        let index = index.map_or(count, |i| i.min(count));
        for state in self.tabs.values_mut() {
            if state.index >= index {
                state.index += 1;
            }
        }
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
        if active || self.active_tab.is_none() {
            self.active_tab = Some(tab);
        }
        tab
    }

    /// A tab has closed: it goes from the window, the tabs after it move up, and if it was the
    /// active tab, the one that takes its place (else the last) becomes active.
    fn forget_tab(&mut self, tab: TabId) {
        let Some(state) = self.tabs.remove(&tab) else {
            return;
        };
        for other in self.tabs.values_mut() {
            if other.index > state.index {
                other.index -= 1;
            }
        }
        if self.active_tab == Some(tab) {
            let at = state.index.min((self.tabs.len() as u64).saturating_sub(1));
            self.active_tab = self
                .tabs
                .iter()
                .find(|(_, t)| t.index == at)
                .map(|(id, _)| *id);
        }
        self.record(
            None,
            Some(TraceContext::WebPage {
                tab,
                frame: FrameId::TOP,
            }),
            TraceEvent::TabClosed,
        );
        self.tab_removed(tab);
    }

    /// Opens a tab on `url` (as the user would: last, and active); the content scripts that
    /// match it start.
    pub(crate) fn open_tab(&mut self, url: &str) -> TabId {
        self.open_tab_at(url, None, true)
    }

    /// Opens a tab on `url` at `index` (default last), active or not.
    pub(crate) fn open_tab_at(&mut self, url: &str, index: Option<u64>, active: bool) -> TabId {
        let tab = self.new_tab(None, index, active);
        self.tab_opened(tab, url);
        self.add_frame(tab, FrameId::TOP, None, url);
        self.tab_created(tab);
        tab
    }

    /// Records that `tab` opened on `url`, in its top frame.
    fn tab_opened(&mut self, tab: TabId, url: &str) {
        self.record(
            None,
            Some(TraceContext::WebPage {
                tab,
                frame: FrameId::TOP,
            }),
            TraceEvent::TabOpened {
                url: url.to_owned(),
            },
        );
    }

    /// Adds a frame to a tab and starts the content scripts that match it.
    pub(crate) fn add_frame(
        &mut self,
        tab: TabId,
        frame: FrameId,
        parent: Option<FrameId>,
        url: &str,
    ) {
        let document = self.ids.document();
        let Some(state) = self.tabs.get_mut(&tab) else {
            return;
        };
        state.next_frame = state.next_frame.max(frame.0);
        state.frames.insert(
            frame,
            FrameState {
                url: url.to_owned(),
                document,
                parent,
                content_scripts: BTreeSet::new(),
            },
        );
        if parent.is_some() {
            self.record(
                None,
                Some(TraceContext::WebPage { tab, frame }),
                TraceEvent::FrameOpened {
                    url: url.to_owned(),
                },
            );
        }
        self.inject_matching(tab, frame);
    }

    /// A new id for a child frame of `tab`.
    pub(crate) fn next_frame_id(&mut self, tab: TabId) -> Option<FrameId> {
        let state = self.tabs.get_mut(&tab)?;
        state.next_frame += 1;
        Some(FrameId(state.next_frame))
    }

    /// Navigates a tab's top frame to `url`: every frame of the old page goes, or the
    /// extension page it showed closes; the content scripts matching the new page start.
    /// `false` if there is no such tab (or it has no top frame).
    pub(crate) fn navigate(&mut self, tab: TabId, url: &str) -> bool {
        let Some(state) = self.tabs.get(&tab) else {
            return false;
        };
        if state.extension_page.is_some() {
            self.leave_extension_page(tab);
        } else if state.frames.contains_key(&FrameId::TOP) {
            self.close_frame(tab, FrameId::TOP);
        } else {
            return false;
        }
        self.record(
            None,
            Some(TraceContext::WebPage {
                tab,
                frame: FrameId::TOP,
            }),
            TraceEvent::TabNavigated {
                url: url.to_owned(),
            },
        );
        self.add_frame(tab, FrameId::TOP, None, url);
        self.tab_navigated(tab, url);
        true
    }

    /// Opens a tab that shows an extension page (the view `view` of `ext`, of kind `Tab`).
    fn open_extension_tab(
        &mut self,
        ext: &ExtensionId,
        view: ViewId,
        url: &str,
        index: Option<u64>,
        active: bool,
    ) -> TabId {
        let tab = self.new_tab(Some((ext.clone(), view)), index, active);
        self.tab_opened(tab, url);
        tab
    }

    /// A view shown in `tab` has closed: the tab closes with it, unless it has navigated away.
    fn close_view_tab(&mut self, tab: TabId, ext: &ExtensionId, view: ViewId) {
        let shows_it = self
            .tabs
            .get(&tab)
            .and_then(|t| t.extension_page.as_ref())
            .is_some_and(|(e, v)| e == ext && *v == view);
        if shows_it {
            self.forget_tab(tab);
        }
    }

    /// The tab stops showing its extension page (it navigates away): the page's view closes,
    /// the tab stays, with no frame until the new page is added.
    fn leave_extension_page(&mut self, tab: TabId) {
        let page = self
            .tabs
            .get_mut(&tab)
            .and_then(|t| t.extension_page.take());
        if let Some((ext, view)) = page {
            self.close_view(&ext, view);
        }
    }

    /// Closes a tab: every frame goes, with its page and content scripts; an extension page
    /// shown in it closes (its view). Returns whether it was open.
    pub(crate) fn close_tab(&mut self, tab: TabId) -> bool {
        let Some(state) = self.tabs.get(&tab) else {
            return false;
        };
        if let Some((ext, view)) = state.extension_page.clone() {
            // Closing the view closes its tab.
            return self.close_view(&ext, view);
        }
        self.close_frame(tab, FrameId::TOP);
        self.forget_tab(tab);
        true
    }

    /// Stops every content script of `ext` (it was unloaded).
    pub(crate) fn remove_content_scripts(&mut self, ext: &ExtensionId) {
        let mut gone = Vec::new();
        for (tab, state) in &mut self.tabs {
            for (frame, f) in &mut state.frames {
                if f.content_scripts.remove(ext) {
                    gone.push(ContextId::ContentScript {
                        ext: ext.clone(),
                        tab: *tab,
                        frame: *frame,
                        document: f.document,
                    });
                }
            }
        }
        for context in gone {
            self.context_closed(&context);
        }
    }

    /// Runs the content scripts of every extension whose `content_scripts` match the frame.
    fn inject_matching(&mut self, tab: TabId, frame: FrameId) {
        let Some(state) = self.tabs.get(&tab).and_then(|t| t.frames.get(&frame)) else {
            return;
        };
        let url = state.url.clone();
        let top = state.parent.is_none();
        let matching: Vec<ExtensionId> = self
            .extensions
            .values()
            .filter(|r| r.life.is_running())
            .filter(|r| {
                r.manifest
                    .content_scripts()
                    .iter()
                    .any(|cs| cs.runs_in(&url, top))
            })
            .map(|r| r.id.clone())
            .collect();
        for ext in matching {
            self.inject(&ext, tab, frame);
        }
    }

    /// Starts a content script of `ext` in a frame (if it does not run there yet). Returns
    /// its context, or `None` if there is no such extension or frame.
    pub(crate) fn inject(
        &mut self,
        ext: &ExtensionId,
        tab: TabId,
        frame: FrameId,
    ) -> Option<ContextId> {
        let rec = self.ext(ext)?;
        let manifest = std::sync::Arc::clone(&rec.manifest);
        let state = self.tabs.get_mut(&tab)?.frames.get_mut(&frame)?;
        let context = ContextId::ContentScript {
            ext: ext.clone(),
            tab,
            frame,
            document: state.document,
        };
        if state.content_scripts.insert(ext.clone()) {
            let url = state.url.clone();
            let top = state.parent.is_none();
            self.record(
                Some(ext),
                Some(TraceContext::ContentScript { tab, frame }),
                TraceEvent::ContentScriptStarted,
            );
            let entries = manifest
                .content_scripts()
                .iter()
                .enumerate()
                .filter(|(_, cs)| cs.runs_in(&url, top))
                .map(|(i, _)| i)
                .collect();
            self.run_context_script(
                ext,
                context.clone(),
                ScriptPlace::ContentScript {
                    tab,
                    frame,
                    url,
                    entries,
                },
            );
        }
        Some(context)
    }

    /// The content script of `ext` in a frame, if one runs there.
    pub(crate) fn content_script(
        &self,
        ext: &ExtensionId,
        tab: TabId,
        frame: FrameId,
    ) -> Option<ContextId> {
        let state = self.tabs.get(&tab)?.frames.get(&frame)?;
        state
            .content_scripts
            .contains(ext)
            .then(|| ContextId::ContentScript {
                ext: ext.clone(),
                tab,
                frame,
                document: state.document,
            })
    }

    /// The web page shown in a frame.
    pub(crate) fn web_page(&self, tab: TabId, frame: FrameId) -> Option<(ContextId, String)> {
        let state = self.tabs.get(&tab)?.frames.get(&frame)?;
        Some((
            ContextId::WebPage {
                tab,
                frame,
                document: state.document,
            },
            state.url.clone(),
        ))
    }
}
