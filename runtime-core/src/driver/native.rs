//! Native messaging inside the simulation: host processes, which run in real time, joined to
//! message channels, which live on the virtual clock.
//!
//! A host's process runs on a Tokio runtime the browser starts on first use. One task per
//! `connectNative` port pumps messages both ways and hands what it reads in through the
//! inbox; the driver, while such a real-time source is open, waits for the inbox before it
//! moves the virtual clock (see the crate docs).

use std::collections::VecDeque;
use std::future::Future;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use futures::channel::oneshot;
use runtime_native::{HostProcess, Launcher, NativeError, Received, StderrSink};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::driver::awaited::Awaiting;
use crate::driver::core::Driver;
use crate::driver::inbox::{Inbox, Incoming};
use crate::driver::listeners::ContextEvents;
use crate::driver::port::Port;
use crate::model::calls::CallOutcome;
use crate::model::contexts::ContextId;
use crate::model::error::{ConnectNativeError, ContextInvalidated, SendNativeMessageError};
use crate::model::ids::{CallId, ChannelId, EndId};
use crate::model::message::to_message;
use crate::model::work::{HostEvent, HostSource, InboxItem};

/// The error of a host that cannot start because the system refused the hosts' runtime a
/// thread: the browser's own "failed to start".
fn no_runtime(application: &str) -> String {
    NativeError::FailedToStart {
        name: application.to_owned(),
        path: std::path::PathBuf::new(),
        source: std::io::Error::other("no thread for the native hosts' runtime"),
    }
    .to_string()
}

/// What a host's task reports, handed in through the inbox.
fn report(inbox: &Arc<Inbox>, event: HostEvent) {
    inbox.hand_in(Incoming::Item(InboxItem::Host(event)));
}

impl Driver {
    /// The Tokio runtime host processes run on, started on first use (`None` if the system
    /// refuses it a thread).
    fn native_runtime(&self) -> Option<tokio::runtime::Handle> {
        let mut slot = self.native.borrow_mut();
        if let Some(runtime) = slot.as_ref() {
            return Some(runtime.handle().clone());
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("runtime-sim-native")
            .enable_all()
            .build()
            .ok()?;
        let handle = runtime.handle().clone();
        *slot = Some(runtime);
        Some(handle)
    }

    /// How the browser ends its hosts: the launcher's shutdown policy.
    pub(crate) fn launcher_policy(&self) -> runtime_native::ShutdownPolicy {
        match &self.settings.launcher {
            Some(launcher) => launcher.policy().clone(),
            None => self
                .read(|model| model.config.profile.native_browser())
                .shutdown_policy(),
        }
    }

    /// The launcher, with hosts' stderr going into the trace.
    fn launcher(&self) -> Launcher {
        let inbox = Arc::clone(&self.inbox);
        let launcher = self.settings.launcher.clone().unwrap_or_else(|| {
            Launcher::new(self.read(|model| model.config.profile.native_browser()))
        });
        launcher.with_stderr(StderrSink::callback(move |line| {
            report(
                &inbox,
                HostEvent::Stderr {
                    host: line.host,
                    line: line.line,
                },
            );
        }))
    }
}

/// `runtime.connectNative(application)`: the port is returned at once. The host is started
/// now; if it cannot be, the port's `onDisconnect` fires with the browser's error.
pub(crate) fn connect_native(
    driver: &Weak<Driver>,
    opener: &ContextId,
    events: &Rc<ContextEvents>,
    application: &str,
) -> Result<Port, ConnectNativeError> {
    let strong = driver
        .upgrade()
        .ok_or(ConnectNativeError::ContextInvalidated(ContextInvalidated))?;
    let checked = strong.read(|model| model.check_native_permission(opener));
    checked.map_err(|e| match e {
        SendNativeMessageError::PermissionRequired => ConnectNativeError::PermissionRequired,
        _ => ConnectNativeError::ContextInvalidated(ContextInvalidated),
    })?;
    let ext = opener
        .extension()
        .cloned()
        .ok_or(ConnectNativeError::ContextInvalidated(ContextInvalidated))?;
    let launcher = strong.launcher();
    let caller = strong.read(|model| model.native_caller_id(&ext));
    let runtime = strong.native_runtime();
    let started: Result<(HostProcess, tokio::runtime::Handle), String> = match runtime {
        Some(runtime) => {
            let _entered = runtime.enter();
            launcher
                .connect_native(application, &caller)
                .map(|host| (host, runtime.clone()))
                .map_err(|e| e.to_string())
        }
        None => Err(no_runtime(application)),
    };
    let (channel, opener_end, host_end) = strong.with_model(|model| {
        model.open_native_channel(&ext, opener.clone(), application, started.is_ok())
    });
    let port = Port::new(
        Weak::clone(driver),
        channel,
        opener_end,
        String::new(),
        None,
        opener.clone(),
        Rc::clone(events),
    );
    strong.add_port(port.clone());
    match started {
        Ok((host, runtime)) => {
            let (outgoing, incoming) = mpsc::unbounded_channel();
            strong.add_host(channel, application, outgoing);
            strong.inbox.realtime_opened();
            // What the host does by itself at start reaches the page when a browser sees it.
            strong.await_host(HostSource::Port(channel), application, Awaiting::Start);
            runtime.spawn(pump(
                host,
                incoming,
                Arc::clone(&strong.inbox),
                channel,
                host_end,
            ));
        }
        Err(error) => strong.with_model(|model| model.native_closed(channel, error)),
    }
    Ok(port)
}

/// Moves messages between a host and its channel until either side ends, then ends the host
/// as the browser does (stdin closed, then the browser's grace and signals).
async fn pump(
    mut host: HostProcess,
    mut outgoing: mpsc::UnboundedReceiver<Value>,
    inbox: Arc<Inbox>,
    channel: ChannelId,
    end: EndId,
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
                        if let Err(e) = hand_in_received(&inbox, channel, end, got) {
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
                if let Err(e) = hand_in_received(&inbox, channel, end, got) {
                    break Some(e);
                }
            }
        }
    };
    let failed = error.is_some();
    if let Some(error) = error {
        report(&inbox, HostEvent::Closed { channel, error });
    }
    let name = host.name().to_owned();
    // The port went because the browser shut down: Chrome only closes the host's stdin
    // then, and a host that ignores end of file is left running (§7).
    let source = HostSource::Port(channel);
    if !failed && inbox.shutting_down() {
        host.close_stdin();
        leave_running(host, inbox, source).await;
        return;
    }
    let exit = host.close().await;
    host_ended(&inbox, name, exit, source, true, "");
}

/// Hands what the host wrote to the channel's far end: a message is posted to it, an invalid
/// one is noted and dropped. The host's end of output (or a failure) is the error that ends
/// the port.
fn hand_in_received(
    inbox: &Arc<Inbox>,
    channel: ChannelId,
    end: EndId,
    got: Result<Received, NativeError>,
) -> Result<(), String> {
    match got {
        Ok(Received::Message(message)) => report(
            inbox,
            HostEvent::Message {
                channel,
                end,
                message,
            },
        ),
        Ok(Received::Invalid(invalid)) => report(
            inbox,
            HostEvent::Invalid {
                channel,
                reason: invalid.to_string(),
            },
        ),
        Err(e) => return Err(e.to_string()),
    }
    Ok(())
}

/// Reports that a host ended (how, with `after` appended to its exit's words); `counted` if it
/// was still one of the browser's real-time sources.
fn host_ended(
    inbox: &Arc<Inbox>,
    host: String,
    exit: std::io::Result<runtime_native::HostExit>,
    source: HostSource,
    counted: bool,
    after: &str,
) {
    let (exit, left_running) = match exit {
        Ok(exit) => (format!("{exit}{after}"), exit.left_running),
        Err(e) => (format!("could not be reaped: {e}"), Vec::new()),
    };
    report(
        inbox,
        HostEvent::Ended {
            host,
            exit,
            source,
            left_running,
        },
    );
    if counted {
        inbox.realtime_closed();
    }
}

/// A host whose stdin was closed at browser shutdown: the browser no longer waits for it or
/// kills it. If it exits by itself, that is recorded; if it ignores end of file, it runs until
/// the simulated browser is dropped (which kills it, so that tests leak no process).
async fn leave_running(mut host: HostProcess, inbox: Arc<Inbox>, source: HostSource) {
    let name = host.name().to_owned();
    report(
        &inbox,
        HostEvent::LeftRunning {
            host: name.clone(),
            source,
        },
    );
    inbox.realtime_closed();
    while !host.has_exited() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let exit = host.close().await;
    host_ended(
        &inbox,
        name,
        exit,
        source,
        false,
        ", by itself after the browser shut down",
    );
}

/// `runtime.sendNativeMessage(application, message)`: a new host per call; its first message
/// is the answer; then it is ended as the browser does.
pub(crate) fn send_native_message<T: Serialize + ?Sized>(
    driver: &Weak<Driver>,
    opener: &ContextId,
    application: &str,
    message: &T,
) -> impl Future<Output = Result<Value, SendNativeMessageError>> + 'static {
    let started = start_native_call(driver, opener, application, message);
    async move {
        let outcome = started?
            .await
            .map_err(|_| SendNativeMessageError::ContextInvalidated(ContextInvalidated))?;
        match outcome {
            CallOutcome::NativeMessage(answer) => answer,
            _ => Err(SendNativeMessageError::ContextInvalidated(
                ContextInvalidated,
            )),
        }
    }
}

fn start_native_call<T: Serialize + ?Sized>(
    driver: &Weak<Driver>,
    opener: &ContextId,
    application: &str,
    message: &T,
) -> Result<oneshot::Receiver<CallOutcome>, SendNativeMessageError> {
    let strong = driver
        .upgrade()
        .ok_or(SendNativeMessageError::ContextInvalidated(
            ContextInvalidated,
        ))?;
    let message = to_message(message)?;
    let (call, stdin_closed_first) = strong.with_model(|model| model.start_native_call(opener))?;
    // The host has a request to answer from its start on.
    strong.await_host(HostSource::Call(call), application, Awaiting::Answer);
    let (tx, rx) = oneshot::channel();
    strong.wait_for_call(
        call,
        Box::new(move |outcome| {
            let _ = tx.send(outcome);
        }),
    );
    let ext = opener
        .extension()
        .cloned()
        .ok_or(SendNativeMessageError::ContextInvalidated(
            ContextInvalidated,
        ))?;
    let launcher = strong.launcher();
    let caller = strong.read(|model| model.native_caller_id(&ext));
    let Some(runtime) = strong.native_runtime() else {
        let answer = Err(SendNativeMessageError::Native(no_runtime(application)));
        strong.hand_in(InboxItem::Host(HostEvent::Answered { call, answer }));
        return Ok(rx);
    };
    let application = application.to_owned();
    let inbox = Arc::clone(&strong.inbox);
    inbox.realtime_opened();
    runtime.spawn(run_native_call(
        launcher,
        application,
        caller,
        message,
        stdin_closed_first,
        call,
        inbox,
    ));
    Ok(rx)
}

/// The host of one `sendNativeMessage` call, in real time: started, sent the message, its
/// first answer handed in; then ended as the browser ends it, and waited for, so that its end
/// is traced.
async fn run_native_call(
    launcher: Launcher,
    application: String,
    caller: String,
    message: Value,
    stdin_closed_first: bool,
    call: CallId,
    inbox: Arc<Inbox>,
) {
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
    report(&inbox, HostEvent::Answered { call, answer });
    let source = HostSource::Call(call);
    match closing {
        Some(closing) => {
            let exit = closing.await;
            host_ended(&inbox, application, exit, source, true, "");
        }
        // No host to wait for: it could not start, or it failed before it answered (and is
        // ended on its own).
        None => {
            report(&inbox, HostEvent::Released { source });
            inbox.realtime_closed();
        }
    }
}
