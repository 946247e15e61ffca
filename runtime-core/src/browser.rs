//! `Browser`: one simulated browser profile, driven on a virtual clock.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::SimInstant;
use serde_json::Value;

use crate::channel::{ChannelKind, Target};
use crate::context::Endpoint;
use crate::engine::{LocalStep, Shared, Work};
use crate::events::ContextEvents;
use crate::events::{OnInstalledDetails, RuntimeEvent};
use crate::executor::lock;
use crate::holders::Holders;
use crate::lazy_listeners::LazyListeners;
use crate::lifecycle::{Lifecycle, Timers};
use crate::profile::Profile;
use crate::sim::{Config, ExtState, Sim};
use crate::trace::{Context, Trace, TraceEvent};
use crate::update::DEFAULT_UPDATE_FREQUENCY;
use crate::watchdog::{self, WatchdogAction, WatchdogSettings};
use crate::{
    ExtensionId, ExtensionSpec, FrameId, InstallError, Keepalive, KeepaliveReason, Location,
    OnRestartRequiredReason, PageState, PlatformInfo, PlatformOs, Port, PublishError, Runtime,
    TabId, UninstallError, ViewKind, WebPage,
};

/// Builds a [`Browser`]; every setting has Chromium's default.
///
/// ```
/// use runtime_core::Browser;
/// use std::time::Duration;
///
/// let browser = Browser::builder()
///     .idle_delay(Duration::from_secs(10))
///     .suspending_window(Duration::from_secs(5))
///     .browser_version("156.0.8078.73")
///     .seed(7)
///     .build();
/// assert_eq!(browser.seed(), 7);
/// ```
#[derive(Clone, Debug)]
pub struct BrowserBuilder {
    config: Config,
    /// Kept out of `Config`: the watchdog is no part of the simulation.
    watchdog: WatchdogSettings,
}

/// The browser version a simulated browser reports unless told otherwise.
pub const DEFAULT_BROWSER_VERSION: &str = "156.0.8078.73";

impl Default for BrowserBuilder {
    fn default() -> Self {
        BrowserBuilder {
            config: Config {
                timers: Timers::default(),
                platform: Some(PlatformInfo::default()),
                version: DEFAULT_BROWSER_VERSION.to_owned(),
                seed: 0,
                api_latency: Duration::ZERO,
                api_latencies: BTreeMap::new(),
                launcher: None,
                profile: Profile::ChromeMv2,
                real_time_settle: Duration::from_millis(100),
                autoupdate: true,
                update_check_period: DEFAULT_UPDATE_FREQUENCY,
                update_check_duration: Duration::ZERO,
                kiosk: false,
                kiosk_uptime_limit: None,
                trace_limit: None,
            },
            watchdog: WatchdogSettings::default(),
        }
    }
}

impl BrowserBuilder {
    /// How long an event page must be idle before `onSuspend` (default 10 s).
    pub fn idle_delay(mut self, delay: Duration) -> Self {
        self.config.timers.idle_delay = delay;
        self
    }

    /// How long after `onSuspend` an event page is closed (default 5 s).
    pub fn suspending_window(mut self, window: Duration) -> Self {
        self.config.timers.suspending_window = window;
        self
    }

    /// What `runtime.getPlatformInfo()` reports; `None` makes it fail with
    /// `Platform information unavailable.` (default: Linux, x86-64).
    pub fn platform_info(mut self, info: Option<PlatformInfo>) -> Self {
        self.config.platform = info;
        self
    }

    /// The browser's version (default [`DEFAULT_BROWSER_VERSION`]).
    pub fn browser_version(mut self, version: impl Into<String>) -> Self {
        self.config.version = version.into();
        self
    }

    /// The seed of everything random in the simulation (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// How long every API call takes on the virtual clock (default: zero — it completes
    /// after everything already due now).
    pub fn api_latency(mut self, latency: Duration) -> Self {
        self.config.api_latency = latency;
        self
    }

    /// How long one API takes, e.g. `("storage.local.set", 2 s)`; overrides
    /// [`BrowserBuilder::api_latency`] for that API.
    pub fn api_latency_for(mut self, api: impl Into<String>, latency: Duration) -> Self {
        self.config.api_latencies.insert(api.into(), latency);
        self
    }

    /// How the browser finds and ends native messaging hosts (default: Chrome's folders and
    /// rules). Tests point it at their own folders with a
    /// [`Lookup`](runtime_native::lookup::Lookup) that skips the browser's.
    pub fn native_launcher(mut self, launcher: runtime_native::Launcher) -> Self {
        self.config.launcher = Some(launcher);
        self
    }

    /// How long, in real time, the driver waits for a native host before it moves the virtual
    /// clock past a quiet moment while a host is running (default 100 ms).
    pub fn real_time_settle(mut self, settle: Duration) -> Self {
        self.config.real_time_settle = settle;
        self
    }

    /// Which browser to simulate (default [`Profile::ChromeMv2`]). It sets the lifecycle timers
    /// to that browser's ([`Profile::default_timers`]): call [`BrowserBuilder::idle_delay`]
    /// after it to change them. Firefox's idle delay is kept within 100 ms … 5 min.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self.config.timers = profile.default_timers();
        self
    }

    /// Whether the browser has an update service (default: yes). Without one,
    /// `runtime.requestUpdateCheck()` fails with `Autoupdate is not enabled.` and the browser
    /// never checks for updates.
    pub fn autoupdate(mut self, enabled: bool) -> Self {
        self.config.autoupdate = enabled;
        self
    }

    /// How often the browser checks for updates on its own (default 5 h; each wait is
    /// jittered by ±20 % from the seeded random source). It also checks once as it starts.
    pub fn update_check_period(mut self, period: Duration) -> Self {
        self.config.update_check_period = period;
        self
    }

    /// How long one update check takes on the virtual clock (default: zero — it completes
    /// after everything already due now).
    pub fn update_check_duration(mut self, duration: Duration) -> Self {
        self.config.update_check_duration = duration;
        self
    }

    /// Runs the browser as a ChromeOS kiosk (default: no). Only then do `runtime.restart()`
    /// and `runtime.restartAfterDelay()` work and `runtime.onRestartRequired` fire.
    pub fn kiosk(mut self, kiosk: bool) -> Self {
        self.config.kiosk = kiosk;
        self
    }

    /// In kiosk mode, the uptime the enterprise policy allows: once the browser has run this
    /// long, extensions get `onRestartRequired("periodic")` (default: no limit).
    pub fn kiosk_uptime_limit(mut self, limit: Duration) -> Self {
        self.config.kiosk_uptime_limit = Some(limit);
        self
    }

    /// Keeps only the newest `limit` entries of the trace (default: every entry), so that a
    /// long run's memory stays flat; `0` keeps none. Every entry is still a `tracing` event,
    /// and [`Trace::recorded`](crate::Trace::recorded) still counts them all.
    pub fn trace_limit(mut self, limit: usize) -> Self {
        self.config.trace_limit = Some(limit);
        self
    }

    /// How long one dispatch (the listeners of one event in one context) or one poll of a task
    /// may block the thread driving the simulation, in wall time, before the watchdog fires (default
    /// [`DEFAULT_WATCHDOG_LIMIT`](crate::DEFAULT_WATCHDOG_LIMIT), 30 s).
    ///
    /// Listeners and tasks run on the thread that calls [`Browser::advance`],
    /// [`Browser::block_on`], …; one that blocks it (`std::thread::sleep`, a blocking receive)
    /// stops the whole simulation. When the watchdog sees the same dispatch or poll still
    /// running after `limit` (it samples every `limit / 4`), it writes to stderr, and emits as a
    /// `tracing` error (target `runtime_sim::watchdog`), what is blocked — the extension, the
    /// context, the listener or task, the virtual time — and by default ends the process with
    /// [`WATCHDOG_EXIT_CODE`](crate::WATCHDOG_EXIT_CODE) (see
    /// [`BrowserBuilder::watchdog_action`]). Nothing of the simulation depends on it: the trace
    /// is the same with or without a watchdog as long as nothing overruns.
    ///
    /// ```
    /// use runtime_core::Browser;
    /// use std::time::Duration;
    ///
    /// let browser = Browser::builder().watchdog(Duration::from_secs(5)).build();
    /// ```
    pub fn watchdog(mut self, limit: Duration) -> Self {
        self.watchdog.limit = Some(limit);
        self
    }

    /// Builds the browser with no watchdog: a listener that blocks its thread hangs the run.
    pub fn without_watchdog(mut self) -> Self {
        self.watchdog.limit = None;
        self
    }

    /// What the watchdog does when it fires (default [`WatchdogAction::Exit`]: report, then end
    /// the process). [`WatchdogAction::Report`] reports and keeps waiting; if the blocked
    /// listener returns at last, the trace gets a warning that it overran.
    pub fn watchdog_action(mut self, action: WatchdogAction) -> Self {
        self.watchdog.action = action;
        self
    }

    /// The browser, stopped, with no extension. Install extensions, then
    /// [`Browser::start`] it.
    pub fn build(mut self) -> Browser {
        let profile = self.config.profile;
        self.config.timers.idle_delay = profile.clamp_idle(self.config.timers.idle_delay);
        let shared = Arc::new(Shared::new(Sim::new(self.config)));
        watchdog::watch(Arc::downgrade(&shared), self.watchdog.with_env_override());
        Browser { shared }
    }
}

/// What went wrong when a test or a scenario acted on the browser.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BrowserError {
    /// No extension with this id is installed.
    #[error("no extension {0} is installed")]
    NotInstalled(String),
    /// The browser is stopped.
    #[error("the browser is not running")]
    NotRunning,
    /// Events of `runtime` are fired by the browser itself, not by name.
    #[error("{0} is an event of runtime; the browser fires it itself")]
    ReservedEvent(String),
    /// No such tab is open.
    #[error("no tab {0} is open")]
    NoSuchTab(u64),
    /// The feature exists only on ChromeOS (the browser's platform is not `cros`).
    #[error("{0} exists only on ChromeOS; build the browser with a cros platform")]
    NotChromeOs(&'static str),
    /// The extension is terminated (too many fast reloads): reload it first.
    #[error("the extension {0} is terminated; reload it with Browser::reload_extension")]
    Terminated(String),
    /// The tab has no such frame.
    #[error("tab {tab} has no frame {frame}")]
    NoSuchFrame {
        /// The tab.
        tab: u64,
        /// The frame.
        frame: u64,
    },
}

/// [`Browser::block_on`] could not finish: nothing was left to run, and the future still waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the simulation ran out of work at {at} while the future was still waiting")]
pub struct Stalled {
    /// The virtual time at which nothing was left to run.
    pub at: SimInstant,
}

/// An open extension view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ViewId(pub u64);

/// What the browser knows of an installed extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// Its id.
    pub id: ExtensionId,
    /// `name`.
    pub name: String,
    /// `version`.
    pub version: String,
    /// How it was installed.
    pub location: Location,
    /// Its install folder.
    pub path: PathBuf,
    /// Its background page's state, if it has one.
    pub page: Option<PageState>,
    /// How many times its background page has loaded.
    pub page_loads: u64,
    /// The version of an update that waits to be installed.
    pub pending_update: Option<String>,
    /// Whether it is terminated (too many fast reloads) until the user reloads it.
    pub terminated: bool,
}

/// One simulated browser profile: its extensions, their background pages, and one virtual
/// clock.
///
/// Nothing happens on its own: the browser runs when a test or a scenario drives it —
/// [`Browser::advance`] runs everything due within a span of virtual time,
/// [`Browser::run_until_idle`] runs until nothing is scheduled, [`Browser::run_until`] until a
/// condition holds, [`Browser::block_on`] until a future completes. Methods that act on the
/// browser (install, start, fire an event, …) schedule work; it runs when the browser is
/// driven next.
pub struct Browser {
    shared: Arc<Shared>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::builder().build()
    }
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sim = self.shared.sim();
        f.debug_struct("Browser")
            .field("now", &sim.bus.now())
            .field("running", &sim.running)
            .field("extensions", &sim.extensions.len())
            .finish()
    }
}

impl Browser {
    /// A builder with Chromium's defaults.
    pub fn builder() -> BrowserBuilder {
        BrowserBuilder::default()
    }

    /// The virtual time now.
    pub fn now(&self) -> SimInstant {
        self.shared.sim().bus.now()
    }

    /// The seed of the simulation.
    pub fn seed(&self) -> u64 {
        self.shared.sim().config.seed
    }

    /// Which browser this is.
    pub fn profile(&self) -> Profile {
        self.shared.sim().config.profile
    }

    /// The browser's version.
    pub fn version(&self) -> String {
        self.shared.sim().config.version.clone()
    }

    /// Whether the browser is running.
    pub fn is_running(&self) -> bool {
        self.shared.sim().running
    }

    /// Installs an extension.
    ///
    /// In a running browser it gets `onInstalled` (`install`) at once (its page loads for it);
    /// in a stopped one, at the next start.
    pub fn install(&mut self, spec: ExtensionSpec) -> Result<ExtensionId, InstallError> {
        spec.check()?;
        let id = spec.id();
        let mut sim = self.shared.sim();
        if sim.extensions.contains_key(&id) || sim.terminated.contains_key(&id) {
            return Err(InstallError::AlreadyInstalled(id.to_string()));
        }
        let lifecycle = sim.config.lifecycle_for(&spec.manifest);
        let origin = sim.origin_for(&id);
        let legacy_under_mv3 = sim.config.profile == Profile::ChromeMv3
            && spec.manifest.manifest_version() < 3
            && lifecycle.is_some();
        let has_page = lifecycle.is_some();
        let running = sim.running;
        sim.trace.name_extension(&id, spec.manifest.name());
        sim.record(
            Some(&id),
            Some(Context::Browser),
            TraceEvent::Installed {
                name: spec.manifest.name().to_owned(),
                version: spec.manifest.version().to_owned(),
                location: spec.location,
            },
        );
        sim.extensions.insert(
            id.clone(),
            ExtState {
                id: id.clone(),
                manifest: Arc::new(spec.manifest),
                location: spec.location,
                path: spec.path,
                script: spec.script,
                lifecycle,
                page: None,
                life: 0,
                queue: VecDeque::new(),
                creating: None,
                lazy_listeners: LazyListeners::with_room(),
                keepalives: Holders::default(),
                storage: BTreeMap::new(),
                uninstall_url: None,
                views: BTreeMap::new(),
                install_pending: !running,
                pending_update: None,
                origin,
            },
        );
        if legacy_under_mv3 {
            sim.record(
                Some(&id),
                Some(Context::Browser),
                TraceEvent::Warning {
                    message: "Chromium no longer loads Manifest V2 extensions (\"unsupported manifest version\"); under chrome-mv3 the simulator runs this background page as a service worker".into(),
                },
            );
        }
        if running && has_page {
            sim.activate(&id, Some(OnInstalledDetails::install()));
        }
        drop(sim);
        self.shared.settle();
        Ok(id)
    }

    /// Uninstalls an extension: its page closes (without `onSuspend`), its views close, its
    /// storage goes, and its uninstall URL, if it set one, opens in a new tab.
    pub fn uninstall(&mut self, id: &ExtensionId) -> Result<(), UninstallError> {
        let mut sim = self.shared.sim();
        if let Some(rec) = sim.terminated.remove(id) {
            sim.extensions.insert(id.clone(), rec);
        }
        if !sim.extensions.contains_key(id) {
            return Err(UninstallError::NotInstalled(id.to_string()));
        }
        sim.unload_extension(id);
        sim.record(Some(id), Some(Context::Browser), TraceEvent::Uninstalled);
        if let Some(url) = sim.extensions.get(id).and_then(|r| r.uninstall_url.clone()) {
            if sim.running {
                sim.record(
                    Some(id),
                    Some(Context::Browser),
                    TraceEvent::UninstallUrlOpened { url },
                );
            }
        }
        sim.extensions.remove(id);
        sim.updates.published.remove(id);
        sim.updates.checks.remove(id);
        sim.reload_guards.remove(id);
        drop(sim);
        self.shared.settle();
        Ok(())
    }

    /// Starts the browser. A staged browser update ([`Browser::stage_browser_update`]) becomes
    /// its version, and extensions that listen to `onInstalled` get `chrome_update`. Updates
    /// that waited are installed, and so is one the browser finds as it starts. Extensions
    /// installed while it was stopped (and those loaded from the command line, every time) get
    /// `onInstalled` (`install`); the others get `onStartup`. Persistent pages load now; an
    /// event page loads for `onInstalled`, or for `onStartup` if it listened to it when it last
    /// ran.
    pub fn start(&mut self) {
        self.shared.sim().start_browser();
        self.shared.settle();
    }

    /// Stops the browser: every page closes without `onSuspend`, every view closes, every
    /// keepalive goes. Installed extensions, their storage, versions published on the update
    /// service and updates waiting to be installed stay for the next start.
    pub fn stop(&mut self) {
        self.shared.sim().stop_browser();
        self.shared.settle();
    }

    /// Stops and starts the browser.
    pub fn restart(&mut self) {
        self.stop();
        self.start();
    }

    /// Publishes a new version of an installed, packed extension on the update service: the
    /// browser finds it at its next update check (periodic, at start, or
    /// `runtime.requestUpdateCheck()`), and installs it at once or when the extension is idle.
    /// The extension keeps its id, whatever the new spec's path.
    pub fn publish_update(
        &mut self,
        id: &ExtensionId,
        spec: ExtensionSpec,
    ) -> Result<(), PublishError> {
        self.check_update(id, &spec)?;
        self.shared.sim().publish(id, spec);
        self.shared.settle();
        Ok(())
    }

    /// [`Browser::publish_update`] at a later virtual time.
    pub fn publish_update_at(
        &mut self,
        id: &ExtensionId,
        spec: ExtensionSpec,
        at: SimInstant,
    ) -> Result<(), PublishError> {
        self.check_update(id, &spec)?;
        let id = id.clone();
        self.shared.sim().bus.post_at(
            at,
            Work::Complete(Box::new(move |sim: &mut Sim| sim.publish(&id, spec))),
        );
        Ok(())
    }

    fn check_update(&self, id: &ExtensionId, spec: &ExtensionSpec) -> Result<(), PublishError> {
        let sim = self.shared.sim();
        let rec = sim
            .extensions
            .get(id)
            .or_else(|| sim.terminated.get(id))
            .ok_or_else(|| PublishError::NotInstalled(id.to_string()))?;
        if rec.location != Location::Packed {
            return Err(PublishError::NotPacked(
                id.to_string(),
                rec.location.as_str(),
            ));
        }
        if spec.manifest.key().is_some() && spec.id() != *id {
            return Err(PublishError::WrongId {
                expected: id.to_string(),
                found: spec.id().to_string(),
            });
        }
        spec.check()?;
        Ok(())
    }

    /// The version of an update that waits to be installed.
    pub fn pending_update(&self, id: &ExtensionId) -> Option<String> {
        let sim = self.shared.sim();
        let rec = sim.extensions.get(id)?;
        rec.pending_update
            .as_ref()
            .map(|p| p.manifest.version().to_owned())
    }

    /// Reloads an extension as the user does on the extensions page: a waiting update is
    /// installed; an unpacked extension is installed again, a packed one loaded again; a
    /// terminated one runs again. No fast-reload guard applies.
    pub fn reload_extension(&mut self, id: &ExtensionId) -> Result<(), BrowserError> {
        let mut sim = self.shared.sim();
        if !sim.running {
            return Err(BrowserError::NotRunning);
        }
        if let Some(rec) = sim.terminated.remove(id) {
            sim.extensions.insert(id.clone(), rec);
        }
        if !sim.extensions.contains_key(id) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        sim.reload_extension(id);
        drop(sim);
        self.shared.settle();
        Ok(())
    }

    /// A browser update has been downloaded and needs a restart: every extension gets
    /// `runtime.onBrowserUpdateAvailable` (in kiosk mode also `onRestartRequired("os_update")`),
    /// and the browser runs `version` from its next start.
    pub fn stage_browser_update(&mut self, version: impl Into<String>) {
        self.shared.sim().stage_browser_update(version.into());
        self.shared.settle();
    }

    /// In kiosk mode, tells every extension that the device must restart
    /// (`runtime.onRestartRequired`), as ChromeOS does; the device restarts after 24 h unless
    /// an app restarts it first. Outside kiosk mode nothing happens.
    pub fn require_restart(&mut self, reason: OnRestartRequiredReason) {
        self.shared.sim().require_restart(reason);
        self.shared.settle();
    }

    /// Fires an event of another API (e.g. `alarms.onAlarm`) at an extension, as that API
    /// would. It is delivered when the browser is next driven: dispatched if the page is loaded,
    /// and waking it if it is not and it listened to this event when it last ran.
    pub fn fire_event(
        &mut self,
        id: &ExtensionId,
        name: &str,
        args: Value,
    ) -> Result<(), BrowserError> {
        if name.starts_with("runtime.") {
            return Err(BrowserError::ReservedEvent(name.to_owned()));
        }
        let mut sim = self.shared.sim();
        if !sim.extensions.contains_key(id) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        if !sim.running {
            return Err(BrowserError::NotRunning);
        }
        sim.record(
            Some(id),
            Some(Context::Browser),
            TraceEvent::EventFired {
                event: name.to_owned(),
            },
        );
        sim.bus.post(Work::Deliver {
            ext: id.clone(),
            event: RuntimeEvent::Named {
                name: name.into(),
                args,
            },
        });
        Ok(())
    }

    /// Opens an extension view (as the user opening the popup, or a tab on an extension page).
    /// An open view keeps the event page alive.
    pub fn open_view(
        &mut self,
        id: &ExtensionId,
        kind: ViewKind,
        path: &str,
    ) -> Result<ViewId, BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        if !sim.running {
            return Err(BrowserError::NotRunning);
        }
        let view = sim
            .open_view(&weak, id, kind, path)
            .ok_or_else(|| BrowserError::NotInstalled(id.to_string()))?;
        drop(sim);
        self.shared.settle();
        Ok(ViewId(view))
    }

    /// Closes an extension view. Returns whether it was open.
    pub fn close_view(&mut self, id: &ExtensionId, view: ViewId) -> bool {
        let closed = self.shared.sim().close_view(id, view.0);
        self.shared.settle();
        closed
    }

    /// The `runtime` of an open view, to call the API from it.
    pub fn view_runtime(&self, id: &ExtensionId, view: ViewId) -> Option<Runtime> {
        self.shared
            .sim()
            .extensions
            .get(id)?
            .views
            .get(&view.0)
            .map(|v| v.runtime.clone())
    }

    /// Opens a tab showing `url` (as the user would). The content scripts whose
    /// `content_scripts.matches` match it start in its top frame.
    pub fn open_tab(&mut self, url: &str) -> Result<TabId, BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        if !sim.running {
            return Err(BrowserError::NotRunning);
        }
        let tab = sim.open_tab(&weak, url);
        drop(sim);
        self.shared.settle();
        Ok(TabId(tab))
    }

    /// Adds a child frame (an iframe) showing `url` to a frame of a tab. Content scripts with
    /// `all_frames` that match it start in it.
    pub fn open_frame(
        &mut self,
        tab: TabId,
        parent: FrameId,
        url: &str,
    ) -> Result<FrameId, BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        Self::frame_exists(&sim, tab, parent)?;
        let frame = sim
            .next_frame_id(tab.0)
            .ok_or(BrowserError::NoSuchTab(tab.0))?;
        sim.add_frame(&weak, tab.0, frame, Some(parent.0), url);
        drop(sim);
        self.shared.settle();
        Ok(FrameId(frame))
    }

    /// Navigates a tab's top frame to `url`: every frame of the old page goes (their content
    /// scripts' ports disconnect), and the content scripts matching the new page start.
    pub fn navigate(&mut self, tab: TabId, url: &str) -> Result<(), BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        let shows_extension_page = sim
            .tabs
            .get(&tab.0)
            .is_some_and(|t| t.extension_page.is_some());
        if shows_extension_page {
            sim.leave_extension_page(tab.0);
        } else {
            Self::frame_exists(&sim, tab, FrameId::TOP)?;
            sim.close_frame(tab.0, 0);
        }
        sim.record(
            None,
            Some(Context::WebPage {
                tab: tab.0,
                frame: 0,
            }),
            TraceEvent::TabNavigated {
                url: url.to_owned(),
            },
        );
        sim.add_frame(&weak, tab.0, 0, None, url);
        drop(sim);
        self.shared.settle();
        Ok(())
    }

    /// The tab an extension view of kind [`ViewKind::Tab`] is shown in, while it is open.
    /// Messages from the view have that tab as `sender.tab` (and `frameId` 0); closing the tab
    /// closes the view and the other way round; navigating the tab leaves the page.
    pub fn view_tab(&self, id: &ExtensionId, view: ViewId) -> Option<TabId> {
        self.shared.sim().view_tab(id, view.0).map(TabId)
    }

    /// Closes a tab. Returns whether it was open.
    pub fn close_tab(&mut self, tab: TabId) -> bool {
        let closed = self.shared.sim().close_tab(tab.0);
        self.shared.settle();
        closed
    }

    /// The open tabs.
    pub fn tabs(&self) -> Vec<TabId> {
        self.shared.sim().tabs.keys().map(|t| TabId(*t)).collect()
    }

    /// Sets what a receiver that accepts TLS channel ids
    /// (`externally_connectable.accepts_tls_channel_id`) gets as `sender.tlsChannelId` for
    /// messages from this tab's pages.
    pub fn set_tls_channel_id(
        &mut self,
        tab: TabId,
        tls_channel_id: Option<String>,
    ) -> Result<(), BrowserError> {
        let mut sim = self.shared.sim();
        let state = sim
            .tabs
            .get_mut(&tab.0)
            .ok_or(BrowserError::NoSuchTab(tab.0))?;
        state.tls_channel_id = tls_channel_id;
        Ok(())
    }

    /// The `runtime` of an extension's content script in a frame, if one runs there.
    pub fn content_script(&self, id: &ExtensionId, tab: TabId, frame: FrameId) -> Option<Runtime> {
        self.shared
            .sim()
            .tabs
            .get(&tab.0)?
            .frames
            .get(&frame.0)?
            .content_scripts
            .get(id)
            .cloned()
    }

    /// Starts a content script of an extension in a frame, whatever its manifest says (as
    /// `scripting.executeScript` would), and gives its `runtime`.
    pub fn inject_content_script(
        &mut self,
        id: &ExtensionId,
        tab: TabId,
        frame: FrameId,
    ) -> Result<Runtime, BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        if !sim.extensions.contains_key(id) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        Self::frame_exists(&sim, tab, frame)?;
        let runtime = sim
            .inject(&weak, id, tab.0, frame.0)
            .ok_or(BrowserError::NoSuchFrame {
                tab: tab.0,
                frame: frame.0,
            })?;
        drop(sim);
        self.shared.settle();
        Ok(runtime)
    }

    /// The web page shown in a frame, to act as it.
    pub fn web_page(&self, tab: TabId, frame: FrameId) -> Option<WebPage> {
        let sim = self.shared.sim();
        let state = sim.tabs.get(&tab.0)?.frames.get(&frame.0)?;
        Some(WebPage {
            shared: Arc::downgrade(&self.shared),
            endpoint: Endpoint::WebPage {
                tab: tab.0,
                frame: frame.0,
                document: state.document,
            },
            events: Arc::clone(&state.page),
            url: state.url.clone(),
        })
    }

    fn frame_exists(sim: &Sim, tab: TabId, frame: FrameId) -> Result<(), BrowserError> {
        let state = sim.tabs.get(&tab.0).ok_or(BrowserError::NoSuchTab(tab.0))?;
        if !state.frames.contains_key(&frame.0) {
            return Err(BrowserError::NoSuchFrame {
                tab: tab.0,
                frame: frame.0,
            });
        }
        Ok(())
    }

    /// A native application opens a connection to an extension (ChromeOS's `onConnectNative`;
    /// the browser's platform must be `cros`, see [`BrowserBuilder::platform_info`]):
    /// the extension's `onConnectNative` listeners get a port whose `sender.nativeApplication`
    /// is `application`. The returned port is the application's end, to post and receive as
    /// the application would.
    pub fn connect_from_native_app(
        &mut self,
        id: &ExtensionId,
        application: &str,
    ) -> Result<Port, BrowserError> {
        let weak = Arc::downgrade(&self.shared);
        let mut sim = self.shared.sim();
        if !sim.extensions.contains_key(id) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        if !sim.running {
            return Err(BrowserError::NotRunning);
        }
        if sim.config.platform.map(|p| p.os) != Some(PlatformOs::Cros) {
            return Err(BrowserError::NotChromeOs("runtime.onConnectNative"));
        }
        let app = sim.fresh_id();
        let events = Arc::new(ContextEvents::unobserved());
        sim.native_apps.insert(app, Arc::clone(&events));
        let endpoint = Endpoint::NativeApp {
            name: application.to_owned(),
            id: app,
        };
        let mut created = None;
        sim.open_channel(
            endpoint.clone(),
            Target::FromNativeApp(id.clone()),
            ChannelKind::Port {
                name: String::new(),
            },
            |channel, end| {
                let port = Port::new(weak, channel, end, String::new(), None, endpoint, events);
                created = Some(port.clone());
                Some(port)
            },
        );
        drop(sim);
        self.shared.settle();
        created.ok_or_else(|| BrowserError::NotInstalled(id.to_string()))
    }

    /// Holds a keepalive on an extension's background page until the returned guard is
    /// dropped (Chromium's `IncrementLazyKeepaliveCount`, as the browser's own features use it).
    pub fn keepalive(&mut self, id: &ExtensionId, label: &str) -> Result<Keepalive, BrowserError> {
        let mut sim = self.shared.sim();
        if !sim.extensions.contains_key(id) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        let keepalive = sim.acquire(id, KeepaliveReason::External(label.to_owned()), None);
        drop(sim);
        self.shared.settle();
        Ok(Keepalive {
            ext: id.clone(),
            id: keepalive,
            shared: Arc::downgrade(&self.shared),
        })
    }

    /// The state of an extension's background page (`None`: not installed, or no background).
    pub fn page_state(&self, id: &ExtensionId) -> Option<PageState> {
        self.shared.sim().extensions.get(id)?.state()
    }

    /// An extension's keepalive count.
    pub fn keepalive_count(&self, id: &ExtensionId) -> u32 {
        self.shared
            .sim()
            .extensions
            .get(id)
            .and_then(|r| r.lifecycle.as_ref().map(Lifecycle::keepalive))
            .unwrap_or(0)
    }

    /// What the browser knows of an installed extension.
    pub fn extension(&self, id: &ExtensionId) -> Option<ExtensionInfo> {
        let sim = self.shared.sim();
        let (rec, terminated) = match sim.extensions.get(id) {
            Some(rec) => (rec, false),
            None => (sim.terminated.get(id)?, true),
        };
        Some(ExtensionInfo {
            id: rec.id.clone(),
            name: rec.manifest.name().to_owned(),
            version: rec.manifest.version().to_owned(),
            location: rec.location,
            path: rec.path.clone(),
            page: rec.state(),
            page_loads: rec.life,
            pending_update: rec
                .pending_update
                .as_ref()
                .map(|p| p.manifest.version().to_owned()),
            terminated,
        })
    }

    /// The ids of the installed extensions (terminated ones included).
    pub fn extensions(&self) -> Vec<ExtensionId> {
        let sim = self.shared.sim();
        let mut ids: Vec<ExtensionId> = sim
            .extensions
            .keys()
            .chain(sim.terminated.keys())
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// What an extension has stored.
    pub fn storage(&self, id: &ExtensionId) -> BTreeMap<String, Value> {
        self.shared
            .sim()
            .extensions
            .get(id)
            .map(|r| r.storage.clone())
            .unwrap_or_default()
    }

    /// The URL set with `runtime.setUninstallURL`.
    pub fn uninstall_url(&self, id: &ExtensionId) -> Option<String> {
        self.shared.sim().extensions.get(id)?.uninstall_url.clone()
    }

    /// A copy of the trace so far.
    pub fn trace(&self) -> Trace {
        self.shared.sim().trace.clone()
    }

    /// Reads the trace without copying it.
    pub fn with_trace<R>(&self, f: impl FnOnce(&Trace) -> R) -> R {
        f(&self.shared.sim().trace)
    }

    /// Runs everything due within the next `duration` of virtual time; the clock then reads
    /// `now + duration`.
    pub fn advance(&mut self, duration: Duration) {
        let target = self.now() + duration;
        self.run_to(target);
    }

    /// Runs everything due up to `instant`; the clock then reads `instant` (or stays, if it is
    /// already later).
    pub fn advance_to(&mut self, instant: SimInstant) {
        self.run_to(instant);
    }

    /// When a native host is running and nothing is due now, waits (in real time, at most
    /// the settle time) for it before the clock moves. Returns whether something arrived.
    fn wait_for_hosts(&self) -> bool {
        if !self.shared.realtime_open() || !self.shared.nothing_due_now() {
            return false;
        }
        let settle = self.shared.sim().config.real_time_settle;
        self.shared.wait_for_real_time(settle)
    }

    fn run_to(&mut self, target: SimInstant) {
        loop {
            if self.shared.local_step() || self.wait_for_hosts() {
                continue;
            }
            if !self.shared.bus_step(target) {
                break;
            }
        }
        // Nothing is due before `target` any more.
        let _ = self.shared.sim().bus.advance_to(target);
    }

    /// Runs until nothing is scheduled (every event page has unloaded, no timer is pending),
    /// and returns the virtual time then. A script with a timer that re-arms itself never lets
    /// the browser become idle: drive such a simulation with [`Browser::advance`].
    pub fn run_until_idle(&mut self) -> SimInstant {
        let end = SimInstant::from_start(Duration::MAX);
        loop {
            if self.shared.local_step() || self.wait_for_hosts() {
                continue;
            }
            if !self.shared.work_scheduled() || !self.shared.bus_step(end) {
                break;
            }
        }
        self.now()
    }

    /// Runs until `condition` holds, for at most `limit` of virtual time. Returns whether it
    /// holds. While a native host is running and nothing is scheduled before the limit, it
    /// waits for the host in real time (up to 30 s) before giving up.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut condition: impl FnMut(&Browser) -> bool,
    ) -> bool {
        let target = self.now() + limit;
        let hosts_deadline = std::time::Instant::now() + BLOCK_ON_HOST_LIMIT;
        loop {
            if condition(self) {
                return true;
            }
            if self.shared.local_step() || self.wait_for_hosts() {
                continue;
            }
            if self.shared.bus_step(target) {
                continue;
            }
            // Nothing is scheduled before the limit: only a native host can still act.
            let left = hosts_deadline.saturating_duration_since(std::time::Instant::now());
            if self.shared.realtime_open() && self.shared.wait_for_real_time(left) {
                continue;
            }
            let _ = self.shared.sim().bus.advance_to(target);
            return condition(self);
        }
    }

    /// Runs the simulation until `future` completes, advancing virtual time as needed, and
    /// returns its output — for calling the API from a test.
    pub fn block_on<F>(&mut self, future: F) -> Result<F::Output, Stalled>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // The future is a task like the scripts' ones, woken and polled in turn with them,
        // but it stays here on the stack: it is polled at once, then each time its turn comes.
        let task = self.shared.executor.foreign_task();
        let mut future = std::pin::pin!(Some(future));
        let mut turn = true;
        let end = SimInstant::from_start(Duration::MAX);
        loop {
            if turn {
                turn = false;
                if let Some(value) = self.shared.poll_foreign(&task, "block_on", future.as_mut()) {
                    return Ok(value);
                }
            }
            match self.shared.local_step_for(Some(task.id())) {
                LocalStep::OwnTaskWoken => turn = true,
                LocalStep::Ran => {}
                LocalStep::Idle => {
                    if self.wait_for_hosts()
                        || (self.shared.work_scheduled() && self.shared.bus_step(end))
                    {
                        continue;
                    }
                    // Nothing is scheduled: only a native host can still move the future.
                    if self.shared.realtime_open()
                        && self.shared.wait_for_real_time(BLOCK_ON_HOST_LIMIT)
                    {
                        continue;
                    }
                    future.set(None);
                    return Err(Stalled { at: self.now() });
                }
            }
        }
    }
}

/// How long `block_on` waits, in real time, for a native host when nothing else can move.
const BLOCK_ON_HOST_LIMIT: Duration = Duration::from_secs(30);

impl Drop for Browser {
    fn drop(&mut self) {
        // Drop every script's pending work now, while the simulation still exists.
        {
            let _section = self.shared.watched_step(watchdog::StepKind::Dropping);
            self.shared.executor.clear();
        }
        // End the native hosts' runtime here, on the driving thread: its tasks are dropped and
        // every host process is killed and reaped.
        let runtime = lock(&self.shared.native).take();
        drop(runtime);
        watchdog::unwatch(&self.shared);
    }
}
