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
//! use runtime_native::codec::{NativeCodec, Received};
//! use runtime_native::{BrowserKind, Manifest};
//! use tokio_util::codec::{Decoder, Encoder};
//!
//! // A host manifest, checked by Chrome's rules and by Firefox's.
//! let manifest = Manifest::new("ping_pong", "Example host", "/opt/ping_pong/host")
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
//! # Modules
//!
//! * [`browser`] — [`BrowserKind`]: Chrome, Chromium or Firefox, whose rules apply.
//! * [`manifest`] — [`Manifest`] and its validation (§5.3).
//! * [`lookup`] — [`Lookup`]: finding `<name>.json` in the browsers' folders.
//! * [`codec`] — the wire protocol: [`NativeCodec`] and blocking frame functions (§5.1).
//! * [`launch`] — [`Launch`] (argv, folder, spawn) and [`Launcher`] with
//!   `connect_native` / `send_native_message` (§5.2).
//! * [`process`] — [`HostProcess`]: a running host; send, receive, close.
//! * [`shutdown`] — [`ShutdownPolicy`] and [`HostExit`] (§5.5).
//! * [`stderr`] — [`StderrSink`] and [`StderrLine`]: a host's stderr.
//! * [`error`] — [`NativeError`], displayed as the browser's exact strings (§5.4).
//! * [`host`] — the host's side: read/write messages and `serve` loops.
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
//! Every host is reaped, whether it is closed ([`HostProcess::close`]) or dropped — see
//! [`process`] for how `Drop` kills and reaps synchronously.

#![warn(missing_docs)]

pub mod browser;
pub mod codec;
pub mod error;
pub mod host;
pub mod launch;
pub mod lookup;
pub mod manifest;
pub mod process;
pub mod shutdown;
pub mod stderr;

pub use browser::BrowserKind;
pub use codec::{FrameError, InvalidMessage, NativeCodec, Received};
pub use error::{ErrorKind, NativeError, NotFoundReason};
pub use launch::{Launch, Launcher, NativeReply};
pub use lookup::{FoundHost, Lookup, Os};
pub use manifest::{Manifest, ManifestError};
pub use process::{ClosingHost, HostProcess, HostReader, HostWriter};
pub use shutdown::{GraceStep, HostExit, SentSignal, ShutdownPolicy, Signal};
pub use stderr::{StderrLine, StderrSink};
