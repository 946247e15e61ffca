//! `chrome.storage` calls from JavaScript: what `storage.js` sends (an area, a function, its
//! arguments as JSON, already checked as Chromium checks them) run on the simulator's storage.

use runtime_core::{AccessLevel, Runtime, StorageArea};
use serde_json::Value;

/// The keys of an argument (`null`: none given).
fn keys(args: &Value) -> Option<Vec<String>> {
    match &args["keys"] {
        Value::Array(keys) => Some(
            keys.iter()
                .filter_map(|k| k.as_str().map(str::to_owned))
                .collect(),
        ),
        _ => None,
    }
}

/// An object argument (empty when it is not one).
fn object(value: &Value) -> serde_json::Map<String, Value> {
    match value {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    }
}

/// Runs `storage.<area>.<op>(args)`: its value as JSON (`null` for a write), or the browser's
/// error message.
pub(crate) async fn call(rt: Runtime, area: &str, op: &str, args: Value) -> Result<Value, String> {
    let area: StorageArea = area
        .parse()
        .map_err(|e: runtime_core::UnknownStorageArea| e.to_string())?;
    let storage = rt.storage_area(area);
    let result = match op {
        "get" => match &args["defaults"] {
            Value::Object(defaults) => storage.get_with_defaults(defaults.clone()).await,
            _ => storage.get_items(keys(&args)).await,
        }
        .map(Value::Object),
        "getKeys" => storage.get_keys().await.map(Value::from),
        "getBytesInUse" => storage.get_bytes_in_use(keys(&args)).await.map(Value::from),
        "set" => storage
            .set_items(object(&args["items"]))
            .await
            .map(|()| Value::Null),
        "remove" => storage
            .remove_items(keys(&args).unwrap_or_default())
            .await
            .map(|()| Value::Null),
        "clear" => storage.clear().await.map(|()| Value::Null),
        "setAccessLevel" => {
            let level: AccessLevel = args["accessLevel"]
                .as_str()
                .unwrap_or_default()
                .parse()
                .map_err(|e: runtime_core::UnknownAccessLevel| e.to_string())?;
            storage.set_access_level(level).await.map(|()| Value::Null)
        }
        other => return Err(format!("storage.{other} is not simulated by runtime-sim")),
    };
    result.map_err(|e| e.to_string())
}
