//! Every duration and instant a scenario file writes is within virtual time's upper bound
//! (`SimInstant::MAX`, about 1 000 years): beyond it, a located error when the file is
//! loaded, before anything runs.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use runtime_sim::scenario::{duration::MAX_DURATION, load_str};
use runtime_sim::SimInstant;

fn error_of(text: &str) -> String {
    load_str(Path::new("s.json"), text.to_owned())
        .unwrap_err()
        .to_string()
}

const BEYOND: &str = "virtual time ends 365000 days (about 1 000 years) after the start of the simulation (SimInstant::MAX)";

/// Regression: `{"advance": "999999999999d"}` was accepted, and `runtime-sim run` then never
/// finished, its memory growing until the kernel killed it. It is now an error at the value,
/// with the file, the line, the column and the JSON path, as the loader's other errors.
#[test]
fn an_advance_beyond_the_end_of_virtual_time_is_a_located_error() {
    let text = "{\"name\": \"n\", \"description\": \"d\",\n \"timeline\": [\"start\", {\"advance\": \"999999999999d\"}]}";
    assert_eq!(
        error_of(text),
        format!("s.json:2:50: at timeline[1].advance: the duration \"999999999999d\" is too long: {BEYOND}")
    );

    // Through the command: at once, exit code 2.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("forever.json");
    std::fs::write(&file, text).unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_runtime-sim"))
        .args(["run", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("forever.json:2:50: at timeline[1].advance: the duration \"999999999999d\" is too long: {BEYOND}")),
        "{err}"
    );
}

/// Each duration and instant of the file is checked, in every form the file may write it, and
/// one that overflows while it is parsed is an error, not a panic.
#[test]
fn every_duration_and_instant_is_bounded() {
    assert_eq!(MAX_DURATION, SimInstant::MAX.since_start());
    let scenario = |timeline: &str, expect: &str| {
        format!(
            r#"{{"name": "n", "description": "d",
 "extensions": {{"e": {{"manifest": {{"name": "E", "version": "1.0"}}}}}},
 "timeline": {timeline},
 "expect": {expect}}}"#
        )
    };
    for (timeline, expect, at) in [
        (
            r#"[{"advance_to": "365001d"}]"#,
            "[]",
            "timeline[0].advance_to",
        ),
        (
            r#"[{"advance": 31536000000001}]"#,
            "[]",
            "timeline[0].advance",
        ),
        (
            r#"[{"advance": "99999999999999999999999s"}]"#,
            "[]",
            "timeline[0].advance",
        ),
        (
            "[]",
            r#"[{"state": {"extension": "e", "at": "400000d", "page": "unloaded"}}]"#,
            "expect[0].state.at",
        ),
    ] {
        let err = error_of(&scenario(timeline, expect));
        assert!(err.contains(&format!(": at {at}: ")), "{err}");
        assert!(
            err.contains("too long") || err.contains("invalid duration"),
            "{err}"
        );
    }
    // Exactly the bound is allowed.
    load_str(
        Path::new("s.json"),
        scenario(r#"[{"advance_to": "365000d"}]"#, "[]"),
    )
    .unwrap();
}

/// Steps each within the bound that together go past it: the error is at the step that
/// crosses it.
#[test]
fn advances_that_add_up_past_the_end_are_refused_where_they_cross_it() {
    let text = r#"{"name": "n", "description": "d", "extensions": {},
 "timeline": ["start", {"advance": "200000d"}, {"advance_to": "300000d"},
   {"advance": "64000d"}, {"advance": "1001d"}]}"#;
    assert_eq!(
        error_of(text),
        format!("s.json:3:39: at timeline[4].advance: the timeline's steps reach 365001 days after the start here, too late: {BEYOND}")
    );
}
