//! The model: the whole state of one simulated browser, as plain data. Its rules are in the
//! files beside this one (one per part of the browser); none of them runs extension code,
//! takes a lock or does I/O. What must run code is left as an [`Action`] for the driver, and
//! what settles a waiting future as a [`Signal`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::{Bus, SimInstant};

use crate::model::calls::Call;
use crate::model::channel::Channel;
use crate::model::config::Config;
use crate::model::contexts::{ContextId, TabState, View};
use crate::model::extension_id::ExtensionId;
use crate::model::extension_lifecycle::ExtensionLifecycle;
use crate::model::ids::{
    CallId, ChannelId, Ids, KeepaliveId, NativeAppId, PageLoad, ScriptId, TabId, ViewId,
};
use crate::model::keepalive::Holders;
use crate::model::kiosk::Kiosk;
use crate::model::lazy_listeners::{EventNames, LazyListeners};
use crate::model::manifest::Manifest;
use crate::model::names::EventName;
use crate::model::package::Location;
use crate::model::page_lifecycle::{Lifecycle, PageState};
use crate::model::profile::Profile;
use crate::model::rng::SimRng;
use crate::model::trace::Response;
use crate::model::trace::Trace;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::update_service::Updates;
use crate::model::work::{Action, Queued, Signal, Work};

/// The loaded background page of an extension.
#[derive(Clone, Debug)]
pub(crate) struct Page {
    pub(crate) load: PageLoad,
    /// The top-level script has run.
    pub(crate) loaded: bool,
    /// Events that reached no listener in this load (for the late-listener explanation).
    pub(crate) missed: Missed,
}

/// A set of events that missed their listeners: `chrome.runtime`'s as bits, others by name.
/// A page misses one or two (often `runtime.onInstalled`), so this allocates nothing for
/// those of `chrome.runtime`, rather than a tree node per page.
#[derive(Clone, Debug, Default)]
pub(crate) struct Missed {
    runtime: u16,
    other: Vec<EventName>,
}

impl Missed {
    /// Adds `event`.
    pub(crate) fn insert(&mut self, event: &EventName) {
        match event {
            EventName::Runtime(event) => self.runtime |= event.bit(),
            other if self.other.contains(other) => {}
            other => self.other.push(other.clone()),
        }
    }

    /// Takes `event` away; returns whether it was there.
    pub(crate) fn remove(&mut self, event: &EventName) -> bool {
        match event {
            EventName::Runtime(event) => {
                let was = self.runtime & event.bit() != 0;
                self.runtime &= !event.bit();
                was
            }
            other => {
                let before = self.other.len();
                self.other.retain(|e| e != other);
                self.other.len() != before
            }
        }
    }
}

/// One installed extension.
#[derive(Clone, Debug)]
pub(crate) struct ExtState {
    pub(crate) id: ExtensionId,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) location: Location,
    pub(crate) path: PathBuf,
    pub(crate) script: Option<ScriptId>,
    /// The code of its content scripts and views, if it has some.
    pub(crate) context_script: Option<ScriptId>,
    /// Its own life: enabled, an update waiting, terminated.
    pub(crate) life: ExtensionLifecycle,
    /// Its background page's lifecycle, if it has a background.
    pub(crate) lifecycle: Option<Lifecycle>,
    /// Boxed: most extensions' pages are not loaded most of the time.
    pub(crate) page: Option<Box<Page>>,
    /// How many times its background page has loaded.
    pub(crate) loads: u64,
    pub(crate) queue: VecDeque<Queued>,
    /// The keepalive of the page being created.
    pub(crate) creating: Option<KeepaliveId>,
    pub(crate) lazy_listeners: LazyListeners,
    pub(crate) keepalives: Holders,
    /// Its `storage.local` items.
    pub(crate) storage: crate::model::storage_area::Items,
    /// Its alarms (`chrome.alarms`), which outlive its page.
    pub(crate) alarms: crate::model::alarm::Alarms,
    pub(crate) uninstall_url: Option<String>,
    pub(crate) views: BTreeMap<ViewId, View>,
    /// Installed while the browser was stopped: `onInstalled` is due at the next start.
    pub(crate) install_pending: bool,
    /// The origin of its pages: `chrome-extension://<id>`, or in Firefox
    /// `moz-extension://<per-install UUID>`.
    pub(crate) origin: String,
}

impl ExtState {
    /// The state of its background page.
    pub(crate) fn state(&self) -> Option<PageState> {
        self.lifecycle.as_ref().map(Lifecycle::state)
    }

    /// The load of the loaded page, if one is loaded.
    pub(crate) fn loaded_load(&self) -> Option<PageLoad> {
        self.page.as_ref().map(|p| p.load)
    }

    /// The URL of one of its pages.
    pub(crate) fn url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{}{slash}{path}", self.origin)
    }

    /// The URL of its background page.
    pub(crate) fn background_url(&self) -> String {
        let path = self
            .manifest
            .background()
            .map_or("_generated_background_page.html", |bg| bg.page_path());
        format!("{}/{}", self.origin, path.trim_start_matches('/'))
    }
}

/// The state of one simulated browser.
#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) bus: Bus<Work>,
    pub(crate) config: Config,
    pub(crate) running: bool,
    /// Every installed extension, terminated ones included.
    pub(crate) extensions: BTreeMap<ExtensionId, Box<ExtState>>,
    pub(crate) trace: Trace,
    /// Steps for the driver, in order.
    pub(crate) actions: VecDeque<Action>,
    /// What the driver tells at once.
    pub(crate) signals: Vec<Signal>,
    pub(crate) ids: Ids,
    pub(crate) channels: BTreeMap<ChannelId, Channel>,
    pub(crate) tabs: BTreeMap<TabId, TabState>,
    /// The active tab of the browser's one window.
    pub(crate) active_tab: Option<TabId>,
    /// Native applications connected to extensions (`onConnectNative`).
    pub(crate) native_apps: BTreeSet<NativeAppId>,
    /// API calls in flight.
    pub(crate) calls: BTreeMap<CallId, Call>,
    /// The one random source.
    pub(crate) rng: SimRng,
    /// The update service and the update checks.
    pub(crate) updates: Updates,
    /// Kiosk mode's state.
    pub(crate) kiosk: Kiosk,
    /// Counts the browser's starts; timers of an earlier run check it and do nothing.
    pub(crate) run: u64,
    /// A browser update downloaded and waiting for the next start.
    pub(crate) staged_version: Option<String>,
    /// How many ambient items are on the bus ([`Work::is_ambient`]).
    pub(crate) ambient: usize,
    /// The names of the events that pages listened to, shared by their lazy listeners.
    pub(crate) event_names: EventNames,
    /// `chrome.storage`'s other areas, preferences and write buckets.
    pub(crate) stores: crate::model::storage_area::Stores,
    /// The `MessageSender` last made, for the context (and TLS choice) it was made for: a
    /// context that sends again, unchanged, shares it ([`Model::shared_sender`]).
    pub(crate) last_sender: Option<(ContextId, bool, Arc<crate::model::message::MessageSender>)>,
}

impl Model {
    pub(crate) fn new(config: Config) -> Self {
        let rng = SimRng::new(config.seed);
        let trace = Trace::with_limit(config.trace_limit);
        Model {
            bus: Bus::new(),
            config,
            running: false,
            extensions: BTreeMap::new(),
            trace,
            actions: VecDeque::new(),
            signals: Vec::new(),
            ids: Ids::default(),
            channels: BTreeMap::new(),
            tabs: BTreeMap::new(),
            active_tab: None,
            native_apps: BTreeSet::new(),
            calls: BTreeMap::new(),
            rng,
            updates: Updates::default(),
            kiosk: Kiosk::default(),
            run: 0,
            staged_version: None,
            ambient: 0,
            event_names: EventNames::default(),
            stores: crate::model::storage_area::Stores::default(),
            last_sender: None,
        }
    }

    /// The virtual time now.
    pub(crate) fn now(&self) -> SimInstant {
        self.bus.now()
    }

    /// An installed extension that runs (not terminated).
    pub(crate) fn ext(&self, id: &ExtensionId) -> Option<&ExtState> {
        self.extensions
            .get(id)
            .map(|r| &**r)
            .filter(|r| r.life.is_running())
    }

    /// An installed extension that runs (not terminated), to change it.
    pub(crate) fn ext_mut(&mut self, id: &ExtensionId) -> Option<&mut ExtState> {
        self.extensions
            .get_mut(id)
            .map(|r| &mut **r)
            .filter(|r| r.life.is_running())
    }

    /// The ids of the extensions that run, in order.
    pub(crate) fn running_ids(&self) -> Vec<ExtensionId> {
        self.extensions
            .values()
            .filter(|r| r.life.is_running())
            .map(|r| r.id.clone())
            .collect()
    }

    /// Schedules an ambient item ([`Work::is_ambient`]).
    pub(crate) fn post_ambient_after(&mut self, delay: Duration, work: Work) {
        debug_assert!(work.is_ambient());
        self.ambient += 1;
        self.bus.post_after(delay, work);
    }

    /// Whether the bus holds anything but the browser's recurring work.
    pub(crate) fn work_scheduled(&self) -> bool {
        self.bus.len() > self.ambient
    }

    /// What is scheduled on the bus, by kind, the most frequent first (the browser's own
    /// recurring work left out).
    pub(crate) fn scheduled(&self) -> Vec<(&'static str, usize)> {
        let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
        for work in self.bus.iter().filter(|w| !w.is_ambient()) {
            *counts.entry(work.describe()).or_default() += 1;
        }
        let mut counts: Vec<_> = counts.into_iter().collect();
        counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        counts
    }

    /// The virtual time of the next item of the bus, if any.
    pub(crate) fn next_due(&self) -> Option<SimInstant> {
        self.bus.peek_key().map(|key| key.at)
    }

    /// Leaves a step for the driver.
    pub(crate) fn act(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// Tells the driver something at once.
    pub(crate) fn signal(&mut self, signal: Signal) {
        self.signals.push(signal);
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
                .ext(ext)
                .and_then(|r| r.manifest.gecko_id().map(str::to_owned)),
            _ => None,
        };
        gecko.unwrap_or_else(|| ext.to_string())
    }

    /// Records a trace entry now.
    pub(crate) fn record(
        &mut self,
        ext: Option<&ExtensionId>,
        context: Option<TraceContext>,
        event: TraceEvent,
    ) {
        self.trace.record_parts(self.bus.now(), ext, context, event);
    }

    /// Records a trace entry of an extension's background page.
    pub(crate) fn record_bg(&mut self, ext: &ExtensionId, event: TraceEvent) {
        self.record(Some(ext), Some(TraceContext::Background), event);
    }

    /// Records that a receiver in `context` answered a one-time message.
    pub(crate) fn record_response_at(&mut self, context: &ContextId, response: Response<'_>) {
        let named = self.trace_context(context);
        let at = self.bus.now();
        self.trace
            .record_response(at, context.extension(), Some(named), response);
    }

    /// Records a trace entry of a context.
    pub(crate) fn record_at(&mut self, context: &ContextId, event: TraceEvent) {
        let named = self.trace_context(context);
        self.record(context.extension(), Some(named), event);
    }

    /// The page load of `ext` if it is the loaded one.
    pub(crate) fn is_loaded(&self, ext: &ExtensionId, load: PageLoad) -> bool {
        self.ext(ext).and_then(ExtState::loaded_load) == Some(load)
    }
}
