//! The watchdog: notices a listener or a task that blocks the thread driving the simulation.
//!
//! Every listener and every poll of a task runs on the thread that drives the browser
//! ([`Browser::advance`](crate::Browser::advance), [`Browser::block_on`](crate::Browser::block_on),
//! …). A listener that blocks that thread (`std::thread::sleep`, a blocking channel receive)
//! stops the whole simulation, and a blocked thread cannot be pre-empted. So the watchdog
//! reports it, with what is blocked, and by default ends the process with
//! [`WATCHDOG_EXIT_CODE`], so that a test suite or a scenario run fails fast instead of
//! hanging.
//!
//! # How it stays cheap
//! The driving thread only publishes, around each step of the engine, each poll of a task and
//! each dispatch, two words in its [`Beat`] with plain relaxed stores: a progress counter
//! (bumped as a section starts and as it ends) and what the innermost section runs (a task's
//! id, or the kind of step). It never reads the clock and never takes a lock for it. One
//! thread per process (started with the first watched browser, gone a second after the last
//! one is dropped) samples the beats of every watched browser every quarter of the shortest
//! limit; it fires when it sees the same section in progress across a whole limit. Only then
//! does it find out, from the simulation's state, what that section is: the task's owner and
//! label, or the last event dispatched (from the trace).
//!
//! Nothing in the simulation reads wall time: the watchdog's own thread does, and it changes
//! nothing in the simulation, except in [`WatchdogAction::Report`] mode, where a section that
//! overran records a [`TraceEvent::Warning`] as it returns (with the limit, never a measured
//! duration).

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, TryLockError, Weak};
use std::time::{Duration, Instant};

use runtime_events::SimInstant;

use crate::context::Endpoint;
use crate::engine::Shared;
use crate::executor::{lock, TaskOwner};
use crate::sim::Sim;
use crate::trace::{Context, TraceEvent};
use crate::ExtensionId;

/// The exit code of a process the watchdog ends: the same as `timeout(1)`'s, "it hung".
/// Distinct from a failed test's (101) and from `runtime-sim`'s own failures (1 and 2).
pub const WATCHDOG_EXIT_CODE: i32 = 124;

/// How long a single dispatch to listeners or task poll may block the driving thread before the
/// watchdog fires, unless [`BrowserBuilder::watchdog`](crate::BrowserBuilder::watchdog) says
/// otherwise: 30 s. Long enough that a slow, loaded CI machine or a pause in a debugger does
/// not trip it in practice (on Linux, a process with a debugger attached is only reported,
/// never ended), short enough to fail well before a CI job's own timeout.
pub const DEFAULT_WATCHDOG_LIMIT: Duration = Duration::from_secs(30);

/// What the watchdog does when a listener or a task has blocked the driving thread for longer
/// than the limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WatchdogAction {
    /// Reports it on stderr and as a `tracing` error, then ends the process with
    /// [`WATCHDOG_EXIT_CODE`] (the default). On Linux, a process with a debugger attached is
    /// only reported, as with [`WatchdogAction::Report`].
    #[default]
    Exit,
    /// Reports it on stderr and as a `tracing` error, and keeps waiting. If the listener or
    /// task returns at last, a [`TraceEvent::Warning`] in the trace says it overran.
    Report,
}

/// The watchdog settings of one browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WatchdogSettings {
    /// The limit, or `None` for no watchdog.
    pub(crate) limit: Option<Duration>,
    pub(crate) action: WatchdogAction,
}

impl Default for WatchdogSettings {
    fn default() -> Self {
        WatchdogSettings {
            limit: Some(DEFAULT_WATCHDOG_LIMIT),
            action: WatchdogAction::Exit,
        }
    }
}

/// The environment variable that overrides, for one run, what the code set: `off`, `report`,
/// `exit`, or a limit in seconds (`90`, `0.5`), or several of them separated by commas
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
        match self.overridden_by(&value) {
            Ok(settings) => settings,
            Err(token) => {
                eprintln!(
                    "runtime-sim: {WATCHDOG_ENV}={value:?}: cannot read {token:?} (expected off, report, exit or a number of seconds); ignored"
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
                "exit" => self.action = WatchdogAction::Exit,
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
const TAG: u64 = 3 << 62;
const TASK: u64 = 1 << 62;
const FOREIGN: u64 = 2 << 62;
const STEP: u64 = 3 << 62;

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

/// What one browser's driving thread is doing, as the watchdog sees it. Written only by the
/// driving thread, with relaxed stores; read by the watchdog's thread.
#[derive(Default)]
pub(crate) struct Beat {
    /// Bumped as each section starts and as it ends.
    progress: AtomicU64,
    /// What the innermost running section runs (`IDLE` outside every section).
    what: AtomicU64,
    /// Set by the watchdog (report mode) when the running section overran.
    overran: AtomicBool,
    /// What overran, for the trace.
    report: Mutex<Option<Blocked>>,
}

/// A section of the driving thread's work: from [`Shared::watched`] to its drop.
pub(crate) struct Section<'a> {
    shared: &'a Shared,
    previous: u64,
}

impl Shared {
    /// Starts a section that runs a step of the given kind.
    #[inline]
    pub(crate) fn watched_step(&self, kind: StepKind) -> Section<'_> {
        self.watched(STEP | kind as u64)
    }

    /// Starts a section that polls the task `id`.
    #[inline]
    pub(crate) fn watched_task(&self, id: u64) -> Section<'_> {
        self.watched(TASK | (id & !TAG))
    }

    /// Starts a section that polls the future of a `block_on` (task `id`).
    #[inline]
    pub(crate) fn watched_foreign(&self, id: u64) -> Section<'_> {
        self.watched(FOREIGN | (id & !TAG))
    }

    #[inline]
    fn watched(&self, what: u64) -> Section<'_> {
        let beat = &self.beat;
        // One thread drives a browser at a time (`&mut Browser`), so a load and a store are
        // enough: no read-modify-write, no lock, no clock.
        let previous = beat.what.load(Ordering::Relaxed);
        beat.what.store(what, Ordering::Relaxed);
        bump(&beat.progress);
        Section {
            shared: self,
            previous,
        }
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

impl Drop for Section<'_> {
    #[inline]
    fn drop(&mut self) {
        let beat = &self.shared.beat;
        beat.what.store(self.previous, Ordering::Relaxed);
        bump(&beat.progress);
        if beat.overran.load(Ordering::Relaxed) {
            record_overrun(self.shared);
        }
    }
}

/// The section that overran has returned (report mode): says so in the trace. Sections never
/// hold the simulation's lock, so it is free here.
#[cold]
fn record_overrun(shared: &Shared) {
    shared.beat.overran.store(false, Ordering::Relaxed);
    let Some(blocked) = lock(&shared.beat.report).take() else {
        return;
    };
    let message = format!(
        "{} blocked the thread driving the simulation for longer than the watchdog's limit ({}), then returned. {ADVICE}",
        capitalized(&blocked.what),
        humanize(blocked.limit),
    );
    shared.sim().record(
        blocked.extension.as_ref().map(|(id, _)| id),
        blocked.context,
        TraceEvent::Warning { message },
    );
}

const ADVICE: &str = "Do not block in a listener or a task (std::thread::sleep, a blocking receive, a lock held elsewhere): everything in the simulation runs on that one thread. Use an async listener and wait on the simulated clock (Runtime::sleep) or on the browser's events instead.";

/// What the watchdog found blocked.
#[derive(Clone, Debug)]
struct Blocked {
    /// The extension, with its name.
    extension: Option<(ExtensionId, String)>,
    /// The context the code runs in.
    context: Option<Context>,
    /// What runs: `a listener of runtime.onMessage`, `the top-level script`, …
    what: String,
    /// The virtual time.
    at: Option<SimInstant>,
    /// The limit it overran.
    limit: Duration,
}

/// One watched browser.
struct Watched {
    shared: Weak<Shared>,
    limit: Duration,
    action: WatchdogAction,
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

fn registry() -> MutexGuard<'static, Registry> {
    lock(&REGISTRY)
}

/// Starts watching a browser (and the watchdog's thread, if it is not running).
pub(crate) fn watch(shared: Weak<Shared>, settings: WatchdogSettings) {
    let Some(limit) = settings.limit else {
        return;
    };
    let mut registry = registry();
    let progress = shared
        .upgrade()
        .map_or(0, |s| s.beat.progress.load(Ordering::Acquire));
    registry.watched.push(Watched {
        shared,
        limit,
        action: settings.action,
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

/// Stops watching a browser (as it is dropped). The watchdog never holds the browser after
/// this returns, so its last reference is dropped on the driving thread.
pub(crate) fn unwatch(shared: &Shared) {
    let mut registry = registry();
    registry
        .watched
        .retain(|w| !std::ptr::eq(w.shared.as_ptr(), shared));
    CHANGED.notify_all();
}

/// The watchdog's thread: samples every watched browser's beat every quarter of the shortest
/// limit, and ends when it has had nothing to watch for [`LINGER`].
fn run() {
    let mut registry = registry();
    let mut empty_since: Option<Instant> = None;
    loop {
        registry.watched.retain(|w| w.shared.strong_count() > 0);
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
        for index in 0..registry.watched.len() {
            let watched = &mut registry.watched[index];
            period = period.min(watched.limit / 4);
            let Some(shared) = watched.shared.upgrade() else {
                continue;
            };
            let progress = shared.beat.progress.load(Ordering::Acquire);
            let what = shared.beat.what.load(Ordering::Relaxed);
            if what == IDLE || progress != watched.seen {
                watched.seen = progress;
                watched.since = now;
                continue;
            }
            if now.duration_since(watched.since) < watched.limit || watched.fired == Some(progress)
            {
                continue;
            }
            watched.fired = Some(progress);
            let (limit, action) = (watched.limit, watched.action);
            // The registry stays locked: the browser cannot be dropped (and its last
            // reference left to this thread) meanwhile.
            fire(&shared, what, limit, action);
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

/// Reports what is blocked, then ends the process or (report mode, or a debugger attached)
/// leaves a note for the driving thread.
fn fire(shared: &Shared, what: u64, limit: Duration, action: WatchdogAction) {
    let blocked = describe(shared, what, limit);
    let exit = action == WatchdogAction::Exit && !debugger_attached();
    let message = report(&blocked, action, exit);
    // Written straight to stderr: `eprintln!` may be captured by the test harness, and the
    // process may end right after.
    let _ = std::io::stderr().lock().write_all(message.as_bytes());
    tracing::error!(
        target: "runtime_sim::watchdog",
        extension = blocked.extension.as_ref().map(|(id, _)| id.as_str()),
        name = blocked.extension.as_ref().map(|(_, name)| name.as_str()),
        context = blocked.context.as_ref().map(ToString::to_string),
        blocked = %blocked.what,
        at = blocked.at.map(|at| at.to_string()),
        limit_ms = limit.as_millis() as u64,
        "{} has blocked the thread driving the simulation for longer than {}",
        blocked.what,
        humanize(limit),
    );
    if exit {
        std::process::exit(WATCHDOG_EXIT_CODE);
    }
    *lock(&shared.beat.report) = Some(blocked);
    shared.beat.overran.store(true, Ordering::Relaxed);
}

/// The message on stderr.
fn report(blocked: &Blocked, action: WatchdogAction, exit: bool) -> String {
    let mut text = format!(
        "\nruntime-sim watchdog: {} has blocked the thread driving the simulation for longer than {}.\n",
        blocked.what,
        humanize(blocked.limit)
    );
    match &blocked.extension {
        Some((id, name)) => {
            let _ = writeln!(text, "  extension:    {name} ({id})");
        }
        None => text.push_str("  extension:    none\n"),
    }
    let _ = writeln!(
        text,
        "  context:      {}",
        context_name(blocked.context.as_ref())
    );
    let _ = writeln!(text, "  blocked:      {}", blocked.what);
    if let Some(at) = blocked.at {
        let _ = writeln!(text, "  virtual time: {at}");
    }
    let _ = writeln!(text, "  limit:        {}", humanize(blocked.limit));
    let _ = writeln!(text, "{ADVICE}");
    if exit {
        let _ = writeln!(
            text,
            "Ending the process with exit code {WATCHDOG_EXIT_CODE}. BrowserBuilder::watchdog sets the limit; watchdog_action(WatchdogAction::Report) only reports."
        );
    } else if action == WatchdogAction::Exit {
        text.push_str("A debugger is attached: the process is left running.\n");
    } else {
        text.push_str("Still waiting for it (WatchdogAction::Report).\n");
    }
    text
}

/// Finds out what the section `what` runs, from the simulation's state. The locks are only
/// tried, for a while: the blocked thread could be holding one (a bug of the simulator).
fn describe(shared: &Shared, what: u64, limit: Duration) -> Blocked {
    let mut blocked = Blocked {
        extension: None,
        context: None,
        what: String::new(),
        at: None,
        limit,
    };
    let sim = try_lock_for(&shared.sim, Duration::from_millis(500));
    let id = what & !TAG;
    match what & TAG {
        TASK => {
            let task = shared.executor.describe(id);
            match (task, &sim) {
                (Some((owner, label)), Some(sim)) => {
                    blocked.what = label.to_string();
                    if let TaskOwner::Context(endpoint) = owner {
                        locate(&mut blocked, sim, &endpoint);
                    }
                }
                (Some((_, label)), None) => blocked.what = label.to_string(),
                (None, _) => blocked.what = "a task".to_owned(),
            }
        }
        FOREIGN => blocked.what = "the future given to Browser::block_on".to_owned(),
        _ if id == StepKind::Listeners as u64 => {
            blocked.what = "a listener".to_owned();
            if let Some(sim) = &sim {
                last_dispatch(&mut blocked, sim);
            }
        }
        _ if id == StepKind::Dropping as u64 => {
            blocked.what = "the destructor of a task or listener being dropped".to_owned();
        }
        _ => blocked.what = "the browser's own work".to_owned(),
    }
    if let Some(sim) = &sim {
        blocked.at.get_or_insert(sim.bus.now());
    }
    blocked
}

/// The extension and context of a task's owner.
fn locate(blocked: &mut Blocked, sim: &Sim, endpoint: &Endpoint) {
    blocked.context = Some(endpoint.trace_context(sim));
    if let Some(id) = endpoint.extension() {
        blocked.extension = Some((id.clone(), extension_name(sim, id)));
    }
}

/// The listeners of a dispatch step: the last event the trace shows dispatched (the
/// dispatch records it just before calling them).
fn last_dispatch(blocked: &mut Blocked, sim: &Sim) {
    let found = sim
        .trace
        .entries()
        .iter()
        .rev()
        .take(10_000)
        .find_map(|entry| match &entry.event {
            TraceEvent::EventDispatched { event, .. } => Some((entry, event)),
            _ => None,
        });
    let Some((entry, event)) = found else {
        blocked.what =
            "a listener (the trace, kept short by trace_limit, no longer says of which event)"
                .to_owned();
        return;
    };
    blocked.what = format!("a listener of {event}");
    blocked.context = entry.context.clone();
    blocked.at = Some(entry.at);
    if let Some(id) = &entry.extension {
        blocked.extension = Some((id.clone(), extension_name(sim, id)));
    }
}

fn extension_name(sim: &Sim, id: &ExtensionId) -> String {
    sim.extensions
        .get(id)
        .or_else(|| sim.terminated.get(id))
        .map_or_else(|| "?".to_owned(), |rec| rec.manifest.name().to_owned())
}

fn context_name(context: Option<&Context>) -> String {
    match context {
        None => "outside the browser's contexts (the code driving it)".to_owned(),
        Some(Context::Background) => "the background page".to_owned(),
        Some(Context::View { id, kind }) => format!("the {} view #{id}", kind.as_str()),
        Some(Context::ContentScript { tab, frame }) => {
            format!("a content script in tab {tab}, frame {frame}")
        }
        Some(Context::WebPage { tab, frame }) => {
            format!("the web page in tab {tab}, frame {frame}")
        }
        Some(Context::NativeHost { name }) => format!("the native host {name}"),
        Some(Context::Browser) => "the browser".to_owned(),
    }
}

/// Locks `mutex` if it is free within `patience` (a poisoned lock is taken as it is).
pub(crate) fn try_lock_for<T>(mutex: &Mutex<T>, patience: Duration) -> Option<MutexGuard<'_, T>> {
    let deadline = Instant::now() + patience;
    loop {
        match mutex.try_lock() {
            Ok(guard) => return Some(guard),
            Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(TryLockError::WouldBlock) => return None,
        }
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
        let settings = read("90,exit").unwrap();
        assert_eq!(
            (settings.limit, settings.action),
            (Some(Duration::from_secs(90)), WatchdogAction::Exit)
        );
        assert_eq!(read("").map(|s| s.limit), Ok(Some(DEFAULT_WATCHDOG_LIMIT)));
    }

    #[test]
    fn what_it_cannot_read_is_named() {
        assert_eq!(read("report,soon").map(|_| ()), Err("soon".to_owned()));
        assert_eq!(read("0").map(|_| ()), Err("0".to_owned()));
        assert_eq!(read("-3").map(|_| ()), Err("-3".to_owned()));
    }
}
