//! Steps: the timeline of a scenario — what the user, the browser and the world do, in order.
//!
//! Steps that open something (a view, a tab, a frame, a keepalive, a native application's
//! connection) name it with `as`; later steps refer to it by that name.
//!
//! A new kind of step is a variant of [`Step`], carried out in `run.rs`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::action::Action;
use super::duration::Dur;
use super::format::{BackgroundCode, ManifestSource};
use crate::OnRestartRequiredReason;

/// One step of the timeline.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Starts the browser: extensions installed while it was stopped get `onInstalled`, the
    /// others `onStartup`.
    Start,
    /// Stops the browser: every page closes without `onSuspend`.
    Stop,
    /// Stops and starts the browser.
    Restart,
    /// Lets virtual time pass, running everything due.
    Advance(Dur),
    /// Lets virtual time pass until this instant (since the start of the simulation).
    AdvanceTo(Dur),
    /// Runs until nothing is scheduled (every event page unloaded, no timer pending).
    RunUntilIdle,
    /// A remark for the reader, shown in the timeline at this point.
    Say(String),
    /// Installs an extension of the scenario (one with `"installed": false`, or one
    /// uninstalled earlier).
    Install(String),
    /// Uninstalls an extension.
    Uninstall(String),
    /// Fires an event of another API (e.g. `alarms.onAlarm`) at an extension.
    FireEvent(FireEvent),
    /// Opens an extension view (the popup, the options page, a tab on an extension page).
    OpenView(OpenView),
    /// Closes a view, by name.
    CloseView(String),
    /// Opens a tab on a web page; matching content scripts start in it.
    OpenTab(OpenTab),
    /// Adds a frame (an iframe) to a tab.
    OpenFrame(OpenFrame),
    /// Navigates a tab's top frame to another page.
    Navigate(Navigate),
    /// Closes a tab, by name.
    CloseTab(String),
    /// Starts an extension's content script in a frame, whatever its manifest says (as
    /// `scripting.executeScript` would).
    InjectContentScript(InContext),
    /// Sets the TLS channel id a tab's pages send to receivers that accept one.
    SetTlsChannelId(SetTlsChannelId),
    /// Holds a keepalive on an extension's background page (as the browser's own features
    /// do), until `release`.
    Keepalive(KeepaliveStep),
    /// Releases a keepalive, by name.
    Release(String),
    /// A native application connects to an extension (`runtime.onConnectNative`, ChromeOS).
    ConnectNativeApp(ConnectNativeApp),
    /// Runs actions in an open view.
    InView(InView),
    /// Runs actions in an extension's content script in a tab.
    InContentScript(InContentScript),
    /// Runs actions in the web page of a tab: it may only `send_message`, `connect`, `post`,
    /// `disconnect` and listen to its ports.
    InWebPage(InWebPage),
    /// Runs actions as a native application on its connection: `post`, `disconnect`, and
    /// listening to the port.
    InNativeApp(InNativeApp),
    /// Publishes a new version of a packed extension on the update service. The browser finds
    /// it at its next update check (as it starts, periodically, or on
    /// `runtime.requestUpdateCheck()`), and installs it at once or, while the extension is in
    /// use, when it goes idle (`runtime.onUpdateAvailable` tells it).
    PublishUpdate(PublishUpdate),
    /// A browser update has been downloaded and needs a restart: extensions get
    /// `runtime.onBrowserUpdateAvailable` (in kiosk mode also
    /// `runtime.onRestartRequired("os_update")`), and the browser runs this version from its
    /// next start, where extensions that listen to `runtime.onInstalled` get `chrome_update`.
    StageBrowserUpdate(String),
    /// The user reloads an extension on the extensions page: a waiting update is installed;
    /// an unpacked extension is installed again, a packed one loaded again; a terminated one
    /// runs again. No fast-reload guard applies.
    ReloadExtension(String),
    /// In kiosk mode, ChromeOS tells every extension that the device must restart
    /// (`runtime.onRestartRequired`); it restarts after 24 h unless an app restarts it first.
    /// Outside kiosk mode nothing happens.
    RequireRestart(RestartReason),
}

/// A new version of an extension, published on the update service.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishUpdate {
    /// The extension (installed `packed`: the browser updates only those).
    pub extension: String,
    /// The new version's manifest, as an extension's (`version` newer than the installed
    /// one, or the browser never takes it).
    pub manifest: ManifestSource,
    /// The new version's background code, as an extension's; required exactly when the new
    /// manifest has a `background`.
    pub background: Option<BackgroundCode>,
    /// When it is published (since the start of the simulation); default: now.
    pub at: Option<Dur>,
}

/// Why a kiosk device must restart (`runtime.OnRestartRequiredReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RestartReason {
    /// The app was updated.
    AppUpdate,
    /// The browser or the OS was updated.
    OsUpdate,
    /// The device ran longer than the policy allows.
    Periodic,
}

impl RestartReason {
    /// The simulator's reason.
    pub fn reason(self) -> OnRestartRequiredReason {
        match self {
            RestartReason::AppUpdate => OnRestartRequiredReason::AppUpdate,
            RestartReason::OsUpdate => OnRestartRequiredReason::OsUpdate,
            RestartReason::Periodic => OnRestartRequiredReason::Periodic,
        }
    }
}

/// Fires an event of another API.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FireEvent {
    /// The extension.
    pub extension: String,
    /// The event, e.g. `alarms.onAlarm` (not an event of `runtime`: the browser fires those).
    pub event: String,
    /// Its argument (default `null`).
    #[serde(default)]
    pub args: Value,
}

/// Opens an extension view.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenView {
    /// The extension.
    pub extension: String,
    /// What kind of view.
    pub kind: crate::ViewKind,
    /// The page of the extension it shows (e.g. `popup.html`).
    pub path: String,
    /// The name later steps use for it.
    #[serde(rename = "as")]
    pub label: String,
}

/// Opens a tab.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTab {
    /// The page it shows.
    pub url: String,
    /// The name later steps use for it.
    #[serde(rename = "as")]
    pub label: String,
}

/// Adds a frame to a tab.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenFrame {
    /// The tab, by name.
    pub tab: String,
    /// The parent frame, by name (default `top`).
    pub parent: Option<String>,
    /// The page it shows.
    pub url: String,
    /// The name later steps use for it.
    #[serde(rename = "as")]
    pub label: String,
}

/// Navigates a tab.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Navigate {
    /// The tab, by name.
    pub tab: String,
    /// The new page.
    pub url: String,
}

/// An extension's content script in a frame of a tab.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InContext {
    /// The extension.
    pub extension: String,
    /// The tab, by name.
    pub tab: String,
    /// The frame, by name (default `top`).
    pub frame: Option<String>,
}

/// Sets a tab's TLS channel id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTlsChannelId {
    /// The tab, by name.
    pub tab: String,
    /// The id, or `null` for none.
    pub id: Option<String>,
}

/// Holds a keepalive.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeepaliveStep {
    /// The extension.
    pub extension: String,
    /// Why, as the trace shows it (e.g. `devtools open`).
    pub reason: String,
    /// The name `release` uses for it.
    #[serde(rename = "as")]
    pub label: String,
}

/// A native application's connection to an extension.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectNativeApp {
    /// The extension.
    pub extension: String,
    /// The application's name (it becomes `sender.nativeApplication`).
    pub application: String,
    /// The name later steps use for the application's end of the connection.
    #[serde(rename = "as")]
    pub label: String,
    /// What the application does at once with its port (e.g. listen to it).
    #[serde(rename = "do", default)]
    pub actions: Vec<Action>,
}

/// Actions in a view.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InView {
    /// The view, by name.
    pub view: String,
    /// What it does.
    #[serde(rename = "do")]
    pub actions: Vec<Action>,
}

/// Actions in a content script.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InContentScript {
    /// The extension.
    pub extension: String,
    /// The tab, by name.
    pub tab: String,
    /// The frame, by name (default `top`).
    pub frame: Option<String>,
    /// What it does.
    #[serde(rename = "do")]
    pub actions: Vec<Action>,
}

/// Actions in a web page.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InWebPage {
    /// The tab, by name.
    pub tab: String,
    /// The frame, by name (default `top`).
    pub frame: Option<String>,
    /// What it does.
    #[serde(rename = "do")]
    pub actions: Vec<Action>,
}

/// Actions of a native application on its connection.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InNativeApp {
    /// The application's connection, by name.
    pub app: String,
    /// What it does.
    #[serde(rename = "do")]
    pub actions: Vec<Action>,
}

impl Step {
    /// The step in a few words, as the timeline shows it.
    pub fn summary(&self) -> String {
        let actions = |actions: &[Action]| {
            let names: Vec<String> = actions
                .iter()
                .map(|action| match action {
                    Action::Call(call) => format!("call {}", call.api.name()),
                    other => super::validate::action_name(other).to_owned(),
                })
                .collect();
            names.join(", ")
        };
        match self {
            Step::Start => "start the browser".into(),
            Step::Stop => "stop the browser".into(),
            Step::Restart => "restart the browser".into(),
            Step::Advance(d) => format!("advance {d}"),
            Step::AdvanceTo(d) => format!("advance to {}", d.instant()),
            Step::RunUntilIdle => "run until nothing is scheduled".into(),
            Step::Say(text) => text.clone(),
            Step::Install(name) => format!("install {name}"),
            Step::Uninstall(name) => format!("uninstall {name}"),
            Step::FireEvent(fire) if fire.args.is_null() => {
                format!("fire {} at {}", fire.event, fire.extension)
            }
            Step::FireEvent(fire) => {
                format!("fire {} at {} {}", fire.event, fire.extension, fire.args)
            }
            Step::OpenView(open) => format!(
                "open {}'s {} view {} as \"{}\"",
                open.extension,
                open.kind.as_str(),
                open.path,
                open.label
            ),
            Step::CloseView(view) => format!("close view \"{view}\""),
            Step::OpenTab(open) => format!("open tab \"{}\" on {}", open.label, open.url),
            Step::OpenFrame(open) => format!(
                "open frame \"{}\" in tab \"{}\" on {}",
                open.label, open.tab, open.url
            ),
            Step::Navigate(navigate) => {
                format!("navigate tab \"{}\" to {}", navigate.tab, navigate.url)
            }
            Step::CloseTab(tab) => format!("close tab \"{tab}\""),
            Step::InjectContentScript(target) => format!(
                "inject {}'s content script in tab \"{}\" frame {}",
                target.extension,
                target.tab,
                target.frame.as_deref().unwrap_or("top")
            ),
            Step::SetTlsChannelId(set) => format!(
                "tab \"{}\" TLS channel id: {}",
                set.tab,
                set.id.as_deref().unwrap_or("none")
            ),
            Step::Keepalive(keep) => format!(
                "hold a keepalive on {} ({}) as \"{}\"",
                keep.extension, keep.reason, keep.label
            ),
            Step::Release(label) => format!("release keepalive \"{label}\""),
            Step::ConnectNativeApp(app) => format!(
                "native application {} connects to {} as \"{}\"",
                app.application, app.extension, app.label
            ),
            Step::InView(step) => format!("in view \"{}\": {}", step.view, actions(&step.actions)),
            Step::InContentScript(step) => format!(
                "in {}'s content script in tab \"{}\": {}",
                step.extension,
                step.tab,
                actions(&step.actions)
            ),
            Step::InWebPage(step) => format!(
                "in the web page of tab \"{}\": {}",
                step.tab,
                actions(&step.actions)
            ),
            Step::InNativeApp(step) => format!(
                "as native application \"{}\": {}",
                step.app,
                actions(&step.actions)
            ),
            Step::PublishUpdate(publish) => {
                let what = match &publish.manifest {
                    ManifestSource::Inline(manifest) => match manifest.get("version") {
                        Some(Value::String(version)) => format!("version {version}"),
                        _ => "a new version".to_owned(),
                    },
                    ManifestSource::Path(path) => format!("the version in {path}"),
                };
                let when = publish
                    .at
                    .map_or(String::new(), |at| format!(" at {}", at.instant()));
                format!("publish {what} of {}{when}", publish.extension)
            }
            Step::StageBrowserUpdate(version) => format!("stage browser update {version}"),
            Step::ReloadExtension(name) => format!("the user reloads {name}"),
            Step::RequireRestart(reason) => {
                format!("require a device restart ({})", reason.reason().as_str())
            }
        }
    }
}
