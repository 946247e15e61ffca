//! Manifest lookup and validation end to end (§5.3, §5.4): every failure gives the
//! browser's exact string, and no process is started.

mod support;

use std::fs;

use runtime_native::error::{FORBIDDEN, INVALID_NAME, NOT_FOUND};
use runtime_native::{
    load_manifest, BrowserKind, ErrorKind, HostManifestError, Launcher, Lookup, NativeError,
    NotFoundReason, Os,
};
use support::*;

fn lookup_in(dir: &std::path::Path, browser: BrowserKind) -> Lookup {
    Lookup::new(browser).dir(dir).without_default_dirs()
}

fn launcher_in(dir: &std::path::Path, browser: BrowserKind) -> Launcher {
    Launcher::new(browser).with_lookup(lookup_in(dir, browser))
}

fn invalid_manifest(err: &NativeError) -> &HostManifestError {
    match err {
        NativeError::NotFound {
            reason: NotFoundReason::InvalidManifest { source, .. },
            ..
        } => source,
        other => panic!("expected an invalid manifest, got {other:?}"),
    }
}

#[test]
fn finds_a_valid_manifest_in_an_added_folder() {
    let host = script_host("exit 0");
    for browser in BrowserKind::ALL {
        let path = install_manifest(host.path(), "com.example.host", &host.exe, browser);
        let found = lookup_in(host.path(), browser)
            .find("com.example.host")
            .expect("found");
        assert_eq!(found.manifest_path, path);
        assert_eq!(found.manifest.path, host.exe);
        let launch = launcher_in(host.path(), browser)
            .resolve("com.example.host", extension_id(browser))
            .expect("resolves");
        assert_eq!(launch.program(), host.exe);
    }
}

#[test]
fn invalid_name_is_checked_first() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["Bad-Name", "", "a..b", ".a", "a.", "a b", "a/../b"] {
        let err = lookup_in(dir.path(), BrowserKind::Chrome)
            .find(name)
            .unwrap_err();
        assert_eq!(err.to_string(), INVALID_NAME, "{name:?}");
        assert_eq!(err.kind(), ErrorKind::InvalidName);
    }
    // Firefox allows upper case, so "Upper" is a valid (if absent) name there.
    let err = lookup_in(dir.path(), BrowserKind::Chrome)
        .find("Upper")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
    let err = lookup_in(dir.path(), BrowserKind::Firefox)
        .find("Upper")
        .unwrap_err();
    assert_eq!(err.to_string(), "No such native application Upper");
}

#[test]
fn missing_manifest_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let err = lookup_in(dir.path(), BrowserKind::Chrome)
        .find("nope")
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert!(matches!(
        &err,
        NativeError::NotFound { reason: NotFoundReason::NoManifest { searched }, .. }
            if searched == &vec![dir.path().to_path_buf()]
    ));
    let err = lookup_in(dir.path(), BrowserKind::Firefox)
        .find("nope")
        .unwrap_err();
    assert_eq!(err.to_string(), "No such native application nope");
    let none = Lookup::new(BrowserKind::Chromium).without_default_dirs();
    assert_eq!(none.find("nope").unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn relative_path_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("rel.json"),
        r#"{"name":"rel","description":"d","path":"host.sh","type":"stdio",
            "allowed_origins":["chrome-extension://knldjmfmopnpolahpmmgbagdohdnhkik/"]}"#,
    )
    .unwrap();
    let err = lookup_in(dir.path(), BrowserKind::Chrome)
        .find("rel")
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert!(matches!(
        invalid_manifest(&err),
        HostManifestError::RelativePath { .. }
    ));
    // The cause is kept behind the browser's string.
    let source = std::error::Error::source(&err).expect("a source");
    assert!(source.to_string().contains("rel.json"), "{source}");
}

#[test]
fn mismatched_name_is_not_found() {
    let host = script_host("exit 0");
    let manifest = manifest_for("other", &host.exe, BrowserKind::Chrome);
    fs::write(host.path().join("wanted.json"), manifest.to_json_pretty()).unwrap();
    let err = lookup_in(host.path(), BrowserKind::Chrome)
        .find("wanted")
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert!(matches!(
        invalid_manifest(&err),
        HostManifestError::NameMismatch { .. }
    ));
}

#[test]
fn bad_manifests_are_not_found() {
    let host = script_host("exit 0");
    let exe = host.exe.display().to_string();
    let cases: Vec<(&str, String)> = vec![
        ("syntax", "{ not json".to_owned()),
        (
            "missing_path",
            r#"{"name":"missing_path","description":"d","type":"stdio","allowed_origins":[]}"#
                .to_owned(),
        ),
        (
            "empty_desc",
            format!(
                r#"{{"name":"empty_desc","description":"","path":"{exe}","type":"stdio","allowed_origins":[]}}"#
            ),
        ),
        (
            "wrong_type",
            format!(
                r#"{{"name":"wrong_type","description":"d","path":"{exe}","type":"pkcs11","allowed_origins":[]}}"#
            ),
        ),
        (
            "wildcard",
            format!(
                r#"{{"name":"wildcard","description":"d","path":"{exe}","type":"stdio","allowed_origins":["chrome-extension://*/"]}}"#
            ),
        ),
        (
            "no_origins",
            format!(
                r#"{{"name":"no_origins","description":"d","path":"{exe}","type":"stdio","allowed_extensions":["a@b"]}}"#
            ),
        ),
    ];
    for (name, text) in cases {
        fs::write(host.path().join(format!("{name}.json")), text).unwrap();
        let err = lookup_in(host.path(), BrowserKind::Chrome)
            .find(name)
            .unwrap_err();
        assert_eq!(err.to_string(), NOT_FOUND, "{name}");
        invalid_manifest(&err);
    }
    // A name in the manifest that breaks the rule.
    let text = format!(
        r#"{{"name":"Bad Name","description":"d","path":"{exe}","type":"stdio","allowed_origins":[]}}"#
    );
    fs::write(host.path().join("bad_inner.json"), text).unwrap();
    let err = lookup_in(host.path(), BrowserKind::Chrome)
        .find("bad_inner")
        .unwrap_err();
    assert!(matches!(
        invalid_manifest(&err),
        HostManifestError::InvalidName { .. }
    ));
}

#[test]
fn unreadable_manifest_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("dir_host.json")).unwrap();
    let err = lookup_in(dir.path(), BrowserKind::Chrome)
        .find("dir_host")
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert!(matches!(
        err,
        NativeError::NotFound {
            reason: NotFoundReason::Unreadable { .. },
            ..
        }
    ));
}

#[test]
fn wrong_origin_is_forbidden() {
    let host = script_host("exit 0");
    for browser in BrowserKind::ALL {
        install_manifest(host.path(), "guarded", &host.exe, browser);
        let err = launcher_in(host.path(), browser)
            .resolve("guarded", "someoneelse")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden);
        if browser.is_firefox() {
            assert_eq!(err.to_string(), "No such native application guarded");
        } else {
            assert_eq!(err.to_string(), FORBIDDEN);
        }
    }
    // A Chrome manifest lists origins, so Firefox finds no allowed_extensions in it.
    install_manifest(host.path(), "chrome_only", &host.exe, BrowserKind::Chrome);
    let err = lookup_in(host.path(), BrowserKind::Firefox)
        .find("chrome_only")
        .unwrap_err();
    assert!(matches!(
        invalid_manifest(&err),
        HostManifestError::MissingAllowedExtensions
    ));
}

#[test]
fn missing_executable_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("absent");
    install_manifest(dir.path(), "ghost", &exe, BrowserKind::Chrome);
    let err = launcher_in(dir.path(), BrowserKind::Chrome)
        .resolve("ghost", CHROME_ID)
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert!(matches!(
        err,
        NativeError::NotFound {
            reason: NotFoundReason::ExecutableMissing { .. },
            ..
        }
    ));
}

#[test]
fn search_order() {
    let first = script_host("exit 0");
    let second = script_host("exit 1");
    install_manifest(first.path(), "twice", &first.exe, BrowserKind::Chrome);
    install_manifest(second.path(), "twice", &second.exe, BrowserKind::Chrome);
    let found = Lookup::new(BrowserKind::Chrome)
        .dir(first.path())
        .dir(second.path())
        .without_default_dirs()
        .find("twice")
        .unwrap();
    assert_eq!(found.manifest.path, first.exe);

    // The first folder holding the file decides, even when its manifest is bad.
    fs::write(first.path().join("shadowed.json"), "{}").unwrap();
    install_manifest(second.path(), "shadowed", &second.exe, BrowserKind::Chrome);
    let err = Lookup::new(BrowserKind::Chrome)
        .dir(first.path())
        .dir(second.path())
        .without_default_dirs()
        .find("shadowed")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn user_level_folder_under_home() {
    let home = tempfile::tempdir().unwrap();
    let host = script_host("exit 0");
    let user_dir = home.path().join(".mozilla/native-messaging-hosts");
    fs::create_dir_all(&user_dir).unwrap();
    install_manifest(&user_dir, "homed", &host.exe, BrowserKind::Firefox);
    let lookup = Lookup::new(BrowserKind::Firefox)
        .home(home.path())
        .os(Os::Linux);
    assert_eq!(lookup.search_dirs()[0], user_dir);
    let found = lookup.find("homed").expect("found under home");
    assert_eq!(found.manifest_path, user_dir.join("homed.json"));
}

#[test]
fn direct_manifest_path() {
    let host = script_host("exit 0");
    let path = install_manifest(host.path(), "direct", &host.exe, BrowserKind::Firefox);
    let found = load_manifest(&path, BrowserKind::Firefox, "direct").unwrap();
    assert!(found.manifest_path.is_absolute());
    let err = load_manifest(&path, BrowserKind::Firefox, "other").unwrap_err();
    assert_eq!(err.to_string(), "No such native application other");
    let err = load_manifest(&path, BrowserKind::Chrome, "Bad!").unwrap_err();
    assert_eq!(err.to_string(), INVALID_NAME);
}

/// The reason of a "not found" whose manifest could not be read.
fn unreadable(err: &NativeError) -> &std::io::Error {
    match err {
        NativeError::NotFound {
            reason: NotFoundReason::Unreadable { source, .. },
            ..
        } => source,
        other => panic!("expected an unreadable manifest, got {other:?}"),
    }
}

/// Regression: a host manifest that was a FIFO blocked the lookup forever (reading waited for
/// a writer), and one that was `/dev/zero` was read without limit (23 GB before the kernel
/// killed the process). Both are now "not found" at once, with the reason kept.
#[test]
fn a_fifo_or_a_device_as_a_manifest_is_not_found_at_once() {
    let dir = tempfile::tempdir().unwrap();
    make_fifo(&dir.path().join("com.example.fifo.json"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("com.example.zero.json")).unwrap();
    for (name, what) in [
        (
            "com.example.fifo",
            "not a regular file: it is a FIFO (named pipe)",
        ),
        (
            "com.example.zero",
            "not a regular file: it is a character device",
        ),
    ] {
        for browser in BrowserKind::ALL {
            let lookup = lookup_in(dir.path(), browser);
            let err = within(std::time::Duration::from_secs(10), name, move || {
                lookup.find(name).unwrap_err()
            });
            assert_eq!(err.kind(), ErrorKind::NotFound);
            if !browser.is_firefox() {
                assert_eq!(err.to_string(), NOT_FOUND);
            }
            assert_eq!(unreadable(&err).to_string(), what);
        }
    }
    // Named directly, as `runtime-sim native /dev/zero` does.
    let err = within(std::time::Duration::from_secs(10), "/dev/zero", || {
        load_manifest(
            std::path::Path::new("/dev/zero"),
            BrowserKind::Chrome,
            "zero",
        )
        .unwrap_err()
    });
    assert_eq!(err.to_string(), NOT_FOUND);
    assert_eq!(unreadable(&err).kind(), std::io::ErrorKind::InvalidInput);
}

/// A manifest over `MAX_HOST_MANIFEST_SIZE` is refused before it is read; one at the limit is
/// read.
#[test]
fn a_manifest_over_the_size_limit_is_not_found() {
    let host = script_host("exit 0");
    let path = install_manifest(
        host.path(),
        "com.example.big",
        &host.exe,
        BrowserKind::Chrome,
    );
    let mut text = fs::read(&path).unwrap();
    let limit = usize::try_from(runtime_native::MAX_HOST_MANIFEST_SIZE).unwrap();
    text.resize(limit, b' '); // JSON allows trailing white space.
    fs::write(&path, &text).unwrap();
    lookup_in(host.path(), BrowserKind::Chrome)
        .find("com.example.big")
        .expect("a manifest of exactly the limit is read");

    text.push(b' ');
    fs::write(&path, &text).unwrap();
    let err = lookup_in(host.path(), BrowserKind::Chrome)
        .find("com.example.big")
        .unwrap_err();
    assert_eq!(err.to_string(), NOT_FOUND);
    assert_eq!(
        unreadable(&err).kind(),
        std::io::ErrorKind::FileTooLarge,
        "{:?}",
        unreadable(&err)
    );
    assert_eq!(
        unreadable(&err).to_string(),
        "the file is 1048577 bytes, over the limit of 1048576 bytes (1 MiB)"
    );
}
