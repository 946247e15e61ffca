//! Browser profiles: which browser the simulation is, and the few rules that differ
//! (runtime-behaviour.md §1.1, §1.3, §1.4, §5, §7).
//!
//! A profile is data, not another state machine: it picks the background model of each
//! extension ([`BackgroundModel`]), the lifecycle timers, how each keepalive reason acts on the
//! one lifecycle ([`KeepaliveRule`]), the `getURL` scheme, and the browser whose native
//! messaging rules apply.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::model::event::OnInstalledReason;
use crate::model::keepalive::KeepaliveReason;
use crate::model::manifest::{Background, BackgroundKind};
use crate::model::names::ApiFunction;

/// Which browser the simulation is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum Profile {
    /// Chromium with Manifest V2 event pages (§1.1): 10 s idle, `onSuspend`, a 5 s window.
    /// Persistent pages stay persistent.
    #[default]
    #[serde(rename = "chrome-mv2")]
    ChromeMv2,
    /// Chromium with Manifest V3 service workers (§1.3, §7): every background runs as a service
    /// worker, stopped 30 s after its last event or API call, with no `onSuspend`.
    #[serde(rename = "chrome-mv3")]
    ChromeMv3,
    /// Firefox event pages (§1.4, §7): 30 s idle, `onSuspend` awaited, no fixed window,
    /// `moz-extension://` URLs, Firefox's native messaging.
    #[serde(rename = "firefox")]
    Firefox,
}

/// The shortest idle timeout Firefox accepts (`extensions.background.idle.timeout`).
pub const FIREFOX_MIN_IDLE: Duration = Duration::from_millis(100);
/// The longest idle timeout Firefox accepts.
pub const FIREFOX_MAX_IDLE: Duration = Duration::from_secs(5 * 60);
/// A service worker event or API call that runs longer than this gets the worker stopped
/// (Chromium's `kRequestTimeout`).
pub const SERVICE_WORKER_REQUEST_TIMEOUT: Duration = Duration::from_secs(5 * 60);

impl Profile {
    /// Every profile, in a fixed order.
    pub const ALL: [Profile; 3] = [Profile::ChromeMv2, Profile::ChromeMv3, Profile::Firefox];

    /// `chrome-mv2`, `chrome-mv3` or `firefox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::ChromeMv2 => "chrome-mv2",
            Profile::ChromeMv3 => "chrome-mv3",
            Profile::Firefox => "firefox",
        }
    }

    /// The lifecycle timers of this browser: 10 s + 5 s for Chrome event pages, 30 s for
    /// service workers and Firefox.
    pub fn default_timers(self) -> Timers {
        match self {
            Profile::ChromeMv2 => Timers::default(),
            Profile::ChromeMv3 | Profile::Firefox => Timers {
                idle_delay: Duration::from_secs(30),
                suspending_window: Duration::ZERO,
            },
        }
    }

    /// How an extension's background runs under this profile: Chrome runs a
    /// `service_worker` as a service worker (and under `chrome-mv3`, every background); Firefox
    /// runs every non-persistent background as its event page.
    pub fn background_model(self, background: &Background) -> BackgroundModel {
        let worker = matches!(background.kind, BackgroundKind::ServiceWorker(_));
        match self {
            Profile::ChromeMv2 if worker => BackgroundModel::ServiceWorker,
            Profile::ChromeMv2 if background.persistent => BackgroundModel::Persistent,
            Profile::ChromeMv2 => BackgroundModel::EventPage,
            Profile::ChromeMv3 => BackgroundModel::ServiceWorker,
            Profile::Firefox if background.persistent => BackgroundModel::Persistent,
            Profile::Firefox => BackgroundModel::FirefoxEventPage,
        }
    }

    /// The scheme of the extension's URLs.
    pub fn url_scheme(self) -> &'static str {
        match self {
            Profile::ChromeMv2 | Profile::ChromeMv3 => "chrome-extension",
            Profile::Firefox => "moz-extension",
        }
    }

    /// The `onInstalled` reason for a browser update: Chromium's `chrome_update`, Firefox's
    /// `browser_update` (its `runtime.OnInstalledReason`, toolkit/components/extensions/
    /// schemas/runtime.json).
    pub fn browser_update_reason(self) -> OnInstalledReason {
        match self {
            Profile::ChromeMv2 | Profile::ChromeMv3 => OnInstalledReason::ChromeUpdate,
            Profile::Firefox => OnInstalledReason::BrowserUpdate,
        }
    }

    /// The browser whose native messaging rules apply (argv, shutdown, errors).
    pub fn native_browser(self) -> runtime_native::BrowserKind {
        match self {
            Profile::ChromeMv2 | Profile::ChromeMv3 => runtime_native::BrowserKind::Chrome,
            Profile::Firefox => runtime_native::BrowserKind::Firefox,
        }
    }

    /// Brings an idle delay into the range the browser accepts (Firefox: 100 ms … 5 min).
    pub(crate) fn clamp_idle(self, delay: Duration) -> Duration {
        match self {
            Profile::Firefox => delay.clamp(FIREFOX_MIN_IDLE, FIREFOX_MAX_IDLE),
            _ => delay,
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is not one of `chrome-mv2`, `chrome-mv3`, `firefox`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown profile {0:?}: expected chrome-mv2, chrome-mv3 or firefox")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Profile::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

/// The timers of the background lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// How long an event page must be idle before `onSuspend` (Chromium: 10 s).
    pub idle_delay: Duration,
    /// How long after `onSuspend` the page is closed (Chromium: 5 s).
    pub suspending_window: Duration,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            idle_delay: Duration::from_secs(10),
            suspending_window: Duration::from_secs(5),
        }
    }
}

/// How a background context lives and dies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackgroundModel {
    /// Loaded at start, never suspended.
    Persistent,
    /// Chromium's event page: idle delay, `onSuspend`, then a fixed suspending window.
    EventPage,
    /// Chromium's service worker: stopped after the idle delay, with no `onSuspend`.
    ServiceWorker,
    /// Firefox's event page: idle delay, `onSuspend` awaited, then stopped unless cancelled.
    FirefoxEventPage,
}

impl BackgroundModel {
    /// How a keepalive of this reason acts on a background of this model.
    pub fn keepalive_rule(self, reason: &KeepaliveReason) -> KeepaliveRule {
        use KeepaliveReason as R;
        match self {
            BackgroundModel::Persistent | BackgroundModel::EventPage => KeepaliveRule::Holds,
            BackgroundModel::ServiceWorker => match reason {
                // Chrome 114+: a port keeps the worker alive only by its messages; extension
                // pages do not keep a worker alive.
                R::MessageChannel(_) | R::View(_) => KeepaliveRule::Ignored,
                _ => KeepaliveRule::Holds,
            },
            BackgroundModel::FirefoxEventPage => match reason {
                R::ApiCall(ApiFunction::SendNativeMessage) => KeepaliveRule::Blocks,
                R::ApiCall(_) | R::EventDispatch(_) | R::MessageInTransit(_) => {
                    KeepaliveRule::ResetsIdle
                }
                R::NativePort(_) | R::ListenerPromise(_) => KeepaliveRule::Blocks,
                R::MessageChannel(_) | R::View(_) => KeepaliveRule::Ignored,
                R::PageCreation | R::External(_) => KeepaliveRule::Holds,
            },
        }
    }

    /// Whether `onSuspend` is dispatched at all.
    pub fn has_on_suspend(self) -> bool {
        matches!(
            self,
            BackgroundModel::EventPage | BackgroundModel::FirefoxEventPage
        )
    }
}

/// How one keepalive acts on the lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeepaliveRule {
    /// Counted: the idle timer starts only when the count is back to zero (Chromium).
    Holds,
    /// Restarts the idle timer when taken, and does not hold the page (Firefox's events and
    /// API calls).
    ResetsIdle,
    /// Does not touch the idle timer, but the page is not suspended while it is held: the
    /// timer, when it fires, waits again (Firefox's native ports, pending `sendNativeMessage`,
    /// pending listener promises).
    Blocks,
    /// Does nothing to the lifecycle.
    Ignored,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_and_print_their_names() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
        }
        assert_eq!(
            "safari".parse::<Profile>().unwrap_err().to_string(),
            "unknown profile \"safari\": expected chrome-mv2, chrome-mv3 or firefox"
        );
    }

    #[test]
    fn firefox_idle_is_clamped() {
        assert_eq!(
            Profile::Firefox.clamp_idle(Duration::from_millis(1)),
            FIREFOX_MIN_IDLE
        );
        assert_eq!(
            Profile::Firefox.clamp_idle(Duration::from_secs(3600)),
            FIREFOX_MAX_IDLE
        );
        assert_eq!(
            Profile::ChromeMv2.clamp_idle(Duration::from_millis(1)),
            Duration::from_millis(1)
        );
    }
}
