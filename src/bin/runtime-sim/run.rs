//! `runtime-sim run`: run scenario files, print what happened, check their expectations.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use runtime_sim::scenario::{self, render, RunOptions};
use runtime_sim::Profile;

/// How a run is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// The timeline and the checks, for people (coloured on a terminal).
    Text,
    /// One JSON object per line, for programs; the same file gives the same bytes.
    Jsonl,
    /// A Mermaid sequence diagram.
    Mermaid,
}

/// Runs each file in order. The text form ends with `N passed, N failed` on stdout; the other
/// forms keep stdout for their own format and print that line (and any error) on stderr.
///
/// Exit code: 0 when every expectation held, 1 when one failed or a run stopped on a step it
/// could not carry out, 2 when a file could not be loaded (it is not a valid scenario).
pub fn run(
    files: &[PathBuf],
    format: Format,
    seed: Option<u64>,
    profile: Option<Profile>,
    trace_limit: Option<usize>,
) -> ExitCode {
    let options = RunOptions {
        seed,
        profile,
        program: std::env::current_exe().ok(),
        on_watchdog: Some(std::sync::Arc::new(end_the_run)),
        trace_limit,
    };
    let mut stdout = anstream::stdout();
    let mut passed = 0;
    let mut failed = 0;
    let mut malformed = false;
    for (i, file) in files.iter().enumerate() {
        let loaded = match scenario::load(file) {
            Ok(loaded) => loaded,
            Err(error) => {
                eprintln!("error: {error}");
                malformed = true;
                failed += 1;
                continue;
            }
        };
        let report = scenario::run(&loaded, &options);
        passed += report.passed();
        failed += report.failed();
        let printed = match format {
            Format::Text => {
                let separator = if i > 0 { "\n" } else { "" };
                write!(stdout, "{separator}{}", render::text(&report, true))
            }
            Format::Jsonl => write!(stdout, "{}", render::jsonl(&report)),
            Format::Mermaid => {
                let separator = if i > 0 { "\n" } else { "" };
                write!(stdout, "{separator}{}", render::mermaid(&report))
            }
        };
        if printed.is_err() {
            // stdout is closed (e.g. piped into `head`): nothing more can be shown.
            return ExitCode::from(1);
        }
        if format != Format::Text {
            if let Some(error) = &report.error {
                eprintln!("error: the run stopped: {error}");
            }
            for check in report.checks.iter().filter(|c| !c.passed) {
                eprintln!(
                    "{}: expectation [{}] failed\n  expected: {}\n  actual:   {}",
                    report.file.display(),
                    check.index,
                    check.expected,
                    check.actual
                );
            }
        }
    }
    let summary = format!("{passed} passed, {failed} failed");
    if format == Format::Text {
        let _ = writeln!(stdout, "\n{summary}");
    } else {
        eprintln!("{summary}");
    }
    let _ = stdout.flush();
    if malformed {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The exit code of a run the watchdog ends: the same as `timeout(1)`'s, "it hung". Distinct
/// from a failed run's (1) and a malformed file's (2).
pub const WATCHDOG_EXIT_CODE: i32 = 124;

/// The watchdog fired (it has reported what is blocked, on stderr): a listener that blocks
/// its thread may never return, so the command ends the process — the library never does.
fn end_the_run(_report: &runtime_sim::WatchdogReport, action: runtime_sim::WatchdogAction) {
    if action == runtime_sim::WatchdogAction::Panic {
        eprintln!("runtime-sim: ending the run with exit code {WATCHDOG_EXIT_CODE}");
        std::process::exit(WATCHDOG_EXIT_CODE);
    }
}
