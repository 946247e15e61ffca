//! The driver: runs extension code against the model. It owns the model (behind one
//! `RefCell`), a local executor whose tasks need not be `Send`, and the one inbox other
//! threads reach (native hosts' tasks, guards dropped elsewhere).
//!
//! From the bottom up: `inbox.rs`, `executor.rs`, `last_error.rs`; then the knot of what holds
//! listeners and the driver's state, `core.rs` (the [`Driver`](core::Driver)), `listeners.rs`,
//! `port.rs`, `on_message.rs`; then the handles scripts and tests use, `runtime.rs`,
//! `web_page.rs`, `messaging.rs`, `native.rs`, `keepalive.rs`, `script.rs`, `spec.rs`; then
//! `dispatch.rs` (the one way listeners are called), `engine.rs` (steps and actions),
//! `watchdog.rs`; and on top, `builder.rs` and `browser.rs`.

pub(crate) mod awaited;
pub(crate) mod browser;
pub(crate) mod builder;
pub(crate) mod core;
pub(crate) mod dispatch;
pub(crate) mod engine;
pub(crate) mod executor;
pub(crate) mod inbox;
pub(crate) mod keepalive;
pub(crate) mod last_error;
pub(crate) mod listeners;
pub(crate) mod messaging;
pub(crate) mod native;
pub(crate) mod on_message;
pub(crate) mod port;
pub(crate) mod real_time;
pub(crate) mod reply;
pub(crate) mod runtime;
pub(crate) mod script;
pub(crate) mod sections;
pub(crate) mod spec;
pub(crate) mod watchdog;
pub(crate) mod web_page;
