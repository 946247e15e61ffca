//! Real JavaScript in the simulated browser: an extension's own background script, content
//! scripts and pages, run on QuickJS (through `rquickjs`) against the simulated
//! `chrome.runtime`, on the virtual clock.
//!
//! ```
//! use std::time::Duration;
//! use runtime_core::{Browser, ExtensionSpec};
//! use runtime_js::JsScript;
//!
//! let script = JsScript::new("bg.js", r#"
//!     chrome.runtime.onInstalled.addListener((details) => {
//!         console.log("installed:", details.reason);
//!         setTimeout(() => chrome.storage.local.set({ ready: true }), 1000);
//!     });
//! "#);
//! let manifest = serde_json::json!({"name": "Hello", "version": "1.0",
//!     "background": {"scripts": ["bg.js"], "persistent": false}});
//! let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
//! let mut browser = Browser::builder().build();
//! let id = browser.install(spec).unwrap();
//! browser.start();
//! browser.advance(Duration::from_secs(2));
//! assert_eq!(browser.storage(&id).get("ready"), Some(&serde_json::json!(true)));
//! ```
//!
//! Each extension has one engine (its own heap, memory limit and interrupt budget); each load
//! of its page gets a fresh context, dropped when the page unloads, so that nothing survives a
//! suspend but what the script stored. Promise jobs run when the simulator runs them: after
//! each entry into JavaScript, to the end. A listener added while the top-level script runs
//! (or in the promise jobs it leaves) is in place for the event that woke the page; one added
//! later is late, and the trace says so.
//!
//! What runs: the classic scripts of `background.scripts`; a `background.service_worker`,
//! classic (with `importScripts`, under Chromium's installation rule) or an ES module
//! (`"type": "module"`: static imports only, as Chromium allows a service worker); the
//! `<script src>` elements of an HTML `background.page`, classic and `type="module"`, in the
//! order a document runs them. Modules import the extension's files by URL, resolved against
//! the importing file's `chrome-extension://` URL. [`extension_from_dir`] reads all of it from
//! the folder when the extension is loaded, within bounds; a page never reads the disk. Every
//! context has `URL` and `URLSearchParams` (see [`JsScript`] for the rest).
//!
//! Content scripts and views run on the same engine ([`JsContexts`], given to the extension by
//! [`JsScript::attach`]): a content script's context, in each frame the manifest's
//! `content_scripts` match, runs their `js` files with only what Chromium gives content scripts
//! (part of `chrome.runtime`, and `chrome.storage`); a view's context runs the `<script src>`
//! elements of its HTML page with an extension page's `chrome` — `runtime` with
//! `getBackgroundPage`, `storage`, `alarms` and `tabs` (`create`, `get`, `query`, `remove`,
//! `sendMessage`, `connect`, `onCreated`, `onRemoved`, `onUpdated`, as background pages have
//! it too). Each context goes with its frame or view; [`live_contexts`] counts those alive.
//!
//! `chrome.storage` is the simulator's storage (`Browser::storage_area` reads what a script
//! wrote, `Browser::set_managed_storage` sets `managed`): its four areas with Chromium's
//! quotas, write rates and lifetimes, both call forms (a failed call's callback runs with
//! `runtime.lastError` set; its promise rejects with an `Error` of the same message), and the
//! argument errors Chromium's bindings throw (`Error in invocation of storage.set(object
//! items, optional function callback): No matching signature.`). Values cross to the browser
//! as Chromium's V8 value converter makes them (`undefined` and functions left out, a `Date`
//! as `{}`), and come back with their keys in the browser's order.

mod api_function;
mod contexts;
mod convert;
mod document;
mod engine;
mod folder;
mod html;
mod json;
mod live;
mod modules;
mod page;
mod paths;
mod runtime_api;
mod script;
mod storage;
mod tabs;

pub use contexts::JsContexts;
pub use engine::{live_engines, JsLimits};
pub use folder::{
    extension_from_dir, LoadError, MAX_SCRIPT_BYTES, MAX_SCRIPT_FILES, MAX_SCRIPT_SIZE,
};
pub use live::{live_contexts, LiveContexts};
pub use script::{JsScript, DEFAULT_EPOCH_MS};
