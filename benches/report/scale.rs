//! Figures 5a–5c: 10 000 extensions with event pages in one browser — resident memory per
//! suspended extension, with and without the trace, and suspend/wake cycles per second.
//!
//! The browser runs in a child process (this executable started again with
//! [`ROLE`]` = scale`), so that nothing the report did before — memory freed to the allocator
//! and kept, pages already touched — hides or inflates what the browser takes. The child
//! measures, in order: an empty browser; the extensions' specs (manifests parsed, scripts
//! attached) held in a `Vec`; the specs installed; the browser started, every page loaded for
//! `onInstalled`, idle and unloaded; a copy of the trace (which gives the trace's heap); then
//! rounds of an event fired at every extension (each page wakes) and 16 s of virtual time
//! (each page idles, gets `onSuspend` and unloads).

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use runtime_sim::{Browser, PageState, TraceEntry};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::lifecycle::minutely_spec;
use crate::measure::Mode;
use crate::memory::{return_free_memory, Memory};
use crate::table::{number, Figure, Goal, Quantity};

/// The environment variable that makes this executable the scale child.
pub const ROLE: &str = "RUNTIME_SIM_BENCH_ROLE";
const EXTENSIONS: &str = "RUNTIME_SIM_BENCH_EXTENSIONS";
const ROUNDS: &str = "RUNTIME_SIM_BENCH_ROUNDS";

/// Idle delay (10 s) and suspending window (5 s), and a second more.
const TO_UNLOADED: Duration = Duration::from_secs(16);

/// What the child measured.
#[derive(Debug, Serialize, Deserialize)]
struct Scaled {
    extensions: usize,
    /// An empty browser.
    empty: Memory,
    /// The specs built, in a `Vec`.
    specs: Memory,
    /// The specs installed, the browser not started.
    installed: Memory,
    /// Started: every page loaded for `onInstalled`, active.
    loaded: Memory,
    /// Every page idle, suspended and unloaded.
    suspended: Memory,
    trace_entries: usize,
    /// The heap a copy of the trace takes.
    trace_heap: Option<u64>,
    /// `suspended` after the allocator's free memory went back to the system.
    trimmed: Memory,
    rounds: u32,
    best_round: Duration,
    after_rounds: Memory,
    trace_entries_after_rounds: usize,
}

/// When this executable was started as the scale child: runs it, prints its measurements as
/// JSON on stdout and gives the exit code; otherwise `None`.
pub fn child_if_asked() -> Option<ExitCode> {
    if std::env::var(ROLE).ok()? != "scale" {
        return None;
    }
    let number = |name: &str| -> Option<u64> { std::env::var(name).ok()?.parse().ok() };
    let (Some(extensions), Some(rounds)) = (number(EXTENSIONS), number(ROUNDS)) else {
        eprintln!("{EXTENSIONS} and {ROUNDS} must be numbers");
        return Some(ExitCode::FAILURE);
    };
    let scaled = child(extensions as usize, rounds as u32);
    println!("{}", serde_json::to_string(&scaled).expect("json"));
    Some(ExitCode::SUCCESS)
}

fn all_in(browser: &Browser, state: PageState) -> bool {
    browser
        .extensions()
        .iter()
        .all(|id| browser.page_state(id) == Some(state))
}

fn child(extensions: usize, rounds: u32) -> Scaled {
    let mut browser = Browser::builder().build();
    let empty = Memory::now();
    let specs: Vec<_> = (0..extensions)
        .map(|i| minutely_spec(&format!("extension-{i}")))
        .collect();
    let specs_memory = Memory::now();
    for spec in specs {
        browser.install(spec).expect("install");
    }
    let installed = Memory::now();
    browser.start();
    browser.advance(Duration::from_secs(1));
    assert!(all_in(&browser, PageState::Active));
    let loaded = Memory::now();
    browser.advance(TO_UNLOADED);
    assert!(all_in(&browser, PageState::Unloaded));
    let suspended = Memory::now();
    let trace_entries = browser.with_trace(|t| t.entries().len());
    let trace_heap = {
        let before = Memory::now().heap_in_use;
        let copy = browser.trace();
        let after = Memory::now().heap_in_use;
        drop(copy);
        before.zip(after).map(|(b, a)| a.saturating_sub(b))
    };
    return_free_memory();
    let trimmed = Memory::now();

    let ids = browser.extensions();
    let mut best_round = Duration::MAX;
    for _ in 0..rounds {
        let start = Instant::now();
        for id in &ids {
            browser
                .fire_event(id, "alarms.onAlarm", json!({"name": "wake"}))
                .expect("fire");
        }
        browser.advance(TO_UNLOADED);
        best_round = best_round.min(start.elapsed());
        assert!(all_in(&browser, PageState::Unloaded));
    }
    let loads: u64 = ids
        .iter()
        .filter_map(|id| browser.extension(id))
        .map(|e| e.page_loads)
        .sum();
    assert_eq!(loads, extensions as u64 * (1 + u64::from(rounds)));
    Scaled {
        extensions,
        empty,
        specs: specs_memory,
        installed,
        loaded,
        suspended,
        trace_entries,
        trace_heap,
        trimmed,
        rounds,
        best_round,
        after_rounds: Memory::now(),
        trace_entries_after_rounds: browser.with_trace(|t| t.entries().len()),
    }
}

/// Runs the child with `extensions` extensions and `rounds` rounds of wakes.
fn run_child(extensions: u64, rounds: u32) -> Scaled {
    let output = Command::new(std::env::current_exe().expect("the report's own path"))
        .env(ROLE, "scale")
        .env(EXTENSIONS, extensions.to_string())
        .env(ROUNDS, rounds.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the scale child starts");
    assert!(output.status.success(), "the scale child failed");
    serde_json::from_slice(&output.stdout).expect("the scale child's measurements")
}

/// Figures 5a–5c (goal: ≤ 4 KiB per suspended extension). `one_extension_cycles` is figure 4's
/// suspend/wake cycles per second of a browser with one extension, the baseline of 5c.
pub fn figures(mode: Mode, one_extension_cycles: f64) -> Vec<Figure> {
    let (extensions, rounds) = if mode.quick { (200, 1) } else { (10_000, 3) };
    let s = run_child(extensions, rounds);
    let n = s.extensions as f64;
    let rss = |m: Memory| m.rss.saturating_sub(s.empty.rss) as f64 / n;
    let heap = |m: Memory| {
        let shown = m
            .heap_in_use
            .zip(s.empty.heap_in_use)
            .map(|(later, earlier)| number(later.saturating_sub(earlier) as f64 / n));
        shown.unwrap_or_else(|| "unknown".to_owned())
    };
    let trace = s.trace_heap.unwrap_or(0) as f64 / n;
    let name = format!(
        "{extensions} extensions with event pages: resident memory per suspended extension"
    );
    let baseline = || {
        Quantity::new(
            format!("{extensions} parsed specs in a Vec, no browser"),
            rss(s.specs),
            "B",
        )
    };
    vec![
        Figure::new(
            "5a",
            format!("{name}, trace included"),
            Quantity::new("RSS growth / extensions", rss(s.suspended), "B"),
            baseline(),
        )
        .goal(Goal::measured_at_most(4096.0))
        .note(format!(
            "RSS per extension: installed {} B, every page loaded {} B, suspended {} B, suspended after malloc_trim {} B",
            number(rss(s.installed)),
            number(rss(s.loaded)),
            number(rss(s.suspended)),
            number(rss(s.trimmed)),
        ))
        .note(format!(
            "heap in use per extension (glibc mallinfo2, chunk headers included, the trace Vec's spare capacity too): specs {} B, installed {} B, loaded {} B, suspended {} B",
            heap(s.specs),
            heap(s.installed),
            heap(s.loaded),
            heap(s.suspended),
        )),
        Figure::new(
            "5b",
            format!("{name}, trace excluded"),
            Quantity::new("(RSS growth − trace heap) / extensions", rss(s.suspended) - trace, "B"),
            baseline(),
        )
        .goal(Goal::measured_at_most(4096.0))
        .note(format!(
            "the trace: {} B per extension, {} entries, {} B per entry with what they own (the heap of a copy; a TraceEntry read from it takes {} B)",
            number(trace),
            number(s.trace_entries as f64 / n),
            number(s.trace_heap.unwrap_or(0) as f64 / s.trace_entries.max(1) as f64),
            std::mem::size_of::<TraceEntry>(),
        ))
        .note(format!(
            "after malloc_trim gives the allocator's free memory back: {} B per extension without the trace",
            number(rss(s.trimmed) - trace),
        ))
        .note(format!(
            "after {} more suspend/wake rounds: {} B RSS per extension, {} trace entries per extension",
            s.rounds,
            number(rss(s.after_rounds)),
            number(s.trace_entries_after_rounds as f64 / n)
        )),
        Figure::new(
            "5c",
            format!("{extensions} extensions: suspend/wake cycles (event fired, page loads, idles, unloads)"),
            Quantity::new(format!("{extensions} extensions, best of {} rounds", s.rounds), per_round(s.extensions, s.best_round), "cycles/s"),
            Quantity::new("one extension (figure 4's week)", one_extension_cycles, "cycles/s"),
        ),
    ]
}

fn per_round(extensions: usize, round: Duration) -> f64 {
    extensions as f64 / round.as_secs_f64()
}
