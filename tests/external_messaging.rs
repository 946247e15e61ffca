//! Messaging across extensions and from web pages (`externally_connectable`), and what content
//! scripts may use (runtime-behaviour.md §4.4, §4.5, §4.3).

mod common;

use common::*;
use runtime_sim::{
    BackgroundScript, Browser, ConnectError, ContextError, ExtensionId, ExtensionSpec, FrameId,
    GetBackgroundPageError, GetPlatformInfoError, MessageSender, NotAvailable, OnMessage,
    OpenOptionsPageError, Port, Runtime, SendMessageError, SetUninstallUrlError, TabId, WebPage,
};
use serde_json::{json, Value};

/// What a receiving extension got.
#[derive(Clone, Default)]
struct Inbox {
    /// `(event, message, sender)` of each one-time message.
    messages: Log<(&'static str, Value, MessageSender)>,
    /// `(event, port)` of each port.
    ports: Log<(&'static str, Port)>,
}

impl Inbox {
    fn senders(&self) -> Vec<MessageSender> {
        self.messages.all().into_iter().map(|(_, _, s)| s).collect()
    }
}

/// A background page that answers `onMessage` with `"own"` and `onMessageExternal` with
/// `"external"`, and keeps the ports it gets.
fn receiver(inbox: &Inbox) -> (impl BackgroundScript, Log<Runtime>) {
    let inbox = inbox.clone();
    top_level(move |rt| {
        let events = [
            (rt.on_message(), "onMessage", "own"),
            (rt.on_message_external(), "onMessageExternal", "external"),
        ];
        for (event, name, answer) in events {
            let log = inbox.messages.clone();
            event.add_listener(move |m: OnMessage| {
                m.respond(&answer);
                log.push((name, m.message, (*m.sender).clone()));
            });
        }
        let ports = [
            (rt.on_connect(), "onConnect"),
            (rt.on_connect_external(), "onConnectExternal"),
        ];
        for (event, name) in ports {
            let log = inbox.ports.clone();
            event.add_listener(move |port: Port| log.push((name, port)));
        }
    })
}

/// A receiving extension; `externally_connectable` is left out when `ec` is `None`.
fn receiving_extension(name: &str, ec: Option<Value>, inbox: &Inbox) -> ExtensionSpec {
    let extra = match ec {
        Some(ec) => json!({ "externally_connectable": ec }),
        None => json!({}),
    };
    event_page(name, extra, receiver(inbox).0)
}

/// The error `onDisconnect` reported for `port` (read inside the listener through `last`),
/// once the browser has run a second.
fn disconnect_error(
    browser: &mut Browser,
    port: &Port,
    last: impl Fn() -> Option<String> + 'static,
) -> Log<Option<String>> {
    let told: Log<Option<String>> = Log::new();
    let t = told.clone();
    port.on_disconnect()
        .add_listener(move |_port: Port| t.push(last()));
    browser.advance(secs(1));
    told
}

/// The web page in a new tab showing `url`.
fn page_at(browser: &mut Browser, url: &str) -> (TabId, WebPage) {
    let tab = browser.open_tab(url).unwrap();
    let page = browser.web_page(tab, FrameId::TOP).unwrap();
    (tab, page)
}

/// §4.4: with no `externally_connectable`, another extension may send a message: it arrives
/// as `onMessageExternal`, with the sender's id.
#[test]
fn without_externally_connectable_other_extensions_may_send_messages() {
    let inbox = Inbox::default();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            receiving_extension("open", None, &inbox),
            pageless("sender", json!({})),
        ],
    );
    let (receiver, sender) = (&ids[0], &ids[1]);
    let popup = popup_runtime(&mut browser, sender);
    let reply = wait(
        &mut browser,
        popup.send_message_to(receiver.as_str(), &json!("hi")),
    );
    assert_eq!(reply, Ok(Some(json!("external"))));

    let base = format!("chrome-extension://{sender}");
    assert_eq!(
        inbox.messages.all(),
        [(
            "onMessageExternal",
            json!("hi"),
            MessageSender {
                id: Some(sender.clone()),
                url: Some(format!("{base}/popup.html")),
                origin: Some(base),
                ..MessageSender::default()
            }
        )]
    );
}

/// §4.4: with no `externally_connectable`, another extension may connect: the port arrives as
/// `onConnectExternal`, with the sender's id, and carries messages.
#[test]
fn without_externally_connectable_other_extensions_may_connect() {
    let inbox = Inbox::default();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            receiving_extension("open", None, &inbox),
            pageless("opener", json!({})),
        ],
    );
    let (receiver, opener) = (&ids[0], &ids[1]);
    let popup = popup_runtime(&mut browser, opener);
    let port = popup.connect_to(receiver.as_str(), "cross").unwrap();
    let got: Log<Value> = Log::new();
    let g = got.clone();
    port.on_message()
        .add_listener(move |(message, _port): (Value, Port)| g.push(message));
    browser.advance(secs(1));

    let (event, received) = inbox.ports.last().expect("a port arrived");
    assert_eq!(event, "onConnectExternal");
    assert_eq!(received.name(), "cross");
    assert_eq!(received.sender().unwrap().id.as_ref(), Some(opener));
    received.post_message(&json!("welcome")).unwrap();
    browser.advance(secs(1));
    assert_eq!(got.all(), [json!("welcome")]);
    assert!(!port.is_disconnected());
}

/// §4.4: with no `externally_connectable`, no web page may send or connect: it gets the
/// no-receiver error.
#[test]
fn without_externally_connectable_web_pages_may_not_send_or_connect() {
    let inbox = Inbox::default();
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![receiving_extension("closed to pages", None, &inbox)],
    );
    let receiver = ids[0].to_string();
    let (_tab, page) = page_at(&mut browser, "https://example.com/");

    let err = wait(
        &mut browser,
        page.send_message(Some(&receiver), &json!("hi")),
    )
    .unwrap_err();
    assert_eq!(err, SendMessageError::NoReceiver);
    assert_eq!(err.to_string(), NO_RECEIVER);

    let port = page.connect(Some(&receiver), "page port").unwrap();
    let reader = page.clone();
    let told = disconnect_error(&mut browser, &port, move || {
        reader.last_error().map(|e| e.message)
    });
    assert_eq!(told.all(), [Some(NO_RECEIVER.to_owned())]);
    assert!(inbox.messages.is_empty());
    assert!(inbox.ports.is_empty());
}

/// The ids of a receiver and two would-be senders, installed and started; the receiver's
/// `externally_connectable.ids` come from the senders' ids.
fn listed(
    ids_of: impl FnOnce(&ExtensionId, &ExtensionId) -> Value,
    inbox: &Inbox,
) -> (Browser, ExtensionId, Runtime, Runtime) {
    let (first, second) = (pageless("first", json!({})), pageless("second", json!({})));
    let ids = ids_of(&first.id(), &second.id());
    let receiver = receiving_extension("listing", Some(json!({ "ids": ids })), inbox);
    let (mut browser, ids) = started(Browser::builder(), vec![receiver, first, second]);
    let one = popup_runtime(&mut browser, &ids[1]);
    let two = popup_runtime(&mut browser, &ids[2]);
    (browser, ids[0].clone(), one, two)
}

/// Sends `message` from `rt` to `target`, and connects; gives the message's result and the
/// error the port's `onDisconnect` saw, if it fired.
fn try_both(
    browser: &mut Browser,
    rt: &Runtime,
    target: &ExtensionId,
) -> (Result<Option<Value>, String>, Vec<Option<String>>) {
    let reply = wait(
        browser,
        rt.send_message_to(target.as_str(), &json!("knock")),
    )
    .map_err(|e| e.to_string());
    let port = rt.connect_to(target.as_str(), "knock").unwrap();
    let reader = rt.clone();
    let told = disconnect_error(browser, &port, move || {
        reader.last_error().map(|e| e.message)
    });
    (reply, told.all())
}

/// §4.4: a listed extension id may message and connect; an unlisted one gets exactly the
/// error of a missing extension.
#[test]
fn listed_ids_are_let_in_and_others_get_no_receiver() {
    let inbox = Inbox::default();
    let (mut browser, receiver, listed, unlisted) = listed(|a, _| json!([a.as_str()]), &inbox);

    assert_eq!(
        try_both(&mut browser, &listed, &receiver),
        (Ok(Some(json!("external"))), vec![])
    );
    assert_eq!(
        try_both(&mut browser, &unlisted, &receiver),
        (
            Err(NO_RECEIVER.to_owned()),
            vec![Some(NO_RECEIVER.to_owned())]
        )
    );
    let missing = wait(
        &mut browser,
        unlisted.send_message_to(ABSENT_ID, &json!("knock")),
    )
    .unwrap_err();
    assert_eq!(missing.to_string(), NO_RECEIVER);
    assert_eq!(inbox.messages.len(), 1);
    assert_eq!(inbox.ports.len(), 1);
    assert_eq!(inbox.senders()[0].id.as_ref(), Some(listed.id()));
}

/// §4.4: `"*"` in `ids` lets every extension in.
#[test]
fn a_star_in_ids_lets_every_extension_in() {
    let inbox = Inbox::default();
    let (mut browser, receiver, one, two) = listed(|_, _| json!(["*"]), &inbox);
    for rt in [&one, &two] {
        assert_eq!(
            try_both(&mut browser, rt, &receiver),
            (Ok(Some(json!("external"))), vec![])
        );
    }
    let senders: Vec<_> = inbox.senders().into_iter().map(|s| s.id).collect();
    assert_eq!(senders, [Some(one.id().clone()), Some(two.id().clone())]);
}

/// §4.4: empty `ids` let no extension in; neither do missing `ids` (only `matches`).
#[test]
fn empty_or_missing_ids_let_no_extension_in() {
    let inbox = Inbox::default();
    let (mut browser, receiver, one, _) = listed(|_, _| json!([]), &inbox);
    assert_eq!(
        try_both(&mut browser, &one, &receiver),
        (
            Err(NO_RECEIVER.to_owned()),
            vec![Some(NO_RECEIVER.to_owned())]
        )
    );

    let only_pages = receiving_extension(
        "pages only",
        Some(json!({"matches": ["https://example.com/*"]})),
        &inbox,
    );
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![only_pages, pageless("sender", json!({}))],
    );
    let sender = popup_runtime(&mut browser, &ids[1]);
    assert_eq!(
        try_both(&mut browser, &sender, &ids[0]),
        (
            Err(NO_RECEIVER.to_owned()),
            vec![Some(NO_RECEIVER.to_owned())]
        )
    );
    assert!(inbox.messages.is_empty());
    assert!(inbox.ports.is_empty());
}

/// §4.4, §4.3: a web page that `matches` lists may message and connect (its sender has url,
/// origin, tab and frameId, no id); a page it does not list gets the no-receiver error.
#[test]
fn matching_web_pages_are_let_in_and_others_are_not() {
    let inbox = Inbox::default();
    let ec = json!({"matches": ["https://example.com/*"]});
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![receiving_extension("for pages", Some(ec), &inbox)],
    );
    let receiver = ids[0].to_string();
    let url = "https://example.com/app?x=1";
    let (tab, page) = page_at(&mut browser, url);

    let reply = wait(
        &mut browser,
        page.send_message(Some(&receiver), &json!("hi")),
    );
    assert_eq!(reply, Ok(Some(json!("external"))));
    let sender = inbox.senders().pop().unwrap();
    assert_eq!(sender.id, None);
    assert_eq!(sender.url.as_deref(), Some(url));
    assert_eq!(sender.origin.as_deref(), Some("https://example.com"));
    assert_eq!(sender.frame_id, Some(runtime_sim::FrameId::TOP));
    assert_eq!(sender.tab.as_ref().map(|t| t.id), Some(tab));
    assert_eq!(sender.tab.as_ref().map(|t| t.url.as_str()), Some(url));

    let port = page.connect(Some(&receiver), "page port").unwrap();
    browser.advance(secs(1));
    let (event, received) = inbox.ports.last().unwrap();
    assert_eq!(event, "onConnectExternal");
    assert_eq!(received.sender().unwrap().id, None);
    assert_eq!(received.sender().unwrap().url.as_deref(), Some(url));
    assert!(!port.is_disconnected());

    let (_tab, stranger) = page_at(&mut browser, "https://elsewhere.example.org/");
    let err = wait(
        &mut browser,
        stranger.send_message(Some(&receiver), &json!("hi")),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), NO_RECEIVER);
    let port = stranger.connect(Some(&receiver), "page port").unwrap();
    let reader = stranger.clone();
    let told = disconnect_error(&mut browser, &port, move || {
        reader.last_error().map(|e| e.message)
    });
    assert_eq!(told.all(), [Some(NO_RECEIVER.to_owned())]);
    assert_eq!(inbox.messages.len(), 1);
    assert_eq!(inbox.ports.len(), 1);
}

/// §4.4, §4.3: `sender.tlsChannelId` is passed only to a receiver whose
/// `accepts_tls_channel_id` is true.
#[test]
fn the_tls_channel_id_is_passed_only_when_accepted() {
    let (accepting, refusing) = (Inbox::default(), Inbox::default());
    let ec = |accepts: bool| {
        Some(json!({"matches": ["https://example.com/*"], "accepts_tls_channel_id": accepts}))
    };
    let (mut browser, ids) = started(
        Browser::builder(),
        vec![
            receiving_extension("accepts tls", ec(true), &accepting),
            receiving_extension("ignores tls", ec(false), &refusing),
        ],
    );
    let (tab, page) = page_at(&mut browser, "https://example.com/");
    browser
        .set_tls_channel_id(tab, Some("tls-channel-7".to_owned()))
        .unwrap();
    for id in &ids {
        let reply = wait(
            &mut browser,
            page.send_message(Some(id.as_str()), &json!("hi")),
        );
        assert_eq!(reply, Ok(Some(json!("external"))));
    }
    assert_eq!(
        accepting.senders()[0].tls_channel_id.as_deref(),
        Some("tls-channel-7")
    );
    assert_eq!(refusing.senders()[0].tls_channel_id, None);
}

/// §4.4: a web page must name the extension: `sendMessage` and `connect` throw at once.
#[test]
fn a_web_page_must_name_the_extension() {
    let mut browser = Browser::builder().build();
    browser.start();
    let (_tab, page) = page_at(&mut browser, "https://example.com/");
    let send = "Error in invocation of runtime.sendMessage(optional string extensionId, any message, optional object options, optional function callback): chrome.runtime.sendMessage() called from a webpage must specify an Extension ID (string) for its first argument.";
    let connect = "Error in invocation of runtime.connect(optional string extensionId, optional object connectInfo): chrome.runtime.connect() called from a webpage must specify an Extension ID (string) for its first argument.";

    let err = wait(&mut browser, page.send_message(None, &json!("hi"))).unwrap_err();
    assert_eq!(err, SendMessageError::ExtensionIdRequired);
    assert_eq!(err.to_string(), send);

    let err = page
        .send_message_callback(None, &json!("hi"), |_| panic!("no callback after a throw"))
        .unwrap_err();
    assert_eq!(err.to_string(), send);

    let err = page.connect(None, "anonymous").unwrap_err();
    assert_eq!(err, ConnectError::ExtensionIdRequired);
    assert_eq!(err.to_string(), connect);
    browser.advance(secs(1));
}

/// §4.4: a malformed extension id is an invocation error: `Invalid extension id: '<id>'`, from
/// extensions and web pages alike.
#[test]
fn a_malformed_extension_id_is_an_invocation_error() {
    let (mut browser, ids) = started(Browser::builder(), vec![pageless("sender", json!({}))]);
    let popup = popup_runtime(&mut browser, &ids[0]);
    let (_tab, page) = page_at(&mut browser, "https://example.com/");
    let send = "Error in invocation of runtime.sendMessage(optional string extensionId, any message, optional object options, optional function callback): Invalid extension id: 'xyz'";
    let connect = "Error in invocation of runtime.connect(optional string extensionId, optional object connectInfo): Invalid extension id: 'xyz'";

    let err = wait(&mut browser, popup.send_message_to("xyz", &json!(1))).unwrap_err();
    assert_eq!(err, SendMessageError::InvalidExtensionId("xyz".into()));
    assert_eq!(err.to_string(), send);
    let err = popup
        .send_message_callback(Some("xyz"), &json!(1), |_| {
            panic!("no callback after a throw")
        })
        .unwrap_err();
    assert_eq!(err.to_string(), send);
    let err = popup.connect_to("xyz", "bad").unwrap_err();
    assert_eq!(err, ConnectError::InvalidExtensionId("xyz".into()));
    assert_eq!(err.to_string(), connect);

    let err = wait(&mut browser, page.send_message(Some("xyz"), &json!(1))).unwrap_err();
    assert_eq!(err.to_string(), send);
    let err = page.connect(Some("xyz"), "bad").unwrap_err();
    assert_eq!(err.to_string(), connect);
    browser.advance(secs(1));
}

/// §4.4: `externally_connectable` does not affect the extension's own content scripts: with
/// `ids: []` they still message and connect to their background page.
#[test]
fn externally_connectable_does_not_affect_the_own_content_scripts() {
    let inbox = Inbox::default();
    let (script, _) = receiver(&inbox);
    let manifest = json!({
        "externally_connectable": {"ids": []},
        "content_scripts": [{"matches": ["https://example.com/*"]}]
    });
    let (mut browser, id) = browser_with(event_page("strict", manifest, script));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();

    let reply = wait(&mut browser, content.send_message(&json!("mine")));
    assert_eq!(reply, Ok(Some(json!("own"))));
    let reply = wait(
        &mut browser,
        content.send_message_to(id.as_str(), &json!("mine, by id")),
    );
    assert_eq!(reply, Ok(Some(json!("own"))));
    let port = content.connect("mine").unwrap();
    browser.advance(secs(1));

    let events: Vec<_> = inbox.messages.all().into_iter().map(|(e, ..)| e).collect();
    assert_eq!(events, ["onMessage", "onMessage"]);
    let sender = inbox.senders().pop().unwrap();
    assert_eq!(sender.id.as_ref(), Some(&id));
    assert_eq!(sender.tab.map(|t| t.id), Some(tab));
    assert_eq!(inbox.ports.last().unwrap().0, "onConnect");
    assert!(!port.is_disconnected());
}

/// §4.5: in a content script the other members of `runtime` fail with `NotAvailable`.
#[test]
fn content_scripts_cannot_call_the_other_runtime_members() {
    let (script, _) = top_level(|_rt| {});
    let manifest = json!({
        "content_scripts": [{"matches": ["https://example.com/*"]}],
        "options_ui": {"page": "options.html"}
    });
    let (mut browser, id) = browser_with(event_page("limited", manifest, script));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();
    let not_available = |member| NotAvailable { member };

    let rt = content.clone();
    let got = wait(&mut browser, async move { rt.get_platform_info().await });
    assert_eq!(
        got.unwrap_err(),
        GetPlatformInfoError::NotAvailable(not_available("getPlatformInfo"))
    );
    let rt = content.clone();
    let got = wait(&mut browser, async move {
        rt.get_package_directory_entry().await
    });
    assert_eq!(
        got.unwrap_err(),
        ContextError::NotAvailable(not_available("getPackageDirectoryEntry"))
    );
    let rt = content.clone();
    let got = wait(&mut browser, async move { rt.get_background_page().await });
    assert_eq!(
        got.unwrap_err(),
        GetBackgroundPageError::NotAvailable(not_available("getBackgroundPage"))
    );
    let rt = content.clone();
    let got = wait(&mut browser, async move { rt.open_options_page().await });
    assert_eq!(
        got.unwrap_err(),
        OpenOptionsPageError::NotAvailable(not_available("openOptionsPage"))
    );
    let rt = content.clone();
    let got = wait(&mut browser, async move {
        rt.set_uninstall_url("https://example.com/bye").await
    });
    let err = got.unwrap_err();
    assert_eq!(
        err,
        SetUninstallUrlError::NotAvailable(not_available("setUninstallURL"))
    );
    assert!(err
        .to_string()
        .starts_with("chrome.runtime.setUninstallURL is not a function"));
    assert_eq!(browser.uninstall_url(&id), None);
}

/// Touches one event of a `runtime`.
type Touch = fn(&Runtime);

/// A listener that must never run.
fn never<A>(_: A) {
    panic!("never called");
}

/// §4.5: a content script has no extension-page events. Using one is the script's mistake
/// (in a browser, `chrome.runtime.onStartup` is `undefined` there and reading `addListener`
/// of it throws); it used to panic the test's thread. Now the event is one that never fires,
/// and the trace warns, once per member, with the browser's words.
#[test]
fn content_scripts_have_no_extension_page_events() {
    let (script, _) = top_level(|_rt| {});
    let manifest = json!({"content_scripts": [{"matches": ["https://example.com/*"]}]});
    let (mut browser, id) = browser_with(event_page("no events", manifest, script));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();

    let uses: [(&'static str, Touch); 6] = [
        ("onStartup", |rt| {
            rt.on_startup().add_listener(never);
        }),
        ("onInstalled", |rt| {
            rt.on_installed().add_listener(never);
        }),
        ("onSuspend", |rt| {
            rt.on_suspend().add_listener(never);
        }),
        ("onSuspendCanceled", |rt| {
            rt.on_suspend_canceled().add_listener(never);
        }),
        ("onMessageExternal", |rt| {
            rt.on_message_external().add_listener(never);
        }),
        ("onConnectExternal", |rt| {
            rt.on_connect_external().add_listener(never);
        }),
    ];
    for (_, use_it) in &uses {
        use_it(&content);
        use_it(&content);
    }
    browser.restart();
    browser.advance(std::time::Duration::from_secs(1));
    let warnings: Vec<String> = browser
        .trace()
        .entries()
        .filter(|e| {
            matches!(
                e.context,
                Some(runtime_sim::TraceContext::ContentScript { .. })
            )
        })
        .filter_map(|e| match &e.event {
            runtime_sim::TraceEvent::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect();
    let expected: Vec<String> = uses
        .iter()
        .map(|(member, _)| format!("chrome.runtime.{member} is undefined in content scripts: reading its addListener throws \"TypeError: Cannot read properties of undefined (reading 'addListener')\"; here its listeners never run"))
        .collect();
    assert_eq!(warnings, expected);
    assert!(!browser.trace().timeline().contains("panicked"));
}

/// §4.5: a content script may use `id`, `getManifest`, `getURL`, `sendMessage`, `connect`,
/// and `onMessage` / `onConnect` (reached by `tabs.sendMessage` / `tabs.connect`).
#[test]
fn content_scripts_may_use_their_members() {
    let inbox = Inbox::default();
    let (script, loads) = receiver(&inbox);
    let manifest = json!({"content_scripts": [{"matches": ["https://example.com/*"]}]});
    let (mut browser, id) = browser_with(event_page("allowed", manifest, script));
    let tab = browser.open_tab("https://example.com/").unwrap();
    let content = browser.content_script(&id, tab, FrameId::TOP).unwrap();

    assert_eq!(content.id(), &id);
    assert_eq!(content.get_manifest()["name"], json!("allowed"));
    assert_eq!(
        content.get_url("x.html"),
        format!("chrome-extension://{id}/x.html")
    );
    assert_eq!(
        wait(&mut browser, content.send_message(&json!("up"))),
        Ok(Some(json!("own")))
    );
    let port = content.connect("up").unwrap();
    browser.advance(secs(1));
    assert_eq!(inbox.ports.len(), 1);
    assert!(!port.is_disconnected());

    content.on_message().add_listener(|m: OnMessage| {
        m.respond(&json!({"content script got": m.message}));
    });
    let got: Log<String> = Log::new();
    let g = got.clone();
    content
        .on_connect()
        .add_listener(move |port: Port| g.push(port.name().to_owned()));
    let background = loads.last().unwrap();
    let reply = wait(
        &mut browser,
        background.send_message_to_tab(tab, None, &json!("down")),
    );
    assert_eq!(reply, Ok(Some(json!({"content script got": "down"}))));
    let down = background.connect_to_tab(tab, None, "down").unwrap();
    browser.advance(secs(1));
    assert_eq!(got.all(), ["down"]);
    assert!(!down.is_disconnected());
}
