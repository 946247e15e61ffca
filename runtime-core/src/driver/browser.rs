//! `Browser`: one simulated browser profile, driven on a virtual clock.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::SimInstant;
use serde_json::Value;

use crate::driver::builder::BrowserBuilder;
use crate::driver::core::Driver;
use crate::driver::engine::LocalStep;
use crate::driver::keepalive::Keepalive;
use crate::driver::port::Port;
use crate::driver::runtime::Runtime;
use crate::driver::script::ContextSource;
use crate::driver::spec::ExtensionSpec;
use crate::driver::watchdog::{self, StepKind};
use crate::driver::web_page::WebPage;
use crate::model::channel::{ChannelKind, Target};
use crate::model::contexts::{ContextId, ViewKind};
use crate::model::error::{InstallError, PublishError, UninstallError};
use crate::model::event::{OnRestartRequiredReason, RuntimeEvent};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{FrameId, TabId, ViewId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::package::{Location, Package};
use crate::model::page_lifecycle::PageState;
use crate::model::platform::PlatformOs;
use crate::model::profile::Profile;
use crate::model::storage_area::{AccessLevel, StorageArea};
use crate::model::trace::Trace;
use crate::model::trace_entry::{TraceContext, TraceEvent};
use crate::model::work::Work;

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
    NoSuchTab(TabId),
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
        tab: TabId,
        /// The frame.
        frame: FrameId,
    },
}

/// [`Browser::block_on`] or [`Browser::run_until`] gave up: what it waited for did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the simulation stalled at {at}: {reason}")]
pub struct Stalled {
    /// The virtual time when it gave up.
    pub at: SimInstant,
    /// Why.
    pub reason: StallReason,
}

/// Why a run gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StallReason {
    /// Nothing was left to run, and no native host could still act.
    NothingLeft,
    /// The virtual-time limit passed. `scheduled` is what was still on the browser's clock
    /// then, by kind (`a script's timer`, …), the most frequent first.
    TimeLimit {
        /// The limit.
        limit: Duration,
        /// What was still scheduled.
        scheduled: Vec<(&'static str, usize)>,
    },
}

impl std::fmt::Display for StallReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StallReason::NothingLeft => {
                f.write_str("nothing was left to run while it still waited")
            }
            StallReason::TimeLimit { limit, scheduled } => {
                write!(
                    f,
                    "it still waited after {} of virtual time",
                    SimInstant::from_start(*limit)
                )?;
                match scheduled.as_slice() {
                    [] => f.write_str("; nothing was scheduled any more"),
                    [("a script's timer", n)] => write!(
                        f,
                        "; only timers of scripts were left ({n}): a timer that sets itself again never lets the browser run out of work"
                    ),
                    kinds => {
                        let kinds: Vec<String> = kinds
                            .iter()
                            .map(|(kind, n)| format!("{kind} ({n})"))
                            .collect();
                        write!(f, "; still scheduled: {}", kinds.join(", "))
                    }
                }
            }
        }
    }
}

/// A span of virtual time that would take the clock past its end, [`SimInstant::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("advancing {requested:?} from {from} would pass the end of virtual time, {end} (365 000 days)", end = SimInstant::MAX)]
pub struct BeyondVirtualTime {
    /// Where the clock was.
    pub from: SimInstant,
    /// The span asked for.
    pub requested: Duration,
}

/// [`Browser::try_block_on`] could not give the future's value: the simulation stalled, or the
/// call failed (then it displays the call's error, the browser's string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockOnError<E> {
    /// Nothing was left to run while the future still waited.
    Stalled(Stalled),
    /// The call failed.
    Failed(E),
}

impl<E: std::fmt::Display> std::fmt::Display for BlockOnError<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlockOnError::Stalled(stalled) => stalled.fmt(f),
            BlockOnError::Failed(error) => error.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for BlockOnError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            BlockOnError::Stalled(stalled) => Some(stalled),
            BlockOnError::Failed(error) => Some(error),
        }
    }
}

impl<E> From<Stalled> for BlockOnError<E> {
    fn from(stalled: Stalled) -> Self {
        BlockOnError::Stalled(stalled)
    }
}

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
/// driven next. A browser, its scripts and their futures live on the thread that drives it.
pub struct Browser {
    driver: Rc<Driver>,
}

impl Default for Browser {
    fn default() -> Self {
        Browser::builder().build()
    }
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.driver.read(|model| {
            f.debug_struct("Browser")
                .field("now", &model.now())
                .field("running", &model.running)
                .field("extensions", &model.extensions.len())
                .finish()
        })
    }
}

impl Browser {
    pub(crate) fn from_driver(driver: Rc<Driver>) -> Browser {
        Browser { driver }
    }

    /// A builder with Chromium's defaults.
    pub fn builder() -> BrowserBuilder {
        BrowserBuilder::default()
    }

    /// Runs `f` on the model, then the steps it made due now.
    fn act<R>(&mut self, f: impl FnOnce(&mut crate::model::Model) -> R) -> R {
        let result = self.driver.with_model(f);
        self.driver.settle();
        result
    }

    /// The virtual time now.
    pub fn now(&self) -> SimInstant {
        self.driver.read(|model| model.now())
    }

    /// The seed of the simulation.
    pub fn seed(&self) -> u64 {
        self.driver.read(|model| model.config.seed)
    }

    /// Which browser this is.
    pub fn profile(&self) -> Profile {
        self.driver.read(|model| model.config.profile)
    }

    /// The browser's version.
    pub fn version(&self) -> String {
        self.driver.read(|model| model.config.version.clone())
    }

    /// Whether the browser is running.
    pub fn is_running(&self) -> bool {
        self.driver.read(|model| model.running)
    }

    /// Installs an extension.
    ///
    /// In a running browser it gets `onInstalled` (`install`) at once (its page loads for it);
    /// in a stopped one, at the next start.
    pub fn install(&mut self, spec: ExtensionSpec) -> Result<ExtensionId, InstallError> {
        spec.check()?;
        let package = self.package(spec);
        let name = package.manifest.name().to_owned();
        let id = self.act(|model| model.install(package))?;
        self.driver.beat.name_extension(&id, &name);
        Ok(id)
    }

    /// The browser's form of a spec: its script kept by the driver.
    fn package(&self, spec: ExtensionSpec) -> Package {
        let parts = spec.into_parts();
        Package {
            manifest: parts.manifest,
            location: parts.location,
            path: parts.path,
            script: parts.script.map(|s| self.driver.add_script(Rc::new(s))),
            context_script: parts
                .context_script
                .map(|c| self.driver.add_context_script(Rc::new(ContextSource(c)))),
        }
    }

    /// Uninstalls an extension: its page closes (without `onSuspend`), its views close, its
    /// storage goes, and its uninstall URL, if it set one, opens in a new tab.
    pub fn uninstall(&mut self, id: &ExtensionId) -> Result<(), UninstallError> {
        self.act(|model| model.uninstall(id))
    }

    /// Starts the browser. A staged browser update ([`Browser::stage_browser_update`]) becomes
    /// its version, and extensions that listen to `onInstalled` get `chrome_update`. Updates
    /// that waited are installed, and so is one the browser finds as it starts. Extensions
    /// installed while it was stopped (and those loaded from the command line, every time) get
    /// `onInstalled` (`install`); the others get `onStartup`. Persistent pages load now; an
    /// event page loads for `onInstalled`, or for `onStartup` if it listened to it when it last
    /// ran.
    pub fn start(&mut self) {
        self.driver.inbox.set_shutting_down(false);
        self.act(|model| model.start_browser());
    }

    /// Stops the browser: every page closes without `onSuspend`, every view closes, every
    /// keepalive goes. Installed extensions, their storage, versions published on the update
    /// service and updates waiting to be installed stay for the next start.
    pub fn stop(&mut self) {
        if self.is_running() {
            self.driver.inbox.set_shutting_down(true);
        }
        self.act(|model| model.stop_browser());
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
        let package = self.package(spec);
        self.act(|model| model.publish(id, package));
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
        let update = Box::new(self.package(spec));
        self.driver.with_model(|model| {
            model.bus.post_at(
                at,
                Work::Publish {
                    ext: id.clone(),
                    update,
                },
            )
        });
        Ok(())
    }

    fn check_update(&self, id: &ExtensionId, spec: &ExtensionSpec) -> Result<(), PublishError> {
        let location = self
            .driver
            .read(|model| model.extensions.get(id).map(|r| r.location))
            .ok_or_else(|| PublishError::NotInstalled(id.to_string()))?;
        if location != Location::Packed {
            return Err(PublishError::NotPacked(id.to_string(), location.as_str()));
        }
        if spec.manifest().key().is_some() && spec.id() != *id {
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
        self.driver.read(|model| {
            model
                .ext(id)?
                .life
                .waiting_update()
                .map(|p| p.manifest.version().to_owned())
        })
    }

    /// Reloads an extension as the user does on the extensions page: a waiting update is
    /// installed; an unpacked extension is installed again, a packed one loaded again; a
    /// terminated one runs again. No fast-reload guard applies.
    pub fn reload_extension(&mut self, id: &ExtensionId) -> Result<(), BrowserError> {
        if !self.is_running() {
            return Err(BrowserError::NotRunning);
        }
        if self.act(|model| model.user_reload(id)) {
            Ok(())
        } else {
            Err(BrowserError::NotInstalled(id.to_string()))
        }
    }

    /// A browser update has been downloaded and needs a restart: every extension gets
    /// `runtime.onBrowserUpdateAvailable` (in kiosk mode also `onRestartRequired("os_update")`),
    /// and the browser runs `version` from its next start.
    pub fn stage_browser_update(&mut self, version: impl Into<String>) {
        let version = version.into();
        self.act(|model| model.stage_browser_update(version));
    }

    /// In kiosk mode, tells every extension that the device must restart
    /// (`runtime.onRestartRequired`), as ChromeOS does; the device restarts after 24 h unless
    /// an app restarts it first. Outside kiosk mode nothing happens.
    pub fn require_restart(&mut self, reason: OnRestartRequiredReason) {
        self.act(|model| model.require_restart(reason));
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
        self.driver.with_model(|model| {
            if model.ext(id).is_none() {
                return Err(BrowserError::NotInstalled(id.to_string()));
            }
            if !model.running {
                return Err(BrowserError::NotRunning);
            }
            let name = model.event_names.intern(name);
            let event = crate::model::names::EventName::Api(Arc::clone(&name));
            model.record(
                Some(id),
                Some(TraceContext::Browser),
                TraceEvent::EventFired { event },
            );
            model.bus.post(Work::Deliver {
                ext: id.clone(),
                event: RuntimeEvent::Named { name, args },
            });
            Ok(())
        })
    }

    /// Opens an extension view (as the user opening the popup, or a tab on an extension page).
    /// An open view keeps the event page alive.
    pub fn open_view(
        &mut self,
        id: &ExtensionId,
        kind: ViewKind,
        path: &str,
    ) -> Result<ViewId, BrowserError> {
        if !self.is_running() {
            return Err(BrowserError::NotRunning);
        }
        self.act(|model| model.open_view(id, kind, path))
            .ok_or_else(|| BrowserError::NotInstalled(id.to_string()))
    }

    /// Closes an extension view. Returns whether it was open.
    pub fn close_view(&mut self, id: &ExtensionId, view: ViewId) -> bool {
        self.act(|model| model.close_view(id, view))
    }

    /// The `runtime` of an open view, to call the API from it.
    pub fn view_runtime(&self, id: &ExtensionId, view: ViewId) -> Option<Runtime> {
        let context = ContextId::View {
            ext: id.clone(),
            view,
        };
        if !self.driver.read(|model| model.context_alive(&context)) {
            return None;
        }
        Runtime::of(&self.driver, &context)
    }

    /// Opens a tab showing `url` (as the user would). The content scripts whose
    /// `content_scripts.matches` match it start in its top frame.
    pub fn open_tab(&mut self, url: &str) -> Result<TabId, BrowserError> {
        if !self.is_running() {
            return Err(BrowserError::NotRunning);
        }
        Ok(self.act(|model| model.open_tab(url)))
    }

    /// Adds a child frame (an iframe) showing `url` to a frame of a tab. Content scripts with
    /// `all_frames` that match it start in it.
    pub fn open_frame(
        &mut self,
        tab: TabId,
        parent: FrameId,
        url: &str,
    ) -> Result<FrameId, BrowserError> {
        self.frame_exists(tab, parent)?;
        let frame = self.act(|model| {
            let frame = model.next_frame_id(tab)?;
            model.add_frame(tab, frame, Some(parent), url);
            Some(frame)
        });
        frame.ok_or(BrowserError::NoSuchTab(tab))
    }

    /// Navigates a tab's top frame to `url`: every frame of the old page goes (their content
    /// scripts' ports disconnect), and the content scripts matching the new page start.
    pub fn navigate(&mut self, tab: TabId, url: &str) -> Result<(), BrowserError> {
        let shows_extension_page = self.driver.read(|model| {
            model
                .tabs
                .get(&tab)
                .is_some_and(|t| t.extension_page.is_some())
        });
        if !shows_extension_page {
            self.frame_exists(tab, FrameId::TOP)?;
        }
        self.act(|model| model.navigate(tab, url));
        Ok(())
    }

    /// The tab an extension view of kind [`ViewKind::Tab`] is shown in, while it is open.
    /// Messages from the view have that tab as `sender.tab` (and `frameId` 0); closing the tab
    /// closes the view and the other way round; navigating the tab leaves the page.
    pub fn view_tab(&self, id: &ExtensionId, view: ViewId) -> Option<TabId> {
        self.driver.read(|model| model.view_tab(id, view))
    }

    /// Closes a tab. Returns whether it was open.
    pub fn close_tab(&mut self, tab: TabId) -> bool {
        self.act(|model| model.close_tab(tab))
    }

    /// The open tabs.
    pub fn tabs(&self) -> Vec<TabId> {
        self.driver
            .read(|model| model.tabs.keys().copied().collect())
    }

    /// Sets what a receiver that accepts TLS channel ids
    /// (`externally_connectable.accepts_tls_channel_id`) gets as `sender.tlsChannelId` for
    /// messages from this tab's pages.
    pub fn set_tls_channel_id(
        &mut self,
        tab: TabId,
        tls_channel_id: Option<String>,
    ) -> Result<(), BrowserError> {
        self.driver.with_model(|model| {
            let state = model
                .tabs
                .get_mut(&tab)
                .ok_or(BrowserError::NoSuchTab(tab))?;
            state.tls_channel_id = tls_channel_id;
            Ok(())
        })
    }

    /// The `runtime` of an extension's content script in a frame, if one runs there.
    pub fn content_script(&self, id: &ExtensionId, tab: TabId, frame: FrameId) -> Option<Runtime> {
        let context = self
            .driver
            .read(|model| model.content_script(id, tab, frame))?;
        Runtime::of(&self.driver, &context)
    }

    /// Starts a content script of an extension in a frame, whatever its manifest says (as
    /// `scripting.executeScript` would), and gives its `runtime`.
    pub fn inject_content_script(
        &mut self,
        id: &ExtensionId,
        tab: TabId,
        frame: FrameId,
    ) -> Result<Runtime, BrowserError> {
        if self.driver.read(|model| model.ext(id).is_none()) {
            return Err(BrowserError::NotInstalled(id.to_string()));
        }
        self.frame_exists(tab, frame)?;
        let context = self
            .act(|model| model.inject(id, tab, frame))
            .ok_or(BrowserError::NoSuchFrame { tab, frame })?;
        Runtime::of(&self.driver, &context).ok_or(BrowserError::NoSuchFrame { tab, frame })
    }

    /// The web page shown in a frame, to act as it.
    pub fn web_page(&self, tab: TabId, frame: FrameId) -> Option<WebPage> {
        let (context, url) = self.driver.read(|model| model.web_page(tab, frame))?;
        Some(WebPage {
            driver: Rc::downgrade(&self.driver),
            events: self.driver.events_of(&context),
            endpoint: context,
            url,
        })
    }

    fn frame_exists(&self, tab: TabId, frame: FrameId) -> Result<(), BrowserError> {
        self.driver.read(|model| {
            let state = model.tabs.get(&tab).ok_or(BrowserError::NoSuchTab(tab))?;
            if !state.frames.contains_key(&frame) {
                return Err(BrowserError::NoSuchFrame { tab, frame });
            }
            Ok(())
        })
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
        let opened = self.driver.with_model(|model| {
            if model.ext(id).is_none() {
                return Err(BrowserError::NotInstalled(id.to_string()));
            }
            if !model.running {
                return Err(BrowserError::NotRunning);
            }
            if model.config.platform.map(|p| p.os) != Some(PlatformOs::Cros) {
                return Err(BrowserError::NotChromeOs("runtime.onConnectNative"));
            }
            let app = model.ids.native_app();
            model.native_apps.insert(app);
            let context = ContextId::NativeApp {
                name: application.to_owned(),
                id: app,
            };
            let (channel, end) = model.open_channel(
                context.clone(),
                Target::FromNativeApp(id.clone()),
                ChannelKind::Port {
                    name: String::new(),
                },
                true,
            );
            Ok((context, channel, end))
        })?;
        let (context, channel, end) = opened;
        let events = self.driver.events_of(&context);
        let port = Port::new(
            Rc::downgrade(&self.driver),
            channel,
            end,
            String::new(),
            None,
            context,
            events,
        );
        self.driver.add_port(port.clone());
        self.driver.settle();
        Ok(port)
    }

    /// Holds a keepalive on an extension's background page until the returned guard is
    /// dropped (Chromium's `IncrementLazyKeepaliveCount`, as the browser's own features use it).
    pub fn keepalive(&mut self, id: &ExtensionId, label: &str) -> Result<Keepalive, BrowserError> {
        let keepalive = self.act(|model| {
            model.ext(id)?;
            Some(model.acquire(id, KeepaliveReason::External(label.to_owned()), None))
        });
        let keepalive = keepalive.ok_or_else(|| BrowserError::NotInstalled(id.to_string()))?;
        Ok(Keepalive::new(id.clone(), keepalive, &self.driver.inbox))
    }

    /// The state of an extension's background page (`None`: not installed, or no background).
    pub fn page_state(&self, id: &ExtensionId) -> Option<PageState> {
        self.driver.read(|model| model.ext(id)?.state())
    }

    /// An extension's keepalive count.
    pub fn keepalive_count(&self, id: &ExtensionId) -> u32 {
        self.driver.read(|model| {
            model
                .ext(id)
                .and_then(|r| r.lifecycle.as_ref().map(|l| l.keepalive()))
                .unwrap_or(0)
        })
    }

    /// What the browser knows of an installed extension.
    pub fn extension(&self, id: &ExtensionId) -> Option<ExtensionInfo> {
        self.driver.read(|model| {
            let rec = model.extensions.get(id)?;
            Some(ExtensionInfo {
                id: rec.id.clone(),
                name: rec.manifest.name().to_owned(),
                version: rec.manifest.version().to_owned(),
                location: rec.location,
                path: rec.path.clone(),
                page: rec.state(),
                page_loads: rec.loads,
                pending_update: rec
                    .life
                    .waiting_update()
                    .map(|p| p.manifest.version().to_owned()),
                terminated: !rec.life.is_running(),
            })
        })
    }

    /// The ids of the installed extensions (terminated ones included).
    pub fn extensions(&self) -> Vec<ExtensionId> {
        self.driver
            .read(|model| model.extensions.keys().cloned().collect())
    }

    /// What an extension has stored in `storage.local`.
    pub fn storage(&self, id: &ExtensionId) -> BTreeMap<String, Value> {
        self.storage_area(id, StorageArea::Local)
    }

    /// What one of an extension's storage areas holds now (`session` is empty while the
    /// browser is stopped; `managed` is the policy set with [`Browser::set_managed_storage`]).
    pub fn storage_area(&self, id: &ExtensionId, area: StorageArea) -> BTreeMap<String, Value> {
        self.driver.read(|model| model.stored(id, area))
    }

    /// Sets the policy of an extension's `storage.managed`, as an administrator would: it
    /// replaces the previous one, and a running extension gets `storage.managed.onChanged`
    /// and `storage.onChanged` for what changed. It may be set before the extension is
    /// installed, and outlives an uninstall.
    pub fn set_managed_storage(
        &mut self,
        id: &ExtensionId,
        policy: serde_json::Map<String, Value>,
    ) {
        self.act(|model| model.set_managed_storage(id, policy));
    }

    /// `storage.session`'s access level for an extension (`setAccessLevel`).
    pub fn session_access_level(&self, id: &ExtensionId) -> AccessLevel {
        self.driver.read(|model| model.session_access(id))
    }

    /// The URL set with `runtime.setUninstallURL`.
    pub fn uninstall_url(&self, id: &ExtensionId) -> Option<String> {
        self.driver
            .read(|model| model.ext(id)?.uninstall_url.clone())
    }

    /// A copy of the trace so far.
    pub fn trace(&self) -> Trace {
        self.driver.feed_trace_hook();
        self.driver.read(|model| model.trace.clone())
    }

    /// Reads the trace without copying it.
    pub fn with_trace<R>(&self, f: impl FnOnce(&Trace) -> R) -> R {
        self.driver.feed_trace_hook();
        self.driver.read(|model| f(&model.trace))
    }

    /// The `runtime` of an extension's loaded background page (its current load), to call
    /// the API from it or watch it in a test. `None` when the page is not loaded.
    pub fn background_runtime(&self, id: &ExtensionId) -> Option<Runtime> {
        let load = self.driver.read(|model| model.ext(id)?.loaded_load())?;
        let context = ContextId::Background {
            ext: id.clone(),
            load,
        };
        let events = self.driver.find_events(&context)?;
        Runtime::for_context(&self.driver, &context, events)
    }

    /// Runs everything due within the next `duration` of virtual time; the clock then reads
    /// `now + duration`. A span past the end of virtual time ([`SimInstant::MAX`]) runs to the
    /// end, and the trace warns ([`Browser::try_advance`] refuses it instead). However long the
    /// span, it costs what is scheduled in it, not its length.
    pub fn advance(&mut self, duration: Duration) {
        if let Err(beyond) = self.try_advance(duration) {
            self.warn_beyond(&beyond);
            self.run_to(SimInstant::MAX);
        }
    }

    /// [`Browser::advance`], or an error (and nothing run) when the span would take the clock
    /// past the end of virtual time.
    pub fn try_advance(&mut self, duration: Duration) -> Result<(), BeyondVirtualTime> {
        let from = self.now();
        let target = from.checked_add(duration).ok_or(BeyondVirtualTime {
            from,
            requested: duration,
        })?;
        self.run_to(target);
        Ok(())
    }

    /// Runs everything due up to `instant`; the clock then reads `instant` (or stays, if it is
    /// already later). An instant past the end of virtual time runs to the end, and the trace
    /// warns.
    pub fn advance_to(&mut self, instant: SimInstant) {
        if instant > SimInstant::MAX {
            let from = self.now();
            self.warn_beyond(&BeyondVirtualTime {
                from,
                requested: instant - from,
            });
        }
        self.run_to(instant.min(SimInstant::MAX));
    }

    fn warn_beyond(&self, beyond: &BeyondVirtualTime) {
        let message = format!("{beyond}: the clock runs to its end and stops there");
        self.driver.with_model(|model| {
            model.record(
                None,
                Some(TraceContext::Browser),
                TraceEvent::Warning { message },
            )
        });
    }

    /// One step of a run up to `target`: a local step, else news from a native host, else the
    /// next bus item due by `target` (the clock held while a host is awaited). Returns whether
    /// it did something.
    fn step_until(&mut self, target: SimInstant) -> bool {
        if self.driver.local_step() {
            return true;
        }
        match self.driver.read(|model| model.next_due()) {
            Some(at) if at <= target => {
                if self.driver.hold_clock(at) {
                    return true;
                }
                self.driver.bus_step(target)
            }
            _ => false,
        }
    }

    fn run_to(&mut self, target: SimInstant) {
        loop {
            if self.step_until(target) {
                continue;
            }
            // Nothing is due before `target` any more: the clock goes there, held for the
            // native hosts the browser waits for.
            if self.driver.hold_clock(target) {
                continue;
            }
            break;
        }
        self.driver
            .with_model(|model| model.bus.advance_to(target).ok());
    }

    /// Whether nothing is left to run now and nothing is scheduled but the browser's own
    /// recurring work (its periodic update check): [`Browser::run_until_idle`] would return at
    /// once.
    pub fn is_idle(&self) -> bool {
        !self.driver.has_local_work() && !self.driver.read(|m| m.work_scheduled())
    }

    /// When the next work is due on the virtual clock: now, if something is ready to run;
    /// else the next scheduled work (the browser's own recurring work included), if any.
    pub fn next_due(&self) -> Option<SimInstant> {
        if self.driver.has_local_work() {
            return Some(self.now());
        }
        self.driver.read(|m| m.next_due())
    }

    /// Runs until nothing is scheduled (every event page has unloaded, no timer is pending),
    /// and returns the virtual time then. A script with a timer that re-arms itself never lets
    /// the browser become idle: drive such a simulation with [`Browser::advance`].
    pub fn run_until_idle(&mut self) -> SimInstant {
        loop {
            if self.driver.read(|m| m.work_scheduled()) {
                if self.step_until(SimInstant::MAX) {
                    continue;
                }
            } else if self.driver.local_step() {
                continue;
            }
            if self.driver.awaits_hosts() && self.driver.wait_for_hosts(SimInstant::MAX) {
                continue;
            }
            break;
        }
        self.now()
    }

    /// Runs until `condition` holds, for at most `limit` of virtual time: `Ok` once it holds,
    /// else [`Stalled`], saying why. While a native host the browser waits for has not
    /// answered, the clock is held for it; when nothing is left to run but a host could still
    /// act, it waits for the host in real time (up to the answer limit).
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut condition: impl FnMut(&Browser) -> bool,
    ) -> Result<(), Stalled> {
        let from = self.now();
        let target = from.checked_add(limit).unwrap_or(SimInstant::MAX);
        loop {
            if condition(self) {
                return Ok(());
            }
            if self.step_until(target) {
                continue;
            }
            // Nothing is scheduled before the limit: only a native host can still act.
            if self.driver.wait_for_hosts(target) {
                continue;
            }
            self.driver
                .with_model(|model| model.bus.advance_to(target).ok());
            if condition(self) {
                return Ok(());
            }
            let scheduled = self.driver.read(|m| m.scheduled());
            return Err(Stalled {
                at: self.now(),
                reason: StallReason::TimeLimit {
                    limit: target - from,
                    scheduled,
                },
            });
        }
    }

    /// [`Browser::block_on`] for a call that can fail: its value, or why there is none — one
    /// `Result` to read, whether the simulation stalled or the call failed.
    ///
    /// ```
    /// use runtime_core::{Browser, BlockOnError, ExtensionSpec, FrameId, SendMessageError};
    /// use serde_json::json;
    ///
    /// let spec = ExtensionSpec::from_json(json!({
    ///     "name": "Quiet", "version": "1.0",
    ///     "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]
    /// }))
    /// .unwrap();
    /// let mut browser = Browser::builder().build();
    /// let id = browser.install(spec).unwrap();
    /// browser.start();
    /// let tab = browser.open_tab("https://example.com/").unwrap();
    /// let cs = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    /// // No background page listens: the browser's error, read in one step.
    /// assert_eq!(
    ///     browser.try_block_on(cs.send_message(&"hello")),
    ///     Err(BlockOnError::Failed(SendMessageError::NoReceiver))
    /// );
    /// ```
    pub fn try_block_on<T, E>(
        &mut self,
        future: impl Future<Output = Result<T, E>>,
    ) -> Result<T, BlockOnError<E>> {
        self.block_on(future)?.map_err(BlockOnError::Failed)
    }

    /// Runs the simulation until `future` completes, advancing virtual time as needed, and
    /// returns its output — for calling the API from a test. It gives up with [`Stalled`]
    /// when nothing is left to run, or after [`BrowserBuilder::block_on_limit`] of virtual
    /// time (one day by default).
    pub fn block_on<F: Future>(&mut self, future: F) -> Result<F::Output, Stalled> {
        // The future is a task like the scripts' ones, woken and polled in turn with them,
        // but it stays here on the stack: it is polled at once, then each time its turn comes.
        let task = self.driver.executor.foreign_task();
        let mut future = std::pin::pin!(Some(future));
        let mut turn = true;
        let from = self.now();
        let limit = self.driver.settings.block_on_limit;
        let end = from.checked_add(limit).unwrap_or(SimInstant::MAX);
        loop {
            if turn {
                turn = false;
                let polled = self.driver.poll_foreign(&task, future.as_mut());
                self.driver.watchdog_check();
                if let Some(value) = polled {
                    return Ok(value);
                }
            }
            match self.driver.local_step_for(Some(task.id())) {
                LocalStep::OwnTaskWoken => turn = true,
                LocalStep::Ran => {}
                LocalStep::Idle => {
                    let next = self
                        .driver
                        .read(|m| m.work_scheduled().then(|| m.next_due()).flatten());
                    match next {
                        Some(at) if at <= end => {
                            if !self.driver.hold_clock(at) {
                                self.driver.bus_step(end);
                            }
                            continue;
                        }
                        Some(_) => {
                            let scheduled = self.driver.read(|m| m.scheduled());
                            future.set(None);
                            self.driver
                                .with_model(|model| model.bus.advance_to(end).ok());
                            return Err(Stalled {
                                at: self.now(),
                                reason: StallReason::TimeLimit { limit, scheduled },
                            });
                        }
                        None => {}
                    }
                    // Nothing is scheduled: only a native host can still move the future.
                    if self.driver.wait_for_hosts(end) {
                        continue;
                    }
                    future.set(None);
                    return Err(Stalled {
                        at: self.now(),
                        reason: StallReason::NothingLeft,
                    });
                }
            }
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Drop every script's pending work, listeners and ports now, while the browser still
        // exists.
        {
            let _section = self.driver.watched_step(StepKind::Dropping);
            self.driver.clear();
        }
        // End the native hosts' runtime here, on the driving thread: its tasks are dropped and
        // every host process is killed and reaped.
        let runtime = self.driver.native.borrow_mut().take();
        drop(runtime);
        watchdog::unwatch(&self.driver.beat);
    }
}
