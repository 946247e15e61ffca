//! Launching a host like the browser (§5.2), and the two entry points an extension uses:
//! `connectNative` and `sendNativeMessage`.
//!
//! * argv: Chrome/Chromium `[path, "chrome-extension://<id>/"]`; Firefox
//!   `[path, <absolute manifest path>, <add-on id>]`;
//! * working directory: the folder holding the executable;
//! * stdin and stdout piped; stderr as the [`StderrSink`] says; environment inherited;
//! * a process group of its own, so that what it leaves running can be found and ended
//!   (see [`HostExit::left_running`](crate::HostExit::left_running)).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use tokio::process::Command;

use crate::browser::BrowserKind;
use crate::errors::{NativeError, NotFoundReason};
use crate::lookup::{FoundHost, Lookup};
use crate::process::{ClosingHost, HostProcess};
use crate::shutdown::ShutdownPolicy;
use crate::stderr::{self, StderrSink};
use crate::wire::NativeCodec;

/// Everything needed to start one host for one caller: program, arguments, folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    browser: BrowserKind,
    host_name: String,
    program: PathBuf,
    args: Vec<OsString>,
    current_dir: PathBuf,
}

impl Launch {
    /// Prepares the launch of `found` for the extension `extension_id`.
    ///
    /// Fails with "forbidden" when the manifest does not allow the caller, and with "not
    /// found" when the executable does not exist.
    pub fn new(
        browser: BrowserKind,
        found: &FoundHost,
        extension_id: &str,
    ) -> Result<Launch, NativeError> {
        let manifest = &found.manifest;
        if !manifest.allows(browser, extension_id) {
            return Err(NativeError::Forbidden {
                browser,
                name: manifest.name.clone(),
                caller: browser.caller_origin(extension_id),
            });
        }
        let program = manifest.path.clone();
        if !program.exists() {
            return Err(NativeError::NotFound {
                browser,
                name: manifest.name.clone(),
                reason: NotFoundReason::ExecutableMissing { path: program },
            });
        }
        let args = match browser {
            BrowserKind::Firefox => vec![
                found.manifest_path.clone().into_os_string(),
                OsString::from(extension_id),
            ],
            BrowserKind::Chrome | BrowserKind::Chromium => {
                vec![OsString::from(browser.caller_origin(extension_id))]
            }
        };
        let current_dir = program
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
        Ok(Launch {
            browser,
            host_name: manifest.name.clone(),
            program,
            args,
            current_dir,
        })
    }

    /// The browser whose rules apply.
    pub fn browser(&self) -> BrowserKind {
        self.browser
    }

    /// The host's name.
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    /// The executable.
    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The arguments after argv\[0\].
    pub fn args(&self) -> &[OsString] {
        &self.args
    }

    /// The whole argv, program first.
    pub fn argv(&self) -> Vec<OsString> {
        std::iter::once(self.program.clone().into_os_string())
            .chain(self.args.iter().cloned())
            .collect()
    }

    /// The working directory: the folder holding the executable.
    pub fn current_dir(&self) -> &Path {
        &self.current_dir
    }

    /// Starts the host. Must be called within a Tokio runtime with I/O enabled
    /// (outside one it fails to start rather than panics).
    ///
    /// A file that cannot be executed (no permission, a `#!` interpreter that does not
    /// exist, not an executable format) is `Failed to start native messaging host.`
    pub fn spawn(
        &self,
        policy: ShutdownPolicy,
        stderr: StderrSink,
    ) -> Result<HostProcess, NativeError> {
        if let Err(e) = tokio::runtime::Handle::try_current() {
            return Err(NativeError::FailedToStart {
                name: self.host_name.clone(),
                path: self.program.clone(),
                source: std::io::Error::other(e),
            });
        }
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .current_dir(&self.current_dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(stderr.stdio())
            .process_group(0)
            .kill_on_drop(true);
        let spawned = {
            let _exec = crate::temp_host::exec_guard();
            command.spawn()
        };
        let mut child = spawned.map_err(|source| NativeError::FailedToStart {
            name: self.host_name.clone(),
            path: self.program.clone(),
            source,
        })?;
        let pid = child.id().unwrap_or(0);
        if let Some(stdin) = &child.stdin {
            enlarge_pipe(stdin);
        }
        if let Some(stdout) = &child.stdout {
            enlarge_pipe(stdout);
        }
        let stderr_task = child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(stderr::pump(pipe, self.host_name.clone(), pid, stderr)));
        tracing::debug!(host = %self.host_name, pid, "native host started");
        Ok(HostProcess::new(
            self.host_name.clone(),
            child,
            NativeCodec::browser_side(),
            stderr_task,
            policy,
        ))
    }
}

/// The pipe capacity asked for on Linux: one largest host message.
#[cfg(target_os = "linux")]
const PIPE_CAPACITY: libc::c_int = 1024 * 1024;

/// Asks Linux for a larger pipe, so that a large message crosses in a few system calls
/// instead of one wake-up per 64 KiB (2.5x the throughput of 512 KiB messages). Framing
/// and ordering are unchanged. If the system refuses (over `/proc/sys/fs/pipe-max-size`,
/// or the user over `pipe-user-pages-soft`, about 32 hosts open at once), the pipe keeps
/// its default size.
#[cfg(target_os = "linux")]
fn enlarge_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ on a descriptor we own; no memory is passed.
    let _ = unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_CAPACITY) };
}

#[cfg(not(target_os = "linux"))]
fn enlarge_pipe<T>(_pipe: &T) {}

/// The reply of [`Launcher::send_native_message`].
#[derive(Debug)]
pub struct NativeReply {
    /// The first message the host wrote.
    pub message: Value,
    /// The host being closed after the reply (stdin closed, then the shutdown policy).
    /// Await it for the exit report, or drop it.
    pub closing: ClosingHost,
}

/// The browser side of native messaging for one browser: where manifests are, how hosts
/// are ended, where their stderr goes.
#[derive(Debug, Clone)]
pub struct Launcher {
    browser: BrowserKind,
    lookup: Lookup,
    policy: ShutdownPolicy,
    stderr: StderrSink,
}

impl Launcher {
    /// The browser's defaults: its manifest folders, its shutdown policy, stderr inherited.
    pub fn new(browser: BrowserKind) -> Launcher {
        Launcher {
            browser,
            lookup: Lookup::new(browser),
            policy: browser.shutdown_policy(),
            stderr: StderrSink::Inherit,
        }
    }

    /// A launcher that finds no host until told where to look ([`with_dir`](Self::with_dir),
    /// [`with_lookup`](Self::with_lookup)): it never searches the machine's own manifest
    /// folders, so that a test finds only the hosts it wrote (see [`TempHost`]) and does not
    /// depend on what is installed. Otherwise as [`new`](Self::new). The command and
    /// [`new`](Self::new) keep the browser's real folders.
    ///
    /// ```
    /// use runtime_native::{BrowserKind, Launcher};
    ///
    /// let launcher = Launcher::isolated(BrowserKind::Chrome).with_dir("/tmp/my-test-hosts");
    /// assert_eq!(
    ///     launcher.lookup().search_dirs(),
    ///     vec![std::path::PathBuf::from("/tmp/my-test-hosts")]
    /// );
    /// let err = Launcher::isolated(BrowserKind::Chrome)
    ///     .resolve("com.example.anything", "knldjmfmopnpolahpmmgbagdohdnhkik")
    ///     .unwrap_err();
    /// assert_eq!(err.to_string(), "Specified native messaging host not found.");
    /// ```
    ///
    /// [`TempHost`]: crate::TempHost
    pub fn isolated(browser: BrowserKind) -> Launcher {
        Launcher::new(browser).with_lookup(Lookup::only(browser, Vec::<PathBuf>::new()))
    }

    /// Adds a folder searched for manifests before the others (in the order added).
    pub fn with_dir(mut self, dir: impl Into<PathBuf>) -> Launcher {
        self.lookup = self.lookup.dir(dir);
        self
    }

    /// Uses `lookup` to find manifests.
    pub fn with_lookup(mut self, lookup: Lookup) -> Launcher {
        self.lookup = lookup;
        self
    }

    /// Uses `policy` to end hosts.
    pub fn with_policy(mut self, policy: ShutdownPolicy) -> Launcher {
        self.policy = policy;
        self
    }

    /// Sends hosts' stderr to `stderr`.
    pub fn with_stderr(mut self, stderr: StderrSink) -> Launcher {
        self.stderr = stderr;
        self
    }

    /// The browser whose rules apply.
    pub fn browser(&self) -> BrowserKind {
        self.browser
    }

    /// The lookup in use.
    pub fn lookup(&self) -> &Lookup {
        &self.lookup
    }

    /// The shutdown policy in use.
    pub fn policy(&self) -> &ShutdownPolicy {
        &self.policy
    }

    /// Checks the name, finds and validates the manifest, checks the caller and the
    /// executable: everything before starting a process.
    pub fn resolve(&self, name: &str, extension_id: &str) -> Result<Launch, NativeError> {
        let found = self.lookup.find(name)?;
        Launch::new(self.browser, &found, extension_id)
    }

    /// `runtime.connectNative(name)` from extension `extension_id`: starts the host and
    /// returns it running. Must be called within a Tokio runtime.
    pub fn connect_native(
        &self,
        name: &str,
        extension_id: &str,
    ) -> Result<HostProcess, NativeError> {
        self.resolve(name, extension_id)?
            .spawn(self.policy.clone(), self.stderr.clone())
    }

    /// `runtime.sendNativeMessage(name, message)` from extension `extension_id`: starts a
    /// new host, sends the one message, takes the first message the host writes as the
    /// reply, then closes the host in the background (later messages are ignored).
    ///
    /// A host that exits without replying gives `Native host has exited.`; a reply that
    /// is not JSON gives `The sender sent an invalid JSON message; message ignored.`
    pub async fn send_native_message<T: Serialize + ?Sized>(
        &self,
        name: &str,
        extension_id: &str,
        message: &T,
    ) -> Result<NativeReply, NativeError> {
        let mut host = self.connect_native(name, extension_id)?;
        let reply = host.exchange(message).await;
        let closing = host.close_in_background();
        reply.map(|message| NativeReply { message, closing })
    }
}
