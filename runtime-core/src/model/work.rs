//! Everything pending, as data that prints: the bus's items (what the browser will do at a
//! virtual instant), a background page's queue, what the driver must run (actions), what it
//! must tell the code that waits (signals), and what reaches the browser from outside its
//! thread (the inbox).

use std::sync::Arc;

use serde_json::Value;

use crate::model::calls::CallOutcome;
use crate::model::channel::Reply;
use crate::model::contexts::{ContextId, ScriptPlace};
use crate::model::error::SendNativeMessageError;
use crate::model::event::{OnRestartRequiredReason, RuntimeEvent};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{
    CallId, ChannelId, EndId, KeepaliveId, PageLoad, ScriptId, TimerId, TimerToken,
};
use crate::model::package::Package;
use crate::model::update_service::{UpdateCheckResult, UpdateTrigger};

/// An item of the bus: something the browser does at a virtual instant.
#[derive(Debug)]
pub(crate) enum Work {
    /// Create the page of an extension whose lifecycle is loading.
    LoadPage { ext: ExtensionId },
    /// The page's idle timer, started with this sequence number, fires.
    IdleTimer { ext: ExtensionId, sequence: u64 },
    /// The browser asks whether the page may suspend (Chromium's `ShouldSuspend`).
    ShouldSuspend { ext: ExtensionId, sequence: u64 },
    /// The page's close timer (the suspending window) ends.
    CloseTimer { ext: ExtensionId, sequence: u64 },
    /// Hand an event to an extension.
    Deliver {
        ext: ExtensionId,
        event: RuntimeEvent,
    },
    /// An API call completes.
    CompleteCall(CallId),
    /// A service worker's event or API call, held by this keepalive, may have run for 5 min.
    RequestTimeout {
        ext: ExtensionId,
        keepalive: KeepaliveId,
    },
    /// An update that waited for the extension to go idle is installed if it is idle now.
    InstallWhenIdle { ext: ExtensionId },
    /// A channel nobody may receive: its opener learns there is no receiving end.
    ChannelRefused(ChannelId),
    /// A new version is published on the update service.
    Publish {
        ext: ExtensionId,
        update: Box<Package>,
    },
    /// A `requestUpdateCheck` call gets its result without a check (throttled).
    AnswerUpdateCheck {
        call: CallId,
        result: UpdateCheckResult,
    },
    /// An update check of one extension completes (in the browser run `run`).
    UpdateCheck {
        ext: ExtensionId,
        trigger: UpdateTrigger,
        run: u64,
    },
    /// `runtime.reload()` takes effect, after the call has answered.
    Reload {
        ext: ExtensionId,
        terminate: Option<u32>,
    },
    /// `runtime.restart()` restarts the device.
    RestartDevice { ext: ExtensionId },
    /// The restart scheduled by `restartAfterDelay` (if this is still its token).
    ScheduledRestart { token: TimerToken },
    /// The forced restart at the end of the grace period (if this is still its token).
    ForcedRestart {
        token: TimerToken,
        reason: OnRestartRequiredReason,
    },
    /// A script's timer fires.
    Timer(TimerId),
    /// An extension's alarm is due (if this is still its generation).
    Alarm {
        ext: ExtensionId,
        name: Arc<str>,
        generation: u64,
    },
    /// The browser's periodic update check (ambient: see [`Work::is_ambient`]).
    PeriodicUpdateCheck { run: u64 },
    /// A kiosk's uptime limit is reached (ambient).
    UptimeLimit { run: u64 },
}

impl Work {
    /// What the item is, in a few words (for a summary of what is scheduled).
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Work::LoadPage { .. } => "a page load",
            Work::IdleTimer { .. } => "a page's idle timer",
            Work::ShouldSuspend { .. } => "a suspend check",
            Work::CloseTimer { .. } => "a page's close timer",
            Work::Deliver { .. } => "an event on its way",
            Work::CompleteCall(_) => "an API call in flight",
            Work::RequestTimeout { .. } => "a service worker's request timeout",
            Work::InstallWhenIdle { .. } => "an update install",
            Work::ChannelRefused(_) => "a refused message channel",
            Work::Publish { .. } => "an update to publish",
            Work::AnswerUpdateCheck { .. } | Work::UpdateCheck { .. } => "an update check",
            Work::Reload { .. } => "a reload",
            Work::RestartDevice { .. }
            | Work::ScheduledRestart { .. }
            | Work::ForcedRestart { .. } => "a device restart",
            Work::Timer(_) => "a script's timer",
            Work::Alarm { .. } => "an alarm",
            Work::PeriodicUpdateCheck { .. } => "the periodic update check",
            Work::UptimeLimit { .. } => "a kiosk's uptime limit",
        }
    }

    /// Whether this is the browser's own recurring work (the periodic update check, a kiosk's
    /// uptime limit): it is always scheduled, so it does not keep the simulation from being
    /// idle.
    pub(crate) fn is_ambient(&self) -> bool {
        matches!(
            self,
            Work::PeriodicUpdateCheck { .. } | Work::UptimeLimit { .. }
        )
    }
}

/// Work waiting for an event page to load (Chromium's lazy background task queue).
#[derive(Clone, Debug)]
pub(crate) enum Queued {
    /// An event to dispatch.
    Event(RuntimeEvent),
    /// A message channel to open.
    OpenChannel(ChannelId),
    /// A `getBackgroundPage` call to answer.
    BackgroundPage(CallId),
    /// Nothing but the load itself (a persistent page at start).
    Load,
}

/// Which of the browser's uses of a native host a host process serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum HostSource {
    /// The far end of a `connectNative` port.
    Port(ChannelId),
    /// A `sendNativeMessage` call.
    Call(CallId),
}

/// What a native host's task reports from its thread.
#[derive(Debug)]
pub(crate) enum HostEvent {
    /// The host wrote a message on a port.
    Message {
        channel: ChannelId,
        end: EndId,
        message: Value,
    },
    /// The host wrote a frame that is not JSON.
    Invalid { channel: ChannelId, reason: String },
    /// The port's host ended or failed: the extension's port is disconnected with `error`.
    Closed { channel: ChannelId, error: String },
    /// A line on a host's stderr.
    Stderr { host: String, line: String },
    /// A host's process ended; `left_running` are the pids of what it left running in its
    /// process group (which the simulator then ended).
    Ended {
        host: String,
        exit: String,
        source: HostSource,
        left_running: Vec<u32>,
    },
    /// A host got end of file as the browser shut down and is no longer waited for.
    LeftRunning { host: String, source: HostSource },
    /// The browser no longer waits for this host (it could not start, or failed before it
    /// answered and ends on its own).
    Released { source: HostSource },
    /// A `sendNativeMessage` host answered (or failed to).
    Answered {
        call: CallId,
        answer: Result<Value, SendNativeMessageError>,
    },
}

/// What reaches the browser from outside its steps (a guard dropped anywhere, a native host's
/// task): it is taken in order, between steps.
#[derive(Debug)]
pub(crate) enum InboxItem {
    /// A keepalive guard was dropped.
    Release {
        ext: ExtensionId,
        keepalive: KeepaliveId,
    },
    /// Every copy of a `sendResponse` was dropped without answering.
    ResponderDropped { channel: ChannelId, end: EndId },
    /// Firefox: every `onSuspend` listener of this page load, and their promises, are done.
    SuspendAcked { ext: ExtensionId, load: PageLoad },
    /// From a native host.
    Host(HostEvent),
}

/// A step that runs extension code (or follows one), left by the model for the driver, in
/// order.
#[derive(Debug)]
pub(crate) enum Action {
    /// Run the background script of this page load from the top.
    RunScript {
        ext: ExtensionId,
        load: PageLoad,
        script: ScriptId,
    },
    /// Run an extension's code in a context that has just begun: a content script that
    /// started in a frame, a view that opened.
    StartContext {
        context: ContextId,
        script: ScriptId,
        place: ScriptPlace,
    },
    /// Dispatch an event to a loaded page.
    Dispatch {
        ext: ExtensionId,
        load: PageLoad,
        event: RuntimeEvent,
    },
    /// Dispatch an event to the listeners of a context that is not a background page (a
    /// view, a content script), if it has any: nothing is woken or kept alive for it.
    DispatchToContext { to: ContextId, event: RuntimeEvent },
    /// Dispatch `onSuspend`.
    Suspend { ext: ExtensionId, load: PageLoad },
    /// Dispatch `onSuspendCanceled`.
    SuspendCanceled { ext: ExtensionId, load: PageLoad },
    /// Give back a keepalive (the page's creation, once its queued work has been dispatched).
    Release {
        ext: ExtensionId,
        keepalive: KeepaliveId,
    },
    /// Drop the tasks of a context that has gone.
    DropTasks(ContextId),
    /// Drop the listeners of a context that has gone.
    DropListeners(ContextId),
    /// Ask the receiving contexts of a channel.
    OpenChannel(ChannelId),
    /// Hand a message to a port's `onMessage` listeners.
    DeliverPortMessage {
        channel: ChannelId,
        end: EndId,
        message: Arc<Value>,
        keepalive: Option<(ExtensionId, KeepaliveId)>,
    },
    /// Tell a port its channel closed.
    NotifyDisconnect {
        channel: ChannelId,
        end: EndId,
        error: Option<String>,
    },
    /// Drop the ports of a closed channel (and their listeners), once they have been told.
    DropPorts(Vec<(ChannelId, EndId)>),
    /// Something from the inbox, taken in its turn.
    Inbox(InboxItem),
}

/// What the driver tells at once, as the model call that settled it returns: the code waiting
/// for it runs at its own turn.
#[derive(Debug)]
pub(crate) enum Signal {
    /// An API call completed.
    CallDone { call: CallId, outcome: CallOutcome },
    /// A one-time message was answered or failed.
    Reply { channel: ChannelId, reply: Reply },
    /// A port is disconnected (what `postMessage` checks), before anyone is told.
    PortDisconnected { channel: ChannelId, end: EndId },
    /// A message for a native host's stdin.
    ToHost { channel: ChannelId, message: Value },
    /// A native host's port closed: its stdin closes and the host is ended.
    CloseHost { channel: ChannelId },
    /// A script's timer fired.
    TimerFired(TimerId),
}
