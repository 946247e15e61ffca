//! One load of a page: a fresh JavaScript context whose globals reach the simulated browser
//! through the `Runtime` of that load. It lives while the browser holds something of it (a
//! listener, a timer, a call in flight) and goes with the page: nothing of it survives an
//! unload.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::oneshot;
use rquickjs::function::{Opt, Rest};
use rquickjs::{Context, Ctx, FromJs, Function, Object, Persistent, Value};
use runtime_core::MessageSender;
use runtime_core::{
    ConsoleLevel, ListenerError, ListenerId, ListenerOutcome, OnInstalledDetails, OnMessage,
    OnRestartRequiredReason, Port, Runtime,
};

use crate::convert;
use crate::engine::Engine;
use crate::json::PageJson;
use crate::modules::{self, Lookup, ModuleHost};
use crate::paths::{self, Target};
use crate::script::{Program, WorkerInstall};

/// A JavaScript function kept beyond the entry that made it.
pub(crate) type Kept = Persistent<Function<'static>>;

/// A listener registered with the browser for a JavaScript listener, to remove it again.
enum Registered {
    Installed(ListenerId),
    /// `runtime.onUpdateAvailable` (the new manifest).
    UpdateAvailable(ListenerId),
    /// `runtime.onRestartRequired` (the reason).
    RestartRequired(ListenerId),
    /// `runtime.onStartup`, `onSuspend`, `onSuspendCanceled` or `onBrowserUpdateAvailable` (no
    /// arguments).
    Plain(&'static str, ListenerId),
    /// `runtime.onMessage` or `onMessageExternal`.
    Message(&'static str, ListenerId),
    Named(String, ListenerId),
    /// `runtime.onConnect`, `onConnectExternal` or `onConnectNative`.
    Connect(&'static str, ListenerId),
    PortMessage(u32, ListenerId),
    PortDisconnect(u32, ListenerId),
}

/// One load's JavaScript context.
pub(crate) struct Page {
    // Dropped in this order: what is kept of the context's objects, the context, then the
    // engine that runs it.
    /// The page's global object, kept when another page may ask for it (a background page's
    /// `window`, which `runtime.getBackgroundPage` gives).
    global: RefCell<Option<Persistent<Object<'static>>>>,
    /// The context's JSON functions, for messages (given by the prelude as it starts).
    json: RefCell<Option<PageJson>>,
    /// The last message sender seen, as JSON: a context that sends again shares its
    /// `MessageSender`, and its JSON is made once.
    last_sender: RefCell<Option<(Arc<MessageSender>, Rc<serde_json::Value>)>>,
    context: Context,
    engine: Rc<Engine>,
    runtime: Runtime,
    listeners: RefCell<HashMap<u32, Registered>>,
    next_token: Cell<u32>,
    /// The native timers not yet fired or cleared, with whether they were cleared.
    timers: RefCell<HashMap<u32, Rc<Cell<bool>>>>,
    next_timer: Cell<u32>,
    /// The ports this page holds, by the number JavaScript knows them by.
    ports: RefCell<HashMap<u32, Port>>,
    next_port: Cell<u32>,
    /// The Unix time, in milliseconds, that virtual time 0 shows as.
    epoch_ms: f64,
    /// The extension's files that modules and `importScripts` load.
    modules: Rc<ModuleHost>,
    /// What kind of global scope this is.
    scope: Scope,
    /// The service worker's installation (kept by the script across loads).
    install: Rc<RefCell<WorkerInstall>>,
    /// This load is the worker's first run, before its installation finished.
    new_worker: bool,
    /// How deep `importScripts` calls are nested now.
    import_depth: Cell<u32>,
    /// `chrome-extension://<id>`.
    origin: String,
    /// The extension's background page now loaded, if it is one (shared by its pages).
    background: Rc<RefCell<Weak<Page>>>,
}

impl Drop for Page {
    fn drop(&mut self) {
        crate::live::closed(&self.scope);
    }
}

/// The global scope a page's scripts run in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    /// A background page (`background.scripts` or `background.page`).
    Page,
    /// A service worker: the path of its script from the root, and whether it is a module.
    Worker { script: String, module: bool },
    /// An extension view: a popup, an options page, a tab on an extension page.
    View,
    /// A content script, in its isolated world of a tab's frame.
    ContentScript,
}

impl Scope {
    /// What the prelude calls it (`sim.kind`).
    fn kind(&self) -> &'static str {
        match self {
            Scope::Page => "page",
            Scope::Worker { .. } => "worker",
            Scope::View => "view",
            Scope::ContentScript => "content",
        }
    }
}

/// How deep `importScripts` may nest (a script that imports itself would never end).
const MAX_IMPORT_DEPTH: u32 = 64;

/// Chromium's failure of a service worker whose module graph could not be fetched
/// (`DidFailToFetchModuleScript`: the worker stops while starting,
/// `kErrorStartWorkerFailed`).
const WORKER_MODULE_FAILED: &str = "Service worker registration failed. Status code: 3";

/// `importScripts`' errors, as Blink's `ExceptionState` words them.
fn import_scripts_error(message: &str) -> String {
    format!("Failed to execute 'importScripts' on 'WorkerGlobalScope': {message}")
}

/// A kept function and the page it runs in: the function is released before the page (and
/// with it, maybe, the engine).
pub(crate) struct Callback {
    function: Kept,
    page: Rc<Page>,
}

impl Callback {
    /// Calls the function with `args`, in the page; what it throws is returned as text.
    fn call<R>(
        &self,
        args: impl for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<Vec<Value<'js>>>,
        read: impl for<'js> FnOnce(Value<'js>) -> R,
    ) -> Result<R, String> {
        let function = self.function.clone();
        self.page.enter(|ctx| {
            let function = function.restore(ctx).map_err(|e| e.to_string())?;
            let args = match args(ctx) {
                Ok(args) => args,
                Err(rquickjs::Error::Exception) => return Err(convert::thrown(ctx)),
                Err(e) => return Err(e.to_string()),
            };
            match function.call::<_, Value>((Rest(args),)) {
                Ok(value) => Ok(read(value)),
                Err(rquickjs::Error::Exception) => Err(convert::thrown(ctx)),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

impl Callback {
    /// `function`, to run in `page`.
    pub(crate) fn new(function: Kept, page: &Rc<Page>) -> Callback {
        Callback {
            function,
            page: Rc::clone(page),
        }
    }

    /// Calls the callback of a call in the callback form with the response's JSON (`null` for
    /// none); what it throws is written to the console.
    pub(crate) fn respond(&self, json: Option<String>) {
        self.answer(json, true, "Error in response callback");
    }

    /// Calls the callback of a call in the callback form with the answer's JSON, or with none
    /// `null` (`none_is_null`) or `undefined`; what it throws goes to the console after `what`.
    fn answer(&self, json: Option<String>, none_is_null: bool, what: &str) {
        let result = self.call(
            move |ctx| match json {
                Some(json) => strings(ctx, vec![json]),
                None if none_is_null => Ok(vec![Value::new_null(ctx.clone())]),
                None => Ok(vec![Value::new_undefined(ctx.clone())]),
            },
            |_| (),
        );
        if let Err(error) = result {
            self.page
                .runtime
                .console(ConsoleLevel::Error, format!("{what}: {error}"), None);
        }
    }

    /// Calls the callback of a call in the callback form with `runtime.lastError` set to
    /// `error` while it runs (reported if it does not read it); what it throws is written to
    /// the console.
    fn call_with_last_error(
        &self,
        error: Option<String>,
        args: impl for<'js> FnOnce(&Ctx<'js>) -> rquickjs::Result<Vec<Value<'js>>>,
    ) {
        let page = Rc::clone(&self.page);
        page.runtime.run_callback(error, || {
            if let Err(error) = self.call(args, |_| ()) {
                page.runtime.console(
                    ConsoleLevel::Error,
                    format!("Error in response callback: {error}"),
                    None,
                );
            }
        });
    }

    /// Calls a `(ok, value)` function with a message's answer as `JSON.parse` makes it of its
    /// JSON (`ok`), or with the error's message. What it throws is lost, as in [`Self::settle`].
    fn settle_json(&self, outcome: Result<serde_json::Value, String>) {
        let page = Rc::clone(&self.page);
        let _ = self.call(
            move |ctx| {
                Ok(match outcome {
                    Ok(value) => vec![
                        Value::new_bool(ctx.clone(), true),
                        page.json_in(ctx, &value)?,
                    ],
                    Err(error) => {
                        let mut args = vec![Value::new_bool(ctx.clone(), false)];
                        args.extend(strings(ctx, vec![error])?);
                        args
                    }
                })
            },
            |_| (),
        );
    }

    /// Calls a `(ok, text)` function: how an asynchronous call tells JavaScript its outcome
    /// (the JSON of its value, or the error's message). What it throws is lost: the prelude's
    /// own functions do not throw.
    fn settle(&self, ok: bool, text: String) {
        let _ = self.call(
            move |ctx| {
                let mut args = vec![Value::new_bool(ctx.clone(), ok)];
                args.extend(strings(ctx, vec![text])?);
                Ok(args)
            },
            |_| (),
        );
    }
}

/// The `resolve` and `reject` functions of a promise made by the native side, and the page
/// they run in.
struct Resolvers {
    resolve: Kept,
    reject: Kept,
    page: Rc<Page>,
}

impl Resolvers {
    /// Resolves the promise with `undefined`; then the page's jobs run.
    fn resolve_undefined(self) {
        let page = Rc::clone(&self.page);
        let resolve = self.resolve.clone();
        let _ = page.enter(|ctx| -> rquickjs::Result<()> {
            resolve
                .restore(ctx)?
                .call::<_, ()>((Value::new_undefined(ctx.clone()),))
        });
    }

    /// Resolves the promise with a message's answer as `JSON.parse` makes it of its JSON, or
    /// rejects it with an `Error` of the message; then the page's jobs run.
    fn settle_json(self, outcome: Result<serde_json::Value, String>) {
        let page = Rc::clone(&self.page);
        let (resolve, reject) = (self.resolve.clone(), self.reject.clone());
        // What fails here (the page's JSON gone) leaves the promise pending, as a page that
        // went would.
        let _ = page.enter(|ctx| -> rquickjs::Result<()> {
            match outcome {
                Ok(value) => {
                    let value = page.json_in(ctx, &value)?;
                    resolve.restore(ctx)?.call::<_, ()>((value,))
                }
                Err(message) => {
                    let error: Value = ctx
                        .globals()
                        .get::<_, rquickjs::Constructor>("Error")?
                        .construct((message,))?;
                    reject.restore(ctx)?.call::<_, ()>((error,))
                }
            }
        });
    }
}

/// The outcome of `answer` as a promise of the page takes it: the value as JSON, or the
/// error's text.
async fn json_outcome<T, E>(
    answer: impl std::future::Future<Output = Result<T, E>>,
) -> Result<serde_json::Value, String>
where
    T: serde::Serialize,
    E: std::fmt::Display,
{
    answer
        .await
        .map(|value| serde_json::to_value(&value).unwrap_or(serde_json::Value::Null))
        .map_err(|error| error.to_string())
}

/// The page a native function belongs to, or the error a call from a page that is gone
/// throws.
pub(crate) fn live(page: &Weak<Page>, ctx: &Ctx<'_>) -> rquickjs::Result<Rc<Page>> {
    page.upgrade()
        .ok_or_else(|| throw(ctx, "Extension context invalidated."))
}

/// JSON text of a value the simulator hands to JavaScript.
pub(crate) fn json_of<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn strings<'js>(ctx: &Ctx<'js>, texts: Vec<String>) -> rquickjs::Result<Vec<Value<'js>>> {
    texts
        .into_iter()
        .map(|t| rquickjs::String::from_str(ctx.clone(), &t).map(|s| s.into_value()))
        .collect()
}

impl Page {
    /// `sender` as JSON, made again only for a sender not seen last.
    fn sender_json(&self, sender: &Arc<MessageSender>) -> Rc<serde_json::Value> {
        let mut last = self.last_sender.borrow_mut();
        if let Some((seen, json)) = &*last {
            if Arc::ptr_eq(seen, sender) {
                return Rc::clone(json);
            }
        }
        let json = Rc::new(serde_json::to_value(&**sender).unwrap_or(serde_json::Value::Null));
        *last = Some((Arc::clone(sender), Rc::clone(&json)));
        json
    }

    /// A new context for the load `runtime` belongs to, with its globals, and the program's
    /// files run in it in order. Errors are the uncaught error, as the console shows it.
    pub(crate) fn load(
        engine: &Rc<Engine>,
        runtime: Runtime,
        program: &Program<'_>,
    ) -> Result<Rc<Page>, String> {
        let manifest = runtime.get_manifest();
        let scope = program.scope.clone();
        let module_type = program.all_modules;
        let origin = runtime.get_url("").trim_end_matches('/').to_owned();
        program
            .modules
            .begin_page(&origin, matches!(scope, Scope::Worker { .. }));
        let new_worker = match &scope {
            Scope::Worker { script, .. } => {
                let mut install = program.install.borrow_mut();
                let version = manifest["version"].as_str().map(str::to_owned);
                if install.version != version {
                    *install = WorkerInstall {
                        version,
                        ..WorkerInstall::default()
                    };
                }
                if !install.done {
                    install.scripts.clear();
                    install.scripts.insert(format!("{origin}/{script}"));
                }
                !install.done
            }
            Scope::Page | Scope::View | Scope::ContentScript => false,
        };
        let context = engine.context()?;
        crate::live::opened(&scope);
        let page = Rc::new(Page {
            global: RefCell::new(None),
            json: RefCell::new(None),
            last_sender: RefCell::new(None),
            context,
            engine: Rc::clone(engine),
            runtime,
            listeners: RefCell::default(),
            next_token: Cell::new(1),
            timers: RefCell::default(),
            next_timer: Cell::new(1),
            ports: RefCell::default(),
            next_port: Cell::new(1),
            epoch_ms: program.epoch_ms,
            modules: Rc::clone(&program.modules),
            scope,
            install: Rc::clone(&program.install),
            new_worker,
            import_depth: Cell::new(0),
            origin: origin.clone(),
            background: Rc::clone(&program.background),
        });
        if page.scope == Scope::Page {
            *page.background.borrow_mut() = Rc::downgrade(&page);
        }
        for note in program.notes {
            page.runtime.warn(note.clone());
        }
        let weak = Rc::downgrade(&page);
        page.enter(|ctx| -> Result<(), String> {
            let globals = |e: String| format!("the globals could not be made: {e}");
            install(ctx, &weak).map_err(|e| globals(e.to_string()))?;
            crate::tabs::install(ctx, &weak).map_err(|e| globals(e.to_string()))?;
            crate::runtime_api::install(ctx, &weak).map_err(|e| globals(e.to_string()))?;
            lazy_url(ctx).map_err(globals)?;
            evaluate(ctx, "runtime-sim:storage.js", include_str!("storage.js")).map_err(globals)?;
            evaluate(ctx, "runtime-sim:prelude.js", include_str!("prelude.js")).map_err(globals)?;
            evaluate(ctx, "runtime-sim:runtime.js", include_str!("runtime.js")).map_err(globals)?;
            evaluate(ctx, "runtime-sim:tabs.js", include_str!("tabs.js")).map_err(globals)?;
            // Messages cross as values: the native side converts them as the prelude's
            // `stringify` and `parse` would, with the `JSON` the page's scripts see then.
            evaluate(
                ctx,
                "runtime-sim:json",
                "__runtime_sim.json(() => JSON, __runtime_sim.api.stringify, __runtime_sim.api.parse);",
            )
            .map_err(globals)?;
            evaluate(ctx, "runtime-sim:end", "delete globalThis.__runtime_sim;")
                .map_err(globals)?;
            if page.scope == Scope::Page {
                *page.global.borrow_mut() = Some(Persistent::save(ctx, ctx.globals()));
            }
            for entry in program.entries {
                let source = match &entry.source {
                    Ok(source) => source,
                    Err(reason) => {
                        page.runtime.console(
                            ConsoleLevel::Error,
                            format!("Failed to load resource: {reason}"),
                            Some(format!("{origin}/{}", entry.name)),
                        );
                        continue;
                    }
                };
                let ran = if entry.module || module_type {
                    page.run_module(ctx, &crate::script::root_path(&entry.name), source)
                } else {
                    evaluate(ctx, &entry.name, source)
                };
                if let Err(error) = ran {
                    // A worker whose script throws fails to start; a page's scripts are a
                    // document's `<script>` elements, and one that throws is reported while
                    // the next runs, unless the engine itself failed (memory, the interrupt
                    // budget, the stack), which ends the page as a crash does.
                    let worker = matches!(page.scope, Scope::Worker { .. });
                    if worker || (page.scope == Scope::Page && engine_failed(&error)) {
                        return Err(error);
                    }
                    page.runtime.console(ConsoleLevel::Error, error, None);
                }
            }
            Ok(())
        })?;
        if page.new_worker {
            // The top level and its jobs ran: the worker is installed.
            page.install.borrow_mut().done = true;
        }
        Ok(page)
    }

    /// Runs `source` as the module script `name`. A service worker's graph must load whole
    /// and may not wait at its top level (Chromium's `ServiceWorkerModuleTreeClient`).
    fn run_module(&self, ctx: &Ctx<'_>, name: &str, source: &str) -> Result<(), String> {
        let origin = self.modules.origin();
        let (result, failure) = self.modules.link(|| {
            modules::declare(ctx, &origin, name, source)
                .and_then(|module| module.eval().map(|(_, promise)| promise))
        });
        let worker = matches!(self.scope, Scope::Worker { .. });
        if let Some(failure) = failure {
            let _ = ctx.catch();
            if worker {
                self.runtime
                    .console(ConsoleLevel::Error, failure, Some(name.to_owned()));
                return Err(WORKER_MODULE_FAILED.to_owned());
            }
            return Err(failure);
        }
        let promise = match result {
            Ok(promise) => promise,
            Err(rquickjs::Error::Exception) => {
                return Err(format!("Uncaught {}", convert::thrown(ctx)))
            }
            Err(e) => return Err(e.to_string()),
        };
        match promise.state() {
            rquickjs::promise::PromiseState::Resolved => Ok(()),
            rquickjs::promise::PromiseState::Rejected => {
                let _ = promise.result::<Value>();
                Err(format!("Uncaught {}", convert::thrown(ctx)))
            }
            rquickjs::promise::PromiseState::Pending if worker => {
                self.runtime.console(
                    ConsoleLevel::Error,
                    "Top-level await is disallowed in service workers.".to_owned(),
                    Some(name.to_owned()),
                );
                Err(WORKER_MODULE_FAILED.to_owned())
            }
            // A page's module may wait at its top level: the rest runs as jobs.
            rquickjs::promise::PromiseState::Pending => Ok(()),
        }
    }

    /// `importScripts(...urls)`: runs the named files of the extension in order, in the
    /// worker's global scope. `Ok(Some((name, message)))` is the exception the prelude throws
    /// (a `DOMException`, or a `TypeError` when `name` is `TypeError`); what an imported script
    /// throws propagates as it is.
    fn import_scripts(
        &self,
        ctx: &Ctx<'_>,
        urls: Vec<String>,
    ) -> rquickjs::Result<Option<(String, String)>> {
        let Scope::Worker { script, module } = &self.scope else {
            return Ok(Some((
                "TypeError".to_owned(),
                "importScripts is not defined".to_owned(),
            )));
        };
        let origin = self.modules.origin();
        let targets: Vec<Target> = urls
            .iter()
            .map(|url| paths::resolve(&origin, script, url))
            .collect();
        let installed = |target: &Target| {
            let url = target.url(&origin);
            self.install.borrow().scripts.contains(&url)
        };
        // ServiceWorkerGlobalScope::importScripts: an installed worker imports only what was
        // installed with it.
        if !self.new_worker {
            if let Some(target) = targets.iter().find(|t| !installed(t)) {
                return Ok(Some((
                    "NetworkError".to_owned(),
                    import_scripts_error(&format!(
                        "Failed to import '{}'. importScripts() of new scripts after service worker installation is not allowed.",
                        target.url(&origin)
                    )),
                )));
            }
        }
        if *module {
            return Ok(Some((
                "TypeError".to_owned(),
                import_scripts_error("Module scripts don't support importScripts()."),
            )));
        }
        let failed = |target: &Target| {
            Some((
                "NetworkError".to_owned(),
                import_scripts_error(&format!(
                    "The script at '{}' failed to load.",
                    target.url(&origin)
                )),
            ))
        };
        // Content Security Policy: an extension's scripts come from the extension only.
        if let Some(target) = targets.iter().find(|t| matches!(t, Target::Elsewhere(_))) {
            return Ok(failed(target));
        }
        for target in &targets {
            let Target::Here { path, .. } = target else {
                return Ok(failed(target));
            };
            // A new script after the installation finished: the browser refuses to serve it.
            if self.install.borrow().done && !installed(target) {
                return Ok(failed(target));
            }
            let source = match self.modules.lookup(path) {
                Lookup::Found(source) => Rc::clone(source),
                Lookup::Unreadable(_) | Lookup::Missing => return Ok(failed(target)),
            };
            if self.new_worker {
                self.install
                    .borrow_mut()
                    .scripts
                    .insert(target.url(&origin));
            }
            let depth = self.import_depth.get();
            if depth >= MAX_IMPORT_DEPTH {
                return Ok(Some((
                    "RangeError".to_owned(),
                    "Maximum call stack size exceeded".to_owned(),
                )));
            }
            self.import_depth.set(depth + 1);
            let name = paths::decode(path).unwrap_or_else(|| path.clone());
            let mut options = rquickjs::context::EvalOptions::default();
            options.strict = false;
            options.filename = Some(name);
            let result = ctx.eval_with_options::<(), _>(&*source, options);
            self.import_depth.set(depth);
            result?;
        }
        Ok(None)
    }

    /// Enters JavaScript in this page; jobs left by the entry run after it.
    pub(crate) fn enter<R>(&self, f: impl FnOnce(&Ctx<'_>) -> R) -> R {
        // The extension's pages share one engine: what resolves a module is told whose it is.
        self.modules
            .begin_page(&self.origin, matches!(self.scope, Scope::Worker { .. }));
        let runtime = self.runtime.clone();
        self.engine.enter(&self.context, f, move |uncaught| {
            runtime.console(ConsoleLevel::Error, uncaught, None)
        })
    }

    fn listen(
        self: &Rc<Self>,
        name: &str,
        function: Kept,
        port: Option<u32>,
    ) -> Result<u32, String> {
        let callback = Rc::new(Callback {
            function,
            page: Rc::clone(self),
        });
        let rt = &self.runtime;
        let plain = |json: Vec<String>, callback: &Callback| -> ListenerOutcome {
            match callback.call(|ctx| strings(ctx, json), |_| ()) {
                Ok(()) => ListenerOutcome::Done,
                Err(error) => ListenerOutcome::Failed(ListenerError::new(error)),
            }
        };
        if port.is_none() {
            if let Some((name, event)) = plain_event(rt, name) {
                let callback = Rc::clone(&callback);
                let id = event.add_listener(move |()| plain(vec![], &callback));
                return Ok(self.remember(Registered::Plain(name, id)));
            }
            if let Some((name, event)) = connect_event(rt, name) {
                let callback = Rc::clone(&callback);
                let page = Rc::downgrade(self);
                let id = event.add_listener(move |port: Port| on_connect(&page, &callback, port));
                return Ok(self.remember(Registered::Connect(name, id)));
            }
            if let Some((name, event)) = message_event(rt, name) {
                let callback = Rc::clone(&callback);
                let id =
                    event.add_listener(move |message: OnMessage| on_message(&callback, message));
                return Ok(self.remember(Registered::Message(name, id)));
            }
        }
        let registered = match (name, port) {
            ("Port.onMessage", Some(token)) => {
                let port = self.port(token)?;
                let callback = Rc::clone(&callback);
                Registered::PortMessage(
                    token,
                    port.on_message().add_listener(
                        move |(message, _port): (serde_json::Value, Port)| {
                            plain(vec![json_of(&message)], &callback)
                        },
                    ),
                )
            }
            ("Port.onDisconnect", Some(token)) => {
                let port = self.port(token)?;
                let callback = Rc::clone(&callback);
                Registered::PortDisconnect(
                    token,
                    port.on_disconnect()
                        .add_listener(move |_port: Port| plain(vec![], &callback)),
                )
            }
            (_, Some(_)) => return Err(format!("{name} is not an event of a port")),
            ("runtime.onInstalled", None) => {
                let callback = Rc::clone(&callback);
                Registered::Installed(rt.on_installed().add_listener(
                    move |details: OnInstalledDetails| plain(vec![json_of(&details)], &callback),
                ))
            }
            ("runtime.onUpdateAvailable", None) => {
                let callback = Rc::clone(&callback);
                Registered::UpdateAvailable(rt.on_update_available().add_listener(
                    move |details: serde_json::Value| plain(vec![json_of(&details)], &callback),
                ))
            }
            ("runtime.onRestartRequired", None) => {
                let callback = Rc::clone(&callback);
                Registered::RestartRequired(rt.on_restart_required().add_listener(
                    move |reason: OnRestartRequiredReason| {
                        plain(vec![json_of(&reason.as_str())], &callback)
                    },
                ))
            }
            (other, None) => {
                let callback = Rc::clone(&callback);
                let event = rt.event(other);
                Registered::Named(
                    other.to_owned(),
                    event.add_listener(move |args: serde_json::Value| {
                        plain(vec![json_of(&args)], &callback)
                    }),
                )
            }
        };
        Ok(self.remember(registered))
    }

    /// Keeps a listener registered with the browser; gives the number JavaScript removes it by.
    fn remember(&self, registered: Registered) -> u32 {
        let token = self.next_token.get();
        self.next_token.set(token + 1);
        self.listeners.borrow_mut().insert(token, registered);
        token
    }

    fn unlisten(&self, token: u32) -> bool {
        let Some(registered) = self.listeners.borrow_mut().remove(&token) else {
            return false;
        };
        let rt = &self.runtime;
        match registered {
            Registered::Installed(id) => rt.on_installed().remove_listener(id),
            Registered::UpdateAvailable(id) => rt.on_update_available().remove_listener(id),
            Registered::RestartRequired(id) => rt.on_restart_required().remove_listener(id),
            Registered::Plain(name, id) => {
                plain_event(rt, name).is_some_and(|(_, event)| event.remove_listener(id))
            }
            Registered::Message(name, id) => {
                message_event(rt, name).is_some_and(|(_, event)| event.remove_listener(id))
            }
            Registered::Named(name, id) => rt.event(&name).remove_listener(id),
            Registered::Connect(name, id) => {
                connect_event(rt, name).is_some_and(|(_, event)| event.remove_listener(id))
            }
            Registered::PortMessage(port, id) => self
                .port(port)
                .is_ok_and(|p| p.on_message().remove_listener(id)),
            Registered::PortDisconnect(port, id) => self
                .port(port)
                .is_ok_and(|p| p.on_disconnect().remove_listener(id)),
        }
    }

    /// This context's `chrome.runtime`.
    pub(crate) fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// An asynchronous call of the API in either form: `work`'s value (JSON) or error is given
    /// to `callback` (the callback form: `callback(json)`, or `callback()` with
    /// `runtime.lastError` set), or else to `settle(ok, text)` (a promise). With neither, the
    /// call is made and its outcome dropped.
    pub(crate) fn answer_later<F>(
        self: &Rc<Self>,
        callback: Option<Kept>,
        settle: Option<Kept>,
        work: F,
    ) where
        F: std::future::Future<Output = Result<serde_json::Value, String>> + 'static,
    {
        let page = Rc::clone(self);
        self.runtime.spawn(async move {
            let outcome = work.await;
            if let Some(function) = callback {
                let callback = Callback {
                    function,
                    page: Rc::clone(&page),
                };
                let (json, error) = match outcome {
                    Ok(value) => (Some(json_of(&value)), None),
                    Err(error) => (None, Some(error)),
                };
                callback.call_with_last_error(error, move |ctx| match json {
                    Some(json) => strings(ctx, vec![json]),
                    None => Ok(Vec::new()),
                });
            } else if let Some(function) = settle {
                let settle = Callback { function, page };
                match outcome {
                    Ok(value) => settle.settle(true, json_of(&value)),
                    Err(error) => settle.settle(false, error),
                }
            }
        });
    }

    /// `runtime.getBackgroundPage()`: the background page's `window` (its global object),
    /// loading an event page first, given to `callback(window)` or `settle(true, window)`; or
    /// the browser's error (`You do not have a background page.` for a service worker or no
    /// background at all).
    fn background_page(self: &Rc<Self>, callback: Option<Kept>, settle: Option<Kept>) {
        let manifest = self.runtime.get_manifest();
        let worker = manifest["background"]["service_worker"].is_string();
        let runtime = self.runtime.clone();
        let page = Rc::clone(self);
        self.runtime.spawn(async move {
            let loaded = if worker {
                Err(runtime_core::GetBackgroundPageError::NoBackgroundPage.to_string())
            } else {
                runtime
                    .get_background_page()
                    .await
                    .map_err(|e| e.to_string())
            };
            let window = loaded.and_then(|_| {
                let background = page.background.borrow().upgrade();
                background
                    .and_then(|bg| bg.global.borrow().clone())
                    .ok_or_else(|| runtime_core::GetBackgroundPageError::FailedToLoad.to_string())
            });
            if let Some(function) = callback {
                let callback = Callback {
                    function,
                    page: Rc::clone(&page),
                };
                let (window, error) = match window {
                    Ok(window) => (Some(window), None),
                    Err(error) => (None, Some(error)),
                };
                callback.call_with_last_error(error, move |ctx| match window {
                    Some(window) => Ok(vec![window.restore(ctx)?.into_value()]),
                    None => Ok(Vec::new()),
                });
            } else if let Some(function) = settle {
                let settle = Callback { function, page };
                let _ = settle.call(
                    move |ctx| {
                        Ok(match window {
                            Ok(window) => vec![
                                Value::new_bool(ctx.clone(), true),
                                window.restore(ctx)?.into_value(),
                            ],
                            Err(error) => {
                                let mut args = vec![Value::new_bool(ctx.clone(), false)];
                                args.extend(strings(ctx, vec![error])?);
                                args
                            }
                        })
                    },
                    |_| (),
                );
            }
        });
    }

    /// Keeps a port for JavaScript; gives the number JavaScript knows it by.
    pub(crate) fn keep_port(&self, port: Port) -> u32 {
        let token = self.next_port.get();
        self.next_port.set(token + 1);
        self.ports.borrow_mut().insert(token, port);
        token
    }

    fn port(&self, token: u32) -> Result<Port, String> {
        self.ports
            .borrow()
            .get(&token)
            .cloned()
            .ok_or_else(|| "Attempting to use a disconnected port object".to_owned())
    }

    fn timer(self: &Rc<Self>, delay_ms: f64, function: Kept) -> u32 {
        let id = self.next_timer.get();
        self.next_timer.set(id + 1);
        let cleared = Rc::new(Cell::new(false));
        self.timers.borrow_mut().insert(id, Rc::clone(&cleared));
        let delay = Duration::from_secs_f64((delay_ms.max(0.0)) / 1000.0);
        let sleep = self.runtime.sleep(delay);
        let callback = Callback {
            function,
            page: Rc::clone(self),
        };
        self.runtime.spawn(async move {
            sleep.await;
            callback.page.timers.borrow_mut().remove(&id);
            if cleared.get() {
                return;
            }
            if let Err(error) = callback.call(|_| Ok(Vec::new()), |_| ()) {
                callback.page.runtime.console(
                    ConsoleLevel::Error,
                    format!("Uncaught {error}"),
                    None,
                );
            }
        });
        id
    }

    fn clear_timer(&self, id: u32) {
        if let Some(cleared) = self.timers.borrow_mut().remove(&id) {
            cleared.set(true);
        }
    }

    /// `runtime.sendMessage`: with `callback`, the callback form; else `settle(ok, json)`
    /// gives the promise's outcome. Errors of the call itself are returned.
    fn send_message(
        self: &Rc<Self>,
        extension_id: Option<String>,
        message: serde_json::Value,
        callback: Option<Kept>,
        settle: Option<Kept>,
    ) -> Result<(), String> {
        if let Some(function) = callback {
            let answer = self.answer_callback(function, "Error in response callback", true);
            return self
                .runtime
                .send_message_callback(extension_id.as_deref(), &message, answer)
                .map_err(|e| e.to_string());
        }
        if let Some(function) = settle {
            let reply = match &extension_id {
                Some(id) => {
                    futures::future::Either::Left(self.runtime.send_message_to(id, &message))
                }
                None => futures::future::Either::Right(self.runtime.send_message(&message)),
            };
            self.settle_json_when(function, reply);
        }
        Ok(())
    }

    /// `runtime.sendMessage` in the promise form: the promise, resolved with the answer as
    /// `JSON.parse` makes it of its JSON, or rejected with an `Error` of the browser's message.
    /// A message that cannot be sent as JSON rejects it too (as a throw in a promise's
    /// executor would).
    fn send_message_promise<'js>(
        self: &Rc<Self>,
        ctx: &Ctx<'js>,
        extension_id: Option<String>,
        message: Value<'js>,
    ) -> rquickjs::Result<Value<'js>> {
        let (promise, resolve, reject) = ctx.promise()?;
        let message = match self.json_out(ctx, message) {
            Ok(message) => message,
            Err(rquickjs::Error::Exception) => {
                reject.call::<_, ()>((ctx.catch(),))?;
                return Ok(promise.into_value());
            }
            Err(error) => return Err(error),
        };
        let reply = self
            .runtime
            .send_json_message(extension_id.as_deref(), message);
        let resolvers = Resolvers {
            resolve: Persistent::save(ctx, resolve),
            reject: Persistent::save(ctx, reject),
            page: Rc::clone(self),
        };
        // No answer at all resolves the promise with `undefined`; an answer of `undefined`
        // or `null` with `null` (Chromium 148: conformance/goldens/chromium-mv3.json).
        self.runtime.spawn(async move {
            match reply.await {
                Ok(None) => resolvers.resolve_undefined(),
                Ok(Some(value)) => resolvers.settle_json(Ok(value)),
                Err(error) => resolvers.settle_json(Err(error.to_string())),
            }
        });
        Ok(promise.into_value())
    }

    /// `runtime.sendNativeMessage`: with `callback`, the callback form; else `settle(ok,
    /// json)` gives the promise's outcome. Errors of the call itself are returned.
    fn send_native_message(
        self: &Rc<Self>,
        application: &str,
        message: serde_json::Value,
        callback: Option<Kept>,
        settle: Option<Kept>,
    ) -> Result<(), String> {
        if let Some(function) = callback {
            let answer = self.answer_callback(
                function,
                "Error in response to runtime.sendNativeMessage",
                false,
            );
            return self
                .runtime
                .send_native_message_callback(application, &message, answer)
                .map_err(|e| e.to_string());
        }
        if let Some(function) = settle {
            let answer = self.runtime.send_native_message(application, &message);
            self.settle_json_when(function, answer);
        }
        Ok(())
    }

    /// The callback of a callback-form call: the JavaScript `function` gets the answer's
    /// JSON, or with none `null` (`none_is_null`) or `undefined`; an error it throws goes to
    /// the console after `what`.
    fn answer_callback(
        self: &Rc<Self>,
        function: Kept,
        what: &'static str,
        none_is_null: bool,
    ) -> impl FnOnce(Option<serde_json::Value>) + 'static {
        let callback = Callback {
            function,
            page: Rc::clone(self),
        };
        move |answer| callback.answer(answer.map(|a| json_of(&a)), none_is_null, what)
    }

    /// The promise form: when `answer` is ready, `settle(ok, json)` gets its value's JSON or
    /// its error's text.
    fn settle_when<T, E>(
        self: &Rc<Self>,
        function: Kept,
        answer: impl std::future::Future<Output = Result<T, E>> + 'static,
    ) where
        T: serde::Serialize,
        E: std::fmt::Display,
    {
        let settle = Callback {
            function,
            page: Rc::clone(self),
        };
        self.runtime.spawn(async move {
            match answer.await {
                Ok(value) => settle.settle(true, json_of(&value)),
                Err(error) => settle.settle(false, error.to_string()),
            }
        });
    }

    /// The promise form of a message: when `answer` is ready, `settle(ok, value)` gets its
    /// value as `JSON.parse` makes it of its JSON, or its error's text.
    fn settle_json_when<T, E>(
        self: &Rc<Self>,
        function: Kept,
        answer: impl std::future::Future<Output = Result<T, E>> + 'static,
    ) where
        T: serde::Serialize,
        E: std::fmt::Display,
    {
        let settle = Callback {
            function,
            page: Rc::clone(self),
        };
        self.runtime
            .spawn(async move { settle.settle_json(json_outcome(answer).await) });
    }

    /// What the browser gets for `value` sent from this page: what `JSON.stringify` makes of
    /// it, read as JSON (see [`PageJson::outgoing`]).
    fn json_out<'js>(
        &self,
        ctx: &Ctx<'js>,
        value: Value<'js>,
    ) -> rquickjs::Result<serde_json::Value> {
        match self.json.borrow().as_ref() {
            Some(json) => json.outgoing(ctx, value),
            None => Err(throw(ctx, "the page's JSON is not ready")),
        }
    }

    /// What this page's scripts get for `value` from the browser: what `JSON.parse` makes of
    /// its JSON (see [`PageJson::incoming`]).
    fn json_in<'js>(
        &self,
        ctx: &Ctx<'js>,
        value: &serde_json::Value,
    ) -> rquickjs::Result<Value<'js>> {
        match self.json.borrow().as_ref() {
            Some(json) => json.incoming(ctx, value),
            None => Err(throw(ctx, "the page's JSON is not ready")),
        }
    }

    /// An asynchronous call (storage, alarms): `work` runs as the page's asynchronous work
    /// and gives `(ok, json)`, which `done(ok, json)` gets.
    fn settle_later<F>(self: &Rc<Self>, done: Kept, work: impl FnOnce(Runtime) -> F)
    where
        F: std::future::Future<Output = Result<serde_json::Value, String>> + 'static,
    {
        self.settle_when(done, work(self.runtime.clone()));
    }
}

impl Page {
    /// An asynchronous call in the callback form: `work` runs as the page's asynchronous work,
    /// then `done(ok, json)` runs as the call's callback — with `runtime.lastError` set while
    /// it runs if the call failed, and reported as unchecked if it is not read.
    fn callback_later<F>(self: &Rc<Self>, done: Kept, work: impl FnOnce(Runtime) -> F)
    where
        F: std::future::Future<Output = Result<serde_json::Value, String>> + 'static,
    {
        let future = work(self.runtime.clone());
        let done = Callback {
            function: done,
            page: Rc::clone(self),
        };
        self.runtime.spawn(async move {
            let (ok, text, error) = match future.await {
                Ok(value) => (true, json_of(&value), None),
                Err(error) => (false, error.clone(), Some(error)),
            };
            let runtime = done.page.runtime.clone();
            let result = runtime.run_callback(error, || {
                done.call(
                    move |ctx| {
                        let mut args = vec![Value::new_bool(ctx.clone(), ok)];
                        args.extend(strings(ctx, vec![text])?);
                        Ok(args)
                    },
                    |_| (),
                )
            });
            if let Err(error) = result {
                runtime.console(
                    ConsoleLevel::Error,
                    format!("Error in response callback: {error}"),
                    None,
                );
            }
        });
    }
}

/// The `runtime` events with no arguments, by name.
fn plain_event<'r>(
    rt: &'r Runtime,
    name: &str,
) -> Option<(&'static str, &'r runtime_core::Event<()>)> {
    match name {
        "runtime.onStartup" => Some(("runtime.onStartup", rt.on_startup())),
        "runtime.onSuspend" => Some(("runtime.onSuspend", rt.on_suspend())),
        "runtime.onSuspendCanceled" => {
            Some(("runtime.onSuspendCanceled", rt.on_suspend_canceled()))
        }
        "runtime.onBrowserUpdateAvailable" => Some((
            "runtime.onBrowserUpdateAvailable",
            rt.on_browser_update_available(),
        )),
        _ => None,
    }
}

/// `runtime.onMessage` and `runtime.onMessageExternal`, by name.
fn message_event<'r>(
    rt: &'r Runtime,
    name: &str,
) -> Option<(&'static str, &'r runtime_core::OnMessageEvent)> {
    match name {
        "runtime.onMessage" => Some(("runtime.onMessage", rt.on_message())),
        "runtime.onMessageExternal" => {
            Some(("runtime.onMessageExternal", rt.on_message_external()))
        }
        _ => None,
    }
}

/// `runtime.onConnect`, `runtime.onConnectExternal` and `runtime.onConnectNative`, by name.
fn connect_event<'r>(
    rt: &'r Runtime,
    name: &str,
) -> Option<(&'static str, &'r runtime_core::Event<Port>)> {
    match name {
        "runtime.onConnect" => Some(("runtime.onConnect", rt.on_connect())),
        "runtime.onConnectExternal" => {
            Some(("runtime.onConnectExternal", rt.on_connect_external()))
        }
        "runtime.onConnectNative" => Some(("runtime.onConnectNative", rt.on_connect_native())),
        _ => None,
    }
}

/// `runtime.onConnect`'s listener: the port is kept for the page, and the JavaScript wrapper
/// gets its number, name and sender.
fn on_connect(page: &Weak<Page>, callback: &Rc<Callback>, port: Port) -> ListenerOutcome {
    let Some(page) = page.upgrade() else {
        return ListenerOutcome::Done;
    };
    let name = port.name().to_owned();
    let sender = port
        .sender()
        .map(json_of)
        .unwrap_or_else(|| "null".to_owned());
    let token = page.keep_port(port);
    match callback.call(
        move |ctx| {
            let mut args = vec![Value::new_int(ctx.clone(), token as i32)];
            args.extend(strings(ctx, vec![name, sender])?);
            Ok(args)
        },
        |_| (),
    ) {
        Ok(()) => ListenerOutcome::Done,
        Err(error) => ListenerOutcome::Failed(ListenerError::new(error)),
    }
}

/// The `respond(response)` function of one message's JavaScript listener: the response as
/// `JSON.stringify` makes it.
fn respond_function<'js>(
    ctx: &Ctx<'js>,
    page: Weak<Page>,
    respond: runtime_core::SendResponse,
) -> rquickjs::Result<Function<'js>> {
    // Only the first call answers; later ones do nothing, as in the browser.
    let answered = Cell::new(false);
    Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, response: Opt<Value<'js>>| -> rquickjs::Result<()> {
            if answered.replace(true) {
                return Ok(());
            }
            let response = response
                .0
                .unwrap_or_else(|| Value::new_undefined(ctx.clone()));
            let value = live(&page, &ctx)?.json_out(&ctx, response)?;
            // An answer over the size limit throws, as in Chromium's renderer.
            respond
                .send_json(value)
                .map(|_| ())
                .map_err(|error| throw(&ctx, &error.to_string()))
        },
    )
}

/// The two functions a listener's promise is given with `then`: its value as `JSON.stringify`
/// makes it, or the message of its error (`error.message` for an `Error`, else `String(error)`),
/// go to `sender`, once.
fn settle_functions<'js>(
    ctx: &Ctx<'js>,
    page: Weak<Page>,
    sender: oneshot::Sender<Result<serde_json::Value, String>>,
) -> rquickjs::Result<(Function<'js>, Function<'js>)> {
    let sender = Rc::new(RefCell::new(Some(sender)));
    let on_rejected = Rc::clone(&sender);
    let rejecting_page = page.clone();
    let fulfilled = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, value: Opt<Value<'js>>| -> rquickjs::Result<()> {
            let value = value.0.unwrap_or_else(|| Value::new_undefined(ctx.clone()));
            let outcome = Ok(live(&page, &ctx)?.json_out(&ctx, value)?);
            if let Some(sender) = sender.borrow_mut().take() {
                let _ = sender.send(outcome);
            }
            Ok(())
        },
    )?;
    let rejected = Function::new(
        ctx.clone(),
        move |ctx: Ctx<'js>, error: Opt<Value<'js>>| -> rquickjs::Result<()> {
            let error = error.0.unwrap_or_else(|| Value::new_undefined(ctx.clone()));
            // Chromium 148 rejects the sender with the error as an uncaught exception reads
            // (`Uncaught Error: <message>`: conformance/goldens/chromium-mv3.json); Firefox
            // with the message alone.
            let chromium = rejecting_page
                .upgrade()
                .is_some_and(|page| page.runtime.profile() != runtime_core::Profile::Firefox);
            let message = match error.as_exception() {
                Some(exception) if chromium => {
                    format!("Uncaught {}", convert::headline(exception))
                }
                Some(exception) => exception.message().unwrap_or_default(),
                None => rquickjs::Coerced::<String>::from_js(&ctx, error)?.0,
            };
            if let Some(sender) = on_rejected.borrow_mut().take() {
                let _ = sender.send(Err(message));
            }
            Ok(())
        },
    )?;
    Ok((fulfilled, rejected))
}

/// What an `onMessage` listener returned.
enum Returned {
    /// Done (`false`) or `true`: it answers later through `sendResponse`.
    Later(bool),
    /// A promise, whose outcome comes through this.
    Promise(oneshot::Receiver<Result<serde_json::Value, String>>),
    /// Attaching to the promise threw.
    Failed(String),
}

/// `runtime.onMessage`'s listener, called with `(message, sender, sendResponse)`: it returns
/// `true` (it answers later through `sendResponse`), a promise (from Chrome 144 its value is
/// the answer: its `then` is called at once, in the same entry, before any job runs), or
/// anything else (done).
fn on_message(callback: &Rc<Callback>, message: OnMessage) -> ListenerOutcome {
    let respond = message.send_response();
    let answer = message.send_response();
    let promise_answers = message.promise_is_answer();
    let sender_json = callback.page.sender_json(&message.sender);
    let page = Rc::downgrade(&callback.page);
    let settling = page.clone();
    let value = message.message;
    let result = callback.call(
        move |ctx| {
            let strong = live(&page, ctx)?;
            let message = strong.json_in(ctx, &value)?;
            let sender = strong.json_in(ctx, &sender_json)?;
            drop(strong);
            let respond = respond_function(ctx, page, respond)?;
            Ok(vec![message, sender, respond.into_value()])
        },
        move |value| {
            if value.as_bool() == Some(true) {
                return Returned::Later(true);
            }
            // A promise, or any object with a `then` function (what `await` would take).
            let Some(object) = value.as_object().filter(|_| !value.is_function()) else {
                return Returned::Later(false);
            };
            let ctx = value.ctx();
            let then = match object.get::<_, Value>("then") {
                Ok(then) => then,
                Err(rquickjs::Error::Exception) => return Returned::Failed(convert::thrown(ctx)),
                Err(e) => return Returned::Failed(e.to_string()),
            };
            let Some(then) = then.as_function() else {
                return Returned::Later(false);
            };
            let (sender, settled) = oneshot::channel();
            let attached = settle_functions(ctx, settling, sender).and_then(|(ok, failed)| {
                then.call::<_, Value>((rquickjs::function::This(object.clone()), ok, failed))
            });
            match attached {
                Ok(_) => Returned::Promise(settled),
                Err(rquickjs::Error::Exception) => Returned::Failed(convert::thrown(ctx)),
                Err(e) => Returned::Failed(e.to_string()),
            }
        },
    );
    let respond = answer;
    match result {
        Ok(Returned::Later(true)) => ListenerOutcome::True,
        Ok(Returned::Promise(settled)) => ListenerOutcome::Pending(Box::pin(async move {
            match settled.await {
                Ok(Ok(value)) => {
                    if promise_answers {
                        respond
                            .send_json(value)
                            .map_err(|error| ListenerError::new(error.to_string()))?;
                    }
                    Ok(())
                }
                Ok(Err(error)) => Err(ListenerError::new(error)),
                // The page went before the promise settled.
                Err(_) => Ok(()),
            }
        })),
        Ok(Returned::Later(false)) => ListenerOutcome::Done,
        Ok(Returned::Failed(error)) | Err(error) => {
            ListenerOutcome::Failed(ListenerError::new(error))
        }
    }
}

fn strong_epoch(page: &Weak<Page>) -> f64 {
    page.upgrade().map_or(0.0, |page| page.epoch_ms)
}

/// One `chrome.alarms` call: times cross as Unix milliseconds in JavaScript and as virtual
/// milliseconds in the browser.
async fn alarms_call(
    rt: Runtime,
    op: &str,
    args: serde_json::Value,
    epoch_ms: f64,
) -> Result<serde_json::Value, String> {
    let alarms = rt.alarms();
    let name = args["name"].as_str().unwrap_or("").to_owned();
    let shown = |mut alarm: serde_json::Value| {
        if let Some(at) = alarm
            .get("scheduledTime")
            .and_then(serde_json::Value::as_f64)
        {
            alarm["scheduledTime"] = serde_json::Value::from(at + epoch_ms);
        }
        alarm
    };
    let result = match op {
        "create" => {
            let info = &args["info"];
            let info = runtime_core::AlarmInfo {
                when_ms: info["when"].as_f64().map(|when| when - epoch_ms),
                delay_in_minutes: info["delayInMinutes"].as_f64(),
                period_in_minutes: info["periodInMinutes"].as_f64(),
            };
            alarms
                .create(&name, info)
                .await
                .map(|()| serde_json::Value::Null)
        }
        "get" => alarms
            .get(&name)
            .await
            .map(|alarm| if alarm.is_null() { alarm } else { shown(alarm) }),
        "getAll" => alarms.get_all().await.map(|all| match all {
            serde_json::Value::Array(list) => {
                serde_json::Value::Array(list.into_iter().map(shown).collect())
            }
            other => other,
        }),
        "clear" => alarms.clear(&name).await.map(serde_json::Value::Bool),
        "clearAll" => alarms.clear_all().await.map(serde_json::Value::Bool),
        other => return Err(format!("alarms.{other} is not simulated by runtime-sim")),
    };
    result.map_err(|e| e.to_string())
}

/// Runs `source` as a classic script named `name`; an uncaught error is returned as the
/// console shows it.
fn evaluate(ctx: &Ctx<'_>, name: &str, source: &str) -> Result<(), String> {
    let mut options = rquickjs::context::EvalOptions::default();
    options.strict = false;
    options.filename = Some(name.to_owned());
    match ctx.eval_with_options::<(), _>(source, options) {
        Ok(()) => Ok(()),
        Err(rquickjs::Error::Exception) => Err(format!("Uncaught {}", convert::thrown(ctx))),
        Err(e) => Err(e.to_string()),
    }
}

/// Whether an uncaught error is the engine's own (QuickJS's `InternalError`: out of memory,
/// interrupted, too much recursion), not the script's.
fn engine_failed(error: &str) -> bool {
    error.starts_with("Uncaught InternalError")
}

/// Throws a JavaScript `Error` with `message`.
pub(crate) fn throw(ctx: &Ctx<'_>, message: &str) -> rquickjs::Error {
    rquickjs::Exception::throw_message(ctx, message)
}

/// The native functions the prelude builds the globals on, as `globalThis.__runtime_sim`.
/// `URL` and `URLSearchParams` as globals that are made the first time a script touches
/// them: `url.js` is a large script, and most pages never use it (made in every context, it
/// took about 168 KB of each page's heap).
fn lazy_url(ctx: &Ctx<'_>) -> Result<(), String> {
    let load = Function::new(ctx.clone(), |ctx: Ctx<'_>| {
        evaluate(&ctx, "runtime-sim:url.js", include_str!("url.js")).map_err(|e| throw(&ctx, &e))
    })
    .map_err(|e| e.to_string())?;
    ctx.globals()
        .set("__runtimeSimUrl", load)
        .map_err(|e| e.to_string())?;
    evaluate(
        ctx,
        "runtime-sim:lazy-url.js",
        r#"(function (global, load) {
  delete global.__runtimeSimUrl;
  const data = (value) => ({ value, writable: true, configurable: true, enumerable: false });
  for (const name of ["URL", "URLSearchParams"]) {
    Object.defineProperty(global, name, {
      configurable: true,
      enumerable: false,
      get() {
        load();
        return global[name];
      },
      set(value) {
        Object.defineProperty(global, name, data(value));
      },
    });
  }
})(globalThis, globalThis.__runtimeSimUrl);"#,
    )
}

fn install<'js>(ctx: &Ctx<'js>, page: &Weak<Page>) -> rquickjs::Result<()> {
    let sim = Object::new(ctx.clone())?;
    let strong = live(page, ctx)?;
    sim.set("id", strong.runtime.id().as_str())?;
    sim.set("url", strong.runtime.url().unwrap_or_default())?;
    sim.set(
        "firefox",
        matches!(strong.runtime.profile(), runtime_core::Profile::Firefox),
    )?;
    let now_ms = strong.runtime.now().as_millis() as f64;
    sim.set("origin", strong.epoch_ms + now_ms)?;
    sim.set("worker", matches!(strong.scope, Scope::Worker { .. }))?;
    sim.set("kind", strong.scope.kind())?;
    sim.set(
        "manifestVersion",
        strong.runtime.get_manifest()["manifest_version"]
            .as_u64()
            .unwrap_or(2),
    )?;
    drop(strong);

    let p = page.clone();
    sim.set(
        "now",
        Function::new(ctx.clone(), move || {
            p.upgrade().map_or(0.0, |page| {
                page.epoch_ms + page.runtime.now().since_start().as_secs_f64() * 1000.0
            })
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "random",
        Function::new(ctx.clone(), move || {
            p.upgrade().map_or(0.0, |page| page.runtime.random())
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "console",
        Function::new(
            ctx.clone(),
            move |level: String, message: String, location: Opt<Option<String>>| {
                let level = match level.as_str() {
                    "info" => ConsoleLevel::Info,
                    "warn" => ConsoleLevel::Warn,
                    "error" => ConsoleLevel::Error,
                    "debug" => ConsoleLevel::Debug,
                    _ => ConsoleLevel::Log,
                };
                if let Some(page) = p.upgrade() {
                    page.runtime.console(level, message, location.0.flatten());
                }
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "listen",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  name: String,
                  function: Function<'js>,
                  port: Opt<Option<u32>>,
                  at: Opt<Option<String>>| {
                let page = live(&p, &ctx)?;
                let kept = Persistent::save(&ctx, function);
                let runtime = page.runtime.clone();
                runtime
                    .at_call_site(at.0.flatten(), || {
                        page.listen(&name, kept, port.0.flatten())
                    })
                    .map_err(|e| throw(&ctx, &e))
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "unlisten",
        Function::new(ctx.clone(), move |token: u32| {
            p.upgrade().is_some_and(|page| page.unlisten(token))
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "timer",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, delay: f64, function: Function<'js>| {
                let page = live(&p, &ctx)?;
                Ok::<_, rquickjs::Error>(page.timer(delay, Persistent::save(&ctx, function)))
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "clearTimer",
        Function::new(ctx.clone(), move |id: u32| {
            if let Some(page) = p.upgrade() {
                page.clear_timer(id);
            }
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "lastError",
        Function::new(ctx.clone(), move || {
            p.upgrade()
                .and_then(|page| page.runtime.last_error())
                .map(|e| e.message)
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "callFailed",
        Function::new(ctx.clone(), move || {
            p.upgrade()
                .is_some_and(|page| page.runtime.last_error_is_set())
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "manifest",
        Function::new(ctx.clone(), move || {
            p.upgrade().map_or_else(
                || "null".to_owned(),
                |page| json_of(&page.runtime.get_manifest()),
            )
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "getURL",
        Function::new(ctx.clone(), move |path: String| {
            p.upgrade()
                .map_or_else(String::new, |page| page.runtime.get_url(&path))
        })?,
    )?;
    let p = page.clone();
    // sendMessage("extension", extensionId?, …) or sendMessage("native", application, …).
    sim.set(
        "sendMessage",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  kind: String,
                  to: Option<String>,
                  message: Value<'js>,
                  callback: Option<Function<'js>>,
                  settle: Opt<Option<Function<'js>>>| {
                let page = live(&p, &ctx)?;
                let message = page.json_out(&ctx, message)?;
                let callback = callback.map(|f| Persistent::save(&ctx, f));
                let settle = settle.0.flatten().map(|f| Persistent::save(&ctx, f));
                match (kind.as_str(), to) {
                    ("native", Some(application)) => {
                        page.send_native_message(&application, message, callback, settle)
                    }
                    (_, to) => page.send_message(to, message, callback, settle),
                }
                .map_err(|e| throw(&ctx, &e))
            },
        )?,
    )?;
    // The promise form of runtime.sendMessage(extensionId?, message), made here: the answer
    // resolves it with no JavaScript function in between (the hot path of messaging).
    let p = page.clone();
    sim.set(
        "sendMessagePromise",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, to: Option<String>, message: Value<'js>| {
                live(&p, &ctx)?.send_message_promise(&ctx, to, message)
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "connectNative",
        Function::new(ctx.clone(), move |ctx: Ctx<'js>, application: String| {
            let page = live(&p, &ctx)?;
            let port = page
                .runtime
                .connect_native(&application)
                .map_err(|e| throw(&ctx, &e.to_string()))?;
            Ok::<_, rquickjs::Error>(page.keep_port(port))
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "storage",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  area: String,
                  op: String,
                  json: String,
                  done: Function<'js>,
                  callback_form: Opt<bool>| {
                let page = live(&p, &ctx)?;
                let args: serde_json::Value =
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                let work =
                    move |rt| async move { crate::storage::call(rt, &area, &op, args).await };
                let done = Persistent::save(&ctx, done);
                if callback_form.0.unwrap_or(false) {
                    page.callback_later(done, work);
                } else {
                    page.settle_later(done, work);
                }
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    sim.set("epoch", strong_epoch(page))?;
    let p = page.clone();
    sim.set(
        "alarms",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, op: String, json: String, done: Function<'js>| {
                let page = live(&p, &ctx)?;
                let args: serde_json::Value =
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                let epoch = page.epoch_ms;
                page.settle_later(Persistent::save(&ctx, done), move |rt| async move {
                    alarms_call(rt, &op, args, epoch).await
                });
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "warn",
        Function::new(ctx.clone(), move |message: String| {
            if let Some(page) = p.upgrade() {
                page.runtime.warn(message);
            }
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "connect",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, extension_id: Option<String>, name: String| {
                let page = live(&p, &ctx)?;
                let port = match &extension_id {
                    Some(id) => page.runtime.connect_to(id, &name),
                    None => page.runtime.connect(&name),
                }
                .map_err(|e| throw(&ctx, &e.to_string()))?;
                Ok::<_, rquickjs::Error>(page.keep_port(port))
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "portPost",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, token: u32, json: String| {
                let page = live(&p, &ctx)?;
                let port = page.port(token).map_err(|e| throw(&ctx, &e))?;
                let message: serde_json::Value =
                    serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
                port.post_message(&message)
                    .map_err(|e| throw(&ctx, &e.to_string()))
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "portDisconnect",
        Function::new(ctx.clone(), move |token: u32| {
            if let Some(port) = p.upgrade().and_then(|page| page.port(token).ok()) {
                port.disconnect();
            }
        })?,
    )?;
    let p = page.clone();
    sim.set(
        "getBackgroundPage",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, callback: Option<Function<'js>>, settle: Option<Function<'js>>| {
                let page = live(&p, &ctx)?;
                let callback = callback.map(|f| Persistent::save(&ctx, f));
                let settle = settle.map(|f| Persistent::save(&ctx, f));
                page.background_page(callback, settle);
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "importScripts",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>, urls: Vec<String>| -> rquickjs::Result<Option<Vec<String>>> {
                let page = live(&p, &ctx)?;
                Ok(page
                    .import_scripts(&ctx, urls)?
                    .map(|(name, message)| vec![name, message]))
            },
        )?,
    )?;
    let p = page.clone();
    sim.set(
        "json",
        Function::new(
            ctx.clone(),
            move |ctx: Ctx<'js>,
                  now: Function<'js>,
                  stringify: Function<'js>,
                  parse: Function<'js>| {
                let page = live(&p, &ctx)?;
                *page.json.borrow_mut() = Some(PageJson::new(&ctx, now, stringify, parse)?);
                Ok::<_, rquickjs::Error>(())
            },
        )?,
    )?;
    ctx.globals().set("__runtime_sim", sim)?;
    Ok(())
}
