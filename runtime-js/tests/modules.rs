//! ES modules: a module service worker (`"type": "module"`) and module scripts of a page
//! import the extension's other files by URL, served from what was read when the extension
//! was loaded. In a service worker `import()` is refused, as in Chromium; a static import that
//! cannot be loaded fails the worker's registration.

use std::path::Path;
use std::time::Duration;

use runtime_core::{Browser, ExtensionId, ExtensionSpec, PageState, Profile, TraceEvent};
use runtime_js::{extension_from_dir, JsScript};
use serde_json::json;

/// A folder with these files (`dir/name` paths make their directories).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    write_files(dir.path(), files);
    dir
}

fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("a directory");
        std::fs::write(path, text).expect("writes");
    }
}

const MODULE_WORKER: &str = r#"{"name": "Modules", "version": "1.0", "manifest_version": 3,
    "background": {"service_worker": "sw.js", "type": "module"}}"#;

/// The extension in `dir`, installed in a started Chrome (MV3) browser.
fn started(dir: &Path) -> (Browser, ExtensionId) {
    let spec = extension_from_dir(dir).expect("the folder loads");
    let mut browser = Browser::builder().profile(Profile::ChromeMv3).build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

/// The console's lines and the load failures, in order.
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

#[test]
fn a_module_worker_imports_its_helpers_and_import_is_refused_as_in_chromium() {
    let dir = folder(&[
        ("manifest.json", MODULE_WORKER),
        (
            "sw.js",
            r#"import { greet } from "./lib/greet.js";
               import { VERSION } from "/lib/version.js";
               import * as again from "./lib/../lib/greet.js";
               console.log("worker loaded", again.greet === greet, import.meta.url === chrome.runtime.getURL("sw.js"));
               chrome.runtime.onInstalled.addListener(async () => {
                   console.log(greet("installed"), VERSION);
                   try {
                       await import("./lib/late.js");
                       console.log("import() ran");
                   } catch (e) {
                       console.log(e.name, e.message);
                   }
               });
               chrome.alarms.onAlarm.addListener((alarm) => console.log(greet(alarm.name), VERSION));"#,
        ),
        (
            "lib/greet.js",
            r#"import { shout } from "../util/strings.js";
               export const greet = (who) => shout(`hello ${who}`);"#,
        ),
        ("lib/version.js", "export const VERSION = 2;"),
        ("lib/late.js", "console.log('late module ran');"),
        (
            "util/strings.js",
            "export const shout = (text) => text.toUpperCase();",
        ),
    ]);
    let (mut browser, id) = started(dir.path());
    browser.advance(Duration::from_secs(40));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    // A later start evaluates the graph again, in a fresh context.
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "alarm"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        lines(&browser),
        [
            "worker loaded true true",
            "HELLO INSTALLED 2",
            "TypeError import() is disallowed on ServiceWorkerGlobalScope by the HTML specification. See https://github.com/w3c/ServiceWorker/issues/1356.",
            "worker loaded true true",
            "HELLO ALARM 2",
        ]
    );
}

#[test]
fn a_module_that_is_not_there_fails_the_workers_registration_saying_where() {
    let dir = folder(&[
        ("manifest.json", MODULE_WORKER),
        ("sw.js", "import './lib/ok.js';\nconsole.log('never runs');"),
        ("lib/ok.js", "import { x } from './missing.js';"),
    ]);
    let (browser, id) = started(dir.path());
    assert_eq!(
        lines(&browser),
        [
            format!("runtime-sim: the module './missing.js' imported by lib/ok.js (chrome-extension://{id}/lib/missing.js) could not be loaded: the extension has no such file"),
            "failed: Service worker registration failed. Status code: 3".to_owned(),
        ]
    );
}

#[test]
fn an_import_cannot_leave_the_extensions_folder() {
    let outer = tempfile::tempdir().unwrap();
    write_files(
        outer.path(),
        &[
            (
                "outside.js",
                "console.log('outside ran'); export const x = 1;",
            ),
            ("ext/manifest.json", MODULE_WORKER),
            (
                "ext/sw.js",
                "import { x } from '../outside.js';\nconsole.log('worker ran', x);",
            ),
        ],
    );
    let ext = outer.path().join("ext");
    let (browser, id) = started(&ext);
    // As in a URL, "../" stops at the extension's root: this names <root>/outside.js.
    assert_eq!(
        lines(&browser),
        [
            format!("runtime-sim: the module '../outside.js' imported by sw.js (chrome-extension://{id}/outside.js) could not be loaded: the extension has no such file"),
            "failed: Service worker registration failed. Status code: 3".to_owned(),
        ]
    );

    // A link inside the folder to a file outside it is refused too.
    #[cfg(unix)]
    {
        std::fs::write(ext.join("sw.js"), "import './link.js';").unwrap();
        std::os::unix::fs::symlink(outer.path().join("outside.js"), ext.join("link.js")).unwrap();
        let (browser, _) = started(&ext);
        let lines = lines(&browser);
        assert!(
            lines[0].ends_with("could not be loaded: the path leaves the extension's folder"),
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.contains("outside ran")),
            "{lines:?}"
        );
    }
}

#[test]
fn a_bare_specifier_and_top_level_await_fail_a_worker_with_chromiums_words() {
    let dir = folder(&[
        ("manifest.json", MODULE_WORKER),
        ("sw.js", "import _ from 'lodash';"),
    ]);
    let (browser, _) = started(dir.path());
    assert_eq!(
        lines(&browser),
        [
            r#"Failed to resolve module specifier "lodash". Relative references must start with either "/", "./", or "../"."#,
            "failed: Service worker registration failed. Status code: 3",
        ]
    );

    let dir = folder(&[
        ("manifest.json", MODULE_WORKER),
        (
            "sw.js",
            "import './lib/wait.js';\nchrome.runtime.onInstalled.addListener(() => console.log('installed'));",
        ),
        ("lib/wait.js", "await Promise.resolve();"),
    ]);
    let (browser, _) = started(dir.path());
    assert_eq!(
        lines(&browser),
        [
            "Top-level await is disallowed in service workers.",
            "failed: Service worker registration failed. Status code: 3",
        ]
    );
}

#[test]
fn an_error_thrown_by_a_module_fails_the_load_like_a_scripts() {
    let dir = folder(&[
        ("manifest.json", MODULE_WORKER),
        ("sw.js", "import './lib/bad.js';"),
        (
            "lib/bad.js",
            "export const a = 1;\nthrow new Error('module broke');",
        ),
    ]);
    let (browser, _) = started(dir.path());
    let lines = lines(&browser);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("failed: Uncaught Error: module broke (lib/bad.js:2"),
        "{lines:?}"
    );
}

/// A page's module scripts may `import()`: only service workers refuse it.
#[test]
fn a_pages_modules_import_dynamically_and_a_missing_one_rejects() {
    let manifest = json!({"name": "Page modules", "version": "1.0",
        "background": {"scripts": ["main.js"], "persistent": false}});
    let script = JsScript::new_module(
        "main.js",
        r#"import { base } from "./lib/base.js";
           chrome.runtime.onInstalled.addListener(async () => {
               const late = await import("./lib/late.js");
               console.log(base, late.value, typeof importScripts);
               try {
                   await import("./lib/none.js");
               } catch (e) {
                   console.log(e.name, e.message);
               }
               try {
                   await import("lodash");
               } catch (e) {
                   console.log(e.name, e.message);
               }
           });"#,
    )
    .resource("lib/base.js", "export const base = 'base';")
    .resource("lib/late.js", "export const value = 'late';");
    let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        lines(&browser),
        [
            "base late undefined".to_owned(),
            format!("TypeError Failed to fetch dynamically imported module: chrome-extension://{id}/lib/none.js"),
            "TypeError Failed to resolve module specifier 'lodash'".to_owned(),
        ]
    );
}

/// Firefox's background scripts are modules when `background.type` is `"module"`; their
/// URLs are the extension's `moz-extension://` ones.
#[test]
fn firefox_background_scripts_of_type_module_are_modules() {
    let dir = folder(&[
        (
            "manifest.json",
            r#"{"name": "Firefox modules", "version": "1.0", "manifest_version": 3,
                "background": {"scripts": ["bg.js"], "type": "module"}}"#,
        ),
        (
            "bg.js",
            r#"import { two } from "./lib/two.js";
               console.log(two, import.meta.url === browser.runtime.getURL("bg.js"), import.meta.url.startsWith("moz-extension://"));"#,
        ),
        ("lib/two.js", "export const two = 2;"),
    ]);
    let spec = extension_from_dir(dir.path()).unwrap();
    let mut browser = Browser::builder().profile(Profile::Firefox).build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    assert_eq!(lines(&browser), ["2 true true"]);
}
