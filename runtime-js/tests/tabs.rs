//! `chrome.tabs` in JavaScript: create, get, query, remove, their events, and messages and
//! ports to a tab's content scripts; callbacks with `runtime.lastError`, and promises from
//! Manifest V3 on.

use std::time::Duration;

use runtime_core::{Browser, ExtensionId};
use runtime_js::JsScript;
use serde_json::{json, Value};

mod common;
use common::{console_messages as messages, fire_alarm};

/// A started browser with an extension whose background runs `background` (and whose content
/// script on example.com runs `content`).
fn browser_with(manifest: Value, background: &str, content: &str) -> (Browser, ExtensionId) {
    let file = manifest["background"]["service_worker"]
        .as_str()
        .unwrap_or("bg.js")
        .to_owned();
    let script = JsScript::new(file, background).resource("cs.js", content);
    let spec = script.attach(runtime_core::ExtensionSpec::from_json(manifest).unwrap());
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

fn mv2() -> Value {
    json!({"name": "Tabs", "version": "1.0", "permissions": ["tabs"],
        "background": {"scripts": ["bg.js"], "persistent": false},
        "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]})
}

#[test]
fn tabs_are_queried_created_and_removed_in_the_callback_form() {
    let (mut browser, id) = browser_with(
        mv2(),
        r#"
        chrome.tabs.onCreated.addListener((tab) => console.log("created", tab.url));
        chrome.tabs.onRemoved.addListener((tabId, info) => console.log("removed", tabId, info.windowId, info.isWindowClosing));
        chrome.alarms.onAlarm.addListener(() => {
          try { chrome.tabs.query({}); } catch (e) { console.log(e.message); }
          console.log("no promise in MV2:", chrome.tabs.create({ url: "https://example.org/" }) === undefined);
          chrome.tabs.query({ url: "https://example.com/*" }, (tabs) => {
            console.log("query", tabs.length, tabs[0].url, tabs[0].index, tabs[0].windowId);
            chrome.tabs.remove(tabs[0].id, () => {
              console.log("removed it", chrome.runtime.lastError === undefined);
              chrome.tabs.get(tabs[0].id, (tab) => {
                console.log("get", tab, chrome.runtime.lastError.message);
              });
            });
          });
        });
        "#,
        "",
    );
    let tab = browser.open_tab("https://example.com/a").unwrap();
    fire_alarm(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [
            "created https://example.com/a".to_owned(),
            "Error in invocation of tabs.query(object queryInfo, function callback): No matching signature.".to_owned(),
            "no promise in MV2: true".to_owned(),
            "created https://example.org/".to_owned(),
            "query 1 https://example.com/a 0 1".to_owned(),
            format!("removed {tab} 1 false"),
            "removed it true".to_owned(),
            format!("get undefined No tab with id: {tab}."),
        ]
    );
    assert_eq!(browser.tabs().len(), 1);
}

#[test]
fn manifest_v3_gives_promises_and_a_port_reaches_the_content_script() {
    let manifest = json!({"name": "Tabs 3", "version": "1.0", "manifest_version": 3,
        "background": {"service_worker": "sw.js"},
        "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]});
    let (mut browser, id) = browser_with(
        manifest,
        r#"
        chrome.alarms.onAlarm.addListener(async () => {
          const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
          console.log("active", tab.id, tab.url === undefined, tab.status);
          try { await chrome.tabs.get(4242); } catch (e) { console.log("rejected", e.message); }
          const reply = await chrome.tabs.sendMessage(tab.id, "ping");
          console.log("reply", reply);
          const port = chrome.tabs.connect(tab.id, { name: "chat" });
          port.onMessage.addListener((m) => { console.log("port says", m); port.disconnect(); });
          port.postMessage("hi");
        });
        "#,
        r#"
        chrome.runtime.onMessage.addListener((m, sender, sendResponse) => { sendResponse(m + " pong"); });
        chrome.runtime.onConnect.addListener((port) => {
          port.onMessage.addListener((m) => port.postMessage(m + " back from " + port.name));
          port.onDisconnect.addListener(() => console.log("content script: port closed"));
        });
        "#,
    );
    let tab = browser.open_tab("https://example.com/").unwrap();
    fire_alarm(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [
            // No tabs permission: the tab comes without its URL.
            format!("active {tab} true complete"),
            "rejected No tab with id: 4242.".to_owned(),
            "reply ping pong".to_owned(),
            "port says hi back from chat".to_owned(),
            "content script: port closed".to_owned(),
        ]
    );
}

#[test]
fn a_tab_created_on_an_extension_page_runs_the_pages_scripts() {
    let script = JsScript::new(
        "bg.js",
        r#"chrome.runtime.onMessage.addListener((m, sender) => {
             console.log("from the page", m, typeof sender.tab.id, sender.frameId);
           });
           chrome.alarms.onAlarm.addListener(() => {
             chrome.tabs.create({ url: "page.html", active: false }, (tab) => console.log("opened", tab.index, tab.active));
           });"#,
    )
    .page("page.html", r#"<script src="page.js"></script>"#)
    .resource("page.js", r#"chrome.runtime.sendMessage("hello");"#);
    let spec = script.attach(
        runtime_core::ExtensionSpec::from_json(json!({"name": "Pages", "version": "1.0",
            "background": {"scripts": ["bg.js"], "persistent": false}}))
        .unwrap(),
    );
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.open_tab("https://example.com/").unwrap();
    fire_alarm(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        ["from the page hello number 0", "opened 1 false"]
    );
}

#[test]
fn firefoxs_browser_tabs_gives_promises_in_manifest_v2() {
    let script = JsScript::new(
        "bg.js",
        r#"browser.alarms.onAlarm.addListener(async () => {
             const tabs = await browser.tabs.query({});
             console.log("tabs", tabs.length, typeof chrome.tabs.query({}, () => {}));
           });"#,
    );
    let spec = script.attach(runtime_core::ExtensionSpec::from_json(mv2()).unwrap());
    let mut browser = Browser::builder()
        .profile(runtime_core::Profile::Firefox)
        .build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.open_tab("https://example.org/").unwrap();
    fire_alarm(&mut browser, &id);
    assert_eq!(messages(&browser), ["tabs 1 undefined"]);
}
