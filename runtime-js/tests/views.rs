//! Extension pages in JavaScript: a view (a popup, the options page, a tab on a page of the
//! extension) runs the `<script src>` elements of its HTML in a context of its own, with the
//! `chrome` of an extension page, and the context goes when the view closes.

use std::time::Duration;

use runtime_core::{Browser, ExtensionId, TraceContext, TraceEvent, ViewKind};
use runtime_js::{extension_from_dir, live_contexts};

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("a directory");
        std::fs::write(path, text).expect("writes");
    }
    dir
}

fn browser_with(files: &[(&str, &str)]) -> (Browser, ExtensionId, tempfile::TempDir) {
    let dir = folder(files);
    let spec = extension_from_dir(dir.path()).expect("loads");
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id, dir)
}

/// The console's lines and the warnings, with where: `[bg]`, `[popup]`, `[options]`, `[tab]`.
fn lines(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| {
                let text = match &e.event {
                    TraceEvent::Console { message, .. } => message.clone(),
                    TraceEvent::Warning { message } => format!("warning: {message}"),
                    _ => return None,
                };
                let place = match &e.context {
                    Some(TraceContext::Background) => "bg",
                    Some(TraceContext::View { kind, .. }) => kind.as_str(),
                    _ => "?",
                };
                Some(format!("[{place}] {text}"))
            })
            .collect()
    })
}

const MANIFEST: &str = r#"{"name": "Views", "version": "1.0",
    "background": {"scripts": ["bg.js"], "persistent": false},
    "browser_action": {"default_popup": "popup/popup.html"},
    "options_ui": {"page": "options.html"}}"#;

const BACKGROUND: &str = r#"
    var counter = 41;
    chrome.runtime.onConnect.addListener((port) => {
      console.log("connected", port.name, port.sender.url.endsWith("/popup/popup.html"));
      port.onMessage.addListener((message) => {
        counter += 1;
        port.postMessage({ doubled: message.n * 2 });
      });
      port.onDisconnect.addListener(() => console.log("popup gone", chrome.runtime.lastError === undefined));
    });
"#;

#[test]
fn a_popups_port_talks_to_the_background_page_and_disconnects_when_the_popup_closes() {
    let (mut browser, id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        ("bg.js", BACKGROUND),
        (
            "popup/popup.html",
            r#"<!doctype html><html><head>
               <script src="../lib/shared.js"></script>
               <script src="popup.js"></script>
               <script>console.log("inline")</script>
               </head><body></body></html>"#,
        ),
        ("lib/shared.js", "var factor = 21;"),
        (
            "popup/popup.js",
            r#"const port = chrome.runtime.connect({ name: "popup" });
               port.onMessage.addListener((answer) => console.log("answer", answer.doubled));
               port.postMessage({ n: factor });"#,
        ),
    ]);
    let before = live_contexts().views;
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup/popup.html")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(live_contexts().views, before + 1);
    assert!(browser.close_view(&id, view));
    browser.advance(Duration::from_secs(1));
    assert_eq!(live_contexts().views, before);
    assert_eq!(
        lines(&browser),
        [
            "[popup] warning: runtime-sim: the inline <script> at popup/popup.html:4 is not run: the Content Security Policy of extension pages forbids inline script",
            "[bg] connected popup true",
            "[popup] answer 42",
            "[bg] popup gone true",
        ]
    );
}

#[test]
fn a_view_has_the_background_pages_window_and_the_extension_pages_chrome() {
    let (mut browser, id, _dir) = browser_with(&[
        ("manifest.json", MANIFEST),
        ("bg.js", BACKGROUND),
        ("options.html", r#"<script src="options.js"></script>"#),
        (
            "options.js",
            r#"console.log(typeof chrome.tabs.query, typeof chrome.alarms.create,
                 typeof chrome.storage.local.set, typeof chrome.runtime.onInstalled);
               chrome.runtime.getBackgroundPage((bg) => {
                 bg.counter += 1;
                 console.log("background counter", bg.counter, bg === window);
               });"#,
        ),
    ]);
    // The event page idles and unloads: getBackgroundPage loads it again first.
    browser.advance(Duration::from_secs(30));
    browser
        .open_view(&id, ViewKind::Options, "options.html")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        lines(&browser),
        [
            "[options] function function function object",
            "[options] background counter 42 false",
        ]
    );
}

#[test]
fn a_service_worker_extension_has_no_background_page_to_give() {
    let (mut browser, id, _dir) = browser_with(&[
        (
            "manifest.json",
            r#"{"name": "Worker", "version": "1.0", "manifest_version": 3,
                "background": {"service_worker": "sw.js"},
                "action": {"default_popup": "popup.html"}}"#,
        ),
        ("sw.js", ""),
        ("popup.html", r#"<script src="popup.js"></script>"#),
        (
            "popup.js",
            r#"chrome.runtime.getBackgroundPage().then(
                 () => console.log("resolved"),
                 (e) => console.log("rejected", e.message));
               chrome.runtime.getBackgroundPage((page) => {
                 console.log("callback", page, chrome.runtime.lastError.message);
               });"#,
        ),
    ]);
    browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        lines(&browser),
        [
            "[popup] rejected You do not have a background page.",
            "[popup] callback undefined You do not have a background page.",
        ]
    );
}

#[test]
fn a_view_on_a_page_that_is_not_there_runs_nothing_and_says_so() {
    let (mut browser, id, _dir) = browser_with(&[("manifest.json", MANIFEST), ("bg.js", "")]);
    browser
        .open_view(&id, ViewKind::Popup, "nowhere.html")
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        lines(&browser),
        ["[popup] warning: runtime-sim: the extension has no page nowhere.html: the view runs no script"]
    );
}
