//! Start here: an event page idles, is suspended, is woken by an event, and misses one.
//!
//! Run with `cargo run --example event_page`. It prints the timeline of the simulated browser,
//! with virtual timestamps: nothing here waits in real time.

use std::time::Duration;

use runtime_sim::{script_fn, Browser, ExtensionSpec, TraceEvent};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = json!({
        "name": "Alarm clock",
        "version": "1.0",
        "manifest_version": 2,
        "background": { "scripts": ["background.js"], "persistent": false },
        "permissions": ["alarms", "storage"]
    });

    // The background script runs from the top at every load of the page.
    let script = script_fn(|rt| async move {
        // Top level: these listeners are in place for the event that woke the page.
        let storage = rt.storage();
        rt.event("alarms.onAlarm").add_async_listener(move |alarm| {
            let storage = storage.clone();
            async move {
                let rings = storage
                    .get("rings")
                    .await?
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0);
                println!("  (script) alarm {alarm} — ring number {}", rings + 1);
                storage.set("rings", json!(rings + 1)).await
            }
        });
        rt.on_suspend()
            .add_listener(|()| println!("  (script) onSuspend: saving state"));

        // After an await: too late for the event that woke this load.
        rt.sleep(Duration::from_millis(100)).await;
        rt.event("bookmarks.onCreated")
            .add_listener(|bookmark| println!("  (script) bookmark {bookmark}"));
        Ok(())
    });

    let mut browser = Browser::builder().build();
    let id = browser.install(ExtensionSpec::from_json(manifest)?.script(script))?;
    browser.start();

    // onInstalled loads the page; then it idles: onSuspend at +10 s, unloaded at +15 s.
    browser.advance(Duration::from_secs(60));

    // An alarm wakes the page: the top-level listener gets it.
    browser.fire_event(&id, "alarms.onAlarm", json!({"name": "wake-up"}))?;
    browser.advance(Duration::from_secs(60));

    // A bookmark event wakes the page too (the page listened to it last time), but the
    // listener is registered late, after an await, so it misses the event.
    browser.fire_event(&id, "bookmarks.onCreated", json!({"title": "Rust"}))?;
    browser.advance(Duration::from_secs(60));

    println!("\nTimeline (virtual time):\n");
    let trace = browser.trace();
    print!("{}", trace.timeline());

    let missed = trace
        .entries()
        .filter(|e| matches!(e.event, TraceEvent::EventMissed { .. }))
        .count();
    println!(
        "\nThe page loaded {} times; {missed} event(s) missed; stored: {:?}",
        browser.extension(&id).map_or(0, |e| e.page_loads),
        browser.storage(&id)
    );
    Ok(())
}
