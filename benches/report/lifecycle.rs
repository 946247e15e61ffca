//! Figure 4: simulated time per wall-clock second in an idle-heavy week — one event page woken
//! once a minute for 7 simulated days (about 10 000 suspend/wake cycles).

use std::time::{Duration, Instant};

use runtime_sim::{script_fn, Browser, ExtensionSpec, PageState};
use serde_json::json;

use crate::measure::{best, per_second, Mode};
use crate::table::{number, Figure, Goal, Quantity};

/// The goal, which is also the baseline: there is no other simulator to compare with.
const GOAL: f64 = 1e6;

/// What one run of the week gives.
struct Week {
    elapsed: Duration,
    loads: u64,
    entries: usize,
}

/// An event page that listens to `alarms.onAlarm` and `onSuspend` at its top level.
pub fn minutely_spec(name: &str) -> ExtensionSpec {
    let script = script_fn(|rt| async move {
        rt.event("alarms.onAlarm").add_listener(|_| {});
        rt.on_suspend().add_listener(|()| {});
        Ok(())
    });
    ExtensionSpec::from_json(json!({
        "name": name, "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}
    }))
    .expect("manifest")
    .script(script)
}

fn week(minutes: u32) -> Week {
    let start = Instant::now();
    let mut browser = Browser::builder().build();
    let id = browser.install(minutely_spec("minutely")).expect("install");
    browser.start();
    for _ in 0..minutes {
        browser.advance(Duration::from_secs(60));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
        browser
            .fire_event(&id, "alarms.onAlarm", json!({"name": "minute"}))
            .expect("fire");
    }
    browser.run_until_idle();
    Week {
        elapsed: start.elapsed(),
        loads: browser.extension(&id).map_or(0, |e| e.page_loads),
        entries: browser.with_trace(|t| t.entries().len()),
    }
}

/// Figure 4 (goal: ≥ 10^6 simulated seconds per wall second), and the suspend/wake cycles per
/// second of its one extension (the baseline of figure 5c).
pub fn idle_week(mode: Mode) -> (Figure, f64) {
    let minutes = if mode.quick { 24 * 60 } else { 7 * 24 * 60 };
    let mut last = None;
    let elapsed = best(mode, || {
        let w = week(minutes);
        let elapsed = w.elapsed;
        last = Some(w);
        elapsed
    });
    let w = last.expect("one run");
    // The run ends with the last page's 15 s of idle and suspending window.
    let simulated = f64::from(minutes) * 60.0 + 15.0;
    let rate = simulated / elapsed.as_secs_f64();
    let cycles = per_second(w.loads, elapsed);
    let figure = Figure::new(
        "4",
        format!(
            "simulated time per wall second: {}, one wake per minute",
            if mode.quick { "a simulated day" } else { "7 simulated days" }
        ),
        Quantity::new("Browser::advance + fire_event", rate, "sim s/wall s"),
        Quantity::new("the goal (no simulator to compare with)", GOAL, "sim s/wall s"),
    )
    .goal(Goal::ratio_at_least(1.0))
    .note(format!(
        "{} simulated seconds in {} ms wall time; {} page loads (suspend/wake cycles, {} per second); {} trace entries",
        number(simulated),
        number(elapsed.as_secs_f64() * 1e3),
        w.loads,
        number(cycles),
        w.entries
    ));
    (figure, cycles)
}
