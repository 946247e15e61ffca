//! The `runtime` members of the foundation, with the browser's exact error strings
//! (runtime-behaviour.md §6).

mod common;

use std::time::Duration;

use common::*;
use runtime_sim::{
    script_fn, Browser, ExtensionSpec, GetBackgroundPageError, PageState, PlatformArch,
    PlatformInfo, PlatformOs, TraceEvent, ViewKind,
};
use serde_json::json;

fn nothing() -> impl runtime_sim::BackgroundScript {
    script_fn(|_rt| async { Ok(()) })
}

#[test]
fn get_url_follows_chromiums_rule() {
    let spec = extension("urls", false, nothing());
    let (mut browser, id) = browser_with(spec);
    let rt = popup_runtime(&mut browser, &id);
    let base = format!("chrome-extension://{id}");
    assert_eq!(rt.get_url(""), format!("{base}/"));
    assert_eq!(rt.get_url("a.html"), format!("{base}/a.html"));
    assert_eq!(rt.get_url("/a.html"), format!("{base}/a.html"));
    // The path is canonicalised as Chromium 148 does (conformance/goldens/chromium-mv3.json):
    // dot segments resolved, spaces and non-ASCII escaped; this test once said "no other
    // normalisation", which the real browser contradicted.
    assert_eq!(rt.get_url("//x/../y?q#f"), format!("{base}//y?q#f"));
    assert_eq!(
        rt.get_url("a b/ü.html"),
        format!("{base}/a%20b/%C3%BC.html")
    );
    assert_eq!(rt.id(), &id);
    assert_eq!(rt.get_manifest()["name"], json!("urls"));
}

#[test]
fn get_platform_info_reports_the_configured_platform_or_fails_exactly() {
    let info = PlatformInfo {
        os: PlatformOs::Mac,
        arch: PlatformArch::Arm64,
        nacl_arch: PlatformArch::Arm,
    };
    for (platform, expected) in [
        (
            Some(info),
            Ok(json!({"os": "mac", "arch": "arm64", "nacl_arch": "arm"})),
        ),
        (None, Err("Platform information unavailable.".to_owned())),
    ] {
        let mut browser = Browser::builder().platform_info(platform).build();
        let id = browser
            .install(extension("platform", true, nothing()))
            .unwrap();
        browser.start();
        let view = browser.open_view(&id, ViewKind::Tab, "page.html").unwrap();
        let rt = browser.view_runtime(&id, view).unwrap();
        let got = browser
            .block_on(async move { rt.get_platform_info().await })
            .unwrap()
            .map(|i| serde_json::to_value(i).unwrap())
            .map_err(|e| e.to_string());
        assert_eq!(got, expected);
    }
}

#[test]
fn get_background_page_loads_an_unloaded_event_page() {
    let (mut browser, id) = browser_with(extension("bg", false, nothing()));
    browser.advance(secs(20));
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let rt = popup_runtime(&mut browser, &id);
    let page = browser
        .block_on(async move { rt.get_background_page().await })
        .unwrap()
        .unwrap();
    assert_eq!(
        page.url,
        format!("chrome-extension://{id}/_generated_background_page.html")
    );
    assert_eq!(page.load, 2);
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
}

#[test]
fn get_background_page_cancels_a_suspend_in_progress() {
    let script = script_fn(|rt| async move {
        rt.on_suspend_canceled().add_listener(|()| {});
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("bg", false, script));
    browser.advance(secs(11));
    let rt = popup_runtime(&mut browser, &id);
    browser
        .block_on(async move { rt.get_background_page().await })
        .unwrap()
        .unwrap();
    assert_eq!(
        dispatched(&browser.trace(), "runtime.onSuspendCanceled"),
        [11_000]
    );
}

#[test]
fn get_background_page_errors_are_exact() {
    // No background page.
    let mut browser = Browser::builder().build();
    let id = browser
        .install(ExtensionSpec::from_json(json!({"name": "no bg", "version": "1"})).unwrap())
        .unwrap();
    browser.start();
    let rt = popup_runtime(&mut browser, &id);
    let err = browser
        .block_on(async move { rt.get_background_page().await })
        .unwrap()
        .unwrap_err();
    assert_eq!(err, GetBackgroundPageError::NoBackgroundPage);
    assert_eq!(err.to_string(), "You do not have a background page.");

    // A page whose top-level script fails to load.
    let broken = script_fn(|_rt| async { Err("SyntaxError: Unexpected token".into()) });
    let mut browser = Browser::builder().build();
    let id = browser.install(extension("broken", false, broken)).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
    let rt = popup_runtime(&mut browser, &id);
    let err = browser
        .block_on(async move { rt.get_background_page().await })
        .unwrap()
        .unwrap_err();
    assert_eq!(err.to_string(), "Background page failed to load.");
    let trace = browser.trace();
    assert_eq!(
        times(&trace, |e| matches!(e, TraceEvent::ScriptFailed { message } if message == "SyntaxError: Unexpected token")).len(),
        2
    );
}

#[test]
fn open_options_page_opens_then_focuses_or_fails_exactly() {
    let (mut browser, id) = browser_with(extension("options", false, nothing()));
    let rt = popup_runtime(&mut browser, &id);
    let rt2 = rt.clone();
    browser
        .block_on(async move { rt.open_options_page().await })
        .unwrap()
        .unwrap();
    browser
        .block_on(async move { rt2.open_options_page().await })
        .unwrap()
        .unwrap();
    let trace = browser.trace();
    let opened = times(
        &trace,
        |e| matches!(e, TraceEvent::ViewOpened { url } if url.ends_with("/options.html")),
    );
    let focused = times(
        &trace,
        |e| matches!(e, TraceEvent::ViewFocused { url } if url.ends_with("/options.html")),
    );
    assert_eq!((opened.len(), focused.len()), (1, 1));

    let mut browser = Browser::builder().build();
    let id = browser
        .install(
            ExtensionSpec::from_json(json!({
                "name": "no options", "version": "1",
                "background": {"scripts": ["bg.js"]}
            }))
            .unwrap()
            .script(nothing()),
        )
        .unwrap();
    browser.start();
    let rt = popup_runtime(&mut browser, &id);
    let err = browser
        .block_on(async move { rt.open_options_page().await })
        .unwrap()
        .unwrap_err();
    assert_eq!(err.to_string(), "Could not create an options page.");
}

#[test]
fn the_options_page_keeps_the_event_page_alive_while_open() {
    let script = script_fn(|rt| async move {
        rt.on_installed().add_async_listener({
            let rt = rt.clone();
            move |_| {
                let rt = rt.clone();
                async move { rt.open_options_page().await }
            }
        });
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("opener", false, script));
    browser.advance(secs(600));
    assert_eq!(browser.page_state(&id), Some(PageState::Active));
}

#[test]
fn set_uninstall_url_validates_exactly() {
    let (mut browser, id) = browser_with(extension("uninstall", false, nothing()));
    let rt = popup_runtime(&mut browser, &id);
    let mut call = |url: String| {
        let rt = rt.clone();
        browser
            .block_on(async move { rt.set_uninstall_url(&url).await })
            .unwrap()
            .map_err(|e| e.to_string())
    };
    assert_eq!(call("https://example.com/survey".into()), Ok(()));
    assert_eq!(call("http://example.com".into()), Ok(()));
    assert_eq!(call("".into()), Ok(()));
    assert_eq!(
        call("ftp://example.com".into()),
        Err("Invalid URL: \"ftp://example.com\".".into())
    );
    assert_eq!(
        call("not a url".into()),
        Err("Invalid URL: \"not a url\".".into())
    );
    let long = format!("https://example.com/{}", "a".repeat(1100 - 20));
    assert_eq!(long.chars().count(), 1100);
    assert_eq!(
        call(long),
        Err("Error in invocation of runtime.setUninstallURL(string url, optional function callback): Error at parameter 'url': String must have at most 1023 characters; found 1100.".into())
    );
    let exactly = format!("https://example.com/{}", "b".repeat(1023 - 20));
    assert_eq!(call(exactly), Ok(()));
}

#[test]
fn an_empty_uninstall_url_clears_it() {
    let script = script_fn(|rt| async move {
        rt.set_uninstall_url("https://example.com/bye").await?;
        rt.set_uninstall_url("").await?;
        Ok(())
    });
    let (mut browser, id) = browser_with(extension("clear", false, script));
    browser.advance(secs(1));
    assert_eq!(browser.uninstall_url(&id), None);
    browser.uninstall(&id).unwrap();
    assert!(times(&browser.trace(), |e| matches!(
        e,
        TraceEvent::UninstallUrlOpened { .. }
    ))
    .is_empty());
}

#[test]
fn get_package_directory_entry_is_the_install_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("manifest.json"),
        r#"{"name": "on disk", "version": "1.0", "background": {"scripts": ["bg.js"], "persistent": false}}"#,
    )
    .unwrap();
    let spec = ExtensionSpec::from_dir(dir.path())
        .unwrap()
        .script(nothing());
    let expected_id =
        runtime_sim::ExtensionId::from_path(&std::fs::canonicalize(dir.path()).unwrap());
    assert_eq!(spec.id(), expected_id);
    let (mut browser, id) = browser_with(spec);
    let rt = popup_runtime(&mut browser, &id);
    let entry = browser
        .block_on(async move { rt.get_package_directory_entry().await })
        .unwrap()
        .unwrap();
    assert_eq!(entry.path, std::fs::canonicalize(dir.path()).unwrap());
    assert_eq!(entry.name, "crxfs");
}

#[test]
fn a_closed_view_s_runtime_is_invalidated() {
    let (mut browser, id) = browser_with(extension("closed", false, nothing()));
    let view = browser
        .open_view(&id, ViewKind::Popup, "popup.html")
        .unwrap();
    let rt = browser.view_runtime(&id, view).unwrap();
    browser.close_view(&id, view);
    let err = browser
        .block_on(async move { rt.get_platform_info().await })
        .unwrap()
        .unwrap_err();
    assert_eq!(err.to_string(), "Extension context invalidated.");
}

#[test]
fn bad_manifests_are_refused_naming_the_field() {
    for (manifest, message) in [
        (json!({"version": "1"}), "Required value 'name' is missing or invalid."),
        (json!({"name": "x", "version": "v1"}), "Required value 'version' is missing or invalid. It must be between 1-4 dot-separated integers each between 0 and 65536."),
        (json!({"name": "x", "version": "1", "background": {"persistent": "false", "scripts": []}}), "Invalid value for 'background.persistent'."),
        (json!({"name": "x", "version": "1", "key": 5}), "Invalid value for 'key'."),
        (json!({"name": "x", "version": "1", "options_ui": {"page": 3}}), "Invalid value for 'options_ui.page'."),
    ] {
        let err = ExtensionSpec::from_json(manifest).err().expect("refused");
        assert_eq!(err.to_string(), message);
    }
    // A background page without a script to run is refused at install, not at load.
    let spec = ExtensionSpec::from_json(
        json!({"name": "x", "version": "1", "background": {"page": "bg.html"}}),
    )
    .unwrap();
    let err = Browser::builder().build().install(spec).unwrap_err();
    assert!(err.to_string().contains("no BackgroundScript"));
}

#[test]
fn fire_event_refuses_runtime_events_and_unknown_extensions() {
    let (mut browser, id) = browser_with(extension("x", false, nothing()));
    assert!(browser
        .fire_event(&id, "runtime.onStartup", json!(null))
        .is_err());
    let other = runtime_sim::ExtensionId::from_bytes(b"other");
    assert!(browser
        .fire_event(&other, "alarms.onAlarm", json!(null))
        .is_err());
}

/// A view's `Runtime` reported `tab` as its kind, whatever the view was: it was made before
/// the view was recorded, so the kind lookup fell back to `Tab`.
#[test]
fn a_views_runtime_knows_its_kind() {
    let mut browser = Browser::builder().build();
    let id = browser
        .install(ExtensionSpec::from_json(json!({"name": "A", "version": "1"})).unwrap())
        .unwrap();
    browser.start();
    for kind in [ViewKind::Popup, ViewKind::Options, ViewKind::Tab] {
        let view = browser.open_view(&id, kind, "page.html").unwrap();
        assert_eq!(
            browser.view_runtime(&id, view).unwrap().context(),
            &runtime_sim::TraceContext::View { id: view, kind }
        );
    }
}
