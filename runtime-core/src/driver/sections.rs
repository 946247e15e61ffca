//! What the driving thread tells the watchdog: a section around each step, each dispatch and
//! each poll of a task, and, after a step, what to do if one overran.

use std::rc::Rc;

use crate::driver::core::Driver;
use crate::driver::executor::TaskOwner;
use crate::driver::inbox::TaskId;
use crate::driver::watchdog::{
    overrun_warning, Running, Runs, Section, StepKind, WatchdogAction, FOREIGN, STEP, TAG, TASK,
};
use crate::model::contexts::ContextId;
use crate::model::names::EventName;
use crate::model::trace_entry::TraceEvent;

impl Driver {
    /// Starts a section that runs a step of the given kind.
    #[inline]
    pub(crate) fn watched_step(&self, kind: StepKind) -> Section<'_> {
        self.beat.enter(STEP | kind as u64, None)
    }

    /// Starts a section that dispatches `event` to the listeners of `to`.
    pub(crate) fn watched_dispatch(&self, to: &ContextId, event: &EventName) -> Section<'_> {
        let running = self.read(|model| Running {
            extension: to.extension().cloned(),
            context: Some(model.trace_context(to)),
            what: Runs::Listener(event.clone()),
            at: model.now(),
        });
        self.beat
            .enter(STEP | StepKind::Listeners as u64, Some(running))
    }

    /// Starts a section that polls the task `id`.
    pub(crate) fn watched_task(&self, id: TaskId) -> Section<'_> {
        let running = self.executor.describe(id).map(|(owner, label)| {
            self.read(|model| {
                let (extension, context) = match &owner {
                    TaskOwner::Context(context) => (
                        context.extension().cloned(),
                        Some(model.trace_context(context)),
                    ),
                    TaskOwner::External => (None, None),
                };
                Running {
                    extension,
                    context,
                    what: Runs::Task(label),
                    at: model.now(),
                }
            })
        });
        self.beat.enter(TASK | (id.0 & !TAG), running)
    }

    /// Starts a section that polls the future of a `block_on` (task `id`).
    #[inline]
    pub(crate) fn watched_foreign(&self, id: TaskId) -> Section<'_> {
        self.beat.enter(FOREIGN | (id.0 & !TAG), None)
    }

    /// After a step: if a section of it overran the watchdog's limit, says so — by panicking
    /// with the watchdog's report, or (report mode) in the trace.
    #[inline]
    pub(crate) fn watchdog_check(self: &Rc<Self>) {
        if self.beat.overran() {
            self.overran();
        }
    }

    #[cold]
    fn overran(&self) {
        let Some((report, action)) = self.beat.take_overrun() else {
            return;
        };
        if action == WatchdogAction::Panic {
            panic!("{}", report.message.trim());
        }
        let message = overrun_warning(&report);
        self.with_model(|model| {
            model.record(
                report.extension.as_ref().map(|(id, _)| id),
                report.context.clone(),
                TraceEvent::Warning { message },
            )
        });
    }
}
