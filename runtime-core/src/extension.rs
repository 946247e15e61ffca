//! What to install: a manifest, where it comes from, and its background script.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::script::ScriptSource;
use crate::{BackgroundScript, ExtensionId, InstallError, Manifest, ManifestError};

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
}

/// The kind of an extension view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ViewKind {
    /// The browser action's or page action's popup.
    Popup,
    /// The options page.
    Options,
    /// A tab showing a page of the extension.
    Tab,
}

impl ViewKind {
    /// `popup`, `options` or `tab`.
    pub fn as_str(self) -> &'static str {
        match self {
            ViewKind::Popup => "popup",
            ViewKind::Options => "options",
            ViewKind::Tab => "tab",
        }
    }
}

/// An extension to install: its manifest, its location and its background script.
///
/// ```
/// use runtime_core::{ExtensionSpec, script_fn};
/// use serde_json::json;
///
/// let spec = ExtensionSpec::from_json(json!({
///     "name": "Hello", "version": "1.0",
///     "background": {"scripts": ["bg.js"], "persistent": false}
/// }))
/// .unwrap()
/// .script(script_fn(|_rt| async { Ok(()) }));
/// assert_eq!(spec.id().as_str().len(), 32);
/// ```
#[derive(Clone)]
pub struct ExtensionSpec {
    pub(crate) manifest: Manifest,
    pub(crate) location: Location,
    pub(crate) path: PathBuf,
    pub(crate) script: Option<ScriptSource>,
}

impl ExtensionSpec {
    /// An extension from a folder that holds a `manifest.json`, unpacked. The folder's absolute
    /// path gives the id when the manifest has no `key`.
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let dir = absolute(dir.as_ref());
        let manifest = Manifest::from_file(&dir.join("manifest.json"))?;
        Ok(ExtensionSpec::new(manifest, dir))
    }

    /// An extension from a `manifest.json` file or the folder that holds it.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ManifestError> {
        let path = path.as_ref();
        if path.is_dir() {
            ExtensionSpec::from_dir(path)
        } else {
            let file = absolute(path);
            let manifest = Manifest::from_file(&file)?;
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            Ok(ExtensionSpec::new(manifest, dir))
        }
    }

    /// An extension whose manifest is given in code, as a JSON value or text.
    ///
    /// Without a `key`, the id comes from a virtual path,
    /// `/runtime-sim/extensions/<name>` (set another with [`ExtensionSpec::path`]).
    pub fn from_json(manifest: impl Into<ManifestInput>) -> Result<Self, ManifestError> {
        let manifest = match manifest.into() {
            ManifestInput::Value(v) => Manifest::from_value(v)?,
            ManifestInput::Text(t) => Manifest::from_json_str(&t)?,
        };
        let slug: String = manifest
            .name()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let path = PathBuf::from("/runtime-sim/extensions").join(slug);
        Ok(ExtensionSpec::new(manifest, path))
    }

    fn new(manifest: Manifest, path: PathBuf) -> Self {
        ExtensionSpec {
            manifest,
            location: Location::Unpacked,
            path,
            script: None,
        }
    }

    /// Sets the install folder (it gives the id when the manifest has no `key`).
    pub fn path(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = path.into();
        self
    }

    /// Sets how the extension is installed (unpacked by default).
    pub fn location(mut self, location: Location) -> Self {
        self.location = location;
        self
    }

    /// The background script: one object whose `run` is called at every load of the page.
    pub fn script(mut self, script: impl BackgroundScript) -> Self {
        self.script = Some(ScriptSource::Shared(Arc::new(script)));
        self
    }

    /// The background script, as a boxed trait object.
    pub fn boxed_script(mut self, script: Box<dyn BackgroundScript>) -> Self {
        self.script = Some(ScriptSource::Shared(Arc::from(script)));
        self
    }

    /// The background script, made anew by `factory` for every load of the page.
    pub fn script_factory<F>(mut self, factory: F) -> Self
    where
        F: Fn() -> Box<dyn BackgroundScript> + Send + Sync + 'static,
    {
        self.script = Some(ScriptSource::from_factory(factory));
        self
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The install folder.
    pub fn install_path(&self) -> &Path {
        &self.path
    }

    /// The extension's id: from the manifest's `key`, else from the absolute install path.
    pub fn id(&self) -> ExtensionId {
        match self.manifest.key() {
            // The manifest checked its key when it was parsed.
            Some(key) => {
                ExtensionId::from_key(key).unwrap_or_else(|_| ExtensionId::from_path(&self.path))
            }
            None => ExtensionId::from_path(&self.path),
        }
    }

    pub(crate) fn check(&self) -> Result<(), InstallError> {
        if self.manifest.key().is_none() && !self.path.is_absolute() {
            return Err(InstallError::RelativePath(self.path.display().to_string()));
        }
        if self.manifest.background().is_some() && self.script.is_none() {
            return Err(InstallError::MissingScript);
        }
        Ok(())
    }
}

/// A manifest given in code: a JSON value or JSON text.
pub enum ManifestInput {
    /// A parsed JSON value.
    Value(Value),
    /// JSON text (comments allowed).
    Text(String),
}

impl From<Value> for ManifestInput {
    fn from(v: Value) -> Self {
        ManifestInput::Value(v)
    }
}

impl From<&str> for ManifestInput {
    fn from(t: &str) -> Self {
        ManifestInput::Text(t.to_owned())
    }
}

impl From<String> for ManifestInput {
    fn from(t: String) -> Self {
        ManifestInput::Text(t)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir()
                .map(|d| d.join(path))
                .unwrap_or_else(|_| path.to_path_buf())
        }
    })
}
