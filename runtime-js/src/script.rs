//! `JsScript`: an extension's background script in JavaScript, as a `BackgroundScript`.

use std::cell::OnceCell;
use std::rc::Rc;

use async_trait::async_trait;
use runtime_core::{BackgroundScript, Runtime, ScriptError};

use crate::engine::{Engine, JsLimits};
use crate::page::Page;

/// The Unix time, in milliseconds, that virtual time 0 shows as by default: 2026-01-01T00:00:00Z.
pub const DEFAULT_EPOCH_MS: f64 = 1_767_225_600_000.0;

/// An extension's background script in JavaScript: its files, run in order as classic
/// scripts (the manifest's `background.scripts`) in a fresh context at every load of the
/// page, on one engine for the extension.
///
/// What the context offers: `chrome.runtime` (`id`, `getManifest`, `getURL`, `lastError`,
/// `sendMessage` in both forms, `onInstalled`, `onStartup`, `onSuspend`, `onSuspendCanceled`,
/// `onMessage`, `onMessageExternal`, `connect`, `onConnect`, `onConnectExternal` and their
/// `Port`s, `OnInstalledReason`), `chrome.alarms` (kept by the browser on the virtual clock,
/// with Chromium's minimums), `chrome.storage.local` (`get` of some keys or all, `set`,
/// `remove`, `onChanged`) and `chrome.storage.onChanged`, `console.*` into the trace with file
/// and line, timers and `queueMicrotask` on the virtual clock, `Date` and `performance.now()`
/// from virtual time, `Math.random()` and `crypto.getRandomValues()` from the simulation's
/// seed, `atob`/`btoa`, `TextEncoder`/`TextDecoder`, `structuredClone`, `URL` and
/// `URLSearchParams`. `fetch` and `XMLHttpRequest` throw, saying they are not simulated; a
/// namespace not provided is `undefined`, its first touch noted in the trace.
#[derive(Debug)]
pub struct JsScript {
    files: Vec<(String, String)>,
    limits: JsLimits,
    epoch_ms: f64,
    engine: OnceCell<Result<Rc<Engine>, String>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl JsScript {
    /// A script of one file: `name` (as stack traces and the console show it) and its source.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> JsScript {
        JsScript {
            files: vec![(name.into(), source.into())],
            limits: JsLimits::default(),
            epoch_ms: DEFAULT_EPOCH_MS,
            engine: OnceCell::new(),
        }
    }

    /// One more file, run after the others (as a later entry of `background.scripts`).
    pub fn file(mut self, name: impl Into<String>, source: impl Into<String>) -> JsScript {
        self.files.push((name.into(), source.into()));
        self
    }

    /// The engine's limits (memory, interrupt budget).
    pub fn limits(mut self, limits: JsLimits) -> JsScript {
        self.limits = limits;
        self
    }

    /// The Unix time, in milliseconds, that virtual time 0 shows as in `Date`
    /// (default [`DEFAULT_EPOCH_MS`]).
    pub fn epoch_ms(mut self, epoch_ms: f64) -> JsScript {
        self.epoch_ms = epoch_ms;
        self
    }

    fn engine(&self) -> Result<Rc<Engine>, String> {
        self.engine
            .get_or_init(|| Engine::new(self.limits).map(Rc::new))
            .clone()
    }
}

#[async_trait(?Send)]
impl BackgroundScript for JsScript {
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
        let engine = self.engine()?;
        // The page lives on in what the browser holds of it: listeners, timers, calls.
        Page::load(&engine, runtime, self.epoch_ms, &self.files)?;
        Ok(())
    }
}
