//! Virtual time: instants on the simulation's one clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};
use std::time::Duration;

/// A point on the simulation's virtual clock, measured from the start of the simulation.
///
/// Nothing in the simulation reads wall time: every timer, every event and every trace entry
/// carries a `SimInstant`. It displays as `+HH:MM:SS.mmm` (days are added in front when the
/// simulation runs that long), which is the form the timelines print.
///
/// ```
/// use runtime_events::SimInstant;
/// use std::time::Duration;
///
/// let t = SimInstant::ZERO + Duration::from_millis(15_250);
/// assert_eq!(t.to_string(), "+00:00:15.250");
/// assert_eq!(t - SimInstant::ZERO, Duration::from_millis(15_250));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimInstant(Duration);

impl SimInstant {
    /// The start of the simulation.
    pub const ZERO: SimInstant = SimInstant(Duration::ZERO);

    /// The latest instant the virtual clock can reach: 365 000 days (about 1 000 years) after
    /// the start. Every span a user can ask the simulation to cover is checked against it, so
    /// that no arithmetic on virtual time overflows and a mistyped duration gets a clear error
    /// instead of a run that never ends.
    pub const MAX: SimInstant = SimInstant(Duration::from_secs(365_000 * 86_400));

    /// `self + duration`, or `None` beyond [`SimInstant::MAX`].
    pub fn checked_add(self, duration: Duration) -> Option<SimInstant> {
        let at = self.0.checked_add(duration)?;
        (at <= SimInstant::MAX.0).then_some(SimInstant(at))
    }

    /// The instant `elapsed` after the start of the simulation.
    pub const fn from_start(elapsed: Duration) -> Self {
        SimInstant(elapsed)
    }

    /// Time elapsed since the start of the simulation.
    pub const fn since_start(self) -> Duration {
        self.0
    }

    /// Milliseconds since the start of the simulation (the unit of the JSON trace).
    pub fn as_millis(self) -> u64 {
        u64::try_from(self.0.as_millis()).unwrap_or(u64::MAX)
    }

    /// `self - earlier`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: SimInstant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

impl Add<Duration> for SimInstant {
    type Output = SimInstant;
    fn add(self, rhs: Duration) -> SimInstant {
        SimInstant(self.0.saturating_add(rhs))
    }
}

impl AddAssign<Duration> for SimInstant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub for SimInstant {
    type Output = Duration;
    fn sub(self, rhs: SimInstant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Display for SimInstant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let total_ms = self.0.as_millis();
        let ms = total_ms % 1000;
        let total_s = total_ms / 1000;
        let (s, m, h, d) = (
            total_s % 60,
            (total_s / 60) % 60,
            (total_s / 3600) % 24,
            total_s / 86_400,
        );
        if d > 0 {
            write!(f, "+{d}d{h:02}:{m:02}:{s:02}.{ms:03}")
        } else {
            write!(f, "+{h:02}:{m:02}:{s:02}.{ms:03}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_days_when_long() {
        let t = SimInstant::from_start(Duration::from_secs(2 * 86_400 + 3661));
        assert_eq!(t.to_string(), "+2d01:01:01.000");
    }

    #[test]
    fn checked_addition_stops_at_the_maximum() {
        let day = Duration::from_secs(86_400);
        assert_eq!(
            SimInstant::ZERO.checked_add(day * 365_000),
            Some(SimInstant::MAX)
        );
        assert_eq!(SimInstant::MAX.checked_add(Duration::from_nanos(1)), None);
        assert_eq!(SimInstant::ZERO.checked_add(Duration::MAX), None);
    }

    #[test]
    fn subtraction_saturates() {
        let a = SimInstant::from_start(Duration::from_secs(1));
        assert_eq!(SimInstant::ZERO - a, Duration::ZERO);
    }
}
