//! CI runs the README's test command, so that what a newcomer is told to run is what CI
//! checks.

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The README's test command (the first line of the block after "Run the tests") is a line
/// of `.ci/run`, and it does not stop at the first failing test file.
#[test]
fn ci_runs_the_readmes_test_command() {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).unwrap();
    let after = &readme[readme
        .find("Run the tests")
        .expect("the README says how to run the tests")..];
    let block = &after[after.find("```bash\n").expect("a bash block") + "```bash\n".len()..];
    let command = block.lines().next().expect("a command");
    assert_eq!(command, "cargo test --workspace --no-fail-fast");
    let ci = std::fs::read_to_string(format!("{ROOT}/.ci/run")).unwrap();
    assert!(
        ci.lines().any(|line| line == command),
        ".ci/run does not run the README's test command {command:?}"
    );
}
