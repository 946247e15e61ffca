//! `chrome.storage`: every read and write of the four areas, their quotas, the write rates
//! of `sync`, who may use `session`, how long each area lives, and the change events that
//! follow a write (`storage.<area>.onChanged`, then `storage.onChanged` with the area's name).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::model::contexts::ContextId;
use crate::model::error::{ContextInvalidated, StorageError};
use crate::model::event::RuntimeEvent;
use crate::model::extension_id::ExtensionId;
use crate::model::storage_area::{
    dict_order, limit_depth, AccessLevel, Items, Limits, OverLimit, OverRate, StorageArea,
    StorageOp, StorageRequest, LOCAL_QUOTA_BYTES, MAX_VALUE_DEPTH, QUOTA_PURGE,
    SESSION_QUOTA_BYTES, SYNC_MAX_ITEMS, SYNC_QUOTA_BYTES, SYNC_QUOTA_BYTES_PER_ITEM,
};
use crate::model::work::{Action, Work};
use crate::model::world::Model;

/// The name of the event of every area's changes.
const ON_CHANGED: &str = "storage.onChanged";

/// The permission that lifts `local`'s quota.
const UNLIMITED_STORAGE: &str = "unlimitedStorage";

impl Model {
    /// Decides what the browser refuses as a storage call is dispatched from `context`: a
    /// content script's use of `session` its access level does not allow, `setAccessLevel`
    /// where it cannot be used, and a `sync` write over its rate (counted now, whatever the
    /// write comes to).
    pub(crate) fn assess_storage_call(
        &mut self,
        context: &ContextId,
        request: &mut StorageRequest,
    ) {
        let Some(ext) = context.extension().cloned() else {
            return;
        };
        let trusted = !context.is_content_script();
        let refused = if request.area == StorageArea::Session
            && !trusted
            && self.session_access(&ext) == AccessLevel::TrustedContexts
        {
            Some(StorageError::AccessNotAllowed)
        } else if let StorageOp::SetAccessLevel(_) = request.op {
            if request.area != StorageArea::Session {
                Some(StorageError::AccessLevelNotAvailable)
            } else if !trusted {
                Some(StorageError::CannotSetAccessLevel)
            } else {
                None
            }
        } else {
            None
        };
        if refused.is_some() {
            request.refused = refused;
            return;
        }
        if request.area != StorageArea::Sync {
            return;
        }
        let Some(bucket) = request.op.write_bucket() else {
            return;
        };
        let now = self.now();
        let day =
            now.saturating_duration_since(self.stores.started).as_secs() / QUOTA_PURGE.as_secs();
        let rate = self
            .stores
            .writes
            .entry(ext)
            .or_default()
            .take(bucket, now, day);
        request.refused = match rate {
            Ok(()) => None,
            Err(OverRate::PerMinute) => Some(StorageError::WriteOperationsPerMinute),
            Err(OverRate::PerHour) => Some(StorageError::WriteOperationsPerHour),
        };
    }

    /// Runs a storage call of `ext` once its latency has passed: its value (`null` for a
    /// write), or the browser's error. A write that changes something fires the change events.
    pub(crate) fn storage_call(
        &mut self,
        ext: &ExtensionId,
        request: StorageRequest,
    ) -> Result<Value, StorageError> {
        if let Some(error) = request.refused {
            return Err(error);
        }
        let area = request.area;
        let Some(rec) = self.ext(ext) else {
            return Err(ContextInvalidated.into());
        };
        let unlimited = rec.manifest.has_permission(UNLIMITED_STORAGE);
        let read_only = area == StorageArea::Managed;
        match request.op {
            StorageOp::Get { keys, defaults } => {
                let found = self.items(ext, area).map(|i| i.read(keys.as_deref()));
                let mut merged: Vec<(String, Value)> = defaults
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|(k, v)| {
                        limit_depth(v, MAX_VALUE_DEPTH).map(|v| (k, dict_order(v)))
                    })
                    .collect();
                merged.retain(|(k, _)| !found.as_ref().is_some_and(|f| f.contains_key(k)));
                merged.extend(found.unwrap_or_default());
                merged.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(Value::Object(merged.into_iter().collect()))
            }
            StorageOp::GetValue(key) => Ok(self
                .items(ext, area)
                .and_then(|i| i.get(&key))
                .cloned()
                .map_or(Value::Null, dict_order)),
            StorageOp::GetKeys => Ok(Value::from(
                self.items(ext, area).map(Items::keys).unwrap_or_default(),
            )),
            // Chromium's policy store counts no bytes.
            StorageOp::GetBytesInUse(_) if read_only => Ok(Value::from(0)),
            StorageOp::GetBytesInUse(keys) => Ok(Value::from(
                self.items(ext, area)
                    .map_or(0, |i| i.bytes_in_use(keys.as_deref())),
            )),
            StorageOp::Set(_) | StorageOp::Remove(_) | StorageOp::Clear if read_only => {
                Err(StorageError::ReadOnly)
            }
            StorageOp::Set(items) => {
                let items: Map<String, Value> = items
                    .into_iter()
                    .filter_map(|(k, v)| limit_depth(v, MAX_VALUE_DEPTH).map(|v| (k, v)))
                    .collect();
                let limits = match area {
                    StorageArea::Local if unlimited => None,
                    StorageArea::Local => Some(Limits {
                        bytes: LOCAL_QUOTA_BYTES,
                        bytes_reached_fails: false,
                        per_item: None,
                        max_items: None,
                    }),
                    StorageArea::Session => Some(Limits {
                        bytes: SESSION_QUOTA_BYTES,
                        bytes_reached_fails: true,
                        per_item: None,
                        max_items: None,
                    }),
                    StorageArea::Sync => Some(Limits {
                        bytes: SYNC_QUOTA_BYTES,
                        bytes_reached_fails: false,
                        per_item: Some(SYNC_QUOTA_BYTES_PER_ITEM),
                        max_items: Some(SYNC_MAX_ITEMS),
                    }),
                    StorageArea::Managed => None,
                };
                let store = self.items_mut(ext, area).ok_or(ContextInvalidated)?;
                if let Some(limits) = limits {
                    store
                        .check(&items, &limits)
                        .map_err(|over| match (over, area) {
                            (OverLimit::Bytes, StorageArea::Session) => {
                                StorageError::SessionQuotaBytes
                            }
                            (OverLimit::Bytes, _) => StorageError::QuotaBytes,
                            (OverLimit::PerItem, _) => StorageError::QuotaBytesPerItem,
                            (OverLimit::MaxItems, _) => StorageError::MaxItems,
                        })?;
                }
                let changes = store.set(items);
                self.storage_changed(ext, area, changes);
                Ok(Value::Null)
            }
            StorageOp::Remove(keys) => {
                let store = self.items_mut(ext, area).ok_or(ContextInvalidated)?;
                let changes = store.remove(&keys);
                self.storage_changed(ext, area, changes);
                Ok(Value::Null)
            }
            StorageOp::Clear => {
                let store = self.items_mut(ext, area).ok_or(ContextInvalidated)?;
                let changes = store.clear();
                self.storage_changed(ext, area, changes);
                Ok(Value::Null)
            }
            StorageOp::SetAccessLevel(level) => {
                self.stores.access.insert(ext.clone(), level);
                Ok(Value::Null)
            }
        }
    }

    /// The items of one area of `ext` (`None` when the extension is not installed).
    fn items(&self, ext: &ExtensionId, area: StorageArea) -> Option<&Items> {
        static EMPTY: Items = Items::EMPTY;
        let rec = self.ext(ext)?;
        Some(match area {
            StorageArea::Local => &rec.storage,
            StorageArea::Session => self.stores.session.get(ext).unwrap_or(&EMPTY),
            StorageArea::Sync => self.stores.sync.get(ext).unwrap_or(&EMPTY),
            StorageArea::Managed => self.stores.managed.get(ext).unwrap_or(&EMPTY),
        })
    }

    /// The items of one area of `ext`, to write to (`None` when it is not installed).
    fn items_mut(&mut self, ext: &ExtensionId, area: StorageArea) -> Option<&mut Items> {
        if area == StorageArea::Local {
            return self.ext_mut(ext).map(|rec| &mut rec.storage);
        }
        self.ext(ext)?;
        let stores = &mut self.stores;
        let map = match area {
            StorageArea::Session => &mut stores.session,
            StorageArea::Sync => &mut stores.sync,
            StorageArea::Local | StorageArea::Managed => &mut stores.managed,
        };
        Some(map.entry(ext.clone()).or_default())
    }

    /// Every item of one area of `ext`, for tests and scenarios.
    pub(crate) fn stored(&self, ext: &ExtensionId, area: StorageArea) -> BTreeMap<String, Value> {
        self.items(ext, area).map(Items::to_map).unwrap_or_default()
    }

    /// `session`'s access level for `ext`.
    pub(crate) fn session_access(&self, ext: &ExtensionId) -> AccessLevel {
        self.stores.access.get(ext).copied().unwrap_or_default()
    }

    /// The administrator sets `ext`'s managed storage to `policy` (replacing the previous
    /// one); a running extension gets the changes.
    pub(crate) fn set_managed_storage(&mut self, ext: &ExtensionId, policy: Map<String, Value>) {
        let policy = policy
            .into_iter()
            .filter_map(|(k, v)| limit_depth(v, MAX_VALUE_DEPTH).map(|v| (k, v)))
            .collect();
        let changes = self
            .stores
            .managed
            .entry(ext.clone())
            .or_default()
            .replace(policy);
        let running = self.running && self.ext(ext).is_some_and(|r| r.life.is_running());
        if running {
            self.storage_changed(ext, StorageArea::Managed, changes);
        }
    }

    /// `ext` is unloaded (an update, a reload, a termination, an uninstall, the browser's
    /// stop): its `session` items go, without change events.
    pub(crate) fn clear_session(&mut self, ext: &ExtensionId) {
        self.stores.session.remove(ext);
    }

    /// `ext` is uninstalled: its `sync` items, its preferences and its write buckets go
    /// (`local` goes with the extension; a managed policy stays).
    pub(crate) fn forget_storage(&mut self, ext: &ExtensionId) {
        self.stores.session.remove(ext);
        self.stores.sync.remove(ext);
        self.stores.access.remove(ext);
        self.stores.writes.remove(ext);
    }

    /// The browser starts: a new quota service, with no bucket.
    pub(crate) fn storage_browser_started(&mut self) {
        self.stores.writes.clear();
        self.stores.started = self.now();
    }

    /// The browser stops: what lives only in its memory goes (`session`, the write buckets).
    pub(crate) fn storage_browser_stopped(&mut self) {
        self.stores.session.clear();
        self.stores.writes.clear();
    }

    /// A write changed `changes` of `ext`'s `area`: `storage.<area>.onChanged` (the changes)
    /// and then `storage.onChanged` (the changes and the area's name) go to every context of
    /// the extension that listens — the background page (waking it if it listened when it
    /// last ran), its views, and its content scripts unless the area is `session` restricted
    /// to trusted contexts.
    fn storage_changed(
        &mut self,
        ext: &ExtensionId,
        area: StorageArea,
        changes: Map<String, Value>,
    ) {
        if changes.is_empty() {
            return;
        }
        let changes = Value::Object(changes);
        let area_name = self.event_names.intern(area.on_changed());
        let all_name = self.event_names.intern(ON_CHANGED);
        let Some(rec) = self.ext(ext) else {
            return;
        };
        let events = [
            RuntimeEvent::Named {
                name: area_name,
                args: changes.clone(),
            },
            RuntimeEvent::Named {
                name: all_name,
                args: Value::Array(vec![changes, Value::from(area.as_str())]),
            },
        ];
        let background: Vec<bool> = events
            .iter()
            .map(|e| rec.lazy_listeners.contains(&e.name()))
            .collect();
        let mut others: Vec<ContextId> = rec
            .views
            .keys()
            .map(|view| ContextId::View {
                ext: ext.clone(),
                view: *view,
            })
            .collect();
        let untrusted = area != StorageArea::Session
            || self.session_access(ext) == AccessLevel::TrustedAndUntrustedContexts;
        if untrusted {
            for (tab, state) in &self.tabs {
                for (frame, f) in &state.frames {
                    if f.content_scripts.contains(ext) {
                        others.push(ContextId::ContentScript {
                            ext: ext.clone(),
                            tab: *tab,
                            frame: *frame,
                            document: f.document,
                        });
                    }
                }
            }
        }
        for (event, to_background) in events.into_iter().zip(background) {
            for to in &others {
                self.act(Action::DispatchToContext {
                    to: to.clone(),
                    event: event.clone(),
                });
            }
            if to_background {
                self.bus.post(Work::Deliver {
                    ext: ext.clone(),
                    event,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::time::Duration;

    use serde_json::{json, Value};

    use crate::model::error::StorageError;
    use crate::model::storage_area::{AccessLevel, StorageArea};
    use crate::{
        script_fn, Browser, BrowserBuilder, ExtensionId, ExtensionSpec, FrameId, PageState,
        Profile, Runtime, ViewKind,
    };

    /// What the background page's storage listeners got, in order: `(event, args)`.
    type Heard = Rc<RefCell<Vec<(String, Value)>>>;

    /// A browser with one extension whose background listens to every change event; the
    /// extension's `manifest` fields are added to a plain one.
    fn browser_with(
        builder: impl FnOnce(&ExtensionId) -> BrowserBuilder,
        extra: Value,
    ) -> (Browser, ExtensionId, Heard) {
        let heard: Heard = Rc::default();
        let log = Rc::clone(&heard);
        let script = script_fn(move |rt: Runtime| {
            let log = Rc::clone(&log);
            async move {
                let events = [
                    "storage.onChanged",
                    "storage.local.onChanged",
                    "storage.session.onChanged",
                    "storage.sync.onChanged",
                    "storage.managed.onChanged",
                ];
                for name in events {
                    let log = Rc::clone(&log);
                    rt.event(name).add_listener(move |args: Value| {
                        log.borrow_mut().push((name.to_owned(), args));
                    });
                }
                Ok(())
            }
        });
        let mut manifest = json!({
            "name": "Store", "version": "1.0",
            "background": {"scripts": ["bg.js"], "persistent": false},
            "content_scripts": [{"matches": ["https://example.com/*"], "js": ["cs.js"]}]
        });
        if let (Some(manifest), Value::Object(extra)) = (manifest.as_object_mut(), extra) {
            manifest.extend(extra);
        }
        let spec = ExtensionSpec::from_json(manifest).unwrap().script(script);
        let mut browser = builder(&spec.id()).build();
        let id = browser.install(spec).unwrap();
        browser.start();
        browser.advance(Duration::from_secs(1));
        (browser, id, heard)
    }

    /// The `runtime` of a new popup of the extension.
    fn popup(browser: &mut Browser, id: &ExtensionId) -> Runtime {
        let view = browser
            .open_view(id, ViewKind::Popup, "popup.html")
            .unwrap();
        browser.view_runtime(id, view).unwrap()
    }

    fn items(value: Value) -> serde_json::Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn session_lives_until_the_browser_stops_or_the_extension_reloads() {
        let (mut browser, id, _) = browser_with(
            |_| Browser::builder().profile(Profile::ChromeMv3),
            json!({}),
        );
        let view = browser
            .open_view(&id, ViewKind::Popup, "popup.html")
            .unwrap();
        let rt = browser.view_runtime(&id, view).unwrap();
        let set = rt.session_storage().set("token", json!("abc"));
        browser.block_on(set).unwrap().unwrap();
        let local = rt.storage().set("kept", json!(true));
        browser.block_on(local).unwrap().unwrap();
        browser.close_view(&id, view);
        // The service worker stops after 30 s idle, and starts again for the next event.
        browser.advance(Duration::from_secs(120));
        assert_eq!(browser.page_state(&id), Some(PageState::Unloaded));
        assert_eq!(
            browser.storage_area(&id, StorageArea::Session).get("token"),
            Some(&json!("abc")),
            "session storage survives a service worker restart"
        );
        browser.restart();
        assert!(browser.storage_area(&id, StorageArea::Session).is_empty());
        assert_eq!(browser.storage(&id).get("kept"), Some(&json!(true)));
        let rt = popup(&mut browser, &id);
        let set = rt.session_storage().set("token", json!("def"));
        browser.block_on(set).unwrap().unwrap();
        browser.reload_extension(&id).unwrap();
        assert!(
            browser.storage_area(&id, StorageArea::Session).is_empty(),
            "a reload clears session storage"
        );
        assert_eq!(browser.storage(&id).get("kept"), Some(&json!(true)));
    }

    #[test]
    fn sync_quotas_fail_with_chromium_errors_and_store_nothing() {
        let (mut browser, id, _) = browser_with(|_| Browser::builder(), json!({}));
        let sync = popup(&mut browser, &id).sync_storage();
        let mut run = |items: Value| {
            browser
                .block_on(sync.set_items(self::items(items)))
                .unwrap()
        };
        assert_eq!(run(json!({"k": "x".repeat(8189)})), Ok(()));
        assert_eq!(
            run(json!({"k": "x".repeat(8190)})),
            Err(StorageError::QuotaBytesPerItem)
        );
        let many: serde_json::Map<String, Value> =
            (0..512).map(|i| (format!("n{i}"), json!(i))).collect();
        assert_eq!(run(Value::Object(many)), Err(StorageError::MaxItems));
        let big: serde_json::Map<String, Value> = (0..12)
            .map(|i| (format!("b{i:02}"), json!("y".repeat(8000))))
            .collect();
        assert_eq!(run(Value::Object(big)), Err(StorageError::QuotaBytes));
        assert_eq!(
            StorageError::QuotaBytesPerItem.to_string(),
            "QUOTA_BYTES_PER_ITEM quota exceeded"
        );
        let stored = browser.storage_area(&id, StorageArea::Sync);
        assert_eq!(stored.len(), 1, "a refused write stores nothing");
    }

    #[test]
    fn sync_write_rates_are_counted_per_function_on_the_virtual_clock() {
        let (mut browser, id, _) = browser_with(|_| Browser::builder(), json!({}));
        let sync = popup(&mut browser, &id).sync_storage();
        for i in 0..120 {
            let set = sync.set("n", json!(i));
            assert_eq!(browser.block_on(set).unwrap(), Ok(()), "write {i}");
        }
        let over = browser.block_on(sync.set("n", json!(-1))).unwrap();
        assert_eq!(over, Err(StorageError::WriteOperationsPerMinute));
        assert_eq!(
            over.unwrap_err().to_string(),
            "This request exceeds the MAX_WRITE_OPERATIONS_PER_MINUTE quota."
        );
        assert_eq!(
            browser.storage_area(&id, StorageArea::Sync)["n"],
            json!(119)
        );
        // remove has its own buckets; local has none.
        assert_eq!(browser.block_on(sync.remove("gone")).unwrap(), Ok(()));
        let local = popup(&mut browser, &id).storage();
        assert_eq!(browser.block_on(local.set("n", json!(0))).unwrap(), Ok(()));
        // The minute's window ends 60 s after its first write.
        browser.advance(Duration::from_secs(61));
        assert_eq!(browser.block_on(sync.set("n", json!(120))).unwrap(), Ok(()));
        // 1800 writes an hour: 15 more minutes of 120.
        let mut written = 121;
        while written < 1800 {
            browser.advance(Duration::from_secs(61));
            for _ in 0..120.min(1800 - written) {
                let set = sync.set("n", json!(written));
                assert_eq!(browser.block_on(set).unwrap(), Ok(()), "write {written}");
                written += 1;
            }
        }
        browser.advance(Duration::from_secs(61));
        let over = browser.block_on(sync.set("n", json!(0))).unwrap();
        assert_eq!(over, Err(StorageError::WriteOperationsPerHour));
        // A new browser run has a new quota service.
        browser.restart();
        let sync = popup(&mut browser, &id).sync_storage();
        assert_eq!(browser.block_on(sync.set("n", json!(0))).unwrap(), Ok(()));
    }

    #[test]
    fn bytes_in_use_counts_keys_and_json() {
        let (mut browser, id, _) = browser_with(|_| Browser::builder(), json!({}));
        let local = popup(&mut browser, &id).storage();
        let set = local.set_items(items(
            json!({"a": "xyz", "bb": [1, 2.5], "c": 3_000_000_000_u64}),
        ));
        browser.block_on(set).unwrap().unwrap();
        let bytes = |browser: &mut Browser, keys: Option<Vec<&str>>| {
            let keys = keys.map(|k| k.into_iter().map(str::to_owned).collect());
            browser
                .block_on(local.get_bytes_in_use(keys))
                .unwrap()
                .unwrap()
        };
        // "a" + "\"xyz\"", "bb" + "[1,2.5]", "c" + "3000000000.0".
        assert_eq!(bytes(&mut browser, Some(vec!["a"])), 6);
        assert_eq!(bytes(&mut browser, Some(vec!["bb"])), 9);
        assert_eq!(bytes(&mut browser, Some(vec!["c", "missing"])), 13);
        assert_eq!(bytes(&mut browser, None), 28);
        assert_eq!(bytes(&mut browser, Some(vec![])), 0);
    }

    #[test]
    fn local_quota_and_unlimited_storage() {
        let big = json!({"big": "z".repeat(10_485_760)});
        let (mut browser, id, _) = browser_with(|_| Browser::builder(), json!({}));
        let local = popup(&mut browser, &id).storage();
        let over = browser
            .block_on(local.set_items(items(big.clone())))
            .unwrap();
        assert_eq!(over, Err(StorageError::QuotaBytes));
        let (mut browser, id, _) = browser_with(
            |_| Browser::builder(),
            json!({"permissions": ["unlimitedStorage"]}),
        );
        let local = popup(&mut browser, &id).storage();
        assert_eq!(
            browser.block_on(local.set_items(items(big))).unwrap(),
            Ok(())
        );
    }

    #[test]
    fn managed_storage_is_set_by_the_test_and_read_only() {
        // A policy set as the browser is built is there from the start.
        let (mut browser, id, _) = browser_with(
            |id| Browser::builder().managed_storage(id, items(json!({"policy": 0}))),
            json!({}),
        );
        let managed = popup(&mut browser, &id).managed_storage();
        let read = browser.block_on(managed.get("policy")).unwrap();
        assert_eq!(read, Ok(Some(json!(0))));

        let (mut browser, id, heard) = browser_with(|_| Browser::builder(), json!({}));
        browser.set_managed_storage(&id, items(json!({"policy": 1, "other": "x"})));
        browser.advance(Duration::from_secs(1));
        let managed = popup(&mut browser, &id).managed_storage();
        let read = browser.block_on(managed.get_items(None)).unwrap().unwrap();
        assert_eq!(Value::Object(read), json!({"other": "x", "policy": 1}));
        for write in [
            browser.block_on(managed.set("k", json!(1))).unwrap(),
            browser.block_on(managed.remove("policy")).unwrap(),
            browser.block_on(managed.clear()).unwrap(),
        ] {
            assert_eq!(write, Err(StorageError::ReadOnly));
        }
        assert_eq!(
            StorageError::ReadOnly.to_string(),
            "This is a read-only store."
        );
        assert_eq!(
            browser.block_on(managed.get_bytes_in_use(None)).unwrap(),
            Ok(0)
        );
        let heard = heard.borrow();
        assert_eq!(
            heard[0],
            (
                "storage.managed.onChanged".to_owned(),
                json!({"other": {"newValue": "x"}, "policy": {"newValue": 1}})
            )
        );
        assert_eq!(heard[1].0, "storage.onChanged");
        assert_eq!(heard[1].1[1], json!("managed"));
    }

    #[test]
    fn each_area_fires_its_own_event_then_storage_on_changed_with_its_name() {
        let (mut browser, id, heard) = browser_with(|_| Browser::builder(), json!({}));
        let rt = popup(&mut browser, &id);
        for area in [StorageArea::Local, StorageArea::Session, StorageArea::Sync] {
            let set = rt.storage_area(area).set("k", json!(area.as_str()));
            browser.block_on(set).unwrap().unwrap();
        }
        browser.advance(Duration::from_secs(1));
        let heard = heard.borrow();
        let names: Vec<(&str, Value)> = heard
            .iter()
            .map(|(name, args)| (name.as_str(), args.get(1).cloned().unwrap_or(Value::Null)))
            .collect();
        assert_eq!(
            names,
            [
                ("storage.local.onChanged", Value::Null),
                ("storage.onChanged", json!("local")),
                ("storage.session.onChanged", Value::Null),
                ("storage.onChanged", json!("session")),
                ("storage.sync.onChanged", Value::Null),
                ("storage.onChanged", json!("sync")),
            ]
        );
        assert_eq!(heard[4].1, json!({"k": {"newValue": "sync"}}));
    }

    #[test]
    fn content_scripts_use_session_only_when_its_access_level_allows() {
        let (mut browser, id, _) = browser_with(|_| Browser::builder(), json!({}));
        let tab = browser.open_tab("https://example.com/").unwrap();
        let cs = browser.content_script(&id, tab, FrameId::TOP).unwrap();
        let heard: Heard = Rc::default();
        let log = Rc::clone(&heard);
        cs.event("storage.onChanged")
            .add_listener(move |args: Value| log.borrow_mut().push(("cs".into(), args)));
        let page = popup(&mut browser, &id);
        let denied = browser
            .block_on(cs.session_storage().get_items(None))
            .unwrap();
        assert_eq!(denied, Err(StorageError::AccessNotAllowed));
        assert_eq!(
            denied.unwrap_err().to_string(),
            "Access to storage is not allowed from this context."
        );
        // A session change does not reach the content script while it may not use session.
        browser
            .block_on(page.session_storage().set("s", json!(1)))
            .unwrap()
            .unwrap();
        browser
            .block_on(page.storage().set("l", json!(1)))
            .unwrap()
            .unwrap();
        assert_eq!(
            heard.borrow().len(),
            1,
            "only the local change: {:?}",
            heard.borrow()
        );
        assert_eq!(heard.borrow()[0].1[1], json!("local"));
        let level = AccessLevel::TrustedAndUntrustedContexts;
        let set = page.session_storage().set_access_level(level);
        assert_eq!(browser.block_on(set).unwrap(), Ok(()));
        assert_eq!(browser.session_access_level(&id), level);
        let read = browser.block_on(cs.session_storage().get("s")).unwrap();
        assert_eq!(read, Ok(Some(json!(1))));
        let set = cs
            .session_storage()
            .set_access_level(AccessLevel::TrustedContexts);
        assert_eq!(
            browser.block_on(set).unwrap(),
            Err(StorageError::CannotSetAccessLevel)
        );
        let local = page.storage().set_access_level(level);
        assert_eq!(
            browser.block_on(local).unwrap(),
            Err(StorageError::AccessLevelNotAvailable)
        );
        browser
            .block_on(page.session_storage().set("s", json!(2)))
            .unwrap()
            .unwrap();
        assert_eq!(heard.borrow().last().unwrap().1[1], json!("session"));
        // The level is a preference of the extension: it outlives a browser restart.
        browser.restart();
        assert_eq!(browser.session_access_level(&id), level);
    }
}
