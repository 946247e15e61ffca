//! The JSON Schema of scenario files, generated from the format's types so that it cannot
//! drift from what the runner accepts. `scenarios/schema/scenario.schema.json` is this, checked in,
//! for editors to complete and validate scenario files.

use super::format::Scenario;

/// The JSON Schema of scenario files, as pretty-printed JSON with a final newline.
pub fn schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    // A schema is plain JSON: it always serialises.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
