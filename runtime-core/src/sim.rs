//! The state of a simulated browser, and everything done to it under its lock.
//!
//! No code of an extension ever runs here: whatever would call a listener or poll a script is
//! left as a [`Deferred`] step for the engine, which runs it with no lock held.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::Bus;
use serde_json::Value;

use crate::channel::Channel;
use crate::context::{Endpoint, TabState};
use crate::engine::{Deferred, Work};
use crate::events::{ContextEvents, RuntimeEvent};
use crate::holders::{Holder, Holders};
use crate::kiosk::Kiosk;
use crate::lazy_listeners::{EventNames, LazyListeners};
use crate::lifecycle::{Effect, Input, Lifecycle, Timers};
use crate::profile::{BackgroundModel, KeepaliveRule, Profile, SERVICE_WORKER_REQUEST_TIMEOUT};
use crate::reload::ReloadGuard;
use crate::rng::SimRng;
use crate::script::ScriptSource;
use crate::trace::{Context, Trace, TraceEntry, TraceEvent};
use crate::update::Updates;
use crate::{
    ExtensionId, ExtensionSpec, KeepaliveReason, Location, Manifest, PageState, PlatformInfo,
    Runtime, ViewKind,
};

/// Settings fixed when the browser is built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) timers: Timers,
    pub(crate) platform: Option<PlatformInfo>,
    pub(crate) version: String,
    pub(crate) seed: u64,
    pub(crate) api_latency: Duration,
    pub(crate) api_latencies: BTreeMap<String, Duration>,
    /// The launcher set with `BrowserBuilder::native_launcher`; by default the profile's.
    pub(crate) launcher: Option<runtime_native::Launcher>,
    pub(crate) real_time_settle: Duration,
    /// Which browser this is.
    pub(crate) profile: Profile,
    /// Whether the browser has an update service (`requestUpdateCheck` works, periodic
    /// checks run).
    pub(crate) autoupdate: bool,
    /// How often the browser checks for updates (±20 %).
    pub(crate) update_check_period: Duration,
    /// How long one update check takes.
    pub(crate) update_check_duration: Duration,
    /// ChromeOS kiosk mode.
    pub(crate) kiosk: bool,
    /// The uptime after which a kiosk device must restart (`onRestartRequired("periodic")`).
    pub(crate) kiosk_uptime_limit: Option<Duration>,
    /// How many trace entries to keep (the newest), if not all.
    pub(crate) trace_limit: Option<usize>,
}

impl Config {
    /// Whether `onMessage` listeners may answer with a promise (Chrome 144 and later).
    pub(crate) fn promise_responses(&self) -> bool {
        let major = self
            .version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        major.map_or(true, |m| m >= 144)
    }

    /// How native hosts are found, started and ended.
    pub(crate) fn launcher(&self) -> runtime_native::Launcher {
        self.launcher
            .clone()
            .unwrap_or_else(|| runtime_native::Launcher::new(self.profile.native_browser()))
    }

    /// The lifecycle of a background as this browser runs it.
    pub(crate) fn lifecycle_for(&self, manifest: &Manifest) -> Option<Lifecycle> {
        manifest
            .background()
            .map(|bg| Lifecycle::with_model(self.profile.background_model(bg), self.timers))
    }

    pub(crate) fn latency(&self, api: &str) -> Duration {
        self.api_latencies
            .get(api)
            .copied()
            .unwrap_or(self.api_latency)
    }
}

/// Browser-side work run once a page has loaded (`true`) or failed to (`false`).
pub(crate) type LoadCallback = Box<dyn FnOnce(&mut Sim, bool) + Send>;

/// Work waiting for an event page to load (Chromium's lazy background task queue).
pub(crate) enum Queued {
    Event(RuntimeEvent),
    Callback(LoadCallback),
}

/// Who made an API call in flight, and the keepalive it holds.
pub(crate) struct CallSite {
    pub(crate) ext: ExtensionId,
    pub(crate) context: Context,
    pub(crate) keepalive: u64,
}

pub(crate) struct View {
    pub(crate) kind: ViewKind,
    pub(crate) url: String,
    /// The tab it is shown in (views of kind `Tab`).
    pub(crate) tab: Option<u64>,
    pub(crate) keepalive: u64,
    pub(crate) runtime: Runtime,
}

pub(crate) struct Page {
    pub(crate) life: u64,
    pub(crate) events: Arc<ContextEvents>,
    /// The top-level script has run.
    pub(crate) loaded: bool,
    /// Events that reached no listener in this life (for the late-listener explanation).
    pub(crate) missed: BTreeSet<String>,
}

pub(crate) struct ExtState {
    pub(crate) id: ExtensionId,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) location: Location,
    pub(crate) path: PathBuf,
    pub(crate) script: Option<ScriptSource>,
    pub(crate) lifecycle: Option<Lifecycle>,
    pub(crate) page: Option<Page>,
    pub(crate) life: u64,
    pub(crate) queue: VecDeque<Queued>,
    pub(crate) creating: Option<u64>,
    pub(crate) lazy_listeners: LazyListeners,
    pub(crate) keepalives: Holders,
    pub(crate) storage: BTreeMap<String, Value>,
    pub(crate) uninstall_url: Option<String>,
    pub(crate) views: BTreeMap<u64, View>,
    /// Installed while the browser was stopped: `onInstalled` is due at the next start.
    pub(crate) install_pending: bool,
    /// A newer version found while the extension was in use, waiting to be installed.
    pub(crate) pending_update: Option<Box<ExtensionSpec>>,
    /// The origin of its pages: `chrome-extension://<id>`, or in Firefox
    /// `moz-extension://<per-install UUID>`.
    pub(crate) origin: String,
}

impl ExtState {
    pub(crate) fn state(&self) -> Option<PageState> {
        self.lifecycle.as_ref().map(Lifecycle::state)
    }

    /// The life of the loaded page, if one is loaded.
    pub(crate) fn loaded_life(&self) -> Option<u64> {
        self.page.as_ref().map(|p| p.life)
    }

    pub(crate) fn base_url(&self) -> String {
        self.origin.clone()
    }
}

pub(crate) struct Sim {
    pub(crate) bus: Bus<Work>,
    pub(crate) config: Config,
    pub(crate) running: bool,
    pub(crate) extensions: BTreeMap<ExtensionId, ExtState>,
    pub(crate) trace: Trace,
    pub(crate) deferred: VecDeque<Deferred>,
    pub(crate) next_id: u64,
    pub(crate) channels: BTreeMap<u64, Channel>,
    pub(crate) tabs: BTreeMap<u64, TabState>,
    pub(crate) next_tab: u64,
    /// Native applications connected to extensions (`onConnectNative`), by id.
    pub(crate) native_apps: BTreeMap<u64, Arc<ContextEvents>>,
    /// The one random source.
    pub(crate) rng: SimRng,
    /// The update service and the update checks.
    pub(crate) updates: Updates,
    /// `runtime.reload()` history, per extension, for this run of the browser.
    pub(crate) reload_guards: BTreeMap<ExtensionId, ReloadGuard>,
    /// Kiosk mode's state.
    pub(crate) kiosk: Kiosk,
    /// Extensions terminated (still installed, not running) until the user reloads them.
    pub(crate) terminated: BTreeMap<ExtensionId, ExtState>,
    /// Counts the browser's starts; timers of an earlier run check it and do nothing.
    pub(crate) run: u64,
    /// A browser update downloaded and waiting for the next start.
    pub(crate) staged_version: Option<String>,
    /// How many [`Work::Ambient`] items are on the bus.
    pub(crate) ambient: usize,
    /// The names of the events that pages listened to, shared by their lazy listeners.
    pub(crate) event_names: EventNames,
}

impl Sim {
    pub(crate) fn new(config: Config) -> Self {
        let rng = SimRng::new(config.seed);
        let trace = Trace::with_limit(config.trace_limit);
        Sim {
            bus: Bus::new(),
            config,
            running: false,
            extensions: BTreeMap::new(),
            trace,
            deferred: VecDeque::new(),
            next_id: 0,
            channels: BTreeMap::new(),
            tabs: BTreeMap::new(),
            next_tab: 0,
            native_apps: BTreeMap::new(),
            rng,
            updates: Updates::default(),
            reload_guards: BTreeMap::new(),
            kiosk: Kiosk::default(),
            terminated: BTreeMap::new(),
            run: 0,
            staged_version: None,
            ambient: 0,
            event_names: EventNames::default(),
        }
    }

    /// Schedules recurring browser work that does not count as pending work
    /// ([`Work::Ambient`]).
    pub(crate) fn post_ambient_after(
        &mut self,
        delay: Duration,
        step: impl FnOnce(&mut Sim) + Send + 'static,
    ) {
        self.ambient += 1;
        self.bus.post_after(delay, Work::Ambient(Box::new(step)));
    }

    /// The origin of a newly installed extension's pages: `chrome-extension://<id>`, or in
    /// Firefox `moz-extension://` and a UUID drawn for this install.
    pub(crate) fn origin_for(&mut self, id: &ExtensionId) -> String {
        let scheme = self.config.profile.url_scheme();
        match self.config.profile {
            Profile::Firefox => format!("{scheme}://{}", self.rng.uuid_v4()),
            _ => format!("{scheme}://{id}"),
        }
    }

    /// Who an extension is to a native host: its id, or in Firefox its add-on id (the
    /// manifest's `browser_specific_settings.gecko.id` when it has one).
    pub(crate) fn native_caller_id(&self, ext: &ExtensionId) -> String {
        let gecko = match self.config.profile {
            Profile::Firefox => self
                .extensions
                .get(ext)
                .and_then(|r| r.manifest.gecko_id().map(str::to_owned)),
            _ => None,
        };
        gecko.unwrap_or_else(|| ext.to_string())
    }

    pub(crate) fn fresh_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub(crate) fn record(
        &mut self,
        ext: Option<&ExtensionId>,
        context: Option<Context>,
        event: TraceEvent,
    ) {
        let entry = TraceEntry {
            at: self.bus.now(),
            extension: ext.cloned(),
            context,
            event,
        };
        self.trace.record(entry);
    }

    /// The event objects of `ext`'s page, if that page is the loaded one of life `life`.
    pub(crate) fn page_events(&self, ext: &ExtensionId, life: u64) -> Option<Arc<ContextEvents>> {
        self.extensions
            .get(ext)
            .and_then(|r| r.page.as_ref())
            .filter(|p| p.life == life)
            .map(|p| Arc::clone(&p.events))
    }

    pub(crate) fn record_bg(&mut self, ext: &ExtensionId, event: TraceEvent) {
        self.record(Some(ext), Some(Context::Background), event);
    }

    /// Takes a keepalive on `ext`'s background page.
    pub(crate) fn acquire(
        &mut self,
        ext: &ExtensionId,
        reason: KeepaliveReason,
        life: Option<u64>,
    ) -> u64 {
        let id = self.fresh_id();
        let Some(rec) = self.extensions.get_mut(ext) else {
            return id;
        };
        rec.keepalives.insert(
            id,
            Holder {
                reason: reason.clone(),
                life,
            },
        );
        let capped = matches!(
            reason,
            KeepaliveReason::ApiCall(_) | KeepaliveReason::EventDispatch(_)
        ) && rec
            .lifecycle
            .as_ref()
            .is_some_and(|l| l.model() == BackgroundModel::ServiceWorker);
        self.keepalive_changed(ext, 1, &reason);
        if capped {
            self.cap_request(ext, id);
        }
        id
    }

    /// A service worker's event or API call may last 5 minutes: if it still runs then, the
    /// worker is stopped (Chromium's `kRequestTimeout`).
    fn cap_request(&mut self, ext: &ExtensionId, keepalive: u64) {
        let ext = ext.clone();
        self.bus.post_after(
            SERVICE_WORKER_REQUEST_TIMEOUT,
            Work::Complete(Box::new(move |sim: &mut Sim| {
                let Some(holder) = sim
                    .extensions
                    .get(&ext)
                    .and_then(|r| r.keepalives.get(keepalive))
                else {
                    return;
                };
                let message = format!(
                    "{} ran longer than 5 minutes: the service worker is stopped (kRequestTimeout)",
                    holder.reason
                );
                sim.record_bg(&ext, TraceEvent::Warning { message });
                sim.drive(&ext, Input::Shutdown);
            })),
        );
    }

    /// Gives a keepalive back. Unknown or already released ids are ignored.
    pub(crate) fn release(&mut self, ext: &ExtensionId, id: u64) {
        let Some(rec) = self.extensions.get_mut(ext) else {
            return;
        };
        let Some(holder) = rec.keepalives.remove(id) else {
            return;
        };
        self.keepalive_changed(ext, -1, &holder.reason);
    }

    /// Records a keepalive change and feeds it to the lifecycle.
    fn keepalive_changed(&mut self, ext: &ExtensionId, change: i8, reason: &KeepaliveReason) {
        let Some(rec) = self.extensions.get(ext) else {
            return;
        };
        let Some(model) = rec.lifecycle.as_ref().map(Lifecycle::model) else {
            return;
        };
        let count = rec.keepalives.len() as u32;
        self.record(
            Some(ext),
            None,
            TraceEvent::Keepalive {
                count,
                change,
                reason: reason.clone(),
            },
        );
        let input = match (model.keepalive_rule(reason), change > 0) {
            (KeepaliveRule::Holds, true) => Input::KeepaliveAcquired,
            (KeepaliveRule::Holds, false) => Input::KeepaliveReleased,
            (KeepaliveRule::Blocks, true) => Input::BlockerAcquired,
            (KeepaliveRule::Blocks, false) => Input::BlockerReleased,
            (KeepaliveRule::ResetsIdle, true) => Input::Pulse,
            (KeepaliveRule::ResetsIdle, false) | (KeepaliveRule::Ignored, _) => return,
        };
        self.drive(ext, input);
    }

    /// Hands an event to an extension: dispatched now if its page is loaded, queued (and the
    /// page loaded) if not, dropped if the page is unloaded and never listened to it.
    pub(crate) fn deliver(&mut self, ext: &ExtensionId, event: RuntimeEvent) {
        if !self.running {
            self.record(
                Some(ext),
                None,
                TraceEvent::EventNotDelivered {
                    event: event.name().to_owned(),
                    reason: "the browser is not running".into(),
                },
            );
            return;
        }
        let Some(rec) = self.extensions.get(ext) else {
            return;
        };
        let Some(state) = rec.state() else {
            self.record(
                Some(ext),
                None,
                TraceEvent::EventNotDelivered {
                    event: event.name().to_owned(),
                    reason: "the extension has no background page".into(),
                },
            );
            return;
        };
        match state {
            PageState::Unloaded => {
                if event.always_wakes() || rec.lazy_listeners.contains(event.name()) {
                    self.enqueue(ext, Queued::Event(event));
                } else {
                    self.record_bg(
                        ext,
                        TraceEvent::EventNotDelivered {
                            event: event.name().to_owned(),
                            reason: "the page is not loaded and had no listener for this event when it last ran, so the event does not wake it".into(),
                        },
                    );
                }
            }
            PageState::Loading => self.enqueue(ext, Queued::Event(event)),
            PageState::Closing => {
                self.drive(ext, Input::Activity);
                self.dispatch_now(ext, event);
            }
            PageState::Active => self.dispatch_now(ext, event),
        }
    }

    fn dispatch_now(&mut self, ext: &ExtensionId, event: RuntimeEvent) {
        if let Some(life) = self.extensions.get(ext).and_then(ExtState::loaded_life) {
            self.deferred.push_back(Deferred::Dispatch {
                ext: ext.clone(),
                life,
                event,
            });
        }
    }

    /// Queues work for a page that is not loaded (yet), and starts loading it.
    pub(crate) fn enqueue(&mut self, ext: &ExtensionId, work: Queued) {
        let Some(rec) = self.extensions.get_mut(ext) else {
            return;
        };
        if let Queued::Event(event) = &work {
            let name = event.name().to_owned();
            rec.queue.push_back(work);
            self.record_bg(ext, TraceEvent::EventQueued { event: name });
        } else {
            rec.queue.push_back(work);
        }
        self.drive(ext, Input::WorkQueued);
    }

    /// Runs one input through an extension's lifecycle, records the transition, and carries
    /// out its effects.
    pub(crate) fn drive(&mut self, ext: &ExtensionId, input: Input) {
        let Some(lifecycle) = self
            .extensions
            .get_mut(ext)
            .and_then(|r| r.lifecycle.as_mut())
        else {
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
                    note: t.note.to_owned(),
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
                if let Some(rec) = self.extensions.get_mut(ext) {
                    rec.creating = Some(id);
                }
                self.bus.post(Work::LoadPage { ext: ext.clone() });
            }
            Effect::RunQueuedWork => {
                let Some(rec) = self.extensions.get_mut(ext) else {
                    return;
                };
                let queue = std::mem::take(&mut rec.queue);
                let creating = rec.creating.take();
                let life = rec.loaded_life();
                for work in queue {
                    match work {
                        Queued::Event(event) => {
                            if let Some(life) = life {
                                self.deferred.push_back(Deferred::Dispatch {
                                    ext: ext.clone(),
                                    life,
                                    event,
                                });
                            }
                        }
                        Queued::Callback(callback) => callback(self, true),
                    }
                }
                if let Some(id) = creating {
                    self.deferred.push_back(Deferred::Release {
                        ext: ext.clone(),
                        keepalive: id,
                    });
                }
            }
            Effect::FailQueuedWork => {
                self.fail_queue(ext, "the background page failed to load");
                let creating = self.extensions.get_mut(ext).and_then(|r| r.creating.take());
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
                if let Some(life) = self.extensions.get(ext).and_then(ExtState::loaded_life) {
                    self.deferred.push_back(Deferred::Suspend {
                        ext: ext.clone(),
                        life,
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
                if let Some(life) = self.extensions.get(ext).and_then(ExtState::loaded_life) {
                    self.deferred.push_back(Deferred::SuspendCanceled {
                        ext: ext.clone(),
                        life,
                    });
                }
            }
            Effect::Unload => self.unload(ext),
        }
    }

    fn start_timer(&mut self, ext: &ExtensionId, timer: &'static str, after: Duration) {
        let fires_at_ms = (self.bus.now() + after).as_millis();
        self.record_bg(ext, TraceEvent::TimerStarted { timer, fires_at_ms });
    }

    fn unload(&mut self, ext: &ExtensionId) {
        let Some(rec) = self.extensions.get_mut(ext) else {
            return;
        };
        let page = rec.page.take();
        let bound: Vec<u64> = match &page {
            Some(page) => rec
                .keepalives
                .iter()
                .filter(|(_, h)| h.life == Some(page.life))
                .map(|(id, _)| id)
                .collect(),
            None => Vec::new(),
        };
        if let Some(page) = page {
            self.context_closed(
                &Endpoint::Background {
                    ext: ext.clone(),
                    life: page.life,
                },
                &page.events,
            );
        }
        for id in bound {
            self.release(ext, id);
        }
        self.fail_queue(ext, "the background page was closed");
        let creating = self.extensions.get_mut(ext).and_then(|r| r.creating.take());
        if let Some(id) = creating {
            self.release(ext, id);
        }
        if let Some(rec) = self.extensions.get_mut(ext) {
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
    fn after_going_idle(&mut self, ext: &ExtensionId) {
        if self
            .extensions
            .get(ext)
            .is_some_and(|r| r.pending_update.is_some())
        {
            let ext = ext.clone();
            self.bus.post(Work::Complete(Box::new(move |sim: &mut Sim| {
                sim.finish_delayed_install(&ext)
            })));
        }
    }

    fn fail_queue(&mut self, ext: &ExtensionId, reason: &str) {
        let Some(rec) = self.extensions.get_mut(ext) else {
            return;
        };
        for work in std::mem::take(&mut rec.queue) {
            match work {
                Queued::Event(event) => self.record_bg(
                    ext,
                    TraceEvent::EventNotDelivered {
                        event: event.name().to_owned(),
                        reason: reason.to_owned(),
                    },
                ),
                Queued::Callback(callback) => callback(self, false),
            }
        }
    }

    /// Closes an extension view and gives back its keepalive.
    pub(crate) fn close_view(&mut self, ext: &ExtensionId, view: u64) -> bool {
        let Some(v) = self
            .extensions
            .get_mut(ext)
            .and_then(|r| r.views.remove(&view))
        else {
            return false;
        };
        self.record(
            Some(ext),
            Some(Context::View {
                id: view,
                kind: v.kind,
            }),
            TraceEvent::ViewClosed,
        );
        self.context_closed(
            &Endpoint::View {
                ext: ext.clone(),
                view,
            },
            v.runtime.events(),
        );
        if let Some(tab) = v.tab {
            self.close_view_tab(tab, ext, view);
        }
        self.release(ext, v.keepalive);
        self.after_going_idle(ext);
        true
    }

    /// Starts the browser's part of an API call: traces it, takes a keepalive, and schedules
    /// `complete` after the API's latency. `complete` must end with [`Sim::finish_call`].
    pub(crate) fn start_call(
        &mut self,
        ext: &ExtensionId,
        context: &Context,
        api: &'static str,
        life: Option<u64>,
        complete: impl FnOnce(&mut Sim, CallSite) + Send + 'static,
    ) {
        self.record(
            Some(ext),
            Some(context.clone()),
            TraceEvent::ApiCall {
                api: api.to_owned(),
            },
        );
        let keepalive = self.acquire(ext, KeepaliveReason::ApiCall(api.to_owned()), life);
        let latency = self.config.latency(api);
        let site = CallSite {
            ext: ext.clone(),
            context: context.clone(),
            keepalive,
        };
        self.bus.post_after(
            latency,
            Work::Complete(Box::new(move |sim: &mut Sim| complete(sim, site))),
        );
    }
}

impl Sim {
    /// Ends an API call: records its result and gives back its keepalive.
    pub(crate) fn finish_call<T: serde::Serialize, E: std::fmt::Display>(
        &mut self,
        site: &CallSite,
        api: &str,
        result: &Result<T, E>,
    ) {
        let (ok, value) = match result {
            Ok(v) => (true, serde_json::to_value(v).unwrap_or(Value::Null)),
            Err(e) => (false, Value::String(e.to_string())),
        };
        self.record(
            Some(&site.ext),
            Some(site.context.clone()),
            TraceEvent::ApiResult {
                api: api.to_owned(),
                ok,
                result: value,
            },
        );
        self.release(&site.ext, site.keepalive);
    }

    /// Opens an extension view; it holds a keepalive until it is closed.
    pub(crate) fn open_view(
        &mut self,
        shared: &std::sync::Weak<crate::engine::Shared>,
        ext: &ExtensionId,
        kind: ViewKind,
        path: &str,
    ) -> Option<u64> {
        let view = self.fresh_id();
        let rec = self.extensions.get(ext)?;
        let slash = if path.starts_with('/') { "" } else { "/" };
        let url = format!("{}{slash}{path}", rec.base_url());
        let runtime = Runtime::for_view(shared.clone(), rec, view, kind);
        let tab = (kind == ViewKind::Tab).then(|| self.open_extension_tab(ext, view, &url));
        self.record(
            Some(ext),
            Some(Context::View { id: view, kind }),
            TraceEvent::ViewOpened { url: url.clone() },
        );
        let keepalive = self.acquire(ext, KeepaliveReason::View(view), None);
        if let Some(rec) = self.extensions.get_mut(ext) {
            rec.views.insert(
                view,
                View {
                    kind,
                    url,
                    tab,
                    keepalive,
                    runtime,
                },
            );
        }
        Some(view)
    }
}
