//! The native test helpers from a simulated browser: a host registered in one call
//! (`TempHost`), whose launcher finds it and nothing of the machine's own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use runtime_sim::native::{BrowserKind, TempHost};
use runtime_sim::{script_fn, Browser, ExtensionSpec, Runtime};
use serde_json::json;

#[test]
fn an_extension_talks_to_a_temp_host() {
    let slot: Arc<Mutex<Option<Runtime>>> = Arc::default();
    let keep = slot.clone();
    let spec = ExtensionSpec::from_json(json!({
        "name": "Native", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false},
        "permissions": ["nativeMessaging"]
    }))
    .unwrap()
    .script(script_fn(move |rt| {
        let keep = keep.clone();
        async move {
            *keep.lock().unwrap() = Some(rt);
            Ok(())
        }
    }));
    // `cat` sends each frame back: an echo host, allowed for this extension only.
    let host = TempHost::script(
        BrowserKind::Chrome,
        "com.example.echo",
        "exec cat",
        &[spec.id().as_str()],
    )
    .unwrap();
    let mut browser = Browser::builder().native_launcher(host.launcher()).build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    let rt = slot.lock().unwrap().clone().expect("the page loaded");
    let answer = browser
        .block_on(rt.send_native_message("com.example.echo", &json!({"n": 1})))
        .unwrap();
    assert_eq!(answer, Ok(json!({"n": 1})));
    // A host of the machine, or any other, is not found.
    let missing = browser
        .block_on(rt.send_native_message("com.example.elsewhere", &json!(1)))
        .unwrap();
    assert_eq!(
        missing.unwrap_err().to_string(),
        "Specified native messaging host not found."
    );
}
