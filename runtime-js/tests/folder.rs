//! An extension loaded from its folder runs the JavaScript its manifest names.

use std::time::Duration;

use runtime_core::{Browser, PageState, Profile};
use runtime_js::{extension_from_dir, LoadError};

mod common;
use common::console_messages as console;

fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a folder");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("writes");
    }
    dir
}

#[test]
fn background_scripts_run_in_the_manifests_order() {
    let dir = folder(&[
        (
            "manifest.json",
            r#"{"name": "Two files", "version": "1.0",
                "background": {"scripts": ["lib.js", "bg.js"], "persistent": false}}"#,
        ),
        ("lib.js", "const greet = (who) => `hello ${who}`;"),
        (
            "bg.js",
            "chrome.runtime.onInstalled.addListener(() => console.log(greet(chrome.runtime.getManifest().name)));",
        ),
    ]);
    let spec = extension_from_dir(dir.path()).unwrap();
    let mut browser = Browser::builder().build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(1));
    assert_eq!(console(&browser), ["hello Two files"]);
}

/// A Manifest V3 service worker (a classic one) under Chrome's service-worker rules: it starts
/// for onInstalled and stops 30 s after its last event, with no onSuspend.
#[test]
fn a_classic_service_worker_lives_by_the_service_worker_rules() {
    let dir = folder(&[
        (
            "manifest.json",
            r#"{"name": "Worker", "version": "1.0", "manifest_version": 3,
                "background": {"service_worker": "sw.js"}}"#,
        ),
        (
            "sw.js",
            r#"chrome.runtime.onInstalled.addListener(() => console.log("installed"));
               chrome.runtime.onSuspend.addListener(() => console.log("suspend"));"#,
        ),
    ]);
    let spec = extension_from_dir(dir.path()).unwrap();
    let mut browser = Browser::builder().profile(Profile::ChromeMv3).build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(29));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.advance(Duration::from_secs(2));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert_eq!(console(&browser), ["installed"]);
}

#[test]
fn a_missing_or_hostile_script_file_is_chromiums_load_error() {
    let manifest = r#"{"name": "Broken", "version": "1.0",
        "background": {"scripts": ["missing.js"], "persistent": false}}"#;
    let dir = folder(&[("manifest.json", manifest)]);
    let Err(err) = extension_from_dir(dir.path()) else {
        panic!("the folder loaded");
    };
    assert!(
        err.to_string()
            .starts_with("Could not load background script 'missing.js'."),
        "{err}"
    );

    let escapes = r#"{"name": "Broken", "version": "1.0",
        "background": {"scripts": ["../outside.js"], "persistent": false}}"#;
    let dir = folder(&[("manifest.json", escapes)]);
    assert!(matches!(
        extension_from_dir(dir.path()),
        Err(LoadError::Script { .. })
    ));

    let page = r#"{"name": "Page", "version": "1.0",
        "background": {"page": "missing.html", "persistent": false}}"#;
    let dir = folder(&[("manifest.json", page)]);
    let Err(err) = extension_from_dir(dir.path()) else {
        panic!("the folder loaded");
    };
    assert!(matches!(err, LoadError::Page { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("Could not load background page 'missing.html'."),
        "{err}"
    );
}
