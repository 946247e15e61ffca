//! Message channels, as Chromium's message service runs them: a one-time message
//! (`sendMessage`) and a port (`connect`) are both a channel from an opener to the receiving
//! contexts that have a listener.
//!
//! The state and every change of it live here under the simulation's lock; the steps that call
//! listeners (`onMessage`, `onConnect`, a port's events) are run by the engine with no lock.

use std::sync::Arc;

use futures::channel::oneshot;
use futures::FutureExt as _;
use runtime_events::{Dispatch, ListenerError};
use serde_json::Value;
use tokio::sync::mpsc;

use crate::context::Endpoint;
use crate::engine::{Deferred, Shared, Work};
use crate::events::ContextEvents;
use crate::lifecycle::Input;
use crate::message::MessageSender;
use crate::on_message::{OnMessage, SendResponse};
use crate::port::Port;
use crate::sim::{Queued, Sim};
use crate::trace::TraceEvent;
use crate::{ExtensionId, KeepaliveReason, PageState, SendMessageError};

/// What a one-time message's sender gets: a response (`None`: `undefined`), or an error.
pub(crate) type Reply = Result<Option<Value>, SendMessageError>;

/// Where a channel goes.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    /// The sender's own extension: `onMessage` / `onConnect` in its pages and views.
    Own(ExtensionId),
    /// Another extension, or any extension from a web page: `onMessageExternal` /
    /// `onConnectExternal`.
    External(ExtensionId),
    /// An extension, from a native application (`onConnectNative`).
    FromNativeApp(ExtensionId),
    /// An extension's content scripts in a tab (`tabs.sendMessage`, `tabs.connect`).
    Tab {
        ext: ExtensionId,
        tab: u64,
        frame: Option<u64>,
    },
}

impl Target {
    fn ext(&self) -> &ExtensionId {
        match self {
            Target::Own(ext)
            | Target::External(ext)
            | Target::FromNativeApp(ext)
            | Target::Tab { ext, .. } => ext,
        }
    }

    fn describe(&self) -> String {
        match self {
            Target::Own(_) => "own extension".to_owned(),
            Target::External(ext) | Target::FromNativeApp(ext) => format!("extension {ext}"),
            Target::Tab {
                tab,
                frame: Some(frame),
                ..
            } => format!("tab {tab} frame {frame}"),
            Target::Tab { tab, .. } => format!("tab {tab}"),
        }
    }
}

/// A one-time message or a port.
pub(crate) enum ChannelKind {
    Message {
        message: Arc<Value>,
        reply: Option<oneshot::Sender<Reply>>,
        /// A receiver that kept the channel open went away without answering.
        abandoned: bool,
    },
    Port {
        name: String,
    },
}

/// One end of a channel.
pub(crate) struct End {
    pub(crate) endpoint: Endpoint,
    keepalive: Option<(ExtensionId, u64)>,
    /// The `Port` object of this end (ports only).
    pub(crate) port: Option<Port>,
    /// The way to a native host's process, for the host's end of a `connectNative` port.
    /// Dropping it ends the host.
    native: Option<mpsc::UnboundedSender<Value>>,
}

/// The receiving ends of a channel, by end id, in the order of their ids.
///
/// A channel has few receivers (one per receiving context), so a sorted vector serves better
/// than a map: one small allocation per channel, where a `BTreeMap` of `End`s allocates a node
/// of over a kilobyte for the first one.
#[derive(Default)]
struct Ends(Vec<(u64, End)>);

impl Ends {
    fn position(&self, id: u64) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(end, _)| *end)
    }

    fn insert(&mut self, id: u64, end: End) {
        match self.position(id) {
            Ok(at) => self.0[at].1 = end,
            Err(at) => self.0.insert(at, (id, end)),
        }
    }

    fn remove(&mut self, id: &u64) -> Option<End> {
        let at = self.position(*id).ok()?;
        Some(self.0.remove(at).1)
    }

    fn get(&self, id: &u64) -> Option<&End> {
        let at = self.position(*id).ok()?;
        Some(&self.0[at].1)
    }

    fn contains_key(&self, id: &u64) -> bool {
        self.position(*id).is_ok()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&u64, &End)> {
        self.0.iter().map(|(id, end)| (id, end))
    }

    fn values(&self) -> impl Iterator<Item = &End> {
        self.0.iter().map(|(_, end)| end)
    }
}

enum PendingOp {
    Post(Value),
    Disconnect,
}

pub(crate) struct Channel {
    kind: ChannelKind,
    opener: End,
    opener_end: u64,
    receivers: Ends,
    target: Target,
    /// Who opened it, as receivers see it; shared with the receiving ports.
    sender: Arc<MessageSender>,
    /// The receivers have been asked; posts from the opener go straight to them.
    opened: bool,
    /// What the opener did before the channel opened, in order.
    pending: Vec<PendingOp>,
}

/// What the engine needs to open a channel in the receiving contexts.
struct Plan {
    candidates: Vec<(Endpoint, Arc<ContextEvents>)>,
    message: Option<Arc<Value>>,
    name: Option<String>,
    via: Via,
    sender: Arc<MessageSender>,
}

/// Which events of the receiving contexts a channel reaches.
#[derive(Clone, Copy)]
enum Via {
    /// `onMessage` / `onConnect`: from the extension itself (its pages, views and content
    /// scripts), or to its content scripts.
    Own,
    /// `onMessageExternal` / `onConnectExternal`.
    External,
    /// `onConnectNative`.
    NativeApp,
}

impl Sim {
    /// Takes a keepalive on `ext`'s background page, if it is loaded, for the life of that page.
    fn page_keepalive(
        &mut self,
        ext: Option<&ExtensionId>,
        reason: KeepaliveReason,
    ) -> Option<(ExtensionId, u64)> {
        let ext = ext?;
        let life = self.extensions.get(ext)?.loaded_life()?;
        let id = self.acquire(ext, reason, Some(life));
        Some((ext.clone(), id))
    }

    fn release_end(&mut self, end: &End) {
        if let Some((ext, id)) = &end.keepalive {
            self.release(ext, *id);
        }
    }

    fn record_at(&mut self, endpoint: &Endpoint, event: TraceEvent) {
        let context = endpoint.trace_context(self);
        self.record(endpoint.extension(), Some(context), event);
    }

    /// Whether the browser lets `opener` reach `target` at all (§4.4).
    fn may_reach(&self, opener: &Endpoint, target: &Target) -> bool {
        let Some(rec) = self.extensions.get(target.ext()) else {
            return false;
        };
        match target {
            Target::Own(_) | Target::FromNativeApp(_) => true,
            Target::External(_) => match opener {
                Endpoint::WebPage { .. } => self
                    .context_url(opener)
                    .is_some_and(|url| rec.manifest.accepts_page(&url)),
                other => other
                    .extension()
                    .is_some_and(|ext| rec.manifest.accepts_extension(ext.as_str())),
            },
            Target::Tab { tab, .. } => self.tabs.contains_key(tab),
        }
    }

    /// Opens a channel from `opener`. The receivers are asked once the target's background
    /// page (if it is an event page) has loaded. Returns the channel's id and its opener's end.
    pub(crate) fn open_channel(
        &mut self,
        opener: Endpoint,
        target: Target,
        kind: ChannelKind,
        opener_port: impl FnOnce(u64, u64) -> Option<Port>,
    ) -> (u64, u64) {
        let id = self.fresh_id();
        let opener_end = self.fresh_id();
        let reachable = self.may_reach(&opener, &target);
        let to_tab = matches!(target, Target::Tab { .. });
        let ext = target.ext().clone();
        let external = matches!(target, Target::External(_));
        let tls_wanted = external
            && self
                .extensions
                .get(target.ext())
                .and_then(|r| r.manifest.externally_connectable())
                .is_some_and(|ec| ec.accepts_tls_channel_id);
        let sender = Arc::new(self.sender_for(&opener, tls_wanted));
        let (label, name, message) = match &kind {
            ChannelKind::Message { message, .. } => ("message", None, Some(Arc::clone(message))),
            ChannelKind::Port { name } => ("port", Some(name.clone()), None),
        };
        self.record_at(
            &opener,
            TraceEvent::ChannelOpened {
                channel: id,
                channel_kind: label,
                to: target.describe(),
                name,
                message,
            },
        );
        let keepalive =
            self.page_keepalive(opener.extension(), KeepaliveReason::MessageChannel(id));
        let channel = Channel {
            kind,
            opener: End {
                endpoint: opener,
                keepalive,
                port: opener_port(id, opener_end),
                native: None,
            },
            opener_end,
            receivers: Ends::default(),
            target,
            sender,
            opened: false,
            pending: Vec::new(),
        };
        self.channels.insert(id, channel);
        if !reachable {
            // Refused and missing targets look the same to the sender.
            self.bus.post(Work::Complete(Box::new(move |sim: &mut Sim| {
                sim.channel_opened(id, false);
            })));
            return (id, opener_end);
        }
        let state = if to_tab {
            None
        } else {
            self.extensions.get(&ext).and_then(|r| r.state())
        };
        match state {
            Some(PageState::Unloaded | PageState::Loading) => {
                // The page loads first; the channel opens once its top-level script has run.
                self.enqueue(
                    &ext,
                    Queued::Callback(Box::new(move |sim: &mut Sim, _loaded: bool| {
                        sim.deferred.push_back(Deferred::OpenChannel(id));
                    })),
                );
            }
            Some(PageState::Closing) => {
                self.drive(&ext, Input::Activity);
                self.deferred.push_back(Deferred::OpenChannel(id));
            }
            Some(PageState::Active) | None => self.deferred.push_back(Deferred::OpenChannel(id)),
        }
        (id, opener_end)
    }

    /// The receiving contexts of a channel, and what to dispatch to them.
    fn channel_plan(&self, id: u64) -> Option<Plan> {
        let ch = self.channels.get(&id)?;
        let mut candidates = Vec::new();
        let mut consider = |e: Endpoint| {
            if e != ch.opener.endpoint {
                if let Some(events) = self.context_events(&e) {
                    candidates.push((e, events));
                }
            }
        };
        match &ch.target {
            Target::Own(ext) | Target::External(ext) | Target::FromNativeApp(ext) => {
                self.extension_contexts(ext).for_each(&mut consider);
            }
            Target::Tab { ext, tab, frame } => {
                self.content_scripts_in(ext, *tab, *frame)
                    .for_each(&mut consider);
            }
        }
        let (message, name) = match &ch.kind {
            ChannelKind::Message { message, .. } => (Some(Arc::clone(message)), None),
            ChannelKind::Port { name } => (None, Some(name.clone())),
        };
        Some(Plan {
            candidates,
            message,
            name,
            via: match ch.target {
                Target::Own(_) | Target::Tab { .. } => Via::Own,
                Target::External(_) => Via::External,
                Target::FromNativeApp(_) => Via::NativeApp,
            },
            sender: Arc::clone(&ch.sender),
        })
    }

    /// Adds a receiving end in `endpoint`. `None` if the channel has closed meanwhile.
    fn add_receiver(
        &mut self,
        id: u64,
        endpoint: &Endpoint,
        port: impl FnOnce(u64) -> Option<Port>,
    ) -> Option<u64> {
        if !self.channels.contains_key(&id) {
            return None;
        }
        let end = self.fresh_id();
        let keepalive =
            self.page_keepalive(endpoint.extension(), KeepaliveReason::MessageChannel(id));
        let ch = self.channels.get_mut(&id)?;
        ch.receivers.insert(
            end,
            End {
                endpoint: endpoint.clone(),
                keepalive,
                port: port(end),
                native: None,
            },
        );
        Some(end)
    }

    /// A receiver of a one-time message has run its listeners; unless one of them keeps the
    /// channel open, its end closes.
    fn receiver_done(&mut self, id: u64, end: u64, kept_open: bool) {
        if kept_open {
            return;
        }
        let removed = self
            .channels
            .get_mut(&id)
            .and_then(|ch| ch.receivers.remove(&end));
        if let Some(removed) = removed {
            self.release_end(&removed);
        }
    }

    /// Every receiving context has been asked.
    fn channel_opened(&mut self, id: u64, any_listener: bool) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        ch.opened = true;
        if !any_listener {
            self.fail_channel(id, SendMessageError::NoReceiver);
            return;
        }
        match &ch.kind {
            ChannelKind::Message { abandoned, .. } => {
                if ch.receivers.is_empty() {
                    let error = if *abandoned {
                        SendMessageError::ChannelClosed
                    } else {
                        SendMessageError::PortClosed
                    };
                    self.finish_message(id, Err(error));
                }
            }
            ChannelKind::Port { .. } => {
                let pending = std::mem::take(&mut ch.pending);
                let opener_end = ch.opener_end;
                for op in pending {
                    match op {
                        PendingOp::Post(message) => self.post(id, opener_end, message),
                        PendingOp::Disconnect => self.disconnect(id, opener_end),
                    }
                }
            }
        }
    }

    /// No receiver: the sender's promise fails, or the opener's port is disconnected with
    /// the error.
    fn fail_channel(&mut self, id: u64, error: SendMessageError) {
        let is_port = matches!(
            self.channels.get(&id).map(|c| &c.kind),
            Some(ChannelKind::Port { .. })
        );
        if is_port {
            let opener = self.channels.get(&id).and_then(|c| c.opener.port.clone());
            let notify = opener.map(|p| (p, Some(error.to_string())));
            self.close_channel(id, Some(error.to_string()), notify.into_iter().collect());
        } else {
            self.finish_message(id, Err(error));
        }
    }

    /// Answers a one-time message from receiving end `end`. Only the first answer counts.
    pub(crate) fn respond(&mut self, id: u64, end: u64, reply: Reply) -> bool {
        let Some(ch) = self.channels.get(&id) else {
            return false;
        };
        let Some(receiver) = ch.receivers.get(&end) else {
            return false;
        };
        let endpoint = receiver.endpoint.clone();
        let response = match &reply {
            Ok(v) => v.clone().unwrap_or(Value::Null),
            Err(e) => Value::String(e.to_string()),
        };
        self.record_at(
            &endpoint,
            TraceEvent::Responded {
                channel: id,
                ok: reply.is_ok(),
                response,
            },
        );
        self.finish_message(id, reply);
        true
    }

    /// A receiver that kept a one-time message open went away without answering (its
    /// `sendResponse` was dropped, or its context closed).
    pub(crate) fn receiver_abandoned(&mut self, id: u64, end: u64) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Some(removed) = ch.receivers.remove(&end) else {
            return;
        };
        if let ChannelKind::Message { abandoned, .. } = &mut ch.kind {
            *abandoned = true;
        }
        let done = ch.opened && ch.receivers.is_empty();
        self.release_end(&removed);
        if done {
            self.finish_message(id, Err(SendMessageError::ChannelClosed));
        }
    }

    /// Ends a one-time message: the sender gets `reply`.
    fn finish_message(&mut self, id: u64, reply: Reply) {
        let Some(mut ch) = self.channels.remove(&id) else {
            return;
        };
        let error = reply.as_ref().err().map(ToString::to_string);
        self.record_at(
            &ch.opener.endpoint,
            TraceEvent::ChannelClosed { channel: id, error },
        );
        if let ChannelKind::Message { reply: tx, .. } = &mut ch.kind {
            if let Some(tx) = tx.take() {
                let _ = tx.send(reply);
            }
        }
        self.release_end(&ch.opener);
        for end in ch.receivers.values() {
            self.release_end(end);
        }
    }

    /// Closes a channel; each port in `notify` gets `onDisconnect` (with `lastError` when an
    /// error is given), once the steps already due have run.
    fn close_channel(
        &mut self,
        id: u64,
        error: Option<String>,
        notify: Vec<(Port, Option<String>)>,
    ) {
        let Some(ch) = self.channels.remove(&id) else {
            return;
        };
        self.record_at(
            &ch.opener.endpoint,
            TraceEvent::ChannelClosed { channel: id, error },
        );
        self.release_end(&ch.opener);
        for end in ch.receivers.values() {
            self.release_end(end);
        }
        for (port, error) in notify {
            self.deferred
                .push_back(Deferred::NotifyDisconnect { port, error });
        }
        // No event fires on these ports any more: their listeners go, and with them what they
        // hold (often the port itself, which would otherwise keep them for good).
        let ports: Vec<Port> = std::iter::once(&ch.opener)
            .chain(ch.receivers.values())
            .filter_map(|end| end.port.clone())
            .collect();
        if !ports.is_empty() {
            self.deferred.push_back(Deferred::DropPortListeners(ports));
        }
    }

    /// `port.postMessage(message)` from end `from`.
    pub(crate) fn post(&mut self, id: u64, from: u64, message: Value) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let (from_endpoint, targets): (Endpoint, Vec<(Endpoint, Port)>) = if from == ch.opener_end {
            if !ch.opened {
                ch.pending.push(PendingOp::Post(message));
                return;
            }
            for host in ch.receivers.values().filter_map(|e| e.native.as_ref()) {
                let _ = host.send(message.clone());
            }
            let targets = ch
                .receivers
                .values()
                .filter_map(|e| Some((e.endpoint.clone(), e.port.clone()?)))
                .collect();
            (ch.opener.endpoint.clone(), targets)
        } else {
            let Some(sender) = ch.receivers.get(&from) else {
                return;
            };
            let targets = ch
                .opener
                .port
                .clone()
                .map(|p| (ch.opener.endpoint.clone(), p))
                .into_iter()
                .collect();
            (sender.endpoint.clone(), targets)
        };
        let message = Arc::new(message);
        self.record_at(
            &from_endpoint,
            TraceEvent::PortPosted {
                channel: id,
                message: Arc::clone(&message),
            },
        );
        for (endpoint, port) in targets {
            let keepalive =
                self.page_keepalive(endpoint.extension(), KeepaliveReason::MessageInTransit(id));
            self.deferred.push_back(Deferred::DeliverPortMessage {
                port,
                message: Arc::clone(&message),
                keepalive,
            });
        }
    }

    /// `port.disconnect()` on end `end`: the other side is told, this side is not.
    pub(crate) fn disconnect(&mut self, id: u64, end: u64) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let notify: Vec<(Port, Option<String>)> = if end == ch.opener_end {
            if !ch.opened {
                ch.pending.push(PendingOp::Disconnect);
                return;
            }
            ch.receivers
                .values()
                .filter_map(|e| Some((e.port.clone()?, None)))
                .collect()
        } else if ch.receivers.contains_key(&end) {
            // The whole channel closes; only the opener is told.
            ch.opener
                .port
                .clone()
                .map(|p| (p, None))
                .into_iter()
                .collect()
        } else {
            return;
        };
        self.close_channel(id, None, notify);
    }

    /// A context went away: its ends close. A one-time message it was to answer fails; a
    /// port's other side is told once no end is left on this side.
    pub(crate) fn close_channels_of(&mut self, endpoint: &Endpoint) {
        let ids: Vec<u64> = self
            .channels
            .iter()
            .filter(|(_, ch)| {
                ch.opener.endpoint == *endpoint
                    || ch.receivers.values().any(|e| e.endpoint == *endpoint)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(ch) = self.channels.get_mut(&id) else {
                continue;
            };
            let is_port = matches!(ch.kind, ChannelKind::Port { .. });
            if ch.opener.endpoint == *endpoint {
                if let Some(port) = &ch.opener.port {
                    port.mark_disconnected();
                }
                let notify: Vec<(Port, Option<String>)> = if ch.opened {
                    ch.receivers
                        .values()
                        .filter_map(|e| Some((e.port.clone()?, None)))
                        .collect()
                } else {
                    Vec::new()
                };
                if is_port {
                    self.close_channel(id, None, notify);
                } else {
                    self.finish_message(id, Err(SendMessageError::ContextInvalidated));
                }
                continue;
            }
            let gone: Vec<u64> = ch
                .receivers
                .iter()
                .filter(|(_, e)| e.endpoint == *endpoint)
                .map(|(end, _)| *end)
                .collect();
            if !is_port {
                for end in gone {
                    self.receiver_abandoned(id, end);
                }
                continue;
            }
            let mut removed = Vec::new();
            for end in gone {
                if let Some(e) = ch.receivers.remove(&end) {
                    if let Some(port) = &e.port {
                        port.mark_disconnected();
                    }
                    removed.push(e);
                }
            }
            let last_gone = ch.opened && ch.receivers.is_empty();
            let opener = ch.opener.port.clone();
            for e in &removed {
                self.release_end(e);
            }
            if last_gone {
                let notify = opener.map(|p| (p, None)).into_iter().collect();
                self.close_channel(id, None, notify);
            }
        }
    }
}

/// Native hosts' ends of channels.
impl Sim {
    /// Opens the channel of a `connectNative` port: its only receiver is the host, reached
    /// through `host` (none if it failed to start). Returns the channel's id and the host's end.
    pub(crate) fn open_native_channel(
        &mut self,
        ext: &ExtensionId,
        opener: Endpoint,
        application: &str,
        host: Option<mpsc::UnboundedSender<Value>>,
        opener_port: impl FnOnce(u64, u64) -> Option<Port>,
    ) -> (u64, u64) {
        let id = self.fresh_id();
        let opener_end = self.fresh_id();
        let host_end = self.fresh_id();
        self.record_at(
            &opener,
            TraceEvent::ChannelOpened {
                channel: id,
                channel_kind: "native port",
                to: format!("native host {application}"),
                name: None,
                message: None,
            },
        );
        let keepalive = self.page_keepalive(Some(ext), KeepaliveReason::NativePort(id));
        let sender = Arc::default();
        let mut receivers = Ends::default();
        receivers.insert(
            host_end,
            End {
                endpoint: Endpoint::NativeHost {
                    name: application.to_owned(),
                    channel: id,
                },
                keepalive: None,
                port: None,
                native: host,
            },
        );
        let channel = Channel {
            kind: ChannelKind::Port {
                name: String::new(),
            },
            opener: End {
                endpoint: opener.clone(),
                keepalive,
                port: opener_port(id, opener_end),
                native: None,
            },
            opener_end,
            receivers,
            target: Target::Own(ext.clone()),
            sender,
            opened: true,
            pending: Vec::new(),
        };
        self.channels.insert(id, channel);
        (id, host_end)
    }

    /// The host ended, or could not start: the extension's port gets `onDisconnect` with the
    /// browser's error.
    pub(crate) fn native_closed(&mut self, id: u64, error: String) {
        let Some(ch) = self.channels.get(&id) else {
            return;
        };
        let notify = ch
            .opener
            .port
            .clone()
            .map(|p| (p, Some(error.clone())))
            .into_iter()
            .collect();
        self.close_channel(id, Some(error), notify);
    }

    /// The host wrote a frame that is not JSON: on a port it is dropped, and the port stays.
    pub(crate) fn native_message_ignored(&mut self, id: u64, reason: String) {
        let Some(ch) = self.channels.get(&id) else {
            return;
        };
        let endpoint = ch.opener.endpoint.clone();
        self.record_at(
            &endpoint,
            TraceEvent::NativeMessageIgnored {
                channel: id,
                reason,
            },
        );
    }
}

impl Shared {
    /// Asks every receiving context of a channel: dispatches `onMessage`/`onConnect` (or their
    /// `External` forms) to each context with a listener, then settles the channel.
    pub(crate) fn open_channel(self: &Arc<Self>, id: u64) {
        let (plan, promises) = {
            let sim = self.sim();
            let Some(plan) = sim.channel_plan(id) else {
                return;
            };
            (plan, sim.config.promise_responses())
        };
        let mut any_listener = false;
        for (endpoint, events) in plan.candidates {
            match &plan.message {
                Some(message) => {
                    let event = match plan.via {
                        Via::External => events.on_message_external(),
                        Via::Own | Via::NativeApp => events.on_message(),
                    };
                    if !event.has_listeners() {
                        continue;
                    }
                    any_listener = true;
                    let end =
                        self.add_receiver(id, &endpoint, event.name(), Arc::clone(message), |_| {
                            None
                        });
                    let respond = SendResponse::new(Arc::downgrade(self), id, end.unwrap_or(0));
                    let dispatch = event.dispatch(OnMessage {
                        message: Value::clone(message),
                        sender: MessageSender::clone(&plan.sender),
                        respond: respond.clone(),
                        promises,
                    });
                    let kept_open = !dispatch.returned_true.is_empty()
                        || (promises && !dispatch.pending.is_empty());
                    self.after_message_dispatch(
                        &endpoint,
                        event.name(),
                        dispatch,
                        respond,
                        promises,
                    );
                    if let Some(end) = end {
                        self.sim().receiver_done(id, end, kept_open);
                    }
                }
                None => {
                    let event = match plan.via {
                        Via::External => events.on_connect_external(),
                        Via::NativeApp => events.on_connect_native(),
                        Via::Own => events.on_connect(),
                    };
                    if !event.has_listeners() {
                        continue;
                    }
                    any_listener = true;
                    let name = plan.name.clone().unwrap_or_default();
                    let new_port = |end: u64| {
                        Port::new(
                            Arc::downgrade(self),
                            id,
                            end,
                            name.clone(),
                            Some(Arc::clone(&plan.sender)),
                            endpoint.clone(),
                            Arc::clone(&events),
                        )
                    };
                    let mut created = None;
                    self.add_receiver(
                        id,
                        &endpoint,
                        event.name(),
                        Arc::new(Value::String(name.clone())),
                        |end| {
                            created = Some(new_port(end));
                            created.clone()
                        },
                    );
                    // A channel closed meanwhile still shows its port, already disconnected.
                    let port = created.unwrap_or_else(|| {
                        let port = new_port(0);
                        port.mark_disconnected();
                        port
                    });
                    let dispatch = event.dispatch(port);
                    self.after_dispatch(&endpoint, event.name(), dispatch);
                }
            }
        }
        self.sim().channel_opened(id, any_listener);
    }

    /// Records the dispatch of `event` to a receiving context and adds its end.
    fn add_receiver(
        &self,
        id: u64,
        endpoint: &Endpoint,
        event: &str,
        args: Arc<Value>,
        port: impl FnOnce(u64) -> Option<Port>,
    ) -> Option<u64> {
        let mut sim = self.sim();
        let listeners = sim
            .find_context_events(endpoint)
            .map_or(0, |events| events.listener_count_of(event));
        sim.record_at(
            endpoint,
            TraceEvent::EventDispatched {
                event: event.to_owned(),
                listeners,
                args,
            },
        );
        sim.add_receiver(id, endpoint, port)
    }

    /// Starts the asynchronous work `onMessage` listeners left. In the promise form (Chrome
    /// 144+), a listener's future is its answer: what it resolves to is the response, an error
    /// it fails with is the sender's error.
    fn after_message_dispatch(
        self: &Arc<Self>,
        endpoint: &Endpoint,
        event: &str,
        mut dispatch: Dispatch,
        respond: SendResponse,
        promises: bool,
    ) {
        if promises {
            let pending = std::mem::take(&mut dispatch.pending);
            dispatch.pending = pending
                .into_iter()
                .map(|(id, future)| {
                    let respond = respond.clone();
                    let answered: runtime_events::ListenerFuture = Box::pin(async move {
                        let outcome = std::panic::AssertUnwindSafe(future).catch_unwind().await;
                        let reply = match outcome {
                            Ok(Ok(())) => Ok(None),
                            Ok(Err(error)) => Err(rejection(&error)),
                            Err(panic) => Err(SendMessageError::Rejected(
                                runtime_events::panic_message(panic.as_ref()),
                            )),
                        };
                        respond.answer(reply);
                        Ok(())
                    });
                    (id, answered)
                })
                .collect();
        }
        drop(respond);
        self.after_dispatch(endpoint, event, dispatch);
    }

    /// Delivers a port message, unless the receiving port was disconnected meanwhile.
    pub(crate) fn deliver_port_message(
        self: &Arc<Self>,
        port: Port,
        message: Arc<Value>,
        keepalive: Option<(ExtensionId, u64)>,
    ) {
        let endpoint = port.endpoint();
        let deliver = {
            let mut sim = self.sim();
            if !sim.context_alive(endpoint) {
                // Its page, view or tab went away with the message on its way.
                port.mark_disconnected();
            }
            let deliver = !port.is_disconnected();
            if deliver {
                sim.record_at(
                    endpoint,
                    TraceEvent::EventDispatched {
                        event: "Port.onMessage".to_owned(),
                        listeners: port.on_message().listener_count(),
                        args: Arc::clone(&message),
                    },
                );
            }
            deliver
        };
        if deliver {
            let message = Arc::unwrap_or_clone(message);
            let dispatch = port.on_message().dispatch((message, port.clone()));
            self.after_dispatch(endpoint, "Port.onMessage", dispatch);
        }
        if let Some((ext, id)) = keepalive {
            self.sim().release(&ext, id);
        }
    }

    /// Tells a port its channel closed: it is marked disconnected, then its `onDisconnect`
    /// listeners run (with `lastError` set when there is an error). At most once per port.
    pub(crate) fn notify_disconnect(self: &Arc<Self>, port: Port, error: Option<String>) {
        let alive = self.sim().context_alive(port.endpoint());
        if !port.mark_disconnected() || !alive {
            return;
        }
        let endpoint = port.endpoint().clone();
        let listeners = port.on_disconnect().listener_count();
        self.sim().record_at(
            &endpoint,
            TraceEvent::EventDispatched {
                event: "Port.onDisconnect".to_owned(),
                listeners,
                args: Arc::new(error.clone().map_or(Value::Null, Value::String)),
            },
        );
        let slot = port.last_error_slot();
        if let Some(error) = &error {
            slot.set(error.clone());
        }
        let dispatch = port.on_disconnect().dispatch(port.clone());
        if error.is_some() {
            self.report_unchecked(&endpoint, slot.clear());
        }
        self.after_dispatch(&endpoint, "Port.onDisconnect", dispatch);
    }

    /// Records an error no callback read: `Unchecked runtime.lastError: <message>`.
    pub(crate) fn report_unchecked(&self, endpoint: &Endpoint, unread: Option<String>) {
        if let Some(message) = unread {
            self.sim()
                .record_at(endpoint, TraceEvent::UncheckedLastError { message });
        }
    }
}

/// What the sender of a message gets when a listener's promise rejects.
fn rejection(error: &ListenerError) -> SendMessageError {
    if error.is_error() {
        SendMessageError::Rejected(error.message().to_owned())
    } else {
        SendMessageError::RejectedWithoutError
    }
}
