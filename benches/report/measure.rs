//! How the report measures: full or quick mode, warm-ups, the baseline and the simulator run
//! alternately, the best of several runs.

use std::time::Duration;

/// Full (`cargo bench`, which passes `--bench`) or quick (`cargo test`, which does not): quick
/// runs every figure once, on a fraction of the work, so that tests stay fast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// Quick mode: one short run of everything, no warm-up.
    pub quick: bool,
}

impl Mode {
    /// Quick unless the arguments hold `--bench`.
    pub fn from_args() -> Mode {
        Mode {
            quick: !std::env::args().any(|a| a == "--bench"),
        }
    }

    /// How many timed runs of each side: the best one counts.
    pub fn runs(self) -> usize {
        if self.quick {
            1
        } else {
            5
        }
    }

    /// `full` operations in full mode, `quick` in quick mode.
    pub fn ops(self, full: u64, quick: u64) -> u64 {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// `"quick"` or `"full"`.
    pub fn name(self) -> &'static str {
        if self.quick {
            "quick"
        } else {
            "full"
        }
    }
}

/// Runs `baseline` and `measured` alternately (so that a neighbour's load on the machine falls
/// on both alike), `mode.runs()` times each after one untimed warm-up of each in full mode;
/// each says how long its timed part took. Gives the shortest time of each.
pub fn best_of(
    mode: Mode,
    baseline: impl FnMut() -> Duration,
    measured: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    best_of_runs(mode, mode.runs(), baseline, measured)
}

/// [`best_of`] with `full_runs` timed runs in full mode (one in quick mode): more, shorter
/// runs for a figure that a neighbour's load disturbs easily.
pub fn best_of_runs(
    mode: Mode,
    full_runs: usize,
    mut baseline: impl FnMut() -> Duration,
    mut measured: impl FnMut() -> Duration,
) -> (Duration, Duration) {
    if !mode.quick {
        baseline();
        measured();
    }
    let runs = if mode.quick { 1 } else { full_runs };
    let (mut best_baseline, mut best_measured) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        best_baseline = best_baseline.min(baseline());
        best_measured = best_measured.min(measured());
    }
    (best_baseline, best_measured)
}

/// The shortest of `mode.runs()` timed runs of `f`, after one untimed warm-up in full mode.
pub fn best(mode: Mode, mut f: impl FnMut() -> Duration) -> Duration {
    best_of(mode, || Duration::ZERO, &mut f).1
}

/// Operations per second.
pub fn per_second(ops: u64, elapsed: Duration) -> f64 {
    ops as f64 / elapsed.as_secs_f64()
}

/// Nanoseconds per operation.
pub fn ns_per_op(ops: u64, elapsed: Duration) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}
