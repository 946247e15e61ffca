//! `importScripts(...urls)` in a classic service worker: the extension's files, run in order in
//! the worker's global scope, while the worker is new; after its installation only the
//! scripts it installed, with Chromium's errors for the others. A module worker has none.

use std::path::Path;
use std::time::Duration;

use runtime_core::{Browser, ExtensionId, PageState, Profile, TraceEvent};
use runtime_js::extension_from_dir;
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

const CLASSIC_WORKER: &str = r#"{"name": "Imports", "version": "1.0", "manifest_version": 3,
    "background": {"service_worker": "sw.js"}}"#;

fn started(dir: &Path) -> (Browser, ExtensionId) {
    let spec = extension_from_dir(dir).expect("the folder loads");
    let mut browser = Browser::builder().profile(Profile::ChromeMv3).build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

fn lines(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console { message, .. } => Some(message.clone()),
                TraceEvent::ScriptFailed { message } => Some(format!("failed: {message}")),
                _ => None,
            })
            .collect()
    })
}

/// A worker that imports two helpers at its top level, and tries more later.
const WORKER: &str = r#"
    importScripts("lib/a.js", "/lib/b.js");
    importScripts();
    console.log("top level:", A, B, typeof helper);
    const attempt = (url) => {
        try {
            importScripts(url);
            return "ran " + url;
        } catch (e) {
            return `${e.name} ${e instanceof DOMException} ${e.message}`;
        }
    };
    chrome.runtime.onInstalled.addListener(() => {
        console.log(attempt("lib/late.js"));
        console.log(attempt("./lib/a.js"));
    });
    chrome.alarms.onAlarm.addListener(() => console.log(attempt("lib/late.js")));
"#;

#[test]
fn import_scripts_runs_files_at_the_top_level_and_refuses_new_ones_after_installation() {
    let dir = folder(&[
        ("manifest.json", CLASSIC_WORKER),
        ("sw.js", WORKER),
        (
            "lib/a.js",
            "var A = 'a'; function helper() {} console.log('a.js ran');",
        ),
        ("lib/b.js", "var B = A + 'b';"),
        ("lib/late.js", "console.log('late.js ran');"),
    ]);
    let (mut browser, id) = started(dir.path());
    let url = |path: &str| format!("chrome-extension://{id}/{path}");
    // The worker stops when idle; an alarm starts the installed worker again.
    browser.advance(Duration::from_secs(40));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "later"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        lines(&browser),
        [
            "a.js ran".to_owned(),
            "top level: a ab function".to_owned(),
            // During the first run, after the installation: the browser does not serve it.
            format!("NetworkError true Failed to execute 'importScripts' on 'WorkerGlobalScope': The script at '{}' failed to load.", url("lib/late.js")),
            // A script installed with the worker runs again.
            "a.js ran".to_owned(),
            "ran ./lib/a.js".to_owned(),
            // The installed worker, started again: its scripts are served from the install.
            "a.js ran".to_owned(),
            "top level: a ab function".to_owned(),
            format!("NetworkError true Failed to execute 'importScripts' on 'WorkerGlobalScope': Failed to import '{}'. importScripts() of new scripts after service worker installation is not allowed.", url("lib/late.js")),
        ]
    );
}

#[test]
fn a_missing_script_or_another_origins_fails_to_load() {
    let dir = folder(&[
        ("manifest.json", CLASSIC_WORKER),
        (
            "sw.js",
            r#"try { importScripts("https://cdn.example/lib.js"); } catch (e) { console.log(e.name, e.message); }
               importScripts("lib/none.js");"#,
        ),
    ]);
    let (browser, id) = started(dir.path());
    let lines = lines(&browser);
    assert_eq!(lines[0], "NetworkError Failed to execute 'importScripts' on 'WorkerGlobalScope': The script at 'https://cdn.example/lib.js' failed to load.");
    assert!(
        lines[1].starts_with(&format!("failed: Uncaught NetworkError: Failed to execute 'importScripts' on 'WorkerGlobalScope': The script at 'chrome-extension://{id}/lib/none.js' failed to load.")),
        "{lines:?}"
    );
}

#[test]
fn an_imported_scripts_error_is_the_callers() {
    let dir = folder(&[
        ("manifest.json", CLASSIC_WORKER),
        (
            "sw.js",
            r#"try { importScripts("lib/throws.js"); } catch (e) { console.log("caught", e.message); }
               try { importScripts("lib/loop.js"); } catch (e) { console.log(e.name, e.message); }"#,
        ),
        ("lib/throws.js", "throw new Error('helper broke');"),
        // importScripts resolves against the worker's URL, not the importing script's.
        ("lib/loop.js", "importScripts('lib/loop.js');"),
    ]);
    let (browser, _) = started(dir.path());
    assert_eq!(
        lines(&browser),
        [
            "caught helper broke",
            "RangeError Maximum call stack size exceeded"
        ]
    );
}

#[test]
fn a_module_worker_has_import_scripts_that_throws_and_a_page_has_none() {
    let dir = folder(&[
        (
            "manifest.json",
            r#"{"name": "Module", "version": "1.0", "manifest_version": 3,
                "background": {"service_worker": "sw.js", "type": "module"}}"#,
        ),
        (
            "sw.js",
            r#"try { importScripts("lib/a.js"); } catch (e) { console.log(e instanceof TypeError, e.message); }"#,
        ),
        ("lib/a.js", "console.log('a.js ran');"),
    ]);
    let (browser, _) = started(dir.path());
    assert_eq!(
        lines(&browser),
        ["true Failed to execute 'importScripts' on 'WorkerGlobalScope': Module scripts don't support importScripts()."]
    );

    let dir = folder(&[
        (
            "manifest.json",
            r#"{"name": "Page", "version": "1.0",
                "background": {"scripts": ["bg.js"], "persistent": false}}"#,
        ),
        ("bg.js", "console.log(typeof importScripts);"),
    ]);
    let (browser, _) = started(dir.path());
    assert_eq!(lines(&browser), ["undefined"]);
}
