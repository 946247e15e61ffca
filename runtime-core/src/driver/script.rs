//! Background scripts: the code of an extension's background page, as Rust trait objects.

use std::future::Future;
use std::rc::Rc;

use async_trait::async_trait;
use runtime_events::ListenerError;

use crate::driver::core::{ContextCode, Driver, PageScript};
use crate::driver::executor::TaskFuture;
use crate::driver::listeners::ContextEvents;
use crate::driver::runtime::Runtime;
use crate::model::contexts::{ContextId, ScriptPlace};

/// The error a background script's top-level code fails with.
pub type ScriptError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// An extension's background script.
///
/// [`BackgroundScript::run`] is the script's top-level code. The browser calls it each time the
/// page loads, with the [`Runtime`] of that load (this extension's `chrome.runtime`). It runs
/// like a classic script: the part before its first `.await` that actually waits is the top
/// level, and listeners registered there are in place for the event that woke the page;
/// listeners registered after that point are *late* and miss it. Whatever the future does
/// afterwards runs as the page's asynchronous work, and is dropped when the page unloads.
///
/// Each load starts fresh: nothing survives a suspend except what the script stored through the
/// browser (`runtime.storage()`). A script runs on the thread that drives the browser, as a
/// page's JavaScript runs on its thread: it, its listeners and its futures need not be `Send`,
/// so state shared between listeners may be an `Rc<RefCell<…>>`. Plug in a script with
/// [`ExtensionSpec::script`](crate::ExtensionSpec::script) (one object whose `run` is called at
/// every load; keep no state in it) or
/// [`ExtensionSpec::script_factory`](crate::ExtensionSpec::script_factory) (a new object for every
/// load).
///
/// ```
/// use runtime_core::{BackgroundScript, Runtime, ScriptError};
///
/// struct Counter;
///
/// #[async_trait::async_trait(?Send)]
/// impl BackgroundScript for Counter {
///     async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
///         let rt = runtime.clone();
///         runtime.on_startup().add_async_listener(move |()| {
///             let rt = rt.clone();
///             async move {
///                 let n = rt.storage().get("starts").await?.and_then(|v| v.as_u64()).unwrap_or(0);
///                 rt.storage().set("starts", (n + 1).into()).await
///             }
///         });
///         Ok(())
///     }
/// }
/// ```
#[async_trait(?Send)]
pub trait BackgroundScript: 'static {
    /// The top-level code, run at each load of the page.
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError>;
}

/// A background script made from an `async` closure; see [`script_fn`].
pub struct ScriptFn<F>(F);

/// A background script from an `async` closure that takes the page's [`Runtime`].
///
/// ```
/// use runtime_core::script_fn;
///
/// let script = script_fn(|rt| async move {
///     rt.on_installed().add_listener(|details| println!("installed: {:?}", details.reason));
///     Ok(())
/// });
/// # let _ = script;
/// ```
pub fn script_fn<F, Fut>(f: F) -> ScriptFn<F>
where
    F: Fn(Runtime) -> Fut + 'static,
    Fut: Future<Output = Result<(), ScriptError>> + 'static,
{
    ScriptFn(f)
}

#[async_trait(?Send)]
impl<F, Fut> BackgroundScript for ScriptFn<F>
where
    F: Fn(Runtime) -> Fut + 'static,
    Fut: Future<Output = Result<(), ScriptError>> + 'static,
{
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
        (self.0)(runtime).await
    }
}

type Factory = dyn Fn() -> Box<dyn BackgroundScript>;

/// Where a page gets its script object from at each load.
#[derive(Clone)]
pub(crate) enum ScriptSource {
    /// One object, `run` called at each load.
    Shared(Rc<dyn BackgroundScript>),
    /// A new object at each load.
    Factory(Rc<Factory>),
}

impl ScriptSource {
    pub(crate) fn from_factory<F>(factory: F) -> Self
    where
        F: Fn() -> Box<dyn BackgroundScript> + 'static,
    {
        ScriptSource::Factory(Rc::new(factory))
    }

    /// The object for a new load.
    pub(crate) fn instance(&self) -> Rc<dyn BackgroundScript> {
        match self {
            ScriptSource::Shared(script) => Rc::clone(script),
            ScriptSource::Factory(factory) => Rc::from(factory()),
        }
    }
}

impl PageScript for ScriptSource {
    fn start(
        &self,
        driver: &Rc<Driver>,
        context: &ContextId,
        events: Rc<ContextEvents>,
    ) -> Option<TaskFuture> {
        let runtime = Runtime::for_context(driver, context, events)?;
        let instance = self.instance();
        Some(Box::pin(async move {
            instance
                .run(runtime)
                .await
                .map_err(|e| ListenerError::new(e.to_string()))
        }))
    }
}

/// An extension's code for its contexts other than the background page: its content scripts
/// and its pages (extension views).
///
/// [`ContextScript::run`] is the top-level code of one such context. The browser calls it when
/// a content script of the extension starts in a frame (the tab opened or navigated to a page
/// its `content_scripts` match, or it was injected by hand) and when a view of the extension
/// opens (a popup, the options page, a tab on an extension page), with that context's
/// [`Runtime`] and where it runs ([`ScriptPlace`]). As for a background script, the part
/// before the first `.await` that waits is the top level; what it registers on the runtime
/// lives as long as the context, and goes with it — when the frame closes or navigates away,
/// when the view closes. A content script's `runtime` has only what content scripts have (see
/// [`Runtime`]).
///
/// ```
/// use runtime_core::{context_script_fn, Browser, ExtensionSpec, ScriptPlace};
/// use serde_json::json;
///
/// let spec = ExtensionSpec::from_json(json!({
///     "name": "Greeter", "version": "1.0",
///     "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]
/// }))
/// .unwrap()
/// .context_script(context_script_fn(|rt, place| async move {
///     if let ScriptPlace::ContentScript { url, .. } = place {
///         rt.console(runtime_core::ConsoleLevel::Log, format!("hello from {url}"), None);
///     }
///     Ok(())
/// }));
/// let mut browser = Browser::builder().build();
/// browser.install(spec).unwrap();
/// browser.start();
/// browser.open_tab("https://example.com/").unwrap();
/// browser.advance(std::time::Duration::ZERO);
/// ```
#[async_trait(?Send)]
pub trait ContextScript: 'static {
    /// The top-level code of a content script or a view that has just begun.
    async fn run(&self, runtime: Runtime, place: ScriptPlace) -> Result<(), ScriptError>;
}

/// A context script made from an `async` closure; see [`context_script_fn`].
pub struct ContextScriptFn<F>(F);

/// A context script from an `async` closure that takes the context's [`Runtime`] and where it
/// runs.
pub fn context_script_fn<F, Fut>(f: F) -> ContextScriptFn<F>
where
    F: Fn(Runtime, ScriptPlace) -> Fut + 'static,
    Fut: Future<Output = Result<(), ScriptError>> + 'static,
{
    ContextScriptFn(f)
}

#[async_trait(?Send)]
impl<F, Fut> ContextScript for ContextScriptFn<F>
where
    F: Fn(Runtime, ScriptPlace) -> Fut + 'static,
    Fut: Future<Output = Result<(), ScriptError>> + 'static,
{
    async fn run(&self, runtime: Runtime, place: ScriptPlace) -> Result<(), ScriptError> {
        (self.0)(runtime, place).await
    }
}

/// A context script, as the driver keeps it.
pub(crate) struct ContextSource(pub(crate) Rc<dyn ContextScript>);

impl ContextCode for ContextSource {
    fn start(
        &self,
        driver: &Rc<Driver>,
        context: &ContextId,
        place: ScriptPlace,
    ) -> Option<TaskFuture> {
        let runtime = Runtime::of(driver, context)?;
        let script = Rc::clone(&self.0);
        Some(Box::pin(async move {
            script
                .run(runtime, place)
                .await
                .map_err(|e| ListenerError::new(e.to_string()))
        }))
    }
}
