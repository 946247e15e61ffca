//! The settings a browser is built with that its rules read.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::model::manifest::Manifest;
use crate::model::names::ApiFunction;
use crate::model::page_lifecycle::Lifecycle;
use crate::model::platform::PlatformInfo;
use crate::model::profile::{Profile, Timers};

/// Settings fixed when the browser is built.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) timers: Timers,
    pub(crate) platform: Option<PlatformInfo>,
    pub(crate) version: String,
    pub(crate) seed: u64,
    pub(crate) api_latency: Duration,
    pub(crate) api_latencies: BTreeMap<ApiFunction, Duration>,
    /// Which browser this is.
    pub(crate) profile: Profile,
    /// Whether the browser has an update service (`requestUpdateCheck` works, periodic
    /// checks run).
    pub(crate) autoupdate: bool,
    /// How often the browser checks for updates (±20 %).
    pub(crate) update_check_period: Duration,
    /// How long one update check takes.
    pub(crate) update_check_duration: Duration,
    /// ChromeOS kiosk mode.
    pub(crate) kiosk: bool,
    /// The uptime after which a kiosk device must restart (`onRestartRequired("periodic")`).
    pub(crate) kiosk_uptime_limit: Option<Duration>,
    /// How many trace entries to keep (the newest), if not all.
    pub(crate) trace_limit: Option<usize>,
}

impl Config {
    /// Whether `onMessage` listeners may answer with a promise (Chrome 144 and later).
    pub(crate) fn promise_responses(&self) -> bool {
        let major = self
            .version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        major.is_none_or(|m| m >= 144)
    }

    /// The lifecycle of a background as this browser runs it.
    pub(crate) fn lifecycle_for(&self, manifest: &Manifest) -> Option<Lifecycle> {
        manifest
            .background()
            .map(|bg| Lifecycle::with_model(self.profile.background_model(bg), self.timers))
    }

    /// How long a call of `api` takes on the virtual clock.
    pub(crate) fn latency(&self, api: ApiFunction) -> Duration {
        self.api_latencies
            .get(&api)
            .copied()
            .unwrap_or(self.api_latency)
    }
}
