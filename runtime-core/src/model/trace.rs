//! The trace: everything the simulated browser did, kept in order.

use std::fmt::Write as _;

use crate::model::extension_id::ExtensionId;
use runtime_events::SimInstant;
use serde_json::Value;

use crate::model::ids::ChannelId;
use crate::model::trace_entry::{TraceContext, TraceEntry, TraceEvent};
use crate::model::trace_pack::{PackedEntries, TraceEntries};

/// The trace of a simulation: entries in the order they happened, and the names of the
/// extensions they mention.
///
/// By default it keeps every entry. A browser built with
/// [`BrowserBuilder::trace_limit`](crate::BrowserBuilder::trace_limit) keeps only the newest
/// entries, so that a long run's memory stays flat; [`Trace::recorded`] still counts them all.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The kept entries; with a limit, the newest `limit` of them are the visible ones and
    /// older ones are dropped in chunks (at most `limit` of them wait here to be dropped).
    entries: PackedEntries,
    /// How many entries to keep, if not all.
    limit: Option<usize>,
    /// How many entries were dropped from the front.
    dropped: u64,
    /// With a hook that sees every entry: how many entries were handed to it. An entry not
    /// yet handed over is kept, whatever the limit.
    tapped: Option<u64>,
}

/// Whether a `tracing` subscriber listens to the trace's entries.
fn tracing_enabled() -> bool {
    tracing::enabled!(target: "runtime_sim::trace", tracing::Level::ERROR)
}

/// Hands an entry to `tracing` (formatting is paid only when a subscriber listens).
fn emit(
    at: SimInstant,
    extension: Option<&ExtensionId>,
    context: Option<&TraceContext>,
    event: &TraceEvent,
) {
    if !tracing_enabled() {
        return;
    }
    let ext = extension.map_or("", |e| e.as_str());
    let context = context.map(ToString::to_string);
    if event.is_error() {
        tracing::error!(target: "runtime_sim::trace", at = %at, extension = ext, context, "{}", event);
    } else {
        tracing::info!(target: "runtime_sim::trace", at = %at, extension = ext, context, "{}", event);
    }
}

/// A [`TraceEvent::Responded`] whose response is borrowed.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Response<'a> {
    pub(crate) channel: ChannelId,
    pub(crate) ok: bool,
    pub(crate) response: &'a Value,
}

impl Response<'_> {
    /// The entry's event, the response copied.
    pub(crate) fn to_event(self) -> TraceEvent {
        TraceEvent::Responded {
            channel: self.channel,
            ok: self.ok,
            response: self.response.clone(),
        }
    }
}

impl Trace {
    /// An empty trace that keeps the newest `limit` entries (all of them with `None`).
    pub(crate) fn with_limit(limit: Option<usize>) -> Self {
        Trace {
            limit,
            ..Trace::default()
        }
    }

    /// Records a whole entry.
    #[cfg(test)]
    pub(crate) fn record(&mut self, entry: TraceEntry) {
        let TraceEntry {
            at,
            extension,
            context,
            event,
        } = entry;
        self.record_parts(at, extension.as_ref(), context, event);
    }

    /// Records an entry given by its parts: the extension is only borrowed (the trace keeps
    /// its own index of extensions), so recording costs no copy of the entry.
    pub(crate) fn record_parts(
        &mut self,
        at: SimInstant,
        extension: Option<&ExtensionId>,
        context: Option<TraceContext>,
        event: TraceEvent,
    ) {
        emit(at, extension, context.as_ref(), &event);
        if self.make_room() {
            self.entries.push(at, extension, context, event);
        }
    }

    /// Records that a receiver answered a one-time message, from a borrowed response: the
    /// trace keeps its JSON text, so the response itself need not be copied for it.
    pub(crate) fn record_response(
        &mut self,
        at: SimInstant,
        extension: Option<&ExtensionId>,
        context: Option<TraceContext>,
        response: Response<'_>,
    ) {
        if tracing_enabled() {
            emit(at, extension, context.as_ref(), &response.to_event());
        }
        if self.make_room() {
            self.entries.push_response(at, extension, context, response);
        }
    }

    /// Drops the oldest entries if the limit says so; `false` when the new entry is not to be
    /// kept at all (a limit of 0, with no hook to hand it to).
    fn make_room(&mut self) -> bool {
        match self.limit {
            None => {}
            Some(0) if self.tapped.is_none() => {
                self.dropped += 1;
                return false;
            }
            // Dropping `limit` entries at once keeps the cost per entry constant.
            Some(limit) if self.entries.len() >= 2 * limit.max(1) => {
                let seen = match self.tapped {
                    Some(tapped) => (tapped - self.dropped) as usize,
                    None => self.entries.len(),
                };
                let drop = limit.max(1).min(seen);
                self.entries.drop_oldest(drop);
                self.dropped += drop as u64;
            }
            Some(_) => {}
        }
        true
    }

    /// Hands every entry recorded from now on to [`Trace::untapped`] before a limit drops it.
    pub(crate) fn tap(&mut self) {
        self.tapped = Some(self.recorded());
    }

    /// The entries recorded since the last call (with [`Trace::tap`]), oldest first.
    pub(crate) fn untapped(&mut self) -> Vec<TraceEntry> {
        let Some(tapped) = self.tapped else {
            return Vec::new();
        };
        let recorded = self.recorded();
        if tapped == recorded {
            return Vec::new();
        }
        let from = (tapped - self.dropped) as usize;
        self.tapped = Some(recorded);
        TraceEntries::new(&self.entries, from).collect()
    }

    pub(crate) fn name_extension(&mut self, id: &ExtensionId, name: &str) {
        self.entries.name_extension(id, name);
    }

    /// The entries, oldest first: all of them, or with a limit the newest `limit`. Each is
    /// read from the trace's compact storage as the iterator reaches it.
    pub fn entries(&self) -> TraceEntries<'_> {
        TraceEntries::new(&self.entries, self.first_kept())
    }

    /// How many entries [`Trace::entries`] gives.
    pub fn len(&self) -> usize {
        self.entries.len() - self.first_kept()
    }

    /// Whether [`Trace::entries`] gives none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `index`th of [`Trace::entries`], oldest first.
    pub fn get(&self, index: usize) -> Option<TraceEntry> {
        self.entries.get(self.first_kept().checked_add(index)?)
    }

    /// The newest entry.
    pub fn last(&self) -> Option<TraceEntry> {
        self.entries().next_back()
    }

    /// The index in `entries` of the first visible entry.
    fn first_kept(&self) -> usize {
        match self.limit {
            Some(limit) => self.entries.len().saturating_sub(limit),
            None => 0,
        }
    }

    /// How many entries were recorded since the browser was built, kept or not.
    pub fn recorded(&self) -> u64 {
        self.dropped + self.entries.len() as u64
    }

    /// How many of the oldest entries are no longer kept (always 0 without a limit).
    pub fn dropped(&self) -> u64 {
        self.recorded() - self.len() as u64
    }

    /// The name of an extension the trace mentions.
    pub fn extension_name(&self, id: &ExtensionId) -> Option<&str> {
        self.entries.extension_name(id)
    }

    /// The entries as JSON Lines: one JSON object per line.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for entry in self.entries() {
            // A TraceEntry holds only strings, numbers and JSON values: it always serialises.
            if let Ok(line) = serde_json::to_string(&entry) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// A readable timeline: virtual time, extension name, context, what happened.
    pub fn timeline(&self) -> String {
        let mut out = String::new();
        for entry in self.entries() {
            let who = entry
                .extension
                .as_ref()
                .map(|id| {
                    self.extension_name(id)
                        .map_or_else(|| id.to_string(), str::to_owned)
                })
                .unwrap_or_default();
            let context = entry
                .context
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
            let _ = writeln!(out, "{}  {who:<16} {context:<11} {}", entry.at, entry.event);
        }
        out
    }

    /// The entries for one extension.
    pub fn for_extension<'a>(
        &'a self,
        id: &'a ExtensionId,
    ) -> impl Iterator<Item = TraceEntry> + 'a {
        self.entries()
            .filter(move |e| e.extension.as_ref() == Some(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::trace_entry::TraceEvent;
    use runtime_events::SimInstant;

    fn entry(n: u64) -> TraceEntry {
        TraceEntry {
            at: SimInstant::from_start(std::time::Duration::from_millis(n)),
            extension: None,
            context: None,
            event: TraceEvent::BrowserStopped,
        }
    }

    fn times(trace: &Trace) -> Vec<u64> {
        trace.entries().map(|e| e.at.as_millis()).collect()
    }

    #[test]
    fn without_a_limit_every_entry_is_kept() {
        let mut trace = Trace::default();
        (0..10).for_each(|n| trace.record(entry(n)));
        assert_eq!(times(&trace), (0..10).collect::<Vec<_>>());
        assert_eq!((trace.recorded(), trace.dropped()), (10, 0));
    }

    #[test]
    fn a_limit_keeps_exactly_the_newest_entries_and_bounds_storage() {
        let mut trace = Trace::with_limit(Some(3));
        for n in 0..100 {
            trace.record(entry(n));
            let kept = times(&trace);
            let first = n.saturating_sub(2);
            assert_eq!(kept, (first..=n).collect::<Vec<_>>(), "after entry {n}");
            assert!(
                trace.entries.len() <= 6,
                "storage stays under twice the limit"
            );
        }
        assert_eq!((trace.recorded(), trace.dropped()), (100, 97));
        let lines = trace.to_jsonl();
        assert_eq!(lines.lines().count(), 3);
    }

    #[test]
    fn a_limit_of_zero_keeps_nothing_but_counts() {
        let mut trace = Trace::with_limit(Some(0));
        (0..5).for_each(|n| trace.record(entry(n)));
        assert!(trace.is_empty());
        assert_eq!((trace.recorded(), trace.dropped()), (5, 5));
    }

    /// A tapped trace hands over every entry once, in order, whatever its limit: an entry is
    /// not dropped before it was handed over.
    #[test]
    fn a_tap_sees_every_entry_under_any_limit() {
        for limit in [None, Some(0), Some(1), Some(3)] {
            let mut trace = Trace::with_limit(limit);
            trace.tap();
            let mut seen = Vec::new();
            for n in 0..40 {
                trace.record(entry(n));
                // Now and then a burst of entries before the tap looks.
                if n % 7 == 0 {
                    seen.extend(trace.untapped().iter().map(|e| e.at.as_millis()));
                }
            }
            seen.extend(trace.untapped().iter().map(|e| e.at.as_millis()));
            assert_eq!(seen, (0..40).collect::<Vec<_>>(), "limit {limit:?}");
            assert!(trace.untapped().is_empty());
            assert_eq!(trace.recorded(), 40);
            let kept = limit.map_or(40, |l| l.min(40));
            assert_eq!(trace.entries().len(), kept, "limit {limit:?}");
        }
    }
}
