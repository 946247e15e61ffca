//! Actions: what declared code does — a background page's top-level code, a listener's body,
//! and what a step does from a view, a content script, a web page or a native application.
//!
//! Actions run in order. An action that waits (`wait`, `store`, `call` of an asynchronous API,
//! `send_message` in the promise form, `send_native_message`) waits before the next one runs,
//! as `await` would; everything before the first of them runs at once.
//!
//! In any JSON value an action carries (a message, a response, a stored value), the string
//! `"$arg"` is replaced by the argument of the event whose listener runs (the message, the
//! event's details), `"$sender"` by the `MessageSender` of the message or port, and
//! `${id:NAME}` inside a string by the id of the extension NAME.
//!
//! A new API is a variant of [`Api`] (with its [`Parameter`]s), called in `interpret.rs`; a
//! new kind of action is a variant of [`Action`].

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::duration::Dur;

/// One action of declared code.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Registers a listener.
    Listen(Listen),
    /// `sendResponse(value)`, in an `onMessage` / `onMessageExternal` listener: the first
    /// answer wins.
    Respond(Value),
    /// Ends a listener that `returns` `"promise"`, resolving it with this value (Chrome 144+:
    /// an `onMessage` listener's resolved value is its answer).
    Resolve(Value),
    /// Throws an `Error` with this message (in a listener that returns a promise: rejects the
    /// promise with it). Ends the code.
    Fail(String),
    /// Throws (or rejects with) something that is not an `Error`, described by this text.
    /// Ends the code.
    FailWithoutError(String),
    /// Waits (`await` a `setTimeout`), on the virtual clock. A timer does not keep an event
    /// page alive.
    Wait(Dur),
    /// Starts a timer (`setTimeout`) whose callback runs the actions, without waiting for it.
    Timer(Timer),
    /// Stores values (`storage.local.set`), key by key; waits for each.
    Store(IndexMap<String, Value>),
    /// Calls an API and waits for its result.
    Call(Call),
    /// `runtime.sendMessage` (or `tabs.sendMessage`).
    SendMessage(SendMessage),
    /// `runtime.connect` (or `tabs.connect`).
    Connect(Connect),
    /// `port.postMessage(message)`.
    Post(Post),
    /// `port.disconnect()`.
    Disconnect(Disconnect),
    /// `runtime.connectNative(host)`.
    ConnectNative(ConnectNative),
    /// `runtime.sendNativeMessage(host, message)`; waits for the answer.
    SendNativeMessage(SendNativeMessage),
}

/// A listener to register.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Listen {
    /// The event: `runtime.onInstalled`, `runtime.onStartup`, `runtime.onSuspend`,
    /// `runtime.onSuspendCanceled`, `runtime.onMessage`, `runtime.onMessageExternal`,
    /// `runtime.onConnect`, `runtime.onConnectExternal`, `runtime.onConnectNative`,
    /// `runtime.onUpdateAvailable` (`"$arg"`: the new manifest),
    /// `runtime.onBrowserUpdateAvailable`, `runtime.onRestartRequired` (`"$arg"`: the reason),
    /// `port.onMessage`, `port.onDisconnect`, or an event of another API (e.g.
    /// `alarms.onAlarm`).
    pub event: String,
    /// For `port.onMessage` and `port.onDisconnect`: the port, by the name it was given with
    /// `as`; default: the port of the listener this one is registered in.
    pub port: Option<String>,
    /// What the listener function returns (default `"nothing"`).
    #[serde(default)]
    pub returns: Returns,
    /// For `port.onDisconnect`: whether the listener reads `runtime.lastError` (default
    /// `true`); an error nobody reads is logged as `Unchecked runtime.lastError`.
    #[serde(default = "reads_by_default")]
    pub reads_last_error: bool,
    /// The listener's body.
    #[serde(rename = "do", default)]
    pub body: Vec<Action>,
}

fn reads_by_default() -> bool {
    true
}

/// What a listener function returns.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Returns {
    /// A plain function that returns nothing. Whatever its body does after waiting runs later,
    /// as a callback would.
    #[default]
    Nothing,
    /// A plain function that returns `true`: for `onMessage`, "I will answer later" — the
    /// channel stays open for a later `respond`.
    True,
    /// An `async` function: it returns a promise. For `onMessage` (Chrome 144+) the promise is
    /// the answer: `resolve` gives the response, `fail` the sender's error.
    Promise,
}

/// A timer's callback.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timer {
    /// When it fires, from now.
    pub after: Dur,
    /// What the callback does.
    #[serde(rename = "do")]
    pub body: Vec<Action>,
}

/// An API call.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The API.
    pub api: Api,
    /// Its arguments, as in JavaScript (without the callback).
    #[serde(default)]
    pub args: Vec<Value>,
    /// The callback form (`api(...args, callback)`) instead of the promise form: the call
    /// does not wait, and `as` records what the callback got when it runs — its arguments as
    /// an array, or the `runtime.lastError` it read. Simulated for
    /// `runtime.requestUpdateCheck` (`callback(status, {version})`).
    #[serde(default)]
    pub callback: bool,
    /// Records what the call gave under this name, for expectations (`outcome`). A call that
    /// throws is then caught.
    #[serde(rename = "as")]
    pub label: Option<String>,
}

/// An API that `call` can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Api {
    /// `runtime.getPlatformInfo()`.
    #[serde(rename = "runtime.getPlatformInfo")]
    GetPlatformInfo,
    /// `runtime.getPackageDirectoryEntry()`.
    #[serde(rename = "runtime.getPackageDirectoryEntry")]
    GetPackageDirectoryEntry,
    /// `runtime.getBackgroundPage()`: loads an event page first.
    #[serde(rename = "runtime.getBackgroundPage")]
    GetBackgroundPage,
    /// `runtime.openOptionsPage()`.
    #[serde(rename = "runtime.openOptionsPage")]
    OpenOptionsPage,
    /// `runtime.setUninstallURL(url)`.
    #[serde(rename = "runtime.setUninstallURL")]
    SetUninstallUrl,
    /// `runtime.getManifest()` (synchronous).
    #[serde(rename = "runtime.getManifest")]
    GetManifest,
    /// `runtime.getURL(path)` (synchronous).
    #[serde(rename = "runtime.getURL")]
    GetUrl,
    /// `storage.local.get(key)`: the value, or undefined.
    #[serde(rename = "storage.local.get")]
    StorageGet,
    /// `storage.local.remove(key)`.
    #[serde(rename = "storage.local.remove")]
    StorageRemove,
    /// `storage.managed.get(key)`: the value the policy gives, or undefined.
    #[serde(rename = "storage.managed.get")]
    StorageManagedGet,
    /// `storage.managed.set({key: "x"})`: always fails, `This is a read-only store.`
    #[serde(rename = "storage.managed.set")]
    StorageManagedSet,
    /// `runtime.reload()` (synchronous): the extension is reloaded once the call has
    /// answered — too often, and it is terminated instead.
    #[serde(rename = "runtime.reload")]
    Reload,
    /// `runtime.requestUpdateCheck()`: `{status, version}` (the callback form:
    /// `[status, {version}]`).
    #[serde(rename = "runtime.requestUpdateCheck")]
    RequestUpdateCheck,
    /// `runtime.restart()`: kiosk mode only.
    #[serde(rename = "runtime.restart")]
    Restart,
    /// `runtime.restartAfterDelay(seconds)`: kiosk mode only; `-1` cancels.
    #[serde(rename = "runtime.restartAfterDelay")]
    RestartAfterDelay,
}

/// One parameter of an API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter {
    /// Its name, as the API's documentation gives it.
    pub name: &'static str,
    /// What it takes.
    pub kind: ParameterKind,
}

/// What a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterKind {
    /// A string.
    String,
    /// A whole number that fits 32 bits (JavaScript's `integer` of the API schemas).
    Integer,
}

impl ParameterKind {
    /// What it takes, in words: `a string`, `a 32-bit integer`.
    pub fn describe(self) -> &'static str {
        match self {
            ParameterKind::String => "a string",
            ParameterKind::Integer => "a 32-bit integer",
        }
    }

    /// Whether a value is one it takes.
    pub fn accepts(self, value: &Value) -> bool {
        match self {
            ParameterKind::String => value.is_string(),
            ParameterKind::Integer => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
        }
    }
}

const fn string(name: &'static str) -> Parameter {
    Parameter {
        name,
        kind: ParameterKind::String,
    }
}

impl Api {
    /// The API's name, as JavaScript spells it.
    pub fn name(self) -> &'static str {
        match self {
            Api::GetPlatformInfo => "runtime.getPlatformInfo",
            Api::GetPackageDirectoryEntry => "runtime.getPackageDirectoryEntry",
            Api::GetBackgroundPage => "runtime.getBackgroundPage",
            Api::OpenOptionsPage => "runtime.openOptionsPage",
            Api::SetUninstallUrl => "runtime.setUninstallURL",
            Api::GetManifest => "runtime.getManifest",
            Api::GetUrl => "runtime.getURL",
            Api::StorageGet => "storage.local.get",
            Api::StorageRemove => "storage.local.remove",
            Api::StorageManagedGet => "storage.managed.get",
            Api::StorageManagedSet => "storage.managed.set",
            Api::Reload => "runtime.reload",
            Api::RequestUpdateCheck => "runtime.requestUpdateCheck",
            Api::Restart => "runtime.restart",
            Api::RestartAfterDelay => "runtime.restartAfterDelay",
        }
    }

    /// The arguments it takes, in order.
    pub fn parameters(self) -> &'static [Parameter] {
        const URL: &[Parameter] = &[string("url")];
        const PATH: &[Parameter] = &[string("path")];
        const KEY: &[Parameter] = &[string("key")];
        const SECONDS: &[Parameter] = &[Parameter {
            name: "seconds",
            kind: ParameterKind::Integer,
        }];
        match self {
            Api::SetUninstallUrl => URL,
            Api::GetUrl => PATH,
            Api::StorageGet | Api::StorageRemove | Api::StorageManagedGet => KEY,
            Api::StorageManagedSet => KEY,
            Api::RestartAfterDelay => SECONDS,
            _ => &[],
        }
    }

    /// Whether it answers at once, without waiting.
    pub fn is_synchronous(self) -> bool {
        matches!(self, Api::GetManifest | Api::GetUrl | Api::Reload)
    }

    /// Whether `call` can use its callback form (`"callback": true`).
    pub fn has_callback_form(self) -> bool {
        self == Api::RequestUpdateCheck
    }
}

/// A one-time message.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The message.
    pub message: Value,
    /// The receiving extension, by name: its `onMessageExternal` (or the own `onMessage` when
    /// it is the sender's own extension). Default: the sender's own extension.
    pub to: Option<String>,
    /// The receiving extension, by a raw id (one not in the scenario, or a malformed one).
    pub to_id: Option<String>,
    /// `tabs.sendMessage`: to the own content scripts in a tab.
    pub to_tab: Option<TabTarget>,
    /// The callback form (`sendMessage(…, callback)`) instead of the promise form: it reports
    /// `The message port closed before a response was received.` when nobody answered.
    #[serde(default)]
    pub callback: bool,
    /// In the callback form: whether the callback reads `runtime.lastError` (default `true`).
    #[serde(default = "reads_by_default")]
    pub reads_last_error: bool,
    /// Records what the sender got under this name, for expectations (`outcome`).
    #[serde(rename = "as")]
    pub label: Option<String>,
}

/// A tab (and optionally one of its frames) that `tabs.sendMessage` / `tabs.connect` target.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TabTarget {
    /// The tab, by the name an `open_tab` step gave it.
    pub tab: String,
    /// The frame, by the name an `open_frame` step gave it, or `top`; default: every frame.
    pub frame: Option<String>,
}

/// A long-lived connection.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Connect {
    /// The port's name (default `""`).
    #[serde(default)]
    pub name: String,
    /// The receiving extension, by name (default: the own extension).
    pub to: Option<String>,
    /// The receiving extension, by a raw id.
    pub to_id: Option<String>,
    /// `tabs.connect`: to the own content scripts in a tab.
    pub to_tab: Option<TabTarget>,
    /// The name this code uses for the port (in `post`, `disconnect`, `listen`), and under
    /// which a `port.onDisconnect` listener records how it ended.
    #[serde(rename = "as")]
    pub label: Option<String>,
}

/// `port.postMessage`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Post {
    /// The message.
    pub message: Value,
    /// The port, by name; default: the port of the listener this runs in.
    pub port: Option<String>,
    /// Records the result under this name (`undefined`, or the error it threw); a throw is
    /// then caught.
    #[serde(rename = "as")]
    pub label: Option<String>,
}

/// `port.disconnect()`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disconnect {
    /// The port, by name; default: the port of the listener this runs in.
    pub port: Option<String>,
}

/// `runtime.connectNative`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectNative {
    /// The host's name.
    pub host: String,
    /// The name this code uses for the port.
    #[serde(rename = "as")]
    pub label: Option<String>,
}

/// `runtime.sendNativeMessage`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SendNativeMessage {
    /// The host's name.
    pub host: String,
    /// The message.
    pub message: Value,
    /// Records the answer (or the error) under this name.
    #[serde(rename = "as")]
    pub label: Option<String>,
}
