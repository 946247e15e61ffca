//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use runtime_sim::{
    BackgroundScript, Browser, ExtensionId, ExtensionSpec, SimInstant, Trace, TraceEvent,
};
use serde_json::json;

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
        .iter()
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
