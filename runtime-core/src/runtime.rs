//! `Runtime`: one context's `chrome.runtime`.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::channel::oneshot;
use runtime_events::{Event, SimInstant};
use serde::Serialize;
use serde_json::Value;

use crate::channel::Target;
use crate::context::Endpoint;
use crate::engine::{Shared, TimerState, Work};
use crate::events::ContextEvents;
use crate::executor::{lock, TaskOwner};
use crate::lifecycle::Input;
use crate::messaging::{self, resolve_target};
use crate::native;
use crate::on_message::OnMessageEvent;
use crate::sim::{CallSite, ExtState, Queued, Sim};
use crate::trace::{Context, TraceEvent};
use crate::{
    ConnectError, ConnectNativeError, ContextError, ExtensionId, FrameId, GetBackgroundPageError,
    GetPlatformInfoError, LastError, Manifest, NotAvailable, OnInstalledDetails,
    OnRestartRequiredReason, OpenOptionsPageError, PageState, PlatformInfo, Port,
    RequestUpdateCheckError, RequestUpdateCheckStatus, RestartAfterDelayError, RestartError,
    SendMessageError, SendNativeMessageError, SetUninstallUrlError, TabId, UpdateCheckResult,
    UpdateDetails, ViewKind,
};

/// The longest uninstall URL Chromium accepts today (255 in older versions).
pub const MAX_UNINSTALL_URL_LENGTH: usize = 1023;

struct Inner {
    shared: Weak<Shared>,
    id: ExtensionId,
    context: Context,
    endpoint: Endpoint,
    events: Arc<ContextEvents>,
    manifest: Arc<Manifest>,
    base_url: String,
}

/// One context's `chrome.runtime`: the handle a background script's top-level code receives,
/// and that tests get for an extension view.
///
/// Cheap to clone. Its events are the page's own: a new load gets new event objects, so
/// listeners never survive a suspend. Its asynchronous calls run on the virtual clock: each is
/// an API call in flight (a keepalive) until the browser completes it.
///
/// A `Runtime` whose context has gone (the page unloaded, the view closed, the extension
/// uninstalled) fails its calls with `Extension context invalidated.`
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.inner.id)
            .field("context", &self.inner.context)
            .finish()
    }
}

/// What `runtime.getBackgroundPage()` gives: the extension's loaded background page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackgroundPage {
    /// The page's URL.
    pub url: String,
    /// Which load of the page this is (1 for the first).
    pub load: u64,
}

/// What `runtime.getPackageDirectoryEntry()` gives: the extension's install folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageDirectory {
    /// The entry's name; Chromium calls the package's file system `crxfs`.
    pub name: String,
    /// The install folder on disk (or the virtual path of an extension given in code).
    pub path: PathBuf,
}

impl Runtime {
    pub(crate) fn new(
        shared: Weak<Shared>,
        rec: &ExtState,
        endpoint: Endpoint,
        events: Arc<ContextEvents>,
    ) -> Runtime {
        let context = endpoint.trace_context_with(|_, view| rec.views.get(&view).map(|v| v.kind));
        Runtime::with_context(shared, rec, endpoint, events, context)
    }

    fn with_context(
        shared: Weak<Shared>,
        rec: &ExtState,
        endpoint: Endpoint,
        events: Arc<ContextEvents>,
        context: Context,
    ) -> Runtime {
        Runtime {
            inner: Arc::new(Inner {
                shared,
                id: rec.id.clone(),
                context,
                endpoint,
                events,
                manifest: Arc::clone(&rec.manifest),
                base_url: rec.base_url(),
            }),
        }
    }

    /// A runtime for a view or a content script: a context whose code the test drives.
    pub(crate) fn for_context(shared: Weak<Shared>, rec: &ExtState, endpoint: Endpoint) -> Runtime {
        let events = Arc::new(ContextEvents::unobserved());
        Runtime::new(shared, rec, endpoint, events)
    }

    /// A runtime for a view about to open (it is not among the extension's views yet).
    pub(crate) fn for_view(
        shared: Weak<Shared>,
        rec: &ExtState,
        view: u64,
        kind: ViewKind,
    ) -> Runtime {
        let endpoint = Endpoint::View {
            ext: rec.id.clone(),
            view,
        };
        let events = Arc::new(ContextEvents::unobserved());
        Runtime::with_context(
            shared,
            rec,
            endpoint,
            events,
            Context::View { id: view, kind },
        )
    }

    pub(crate) fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    pub(crate) fn events(&self) -> &Arc<ContextEvents> {
        &self.inner.events
    }

    fn is_content_script(&self) -> bool {
        matches!(self.inner.endpoint, Endpoint::ContentScript { .. })
    }

    /// Fails for a member content scripts do not have (§4.5).
    fn member(&self, member: &'static str) -> Result<(), ContextError> {
        if self.is_content_script() {
            return Err(NotAvailable { member }.into());
        }
        Ok(())
    }

    /// An event content scripts do not have: using it is a programming error, as reading
    /// `chrome.runtime.onStartup.addListener` in a content script throws.
    fn event_of_extension_pages(&self, member: &'static str) {
        if self.is_content_script() {
            panic!("{}", NotAvailable { member });
        }
    }

    /// `runtime.id`.
    pub fn id(&self) -> &ExtensionId {
        &self.inner.id
    }

    /// Where this runtime lives: the background page, a view or a content script.
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// `runtime.getManifest()`: the whole manifest.
    pub fn get_manifest(&self) -> Value {
        self.inner.manifest.to_value()
    }

    /// `runtime.getURL(path)`: `chrome-extension://<id>` + (`/` unless `path` starts with one)
    /// + `path`, with no other normalisation.
    pub fn get_url(&self, path: &str) -> String {
        let slash = if path.starts_with('/') { "" } else { "/" };
        format!("{}{slash}{path}", self.inner.base_url)
    }

    /// `runtime.onStartup`.
    ///
    /// # Panics
    /// In a content script, which has no `runtime.onStartup` (the same for `onInstalled`,
    /// `onSuspend`, `onSuspendCanceled`, `onMessageExternal` and `onConnectExternal`).
    pub fn on_startup(&self) -> &Event<()> {
        self.event_of_extension_pages("onStartup");
        self.inner.events.on_startup()
    }

    /// `runtime.onInstalled`.
    pub fn on_installed(&self) -> &Event<OnInstalledDetails> {
        self.event_of_extension_pages("onInstalled");
        self.inner.events.on_installed()
    }

    /// `runtime.onSuspend`.
    pub fn on_suspend(&self) -> &Event<()> {
        self.event_of_extension_pages("onSuspend");
        self.inner.events.on_suspend()
    }

    /// `runtime.onSuspendCanceled`.
    pub fn on_suspend_canceled(&self) -> &Event<()> {
        self.event_of_extension_pages("onSuspendCanceled");
        self.inner.events.on_suspend_canceled()
    }

    /// An event of another extension API, by name (e.g. `alarms.onAlarm`), with JSON
    /// arguments; tests fire it with [`Browser::fire_event`](crate::Browser::fire_event). Like
    /// any event, one the page listened to wakes it when it is not loaded.
    pub fn event(&self, name: &str) -> Event<Value> {
        self.inner.events.named(name)
    }

    /// The virtual time now.
    pub fn now(&self) -> SimInstant {
        match self.inner.shared.upgrade() {
            Some(shared) => shared.sim().bus.now(),
            None => SimInstant::ZERO,
        }
    }

    /// A timer on the virtual clock (`setTimeout`). Like a JavaScript timer, it does not keep
    /// an event page alive: if the page unloads first, the waiting code is dropped with it.
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let state = Arc::new(TimerState::default());
        if let Some(shared) = self.inner.shared.upgrade() {
            shared
                .sim()
                .bus
                .post_after(duration, Work::Wake(Arc::clone(&state)));
        }
        Sleep { state }
    }

    /// Runs `future` as asynchronous work of this context. Work of a background page is
    /// dropped when the page unloads.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let Some(shared) = self.inner.shared.upgrade() else {
            return;
        };
        let owner = TaskOwner::Context(self.inner.endpoint.clone());
        shared.executor.spawn_ready(
            owner,
            "a spawned task",
            Box::pin(async move {
                future.await;
                Ok(())
            }),
        );
    }

    /// The extension's storage (`chrome.storage.local`): what survives a suspend and a browser
    /// restart.
    pub fn storage(&self) -> Storage {
        Storage {
            runtime: self.clone(),
        }
    }

    /// `runtime.getPlatformInfo()`.
    pub async fn get_platform_info(&self) -> Result<PlatformInfo, GetPlatformInfoError> {
        self.member("getPlatformInfo")?;
        self.call("runtime.getPlatformInfo", |sim, _| {
            sim.config.platform.ok_or(GetPlatformInfoError::Unavailable)
        })
        .await
    }

    /// `runtime.getPackageDirectoryEntry()`.
    pub async fn get_package_directory_entry(&self) -> Result<PackageDirectory, ContextError> {
        self.member("getPackageDirectoryEntry")?;
        self.call("runtime.getPackageDirectoryEntry", |sim, ext| {
            let rec = sim.extensions.get(ext).ok_or(ContextError::Invalidated)?;
            Ok(PackageDirectory {
                name: "crxfs".into(),
                path: rec.path.clone(),
            })
        })
        .await
    }

    /// `runtime.openOptionsPage()`: opens the options page in a view, or focuses it if open.
    pub async fn open_options_page(&self) -> Result<(), OpenOptionsPageError> {
        self.member("openOptionsPage")?;
        let shared = self.inner.shared.clone();
        self.call("runtime.openOptionsPage", move |sim, ext| {
            let rec = sim.extensions.get(ext).ok_or(ContextError::Invalidated)?;
            let page = rec
                .manifest
                .options_page()
                .ok_or(OpenOptionsPageError::NoOptionsPage)?
                .to_owned();
            let open = rec
                .views
                .iter()
                .find(|(_, v)| v.kind == ViewKind::Options)
                .map(|(id, v)| (*id, v.url.clone()));
            match open {
                Some((id, url)) => sim.record(
                    Some(ext),
                    Some(Context::View {
                        id,
                        kind: ViewKind::Options,
                    }),
                    TraceEvent::ViewFocused { url },
                ),
                None => {
                    sim.open_view(&shared, ext, ViewKind::Options, &page);
                }
            }
            Ok(())
        })
        .await
    }

    /// `runtime.setUninstallURL(url)`: an empty string clears it; otherwise an `http` or
    /// `https` URL of at most 1023 characters, opened in a new tab when the extension is
    /// uninstalled.
    pub async fn set_uninstall_url(&self, url: &str) -> Result<(), SetUninstallUrlError> {
        self.member("setUninstallURL")?;
        let found = url.chars().count();
        if found > MAX_UNINSTALL_URL_LENGTH {
            // An argument error: thrown synchronously, before any call is made.
            return Err(SetUninstallUrlError::TooLong {
                max: MAX_UNINSTALL_URL_LENGTH,
                found,
            });
        }
        let url = url.to_owned();
        self.call("runtime.setUninstallURL", move |sim, ext| {
            if !url.is_empty() && !is_http_url(&url) {
                return Err(SetUninstallUrlError::InvalidUrl(url));
            }
            let rec = sim
                .extensions
                .get_mut(ext)
                .ok_or(ContextError::Invalidated)?;
            rec.uninstall_url = (!url.is_empty()).then_some(url);
            Ok(())
        })
        .await
    }

    /// `runtime.getBackgroundPage()`: the background page, loading an event page first.
    pub async fn get_background_page(&self) -> Result<BackgroundPage, GetBackgroundPageError> {
        self.member("getBackgroundPage")?;
        let (tx, rx) = oneshot::channel();
        let started = self.start("runtime.getBackgroundPage", move |sim, site| {
            let ext = site.ext.clone();
            let finish =
                move |sim: &mut Sim, result: Result<BackgroundPage, GetBackgroundPageError>| {
                    sim.finish_call(&site, "runtime.getBackgroundPage", &result);
                    let _ = tx.send(result);
                };
            let Some(rec) = sim.extensions.get(&ext) else {
                return finish(sim, Err(ContextError::Invalidated.into()));
            };
            match rec.state() {
                None => finish(sim, Err(GetBackgroundPageError::NoBackgroundPage)),
                Some(PageState::Active) => {
                    let page = background_page(rec);
                    finish(sim, Ok(page));
                }
                Some(PageState::Closing) => {
                    let page = background_page(rec);
                    let ext = rec.id.clone();
                    sim.drive(&ext, Input::Activity);
                    finish(sim, Ok(page));
                }
                Some(PageState::Unloaded | PageState::Loading) => {
                    let ext = rec.id.clone();
                    let ext2 = ext.clone();
                    sim.enqueue(
                        &ext,
                        Queued::Callback(Box::new(move |sim: &mut Sim, loaded: bool| {
                            let result = match sim.extensions.get(&ext2) {
                                Some(rec) if loaded => Ok(background_page(rec)),
                                _ => Err(GetBackgroundPageError::FailedToLoad),
                            };
                            finish(sim, result);
                        })),
                    );
                }
            }
        });
        started?;
        rx.await
            .unwrap_or(Err(GetBackgroundPageError::ContextInvalidated))
    }

    /// `runtime.requestUpdateCheck()` in the promise form: `{status, version}`. Calls within
    /// 5 h (less up to 10 % jitter) of a completed check are `throttled`; with no update
    /// service it fails with `Autoupdate is not enabled.`
    pub fn request_update_check(
        &self,
    ) -> impl Future<Output = Result<UpdateCheckResult, RequestUpdateCheckError>> + Send + 'static
    {
        const API: &str = "runtime.requestUpdateCheck";
        let (tx, rx) = oneshot::channel();
        let started = self
            .member("requestUpdateCheck")
            .and_then(|()| {
                self.start(API, move |sim, site| {
                    if !sim.config.autoupdate {
                        let result = Err(RequestUpdateCheckError::AutoupdateDisabled);
                        sim.finish_call(&site, API, &result);
                        let _ = tx.send(result);
                        return;
                    }
                    let ext = site.ext.clone();
                    sim.check_for_updates(
                        &ext,
                        Box::new(move |sim: &mut Sim, result: UpdateCheckResult| {
                            let result = Ok(result);
                            sim.finish_call(&site, API, &result);
                            let _ = tx.send(result);
                        }),
                    );
                })
            })
            .map_err(RequestUpdateCheckError::from);
        async move {
            started?;
            rx.await
                .unwrap_or(Err(RequestUpdateCheckError::ContextInvalidated))
        }
    }

    /// `runtime.requestUpdateCheck(callback)`: the callback form, `callback(status, {version})`.
    /// If the call fails, the callback gets `(None, None)` and [`Runtime::last_error`] gives the
    /// error while it runs.
    pub fn request_update_check_callback<F>(&self, callback: F) -> Result<(), ContextError>
    where
        F: FnOnce(Option<RequestUpdateCheckStatus>, Option<UpdateDetails>) + Send + 'static,
    {
        self.member("requestUpdateCheck")?;
        let call = self.request_update_check();
        self.callback_form(
            "a runtime.requestUpdateCheck callback",
            call,
            |result| match result.map(UpdateCheckResult::into_callback_args) {
                Some((status, details)) => callback(Some(status), Some(details)),
                None => callback(None, None),
            },
        );
        Ok(())
    }

    /// `runtime.reload()`: reloads the extension once the call has answered — installing a
    /// waiting update if there is one, installing an unpacked extension again, or loading a
    /// packed one again. Too many fast reloads terminate the extension instead (see
    /// [`FAST_RELOAD_COUNT`](crate::FAST_RELOAD_COUNT)).
    pub fn reload(&self) -> Result<(), ContextError> {
        const API: &str = "runtime.reload";
        self.member("reload")?;
        self.start(API, |sim, site| {
            let result: Result<(), ContextError> = Ok(());
            sim.finish_call(&site, API, &result);
            sim.reload_requested(&site.ext);
        })
    }

    /// `runtime.restart()`: in kiosk mode the device restarts now; elsewhere it fails with
    /// `Function available only for ChromeOS kiosk mode.`
    pub async fn restart(&self) -> Result<(), RestartError> {
        self.member("restart")?;
        self.call("runtime.restart", |sim, ext| sim.restart_requested(ext))
            .await
    }

    /// `runtime.restartAfterDelay(seconds)`: in kiosk mode, restarts the device after
    /// `seconds` (again to re-schedule; `-1` cancels). See [`RestartAfterDelayError`] for the
    /// checks, in their order.
    pub async fn restart_after_delay(&self, seconds: i32) -> Result<(), RestartAfterDelayError> {
        self.member("restartAfterDelay")?;
        self.call("runtime.restartAfterDelay", move |sim, ext| {
            sim.restart_after_delay(ext, seconds)
        })
        .await
    }

    /// `runtime.onUpdateAvailable`: an update was found but waits to be installed (the page
    /// is in use); the argument is the new manifest (with its `version`).
    pub fn on_update_available(&self) -> &Event<Value> {
        self.event_of_extension_pages("onUpdateAvailable");
        self.inner.events.on_update_available()
    }

    /// `runtime.onBrowserUpdateAvailable` (deprecated): a browser update needs a restart.
    pub fn on_browser_update_available(&self) -> &Event<()> {
        self.event_of_extension_pages("onBrowserUpdateAvailable");
        self.inner.events.on_browser_update_available()
    }

    /// `runtime.onRestartRequired`: in kiosk mode, the app or the device needs a restart; if
    /// the app does nothing, the device restarts after a 24 h grace period.
    pub fn on_restart_required(&self) -> &Event<OnRestartRequiredReason> {
        self.event_of_extension_pages("onRestartRequired");
        self.inner.events.on_restart_required()
    }

    /// Runs a call in the callback form: when `call` completes, `callback` runs in this
    /// context with its value, or with `None` and `runtime.lastError` set.
    fn callback_form<T, E, F>(
        &self,
        what: &'static str,
        call: impl Future<Output = Result<T, E>> + Send + 'static,
        callback: F,
    ) where
        T: Send + 'static,
        E: std::fmt::Display + Send + 'static,
        F: FnOnce(Option<T>) + Send + 'static,
    {
        let Some(shared) = self.inner.shared.upgrade() else {
            return;
        };
        let weak = self.inner.shared.clone();
        let endpoint = self.inner.endpoint.clone();
        let events = Arc::clone(self.events());
        shared.executor.spawn_ready(
            TaskOwner::Context(endpoint.clone()),
            what,
            Box::pin(async move {
                let (value, error) = match call.await {
                    Ok(value) => (Some(value), None),
                    Err(error) => (None, Some(error.to_string())),
                };
                messaging::run_callback(&weak, &endpoint, &events, error, || callback(value));
                Ok(())
            }),
        );
    }

    /// Starts an API call whose result `compute` works out when the call completes.
    fn call<T, E>(
        &self,
        api: &'static str,
        compute: impl FnOnce(&mut Sim, &ExtensionId) -> Result<T, E> + Send + 'static,
    ) -> impl Future<Output = Result<T, E>> + Send + 'static
    where
        T: Serialize + Send + 'static,
        E: std::fmt::Display + From<ContextError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let started = self.start(api, move |sim, site| {
            let result = compute(sim, &site.ext);
            sim.finish_call(&site, api, &result);
            let _ = tx.send(result);
        });
        async move {
            started?;
            rx.await.unwrap_or(Err(ContextError::Invalidated.into()))
        }
    }

    /// Starts an API call: checks the context is alive, records the call, takes a keepalive and
    /// schedules `complete` after the API's latency.
    fn start(
        &self,
        api: &'static str,
        complete: impl FnOnce(&mut Sim, CallSite) + Send + 'static,
    ) -> Result<(), ContextError> {
        let shared = self
            .inner
            .shared
            .upgrade()
            .ok_or(ContextError::Invalidated)?;
        let mut sim = shared.sim();
        if !self.alive(&sim) {
            return Err(ContextError::Invalidated);
        }
        let life = match &self.inner.endpoint {
            Endpoint::Background { life, .. } => Some(*life),
            _ => None,
        };
        sim.start_call(&self.inner.id, &self.inner.context, api, life, complete);
        Ok(())
    }

    fn alive(&self, sim: &Sim) -> bool {
        sim.context_alive(&self.inner.endpoint)
    }
}

/// Messaging: `sendMessage`, `connect`, their events, and `lastError`.
impl Runtime {
    /// `runtime.sendMessage(message)` to the own extension, in the promise form: the message is
    /// sent now, and every other context of the extension with an `onMessage` listener gets it
    /// (its background page is loaded first if it is an unloaded event page). The future gives
    /// the first response, or `None` if no listener answered.
    pub fn send_message<T: Serialize + ?Sized>(
        &self,
        message: &T,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + Send + 'static {
        let target = resolve_target(Some(&self.inner.id), None);
        messaging::send_message(&self.inner.shared, &self.inner.endpoint, target, message)
    }

    /// `runtime.sendMessage(extensionId, message)`: to another extension's `onMessageExternal`
    /// (or, with the own id, to the own `onMessage`). A target that does not exist or does not
    /// accept this extension fails with `Could not establish connection. Receiving end does
    /// not exist.`
    pub fn send_message_to<T: Serialize + ?Sized>(
        &self,
        extension_id: &str,
        message: &T,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + Send + 'static {
        let target = resolve_target(Some(&self.inner.id), Some(extension_id));
        messaging::send_message(&self.inner.shared, &self.inner.endpoint, target, message)
    }

    /// `runtime.sendMessage(extensionId?, message, callback)`: the callback form. Errors of the
    /// call itself (a bad id, a message that cannot be sent) are returned at once. The callback
    /// runs later in this context with the response; if the message failed, the response is
    /// `None` and [`Runtime::last_error`] gives the error while the callback runs. An error the
    /// callback does not read is recorded as `Unchecked runtime.lastError: <message>`.
    pub fn send_message_callback<T, F>(
        &self,
        extension_id: Option<&str>,
        message: &T,
        callback: F,
    ) -> Result<(), SendMessageError>
    where
        T: Serialize + ?Sized,
        F: FnOnce(Option<Value>) + Send + 'static,
    {
        let target = resolve_target(Some(&self.inner.id), extension_id);
        messaging::send_message_callback(
            &self.inner.shared,
            &self.inner.endpoint,
            &self.inner.events,
            target,
            message,
            callback,
        )
    }

    /// `runtime.connect({name})` to the own extension: the port is returned at once, and each
    /// other context of the extension with an `onConnect` listener gets its own port. With no
    /// receiver, the port's `onDisconnect` fires with `lastError` set.
    pub fn connect(&self, name: &str) -> Result<Port, ConnectError> {
        let target = resolve_target(Some(&self.inner.id), None);
        messaging::connect(
            &self.inner.shared,
            &self.inner.endpoint,
            &self.inner.events,
            target,
            name,
        )
    }

    /// `runtime.connect(extensionId, {name})`: to another extension's `onConnectExternal` (or,
    /// with the own id, to the own `onConnect`).
    pub fn connect_to(&self, extension_id: &str, name: &str) -> Result<Port, ConnectError> {
        let target = resolve_target(Some(&self.inner.id), Some(extension_id));
        messaging::connect(
            &self.inner.shared,
            &self.inner.endpoint,
            &self.inner.events,
            target,
            name,
        )
    }

    /// `tabs.sendMessage(tabId, message, {frameId})`: to this extension's content scripts in a
    /// tab (all its frames, or one). The promise form.
    pub fn send_message_to_tab<T: Serialize + ?Sized>(
        &self,
        tab: TabId,
        frame: Option<FrameId>,
        message: &T,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + Send + 'static {
        let target = Ok(Target::Tab {
            ext: self.inner.id.clone(),
            tab: tab.0,
            frame: frame.map(|f| f.0),
        });
        messaging::send_message(&self.inner.shared, &self.inner.endpoint, target, message)
    }

    /// `tabs.connect(tabId, {name, frameId})`: a port to this extension's content scripts in a
    /// tab.
    pub fn connect_to_tab(
        &self,
        tab: TabId,
        frame: Option<FrameId>,
        name: &str,
    ) -> Result<Port, ConnectError> {
        let target = Target::Tab {
            ext: self.inner.id.clone(),
            tab: tab.0,
            frame: frame.map(|f| f.0),
        };
        messaging::connect(
            &self.inner.shared,
            &self.inner.endpoint,
            &self.inner.events,
            Ok(target),
            name,
        )
    }

    /// `runtime.connectNative(application)`: a port to a native messaging host, started now
    /// from its manifest as the browser would. The port is returned at once; a host that
    /// cannot be found or started, or that exits, disconnects it with the browser's error
    /// (`Specified native messaging host not found.`, `Native host has exited.`, …). An open
    /// native port keeps the event page alive; unloading the page disconnects it, and the host
    /// is ended as the browser ends it.
    pub fn connect_native(&self, application: &str) -> Result<Port, ConnectNativeError> {
        if self.is_content_script() {
            return Err(ConnectNativeError::NotAvailable(NotAvailable {
                member: "connectNative",
            }));
        }
        native::connect_native(
            &self.inner.shared,
            &self.inner.endpoint,
            &self.inner.events,
            application,
        )
    }

    /// `runtime.sendNativeMessage(application, message)`: starts a new host, sends it the
    /// message, and gives its first answer; then the host is ended as the browser does.
    pub fn send_native_message<T: Serialize + ?Sized>(
        &self,
        application: &str,
        message: &T,
    ) -> impl Future<Output = Result<Value, SendNativeMessageError>> + Send + 'static {
        let refused = self.is_content_script();
        let call = (!refused).then(|| {
            native::send_native_message(
                &self.inner.shared,
                &self.inner.endpoint,
                application,
                message,
            )
        });
        async move {
            match call {
                Some(call) => call.await,
                None => Err(SendNativeMessageError::NotAvailable(NotAvailable {
                    member: "sendNativeMessage",
                })),
            }
        }
    }

    /// `runtime.onMessage`: one-time messages from the own extension (and its content scripts).
    pub fn on_message(&self) -> &OnMessageEvent {
        self.inner.events.on_message()
    }

    /// `runtime.onMessageExternal`: one-time messages from other extensions and web pages.
    pub fn on_message_external(&self) -> &OnMessageEvent {
        self.event_of_extension_pages("onMessageExternal");
        self.inner.events.on_message_external()
    }

    /// `runtime.onConnect`: ports opened by the own extension (and its content scripts).
    pub fn on_connect(&self) -> &Event<Port> {
        self.inner.events.on_connect()
    }

    /// `runtime.onConnectExternal`: ports opened by other extensions and web pages.
    pub fn on_connect_external(&self) -> &Event<Port> {
        self.event_of_extension_pages("onConnectExternal");
        self.inner.events.on_connect_external()
    }

    /// `runtime.onConnectNative`: ports opened by a native application (ChromeOS); the port's
    /// `sender.nativeApplication` names it. Tests open them with
    /// [`Browser::connect_from_native_app`](crate::Browser::connect_from_native_app).
    pub fn on_connect_native(&self) -> &Event<Port> {
        self.event_of_extension_pages("onConnectNative");
        self.inner.events.on_connect_native()
    }

    /// `runtime.lastError`: set only while a callback runs after a failed call (or an
    /// `onDisconnect` listener runs after a failed connection). Reading it marks it checked.
    pub fn last_error(&self) -> Option<LastError> {
        self.inner.events.last_error.read()
    }
}

fn background_page(rec: &ExtState) -> BackgroundPage {
    let path = rec
        .manifest
        .background()
        .map_or("_generated_background_page.html", |bg| bg.page_path());
    BackgroundPage {
        url: format!("{}/{}", rec.base_url(), path.trim_start_matches('/')),
        load: rec.life,
    }
}

/// Whether `url` is an `http` or `https` URL with a host.
fn is_http_url(url: &str) -> bool {
    let Some((scheme, rest)) = url.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    scheme_ok && !host.is_empty() && !host.contains(char::is_whitespace)
}

/// A timer on the virtual clock; see [`Runtime::sleep`].
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    state: Arc<TimerState>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.state.fired.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        *lock(&self.state.waker) = Some(cx.waker().clone());
        if self.state.fired.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// An extension's storage (`chrome.storage.local`): JSON values by key. It survives suspends
/// and browser restarts, and goes when the extension is uninstalled. Each call is an API call
/// in flight until it completes.
#[derive(Clone, Debug)]
pub struct Storage {
    runtime: Runtime,
}

impl Storage {
    /// The value stored under `key`.
    pub async fn get(&self, key: &str) -> Result<Option<Value>, ContextError> {
        let key = key.to_owned();
        self.runtime
            .call("storage.local.get", move |sim, ext| {
                let rec = sim.extensions.get(ext).ok_or(ContextError::Invalidated)?;
                Ok(rec.storage.get(&key).cloned())
            })
            .await
    }

    /// Stores `value` under `key`.
    pub async fn set(&self, key: &str, value: Value) -> Result<(), ContextError> {
        let key = key.to_owned();
        self.runtime
            .call("storage.local.set", move |sim, ext| {
                let rec = sim
                    .extensions
                    .get_mut(ext)
                    .ok_or(ContextError::Invalidated)?;
                rec.storage.insert(key, value);
                Ok(())
            })
            .await
    }

    /// Removes `key`.
    pub async fn remove(&self, key: &str) -> Result<(), ContextError> {
        let key = key.to_owned();
        self.runtime
            .call("storage.local.remove", move |sim, ext| {
                let rec = sim
                    .extensions
                    .get_mut(ext)
                    .ok_or(ContextError::Invalidated)?;
                rec.storage.remove(&key);
                Ok(())
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::is_http_url;

    #[test]
    fn uninstall_urls_must_be_http_or_https() {
        assert!(is_http_url("https://example.com/bye"));
        assert!(is_http_url("HTTP://example.com"));
        assert!(!is_http_url("ftp://example.com"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("example.com"));
    }
}
