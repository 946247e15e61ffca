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
