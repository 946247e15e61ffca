//! One entry of the trace: when, which extension, where in it, and what happened.

use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, LazyLock};

use runtime_events::SimInstant;
use serde::Serialize;
use serde_json::Value;

use crate::model::contexts::ViewKind;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{ChannelId, FrameId, TabId, ViewId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::names::{ApiFunction, EventName};
use crate::model::package::Location;
use crate::model::page_lifecycle::PageState;

/// Where, inside an extension, something happened.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum TraceContext {
    /// The extension's background page.
    Background,
    /// An extension view (popup, options page, a tab showing an extension page).
    View {
        /// The view's id.
        id: ViewId,
        /// What kind of view.
        kind: ViewKind,
    },
    /// A content script of the extension in a tab's frame (or, with no extension, the web page
    /// shown there).
    ContentScript {
        /// The tab.
        tab: TabId,
        /// The frame (0: the top frame).
        frame: FrameId,
    },
    /// The web page shown in a tab's frame.
    WebPage {
        /// The tab.
        tab: TabId,
        /// The frame (0: the top frame).
        frame: FrameId,
    },
    /// A native messaging host.
    NativeHost {
        /// The host's name.
        name: String,
    },
    /// The browser itself, acting on the extension (installing it, a test's keepalive, …).
    Browser,
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceContext::Background => f.write_str("background"),
            TraceContext::View { id, kind } => write!(f, "{}#{id}", kind.as_str()),
            TraceContext::ContentScript { tab, frame } => write!(f, "cs:tab{tab}/{frame}"),
            TraceContext::WebPage { tab, frame } => write!(f, "page:tab{tab}/{frame}"),
            TraceContext::NativeHost { name } => write!(f, "host:{name}"),
            TraceContext::Browser => f.write_str("browser"),
        }
    }
}

/// The level of a console message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleLevel {
    /// `console.log`.
    Log,
    /// `console.info`.
    Info,
    /// `console.warn`.
    Warn,
    /// `console.error`.
    Error,
    /// `console.debug`.
    Debug,
}

impl ConsoleLevel {
    /// The method's name: `log`, `info`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ConsoleLevel::Log => "log",
            ConsoleLevel::Info => "info",
            ConsoleLevel::Warn => "warn",
            ConsoleLevel::Error => "error",
            ConsoleLevel::Debug => "debug",
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
#[non_exhaustive]
pub enum TraceEvent {
    /// The browser (the profile) started.
    BrowserStarted {
        /// The browser's version.
        version: String,
    },
    /// The browser stopped.
    BrowserStopped,
    /// An extension was installed.
    Installed {
        /// `name` from the manifest.
        name: String,
        /// `version` from the manifest.
        version: String,
        /// How it was installed.
        location: Location,
    },
    /// An extension was uninstalled.
    Uninstalled,
    /// The uninstall URL was opened in a new tab.
    UninstallUrlOpened {
        /// The URL.
        url: String,
    },
    /// The background page changed state.
    Lifecycle {
        /// Before.
        from: PageState,
        /// After.
        to: PageState,
        /// Why, in words.
        note: &'static str,
    },
    /// The keepalive count changed.
    Keepalive {
        /// The count after the change.
        count: u32,
        /// `+1` or `-1`.
        change: i8,
        /// What holds or released it. It is rendered (in the timeline and in JSON) as its
        /// [`Display`](fmt::Display) text, e.g. `message channel #3 open`.
        reason: KeepaliveReason,
    },
    /// A lifecycle timer started.
    TimerStarted {
        /// `idle` or `close`.
        timer: &'static str,
        /// When it fires, in milliseconds of virtual time.
        fires_at_ms: u64,
    },
    /// An event was queued because the page is not loaded (yet).
    EventQueued {
        /// The event.
        event: EventName,
    },
    /// An event was dispatched to the page's listeners.
    EventDispatched {
        /// The event.
        event: EventName,
        /// How many listeners it reached.
        listeners: usize,
        /// Its arguments (shared with the listeners' copy of a message, not copied for the
        /// trace).
        #[serde(skip_serializing_if = "is_null")]
        args: Arc<Value>,
    },
    /// An event reached no listener.
    EventMissed {
        /// The event.
        event: EventName,
        /// Why, in a learner's words.
        explanation: String,
    },
    /// An event was not delivered at all.
    EventNotDelivered {
        /// The event.
        event: EventName,
        /// Why.
        reason: String,
    },
    /// A listener was registered after the event it is for was missed.
    LateListener {
        /// The event.
        event: EventName,
        /// What went wrong and how to fix it.
        explanation: String,
        /// Where the listener was added (`file:line:column`), when the script's engine says.
        #[serde(skip_serializing_if = "Option::is_none")]
        added_at: Option<String>,
    },
    /// A listener panicked or returned an error. The bus and the other listeners went on.
    ListenerFailed {
        /// The event being dispatched.
        event: EventName,
        /// `panicked` or `errored`.
        failure: &'static str,
        /// The message.
        message: String,
    },
    /// Asynchronous work of the page (an async listener, a spawned task) failed.
    TaskFailed {
        /// What the task was.
        task: String,
        /// The message.
        message: String,
    },
    /// The background script's top-level code ran.
    ScriptLoaded,
    /// The background script's top-level code failed.
    ScriptFailed {
        /// The message.
        message: String,
    },
    /// A runtime API was called.
    ApiCall {
        /// The API, e.g. `runtime.getPlatformInfo`.
        api: ApiFunction,
    },
    /// A runtime API call finished.
    ApiResult {
        /// The API.
        api: ApiFunction,
        /// Whether it succeeded.
        ok: bool,
        /// The result, or the error message.
        result: Value,
    },
    /// An extension view was opened.
    ViewOpened {
        /// The view's URL.
        url: String,
    },
    /// An extension view was focused instead of opened again.
    ViewFocused {
        /// The view's URL.
        url: String,
    },
    /// An extension view was closed.
    ViewClosed,
    /// A named event of another API (e.g. `alarms.onAlarm`) was fired at the extension.
    EventFired {
        /// The event.
        event: EventName,
    },
    /// A message channel was opened: a one-time message was sent, or a port connected.
    ChannelOpened {
        /// The channel's id.
        channel: ChannelId,
        /// `message` or `port`.
        channel_kind: &'static str,
        /// Where it goes (`own extension`, `extension <id>`, `tab 3`, `native host <name>`).
        to: Cow<'static, str>,
        /// The port's name.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The one-time message (shared with the channel, not copied for the trace).
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<Arc<Value>>,
    },
    /// A message channel closed.
    ChannelClosed {
        /// The channel's id.
        channel: ChannelId,
        /// The error the opener got, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// A receiver answered a one-time message (the first answer; later ones are not recorded).
    Responded {
        /// The channel's id.
        channel: ChannelId,
        /// Whether it is a response (or the error of a rejected promise).
        ok: bool,
        /// The response, or the error message.
        response: Value,
    },
    /// A message was posted on a port.
    PortPosted {
        /// The channel's id.
        channel: ChannelId,
        /// The message (shared with its delivery, not copied for the trace).
        message: Arc<Value>,
    },
    /// A callback or `onDisconnect` listener did not read `runtime.lastError`.
    UncheckedLastError {
        /// The error's message.
        message: String,
    },
    /// A tab was opened.
    TabOpened {
        /// Its URL.
        url: String,
    },
    /// A tab's top frame navigated to a new page.
    TabNavigated {
        /// The new URL.
        url: String,
    },
    /// A tab was closed.
    TabClosed,
    /// A child frame was added to a tab.
    FrameOpened {
        /// Its URL.
        url: String,
    },
    /// A frame went away (its tab closed or navigated).
    FrameClosed,
    /// A content script started in a frame.
    ContentScriptStarted,
    /// A native host wrote a line to its stderr.
    NativeStderr {
        /// The host's name.
        host: String,
        /// The line.
        line: String,
    },
    /// A native host's process ended.
    NativeHostEnded {
        /// The host's name.
        host: String,
        /// How it ended (exit code or signal, and whether the browser had to kill it).
        exit: String,
    },
    /// A native host wrote a frame that is not JSON; on a port it is dropped.
    NativeMessageIgnored {
        /// The channel's id.
        channel: ChannelId,
        /// The browser's console message.
        reason: String,
    },
    /// A new version of the extension was published on the update service.
    UpdatePublished {
        /// The new version.
        version: String,
    },
    /// The browser checked for an update of the extension.
    UpdateChecked {
        /// `startup`, `periodic` or `requestUpdateCheck`.
        trigger: &'static str,
        /// The newer version it found, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        found: Option<String>,
    },
    /// A found update waits to be installed (`runtime.onUpdateAvailable` is dispatched).
    UpdateDelayed {
        /// The waiting version.
        version: String,
        /// Why it waits, and until when.
        reason: String,
    },
    /// A new version was installed.
    Updated {
        /// The version before.
        from: String,
        /// The version now.
        to: String,
    },
    /// The extension was reloaded.
    Reloaded {
        /// Whether it was installed again from its folder (unpacked), rather than just loaded
        /// again (packed).
        reinstalled: bool,
    },
    /// The extension was terminated: it stays installed but does not run until the user
    /// reloads it.
    Terminated {
        /// Why.
        reason: String,
    },
    /// A script wrote to the console (`console.log` and its siblings).
    Console {
        /// `log`, `info`, `warn`, `error` or `debug`.
        level: ConsoleLevel,
        /// What it wrote, its arguments joined by spaces as the console shows them.
        message: String,
        /// Where: `file:line:column`, when the script's engine knows it.
        #[serde(skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
    /// The browser warned about something the extension did.
    Warning {
        /// The warning.
        message: String,
    },
    /// A browser update was downloaded; it runs from the next start.
    BrowserUpdateStaged {
        /// The new browser version.
        version: String,
    },
    /// Kiosk mode: a device restart was scheduled by `runtime.restartAfterDelay`.
    RestartScheduled {
        /// When it happens, in milliseconds of virtual time.
        fires_at_ms: u64,
        /// Whether it was moved later, to 3 h after the previous one.
        throttled: bool,
    },
    /// Kiosk mode: the scheduled restart was cancelled (`restartAfterDelay(-1)`).
    RestartCanceled,
    /// Kiosk mode: the device restarted (every page ended; the browser starts again).
    DeviceRestart {
        /// Why.
        reason: String,
    },
}

impl TraceEvent {
    /// The arguments of an event dispatched with none ([`TraceEvent::EventDispatched`]): one
    /// shared `null`, so that recording such a dispatch allocates nothing for them.
    pub(crate) fn no_args() -> Arc<Value> {
        static NULL: LazyLock<Arc<Value>> = LazyLock::new(|| Arc::new(Value::Null));
        Arc::clone(&NULL)
    }

    pub(crate) fn is_error(&self) -> bool {
        matches!(
            self,
            TraceEvent::ListenerFailed { .. }
                | TraceEvent::TaskFailed { .. }
                | TraceEvent::ScriptFailed { .. }
                | TraceEvent::UncheckedLastError { .. }
        )
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEvent::BrowserStarted { version } => write!(f, "browser {version} started"),
            TraceEvent::BrowserStopped => f.write_str("browser stopped"),
            TraceEvent::Installed {
                name,
                version,
                location,
            } => write!(f, "installed \"{name}\" {version} ({})", location.as_str()),
            TraceEvent::Uninstalled => f.write_str("uninstalled"),
            TraceEvent::UninstallUrlOpened { url } => {
                write!(f, "uninstall URL opened in a new tab: {url}")
            }
            TraceEvent::Lifecycle { from, to, note } => {
                if from == to {
                    write!(f, "page {}", to.as_str())?;
                } else {
                    write!(f, "page {} -> {}", from.as_str(), to.as_str())?;
                }
                if !note.is_empty() {
                    write!(f, ": {note}")?;
                }
                Ok(())
            }
            TraceEvent::Keepalive {
                count,
                change,
                reason,
            } => write!(f, "keepalive {change:+} ({reason}) = {count}"),
            TraceEvent::TimerStarted { timer, fires_at_ms } => write!(
                f,
                "{timer} timer started, fires at {}",
                SimInstant::from_start(std::time::Duration::from_millis(*fires_at_ms))
            ),
            TraceEvent::EventQueued { event } => {
                write!(f, "{event} queued until the page has loaded")
            }
            TraceEvent::EventDispatched {
                event,
                listeners,
                args,
            } => {
                write!(
                    f,
                    "{event} dispatched to {listeners} listener{}",
                    if *listeners == 1 { "" } else { "s" }
                )?;
                if !args.is_null() {
                    write!(f, " {args}")?;
                }
                Ok(())
            }
            TraceEvent::EventMissed { event, explanation } => {
                write!(f, "{event} MISSED: {explanation}")
            }
            TraceEvent::EventNotDelivered { event, reason } => {
                write!(f, "{event} not delivered: {reason}")
            }
            TraceEvent::LateListener {
                event,
                explanation,
                added_at,
            } => {
                write!(f, "late listener for {event}")?;
                if let Some(at) = added_at {
                    write!(f, " (added at {at})")?;
                }
                write!(f, ": {explanation}")
            }
            TraceEvent::ListenerFailed {
                event,
                failure,
                message,
            } => write!(f, "a listener of {event} {failure}: {message}"),
            TraceEvent::TaskFailed { task, message } => write!(f, "{task} failed: {message}"),
            TraceEvent::ScriptLoaded => f.write_str("top-level script ran"),
            TraceEvent::ScriptFailed { message } => {
                write!(f, "top-level script failed: {message}")
            }
            TraceEvent::ApiCall { api } => write!(f, "{api}() called"),
            TraceEvent::ApiResult { api, ok, result } => {
                if *ok {
                    write!(f, "{api}() -> {result}")
                } else {
                    let message = result
                        .as_str()
                        .map_or_else(|| result.to_string(), str::to_owned);
                    write!(f, "{api}() failed: {message}")
                }
            }
            TraceEvent::ViewOpened { url } => write!(f, "view opened: {url}"),
            TraceEvent::ViewFocused { url } => write!(f, "view focused: {url}"),
            TraceEvent::ViewClosed => f.write_str("view closed"),
            TraceEvent::EventFired { event } => write!(f, "{event} fired"),
            TraceEvent::ChannelOpened {
                channel,
                channel_kind: kind,
                to,
                name,
                message,
            } => {
                write!(f, "{kind} #{channel} to {to}")?;
                if let Some(name) = name {
                    write!(f, " (name \"{name}\")")?;
                }
                if let Some(message) = message {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            TraceEvent::ChannelClosed { channel, error } => match error {
                Some(error) => write!(f, "channel #{channel} closed: {error}"),
                None => write!(f, "channel #{channel} closed"),
            },
            TraceEvent::Responded {
                channel,
                ok,
                response,
            } => {
                if *ok {
                    write!(f, "answered #{channel}: {response}")
                } else {
                    write!(f, "answered #{channel} with an error: {response}")
                }
            }
            TraceEvent::PortPosted { channel, message } => {
                write!(f, "posted on #{channel}: {message}")
            }
            TraceEvent::UncheckedLastError { message } => {
                write!(f, "Unchecked runtime.lastError: {message}")
            }
            TraceEvent::TabOpened { url } => write!(f, "tab opened: {url}"),
            TraceEvent::TabNavigated { url } => write!(f, "tab navigated to {url}"),
            TraceEvent::TabClosed => f.write_str("tab closed"),
            TraceEvent::FrameOpened { url } => write!(f, "frame opened: {url}"),
            TraceEvent::FrameClosed => f.write_str("frame closed"),
            TraceEvent::ContentScriptStarted => f.write_str("content script started"),
            TraceEvent::NativeStderr { host, line } => {
                write!(f, "stderr output from native app {host}: {line}")
            }
            TraceEvent::NativeHostEnded { host, exit } => {
                write!(f, "native host {host} ended: {exit}")
            }
            TraceEvent::NativeMessageIgnored { channel, reason } => {
                write!(f, "#{channel}: {reason}")
            }
            TraceEvent::UpdatePublished { version } => {
                write!(f, "version {version} published on the update service")
            }
            TraceEvent::UpdateChecked { trigger, found } => match found {
                Some(version) => write!(f, "update check ({trigger}): found {version}"),
                None => write!(f, "update check ({trigger}): no newer version"),
            },
            TraceEvent::UpdateDelayed { version, reason } => {
                write!(f, "update to {version} delayed: {reason}")
            }
            TraceEvent::Updated { from, to } => write!(f, "updated {from} -> {to}"),
            TraceEvent::Reloaded { reinstalled } => {
                if *reinstalled {
                    f.write_str("reloaded: installed again from its folder (unpacked)")
                } else {
                    f.write_str("reloaded (packed: loaded again, no onInstalled)")
                }
            }
            TraceEvent::Terminated { reason } => write!(f, "terminated: {reason}"),
            TraceEvent::Console {
                level,
                message,
                location,
            } => {
                write!(f, "console.{}: {message}", level.as_str())?;
                match location {
                    Some(at) => write!(f, " ({at})"),
                    None => Ok(()),
                }
            }
            TraceEvent::Warning { message } => write!(f, "warning: {message}"),
            TraceEvent::BrowserUpdateStaged { version } => {
                write!(
                    f,
                    "browser update {version} staged: it runs after a restart"
                )
            }
            TraceEvent::RestartScheduled {
                fires_at_ms,
                throttled,
            } => {
                let at = SimInstant::from_start(std::time::Duration::from_millis(*fires_at_ms));
                if *throttled {
                    write!(
                        f,
                        "device restart throttled: scheduled at {at}, 3 h after the previous one"
                    )
                } else {
                    write!(f, "device restart scheduled at {at}")
                }
            }
            TraceEvent::RestartCanceled => f.write_str("scheduled device restart cancelled"),
            TraceEvent::DeviceRestart { reason } => write!(f, "device restart: {reason}"),
        }
    }
}

/// One entry of the trace.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TraceEntry {
    /// Virtual time, in milliseconds since the start of the simulation.
    #[serde(rename = "at_ms", serialize_with = "serialize_instant")]
    pub at: SimInstant,
    /// The extension concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionId>,
    /// Where in the extension.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<TraceContext>,
    /// What happened.
    #[serde(flatten)]
    pub event: TraceEvent,
}

fn is_null(value: &Arc<Value>) -> bool {
    value.is_null()
}

fn serialize_instant<S: serde::Serializer>(at: &SimInstant, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(at.as_millis())
}
