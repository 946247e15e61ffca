//! The `runtime-sim` command.

mod native;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use runtime_sim::native::BrowserKind;
use runtime_sim::{ExtensionSpec, Profile};

/// A simulator of the browser-extension runtime (chrome.runtime).
#[derive(Parser)]
#[command(name = "runtime-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs scenario files: prints each run's timeline (virtual time, extension, context,
    /// event), checks its expectations, and ends with `N passed, N failed`. Exits 1 when an
    /// expectation fails, 2 when a file is not a valid scenario.
    Run {
        /// The scenario files, run in order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// How to print each run.
        #[arg(long, value_enum, default_value = "text")]
        format: run::Format,
        /// The seed of the simulation (overrides the files' `browser.seed`).
        #[arg(long)]
        seed: Option<u64>,
        /// The browser to simulate: chrome-mv2, chrome-mv3 or firefox (overrides the files'
        /// `browser.profile`). Expectations written for one browser may fail under another.
        #[arg(long, value_parser = parse_profile)]
        profile: Option<Profile>,
        /// Keeps only the newest N entries of each run's trace, so that a long run's memory
        /// stays flat: the timeline shows only those; the expectations are checked in full.
        #[arg(long, value_name = "N")]
        trace_limit: Option<usize>,
    },
    /// Prints the JSON Schema of scenario files (`scenarios/schema/scenario.schema.json`).
    Schema,
    /// Prints an extension's id, computed as Chromium does: from the manifest's "key", else
    /// from the absolute path of the extension's folder.
    Id {
        /// The extension's folder, or its manifest.json.
        path: PathBuf,
    },
    /// Runs a native messaging host exactly as a browser would: looks up its manifest,
    /// checks it, starts it with the browser's arguments, sends the messages, prints each
    /// reply, then disconnects and prints how the host ended. Exits 1 with the browser's exact
    /// error when the browser would refuse, 124 when the host keeps it waiting past --timeout.
    Native {
        /// A host name (looked up as <name>.json) or the path of a host manifest.
        host: String,
        /// The browser to behave as.
        #[arg(long, default_value = "chrome", value_parser = parse_browser)]
        browser: BrowserKind,
        /// The calling extension's id (default: the first one the manifest allows).
        #[arg(long)]
        extension_id: Option<String>,
        /// A JSON message to send; repeat for several, sent in order.
        #[arg(long = "message", value_parser = parse_json)]
        messages: Vec<serde_json::Value>,
        /// A folder to search for <name>.json before the browser's own; repeatable.
        #[arg(long = "dir")]
        dirs: Vec<PathBuf>,
        /// Search only the folders given with --dir.
        #[arg(long)]
        no_default_dirs: bool,
        /// Use sendNativeMessage (a new host, one message, the first reply) instead of
        /// connectNative.
        #[arg(long)]
        send_native_message: bool,
        /// Milliseconds to wait for further replies after each message.
        #[arg(long, default_value_t = 500)]
        wait_ms: u64,
        /// The longest to wait for the host, from its start until the extension disconnects
        /// (e.g. 10s, 500ms, 2m): for it to read each message, to answer sendNativeMessage, to
        /// go quiet after each message. When it runs out, the command says what it waited for,
        /// ends the host as the browser would (its stdin closed, then the browser's shutdown
        /// policy) and exits 124.
        #[arg(long, default_value = "10s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Runs a built-in native messaging host on stdin and stdout.
    Host {
        /// The host: `ping-pong` answers "ping" with "pong" and ignores other messages.
        #[arg(value_parser = ["ping-pong"])]
        name: String,
    },
}

fn parse_browser(s: &str) -> Result<BrowserKind, String> {
    s.parse::<BrowserKind>().map_err(|e| e.to_string())
}

fn parse_profile(s: &str) -> Result<Profile, String> {
    s.parse::<Profile>().map_err(|e| e.to_string())
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("not a duration such as 10s or 500ms: {e}"))
}

fn parse_json(s: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(s).map_err(|e| format!("not JSON: {e}"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // `run` prints the trace itself: its `tracing` events show only when RUST_LOG asks.
    let filter = match (
        &cli.command,
        tracing_subscriber::EnvFilter::try_from_default_env(),
    ) {
        (_, Ok(filter)) => filter,
        (Command::Run { .. }, Err(_)) => tracing_subscriber::EnvFilter::new("off"),
        (_, Err(_)) => tracing_subscriber::EnvFilter::from_default_env(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Run {
            files,
            format,
            seed,
            profile,
            trace_limit,
        } => run::run(&files, format, seed, profile, trace_limit),
        Command::Schema => {
            print!("{}", runtime_sim::scenario::schema::schema());
            ExitCode::SUCCESS
        }
        Command::Id { path } => match ExtensionSpec::from_path(&path) {
            Ok(spec) => {
                println!("{}", spec.id());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("runtime-sim: {}: {err}", path.display());
                ExitCode::from(2)
            }
        },
        Command::Native {
            host,
            browser,
            extension_id,
            messages,
            dirs,
            no_default_dirs,
            send_native_message,
            wait_ms,
            timeout,
        } => native::run(native::NativeArgs {
            host,
            browser,
            extension_id,
            dirs,
            no_default_dirs,
            messages,
            send_native_message,
            wait: Duration::from_millis(wait_ms),
            timeout,
        }),
        Command::Host { .. } => {
            match runtime_sim::native::host::serve(runtime_sim::native::host::ping_pong) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("ping-pong: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
