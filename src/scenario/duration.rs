//! Spans of virtual time as a scenario file writes them: `"1m 30s"`, `"250ms"`, or a number of
//! milliseconds.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::SimInstant;

/// A span of virtual time: a string such as `"10s"`, `"1m 30s"`, `"250ms"`, `"2h"` (parsed by
/// `humantime`), or a whole number of milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(pub Duration);

impl Dur {
    /// The instant this span after the start of the simulation.
    pub fn instant(self) -> SimInstant {
        SimInstant::from_start(self.0)
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            f.write_str("0s")
        } else {
            write!(f, "{}", humantime::format_duration(self.0))
        }
    }
}

/// The longest span, and the latest instant, a scenario file may write: virtual time's upper
/// bound, [`SimInstant::MAX`] after the start (365 000 days, about 1 000 years). A larger one
/// is an error where the file writes it, before anything runs.
pub const MAX_DURATION: Duration = SimInstant::MAX.since_start();

/// How the bound reads in errors.
pub(crate) const BEYOND: &str = "virtual time ends 365000 days (about 1 000 years) after the start of the simulation (SimInstant::MAX)";

/// `duration` if it is within [`MAX_DURATION`]; `written` is how the file wrote it.
fn bounded<E: de::Error>(duration: Duration, written: fmt::Arguments<'_>) -> Result<Dur, E> {
    if duration <= MAX_DURATION {
        Ok(Dur(duration))
    } else {
        Err(E::custom(format_args!(
            "the duration {written} is too long: {BEYOND}"
        )))
    }
}

const EXPECTED: &str =
    "a duration: a string such as \"10s\", \"1m 30s\" or \"250ms\", or a whole number of milliseconds";

struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Dur, E> {
        bounded(
            Duration::from_millis(ms),
            format_args!("{ms} (milliseconds)"),
        )
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Dur, E> {
        let ms =
            u64::try_from(ms).map_err(|_| E::invalid_value(de::Unexpected::Signed(ms), &self))?;
        self.visit_u64(ms)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Dur, E> {
        let duration = humantime::parse_duration(text).map_err(|e| {
            E::custom(format_args!(
                "invalid duration \"{text}\" ({e}); expected {EXPECTED}"
            ))
        })?;
        bounded(duration, format_args!("\"{text}\""))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dur, D::Error> {
        deserializer.deserialize_any(DurVisitor)
    }
}

impl JsonSchema for Dur {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A span of virtual time: a string such as \"10s\", \"1m 30s\", \"250ms\" or \"2h\", or a whole number of milliseconds; at most 365000 days (about 1 000 years), where virtual time ends.",
            "oneOf": [
                {"type": "string", "pattern": "^\\s*[0-9]+\\s*[a-zµ]+(\\s*[0-9]+\\s*[a-zµ]+)*\\s*$"},
                {"type": "integer", "minimum": 0, "maximum": 31_536_000_000_000u64}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Dur, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn strings_and_milliseconds() {
        assert_eq!(parse("\"1m 30s\""), Ok(Dur(Duration::from_secs(90))));
        assert_eq!(parse("\"250ms\""), Ok(Dur(Duration::from_millis(250))));
        assert_eq!(parse("1500"), Ok(Dur(Duration::from_millis(1500))));
        assert_eq!(Dur(Duration::from_secs(90)).to_string(), "1m 30s");
        assert_eq!(Dur(Duration::ZERO).to_string(), "0s");
    }

    #[test]
    fn bad_durations_say_what_was_expected() {
        let err = parse("\"ten seconds\"").unwrap_err();
        assert!(err.starts_with("invalid duration \"ten seconds\""), "{err}");
        assert!(err.contains("expected a duration"), "{err}");
        let err = parse("-5").unwrap_err();
        assert!(err.contains("expected a duration"), "{err}");
        let err = parse("true").unwrap_err();
        assert!(err.contains("invalid type: boolean `true`"), "{err}");
    }

    /// Regression: `"999999999999d"` was accepted, and the run then never finished. Every
    /// duration is now at most virtual time's upper bound, and one that overflows while it is
    /// parsed is an error too, never a panic.
    #[test]
    fn durations_beyond_the_end_of_virtual_time_are_refused() {
        assert_eq!(parse("\"365000d\""), Ok(Dur(MAX_DURATION)));
        assert_eq!(
            parse(&MAX_DURATION.as_millis().to_string()),
            Ok(Dur(MAX_DURATION))
        );
        let err = parse("\"999999999999d\"").unwrap_err();
        assert!(
            err.starts_with("the duration \"999999999999d\" is too long: virtual time ends 365000 days (about 1 000 years) after the start"),
            "{err}"
        );
        let err = parse("\"365000d 1ns\"").unwrap_err();
        assert!(err.contains("is too long"), "{err}");
        let err = parse("18446744073709551615").unwrap_err();
        assert!(
            err.starts_with("the duration 18446744073709551615 (milliseconds) is too long"),
            "{err}"
        );
        for overflowing in [
            "\"18446744073709551615s 18446744073709551615s\"",
            "\"99999999999999999999999999d\"",
            "\"18446744073709551615y\"",
            "\"1.99999999999999999999999999s\"",
        ] {
            let err = parse(overflowing).unwrap_err();
            assert!(
                err.contains("invalid duration") || err.contains("too long"),
                "{overflowing}: {err}"
            );
        }
    }
}
