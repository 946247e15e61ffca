//! `runtime-native-ping-pong`: the `ping_pong` native messaging host of the
//! `connectNative` page, in Rust. Answers `"ping"` with `"pong"`, ignores other
//! messages, and exits at end of file. Used by the tests and the benchmark.

use std::process::ExitCode;

fn main() -> ExitCode {
    match runtime_native::host::serve(runtime_native::host::ping_pong) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ping_pong: {e}");
            ExitCode::FAILURE
        }
    }
}
