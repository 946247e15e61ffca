//! Listeners registered too late, for messages and ports as for events: the one dispatch
//! function explains a missed event, and names the listener added after it, whatever reached
//! the page; and a script's state may be anything a JavaScript page holds, such as an
//! `Rc<RefCell<…>>`.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::{browser_with, extension, popup_runtime, secs};
use runtime_sim::{script_fn, OnMessage, PageState, Port, Trace, TraceEvent};
use serde_json::{json, Value};

/// The events that the trace says were missed, and those whose listener it names late.
fn missed_and_late(trace: &Trace) -> (Vec<String>, Vec<String>) {
    let mut missed = Vec::new();
    let mut late = Vec::new();
    for entry in trace.entries() {
        match &entry.event {
            TraceEvent::EventMissed { event, .. } => missed.push(event.to_string()),
            TraceEvent::LateListener { event, .. } => late.push(event.to_string()),
            _ => {}
        }
    }
    (missed, late)
}

/// An `onConnect` listener added after an `await` is there when the page first runs, so the
/// browser remembers it (a lazy listener); once the page has been suspended, a `connect`
/// wakes it, the channel opens as soon as the top-level code has run — before the listener is
/// added again — and the opener's port is disconnected with no receiver. The trace explains
/// the missed `runtime.onConnect`, and names the listener added after it. Before, the
/// channel failed with no word of why: only plain events had the explanation.
#[test]
fn an_on_connect_that_woke_the_page_and_missed_its_listener_is_explained() {
    let script = script_fn(|rt| async move {
        rt.sleep(Duration::from_millis(1)).await;
        rt.on_connect().add_listener(|_port: Port| {});
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("late hub", false, script));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    let popup = popup_runtime(&mut browser, &id);
    let port = popup.connect("chat").unwrap();
    let errors = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&errors);
    let watched = popup.clone();
    port.on_disconnect().add_listener(move |_port: Port| {
        seen.borrow_mut()
            .push(watched.last_error().map(|e| e.message));
    });
    browser.advance(secs(1));

    let (missed, late) = missed_and_late(&browser.trace());
    assert_eq!(
        missed,
        ["runtime.onConnect"],
        "{}",
        browser.trace().timeline()
    );
    assert_eq!(
        late,
        ["runtime.onConnect"],
        "{}",
        browser.trace().timeline()
    );
    assert_eq!(*errors.borrow(), [Some(common::NO_RECEIVER.to_owned())]);
    let explanation = browser
        .trace()
        .entries()
        .find_map(|e| match &e.event {
            TraceEvent::EventMissed { explanation, .. } => Some(explanation.clone()),
            _ => None,
        })
        .unwrap();
    assert!(explanation.contains("Register listeners synchronously at the top level"));
}

/// A port whose `onMessage` listener is added after an `await` misses the message posted at
/// once: the trace says the message reached no listener, and names the listener added after
/// it. Before, the trace said the message was dispatched to 0 listeners, and nothing more.
#[test]
fn a_port_message_that_missed_its_listener_is_explained() {
    let script = script_fn(|rt| async move {
        let keep = rt.clone();
        rt.on_connect().add_listener(move |port: Port| {
            let rt = keep.clone();
            keep.spawn(async move {
                rt.sleep(Duration::from_millis(5)).await;
                port.on_message()
                    .add_listener(|(_message, _port): (Value, Port)| {});
            });
        });
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("slow reader", true, script));
    let popup = popup_runtime(&mut browser, &id);
    let port = popup.connect("chat").unwrap();
    port.post_message(&json!("hello")).unwrap();
    browser.advance(secs(1));

    let (missed, late) = missed_and_late(&browser.trace());
    assert_eq!(missed, ["Port.onMessage"], "{}", browser.trace().timeline());
    assert_eq!(late, ["Port.onMessage"], "{}", browser.trace().timeline());
}

/// A background script keeps its state in an `Rc<RefCell<…>>` shared by its listeners, as a
/// page's JavaScript keeps it in a variable; the state lives as long as the page load, and a
/// new load starts from nothing. Before, a script and its listeners had to be `Send + Sync`,
/// so only thread-safe state would do.
#[test]
fn a_script_keeps_its_state_in_an_rc_refcell() {
    let script = script_fn(|rt| async move {
        let count = Rc::new(RefCell::new(0u32));
        let seen = Rc::clone(&count);
        rt.on_message().add_listener(move |m: OnMessage| {
            *seen.borrow_mut() += 1;
            m.respond(&json!(*seen.borrow()));
        });
        let reset = Rc::clone(&count);
        rt.on_suspend()
            .add_listener(move |()| *reset.borrow_mut() = 100);
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("counter", false, script));
    let view = browser
        .open_view(&id, runtime_sim::ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    for expected in 1..=3 {
        let answer = browser.try_block_on(popup.send_message(&"count"));
        assert_eq!(answer, Ok(Some(json!(expected))));
    }
    assert!(browser.close_view(&id, view));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    // A new load of the page: its state starts again.
    let popup = popup_runtime(&mut browser, &id);
    let answer = browser.try_block_on(popup.send_message(&"count"));
    assert_eq!(answer, Ok(Some(json!(1))));
}
