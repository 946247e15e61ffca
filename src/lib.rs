//! `runtime-sim`: a deterministic simulator of the browser-extension runtime
//! (`chrome.runtime`).
//!
//! It simulates a browser faithfully enough to unit-test extension logic, script whole
//! lifecycle scenarios, and see how event pages really live and die — on a virtual clock that
//! tests control, with a trace of everything that happened.
//!
//! ```
//! use runtime_sim::{Browser, ExtensionSpec, PageState, script_fn};
//! use serde_json::json;
//! use std::time::Duration;
//!
//! let mut browser = Browser::builder().build();
//! let id = browser
//!     .install(
//!         ExtensionSpec::from_json(json!({
//!             "name": "Counter", "version": "1.0",
//!             "background": {"scripts": ["bg.js"], "persistent": false}
//!         }))
//!         .unwrap()
//!         .script(script_fn(|rt| async move {
//!             let storage = rt.storage();
//!             rt.on_installed().add_async_listener(move |_details| {
//!                 let storage = storage.clone();
//!                 async move { storage.set("installed", json!(true)).await }
//!             });
//!             Ok(())
//!         })),
//!     )
//!     .unwrap();
//! browser.start();
//! browser.run_until_idle();
//! // The page woke for onInstalled, stored a value, idled 10 s, got onSuspend, and was
//! // unloaded 5 s later: 15 s of virtual time, no wall time.
//! assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
//! assert_eq!(browser.now().since_start(), Duration::from_secs(15));
//! assert_eq!(browser.storage(&id)["installed"], json!(true));
//! ```
//!
//! # Crates
//! - [`runtime_core`] (its items re-exported here, each by name): the simulated browser — a
//!   model of the browser's state and rules, and the driver that runs extension code.
//! - [`runtime_events`] (its `Event`, `SimInstant` and listener types re-exported here): the
//!   event bus and `chrome.events`-style events.
//! - [`runtime_native`] (re-exported as [`native`]): native messaging.
//!
//! # Scenarios
//! `scenario` (feature `cli`, on by default): a whole lifecycle described in a JSON file —
//! settings, extensions with declared background code, a timeline of steps, expectations — run
//! by `runtime-sim run`.
//!
//! # Features
//! - `cli` (default): the `runtime-sim` command and [`scenario`](mod@crate::scenario), with
//!   their own crates (clap, tracing-subscriber, schemars, humantime, tempfile, anstream, …).
//!   A library user turns it off — `runtime-sim = { version = "0.1", default-features = false }`
//!   — and compiles only the three crates below.

#[cfg(feature = "cli")]
pub mod scenario;

/// The simulated browser (runtime-core's items, each by its name).
pub use runtime_core::{
    context_script_fn, script_fn, ApiFunction, Background, BackgroundKind, BackgroundModel,
    BackgroundPage, BackgroundScript, BeyondVirtualTime, BlockOnError, Browser, BrowserBuilder,
    BrowserError, ChannelId, ConnectError, ConnectNativeError, ContentScript, ContextError,
    ContextInvalidated, ContextScript, ContextScriptFn, Event, EventName, ExtensionId,
    ExtensionInfo, ExtensionSpec, ExternallyConnectable, FrameId, GetBackgroundPageError,
    GetPlatformInfoError, InstallError, Keepalive, KeepaliveReason, KeepaliveRule, KeyError,
    LastError, ListenerError, ListenerId, ListenerOutcome, Location, Manifest, ManifestError,
    ManifestInput, MatchPattern, MatchPatternError, MessageError, MessageSender, NotAvailable,
    OnInstalledDetails, OnInstalledReason, OnMessage, OnMessageEvent, OnRestartRequiredReason,
    OpenOptionsPageError, PackageDirectory, PageState, PlatformArch, PlatformInfo,
    PlatformNaclArch, PlatformOs, Port, PostMessageError, Profile, PublishError,
    RequestUpdateCheckError, RequestUpdateCheckStatus, RestartAfterDelayError, RestartError,
    Runtime, RuntimeEventName, ScriptError, ScriptFn, ScriptPlace, SendMessageError,
    SendNativeMessageError, SendResponse, SetUninstallUrlError, SimInstant, Sleep, StallReason,
    Stalled, Storage, Tab, TabCreate, TabId, TabQuery, Tabs, TabsError, Timers, Trace,
    TraceContext, TraceEntry, TraceEvent, UninstallError, UnknownApiFunction, UnknownProfile,
    UpdateCheckResult, UpdateDetails, ViewId, ViewKind, WatchdogAction, WatchdogHook,
    WatchdogReport, WebPage, DEFAULT_BLOCK_ON_LIMIT, DEFAULT_BROWSER_VERSION,
    DEFAULT_NATIVE_ANSWER_LIMIT, DEFAULT_UPDATE_FREQUENCY, DEFAULT_WATCHDOG_LIMIT,
    FAST_RELOAD_COUNT, FAST_RELOAD_TIME, FIREFOX_MAX_IDLE, FIREFOX_MIN_IDLE, FORCED_RESTART_GRACE,
    MAX_MESSAGE_SIZE, MAX_PENDING_UPDATE_CHECKS, MAX_UNINSTALL_URL_LENGTH,
    MIN_DURATION_BETWEEN_RESTARTS, SERVICE_WORKER_REQUEST_TIMEOUT, UNPACKED_FAST_RELOAD_COUNT,
    UNPACKED_FAST_RELOAD_TIME, WATCHDOG_ENV, WINDOW_ID_CURRENT,
};
/// Native messaging: host manifests, the wire protocol, host processes, a library for hosts.
pub use runtime_native as native;

/// The README's code, compiled and run as a doctest so that it stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
