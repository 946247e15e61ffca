//! The bus: one deterministic, virtual-time ordered queue for everything that happens in a
//! simulated browser.

use std::cmp::{Ordering, Reverse};
use std::collections::{BinaryHeap, VecDeque};
use std::time::Duration;

use crate::SimInstant;

/// The position of an item on the bus: its virtual time, then the order in which it was posted.
///
/// Two runs that post the same items in the same order deliver them in the same order, which is
/// what makes a simulation's trace byte-identical from run to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BusKey {
    /// When the item is due.
    pub at: SimInstant,
    /// The sequence number the bus gave the item when it was posted.
    pub seq: u64,
}

/// An item taken off the bus, with the key it was delivered at.
#[derive(Debug)]
pub struct Delivery<M> {
    /// When and in which order the item was delivered.
    pub key: BusKey,
    /// The item itself.
    pub item: M,
}

struct Pending<M> {
    key: BusKey,
    item: M,
}

impl<M> PartialEq for Pending<M> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<M> Eq for Pending<M> {}
impl<M> PartialOrd for Pending<M> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<M> Ord for Pending<M> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key.cmp(&other.key)
    }
}

/// The most room (in items) the FIFO of items due now keeps once it empties; more, made for a
/// burst (thousands of pages loading at once), is given back then, in one piece.
const KEPT_ROOM: usize = 1024;

/// The event bus of one simulated browser, and its virtual clock.
///
/// Every event of every extension — lifecycle steps, timers, messages, API completions — is an
/// item posted on the bus for a virtual instant. [`Bus::pop_due`] hands them back strictly in
/// the order *virtual time, then sequence number*, and moves the clock to the time of the item it
/// delivers. The clock never moves backwards and never reads wall time.
///
/// Items due "now" take a fast path (a FIFO) so that the common case — an event posted for
/// immediate delivery — costs no heap operation.
///
/// ```
/// use runtime_events::{Bus, SimInstant};
/// use std::time::Duration;
///
/// let mut bus = Bus::new();
/// bus.post_after(Duration::from_secs(10), "idle timer");
/// bus.post("message");
/// bus.post("another message");
///
/// let end = SimInstant::ZERO + Duration::from_secs(60);
/// let order: Vec<_> = std::iter::from_fn(|| bus.pop_due(end)).map(|d| d.item).collect();
/// assert_eq!(order, ["message", "another message", "idle timer"]);
/// assert_eq!(bus.now(), SimInstant::ZERO + Duration::from_secs(10));
/// ```
pub struct Bus<M> {
    now: SimInstant,
    next_seq: u64,
    /// Items posted for the current instant, in posting order.
    immediate: VecDeque<Pending<M>>,
    /// Items posted for a later instant.
    scheduled: BinaryHeap<Reverse<Pending<M>>>,
}

/// A bus prints its clock and every item waiting on it, in the order it will deliver them.
impl<M: std::fmt::Debug> std::fmt::Debug for Bus<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut waiting: Vec<&Pending<M>> = self
            .immediate
            .iter()
            .chain(self.scheduled.iter().map(|Reverse(p)| p))
            .collect();
        waiting.sort_by_key(|p| p.key);
        f.debug_struct("Bus")
            .field("now", &self.now)
            .field(
                "waiting",
                &waiting
                    .iter()
                    .map(|p| (p.key.at, &p.item))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<M> Default for Bus<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> Bus<M> {
    /// An empty bus whose clock reads [`SimInstant::ZERO`].
    pub fn new() -> Self {
        Bus {
            now: SimInstant::ZERO,
            next_seq: 0,
            immediate: VecDeque::new(),
            scheduled: BinaryHeap::new(),
        }
    }

    /// The current virtual time.
    pub fn now(&self) -> SimInstant {
        self.now
    }

    /// Posts `item` for delivery at the current instant, after everything already due now.
    pub fn post(&mut self, item: M) -> BusKey {
        let key = self.next_key(self.now);
        self.immediate.push_back(Pending { key, item });
        key
    }

    /// Posts `item` for delivery `delay` from now.
    pub fn post_after(&mut self, delay: Duration, item: M) -> BusKey {
        self.post_at(self.now + delay, item)
    }

    /// Posts `item` for delivery at `at`; an instant in the past means now.
    pub fn post_at(&mut self, at: SimInstant, item: M) -> BusKey {
        if at <= self.now {
            return self.post(item);
        }
        let key = self.next_key(at);
        self.scheduled.push(Reverse(Pending { key, item }));
        key
    }

    /// The key of the next item, if any.
    pub fn peek_key(&self) -> Option<BusKey> {
        let immediate = self.immediate.front().map(|p| p.key);
        let scheduled = self.scheduled.peek().map(|Reverse(p)| p.key);
        match (immediate, scheduled) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Takes the next item if it is due at or before `until`, moving the clock to its time.
    ///
    /// Returns `None` (and leaves the clock alone) when the bus is empty or its next item is
    /// later than `until`.
    pub fn pop_due(&mut self, until: SimInstant) -> Option<Delivery<M>> {
        let take_scheduled = match (self.immediate.front(), self.scheduled.peek()) {
            (None, None) => return None,
            (Some(_), None) => false,
            (None, Some(_)) => true,
            (Some(a), Some(Reverse(b))) => b.key < a.key,
        };
        let pending = if take_scheduled {
            if self
                .scheduled
                .peek()
                .is_some_and(|Reverse(p)| p.key.at > until)
            {
                return None;
            }
            let pending = self.scheduled.pop().map(|Reverse(p)| p)?;
            if self.scheduled.is_empty() && self.scheduled.capacity() > KEPT_ROOM {
                self.scheduled = BinaryHeap::new();
            }
            pending
        } else {
            let pending = self.immediate.pop_front()?;
            if self.immediate.is_empty() && self.immediate.capacity() > KEPT_ROOM {
                self.immediate = VecDeque::new();
            }
            pending
        };
        debug_assert!(pending.key.at >= self.now, "the bus clock went backwards");
        self.now = pending.key.at;
        tracing::trace!(target: "runtime_events::bus", at = %pending.key.at, seq = pending.key.seq, "deliver");
        Some(Delivery {
            key: pending.key,
            item: pending.item,
        })
    }

    /// Moves the clock forward to `to` when nothing is due before it.
    ///
    /// # Errors
    /// Gives back the key of the earliest item still due before `to`; deliver it first.
    pub fn advance_to(&mut self, to: SimInstant) -> Result<(), BusKey> {
        match self.peek_key() {
            Some(key) if key.at < to => Err(key),
            _ => {
                if to > self.now {
                    self.now = to;
                }
                Ok(())
            }
        }
    }

    /// How many items wait on the bus.
    pub fn len(&self) -> usize {
        self.immediate.len() + self.scheduled.len()
    }

    /// Whether nothing waits on the bus.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every waiting item, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &M> {
        self.immediate
            .iter()
            .map(|p| &p.item)
            .chain(self.scheduled.iter().map(|Reverse(p)| &p.item))
    }

    /// Removes every waiting item for which `keep` returns `false`.
    pub fn retain(&mut self, mut keep: impl FnMut(&M) -> bool) {
        self.immediate.retain(|p| keep(&p.item));
        self.scheduled.retain(|Reverse(p)| keep(&p.item));
    }

    fn next_key(&mut self, at: SimInstant) -> BusKey {
        let seq = self.next_seq;
        self.next_seq += 1;
        BusKey { at, seq }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SimInstant {
        SimInstant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn a_burst_does_not_keep_its_room_once_delivered() {
        let mut bus = Bus::new();
        for i in 0..100_000u64 {
            bus.post(i);
        }
        let delivered = std::iter::from_fn(|| bus.pop_due(at(0))).count();
        assert_eq!(delivered, 100_000);
        assert!(bus.immediate.capacity() <= KEPT_ROOM);
    }

    #[test]
    fn a_bus_prints_what_waits_in_the_order_it_delivers_it() {
        let mut bus = Bus::new();
        bus.post_at(at(20), "later");
        bus.post("now");
        let printed = format!("{bus:?}");
        assert!(
            printed.find("now").unwrap() < printed.find("later").unwrap(),
            "{printed}"
        );
    }

    #[test]
    fn orders_by_time_then_sequence() {
        let mut bus = Bus::new();
        bus.post_at(at(20), "c");
        bus.post_at(at(10), "a");
        bus.post_at(at(10), "b");
        bus.post("now");
        let got: Vec<_> = std::iter::from_fn(|| bus.pop_due(at(100)))
            .map(|d| (d.key.at, d.item))
            .collect();
        assert_eq!(
            got,
            [(at(0), "now"), (at(10), "a"), (at(10), "b"), (at(20), "c")]
        );
    }

    #[test]
    fn a_timer_posted_earlier_for_now_goes_before_a_later_immediate_post() {
        let mut bus = Bus::new();
        bus.post_at(at(10), "timer");
        assert!(bus.advance_to(at(10)).is_ok());
        bus.post("immediate");
        assert_eq!(bus.pop_due(at(10)).map(|d| d.item), Some("timer"));
        assert_eq!(bus.pop_due(at(10)).map(|d| d.item), Some("immediate"));
    }

    #[test]
    fn does_not_deliver_past_the_limit_nor_move_the_clock() {
        let mut bus = Bus::new();
        bus.post_at(at(50), "late");
        assert!(bus.pop_due(at(49)).is_none());
        assert_eq!(bus.now(), at(0));
        assert_eq!(bus.advance_to(at(60)).unwrap_err().at, at(50));
        assert!(bus.advance_to(at(50)).is_ok());
        assert_eq!(bus.now(), at(50));
    }

    #[test]
    fn posting_in_the_past_means_now() {
        let mut bus: Bus<u8> = Bus::new();
        bus.advance_to(at(30)).unwrap();
        let key = bus.post_at(at(5), 1);
        assert_eq!(key.at, at(30));
    }

    #[test]
    fn retain_drops_cancelled_items() {
        let mut bus = Bus::new();
        bus.post(1);
        bus.post_at(at(5), 2);
        bus.post_at(at(6), 3);
        bus.retain(|i| *i != 2);
        let got: Vec<_> = std::iter::from_fn(|| bus.pop_due(at(10)))
            .map(|d| d.item)
            .collect();
        assert_eq!(got, [1, 3]);
    }
}
