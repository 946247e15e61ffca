//! Figures 8a–8d: extensions' own JavaScript (runtime-js) — a page load beside making an empty
//! QuickJS context, a one-time message round trip between two JavaScript backgrounds beside
//! the same between two Rust scripts, and resident memory per suspended and per loaded
//! JavaScript extension with 10 000 installed.
//!
//! The memory figures run in a child process (this executable with [`ROLE`]` = js-scale`), as
//! figure 5 does, so that what the report did before does not hide or inflate them.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use runtime_js::{live_engines, JsScript};
use runtime_sim::{script_fn, Browser, ExtensionId, ExtensionSpec, PageState};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::measure::{best_of, per_second, Mode};
use crate::memory::Memory;
use crate::scale::ROLE;
use crate::table::{Figure, Goal, Quantity};

const EXTENSIONS: &str = "RUNTIME_SIM_BENCH_JS_EXTENSIONS";

/// Idle delay (10 s) and suspending window (5 s), and a second more.
const TO_UNLOADED: Duration = Duration::from_secs(16);

/// A background script of about 50 KB: 300 small functions, each registered on a table, and
/// a listener for the event that wakes the page.
fn fifty_kb_script() -> String {
    let mut source = String::from("const table = {};\n");
    for i in 0..300 {
        source.push_str(&format!(
            "function handler{i}(message) {{\n  const n = (message && message.n) || {i};\n  return {{ handled: {i}, twice: n * 2, text: `handler {i} saw ${{n}}` }};\n}}\ntable['h{i}'] = handler{i};\n"
        ));
    }
    source.push_str(
        "chrome.alarms.onAlarm.addListener((alarm) => table.h1({ n: alarm.name.length }));\n",
    );
    source
}

fn event_page(name: &str, source: &str) -> ExtensionSpec {
    ExtensionSpec::from_json(json!({
        "name": name, "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}
    }))
    .expect("manifest")
    .script(JsScript::new("bg.js", source))
}

/// `n` loads of a page running the 50 KB script: each an alarm that finds the page unloaded
/// (timed: the page is made, its script runs, the event is dispatched), then 16 s to unload
/// it (not timed).
fn page_loads(n: u64) -> Duration {
    let source = fifty_kb_script();
    let mut browser = Browser::builder().build();
    let id = browser
        .install(event_page("big", &source))
        .expect("install");
    browser.start();
    browser.advance(TO_UNLOADED);
    let mut timed = Duration::ZERO;
    for _ in 0..n {
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
        let start = Instant::now();
        browser
            .fire_event(&id, "alarms.onAlarm", json!({"name": "wake"}))
            .expect("fire");
        browser.advance(Duration::ZERO);
        timed += start.elapsed();
        browser.advance(TO_UNLOADED);
    }
    timed
}

/// `n` empty QuickJS contexts, each made and dropped, in one runtime.
fn empty_contexts(n: u64) -> Duration {
    let runtime = rquickjs::Runtime::new().expect("QuickJS");
    let start = Instant::now();
    for _ in 0..n {
        let context = rquickjs::Context::full(&runtime).expect("a context");
        drop(std::hint::black_box(context));
    }
    start.elapsed()
}

/// Two extensions whose backgrounds are kept active: `sender` sends `n` one-time messages to
/// `echo`, each after the answer to the one before, when an alarm starts it; it stores
/// `done` at the end. Gives the time from the alarm to `done`.
fn round_trips(sender: ExtensionSpec, echo: ExtensionSpec) -> Duration {
    let mut browser = Browser::builder().build();
    let echo_id = browser.install(echo).expect("install echo");
    let sender_id = browser.install(sender).expect("install sender");
    browser.start();
    browser.advance(Duration::ZERO);
    let _keep_echo = browser.keepalive(&echo_id, "bench").expect("keepalive");
    let _keep_sender = browser.keepalive(&sender_id, "bench").expect("keepalive");
    browser.advance(Duration::ZERO);
    let start = Instant::now();
    browser
        .fire_event(
            &sender_id,
            "alarms.onAlarm",
            json!({"name": echo_id.to_string()}),
        )
        .expect("fire");
    browser.advance(Duration::ZERO);
    let elapsed = start.elapsed();
    assert_eq!(
        browser.storage(&sender_id).get("done"),
        Some(&json!(true)),
        "every round trip finished within the step"
    );
    elapsed
}

fn js_round_trips(n: u64) -> Duration {
    let echo = event_page(
        "echo",
        "chrome.runtime.onMessageExternal.addListener((m, sender, reply) => { reply(m); });",
    );
    let sender = event_page(
        "sender",
        &format!(
            "chrome.alarms.onAlarm.addListener(async (alarm) => {{
               for (let i = 0; i < {n}; i++) {{
                 await chrome.runtime.sendMessage(alarm.name, {{ n: i }});
               }}
               await chrome.storage.local.set({{ done: true }});
             }});"
        ),
    );
    round_trips(sender, echo)
}

fn rust_round_trips(n: u64) -> Duration {
    let spec = |name: &str| {
        ExtensionSpec::from_json(json!({
            "name": name, "version": "1.0",
            "background": {"scripts": ["bg.js"], "persistent": false}
        }))
        .expect("manifest")
    };
    let echo = spec("echo").script(script_fn(|rt| async move {
        rt.on_message_external()
            .add_listener(|m: runtime_sim::OnMessage| {
                m.respond(&m.message);
            });
        Ok(())
    }));
    let sender = spec("sender").script(script_fn(move |rt| async move {
        let runtime = rt.clone();
        rt.event("alarms.onAlarm")
            .add_async_listener(move |alarm: serde_json::Value| {
                let rt = runtime.clone();
                async move {
                    let to = alarm["name"].as_str().unwrap_or_default().to_owned();
                    for i in 0..n {
                        rt.send_message_to(&to, &json!({"n": i}))
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    rt.storage()
                        .set("done", json!(true))
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<(), String>(())
                }
            });
        Ok(())
    }));
    round_trips(sender, echo)
}

/// What the memory child measured.
#[derive(Debug, Serialize, Deserialize)]
struct Scaled {
    extensions: usize,
    /// How many pages were woken for `loaded`.
    woken: usize,
    empty: Memory,
    specs: Memory,
    loaded: Memory,
    suspended: Memory,
    engines_loaded: usize,
    engines_suspended: usize,
}

/// When this executable was started as the JavaScript memory child: runs it, prints its
/// measurements as JSON on stdout and gives the exit code; otherwise `None`.
pub fn child_if_asked() -> Option<ExitCode> {
    if std::env::var(ROLE).ok()? != "js-scale" {
        return None;
    }
    let Some(extensions) = std::env::var(EXTENSIONS).ok().and_then(|n| n.parse().ok()) else {
        eprintln!("{EXTENSIONS} must be a number");
        return Some(ExitCode::FAILURE);
    };
    let scaled = child(extensions);
    println!("{}", serde_json::to_string(&scaled).expect("json"));
    Some(ExitCode::SUCCESS)
}

/// The source every extension of the memory figures runs: a listener for the event that
/// wakes it, and one for messages.
const SMALL_SCRIPT: &str = "let seen = 0;
chrome.alarms.onAlarm.addListener(() => { seen += 1; });
chrome.runtime.onMessage.addListener((m, s, reply) => { reply(seen); });
";

/// How many pages of the memory child wake at once for the loaded-page figure.
const WOKEN: usize = 1_000;

fn child(extensions: usize) -> Scaled {
    let mut browser = Browser::builder().build();
    browser.start();
    let empty = Memory::now();
    let specs: Vec<_> = (0..extensions)
        .map(|i| event_page(&format!("extension-{i}"), SMALL_SCRIPT))
        .collect();
    let specs_memory = Memory::now();
    // Installed one after another, as a browser gets them: each page loads for onInstalled,
    // idles and is unloaded before the next comes.
    let mut ids: Vec<ExtensionId> = Vec::with_capacity(extensions);
    for spec in specs {
        ids.push(browser.install(spec).expect("install"));
        browser.advance(TO_UNLOADED);
    }
    assert!(ids
        .iter()
        .all(|id| browser.page_state(id) == Some(PageState::Unloaded)));
    let suspended = Memory::now();
    let engines_suspended = live_engines();
    // Then some of them are woken at once.
    let woken = WOKEN.min(extensions);
    for id in &ids[..woken] {
        browser
            .fire_event(id, "alarms.onAlarm", json!({"name": "wake"}))
            .expect("fire");
    }
    browser.advance(Duration::ZERO);
    let loaded = Memory::now();
    Scaled {
        extensions,
        woken,
        empty,
        specs: specs_memory,
        loaded,
        suspended,
        engines_loaded: live_engines(),
        engines_suspended,
    }
}

fn run_child(extensions: u64) -> Scaled {
    let output = Command::new(std::env::current_exe().expect("the report's own path"))
        .env(ROLE, "js-scale")
        .env(EXTENSIONS, extensions.to_string())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("the JavaScript memory child starts");
    assert!(
        output.status.success(),
        "the JavaScript memory child failed"
    );
    serde_json::from_slice(&output.stdout).expect("the child's measurements")
}

/// Figures 8a–8d.
pub fn figures(mode: Mode) -> Vec<Figure> {
    let loads = mode.ops(200, 10);
    let contexts = mode.ops(2_000, 50);
    let (empty, load) = best_of(mode, || empty_contexts(contexts), || page_loads(loads));
    let trips = mode.ops(20_000, 500);
    let (rust, js) = best_of(mode, || rust_round_trips(trips), || js_round_trips(trips));
    let extensions = if mode.quick { 200 } else { 10_000 };
    let s = run_child(extensions);
    let n = s.extensions as f64;
    let rss = |m: Memory| m.rss.saturating_sub(s.empty.rss) as f64 / n;
    let load_us = load.as_secs_f64() * 1e6 / loads as f64;
    let empty_us = empty.as_secs_f64() * 1e6 / contexts as f64;
    vec![
        Figure::new(
            "8a",
            format!(
                "a JavaScript page load: a context made and a {} KB background script run",
                fifty_kb_script().len() / 1000
            ),
            Quantity::new("page load (event fired at an unloaded page)", load_us, "µs"),
            Quantity::new("an empty QuickJS context made and dropped", empty_us, "µs"),
        ),
        Figure::new(
            "8b",
            "one-time message round trip between two JavaScript backgrounds (await sendMessage → reply)",
            Quantity::new("JavaScript → JavaScript", per_second(trips, js), "round trips/s"),
            Quantity::new("the same between two Rust scripts", per_second(trips, rust), "round trips/s"),
        )
        .goal(Goal::ratio_at_least(0.3)),
        Figure::new(
            "8c",
            format!("{extensions} JavaScript extensions with event pages: resident memory per suspended extension, trace included"),
            Quantity::new("RSS growth / extensions", rss(s.suspended), "B"),
            Quantity::new(format!("{extensions} specs with their scripts in a Vec, no browser"), rss(s.specs), "B"),
        )
        .goal(Goal::measured_at_most(8192.0))
        .note(format!(
            "installed one after another, each page loaded for onInstalled and unloaded before the next; live QuickJS engines then: {}",
            s.engines_suspended
        )),
        Figure::new(
            "8d",
            format!("{} of the {extensions} JavaScript event pages woken at once: resident memory per loaded page", s.woken),
            Quantity::new(
                "RSS growth when they load / pages",
                s.loaded.rss.saturating_sub(s.suspended.rss) as f64 / s.woken.max(1) as f64,
                "B",
            ),
            Quantity::new("the same extension suspended (8c)", rss(s.suspended), "B"),
        )
        .note(format!("live QuickJS engines with them loaded: {}", s.engines_loaded)),
    ]
}
