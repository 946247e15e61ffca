//! The background page's lifecycle: one state machine, one transition function.
//!
//! This is Chromium's `ProcessManager` bookkeeping for a background page (a keepalive count, a
//! close sequence number and an "is closing" flag) made explicit. It is pure: it reads no clock
//! and runs no code of the extension; it says what should happen ([`Effect`]) and the browser
//! does it.

use std::time::Duration;

use serde::Serialize;

use crate::model::profile::{BackgroundModel, Timers};

/// Where a background page is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PageState {
    /// No page: never loaded, suspended, or stopped.
    Unloaded,
    /// The page is being created for queued work; its top-level script has not finished.
    Loading,
    /// The page is loaded (and, for an event page, not closing).
    Active,
    /// `onSuspend` was dispatched; the page unloads when the suspending window ends, unless
    /// something cancels it.
    Closing,
}

impl PageState {
    /// The state's name, as the trace prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            PageState::Unloaded => "unloaded",
            PageState::Loading => "loading",
            PageState::Active => "active",
            PageState::Closing => "closing",
        }
    }
}

/// What happened to a background page, as the state machine sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    /// Work (an event, a message, `getBackgroundPage`) was queued for the page.
    WorkQueued,
    /// The top-level script ran to its end (its first suspension point).
    LoadFinished,
    /// The top-level script failed.
    LoadFailed,
    /// A keepalive was taken.
    KeepaliveAcquired,
    /// A keepalive was given back.
    KeepaliveReleased,
    /// The idle timer started with this sequence number fired.
    IdleTimerFired {
        /// The sequence number the timer was started with.
        sequence: u64,
    },
    /// The browser is about to dispatch `onSuspend` for this sequence number (Chromium's
    /// `ShouldSuspend` ping): it goes ahead only if nothing happened since the idle timer fired.
    ShouldSuspend {
        /// The sequence number of the idle timer that fired.
        sequence: u64,
    },
    /// `onSuspend`'s listeners have run (Chromium's `SuspendAck`).
    SuspendAcked,
    /// The close timer started with this sequence number fired.
    CloseTimerFired {
        /// The sequence number the timer was started with.
        sequence: u64,
    },
    /// An event or message arrived for the page.
    Activity,
    /// The browser stops, or the extension goes away: unload without `onSuspend`.
    Shutdown,
    /// Something that restarts the idle timer without holding the page (Firefox's events and
    /// API calls).
    Pulse,
    /// Something that forbids suspending, without touching the idle timer, was taken.
    BlockerAcquired,
    /// Such a thing was given back.
    BlockerReleased,
}

/// What the browser must do after a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Create the page and run its top-level script.
    LoadPage,
    /// Dispatch the queued work, in order.
    RunQueuedWork,
    /// Fail the queued work: the page did not load.
    FailQueuedWork,
    /// Start the idle timer.
    StartIdleTimer {
        /// The sequence number that must still be current when it fires.
        sequence: u64,
        /// The idle delay.
        after: Duration,
    },
    /// Ask to suspend: dispatch `onSuspend` if [`Input::ShouldSuspend`] agrees.
    RequestSuspend {
        /// The sequence number of the idle timer that fired.
        sequence: u64,
    },
    /// Dispatch `onSuspend` now.
    DispatchOnSuspend,
    /// Start the close timer (the suspending window).
    StartCloseTimer {
        /// The sequence number that must still be current when it fires.
        sequence: u64,
        /// The suspending window.
        after: Duration,
    },
    /// Dispatch `onSuspendCanceled`.
    DispatchOnSuspendCanceled,
    /// Unload the page: drop its script, its timers and its pending work.
    Unload,
}

/// The outcome of one call to [`Lifecycle::transition`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The state before.
    pub from: PageState,
    /// The state after.
    pub to: PageState,
    /// What the browser must do, in order.
    pub effects: Vec<Effect>,
    /// Why, in a learner's words; empty when nothing noteworthy happened.
    pub note: &'static str,
}

/// Where work for a background page goes: the one rule every kind of work follows (an event,
/// a message channel, `getBackgroundPage`), decided by the page's state alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// The page is loaded and not closing: the work runs now.
    Now,
    /// The page is closing: the work cancels the suspend at once, then runs now.
    CancelSuspendThenNow,
    /// The page is not loaded, or still loading: the work waits in the page's queue (the
    /// lazy background task queue), and the page loads for it.
    Queue,
    /// The page is not loaded and this work does not wake it.
    DoesNotWake,
}

/// The lifecycle of one extension's background page.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    state: PageState,
    model: BackgroundModel,
    keepalive: u32,
    blockers: u32,
    sequence: u64,
    timers: Timers,
}

impl Lifecycle {
    /// A Chromium page that is not loaded: an event page, or a persistent page, which never
    /// suspends.
    #[cfg(test)]
    pub fn new(persistent: bool, timers: Timers) -> Self {
        let model = if persistent {
            BackgroundModel::Persistent
        } else {
            BackgroundModel::EventPage
        };
        Lifecycle::with_model(model, timers)
    }

    /// A background of the given model that is not loaded.
    pub fn with_model(model: BackgroundModel, timers: Timers) -> Self {
        Lifecycle {
            state: PageState::Unloaded,
            model,
            keepalive: 0,
            blockers: 0,
            sequence: 0,
            timers,
        }
    }

    /// How this background lives and dies.
    pub fn model(&self) -> BackgroundModel {
        self.model
    }

    /// The current state.
    pub fn state(&self) -> PageState {
        self.state
    }

    /// Whether this is a persistent background page.
    pub fn is_persistent(&self) -> bool {
        self.model == BackgroundModel::Persistent
    }

    /// The keepalive count.
    pub fn keepalive(&self) -> u32 {
        self.keepalive
    }

    /// The current close sequence number.
    #[cfg(test)]
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// Where work for this page goes now. `wakes` says whether the work loads a page that is
    /// not loaded (messages and `getBackgroundPage` always do; an event, if the page listened
    /// to it when it last ran, or if it is `onInstalled`).
    pub(crate) fn route(&self, wakes: bool) -> Route {
        match self.state {
            PageState::Unloaded if wakes => Route::Queue,
            PageState::Unloaded => Route::DoesNotWake,
            PageState::Loading => Route::Queue,
            PageState::Closing => Route::CancelSuspendThenNow,
            PageState::Active => Route::Now,
        }
    }

    /// The one transition function: applies `input` and says what to do.
    pub fn transition(&mut self, input: Input) -> Transition {
        let from = self.state;
        let mut effects = Vec::new();
        let mut note = "";
        match (self.state, input) {
            (PageState::Unloaded, Input::WorkQueued) => {
                self.state = PageState::Loading;
                effects.push(Effect::LoadPage);
                note = "work arrived for a page that is not loaded: the page is created and its script runs from the top";
            }
            (PageState::Loading, Input::LoadFinished) => {
                self.state = PageState::Active;
                effects.push(Effect::RunQueuedWork);
                if self.keepalive == 0 {
                    self.start_idle(&mut effects);
                }
                note = "the top-level script has run; queued work is dispatched now, in order";
            }
            (PageState::Loading, Input::LoadFailed) => {
                self.state = PageState::Unloaded;
                effects.push(Effect::FailQueuedWork);
                note =
                    "the top-level script failed: the page did not load and its queued work fails";
            }
            (_, Input::KeepaliveAcquired) => {
                self.keepalive += 1;
                if self.keepalive == 1 && self.state == PageState::Active {
                    // Chromium's OnLazyBackgroundPageActive: a new sequence number cancels the
                    // idle timer.
                    self.sequence += 1;
                }
            }
            (_, Input::KeepaliveReleased) => {
                self.keepalive = self.keepalive.saturating_sub(1);
                if self.keepalive == 0 && self.state == PageState::Active {
                    self.start_idle(&mut effects);
                }
            }
            (PageState::Active, Input::IdleTimerFired { sequence })
                if sequence == self.sequence && self.keepalive == 0 && !self.is_persistent() =>
            {
                if self.blockers > 0 {
                    // Firefox: a native port, a pending sendNativeMessage or a pending listener
                    // promise: wait another idle period.
                    self.start_idle(&mut effects);
                    note = "the idle timer fired, but something that forbids suspending is still pending: the page waits another idle period";
                } else {
                    effects.push(Effect::RequestSuspend { sequence });
                }
            }
            (PageState::Active, Input::ShouldSuspend { sequence })
                if sequence == self.sequence && self.keepalive == 0 && self.blockers == 0 =>
            {
                match self.model {
                    BackgroundModel::ServiceWorker => {
                        self.state = PageState::Unloaded;
                        effects.push(Effect::Unload);
                        note = "the service worker was idle for the whole idle delay: it is stopped (service workers get no onSuspend)";
                    }
                    BackgroundModel::FirefoxEventPage => {
                        self.state = PageState::Closing;
                        effects.push(Effect::DispatchOnSuspend);
                        note = "the page was idle for the whole idle delay: onSuspend is dispatched and awaited; the page stops when its listeners are done, unless an event cancels it first";
                    }
                    _ => {
                        effects.push(Effect::DispatchOnSuspend);
                        note =
                            "the page was idle for the whole idle delay: onSuspend is dispatched";
                    }
                }
            }
            (PageState::Active, Input::SuspendAcked)
                if self.model == BackgroundModel::EventPage =>
            {
                self.state = PageState::Closing;
                effects.push(Effect::StartCloseTimer {
                    sequence: self.sequence,
                    after: self.timers.suspending_window,
                });
                note = "onSuspend's listeners have run: the page closes when the suspending window ends";
            }
            (PageState::Closing, Input::SuspendAcked)
                if self.model == BackgroundModel::FirefoxEventPage =>
            {
                self.state = PageState::Unloaded;
                effects.push(Effect::Unload);
                note = "onSuspend's listeners are done and nothing cancelled the suspend: the page stops (Firefox has no fixed window)";
            }
            (PageState::Closing, Input::CloseTimerFired { sequence })
                if sequence == self.sequence =>
            {
                if self.keepalive > 0 {
                    self.cancel_suspend(&mut effects);
                    note = "something still held the page alive when the suspending window ended: the suspend is cancelled";
                } else {
                    self.state = PageState::Unloaded;
                    effects.push(Effect::Unload);
                    note = "the suspending window ended with nothing keeping the page alive: it is unloaded";
                }
            }
            (PageState::Closing, Input::Activity) => {
                self.cancel_suspend(&mut effects);
                note =
                    "an event arrived while the page was closing: the suspend is cancelled at once";
            }
            (PageState::Active, Input::Pulse) if self.keepalive == 0 => {
                self.start_idle(&mut effects);
            }
            (_, Input::BlockerAcquired) => self.blockers += 1,
            (_, Input::BlockerReleased) => self.blockers = self.blockers.saturating_sub(1),
            (PageState::Unloaded, Input::Shutdown) => {}
            (_, Input::Shutdown) => {
                self.state = PageState::Unloaded;
                effects.push(Effect::Unload);
                note = "the page is closed without onSuspend";
            }
            // Stale timers, work for a page that is already loading or loaded, and the like.
            _ => {}
        }
        Transition {
            from,
            to: self.state,
            effects,
            note,
        }
    }

    fn start_idle(&mut self, effects: &mut Vec<Effect>) {
        if self.is_persistent() {
            return;
        }
        self.sequence += 1;
        effects.push(Effect::StartIdleTimer {
            sequence: self.sequence,
            after: self.timers.idle_delay,
        });
    }

    /// Chromium's `CancelSuspend`: not closing any more, `onSuspendCanceled`, and an
    /// instantaneous keepalive increment and decrement that starts a fresh idle period.
    fn cancel_suspend(&mut self, effects: &mut Vec<Effect>) {
        self.state = PageState::Active;
        effects.push(Effect::DispatchOnSuspendCanceled);
        self.sequence += 1;
        if self.keepalive == 0 {
            self.start_idle(effects);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_loads_for_queued_work_and_idles_once_it_is_done() {
        let mut page = Lifecycle::new(false, Timers::default());
        assert_eq!(page.route(true), Route::Queue);
        assert_eq!(page.route(false), Route::DoesNotWake);
        assert_eq!(
            page.transition(Input::WorkQueued).effects,
            [Effect::LoadPage]
        );
        assert_eq!(page.route(false), Route::Queue);
        page.transition(Input::KeepaliveAcquired); // the page is being created
        page.transition(Input::LoadFinished);
        let t = page.transition(Input::KeepaliveReleased); // the queued work is done
        assert!(matches!(t.effects[..], [Effect::StartIdleTimer { .. }]));
        assert_eq!(page.state(), PageState::Active);
        assert_eq!(page.route(false), Route::Now);
    }

    fn loaded(persistent: bool) -> Lifecycle {
        let mut page = Lifecycle::new(persistent, Timers::default());
        page.transition(Input::WorkQueued);
        page.transition(Input::KeepaliveAcquired);
        page.transition(Input::LoadFinished);
        page
    }

    /// Idles a loaded page through onSuspend; returns the close timer's sequence number.
    fn to_closing(page: &mut Lifecycle) -> u64 {
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        page.transition(Input::IdleTimerFired { sequence: seq });
        page.transition(Input::ShouldSuspend { sequence: seq });
        match page.transition(Input::SuspendAcked).effects[..] {
            [Effect::StartCloseTimer { sequence, .. }] => sequence,
            ref other => panic!("no close timer in {other:?}"),
        }
    }

    fn idle_sequence(t: &Transition) -> u64 {
        match t.effects[..] {
            [Effect::StartIdleTimer { sequence, .. }] => sequence,
            _ => panic!("no idle timer in {t:?}"),
        }
    }

    #[test]
    fn a_keepalive_cancels_a_pending_idle_timer() {
        let mut page = loaded(false);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        page.transition(Input::KeepaliveAcquired);
        assert!(page
            .transition(Input::IdleTimerFired { sequence: seq })
            .effects
            .is_empty());
    }

    #[test]
    fn suspend_then_unload() {
        let mut page = loaded(false);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        assert_eq!(
            page.transition(Input::IdleTimerFired { sequence: seq })
                .effects,
            [Effect::RequestSuspend { sequence: seq }]
        );
        assert_eq!(
            page.transition(Input::ShouldSuspend { sequence: seq })
                .effects,
            [Effect::DispatchOnSuspend]
        );
        let t = page.transition(Input::SuspendAcked);
        let Effect::StartCloseTimer { sequence, after } = t.effects[0] else {
            panic!()
        };
        assert_eq!(after, Duration::from_secs(5));
        assert_eq!(page.state(), PageState::Closing);
        let t = page.transition(Input::CloseTimerFired { sequence });
        assert_eq!(t.effects, [Effect::Unload]);
        assert_eq!(page.state(), PageState::Unloaded);
    }

    #[test]
    fn a_keepalive_held_at_the_end_of_the_window_cancels() {
        let mut page = loaded(false);
        let sequence = to_closing(&mut page);
        // Taken while closing: no new idle timer, no cancel yet.
        assert!(page.transition(Input::KeepaliveAcquired).effects.is_empty());
        let t = page.transition(Input::CloseTimerFired { sequence });
        assert_eq!(t.effects, [Effect::DispatchOnSuspendCanceled]);
        assert_eq!(page.state(), PageState::Active);
        // The fresh idle period starts when the keepalive goes.
        idle_sequence(&page.transition(Input::KeepaliveReleased));
    }

    #[test]
    fn a_keepalive_released_within_the_window_does_not_keep_the_page() {
        let mut page = loaded(false);
        let sequence = to_closing(&mut page);
        page.transition(Input::KeepaliveAcquired);
        assert!(page.transition(Input::KeepaliveReleased).effects.is_empty());
        assert_eq!(
            page.transition(Input::CloseTimerFired { sequence }).effects,
            [Effect::Unload]
        );
    }

    #[test]
    fn activity_while_closing_cancels_at_once_and_restarts_idle() {
        let mut page = loaded(false);
        to_closing(&mut page);
        let t = page.transition(Input::Activity);
        assert_eq!(t.effects[0], Effect::DispatchOnSuspendCanceled);
        assert!(matches!(t.effects[1], Effect::StartIdleTimer { .. }));
        assert_eq!(page.state(), PageState::Active);
    }

    #[test]
    fn should_suspend_is_refused_after_activity() {
        let mut page = loaded(false);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        page.transition(Input::IdleTimerFired { sequence: seq });
        page.transition(Input::KeepaliveAcquired);
        page.transition(Input::KeepaliveReleased);
        assert!(page
            .transition(Input::ShouldSuspend { sequence: seq })
            .effects
            .is_empty());
    }

    #[test]
    fn persistent_pages_never_start_an_idle_timer() {
        let mut page = loaded(true);
        assert!(page.transition(Input::KeepaliveReleased).effects.is_empty());
        assert!(page
            .transition(Input::IdleTimerFired {
                sequence: page.sequence()
            })
            .effects
            .is_empty());
        assert_eq!(page.state(), PageState::Active);
    }

    #[test]
    fn a_failed_load_fails_the_queue() {
        let mut page = Lifecycle::new(false, Timers::default());
        page.transition(Input::WorkQueued);
        let t = page.transition(Input::LoadFailed);
        assert_eq!(t.effects, [Effect::FailQueuedWork]);
        assert_eq!(page.state(), PageState::Unloaded);
    }
    fn loaded_as(model: BackgroundModel) -> Lifecycle {
        let mut page = Lifecycle::with_model(model, Timers::default());
        page.transition(Input::WorkQueued);
        page.transition(Input::KeepaliveAcquired);
        page.transition(Input::LoadFinished);
        page
    }

    #[test]
    fn a_service_worker_stops_without_on_suspend() {
        let mut page = loaded_as(BackgroundModel::ServiceWorker);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        page.transition(Input::IdleTimerFired { sequence: seq });
        let t = page.transition(Input::ShouldSuspend { sequence: seq });
        assert_eq!(t.effects, [Effect::Unload]);
        assert_eq!(page.state(), PageState::Unloaded);
    }

    #[test]
    fn a_firefox_page_stops_when_on_suspend_is_done() {
        let mut page = loaded_as(BackgroundModel::FirefoxEventPage);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        page.transition(Input::IdleTimerFired { sequence: seq });
        let t = page.transition(Input::ShouldSuspend { sequence: seq });
        assert_eq!(t.effects, [Effect::DispatchOnSuspend]);
        assert_eq!(page.state(), PageState::Closing);
        // A pulse (an API call made in onSuspend) does not cancel it.
        assert!(page.transition(Input::Pulse).effects.is_empty());
        assert_eq!(
            page.transition(Input::SuspendAcked).effects,
            [Effect::Unload]
        );
    }

    #[test]
    fn a_blocker_makes_the_idle_timer_wait_again_without_being_reset_by_it() {
        let mut page = loaded_as(BackgroundModel::FirefoxEventPage);
        let seq = idle_sequence(&page.transition(Input::KeepaliveReleased));
        assert!(page.transition(Input::BlockerAcquired).effects.is_empty());
        let again = idle_sequence(&page.transition(Input::IdleTimerFired { sequence: seq }));
        assert!(page.transition(Input::BlockerReleased).effects.is_empty());
        assert_eq!(
            page.transition(Input::IdleTimerFired { sequence: again })
                .effects,
            [Effect::RequestSuspend { sequence: again }]
        );
    }

    #[test]
    fn a_pulse_restarts_the_idle_timer() {
        let mut page = loaded_as(BackgroundModel::FirefoxEventPage);
        let first = idle_sequence(&page.transition(Input::KeepaliveReleased));
        let second = idle_sequence(&page.transition(Input::Pulse));
        assert!(second > first);
        assert!(page
            .transition(Input::IdleTimerFired { sequence: first })
            .effects
            .is_empty());
    }
}
