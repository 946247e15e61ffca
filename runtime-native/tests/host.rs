//! The host side as a real process: the Rust ping-pong host, driven over blocking pipes
//! the way a browser drives it, ends cleanly at end of file.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use runtime_native::codec::{self, HOST_TO_BROWSER_MAX};
use runtime_native::Received;
use serde_json::json;
use support::PING_PONG;

#[test]
fn ping_pong_host_over_pipes() {
    let mut child = Command::new(PING_PONG)
        .arg("chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the ping-pong host");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    for message in [
        json!("ping"),
        json!("noise"),
        json!({"ping": 1}),
        json!("ping"),
    ] {
        codec::write_message(&mut stdin, &message, usize::MAX).unwrap();
    }
    stdin.flush().unwrap();
    drop(stdin);
    let mut replies = Vec::new();
    while let Some(received) = codec::read_message(&mut stdout, HOST_TO_BROWSER_MAX).unwrap() {
        match received {
            Received::Message(v) => replies.push(v),
            Received::Invalid(i) => panic!("invalid reply {i:?}"),
        }
    }
    assert_eq!(replies, [json!("pong"), json!("pong")]);
    assert!(child.wait().unwrap().success());
}

#[test]
fn ping_pong_host_fails_on_a_broken_stream() {
    let mut child = Command::new(PING_PONG)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the ping-pong host");
    let mut stdin = child.stdin.take().unwrap();
    // A header announcing 10 bytes, then end of file after 3.
    stdin.write_all(&10u32.to_ne_bytes()).unwrap();
    stdin.write_all(b"\"pi").unwrap();
    drop(stdin);
    let output = child.wait_with_output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("end of stream"), "{stderr}");
}
