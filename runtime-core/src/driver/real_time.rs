//! Real time beside virtual time: the one rule by which the virtual clock waits for native
//! hosts, which are real processes.
//!
//! A host the browser waits for — one that has not answered what it was sent (a message on
//! its port, a `sendNativeMessage` request), or one that is ending — holds the clock: virtual
//! time may not run ahead of the real time that has passed since the browser began to wait
//! for it. So a host that takes 0.15 s or 1 s to start answers at about that virtual time,
//! whether the browser is driven by `advance()`, `run_until` or `block_on`, and its reply is
//! never lost to a page that, on the virtual clock alone, would have idled and closed meanwhile.
//! A host that has just started is waited for a moment too ([`START_WINDOW`], 250 ms of real
//! time), so that what it does by itself at start — a greeting, an early exit — reaches the
//! page when a browser would see it. Hosts with nothing outstanding hold nothing: they do not
//! slow the simulation.
//!
//! The browser stops waiting for a host after the answer limit
//! ([`BrowserBuilder::native_answer_limit`](crate::BrowserBuilder::native_answer_limit), 5 s
//! of real time by default); the trace says so, and the clock moves on.

use std::time::{Duration, Instant};

use runtime_events::SimInstant;

use crate::driver::awaited::{Awaited, Awaiting, START_WINDOW};
use crate::driver::core::Driver;
use crate::model::trace_entry::TraceEvent;
use crate::model::work::{HostEvent, HostSource, InboxItem};

impl Driver {
    /// Begins to wait for a host to do what `awaiting` says. Waiting for an answer keeps the
    /// time an earlier wait for an answer began, and counts one more message to answer;
    /// waiting for the end replaces any other wait.
    pub(crate) fn await_host(&self, source: HostSource, host: &str, awaiting: Awaiting) {
        if self.settings.answer_limit.is_zero() {
            // A browser told not to wait for hosts: their news joins at the next step.
            return;
        }
        let since = self.read(|model| model.now());
        let limit = match awaiting {
            Awaiting::Start => START_WINDOW.min(self.settings.answer_limit),
            Awaiting::Answer => self.settings.answer_limit,
            Awaiting::End => {
                let grace = self.launcher_policy().total_grace() + Duration::from_secs(1);
                grace.max(self.settings.answer_limit)
            }
        };
        let fresh = || Awaited {
            host: host.to_owned(),
            since,
            real: Instant::now(),
            awaiting,
            unanswered: u32::from(awaiting == Awaiting::Answer),
            limit,
        };
        let mut awaited = self.awaited.borrow_mut();
        match awaited.get(&source).map(|a| a.awaiting) {
            None => {
                awaited.insert(source, fresh());
            }
            // The start window turns into a wait for an answer, from when the host started.
            Some(Awaiting::Start) if awaiting == Awaiting::Answer => {
                if let Some(entry) = awaited.get_mut(&source) {
                    entry.awaiting = Awaiting::Answer;
                    entry.unanswered = 1;
                    entry.limit = limit;
                }
            }
            Some(Awaiting::Answer) if awaiting == Awaiting::Answer => {
                if let Some(entry) = awaited.get_mut(&source) {
                    entry.unanswered = entry.unanswered.saturating_add(1);
                }
            }
            Some(Awaiting::Start | Awaiting::Answer) if awaiting == Awaiting::End => {
                awaited.insert(source, fresh());
            }
            Some(_) => {}
        }
    }

    /// What a host's task handed in changes what the browser waits for.
    pub(crate) fn host_news(&self, item: &InboxItem) {
        let InboxItem::Host(event) = item else {
            return;
        };
        let mut awaited = self.awaited.borrow_mut();
        match event {
            HostEvent::Message { channel, .. } => {
                // An answer: the wait ends when every message sent has one; until then its
                // limit starts again from now, the host being alive.
                let source = HostSource::Port(*channel);
                let Some(entry) = awaited.get_mut(&source) else {
                    return;
                };
                match entry.awaiting {
                    Awaiting::End => {}
                    Awaiting::Answer if entry.unanswered > 1 => {
                        // The same bound on the clock, measured from now.
                        let real_now = Instant::now();
                        let waited = real_now.saturating_duration_since(entry.real);
                        entry.unanswered -= 1;
                        entry.since = entry.since.checked_add(waited).unwrap_or(SimInstant::MAX);
                        entry.real = real_now;
                    }
                    Awaiting::Start | Awaiting::Answer => {
                        awaited.remove(&source);
                    }
                }
            }
            HostEvent::Closed { channel, .. } => {
                // The host closed its end: it is ending by itself.
                if let Some(entry) = awaited.get_mut(&HostSource::Port(*channel)) {
                    entry.awaiting = Awaiting::End;
                }
            }
            HostEvent::Answered { call, .. } => {
                if let Some(entry) = awaited.get_mut(&HostSource::Call(*call)) {
                    entry.awaiting = Awaiting::End;
                }
            }
            HostEvent::Ended { source, .. }
            | HostEvent::LeftRunning { source, .. }
            | HostEvent::Released { source } => {
                awaited.remove(source);
            }
            HostEvent::Invalid { .. } | HostEvent::Stderr { .. } => {}
        }
    }

    /// Whether the browser waits for a host.
    pub(crate) fn awaits_hosts(&self) -> bool {
        !self.awaited.borrow().is_empty()
    }

    /// Holds the virtual clock before it moves to `to`, while a host the browser waits for
    /// would see virtual time run ahead of real time: waits, in real time, until the host
    /// hands something in (returns `true`: there is news to take in) or until the clock may
    /// move (returns `false`). A host not heard of within the answer limit is given up on.
    pub(crate) fn hold_clock(&self, to: SimInstant) -> bool {
        loop {
            let now = self.read(|model| model.now());
            if to <= now {
                return false;
            }
            let real_now = Instant::now();
            let Some(allowed) = self.allowed(real_now) else {
                return false;
            };
            let deadline = self
                .awaited
                .borrow()
                .values()
                .map(|a| a.real + a.limit)
                .min()
                .unwrap_or(real_now);
            if to <= allowed {
                return false;
            }
            if real_now >= deadline {
                self.give_up(real_now);
                continue;
            }
            let wait = (to - allowed).min(deadline - real_now);
            if self.inbox.wait_for_item(wait) {
                self.catch_up(to);
                return true;
            }
        }
    }

    /// How far the virtual clock may run now: the real time passed since the browser began
    /// to wait for each awaited host, after the virtual time it began then; `None` when no
    /// host is awaited.
    fn allowed(&self, real_now: Instant) -> Option<SimInstant> {
        self.awaited
            .borrow()
            .values()
            .map(|a| {
                a.since
                    .checked_add(real_now.saturating_duration_since(a.real))
                    .unwrap_or(SimInstant::MAX)
            })
            .min()
    }

    /// A host handed something in after the browser held the clock for it: the clock first
    /// moves on by the real time that has passed (never past `bound`, before which nothing
    /// is due), so that the news is taken in at about the virtual time it would reach a
    /// browser.
    fn catch_up(&self, bound: SimInstant) {
        let Some(allowed) = self.allowed(Instant::now()) else {
            return;
        };
        let to = allowed.min(bound);
        self.with_model(|model| {
            if to > model.now() {
                let _ = model.bus.advance_to(to);
            }
        });
    }

    /// When nothing else can move: waits, in real time, for a host the browser waits for (or
    /// any real-time source) to hand something in, until the answer limit. Returns whether
    /// something came; the clock then has moved on by the real time waited for an awaited
    /// host, up to `bound`.
    pub(crate) fn wait_for_hosts(&self, bound: SimInstant) -> bool {
        if !self.inbox.realtime_open() && !self.awaits_hosts() {
            return false;
        }
        let limit = self.settings.answer_limit;
        let started = Instant::now();
        loop {
            let real_now = Instant::now();
            let awaited_deadline = self
                .awaited
                .borrow()
                .values()
                .map(|a| a.real + a.limit)
                .min();
            let deadline = awaited_deadline.unwrap_or(started + limit);
            if real_now >= deadline {
                if awaited_deadline.is_none() {
                    return false;
                }
                self.give_up(real_now);
                continue;
            }
            if self.inbox.wait_for_real_time(deadline - real_now) {
                self.catch_up(bound);
                return true;
            }
            if !self.awaits_hosts() && !self.inbox.realtime_open() {
                return false;
            }
        }
    }

    /// Stops waiting for the hosts not heard of within their limit; the trace says so, unless
    /// the host owed nothing (its start window closed).
    fn give_up(&self, real_now: Instant) {
        let given_up: Vec<Awaited> = {
            let mut awaited = self.awaited.borrow_mut();
            let late: Vec<HostSource> = awaited
                .iter()
                .filter(|(_, a)| a.real + a.limit <= real_now)
                .map(|(source, _)| *source)
                .collect();
            late.iter().filter_map(|s| awaited.remove(s)).collect()
        };
        if given_up.is_empty() {
            return;
        }
        self.with_model(|model| {
            for awaited in given_up {
                let what = match awaited.awaiting {
                    // A host that was sent nothing owes nothing: the window just closes.
                    Awaiting::Start => continue,
                    Awaiting::Answer => "has not answered",
                    Awaiting::End => "has not ended",
                };
                let message = format!(
                    "native host {} {what} after {} of real time: the simulator stops holding the virtual clock for it and moves on (a real browser would go on waiting)",
                    awaited.host,
                    words(awaited.limit)
                );
                model.record(None, None, TraceEvent::Warning { message });
            }
        });
    }
}

/// `30 s`, `500 ms`.
fn words(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}
