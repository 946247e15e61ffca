//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runtime_sim::{
    script_fn, BackgroundScript, Browser, BrowserBuilder, ExtensionId, ExtensionSpec, PageState,
    Runtime, ScriptError, SimInstant, Trace, TraceEvent, ViewKind,
};
use serde_json::{json, Value};

/// An event-page extension (or a persistent one) named `name` running `script`.
pub fn extension(name: &str, persistent: bool, script: impl BackgroundScript) -> ExtensionSpec {
    ExtensionSpec::from_json(json!({
        "name": name,
        "version": "1.0",
        "background": {"scripts": ["background.js"], "persistent": persistent},
        "options_ui": {"page": "options.html"}
    }))
    .expect("valid manifest")
    .script(script)
}

/// A started browser with one extension installed, after its install has settled.
pub fn browser_with(spec: ExtensionSpec) -> (Browser, ExtensionId) {
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

/// The `runtime` of a popup opened on the extension, to call the API from a test.
pub fn popup_runtime(browser: &mut Browser, id: &ExtensionId) -> runtime_sim::Runtime {
    let view = browser
        .open_view(id, runtime_sim::ViewKind::Popup, "popup.html")
        .expect("opens");
    browser.view_runtime(id, view).expect("open view")
}

/// The virtual times (in whole milliseconds) of the entries that match.
pub fn times(trace: &Trace, mut matches: impl FnMut(&TraceEvent) -> bool) -> Vec<u64> {
    trace
        .entries()
        .filter(|e| matches(&e.event))
        .map(|e| e.at.as_millis())
        .collect()
}

/// When `event` was dispatched (to any number of listeners).
pub fn dispatched(trace: &Trace, event: &str) -> Vec<u64> {
    times(
        trace,
        |e| matches!(e, TraceEvent::EventDispatched { event: name, .. } if name == event),
    )
}

/// When the page went to `state`.
pub fn entered(trace: &Trace, state: runtime_sim::PageState) -> Vec<u64> {
    times(
        trace,
        |e| matches!(e, TraceEvent::Lifecycle { from, to, .. } if *to == state && *from != state),
    )
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn at(ms: u64) -> SimInstant {
    SimInstant::from_start(Duration::from_millis(ms))
}

/// What a sender gets when nobody may or can receive its message (runtime-behaviour.md §4.1,
/// §4.2, §4.4).
pub const NO_RECEIVER: &str = "Could not establish connection. Receiving end does not exist.";

/// A well-formed extension id that no test installs.
pub const ABSENT_ID: &str = "abcdefghijklmnopabcdefghijklmnop";

/// What listeners and scripts saw, collected for the test to look at. Clones share the log.
pub struct Log<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Log<T> {
    fn clone(&self) -> Self {
        Log(Arc::clone(&self.0))
    }
}

impl<T> Default for Log<T> {
    fn default() -> Self {
        Log(Arc::new(Mutex::new(Vec::new())))
    }
}

impl<T: Clone> Log<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&self, item: T) {
        self.0.lock().unwrap().push(item);
    }

    /// Everything logged so far.
    pub fn all(&self) -> Vec<T> {
        self.0.lock().unwrap().clone()
    }

    /// Everything logged so far, emptying the log.
    pub fn take(&self) -> Vec<T> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    pub fn last(&self) -> Option<T> {
        self.0.lock().unwrap().last().cloned()
    }

    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An event-page extension named `name`, with the keys of `extra` (an object) added to its
/// manifest.
pub fn event_page(name: &str, extra: Value, script: impl BackgroundScript) -> ExtensionSpec {
    let mut manifest = json!({
        "name": name,
        "version": "1.0",
        "background": {"scripts": ["background.js"], "persistent": false}
    });
    if let (Some(all), Value::Object(more)) = (manifest.as_object_mut(), extra) {
        all.extend(more);
    }
    ExtensionSpec::from_json(manifest)
        .expect("valid manifest")
        .script(script)
}

/// An extension with no background page (it acts through its views and content scripts), with
/// the keys of `extra` (an object) added to its manifest.
pub fn pageless(name: &str, extra: Value) -> ExtensionSpec {
    let mut manifest = json!({"name": name, "version": "1.0"});
    if let (Some(all), Value::Object(more)) = (manifest.as_object_mut(), extra) {
        all.extend(more);
    }
    ExtensionSpec::from_json(manifest).expect("valid manifest")
}

/// A background script whose top-level code is `setup` (run synchronously at every load), and
/// the `Runtime` of each load, newest last.
pub fn top_level(setup: impl Fn(&Runtime) + 'static) -> (impl BackgroundScript, Log<Runtime>) {
    let loads = Log::new();
    let seen = loads.clone();
    let script = script_fn(move |rt| {
        seen.push(rt.clone());
        setup(&rt);
        async { Ok::<(), ScriptError>(()) }
    });
    (script, loads)
}

/// A started browser (from `builder`) with these extensions installed, after their installs
/// have settled.
pub fn started(builder: BrowserBuilder, specs: Vec<ExtensionSpec>) -> (Browser, Vec<ExtensionId>) {
    let mut browser = builder.build();
    let ids = specs
        .into_iter()
        .map(|spec| browser.install(spec).expect("installs"))
        .collect();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, ids)
}

/// The `runtime` of a new view of the extension.
pub fn view_runtime(
    browser: &mut Browser,
    id: &ExtensionId,
    kind: ViewKind,
    path: &str,
) -> Runtime {
    let view = browser.open_view(id, kind, path).expect("opens");
    browser.view_runtime(id, view).expect("open view")
}

/// Runs the browser until `future` completes, and gives its output.
pub fn wait<F>(browser: &mut Browser, future: F) -> F::Output
where
    F: Future + 'static,
{
    browser.block_on(future).expect("the future completes")
}

/// The messages of the `Unchecked runtime.lastError` entries.
pub fn unchecked_errors(trace: &Trace) -> Vec<String> {
    trace
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::UncheckedLastError { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// When the page of `id` went to `state`.
pub fn entered_by(trace: &Trace, id: &ExtensionId, state: PageState) -> Vec<u64> {
    trace
        .entries()
        .filter(|e| e.extension.as_ref() == Some(id))
        .filter(|e| {
            matches!(&e.event, TraceEvent::Lifecycle { from, to, .. } if *to == state && *from != state)
        })
        .map(|e| e.at.as_millis())
        .collect()
}

/// A packed extension (installed from a store, so the update service can update it) named
/// `name` at `version`, with an event page or a persistent page running `script`.
pub fn packed(
    name: &str,
    version: &str,
    persistent: bool,
    script: impl BackgroundScript,
) -> ExtensionSpec {
    ExtensionSpec::from_json(json!({
        "name": name,
        "version": version,
        "background": {"scripts": ["background.js"], "persistent": persistent}
    }))
    .expect("valid manifest")
    .location(runtime_sim::Location::Packed)
    .script(script)
}

/// When `event` was dispatched to `id`'s page, and with what arguments.
pub fn dispatched_to(trace: &Trace, id: &ExtensionId, event: &str) -> Vec<(u64, Value)> {
    trace
        .entries()
        .filter(|e| e.extension.as_ref() == Some(id))
        .filter_map(|e| match &e.event {
            TraceEvent::EventDispatched {
                event: name, args, ..
            } if name == event => Some((e.at.as_millis(), Value::clone(args))),
            _ => None,
        })
        .collect()
}

/// The name of the host [`native_host`] installs.
pub const NATIVE_HOST: &str = "com.example.profile_host";

/// Installs a native host named [`NATIVE_HOST`] for `browser` whose executable runs `body` (a
/// shell script), allowing `caller` (an extension id; for Firefox an add-on id); gives the
/// folder (keep it alive) and a launcher that looks only there.
pub fn native_host(
    browser: runtime_sim::native::BrowserKind,
    body: &str,
    caller: &str,
) -> (tempfile::TempDir, runtime_sim::native::Launcher) {
    native_hosts(browser, &[(NATIVE_HOST, body)], caller)
}

/// Installs native hosts for `browser` in one folder, each a name and the shell script its
/// executable (`<name>.sh`) runs, allowing `caller`; gives the folder (keep it alive) and a
/// launcher that looks only there.
pub fn native_hosts(
    browser: runtime_sim::native::BrowserKind,
    hosts: &[(&str, &str)],
    caller: &str,
) -> (tempfile::TempDir, runtime_sim::native::Launcher) {
    use runtime_sim::native::{BrowserKind, Launcher, Lookup};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary folder");
    for (name, body) in hosts {
        let exe = dir.path().join(format!("{name}.sh"));
        std::fs::write(&exe, format!("#!/bin/sh\n{body}\n")).expect("writes the host");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut manifest = json!({
            "name": name, "description": "test host", "path": exe, "type": "stdio"
        });
        match browser {
            BrowserKind::Firefox => manifest["allowed_extensions"] = json!([caller]),
            _ => manifest["allowed_origins"] = json!([format!("chrome-extension://{caller}/")]),
        }
        std::fs::write(
            dir.path().join(format!("{name}.json")),
            manifest.to_string(),
        )
        .expect("writes the manifest");
    }
    let launcher = Launcher::new(browser)
        .with_lookup(Lookup::new(browser).dir(dir.path()).without_default_dirs());
    (dir, launcher)
}

/// A shell command that runs the project's ping-pong host (the command, built with `cli`).
#[cfg(feature = "cli")]
pub fn ping_pong_host() -> String {
    format!(
        "exec '{}' host ping-pong",
        env!("CARGO_BIN_EXE_runtime-sim")
    )
}

/// The browser's warnings (`TraceEvent::Warning`), in order.
pub fn warnings(trace: &Trace) -> Vec<String> {
    trace
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}
