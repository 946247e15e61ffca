//! A running native messaging host, seen from the browser's side.
//!
//! # Reaping
//!
//! Every child is reaped. [`HostProcess::close`] follows the [`ShutdownPolicy`] and waits
//! for the exit. When a `HostProcess` is dropped without `close` (a task cancelled, a port
//! torn down by a panic, a runtime shut down), `Drop` sends SIGKILL and then reaps the
//! child *synchronously* with `waitpid(WNOHANG)` polls through Tokio's own handle (so the
//! pid is never waited for behind Tokio's back), for at most two seconds. A SIGKILLed
//! process is normally gone in well under a millisecond, so the drop blocks only briefly;
//! in the pathological case (a process stuck in the kernel) the child is left to Tokio's
//! orphan reaper. This keeps reaping independent of whether a runtime is still alive to
//! run a reaper task. The child is also spawned with `kill_on_drop(true)` as a second line
//! of defence.
//!
//! # What a host leaves running
//!
//! Each host is started in a process group of its own. When it has ended — by itself, by the
//! [`ShutdownPolicy`], or killed by `Drop` — whatever is still running in its group (a child it
//! forked and left in the background) is ended with SIGKILL, and [`close`](HostProcess::close)
//! lists it in [`HostExit::left_running`]. Browsers leave such processes running, adopted by
//! init; a test suite would see them as leaked processes. The policy's signals still go
//! to the host alone, at the browser's times.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use serde::Serialize;
use serde_json::Value;
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::task::JoinHandle;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::errors::NativeError;
use crate::group;
use crate::shutdown::{HostExit, SentSignal, ShutdownPolicy, Signal};
use crate::wire::{FrameError, NativeCodec, Received};

/// How long `close` waits for the stderr reader after the host is gone (a grandchild may
/// still hold the pipe open).
const STDERR_DRAIN: Duration = Duration::from_millis(500);
/// How long `Drop` waits for a SIGKILLed child to be reaped.
const DROP_REAP_LIMIT: Duration = Duration::from_secs(2);

/// Why reading stopped, so that later calls repeat it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadEnd {
    Exited,
    Failed,
}

/// A running host: send it messages, receive its messages, close it like the browser.
///
/// [`recv`](Self::recv) is cancel-safe, so a port can `select!` over it and an outgoing
/// queue. To write and read at the same time (a host may write while it does not read, and a
/// browser keeps reading while its write waits), [`split`](Self::split) it.
#[derive(Debug)]
pub struct HostProcess {
    name: String,
    pid: u32,
    child: Option<Child>,
    writer: HostWriter,
    reader: HostReader,
    stderr_task: Option<JoinHandle<()>>,
    policy: ShutdownPolicy,
}

/// The browser's writing side of a host: the host's stdin. Borrowed from a [`HostProcess`]
/// with [`HostProcess::split`].
#[derive(Debug)]
pub struct HostWriter {
    writer: Option<FramedWrite<ChildStdin, NativeCodec>>,
    stdin_closed_at: Option<Instant>,
}

/// The browser's reading side of a host: the host's stdout. Borrowed from a [`HostProcess`]
/// with [`HostProcess::split`].
#[derive(Debug)]
pub struct HostReader {
    reader: Option<FramedRead<ChildStdout, NativeCodec>>,
    read_end: Option<ReadEnd>,
}

impl HostProcess {
    /// Wraps a spawned child whose stdin and stdout are piped.
    pub(crate) fn new(
        name: String,
        mut child: Child,
        codec: NativeCodec,
        stderr_task: Option<JoinHandle<()>>,
        policy: ShutdownPolicy,
    ) -> HostProcess {
        let pid = child.id().unwrap_or(0);
        let writer = child
            .stdin
            .take()
            .map(|stdin| FramedWrite::new(stdin, codec));
        let reader = child
            .stdout
            .take()
            .map(|stdout| FramedRead::with_capacity(stdout, codec, 16 * 1024));
        HostProcess {
            name,
            pid,
            child: Some(child),
            writer: HostWriter {
                writer,
                stdin_closed_at: None,
            },
            reader: HostReader {
                reader,
                read_end: None,
            },
            stderr_task,
            policy,
        }
    }

    /// Both sides at once: a port can write a message and go on reading what the host writes
    /// meanwhile, as browsers do. A host that writes much while it does not read would
    /// otherwise wait on its full stdout while the browser waits on its full stdin.
    pub fn split(&mut self) -> (&mut HostWriter, &mut HostReader) {
        (&mut self.writer, &mut self.reader)
    }

    /// The host's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The policy [`close`](Self::close) follows.
    pub fn policy(&self) -> &ShutdownPolicy {
        &self.policy
    }

    /// Replaces the shutdown policy.
    pub fn set_policy(&mut self, policy: ShutdownPolicy) {
        self.policy = policy;
    }

    /// Sends one message; see [`HostWriter::send`].
    pub async fn send<T: Serialize + ?Sized>(&mut self, message: &T) -> Result<(), NativeError> {
        self.writer.send(message).await
    }

    /// Sends one message that is already serialized as JSON; see [`HostWriter::send_json`].
    pub async fn send_json(&mut self, body: Bytes) -> Result<(), NativeError> {
        self.writer.send_json(body).await
    }

    /// Receives the next frame; see [`HostReader::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Received, NativeError> {
        self.reader.recv().await
    }

    /// The exchange of `sendNativeMessage`: sends `message`, and takes the first message the
    /// host writes as the reply. A reply that is not JSON is
    /// `The sender sent an invalid JSON message; message ignored.`; a host that exits first,
    /// `Native host has exited.`
    ///
    /// It waits as long as the host takes, as the browser does; bound it with a timeout if need
    /// be, then [`close`](Self::close) the host.
    pub async fn exchange<T: Serialize + ?Sized>(
        &mut self,
        message: &T,
    ) -> Result<Value, NativeError> {
        // A host that answers without reading may have exited before the write: the browser
        // reads the host's output all the while, so an answer already written still arrives.
        match self.send(message).await {
            Ok(()) => {}
            Err(exited @ NativeError::HostExited { .. }) => {
                return match self.recv().await {
                    Ok(Received::Message(value)) => Ok(value),
                    _ => Err(exited),
                };
            }
            Err(error) => return Err(error),
        }
        match self.recv().await? {
            Received::Message(value) => Ok(value),
            Received::Invalid(invalid) => Err(NativeError::InvalidMessage(invalid)),
        }
    }

    /// Closes the host's stdin (the host sees end of file) without waiting. Messages the
    /// host still writes can be received. Does nothing the second time.
    pub fn close_stdin(&mut self) {
        self.writer.close_stdin();
    }

    /// Whether the host has exited (without reaping it).
    pub fn has_exited(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => !matches!(child.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Ends the host like the browser: closes its stdin and stdout, then follows the
    /// shutdown policy (Chrome: SIGKILL after 2 s; Firefox: SIGTERM after 3 s, SIGKILL 3 s
    /// later) in real time, and reaps it. Reports how it ended.
    ///
    /// If this future is dropped before it finishes, the host is killed and reaped by
    /// `Drop`.
    pub async fn close(mut self) -> io::Result<HostExit> {
        let exited_before_eof = self.has_exited();
        self.reader.reader = None;
        self.close_stdin();
        let eof = self.writer.stdin_closed_at.unwrap_or_else(Instant::now);
        let steps = self.policy.steps().to_vec();
        let Some(child) = self.child.as_mut() else {
            return Err(io::Error::other("host process already reaped"));
        };

        let mut signals_sent = Vec::new();
        let mut status = None;
        for step in steps {
            match tokio::time::timeout(step.wait, child.wait()).await {
                Ok(result) => {
                    status = Some(result?);
                    break;
                }
                Err(_elapsed) => {
                    send_signal(child, step.signal)?;
                    signals_sent.push(SentSignal {
                        signal: step.signal,
                        after_eof: eof.elapsed(),
                    });
                }
            }
        }
        let status = match status {
            Some(status) => status,
            None => {
                if signals_sent.last().map(|s| s.signal) != Some(Signal::KILL) {
                    send_signal(child, Signal::KILL)?;
                    signals_sent.push(SentSignal {
                        signal: Signal::KILL,
                        after_eof: eof.elapsed(),
                    });
                }
                child.wait().await?
            }
        };
        let after_eof = eof.elapsed();
        self.child = None;
        let left_running = end_left_running(&self.name, self.pid);

        if let Some(task) = self.stderr_task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(STDERR_DRAIN, task).await.is_err() {
                abort.abort();
            }
        }
        let exit = HostExit {
            status,
            signals_sent,
            after_eof,
            exited_before_eof,
            left_running,
        };
        tracing::debug!(host = %self.name, pid = self.pid, "native host {exit}");
        Ok(exit)
    }

    /// Runs [`close`](Self::close) on a Tokio task and returns at once; await the
    /// [`ClosingHost`] for the report, or drop it to let the shutdown run on its own.
    pub fn close_in_background(self) -> ClosingHost {
        let pid = self.pid;
        ClosingHost {
            pid,
            task: tokio::spawn(self.close()),
        }
    }
}

impl HostWriter {
    /// Sends one message. A broken pipe (the host is gone) is `Native host has exited.`;
    /// other failures are communication errors. A message over the 64 MiB limit is
    /// refused without touching the pipe.
    ///
    /// Not cancel-safe: a send dropped before it finishes may have queued its message, which
    /// the next send writes. Keep the future until it is done (while reading, if need be).
    pub async fn send<T: Serialize + ?Sized>(&mut self, message: &T) -> Result<(), NativeError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(stdin_closed());
        };
        let result = writer.send(message).await;
        self.write_result(result)
    }

    /// Sends one message that is already serialized as JSON (as the browser does with a
    /// message the extension's page serialized). The body is not checked; errors are as
    /// for [`send`](Self::send).
    pub async fn send_json(&mut self, body: Bytes) -> Result<(), NativeError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(stdin_closed());
        };
        let result = writer.send(body).await;
        self.write_result(result)
    }

    fn write_result(&mut self, result: Result<(), FrameError>) -> Result<(), NativeError> {
        match result {
            Ok(()) => Ok(()),
            Err(e @ (FrameError::TooLarge { .. } | FrameError::Encode(_))) => {
                Err(NativeError::Communication { source: e })
            }
            Err(e) => {
                self.close_stdin();
                Err(NativeError::from_frame_error(e))
            }
        }
    }

    /// Closes the host's stdin (the host sees end of file) without waiting. Messages the
    /// host still writes can be received. Does nothing the second time.
    pub fn close_stdin(&mut self) {
        if self.writer.take().is_some() {
            self.stdin_closed_at = Some(Instant::now());
        }
    }
}

impl HostReader {
    /// Receives the next frame: a message, or an invalid body ([`Received::Invalid`]) for
    /// the caller to drop or report.
    ///
    /// End of file (also inside a frame) is `Native host has exited.`; an oversize
    /// length or an I/O error is `Error when communicating with the native messaging
    /// host.` After either, every later call fails the same way. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Received, NativeError> {
        if let Some(end) = self.read_end {
            return Err(repeat_end(end));
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(repeat_end(ReadEnd::Exited));
        };
        match reader.next().await {
            Some(Ok(received)) => Ok(received),
            None => {
                self.read_end = Some(ReadEnd::Exited);
                Err(NativeError::HostExited { source: None })
            }
            Some(Err(e)) => {
                let error = NativeError::from_frame_error(e);
                self.read_end = Some(match error {
                    NativeError::HostExited { .. } => ReadEnd::Exited,
                    _ => ReadEnd::Failed,
                });
                Err(error)
            }
        }
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        self.reader.reader = None;
        self.writer.writer = None;
        if let Some(task) = self.stderr_task.take() {
            task.abort();
        }
        if let Some(mut child) = self.child.take() {
            kill_and_reap(&mut child, &self.name);
            end_left_running(&self.name, self.pid);
        }
    }
}

/// Ends what the host `name` (whose group is `pid`) left running, and logs it.
fn end_left_running(name: &str, pid: u32) -> Vec<u32> {
    let left_running = group::end_group(pid);
    if !left_running.is_empty() {
        tracing::debug!(
            host = name,
            pid,
            ?left_running,
            "native host left processes running; ended with SIGKILL"
        );
    }
    left_running
}

/// SIGKILL, then reap through Tokio's handle, polling for a bounded time.
fn kill_and_reap(child: &mut Child, name: &str) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = child.start_kill();
    let started = Instant::now();
    let mut pause = Duration::from_micros(50);
    loop {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => {}
        }
        if started.elapsed() >= DROP_REAP_LIMIT {
            tracing::warn!(
                host = name,
                "native host not reaped after SIGKILL; left to the orphan reaper"
            );
            return;
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(10));
    }
}

/// Sends `signal` to a child that has not been reaped yet (so its pid cannot have been
/// reused).
fn send_signal(child: &mut Child, signal: Signal) -> io::Result<()> {
    if signal == Signal::KILL {
        return match child.start_kill() {
            // Already exited but not reaped: nothing to kill.
            Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
            other => other,
        };
    }
    let Some(pid) = child.id() else {
        return Ok(());
    };
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    // SAFETY: kill(2) has no memory-safety preconditions; the pid belongs to our unreaped
    // child, so it names that process (or its zombie).
    let rc = unsafe { libc::kill(pid, signal.as_raw()) };
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(err)
    }
}

fn stdin_closed() -> NativeError {
    NativeError::HostExited {
        source: Some(FrameError::Io(io::Error::new(
            io::ErrorKind::BrokenPipe,
            "the host's stdin is closed",
        ))),
    }
}

fn repeat_end(end: ReadEnd) -> NativeError {
    match end {
        ReadEnd::Exited => NativeError::HostExited { source: None },
        ReadEnd::Failed => NativeError::Communication {
            source: FrameError::Io(io::Error::other(
                "an earlier error ended communication with the host",
            )),
        },
    }
}

/// A host being closed on a Tokio task; resolves to how it ended.
#[derive(Debug)]
pub struct ClosingHost {
    pid: u32,
    task: JoinHandle<io::Result<HostExit>>,
}

impl ClosingHost {
    /// The host's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Future for ClosingHost {
    type Output = io::Result<HostExit>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.task)
            .poll(cx)
            .map(|joined| joined.unwrap_or_else(|e| Err(io::Error::other(e))))
    }
}
