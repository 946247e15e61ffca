//! Background pages: where work for a page goes (the page lifecycle's [`Route`]), loading a
//! page for queued work, dispatching to it, suspending and unloading it, and the page's lazy
//! listeners with the explanation of a late one.

use crate::model::calls::{BackgroundPage, CallOutcome};
use crate::model::contexts::ContextId;
use crate::model::error::GetBackgroundPageError;
use crate::model::event::RuntimeEvent;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{KeepaliveId, PageLoad};
use crate::model::keepalive::{Holders, KeepaliveReason};
use crate::model::names::EventName;
use crate::model::page_lifecycle::{Effect, Input, Route};
use crate::model::trace_entry::TraceEvent;
use crate::model::work::{Action, Queued, Work};
use crate::model::world::{ExtState, Model, Page};

/// Why an event missed its listener: the text of [`TraceEvent::EventMissed`].
fn missed_explanation(event: &EventName) -> String {
    format!(
        "the page listened to {event} when it last ran, but no listener for it was registered when it was dispatched. A page runs its script from the top each time it loads, and work that woke it is dispatched as soon as the top-level code has run: a listener added later (after an await, in a timer or in a callback) misses it. Register listeners synchronously at the top level."
    )
}

/// What a late listener is told: the text of [`TraceEvent::LateListener`].
const LATE_LISTENER: &str = "this listener was registered after the top-level script had finished, so the event that woke the page had already been dispatched with no listener. It is remembered now and will wake the page next time, but each load must register it again at the top level.";

impl Model {
    /// Where work for `ext`'s page goes now (`None`: the extension has no background page).
    fn route(&self, rec: &ExtState, wakes: bool) -> Option<Route> {
        rec.lifecycle.as_ref().map(|l| l.route(wakes))
    }

    /// Hands an event to an extension: dispatched now if its page is loaded, queued (and the
    /// page loaded) if not, dropped if the page is unloaded and never listened to it.
    pub(crate) fn deliver(&mut self, ext: &ExtensionId, event: RuntimeEvent) {
        if !self.running {
            self.record(
                Some(ext),
                None,
                TraceEvent::EventNotDelivered {
                    event: event.name(),
                    reason: "the browser is not running".into(),
                },
            );
            return;
        }
        let Some(rec) = self.ext(ext) else {
            return;
        };
        let wakes = event.always_wakes() || rec.lazy_listeners.contains(&event.name());
        match self.route(rec, wakes) {
            None => self.record(
                Some(ext),
                None,
                TraceEvent::EventNotDelivered {
                    event: event.name(),
                    reason: "the extension has no background page".into(),
                },
            ),
            Some(Route::DoesNotWake) => self.record_bg(
                ext,
                TraceEvent::EventNotDelivered {
                    event: event.name(),
                    reason: "the page is not loaded and had no listener for this event when it last ran, so the event does not wake it".into(),
                },
            ),
            Some(Route::Queue) => self.enqueue(ext, Queued::Event(event)),
            Some(route @ (Route::Now | Route::CancelSuspendThenNow)) => {
                if route == Route::CancelSuspendThenNow {
                    self.drive(ext, Input::Activity);
                }
                if let Some(load) = self.ext(ext).and_then(ExtState::loaded_load) {
                    self.act(Action::Dispatch {
                        ext: ext.clone(),
                        load,
                        event,
                    });
                }
            }
        }
    }

    /// Sends work that always wakes the page (a message channel, `getBackgroundPage`) where
    /// the page lifecycle says: returns it at once if it runs now (after cancelling a
    /// suspend), `None` when it was queued for the page's load.
    pub(crate) fn route_waking(&mut self, ext: &ExtensionId, work: Queued) -> Option<Queued> {
        let Some(rec) = self.ext(ext) else {
            return Some(work);
        };
        match self.route(rec, true) {
            Some(Route::Queue) => {
                self.enqueue(ext, work);
                None
            }
            Some(Route::CancelSuspendThenNow) => {
                self.drive(ext, Input::Activity);
                Some(work)
            }
            Some(Route::Now | Route::DoesNotWake) | None => Some(work),
        }
    }

    /// Queues work for a page that is not loaded (yet), and starts loading it.
    pub(crate) fn enqueue(&mut self, ext: &ExtensionId, work: Queued) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let queued = match &work {
            Queued::Event(event) => Some(event.name()),
            _ => None,
        };
        rec.queue.push_back(work);
        if let Some(event) = queued {
            self.record_bg(ext, TraceEvent::EventQueued { event });
        }
        self.drive(ext, Input::WorkQueued);
    }

    /// Runs one input through an extension's page lifecycle, records the transition, and
    /// carries out its effects.
    pub(crate) fn drive(&mut self, ext: &ExtensionId, input: Input) {
        let Some(lifecycle) = self.ext_mut(ext).and_then(|r| r.lifecycle.as_mut()) else {
            return;
        };
        let t = lifecycle.transition(input);
        tracing::debug!(target: "runtime_sim::lifecycle", extension = %ext, ?input, from = t.from.as_str(), to = t.to.as_str(), effects = ?t.effects);
        if t.from != t.to || !t.note.is_empty() {
            self.record_bg(
                ext,
                TraceEvent::Lifecycle {
                    from: t.from,
                    to: t.to,
                    note: t.note,
                },
            );
        }
        for effect in t.effects {
            self.apply(ext, effect);
        }
    }

    fn apply(&mut self, ext: &ExtensionId, effect: Effect) {
        match effect {
            Effect::LoadPage => {
                let id = self.acquire(ext, KeepaliveReason::PageCreation, None);
                if let Some(rec) = self.ext_mut(ext) {
                    rec.creating = Some(id);
                }
                self.bus.post(Work::LoadPage { ext: ext.clone() });
            }
            Effect::RunQueuedWork => self.run_queue(ext),
            Effect::FailQueuedWork => {
                self.fail_queue(ext, "the background page failed to load");
                let creating = self.ext_mut(ext).and_then(|r| r.creating.take());
                if let Some(id) = creating {
                    self.release(ext, id);
                }
            }
            Effect::StartIdleTimer { sequence, after } => {
                self.start_timer(ext, "idle", after);
                self.bus.post_after(
                    after,
                    Work::IdleTimer {
                        ext: ext.clone(),
                        sequence,
                    },
                );
            }
            Effect::RequestSuspend { sequence } => {
                self.bus.post(Work::ShouldSuspend {
                    ext: ext.clone(),
                    sequence,
                });
            }
            Effect::DispatchOnSuspend => {
                if let Some(load) = self.ext(ext).and_then(ExtState::loaded_load) {
                    self.act(Action::Suspend {
                        ext: ext.clone(),
                        load,
                    });
                }
            }
            Effect::StartCloseTimer { sequence, after } => {
                self.start_timer(ext, "close", after);
                self.bus.post_after(
                    after,
                    Work::CloseTimer {
                        ext: ext.clone(),
                        sequence,
                    },
                );
            }
            Effect::DispatchOnSuspendCanceled => {
                if let Some(load) = self.ext(ext).and_then(ExtState::loaded_load) {
                    self.act(Action::SuspendCanceled {
                        ext: ext.clone(),
                        load,
                    });
                }
            }
            Effect::Unload => self.unload(ext),
        }
    }

    fn start_timer(&mut self, ext: &ExtensionId, timer: &'static str, after: std::time::Duration) {
        let fires_at_ms = (self.bus.now() + after).as_millis();
        self.record_bg(ext, TraceEvent::TimerStarted { timer, fires_at_ms });
    }

    /// The page has loaded: its queued work runs now, in order; the keepalive of its creation
    /// goes once that work has been dispatched.
    fn run_queue(&mut self, ext: &ExtensionId) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let queue = std::mem::take(&mut rec.queue);
        let creating = rec.creating.take();
        let load = rec.loaded_load();
        for work in queue {
            match work {
                Queued::Event(event) => {
                    if let Some(load) = load {
                        self.act(Action::Dispatch {
                            ext: ext.clone(),
                            load,
                            event,
                        });
                    }
                }
                Queued::OpenChannel(channel) => self.act(Action::OpenChannel(channel)),
                Queued::BackgroundPage(call) => self.answer_background_page(ext, call, true),
                Queued::Load => {}
            }
        }
        if let Some(keepalive) = creating {
            self.act(Action::Release {
                ext: ext.clone(),
                keepalive,
            });
        }
    }

    /// The page did not load, or was closed before its queue ran: the queued work fails.
    fn fail_queue(&mut self, ext: &ExtensionId, reason: &str) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        for work in std::mem::take(&mut rec.queue) {
            match work {
                Queued::Event(event) => self.record_bg(
                    ext,
                    TraceEvent::EventNotDelivered {
                        event: event.name(),
                        reason: reason.to_owned(),
                    },
                ),
                // The channel opens anyway: with no page, nobody receives it.
                Queued::OpenChannel(channel) => self.act(Action::OpenChannel(channel)),
                Queued::BackgroundPage(call) => self.answer_background_page(ext, call, false),
                Queued::Load => {}
            }
        }
    }

    /// Answers a `getBackgroundPage` call that waited for the page's load.
    fn answer_background_page(
        &mut self,
        ext: &ExtensionId,
        call: crate::model::ids::CallId,
        loaded: bool,
    ) {
        let result = match self.ext(ext) {
            Some(rec) if loaded => Ok(background_page(rec)),
            _ => Err(GetBackgroundPageError::FailedToLoad),
        };
        self.finish_call(call, CallOutcome::BackgroundPage(result));
    }

    /// Unloads a page: its context closes, the keepalives of its load go, queued work fails.
    fn unload(&mut self, ext: &ExtensionId) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let page = rec.page.take();
        let bound: Vec<KeepaliveId> = match &page {
            Some(page) => rec
                .keepalives
                .iter()
                .filter(|(_, h)| h.load == Some(page.load))
                .map(|(id, _)| id)
                .collect(),
            None => Vec::new(),
        };
        if let Some(page) = page {
            self.context_closed(&ContextId::Background {
                ext: ext.clone(),
                load: page.load,
            });
        }
        for id in bound {
            self.release(ext, id);
        }
        self.fail_queue(ext, "the background page was closed");
        let creating = self.ext_mut(ext).and_then(|r| r.creating.take());
        if let Some(id) = creating {
            self.release(ext, id);
        }
        if let Some(rec) = self.ext_mut(ext) {
            // An emptied list keeps its room: give it back, as thousands of suspended
            // extensions would each hold it.
            if rec.keepalives.is_empty() {
                rec.keepalives = Holders::default();
            }
        }
        self.after_going_idle(ext);
    }

    /// An extension may have become idle: an update that waited for that is installed, in a
    /// step of its own.
    pub(crate) fn after_going_idle(&mut self, ext: &ExtensionId) {
        if self
            .ext(ext)
            .is_some_and(|r| r.life.waiting_update().is_some())
        {
            self.bus.post(Work::InstallWhenIdle { ext: ext.clone() });
        }
    }

    /// A page is to load (its lifecycle is loading): a new load begins, and the driver runs
    /// the page's script.
    pub(crate) fn load_page(&mut self, ext: &ExtensionId) {
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        if rec.state() != Some(crate::model::page_lifecycle::PageState::Loading)
            || rec.page.is_some()
        {
            return;
        }
        let Some(script) = rec.script else {
            return;
        };
        rec.loads += 1;
        let load = PageLoad(rec.loads);
        rec.page = Some(Box::new(Page {
            load,
            loaded: false,
            missed: Default::default(),
        }));
        self.act(Action::RunScript {
            ext: ext.clone(),
            load,
            script,
        });
    }

    /// The page's top-level script ran to its first wait (or its end), or failed.
    pub(crate) fn script_ran(&mut self, ext: &ExtensionId, load: PageLoad, failed: Option<String>) {
        if !self.is_loaded(ext, load) {
            return;
        }
        match failed {
            None => {
                self.record_bg(ext, TraceEvent::ScriptLoaded);
                if let Some(page) = self.ext_mut(ext).and_then(|r| r.page.as_mut()) {
                    page.loaded = true;
                }
                self.drive(ext, Input::LoadFinished);
            }
            Some(message) => {
                self.record_bg(ext, TraceEvent::ScriptFailed { message });
                if let Some(rec) = self.ext_mut(ext) {
                    rec.page = None;
                }
                let context = ContextId::Background {
                    ext: ext.clone(),
                    load,
                };
                self.act(Action::DropTasks(context.clone()));
                self.act(Action::DropListeners(context));
                self.drive(ext, Input::LoadFailed);
            }
        }
    }

    /// A runtime event is about to be dispatched to a page load with `listeners` listeners:
    /// records it (or that it missed its listener), and takes the keepalive of the dispatch.
    /// `None` if that load has gone.
    pub(crate) fn dispatch_begins(
        &mut self,
        ext: &ExtensionId,
        load: PageLoad,
        event: &RuntimeEvent,
        listeners: usize,
    ) -> Option<KeepaliveId> {
        let name = event.name();
        if !self.is_loaded(ext, load) {
            self.record_bg(
                ext,
                TraceEvent::EventNotDelivered {
                    event: name,
                    reason: "the page it was for has been closed".into(),
                },
            );
            return None;
        }
        let keepalive = self.acquire(
            ext,
            KeepaliveReason::EventDispatch(name.clone()),
            Some(load),
        );
        let context = ContextId::Background {
            ext: ext.clone(),
            load,
        };
        if !self.note_missed(&context, &name, listeners) {
            self.record_bg(
                ext,
                TraceEvent::EventDispatched {
                    event: name,
                    listeners,
                    args: event.shared_args(),
                },
            );
        }
        Some(keepalive)
    }

    /// An event reaches `listeners` listeners in `context`. With none, in a background page
    /// that listened to it when it last ran, it is a missed event: recorded with its
    /// explanation (returns `true`), and remembered, so that a listener added later is named
    /// late. Any event that reached no listener of a page is remembered.
    pub(crate) fn note_missed(
        &mut self,
        context: &ContextId,
        event: &EventName,
        listeners: usize,
    ) -> bool {
        let ContextId::Background { ext, load } = context else {
            return false;
        };
        if listeners > 0 || !self.is_loaded(ext, *load) {
            return false;
        }
        let Some(rec) = self.ext_mut(ext) else {
            return false;
        };
        let listened_before = rec.lazy_listeners.contains(event);
        if let Some(page) = rec.page.as_mut() {
            page.missed.insert(event);
        }
        if !listened_before {
            return false;
        }
        self.record_bg(
            ext,
            TraceEvent::EventMissed {
                event: event.clone(),
                explanation: missed_explanation(event),
            },
        );
        true
    }

    /// `onSuspend` or `onSuspendCanceled` is about to be dispatched to a page load (with no
    /// keepalive: Chromium sends them outside the event router). Returns whether that load is
    /// still there.
    pub(crate) fn lifecycle_dispatch_begins(
        &mut self,
        ext: &ExtensionId,
        load: PageLoad,
        event: EventName,
        listeners: usize,
    ) -> bool {
        if !self.is_loaded(ext, load) {
            return false;
        }
        self.record_bg(
            ext,
            TraceEvent::EventDispatched {
                event,
                listeners,
                args: TraceEvent::no_args(),
            },
        );
        true
    }

    /// `onSuspend`'s listeners have run (for a Firefox page, with their promises).
    pub(crate) fn suspend_acked(&mut self, ext: &ExtensionId, load: PageLoad) {
        if self.is_loaded(ext, load) {
            self.drive(ext, Input::SuspendAcked);
        }
    }

    /// A listener was added to a page load's event: the page listens to it now (its lazy
    /// listeners), and one added after the event was missed is named late.
    pub(crate) fn listener_added(
        &mut self,
        ext: &ExtensionId,
        load: PageLoad,
        event: &EventName,
        added_at: Option<String>,
    ) {
        let model = &mut *self;
        let Some(rec) = model
            .extensions
            .get_mut(ext)
            .filter(|r| r.life.is_running())
        else {
            return;
        };
        rec.lazy_listeners.insert(event, &mut model.event_names);
        let late = rec
            .page
            .as_mut()
            .filter(|p| p.load == load && p.loaded)
            .is_some_and(|p| p.missed.remove(event));
        if late {
            self.record_bg(
                ext,
                TraceEvent::LateListener {
                    event: event.clone(),
                    explanation: LATE_LISTENER.into(),
                    added_at,
                },
            );
        }
    }

    /// The last listener of a page load's event was removed: the page does not listen to it
    /// any more.
    pub(crate) fn last_listener_removed(
        &mut self,
        ext: &ExtensionId,
        load: PageLoad,
        event: &EventName,
    ) {
        if let Some(rec) = self.ext_mut(ext) {
            if rec.loaded_load() == Some(load) {
                rec.lazy_listeners.remove(event);
            }
        }
    }
}

/// What `getBackgroundPage` gives for the loaded page.
pub(crate) fn background_page(rec: &ExtState) -> BackgroundPage {
    BackgroundPage {
        url: rec.background_url(),
        load: rec.loads,
    }
}
