//! What the browser installs: a manifest, where it was installed from, its install folder,
//! and (kept by the driver, named here by its id) its background script.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::model::error::InstallError;
use crate::model::extension_id::ExtensionId;
use crate::model::ids::ScriptId;
use crate::model::manifest::Manifest;

/// How an extension was installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Location {
    /// Loaded unpacked from a folder ("Load unpacked").
    #[default]
    Unpacked,
    /// Installed from a packed `.crx` (a store, policy).
    Packed,
    /// Loaded with `--load-extension` on the command line: Chromium reinstalls it at every
    /// launch, so it gets `onInstalled` (`install`) each time and never `onStartup`.
    CommandLine,
}

impl Location {
    /// `unpacked`, `packed` or `command_line`.
    pub fn as_str(self) -> &'static str {
        match self {
            Location::Unpacked => "unpacked",
            Location::Packed => "packed",
            Location::CommandLine => "command_line",
        }
    }

    /// Whether Chromium treats the location as unpacked (loaded from a folder, including from
    /// the command line).
    pub(crate) fn is_unpacked(self) -> bool {
        matches!(self, Location::Unpacked | Location::CommandLine)
    }
}

/// One version of an extension, as the browser holds it.
#[derive(Clone, Debug)]
pub(crate) struct Package {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) location: Location,
    pub(crate) path: PathBuf,
    /// Its background script, if it has one.
    pub(crate) script: Option<ScriptId>,
    /// The code of its other contexts (content scripts, views), if it has some.
    pub(crate) context_script: Option<ScriptId>,
}

impl Package {
    /// The extension's id: from the manifest's `key`, else from the absolute install path.
    pub(crate) fn id(&self) -> ExtensionId {
        id_of(&self.manifest, &self.path)
    }

    /// What the browser checks before it installs the package.
    pub(crate) fn check(&self) -> Result<(), InstallError> {
        check(&self.manifest, &self.path, self.script.is_some())
    }
}

/// The id of an extension with this manifest installed at `path`.
pub(crate) fn id_of(manifest: &Manifest, path: &std::path::Path) -> ExtensionId {
    match manifest.key() {
        // The manifest checked its key when it was parsed.
        Some(key) => ExtensionId::from_key(key).unwrap_or_else(|_| ExtensionId::from_path(path)),
        None => ExtensionId::from_path(path),
    }
}

/// Whether an extension with this manifest, at `path`, with or without a script, can be
/// installed.
pub(crate) fn check(
    manifest: &Manifest,
    path: &std::path::Path,
    has_script: bool,
) -> Result<(), InstallError> {
    if manifest.key().is_none() && !path.is_absolute() {
        return Err(InstallError::RelativePath(path.display().to_string()));
    }
    if manifest.background().is_some() && !has_script {
        return Err(InstallError::MissingScript);
    }
    Ok(())
}
