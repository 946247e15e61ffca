//! How a host is ended once its stdin is closed (§5.5), and the report of how it ended.
//!
//! The policy is data: a list of grace steps, each "wait this long for the host to exit,
//! then send this signal". Chrome: wait 2 s, SIGKILL (no SIGTERM). Firefox: wait 3 s,
//! SIGTERM, wait 3 s, SIGKILL. Tests may use shorter steps.

use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// Chrome's grace period between closing stdin and SIGKILL.
pub const CHROME_GRACE: Duration = Duration::from_secs(2);
/// Firefox's `GRACEFUL_SHUTDOWN_TIME`: between closing stdin and SIGTERM, and between
/// SIGTERM and SIGKILL.
pub const FIREFOX_GRACE: Duration = Duration::from_secs(3);

/// A POSIX signal number.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

impl Signal {
    /// SIGTERM: asks the process to end.
    pub const TERM: Signal = Signal(libc::SIGTERM);
    /// SIGKILL: ends the process; cannot be caught or ignored.
    pub const KILL: Signal = Signal(libc::SIGKILL);
    /// SIGINT.
    pub const INT: Signal = Signal(libc::SIGINT);
    /// SIGHUP.
    pub const HUP: Signal = Signal(libc::SIGHUP);

    /// The signal with number `number`.
    pub const fn from_raw(number: i32) -> Signal {
        Signal(number)
    }

    /// The signal's number.
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// The signal's name, e.g. `SIGKILL`, for the common ones.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            libc::SIGHUP => "SIGHUP",
            libc::SIGINT => "SIGINT",
            libc::SIGQUIT => "SIGQUIT",
            libc::SIGILL => "SIGILL",
            libc::SIGABRT => "SIGABRT",
            libc::SIGBUS => "SIGBUS",
            libc::SIGFPE => "SIGFPE",
            libc::SIGKILL => "SIGKILL",
            libc::SIGSEGV => "SIGSEGV",
            libc::SIGPIPE => "SIGPIPE",
            libc::SIGALRM => "SIGALRM",
            libc::SIGTERM => "SIGTERM",
            _ => return None,
        })
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "signal {}", self.0),
        }
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One step of a shutdown: wait up to `wait` for the host to exit, then send `signal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GraceStep {
    /// How long to wait (real time) for the host to exit on its own.
    pub wait: Duration,
    /// The signal sent if it has not.
    pub signal: Signal,
}

/// The steps taken after closing a host's stdin. If the host outlives every step, it is
/// killed with SIGKILL, so every policy ends with the host gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShutdownPolicy {
    steps: Vec<GraceStep>,
}

impl ShutdownPolicy {
    /// A policy of the given steps.
    pub fn new(steps: impl IntoIterator<Item = GraceStep>) -> ShutdownPolicy {
        ShutdownPolicy {
            steps: steps.into_iter().collect(),
        }
    }

    /// Chrome and Chromium: wait 2 s, then SIGKILL — no SIGTERM.
    pub fn chrome() -> ShutdownPolicy {
        ShutdownPolicy::new([GraceStep {
            wait: CHROME_GRACE,
            signal: Signal::KILL,
        }])
    }

    /// Firefox: wait 3 s, SIGTERM, wait 3 s, SIGKILL.
    pub fn firefox() -> ShutdownPolicy {
        ShutdownPolicy::new([
            GraceStep {
                wait: FIREFOX_GRACE,
                signal: Signal::TERM,
            },
            GraceStep {
                wait: FIREFOX_GRACE,
                signal: Signal::KILL,
            },
        ])
    }

    /// Adds a step: wait up to `wait`, then send `signal`.
    pub fn then(mut self, wait: Duration, signal: Signal) -> ShutdownPolicy {
        self.steps.push(GraceStep { wait, signal });
        self
    }

    /// The steps, in order.
    pub fn steps(&self) -> &[GraceStep] {
        &self.steps
    }

    /// The longest a shutdown can take before the final SIGKILL: the sum of the waits.
    pub fn total_grace(&self) -> Duration {
        self.steps.iter().map(|step| step.wait).sum()
    }
}

/// A signal sent during a shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SentSignal {
    /// The signal.
    pub signal: Signal,
    /// When it was sent, counted from the closing of stdin.
    pub after_eof: Duration,
}

/// How a host ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostExit {
    /// The process's exit status.
    pub status: ExitStatus,
    /// The signals this side sent, in order.
    pub signals_sent: Vec<SentSignal>,
    /// Time from the closing of the host's stdin (end of file) to its exit.
    pub after_eof: Duration,
    /// True when the host had already exited before its stdin was closed.
    pub exited_before_eof: bool,
    /// The processes of the host's process group still running once the host had ended:
    /// what it started and left behind (a child forked into the background), by pid, in
    /// increasing order. Chrome and Firefox leave these running (adopted by init); this side
    /// ended them with SIGKILL right after the host ended, so a test leaks nothing. Empty
    /// when the host left nothing (and on systems other than Linux, where the group is
    /// ended all the same but cannot be listed).
    pub left_running: Vec<u32>,
}

impl HostExit {
    /// The exit code, if the host exited normally.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// The signal that ended the host, if one did.
    pub fn signal(&self) -> Option<Signal> {
        self.status.signal().map(Signal::from_raw)
    }

    /// The signal that ended the host, if this side sent it (killed by us).
    pub fn killed_by(&self) -> Option<Signal> {
        let signal = self.signal()?;
        self.signals_sent
            .iter()
            .any(|sent| sent.signal == signal)
            .then_some(signal)
    }
}

impl fmt::Display for HostExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code(), self.killed_by(), self.signal()) {
            (Some(code), _, _) => write!(f, "exited with code {code}")?,
            (None, Some(signal), _) => write!(f, "killed by {signal}")?,
            (None, None, Some(signal)) => write!(f, "ended by {signal}")?,
            (None, None, None) => write!(f, "ended ({})", self.status)?,
        }
        write!(
            f,
            " {:.3} s after end of file",
            self.after_eof.as_secs_f64()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_policies() {
        assert_eq!(
            ShutdownPolicy::chrome().steps(),
            &[GraceStep {
                wait: Duration::from_secs(2),
                signal: Signal::KILL
            }]
        );
        let firefox = ShutdownPolicy::firefox();
        assert_eq!(firefox.steps().len(), 2);
        assert_eq!(firefox.steps()[0].signal, Signal::TERM);
        assert_eq!(firefox.total_grace(), Duration::from_secs(6));
        let custom = ShutdownPolicy::new([]).then(Duration::from_millis(10), Signal::INT);
        assert_eq!(custom.steps()[0].signal.to_string(), "SIGINT");
        assert_eq!(Signal::from_raw(64).to_string(), "signal 64");
    }

    #[test]
    fn killed_by_needs_our_signal() {
        let exit = HostExit {
            status: ExitStatus::from_raw(libc::SIGKILL),
            signals_sent: vec![SentSignal {
                signal: Signal::KILL,
                after_eof: CHROME_GRACE,
            }],
            after_eof: CHROME_GRACE,
            exited_before_eof: false,
            left_running: vec![],
        };
        assert_eq!(exit.signal(), Some(Signal::KILL));
        assert_eq!(exit.killed_by(), Some(Signal::KILL));
        assert_eq!(
            exit.to_string(),
            "killed by SIGKILL 2.000 s after end of file"
        );
        let crashed = HostExit {
            status: ExitStatus::from_raw(libc::SIGSEGV),
            signals_sent: vec![],
            ..exit
        };
        assert_eq!(crashed.killed_by(), None);
        assert_eq!(crashed.code(), None);
    }
}
