//! What a message is: JSON of at most 64 MiB, and who sent it (`MessageSender`).

use serde::Serialize;
use serde_json::Value;

use crate::model::extension_id::ExtensionId;
use crate::model::ids::{FrameId, TabId};

/// The largest message Chromium passes, serialized: 64 MiB.
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024 * 1024;

/// A message could not be sent as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// The value has no JSON form (a map with non-string keys, a failing `Serialize`).
    #[error("Could not serialize message.")]
    NotSerializable,
    /// The serialized message is larger than 64 MiB.
    #[error("Message exceeded maximum allowed size of 64MiB.")]
    TooLarge,
}

/// Turns a message into the JSON every receiver gets, checking the browser's limits.
pub(crate) fn to_message<T: Serialize + ?Sized>(message: &T) -> Result<Value, MessageError> {
    let value = match as_value(message) {
        Some(value) => value.clone(),
        None => serde_json::to_value(message).map_err(|_| MessageError::NotSerializable)?,
    };
    checked_message(value)
}

/// `value` as the message every receiver gets, if it is within the browser's size limit.
pub(crate) fn checked_message(value: Value) -> Result<Value, MessageError> {
    // Writing the JSON text out costs more than the rest of a small message's trip: count it
    // only when a bound found without formatting anything does not settle the question.
    if len_bound(&value) > MAX_MESSAGE_SIZE && serialized_len(&value) > MAX_MESSAGE_SIZE {
        return Err(MessageError::TooLarge);
    }
    Ok(value)
}

/// `message` itself, when it is a `serde_json::Value`: most messages are, and cloning one costs
/// a fraction of serializing it into a new one (which gives an equal value).
fn as_value<T: ?Sized>(message: &T) -> Option<&Value> {
    if typeid::of::<T>() != typeid::of::<Value>() {
        return None;
    }
    // SAFETY: `T` is `Value` (its TypeId, lifetimes erased, is `Value`'s, and `Value` has no
    // lifetime parameters), so `T` is sized and the pointer is a valid `&Value` for as long
    // as `message` is borrowed.
    Some(unsafe { &*(message as *const T as *const Value) })
}

/// A bound on the length of `value` as JSON text that formats nothing: a string's character
/// can take at most 6 bytes (`\u001f`), a number at most 24.
fn len_bound(value: &Value) -> usize {
    fn string(s: &str) -> usize {
        s.len().saturating_mul(6).saturating_add(2)
    }
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => string(s),
        Value::Array(items) => items
            .iter()
            .fold(2 + items.len(), |n, v| n.saturating_add(len_bound(v))),
        Value::Object(map) => map.iter().fold(2 + 2 * map.len(), |n, (k, v)| {
            n.saturating_add(string(k)).saturating_add(len_bound(v))
        }),
    }
}

/// The length of `value` as JSON text, without building the text.
fn serialized_len(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    // Writing a `Value` to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// The tab a message came from (the fields of `tabs.Tab` the simulator knows).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tab {
    /// The tab's id.
    pub id: TabId,
    /// Its position in its window.
    pub index: u64,
    /// The window it is in.
    pub window_id: u64,
    /// The URL of its top frame.
    pub url: String,
    /// Whether it is the active tab of its window.
    pub active: bool,
    /// Whether it is in an incognito window.
    pub incognito: bool,
}

/// `runtime.MessageSender`: who sent a message or opened a port. The browser fills it in; the
/// sender cannot forge it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSender {
    /// The sending extension, if an extension sent it (absent for web pages and native apps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<ExtensionId>,
    /// The URL of the sending page or frame (the frame's own URL for a frame in a page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The origin of the sending page or frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The sending frame: 0 for a tab's top frame. Only set when `tab` is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame_id: Option<FrameId>,
    /// The tab the message came from (content scripts and web pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tab: Option<Tab>,
    /// The native application that opened the connection (`onConnectNative`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_application: Option<String>,
    /// The TLS channel id of the sending page, when the receiver's
    /// `externally_connectable.accepts_tls_channel_id` is true and the page has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_channel_id: Option<String>,
}

/// The origin of a URL: `scheme://host[:port]`.
pub(crate) fn origin_of(url: &str) -> String {
    // The scheme ends at the first ':'; a searcher for "://" would cost more than the rest
    // of this function on every message.
    match url.find(':') {
        Some(colon) if url[colon + 1..].starts_with("//") => {
            // The origin is the URL up to the end of its host (and port).
            let host = colon + "://".len();
            let end = url[host..]
                .find(['/', '?', '#'])
                .map_or(url.len(), |i| host + i);
            url[..end].to_owned()
        }
        _ => "null".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    #[test]
    fn json_values_pass_and_their_size_is_counted_exactly() {
        let value = json!({"a": [1, "two", null]});
        assert_eq!(
            serialized_len(&value),
            serde_json::to_string(&value).unwrap().len()
        );
        assert_eq!(to_message(&value), Ok(value));
    }

    #[test]
    fn values_are_recognised_and_nothing_else() {
        let value = json!({"a": 1});
        assert_eq!(as_value(&value), Some(&value));
        assert_eq!(as_value("text"), None);
        assert_eq!(as_value(&json!([1]).as_array().unwrap()[..]), None);
        assert_eq!(to_message("text"), Ok(json!("text")));
    }

    #[test]
    fn the_bound_is_never_below_the_exact_length() {
        let values = [
            json!(null),
            json!(true),
            json!(-1.2345678901234567e-300),
            json!(u64::MAX),
            json!("\u{1}\"quote\\ and é"),
            json!({"\n": [[], {}, "x", 1, false]}),
            json!([[[[null]]], {"a": {"b": "c"}}]),
        ];
        for value in values {
            let exact = serde_json::to_string(&value).unwrap().len();
            assert!(len_bound(&value) >= exact, "{value}");
        }
    }

    #[test]
    fn a_message_whose_bound_is_over_the_limit_is_counted_exactly() {
        // 11 MiB of plain text: bounded by 66 MiB, but 11 MiB once written. (A message over
        // the limit is refused: see tests/messaging.rs.)
        let text = Value::String("a".repeat(11 * 1024 * 1024));
        assert!(len_bound(&text) > MAX_MESSAGE_SIZE);
        assert!(to_message(&text).is_ok());
    }

    #[test]
    fn maps_with_non_string_keys_cannot_be_serialized() {
        let mut map = BTreeMap::new();
        map.insert(vec![1u8], 2);
        assert_eq!(to_message(&map), Err(MessageError::NotSerializable));
        assert_eq!(
            MessageError::NotSerializable.to_string(),
            "Could not serialize message."
        );
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("https://example.com:8080/a?b#c"),
            "https://example.com:8080"
        );
        assert_eq!(
            origin_of("chrome-extension://abc/x.html"),
            "chrome-extension://abc"
        );
        assert_eq!(origin_of("https://example.com"), "https://example.com");
        assert_eq!(origin_of("https://example.com?q"), "https://example.com");
        // Opaque origins: no "//" right after the scheme's colon.
        assert_eq!(origin_of("about:blank"), "null");
        assert_eq!(origin_of("data:text/plain,a://b"), "null");
    }
}
