//! A host's stderr: Chrome passes it to its own stderr; Firefox captures it and logs each
//! line as `stderr output from native app <name>: <line>`.

use std::fmt;
use std::process::Stdio;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;
use tokio::sync::mpsc;

/// The longest stderr line handed over; longer lines are split.
pub const MAX_STDERR_LINE: usize = 64 * 1024;

/// One line a host wrote to stderr (without its line ending; invalid UTF-8 replaced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StderrLine {
    /// The host's name.
    pub host: String,
    /// The host's process id.
    pub pid: u32,
    /// The line.
    pub line: String,
}

impl fmt::Display for StderrLine {
    /// Firefox's log wording: `stderr output from native app <name>: <line>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stderr output from native app {}: {}",
            self.host, self.line
        )
    }
}

/// Where a host's stderr goes.
#[derive(Clone, Default)]
pub enum StderrSink {
    /// This process's stderr, as Chrome does.
    #[default]
    Inherit,
    /// Discarded (`/dev/null`).
    Null,
    /// Captured and logged line by line with `tracing` (target `runtime_native::stderr`),
    /// in Firefox's wording.
    Log,
    /// Captured and sent line by line to a channel. Lossless: when the channel is full
    /// the host waits on its stderr pipe, so drain it (or size it generously). Lines are
    /// dropped once the receiver is gone.
    Channel(mpsc::Sender<StderrLine>),
    /// Captured and handed line by line to a callback, called on a Tokio task.
    Callback(Arc<dyn Fn(StderrLine) + Send + Sync>),
}

impl fmt::Debug for StderrSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StderrSink::Inherit => "Inherit",
            StderrSink::Null => "Null",
            StderrSink::Log => "Log",
            StderrSink::Channel(_) => "Channel",
            StderrSink::Callback(_) => "Callback",
        })
    }
}

impl StderrSink {
    /// A channel sink and its receiver.
    pub fn channel(capacity: usize) -> (StderrSink, mpsc::Receiver<StderrLine>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (StderrSink::Channel(tx), rx)
    }

    /// A callback sink.
    pub fn callback(f: impl Fn(StderrLine) + Send + Sync + 'static) -> StderrSink {
        StderrSink::Callback(Arc::new(f))
    }

    /// The `Stdio` to give the child.
    pub(crate) fn stdio(&self) -> Stdio {
        match self {
            StderrSink::Inherit => Stdio::inherit(),
            StderrSink::Null => Stdio::null(),
            StderrSink::Log | StderrSink::Channel(_) | StderrSink::Callback(_) => Stdio::piped(),
        }
    }

    async fn deliver(&self, line: StderrLine) {
        match self {
            StderrSink::Log => tracing::info!(target: "runtime_native::stderr", "{line}"),
            StderrSink::Channel(tx) => {
                // A gone receiver means nobody wants the lines; keep draining the pipe.
                let _ = tx.send(line).await;
            }
            StderrSink::Callback(f) => f(line),
            StderrSink::Inherit | StderrSink::Null => {}
        }
    }
}

/// Reads `stderr` to its end, handing each line to `sink`.
pub(crate) async fn pump(stderr: ChildStderr, host: String, pid: u32, sink: StderrSink) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::new();
    loop {
        let chunk = match reader.fill_buf().await {
            Ok([]) | Err(_) => break,
            Ok(chunk) => chunk,
        };
        let room = MAX_STDERR_LINE - line.len();
        let (take, complete) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) if i < room => (i + 1, true),
            _ if chunk.len() >= room => (room, true),
            _ => (chunk.len(), false),
        };
        line.extend_from_slice(&chunk[..take]);
        reader.consume(take);
        if complete {
            sink.deliver(make_line(&host, pid, &line)).await;
            line.clear();
        }
    }
    if !line.is_empty() {
        sink.deliver(make_line(&host, pid, &line)).await;
    }
}

fn make_line(host: &str, pid: u32, raw: &[u8]) -> StderrLine {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    StderrLine {
        host: host.to_owned(),
        pid,
        line: String::from_utf8_lossy(raw).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn firefox_wording() {
        let line = make_line("ping_pong", 7, b"hello\r\n");
        assert_eq!(line.line, "hello");
        assert_eq!(
            line.to_string(),
            "stderr output from native app ping_pong: hello"
        );
        assert_eq!(make_line("h", 1, b"\xff\n").line, "\u{fffd}");
    }
}
