//! Native messaging benchmark (`cargo bench -p runtime-native`).
//!
//! Each measurement is printed beside a baseline measured in the same run:
//!
//! 1. round trip of a small message to the Rust ping-pong host (`HostProcess::send` +
//!    `recv`) vs a raw pipe ping-pong of the same bytes with `cat` (blocking I/O);
//! 2. throughput of 512 KiB messages to the host (serialized from a `Value`, and
//!    pre-serialized) vs writing the same bytes into a raw pipe (of the same 1 MiB
//!    capacity) read by `cat`;
//! 3. spawn to first reply (spawn, ping, pong, close) vs a bare spawn-and-wait of the same
//!    executable.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runtime_native::{
    BrowserKind, FoundHost, HostProcess, Launch, Manifest, Received, ShutdownPolicy, StderrSink,
};
use serde_json::Value;

const HOST: &str = env!("CARGO_BIN_EXE_runtime-native-ping-pong");
const EXTENSION_ID: &str = "knldjmfmopnpolahpmmgbagdohdnhkik";
const ROUND_TRIPS: u32 = 20_000;
const BIG: usize = 512 * 1024;
const BIG_MESSAGES: u32 = 400;
const SPAWNS: u32 = 200;

fn launch() -> Launch {
    let found = FoundHost {
        manifest_path: PathBuf::from("/nonexistent/ping_pong.json"),
        manifest: Manifest::new("ping_pong", "bench host", HOST)
            .allow(BrowserKind::Chrome, EXTENSION_ID),
    };
    match Launch::new(BrowserKind::Chrome, &found, EXTENSION_ID) {
        Ok(launch) => launch,
        Err(e) => panic!("cannot prepare the ping-pong host: {e}"),
    }
}

fn spawn(launch: &Launch) -> HostProcess {
    match launch.spawn(ShutdownPolicy::chrome(), StderrSink::Inherit) {
        Ok(host) => host,
        Err(e) => panic!("cannot start the ping-pong host: {e}"),
    }
}

async fn ping(host: &mut HostProcess, ping: &Value) {
    if let Err(e) = host.send(ping).await {
        panic!("send failed: {e}");
    }
    match host.recv().await {
        Ok(Received::Message(v)) if v == "pong" => {}
        other => panic!("unexpected reply {other:?}"),
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = (body.len() as u32).to_ne_bytes().to_vec();
    v.extend_from_slice(body);
    v
}

fn raw_round_trips(n: u32) -> Duration {
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat");
    let mut stdin = cat.stdin.take().expect("stdin");
    let mut stdout = cat.stdout.take().expect("stdout");
    let request = frame(b"\"ping\"");
    let mut reply = vec![0u8; request.len()];
    let mut once = || {
        stdin.write_all(&request).expect("write");
        stdout.read_exact(&mut reply).expect("read");
    };
    for _ in 0..200 {
        once();
    }
    let start = Instant::now();
    for _ in 0..n {
        once();
    }
    let elapsed = start.elapsed();
    drop(stdin);
    cat.wait().expect("wait");
    elapsed
}

fn raw_throughput(frames: u32, body: &[u8]) -> Duration {
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("cat");
    let mut stdin = cat.stdin.take().expect("stdin");
    // The same pipe capacity runtime-native asks for, so that only the protocol differs.
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: F_SETPIPE_SZ on a descriptor we own.
        let _ = unsafe { libc::fcntl(stdin.as_raw_fd(), libc::F_SETPIPE_SZ, 1024 * 1024) };
    }
    let frame = frame(body);
    let start = Instant::now();
    for _ in 0..frames {
        stdin.write_all(&frame).expect("write");
    }
    drop(stdin);
    cat.wait().expect("wait");
    start.elapsed()
}

fn bare_spawns(n: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        let status = Command::new(HOST)
            .arg(format!("chrome-extension://{EXTENSION_ID}/"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .expect("spawn");
        assert!(status.success());
    }
    start.elapsed()
}

fn per(d: Duration, n: u32) -> Duration {
    d / n
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this too, briefly.
    let quick = !std::env::args_os().any(|a| a == "--bench");
    let scale = |n: u32| if quick { (n / 100).max(2) } else { n };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let launch = launch();
    let ping_msg = Value::from("ping");

    // 1. Small-message round trip.
    let n = scale(ROUND_TRIPS);
    let ours = runtime.block_on(async {
        let mut host = spawn(&launch);
        for _ in 0..200 {
            ping(&mut host, &ping_msg).await;
        }
        let start = Instant::now();
        for _ in 0..n {
            ping(&mut host, &ping_msg).await;
        }
        let elapsed = start.elapsed();
        host.close().await.expect("close");
        elapsed
    });
    let raw = raw_round_trips(n);
    let (ours_rt, raw_rt) = (per(ours, n), per(raw, n));
    println!(
        "round trip, small message   runtime-native {:>9.2?}   raw pipe (cat) {:>9.2?}   ratio {:.2}x  (goal <= 1.5x)",
        ours_rt,
        raw_rt,
        ours_rt.as_secs_f64() / raw_rt.as_secs_f64()
    );

    // 2. Throughput of 512 KiB messages.
    let n = scale(BIG_MESSAGES);
    let big = Value::from("x".repeat(BIG - 2));
    let body = serde_json::to_vec(&big).expect("json");
    assert_eq!(body.len(), BIG);
    let encoded = bytes::Bytes::from(body.clone());
    let (ours, ours_raw) = runtime.block_on(async {
        let mut host = spawn(&launch);
        ping(&mut host, &ping_msg).await;
        let start = Instant::now();
        for _ in 0..n {
            host.send(&big).await.expect("send");
        }
        ping(&mut host, &ping_msg).await;
        let values = start.elapsed();
        let start = Instant::now();
        for _ in 0..n {
            host.send_json(encoded.clone()).await.expect("send");
        }
        ping(&mut host, &ping_msg).await;
        let json = start.elapsed();
        host.close().await.expect("close");
        (values, json)
    });
    let raw = raw_throughput(n, &body);
    let mib = f64::from(n) * (BIG + 4) as f64 / (1024.0 * 1024.0);
    let raw_tp = mib / raw.as_secs_f64();
    for (label, elapsed) in [("send(&Value)", ours), ("send_json(Bytes)", ours_raw)] {
        let tp = mib / elapsed.as_secs_f64();
        println!(
            "throughput, 512 KiB msgs    {label:<16} {tp:>7.0} MiB/s   raw pipe (cat) {raw_tp:>7.0} MiB/s   ratio {:.2}   (goal >= 0.3)",
            tp / raw_tp
        );
    }

    // 3. Spawn to first reply.
    let n = scale(SPAWNS);
    let ours = runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..n {
            let mut host = spawn(&launch);
            ping(&mut host, &ping_msg).await;
            host.close().await.expect("close");
        }
        start.elapsed()
    });
    let bare = bare_spawns(n);
    let (ours_sp, bare_sp) = (per(ours, n), per(bare, n));
    println!(
        "spawn to first reply        runtime-native {:>9.2?}   bare spawn+wait {:>8.2?}   ratio {:.2}x",
        ours_sp,
        bare_sp,
        ours_sp.as_secs_f64() / bare_sp.as_secs_f64()
    );
}
