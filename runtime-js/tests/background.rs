//! An extension's own JavaScript as its background page: it lives and dies by the browser's
//! rules on the virtual clock, and reaches the simulated browser through `chrome`.

use std::time::Duration;

use runtime_core::{Browser, ExtensionId, ExtensionSpec, PageState, TraceEvent, ViewKind};
use runtime_js::{JsLimits, JsScript, DEFAULT_EPOCH_MS};
use serde_json::{json, Value};

/// An installed and started browser with one event page running `source` as `bg.js`.
fn browser_with(source: &str) -> (Browser, ExtensionId) {
    browser_with_script(JsScript::new("bg.js", source))
}

fn browser_with_script(script: JsScript) -> (Browser, ExtensionId) {
    let manifest = json!({"name": "JS", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}});
    let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

fn console(browser: &Browser) -> Vec<(String, Option<String>)> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console {
                    message, location, ..
                } => Some((message.clone(), location.clone())),
                _ => None,
            })
            .collect()
    })
}

/// What the scripts wrote to the console, in order.
fn messages(browser: &Browser) -> Vec<String> {
    console(browser).into_iter().map(|(m, _)| m).collect()
}

fn stored(browser: &Browser, id: &ExtensionId, key: &str) -> Option<Value> {
    browser.storage(id).get(key).cloned()
}

#[test]
fn the_top_level_script_runs_at_each_load_and_its_listeners_get_the_waking_event() {
    let (mut browser, id) = browser_with(
        r#"
        let loads = 0;
        loads += 1;
        console.log("loaded", loads);
        chrome.runtime.onInstalled.addListener((details) => {
            console.info("reason", details.reason, details.reason === chrome.runtime.OnInstalledReason.INSTALL);
        });
        chrome.alarms.onAlarm.addListener((alarm) => console.log("alarm", alarm.name, loads));
        "#,
    );
    browser.advance(Duration::from_secs(30));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "wake"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    let lines = messages(&browser);
    // A fresh context at the second load: the global counter starts again.
    assert_eq!(
        lines,
        [
            "loaded 1",
            "reason install true",
            "loaded 1",
            "alarm wake 1"
        ]
    );
    let (_, at) = &console(&browser)[0];
    // Where console.log was called: the file and line (QuickJS's column is the call's).
    assert!(
        at.as_deref().is_some_and(|at| at.starts_with("bg.js:4:")),
        "{at:?}"
    );
}

#[test]
fn timers_run_on_the_virtual_clock_and_do_not_keep_the_page() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.runtime.onInstalled.addListener(() => {
            setTimeout((a, b) => console.log("timeout", a + b, Date.now() - START), 1500, 2, 3);
            let n = 0;
            const every = setInterval(() => { n += 1; if (n === 3) { clearInterval(every); console.log("interval done", performance.now()); } }, 1000);
            const never = setTimeout(() => console.log("cleared timer ran"), 500);
            clearTimeout(never);
            queueMicrotask(() => console.log("microtask"));
            console.log("sync");
        });
        const START = Date.now();
        "#,
    );
    browser.advance(Duration::from_secs(60));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        ["sync", "microtask", "timeout 5 1500", "interval done 3000"]
    );
    // The idle timer was not held by the timers: the page unloaded 10 s + 5 s after install.
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
}

#[test]
fn date_reads_virtual_time_and_math_random_the_seed() {
    let source = r#"
        chrome.alarms.onAlarm.addListener(() => {
            console.log(Date.now(), new Date().getTime() === Date.now(), Math.random());
        });
    "#;
    let run = || {
        let (mut browser, id) = browser_with(source);
        browser.advance(Duration::from_secs(5));
        browser
            .fire_event(&id, "alarms.onAlarm", json!({}))
            .unwrap();
        browser.advance(Duration::ZERO);
        console(&browser)[0].0.clone()
    };
    let first = run();
    let parts: Vec<&str> = first.split(' ').collect();
    assert_eq!(parts[0], format!("{}", DEFAULT_EPOCH_MS as u64 + 5000));
    assert_eq!(parts[1], "true");
    let random: f64 = parts[2].parse().unwrap();
    assert!((0.0..1.0).contains(&random));
    assert_eq!(run(), first, "the same seed gives the same numbers");
}

#[test]
fn messages_are_answered_by_send_response_by_true_and_by_a_promise() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
            if (message.kind === "now") { sendResponse({ echo: message.n, from: sender.id === chrome.runtime.id }); return; }
            if (message.kind === "later") { setTimeout(() => sendResponse("late"), 2000); return true; }
            if (message.kind === "promise") return Promise.resolve({ value: message.n * 2 });
            if (message.kind === "reject") return Promise.reject(new Error("no such thing"));
        });
        "#,
    );
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    let ask = |browser: &mut Browser, message: Value| {
        let reply = popup.send_message(&message);
        browser.block_on(reply).unwrap()
    };
    assert_eq!(
        ask(&mut browser, json!({"kind": "now", "n": 7})).unwrap(),
        Some(json!({"echo": 7, "from": true}))
    );
    let before = browser.now();
    assert_eq!(
        ask(&mut browser, json!({"kind": "later"})).unwrap(),
        Some(json!("late"))
    );
    assert_eq!(browser.now() - before, Duration::from_secs(2));
    assert_eq!(
        ask(&mut browser, json!({"kind": "promise", "n": 21})).unwrap(),
        Some(json!({"value": 42}))
    );
    // A listener's promise that rejects with an Error: the sender's error reads as an
    // uncaught exception does in Chromium 148 (conformance/goldens/chromium-mv3.json).
    let rejected = ask(&mut browser, json!({"kind": "reject"})).unwrap_err();
    assert_eq!(rejected.to_string(), "Uncaught Error: no such thing");
}

#[test]
fn send_message_from_javascript_in_both_forms_and_last_error() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.alarms.onAlarm.addListener(async () => {
            chrome.runtime.sendMessage({ hello: 1 }, (response) => {
                console.log("callback", response === undefined || response === null, chrome.runtime.lastError.message);
            });
            try {
                await chrome.runtime.sendMessage({ hello: 2 });
            } catch (e) {
                console.log("rejected", e.message);
            }
            chrome.runtime.sendMessage({ hello: 3 }, () => {});
        });
        "#,
    );
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    let none = "Could not establish connection. Receiving end does not exist.";
    assert_eq!(
        lines,
        [format!("callback true {none}"), format!("rejected {none}")]
    );
    // The third callback did not read lastError: the browser says so.
    let unchecked = browser.with_trace(|t| {
        t.entries()
            .filter(|e| matches!(&e.event, TraceEvent::UncheckedLastError { message } if message == none))
            .count()
    });
    assert_eq!(unchecked, 1);
}

#[test]
fn storage_survives_the_page_and_globals_do_not() {
    let (mut browser, id) = browser_with(
        r#"
        let seen = (globalThis.seen || 0) + 1;
        globalThis.seen = seen;
        chrome.alarms.onAlarm.addListener(async () => {
            const { count } = await chrome.storage.local.get({ count: 0 });
            await chrome.storage.local.set({ count: count + 1, seen });
        });
        "#,
    );
    for _ in 0..3 {
        browser
            .fire_event(&id, "alarms.onAlarm", json!({}))
            .unwrap();
        browser.advance(Duration::from_secs(60));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    }
    assert_eq!(stored(&browser, &id, "count"), Some(json!(3)));
    assert_eq!(stored(&browser, &id, "seen"), Some(json!(1)));
}

/// A listener added after the top-level script (here, in a timer) is late: the event that
/// wakes the page is dispatched before it exists, as in Chromium.
#[test]
fn a_listener_added_in_a_timer_misses_the_waking_event() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.runtime.onInstalled.addListener(() => {});
        setTimeout(() => chrome.alarms.onAlarm.addListener(() => console.log("late listener ran")), 0);
        "#,
    );
    browser.advance(Duration::from_secs(60));
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let missed = browser.with_trace(|t| {
        t.entries()
            .any(|e| matches!(&e.event, TraceEvent::EventMissed { event, .. } if *event == "alarms.onAlarm"))
    });
    assert!(missed, "{}", browser.trace().timeline());
    assert!(console(&browser).is_empty());
    // The trace names where the late listener was added.
    let added_at = browser.with_trace(|t| {
        t.entries().find_map(|e| match &e.event {
            TraceEvent::LateListener { added_at, .. } => added_at.clone(),
            _ => None,
        })
    });
    assert!(
        added_at
            .as_deref()
            .is_some_and(|at| at.starts_with("bg.js:3:")),
        "{added_at:?}"
    );
}

#[test]
fn errors_are_the_consoles_and_runaway_code_is_stopped() {
    let script = JsScript::new(
        "bg.js",
        r#"
        chrome.alarms.onAlarm.addListener((alarm) => {
            if (alarm.name === "loop") { for (;;) {} }
            throw new TypeError("bad alarm " + alarm.name);
        });
        chrome.runtime.onInstalled.addListener(() => { fetch("https://example.com/"); });
        "#,
    )
    .limits(JsLimits {
        interrupt_budget: 1_000,
        ..JsLimits::default()
    });
    let (mut browser, id) = browser_with_script(script);
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "x"}))
        .unwrap();
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "loop"}))
        .unwrap();
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "y"}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let failures: Vec<String> = browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::ListenerFailed { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    });
    assert_eq!(failures.len(), 4, "{failures:?}");
    assert!(
        failures[0].starts_with("TypeError: fetch is not simulated by runtime-sim"),
        "{failures:?}"
    );
    assert!(
        failures[1].starts_with("TypeError: bad alarm x (bg.js:4:"),
        "{failures:?}"
    );
    assert!(failures[2].contains("interrupted"), "{failures:?}");
    assert!(
        failures[3].starts_with("TypeError: bad alarm y"),
        "{failures:?}"
    );
}

fn script_failure(browser: &Browser) -> Option<String> {
    browser.with_trace(|t| {
        t.entries().find_map(|e| match &e.event {
            TraceEvent::ScriptFailed { message } => Some(message.clone()),
            _ => None,
        })
    })
}

/// A background page's scripts run as a document's `<script>` elements do: one that throws at
/// its top level is reported with where, and the next one runs; the page loads and what the
/// first registered before throwing still listens. (Before, the first uncaught error failed
/// the whole page load, where Chromium goes on.)
#[test]
fn an_uncaught_error_in_a_background_pages_script_is_reported_and_the_next_runs() {
    let script = JsScript::new(
        "bg.js",
        "chrome.alarms.onAlarm.addListener((a) => console.log('alarm', a.name));\nnull.boom;\n",
    )
    .file("second.js", "console.log('second ran');");
    let manifest = json!({"name": "JS", "version": "1.0",
        "background": {"scripts": ["bg.js", "second.js"], "persistent": false}});
    let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
    let mut browser = Browser::builder().build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    browser
        .fire_event(&id, "alarms.onAlarm", json!({"name": "x"}))
        .unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(script_failure(&browser), None);
    let logged = messages(&browser);
    assert!(
        logged[0].starts_with("Uncaught TypeError: cannot read property 'boom' of null (bg.js:2"),
        "{logged:?}"
    );
    assert_eq!(logged[1..], ["second ran", "alarm x"]);
}

/// A service worker whose script throws at its top level fails to start.
#[test]
fn an_uncaught_error_at_a_workers_top_level_fails_its_start() {
    let script = JsScript::new("sw.js", "const x = 1;\nnull.boom;\n");
    let manifest = json!({"name": "JS", "version": "1.0", "manifest_version": 3,
        "background": {"service_worker": "sw.js"}});
    let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
    let mut browser = Browser::builder().build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    let failed = script_failure(&browser).expect("the start failed");
    assert!(
        failed.starts_with("Uncaught TypeError: cannot read property 'boom' of null (sw.js:2"),
        "{failed}"
    );
}

/// The engine's own failure at a background page's top level (here the interrupt budget of a
/// script that never ends) fails the load, as a page that crashed.
#[test]
fn a_runaway_top_level_fails_the_background_pages_load() {
    let script = JsScript::new("bg.js", "for (;;) {}").limits(JsLimits {
        interrupt_budget: 1_000,
        ..JsLimits::default()
    });
    let (browser, _id) = browser_with_script(script);
    let failed = script_failure(&browser).expect("the load failed");
    assert!(failed.starts_with("Uncaught InternalError"), "{failed}");
}

/// Ports between two contexts of JavaScript: the popup connects, the event page answers on
/// the port, the popup disconnects and the page's onDisconnect runs; a post on a disconnected
/// port throws the browser's error.
#[test]
fn ports_carry_messages_both_ways_and_tell_the_disconnect() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.runtime.onConnect.addListener((port) => {
            console.log("connected", port.name, port.sender.id === chrome.runtime.id);
            port.onMessage.addListener((message, p) => {
                p.postMessage({ got: message.n, same: p === port });
            });
            port.onDisconnect.addListener(() => {
                console.log("disconnected", chrome.runtime.lastError === undefined);
                try { port.postMessage(1); } catch (e) { console.log("post after:", e.message); }
            });
        });
        "#,
    );
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    let port = popup.connect("chat").unwrap();
    let answers = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = std::rc::Rc::clone(&answers);
    port.on_message()
        .add_listener(move |(message, _): (Value, runtime_core::Port)| {
            seen.borrow_mut().push(message)
        });
    port.post_message(&json!({"n": 1})).unwrap();
    port.post_message(&json!({"n": 2})).unwrap();
    browser.advance(Duration::from_secs(1));
    assert_eq!(
        *answers.borrow(),
        [
            json!({"got": 1, "same": true}),
            json!({"got": 2, "same": true})
        ]
    );
    port.disconnect();
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        [
            "connected chat true",
            "disconnected true",
            "post after: Attempting to use a disconnected port object"
        ]
    );
}

/// The page connects, and no context of the extension listens to onConnect: the port's
/// onDisconnect runs with lastError set, as in Chromium.
#[test]
fn a_port_with_no_receiver_disconnects_with_last_error() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.alarms.onAlarm.addListener(() => {
            const port = chrome.runtime.connect({ name: "nobody" });
            port.onDisconnect.addListener(() => console.log(port.name, chrome.runtime.lastError.message));
        });
        "#,
    );
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        ["nobody Could not establish connection. Receiving end does not exist."]
    );
}

/// A browser dropped while JavaScript still holds open ports, timers and listeners frees
/// every context and engine cleanly. Regression guard: QuickJS aborts the process if an
/// object of a runtime outlives it.
#[test]
fn a_browser_dropped_with_open_ports_and_timers_frees_its_engines() {
    for _ in 0..3 {
        let (mut browser, id) = browser_with(
            r#"
            chrome.runtime.onConnect.addListener((port) => {
                port.onMessage.addListener((m) => port.postMessage(m));
                setInterval(() => port.postMessage("tick"), 1000);
            });
            "#,
        );
        let view = browser
            .open_view(&id, ViewKind::Popup, "popup.html")
            .unwrap();
        let popup = browser.view_runtime(&id, view).unwrap();
        let port = popup.connect("open").unwrap();
        port.post_message(&json!("hi")).unwrap();
        browser.advance(Duration::from_secs(3));
        drop(browser);
        drop(port);
    }
}

/// Firefox has the promise-based `browser` namespace beside `chrome`; Chrome has no `browser`.
#[test]
fn firefox_has_the_browser_namespace_and_chrome_does_not() {
    let source = r#"
        chrome.runtime.onInstalled.addListener(async () => {
            console.log(typeof browser);
            if (typeof browser === "object") {
                await browser.storage.local.set({ via: "browser" });
                const { via } = await browser.storage.local.get("via");
                console.log(via, browser.runtime.id === chrome.runtime.id);
            }
        });
    "#;
    for (profile, expected) in [
        (runtime_core::Profile::ChromeMv2, vec!["undefined"]),
        (
            runtime_core::Profile::Firefox,
            vec!["object", "browser true"],
        ),
    ] {
        let manifest = json!({"name": "JS", "version": "1.0",
            "browser_specific_settings": {"gecko": {"id": "js@example.org"}},
            "background": {"scripts": ["bg.js"], "persistent": false}});
        let spec = ExtensionSpec::from_json(manifest)
            .unwrap()
            .script(JsScript::new("bg.js", source));
        let mut browser = Browser::builder().profile(profile).build();
        browser.install(spec).unwrap();
        browser.start();
        browser.advance(Duration::from_secs(1));
        let lines = messages(&browser);
        assert_eq!(lines, expected, "{profile:?}");
    }
}

/// `storage.local.get`, `set` and `remove` of many keys are one API call each, as in the
/// browser; `get()` and `get(null)` give every item, and defaults fill what is missing.
#[test]
fn storage_calls_take_many_keys_in_one_call() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.alarms.onAlarm.addListener(async () => {
            await chrome.storage.local.set({ a: 1, b: [2], c: { d: 3 } });
            await chrome.storage.local.remove(["b"]);
            console.log(JSON.stringify(await chrome.storage.local.get()));
            console.log(JSON.stringify(await chrome.storage.local.get(["a", "b"])));
            console.log(JSON.stringify(await chrome.storage.local.get({ b: "default", c: null })));
            chrome.storage.local.get("a", (items) => console.log("callback", items.a));
        });
        "#,
    );
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        [
            r#"{"a":1,"c":{"d":3}}"#,
            r#"{"a":1}"#,
            // The browser's dictionaries keep their keys in order.
            r#"{"b":"default","c":{"d":3}}"#,
            "callback 1"
        ]
    );
    let calls = browser.with_trace(|t| {
        t.entries()
            .filter(|e| matches!(e.event, TraceEvent::ApiCall { .. }))
            .count()
    });
    assert_eq!(calls, 6, "{}", browser.trace().timeline());
}

/// The web platform's small globals an extension expects: base64, UTF-8, structuredClone,
/// crypto.getRandomValues (from the seed); and the first touch of a namespace the simulator
/// does not provide is noted in the trace, while the namespace is undefined.
#[test]
fn web_globals_and_namespaces_not_simulated() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.alarms.onAlarm.addListener(() => {
            console.log(btoa("hello"), atob("aGVsbG8="), atob(btoa("\u00ff\u0000x")) === "\u00ff\u0000x");
            try { btoa("€"); } catch (e) { console.log(e.name); }
            const bytes = new TextEncoder().encode("aé€😀");
            console.log(bytes.length, new TextDecoder().decode(bytes), new TextDecoder().decode(new Uint8Array([0xff, 0x61])));
            const a = { d: new Date(5), m: new Map([[1, [2]]]), s: new Set(["x"]), u: new Uint8Array([1, 2]) };
            a.self = a;
            const b = structuredClone(a);
            console.log(b !== a, b.self === b, b.d.getTime(), b.m.get(1)[0], b.s.has("x"), b.u[1], b.m.get(1) !== a.m.get(1));
            try { structuredClone(() => 1); } catch (e) { console.log(e.name); }
            const random = crypto.getRandomValues(new Uint8Array(8));
            console.log(random.length, random.some((x) => x !== 0));
            console.log(typeof chrome.bookmarks, typeof chrome.bookmarks);
        });
        "#,
    );
    browser
        .fire_event(&id, "alarms.onAlarm", json!({}))
        .unwrap();
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        [
            "aGVsbG8= hello true",
            "InvalidCharacterError",
            "10 aé€😀 \u{fffd}a",
            "true true 5 2 true 2 true",
            "DataCloneError",
            "8 true",
            "undefined undefined",
        ]
    );
    let noted: Vec<String> = browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Warning { message } if message.contains("not simulated") => {
                    Some(message.clone())
                }
                _ => None,
            })
            .collect()
    });
    assert_eq!(noted.len(), 1, "{noted:?}");
    assert!(
        noted[0].starts_with(
            "chrome.bookmarks is not simulated by runtime-sim: it is undefined here (bg.js:"
        ),
        "{noted:?}"
    );
}

/// `chrome.alarms` on the virtual clock: an alarm outlives the page and wakes it; a periodic
/// one fires again; clear stops it; delays under Chromium's minimum (1 s unpacked) are raised
/// to it; the browser's errors for a wrong create.
#[test]
fn alarms_wake_the_page_on_the_virtual_clock() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.runtime.onInstalled.addListener(async () => {
            await chrome.alarms.create("once", { delayInMinutes: 1 });
            await chrome.alarms.create("tick", { delayInMinutes: 0.001, periodInMinutes: 2 });
            const once = await chrome.alarms.get("once");
            console.log("once at", once.scheduledTime - Date.now(), (await chrome.alarms.getAll()).length);
            try { await chrome.alarms.create("bad", { when: 1, delayInMinutes: 1 }); } catch (e) { console.log(e.message); }
            try { await chrome.alarms.create("none", {}); } catch (e) { console.log(e.message); }
        });
        chrome.alarms.onAlarm.addListener(async (alarm) => {
            console.log("alarm", alarm.name, Math.round((Date.now() - alarm.scheduledTime) / 1000));
            if (alarm.name !== "tick") return;
            const { ticks = 0 } = await chrome.storage.local.get("ticks");
            await chrome.storage.local.set({ ticks: ticks + 1 });
            if (ticks + 1 === 3) {
                console.log("cleared", await chrome.alarms.clear("tick"), await chrome.alarms.get("tick"));
            }
        });
        "#,
    );
    browser.advance(Duration::from_secs(10 * 60));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        [
            "once at 60000 2",
            "Cannot set both when and delayInMinutes.",
            "Must set at least one of when, delayInMinutes, or periodInMinutes.",
            // 0.001 min is under the unpacked minimum of 1 s: it fires after 1 s.
            "alarm tick 0",
            "alarm once 0",
            "alarm tick 0",
            "alarm tick 0",
            "cleared true undefined",
        ]
    );
    // The first tick (1 s) came while the install's load was active; each later alarm found
    // the page unloaded and loaded it: 1 + 3 loads.
    let loads = browser.extension(&id).unwrap().page_loads;
    assert_eq!(loads, 4, "{}", browser.trace().timeline());
}

/// A packed Manifest V3 extension's alarms are at least 30 s apart, and a packed MV2 one's
/// 1 min (Chromium's `alarms_api_constants`), whatever the script asks.
#[test]
fn packed_extensions_get_chromiums_alarm_minimums() {
    for (manifest_version, expected) in [(3, 30_000), (2, 60_000)] {
        let mut manifest =
            json!({"name": "Packed", "version": "1.0", "manifest_version": manifest_version});
        manifest["background"] = if manifest_version == 3 {
            json!({"service_worker": "sw.js"})
        } else {
            json!({"scripts": ["bg.js"], "persistent": false})
        };
        let script = JsScript::new(
            "bg.js",
            r#"chrome.runtime.onInstalled.addListener(async () => {
                await chrome.alarms.create("fast", { delayInMinutes: 0.01, periodInMinutes: 0.01 });
                const alarm = await chrome.alarms.get("fast");
                console.log(alarm.scheduledTime - Date.now(), alarm.periodInMinutes * 60000);
            });"#,
        );
        let spec = ExtensionSpec::from_json(manifest)
            .unwrap()
            .location(runtime_core::Location::Packed)
            .script(script);
        let profile = if manifest_version == 3 {
            runtime_core::Profile::ChromeMv3
        } else {
            runtime_core::Profile::ChromeMv2
        };
        let mut browser = Browser::builder().profile(profile).build();
        browser.install(spec).unwrap();
        browser.start();
        browser.advance(Duration::from_secs(1));
        let lines = messages(&browser);
        assert_eq!(
            lines,
            [format!("{expected} {expected}")],
            "MV{manifest_version}"
        );
    }
}

/// `storage.onChanged` and `storage.local.onChanged` get the keys whose value changed, with
/// old and new values (the area's own event first, each change's keys in the browser's
/// dictionary order); a write that changes nothing fires nothing; a change wakes an unloaded
/// page that listened.
#[test]
fn storage_changes_reach_on_changed_and_wake_the_page() {
    let (mut browser, id) = browser_with(
        r#"
        chrome.storage.onChanged.addListener((changes, area) => console.log("changed", area, JSON.stringify(changes)));
        chrome.storage.local.onChanged.addListener((changes) => console.log("local", Object.keys(changes).join()));
        chrome.runtime.onInstalled.addListener(async () => {
            await chrome.storage.local.set({ a: 1, b: 2 });
            await chrome.storage.local.set({ a: 1 });
            await chrome.storage.local.set({ a: 3 });
            await chrome.storage.local.remove(["b", "missing"]);
        });
        chrome.alarms.onAlarm.addListener(() => chrome.storage.local.set({ woke: true }));
        "#,
    );
    browser.advance(Duration::from_secs(1));
    let lines = messages(&browser);
    assert_eq!(
        lines,
        [
            "local a,b",
            r#"changed local {"a":{"newValue":1},"b":{"newValue":2}}"#,
            "local a",
            r#"changed local {"a":{"newValue":3,"oldValue":1}}"#,
            "local b",
            r#"changed local {"b":{"oldValue":2}}"#,
        ]
    );
    // Unloaded, the page is woken by a change made by another context of the extension.
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let popup = browser.view_runtime(&id, view).unwrap();
    let storage = popup.storage();
    let write = storage.set("from_popup", json!(1));
    browser.block_on(write).unwrap().unwrap();
    browser.advance(Duration::from_secs(1));
    let last = console(&browser).last().cloned().unwrap().0;
    assert_eq!(last, r#"changed local {"from_popup":{"newValue":1}}"#);
    assert_eq!(browser.extension(&id).unwrap().page_loads, 2);
}
