//! What to install: a manifest, where it comes from, and its background script.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::Value;

use crate::driver::script::{BackgroundScript, ContextScript, ScriptSource};
use crate::model::error::InstallError;
use crate::model::extension_id::ExtensionId;
use crate::model::manifest::{Manifest, ManifestError};
use crate::model::package::{self, Location};

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
    pub(crate) context_script: Option<Rc<dyn ContextScript>>,
}

/// An [`ExtensionSpec`] taken apart, for the browser to install.
pub(crate) struct SpecParts {
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) location: Location,
    pub(crate) path: PathBuf,
    pub(crate) script: Option<ScriptSource>,
    pub(crate) context_script: Option<Rc<dyn ContextScript>>,
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
            context_script: None,
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
        self.script = Some(ScriptSource::Shared(Rc::new(script)));
        self
    }

    /// The background script, as a boxed trait object.
    pub fn boxed_script(mut self, script: Box<dyn BackgroundScript>) -> Self {
        self.script = Some(ScriptSource::Shared(Rc::from(script)));
        self
    }

    /// The background script, made anew by `factory` for every load of the page.
    pub fn script_factory<F>(mut self, factory: F) -> Self
    where
        F: Fn() -> Box<dyn BackgroundScript> + 'static,
    {
        self.script = Some(ScriptSource::from_factory(factory));
        self
    }

    /// The code of the extension's content scripts and views ([`ContextScript`]): run when a
    /// content script starts in a frame and when a view opens.
    pub fn context_script(mut self, script: impl ContextScript) -> Self {
        self.context_script = Some(Rc::new(script));
        self
    }

    /// The code of the extension's content scripts and views, as a boxed trait object.
    pub fn boxed_context_script(mut self, script: Box<dyn ContextScript>) -> Self {
        self.context_script = Some(Rc::from(script));
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
        package::id_of(&self.manifest, &self.path)
    }

    /// What the browser checks before it installs it.
    pub(crate) fn check(&self) -> Result<(), InstallError> {
        package::check(&self.manifest, &self.path, self.script.is_some())
    }

    /// Its parts: the manifest (shared), the location, the install folder, the scripts.
    pub(crate) fn into_parts(self) -> SpecParts {
        SpecParts {
            manifest: Arc::new(self.manifest),
            location: self.location,
            path: self.path,
            script: self.script,
            context_script: self.context_script,
        }
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
