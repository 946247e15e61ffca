//! `chrome.alarms`: the alarms the browser keeps for each extension, firing on the virtual
//! clock and waking its page (Chromium's `AlarmManager`, `extensions/browser/api/alarms/`).
//! They outlive the page: a suspended event page is loaded again for its alarm.

use std::sync::Arc;
use std::time::Duration;

use runtime_events::SimInstant;
use serde_json::Value;

use crate::model::alarm::{
    Alarm, AlarmCreate, MV2_ALARM_MINIMUM, MV3_ALARM_MINIMUM, UNPACKED_ALARM_MINIMUM,
};
use crate::model::calls::{ApiRequest, CallOutcome};
use crate::model::event::RuntimeEvent;
use crate::model::extension_id::ExtensionId;
use crate::model::package::Location;
use crate::model::work::Work;
use crate::model::world::Model;

/// `alarms.create` with both `when` and `delayInMinutes`.
const BOTH_RELATIVE_AND_ABSOLUTE: &str = "Cannot set both when and delayInMinutes.";
/// `alarms.create` with none of the three.
const NO_SCHEDULED_TIME: &str =
    "Must set at least one of when, delayInMinutes, or periodInMinutes.";

fn minutes(duration: Duration) -> f64 {
    duration.as_secs_f64() / 60.0
}

impl Model {
    /// The shortest delay or period an extension's alarms get.
    fn alarm_minimum(&self, ext: &ExtensionId) -> Duration {
        let Some(rec) = self.ext(ext) else {
            return MV3_ALARM_MINIMUM;
        };
        // Loaded unpacked or from the command line (`Manifest::IsUnpackedLocation`).
        if rec.location != Location::Packed {
            UNPACKED_ALARM_MINIMUM
        } else if rec.manifest.manifest_version() >= 3 {
            MV3_ALARM_MINIMUM
        } else {
            MV2_ALARM_MINIMUM
        }
    }

    /// An `alarms.*` call: its outcome.
    pub(crate) fn alarms_call(&mut self, ext: &ExtensionId, request: ApiRequest) -> CallOutcome {
        let result = match request {
            ApiRequest::AlarmsCreate(create) => {
                self.create_alarm(ext, create).map(|()| Value::Null)
            }
            ApiRequest::AlarmsGet(name) => Ok(self
                .ext(ext)
                .and_then(|rec| rec.alarms.get(&name))
                .map_or(Value::Null, |alarm| {
                    serde_json::to_value(alarm).unwrap_or(Value::Null)
                })),
            ApiRequest::AlarmsGetAll => Ok(Value::Array(
                self.ext(ext)
                    .map(|rec| {
                        rec.alarms
                            .values()
                            .filter_map(|a| serde_json::to_value(a).ok())
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            ApiRequest::AlarmsClear(name) => Ok(Value::Bool(
                self.ext_mut(ext)
                    .is_some_and(|rec| rec.alarms.remove(&name).is_some()),
            )),
            ApiRequest::AlarmsClearAll => {
                if let Some(rec) = self.ext_mut(ext) {
                    rec.alarms.clear();
                }
                Ok(Value::Bool(true))
            }
            _ => Ok(Value::Null),
        };
        CallOutcome::Json(result)
    }

    fn create_alarm(&mut self, ext: &ExtensionId, create: AlarmCreate) -> Result<(), String> {
        if create.when_ms.is_some() && create.delay_minutes.is_some() {
            return Err(BOTH_RELATIVE_AND_ABSOLUTE.to_owned());
        }
        if create.when_ms.is_none()
            && create.delay_minutes.is_none()
            && create.period_minutes.is_none()
        {
            return Err(NO_SCHEDULED_TIME.to_owned());
        }
        let minimum = minutes(self.alarm_minimum(ext));
        let now_ms = self.now().since_start().as_secs_f64() * 1000.0;
        let period = create.period_minutes.map(|p| p.max(minimum));
        let scheduled = match (create.when_ms, create.delay_minutes, period) {
            (Some(when), _, _) => when.max(now_ms),
            (None, Some(delay), _) => now_ms + delay.max(minimum) * 60_000.0,
            (None, None, Some(period)) => now_ms + period * 60_000.0,
            (None, None, None) => now_ms,
        };
        let generation = self.ids.next_alarm_generation();
        let Some(rec) = self.ext_mut(ext) else {
            return Ok(());
        };
        // An alarm of the same name is replaced.
        rec.alarms.insert(
            create.name.clone(),
            Alarm {
                name: create.name.clone(),
                scheduled_time: scheduled,
                period_in_minutes: period,
                generation,
            },
        );
        self.schedule_alarm(ext, &create.name, scheduled, generation);
        Ok(())
    }

    fn schedule_alarm(&mut self, ext: &ExtensionId, name: &str, at_ms: f64, generation: u64) {
        let at = SimInstant::from_start(Duration::from_secs_f64(at_ms.max(0.0) / 1000.0));
        let at = at.max(self.now());
        self.bus.post_at(
            at,
            Work::Alarm {
                ext: ext.clone(),
                name: Arc::from(name),
                generation,
            },
        );
    }

    /// At the browser's start: every kept alarm is scheduled again (at once if its time
    /// passed while the browser was stopped).
    pub(crate) fn reschedule_alarms(&mut self) {
        let due: Vec<(ExtensionId, String, f64)> = self
            .extensions
            .values()
            .flat_map(|rec| {
                rec.alarms
                    .values()
                    .map(|a| (rec.id.clone(), a.name.clone(), a.scheduled_time))
            })
            .collect();
        for (ext, name, at) in due {
            // A new generation: what was scheduled before the stop is stale.
            let generation = self.ids.next_alarm_generation();
            if let Some(alarm) = self.ext_mut(&ext).and_then(|r| r.alarms.get_mut(&name)) {
                alarm.generation = generation;
            }
            self.schedule_alarm(&ext, &name, at, generation);
        }
    }

    /// An alarm is due: `alarms.onAlarm` goes to the extension (waking its page), and a
    /// periodic alarm is scheduled again; a one-time alarm is gone.
    pub(crate) fn alarm_due(&mut self, ext: &ExtensionId, name: &str, generation: u64) {
        let running = self.running;
        let now_ms = self.now().since_start().as_secs_f64() * 1000.0;
        let Some(rec) = self.ext_mut(ext) else {
            return;
        };
        let Some(alarm) = rec
            .alarms
            .get(name)
            .filter(|a| a.generation == generation)
            .cloned()
        else {
            return;
        };
        if !running || !rec.life.is_running() {
            return;
        }
        match alarm.period_in_minutes {
            Some(period) => {
                let next = (alarm.scheduled_time + period * 60_000.0).max(now_ms);
                if let Some(kept) = rec.alarms.get_mut(name) {
                    kept.scheduled_time = next;
                }
                self.schedule_alarm(ext, name, next, generation);
            }
            None => {
                rec.alarms.remove(name);
            }
        }
        let args = serde_json::to_value(&alarm).unwrap_or(Value::Null);
        let name = self.event_names.intern("alarms.onAlarm");
        self.bus.post(Work::Deliver {
            ext: ext.clone(),
            event: RuntimeEvent::Named { name, args },
        });
    }
}
