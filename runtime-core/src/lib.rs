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
//! - [`Browser`] is one profile, built by [`BrowserBuilder`]. It holds the extensions, one
//!   [`runtime_events::Bus`] (the virtual clock and the ordered queue of everything due) and
//!   the [`Trace`].
//! - An extension is an [`ExtensionSpec`]: a [`Manifest`] (from a folder on disk or JSON in
//!   code), its location, and a [`BackgroundScript`] — a Rust trait object whose `run` is the
//!   page's top-level code, called at every load with that load's [`Runtime`].
//! - The lifecycle of a background page is one state machine, [`lifecycle::Lifecycle`], with
//!   one transition function; the browser carries out the effects it asks for.
//! - Contexts: the background page, extension views, content scripts in tabs' frames, web
//!   pages and native applications. Messages go between them on message channels
//!   (`channel.rs`): a one-time message (`sendMessage`) and a [`Port`] (`connect`) are both a
//!   channel from an opener to the receiving contexts that have a listener, as in Chromium's
//!   message service.
//! - Every lifecycle transition, event dispatch, keepalive change and API call is a
//!   [`TraceEntry`], also emitted as a `tracing` event (target `runtime_sim::trace`), so
//!   `RUST_LOG=runtime_sim=info` shows the timeline.
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
//! machine: the [`BackgroundModel`] of each extension, the timers, and a [`KeepaliveRule`] per
//! keepalive reason feed the one [`lifecycle::Lifecycle`].
//!
//! # Time
//! Nothing in the simulation reads wall time: every timer — the idle delay, the suspending
//! window, script timers ([`Runtime::sleep`]), API latencies — is an item on the bus, due at a
//! virtual instant. The browser moves only when driven ([`Browser::advance`],
//! [`Browser::run_until_idle`], [`Browser::run_until`], [`Browser::block_on`]), and one step does
//! one thing in a fixed order (a deferred step, else a woken task, else the next bus item), so
//! the same inputs give a byte-identical trace.
//!
//! ## Real time beside virtual time
//! Native messaging hosts are real processes and run in real time, on a Tokio runtime the
//! browser starts on first use. They join the simulation without changing the clock: a host's
//! task hands what it reads to the engine's thread-safe inbox (the same way a dropped
//! [`Keepalive`] is released), and the simulation observes it at the virtual time of the step
//! that takes it. While a host is running, the driver, when nothing is due at the current
//! virtual instant, waits in real time (at most [`BrowserBuilder::real_time_settle`], 100 ms by
//! default) for the inbox before it moves the virtual clock; [`Browser::block_on`] waits for
//! hosts when nothing else can move its future. Simulations with no host never wait, and stay
//! byte-for-byte deterministic; with hosts, when a host's message is observed depends on the
//! host.
//!
//! ## The watchdog
//! Listeners and task polls run on the driving thread, so one that blocks it (a
//! `std::thread::sleep`, a blocking receive) would hang the run. A watchdog thread, shared by
//! every browser of the process, notices a single dispatch to listeners or task poll that has run for
//! longer than [`BrowserBuilder::watchdog`] (30 s by default), reports what is blocked and ends
//! the process with [`WATCHDOG_EXIT_CODE`] (or only reports: [`WatchdogAction::Report`]). It is
//! the only part that reads wall time, and the driving thread only publishes what it runs with
//! relaxed atomic stores; see `watchdog.rs`.

mod browser;
mod channel;
mod context;
mod engine;
mod error;
mod events;
mod executor;
mod extension;
mod extension_id;
mod holders;
mod keepalive;
mod kiosk;
mod last_error;
mod lazy_listeners;
pub mod lifecycle;
mod manifest;
mod manifest_text;
mod match_pattern;
mod message;
mod messaging;
mod native;
mod on_message;
mod platform;
mod port;
mod profile;
mod reload;
mod rng;
mod runtime;
mod script;
mod sim;
mod startup;
mod trace;
mod update;
mod version;
mod watchdog;
mod web_page;

pub use browser::{
    Browser, BrowserBuilder, BrowserError, ExtensionInfo, Stalled, ViewId, DEFAULT_BROWSER_VERSION,
};
pub use context::{FrameId, TabId};
pub use error::{
    ConnectError, ConnectNativeError, ContextError, GetBackgroundPageError, GetPlatformInfoError,
    InstallError, NotAvailable, OpenOptionsPageError, PostMessageError, PublishError,
    RequestUpdateCheckError, RestartAfterDelayError, RestartError, SendMessageError,
    SendNativeMessageError, SetUninstallUrlError, UninstallError,
};
pub use events::{OnInstalledDetails, OnInstalledReason};
pub use extension::{ExtensionSpec, Location, ManifestInput, ViewKind};
pub use extension_id::{ExtensionId, KeyError};
pub use keepalive::{Keepalive, KeepaliveReason};
pub use kiosk::{OnRestartRequiredReason, FORCED_RESTART_GRACE, MIN_DURATION_BETWEEN_RESTARTS};
pub use last_error::LastError;
pub use lifecycle::PageState;
pub use manifest::{
    Background, BackgroundKind, ContentScript, ExternallyConnectable, Manifest, ManifestError,
};
pub use match_pattern::{MatchPattern, MatchPatternError};
pub use message::{MessageError, MessageSender, Tab, MAX_MESSAGE_SIZE};
pub use on_message::{OnMessage, OnMessageEvent, SendResponse};
pub use platform::{PlatformArch, PlatformInfo, PlatformNaclArch, PlatformOs};
pub use port::Port;
pub use profile::{
    BackgroundModel, KeepaliveRule, Profile, UnknownProfile, FIREFOX_MAX_IDLE, FIREFOX_MIN_IDLE,
    SERVICE_WORKER_REQUEST_TIMEOUT,
};
pub use reload::{
    FAST_RELOAD_COUNT, FAST_RELOAD_TIME, UNPACKED_FAST_RELOAD_COUNT, UNPACKED_FAST_RELOAD_TIME,
};
pub use runtime::{
    BackgroundPage, PackageDirectory, Runtime, Sleep, Storage, MAX_UNINSTALL_URL_LENGTH,
};
pub use script::{script_fn, BackgroundScript, ScriptError, ScriptFn};
pub use trace::{Context, Trace, TraceEntry, TraceEvent};
pub use update::{
    RequestUpdateCheckStatus, UpdateCheckResult, UpdateDetails, DEFAULT_UPDATE_FREQUENCY,
    MAX_PENDING_UPDATE_CHECKS,
};
pub use watchdog::{WatchdogAction, DEFAULT_WATCHDOG_LIMIT, WATCHDOG_ENV, WATCHDOG_EXIT_CODE};
pub use web_page::WebPage;

pub use runtime_events::{Event, ListenerError, ListenerId, SimInstant};
