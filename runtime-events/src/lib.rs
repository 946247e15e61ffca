//! The event bus of `runtime-sim`: `chrome.events`-style events, and one deterministic bus that
//! orders everything a simulated browser does on a virtual clock.
//!
//! ```
//! use runtime_events::{Bus, Event, SimInstant};
//! use std::time::Duration;
//!
//! // An event, as a background script sees `chrome.runtime.onSuspend`.
//! let on_suspend: Event<()> = Event::new("runtime.onSuspend");
//! on_suspend.add_listener(|()| println!("saving state before the page unloads"));
//!
//! // The bus delivers work in virtual-time order, whatever order it was posted in.
//! let mut bus = Bus::new();
//! bus.post_after(Duration::from_secs(10), "dispatch onSuspend");
//! bus.post("deliver a message");
//! let first = bus.pop_due(SimInstant::ZERO + Duration::from_secs(60)).unwrap();
//! assert_eq!(first.item, "deliver a message");
//! let second = bus.pop_due(SimInstant::ZERO + Duration::from_secs(60)).unwrap();
//! assert_eq!(second.key.at, SimInstant::ZERO + Duration::from_secs(10));
//! let dispatch = on_suspend.dispatch(());
//! assert_eq!(dispatch.listeners, 1);
//! ```
//!
//! # What is here
//! - [`SimInstant`]: a point on the virtual clock.
//! - [`Bus`]: the ordered queue of one simulated browser and its clock. Items are delivered by
//!   virtual time, then by the sequence number they were posted with, so the same inputs always
//!   give the same order.
//! - [`Event`]: listeners added, removed and dispatched as with `chrome.events.Event`; a failing
//!   or panicking listener never stops the dispatch, and the failure is reported.
//!
//! This crate knows nothing of extensions or native messaging: `runtime-core` builds the
//! simulated browser on top of it.

mod bus;
mod event;
mod listener;
mod time;

pub use bus::{Bus, BusKey, Delivery};
pub use event::{Dispatch, Event, EventObserver};
pub use listener::{
    panic_message, FailureKind, IntoListenerOutcome, IntoListenerResult, ListenerError,
    ListenerFailure, ListenerFuture, ListenerId, ListenerOutcome,
};
pub use time::SimInstant;
