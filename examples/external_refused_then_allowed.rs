//! Extension B messages extension A. A's `externally_connectable` lists other ids, not B's, so
//! B gets exactly what it would get if A did not exist: `Could not establish connection.
//! Receiving end does not exist.` Then A is reinstalled (uninstalled, installed again with the
//! same id) with B's id listed, and the same message gets its answer.
//!
//! Run with `cargo run --example external_refused_then_allowed`. It prints both outcomes, then
//! the timeline of the simulated browser (virtual time: nothing here waits in real time).

use std::time::Duration;

use runtime_sim::{script_fn, Browser, ExtensionId, ExtensionSpec, OnMessage, ViewKind};
use serde_json::{json, Value};

/// Extension A: an event page that answers other extensions, if `externally_connectable`
/// lets them in.
fn extension_a(allowed: &[&str]) -> Result<ExtensionSpec, Box<dyn std::error::Error>> {
    let manifest = json!({
        "name": "Dictionary",
        "version": "1.0",
        "manifest_version": 2,
        "background": { "scripts": ["background.js"], "persistent": false },
        "externally_connectable": { "ids": allowed }
    });
    let script = script_fn(|rt| async move {
        rt.on_message_external().add_listener(|m: OnMessage| {
            let word = m.message["define"].as_str().unwrap_or_default().to_owned();
            m.respond(&json!({ "word": word, "definition": "a greeting" }));
        });
        Ok(())
    });
    Ok(ExtensionSpec::from_json(manifest)?.script(script))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut browser = Browser::builder().build();

    // Extension B has no background page: it sends from its popup.
    let b = browser.install(ExtensionSpec::from_json(json!({
        "name": "Reader",
        "version": "1.0",
        "manifest_version": 2,
        "browser_action": { "default_popup": "popup.html" }
    }))?)?;
    // A lets in one extension, which is not B.
    let someone_else = ExtensionId::from_bytes(b"someone else").to_string();
    let a = browser.install(extension_a(&[&someone_else])?)?;
    browser.start();
    // A's page loads for onInstalled, then idles and unloads.
    browser.advance(Duration::from_secs(30));

    let popup = browser.open_view(&b, ViewKind::Popup, "popup.html")?;
    let reader = browser
        .view_runtime(&b, popup)
        .ok_or("the popup is not open")?;
    let question = json!({ "define": "hello" });

    println!("A ({a}) accepts only {someone_else}; B is {b}");
    let first = browser.block_on(reader.send_message_to(a.as_str(), &question))?;
    match &first {
        Ok(answer) => println!("B asked A: answer {}", show(answer)),
        Err(error) => println!("B asked A: error \"{error}\""),
    }

    // A is reinstalled with B's id listed; its id stays the same.
    browser.uninstall(&a)?;
    let again = browser.install(extension_a(&[b.as_str()])?)?;
    assert_eq!(again, a, "the reinstalled extension keeps its id");
    browser.advance(Duration::from_secs(30));
    println!("A reinstalled, now accepting {b}");
    let second = browser.block_on(reader.send_message_to(a.as_str(), &question))?;
    match &second {
        Ok(answer) => println!("B asked A again: answer {}", show(answer)),
        Err(error) => println!("B asked A again: error \"{error}\""),
    }

    println!("\nTimeline (virtual time):\n");
    print!("{}", browser.trace().timeline());
    Ok(())
}

fn show(answer: &Option<Value>) -> String {
    answer
        .as_ref()
        .map_or_else(|| "none".to_owned(), Value::to_string)
}
