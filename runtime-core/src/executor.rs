//! The executor that runs background scripts: tasks polled in a deterministic order, owned by
//! the page that started them and dropped with it.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, Wake, Waker};

use runtime_events::{panic_message, ListenerError};

use crate::context::Endpoint;

/// A task's future. A task ends with `Ok`, or with the error it failed with.
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = Result<(), ListenerError>> + Send>>;

/// Who a task belongs to: it is dropped when its owner goes away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskOwner {
    /// A context: one life of a background page, a view, a content script, a web page.
    Context(Endpoint),
    /// Code driven from outside the pages (a test's `block_on`, a view's call).
    External,
}

/// What a task is, in the words of the trace (`<label> failed: …`). Most labels are fixed
/// text; the labels of async listeners name their event and are shared by the tasks of one
/// dispatch.
#[derive(Clone, Debug)]
pub(crate) enum TaskLabel {
    Fixed(&'static str),
    Shared(Arc<str>),
}

impl From<&'static str> for TaskLabel {
    fn from(label: &'static str) -> Self {
        TaskLabel::Fixed(label)
    }
}

impl From<Arc<str>> for TaskLabel {
    fn from(label: Arc<str>) -> Self {
        TaskLabel::Shared(label)
    }
}

impl fmt::Display for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskLabel::Fixed(label) => f.write_str(label),
            TaskLabel::Shared(label) => f.write_str(label),
        }
    }
}

/// A task that failed: its error, and what and whose it was.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) label: TaskLabel,
    pub(crate) owner: TaskOwner,
}

/// How one poll of a task ended.
pub(crate) enum Polled {
    /// The task finished successfully.
    Finished,
    /// The task failed or panicked.
    Failed(Failure),
    /// The task waits.
    Pending,
    /// The task no longer exists.
    Gone,
}

struct Slot {
    future: Option<TaskFuture>,
    owner: TaskOwner,
    label: TaskLabel,
    waker: Arc<TaskWaker>,
    cancelled: bool,
}

/// The tasks, by id, and the last id given.
#[derive(Default)]
struct Slots {
    tasks: BTreeMap<u64, Slot>,
    last_id: u64,
}

/// The set of tasks and the queue of those ready to be polled.
#[derive(Default)]
pub(crate) struct Executor {
    slots: Mutex<Slots>,
    ready: Arc<Mutex<VecDeque<u64>>>,
}

struct TaskWaker {
    id: u64,
    queued: AtomicBool,
    ready: Weak<Mutex<VecDeque<u64>>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            if let Some(ready) = self.ready.upgrade() {
                lock(&ready).push_back(self.id);
            }
        }
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // No user code runs while the simulator's locks are held, so a poisoned lock still guards
    // consistent data.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Executor {
    /// Adds a task; it is polled when [`Executor::poll`] is given its id, which
    /// [`Executor::next_ready`] does once it is woken. Returns its id.
    pub(crate) fn spawn(
        &self,
        owner: TaskOwner,
        label: impl Into<TaskLabel>,
        future: TaskFuture,
    ) -> u64 {
        self.insert(owner, label.into(), future).0
    }

    /// Adds a task and queues it to be polled.
    pub(crate) fn spawn_ready(
        &self,
        owner: TaskOwner,
        label: impl Into<TaskLabel>,
        future: TaskFuture,
    ) {
        let (_, waker) = self.insert(owner, label.into(), future);
        waker.wake_by_ref();
    }

    fn insert(
        &self,
        owner: TaskOwner,
        label: TaskLabel,
        future: TaskFuture,
    ) -> (u64, Arc<TaskWaker>) {
        let mut slots = lock(&self.slots);
        slots.last_id += 1;
        let id = slots.last_id;
        let waker = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            ready: Arc::downgrade(&self.ready),
        });
        slots.tasks.insert(
            id,
            Slot {
                future: Some(future),
                owner,
                label,
                waker: Arc::clone(&waker),
                cancelled: false,
            },
        );
        (id, waker)
    }

    /// Registers a task whose future the caller keeps and polls itself, with
    /// [`ForeignTask::poll`], when [`Executor::next_ready`] gives its id: it is woken, queued
    /// and ordered like any other task.
    pub(crate) fn foreign_task(&self) -> ForeignTask {
        let id = {
            let mut slots = lock(&self.slots);
            slots.last_id += 1;
            slots.last_id
        };
        let waker = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            ready: Arc::downgrade(&self.ready),
        });
        ForeignTask {
            id,
            waker: Waker::from(Arc::clone(&waker)),
            task_waker: waker,
        }
    }

    /// The next task that was woken, in the order they were woken.
    pub(crate) fn next_ready(&self) -> Option<u64> {
        lock(&self.ready).pop_front()
    }

    /// Polls a task once. No lock is held while the task runs, and a panic is caught.
    pub(crate) fn poll(&self, id: u64) -> Polled {
        let (mut future, waker) = {
            let mut slots = lock(&self.slots);
            let Some(slot) = slots.tasks.get_mut(&id) else {
                return Polled::Gone;
            };
            let Some(future) = slot.future.take() else {
                return Polled::Gone;
            };
            slot.waker.queued.store(false, Ordering::Release);
            (future, Waker::from(Arc::clone(&slot.waker)))
        };
        let mut cx = Context::from_waker(&waker);
        let outcome = catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)));
        let failed = match outcome {
            Ok(Poll::Pending) => {
                let mut slots = lock(&self.slots);
                match slots.tasks.get_mut(&id) {
                    Some(slot) if !slot.cancelled => {
                        slot.future = Some(future);
                        return Polled::Pending;
                    }
                    _ => {
                        slots.tasks.remove(&id);
                        drop(slots);
                        drop(future);
                        return Polled::Gone;
                    }
                }
            }
            Ok(Poll::Ready(Ok(()))) => None,
            Ok(Poll::Ready(Err(e))) => Some(e.to_string()),
            Err(payload) => Some(format!("panicked: {}", panic_message(payload.as_ref()))),
        };
        let slot = lock(&self.slots).tasks.remove(&id);
        drop(future);
        match (failed, slot) {
            (None, _) => Polled::Finished,
            (Some(message), Some(slot)) => Polled::Failed(Failure {
                message,
                label: slot.label,
                owner: slot.owner,
            }),
            // Removed while it ran: only `clear` does that, as the browser goes away with its
            // trace.
            (Some(_), None) => Polled::Gone,
        }
    }

    /// The owner and label of a task, if it exists and its lock is free within a moment (for
    /// the watchdog, from another thread).
    pub(crate) fn describe(&self, id: u64) -> Option<(TaskOwner, TaskLabel)> {
        let slots =
            crate::watchdog::try_lock_for(&self.slots, std::time::Duration::from_millis(100))?;
        let slot = slots.tasks.get(&id)?;
        Some((slot.owner.clone(), slot.label.clone()))
    }

    /// Drops every task of `owner`. The futures are dropped after the lock is released, so
    /// their destructors may use the simulator.
    pub(crate) fn cancel_owned_by(&self, owner: &TaskOwner) -> usize {
        let dropped: Vec<Option<TaskFuture>> = {
            let mut slots = lock(&self.slots);
            let ids: Vec<u64> = slots
                .tasks
                .iter()
                .filter(|(_, s)| &s.owner == owner)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| {
                    let slot = slots.tasks.get_mut(&id)?;
                    if slot.future.is_none() {
                        // Being polled right now: dropped when the poll returns.
                        slot.cancelled = true;
                        return Some(None);
                    }
                    slots.tasks.remove(&id).map(|s| s.future)
                })
                .collect()
        };
        let count = dropped.len();
        drop(dropped);
        count
    }

    /// Drops every task.
    pub(crate) fn clear(&self) {
        let all: Vec<Slot> = {
            let mut slots = lock(&self.slots);
            std::mem::take(&mut slots.tasks).into_values().collect()
        };
        drop(all);
        lock(&self.ready).clear();
    }
}

/// A task whose future lives with its caller (the future of `Browser::block_on`, on the
/// driver's stack) rather than in the executor.
pub(crate) struct ForeignTask {
    id: u64,
    task_waker: Arc<TaskWaker>,
    waker: Waker,
}

impl ForeignTask {
    /// The task's id, as [`Executor::next_ready`] gives it when the task is woken.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Polls the task's future, as [`Executor::poll`] polls a task: a panic is caught and
    /// returned as the task's failure.
    pub(crate) fn poll<F: Future + ?Sized>(
        &self,
        future: Pin<&mut F>,
    ) -> Result<Poll<F::Output>, String> {
        self.task_waker.queued.store(false, Ordering::Release);
        let mut cx = Context::from_waker(&self.waker);
        catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
            .map_err(|payload| format!("panicked: {}", panic_message(payload.as_ref())))
    }
}
