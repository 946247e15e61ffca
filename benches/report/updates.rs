//! Figure 7: a simulated month with an hourly `runtime.requestUpdateCheck()` and a release every
//! week (runtime-behaviour.md §2.3, §2.4), beside the same month with the same hourly timer and
//! no update service at all.

use std::time::{Duration, Instant};

use runtime_sim::{script_fn, Browser, ExtensionSpec, Location, Runtime};
use serde_json::json;

use crate::measure::{best_of, Mode};
use crate::table::{Figure, Goal, Quantity};

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

/// Runs the month; gives its wall time, and checks that the last release was installed.
fn month(updates: bool) -> Duration {
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
    if updates {
        let version = browser.extension(&id).map(|e| e.version);
        assert_eq!(version.as_deref(), Some("1.4"));
    }
    elapsed
}

/// Figure 7 (goal: under 1 s of wall time).
pub fn month_of_updates(mode: Mode) -> Figure {
    let (baseline, elapsed) = best_of(mode, || month(false), || month(true));
    Figure::new(
        "7",
        "a simulated 30 days: hourly requestUpdateCheck, a release every week",
        Quantity::new(
            "with the checks and releases",
            elapsed.as_secs_f64() * 1e3,
            "ms",
        ),
        Quantity::new(
            "same hourly timer, no update service",
            baseline.as_secs_f64() * 1e3,
            "ms",
        ),
    )
    .goal(Goal::measured_at_most(1000.0))
}
