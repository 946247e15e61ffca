//! An extension from its folder, as the browser loads it unpacked: the manifest, and the
//! background's JavaScript read from the files the manifest names.

use std::path::{Path, PathBuf};

use runtime_core::{BackgroundKind, ExtensionSpec, ManifestError};

use crate::script::JsScript;

/// The largest script file read: 16 MiB.
pub const MAX_SCRIPT_SIZE: u64 = 16 * 1024 * 1024;

/// Why an extension folder could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The manifest is missing or wrong.
    #[error("{0}")]
    Manifest(#[from] ManifestError),
    /// A background script could not be read: as Chromium says it, and why.
    #[error("Could not load background script '{path}'. ({reason})")]
    Script {
        /// The script's path, as the manifest gives it.
        path: String,
        /// Why it could not be read.
        reason: String,
    },
    /// What the manifest asks for is not simulated yet.
    #[error("{0}")]
    NotSimulated(String),
}

/// The extension in `dir` (unpacked), with its background's own JavaScript: the files of
/// `background.scripts`, in order, or the classic `background.service_worker`. Each file is
/// read only if it is a regular file of at most [`MAX_SCRIPT_SIZE`], and must be UTF-8.
pub fn extension_from_dir(dir: impl AsRef<Path>) -> Result<ExtensionSpec, LoadError> {
    let dir = dir.as_ref();
    let spec = ExtensionSpec::from_dir(dir)?;
    let Some(background) = spec.manifest().background().cloned() else {
        return Ok(spec);
    };
    let files = match &background.kind {
        BackgroundKind::Scripts(files) => files.clone(),
        BackgroundKind::ServiceWorker(file) => {
            let module = spec.manifest().raw().get("background").and_then(|b| b.get("type"))
                == Some(&serde_json::Value::from("module"));
            if module {
                return Err(LoadError::NotSimulated(
                    "runtime-js does not run module service workers (\"type\": \"module\") yet"
                        .to_owned(),
                ));
            }
            vec![file.clone()]
        }
        BackgroundKind::Page(page) => {
            return Err(LoadError::NotSimulated(format!(
                "runtime-js does not run background pages given as HTML ({page}) yet: list the scripts in background.scripts"
            )))
        }
    };
    let mut script: Option<JsScript> = None;
    for file in files {
        let source = read_script(dir, &file)?;
        script = Some(match script {
            None => JsScript::new(file, source),
            Some(script) => script.file(file, source),
        });
    }
    Ok(match script {
        Some(script) => spec.script(script),
        None => spec,
    })
}

fn read_script(dir: &Path, file: &str) -> Result<String, LoadError> {
    let failed = |reason: String| LoadError::Script {
        path: file.to_owned(),
        reason,
    };
    let relative = PathBuf::from(file.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(failed("the path leaves the extension's folder".to_owned()));
    }
    let bytes = runtime_native::read_regular_file(&dir.join(&relative), MAX_SCRIPT_SIZE)
        .map_err(|e| failed(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| failed(format!("not UTF-8 text ({})", e.utf8_error())))
}
