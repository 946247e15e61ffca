//! One extension, three browsers: the same timeline under `chrome-mv2`, `chrome-mv3` and
//! `firefox`, and what each browser did, side by side.
//!
//! Run with `cargo run --example profiles_side_by_side`. The extension registers `onSuspend`,
//! starts a 45 s timer, and at 20 s a popup opens a port and posts one message; at 40 s the
//! popup closes. Chrome's event page has already unloaded at 15 s (10 s idle, 5 s window); the
//! port wakes it and keeps it until the popup closes, 15 s before it unloads again. The MV3
//! service worker (30 s idle) is kept only by the message and stops 30 s after it, with no
//! `onSuspend`. Firefox's page (30 s idle) ignores the port, resets its idle timer on the
//! message, awaits `onSuspend` and stops with no 5 s window. Nobody waits for the timer.

use std::time::Duration;

use runtime_sim::{
    script_fn, Browser, ExtensionSpec, PageState, Port, Profile, Runtime, TraceEvent, ViewKind,
};
use serde_json::json;

/// Runs the timeline under `profile`; gives one line per thing worth comparing.
fn run(profile: Profile) -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let script = script_fn(|rt: Runtime| async move {
        rt.on_suspend().add_listener(|()| {});
        rt.on_connect().add_listener(|_port: Port| {});
        let timer = rt.clone();
        rt.spawn(async move { timer.sleep(Duration::from_secs(45)).await });
        Ok(())
    });
    let spec = ExtensionSpec::from_json(json!({
        "name": "Compared", "version": "1.0",
        "background": {"scripts": ["background.js"], "persistent": false}
    }))?
    .script(script);
    let mut browser = Browser::builder().profile(profile).build();
    let id = browser.install(spec)?;
    browser.start();
    browser.advance(Duration::from_secs(20));
    let mut lines = vec![format!(
        "page at 20 s: {}",
        browser.page_state(&id).map_or("-", PageState::as_str)
    )];
    let view = browser.open_view(&id, ViewKind::Popup, "popup.html")?;
    let popup = browser.view_runtime(&id, view).expect("open");
    let port = popup.connect("compare")?;
    port.post_message(&json!("hello"))?;
    browser.advance(Duration::from_secs(20));
    browser.close_view(&id, view);
    browser.advance(Duration::from_secs(60));
    let trace = browser.trace();
    let at = |pick: &dyn Fn(&TraceEvent) -> bool| -> String {
        let times: Vec<String> = trace
            .entries()
            .filter(|e| pick(&e.event))
            .map(|e| format!("{:.1} s", e.at.as_millis() as f64 / 1000.0))
            .collect();
        if times.is_empty() {
            "never".into()
        } else {
            times.join(", ")
        }
    };
    lines.push(format!(
        "onSuspend: {}",
        at(&|e| matches!(e, TraceEvent::EventDispatched { event, .. } if event == "runtime.onSuspend"))
    ));
    lines.push(format!(
        "stopped: {}",
        at(&|e| matches!(e, TraceEvent::Lifecycle { to: PageState::Unloaded, from, .. } if *from != PageState::Unloaded))
    ));
    lines.push(format!(
        "popup's port closed: {}",
        at(&|e| matches!(e, TraceEvent::ChannelClosed { .. }))
    ));
    lines.push(format!(
        "getURL: {}",
        popup.get_url("x.html").split("//").next().unwrap_or("")
    ));
    Ok(lines)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let columns: Vec<(Profile, Vec<String>)> = Profile::ALL
        .into_iter()
        .map(|p| run(p).map(|lines| (p, lines)))
        .collect::<Result<_, _>>()?;
    let width = 34;
    for (profile, _) in &columns {
        print!("{:<width$}", profile.as_str());
    }
    println!();
    let rows = columns.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
    for row in 0..rows {
        for (_, lines) in &columns {
            print!("{:<width$}", lines.get(row).map_or("", String::as_str));
        }
        println!();
    }
    Ok(())
}
