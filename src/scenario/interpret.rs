//! Runs declared code: a background page's top-level code (as a [`BackgroundScript`]), the
//! listeners it registers, and the actions steps run in views, content scripts, web pages and
//! native applications.
//!
//! Code runs like JavaScript: actions run at once up to the first one that waits; the rest
//! runs when what it waits for is done. A plain listener's remaining work runs as a detached
//! callback would; an async listener's is its promise, handed to the browser.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context as TaskContext, Poll};

use async_trait::async_trait;
use futures::future::LocalBoxFuture;
use serde_json::Value;

use super::action::{Action, Api, Call, Connect, Listen, Returns, SendMessage, TabTarget};
use super::error::ActionError;
use super::ids::Ids;
use super::outcome::{Happening, Journal, OutcomeValue, What};
use super::position::JsonPath;
use crate::ListenerOutcome;
use crate::{
    BackgroundScript, ExtensionId, FrameId, ListenerError, OnMessage, OnRestartRequiredReason,
    Port, Runtime, ScriptError, SendMessageError, SimInstant, TabId, TraceContext, WebPage,
};

/// Actions and where they are in the file.
#[derive(Clone, Debug)]
pub(crate) struct Code {
    pub(crate) actions: Arc<Vec<Action>>,
    pub(crate) path: JsonPath,
}

impl Code {
    pub(crate) fn new(actions: Vec<Action>, path: JsonPath) -> Self {
        Code {
            actions: Arc::new(actions),
            path,
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What declared code shares with the run: the journal, the extensions' ids, the tabs and
/// frames the timeline has opened, when the current step began, and the errors of the
/// scenario itself found while it runs.
#[derive(Clone, Default)]
pub(crate) struct Env {
    pub(crate) journal: Journal,
    /// When the current step began: the time of a native application's code, which runs only
    /// within a step (it never waits).
    pub(crate) step_began: Arc<Mutex<SimInstant>>,
    pub(crate) ids: Arc<Ids>,
    pub(crate) tabs: Arc<Mutex<BTreeMap<String, TabId>>>,
    pub(crate) frames: Arc<Mutex<BTreeMap<String, FrameId>>>,
    pub(crate) problems: Arc<Mutex<Vec<ActionError>>>,
}

impl Env {
    fn problem(&self, path: JsonPath, message: String) -> ListenerError {
        lock(&self.problems).push(ActionError {
            path,
            message: message.clone(),
        });
        ListenerError::new(message)
    }
}

/// Who runs the code.
#[derive(Clone)]
pub(crate) enum Actor {
    /// An extension's context: its background page, a view, a content script.
    Extension(Runtime),
    /// A web page.
    Page(WebPage),
    /// A native application, on its connection to an extension.
    App,
}

/// A background script declared in a scenario file.
pub(crate) struct DeclaredScript {
    pub(crate) env: Env,
    pub(crate) code: Code,
}

#[async_trait(?Send)]
impl BackgroundScript for DeclaredScript {
    async fn run(&self, runtime: Runtime) -> Result<(), ScriptError> {
        let frame = Frame::new(self.env.clone(), Actor::Extension(runtime));
        frame
            .run(self.code.clone())
            .await
            .map(drop)
            .map_err(|e| e.into())
    }
}

/// How a list of actions ended.
enum Flow {
    /// It ran to its end.
    Done,
    /// `resolve` ended it with this value.
    Resolved(Value),
}

type Ran = Result<Flow, ListenerError>;

/// Code running in one context: who runs it, the ports it has opened by name, and what its
/// listener was given.
#[derive(Clone)]
pub(crate) struct Frame {
    env: Env,
    actor: Actor,
    /// Where the code runs, when the runner knows it better than the actor.
    context: Option<TraceContext>,
    ports: Arc<Mutex<BTreeMap<String, Port>>>,
    port: Option<Port>,
    message: Option<OnMessage>,
    arg: Value,
    sender: Value,
}

impl Frame {
    pub(crate) fn new(env: Env, actor: Actor) -> Self {
        Frame {
            env,
            actor,
            context: None,
            ports: Arc::default(),
            port: None,
            message: None,
            arg: Value::Null,
            sender: Value::Null,
        }
    }

    /// The same code with these named ports (those of earlier steps in the same context).
    pub(crate) fn with_ports(mut self, ports: Arc<Mutex<BTreeMap<String, Port>>>) -> Self {
        self.ports = ports;
        self
    }

    /// The same code, said to run in `context`.
    pub(crate) fn in_context(mut self, context: TraceContext) -> Self {
        self.context = Some(context);
        self
    }

    /// The same code with this port at hand.
    pub(crate) fn with_port(mut self, port: Port) -> Self {
        self.port = Some(port);
        self
    }

    fn now(&self) -> SimInstant {
        match &self.actor {
            Actor::Extension(rt) => rt.now(),
            Actor::Page(page) => page.now(),
            Actor::App => *lock(&self.env.step_began),
        }
    }

    fn whereabouts(&self) -> (Option<ExtensionId>, Option<TraceContext>) {
        match &self.actor {
            Actor::Extension(rt) => (
                Some(rt.id().clone()),
                Some(self.context.clone().unwrap_or_else(|| rt.context().clone())),
            ),
            Actor::Page(page) => {
                let (tab, frame) = page.frame();
                (None, Some(TraceContext::WebPage { tab, frame }))
            }
            Actor::App => (None, None),
        }
    }

    fn note(&self, what: What) {
        let (extension, context) = self.whereabouts();
        self.env.journal.record(Happening {
            at: self.now(),
            extension,
            context,
            what,
        });
    }

    fn outcome(&self, label: &str, outcome: OutcomeValue) {
        self.note(What::Outcome {
            label: label.to_owned(),
            outcome,
        });
    }

    /// A value of the file, with `${id:NAME}`, `"$arg"` and `"$sender"` filled in.
    fn value(&self, value: &Value) -> Value {
        self.fill(&self.env.ids.expand(value))
    }

    fn fill(&self, value: &Value) -> Value {
        match value {
            Value::String(s) if s == "$arg" => self.arg.clone(),
            Value::String(s) if s == "$sender" => self.sender.clone(),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.fill(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.fill(v))).collect())
            }
            other => other.clone(),
        }
    }

    /// Runs code now up to its first wait; the rest runs later as detached work of the
    /// context. An error it throws is recorded as uncaught.
    pub(crate) fn launch(&self, code: Code) {
        let mut run = self.clone().run(code);
        match poll_once(&mut run) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(error)) => self.uncaught(&error),
            Poll::Pending => self.detach(run),
        }
    }

    /// Runs the rest of some code as detached work of the context.
    fn detach(&self, run: LocalBoxFuture<'static, Ran>) {
        let frame = self.clone();
        let work = async move {
            if let Err(error) = run.await {
                frame.uncaught(&error);
            }
        };
        match &self.actor {
            Actor::Extension(rt) => rt.spawn(work),
            Actor::Page(page) => page.spawn(work),
            // A native application's code never waits (the checks refuse it).
            Actor::App => {}
        }
    }

    fn uncaught(&self, error: &ListenerError) {
        self.note(What::Uncaught {
            message: error.message().to_owned(),
        });
    }

    /// Runs the actions in order, waiting where they wait.
    fn run(self, code: Code) -> LocalBoxFuture<'static, Ran> {
        Box::pin(async move {
            for (i, action) in code.actions.iter().enumerate() {
                let path = code.path.index(i);
                if let Flow::Resolved(value) = self.act(action, path).await? {
                    return Ok(Flow::Resolved(value));
                }
            }
            Ok(Flow::Done)
        })
    }

    fn runtime(&self) -> Option<&Runtime> {
        match &self.actor {
            Actor::Extension(rt) => Some(rt),
            _ => None,
        }
    }

    async fn act(&self, action: &Action, path: JsonPath) -> Ran {
        match action {
            Action::Listen(listen) => {
                self.listen(listen, path.key("listen"))?;
            }
            Action::Respond(value) => {
                if let Some(message) = &self.message {
                    message.respond(&self.value(value));
                }
            }
            Action::Resolve(value) => return Ok(Flow::Resolved(self.value(value))),
            Action::Fail(message) => return Err(ListenerError::new(message.clone())),
            Action::FailWithoutError(what) => {
                return Err(ListenerError::not_an_error(what.clone()))
            }
            Action::Wait(duration) => {
                if let Some(rt) = self.runtime() {
                    rt.sleep(duration.0).await;
                }
            }
            Action::Timer(timer) => {
                if let Some(rt) = self.runtime() {
                    let sleep = rt.sleep(timer.after.0);
                    let body = Code::new(timer.body.clone(), path.key("timer").key("do"));
                    let callback = self.detached();
                    rt.spawn(async move {
                        sleep.await;
                        callback.launch(body);
                    });
                }
            }
            Action::Store(values) => {
                if let Some(rt) = self.runtime() {
                    let storage = rt.storage();
                    for (key, value) in values {
                        storage
                            .set(key, self.value(value))
                            .await
                            .map_err(|e| ListenerError::new(e.to_string()))?;
                    }
                }
            }
            Action::Call(call) if call.callback => self.call_with_callback(call)?,
            Action::Call(call) => {
                let result = self.call_api(call).await;
                self.settle(call.label.as_deref(), result)?;
            }
            Action::SendMessage(send) => self.send_message(send, path.key("send_message")).await?,
            Action::Connect(connect) => self.connect(connect, path.key("connect"))?,
            Action::Post(post) => {
                let port = self.port(post.port.as_deref(), &path.key("post"))?;
                let result = port
                    .post_message(&self.value(&post.message))
                    .map(|()| OutcomeValue::Undefined)
                    .map_err(|e| e.to_string());
                self.settle(post.label.as_deref(), result)?;
            }
            Action::Disconnect(disconnect) => {
                self.port(disconnect.port.as_deref(), &path.key("disconnect"))?
                    .disconnect();
            }
            Action::ConnectNative(connect) => {
                if let Some(rt) = self.runtime() {
                    match rt.connect_native(&connect.host) {
                        Ok(port) => {
                            if let Some(label) = &connect.label {
                                lock(&self.ports).insert(label.clone(), port);
                            }
                        }
                        Err(e) => self.settle(connect.label.as_deref(), Err(e.to_string()))?,
                    }
                }
            }
            Action::SendNativeMessage(send) => {
                if let Some(rt) = self.runtime() {
                    let answer = rt
                        .send_native_message(&send.host, &self.value(&send.message))
                        .await
                        .map(OutcomeValue::Value)
                        .map_err(|e| e.to_string());
                    self.settle(send.label.as_deref(), answer)?;
                }
            }
        }
        Ok(Flow::Done)
    }

    /// Records a result under `label`, if there is one (a failure is then caught); without a
    /// label, a failure is thrown.
    fn settle(
        &self,
        label: Option<&str>,
        result: Result<OutcomeValue, String>,
    ) -> Result<(), ListenerError> {
        match (label, result) {
            (Some(label), Ok(value)) => self.outcome(label, value),
            (Some(label), Err(message)) => self.outcome(label, OutcomeValue::Error(message)),
            (None, Ok(_)) => {}
            (None, Err(message)) => return Err(ListenerError::new(message)),
        }
        Ok(())
    }

    /// A port by name, or the one at hand.
    fn port(&self, name: Option<&str>, path: &JsonPath) -> Result<Port, ListenerError> {
        let port = match name {
            Some(name) => lock(&self.ports).get(name).cloned(),
            None => self.port.clone(),
        };
        port.ok_or_else(|| {
            let what = name.map_or("no port is at hand".to_owned(), |name| {
                format!("the port \"{name}\" has not been opened by this code (yet)")
            });
            self.env.problem(path.clone(), what)
        })
    }

    async fn call_api(&self, call: &Call) -> Result<OutcomeValue, String> {
        let Some(rt) = self.runtime() else {
            return Err(format!("{} is not available here", call.api.name()));
        };
        let arg = |i: usize| {
            call.args
                .get(i)
                .map(|v| self.value(v))
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let integer = |i: usize| {
            call.args
                .get(i)
                .and_then(Value::as_i64)
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or_default()
        };
        let value = |v: Result<Value, String>| v.map(OutcomeValue::Value);
        let nothing = |v: Result<(), String>| v.map(|()| OutcomeValue::Undefined);
        match call.api {
            Api::GetPlatformInfo => value(
                rt.get_platform_info()
                    .await
                    .map(|i| json(&i))
                    .map_err(|e| e.to_string()),
            ),
            Api::GetPackageDirectoryEntry => value(
                rt.get_package_directory_entry()
                    .await
                    .map(|d| json(&d))
                    .map_err(|e| e.to_string()),
            ),
            Api::GetBackgroundPage => value(
                rt.get_background_page()
                    .await
                    .map(|p| json(&p))
                    .map_err(|e| e.to_string()),
            ),
            Api::OpenOptionsPage => rt
                .open_options_page()
                .await
                .map(|()| OutcomeValue::Undefined)
                .map_err(|e| e.to_string()),
            Api::SetUninstallUrl => rt
                .set_uninstall_url(&arg(0))
                .await
                .map(|()| OutcomeValue::Undefined)
                .map_err(|e| e.to_string()),
            Api::GetManifest => Ok(OutcomeValue::Value(rt.get_manifest())),
            Api::GetUrl => Ok(OutcomeValue::Value(Value::String(rt.get_url(&arg(0))))),
            Api::StorageGet => rt
                .storage()
                .get(&arg(0))
                .await
                .map(|v| v.map_or(OutcomeValue::Undefined, OutcomeValue::Value))
                .map_err(|e| e.to_string()),
            Api::StorageManagedGet => rt
                .managed_storage()
                .get(&arg(0))
                .await
                .map(|v| v.map_or(OutcomeValue::Undefined, OutcomeValue::Value))
                .map_err(|e| e.to_string()),
            Api::StorageManagedSet => rt
                .managed_storage()
                .set(&arg(0), Value::String("x".into()))
                .await
                .map(|()| OutcomeValue::Undefined)
                .map_err(|e| e.to_string()),
            Api::StorageRemove => rt
                .storage()
                .remove(&arg(0))
                .await
                .map(|()| OutcomeValue::Undefined)
                .map_err(|e| e.to_string()),
            Api::Reload => nothing(rt.reload().map_err(|e| e.to_string())),
            Api::RequestUpdateCheck => value(
                rt.request_update_check()
                    .await
                    .map(|r| json(&r))
                    .map_err(|e| e.to_string()),
            ),
            Api::Restart => nothing(rt.restart().await.map_err(|e| e.to_string())),
            Api::RestartAfterDelay => nothing(
                rt.restart_after_delay(integer(0))
                    .await
                    .map_err(|e| e.to_string()),
            ),
        }
    }

    /// An API call in the callback form: it does not wait; the callback records its
    /// arguments (as an array), or the `runtime.lastError` it reads, under the call's label.
    fn call_with_callback(&self, call: &Call) -> Result<(), ListenerError> {
        let Some(rt) = self.runtime() else {
            let unavailable = format!("{} is not available here", call.api.name());
            return self.settle(call.label.as_deref(), Err(unavailable));
        };
        let frame = self.detached();
        let label = call.label.clone();
        let record = move |args: Value| {
            if let Some(label) = &label {
                let outcome = match frame.last_error() {
                    Some(error) => OutcomeValue::Error(error),
                    None => OutcomeValue::Value(args),
                };
                frame.outcome(label, outcome);
            }
        };
        let started = match call.api {
            Api::RequestUpdateCheck => rt.request_update_check_callback(move |status, details| {
                record(json(&(status, details)));
            }),
            // The checks allow the callback form only for the APIs above.
            _ => Ok(()),
        };
        // A call that is made records its outcome when the callback runs; one that throws at
        // once is settled now.
        match started {
            Ok(()) => Ok(()),
            Err(e) => self.settle(call.label.as_deref(), Err(e.to_string())),
        }
    }

    /// The target of a message or connection.
    fn target(
        &self,
        to: Option<&str>,
        to_id: Option<&str>,
        to_tab: Option<&TabTarget>,
        path: &JsonPath,
    ) -> Result<Target, ListenerError> {
        if let Some(name) = to {
            let id = self.env.ids.get(name).map(|id| id.to_string());
            return Ok(Target::Extension(id.unwrap_or_default()));
        }
        if let Some(raw) = to_id {
            return Ok(Target::Extension(self.env.ids.expand_str(raw)));
        }
        let Some(tab) = to_tab else {
            return Ok(Target::Own);
        };
        let id = lock(&self.env.tabs).get(&tab.tab).copied();
        let Some(id) = id else {
            return Err(self.env.problem(
                path.key("to_tab").key("tab"),
                format!("the tab \"{}\" is not open (yet)", tab.tab),
            ));
        };
        let frame = match tab.frame.as_deref() {
            None => None,
            Some("top") => Some(FrameId::TOP),
            Some(name) => match lock(&self.env.frames).get(name).copied() {
                Some(frame) => Some(frame),
                None => {
                    return Err(self.env.problem(
                        path.key("to_tab").key("frame"),
                        format!("the frame \"{name}\" is not open (yet)"),
                    ))
                }
            },
        };
        Ok(Target::Tab(id, frame))
    }

    async fn send_message(&self, send: &SendMessage, path: JsonPath) -> Result<(), ListenerError> {
        let target = self.target(
            send.to.as_deref(),
            send.to_id.as_deref(),
            send.to_tab.as_ref(),
            &path,
        )?;
        let message = self.value(&send.message);
        if send.callback {
            return self.send_with_callback(send, target, &message);
        }
        let answer = match (&self.actor, target) {
            (Actor::Extension(rt), Target::Own) => rt.send_message(&message).await,
            (Actor::Extension(rt), Target::Extension(id)) => {
                rt.send_message_to(&id, &message).await
            }
            (Actor::Extension(rt), Target::Tab(tab, frame)) => {
                rt.send_message_to_tab(tab, frame, &message).await
            }
            (Actor::Page(page), Target::Own) => page.send_message(None, &message).await,
            (Actor::Page(page), Target::Extension(id)) => {
                page.send_message(Some(&id), &message).await
            }
            _ => Err(SendMessageError::NoReceiver),
        };
        let result = match answer {
            Ok(Some(value)) => Ok(OutcomeValue::Value(value)),
            Ok(None) => Ok(OutcomeValue::Undefined),
            Err(e) => Err(e.to_string()),
        };
        self.settle(send.label.as_deref(), result)
    }

    fn send_with_callback(
        &self,
        send: &SendMessage,
        target: Target,
        message: &Value,
    ) -> Result<(), ListenerError> {
        let id = match &target {
            Target::Extension(id) => Some(id.as_str()),
            _ => None,
        };
        let frame = self.clone();
        let label = send.label.clone();
        let reads = send.reads_last_error;
        let callback = move |response: Option<Value>| {
            let error = if reads {
                match &frame.actor {
                    Actor::Extension(rt) => rt.last_error(),
                    Actor::Page(page) => page.last_error(),
                    Actor::App => None,
                }
            } else {
                None
            };
            if let Some(label) = &label {
                let outcome = match (error, response) {
                    (Some(error), _) => OutcomeValue::Error(error.message),
                    (None, Some(value)) => OutcomeValue::Value(value),
                    (None, None) => OutcomeValue::Undefined,
                };
                frame.outcome(label, outcome);
            }
        };
        let sent = match &self.actor {
            Actor::Extension(rt) => rt.send_message_callback(id, message, callback),
            Actor::Page(page) => page.send_message_callback(id, message, callback),
            Actor::App => Ok(()),
        };
        // A call that is made records its outcome when the callback runs; one that throws at
        // once is settled now.
        match sent {
            Ok(()) => Ok(()),
            Err(e) => self.settle(send.label.as_deref(), Err(e.to_string())),
        }
    }

    fn connect(&self, connect: &Connect, path: JsonPath) -> Result<(), ListenerError> {
        let target = self.target(
            connect.to.as_deref(),
            connect.to_id.as_deref(),
            connect.to_tab.as_ref(),
            &path,
        )?;
        let name = &connect.name;
        let port = match (&self.actor, target) {
            (Actor::Extension(rt), Target::Own) => rt.connect(name),
            (Actor::Extension(rt), Target::Extension(id)) => rt.connect_to(&id, name),
            (Actor::Extension(rt), Target::Tab(tab, frame)) => rt.connect_to_tab(tab, frame, name),
            (Actor::Page(page), Target::Own) => page.connect(None, name),
            (Actor::Page(page), Target::Extension(id)) => page.connect(Some(&id), name),
            _ => return Ok(()),
        };
        match port {
            Ok(port) => {
                if let Some(label) = &connect.label {
                    lock(&self.ports).insert(label.clone(), port);
                }
                Ok(())
            }
            Err(e) => self.settle(connect.label.as_deref(), Err(e.to_string())),
        }
    }

    /// The same context, outside any listener (for code that runs later on its own).
    fn detached(&self) -> Frame {
        Frame {
            message: None,
            ..self.clone()
        }
    }

    /// `runtime.lastError` in this context.
    fn last_error(&self) -> Option<String> {
        let error = match &self.actor {
            Actor::Extension(rt) => rt.last_error(),
            Actor::Page(page) => page.last_error(),
            Actor::App => None,
        };
        error.map(|e| e.message)
    }

    fn listen(&self, listen: &Listen, path: JsonPath) -> Result<(), ListenerError> {
        let body = Code::new(listen.body.clone(), path.key("do"));
        let returns = listen.returns;
        let base = self.detached();
        match listen.event.as_str() {
            "port.onMessage" => {
                let port = self.port(listen.port.as_deref(), &path)?;
                port.on_message()
                    .add_listener(move |(message, port): (Value, Port)| {
                        let frame = Frame {
                            arg: message,
                            port: Some(port),
                            ..base.clone()
                        };
                        frame.call(&body, returns)
                    });
            }
            "port.onDisconnect" => {
                let port = self.port(listen.port.as_deref(), &path)?;
                let label = listen.port.clone();
                let reads = listen.reads_last_error;
                port.on_disconnect().add_listener(move |port: Port| {
                    let error = if reads { base.last_error() } else { None };
                    if let Some(label) = &label {
                        base.outcome(label, OutcomeValue::Disconnected(error));
                    }
                    let frame = Frame {
                        arg: Value::Null,
                        port: Some(port),
                        ..base.clone()
                    };
                    frame.call(&body, returns)
                });
            }
            event => {
                if let Some(rt) = self.runtime() {
                    self.listen_in_extension(rt, event, body, returns, base);
                }
            }
        }
        Ok(())
    }

    fn listen_in_extension(
        &self,
        rt: &Runtime,
        event: &str,
        body: Code,
        returns: Returns,
        base: Frame,
    ) {
        let with_arg = move |arg: Value| Frame {
            arg,
            ..base.clone()
        };
        match event {
            "runtime.onInstalled" => {
                rt.on_installed()
                    .add_listener(move |details| with_arg(json(&details)).call(&body, returns));
            }
            "runtime.onStartup"
            | "runtime.onSuspend"
            | "runtime.onSuspendCanceled"
            | "runtime.onBrowserUpdateAvailable" => {
                let target = match event {
                    "runtime.onStartup" => rt.on_startup(),
                    "runtime.onSuspend" => rt.on_suspend(),
                    "runtime.onSuspendCanceled" => rt.on_suspend_canceled(),
                    _ => rt.on_browser_update_available(),
                };
                target.add_listener(move |()| with_arg(Value::Null).call(&body, returns));
            }
            "runtime.onUpdateAvailable" => {
                // Its argument is the new version's manifest.
                rt.on_update_available()
                    .add_listener(move |manifest: Value| with_arg(manifest).call(&body, returns));
            }
            "runtime.onRestartRequired" => {
                rt.on_restart_required()
                    .add_listener(move |reason: OnRestartRequiredReason| {
                        with_arg(Value::from(reason.as_str())).call(&body, returns)
                    });
            }
            "runtime.onMessage" | "runtime.onMessageExternal" => {
                let target = if event == "runtime.onMessage" {
                    rt.on_message()
                } else {
                    rt.on_message_external()
                };
                let prepare = move |m: &OnMessage| Frame {
                    sender: json(&m.sender),
                    message: Some(m.clone()),
                    ..with_arg(m.message.clone())
                };
                let resolves = body.actions.iter().any(|a| matches!(a, Action::Resolve(_)));
                if returns == Returns::Promise && resolves {
                    // Chrome 144+: what the promise resolves to is the answer.
                    target.add_promise_listener(move |m: OnMessage| {
                        let run = prepare(&m).run(body.clone());
                        async move {
                            match run.await? {
                                Flow::Resolved(value) => Ok::<Value, ListenerError>(value),
                                Flow::Done => Ok(Value::Null),
                            }
                        }
                    });
                } else {
                    target.add_listener(move |m: OnMessage| prepare(&m).call(&body, returns));
                }
            }
            "runtime.onConnect" | "runtime.onConnectExternal" | "runtime.onConnectNative" => {
                let target = match event {
                    "runtime.onConnect" => rt.on_connect(),
                    "runtime.onConnectExternal" => rt.on_connect_external(),
                    _ => rt.on_connect_native(),
                };
                target.add_listener(move |port: Port| {
                    let frame = Frame {
                        sender: port.sender().map_or(Value::Null, json),
                        port: Some(port.clone()),
                        ..with_arg(Value::String(port.name().to_owned()))
                    };
                    frame.call(&body, returns)
                });
            }
            other => {
                rt.event(other)
                    .add_listener(move |args: Value| with_arg(args).call(&body, returns));
            }
        }
    }

    /// Calls a listener's body as the listener function: a plain function runs to its first
    /// wait and leaves the rest as detached work; an async one hands its promise to the
    /// browser.
    fn call(self, body: &Code, returns: Returns) -> ListenerOutcome {
        let mut run = self.clone().run(body.clone());
        if returns == Returns::Promise {
            return ListenerOutcome::Pending(Box::pin(async move { run.await.map(drop) }));
        }
        match poll_once(&mut run) {
            Poll::Ready(Ok(_)) => {}
            Poll::Ready(Err(error)) => return ListenerOutcome::Failed(error),
            Poll::Pending => self.detach(run),
        }
        if returns == Returns::True {
            ListenerOutcome::True
        } else {
            ListenerOutcome::Done
        }
    }
}

/// Where a message or a connection goes.
enum Target {
    /// The sender's own extension.
    Own,
    /// An extension, by id.
    Extension(String),
    /// The own content scripts in a tab (a frame of it, or all).
    Tab(TabId, Option<FrameId>),
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Polls a future once, with a waker that does nothing: the code runs up to its first wait.
/// Whoever runs the rest polls it again with a real waker first.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let mut cx = TaskContext::from_waker(futures::task::noop_waker_ref());
    Pin::new(future).poll(&mut cx)
}
