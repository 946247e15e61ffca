//! Errors of the `runtime` API: one enum per operation, whose `Display` is the browser's exact
//! string.

use crate::model::manifest::ManifestError;
use crate::model::message::MessageError;

/// `runtime.getBackgroundPage()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetBackgroundPageError {
    /// The extension has no `background` in its manifest.
    #[error("You do not have a background page.")]
    NoBackgroundPage,
    /// The event page was loaded for this call and its top-level script failed.
    #[error("Background page failed to load.")]
    FailedToLoad,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// `runtime.openOptionsPage()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenOptionsPageError {
    /// The manifest names no options page.
    #[error("Could not create an options page.")]
    NoOptionsPage,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// `runtime.setUninstallURL()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetUninstallUrlError {
    /// The URL is not `http` or `https`.
    #[error("Invalid URL: \"{0}\".")]
    InvalidUrl(String),
    /// The URL is longer than 1023 characters: a synchronous argument error.
    #[error("Error in invocation of runtime.setUninstallURL(string url, optional function callback): Error at parameter 'url': String must have at most {max} characters; found {found}.")]
    TooLong {
        /// The limit.
        max: usize,
        /// The URL's length in characters.
        found: usize,
    },
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// `runtime.getPlatformInfo()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetPlatformInfoError {
    /// The browser could not tell (simulated with `BrowserBuilder::platform_info(None)`).
    #[error("Platform information unavailable.")]
    Unavailable,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// Any runtime call failed because the calling context is gone (the page was unloaded, or the
/// extension was reloaded or uninstalled while the call was in flight), or cannot use it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The extension context was invalidated.
    #[error(transparent)]
    Invalidated(#[from] ContextInvalidated),
    /// The member does not exist in this kind of context (§4.5).
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// The calling context is gone: its page was unloaded, its view closed, its frame navigated,
/// or its extension reloaded or uninstalled while a call was in flight. The one cause every
/// error enum of the API shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("Extension context invalidated.")]
pub struct ContextInvalidated;

/// A member of `runtime` was used where it does not exist: content scripts have only
/// `connect`, `getManifest`, `getURL`, `id`, `onConnect`, `onMessage` and `sendMessage` (§4.5).
///
/// The member is not there at all, so calling it is the error JavaScript throws for any call of
/// `undefined`: `chrome.runtime.getPlatformInfo is not a function`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chrome.runtime.{member} is not a function")]
pub struct NotAvailable {
    /// The member, e.g. `getPlatformInfo`.
    pub member: &'static str,
}

/// `runtime.sendMessage()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendMessageError {
    /// No context of the target has a listener, the target does not exist, or it refuses the
    /// sender.
    #[error("Could not establish connection. Receiving end does not exist.")]
    NoReceiver,
    /// Listeners ran and none answered or kept the channel open. Only the callback form
    /// reports it; the promise form resolves with no response.
    #[error("The message port closed before a response was received.")]
    PortClosed,
    /// A listener kept the channel open and its context went away (or its `sendResponse` was
    /// dropped) before it answered.
    #[error("A listener indicated an asynchronous response by returning true, but the message channel closed before a response was received")]
    ChannelClosed,
    /// A listener's promise rejected with an error: its message.
    #[error("{0}")]
    Rejected(String),
    /// A listener's promise rejected with something that is not an `Error`.
    #[error("A runtime.onMessage listener's promise rejected without an Error")]
    RejectedWithoutError,
    /// The message cannot be sent as it is (no JSON form, or larger than 64 MiB).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The target is not an extension id.
    #[error("Error in invocation of runtime.sendMessage(optional string extensionId, any message, optional object options, optional function callback): Invalid extension id: '{0}'")]
    InvalidExtensionId(String),
    /// A web page did not say which extension it sends to.
    #[error("Error in invocation of runtime.sendMessage(optional string extensionId, any message, optional object options, optional function callback): chrome.runtime.sendMessage() called from a webpage must specify an Extension ID (string) for its first argument.")]
    ExtensionIdRequired,
    /// The calling context is gone.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
}

/// `runtime.connect()` failed (it throws at once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The target is not an extension id.
    #[error("Error in invocation of runtime.connect(optional string extensionId, optional object connectInfo): Invalid extension id: '{0}'")]
    InvalidExtensionId(String),
    /// A web page did not say which extension it connects to.
    #[error("Error in invocation of runtime.connect(optional string extensionId, optional object connectInfo): chrome.runtime.connect() called from a webpage must specify an Extension ID (string) for its first argument.")]
    ExtensionIdRequired,
    /// The calling context is gone.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
}

/// `runtime.connectNative()` failed at once. (A host that cannot be found or started is
/// reported on the port: its `onDisconnect` fires with the browser's error.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectNativeError {
    /// The manifest does not list the `nativeMessaging` permission.
    #[error("Access to native messaging requires nativeMessaging permission.")]
    PermissionRequired,
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
    /// The calling context is gone.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
}

/// `runtime.sendNativeMessage()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendNativeMessageError {
    /// The manifest does not list the `nativeMessaging` permission.
    #[error("Access to native messaging requires nativeMessaging permission.")]
    PermissionRequired,
    /// The host could not be found, was forbidden, failed to start, exited without answering,
    /// broke the protocol, or answered with something that is not JSON: the browser's exact
    /// message (§5.4).
    #[error("{0}")]
    Native(String),
    /// The message cannot be sent as it is (no JSON form, or larger than 64 MiB).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
    /// The calling context is gone.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
}

/// `port.postMessage()` failed (it throws at once).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostMessageError {
    /// The port is disconnected.
    #[error("Attempting to use a disconnected port object")]
    Disconnected,
    /// The message cannot be sent as it is (no JSON form, or larger than 64 MiB).
    #[error(transparent)]
    Message(#[from] MessageError),
    /// The port's context is gone.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
}

/// Installing an extension failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstallError {
    /// The manifest was refused.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// An extension with the same id is installed already.
    #[error("the extension {0} is already installed")]
    AlreadyInstalled(String),
    /// The manifest has a `background`, but no background script was given.
    #[error("the manifest has a background page but no BackgroundScript was given for it")]
    MissingScript,
    /// A relative path was given for an unpacked extension; ids come from absolute paths.
    #[error("the path of an unpacked extension must be absolute: {0}")]
    RelativePath(String),
}

/// Uninstalling an extension failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UninstallError {
    /// No extension with this id is installed.
    #[error("no extension {0} is installed")]
    NotInstalled(String),
}

/// `runtime.requestUpdateCheck()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestUpdateCheckError {
    /// The browser has no update service (`BrowserBuilder::autoupdate(false)`).
    #[error("Autoupdate is not enabled.")]
    AutoupdateDisabled,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// `runtime.restart()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestartError {
    /// The browser is not in kiosk mode.
    #[error("Function available only for ChromeOS kiosk mode.")]
    NotKiosk,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// `runtime.restartAfterDelay()` failed. Its checks run in this order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestartAfterDelayError {
    /// The browser is not in kiosk mode (check 1).
    #[error("API available only for ChromeOS kiosk mode.")]
    NotKiosk,
    /// `seconds` is zero or negative, and not `-1` (check 2).
    #[error("Invalid argument: {0}.")]
    InvalidArgument(i32),
    /// Another extension called it first in this run of the browser (check 3).
    #[error("Not the first extension to call this API.")]
    NotFirstExtension,
    /// The previous restart was caused by this API less than 3 h before the requested time
    /// (check 5): the restart is still scheduled, 3 h after the previous one.
    #[error("Restart was requested too soon. It was throttled instead.")]
    Throttled,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// Content scripts cannot call it.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

/// Publishing a new version on the update service failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// No extension with this id is installed.
    #[error("no extension {0} is installed")]
    NotInstalled(String),
    /// The browser updates only packed extensions: unpacked ones (and those loaded from the
    /// command line) have no update URL. Reload them instead.
    #[error("the extension {0} is {1}: the browser updates only packed extensions (an unpacked one is updated by reloading it)")]
    NotPacked(String, &'static str),
    /// The new manifest's `key` gives another id.
    #[error("the update's manifest key gives the id {found}, not {expected}")]
    WrongId {
        /// The installed extension's id.
        expected: String,
        /// The id the update's key gives.
        found: String,
    },
    /// The new version has a background page but no script.
    #[error(transparent)]
    Invalid(#[from] InstallError),
}

/// An API's error can be any of the causes every call shares (the context is gone, or the
/// member does not exist here).
macro_rules! from_context_error {
    ($($error:ident),* $(,)?) => {$(
        impl From<ContextError> for $error {
            fn from(e: ContextError) -> Self {
                match e {
                    ContextError::Invalidated(e) => e.into(),
                    ContextError::NotAvailable(e) => e.into(),
                }
            }
        }
    )*};
}

from_context_error!(
    GetBackgroundPageError,
    OpenOptionsPageError,
    SetUninstallUrlError,
    GetPlatformInfoError,
    RequestUpdateCheckError,
    RestartError,
    RestartAfterDelayError
);

/// A `chrome.storage` call failed: the browser's message, as `runtime.lastError` and a
/// rejected promise show it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The write would take the area over its `QUOTA_BYTES` (`local`, `sync`).
    #[error("QUOTA_BYTES quota exceeded")]
    QuotaBytes,
    /// An item of the write is over `QUOTA_BYTES_PER_ITEM` (`sync`).
    #[error("QUOTA_BYTES_PER_ITEM quota exceeded")]
    QuotaBytesPerItem,
    /// The write would take the area over `MAX_ITEMS` items (`sync`).
    #[error("MAX_ITEMS quota exceeded")]
    MaxItems,
    /// The write would take `session` to its `QUOTA_BYTES`.
    #[error("Session storage quota bytes exceeded. Values were not stored.")]
    SessionQuotaBytes,
    /// More than `MAX_WRITE_OPERATIONS_PER_MINUTE` calls of one write function of `sync`
    /// within a minute.
    #[error("This request exceeds the MAX_WRITE_OPERATIONS_PER_MINUTE quota.")]
    WriteOperationsPerMinute,
    /// More than `MAX_WRITE_OPERATIONS_PER_HOUR` calls of one write function of `sync`
    /// within an hour.
    #[error("This request exceeds the MAX_WRITE_OPERATIONS_PER_HOUR quota.")]
    WriteOperationsPerHour,
    /// A write to `managed`.
    #[error("This is a read-only store.")]
    ReadOnly,
    /// A content script used `session` while its access level is `TRUSTED_CONTEXTS`.
    #[error("Access to storage is not allowed from this context.")]
    AccessNotAllowed,
    /// `setAccessLevel` from a context that is not the extension's own (a content script).
    #[error("Context cannot set the storage access level")]
    CannotSetAccessLevel,
    /// `setAccessLevel` of another area than `session`.
    #[error("This StorageArea is not available for setting access level")]
    AccessLevelNotAvailable,
    /// The calling context went away while the call was in flight.
    #[error(transparent)]
    ContextInvalidated(#[from] ContextInvalidated),
    /// The member does not exist in this kind of context.
    #[error(transparent)]
    NotAvailable(#[from] NotAvailable),
}

from_context_error!(StorageError);
