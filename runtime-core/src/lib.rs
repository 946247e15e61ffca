//! The simulated browser of `runtime-sim`: extensions, their background pages living and dying
//! on a virtual clock exactly as Chromium's event pages do, and the `runtime` API handed to
//! background scripts written in Rust.
//!
//! ```
//! use runtime_core::{Browser, ExtensionSpec, PageState, script_fn};
//! use serde_json::json;
//! use std::time::Duration;
//!
//! let spec = ExtensionSpec::from_json(json!({
//!     "name": "Hello", "version": "1.0",
//!     "background": {"scripts": ["background.js"], "persistent": false}
//! }))
//! .unwrap()
//! .script(script_fn(|rt| async move {
//!     // Registered at the top level: in place for the event that wakes the page.
//!     rt.event("alarms.onAlarm").add_listener(|alarm| println!("alarm {alarm}"));
//!     rt.on_suspend().add_listener(|()| println!("about to be unloaded"));
//!     Ok(())
//! }));
//!
//! let mut browser = Browser::builder().build();
//! let id = browser.install(spec).unwrap();
//! browser.start(); // onInstalled loads the page
//! browser.advance(Duration::from_secs(1));
//! assert_eq!(browser.page_state(&id), Some(PageState::Active));
//!
//! browser.advance(Duration::from_secs(20)); // idle 10 s, onSuspend, 5 s window, unloaded
//! assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
//!
//! browser.fire_event(&id, "alarms.onAlarm", json!({"name": "tick"})).unwrap();
//! browser.advance(Duration::ZERO); // the alarm wakes the page
//! assert_eq!(browser.page_state(&id), Some(PageState::Active));
//! print!("{}", browser.trace().timeline());
//! ```
//!
//! # How it fits together
//! The browser is two layers, each a folder:
//! - **The model** (`model/`): the browser's state and rules as plain data, with no I/O, no
//!   lock, no thread, and no extension code run. Typed ids ([`TabId`], [`ViewId`],
//!   [`ChannelId`], …) and typed names ([`EventName`], [`ApiFunction`]); a browser's rules as
//!   data ([`Profile`]); two state machines that alone decide — the page lifecycle (a
//!   background page's states, and where work for a page goes: run now, cancel a suspend
//!   first, or queue it and load the page) and the extension lifecycle (installed, an update
//!   waiting, terminated). It takes typed commands and bus items, and leaves typed actions
//!   (run a script, dispatch an event, open a channel, …) for the driver; everything pending
//!   is data that prints. Its modules import each other without cycles.
//! - **The driver** (`driver/`): [`Browser`] = the model + a local executor + one inbox. It
//!   runs extension code — background scripts ([`BackgroundScript`], given the page's
//!   [`Runtime`]), listeners, their futures — on the thread that drives it, so none of it need
//!   be `Send`: a script may keep its state in an `Rc<RefCell<…>>`. The inbox is the only part
//!   other threads reach (native hosts' tasks, a [`Keepalive`] dropped anywhere, wakers). One
//!   function calls listeners, for every event, message, new port, port message and
//!   disconnect, with one place for their trace entries, keepalives and the explanation of a
//!   missed or late listener.
//!
//! An extension is an [`ExtensionSpec`]: a [`Manifest`] (from a folder on disk or JSON in
//! code), its location, and its background script. Contexts are the background page,
//! extension views, content scripts in tabs' frames, web pages and native applications.
//! Messages go between them on message channels: a one-time message (`sendMessage`) and a
//! [`Port`] (`connect`) are both a channel from an opener to the receiving contexts that have a
//! listener, as in Chromium's message service. Every lifecycle transition, event dispatch,
//! keepalive change and API call is a [`TraceEntry`], also emitted as a `tracing` event (target
//! `runtime_sim::trace`), so `RUST_LOG=runtime_sim=info` shows the timeline.
//!
//! # Updates, reloads and restarts
//! [`Browser::publish_update`] puts a new version of a packed extension on the simulated
//! update service. The browser finds it as Chromium does: once as it starts (installed at
//! once), on its periodic check ([`BrowserBuilder::update_check_period`], 5 h ± 20 %), or
//! through [`Runtime::request_update_check`] with Chromium's backoff (every completed check
//! throttles the next 4.5–5 h). The install gate installs an update at once, or keeps it
//! waiting (`onUpdateAvailable`) while the event page is loaded or a view is open, or while a
//! persistent page listens to `onUpdateAvailable`. [`Runtime::reload`] installs a waiting
//! update and has the fast-reload guard. A staged browser update
//! ([`Browser::stage_browser_update`]) gives `chrome_update` at the next start. In kiosk mode
//! ([`BrowserBuilder::kiosk`]), [`Runtime::restart_after_delay`] and `onRestartRequired`
//! restart the device: the browser stops and starts again at the same virtual instant. The
//! jitter comes from the simulation's seeded random source ([`BrowserBuilder::seed`]).
//!
//! # Profiles
//! [`BrowserBuilder::profile`] chooses the browser ([`Profile`]): Chrome event pages,
//! Chrome MV3 service workers or Firefox event pages. A profile is data, not another state
//! machine: the [`BackgroundModel`] of each extension, the [`Timers`], and a [`KeepaliveRule`]
//! per keepalive reason feed the one page lifecycle.
//!
//! # Time
//! Nothing in the simulation reads wall time: every timer — the idle delay, the suspending
//! window, script timers ([`Runtime::sleep`]), API latencies — is an item on the bus, due at a
//! virtual instant. The browser moves only when driven ([`Browser::advance`],
//! [`Browser::run_until_idle`], [`Browser::run_until`], [`Browser::block_on`]), and one step does
//! one thing in a fixed order (an action the model left, else a woken task, else the next bus
//! item), so the same inputs give a byte-identical trace.
//!
//! ## Real time beside virtual time
//! Native messaging hosts are real processes and run in real time, on a Tokio runtime the
//! browser starts on first use. They join the simulation without changing the clock: a host's
//! task hands what it reads to the browser's thread-safe inbox (the same way a dropped
//! [`Keepalive`] is released), and the simulation observes it at the virtual time of the step
//! that takes it. While a host has not answered what it was sent (a message on its port, a
//! `sendNativeMessage` request), or is ending, virtual time does not run ahead of the real
//! time that has passed since: a host that takes a second to start answers about a second
//! later on the virtual clock too, however the browser is driven, and its reply is never lost.
//! A host just started is waited for up to 250 ms, for what it does by itself at start.
//! Hosts with nothing outstanding do not slow the simulation. Past
//! [`BrowserBuilder::native_answer_limit`] (5 s of real time) the browser stops waiting for a
//! host, and the trace says so. Simulations with no host never wait, and stay byte-for-byte
//! deterministic; with hosts, when a host's message is observed depends on the host.
//!
//! ## The watchdog
//! Listeners and task polls run on the driving thread, so one that blocks it (a
//! `std::thread::sleep`, a blocking receive) would hang the run. A watchdog thread, shared by
//! every browser of the process, notices a single dispatch to listeners or task poll that has
//! run for longer than [`BrowserBuilder::watchdog`] (30 s by default) and reports what is
//! blocked; when the blocked code returns, the driving thread panics with that report, so the
//! test that blocked fails and the others run on ([`WatchdogAction::Report`] only reports). A
//! library never ends the process; a program that must (the `runtime-sim` command) does it in
//! its hook, [`BrowserBuilder::on_watchdog`]. The watchdog is the only part that reads wall
//! time; see `driver/watchdog.rs`.

mod driver;
mod model;

pub use driver::browser::{
    BeyondVirtualTime, BlockOnError, Browser, BrowserError, ExtensionInfo, StallReason, Stalled,
};
pub use driver::builder::{
    BrowserBuilder, DEFAULT_BLOCK_ON_LIMIT, DEFAULT_BROWSER_VERSION, DEFAULT_NATIVE_ANSWER_LIMIT,
};
pub use driver::keepalive::Keepalive;
pub use driver::last_error::LastError;
pub use driver::on_message::{OnMessage, OnMessageEvent, SendResponse};
pub use driver::port::Port;
pub use driver::runtime::{
    AlarmInfo, Alarms, AlarmsError, Runtime, Sleep, Storage, Tabs, TabsError,
    MAX_UNINSTALL_URL_LENGTH,
};
pub use driver::script::{
    context_script_fn, script_fn, BackgroundScript, ContextScript, ContextScriptFn, ScriptError,
    ScriptFn,
};
pub use driver::spec::{ExtensionSpec, ManifestInput};
pub use driver::watchdog::{
    WatchdogAction, WatchdogHook, WatchdogReport, DEFAULT_WATCHDOG_LIMIT, WATCHDOG_ENV,
};
pub use driver::web_page::WebPage;
/// Chromium's shortest alarm delays and periods.
pub use model::alarm::{MV2_ALARM_MINIMUM, MV3_ALARM_MINIMUM, UNPACKED_ALARM_MINIMUM};
pub use model::calls::{BackgroundPage, PackageDirectory};
pub use model::contexts::{ScriptPlace, ViewKind};
pub use model::error::{
    ConnectError, ConnectNativeError, ContextError, ContextInvalidated, GetBackgroundPageError,
    GetPlatformInfoError, InstallError, NotAvailable, OpenOptionsPageError, PostMessageError,
    PublishError, RequestUpdateCheckError, RestartAfterDelayError, RestartError, SendMessageError,
    SendNativeMessageError, SetUninstallUrlError, StorageError, UninstallError,
};
pub use model::event::{OnInstalledDetails, OnInstalledReason, OnRestartRequiredReason};
pub use model::extension_id::{ExtensionId, KeyError};
pub use model::ids::{ChannelId, FrameId, TabId, ViewId};
pub use model::keepalive::KeepaliveReason;
pub use model::kiosk::{FORCED_RESTART_GRACE, MIN_DURATION_BETWEEN_RESTARTS};
pub use model::manifest::{
    Background, BackgroundKind, ContentScript, ExternallyConnectable, Manifest, ManifestError,
};
pub use model::match_pattern::{MatchPattern, MatchPatternError};
pub use model::message::{MessageError, MessageSender, Tab, MAX_MESSAGE_SIZE};
pub use model::names::{ApiFunction, EventName, RuntimeEventName, UnknownApiFunction};
pub use model::package::Location;
pub use model::page_lifecycle::PageState;
pub use model::platform::{PlatformArch, PlatformInfo, PlatformNaclArch, PlatformOs};
pub use model::profile::{
    BackgroundModel, KeepaliveRule, Profile, Timers, UnknownProfile, FIREFOX_MAX_IDLE,
    FIREFOX_MIN_IDLE, SERVICE_WORKER_REQUEST_TIMEOUT,
};
pub use model::reload_guard::{
    FAST_RELOAD_COUNT, FAST_RELOAD_TIME, UNPACKED_FAST_RELOAD_COUNT, UNPACKED_FAST_RELOAD_TIME,
};
/// `chrome.storage`'s areas, access levels and Chromium's quotas.
pub use model::storage_area::{
    AccessLevel, StorageArea, UnknownAccessLevel, UnknownStorageArea, LOCAL_QUOTA_BYTES,
    SESSION_QUOTA_BYTES, SYNC_MAX_ITEMS, SYNC_MAX_SUSTAINED_WRITE_OPERATIONS_PER_MINUTE,
    SYNC_MAX_WRITE_OPERATIONS_PER_HOUR, SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE, SYNC_QUOTA_BYTES,
    SYNC_QUOTA_BYTES_PER_ITEM,
};
pub use model::tab::{TabCreate, TabQuery, WINDOW_ID_CURRENT};
pub use model::trace::Trace;
pub use model::trace_entry::{ConsoleLevel, TraceContext, TraceEntry, TraceEvent};
pub use model::trace_pack::TraceEntries;
pub use model::update_service::{
    RequestUpdateCheckStatus, UpdateCheckResult, UpdateDetails, DEFAULT_UPDATE_FREQUENCY,
    MAX_PENDING_UPDATE_CHECKS,
};

pub use runtime_events::{Event, ListenerError, ListenerId, ListenerOutcome, SimInstant};
