//! 1 000 spawn/close cycles of a quick host leave no child process and no extra open file
//! descriptor. (Alone in its test binary, so nothing else opens descriptors meanwhile.)

mod support;

use std::time::Duration;

use runtime_native::{BrowserKind, FoundHost, Launch, Received, StderrSink};
use serde_json::json;
use support::*;

const CYCLES: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_spawn_close_cycles_leak_nothing() {
    let found = FoundHost {
        manifest_path: "/unused/ping_pong.json".into(),
        manifest: manifest_for(
            "ping_pong",
            std::path::Path::new(PING_PONG),
            BrowserKind::Firefox,
        ),
    };
    let launch = Launch::new(BrowserKind::Firefox, &found, FIREFOX_ID).unwrap();
    let (sink, mut lines) = StderrSink::channel(64);
    let drain = tokio::spawn(async move { while lines.recv().await.is_some() {} });

    // Warm up: the runtime's process and signal machinery opens its descriptors once.
    let host = launch
        .spawn(BrowserKind::Firefox.shutdown_policy(), sink.clone())
        .unwrap();
    host.close().await.unwrap();
    let fds_before = open_fds();
    assert!(children().is_empty());

    let mut pids = Vec::with_capacity(CYCLES);
    for i in 0..CYCLES {
        let mut host = launch
            .spawn(BrowserKind::Firefox.shutdown_policy(), sink.clone())
            .unwrap();
        pids.push(host.pid());
        match i % 4 {
            // A full exchange, then close.
            0 => {
                host.send(&json!("ping")).await.unwrap();
                assert!(matches!(host.recv().await.unwrap(), Received::Message(v) if v == "pong"));
                let exit = host.close().await.unwrap();
                assert_eq!(exit.code(), Some(0));
            }
            // Dropped while running.
            1 => drop(host),
            // Closed in the background, awaited.
            2 => {
                host.close_in_background().await.unwrap();
            }
            // Closed at once.
            _ => {
                host.close().await.unwrap();
            }
        }
    }
    drop(sink);
    drain.await.unwrap();

    // Dropped hosts were reaped synchronously; give the kernel a moment for /proc.
    for _ in 0..100 {
        if children().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(children(), Vec::<u32>::new(), "children left behind");
    let zombies: Vec<_> = pids.iter().filter(|&&pid| !pid_gone(pid)).collect();
    assert!(zombies.is_empty(), "pids still present: {zombies:?}");
    assert_eq!(open_fds(), fds_before, "file descriptors leaked");
}
