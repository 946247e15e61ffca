//! How many JavaScript contexts are alive on this thread, by kind: what a test counts to see
//! that a context went with its page, view or frame.

use std::cell::Cell;

use crate::page::Scope;

/// The JavaScript contexts alive on this thread (a browser and its extensions live on the
/// thread that drives it), by kind. See [`live_contexts`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LiveContexts {
    /// Loads of background pages and service workers.
    pub background: usize,
    /// Extension views: popups, options pages, tabs on extension pages.
    pub views: usize,
    /// Content scripts in tabs' frames.
    pub content_scripts: usize,
}

impl LiveContexts {
    /// All of them.
    pub fn total(&self) -> usize {
        self.background + self.views + self.content_scripts
    }
}

thread_local! {
    static LIVE: Cell<LiveContexts> = const { Cell::new(LiveContexts {
        background: 0,
        views: 0,
        content_scripts: 0,
    }) };
}

/// The JavaScript contexts of `runtime-js` alive now on this thread. A context lives while the
/// browser holds something of it (its listeners, timers, ports, calls in flight) and goes with
/// its page load, view or frame; a dropped [`Browser`](runtime_core::Browser) drops them all.
pub fn live_contexts() -> LiveContexts {
    LIVE.with(Cell::get)
}

fn change(scope: &Scope, up: bool) {
    LIVE.with(|live| {
        let mut now = live.get();
        let count = match scope {
            Scope::Page | Scope::Worker { .. } => &mut now.background,
            Scope::View => &mut now.views,
            Scope::ContentScript => &mut now.content_scripts,
        };
        *count = if up {
            count.saturating_add(1)
        } else {
            count.saturating_sub(1)
        };
        live.set(now);
    });
}

/// A context of this kind was made.
pub(crate) fn opened(scope: &Scope) {
    change(scope, true);
}

/// A context of this kind went.
pub(crate) fn closed(scope: &Scope) {
    change(scope, false);
}
