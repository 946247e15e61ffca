//! `runtime.reload()` (runtime-behaviour.md §2.5): what a reload installs, unpacked versus
//! packed, and the fast-reload guard.

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::{
    Browser, BrowserBuilder, ExtensionId, ExtensionSpec, Location, OnInstalledDetails, PageState,
    Runtime, TraceEvent, ViewKind, FAST_RELOAD_COUNT, UNPACKED_FAST_RELOAD_COUNT,
};
use serde_json::json;

/// A script that logs its `onInstalled` details and keeps every load's `Runtime`.
fn logging(
    installed: &Log<OnInstalledDetails>,
    loads: &Log<Runtime>,
) -> impl runtime_sim::BackgroundScript {
    let installed = installed.clone();
    let loads = loads.clone();
    runtime_sim::script_fn(move |rt: Runtime| {
        loads.push(rt.clone());
        let log = installed.clone();
        rt.on_installed()
            .add_listener(move |details| log.push(details));
        async { Ok(()) }
    })
}

fn spec(
    location: Location,
    persistent: bool,
    script: impl runtime_sim::BackgroundScript,
) -> ExtensionSpec {
    ExtensionSpec::from_json(json!({
        "name": "reloader", "version": "4.2",
        "background": {"scripts": ["bg.js"], "persistent": persistent}
    }))
    .unwrap()
    .location(location)
    .script(script)
}

/// A started browser (from `builder`) with one extension of [`spec`] running [`logging`].
fn reloader(
    builder: BrowserBuilder,
    location: Location,
    persistent: bool,
) -> (Browser, ExtensionId, Log<OnInstalledDetails>, Log<Runtime>) {
    let installed = Log::new();
    let loads = Log::new();
    let (browser, ids) = started(
        builder,
        vec![spec(location, persistent, logging(&installed, &loads))],
    );
    (browser, ids[0].clone(), installed, loads)
}

fn terminated_reasons(browser: &Browser, id: &ExtensionId) -> Vec<String> {
    browser
        .trace()
        .entries()
        .filter(|e| e.extension.as_ref() == Some(id))
        .filter_map(|e| match &e.event {
            TraceEvent::Terminated { reason } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_packed_extension_is_loaded_again_without_on_installed() {
    let (mut browser, id, installed, loads) = reloader(Browser::builder(), Location::Packed, true);
    let ids = [id];
    let id = &ids[0];
    installed.take();
    let page = loads.last().unwrap();
    page.reload().unwrap();
    browser.advance(secs(1));
    // A persistent page loads again, from the top; nothing is installed.
    assert_eq!(loads.len(), 2);
    assert!(installed.is_empty());
    assert_eq!(browser.page_state(id), Some(PageState::Active));
    let reloads = times(&browser.trace(), |e| {
        matches!(e, TraceEvent::Reloaded { reinstalled: false })
    });
    assert_eq!(reloads.len(), 1);
    // The page that called reload() is gone.
    assert_eq!(
        page.reload().unwrap_err().to_string(),
        "Extension context invalidated."
    );
}

#[test]
fn a_packed_event_page_stays_unloaded_after_a_reload() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Packed, false);
    let ids = [id];
    loads.last().unwrap().reload().unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Unloaded));
    assert_eq!(loads.len(), 1);
    // Its page closed without onSuspend.
    assert!(dispatched(&browser.trace(), "runtime.onSuspend").is_empty());
}

#[test]
fn an_unpacked_extension_is_installed_again_with_its_own_version_as_the_previous_one() {
    for location in [Location::Unpacked, Location::CommandLine] {
        let installed = Log::new();
        let loads = Log::new();
        let (mut browser, _) = started(
            Browser::builder(),
            vec![spec(location, false, logging(&installed, &loads))],
        );
        installed.take();
        loads.last().unwrap().reload().unwrap();
        browser.advance(secs(1));
        assert_eq!(
            installed.all(),
            [OnInstalledDetails::update("4.2")],
            "{location:?}"
        );
        assert_eq!(loads.len(), 2);
    }
}

#[test]
fn a_reload_installs_a_waiting_update() {
    let installed = Log::new();
    let loads = Log::new();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![packed("waiting", "1.0", false, logging(&installed, &loads))],
    );
    let id = &ids[0];
    let _busy = browser.keepalive(id, "busy").unwrap();
    browser
        .publish_update(
            id,
            packed("waiting", "2.0", false, logging(&installed, &loads)),
        )
        .unwrap();
    let page = loads.last().unwrap();
    let found = wait(&mut browser, {
        let page = page.clone();
        async move { page.request_update_check().await }
    })
    .unwrap();
    assert_eq!(found.version, "2.0");
    assert_eq!(browser.pending_update(id).as_deref(), Some("2.0"));
    installed.take();
    page.reload().unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.extension(id).unwrap().version, "2.0");
    assert_eq!(installed.all(), [OnInstalledDetails::update("1.0")]);
    assert_eq!(browser.pending_update(id), None);
}

#[test]
fn the_sixth_fast_reload_of_a_packed_extension_terminates_it() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Packed, true);
    let ids = [id];
    let id = &ids[0];
    // Five reloads, each within 10 s of the one before, count as fast …
    for _ in 0..=FAST_RELOAD_COUNT {
        loads.last().unwrap().reload().unwrap();
        browser.advance(secs(10));
    }
    // … and the sixth call terminated the extension instead of reloading it.
    assert_eq!(loads.len(), 1 + FAST_RELOAD_COUNT as usize);
    let reasons = terminated_reasons(&browser, id);
    assert_eq!(reasons.len(), 1);
    assert_eq!(
        reasons[0],
        "reload too frequent: runtime.reload() was called 6 times in a row, each within 10 s of the previous one; the extension is terminated until the user reloads it"
    );
    let info = browser.extension(id).unwrap();
    assert!(info.terminated);
    assert_eq!(browser.page_state(id), None);
    // A terminated extension receives nothing.
    let other = pageless("other", json!({}));
    let other = browser.install(other).unwrap();
    let view = view_runtime(&mut browser, &other, ViewKind::Popup, "popup.html");
    let sent = wait(
        &mut browser,
        view.send_message_to(id.as_str(), &json!("hello?")),
    );
    assert_eq!(sent.unwrap_err().to_string(), NO_RECEIVER);
    // The user reloads it: it runs again. (So does a browser restart: termination is not
    // remembered.)
    browser.reload_extension(id).unwrap();
    browser.advance(secs(1));
    assert!(!browser.extension(id).unwrap().terminated);
    assert_eq!(browser.page_state(id), Some(PageState::Active));
}

#[test]
fn slow_reloads_never_terminate() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Packed, true);
    let ids = [id];
    for _ in 0..20 {
        loads.last().unwrap().reload().unwrap();
        browser.advance(Duration::from_millis(10_001));
    }
    assert!(terminated_reasons(&browser, &ids[0]).is_empty());
    assert_eq!(loads.len(), 21);
}

#[test]
fn an_unpacked_extension_gets_thirty_fast_reloads_within_a_second_of_each_other() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Unpacked, true);
    let ids = [id];
    for _ in 0..=UNPACKED_FAST_RELOAD_COUNT {
        loads.last().unwrap().reload().unwrap();
        browser.advance(secs(1));
    }
    let reasons = terminated_reasons(&browser, &ids[0]);
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].contains("31 times in a row, each within 1 s"));
    assert_eq!(loads.len(), 1 + UNPACKED_FAST_RELOAD_COUNT as usize);
}

#[test]
fn the_guard_forgets_at_a_browser_restart() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Packed, true);
    let ids = [id];
    for _ in 0..FAST_RELOAD_COUNT {
        loads.last().unwrap().reload().unwrap();
        browser.advance(secs(1));
    }
    browser.restart();
    browser.advance(secs(1));
    loads.last().unwrap().reload().unwrap();
    browser.advance(secs(1));
    assert!(terminated_reasons(&browser, &ids[0]).is_empty());
}

#[test]
fn reload_in_kiosk_mode_is_warned_about() {
    let (mut browser, _, _, loads) =
        reloader(Browser::builder().kiosk(true), Location::Packed, true);
    loads.last().unwrap().reload().unwrap();
    browser.advance(secs(1));
    let warnings = warnings(&browser.trace());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].starts_with("runtime.reload() is not supported in kiosk mode"));
}

#[test]
fn a_terminated_extension_runs_again_after_a_browser_restart() {
    let (mut browser, id, _, loads) = reloader(Browser::builder(), Location::Packed, true);
    for _ in 0..=FAST_RELOAD_COUNT {
        loads.last().unwrap().reload().unwrap();
        browser.advance(secs(1));
    }
    assert!(browser.extension(&id).unwrap().terminated);
    browser.restart();
    browser.advance(secs(1));
    assert!(!browser.extension(&id).unwrap().terminated);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
}
