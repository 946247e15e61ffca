//! The event-page lifecycle on the virtual clock (runtime-behaviour.md §1.1, §1.2, §2.1, §2.2).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::*;
use runtime_sim::{script_fn, Browser, PageState, TraceEvent, ViewKind};
use serde_json::json;

fn quiet() -> impl runtime_sim::BackgroundScript {
    script_fn(|rt| async move {
        rt.on_suspend().add_listener(|()| {});
        rt.on_suspend_canceled().add_listener(|()| {});
        Ok(())
    })
}

#[test]
fn an_idle_event_page_gets_on_suspend_at_10s_and_is_unloaded_at_15s() {
    let (mut browser, id) = browser_with(extension("idle", false, quiet()));
    browser.advance(secs(9));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Closing));
    browser.advance(Duration::from_millis(4_999));
    assert_eq!(browser.page_state(&id), Some(PageState::Closing));
    browser.advance(Duration::from_millis(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [10_000]);
    assert_eq!(entered(&trace, PageState::Closing), [10_000]);
    assert_eq!(entered(&trace, PageState::Unloaded), [15_000]);
    assert!(dispatched(&trace, "runtime.onSuspendCanceled").is_empty());
}

#[test]
fn the_idle_delay_and_window_are_settings() {
    let mut browser = Browser::builder()
        .idle_delay(secs(3))
        .suspending_window(secs(1))
        .build();
    let id = browser.install(extension("fast", false, quiet())).unwrap();
    browser.start();
    browser.run_until_idle();
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [3_000]);
    assert_eq!(entered(&trace, PageState::Unloaded), [4_000]);
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}

#[test]
fn an_event_in_the_window_cancels_the_suspend_and_starts_a_new_idle_period() {
    let script = script_fn(|rt| async move {
        rt.on_suspend_canceled().add_listener(|()| {});
        rt.event("alarms.onAlarm").add_listener(|_| {});
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("cancel", false, script));
    browser.advance(secs(12)); // onSuspend at 10 s, closing
    assert_eq!(browser.page_state(&id), Some(PageState::Closing));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "a"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.run_until_idle();

    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspendCanceled"), [12_000]);
    assert_eq!(dispatched(&trace, "alarms.onAlarm"), [12_000]);
    // onSuspendCanceled comes before the event that cancelled the suspend.
    let order: Vec<String> = trace
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::EventDispatched { event, .. } if e.at == at(12_000) => {
                Some(event.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(order, ["runtime.onSuspendCanceled", "alarms.onAlarm"]);
    // A fresh idle period: onSuspend again 10 s after the event, unloaded 5 s later.
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [10_000, 22_000]);
    assert_eq!(entered(&trace, PageState::Unloaded), [27_000]);
}

#[test]
fn a_keepalive_still_held_when_the_window_ends_cancels_the_suspend() {
    let (mut browser, id) = browser_with(extension("held", false, quiet()));
    browser.advance(secs(11));
    let keepalive = browser.keepalive(&id, "devtools open").unwrap();
    browser.advance(secs(5)); // the window ends at 15 s with the keepalive held
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspendCanceled"), [15_000]);
    drop(keepalive);
    browser.advance(secs(30));
    let trace = browser.trace();
    // Idle again from the release at 16 s.
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [10_000, 26_000]);
    assert_eq!(entered(&trace, PageState::Unloaded), [31_000]);
}

/// A browser whose `storage.local.set` takes `latency`, and a script that calls it from
/// `onSuspend`.
fn saving_on_suspend(latency: Duration) -> (Browser, impl runtime_sim::BackgroundScript) {
    let script = script_fn(|rt| async move {
        let storage = rt.storage();
        rt.on_suspend().add_async_listener(move |()| {
            let storage = storage.clone();
            async move { storage.set("saved", json!(true)).await }
        });
        Ok(())
    });
    let browser = Browser::builder()
        .api_latency_for(runtime_sim::ApiFunction::StorageLocalSet, latency)
        .build();
    (browser, script)
}

#[test]
fn an_api_call_started_in_on_suspend_that_finishes_within_the_window_does_not_keep_the_page() {
    let (mut browser, script) = saving_on_suspend(secs(2));
    let id = browser.install(extension("saver", false, script)).unwrap();
    browser.start();
    browser.run_until_idle();
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspend"), [10_000]);
    assert_eq!(entered(&trace, PageState::Unloaded), [15_000]);
    assert!(dispatched(&trace, "runtime.onSuspendCanceled").is_empty());
    assert_eq!(browser.storage(&id)["saved"], json!(true));
}

#[test]
fn an_api_call_started_in_on_suspend_still_running_at_the_end_of_the_window_cancels() {
    let (mut browser, script) = saving_on_suspend(secs(7));
    let id = browser
        .install(extension("slow saver", false, script))
        .unwrap();
    browser.start();
    browser.advance(secs(16));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onSuspendCanceled"), [15_000]);
    // The call ends at 17 s; then a fresh idle period: onSuspend at 27 s (and the same call
    // again, which again outlives the window).
    browser.advance(secs(11));
    assert_eq!(
        dispatched(&browser.trace(), "runtime.onSuspend"),
        [10_000, 27_000]
    );
}

#[test]
fn a_held_keepalive_prevents_suspend() {
    let (mut browser, id) = browser_with(extension("kept", false, quiet()));
    let keepalive = browser.keepalive(&id, "test").unwrap();
    browser.advance(secs(3600));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    assert!(dispatched(&browser.trace(), "runtime.onSuspend").is_empty());
    keepalive.release();
    browser.advance(secs(15));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert_eq!(
        dispatched(&browser.trace(), "runtime.onSuspend"),
        [3_610_000]
    );
}

#[test]
fn an_open_view_keeps_the_page_alive() {
    let (mut browser, id) = browser_with(extension("popup", false, quiet()));
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    browser.advance(secs(60));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    assert!(browser.close_view(&id, view));
    browser.advance(secs(15));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}

#[test]
fn a_waking_event_reaches_a_top_level_listener_and_is_missed_by_a_late_one() {
    let top = Arc::new(AtomicUsize::new(0));
    let late = Arc::new(AtomicUsize::new(0));
    let (t, l) = (top.clone(), late.clone());
    let script = script_fn(move |rt| {
        let (t, l) = (t.clone(), l.clone());
        async move {
            rt.event("alarms.onAlarm").add_listener(move |_| {
                t.fetch_add(1, Ordering::SeqCst);
            });
            rt.sleep(Duration::from_millis(1)).await;
            rt.event("tabs.onUpdated").add_listener(move |_| {
                l.fetch_add(1, Ordering::SeqCst);
            });
            Ok(())
        }
    });
    let (mut browser, id) = browser_with(extension("waker", false, script));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(secs(20));
    assert_eq!(
        top.load(Ordering::SeqCst),
        1,
        "the top-level listener got the waking event"
    );

    browser
        .fire_event(&id, "tabs.onUpdated", json!({}))
        .unwrap();
    browser.advance(secs(20));
    assert_eq!(
        late.load(Ordering::SeqCst),
        0,
        "the late listener missed the waking event"
    );

    let trace = browser.trace();
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::EventMissed { event, .. } if event == "tabs.onUpdated")
        ),
        [40_000]
    );
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::LateListener { event, .. } if event == "tabs.onUpdated")
        ),
        [40_001]
    );
    // Three loads: install, the alarm, the tab update.
    assert_eq!(browser.extension(&id).unwrap().page_loads, 3);
}

#[test]
fn an_event_the_page_never_listened_to_does_not_wake_it() {
    let (mut browser, id) = browser_with(extension("deaf", false, quiet()));
    browser.advance(secs(20));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert_eq!(browser.extension(&id).unwrap().page_loads, 1);
    let trace = browser.trace();
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::EventNotDelivered { event, .. } if event == "alarms.onAlarm")
        ),
        [20_000]
    );
}

#[test]
fn a_listener_removed_is_forgotten_and_no_longer_wakes_the_page() {
    let script = script_fn(|rt| async move {
        let event = rt.event("alarms.onAlarm");
        let id = event.add_listener(|_| {});
        assert!(event.has_listener(id));
        event.remove_listener(id);
        assert!(!event.has_listeners());
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("forgetful", false, script));
    browser.advance(secs(20));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}

#[test]
fn a_persistent_page_loads_at_start_and_never_suspends() {
    let (mut browser, id) = browser_with(extension("persistent", true, quiet()));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    browser.advance(secs(7 * 24 * 3600));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    let trace = browser.trace();
    assert!(dispatched(&trace, "runtime.onSuspend").is_empty());
    assert_eq!(browser.extension(&id).unwrap().page_loads, 1);
    // Nothing is scheduled: a persistent page has no timers.
    assert_eq!(browser.run_until_idle(), at(7 * 24 * 3600 * 1000));
}

#[test]
fn on_installed_at_first_install_then_on_startup_at_each_later_start() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    let script = script_fn(move |rt| {
        let (a, b) = (log.clone(), log.clone());
        async move {
            rt.on_installed().add_listener(move |d| {
                a.lock().unwrap().push(format!("installed:{:?}", d.reason));
            });
            rt.on_startup()
                .add_listener(move |()| b.lock().unwrap().push("startup".into()));
            Ok(())
        }
    });
    let mut browser = Browser::builder().build();
    let id = browser
        .install(extension("starter", false, script))
        .unwrap();
    browser.start();
    browser.run_until_idle();
    browser.restart();
    browser.run_until_idle();
    browser.stop();
    browser.advance(secs(3600));
    browser.start();
    browser.run_until_idle();
    assert_eq!(
        *seen.lock().unwrap(),
        ["installed:Install", "startup", "startup"]
    );
    assert_eq!(browser.extension(&id).unwrap().page_loads, 3);
}

#[test]
fn installing_into_a_running_browser_sends_on_installed_at_once() {
    let mut browser = Browser::builder().build();
    browser.start();
    browser.advance(secs(5));
    let id = browser
        .install(extension("late install", true, quiet()))
        .unwrap();
    browser.advance(Duration::ZERO);
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onInstalled"), [5_000]);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
}

#[test]
fn a_command_line_extension_gets_on_installed_at_every_launch_and_never_on_startup() {
    let spec = extension("unpacked on the command line", false, quiet())
        .location(runtime_sim::Location::CommandLine);
    let mut browser = Browser::builder().build();
    browser.install(spec).unwrap();
    browser.start();
    browser.run_until_idle();
    browser.restart();
    browser.run_until_idle();
    let trace = browser.trace();
    assert_eq!(dispatched(&trace, "runtime.onInstalled").len(), 2);
    assert!(dispatched(&trace, "runtime.onStartup").is_empty());
}

#[test]
fn stopping_the_browser_closes_pages_without_on_suspend_and_keeps_storage() {
    let script = script_fn(|rt| async move {
        rt.on_suspend().add_listener(|()| {});
        rt.storage().set("k", json!(1)).await?;
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("stopper", true, script));
    browser.advance(secs(1));
    browser.stop();
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert!(dispatched(&browser.trace(), "runtime.onSuspend").is_empty());
    assert_eq!(browser.storage(&id)["k"], json!(1));
    assert_eq!(browser.keepalive_count(&id), 0);
}

#[test]
fn nothing_survives_a_suspend_but_storage() {
    // A factory makes a new script object at each load; the counter inside it starts at zero
    // every time, while the stored one keeps counting.
    struct Script {
        loads_seen_by_this_instance: AtomicUsize,
    }
    #[async_trait::async_trait(?Send)]
    impl runtime_sim::BackgroundScript for Script {
        async fn run(&self, rt: runtime_sim::Runtime) -> Result<(), runtime_sim::ScriptError> {
            // Listening to onStartup is what makes each restart load the page again.
            rt.on_startup().add_listener(|()| {});
            let mine = self
                .loads_seen_by_this_instance
                .fetch_add(1, Ordering::SeqCst)
                + 1;
            let stored = rt
                .storage()
                .get("loads")
                .await?
                .and_then(|v| v.as_u64())
                .unwrap_or(0)
                + 1;
            rt.storage().set("loads", json!(stored)).await?;
            rt.storage().set("instance_count", json!(mine)).await?;
            Ok(())
        }
    }
    let spec = extension("fresh", false, quiet()).script_factory(|| {
        Box::new(Script {
            loads_seen_by_this_instance: AtomicUsize::new(0),
        })
    });
    let (mut browser, id) = browser_with(spec);
    for _ in 0..3 {
        browser.advance(secs(20));
        browser.restart();
    }
    browser.run_until_idle();
    let storage = browser.storage(&id);
    assert_eq!(storage["loads"], json!(4));
    assert_eq!(storage["instance_count"], json!(1));
}

#[test]
fn uninstall_opens_the_uninstall_url_and_removes_the_extension() {
    let script = script_fn(|rt| async move {
        rt.set_uninstall_url("https://example.com/goodbye").await?;
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("leaver", false, script));
    browser.advance(secs(1));
    assert_eq!(
        browser.uninstall_url(&id).as_deref(),
        Some("https://example.com/goodbye")
    );
    browser.uninstall(&id).unwrap();
    assert!(browser.extension(&id).is_none());
    let trace = browser.trace();
    assert_eq!(
        times(
            &trace,
            |e| matches!(e, TraceEvent::UninstallUrlOpened { url } if url == "https://example.com/goodbye")
        ),
        [1_000]
    );
    assert!(browser.uninstall(&id).is_err());
}

/// Two runs of the same inputs give byte-identical traces.
#[test]
fn two_runs_give_identical_traces() {
    fn run() -> String {
        let script = script_fn(|rt| async move {
            let rt2 = rt.clone();
            rt.event("alarms.onAlarm").add_async_listener(move |_| {
                let rt = rt2.clone();
                async move {
                    rt.sleep(Duration::from_millis(300)).await;
                    let info = rt.get_platform_info().await.map_err(|e| e.to_string())?;
                    rt.storage()
                        .set("os", json!(info.os))
                        .await
                        .map_err(|e| e.to_string())
                }
            });
            rt.on_suspend().add_listener(|()| {});
            Ok(())
        });
        let mut browser = Browser::builder().seed(42).build();
        let id = browser.install(extension("twice", false, script)).unwrap();
        browser.install(extension("other", true, quiet())).unwrap();
        browser.start();
        for minute in 0..30 {
            browser.advance(secs(37));
            if minute % 3 == 0 {
                browser
                    .fire_event(&id, "alarms.onAlarm", json!({"n": minute}))
                    .unwrap();
            }
        }
        browser.restart();
        browser.run_until_idle();
        browser.trace().to_jsonl()
    }
    let (a, b) = (run(), run());
    assert!(a.lines().count() > 200);
    assert_eq!(a, b);
}

/// When an event page unloads, its listeners go with it, as a page's JavaScript does, even a
/// listener that holds the page's own `runtime` (as most do, to call the API). Regression: the
/// listener held the `runtime`, which held the page's events, which held the listener; nothing
/// dropped them, so every load of a page stayed in memory for good (the soak test's pages).
#[test]
fn an_unloaded_page_drops_its_listeners_even_those_holding_its_runtime() {
    let alive = Arc::new(());
    let held = Arc::clone(&alive);
    let script = script_fn(move |rt| {
        let held = Arc::clone(&held);
        async move {
            let page = rt.clone();
            rt.event("alarms.onAlarm").add_listener(move |_| {
                let _ = (&page, &held);
            });
            rt.on_message().add_listener({
                let page = rt.clone();
                move |_: runtime_sim::OnMessage| {
                    let _ = &page;
                }
            });
            Ok(())
        }
    });
    let (mut browser, id) = browser_with(extension("holder", false, script));
    // Held here, by the script, and by the loaded page's listener.
    for load in 1..=3 {
        assert_eq!(Arc::strong_count(&alive), 3, "load {load}");
        browser.advance(secs(20));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
        assert_eq!(Arc::strong_count(&alive), 2, "after load {load}");
        browser
            .fire_event(&id, "alarms.onAlarm", json!({}))
            .unwrap();
        browser.advance(Duration::ZERO);
    }
}
