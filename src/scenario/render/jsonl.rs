//! The JSON Lines form of a run: one JSON object per line — the scenario, every entry of the
//! timeline (the browser's trace entries as `Trace::to_jsonl` writes them, the steps, what
//! declared code recorded), each checked expectation, and the result. The same file gives the
//! same bytes at every run.

use serde_json::json;

use crate::scenario::run::{Line, Report};

/// The run as JSON Lines.
pub fn jsonl(report: &Report) -> String {
    let mut out = String::new();
    let mut push = |value: String| {
        out.push_str(&value);
        out.push('\n');
    };
    push(
        json!({
            "kind": "scenario",
            "file": report.file.display().to_string(),
            "name": report.name,
            "profile": report.profile.as_str(),
        })
        .to_string(),
    );
    for line in &report.lines {
        let text = match line {
            Line::Trace(entry) => serde_json::to_string(entry),
            Line::Step {
                at,
                index,
                summary,
                remark: false,
            } => Ok(
                json!({"at_ms": at.as_millis(), "kind": "step", "index": index, "step": summary})
                    .to_string(),
            ),
            Line::Step {
                at,
                index,
                summary,
                remark: true,
            } => Ok(
                json!({"at_ms": at.as_millis(), "kind": "say", "index": index, "text": summary})
                    .to_string(),
            ),
            Line::Happening(happening) => serde_json::to_string(happening),
        };
        // Every line holds only strings, numbers and JSON values: it always serialises.
        if let Ok(text) = text {
            push(text);
        }
    }
    for check in &report.checks {
        push(
            json!({
                "kind": "expectation",
                "index": check.index,
                "passed": check.passed,
                "expected": check.expected,
                "actual": check.actual,
            })
            .to_string(),
        );
    }
    if let Some(error) = &report.error {
        push(json!({"kind": "error", "message": error.to_string()}).to_string());
    }
    push(
        json!({"kind": "result", "passed": report.passed(), "failed": report.failed()}).to_string(),
    );
    out
}
