//! `JsScript`: an extension's background script in JavaScript, as a `BackgroundScript`.

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use async_trait::async_trait;
use runtime_core::{BackgroundScript, Runtime, ScriptError};

use crate::engine::{Engine, JsLimits};
use crate::modules::{Files, ModuleHost};
use crate::page::Page;

/// The Unix time, in milliseconds, that virtual time 0 shows as by default: 2026-01-01T00:00:00Z.
pub const DEFAULT_EPOCH_MS: f64 = 1_767_225_600_000.0;

/// An extension's background script in JavaScript: its files, run in order in a fresh context
/// at every load of the page, on one engine for the extension.
///
/// The files are classic scripts (the manifest's `background.scripts`, [`JsScript::new`] and
/// [`JsScript::file`]) or module scripts ([`JsScript::new_module`], [`JsScript::module`]);
/// a manifest whose `background.type` is `"module"` makes every one a module. When the
/// manifest's background is a `service_worker`, the page is a service worker: `importScripts`
/// runs the extension's files in a classic worker (during the first run's top level, and
/// afterwards only the files imported then, as in Chromium) and throws in a module worker;
/// `import()` is refused with Chromium's error. Modules `import` the extension's other files
/// by URL (`./x.js`, `../lib/y.js`, `/lib/y.js`), served from [`JsScript::resource`]s, never
/// from the disk.
///
/// What the context offers: `chrome.runtime` (`id`, `getManifest`, `getURL`, `lastError`,
/// `sendMessage` in both forms, `onInstalled`, `onStartup`, `onSuspend`, `onSuspendCanceled`,
/// `onMessage`, `onMessageExternal`, `connect`, `onConnect`, `onConnectExternal` and their
/// `Port`s, `OnInstalledReason`), `chrome.alarms` (kept by the browser on the virtual clock,
/// with Chromium's minimums), `chrome.storage` (`local`, `session`, `sync` and `managed`, each
/// with `get`, `getKeys`, `getBytesInUse`, `set`, `remove`, `clear`, its constants and its
/// `onChanged`; `session.setAccessLevel`; `storage.onChanged`; Chromium's quotas, write rates,
/// lifetimes and errors, in the callback form with `runtime.lastError` and the promise form,
/// and Chromium's argument errors), `console.*` into the trace with file
/// and line, timers and `queueMicrotask` on the virtual clock, `Date` and `performance.now()`
/// from virtual time, `Math.random()` and `crypto.getRandomValues()` from the simulation's
/// seed, `atob`/`btoa`, `TextEncoder`/`TextDecoder`, `structuredClone`, `URL` and
/// `URLSearchParams`, `DOMException`. `fetch` and `XMLHttpRequest` throw, saying they are not
/// simulated; a namespace not provided is `undefined`, its first touch noted in the trace.
#[derive(Debug)]
pub struct JsScript {
    entries: Vec<Entry>,
    files: Files,
    incomplete: Option<String>,
    notes: Vec<String>,
    limits: JsLimits,
    epoch_ms: f64,
    engine: OnceCell<Result<Machine, String>>,
    install: Rc<RefCell<WorkerInstall>>,
}

/// The extension's engine, and the files its modules load.
type Machine = (Rc<Engine>, Rc<ModuleHost>);

/// One script the page runs, in order.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// As stack traces and the console show it (a module's: its path from the root).
    pub(crate) name: String,
    pub(crate) module: bool,
    /// The source, or why the file could not be had (the page goes on without it).
    pub(crate) source: Result<Rc<str>, String>,
}

/// What the browser keeps of a service worker's installation: the scripts it installed.
#[derive(Debug, Default)]
pub(crate) struct WorkerInstall {
    /// The extension's version installed (a new version installs the worker again).
    pub(crate) version: Option<String>,
    /// The installation has finished: the first run's top-level script ran to its end.
    pub(crate) done: bool,
    /// The URLs of the scripts installed: the worker's own and what it imported meanwhile.
    pub(crate) scripts: BTreeSet<String>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Engine")
    }
}

impl std::fmt::Debug for ModuleHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModuleHost")
    }
}

/// The path from the root that a file's name in the manifest stands for.
pub(crate) fn root_path(name: &str) -> String {
    let name = name.trim_start_matches("./").trim_start_matches('/');
    name.to_owned()
}

impl JsScript {
    /// A script with no files yet.
    pub(crate) fn empty() -> JsScript {
        JsScript {
            entries: Vec::new(),
            files: Files::new(),
            incomplete: None,
            notes: Vec::new(),
            limits: JsLimits::default(),
            epoch_ms: DEFAULT_EPOCH_MS,
            engine: OnceCell::new(),
            install: Rc::default(),
        }
    }

    fn with_entry(entry: Entry) -> JsScript {
        JsScript::empty().entry(entry)
    }

    /// A script of one file: `name` (as stack traces and the console show it) and its source,
    /// run as a classic script.
    pub fn new(name: impl Into<String>, source: impl Into<String>) -> JsScript {
        JsScript::with_entry(Entry {
            name: name.into(),
            module: false,
            source: Ok(Rc::from(source.into())),
        })
    }

    /// A script of one file run as a module script: `name` is its path from the extension's
    /// root (`sw.js`, `bg/main.js`), which its imports resolve against.
    pub fn new_module(name: impl Into<String>, source: impl Into<String>) -> JsScript {
        JsScript::with_entry(Entry {
            name: root_path(&name.into()),
            module: true,
            source: Ok(Rc::from(source.into())),
        })
    }

    /// One more file, run after the others (as a later entry of `background.scripts`).
    pub fn file(self, name: impl Into<String>, source: impl Into<String>) -> JsScript {
        self.entry(Entry {
            name: name.into(),
            module: false,
            source: Ok(Rc::from(source.into())),
        })
    }

    /// One more file, run after the others as a module script (`<script type="module">`):
    /// `name` is its path from the extension's root.
    pub fn module(self, name: impl Into<String>, source: impl Into<String>) -> JsScript {
        self.entry(Entry {
            name: root_path(&name.into()),
            module: true,
            source: Ok(Rc::from(source.into())),
        })
    }

    /// A file of the extension that the scripts may load — by `import` or `import()`, or by
    /// `importScripts` in a classic service worker — at `path` from the extension's root
    /// (`lib/util.js`). The scripts given as entries are such files too.
    pub fn resource(mut self, path: impl Into<String>, source: impl Into<String>) -> JsScript {
        self.files
            .insert(root_path(&path.into()), Ok(Rc::from(source.into())));
        self
    }

    /// A file of the extension that exists but could not be read, and why (loading it fails).
    pub(crate) fn unreadable(mut self, path: String, reason: String) -> JsScript {
        self.files.entry(root_path(&path)).or_insert(Err(reason));
        self
    }

    /// One more script of the page (its source, or why its file could not be had: the page
    /// then reports it and goes on).
    pub(crate) fn entry(mut self, entry: Entry) -> JsScript {
        if let Ok(source) = &entry.source {
            self.files
                .insert(root_path(&entry.name), Ok(Rc::clone(source)));
        }
        self.entries.push(entry);
        self
    }

    /// Why a file the scripts ask for may be missing although the folder has it (the folder
    /// had more script files than were read).
    pub(crate) fn incomplete(mut self, why: String) -> JsScript {
        self.incomplete = Some(why);
        self
    }

    /// A warning written to the trace at each load of the page.
    pub(crate) fn note(mut self, note: String) -> JsScript {
        self.notes.push(note);
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

    fn engine(&self) -> Result<Machine, String> {
        self.engine
            .get_or_init(|| {
                let host = Rc::new(ModuleHost::new(self.files.clone(), self.incomplete.clone()));
                Engine::new(self.limits, &host).map(|engine| (Rc::new(engine), host))
            })
            .clone()
    }
}

/// What one load of the page runs.
pub(crate) struct Program<'a> {
    pub(crate) entries: &'a [Entry],
    pub(crate) notes: &'a [String],
    pub(crate) modules: Rc<ModuleHost>,
    pub(crate) install: Rc<RefCell<WorkerInstall>>,
    pub(crate) epoch_ms: f64,
}

#[async_trait(?Send)]
impl BackgroundScript for JsScript {
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
        let (engine, modules) = self.engine()?;
        let program = Program {
            entries: &self.entries,
            notes: &self.notes,
            modules,
            install: Rc::clone(&self.install),
            epoch_ms: self.epoch_ms,
        };
        // The page lives on in what the browser holds of it: listeners, timers, calls.
        Page::load(&engine, runtime, &program)?;
        Ok(())
    }
}
