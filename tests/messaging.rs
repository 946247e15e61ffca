//! One-time messages: `runtime.sendMessage` and `runtime.onMessage`, with the browser's exact
//! error strings (runtime-behaviour.md §4.1, §4.3, and waking an event page, §1.1).

mod common;

use std::collections::BTreeMap;

use common::*;
use runtime_sim::{
    script_fn, BackgroundScript, Browser, FrameId, ListenerError, MessageSender, OnMessage,
    PageState, SendMessageError, SendResponse, TraceEvent, ViewKind, MAX_MESSAGE_SIZE,
};
use serde_json::{json, Value};

const PORT_CLOSED: &str = "The message port closed before a response was received.";
const CHANNEL_CLOSED: &str = "A listener indicated an asynchronous response by returning true, but the message channel closed before a response was received";

/// A background page with no `onMessage` listener.
fn deaf() -> impl BackgroundScript {
    script_fn(|_rt| async { Ok(()) })
}

/// A background page whose `onMessage` listener logs each message and answers nothing.
fn logging(log: &Log<Value>) -> impl BackgroundScript {
    let log = log.clone();
    top_level(move |rt| {
        let log = log.clone();
        rt.on_message()
            .add_listener(move |m: OnMessage| log.push(m.message));
    })
    .0
}

/// The content scripts of a test extension run on example.com pages and in their frames.
fn with_content_scripts() -> Value {
    json!({"content_scripts": [{
        "matches": ["https://example.com/*", "https://widgets.example.net/*"],
        "all_frames": true
    }]})
}

/// §4.1: `onMessage` fires in every context of the extension that has a listener (background
/// page and views), except the sender's own.
#[test]
fn a_message_reaches_every_other_context_with_a_listener_but_not_the_sender() {
    let got: Log<(&'static str, Value)> = Log::new();
    let g = got.clone();
    let (script, loads) = top_level(move |rt| {
        let g = g.clone();
        rt.on_message()
            .add_listener(move |m: OnMessage| g.push(("background", m.message)));
    });
    let (mut browser, id) = browser_with(event_page("fan out", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let tab = view_runtime(&mut browser, &id, ViewKind::Tab, "page.html");
    for (who, rt) in [("popup", &popup), ("tab", &tab)] {
        let g = got.clone();
        rt.on_message()
            .add_listener(move |m: OnMessage| g.push((who, m.message)));
    }

    let reply = wait(&mut browser, popup.send_message(&json!("from the popup")));
    assert_eq!(reply, Ok(None));
    assert_eq!(
        got.take(),
        [
            ("background", json!("from the popup")),
            ("tab", json!("from the popup"))
        ]
    );

    let background = loads.last().unwrap();
    let reply = wait(
        &mut browser,
        background.send_message(&json!("from the page")),
    );
    assert_eq!(reply, Ok(None));
    assert_eq!(
        got.take(),
        [
            ("popup", json!("from the page")),
            ("tab", json!("from the page"))
        ]
    );
}

/// §4.1: `runtime.sendMessage` does not reach the extension's content scripts (that is
/// `tabs.sendMessage`); with no other listener the sender gets the no-receiver error.
#[test]
fn content_scripts_do_not_get_runtime_send_message() {
    let (mut browser, id) = browser_with(event_page("cs", with_content_scripts(), deaf()));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let got: Log<Value> = Log::new();
    let g = got.clone();
    content
        .on_message()
        .add_listener(move |m: OnMessage| g.push(m.message));
    let popup = popup_runtime(&mut browser, &id);

    let err = wait(&mut browser, popup.send_message(&json!("anyone?"))).unwrap_err();
    assert_eq!(err, SendMessageError::NoReceiver);
    assert_eq!(err.to_string(), NO_RECEIVER);
    assert!(got.is_empty());
}

/// A background script whose `onMessage` records each sender; with the log and each load's
/// `runtime`.
fn recording_senders() -> (
    Log<MessageSender>,
    impl BackgroundScript,
    Log<runtime_sim::Runtime>,
) {
    let senders: Log<MessageSender> = Log::new();
    let s = senders.clone();
    let (script, loads) = top_level(move |rt| {
        let s = s.clone();
        rt.on_message()
            .add_listener(move |m: OnMessage| s.push((*m.sender).clone()));
    });
    (senders, script, loads)
}

/// §4.3: a content script's message carries the extension id, its frame's URL and origin,
/// its tab, and frameId 0 for the top frame.
#[test]
fn a_content_script_sender_has_id_url_origin_tab_and_frame_id() {
    let (senders, script, _) = recording_senders();
    let (mut browser, id) = browser_with(event_page("senders", with_content_scripts(), script));
    let url = "https://example.com/article?id=7";
    let tab = browser.open_tab(url).unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    assert_eq!(
        wait(&mut browser, content.send_message(&json!("hi"))),
        Ok(None)
    );

    let sender = senders.last().unwrap();
    assert_eq!(sender.id, Some(id));
    assert_eq!(sender.url.as_deref(), Some(url));
    assert_eq!(sender.origin.as_deref(), Some("https://example.com"));
    assert_eq!(sender.frame_id, Some(runtime_sim::FrameId::TOP));
    let sender_tab = sender.tab.expect("a content script's sender has its tab");
    assert_eq!(sender_tab.id, tab);
    assert_eq!(sender_tab.url, url);
    assert_eq!(sender.native_application, None);
    assert_eq!(sender.tls_channel_id, None);
}

/// §4.3: a content script in a child frame sends with that frame's id and URL; the tab is
/// still the tab of the top frame.
#[test]
fn a_child_frame_sender_has_its_own_frame_id_and_url() {
    let (senders, script, _) = recording_senders();
    let (mut browser, id) = browser_with(event_page("frames", with_content_scripts(), script));
    let top_url = "https://example.com/page";
    let frame_url = "https://widgets.example.net/w/frame.html";
    let tab = browser.open_tab(top_url).unwrap();
    let frame = browser.open_frame(tab, FrameId::TOP, frame_url).unwrap();
    assert_ne!(frame, FrameId::TOP);
    let content = browser
        .content_script(&id, tab, frame)
        .expect("all_frames: the content script runs in the child frame");
    assert_eq!(
        wait(&mut browser, content.send_message(&json!("hi"))),
        Ok(None)
    );

    let sender = senders.last().unwrap();
    assert_eq!(sender.id, Some(id));
    assert_eq!(sender.frame_id, Some(frame));
    assert_eq!(sender.url.as_deref(), Some(frame_url));
    assert_eq!(
        sender.origin.as_deref(),
        Some("https://widgets.example.net")
    );
    let sender_tab = sender.tab.unwrap();
    assert_eq!(sender_tab.id, tab);
    assert_eq!(sender_tab.url, top_url);
}

/// §4.3: the background page and views send with id, URL and origin, and no tab or frameId.
#[test]
fn background_and_view_senders_have_id_url_and_origin_but_no_tab_or_frame() {
    let (senders, script, loads) = recording_senders();
    let (mut browser, id) = browser_with(event_page("ext senders", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let s = senders.clone();
    popup
        .on_message()
        .add_listener(move |m: OnMessage| s.push((*m.sender).clone()));

    wait(&mut browser, popup.send_message(&json!(1))).unwrap();
    let background = loads.last().unwrap();
    wait(&mut browser, background.send_message(&json!(2))).unwrap();

    let base = format!("chrome-extension://{id}");
    let expected = |path: &str| MessageSender {
        id: Some(id.clone()),
        url: Some(format!("{base}/{path}")),
        origin: Some(base.clone()),
        ..MessageSender::default()
    };
    assert_eq!(
        senders.take(),
        [
            expected("popup.html"),
            expected("_generated_background_page.html")
        ]
    );
}

/// An extension page shown in a tab (a view of kind `Tab`) is that tab's top frame: its
/// messages carry the tab (whose URL is the page's) and frameId 0, as a content script's do.
/// Regression: such a view had no tab, so its sender looked like a popup's.
#[test]
fn an_extension_page_in_a_tab_sends_with_its_tab_and_frame_id_0() {
    let (senders, script, _) = recording_senders();
    let (mut browser, id) = browser_with(event_page("tab page", json!({}), script));
    let web = browser.open_tab("https://example.com/").unwrap();
    let view = browser.open_view(&id, ViewKind::Tab, "page.html").unwrap();
    let tab = browser
        .view_tab(&id, view)
        .expect("the view is shown in a tab");
    assert_ne!(tab, web);
    assert_eq!(browser.tabs(), [web, tab]);
    let page = browser.view_runtime(&id, view).unwrap();
    wait(&mut browser, page.send_message(&json!("hi"))).unwrap();

    let url = format!("chrome-extension://{id}/page.html");
    let sender = senders.last().unwrap();
    assert_eq!(sender.id, Some(id.clone()));
    assert_eq!(sender.url.as_deref(), Some(url.as_str()));
    assert_eq!(sender.origin, Some(format!("chrome-extension://{id}")));
    assert_eq!(sender.frame_id, Some(runtime_sim::FrameId::TOP));
    let sender_tab = sender.tab.expect("a page in a tab sends with its tab");
    assert_eq!((sender_tab.id, sender_tab.index), (tab, 1));
    assert_eq!(sender_tab.url, url);
}

/// Closing an extension page's tab closes the page (its view), and closing the view closes
/// its tab; navigating the tab to a web page closes the view but keeps the tab.
#[test]
fn an_extension_page_and_its_tab_close_together() {
    let (mut browser, id) = browser_with(event_page(
        "tab page",
        with_content_scripts(),
        top_level(|_| {}).0,
    ));
    let first = browser.open_view(&id, ViewKind::Tab, "a.html").unwrap();
    let first_tab = browser.view_tab(&id, first).unwrap();
    assert!(browser.close_tab(first_tab));
    assert!(browser.view_runtime(&id, first).is_none());
    assert!(!browser.close_view(&id, first));

    let second = browser.open_view(&id, ViewKind::Tab, "b.html").unwrap();
    let second_tab = browser.view_tab(&id, second).unwrap();
    assert!(browser.close_view(&id, second));
    assert!(!browser.tabs().contains(&second_tab));
    assert_eq!(browser.view_tab(&id, second), None);

    let third = browser.open_view(&id, ViewKind::Tab, "c.html").unwrap();
    let third_tab = browser.view_tab(&id, third).unwrap();
    browser.navigate(third_tab, "https://example.com/").unwrap();
    assert!(browser.view_runtime(&id, third).is_none());
    assert_eq!(browser.tabs(), [third_tab]);
    assert!(
        browser
            .content_script(&id, third_tab, FrameId::TOP)
            .is_some(),
        "the web page the tab shows now gets the content scripts"
    );
    let closed = browser.with_trace(|t| {
        t.entries()
            .filter(|e| matches!(e.event, TraceEvent::TabClosed | TraceEvent::ViewClosed))
            .map(|e| e.event.to_string())
            .collect::<Vec<_>>()
    });
    assert_eq!(closed.len(), 5, "{closed:?}: 2 tabs closed, 3 views closed");
}

/// §4.1: a listener answers at once with `sendResponse`; the sender gets that value.
#[test]
fn a_listener_can_answer_at_once() {
    let answered: Log<bool> = Log::new();
    let a = answered.clone();
    let (script, _) = top_level(move |rt| {
        let a = a.clone();
        rt.on_message().add_listener(move |m: OnMessage| {
            a.push(m.respond(&json!({"echo": m.message})));
        });
    });
    let (mut browser, id) = browser_with(event_page("echo", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let start = browser.now();
    let reply = wait(&mut browser, popup.send_message(&json!("ping")));
    assert_eq!(reply, Ok(Some(json!({"echo": "ping"}))));
    assert_eq!(answered.all(), [true]);
    assert_eq!(browser.now(), start);
}

/// §4.1: a listener that returns `true` keeps the channel open and answers later.
#[test]
fn a_listener_that_returns_true_answers_later() {
    let (script, _) = top_level(|rt| {
        let page = rt.clone();
        rt.on_message().add_listener(move |m: OnMessage| {
            let respond = m.send_response();
            let timer = page.sleep(secs(3));
            page.spawn(async move {
                timer.await;
                respond.send(&json!("three seconds later"));
            });
            true
        });
    });
    let (mut browser, id) = browser_with(event_page("later", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let start = browser.now();
    let reply = wait(&mut browser, popup.send_message(&json!("take your time")));
    assert_eq!(reply, Ok(Some(json!("three seconds later"))));
    assert_eq!(browser.now() - start, secs(3));
}

/// §4.1 (Chrome 144+): an async listener's promise is the answer: what it resolves to is the
/// response.
#[test]
fn a_promise_listener_answers_with_what_it_resolves_to() {
    let (script, _) = top_level(|rt| {
        let page = rt.clone();
        rt.on_message().add_promise_listener(move |m: OnMessage| {
            let timer = page.sleep(secs(1));
            async move {
                timer.await;
                Ok::<_, ListenerError>(json!({"got": m.message}))
            }
        });
    });
    let (mut browser, id) = browser_with(event_page("promise", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let reply = wait(&mut browser, popup.send_message(&json!(42)));
    assert_eq!(reply, Ok(Some(json!({"got": 42}))));
}

/// §4.1 (Chrome 144+): a promise rejected with an Error gives the sender that error's message.
#[test]
fn a_promise_rejected_with_an_error_gives_the_sender_its_message() {
    let (script, _) = top_level(|rt| {
        rt.on_message().add_promise_listener(|_m: OnMessage| async {
            Err::<Value, _>(ListenerError::new(
                "TypeError: cannot read 'x' of undefined",
            ))
        });
    });
    let (mut browser, id) = browser_with(event_page("rejects", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let err = wait(&mut browser, popup.send_message(&json!("go"))).unwrap_err();
    assert_eq!(
        err,
        SendMessageError::Rejected("TypeError: cannot read 'x' of undefined".into())
    );
    assert_eq!(err.to_string(), "TypeError: cannot read 'x' of undefined");
}

/// §4.1 (Chrome 144+): a promise rejected with something that is not an Error gives the sender
/// a fixed message.
#[test]
fn a_promise_rejected_with_a_non_error_gives_the_fixed_message() {
    let (script, _) = top_level(|rt| {
        rt.on_message().add_promise_listener(|_m: OnMessage| async {
            Err::<Value, _>(ListenerError::not_an_error("42"))
        });
    });
    let (mut browser, id) = browser_with(event_page("throws 42", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let err = wait(&mut browser, popup.send_message(&json!("go"))).unwrap_err();
    assert_eq!(err, SendMessageError::RejectedWithoutError);
    assert_eq!(
        err.to_string(),
        "A runtime.onMessage listener's promise rejected without an Error"
    );
}

/// §4.1: of two listeners in one context, the first response wins; the later `sendResponse`
/// is ignored.
#[test]
fn the_first_response_wins_among_the_listeners_of_a_context() {
    let answered: Log<(&'static str, bool)> = Log::new();
    let a = answered.clone();
    let (script, _) = top_level(move |rt| {
        for who in ["first", "second"] {
            let a = a.clone();
            rt.on_message().add_listener(move |m: OnMessage| {
                a.push((who, m.respond(&json!(who))));
            });
        }
    });
    let (mut browser, id) = browser_with(event_page("two listeners", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let reply = wait(&mut browser, popup.send_message(&json!("who answers?")));
    assert_eq!(reply, Ok(Some(json!("first"))));
    assert_eq!(answered.all(), [("first", true), ("second", false)]);
}

/// §4.1: of several receiving contexts, the first to respond wins: here the popup answers at
/// once, the background page a second later, too late.
#[test]
fn the_first_response_wins_among_contexts() {
    let late: Log<bool> = Log::new();
    let l = late.clone();
    let (script, _) = top_level(move |rt| {
        let (page, l) = (rt.clone(), l.clone());
        rt.on_message().add_listener(move |m: OnMessage| {
            let respond = m.send_response();
            let (timer, l) = (page.sleep(secs(1)), l.clone());
            page.spawn(async move {
                timer.await;
                l.push(respond.send(&json!("background")));
            });
            true
        });
    });
    let (mut browser, id) = browser_with(event_page("two contexts", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    popup.on_message().add_listener(|m: OnMessage| {
        m.respond(&json!("popup"));
    });
    let sender = view_runtime(&mut browser, &id, ViewKind::Tab, "page.html");

    let reply = wait(&mut browser, sender.send_message(&json!("who answers?")));
    assert_eq!(reply, Ok(Some(json!("popup"))));
    browser.advance(secs(2));
    assert_eq!(late.all(), [false]);
}

/// §4.1: no listener anywhere: `Could not establish connection. Receiving end does not
/// exist.`, in the promise form and as `lastError` in the callback form.
#[test]
fn no_listener_anywhere_means_no_receiving_end() {
    let (mut browser, id) = browser_with(event_page("nobody", json!({}), deaf()));
    let popup = popup_runtime(&mut browser, &id);

    let err = wait(&mut browser, popup.send_message(&json!("hello?"))).unwrap_err();
    assert_eq!(err, SendMessageError::NoReceiver);
    assert_eq!(err.to_string(), NO_RECEIVER);

    let seen: Log<(Option<Value>, Option<String>)> = Log::new();
    let (s, rt) = (seen.clone(), popup.clone());
    popup
        .send_message_callback(None, &json!("hello?"), move |response| {
            s.push((response, rt.last_error().map(|e| e.message)));
        })
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(seen.all(), [(None, Some(NO_RECEIVER.to_owned()))]);
}

/// §4.1: a target extension that is not installed: the same no-receiver error.
#[test]
fn a_target_that_is_not_installed_means_no_receiving_end() {
    let (mut browser, id) = browser_with(event_page("lonely", json!({}), deaf()));
    let popup = popup_runtime(&mut browser, &id);
    let err = wait(
        &mut browser,
        popup.send_message_to(ABSENT_ID, &json!("anyone there?")),
    )
    .unwrap_err();
    assert_eq!(err, SendMessageError::NoReceiver);
    assert_eq!(err.to_string(), NO_RECEIVER);
}

/// §4.1: listeners ran and none answered or kept the channel open: the promise form resolves
/// with no response; the callback form gets `The message port closed before a response was
/// received.`
#[test]
fn listeners_that_do_not_answer_close_the_port() {
    let got: Log<Value> = Log::new();
    let (mut browser, id) = browser_with(event_page("mute", json!({}), logging(&got)));
    let popup = popup_runtime(&mut browser, &id);

    assert_eq!(
        wait(&mut browser, popup.send_message(&json!("promise"))),
        Ok(None)
    );

    let seen: Log<(Option<Value>, Option<String>)> = Log::new();
    let (s, rt) = (seen.clone(), popup.clone());
    popup
        .send_message_callback(None, &json!("callback"), move |response| {
            s.push((response, rt.last_error().map(|e| e.message)));
        })
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(got.all(), [json!("promise"), json!("callback")]);
    assert_eq!(seen.all(), [(None, Some(PORT_CLOSED.to_owned()))]);
}

/// §4.1: a listener returned `true`, then its context (a view) went away before answering.
#[test]
fn a_view_closed_after_returning_true_fails_the_message() {
    let (script, loads) = top_level(|_rt| {});
    let (mut browser, id) = browser_with(event_page("closing view", json!({}), script));
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    let kept: Log<SendResponse> = Log::new();
    let k = kept.clone();
    popup.on_message().add_listener(move |m: OnMessage| {
        k.push(m.send_response());
        true
    });

    let background = loads.last().unwrap();
    let reply = background.send_message(&json!("answer me later"));
    browser.advance(secs(1));
    assert_eq!(kept.len(), 1);
    assert!(browser.close_view(&id, view));

    let err = wait(&mut browser, reply).unwrap_err();
    assert_eq!(err, SendMessageError::ChannelClosed);
    assert_eq!(err.to_string(), CHANNEL_CLOSED);
    assert!(!kept.last().unwrap().send(&json!("too late")));
}

/// §4.1: a listener returned `true`, then its page was unloaded (its extension uninstalled)
/// before answering.
#[test]
fn a_page_unloaded_after_returning_true_fails_the_message() {
    let kept: Log<SendResponse> = Log::new();
    let k = kept.clone();
    let (script, _) = top_level(move |rt| {
        let k = k.clone();
        rt.on_message_external().add_listener(move |m: OnMessage| {
            k.push(m.send_response());
            true
        });
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            event_page("receiver", json!({}), script),
            pageless("sender", json!({})),
        ],
    );
    let (receiver, sender) = (&ids[0], &ids[1]);
    let popup = popup_runtime(&mut browser, sender);
    let reply = popup.send_message_to(receiver.as_str(), &json!("answer me later"));
    browser.advance(secs(1));
    assert_eq!(kept.len(), 1);
    browser.uninstall(receiver).unwrap();

    let err = wait(&mut browser, reply).unwrap_err();
    assert_eq!(err, SendMessageError::ChannelClosed);
    assert_eq!(err.to_string(), CHANNEL_CLOSED);
}

/// §4.1: a listener returned `true` and then dropped `sendResponse` without calling it.
#[test]
fn dropping_send_response_after_returning_true_fails_the_message() {
    let (script, _) = top_level(|rt| {
        rt.on_message().add_listener(|m: OnMessage| {
            drop(m.send_response());
            true
        });
    });
    let (mut browser, id) = browser_with(event_page("forgetful", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let err = wait(&mut browser, popup.send_message(&json!("hello"))).unwrap_err();
    assert_eq!(err, SendMessageError::ChannelClosed);
    assert_eq!(err.to_string(), CHANNEL_CLOSED);
}

/// §4.1: a value JSON cannot represent (a map with non-string keys) is refused with `Could not
/// serialize message.`, and nothing is delivered.
#[test]
fn a_message_json_cannot_represent_is_refused() {
    let got: Log<Value> = Log::new();
    let (mut browser, id) = browser_with(event_page("json only", json!({}), logging(&got)));
    let popup = popup_runtime(&mut browser, &id);
    let mut message = BTreeMap::new();
    message.insert(vec![1u8, 2], "value");

    let err = wait(&mut browser, popup.send_message(&message)).unwrap_err();
    assert_eq!(
        err,
        SendMessageError::Message(runtime_sim::MessageError::NotSerializable)
    );
    assert_eq!(err.to_string(), "Could not serialize message.");

    let called: Log<()> = Log::new();
    let c = called.clone();
    let err = popup
        .send_message_callback(None, &message, move |_| c.push(()))
        .unwrap_err();
    assert_eq!(err.to_string(), "Could not serialize message.");
    browser.advance(secs(1));
    assert!(called.is_empty());
    assert!(got.is_empty());
}

/// §4.1: a message larger than 64 MiB serialized is refused with `Message exceeded maximum
/// allowed size of 64MiB.`
#[test]
fn a_message_over_64_mib_is_refused() {
    let got: Log<Value> = Log::new();
    let (mut browser, id) = browser_with(event_page("big", json!({}), logging(&got)));
    let popup = popup_runtime(&mut browser, &id);
    // Each U+0001 is six bytes of JSON (`\u0001`): the string is 64 MiB + 4 bytes serialized,
    // built from 11 M characters (quick to check even in a debug build).
    let huge = "\u{1}".repeat(MAX_MESSAGE_SIZE / 6 + 1);
    assert_eq!(
        serde_json::to_string(&huge[..6]).unwrap(),
        r#""\u0001\u0001\u0001\u0001\u0001\u0001""#
    );

    let err = wait(&mut browser, popup.send_message(&huge)).unwrap_err();
    assert_eq!(
        err,
        SendMessageError::Message(runtime_sim::MessageError::TooLarge)
    );
    assert_eq!(
        err.to_string(),
        "Message exceeded maximum allowed size of 64MiB."
    );
    browser.advance(secs(1));
    assert!(got.is_empty());
}

/// §1.1: a message for an unloaded event page loads it, and is dispatched once its top-level
/// script has run, so a listener registered at the top level gets it.
#[test]
fn a_message_wakes_an_unloaded_event_page_and_reaches_its_top_level_listener() {
    let (script, _) = top_level(|rt| {
        rt.on_message().add_listener(|m: OnMessage| {
            m.respond(&json!("awake"));
        });
    });
    let (mut browser, id) = browser_with(event_page("sleeper", with_content_scripts(), script));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();

    let reply = wait(&mut browser, content.send_message(&json!("wake up")));
    assert_eq!(reply, Ok(Some(json!("awake"))));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    assert_eq!(browser.extension(&id).unwrap().page_loads, 2);

    let trace = browser.trace();
    let position = |wanted: &dyn Fn(&TraceEvent) -> bool| {
        trace
            .entries()
            .rposition(|e| e.extension.as_ref() == Some(&id) && wanted(&e.event))
            .unwrap()
    };
    let loaded = position(&|e| matches!(e, TraceEvent::ScriptLoaded));
    let dispatched = position(
        &|e| matches!(e, TraceEvent::EventDispatched { event, .. } if event == "runtime.onMessage"),
    );
    assert!(loaded < dispatched, "{}", trace.timeline());
}

/// §1.1: a listener registered after an `await` is not there when the message that woke the
/// page is dispatched: it misses it, and the sender finds no receiving end.
#[test]
fn a_listener_registered_after_an_await_misses_the_waking_message() {
    let got: Log<Value> = Log::new();
    let g = got.clone();
    let script = script_fn(move |rt| {
        let g = g.clone();
        async move {
            rt.storage().get("settings").await?;
            rt.on_message().add_listener(move |m: OnMessage| {
                g.push(m.message.clone());
                m.respond(&json!("late"));
            });
            Ok(())
        }
    });
    let (mut browser, id) = browser_with(event_page("late", with_content_scripts(), script));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();

    let err = wait(&mut browser, content.send_message(&json!("wake up"))).unwrap_err();
    assert_eq!(err.to_string(), NO_RECEIVER);
    browser.advance(secs(1));
    assert_eq!(browser.extension(&id).unwrap().page_loads, 2);
    assert!(got.is_empty());
}

/// §4.1, §6: `lastError` is set only while the callback runs; read there, it is not reported
/// as unchecked.
#[test]
fn last_error_is_set_only_while_the_callback_runs() {
    let (mut browser, id) = browser_with(event_page("callbacks", json!({}), deaf()));
    let popup = popup_runtime(&mut browser, &id);
    assert_eq!(popup.last_error(), None);

    let inside: Log<Option<String>> = Log::new();
    let (i, rt) = (inside.clone(), popup.clone());
    popup
        .send_message_callback(None, &json!("hello?"), move |response| {
            assert_eq!(response, None);
            i.push(rt.last_error().map(|e| e.message));
        })
        .unwrap();
    assert_eq!(popup.last_error(), None);
    browser.advance(secs(1));

    assert_eq!(inside.all(), [Some(NO_RECEIVER.to_owned())]);
    assert_eq!(popup.last_error(), None);
    assert!(unchecked_errors(&browser.trace()).is_empty());
}

/// §4.1: an error the callback does not read is logged as `Unchecked runtime.lastError:
/// <message>`.
#[test]
fn an_unread_last_error_is_reported_as_unchecked() {
    let (mut browser, id) = browser_with(event_page("careless", json!({}), deaf()));
    let popup = popup_runtime(&mut browser, &id);
    popup
        .send_message_callback(None, &json!("hello?"), |_response| {})
        .unwrap();
    browser.advance(secs(1));

    let trace = browser.trace();
    assert_eq!(unchecked_errors(&trace), [NO_RECEIVER]);
    let entry = trace
        .entries()
        .find(|e| matches!(e.event, TraceEvent::UncheckedLastError { .. }))
        .unwrap();
    assert_eq!(
        entry.event.to_string(),
        "Unchecked runtime.lastError: Could not establish connection. Receiving end does not exist."
    );
}

/// A background page whose async listener answers with `sendResponse` after a second.
fn answers_after_an_await(answered: &Log<bool>) -> impl BackgroundScript {
    let answered = answered.clone();
    top_level(move |rt| {
        let (page, answered) = (rt.clone(), answered.clone());
        rt.on_message().add_async_listener(move |m: OnMessage| {
            let (timer, answered) = (page.sleep(secs(1)), answered.clone());
            async move {
                timer.await;
                answered.push(m.respond(&json!("after a second")));
            }
        });
    })
    .0
}

/// §4.1: before Chrome 144 a returned promise is not `true`: an async listener does not keep
/// the channel open (in Chrome 144+ it does).
#[test]
fn before_chrome_144_an_async_listener_does_not_keep_the_channel_open() {
    let answered: Log<bool> = Log::new();
    let (mut browser, ids) = started(
        Browser::builder().browser_version("143.0.0.0"),
        vec![event_page(
            "old",
            json!({}),
            answers_after_an_await(&answered),
        )],
    );
    let popup = popup_runtime(&mut browser, &ids[0]);
    let start = browser.now();
    assert_eq!(
        wait(&mut browser, popup.send_message(&json!("a"))),
        Ok(None)
    );
    assert_eq!(browser.now(), start);

    let seen: Log<Option<String>> = Log::new();
    let (s, rt) = (seen.clone(), popup.clone());
    popup
        .send_message_callback(None, &json!("b"), move |_| {
            s.push(rt.last_error().map(|e| e.message));
        })
        .unwrap();
    browser.advance(secs(2));
    assert_eq!(seen.all(), [Some(PORT_CLOSED.to_owned())]);
    assert_eq!(answered.all(), [false, false]);

    // The same listener in Chrome 156 keeps the channel open.
    let answered: Log<bool> = Log::new();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page(
            "new",
            json!({}),
            answers_after_an_await(&answered),
        )],
    );
    let popup = popup_runtime(&mut browser, &ids[0]);
    assert_eq!(
        wait(&mut browser, popup.send_message(&json!("a"))),
        Ok(Some(json!("after a second")))
    );
    assert_eq!(answered.all(), [true]);
}

/// §4.1: before Chrome 144 the value a listener's promise resolves to is not a response, even
/// when the promise is already settled when the listener returns.
#[test]
fn before_chrome_144_a_promise_value_is_not_the_response() {
    let (script, _) = top_level(|rt| {
        rt.on_message()
            .add_promise_listener(|_m: OnMessage| async { Ok::<_, ListenerError>(json!("value")) });
    });
    let (mut browser, ids) = started(
        Browser::builder().browser_version("143.0.0.0"),
        vec![event_page("old promise", json!({}), script)],
    );
    let popup = popup_runtime(&mut browser, &ids[0]);
    assert_eq!(
        wait(&mut browser, popup.send_message(&json!("a"))),
        Ok(None)
    );
}

/// The owned-JSON forms: `send_json_message` delivers its value as `send_message` does, and
/// `SendResponse::send_json` answers with it; an answer over 64 MiB is refused with the
/// browser's error (it used to be only `send`, which panics on it).
#[test]
fn owned_json_messages_and_answers_go_as_the_borrowed_ones_and_keep_the_size_limit() {
    let refused: Log<String> = Log::new();
    let r = refused.clone();
    let (script, _) = top_level(move |rt| {
        let r = r.clone();
        rt.on_message().add_listener(move |m: OnMessage| {
            let huge = Value::String("\u{1}".repeat(MAX_MESSAGE_SIZE / 6 + 1));
            if let Err(error) = m.send_response().send_json(huge) {
                r.push(error.to_string());
            }
            let answered = m.send_response().send_json(json!({"echo": m.message}));
            assert_eq!(answered, Ok(true));
        });
    });
    let (mut browser, id) = browser_with(event_page("owned", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let reply = wait(&mut browser, popup.send_json_message(None, json!({"n": 1}))).unwrap();
    assert_eq!(reply, Some(json!({"echo": {"n": 1}})));
    assert_eq!(
        refused.take(),
        vec!["Message exceeded maximum allowed size of 64MiB.".to_owned()]
    );
    let other = wait(
        &mut browser,
        popup.send_json_message(Some("not an id"), json!(1)),
    );
    assert_eq!(
        other.unwrap_err().to_string(),
        wait(&mut browser, popup.send_message_to("not an id", &json!(1)))
            .unwrap_err()
            .to_string()
    );
}
