//! Errors of the `runtime` API: one enum per operation, whose `Display` is the browser's exact
//! string.

use crate::ManifestError;

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
    #[error("Extension context invalidated.")]
    ContextInvalidated,
}

/// `runtime.openOptionsPage()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenOptionsPageError {
    /// The manifest names no options page.
    #[error("Could not create an options page.")]
    NoOptionsPage,
    /// The calling context went away while the call was in flight.
    #[error("Extension context invalidated.")]
    ContextInvalidated,
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
    #[error("Extension context invalidated.")]
    ContextInvalidated,
}

/// `runtime.getPlatformInfo()` failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GetPlatformInfoError {
    /// The browser could not tell (simulated with `BrowserBuilder::platform_info(None)`).
    #[error("Platform information unavailable.")]
    Unavailable,
    /// The calling context went away while the call was in flight.
    #[error("Extension context invalidated.")]
    ContextInvalidated,
}

/// Any runtime call failed because the calling context is gone: the page was unloaded, or the
/// extension was reloaded or uninstalled while the call was in flight.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContextError {
    /// The extension context was invalidated.
    #[error("Extension context invalidated.")]
    Invalidated,
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

impl From<ContextError> for GetBackgroundPageError {
    fn from(_: ContextError) -> Self {
        GetBackgroundPageError::ContextInvalidated
    }
}

impl From<ContextError> for OpenOptionsPageError {
    fn from(_: ContextError) -> Self {
        OpenOptionsPageError::ContextInvalidated
    }
}

impl From<ContextError> for SetUninstallUrlError {
    fn from(_: ContextError) -> Self {
        SetUninstallUrlError::ContextInvalidated
    }
}

impl From<ContextError> for GetPlatformInfoError {
    fn from(_: ContextError) -> Self {
        GetPlatformInfoError::ContextInvalidated
    }
}
