//! `chrome.storage.local` writes: what changes, and `storage.onChanged` for an extension that
//! listens to it (Chromium's value store reports only the keys whose value changed).

use serde_json::{Map, Value};

use crate::model::error::{ContextError, ContextInvalidated};
use crate::model::event::RuntimeEvent;
use crate::model::extension_id::ExtensionId;
use crate::model::names::EventName;
use crate::model::work::Work;
use crate::model::world::Model;

/// The name of the event of every storage area's changes.
const ON_CHANGED: &str = "storage.onChanged";

impl Model {
    /// Writes to an extension's `local` area: each key gets its value, or is removed (`None`).
    /// If the extension listens to `storage.onChanged`, the keys whose value changed go to it
    /// as `(changes, "local")`, each change `{oldValue?, newValue?}`.
    pub(crate) fn write_storage(
        &mut self,
        ext: &ExtensionId,
        writes: Vec<(String, Option<Value>)>,
    ) -> Result<(), ContextError> {
        let Some(rec) = self.ext_mut(ext) else {
            return Err(ContextError::Invalidated(ContextInvalidated));
        };
        let mut changes = Map::new();
        for (key, value) in writes {
            let old = match value {
                Some(new) => {
                    let old = rec.storage.insert(key.clone(), new.clone());
                    if old.as_ref() == Some(&new) {
                        continue;
                    }
                    let mut change = Map::new();
                    if let Some(old) = old {
                        change.insert("oldValue".into(), old);
                    }
                    change.insert("newValue".into(), new);
                    change
                }
                None => match rec.storage.remove(&key) {
                    Some(old) => Map::from_iter([("oldValue".to_owned(), old)]),
                    None => continue,
                },
            };
            changes.insert(key, Value::Object(old));
        }
        let listens = rec.lazy_listeners.contains(&EventName::from(ON_CHANGED));
        if listens && !changes.is_empty() {
            let name = self.event_names.intern(ON_CHANGED);
            self.bus.post(Work::Deliver {
                ext: ext.clone(),
                event: RuntimeEvent::Named {
                    name,
                    args: Value::Array(vec![Value::Object(changes), Value::from("local")]),
                },
            });
        }
        Ok(())
    }
}
