//! The extensions of `examples/extensions/`, written as their authors would write them, run
//! unmodified from their folders: through the library (`runtime_js::extension_from_dir` and a
//! `Browser`), and through the command a user types on their scenario files.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use runtime_sim::native::{BrowserKind, Launcher, Lookup};
use runtime_sim::{Browser, ExtensionId, PageState, Profile, TraceEvent};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_runtime-sim");

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/extensions")
        .join(name)
}

/// The lines the extension wrote with `console.log`.
fn console(browser: &Browser) -> Vec<String> {
    browser.with_trace(|trace| {
        trace
            .entries()
            .filter_map(|e| match e.event {
                TraceEvent::Console { message, .. } => Some(message),
                _ => None,
            })
            .collect()
    })
}

fn stored(browser: &Browser, id: &ExtensionId, key: &str) -> Option<serde_json::Value> {
    browser.storage(id).get(key).cloned()
}

/// Step counter: the service worker is stopped 30 s after each step and started again by
/// the next alarm; the count survives in `chrome.storage.local`, and each step is counted by
/// a worker that started for it.
#[test]
fn the_step_counter_counts_across_service_worker_stops() {
    let spec = runtime_js::extension_from_dir(example("step-counter")).expect("the folder loads");
    let mut browser = Browser::builder().profile(Profile::ChromeMv3).build();
    let id = browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::from_secs(45));
    assert_eq!(
        browser.page_state(&id),
        Some(PageState::Unloaded),
        "stopped after 30 s idle"
    );
    browser.advance(Duration::from_secs(5 * 60));
    assert_eq!(stored(&browser, &id, "steps"), Some(json!(5)));
    assert_eq!(browser.extension(&id).map(|e| e.page_loads), Some(6));
    let lines = console(&browser);
    assert_eq!(lines.len(), 5, "{lines:?}");
    // Each step came from a worker started for it: five different start times.
    let starts: std::collections::BTreeSet<_> = lines
        .iter()
        .map(|line| line.rsplit(' ').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(starts.len(), 5, "{lines:?}");
    assert!(
        lines[0].starts_with("step 1, by the worker started at "),
        "{lines:?}"
    );

    // Another part of the extension asks for the count: the answer comes after a storage read.
    let page = browser
        .open_view(&id, runtime_sim::ViewKind::Tab, "steps.html")
        .expect("a tab of the extension");
    let view = browser.view_runtime(&id, page).expect("its runtime");
    let reply = browser
        .block_on(view.send_message(&json!({"type": "steps"})))
        .expect("not stalled")
        .expect("answered");
    assert_eq!(reply, Some(json!({"steps": 5})));
}

/// Native ping: the extension's own JavaScript talks to a real host process (the command's
/// ping-pong host): a missing host's error in the callback form, one message, three on a
/// port; then the worker, no longer held by the port, is stopped.
#[test]
fn native_ping_talks_to_a_real_host() {
    let spec = runtime_js::extension_from_dir(example("native-ping")).expect("the folder loads");
    let id = spec.id();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let exe = dir.path().join("host.sh");
    std::fs::write(&exe, format!("#!/bin/sh\nexec '{BIN}' host ping-pong\n")).expect("host");
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("mode");
    let manifest = json!({
        "name": "com.example.ping", "description": "ping-pong", "path": exe, "type": "stdio",
        "allowed_origins": [format!("chrome-extension://{id}/")]
    });
    std::fs::write(
        dir.path().join("com.example.ping.json"),
        manifest.to_string(),
    )
    .expect("host manifest");
    let launcher = Launcher::new(BrowserKind::Chrome).with_lookup(
        Lookup::new(BrowserKind::Chrome)
            .dir(dir.path())
            .without_default_dirs(),
    );
    let mut browser = Browser::builder()
        .profile(Profile::ChromeMv3)
        .native_launcher(launcher)
        .build();
    browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::from_secs(120));
    assert_eq!(stored(&browser, &id, "answer"), Some(json!("pong")));
    assert_eq!(stored(&browser, &id, "portAnswers"), Some(json!(3)));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let lines = console(&browser);
    assert_eq!(
        lines,
        [
            "missing host: Specified native messaging host not found. (undefined)",
            "one message: pong",
            "on the port: pong (1)",
            "on the port: pong (2)",
            "on the port: pong (3)",
        ]
    );
}

/// Page counter (MV2): each page of example.com runs the content script, whose message wakes
/// the event page; the popup's port gets the count and keeps the page alive while open.
#[test]
fn the_page_counter_counts_visits_and_answers_its_popup() {
    let spec = runtime_js::extension_from_dir(example("page-counter")).expect("the folder loads");
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("installs");
    browser.start();
    browser.advance(Duration::from_secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    for path in ["a", "b"] {
        browser
            .open_tab(&format!("https://example.com/{path}"))
            .expect("a tab");
        browser.advance(Duration::from_secs(20));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    }
    assert_eq!(browser.extension(&id).map(|e| e.page_loads), Some(3));
    let popup = browser
        .open_view(&id, runtime_sim::ViewKind::Popup, "popup.html")
        .expect("the popup");
    browser.advance(Duration::from_secs(60));
    assert_eq!(
        browser.page_state(&id),
        Some(PageState::Active),
        "held by the port"
    );
    assert!(browser.close_view(&id, popup), "the popup closes");
    browser.advance(Duration::from_secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert_eq!(stored(&browser, &id, "visits"), Some(json!(2)));
    assert_eq!(
        console(&browser),
        [
            "visit 1 counted",
            "visit 2 counted",
            "popup shows 2 visits, the last https://example.com/b",
            "the popup closed",
        ]
    );
}

/// Every example's scenario passes through the command, as a user runs it.
#[test]
fn every_example_scenario_passes_through_the_command() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/extensions");
    let mut scenarios: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/extensions")
        .map(|entry| entry.expect("an entry").path().join("scenario.json"))
        .filter(|path| path.is_file())
        .collect();
    scenarios.sort();
    assert!(!scenarios.is_empty());
    for scenario in scenarios {
        let out = Command::new(BIN)
            .arg("run")
            .arg(&scenario)
            .env_remove("RUST_LOG")
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains(" 0 failed"),
            "{}:\n{stdout}\n{}",
            scenario.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A scenario's folder extension whose background script is missing fails to load with
/// Chromium's message, located at the extension's manifest in the scenario file.
#[test]
fn a_folder_extension_that_cannot_load_gives_a_located_error() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let ext = dir.path().join("ext");
    std::fs::create_dir(&ext).expect("the extension's folder");
    std::fs::write(
        ext.join("manifest.json"),
        r#"{"name": "E", "version": "1.0", "background": {"scripts": ["bg.js"], "persistent": false}}"#,
    )
    .expect("the manifest");
    let file = dir.path().join("scenario.json");
    let text = r#"{"name": "n", "description": "d", "extensions": {"x": {"manifest": "ext"}}, "timeline": []}"#;
    let Err(error) = runtime_sim::scenario::load_str(&file, text.to_owned()) else {
        panic!("the load should fail");
    };
    let error = error.to_string();
    assert!(
        error.contains("at extensions.x.manifest: cannot load the extension: Could not load background script 'bg.js'."),
        "{error}"
    );
}

/// Two runs of each JavaScript example's scenario give byte-identical JSON Lines traces (the
/// native-host one aside: its host is a real process).
#[test]
fn the_javascript_examples_give_byte_identical_traces() {
    use runtime_sim::scenario::{self, render, RunOptions};
    let options = RunOptions {
        seed: None,
        profile: None,
        program: Some(PathBuf::from(BIN)),
        on_watchdog: None,
        trace_limit: None,
    };
    for name in ["step-counter", "page-counter"] {
        let loaded =
            scenario::load(&example(name).join("scenario.json")).unwrap_or_else(|e| panic!("{e}"));
        let first = render::jsonl(&scenario::run(&loaded, &options));
        let second = render::jsonl(&scenario::run(&loaded, &options));
        assert!(first.lines().count() > 50, "{name}: {first}");
        assert!(first == second, "{name} is not repeatable");
    }
}
