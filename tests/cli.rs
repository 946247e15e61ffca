//! The `runtime-sim` command.

use std::path::Path;
use std::process::Command;

fn runtime_sim(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_runtime-sim"))
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn id_from_a_real_component_extension_key() {
    let dir = fixture("hangout_services");
    for path in [dir.clone(), format!("{dir}/manifest.json")] {
        let (code, out, err) = runtime_sim(&["id", &path]);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, "nkeimhogjdpnpccoofpliimaahmaaome\n", "")
        );
    }
}

#[test]
fn id_from_the_absolute_path_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.json"),
        r#"{"name": "no key", "version": "1"}"#,
    )
    .unwrap();
    let absolute = std::fs::canonicalize(dir.path()).unwrap();
    let expected = runtime_sim::ExtensionId::from_bytes(absolute.to_str().unwrap().as_bytes());
    let (code, out, _) = runtime_sim(&["id", dir.path().to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), expected.as_str());
}

#[test]
fn id_errors_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let (code, out, err) = runtime_sim(&["id", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("Manifest file is missing or unreadable ("),
        "{err}"
    );

    std::fs::write(
        dir.path().join("manifest.json"),
        r#"{"name": "bad key", "version": "1", "key": "not*base64"}"#,
    )
    .unwrap();
    let (code, _, err) = runtime_sim(&["id", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("Invalid value for 'key'."), "{err}");
}
