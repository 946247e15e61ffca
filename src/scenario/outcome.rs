//! Outcomes — what an action recorded with `as` got: the answer to a message, an API's result,
//! an error, a port's disconnection — and the journal that keeps them, in order, for
//! expectations and the timeline.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ExtensionId, SimInstant, TraceContext};

/// What an action got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeValue {
    /// A value: a message's response, an API's result.
    Value(Value),
    /// `undefined`: a message nobody answered (promise form), an API with no result.
    Undefined,
    /// The call failed, or threw, with exactly this message.
    Error(String),
    /// The port's `onDisconnect` listener ran; the `runtime.lastError` it read, or `null`.
    Disconnected(Option<String>),
}

impl fmt::Display for OutcomeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutcomeValue::Value(value) => write!(f, "value {value}"),
            OutcomeValue::Undefined => f.write_str("undefined"),
            OutcomeValue::Error(message) => write!(f, "error {}", Value::from(message.as_str())),
            OutcomeValue::Disconnected(None) => f.write_str("disconnected"),
            OutcomeValue::Disconnected(Some(message)) => {
                write!(
                    f,
                    "disconnected with lastError {}",
                    Value::from(message.as_str())
                )
            }
        }
    }
}

/// Something declared code did that the browser's trace does not show: what an action
/// recorded with `as` got, or an error its code threw that no listener or script caught.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Happening {
    /// When, in virtual time.
    #[serde(rename = "at_ms", serialize_with = "millis")]
    pub at: SimInstant,
    /// The extension whose code it was (none for a web page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extension: Option<ExtensionId>,
    /// The context whose code it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<TraceContext>,
    /// What happened.
    #[serde(flatten)]
    pub what: What,
}

/// What a [`Happening`] is.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum What {
    /// An action recorded with `as` got this.
    Outcome {
        /// The name given with `as`.
        label: String,
        /// What it got.
        outcome: OutcomeValue,
    },
    /// Code threw outside any listener (a timer's callback, the rest of a plain function after
    /// it waited, a step's actions), and nothing caught it.
    Uncaught {
        /// The error's message.
        message: String,
    },
}

impl fmt::Display for What {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            What::Outcome { label, outcome } => write!(f, "{label} = {outcome}"),
            What::Uncaught { message } => write!(f, "Uncaught Error: {message}"),
        }
    }
}

fn millis<S: serde::Serializer>(at: &SimInstant, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(at.as_millis())
}

/// The happenings of one run, in the order they happened. Cheap to clone: clones share it.
#[derive(Clone, Debug, Default)]
pub struct Journal(Arc<Mutex<Vec<Happening>>>);

impl Journal {
    fn lock(&self) -> MutexGuard<'_, Vec<Happening>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records one.
    pub fn record(&self, happening: Happening) {
        self.lock().push(happening);
    }

    /// Everything recorded so far.
    pub fn all(&self) -> Vec<Happening> {
        self.lock().clone()
    }

    /// How many have been recorded.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_read_as_written_in_a_scenario() {
        let parsed: Vec<OutcomeValue> = serde_json::from_value(json!([
            {"value": {"a": 1}}, "undefined", {"error": "boom"}, {"disconnected": null}
        ]))
        .unwrap();
        assert_eq!(
            parsed,
            [
                OutcomeValue::Value(json!({"a": 1})),
                OutcomeValue::Undefined,
                OutcomeValue::Error("boom".into()),
                OutcomeValue::Disconnected(None),
            ]
        );
        assert_eq!(
            serde_json::to_value(&parsed[2]).unwrap(),
            json!({"error": "boom"})
        );
        assert_eq!(parsed[2].to_string(), "error \"boom\"");
    }
}
