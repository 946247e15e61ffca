//! `JsScript`: an extension's background script in JavaScript, as a `BackgroundScript`.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::{Rc, Weak};

use async_trait::async_trait;
use runtime_core::{BackgroundScript, ExtensionSpec, Runtime, ScriptError};

use crate::contexts::JsContexts;
use crate::engine::{Engine, JsLimits};
use crate::modules::{Files, ModuleHost};
use crate::page::{Page, Scope};

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
/// `Port`s, `getPlatformInfo`, `getPackageDirectoryEntry`, `openOptionsPage`,
/// `setUninstallURL`, `reload`, `requestUpdateCheck`, `restart`, `restartAfterDelay`,
/// `onUpdateAvailable`, `onBrowserUpdateAvailable`, `onRestartRequired`, `onConnectNative`,
/// the enum types, and under Firefox its own list), `chrome.alarms` (kept by the browser on the virtual clock,
/// with Chromium's minimums), `chrome.storage` (`local`, `session`, `sync` and `managed`, each
/// with `get`, `getKeys`, `getBytesInUse`, `set`, `remove`, `clear`, its constants and its
/// `onChanged`; `session.setAccessLevel`; `storage.onChanged`; Chromium's quotas, write rates,
/// lifetimes and errors, in the callback form with `runtime.lastError` and the promise form,
/// and Chromium's argument errors), `console.*` into the trace with file
/// and line, timers and `queueMicrotask` on the virtual clock, `Date` and `performance.now()`
/// from virtual time, `Math.random()` and `crypto.getRandomValues()` from the simulation's
/// seed, `atob`/`btoa`, `TextEncoder`/`TextDecoder`, `structuredClone`, `URL` and
/// `URLSearchParams`, `DOMException`, a read-only `location` (the document's or the worker
/// script's URL); `chrome.tabs` (`create`, `get`, `query`, `remove`,
/// `sendMessage`, `connect` and their events, with callbacks, or promises from Manifest V3 on);
/// in a page, `window` and `runtime.getBackgroundPage`. `fetch` and `XMLHttpRequest` throw,
/// saying they are not simulated; a namespace not provided is `undefined`, its first touch
/// noted in the trace.
///
/// The extension's content scripts and views run on the same engine: [`JsScript::contexts`]
/// gives their code ([`JsContexts`]), from the files of [`JsScript::resource`] (a content
/// script's `js` files) and the pages of [`JsScript::page`] (a view's HTML);
/// [`JsScript::attach`] gives an [`ExtensionSpec`] both.
#[derive(Debug)]
pub struct JsScript {
    entries: Vec<Entry>,
    files: Files,
    incomplete: Option<String>,
    notes: Vec<String>,
    limits: JsLimits,
    epoch_ms: f64,
    /// The extension's pages (HTML), by their path from the root.
    pages: Pages,
    /// The engine, shared with the extension's content scripts and views ([`JsScript::contexts`]).
    engine: Rc<EngineSlot>,
    install: Rc<RefCell<WorkerInstall>>,
    /// The background page now loaded, shared with the extension's views.
    background: Rc<RefCell<Weak<Page>>>,
}

/// The HTML of an extension's pages, by their path from the root.
pub(crate) type Pages = BTreeMap<String, Rc<str>>;

/// The extension's engine, and the files its modules load.
pub(crate) type Machine = (Rc<Engine>, Rc<ModuleHost>);

/// The extension's machine, made on first use from its files (by the background script or by a
/// content script or view, whichever runs first: they share it).
/// Where an extension's contexts find its engine. The engine lives while a context of the
/// extension does (the contexts hold it) and goes when the last of them does, so that a
/// suspended extension keeps no JavaScript heap; the files its modules load stay.
#[derive(Default)]
pub(crate) struct EngineSlot {
    engine: RefCell<Weak<Engine>>,
    modules: OnceCell<Rc<ModuleHost>>,
}

impl std::fmt::Debug for EngineSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EngineSlot")
    }
}

/// The extension's engine: the one its live contexts use, or a new one when none is alive.
pub(crate) fn machine(
    slot: &EngineSlot,
    files: &Files,
    incomplete: &Option<String>,
    limits: JsLimits,
) -> Result<Machine, String> {
    let modules = slot
        .modules
        .get_or_init(|| Rc::new(ModuleHost::new(files.clone(), incomplete.clone())));
    if let Some(engine) = slot.engine.borrow().upgrade() {
        return Ok((engine, Rc::clone(modules)));
    }
    let engine = Rc::new(Engine::new(limits, modules)?);
    *slot.engine.borrow_mut() = Rc::downgrade(&engine);
    Ok((engine, Rc::clone(modules)))
}

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
            pages: Pages::new(),
            engine: Rc::default(),
            install: Rc::default(),
            background: Rc::default(),
        }
    }

    /// The extension's JavaScript with no background script: only files (for content scripts,
    /// [`JsScript::resource`]) and pages ([`JsScript::page`]), attached with
    /// [`JsScript::attach`].
    pub fn files_only() -> JsScript {
        JsScript::empty()
    }

    /// A page of the extension (its HTML) at `path` from the root (`popup.html`,
    /// `options/index.html`): when a view opens on it, its `<script src>` elements run, in the
    /// order a document runs them, from the files of [`JsScript::resource`].
    pub fn page(mut self, path: impl Into<String>, html: impl Into<String>) -> JsScript {
        self.pages
            .insert(root_path(&path.into()), Rc::from(html.into()));
        self
    }

    /// The code of the extension's content scripts and views, on this script's engine: a
    /// [`ContextScript`](runtime_core::ContextScript) for
    /// [`ExtensionSpec::context_script`](runtime_core::ExtensionSpec::context_script). It takes
    /// the files and pages given so far; [`JsScript::attach`] does both steps at once.
    pub fn contexts(&self) -> JsContexts {
        JsContexts::new(
            Rc::clone(&self.engine),
            self.files.clone(),
            self.incomplete.clone(),
            self.pages.clone(),
            self.limits,
            self.epoch_ms,
            Rc::clone(&self.background),
        )
    }

    /// Gives `spec` this extension's JavaScript: its background script, if the manifest has
    /// a background, and the code of its content scripts and views (one engine for all).
    pub fn attach(self, spec: ExtensionSpec) -> ExtensionSpec {
        let spec = spec.context_script(self.contexts());
        if spec.manifest().background().is_some() {
            spec.script(self)
        } else {
            spec
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

    /// The extension's engine: the one its loaded pages use, or a new one when none is
    /// loaded.
    fn engine(&self) -> Result<Machine, String> {
        machine(&self.engine, &self.files, &self.incomplete, self.limits)
    }
}

/// What one load of the page runs.
pub(crate) struct Program<'a> {
    pub(crate) entries: &'a [Entry],
    pub(crate) notes: &'a [String],
    pub(crate) modules: Rc<ModuleHost>,
    pub(crate) install: Rc<RefCell<WorkerInstall>>,
    pub(crate) epoch_ms: f64,
    /// What kind of global scope the page is.
    pub(crate) scope: Scope,
    /// Every script is a module (`background.type` is `"module"`).
    pub(crate) all_modules: bool,
    /// The extension's loaded background page, shared by its pages.
    pub(crate) background: Rc<RefCell<Weak<Page>>>,
}

#[async_trait(?Send)]
impl BackgroundScript for JsScript {
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
        let (engine, modules) = self.engine()?;
        let manifest = runtime.get_manifest();
        let background = &manifest["background"];
        let all_modules = background["type"].as_str() == Some("module");
        let scope = match background["service_worker"].as_str() {
            Some(script) => Scope::Worker {
                script: root_path(script),
                module: all_modules,
            },
            None => Scope::Page,
        };
        let program = Program {
            entries: &self.entries,
            notes: &self.notes,
            modules,
            install: Rc::clone(&self.install),
            epoch_ms: self.epoch_ms,
            scope,
            all_modules,
            background: Rc::clone(&self.background),
        };
        // The page lives on in what the browser holds of it: listeners, timers, calls.
        Page::load(&engine, runtime, &program)?;
        Ok(())
    }
}
