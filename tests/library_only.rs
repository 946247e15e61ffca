//! A crate that uses only the library compiles only the library: with the README's dependency
//! line, `runtime-sim = { version = "0.1", default-features = false }`, none of the command's
//! crates is in runtime-sim's dependency tree.

use std::process::Command;

/// The crates of the `runtime-sim` command and its scenario files (feature `cli`), with the
/// crates only they bring in.
const COMMAND_CRATES: &[&str] = &[
    "clap",
    "clap_builder",
    "clap_derive",
    "clap_lex",
    "tracing-subscriber",
    "tracing-log",
    "sharded-slab",
    "matchers",
    "nu-ansi-term",
    "schemars",
    "schemars_derive",
    "jsonc-parser",
    "humantime",
    "tempfile",
    "anstream",
    "anstyle",
    "anstyle-parse",
    "anstyle-query",
    "colorchoice",
    "serde_path_to_error",
];

/// The packages (by name) of `cargo tree` for the library alone, normal dependencies, to
/// `depth` if given.
fn library_tree(depth: Option<&str>) -> Vec<String> {
    let mut command = Command::new(env!("CARGO"));
    command
        .args([
            "tree",
            "-p",
            "runtime-sim",
            "--no-default-features",
            "-e",
            "normal",
        ])
        .args([
            "--prefix",
            "none",
            "--format",
            "{p}",
            "--offline",
            "--locked",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    if let Some(depth) = depth {
        command.args(["--depth", depth]);
    }
    let out = command.output().expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

/// Regression: a crate that used only the library compiled the command's crates too (99 in
/// all: clap, tracing-subscriber, schemars, jsonc-parser, humantime, tempfile, anstream …).
#[test]
fn the_library_alone_compiles_none_of_the_commands_crates() {
    let tree = library_tree(None);
    assert!(tree.iter().any(|p| p == "runtime-core"), "{tree:?}");
    let found: Vec<&String> = tree
        .iter()
        .filter(|p| COMMAND_CRATES.contains(&p.as_str()))
        .collect();
    assert!(
        found.is_empty(),
        "the library alone compiles the command's crates {found:?}"
    );
    // indexmap comes with serde_json's `preserve_order`, which the library uses; the scenario
    // files' own use of it is the command's.
    let direct = library_tree(Some("1"));
    assert_eq!(
        direct[1..],
        ["runtime-core", "runtime-events", "runtime-native"],
        "the library's own dependencies: {direct:?}"
    );
}
