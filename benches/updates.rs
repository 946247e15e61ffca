//! Updates benchmark: a simulated month with an hourly `runtime.requestUpdateCheck()` and a
//! release every week (runtime-behaviour.md §2.3, §2.4).
//!
//! `cargo bench --bench updates` prints the month's wall time (goal: under 1 s) beside a
//! baseline measured in the same run: the same month with the same hourly timer and no update
//! service at all.

use std::time::{Duration, Instant};

use runtime_sim::{script_fn, Browser, ExtensionSpec, Location, Runtime};
use serde_json::json;

const DAY: Duration = Duration::from_secs(24 * 3600);

fn spec(version: &str, check: bool) -> ExtensionSpec {
    let script = script_fn(move |rt: Runtime| async move {
        loop {
            if check {
                let _ = rt.request_update_check().await;
            }
            rt.sleep(Duration::from_secs(3600)).await;
        }
    });
    ExtensionSpec::from_json(json!({
        "name": "monthly", "version": version,
        "background": {"scripts": ["bg.js"], "persistent": true}
    }))
    .expect("manifest")
    .location(Location::Packed)
    .script(script)
}

/// Runs the month; gives its wall time, the version installed at the end and the trace's size.
fn month(updates: bool) -> (Duration, String, usize) {
    let start = Instant::now();
    let mut browser = Browser::builder().seed(7).autoupdate(updates).build();
    let id = browser.install(spec("1.0", updates)).expect("install");
    browser.start();
    if updates {
        for week in 1..=4u32 {
            let version = format!("1.{week}");
            browser
                .publish_update_at(&id, spec(&version, true), browser.now() + DAY * 7 * week)
                .expect("publish");
        }
    }
    browser.advance(DAY * 30);
    let elapsed = start.elapsed();
    let version = browser
        .extension(&id)
        .map(|e| e.version)
        .unwrap_or_default();
    (elapsed, version, browser.with_trace(|t| t.entries().len()))
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let runs = if quick { 1 } else { 5 };
    let best = |updates: bool| {
        (0..runs)
            .map(|_| month(updates))
            .min_by_key(|(elapsed, _, _)| *elapsed)
            .expect("one run")
    };
    let (baseline, _, _) = best(false);
    let (elapsed, version, entries) = best(true);
    println!("a simulated 30 days: hourly requestUpdateCheck, a release every week");
    println!(
        "  hourly timer, no update service (baseline) {:>9.3} ms",
        baseline.as_secs_f64() * 1e3
    );
    println!(
        "  with the checks and the releases           {:>9.3} ms   ({entries} trace entries, ends at {version})",
        elapsed.as_secs_f64() * 1e3
    );
    println!(
        "  ratio                                      {:>9.2}   (goal: under 1 s wall time: {})",
        elapsed.as_secs_f64() / baseline.as_secs_f64(),
        if elapsed < Duration::from_secs(1) {
            "met"
        } else {
            "MISSED"
        }
    );
}
