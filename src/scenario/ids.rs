//! The extensions' ids by the names a scenario gives them, and `${id:NAME}` in strings.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ExtensionId;

const OPEN: &str = "${id:";

/// The ids of a scenario's extensions, by name.
#[derive(Clone, Debug, Default)]
pub struct Ids(BTreeMap<String, ExtensionId>);

impl Ids {
    /// Adds one.
    pub fn insert(&mut self, name: &str, id: ExtensionId) {
        self.0.insert(name.to_owned(), id);
    }

    /// The id of the extension `name`.
    pub fn get(&self, name: &str) -> Option<&ExtensionId> {
        self.0.get(name)
    }

    /// The name of the extension with this id.
    pub fn name_of(&self, id: &ExtensionId) -> Option<&str> {
        self.0
            .iter()
            .find(|(_, known)| *known == id)
            .map(|(name, _)| name.as_str())
    }

    /// `text` with every `${id:NAME}` of a known extension replaced by its id.
    pub fn expand_str(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(OPEN) {
            let after = &rest[start + OPEN.len()..];
            let Some(end) = after.find('}') else {
                break;
            };
            out.push_str(&rest[..start]);
            match self.get(&after[..end]) {
                Some(id) => out.push_str(id.as_str()),
                None => out.push_str(&rest[start..start + OPEN.len() + end + 1]),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    /// `value` with `${id:NAME}` expanded in every string (keys included).
    pub fn expand(&self, value: &Value) -> Value {
        match value {
            Value::String(text) if text.contains(OPEN) => Value::String(self.expand_str(text)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.expand(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.expand_str(k), self.expand(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// The names the `${id:NAME}` of a string refer to.
pub fn names_in(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let Some(end) = after.find('}') else {
            break;
        };
        names.push(&after[..end]);
        rest = &after[end + 1..];
    }
    names
}

/// Every `${id:NAME}` name used in the strings of a JSON value, with the path inside the value
/// where it is (as keys and indices).
pub fn names_in_value(value: &Value) -> Vec<(Vec<PathPart>, String)> {
    let mut found = Vec::new();
    collect(value, &mut Vec::new(), &mut found);
    found
}

/// A key or an index inside a JSON value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathPart {
    /// An object's key.
    Key(String),
    /// An array's index.
    Index(usize),
}

fn collect(value: &Value, at: &mut Vec<PathPart>, found: &mut Vec<(Vec<PathPart>, String)>) {
    match value {
        Value::String(text) => {
            for name in names_in(text) {
                found.push((at.clone(), name.to_owned()));
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                at.push(PathPart::Index(i));
                collect(item, at, found);
                at.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                at.push(PathPart::Key(key.clone()));
                for name in names_in(key) {
                    found.push((at.clone(), name.to_owned()));
                }
                collect(item, at, found);
                at.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_expand_to_ids() {
        let mut ids = Ids::default();
        let id = ExtensionId::from_bytes(b"test");
        ids.insert("sender", id.clone());
        assert_eq!(
            ids.expand(&json!({"ids": ["${id:sender}"], "url": "chrome-extension://${id:sender}/", "other": "${id:nobody}"})),
            json!({"ids": [id.as_str()], "url": format!("chrome-extension://{id}/"), "other": "${id:nobody}"})
        );
        assert_eq!(ids.name_of(&id), Some("sender"));
        assert_eq!(names_in("a ${id:x} b ${id:y"), ["x"]);
        assert_eq!(
            names_in_value(&json!({"k": ["${id:z}"]})),
            [(
                vec![PathPart::Key("k".into()), PathPart::Index(0)],
                "z".to_owned()
            )]
        );
    }
}
