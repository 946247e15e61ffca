//! Helpers shared by the integration tests: hosts written as `#!/bin/sh` scripts into a
//! temporary folder at test time (only `/bin/sh` and coreutils are needed), frames built
//! in Rust, and checks that a process is gone.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

use runtime_native::{
    BrowserKind, FoundHost, HostManifest, HostProcess, Launch, Launcher, Lookup, NativeError,
    ShutdownPolicy, StderrSink,
};
use tempfile::TempDir;

/// A Chrome extension id.
pub const CHROME_ID: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";
/// A Firefox add-on id.
pub const FIREFOX_ID: &str = "ping_pong@example.org";
/// The Rust ping-pong host.
pub const PING_PONG: &str = env!("CARGO_BIN_EXE_runtime-native-ping-pong");

/// Writing an executable while another thread forks can leave a copy of the write
/// descriptor in the child for an instant, and exec then fails with ETXTBSY. Writers take
/// this lock exclusively, spawners shared.
static EXEC_LOCK: RwLock<()> = RwLock::new(());

/// The extension id for `browser`.
pub fn extension_id(browser: BrowserKind) -> &'static str {
    if browser.is_firefox() {
        FIREFOX_ID
    } else {
        CHROME_ID
    }
}

/// A folder holding one host.
pub struct HostDir {
    pub dir: TempDir,
    pub exe: PathBuf,
}

impl HostDir {
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// Writes `file` in `dir` with `mode`, under the exec lock.
pub fn write_file(path: &Path, contents: &[u8], mode: u32) {
    let _guard = EXEC_LOCK.write().unwrap_or_else(|e| e.into_inner());
    fs::write(path, contents).expect("write file");
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A host that is a shell script with `body` (after `#!/bin/sh`).
pub fn script_host(body: &str) -> HostDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let exe = dir.path().join("host.sh");
    write_file(&exe, format!("#!/bin/sh\n{body}\n").as_bytes(), 0o755);
    HostDir { dir, exe }
}

/// A host that writes exactly `output` to stdout (from `out.bin` in its folder, which is
/// its working directory), then runs `then`.
pub fn canned_host(output: &[u8], then: &str) -> HostDir {
    let host = script_host(&format!("cat out.bin\n{then}"));
    write_file(&host.path().join("out.bin"), output, 0o644);
    host
}

/// One frame: native-endian length, then `body`.
pub fn frame(body: &[u8]) -> Vec<u8> {
    frame_with_len(body.len() as u32, body)
}

/// A frame whose header says `len` whatever the body.
pub fn frame_with_len(len: u32, body: &[u8]) -> Vec<u8> {
    let mut v = len.to_ne_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

/// A manifest for `exe` that allows our extension under `browser`.
pub fn manifest_for(name: &str, exe: &Path, browser: BrowserKind) -> HostManifest {
    HostManifest::new(name, "test host", exe).allow(browser, extension_id(browser))
}

/// Writes `<name>.json` for `exe` into `dir`.
pub fn install_manifest(dir: &Path, name: &str, exe: &Path, browser: BrowserKind) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, manifest_for(name, exe, browser).to_json_pretty()).expect("manifest");
    path
}

/// A launcher that finds only host `name` (at `exe`), from a manifest in a fresh folder that
/// lives as long as the returned `TempDir`. The host's stderr is discarded.
pub fn isolated_launcher(name: &str, exe: &Path, browser: BrowserKind) -> (TempDir, Launcher) {
    let dir = tempfile::tempdir().expect("tempdir");
    install_manifest(dir.path(), name, exe, browser);
    let launcher = Launcher::new(browser)
        .with_lookup(Lookup::new(browser).dir(dir.path()).without_default_dirs())
        .with_stderr(StderrSink::Null);
    (dir, launcher)
}

/// The launch of `host` for our extension under `browser`.
pub fn launch(host: &HostDir, browser: BrowserKind) -> Launch {
    let found = FoundHost {
        manifest_path: host.path().join("test_host.json"),
        manifest: manifest_for("test_host", &host.exe, browser),
    };
    Launch::new(browser, &found, extension_id(browser)).expect("launch")
}

/// Holds the exec lock (shared) while a test starts processes some other way.
pub fn exec_guard() -> RwLockReadGuard<'static, ()> {
    EXEC_LOCK.read().unwrap_or_else(|e| e.into_inner())
}

/// Runs `fut` holding the exec lock (shared) during each of its polls, so that any
/// process it starts is started under the lock, without holding it across an await.
pub async fn exec_locked<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let _exec = exec_guard();
        fut.as_mut().poll(cx)
    })
    .await
}

/// Spawns under the exec lock (shared).
pub fn spawn_with(
    launch: &Launch,
    policy: ShutdownPolicy,
    stderr: StderrSink,
) -> Result<HostProcess, NativeError> {
    let _guard = EXEC_LOCK.read().unwrap_or_else(|e| e.into_inner());
    launch.spawn(policy, stderr)
}

/// Spawns `host` under `browser`'s rules and policy, stderr discarded.
pub fn spawn(host: &HostDir, browser: BrowserKind) -> HostProcess {
    spawn_with(
        &launch(host, browser),
        browser.shutdown_policy(),
        StderrSink::Null,
    )
    .expect("spawn")
}

/// True when no process (not even a zombie) has this pid.
pub fn pid_gone(pid: u32) -> bool {
    let pid = libc_pid(pid);
    // SAFETY: kill with signal 0 only checks for existence.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn libc_pid(pid: u32) -> libc::pid_t {
    libc::pid_t::try_from(pid).expect("pid fits")
}

/// The state letter of a process from /proc (`Z` for a zombie), if it exists.
pub fn proc_state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    after.trim_start().chars().next()
}

/// The pids of this process's children (any state), from /proc.
pub fn children() -> Vec<u32> {
    let me = std::process::id();
    let mut kids = Vec::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return kids;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some((_, after)) = stat.rsplit_once(')') else {
            continue;
        };
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse::<u32>().ok());
        if ppid == Some(me) {
            kids.push(pid);
        }
    }
    kids
}

/// The number of open file descriptors of this process.
pub fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Makes a FIFO (named pipe) at `path`.
pub fn make_fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: mkfifo reads a NUL-terminated path that lives across the call.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// Runs `f` on a thread of its own and gives its result, or fails the test if it has not
/// finished within `limit` (instead of hanging the test run).
pub fn within<T: Send + 'static>(
    limit: std::time::Duration,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
}
