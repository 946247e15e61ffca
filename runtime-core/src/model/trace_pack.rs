//! How the trace keeps its entries: each [`TraceEntry`] packed into 56 bytes instead of 136.
//!
//! A long run records millions of entries, and 10 000 suspended extensions keep 16 each, so
//! the entry's size is most of the trace's memory and much of the time spent recording it
//! (every new page of memory is a page fault). Most entries are page lifecycle changes,
//! keepalive changes, timers and dispatches, whose data is a few numbers and names: those
//! are packed inline, with the extension and the event names as small indexes into tables
//! of the names seen (there are as many as extensions installed and events named, however
//! long the run). The values that messages, responses and event arguments carry are kept as
//! JSON text, one after another in one buffer: a small message is a few bytes there, where a
//! `serde_json::Value` kept alive would be several allocations of its own (and the pages they
//! take were, in figure 2, a third of a round trip's time). Every other entry is kept whole,
//! boxed. Reading unpacks an entry back to the same [`TraceEntry`] (the text parsed back to an
//! equal value), so that nothing outside this file sees the packing.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;

use runtime_events::SimInstant;
use serde_json::Value;

use crate::model::channel::OWN_EXTENSION;
use crate::model::contexts::ViewKind;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{ChannelId, FrameId, TabId, ViewId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::names::{ApiFunction, EventName};
use crate::model::page_lifecycle::PageState;
use crate::model::trace::Response;
use crate::model::trace_entry::{TraceContext, TraceEntry, TraceEvent};

/// The kinds of channel kept as an index.
const CHANNEL_KINDS: [&str; 3] = ["message", "port", "native port"];

/// The timers whose names [`TraceEvent::TimerStarted`] packs as an index.
const TIMERS: [&str; 3] = ["idle", "close", "forced restart"];

/// The entries of a trace, packed, oldest first.
#[derive(Clone, Debug, Default)]
pub(crate) struct PackedEntries {
    entries: Vec<Packed>,
    names: Names,
    /// The JSON text of the values the entries carry, in the order they were recorded.
    json: Vec<u8>,
    /// How many bytes of JSON text went with the oldest entries, dropped.
    json_dropped: u64,
    /// The shared value written last, and where: a message is recorded when it is sent and
    /// again when it is dispatched, and its text is kept once.
    last_json: Option<(Arc<Value>, JsonText)>,
}

/// Where a value's JSON text is in [`PackedEntries::json`]: its first byte (counted from the
/// start of the trace, dropped bytes included) in the low 40 bits, its length (never 0) in
/// the high 24. A value whose text does not fit is kept whole instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct JsonText(NonZeroU64);

impl JsonText {
    const START_BITS: u32 = 40;

    fn new(start: u64, len: usize) -> Option<JsonText> {
        let len = u64::try_from(len)
            .ok()
            .filter(|l| *l < 1 << (64 - Self::START_BITS))?;
        if start >= 1 << Self::START_BITS {
            return None;
        }
        NonZeroU64::new(len << Self::START_BITS | start).map(JsonText)
    }

    fn start(self) -> u64 {
        self.0.get() & ((1 << Self::START_BITS) - 1)
    }

    fn len(self) -> usize {
        (self.0.get() >> Self::START_BITS) as usize
    }
}

/// The extensions and event names that packed entries refer to by index, and the
/// extensions' names (from their manifests).
#[derive(Clone, Debug, Default)]
struct Names {
    extensions: Table<ExtensionId>,
    /// By the extension's index.
    extension_names: Vec<Option<Box<str>>>,
    events: Table<EventName>,
}

/// Values, each kept once, by index.
#[derive(Clone, Debug)]
struct Table<T> {
    values: Vec<T>,
    index: HashMap<T, u32>,
    /// The index last asked for: consecutive entries mostly name the same extension, and
    /// comparing is cheaper than hashing.
    last: Option<u32>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            values: Vec::new(),
            index: HashMap::default(),
            last: None,
        }
    }
}

impl<T: Clone + Eq + std::hash::Hash> Table<T> {
    /// The index of `value`, added if it is new (`None` once there are 2^32 of them).
    fn index_of(&mut self, value: &T) -> Option<u32> {
        if let Some(last) = self.last {
            if self.values[last as usize] == *value {
                return Some(last);
            }
        }
        if let Some(&index) = self.index.get(value) {
            self.last = Some(index);
            return Some(index);
        }
        let index = u32::try_from(self.values.len()).ok()?;
        self.values.push(value.clone());
        self.index.insert(value.clone(), index);
        self.last = Some(index);
        Some(index)
    }

    fn get(&self, index: u32) -> T {
        self.values[index as usize].clone()
    }
}

/// One entry. Its time is kept as the `Duration`'s two parts, so that the extension's index
/// fills what would be the padding after the nanoseconds.
#[derive(Clone, Debug)]
struct Packed {
    secs: u64,
    nanos: u32,
    /// `0`: no extension; `i + 1`: `Names::extensions[i]`.
    extension: u32,
    context: PackedContext,
    event: PackedEvent,
}

#[derive(Clone, Debug)]
enum PackedContext {
    None,
    Background,
    Browser,
    View { id: u32, kind: ViewKind },
    ContentScript { tab: u32, frame: u32 },
    WebPage { tab: u32, frame: u32 },
    Whole(Box<TraceContext>),
}

#[derive(Clone, Debug)]
enum PackedEvent {
    Lifecycle {
        from: PageState,
        to: PageState,
        note: &'static str,
    },
    Keepalive {
        count: u32,
        change: i8,
        reason: PackedReason,
    },
    TimerStarted {
        timer: u8,
        fires_at_ms: u64,
    },
    EventQueued {
        event: u32,
    },
    EventDispatched {
        event: u32,
        listeners: u32,
        args: JsonText,
    },
    EventFired {
        event: u32,
    },
    ApiCall {
        api: ApiFunction,
    },
    /// A channel to the opener's own extension, with no port name.
    ChannelOpenedOwn {
        channel: u32,
        kind: u8,
        message: Option<JsonText>,
    },
    ChannelClosed {
        channel: u32,
    },
    Responded {
        channel: u32,
        ok: bool,
        response: JsonText,
    },
    ScriptLoaded,
    Whole(Box<TraceEvent>),
}

impl PackedEvent {
    /// Where the JSON text this event carries begins, if it carries one.
    fn json_start(&self) -> Option<u64> {
        match self {
            PackedEvent::EventDispatched { args: text, .. }
            | PackedEvent::ChannelOpenedOwn {
                message: Some(text),
                ..
            }
            | PackedEvent::Responded { response: text, .. } => Some(text.start()),
            _ => None,
        }
    }
}

/// A [`KeepaliveReason`] that names no label; ids and indexes in 32 bits.
#[derive(Clone, Copy, Debug)]
enum PackedReason {
    ApiCall(ApiFunction),
    EventDispatch(u32),
    PageCreation,
    View(u32),
    MessageChannel(u32),
    MessageInTransit(u32),
    NativePort(u32),
    ListenerPromise(u32),
}

fn small(id: u64) -> Option<u32> {
    u32::try_from(id).ok()
}

impl PackedEntries {
    /// How many entries there are.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Names an extension, for [`PackedEntries::extension_name`].
    pub(crate) fn name_extension(&mut self, id: &ExtensionId, name: &str) {
        let Some(index) = self.names.extensions.index_of(id) else {
            return;
        };
        let names = &mut self.names.extension_names;
        let index = index as usize;
        if names.len() <= index {
            names.resize(index + 1, None);
        }
        names[index] = Some(name.into());
    }

    /// The name given to an extension.
    pub(crate) fn extension_name(&self, id: &ExtensionId) -> Option<&str> {
        let index = *self.names.extensions.index.get(id)?;
        self.names.extension_names.get(index as usize)?.as_deref()
    }

    /// Adds an entry at the end.
    pub(crate) fn push(
        &mut self,
        at: SimInstant,
        extension: Option<&ExtensionId>,
        context: Option<TraceContext>,
        event: TraceEvent,
    ) {
        let event = self.pack_event(event);
        self.push_packed(at, extension, context, event);
    }

    /// Adds an entry that a receiver answered a one-time message, its response borrowed.
    pub(crate) fn push_response(
        &mut self,
        at: SimInstant,
        extension: Option<&ExtensionId>,
        context: Option<TraceContext>,
        response: Response<'_>,
    ) {
        let packed = small(response.channel.0).and_then(|channel| {
            Some(PackedEvent::Responded {
                channel,
                ok: response.ok,
                response: self.json(response.response)?,
            })
        });
        let event = match packed {
            Some(packed) => packed,
            None => PackedEvent::Whole(Box::new(response.to_event())),
        };
        self.push_packed(at, extension, context, event);
    }

    fn push_packed(
        &mut self,
        at: SimInstant,
        extension: Option<&ExtensionId>,
        context: Option<TraceContext>,
        event: PackedEvent,
    ) {
        let elapsed = at.since_start();
        // An index fits in 32 bits: a browser would need 2^32 extensions installed first.
        let extension = extension.map_or(0, |id| {
            self.names
                .extensions
                .index_of(id)
                .map_or(0, |i| i.saturating_add(1))
        });
        let context = pack_context(context);
        let packed = Packed {
            secs: elapsed.as_secs(),
            nanos: elapsed.subsec_nanos(),
            extension,
            context,
            event,
        };
        self.entries.push(packed);
    }

    /// Removes the oldest `count` entries.
    pub(crate) fn drop_oldest(&mut self, count: usize) {
        self.entries.drain(..count.min(self.entries.len()));
        // Texts are written in the order of their entries, so the first entry left that
        // carries one has the oldest text still needed.
        let end = self.json_dropped + self.json.len() as u64;
        let keep_from = self
            .entries
            .iter()
            .find_map(|packed| packed.event.json_start())
            .unwrap_or(end);
        self.json.drain(..(keep_from - self.json_dropped) as usize);
        self.json_dropped = keep_from;
        self.last_json = None;
    }

    /// The entry at `index`, unpacked.
    pub(crate) fn get(&self, index: usize) -> Option<TraceEntry> {
        self.entries.get(index).map(|packed| self.unpack(packed))
    }

    fn pack_event(&mut self, event: TraceEvent) -> PackedEvent {
        let packed = match &event {
            TraceEvent::Lifecycle { from, to, note } => Some(PackedEvent::Lifecycle {
                from: *from,
                to: *to,
                note,
            }),
            TraceEvent::Keepalive {
                count,
                change,
                reason,
            } => self
                .pack_reason(reason)
                .map(|reason| PackedEvent::Keepalive {
                    count: *count,
                    change: *change,
                    reason,
                }),
            TraceEvent::TimerStarted { timer, fires_at_ms } => TIMERS
                .iter()
                .position(|t| t == timer)
                .map(|i| PackedEvent::TimerStarted {
                    timer: i as u8,
                    fires_at_ms: *fires_at_ms,
                }),
            TraceEvent::EventQueued { event } => self
                .names
                .events
                .index_of(event)
                .map(|event| PackedEvent::EventQueued { event }),
            TraceEvent::EventDispatched {
                event,
                listeners,
                args,
            } => {
                let listeners = u32::try_from(*listeners).ok();
                let event = self.names.events.index_of(event);
                match (event, listeners) {
                    (Some(event), Some(listeners)) => {
                        self.shared_json(args)
                            .map(|args| PackedEvent::EventDispatched {
                                event,
                                listeners,
                                args,
                            })
                    }
                    _ => None,
                }
            }
            TraceEvent::EventFired { event } => self
                .names
                .events
                .index_of(event)
                .map(|event| PackedEvent::EventFired { event }),
            TraceEvent::ApiCall { api } => Some(PackedEvent::ApiCall { api: *api }),
            TraceEvent::ChannelClosed {
                channel,
                error: None,
            } => small(channel.0).map(|channel| PackedEvent::ChannelClosed { channel }),
            TraceEvent::ChannelOpened {
                channel,
                channel_kind,
                to,
                name: None,
                message,
            } if to == OWN_EXTENSION => {
                let ids =
                    small(channel.0).zip(CHANNEL_KINDS.iter().position(|k| k == channel_kind));
                match (ids, message) {
                    (Some((channel, kind)), None) => Some(PackedEvent::ChannelOpenedOwn {
                        channel,
                        kind: kind as u8,
                        message: None,
                    }),
                    (Some((channel, kind)), Some(message)) => {
                        self.shared_json(message)
                            .map(|message| PackedEvent::ChannelOpenedOwn {
                                channel,
                                kind: kind as u8,
                                message: Some(message),
                            })
                    }
                    (None, _) => None,
                }
            }
            TraceEvent::Responded {
                channel,
                ok,
                response,
            } => small(channel.0).and_then(|channel| {
                Some(PackedEvent::Responded {
                    channel,
                    ok: *ok,
                    response: self.json(response)?,
                })
            }),
            TraceEvent::ScriptLoaded => Some(PackedEvent::ScriptLoaded),
            _ => None,
        };
        packed.unwrap_or_else(|| PackedEvent::Whole(Box::new(event)))
    }

    /// Writes `value`'s JSON text at the end of the buffer. (What [`PackedEntries::shared_json`]
    /// wrote before is no longer the last text: an entry that shared it now would point
    /// before this one's, and the oldest text still needed would not be the first entry's.)
    fn json(&mut self, value: &Value) -> Option<JsonText> {
        self.last_json = None;
        let before = self.json.len();
        let start = self.json_dropped + before as u64;
        // Writing a `Value` into a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.json, value);
        let text = JsonText::new(start, self.json.len() - before);
        if text.is_none() {
            self.json.truncate(before);
        }
        text
    }

    /// [`PackedEntries::json`] of a shared value, written once when consecutive entries carry
    /// the same one.
    fn shared_json(&mut self, value: &Arc<Value>) -> Option<JsonText> {
        if let Some((last, text)) = &self.last_json {
            if Arc::ptr_eq(last, value) {
                return Some(*text);
            }
        }
        let text = self.json(value)?;
        self.last_json = Some((Arc::clone(value), text));
        Some(text)
    }

    /// The value whose text is at `text`.
    fn value(&self, text: JsonText) -> Value {
        let from = (text.start() - self.json_dropped) as usize;
        self.json
            .get(from..from + text.len())
            .and_then(|bytes| serde_json::from_slice(bytes).ok())
            .unwrap_or(Value::Null)
    }

    fn pack_reason(&mut self, reason: &KeepaliveReason) -> Option<PackedReason> {
        Some(match reason {
            KeepaliveReason::ApiCall(api) => PackedReason::ApiCall(*api),
            KeepaliveReason::EventDispatch(event) => {
                PackedReason::EventDispatch(self.names.events.index_of(event)?)
            }
            KeepaliveReason::PageCreation => PackedReason::PageCreation,
            KeepaliveReason::View(id) => PackedReason::View(small(id.0)?),
            KeepaliveReason::MessageChannel(id) => PackedReason::MessageChannel(small(id.0)?),
            KeepaliveReason::MessageInTransit(id) => PackedReason::MessageInTransit(small(id.0)?),
            KeepaliveReason::NativePort(id) => PackedReason::NativePort(small(id.0)?),
            KeepaliveReason::ListenerPromise(event) => {
                PackedReason::ListenerPromise(self.names.events.index_of(event)?)
            }
            KeepaliveReason::External(_) => return None,
        })
    }

    fn unpack(&self, packed: &Packed) -> TraceEntry {
        let names = &self.names;
        let event = |index: u32| names.events.get(index);
        let channel = |id: u32| ChannelId(u64::from(id));
        TraceEntry {
            at: SimInstant::from_start(Duration::new(packed.secs, packed.nanos)),
            extension: packed
                .extension
                .checked_sub(1)
                .map(|i| names.extensions.get(i)),
            context: match &packed.context {
                PackedContext::None => None,
                PackedContext::Background => Some(TraceContext::Background),
                PackedContext::Browser => Some(TraceContext::Browser),
                PackedContext::View { id, kind } => Some(TraceContext::View {
                    id: ViewId(u64::from(*id)),
                    kind: *kind,
                }),
                PackedContext::ContentScript { tab, frame } => Some(TraceContext::ContentScript {
                    tab: TabId(u64::from(*tab)),
                    frame: FrameId(u64::from(*frame)),
                }),
                PackedContext::WebPage { tab, frame } => Some(TraceContext::WebPage {
                    tab: TabId(u64::from(*tab)),
                    frame: FrameId(u64::from(*frame)),
                }),
                PackedContext::Whole(context) => Some((**context).clone()),
            },
            event: match &packed.event {
                PackedEvent::Lifecycle { from, to, note } => TraceEvent::Lifecycle {
                    from: *from,
                    to: *to,
                    note,
                },
                PackedEvent::Keepalive {
                    count,
                    change,
                    reason,
                } => TraceEvent::Keepalive {
                    count: *count,
                    change: *change,
                    reason: match *reason {
                        PackedReason::ApiCall(api) => KeepaliveReason::ApiCall(api),
                        PackedReason::EventDispatch(i) => KeepaliveReason::EventDispatch(event(i)),
                        PackedReason::PageCreation => KeepaliveReason::PageCreation,
                        PackedReason::View(id) => KeepaliveReason::View(ViewId(u64::from(id))),
                        PackedReason::MessageChannel(id) => {
                            KeepaliveReason::MessageChannel(channel(id))
                        }
                        PackedReason::MessageInTransit(id) => {
                            KeepaliveReason::MessageInTransit(channel(id))
                        }
                        PackedReason::NativePort(id) => KeepaliveReason::NativePort(channel(id)),
                        PackedReason::ListenerPromise(i) => {
                            KeepaliveReason::ListenerPromise(event(i))
                        }
                    },
                },
                PackedEvent::TimerStarted { timer, fires_at_ms } => TraceEvent::TimerStarted {
                    timer: TIMERS[usize::from(*timer)],
                    fires_at_ms: *fires_at_ms,
                },
                PackedEvent::EventQueued { event: i } => {
                    TraceEvent::EventQueued { event: event(*i) }
                }
                PackedEvent::EventDispatched {
                    event: i,
                    listeners,
                    args,
                } => TraceEvent::EventDispatched {
                    event: event(*i),
                    listeners: *listeners as usize,
                    args: Arc::new(self.value(*args)),
                },
                PackedEvent::EventFired { event: i } => TraceEvent::EventFired { event: event(*i) },
                PackedEvent::ApiCall { api } => TraceEvent::ApiCall { api: *api },
                PackedEvent::ChannelClosed { channel: id } => TraceEvent::ChannelClosed {
                    channel: channel(*id),
                    error: None,
                },
                PackedEvent::ChannelOpenedOwn {
                    channel: id,
                    kind,
                    message,
                } => TraceEvent::ChannelOpened {
                    channel: channel(*id),
                    channel_kind: CHANNEL_KINDS[usize::from(*kind)],
                    to: Cow::Borrowed(OWN_EXTENSION),
                    name: None,
                    message: message.map(|text| Arc::new(self.value(text))),
                },
                PackedEvent::Responded {
                    channel: id,
                    ok,
                    response,
                } => TraceEvent::Responded {
                    channel: channel(*id),
                    ok: *ok,
                    response: self.value(*response),
                },
                PackedEvent::ScriptLoaded => TraceEvent::ScriptLoaded,
                PackedEvent::Whole(event) => (**event).clone(),
            },
        }
    }
}

fn pack_context(context: Option<TraceContext>) -> PackedContext {
    let packed = match &context {
        None => Some(PackedContext::None),
        Some(TraceContext::Background) => Some(PackedContext::Background),
        Some(TraceContext::Browser) => Some(PackedContext::Browser),
        Some(TraceContext::View { id, kind }) => {
            small(id.0).map(|id| PackedContext::View { id, kind: *kind })
        }
        Some(TraceContext::ContentScript { tab, frame }) => small(tab.0)
            .zip(small(frame.0))
            .map(|(tab, frame)| PackedContext::ContentScript { tab, frame }),
        Some(TraceContext::WebPage { tab, frame }) => small(tab.0)
            .zip(small(frame.0))
            .map(|(tab, frame)| PackedContext::WebPage { tab, frame }),
        Some(TraceContext::NativeHost { .. }) => None,
    };
    match (packed, context) {
        (Some(packed), _) => packed,
        (None, Some(context)) => PackedContext::Whole(Box::new(context)),
        (None, None) => PackedContext::None,
    }
}

/// The entries of a [`Trace`](crate::Trace), oldest first, each unpacked as it is read:
/// what [`Trace::entries`](crate::Trace::entries) gives.
#[derive(Clone, Debug)]
pub struct TraceEntries<'a> {
    packed: &'a PackedEntries,
    next: usize,
    end: usize,
}

impl<'a> TraceEntries<'a> {
    pub(crate) fn new(packed: &'a PackedEntries, from: usize) -> Self {
        TraceEntries {
            packed,
            next: from.min(packed.len()),
            end: packed.len(),
        }
    }
}

impl Iterator for TraceEntries<'_> {
    type Item = TraceEntry;

    fn next(&mut self) -> Option<TraceEntry> {
        if self.next == self.end {
            return None;
        }
        self.next += 1;
        self.packed.get(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.end - self.next;
        (left, Some(left))
    }

    fn nth(&mut self, n: usize) -> Option<TraceEntry> {
        self.next = self.next.saturating_add(n).min(self.end);
        self.next()
    }
}

impl DoubleEndedIterator for TraceEntries<'_> {
    fn next_back(&mut self) -> Option<TraceEntry> {
        if self.next == self.end {
            return None;
        }
        self.end -= 1;
        self.packed.get(self.end)
    }
}

impl ExactSizeIterator for TraceEntries<'_> {}

impl std::iter::FusedIterator for TraceEntries<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::package::Location;

    /// The point of packing: an entry takes 56 bytes where a `TraceEntry` takes 136.
    #[test]
    fn an_entry_takes_56_bytes() {
        assert_eq!(std::mem::size_of::<Packed>(), 56);
    }

    /// Every entry reads back as it was recorded, packed inline or kept whole.
    #[test]
    fn entries_read_back_as_recorded() {
        let id = ExtensionId::from_bytes(b"x");
        let at =
            |ms: u64| SimInstant::from_start(Duration::from_millis(ms) + Duration::from_nanos(3));
        let api_event = EventName::from("alarms.onAlarm");
        let entries = vec![
            TraceEntry {
                at: at(0),
                extension: Some(id.clone()),
                context: Some(TraceContext::Browser),
                event: TraceEvent::Installed {
                    name: "x".into(),
                    version: "1.0".into(),
                    location: Location::Unpacked,
                },
            },
            TraceEntry {
                at: at(1),
                extension: Some(id.clone()),
                context: Some(TraceContext::Background),
                event: TraceEvent::Lifecycle {
                    from: PageState::Unloaded,
                    to: PageState::Loading,
                    note: "why",
                },
            },
            TraceEntry {
                at: at(2),
                extension: Some(id.clone()),
                context: None,
                event: TraceEvent::Keepalive {
                    count: 3,
                    change: -1,
                    reason: KeepaliveReason::EventDispatch(api_event.clone()),
                },
            },
            TraceEntry {
                at: at(3),
                extension: Some(id.clone()),
                context: None,
                event: TraceEvent::Keepalive {
                    count: 1,
                    change: 1,
                    reason: KeepaliveReason::External("test".into()),
                },
            },
            TraceEntry {
                at: at(4),
                extension: Some(id.clone()),
                context: Some(TraceContext::ContentScript {
                    tab: TabId(5),
                    frame: FrameId(u64::MAX),
                }),
                event: TraceEvent::EventDispatched {
                    event: api_event.clone(),
                    listeners: 2,
                    args: Arc::new(serde_json::json!({"name": "a"})),
                },
            },
            TraceEntry {
                at: at(5),
                extension: None,
                context: Some(TraceContext::NativeHost { name: "h".into() }),
                event: TraceEvent::TimerStarted {
                    timer: "close",
                    fires_at_ms: 9,
                },
            },
            TraceEntry {
                at: at(6),
                extension: Some(id.clone()),
                context: Some(TraceContext::Background),
                event: TraceEvent::ChannelOpened {
                    channel: ChannelId(4),
                    channel_kind: "message",
                    to: "own extension".into(),
                    name: None,
                    message: Some(Arc::new(serde_json::json!([1]))),
                },
            },
            TraceEntry {
                at: SimInstant::MAX,
                extension: None,
                context: Some(TraceContext::View {
                    id: ViewId(2),
                    kind: ViewKind::Popup,
                }),
                event: TraceEvent::ChannelClosed {
                    channel: ChannelId(1 << 40),
                    error: None,
                },
            },
        ];
        let mut packed = PackedEntries::default();
        for entry in entries.clone() {
            packed.push(
                entry.at,
                entry.extension.as_ref(),
                entry.context,
                entry.event,
            );
        }
        assert_eq!(TraceEntries::new(&packed, 0).collect::<Vec<_>>(), entries);
        assert_eq!(
            TraceEntries::new(&packed, 0).next_back().as_ref(),
            entries.last()
        );
        assert_eq!(TraceEntries::new(&packed, 5).len(), 3);
        packed.drop_oldest(6);
        assert_eq!(
            TraceEntries::new(&packed, 0).collect::<Vec<_>>(),
            entries[6..]
        );
    }

    fn value_entries(values: &[Arc<Value>]) -> Vec<TraceEntry> {
        let mut entries = Vec::new();
        for (n, value) in values.iter().enumerate() {
            let at = SimInstant::from_start(Duration::from_millis(n as u64));
            let channel = ChannelId(n as u64);
            entries.push(TraceEntry {
                at,
                extension: None,
                context: None,
                event: TraceEvent::ChannelOpened {
                    channel,
                    channel_kind: "message",
                    to: OWN_EXTENSION.into(),
                    name: None,
                    message: Some(Arc::clone(value)),
                },
            });
            entries.push(TraceEntry {
                at,
                extension: None,
                context: None,
                event: TraceEvent::EventDispatched {
                    event: EventName::from("runtime.onMessage"),
                    listeners: 1,
                    args: Arc::clone(value),
                },
            });
            entries.push(TraceEntry {
                at,
                extension: None,
                context: None,
                event: TraceEvent::Responded {
                    channel,
                    ok: n % 2 == 0,
                    response: (**value).clone(),
                },
            });
        }
        entries
    }

    fn pack(entries: &[TraceEntry]) -> PackedEntries {
        let mut packed = PackedEntries::default();
        for entry in entries.iter().cloned() {
            packed.push(
                entry.at,
                entry.extension.as_ref(),
                entry.context,
                entry.event,
            );
        }
        packed
    }

    /// Messages, event arguments and responses are kept as JSON text, once per message, and
    /// read back as equal values: floats exactly, strings with any character, keys in order.
    #[test]
    fn values_kept_as_text_read_back_equal() {
        let values: Vec<Arc<Value>> = [
            serde_json::json!({"n": 1, "a": [true, null, -0.0, 1e-300, 0.1, 2.5e17]}),
            serde_json::json!("\u{0}\"quote\" é \u{1F600}"),
            serde_json::json!({"z": 1, "b": {"y": u64::MAX, "x": i64::MIN}}),
            serde_json::json!(1.0000000000000002),
        ]
        .into_iter()
        .map(Arc::new)
        .collect();
        let entries = value_entries(&values);
        let packed = pack(&entries);
        assert_eq!(TraceEntries::new(&packed, 0).collect::<Vec<_>>(), entries);
        // Each value's text is there twice (sent and dispatched share one; the response is
        // a copy of its own).
        let texts: usize = values
            .iter()
            .map(|v| serde_json::to_vec(&**v).unwrap().len())
            .sum();
        assert_eq!(packed.json.len(), 2 * texts);
    }

    /// Dropping the oldest entries drops the text only they needed, and what is left reads
    /// back as before, whatever the order of shared and unshared texts.
    #[test]
    fn dropping_entries_keeps_the_texts_still_needed() {
        let values: Vec<Arc<Value>> = (0..20)
            .map(|n| Arc::new(serde_json::json!({ "n": n, "s": "x".repeat(n) })))
            .collect();
        let entries = value_entries(&values);
        for drop in [0, 1, 2, 3, 4, 10, 31, 59, 60] {
            let mut packed = pack(&entries);
            packed.drop_oldest(drop);
            assert_eq!(
                TraceEntries::new(&packed, 0).collect::<Vec<_>>(),
                entries[drop.min(entries.len())..],
                "after dropping {drop}"
            );
            // More entries after the drop still read back.
            let more = value_entries(&values[..2]);
            for entry in more.iter().cloned() {
                packed.push(
                    entry.at,
                    entry.extension.as_ref(),
                    entry.context,
                    entry.event,
                );
            }
            let all: Vec<_> = TraceEntries::new(&packed, 0).collect();
            assert_eq!(all[all.len() - more.len()..], more[..]);
        }
        let mut packed = pack(&entries);
        packed.drop_oldest(entries.len());
        assert!(packed.json.is_empty());
    }

    /// A value whose place or length does not fit in the packed form is kept whole.
    #[test]
    fn text_places_that_do_not_fit_are_refused() {
        assert!(JsonText::new(0, 0).is_none());
        assert!(JsonText::new(1 << 40, 1).is_none());
        assert!(JsonText::new(0, 1 << 24).is_none());
        let text = JsonText::new((1 << 40) - 1, (1 << 24) - 1).unwrap();
        assert_eq!((text.start(), text.len()), ((1 << 40) - 1, (1 << 24) - 1));
    }

    /// A shared value recorded again after another value's text is written anew, so that
    /// texts stay in the order of their entries: before, the third entry below pointed back
    /// at the first one's text, which went when the first two were dropped.
    #[test]
    fn a_shared_value_after_another_text_is_written_again() {
        let v = Arc::new(serde_json::json!({"sent": 1}));
        let mut entries = value_entries(std::slice::from_ref(&v));
        // Opened, Responded, then Dispatched of the same message.
        entries.swap(1, 2);
        let mut packed = pack(&entries);
        packed.drop_oldest(2);
        assert_eq!(
            TraceEntries::new(&packed, 0).collect::<Vec<_>>(),
            entries[2..]
        );
    }
}
