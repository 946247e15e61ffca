//! Typed ids: each kind of thing the browser numbers has its own type and its own counter, so
//! that a tab id cannot be passed where a view id is meant, and the numbers the trace shows
//! count things of one kind (channel #1, #2, …).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $vis:vis $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        $vis struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id!(
    /// A tab of the simulated browser.
    pub TabId
);
id!(
    /// A frame of a tab; [`FrameId::TOP`] is the tab's top frame.
    pub FrameId
);
id!(
    /// An open extension view (a popup, an options page, a tab showing an extension page).
    pub ViewId
);
id!(
    /// A message channel: a one-time message or a port, as the trace numbers them.
    pub ChannelId
);
id!(
    /// One end of a message channel.
    pub(crate) EndId
);
id!(
    /// One document (one page load) shown in a frame: the contexts of an earlier one are gone.
    pub(crate) DocumentId
);
id!(
    /// One load of an extension's background page (1 for the first): what lives in that load
    /// goes with it.
    pub(crate) PageLoad
);
id!(
    /// A keepalive held on a background page.
    pub(crate) KeepaliveId
);
id!(
    /// An API call in flight.
    pub(crate) CallId
);
id!(
    /// A timer a script set on the virtual clock.
    pub(crate) TimerId
);
id!(
    /// A native application connected to an extension (`onConnectNative`).
    pub(crate) NativeAppId
);
id!(
    /// A scheduled browser timer that can be cancelled (the kiosk's restart timers).
    pub(crate) TimerToken
);
id!(
    /// A background script given at install, kept by the driver.
    pub(crate) ScriptId
);

impl FrameId {
    /// The top frame of a tab (`frameId` 0).
    pub const TOP: FrameId = FrameId(0);
}

/// Hands out the ids of one kind, from 1 on.
#[derive(Clone, Debug, Default)]
pub(crate) struct Counter(u64);

impl Counter {
    /// The next number.
    pub(crate) fn next(&mut self) -> u64 {
        self.0 += 1;
        self.0
    }
}

/// The browser's counters, one per kind of id.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ids {
    pub(crate) tabs: Counter,
    pub(crate) views: Counter,
    pub(crate) channels: Counter,
    pub(crate) ends: Counter,
    pub(crate) documents: Counter,
    pub(crate) keepalives: Counter,
    pub(crate) calls: Counter,
    pub(crate) timers: Counter,
    pub(crate) native_apps: Counter,
    pub(crate) tokens: Counter,
    pub(crate) alarms: Counter,
}

impl Ids {
    pub(crate) fn tab(&mut self) -> TabId {
        TabId(self.tabs.next())
    }
    pub(crate) fn view(&mut self) -> ViewId {
        ViewId(self.views.next())
    }
    pub(crate) fn channel(&mut self) -> ChannelId {
        ChannelId(self.channels.next())
    }
    pub(crate) fn end(&mut self) -> EndId {
        EndId(self.ends.next())
    }
    pub(crate) fn document(&mut self) -> DocumentId {
        DocumentId(self.documents.next())
    }
    pub(crate) fn keepalive(&mut self) -> KeepaliveId {
        KeepaliveId(self.keepalives.next())
    }
    pub(crate) fn call(&mut self) -> CallId {
        CallId(self.calls.next())
    }
    pub(crate) fn timer(&mut self) -> TimerId {
        TimerId(self.timers.next())
    }
    pub(crate) fn native_app(&mut self) -> NativeAppId {
        NativeAppId(self.native_apps.next())
    }
    pub(crate) fn token(&mut self) -> TimerToken {
        TimerToken(self.tokens.next())
    }
    /// The generation of a newly created alarm (see `alarms.rs`).
    pub(crate) fn next_alarm_generation(&mut self) -> u64 {
        self.alarms.next()
    }
}
