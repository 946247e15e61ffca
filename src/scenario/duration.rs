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

const EXPECTED: &str =
    "a duration: a string such as \"10s\", \"1m 30s\" or \"250ms\", or a whole number of milliseconds";

struct DurVisitor;

impl Visitor<'_> for DurVisitor {
    type Value = Dur;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_u64<E: de::Error>(self, ms: u64) -> Result<Dur, E> {
        Ok(Dur(Duration::from_millis(ms)))
    }

    fn visit_i64<E: de::Error>(self, ms: i64) -> Result<Dur, E> {
        u64::try_from(ms)
            .map(|ms| Dur(Duration::from_millis(ms)))
            .map_err(|_| E::invalid_value(de::Unexpected::Signed(ms), &self))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Dur, E> {
        humantime::parse_duration(text).map(Dur).map_err(|e| {
            E::custom(format_args!(
                "invalid duration \"{text}\" ({e}); expected {EXPECTED}"
            ))
        })
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
            "description": "A span of virtual time: a string such as \"10s\", \"1m 30s\", \"250ms\" or \"2h\", or a whole number of milliseconds.",
            "oneOf": [
                {"type": "string", "pattern": "^\\s*[0-9]+\\s*[a-zµ]+(\\s*[0-9]+\\s*[a-zµ]+)*\\s*$"},
                {"type": "integer", "minimum": 0}
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
}
