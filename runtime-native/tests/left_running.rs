//! What a host leaves running when it ends: a child it forked into the background. Chrome and
//! Firefox leave it running, adopted by init; this side finds it in the host's process group,
//! ends it with SIGKILL, and lists it in `HostExit::left_running` — while the host itself is
//! ended exactly as the browser ends it (its exit status, the policy's signals and times).

mod support;

use std::time::{Duration, Instant};

use runtime_native::{BrowserKind, Signal};
use support::*;

/// Far more than a SIGKILLed process takes to go, on any machine.
const GONE_WITHIN: Duration = Duration::from_secs(10);

/// A script body that starts `sleep 60` in the background and writes its pid to `child.pid`
/// (in the host's folder, its working folder), then does `then`.
fn forking(then: &str) -> String {
    format!("sleep 60 &\necho $! > child.pid\n{then}")
}

/// The pid the host wrote, once it has written it.
fn child_pid(host: &HostDir) -> u32 {
    let file = host.path().join("child.pid");
    let started = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(&file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return pid;
        }
        assert!(
            started.elapsed() < GONE_WITHIN,
            "the host wrote no child.pid"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// True once `pid` has ended (gone, or a zombie waiting for init to reap it).
fn ended(pid: u32) -> bool {
    let started = Instant::now();
    loop {
        if pid_gone(pid) || proc_state(pid) == Some('Z') {
            return true;
        }
        if started.elapsed() > GONE_WITHIN {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Regression: a host that forked a `sleep` into the background and then exited left the
/// `sleep` running, adopted by init, after the test had ended. It is now found in the host's
/// group, ended, and reported; the host's own exit status is its own.
#[tokio::test]
async fn a_child_left_by_a_host_that_exits_at_end_of_file_is_ended_and_reported() {
    let host = script_host(&forking("cat >/dev/null\nexit 3"));
    for browser in BrowserKind::ALL {
        let process = spawn(&host, browser);
        let child = child_pid(&host);
        assert!(!pid_gone(child), "the child runs while the host does");
        let exit = process.close().await.expect("close");
        assert_eq!(exit.code(), Some(3), "{browser}: {exit:?}");
        assert!(exit.signals_sent.is_empty(), "{exit:?}");
        assert_eq!(exit.left_running, [child], "{browser}");
        assert!(ended(child), "{browser}: pid {child} still running");
        std::fs::remove_file(host.path().join("child.pid")).unwrap();
    }
}

/// Chrome's policy still applies to the host alone: a host that ignores end of file is killed
/// with SIGKILL no sooner than 2 s after it (and with no SIGTERM); what it left is ended after.
#[tokio::test]
async fn chromes_policy_ends_the_host_then_what_it_left_is_ended() {
    let host = script_host(&forking("trap '' TERM\ncat >/dev/null\nexec sleep 60"));
    let process = spawn(&host, BrowserKind::Chrome);
    let child = child_pid(&host);
    let exit = process.close().await.expect("close");
    assert_eq!(exit.killed_by(), Some(Signal::KILL));
    let sent: Vec<_> = exit.signals_sent.iter().map(|s| s.signal).collect();
    assert_eq!(sent, [Signal::KILL]);
    assert!(
        exit.signals_sent[0].after_eof >= Duration::from_secs(2),
        "{exit:?}"
    );
    assert_eq!(exit.left_running, [child]);
    assert!(ended(child), "pid {child} still running");
}

/// Firefox's SIGTERM goes to the host, not to its group: the host honours it and ends at its
/// time; the child (which SIGTERM would also have ended) is then found still running.
#[tokio::test]
async fn firefoxs_sigterm_goes_to_the_host_alone() {
    let host = script_host(&forking("cat >/dev/null\nexec sleep 60"));
    let process = spawn(&host, BrowserKind::Firefox);
    let child = child_pid(&host);
    let exit = process.close().await.expect("close");
    assert_eq!(exit.killed_by(), Some(Signal::TERM));
    assert!(
        exit.signals_sent[0].after_eof >= Duration::from_secs(3),
        "{exit:?}"
    );
    assert_eq!(exit.left_running, [child]);
    assert!(ended(child), "pid {child} still running");
}

/// Grandchildren too: a subshell that starts its own background `sleep`.
#[tokio::test]
async fn grandchildren_are_found_too() {
    let host = script_host(
        "(sleep 60 & echo $! > grandchild.pid; exec sleep 60) &\necho $! > child.pid\ncat >/dev/null",
    );
    let process = spawn(&host, BrowserKind::Chrome);
    let child = child_pid(&host);
    let grandchild = {
        let started = Instant::now();
        loop {
            let text =
                std::fs::read_to_string(host.path().join("grandchild.pid")).unwrap_or_default();
            if let Ok(pid) = text.trim().parse::<u32>() {
                break pid;
            }
            assert!(started.elapsed() < GONE_WITHIN, "no grandchild.pid");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let exit = process.close().await.expect("close");
    assert_eq!(exit.code(), Some(0));
    let mut expected = vec![child, grandchild];
    expected.sort_unstable();
    assert_eq!(exit.left_running, expected);
    assert!(ended(child) && ended(grandchild));
}

/// A host dropped without `close` is killed and reaped, and what it left is ended as well.
#[tokio::test]
async fn dropping_a_host_ends_what_it_left() {
    let host = script_host(&forking("cat >/dev/null"));
    let process = spawn(&host, BrowserKind::Chrome);
    let pid = process.pid();
    let child = child_pid(&host);
    drop(process);
    assert!(pid_gone(pid), "the host itself is reaped");
    assert!(ended(child), "pid {child} still running");
}

/// A host that leaves nothing reports nothing.
#[tokio::test]
async fn a_host_that_leaves_nothing_reports_nothing() {
    let host = script_host("cat >/dev/null");
    let exit = spawn(&host, BrowserKind::Chrome)
        .close()
        .await
        .expect("close");
    assert_eq!(exit.code(), Some(0));
    assert!(exit.left_running.is_empty());
}
