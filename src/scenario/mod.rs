//! Scenario files: a whole situation — a browser, its extensions, what happens over virtual
//! time, what must have happened — described in JSON, without writing Rust.
//!
//! ```
//! use runtime_sim::scenario::{load_str, render, run, RunOptions};
//! use std::path::Path;
//!
//! let text = r#"{
//!   "name": "An idle event page",
//!   "description": "With nothing to do, an event page gets onSuspend after 10 s and is unloaded 5 s later.",
//!   "extensions": {
//!     "idle": {
//!       "manifest": {"name": "Idle", "version": "1.0",
//!                    "background": {"scripts": ["bg.js"], "persistent": false}},
//!       "background": {"top_level": [{"listen": {"event": "runtime.onSuspend"}}]}
//!     }
//!   },
//!   "timeline": ["start", {"advance": "20s"}],
//!   "expect": [
//!     {"event": {"event": "runtime.onSuspend", "extension": "idle", "at": "10s"}},
//!     {"state": {"extension": "idle", "at": "15s", "page": "unloaded"}}
//!   ]
//! }"#;
//! let loaded = load_str(Path::new("idle.json"), text.to_owned()).unwrap();
//! let report = run(&loaded, &RunOptions::default());
//! assert_eq!((report.passed(), report.failed()), (2, 0));
//! print!("{}", render::text(&report, false));
//! ```
//!
//! The format is described in `docs/scenarios.md`; its JSON Schema is
//! `scenarios/schema/scenario.schema.json` ([`schema::schema`]).
//!
//! # Modules
//! - [`format`](mod@format), [`step`], [`action`], [`expect`]: the file's types (the schema comes from
//!   them). [`duration`]: spans of virtual time.
//! - [`load()`]: reading, deserializing (an error names the file, the JSON path, the line and
//!   the column) and checking a file.
//! - [`run()`]: running it; [`render`]: printing the run.
//! - [`scripts`]: the project's Rust background scripts, by name.
//!
//! # Where new features plug in
//! A new kind of step (as `publish_update`, `require_restart`) is a variant of
//! [`step::Step`], carried out in `run.rs` (`Runner::step`); a new API (as `runtime.reload()`,
//! `runtime.restartAfterDelay()`) is a variant of [`action::Api`] with its
//! [`action::Parameter`]s, called in `interpret.rs` (`Frame::call_api`); a new event (as
//! `runtime.onRestartRequired`) is a name in `validate::RUNTIME_EVENTS` with its listener in
//! `interpret.rs` (`Frame::listen_in_extension`); a new browser setting (as `kiosk`) is a field
//! of [`format::BrowserSettings`], applied in `run.rs` (`configure`).

#![warn(missing_docs)]

pub mod action;
mod check;
pub mod duration;
mod error;
pub mod expect;
pub mod format;
mod hosts;
mod ids;
mod interpret;
mod load;
pub mod outcome;
mod position;
pub mod render;
mod run;
pub mod schema;
pub mod scripts;
mod states;
pub mod step;
mod validate;
mod watch;

pub use check::Check;
pub use error::{ActionError, ScenarioError};
pub use ids::Ids;
pub use load::{load, load_str, Loaded, MAX_SCENARIO_SIZE};
pub use position::{JsonPath, Segment};
pub use run::{run, Line, Report, RunOptions};
