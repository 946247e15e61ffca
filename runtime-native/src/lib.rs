//! Native messaging for `runtime-sim`: the browser's side and the host's side.
//!
//! This crate knows nothing of the event bus or of the simulated browser; `runtime-core`
//! composes it with them. It reproduces §5 of `runtime-behaviour.md`: host manifests and
//! their lookup, the length-prefixed JSON wire protocol, launching and ending host
//! processes as Chrome and Firefox do, the browsers' exact error strings, and a small
//! library to write hosts in Rust.
//!
//! ```
//! use bytes::BytesMut;
//! use runtime_native::{BrowserKind, HostManifest, NativeCodec, Received};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! // A host manifest, checked by Chrome's rules and by Firefox's.
//! let manifest = HostManifest::new("ping_pong", "Example host", "/opt/ping_pong/host")
//!     .allow(BrowserKind::Chrome, "knldjmfmopnpolahpmmgbagdohdnhkik");
//! manifest.validate_for(BrowserKind::Chrome, "ping_pong").unwrap();
//! assert!(manifest.validate(BrowserKind::Firefox).is_err()); // no allowed_extensions
//!
//! // One frame on the wire: a native-endian length, then UTF-8 JSON.
//! let mut codec = NativeCodec::browser_side();
//! let mut wire = BytesMut::new();
//! codec.encode(&serde_json::json!("ping"), &mut wire).unwrap();
//! assert_eq!(&wire[..], &[&6u32.to_ne_bytes()[..], b"\"ping\""].concat()[..]);
//! let Some(Received::Message(message)) = codec.decode(&mut wire).unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(message, "ping");
//!
//! // A header announcing more than 1 MiB is refused before the body is read.
//! wire.extend_from_slice(&(1_048_577u32).to_ne_bytes());
//! let err = codec.decode(&mut wire).unwrap_err();
//! assert_eq!(
//!     runtime_native::NativeError::from_frame_error(err).to_string(),
//!     "Error when communicating with the native messaging host."
//! );
//! ```
//!
//! # Where things are
//!
//! Every type and function is at the crate's root, under one path; two modules hold what
//! reads best qualified:
//!
//! * [`host`] — the host's side: read and write messages, `serve` loops.
//! * [`codec`] — the wire protocol as blocking functions, and its size limits (§5.1); its
//!   tokio-util codec is [`NativeCodec`].
//! * [`error`] — the browsers' exact error strings (§5.4), which [`NativeError`] displays.
//!
//! At the root, by area:
//!
//! * the browser: [`BrowserKind`] (Chrome, Chromium or Firefox, whose rules apply);
//! * manifests: [`HostManifest`] and its validation (§5.3), [`Lookup`] (finding `<name>.json`
//!   in the browsers' folders, [`default_dirs`]), [`load_manifest`], [`FoundHost`], and the
//!   size a manifest may have, [`MAX_HOST_MANIFEST_SIZE`] ([`read_regular_file`] reads it);
//! * starting hosts: [`Launch`] (argv, folder, spawn) and [`Launcher`], with
//!   `connect_native` / `send_native_message` (§5.2);
//! * running hosts: [`HostProcess`] (send, receive, close), [`HostWriter`], [`HostReader`],
//!   [`ClosingHost`], and their stderr: [`StderrSink`], [`StderrLine`];
//! * ending hosts: [`ShutdownPolicy`] and [`HostExit`] (§5.5);
//! * errors: [`NativeError`], [`NotFoundReason`], [`FrameError`], [`InvalidMessage`];
//! * tests: [`TempHost`] (a host registered in one call) and [`Launcher::isolated`] /
//!   [`Lookup::only`] (no search of the machine's real manifest folders).
//!
//! # Time
//!
//! Host processes are real processes and run in real time: the grace periods of a
//! shutdown (2 s for Chrome; 3 s + 3 s for Firefox) are Tokio timers on the wall clock.
//! The simulator's virtual clock (event-page lifecycle, idle timers) lives elsewhere and
//! does not drive this crate; a test that pauses Tokio's clock pauses these timers too.
//!
//! # Processes
//!
//! Every host is reaped, whether it is closed ([`HostProcess::close`]) or dropped. When a
//! `HostProcess` is dropped without `close` (a task cancelled, a port torn down by a panic, a
//! runtime shut down), `Drop` sends SIGKILL and reaps the child synchronously, for at most two
//! seconds (a SIGKILLed process is normally gone in well under a millisecond), so reaping does
//! not depend on a runtime being alive.
//!
//! Each host runs in a process group of its own. Once it has ended, whatever it left running
//! in that group (a child forked into the background) is ended with SIGKILL and listed in
//! [`HostExit::left_running`]: Chrome and Firefox leave such processes running, adopted by
//! init, which a test suite would see as leaked processes. The shutdown policy's signals go
//! to the host alone, at the browser's times. A process that leaves the group (`setsid`) is
//! not found.

#![warn(missing_docs)]

mod browser;
mod errors;
mod file;
mod group;
mod launch;
mod lookup;
mod manifest;
mod process;
mod shutdown;
mod stderr;
mod temp_host;
mod wire;

pub mod host;

/// The wire protocol (§5.1) as blocking functions, and its limits: each message is a 4-byte
/// unsigned length in the machine's native byte order, then that many bytes of UTF-8 JSON.
/// The tokio-util codec of the same protocol is [`NativeCodec`].
pub mod codec {
    pub use crate::wire::{
        encode_frame, encode_message, read_frame, read_message, write_frame, write_message,
        BROWSER_TO_HOST_MAX, HEADER_LEN, HOST_TO_BROWSER_MAX,
    };
}

/// The browsers' exact error strings (§5.4): what [`NativeError`]
/// displays, and what an extension reads in `runtime.lastError`.
pub mod error {
    pub use crate::errors::{
        COMMUNICATION_ERROR, FAILED_TO_START, FIREFOX_NO_SUCH_APP, FORBIDDEN, HOST_EXITED,
        INVALID_JSON, INVALID_NAME, NOT_FOUND,
    };
}

pub use browser::{BrowserKind, ParseBrowserKindError};
pub use errors::{ErrorKind, NativeError, NotFoundReason};
pub use file::read_regular_file;
pub use launch::{Launch, Launcher, NativeReply};
pub use lookup::{default_dirs, load_manifest, FoundHost, Lookup, Os, MAX_HOST_MANIFEST_SIZE};
pub use manifest::{HostManifest, HostManifestError};
pub use process::{ClosingHost, HostProcess, HostReader, HostWriter};
pub use shutdown::{
    GraceStep, HostExit, SentSignal, ShutdownPolicy, Signal, CHROME_GRACE, FIREFOX_GRACE,
};
pub use stderr::{StderrLine, StderrSink, MAX_STDERR_LINE};
pub use temp_host::TempHost;
pub use wire::{BodyError, FrameError, InvalidMessage, NativeCodec, Received};
