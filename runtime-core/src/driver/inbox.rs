//! The inbox: the one part of a simulated browser that other threads reach. A task's waker,
//! a keepalive guard dropped anywhere, a native host's task — each hands its news in here, and
//! the driver takes it in order at its next step. Everything else lives on the driving thread.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::model::work::InboxItem;

/// A task of the driver's executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TaskId(pub(crate) u64);

/// What reaches the driver from anywhere.
#[derive(Debug)]
pub(crate) enum Incoming {
    /// A task was woken.
    Wake(TaskId),
    /// Something for the model.
    Item(InboxItem),
}

/// The inbox of one browser.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    queue: Mutex<VecDeque<Incoming>>,
    /// Whether the queue may hold something: set with the queue locked when something is
    /// handed in, cleared with it locked when it is drained, so that a step need not lock it to
    /// find it empty.
    filled: AtomicBool,
    /// Signalled when something is handed in, or a real-time source ends.
    ready: Condvar,
    /// How many threads wait on `ready` (changed with the queue locked), so that handing
    /// something in signals only when someone waits: a signal is a system call.
    waiting: AtomicUsize,
    /// How many real-time sources (native hosts, native calls) are open.
    realtime: AtomicUsize,
    /// The browser is shutting down (set before its pages close, cleared as it starts): a host
    /// whose port closes now only gets end of file.
    shutting_down: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing that can panic runs while the inbox is locked, so a poisoned lock still guards a
    // consistent queue.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Inbox {
    /// Hands something in, from any thread.
    pub(crate) fn hand_in(&self, incoming: Incoming) {
        let waiting = {
            let mut queue = lock(&self.queue);
            queue.push_back(incoming);
            self.filled.store(true, Ordering::Release);
            // Read with the queue locked: a waiter counts itself before it releases the lock
            // to wait, so it either sees this item or is counted here.
            self.waiting.load(Ordering::Relaxed)
        };
        if waiting > 0 {
            self.ready.notify_all();
        }
    }

    /// Whether something was handed in and not yet taken.
    pub(crate) fn is_filled(&self) -> bool {
        self.filled.load(Ordering::Acquire)
    }

    /// Takes everything handed in so far, in order.
    pub(crate) fn drain(&self, into: &mut Vec<Incoming>) {
        if !self.filled.load(Ordering::Acquire) {
            return;
        }
        let mut queue = lock(&self.queue);
        self.filled.store(false, Ordering::Relaxed);
        into.extend(queue.drain(..));
    }

    /// A real-time source (a native host) opened.
    pub(crate) fn realtime_opened(&self) {
        self.realtime.fetch_add(1, Ordering::AcqRel);
    }

    /// A real-time source ended: a driver waiting for it is woken.
    pub(crate) fn realtime_closed(&self) {
        self.realtime.fetch_sub(1, Ordering::AcqRel);
        let _guard = lock(&self.queue);
        self.ready.notify_all();
    }

    /// Whether a real-time source (a native host) is open.
    pub(crate) fn realtime_open(&self) -> bool {
        self.realtime.load(Ordering::Acquire) > 0
    }

    /// Marks the browser as shutting down, or as running again.
    pub(crate) fn set_shutting_down(&self, shutting_down: bool) {
        self.shutting_down.store(shutting_down, Ordering::Release);
    }

    /// Whether the browser is shutting down (or stopped).
    pub(crate) fn shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Acquire)
    }

    /// Waits, in real time and for at most `limit`, until something is handed in. Returns
    /// whether something waits.
    pub(crate) fn wait_for_item(&self, limit: Duration) -> bool {
        self.wait(limit, false)
    }

    /// Waits, in real time and for at most `limit`, until something is handed in or the last
    /// real-time source ends. Returns whether something waits.
    pub(crate) fn wait_for_real_time(&self, limit: Duration) -> bool {
        self.wait(limit, true)
    }

    fn wait(&self, limit: Duration, until_sources_end: bool) -> bool {
        let deadline = Instant::now() + limit;
        let mut queue = lock(&self.queue);
        loop {
            if !queue.is_empty() {
                return true;
            }
            if until_sources_end && !self.realtime_open() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            self.waiting.fetch_add(1, Ordering::Relaxed);
            queue = self
                .ready
                .wait_timeout(queue, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner().0);
            self.waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }
}
