//! A background page given as HTML (`background.page`): its `<script src>` elements run as
//! `background.scripts` would, in the order the browser runs them; inline scripts do not run
//! (extension pages' Content Security Policy forbids them), and the trace says so.

use std::time::Duration;

use runtime_core::{Browser, PageState, TraceEvent};
use runtime_js::extension_from_dir;

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("a directory");
        std::fs::write(path, text).expect("writes");
    }
    dir
}

/// The console's lines, the warnings and the load failures, in order.
fn lines(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console { message, .. } => Some(message.clone()),
                TraceEvent::ScriptFailed { message } => Some(format!("failed: {message}")),
                TraceEvent::Warning { message } => Some(format!("warning: {message}")),
                _ => None,
            })
            .collect()
    })
}

const EVENT_PAGE: &str = r#"{"name": "Page", "version": "1.0",
    "background": {"page": "bg/page.html", "persistent": false}}"#;

#[test]
fn the_pages_scripts_run_in_order() {
    let dir = folder(&[
        ("manifest.json", EVENT_PAGE),
        (
            "bg/page.html",
            r#"<!doctype html>
<html>
  <head>
    <!-- <script src="commented.js"></script> -->
    <script src="../lib/first.js"></script>
    <script type="module" src="/bg/last.js"></script>
    <script src="second.js"></script>
    <script>console.log("inline ran");</script>
  </head>
  <body></body>
</html>"#,
        ),
        ("lib/first.js", "var order = ['first'];"),
        ("bg/second.js", "order.push('second');"),
        (
            "bg/last.js",
            r#"import { tag } from "./tag.js";
               order.push(tag);
               chrome.runtime.onInstalled.addListener(() => console.log(order.join(" > ")));"#,
        ),
        ("bg/tag.js", "export const tag = 'module';"),
        ("commented.js", "order.push('commented');"),
    ]);
    let spec = extension_from_dir(dir.path()).unwrap();
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        lines(&browser),
        [
            "warning: runtime-sim: the inline <script> at bg/page.html:8 is not run: the Content Security Policy of extension pages forbids inline script",
            // The module script is deferred: it runs after the classic ones.
            "first > second > module",
        ]
    );
    browser.advance(Duration::from_secs(30));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}

#[test]
fn a_script_file_that_is_not_there_is_a_console_error_and_the_page_goes_on() {
    let dir = folder(&[
        ("manifest.json", EVENT_PAGE),
        (
            "bg/page.html",
            r#"<script src="gone.js"></script><script src='here.js'></script>"#,
        ),
        ("bg/here.js", "console.log('here ran');"),
    ]);
    let spec = extension_from_dir(dir.path()).unwrap();
    let mut browser = Browser::builder().build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    assert_eq!(
        lines(&browser),
        [
            "Failed to load resource: net::ERR_FILE_NOT_FOUND",
            "here ran"
        ]
    );
}
