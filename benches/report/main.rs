//! The benchmark report (`cargo bench`): every performance figure of the project beside a
//! baseline measured in the same run, with the ratio and the goal, printed as text while it
//! runs, then as a Markdown table (the one in `BENCHMARKS.md`), and written as JSON to
//! `<target dir>/bench-report.json` or to `$RUNTIME_SIM_BENCH_JSON`.
//!
//! Without `--bench` (as `cargo test` runs bench targets) every figure runs briefly, in a debug
//! build, and the JSON goes to `bench-report.quick.json` instead, so a real report is not
//! overwritten.
//!
//! `cargo bench -- native scale` runs only the areas named (bus, messaging, lifecycle, scale,
//! native, updates) and writes `bench-report.partial.json`.
//!
//! This executable also plays two other parts, decided before anything else: the native
//! messaging host of figures 6 (started by the launcher with a `chrome-extension://` argument)
//! and the child process of figures 5 (started with `RUNTIME_SIM_BENCH_ROLE=scale`).

mod bus;
mod javascript;
mod lifecycle;
mod machine;
mod measure;
mod memory;
mod messaging;
mod native;
mod scale;
mod table;
mod updates;

use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use machine::Machine;
use measure::Mode;
use table::Figure;

/// The JSON report.
#[derive(Serialize)]
struct Report<'a> {
    mode: &'static str,
    machine: &'a Machine,
    figures: &'a [Figure],
}

/// Where the JSON goes: `$RUNTIME_SIM_BENCH_JSON`, else the target directory that holds this
/// executable (`<target>/<profile>/deps/report-…`), else `target/`.
/// The areas named on the command line (`cargo bench -- native scale`): all when none is.
struct Areas(Vec<String>);

impl Areas {
    const ALL: [&'static str; 7] = [
        "bus",
        "messaging",
        "lifecycle",
        "scale",
        "native",
        "updates",
        "javascript",
    ];

    fn from_args() -> Result<Areas, String> {
        let named: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .collect();
        match named.iter().find(|a| !Self::ALL.contains(&a.as_str())) {
            Some(unknown) => Err(format!(
                "no area {unknown}; the areas are {}",
                Self::ALL.join(", ")
            )),
            None => Ok(Areas(named)),
        }
    }

    fn all(&self) -> bool {
        self.0.is_empty()
    }

    fn wants(&self, area: &str) -> bool {
        self.all() || self.0.iter().any(|a| a == area)
    }
}

fn json_path(mode: Mode, areas: &Areas) -> PathBuf {
    if let Some(path) = std::env::var_os("RUNTIME_SIM_BENCH_JSON") {
        return PathBuf::from(path);
    }
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("target"));
    // A run of some areas only does not overwrite the whole report.
    let name = if mode.quick {
        "bench-report.quick.json"
    } else if !areas.all() {
        "bench-report.partial.json"
    } else {
        "bench-report.json"
    };
    target.join(name)
}

fn main() -> ExitCode {
    if let Some(code) = native::serve_if_host() {
        return code;
    }
    if let Some(code) = scale::child_if_asked() {
        return code;
    }
    if let Some(code) = javascript::child_if_asked() {
        return code;
    }
    let mode = Mode::from_args();
    let areas = match Areas::from_args() {
        Ok(areas) => areas,
        Err(e) => {
            eprintln!("runtime-sim bench: {e}");
            return ExitCode::from(2);
        }
    };
    let machine = Machine::this();
    println!("runtime-sim benchmark report ({} mode)", mode.name());
    println!("{}\n", machine.summary());

    let mut figures = Vec::new();
    let mut show = |figure: Figure| {
        println!("{}", figure.to_text());
        figures.push(figure);
    };
    if areas.wants("bus") {
        show(bus::throughput(mode));
    }
    if areas.wants("messaging") {
        show(messaging::round_trip(mode));
        show(messaging::port_throughput(mode));
    }
    // The idle week also gives the scale figures their baseline.
    if areas.wants("lifecycle") || areas.wants("scale") {
        let (week, one_extension_cycles) = lifecycle::idle_week(mode);
        if areas.wants("lifecycle") {
            show(week);
        }
        if areas.wants("scale") {
            scale::figures(mode, one_extension_cycles)
                .into_iter()
                .for_each(&mut show);
        }
    }
    if areas.wants("native") {
        native::figures(mode).into_iter().for_each(&mut show);
    }
    if areas.wants("updates") {
        show(updates::month_of_updates(mode));
    }
    if areas.wants("javascript") {
        javascript::figures(mode).into_iter().for_each(&mut show);
    }

    println!("{}", table::markdown(&figures));
    let path = json_path(mode, &areas);
    let report = Report {
        mode: mode.name(),
        machine: &machine,
        figures: &figures,
    };
    let json = serde_json::to_string_pretty(&report).expect("the report serialises");
    if let Err(e) = std::fs::write(&path, json + "\n") {
        eprintln!("cannot write {}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    println!("JSON report: {}", path.display());
    ExitCode::SUCCESS
}
