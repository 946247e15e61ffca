//! The project's background scripts written in Rust, by the names scenario files use for them
//! (`"background": {"rust": "alarm_clock"}`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::{script_fn, BackgroundScript, OnMessage, Port};

/// The names of the scripts, for error messages and documentation.
pub const NAMES: &[&str] = &["alarm_clock", "stopwatch", "echo"];

/// The script with this name.
///
/// - `alarm_clock`: at the top level, listens to `alarms.onAlarm` (counting the rings in
///   storage under `rings`) and to `runtime.onSuspend`; after an `await` of 100 ms, registers a
///   listener of `bookmarks.onCreated` — too late for the event that woke the page.
/// - `stopwatch`: answers each `{"tick": n}` posted on a port opened with `runtime.connect`
///   with `{"ack": n}`.
/// - `echo`: answers every `runtime.onMessage` and `runtime.onMessageExternal` with
///   `{"echo": message, "sender": sender}`.
pub fn named(name: &str) -> Option<Box<dyn BackgroundScript>> {
    match name {
        "alarm_clock" => Some(Box::new(alarm_clock())),
        "stopwatch" => Some(Box::new(stopwatch())),
        "echo" => Some(Box::new(echo())),
        _ => None,
    }
}

fn alarm_clock() -> impl BackgroundScript {
    script_fn(|rt| async move {
        let storage = rt.storage();
        rt.event("alarms.onAlarm")
            .add_async_listener(move |_alarm| {
                let storage = storage.clone();
                async move {
                    let rings = storage
                        .get("rings")
                        .await?
                        .and_then(|v| v.as_u64())
                        .unwrap_or(0);
                    storage.set("rings", json!(rings + 1)).await
                }
            });
        rt.on_suspend().add_listener(|()| {});
        rt.sleep(Duration::from_millis(100)).await;
        rt.event("bookmarks.onCreated").add_listener(|_bookmark| {});
        Ok(())
    })
}

fn stopwatch() -> impl BackgroundScript {
    script_fn(|rt| async move {
        rt.on_connect().add_listener(|port: Port| {
            port.on_message()
                .add_listener(|(message, port): (Value, Port)| {
                    let tick = message["tick"].as_u64().unwrap_or(0);
                    port.post_message(&json!({ "ack": tick }))
                });
        });
        Ok(())
    })
}

fn echo() -> impl BackgroundScript {
    script_fn(|rt| async move {
        let answer = |m: OnMessage| {
            m.respond(&json!({"echo": m.message, "sender": m.sender}));
        };
        rt.on_message().add_listener(answer);
        rt.on_message_external().add_listener(answer);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_has_a_script() {
        for name in NAMES {
            assert!(named(name).is_some(), "{name}");
        }
        assert!(named("nothing").is_none());
    }
}
