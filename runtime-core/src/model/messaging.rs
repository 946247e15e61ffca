//! Message channels, as Chromium's message service runs them: opening a one-time message or a
//! port, its receivers, answers, posts, disconnects, and what closes with a context. The
//! listeners (`onMessage`, `onConnect`, a port's events) are the driver's to call.

use std::sync::Arc;

use serde_json::Value;

use crate::model::channel::{Channel, ChannelKind, End, Ends, PendingOp, Reply, Target, Via};
use crate::model::contexts::ContextId;
use crate::model::error::{ContextInvalidated, SendMessageError};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{ChannelId, EndId};
use crate::model::keepalive::KeepaliveReason;
use crate::model::message::MessageSender;
use crate::model::names::EventName;
use crate::model::trace::Response;
use crate::model::trace_entry::TraceEvent;
use crate::model::work::{Action, Queued, Signal, Work};
use crate::model::world::Model;

/// The receiving contexts of a channel, and what to dispatch to them.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The contexts that may receive it, in order (the opener's own context is not one).
    pub(crate) candidates: Vec<ContextId>,
    /// The one-time message (none for a port).
    pub(crate) message: Option<Arc<Value>>,
    /// The port's name (none for a one-time message).
    pub(crate) name: Option<String>,
    pub(crate) via: Via,
    pub(crate) sender: Arc<MessageSender>,
}

impl Model {
    fn release_end(&mut self, end: &End) {
        if let Some((ext, id)) = &end.keepalive {
            self.release(ext, *id);
        }
    }

    /// Whether the browser lets `opener` reach `target` at all (§4.4).
    fn may_reach(&self, opener: &ContextId, target: &Target) -> bool {
        let Some(rec) = self.ext(target.ext()) else {
            return false;
        };
        match target {
            Target::Own(_) | Target::FromNativeApp(_) => true,
            Target::External(_) => match opener {
                ContextId::WebPage { .. } => self
                    .context_url(opener)
                    .is_some_and(|url| rec.manifest.accepts_page(&url)),
                other => other
                    .extension()
                    .is_some_and(|ext| rec.manifest.accepts_extension(ext.as_str())),
            },
            Target::Tab { tab, .. } => self.tabs.contains_key(tab),
        }
    }

    /// Opens a channel from `opener` (whose end has a `Port` object if `opener_port`). The
    /// receivers are asked once the target's background page (if it is an event page) has
    /// loaded. Returns the channel's id and its opener's end.
    pub(crate) fn open_channel(
        &mut self,
        opener: ContextId,
        target: Target,
        kind: ChannelKind,
        opener_port: bool,
    ) -> (ChannelId, EndId) {
        let id = self.ids.channel();
        let opener_end = self.ids.end();
        let reachable = self.may_reach(&opener, &target);
        let to_tab = matches!(target, Target::Tab { .. });
        let ext = target.ext().clone();
        let external = matches!(target, Target::External(_));
        let tls_wanted = external
            && self
                .ext(target.ext())
                .and_then(|r| r.manifest.externally_connectable())
                .is_some_and(|ec| ec.accepts_tls_channel_id);
        let sender = self.shared_sender(&opener, tls_wanted);
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
                context: opener,
                keepalive,
                port: opener_port,
                native: false,
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
            self.bus.post(Work::ChannelRefused(id));
            return (id, opener_end);
        }
        let now = if to_tab {
            Some(Queued::OpenChannel(id))
        } else {
            // The page loads first; the channel opens once its top-level script has run.
            self.route_waking(&ext, Queued::OpenChannel(id))
        };
        if now.is_some() {
            self.act(Action::OpenChannel(id));
        }
        (id, opener_end)
    }

    /// The receiving contexts of a channel, and what to dispatch to them.
    pub(crate) fn channel_plan(&self, id: ChannelId) -> Option<Plan> {
        let ch = self.channels.get(&id)?;
        let contexts = match &ch.target {
            Target::Own(ext) | Target::External(ext) | Target::FromNativeApp(ext) => {
                self.extension_contexts(ext)
            }
            Target::Tab { ext, tab, frame } => self.content_scripts_in(ext, *tab, *frame),
        };
        let candidates = contexts
            .into_iter()
            .filter(|c| *c != ch.opener.context)
            .collect();
        let (message, name) = match &ch.kind {
            ChannelKind::Message { message, .. } => (Some(Arc::clone(message)), None),
            ChannelKind::Port { name } => (None, Some(name.clone())),
        };
        Some(Plan {
            candidates,
            message,
            name,
            via: ch.target.via(),
            sender: Arc::clone(&ch.sender),
        })
    }

    /// A receiving context with `listeners` listeners of `event` is given the channel: the
    /// dispatch is recorded, and its end (with a `Port` object if `port`) is added. `None` if
    /// the channel has closed meanwhile.
    pub(crate) fn add_receiver(
        &mut self,
        id: ChannelId,
        context: &ContextId,
        event: EventName,
        args: Arc<Value>,
        listeners: usize,
        port: bool,
    ) -> Option<EndId> {
        self.record_at(
            context,
            TraceEvent::EventDispatched {
                event,
                listeners,
                args,
            },
        );
        if !self.channels.contains_key(&id) {
            return None;
        }
        let end = self.ids.end();
        let keepalive =
            self.page_keepalive(context.extension(), KeepaliveReason::MessageChannel(id));
        let ch = self.channels.get_mut(&id)?;
        ch.receivers.insert(
            end,
            End {
                context: context.clone(),
                keepalive,
                port,
                native: false,
            },
        );
        Some(end)
    }

    /// A receiver of a one-time message has run its listeners; unless one of them keeps the
    /// channel open, its end closes.
    pub(crate) fn receiver_done(&mut self, id: ChannelId, end: EndId, kept_open: bool) {
        if kept_open {
            return;
        }
        let removed = self
            .channels
            .get_mut(&id)
            .and_then(|ch| ch.receivers.remove(end));
        if let Some(removed) = removed {
            self.release_end(&removed);
        }
    }

    /// Every receiving context has been asked.
    pub(crate) fn channel_opened(&mut self, id: ChannelId, any_listener: bool) {
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
    fn fail_channel(&mut self, id: ChannelId, error: SendMessageError) {
        let Some(ch) = self.channels.get(&id) else {
            return;
        };
        if ch.is_port() {
            let notify = ch
                .opener
                .port
                .then(|| (ch.opener_end, Some(error.to_string())));
            self.close_channel(id, Some(error.to_string()), notify.into_iter().collect());
        } else {
            self.finish_message(id, Err(error));
        }
    }

    /// Answers a one-time message from receiving end `end`. Only the first answer counts:
    /// returns whether this was it.
    pub(crate) fn respond(&mut self, id: ChannelId, end: EndId, reply: Reply) -> bool {
        let Some(ch) = self.channels.get(&id) else {
            return false;
        };
        let Some(receiver) = ch.receivers.get(end) else {
            return false;
        };
        let context = receiver.context.clone();
        let error;
        let response = match &reply {
            Ok(Some(value)) => value,
            Ok(None) => &Value::Null,
            Err(e) => {
                error = Value::String(e.to_string());
                &error
            }
        };
        self.record_response_at(
            &context,
            Response {
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
    pub(crate) fn receiver_abandoned(&mut self, id: ChannelId, end: EndId) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let Some(removed) = ch.receivers.remove(end) else {
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

    /// Takes a channel away; a native host's end of it goes with it.
    fn remove_channel(&mut self, id: ChannelId) -> Option<Channel> {
        let ch = self.channels.remove(&id)?;
        if ch.receivers.values().any(|e| e.native) {
            self.signal(Signal::CloseHost { channel: id });
        }
        Some(ch)
    }

    /// Ends a one-time message: the sender gets `reply`.
    fn finish_message(&mut self, id: ChannelId, reply: Reply) {
        let Some(ch) = self.remove_channel(id) else {
            return;
        };
        let error = reply.as_ref().err().map(ToString::to_string);
        self.record_at(
            &ch.opener.context,
            TraceEvent::ChannelClosed { channel: id, error },
        );
        self.signal(Signal::Reply { channel: id, reply });
        self.release_end(&ch.opener);
        for end in ch.receivers.values() {
            self.release_end(end);
        }
    }

    /// Closes a channel; each port end in `notify` gets `onDisconnect` (with `lastError` when
    /// an error is given), once the steps already due have run.
    fn close_channel(
        &mut self,
        id: ChannelId,
        error: Option<String>,
        notify: Vec<(EndId, Option<String>)>,
    ) {
        let Some(ch) = self.remove_channel(id) else {
            return;
        };
        self.record_at(
            &ch.opener.context,
            TraceEvent::ChannelClosed { channel: id, error },
        );
        self.release_end(&ch.opener);
        for end in ch.receivers.values() {
            self.release_end(end);
        }
        for (end, error) in notify {
            self.act(Action::NotifyDisconnect {
                channel: id,
                end,
                error,
            });
        }
        // No event fires on these ports any more: they go, with their listeners, and with
        // them what they hold (often the port itself, which would otherwise keep them).
        let ports: Vec<(ChannelId, EndId)> = ch.port_ends().map(|end| (id, end)).collect();
        if !ports.is_empty() {
            self.act(Action::DropPorts(ports));
        }
    }

    /// The receiving port ends of a channel, to tell them.
    fn receiver_ports(ch: &Channel) -> Vec<(EndId, Option<String>)> {
        ch.receivers
            .iter()
            .filter(|(_, e)| e.port)
            .map(|(end, _)| (end, None))
            .collect()
    }

    /// `port.postMessage(message)` from end `from`.
    pub(crate) fn post(&mut self, id: ChannelId, from: EndId, message: Value) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let (from_context, targets): (ContextId, Vec<(ContextId, EndId)>) = if from == ch.opener_end
        {
            if !ch.opened {
                ch.pending.push(PendingOp::Post(message));
                return;
            }
            let to_host = ch.receivers.values().any(|e| e.native);
            let targets = ch
                .receivers
                .iter()
                .filter(|(_, e)| e.port)
                .map(|(end, e)| (e.context.clone(), end))
                .collect();
            let from_context = ch.opener.context.clone();
            if to_host {
                self.signal(Signal::ToHost {
                    channel: id,
                    message: message.clone(),
                });
            }
            (from_context, targets)
        } else {
            let Some(sender) = ch.receivers.get(from) else {
                return;
            };
            let targets = ch
                .opener
                .port
                .then(|| (ch.opener.context.clone(), ch.opener_end))
                .into_iter()
                .collect();
            (sender.context.clone(), targets)
        };
        let message = Arc::new(message);
        self.record_at(
            &from_context,
            TraceEvent::PortPosted {
                channel: id,
                message: Arc::clone(&message),
            },
        );
        for (context, end) in targets {
            let keepalive =
                self.page_keepalive(context.extension(), KeepaliveReason::MessageInTransit(id));
            self.act(Action::DeliverPortMessage {
                channel: id,
                end,
                message: Arc::clone(&message),
                keepalive,
            });
        }
    }

    /// `port.disconnect()` on end `end`: the other side is told, this side is not.
    pub(crate) fn disconnect(&mut self, id: ChannelId, end: EndId) {
        let Some(ch) = self.channels.get_mut(&id) else {
            return;
        };
        let notify = if end == ch.opener_end {
            if !ch.opened {
                ch.pending.push(PendingOp::Disconnect);
                return;
            }
            Self::receiver_ports(ch)
        } else if ch.receivers.contains(end) {
            // The whole channel closes; only the opener is told.
            ch.opener
                .port
                .then_some((ch.opener_end, None))
                .into_iter()
                .collect()
        } else {
            return;
        };
        self.close_channel(id, None, notify);
    }

    /// A context went away: its ends close. A one-time message it was to answer fails; a
    /// port's other side is told once no end is left on this side.
    pub(crate) fn close_channels_of(&mut self, context: &ContextId) {
        let ids: Vec<ChannelId> = self
            .channels
            .iter()
            .filter(|(_, ch)| {
                ch.opener.context == *context
                    || ch.receivers.values().any(|e| e.context == *context)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            let Some(ch) = self.channels.get_mut(&id) else {
                continue;
            };
            let is_port = ch.is_port();
            if ch.opener.context == *context {
                let opener_port = ch.opener.port.then_some(ch.opener_end);
                let notify = if ch.opened {
                    Self::receiver_ports(ch)
                } else {
                    Vec::new()
                };
                if let Some(end) = opener_port {
                    self.signal(Signal::PortDisconnected { channel: id, end });
                }
                if is_port {
                    self.close_channel(id, None, notify);
                } else {
                    self.finish_message(
                        id,
                        Err(SendMessageError::ContextInvalidated(ContextInvalidated)),
                    );
                }
                continue;
            }
            let gone: Vec<EndId> = ch
                .receivers
                .iter()
                .filter(|(_, e)| e.context == *context)
                .map(|(end, _)| end)
                .collect();
            if !is_port {
                for end in gone {
                    self.receiver_abandoned(id, end);
                }
                continue;
            }
            let mut removed = Vec::new();
            for end in gone {
                if let Some(e) = ch.receivers.remove(end) {
                    if e.port {
                        self.signals
                            .push(Signal::PortDisconnected { channel: id, end });
                    }
                    removed.push(e);
                }
            }
            let Some(ch) = self.channels.get(&id) else {
                continue;
            };
            let last_gone = ch.opened && ch.receivers.is_empty();
            let opener = ch.opener.port.then_some(ch.opener_end);
            for e in &removed {
                self.release_end(e);
            }
            if last_gone {
                let notify = opener.map(|end| (end, None)).into_iter().collect();
                self.close_channel(id, None, notify);
            }
        }
    }

    /// Opens the channel of a `connectNative` port: its only receiver is the host (`started`:
    /// its process started). Returns the channel's id, the opener's end and the host's end.
    pub(crate) fn open_native_channel(
        &mut self,
        ext: &ExtensionId,
        opener: ContextId,
        application: &str,
        started: bool,
    ) -> (ChannelId, EndId, EndId) {
        let id = self.ids.channel();
        let opener_end = self.ids.end();
        let host_end = self.ids.end();
        self.record_at(
            &opener,
            TraceEvent::ChannelOpened {
                channel: id,
                channel_kind: "native port",
                to: format!("native host {application}").into(),
                name: None,
                message: None,
            },
        );
        let keepalive = self.page_keepalive(Some(ext), KeepaliveReason::NativePort(id));
        let mut receivers = Ends::default();
        receivers.insert(
            host_end,
            End {
                context: ContextId::NativeHost {
                    name: application.to_owned(),
                    channel: id,
                },
                keepalive: None,
                port: false,
                native: started,
            },
        );
        let channel = Channel {
            kind: ChannelKind::Port {
                name: String::new(),
            },
            opener: End {
                context: opener,
                keepalive,
                port: true,
                native: false,
            },
            opener_end,
            receivers,
            target: Target::Own(ext.clone()),
            sender: Arc::default(),
            opened: true,
            pending: Vec::new(),
        };
        self.channels.insert(id, channel);
        (id, opener_end, host_end)
    }

    /// The host ended, or could not start: the extension's port gets `onDisconnect` with the
    /// browser's error.
    pub(crate) fn native_closed(&mut self, id: ChannelId, error: String) {
        let Some(ch) = self.channels.get(&id) else {
            return;
        };
        let notify = ch
            .opener
            .port
            .then(|| (ch.opener_end, Some(error.clone())))
            .into_iter()
            .collect();
        self.close_channel(id, Some(error), notify);
    }

    /// The host wrote a frame that is not JSON: on a port it is dropped, and the port stays.
    pub(crate) fn native_message_ignored(&mut self, id: ChannelId, reason: String) {
        let Some(ch) = self.channels.get(&id) else {
            return;
        };
        let context = ch.opener.context.clone();
        self.record_at(
            &context,
            TraceEvent::NativeMessageIgnored {
                channel: id,
                reason,
            },
        );
    }
}
