//! A failing listener stops neither the bus, nor the page, nor the other listeners.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use runtime_sim::{script_fn, PageState, TraceEvent};
use serde_json::json;

#[test]
fn a_panicking_listener_is_recorded_and_everything_else_goes_on() {
    let good = Arc::new(AtomicUsize::new(0));
    let g = good.clone();
    let script = script_fn(move |rt| {
        let (g1, g2) = (g.clone(), g.clone());
        async move {
            let alarms = rt.event("alarms.onAlarm");
            alarms.add_listener(move |_| {
                g1.fetch_add(1, Ordering::SeqCst);
            });
            alarms.add_listener(|alarm| {
                if alarm["explode"] == json!(true) {
                    panic!("listener blew up on {alarm}");
                }
            });
            alarms.add_listener(|_| -> Result<(), String> {
                Err("TypeError: x is undefined".into())
            });
            alarms.add_async_listener(|_| async { Err::<(), _>("rejected promise") });
            alarms.add_listener(move |_| {
                g2.fetch_add(1, Ordering::SeqCst);
            });
            Ok(())
        }
    });
    let (mut browser, id) = browser_with(extension("fragile", false, script));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"explode": true}))
        .unwrap();
    browser.advance(secs(1));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"explode": false}))
        .unwrap();
    browser.advance(secs(1));

    // The other listeners ran both times; the page is alive and goes on with its lifecycle.
    assert_eq!(good.load(Ordering::SeqCst), 4);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.run_until_idle();
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    let trace = browser.trace();
    let failures: Vec<(String, &str, String)> = trace
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::ListenerFailed {
                event,
                failure,
                message,
            } => Some((event.to_string(), *failure, message.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        failures,
        [
            (
                "alarms.onAlarm".into(),
                "panicked",
                "listener blew up on {\"explode\":true}".into()
            ),
            (
                "alarms.onAlarm".into(),
                "errored",
                "TypeError: x is undefined".into()
            ),
            (
                "alarms.onAlarm".into(),
                "errored",
                "TypeError: x is undefined".into()
            ),
        ]
    );
    let async_failures = times(
        &trace,
        |e| matches!(e, TraceEvent::TaskFailed { task, message } if task == "an async listener of alarms.onAlarm" && message == "rejected promise"),
    );
    assert_eq!(async_failures, [0, 1_000]);
    // Every failure names the extension.
    assert!(trace
        .entries()
        .filter(|e| matches!(
            e.event,
            TraceEvent::ListenerFailed { .. } | TraceEvent::TaskFailed { .. }
        ))
        .all(|e| e.extension.as_ref() == Some(&id)));
}

#[test]
fn a_panicking_top_level_script_fails_the_load_and_later_loads_are_tried_again() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let script = script_fn(move |rt| {
        let a = a.clone();
        async move {
            if a.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("first load crashes");
            }
            rt.event("alarms.onAlarm").add_listener(|_| {});
            Ok(())
        }
    });
    let (mut browser, id) = browser_with(extension("crashy", false, script));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let trace = browser.trace();
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::ScriptFailed { message } if message == "panicked: first load crashes")
        ),
        [0]
    );
    // onInstalled was not delivered: the page did not load.
    assert!(times(&trace, |e| matches!(e, TraceEvent::EventNotDelivered { event, .. } if event == "runtime.onInstalled")).len() == 1);
    // The user reloads it: the unpacked extension is installed again, and onInstalled loads
    // the page again.
    browser.reload_extension(&id).unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
}

#[test]
fn a_panicking_async_task_is_recorded_and_the_page_goes_on() {
    let script = script_fn(|rt| async move {
        rt.spawn(async { panic!("background work crashed") });
        rt.on_suspend().add_listener(|()| {});
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("task", false, script));
    browser.run_until_idle();
    let trace = browser.trace();
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::TaskFailed { message, .. } if message == "panicked: background work crashed")
        ),
        [0]
    );
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [10_000]);
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}
