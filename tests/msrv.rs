//! `rust-version` is the real minimum: no crate that a build of the workspace compiles asks
//! for a newer Rust than the workspace declares. Only one toolchain is at hand, so instead of
//! building with the declared one, this reads what each locked dependency declares
//! (`cargo metadata`); what the project's own code uses of the standard library is checked
//! against the same `rust-version` by clippy's `incompatible_msrv` lint (denied in the
//! workspace's `[workspace.lints]`, and allowed nowhere: see the last test).
//!
//! Two sets are checked. What `cargo build` compiles (every member with every feature, its
//! normal and build dependencies, on this platform) must not need more than `rust-version`.
//! The tests also compile the members' dev-dependencies; those may need more, and that
//! version is [`TESTS_RUST_VERSION`], which the README states: it must be exactly the newest
//! any of them asks for, so that the README stays true.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The Rust the tests need (the README says so): proptest 1.12, a dev-dependency, asks for
/// 1.88; the library and the command need only the workspace's `rust-version`.
const TESTS_RUST_VERSION: (u64, u64, u64) = (1, 88, 0);

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn cargo(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(ROOT)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `1.85`, `1.85.0` → (1, 85, 0).
fn version(text: &str) -> (u64, u64, u64) {
    let mut parts = text.split('.').map(|p| p.parse::<u64>().expect("a number"));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

fn shown((major, minor, patch): (u64, u64, u64)) -> String {
    format!("{major}.{minor}.{patch}")
}

/// The workspace's packages and dependencies as this platform resolves them, every feature on.
fn metadata() -> Value {
    let host = cargo(&["-vV"])
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        .expect("cargo -vV names the host");
    let text = cargo(&[
        "metadata",
        "--format-version",
        "1",
        "--all-features",
        "--locked",
        "--offline",
        "--filter-platform",
        &host,
    ]);
    serde_json::from_str(&text).expect("metadata is JSON")
}

/// Each package's dependencies: the package, and the kinds of the dependency (`None` for
/// normal, `Some("build")`, `Some("dev")`).
type Graph = BTreeMap<String, Vec<(String, Vec<Option<String>>)>>;

/// The packages reached from `start` through dependencies of the given kinds (`None` for
/// normal, `Some("build")`, `Some("dev")`), the first step through `first` kinds.
fn reached(
    graph: &Graph,
    start: &[String],
    first: &[Option<&str>],
    then: &[Option<&str>],
) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = start.iter().cloned().collect();
    let mut queue: VecDeque<(String, bool)> = start.iter().map(|s| (s.clone(), true)).collect();
    while let Some((id, is_start)) = queue.pop_front() {
        let kinds = if is_start { first } else { then };
        for (dep, dep_kinds) in graph.get(&id).into_iter().flatten() {
            let follows = dep_kinds.iter().any(|k| kinds.contains(&k.as_deref()));
            if follows && seen.insert(dep.clone()) {
                queue.push_back((dep.clone(), false));
            }
        }
    }
    seen
}

#[test]
fn no_dependency_needs_a_newer_rust_than_the_workspace_declares() {
    let meta = metadata();
    let members: Vec<String> = meta["workspace_members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m.as_str().expect("an id").to_owned())
        .collect();
    let mut packages = BTreeMap::new();
    for package in meta["packages"].as_array().expect("packages") {
        let id = package["id"].as_str().expect("an id").to_owned();
        let name = format!(
            "{} {}",
            package["name"].as_str().unwrap_or("?"),
            package["version"].as_str().unwrap_or("?")
        );
        let needs = package["rust_version"].as_str().map(version);
        packages.insert(id, (name, needs));
    }
    let mut graph = Graph::new();
    for node in meta["resolve"]["nodes"].as_array().expect("the resolve") {
        let deps = node["deps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|dep| {
                let kinds = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|k| k["kind"].as_str().map(str::to_owned))
                    .collect();
                (dep["pkg"].as_str().expect("a package").to_owned(), kinds)
            })
            .collect::<Vec<_>>();
        graph.insert(node["id"].as_str().expect("an id").to_owned(), deps);
    }

    // Each member declares its minimum; all but runtime-js and the root package, which
    // depends on it for its command, share the workspace's (rquickjs, which runtime-js uses,
    // asks for more). What a member's build compiles must not need more than the member
    // declares.
    let declared_of = |member: &String| {
        packages[member]
            .1
            .unwrap_or_else(|| panic!("{} declares no rust-version", packages[member].0))
    };
    let workspace: BTreeSet<_> = members
        .iter()
        .filter(|m| {
            !["runtime-js ", "runtime-sim "]
                .iter()
                .any(|own| packages[*m].0.starts_with(own))
        })
        .map(declared_of)
        .collect();
    assert_eq!(
        workspace.len(),
        1,
        "the members declare different rust-versions: {workspace:?}"
    );
    let declared = workspace.into_iter().next().expect("a member");

    let too_new = |set: &BTreeSet<String>, limit| {
        set.iter()
            .filter_map(|id| match &packages[id] {
                (name, Some(needs)) if *needs > limit => {
                    Some(format!("{name} needs {}", shown(*needs)))
                }
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    for member in &members {
        let build = reached(
            &graph,
            std::slice::from_ref(member),
            &[None, Some("build")],
            &[None, Some("build")],
        );
        let limit = declared_of(member);
        let for_build = too_new(&build, limit);
        assert!(
            for_build.is_empty(),
            "{} declares rust-version {}, but its build compiles crates that need more: {for_build:?}; raise its rust-version (and the README)",
            packages[member].0,
            shown(limit)
        );
    }
    let tests = reached(
        &graph,
        &members,
        &[None, Some("build"), Some("dev")],
        &[None, Some("build")],
    );
    let for_tests = too_new(&tests, TESTS_RUST_VERSION);
    assert!(
        for_tests.is_empty(),
        "the tests compile crates that need more than Rust {}: {for_tests:?}; raise TESTS_RUST_VERSION and the README",
        shown(TESTS_RUST_VERSION)
    );
    let newest_for_tests = tests
        .iter()
        .filter_map(|id| packages[id].1)
        .max()
        .unwrap_or(declared)
        .max(declared);
    assert_eq!(
        newest_for_tests,
        TESTS_RUST_VERSION,
        "the tests need Rust {}, not {}: lower TESTS_RUST_VERSION and the README",
        shown(newest_for_tests),
        shown(TESTS_RUST_VERSION)
    );
}

/// The lint that checks the project's own use of the standard library against `rust-version`
/// is denied in every package and allowed nowhere in its code.
#[test]
fn incompatible_msrv_is_denied_and_never_allowed() {
    let needle = ["incompatible", "_msrv"].concat();
    let this_file = Path::new(ROOT).join(file!());
    let mut offenders = Vec::new();
    let mut folders = vec![Path::new(ROOT).to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("lists").flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && name != ".git" {
                    folders.push(path);
                }
                continue;
            }
            let text = || std::fs::read_to_string(&path).unwrap_or_default();
            if path.extension().is_some_and(|e| e == "rs") && path != this_file {
                // No `allow` (nor `expect`, nor `warn`) in the code.
                if text().contains(&needle) {
                    offenders.push(path.display().to_string());
                }
            } else if name == "Cargo.toml" {
                let text = text();
                let denied = format!("{needle} = \"deny\"");
                let takes_workspace = text.contains("[lints]\nworkspace = true");
                let own = text
                    .lines()
                    .filter(|l| l.contains(&needle) && !l.trim_start().starts_with('#'))
                    .collect::<Vec<_>>();
                let ok = if path == Path::new(ROOT).join("Cargo.toml") {
                    own == [denied.as_str()] && takes_workspace
                } else {
                    (own.is_empty() && takes_workspace) || own == [denied.as_str()]
                };
                if !ok {
                    offenders.push(format!("{} ({own:?})", path.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "clippy::{needle} must be denied in every package and allowed nowhere: {offenders:?}"
    );
}
