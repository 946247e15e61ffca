//! The model: the simulated browser's state and rules, with no I/O, no lock, no thread, and
//! no extension code run. It takes typed commands (its methods) and bus items ([`Work`]),
//! and leaves typed [`Action`]s for the driver to run and [`Signal`]s for it to tell.
//!
//! Its modules import each other without cycles; from the bottom up:
//! - names and ids: `names.rs`, `ids.rs`, `extension_id.rs`, `version.rs`, `platform.rs`,
//!   `rng.rs`;
//! - the manifest: `manifest_text.rs`, `match_pattern.rs`, `manifest.rs`;
//! - a browser's rules as data: `profile.rs` (which browser, its timers, what each keepalive
//!   does), `keepalive.rs`, `message.rs`, `error.rs` (every string a script can see),
//!   `event.rs`, `package.rs`, `contexts.rs`, `channel.rs`, `alarm.rs`, `tab.rs`,
//!   `storage_area.rs`, `calls.rs`, `update_service.rs`, `reload_guard.rs`, `kiosk.rs`,
//!   `lazy_listeners.rs`;
//! - the two state machines: `page_lifecycle.rs` (a background page's life, and where work
//!   for it goes) and `extension_lifecycle.rs` (installed, update waiting, terminated);
//! - the trace: `trace_entry.rs` (what an entry says), `trace_pack.rs` (how the trace keeps
//!   one, packed), `trace.rs`; then `config.rs`, `work.rs` (everything pending, as data);
//! - `world.rs`: the [`Model`] itself;
//! - the rules, each adding the model's methods for one part of the browser: `keepalives.rs`,
//!   `pages.rs`, `sender.rs`, `tabs.rs`, `tabs_api.rs`, `messaging.rs`, `api_calls.rs`,
//!   `updates.rs`, `reloads.rs`, `restarts.rs`, `startup.rs`, `alarms.rs`, `storage.rs`; and
//!   here,
//!   [`Model::handle`], which runs a bus item, and [`Model::take_in`], which takes what came
//!   from outside.

pub(crate) mod alarm;
pub(crate) mod alarms;
pub(crate) mod api_calls;
pub(crate) mod calls;
pub(crate) mod channel;
pub(crate) mod config;
pub(crate) mod contexts;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod extension_id;
pub(crate) mod extension_lifecycle;
pub(crate) mod ids;
pub(crate) mod keepalive;
pub(crate) mod keepalives;
pub(crate) mod kiosk;
pub(crate) mod lazy_listeners;
pub(crate) mod manifest;
pub(crate) mod manifest_text;
pub(crate) mod match_pattern;
pub(crate) mod message;
pub(crate) mod messaging;
pub(crate) mod names;
pub(crate) mod package;
pub(crate) mod page_lifecycle;
pub(crate) mod pages;
pub(crate) mod platform;
pub(crate) mod profile;
pub(crate) mod reload_guard;
pub(crate) mod reloads;
pub(crate) mod resource_url;
pub(crate) mod restarts;
pub(crate) mod rng;
pub(crate) mod sender;
pub(crate) mod startup;
pub(crate) mod storage;
pub(crate) mod storage_area;
pub(crate) mod tab;
pub(crate) mod tabs;
pub(crate) mod tabs_api;
pub(crate) mod trace;
pub(crate) mod trace_entry;
pub(crate) mod trace_pack;
pub(crate) mod update_service;
pub(crate) mod updates;
pub(crate) mod version;
pub(crate) mod work;
pub(crate) mod world;

pub(crate) use world::Model;

use crate::model::calls::CallOutcome;
use crate::model::page_lifecycle::Input;
use crate::model::trace_entry::TraceEvent;
use crate::model::work::{HostEvent, InboxItem, Signal, Work};

impl Model {
    /// Runs one item of the bus.
    pub(crate) fn handle(&mut self, work: Work) {
        if work.is_ambient() {
            self.ambient -= 1;
        }
        match work {
            Work::LoadPage { ext } => self.load_page(&ext),
            Work::IdleTimer { ext, sequence } => {
                self.drive(&ext, Input::IdleTimerFired { sequence })
            }
            Work::ShouldSuspend { ext, sequence } => {
                self.drive(&ext, Input::ShouldSuspend { sequence })
            }
            Work::CloseTimer { ext, sequence } => {
                self.drive(&ext, Input::CloseTimerFired { sequence })
            }
            Work::Deliver { ext, event } => self.deliver(&ext, event),
            Work::CompleteCall(call) => self.complete_call(call),
            Work::RequestTimeout { ext, keepalive } => self.request_timed_out(&ext, keepalive),
            Work::InstallWhenIdle { ext } => self.finish_delayed_install(&ext),
            Work::ChannelRefused(channel) => self.channel_opened(channel, false),
            Work::Publish { ext, update } => self.publish(&ext, *update),
            Work::AnswerUpdateCheck { call, result } => {
                self.finish_call(call, CallOutcome::UpdateCheck(Ok(result)))
            }
            Work::UpdateCheck { ext, trigger, run } => self.update_check_done(&ext, trigger, run),
            Work::Reload { ext, terminate } => self.reload_step(&ext, terminate),
            Work::RestartDevice { ext } => {
                self.restart_device(&format!("runtime.restart() called by {ext}"))
            }
            Work::ScheduledRestart { token } => self.scheduled_restart(token),
            Work::ForcedRestart { token, reason } => self.forced_restart(token, reason),
            Work::Timer(timer) => self.signal(Signal::TimerFired(timer)),
            Work::Alarm {
                ext,
                name,
                generation,
            } => self.alarm_due(&ext, &name, generation),
            Work::PeriodicUpdateCheck { run } => self.periodic_update_check(run),
            Work::UptimeLimit { run } => self.uptime_limit(run),
        }
    }

    /// Takes in what came from outside the browser's steps, in its turn.
    pub(crate) fn take_in(&mut self, item: InboxItem) {
        match item {
            InboxItem::Release { ext, keepalive } => self.release(&ext, keepalive),
            InboxItem::ResponderDropped { channel, end } => self.receiver_abandoned(channel, end),
            InboxItem::SuspendAcked { ext, load } => self.suspend_acked(&ext, load),
            InboxItem::Host(event) => self.host_event(event),
        }
    }

    /// What a native host's task reported.
    fn host_event(&mut self, event: HostEvent) {
        match event {
            HostEvent::Message {
                channel,
                end,
                message,
            } => self.post(channel, end, message),
            HostEvent::Invalid { channel, reason } => self.native_message_ignored(channel, reason),
            HostEvent::Closed { channel, error } => self.native_closed(channel, error),
            HostEvent::Stderr { host, line } => {
                self.record(None, None, TraceEvent::NativeStderr { host, line })
            }
            HostEvent::Ended {
                host,
                exit,
                left_running,
                ..
            } => {
                let left = (!left_running.is_empty()).then(|| {
                    let pids: Vec<String> = left_running.iter().map(u32::to_string).collect();
                    format!(
                        "native host {host} left {} process{} running in its process group when it ended (pid {}): a real browser leaves them running, adopted by init; the simulator ended them",
                        pids.len(),
                        if pids.len() == 1 { "" } else { "es" },
                        pids.join(", ")
                    )
                });
                self.record(None, None, TraceEvent::NativeHostEnded { host, exit });
                if let Some(message) = left {
                    self.record(None, None, TraceEvent::Warning { message });
                }
            }
            HostEvent::Released { .. } => {}
            HostEvent::LeftRunning { host, .. } => {
                let message = format!(
                    "native host {host} got end of file as the browser shut down; the browser does not wait for it or kill it"
                );
                self.record(None, None, TraceEvent::Warning { message });
            }
            HostEvent::Answered { call, answer } => {
                self.finish_call(call, CallOutcome::NativeMessage(answer))
            }
        }
    }
}
