//! The keepalives held on one extension's background page, by id.
//!
//! A page rarely holds more than a few at once, so they are a `Vec` sorted by id (ids are
//! handed out in increasing order, so a new one goes at the end): it is smaller than a
//! `BTreeMap`'s node, which a loaded page would allocate for its first keepalive.

use crate::KeepaliveReason;

/// One keepalive: why it is held, and the page life it goes with.
pub(crate) struct Holder {
    pub(crate) reason: KeepaliveReason,
    /// The page life the keepalive belongs to; it goes with that life.
    pub(crate) life: Option<u64>,
}

/// The keepalives held on a page, in the order of their ids.
#[derive(Default)]
pub(crate) struct Holders(Vec<(u64, Holder)>);

impl Holders {
    fn position(&self, id: u64) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(held, _)| *held)
    }

    /// Adds keepalive `id` (or replaces the one with that id).
    pub(crate) fn insert(&mut self, id: u64, holder: Holder) {
        match self.position(id) {
            Ok(at) => self.0[at].1 = holder,
            Err(at) => self.0.insert(at, (id, holder)),
        }
    }

    /// Keepalive `id`, if it is held.
    pub(crate) fn get(&self, id: u64) -> Option<&Holder> {
        self.position(id).ok().map(|at| &self.0[at].1)
    }

    /// Takes keepalive `id` away, if it is held.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Holder> {
        self.position(id).ok().map(|at| self.0.remove(at).1)
    }

    /// How many are held.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether none is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The held keepalives, by increasing id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u64, &Holder)> {
        self.0.iter().map(|(id, holder)| (*id, holder))
    }

    /// The ids of the held keepalives, increasing.
    pub(crate) fn ids(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.iter().map(|(id, _)| *id)
    }
}
