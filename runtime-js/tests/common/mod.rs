//! What the runtime-js test files share.

use runtime_core::{Browser, TraceEvent};

/// What the scripts wrote to the console, in order.
pub fn console_messages(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    })
}

/// Fires `alarms.onAlarm` at the extension (how these tests make a background script act),
/// then lets a second of virtual time pass.
// Not every test file that shares this module fires alarms.
#[allow(dead_code)]
pub fn fire_alarm(browser: &mut Browser, id: &runtime_core::ExtensionId) {
    browser
        .fire_event(id, "alarms.onAlarm", serde_json::json!({}))
        .unwrap();
    browser.advance(std::time::Duration::from_secs(1));
}
