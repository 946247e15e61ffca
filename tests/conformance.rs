//! Conformance with real browsers: each probe extension of `conformance/probes/` runs on the
//! simulator under the matching profile, and what its cases observed is compared, case by
//! case, with what the same extension observed in the real browser (`conformance/goldens/`,
//! recorded by `node conformance/record/record.mjs`). A case that disagrees must be listed in
//! `conformance/known-differences.json` with the reason; a listed case that agrees fails too,
//! so that the list says only what is true.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use runtime_sim::{Browser, Profile};
use serde_json::{Map, Value};

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The longest a probe may take on the virtual clock: its cases wait at most 5 s each.
const PROBE_TIME_LIMIT: Duration = Duration::from_secs(600);

/// Runs the probe in `conformance/probes/<probe>` and returns its records.
fn simulate(probe: &str, profile: Profile) -> (String, Map<String, Value>) {
    let spec = runtime_js::extension_from_dir(conformance().join("probes").join(probe))
        .expect("the probe loads");
    let mut browser = Browser::builder().profile(profile).build();
    let id = browser.install(spec).expect("the probe installs");
    browser.start();
    let mut waited = Duration::ZERO;
    loop {
        let stored = browser.storage(&id).get("conformance").cloned();
        if let Some(Value::Object(mut stored)) = stored {
            if stored.get("done") == Some(&Value::Bool(true)) {
                let Some(Value::Object(records)) = stored.remove("records") else {
                    panic!("{probe}: the records are not an object");
                };
                return (id.as_str().to_owned(), records);
            }
        }
        assert!(
            waited < PROBE_TIME_LIMIT,
            "{probe}: no records after {waited:?} of virtual time"
        );
        browser.advance(Duration::from_secs(1));
        waited += Duration::from_secs(1);
    }
}

/// Compares the simulator's records of `probe` with the golden ones; returns the number of
/// cases compared.
fn compare(probe: &str, profile: Profile) -> usize {
    let golden = read_json(&conformance().join("goldens").join(format!("{probe}.json")));
    for field in ["browser", "recorded", "extension_id"] {
        assert!(
            golden.get(field).and_then(Value::as_str).is_some(),
            "{probe}: the golden file says no {field}"
        );
    }
    let Some(Value::Object(expected)) = golden.get("records") else {
        panic!("{probe}: the golden file has no records");
    };
    let known = read_json(&conformance().join("known-differences.json"));
    let known = known
        .get(probe)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let (id, actual) = simulate(probe, profile);
    assert_eq!(
        Some(id.as_str()),
        golden.get("extension_id").and_then(Value::as_str),
        "{probe}: the id the manifest's key gives"
    );

    let names: BTreeSet<&String> = expected.keys().chain(actual.keys()).collect();
    let mut problems = Vec::new();
    for name in &names {
        let (browser, simulator) = (expected.get(*name), actual.get(*name));
        let agrees = browser == simulator;
        match (agrees, known.get(*name)) {
            (true, None) | (false, Some(_)) => {}
            (false, None) => problems.push(format!(
                "{name}\n    browser:   {}\n    simulator: {}",
                shown(browser),
                shown(simulator)
            )),
            (true, Some(_)) => problems.push(format!(
                "{name}\n    agrees now: remove it from conformance/known-differences.json"
            )),
        }
    }
    for name in known.keys() {
        if !names.contains(name) {
            problems.push(format!(
                "{name}\n    listed in conformance/known-differences.json, but no such case"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{probe}: {} of {} cases disagree with {} and are not listed:\n{}",
        problems.len(),
        names.len(),
        golden["browser"],
        problems.join("\n")
    );
    names.len()
}

fn shown(record: Option<&Value>) -> String {
    record.map_or_else(|| "(no such case)".to_owned(), Value::to_string)
}

/// The MV3 probe's cases (its service worker's and an extension page's) agree with
/// Chromium's records, or are listed with their reason.
#[test]
fn chromium_mv3_probe_agrees_with_chromium() {
    let cases = compare("chromium-mv3", Profile::ChromeMv3);
    assert!(cases >= 180, "{cases} cases");
}
