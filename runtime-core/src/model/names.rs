//! The names of events and API functions, as typed values: each prints as the browser names
//! it (`runtime.onMessage`, `storage.local.set`), and compares, hashes and copies without a
//! string.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

/// One of `chrome.runtime`'s events.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuntimeEventName {
    /// `runtime.onStartup`.
    OnStartup,
    /// `runtime.onInstalled`.
    OnInstalled,
    /// `runtime.onSuspend`.
    OnSuspend,
    /// `runtime.onSuspendCanceled`.
    OnSuspendCanceled,
    /// `runtime.onUpdateAvailable`.
    OnUpdateAvailable,
    /// `runtime.onBrowserUpdateAvailable`.
    OnBrowserUpdateAvailable,
    /// `runtime.onRestartRequired`.
    OnRestartRequired,
    /// `runtime.onMessage`.
    OnMessage,
    /// `runtime.onMessageExternal`.
    OnMessageExternal,
    /// `runtime.onConnect`.
    OnConnect,
    /// `runtime.onConnectExternal`.
    OnConnectExternal,
    /// `runtime.onConnectNative`.
    OnConnectNative,
}

impl RuntimeEventName {
    /// Every event of `chrome.runtime`, in a fixed order.
    pub const ALL: [RuntimeEventName; 12] = [
        RuntimeEventName::OnStartup,
        RuntimeEventName::OnInstalled,
        RuntimeEventName::OnSuspend,
        RuntimeEventName::OnSuspendCanceled,
        RuntimeEventName::OnUpdateAvailable,
        RuntimeEventName::OnBrowserUpdateAvailable,
        RuntimeEventName::OnRestartRequired,
        RuntimeEventName::OnMessage,
        RuntimeEventName::OnMessageExternal,
        RuntimeEventName::OnConnect,
        RuntimeEventName::OnConnectExternal,
        RuntimeEventName::OnConnectNative,
    ];

    /// The event's full name, e.g. `runtime.onMessage`.
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeEventName::OnStartup => "runtime.onStartup",
            RuntimeEventName::OnInstalled => "runtime.onInstalled",
            RuntimeEventName::OnSuspend => "runtime.onSuspend",
            RuntimeEventName::OnSuspendCanceled => "runtime.onSuspendCanceled",
            RuntimeEventName::OnUpdateAvailable => "runtime.onUpdateAvailable",
            RuntimeEventName::OnBrowserUpdateAvailable => "runtime.onBrowserUpdateAvailable",
            RuntimeEventName::OnRestartRequired => "runtime.onRestartRequired",
            RuntimeEventName::OnMessage => "runtime.onMessage",
            RuntimeEventName::OnMessageExternal => "runtime.onMessageExternal",
            RuntimeEventName::OnConnect => "runtime.onConnect",
            RuntimeEventName::OnConnectExternal => "runtime.onConnectExternal",
            RuntimeEventName::OnConnectNative => "runtime.onConnectNative",
        }
    }

    /// The member's name without `runtime.`, e.g. `onMessage`.
    pub fn member(self) -> &'static str {
        &self.as_str()["runtime.".len()..]
    }

    /// One bit for each event, for sets of them.
    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for RuntimeEventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The name of an event a context can listen to: one of `chrome.runtime`'s, one of a `Port`'s,
/// or an event of another API (`alarms.onAlarm`, `tabs.onUpdated`, …) by its name.
///
/// ```
/// use runtime_core::{EventName, RuntimeEventName};
///
/// assert_eq!(EventName::from("runtime.onMessage"), EventName::Runtime(RuntimeEventName::OnMessage));
/// assert_eq!(EventName::from("alarms.onAlarm").to_string(), "alarms.onAlarm");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventName {
    /// An event of `chrome.runtime`.
    Runtime(RuntimeEventName),
    /// `Port.onMessage`.
    PortOnMessage,
    /// `Port.onDisconnect`.
    PortOnDisconnect,
    /// An event of another API, by its full name.
    Api(Arc<str>),
}

impl EventName {
    /// The full name, e.g. `runtime.onMessage`, `Port.onDisconnect`, `alarms.onAlarm`.
    pub fn as_str(&self) -> &str {
        match self {
            EventName::Runtime(event) => event.as_str(),
            EventName::PortOnMessage => "Port.onMessage",
            EventName::PortOnDisconnect => "Port.onDisconnect",
            EventName::Api(name) => name,
        }
    }

    /// The `chrome.runtime` event, if it is one.
    pub fn runtime(&self) -> Option<RuntimeEventName> {
        match self {
            EventName::Runtime(event) => Some(*event),
            _ => None,
        }
    }
}

impl From<RuntimeEventName> for EventName {
    fn from(event: RuntimeEventName) -> Self {
        EventName::Runtime(event)
    }
}

impl From<&str> for EventName {
    fn from(name: &str) -> Self {
        if let Some(event) = RuntimeEventName::ALL.iter().find(|e| e.as_str() == name) {
            return EventName::Runtime(*event);
        }
        match name {
            "Port.onMessage" => EventName::PortOnMessage,
            "Port.onDisconnect" => EventName::PortOnDisconnect,
            other => EventName::Api(Arc::from(other)),
        }
    }
}

impl fmt::Display for EventName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for EventName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<String> for EventName {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for EventName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An extension API function the simulator runs, as Chromium's `ExtensionFunction` names it
/// (`runtime.getPlatformInfo`, `storage.local.set`, …): what the trace's API calls name, and
/// what [`BrowserBuilder::api_latency_for`](crate::BrowserBuilder::api_latency_for) takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ApiFunction {
    /// `runtime.getPlatformInfo`.
    GetPlatformInfo,
    /// `runtime.getPackageDirectoryEntry`.
    GetPackageDirectoryEntry,
    /// `runtime.openOptionsPage`.
    OpenOptionsPage,
    /// `runtime.setUninstallURL`.
    SetUninstallUrl,
    /// `runtime.getBackgroundPage`.
    GetBackgroundPage,
    /// `runtime.requestUpdateCheck`.
    RequestUpdateCheck,
    /// `runtime.reload`.
    Reload,
    /// `runtime.restart`.
    Restart,
    /// `runtime.restartAfterDelay`.
    RestartAfterDelay,
    /// `runtime.sendNativeMessage`.
    SendNativeMessage,
    /// `storage.local.get`.
    StorageLocalGet,
    /// `storage.local.set`.
    StorageLocalSet,
    /// `storage.local.remove`.
    StorageLocalRemove,
    /// `alarms.create`.
    AlarmsCreate,
    /// `alarms.get`.
    AlarmsGet,
    /// `alarms.getAll`.
    AlarmsGetAll,
    /// `alarms.clear`.
    AlarmsClear,
    /// `alarms.clearAll`.
    AlarmsClearAll,
    /// `tabs.create`.
    TabsCreate,
    /// `tabs.get`.
    TabsGet,
    /// `tabs.query`.
    TabsQuery,
    /// `tabs.remove`.
    TabsRemove,
    /// `storage.local.clear`.
    StorageLocalClear,
    /// `storage.local.getKeys`.
    StorageLocalGetKeys,
    /// `storage.local.getBytesInUse`.
    StorageLocalGetBytesInUse,
    /// `storage.session.get`.
    StorageSessionGet,
    /// `storage.session.getKeys`.
    StorageSessionGetKeys,
    /// `storage.session.getBytesInUse`.
    StorageSessionGetBytesInUse,
    /// `storage.session.set`.
    StorageSessionSet,
    /// `storage.session.remove`.
    StorageSessionRemove,
    /// `storage.session.clear`.
    StorageSessionClear,
    /// `storage.session.setAccessLevel`.
    StorageSessionSetAccessLevel,
    /// `storage.sync.get`.
    StorageSyncGet,
    /// `storage.sync.getKeys`.
    StorageSyncGetKeys,
    /// `storage.sync.getBytesInUse`.
    StorageSyncGetBytesInUse,
    /// `storage.sync.set`.
    StorageSyncSet,
    /// `storage.sync.remove`.
    StorageSyncRemove,
    /// `storage.sync.clear`.
    StorageSyncClear,
    /// `storage.managed.get`.
    StorageManagedGet,
    /// `storage.managed.getKeys`.
    StorageManagedGetKeys,
    /// `storage.managed.getBytesInUse`.
    StorageManagedGetBytesInUse,
    /// `storage.managed.set`.
    StorageManagedSet,
    /// `storage.managed.remove`.
    StorageManagedRemove,
    /// `storage.managed.clear`.
    StorageManagedClear,
}

impl ApiFunction {
    /// Every function, in a fixed order.
    pub const ALL: [ApiFunction; 44] = [
        ApiFunction::GetPlatformInfo,
        ApiFunction::GetPackageDirectoryEntry,
        ApiFunction::OpenOptionsPage,
        ApiFunction::SetUninstallUrl,
        ApiFunction::GetBackgroundPage,
        ApiFunction::RequestUpdateCheck,
        ApiFunction::Reload,
        ApiFunction::Restart,
        ApiFunction::RestartAfterDelay,
        ApiFunction::SendNativeMessage,
        ApiFunction::StorageLocalGet,
        ApiFunction::StorageLocalSet,
        ApiFunction::StorageLocalRemove,
        ApiFunction::AlarmsCreate,
        ApiFunction::AlarmsGet,
        ApiFunction::AlarmsGetAll,
        ApiFunction::AlarmsClear,
        ApiFunction::AlarmsClearAll,
        ApiFunction::TabsCreate,
        ApiFunction::TabsGet,
        ApiFunction::TabsQuery,
        ApiFunction::TabsRemove,
        ApiFunction::StorageLocalClear,
        ApiFunction::StorageLocalGetKeys,
        ApiFunction::StorageLocalGetBytesInUse,
        ApiFunction::StorageSessionGet,
        ApiFunction::StorageSessionGetKeys,
        ApiFunction::StorageSessionGetBytesInUse,
        ApiFunction::StorageSessionSet,
        ApiFunction::StorageSessionRemove,
        ApiFunction::StorageSessionClear,
        ApiFunction::StorageSessionSetAccessLevel,
        ApiFunction::StorageSyncGet,
        ApiFunction::StorageSyncGetKeys,
        ApiFunction::StorageSyncGetBytesInUse,
        ApiFunction::StorageSyncSet,
        ApiFunction::StorageSyncRemove,
        ApiFunction::StorageSyncClear,
        ApiFunction::StorageManagedGet,
        ApiFunction::StorageManagedGetKeys,
        ApiFunction::StorageManagedGetBytesInUse,
        ApiFunction::StorageManagedSet,
        ApiFunction::StorageManagedRemove,
        ApiFunction::StorageManagedClear,
    ];

    /// The function's full name, e.g. `runtime.getPlatformInfo`.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiFunction::GetPlatformInfo => "runtime.getPlatformInfo",
            ApiFunction::GetPackageDirectoryEntry => "runtime.getPackageDirectoryEntry",
            ApiFunction::OpenOptionsPage => "runtime.openOptionsPage",
            ApiFunction::SetUninstallUrl => "runtime.setUninstallURL",
            ApiFunction::GetBackgroundPage => "runtime.getBackgroundPage",
            ApiFunction::RequestUpdateCheck => "runtime.requestUpdateCheck",
            ApiFunction::Reload => "runtime.reload",
            ApiFunction::Restart => "runtime.restart",
            ApiFunction::RestartAfterDelay => "runtime.restartAfterDelay",
            ApiFunction::SendNativeMessage => "runtime.sendNativeMessage",
            ApiFunction::StorageLocalGet => "storage.local.get",
            ApiFunction::StorageLocalSet => "storage.local.set",
            ApiFunction::StorageLocalRemove => "storage.local.remove",
            ApiFunction::AlarmsCreate => "alarms.create",
            ApiFunction::AlarmsGet => "alarms.get",
            ApiFunction::AlarmsGetAll => "alarms.getAll",
            ApiFunction::AlarmsClear => "alarms.clear",
            ApiFunction::AlarmsClearAll => "alarms.clearAll",
            ApiFunction::TabsCreate => "tabs.create",
            ApiFunction::TabsGet => "tabs.get",
            ApiFunction::TabsQuery => "tabs.query",
            ApiFunction::TabsRemove => "tabs.remove",
            ApiFunction::StorageLocalClear => "storage.local.clear",
            ApiFunction::StorageLocalGetKeys => "storage.local.getKeys",
            ApiFunction::StorageLocalGetBytesInUse => "storage.local.getBytesInUse",
            ApiFunction::StorageSessionGet => "storage.session.get",
            ApiFunction::StorageSessionGetKeys => "storage.session.getKeys",
            ApiFunction::StorageSessionGetBytesInUse => "storage.session.getBytesInUse",
            ApiFunction::StorageSessionSet => "storage.session.set",
            ApiFunction::StorageSessionRemove => "storage.session.remove",
            ApiFunction::StorageSessionClear => "storage.session.clear",
            ApiFunction::StorageSessionSetAccessLevel => "storage.session.setAccessLevel",
            ApiFunction::StorageSyncGet => "storage.sync.get",
            ApiFunction::StorageSyncGetKeys => "storage.sync.getKeys",
            ApiFunction::StorageSyncGetBytesInUse => "storage.sync.getBytesInUse",
            ApiFunction::StorageSyncSet => "storage.sync.set",
            ApiFunction::StorageSyncRemove => "storage.sync.remove",
            ApiFunction::StorageSyncClear => "storage.sync.clear",
            ApiFunction::StorageManagedGet => "storage.managed.get",
            ApiFunction::StorageManagedGetKeys => "storage.managed.getKeys",
            ApiFunction::StorageManagedGetBytesInUse => "storage.managed.getBytesInUse",
            ApiFunction::StorageManagedSet => "storage.managed.set",
            ApiFunction::StorageManagedRemove => "storage.managed.remove",
            ApiFunction::StorageManagedClear => "storage.managed.clear",
        }
    }
}

impl fmt::Display for ApiFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ApiFunction {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An API function reads from its name, e.g. `"storage.local.set"` (the keys of a scenario
/// file's `api_latencies`).
impl<'de> serde::Deserialize<'de> for ApiFunction {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "schema")]
impl schemars::JsonSchema for ApiFunction {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ApiFunction".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = ApiFunction::ALL.iter().map(|f| f.as_str()).collect();
        schemars::json_schema!({
            "description": "An extension API function the simulator runs, by its full name.",
            "type": "string",
            "enum": names,
        })
    }
}

/// A name that is not one of the API functions the simulator runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown API function {0:?}: expected one of {names}", names = ApiFunction::ALL.map(ApiFunction::as_str).join(", "))]
pub struct UnknownApiFunction(pub String);

impl FromStr for ApiFunction {
    type Err = UnknownApiFunction;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ApiFunction::ALL
            .into_iter()
            .find(|f| f.as_str() == name)
            .ok_or_else(|| UnknownApiFunction(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back_as_themselves() {
        for event in RuntimeEventName::ALL {
            assert_eq!(EventName::from(event.as_str()), EventName::Runtime(event));
            assert_eq!(format!("runtime.{}", event.member()), event.as_str());
        }
        for function in ApiFunction::ALL {
            assert_eq!(function.as_str().parse::<ApiFunction>(), Ok(function));
        }
        assert_eq!(EventName::from("Port.onMessage"), EventName::PortOnMessage);
        assert_eq!(
            EventName::from("alarms.onAlarm"),
            EventName::Api("alarms.onAlarm".into())
        );
        assert!("tabs.update".parse::<ApiFunction>().is_err());
    }
}
