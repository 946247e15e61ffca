//! The checks a scenario passes before it runs: every name it uses is declared, every action
//! is one its context can do, every argument has the right form. Each failure names the JSON
//! path of the offending value.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::action::{Action, Listen, Parameter, Returns, SendMessage, TabTarget};
use super::duration::{Dur, BEYOND, MAX_DURATION};
use super::error::ScenarioError;
use super::expect::{Expectation, Window};
use super::format::{BackgroundCode, ManifestSource, Scenario};
use super::ids::{names_in, names_in_value, PathPart};
use super::position::JsonPath;
use super::scripts;
use super::step::{PublishUpdate, Step};

type Checked = Result<(), ScenarioError>;

/// The events of `runtime` a listener may be added to.
pub const RUNTIME_EVENTS: &[&str] = &[
    "runtime.onInstalled",
    "runtime.onStartup",
    "runtime.onSuspend",
    "runtime.onSuspendCanceled",
    "runtime.onMessage",
    "runtime.onMessageExternal",
    "runtime.onConnect",
    "runtime.onConnectExternal",
    "runtime.onConnectNative",
    "runtime.onUpdateAvailable",
    "runtime.onBrowserUpdateAvailable",
    "runtime.onRestartRequired",
];

/// A long span as days: `365001 days`, `365000 days 12h`.
fn in_days(span: std::time::Duration) -> String {
    const DAY: u64 = 86_400;
    let days = span.as_secs() / DAY;
    let rest = span - std::time::Duration::from_secs(days * DAY);
    if rest.is_zero() {
        format!("{days} days")
    } else {
        format!("{days} days {}", Dur(rest))
    }
}

/// Where code runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Place {
    Background,
    View,
    ContentScript,
    WebPage,
    NativeApp,
}

impl Place {
    fn name(self) -> &'static str {
        match self {
            Place::Background => "a background page",
            Place::View => "an extension view",
            Place::ContentScript => "a content script",
            Place::WebPage => "a web page",
            Place::NativeApp => "a native application",
        }
    }

    fn is_extension(self) -> bool {
        matches!(self, Place::Background | Place::View | Place::ContentScript)
    }
}

/// What kind of event a listener is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EventKind {
    Message,
    Connect,
    PortMessage,
    PortDisconnect,
    Other,
}

fn event_kind(event: &str) -> EventKind {
    match event {
        "runtime.onMessage" | "runtime.onMessageExternal" => EventKind::Message,
        "runtime.onConnect" | "runtime.onConnectExternal" | "runtime.onConnectNative" => {
            EventKind::Connect
        }
        "port.onMessage" => EventKind::PortMessage,
        "port.onDisconnect" => EventKind::PortDisconnect,
        _ => EventKind::Other,
    }
}

/// The code being checked: where it runs and what it has at hand.
#[derive(Clone)]
struct Scope {
    place: Place,
    /// The listener it is the body of, if any.
    listener: Option<(EventKind, Returns)>,
    /// A port is at hand (the listener's, or a native application's own).
    has_port: bool,
}

/// Checks a scenario. `dir` is the folder of the scenario file.
pub(crate) struct Checker<'a> {
    file: &'a Path,
    text: &'a str,
    scenario: &'a Scenario,
    /// Every tab and frame name an `open_tab` / `open_frame` step gives.
    tabs: BTreeSet<String>,
    frames: BTreeSet<String>,
    /// Every name an action records an outcome under.
    labels: BTreeSet<String>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(file: &'a Path, text: &'a str, scenario: &'a Scenario) -> Self {
        let mut tabs = BTreeSet::new();
        let mut frames = BTreeSet::new();
        for step in &scenario.timeline {
            match step {
                Step::OpenTab(open) => {
                    tabs.insert(open.label.clone());
                }
                Step::OpenFrame(open) => {
                    frames.insert(open.label.clone());
                }
                _ => {}
            }
        }
        let mut labels = BTreeSet::new();
        for extension in scenario.extensions.values() {
            if let Some(BackgroundCode::TopLevel(actions)) = &extension.background {
                collect_labels(actions, &mut labels);
            }
        }
        for step in &scenario.timeline {
            if let Some(actions) = step_actions(step) {
                collect_labels(actions, &mut labels);
            }
            if let Step::PublishUpdate(publish) = step {
                if let Some(BackgroundCode::TopLevel(actions)) = &publish.background {
                    collect_labels(actions, &mut labels);
                }
            }
        }
        Checker {
            file,
            text,
            scenario,
            tabs,
            frames,
            labels,
        }
    }

    fn error(&self, path: JsonPath, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.file, self.text, path, message)
    }

    /// Runs every check.
    pub(crate) fn check(&self) -> Checked {
        let root = JsonPath::root();
        self.check_extensions(&root.key("extensions"))?;
        self.check_hosts(&root.key("native_hosts"))?;
        self.check_timeline(&root.key("timeline"))?;
        self.check_expectations(&root.key("expect"))
    }

    fn extension(&self, name: &str, path: JsonPath) -> Checked {
        if self.scenario.extensions.contains_key(name) {
            return Ok(());
        }
        Err(self.error(
            path,
            format!(
                "unknown extension \"{name}\"; expected one of the extensions the file declares: {}",
                quoted(self.scenario.extensions.keys())
            ),
        ))
    }

    /// Checks that every `${id:NAME}` in a value names an extension.
    fn tokens(&self, value: &Value, path: &JsonPath) -> Checked {
        for (parts, name) in names_in_value(value) {
            let mut at = path.clone();
            for part in parts {
                at = match part {
                    PathPart::Key(key) => at.key(&key),
                    PathPart::Index(index) => at.index(index),
                };
            }
            self.token(&name, at)?;
        }
        Ok(())
    }

    fn token(&self, name: &str, path: JsonPath) -> Checked {
        if self.scenario.extensions.contains_key(name) {
            return Ok(());
        }
        Err(self.error(
            path,
            format!(
                "${{id:{name}}} names no extension; expected one of the extensions the file declares: {}",
                quoted(self.scenario.extensions.keys())
            ),
        ))
    }

    fn check_extensions(&self, path: &JsonPath) -> Checked {
        for (name, extension) in &self.scenario.extensions {
            let at = path.key(name);
            if let ManifestSource::Inline(manifest) = &extension.manifest {
                self.tokens(&Value::Object(manifest.clone()), &at.key("manifest"))?;
            }
            if let Some(code) = &extension.background {
                self.background(code, &at.key("background"))?;
            }
        }
        Ok(())
    }

    /// Checks an extension's background code; `at` is where it is declared.
    fn background(&self, code: &BackgroundCode, at: &JsonPath) -> Checked {
        match code {
            BackgroundCode::Rust(script) if scripts::named(script).is_none() => Err(self.error(
                at.key("rust"),
                format!(
                    "unknown Rust script \"{script}\"; expected one of: {}",
                    quoted(scripts::NAMES.iter())
                ),
            )),
            BackgroundCode::Rust(_) => Ok(()),
            BackgroundCode::TopLevel(actions) => {
                let mut ports = BTreeSet::new();
                collect_ports(actions, &mut ports);
                let scope = Scope {
                    place: Place::Background,
                    listener: None,
                    has_port: false,
                };
                self.actions(actions, &scope, &ports, &at.key("top_level"))
            }
        }
    }

    /// Checks a `publish_update` step: a packed extension of the file, and a new version
    /// declared as an extension is.
    fn publish_update(&self, publish: &PublishUpdate, at: &JsonPath) -> Checked {
        self.extension(&publish.extension, at.key("extension"))?;
        let location = self.scenario.extensions[&publish.extension].location;
        if !matches!(location, crate::Location::Packed) {
            return Err(self.error(
                at.key("extension"),
                format!(
                    "\"{}\" is installed {}: the browser updates only packed extensions (an unpacked one is updated by reloading it); give it \"location\": \"packed\"",
                    publish.extension,
                    location.as_str()
                ),
            ));
        }
        if let ManifestSource::Inline(manifest) = &publish.manifest {
            self.tokens(&Value::Object(manifest.clone()), &at.key("manifest"))?;
        }
        if let Some(code) = &publish.background {
            self.background(code, &at.key("background"))?;
        }
        Ok(())
    }

    fn check_hosts(&self, path: &JsonPath) -> Checked {
        for (name, host) in &self.scenario.native_hosts {
            let at = path.key(name);
            if !is_host_name(name) {
                return Err(self.error(
                    at,
                    format!("\"{name}\" cannot name a native host: a host's name is words of letters, digits and _ joined by dots, e.g. com.example.host (a lookup of any other name fails with the browser's own error; it needs no declaration)"),
                ));
            }
            match (&host.builtin, &host.shell) {
                (Some(_), None) | (None, Some(_)) => {}
                _ => {
                    return Err(self.error(
                        at,
                        "a native host needs exactly one of \"builtin\" (a host of the runtime-sim command) or \"shell\" (a /bin/sh script)",
                    ))
                }
            }
            for (i, allowed) in host.allowed.iter().flatten().enumerate() {
                self.extension(allowed, at.key("allowed").index(i))?;
            }
        }
        Ok(())
    }

    fn check_timeline(&self, path: &JsonPath) -> Checked {
        // What earlier steps have opened, by name.
        let mut views = BTreeSet::new();
        let mut tabs = BTreeSet::new();
        let mut frames: BTreeMap<String, String> = BTreeMap::new();
        let mut keepalives = BTreeSet::new();
        let mut apps = BTreeSet::new();
        // The ports each step context has opened, by context.
        let mut ports: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        // Virtual time at least elapsed by the `advance` and `advance_to` steps so far.
        let mut elapsed = std::time::Duration::ZERO;
        for (i, step) in self.scenario.timeline.iter().enumerate() {
            let at = path.index(i);
            match step {
                Step::Advance(span) => {
                    elapsed = elapsed.saturating_add(span.0);
                    if elapsed > MAX_DURATION {
                        return Err(self.error(
                            at.key("advance"),
                            format!(
                                "the timeline's steps reach {} after the start here, too late: {BEYOND}",
                                in_days(elapsed)
                            ),
                        ));
                    }
                }
                Step::AdvanceTo(instant) => elapsed = elapsed.max(instant.0),
                Step::Start | Step::Stop | Step::Restart | Step::RunUntilIdle | Step::Say(_) => {}
                Step::Install(name) => self.extension(name, at.key("install"))?,
                Step::PublishUpdate(publish) => {
                    self.publish_update(publish, &at.key("publish_update"))?
                }
                Step::StageBrowserUpdate(version) => {
                    if !is_browser_version(version) {
                        return Err(self.error(
                            at.key("stage_browser_update"),
                            format!("\"{version}\" is not a browser version; expected 1 to 4 numbers joined by dots, e.g. \"157.0.7000.1\""),
                        ));
                    }
                }
                Step::ReloadExtension(name) => self.extension(name, at.key("reload_extension"))?,
                Step::RequireRestart(_) => {}
                Step::Uninstall(name) => self.extension(name, at.key("uninstall"))?,
                Step::FireEvent(fire) => {
                    let at = at.key("fire_event");
                    self.extension(&fire.extension, at.key("extension"))?;
                    if fire.event.starts_with("runtime.") {
                        return Err(self.error(
                            at.key("event"),
                            format!("{} is an event of runtime: the browser fires it itself; fire_event fires events of other APIs, e.g. alarms.onAlarm", fire.event),
                        ));
                    }
                    self.tokens(&fire.args, &at.key("args"))?;
                }
                Step::OpenView(open) => {
                    self.extension(&open.extension, at.key("open_view").key("extension"))?;
                    views.insert(open.label.clone());
                }
                Step::CloseView(view) => known(
                    self,
                    &views,
                    view,
                    "view",
                    "open_view",
                    at.key("close_view"),
                )?,
                Step::OpenTab(open) => {
                    tabs.insert(open.label.clone());
                }
                Step::OpenFrame(open) => {
                    let at = at.key("open_frame");
                    known(self, &tabs, &open.tab, "tab", "open_tab", at.key("tab"))?;
                    if let Some(parent) = &open.parent {
                        self.frame_of(&frames, &open.tab, parent, at.key("parent"))?;
                    }
                    if open.label == "top" {
                        return Err(self.error(
                            at.key("as"),
                            "\"top\" is the name of every tab's top frame; give the frame another name",
                        ));
                    }
                    frames.insert(open.label.clone(), open.tab.clone());
                }
                Step::Navigate(navigate) => known(
                    self,
                    &tabs,
                    &navigate.tab,
                    "tab",
                    "open_tab",
                    at.key("navigate").key("tab"),
                )?,
                Step::CloseTab(tab) => {
                    known(self, &tabs, tab, "tab", "open_tab", at.key("close_tab"))?
                }
                Step::InjectContentScript(target) => {
                    let at = at.key("inject_content_script");
                    self.extension(&target.extension, at.key("extension"))?;
                    known(self, &tabs, &target.tab, "tab", "open_tab", at.key("tab"))?;
                    if let Some(frame) = &target.frame {
                        self.frame_of(&frames, &target.tab, frame, at.key("frame"))?;
                    }
                }
                Step::SetTlsChannelId(set) => known(
                    self,
                    &tabs,
                    &set.tab,
                    "tab",
                    "open_tab",
                    at.key("set_tls_channel_id").key("tab"),
                )?,
                Step::Keepalive(keep) => {
                    self.extension(&keep.extension, at.key("keepalive").key("extension"))?;
                    keepalives.insert(keep.label.clone());
                }
                Step::Release(label) => known(
                    self,
                    &keepalives,
                    label,
                    "keepalive",
                    "keepalive",
                    at.key("release"),
                )?,
                Step::ConnectNativeApp(app) => {
                    let at = at.key("connect_native_app");
                    self.extension(&app.extension, at.key("extension"))?;
                    apps.insert(app.label.clone());
                    let scope = Scope {
                        place: Place::NativeApp,
                        listener: None,
                        has_port: true,
                    };
                    let known = ports.entry(format!("app:{}", app.label)).or_default();
                    collect_ports(&app.actions, known);
                    self.actions(&app.actions, &scope, known, &at.key("do"))?;
                }
                Step::InView(step) => {
                    let at = at.key("in_view");
                    known(
                        self,
                        &views,
                        &step.view,
                        "view",
                        "open_view",
                        at.key("view"),
                    )?;
                    let scope = Scope {
                        place: Place::View,
                        listener: None,
                        has_port: false,
                    };
                    let known = ports.entry(format!("view:{}", step.view)).or_default();
                    collect_ports(&step.actions, known);
                    self.actions(&step.actions, &scope, known, &at.key("do"))?;
                }
                Step::InContentScript(step) => {
                    let at = at.key("in_content_script");
                    self.extension(&step.extension, at.key("extension"))?;
                    known(self, &tabs, &step.tab, "tab", "open_tab", at.key("tab"))?;
                    if let Some(frame) = &step.frame {
                        self.frame_of(&frames, &step.tab, frame, at.key("frame"))?;
                    }
                    let scope = Scope {
                        place: Place::ContentScript,
                        listener: None,
                        has_port: false,
                    };
                    let context = format!(
                        "cs:{}:{}:{}",
                        step.extension,
                        step.tab,
                        step.frame.as_deref().unwrap_or("top")
                    );
                    let known = ports.entry(context).or_default();
                    collect_ports(&step.actions, known);
                    self.actions(&step.actions, &scope, known, &at.key("do"))?;
                }
                Step::InWebPage(step) => {
                    let at = at.key("in_web_page");
                    known(self, &tabs, &step.tab, "tab", "open_tab", at.key("tab"))?;
                    if let Some(frame) = &step.frame {
                        self.frame_of(&frames, &step.tab, frame, at.key("frame"))?;
                    }
                    let scope = Scope {
                        place: Place::WebPage,
                        listener: None,
                        has_port: false,
                    };
                    let context = format!(
                        "page:{}:{}",
                        step.tab,
                        step.frame.as_deref().unwrap_or("top")
                    );
                    let known = ports.entry(context).or_default();
                    collect_ports(&step.actions, known);
                    self.actions(&step.actions, &scope, known, &at.key("do"))?;
                }
                Step::InNativeApp(step) => {
                    let at = at.key("in_native_app");
                    known(
                        self,
                        &apps,
                        &step.app,
                        "native application",
                        "connect_native_app",
                        at.key("app"),
                    )?;
                    let scope = Scope {
                        place: Place::NativeApp,
                        listener: None,
                        has_port: true,
                    };
                    let known = ports.entry(format!("app:{}", step.app)).or_default();
                    collect_ports(&step.actions, known);
                    self.actions(&step.actions, &scope, known, &at.key("do"))?;
                }
            }
        }
        Ok(())
    }

    /// Checks that `frame` is `top` or a frame opened in `tab`.
    fn frame_of(
        &self,
        frames: &BTreeMap<String, String>,
        tab: &str,
        frame: &str,
        path: JsonPath,
    ) -> Checked {
        if frame == "top" || frames.get(frame).map(String::as_str) == Some(tab) {
            return Ok(());
        }
        let mut in_tab: Vec<&String> = frames
            .iter()
            .filter(|(_, t)| t.as_str() == tab)
            .map(|(f, _)| f)
            .collect();
        let top = "top".to_owned();
        in_tab.insert(0, &top);
        Err(self.error(
            path,
            format!(
                "unknown frame \"{frame}\" of tab \"{tab}\"; expected \"top\" or a frame an earlier open_frame step opened in it: {}",
                quoted(in_tab.into_iter())
            ),
        ))
    }

    fn actions(
        &self,
        actions: &[Action],
        scope: &Scope,
        ports: &BTreeSet<String>,
        path: &JsonPath,
    ) -> Checked {
        for (i, action) in actions.iter().enumerate() {
            let at = path.index(i);
            let ends = matches!(
                action,
                Action::Resolve(_) | Action::Fail(_) | Action::FailWithoutError(_)
            );
            if ends && i + 1 < actions.len() {
                return Err(self.error(
                    path.index(i + 1),
                    format!(
                        "unreachable: the {} before it ends the code; remove it or move it earlier",
                        action_name(action)
                    ),
                ));
            }
            self.action(action, scope, ports, at)?;
        }
        Ok(())
    }

    fn refuse(&self, action: &Action, scope: &Scope, path: JsonPath) -> ScenarioError {
        let allowed = match scope.place {
            Place::WebPage => "send_message, connect, post, disconnect and listen (to its ports)",
            Place::NativeApp => "post, disconnect and listen (to its port)",
            _ => "actions of extension code",
        };
        self.error(
            path,
            format!(
                "{} cannot {}; it may only use {allowed}",
                capitalised(scope.place.name()),
                action_name(action)
            ),
        )
    }

    fn action(
        &self,
        action: &Action,
        scope: &Scope,
        ports: &BTreeSet<String>,
        path: JsonPath,
    ) -> Checked {
        let limited = matches!(scope.place, Place::WebPage | Place::NativeApp);
        let key = action_name(action);
        let at = path.key(key);
        match action {
            Action::Listen(listen) => self.listen(listen, scope, ports, at),
            Action::Respond(value) => {
                if scope.listener.map(|(kind, _)| kind) != Some(EventKind::Message) {
                    return Err(self.error(
                        at,
                        "respond is sendResponse: it can only be used in a listener of runtime.onMessage or runtime.onMessageExternal",
                    ));
                }
                self.tokens(value, &at)
            }
            Action::Resolve(value) => {
                if scope.listener.map(|(_, returns)| returns) != Some(Returns::Promise) {
                    return Err(self.error(
                        at,
                        "resolve ends an async listener: it can only be used in a listener with \"returns\": \"promise\"",
                    ));
                }
                self.tokens(value, &at)
            }
            Action::Fail(_) | Action::FailWithoutError(_) => Ok(()),
            Action::Wait(_) | Action::Timer(_) if limited => Err(self.refuse(action, scope, path)),
            Action::Wait(_) => Ok(()),
            Action::Timer(timer) => {
                let inner = Scope {
                    listener: None,
                    ..scope.clone()
                };
                self.actions(&timer.body, &inner, ports, &at.key("do"))
            }
            Action::Store(_)
            | Action::Call(_)
            | Action::ConnectNative(_)
            | Action::SendNativeMessage(_)
                if limited =>
            {
                Err(self.refuse(action, scope, path))
            }
            Action::Store(values) => {
                for (key, value) in values {
                    self.tokens(value, &at.key(key))?;
                }
                Ok(())
            }
            Action::Call(call) => {
                let parameters = call.api.parameters();
                if call.args.len() != parameters.len() {
                    return Err(self.error(
                        at.key("args"),
                        format!(
                            "{}() takes {}; found {} argument{}",
                            call.api.name(),
                            describe_parameters(parameters),
                            call.args.len(),
                            if call.args.len() == 1 { "" } else { "s" }
                        ),
                    ));
                }
                for (i, (arg, parameter)) in call.args.iter().zip(parameters).enumerate() {
                    if !parameter.kind.accepts(arg) {
                        return Err(self.error(
                            at.key("args").index(i),
                            format!(
                                "{}(): `{}` must be {}; found {arg}",
                                call.api.name(),
                                parameter.name,
                                parameter.kind.describe()
                            ),
                        ));
                    }
                    self.tokens(arg, &at.key("args").index(i))?;
                }
                if call.callback && !call.api.has_callback_form() {
                    return Err(self.error(
                        at.key("callback"),
                        format!(
                            "{}() is simulated in the promise form only (the callback form is simulated for runtime.requestUpdateCheck); remove \"callback\"",
                            call.api.name()
                        ),
                    ));
                }
                Ok(())
            }
            Action::SendMessage(send) => {
                if scope.place == Place::NativeApp {
                    return Err(self.refuse(action, scope, path));
                }
                self.send_message(send, scope, &at)
            }
            Action::Connect(connect) => {
                if scope.place == Place::NativeApp {
                    return Err(self.refuse(action, scope, path));
                }
                self.target(
                    connect.to.as_deref(),
                    connect.to_id.as_deref(),
                    connect.to_tab.as_ref(),
                    scope,
                    &at,
                )
            }
            Action::Post(post) => {
                if post.label.is_some() && scope.place == Place::NativeApp {
                    return Err(self.error(
                        at.key("as"),
                        "a native application's actions record no outcomes; check the trace with an \"entry\" expectation instead",
                    ));
                }
                self.port(post.port.as_deref(), scope, ports, &at)?;
                self.tokens(&post.message, &at.key("message"))
            }
            Action::Disconnect(disconnect) => {
                self.port(disconnect.port.as_deref(), scope, ports, &at)
            }
            Action::ConnectNative(_) => Ok(()),
            Action::SendNativeMessage(send) => self.tokens(&send.message, &at.key("message")),
        }
    }

    fn send_message(&self, send: &SendMessage, scope: &Scope, at: &JsonPath) -> Checked {
        self.target(
            send.to.as_deref(),
            send.to_id.as_deref(),
            send.to_tab.as_ref(),
            scope,
            at,
        )?;
        if send.callback && send.to_tab.is_some() {
            return Err(self.error(
                at.key("callback"),
                "tabs.sendMessage is simulated in the promise form only; remove \"callback\"",
            ));
        }
        if !send.reads_last_error && !send.callback {
            return Err(self.error(
                at.key("reads_last_error"),
                "reads_last_error is about the callback form: add \"callback\": true",
            ));
        }
        self.tokens(&send.message, &at.key("message"))
    }

    /// Checks the target of a message or a connection.
    fn target(
        &self,
        to: Option<&str>,
        to_id: Option<&str>,
        to_tab: Option<&TabTarget>,
        scope: &Scope,
        at: &JsonPath,
    ) -> Checked {
        let given = [to.is_some(), to_id.is_some(), to_tab.is_some()];
        if given.iter().filter(|g| **g).count() > 1 {
            return Err(self.error(
                at.clone(),
                "give at most one of \"to\" (an extension of the file), \"to_id\" (a raw id) and \"to_tab\" (a tab)",
            ));
        }
        if let Some(to) = to {
            self.extension(to, at.key("to"))?;
        }
        if let Some(to_id) = to_id {
            for name in names_in(to_id) {
                self.token(name, at.key("to_id"))?;
            }
        }
        if let Some(tab) = to_tab {
            if !scope.place.is_extension() || scope.place == Place::ContentScript {
                return Err(self.error(
                    at.key("to_tab"),
                    format!(
                        "{} has no tabs API: to_tab (tabs.sendMessage, tabs.connect) is for a background page or an extension view",
                        capitalised(scope.place.name())
                    ),
                ));
            }
            if !self.tabs.contains(&tab.tab) {
                return Err(self.error(
                    at.key("to_tab").key("tab"),
                    format!(
                        "unknown tab \"{}\"; expected a tab an open_tab step opens: {}",
                        tab.tab,
                        quoted(self.tabs.iter())
                    ),
                ));
            }
            if let Some(frame) = &tab.frame {
                if frame != "top" && !self.frames.contains(frame) {
                    return Err(self.error(
                        at.key("to_tab").key("frame"),
                        format!(
                            "unknown frame \"{frame}\"; expected \"top\" or a frame an open_frame step opens"
                        ),
                    ));
                }
            }
        } else if to.is_none() && to_id.is_none() && scope.place == Place::NativeApp {
            return Err(self.error(
                at.clone(),
                "a native application has no extension of its own",
            ));
        }
        Ok(())
    }

    /// Checks that a port is at hand: a named one this code opens, or the listener's.
    fn port(
        &self,
        port: Option<&str>,
        scope: &Scope,
        ports: &BTreeSet<String>,
        at: &JsonPath,
    ) -> Checked {
        match port {
            Some(name) if ports.contains(name) => Ok(()),
            Some(name) => Err(self.error(
                at.key("port"),
                format!(
                    "unknown port \"{name}\"; expected a port this code opens with connect or connect_native \"as\": {}",
                    quoted(ports.iter())
                ),
            )),
            None if scope.has_port => Ok(()),
            None => Err(self.error(
                at.clone(),
                "no port at hand: name one with \"port\", or use this in a listener of runtime.onConnect, port.onMessage or port.onDisconnect",
            )),
        }
    }

    fn listen(
        &self,
        listen: &Listen,
        scope: &Scope,
        ports: &BTreeSet<String>,
        at: JsonPath,
    ) -> Checked {
        let kind = event_kind(&listen.event);
        let event_path = at.key("event");
        if let Some(member) = listen.event.strip_prefix("runtime.") {
            if !RUNTIME_EVENTS.contains(&listen.event.as_str()) {
                return Err(self.error(
                    event_path,
                    format!(
                        "runtime has no event {member}; expected one of: {}",
                        quoted(RUNTIME_EVENTS.iter())
                    ),
                ));
            }
        } else if let Some(member) = listen.event.strip_prefix("port.") {
            if !matches!(kind, EventKind::PortMessage | EventKind::PortDisconnect) {
                return Err(self.error(
                    event_path,
                    format!("a port has no event {member}; expected port.onMessage or port.onDisconnect"),
                ));
            }
        } else if !listen.event.contains('.') {
            return Err(self.error(
                event_path,
                format!(
                    "\"{}\" is not an event name; expected API.event, e.g. runtime.onMessage or alarms.onAlarm",
                    listen.event
                ),
            ));
        }
        let port_event = matches!(kind, EventKind::PortMessage | EventKind::PortDisconnect);
        match scope.place {
            Place::WebPage | Place::NativeApp if !port_event => {
                return Err(self.error(
                    event_path,
                    format!(
                        "{} can only listen to its ports (port.onMessage, port.onDisconnect), not to {}",
                        capitalised(scope.place.name()),
                        listen.event
                    ),
                ))
            }
            Place::ContentScript
                if !port_event
                    && !matches!(
                        listen.event.as_str(),
                        "runtime.onMessage" | "runtime.onConnect"
                    ) =>
            {
                return Err(self.error(
                    event_path,
                    format!(
                        "a content script has no {}: it may listen only to runtime.onMessage, runtime.onConnect and its ports",
                        listen.event
                    ),
                ))
            }
            _ => {}
        }
        if port_event {
            self.port(listen.port.as_deref(), scope, ports, &at)?;
        } else if listen.port.is_some() {
            return Err(self.error(
                at.key("port"),
                format!(
                    "\"port\" is for port.onMessage and port.onDisconnect, not {}",
                    listen.event
                ),
            ));
        }
        let has_port = matches!(
            kind,
            EventKind::Connect | EventKind::PortMessage | EventKind::PortDisconnect
        ) || scope.has_port;
        let inner = Scope {
            place: scope.place,
            listener: Some((kind, listen.returns)),
            has_port,
        };
        self.actions(&listen.body, &inner, ports, &at.key("do"))
    }

    fn check_expectations(&self, path: &JsonPath) -> Checked {
        for (i, expectation) in self.scenario.expect.iter().enumerate() {
            let at = path.index(i);
            match expectation {
                Expectation::Event(e) => {
                    let at = at.key("event");
                    self.extension(&e.extension, at.key("extension"))?;
                    self.when(e.at.is_some(), e.within.as_ref(), &at)?;
                    if let Some(args) = &e.args {
                        self.tokens(args, &at.key("args"))?;
                    }
                }
                Expectation::Missed(e) => {
                    let at = at.key("missed");
                    self.extension(&e.extension, at.key("extension"))?;
                    self.when(e.at.is_some(), e.within.as_ref(), &at)?;
                }
                Expectation::Dispatches(e) => {
                    let at = at.key("dispatches");
                    self.extension(&e.extension, at.key("extension"))?;
                    self.when(false, e.within.as_ref(), &at)?;
                }
                Expectation::State(e) => {
                    let at = at.key("state");
                    self.extension(&e.extension, at.key("extension"))?;
                    if e.page.is_none()
                        && e.keepalive.is_none()
                        && e.loads.is_none()
                        && e.installed.is_none()
                        && e.version.is_none()
                        && e.pending_update.is_none()
                        && e.terminated.is_none()
                    {
                        return Err(self.error(
                            at,
                            "a state expectation needs at least one of \"page\", \"keepalive\", \"loads\", \"installed\", \"version\", \"pending_update\", \"terminated\"",
                        ));
                    }
                }
                Expectation::Storage(e) => {
                    let at = at.key("storage");
                    self.extension(&e.extension, at.key("extension"))?;
                    match (&e.equals, e.absent) {
                        (Some(value), false) => self.tokens(value, &at.key("equals"))?,
                        (None, true) => {}
                        _ => {
                            return Err(self.error(
                                at,
                                "a storage expectation needs exactly one of \"equals\" (the value stored) or \"absent\": true",
                            ))
                        }
                    }
                }
                Expectation::Outcome(e) => {
                    let at = at.key("outcome");
                    if !self.labels.contains(&e.of) {
                        return Err(self.error(
                            at.key("of"),
                            format!(
                                "no action records an outcome as \"{}\"; expected one of the names given with \"as\": {}",
                                e.of,
                                quoted(self.labels.iter())
                            ),
                        ));
                    }
                    self.when(e.at.is_some(), e.within.as_ref(), &at)?;
                    if let super::outcome::OutcomeValue::Value(value) = &e.is {
                        self.tokens(value, &at.key("is").key("value"))?;
                    }
                }
                Expectation::Entry(e) => {
                    let at = at.key("entry");
                    if let Some(extension) = &e.extension {
                        self.extension(extension, at.key("extension"))?;
                    }
                    self.when(e.at.is_some(), e.within.as_ref(), &at)?;
                    self.tokens(&Value::Object(e.fields.clone()), &at.key("fields"))?;
                }
            }
        }
        Ok(())
    }

    /// Checks `at` and `within` together.
    fn when(&self, at: bool, within: Option<&Window>, path: &JsonPath) -> Checked {
        if at && within.is_some() {
            return Err(self.error(
                path.key("within"),
                "give \"at\" (an exact time) or \"within\" (a window), not both",
            ));
        }
        if let Some(window) = within {
            if window.from > window.to {
                return Err(self.error(
                    path.key("within"),
                    format!(
                        "the window ends ({}) before it starts ({})",
                        window.to, window.from
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Checks that `name` was opened by an earlier step.
fn known(
    checker: &Checker<'_>,
    names: &BTreeSet<String>,
    name: &str,
    what: &str,
    opener: &str,
    path: JsonPath,
) -> Checked {
    if names.contains(name) {
        return Ok(());
    }
    Err(checker.error(
        path,
        format!(
            "unknown {what} \"{name}\"; expected a {what} an earlier {opener} step names with \"as\": {}",
            quoted(names.iter())
        ),
    ))
}

/// Whether `name` can be a host's name: `\w+(\.\w+)*` in ASCII (Firefox's rule; Chrome's
/// also refuses upper case). It is also the name of the host's manifest file.
fn is_host_name(name: &str) -> bool {
    name.split('.')
        .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Whether `version` is a version as Chromium writes its own: 1 to 4 numbers joined by dots.
fn is_browser_version(version: &str) -> bool {
    let parts: Vec<&str> = version.split('.').collect();
    parts.len() <= 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 9 && p.chars().all(|c| c.is_ascii_digit()))
}

/// The actions a step runs, if it runs any.
pub(crate) fn step_actions(step: &Step) -> Option<&[Action]> {
    match step {
        Step::ConnectNativeApp(app) => Some(&app.actions),
        Step::InView(step) => Some(&step.actions),
        Step::InContentScript(step) => Some(&step.actions),
        Step::InWebPage(step) => Some(&step.actions),
        Step::InNativeApp(step) => Some(&step.actions),
        _ => None,
    }
}

/// Every name actions record outcomes under (`as`), nested ones included.
fn collect_labels(actions: &[Action], labels: &mut BTreeSet<String>) {
    for action in actions {
        let label = match action {
            Action::Call(call) => call.label.as_ref(),
            Action::SendMessage(send) => send.label.as_ref(),
            Action::Connect(connect) => connect.label.as_ref(),
            Action::Post(post) => post.label.as_ref(),
            Action::ConnectNative(connect) => connect.label.as_ref(),
            Action::SendNativeMessage(send) => send.label.as_ref(),
            Action::Listen(listen) => {
                collect_labels(&listen.body, labels);
                None
            }
            Action::Timer(timer) => {
                collect_labels(&timer.body, labels);
                None
            }
            _ => None,
        };
        if let Some(label) = label {
            labels.insert(label.clone());
        }
    }
}

/// Every port name code opens (`connect` / `connect_native` with `as`), nested ones included.
fn collect_ports(actions: &[Action], ports: &mut BTreeSet<String>) {
    for action in actions {
        match action {
            Action::Connect(connect) => ports.extend(connect.label.clone()),
            Action::ConnectNative(connect) => ports.extend(connect.label.clone()),
            Action::Listen(listen) => collect_ports(&listen.body, ports),
            Action::Timer(timer) => collect_ports(&timer.body, ports),
            _ => {}
        }
    }
}

/// The action's key in the file.
pub(crate) fn action_name(action: &Action) -> &'static str {
    match action {
        Action::Listen(_) => "listen",
        Action::Respond(_) => "respond",
        Action::Resolve(_) => "resolve",
        Action::Fail(_) => "fail",
        Action::FailWithoutError(_) => "fail_without_error",
        Action::Wait(_) => "wait",
        Action::Timer(_) => "timer",
        Action::Store(_) => "store",
        Action::Call(_) => "call",
        Action::SendMessage(_) => "send_message",
        Action::Connect(_) => "connect",
        Action::Post(_) => "post",
        Action::Disconnect(_) => "disconnect",
        Action::ConnectNative(_) => "connect_native",
        Action::SendNativeMessage(_) => "send_native_message",
    }
}

fn describe_parameters(parameters: &[Parameter]) -> String {
    let each: Vec<String> = parameters
        .iter()
        .map(|p| format!("{}, {}", p.name, p.kind.describe()))
        .collect();
    match each.len() {
        0 => "no arguments".to_owned(),
        1 => format!("1 argument ({})", each[0]),
        n => format!("{n} arguments ({})", each.join("; ")),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `"a", "b"`, or `none` for no names.
pub(crate) fn quoted<'n, S: AsRef<str> + ?Sized + 'n>(
    names: impl Iterator<Item = &'n S>,
) -> String {
    let all: Vec<String> = names.map(|n| format!("\"{}\"", n.as_ref())).collect();
    if all.is_empty() {
        "none".to_owned()
    } else {
        all.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_told_apart_by_what_their_listeners_get() {
        assert_eq!(event_kind("runtime.onMessageExternal"), EventKind::Message);
        assert_eq!(event_kind("runtime.onConnectNative"), EventKind::Connect);
        assert_eq!(event_kind("port.onDisconnect"), EventKind::PortDisconnect);
        assert_eq!(event_kind("alarms.onAlarm"), EventKind::Other);
    }

    #[test]
    fn host_names_are_dotted_words() {
        assert!(is_host_name("com.example.ping_2"));
        assert!(is_host_name("Upper.Case"));
        assert!(!is_host_name("../escape"));
        assert!(!is_host_name("a..b"));
        assert!(!is_host_name(""));
    }

    #[test]
    fn browser_versions_are_dotted_numbers() {
        assert!(is_browser_version("157.0.7000.1"));
        assert!(is_browser_version("157"));
        assert!(!is_browser_version("157.0.0.0.1"));
        assert!(!is_browser_version("157..1"));
        assert!(!is_browser_version("v157"));
        assert!(!is_browser_version(""));
    }

    #[test]
    fn names_are_listed_quoted() {
        assert_eq!(quoted(["a", "b"].iter()), "\"a\", \"b\"");
        assert_eq!(quoted(Vec::<String>::new().iter()), "none");
    }
}
