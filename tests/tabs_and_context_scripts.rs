//! The code of an extension's content scripts and views (`ContextScript`), and `chrome.tabs`
//! (create, get, query, remove, and their events) from Rust.

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::{
    context_script_fn, Browser, FrameId, Runtime, ScriptPlace, TabCreate, TabId, TabQuery, ViewKind,
};
use serde_json::{json, Value};

/// Where the extension's context script ran, in order.
fn place_log() -> (impl runtime_sim::ContextScript, Log<ScriptPlace>) {
    let log = Log::new();
    let seen = log.clone();
    let script = context_script_fn(move |_rt: Runtime, place| {
        seen.push(place);
        async { Ok(()) }
    });
    (script, log)
}

#[test]
fn the_context_script_runs_when_a_content_script_starts_and_when_a_view_opens() {
    let (script, log) = place_log();
    let spec = pageless(
        "Contexts",
        json!({"content_scripts": [
            {"matches": ["https://example.com/*"], "js": ["a.js"]},
            {"matches": ["https://other.example/*"], "js": ["b.js"]},
            {"matches": ["https://example.com/news*"], "js": ["c.js"], "all_frames": true}
        ]}),
    )
    .context_script(script);
    let (mut browser, id) = browser_with(spec);
    let tab = browser.open_tab("https://example.com/news").unwrap();
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    // A frame only the third entry takes (all_frames).
    let frame = browser
        .open_frame(tab, FrameId::TOP, "https://example.com/news/embed")
        .unwrap();
    browser.open_tab("https://unrelated.example/").unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        log.all(),
        [
            ScriptPlace::ContentScript {
                tab,
                frame: FrameId::TOP,
                url: "https://example.com/news".into(),
                entries: vec![0, 2],
            },
            ScriptPlace::View {
                view,
                kind: ViewKind::Popup,
                url: format!("chrome-extension://{id}/popup.html"),
            },
            ScriptPlace::ContentScript {
                tab,
                frame,
                url: "https://example.com/news/embed".into(),
                entries: vec![2],
            },
        ]
    );
}

/// An event page that records the arguments of the tabs events it gets, and the runtime of
/// its popup to call `chrome.tabs` from.
fn tabs_extension(permissions: Value) -> (Browser, Runtime, Log<(String, Value)>) {
    let events = Log::new();
    let seen = events.clone();
    let (script, _) = top_level(move |rt| {
        for name in ["tabs.onCreated", "tabs.onRemoved", "tabs.onUpdated"] {
            let seen = seen.clone();
            rt.event(name)
                .add_listener(move |args: Value| seen.push((name.to_owned(), args)));
        }
    });
    let spec = event_page("Tabs", json!({"permissions": permissions}), script);
    let (mut browser, id) = browser_with(spec);
    let popup = popup_runtime(&mut browser, &id);
    (browser, popup, events)
}

#[test]
fn tabs_are_created_queried_and_removed_with_their_events() {
    let (mut browser, popup, events) = tabs_extension(json!(["tabs"]));
    let first = browser.open_tab("https://example.com/").unwrap();
    let tabs = popup.tabs();
    let created = wait(
        &mut browser,
        tabs.create(TabCreate {
            url: Some("https://example.org/a".into()),
            active: Some(false),
            ..TabCreate::default()
        }),
    )
    .unwrap();
    assert_eq!(created["url"], "https://example.org/a");
    assert_eq!(created["index"], 1);
    assert_eq!(created["active"], false);
    let second = TabId(created["id"].as_u64().unwrap());

    let all = wait(&mut browser, tabs.query(TabQuery::default())).unwrap();
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [first.0, second.0]);
    let active = wait(
        &mut browser,
        tabs.query(TabQuery {
            active: Some(true),
            current_window: Some(true),
            ..TabQuery::default()
        }),
    )
    .unwrap();
    assert_eq!(active[0]["id"], first.0);
    let by_url = wait(
        &mut browser,
        tabs.query(TabQuery {
            url: Some(vec!["https://example.org/*".into()]),
            ..TabQuery::default()
        }),
    )
    .unwrap();
    assert_eq!(by_url.as_array().unwrap().len(), 1);
    let bad = wait(
        &mut browser,
        tabs.query(TabQuery {
            url: Some(vec!["example.org".into()]),
            ..TabQuery::default()
        }),
    );
    assert_eq!(
        bad.unwrap_err().to_string(),
        "Invalid url pattern 'example.org'"
    );

    wait(&mut browser, tabs.remove(vec![first])).unwrap();
    assert_eq!(browser.tabs(), [second]);
    // The tab that took the closed one's place is the active one now.
    let now = wait(&mut browser, tabs.get(second)).unwrap();
    assert_eq!(
        (now["index"].clone(), now["active"].clone()),
        (json!(0), json!(true))
    );
    let missing = wait(&mut browser, tabs.remove(vec![second, TabId(99)]));
    assert_eq!(missing.unwrap_err().to_string(), "No tab with id: 99.");
    assert!(
        browser.tabs().is_empty(),
        "the tab before the unknown id closed"
    );
    let gone = wait(&mut browser, tabs.get(second));
    assert_eq!(
        gone.unwrap_err().message,
        format!("No tab with id: {second}.")
    );
    browser.advance(Duration::ZERO);

    let names: Vec<String> = events.all().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "tabs.onCreated",
            "tabs.onCreated",
            "tabs.onRemoved",
            "tabs.onRemoved"
        ]
    );
    let (_, removed) = &events.all()[2];
    assert_eq!(
        removed,
        &json!([first, {"windowId": 1, "isWindowClosing": false}])
    );
}

#[test]
fn without_the_tabs_permission_a_tab_has_no_url_and_a_url_query_matches_nothing() {
    let (mut browser, popup, events) = tabs_extension(json!(["https://example.org/*"]));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let other = browser.open_tab("https://example.org/").unwrap();
    let tabs = popup.tabs();
    let seen = wait(&mut browser, tabs.get(tab)).unwrap();
    assert!(seen.get("url").is_none(), "{seen}");
    // A host permission shows the URL of the tabs it covers.
    let host = wait(&mut browser, tabs.get(other)).unwrap();
    assert_eq!(host["url"], "https://example.org/");
    let query = TabQuery {
        url: Some(vec!["<all_urls>".into()]),
        ..TabQuery::default()
    };
    let matched = wait(&mut browser, tabs.query(query)).unwrap();
    assert_eq!(matched.as_array().unwrap().len(), 1);

    browser.navigate(tab, "https://example.com/next").unwrap();
    browser.advance(Duration::ZERO);
    let updates: Vec<Value> = events
        .all()
        .into_iter()
        .filter(|(n, _)| n == "tabs.onUpdated")
        .map(|(_, args)| args[1].clone())
        .collect();
    // No URL in the change either, for a tab the extension may not see.
    assert_eq!(
        updates,
        [json!({"status": "loading"}), json!({"status": "complete"})]
    );
}

#[test]
fn a_tab_on_a_page_of_the_extension_is_one_of_its_views() {
    let (mut browser, popup, _) = tabs_extension(json!(["tabs"]));
    let created = wait(
        &mut browser,
        popup.tabs().create(TabCreate {
            url: Some("page.html".into()),
            ..TabCreate::default()
        }),
    )
    .unwrap();
    let id = popup.id().clone();
    assert_eq!(created["url"], format!("chrome-extension://{id}/page.html"));
    let tab = TabId(created["id"].as_u64().unwrap());
    let wrong = wait(
        &mut browser,
        popup.tabs().create(TabCreate {
            window_id: Some(7),
            ..TabCreate::default()
        }),
    );
    assert_eq!(wrong.unwrap_err().message, "No window with id: 7.");
    assert!(browser.close_tab(tab));
}

#[test]
fn content_scripts_have_no_chrome_tabs() {
    let spec = pageless(
        "No tabs",
        json!({"content_scripts": [{"matches": ["https://example.com/*"]}]}),
    );
    let (mut browser, id) = browser_with(spec);
    let tab = browser.open_tab("https://example.com/").unwrap();
    let cs = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let refused = wait(&mut browser, cs.tabs().query(TabQuery::default()));
    assert_eq!(
        refused.unwrap_err().message,
        "Cannot read properties of undefined (reading 'query')"
    );
}
