//! The machine a report was measured on: CPU model, cores, compiler, build.

use serde::Serialize;

/// What the JSON report says about the machine and the build.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// The CPU's model name from `/proc/cpuinfo`.
    pub cpu: Option<String>,
    /// The cores this process may use.
    pub cores: usize,
    /// `rustc -V` of the toolchain on the `PATH` (the one `cargo bench` used, unless the
    /// toolchain was switched since).
    pub rustc: Option<String>,
    /// The kernel, from `/proc/sys/kernel/osrelease`.
    pub kernel: Option<String>,
    /// `release` (as `cargo bench` builds) or `debug` (as `cargo test` builds).
    pub build: &'static str,
}

impl Machine {
    /// This machine.
    pub fn this() -> Machine {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            });
        let rustc = std::process::Command::new("rustc")
            .arg("-V")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|k| k.trim().to_owned());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            rustc,
            kernel,
            build: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            },
        }
    }

    /// One line: `CPU, N cores, rustc …, release build`.
    pub fn summary(&self) -> String {
        format!(
            "{}, {} cores, {}, {} build",
            self.cpu.as_deref().unwrap_or("unknown CPU"),
            self.cores,
            self.rustc.as_deref().unwrap_or("rustc unknown"),
            self.build
        )
    }
}
