//! Browser profiles (runtime-behaviour.md §1.3, §1.4, §7): Chrome MV3 service workers and
//! Firefox event pages, each measured fact of §7 as a test under its profile.

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::native::BrowserKind;
use runtime_sim::{
    script_fn, Browser, BrowserBuilder, ExtensionId, ExtensionSpec, PageState, Port, Profile,
    Runtime, ViewKind,
};
use serde_json::{json, Value};

/// An extension whose background (any kind: the profile decides how it runs) logs
/// `onSuspend` and `onSuspendCanceled`, and keeps every load's `Runtime`.
fn ext(name: &str, extra: Value, seen: &Log<String>, loads: &Log<Runtime>) -> ExtensionSpec {
    let seen = seen.clone();
    let loads = loads.clone();
    let script = script_fn(move |rt: Runtime| {
        loads.push(rt.clone());
        let s = seen.clone();
        rt.on_suspend()
            .add_listener(move |()| s.push("onSuspend".to_owned()));
        let s = seen.clone();
        rt.on_suspend_canceled()
            .add_listener(move |()| s.push("onSuspendCanceled".to_owned()));
        rt.event("alarms.onAlarm").add_listener(|_| {});
        async { Ok(()) }
    });
    event_page(name, extra, script)
}

fn one(builder: BrowserBuilder, extra: Value) -> (Browser, ExtensionId, Log<String>, Log<Runtime>) {
    let seen = Log::new();
    let loads = Log::new();
    let (browser, ids) = started(builder, vec![ext("profiled", extra, &seen, &loads)]);
    (browser, ids[0].clone(), seen, loads)
}

fn mv3() -> BrowserBuilder {
    Browser::builder().profile(Profile::ChromeMv3)
}

fn firefox() -> BrowserBuilder {
    Browser::builder().profile(Profile::Firefox)
}

/// When the page of `id` was unloaded (stopped).
fn stopped(browser: &Browser, id: &ExtensionId) -> Vec<u64> {
    entered_by(&browser.trace(), id, PageState::Unloaded)
}

// ---- Chrome MV3 service workers (§1.3, §7) ----

#[test]
fn a_service_worker_stops_30_s_after_its_last_event_with_no_on_suspend() {
    let (mut browser, id, seen, _) = one(mv3(), json!({}));
    browser.advance(secs(29));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.advance(secs(2));
    assert_eq!(stopped(&browser, &id), [30_000]);
    assert!(seen.is_empty(), "a service worker got {:?}", seen.all());
    assert!(dispatched(&browser.trace(), "runtime.onSuspend").is_empty());
}

#[test]
fn a_service_worker_stops_30_s_after_its_last_api_call_finished() {
    let (mut browser, id, _, loads) = one(
        mv3().api_latency_for(runtime_sim::ApiFunction::StorageLocalSet, secs(12)),
        json!({}),
    );
    browser.advance(secs(20));
    let rt = loads.last().unwrap();
    let storage = rt.storage();
    rt.spawn(async move {
        let _ = storage.set("k", json!(1)).await;
    });
    // The call started at 20 s and finished at 32 s: stopped at 62 s.
    browser.advance(secs(60));
    assert_eq!(stopped(&browser, &id), [62_000]);
}

#[test]
fn a_plain_timer_does_not_keep_a_service_worker_alive() {
    let fired = Log::new();
    let f = fired.clone();
    let script = script_fn(move |rt: Runtime| {
        let f = f.clone();
        let timer = rt.clone();
        rt.spawn(async move {
            timer.sleep(secs(45)).await;
            f.push("timer fired");
        });
        async { Ok(()) }
    });
    let (mut browser, ids) = started(mv3(), vec![event_page("timer", json!({}), script)]);
    browser.advance(secs(60));
    assert_eq!(stopped(&browser, &ids[0]), [30_000]);
    assert!(fired.is_empty());
}

#[test]
fn a_port_keeps_a_service_worker_alive_only_by_its_messages() {
    let (mut browser, id, _, loads) = one(mv3(), json!({}));
    let rt = loads.last().unwrap();
    rt.on_connect().add_listener(|_port: Port| {});
    let popup = view_runtime(&mut browser, &id, ViewKind::Popup, "popup.html");
    let port = popup.connect("keep").unwrap();
    let closed = Log::new();
    let c = closed.clone();
    port.on_disconnect()
        .add_listener(move |_| c.push("disconnected"));
    browser.advance(secs(10));
    port.post_message(&json!("tick")).unwrap();
    // The open port and the open popup do not hold the worker: 30 s after the message.
    browser.advance(secs(60));
    assert_eq!(stopped(&browser, &id), [40_000]);
    assert_eq!(closed.all(), ["disconnected"]);
}

#[test]
fn an_api_call_longer_than_5_minutes_stops_the_service_worker() {
    let (mut browser, id, _, loads) = one(
        mv3().api_latency_for(
            runtime_sim::ApiFunction::StorageLocalGet,
            Duration::from_secs(6 * 60),
        ),
        json!({}),
    );
    let rt = loads.last().unwrap();
    let storage = rt.storage();
    rt.spawn(async move {
        let _ = storage.get("k").await;
    });
    browser.advance(Duration::from_secs(7 * 60));
    assert_eq!(stopped(&browser, &id), [300_000]);
    let warnings = warnings(&browser.trace());
    assert_eq!(
        warnings[1..],
        ["API call storage.local.get ran longer than 5 minutes: the service worker is stopped (kRequestTimeout)"]
    );
}

#[test]
fn an_open_native_port_keeps_a_service_worker_alive_with_no_time_limit() {
    let spec = ext(
        "native",
        json!({"permissions": ["nativeMessaging"]}),
        &Log::new(),
        &Log::new(),
    );
    let id = spec.id();
    let (_dir, launcher) = native_host(BrowserKind::Chrome, &ping_pong_host(), id.as_str());
    let loads = Log::new();
    let spec = ext(
        "native",
        json!({"permissions": ["nativeMessaging"]}),
        &Log::new(),
        &loads,
    );
    let (mut browser, _) = started(mv3().native_launcher(launcher), vec![spec]);
    let rt = loads.last().unwrap();
    let port = rt.connect_native(NATIVE_HOST).unwrap();
    browser.advance(Duration::from_secs(7 * 60));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    // Disconnected: the worker stops 30 s later.
    let at = browser.now().as_millis();
    port.disconnect();
    browser.advance(secs(31));
    assert_eq!(stopped(&browser, &id), [at + 30_000]);
}

#[test]
fn a_manifest_v2_extension_under_chrome_mv3_is_run_as_a_service_worker_with_a_warning() {
    let (browser, _, _, _) = one(mv3(), json!({}));
    assert_eq!(
        warnings(&browser.trace()),
        ["Chromium no longer loads Manifest V2 extensions (\"unsupported manifest version\"); under chrome-mv3 the simulator runs this background page as a service worker"]
    );
    let (browser, _, _, _) = one(
        mv3(),
        json!({"manifest_version": 3, "background": {"service_worker": "sw.js"}}),
    );
    assert!(warnings(&browser.trace()).is_empty());
}

#[test]
fn send_native_message_resets_the_service_worker_idle_timer() {
    let (_dir, launcher) = {
        let probe = ext(
            "native",
            json!({"permissions": ["nativeMessaging"]}),
            &Log::new(),
            &Log::new(),
        );
        native_host(BrowserKind::Chrome, &ping_pong_host(), probe.id().as_str())
    };
    let loads = Log::new();
    let spec = ext(
        "native",
        json!({"permissions": ["nativeMessaging"]}),
        &Log::new(),
        &loads,
    );
    let (mut browser, ids) = started(mv3().native_launcher(launcher), vec![spec]);
    browser.advance(secs(20));
    let rt = loads.last().unwrap();
    let answer = wait(
        &mut browser,
        rt.send_native_message(NATIVE_HOST, &json!("ping")),
    );
    assert_eq!(answer, Ok(json!("pong")));
    let answered = browser.now().as_millis();
    browser.advance(secs(60));
    assert_eq!(stopped(&browser, &ids[0]), [answered + 30_000]);
}

// ---- Firefox event pages (§1.4, §7) ----

#[test]
fn an_event_wakes_a_stopped_firefox_page_as_a_new_instance() {
    let (mut browser, id, _, loads) = one(firefox(), json!({}));
    browser.advance(secs(31));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "a"}))
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    assert_eq!(loads.len(), 2);
    // The first instance is gone.
    let first = loads.all()[0].clone();
    let gone = wait(&mut browser, async move { first.get_platform_info().await });
    assert_eq!(
        gone.unwrap_err().to_string(),
        "Extension context invalidated."
    );
}

#[test]
fn a_firefox_page_gets_on_suspend_30_s_after_it_started_and_stops_with_no_window() {
    let (mut browser, id, seen, _) = one(firefox(), json!({}));
    browser.advance(secs(29));
    assert!(seen.is_empty());
    browser.advance(secs(2));
    assert_eq!(seen.all(), ["onSuspend"]);
    assert_eq!(stopped(&browser, &id), [30_000]);
}

#[test]
fn firefox_idle_timeout_is_a_setting_from_100_ms_to_5_minutes() {
    let (mut browser, id, _, _) = one(firefox().idle_delay(Duration::from_millis(10)), json!({}));
    browser.advance(secs(1));
    assert_eq!(stopped(&browser, &id), [100]);
    let (mut browser, id, _, _) = one(firefox().idle_delay(Duration::from_secs(3600)), json!({}));
    browser.advance(Duration::from_secs(600));
    assert_eq!(stopped(&browser, &id), [300_000]);
}

#[test]
fn an_event_resets_the_firefox_idle_timer() {
    let (mut browser, id, _, _) = one(firefox(), json!({}));
    browser.advance(secs(20));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "a"}))
        .unwrap();
    browser.advance(secs(60));
    assert_eq!(stopped(&browser, &id), [50_000]);
}

#[test]
fn firefox_api_calls_made_in_on_suspend_do_not_cancel_it() {
    let loads = Log::new();
    let l = loads.clone();
    let script = script_fn(move |rt: Runtime| {
        l.push(rt.clone());
        let storage = rt.storage();
        rt.on_suspend().add_async_listener(move |()| {
            let storage = storage.clone();
            async move { storage.set("saved", json!(true)).await }
        });
        async { Ok(()) }
    });
    let (mut browser, ids) = started(
        firefox().api_latency_for(runtime_sim::ApiFunction::StorageLocalSet, secs(2)),
        vec![event_page("saver", json!({}), script)],
    );
    browser.advance(secs(60));
    // onSuspend is awaited (2 s of saving), then the page stops: not cancelled.
    assert_eq!(stopped(&browser, &ids[0]), [32_000]);
    assert_eq!(browser.storage(&ids[0])["saved"], json!(true));
    assert!(dispatched(&browser.trace(), "runtime.onSuspendCanceled").is_empty());
}

#[test]
fn an_event_during_a_firefox_on_suspend_cancels_it() {
    let loads = Log::new();
    let l = loads.clone();
    let script = script_fn(move |rt: Runtime| {
        l.push(rt.clone());
        let sleeper = rt.clone();
        rt.on_suspend().add_async_listener(move |()| {
            let sleeper = sleeper.clone();
            async move {
                sleeper.sleep(secs(5)).await;
                Ok::<(), runtime_sim::ScriptError>(())
            }
        });
        rt.event("alarms.onAlarm").add_listener(|_| {});
        async { Ok(()) }
    });
    let (mut browser, ids) = started(firefox(), vec![event_page("cancel", json!({}), script)]);
    let id = &ids[0];
    browser.advance(secs(31));
    assert_eq!(browser.page_state(id), Some(PageState::Closing));
    browser
        .fire_event(id, "alarms.onAlarm", json!({"name": "a"}))
        .unwrap();
    browser.advance(secs(10));
    assert_eq!(
        dispatched(&browser.trace(), "runtime.onSuspendCanceled"),
        [31_000]
    );
    assert_eq!(browser.page_state(id), Some(PageState::Active));
    assert_eq!(loads.len(), 1);
}

#[test]
fn a_pending_listener_promise_keeps_a_firefox_page() {
    let script = script_fn(move |rt: Runtime| {
        let sleeper = rt.clone();
        rt.event("alarms.onAlarm").add_async_listener(move |_| {
            let sleeper = sleeper.clone();
            async move {
                sleeper.sleep(secs(100)).await;
                Ok::<(), runtime_sim::ScriptError>(())
            }
        });
        async { Ok(()) }
    });
    let (mut browser, ids) = started(firefox(), vec![event_page("promise", json!({}), script)]);
    let id = &ids[0];
    browser.advance(secs(40));
    browser
        .fire_event(id, "alarms.onAlarm", json!({"name": "slow"}))
        .unwrap();
    browser.advance(secs(90));
    // The promise settles at 140 s; the page waits out the idle timer after that.
    assert_eq!(browser.page_state(id), Some(PageState::Active));
    browser.advance(secs(60));
    let stops = stopped(&browser, id);
    assert_eq!(stops.len(), 2, "{stops:?}");
    assert!(stops[1] > 140_000 && stops[1] <= 200_000, "{stops:?}");
}

#[test]
fn a_port_is_not_a_keepalive_in_firefox_but_its_messages_reset_the_timer() {
    let (mut browser, id, _, loads) = one(firefox(), json!({}));
    let rt = loads.last().unwrap();
    rt.on_connect().add_listener(|_port: Port| {});
    let popup = view_runtime(&mut browser, &id, ViewKind::Popup, "popup.html");
    let port = popup.connect("used").unwrap();
    browser.advance(secs(20));
    port.post_message(&json!("last message")).unwrap();
    port.disconnect();
    browser.advance(secs(60));
    // About 30 s after the last message.
    assert_eq!(stopped(&browser, &id), [50_000]);
}

#[test]
fn firefox_pages_have_moz_extension_urls_with_a_per_install_uuid() {
    let url = |seed: u64| {
        let (_, _, _, loads) = one(firefox().seed(seed), json!({}));
        loads.last().unwrap().get_url("popup.html")
    };
    let first = url(1);
    assert!(first.starts_with("moz-extension://"), "{first}");
    assert!(first.ends_with("/popup.html"));
    let uuid = &first["moz-extension://".len()..first.len() - "/popup.html".len()];
    assert_eq!(uuid.len(), 36);
    assert_eq!(&uuid[14..15], "4", "a version 4 UUID: {uuid}");
    assert_eq!(url(1), first, "the same seed gives the same UUID");
    assert_ne!(url(2), first);
    let (_, id, _, loads) = one(Browser::builder(), json!({}));
    assert_eq!(
        loads.last().unwrap().get_url("/popup.html"),
        format!("chrome-extension://{id}/popup.html")
    );
}

#[test]
fn firefox_reports_a_missing_host_as_no_such_native_application() {
    let (mut browser, _, _, loads) = one(firefox(), json!({"permissions": ["nativeMessaging"]}));
    let rt = loads.last().unwrap();
    let port = rt.connect_native("com.example.absent").unwrap();
    let errors = Log::new();
    let e = errors.clone();
    let page = rt.clone();
    port.on_disconnect()
        .add_listener(move |_| e.push(page.last_error().map(|l| l.message)));
    browser.advance(secs(1));
    assert_eq!(
        errors.all(),
        [Some(
            "No such native application com.example.absent".to_owned()
        )]
    );
}

#[test]
fn an_open_native_port_prevents_a_firefox_suspend_and_send_native_message_does_not_reset_idle() {
    let gecko = "profiles@example.org";
    let extra = json!({
        "permissions": ["nativeMessaging"],
        "browser_specific_settings": {"gecko": {"id": gecko}}
    });
    let (_dir, launcher) = native_host(BrowserKind::Firefox, &ping_pong_host(), gecko);
    let (mut browser, id, seen, loads) = one(firefox().native_launcher(launcher), extra);
    let rt = loads.last().unwrap();
    // sendNativeMessage at 10 s: Firefox does not reset the idle timer for it.
    browser.advance(secs(10));
    let answer = wait(
        &mut browser,
        rt.send_native_message(NATIVE_HOST, &json!("ping")),
    );
    assert_eq!(answer, Ok(json!("pong")));
    browser.advance(secs(30));
    assert_eq!(seen.all(), ["onSuspend"]);
    let suspended = dispatched(&browser.trace(), "runtime.onSuspend");
    assert_eq!(
        suspended,
        [30_000],
        "30 s after the start, not after the call"
    );
    // A new load with an open native port is never suspended.
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "wake"}))
        .unwrap();
    browser.advance(secs(1));
    let rt = loads.last().unwrap();
    let port = rt.connect_native(NATIVE_HOST).unwrap();
    browser.advance(Duration::from_secs(5 * 60));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    drop(port);
}

#[test]
fn firefox_closes_the_stdin_of_a_host_started_from_on_suspend_before_any_message() {
    let gecko = "suspend@example.org";
    let extra = json!({
        "permissions": ["nativeMessaging"],
        "browser_specific_settings": {"gecko": {"id": gecko}}
    });
    let out = tempfile::tempdir().unwrap();
    let got = out.path().join("got");
    let body = format!("cat > '{}'", got.display());
    let (_dir, launcher) = native_host(BrowserKind::Firefox, &body, gecko);
    let loads = Log::new();
    let l = loads.clone();
    let script = script_fn(move |rt: Runtime| {
        l.push(rt.clone());
        let page = rt.clone();
        rt.on_suspend().add_listener(move |()| {
            let call = page.send_native_message(NATIVE_HOST, &json!("saved?"));
            page.spawn(async move {
                let _ = call.await;
            });
        });
        async { Ok(()) }
    });
    let spec = event_page("suspender", extra, script);
    let (mut browser, ids) = started(firefox().native_launcher(launcher), vec![spec]);
    browser.advance(secs(31));
    // The page stopped anyway: the API call did not cancel the suspend.
    assert_eq!(stopped(&browser, &ids[0]), [30_000]);
    // The host started, and got end of file before any message: the call ends with the
    // host's exit.
    let answered = browser.run_until(secs(30), |b| {
        b.with_trace(|t| {
            t.entries().any(|e| {
                matches!(&e.event, runtime_sim::TraceEvent::ApiResult { api, ok: false, result }
                    if *api == runtime_sim::ApiFunction::SendNativeMessage && result == "Native host has exited.")
            })
        })
    }).is_ok();
    assert!(answered, "{}", browser.trace().timeline());
    assert_eq!(std::fs::read(&got).unwrap(), b"");
}
