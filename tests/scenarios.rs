//! Scenario files: the library in `scenarios/` runs green (through the library and through the
//! command a user types), its schema is the generated one, a wrong expectation fails readably,
//! a run is byte-for-byte repeatable, and malformed files get precise errors.

use std::path::{Path, PathBuf};
use std::process::Command;

use runtime_sim::scenario::{self, load_str, render, RunOptions};

const BIN: &str = env!("CARGO_BIN_EXE_runtime-sim");

/// The scenario files of the library, in name order.
fn library() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the scenarios folder")
        .map(|entry| entry.expect("a folder entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn options() -> RunOptions {
    RunOptions {
        seed: None,
        profile: None,
        program: Some(PathBuf::from(BIN)),
        on_watchdog: None,
        trace_limit: None,
    }
}

/// Whether a scenario starts native hosts (real processes, so its timing is the machine's).
fn uses_native_hosts(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .expect("readable")
        .contains("\"native_hosts\"")
}

/// `runtime-sim` with these arguments, run from the package's folder: (exit code, stdout,
/// stderr).
fn runtime_sim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every scenario of the library loads, runs, and meets all its expectations.
#[test]
fn every_scenario_of_the_library_passes() {
    let files = library();
    assert!(files.len() >= 15, "the library has {} files", files.len());
    for file in files {
        let loaded = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let report = scenario::run(&loaded, &options());
        assert!(
            report.failed() == 0 && report.passed() > 0,
            "{}",
            render::text(&report, false)
        );
    }
}

/// Expectations read the browser's state and the entries they need as the run goes, not the
/// kept trace: under a trace limit that keeps nothing, every scenario checks exactly as
/// without one. Regression: `state` checks replayed the kept trace, and failed under a limit.
#[test]
fn expectations_hold_under_a_trace_limit() {
    for file in library().into_iter().filter(|f| !uses_native_hosts(f)) {
        let loaded = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let full = scenario::run(&loaded, &options());
        for limit in [0, 5] {
            let limited = scenario::run(
                &loaded,
                &RunOptions {
                    trace_limit: Some(limit),
                    ..options()
                },
            );
            assert_eq!(
                limited.checks,
                full.checks,
                "{} with a trace limit of {limit}:\n{}",
                file.display(),
                render::text(&limited, false)
            );
        }
    }
}

/// Each scenario teaches: a description of some length that names the rule it shows.
#[test]
fn every_scenario_says_which_rule_it_shows() {
    for file in library() {
        let loaded = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let description = &loaded.scenario.description;
        assert!(
            description.len() > 200 && description.contains("runtime-behaviour.md §"),
            "{}: {description}",
            file.display()
        );
    }
}

/// The library runs green through the command a user types, which ends with the summary line.
#[test]
fn the_library_runs_green_through_the_command() {
    let files: Vec<String> = library()
        .iter()
        .map(|f| format!("scenarios/{}", f.file_name().unwrap().to_string_lossy()))
        .collect();
    let args: Vec<&str> = std::iter::once("run")
        .chain(files.iter().map(String::as_str))
        .collect();
    let (code, out, err) = runtime_sim(&args);
    assert_eq!(code, 0, "{out}\n{err}");
    let last = out.lines().last().unwrap_or_default();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    assert!(!out.contains('✗'), "{out}");
    assert!(
        !out.contains("\u{1b}["),
        "no colour when stdout is not a terminal"
    );
}

/// The schema checked in beside the library is the one generated from the format's types.
#[test]
fn the_checked_in_schema_is_the_generated_one() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/schema/scenario.schema.json");
    let checked_in = std::fs::read_to_string(&path).expect("the schema file");
    assert!(
        checked_in == scenario::schema::schema(),
        "scenarios/schema/scenario.schema.json is out of date: run `cargo run -- schema > scenarios/schema/scenario.schema.json`"
    );
    let (code, out, _) = runtime_sim(&["schema"]);
    assert_eq!((code, out), (0, checked_in));
}

/// Every scenario of the library validates against the schema, as an editor would check it.
#[test]
fn every_scenario_validates_against_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(&scenario::schema::schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    for file in library() {
        let text = std::fs::read_to_string(&file).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", file.display());
    }
    // And the schema refuses what the runner refuses.
    let bad = serde_json::json!({"name": "n", "description": "d", "extensions": {},
        "timeline": [{"jump": "1s"}]});
    assert!(!validator.is_valid(&bad));
}

const WAKE: &str = include_str!("../scenarios/wake-and-the-late-listener.json");

/// A deliberately wrong expectation fails, and the check shows what was expected against what
/// happened.
#[test]
fn a_wrong_expectation_fails_with_expected_against_actual() {
    let wrong = WAKE.replacen(
        r#""extension": "alarm", "at": "10s""#,
        r#""extension": "alarm", "at": "11s""#,
        1,
    );
    assert_ne!(wrong, WAKE);
    let loaded = load_str(Path::new("wrong.json"), wrong).unwrap();
    let report = scenario::run(&loaded, &options());
    assert_eq!(report.failed(), 1);
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].expected,
        "runtime.onSuspend reaches alarm at +00:00:11.000"
    );
    assert_eq!(
        failed[0].actual,
        "runtime.onSuspend reached alarm at +00:00:10.000 (1 listener), +00:01:10.000 (1 listener), +00:02:10.000 (1 listener)"
    );
    let text = render::text(&report, false);
    assert!(
        text.contains(
            "  ✗ [0] runtime.onSuspend reaches alarm at +00:00:11.000\n        expected: runtime.onSuspend reaches alarm at +00:00:11.000\n        actual:   runtime.onSuspend reached alarm at +00:00:10.000"
        ),
        "{text}"
    );
}

/// Through the command: a wrong expectation makes the exit code 1, and the output shows
/// expected against actual, then the summary.
#[test]
fn the_command_fails_on_a_wrong_expectation() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wrong.json");
    let wrong = WAKE.replacen(
        r#"{"storage": {"extension": "alarm", "key": "last_alarm", "equals": {"name": "wake-up"}}}"#,
        r#"{"storage": {"extension": "alarm", "key": "last_alarm", "equals": {"name": "snooze"}}}"#,
        1,
    );
    assert_ne!(wrong, WAKE);
    std::fs::write(&file, wrong).unwrap();
    let (code, out, _) = runtime_sim(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "        expected: alarm stores last_alarm = {\"name\":\"snooze\"}\n        actual:   alarm stores last_alarm = {\"name\":\"wake-up\"}\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("\n8 passed, 1 failed\n"), "{out}");

    let (code, out, err) = runtime_sim(&["run", "--format", "jsonl", file.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out
        .lines()
        .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()));
    assert!(err.contains("expectation [6] failed"), "{err}");
    assert!(err.ends_with("8 passed, 1 failed\n"), "{err}");
}

/// The same file run twice gives byte-identical JSON Lines, through the library and the
/// command.
#[test]
fn the_same_file_gives_byte_identical_jsonl() {
    for file in library().iter().filter(|f| !uses_native_hosts(f)) {
        let loaded = scenario::load(file).unwrap();
        let first = render::jsonl(&scenario::run(&loaded, &options()));
        let second = render::jsonl(&scenario::run(&loaded, &options()));
        assert!(first == second, "{} is not repeatable", file.display());
    }
    let args = [
        "run",
        "--format",
        "jsonl",
        "scenarios/message-answers.json",
        "scenarios/keepalive-by-a-port.json",
    ];
    let (code, first, _) = runtime_sim(&args);
    let (_, second, _) = runtime_sim(&args);
    assert_eq!(code, 0);
    assert!(first.lines().count() > 100);
    assert_eq!(first, second);
}

/// `--profile` runs the same file under each browser. Expectations written for one browser may
/// fail under another — the exit code says so — but the run itself goes to its end, with valid
/// output.
#[test]
fn the_same_file_runs_under_every_profile() {
    let file = "scenarios/wake-and-the-late-listener.json";
    for (profile, passes) in [
        ("chrome-mv2", true),
        ("chrome-mv3", false),
        ("firefox", false),
    ] {
        let (code, out, err) =
            runtime_sim(&["run", "--profile", profile, "--format", "jsonl", file]);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{profile}: {e}: {l}")))
            .collect();
        assert_eq!(lines[0]["kind"], "scenario", "{profile}");
        assert_eq!(lines[0]["profile"], profile);
        assert!(
            lines.iter().all(|l| l["kind"] != "error"),
            "{profile}: the run stopped: {err}"
        );
        let result = lines.last().expect("a result line");
        assert_eq!(result["kind"], "result", "{profile}");
        let failed = result["failed"].as_u64().expect("a count");
        assert_eq!(code, if failed == 0 { 0 } else { 1 }, "{profile}: {err}");
        // The file was written for Chrome's event pages: only there do all its expectations
        // hold (a service worker gets no onSuspend; Firefox suspends after 30 s).
        assert_eq!(failed == 0, passes, "{profile}: {err}");
        assert!(result["passed"].as_u64().expect("a count") > 0, "{profile}");
    }
    let (code, out, _) = runtime_sim(&["run", "--profile", "firefox", file]);
    assert_eq!(code, 1);
    assert!(
        out.starts_with(&format!("{file} — Wake, and the late listener (firefox)\n")),
        "{out}"
    );
    let (code, _, err) = runtime_sim(&["run", "--profile", "safari", file]);
    assert_eq!(code, 2);
    assert!(
        err.contains("unknown profile \"safari\": expected chrome-mv2, chrome-mv3 or firefox"),
        "{err}"
    );
}

/// `--seed` reaches the browser, and leaves a run that uses no randomness unchanged.
#[test]
fn the_seed_is_an_option() {
    let (code, out, _) = runtime_sim(&[
        "run",
        "--seed",
        "42",
        "--format",
        "jsonl",
        "scenarios/ports.json",
    ]);
    assert_eq!(code, 0);
    let (_, default, _) = runtime_sim(&["run", "--format", "jsonl", "scenarios/ports.json"]);
    assert_eq!(out, default);
}

/// The Mermaid form is a sequence diagram with the contexts as participants and messages as
/// arrows between them.
#[test]
fn mermaid_draws_the_run_as_a_sequence_diagram() {
    let (code, out, err) = runtime_sim(&[
        "run",
        "--format",
        "mermaid",
        "scenarios/keepalive-by-a-port.json",
    ]);
    assert_eq!(code, 0);
    assert!(err.ends_with("8 passed, 0 failed\n"), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "sequenceDiagram");
    assert!(lines.contains(&"    participant B as Browser"));
    assert!(lines.contains(&"    participant P1 as Stopwatch (background)"));
    assert!(lines.contains(&"    participant P2 as Stopwatch (popup#35;1)"));
    assert!(lines.contains(&"    P2->>P1: runtime.onConnect"));
    assert!(lines.contains(&"    P2->>P1: Port.onMessage {\"tick\":1}"));
    assert!(lines.contains(&"    P1->>P2: Port.onMessage {\"ack\":1}"));
    assert!(lines.contains(&"    Note over P1: closing → unloaded"));
}

/// A malformed file: the error, as the command prints it.
struct Malformed {
    what: &'static str,
    text: &'static str,
    error: &'static str,
}

const MANIFEST: &str =
    r#"{"name": "E", "version": "1.0", "background": {"scripts": ["bg.js"], "persistent": false}}"#;

/// A dozen kinds of malformed file, each with its precise error: the file, the JSON path, the
/// line and column, and what was expected.
#[test]
fn malformed_files_get_precise_errors() {
    let cases = malformed_cases();
    assert!(cases.len() >= 12);
    let mut wrong = Vec::new();
    for case in &cases {
        let text = case.text.replace("MANIFEST", MANIFEST);
        let got = match load_str(Path::new("bad.json"), text) {
            Ok(_) => "loaded without an error".to_owned(),
            Err(e) => e.to_string(),
        };
        if got != case.error {
            wrong.push(format!(
                "{}:\n  expected: {}\n  got:      {got}",
                case.what, case.error
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Through the command, a malformed file is reported on stderr with its position, nothing runs,
/// and the exit code is 2.
#[test]
fn the_command_refuses_a_malformed_file_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.json");
    std::fs::write(
        &file,
        "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [{\"jump\": 1}]}",
    )
    .unwrap();
    let (code, out, err) = runtime_sim(&["run", file.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(out, "\n0 passed, 1 failed\n");
    assert!(
        err.starts_with(&format!("error: {}:2:", file.display())),
        "{err}"
    );
    assert!(
        err.contains("at timeline[0]: unknown variant `jump`, expected one of `start`"),
        "{err}"
    );
}

fn malformed_cases() -> Vec<Malformed> {
    vec![
        Malformed {
            what: "not JSON",
            text: "{\"name\": \"n\",\n \"description\": ",
            error: r#"bad.json:2:16: at description: not valid JSON: EOF while parsing a value"#,
        },
        Malformed {
            what: "a missing field",
            text: "{\"name\": \"n\", \"extensions\": {}, \"timeline\": []}",
            error: r#"bad.json:1:47: at (top level): missing field `description`"#,
        },
        Malformed {
            what: "a wrong type",
            text: "{\"name\": 5, \"description\": \"d\", \"extensions\": {}, \"timeline\": []}",
            error: r#"bad.json:1:10: at name: invalid type: integer `5`, expected a string"#,
        },
        Malformed {
            what: "an unknown top-level key",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {}, \"timeline\": [],\n \"expectations\": []}",
            error: r#"bad.json:2:15: at expectations: unknown field `expectations`, expected one of `$schema`, `name`, `description`, `browser`, `extensions`, `native_hosts`, `timeline`, `expect`"#,
        },
        Malformed {
            what: "an unknown step",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [\"start\", {\"jump\": \"1s\"}]}",
            error: r#"bad.json:2:30: at timeline[1]: unknown variant `jump`, expected one of `start`, `stop`, `restart`, `advance`, `advance_to`, `run_until_idle`, `say`, `install`, `uninstall`, `fire_event`, `open_view`, `close_view`, `open_tab`, `open_frame`, `navigate`, `close_tab`, `inject_content_script`, `set_tls_channel_id`, `keepalive`, `release`, `connect_native_app`, `in_view`, `in_content_script`, `in_web_page`, `in_native_app`, `publish_update`, `stage_browser_update`, `reload_extension`, `require_restart`"#,
        },
        Malformed {
            what: "an unknown field of a step",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"background\": {\"top_level\": []}}},\n \"timeline\": [\"start\",\n  {\"open_view\": {\"extension\": \"ext\", \"kind\": \"popup\", \"pth\": \"popup.html\", \"as\": \"p\"}}]}",
            error: r#"bad.json:3:59: at timeline[1].open_view.pth: unknown field `pth`, expected one of `extension`, `kind`, `path`, `as`"#,
        },
        Malformed {
            what: "a bad duration",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [{\"advance\": \"ten seconds\"}]}",
            error: r#"bad.json:2:39: at timeline[0].advance: invalid duration "ten seconds" (expected number at 0); expected a duration: a string such as "10s", "1m 30s" or "250ms", or a whole number of milliseconds"#,
        },
        Malformed {
            what: "an unknown extension",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"background\": {\"top_level\": []}}},\n \"timeline\": [\"start\", {\"uninstall\": \"other\"}]}",
            error: r#"bad.json:2:38: at timeline[1].uninstall: unknown extension "other"; expected one of the extensions the file declares: "ext""#,
        },
        Malformed {
            what: "a view no step opened",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [\"start\", {\"close_view\": \"popup\"}]}",
            error: r#"bad.json:2:39: at timeline[1].close_view: unknown view "popup"; expected a view an earlier open_view step names with "as": none"#,
        },
        Malformed {
            what: "an unknown tab in a context",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [\"start\", {\"open_tab\": {\"url\": \"https://a.example/\", \"as\": \"a\"}},\n  {\"in_web_page\": {\"tab\": \"b\", \"do\": []}}]}",
            error: r#"bad.json:3:27: at timeline[2].in_web_page.tab: unknown tab "b"; expected a tab an earlier open_tab step names with "as": "a""#,
        },
        Malformed {
            what: "respond outside an onMessage listener",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"listen\": {\"event\": \"runtime.onStartup\", \"do\": [{\"respond\": 1}]}}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:92: at extensions.ext.background.top_level[0].listen.do[0].respond: respond is sendResponse: it can only be used in a listener of runtime.onMessage or runtime.onMessageExternal"#,
        },
        Malformed {
            what: "an unknown runtime event",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"listen\": {\"event\": \"runtime.onWake\"}}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:52: at extensions.ext.background.top_level[0].listen.event: runtime has no event onWake; expected one of: "runtime.onInstalled", "runtime.onStartup", "runtime.onSuspend", "runtime.onSuspendCanceled", "runtime.onMessage", "runtime.onMessageExternal", "runtime.onConnect", "runtime.onConnectExternal", "runtime.onConnectNative", "runtime.onUpdateAvailable", "runtime.onBrowserUpdateAvailable", "runtime.onRestartRequired""#,
        },
        Malformed {
            what: "an unknown Rust script",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"rust\": \"alarm\"}}},\n \"timeline\": []}",
            error: r#"bad.json:2:25: at extensions.ext.background.rust: unknown Rust script "alarm"; expected one of: "alarm_clock", "stopwatch", "echo""#,
        },
        Malformed {
            what: "an invalid manifest",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": {\"name\": \"E\"}}},\n \"timeline\": []}",
            error: r#"bad.json:1:70: at extensions.ext.manifest: invalid manifest: Required value 'version' is missing or invalid. It must be between 1-4 dot-separated integers each between 0 and 65536."#,
        },
        Malformed {
            what: "a page without its code",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST}},\n \"timeline\": []}",
            error: r#"bad.json:1:57: at extensions.ext: the manifest has a background page, so the extension needs its code: "background": {"top_level": [...]} or {"rust": "NAME"}"#,
        },
        Malformed {
            what: "an outcome nothing records",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {}, \"timeline\": [],\n \"expect\": [{\"outcome\": {\"of\": \"reply\", \"is\": \"undefined\"}}]}",
            error: r#"bad.json:2:32: at expect[0].outcome.of: no action records an outcome as "reply"; expected one of the names given with "as": none"#,
        },
        Malformed {
            what: "an id of an unknown extension",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"background\": {\"top_level\": []}}},\n \"timeline\": [],\n \"expect\": [{\"storage\": {\"extension\": \"ext\", \"key\": \"k\", \"equals\": [\"${id:other}\"]}}]}",
            error: r#"bad.json:3:69: at expect[0].storage.equals[0]: ${id:other} names no extension; expected one of the extensions the file declares: "ext""#,
        },
        Malformed {
            what: "wrong arguments to an API",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"call\": {\"api\": \"runtime.setUninstallURL\", \"args\": []}}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:83: at extensions.ext.background.top_level[0].call.args: runtime.setUninstallURL() takes 1 argument (url, a string); found 0 arguments"#,
        },
        Malformed {
            what: "what a web page cannot do",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [\"start\", {\"open_tab\": {\"url\": \"https://a.example/\", \"as\": \"a\"}},\n  {\"in_web_page\": {\"tab\": \"a\", \"do\": [{\"store\": {\"k\": 1}}]}}]}",
            error: r#"bad.json:3:39: at timeline[2].in_web_page.do[0]: A web page cannot store; it may only use send_message, connect, post, disconnect and listen (to its ports)"#,
        },
        Malformed {
            what: "a time both exact and a window",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"background\": {\"top_level\": []}}},\n \"timeline\": [],\n \"expect\": [{\"event\": {\"event\": \"alarms.onAlarm\", \"extension\": \"ext\", \"at\": \"1s\", \"within\": {\"from\": \"0s\", \"to\": \"2s\"}}}]}",
            error: r#"bad.json:3:93: at expect[0].event.within: give "at" (an exact time) or "within" (a window), not both"#,
        },
        Malformed {
            what: "a native host name that is a path",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {}, \"timeline\": [],\n \"native_hosts\": {\"../bin/host\": {\"shell\": \"exit 0\"}}}",
            error: r#"bad.json:2:34: at native_hosts["../bin/host"]: "../bin/host" cannot name a native host: a host's name is words of letters, digits and _ joined by dots, e.g. com.example.host (a lookup of any other name fails with the browser's own error; it needs no declaration)"#,
        },
        Malformed {
            what: "an action after the one that ends the code",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"fail\": \"boom\"}, {\"wait\": \"1s\"}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:49: at extensions.ext.background.top_level[1]: unreachable: the fail before it ends the code; remove it or move it earlier"#,
        },
        Malformed {
            what: "an update of an unpacked extension",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"background\": {\"top_level\": []}}},\n \"timeline\": [\"start\", {\"publish_update\": {\"extension\": \"ext\", \"manifest\": {\"name\": \"E\", \"version\": \"2.0\"}}}]}",
            error: r#"bad.json:2:57: at timeline[1].publish_update.extension: "ext" is installed unpacked: the browser updates only packed extensions (an unpacked one is updated by reloading it); give it "location": "packed""#,
        },
        Malformed {
            what: "a new version's page without its code",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST, \"location\": \"packed\", \"background\": {\"top_level\": []}}},\n \"timeline\": [\"start\", {\"publish_update\": {\"extension\": \"ext\", \"manifest\": MANIFEST}}]}",
            error: r#"bad.json:2:43: at timeline[1].publish_update: the manifest has a background page, so the extension needs its code: "background": {"top_level": [...]} or {"rust": "NAME"}"#,
        },
        Malformed {
            what: "a browser version that is not one",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [\"start\", {\"stage_browser_update\": \"next\"}]}",
            error: r#"bad.json:2:49: at timeline[1].stage_browser_update: "next" is not a browser version; expected 1 to 4 numbers joined by dots, e.g. "157.0.7000.1""#,
        },
        Malformed {
            what: "an argument of the wrong type",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"call\": {\"api\": \"runtime.restartAfterDelay\", \"args\": [\"60\"]}}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:86: at extensions.ext.background.top_level[0].call.args[0]: runtime.restartAfterDelay(): `seconds` must be a 32-bit integer; found "60""#,
        },
        Malformed {
            what: "a callback form that is not simulated",
            text: "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {\"ext\": {\"manifest\": MANIFEST,\n \"background\": {\"top_level\": [{\"call\": {\"api\": \"runtime.restart\", \"callback\": true}}]}}},\n \"timeline\": []}",
            error: r#"bad.json:2:79: at extensions.ext.background.top_level[0].call.callback: runtime.restart() is simulated in the promise form only (the callback form is simulated for runtime.requestUpdateCheck); remove "callback""#,
        },
    ]
}

/// A step that cannot be carried out stops the run where it is, with the step's position and
/// the virtual time; the expectations are not checked, and the run counts as failed.
#[test]
fn a_step_that_cannot_be_carried_out_stops_the_run() {
    let text = "{\"name\": \"n\", \"description\": \"d\", \"extensions\": {},\n \"timeline\": [{\"advance\": \"1s\"},\n  {\"open_tab\": {\"url\": \"https://a.example/\", \"as\": \"a\"}},\n  \"start\"]}";
    let loaded = load_str(Path::new("early.json"), text.to_owned()).unwrap();
    let report = scenario::run(&loaded, &options());
    let error = report.error.as_ref().expect("the run stopped").to_string();
    assert_eq!(
        error,
        "early.json:3:3: at timeline[1]: at +00:00:01.000: the browser is not running"
    );
    assert_eq!((report.passed(), report.failed()), (0, 1));
    let steps = report
        .lines
        .iter()
        .filter(|l| matches!(l, scenario::Line::Step { .. }))
        .count();
    assert_eq!(steps, 2, "the step after the failed one did not run");
}

/// Declared code that uses a port it has not opened (yet) stops the run with the action's
/// position, instead of going on without it.
#[test]
fn declared_code_that_uses_a_port_it_has_not_opened_stops_the_run() {
    let text = r#"{"name": "n", "description": "d",
 "extensions": {"ext": {"manifest": MANIFEST, "background": {"top_level": [
   {"listen": {"event": "alarms.onAlarm", "do": [{"post": {"port": "p", "message": 1}}]}},
   {"listen": {"event": "commands.onCommand", "do": [{"connect": {"as": "p"}}]}}
 ]}}},
 "timeline": ["start", {"fire_event": {"extension": "ext", "event": "alarms.onAlarm"}}, {"advance": "1s"}]}"#
        .replace("MANIFEST", MANIFEST);
    let loaded = load_str(Path::new("port.json"), text).unwrap();
    let report = scenario::run(&loaded, &options());
    let error = report.error.as_ref().expect("the run stopped").to_string();
    assert_eq!(
        error,
        "port.json:3:59: at extensions.ext.background.top_level[0].listen.do[0].post: at +00:00:00.000: the port \"p\" has not been opened by this code (yet)"
    );
}

/// An update published "at" a time that has passed stops the run, with the step's position.
#[test]
fn an_update_cannot_be_published_in_the_past() {
    let text = r#"{"name": "n", "description": "d",
 "extensions": {"ext": {"manifest": {"name": "E", "version": "1.0"}, "location": "packed"}},
 "timeline": ["start", {"advance": "1m"},
  {"publish_update": {"extension": "ext", "manifest": {"name": "E", "version": "2.0"}, "at": "10s"}}]}"#;
    let loaded = load_str(Path::new("past.json"), text.to_owned()).unwrap();
    let report = scenario::run(&loaded, &options());
    let error = report.error.as_ref().expect("the run stopped").to_string();
    assert_eq!(
        error,
        "past.json:4:3: at timeline[2]: at +00:01:00.000: cannot publish at +00:00:10.000: the clock already reads +00:01:00.000"
    );
}

/// A state expectation about versions says what was expected against what the trace shows.
#[test]
fn a_wrong_version_expectation_fails_readably() {
    let busy = include_str!("../scenarios/update-while-busy.json");
    let wrong = busy.replacen(
        r#"{"state": {"extension": "notes", "at": "6m", "version": "1.0", "pending_update": "2.0"}}"#,
        r#"{"state": {"extension": "notes", "at": "6m", "version": "2.0", "pending_update": null, "terminated": true}}"#,
        1,
    );
    assert_ne!(wrong, busy);
    let loaded = load_str(Path::new("wrong.json"), wrong).unwrap();
    let report = scenario::run(&loaded, &options());
    let failed: Vec<_> = report.checks.iter().filter(|c| !c.passed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].expected,
        "notes at +00:06:00.000: version 2.0, no update waiting, terminated"
    );
    assert_eq!(
        failed[0].actual,
        "notes at +00:06:00.000: version 1.0, update 2.0 waiting, not terminated"
    );
}

/// A manifest can be a path, relative to the scenario file: the extension's id then comes from
/// the manifest's key (or the folder), as for any unpacked extension.
#[test]
fn a_manifest_can_be_given_by_path() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenario.json");
    let text = r#"{"name": "n", "description": "d",
 "extensions": {"hangouts": {"manifest": "hangout_services", "background": {"top_level": [
   {"listen": {"event": "runtime.onInstalled", "do": [{"call": {"api": "runtime.getURL", "args": ["x"], "as": "url"}}]}}
 ]}}},
 "timeline": ["start"],
 "expect": [{"outcome": {"of": "url", "is": {"value": "chrome-extension://nkeimhogjdpnpccoofpliimaahmaaome/x"}}}]}"#;
    let loaded = load_str(&file, text.to_owned()).unwrap();
    assert_eq!(
        loaded.ids.get("hangouts").map(|id| id.to_string()),
        Some("nkeimhogjdpnpccoofpliimaahmaaome".to_owned())
    );
    let report = scenario::run(&loaded, &options());
    assert_eq!((report.passed(), report.failed()), (1, 0));

    let missing = text.replace("\"hangout_services\"", "\"no_such_folder\"");
    let err = load_str(&file, missing).unwrap_err().to_string();
    assert!(
        err.contains(
            "scenario.json:2:42: at extensions.hangouts.manifest: cannot load the manifest: Manifest file is missing or unreadable ("
        ) && err.contains("no_such_folder"),
        "{err}"
    );
}

/// `${id:NAME}` cannot be used where it would change the extension's own id.
#[test]
fn an_id_cannot_be_used_in_a_manifests_name() {
    let text = r#"{"name": "n", "description": "d",
 "extensions": {"a": {"manifest": {"name": "A ${id:b}", "version": "1.0"}},
                "b": {"manifest": {"name": "B", "version": "1.0"}}},
 "timeline": []}"#;
    let err = load_str(Path::new("ids.json"), text.to_owned())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "ids.json:2:35: at extensions.a.manifest: ${id:…} cannot be used in a manifest's \"name\" or \"key\": they make the extension's own id"
    );
}

/// A `state` expectation at an instant inside an `advance` or a `run_until_idle` reads the
/// browser as it was then: the run stops there to read it. An event page (Chrome's 10 s idle
/// and 5 s suspending window) is active at 3 s, closing at 12 s, and unloaded at 20 s.
#[test]
fn states_are_read_at_their_instant_inside_a_time_step() {
    for time_step in [r#"{"advance": "1m"}"#, r#""run_until_idle""#] {
        let text = r#"{"name": "n", "description": "d",
 "extensions": {"ext": {"manifest": MANIFEST, "background": {"top_level": []}}},
 "timeline": ["start", STEP],
 "expect": [
   {"state": {"extension": "ext", "at": "3s", "page": "active", "loads": 1}},
   {"state": {"extension": "ext", "at": "12s", "page": "closing"}},
   {"state": {"extension": "ext", "at": "20s", "page": "unloaded", "loads": 1}},
   {"state": {"extension": "ext", "page": "unloaded", "installed": true}}
 ]}"#
        .replace("MANIFEST", MANIFEST)
        .replace("STEP", time_step);
        let loaded = load_str(Path::new("states.json"), text).unwrap();
        let report = scenario::run(&loaded, &options());
        assert!(
            report.failed() == 0 && report.passed() == 4,
            "{time_step}: {}",
            render::text(&report, false)
        );
    }
}

/// An extension's `managed_storage` is the policy its `chrome.storage.managed` holds: read by
/// the extension, refused to its writes with Chromium's error (a fixture, not part of the
/// library: storage has no section of runtime-behaviour.md to name).
#[test]
fn managed_storage_is_set_by_the_scenario_and_read_only() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/managed-storage.json");
    let loaded = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
    let report = scenario::run(&loaded, &options());
    assert!(
        report.failed() == 0 && report.passed() == 4,
        "{}",
        render::text(&report, false)
    );
}
