//! The reply to a one-time message, handed from the driver to the sender's future on the
//! driver's own thread: a one-shot slot with no atomics and no lock (a `futures` oneshot
//! paid for both on every round trip, for a hand-over that never crosses threads).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::model::channel::Reply;

#[derive(Default)]
struct Slot {
    reply: RefCell<Option<Reply>>,
    /// The driver let go of the slot without a reply (the browser went away).
    abandoned: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// The driver's end: gives the reply once.
pub(crate) struct ReplySender(Rc<Slot>);

/// The sender's end: a future of the reply, or `Err(ReplyAbandoned)` if none will come.
pub(crate) struct ReplyReceiver(Rc<Slot>);

/// No reply will come: the driver dropped its end first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ReplyAbandoned;

/// A new slot's two ends.
pub(crate) fn reply_channel() -> (ReplySender, ReplyReceiver) {
    let slot = Rc::new(Slot::default());
    (ReplySender(Rc::clone(&slot)), ReplyReceiver(slot))
}

impl ReplySender {
    /// Hands the reply over and wakes the receiver's task.
    pub(crate) fn send(self, reply: Reply) {
        *self.0.reply.borrow_mut() = Some(reply);
        // Drop wakes the receiver.
    }
}

impl Drop for ReplySender {
    fn drop(&mut self) {
        if self.0.reply.borrow().is_none() {
            self.0.abandoned.set(true);
        }
        self.0.wake();
    }
}

impl Future for ReplyReceiver {
    type Output = Result<Reply, ReplyAbandoned>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(reply) = self.0.reply.borrow_mut().take() {
            return Poll::Ready(Ok(reply));
        }
        if self.0.abandoned.get() {
            return Poll::Ready(Err(ReplyAbandoned));
        }
        let mut waker = self.0.waker.borrow_mut();
        match &*waker {
            Some(known) if known.will_wake(cx.waker()) => {}
            _ => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;

    #[test]
    fn the_reply_arrives_once_sent_and_a_dropped_sender_abandons() {
        let (tx, mut rx) = reply_channel();
        assert!((&mut rx).now_or_never().is_none());
        tx.send(Ok(None));
        assert_eq!(rx.now_or_never(), Some(Ok(Ok(None))));

        let (tx, rx) = reply_channel();
        drop(tx);
        assert_eq!(rx.now_or_never(), Some(Err(ReplyAbandoned)));
    }
}
