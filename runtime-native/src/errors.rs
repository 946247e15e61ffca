//! Errors whose `Display` is the browser's exact string (§5.4).
//!
//! The cause (an I/O error, a manifest problem, a protocol violation) stays reachable
//! through [`std::error::Error::source`] and the variants' fields; it never changes the
//! message an extension would see in `runtime.lastError`.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;

use crate::browser::BrowserKind;
use crate::manifest::HostManifestError;
use crate::wire::{FrameError, InvalidMessage};

/// `Invalid native messaging host name specified.`
pub const INVALID_NAME: &str = "Invalid native messaging host name specified.";
/// `Specified native messaging host not found.`
pub const NOT_FOUND: &str = "Specified native messaging host not found.";
/// `Access to the specified native messaging host is forbidden.`
pub const FORBIDDEN: &str = "Access to the specified native messaging host is forbidden.";
/// `Failed to start native messaging host.`
pub const FAILED_TO_START: &str = "Failed to start native messaging host.";
/// `Native host has exited.`
pub const HOST_EXITED: &str = "Native host has exited.";
/// `Error when communicating with the native messaging host.`
pub const COMMUNICATION_ERROR: &str = "Error when communicating with the native messaging host.";
/// `The sender sent an invalid JSON message; message ignored.` — the console notice for a
/// dropped message, and the error of `sendNativeMessage` whose reply is not valid JSON.
pub const INVALID_JSON: &str = "The sender sent an invalid JSON message; message ignored.";
/// Firefox's wording for both "not found" and "forbidden" is this prefix followed by the
/// host name: `No such native application <name>`.
pub const FIREFOX_NO_SUCH_APP: &str = "No such native application";

/// The category of a [`NativeError`], for matching without the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The requested name breaks the host name rule.
    InvalidName,
    /// No usable manifest, or the executable is missing.
    NotFound,
    /// The caller is not in the manifest's allow list.
    Forbidden,
    /// The process could not be started.
    FailedToStart,
    /// The host closed its stdout or exited.
    HostExited,
    /// A protocol or I/O error (including an oversize message).
    Communication,
    /// A message that was framed correctly but whose body is not UTF-8 JSON.
    InvalidMessage,
}

/// An error of native messaging, displayed exactly as the browser reports it.
#[derive(Debug)]
#[non_exhaustive]
pub enum NativeError {
    /// The requested host name breaks the name rule.
    InvalidName {
        /// The requested name.
        name: String,
    },
    /// No manifest for the name, an unreadable or invalid manifest, a name mismatch, a
    /// relative path, or a missing executable.
    NotFound {
        /// Whose wording to use.
        browser: BrowserKind,
        /// The requested name.
        name: String,
        /// What exactly was wrong.
        reason: NotFoundReason,
    },
    /// The caller's origin (Firefox: add-on id) is not allowed by the manifest.
    Forbidden {
        /// Whose wording to use.
        browser: BrowserKind,
        /// The requested name.
        name: String,
        /// The caller as the manifest would list it.
        caller: String,
    },
    /// The process could not be started (not executable, missing interpreter, ...).
    FailedToStart {
        /// The requested name.
        name: String,
        /// The executable that failed to start.
        path: PathBuf,
        /// The error of `execve`/`spawn`.
        source: io::Error,
    },
    /// The host closed its stdout (end of file), reset the pipe or exited.
    HostExited {
        /// What was observed, if more than a clean end of file.
        source: Option<FrameError>,
    },
    /// A protocol or I/O error; the channel is unusable afterwards.
    Communication {
        /// The protocol violation or I/O error.
        source: FrameError,
    },
    /// A message whose body is not valid UTF-8 JSON. On a `connectNative` port the browser
    /// drops it and keeps the port; as the reply to `sendNativeMessage` it is this error.
    InvalidMessage(InvalidMessage),
}

impl NativeError {
    /// The category of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            NativeError::InvalidName { .. } => ErrorKind::InvalidName,
            NativeError::NotFound { .. } => ErrorKind::NotFound,
            NativeError::Forbidden { .. } => ErrorKind::Forbidden,
            NativeError::FailedToStart { .. } => ErrorKind::FailedToStart,
            NativeError::HostExited { .. } => ErrorKind::HostExited,
            NativeError::Communication { .. } => ErrorKind::Communication,
            NativeError::InvalidMessage(_) => ErrorKind::InvalidMessage,
        }
    }

    /// Classifies an error of reading from or writing to the host like the browser does:
    /// end of file, a truncated frame, a broken pipe or a reset connection mean the host
    /// has exited; anything else is a communication error.
    pub fn from_frame_error(error: FrameError) -> NativeError {
        let exited = match &error {
            FrameError::Truncated { .. } => true,
            FrameError::Io(io) => matches!(
                io.kind(),
                io::ErrorKind::BrokenPipe
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::UnexpectedEof
            ),
            FrameError::TooLarge { .. } | FrameError::Encode(_) => false,
        };
        if exited {
            NativeError::HostExited {
                source: Some(error),
            }
        } else {
            NativeError::Communication { source: error }
        }
    }
}

impl fmt::Display for NativeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NativeError::InvalidName { .. } => f.write_str(INVALID_NAME),
            NativeError::NotFound { browser, name, .. } => {
                if browser.is_firefox() {
                    write!(f, "{FIREFOX_NO_SUCH_APP} {name}")
                } else {
                    f.write_str(NOT_FOUND)
                }
            }
            NativeError::Forbidden { browser, name, .. } => {
                if browser.is_firefox() {
                    write!(f, "{FIREFOX_NO_SUCH_APP} {name}")
                } else {
                    f.write_str(FORBIDDEN)
                }
            }
            NativeError::FailedToStart { .. } => f.write_str(FAILED_TO_START),
            NativeError::HostExited { .. } => f.write_str(HOST_EXITED),
            NativeError::Communication { .. } => f.write_str(COMMUNICATION_ERROR),
            NativeError::InvalidMessage(_) => f.write_str(INVALID_JSON),
        }
    }
}

impl StdError for NativeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            NativeError::InvalidName { .. } | NativeError::Forbidden { .. } => None,
            NativeError::NotFound { reason, .. } => Some(reason),
            NativeError::FailedToStart { source, .. } => Some(source),
            NativeError::HostExited { source } => source.as_ref().map(|e| e as _),
            NativeError::Communication { source } => Some(source),
            NativeError::InvalidMessage(message) => message.source(),
        }
    }
}

impl From<InvalidMessage> for NativeError {
    fn from(message: InvalidMessage) -> Self {
        NativeError::InvalidMessage(message)
    }
}

/// Why a host was "not found" — kept for diagnostics; the displayed error stays the
/// browser's string.
#[derive(Debug)]
#[non_exhaustive]
pub enum NotFoundReason {
    /// No `<name>.json` in any searched folder.
    NoManifest {
        /// The folders searched, in order.
        searched: Vec<PathBuf>,
    },
    /// The manifest exists but could not be read.
    Unreadable {
        /// The manifest file.
        path: PathBuf,
        /// The read error.
        source: io::Error,
    },
    /// The manifest is not valid JSON, breaks a rule, or names another host.
    InvalidManifest {
        /// The manifest file.
        path: PathBuf,
        /// What is wrong with it.
        source: HostManifestError,
    },
    /// The manifest's `path` names no existing file.
    ExecutableMissing {
        /// The missing executable.
        path: PathBuf,
    },
}

impl fmt::Display for NotFoundReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotFoundReason::NoManifest { searched } => {
                write!(f, "no host manifest in ")?;
                if searched.is_empty() {
                    return f.write_str("any folder (no folder to search)");
                }
                for (i, dir) in searched.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", dir.display())?;
                }
                Ok(())
            }
            NotFoundReason::Unreadable { path, .. } => {
                write!(f, "cannot read host manifest {}", path.display())
            }
            NotFoundReason::InvalidManifest { path, .. } => {
                write!(f, "invalid host manifest {}", path.display())
            }
            NotFoundReason::ExecutableMissing { path } => {
                write!(f, "host executable {} does not exist", path.display())
            }
        }
    }
}

impl StdError for NotFoundReason {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            NotFoundReason::Unreadable { source, .. } => Some(source),
            NotFoundReason::InvalidManifest { source, .. } => Some(source),
            NotFoundReason::NoManifest { .. } | NotFoundReason::ExecutableMissing { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_the_browser_string() {
        let not_found = |browser| NativeError::NotFound {
            browser,
            name: "ping_pong".into(),
            reason: NotFoundReason::NoManifest { searched: vec![] },
        };
        assert_eq!(
            not_found(BrowserKind::Chrome).to_string(),
            "Specified native messaging host not found."
        );
        assert_eq!(
            not_found(BrowserKind::Firefox).to_string(),
            "No such native application ping_pong"
        );
        let forbidden = NativeError::Forbidden {
            browser: BrowserKind::Firefox,
            name: "ping_pong".into(),
            caller: "x@y".into(),
        };
        assert_eq!(
            forbidden.to_string(),
            "No such native application ping_pong"
        );
        assert_eq!(
            NativeError::HostExited { source: None }.to_string(),
            "Native host has exited."
        );
        let start = NativeError::FailedToStart {
            name: "a".into(),
            path: "/x".into(),
            source: io::Error::from(io::ErrorKind::PermissionDenied),
        };
        assert_eq!(start.to_string(), "Failed to start native messaging host.");
        assert!(start.source().is_some());
    }

    #[test]
    fn frame_errors_are_classified() {
        let exited =
            NativeError::from_frame_error(FrameError::Io(io::ErrorKind::BrokenPipe.into()));
        assert_eq!(exited.kind(), ErrorKind::HostExited);
        let big = NativeError::from_frame_error(FrameError::TooLarge {
            len: 2 << 20,
            max: 1 << 20,
        });
        assert_eq!(big.kind(), ErrorKind::Communication);
        assert_eq!(
            big.to_string(),
            "Error when communicating with the native messaging host."
        );
    }
}
