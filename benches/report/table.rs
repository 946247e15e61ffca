//! The report's table: one figure per row, each a measured quantity beside its baseline, the
//! ratio of the two and the goal; printed as text while the report runs, as a Markdown table at
//! the end, and written as JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// A number with its unit, and what was measured to get it.
#[derive(Clone, Debug, Serialize)]
pub struct Quantity {
    /// What was measured: the code path or the reference it stands for.
    pub what: String,
    /// The value, in `unit`.
    pub value: f64,
    /// The unit, e.g. `events/s`.
    pub unit: &'static str,
}

impl Quantity {
    /// `value` `unit` of `what`.
    pub fn new(what: impl Into<String>, value: f64, unit: &'static str) -> Quantity {
        Quantity {
            what: what.into(),
            value,
            unit,
        }
    }

    fn shown(&self) -> String {
        format!("{} {}", number(self.value), self.unit)
    }
}

/// What a goal is a bound on.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    /// The ratio measured / baseline.
    Ratio,
    /// The measured value itself, in its unit.
    Measured,
}

/// A bound.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// At least this much.
    AtLeast(f64),
    /// At most this much.
    AtMost(f64),
}

/// The goal of a figure (issue 8): a bound on its ratio or on its measured value.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Goal {
    /// What the bound applies to.
    pub applies_to: Applies,
    /// The bound.
    pub bound: Bound,
}

impl Goal {
    /// The ratio must be at least `x`.
    pub fn ratio_at_least(x: f64) -> Goal {
        Goal {
            applies_to: Applies::Ratio,
            bound: Bound::AtLeast(x),
        }
    }

    /// The ratio must be at most `x`.
    pub fn ratio_at_most(x: f64) -> Goal {
        Goal {
            applies_to: Applies::Ratio,
            bound: Bound::AtMost(x),
        }
    }

    /// The measured value must be at most `x`, in its unit.
    pub fn measured_at_most(x: f64) -> Goal {
        Goal {
            applies_to: Applies::Measured,
            bound: Bound::AtMost(x),
        }
    }

    fn met_by(self, value: f64) -> bool {
        match self.bound {
            Bound::AtLeast(x) => value >= x,
            Bound::AtMost(x) => value <= x,
        }
    }

    fn shown(self, unit: &str) -> String {
        let (sign, x) = match self.bound {
            Bound::AtLeast(x) => ("≥", x),
            Bound::AtMost(x) => ("≤", x),
        };
        match self.applies_to {
            Applies::Ratio => format!("ratio {sign} {}", bound(x)),
            Applies::Measured => format!("{sign} {} {unit}", bound(x)),
        }
    }
}

/// One row of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Figure {
    /// Its number in issue 8's list (`1`, `5a`, …).
    pub id: &'static str,
    /// What it measures.
    pub name: String,
    /// The simulator's figure.
    pub measured: Quantity,
    /// The reference measured in the same run (or, where said, a fixed reference).
    pub baseline: Quantity,
    /// `measured.value / baseline.value`.
    pub ratio: f64,
    /// The goal, if the issue sets one.
    pub goal: Option<Goal>,
    /// Whether the goal is met (`None` without a goal).
    pub met: Option<bool>,
    /// Further figures that explain this one.
    pub notes: Vec<String>,
}

impl Figure {
    /// A figure without a goal; the ratio is `measured / baseline`.
    pub fn new(
        id: &'static str,
        name: impl Into<String>,
        measured: Quantity,
        baseline: Quantity,
    ) -> Figure {
        let ratio = measured.value / baseline.value;
        Figure {
            id,
            name: name.into(),
            measured,
            baseline,
            ratio,
            goal: None,
            met: None,
            notes: Vec::new(),
        }
    }

    /// Sets the goal, and whether it is met.
    pub fn goal(mut self, goal: Goal) -> Figure {
        let judged = match goal.applies_to {
            Applies::Ratio => self.ratio,
            Applies::Measured => self.measured.value,
        };
        self.met = Some(goal.met_by(judged));
        self.goal = Some(goal);
        self
    }

    /// Adds a line of explanation.
    pub fn note(mut self, note: impl Into<String>) -> Figure {
        self.notes.push(note.into());
        self
    }

    fn goal_shown(&self) -> String {
        self.goal
            .map_or_else(|| "—".to_owned(), |g| g.shown(self.measured.unit))
    }

    fn result_shown(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "—",
        }
    }

    /// The figure as a few lines of text.
    pub fn to_text(&self) -> String {
        let mut out = format!("{}. {}\n", self.id, self.name);
        let width = self.measured.what.len().max(self.baseline.what.len());
        for (label, q) in [("measured", &self.measured), ("baseline", &self.baseline)] {
            let _ = writeln!(out, "   {label}  {:<width$}  {:>16}", q.what, q.shown());
        }
        let _ = writeln!(
            out,
            "   ratio     {}   goal: {}   {}",
            number(self.ratio),
            self.goal_shown(),
            self.result_shown()
        );
        for note in &self.notes {
            let _ = writeln!(out, "   - {note}");
        }
        out
    }
}

/// All the figures as one Markdown table.
pub fn markdown(figures: &[Figure]) -> String {
    let mut out = String::from(
        "| # | figure | measured | baseline | ratio | goal | result |\n|---|---|---|---|---|---|---|\n",
    );
    for f in figures {
        let _ = writeln!(
            out,
            "| {} | {} | {} ({}) | {} ({}) | {} | {} | {} |",
            f.id,
            f.name,
            f.measured.shown(),
            f.measured.what,
            f.baseline.shown(),
            f.baseline.what,
            number(f.ratio),
            f.goal_shown(),
            f.result_shown()
        );
    }
    out
}

/// A goal's bound as written in the issue: `0.25`, not `0.250`.
fn bound(x: f64) -> String {
    if x.abs() >= 999.5 {
        number(x)
    } else {
        x.to_string()
    }
}

/// A number as a reader wants it: whole numbers with spaces between thousands from 1 000 up,
/// three significant digits below.
pub fn number(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    if x.abs() >= 999.5 {
        let digits = format!("{:.0}", x.abs());
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(' ');
            }
            grouped.push(c);
        }
        return if x < 0.0 {
            format!("-{grouped}")
        } else {
            grouped
        };
    }
    let decimals = match x.abs() {
        a if a >= 99.95 => 0,
        a if a >= 9.995 => 1,
        a if a >= 0.9995 => 2,
        0.0 => 0,
        a => (2 - a.log10().floor() as i32).max(0) as usize,
    };
    format!("{x:.decimals$}")
}
