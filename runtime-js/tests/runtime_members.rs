//! The members of `chrome.runtime` beyond messages, in JavaScript: the platform, the package
//! folder, the options page, the uninstall URL, update checks, reload, the kiosk restarts,
//! their events and the enum types; in both forms, with the browser's argument errors, and by
//! context and profile.

use std::time::Duration;

use runtime_core::{Browser, BrowserBuilder, ExtensionId, Profile, TraceEvent};
use runtime_js::JsScript;
use serde_json::{json, Value};

mod common;
use common::{console_messages as messages, fire_alarm};

/// A started browser from `builder` with one extension whose background runs `background`
/// (and whose content script on example.com runs `content`), then an alarm fired at it.
fn run(builder: BrowserBuilder, manifest: Value, background: &str, content: &str) -> Browser {
    let (mut browser, id) = start(builder, manifest, background, content);
    fire_alarm(&mut browser, &id);
    browser
}

fn start(
    builder: BrowserBuilder,
    manifest: Value,
    background: &str,
    content: &str,
) -> (Browser, ExtensionId) {
    let file = manifest["background"]["service_worker"]
        .as_str()
        .unwrap_or("bg.js")
        .to_owned();
    let script = JsScript::new(file, background)
        .resource("cs.js", content)
        .resource("options.html", "<!doctype html><title>Options</title>");
    let spec = script.attach(runtime_core::ExtensionSpec::from_json(manifest).unwrap());
    let mut browser = builder.build();
    let id = browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    (browser, id)
}

fn mv3() -> Value {
    json!({"name": "Members", "version": "1.0", "manifest_version": 3,
        "background": {"service_worker": "sw.js"},
        "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]})
}

fn mv2() -> Value {
    json!({"name": "Members 2", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false},
        "options_ui": {"page": "options.html"}})
}

fn unchecked(browser: &Browser) -> Vec<String> {
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::UncheckedLastError { message } => Some(message.clone()),
                _ => None,
            })
            .collect()
    })
}

#[test]
fn promises_in_a_service_worker_answer_and_fail_with_the_browsers_texts() {
    let browser = run(
        Browser::builder(),
        mv3(),
        r#"
        chrome.alarms.onAlarm.addListener(async () => {
          const info = await chrome.runtime.getPlatformInfo();
          console.log("platform", info.os, info.arch, info.nacl_arch,
            info.os === chrome.runtime.PlatformOs.LINUX,
            chrome.runtime.PlatformArch.X86_64);
          const check = await chrome.runtime.requestUpdateCheck();
          console.log("check", check.status, JSON.stringify(check.version),
            check.status === chrome.runtime.RequestUpdateCheckStatus.NO_UPDATE);
          const again = await chrome.runtime.requestUpdateCheck();
          console.log("again", again.status);
          console.log("uninstall", await chrome.runtime.setUninstallURL("https://example.com/bye"));
          try { await chrome.runtime.setUninstallURL("ftp://example.com/"); } catch (e) { console.log(e.message); }
          try { chrome.runtime.setUninstallURL("https://example.com/" + "x".repeat(1100)); } catch (e) { console.log(e.message); }
          try { chrome.runtime.setUninstallURL(42); } catch (e) { console.log(e.message); }
          try { await chrome.runtime.openOptionsPage(); } catch (e) { console.log("options:", e.message); }
          try { await chrome.runtime.restart(); } catch (e) { console.log(e.message); }
          try { await chrome.runtime.restartAfterDelay(60); } catch (e) { console.log(e.message); }
          try { chrome.runtime.restartAfterDelay(1.5); } catch (e) { console.log(e.message); }
          console.log("no getPackageDirectoryEntry:", chrome.runtime.getPackageDirectoryEntry === undefined);
          console.log("reasons", Object.values(chrome.runtime.OnRestartRequiredReason).join(","));
          console.log("no getBackgroundPage:", chrome.runtime.getBackgroundPage === undefined);
        });
        "#,
        "",
    );
    assert_eq!(
        messages(&browser),
        [
            "platform linux x86-64 x86-64 true x86-64",
            "check no_update \"\" true",
            "again throttled",
            "uninstall undefined",
            "Invalid URL: \"ftp://example.com/\".",
            "Error in invocation of runtime.setUninstallURL(string url, optional function callback): Error at parameter 'url': String must have at most 1023 characters; found 1120.",
            "Error in invocation of runtime.setUninstallURL(string url, optional function callback): No matching signature.",
            "options: Could not create an options page.",
            // restart() gives no promise (its failure is an unchecked runtime.lastError).
            "API available only for ChromeOS kiosk mode.",
            "Error in invocation of runtime.restartAfterDelay(integer seconds, optional function callback): No matching signature.",
            "no getPackageDirectoryEntry: true",
            "reasons app_update,os_update,periodic",
            "no getBackgroundPage: true",
        ]
    );
    assert_eq!(
        unchecked(&browser),
        ["Function available only for ChromeOS kiosk mode."]
    );
}

#[test]
fn the_callback_form_gives_last_error_and_the_update_checks_two_arguments() {
    let browser = run(
        Browser::builder().autoupdate(false),
        mv2(),
        r#"
        chrome.alarms.onAlarm.addListener(() => {
          chrome.runtime.getPlatformInfo((info) => console.log("platform", info.os));
          chrome.runtime.requestUpdateCheck((status, details) => {
            console.log("check", status, details, chrome.runtime.lastError.message);
          });
          chrome.runtime.setUninstallURL("mailto:x", () => console.log("url", chrome.runtime.lastError.message));
          chrome.runtime.openOptionsPage(function () {
            console.log("options", arguments.length, chrome.runtime.lastError);
          });
          // No callback in MV2: a failure is reported, unchecked.
          chrome.runtime.setUninstallURL("file:///x");
          try { chrome.runtime.getPlatformInfo(); } catch (e) { console.log(e.message); }
          console.log("no promise:", chrome.runtime.openOptionsPage() === undefined);
        });
        "#,
        "",
    );
    assert_eq!(
        messages(&browser),
        [
            "Error in invocation of runtime.getPlatformInfo(function callback): No matching signature.",
            "no promise: true",
            // With no update service the check fails at once.
            "check undefined undefined Autoupdate is not enabled.",
            "platform linux",
            "url Invalid URL: \"mailto:x\".",
            "options 0 undefined",
        ]
    );
    assert_eq!(unchecked(&browser), ["Invalid URL: \"file:///x\"."]);
    // The first call of openOptionsPage opened the options page, the second focused it.
    let views: Vec<String> = browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::ViewOpened { .. } => Some("opened".to_owned()),
                TraceEvent::ViewFocused { .. } => Some("focused".to_owned()),
                _ => None,
            })
            .collect()
    });
    assert_eq!(views, ["opened", "focused"]);
}

#[test]
fn update_available_and_reload_from_javascript() {
    let (mut browser, id) = start(
        Browser::builder(),
        json!({"name": "Reloads", "version": "1.0", "manifest_version": 3,
            "background": {"service_worker": "sw.js"}}),
        r#"
        chrome.runtime.onInstalled.addListener((d) => console.log("installed", d.reason, d.previousVersion));
        chrome.runtime.onUpdateAvailable.addListener((d) => console.log("update waits", d.version));
        chrome.alarms.onAlarm.addListener(() => {
          try { chrome.runtime.reload(1); } catch (e) { console.log(e.message); }
          chrome.runtime.reload();
        });
        "#,
        "",
    );
    fire_alarm(&mut browser, &id);
    let seen = messages(&browser);
    assert_eq!(
        seen[..2],
        [
            "installed install undefined",
            "Error in invocation of runtime.reload(): No matching signature.",
        ]
    );
    // An unpacked extension is installed again on reload.
    assert_eq!(seen[2..], ["installed update 1.0"]);
}

#[test]
fn kiosk_events_reach_javascript() {
    let browser_update = |builder: BrowserBuilder| {
        let (mut browser, _) = start(
            builder,
            json!({"name": "Kiosk", "version": "1.0", "manifest_version": 3, "kiosk_enabled": true,
                "background": {"service_worker": "sw.js"}}),
            r#"
            chrome.runtime.onRestartRequired.addListener((reason) => console.log("restart required", reason));
            chrome.runtime.onBrowserUpdateAvailable.addListener(function () { console.log("browser update", arguments.length); });
            "#,
            "",
        );
        browser.stage_browser_update("999.0.0.0");
        browser.advance(Duration::from_secs(60));
        messages(&browser)
    };
    assert_eq!(
        browser_update(Browser::builder().kiosk(true)),
        ["browser update 0", "restart required os_update"]
    );
}

/// An event page has getPackageDirectoryEntry (a Chromium service worker has not: Chromium 148,
/// conformance/goldens/chromium-mv3.json).
#[test]
fn an_event_page_gets_its_package_directory_entry() {
    let browser = run(
        Browser::builder(),
        mv2(),
        r#"
        chrome.alarms.onAlarm.addListener(() => {
          chrome.runtime.getPackageDirectoryEntry((dir) => {
            console.log("dir", dir.name, dir.isDirectory, dir.fullPath);
            try { dir.createReader(); } catch (e) { console.log(e.message); }
          });
        });
        "#,
        "",
    );
    assert_eq!(
        messages(&browser),
        [
            "dir crxfs true /",
            "the FileSystem API is not simulated by runtime-sim"
        ]
    );
}

#[test]
fn content_scripts_and_firefox_have_their_own_lists_of_members() {
    let members = r#"
        const names = ["getPlatformInfo", "getPackageDirectoryEntry", "openOptionsPage", "setUninstallURL",
          "reload", "requestUpdateCheck", "restart", "restartAfterDelay", "onUpdateAvailable",
          "onBrowserUpdateAvailable", "onRestartRequired", "onConnectNative", "PlatformOs"];
        console.log(self.window ? "page" : "worker", names.filter((n) => chrome.runtime[n] !== undefined).join(" "));
    "#;
    let mut chromium = run(Browser::builder(), mv3(), members, members);
    chromium.open_tab("https://example.com/").unwrap();
    chromium.advance(Duration::from_secs(1));
    assert_eq!(
        messages(&chromium),
        [
            "worker getPlatformInfo openOptionsPage setUninstallURL reload requestUpdateCheck restart restartAfterDelay onUpdateAvailable onBrowserUpdateAvailable onRestartRequired onConnectNative PlatformOs",
            "page ",
        ]
    );

    let firefox = run(
        Browser::builder().profile(Profile::Firefox),
        mv2(),
        &format!(
            r#"{members}
            browser.alarms.onAlarm.addListener(async () => {{
              const info = await browser.runtime.getPlatformInfo();
              console.log("promise in MV2:", info.os, browser.runtime.onUpdateAvailable === chrome.runtime.onUpdateAvailable);
            }});"#
        ),
        "",
    );
    assert_eq!(
        messages(&firefox),
        [
            "page getPlatformInfo openOptionsPage setUninstallURL reload onUpdateAvailable PlatformOs",
            "promise in MV2: linux true",
        ]
    );
}

/// Firefox names a browser update `browser_update` (Chromium: `chrome_update`), and tells its
/// own version through `getBrowserInfo`.
#[test]
fn firefox_reports_a_browser_update_and_its_version_in_its_own_words() {
    let (mut browser, id) = start(
        Browser::builder()
            .profile(Profile::Firefox)
            .browser_version("153.0"),
        mv2(),
        r#"
        browser.runtime.onInstalled.addListener((d) => {
          console.log("installed", d.reason, d.reason === browser.runtime.OnInstalledReason.BROWSER_UPDATE);
        });
        browser.alarms.onAlarm.addListener(async () => {
          const info = await browser.runtime.getBrowserInfo();
          console.log(info.name, info.vendor, info.version, /^\d{14}$/.test(info.buildID));
          console.log("no update checks:", browser.runtime.requestUpdateCheck === undefined);
        });
        "#,
        "",
    );
    browser.stage_browser_update("153.1");
    browser.restart();
    browser.advance(Duration::from_secs(1));
    fire_alarm(&mut browser, &id);
    assert_eq!(
        messages(&browser),
        [
            "installed install false",
            "installed browser_update true",
            "Firefox Mozilla 153.1 true",
            "no update checks: true",
        ]
    );
}
