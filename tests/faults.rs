//! Faults the simulator must survive without hanging the run: a native host that stops
//! reading, a listener that never answers, a listener that panics on every message.

mod common;

use std::time::{Duration, Instant};

use common::*;
use runtime_sim::native::BrowserKind;
use runtime_sim::{Browser, OnMessage, PageState, Runtime, TraceEvent};
use serde_json::json;

/// A host that never reads its stdin: the browser's writes fill the pipe, and must not block
/// the simulation — posting goes on, time moves, and the disconnect still ends the host (after
/// Chrome's 2 s grace, with SIGKILL). Regression: the host's pump waited on the blocked write
/// and never saw the disconnect, so the host was never ended.
#[test]
fn a_host_that_stops_reading_does_not_block_the_simulation() {
    let probe = event_page(
        "stuck",
        json!({"permissions": ["nativeMessaging"]}),
        top_level(|_| {}).0,
    );
    let (_dir, launcher) = native_host(BrowserKind::Chrome, "exec sleep 600", probe.id().as_str());
    let (script, loads) = top_level(|_| {});
    let spec = event_page("stuck", json!({"permissions": ["nativeMessaging"]}), script);
    let (mut browser, ids) = started(Browser::builder().native_launcher(launcher), vec![spec]);
    let rt = loads.last().unwrap();
    let port = rt.connect_native(NATIVE_HOST).unwrap();
    let started = Instant::now();
    // 16 MiB in 64 KiB messages: far more than a pipe holds.
    let chunk = "x".repeat(64 * 1024);
    for _ in 0..256 {
        port.post_message(&json!(chunk)).unwrap();
    }
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
    port.disconnect();
    let ended = browser.run_until(Duration::from_secs(60), |b| {
        b.with_trace(|t| {
            t.entries()
                .iter()
                .any(|e| matches!(e.event, TraceEvent::NativeHostEnded { .. }))
        })
    });
    assert!(ended, "the stuck host was never ended");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run took {:?}",
        started.elapsed()
    );
}

/// A listener that keeps the channel open (`return true`) and never answers: the open
/// channel keeps the event page alive, as in Chromium, and nothing else is scheduled. Waiting
/// for the answer does not hang the test: `block_on` reports that the simulation stalled.
#[test]
fn waiting_for_a_listener_that_never_answers_stalls_instead_of_hanging() {
    let (script, _) = top_level(|rt: &Runtime| {
        rt.on_message_external().add_listener(|m: OnMessage| {
            // Keep the responder forever, never call it.
            std::mem::forget(m.send_response());
            true
        });
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("silent", json!({}), script)],
    );
    let other = browser.install(pageless("asker", json!({}))).unwrap();
    let popup = popup_runtime(&mut browser, &other);
    let reply = popup.send_message_to(ids[0].as_str(), &json!("anyone?"));
    let started = Instant::now();
    let stalled = browser.block_on(reply).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing more could happen: the page is kept alive by the open channel.
    assert_eq!(stalled.at, browser.now());
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
    assert_eq!(
        stalled.to_string(),
        format!(
            "the simulation ran out of work at {} while the future was still waiting",
            browser.now()
        )
    );
}

/// A listener that panics on every message: each failure is recorded, the sender gets its
/// error, and the page and the bus go on.
#[test]
fn a_listener_that_panics_on_every_message_does_not_stop_the_run() {
    let (script, _) = top_level(|rt: &Runtime| {
        rt.on_message()
            .add_listener(|_m: OnMessage| -> bool { panic!("listener bug") });
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("buggy", json!({}), script)],
    );
    let popup = popup_runtime(&mut browser, &ids[0]);
    for i in 0..100 {
        let reply = wait(&mut browser, popup.send_message(&json!(i)));
        assert!(reply.is_err() || reply == Ok(None), "{reply:?}");
    }
    let failures = times(&browser.trace(), |e| {
        matches!(
            e,
            TraceEvent::ListenerFailed {
                failure: "panicked",
                ..
            }
        )
    });
    assert_eq!(failures.len(), 100);
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
}
