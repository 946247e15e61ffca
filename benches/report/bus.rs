//! Figure 1: events per second through the bus to one trait-object listener, beside a raw
//! `tokio::sync::mpsc` channel carrying the same values in the same batches.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_events::{Bus, Event, SimInstant};

use crate::measure::{best_of, per_second, Mode};
use crate::table::{Figure, Goal, Quantity};

/// Values posted before the receiving side runs, in figures 1 and 3.
pub const BATCH: u64 = 256;

/// Posts `events` values to a bus in batches and dispatches each due one to a listener.
fn bus_events(events: u64) -> Duration {
    let event: Event<u64> = Event::new("bench.onThing");
    let sum = Arc::new(AtomicU64::new(0));
    let s = Arc::clone(&sum);
    event.add_listener(move |n: u64| {
        s.fetch_add(n, Ordering::Relaxed);
    });
    let mut bus: Bus<u64> = Bus::new();
    let end = SimInstant::ZERO;
    let start = Instant::now();
    let mut sent = 0;
    while sent < events {
        for i in 0..BATCH {
            bus.post(sent + i);
        }
        sent += BATCH;
        while let Some(delivery) = bus.pop_due(end) {
            let dispatch = event.dispatch(delivery.item);
            black_box(&dispatch);
        }
    }
    let elapsed = start.elapsed();
    black_box(sum.load(Ordering::Relaxed));
    elapsed
}

/// The raw baseline of figures 1 and 3: `n` values made by `make` sent through an unbounded
/// `tokio::sync::mpsc` channel in batches of the same size, each received value looked at.
pub fn raw_mpsc<T>(n: u64, make: impl Fn(u64) -> T) -> Duration {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<T>();
    let mut received = 0u64;
    let start = Instant::now();
    let mut sent = 0;
    while sent < n {
        for i in 0..BATCH {
            let _ = tx.send(make(sent + i));
        }
        sent += BATCH;
        while let Ok(value) = rx.try_recv() {
            black_box(value);
            received += 1;
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(received, sent);
    elapsed
}

/// Figure 1 (goal: ratio ≥ 0.5).
pub fn throughput(mode: Mode) -> Figure {
    let events = mode.ops(2_000_000, 100_000);
    let (raw, bus) = best_of(mode, || raw_mpsc(events, |n| n), || bus_events(events));
    Figure::new(
        "1",
        format!("events through the bus to one trait-object listener, batches of {BATCH}"),
        Quantity::new("runtime-events Bus", per_second(events, bus), "events/s"),
        Quantity::new(
            "raw tokio mpsc, same values",
            per_second(events, raw),
            "events/s",
        ),
    )
    .goal(Goal::ratio_at_least(0.5))
}
