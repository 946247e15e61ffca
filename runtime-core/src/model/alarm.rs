//! An alarm of `chrome.alarms` as data: what `alarms.create` was given, an alarm as
//! `alarms.get` gives it, and the shortest delays Chromium allows. The rules are in
//! `alarms.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// The shortest delay or period of an unpacked extension's alarm: 1 s
/// (`alarms_api_constants::kDevDelayMinimum`).
pub const UNPACKED_ALARM_MINIMUM: Duration = Duration::from_secs(1);
/// The shortest delay or period of a packed Manifest V2 extension's alarm: 1 min.
pub const MV2_ALARM_MINIMUM: Duration = Duration::from_secs(60);
/// The shortest delay or period of a packed Manifest V3 extension's alarm: 30 s, the service
/// worker's idle timeout.
pub const MV3_ALARM_MINIMUM: Duration = Duration::from_secs(30);

/// What `alarms.create` was given (`when` in milliseconds of virtual time).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct AlarmCreate {
    pub(crate) name: String,
    pub(crate) when_ms: Option<f64>,
    pub(crate) delay_minutes: Option<f64>,
    pub(crate) period_minutes: Option<f64>,
}

/// One alarm, as `alarms.get` gives it (`scheduledTime` in milliseconds of virtual time).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Alarm {
    pub(crate) name: String,
    pub(crate) scheduled_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) period_in_minutes: Option<f64>,
    /// Which firing of the bus is this alarm's (a replaced or cleared alarm's is stale).
    #[serde(skip)]
    pub(crate) generation: u64,
}

/// An extension's alarms, by name.
pub(crate) type Alarms = BTreeMap<String, Alarm>;
