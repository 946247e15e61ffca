//! Messaging benchmarks, each beside a baseline measured in the same run.
//!
//! `cargo bench --bench messaging` prints:
//! - the round trip of a one-time message from a content script to its event page (kept
//!   active) and back, `browser.block_on(content_script.send_message(..))`, beside a `tokio`
//!   round trip of the same JSON (a request over an mpsc channel carrying a oneshot sender, a
//!   responder task answering, on a current-thread runtime) (goal: baseline time / simulator
//!   time ≥ 0.25), with a rough split of the simulator's time;
//! - port messages per second from a popup to the background page, which counts them, beside a
//!   raw `tokio::sync::mpsc` channel carrying the same JSON values.

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

const ROUND_TRIPS: u64 = 20_000;
const PORT_MESSAGES: u64 = 200_000;
const BATCH: u64 = 256;

/// Best (shortest) of `runs` measurements of `f`, which says how long its timed part took.
fn best_time(runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or(Duration::ZERO)
}

fn per_op_ns(elapsed: Duration, ops: u64) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}

fn per_second(elapsed: Duration, ops: u64) -> f64 {
    ops as f64 / elapsed.as_secs_f64()
}

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

fn tokio_port_messages(n: u64) -> Duration {
    let (tx, mut rx) = mpsc::unbounded_channel::<Value>();
    let mut received = 0u64;
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        for i in 0..BATCH {
            let _ = tx.send(json!({"n": sent + i}));
        }
        sent += BATCH;
        while let Ok(message) = rx.try_recv() {
            black_box(message);
            received += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(received, sent);
    elapsed
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let (runs, round_trips, port_messages) = if quick {
        (1, ROUND_TRIPS / 20, PORT_MESSAGES / 20)
    } else {
        (5, ROUND_TRIPS, PORT_MESSAGES)
    };

    let baseline = best_time(runs, || tokio_round_trips(round_trips));
    let sim = best_time(runs, || sim_round_trips(round_trips));
    let ratio = baseline.as_secs_f64() / sim.as_secs_f64();
    println!("one-time message round trip, content script -> event page (active) -> response");
    println!(
        "  tokio mpsc + oneshot (baseline)  {:>12.0} ns per round trip",
        per_op_ns(baseline, round_trips)
    );
    println!(
        "  runtime-sim block_on(send_message) {:>10.0} ns per round trip",
        per_op_ns(sim, round_trips)
    );
    println!(
        "  ratio baseline / simulator       {:>12.3}   (goal ≥ 0.25: {})",
        ratio,
        if ratio >= 0.25 { "met" } else { "MISSED" }
    );

    let alone = best_time(runs, || block_on_alone(round_trips));
    let callback = best_time(runs, || callback_round_trips(round_trips));
    let entries = trace_entries_per_round_trip();
    println!("  where the simulator's time goes (rough):");
    println!(
        "    block_on of a ready future     {:>12.0} ns",
        per_op_ns(alone, round_trips)
    );
    println!(
        "    callback form + advance(0)     {:>12.0} ns per round trip (no block_on task)",
        per_op_ns(callback, round_trips)
    );
    println!("    trace entries recorded         {entries:>12}   per round trip");

    let raw = best_time(runs, || tokio_port_messages(port_messages));
    let port = best_time(runs, || sim_port_messages(port_messages));
    let port_ratio = raw.as_secs_f64() / port.as_secs_f64();
    println!("port messages, popup -> background page (which counts them), in batches of {BATCH}");
    println!(
        "  raw tokio mpsc of the same JSON (baseline) {:>12.0} messages/s",
        per_second(raw, port_messages)
    );
    println!(
        "  runtime-sim Port                           {:>12.0} messages/s",
        per_second(port, port_messages)
    );
    println!("  ratio simulator / baseline                 {port_ratio:>12.3}");
}
