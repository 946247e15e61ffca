//! Figures 2 and 3: a one-time message round trip (content script → event page → response)
//! beside a `tokio` mpsc + oneshot round trip of the same JSON, and port messages per second
//! beside a raw `tokio::sync::mpsc` channel of the same JSON.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_sim::{
    script_fn, Browser, ExtensionId, ExtensionSpec, FrameId, Keepalive, OnMessage, PageState, Port,
    Runtime, ViewKind,
};
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};

use crate::bus::{raw_mpsc, BATCH};
use crate::measure::{best, best_of, ns_per_op, per_second, Mode};
use crate::table::{number, Figure, Goal, Quantity};

/// An event page that answers every message with the message, and counts what its ports
/// receive; a content script in a tab; a keepalive that keeps the page active throughout.
struct Setup {
    browser: Browser,
    id: ExtensionId,
    content_script: Runtime,
    received: Arc<AtomicU64>,
    _keepalive: Keepalive,
}

fn setup() -> Setup {
    let received = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&received);
    let script = script_fn(move |rt| {
        let counter = Arc::clone(&counter);
        async move {
            rt.on_message().add_listener(|m: OnMessage| {
                m.respond(&m.message);
            });
            rt.on_connect().add_listener(move |port: Port| {
                let counter = Arc::clone(&counter);
                port.on_message()
                    .add_listener(move |(_message, _port): (Value, Port)| {
                        counter.fetch_add(1, Ordering::Relaxed);
                    });
            });
            Ok(())
        }
    });
    let spec = ExtensionSpec::from_json(json!({
        "name": "echo", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false},
        "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]
    }))
    .expect("manifest")
    .script(script);
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("install");
    browser.start();
    browser.advance(Duration::ZERO);
    let keepalive = browser.keepalive(&id, "bench").expect("keepalive");
    let tab = browser.open_tab("https://example.com/").expect("tab");
    let content_script = browser
        .content_script(&id, tab, FrameId::TOP)
        .expect("content script");
    browser.advance(Duration::ZERO);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    Setup {
        browser,
        id,
        content_script,
        received,
        _keepalive: keepalive,
    }
}

fn sim_round_trips(n: u64) -> Duration {
    let mut s = setup();
    let start = Instant::now();
    for i in 0..n {
        let reply = s
            .browser
            .block_on(s.content_script.send_message(&json!({"n": i})))
            .expect("not stalled")
            .expect("answered");
        black_box(reply);
    }
    let elapsed = start.elapsed();
    assert_eq!(s.browser.page_state(&s.id), Some(PageState::Active));
    elapsed
}

/// A request over an mpsc channel carrying a oneshot sender, a responder task answering with
/// the request, on a current-thread runtime.
fn tokio_round_trips(n: u64) -> Duration {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let (requests, mut incoming) = mpsc::unbounded_channel::<(Value, oneshot::Sender<Value>)>();
        tokio::spawn(async move {
            while let Some((message, reply)) = incoming.recv().await {
                let _ = reply.send(message);
            }
        });
        let start = Instant::now();
        for i in 0..n {
            let (reply, answer) = oneshot::channel();
            requests.send((json!({"n": i}), reply)).expect("responder");
            black_box(answer.await.expect("answered"));
        }
        start.elapsed()
    })
}

/// `block_on` of a future that is ready at once: the cost of driving, with no messaging.
fn block_on_alone(n: u64) -> Duration {
    let mut s = setup();
    let start = Instant::now();
    for i in 0..n {
        black_box(s.browser.block_on(async move { i }).expect("ready"));
    }
    start.elapsed()
}

/// The same round trip in the callback form, driven by `advance(0)`: no `block_on` task.
fn callback_round_trips(n: u64) -> Duration {
    let mut s = setup();
    let answers = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    for i in 0..n {
        let answers = Arc::clone(&answers);
        s.content_script
            .send_message_callback(None, &json!({"n": i}), move |reply| {
                black_box(reply);
                answers.fetch_add(1, Ordering::Relaxed);
            })
            .expect("sent");
        s.browser.advance(Duration::ZERO);
    }
    let elapsed = start.elapsed();
    assert_eq!(answers.load(Ordering::Relaxed), n);
    elapsed
}

/// How many trace entries one round trip records.
fn trace_entries_per_round_trip() -> usize {
    let mut s = setup();
    let before = s.browser.with_trace(|t| t.entries().len());
    let reply = s
        .browser
        .block_on(s.content_script.send_message(&json!({"n": 0})))
        .expect("not stalled");
    black_box(reply.expect("answered"));
    s.browser.with_trace(|t| t.entries().len()) - before
}

/// Figure 2 (goal: ratio ≥ 0.25), with a rough split of the simulator's time in its notes.
pub fn round_trip(mode: Mode) -> Figure {
    let n = mode.ops(20_000, 1_000);
    let (raw, sim) = best_of(mode, || tokio_round_trips(n), || sim_round_trips(n));
    let alone = best(mode, || block_on_alone(n));
    let callback = best(mode, || callback_round_trips(n));
    Figure::new(
        "2",
        "one-time message round trip: content script → event page (active) → response",
        Quantity::new("block_on(send_message)", per_second(n, sim), "round trips/s"),
        Quantity::new("tokio mpsc + oneshot, same JSON", per_second(n, raw), "round trips/s"),
    )
    .goal(Goal::ratio_at_least(0.25))
    .note(format!(
        "{} ns per round trip; baseline {} ns",
        number(ns_per_op(n, sim)),
        number(ns_per_op(n, raw))
    ))
    .note(format!(
        "of which block_on of a ready future {} ns; the callback form driven by advance(0) takes {} ns",
        number(ns_per_op(n, alone)),
        number(ns_per_op(n, callback))
    ))
    .note(format!(
        "{} trace entries recorded per round trip",
        trace_entries_per_round_trip()
    ))
}

fn sim_port_messages(n: u64) -> Duration {
    let mut s = setup();
    let view = s
        .browser
        .open_view(&s.id, ViewKind::Popup, "popup.html")
        .expect("popup");
    let popup = s.browser.view_runtime(&s.id, view).expect("popup runtime");
    let port = popup.connect("bench").expect("port");
    s.browser.advance(Duration::ZERO);
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        for i in 0..BATCH {
            port.post_message(&json!({"n": sent + i})).expect("posted");
        }
        sent += BATCH;
        s.browser.advance(Duration::ZERO);
    }
    let elapsed = start.elapsed();
    assert_eq!(s.received.load(Ordering::Relaxed), sent);
    elapsed
}

/// Figure 3 (no goal): port messages per second, popup → background page.
pub fn port_throughput(mode: Mode) -> Figure {
    let n = mode.ops(200_000, 10_240);
    let (raw, port) = best_of(
        mode,
        || raw_mpsc(n, |i| json!({"n": i})),
        || sim_port_messages(n),
    );
    Figure::new(
        "3",
        format!("port messages, popup → background page (which counts them), batches of {BATCH}"),
        Quantity::new("runtime-sim Port", per_second(n, port), "messages/s"),
        Quantity::new(
            "raw tokio mpsc, same JSON",
            per_second(n, raw),
            "messages/s",
        ),
    )
}
