//! Long-lived connections: `runtime.connect`, `onConnect` and `Port`, with the browser's exact
//! error strings (runtime-behaviour.md §4.2, and the keepalives of open ports, §1.1).

mod common;

use std::sync::Arc;

use common::*;
use runtime_sim::{
    BackgroundScript, Browser, Event, FrameId, MessageSender, PageState, Port, PostMessageError,
    Runtime, TraceEvent, ViewKind,
};
use serde_json::{json, Value};

const DISCONNECTED: &str = "Attempting to use a disconnected port object";

/// What one end saw when its `onDisconnect` fired.
#[derive(Clone, Debug, PartialEq)]
struct Disconnect {
    who: &'static str,
    /// `runtime.lastError` while the listener ran.
    last_error: Option<String>,
    /// Whether the port was already marked disconnected.
    marked: bool,
    /// What `postMessage` inside the listener did.
    post: Result<(), String>,
}

/// What the ends of the ports in a test saw.
#[derive(Clone, Default)]
struct Seen {
    /// The ports receivers got, by receiver.
    ports: Log<(&'static str, Port)>,
    /// The messages each end got.
    messages: Log<(&'static str, Value)>,
    disconnects: Log<Disconnect>,
}

impl Seen {
    /// Logs what arrives at `port`, an end in the context of `rt`.
    fn watch(&self, who: &'static str, rt: &Runtime, port: &Port) {
        let messages = self.messages.clone();
        port.on_message()
            .add_listener(move |(message, _port): (Value, Port)| messages.push((who, message)));
        let (disconnects, rt) = (self.disconnects.clone(), rt.clone());
        port.on_disconnect().add_listener(move |port: Port| {
            disconnects.push(Disconnect {
                who,
                last_error: rt.last_error().map(|e| e.message),
                marked: port.is_disconnected(),
                post: port
                    .post_message(&json!("from onDisconnect"))
                    .map_err(|e| e.to_string()),
            });
        });
    }

    /// Makes `rt` a receiver of the ports `event` (its `onConnect` or `onConnectExternal`)
    /// brings.
    fn listen(&self, who: &'static str, rt: &Runtime, event: &Event<Port>) {
        let (seen, rt) = (self.clone(), rt.clone());
        event.add_listener(move |port: Port| {
            seen.watch(who, &rt, &port);
            seen.ports.push((who, port));
        });
    }

    /// The port receiver `who` got last.
    fn port_of(&self, who: &str) -> Port {
        self.ports
            .all()
            .into_iter()
            .rev()
            .find(|(w, _)| *w == who)
            .map(|(_, port)| port)
            .unwrap_or_else(|| panic!("{who} got no port"))
    }

    fn disconnected(&self) -> Vec<&'static str> {
        self.disconnects.all().iter().map(|d| d.who).collect()
    }
}

/// A background page that receives ports from its own extension and from others, as
/// `background`.
fn receiving(seen: &Seen) -> (impl BackgroundScript, Log<Runtime>) {
    let seen = seen.clone();
    top_level(move |rt| {
        seen.listen("background", rt, rt.on_connect());
        seen.listen("background", rt, rt.on_connect_external());
    })
}

/// One extension whose background page receives ports, and a popup of it.
fn page_and_popup(seen: &Seen, extra: Value) -> (Browser, runtime_sim::ExtensionId, Runtime) {
    let (script, _) = receiving(seen);
    let (mut browser, id) = browser_with(event_page("ports", extra, script));
    let popup = popup_runtime(&mut browser, &id);
    (browser, id, popup)
}

/// §4.2: `connect` fires `onConnect` in the receiving context, whose port has the name and the
/// sender; the opener's port has the name and no sender.
#[test]
fn connect_gives_the_receiver_a_port_with_the_name_and_sender() {
    let seen = Seen::default();
    let (mut browser, id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("chat").unwrap();
    assert_eq!(port.name(), "chat");
    assert_eq!(port.sender(), None);
    browser.advance(secs(1));

    let received = seen.port_of("background");
    assert_eq!(seen.ports.len(), 1);
    assert_eq!(received.name(), "chat");
    let base = format!("chrome-extension://{id}");
    assert_eq!(
        received.sender(),
        Some(&MessageSender {
            id: Some(id.clone()),
            url: Some(format!("{base}/popup.html")),
            origin: Some(base),
            ..MessageSender::default()
        })
    );
    assert!(!port.is_disconnected());
    assert!(!received.is_disconnected());
}

/// §4.2: messages go both ways, each side's in the order posted (those the opener posts
/// before the channel is open included).
#[test]
fn messages_flow_both_ways_in_order() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("numbers").unwrap();
    seen.watch("popup", &popup, &port);
    for n in 1..=3 {
        port.post_message(&json!(n)).unwrap();
    }
    browser.advance(secs(1));
    let received = seen.port_of("background");
    for word in ["one", "two", "three"] {
        received.post_message(&json!(word)).unwrap();
    }
    port.post_message(&json!(4)).unwrap();
    browser.advance(secs(1));

    assert_eq!(
        seen.messages.all(),
        [
            ("background", json!(1)),
            ("background", json!(2)),
            ("background", json!(3)),
            ("popup", json!("one")),
            ("popup", json!("two")),
            ("popup", json!("three")),
            ("background", json!(4)),
        ]
    );
}

/// §4.2: `disconnect()` gives the other end `onDisconnect` with no `lastError`; the end that
/// disconnected gets none. Both directions.
#[test]
fn disconnect_tells_only_the_other_end_with_no_last_error() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));

    let port = popup.connect("opener disconnects").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    port.disconnect();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["background"]);
    assert_eq!(seen.disconnects.last().unwrap().last_error, None);

    seen.disconnects.take();
    let port = popup.connect("receiver disconnects").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    seen.port_of("background").disconnect();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["popup"]);
    assert_eq!(seen.disconnects.last().unwrap().last_error, None);
    assert!(port.is_disconnected());
    assert!(unchecked_errors(&browser.trace()).is_empty());
}

/// Once a port's channel has closed (and its far end has been told), both ends' listeners are
/// dropped, with what they hold. Regression: a listener that held its own port (to answer on
/// it, a common pattern) kept the port, and so itself, for the life of the process.
#[test]
fn a_closed_ports_listeners_are_dropped_even_those_holding_the_port() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("held").unwrap();
    browser.advance(secs(1));
    let far = seen.port_of("background");
    let token = Arc::new(());
    for end in [&port, &far] {
        let held = (Arc::clone(&token), end.clone());
        end.on_message().add_listener(move |_: (Value, Port)| {
            let _ = &held;
        });
        let held = (Arc::clone(&token), end.clone());
        end.on_disconnect().add_listener(move |_: Port| {
            let _ = &held;
        });
    }
    assert_eq!(Arc::strong_count(&token), 5);
    port.disconnect();
    browser.advance(secs(1));
    assert_eq!(
        seen.disconnected(),
        ["background"],
        "the far end was told first"
    );
    assert_eq!(Arc::strong_count(&token), 1);
}

/// §4.2: a second `disconnect()` does nothing.
#[test]
fn a_second_disconnect_does_nothing() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("twice").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    port.disconnect();
    port.disconnect();
    browser.advance(secs(1));
    let received = seen.port_of("background");
    received.disconnect();
    port.disconnect();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["background"]);
    assert!(port.is_disconnected());
}

/// §4.2: `onDisconnect` fires at most once, even when the other end disconnects and then its
/// context goes away.
#[test]
fn on_disconnect_fires_at_most_once() {
    let seen = Seen::default();
    let (script, _) = top_level(|_rt| {});
    let (mut browser, id) = browser_with(event_page("once", json!({}), script));
    let view = browser.open_view(&id, ViewKind::Tab, "page.html").unwrap();
    let tab = browser.view_runtime(&id, view).unwrap();
    seen.listen("tab", &tab, tab.on_connect());
    let popup = popup_runtime(&mut browser, &id);

    let port = popup.connect("once").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    let received = seen.port_of("tab");
    received.disconnect();
    browser.advance(secs(1));
    received.disconnect();
    browser.close_view(&id, view);
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["popup"]);
}

/// §4.2: the port is marked disconnected before `onDisconnect` listeners run, so
/// `postMessage` inside them fails.
#[test]
fn a_port_is_disconnected_before_its_on_disconnect_listeners_run() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("marked").unwrap();
    browser.advance(secs(1));
    port.disconnect();
    browser.advance(secs(1));
    assert_eq!(
        seen.disconnects.all(),
        [Disconnect {
            who: "background",
            last_error: None,
            marked: true,
            post: Err(DISCONNECTED.to_owned()),
        }]
    );
}

/// §4.2: `postMessage` on a disconnected port throws `Attempting to use a disconnected port
/// object`, on the end that disconnected and on the end that was told.
#[test]
fn posting_on_a_disconnected_port_fails() {
    let seen = Seen::default();
    let (mut browser, _id, popup) = page_and_popup(&seen, json!({}));
    let port = popup.connect("closed").unwrap();
    browser.advance(secs(1));
    port.disconnect();
    browser.advance(secs(1));

    let err = port.post_message(&json!("still there?")).unwrap_err();
    assert_eq!(err, PostMessageError::Disconnected);
    assert_eq!(err.to_string(), DISCONNECTED);
    let err = seen
        .port_of("background")
        .post_message(&json!("still there?"))
        .unwrap_err();
    assert_eq!(err, PostMessageError::Disconnected);
    assert_eq!(err.to_string(), DISCONNECTED);
    assert!(seen
        .messages
        .all()
        .iter()
        .all(|(_, m)| *m != json!("still there?")));
}

/// §4.2: with no receiver, the opener's port gets `onDisconnect` with `lastError` set (only
/// while the listener runs); read there, it is not reported as unchecked.
#[test]
fn connecting_with_no_receiver_disconnects_the_opener_with_last_error() {
    let (script, _) = top_level(|_rt| {});
    let (mut browser, id) = browser_with(event_page("no onConnect", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let seen = Seen::default();
    let port = popup.connect("nobody").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));

    assert_eq!(
        seen.disconnects.all(),
        [Disconnect {
            who: "popup",
            last_error: Some(NO_RECEIVER.to_owned()),
            marked: true,
            post: Err(DISCONNECTED.to_owned()),
        }]
    );
    assert_eq!(popup.last_error(), None);
    assert!(port.is_disconnected());
    assert!(unchecked_errors(&browser.trace()).is_empty());
}

/// §4.1, §4.2: the no-receiver error of a port that its `onDisconnect` listener does not read
/// is logged as `Unchecked runtime.lastError`.
#[test]
fn an_unread_connect_error_is_reported_as_unchecked() {
    let (script, _) = top_level(|_rt| {});
    let (mut browser, id) = browser_with(event_page("unread", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let told: Log<()> = Log::new();
    let t = told.clone();
    let port = popup.connect("nobody").unwrap();
    port.on_disconnect()
        .add_listener(move |_port: Port| t.push(()));
    browser.advance(secs(1));
    assert_eq!(told.len(), 1);
    assert_eq!(unchecked_errors(&browser.trace()), [NO_RECEIVER]);
}

/// §4.2: with several receivers (background page and popup), the opener's messages reach each;
/// when one receiver disconnects, only the opener is told.
#[test]
fn with_several_receivers_one_disconnecting_tells_only_the_opener() {
    let seen = Seen::default();
    let (mut browser, id, popup) = page_and_popup(&seen, json!({}));
    seen.listen("popup", &popup, popup.on_connect());
    let tab = view_runtime(&mut browser, &id, ViewKind::Tab, "page.html");
    let port = tab.connect("broadcast").unwrap();
    seen.watch("tab", &tab, &port);
    port.post_message(&json!("to all")).unwrap();
    browser.advance(secs(1));
    assert_eq!(
        seen.messages.all(),
        [("background", json!("to all")), ("popup", json!("to all"))]
    );

    seen.port_of("popup").disconnect();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["tab"]);
    assert_eq!(seen.disconnects.last().unwrap().last_error, None);
}

/// §4.2: a port closes when its page is unloaded (here: the extension is uninstalled); the
/// other end gets `onDisconnect`.
#[test]
fn a_port_closes_when_the_page_at_its_other_end_is_unloaded() {
    let seen = Seen::default();
    let (script, _) = receiving(&seen);
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            event_page("receiver", json!({}), script),
            pageless("opener", json!({})),
        ],
    );
    let (receiver, opener) = (&ids[0], &ids[1]);
    let popup = popup_runtime(&mut browser, opener);
    let port = popup.connect_to(receiver.as_str(), "across").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    assert_eq!(seen.ports.len(), 1);

    browser.uninstall(receiver).unwrap();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["popup"]);
    assert!(port.is_disconnected());
    assert_eq!(
        port.post_message(&json!("gone?")).unwrap_err().to_string(),
        DISCONNECTED
    );
}

/// §4.2: a port closes when its view closes; the other end gets `onDisconnect`.
#[test]
fn a_port_closes_when_its_view_closes() {
    let seen = Seen::default();
    let (script, _) = receiving(&seen);
    let (mut browser, id) = browser_with(event_page("view ports", json!({}), script));
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    let port = popup.connect("from the popup").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));

    browser.close_view(&id, view);
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["background"]);
    assert!(port.is_disconnected());
}

fn content_scripts() -> Value {
    json!({"content_scripts": [{"matches": ["https://example.com/*"]}]})
}

/// §4.2: a content script's port closes when its tab closes; the other end gets
/// `onDisconnect`.
#[test]
fn a_port_closes_when_its_tab_closes() {
    let seen = Seen::default();
    let (script, _) = receiving(&seen);
    let (mut browser, id) = browser_with(event_page("tab ports", content_scripts(), script));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let port = content.connect("from the tab").unwrap();
    seen.watch("content", &content, &port);
    browser.advance(secs(1));
    assert_eq!(seen.ports.len(), 1);

    assert!(browser.close_tab(tab));
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["background"]);
    assert!(port.is_disconnected());
}

/// §4.2: a content script's port closes when its tab navigates away; the other end gets
/// `onDisconnect`.
#[test]
fn a_port_closes_when_its_tab_navigates() {
    let seen = Seen::default();
    let (script, _) = receiving(&seen);
    let (mut browser, id) = browser_with(event_page("nav ports", content_scripts(), script));
    let tab = browser.open_tab("https://example.com/one").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let port = content.connect("from the first page").unwrap();
    seen.watch("content", &content, &port);
    browser.advance(secs(1));
    assert_eq!(seen.ports.len(), 1);

    browser.navigate(tab, "https://example.com/two").unwrap();
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["background"]);
    assert!(port.is_disconnected());
}

/// §4.2, §1.1: an open port keeps the event pages at both ends alive (for minutes); after it
/// is disconnected both unload 15 s later (10 s idle, 5 s window).
#[test]
fn an_open_port_keeps_both_event_pages_alive() {
    let seen = Seen::default();
    let (receiver_script, _) = receiving(&seen);
    let receiver = event_page("port receiver", json!({}), receiver_script);
    let target = receiver.id().to_string();
    let opened: Log<Port> = Log::new();
    let o = opened.clone();
    let (opener_script, _) = top_level(move |rt| {
        o.push(rt.connect_to(&target, "keep me").unwrap());
    });
    let opener = event_page("port opener", json!({}), opener_script);
    let (mut browser, ids) = started(Browser::builder(), vec![receiver, opener]);
    let (receiver, opener) = (&ids[0], &ids[1]);

    browser.advance(secs(300));
    assert_eq!(seen.ports.len(), 1);
    assert_eq!(browser.page_state(receiver), Some(PageState::Active));
    assert_eq!(browser.page_state(opener), Some(PageState::Active));
    let trace = browser.trace();
    assert!(entered_by(&trace, receiver, PageState::Closing).is_empty());
    assert!(entered_by(&trace, opener, PageState::Closing).is_empty());

    opened.last().unwrap().disconnect();
    browser.advance(secs(14));
    assert_eq!(browser.page_state(receiver), Some(PageState::Closing));
    assert_eq!(browser.page_state(opener), Some(PageState::Closing));
    browser.advance(secs(1));
    let trace = browser.trace();
    assert_eq!(entered_by(&trace, receiver, PageState::Unloaded), [315_000]);
    assert_eq!(entered_by(&trace, opener, PageState::Unloaded), [315_000]);
    assert_eq!(seen.disconnected(), ["background"]);
}

/// §1.1: messages posted on a port while the receiving page is loading are queued and
/// delivered in order once the channel has opened.
#[test]
fn messages_posted_while_the_page_wakes_are_delivered_in_order() {
    let seen = Seen::default();
    let (script, _) = receiving(&seen);
    let (mut browser, id) = browser_with(event_page("waking", json!({}), script));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    let popup = popup_runtime(&mut browser, &id);
    let port = popup.connect("early").unwrap();
    for n in 1..=5 {
        port.post_message(&json!(n)).unwrap();
    }
    browser.advance(secs(1));
    assert_eq!(browser.extension(&id).unwrap().page_loads, 2);
    assert_eq!(
        seen.messages.all(),
        (1..=5)
            .map(|n| ("background", json!(n)))
            .collect::<Vec<_>>()
    );
    let trace = browser.trace();
    let loaded = trace
        .entries()
        .rposition(|e| matches!(e.event, TraceEvent::ScriptLoaded))
        .unwrap();
    let first_delivery = trace
        .entries()
        .position(
            |e| matches!(&e.event, TraceEvent::EventDispatched { event, .. } if event == "Port.onMessage"),
        )
        .unwrap();
    assert!(loaded < first_delivery, "{}", trace.timeline());
}

/// §4.2, §4.1: connecting to an extension that is not installed: the opener's port gets
/// `onDisconnect` with the no-receiver error.
#[test]
fn connecting_to_a_missing_extension_disconnects_with_no_receiver() {
    let (script, _) = top_level(|_rt| {});
    let (mut browser, id) = browser_with(event_page("alone", json!({}), script));
    let popup = popup_runtime(&mut browser, &id);
    let seen = Seen::default();
    let port = popup.connect_to(ABSENT_ID, "void").unwrap();
    seen.watch("popup", &popup, &port);
    browser.advance(secs(1));
    assert_eq!(seen.disconnected(), ["popup"]);
    assert_eq!(
        seen.disconnects.last().unwrap().last_error.as_deref(),
        Some(NO_RECEIVER)
    );
}
