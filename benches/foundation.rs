//! Foundation benchmarks, each beside a baseline measured in the same run.
//!
//! `cargo bench --bench foundation` prints:
//! - events per second through the bus to one trait-object listener, beside a raw
//!   `tokio::sync::mpsc` channel carrying the same values (goal: ratio ≥ 0.5);
//! - the wall time of a simulated 7 days with one wake per minute, about 10 000
//!   suspend/wake cycles (goal: under 1 s).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_sim::events::{Bus, Event, SimInstant};
use runtime_sim::{script_fn, Browser, ExtensionSpec, PageState};
use serde_json::json;

const EVENTS: u64 = 2_000_000;
const BATCH: u64 = 256;

/// Best of `runs` measurements of `f`, which processes `EVENTS` events.
fn best_rate(runs: usize, mut f: impl FnMut() -> u64) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            black_box(f());
            EVENTS as f64 / start.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

fn bus_events() -> u64 {
    let event: Event<u64> = Event::new("bench.onThing");
    let sum = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&sum);
    event.add_listener(move |n: u64| {
        s.fetch_add(n, Ordering::Relaxed);
    });
    let mut bus: Bus<u64> = Bus::new();
    let end = SimInstant::ZERO;
    let mut sent = 0;
    while sent < EVENTS {
        for i in 0..BATCH {
            bus.post(sent + i);
        }
        sent += BATCH;
        while let Some(delivery) = bus.pop_due(end) {
            let dispatch = event.dispatch(delivery.item);
            black_box(&dispatch);
        }
    }
    sum.load(Ordering::Relaxed)
}

fn raw_mpsc() -> u64 {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
    let mut sum = 0u64;
    let mut sent = 0;
    while sent < EVENTS {
        for i in 0..BATCH {
            let _ = tx.send(sent + i);
        }
        sent += BATCH;
        while let Ok(n) = rx.try_recv() {
            sum = sum.wrapping_add(black_box(n));
        }
    }
    sum
}

fn seven_days_of_wakes() -> (Duration, u64, usize) {
    let script = script_fn(|rt| async move {
        rt.event("alarms.onAlarm").add_listener(|_| {});
        rt.on_suspend().add_listener(|()| {});
        Ok(())
    });
    let spec = ExtensionSpec::from_json(json!({
        "name": "minutely", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}
    }))
    .expect("manifest")
    .script(script);
    let start = Instant::now();
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).expect("install");
    browser.start();
    for _ in 0..7 * 24 * 60 {
        browser.advance(Duration::from_secs(60));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
        browser
            .fire_event(&id, "alarms.onAlarm", json!({"name": "minute"}))
            .expect("fire");
    }
    browser.run_until_idle();
    let elapsed = start.elapsed();
    let loads = browser.extension(&id).map_or(0, |e| e.page_loads);
    let entries = browser.with_trace(|t| t.entries().len());
    (elapsed, loads, entries)
}

fn main() {
    // `cargo test --benches` runs bench targets with `--bench` absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 5 };

    let raw = best_rate(runs, raw_mpsc);
    let bus = best_rate(runs, bus_events);
    let ratio = bus / raw;
    println!("events through the bus to one trait-object listener");
    println!("  raw tokio mpsc (baseline)  {:>14.0} events/s", raw);
    println!("  runtime-events bus         {:>14.0} events/s", bus);
    println!(
        "  ratio                      {:>14.2}   (goal >= 0.50: {})",
        ratio,
        if ratio >= 0.5 { "met" } else { "MISSED" }
    );

    let (elapsed, loads, entries) = seven_days_of_wakes();
    println!("simulated 7 days, one wake per minute");
    println!(
        "  {loads} page loads (suspend/wake cycles), {entries} trace entries in {:.3} s wall time   (goal < 1 s: {})",
        elapsed.as_secs_f64(),
        if elapsed < Duration::from_secs(1) { "met" } else { "MISSED" }
    );
}
