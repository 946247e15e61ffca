//! Running a scenario: the browser it describes, its timeline step by step, and the record of
//! what happened — the browser's trace, the steps, what declared code recorded — in one
//! timeline.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use super::check::{self, Check};
use super::error::ScenarioError;
use super::format::{BackgroundCode, BrowserSettings};
use super::hosts::{self, Hosts};
use super::interpret::{lock, Actor, Code, DeclaredScript, Env, Frame};
use super::load::Loaded;
use super::outcome::Happening;
use super::position::JsonPath;
use super::scripts;
use super::states::StateReader;
use super::step::Step;
use super::watch::Watch;
use crate::{
    Browser, BrowserBuilder, ExtensionId, ExtensionSpec, FrameId, Keepalive, PlatformInfo, Port,
    Profile, SimInstant, TabId, TraceContext, TraceEntry, ViewId, ViewKind, WatchdogHook,
};

/// How to run scenarios.
#[derive(Clone, Default)]
pub struct RunOptions {
    /// Overrides the seed the file gives (`--seed`).
    pub seed: Option<u64>,
    /// Overrides the profile the file gives (`--profile`).
    pub profile: Option<Profile>,
    /// The `runtime-sim` command, which the built-in native hosts run.
    pub program: Option<PathBuf>,
    /// What the browser's watchdog calls when it fires (see
    /// [`BrowserBuilder::on_watchdog`]): the command ends the process there.
    pub on_watchdog: Option<WatchdogHook>,
    /// Keeps only the newest entries of the trace (`--trace-limit`; see
    /// [`BrowserBuilder::trace_limit`]): the timeline then shows only those, and the
    /// expectations are checked as without a limit.
    pub trace_limit: Option<usize>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("seed", &self.seed)
            .field("profile", &self.profile)
            .field("program", &self.program)
            .field("on_watchdog", &self.on_watchdog.is_some())
            .field("trace_limit", &self.trace_limit)
            .finish()
    }
}

/// One line of a run's timeline.
#[derive(Clone, Debug)]
pub enum Line {
    /// What the browser did.
    Trace(TraceEntry),
    /// A step of the timeline began.
    Step {
        /// When.
        at: SimInstant,
        /// Its index in `timeline`.
        index: usize,
        /// The step in a few words.
        summary: String,
        /// Whether it is a `say` step (a remark for the reader).
        remark: bool,
    },
    /// What declared code recorded.
    Happening(Happening),
}

impl Line {
    /// When it happened.
    pub fn at(&self) -> SimInstant {
        match self {
            Line::Trace(entry) => entry.at,
            Line::Step { at, .. } => *at,
            Line::Happening(happening) => happening.at,
        }
    }
}

/// What running a scenario did and found.
#[derive(Debug)]
pub struct Report {
    /// The file.
    pub file: PathBuf,
    /// The scenario's title.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The browser profile it ran under.
    pub profile: Profile,
    /// Everything that happened, in order.
    pub lines: Vec<Line>,
    /// The extensions' names in the manifests, by id, for display.
    pub names: BTreeMap<ExtensionId, String>,
    /// Each expectation, checked.
    pub checks: Vec<Check>,
    /// A step that could not be carried out; the run stopped there and the expectations were
    /// not checked.
    pub error: Option<ScenarioError>,
}

impl Report {
    /// How many expectations passed.
    pub fn passed(&self) -> usize {
        self.checks.iter().filter(|c| c.passed).count()
    }

    /// How many failed (a run that stopped on an error counts as one failure).
    pub fn failed(&self) -> usize {
        self.checks.iter().filter(|c| !c.passed).count() + usize::from(self.error.is_some())
    }
}

/// Runs a loaded scenario.
pub fn run(loaded: &Loaded, options: &RunOptions) -> Report {
    let mut runner = Runner::new(loaded, options);
    let error = runner.go(options).err();
    runner.report(error)
}

/// What steps have opened, by the names the file gives them.
#[derive(Default)]
struct Opened {
    views: BTreeMap<String, (ExtensionId, ViewId, ViewKind)>,
    keepalives: BTreeMap<String, Keepalive>,
    apps: BTreeMap<String, Port>,
    /// The ports each step context has opened by name.
    ports: BTreeMap<String, Arc<Mutex<BTreeMap<String, Port>>>>,
}

struct Runner<'a> {
    loaded: &'a Loaded,
    /// The profile the browser runs (the file's, or the one `--profile` gives).
    profile: Profile,
    env: Env,
    browser: Option<Browser>,
    specs: IndexMap<String, ExtensionSpec>,
    opened: Opened,
    /// The steps begun so far.
    steps: Vec<StepMark>,
    /// Keeps the native hosts' folder while the browser runs.
    hosts: Option<Hosts>,
    /// The states `state` expectations check, read as the run reaches their instants.
    states: StateReader,
    /// The trace entries the other expectations look at, kept as they are recorded.
    watch: Arc<Mutex<Watch>>,
}

impl<'a> Runner<'a> {
    fn new(loaded: &'a Loaded, options: &RunOptions) -> Self {
        let env = Env {
            ids: Arc::new(loaded.ids.clone()),
            ..Env::default()
        };
        let profile = options
            .profile
            .or(loaded.scenario.browser.profile)
            .unwrap_or_default();
        Runner {
            loaded,
            profile,
            env,
            browser: None,
            specs: IndexMap::new(),
            opened: Opened::default(),
            steps: Vec::new(),
            hosts: None,
            states: StateReader::new(&loaded.scenario.expect, &loaded.ids),
            watch: Arc::new(Mutex::new(Watch::new(&loaded.scenario.expect, &loaded.ids))),
        }
    }

    fn error(&self, path: JsonPath, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(&self.loaded.file, &self.loaded.text, path, message)
    }

    fn go(&mut self, options: &RunOptions) -> Result<(), ScenarioError> {
        let scenario = &self.loaded.scenario;
        let settings = &scenario.browser;
        let kind = settings
            .native_browser
            .unwrap_or_else(|| self.profile.native_browser());
        let names: Vec<String> = scenario.extensions.keys().cloned().collect();
        let hosts = hosts::prepare(
            &scenario.native_hosts,
            &self.loaded.ids,
            &names,
            kind,
            options.program.as_deref(),
        )
        .map_err(|e| self.error(JsonPath::root().key("native_hosts"), e))?;
        let mut builder =
            configure(settings, self.profile, options.seed).native_launcher(hosts.launcher.clone());
        if let Some(limit) = options.trace_limit {
            builder = builder.trace_limit(limit);
        }
        if !lock(&self.watch).is_empty() {
            let watch = Arc::clone(&self.watch);
            builder = builder.on_trace_entry(move |entry| lock(&watch).see(entry));
        }
        if let Some(hook) = &options.on_watchdog {
            let hook = std::sync::Arc::clone(hook);
            builder = builder.on_watchdog(move |report, action| hook(report, action));
        }
        self.hosts = Some(hosts);
        self.browser = Some(builder.build());

        for (name, spec) in &self.loaded.specs {
            let path = JsonPath::root().key("extensions").key(name);
            let code = scenario.extensions[name].background.as_ref();
            let spec = self.with_code(spec.clone(), code, &path);
            if let Some(policy) = &scenario.extensions[name].managed_storage {
                self.browser()
                    .set_managed_storage(&spec.id(), policy.clone());
            }
            if scenario.extensions[name].installed {
                let installed = self.browser().install(spec.clone());
                installed.map_err(|e| self.error(path, format!("cannot install it: {e}")))?;
            }
            self.specs.insert(name.clone(), spec);
        }

        for (index, step) in scenario.timeline.iter().enumerate() {
            let path = JsonPath::root().key("timeline").index(index);
            let browser = self.browser();
            let at = browser.now();
            // Counted over every entry recorded, kept or not (under a trace limit).
            let count = browser.with_trace(|t| t.recorded()) as usize;
            if let Ok(mut began) = self.env.step_began.lock() {
                *began = at;
            }
            let recorded = self.env.journal.len();
            self.steps.push(StepMark {
                position: count,
                recorded,
                line: Line::Step {
                    at,
                    index,
                    summary: step.summary(),
                    remark: matches!(step, Step::Say(_)),
                },
            });
            if let Err(message) = self.step(index, step, &path) {
                return Err(self.error(path, format!("at {at}: {message}")));
            }
            // Time steps ran everything due; a remark changes nothing.
            if !matches!(
                step,
                Step::Advance(_) | Step::AdvanceTo(_) | Step::RunUntilIdle | Step::Say(_)
            ) {
                self.browser().advance(Duration::ZERO);
            }
            let problem = self
                .env
                .problems
                .lock()
                .ok()
                .and_then(|p| p.first().cloned());
            if let Some(problem) = problem {
                let now = self.browser().now();
                return Err(self.error(problem.path, format!("at {now}: {}", problem.message)));
            }
        }
        Ok(())
    }

    /// An extension (or a new version of one) with its background code; `at` is where the
    /// file declares the two.
    fn with_code(
        &self,
        spec: ExtensionSpec,
        code: Option<&BackgroundCode>,
        at: &JsonPath,
    ) -> ExtensionSpec {
        match code {
            Some(BackgroundCode::Rust(script)) => match scripts::named(script) {
                Some(script) => spec.boxed_script(script),
                None => spec,
            },
            Some(BackgroundCode::TopLevel(actions)) => spec.script(DeclaredScript {
                env: self.env.clone(),
                code: Code::new(actions.clone(), at.key("background").key("top_level")),
            }),
            None => spec,
        }
    }

    /// Moves the clock to `to`, reading on the way the states expectations ask for.
    fn advance_to(&mut self, to: SimInstant) {
        let browser = self
            .browser
            .get_or_insert_with(|| Browser::builder().build());
        self.states.advance_to(browser, to);
    }

    fn browser(&mut self) -> &mut Browser {
        self.browser
            .get_or_insert_with(|| Browser::builder().build())
    }

    fn id(&self, name: &str) -> Result<ExtensionId, String> {
        self.loaded
            .ids
            .get(name)
            .cloned()
            .ok_or_else(|| format!("unknown extension \"{name}\""))
    }

    fn tab(&self, name: &str) -> Result<TabId, String> {
        self.env
            .tabs
            .lock()
            .ok()
            .and_then(|tabs| tabs.get(name).copied())
            .ok_or_else(|| format!("the tab \"{name}\" is not open"))
    }

    fn frame(&self, name: Option<&str>) -> Result<FrameId, String> {
        match name {
            None | Some("top") => Ok(FrameId::TOP),
            Some(name) => self
                .env
                .frames
                .lock()
                .ok()
                .and_then(|frames| frames.get(name).copied())
                .ok_or_else(|| format!("the frame \"{name}\" is not open")),
        }
    }

    /// The named ports of a step context.
    fn ports(&mut self, context: String) -> Arc<Mutex<BTreeMap<String, Port>>> {
        Arc::clone(self.opened.ports.entry(context).or_default())
    }

    fn step(&mut self, index: usize, step: &Step, path: &JsonPath) -> Result<(), String> {
        let ids = Arc::clone(&self.env.ids);
        match step {
            Step::Start => self.browser().start(),
            Step::Stop => self.browser().stop(),
            Step::Restart => self.browser().restart(),
            Step::Advance(d) => {
                let now = self.browser().now();
                match now.checked_add(d.0) {
                    Some(to) => self.advance_to(to),
                    // Past the end of virtual time: the browser runs to the end and warns.
                    None => self.browser().advance(d.0),
                }
            }
            Step::AdvanceTo(d) => {
                let now = self.browser().now();
                if d.instant() < now {
                    return Err(format!(
                        "cannot go back to {}: the clock already reads {now}",
                        d.instant()
                    ));
                }
                self.advance_to(d.instant());
            }
            Step::RunUntilIdle => {
                let browser = self
                    .browser
                    .get_or_insert_with(|| Browser::builder().build());
                self.states.run_until_idle(browser);
            }
            Step::Say(_) => {}
            Step::Install(name) => {
                let spec = self.specs[name].clone();
                self.browser().install(spec).map_err(|e| e.to_string())?;
            }
            Step::Uninstall(name) => {
                let id = self.id(name)?;
                self.browser().uninstall(&id).map_err(|e| e.to_string())?;
            }
            Step::FireEvent(fire) => {
                let id = self.id(&fire.extension)?;
                let args = ids.expand(&fire.args);
                self.browser()
                    .fire_event(&id, &fire.event, args)
                    .map_err(|e| e.to_string())?;
            }
            Step::OpenView(open) => {
                let id = self.id(&open.extension)?;
                let kind = open.kind;
                let view = self
                    .browser()
                    .open_view(&id, kind, &open.path)
                    .map_err(|e| e.to_string())?;
                self.opened
                    .views
                    .insert(open.label.clone(), (id, view, kind));
            }
            Step::CloseView(label) => {
                let (id, view, _) = self.opened.views[label].clone();
                if !self.browser().close_view(&id, view) {
                    return Err(format!("the view \"{label}\" is not open"));
                }
            }
            Step::OpenTab(open) => {
                let tab = self
                    .browser()
                    .open_tab(&open.url)
                    .map_err(|e| e.to_string())?;
                if let Ok(mut tabs) = self.env.tabs.lock() {
                    tabs.insert(open.label.clone(), tab);
                }
            }
            Step::OpenFrame(open) => {
                let tab = self.tab(&open.tab)?;
                let parent = self.frame(open.parent.as_deref())?;
                let frame = self
                    .browser()
                    .open_frame(tab, parent, &open.url)
                    .map_err(|e| e.to_string())?;
                if let Ok(mut frames) = self.env.frames.lock() {
                    frames.insert(open.label.clone(), frame);
                }
            }
            Step::Navigate(navigate) => {
                let tab = self.tab(&navigate.tab)?;
                self.browser()
                    .navigate(tab, &navigate.url)
                    .map_err(|e| e.to_string())?;
            }
            Step::CloseTab(label) => {
                let tab = self.tab(label)?;
                if !self.browser().close_tab(tab) {
                    return Err(format!("the tab \"{label}\" is not open"));
                }
            }
            Step::InjectContentScript(target) => {
                let id = self.id(&target.extension)?;
                let tab = self.tab(&target.tab)?;
                let frame = self.frame(target.frame.as_deref())?;
                self.browser()
                    .inject_content_script(&id, tab, frame)
                    .map_err(|e| e.to_string())?;
            }
            Step::SetTlsChannelId(set) => {
                let tab = self.tab(&set.tab)?;
                self.browser()
                    .set_tls_channel_id(tab, set.id.clone())
                    .map_err(|e| e.to_string())?;
            }
            Step::Keepalive(keep) => {
                let id = self.id(&keep.extension)?;
                let keepalive = self
                    .browser()
                    .keepalive(&id, &keep.reason)
                    .map_err(|e| e.to_string())?;
                self.opened.keepalives.insert(keep.label.clone(), keepalive);
            }
            Step::Release(label) => match self.opened.keepalives.remove(label) {
                Some(keepalive) => keepalive.release(),
                None => return Err(format!("the keepalive \"{label}\" was released already")),
            },
            Step::ConnectNativeApp(app) => {
                let id = self.id(&app.extension)?;
                let port = self
                    .browser()
                    .connect_from_native_app(&id, &app.application)
                    .map_err(|e| e.to_string())?;
                self.opened.apps.insert(app.label.clone(), port.clone());
                let ports = self.ports(format!("app:{}", app.label));
                Frame::new(self.env.clone(), Actor::App)
                    .with_ports(ports)
                    .with_port(port)
                    .launch(Code::new(
                        app.actions.clone(),
                        path.key("connect_native_app").key("do"),
                    ));
            }
            Step::InView(step) => {
                let (id, view, kind) = self.opened.views[&step.view].clone();
                let runtime = self
                    .browser()
                    .view_runtime(&id, view)
                    .ok_or_else(|| format!("the view \"{}\" is closed", step.view))?;
                let ports = self.ports(format!("view:{}", step.view));
                // A view's own `Runtime::context()` may name the wrong kind of view (it is
                // made before the browser records the view), so the context is given here.
                Frame::new(self.env.clone(), Actor::Extension(runtime))
                    .in_context(TraceContext::View { id: view, kind })
                    .with_ports(ports)
                    .launch(Code::new(
                        step.actions.clone(),
                        path.key("in_view").key("do"),
                    ));
            }
            Step::InContentScript(step) => {
                let id = self.id(&step.extension)?;
                let tab = self.tab(&step.tab)?;
                let frame_name = step.frame.as_deref().unwrap_or("top");
                let frame = self.frame(step.frame.as_deref())?;
                let runtime = self.browser().content_script(&id, tab, frame).ok_or_else(|| {
                    format!(
                        "no content script of {} runs in tab \"{}\" frame {frame_name}: its manifest's content_scripts do not match the page (or the frame is gone); inject_content_script starts one",
                        step.extension, step.tab
                    )
                })?;
                let ports = self.ports(format!("cs:{}:{}:{frame_name}", step.extension, step.tab));
                Frame::new(self.env.clone(), Actor::Extension(runtime))
                    .with_ports(ports)
                    .launch(Code::new(
                        step.actions.clone(),
                        path.key("in_content_script").key("do"),
                    ));
            }
            Step::InWebPage(step) => {
                let tab = self.tab(&step.tab)?;
                let frame_name = step.frame.as_deref().unwrap_or("top");
                let frame = self.frame(step.frame.as_deref())?;
                let page = self
                    .browser()
                    .web_page(tab, frame)
                    .ok_or_else(|| format!("tab \"{}\" has no frame {frame_name}", step.tab))?;
                let ports = self.ports(format!("page:{}:{frame_name}", step.tab));
                Frame::new(self.env.clone(), Actor::Page(page))
                    .with_ports(ports)
                    .launch(Code::new(
                        step.actions.clone(),
                        path.key("in_web_page").key("do"),
                    ));
            }
            Step::PublishUpdate(publish) => {
                let id = self.id(&publish.extension)?;
                let Some(spec) = self.loaded.updates.get(&index).cloned() else {
                    return Err("the new version was not prepared when the file was loaded".into());
                };
                let at = path.key("publish_update");
                let spec = self.with_code(spec, publish.background.as_ref(), &at);
                let now = self.browser().now();
                match publish.at {
                    Some(when) if when.instant() < now => {
                        return Err(format!(
                            "cannot publish at {}: the clock already reads {now}",
                            when.instant()
                        ))
                    }
                    Some(when) => self.browser().publish_update_at(&id, spec, when.instant()),
                    None => self.browser().publish_update(&id, spec),
                }
                .map_err(|e| e.to_string())?;
            }
            Step::StageBrowserUpdate(version) => {
                self.browser().stage_browser_update(version.clone());
            }
            Step::ReloadExtension(name) => {
                let id = self.id(name)?;
                self.browser()
                    .reload_extension(&id)
                    .map_err(|e| e.to_string())?;
            }
            Step::RequireRestart(reason) => self.browser().require_restart(reason.reason()),
            Step::InNativeApp(step) => {
                let port = self.opened.apps[&step.app].clone();
                let ports = self.ports(format!("app:{}", step.app));
                Frame::new(self.env.clone(), Actor::App)
                    .with_ports(ports)
                    .with_port(port)
                    .launch(Code::new(
                        step.actions.clone(),
                        path.key("in_native_app").key("do"),
                    ));
            }
        }
        Ok(())
    }

    /// The timeline of the run and the checks of its expectations.
    fn report(mut self, error: Option<ScenarioError>) -> Report {
        let scenario = &self.loaded.scenario;
        // A run that failed before its browser was built has an empty one.
        let browser = self.browser.take().unwrap_or_default();
        self.states.finish(&browser);
        let trace = browser.trace();
        let ids: Vec<ExtensionId> = self.loaded.specs.values().map(|s| s.id()).collect();
        let storage: BTreeMap<ExtensionId, BTreeMap<String, Value>> = ids
            .iter()
            .map(|id| (id.clone(), browser.storage(id)))
            .collect();
        let end = browser.now();
        // The browser goes first (it ends the native hosts), then their folder.
        drop(browser);
        self.hosts = None;
        let happenings = self.env.journal.all();
        let names = ids
            .iter()
            .filter_map(|id| {
                trace
                    .extension_name(id)
                    .map(|name| (id.clone(), name.to_owned()))
            })
            .collect();
        let watch = lock(&self.watch);
        let checks = match &error {
            Some(_) => Vec::new(),
            None => check::check_all(
                &scenario.expect,
                &check::Record {
                    ids: &self.loaded.ids,
                    entries: watch.entries(),
                    happenings: &happenings,
                    storage: &storage,
                    states: &self.states,
                    end,
                },
            ),
        };
        // Under a trace limit, the steps' positions count entries no longer kept.
        let first = trace.dropped() as usize;
        let mut steps = std::mem::take(&mut self.steps);
        for step in &mut steps {
            step.position = step.position.saturating_sub(first);
        }
        let lines = merge(trace.entries().collect(), steps, happenings);
        Report {
            file: self.loaded.file.clone(),
            name: scenario.name.clone(),
            description: scenario.description.clone(),
            profile: self.profile,
            lines,
            names,
            checks,
            error,
        }
    }
}

/// The browser the settings describe, as `profile`.
fn configure(settings: &BrowserSettings, profile: Profile, seed: Option<u64>) -> BrowserBuilder {
    // The profile first: it sets the lifecycle timers to its browser's, which the file's own
    // timers then override.
    let mut builder = Browser::builder().profile(profile);
    if let Some(delay) = settings.idle_delay {
        builder = builder.idle_delay(delay.0);
    }
    if let Some(window) = settings.suspending_window {
        builder = builder.suspending_window(window.0);
    }
    if let Some(version) = &settings.version {
        builder = builder.browser_version(version.clone());
    }
    if let Some(seed) = seed.or(settings.seed) {
        builder = builder.seed(seed);
    }
    if let Some(latency) = settings.api_latency {
        builder = builder.api_latency(latency.0);
    }
    for (api, latency) in &settings.api_latencies {
        builder = builder.api_latency_for(*api, latency.0);
    }
    if let Some(platform) = settings.platform {
        let arch = platform.arch;
        builder = builder.platform_info(Some(PlatformInfo {
            os: platform.os,
            arch,
            nacl_arch: arch,
        }));
    }
    if settings.platform_unavailable {
        builder = builder.platform_info(None);
    }
    if let Some(limit) = settings.native_answer_limit {
        builder = builder.native_answer_limit(limit.0);
    }
    if let Some(enabled) = settings.autoupdate {
        builder = builder.autoupdate(enabled);
    }
    if let Some(period) = settings.update_check_period {
        builder = builder.update_check_period(period.0);
    }
    if let Some(duration) = settings.update_check_duration {
        builder = builder.update_check_duration(duration.0);
    }
    builder = builder.kiosk(settings.kiosk);
    if let Some(limit) = settings.kiosk_uptime_limit {
        builder = builder.kiosk_uptime_limit(limit.0);
    }
    builder
}

/// A step's line, where it goes among the trace entries, and how many happenings had been
/// recorded when it began.
struct StepMark {
    position: usize,
    recorded: usize,
    line: Line,
}

/// One timeline: the trace entries in order; each step before the entries it caused; each
/// happening after the entries of its instant, but before the next step.
fn merge(entries: Vec<TraceEntry>, steps: Vec<StepMark>, happenings: Vec<Happening>) -> Vec<Line> {
    // (position among the trace entries, time, steps begun before it, 0 for a step / 1 for a
    // happening)
    let mut notes: Vec<(usize, SimInstant, usize, u8, Line)> = Vec::new();
    let next_step: Vec<(usize, usize)> = steps.iter().map(|s| (s.recorded, s.position)).collect();
    for (i, happening) in happenings.into_iter().enumerate() {
        let begun = next_step.partition_point(|(recorded, _)| *recorded <= i);
        let mut position = entries.partition_point(|e| e.at <= happening.at);
        if let Some((_, next)) = next_step.get(begun) {
            position = position.min(*next);
        }
        notes.push((position, happening.at, begun, 1, Line::Happening(happening)));
    }
    for (i, step) in steps.into_iter().enumerate() {
        notes.push((step.position, step.line.at(), i + 1, 0, step.line));
    }
    notes.sort_by_key(|n| (n.0, n.1, n.2, n.3));
    let mut lines = Vec::with_capacity(entries.len() + notes.len());
    let mut notes = notes.into_iter().peekable();
    for (i, entry) in entries.into_iter().enumerate() {
        while let Some(note) = notes.next_if(|n| n.0 <= i) {
            lines.push(note.4);
        }
        lines.push(Line::Trace(entry));
    }
    lines.extend(notes.map(|n| n.4));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::outcome::{OutcomeValue, What};
    use crate::TraceEvent;

    fn entry(ms: u64) -> TraceEntry {
        TraceEntry {
            at: SimInstant::from_start(Duration::from_millis(ms)),
            extension: None,
            context: None,
            event: TraceEvent::BrowserStopped,
        }
    }

    fn step(index: usize, ms: u64, position: usize, recorded: usize) -> StepMark {
        StepMark {
            position,
            recorded,
            line: Line::Step {
                at: SimInstant::from_start(Duration::from_millis(ms)),
                index,
                summary: format!("step {index}"),
                remark: false,
            },
        }
    }

    fn happening(ms: u64) -> Happening {
        Happening {
            at: SimInstant::from_start(Duration::from_millis(ms)),
            extension: None,
            context: None,
            what: What::Outcome {
                label: "x".into(),
                outcome: OutcomeValue::Undefined,
            },
        }
    }

    /// What a line is, in a letter: `e`ntry, `s`tep, `h`appening, with its time.
    fn shape(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| {
                let kind = match l {
                    Line::Trace(_) => "e",
                    Line::Step { .. } => "s",
                    Line::Happening(_) => "h",
                };
                format!("{kind}{}", l.at().as_millis())
            })
            .collect()
    }

    #[test]
    fn steps_come_before_what_they_cause_and_happenings_after_their_instant() {
        // Step 0 at 0 ms causes two entries and a happening at 0 ms; step 1, still at 0 ms,
        // causes one more entry; an entry at 5 ms, then a happening at 3 ms from a timer.
        let entries = vec![entry(0), entry(0), entry(0), entry(5)];
        let steps = vec![step(0, 0, 0, 0), step(1, 0, 2, 1)];
        let happenings = vec![happening(0), happening(3)];
        let lines = merge(entries, steps, happenings);
        assert_eq!(
            shape(&lines),
            ["s0", "e0", "e0", "h0", "s0", "e0", "h3", "e5"]
        );
    }
}
