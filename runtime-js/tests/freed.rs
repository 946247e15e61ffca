//! What a page's JavaScript holds goes with the page: its context when it unloads, and the
//! extension's engine when no page of it is loaded, so that a suspended extension keeps no
//! JavaScript heap.

use std::time::Duration;

use runtime_core::{Browser, ExtensionSpec, PageState};
use runtime_js::{live_contexts, live_engines, JsScript};
use serde_json::json;

fn event_page(name: &str) -> ExtensionSpec {
    let manifest = json!({"name": name, "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}});
    let source = r#"
        let wakes = 0;
        chrome.alarms.onAlarm.addListener(() => { wakes += 1; });
        chrome.runtime.onMessage.addListener((m, s, reply) => { reply(wakes); });
    "#;
    ExtensionSpec::from_json(manifest)
        .unwrap()
        .script(JsScript::new("bg.js", source))
}

/// Three event pages load (three contexts, three engines), idle out and unload (none left);
/// an event wakes one of them (one of each again, the global state fresh).
#[test]
fn contexts_and_engines_are_freed_when_pages_unload() {
    let (contexts, engines) = (live_contexts().total(), live_engines());
    let mut browser = Browser::builder().build();
    let ids: Vec<_> = (0..3)
        .map(|i| browser.install(event_page(&format!("e{i}"))).unwrap())
        .collect();
    browser.start();
    browser.advance(Duration::ZERO);
    assert_eq!(live_contexts().total() - contexts, 3);
    assert_eq!(live_engines() - engines, 3);
    browser.advance(Duration::from_secs(16));
    assert!(ids
        .iter()
        .all(|id| browser.page_state(id) == Some(PageState::Unloaded)));
    assert_eq!(
        live_contexts().total(),
        contexts,
        "every context went with its page"
    );
    assert_eq!(
        live_engines(),
        engines,
        "no engine is kept for a suspended extension"
    );

    browser
        .fire_event(&ids[1], "alarms.onAlarm", json!({"name": "a"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(browser.page_state(&ids[1]), Some(PageState::Active));
    assert_eq!(
        (live_contexts().total() - contexts, live_engines() - engines),
        (1, 1)
    );
    drop(browser);
    assert_eq!(
        (live_contexts().total(), live_engines()),
        (contexts, engines)
    );
}
