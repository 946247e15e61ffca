//! The text form of a run: the timeline (virtual time, extension, context, what happened),
//! then each expectation, with expected against actual where one failed. Styled for a
//! terminal when asked; the caller strips the styles where colour does not belong.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::scenario::outcome::What;
use crate::scenario::run::{Line, Report};
use crate::{ExtensionId, TraceContext, TraceEvent};

/// The styles of the text form.
struct Styles {
    time: Style,
    who: Style,
    step: Style,
    remark: Style,
    lifecycle: Style,
    problem: Style,
    outcome: Style,
    passed: Style,
    failed: Style,
    title: Style,
}

impl Styles {
    fn new(styled: bool) -> Styles {
        let colour = |c: AnsiColor| {
            if styled {
                Style::new().fg_color(Some(c.into()))
            } else {
                Style::new()
            }
        };
        let plain = |s: Style| if styled { s } else { Style::new() };
        Styles {
            time: plain(Style::new().dimmed()),
            who: colour(AnsiColor::Cyan),
            step: plain(Style::new().bold()),
            remark: colour(AnsiColor::Magenta),
            lifecycle: colour(AnsiColor::Yellow),
            problem: colour(AnsiColor::Red),
            outcome: colour(AnsiColor::Green),
            passed: colour(AnsiColor::Green),
            failed: plain(Style::new().bold()).fg_color(if styled {
                Some(AnsiColor::Red.into())
            } else {
                None
            }),
            title: plain(Style::new().bold().underline()),
        }
    }
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

/// The run as text; `styled` adds ANSI colours.
pub fn text(report: &Report, styled: bool) -> String {
    let s = Styles::new(styled);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint(
            s.title,
            &format!(
                "{} — {} ({})",
                report.file.display(),
                report.name,
                report.profile
            )
        )
    );
    for line in wrap(&report.description, 96) {
        let _ = writeln!(out, "  {line}");
    }
    out.push('\n');
    for line in &report.lines {
        let at = paint(s.time, &line.at().to_string());
        match line {
            Line::Trace(entry) => {
                let who = name(report, entry.extension.as_ref());
                let context = entry
                    .context
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                let what = entry.event.to_string();
                let style = match &entry.event {
                    TraceEvent::Lifecycle { .. } => s.lifecycle,
                    TraceEvent::EventMissed { .. }
                    | TraceEvent::LateListener { .. }
                    | TraceEvent::ListenerFailed { .. }
                    | TraceEvent::TaskFailed { .. }
                    | TraceEvent::ScriptFailed { .. }
                    | TraceEvent::UncheckedLastError { .. }
                    | TraceEvent::Terminated { .. }
                    | TraceEvent::Warning { .. } => s.problem,
                    _ => Style::new(),
                };
                let _ = writeln!(
                    out,
                    "{at}  {} {context:<11} {}",
                    paint(s.who, &format!("{who:<16}")),
                    paint(style, &what)
                );
            }
            Line::Step {
                index,
                summary,
                remark,
                ..
            } => {
                if *remark {
                    let _ = writeln!(out, "{at}  {}", paint(s.remark, &format!("» {summary}")));
                } else {
                    let _ = writeln!(
                        out,
                        "{at}  {}",
                        paint(s.step, &format!("▶ step {index}: {summary}"))
                    );
                }
            }
            Line::Happening(happening) => {
                let who = name(report, happening.extension.as_ref());
                let context = happening
                    .context
                    .as_ref()
                    .map(TraceContext::to_string)
                    .unwrap_or_default();
                let style = match happening.what {
                    What::Outcome { .. } => s.outcome,
                    What::Uncaught { .. } => s.problem,
                };
                let _ = writeln!(
                    out,
                    "{at}  {} {context:<11} {}",
                    paint(s.who, &format!("{who:<16}")),
                    paint(style, &format!("← {}", happening.what))
                );
            }
        }
    }
    out.push('\n');
    if let Some(error) = &report.error {
        let _ = writeln!(out, "{} the run stopped: {error}", paint(s.failed, "✗"));
        let _ = writeln!(out, "  (the expectations were not checked)");
    } else if report.checks.is_empty() {
        let _ = writeln!(out, "no expectations");
    } else {
        let _ = writeln!(out, "expectations:");
    }
    for check in &report.checks {
        if check.passed {
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                paint(s.passed, "✓"),
                check.index,
                check.expected
            );
        } else {
            let _ = writeln!(
                out,
                "  {} [{}] {}",
                paint(s.failed, "✗"),
                check.index,
                check.expected
            );
            let _ = writeln!(out, "        expected: {}", check.expected);
            let _ = writeln!(out, "        actual:   {}", check.actual);
        }
    }
    out
}

/// The name of an extension as the trace gives it.
fn name(report: &Report, id: Option<&ExtensionId>) -> String {
    id.map(|id| {
        report
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    })
    .unwrap_or_default()
}

/// Greedy word wrap; paragraphs (blank lines) are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn descriptions_wrap_at_word_boundaries() {
        assert_eq!(
            wrap("one two three four\n\nfive", 9),
            ["one two", "three", "four", "", "five"]
        );
    }
}
