//! Checking expectations against what a run recorded: each check says what was expected and
//! what actually happened, in the same words.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use super::duration::Dur;
use super::expect::{
    ContextKind, DispatchesExpectation, EntryExpectation, EventExpectation, Expectation,
    MissedExpectation, OutcomeExpectation, PageStateName, StateExpectation, StorageExpectation,
    Window,
};
use super::ids::Ids;
use super::outcome::{Happening, What};
use super::states::{ExtensionState, StateReader};
use crate::{ExtensionId, PageState, SimInstant, TraceContext, TraceEntry, TraceEvent};

/// What a run recorded, for the checks.
pub(crate) struct Record<'a> {
    pub(crate) ids: &'a Ids,
    /// The trace entries the expectations look at (see `watch.rs`).
    pub(crate) entries: &'a [TraceEntry],
    pub(crate) happenings: &'a [Happening],
    pub(crate) storage: &'a BTreeMap<ExtensionId, BTreeMap<String, Value>>,
    pub(crate) states: &'a StateReader,
    pub(crate) end: SimInstant,
}

/// One expectation, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Its index in `expect`.
    pub index: usize,
    /// Whether it held.
    pub passed: bool,
    /// What was expected, in words.
    pub expected: String,
    /// What happened, in the same words.
    pub actual: String,
}

/// Checks every expectation.
pub(crate) fn check_all(expectations: &[Expectation], record: &Record<'_>) -> Vec<Check> {
    expectations
        .iter()
        .enumerate()
        .map(|(index, expectation)| {
            let (passed, expected, actual) = match expectation {
                Expectation::Event(e) => event(e, record),
                Expectation::Missed(e) => missed(e, record),
                Expectation::Dispatches(e) => dispatches(e, record),
                Expectation::State(e) => state(index, e, record),
                Expectation::Storage(e) => storage(e, record),
                Expectation::Outcome(e) => outcome(e, record),
                Expectation::Entry(e) => entry(e, record),
            };
            Check {
                index,
                passed,
                expected,
                actual,
            }
        })
        .collect()
}

type Verdict = (bool, String, String);

fn id_of(record: &Record<'_>, name: &str) -> ExtensionId {
    record
        .ids
        .get(name)
        .cloned()
        .unwrap_or_else(|| ExtensionId::from_bytes(name.as_bytes()))
}

fn of<'r>(record: &'r Record<'_>, id: &ExtensionId) -> impl Iterator<Item = &'r TraceEntry> {
    let id = id.clone();
    record
        .entries
        .iter()
        .filter(move |e| e.extension.as_ref() == Some(&id))
}

/// Whether a trace entry is in a context of this kind (any, without one).
fn in_context(entry: &TraceEntry, kind: Option<ContextKind>) -> bool {
    match kind {
        None => true,
        Some(ContextKind::Background) => {
            matches!(entry.context, Some(TraceContext::Background) | None)
        }
        Some(ContextKind::View) => matches!(entry.context, Some(TraceContext::View { .. })),
        Some(ContextKind::ContentScript) => {
            matches!(entry.context, Some(TraceContext::ContentScript { .. }))
        }
    }
}

/// ` (its views)`, or nothing without a context.
fn in_words(kind: Option<ContextKind>) -> String {
    kind.map_or(String::new(), |k| format!(" ({})", k.as_str()))
}

/// A time condition: exactly at, or within a window.
struct When {
    at: Option<Dur>,
    within: Option<Window>,
}

impl When {
    fn holds(&self, at: SimInstant) -> bool {
        match (self.at, self.within) {
            (Some(exact), _) => at == exact.instant(),
            (None, Some(window)) => window.from.instant() <= at && at <= window.to.instant(),
            (None, None) => true,
        }
    }

    fn words(&self) -> String {
        match (self.at, self.within) {
            (Some(exact), _) => format!(" at {}", exact.instant()),
            (None, Some(window)) => {
                format!(
                    " between {} and {}",
                    window.from.instant(),
                    window.to.instant()
                )
            }
            (None, None) => String::new(),
        }
    }
}

fn times(count: Option<usize>) -> String {
    match count {
        Some(1) => " exactly once".to_owned(),
        Some(n) => format!(" exactly {n} times"),
        None => String::new(),
    }
}

/// Whether `actual` has everything `expected` has (objects: these keys, recursively).
pub(crate) fn contains(actual: &Value, expected: &Value) -> bool {
    match (actual, expected) {
        (Value::Object(actual), Value::Object(expected)) => expected
            .iter()
            .all(|(k, v)| actual.get(k).is_some_and(|a| contains(a, v))),
        (Value::Array(actual), Value::Array(expected)) => {
            actual.len() == expected.len()
                && actual.iter().zip(expected).all(|(a, e)| contains(a, e))
        }
        _ => actual == expected,
    }
}

/// Whether `count` matches (`None`: at least one).
fn count_holds(found: usize, count: Option<usize>) -> bool {
    match count {
        Some(n) => found == n,
        None => found > 0,
    }
}

fn event(e: &EventExpectation, record: &Record<'_>) -> Verdict {
    let id = id_of(record, &e.extension);
    let when = When {
        at: e.at,
        within: e.within,
    };
    let args = e.args.as_ref().map(|a| record.ids.expand(a));
    let all: Vec<(SimInstant, usize, &Value)> = of(record, &id)
        .filter(|entry| in_context(entry, e.context))
        .filter_map(|entry| match &entry.event {
            TraceEvent::EventDispatched {
                event,
                listeners,
                args,
            } if *event == e.event => Some((entry.at, *listeners, &**args)),
            _ => None,
        })
        .collect();
    let fits = |(at, listeners, a): &(SimInstant, usize, &Value)| {
        when.holds(*at)
            && e.listeners.is_none_or(|n| n == *listeners)
            && args.as_ref().is_none_or(|x| contains(a, x))
    };
    let found = all.iter().filter(|d| fits(d)).count();
    let whom = format!("{}{}", e.extension, in_words(e.context));
    let mut expected = match e.count {
        Some(0) => format!("{} never reaches {whom}{}", e.event, when.words()),
        count => format!("{} reaches {whom}{}{}", e.event, when.words(), times(count)),
    };
    if let Some(n) = e.listeners {
        let _ = write!(expected, ", with {n} listener{}", plural(n));
    }
    if let Some(args) = &args {
        let _ = write!(expected, ", with {args}");
    }
    let actual = if all.is_empty() {
        format!("{} never reached {whom}", e.event)
    } else {
        let each: Vec<String> = all
            .iter()
            .map(|(at, listeners, a)| {
                let mut one = format!("{at} ({listeners} listener{})", plural(*listeners));
                if !a.is_null() && args.is_some() {
                    let _ = write!(one, " {a}");
                }
                one
            })
            .collect();
        format!("{} reached {whom} at {}", e.event, each.join(", "))
    };
    (count_holds(found, e.count), expected, actual)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn missed(e: &MissedExpectation, record: &Record<'_>) -> Verdict {
    let id = id_of(record, &e.extension);
    let when = When {
        at: e.at,
        within: e.within,
    };
    let all: Vec<SimInstant> = of(record, &id)
        .filter(|entry| matches!(&entry.event, TraceEvent::EventMissed { event, .. } if *event == e.event))
        .map(|entry| entry.at)
        .collect();
    let found = all.iter().filter(|at| when.holds(**at)).count();
    let expected = match e.count {
        Some(0) => format!(
            "{} is never missed by {}{}",
            e.event,
            e.extension,
            when.words()
        ),
        count => format!(
            "{} is missed by {}{}{}",
            e.event,
            e.extension,
            when.words(),
            times(count)
        ),
    };
    let actual = if all.is_empty() {
        format!("{} was never missed by {}", e.event, e.extension)
    } else {
        format!(
            "{} was missed by {} at {}",
            e.event,
            e.extension,
            list(&all)
        )
    };
    (count_holds(found, e.count), expected, actual)
}

fn list(times: &[SimInstant]) -> String {
    let all: Vec<String> = times.iter().map(ToString::to_string).collect();
    all.join(", ")
}

fn dispatches(e: &DispatchesExpectation, record: &Record<'_>) -> Verdict {
    let id = id_of(record, &e.extension);
    let when = When {
        at: None,
        within: e.within,
    };
    let actual: Vec<(SimInstant, String, bool)> = of(record, &id)
        .filter(|entry| when.holds(entry.at) && in_context(entry, e.context))
        .filter_map(|entry| match &entry.event {
            TraceEvent::EventDispatched { event, .. } => Some((entry.at, event.to_string(), false)),
            TraceEvent::EventMissed { event, .. } => Some((entry.at, event.to_string(), true)),
            _ => None,
        })
        .collect();
    let expected: Vec<(SimInstant, String, bool)> = e
        .are
        .iter()
        .map(|d| (d.at.instant(), d.event.clone(), d.missed))
        .collect();
    let show = |events: &[(SimInstant, String, bool)]| {
        if events.is_empty() {
            return "no event".to_owned();
        }
        let lines: Vec<String> = events
            .iter()
            .map(|(at, event, missed)| {
                format!("{at} {event}{}", if *missed { " (missed)" } else { "" })
            })
            .collect();
        lines.join("; ")
    };
    let whom = format!("{}{}", e.extension, in_words(e.context));
    (
        actual == expected,
        format!(
            "exactly these events reach {whom}{}: {}",
            when.words(),
            show(&expected)
        ),
        format!("{whom}{}: {}", when.words(), show(&actual)),
    )
}

fn page_name(state: PageState) -> &'static str {
    state.as_str()
}

fn state(index: usize, e: &StateExpectation, record: &Record<'_>) -> Verdict {
    // The run read every state it was asked for (a run that failed is not checked).
    let now = record
        .states
        .state(index)
        .cloned()
        .unwrap_or_else(ExtensionState::absent);
    let mut expected = Vec::new();
    let mut actual = Vec::new();
    let mut passed = true;
    if let Some(page) = e.page {
        expected.push(format!("page {}", page.as_str()));
        actual.push(format!("page {}", page_name(now.page)));
        passed &= PageStateName::as_str(page) == page_name(now.page);
    }
    if let Some(keepalive) = e.keepalive {
        expected.push(format!("keepalive {keepalive}"));
        actual.push(format!("keepalive {}", now.keepalive));
        passed &= keepalive == now.keepalive;
    }
    if let Some(loads) = e.loads {
        expected.push(format!("loaded {loads} time{}", plural(loads as usize)));
        actual.push(format!(
            "loaded {} time{}",
            now.loads,
            plural(now.loads as usize)
        ));
        passed &= loads == now.loads;
    }
    if let Some(installed) = e.installed {
        let word = |yes: bool| if yes { "installed" } else { "not installed" };
        expected.push(word(installed).to_owned());
        actual.push(word(now.installed).to_owned());
        passed &= installed == now.installed;
    }
    if let Some(version) = &e.version {
        expected.push(format!("version {version}"));
        actual.push(match &now.version {
            Some(v) => format!("version {v}"),
            None => "no version installed".to_owned(),
        });
        passed &= now.version.as_ref() == Some(version);
    }
    if let Some(pending) = &e.pending_update {
        let words = |p: &Option<String>| match p {
            Some(v) => format!("update {v} waiting"),
            None => "no update waiting".to_owned(),
        };
        expected.push(words(pending));
        actual.push(words(&now.pending_update));
        passed &= *pending == now.pending_update;
    }
    if let Some(terminated) = e.terminated {
        let word = |yes: bool| if yes { "terminated" } else { "not terminated" };
        expected.push(word(terminated).to_owned());
        actual.push(word(now.terminated).to_owned());
        passed &= terminated == now.terminated;
    }
    let when = match e.at {
        Some(d) => format!("at {}", d.instant()),
        None => format!("at the end ({})", record.end),
    };
    (
        passed,
        format!("{} {when}: {}", e.extension, expected.join(", ")),
        format!("{} {when}: {}", e.extension, actual.join(", ")),
    )
}

fn storage(e: &StorageExpectation, record: &Record<'_>) -> Verdict {
    let id = id_of(record, &e.extension);
    let stored = record.storage.get(&id).and_then(|s| s.get(&e.key));
    let expected_value = e.equals.as_ref().map(|v| record.ids.expand(v));
    let expected = match &expected_value {
        Some(value) => format!("{} stores {} = {value}", e.extension, e.key),
        None => format!("{} stores nothing under {}", e.extension, e.key),
    };
    let actual = match stored {
        Some(value) => format!("{} stores {} = {value}", e.extension, e.key),
        None => format!("{} stores nothing under {}", e.extension, e.key),
    };
    (stored == expected_value.as_ref(), expected, actual)
}

fn outcome(e: &OutcomeExpectation, record: &Record<'_>) -> Verdict {
    let when = When {
        at: e.at,
        within: e.within,
    };
    let wanted = match &e.is {
        super::outcome::OutcomeValue::Value(v) => {
            super::outcome::OutcomeValue::Value(record.ids.expand(v))
        }
        other => other.clone(),
    };
    let all: Vec<(SimInstant, &super::outcome::OutcomeValue)> = record
        .happenings
        .iter()
        .filter_map(|h| match &h.what {
            What::Outcome { label, outcome } if *label == e.of => Some((h.at, outcome)),
            _ => None,
        })
        .collect();
    let passed = all
        .iter()
        .any(|(at, got)| when.holds(*at) && **got == wanted);
    let expected = format!("{} = {wanted}{}", e.of, when.words());
    let actual = if all.is_empty() {
        format!(
            "nothing was recorded as {} (the action did not run, or has not finished)",
            e.of
        )
    } else {
        let each: Vec<String> = all
            .iter()
            .map(|(at, got)| format!("{} = {got} at {at}", e.of))
            .collect();
        each.join("; ")
    };
    (passed, expected, actual)
}

fn entry(e: &EntryExpectation, record: &Record<'_>) -> Verdict {
    let when = When {
        at: e.at,
        within: e.within,
    };
    let fields = record.ids.expand(&Value::Object(e.fields.clone()));
    let id = e.extension.as_ref().map(|name| id_of(record, name));
    let entries: Vec<(SimInstant, Value)> = record
        .entries
        .iter()
        .filter(|entry| id.is_none() || entry.extension == id)
        .map(|entry| (entry.at, serde_json::to_value(entry).unwrap_or(Value::Null)))
        .collect();
    let matching: Vec<SimInstant> = entries
        .iter()
        .filter(|(_, json)| contains(json, &fields))
        .map(|(at, _)| *at)
        .collect();
    let found = matching.iter().filter(|at| when.holds(**at)).count();
    let whose = e
        .extension
        .as_ref()
        .map_or(String::new(), |name| format!(" of {name}"));
    let expected = match e.count {
        Some(0) => format!("no trace entry{whose} with {fields}{}", when.words()),
        count => format!(
            "a trace entry{whose} with {fields}{}{}",
            when.words(),
            times(count)
        ),
    };
    let actual = if matching.is_empty() {
        let kind = fields.get("kind");
        let same_kind: Vec<String> = entries
            .iter()
            .filter(|(_, json)| kind.is_some() && json.get("kind") == kind)
            .take(5)
            .map(|(_, json)| json.to_string())
            .collect();
        if same_kind.is_empty() {
            format!("no trace entry{whose} has these fields")
        } else {
            format!(
                "no trace entry{whose} has these fields; entries of that kind: {}",
                same_kind.join("; ")
            )
        }
    } else {
        format!("such entries{whose} at {}", list(&matching))
    };
    (count_holds(found, e.count), expected, actual)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_match_when_they_have_the_fields() {
        let actual = json!({"kind": "channel_closed", "channel": 3, "error": "boom"});
        assert!(contains(&actual, &json!({"kind": "channel_closed"})));
        assert!(contains(
            &actual,
            &json!({"kind": "channel_closed", "error": "boom"})
        ));
        assert!(!contains(&actual, &json!({"error": "other"})));
        assert!(contains(
            &json!([1, {"a": 1, "b": 2}]),
            &json!([1, {"a": 1}])
        ));
        assert!(!contains(&json!([1, 2]), &json!([1])));
    }
}
