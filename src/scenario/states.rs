//! The extensions' states that `state` expectations check, read from the browser itself as
//! the run reaches each instant they name — not replayed from the trace, so they stay right
//! when `trace_limit` keeps only the newest entries.
//!
//! An instant's state is the state once everything due at it has run and every step at it
//! has acted: it is read when the clock is about to move past the instant (a time step is
//! split there), or at the end of the run.

use std::collections::BTreeMap;

use super::duration::Dur;
use super::expect::Expectation;
use super::ids::Ids;
use crate::{Browser, ExtensionId, PageState, SimInstant};

/// An extension's state, as the browser reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtensionState {
    pub(crate) page: PageState,
    pub(crate) keepalive: u32,
    pub(crate) loads: u64,
    pub(crate) installed: bool,
    pub(crate) version: Option<String>,
    pub(crate) pending_update: Option<String>,
    pub(crate) terminated: bool,
}

impl ExtensionState {
    /// The extension's state in `browser` now.
    pub(crate) fn read(browser: &Browser, id: &ExtensionId) -> ExtensionState {
        match browser.extension(id) {
            Some(info) => ExtensionState {
                page: info.page.unwrap_or(PageState::Unloaded),
                keepalive: browser.keepalive_count(id),
                loads: info.page_loads,
                installed: true,
                version: Some(info.version),
                pending_update: info.pending_update,
                terminated: info.terminated,
            },
            None => ExtensionState::absent(),
        }
    }

    /// The state of an extension that is not installed.
    pub(crate) fn absent() -> ExtensionState {
        ExtensionState {
            page: PageState::Unloaded,
            keepalive: 0,
            loads: 0,
            installed: false,
            version: None,
            pending_update: None,
            terminated: false,
        }
    }
}

/// The states to read during a run, and those read.
#[derive(Debug, Default)]
pub(crate) struct StateReader {
    /// By instant: the `state` expectations (their index, and the extension) still to read.
    pending: BTreeMap<SimInstant, Vec<(usize, ExtensionId)>>,
    /// Those at the end of the run.
    at_end: Vec<(usize, ExtensionId)>,
    /// What was read, by expectation index.
    read: BTreeMap<usize, ExtensionState>,
}

impl StateReader {
    /// The reads the expectations ask for.
    pub(crate) fn new(expectations: &[Expectation], ids: &Ids) -> StateReader {
        let mut reader = StateReader::default();
        for (index, expectation) in expectations.iter().enumerate() {
            let Expectation::State(e) = expectation else {
                continue;
            };
            let id = ids
                .get(&e.extension)
                .cloned()
                .unwrap_or_else(|| ExtensionId::from_bytes(e.extension.as_bytes()));
            match e.at.map(Dur::instant) {
                Some(at) => reader.pending.entry(at).or_default().push((index, id)),
                None => reader.at_end.push((index, id)),
            }
        }
        reader
    }

    /// The first instant still to read, if any.
    pub(crate) fn next(&self) -> Option<SimInstant> {
        self.pending.keys().next().copied()
    }

    /// Reads the states due at the first instant still to read: the clock is about to move
    /// past it.
    pub(crate) fn read_next(&mut self, browser: &Browser) {
        if let Some((_, due)) = self.pending.pop_first() {
            for (index, id) in due {
                self.read.insert(index, ExtensionState::read(browser, &id));
            }
        }
    }

    /// Moves the clock to `to` (`move_clock` does it), first stopping at each instant still
    /// to read before it to read its states there.
    pub(crate) fn advance_to(&mut self, browser: &mut Browser, to: SimInstant) {
        while let Some(at) = self.next().filter(|at| *at < to) {
            if at > browser.now() {
                browser.advance_to(at);
            }
            self.read_next(browser);
        }
        browser.advance_to(to);
    }

    /// Runs the browser until it is idle, stopping at each instant still to read that the
    /// run would pass.
    pub(crate) fn run_until_idle(&mut self, browser: &mut Browser) {
        while let Some(at) = self.next() {
            if browser.is_idle() {
                break;
            }
            if at > browser.now() {
                // What is due by `at` runs; the run stops short of the next work after it.
                let _ = browser.run_until(at - browser.now(), |b| {
                    b.is_idle() || b.next_due().is_none_or(|due| due > at)
                });
            }
            if browser.is_idle() {
                break;
            }
            // The run goes on past `at`: its state is the state now.
            self.read_next(browser);
        }
        browser.run_until_idle();
    }

    /// Reads every state left: at the end of the run (an instant past the end reads the
    /// state the run ended in).
    pub(crate) fn finish(&mut self, browser: &Browser) {
        while self.next().is_some() {
            self.read_next(browser);
        }
        for (index, id) in std::mem::take(&mut self.at_end) {
            self.read.insert(index, ExtensionState::read(browser, &id));
        }
    }

    /// The state read for expectation `index`.
    pub(crate) fn state(&self, index: usize) -> Option<&ExtensionState> {
        self.read.get(&index)
    }
}
