//! `JsContexts`: an extension's JavaScript in its content scripts and views, as a
//! `ContextScript`, on the engine its background script uses.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use async_trait::async_trait;
use runtime_core::{ContextScript, Runtime, ScriptError, ScriptPlace};

use crate::document;
use crate::engine::JsLimits;
use crate::modules::Files;
use crate::page::{Page, Scope};
use crate::paths;
use crate::script::{machine, root_path, EngineSlot, Entry, Pages, Program};

/// The code of an extension's content scripts and views, in JavaScript, on the extension's one
/// engine (see [`JsScript::contexts`](crate::JsScript::contexts) and
/// [`JsScript::attach`](crate::JsScript::attach)).
///
/// When a content script starts in a frame, a fresh context runs the `js` files of the
/// manifest's `content_scripts` entries that match the frame, in order, each on its own (an
/// uncaught error in one is written to the console, and the next runs). The context has what
/// Chromium gives content scripts: `chrome.runtime` with only `id`, `getManifest`, `getURL`,
/// `sendMessage`, `connect`, `onMessage`, `onConnect` and `lastError` (every other member is
/// `undefined`), and `chrome.storage`; the rest of `chrome` is `undefined`. Its messages reach
/// the extension's pages with the frame's tab, `frameId`, URL and origin as their sender.
///
/// When a view opens (a popup, the options page, a tab on a page of the extension), a fresh
/// context runs the `<script src>` elements of the page's HTML as a document runs them, with
/// the `chrome` of an extension page: the background page's `chrome.runtime` and
/// `runtime.getBackgroundPage()`, `chrome.storage`, `chrome.alarms`, `chrome.tabs`.
///
/// Each context goes with its frame (the tab closed or navigated away) or its view.
#[derive(Debug)]
pub struct JsContexts {
    engine: Rc<EngineSlot>,
    files: Files,
    incomplete: Option<String>,
    pages: Pages,
    limits: JsLimits,
    epoch_ms: f64,
    background: Rc<RefCell<Weak<Page>>>,
}

impl JsContexts {
    pub(crate) fn new(
        engine: Rc<EngineSlot>,
        files: Files,
        incomplete: Option<String>,
        pages: Pages,
        limits: JsLimits,
        epoch_ms: f64,
        background: Rc<RefCell<Weak<Page>>>,
    ) -> JsContexts {
        JsContexts {
            engine,
            files,
            incomplete,
            pages,
            limits,
            epoch_ms,
            background,
        }
    }

    /// A file of the extension by its path from the root: its source, or why there is none.
    fn source(&self, path: &str) -> Result<Rc<str>, String> {
        match self.files.get(&root_path(path)) {
            Some(Ok(source)) => Ok(Rc::clone(source)),
            Some(Err(reason)) => Err(reason.clone()),
            None => Err("net::ERR_FILE_NOT_FOUND".to_owned()),
        }
    }

    /// The `js` files of the `content_scripts` entries `entries`, in order.
    fn content_scripts(&self, runtime: &Runtime, entries: &[usize]) -> Vec<Entry> {
        let manifest = runtime.get_manifest();
        let mut scripts = Vec::new();
        for index in entries {
            let files = manifest["content_scripts"][*index]["js"].as_array();
            for name in files.into_iter().flatten().filter_map(|n| n.as_str()) {
                scripts.push(Entry {
                    name: name.to_owned(),
                    module: false,
                    source: self.source(name),
                });
            }
        }
        scripts
    }

    /// The scripts of the page a view shows at `url`, and the notes for the trace.
    fn view_scripts(&self, runtime: &Runtime, url: &str) -> (Vec<Entry>, Vec<String>) {
        let base = runtime.get_url("");
        let path = url.strip_prefix(base.as_str()).unwrap_or(url);
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = paths::decode(path).unwrap_or_else(|| path.to_owned());
        let Some(html) = self.pages.get(&root_path(&path)) else {
            return (
                Vec::new(),
                vec![format!(
                    "runtime-sim: the extension has no page {path}: the view runs no script"
                )],
            );
        };
        let found = document::page_scripts(&path, html, |name| self.source(name));
        (found.entries, found.notes)
    }
}

#[async_trait(?Send)]
impl ContextScript for JsContexts {
    async fn run(&self, runtime: Runtime, place: ScriptPlace) -> Result<(), ScriptError> {
        let (engine, modules) = machine(&self.engine, &self.files, &self.incomplete, self.limits)?;
        let (scope, entries, notes) = match place {
            ScriptPlace::ContentScript { entries, .. } => (
                Scope::ContentScript,
                self.content_scripts(&runtime, &entries),
                Vec::new(),
            ),
            ScriptPlace::View { url, .. } => {
                let (entries, notes) = self.view_scripts(&runtime, &url);
                (Scope::View, entries, notes)
            }
            _ => return Ok(()),
        };
        let program = Program {
            entries: &entries,
            notes: &notes,
            modules,
            install: Rc::default(),
            epoch_ms: self.epoch_ms,
            scope,
            all_modules: false,
            background: Rc::clone(&self.background),
        };
        // The context lives on in what the browser holds of it: listeners, timers, ports.
        Page::load(&engine, runtime, &program)?;
        Ok(())
    }
}
