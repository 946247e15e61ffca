//! `URL` and `URLSearchParams` in an extension's context: WHATWG parsing and serializing for
//! the common cases, with Chromium's error for an invalid URL.

use std::time::Duration;

use runtime_core::{Browser, ExtensionSpec, TraceEvent};
use runtime_js::JsScript;
use serde_json::json;

/// What `source` (run as an event page's `bg.js`) wrote to the console.
fn console_of(source: &str) -> Vec<String> {
    let manifest = json!({"name": "URL", "version": "1.0",
        "background": {"scripts": ["bg.js"], "persistent": false}});
    let spec = ExtensionSpec::from_json(manifest)
        .unwrap()
        .script(JsScript::new("bg.js", source));
    let mut browser = Browser::builder().build();
    browser.install(spec).unwrap();
    browser.start();
    browser.advance(Duration::ZERO);
    browser.with_trace(|t| {
        t.entries()
            .filter_map(|e| match &e.event {
                TraceEvent::Console { message, .. } => Some(message.clone()),
                TraceEvent::ScriptFailed { message } => Some(format!("failed: {message}")),
                _ => None,
            })
            .collect()
    })
}

#[test]
fn absolute_and_relative_urls_parse_into_their_parts() {
    let lines = console_of(
        r#"
        const u = new URL("HTTPS://User:Pw@Example.COM:8443/a/./b/../c%20d?x=1&y=two#frag");
        console.log(u.href);
        console.log(u.protocol, u.username, u.password, u.host, u.hostname, u.port);
        console.log(u.pathname, u.search, u.hash, u.origin);
        console.log(new URL("../lib/y.js?v=2", "https://example.com/a/b/c.html").href);
        console.log(new URL("/root", "https://example.com/a/b").href);
        console.log(new URL("//cdn.example/z", "https://example.com/").href);
        console.log(new URL("http://example.com:80/").port === "", new URL("http://münchen.de/").hostname);
        console.log(String(new URL("x.js", "chrome-extension://abcdef/dir/page.html")));
        console.log(new URL("chrome-extension://abcdef/p").origin);
        console.log(JSON.stringify({ u: new URL("https://a.example/p?q") }));
        console.log(URL.canParse("nope"), URL.canParse("/x", "https://a.example"));
        "#,
    );
    assert_eq!(
        lines,
        [
            "https://User:Pw@example.com:8443/a/c%20d?x=1&y=two#frag",
            "https: User Pw example.com:8443 example.com 8443",
            "/a/c%20d ?x=1&y=two #frag https://example.com:8443",
            "https://example.com/a/lib/y.js?v=2",
            "https://example.com/root",
            "https://cdn.example/z",
            "true xn--mnchen-3ya.de",
            "chrome-extension://abcdef/dir/x.js",
            "chrome-extension://abcdef",
            r#"{"u":"https://a.example/p?q"}"#,
            "false true",
        ]
    );
}

#[test]
fn an_invalid_url_throws_chromiums_type_error() {
    let lines = console_of(
        r#"
        for (const [input, base] of [["bad", undefined], ["x", "not a base"], ["http://a b/", undefined], ["https://a.example:70000/", undefined]]) {
            try {
                new URL(input, base);
                console.log("parsed", input);
            } catch (e) {
                console.log(e instanceof TypeError, e.message);
            }
        }
        try { new URL("https://a.example/").href = "::"; } catch (e) { console.log(e.message); }
        "#,
    );
    assert_eq!(
        lines,
        [
            "true Failed to construct 'URL': Invalid URL",
            "true Failed to construct 'URL': Invalid base URL",
            "true Failed to construct 'URL': Invalid URL",
            "true Failed to construct 'URL': Invalid URL",
            "Failed to set the 'href' property on 'URL': Invalid URL",
        ]
    );
}

#[test]
fn search_params_read_and_write_the_query() {
    let lines = console_of(
        r#"
        const u = new URL("https://a.example/find?q=a+b&tag=x&tag=y&empty");
        const p = u.searchParams;
        console.log(p.get("q"), p.getAll("tag").join("|"), p.has("empty"), p.get("none"), p.size);
        p.append("n", "1 & 2");
        p.set("tag", "z");
        p.delete("empty");
        console.log(u.search);
        p.sort();
        console.log(u.href);
        u.search = "?fresh=yes";
        console.log(p.get("fresh"), p.size);
        u.hash = "top"; u.pathname = "/other path"; u.port = "8080";
        console.log(u.href);
        "#,
    );
    assert_eq!(
        lines,
        [
            "a b x|y true null 4",
            "?q=a+b&tag=z&n=1+%26+2",
            "https://a.example/find?n=1+%26+2&q=a+b&tag=z",
            "yes 1",
            "https://a.example:8080/other%20path?fresh=yes#top",
        ]
    );
}

#[test]
fn search_params_from_strings_records_and_pairs() {
    let lines = console_of(
        r#"
        const fromString = new URLSearchParams("?a=1&b=%E2%9C%93&a=3");
        const fromRecord = new URLSearchParams({ x: "1", y: "two words" });
        const fromPairs = new URLSearchParams([["k", "v"], ["k", "w"]]);
        const copy = new URLSearchParams(fromPairs);
        console.log(fromString.toString(), fromString.get("b"));
        console.log(fromRecord.toString(), String(copy));
        console.log(JSON.stringify([...fromString]), JSON.stringify([...fromString.keys()]), JSON.stringify([...fromString.values()]));
        const seen = [];
        fromPairs.forEach((value, key, params) => seen.push(`${key}=${value}:${params === fromPairs}`));
        console.log(seen.join(","));
        try { new URLSearchParams([["only one"]]); } catch (e) { console.log(e instanceof TypeError, e.message); }
        console.log(Object.prototype.toString.call(fromString), Object.prototype.toString.call(new URL("https://a.example")));
        "#,
    );
    assert_eq!(
        lines,
        [
            "a=1&b=%E2%9C%93&a=3 ✓",
            "x=1&y=two+words k=v&k=w",
            r#"[["a","1"],["b","✓"],["a","3"]] ["a","b","a"] ["1","✓","3"]"#,
            "k=v:true,k=w:true",
            "true Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements",
            "[object URLSearchParams] [object URL]",
        ]
    );
}

/// `URL` and `URLSearchParams` are made on first use: before it they are there all the same
/// (as non-enumerable globals), after it they work, and a script may replace them.
#[test]
fn the_url_globals_are_there_before_their_first_use_and_can_be_replaced() {
    let lines = console_of(
        r#"
        console.log(typeof URL, typeof URLSearchParams, Object.keys(globalThis).includes("URL"));
        console.log(new URLSearchParams("a=1&b=2").get("b"), new URL("https://x.test/p").pathname);
        URL = "mine";
        console.log(URL, typeof URLSearchParams, typeof __runtimeSimUrl);
        "#,
    );
    assert_eq!(
        lines,
        ["function function false", "2 /p", "mine function undefined"]
    );
}
