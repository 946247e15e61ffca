//! `runtime-sim native`: run a native messaging host exactly as a browser would.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use runtime_sim::native::{
    load_manifest, read_regular_file, BrowserKind, FoundHost, HostExit, HostProcess, Launch,
    Lookup, NativeError, Received, StderrSink, MAX_HOST_MANIFEST_SIZE,
};
use serde_json::Value;

/// What the `native` command was asked to do.
pub struct NativeArgs {
    /// A host name, or the path of a host manifest.
    pub host: String,
    /// Which browser to behave as.
    pub browser: BrowserKind,
    /// The calling extension; by default the first one the manifest allows.
    pub extension_id: Option<String>,
    /// Folders searched for `<name>.json` before the browser's own.
    pub dirs: Vec<PathBuf>,
    /// Search only `dirs`.
    pub no_default_dirs: bool,
    /// The messages to send, in order.
    pub messages: Vec<Value>,
    /// `sendNativeMessage` instead of `connectNative`.
    pub send_native_message: bool,
    /// How long to wait for more replies after the last one.
    pub wait: Duration,
    /// The longest the command waits for the host, from its start to the disconnect (its
    /// shutdown, bounded by the browser's policy, comes after).
    pub timeout: Duration,
}

/// Runs the command; prints replies and how the host ended on stdout, errors on stderr.
///
/// The exit code is 0 when the run went as the browser would have it, 1 with the browser's
/// exact error when the browser refuses the host or the connection fails (including the host
/// exiting before the extension disconnected), 2 for bad arguments, and 124 ([`TIMED_OUT`])
/// when the host kept the command waiting longer than `--timeout`: the command then says what
/// it waited for and for how long, and ends the host as the browser would.
pub fn run(args: NativeArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runtime-sim: cannot start the Tokio runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run_async(args))
}

async fn run_async(args: NativeArgs) -> ExitCode {
    let found = match find(&args) {
        Ok(found) => found,
        Err(e) => return refused(&e),
    };
    let extension_id = args
        .extension_id
        .clone()
        .or_else(|| first_allowed(&found, args.browser))
        .unwrap_or_default();
    let launch = match Launch::new(args.browser, &found, &extension_id) {
        Ok(launch) => launch,
        Err(e) => return refused(&e),
    };
    let argv: Vec<String> = launch
        .argv()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    println!("browser: {}", args.browser);
    println!("manifest: {}", found.manifest_path.display());
    println!("argv: {}", serde_json::to_string(&argv).unwrap_or_default());
    println!("working directory: {}", launch.current_dir().display());

    if args.send_native_message && args.messages.len() != 1 {
        eprintln!("runtime-sim: --send-native-message takes exactly one --message");
        return ExitCode::from(2);
    }
    let mut host = match launch.spawn(args.browser.shutdown_policy(), stderr_sink(args.browser)) {
        Ok(host) => host,
        Err(e) => return refused(&e),
    };
    if !args.send_native_message {
        println!("pid: {}", host.pid());
    }
    let waiting = Cell::new(Waiting::ForQuiet);
    let talk = async {
        if args.send_native_message {
            let message = &args.messages[0];
            println!("sent: {message}");
            waiting.set(Waiting::ForReply);
            let reply = host.exchange(message).await?;
            println!("reply: {reply}");
            return Ok(());
        }
        for (index, message) in args.messages.iter().enumerate() {
            println!("sent: {message}");
            waiting.set(Waiting::ToRead(index));
            host.send(message).await?;
            waiting.set(Waiting::ToGoQuiet(index));
            print_replies(&mut host, args.wait).await?;
        }
        if args.messages.is_empty() {
            print_replies(&mut host, args.wait).await?;
        }
        Ok(())
    };
    // None: the timeout ran out first.
    let outcome = tokio::time::timeout(args.timeout, talk).await.ok();
    let code = match &outcome {
        None => {
            eprintln!(
                "runtime-sim: gave up after {} (--timeout) waiting for {}; ending the host as {} would: its stdin closed, then its shutdown policy",
                humantime::format_duration(args.timeout),
                waiting.get().what(&args.messages),
                args.browser
            );
            ExitCode::from(TIMED_OUT)
        }
        Some(Ok(())) => ExitCode::SUCCESS,
        Some(Err(_)) => ExitCode::FAILURE,
    };
    if !args.send_native_message {
        match &outcome {
            // What the extension's port.onDisconnect would see in runtime.lastError.
            Some(Err(e)) => println!("disconnected: {e}"),
            _ => println!("port.disconnect()"),
        }
    }
    match host.close().await {
        Ok(exit) => host_ended(&exit, args.browser),
        Err(e) => eprintln!("runtime-sim: could not wait for the host: {e}"),
    }
    if let Some(Err(e)) = &outcome {
        if args.send_native_message {
            return refused(e);
        }
        eprintln!("{e}");
    }
    code
}

/// The exit code when `--timeout` runs out, as `timeout(1)` exits.
pub const TIMED_OUT: u8 = 124;

/// What the command was waiting for from the host.
#[derive(Clone, Copy)]
enum Waiting {
    /// The first (and only) message the host writes: sendNativeMessage's reply.
    ForReply,
    /// The host to read message N (its stdin pipe was full).
    ToRead(usize),
    /// The host to stop writing replies to message N for `--wait-ms`.
    ToGoQuiet(usize),
    /// The host to stop writing for `--wait-ms`, with no message sent.
    ForQuiet,
}

impl Waiting {
    fn what(self, messages: &[Value]) -> String {
        let nth = |index: usize| format!("message {} ({})", index + 1, messages[index]);
        match self {
            Waiting::ForReply => "the host's reply to sendNativeMessage".to_owned(),
            Waiting::ToRead(index) => format!("the host to read {}", nth(index)),
            Waiting::ToGoQuiet(index) => {
                format!("the host to stop writing replies to {}", nth(index))
            }
            Waiting::ForQuiet => "the host to stop writing".to_owned(),
        }
    }
}

/// Prints how the host ended, and what it left running (which the browser would have left
/// running; this command ended it).
fn host_ended(exit: &HostExit, browser: BrowserKind) {
    println!("host ended: {exit}");
    if !exit.left_running.is_empty() {
        let pids: Vec<String> = exit.left_running.iter().map(u32::to_string).collect();
        println!(
            "left running by the host: {} (pid {}), which {browser} would have left running; ended with SIGKILL",
            match pids.len() {
                1 => "1 process".to_owned(),
                n => format!("{n} processes"),
            },
            pids.join(", ")
        );
    }
}

/// Prints every message the host writes until it has been quiet for `wait`.
async fn print_replies(host: &mut HostProcess, wait: Duration) -> Result<(), NativeError> {
    loop {
        match tokio::time::timeout(wait, host.recv()).await {
            Err(_quiet) => return Ok(()),
            Ok(Ok(Received::Message(reply))) => println!("reply: {reply}"),
            // Chrome drops it and logs this to the console; the port stays open.
            Ok(Ok(Received::Invalid(invalid))) => println!("dropped: {invalid}"),
            Ok(Err(e)) => return Err(e),
        }
    }
}

fn find(args: &NativeArgs) -> Result<FoundHost, NativeError> {
    let path = Path::new(&args.host);
    if args.host.ends_with(".json") || args.host.contains(std::path::MAIN_SEPARATOR) {
        // A manifest path: the requested name is the one the manifest declares. It is read as
        // the browser's lookup reads it (a regular file of at most MAX_HOST_MANIFEST_SIZE
        // bytes), so that a FIFO or /dev/zero is refused at once.
        let name = read_regular_file(path, MAX_HOST_MANIFEST_SIZE)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
            .or_else(|| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_default();
        return load_manifest(path, args.browser, &name);
    }
    let mut lookup = Lookup::new(args.browser);
    if args.no_default_dirs {
        lookup = lookup.without_default_dirs();
    }
    for dir in &args.dirs {
        lookup = lookup.dir(dir.clone());
    }
    lookup.find(&args.host)
}

fn first_allowed(found: &FoundHost, browser: BrowserKind) -> Option<String> {
    if browser.is_firefox() {
        found.manifest.allowed_extensions.as_ref()?.first().cloned()
    } else {
        let origin = found.manifest.allowed_origins.as_ref()?.first()?;
        origin
            .strip_prefix("chrome-extension://")
            .map(|rest| rest.trim_end_matches('/').to_owned())
    }
}

fn stderr_sink(browser: BrowserKind) -> StderrSink {
    if browser.is_firefox() {
        // Firefox captures the host's stderr and logs it line by line.
        StderrSink::Callback(Arc::new(|line| eprintln!("{line}")))
    } else {
        // Chrome hands the host its own stderr.
        StderrSink::Inherit
    }
}

/// Prints the browser's exact error on stderr, and why on stdout (`why: …`, the error's
/// sources), so that stderr stays what the extension would read.
fn refused(error: &NativeError) -> ExitCode {
    let mut why = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        why.push(cause.to_string());
        source = cause.source();
    }
    if !why.is_empty() {
        println!("why: {}", why.join(": "));
    }
    eprintln!("{error}");
    ExitCode::FAILURE
}
