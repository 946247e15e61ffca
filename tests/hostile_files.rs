//! Files named by a user are read only when they are regular files, up to a documented size:
//! extension manifests, host manifests and scenario files. A FIFO or `/dev/zero` fails at once,
//! with the browser's error where the browser has one, through the library and through the
//! command.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runtime_sim::{ExtensionSpec, Manifest, ManifestError};

const BIN: &str = env!("CARGO_BIN_EXE_runtime-sim");
/// Far more than any of these takes; a regression (a blocking read) fails here instead of
/// hanging the test run.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs the command, killing it if it has not ended within [`LIMIT`].
fn runtime_sim(args: &[&str]) -> (i32, String, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    let started = Instant::now();
    while child.try_wait().expect("waits").is_none() {
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("runtime-sim {args:?} still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn make_fifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: mkfifo reads a NUL-terminated path that lives across the call.
    let rc = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
    assert_eq!(rc, 0, "mkfifo: {}", std::io::Error::last_os_error());
}

/// A file of `len` bytes that takes no room on disk (its bytes read as zeros).
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path)
        .and_then(|f| f.set_len(len))
        .expect("a sparse file");
}

/// A folder holding a FIFO, a link to `/dev/zero` and a sparse file of `len` bytes, each
/// under the name `name` in a folder of its own.
struct Hostile {
    _dir: tempfile::TempDir,
    fifo: PathBuf,
    zero: PathBuf,
    large: PathBuf,
}

fn hostile(name: &str, len: u64) -> Hostile {
    let dir = tempfile::tempdir().unwrap();
    let place = |kind: &str| {
        let folder = dir.path().join(kind);
        std::fs::create_dir(&folder).unwrap();
        folder.join(name)
    };
    let (fifo, zero, large) = (place("fifo"), place("zero"), place("large"));
    make_fifo(&fifo);
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    sparse(&large, len);
    Hostile {
        _dir: dir,
        fifo,
        zero,
        large,
    }
}

fn unreadable_reason(err: ManifestError) -> String {
    match err {
        ManifestError::Unreadable { reason, .. } => reason,
        other => panic!("expected Unreadable, got {other:?}"),
    }
}

/// Regression: `Manifest::from_file` on a FIFO blocked forever, and on `/dev/zero` read
/// without limit (23 GB before the kernel stepped in). Both are Chromium's
/// `Manifest file is missing or unreadable` at once, as is a manifest over the size limit.
#[test]
fn an_extension_manifest_must_be_a_regular_file_of_bounded_size() {
    let files = hostile("manifest.json", Manifest::MAX_FILE_SIZE + 1);
    let started = Instant::now();
    for (path, reason) in [
        (&files.fifo, "not a regular file: it is a FIFO (named pipe)"),
        (&files.zero, "not a regular file: it is a character device"),
        (
            &files.large,
            "the file is 4194305 bytes, over the limit of 4194304 bytes (4 MiB)",
        ),
    ] {
        let err = Manifest::from_file(path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Manifest file is missing or unreadable ("),
            "{err}"
        );
        assert_eq!(unreadable_reason(err), reason);
        // Given as a folder, as `runtime-sim id` and scenario files give it.
        let folder = path.parent().unwrap();
        let Err(err) = ExtensionSpec::from_path(folder) else {
            panic!("{} was loaded", folder.display());
        };
        assert_eq!(unreadable_reason(err), reason);
    }
    assert!(started.elapsed() < LIMIT);

    let (code, out, err) = runtime_sim(&["id", files.fifo.parent().unwrap().to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(
        err.contains("Manifest file is missing or unreadable (")
            && err.contains("it is a FIFO (named pipe)"),
        "{err}"
    );
}

/// Regression: a host manifest given to `runtime-sim native` by path was read whole first (to
/// learn the host's name), so a FIFO hung the command and `/dev/zero` filled the memory. It is
/// now read as the browser's lookup reads it: Chrome's "not found" at once, and why on stdout.
#[test]
fn the_native_command_refuses_a_manifest_that_is_not_a_regular_file() {
    let files = hostile(
        "com.example.host.json",
        runtime_sim::native::MAX_HOST_MANIFEST_SIZE + 1,
    );
    for (path, why) in [
        (&files.fifo, "not a regular file: it is a FIFO (named pipe)"),
        (&files.zero, "not a regular file: it is a character device"),
        (&files.large, "over the limit of 1048576 bytes (1 MiB)"),
    ] {
        let (code, out, err) = runtime_sim(&["native", path.to_str().unwrap(), "--message", "1"]);
        assert_eq!(
            (code, err.trim()),
            (1, "Specified native messaging host not found."),
            "{out}"
        );
        assert!(
            out.contains("why: cannot read host manifest") && out.contains(why),
            "{out}"
        );
        // Looked up by name in a folder, the same.
        let dir = path.parent().unwrap().to_str().unwrap();
        let (code, _, err) = runtime_sim(&[
            "native",
            "com.example.host",
            "--no-default-dirs",
            "--dir",
            dir,
            "--browser",
            "firefox",
        ]);
        assert_eq!(
            (code, err.trim()),
            (1, "No such native application com.example.host")
        );
    }
}

/// Regression: a scenario file that was a FIFO blocked `runtime-sim run`, `/dev/zero` was read
/// without end, and a 200 MB file took about 40 times its size in memory before it was
/// refused as JSON. Each is refused at once, before a byte is read.
#[test]
fn a_scenario_file_must_be_a_regular_file_of_bounded_size() {
    let files = hostile("scenario.json", 200 * 1024 * 1024);
    let (code, out, err) = runtime_sim(&[
        "run",
        files.fifo.to_str().unwrap(),
        files.zero.to_str().unwrap(),
        files.large.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.ends_with("0 passed, 3 failed\n"), "{out}");
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [
            format!(
                "error: {}: cannot read the file: not a regular file: it is a FIFO (named pipe)",
                files.fifo.display()
            ),
            format!(
                "error: {}: cannot read the file: not a regular file: it is a character device",
                files.zero.display()
            ),
            format!(
                "error: {}: cannot read the file: the file is 209715200 bytes (200 MiB), over the limit of 16777216 bytes (16 MiB)",
                files.large.display()
            ),
        ]
    );
    assert_eq!(runtime_sim::scenario::MAX_SCENARIO_SIZE, 16 * 1024 * 1024);
}

/// A scenario whose extension manifest is given by path, and is a FIFO: a located error.
#[test]
fn a_scenario_naming_a_fifo_as_a_manifest_gets_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("ext")).unwrap();
    make_fifo(&dir.path().join("ext/manifest.json"));
    let file = dir.path().join("s.json");
    std::fs::write(
        &file,
        r#"{"name": "n", "description": "d",
 "extensions": {"e": {"manifest": "ext"}},
 "timeline": ["start"]}"#,
    )
    .unwrap();
    let (code, _, err) = runtime_sim(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:2:35: at extensions.e.manifest: cannot load the manifest: Manifest file is missing or unreadable (",
            file.display()
        )) && err.contains("it is a FIFO (named pipe))"),
        "{err}"
    );
}

/// Runs the command to its end and gives its exit code and its peak resident memory in bytes
/// (`wait4`'s `ru_maxrss`, of this child alone).
fn peak_memory(args: &[&str]) -> (i32, u64) {
    // Reaped below by wait4, which std's `Child` cannot do.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("runs");
    let pid = libc::pid_t::try_from(child.id()).expect("a pid");
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: wait4 writes into the two locals, which outlive the call; the pid is our child,
    // not waited for by anyone else.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    // Linux reports kilobytes.
    (code, u64::try_from(usage.ru_maxrss).unwrap_or(0) * 1024)
}

/// Regression: an error in a large scenario file (here an unknown extension in the last of
/// 140 000 steps, 8 MB) was located by parsing the whole file into a syntax tree, which took
/// about 18 times the file in memory (about 40 times for a 200 MB file). The position is now
/// found by scanning the text: loading takes a small multiple of the file.
#[test]
fn a_large_scenario_is_loaded_in_memory_proportional_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("large.json");
    let mut text = String::from(
        r#"{"name": "n", "description": "d",
 "extensions": {"e": {"manifest": {"name": "E", "version": "1.0"}}},
 "timeline": ["start""#,
    );
    for i in 0..70_000 {
        text.push_str(&format!(
            ",\n  {{\"fire_event\": {{\"extension\": \"e\", \"event\": \"alarms.onAlarm\", \"args\": {{\"name\": \"w{i}\"}}}}}},\n  {{\"advance\": \"1s\"}}"
        ));
    }
    text.push_str(",\n  {\"install\": \"nobody\"}]}\n");
    std::fs::write(&file, &text).unwrap();
    let size = text.len() as u64;
    assert!(size > 7_500_000, "{size}");

    let started = Instant::now();
    let (code, peak) = peak_memory(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(started.elapsed() < LIMIT);
    // The command alone takes about 10 MB; the file's text and its values about 6 times its
    // size. The syntax tree took 18 times.
    assert!(
        peak < 10 * size + 16 * 1024 * 1024,
        "peak {peak} bytes for a file of {size} bytes"
    );
}
