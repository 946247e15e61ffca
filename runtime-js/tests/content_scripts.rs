//! Content scripts in JavaScript: the manifest's `content_scripts[].js` run in a context of
//! their own in each matching frame, with the `chrome.runtime` content scripts have, and go
//! with the frame.

use std::time::Duration;

use runtime_core::{Browser, ExtensionId, FrameId, TraceEvent};
use runtime_js::{extension_from_dir, live_contexts, LoadError};
use serde_json::json;

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("a directory");
        std::fs::write(path, text).expect("writes");
    }
    dir
}

/// A started browser with the extension of `files` installed.
fn browser_with(files: &[(&str, &str)]) -> (Browser, ExtensionId, tempfile::TempDir) {
    let dir = folder(files);
    let spec = extension_from_dir(dir.path()).expect("loads");
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id, dir)
}

/// What was written to the console, with where: `[context] message`.
fn console(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console { message, .. } => {
                    let place = match &e.context {
                        Some(runtime_core::TraceContext::ContentScript { tab, frame }) => {
                            format!("cs {tab}/{frame}")
                        }
                        Some(runtime_core::TraceContext::Background) => "bg".to_owned(),
                        other => format!("{other:?}"),
                    };
                    Some(format!("[{place}] {message}"))
                }
                _ => None,
            })
            .collect()
    })
}

const MANIFEST: &str = r#"{"name": "Pages", "version": "1.0",
    "background": {"scripts": ["bg.js"], "persistent": false},
    "content_scripts": [
        {"matches": ["https://example.com/*"], "js": ["lib.js", "cs.js"]},
        {"matches": ["https://example.com/frame*"], "js": ["frame.js"], "all_frames": true}
    ]}"#;

#[test]
fn a_content_script_sends_a_message_and_gets_the_backgrounds_answer() {
    let (mut browser, _id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        (
            "bg.js",
            r#"chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
                 sendResponse({
                   echo: message.text,
                   tab: sender.tab.id, frameId: sender.frameId,
                   url: sender.url, origin: sender.origin,
                   own: sender.id === chrome.runtime.id,
                 });
               });"#,
        ),
        ("lib.js", "var greeting = 'hello';"),
        (
            "cs.js",
            r#"chrome.runtime.sendMessage({ text: greeting }, (answer) => {
                 console.log(JSON.stringify(answer));
               });"#,
        ),
        ("frame.js", "console.log('frame script ran');"),
    ]);
    let tab = browser.open_tab("https://example.com/news?x=1").unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        console(&browser),
        [format!(
            r#"[cs {tab}/0] {{"echo":"hello","tab":{tab},"frameId":0,"url":"https://example.com/news?x=1","origin":"https://example.com","own":true}}"#
        )]
    );
    // In a child frame the second entry's script runs (all_frames), and only it.
    browser
        .open_frame(tab, FrameId::TOP, "https://example.com/frame/1")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        console(&browser).last().map(String::as_str),
        Some("[cs 1/1] frame script ran")
    );
}

#[test]
fn the_background_sends_to_a_tab_and_gets_the_content_scripts_reply() {
    let (mut browser, id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        (
            "bg.js",
            r#"chrome.alarms.onAlarm.addListener((alarm) => {
                 const tab = alarm.tab;
                 chrome.tabs.sendMessage(tab, { ask: "where" }, (reply) => {
                   console.log("reply", JSON.stringify(reply));
                 });
                 chrome.tabs.sendMessage(tab, { ask: "where" }, { frameId: 5 }, (reply) => {
                   console.log("frame 5", reply === undefined, chrome.runtime.lastError.message);
                 });
                 chrome.tabs.sendMessage(tab + 100, { ask: "where" }, () => {
                   console.log("no tab", chrome.runtime.lastError.message);
                 });
               });"#,
        ),
        ("lib.js", ""),
        (
            "cs.js",
            r#"chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
                 sendResponse({ got: message.ask, fromExtension: sender.id === chrome.runtime.id, tab: sender.tab === undefined });
               });"#,
        ),
        ("frame.js", ""),
    ]);
    let tab = browser.open_tab("https://example.com/").unwrap();
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "go", "tab": tab}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let none = "Could not establish connection. Receiving end does not exist.";
    let mut lines = console(&browser);
    lines.sort();
    assert_eq!(
        lines,
        [
            format!("[bg] frame 5 true {none}"),
            format!("[bg] no tab {none}"),
            r#"[bg] reply {"got":"where","fromExtension":true,"tab":true}"#.to_owned(),
        ]
    );
}

#[test]
fn a_content_scripts_context_goes_with_its_frame() {
    let (mut browser, id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        ("bg.js", ""),
        ("lib.js", ""),
        (
            "cs.js",
            r#"chrome.runtime.onMessage.addListener(() => { console.log("still here"); });
               setInterval(() => {}, 1000);"#,
        ),
        ("frame.js", ""),
    ]);
    let before = live_contexts().content_scripts;
    let tab = browser.open_tab("https://example.com/").unwrap();
    let other = browser.open_tab("https://example.com/two").unwrap();
    browser.advance(Duration::from_secs(2));
    assert_eq!(live_contexts().content_scripts, before + 2);
    assert!(browser.close_tab(tab));
    browser.advance(Duration::from_secs(2));
    assert_eq!(live_contexts().content_scripts, before + 1);
    // Navigating away is the end of the frame's document, and of its content script; the new
    // page gets a fresh one, which a page that does not match does not.
    browser
        .navigate(other, "https://elsewhere.example/")
        .unwrap();
    browser.advance(Duration::from_secs(2));
    assert_eq!(live_contexts().content_scripts, before);
    assert!(browser.content_script(&id, other, FrameId::TOP).is_none());
    drop(browser);
    assert_eq!(live_contexts().content_scripts, before);
}

#[test]
fn the_members_a_content_script_does_not_have_are_undefined() {
    let (mut browser, _id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        ("bg.js", ""),
        ("lib.js", ""),
        (
            "cs.js",
            r#"const absent = ["getPlatformInfo", "getBackgroundPage", "openOptionsPage",
                 "setUninstallURL", "reload", "requestUpdateCheck", "connectNative",
                 "sendNativeMessage", "onInstalled", "onStartup", "onSuspend",
                 "onMessageExternal", "onConnectExternal"]
                 .filter((m) => chrome.runtime[m] !== undefined);
               const present = ["id", "getManifest", "getURL", "sendMessage", "connect",
                 "onMessage", "onConnect"].filter((m) => chrome.runtime[m] === undefined);
               console.log("present but should not be:", absent.join(",") || "none");
               console.log("missing:", present.join(",") || "none", "lastError" in chrome.runtime);
               console.log(typeof chrome.storage.local.get, typeof chrome.tabs, typeof chrome.alarms);
               console.log(chrome.runtime.getURL("x.js") === "chrome-extension://" + chrome.runtime.id + "/x.js",
                 chrome.runtime.getManifest().name);
               try { chrome.runtime.onInstalled.addListener(() => {}); }
               catch (e) { console.log(e.name); }"#,
        ),
        ("frame.js", ""),
    ]);
    browser.open_tab("https://example.com/").unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        console(&browser),
        [
            "[cs 1/0] present but should not be: none",
            "[cs 1/0] missing: none true",
            "[cs 1/0] function undefined undefined",
            "[cs 1/0] true Pages",
            "[cs 1/0] TypeError",
        ]
    );
}

#[test]
fn each_content_script_file_runs_on_its_own() {
    let (mut browser, _id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        ("bg.js", ""),
        ("lib.js", "throw new Error('lib broke');"),
        ("cs.js", "console.log('cs ran');"),
        ("frame.js", ""),
    ]);
    browser.open_tab("https://example.com/").unwrap();
    browser.advance(Duration::ZERO);
    let lines = console(&browser);
    assert!(
        lines[0].starts_with("[cs 1/0] Uncaught Error: lib broke"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "[cs 1/0] cs ran");
}

#[test]
fn a_content_script_file_that_is_not_there_fails_the_load() {
    let dir = folder(&[
        ("manifest.json", MANIFEST),
        ("bg.js", ""),
        ("lib.js", ""),
        ("cs.js", ""),
    ]);
    let Err(error) = extension_from_dir(dir.path()) else {
        panic!("the extension loaded");
    };
    assert!(matches!(error, LoadError::ContentScript { .. }));
    assert_eq!(
        error.to_string(),
        "Could not load javascript 'frame.js' for content script."
    );
    std::fs::write(dir.path().join("frame.js"), [0xff, 0xfe]).unwrap();
    let Err(error) = extension_from_dir(dir.path()) else {
        panic!("the extension loaded");
    };
    assert_eq!(
        error.to_string(),
        "Could not load file 'frame.js' for content script. It isn't UTF-8 encoded."
    );
}

/// `location` is the URL of the context's document: the frame's in a content script, the
/// background page's in the background; it is read-only (navigating is not simulated).
#[test]
fn location_is_the_documents_url_and_read_only() {
    let (mut browser, id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        (
            "bg.js",
            "console.log(location.href, self.location.protocol, String(location));",
        ),
        ("lib.js", ""),
        (
            "cs.js",
            r#"console.log(location.hostname, location.pathname, location.search, location.hash,
                 location.origin, location.port === "");
               try { location.href = "https://example.com/elsewhere"; }
               catch (e) { console.log(e.constructor.name, e.message); }
               try { location.assign("/x"); } catch (e) { console.log(e.message); }
               console.log(location.href);"#,
        ),
        ("frame.js", "console.log('frame at', location.pathname);"),
    ]);
    let tab = browser
        .open_tab("https://example.com/news?x=1#top")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    browser
        .open_frame(tab, FrameId::TOP, "https://example.com/frame/1")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        console(&browser),
        [
            format!(
                "[bg] chrome-extension://{id}/_generated_background_page.html chrome-extension: chrome-extension://{id}/_generated_background_page.html"
            ),
            format!("[cs {tab}/0] example.com /news ?x=1 #top https://example.com true"),
            format!("[cs {tab}/0] TypeError navigation is not simulated by runtime-sim"),
            format!("[cs {tab}/0] navigation is not simulated by runtime-sim"),
            format!("[cs {tab}/0] https://example.com/news?x=1#top"),
            format!("[cs {tab}/1] frame at /frame/1"),
        ]
    );
}

/// A service worker's `location` is its script's URL (a `WorkerLocation`: no `assign`).
#[test]
fn a_workers_location_is_its_scripts_url() {
    let (browser, id, _dir) = browser_with(&[
        (
            "manifest.json",
            r#"{"name": "W", "version": "1.0", "manifest_version": 3,
                "background": {"service_worker": "sw/worker.js"}}"#,
        ),
        (
            "sw/worker.js",
            "console.log(location.href, location.pathname, typeof location.assign);",
        ),
    ]);
    assert_eq!(
        console(&browser),
        [format!(
            "[bg] chrome-extension://{id}/sw/worker.js /sw/worker.js undefined"
        )]
    );
}
