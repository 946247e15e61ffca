//! The `runtime-sim` command.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use runtime_sim::ExtensionSpec;

/// A simulator of the browser-extension runtime (chrome.runtime).
#[derive(Parser)]
#[command(name = "runtime-sim", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prints an extension's id, computed as Chromium does: from the manifest's "key", else
    /// from the absolute path of the extension's folder.
    Id {
        /// The extension's folder, or its manifest.json.
        path: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
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
    }
}
