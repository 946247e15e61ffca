//! A content script asks its extension's event page a question with `sendMessage`: the page,
//! unloaded, is woken for the message, answers, and unloads again when it has nothing to do.
//!
//! Run with `cargo run --example content_script_question`. It prints the answer, then the
//! timeline of the simulated browser (virtual time: nothing here waits in real time).

use std::time::Duration;

use runtime_sim::{script_fn, Browser, ExtensionSpec, FrameId, OnMessage};
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = json!({
        "name": "Word counter",
        "version": "1.0",
        "manifest_version": 2,
        "background": { "scripts": ["background.js"], "persistent": false },
        "content_scripts": [{ "matches": ["https://example.com/*"], "js": ["content.js"] }]
    });

    // The background script runs from the top at every load of the page; its onMessage
    // listener is registered at the top level, so it is there for the message that wakes it.
    let script = script_fn(|rt| async move {
        rt.on_message().add_listener(|m: OnMessage| {
            let text = m.message["text"].as_str().unwrap_or_default();
            let words = text.split_whitespace().count();
            let tab = m.sender.tab.as_ref().map(|t| t.id);
            println!("  (background) question from tab {tab:?}: {}", m.message);
            m.respond(&json!({ "words": words }));
        });
        Ok(())
    });

    let mut browser = Browser::builder().build();
    let id = browser.install(ExtensionSpec::from_json(manifest)?.script(script))?;
    browser.start();

    // onInstalled loads the page; with nothing to do it is suspended and unloaded 15 s later.
    browser.advance(Duration::from_secs(30));
    println!(
        "before the question, the page is {:?}",
        browser.page_state(&id)
    );

    // The user opens a matching page: the content script starts in it and asks its question.
    let tab = browser.open_tab("https://example.com/article")?;
    let content_script = browser
        .content_script(&id, tab, FrameId::TOP)
        .ok_or("no content script in the tab")?;
    let question = json!({ "ask": "how many words?", "text": "the quick brown fox jumps" });
    let answer = browser.block_on(content_script.send_message(&question))??;
    let answer = answer.map_or_else(|| "no answer".to_owned(), |v| v.to_string());
    println!("the content script got: {answer}");
    println!(
        "after the answer, the page is {:?}",
        browser.page_state(&id)
    );

    // Nothing else to do: the page unloads 15 s after answering.
    browser.advance(Duration::from_secs(30));
    println!("30 s later, the page is {:?}", browser.page_state(&id));

    println!("\nTimeline (virtual time):\n");
    print!("{}", browser.trace().timeline());
    Ok(())
}
