//! Expectations: what must have happened in a scenario, checked against the run's trace, the
//! outcomes actions recorded with `as`, and the extensions' storage at the end.
//!
//! Times are virtual, since the start of the simulation. An instant's state is the state once
//! everything due at that instant has run.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::duration::Dur;
use super::outcome::OutcomeValue;

/// One expectation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expectation {
    /// An event reaches an extension: it is dispatched to the listeners of one of its contexts
    /// (at a time, within a window, a number of times).
    Event(EventExpectation),
    /// An event is missed: it woke the page, but no listener was registered when it was
    /// dispatched (a late listener).
    Missed(MissedExpectation),
    /// Exactly these events reached an extension (dispatched or missed), in this order, and
    /// nothing else — within a window, if given. An empty list: nothing reached it.
    Dispatches(DispatchesExpectation),
    /// The state of an extension's background page at an instant.
    State(StateExpectation),
    /// What an extension has stored, at the end of the run.
    Storage(StorageExpectation),
    /// What an action recorded with `as` got: a value, `undefined`, an error, a
    /// disconnection.
    Outcome(OutcomeExpectation),
    /// A trace entry (as `--format jsonl` prints it) that has these fields.
    Entry(EntryExpectation),
}

/// A window of virtual time; both ends included.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// From.
    pub from: Dur,
    /// To.
    pub to: Dur,
}

/// Which of an extension's contexts an expectation is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    /// Its background page.
    Background,
    /// Its views (popup, options page, extension tabs).
    View,
    /// Its content scripts.
    ContentScript,
}

impl ContextKind {
    /// The kind, in words.
    pub fn as_str(self) -> &'static str {
        match self {
            ContextKind::Background => "background page",
            ContextKind::View => "views",
            ContextKind::ContentScript => "content scripts",
        }
    }
}

/// An event reaches an extension.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventExpectation {
    /// The event, e.g. `runtime.onSuspend`, `alarms.onAlarm`, `Port.onMessage`.
    pub event: String,
    /// The extension, by name.
    pub extension: String,
    /// Only in these contexts of it (default: any).
    pub context: Option<ContextKind>,
    /// Exactly when.
    pub at: Option<Dur>,
    /// Some time in this window.
    pub within: Option<Window>,
    /// How many times (in the window, if given); without it, at least once.
    pub count: Option<usize>,
    /// How many listeners it reached.
    pub listeners: Option<usize>,
    /// Its argument (the message, for `runtime.onMessage`).
    pub args: Option<Value>,
}

/// An event is missed.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MissedExpectation {
    /// The event.
    pub event: String,
    /// The extension, by name.
    pub extension: String,
    /// Exactly when.
    pub at: Option<Dur>,
    /// Some time in this window.
    pub within: Option<Window>,
    /// How many times; without it, at least once.
    pub count: Option<usize>,
}

/// Exactly these events reached an extension.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchesExpectation {
    /// The extension, by name.
    pub extension: String,
    /// Only in these contexts of it (default: any).
    pub context: Option<ContextKind>,
    /// Only the events in this window count.
    pub within: Option<Window>,
    /// The events, in order.
    pub are: Vec<ExpectedDispatch>,
}

/// One event of a `dispatches` expectation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectedDispatch {
    /// When.
    pub at: Dur,
    /// The event.
    pub event: String,
    /// Whether it was missed (no listener) rather than dispatched (default `false`).
    #[serde(default)]
    pub missed: bool,
}

/// The state of a background page.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateExpectation {
    /// The extension, by name.
    pub extension: String,
    /// When (default: the end of the run).
    pub at: Option<Dur>,
    /// The page's state.
    pub page: Option<PageStateName>,
    /// The keepalive count.
    pub keepalive: Option<u32>,
    /// How many times the page has loaded so far.
    pub loads: Option<u64>,
    /// Whether the extension is installed.
    pub installed: Option<bool>,
    /// The installed version.
    pub version: Option<String>,
    /// The version of the update that waits to be installed, or `null` for none.
    #[serde(default, deserialize_with = "present_string")]
    #[schemars(with = "Option<String>")]
    pub pending_update: Option<Option<String>>,
    /// Whether the extension is terminated (installed, but not running until the user
    /// reloads it or the browser restarts).
    pub terminated: Option<bool>,
}

/// A background page's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PageStateName {
    /// Not loaded.
    Unloaded,
    /// Its top-level script is running.
    Loading,
    /// Loaded.
    Active,
    /// `onSuspend` was dispatched; it unloads when the suspending window ends.
    Closing,
}

impl PageStateName {
    /// The name, as the trace prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PageStateName::Unloaded => "unloaded",
            PageStateName::Loading => "loading",
            PageStateName::Active => "active",
            PageStateName::Closing => "closing",
        }
    }
}

/// A stored value at the end of the run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StorageExpectation {
    /// The extension, by name.
    pub extension: String,
    /// The key.
    pub key: String,
    /// The value stored under it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Value")]
    pub equals: Option<Value>,
    /// Nothing is stored under it.
    #[serde(default)]
    pub absent: bool,
}

/// A field that, when present, is `Some` even if it is `null`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A string-or-null field that, when present, is `Some` even if it is `null`.
fn present_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// What an action recorded with `as` got.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeExpectation {
    /// The name the action recorded it under.
    pub of: String,
    /// What it got.
    pub is: OutcomeValue,
    /// Exactly when it got it.
    pub at: Option<Dur>,
    /// Some time in this window.
    pub within: Option<Window>,
}

/// A trace entry with these fields.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntryExpectation {
    /// The extension, by name.
    pub extension: Option<String>,
    /// Exactly when.
    pub at: Option<Dur>,
    /// Some time in this window.
    pub within: Option<Window>,
    /// How many such entries; without it, at least one.
    pub count: Option<usize>,
    /// The fields the entry has, as `--format jsonl` prints them (e.g. `{"kind":
    /// "channel_closed", "error": "…"}`); objects match when they have these fields.
    pub fields: serde_json::Map<String, Value>,
}
