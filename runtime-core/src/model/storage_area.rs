//! `chrome.storage` as data: the four areas, their quotas and access levels, how Chromium
//! counts an item's bytes, the items of one area, and the write-rate buckets of `sync`. The
//! rules that use them are in `storage.rs`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use runtime_events::SimInstant;
use serde::Serialize;
use serde_json::{Map, Number, Value};

use crate::model::extension_id::ExtensionId;
use crate::model::names::ApiFunction;

/// `storage.local.QUOTA_BYTES`: 10 MiB, ignored with the `unlimitedStorage` permission.
pub const LOCAL_QUOTA_BYTES: usize = 10_485_760;
/// `storage.session.QUOTA_BYTES`: 10 MiB.
pub const SESSION_QUOTA_BYTES: usize = 10_485_760;
/// `storage.sync.QUOTA_BYTES`: 100 KiB.
pub const SYNC_QUOTA_BYTES: usize = 102_400;
/// `storage.sync.QUOTA_BYTES_PER_ITEM`: 8 KiB.
pub const SYNC_QUOTA_BYTES_PER_ITEM: usize = 8_192;
/// `storage.sync.MAX_ITEMS`.
pub const SYNC_MAX_ITEMS: usize = 512;
/// `storage.sync.MAX_WRITE_OPERATIONS_PER_HOUR`: of each of `set`, `remove` and `clear`.
pub const SYNC_MAX_WRITE_OPERATIONS_PER_HOUR: u32 = 1_800;
/// `storage.sync.MAX_WRITE_OPERATIONS_PER_MINUTE`: of each of `set`, `remove` and `clear`.
pub const SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE: u32 = 120;
/// `storage.sync.MAX_SUSTAINED_WRITE_OPERATIONS_PER_MINUTE`: deprecated, no longer enforced.
pub const SYNC_MAX_SUSTAINED_WRITE_OPERATIONS_PER_MINUTE: u32 = 1_000_000;

/// How deep a stored value may nest before the browser drops what is deeper (V8's value
/// converter stops there).
pub(crate) const MAX_VALUE_DEPTH: usize = 100;

/// One of `chrome.storage`'s areas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageArea {
    /// `storage.local`: on disk, kept across browser restarts.
    Local,
    /// `storage.session`: in memory, gone when the browser stops or the extension unloads.
    Session,
    /// `storage.sync`: kept like `local` here (the simulator syncs with no other browser),
    /// with Chromium's sync quotas and write rates.
    Sync,
    /// `storage.managed`: set by policy (the test), read-only for the extension.
    Managed,
}

impl StorageArea {
    /// Every area, in a fixed order.
    pub const ALL: [StorageArea; 4] = [
        StorageArea::Local,
        StorageArea::Session,
        StorageArea::Sync,
        StorageArea::Managed,
    ];

    /// `local`, `session`, `sync` or `managed`: the area's name in the API and in
    /// `storage.onChanged`.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageArea::Local => "local",
            StorageArea::Session => "session",
            StorageArea::Sync => "sync",
            StorageArea::Managed => "managed",
        }
    }

    /// The name of the area's own change event, e.g. `storage.local.onChanged`.
    pub(crate) fn on_changed(self) -> &'static str {
        match self {
            StorageArea::Local => "storage.local.onChanged",
            StorageArea::Session => "storage.session.onChanged",
            StorageArea::Sync => "storage.sync.onChanged",
            StorageArea::Managed => "storage.managed.onChanged",
        }
    }
}

impl fmt::Display for StorageArea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not one of the storage areas.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown storage area {0:?}: expected local, session, sync or managed")]
pub struct UnknownStorageArea(pub String);

impl FromStr for StorageArea {
    type Err = UnknownStorageArea;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        StorageArea::ALL
            .into_iter()
            .find(|a| a.as_str() == name)
            .ok_or_else(|| UnknownStorageArea(name.to_owned()))
    }
}

/// `storage.AccessLevel`: which contexts may use `storage.session`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub enum AccessLevel {
    /// `TRUSTED_CONTEXTS` (the default): the extension's own pages and workers.
    #[default]
    #[serde(rename = "TRUSTED_CONTEXTS")]
    TrustedContexts,
    /// `TRUSTED_AND_UNTRUSTED_CONTEXTS`: content scripts too.
    #[serde(rename = "TRUSTED_AND_UNTRUSTED_CONTEXTS")]
    TrustedAndUntrustedContexts,
}

impl AccessLevel {
    /// The level's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::TrustedContexts => "TRUSTED_CONTEXTS",
            AccessLevel::TrustedAndUntrustedContexts => "TRUSTED_AND_UNTRUSTED_CONTEXTS",
        }
    }
}

/// A name that is not an access level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Value must be one of TRUSTED_AND_UNTRUSTED_CONTEXTS, TRUSTED_CONTEXTS.")]
pub struct UnknownAccessLevel(pub String);

impl FromStr for AccessLevel {
    type Err = UnknownAccessLevel;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "TRUSTED_CONTEXTS" => Ok(AccessLevel::TrustedContexts),
            "TRUSTED_AND_UNTRUSTED_CONTEXTS" => Ok(AccessLevel::TrustedAndUntrustedContexts),
            other => Err(UnknownAccessLevel(other.to_owned())),
        }
    }
}

/// What a storage call asks of one area.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum StorageOp {
    /// `get(keys)`: these keys (`None`: every item), over `defaults`.
    Get {
        keys: Option<Vec<String>>,
        defaults: Option<Map<String, Value>>,
    },
    /// The value of one key alone (or null): `Storage::get` of a Rust script.
    GetValue(String),
    /// `getKeys()`.
    GetKeys,
    /// `getBytesInUse(keys)` (`None`: the whole area).
    GetBytesInUse(Option<Vec<String>>),
    /// `set(items)`.
    Set(Map<String, Value>),
    /// `remove(keys)`.
    Remove(Vec<String>),
    /// `clear()`.
    Clear,
    /// `setAccessLevel({accessLevel})`.
    SetAccessLevel(AccessLevel),
}

impl StorageOp {
    /// Which write-rate bucket of `sync` the call counts against (Chromium keeps one per
    /// function: `set`, `remove`, `clear`), if it is a write.
    pub(crate) fn write_bucket(&self) -> Option<usize> {
        match self {
            StorageOp::Set(_) => Some(0),
            StorageOp::Remove(_) => Some(1),
            StorageOp::Clear => Some(2),
            _ => None,
        }
    }
}

/// A call of `chrome.storage`: an area and what is asked of it. What the browser refuses as
/// the call is dispatched (its rate, who calls) is decided then, and kept for its completion.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct StorageRequest {
    pub(crate) area: StorageArea,
    pub(crate) op: StorageOp,
    pub(crate) refused: Option<crate::model::error::StorageError>,
}

impl StorageRequest {
    /// A request not yet assessed.
    pub(crate) fn new(area: StorageArea, op: StorageOp) -> Self {
        StorageRequest {
            area,
            op,
            refused: None,
        }
    }

    /// The API function called.
    pub(crate) fn function(&self) -> ApiFunction {
        use ApiFunction as F;
        use StorageArea as A;
        match (self.area, &self.op) {
            (A::Local, StorageOp::Get { .. } | StorageOp::GetValue(_)) => F::StorageLocalGet,
            (A::Local, StorageOp::GetKeys) => F::StorageLocalGetKeys,
            (A::Local, StorageOp::GetBytesInUse(_)) => F::StorageLocalGetBytesInUse,
            (A::Local, StorageOp::Set(_)) => F::StorageLocalSet,
            (A::Local, StorageOp::Remove(_)) => F::StorageLocalRemove,
            (A::Local, StorageOp::Clear) => F::StorageLocalClear,
            (A::Session, StorageOp::Get { .. } | StorageOp::GetValue(_)) => F::StorageSessionGet,
            (A::Session, StorageOp::GetKeys) => F::StorageSessionGetKeys,
            (A::Session, StorageOp::GetBytesInUse(_)) => F::StorageSessionGetBytesInUse,
            (A::Session, StorageOp::Set(_)) => F::StorageSessionSet,
            (A::Session, StorageOp::Remove(_)) => F::StorageSessionRemove,
            (A::Session, StorageOp::Clear) => F::StorageSessionClear,
            (A::Sync, StorageOp::Get { .. } | StorageOp::GetValue(_)) => F::StorageSyncGet,
            (A::Sync, StorageOp::GetKeys) => F::StorageSyncGetKeys,
            (A::Sync, StorageOp::GetBytesInUse(_)) => F::StorageSyncGetBytesInUse,
            (A::Sync, StorageOp::Set(_)) => F::StorageSyncSet,
            (A::Sync, StorageOp::Remove(_)) => F::StorageSyncRemove,
            (A::Sync, StorageOp::Clear) => F::StorageSyncClear,
            (A::Managed, StorageOp::Get { .. } | StorageOp::GetValue(_)) => F::StorageManagedGet,
            (A::Managed, StorageOp::GetKeys) => F::StorageManagedGetKeys,
            (A::Managed, StorageOp::GetBytesInUse(_)) => F::StorageManagedGetBytesInUse,
            (A::Managed, StorageOp::Set(_)) => F::StorageManagedSet,
            (A::Managed, StorageOp::Remove(_)) => F::StorageManagedRemove,
            (A::Managed, StorageOp::Clear) => F::StorageManagedClear,
            (_, StorageOp::SetAccessLevel(_)) => F::StorageSessionSetAccessLevel,
        }
    }
}

/// The bytes Chromium counts for one item: the length of its key plus the length of its
/// value written as JSON by Chromium's JSON writer, both in UTF-8.
pub(crate) fn item_bytes(key: &str, value: &Value) -> usize {
    key.len().saturating_add(json_len(value))
}

/// The length of `value` as Chromium's `JSONWriter` writes it.
pub(crate) fn json_len(value: &Value) -> usize {
    match value {
        Value::Null => 4,
        Value::Bool(true) => 4,
        Value::Bool(false) => 5,
        Value::Number(n) => number_text(n).len(),
        Value::String(s) => string_len(s),
        Value::Array(items) => {
            let inner: usize = items.iter().map(json_len).sum();
            2 + inner + items.len().saturating_sub(1)
        }
        Value::Object(map) => {
            let inner: usize = map
                .iter()
                .map(|(k, v)| string_len(k) + 1 + json_len(v))
                .sum();
            2 + inner + map.len().saturating_sub(1)
        }
    }
}

/// A string as `EscapeJSONString` writes it, quotes included: `\b \f \n \r \t \\ \"` take
/// two bytes, `<`, U+2028, U+2029 and the other control characters six, the rest their UTF-8.
fn string_len(text: &str) -> usize {
    let escaped: usize = text
        .chars()
        .map(|c| match c {
            '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' | '\\' | '"' => 2,
            '<' | '\u{2028}' | '\u{2029}' => 6,
            c if (c as u32) < 0x20 => 6,
            c => c.len_utf8(),
        })
        .sum();
    escaped + 2
}

/// A number as Chromium's JSON writer writes it. What V8 holds as a 32-bit integer is an
/// integer; any other number is a double, written shortest, in exponent form from 1e12 or
/// under 1e-6, and with `.0` when it shows neither a point nor an exponent.
fn number_text(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        if i32::try_from(i).is_ok() {
            return i.to_string();
        }
    }
    let value = n.as_f64().unwrap_or(0.0);
    let mut text = double_text(value);
    if !text.contains(['.', 'e']) {
        text.push_str(".0");
    }
    text
}

/// `base::NumberToString(double)`: the shortest digits, decimal for exponents from -6 to 11,
/// else `d.ddde±x`.
fn double_text(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let sign = if value < 0.0 { "-" } else { "" };
    // Rust's `{:e}` gives the shortest digits that read back as the same double.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let exponent: i64 = exponent.parse().unwrap_or(0);
    let length = digits.len() as i64;
    let point = exponent + 1;
    let body = if (-6..12).contains(&exponent) {
        if point <= 0 {
            format!("0.{}{digits}", "0".repeat((-point) as usize))
        } else if point >= length {
            format!("{digits}{}", "0".repeat((point - length) as usize))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        }
    } else {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exponent_sign = if exponent < 0 { "-" } else { "+" };
        format!("{first}{rest}e{exponent_sign}{}", exponent.abs())
    };
    format!("{sign}{body}")
}

/// A value as the browser gives it back: objects' keys in Chromium's dictionary order
/// (bytewise). Items are kept as they were written (what a test reads back with
/// `Browser::storage`), and put in this order as a read or a change event hands them out.
pub(crate) fn dict_order(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, dict_order(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(dict_order).collect()),
        other => other,
    }
}

/// `value` without what nests deeper than `levels`, as V8's value converter leaves it out:
/// an object's property goes, an array's element becomes `null`; `None` when `value` itself
/// is too deep.
pub(crate) fn limit_depth(value: Value, levels: usize) -> Option<Value> {
    if levels == 0 {
        return None;
    }
    Some(match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter_map(|(k, v)| limit_depth(v, levels - 1).map(|v| (k, v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| limit_depth(v, levels - 1).unwrap_or(Value::Null))
                .collect(),
        ),
        other => other,
    })
}

/// One change of an item: `{newValue?, oldValue?}` (in Chromium's key order).
fn change(old: Option<Value>, new: Option<&Value>) -> Value {
    let mut change = Map::new();
    if let Some(new) = new {
        change.insert("newValue".into(), dict_order(new.clone()));
    }
    if let Some(old) = old {
        change.insert("oldValue".into(), dict_order(old));
    }
    Value::Object(change)
}

/// The limits a write is checked against.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// The bytes of the whole area.
    pub(crate) bytes: usize,
    /// Whether reaching `bytes` already fails (`session`), rather than going over it.
    pub(crate) bytes_reached_fails: bool,
    pub(crate) per_item: Option<usize>,
    pub(crate) max_items: Option<usize>,
}

/// Which limit a write went over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OverLimit {
    Bytes,
    PerItem,
    MaxItems,
}

/// One stored item and the bytes it counts.
#[derive(Clone, Debug, PartialEq)]
struct Item {
    value: Value,
    bytes: usize,
}

/// The items of one area of one extension, by key (in Chromium's order), with the bytes
/// they count.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Items {
    items: BTreeMap<String, Item>,
    total: usize,
}

impl Items {
    /// No items.
    pub(crate) const EMPTY: Items = Items {
        items: BTreeMap::new(),
        total: 0,
    };

    /// The value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.items.get(key).map(|i| &i.value)
    }

    /// Every item, as a map, each value as it was written.
    pub(crate) fn to_map(&self) -> BTreeMap<String, Value> {
        self.items
            .iter()
            .map(|(k, i)| (k.clone(), i.value.clone()))
            .collect()
    }

    /// Every key, in order.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.items.keys().cloned().collect()
    }

    /// The stored ones of `keys` (`None`: every item), in key order.
    pub(crate) fn read(&self, keys: Option<&[String]>) -> Map<String, Value> {
        match keys {
            None => self
                .items
                .iter()
                .map(|(k, i)| (k.clone(), dict_order(i.value.clone())))
                .collect(),
            Some(keys) => {
                let mut found: Vec<(&String, &Value)> = keys
                    .iter()
                    .filter_map(|k| self.items.get_key_value(k).map(|(k, i)| (k, &i.value)))
                    .collect();
                found.sort_by(|a, b| a.0.cmp(b.0));
                found.dedup_by(|a, b| a.0 == b.0);
                found
                    .into_iter()
                    .map(|(k, v)| (k.clone(), dict_order(v.clone())))
                    .collect()
            }
        }
    }

    /// The bytes `keys` count (`None`: the whole area; a key counts once per time it is
    /// named, as in Chromium).
    pub(crate) fn bytes_in_use(&self, keys: Option<&[String]>) -> usize {
        match keys {
            None => self.total,
            Some(keys) => keys
                .iter()
                .filter_map(|k| self.items.get(k))
                .map(|i| i.bytes)
                .sum(),
        }
    }

    /// Checks a write of `items` against `limits` as Chromium's quota enforcer does: each
    /// item's size in key order, then the total, then the number of items.
    pub(crate) fn check(
        &self,
        items: &Map<String, Value>,
        limits: &Limits,
    ) -> Result<(), OverLimit> {
        let mut total = self.total;
        let mut count = self.items.len();
        let mut keys: Vec<&String> = items.keys().collect();
        keys.sort();
        for key in keys {
            let bytes = item_bytes(key, &items[key.as_str()]);
            match self.items.get(key.as_str()) {
                Some(old) => total = total.saturating_sub(old.bytes).saturating_add(bytes),
                None => {
                    total = total.saturating_add(bytes);
                    count += 1;
                }
            }
            if limits.per_item.is_some_and(|max| bytes > max) {
                return Err(OverLimit::PerItem);
            }
        }
        let over = if limits.bytes_reached_fails {
            total >= limits.bytes
        } else {
            total > limits.bytes
        };
        if over {
            return Err(OverLimit::Bytes);
        }
        if limits.max_items.is_some_and(|max| count > max) {
            return Err(OverLimit::MaxItems);
        }
        Ok(())
    }

    /// Stores `items`; gives the changes (keys whose value changed), in key order.
    pub(crate) fn set(&mut self, items: Map<String, Value>) -> Map<String, Value> {
        let mut entries: Vec<(String, Value)> = items.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        let mut changes = Map::new();
        for (key, value) in entries {
            let bytes = item_bytes(&key, &value);
            let old = self.items.insert(
                key.clone(),
                Item {
                    value: value.clone(),
                    bytes,
                },
            );
            self.total = self.total.saturating_add(bytes);
            if let Some(old) = &old {
                self.total = self.total.saturating_sub(old.bytes);
            }
            match old {
                Some(old) if old.value == value => {}
                old => {
                    changes.insert(key, change(old.map(|o| o.value), Some(&value)));
                }
            }
        }
        changes
    }

    /// Removes `keys`; gives the changes (the keys that were there), in key order.
    pub(crate) fn remove(&mut self, keys: &[String]) -> Map<String, Value> {
        let mut removed: Vec<(String, Value)> = Vec::new();
        for key in keys {
            if let Some(old) = self.items.remove(key.as_str()) {
                self.total = self.total.saturating_sub(old.bytes);
                removed.push((key.clone(), old.value));
            }
        }
        removed.sort_by(|a, b| a.0.cmp(&b.0));
        removed
            .into_iter()
            .map(|(k, old)| (k, change(Some(old), None)))
            .collect()
    }

    /// Removes every item; gives the changes.
    pub(crate) fn clear(&mut self) -> Map<String, Value> {
        self.total = 0;
        std::mem::take(&mut self.items)
            .into_iter()
            .map(|(k, i)| (k, change(Some(i.value), None)))
            .collect()
    }

    /// Replaces every item by `items` (a new policy); gives the changes.
    pub(crate) fn replace(&mut self, items: Map<String, Value>) -> Map<String, Value> {
        let gone: Vec<String> = self
            .items
            .keys()
            .filter(|k| !items.contains_key(k.as_str()))
            .cloned()
            .collect();
        let mut changes = self.remove(&gone);
        changes.extend(self.set(items));
        let mut all: Vec<(String, Value)> = changes.into_iter().collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.into_iter().collect()
    }
}

/// One of Chromium's quota buckets: so many calls until it expires; the first call after it
/// expired refills it.
#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: i64,
    expires: SimInstant,
}

impl Bucket {
    fn new(count: u32, interval: Duration, now: SimInstant) -> Self {
        Bucket {
            tokens: i64::from(count),
            expires: now + interval,
        }
    }

    /// Takes a token (refilled first if the bucket expired); whether there was one.
    fn take(&mut self, count: u32, interval: Duration, now: SimInstant) -> bool {
        if now > self.expires {
            *self = Bucket::new(count, interval, now);
        }
        let had = self.tokens > 0;
        self.tokens -= 1;
        had
    }
}

/// A sync write over its rate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OverRate {
    PerMinute,
    PerHour,
}

/// The write-rate buckets of one extension's `sync` area: for each of `set`, `remove` and
/// `clear`, one of a minute and one of an hour (Chromium's quota service keeps its buckets by
/// function). The service forgets them all once a day after the browser started, and when it
/// stops.
#[derive(Clone, Debug, Default)]
pub(crate) struct WriteBuckets {
    /// For which day since the browser started these are.
    day: u64,
    functions: [Option<(Bucket, Bucket)>; 3],
}

impl WriteBuckets {
    /// Counts a write of `function` (its bucket index) at `now`, `day` days after the
    /// browser started: the minute's limit is checked first, then the hour's.
    pub(crate) fn take(
        &mut self,
        function: usize,
        now: SimInstant,
        day: u64,
    ) -> Result<(), OverRate> {
        if day != self.day {
            *self = WriteBuckets {
                day,
                ..WriteBuckets::default()
            };
        }
        let minute = Duration::from_secs(60);
        let hour = Duration::from_secs(3600);
        let Some(slot) = self.functions.get_mut(function) else {
            return Ok(());
        };
        let (per_minute, per_hour) = slot.get_or_insert_with(|| {
            (
                Bucket::new(SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE, minute, now),
                Bucket::new(SYNC_MAX_WRITE_OPERATIONS_PER_HOUR, hour, now),
            )
        });
        if !per_minute.take(SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE, minute, now) {
            return Err(OverRate::PerMinute);
        }
        if !per_hour.take(SYNC_MAX_WRITE_OPERATIONS_PER_HOUR, hour, now) {
            return Err(OverRate::PerHour);
        }
        Ok(())
    }
}

/// How often the browser's quota service forgets its buckets.
pub(crate) const QUOTA_PURGE: Duration = Duration::from_secs(86_400);

/// What the browser keeps of `chrome.storage` besides each extension's `local` items (which
/// live with the extension): `session` in memory, `sync`, the managed policies set by the
/// test, the session access levels (in the extension's preferences) and the quota service's
/// write buckets.
#[derive(Clone, Debug, Default)]
pub(crate) struct Stores {
    pub(crate) session: BTreeMap<ExtensionId, Items>,
    pub(crate) sync: BTreeMap<ExtensionId, Items>,
    /// Policies outlive installs: an administrator sets them for an extension id.
    pub(crate) managed: BTreeMap<ExtensionId, Items>,
    pub(crate) access: BTreeMap<ExtensionId, AccessLevel>,
    pub(crate) writes: BTreeMap<ExtensionId, WriteBuckets>,
    /// When the quota service started (the browser's start): it forgets its buckets every
    /// day after that.
    pub(crate) started: SimInstant,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bytes_are_key_length_plus_chromium_json_length() {
        assert_eq!(item_bytes("a", &json!(1)), 2);
        assert_eq!(item_bytes("key", &json!("value")), 3 + 7);
        assert_eq!(item_bytes("k", &json!(null)), 5);
        assert_eq!(item_bytes("k", &json!([1, 2, 3])), 1 + 7);
        assert_eq!(item_bytes("k", &json!({"a": true, "b": [false]})), 1 + 22);
        // Multi-byte characters count their UTF-8 bytes, in keys and values.
        assert_eq!(item_bytes("é", &json!("€")), 2 + 5);
        // Chromium escapes `<` and the line separators as \uXXXX.
        assert_eq!(json_len(&json!("<a>")), 2 + 6 + 2);
        assert_eq!(json_len(&json!("\u{2028}")), 8);
        assert_eq!(json_len(&json!("\n\"\u{1}")), 2 + 2 + 2 + 6);
    }

    #[test]
    fn doubles_are_written_as_chromium_writes_them() {
        let len = |v: Value| json_len(&v);
        assert_eq!(number_text(&Number::from(2_147_483_647_i64)), "2147483647");
        assert_eq!(
            number_text(&Number::from(2_147_483_648_i64)),
            "2147483648.0"
        );
        assert_eq!(
            number_text(&Number::from(-2_147_483_649_i64)),
            "-2147483649.0"
        );
        assert_eq!(double_text(1.5), "1.5");
        assert_eq!(double_text(0.1), "0.1");
        assert_eq!(double_text(1e-6), "0.000001");
        assert_eq!(double_text(1.5e-7), "1.5e-7");
        assert_eq!(double_text(123_456_789_012.0), "123456789012");
        assert_eq!(double_text(1e12), "1e+12");
        assert_eq!(double_text(1.25e21), "1.25e+21");
        assert_eq!(double_text(-0.5), "-0.5");
        assert_eq!(len(json!(1.5)), 3);
        assert_eq!(len(json!(3_000_000_000_u64)), 12);
        assert_eq!(len(json!(1e12)), 5);
    }

    #[test]
    fn reads_and_changes_come_in_key_order() {
        let mut items = Items::default();
        let changes = items.set(
            json!({"b": 1, "a": {"z": 1, "y": 2}})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            serde_json::to_string(&changes).unwrap(),
            r#"{"a":{"newValue":{"y":2,"z":1}},"b":{"newValue":1}}"#
        );
        let changes = items.set(json!({"b": 1}).as_object().unwrap().clone());
        assert!(changes.is_empty(), "an unchanged value is no change");
        let changes = items.set(json!({"b": 2}).as_object().unwrap().clone());
        assert_eq!(
            serde_json::to_string(&changes).unwrap(),
            r#"{"b":{"newValue":2,"oldValue":1}}"#
        );
        assert_eq!(items.keys(), ["a", "b"]);
        let read = items.read(Some(&["b".into(), "missing".into(), "a".into()]));
        assert_eq!(read.keys().collect::<Vec<_>>(), ["a", "b"]);
        let removed = items.remove(&["a".into(), "a".into(), "none".into()]);
        assert_eq!(
            serde_json::to_string(&removed).unwrap(),
            r#"{"a":{"oldValue":{"y":2,"z":1}}}"#
        );
        assert_eq!(items.bytes_in_use(None), item_bytes("b", &json!(2)));
    }

    #[test]
    fn bytes_in_use_follows_every_write() {
        let mut items = Items::default();
        items.set(json!({"a": "xx", "b": [1]}).as_object().unwrap().clone());
        assert_eq!(items.bytes_in_use(None), 5 + 4);
        assert_eq!(items.bytes_in_use(Some(&["a".into()])), 5);
        assert_eq!(items.bytes_in_use(Some(&["a".into(), "a".into()])), 10);
        items.set(json!({"a": "x"}).as_object().unwrap().clone());
        assert_eq!(items.bytes_in_use(None), 4 + 4);
        items.clear();
        assert_eq!(items.bytes_in_use(None), 0);
    }

    #[test]
    fn quota_checks_come_in_chromium_order() {
        let sync = Limits {
            bytes: SYNC_QUOTA_BYTES,
            bytes_reached_fails: false,
            per_item: Some(SYNC_QUOTA_BYTES_PER_ITEM),
            max_items: Some(SYNC_MAX_ITEMS),
        };
        let items = Items::default();
        let of = |v: Value| v.as_object().unwrap().clone();
        // 8192 bytes exactly fit one item: "k" + a string of 8189 characters and its quotes.
        let fits = of(json!({"k": "x".repeat(8189)}));
        assert_eq!(items.check(&fits, &sync), Ok(()));
        let over = of(json!({"k": "x".repeat(8190)}));
        assert_eq!(items.check(&over, &sync), Err(OverLimit::PerItem));
        let many: Map<String, Value> = (0..513).map(|i| (format!("k{i}"), json!(1))).collect();
        assert_eq!(items.check(&many, &sync), Err(OverLimit::MaxItems));
        let big: Map<String, Value> = (0..13)
            .map(|i| (format!("k{i:02}"), json!("x".repeat(8000))))
            .collect();
        assert_eq!(items.check(&big, &sync), Err(OverLimit::Bytes));
        // Session fails on reaching its quota, not only on going over it.
        let session = Limits {
            bytes: 10,
            bytes_reached_fails: true,
            per_item: None,
            max_items: None,
        };
        assert_eq!(
            items.check(&of(json!({"k": "xxxxxxx"})), &session),
            Err(OverLimit::Bytes)
        );
        assert_eq!(items.check(&of(json!({"k": "xxxxxx"})), &session), Ok(()));
    }

    #[test]
    fn write_buckets_refill_after_their_window() {
        let at = |s: u64| SimInstant::ZERO + Duration::from_secs(s);
        let mut buckets = WriteBuckets::default();
        for _ in 0..SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE {
            assert_eq!(buckets.take(0, at(0), 0), Ok(()));
        }
        assert_eq!(buckets.take(0, at(30), 0), Err(OverRate::PerMinute));
        // Another function has buckets of its own.
        assert_eq!(buckets.take(1, at(30), 0), Ok(()));
        // The window ends 60 s after its first call, and includes that instant.
        assert_eq!(buckets.take(0, at(60), 0), Err(OverRate::PerMinute));
        assert_eq!(buckets.take(0, at(61), 0), Ok(()));
        // The hour: 1800 writes, 120 a minute.
        let mut buckets = WriteBuckets::default();
        let mut written = 0;
        let mut t = 0;
        while written < SYNC_MAX_WRITE_OPERATIONS_PER_HOUR {
            for _ in 0..SYNC_MAX_WRITE_OPERATIONS_PER_MINUTE {
                if written < SYNC_MAX_WRITE_OPERATIONS_PER_HOUR {
                    assert_eq!(buckets.take(0, at(t), 0), Ok(()));
                    written += 1;
                }
            }
            t += 61;
        }
        assert_eq!(buckets.take(0, at(t), 0), Err(OverRate::PerHour));
        // A new day forgets everything.
        assert_eq!(buckets.take(0, at(t), 1), Ok(()));
    }

    #[test]
    fn what_nests_too_deep_is_left_out() {
        let mut deep = json!(1);
        for _ in 0..150 {
            deep = json!({ "a": deep });
        }
        let kept = limit_depth(deep, MAX_VALUE_DEPTH).unwrap();
        let mut levels = 0;
        let mut at = &kept;
        while let Some(next) = at.get("a") {
            levels += 1;
            at = next;
        }
        assert_eq!(
            levels,
            MAX_VALUE_DEPTH - 1,
            "the deepest object lost its 'a'"
        );
        assert_eq!(limit_depth(json!([[1]]), 2), Some(json!([[null]])));
        assert_eq!(limit_depth(json!(1), 0), None);
    }

    #[test]
    fn areas_and_levels_read_back_as_themselves() {
        for area in StorageArea::ALL {
            assert_eq!(area.as_str().parse::<StorageArea>(), Ok(area));
        }
        assert!("cloud".parse::<StorageArea>().is_err());
        for level in [
            AccessLevel::TrustedContexts,
            AccessLevel::TrustedAndUntrustedContexts,
        ] {
            assert_eq!(level.as_str().parse::<AccessLevel>(), Ok(level));
        }
    }
}
