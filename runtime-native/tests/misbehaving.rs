//! Hosts that misbehave (§5.6): each gives the browser's exact error or notice, never a
//! panic or a hang, and leaves no process behind.

mod support;

use std::time::Duration;

use runtime_native::error::{COMMUNICATION_ERROR, HOST_EXITED, INVALID_JSON};
use runtime_native::{
    BrowserKind, ErrorKind, FrameError, HostProcess, Launcher, NativeError, NativeReply, Received,
    ShutdownPolicy, Signal, StderrSink,
};
use serde_json::json;
use support::*;

/// Fails the test instead of hanging.
async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(10), fut).await {
        Ok(v) => v,
        Err(_) => panic!("{what} hung"),
    }
}

async fn recv(host: &mut HostProcess) -> Result<Received, NativeError> {
    within("recv", host.recv()).await
}

async fn finish(host: HostProcess) -> runtime_native::HostExit {
    let pid = host.pid();
    let exit = within("close", host.close()).await.expect("close");
    assert!(pid_gone(pid), "pid {pid} left behind");
    exit
}

/// `sendNativeMessage` under the exec lock (see `support::exec_guard`).
async fn send_native(
    launcher: &Launcher,
    name: &str,
    extension_id: &str,
    message: &serde_json::Value,
) -> Result<NativeReply, NativeError> {
    within(
        "sendNativeMessage",
        exec_locked(launcher.send_native_message(name, extension_id, message)),
    )
    .await
}

fn message(received: Result<Received, NativeError>) -> serde_json::Value {
    match received {
        Ok(Received::Message(v)) => v,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn exits_at_once() {
    let host = script_host("exit 3");
    let mut child = spawn(&host, BrowserKind::Chrome);
    let err = recv(&mut child).await.unwrap_err();
    assert_eq!(err.to_string(), HOST_EXITED);
    // Every later receive says the same.
    assert_eq!(
        recv(&mut child).await.unwrap_err().kind(),
        ErrorKind::HostExited
    );
    let exit = finish(child).await;
    assert_eq!(exit.code(), Some(3));
    assert!(exit.signals_sent.is_empty());
}

#[tokio::test]
async fn send_to_an_exited_host_is_host_exited() {
    let host = script_host("exec 0<&-\nexit 0");
    let mut child = spawn(&host, BrowserKind::Chrome);
    assert_eq!(
        recv(&mut child).await.unwrap_err().kind(),
        ErrorKind::HostExited
    );
    while !child.has_exited() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let err = within("send", child.send(&json!("ping")))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), HOST_EXITED);
    finish(child).await;
}

#[tokio::test]
async fn replies_once_and_exits() {
    let host = canned_host(&frame(br#"{"answer":42}"#), "exit 0");
    let mut child = spawn(&host, BrowserKind::Firefox);
    assert_eq!(message(recv(&mut child).await), json!({"answer": 42}));
    assert_eq!(recv(&mut child).await.unwrap_err().to_string(), HOST_EXITED);
    finish(child).await;
}

#[tokio::test]
async fn unsolicited_and_several_replies() {
    let mut out = frame(br#""hello""#);
    out.extend(frame(br#""first""#));
    out.extend(frame(br#""second""#));
    let host = canned_host(&out, "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Chrome);
    for expected in ["hello", "first", "second"] {
        assert_eq!(message(recv(&mut child).await), json!(expected));
    }
    let exit = finish(child).await;
    assert_eq!(exit.code(), Some(0));

    // sendNativeMessage takes the first message as the reply and ignores the rest.
    let (_dir, launcher) = isolated_launcher("chatty", &host.exe, BrowserKind::Chrome);
    let reply = send_native(&launcher, "chatty", CHROME_ID, &json!("q"))
        .await
        .unwrap();
    assert_eq!(reply.message, json!("hello"));
    let pid = reply.closing.pid();
    within("closing", reply.closing).await.unwrap();
    assert!(pid_gone(pid));
}

#[tokio::test]
async fn crashes_mid_frame() {
    let mut out = frame_with_len(100, b"\"0123456");
    out.truncate(4 + 8);
    let host = canned_host(&out, "kill -SEGV $$");
    let mut child = spawn(&host, BrowserKind::Chrome);
    let err = recv(&mut child).await.unwrap_err();
    assert_eq!(err.to_string(), HOST_EXITED);
    assert!(matches!(
        err,
        NativeError::HostExited {
            source: Some(FrameError::Truncated {
                received: 12,
                expected: 104
            })
        }
    ));
    let exit = finish(child).await;
    assert_eq!(exit.signal(), Some(Signal::from_raw(libc::SIGSEGV)));
    assert_eq!(exit.killed_by(), None);
}

#[tokio::test]
async fn crash_before_replying_to_send_native_message() {
    let host = script_host("head -c 4 >/dev/null\nexit 1");
    let (_dir, launcher) = isolated_launcher("crashy", &host.exe, BrowserKind::Firefox);
    let err = send_native(&launcher, "crashy", FIREFOX_ID, &json!("ping"))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), HOST_EXITED);
}

#[tokio::test]
async fn frame_over_one_mebibyte_is_a_communication_error() {
    let out = frame_with_len(1_048_577, b"\"");
    let host = canned_host(&out, "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Chrome);
    let err = recv(&mut child).await.unwrap_err();
    assert_eq!(err.to_string(), COMMUNICATION_ERROR);
    assert!(matches!(
        err,
        NativeError::Communication {
            source: FrameError::TooLarge {
                len: 1_048_577,
                max: 1_048_576
            }
        }
    ));
    assert_eq!(
        recv(&mut child).await.unwrap_err().kind(),
        ErrorKind::Communication
    );
    let exit = finish(child).await;
    // It ended by itself: before the grace ran out (or it would have been signalled).
    assert!(exit.signals_sent.is_empty(), "{exit:?}");

    // Firefox applies the same limit.
    let mut child = spawn(&host, BrowserKind::Firefox);
    assert_eq!(
        recv(&mut child).await.unwrap_err().kind(),
        ErrorKind::Communication
    );
    finish(child).await;
}

#[tokio::test]
async fn frame_of_exactly_one_mebibyte_is_accepted() {
    let mut body = vec![b'x'; 1_048_576];
    body[0] = b'"';
    body[1_048_575] = b'"';
    let host = canned_host(&frame(&body), "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Chrome);
    let value = message(recv(&mut child).await);
    assert_eq!(value.as_str().map(str::len), Some(1_048_574));
    finish(child).await;
}

#[tokio::test]
async fn invalid_json_is_dropped_on_a_port() {
    let mut out = frame(b"{oops");
    out.extend(frame(br#""after""#));
    let host = canned_host(&out, "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Chrome);
    match recv(&mut child).await {
        Ok(Received::Invalid(invalid)) => {
            assert_eq!(invalid.to_string(), INVALID_JSON);
            assert!(!invalid.is_invalid_utf8());
            assert_eq!(invalid.body(), b"{oops");
        }
        other => panic!("{other:?}"),
    }
    // The port stays open.
    assert_eq!(message(recv(&mut child).await), json!("after"));
    child.send(&json!("still open")).await.unwrap();
    finish(child).await;
}

#[tokio::test]
async fn invalid_json_reply_fails_send_native_message() {
    let host = canned_host(&frame(b"not json"), "exec cat >/dev/null");
    let (_dir, launcher) = isolated_launcher("garbled", &host.exe, BrowserKind::Chrome);
    let err = send_native(&launcher, "garbled", CHROME_ID, &json!(1))
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), INVALID_JSON);
    assert_eq!(err.kind(), ErrorKind::InvalidMessage);
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn invalid_utf8_is_an_invalid_message() {
    let mut out = frame(b"\"\xff\xfe\"");
    out.extend(frame(b"1"));
    let host = canned_host(&out, "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Firefox);
    match recv(&mut child).await {
        Ok(Received::Invalid(invalid)) => {
            assert!(invalid.is_invalid_utf8());
            assert_eq!(invalid.to_string(), INVALID_JSON);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(message(recv(&mut child).await), json!(1));
    finish(child).await;
}

#[tokio::test]
async fn length_counting_characters_is_detected() {
    // "éééééééééé" is 12 characters but 22 bytes: the header says 12, so the frame ends
    // mid-string and the leftover bytes are read as a (huge) length.
    let body = format!("\"{}\"", "é".repeat(10));
    assert_eq!(body.len(), 22);
    let mut out = frame_with_len(body.chars().count() as u32, body.as_bytes());
    out.extend(frame(br#""next""#));
    let host = canned_host(&out, "exec cat >/dev/null");
    let mut child = spawn(&host, BrowserKind::Chrome);
    assert!(matches!(recv(&mut child).await, Ok(Received::Invalid(_))));
    let err = recv(&mut child).await.unwrap_err();
    assert_eq!(err.to_string(), COMMUNICATION_ERROR);
    finish(child).await;
}

#[tokio::test]
async fn length_counting_characters_then_exit_is_host_exited() {
    // A single short mis-framed message followed by exit: the leftover bytes are a
    // truncated frame, which ends as "host exited" rather than a hang.
    let body = "\"é\"";
    let mut out = frame_with_len(3, body.as_bytes());
    out.extend(b"x");
    let host = canned_host(&out, "exit 0");
    let mut child = spawn(&host, BrowserKind::Chrome);
    assert!(matches!(recv(&mut child).await, Ok(Received::Invalid(_))));
    assert_eq!(recv(&mut child).await.unwrap_err().to_string(), HOST_EXITED);
    finish(child).await;
}

fn octal(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("\\{b:03o}")).collect()
}

#[tokio::test]
async fn floods_stdout() {
    let flood = octal(&frame(br#""flood""#));
    let host = script_host(&format!("while printf '{flood}'; do :; done"));
    let mut child = spawn(&host, BrowserKind::Chrome);
    for _ in 0..2_000 {
        assert_eq!(message(recv(&mut child).await), json!("flood"));
    }
    // Closing stdout makes the next write fail: the flooder ends well before the grace.
    let exit = finish(child).await;
    assert!(exit.signals_sent.is_empty(), "{exit:?}");
}

#[tokio::test]
async fn dropping_a_flooding_host_reaps_it() {
    let flood = octal(&frame(br#""flood""#));
    let host = script_host(&format!(
        "trap '' PIPE TERM\nwhile printf '{flood}'; do :; done\nexec sleep 60"
    ));
    let mut child = spawn(&host, BrowserKind::Firefox);
    assert_eq!(message(recv(&mut child).await), json!("flood"));
    let pid = child.pid();
    drop(child);
    assert!(
        pid_gone(pid),
        "dropped host {pid} left behind ({:?})",
        proc_state(pid)
    );
}

#[tokio::test]
async fn oversize_outgoing_message_is_refused_without_closing() {
    let host = support::PING_PONG;
    let launch = runtime_native::Launch::new(
        BrowserKind::Chrome,
        &runtime_native::FoundHost {
            manifest_path: "/x/ping_pong.json".into(),
            manifest: manifest_for("ping_pong", std::path::Path::new(host), BrowserKind::Chrome),
        },
        CHROME_ID,
    )
    .unwrap();
    let mut child = spawn_with(&launch, ShutdownPolicy::chrome(), StderrSink::Null).unwrap();
    let huge = "x".repeat(64 * 1024 * 1024);
    let err = child.send(&huge).await.unwrap_err();
    assert_eq!(err.to_string(), COMMUNICATION_ERROR);
    child.send(&json!("ping")).await.unwrap();
    assert_eq!(message(recv(&mut child).await), json!("pong"));
    finish(child).await;
}

/// A host that writes its answer and exits without reading: the browser's write of the
/// request then fails (the pipe is broken), but the answer is already in the host's output,
/// which the browser reads all the while — it is the reply. Regression: under load the write
/// failed first and the reply was lost as `Native host has exited.`
#[tokio::test]
async fn an_answer_written_before_the_host_exits_unread_is_the_reply() {
    let host = runtime_native::TempHost::script(
        BrowserKind::Chrome,
        "com.example.hasty",
        r#"printf '\006\000\000\000"pong"'; exit 0"#,
        &["knldjmfmopnpolahpmmgbagdohdnhkik"],
    )
    .unwrap();
    // Larger than a pipe holds, so that the write meets the closed pipe.
    let request = json!("x".repeat(1 << 20));
    for _ in 0..5 {
        let reply = send_native(
            &host.launcher(),
            "com.example.hasty",
            "knldjmfmopnpolahpmmgbagdohdnhkik",
            &request,
        )
        .await
        .expect("the reply");
        assert_eq!(reply.message, json!("pong"));
        within("close", reply.closing).await.ok();
    }
}
