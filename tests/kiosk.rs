//! Kiosk mode (runtime-behaviour.md §3): `restart()`, `restartAfterDelay()` with its checks in
//! order, the 3 h throttle, `onRestartRequired` and the forced restart after 24 h.

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::{
    Browser, BrowserBuilder, ExtensionId, OnRestartRequiredReason, Runtime, TraceEvent,
    FORCED_RESTART_GRACE,
};

/// A kiosk app: logs `onStartup` and `onRestartRequired`, keeps every load's `Runtime`.
fn app(name: &str, seen: &Log<String>, loads: &Log<Runtime>) -> runtime_sim::ExtensionSpec {
    let seen = seen.clone();
    let loads = loads.clone();
    let script = runtime_sim::script_fn(move |rt: Runtime| {
        loads.push(rt.clone());
        let s = seen.clone();
        rt.on_startup()
            .add_listener(move |()| s.push("onStartup".to_owned()));
        let s = seen.clone();
        rt.on_restart_required()
            .add_listener(move |reason: OnRestartRequiredReason| {
                s.push(format!("onRestartRequired {}", reason.as_str()))
            });
        async { Ok(()) }
    });
    packed(name, "1.0", true, script)
}

fn kiosk() -> BrowserBuilder {
    Browser::builder().kiosk(true)
}

/// When the device restarted, and why.
fn restarts(browser: &Browser) -> Vec<(u64, String)> {
    browser
        .trace()
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::DeviceRestart { reason } => Some((e.at.as_millis(), reason.clone())),
            _ => None,
        })
        .collect()
}

fn delay(browser: &mut Browser, rt: &Runtime, seconds: i32) -> Result<(), String> {
    let rt = rt.clone();
    wait(
        browser,
        async move { rt.restart_after_delay(seconds).await },
    )
    .map_err(|e| e.to_string())
}

fn restart(browser: &mut Browser, rt: &Runtime) -> Result<(), String> {
    let rt = rt.clone();
    wait(browser, async move { rt.restart().await }).map_err(|e| e.to_string())
}

fn one_app(builder: BrowserBuilder) -> (Browser, ExtensionId, Log<String>, Log<Runtime>) {
    let seen = Log::new();
    let loads = Log::new();
    let (browser, ids) = started(builder, vec![app("kiosk app", &seen, &loads)]);
    (browser, ids[0].clone(), seen, loads)
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

#[test]
fn outside_kiosk_mode_both_calls_fail_with_their_own_errors() {
    let (mut browser, _, seen, loads) = one_app(Browser::builder());
    let rt = loads.last().unwrap();
    assert_eq!(
        restart(&mut browser, &rt).unwrap_err(),
        "Function available only for ChromeOS kiosk mode."
    );
    // The kiosk check comes first: even an invalid argument gets it.
    for seconds in [60, 0, -1] {
        assert_eq!(
            delay(&mut browser, &rt, seconds).unwrap_err(),
            "API available only for ChromeOS kiosk mode."
        );
    }
    // No restart, and no onRestartRequired for a browser update outside kiosk mode.
    browser.stage_browser_update("999.0.0.0");
    browser.advance(hours(48));
    assert!(restarts(&browser).is_empty());
    assert_eq!(seen.all(), Vec::<String>::new());
}

#[test]
fn zero_or_a_negative_delay_other_than_minus_one_is_an_invalid_argument() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(
        delay(&mut browser, &rt, 0).unwrap_err(),
        "Invalid argument: 0."
    );
    assert_eq!(
        delay(&mut browser, &rt, -5).unwrap_err(),
        "Invalid argument: -5."
    );
    assert_eq!(delay(&mut browser, &rt, -1), Ok(()));
}

#[test]
fn only_the_first_extension_to_call_may_call_again() {
    let seen = Log::new();
    let (first_loads, second_loads) = (Log::new(), Log::new());
    let (mut browser, _) = started(
        kiosk(),
        vec![
            app("first", &seen, &first_loads),
            app("second", &seen, &second_loads),
        ],
    );
    let first = first_loads.last().unwrap();
    let second = second_loads.last().unwrap();
    // A -1 call counts as a call.
    assert_eq!(delay(&mut browser, &first, -1), Ok(()));
    assert_eq!(
        delay(&mut browser, &second, 60).unwrap_err(),
        "Not the first extension to call this API."
    );
    // The argument is checked before the first-extension rule.
    assert_eq!(
        delay(&mut browser, &second, 0).unwrap_err(),
        "Invalid argument: 0."
    );
    assert_eq!(delay(&mut browser, &first, 60), Ok(()));
}

#[test]
fn a_scheduled_restart_ends_every_page_and_starts_the_browser_again() {
    let (mut browser, id, seen, loads) = one_app(kiosk());
    seen.take();
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(61));
    assert_eq!(
        restarts(&browser),
        [(
            60_000,
            "the restart scheduled by runtime.restartAfterDelay()".to_owned()
        )]
    );
    assert_eq!(seen.all(), ["onStartup"]);
    assert_eq!(loads.len(), 2);
    assert!(browser.is_running());
    let stops = times(&browser.trace(), |e| {
        matches!(e, TraceEvent::BrowserStopped)
    });
    assert_eq!(stops, [60_000]);
    let _ = id;
}

#[test]
fn calling_again_re_schedules_and_minus_one_cancels() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(30));
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(40));
    assert!(
        restarts(&browser).is_empty(),
        "the first schedule was replaced"
    );
    browser.advance(secs(30));
    assert_eq!(restarts(&browser).len(), 1);
    assert_eq!(restarts(&browser)[0].0, 90_000);
    // After the restart: schedule (far enough not to be throttled), then cancel.
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 4 * 3600), Ok(()));
    assert_eq!(delay(&mut browser, &rt, -1), Ok(()));
    browser.advance(hours(5));
    assert_eq!(restarts(&browser).len(), 1);
    let canceled = times(&browser.trace(), |e| {
        matches!(e, TraceEvent::RestartCanceled)
    });
    assert_eq!(canceled.len(), 1);
}

#[test]
fn a_second_api_restart_within_three_hours_is_throttled_but_still_happens() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(61));
    let first = restarts(&browser)[0].0;
    // The device restarted because of the API: a new request for 10 minutes is throttled to
    // 3 h after that restart, and the call fails.
    let rt = loads.last().unwrap();
    assert_eq!(
        delay(&mut browser, &rt, 600).unwrap_err(),
        "Restart was requested too soon. It was throttled instead."
    );
    browser.advance(hours(4));
    let all = restarts(&browser);
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].0, first + 3 * 3600 * 1000);
    // Three hours after that one, a request is not throttled.
    browser.advance(hours(3));
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
}

#[test]
fn a_request_far_enough_ahead_is_not_throttled() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(61));
    let rt = loads.last().unwrap();
    // now + 3 h 1 s is more than 3 h after the last restart.
    assert_eq!(delay(&mut browser, &rt, 3 * 3600 + 1), Ok(()));
}

#[test]
fn restart_cannot_clear_the_throttle() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
    browser.advance(secs(61));
    let api_restart = restarts(&browser)[0].0;
    // In the next run, the app reads the preferences (a call that is not throttled), then
    // restarts the device itself.
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 4 * 3600), Ok(()));
    browser.advance(secs(10));
    assert_eq!(restart(&mut browser, &rt), Ok(()));
    browser.advance(secs(1));
    assert_eq!(restarts(&browser).len(), 2);
    // Still throttled relative to the last restartAfterDelay restart.
    let rt = loads.last().unwrap();
    assert_eq!(
        delay(&mut browser, &rt, 60).unwrap_err(),
        "Restart was requested too soon. It was throttled instead."
    );
    browser.advance(hours(4));
    assert_eq!(restarts(&browser)[2].0, api_restart + 3 * 3600 * 1000);
}

#[test]
fn a_restart_for_another_reason_does_not_throttle() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    let rt = loads.last().unwrap();
    assert_eq!(restart(&mut browser, &rt), Ok(()));
    browser.advance(secs(1));
    assert_eq!(restarts(&browser).len(), 1);
    let rt = loads.last().unwrap();
    assert_eq!(delay(&mut browser, &rt, 60), Ok(()));
}

#[test]
fn restart_restarts_the_device_now() {
    let (mut browser, _, seen, loads) = one_app(kiosk());
    seen.take();
    browser.advance(secs(5));
    let rt = loads.last().unwrap();
    assert_eq!(restart(&mut browser, &rt), Ok(()));
    browser.advance(Duration::ZERO);
    let all = restarts(&browser);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, 5_000);
    assert!(all[0].1.starts_with("runtime.restart() called by "));
    assert_eq!(seen.all(), ["onStartup"]);
}

#[test]
fn a_browser_update_requires_a_restart_and_forces_one_after_24_hours() {
    let (mut browser, _, seen, _) = one_app(kiosk());
    seen.take();
    browser.advance(secs(10));
    browser.stage_browser_update("157.0.0.0");
    browser.advance(Duration::ZERO);
    assert_eq!(seen.take(), ["onRestartRequired os_update"]);
    browser.advance(FORCED_RESTART_GRACE - secs(1));
    assert!(restarts(&browser).is_empty());
    browser.advance(secs(2));
    let all = restarts(&browser);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, 10_000 + FORCED_RESTART_GRACE.as_millis() as u64);
    assert!(all[0].1.starts_with("forced"));
    assert_eq!(browser.version(), "157.0.0.0");
}

#[test]
fn an_app_that_restarts_in_time_is_not_forced() {
    let (mut browser, _, _, loads) = one_app(kiosk());
    browser.stage_browser_update("157.0.0.0");
    browser.advance(hours(1));
    let rt = loads.last().unwrap();
    assert_eq!(restart(&mut browser, &rt), Ok(()));
    browser.advance(hours(48));
    assert_eq!(restarts(&browser).len(), 1);
}

#[test]
fn an_app_update_that_waits_requires_a_restart() {
    let seen = Log::new();
    let loads = Log::new();
    let s = seen.clone();
    let l = loads.clone();
    let script = runtime_sim::script_fn(move |rt: Runtime| {
        l.push(rt.clone());
        let s2 = s.clone();
        rt.on_update_available()
            .add_listener(move |_| s2.push("onUpdateAvailable".to_owned()));
        let s3 = s.clone();
        rt.on_restart_required()
            .add_listener(move |reason: OnRestartRequiredReason| {
                s3.push(format!("onRestartRequired {}", reason.as_str()))
            });
        async { Ok(()) }
    });
    let (mut browser, ids) = started(kiosk(), vec![packed("app", "1.0", true, script)]);
    let (next, _) = top_level(|_| {});
    browser
        .publish_update(&ids[0], packed("app", "2.0", true, next))
        .unwrap();
    browser.advance(hours(7));
    assert_eq!(
        seen.all(),
        ["onUpdateAvailable", "onRestartRequired app_update"]
    );
    browser.advance(hours(24));
    // The forced restart installed the update.
    assert_eq!(restarts(&browser).len(), 1);
    assert_eq!(browser.extension(&ids[0]).unwrap().version, "2.0");
}

#[test]
fn the_uptime_limit_requires_a_periodic_restart() {
    let (mut browser, _, seen, _) = one_app(kiosk().kiosk_uptime_limit(hours(24 * 7)));
    seen.take();
    browser.advance(hours(24 * 7));
    assert_eq!(seen.take(), ["onRestartRequired periodic"]);
    browser.advance(hours(24));
    assert_eq!(restarts(&browser).len(), 1);
    // A new uptime period starts with the new run.
    assert_eq!(seen.take(), ["onStartup"]);
    browser.advance(hours(24 * 7));
    assert_eq!(seen.take(), ["onRestartRequired periodic"]);
}
