//! The whole manifest object as `runtime.getManifest()` returns it, kept as its JSON text.
//!
//! Every installed extension keeps its manifest, but the simulator reads the fields it acts on
//! once, when the manifest is checked; the whole object is wanted rarely (`getManifest`, an
//! update). Its text takes a fraction of the parsed map (two `IndexMap`s per object, each with
//! its hash table and strings), so the object is parsed again from the text when it is first
//! wanted, and kept from then on.

use std::sync::OnceLock;

use serde_json::{Map, Value};

/// A manifest object, as text until it is read.
#[derive(Debug)]
pub(crate) struct ManifestText {
    text: Box<str>,
    parsed: OnceLock<Map<String, Value>>,
}

impl ManifestText {
    /// Keeps `object`. An object with a floating-point number in it is kept as it is: parsing
    /// the text again could give a number one unit in the last place away.
    pub(crate) fn new(object: Map<String, Value>) -> Self {
        let parsed = OnceLock::new();
        if has_float(&object) {
            let _ = parsed.set(object);
            return ManifestText {
                text: Box::from(""),
                parsed,
            };
        }
        let text = serde_json::to_string(&object)
            .expect("a JSON object serialises")
            .into_boxed_str();
        ManifestText { text, parsed }
    }

    /// The object.
    pub(crate) fn object(&self) -> &Map<String, Value> {
        self.parsed.get_or_init(|| {
            serde_json::from_str(&self.text).expect("a manifest's own JSON text parses")
        })
    }
}

fn has_float(object: &Map<String, Value>) -> bool {
    fn value_has_float(value: &Value) -> bool {
        match value {
            Value::Number(n) => n.is_f64(),
            Value::Array(items) => items.iter().any(value_has_float),
            Value::Object(object) => has_float(object),
            Value::Null | Value::Bool(_) | Value::String(_) => false,
        }
    }
    object.values().any(value_has_float)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(object) => object,
            _ => unreachable!(),
        }
    }

    #[test]
    fn gives_back_the_same_object_in_the_same_order() {
        let original = object(json!({
            "version": "1.0", "name": "x", "n": 18446744073709551615u64, "m": -3,
            "background": {"scripts": ["b.js", "a.js"], "persistent": false},
            "s": "\u{1F600} \"quoted\" \\ \n"
        }));
        let kept = ManifestText::new(original.clone());
        assert!(kept.parsed.get().is_none());
        assert_eq!(kept.object(), &original);
        let keys: Vec<_> = kept.object().keys().collect();
        assert_eq!(keys, original.keys().collect::<Vec<_>>());
    }

    #[test]
    fn an_object_with_a_float_is_kept_parsed() {
        let original = object(json!({"name": "x", "ratio": {"r": 0.1}}));
        let kept = ManifestText::new(original.clone());
        assert_eq!(kept.parsed.get(), Some(&original));
    }
}
