//! The scenario file: its top level — the browser's settings, the extensions, the native hosts,
//! the timeline and the expectations. The JSON Schema of the format is generated from these
//! types ([`crate::scenario::schema`]).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use indexmap::IndexMap;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;

use super::action::Action;
use super::duration::Dur;
use super::expect::Expectation;
use super::step::Step;
use crate::ApiFunction;

/// A scenario: a browser, some extensions, what happens to them over virtual time, and what
/// must have happened.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "runtime-sim scenario")]
pub struct Scenario {
    /// The JSON Schema the file follows, for editors (e.g. `"./schema/scenario.schema.json"`); the
    /// runner ignores it.
    #[serde(rename = "$schema", default)]
    pub schema: Option<String>,
    /// A short title.
    pub name: String,
    /// What the scenario shows, for the person who reads or runs it: which rule of the
    /// browser it demonstrates and what to look for in the timeline.
    pub description: String,
    /// The simulated browser's settings; every one has Chromium's default.
    #[serde(default)]
    pub browser: BrowserSettings,
    /// The extensions, by the name the rest of the file calls them. Those with `installed`
    /// (the default) are installed, in this order, in the stopped browser before the timeline
    /// starts.
    pub extensions: IndexMap<String, Extension>,
    /// Native messaging hosts the browser finds, by host name (e.g. `com.example.ping`).
    #[serde(default)]
    pub native_hosts: IndexMap<String, NativeHost>,
    /// What happens, in order. Virtual time moves only in `advance`, `advance_to` and
    /// `run_until_idle`; after every other step, everything due at the current instant runs.
    pub timeline: Vec<Step>,
    /// What must have happened, checked after the timeline has run.
    #[serde(default)]
    pub expect: Vec<Expectation>,
}

/// The simulated browser's settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserSettings {
    /// Which browser it is (default `chrome-mv2`; `--profile` overrides it): its background
    /// model, lifecycle timers, `getURL` scheme and native messaging rules.
    pub profile: Option<crate::Profile>,
    /// How long a background must be idle before it is suspended (default: the profile's —
    /// `"10s"` for chrome-mv2, `"30s"` for chrome-mv3 and firefox).
    pub idle_delay: Option<Dur>,
    /// How long after `runtime.onSuspend` an event page is closed (default: the profile's —
    /// `"5s"` for chrome-mv2, none for chrome-mv3 and firefox).
    pub suspending_window: Option<Dur>,
    /// The browser's version (default `156.0.8078.73`). Before 144, an `onMessage` listener's
    /// promise is not its answer.
    pub version: Option<String>,
    /// The seed of everything random in the simulation (default 0; `--seed` overrides it).
    pub seed: Option<u64>,
    /// How long every API call takes (default 0: it completes after everything already due).
    pub api_latency: Option<Dur>,
    /// How long particular APIs take, e.g. `{"storage.local.set": "2s"}`.
    #[serde(default)]
    pub api_latencies: BTreeMap<ApiFunction, Dur>,
    /// What `runtime.getPlatformInfo()` reports (default Linux on x86-64).
    pub platform: Option<Platform>,
    /// `runtime.getPlatformInfo()` fails with `Platform information unavailable.`
    #[serde(default)]
    pub platform_unavailable: bool,
    /// Whose native messaging rules apply: where hosts are looked up, their arguments, how they
    /// are ended (default: the profile's browser — `firefox` for the firefox profile, else
    /// `chrome`).
    pub native_browser: Option<crate::native::BrowserKind>,
    /// How long, in real time, the browser waits for a native host that has not answered what
    /// it was sent (or is ending) before it gives up and lets the virtual clock move on
    /// (default `"5s"`). Meanwhile virtual time does not run ahead of real time.
    pub native_answer_limit: Option<Dur>,
    /// Whether the browser has an update service (default `true`). Without one,
    /// `runtime.requestUpdateCheck()` fails with `Autoupdate is not enabled.` and the browser
    /// never checks for updates.
    pub autoupdate: Option<bool>,
    /// How often the browser checks for updates on its own (default `"5h"`, each wait
    /// jittered by ±20 %); it also checks once as it starts.
    pub update_check_period: Option<Dur>,
    /// How long one update check takes (default 0: it completes after everything already
    /// due).
    pub update_check_duration: Option<Dur>,
    /// Runs the browser as a ChromeOS kiosk (default `false`): only then do
    /// `runtime.restart()` and `runtime.restartAfterDelay()` work and
    /// `runtime.onRestartRequired` fire.
    #[serde(default)]
    pub kiosk: bool,
    /// In kiosk mode, the uptime the policy allows: after it, extensions get
    /// `runtime.onRestartRequired("periodic")` (default: no limit).
    pub kiosk_uptime_limit: Option<Dur>,
}

/// What `runtime.getPlatformInfo()` reports.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    /// `runtime.PlatformOs`.
    pub os: crate::PlatformOs,
    /// `runtime.PlatformArch` (also used as `nacl_arch`).
    pub arch: crate::PlatformArch,
}

/// An extension of the scenario.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Extension {
    /// Its manifest.
    pub manifest: ManifestSource,
    /// The code of its background page; required when the manifest has a `background` and is
    /// given inline. A manifest given by path, with no code here, runs the extension's own
    /// JavaScript from its folder.
    pub background: Option<BackgroundCode>,
    /// How it is installed (default `unpacked`).
    #[serde(default)]
    pub location: crate::Location,
    /// Whether it is installed before the timeline starts (default `true`); if not, an
    /// `install` step installs it.
    #[serde(default = "installed_by_default")]
    pub installed: bool,
    /// The policy of its `storage.managed` area, as an administrator sets it (default: none):
    /// the extension reads it, and cannot write it.
    #[serde(default)]
    pub managed_storage: Option<serde_json::Map<String, Value>>,
}

fn installed_by_default() -> bool {
    true
}

/// Where an extension's manifest comes from: the `manifest.json` object itself, or the path,
/// relative to the scenario file, of a `manifest.json` or of the folder that holds one.
///
/// An extension whose manifest is given inline and has no `key` gets its id from its name (a
/// virtual install folder), so the same file gives the same ids on every machine.
#[derive(Debug, Clone)]
pub enum ManifestSource {
    /// The manifest, inline. Strings in it may use `${id:NAME}` for the id of the extension
    /// NAME (e.g. in `externally_connectable.ids`).
    Inline(serde_json::Map<String, Value>),
    /// A `manifest.json` or its folder, relative to the scenario file.
    Path(String),
}

struct ManifestVisitor;

impl<'de> Visitor<'de> for ManifestVisitor {
    type Value = ManifestSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a manifest: the manifest.json object, or the path of a manifest.json or of its folder",
        )
    }

    fn visit_str<E: de::Error>(self, path: &str) -> Result<ManifestSource, E> {
        Ok(ManifestSource::Path(path.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ManifestSource, A::Error> {
        let object = Deserialize::deserialize(de::value::MapAccessDeserializer::new(map))?;
        Ok(ManifestSource::Inline(object))
    }
}

impl<'de> Deserialize<'de> for ManifestSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ManifestSource, D::Error> {
        deserializer.deserialize_any(ManifestVisitor)
    }
}

impl JsonSchema for ManifestSource {
    fn schema_name() -> Cow<'static, str> {
        "ManifestSource".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The manifest.json object itself (strings in it may use ${id:NAME} for the id of the extension NAME), or the path, relative to the scenario file, of a manifest.json or of the folder that holds it.",
            "oneOf": [
                {
                    "type": "object",
                    "required": ["name", "version"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "manifest_version": {"type": "integer"},
                        "background": {"type": "object"},
                        "permissions": {"type": "array", "items": {"type": "string"}},
                        "externally_connectable": {"type": "object"},
                        "content_scripts": {"type": "array", "items": {"type": "object"}},
                        "key": {"type": "string"}
                    }
                },
                {"type": "string"}
            ]
        })
    }
}

/// The code of an extension's background page.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundCode {
    /// One of the project's background scripts written in Rust, by name (see
    /// `runtime_sim::scenario::scripts`).
    Rust(String),
    /// The page's top-level code, declared: actions run in order from the top at every load of
    /// the page. Listeners registered before the first action that waits (`wait`, an API call,
    /// a message awaiting its answer, …) are top-level; those after it are late, and miss the
    /// event that woke the page.
    TopLevel(Vec<Action>),
}

/// A native messaging host the browser can find. Its manifest is written to a temporary folder
/// that the browser searches first.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NativeHost {
    /// A host built into the `runtime-sim` command: `ping-pong` answers `"ping"` with
    /// `"pong"` and ignores other messages.
    pub builtin: Option<BuiltinHost>,
    /// A host written as a `/bin/sh` script body, to misbehave as real hosts do (e.g.
    /// `"exit 3"`, or `"cat > /dev/null"` to ignore every message).
    pub shell: Option<String>,
    /// The extensions allowed to use it (`allowed_origins`); default: every extension of the
    /// scenario.
    pub allowed: Option<Vec<String>>,
}

/// A host built into the `runtime-sim` command (`runtime-sim host NAME`).
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BuiltinHost {
    /// Answers `"ping"` with `"pong"` and ignores other messages; exits at end of file.
    PingPong,
}
