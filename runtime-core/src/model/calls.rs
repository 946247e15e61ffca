//! API calls as data: what a context asked the browser for, the call while it is in flight,
//! and what it came to.

use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::model::error::{
    ContextError, GetBackgroundPageError, GetPlatformInfoError, OpenOptionsPageError,
    RequestUpdateCheckError, RestartAfterDelayError, RestartError, SendNativeMessageError,
    SetUninstallUrlError, StorageError,
};
use crate::model::extension_id::ExtensionId;
use crate::model::ids::{KeepaliveId, TabId};
use crate::model::names::ApiFunction;
use crate::model::platform::PlatformInfo;
use crate::model::tab::{TabCreate, TabQuery};
use crate::model::trace_entry::TraceContext;
use crate::model::update_service::UpdateCheckResult;

/// What `runtime.getBackgroundPage()` gives: the extension's loaded background page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BackgroundPage {
    /// The page's URL.
    pub url: String,
    /// Which load of the page this is (1 for the first).
    pub load: u64,
}

/// What `runtime.getPackageDirectoryEntry()` gives: the extension's install folder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PackageDirectory {
    /// The entry's name; Chromium calls the package's file system `crxfs`.
    pub name: String,
    /// The install folder on disk (or the virtual path of an extension given in code).
    pub path: PathBuf,
}

/// What a context asked the browser to do.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ApiRequest {
    GetPlatformInfo,
    GetPackageDirectoryEntry,
    OpenOptionsPage,
    SetUninstallUrl(String),
    GetBackgroundPage,
    RequestUpdateCheck,
    Reload,
    Restart,
    RestartAfterDelay(i32),
    /// Answered by a native host, not by the browser.
    SendNativeMessage,
    /// A call of `chrome.storage`.
    Storage(crate::model::storage_area::StorageRequest),
    /// `alarms.create`.
    AlarmsCreate(crate::model::alarm::AlarmCreate),
    /// `alarms.get(name)`.
    AlarmsGet(String),
    /// `alarms.getAll()`.
    AlarmsGetAll,
    /// `alarms.clear(name)`.
    AlarmsClear(String),
    /// `alarms.clearAll()`.
    AlarmsClearAll,
    /// `tabs.create(createProperties)`.
    TabsCreate(TabCreate),
    /// `tabs.get(tabId)`.
    TabsGet(TabId),
    /// `tabs.query(queryInfo)`.
    TabsQuery(TabQuery),
    /// `tabs.remove(tabIds)`.
    TabsRemove(Vec<TabId>),
}

impl ApiRequest {
    /// The function called.
    pub(crate) fn function(&self) -> ApiFunction {
        match self {
            ApiRequest::GetPlatformInfo => ApiFunction::GetPlatformInfo,
            ApiRequest::GetPackageDirectoryEntry => ApiFunction::GetPackageDirectoryEntry,
            ApiRequest::OpenOptionsPage => ApiFunction::OpenOptionsPage,
            ApiRequest::SetUninstallUrl(_) => ApiFunction::SetUninstallUrl,
            ApiRequest::GetBackgroundPage => ApiFunction::GetBackgroundPage,
            ApiRequest::RequestUpdateCheck => ApiFunction::RequestUpdateCheck,
            ApiRequest::Reload => ApiFunction::Reload,
            ApiRequest::Restart => ApiFunction::Restart,
            ApiRequest::RestartAfterDelay(_) => ApiFunction::RestartAfterDelay,
            ApiRequest::SendNativeMessage => ApiFunction::SendNativeMessage,
            ApiRequest::Storage(request) => request.function(),
            ApiRequest::AlarmsCreate(_) => ApiFunction::AlarmsCreate,
            ApiRequest::AlarmsGet(_) => ApiFunction::AlarmsGet,
            ApiRequest::AlarmsGetAll => ApiFunction::AlarmsGetAll,
            ApiRequest::AlarmsClear(_) => ApiFunction::AlarmsClear,
            ApiRequest::AlarmsClearAll => ApiFunction::AlarmsClearAll,
            ApiRequest::TabsCreate(_) => ApiFunction::TabsCreate,
            ApiRequest::TabsGet(_) => ApiFunction::TabsGet,
            ApiRequest::TabsQuery(_) => ApiFunction::TabsQuery,
            ApiRequest::TabsRemove(_) => ApiFunction::TabsRemove,
        }
    }
}

/// An API call in flight: who made it, and the keepalive it holds.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    pub(crate) ext: ExtensionId,
    pub(crate) context: TraceContext,
    pub(crate) request: ApiRequest,
    pub(crate) keepalive: KeepaliveId,
}

/// What an API call came to, for the code that waits for it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum CallOutcome {
    PlatformInfo(Result<PlatformInfo, GetPlatformInfoError>),
    PackageDirectory(Result<PackageDirectory, ContextError>),
    OpenOptionsPage(Result<(), OpenOptionsPageError>),
    SetUninstallUrl(Result<(), SetUninstallUrlError>),
    BackgroundPage(Result<BackgroundPage, GetBackgroundPageError>),
    UpdateCheck(Result<UpdateCheckResult, RequestUpdateCheckError>),
    Done(Result<(), ContextError>),
    Restart(Result<(), RestartError>),
    RestartAfterDelay(Result<(), RestartAfterDelayError>),
    /// A `chrome.storage` call: its value (`null` for a write), or the browser's error.
    Storage(Result<Value, StorageError>),
    /// A call whose value is JSON, or whose error is the browser's message.
    Json(Result<Value, String>),
    NativeMessage(Result<Value, SendNativeMessageError>),
}

impl CallOutcome {
    /// Whether the call succeeded, and its value (or its error's message) as the trace shows
    /// it.
    pub(crate) fn for_trace(&self) -> (bool, Value) {
        fn of<T: Serialize, E: std::fmt::Display>(result: &Result<T, E>) -> (bool, Value) {
            match result {
                Ok(v) => (true, serde_json::to_value(v).unwrap_or(Value::Null)),
                Err(e) => (false, Value::String(e.to_string())),
            }
        }
        match self {
            CallOutcome::PlatformInfo(r) => of(r),
            CallOutcome::PackageDirectory(r) => of(r),
            CallOutcome::OpenOptionsPage(r) => of(r),
            CallOutcome::SetUninstallUrl(r) => of(r),
            CallOutcome::BackgroundPage(r) => of(r),
            CallOutcome::UpdateCheck(r) => of(r),
            CallOutcome::Done(r) => of(r),
            CallOutcome::Restart(r) => of(r),
            CallOutcome::RestartAfterDelay(r) => of(r),
            CallOutcome::Storage(r) => of(r),
            CallOutcome::Json(r) => of(r),
            CallOutcome::NativeMessage(r) => of(r),
        }
    }
}
