//! The executor that runs scripts' asynchronous work on the driving thread: tasks polled in
//! the order they were woken, owned by the context that started them and dropped with it. As
//! with tokio's `LocalSet`, a task need not be `Send`; only its waker crosses threads, through
//! the inbox.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, Wake, Waker};

use runtime_events::{panic_message, ListenerError};

use crate::driver::inbox::{Inbox, Incoming, TaskId};
use crate::model::contexts::ContextId;
use crate::model::names::EventName;

/// A task's future. A task ends with `Ok`, or with the error it failed with.
pub(crate) type TaskFuture = Pin<Box<dyn Future<Output = Result<(), ListenerError>>>>;

/// Who a task belongs to: it is dropped when its owner goes away.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskOwner {
    /// A context: one load of a background page, a view, a content script, a web page.
    Context(ContextId),
    /// Code driven from outside the pages (a test's `block_on`).
    External,
}

/// What a task is, in the words of the trace (`<label> failed: …`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskLabel {
    /// A page's top-level script.
    TopLevelScript,
    /// The work an async listener of this event left running.
    AsyncListener(EventName),
    /// The promises of Firefox's awaited `onSuspend` listeners.
    OnSuspendPromises,
    /// A task a script spawned.
    Spawned,
    /// A task of a web page.
    WebPageTask,
    /// The callback of a call in the callback form, e.g. `a runtime.sendMessage callback`.
    Callback(&'static str),
    /// The future given to `Browser::block_on`.
    BlockOn,
}

impl fmt::Display for TaskLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskLabel::TopLevelScript => f.write_str("the top-level script"),
            TaskLabel::AsyncListener(event) => write!(f, "an async listener of {event}"),
            TaskLabel::OnSuspendPromises => f.write_str("the onSuspend listeners' promises"),
            TaskLabel::Spawned => f.write_str("a spawned task"),
            TaskLabel::WebPageTask => f.write_str("a task of a web page"),
            TaskLabel::Callback(what) => f.write_str(what),
            TaskLabel::BlockOn => f.write_str("block_on"),
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

/// A task's waker: it hands the task's id in through the inbox, from whatever thread wakes it.
struct TaskWaker {
    id: TaskId,
    queued: AtomicBool,
    inbox: Weak<Inbox>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            if let Some(inbox) = self.inbox.upgrade() {
                inbox.hand_in(Incoming::Wake(self.id));
            }
        }
    }
}

/// The set of tasks and the queue of those ready to be polled.
pub(crate) struct Executor {
    slots: RefCell<BTreeMap<TaskId, Slot>>,
    last_id: Cell<u64>,
    ready: RefCell<VecDeque<TaskId>>,
    inbox: Weak<Inbox>,
}

impl Executor {
    pub(crate) fn new(inbox: &Arc<Inbox>) -> Self {
        Executor {
            slots: RefCell::default(),
            last_id: Cell::new(0),
            ready: RefCell::default(),
            inbox: Arc::downgrade(inbox),
        }
    }

    fn next_id(&self) -> TaskId {
        let id = self.last_id.get() + 1;
        self.last_id.set(id);
        TaskId(id)
    }

    fn waker_for(&self, id: TaskId) -> Arc<TaskWaker> {
        Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            inbox: Weak::clone(&self.inbox),
        })
    }

    /// Adds a task; it is polled when [`Executor::poll`] is given its id, which
    /// [`Executor::next_ready`] does once it is woken. Returns its id.
    pub(crate) fn spawn(&self, owner: TaskOwner, label: TaskLabel, future: TaskFuture) -> TaskId {
        let id = self.next_id();
        let waker = self.waker_for(id);
        self.slots.borrow_mut().insert(
            id,
            Slot {
                future: Some(future),
                owner,
                label,
                waker,
                cancelled: false,
            },
        );
        id
    }

    /// Adds a task and queues it to be polled.
    pub(crate) fn spawn_ready(&self, owner: TaskOwner, label: TaskLabel, future: TaskFuture) {
        let id = self.spawn(owner, label, future);
        let waker = self.slots.borrow().get(&id).map(|s| Arc::clone(&s.waker));
        if let Some(waker) = waker {
            waker.wake_by_ref();
        }
    }

    /// Registers a task whose future the caller keeps and polls itself, with
    /// [`ForeignTask::poll`], when [`Executor::next_ready`] gives its id: it is woken, queued
    /// and ordered like any other task.
    pub(crate) fn foreign_task(&self) -> ForeignTask {
        let id = self.next_id();
        let task_waker = self.waker_for(id);
        ForeignTask {
            id,
            waker: Waker::from(Arc::clone(&task_waker)),
            task_waker,
        }
    }

    /// A task was woken: it goes to the end of the ready queue.
    pub(crate) fn woken(&self, id: TaskId) {
        self.ready.borrow_mut().push_back(id);
    }

    /// Whether a task was woken and waits to be polled.
    pub(crate) fn has_ready(&self) -> bool {
        !self.ready.borrow().is_empty()
    }

    /// The next task that was woken, in the order they were woken.
    pub(crate) fn next_ready(&self) -> Option<TaskId> {
        self.ready.borrow_mut().pop_front()
    }

    /// The owner and label of a task, if it exists.
    pub(crate) fn describe(&self, id: TaskId) -> Option<(TaskOwner, TaskLabel)> {
        let slots = self.slots.borrow();
        let slot = slots.get(&id)?;
        Some((slot.owner.clone(), slot.label.clone()))
    }

    /// Polls a task once. No borrow is held while the task runs, and a panic is caught.
    pub(crate) fn poll(&self, id: TaskId) -> Polled {
        let (mut future, waker) = {
            let mut slots = self.slots.borrow_mut();
            let Some(slot) = slots.get_mut(&id) else {
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
                let mut slots = self.slots.borrow_mut();
                match slots.get_mut(&id) {
                    Some(slot) if !slot.cancelled => {
                        slot.future = Some(future);
                        return Polled::Pending;
                    }
                    _ => {
                        slots.remove(&id);
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
        let slot = self.slots.borrow_mut().remove(&id);
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

    /// Drops every task of `owner`. The futures are dropped after the borrow is released, so
    /// their destructors may use the browser.
    pub(crate) fn cancel_owned_by(&self, owner: &TaskOwner) -> usize {
        let dropped: Vec<Option<TaskFuture>> = {
            let mut slots = self.slots.borrow_mut();
            let ids: Vec<TaskId> = slots
                .iter()
                .filter(|(_, s)| &s.owner == owner)
                .map(|(id, _)| *id)
                .collect();
            ids.into_iter()
                .filter_map(|id| {
                    let slot = slots.get_mut(&id)?;
                    if slot.future.is_none() {
                        // Being polled right now: dropped when the poll returns.
                        slot.cancelled = true;
                        return Some(None);
                    }
                    slots.remove(&id).map(|s| s.future)
                })
                .collect()
        };
        let count = dropped.len();
        drop(dropped);
        count
    }

    /// Drops every task.
    pub(crate) fn clear(&self) {
        let all: Vec<Slot> = std::mem::take(&mut *self.slots.borrow_mut())
            .into_values()
            .collect();
        drop(all);
        self.ready.borrow_mut().clear();
    }
}

/// A task whose future lives with its caller (the future of `Browser::block_on`, on the
/// driver's stack) rather than in the executor.
pub(crate) struct ForeignTask {
    id: TaskId,
    task_waker: Arc<TaskWaker>,
    waker: Waker,
}

impl ForeignTask {
    /// The task's id, as [`Executor::next_ready`] gives it when the task is woken.
    pub(crate) fn id(&self) -> TaskId {
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
