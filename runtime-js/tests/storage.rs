//! `chrome.storage` from an extension's own JavaScript: the four areas and their lifetimes,
//! Chromium's quotas, write rates and errors in both call forms, its argument errors, and the
//! change events of each area.

use std::time::Duration;

use runtime_core::{
    AccessLevel, Browser, BrowserBuilder, ExtensionId, ExtensionSpec, FrameId, PageState, Profile,
    StorageArea, TraceEvent,
};
use runtime_js::JsScript;
use serde_json::json;

mod common;
use common::console_messages as messages;

/// A started browser with one extension running `source` as its event page; `onInstalled`
/// has run.
fn browser_with(builder: BrowserBuilder, source: &str) -> (Browser, ExtensionId) {
    extension_with(builder, false, source)
}

/// The same with a Manifest V3 service worker, under Chrome's MV3 rules.
fn worker_with(source: &str) -> (Browser, ExtensionId) {
    extension_with(Browser::builder().profile(Profile::ChromeMv3), true, source)
}

fn extension_with(builder: BrowserBuilder, mv3: bool, source: &str) -> (Browser, ExtensionId) {
    let background = if mv3 {
        json!({"service_worker": "bg.js"})
    } else {
        json!({"scripts": ["bg.js"], "persistent": false})
    };
    let manifest = json!({
        "name": "Storage", "version": "1.0", "manifest_version": if mv3 { 3 } else { 2 },
        "background": background,
        "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]
    });
    let spec = ExtensionSpec::from_json(manifest)
        .unwrap()
        .script(JsScript::new("bg.js", source));
    let mut browser = builder.build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(1));
    (browser, id)
}

/// Fires the alarm that runs the background's `on_alarm` body, and lets it finish.
fn run(browser: &mut Browser, id: &ExtensionId) {
    browser
        .fire_event(id, "alarms.onAlarm", json!({"name": "run"}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
}

/// A background whose alarm listener runs `body`.
fn on_alarm(body: &str) -> String {
    format!("chrome.alarms.onAlarm.addListener(async () => {{\n{body}\n}});")
}

#[test]
fn every_area_reads_and_writes_with_chromium_s_get_forms() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        &on_alarm(
            r#"
            for (const area of ["local", "session", "sync"]) {
              const store = chrome.storage[area];
              await store.set({ b: 2, a: { z: 1, y: null }, u: undefined, f() {}, n: NaN });
              const all = await store.get();
              const none = await store.get(null);
              const one = await store.get("a");
              const some = await store.get(["b", "missing"]);
              const defaults = await store.get({ b: 0, c: "default", d: undefined });
              const keys = await store.getKeys();
              console.log(area, JSON.stringify(all), JSON.stringify(none) === JSON.stringify(all),
                JSON.stringify(one), JSON.stringify(some), JSON.stringify(defaults), keys.join());
              await store.remove("a");
              await store.remove(["b"]);
              console.log(area, "after remove", JSON.stringify(await store.get()));
              await store.set({ x: 1 });
              await store.clear();
              console.log(area, "after clear", JSON.stringify(await store.get()));
            }
            "#,
        ),
    );
    run(&mut browser, &id);
    let lines = messages(&browser);
    let mut expected = Vec::new();
    for area in ["local", "session", "sync"] {
        expected.push(format!(
            r#"{area} {{"a":{{"y":null,"z":1}},"b":2}} true {{"a":{{"y":null,"z":1}}}} {{"b":2}} {{"b":2,"c":"default"}} a,b"#
        ));
        expected.push(format!("{area} after remove {{}}"));
        expected.push(format!("{area} after clear {{}}"));
    }
    assert_eq!(lines, expected);
}

#[test]
fn session_is_cleared_by_a_browser_restart_but_not_by_a_worker_restart() {
    let source = r#"
        chrome.runtime.onInstalled.addListener(async () => {
            await chrome.storage.session.set({ token: "abc" });
            await chrome.storage.local.set({ kept: 1 });
        });
        chrome.alarms.onAlarm.addListener(async () => {
            const session = await chrome.storage.session.get("token");
            const local = await chrome.storage.local.get("kept");
            console.log(JSON.stringify(session), JSON.stringify(local));
        });
    "#;
    let (mut browser, id) = worker_with(source);
    // The worker stops after 30 s idle, and a new one starts for the alarm.
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    run(&mut browser, &id);
    browser.restart();
    run(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [r#"{"token":"abc"} {"kept":1}"#, r#"{} {"kept":1}"#]
    );
    assert_eq!(browser.extension(&id).unwrap().page_loads, 3);
}

#[test]
fn sync_quotas_fail_with_chromium_s_errors_in_both_forms() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        &on_alarm(
            r#"
            const sync = chrome.storage.sync;
            console.log(sync.QUOTA_BYTES, sync.QUOTA_BYTES_PER_ITEM, sync.MAX_ITEMS,
              sync.MAX_WRITE_OPERATIONS_PER_HOUR, sync.MAX_WRITE_OPERATIONS_PER_MINUTE,
              sync.MAX_SUSTAINED_WRITE_OPERATIONS_PER_MINUTE, chrome.storage.local.QUOTA_BYTES,
              chrome.storage.session.QUOTA_BYTES, chrome.storage.managed.QUOTA_BYTES);
            await sync.set({ k: "x".repeat(8189) });
            try {
              await sync.set({ k: "x".repeat(8190) });
            } catch (e) {
              console.log("rejected", e instanceof Error, e.message);
            }
            sync.set({ k: "x".repeat(9000) }, (...args) => {
              console.log("callback", args.length, chrome.runtime.lastError.message);
            });
            const many = {};
            for (let i = 0; i < 513; i++) many["k" + i] = i;
            await sync.set(many).catch((e) => console.log("items", e.message));
            const big = {};
            for (let i = 0; i < 13; i++) big["b" + i] = "y".repeat(8000);
            await sync.set(big).catch((e) => console.log("bytes", e.message));
            console.log("in use", await sync.getBytesInUse(), await sync.getBytesInUse("k"));
            sync.set({ k: "x".repeat(9000) }, () => {});
            "#,
        ),
    );
    run(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [
            "102400 8192 512 1800 120 1000000 10485760 10485760 undefined",
            "rejected true QUOTA_BYTES_PER_ITEM quota exceeded",
            "callback 0 QUOTA_BYTES_PER_ITEM quota exceeded",
            "items MAX_ITEMS quota exceeded",
            "bytes QUOTA_BYTES quota exceeded",
            "in use 8192 8192",
        ]
    );
    // The last callback did not read lastError: the browser says so.
    let unchecked: Vec<String> = browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::UncheckedLastError { message } => Some(message.clone()),
                _ => None,
            })
            .collect()
    });
    assert_eq!(unchecked, ["QUOTA_BYTES_PER_ITEM quota exceeded"]);
    assert_eq!(browser.storage_area(&id, StorageArea::Sync).len(), 1);
}

#[test]
fn sync_write_rates_follow_the_virtual_clock() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        r#"
        chrome.alarms.onAlarm.addListener(async (alarm) => {
            let ok = 0;
            let error;
            for (let i = 0; i < 121; i++) {
              try {
                await chrome.storage.sync.set({ n: i });
                ok++;
              } catch (e) {
                error = e.message;
              }
            }
            await chrome.storage.sync.remove("n");
            console.log(alarm.name, ok, error);
        });
        "#,
    );
    let fire = |browser: &mut Browser, name: &str, after: u64| {
        browser.advance(Duration::from_secs(after));
        browser
            .fire_event(&id, "alarms.onAlarm", json!({"name": name}))
            .unwrap();
        browser.advance(Duration::ZERO);
    };
    fire(&mut browser, "first", 0);
    fire(&mut browser, "same minute", 30);
    fire(&mut browser, "next minute", 31);
    let quota = "This request exceeds the MAX_WRITE_OPERATIONS_PER_MINUTE quota.";
    assert_eq!(
        messages(&browser),
        [
            format!("first 120 {quota}"),
            format!("same minute 0 {quota}"),
            format!("next minute 120 {quota}"),
        ]
    );
}

#[test]
fn bytes_in_use_counts_each_key_and_its_json() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        &on_alarm(
            r#"
            const local = chrome.storage.local;
            await local.set({ a: "xyz", bb: [1, 2.5], c: 3e9, d: "<é>", e: { f: true } });
            const sizes = [];
            for (const keys of [undefined, null, "a", ["bb"], "c", "d", "e", [], ["a", "missing"]]) {
              sizes.push(await local.getBytesInUse(keys));
            }
            local.getBytesInUse("a", (bytes) => console.log("callback", bytes));
            console.log(sizes.join());
            "#,
        ),
    );
    run(&mut browser, &id);
    // a: 1 + 5; bb: 2 + 7 ([1,2.5]); c: 1 + 12 (3000000000.0, a double); d: 1 + 11
    // ("\u003Cé>", é in two bytes); e: 1 + 10 ({"f":true}).
    assert_eq!(messages(&browser), ["51,51,6,9,13,12,11,0,6", "callback 6"]);
}

#[test]
fn managed_storage_is_the_test_s_policy_and_cannot_be_written() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        r#"
        chrome.storage.managed.onChanged.addListener((changes) => console.log("managed changed", JSON.stringify(changes)));
        chrome.storage.onChanged.addListener((changes, area) => console.log("changed", area));
        chrome.alarms.onAlarm.addListener(async () => {
            console.log(JSON.stringify(await chrome.storage.managed.get()));
            for (const write of [
              () => chrome.storage.managed.set({ a: 1 }),
              () => chrome.storage.managed.remove("policy"),
              () => chrome.storage.managed.clear(),
            ]) {
              await write().catch((e) => console.log(e.message));
            }
            chrome.storage.managed.set({ a: 1 }, () => console.log("callback", chrome.runtime.lastError.message));
            console.log("bytes", await chrome.storage.managed.getBytesInUse());
        });
        "#,
    );
    browser.set_managed_storage(
        &id,
        json!({"policy": "on", "level": 3})
            .as_object()
            .unwrap()
            .clone(),
    );
    run(&mut browser, &id);
    let read_only = "This is a read-only store.";
    assert_eq!(
        messages(&browser),
        [
            r#"managed changed {"level":{"newValue":3},"policy":{"newValue":"on"}}"#.to_owned(),
            "changed managed".to_owned(),
            r#"{"level":3,"policy":"on"}"#.to_owned(),
            read_only.to_owned(),
            read_only.to_owned(),
            read_only.to_owned(),
            // The callback's call was made first, and completes first.
            format!("callback {read_only}"),
            "bytes 0".to_owned(),
        ]
    );
}

#[test]
fn argument_errors_are_thrown_at_once_with_chromium_s_words() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        &on_alarm(
            r#"
            const attempts = [
              () => chrome.storage.local.get(1),
              () => chrome.storage.local.get(["a", 2]),
              () => chrome.storage.local.set("x"),
              () => chrome.storage.local.set(),
              () => chrome.storage.local.remove(),
              () => chrome.storage.local.remove({ a: 1 }),
              () => chrome.storage.sync.getBytesInUse({}),
              () => chrome.storage.local.clear(1),
              () => chrome.storage.local.getKeys(1, 2),
              () => chrome.storage.session.setAccessLevel({}),
              () => chrome.storage.session.setAccessLevel({ accessLevel: "EVERYONE" }),
              () => chrome.storage.session.setAccessLevel({ accessLevel: 1 }),
              () => chrome.storage.session.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS", other: 1 }),
            ];
            for (const attempt of attempts) {
              try {
                attempt();
                console.log("no error");
              } catch (e) {
                console.log(e.name, e.message);
              }
            }
            console.log(typeof chrome.storage.local.setAccessLevel, typeof chrome.storage.session.setAccessLevel);
            "#,
        ),
    );
    run(&mut browser, &id);
    let get = "Error in invocation of storage.get(optional [string|array|object] keys, function callback)";
    let set = "Error in invocation of storage.set(object items, optional function callback)";
    let remove =
        "Error in invocation of storage.remove([string|array] keys, optional function callback)";
    let bytes = "Error in invocation of storage.getBytesInUse(optional [string|array] keys, function callback)";
    let clear = "Error in invocation of storage.clear(optional function callback)";
    let keys = "Error in invocation of storage.getKeys(function callback)";
    let access = "Error in invocation of storage.setAccessLevel(object accessOptions, optional function callback)";
    assert_eq!(
        messages(&browser),
        [
            format!("TypeError {get}: No matching signature."),
            format!("TypeError {get}: Error at parameter 'keys': Value did not match any choice."),
            format!("TypeError {set}: No matching signature."),
            format!("TypeError {set}: No matching signature."),
            format!("TypeError {remove}: No matching signature."),
            format!("TypeError {remove}: No matching signature."),
            format!("TypeError {bytes}: No matching signature."),
            format!("TypeError {clear}: No matching signature."),
            format!("TypeError {keys}: No matching signature."),
            format!("TypeError {access}: Error at parameter 'accessOptions': Missing required property 'accessLevel'."),
            format!("TypeError {access}: Error at parameter 'accessOptions': Error at property 'accessLevel': Value must be one of TRUSTED_AND_UNTRUSTED_CONTEXTS, TRUSTED_CONTEXTS."),
            format!("TypeError {access}: Error at parameter 'accessOptions': Error at property 'accessLevel': Invalid type: expected storage.AccessLevel, found integer."),
            format!("TypeError {access}: Error at parameter 'accessOptions': Unexpected property: 'other'."),
            "undefined function".to_owned(),
        ]
    );
}

#[test]
fn each_area_has_its_own_on_changed_then_storage_on_changed_names_it() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        r#"
        for (const area of ["local", "session", "sync", "managed"]) {
          chrome.storage[area].onChanged.addListener((changes, extra) =>
            console.log(area + ".onChanged", JSON.stringify(changes), extra));
        }
        chrome.storage.onChanged.addListener((changes, area) => console.log("onChanged", area, Object.keys(changes).join()));
        chrome.alarms.onAlarm.addListener(async () => {
            await chrome.storage.local.set({ a: 1 });
            await chrome.storage.session.set({ b: 2 });
            await chrome.storage.sync.set({ c: 3 });
            await chrome.storage.sync.set({ c: 3 });
            await chrome.storage.sync.set({ c: 4 });
        });
        "#,
    );
    run(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [
            r#"local.onChanged {"a":{"newValue":1}} undefined"#,
            "onChanged local a",
            r#"session.onChanged {"b":{"newValue":2}} undefined"#,
            "onChanged session b",
            r#"sync.onChanged {"c":{"newValue":3}} undefined"#,
            "onChanged sync c",
            r#"sync.onChanged {"c":{"newValue":4,"oldValue":3}} undefined"#,
            "onChanged sync c",
        ]
    );
}

#[test]
fn set_access_level_opens_session_to_content_scripts() {
    let (mut browser, id) = browser_with(
        Browser::builder(),
        &on_alarm(
            r#"
            await chrome.storage.session.set({ s: 1 });
            await chrome.storage.session.setAccessLevel({ accessLevel: chrome.storage.AccessLevel.TRUSTED_AND_UNTRUSTED_CONTEXTS });
            chrome.storage.session.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" }, () =>
              console.log("set", chrome.runtime.lastError));
            "#,
        ),
    );
    let tab = browser.open_tab("https://example.com/").unwrap();
    let cs = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let denied = browser.block_on(cs.session_storage().get("s")).unwrap();
    assert_eq!(
        denied.map_err(|e| e.to_string()),
        Err("Access to storage is not allowed from this context.".to_owned())
    );
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(
        browser.session_access_level(&id),
        AccessLevel::TrustedContexts
    );
    assert_eq!(messages(&browser), ["set undefined"]);
    let denied = browser.block_on(cs.session_storage().get("s")).unwrap();
    assert!(
        denied.is_err(),
        "the level went back to trusted contexts only"
    );
}

#[test]
fn firefox_s_browser_storage_gives_promises() {
    let (mut browser, id) = browser_with(
        Browser::builder().profile(Profile::Firefox),
        &on_alarm(
            r#"
            const pending = browser.storage.session.set({ a: 1 }, () => console.log("not called"));
            console.log(pending instanceof Promise);
            await pending;
            console.log(JSON.stringify(await browser.storage.session.get("a")), browser.storage.sync.QUOTA_BYTES);
            await browser.storage.managed.set({ a: 1 }).catch((e) => console.log(e.message));
            "#,
        ),
    );
    run(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        ["true", r#"{"a":1} 102400"#, "This is a read-only store."]
    );
}
