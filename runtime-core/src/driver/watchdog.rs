//! The watchdog: notices a listener or a task that blocks the thread driving the simulation.
//!
//! Every listener and every poll of a task runs on the thread that drives the browser
//! ([`Browser::advance`](crate::Browser::advance), [`Browser::block_on`](crate::Browser::block_on),
//! …). A listener that blocks that thread (`std::thread::sleep`, a blocking channel receive)
//! stops the whole simulation, and a blocked thread cannot be pre-empted. So the watchdog, from
//! a thread of its own, reports what is blocked (on stderr and as a `tracing` error) once it has
//! been blocked for longer than the limit; and when the blocked code returns at last, the
//! driving thread panics with that report ([`WatchdogAction::Panic`], the default): the test
//! that hung fails with the watchdog's message, and the other tests of its binary run on. A
//! hook ([`BrowserBuilder::on_watchdog`](crate::BrowserBuilder::on_watchdog)) runs on the
//! watchdog's thread as it fires; the `runtime-sim` command uses it to end the process, which a
//! library never does.
//!
//! # How it stays cheap
//! The driving thread publishes, around each step, each poll of a task and each dispatch, a
//! progress counter (bumped as a section starts and as it ends) with relaxed stores, and for
//! dispatches and task polls what runs (the extension, the context, the listener or task, the
//! virtual time) in a slot the watchdog's thread reads only when it fires. One thread per
//! process (started with the first watched browser, gone a second after the last one is
//! dropped) samples every watched browser every quarter of the shortest limit, and fires when
//! it sees the same section in progress across a whole limit.
//!
//! Nothing in the simulation reads wall time: the watchdog's own thread does, and it changes
//! nothing in the simulation; a section that overran records a [`TraceEvent::Warning`](crate::TraceEvent::Warning) as it
//! returns (in [`WatchdogAction::Report`] mode; with the limit, never a measured duration).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use runtime_events::SimInstant;

use crate::driver::executor::TaskLabel;
use crate::model::extension_id::ExtensionId;
use crate::model::names::EventName;
use crate::model::trace_entry::TraceContext;

/// How long a single dispatch to listeners or task poll may block the driving thread before the
/// watchdog fires, unless [`BrowserBuilder::watchdog`](crate::BrowserBuilder::watchdog) says
/// otherwise: 30 s. Long enough that a slow, loaded CI machine does not trip it in practice,
/// short enough to fail well before a CI job's own timeout.
pub const DEFAULT_WATCHDOG_LIMIT: Duration = Duration::from_secs(30);

/// What the watchdog does when a listener or a task has blocked the driving thread for longer
/// than the limit. Either way it reports at once what is blocked, on stderr and as a `tracing`
/// error, and calls the hook set with
/// [`BrowserBuilder::on_watchdog`](crate::BrowserBuilder::on_watchdog).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatchdogAction {
    /// When the blocked code returns, the driving thread panics with the report (the
    /// default): the test that blocked fails with the watchdog's message. On Linux, a process
    /// with a debugger attached is only reported, as with [`WatchdogAction::Report`].
    #[default]
    Panic,
    /// Reports and keeps waiting. If the listener or task returns at last, a
    /// [`TraceEvent::Warning`](crate::TraceEvent::Warning) in the trace says it overran.
    Report,
}

/// What the watchdog found blocked, as its hook gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchdogReport {
    /// The extension, with its name.
    pub extension: Option<(ExtensionId, String)>,
    /// The context the code runs in.
    pub context: Option<TraceContext>,
    /// What runs: `a listener of runtime.onMessage`, `the top-level script`, …
    pub blocked: String,
    /// The virtual time when it started.
    pub at: Option<SimInstant>,
    /// The limit it overran.
    pub limit: Duration,
    /// The whole report, as written on stderr.
    pub message: String,
}

/// A hook called on the watchdog's thread as it fires.
pub type WatchdogHook = Arc<dyn Fn(&WatchdogReport, WatchdogAction) + Send + Sync>;

/// The watchdog settings of one browser.
#[derive(Clone)]
pub(crate) struct WatchdogSettings {
    /// The limit, or `None` for no watchdog.
    pub(crate) limit: Option<Duration>,
    pub(crate) action: WatchdogAction,
    pub(crate) hook: Option<WatchdogHook>,
}

impl std::fmt::Debug for WatchdogSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchdogSettings")
            .field("limit", &self.limit)
            .field("action", &self.action)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        WatchdogSettings {
            limit: Some(DEFAULT_WATCHDOG_LIMIT),
            action: WatchdogAction::Panic,
            hook: None,
        }
    }
}

/// The environment variable that overrides, for one run, what the code set: `off`, `report`,
/// `panic`, or a limit in seconds (`90`, `0.5`), or several of them separated by commas
/// (`report,120`). So that a run can be debugged (in a debugger, where a pause would trip it)
/// or given more time without editing it.
pub const WATCHDOG_ENV: &str = "RUNTIME_SIM_WATCHDOG";

impl WatchdogSettings {
    /// These settings, with what [`WATCHDOG_ENV`] says over them. A value that cannot be read
    /// is reported on stderr and ignored.
    pub(crate) fn with_env_override(self) -> WatchdogSettings {
        let Ok(value) = std::env::var(WATCHDOG_ENV) else {
            return self;
        };
        match self.clone().overridden_by(&value) {
            Ok(settings) => settings,
            Err(token) => {
                eprintln!(
                    "runtime-sim: {WATCHDOG_ENV}={value:?}: cannot read {token:?} (expected off, report, panic or a number of seconds); ignored"
                );
                self
            }
        }
    }

    /// These settings with `value` (see [`WATCHDOG_ENV`]) over them, or the token that could
    /// not be read.
    fn overridden_by(mut self, value: &str) -> Result<WatchdogSettings, String> {
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match token {
                "off" => self.limit = None,
                "report" => self.action = WatchdogAction::Report,
                "panic" => self.action = WatchdogAction::Panic,
                seconds => {
                    let limit = seconds
                        .parse::<f64>()
                        .ok()
                        .and_then(|s| Duration::try_from_secs_f64(s).ok())
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| token.to_owned())?;
                    self.limit = Some(limit);
                }
            }
        }
        Ok(self)
    }
}

/// `what` of a beat: nothing runs.
const IDLE: u64 = 0;
/// The tag (top two bits) of what runs; the other bits are a task's id or a step's kind.
pub(crate) const TAG: u64 = 3 << 62;
pub(crate) const TASK: u64 = 1 << 62;
pub(crate) const FOREIGN: u64 = 2 << 62;
pub(crate) const STEP: u64 = 3 << 62;

/// The kind of engine step a section runs, when it is not a task's poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StepKind {
    /// A dispatch to listeners (of an event, a message, a port).
    Listeners = 1,
    /// Dropping the tasks or listeners of a context that went (their destructors run).
    Dropping = 2,
    /// The browser's own work.
    Browser = 3,
}

/// What a dispatch or a task poll runs, published for the watchdog's thread (put in words only
/// when it fires).
#[derive(Clone, Debug)]
pub(crate) struct Running {
    pub(crate) extension: Option<ExtensionId>,
    pub(crate) context: Option<TraceContext>,
    pub(crate) what: Runs,
    pub(crate) at: SimInstant,
}

/// The code a section runs.
#[derive(Clone, Debug)]
pub(crate) enum Runs {
    /// The listeners of an event.
    Listener(EventName),
    /// A task.
    Task(TaskLabel),
}

impl std::fmt::Display for Runs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Runs::Listener(event) => write!(f, "a listener of {event}"),
            Runs::Task(TaskLabel::BlockOn) => f.write_str("the future given to Browser::block_on"),
            Runs::Task(label) => label.fmt(f),
        }
    }
}

/// What one browser's driving thread is doing, as the watchdog sees it.
#[derive(Default)]
pub(crate) struct Beat {
    /// Bumped as each section starts and as it ends.
    progress: AtomicU64,
    /// What the innermost running section runs (`IDLE` outside every section).
    what: AtomicU64,
    /// What the innermost dispatch or task poll runs.
    running: Mutex<Option<Running>>,
    /// The names of the installed extensions.
    names: Mutex<BTreeMap<ExtensionId, String>>,
    /// Set by the watchdog when the running section overran.
    overran: AtomicBool,
    /// What overran.
    report: Mutex<Option<WatchdogReport>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing that can panic runs while these are locked.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Beat {
    /// Names an extension, for the reports.
    pub(crate) fn name_extension(&self, id: &ExtensionId, name: &str) {
        lock(&self.names).insert(id.clone(), name.to_owned());
    }

    /// Starts a section that runs `what` (a tag and a task id or step kind); for a dispatch or
    /// a task poll, `running` says what runs.
    #[inline]
    pub(crate) fn enter(&self, what: u64, running: Option<Running>) -> Section<'_> {
        // One thread drives a browser at a time, so a load and a store are enough.
        let previous = self.what.load(Ordering::Relaxed);
        self.what.store(what, Ordering::Relaxed);
        let previous_running = running.map(|now| lock(&self.running).replace(now));
        bump(&self.progress);
        Section {
            beat: self,
            previous,
            previous_running,
        }
    }

    /// Whether a section overran the limit (the watchdog fired) since this was last asked.
    #[inline]
    pub(crate) fn overran(&self) -> bool {
        self.overran.load(Ordering::Relaxed)
    }

    /// Takes the report of the section that overran, with what the browser was told to do.
    pub(crate) fn take_overrun(self: &Arc<Self>) -> Option<(WatchdogReport, WatchdogAction)> {
        self.overran.store(false, Ordering::Relaxed);
        let report = lock(&self.report).take()?;
        let action = lock(&REGISTRY)
            .watched
            .iter()
            .find(|w| std::ptr::eq(w.beat.as_ptr(), Arc::as_ptr(self)))
            .map_or(WatchdogAction::Report, |w| w.settings.action);
        let panics = action == WatchdogAction::Panic && !debugger_attached();
        Some((
            report,
            if panics {
                WatchdogAction::Panic
            } else {
                WatchdogAction::Report
            },
        ))
    }
}

/// The warning a section that overran leaves in the trace when it returns (report mode).
pub(crate) fn overrun_warning(report: &WatchdogReport) -> String {
    format!(
        "{} blocked the thread driving the simulation for longer than the watchdog's limit ({}), then returned. {ADVICE}",
        capitalized(&report.blocked),
        humanize(report.limit),
    )
}

/// A section of the driving thread's work: from its start to its drop.
pub(crate) struct Section<'a> {
    beat: &'a Beat,
    previous: u64,
    /// What ran before, for a dispatch or task poll (restored at the end).
    previous_running: Option<Option<Running>>,
}

impl Drop for Section<'_> {
    #[inline]
    fn drop(&mut self) {
        self.beat.what.store(self.previous, Ordering::Relaxed);
        if let Some(previous) = self.previous_running.take() {
            *lock(&self.beat.running) = previous;
        }
        bump(&self.beat.progress);
    }
}

#[inline]
fn bump(progress: &AtomicU64) {
    // Release: a watchdog that sees this count sees the `what` stored before it.
    progress.store(
        progress.load(Ordering::Relaxed).wrapping_add(1),
        Ordering::Release,
    );
}

const ADVICE: &str = "Do not block in a listener or a task (std::thread::sleep, a blocking receive, a lock held elsewhere): everything in the simulation runs on that one thread. Use an async listener and wait on the simulated clock (Runtime::sleep) or on the browser's events instead.";

/// One watched browser.
struct Watched {
    beat: Weak<Beat>,
    settings: WatchdogSettings,
    /// The progress count last seen, and when it was first seen.
    seen: u64,
    since: Instant,
    /// The progress count of the section already reported.
    fired: Option<u64>,
}

#[derive(Default)]
struct Registry {
    watched: Vec<Watched>,
    /// Whether the watchdog's thread runs.
    running: bool,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    watched: Vec::new(),
    running: false,
});
static CHANGED: Condvar = Condvar::new();

/// How long the watchdog's thread stays with no browser to watch before it ends (so that a
/// test suite that builds browsers one after another does not start a thread for each).
const LINGER: Duration = Duration::from_secs(1);

/// The name of the watchdog's thread (as `/proc/<pid>/task/<tid>/comm` shows it).
pub(crate) const THREAD_NAME: &str = "sim-watchdog";

/// Starts watching a browser (and the watchdog's thread, if it is not running).
pub(crate) fn watch(beat: &Arc<Beat>, settings: WatchdogSettings) {
    if settings.limit.is_none() {
        return;
    }
    let mut registry = lock(&REGISTRY);
    let progress = beat.progress.load(Ordering::Acquire);
    registry.watched.push(Watched {
        beat: Arc::downgrade(beat),
        settings,
        seen: progress,
        since: Instant::now(),
        fired: None,
    });
    if !registry.running {
        let spawned = std::thread::Builder::new()
            .name(THREAD_NAME.to_owned())
            .spawn(run);
        match spawned {
            Ok(_) => registry.running = true,
            Err(e) => {
                // The browser still works, unwatched.
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "runtime-sim: could not start the watchdog's thread ({e}); a blocked listener will hang the run"
                );
            }
        }
    }
    CHANGED.notify_all();
}

/// Stops watching a browser (as it is dropped).
pub(crate) fn unwatch(beat: &Arc<Beat>) {
    let mut registry = lock(&REGISTRY);
    registry
        .watched
        .retain(|w| !std::ptr::eq(w.beat.as_ptr(), Arc::as_ptr(beat)));
    CHANGED.notify_all();
}

/// The watchdog's thread: samples every watched browser's beat every quarter of the shortest
/// limit, and ends when it has had nothing to watch for [`LINGER`].
fn run() {
    let mut registry = lock(&REGISTRY);
    let mut empty_since: Option<Instant> = None;
    loop {
        registry.watched.retain(|w| w.beat.strong_count() > 0);
        let now = Instant::now();
        if registry.watched.is_empty() {
            let since = *empty_since.get_or_insert(now);
            let waited = now.duration_since(since);
            if waited >= LINGER {
                registry.running = false;
                return;
            }
            registry = wait(registry, LINGER - waited);
            continue;
        }
        empty_since = None;
        let mut period = Duration::MAX;
        for watched in registry.watched.iter_mut() {
            let Some(limit) = watched.settings.limit else {
                continue;
            };
            period = period.min(limit / 4);
            let Some(beat) = watched.beat.upgrade() else {
                continue;
            };
            let progress = beat.progress.load(Ordering::Acquire);
            let what = beat.what.load(Ordering::Relaxed);
            if what == IDLE || progress != watched.seen {
                watched.seen = progress;
                watched.since = now;
                continue;
            }
            if now.duration_since(watched.since) < limit || watched.fired == Some(progress) {
                continue;
            }
            watched.fired = Some(progress);
            fire(&beat, what, limit, &watched.settings);
        }
        registry = wait(registry, period.max(Duration::from_millis(1)));
    }
}

fn wait(
    registry: MutexGuard<'static, Registry>,
    timeout: Duration,
) -> MutexGuard<'static, Registry> {
    CHANGED
        .wait_timeout(registry, timeout)
        .map(|(guard, _)| guard)
        .unwrap_or_else(|poisoned| poisoned.into_inner().0)
}

/// Reports what is blocked, calls the hook, and leaves the report for the driving thread.
fn fire(beat: &Beat, what: u64, limit: Duration, settings: &WatchdogSettings) {
    let mut report = describe(beat, what, limit);
    let panics = settings.action == WatchdogAction::Panic && !debugger_attached();
    report.message = words(&report, panics, settings.action);
    // Written straight to stderr: `eprintln!` may be captured by the test harness.
    let _ = std::io::stderr()
        .lock()
        .write_all(report.message.as_bytes());
    tracing::error!(
        target: "runtime_sim::watchdog",
        extension = report.extension.as_ref().map(|(id, _)| id.as_str()),
        name = report.extension.as_ref().map(|(_, name)| name.as_str()),
        context = report.context.as_ref().map(ToString::to_string),
        blocked = %report.blocked,
        at = report.at.map(|at| at.to_string()),
        limit_ms = limit.as_millis() as u64,
        "{} has blocked the thread driving the simulation for longer than {}",
        report.blocked,
        humanize(limit),
    );
    if let Some(hook) = &settings.hook {
        hook(&report, settings.action);
    }
    *lock(&beat.report) = Some(report);
    beat.overran.store(true, Ordering::Relaxed);
}

/// The message on stderr (and of the panic).
fn words(report: &WatchdogReport, panics: bool, action: WatchdogAction) -> String {
    let mut text = format!(
        "\nruntime-sim watchdog: {} has blocked the thread driving the simulation for longer than {}.\n",
        report.blocked,
        humanize(report.limit)
    );
    match &report.extension {
        Some((id, name)) => {
            let _ = writeln!(text, "  extension:    {name} ({id})");
        }
        None => text.push_str("  extension:    none\n"),
    }
    let _ = writeln!(
        text,
        "  context:      {}",
        context_name(report.context.as_ref())
    );
    let _ = writeln!(text, "  blocked:      {}", report.blocked);
    if let Some(at) = report.at {
        let _ = writeln!(text, "  virtual time: {at}");
    }
    let _ = writeln!(text, "  limit:        {}", humanize(report.limit));
    let _ = writeln!(text, "{ADVICE}");
    if panics {
        text.push_str("The thread driving the simulation panics with this message when the blocked code returns. BrowserBuilder::watchdog sets the limit; watchdog_action(WatchdogAction::Report) only reports.\n");
    } else if action == WatchdogAction::Panic {
        text.push_str("A debugger is attached: this is only reported.\n");
    } else {
        text.push_str("Still waiting for it (WatchdogAction::Report).\n");
    }
    text
}

/// What the section `what` runs, from what the driving thread published.
fn describe(beat: &Beat, what: u64, limit: Duration) -> WatchdogReport {
    let mut report = WatchdogReport {
        extension: None,
        context: None,
        blocked: String::new(),
        at: None,
        limit,
        message: String::new(),
    };
    let id = what & !TAG;
    let running = lock(&beat.running).clone();
    match what & TAG {
        FOREIGN => report.blocked = "the future given to Browser::block_on".to_owned(),
        STEP if id == StepKind::Dropping as u64 => {
            report.blocked = "the destructor of a task or listener being dropped".to_owned();
        }
        STEP if id == StepKind::Browser as u64 => {
            report.blocked = "the browser's own work".to_owned();
        }
        _ => match running {
            Some(running) => {
                report.blocked = running.what.to_string();
                report.context = running.context;
                report.at = Some(running.at);
                if let Some(ext) = running.extension {
                    let name = lock(&beat.names)
                        .get(&ext)
                        .cloned()
                        .unwrap_or_else(|| "?".to_owned());
                    report.extension = Some((ext, name));
                }
            }
            None => report.blocked = "a listener or a task".to_owned(),
        },
    }
    report
}

fn context_name(context: Option<&TraceContext>) -> String {
    match context {
        None => "outside the browser's contexts (the code driving it)".to_owned(),
        Some(TraceContext::Background) => "the background page".to_owned(),
        Some(TraceContext::View { id, kind }) => format!("the {} view #{id}", kind.as_str()),
        Some(TraceContext::ContentScript { tab, frame }) => {
            format!("a content script in tab {tab}, frame {frame}")
        }
        Some(TraceContext::WebPage { tab, frame }) => {
            format!("the web page in tab {tab}, frame {frame}")
        }
        Some(TraceContext::NativeHost { name }) => format!("the native host {name}"),
        Some(TraceContext::Browser) => "the browser".to_owned(),
    }
}

/// Whether a debugger is attached (Linux: `TracerPid` in `/proc/self/status`).
fn debugger_attached() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .find_map(|line| line.strip_prefix("TracerPid:"))
            .is_some_and(|pid| pid.trim() != "0")
    })
}

/// `200 ms`, `30 s`, `1.5 s`.
fn humanize(limit: Duration) -> String {
    if limit.subsec_nanos() == 0 {
        format!("{} s", limit.as_secs())
    } else if limit < Duration::from_secs(1) && limit.subsec_nanos() % 1_000_000 == 0 {
        format!("{} ms", limit.as_millis())
    } else {
        format!("{:?}", limit)
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(value: &str) -> Result<WatchdogSettings, String> {
        WatchdogSettings::default().overridden_by(value)
    }

    #[test]
    fn the_environment_can_turn_it_off_change_its_action_and_its_limit() {
        assert_eq!(read("off").map(|s| s.limit), Ok(None));
        let settings = read("report, 0.5").unwrap();
        assert_eq!(settings.action, WatchdogAction::Report);
        assert_eq!(settings.limit, Some(Duration::from_millis(500)));
        let settings = read("90,panic").unwrap();
        assert_eq!(
            (settings.limit, settings.action),
            (Some(Duration::from_secs(90)), WatchdogAction::Panic)
        );
        assert_eq!(read("").map(|s| s.limit), Ok(Some(DEFAULT_WATCHDOG_LIMIT)));
    }

    #[test]
    fn what_it_cannot_read_is_named() {
        assert_eq!(read("report,soon").map(|_| ()), Err("soon".to_owned()));
        assert_eq!(read("0").map(|_| ()), Err("0".to_owned()));
        assert_eq!(read("-3").map(|_| ()), Err("-3".to_owned()));
        assert_eq!(read("exit").map(|_| ()), Err("exit".to_owned()));
    }
}
