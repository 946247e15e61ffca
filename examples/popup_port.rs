//! A popup holds a long-lived port to its extension's event page. While the popup is open and
//! posting, the page stays loaded; when the popup closes, the port disconnects (the page's end
//! gets `onDisconnect`) and the page unloads 15 s later.
//!
//! Run with `cargo run --example popup_port`. It prints what each end saw, the page's state as
//! time passes, then the timeline of the simulated browser (virtual time: nothing here waits in
//! real time).

use std::time::Duration;

use runtime_sim::{script_fn, Browser, ExtensionSpec, Port, ViewKind};
use serde_json::{json, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = json!({
        "name": "Stopwatch",
        "version": "1.0",
        "manifest_version": 2,
        "background": { "scripts": ["background.js"], "persistent": false },
        "browser_action": { "default_popup": "popup.html" }
    });

    // The page answers each tick on the port it was given, and notices when the popup goes.
    let script = script_fn(|rt| async move {
        rt.on_connect().add_listener(|port: Port| {
            println!("  (background) onConnect: port {:?}", port.name());
            port.on_message()
                .add_listener(|(message, port): (Value, Port)| {
                    let tick = message["tick"].as_u64().unwrap_or(0);
                    let _ = port.post_message(&json!({ "ack": tick }));
                });
            port.on_disconnect().add_listener(|_port: Port| {
                println!("  (background) onDisconnect: the popup went away")
            });
        });
        Ok(())
    });

    let mut browser = Browser::builder().build();
    let id = browser.install(ExtensionSpec::from_json(manifest)?.script(script))?;
    browser.start();
    browser.advance(Duration::from_secs(30));
    println!(
        "before the popup opens, the page is {:?}",
        browser.page_state(&id)
    );

    // The user opens the popup; it connects to the page, which is woken for it.
    let popup = browser.open_view(&id, ViewKind::Popup, "popup.html")?;
    let popup_runtime = browser
        .view_runtime(&id, popup)
        .ok_or("the popup is not open")?;
    let port = popup_runtime.connect("stopwatch")?;
    port.on_message()
        .add_listener(|(message, _port): (Value, Port)| {
            println!("  (popup) got {message}");
        });

    // For a minute, the popup posts a tick every 10 s: far longer than the page's idle delay.
    for tick in 1..=6 {
        port.post_message(&json!({ "tick": tick }))?;
        browser.advance(Duration::from_secs(10));
        println!(
            "{}  tick {tick} answered; the page is {:?}",
            browser.now(),
            browser.page_state(&id)
        );
    }

    // The user closes the popup: its port goes with it, and the page's end is told.
    browser.close_view(&id, popup);
    browser.advance(Duration::ZERO);
    println!(
        "{}  popup closed; the page is {:?}",
        browser.now(),
        browser.page_state(&id)
    );
    // 10 s idle: onSuspend; 5 s more: unloaded.
    for wait in [10, 5] {
        browser.advance(Duration::from_secs(wait));
        println!(
            "{}  the page is {:?}",
            browser.now(),
            browser.page_state(&id)
        );
    }

    println!("\nTimeline (virtual time):\n");
    print!("{}", browser.trace().timeline());
    Ok(())
}
