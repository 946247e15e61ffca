//! `BrowserBuilder`: a simulated browser's settings, each with Chromium's default.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::driver::browser::Browser;
use crate::driver::core::{Driver, DriverSettings, TraceHook};
use crate::driver::watchdog::{self, WatchdogAction, WatchdogReport, WatchdogSettings};
use crate::model::config::Config;
use crate::model::extension_id::ExtensionId;
use crate::model::names::ApiFunction;
use crate::model::platform::PlatformInfo;
use crate::model::profile::{Profile, Timers};
use crate::model::trace_entry::TraceEntry;
use crate::model::update_service::DEFAULT_UPDATE_FREQUENCY;
use crate::model::Model;

/// How long, in real time, the browser waits for a native host's answer unless told
/// otherwise: 5 s. Long enough for a host that starts slowly (an interpreter behind a
/// version-manager shim takes 0.1–1 s) to answer; short enough that a host which never
/// answers some messages (a one-way port) costs a test seconds, not minutes.
pub const DEFAULT_NATIVE_ANSWER_LIMIT: Duration = Duration::from_secs(5);

/// How much virtual time [`Browser::block_on`] runs unless told otherwise: one day.
pub const DEFAULT_BLOCK_ON_LIMIT: Duration = Duration::from_secs(24 * 60 * 60);

/// The browser version a simulated browser reports unless told otherwise.
pub const DEFAULT_BROWSER_VERSION: &str = "156.0.8078.73";

/// Builds a [`Browser`]; every setting has Chromium's default.
///
/// ```
/// use runtime_core::Browser;
/// use std::time::Duration;
///
/// let browser = Browser::builder()
///     .idle_delay(Duration::from_secs(10))
///     .suspending_window(Duration::from_secs(5))
///     .browser_version("156.0.8078.73")
///     .seed(7)
///     .build();
/// assert_eq!(browser.seed(), 7);
/// ```
#[derive(Clone, Debug)]
pub struct BrowserBuilder {
    config: Config,
    driver: DriverSettings,
    /// Kept out of `Config`: the watchdog is no part of the simulation.
    watchdog: WatchdogSettings,
    /// The managed storage policies set before the browser exists.
    managed: Vec<(ExtensionId, serde_json::Map<String, serde_json::Value>)>,
}

impl Default for BrowserBuilder {
    fn default() -> Self {
        BrowserBuilder {
            config: Config {
                timers: Timers::default(),
                platform: Some(PlatformInfo::default()),
                version: DEFAULT_BROWSER_VERSION.to_owned(),
                seed: 0,
                api_latency: Duration::ZERO,
                api_latencies: BTreeMap::new(),
                profile: Profile::ChromeMv2,
                autoupdate: true,
                update_check_period: DEFAULT_UPDATE_FREQUENCY,
                update_check_duration: Duration::ZERO,
                kiosk: false,
                kiosk_uptime_limit: None,
                trace_limit: None,
            },
            driver: DriverSettings {
                launcher: None,
                answer_limit: DEFAULT_NATIVE_ANSWER_LIMIT,
                trace_hook: None,
                block_on_limit: DEFAULT_BLOCK_ON_LIMIT,
            },
            watchdog: WatchdogSettings::default(),
            managed: Vec::new(),
        }
    }
}

impl BrowserBuilder {
    /// How long an event page must be idle before `onSuspend` (default 10 s).
    pub fn idle_delay(mut self, delay: Duration) -> Self {
        self.config.timers.idle_delay = delay;
        self
    }

    /// How long after `onSuspend` an event page is closed (default 5 s).
    pub fn suspending_window(mut self, window: Duration) -> Self {
        self.config.timers.suspending_window = window;
        self
    }

    /// What `runtime.getPlatformInfo()` reports; `None` makes it fail with
    /// `Platform information unavailable.` (default: Linux, x86-64).
    pub fn platform_info(mut self, info: Option<PlatformInfo>) -> Self {
        self.config.platform = info;
        self
    }

    /// The browser's version (default [`DEFAULT_BROWSER_VERSION`]).
    pub fn browser_version(mut self, version: impl Into<String>) -> Self {
        self.config.version = version.into();
        self
    }

    /// The seed of everything random in the simulation (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// How long every API call takes on the virtual clock (default: zero — it completes
    /// after everything already due now).
    pub fn api_latency(mut self, latency: Duration) -> Self {
        self.config.api_latency = latency;
        self
    }

    /// How long one API function takes, e.g. `(ApiFunction::StorageLocalSet, 2 s)`; overrides
    /// [`BrowserBuilder::api_latency`] for that function.
    pub fn api_latency_for(mut self, api: ApiFunction, latency: Duration) -> Self {
        self.config.api_latencies.insert(api, latency);
        self
    }

    /// Sets the policy of an extension's `storage.managed` from the start, as an
    /// administrator would (later, [`Browser::set_managed_storage`] replaces it).
    pub fn managed_storage(
        mut self,
        id: &ExtensionId,
        policy: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        self.managed.retain(|(known, _)| known != id);
        self.managed.push((id.clone(), policy));
        self
    }

    /// How the browser finds and ends native messaging hosts (default: Chrome's folders and
    /// rules). Tests point it at their own folders with a
    /// [`Lookup`](runtime_native::Lookup) that skips the browser's.
    pub fn native_launcher(mut self, launcher: runtime_native::Launcher) -> Self {
        self.driver.launcher = Some(launcher);
        self
    }

    /// Native hosts from one temporary folder (a [`runtime_native::TempHost`] registered for
    /// the test): the browser finds the host there, and looks nowhere else.
    pub fn native_host(self, host: &runtime_native::TempHost) -> Self {
        self.native_launcher(host.launcher())
    }

    /// How long, in real time, the browser waits for a native host that has not answered what
    /// it was sent, or that is ending (default [`DEFAULT_NATIVE_ANSWER_LIMIT`], 5 s). While it
    /// waits, virtual time does not run ahead of real time; past the limit, the trace says it
    /// gave up and the clock moves on. With `Duration::ZERO` the browser never waits for hosts:
    /// what they hand in joins the simulation at its next step (for a soak, say, that must not
    /// run at the hosts' pace).
    pub fn native_answer_limit(mut self, limit: Duration) -> Self {
        self.driver.answer_limit = limit;
        self
    }

    /// How much virtual time [`Browser::block_on`] runs while its future still waits before it
    /// gives up with [`Stalled`](crate::Stalled) (default [`DEFAULT_BLOCK_ON_LIMIT`], one day):
    /// a script whose timer sets itself again never lets the browser run out of work.
    pub fn block_on_limit(mut self, limit: Duration) -> Self {
        self.driver.block_on_limit = limit;
        self
    }

    /// Which browser to simulate (default [`Profile::ChromeMv2`]). It sets the lifecycle timers
    /// to that browser's ([`Profile::default_timers`]): call [`BrowserBuilder::idle_delay`]
    /// after it to change them. Firefox's idle delay is kept within 100 ms … 5 min.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.config.profile = profile;
        self.config.timers = profile.default_timers();
        self
    }

    /// Whether the browser has an update service (default: yes). Without one,
    /// `runtime.requestUpdateCheck()` fails with `Autoupdate is not enabled.` and the browser
    /// never checks for updates.
    pub fn autoupdate(mut self, enabled: bool) -> Self {
        self.config.autoupdate = enabled;
        self
    }

    /// How often the browser checks for updates on its own (default 5 h; each wait is
    /// jittered by ±20 % from the seeded random source). It also checks once as it starts.
    pub fn update_check_period(mut self, period: Duration) -> Self {
        self.config.update_check_period = period;
        self
    }

    /// How long one update check takes on the virtual clock (default: zero — it completes
    /// after everything already due now).
    pub fn update_check_duration(mut self, duration: Duration) -> Self {
        self.config.update_check_duration = duration;
        self
    }

    /// Runs the browser as a ChromeOS kiosk (default: no). Only then do `runtime.restart()`
    /// and `runtime.restartAfterDelay()` work and `runtime.onRestartRequired` fire.
    pub fn kiosk(mut self, kiosk: bool) -> Self {
        self.config.kiosk = kiosk;
        self
    }

    /// In kiosk mode, the uptime the enterprise policy allows: once the browser has run this
    /// long, extensions get `onRestartRequired("periodic")` (default: no limit).
    pub fn kiosk_uptime_limit(mut self, limit: Duration) -> Self {
        self.config.kiosk_uptime_limit = Some(limit);
        self
    }

    /// Keeps only the newest `limit` entries of the trace (default: every entry), so that a
    /// long run's memory stays flat; `0` keeps none. Every entry is still a `tracing` event,
    /// and [`Trace::recorded`](crate::Trace::recorded) still counts them all.
    pub fn trace_limit(mut self, limit: usize) -> Self {
        self.config.trace_limit = Some(limit);
        self
    }

    /// Calls `hook` with every trace entry, in order, soon after it is recorded (once the
    /// step that records it has run) — also those that [`BrowserBuilder::trace_limit`] does
    /// not keep, so that a long run can watch for what it needs without keeping everything.
    /// The hook runs on the thread that drives the browser; it must not call the browser.
    pub fn on_trace_entry(mut self, hook: impl Fn(&TraceEntry) + Send + Sync + 'static) -> Self {
        self.driver.trace_hook = Some(TraceHook(std::sync::Arc::new(hook)));
        self
    }

    /// How long one dispatch (the listeners of one event in one context) or one poll of a task
    /// may block the thread driving the simulation, in wall time, before the watchdog fires
    /// (default [`DEFAULT_WATCHDOG_LIMIT`](crate::DEFAULT_WATCHDOG_LIMIT), 30 s).
    ///
    /// Listeners and tasks run on the thread that calls [`Browser::advance`],
    /// [`Browser::block_on`], …; one that blocks it (`std::thread::sleep`, a blocking receive)
    /// stops the whole simulation. When the watchdog sees the same dispatch or poll still
    /// running after `limit` (it samples every `limit / 4`), it writes to stderr, and emits as a
    /// `tracing` error (target `runtime_sim::watchdog`), what is blocked — the extension, the
    /// context, the listener or task, the virtual time — and by default, when the blocked code
    /// returns, the driving thread panics with that report (see
    /// [`BrowserBuilder::watchdog_action`]). Nothing of the simulation depends on it: the trace
    /// is the same with or without a watchdog as long as nothing overruns.
    ///
    /// ```
    /// use runtime_core::Browser;
    /// use std::time::Duration;
    ///
    /// let browser = Browser::builder().watchdog(Duration::from_secs(5)).build();
    /// ```
    pub fn watchdog(mut self, limit: Duration) -> Self {
        self.watchdog.limit = Some(limit);
        self
    }

    /// Builds the browser with no watchdog: a listener that blocks its thread hangs the run.
    pub fn without_watchdog(mut self) -> Self {
        self.watchdog.limit = None;
        self
    }

    /// What the watchdog does when it fires (default [`WatchdogAction::Panic`]: report, then
    /// panic on the driving thread when the blocked code returns). [`WatchdogAction::Report`]
    /// reports and keeps waiting; if the blocked listener returns at last, the trace gets a
    /// warning that it overran.
    pub fn watchdog_action(mut self, action: WatchdogAction) -> Self {
        self.watchdog.action = action;
        self
    }

    /// A hook the watchdog calls, on its own thread, when it fires (after it has reported):
    /// for a program that must do more than the library does, as the `runtime-sim` command,
    /// which ends the process there, since a listener blocked for good never returns.
    pub fn on_watchdog(
        mut self,
        hook: impl Fn(&WatchdogReport, WatchdogAction) + Send + Sync + 'static,
    ) -> Self {
        self.watchdog.hook = Some(std::sync::Arc::new(hook));
        self
    }

    /// The browser, stopped, with no extension. Install extensions, then
    /// [`Browser::start`] it.
    pub fn build(mut self) -> Browser {
        let profile = self.config.profile;
        self.config.timers.idle_delay = profile.clamp_idle(self.config.timers.idle_delay);
        let mut model = Model::new(self.config);
        for (id, policy) in self.managed {
            model.set_managed_storage(&id, policy);
        }
        let driver = Rc::new(Driver::new(model, self.driver));
        watchdog::watch(&driver.beat, self.watchdog.with_env_override());
        Browser::from_driver(driver)
    }
}
