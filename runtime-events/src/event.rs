//! `Event<A>`: a `chrome.events.Event`.

use std::cell::{Cell, Ref, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use crate::listener::{
    panic_message, FailureKind, IntoListenerOutcome, IntoListenerResult, ListenerFailure,
    ListenerFuture, ListenerId, ListenerOutcome,
};

type ListenerFn<A> = dyn Fn(A) -> ListenerOutcome;

struct Entry<A> {
    id: ListenerId,
    call: Rc<ListenerFn<A>>,
}

impl<A> Clone for Entry<A> {
    fn clone(&self) -> Self {
        Entry {
            id: self.id,
            call: Rc::clone(&self.call),
        }
    }
}

/// Hooks called when the listeners of an event change. Every hook defaults to doing nothing.
///
/// The simulated browser uses them to remember which events an event page listens to (its
/// lazy listeners), and to notice listeners registered too late.
pub trait EventObserver {
    /// A listener was added; `count` listeners are now registered.
    fn listener_added(&self, event: &str, count: usize) {
        let _ = (event, count);
    }
    /// A listener was removed; `count` listeners are still registered.
    fn listener_removed(&self, event: &str, count: usize) {
        let _ = (event, count);
    }
}

struct Inner<A> {
    name: Rc<str>,
    next_id: Cell<u64>,
    /// Copy-on-write: a dispatch takes a snapshot by cloning the `Rc`, so listeners added or
    /// removed while it runs affect only later dispatches.
    listeners: RefCell<Rc<Vec<Entry<A>>>>,
    observer: Option<Rc<dyn EventObserver>>,
}

/// An event that listeners can be added to, modelled on `chrome.events.Event`
/// (`runtime.onStartup`, `runtime.onMessage`, …).
///
/// `Event` is a cheap handle: clones share the same listeners. Listeners are plain functions
/// that return `()`, a `Result`, or a [`ListenerOutcome`]; [`Event::add_async_listener`] takes an
/// `async` function. An event lives on one thread, as a JavaScript event does: its listeners
/// and their futures need not be `Send` (they may hold an `Rc<RefCell<…>>`). A listener that
/// panics or fails stops neither the dispatch nor the other
/// listeners: the failure is caught, reported as a `tracing` error, and returned in the
/// [`Dispatch`].
///
/// ```
/// use runtime_events::Event;
/// use std::{cell::Cell, rc::Rc};
///
/// let on_startup: Event<()> = Event::new("runtime.onStartup");
/// let calls = Rc::new(Cell::new(0));
/// let seen = calls.clone();
/// let id = on_startup.add_listener(move |()| seen.set(seen.get() + 1));
/// on_startup.add_listener(|()| -> Result<(), String> { Err("boom".into()) });
///
/// assert!(on_startup.has_listener(id));
/// let dispatch = on_startup.dispatch(());
/// assert_eq!(dispatch.listeners, 2);
/// assert_eq!(dispatch.failures[0].message, "boom");
/// assert_eq!(calls.get(), 1);
///
/// on_startup.remove_listener(id);
/// assert!(!on_startup.has_listener(id));
/// ```
pub struct Event<A> {
    inner: Rc<Inner<A>>,
}

impl<A> Clone for Event<A> {
    fn clone(&self) -> Self {
        Event {
            inner: Rc::clone(&self.inner),
        }
    }
}

impl<A> std::fmt::Debug for Event<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.name())
            .field("listeners", &self.listener_count())
            .finish()
    }
}

/// What one dispatch did.
#[derive(Default)]
#[must_use = "a dispatch reports failures and may leave asynchronous listeners running"]
pub struct Dispatch {
    /// How many listeners were called.
    pub listeners: usize,
    /// The listeners that failed, in the order they were called.
    pub failures: Vec<ListenerFailure>,
    /// The listeners that returned `true`, in the order they were called.
    pub returned_true: Vec<ListenerId>,
    /// The asynchronous work listeners left running, in the order they were called. Each future
    /// carries the id of the listener that returned it.
    pub pending: Vec<(ListenerId, ListenerFuture)>,
}

impl std::fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatch")
            .field("listeners", &self.listeners)
            .field("failures", &self.failures)
            .field("returned_true", &self.returned_true)
            .field("pending", &self.pending.len())
            .finish()
    }
}

impl<A> Event<A> {
    /// A new event with no listeners. `name` is how traces and errors refer to it.
    pub fn new(name: impl Into<Rc<str>>) -> Self {
        Self::build(name.into(), None)
    }

    /// A new event whose listener changes are reported to `observer`.
    pub fn with_observer(name: impl Into<Rc<str>>, observer: Rc<dyn EventObserver>) -> Self {
        Self::build(name.into(), Some(observer))
    }

    fn build(name: Rc<str>, observer: Option<Rc<dyn EventObserver>>) -> Self {
        Event {
            inner: Rc::new(Inner {
                name,
                next_id: Cell::new(1),
                listeners: RefCell::new(Rc::new(Vec::new())),
                observer,
            }),
        }
    }

    /// The event's name, e.g. `runtime.onSuspend`.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Adds a listener and returns its handle.
    pub fn add_listener<F, R>(&self, listener: F) -> ListenerId
    where
        F: Fn(A) -> R + 'static,
        R: IntoListenerOutcome,
    {
        self.add_boxed(Rc::new(move |args| listener(args).into_outcome()))
    }

    /// Adds an `async` listener. It runs until its first `.await` during the dispatch, like a
    /// JavaScript `async` function; the rest is handed to the dispatcher in
    /// [`Dispatch::pending`].
    pub fn add_async_listener<F, Fut>(&self, listener: F) -> ListenerId
    where
        F: Fn(A) -> Fut + 'static,
        Fut: Future + 'static,
        Fut::Output: IntoListenerResult,
    {
        self.add_boxed(Rc::new(move |args| {
            let fut = listener(args);
            ListenerOutcome::Pending(Box::pin(async move { fut.await.into_result() }))
        }))
    }

    fn add_boxed(&self, call: Rc<ListenerFn<A>>) -> ListenerId {
        let id = ListenerId(self.inner.next_id.get());
        self.inner.next_id.set(id.0 + 1);
        let count = {
            let mut guard = self.inner.listeners.borrow_mut();
            let listeners = Rc::make_mut(&mut guard);
            // Most events get one listener: room for exactly one, not the Vec's usual four.
            if listeners.capacity() == 0 {
                listeners.reserve_exact(1);
            }
            listeners.push(Entry { id, call });
            listeners.len()
        };
        if let Some(observer) = &self.inner.observer {
            observer.listener_added(&self.inner.name, count);
        }
        id
    }

    /// Removes a listener. Returns whether it was registered.
    pub fn remove_listener(&self, id: ListenerId) -> bool {
        let removed = {
            let mut guard = self.inner.listeners.borrow_mut();
            match guard.iter().position(|e| e.id == id) {
                Some(index) => {
                    Rc::make_mut(&mut guard).remove(index);
                    Some(guard.len())
                }
                None => None,
            }
        };
        match removed {
            Some(count) => {
                if let Some(observer) = &self.inner.observer {
                    observer.listener_removed(&self.inner.name, count);
                }
                true
            }
            None => false,
        }
    }

    /// Drops every listener, without telling the observer: for when the context that owns the
    /// event has gone, and its listeners (and whatever they hold) with it.
    pub fn clear_listeners(&self) {
        let listeners = std::mem::take(&mut *self.inner.listeners.borrow_mut());
        // Dropped with the lock released: a listener may hold anything, this event included.
        drop(listeners);
    }

    /// Whether this listener is registered.
    pub fn has_listener(&self, id: ListenerId) -> bool {
        self.lock().iter().any(|e| e.id == id)
    }

    /// Whether any listener is registered.
    pub fn has_listeners(&self) -> bool {
        !self.lock().is_empty()
    }

    /// How many listeners are registered.
    pub fn listener_count(&self) -> usize {
        self.lock().len()
    }

    /// Calls every listener registered now with a copy of `args`, in order of registration.
    ///
    /// A panic or an error in one listener is caught and reported; the others still run.
    pub fn dispatch(&self, args: A) -> Dispatch
    where
        A: Clone,
    {
        let snapshot = Rc::clone(&self.lock());
        let mut dispatch = Dispatch {
            listeners: snapshot.len(),
            ..Dispatch::default()
        };
        let Some((last, rest)) = snapshot.split_last() else {
            return dispatch;
        };
        for entry in rest {
            self.call_one(entry, args.clone(), &mut dispatch);
        }
        self.call_one(last, args, &mut dispatch);
        dispatch
    }

    fn call_one(&self, entry: &Entry<A>, args: A, dispatch: &mut Dispatch) {
        let failure = match catch_unwind(AssertUnwindSafe(|| (entry.call)(args))) {
            Ok(ListenerOutcome::Done) => None,
            Ok(ListenerOutcome::True) => {
                dispatch.returned_true.push(entry.id);
                None
            }
            Ok(ListenerOutcome::Pending(fut)) => {
                dispatch.pending.push((entry.id, fut));
                None
            }
            Ok(ListenerOutcome::Failed(err)) => Some((FailureKind::Errored, err.to_string())),
            Err(payload) => Some((FailureKind::Panicked, panic_message(payload.as_ref()))),
        };
        if let Some((kind, message)) = failure {
            tracing::error!(
                target: "runtime_events::event",
                event = %self.inner.name,
                listener = entry.id.0,
                kind = kind.as_str(),
                "listener failed: {message}"
            );
            dispatch.failures.push(ListenerFailure {
                listener: entry.id,
                kind,
                message,
            });
        }
    }

    /// The listeners now. No listener runs while they are borrowed: dispatches run on a
    /// snapshot.
    fn lock(&self) -> Ref<'_, Rc<Vec<Entry<A>>>> {
        self.inner.listeners.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_panicking_listener_does_not_stop_the_others() {
        let event: Event<u32> = Event::new("test.onThing");
        let hits = Arc::new(AtomicUsize::new(0));
        let h1 = hits.clone();
        event.add_listener(move |_| {
            h1.fetch_add(1, Ordering::SeqCst);
        });
        event.add_listener(|n: u32| {
            if n > 0 {
                panic!("listener exploded on {n}");
            }
        });
        let h3 = hits.clone();
        event.add_listener(move |_| {
            h3.fetch_add(1, Ordering::SeqCst);
        });
        let d = event.dispatch(7);
        assert_eq!(d.listeners, 3);
        assert_eq!(d.failures.len(), 1);
        assert_eq!(d.failures[0].kind, FailureKind::Panicked);
        assert_eq!(d.failures[0].message, "listener exploded on 7");
        assert_eq!(hits.load(Ordering::SeqCst), 2);
        // The event still works afterwards.
        let d = event.dispatch(0);
        assert!(d.failures.is_empty());
        assert_eq!(hits.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn listeners_may_keep_state_that_is_not_send() {
        let event: Event<u32> = Event::new("test.onThing");
        let seen = Rc::new(std::cell::RefCell::new(Vec::new()));
        let keep = Rc::clone(&seen);
        event.add_async_listener(move |n| {
            let keep = Rc::clone(&keep);
            async move { keep.borrow_mut().push(n) }
        });
        let mut d = event.dispatch(3);
        let (_, fut) = d.pending.pop().unwrap();
        futures::executor::block_on(fut).unwrap();
        assert_eq!(*seen.borrow(), [3]);
    }

    #[test]
    fn listeners_added_during_a_dispatch_wait_for_the_next_one() {
        let event: Event<()> = Event::new("test.onThing");
        let inner = event.clone();
        event.add_listener(move |()| {
            inner.add_listener(|()| {});
        });
        assert_eq!(event.dispatch(()).listeners, 1);
        assert_eq!(event.dispatch(()).listeners, 2);
    }

    #[test]
    fn listeners_that_return_true_are_reported() {
        let event: Event<u8> = Event::new("test.onMessage");
        event.add_listener(|_| false);
        let keeps = event.add_listener(|n: u8| n > 1);
        assert!(event.dispatch(1).returned_true.is_empty());
        assert_eq!(event.dispatch(2).returned_true, vec![keeps]);
    }

    #[test]
    fn async_listeners_hand_back_their_futures() {
        let event: Event<u8> = Event::new("test.onThing");
        let id = event.add_async_listener(|n: u8| async move {
            if n == 0 {
                Err("zero")
            } else {
                Ok(())
            }
        });
        let mut d = event.dispatch(0);
        assert_eq!(d.pending.len(), 1);
        let (who, fut) = d.pending.pop().unwrap();
        assert_eq!(who, id);
        let result = futures::executor::block_on(fut);
        assert_eq!(result.unwrap_err().message(), "zero");
    }

    #[test]
    fn the_observer_sees_additions_and_removals() {
        #[derive(Default)]
        struct Counter(Mutex<Vec<(String, usize, bool)>>);
        impl EventObserver for Counter {
            fn listener_added(&self, event: &str, count: usize) {
                self.0.lock().unwrap().push((event.into(), count, true));
            }
            fn listener_removed(&self, event: &str, count: usize) {
                self.0.lock().unwrap().push((event.into(), count, false));
            }
        }
        let counter = Rc::new(Counter::default());
        let event: Event<()> = Event::with_observer("e", counter.clone());
        let a = event.add_listener(|()| {});
        event.add_listener(|()| {});
        assert!(event.remove_listener(a));
        assert!(!event.remove_listener(a));
        // Clearing drops the rest and tells the observer nothing.
        event.clear_listeners();
        assert!(!event.has_listeners());
        assert_eq!(
            *counter.0.lock().unwrap(),
            vec![
                ("e".into(), 1, true),
                ("e".into(), 2, true),
                ("e".into(), 1, false)
            ]
        );
    }

    #[test]
    fn cleared_listeners_are_dropped_with_what_they_hold() {
        let held = Rc::new(());
        let event: Event<()> = Event::new("e");
        let inside = Rc::clone(&held);
        event.add_listener(move |()| {
            let _ = &inside;
        });
        assert_eq!(Rc::strong_count(&held), 2);
        event.clear_listeners();
        assert_eq!(Rc::strong_count(&held), 1);
        assert_eq!(event.dispatch(()).listeners, 0);
    }
}
