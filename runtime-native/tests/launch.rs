//! Launching hosts like the browser (§5.2): argv, working directory, environment, stderr,
//! start failures, and `connectNative` / `sendNativeMessage` with the Rust ping-pong host.

mod support;

use std::fs;
use std::path::Path;

use runtime_native::error::{FAILED_TO_START, HOST_EXITED};
use runtime_native::{
    BrowserKind, ErrorKind, Launcher, NativeError, Received, ShutdownPolicy, StderrSink,
};
use serde_json::json;
use support::*;

const RECORD: &str = r#"printf '%s\n' "$0" "$@" > seen.txt
pwd -P >> seen.txt
printf '%s\n' "$HOME" >> seen.txt
exit 0"#;

async fn run_to_end(host: runtime_native::HostProcess) -> runtime_native::HostExit {
    let pid = host.pid();
    let exit = host.close().await.expect("close");
    assert!(pid_gone(pid), "pid {pid} still exists");
    exit
}

fn seen(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("seen.txt"))
        .expect("the host recorded its argv")
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn chrome_argv_folder_and_environment() {
    let host = script_host(RECORD);
    for browser in [BrowserKind::Chrome, BrowserKind::Chromium] {
        let launch = launch(&host, browser);
        let expected_origin = format!("chrome-extension://{CHROME_ID}/");
        assert_eq!(launch.args(), &[std::ffi::OsString::from(&expected_origin)]);
        let child = spawn_with(&launch, ShutdownPolicy::chrome(), StderrSink::Null).unwrap();
        let exit = run_to_end(child).await;
        assert_eq!(exit.code(), Some(0));
        let seen = seen(host.path());
        let folder = host.path().canonicalize().unwrap();
        assert_eq!(
            seen,
            vec![
                host.exe.display().to_string(),
                expected_origin,
                folder.display().to_string(),
                std::env::var("HOME").unwrap_or_default(),
            ]
        );
    }
}

#[tokio::test]
async fn firefox_argv() {
    let host = script_host(RECORD);
    let launch = launch(&host, BrowserKind::Firefox);
    let child = spawn_with(&launch, ShutdownPolicy::firefox(), StderrSink::Null).unwrap();
    run_to_end(child).await;
    let seen = seen(host.path());
    assert_eq!(seen[0], host.exe.display().to_string());
    assert_eq!(
        seen[1],
        host.path().join("test_host.json").display().to_string()
    );
    assert_eq!(seen[2], FIREFOX_ID);
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn stderr_only_host_lines_are_captured() {
    let host = script_host("echo one >&2\necho 'two  spaced' >&2\nprintf 'no newline' >&2\nexit 0");
    let (sink, mut lines) = StderrSink::channel(16);
    let mut child = spawn_with(
        &launch(&host, BrowserKind::Firefox),
        ShutdownPolicy::firefox(),
        sink,
    )
    .unwrap();
    let pid = child.pid();
    let err = child.recv().await.unwrap_err();
    assert_eq!(err.to_string(), HOST_EXITED);
    run_to_end(child).await;
    let mut got = Vec::new();
    while let Ok(line) = lines.try_recv() {
        assert_eq!(line.pid, pid);
        got.push(line.to_string());
    }
    assert_eq!(
        got,
        [
            "stderr output from native app test_host: one",
            "stderr output from native app test_host: two  spaced",
            "stderr output from native app test_host: no newline",
        ]
    );
}

#[tokio::test]
async fn stderr_callback_and_noise_beside_messages() {
    let host = canned_host(&frame(br#""hi""#), "echo noise >&2\nexec cat >/dev/null");
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let seen = seen.clone();
        StderrSink::callback(move |line| seen.lock().unwrap().push(line.line))
    };
    let mut child = spawn_with(
        &launch(&host, BrowserKind::Chrome),
        ShutdownPolicy::chrome(),
        sink,
    )
    .unwrap();
    assert!(matches!(child.recv().await.unwrap(), Received::Message(v) if v == "hi"));
    let exit = run_to_end(child).await;
    assert!(exit.signals_sent.is_empty(), "{exit:?}");
    assert_eq!(*seen.lock().unwrap(), vec!["noise".to_owned()]);
}

#[tokio::test]
async fn not_executable_fails_to_start() {
    let host = script_host("exit 0");
    write_file(&host.exe, b"#!/bin/sh\nexit 0\n", 0o644);
    let err = spawn_with(
        &launch(&host, BrowserKind::Chrome),
        ShutdownPolicy::chrome(),
        StderrSink::Null,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), FAILED_TO_START);
    match err {
        NativeError::FailedToStart { source, .. } => {
            assert_eq!(source.kind(), std::io::ErrorKind::PermissionDenied)
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn missing_interpreter_fails_to_start() {
    let host = script_host("exit 0");
    write_file(&host.exe, b"#!/nonexistent/interpreter\n", 0o755);
    for browser in BrowserKind::ALL {
        let err = spawn_with(
            &launch(&host, browser),
            browser.shutdown_policy(),
            StderrSink::Null,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), FAILED_TO_START);
        assert_eq!(err.kind(), ErrorKind::FailedToStart);
    }
}

#[tokio::test]
async fn not_an_executable_format_fails_to_start() {
    let host = script_host("exit 0");
    write_file(&host.exe, b"\x7fELF garbage", 0o755);
    let err = spawn_with(
        &launch(&host, BrowserKind::Chrome),
        ShutdownPolicy::chrome(),
        StderrSink::Null,
    )
    .unwrap_err();
    assert_eq!(err.to_string(), FAILED_TO_START);
}

fn ping_pong_launcher(browser: BrowserKind) -> (tempfile::TempDir, Launcher) {
    isolated_launcher("ping_pong", std::path::Path::new(PING_PONG), browser)
}

#[tokio::test]
async fn connect_native_ping_pong() {
    for browser in BrowserKind::ALL {
        let (_dir, launcher) = ping_pong_launcher(browser);
        let mut host = {
            let _exec = exec_guard();
            launcher
                .connect_native("ping_pong", extension_id(browser))
                .unwrap()
        };
        for _ in 0..3 {
            host.send(&json!("ping")).await.unwrap();
            assert!(matches!(host.recv().await.unwrap(), Received::Message(v) if v == "pong"));
        }
        // Other messages are ignored by the ping_pong host.
        host.send(&json!({"not": "ping"})).await.unwrap();
        host.send(&json!("ping")).await.unwrap();
        assert!(matches!(host.recv().await.unwrap(), Received::Message(v) if v == "pong"));
        let exit = run_to_end(host).await;
        assert_eq!(exit.code(), Some(0));
        // It ended by itself, before the grace ran out.
        assert!(exit.signals_sent.is_empty(), "{exit:?}");
    }
}

#[tokio::test]
async fn send_native_message_ping_pong() {
    let (_dir, launcher) = ping_pong_launcher(BrowserKind::Chrome);
    let reply = exec_locked(launcher.send_native_message("ping_pong", CHROME_ID, &json!("ping")))
        .await
        .unwrap();
    assert_eq!(reply.message, json!("pong"));
    let pid = reply.closing.pid();
    let exit = reply.closing.await.unwrap();
    assert_eq!(exit.code(), Some(0));
    assert!(pid_gone(pid));

    let err = launcher
        .send_native_message("absent", CHROME_ID, &json!("ping"))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Specified native messaging host not found."
    );
}

#[test]
fn spawning_outside_a_runtime_fails_to_start() {
    let host = script_host("exit 0");
    let err = launch(&host, BrowserKind::Chrome)
        .spawn(ShutdownPolicy::chrome(), StderrSink::Null)
        .unwrap_err();
    assert_eq!(err.to_string(), FAILED_TO_START);
}
