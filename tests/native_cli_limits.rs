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
