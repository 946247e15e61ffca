//! The trace entries the expectations look at, kept as the browser records them (through
//! [`BrowserBuilder::on_trace_entry`](crate::BrowserBuilder::on_trace_entry)), so that the
//! checks stay right when `trace_limit` keeps only the newest entries, and a long run keeps
//! only what its expectations need.

use serde_json::Value;

use super::check::contains;
use super::expect::Expectation;
use super::ids::Ids;
use crate::{ExtensionId, TraceEntry, TraceEvent};

/// How many entries of the kind an `entry` expectation names are kept besides those that
/// match it, to show in its failure.
pub(crate) const SAME_KIND_SHOWN: usize = 5;

/// What to keep for one expectation.
#[derive(Debug)]
enum Rule {
    /// The events dispatched to and missed by one extension.
    Dispatches(ExtensionId),
    /// Entries with these fields (and a few of the same kind), of one extension or any.
    Entry {
        extension: Option<ExtensionId>,
        fields: Value,
        kind: Option<Value>,
        same_kind: usize,
    },
}

/// The entries kept for the checks.
#[derive(Debug, Default)]
pub(crate) struct Watch {
    rules: Vec<Rule>,
    kept: Vec<TraceEntry>,
}

impl Watch {
    /// What the expectations will look at.
    pub(crate) fn new(expectations: &[Expectation], ids: &Ids) -> Watch {
        let id = |name: &str| {
            ids.get(name)
                .cloned()
                .unwrap_or_else(|| ExtensionId::from_bytes(name.as_bytes()))
        };
        let rules = expectations
            .iter()
            .filter_map(|expectation| match expectation {
                Expectation::Event(e) => Some(Rule::Dispatches(id(&e.extension))),
                Expectation::Missed(e) => Some(Rule::Dispatches(id(&e.extension))),
                Expectation::Dispatches(e) => Some(Rule::Dispatches(id(&e.extension))),
                Expectation::Entry(e) => {
                    let fields = ids.expand(&Value::Object(e.fields.clone()));
                    Some(Rule::Entry {
                        extension: e.extension.as_deref().map(id),
                        kind: fields.get("kind").cloned(),
                        fields,
                        same_kind: 0,
                    })
                }
                Expectation::State(_) | Expectation::Storage(_) | Expectation::Outcome(_) => None,
            })
            .collect();
        Watch {
            rules,
            kept: Vec::new(),
        }
    }

    /// Whether any expectation looks at trace entries.
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Sees one entry: keeps it if an expectation may look at it.
    pub(crate) fn see(&mut self, entry: &TraceEntry) {
        let mut keep = false;
        let mut json: Option<Value> = None;
        for rule in &mut self.rules {
            match rule {
                Rule::Dispatches(id) => {
                    keep |= entry.extension.as_ref() == Some(id)
                        && matches!(
                            entry.event,
                            TraceEvent::EventDispatched { .. } | TraceEvent::EventMissed { .. }
                        );
                }
                Rule::Entry {
                    extension,
                    fields,
                    kind,
                    same_kind,
                } => {
                    if extension.is_some() && entry.extension != *extension {
                        continue;
                    }
                    let json = json
                        .get_or_insert_with(|| serde_json::to_value(entry).unwrap_or(Value::Null));
                    if contains(json, fields) {
                        keep = true;
                    } else if kind.is_some()
                        && json.get("kind") == kind.as_ref()
                        && *same_kind < SAME_KIND_SHOWN
                    {
                        *same_kind += 1;
                        keep = true;
                    }
                }
            }
        }
        if keep {
            self.kept.push(entry.clone());
        }
    }

    /// The entries kept, oldest first.
    pub(crate) fn entries(&self) -> &[TraceEntry] {
        &self.kept
    }
}
