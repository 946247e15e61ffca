//! Updates (runtime-behaviour.md §2.1, §2.3, §2.4): the update service, the browser's checks,
//! `requestUpdateCheck` and its backoff, and when a found update is installed.

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::{
    Browser, BrowserBuilder, ExtensionId, Location, PageState, PublishError,
    RequestUpdateCheckStatus, Runtime, TraceEvent, UpdateCheckResult, UpdateDetails,
};
use serde_json::{json, Value};

/// What a page of version `tag` saw: `"<tag> <event> <detail>"`.
type Seen = Log<String>;

/// A script that logs `onInstalled`, `onStartup` and `onUpdateAvailable` (registered at the top
/// level), tagged with the version it belongs to, and keeps every load's `Runtime`.
fn recorder(
    tag: &'static str,
    seen: &Seen,
    loads: &Log<Runtime>,
) -> impl runtime_sim::BackgroundScript {
    let seen = seen.clone();
    let loads = loads.clone();
    runtime_sim::script_fn(move |rt: Runtime| {
        loads.push(rt.clone());
        let s = seen.clone();
        rt.on_installed().add_listener(move |details| {
            let reason = details.reason.as_str();
            s.push(format!(
                "{tag} onInstalled {reason} {}",
                details.previous_version.unwrap_or_default()
            ));
        });
        let s = seen.clone();
        rt.on_startup()
            .add_listener(move |()| s.push(format!("{tag} onStartup")));
        let s = seen.clone();
        rt.on_update_available()
            .add_listener(move |manifest: Value| {
                let version = manifest["version"].as_str().unwrap_or("?").to_owned();
                s.push(format!("{tag} onUpdateAvailable {version}"));
            });
        async { Ok(()) }
    })
}

/// A started browser (from `builder`) with one packed extension `name` 1.0 whose page
/// (persistent or not) runs [`recorder`].
fn one(
    builder: BrowserBuilder,
    name: &str,
    persistent: bool,
) -> (Browser, ExtensionId, Seen, Log<Runtime>) {
    let seen = Seen::new();
    let loads = Log::new();
    let (browser, ids) = started(
        builder,
        vec![packed(
            name,
            "1.0",
            persistent,
            recorder("1.0", &seen, &loads),
        )],
    );
    (browser, ids[0].clone(), seen, loads)
}

fn updated(browser: &Browser, id: &ExtensionId) -> Vec<(u64, String, String)> {
    browser
        .trace()
        .entries()
        .filter(|e| e.extension.as_ref() == Some(id))
        .filter_map(|e| match &e.event {
            TraceEvent::Updated { from, to } => Some((e.at.as_millis(), from.clone(), to.clone())),
            _ => None,
        })
        .collect()
}

fn update_delayed(browser: &Browser, id: &ExtensionId) -> Vec<String> {
    browser
        .trace()
        .entries()
        .filter(|e| e.extension.as_ref() == Some(id))
        .filter_map(|e| match &e.event {
            TraceEvent::UpdateDelayed { version, .. } => Some(version.clone()),
            _ => None,
        })
        .collect()
}

fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

/// `requestUpdateCheck` from `rt`, run to its answer.
fn check(browser: &mut Browser, rt: &Runtime) -> UpdateCheckResult {
    wait(browser, rt.request_update_check()).expect("the check answers")
}

#[test]
fn only_packed_installed_extensions_can_be_published() {
    let seen = Seen::new();
    let loads = Log::new();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            event_page("unpacked", json!({}), recorder("1.0", &seen, &loads)),
            packed("store", "1.0", false, recorder("1.0", &seen, &loads)),
        ],
    );
    let next = || {
        packed(
            "store",
            "2.0",
            false,
            recorder("2.0", &Seen::new(), &Log::new()),
        )
    };
    assert_eq!(
        browser.publish_update(&ids[0], next()).unwrap_err().to_string(),
        format!("the extension {} is unpacked: the browser updates only packed extensions (an unpacked one is updated by reloading it)", ids[0])
    );
    let absent = ExtensionId::parse(ABSENT_ID).unwrap();
    assert!(matches!(
        browser.publish_update(&absent, next()),
        Err(PublishError::NotInstalled(_))
    ));
    browser.publish_update(&ids[1], next()).unwrap();
}

#[test]
fn an_idle_event_page_is_updated_by_the_periodic_check_and_its_new_script_runs() {
    let (mut browser, id, seen, loads) = one(Browser::builder().seed(3), "idle", false);
    let id = &id;
    browser.advance(secs(15));
    assert_eq!(browser.page_state(id), Some(PageState::Unloaded));
    browser
        .publish_update(
            id,
            packed("idle", "2.0", false, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    // The first periodic check comes 5 h ± 20 % after the start.
    browser.advance(hours(6));
    let done = updated(&browser, id);
    assert_eq!(done.len(), 1, "{:?}", browser.trace().timeline());
    let (when, from, to) = &done[0];
    assert!(
        (4 * 3_600_000..=6 * 3_600_000).contains(when),
        "updated at {when} ms"
    );
    assert_eq!((from.as_str(), to.as_str()), ("1.0", "2.0"));
    // Idle: no onUpdateAvailable, installed at once; the new script gets onInstalled(update).
    assert!(update_delayed(&browser, id).is_empty());
    assert_eq!(
        seen.all(),
        ["1.0 onInstalled install ", "2.0 onInstalled update 1.0"]
    );
    assert_eq!(browser.extension(id).unwrap().version, "2.0");
    assert_eq!(loads.last().unwrap().get_manifest()["version"], "2.0");
}

#[test]
fn an_update_waits_while_the_event_page_is_busy_and_is_installed_when_it_unloads() {
    let (mut browser, id, seen, loads) = one(Browser::builder(), "busy", false);
    let id = &id;
    let work = browser.keepalive(id, "long work").unwrap();
    browser
        .publish_update(
            id,
            packed("busy", "2.0", false, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    let rt = loads.last().unwrap();
    let result = check(&mut browser, &rt);
    assert_eq!(
        result,
        UpdateCheckResult {
            status: RequestUpdateCheckStatus::UpdateAvailable,
            version: "2.0".into()
        }
    );
    // Found while the page is loaded: it waits, and the page is told with the new manifest.
    assert_eq!(update_delayed(&browser, id), ["2.0"]);
    assert_eq!(browser.pending_update(id).as_deref(), Some("2.0"));
    let available = dispatched_to(&browser.trace(), id, "runtime.onUpdateAvailable");
    assert_eq!(available.len(), 1);
    assert_eq!(available[0].1["version"], "2.0");
    assert_eq!(available[0].1["name"], "busy");
    assert_eq!(browser.extension(id).unwrap().version, "1.0");
    browser.advance(hours(1));
    assert!(
        updated(&browser, id).is_empty(),
        "installed while the page was busy"
    );
    // The work ends: the page idles for 10 s, suspends for 5 s, unloads, and the update is
    // installed then.
    let released = browser.now().as_millis();
    drop(work);
    browser.advance(secs(20));
    let done = updated(&browser, id);
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, released + 15_000);
    assert_eq!(
        seen.all(),
        [
            "1.0 onInstalled install ",
            "1.0 onUpdateAvailable 2.0",
            "2.0 onInstalled update 1.0"
        ]
    );
    assert_eq!(browser.pending_update(id), None);
}

#[test]
fn an_open_view_keeps_an_update_waiting_until_it_closes() {
    let (mut browser, id, seen, loads) = one(Browser::builder(), "viewed", false);
    let id = &id;
    let view = browser
        .open_view(id, runtime_sim::ViewKind::Options, "options.html")
        .unwrap();
    let options = browser.view_runtime(id, view).unwrap();
    browser
        .publish_update(
            id,
            packed("viewed", "2.0", false, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    assert_eq!(
        check(&mut browser, &options).status,
        RequestUpdateCheckStatus::UpdateAvailable
    );
    browser.advance(hours(2));
    // The view keeps the page alive, and the extension is in use: nothing is installed.
    assert_eq!(browser.page_state(id), Some(PageState::Active));
    assert!(updated(&browser, id).is_empty());
    let closed = browser.now().as_millis();
    browser.close_view(id, view);
    browser.advance(secs(20));
    assert_eq!(updated(&browser, id)[0].0, closed + 15_000);
}

#[test]
fn a_persistent_page_without_an_update_listener_is_updated_at_once() {
    let loads = Log::new();
    let (script, _) = top_level(|_| {});
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![packed("plain", "1.0", true, script)],
    );
    let id = &ids[0];
    let seen = Seen::new();
    browser
        .publish_update(
            id,
            packed("plain", "2.0", true, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    let view = view_runtime(&mut browser, id, runtime_sim::ViewKind::Popup, "popup.html");
    let result = check(&mut browser, &view);
    assert_eq!(result.status, RequestUpdateCheckStatus::UpdateAvailable);
    browser.advance(secs(1));
    // Installed although the page (and a view) were open: like reload().
    assert_eq!(updated(&browser, id).len(), 1);
    assert!(update_delayed(&browser, id).is_empty());
    assert_eq!(browser.page_state(id), Some(PageState::Active));
    assert_eq!(seen.all(), ["2.0 onInstalled update 1.0"]);
    // The view of the old version lost its context.
    assert_eq!(
        wait(&mut browser, async move { view.get_platform_info().await })
            .unwrap_err()
            .to_string(),
        "Extension context invalidated."
    );
}

#[test]
fn a_persistent_page_listening_for_updates_waits_for_the_next_browser_start() {
    let (mut browser, id, seen, loads) = one(Browser::builder(), "listener", true);
    let id = &id;
    browser
        .publish_update(
            id,
            packed("listener", "2.0", true, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    let rt = loads.last().unwrap();
    assert_eq!(
        check(&mut browser, &rt).status,
        RequestUpdateCheckStatus::UpdateAvailable
    );
    browser.advance(Duration::from_secs(3 * 24 * 3600));
    assert!(updated(&browser, id).is_empty());
    assert_eq!(browser.pending_update(id).as_deref(), Some("2.0"));
    seen.take();
    browser.restart();
    browser.advance(secs(1));
    assert_eq!(updated(&browser, id).len(), 1);
    assert_eq!(seen.all(), ["2.0 onInstalled update 1.0", "2.0 onStartup"]);
}

#[test]
fn an_update_found_as_the_browser_starts_is_installed_at_once() {
    let seen = Seen::new();
    let loads = Log::new();
    let mut browser = Browser::builder().build();
    let id = browser
        .install(packed(
            "sleeper",
            "1.0",
            false,
            recorder("1.0", &seen, &loads),
        ))
        .unwrap();
    browser.start();
    browser.advance(secs(60));
    browser.stop();
    browser
        .publish_update(
            &id,
            packed("sleeper", "2.0", false, recorder("2.0", &seen, &loads)),
        )
        .unwrap();
    seen.take();
    browser.start();
    browser.advance(secs(1));
    let done = updated(&browser, &id);
    assert_eq!(done.len(), 1);
    assert!(update_delayed(&browser, &id).is_empty());
    assert_eq!(seen.all(), ["2.0 onInstalled update 1.0", "2.0 onStartup"]);
}

#[test]
fn request_update_check_in_both_forms() {
    let (mut browser, id, seen, loads) = one(Browser::builder(), "forms", true);
    let id = &id;
    let rt = loads.last().unwrap();
    // Promise form: {status, version}; version is empty unless an update is available.
    let first = check(&mut browser, &rt);
    assert_eq!(first.status, RequestUpdateCheckStatus::NoUpdate);
    assert_eq!(
        serde_json::to_value(&first).unwrap(),
        json!({"status": "no_update", "version": ""})
    );
    // Callback form: (status, {version}).
    browser.advance(hours(5));
    browser
        .publish_update(
            id,
            packed("forms", "1.1", true, recorder("1.1", &seen, &loads)),
        )
        .unwrap();
    let got: Log<(Option<RequestUpdateCheckStatus>, Option<UpdateDetails>)> = Log::new();
    let g = got.clone();
    rt.request_update_check_callback(move |status, details| g.push((status, details)))
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(
        got.take(),
        [(
            Some(RequestUpdateCheckStatus::UpdateAvailable),
            Some(UpdateDetails {
                version: "1.1".into()
            })
        )]
    );
    // Within 5 h of a completed check: throttled, in either form.
    browser.advance(Duration::from_secs(60));
    let g = got.clone();
    rt.request_update_check_callback(move |status, details| g.push((status, details)))
        .unwrap();
    browser.advance(secs(1));
    assert_eq!(
        got.take(),
        [(
            Some(RequestUpdateCheckStatus::Throttled),
            Some(UpdateDetails {
                version: String::new()
            })
        )]
    );
}

/// Chromium's own test of the backoff (`ChromeRuntimeAPIDelegateTest.RequestUpdateCheck`),
/// replayed on the virtual clock: a packed extension that listens to `onUpdateAvailable`, so
/// that the update to 2.0 waits until the extension is reloaded.
#[test]
fn chromium_request_update_check_timeline() {
    for seed in 0..8 {
        let seen = Seen::new();
        let loads = Log::new();
        let (mut browser, ids) = started(
            Browser::builder().seed(seed),
            vec![packed(
                "golden",
                "1.0",
                true,
                recorder("1.0", &seen, &loads),
            )],
        );
        let id = &ids[0];
        let mut timeline = Vec::new();
        let mut step = |browser: &mut Browser, after: Duration| {
            browser.advance(after);
            let rt = loads.last().unwrap();
            let result = check(browser, &rt);
            let at = browser.now();
            timeline.push(format!(
                "{:?} {} {}",
                at,
                result.status.as_str(),
                result.version
            ));
            result
        };
        use RequestUpdateCheckStatus::*;
        let minutes = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(step(&mut browser, Duration::ZERO).status, NoUpdate);
        assert_eq!(step(&mut browser, minutes(15)).status, Throttled);
        for _ in 0..5 {
            assert_eq!(step(&mut browser, hours(6)).status, NoUpdate);
        }
        browser.advance(hours(24));
        browser
            .publish_update(
                id,
                packed("golden", "2.0", true, recorder("2.0", &seen, &loads)),
            )
            .unwrap();
        let found = step(&mut browser, Duration::ZERO);
        assert_eq!(
            (found.status, found.version.as_str()),
            (UpdateAvailable, "2.0")
        );
        assert_eq!(step(&mut browser, minutes(30)).status, Throttled);
        browser.reload_extension(id).unwrap();
        browser.advance(Duration::ZERO);
        assert_eq!(browser.extension(id).unwrap().version, "2.0");
        assert_eq!(
            step(&mut browser, secs(10)).status,
            NoUpdate,
            "seed {seed}: {timeline:#?}"
        );
        assert_eq!(step(&mut browser, minutes(5)).status, Throttled);
        assert_eq!(step(&mut browser, hours(8)).status, NoUpdate);
    }
}

#[test]
fn ten_calls_share_a_check_in_flight_and_an_eleventh_is_throttled() {
    let (mut browser, _, _, loads) = one(
        Browser::builder().update_check_duration(secs(2)),
        "eager",
        true,
    );
    let rt = loads.last().unwrap();
    let calls: Vec<_> = (0..11).map(|_| rt.request_update_check()).collect();
    let results = wait(&mut browser, futures::future::join_all(calls));
    let statuses: Vec<_> = results.into_iter().map(|r| r.unwrap().status).collect();
    let mut expected = vec![RequestUpdateCheckStatus::NoUpdate; 10];
    expected.push(RequestUpdateCheckStatus::Throttled);
    assert_eq!(statuses, expected);
    // One check was made for all ten.
    let checks = times(&browser.trace(), |e| {
        matches!(
            e,
            TraceEvent::UpdateChecked {
                trigger: "requestUpdateCheck",
                ..
            }
        )
    });
    assert_eq!(checks, [2_000]);
}

#[test]
fn without_an_update_service_the_check_fails() {
    let seen = Seen::new();
    let loads = Log::new();
    let (mut browser, _) = started(
        Browser::builder().autoupdate(false),
        vec![packed(
            "offline",
            "1.0",
            true,
            recorder("1.0", &seen, &loads),
        )],
    );
    let rt = loads.last().unwrap();
    assert_eq!(
        wait(&mut browser, rt.request_update_check())
            .unwrap_err()
            .to_string(),
        "Autoupdate is not enabled."
    );
    let got = Log::new();
    let g = got.clone();
    let page = rt.clone();
    rt.request_update_check_callback(move |status, details| {
        g.push((status, details, page.last_error().map(|e| e.message)))
    })
    .unwrap();
    browser.advance(secs(1));
    assert_eq!(
        got.take(),
        [(None, None, Some("Autoupdate is not enabled.".to_owned()))]
    );
    // And the browser never checks on its own.
    browser.advance(hours(48));
    assert!(times(&browser.trace(), |e| matches!(
        e,
        TraceEvent::UpdateChecked { .. }
    ))
    .is_empty());
}

#[test]
fn content_scripts_cannot_check_for_updates_or_reload() {
    let (script, _) = top_level(|_| {});
    let spec = packed("cs", "1.0", false, script);
    let mut manifest = spec.manifest().to_value();
    manifest["content_scripts"] = json!([{"matches": ["https://*/*"], "js": ["cs.js"]}]);
    let (script, _) = top_level(|_| {});
    let spec = runtime_sim::ExtensionSpec::from_json(manifest)
        .unwrap()
        .location(Location::Packed)
        .script(script);
    let (mut browser, ids) = started(Browser::builder(), vec![spec]);
    let tab = browser.open_tab("https://example.com/").unwrap();
    browser.advance(Duration::ZERO);
    let cs = browser
        .content_script(&ids[0], tab, runtime_sim::FrameId(0))
        .unwrap();
    let err = wait(&mut browser, cs.request_update_check()).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("chrome.runtime.requestUpdateCheck is not a function"));
    assert!(cs.reload().is_err());
}

/// A shared module (a manifest with `export`) that is updated tells the extensions that import
/// it, with `shared_module_update` (§2.1).
#[test]
fn importers_of_an_updated_shared_module_get_shared_module_update() {
    let module = |version: &str| {
        runtime_sim::ExtensionSpec::from_json(json!({
            "name": "module", "version": version, "export": {"resources": ["lib.js"]}
        }))
        .unwrap()
        .location(Location::Packed)
    };
    let mut browser = Browser::builder().build();
    let module_id = browser.install(module("1.0")).unwrap();
    let seen = Seen::new();
    let loads = Log::new();
    let importer = runtime_sim::ExtensionSpec::from_json(json!({
        "name": "importer", "version": "3.0",
        "background": {"scripts": ["bg.js"], "persistent": false},
        "import": [{"id": module_id.as_str()}]
    }))
    .unwrap()
    .script(recorder("3.0", &seen, &loads));
    let importer_id = browser.install(importer).unwrap();
    browser.start();
    browser.advance(secs(30));
    assert_eq!(browser.page_state(&importer_id), Some(PageState::Unloaded));
    browser.publish_update(&module_id, module("1.5")).unwrap();
    browser.advance(hours(7));
    assert_eq!(updated(&browser, &module_id).len(), 1);
    let details = dispatched_to(&browser.trace(), &importer_id, "runtime.onInstalled");
    assert_eq!(details.len(), 2);
    assert_eq!(
        details[1].1,
        json!({"reason": "shared_module_update", "previousVersion": "1.0", "id": module_id.as_str()})
    );
}

/// The §2.1 and §2.2 rules at a browser restart: `chrome_update` only for extensions that
/// listen to `onInstalled`, `onStartup` only wakes pages that listen to it.
#[test]
fn a_browser_update_gives_chrome_update_to_extensions_that_listen_for_it() {
    let seen = Seen::new();
    let loads = Log::new();
    let (quiet, quiet_loads) = top_level(|_| {});
    let (mut browser, ids) = started(
        Browser::builder().browser_version("156.0.1.0"),
        vec![
            packed("listens", "1.0", false, recorder("1.0", &seen, &loads)),
            packed("quiet", "1.0", false, quiet),
        ],
    );
    let (listens, quiet) = (&ids[0], &ids[1]);
    browser.advance(secs(30));
    seen.take();
    let quiet_loads_before = quiet_loads.len();
    browser.stage_browser_update("157.0.2.0");
    browser.advance(secs(1));
    assert_eq!(browser.version(), "156.0.1.0");
    browser.restart();
    browser.advance(secs(1));
    assert_eq!(browser.version(), "157.0.2.0");
    assert_eq!(
        seen.all(),
        ["1.0 onInstalled chrome_update ", "1.0 onStartup"]
    );
    // The extension with no listener got nothing, and its page did not load.
    assert!(dispatched_to(&browser.trace(), quiet, "runtime.onInstalled").len() == 1);
    assert_eq!(quiet_loads.len(), quiet_loads_before);
    assert_eq!(browser.page_state(quiet), Some(PageState::Unloaded));
    assert_eq!(browser.page_state(listens), Some(PageState::Active));
    // A second restart without a browser update: onStartup only.
    seen.take();
    browser.restart();
    browser.advance(secs(1));
    assert_eq!(seen.all(), ["1.0 onStartup"]);
}

#[test]
fn on_browser_update_available_reaches_pages_that_listen_and_wakes_them() {
    let got = Log::new();
    let g = got.clone();
    let (script, _) = top_level(move |rt| {
        let g = g.clone();
        rt.on_browser_update_available()
            .add_listener(move |()| g.push("browser update"));
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![packed("bua", "1.0", false, script)],
    );
    browser.advance(secs(30));
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Unloaded));
    browser.stage_browser_update("200.0.0.0");
    browser.advance(secs(1));
    assert_eq!(got.all(), ["browser update"]);
}

/// Acceptance 4 of the updates issue: a month with an hourly `requestUpdateCheck` and a
/// release every week gives the same trace twice.
#[test]
fn thirty_days_of_hourly_checks_and_weekly_releases_are_deterministic() {
    fn month(seed: u64) -> (String, Vec<String>) {
        let mut browser = BrowserBuilder::default().seed(seed).build();
        let versions = Log::new();
        let spec = |version: &'static str| {
            let v = versions.clone();
            let script = runtime_sim::script_fn(move |rt: Runtime| {
                let v = v.clone();
                let every_hour = rt.clone();
                async move {
                    v.push(version.to_owned());
                    loop {
                        let _ = every_hour.request_update_check().await;
                        every_hour.sleep(hours(1)).await;
                    }
                }
            });
            packed("monthly", version, true, script)
        };
        let id = browser.install(spec("1.0")).unwrap();
        browser.start();
        let releases = ["1.1", "1.2", "1.3", "1.4"];
        for (week, version) in releases.iter().enumerate() {
            browser
                .publish_update_at(
                    &id,
                    spec(version),
                    at((week as u64 + 1) * 7 * 24 * 3600 * 1000),
                )
                .unwrap();
        }
        browser.advance(Duration::from_secs(30 * 24 * 3600));
        (browser.trace().to_jsonl(), versions.all())
    }
    let (first, loaded) = month(11);
    let (second, _) = month(11);
    assert!(first == second, "the same seed gave two traces");
    // Every weekly release was found and installed (a persistent page without an
    // onUpdateAvailable listener takes updates at once).
    assert_eq!(loaded, ["1.0", "1.1", "1.2", "1.3", "1.4"]);
    let (other, _) = month(12);
    assert_ne!(first, other, "the seed does not reach the jitter");
}

#[test]
fn run_until_idle_is_not_held_up_by_the_periodic_update_check() {
    let (script, _) = top_level(|_| {});
    let (mut browser, ids) = started(Browser::builder(), vec![packed("p", "1.0", false, script)]);
    let end = browser.run_until_idle();
    assert_eq!(end.as_millis(), 15_000);
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Unloaded));
}

#[test]
fn the_periodic_check_runs_at_the_configured_period_with_twenty_percent_jitter() {
    let (mut browser, _, _, _) = one(
        Browser::builder().seed(5).update_check_period(hours(1)),
        "hourly",
        false,
    );
    browser.advance(hours(48));
    let checks = times(&browser.trace(), |e| {
        matches!(
            e,
            TraceEvent::UpdateChecked {
                trigger: "periodic",
                ..
            }
        )
    });
    assert!(checks.len() >= 40, "{} checks in 48 h", checks.len());
    let mut previous = 0;
    for at in checks {
        let gap = at - previous;
        assert!((2_880_000..=4_320_000).contains(&gap), "a gap of {gap} ms");
        previous = at;
    }
}

/// Staging the version the browser already runs sent `chrome_update` at the next start;
/// Chromium sends it only when the version changed.
#[test]
fn staging_the_same_browser_version_gives_no_chrome_update() {
    let (mut browser, _, seen, _) = one(Browser::builder(), "same", false);
    browser.advance(secs(30));
    seen.take();
    let version = browser.version();
    browser.stage_browser_update(version);
    browser.restart();
    browser.advance(secs(1));
    assert_eq!(seen.all(), ["1.0 onStartup"]);
}
