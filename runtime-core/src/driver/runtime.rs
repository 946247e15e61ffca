//! `Runtime`: one context's `chrome.runtime`.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use futures::channel::oneshot;
use runtime_events::{Event, SimInstant};
use serde::Serialize;
use serde_json::Value;

use crate::driver::core::{Driver, TimerSlot};
use crate::driver::executor::{TaskLabel, TaskOwner};
use crate::driver::last_error::LastError;
use crate::driver::listeners::ContextEvents;
use crate::driver::messaging::{self, resolve_target};
use crate::driver::native;
use crate::driver::on_message::OnMessageEvent;
use crate::driver::port::Port;
use crate::model::calls::{ApiRequest, BackgroundPage, CallOutcome, PackageDirectory};
use crate::model::channel::Target;
use crate::model::contexts::ContextId;
use crate::model::error::{
    ConnectError, ConnectNativeError, ContextError, ContextInvalidated, GetBackgroundPageError,
    GetPlatformInfoError, NotAvailable, OpenOptionsPageError, RequestUpdateCheckError,
    RestartAfterDelayError, RestartError, SendMessageError, SendNativeMessageError,
    SetUninstallUrlError, StorageError,
};
use crate::model::event::{OnInstalledDetails, OnRestartRequiredReason};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{FrameId, TabId};
use crate::model::manifest::Manifest;
use crate::model::message::checked_message;
use crate::model::names::RuntimeEventName;
use crate::model::platform::PlatformInfo;
use crate::model::storage_area::{AccessLevel, StorageArea, StorageOp, StorageRequest};
use crate::model::tab::{TabCreate, TabQuery};
use crate::model::trace_entry::{ConsoleLevel, TraceContext, TraceEvent};
use crate::model::update_service::{RequestUpdateCheckStatus, UpdateCheckResult, UpdateDetails};

/// The longest uninstall URL Chromium accepts today (255 in older versions).
pub const MAX_UNINSTALL_URL_LENGTH: usize = 1023;

struct Inner {
    driver: Weak<Driver>,
    id: ExtensionId,
    context: TraceContext,
    endpoint: ContextId,
    events: Rc<ContextEvents>,
    manifest: Arc<Manifest>,
    base_url: String,
    /// The events a content script does not have, made on first use: they never fire.
    absent: OnceCell<ContextEvents>,
    /// Which of them were used (bits by [`RuntimeEventName`]), each noted once in the trace.
    absent_used: Cell<u16>,
}

/// One context's `chrome.runtime`: the handle a background script's top-level code receives,
/// and that tests get for an extension view or a content script.
///
/// Cheap to clone. Its events are the page's own: a new load gets new event objects, so
/// listeners never survive a suspend. Its asynchronous calls run on the virtual clock: each is
/// an API call in flight (a keepalive) until the browser completes it. It lives on the thread
/// that drives the browser, as a page's `chrome.runtime` lives on the page's thread.
///
/// A `Runtime` whose context has gone (the page unloaded, the view closed, the extension
/// uninstalled) fails its calls with `Extension context invalidated.`
#[derive(Clone)]
pub struct Runtime {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("id", &self.inner.id)
            .field("context", &self.inner.context)
            .finish()
    }
}

impl Runtime {
    /// The runtime of an extension's context (which must be alive), with its listeners.
    pub(crate) fn for_context(
        driver: &Rc<Driver>,
        endpoint: &ContextId,
        events: Rc<ContextEvents>,
    ) -> Option<Runtime> {
        let ext = endpoint.extension()?;
        let (manifest, base_url, context) = driver.read(|model| {
            let rec = model.ext(ext)?;
            Some((
                Arc::clone(&rec.manifest),
                rec.origin.clone(),
                model.trace_context(endpoint),
            ))
        })?;
        Some(Runtime {
            inner: Rc::new(Inner {
                driver: Rc::downgrade(driver),
                id: ext.clone(),
                context,
                endpoint: endpoint.clone(),
                events,
                manifest,
                base_url,
                absent: OnceCell::new(),
                absent_used: Cell::new(0),
            }),
        })
    }

    /// The runtime of a context that is not a background page (a view, a content script),
    /// with the listeners the driver keeps for it.
    pub(crate) fn of(driver: &Rc<Driver>, endpoint: &ContextId) -> Option<Runtime> {
        let events = driver.events_of(endpoint);
        Runtime::for_context(driver, endpoint, events)
    }

    fn is_content_script(&self) -> bool {
        self.inner.endpoint.is_content_script()
    }

    /// Fails for a member content scripts do not have (§4.5).
    fn member(&self, member: &'static str) -> Result<(), ContextError> {
        if self.is_content_script() {
            return Err(NotAvailable { member }.into());
        }
        Ok(())
    }

    /// The listeners of an event that content scripts do not have: in a content script
    /// `chrome.runtime.onStartup` is `undefined`, and reading `addListener` of it throws. Here
    /// the event is one that never fires, and the trace notes its first use.
    fn page_events(&self, event: RuntimeEventName) -> &ContextEvents {
        if !self.is_content_script() {
            return &self.inner.events;
        }
        let used = self.inner.absent_used.get();
        if used & event.bit() == 0 {
            self.inner.absent_used.set(used | event.bit());
            if let Some(driver) = self.inner.driver.upgrade() {
                let message = format!(
                    "chrome.runtime.{} is undefined in content scripts: reading its addListener throws \"TypeError: Cannot read properties of undefined (reading 'addListener')\"; here its listeners never run",
                    event.member()
                );
                driver.with_model(|model| {
                    model.record_at(&self.inner.endpoint, TraceEvent::Warning { message })
                });
            }
        }
        self.inner.absent.get_or_init(|| ContextEvents::new(None))
    }

    /// `runtime.id`.
    pub fn id(&self) -> &ExtensionId {
        &self.inner.id
    }

    /// Where this runtime lives: the background page, a view or a content script.
    pub fn context(&self) -> &TraceContext {
        &self.inner.context
    }

    /// The URL of the document or worker this context is (what its `location` shows): the
    /// frame's URL for a content script, the page's for a view, the background page's or the
    /// worker script's for the background. `None` once the context has gone.
    pub fn url(&self) -> Option<String> {
        let driver = self.inner.driver.upgrade()?;
        driver.read(|model| {
            model
                .context_alive(&self.inner.endpoint)
                .then(|| model.context_url(&self.inner.endpoint))
                .flatten()
        })
    }

    /// `runtime.getManifest()`: the whole manifest.
    pub fn get_manifest(&self) -> Value {
        self.inner.manifest.to_value()
    }

    /// `runtime.getURL(path)`: `chrome-extension://<id>/` + `path`, canonicalised as Chromium
    /// canonicalises a URL: `.` and `..` segments resolved, `\\` as `/`, and space, `"`, `<`,
    /// `>` and non-ASCII characters (and a few more in the path) percent-encoded.
    ///
    /// ```
    /// # use runtime_core::{script_fn, Browser, ExtensionSpec};
    /// # let spec = ExtensionSpec::from_json(serde_json::json!({"name": "x", "version": "1",
    /// #     "background": {"scripts": ["bg.js"]}})).unwrap()
    /// #     .script(script_fn(|_rt| async move { Ok(()) }));
    /// # let mut browser = Browser::builder().build();
    /// # let id = browser.install(spec).unwrap();
    /// # browser.start();
    /// # browser.advance(std::time::Duration::ZERO);
    /// let runtime = browser.background_runtime(&id).unwrap();
    /// let base = format!("chrome-extension://{}", id.as_str());
    /// assert_eq!(runtime.get_url("dir/../a b.html"), format!("{base}/a%20b.html"));
    /// ```
    pub fn get_url(&self, path: &str) -> String {
        crate::model::resource_url::resource_url(&self.inner.base_url, path)
    }

    /// `runtime.onStartup`.
    ///
    /// A content script has no `runtime.onStartup` (nor `onInstalled`, `onSuspend`,
    /// `onSuspendCanceled`, `onUpdateAvailable`, `onBrowserUpdateAvailable`,
    /// `onRestartRequired`, `onMessageExternal`, `onConnectExternal`, `onConnectNative`): there
    /// it is an event that never fires, and the trace warns of its first use.
    pub fn on_startup(&self) -> &Event<()> {
        self.page_events(RuntimeEventName::OnStartup).on_startup()
    }

    /// `runtime.onInstalled`.
    pub fn on_installed(&self) -> &Event<OnInstalledDetails> {
        self.page_events(RuntimeEventName::OnInstalled)
            .on_installed()
    }

    /// `runtime.onSuspend`.
    pub fn on_suspend(&self) -> &Event<()> {
        self.page_events(RuntimeEventName::OnSuspend).on_suspend()
    }

    /// `runtime.onSuspendCanceled`.
    pub fn on_suspend_canceled(&self) -> &Event<()> {
        self.page_events(RuntimeEventName::OnSuspendCanceled)
            .on_suspend_canceled()
    }

    /// An event of another extension API, by name (e.g. `alarms.onAlarm`), with JSON
    /// arguments; tests fire it with [`Browser::fire_event`](crate::Browser::fire_event). Like
    /// any event, one the page listened to wakes it when it is not loaded.
    pub fn event(&self, name: &str) -> Event<Value> {
        self.inner.events.named(name)
    }

    /// Runs `f` as code at `site` of the script (`file:line:column`): what the browser
    /// records meanwhile can say where — a late listener names where it was added. For a
    /// script engine, which knows where its code is.
    pub fn at_call_site<R>(&self, site: Option<String>, f: impl FnOnce() -> R) -> R {
        let Some(driver) = self.inner.driver.upgrade() else {
            return f();
        };
        let before = driver.call_site.replace(site);
        let result = f();
        *driver.call_site.borrow_mut() = before;
        result
    }

    /// The browser this context runs in ([`Profile`](crate::Profile)): what differs between
    /// Chrome and Firefox (Firefox's `browser` namespace, say) follows it.
    pub fn profile(&self) -> crate::Profile {
        match self.inner.driver.upgrade() {
            Some(driver) => driver.read(|model| model.config.profile),
            None => crate::Profile::default(),
        }
    }

    /// The running browser's version (it changes when a staged browser update is installed
    /// at a restart); what Firefox's `runtime.getBrowserInfo()` reports.
    pub fn browser_version(&self) -> String {
        match self.inner.driver.upgrade() {
            Some(driver) => driver.read(|model| model.config.version.clone()),
            None => String::new(),
        }
    }

    /// The virtual time now.
    pub fn now(&self) -> SimInstant {
        match self.inner.driver.upgrade() {
            Some(driver) => driver.read(|model| model.now()),
            None => SimInstant::ZERO,
        }
    }

    /// Writes to the console (`console.log` and its siblings): the message goes into the
    /// trace, in this context, with where it was written if `location` says.
    pub fn console(&self, level: ConsoleLevel, message: String, location: Option<String>) {
        if let Some(driver) = self.inner.driver.upgrade() {
            driver.with_model(|model| {
                model.record_at(
                    &self.inner.endpoint,
                    TraceEvent::Console {
                        level,
                        message,
                        location,
                    },
                )
            });
        }
    }

    /// Records a warning of the browser about what this context did (a [`TraceEvent::Warning`]
    /// in its context): for a script engine to say what the simulator does not model.
    pub fn warn(&self, message: String) {
        if let Some(driver) = self.inner.driver.upgrade() {
            driver.with_model(|model| {
                model.record_at(&self.inner.endpoint, TraceEvent::Warning { message })
            });
        }
    }

    /// A number in `[0, 1)` from the simulation's seeded generator (`Math.random()`): the
    /// same seed gives the same numbers, in the same order of calls.
    pub fn random(&self) -> f64 {
        match self.inner.driver.upgrade() {
            Some(driver) => driver.with_model(|model| model.rng.rand_double()),
            None => 0.0,
        }
    }

    /// A timer on the virtual clock (`setTimeout`). Like a JavaScript timer, it does not keep
    /// an event page alive: if the page unloads first, the waiting code is dropped with it.
    pub fn sleep(&self, duration: Duration) -> Sleep {
        let slot = match self.inner.driver.upgrade() {
            Some(driver) => driver.set_timer(duration),
            None => Rc::default(),
        };
        Sleep { slot }
    }

    /// Runs `future` as asynchronous work of this context. Work of a background page is
    /// dropped when the page unloads.
    pub fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let Some(driver) = self.inner.driver.upgrade() else {
            return;
        };
        let owner = TaskOwner::Context(self.inner.endpoint.clone());
        driver.executor.spawn_ready(
            owner,
            TaskLabel::Spawned,
            Box::pin(async move {
                future.await;
                Ok(())
            }),
        );
    }

    /// The extension's storage (`chrome.storage.local`): what survives a suspend and a browser
    /// restart.
    pub fn storage(&self) -> Storage {
        self.storage_area(StorageArea::Local)
    }

    /// One of the extension's storage areas.
    pub fn storage_area(&self, area: StorageArea) -> Storage {
        Storage {
            runtime: self.clone(),
            area,
        }
    }

    /// `chrome.storage.session`: in the browser's memory, kept across suspends and service
    /// worker restarts, gone when the browser stops or the extension is reloaded or updated.
    pub fn session_storage(&self) -> Storage {
        self.storage_area(StorageArea::Session)
    }

    /// `chrome.storage.sync`, with Chromium's quotas and write rates (kept like `local`: the
    /// simulated browser syncs with no other).
    pub fn sync_storage(&self) -> Storage {
        self.storage_area(StorageArea::Sync)
    }

    /// `chrome.storage.managed`: the policy the test set, read-only.
    pub fn managed_storage(&self) -> Storage {
        self.storage_area(StorageArea::Managed)
    }

    /// The extension's alarms (`chrome.alarms`): kept by the browser, firing on the virtual
    /// clock as `alarms.onAlarm` and waking the page.
    pub fn alarms(&self) -> Alarms {
        Alarms {
            runtime: self.clone(),
        }
    }

    /// The extension's tabs (`chrome.tabs`, the part messaging needs): create, get, query and
    /// remove tabs of the browser's one window. Its events are `tabs.onCreated`,
    /// `tabs.onRemoved` and `tabs.onUpdated` ([`Runtime::event`]); to message a tab's content
    /// scripts, see [`Runtime::send_message_to_tab`] and [`Runtime::connect_to_tab`].
    pub fn tabs(&self) -> Tabs {
        Tabs {
            runtime: self.clone(),
        }
    }

    /// `runtime.getPlatformInfo()`.
    pub async fn get_platform_info(&self) -> Result<PlatformInfo, GetPlatformInfoError> {
        self.member("getPlatformInfo")?;
        self.call(ApiRequest::GetPlatformInfo, |outcome| match outcome {
            CallOutcome::PlatformInfo(result) => Some(result),
            _ => None,
        })
        .await
    }

    /// `runtime.getPackageDirectoryEntry()`.
    pub async fn get_package_directory_entry(&self) -> Result<PackageDirectory, ContextError> {
        self.member("getPackageDirectoryEntry")?;
        self.call(
            ApiRequest::GetPackageDirectoryEntry,
            |outcome| match outcome {
                CallOutcome::PackageDirectory(result) => Some(result),
                _ => None,
            },
        )
        .await
    }

    /// `runtime.openOptionsPage()`: opens the options page in a view, or focuses it if open.
    pub async fn open_options_page(&self) -> Result<(), OpenOptionsPageError> {
        self.member("openOptionsPage")?;
        self.call(ApiRequest::OpenOptionsPage, |outcome| match outcome {
            CallOutcome::OpenOptionsPage(result) => Some(result),
            _ => None,
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
        self.call(
            ApiRequest::SetUninstallUrl(url.to_owned()),
            |outcome| match outcome {
                CallOutcome::SetUninstallUrl(result) => Some(result),
                _ => None,
            },
        )
        .await
    }

    /// `runtime.getBackgroundPage()`: the background page, loading an event page first.
    pub async fn get_background_page(&self) -> Result<BackgroundPage, GetBackgroundPageError> {
        self.member("getBackgroundPage")?;
        self.call(ApiRequest::GetBackgroundPage, |outcome| match outcome {
            CallOutcome::BackgroundPage(result) => Some(result),
            _ => None,
        })
        .await
    }

    /// `runtime.requestUpdateCheck()` in the promise form: `{status, version}`. Calls within
    /// 5 h (less up to 10 % jitter) of a completed check are `throttled`; with no update
    /// service it fails with `Autoupdate is not enabled.`
    pub fn request_update_check(
        &self,
    ) -> impl Future<Output = Result<UpdateCheckResult, RequestUpdateCheckError>> + 'static {
        let started = self
            .member("requestUpdateCheck")
            .map_err(RequestUpdateCheckError::from)
            .map(|()| {
                self.call(ApiRequest::RequestUpdateCheck, |outcome| match outcome {
                    CallOutcome::UpdateCheck(result) => Some(result),
                    _ => None,
                })
            });
        async move { started?.await }
    }

    /// `runtime.requestUpdateCheck(callback)`: the callback form, `callback(status, {version})`.
    /// If the call fails, the callback gets `(None, None)` and [`Runtime::last_error`] gives the
    /// error while it runs.
    pub fn request_update_check_callback<F>(&self, callback: F) -> Result<(), ContextError>
    where
        F: FnOnce(Option<RequestUpdateCheckStatus>, Option<UpdateDetails>) + 'static,
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
        self.member("reload")?;
        self.start(ApiRequest::Reload).map(|_| ())
    }

    /// `runtime.restart()`: in kiosk mode the device restarts now; elsewhere it fails with
    /// `Function available only for ChromeOS kiosk mode.`
    pub async fn restart(&self) -> Result<(), RestartError> {
        self.member("restart")?;
        self.call(ApiRequest::Restart, |outcome| match outcome {
            CallOutcome::Restart(result) => Some(result),
            _ => None,
        })
        .await
    }

    /// `runtime.restartAfterDelay(seconds)`: in kiosk mode, restarts the device after
    /// `seconds` (again to re-schedule; `-1` cancels). See [`RestartAfterDelayError`] for the
    /// checks, in their order.
    pub async fn restart_after_delay(&self, seconds: i32) -> Result<(), RestartAfterDelayError> {
        self.member("restartAfterDelay")?;
        self.call(
            ApiRequest::RestartAfterDelay(seconds),
            |outcome| match outcome {
                CallOutcome::RestartAfterDelay(result) => Some(result),
                _ => None,
            },
        )
        .await
    }

    /// `runtime.onUpdateAvailable`: an update was found but waits to be installed (the page
    /// is in use); the argument is the new manifest (with its `version`).
    pub fn on_update_available(&self) -> &Event<Value> {
        self.page_events(RuntimeEventName::OnUpdateAvailable)
            .on_update_available()
    }

    /// `runtime.onBrowserUpdateAvailable` (deprecated): a browser update needs a restart.
    pub fn on_browser_update_available(&self) -> &Event<()> {
        self.page_events(RuntimeEventName::OnBrowserUpdateAvailable)
            .on_browser_update_available()
    }

    /// `runtime.onRestartRequired`: in kiosk mode, the app or the device needs a restart; if
    /// the app does nothing, the device restarts after a 24 h grace period.
    pub fn on_restart_required(&self) -> &Event<OnRestartRequiredReason> {
        self.page_events(RuntimeEventName::OnRestartRequired)
            .on_restart_required()
    }

    /// Runs a call in the callback form: when `call` completes, `callback` runs in this
    /// context with its value, or with `None` and `runtime.lastError` set.
    fn callback_form<T, E, F>(
        &self,
        what: &'static str,
        call: impl Future<Output = Result<T, E>> + 'static,
        callback: F,
    ) where
        T: 'static,
        E: std::fmt::Display + 'static,
        F: FnOnce(Option<T>) + 'static,
    {
        let Some(driver) = self.inner.driver.upgrade() else {
            return;
        };
        let weak = Weak::clone(&self.inner.driver);
        let endpoint = self.inner.endpoint.clone();
        let events = Rc::clone(&self.inner.events);
        driver.executor.spawn_ready(
            TaskOwner::Context(endpoint.clone()),
            TaskLabel::Callback(what),
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

    /// Starts an API call, and gives what it comes to (`pick` takes this call's result out of
    /// the outcome).
    fn call<T, E>(
        &self,
        request: ApiRequest,
        pick: fn(CallOutcome) -> Option<Result<T, E>>,
    ) -> impl Future<Output = Result<T, E>> + 'static
    where
        T: 'static,
        E: From<ContextError> + 'static,
    {
        let started = self.start(request);
        async move {
            let outcome = started?
                .await
                .map_err(|_| ContextError::Invalidated(ContextInvalidated))?;
            pick(outcome).unwrap_or(Err(ContextError::Invalidated(ContextInvalidated).into()))
        }
    }

    /// Starts an API call: checks the context is alive, records the call, takes a keepalive
    /// and schedules its completion after the API's latency.
    fn start(&self, request: ApiRequest) -> Result<oneshot::Receiver<CallOutcome>, ContextError> {
        let driver = self
            .inner
            .driver
            .upgrade()
            .ok_or(ContextError::Invalidated(ContextInvalidated))?;
        let call = driver.with_model(|model| {
            if !model.context_alive(&self.inner.endpoint) {
                return None;
            }
            model.start_call(&self.inner.endpoint, request)
        });
        let call = call.ok_or(ContextError::Invalidated(ContextInvalidated))?;
        let (tx, rx) = oneshot::channel();
        driver.wait_for_call(
            call,
            Box::new(move |outcome| {
                let _ = tx.send(outcome);
            }),
        );
        Ok(rx)
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
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
        let target = resolve_target(Some(&self.inner.id), None);
        messaging::send_message(&self.inner.driver, &self.inner.endpoint, target, message)
    }

    /// `runtime.sendMessage(extensionId, message)`: to another extension's `onMessageExternal`
    /// (or, with the own id, to the own `onMessage`). A target that does not exist or does not
    /// accept this extension fails with `Could not establish connection. Receiving end does
    /// not exist.`
    pub fn send_message_to<T: Serialize + ?Sized>(
        &self,
        extension_id: &str,
        message: &T,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
        let target = resolve_target(Some(&self.inner.id), Some(extension_id));
        messaging::send_message(&self.inner.driver, &self.inner.endpoint, target, message)
    }

    /// [`Runtime::send_message`] (no `extension_id`) or [`Runtime::send_message_to`] of a
    /// message that already is JSON, taken as it is: no copy of it is made (the form for a
    /// caller that built the value for this message only, as an engine does).
    pub fn send_json_message(
        &self,
        extension_id: Option<&str>,
        message: Value,
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
        let target = resolve_target(Some(&self.inner.id), extension_id);
        messaging::send_message_json(
            &self.inner.driver,
            &self.inner.endpoint,
            target,
            checked_message(message),
        )
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
        F: FnOnce(Option<Value>) + 'static,
    {
        let target = resolve_target(Some(&self.inner.id), extension_id);
        messaging::send_message_callback(
            &self.inner.driver,
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
            &self.inner.driver,
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
            &self.inner.driver,
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
    ) -> impl Future<Output = Result<Option<Value>, SendMessageError>> + 'static {
        let target = Ok(Target::Tab {
            ext: self.inner.id.clone(),
            tab,
            frame,
        });
        messaging::send_message(&self.inner.driver, &self.inner.endpoint, target, message)
    }

    /// `tabs.sendMessage(tabId, message, {frameId}, callback)`: the callback form of
    /// [`Runtime::send_message_to_tab`]. Errors of the call itself are returned at once; the
    /// callback runs later with the response (`None` if the message failed, and
    /// [`Runtime::last_error`] gives why while it runs).
    pub fn send_message_to_tab_callback<T, F>(
        &self,
        tab: TabId,
        frame: Option<FrameId>,
        message: &T,
        callback: F,
    ) -> Result<(), SendMessageError>
    where
        T: Serialize + ?Sized,
        F: FnOnce(Option<Value>) + 'static,
    {
        let target = Ok(Target::Tab {
            ext: self.inner.id.clone(),
            tab,
            frame,
        });
        messaging::send_message_callback(
            &self.inner.driver,
            &self.inner.endpoint,
            &self.inner.events,
            target,
            message,
            callback,
        )
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
            tab,
            frame,
        };
        messaging::connect(
            &self.inner.driver,
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
            &self.inner.driver,
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
    ) -> impl Future<Output = Result<Value, SendNativeMessageError>> + 'static {
        let refused = self.is_content_script();
        let call = (!refused).then(|| {
            native::send_native_message(
                &self.inner.driver,
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

    /// `runtime.sendNativeMessage(application, message, callback)`, the callback form: the
    /// callback gets the host's first answer, or nothing with `runtime.lastError` set to the
    /// browser's error (`Specified native messaging host not found.`, …); an error it does
    /// not read is reported as `Unchecked runtime.lastError: …`.
    pub fn send_native_message_callback<T, F>(
        &self,
        application: &str,
        message: &T,
        callback: F,
    ) -> Result<(), SendNativeMessageError>
    where
        T: Serialize + ?Sized,
        F: FnOnce(Option<Value>) + 'static,
    {
        if self.is_content_script() {
            return Err(SendNativeMessageError::NotAvailable(NotAvailable {
                member: "sendNativeMessage",
            }));
        }
        let answer = native::send_native_message(
            &self.inner.driver,
            &self.inner.endpoint,
            application,
            message,
        );
        let reply = async move { answer.await.map(Some).map_err(|e| e.to_string()) };
        messaging::call_back_when_done(
            &self.inner.driver,
            &self.inner.endpoint,
            &self.inner.events,
            "a runtime.sendNativeMessage callback",
            reply,
            callback,
        )
        .map_err(SendNativeMessageError::ContextInvalidated)
    }

    /// `runtime.onMessage`: one-time messages from the own extension (and its content scripts).
    pub fn on_message(&self) -> &OnMessageEvent {
        self.inner.events.on_message()
    }

    /// `runtime.onMessageExternal`: one-time messages from other extensions and web pages.
    pub fn on_message_external(&self) -> &OnMessageEvent {
        self.page_events(RuntimeEventName::OnMessageExternal)
            .on_message_external()
    }

    /// `runtime.onConnect`: ports opened by the own extension (and its content scripts).
    pub fn on_connect(&self) -> &Event<Port> {
        self.inner.events.on_connect()
    }

    /// `runtime.onConnectExternal`: ports opened by other extensions and web pages.
    pub fn on_connect_external(&self) -> &Event<Port> {
        self.page_events(RuntimeEventName::OnConnectExternal)
            .on_connect_external()
    }

    /// `runtime.onConnectNative`: ports opened by a native application (ChromeOS); the port's
    /// `sender.nativeApplication` names it. Tests open them with
    /// [`Browser::connect_from_native_app`](crate::Browser::connect_from_native_app).
    pub fn on_connect_native(&self) -> &Event<Port> {
        self.page_events(RuntimeEventName::OnConnectNative)
            .on_connect_native()
    }

    /// Runs `callback` as the callback of an API call made in this context: with
    /// `runtime.lastError` set to `error` while it runs if the call failed, and an error it
    /// does not read recorded as `Unchecked runtime.lastError: <message>`. For a script
    /// engine's own callback forms.
    pub fn run_callback<R>(&self, error: Option<String>, callback: impl FnOnce() -> R) -> R {
        messaging::run_callback(
            &self.inner.driver,
            &self.inner.endpoint,
            &self.inner.events,
            error,
            callback,
        )
    }

    /// `runtime.lastError`: set only while a callback runs after a failed call (or an
    /// `onDisconnect` listener runs after a failed connection). Reading it marks it checked.
    pub fn last_error(&self) -> Option<LastError> {
        self.inner.events.last_error.read()
    }

    /// Whether `runtime.lastError` is set now (a callback after a failed call is running),
    /// without marking it checked: for a script engine that calls such a callback with no
    /// arguments, as Chromium's bindings do.
    pub fn last_error_is_set(&self) -> bool {
        self.inner.events.last_error.is_set()
    }
}

/// A timer on the virtual clock; see [`Runtime::sleep`].
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    slot: Rc<TimerSlot>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<()> {
        if self.slot.fired.get() {
            return Poll::Ready(());
        }
        *self.slot.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// One of an extension's storage areas (`chrome.storage.local`, `.session`, `.sync` or
/// `.managed`): JSON values by key, with Chromium's rules — `local` survives suspends and
/// browser restarts (10 MiB unless the extension has `unlimitedStorage`), `session` lives in
/// the browser's memory until it stops or the extension is reloaded or updated (10 MiB; a
/// content script may use it only once `set_access_level` allowed it), `sync` has Chromium's
/// quotas and write rates, `managed` is the policy the test set and cannot be written. Each
/// call starts when its method is called (as in JavaScript) and is an API call in flight until
/// it completes; errors display the browser's message (`QUOTA_BYTES_PER_ITEM quota exceeded`,
/// `This is a read-only store.`, …).
#[derive(Clone, Debug)]
pub struct Storage {
    runtime: Runtime,
    area: StorageArea,
}

impl Storage {
    /// Which area this is.
    pub fn area(&self) -> StorageArea {
        self.area
    }

    /// Starts a call now; the future gives what it came to.
    fn run(&self, op: StorageOp) -> impl Future<Output = Result<Value, StorageError>> + 'static {
        let request = ApiRequest::Storage(StorageRequest::new(self.area, op));
        self.runtime.call(request, |outcome| match outcome {
            CallOutcome::Storage(result) => Some(result),
            _ => None,
        })
    }

    /// A call that gives nothing back.
    fn write(&self, op: StorageOp) -> impl Future<Output = Result<(), StorageError>> + 'static {
        let call = self.run(op);
        async move { call.await.map(drop) }
    }

    /// A call that gives items.
    fn items(
        &self,
        op: StorageOp,
    ) -> impl Future<Output = Result<serde_json::Map<String, Value>, StorageError>> + 'static {
        let call = self.run(op);
        async move {
            match call.await? {
                Value::Object(items) => Ok(items),
                _ => Ok(serde_json::Map::new()),
            }
        }
    }

    /// The value stored under `key` (`None` if there is none, or it is `null`).
    pub fn get(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<Value>, StorageError>> + 'static {
        let call = self.run(StorageOp::GetValue(key.to_owned()));
        async move {
            let value = call.await?;
            Ok((!value.is_null()).then_some(value))
        }
    }

    /// Stores `value` under `key`.
    pub fn set(
        &self,
        key: &str,
        value: Value,
    ) -> impl Future<Output = Result<(), StorageError>> + 'static {
        let items = serde_json::Map::from_iter([(key.to_owned(), value)]);
        self.write(StorageOp::Set(items))
    }

    /// Removes `key`.
    pub fn remove(&self, key: &str) -> impl Future<Output = Result<(), StorageError>> + 'static {
        self.write(StorageOp::Remove(vec![key.to_owned()]))
    }

    /// `get(keys)`: the stored ones of `keys` (every item with `None`), by key.
    pub fn get_items(
        &self,
        keys: Option<Vec<String>>,
    ) -> impl Future<Output = Result<serde_json::Map<String, Value>, StorageError>> + 'static {
        self.items(StorageOp::Get {
            keys,
            defaults: None,
        })
    }

    /// `get({key: default, …})`: each key's stored value, or its default.
    pub fn get_with_defaults(
        &self,
        defaults: serde_json::Map<String, Value>,
    ) -> impl Future<Output = Result<serde_json::Map<String, Value>, StorageError>> + 'static {
        let keys = defaults.keys().cloned().collect();
        self.items(StorageOp::Get {
            keys: Some(keys),
            defaults: Some(defaults),
        })
    }

    /// `getKeys()`: every key, in the browser's order.
    pub fn get_keys(&self) -> impl Future<Output = Result<Vec<String>, StorageError>> + 'static {
        let call = self.run(StorageOp::GetKeys);
        async move { Ok(serde_json::from_value(call.await?).unwrap_or_default()) }
    }

    /// `getBytesInUse(keys)`: the bytes the items of `keys` take (the whole area with `None`),
    /// counted as Chromium does — each key's length plus its value's length as JSON, in UTF-8
    /// (`managed` counts none).
    pub fn get_bytes_in_use(
        &self,
        keys: Option<Vec<String>>,
    ) -> impl Future<Output = Result<u64, StorageError>> + 'static {
        let call = self.run(StorageOp::GetBytesInUse(keys));
        async move { Ok(call.await?.as_u64().unwrap_or(0)) }
    }

    /// `set(items)` as one call (one write, for `sync`'s rates).
    pub fn set_items(
        &self,
        items: serde_json::Map<String, Value>,
    ) -> impl Future<Output = Result<(), StorageError>> + 'static {
        self.write(StorageOp::Set(items))
    }

    /// `remove(keys)` as one call.
    pub fn remove_items(
        &self,
        keys: Vec<String>,
    ) -> impl Future<Output = Result<(), StorageError>> + 'static {
        self.write(StorageOp::Remove(keys))
    }

    /// `clear()`: removes every item.
    pub fn clear(&self) -> impl Future<Output = Result<(), StorageError>> + 'static {
        self.write(StorageOp::Clear)
    }

    /// `setAccessLevel({accessLevel})`: which contexts may use `session` (only `session` has
    /// it, and only the extension's own contexts may call it).
    pub fn set_access_level(
        &self,
        level: AccessLevel,
    ) -> impl Future<Output = Result<(), StorageError>> + 'static {
        self.write(StorageOp::SetAccessLevel(level))
    }
}

/// When an alarm fires (`alarms.AlarmCreateInfo`); times in milliseconds of virtual time.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlarmInfo {
    /// `when`: the virtual time, in milliseconds since the start, to fire at.
    pub when_ms: Option<f64>,
    /// `delayInMinutes`: how long from now (at least the browser's minimum).
    pub delay_in_minutes: Option<f64>,
    /// `periodInMinutes`: fire again this often (at least the browser's minimum).
    pub period_in_minutes: Option<f64>,
}

/// An `alarms.*` call failed: the browser's message (e.g. `Cannot set both when and
/// delayInMinutes.`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AlarmsError {
    /// The browser's message.
    pub message: String,
}

impl From<ContextError> for AlarmsError {
    fn from(error: ContextError) -> Self {
        AlarmsError {
            message: error.to_string(),
        }
    }
}

/// An extension's alarms (`chrome.alarms`). Alarms are JSON as the API gives them: `name`,
/// `scheduledTime` (milliseconds of virtual time since the start), `periodInMinutes`. The
/// shortest delay and period are Chromium's: 1 s unpacked, 30 s for a packed Manifest V3
/// extension, 1 min for a packed Manifest V2 one.
#[derive(Clone, Debug)]
pub struct Alarms {
    runtime: Runtime,
}

/// A call's JSON result, its error the browser's message as `E` (one of the APIs' errors).
fn json<E: From<String>>(outcome: CallOutcome) -> Option<Result<Value, E>> {
    match outcome {
        CallOutcome::Json(result) => Some(result.map_err(E::from)),
        _ => None,
    }
}

impl From<String> for AlarmsError {
    fn from(message: String) -> Self {
        AlarmsError { message }
    }
}

impl From<String> for TabsError {
    fn from(message: String) -> Self {
        TabsError { message }
    }
}

impl Alarms {
    /// `alarms.create(name, info)`: replaces an alarm of the same name.
    pub async fn create(&self, name: &str, info: AlarmInfo) -> Result<(), AlarmsError> {
        let create = crate::model::alarm::AlarmCreate {
            name: name.to_owned(),
            when_ms: info.when_ms,
            delay_minutes: info.delay_in_minutes,
            period_minutes: info.period_in_minutes,
        };
        self.runtime
            .call(ApiRequest::AlarmsCreate(create), json)
            .await
            .map(|_| ())
    }

    /// `alarms.get(name)`: the alarm, or `Value::Null`.
    pub async fn get(&self, name: &str) -> Result<Value, AlarmsError> {
        self.runtime
            .call(ApiRequest::AlarmsGet(name.to_owned()), json)
            .await
    }

    /// `alarms.getAll()`: an array of alarms.
    pub async fn get_all(&self) -> Result<Value, AlarmsError> {
        self.runtime.call(ApiRequest::AlarmsGetAll, json).await
    }

    /// `alarms.clear(name)`: whether there was such an alarm.
    pub async fn clear(&self, name: &str) -> Result<bool, AlarmsError> {
        let cleared = self
            .runtime
            .call(
                ApiRequest::AlarmsClear(name.to_owned()),
                json::<AlarmsError>,
            )
            .await?;
        Ok(cleared.as_bool().unwrap_or(false))
    }

    /// `alarms.clearAll()`.
    pub async fn clear_all(&self) -> Result<bool, AlarmsError> {
        let cleared = self
            .runtime
            .call(ApiRequest::AlarmsClearAll, json::<AlarmsError>)
            .await?;
        Ok(cleared.as_bool().unwrap_or(true))
    }
}

/// A `tabs.*` call failed: the browser's message (e.g. `No tab with id: 7.`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TabsError {
    /// The browser's message.
    pub message: String,
}

impl From<ContextError> for TabsError {
    fn from(error: ContextError) -> Self {
        TabsError {
            message: error.to_string(),
        }
    }
}

/// The extension's tabs (`chrome.tabs`): the tabs of the browser's one window (`windowId` 1),
/// as `tabs.Tab` JSON — `id`, `index`, `windowId`, `active`, `highlighted`, `pinned`,
/// `status`, `incognito`, … and `url` only when the extension has the `tabs` permission or a
/// host permission for it, as in Chromium. Each call is an API call in flight until it
/// completes. Content scripts have no `chrome.tabs`: there every call fails.
#[derive(Clone, Debug)]
pub struct Tabs {
    runtime: Runtime,
}

impl Tabs {
    /// Content scripts have no `chrome.tabs`: calling a member of it throws V8's error for
    /// reading a property of `undefined`.
    fn check(&self, member: &str) -> Result<(), TabsError> {
        if self.runtime.is_content_script() {
            return Err(TabsError {
                message: format!("Cannot read properties of undefined (reading '{member}')"),
            });
        }
        Ok(())
    }

    fn call(
        &self,
        member: &str,
        request: ApiRequest,
    ) -> impl Future<Output = Result<Value, TabsError>> + 'static {
        let started = self
            .check(member)
            .map(|()| self.runtime.call(request, json));
        async move { started?.await }
    }

    /// `tabs.create(createProperties)`: the new tab. A page of the extension (a path, or a
    /// URL of its own origin) opens as a view of kind [`ViewKind::Tab`](crate::ViewKind::Tab);
    /// any other URL in a tab whose matching content scripts start. `No window with id: N.`
    /// for a window that does not exist.
    pub fn create(
        &self,
        create: TabCreate,
    ) -> impl Future<Output = Result<Value, TabsError>> + 'static {
        self.call("create", ApiRequest::TabsCreate(create))
    }

    /// `tabs.get(tabId)`: the tab, or `No tab with id: N.`
    pub fn get(&self, tab: TabId) -> impl Future<Output = Result<Value, TabsError>> + 'static {
        self.call("get", ApiRequest::TabsGet(tab))
    }

    /// `tabs.query(queryInfo)`: an array of the tabs that match, in their order in the window.
    pub fn query(
        &self,
        query: TabQuery,
    ) -> impl Future<Output = Result<Value, TabsError>> + 'static {
        self.call("query", ApiRequest::TabsQuery(query))
    }

    /// `tabs.remove(tabIds)`: closes the tabs in order; an id with no tab fails the call with
    /// `No tab with id: N.` and leaves the tabs before it closed.
    pub fn remove(
        &self,
        tabs: Vec<TabId>,
    ) -> impl Future<Output = Result<(), TabsError>> + 'static {
        let call = self.call("remove", ApiRequest::TabsRemove(tabs));
        async move { call.await.map(|_| ()) }
    }
}
