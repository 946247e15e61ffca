//! Native messaging inside the simulation: host processes, which run in real time, joined to
//! message channels, which live on the virtual clock.
//!
//! A host's process runs on a Tokio runtime the browser starts on first use. One task per
//! `connectNative` port pumps messages both ways and hands what it reads to the engine's inbox;
//! the driver, while such a real-time source is open, waits for the inbox before it moves the
//! virtual clock (see the crate docs).

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use futures::channel::oneshot;
use runtime_native::{HostProcess, Launcher, NativeError, Received, StderrSink};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::context::Endpoint;
use crate::engine::{Deferred, Shared};
use crate::events::ContextEvents;
use crate::message::to_message;
use crate::port::Port;
use crate::profile::BackgroundModel;
use crate::sim::Sim;
use crate::trace::TraceEvent;
use crate::{ConnectNativeError, KeepaliveReason, PageState, SendNativeMessageError};

/// The permission native messaging needs.
const NATIVE_MESSAGING: &str = "nativeMessaging";

impl Shared {
    /// The Tokio runtime host processes run on, started on first use.
    pub(crate) fn native_runtime(&self) -> tokio::runtime::Handle {
        let mut slot = crate::executor::lock(&self.native);
        if let Some(runtime) = slot.as_ref() {
            return runtime.handle().clone();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("runtime-sim-native")
            .enable_all()
            .build()
            .expect("a Tokio runtime for native hosts starts");
        let handle = runtime.handle().clone();
        *slot = Some(runtime);
        handle
    }

    /// The launcher, with hosts' stderr going into the trace.
    fn launcher(self: &Arc<Self>) -> Launcher {
        let weak = Arc::downgrade(self);
        let launcher = self.sim().config.launcher();
        launcher.with_stderr(StderrSink::callback(move |line| {
            hand_in(
                &weak,
                Deferred::Sim(Box::new(move |sim: &mut Sim| {
                    sim.record(
                        None,
                        None,
                        TraceEvent::NativeStderr {
                            host: line.host,
                            line: line.line,
                        },
                    );
                })),
            );
        }))
    }
}

/// Hands a step to the engine from a real-time task.
fn hand_in(shared: &Weak<Shared>, step: Deferred) {
    if let Some(shared) = shared.upgrade() {
        shared.hand_in(step);
    }
}

/// Checks what `connectNative` and `sendNativeMessage` check before anything starts.
fn check_permission(sim: &Sim, opener: &Endpoint) -> Result<(), SendNativeMessageError> {
    if !sim.context_alive(opener) {
        return Err(SendNativeMessageError::ContextInvalidated);
    }
    let allowed = opener
        .extension()
        .and_then(|ext| sim.extensions.get(ext))
        .is_some_and(|rec| rec.manifest.has_permission(NATIVE_MESSAGING));
    if !allowed {
        return Err(SendNativeMessageError::PermissionRequired);
    }
    Ok(())
}

/// `runtime.connectNative(application)`: the port is returned at once. The host is started now;
/// if it cannot be, the port's `onDisconnect` fires with the browser's error.
pub(crate) fn connect_native(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    events: &Arc<ContextEvents>,
    application: &str,
) -> Result<Port, ConnectNativeError> {
    let strong = shared
        .upgrade()
        .ok_or(ConnectNativeError::ContextInvalidated)?;
    check_permission(&strong.sim(), opener).map_err(|e| match e {
        SendNativeMessageError::PermissionRequired => ConnectNativeError::PermissionRequired,
        _ => ConnectNativeError::ContextInvalidated,
    })?;
    let ext = opener
        .extension()
        .cloned()
        .ok_or(ConnectNativeError::ContextInvalidated)?;
    let launcher = strong.launcher();
    let caller = strong.sim().native_caller_id(&ext);
    let runtime = strong.native_runtime();
    let started: Result<HostProcess, NativeError> = {
        let _entered = runtime.enter();
        launcher.connect_native(application, &caller)
    };
    let mut sim = strong.sim();
    let (outgoing, incoming) = mpsc::unbounded_channel();
    let link = started.as_ref().ok().map(|_| outgoing);
    let mut created = None;
    let (channel, native_end) =
        sim.open_native_channel(&ext, opener.clone(), application, link, |channel, end| {
            let port = Port::new(
                shared.clone(),
                channel,
                end,
                String::new(),
                None,
                opener.clone(),
                Arc::clone(events),
            );
            created = Some(port.clone());
            Some(port)
        });
    match started {
        Ok(host) => {
            strong.realtime.fetch_add(1, Ordering::AcqRel);
            runtime.spawn(pump(host, incoming, shared.clone(), channel, native_end));
        }
        Err(error) => sim.native_closed(channel, error.to_string()),
    }
    drop(sim);
    created.ok_or(ConnectNativeError::ContextInvalidated)
}

/// Moves messages between a host and its channel until either side ends, then ends the host
/// as the browser does (stdin closed, then the browser's grace and signals).
async fn pump(
    mut host: HostProcess,
    mut outgoing: mpsc::UnboundedReceiver<Value>,
    shared: Weak<Shared>,
    channel: u64,
    end: u64,
) {
    let (writer, reader) = host.split();
    // Messages posted while a write waits (a host that does not read fills its stdin) queue
    // here. The host's output is read all the while, as browsers read it: a host that writes
    // while it does not read would otherwise wait on its stdout as the pump waits on its
    // stdin. A disconnect ends the wait, so such a host is still ended.
    let mut pending: VecDeque<Value> = VecDeque::new();
    let error = 'pump: loop {
        if let Some(message) = pending.pop_front() {
            let send = writer.send(&message);
            tokio::pin!(send);
            loop {
                tokio::select! {
                    result = &mut send => match result {
                        Ok(()) => continue 'pump,
                        Err(e) => break 'pump Some(e.to_string()),
                    },
                    more = outgoing.recv() => match more {
                        Some(next) => pending.push_back(next),
                        // The extension disconnected while the host was not reading.
                        None => break 'pump None,
                    },
                    got = reader.recv() => {
                        if let Err(e) = hand_in_received(&shared, channel, end, got) {
                            break 'pump Some(e);
                        }
                    }
                }
            }
        }
        tokio::select! {
            out = outgoing.recv() => match out {
                Some(message) => pending.push_back(message),
                // The extension disconnected the port (or its page went away).
                None => break None,
            },
            got = reader.recv() => {
                if let Err(e) = hand_in_received(&shared, channel, end, got) {
                    break Some(e);
                }
            }
        }
    };
    let failed = error.as_ref().map(|_| ());
    if let Some(error) = error {
        hand_in(
            &shared,
            Deferred::Sim(Box::new(move |sim: &mut Sim| {
                sim.native_closed(channel, error)
            })),
        );
    }
    let name = host.name().to_owned();
    // The port went because the browser shut down (the simulation's lock is held while it
    // stops, so `running` is already false here): Chrome only closes the host's stdin then,
    // and a host that ignores end of file is left running (§7).
    let shut_down =
        failed.is_none() && shared.upgrade().is_some_and(|strong| !strong.sim().running);
    if shut_down {
        host.close_stdin();
        leave_running(host, shared).await;
        return;
    }
    let exit = host.close().await;
    let exit = match exit {
        Ok(exit) => exit.to_string(),
        Err(e) => format!("could not be reaped: {e}"),
    };
    host_ended(&shared, name, exit, true);
}

/// Hands what the host wrote to the channel's far end: a message is posted to it, an invalid
/// one is noted and dropped. The host's end of output (or a failure) is the error that ends
/// the port.
fn hand_in_received(
    shared: &Weak<Shared>,
    channel: u64,
    end: u64,
    got: Result<Received, NativeError>,
) -> Result<(), String> {
    match got {
        Ok(Received::Message(message)) => hand_in(
            shared,
            Deferred::Sim(Box::new(move |sim: &mut Sim| {
                sim.post(channel, end, message)
            })),
        ),
        Ok(Received::Invalid(invalid)) => hand_in(
            shared,
            Deferred::Sim(Box::new(move |sim: &mut Sim| {
                sim.native_message_ignored(channel, invalid.to_string());
            })),
        ),
        Err(e) => return Err(e.to_string()),
    }
    Ok(())
}

/// Records that a host ended; `counted` if it was still one of the browser's real-time
/// sources.
fn host_ended(shared: &Weak<Shared>, name: String, exit: String, counted: bool) {
    if let Some(strong) = shared.upgrade() {
        strong.hand_in(Deferred::Sim(Box::new(move |sim: &mut Sim| {
            sim.record(None, None, TraceEvent::NativeHostEnded { host: name, exit });
        })));
        if counted {
            strong.realtime.fetch_sub(1, Ordering::AcqRel);
        }
        strong.wake_driver();
    }
}

/// A host whose stdin was closed at browser shutdown: the browser no longer waits for it or
/// kills it. If it exits by itself, that is recorded; if it ignores end of file, it runs until
/// the simulated browser is dropped (which kills it, so that tests leak no process).
async fn leave_running(mut host: HostProcess, shared: Weak<Shared>) {
    let name = host.name().to_owned();
    if let Some(strong) = shared.upgrade() {
        let message = format!(
            "native host {name} got end of file as the browser shut down; the browser does not wait for it or kill it"
        );
        strong.hand_in(Deferred::Sim(Box::new(move |sim: &mut Sim| {
            sim.record(None, None, TraceEvent::Warning { message });
        })));
        strong.realtime.fetch_sub(1, Ordering::AcqRel);
        strong.wake_driver();
    }
    while !host.has_exited() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let exit = match host.close().await {
        Ok(exit) => format!("{exit}, by itself after the browser shut down"),
        Err(e) => format!("could not be reaped: {e}"),
    };
    host_ended(&shared, name, exit, false);
}

/// `runtime.sendNativeMessage(application, message)`: a new host per call; its first message
/// is the answer; then it is ended as the browser does.
pub(crate) fn send_native_message<T: Serialize + ?Sized>(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    application: &str,
    message: &T,
) -> impl Future<Output = Result<Value, SendNativeMessageError>> + Send + 'static {
    let started = start_native_call(shared, opener, application, message);
    async move {
        started?
            .await
            .unwrap_or(Err(SendNativeMessageError::ContextInvalidated))
    }
}

type NativeAnswer = Result<Value, SendNativeMessageError>;

fn start_native_call<T: Serialize + ?Sized>(
    shared: &Weak<Shared>,
    opener: &Endpoint,
    application: &str,
    message: &T,
) -> Result<oneshot::Receiver<NativeAnswer>, SendNativeMessageError> {
    let strong = shared
        .upgrade()
        .ok_or(SendNativeMessageError::ContextInvalidated)?;
    let message = to_message(message)?;
    let ext = {
        let mut sim = strong.sim();
        check_permission(&sim, opener)?;
        let context = opener.trace_context(&sim);
        let ext = opener
            .extension()
            .cloned()
            .ok_or(SendNativeMessageError::ContextInvalidated)?;
        sim.record(
            Some(&ext),
            Some(context),
            TraceEvent::ApiCall {
                api: "runtime.sendNativeMessage".to_owned(),
            },
        );
        (ext, in_firefox_on_suspend(&sim, opener))
    };
    let (ext, stdin_closed_first) = ext;
    let (tx, rx) = oneshot::channel();
    let life = match opener {
        Endpoint::Background { life, .. } => Some(*life),
        _ => None,
    };
    let keepalive = strong.sim().acquire(
        &ext,
        KeepaliveReason::ApiCall("runtime.sendNativeMessage".to_owned()),
        life,
    );
    let launcher = strong.launcher();
    let caller = strong.sim().native_caller_id(&ext);
    let runtime = strong.native_runtime();
    let application = application.to_owned();
    let weak = shared.clone();
    let opener = opener.clone();
    strong.realtime.fetch_add(1, Ordering::AcqRel);
    runtime.spawn(async move {
        // The host, once it has answered (or failed to), is ended as the browser ends it; the
        // browser goes on waiting for it as for a port's host, so that its end is traced.
        let (answer, closing) = if stdin_closed_first {
            // Firefox, from onSuspend: the host starts, but its stdin is closed before the
            // message is written.
            match launcher.connect_native(&application, &caller) {
                Ok(host) => (
                    Err(SendNativeMessageError::Native(
                        NativeError::HostExited { source: None }.to_string(),
                    )),
                    Some(host.close_in_background()),
                ),
                Err(e) => (Err(SendNativeMessageError::Native(e.to_string())), None),
            }
        } else {
            match launcher
                .send_native_message(&application, &caller, &message)
                .await
            {
                Ok(reply) => (Ok(reply.message), Some(reply.closing)),
                Err(e) => (Err(SendNativeMessageError::Native(e.to_string())), None),
            }
        };
        if let Some(strong) = weak.upgrade() {
            strong.hand_in(Deferred::Sim(Box::new(move |sim: &mut Sim| {
                let context = opener.trace_context(sim);
                let (ok, result) = match &answer {
                    Ok(v) => (true, v.clone()),
                    Err(e) => (false, Value::String(e.to_string())),
                };
                sim.record(
                    Some(&ext),
                    Some(context),
                    TraceEvent::ApiResult {
                        api: "runtime.sendNativeMessage".to_owned(),
                        ok,
                        result,
                    },
                );
                sim.release(&ext, keepalive);
                let _ = tx.send(answer);
            })));
            strong.wake_driver();
        }
        match closing {
            Some(closing) => {
                let exit = match closing.await {
                    Ok(exit) => exit.to_string(),
                    Err(e) => format!("could not be reaped: {e}"),
                };
                host_ended(&weak, application, exit, true);
            }
            // No host to wait for: it could not start, or it failed before it answered (and
            // is ended on its own).
            None => {
                if let Some(strong) = weak.upgrade() {
                    strong.realtime.fetch_sub(1, Ordering::AcqRel);
                    strong.wake_driver();
                }
            }
        }
    });
    Ok(rx)
}

/// Whether the call comes from a Firefox page that is suspending (its `onSuspend` is running):
/// Firefox then starts the host but closes its stdin before sending anything (§7).
fn in_firefox_on_suspend(sim: &Sim, opener: &Endpoint) -> bool {
    let Endpoint::Background { ext, life } = opener else {
        return false;
    };
    sim.extensions.get(ext).is_some_and(|r| {
        r.loaded_life() == Some(*life)
            && r.lifecycle.as_ref().is_some_and(|l| {
                l.model() == BackgroundModel::FirefoxEventPage && l.state() == PageState::Closing
            })
    })
}
