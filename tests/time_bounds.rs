//! Spans of time a caller can pass are bounded, and cost what happens in them, not their
//! length; waits that cannot end stop with `Stalled`, saying why; native hosts that start
//! slowly are waited for in real time; what a host leaves running is found and ended.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use common::*;
use runtime_sim::native::BrowserKind;
use runtime_sim::{
    Browser, PageState, Runtime, SimInstant, StallReason, TraceEvent, DEFAULT_NATIVE_ANSWER_LIMIT,
};
use serde_json::{json, Value};

const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// Regression: `advance(Duration::MAX)` never finished and grew memory until the kernel
/// killed the process — the browser's periodic update check ran every 5 h with nothing to
/// check. Now the span runs to the end of virtual time, at once, and the trace says so.
#[test]
fn advancing_by_the_longest_duration_ends_at_the_end_of_virtual_time_at_once() {
    let (script, _) = top_level(|_| {});
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("quiet", json!({}), script)],
    );
    let recorded = browser.with_trace(|t| t.recorded());
    let started = Instant::now();
    browser.advance(Duration::MAX);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(browser.now(), SimInstant::MAX);
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Unloaded));
    // The page's suspend, and one warning: the trace did not grow with the span.
    let grown = browser.with_trace(|t| t.recorded()) - recorded;
    assert!(grown < 20, "{grown} entries for an idle span");
    let said = warnings(&browser.trace())
        .iter()
        .any(|w| w.contains("would pass the end of virtual time"));
    assert!(said, "{}", browser.trace().timeline());
}

/// `try_advance` refuses a span past the end of virtual time, with the bound in its message,
/// and runs nothing.
#[test]
fn try_advance_refuses_a_span_past_the_end_of_virtual_time() {
    let mut browser = Browser::builder().build();
    browser.advance(Duration::from_secs(5));
    let err = browser.try_advance(Duration::MAX).unwrap_err();
    assert_eq!(err.from, browser.now());
    assert!(
        err.to_string()
            .contains("would pass the end of virtual time"),
        "{err}"
    );
    assert!(err.to_string().contains("365 000 days"), "{err}");
    assert_eq!(
        browser.now(),
        SimInstant::from_start(Duration::from_secs(5))
    );
    // A span that fits is run.
    browser.try_advance(CENTURY).unwrap();
    assert_eq!(
        browser.now(),
        SimInstant::from_start(CENTURY + Duration::from_secs(5))
    );
}

/// A quiet century costs what is in it: an unpacked extension (the browser checks only
/// packed ones for updates) with a suspended page schedules nothing, so advancing a hundred
/// years takes no time and adds nothing to the trace.
#[test]
fn a_quiet_century_costs_nothing() {
    let (script, _) = top_level(|_| {});
    let (mut browser, _ids) = started(
        Browser::builder(),
        vec![event_page("quiet", json!({}), script)],
    );
    browser.advance(Duration::from_secs(60));
    let recorded = browser.with_trace(|t| t.recorded());
    let started = Instant::now();
    for _ in 0..1000 {
        browser.advance(CENTURY / 1000);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(browser.with_trace(|t| t.recorded()), recorded);
}

/// A script whose timer sets itself again never lets the browser run out of work: `block_on`
/// of a future that cannot finish stops after the virtual-time limit, saying that only timers
/// of scripts were left. Regression: it ran forever.
#[test]
fn block_on_stops_when_only_a_self_rearming_timer_is_left() {
    let (script, _) = top_level(|rt: &Runtime| {
        let rt2 = rt.clone();
        rt.spawn(async move {
            loop {
                rt2.sleep(Duration::from_secs(1)).await;
            }
        });
    });
    let builder = Browser::builder().block_on_limit(Duration::from_secs(3600));
    let spec = extension("ticking", true, script);
    let (mut browser, _ids) = started(builder, vec![spec]);
    let start = browser.now();
    let started = Instant::now();
    let stalled = browser
        .block_on(futures::future::pending::<()>())
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(stalled.at, start + Duration::from_secs(3600));
    match &stalled.reason {
        StallReason::TimeLimit { limit, scheduled } => {
            assert_eq!(*limit, Duration::from_secs(3600));
            assert_eq!(scheduled.as_slice(), &[("a script's timer", 1)]);
        }
        other => panic!("unexpected reason {other:?}"),
    }
    assert!(
        stalled
            .to_string()
            .contains("a timer that sets itself again never lets the browser run out of work"),
        "{stalled}"
    );
}

/// `run_until` whose condition never holds stops at its limit the same way, with what was
/// still scheduled.
#[test]
fn run_until_stops_at_its_limit_and_says_what_was_scheduled() {
    let (script, _) = top_level(|rt: &Runtime| {
        let rt2 = rt.clone();
        rt.spawn(async move {
            loop {
                rt2.sleep(Duration::from_millis(250)).await;
            }
        });
    });
    let (mut browser, _ids) = started(Browser::builder(), vec![extension("ticking", true, script)]);
    let start = browser.now();
    let stalled = browser
        .run_until(Duration::from_secs(10), |_| false)
        .unwrap_err();
    assert_eq!(stalled.at, start + Duration::from_secs(10));
    assert!(matches!(stalled.reason, StallReason::TimeLimit { .. }));
}

/// A host that starts in `delay` and then answers `"pong"` without reading.
fn slow_host(delay: &str) -> String {
    format!("sleep {delay}\nprintf '\\006\\000\\000\\000\"pong\"'\nexec cat >/dev/null")
}

/// Sends one native message from an event page's top level and records when the answer came,
/// then drives the browser with `drive`.
fn answer_time(delay: &str, drive: impl FnOnce(&mut Browser)) -> (Value, Duration, Browser) {
    let probe = event_page(
        "slow",
        json!({"permissions": ["nativeMessaging"]}),
        top_level(|_| {}).0,
    );
    let (_dir, launcher) = native_host(BrowserKind::Chrome, &slow_host(delay), probe.id().as_str());
    let answer: Rc<RefCell<Option<(Value, SimInstant)>>> = Rc::default();
    let slot = Rc::clone(&answer);
    let (script, _) = top_level(move |rt: &Runtime| {
        let reply = rt.send_native_message(NATIVE_HOST, &json!("ping"));
        let rt2 = rt.clone();
        let slot = Rc::clone(&slot);
        rt.spawn(async move {
            let value = reply.await.expect("the host's answer");
            *slot.borrow_mut() = Some((value, rt2.now()));
        });
    });
    let spec = event_page("slow", json!({"permissions": ["nativeMessaging"]}), script);
    let (mut browser, _ids) = started(Browser::builder().native_launcher(launcher), vec![spec]);
    let sent = browser.now();
    drive(&mut browser);
    let (value, at) = answer
        .borrow_mut()
        .take()
        .unwrap_or_else(|| panic!("the answer was lost:\n{}", browser.trace().timeline()));
    (value, at - sent, browser)
}

/// Regression: a host that took 140 ms to start had its answer silently lost under
/// `advance()` — the simulator waited 100 ms of real time, then ran the virtual clock on, and
/// the event page idled and closed. Now virtual time does not run ahead of real time while
/// the host has not answered, so the answer arrives about as late on the virtual clock as
/// the host took in real time, under `advance` exactly as under `run_until`.
#[test]
fn a_host_that_starts_slowly_answers_under_advance_as_under_run_until() {
    for delay in ["0.15", "1"] {
        let min = Duration::from_secs_f64(delay.parse().unwrap());
        let (value, after, _browser) = answer_time(delay, |b| b.advance(Duration::from_secs(60)));
        assert_eq!(value, json!("pong"));
        assert!(
            after >= min && after < min + Duration::from_secs(4),
            "{delay} s host answered {after:?} later under advance"
        );
        let (value, after, _browser) = answer_time(delay, |b| {
            let _ = b.run_until(Duration::from_secs(60), |_| false);
        });
        assert_eq!(value, json!("pong"));
        assert!(
            after >= min && after < min + Duration::from_secs(4),
            "{delay} s host answered {after:?} later under run_until"
        );
    }
}

/// Hosts with nothing outstanding do not slow the simulation: once the answer is in and the
/// host has ended, a long advance takes no real time.
#[test]
fn a_host_with_nothing_outstanding_holds_nothing() {
    let (_, _, mut browser) = answer_time("0", |b| {
        let _ = b.run_until(Duration::from_secs(30), |b| {
            b.with_trace(|t| {
                t.entries()
                    .any(|e| matches!(e.event, TraceEvent::NativeHostEnded { .. }))
            })
        });
        // The host's end can come in the same step as its answer, before the task awaiting
        // the answer has run: let it run.
        b.advance(Duration::ZERO);
    });
    let started = Instant::now();
    browser.advance(Duration::from_secs(24 * 60 * 60));
    assert!(started.elapsed() < DEFAULT_NATIVE_ANSWER_LIMIT / 2);
}

/// A host that forks a child which keeps running, then ends: the browser ends the child (its
/// process group), and the trace says that a real browser would have left it running.
/// Regression: the child was left behind, adopted by init.
#[test]
fn what_a_host_leaves_running_is_ended_and_the_trace_says_so() {
    let pid_file = tempfile::NamedTempFile::new().expect("a file for the child's pid");
    let body = format!(
        "sleep 600 </dev/null >/dev/null 2>&1 &\necho $! > '{}'\nprintf '\\006\\000\\000\\000\"pong\"'\nexit 0",
        pid_file.path().display()
    );
    let probe = event_page(
        "forks",
        json!({"permissions": ["nativeMessaging"]}),
        top_level(|_| {}).0,
    );
    let (_dir, launcher) = native_host(BrowserKind::Chrome, &body, probe.id().as_str());
    let (script, loads) = top_level(|_| {});
    let spec = event_page("forks", json!({"permissions": ["nativeMessaging"]}), script);
    let (mut browser, _ids) = started(Browser::builder().native_launcher(launcher), vec![spec]);
    let rt = loads.last().unwrap();
    let reply = rt.send_native_message(NATIVE_HOST, &json!("ping"));
    assert_eq!(browser.block_on(reply).unwrap().unwrap(), json!("pong"));
    let warned = |b: &Browser| {
        warnings(&b.trace())
            .iter()
            .any(|w| w.contains("a real browser leaves them running, adopted by init"))
    };
    assert!(
        browser.run_until(Duration::from_secs(30), warned).is_ok(),
        "{}",
        browser.trace().timeline()
    );
    let pid: i32 = std::fs::read_to_string(pid_file.path())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY-free check: /proc/<pid> disappears once the child is reaped by init.
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        state.is_empty() || state.contains(") Z "),
        "the child {pid} still runs: {state}"
    );
}

/// `Browser::background_runtime` gives the loaded background page's `runtime`, to call the
/// API from a test; `None` once the page has unloaded.
#[test]
fn background_runtime_reaches_the_loaded_page() {
    let (script, loads) = top_level(|_| {});
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("reachable", json!({}), script)],
    );
    let rt = browser
        .background_runtime(&ids[0])
        .expect("the loaded page");
    assert_eq!(rt.context(), loads.last().unwrap().context());
    assert_eq!(rt.get_manifest()["name"], json!("reachable"));
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Unloaded));
    assert!(browser.background_runtime(&ids[0]).is_none());
}
