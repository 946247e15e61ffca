//! Faults the simulator must survive without hanging the run: a native host that stops
//! reading, one that writes a lot before it reads, a listener that never answers, a listener that panics on every message, and a
//! listener that blocks its thread (the watchdog ends the run, or reports it).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use runtime_sim::native::BrowserKind;
use runtime_sim::{Browser, OnMessage, PageState, Port, Runtime, TraceEvent};
use serde_json::{json, Value};

/// A host that never reads its stdin: the browser's writes fill the pipe, and must not block
/// the simulation — posting goes on, time moves, and the disconnect still ends the host (after
/// Chrome's 2 s grace, with SIGKILL). Regression: the host's pump waited on the blocked write
/// and never saw the disconnect, so the host was never ended.
#[test]
fn a_host_that_stops_reading_does_not_block_the_simulation() {
    let probe = event_page(
        "stuck",
        json!({"permissions": ["nativeMessaging"]}),
        top_level(|_| {}).0,
    );
    let (_dir, launcher) = native_host(BrowserKind::Chrome, "exec sleep 600", probe.id().as_str());
    let (script, loads) = top_level(|_| {});
    let spec = event_page("stuck", json!({"permissions": ["nativeMessaging"]}), script);
    // The host never answers: the browser holds the clock for it for one second of real time,
    // then says so in the trace and moves on.
    let builder = Browser::builder()
        .native_launcher(launcher)
        .native_answer_limit(Duration::from_secs(1));
    let (mut browser, ids) = started(builder, vec![spec]);
    let rt = loads.last().unwrap();
    let port = rt.connect_native(NATIVE_HOST).unwrap();
    let started = Instant::now();
    // 16 MiB in 64 KiB messages: far more than a pipe holds.
    let chunk = "x".repeat(64 * 1024);
    for _ in 0..256 {
        port.post_message(&json!(chunk)).unwrap();
    }
    browser.advance(Duration::from_secs(60));
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
    let gave_up = browser.with_trace(|t| {
        t.entries().any(|e| {
            matches!(&e.event, TraceEvent::Warning { message }
                if message.contains("has not answered after 1 s of real time"))
        })
    });
    assert!(
        gave_up,
        "the trace does not say the browser stopped waiting"
    );
    port.disconnect();
    let ended = browser
        .run_until(Duration::from_secs(60), |b| {
            b.with_trace(|t| {
                t.entries()
                    .any(|e| matches!(e.event, TraceEvent::NativeHostEnded { .. }))
            })
        })
        .is_ok();
    assert!(ended, "the stuck host was never ended");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run took {:?}",
        started.elapsed()
    );
}

/// A host that writes a lot before it reads anything, while the extension posts a lot to it:
/// both pipes fill. The browser reads the host's output while its own writes wait, as
/// browsers do, so the host finishes writing, then reads, and every message of both sides
/// goes through. Regression: the port's pump did not read while a write waited, so the host
/// waited on its full stdout while the pump waited on the host's full stdin, for good.
#[test]
fn a_host_that_writes_before_it_reads_does_not_deadlock_its_port() {
    const MESSAGES: usize = 48;
    // 48 messages of 64 KiB each way: 3 MiB, more than either pipe holds.
    let body = format!("\"{}\"", "x".repeat(64 * 1024 - 2));
    let frames = tempfile::tempdir().expect("a folder for the host's output");
    let mut wire = Vec::new();
    for _ in 0..MESSAGES {
        wire.extend_from_slice(&(body.len() as u32).to_ne_bytes());
        wire.extend_from_slice(body.as_bytes());
    }
    let output = frames.path().join("frames.bin");
    std::fs::write(&output, wire).expect("the host's output");

    let probe = event_page(
        "chatty",
        json!({"permissions": ["nativeMessaging"]}),
        top_level(|_| {}).0,
    );
    let script_body = format!("cat '{}'\nexec cat >/dev/null", output.display());
    let (_dir, launcher) = native_host(BrowserKind::Chrome, &script_body, probe.id().as_str());
    let (script, loads) = top_level(|_| {});
    let spec = event_page(
        "chatty",
        json!({"permissions": ["nativeMessaging"]}),
        script,
    );
    let (mut browser, _ids) = started(Browser::builder().native_launcher(launcher), vec![spec]);
    let rt = loads.last().unwrap();
    let port = rt.connect_native(NATIVE_HOST).unwrap();
    let received = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&received);
    port.on_message()
        .add_listener(move |(message, _port): (Value, Port)| {
            assert_eq!(message.as_str().map(str::len), Some(64 * 1024 - 2));
            counter.fetch_add(1, Ordering::SeqCst);
        });
    let chunk = "y".repeat(64 * 1024 - 2);
    for _ in 0..MESSAGES {
        port.post_message(&json!(chunk)).unwrap();
    }
    let started = Instant::now();
    let all = browser
        .run_until(Duration::from_secs(60), |_| {
            received.load(Ordering::SeqCst) == MESSAGES
        })
        .is_ok();
    assert!(
        all,
        "{} of the host's {MESSAGES} messages arrived",
        received.load(Ordering::SeqCst)
    );
    // The host read everything the extension posted: it exits at end of file, by itself.
    port.disconnect();
    let ended = browser
        .run_until(Duration::from_secs(60), |b| {
            b.with_trace(|t| {
                t.entries().find_map(|e| match &e.event {
                    TraceEvent::NativeHostEnded { exit, .. } => Some(exit.clone()),
                    _ => None,
                })
            })
            .is_some()
        })
        .is_ok();
    assert!(ended, "the host never ended");
    let exit = browser.with_trace(|t| {
        t.entries().find_map(|e| match &e.event {
            TraceEvent::NativeHostEnded { exit, .. } => Some(exit.clone()),
            _ => None,
        })
    });
    assert!(
        exit.as_deref().is_some_and(|e| !e.contains("SIGKILL")),
        "the host had to be killed: {exit:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// A listener that keeps the channel open (`return true`) and never answers: the open
/// channel keeps the event page alive, as in Chromium, and nothing else is scheduled. Waiting
/// for the answer does not hang the test: `block_on` reports that the simulation stalled.
#[test]
fn waiting_for_a_listener_that_never_answers_stalls_instead_of_hanging() {
    let (script, _) = top_level(|rt: &Runtime| {
        rt.on_message_external().add_listener(|m: OnMessage| {
            // Keep the responder forever, never call it.
            std::mem::forget(m.send_response());
            true
        });
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("silent", json!({}), script)],
    );
    let other = browser.install(pageless("asker", json!({}))).unwrap();
    let popup = popup_runtime(&mut browser, &other);
    let reply = popup.send_message_to(ids[0].as_str(), &json!("anyone?"));
    let started = Instant::now();
    let stalled = browser.block_on(reply).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    // Nothing more could happen: the page is kept alive by the open channel.
    assert_eq!(stalled.at, browser.now());
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
    assert_eq!(stalled.reason, runtime_sim::StallReason::NothingLeft);
    assert_eq!(
        stalled.to_string(),
        format!(
            "the simulation stalled at {}: nothing was left to run while it still waited",
            browser.now()
        )
    );
}

/// A listener that panics on every message: each failure is recorded, the sender gets its
/// error, and the page and the bus go on.
#[test]
fn a_listener_that_panics_on_every_message_does_not_stop_the_run() {
    let (script, _) = top_level(|rt: &Runtime| {
        rt.on_message()
            .add_listener(|_m: OnMessage| -> bool { panic!("listener bug") });
    });
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![event_page("buggy", json!({}), script)],
    );
    let popup = popup_runtime(&mut browser, &ids[0]);
    for i in 0..100 {
        let reply = wait(&mut browser, popup.send_message(&json!(i)));
        assert!(reply.is_err() || reply == Ok(None), "{reply:?}");
    }
    let failures = times(&browser.trace(), |e| {
        matches!(
            e,
            TraceEvent::ListenerFailed {
                failure: "panicked",
                ..
            }
        )
    });
    assert_eq!(failures.len(), 100);
    assert_eq!(browser.page_state(&ids[0]), Some(PageState::Active));
}

/// The variable that tells a copy of this test binary, started by [`run_alone`], which test
/// it runs as the child.
const CHILD: &str = "RUNTIME_SIM_FAULTS_CHILD";

/// Whether this process is the child that runs the test `name` on its own.
fn is_child(name: &str) -> bool {
    std::env::var(CHILD).as_deref() == Ok(name)
}

/// What a child run of tests gave.
struct ChildRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs the test `name` alone in a child process (this test binary again, with [`CHILD`] set),
/// and waits for it at most a minute: a child that hangs is killed, and the test fails rather
/// than hanging the suite.
fn run_alone(name: &str) -> ChildRun {
    run_with(name, &[name], &["--nocapture", "--test-threads=1"])
}

/// Runs the tests `tests` in a child process (this test binary again, with [`CHILD`] set to
/// `child`), with `args`, and waits for it at most a minute.
fn run_with(child_name: &str, tests: &[&str], args: &[&str]) -> ChildRun {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args(tests)
        .arg("--exact")
        .args(args)
        .env(CHILD, child_name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("stderr")));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the child running {tests:?} still ran after a minute: {}",
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    ChildRun {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    }
}

/// An event page whose `onMessage` listener calls `block` before it answers, and a popup of
/// another extension's to message it from; the browser is built from `builder`.
fn blocking_receiver(
    builder: runtime_sim::BrowserBuilder,
    block: impl Fn() + Clone + 'static,
) -> (Browser, runtime_sim::ExtensionId, Runtime) {
    let (script, _) = top_level(move |rt: &Runtime| {
        let block = block.clone();
        rt.on_message_external().add_listener(move |m: OnMessage| {
            block();
            m.respond(&json!("done"));
        });
    });
    let (mut browser, ids) = started(builder, vec![event_page("sleeper", json!({}), script)]);
    let other = browser.install(pageless("asker", json!({}))).unwrap();
    let popup = popup_runtime(&mut browser, &other);
    (browser, ids[0].clone(), popup)
}

/// A listener that blocks its thread fails the test that drives it, with the watchdog's message,
/// and the other tests of the same binary run on. Before, the watchdog ended the whole process
/// (exit code 124) from its own thread, which killed every test of the `cargo test` binary.
///
/// Checked in a child process (this test binary again, running this test and a quick one at
/// once): the blocking test fails with a panic that names the extension (name and id), the
/// context, the listener, the virtual time and the limit; the quick one passes.
#[test]
fn a_listener_that_blocks_its_thread_fails_its_test_with_the_watchdogs_message() {
    const NAME: &str =
        "a_listener_that_blocks_its_thread_fails_its_test_with_the_watchdogs_message";
    if is_child(NAME) {
        let (mut browser, id, popup) = blocking_receiver(
            Browser::builder().watchdog(Duration::from_millis(200)),
            || std::thread::sleep(Duration::from_millis(1500)),
        );
        let reply = popup.send_message_to(id.as_str(), &json!("anyone?"));
        let _ = browser.block_on(reply);
        unreachable!("the watchdog panics once the listener returns");
    }
    let run = run_with(NAME, &[NAME, OTHER_TEST], &["--test-threads=2"]);
    assert_eq!(run.code, Some(101), "{}", run.stdout);
    assert!(
        run.elapsed < Duration::from_secs(20),
        "it took {:?}",
        run.elapsed
    );
    assert!(
        run.stdout.contains(&format!("test {OTHER_TEST} ... ok")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!("test {NAME} ... FAILED")),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 passed; 1 failed"), "{}", run.stdout);
    let id = event_page("sleeper", json!({}), top_level(|_| {}).0).id();
    for expected in [
        "runtime-sim watchdog: a listener of runtime.onMessageExternal has blocked the thread driving the simulation for longer than 200 ms.",
        &format!("extension:    sleeper ({id})"),
        "context:      the background page",
        "virtual time: +00:00:00.000",
        "limit:        200 ms",
        "Do not block in a listener",
        "panics with this message when the blocked code returns",
    ] {
        // The report is on stderr at once, and again in the failed test's panic message.
        assert!(run.stderr.contains(expected), "no {expected:?} in {}", run.stderr);
        assert!(run.stdout.contains(expected), "no {expected:?} in {}", run.stdout);
    }
}

/// The quick test run beside the blocking one above.
const OTHER_TEST: &str =
    "a_listener_that_blocks_for_less_than_the_limit_does_not_fire_the_watchdog";

/// In report mode the watchdog reports a blocked async listener (a poll of its task) and keeps
/// waiting; when the listener returns at last, the run goes on (the message is answered) and
/// the trace has a warning, in the background page's name, that says it overran — with the
/// limit and no wall-clock figure.
#[test]
fn in_report_mode_an_overrun_is_reported_then_recorded_in_the_trace() {
    const NAME: &str = "in_report_mode_an_overrun_is_reported_then_recorded_in_the_trace";
    if is_child(NAME) {
        let (script, _) = top_level(|rt: &Runtime| {
            rt.on_message_external()
                .add_async_listener(|m: OnMessage| async move {
                    std::thread::sleep(Duration::from_millis(800));
                    m.respond(&json!("late"));
                });
        });
        let (mut browser, ids) = started(
            Browser::builder()
                .watchdog(Duration::from_millis(200))
                .watchdog_action(runtime_sim::WatchdogAction::Report),
            vec![event_page("sleeper", json!({}), script)],
        );
        let other = browser.install(pageless("asker", json!({}))).unwrap();
        let popup = popup_runtime(&mut browser, &other);
        let reply = wait(
            &mut browser,
            popup.send_message_to(ids[0].as_str(), &json!(1)),
        );
        assert_eq!(reply, Ok(Some(json!("late"))));
        let overruns: Vec<_> = browser
            .trace()
            .entries()
            .filter(|e| matches!(&e.event, TraceEvent::Warning { .. }))
            .map(|e| (e.extension.clone(), e.context.clone(), e.event.to_string()))
            .collect();
        assert_eq!(
            overruns,
            vec![(
                Some(ids[0].clone()),
                Some(runtime_sim::TraceContext::Background),
                "warning: An async listener of runtime.onMessageExternal blocked the thread driving the simulation for longer than the watchdog's limit (200 ms), then returned. Do not block in a listener or a task (std::thread::sleep, a blocking receive, a lock held elsewhere): everything in the simulation runs on that one thread. Use an async listener and wait on the simulated clock (Runtime::sleep) or on the browser's events instead.".to_owned()
            )]
        );
        return;
    }
    let run = run_alone(NAME);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for expected in [
        "an async listener of runtime.onMessageExternal has blocked the thread driving the simulation for longer than 200 ms.",
        "context:      the background page",
        "Still waiting for it",
    ] {
        assert!(run.stderr.contains(expected), "no {expected:?} in {}", run.stderr);
    }
}

/// A listener that blocks for less than the limit does not fire the watchdog (report mode
/// would leave a warning), and the trace is byte-identical to that of a browser with no
/// watchdog.
#[test]
fn a_listener_that_blocks_for_less_than_the_limit_does_not_fire_the_watchdog() {
    let run = |builder: runtime_sim::BrowserBuilder| {
        let (mut browser, id, popup) =
            blocking_receiver(builder, || std::thread::sleep(Duration::from_millis(50)));
        for i in 0..3 {
            let reply = wait(&mut browser, popup.send_message_to(id.as_str(), &json!(i)));
            assert_eq!(reply, Ok(Some(json!("done"))));
        }
        browser.trace().to_jsonl()
    };
    let watched = run(Browser::builder()
        .watchdog(Duration::from_secs(2))
        .watchdog_action(runtime_sim::WatchdogAction::Report));
    let unwatched = run(Browser::builder().without_watchdog());
    assert!(!watched.contains("warning"), "{watched}");
    assert_eq!(watched, unwatched);
}

/// The names of this process's threads (`/proc/self/task/*/comm`).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

fn watchdog_threads() -> usize {
    thread_names()
        .iter()
        .filter(|n| *n == "sim-watchdog")
        .count()
}

/// Waits up to `limit` for `condition`.
fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !condition() {
        if started.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Browsers share one watchdog thread, which ends soon after the last of them is dropped: a
/// thousand browsers alive at once have one watchdog thread between them, a thousand built
/// and dropped one after another never more than one, and none is left afterwards (nor any
/// other thread). Checked in a child process, alone, so that no other test's browser keeps
/// the thread.
#[test]
fn building_and_dropping_many_browsers_leaves_no_watchdog_thread() {
    const NAME: &str = "building_and_dropping_many_browsers_leaves_no_watchdog_thread";
    if is_child(NAME) {
        let threads_before = thread_names().len();
        assert_eq!(watchdog_threads(), 0);
        let (script, _) = top_level(|_| {});
        let spec = event_page("idle", json!({}), script);
        let started_at = Instant::now();
        let browsers: Vec<Browser> = (0..1000)
            .map(|_| {
                let mut browser = Browser::builder().build();
                browser.install(spec.clone()).unwrap();
                browser.start();
                browser.advance(Duration::from_secs(1));
                browser
            })
            .collect();
        assert_eq!(watchdog_threads(), 1);
        drop(browsers);
        let alive_at_once = started_at.elapsed();
        let started_at = Instant::now();
        for _ in 0..1000 {
            let mut browser = Browser::builder().build();
            browser.install(spec.clone()).unwrap();
            browser.start();
            browser.advance(Duration::from_secs(1));
            assert!(watchdog_threads() <= 1);
        }
        let one_by_one = started_at.elapsed();
        assert!(
            eventually(Duration::from_secs(10), || watchdog_threads() == 0),
            "{:?}",
            thread_names()
        );
        assert_eq!(thread_names().len(), threads_before, "{:?}", thread_names());
        eprintln!(
            "1000 browsers alive at once: {alive_at_once:?}; one after another: {one_by_one:?}"
        );
        return;
    }
    let run = run_alone(NAME);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}
