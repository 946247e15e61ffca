//! One JavaScript engine per extension: a QuickJS runtime with its own heap, memory limit and
//! interrupt budget. Its job queue (promise reactions) runs only when the simulator runs it:
//! after each entry into JavaScript, to the end, one job at a time.

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::{Context, Ctx, Runtime};

use crate::modules::{Load, ModuleHost, Resolve};

/// Limits of one extension's engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsLimits {
    /// The most memory the extension's JavaScript heap may use, in bytes (default 64 MiB).
    pub memory: usize,
    /// How many times QuickJS may ask whether to go on during one entry into JavaScript (a
    /// listener, a timer, the top-level script) before the code is stopped as runaway: QuickJS
    /// asks about every 10 000 instructions (default 100 000, a few seconds of work).
    pub interrupt_budget: u64,
}

impl Default for JsLimits {
    fn default() -> Self {
        JsLimits {
            memory: 64 * 1024 * 1024,
            interrupt_budget: 100_000,
        }
    }
}

thread_local! {
    static ENGINES: Cell<usize> = const { Cell::new(0) };
}

/// How many extensions' JavaScript engines (QuickJS runtimes) are alive on this thread: one
/// for each extension with a page loaded; a suspended extension has none.
pub fn live_engines() -> usize {
    ENGINES.with(Cell::get)
}

/// Counts one engine while it lives.
struct Live(&'static std::thread::LocalKey<Cell<usize>>);

impl Live {
    fn of(count: &'static std::thread::LocalKey<Cell<usize>>) -> Live {
        count.with(|n| n.set(n.get() + 1));
        Live(count)
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        self.0.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// An extension's engine.
pub(crate) struct Engine {
    runtime: Runtime,
    _live: Live,
    /// What is left of the interrupt budget of the entry that runs now.
    left: Rc<Cell<u64>>,
    limits: JsLimits,
}

impl Engine {
    /// A new engine with these limits, whose modules come from `modules`.
    pub(crate) fn new(limits: JsLimits, modules: &Rc<ModuleHost>) -> Result<Engine, String> {
        let runtime = Runtime::new().map_err(|e| format!("QuickJS could not start: {e}"))?;
        runtime.set_memory_limit(limits.memory);
        runtime.set_loader(Resolve(Rc::clone(modules)), Load(Rc::clone(modules)));
        let left = Rc::new(Cell::new(limits.interrupt_budget));
        let budget = Rc::clone(&left);
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let now = budget.get();
            if now == 0 {
                return true;
            }
            budget.set(now - 1);
            false
        })));
        Ok(Engine {
            runtime,
            _live: Live::of(&ENGINES),
            left,
            limits,
        })
    }

    /// A fresh context (one page load), with the standard built-ins. Not `Context::full`:
    /// QuickJS adds `DOMException` there only to the runtime's first context.
    pub(crate) fn context(&self) -> Result<Context, String> {
        Context::custom::<rquickjs::context::intrinsic::All>(&self.runtime)
            .map_err(|e| format!("QuickJS could not make a context: {e}"))
    }

    /// Enters JavaScript in `context`: runs `f` with a fresh interrupt budget, then every
    /// promise job it queued. A job that throws is reported to `uncaught`.
    pub(crate) fn enter<R>(
        &self,
        context: &Context,
        f: impl FnOnce(&Ctx<'_>) -> R,
        uncaught: impl Fn(String),
    ) -> R {
        self.left.set(self.limits.interrupt_budget);
        let result = context.with(|ctx| f(&ctx));
        self.run_jobs(uncaught);
        result
    }

    /// Runs the queued promise jobs, one at a time, to the end.
    fn run_jobs(&self, uncaught: impl Fn(String)) {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => {}
                Ok(false) => break,
                Err(job) => {
                    let message = job.0.with(|ctx| crate::convert::thrown(&ctx));
                    uncaught(format!("Uncaught (in promise) {message}"));
                }
            }
        }
    }
}
