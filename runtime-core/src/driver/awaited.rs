//! The native hosts the browser waits for, as data: what for, since when, and for how long
//! (the rule that uses them is `real_time.rs`).

use std::time::{Duration, Instant};

use runtime_events::SimInstant;

/// How long, in real time, the browser waits for a host that has just started and was sent
/// nothing: what such a host does by itself at start (a greeting, an early exit) then reaches
/// the page at about the virtual time a browser would see it. A host that waits for input
/// costs no more than this.
pub(crate) const START_WINDOW: Duration = Duration::from_millis(250);

/// What the browser waits for a host to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Awaiting {
    /// Whatever it does first, just after it started ([`START_WINDOW`]).
    Start,
    /// An answer to what it was sent.
    Answer,
    /// Its end, after its stdin was closed or it closed its end.
    End,
}

/// A native host the browser waits for.
#[derive(Clone, Debug)]
pub(crate) struct Awaited {
    /// The host's name.
    pub(crate) host: String,
    /// When the browser began to wait for it, on the virtual clock and in real time.
    pub(crate) since: SimInstant,
    pub(crate) real: Instant,
    /// What for.
    pub(crate) awaiting: Awaiting,
    /// Waiting for answers: how many messages the host was sent on a port and has not
    /// answered yet (one answer for each is assumed; a host that answers less is given up on
    /// at the limit).
    pub(crate) unanswered: u32,
    /// How long, in real time, the browser waits for it: the start window, the answer limit,
    /// or for a host that is ending at least its shutdown grace and a second more (the
    /// host's end is certain by then: the last step of the grace is SIGKILL).
    pub(crate) limit: Duration,
}
