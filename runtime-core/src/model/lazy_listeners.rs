//! The events an extension's background page listened to when it last ran (its lazy
//! listeners), stored so that a page's life allocates nothing that outlives the page.
//!
//! Thousands of pages may be loaded at once; whatever one of them allocates and keeps after it
//! unloads sits between the page's freed objects and keeps the allocator from reusing or
//! returning that memory. So `chrome.runtime`'s own events are bits, other events' names are
//! interned once per browser ([`EventNames`]) and shared, and the few an extension listens to
//! go in a list whose room is made when the extension is installed.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::model::names::EventName;

/// How many other events' names an extension has room for from its install on (more are
/// stored too, in room made when needed).
const NAMED_ROOM: usize = 2;

/// The names of events other than `chrome.runtime`'s (`alarms.onAlarm`, …) that pages listened
/// to, one shared copy of each for the whole browser.
#[derive(Default, Debug)]
pub(crate) struct EventNames(BTreeSet<Arc<str>>);

impl EventNames {
    /// The shared copy of `name`, made on its first use.
    pub(crate) fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.0.get(name) {
            return Arc::clone(known);
        }
        let name: Arc<str> = Arc::from(name);
        self.0.insert(Arc::clone(&name));
        name
    }
}

/// The set of events one extension's page listened to.
#[derive(Clone, Debug)]
pub(crate) struct LazyListeners {
    /// `chrome.runtime`'s events, by [`RuntimeEventName::bit`](crate::model::names::RuntimeEventName::bit).
    runtime: u16,
    /// Other events, by their interned names, in the order they were first listened to.
    named: Vec<Arc<str>>,
}

impl LazyListeners {
    /// An empty set with room for the few events a page usually listens to, made now (at
    /// install) rather than while a page is loaded.
    pub(crate) fn with_room() -> Self {
        LazyListeners {
            runtime: 0,
            named: Vec::with_capacity(NAMED_ROOM),
        }
    }

    /// Whether the page listened to `event`.
    pub(crate) fn contains(&self, event: &EventName) -> bool {
        match event {
            EventName::Runtime(event) => self.runtime & event.bit() != 0,
            other => self.named.iter().any(|name| **name == *other.as_str()),
        }
    }

    /// Adds `event`, interning its name in `names` if it is not one of `chrome.runtime`'s.
    pub(crate) fn insert(&mut self, event: &EventName, names: &mut EventNames) {
        match event {
            EventName::Runtime(event) => self.runtime |= event.bit(),
            other if self.contains(other) => {}
            other => self.named.push(names.intern(other.as_str())),
        }
    }

    /// Removes `event`.
    pub(crate) fn remove(&mut self, event: &EventName) {
        match event {
            EventName::Runtime(event) => self.runtime &= !event.bit(),
            other => self.named.retain(|name| **name != *other.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::names::RuntimeEventName;

    #[test]
    fn runtime_events_are_bits_and_others_shared_names() {
        let on_suspend = EventName::Runtime(RuntimeEventName::OnSuspend);
        let on_installed = EventName::Runtime(RuntimeEventName::OnInstalled);
        let alarm = EventName::from("alarms.onAlarm");
        let mut names = EventNames::default();
        let mut a = LazyListeners::with_room();
        let mut b = LazyListeners::with_room();
        a.insert(&on_suspend, &mut names);
        a.insert(&alarm, &mut names);
        a.insert(&alarm, &mut names);
        b.insert(&alarm, &mut names);
        assert!(a.contains(&on_suspend) && a.contains(&alarm));
        assert!(!a.contains(&on_installed) && !a.contains(&EventName::from("tabs.onUpdated")));
        assert_eq!(a.named.len(), 1);
        assert!(Arc::ptr_eq(&a.named[0], &b.named[0]));
        a.remove(&on_suspend);
        a.remove(&alarm);
        assert!(!a.contains(&on_suspend) && !a.contains(&alarm));
        assert!(b.contains(&alarm));
    }
}
