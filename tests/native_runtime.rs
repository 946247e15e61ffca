//! Native messaging from extensions: `connectNative` ports and `sendNativeMessage` against real
//! host processes, joined to the virtual clock.

use std::cell::RefCell;
use std::os::unix::fs::PermissionsExt;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::channel::mpsc;
use futures::StreamExt;
use runtime_sim::native::{BrowserKind, Launcher, Lookup};
use runtime_sim::{
    script_fn, Browser, ConnectNativeError, ExtensionId, ExtensionSpec, PageState, Port, Runtime,
    SendNativeMessageError, TraceEvent,
};
use serde_json::{json, Value};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_runtime-sim");
const HOST: &str = "com.example.host";

/// An event page with (or without) the `nativeMessaging` permission; its script keeps its
/// `runtime` where the test can reach it.
fn spec(permission: bool, slot: Rc<RefCell<Option<Runtime>>>) -> ExtensionSpec {
    let permissions: Vec<&str> = if permission {
        vec!["nativeMessaging"]
    } else {
        vec![]
    };
    ExtensionSpec::from_json(json!({
        "name": "Native", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false},
        "permissions": permissions
    }))
    .unwrap()
    .script(script_fn(move |rt| {
        let slot = slot.clone();
        async move {
            *slot.borrow_mut() = Some(rt);
            Ok(())
        }
    }))
}

/// Installs a host named [`HOST`] whose executable runs `body` (a shell script), allowed for
/// `ext`; gives the folder and a launcher that looks only there.
fn host(body: &str, ext: &ExtensionId) -> (TempDir, Launcher) {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("host.sh");
    std::fs::write(&exe, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest = json!({
        "name": HOST, "description": "test host", "path": exe, "type": "stdio",
        "allowed_origins": [format!("chrome-extension://{ext}/")]
    });
    std::fs::write(
        dir.path().join(format!("{HOST}.json")),
        manifest.to_string(),
    )
    .unwrap();
    let launcher = Launcher::new(BrowserKind::Chrome).with_lookup(
        Lookup::new(BrowserKind::Chrome)
            .dir(dir.path())
            .without_default_dirs(),
    );
    (dir, launcher)
}

fn ping_pong() -> String {
    format!("exec '{BIN}' host ping-pong")
}

/// A running browser with the extension's page loaded, and its background `runtime`.
fn start(permission: bool, body: &str) -> (Browser, ExtensionId, Runtime, TempDir) {
    let slot = Rc::new(RefCell::new(None));
    let spec = spec(permission, slot.clone());
    let id = spec.id();
    let (dir, launcher) = host(body, &id);
    let mut browser = Browser::builder().native_launcher(launcher).build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    let rt = slot.borrow().clone().expect("the page loaded");
    (browser, id, rt, dir)
}

/// The `lastError` seen by each `onDisconnect` of a port.
type Disconnects = Arc<Mutex<Vec<Option<String>>>>;

/// Collects what a port receives and whether (and with which `lastError`) it disconnected.
fn watch(rt: &Runtime, port: &Port) -> (mpsc::UnboundedReceiver<Value>, Disconnects) {
    let (tx, rx) = mpsc::unbounded();
    port.on_message()
        .add_listener(move |(message, _port): (Value, Port)| {
            let _ = tx.unbounded_send(message);
        });
    let disconnects = Arc::new(Mutex::new(Vec::new()));
    let seen = disconnects.clone();
    let rt = rt.clone();
    port.on_disconnect().add_listener(move |_port: Port| {
        seen.lock()
            .unwrap()
            .push(rt.last_error().map(|e| e.message));
    });
    (rx, disconnects)
}

fn host_ended(browser: &Browser) -> bool {
    browser
        .trace()
        .entries()
        .any(|e| matches!(e.event, TraceEvent::NativeHostEnded { .. }))
}

/// `sendNativeMessage` answers with the host's first message; the host is then ended as the
/// browser ends it (end of file: the ping-pong host exits by itself), and the trace says so,
/// as for a port's host. Regression: only `connectNative` hosts had their end traced.
#[test]
fn send_native_message_answers_with_the_hosts_first_message_then_ends_the_host() {
    let (mut browser, _id, rt, _dir) = start(true, &ping_pong());
    let answer = browser
        .block_on(rt.send_native_message(HOST, &json!("ping")))
        .unwrap();
    assert_eq!(answer, Ok(json!("pong")));
    assert!(browser
        .run_until(Duration::from_secs(10), host_ended)
        .is_ok());
    let exit = browser.trace().entries().find_map(|e| match &e.event {
        TraceEvent::NativeHostEnded { host, exit } => Some((host.clone(), exit.clone())),
        _ => None,
    });
    let (host, exit) = exit.unwrap();
    assert_eq!(host, HOST);
    assert!(!exit.contains("SIGKILL"), "{exit}");
}

#[test]
fn a_native_port_exchanges_messages_and_keeps_the_page_alive_until_disconnected() {
    let (mut browser, id, rt, _dir) = start(true, &ping_pong());
    let port = rt.connect_native(HOST).unwrap();
    let (mut messages, disconnects) = watch(&rt, &port);
    port.post_message(&json!("ping")).unwrap();
    let got = browser.block_on(async move {
        let first = messages.next().await;
        (first, messages)
    });
    let (first, _messages) = got.unwrap();
    assert_eq!(first, Some(json!("pong")));
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    port.disconnect();
    browser.advance(Duration::from_secs(16));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    assert!(
        disconnects.lock().unwrap().is_empty(),
        "the disconnecting end is not told"
    );
    assert!(browser
        .run_until(Duration::from_secs(60), host_ended)
        .is_ok());
}

/// Several messages posted on a native port before the host answered any: the virtual clock
/// waits for an answer to each. Regression: the first answer ended the wait, so `advance`
/// ran a minute of virtual time before the real host's other answers arrived, and they came
/// a minute late.
#[test]
fn every_message_posted_to_a_host_is_waited_for() {
    // Reads each 10-byte "ping" frame, then answers "pong" 50 ms later.
    let slow = r#"for i in 1 2 3; do head -c 10 > /dev/null; sleep 0.05; printf '\006\000\000\000"pong"'; done; cat > /dev/null"#;
    let (mut browser, _id, rt, _dir) = start(true, slow);
    let port = rt.connect_native(HOST).unwrap();
    let (mut messages, _disconnects) = watch(&rt, &port);
    for _ in 0..3 {
        port.post_message(&json!("ping")).unwrap();
    }
    browser.advance(Duration::from_secs(60));
    let mut answers = Vec::new();
    while let Ok(answer) = messages.try_recv() {
        answers.push(answer);
    }
    assert_eq!(answers.len(), 3, "{}", browser.trace().timeline());
    let pongs = browser.with_trace(|t| {
        t.entries()
            .filter(|e| {
                matches!(&e.event, TraceEvent::EventDispatched { event, .. } if event == "Port.onMessage")
            })
            .map(|e| e.at.as_millis())
            .collect::<Vec<_>>()
    });
    assert_eq!(pongs.len(), 3);
    assert!(
        pongs.iter().all(|&ms| ms < 5_000),
        "each answer at the virtual time of its real arrival, not after the minute: {pongs:?}"
    );
}

/// A host that exits by itself disconnects the port with `Native host has exited.`
#[test]
fn a_host_that_exits_disconnects_the_port() {
    let (mut browser, _id, rt, _dir) = start(true, "exit 0");
    let port = rt.connect_native(HOST).unwrap();
    let (_messages, disconnects) = watch(&rt, &port);
    assert!(browser
        .run_until(Duration::from_secs(30), |_| !disconnects
            .lock()
            .unwrap()
            .is_empty())
        .is_ok());
    assert_eq!(
        *disconnects.lock().unwrap(),
        vec![Some("Native host has exited.".to_owned())]
    );
    assert!(port.is_disconnected());
}

#[test]
fn a_missing_host_disconnects_the_port_and_fails_send_native_message() {
    let (mut browser, _id, rt, _dir) = start(true, &ping_pong());
    let port = rt.connect_native("com.example.missing").unwrap();
    let (_messages, disconnects) = watch(&rt, &port);
    browser.advance(Duration::ZERO);
    assert_eq!(
        *disconnects.lock().unwrap(),
        vec![Some(
            "Specified native messaging host not found.".to_owned()
        )]
    );
    let answer = browser
        .block_on(rt.send_native_message("com.example.missing", &1))
        .unwrap();
    assert_eq!(
        answer.unwrap_err().to_string(),
        "Specified native messaging host not found."
    );
}

#[test]
fn native_messaging_needs_the_permission() {
    let (mut browser, _id, rt, _dir) = start(false, &ping_pong());
    let expected = "Access to native messaging requires nativeMessaging permission.";
    let err = rt.connect_native(HOST).unwrap_err();
    assert_eq!(err, ConnectNativeError::PermissionRequired);
    assert_eq!(err.to_string(), expected);
    let err = browser
        .block_on(rt.send_native_message(HOST, &1))
        .unwrap()
        .unwrap_err();
    assert_eq!(err, SendNativeMessageError::PermissionRequired);
    assert_eq!(err.to_string(), expected);
}

/// Stopping the browser unloads the page, which disconnects its native port: the host is ended.
#[test]
fn at_browser_shutdown_a_host_gets_end_of_file_and_ends_by_itself() {
    let (mut browser, _id, rt, _dir) = start(true, &ping_pong());
    let port = rt.connect_native(HOST).unwrap();
    browser.advance(Duration::ZERO);
    browser.stop();
    assert!(port.is_disconnected());
    // The browser no longer waits for the host: poll in real time for its own exit.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !host_ended(&browser) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        browser.advance(Duration::ZERO);
    }
    let exits: Vec<String> = browser
        .trace()
        .entries()
        .filter_map(|e| match &e.event {
            TraceEvent::NativeHostEnded { exit, .. } => Some(exit.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(exits.len(), 1, "{}", browser.trace().timeline());
    assert!(
        exits[0].ends_with("by itself after the browser shut down"),
        "{}",
        exits[0]
    );
}

/// §7: at browser shutdown Chrome closes a host's stdin and nothing more; a host that ignores
/// end of file is left running (it is not killed 2 s later, as on a disconnect).
#[test]
fn at_browser_shutdown_a_host_that_ignores_end_of_file_is_left_running() {
    let (mut browser, _id, rt, _dir) = start(true, "exec sleep 600");
    let _port = rt.connect_native(HOST).unwrap();
    browser.advance(Duration::ZERO);
    browser.stop();
    std::thread::sleep(Duration::from_secs(3));
    browser.advance(Duration::ZERO);
    assert!(!host_ended(&browser), "{}", browser.trace().timeline());
    let left = browser.trace().entries().any(|e| {
        matches!(&e.event, TraceEvent::Warning { message }
            if message.contains("got end of file as the browser shut down"))
    });
    assert!(left);
    // Dropping the simulated browser kills it, so that the test leaks no process.
}

/// Invalid JSON on a port is dropped (and recorded); the port stays open; stderr is traced.
#[test]
fn invalid_json_is_dropped_on_a_port_and_stderr_is_traced() {
    let body = r#"echo "warming up" >&2
printf '\005\000\000\000hello\006\000\000\000"pong"'
cat > /dev/null"#;
    let (mut browser, _id, rt, _dir) = start(true, body);
    let port = rt.connect_native(HOST).unwrap();
    let (messages, disconnects) = watch(&rt, &port);
    let first = browser
        .block_on(async move { messages.into_future().await.0 })
        .unwrap();
    assert_eq!(first, Some(json!("pong")));
    assert!(disconnects.lock().unwrap().is_empty());
    assert!(browser
        .run_until(Duration::from_secs(5), |b| b.trace().entries().any(
            |e| matches!(&e.event, TraceEvent::NativeStderr { line, .. } if line == "warming up")
        ))
        .is_ok());
    let ignored = browser.trace().entries().any(|e| {
        matches!(&e.event, TraceEvent::NativeMessageIgnored { reason, .. }
            if reason == "The sender sent an invalid JSON message; message ignored.")
    });
    assert!(ignored, "{}", browser.trace().timeline());
    port.disconnect();
}

/// Little-endian hosts only: the test writes the frame headers by hand.
#[cfg(target_endian = "big")]
compile_error!("the framing in these tests assumes a little-endian machine");

/// A native application connects to an extension: `onConnectNative` gets a port whose sender
/// names the application; messages flow both ways; the extension's disconnect reaches the app.
#[test]
fn a_native_application_connects_with_on_connect_native() {
    let spec = ExtensionSpec::from_json(json!({
        "name": "Kiosk", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}
    }))
    .unwrap()
    .script(script_fn(|rt| async move {
        rt.on_connect_native().add_listener(|port: Port| {
            let app = port.sender().and_then(|s| s.native_application.clone());
            port.post_message(&json!({"hello": app})).unwrap();
            port.on_message()
                .add_listener(|(message, port): (Value, Port)| {
                    if message == json!("bye") {
                        port.disconnect();
                    }
                });
        });
        Ok(())
    }));
    // onConnectNative exists only on ChromeOS.
    let mut linux = Browser::builder().build();
    let linux_id = linux.install(spec.clone()).unwrap();
    linux.start();
    assert_eq!(
        linux
            .connect_from_native_app(&linux_id, "com.example.app")
            .unwrap_err()
            .to_string(),
        "runtime.onConnectNative exists only on ChromeOS; build the browser with a cros platform"
    );
    let cros = runtime_sim::PlatformInfo {
        os: runtime_sim::PlatformOs::Cros,
        ..Default::default()
    };
    let mut browser = Browser::builder().platform_info(Some(cros)).build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));

    let app = browser
        .connect_from_native_app(&id, "com.example.app")
        .unwrap();
    let got = Arc::new(Mutex::new(Vec::new()));
    let seen = got.clone();
    app.on_message()
        .add_listener(move |(message, _): (Value, Port)| seen.lock().unwrap().push(message));
    let closed = Arc::new(Mutex::new(0));
    let count = closed.clone();
    app.on_disconnect()
        .add_listener(move |_: Port| *count.lock().unwrap() += 1);
    browser.advance(Duration::ZERO);
    assert_eq!(
        *got.lock().unwrap(),
        vec![json!({"hello": "com.example.app"})]
    );
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
    app.post_message(&json!("bye")).unwrap();
    browser.advance(Duration::ZERO);
    assert_eq!(*closed.lock().unwrap(), 1);
    assert!(app.is_disconnected());
}

/// A frame announced as larger than 1 MiB closes the port with the communication error.
#[test]
fn an_oversize_frame_closes_the_port_with_the_communication_error() {
    let body = r#"printf '\001\000\020\000'
cat > /dev/null"#;
    let (mut browser, _id, rt, _dir) = start(true, body);
    let port = rt.connect_native(HOST).unwrap();
    let (_messages, disconnects) = watch(&rt, &port);
    assert!(browser
        .run_until(Duration::from_secs(30), |_| !disconnects
            .lock()
            .unwrap()
            .is_empty())
        .is_ok());
    assert_eq!(
        *disconnects.lock().unwrap(),
        vec![Some(
            "Error when communicating with the native messaging host.".to_owned()
        )]
    );
}

/// As the answer to `sendNativeMessage`, a frame that is not JSON is the call's error.
#[test]
fn an_invalid_json_answer_fails_send_native_message() {
    let body = r#"printf '\005\000\000\000hello'
cat > /dev/null"#;
    let (mut browser, _id, rt, _dir) = start(true, body);
    let answer = browser
        .block_on(rt.send_native_message(HOST, &json!("ping")))
        .unwrap();
    assert_eq!(
        answer.unwrap_err().to_string(),
        "The sender sent an invalid JSON message; message ignored."
    );
}

/// A host that ignores end of file really gets Chrome's 2 s (real time) after the extension
/// disconnects its port, then SIGKILL — while the virtual clock does not move for it.
#[test]
fn a_host_ignoring_end_of_file_is_killed_after_the_real_two_second_grace() {
    let (mut browser, _id, rt, _dir) = start(true, "trap '' TERM\nwhile :; do sleep 0.05; done");
    let port = rt.connect_native(HOST).unwrap();
    browser.advance(Duration::ZERO);
    let started = std::time::Instant::now();
    port.disconnect();
    assert!(browser
        .run_until(Duration::from_secs(3600), host_ended)
        .is_ok());
    let exit = browser
        .trace()
        .entries()
        .find_map(|e| match &e.event {
            TraceEvent::NativeHostEnded { exit, .. } => Some(exit.clone()),
            _ => None,
        })
        .unwrap();
    assert!(exit.starts_with("killed by SIGKILL 2."), "{exit}");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
}
