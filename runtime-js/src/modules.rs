//! ES modules of an extension: `import` and `import()` resolved against the importing file's
//! `chrome-extension://<id>/` URL and served from the files read when the extension was loaded
//! (the page never reads the disk). In a service worker, `import()` is refused as Chromium
//! refuses it; a static import that cannot be loaded fails the worker's registration.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{Ctx, Module};

use crate::convert::throw_error;
use crate::paths::{self, Target};

/// The files of an extension that its scripts may load, by their path from the root: the
/// source, or why it could not be read.
pub(crate) type Files = BTreeMap<String, Result<Rc<str>, String>>;

/// Chromium's `WorkerModulatorImpl::IsDynamicImportForbidden`.
pub(crate) const DYNAMIC_IMPORT_IN_WORKER: &str = "import() is disallowed on ServiceWorkerGlobalScope by the HTML specification. See https://github.com/w3c/ServiceWorker/issues/1356.";

/// The files, and what the page that runs now needs of the module machinery.
pub(crate) struct ModuleHost {
    files: Files,
    /// Set when the folder had more script files than were read: why a file may be missing.
    incomplete: Option<String>,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// `chrome-extension://<id>` (or `moz-extension://<uuid>`).
    origin: String,
    /// The page is a service worker.
    worker: bool,
    /// A module graph is being linked: what is resolved now is a static import.
    linking: bool,
    /// Why the static import of the graph being linked failed, when it did.
    failure: Option<String>,
}

/// A file looked up by its path.
pub(crate) enum Lookup<'a> {
    Found(&'a Rc<str>),
    /// It is there but could not be read, and why.
    Unreadable(&'a str),
    Missing,
}

impl ModuleHost {
    pub(crate) fn new(files: Files, incomplete: Option<String>) -> ModuleHost {
        ModuleHost {
            files,
            incomplete,
            state: RefCell::default(),
        }
    }

    /// A page of the extension whose origin is `origin` begins.
    pub(crate) fn begin_page(&self, origin: &str, worker: bool) {
        let mut state = self.state.borrow_mut();
        // Every entry into a page begins it again: the origin is mostly the one already here.
        if state.origin != origin {
            origin.clone_into(&mut state.origin);
        }
        state.worker = worker;
        state.linking = false;
        state.failure = None;
    }

    pub(crate) fn origin(&self) -> String {
        self.state.borrow().origin.clone()
    }

    /// Runs `f` (declaring and evaluating a module script) with what it resolves counted as
    /// static imports; gives why a static import failed, if one did.
    pub(crate) fn link<R>(&self, f: impl FnOnce() -> R) -> (R, Option<String>) {
        {
            let mut state = self.state.borrow_mut();
            state.linking = true;
            state.failure = None;
        }
        let result = f();
        let mut state = self.state.borrow_mut();
        state.linking = false;
        (result, state.failure.take())
    }

    /// The file a URL path names (percent-encoded, from the root).
    pub(crate) fn lookup(&self, url_path: &str) -> Lookup<'_> {
        let Some(path) = paths::decode(url_path) else {
            return Lookup::Missing;
        };
        match self.files.get(&path) {
            Some(Ok(source)) => Lookup::Found(source),
            Some(Err(reason)) => Lookup::Unreadable(reason),
            None => Lookup::Missing,
        }
    }

    /// Why a file is not there, as a sentence's end.
    pub(crate) fn missing(&self) -> String {
        match &self.incomplete {
            Some(why) => format!("the extension has no such file ({why})"),
            None => "the extension has no such file".to_owned(),
        }
    }

    /// A static import failed: recorded for the page, which reports it.
    fn fail_static(&self, ctx: &Ctx<'_>, message: String) -> rquickjs::Error {
        self.state.borrow_mut().failure = Some(message.clone());
        throw_error(ctx, "TypeError", &message)
    }
}

/// Resolves module specifiers against the importing module's path.
pub(crate) struct Resolve(pub(crate) Rc<ModuleHost>);

impl Resolver for Resolve {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let host = &self.0;
        let (origin, worker, linking) = {
            let state = host.state.borrow();
            (state.origin.clone(), state.worker, state.linking)
        };
        if worker && !linking {
            return Err(throw_error(ctx, "TypeError", DYNAMIC_IMPORT_IN_WORKER));
        }
        // A module specifier is a URL, or a path that starts with "/", "./" or "../".
        let relative = name.starts_with('/') || name.starts_with("./") || name.starts_with("../");
        let absolute = name.split_once(':').is_some_and(|(scheme, _)| {
            let mut chars = scheme.chars();
            chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if !relative && !absolute {
            return Err(if linking {
                host.fail_static(ctx, format!(
                    "Failed to resolve module specifier \"{name}\". Relative references must start with either \"/\", \"./\", or \"../\"."
                ))
            } else {
                throw_error(
                    ctx,
                    "TypeError",
                    &format!("Failed to resolve module specifier '{name}'"),
                )
            });
        }
        let target = paths::resolve(&origin, base, name);
        let url = target.url(&origin);
        let problem = match &target {
            Target::Here { path, .. } => match host.lookup(path) {
                Lookup::Found(_) => None,
                Lookup::Unreadable(reason) => Some(reason.to_owned()),
                Lookup::Missing => Some(host.missing()),
            },
            Target::Elsewhere(_) => {
                Some("runtime-sim loads no script from outside the extension".to_owned())
            }
        };
        match (problem, target.module_name()) {
            (None, Some(module)) => Ok(module),
            (problem, _) => {
                let why = problem.unwrap_or_default();
                Err(if linking {
                    host.fail_static(
                        ctx,
                        format!("runtime-sim: the module '{name}' imported by {base} ({url}) could not be loaded: {why}"),
                    )
                } else {
                    throw_error(
                        ctx,
                        "TypeError",
                        &format!("Failed to fetch dynamically imported module: {url}"),
                    )
                })
            }
        }
    }
}

/// Loads a resolved module from the extension's files.
pub(crate) struct Load(pub(crate) Rc<ModuleHost>);

impl Loader for Load {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let host = &self.0;
        let path = name.split('?').next().unwrap_or(name);
        let source = match host.lookup(path) {
            Lookup::Found(source) => Rc::clone(source),
            // The resolver let only files that are there through.
            _ => return Err(throw_error(ctx, "TypeError", &host.missing())),
        };
        declare(ctx, &host.origin(), name, &source)
    }
}

/// Compiles the module `name` (a path from the root, and maybe a query) with
/// `import.meta.url` set to its URL.
pub(crate) fn declare<'js>(
    ctx: &Ctx<'js>,
    origin: &str,
    name: &str,
    source: &str,
) -> rquickjs::Result<Module<'js, Declared>> {
    let module = Module::declare(ctx.clone(), name, source)?;
    module.meta()?.set("url", format!("{origin}/{name}"))?;
    Ok(module)
}
