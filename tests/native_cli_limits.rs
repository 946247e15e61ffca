//! `runtime-sim native` on hosts that do not play along: one that leaves a process running
//! behind it, one that neither answers nor exits (`--timeout`).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_runtime-sim");
const EXT: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";
/// A regression that hangs fails here instead of hanging the test run.
const LIMIT: Duration = Duration::from_secs(60);

/// Writes the host `name` (a `/bin/sh` script of `body`) and its manifest into `dir`.
fn host(dir: &Path, name: &str, body: &str) {
    let exe = dir.join(format!("{name}.sh"));
    std::fs::write(&exe, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let manifest = serde_json::json!({
        "name": name, "description": "test host", "path": exe, "type": "stdio",
        "allowed_origins": [format!("chrome-extension://{EXT}/")],
        "allowed_extensions": ["pp@example.org"]
    });
    std::fs::write(dir.join(format!("{name}.json")), manifest.to_string()).unwrap();
}

/// Runs `runtime-sim native` with the folder `dir` as the only one searched; gives the exit
/// code, stdout, stderr and how long it took.
fn native(dir: &Path, args: &[&str]) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .arg("native")
        .args(args)
        .args(["--no-default-dirs", "--dir", dir.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runtime-sim native {args:?} still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = started.elapsed();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        took,
    )
}

/// Regression: a host that forked a process into the background left it running after the
/// command ended. The command now says what was left, that the browser would have left it,
/// and that it was ended.
#[test]
fn what_a_host_leaves_running_is_reported_and_ended() {
    let dir = tempfile::tempdir().unwrap();
    host(
        dir.path(),
        "com.example.forker",
        "sleep 60 >/dev/null 2>&1 &\necho $! > child.pid\nexec cat",
    );
    let (code, out, err, _) = native(
        dir.path(),
        &["com.example.forker", "--message", "1", "--wait-ms", "100"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("reply: 1"), "{out}");
    assert!(out.contains("host ended: exited with code 0"), "{out}");
    let child = std::fs::read_to_string(dir.path().join("child.pid")).unwrap();
    let child = child.trim();
    assert!(
        out.contains(&format!(
            "left running by the host: 1 process (pid {child}), which chrome would have left running; ended with SIGKILL"
        )),
        "{out}"
    );
}

/// The seconds after end of file in a `host ended: … N.NNN s after end of file` line.
fn seconds_after_eof(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("host ended: "))
        .unwrap_or_else(|| panic!("no host ended line: {out}"));
    line.split_whitespace()
        .rev()
        .nth(5)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {line:?}"))
}

/// Regression: `--send-native-message` to a host that neither answers nor exits waited
/// forever. `--timeout` gives up, says what it waited for and how long, ends the host as the
/// browser would (Chrome: SIGKILL no sooner than 2 s after end of file; Firefox: SIGTERM no
/// sooner than 3 s), and exits 124.
#[test]
fn send_native_message_gives_up_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    host(dir.path(), "com.example.mute", "exec sleep 60");
    for (browser, signal, grace) in [("chrome", "SIGKILL", 2.0), ("firefox", "SIGTERM", 3.0)] {
        let (code, out, err, took) = native(
            dir.path(),
            &[
                "com.example.mute",
                "--browser",
                browser,
                "--send-native-message",
                "--message",
                "\"ping\"",
                "--timeout",
                "1s",
            ],
        );
        assert_eq!(code, 124, "{out}\n{err}");
        assert_eq!(
            err.trim(),
            format!("runtime-sim: gave up after 1s (--timeout) waiting for the host's reply to sendNativeMessage; ending the host as {browser} would: its stdin closed, then its shutdown policy")
        );
        assert!(
            out.contains(&format!("host ended: killed by {signal} ")),
            "{out}"
        );
        assert!(seconds_after_eof(&out) >= grace, "{out}");
        // The order of events: the timeout, then the browser's grace, then the signal.
        assert!(
            took >= Duration::from_secs(1) + Duration::from_secs_f64(grace),
            "{took:?}"
        );
        assert!(!out.contains("reply:"), "{out}");
    }
}

/// A port to a host that answers forever, never quiet for `--wait-ms`: given up on too.
#[test]
fn a_port_to_a_host_that_never_goes_quiet_gives_up_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // A frame of the one-byte body `1`, every 50 ms, whatever it is sent.
    let frame = if cfg!(target_endian = "little") {
        r"\001\000\000\0001"
    } else {
        r"\000\000\000\0011"
    };
    host(
        dir.path(),
        "com.example.chatty",
        &format!("while :; do printf '{frame}'; sleep 0.05; done"),
    );
    let (code, out, err, _) = native(
        dir.path(),
        &[
            "com.example.chatty",
            "--message",
            "0",
            "--timeout",
            "1500ms",
        ],
    );
    assert_eq!(code, 124, "{out}\n{err}");
    assert_eq!(
        err.trim(),
        "runtime-sim: gave up after 1s 500ms (--timeout) waiting for the host to stop writing replies to message 1 (0); ending the host as chrome would: its stdin closed, then its shutdown policy"
    );
    assert!(out.contains("reply: 1"), "{out}");
    assert!(out.contains("port.disconnect()"), "{out}");
    // Its stdout closed, as the browser closes it, the host's next write ends it.
    assert!(out.contains("host ended: ended by SIGPIPE "), "{out}");
}

/// A host that answers in time is not affected, and `--help` documents the option and its
/// default.
#[test]
fn the_timeout_is_documented_and_leaves_a_quick_host_alone() {
    let out = Command::new(BIN)
        .args(["native", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--timeout <TIMEOUT>"), "{help}");
    assert!(help.contains("[default: 10s]"), "{help}");
    assert!(help.contains("exits 124"), "{help}");

    let dir = tempfile::tempdir().unwrap();
    host(dir.path(), "com.example.echo", "exec cat");
    let (code, out, err, _) = native(
        dir.path(),
        &[
            "com.example.echo",
            "--send-native-message",
            "--message",
            "[1]",
            "--timeout",
            "30s",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("reply: [1]") && out.contains("host ended: exited with code 0"),
        "{out}"
    );
}
