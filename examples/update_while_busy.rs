//! An update arrives while the event page is busy: it waits, the page is told, and the new
//! version is installed the moment the page unloads.
//!
//! Run with `cargo run --example update_while_busy`. It prints the timeline: the store
//! publishes 2.0 while version 1.0 is syncing for half an hour; `requestUpdateCheck` finds it,
//! the install is delayed (`onUpdateAvailable`), the sync ends, the page idles and unloads,
//! and 2.0 is installed and gets `onInstalled` with `previousVersion`.

use std::time::Duration;

use runtime_sim::{script_fn, Browser, ExtensionSpec, Location, Runtime};
use serde_json::json;

fn version(v: &'static str) -> Result<ExtensionSpec, Box<dyn std::error::Error>> {
    let script = script_fn(move |rt: Runtime| async move {
        // Top level: in place for whatever woke this load.
        rt.on_installed().add_listener(move |details| {
            println!("  ({v}) onInstalled {details:?}");
        });
        rt.on_update_available().add_listener(move |manifest| {
            println!(
                "  ({v}) onUpdateAvailable: {} is waiting; it will be installed when I go idle",
                manifest["version"]
            );
        });
        if v == "1.0" {
            // Five minutes in, the extension asks for an update.
            let rt2 = rt.clone();
            rt.spawn(async move {
                rt2.sleep(Duration::from_secs(5 * 60)).await;
                let status = rt2.request_update_check().await;
                println!("  ({v}) requestUpdateCheck -> {status:?}");
            });
            // A long sync holds the page (an API call in flight) for 30 minutes.
            rt.storage().set("sync", json!("started")).await?;
        }
        Ok(())
    });
    Ok(ExtensionSpec::from_json(json!({
        "name": "Busy syncer",
        "version": v,
        "background": {"scripts": ["background.js"], "persistent": false},
        "permissions": ["storage"]
    }))?
    .location(Location::Packed)
    .script(script))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Storage writes take 30 minutes here: the sync keeps the page busy that long.
    let mut browser = Browser::builder()
        .api_latency_for(
            runtime_sim::ApiFunction::StorageLocalSet,
            Duration::from_secs(30 * 60),
        )
        .build();
    let id = browser.install(version("1.0")?)?;
    browser.publish_update_at(&id, version("2.0")?, browser.now() + Duration::from_secs(1))?;
    browser.start();
    browser.advance(Duration::from_secs(2 * 60 * 60));
    println!("{}", browser.trace().timeline());
    let info = browser.extension(&id).expect("installed");
    println!("now running {} {}", info.name, info.version);
    Ok(())
}
