//! The test helpers: a host registered in one call (`TempHost`), and a launcher that does not
//! search the machine's real manifest folders unless asked to (`Launcher::isolated`,
//! `Lookup::only`).

mod support;

use runtime_native::{BrowserKind, Launcher, Lookup, Received, TempHost};
use serde_json::json;
use support::*;

/// A `connectNative` port through a `TempHost`'s launcher, under each browser's manifest form
/// and argv.
#[tokio::test]
async fn a_temp_host_is_found_and_run_by_its_launcher() {
    for browser in BrowserKind::ALL {
        // The host answers with its own argv[1]: the caller's origin (Chrome) or its manifest's
        // path (Firefox).
        let host = TempHost::script(
            browser,
            "com.example.argv",
            r#"cat >/dev/null & printf '%s' "\"$1\"" > reply.json
n=$(wc -c < reply.json)
printf "$(printf '\\%03o\\000\\000\\000' "$n")"; cat reply.json; wait"#,
            &[extension_id(browser)],
        )
        .unwrap();
        let mut process = exec_locked(async {
            host.launcher()
                .connect_native("com.example.argv", extension_id(browser))
        })
        .await
        .unwrap();
        if cfg!(target_endian = "little") {
            let Received::Message(first) = process.recv().await.unwrap() else {
                panic!("not JSON");
            };
            let expected = if browser.is_firefox() {
                json!(host.manifest_path())
            } else {
                json!(format!("chrome-extension://{}/", extension_id(browser)))
            };
            assert_eq!(first, expected, "{browser}");
        }
        let exit = process.close().await.unwrap();
        assert_eq!(exit.code(), Some(0), "{browser}");
    }
}

/// A caller the host does not list is forbidden, as with any manifest.
#[test]
fn a_temp_host_allows_only_the_extensions_it_is_given() {
    let host = TempHost::script(
        BrowserKind::Chrome,
        "com.example.picky",
        "exit 0",
        &[CHROME_ID],
    )
    .unwrap();
    let other = "abcdefghijklmnopabcdefghijklmnop";
    let err = host
        .launcher()
        .resolve("com.example.picky", other)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Access to the specified native messaging host is forbidden."
    );
    assert!(host
        .launcher()
        .resolve("com.example.picky", CHROME_ID)
        .is_ok());
}

/// The machine's real folders are searched by `Lookup::new` (here a user-level folder under a
/// home of the test's own), never by `Lookup::only` or `Launcher::isolated`.
#[test]
fn an_isolated_launcher_does_not_search_the_browsers_folders() {
    let home = tempfile::tempdir().unwrap();
    let user_dir = home
        .path()
        .join(".config/google-chrome/NativeMessagingHosts");
    std::fs::create_dir_all(&user_dir).unwrap();
    let exe = script_host("exit 0");
    install_manifest(
        &user_dir,
        "com.example.installed",
        &exe.exe,
        BrowserKind::Chrome,
    );

    let real = Lookup::new(BrowserKind::Chrome).home(home.path());
    assert!(real.find("com.example.installed").is_ok());
    let only =
        Lookup::only(BrowserKind::Chrome, Vec::<std::path::PathBuf>::new()).home(home.path());
    assert!(only.search_dirs().is_empty());
    assert!(only.find("com.example.installed").is_err());
    assert!(Launcher::isolated(BrowserKind::Chrome)
        .lookup()
        .search_dirs()
        .is_empty());

    // Two hosts, each in its folder, found by one launcher.
    let a = TempHost::script(BrowserKind::Chrome, "com.example.a", "exit 0", &[CHROME_ID]).unwrap();
    let b = TempHost::script(BrowserKind::Chrome, "com.example.b", "exit 0", &[CHROME_ID]).unwrap();
    let both = Launcher::isolated(BrowserKind::Chrome)
        .with_dir(a.dir())
        .with_dir(b.dir());
    assert!(both.resolve("com.example.a", CHROME_ID).is_ok());
    assert!(both.resolve("com.example.b", CHROME_ID).is_ok());
    assert!(a.launcher().resolve("com.example.b", CHROME_ID).is_err());
}
